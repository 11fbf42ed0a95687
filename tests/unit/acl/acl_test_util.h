/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Shared by the ACL and conntrack unit tests: an EAL without hugepages or
 * devices, and an in-memory object store that the ACL table reads through
 * struct ss_acl_store_ops (the daemon passes the real control plane). The
 * store keeps JSON objects and hands out their records, decoded by the
 * control core (control/records.h) as the real store does.
 * Everything is static inline so each test takes what it needs.
 */
#ifndef SS_TEST_ACL_UTIL_H
#define SS_TEST_ACL_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "control/ctl.h"
#include "control/records.h"
#include "pipelines/acl/acl.h"
#include "pipelines/overlay/ovl_types.h"

static inline int tu_eal_init(void)
{
	static int done;
	char prefix[64];

	if (done)
		return 0;
	snprintf(prefix, sizeof(prefix), "--file-prefix=sstest%d", (int)getpid());
	char *argv[] = { "test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			 "--log-level", "*:error", "-l", "0", prefix, NULL };
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return -1;
	done = 1;
	return 0;
}

/* Objects by type ("acl_group", "acl_rule", "eni"), each a JSON array, and
 * the ENI indexes (name -> integer). */
struct tu_store {
	json_t *types;   /* {type: [obj...]} */
	json_t *eni_idx; /* {name: idx} */
};

/* The types' records are laid out when the registry is sealed. */
static inline void tu_types(void)
{
	char err[256];

	if (ss_types_seal(err, sizeof(err)) != 0) {
		fprintf(stderr, "object types: %s\n", err);
		abort();
	}
}

static inline void tu_store_init(struct tu_store *s)
{
	tu_types();
	s->types = json_object();
	s->eni_idx = json_object();
}

static inline void tu_store_free(struct tu_store *s)
{
	json_decref(s->types);
	json_decref(s->eni_idx);
}

static inline json_t *tu_list(struct tu_store *s, const char *type)
{
	json_t *a = json_object_get(s->types, type);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(s->types, type, a);
	}
	return a;
}

/* Add (steals obj). */
static inline void tu_add(struct tu_store *s, const char *type, json_t *obj)
{
	json_array_append_new(tu_list(s, type), obj);
}

/* Remove every object of `type` whose `key` equals `val`. */
static inline void tu_del_where(struct tu_store *s, const char *type, const char *key,
				const char *val)
{
	json_t *a = tu_list(s, type);

	for (size_t i = json_array_size(a); i-- > 0;) {
		const char *v = json_string_value(json_object_get(json_array_get(a, i), key));

		if (v != NULL && strcmp(v, val) == 0)
			json_array_remove(a, i);
	}
}

/* The record of obj (type t) in arena a, with the defaults the store would
 * have filled in (top-level fields). Aborts on an object that does not
 * decode: a broken fixture. */
static inline const void *tu_rec(const struct ss_type *t, const json_t *obj, struct ss_arena *a)
{
	json_t *o = json_deep_copy(obj);
	const void *rec;
	int rc;

	for (unsigned int i = 0; o != NULL && i < t->decl.n; i++) {
		const struct ss_field *f = &t->decl.f[i];

		if (!(f->flags & SS_FF_DFLT) || json_object_get(o, f->name) != NULL)
			continue;
		json_object_set_new(o, f->name,
				    f->kind == SS_F_BOOL ? json_boolean(f->dflt_i)
				    : f->dflt_s != NULL  ? json_string(f->dflt_s)
							 : json_integer(f->dflt_i));
	}
	rec = o != NULL ? ss_rec_decode(t, o, a, &rc) : NULL;
	json_decref(o);
	if (rec == NULL) {
		fprintf(stderr, "test %s object does not decode\n", t->name);
		abort();
	}
	return rec;
}

static inline int tu_foreach(void *arg, const struct ss_type *t,
			     int (*fn)(void *fnarg, const void *rec), void *fnarg)
{
	struct tu_store *s = arg;
	const json_t *a = json_object_get(s->types, t->name);
	struct ss_arena recs;
	int rc = 0;

	ss_arena_init(&recs);
	for (size_t i = 0; i < json_array_size(a) && rc == 0; i++) {
		/* like the control plane's store: the record lives for the call */
		rc = fn(fnarg, tu_rec(t, json_array_get(a, i), &recs));
		ss_arena_reset(&recs);
	}
	ss_arena_free(&recs);
	return rc;
}

static inline int tu_eni_index(void *arg, const char *name)
{
	struct tu_store *s = arg;
	const json_t *v = json_object_get(s->eni_idx, name);

	return v ? (int)json_integer_value(v) : -1;
}

static inline struct ss_acl_store_ops tu_ops(struct tu_store *s)
{
	return (struct ss_acl_store_ops){ .arg = s, .foreach = tu_foreach,
					  .eni_index = tu_eni_index };
}

/* An ENI with stage lists (NULL-terminated name arrays, NULL = none). */
static inline void tu_eni(struct tu_store *s, const char *name, int idx, const char *const *out4,
			  const char *const *in4, const char *const *out6, const char *const *in6)
{
	const char *const *lists[4] = { out4, in4, out6, in6 };
	static const char *const keys[4] = { "outbound_v4", "inbound_v4", "outbound_v6",
					     "inbound_v6" };
	json_t *acl = json_object(), *e;

	for (int k = 0; k < 4; k++) {
		json_t *a;

		if (lists[k] == NULL)
			continue;
		a = json_array();
		for (const char *const *g = lists[k]; *g; g++)
			json_array_append_new(a, json_string(*g));
		json_object_set_new(acl, keys[k], a);
	}
	e = json_pack("{s:s, s:s, s:s, s:o}", "name", name, "mac", "02:00:00:00:00:01", "vnet",
		      "v", "acl", acl);
	tu_del_where(s, "eni", "name", name);
	tu_add(s, "eni", e);
	json_object_set_new(s->eni_idx, name, json_integer(idx));
}

/* One change of `type` with the record of `obj` (borrowed), enough for
 * the tables' change scan: the record lives until the end of the test
 * program. Tables read only ty, op, rec and old_rec. */
static inline struct ss_change tu_change(const char *type, enum ss_change_op op,
					 const json_t *obj)
{
	static struct ss_arena recs;
	const struct ss_type *t = ss_type_find(type);
	const void *rec;

	tu_types();
	if (t == NULL) {
		fprintf(stderr, "no object type %s\n", type);
		abort();
	}
	rec = tu_rec(t, obj, &recs);
	return (struct ss_change){ .op = op, .ty = t,
				   .rec = op == SS_CHANGE_DELETE ? NULL : rec,
				   .old_rec = op == SS_CHANGE_ADD ? NULL : rec };
}

/* prepare + commit + reclaim (no workers: no grace period needed). */
static inline int tu_publish(struct ss_acl_table *t, struct tu_store *s,
			     const struct ss_change *ch, size_t n, char *err, size_t errlen)
{
	struct ss_acl_store_ops ops = tu_ops(s);
	int rc;

	err[0] = '\0';
	rc = ss_acl_table_prepare(t, &ops, ch, n, err, errlen);
	if (rc < 0)
		return rc;
	ss_acl_table_commit(t);
	ss_acl_table_reclaim(t);
	return 0;
}

#endif
