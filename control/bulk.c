/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Bulk adds read straight from the request text (SPEC section 6: >= 1M
 * mappings/s through the bulk API).
 *
 * The general path builds a jansson tree of every entry; measured here that
 * alone (build + free, ~15 allocations per mapping) costs more than half of
 * the 1 us a mapping may take. For `<type>.add {"entries": [...]}` on the
 * flat types (bulk_raw: mapping, pa_validation, vip, direction) the request
 * parser only validates the entries array (ss_json_parse_lazy) and this file
 * walks its text: each field value is checked by the very function the
 * general path uses (ss_check_scalar), in the same order, with the same
 * errors, and the stored text is produced exactly as
 * ss_schema_dump_compact() would. The node is stored without a jansson value; the
 * tables get one materialised at publication (txn.c) when there are tables.
 * tests/unit/ctl and the fuzzer check that both paths answer alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/objects.h"
#include "control/ops.h"
#include "control/store.h"

#define MAX_FIELDS 16

struct val {
	bool present;
	struct ss_scalar v;
	size_t arena_off;            /* escaped strings live in the arena */
	bool in_arena;
	char canon[SS_PREFIX_STRLEN];
};

struct walk {
	const char *p;
	const char *end;
	uint64_t stop;               /* schema fields of t->raw_stop */
	struct ss_buf tmp;           /* decoded strings (reused) */
	struct ss_buf arena;         /* decoded strings of the current entry */
	struct ss_buf text;          /* canonical text being built */
};

/* A string literal of the validated text: most have no escape and are
 * returned in place without going through the full decoder. */
static void
str_at(struct walk *w, const char **s, size_t *len)
{
	const char *start = w->p + 1, *q = start;

	while (*q != '"' && *q != '\\')
		q++;   /* validated: a closing quote exists */
	if (*q == '"') {
		*s = start;
		*len = (size_t)(q - start);
		w->p = q + 1;
		return;
	}
	ss_json_decode_string(&w->p, w->end, &w->tmp, s, len);
}

static void
ws(struct walk *w)
{
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

/* A scalar at w->p (validated JSON). Strings that needed unescaping are
 * copied to the arena (returned through *arena_off). */
static void
read_value(struct walk *w, struct val *out)
{
	const char *s;
	size_t len;

	memset(&out->v, 0, sizeof(out->v));
	out->in_arena = false;
	switch (*w->p) {
	case '"': {
		const char *start = w->p;

		str_at(w, &s, &len);
		out->v.t = SS_VT_STRING;
		out->v.len = len;
		if (s >= start && s < w->p) {
			out->v.s = s;   /* points into the request text */
		} else {
			out->in_arena = true;
			out->arena_off = w->arena.len;
			ss_buf_add(&w->arena, s, len);
		}
		return;
	}
	case 't':
		out->v.t = SS_VT_BOOL;
		out->v.b = 1;
		w->p += 4;
		return;
	case 'f':
		out->v.t = SS_VT_BOOL;
		out->v.b = 0;
		w->p += 5;
		return;
	case 'n':
		out->v.t = SS_VT_NULL;
		w->p += 4;
		return;
	case '{':
		out->v.t = SS_VT_OBJECT;
		return;
	case '[':
		out->v.t = SS_VT_ARRAY;
		return;
	default: {
		const char *start = w->p;
		char num[32];

		out->v.t = SS_VT_INT;
		while (w->p < w->end && (*w->p == '-' || *w->p == '+' || *w->p == '.' ||
					 (*w->p >= '0' && *w->p <= '9') || *w->p == 'e' || *w->p == 'E')) {
			if (*w->p == '.' || *w->p == 'e' || *w->p == 'E')
				out->v.t = SS_VT_REAL;
			w->p++;
		}
		if (out->v.t == SS_VT_INT) {
			len = (size_t)(w->p - start);
			if (len >= sizeof(num))
				len = sizeof(num) - 1;   /* validated: fits in long long */
			memcpy(num, start, len);
			num[len] = '\0';
			out->v.i = strtoll(num, NULL, 10);
		}
		return;
	}
	}
}

static const char *
val_str(const struct walk *w, const struct val *v, size_t *len)
{
	if (v->canon[0]) {
		*len = strlen(v->canon);
		return v->canon;
	}
	*len = v->v.len;
	return v->in_arena ? w->arena.p + v->arena_off : v->v.s;
}

/* One entry object at w->p: validate, build key and canonical text, store.
 * Mirrors ops.c add_one() -> validate() -> ss_schema_check(). */
static int
add_entry(struct ss_ctl *ctl, int type, struct walk *w, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_store *st = &core->store;
	const struct ss_type *t = ss_types[type];
	const struct ss_schema *sc = &t->schema;
	struct val vals[MAX_FIELDS];
	char key[SS_KEY_MAX];
	size_t klen = 0;
	struct ss_node *n;
	unsigned i, last;
	bool key_long = false;
	uint32_t hash = 0;

	memset(vals, 0, sc->n * sizeof(vals[0]));
	w->arena.len = 0;
	w->p++;   /* '{' */
	ws(w);
	while (w->p < w->end && *w->p != '}') {
		const char *k;
		size_t kl;
		const struct ss_field *f;
		struct val *v;
		int drop = 0;
		char kcopy[SS_KEY_MAX];

		str_at(w, &k, &kl);
		f = ss_schema_field(sc, k, kl);
		if (f == NULL) {
			/* same text as schema.c: keys are shown up to 64 bytes */
			size_t show = kl < sizeof(kcopy) - 1 ? kl : sizeof(kcopy) - 1;

			memcpy(kcopy, k, show);
			kcopy[show] = '\0';
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, kcopy, "unknown field \"%.64s\"",
					  kcopy);
		}
		if ((w->stop >> (f - sc->f)) & 1)
			return 1;   /* left to the general path */
		v = &vals[f - sc->f];
		ws(w);
		w->p++;   /* ':' */
		ws(w);
		read_value(w, v);
		if (w->arena.oom)
			return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		{
			/* ss_check_scalar reads v.s: resolve arena strings first */
			struct ss_scalar sv = v->v;

			if (v->in_arena)
				sv.s = w->arena.p + v->arena_off;
			if (ss_check_scalar(f, &sv, v->canon, &drop, err) < 0)
				return -1;
		}
		v->present = !drop;
		ws(w);
		if (*w->p == ',') {
			w->p++;
			ws(w);
		}
	}
	w->p++;   /* '}' */
	/* required fields and defaults, in schema order (check_obj) */
	for (i = 0; i < sc->n; i++) {
		const struct ss_field *f = &sc->f[i];

		if (vals[i].present)
			continue;
		if (f->flags & (SS_FF_KEY | SS_FF_REQ))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name,
					  "missing required field \"%s\"", f->name);
		if (f->flags & SS_FF_DFLT) {
			vals[i].present = true;
			if (f->kind == SS_F_BOOL) {
				vals[i].v.t = SS_VT_BOOL;
				vals[i].v.b = (int)f->dflt_i;
			} else if (f->dflt_s != NULL) {
				vals[i].v.t = SS_VT_STRING;
				vals[i].v.s = f->dflt_s;
				vals[i].v.len = strlen(f->dflt_s);
			} else {
				vals[i].v.t = SS_VT_INT;
				vals[i].v.i = f->dflt_i;
			}
		}
	}
	/* the key first, to start fetching its hash bucket (a cache miss in a
	 * big table) while the rest of the entry is worked on */
	for (i = 0; i < sc->n && !key_long; i++) {
		char num[24];
		const char *s = num;
		size_t len;

		if (!(sc->f[i].flags & SS_FF_KEY))
			continue;
		if (vals[i].v.t == SS_VT_STRING)
			s = val_str(w, &vals[i], &len);
		else
			len = (size_t)snprintf(num, sizeof(num), "%lld", vals[i].v.i);
		if (klen + len + 2 > sizeof(key)) {
			key_long = true;
			break;
		}
		if (klen)
			key[klen++] = '/';
		memcpy(key + klen, s, len);
		klen += len;
	}
	key[klen] = '\0';
	if (!key_long)
		hash = ss_store_prefetch(st, type, key, klen);
	/* references exist (validate()): bulk_raw types only have key refs */
	for (i = 0; i < sc->n; i++) {
		const struct ss_field *f = &sc->f[i];
		const char *s;
		size_t len;

		if (!f->ref_id || !vals[i].present)
			continue;
		s = val_str(w, &vals[i], &len);
		if (ss_store_find(st, f->ref_id - 1, s, len) == NULL)
			return ss_err_set(err, SS_ERR_NOT_FOUND, f->name, "%s: %s %.*s not found",
					  f->name, f->ref, (int)len, s);
	}
	if (key_long)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "%s key too long", t->name);
	/* stored text (ss_schema_dump_compact) */
	for (last = 0, i = 0; i < sc->n; i++)
		if (vals[i].present)
			last = i + 1;
	w->text.len = 0;
	ss_buf_addc(&w->text, '[');
	for (i = 0; i < last; i++) {
		const struct val *v = &vals[i];
		char num[24];
		const char *s = num;
		size_t len;

		if (i)
			ss_buf_addc(&w->text, ',');
		if (!v->present) {
			ss_buf_add(&w->text, "null", 4);
			continue;
		}
		if (v->v.t == SS_VT_STRING) {
			s = val_str(w, v, &len);
			ss_json_dump_str(&w->text, s, len);
		} else if (v->v.t == SS_VT_INT) {
			len = (size_t)snprintf(num, sizeof(num), "%lld", v->v.i);
			ss_buf_add(&w->text, num, len);
		} else {
			len = 0;
			ss_buf_adds(&w->text, v->v.b ? "true" : "false");
		}
	}
	ss_buf_addc(&w->text, ']');
	if (w->text.oom)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	n = ss_store_find_hash(st, type, key, klen, hash);
	if (n != NULL) {
		if (ss_op_same_text(n, &w->text))
			return 0;   /* idempotent */
		if (core->bootstrapping) {
			ss_ctl_log(ctl, LOG_NOTICE,
				   "bootstrap: %s %s differs from the committed state: kept as committed",
				   t->name, key);
			return 0;
		}
		return ss_err_set(err, SS_ERR_EXISTS, NULL, "%s %s exists with different content",
				  t->name, key);
	}
	return ss_op_put_node(ctl, type, key, NULL, &w->text, NULL, err);
}

/* The fields of t's schema that a raw add leaves to the general path. */
static uint64_t
stop_fields(const struct ss_type *t)
{
	uint64_t m = 0;
	unsigned i, j;

	for (i = 0; i < t->schema.n && i < 64; i++)
		for (j = 0; j < t->nb_raw_stop; j++)
			if (strcmp(t->schema.f[i].name, t->raw_stop[j]) == 0)
				m |= 1ull << i;
	return m;
}

int
ss_op_add_raw(struct ss_ctl *ctl, int type, const char *raw, size_t len, struct ss_err *err)
{
	struct walk w = { .p = raw, .end = raw + len, .stop = stop_fields(ss_types[type]) };
	size_t i = 0;
	int rc = 0;

	ss_buf_init(&w.tmp);
	ss_buf_init(&w.arena);
	ss_buf_init(&w.text);
	w.p++;   /* '[' */
	ws(&w);
	while (w.p < w.end && *w.p != ']') {
		if (*w.p != '{') {
			char path[32];

			snprintf(path, sizeof(path), "entries[%zu]", i);
			rc = ss_err_set(err, SS_RPC_INVALID_PARAMS, path, "%s: expected an object", path);
			break;
		}
		rc = add_entry(ctl, type, &w, err);
		if (rc > 0)
			break;
		if (rc < 0) {
			ss_err_prefix(err, "entries[%zu]", i);
			break;
		}
		i++;
		ws(&w);
		if (*w.p == ',') {
			w.p++;
			ws(&w);
		}
	}
	ss_buf_free(&w.tmp);
	ss_buf_free(&w.arena);
	ss_buf_free(&w.text);
	return rc;
}
