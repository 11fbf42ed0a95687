/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Transactions: publication of the store's undo log to the data-plane
 * tables and to the journal (ctl.h "Publication").
 *
 *   validate + stage (ops.c, undo log)          may fail -> rollback
 *   prepare() on every table                    may fail -> abort() on the
 *                                               prepared ones, rollback
 *   journal append + fdatasync (hook: persist.c) may fail -> abort() all, rollback
 *   ---- nothing below can fail ----
 *   generation++, commit() on every table, rcu_synchronize, reclaim()
 *   release the log (free what the txn removed)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/objects.h"
#include "control/ops.h"
#include "control/store.h"
#include "control/txn.h"

void
ss_txn_begin(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);

	core->txn->in_txn = true;
	core->store.log.n = 0;
}

void
ss_txn_abort(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);

	ss_store_rollback(&core->store);
	ss_ctl_reads_release(ctl);
	core->txn->in_txn = false;
}

/* The typed hand-over: decode the change's objects once (types.h). */
static int
set_records(struct ss_change *c, const struct ss_type *t, const json_t *obj, const json_t *old,
	    struct ss_arena *a, struct ss_err *err)
{
	int rc;

	c->ty = t;
	c->rec = ss_rec_decode(t, obj, a, &rc);
	if (rc == 0)
		c->old_rec = ss_rec_decode(t, old, a, &rc);
	if (rc < 0)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "%s: %s", t->name,
				  rc == -ENOMEM ? "out of memory"
						: "record smaller than its schema allows");
	return 0;
}

/* The record of an added node read from its stored text (no jansson
 * value): 1 when done, 0 when the text needs the general decoder, -1 with
 * err. */
static int
node_record(struct ss_change *c, const struct ss_node *n, struct ss_arena *a,
	    struct ss_err *err)
{
	const struct ss_type *t = ss_types[n->type];
	int rc;

	c->ty = t;
	c->old_rec = NULL;
	c->rec = ss_rec_decode_text(t, ss_node_text(n), n->tlen, a, &rc);
	if (c->rec != NULL)
		return 1;
	if (rc < 0)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "%s: %s", t->name,
				  rc == -ENOMEM ? "out of memory" : "stored value does not parse");
	return 0;
}

static int
errno_to_code(int rc)
{
	switch (-rc) {
	case ENOSPC:
	case E2BIG:
		return SS_ERR_CAPACITY;
	case ENOTSUP:
		return SS_ERR_NOT_SUPPORTED;
	case EINVAL:
		return SS_RPC_INVALID_PARAMS;
	case ENOENT:
		return SS_ERR_NOT_FOUND;
	case EEXIST:
		return SS_ERR_EXISTS;
	case EBUSY:
		return SS_ERR_IN_USE;
	default:
		return SS_RPC_INTERNAL;
	}
}

/* prepare() every table; on failure abort() the prepared ones (reverse
 * order) and fill err. */
static int
prepare_tables(struct ss_ctl *ctl, const struct ss_change *ch, size_t n, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	size_t i;

	for (i = 0; i < core->txn->ntables; i++) {
		struct ss_ctl_table *t = &core->txn->tables[i];
		char msg[256] = "";
		int rc = t->prepare ? t->prepare(t->ctx, ctl, ch, n, msg, sizeof(msg)) : 0;

		if (rc < 0) {
			while (i-- > 0)
				if (core->txn->tables[i].abort)
					core->txn->tables[i].abort(core->txn->tables[i].ctx);
			return ss_err_set(err, errno_to_code(rc), NULL, "table %s: %s", t->name,
					  msg[0] ? msg : strerror(-rc));
		}
	}
	return 0;
}

static void
abort_tables(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);
	size_t i = core->txn->ntables;

	while (i-- > 0)
		if (core->txn->tables[i].abort)
			core->txn->tables[i].abort(core->txn->tables[i].ctx);
}

/* Infallible tail of a publication. */
static void
commit_tables(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);
	size_t i;

	if (core->txn->ntables == 0)
		return;
	for (i = 0; i < core->txn->ntables; i++)
		if (core->txn->tables[i].commit)
			core->txn->tables[i].commit(core->txn->tables[i].ctx);
	if (core->rt.rcu_synchronize != NULL)
		core->rt.rcu_synchronize(core->rt.ctx);
	for (i = 0; i < core->txn->ntables; i++)
		if (core->txn->tables[i].reclaim)
			core->txn->tables[i].reclaim(core->txn->tables[i].ctx);
}

/* The open transaction's changes, decoded for the tables, through every
 * table's prepare(). 0 with *chp (the caller frees it and the arena), or -1
 * with err (nothing prepared). */
static int
prepare_log(struct ss_ctl *ctl, struct ss_change **chp, struct ss_arena *recs,
	    struct ss_err *err)
{
	struct ss_log *log = &ss_core(ctl)->store.log;
	struct ss_change *ch = malloc(log->n * sizeof(*ch));
	size_t i;

	*chp = ch;
	if (ch == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	for (i = 0; i < log->n; i++) {
		struct ss_log_ent *e = &log->v[i];

		ch[i].op = e->kind == SS_LOG_LINK ? SS_CHANGE_ADD
			 : e->kind == SS_LOG_UNLINK ? SS_CHANGE_DELETE : SS_CHANGE_SET;
		/* raw bulk adds are stored without a value: their record is read
		 * from the stored text, or from a value materialised for it */
		if (e->obj == NULL && e->kind == SS_LOG_LINK) {
			int rc = node_record(&ch[i], e->node, recs, err);

			if (rc < 0)
				return -1;
			if (rc > 0)
				continue;
		}
		if (e->obj == NULL && e->kind != SS_LOG_UNLINK) {
			e->obj = ss_node_value(e->node);
			if (e->obj == NULL)
				return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		}
		if (set_records(&ch[i], ss_types[e->node->type], e->obj, e->old_obj, recs,
				err) < 0)
			return -1;
	}
	return prepare_tables(ctl, ch, log->n, err);
}

int
ss_txn_commit(struct ss_ctl *ctl, unsigned flags, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_log *log = &core->store.log;
	struct ss_change *ch = NULL;
	bool tables = (flags & SS_TXN_TABLES) && core->txn->ntables > 0;
	struct ss_arena recs;

	ss_arena_init(&recs);
	if (log->n == 0) {
		core->txn->in_txn = false;
		return 0;
	}
	if (tables && prepare_log(ctl, &ch, &recs, err) < 0)
		goto rollback;
	if ((flags & SS_TXN_PERSIST) && core->txn->journal.append != NULL &&
	    core->txn->journal.append(ctl, core->txn->generation + 1, err) < 0) {
		if (tables)
			abort_tables(ctl);
		goto rollback;
	}
	/* committed: nothing below can fail */
	core->txn->generation++;
	if (tables)
		commit_tables(ctl);
	ss_store_release(&core->store);
	free(ch);
	ss_arena_free(&recs);
	ss_ctl_reads_release(ctl);
	core->txn->in_txn = false;
	if ((flags & SS_TXN_PERSIST) && core->txn->journal.committed != NULL)
		core->txn->journal.committed(ctl);
	return 0;
rollback:
	free(ch);
	ss_arena_free(&recs);
	ss_txn_abort(ctl);
	return -1;
}

int
ss_txn_check(struct ss_ctl *ctl, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_change *ch = NULL;
	struct ss_arena recs;
	int rc = 0;

	ss_arena_init(&recs);
	if (core->store.log.n > 0 && core->txn->ntables > 0) {
		rc = prepare_log(ctl, &ch, &recs, err);
		if (rc == 0)
			abort_tables(ctl);
	}
	free(ch);
	ss_arena_free(&recs);
	ss_txn_abort(ctl);
	return rc;
}

int
ss_txn_publish_all(struct ss_ctl *ctl, char *err, size_t errlen)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_change *ch = NULL;
	json_t **objs = NULL;
	struct ss_arena recs;
	struct ss_err e;
	size_t total = 0, k = 0, i;
	int t, rc = -ENOMEM;

	ss_arena_init(&recs);
	if (core->txn->ntables == 0)
		return 0;
	for (t = 0; t < ss_ntypes; t++)
		total += core->store.map[t].n;
	ch = calloc(total ? total : 1, sizeof(*ch));
	objs = calloc(total ? total : 1, sizeof(*objs));
	if (ch == NULL || objs == NULL)
		goto out;
	for (t = 0; t < ss_ntypes; t++) {
		struct ss_node **v;
		size_t n;

		if (ss_store_nodes(&core->store, t, false, &v, &n) < 0)
			goto out;
		for (i = 0; i < n; i++) {
			int r;

			ch[k].op = SS_CHANGE_ADD;
			ss_err_init(&e);
			r = node_record(&ch[k], v[i], &recs, &e);
			if (r > 0) {
				k++;
				continue;
			}
			if (r < 0) {
				free(v);
				rc = -EINVAL;
				snprintf(err, errlen, "%s", e.msg);
				goto out;
			}
			objs[k] = ss_node_value(v[i]);
			if (objs[k] == NULL) {
				free(v);
				goto out;
			}
			k++;
			if (set_records(&ch[k - 1], ss_types[t], objs[k - 1], NULL, &recs, &e) < 0) {
				free(v);
				rc = -EINVAL;
				snprintf(err, errlen, "%s", e.msg);
				goto out;
			}
		}
		free(v);
	}
	ss_err_init(&e);
	if (prepare_tables(ctl, ch, k, &e) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		rc = -EINVAL;
		goto out;
	}
	commit_tables(ctl);
	rc = 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory publishing the state");
	for (i = 0; i < k; i++)
		json_decref(objs[i]);
	free(objs);
	free(ch);
	ss_arena_free(&recs);
	return rc;
}
