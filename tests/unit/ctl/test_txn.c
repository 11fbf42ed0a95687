/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Transactions and publication to the tables (ctl.h "Publication"):
 * all-or-nothing txn with data.index, effects visible to later ops, the
 * prepare/abort/commit/rcu/reclaim protocol with fake tables, the change
 * lists they receive, and the whole state as adds at restore.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/types.h"
#include "ctl_test_util.h"

#define OK(ctl, m, p) json_decref(t_ok(ctl, m, p))

/* An event trace shared by the fake tables and the fake RCU. */
static char trace[4096];

static void
ev(const char *fmt, const char *name)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, fmt, name);
}

struct fake {
	const char *name;
	int fail;                  /* prepare() returns this when non-zero */
	size_t nchanges;
	char changes[2048];        /* "type:op;" of the last prepare */
	int saw_vnet_in_store;     /* store queried from prepare() */
};

static int
fake_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *ch, size_t n, char *err,
	     size_t errlen)
{
	struct fake *f = ctx;
	size_t i;

	ev("prepare(%s) ", f->name);
	f->nchanges = n;
	f->changes[0] = '\0';
	for (i = 0; i < n && i < 40; i++) {
		size_t l = strlen(f->changes);

		snprintf(f->changes + l, sizeof(f->changes) - l, "%s:%c;", ch[i].ty->name,
			 "ASD"[ch[i].op]);
		/* rec is the record after, old_rec the record before */
		if (ch[i].op == SS_CHANGE_ADD)
			assert_true(ch[i].rec != NULL && ch[i].old_rec == NULL);
		if (ch[i].op == SS_CHANGE_DELETE)
			assert_true(ch[i].rec == NULL && ch[i].old_rec != NULL);
		if (ch[i].op == SS_CHANGE_SET)
			assert_true(ch[i].rec != NULL && ch[i].old_rec != NULL);
	}
	f->saw_vnet_in_store = ss_ctl_store_get(ctl, "vnet", "v1") != NULL;
	if (f->fail) {
		snprintf(err, errlen, "%s refuses", f->name);
		return f->fail;
	}
	return 0;
}

static void
fake_commit(void *ctx)
{
	ev("commit(%s) ", ((struct fake *)ctx)->name);
}

static void
fake_abort(void *ctx)
{
	ev("abort(%s) ", ((struct fake *)ctx)->name);
}

static void
fake_reclaim(void *ctx)
{
	ev("reclaim(%s) ", ((struct fake *)ctx)->name);
}

static void
fake_rcu(void *ctx)
{
	(void)ctx;
	ev("rcu%s ", "");
}

static struct ss_ctl *
ctl_with_tables(struct fake *a, struct fake *b, const char *state_file)
{
	struct ss_ctl_conf conf = { .socket_path = "/tmp/unused.sock", .state_file = state_file };
	struct ss_ctl_runtime rt = { .rcu_synchronize = fake_rcu };
	struct ss_ctl_table ta = { .name = "a", .prepare = fake_prepare, .commit = fake_commit,
				   .abort = fake_abort, .reclaim = fake_reclaim, .ctx = a };
	struct ss_ctl_table tb = ta;
	struct ss_ctl *ctl = ss_ctl_create(&conf, &rt);
	char err[256];

	tb.name = "b";
	tb.ctx = b;
	assert_non_null(ctl);
	assert_int_equal(ss_ctl_add_port(ctl, "host0", "host"), 0);
	assert_int_equal(ss_ctl_register_table(ctl, &ta), 0);
	assert_int_equal(ss_ctl_register_table(ctl, &tb), 0);
	trace[0] = '\0';
	assert_int_equal(ss_ctl_restore(ctl, err, sizeof(err)), 0);
	return ctl;
}

static void
test_txn_atomic(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	char *before, *after;
	json_t *r;

	(void)state;
	OK(ctl, "vnet.add", "{\"name\":\"v0\",\"vni\":1}");
	before = t_state(ctl);
	/* op 2 fails: ops 0 and 1 (which succeeded) leave no trace */
	t_err(ctl, "txn", "{\"ops\":["
	      "{\"method\":\"vnet.add\",\"params\":{\"name\":\"v1\",\"vni\":100}},"
	      "{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:01\"}},"
	      "{\"method\":\"eni.add\",\"params\":{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v9\"}}]}",
	      SS_ERR_NOT_FOUND, "vnet", 2);
	after = t_state(ctl);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(ss_ctl_generation(ctl), 1);
	/* a delete and a re-add in a failing txn are rolled back too */
	t_err(ctl, "txn", "{\"ops\":[{\"method\":\"vnet.delete\",\"params\":{\"name\":\"v0\"}},"
	      "{\"method\":\"vnet.add\",\"params\":{\"name\":\"v0\",\"vni\":2}},"
	      "{\"method\":\"vnet.add\",\"params\":{\"name\":\"v5\",\"vni\":2}}]}",
	      SS_ERR_EXISTS, "vni", 2);
	after = t_state(ctl);
	assert_string_equal(before, after);
	free(after);
	/* errors inside an op name the op's params; problems with the op itself name ops[i] */
	t_err(ctl, "txn", "{\"ops\":[{\"method\":\"vnet.add\",\"params\":{\"name\":\"v1\",\"vni\":7}},"
	      "{\"method\":\"mapping.add\",\"params\":{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"x\"}]}}]}",
	      SS_RPC_INVALID_PARAMS, "entries[0].ip", 1);
	t_err(ctl, "txn", "{\"ops\":[{\"method\":\"vnet.add\",\"params\":{\"name\":\"v1\",\"vni\":7}},"
	      "{\"method\":\"no.such\"}]}", SS_RPC_METHOD_NOT_FOUND, "ops[1].method", 1);
	t_err(ctl, "txn", "{\"ops\":[{\"method\":\"state.get\"}]}", SS_RPC_INVALID_PARAMS, "ops[0].method", 0);
	t_err(ctl, "txn", "{\"ops\":[{\"method\":\"txn\",\"params\":{\"ops\":[]}}]}", SS_RPC_INVALID_PARAMS,
	      "ops[0].method", 0);
	t_err(ctl, "txn", "{\"ops\":[7]}", SS_RPC_INVALID_PARAMS, "ops[0]", 0);
	t_err(ctl, "txn", "{\"ops\":[{\"method\":\"vnet.add\",\"params\":{},\"x\":1}]}",
	      SS_RPC_INVALID_PARAMS, "ops[0].x", 0);
	t_err(ctl, "txn", "{}", SS_RPC_INVALID_PARAMS, "ops", -1);
	after = t_state(ctl);
	assert_string_equal(before, after);
	free(after);
	free(before);
	/* ops see earlier ops: vnet then eni then its inbound route, one generation */
	r = t_ok(ctl, "txn", "{\"ops\":["
		 "{\"method\":\"vnet.add\",\"params\":{\"name\":\"v1\",\"vni\":100}},"
		 "{\"method\":\"eni.add\",\"params\":{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\"}},"
		 "{\"method\":\"inbound_route.add\",\"params\":{\"eni\":\"e1\",\"vni\":100,\"src_prefix\":\"0.0.0.0/0\",\"priority\":0,\"action\":\"decap\"}},"
		 "{\"method\":\"eni.set\",\"params\":{\"name\":\"e1\",\"admin_state\":\"down\"}}]}");
	assert_int_equal(json_integer_value(json_object_get(r, "generation")), 2);
	json_decref(r);
	ss_ctl_destroy(ctl);
}

static void
test_tables_protocol(void **state)
{
	struct fake a = { .name = "a" }, b = { .name = "b" };
	struct ss_ctl *ctl = ctl_with_tables(&a, &b, NULL);
	char *before, *after;

	(void)state;
	/* restore publishes the whole state (four settings singletons) */
	assert_string_equal(trace, "prepare(a) prepare(b) commit(a) commit(b) rcu reclaim(a) reclaim(b) ");
	assert_int_equal(a.nchanges, 4);
	assert_string_equal(a.changes, "flow.config:A;rdma.config:A;ipfix:A;lb.config:A;");

	trace[0] = '\0';
	OK(ctl, "txn", "{\"ops\":[{\"method\":\"vnet.add\",\"params\":{\"name\":\"v1\",\"vni\":100}},"
		"{\"method\":\"eni.add\",\"params\":{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\"}}]}");
	assert_string_equal(trace, "prepare(a) prepare(b) commit(a) commit(b) rcu reclaim(a) reclaim(b) ");
	assert_string_equal(b.changes, "vnet:A;eni:A;");
	assert_true(a.saw_vnet_in_store);   /* prepare() sees the new state */

	trace[0] = '\0';
	OK(ctl, "eni.set", "{\"name\":\"e1\",\"admin_state\":\"down\"}");
	assert_string_equal(a.changes, "eni:S;");

	/* nothing changes: no publication at all */
	trace[0] = '\0';
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100}");
	assert_string_equal(trace, "");

	/* b refuses: a (prepared) is aborted, nothing is committed or visible */
	before = t_state(ctl);
	b.fail = -ENOSPC;
	trace[0] = '\0';
	t_err(ctl, "vnet.add", "{\"name\":\"v2\",\"vni\":200}", SS_ERR_CAPACITY, NULL, -1);
	assert_string_equal(trace, "prepare(a) prepare(b) abort(a) ");
	after = t_state(ctl);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(ss_ctl_generation(ctl), 2);
	/* a refuses: nobody else is even asked */
	b.fail = 0;
	a.fail = -EINVAL;
	trace[0] = '\0';
	t_err(ctl, "eni.delete", "{\"name\":\"e1\"}", SS_RPC_INVALID_PARAMS, NULL, -1);
	assert_string_equal(trace, "prepare(a) ");
	after = t_state(ctl);
	assert_string_equal(before, after);
	free(after);
	free(before);
	assert_non_null(ss_ctl_store_get(ctl, "eni", "e1"));
	a.fail = 0;
	trace[0] = '\0';
	OK(ctl, "eni.delete", "{\"name\":\"e1\"}");
	assert_string_equal(a.changes, "eni:D;");
	assert_null(ss_ctl_store_get(ctl, "eni", "e1"));
	ss_ctl_destroy(ctl);
}

static void
test_restore_publishes_all(void **state)
{
	char *dir = t_tmpdir(), path[512];
	struct fake a = { .name = "a" }, b = { .name = "b" };
	struct ss_ctl *ctl = t_ctl(NULL, NULL);

	(void)state;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	ss_ctl_destroy(ctl);
	ctl = t_ctl(path, NULL);
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100}");
	OK(ctl, "mapping.add", "{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:01\"},"
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.2\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:01\"}]}");
	ss_ctl_destroy(ctl);
	/* a prepare() failure at restore fails the restore */
	{
		struct ss_ctl_conf conf = { .socket_path = "/tmp/unused.sock", .state_file = path };
		struct ss_ctl_table t = { .name = "a", .prepare = fake_prepare, .commit = fake_commit,
					  .abort = fake_abort, .reclaim = fake_reclaim, .ctx = &a };
		char err[256];

		ctl = ss_ctl_create(&conf, NULL);
		assert_int_equal(ss_ctl_register_table(ctl, &t), 0);
		a.fail = -ENOMEM;
		assert_true(ss_ctl_restore(ctl, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "a refuses"));
		ss_ctl_destroy(ctl);
		a.fail = 0;
	}
	ctl = ctl_with_tables(&a, &b, path);
	/* dependency order: settings, vnet, then mappings */
	assert_int_equal(a.nchanges, 7);
	assert_string_equal(a.changes,
			    "flow.config:A;rdma.config:A;ipfix:A;lb.config:A;vnet:A;mapping:A;mapping:A;");
	ss_ctl_destroy(ctl);
	t_rmdir(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txn_atomic),
		cmocka_unit_test(test_tables_protocol),
		cmocka_unit_test(test_restore_publishes_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
