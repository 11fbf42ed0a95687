/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ss_ctl life cycle, registrations and store access (ctl.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/limits.h"
#include "control/methods.h"
#include "control/objects.h"
#include "control/ops.h"
#include "control/persist.h"
#include "control/rpc.h"
#include "control/store.h"
#include "control/txn.h"
#include "control/txn_check.h"
#include "control/validate.h"

/*
 * The control plane handle, opaque outside this file: the layers below the
 * facade see only its core (ctl-int.h), reached through ss_core().
 */
struct ss_ctl {
	struct ss_core core;         /* first: ss_core() casts the handle */
	struct ss_txn_state txn;     /* core.txn */
	struct ss_rpc_state rpc;     /* core.rpc */
	struct ss_ctl_conf conf;     /* the persist and server layers get their part */
};

_Static_assert(offsetof(struct ss_ctl, core) == 0,
	       "struct ss_ctl must begin with its struct ss_core (ss_core())");

/* ---- logging --------------------------------------------------- */

/* ---- create / destroy --------------------------------------------------- */

static uint32_t
lim(uint32_t v, uint32_t d)
{
	return v ? v : d;
}

/* Capacity of a type, if a feature registered it. */
static void
set_limit(struct ss_ctl *ctl, const char *name, uint32_t v)
{
	int t = ss_type_by_name(name, strlen(name));

	if (t >= 0)
		ctl->core.limit[t] = v;
}

/* Install a settings singleton (flow.config, rdma.config) with its
 * defaults (ss_type.defaults). */
static int
init_singleton(struct ss_ctl *ctl, int type, json_t *dflt)
{
	struct ss_err e;
	json_t *copy;
	int rc;

	if (dflt == NULL)
		return -ENOMEM;
	ctl->core.dflt[type] = dflt;
	copy = json_deep_copy(dflt);
	if (copy == NULL)
		return -ENOMEM;
	ss_err_init(&e);
	ss_txn_begin(ctl);
	rc = ss_op_put(ctl, type, copy, &e);
	json_decref(copy);
	if (rc < 0) {
		ss_txn_abort(ctl);
		ss_ctl_log(ctl, LOG_ERR, "%s defaults: %s", ss_types[type]->name, e.msg);
		return -EINVAL;
	}
	return ss_txn_commit(ctl, 0, &e) < 0 ? -ENOMEM : 0;
}

struct ss_ctl *
ss_ctl_create(const struct ss_ctl_conf *conf, const struct ss_ctl_runtime *rt)
{
	const struct ss_ctl_limits *l = &conf->limits;
	struct ss_ctl *ctl;
	char msg[256];
	int rc, t;

	rc = ss_types_seal(msg, sizeof(msg));
	if (rc < 0) {
		fprintf(stderr, "sswitch control: object types: %s\n", msg);
		if (rt != NULL && rt->log != NULL)
			rt->log(rt->ctx, LOG_ERR, msg);
		errno = -rc;
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ctl->core.txn = &ctl->txn;
	ctl->core.rpc = &ctl->rpc;
	ss_arena_init(&ctl->core.reads);
	ctl->conf = *conf;
	if (rt != NULL)
		ctl->core.rt = *rt;
	clock_gettime(CLOCK_MONOTONIC, &ctl->rpc.started);
	ss_store_init(&ctl->core.store);
#define LIMIT(key, field, type, dflt, max) \
	set_limit(ctl, type, lim(l->field, dflt));
	SS_TABLE_LIMITS(LIMIT)
#undef LIMIT
	/* types without a config key: the capacity they declare */
	for (t = 0; t < ss_ntypes; t++)
		if (ctl->core.limit[t] == 0)
			ctl->core.limit[t] = ss_types[t]->capacity;

	/* settings singletons that always exist: their defaults from the config */
	rc = 0;
	for (t = 0; t < ss_ntypes && rc == 0; t++)
		if (ss_types[t]->singleton && ss_types[t]->defaults != NULL)
			rc = init_singleton(ctl, t, ss_types[t]->defaults(conf));
	if (rc == 0)
		rc = ss_ctl_register_method(ctl, "txn.check", ss_txn_check_method, NULL);
	if (rc == 0 && conf->state_file != NULL)
		rc = ss_persist_init(ctl, ctl->conf.state_file, conf->snapshot_interval_s);
	if (rc < 0) {
		ss_ctl_destroy(ctl);
		errno = -rc;
		return NULL;
	}
	ctl->txn.generation = 0;
	return ctl;
}

void
ss_ctl_destroy(struct ss_ctl *ctl)
{
	size_t i;
	int t;

	if (ctl == NULL)
		return;
	ss_server_destroy(ctl);
	ss_persist_fini(ctl);
	ss_store_fini(&ctl->core.store);
	for (t = 0; t < SS_TYPES_MAX; t++)
		json_decref(ctl->core.dflt[t]);
	ss_arena_free(&ctl->core.reads);
	for (i = 0; i < ctl->core.nmethods; i++)
		free(ctl->core.methods[i].name);
	for (i = 0; i < ctl->rpc.nports; i++) {
		free(ctl->rpc.ports[i].name);
		free(ctl->rpc.ports[i].role);
	}
	free(ctl->core.methods);
	free(ctl->rpc.ports);
	free(ctl->txn.tables);
	free(ctl->rpc.stats);
	free(ctl->rpc.decorators);
	free(ctl);
}

/* ---- registrations ------------------------------------------------------- */

static int
grow(void **v, size_t n, size_t size)
{
	void *p = realloc(*v, (n + 1) * size);

	if (p == NULL)
		return -ENOMEM;
	*v = p;
	return 0;
}

int
ss_ctl_register_table(struct ss_ctl *ctl, const struct ss_ctl_table *t)
{
	if (t == NULL || t->prepare == NULL || t->commit == NULL)
		return -EINVAL;
	if (grow((void **)&ctl->txn.tables, ctl->txn.ntables, sizeof(*ctl->txn.tables)) < 0)
		return -ENOMEM;
	ctl->txn.tables[ctl->txn.ntables++] = *t;
	return 0;
}

int
ss_ctl_register_stats(struct ss_ctl *ctl, const struct ss_ctl_stats *s)
{
	size_t i;

	if (s == NULL || s->scope == NULL || strcmp(s->scope, "all") == 0)
		return -EINVAL;
	for (i = 0; i < ctl->rpc.nstats; i++)
		if (strcmp(ctl->rpc.stats[i].scope, s->scope) == 0)
			return -EEXIST;
	if (grow((void **)&ctl->rpc.stats, ctl->rpc.nstats, sizeof(*ctl->rpc.stats)) < 0)
		return -ENOMEM;
	ctl->rpc.stats[ctl->rpc.nstats++] = *s;
	return 0;
}

int
ss_ctl_register_method(struct ss_ctl *ctl, const char *name, ss_ctl_method_fn fn, void *ctx)
{
	size_t i;
	char *copy;

	if (name == NULL || fn == NULL)
		return -EINVAL;
	if (ss_method_builtin(name))
		return -EEXIST;
	for (i = 0; i < ctl->core.nmethods; i++)
		if (strcmp(ctl->core.methods[i].name, name) == 0)
			return -EEXIST;
	copy = strdup(name);
	if (copy == NULL ||
	    grow((void **)&ctl->core.methods, ctl->core.nmethods, sizeof(*ctl->core.methods)) < 0) {
		free(copy);
		return -ENOMEM;
	}
	ctl->core.methods[ctl->core.nmethods].name = copy;
	ctl->core.methods[ctl->core.nmethods].fn = fn;
	ctl->core.methods[ctl->core.nmethods].ctx = ctx;
	ctl->core.nmethods++;
	return 0;
}

int
ss_ctl_register_decorator(struct ss_ctl *ctl, const char *type, ss_ctl_decorate_fn fn,
			  void *ctx)
{
	int t = type ? ss_type_by_name(type, strlen(type)) : -1;
	size_t i;

	if (t < 0 || fn == NULL)
		return -EINVAL;
	for (i = 0; i < ctl->rpc.ndecorators; i++)
		if (ctl->rpc.decorators[i].type == t)
			return -EEXIST;
	if (grow((void **)&ctl->rpc.decorators, ctl->rpc.ndecorators, sizeof(*ctl->rpc.decorators)) < 0)
		return -ENOMEM;
	ctl->rpc.decorators[ctl->rpc.ndecorators].type = t;
	ctl->rpc.decorators[ctl->rpc.ndecorators].fn = fn;
	ctl->rpc.decorators[ctl->rpc.ndecorators].ctx = ctx;
	ctl->rpc.ndecorators++;
	return 0;
}

int
ss_ctl_add_port(struct ss_ctl *ctl, const char *name, const char *role)
{
	struct ss_port *p;

	if (name == NULL || role == NULL || ss_valid_name(name, strlen(name)) < 0 ||
	    (strcmp(role, "host") && strcmp(role, "fabric") && strcmp(role, "storage")))
		return -EINVAL;
	if (ss_ctl_port(ctl, name) != NULL)
		return -EEXIST;
	if (grow((void **)&ctl->rpc.ports, ctl->rpc.nports, sizeof(*ctl->rpc.ports)) < 0)
		return -ENOMEM;
	p = &ctl->rpc.ports[ctl->rpc.nports];
	p->name = strdup(name);
	p->role = strdup(role);
	if (p->name == NULL || p->role == NULL) {
		free(p->name);
		free(p->role);
		return -ENOMEM;
	}
	ctl->rpc.nports++;
	return 0;
}

const struct ss_port *
ss_ctl_port(const struct ss_ctl *ctl, const char *name)
{
	size_t i;

	for (i = 0; i < ctl->rpc.nports; i++)
		if (strcmp(ctl->rpc.ports[i].name, name) == 0)
			return &ctl->rpc.ports[i];
	return NULL;
}

int
ss_check_port(struct ss_ctl *ctl, const char *name, const char *const *roles,
	      const char *field, struct ss_err *err)
{
	const struct ss_port *p = ss_ctl_port(ctl, name);
	int i;

	if (p == NULL)
		return ss_err_set(err, SS_ERR_NOT_FOUND, field, "%s: port %s not found", field,
				  name);
	if (roles == NULL)
		return 0;
	for (i = 0; roles[i] != NULL; i++)
		if (strcmp(p->role, roles[i]) == 0)
			return 0;
	return ss_err_set(err, SS_RPC_INVALID_PARAMS, field, "%s: port %s has role %s, not %s%s%s",
			  field, name, p->role, roles[0], roles[1] ? " or " : "",
			  roles[1] ? roles[1] : "");
}

/* ---- store access -------------------------------------------------------- */

const json_t *
ss_ctl_store_get(struct ss_ctl *ctl, const char *type, const char *key)
{
	int t = type ? ss_type_by_name(type, strlen(type)) : -1;
	struct ss_node *n;

	if (t < 0)
		return NULL;
	if (ss_types[t]->singleton || key == NULL)
		key = "";
	n = ss_store_find(&ctl->core.store, t, key, strlen(key));
	return n ? ss_node_obj(n) : NULL;
}

int
ss_ctl_store_foreach(struct ss_ctl *ctl, const char *type,
		     int (*fn)(void *arg, const json_t *obj), void *arg)
{
	int t = type ? ss_type_by_name(type, strlen(type)) : -1;
	struct ss_node **v;
	size_t i, n;
	int rc = 0;

	if (t < 0)
		return -EINVAL;
	if (ss_store_nodes(&ctl->core.store, t, false, &v, &n) < 0)
		return -ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		/* transient unless already cached: 8M mappings must not all
		 * stay materialised */
		json_t *o = ss_node_value(v[i]);

		if (o == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = fn(arg, o);
		json_decref(o);
	}
	free(v);
	return rc;
}

const void *
ss_ctl_store_rec(struct ss_ctl *ctl, const struct ss_type *t, const char *key)
{
	struct ss_node *n;
	const void *rec;
	json_t *o;
	int rc;

	if (t == NULL || t->id < 0 || t->id >= ss_ntypes || ss_types[t->id] != t)
		return NULL;
	if (t->singleton || key == NULL)
		key = "";
	n = ss_store_find(&ctl->core.store, t->id, key, strlen(key));
	if (n == NULL || (o = ss_node_value(n)) == NULL)
		return NULL;
	rec = ss_rec_decode(t, o, &ctl->core.reads, &rc);
	json_decref(o);
	return rec;
}

int
ss_ctl_store_foreach_rec(struct ss_ctl *ctl, const struct ss_type *t,
			 int (*fn)(void *arg, const void *rec), void *arg)
{
	struct ss_arena one;
	struct ss_node **v;
	size_t i, n;
	int rc = 0;

	if (t == NULL || t->id < 0 || t->id >= ss_ntypes || ss_types[t->id] != t)
		return -EINVAL;
	if (ss_store_nodes(&ctl->core.store, t->id, false, &v, &n) < 0)
		return -ENOMEM;
	ss_arena_init(&one);
	for (i = 0; i < n && rc == 0; i++) {
		json_t *o = ss_node_value(v[i]);
		const void *rec;

		if (o == NULL) {
			rc = -ENOMEM;
			break;
		}
		ss_arena_reset(&one);
		rec = ss_rec_decode(t, o, &one, &rc);
		json_decref(o);
		if (rec != NULL)
			rc = fn(arg, rec);
	}
	ss_arena_free(&one);
	free(v);
	return rc;
}

uint64_t
ss_ctl_generation(const struct ss_ctl *ctl)
{
	return ctl->txn.generation;
}

char *
ss_ctl_handle_line(struct ss_ctl *ctl, const char *line, size_t len)
{
	return ss_rpc_handle(ctl, line, len);
}

/* stats.get scope "control": the socket's clients and closes, the
 * journal and the snapshots */
static json_t *
control_stats(void *ctx)
{
	json_t *o = ss_server_stats(ctx);

	if (o != NULL)
		ss_persist_stats(ctx, o);
	return o;
}

static void
control_stats_clear(void *ctx)
{
	ss_server_stats_clear(ctx);
}

int
ss_ctl_listen(struct ss_ctl *ctl, char *err, size_t errlen)
{
	struct ss_ctl_stats st = { .scope = "control", .get = control_stats,
				   .clear = control_stats_clear, .ctx = ctl };
	int rc = ss_server_listen(ctl, &ctl->conf, err, errlen);
	size_t i;

	if (rc < 0)
		return rc;
	for (i = 0; i < ctl->rpc.nstats; i++)
		if (strcmp(ctl->rpc.stats[i].scope, "control") == 0)
			return 0;
	rc = ss_ctl_register_stats(ctl, &st);
	if (rc < 0)
		snprintf(err, errlen, "control stats: %s", strerror(-rc));
	return rc;
}

/* ---- restore / save ---------------------------------------------------------- */

static int
apply_bootstrap(struct ss_ctl *ctl, char *err, size_t errlen)
{
	const char *path = ctl->conf.bootstrap_file;
	char perr[160];
	struct ss_err e;
	json_t *root = NULL, *ops;
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc = -EINVAL;

	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "bootstrap %s: %s", path, strerror(-rc));
		return rc;
	}
	for (;;) {
		size_t n;

		if (len + 65536 > cap) {
			char *p = realloc(text, cap = (cap ? cap * 2 : 65536) + 65536);

			if (p == NULL) {
				fclose(f);
				free(text);
				snprintf(err, errlen, "bootstrap %s: out of memory", path);
				return -ENOMEM;
			}
			text = p;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	root = ss_json_parse(text ? text : "", len, perr, sizeof(perr));
	free(text);
	ops = json_object_get(root, "ops");
	if (root == NULL || !json_is_array(ops) || json_object_size(root) != 1) {
		snprintf(err, errlen, "bootstrap %s: %s", path,
			 root ? "expected {\"ops\": [...]}" : perr);
		goto out;
	}
	ss_err_init(&e);
	ss_txn_begin(ctl);
	ctl->core.bootstrapping = true;
	rc = ss_op_apply_ops(ctl, ops, &e);
	ctl->core.bootstrapping = false;
	if (rc < 0) {
		rc = -EINVAL;
		ss_txn_abort(ctl);
		snprintf(err, errlen, "bootstrap %s: op %d: %s%s%s", path, e.index,
			 e.field[0] ? e.field : "", e.field[0] ? ": " : "", e.msg);
		goto out;
	}
	if (ss_txn_commit(ctl, SS_TXN_PERSIST, &e) < 0) {
		snprintf(err, errlen, "bootstrap %s: %s", path, e.msg);
		rc = -EIO;
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
ss_ctl_restore(struct ss_ctl *ctl, char *err, size_t errlen)
{
	int rc;

	if (ctl->core.persist != NULL) {
		rc = ss_persist_load(ctl, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (ctl->conf.bootstrap_file != NULL) {
		rc = apply_bootstrap(ctl, err, errlen);
		if (rc < 0)
			return rc;
	}
	return ss_txn_publish_all(ctl, err, errlen);
}

int
ss_ctl_save(struct ss_ctl *ctl, char *err, size_t errlen)
{
	if (ctl->core.persist == NULL)
		return 0;
	if (!ss_persist_loaded(ctl)) {
		/* never overwrite a state that was not loaded */
		snprintf(err, errlen, "state not restored: not saving over %s", ctl->conf.state_file);
		return -EALREADY;
	}
	return ss_persist_snapshot(ctl, ctl->txn.generation, err, errlen);
}
