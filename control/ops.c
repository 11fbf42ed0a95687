/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Store operations: validation, idempotency, references, capacity, unique
 * indexes, then the change through store.h. See ops.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/objects.h"
#include "control/ops.h"
#include "control/store.h"

/* ---- validation ------------------------------------------------------------ */

/* Schema, then references exist (1001 naming the referring field), then
 * the type's semantic check. obj is normalised in place. */
static int
validate(struct ss_ctl *ctl, int type, json_t *obj, struct ss_err *err)
{
	const struct ss_type *t = ss_types[type];
	const struct ss_type_ext *x;
	struct ss_ref refs[SS_MAX_REFS];
	int i, n;

	if (ss_schema_check(&t->schema, obj, SS_CHECK_FULL, err) < 0)
		return -1;
	n = ss_schema_refs(t, obj, refs, SS_MAX_REFS);
	for (i = 0; i < n; i++)
		if (ss_store_find(&ss_core(ctl)->store, refs[i].type, refs[i].key,
				  strlen(refs[i].key)) == NULL)
			return ss_err_set(err, SS_ERR_NOT_FOUND, refs[i].field, "%s: %s %s not found",
					  refs[i].field, ss_types[refs[i].type]->name, refs[i].key);
	if (t->check != NULL && t->check(ctl, obj, err) < 0)
		return -1;
	for (x = t->ext; x != NULL; x = x->next)
		if (x->check != NULL && x->check(ctl, obj, err) < 0)
			return -1;
	return 0;
}

static int
key_of(int type, const json_t *obj, char *key, struct ss_err *err)
{
	if (ss_schema_key(ss_types[type], obj, key, SS_KEY_MAX) < 0)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "%s key too long",
				  ss_types[type]->name);
	return 0;
}

static int
idx_conflict(struct ss_ctl *ctl, const struct ss_node *n, const struct ss_node *self,
	     const json_t *obj, struct ss_err *err)
{
	int i;

	for (i = 0; i < SS_NODE_IDX; i++) {
		const struct ss_idx *x = ss_node_idx(n, i);
		struct ss_node *owner;

		if (x == NULL)
			continue;
		owner = ss_store_idx_find(&ss_core(ctl)->store, x->which, x->key);
		if (owner == NULL || owner == self)
			continue;
		return ss_types[n->type]->idx_conflict(obj, i, x->key, owner->key, err);
	}
	return 0;
}

/* Store a validated object: link a new node or replace `old`. obj may be
 * NULL for types without indexes whose references are all key fields
 * (the raw bulk path, bulk.c). */
int
ss_op_put_node(struct ss_ctl *ctl, int type, const char *key, json_t *obj, const struct ss_buf *text,
	 struct ss_node *old, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_node *n;
	json_t *old_obj = NULL;
	int rc;

	if (old == NULL && core->limit[type] && core->store.map[type].n >= core->limit[type])
		return ss_err_set(err, SS_ERR_CAPACITY, NULL, "%s capacity %u reached",
				  ss_types[type]->name, core->limit[type]);
	n = ss_node_new(&core->store, type, key, strlen(key), text->p, text->len, obj);
	if (n == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	if (idx_conflict(ctl, n, old, obj, err) < 0) {
		ss_node_free(&core->store, n);
		return -1;
	}
	if (old == NULL) {
		rc = ss_store_link(&core->store, n, obj);
	} else {
		old_obj = ss_node_value(old);
		rc = old_obj ? ss_store_replace(&core->store, old, n, old_obj, obj) : -ENOMEM;
		json_decref(old_obj);
	}
	if (rc < 0) {
		ss_node_free(&core->store, n);
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	}
	return 0;
}

bool
ss_op_same_text(const struct ss_node *n, const struct ss_buf *b)
{
	return n->tlen == b->len && memcmp(ss_node_text(n), b->p, b->len) == 0;
}

/* ---- add ------------------------------------------------------------------ */

static int
add_one(struct ss_ctl *ctl, int type, json_t *obj, struct ss_buf *text, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	const struct ss_type *t = ss_types[type];
	char key[SS_KEY_MAX];
	struct ss_node *n;

	if (validate(ctl, type, obj, err) < 0 || key_of(type, obj, key, err) < 0)
		return -1;
	text->len = 0;
	ss_schema_dump_compact(text, &t->schema, obj);
	if (text->oom)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	n = ss_store_find(&core->store, type, key, strlen(key));
	if (n != NULL) {
		if (ss_op_same_text(n, text))
			return 0;   /* idempotent */
		if (core->bootstrapping) {
			/* the committed state wins over the bootstrap file */
			ss_ctl_log(ctl, LOG_NOTICE,
				   "bootstrap: %s %s differs from the committed state: kept as committed",
				   t->name, key);
			return 0;
		}
		return ss_err_set(err, SS_ERR_EXISTS, NULL, "%s %s exists with different content",
				  t->name, key);
	}
	return ss_op_put_node(ctl, type, key, obj, text, NULL, err);
}

/* Run fn on params or on each of params.entries. */
static int
for_entries(struct ss_ctl *ctl, int type, json_t *params, struct ss_buf *text,
	    int (*fn)(struct ss_ctl *, int, json_t *, struct ss_buf *, struct ss_err *),
	    struct ss_err *err)
{
	json_t *entries = json_object_get(params, "entries");
	size_t i;

	if (!json_is_object(params))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "params must be an object");
	if (entries == NULL)
		return fn(ctl, type, params, text, err);
	if (json_object_size(params) != 1) {
		void *it = json_object_iter(params);

		if (strcmp(json_object_iter_key(it), "entries") == 0)
			it = json_object_iter_next(params, it);
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, json_object_iter_key(it),
				  "unknown field \"%s\" next to entries", json_object_iter_key(it));
	}
	if (!json_is_array(entries))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "entries", "entries must be an array");
	for (i = 0; i < json_array_size(entries); i++) {
		json_t *e = json_array_get(entries, i);

		if (!json_is_object(e)) {
			char path[32];

			snprintf(path, sizeof(path), "entries[%zu]", i);
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, path, "%s: expected an object",
					  path);
		}
		if (fn(ctl, type, e, text, err) < 0) {
			ss_err_prefix(err, "entries[%zu]", i);
			return -1;
		}
	}
	return 0;
}

int
ss_op_add(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err)
{
	const struct ss_type *t = ss_types[type];
	struct ss_buf text;
	int rc;

	/* a parent given with its children (SS_TM_ADD_CHILDREN: lb.add {...,
	 * backends}): created with exactly those, as <type>.replace does; an
	 * existing parent is not a new one (its children change one by one) */
	if ((t->methods & SS_TM_ADD_CHILDREN) && json_is_object(params) &&
	    json_object_get(params, t->replace_list) != NULL) {
		const json_t *name = json_object_get(params, t->schema.f[0].name);

		if (json_is_string(name) &&
		    ss_store_find(&ss_core(ctl)->store, type, json_string_value(name),
				  json_string_length(name)) != NULL) {
			if (ss_core(ctl)->bootstrapping) {
				ss_ctl_log(ctl, LOG_NOTICE, "bootstrap: %s %s exists: kept as committed",
					   t->name, json_string_value(name));
				return 0;
			}
			return ss_err_set(err, SS_ERR_EXISTS, t->schema.f[0].name,
					  "%s %s exists (change its %s with their own methods)",
					  t->name, json_string_value(name), t->replace_list);
		}
		return ss_op_replace(ctl, type, params, err);
	}
	ss_buf_init(&text);
	rc = for_entries(ctl, type, params, &text, add_one, err);
	ss_buf_free(&text);
	return rc;
}

/* ---- delete --------------------------------------------------------------- */

/* Name one object that references n (for the 1003 message). */
static void
find_user(struct ss_ctl *ctl, struct ss_node *n, char *out, size_t len)
{
	int t;

	snprintf(out, len, "another object");
	if (n->ext != NULL && n->ext->children.next != &n->ext->children) {
		struct ss_node *c = ss_dl_entry(n->ext->children.next, struct ss_node, sib);

		snprintf(out, len, "%s %s", ss_types[c->type]->name, c->key);
		return;
	}
	for (t = n->type + 1; t < ss_ntypes; t++) {
		struct ss_node **v;
		size_t k, cnt;

		if (ss_store_nodes(&ss_core(ctl)->store, t, false, &v, &cnt) < 0)
			return;
		for (k = 0; k < cnt; k++) {
			struct ss_ref refs[SS_MAX_REFS];
			json_t *o = ss_node_value(v[k]);
			int i, nr = o ? ss_schema_refs(ss_types[t], o, refs, SS_MAX_REFS) : 0;

			json_decref(o);
			for (i = 0; i < nr; i++)
				if (refs[i].type == n->type && strcmp(refs[i].key, n->key) == 0) {
					snprintf(out, len, "%s %s (%s)", ss_types[t]->name, v[k]->key,
						 refs[i].field);
					free(v);
					return;
				}
		}
		free(v);
	}
}

static int
del_node(struct ss_ctl *ctl, struct ss_node *n, struct ss_err *err)
{
	json_t *old;
	int rc;

	if (n->refs > 0) {
		char user[160];

		find_user(ctl, n, user, sizeof(user));
		return ss_err_set(err, SS_ERR_IN_USE, NULL, "%s %s is in use by %s; delete that first",
				  ss_types[n->type]->name, n->key, user);
	}
	old = ss_node_value(n);
	rc = old ? ss_store_unlink(&ss_core(ctl)->store, n, old) : -ENOMEM;
	json_decref(old);
	if (rc < 0)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	return 0;
}

static int
delete_one(struct ss_ctl *ctl, int type, json_t *obj, struct ss_buf *text, struct ss_err *err)
{
	char key[SS_KEY_MAX];
	struct ss_node *n;

	(void)text;
	if (ss_schema_check(&ss_types[type]->schema, obj, SS_CHECK_KEY, err) < 0 ||
	    key_of(type, obj, key, err) < 0)
		return -1;
	n = ss_store_find(&ss_core(ctl)->store, type, key, strlen(key));
	if (n == NULL)
		return 0;   /* idempotent */
	return del_node(ctl, n, err);
}

int
ss_op_delete(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err)
{
	return for_entries(ctl, type, params, NULL, delete_one, err);
}

int
ss_op_del_key(struct ss_ctl *ctl, int type, const char *key, struct ss_err *err)
{
	struct ss_node *n = ss_store_find(&ss_core(ctl)->store, type, key, strlen(key));

	if (n == NULL)
		return ss_err_set(err, SS_ERR_NOT_FOUND, NULL, "%s %s not found",
				  ss_types[type]->name, key);
	return del_node(ctl, n, err);
}

/* ---- put / set ------------------------------------------------------------ */

/* Validate obj (a whole object) and store it under its key, replacing
 * whatever is there. */
static int
put_whole(struct ss_ctl *ctl, int type, json_t *obj, struct ss_err *err)
{
	char key[SS_KEY_MAX];
	struct ss_node *n;
	struct ss_buf text;
	int rc = 0;

	if (validate(ctl, type, obj, err) < 0 || key_of(type, obj, key, err) < 0)
		return -1;
	ss_buf_init(&text);
	ss_schema_dump_compact(&text, &ss_types[type]->schema, obj);
	if (text.oom) {
		ss_buf_free(&text);
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	}
	n = ss_store_find(&ss_core(ctl)->store, type, key, strlen(key));
	if (n == NULL || !ss_op_same_text(n, &text))
		rc = ss_op_put_node(ctl, type, key, obj, &text, n, err);
	ss_buf_free(&text);
	return rc;
}

int
ss_op_put(struct ss_ctl *ctl, int type, json_t *obj, struct ss_err *err)
{
	if (!json_is_object(obj))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "expected an object");
	return put_whole(ctl, type, obj, err);
}

int
ss_op_set(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	const struct ss_type *t = ss_types[type];
	struct ss_node *n = NULL;
	json_t *merged;
	void *it;
	int rc;
	unsigned i;

	if (!json_is_object(params))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "params must be an object");
	if (t->singleton) {
		n = ss_store_find(&core->store, type, "", 0);
	} else {
		/* the object is named by its key: `name`, or the one key field
		 * of a type keyed otherwise (bfd: `peer`, in canonical form) */
		const char *kname = "name";
		const json_t *name;
		unsigned nkeys = 0;

		for (i = 0; i < t->schema.n; i++)
			if ((t->schema.f[i].flags & SS_FF_KEY) && nkeys++ == 0)
				kname = t->schema.f[i].name;
		if (nkeys > 1) {
			/* several key fields (lb.backend: lb and ip): the key as
			 * delete forms it, from a normalised copy */
			json_t *k = json_object();
			char key[SS_KEY_MAX];

			for (i = 0; k != NULL && i < t->schema.n; i++) {
				json_t *v = json_object_get(params, t->schema.f[i].name);

				if ((t->schema.f[i].flags & SS_FF_KEY) && v != NULL &&
				    json_object_set_new(k, t->schema.f[i].name, json_deep_copy(v)) < 0) {
					json_decref(k);
					k = NULL;
				}
			}
			if (k == NULL)
				return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
			rc = ss_schema_check(&t->schema, k, SS_CHECK_KEY, err) < 0 ||
			     key_of(type, k, key, err) < 0 ? -1 : 0;
			json_decref(k);
			if (rc < 0)
				return -1;
			n = ss_store_find(&core->store, type, key, strlen(key));
			if (n == NULL)
				return ss_err_set(err, SS_ERR_NOT_FOUND, t->schema.f[nkeys - 1].name,
						  "%s %s not found", t->name, key);
			goto found;
		}
		if (nkeys != 1)
			kname = "name";
		name = json_object_get(params, kname);
		if (!json_is_string(name))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, kname,
					  "missing required field \"%s\"", kname);
		n = ss_store_find(&core->store, type, json_string_value(name),
				  json_string_length(name));
		if (n == NULL)
			return ss_err_set(err, SS_ERR_NOT_FOUND, kname, "%s %s not found", t->name,
					  json_string_value(name));
	}
found:
	if (n != NULL) {
		json_t *cur = ss_node_value(n);

		/* a copy: the value may be the node's cached one */
		merged = cur ? json_deep_copy(cur) : NULL;
		json_decref(cur);
	} else {
		merged = json_object();
	}
	if (merged == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	for (it = json_object_iter(params); it != NULL; it = json_object_iter_next(params, it)) {
		const char *k = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		const struct ss_field *f = NULL;

		for (i = 0; i < t->schema.n; i++)
			if (strcmp(t->schema.f[i].name, k) == 0)
				f = &t->schema.f[i];
		if (f == NULL) {
			json_decref(merged);
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, k, "unknown field \"%.64s\"", k);
		}
		if (json_is_null(v)) {
			if (!(f->flags & SS_FF_NULL)) {
				json_decref(merged);
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, k,
						  "%s cannot be cleared", k);
			}
			json_object_del(merged, k);
			continue;
		}
		/* a copy: normalising must not touch the caller's params */
		if (json_object_set_new_nocheck(merged, k, json_deep_copy(v)) < 0) {
			json_decref(merged);
			return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		}
	}
	rc = put_whole(ctl, type, merged, err);
	json_decref(merged);
	return rc;
}

/* ---- <parent>.replace: a parent and its whole set of children ------------------ */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The children of parent node pn of child type c, in a malloc'd array. */
static int
children_of(struct ss_node *pn, int c, struct ss_node ***out, size_t *n)
{
	struct ss_dl *e;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (pn->ext == NULL)
		return 0;
	for (e = pn->ext->children.next; e != &pn->ext->children; e = e->next)
		k++;
	*out = malloc((k ? k : 1) * sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (e = pn->ext->children.next; e != &pn->ext->children; e = e->next) {
		struct ss_node *ch = ss_dl_entry(e, struct ss_node, sib);

		if (ch->type == c)
			(*out)[(*n)++] = ch;
	}
	return 0;
}

/* Required fields of the parent besides its key, for "give ... to create". */
static void
creation_fields(const struct ss_type *t, char *out, size_t len)
{
	size_t used = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < t->schema.n && used < len; i++)
		if ((t->schema.f[i].flags & (SS_FF_REQ | SS_FF_KEY)) == SS_FF_REQ)
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
						 t->schema.f[i].name);
}

int
ss_op_replace(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	const struct ss_type *t = ss_types[type];
	int c = t->replace_child ? ss_type_by_name(t->replace_child, strlen(t->replace_child)) : -1;
	const char *list_name = t->replace_list, *pkey = t->schema.f[0].name, *ckey;
	json_t *name, *list, *parent = NULL;
	struct ss_node *pn, **old = NULL;
	char **keys = NULL, what[96];
	size_t i, n = 0, nold = 0;
	bool other = false;
	void *it;
	int rc = -1;

	if (c < 0 || list_name == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "%s.replace: no child type", t->name);
	ckey = ss_types[c]->schema.f[0].name;      /* the child's parent field */
	if (!json_is_object(params))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "params must be an object");
	for (it = json_object_iter(params); it != NULL; it = json_object_iter_next(params, it)) {
		const char *k = json_object_iter_key(it);

		if (strcmp(k, list_name) == 0)
			continue;
		if (ss_schema_field(&t->schema, k, strlen(k)) == NULL)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, k, "unknown field \"%.64s\"", k);
		other |= strcmp(k, pkey) != 0;
	}
	name = json_object_get(params, pkey);
	list = json_object_get(params, list_name);
	if (!json_is_array(list))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, list_name,
				  list ? "%s must be an array" : "missing required field \"%s\"",
				  list_name);
	if (!json_is_string(name))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, pkey, "missing required field \"%s\"",
				  pkey);
	pn = ss_store_find(&core->store, type, json_string_value(name), json_string_length(name));
	if (pn == NULL && !other) {
		creation_fields(t, what, sizeof(what));
		return ss_err_set(err, SS_ERR_NOT_FOUND, pkey, "%s %s not found (give %s to create it)",
				  t->name, json_string_value(name), what);
	}
	if (other || pn == NULL) {
		/* create, or check the given fields are unchanged (1002 otherwise) */
		parent = json_copy(params);
		if (parent == NULL || json_object_del(parent, list_name) < 0) {
			json_decref(parent);
			return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		}
		rc = ss_op_add(ctl, type, parent, err);
		json_decref(parent);
		if (rc < 0)
			return -1;
		pn = ss_store_find(&core->store, type, json_string_value(name),
				   json_string_length(name));
		rc = -1; /* the error paths below return rc */
	}
	n = json_array_size(list);
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (keys == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	/* validate every new child first */
	for (i = 0; i < n; i++) {
		json_t *r = json_array_get(list, i), *grp;
		char key[SS_KEY_MAX];

		if (!json_is_object(r)) {
			ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "expected an object");
			ss_err_prefix(err, "%s[%zu]", list_name, i);
			goto out;
		}
		grp = json_object_get(r, ckey);
		if (grp != NULL && !json_equal(grp, name)) {
			ss_err_set(err, SS_RPC_INVALID_PARAMS, ckey, "%s must be %s or absent", ckey,
				   json_string_value(name));
			ss_err_prefix(err, "%s[%zu]", list_name, i);
			goto out;
		}
		if (grp == NULL && json_object_set_nocheck(r, ckey, name) < 0) {
			ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
			goto out;
		}
		if (validate(ctl, c, r, err) < 0 || key_of(c, r, key, err) < 0) {
			ss_err_prefix(err, "%s[%zu]", list_name, i);
			goto out;
		}
		keys[i] = strdup(key);
		if (keys[i] == NULL) {
			ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
			goto out;
		}
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(keys[i], keys[i - 1]) == 0) {
			ss_err_set(err, SS_RPC_INVALID_PARAMS, list_name, "%s: %s %s appears twice",
				   list_name, ss_types[c]->name, keys[i]);
			goto out;
		}
	/* delete the children that are not in the new set */
	if (children_of(pn, c, &old, &nold) < 0) {
		ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < nold; i++) {
		const char *k = old[i]->key;

		if (bsearch(&k, keys, n, sizeof(*keys), cmp_str) == NULL &&
		    del_node(ctl, old[i], err) < 0)
			goto out;
	}
	for (i = 0; i < n; i++)
		if (put_whole(ctl, c, json_array_get(list, i), err) < 0) {
			ss_err_prefix(err, "%s[%zu]", list_name, i);
			goto out;
		}
	rc = 0;
out:
	for (i = 0; keys != NULL && i < n; i++)
		free(keys[i]);
	free(keys);
	free(old);
	return rc;
}
