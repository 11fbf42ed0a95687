/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Shared by the ACL and conntrack unit tests: an EAL without hugepages or
 * devices, and an in-memory object store that the ACL table reads through
 * struct ss_acl_store_ops (the daemon passes the real control plane).
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
#include "pipelines/acl/acl.h"

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

static inline void tu_store_init(struct tu_store *s)
{
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

static inline int tu_foreach(void *arg, const char *type,
			     int (*fn)(void *fnarg, const json_t *obj), void *fnarg)
{
	struct tu_store *s = arg;
	const json_t *a = json_object_get(s->types, type);

	for (size_t i = 0; i < json_array_size(a); i++) {
		/* like the control plane's store: the object lives for the call */
		json_t *o = json_deep_copy(json_array_get(a, i));
		int rc = fn(fnarg, o);

		json_decref(o);
		if (rc != 0)
			return rc;
	}
	return 0;
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

/* One change of `type` naming `obj` (borrowed), enough for the tables'
 * change scan. */
static inline struct ss_change tu_change(const char *type, enum ss_change_op op,
					 const json_t *obj)
{
	return (struct ss_change){ .type = type, .op = op,
				   .obj = op == SS_CHANGE_DELETE ? NULL : obj,
				   .old = op == SS_CHANGE_ADD ? NULL : obj };
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
