/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The type registry (types.h): registration from the features'
 * constructors, sealing (extensions merged, references resolved, ids in
 * dependency order, records laid out) and the description of every type
 * that schema.get returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/objects.h"

static struct ss_type *reg[SS_TYPES_MAX];
static unsigned nreg;
static struct ss_type_ext *exts[SS_TYPES_MAX];
static unsigned nexts;
static char reg_err[192];        /* first registration error */
static bool sealed;

struct ss_type *ss_types[SS_TYPES_MAX];
int ss_ntypes;

static void
reg_fail(const char *fmt, const char *a, const char *b)
{
	if (reg_err[0] == '\0')
		snprintf(reg_err, sizeof(reg_err), fmt, a, b);
}

void
ss_type_register(struct ss_type *t)
{
	unsigned i;

	if (t == NULL || t->name == NULL || t->list_key == NULL) {
		reg_fail("type %s%s: name and list_key are required", t && t->name ? t->name : "?",
			 "");
		return;
	}
	if (sealed) {
		reg_fail("type %s%s: registered after the first ss_ctl_create()", t->name, "");
		return;
	}
	for (i = 0; i < nreg; i++)
		if (strcmp(reg[i]->name, t->name) == 0) {
			if (reg[i] != t)
				reg_fail("type %s%s: registered twice", t->name, "");
			return;
		}
	if (nreg + nexts >= SS_TYPES_MAX) {
		reg_fail("type %s: more than %s types and extensions", t->name, "SS_TYPES_MAX");
		return;
	}
	t->id = -1;
	reg[nreg++] = t;
}

void
ss_type_extend(struct ss_type_ext *x)
{
	unsigned i;

	if (x == NULL || x->type == NULL) {
		reg_fail("type extension%s%s: the extended type name is required", "", "");
		return;
	}
	if (sealed) {
		reg_fail("extension of %s%s: registered after the first ss_ctl_create()", x->type,
			 "");
		return;
	}
	for (i = 0; i < nexts; i++)
		if (exts[i] == x)
			return;
	if (nreg + nexts >= SS_TYPES_MAX) {
		reg_fail("extension of %s: more than %s types and extensions", x->type,
			 "SS_TYPES_MAX");
		return;
	}
	exts[nexts++] = x;
}

/* ---- sealing --------------------------------------------------------------------- */

static struct ss_type *
find_reg(const char *name)
{
	unsigned i;

	for (i = 0; i < nreg; i++)
		if (strcmp(reg[i]->name, name) == 0)
			return reg[i];
	return NULL;
}

/* Runtime copy of a schema with references resolved (ref_id). Nested
 * schemas are copied too: the declared ones stay const. */
static int
copy_schema(const struct ss_schema *in, const struct ss_field *extra, unsigned nextra,
	    struct ss_schema *out, char *err, size_t errlen)
{
	unsigned n = in->n + nextra, i;
	struct ss_field *f = calloc(n ? n : 1, sizeof(*f));

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		f[i] = i < in->n ? in->f[i] : extra[i - in->n];
		f[i].ref_id = 0;
		if (f[i].ref != NULL) {
			const struct ss_type *r = find_reg(f[i].ref);

			if (r == NULL) {
				snprintf(err, errlen, "field %s references type %s, not registered",
					 f[i].name, f[i].ref);
				free(f);
				return -EINVAL;
			}
			f[i].ref_id = (uint8_t)(r->id + 1);
		}
		if (f[i].sub != NULL) {
			struct ss_schema *sub = calloc(1, sizeof(*sub));
			int rc;

			if (sub == NULL) {
				free(f);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			rc = copy_schema(f[i].sub, NULL, 0, sub, err, errlen);
			if (rc < 0) {
				free(sub);
				free(f);
				return rc;
			}
			f[i].sub = sub;
		}
	}
	out->f = f;
	out->n = n;
	out->rec_size = in->rec_size;
	out->pres_off = in->pres_off;
	return 0;
}

/* Does type t reference type u (directly, any depth of nesting)? */
static bool
schema_refs(const struct ss_schema *s, const char *name)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		if (s->f[i].ref != NULL && strcmp(s->f[i].ref, name) == 0)
			return true;
		if (s->f[i].sub != NULL && schema_refs(s->f[i].sub, name))
			return true;
	}
	return false;
}

static bool
type_refs(const struct ss_type *t, const char *name)
{
	const struct ss_type_ext *x;

	if (schema_refs(&t->schema, name))
		return true;
	for (x = t->ext; x != NULL; x = x->next)
		if (schema_refs(&x->schema, name))
			return true;
	return false;
}

/* Ids in dependency order: Kahn's algorithm; among the ready types the
 * settings singletons first, then registration order (features register
 * in the order pipelines/meson.build lists them). */
static int
order_types(char *err, size_t errlen)
{
	bool done[SS_TYPES_MAX] = { false };
	unsigned k, i, j;

	for (k = 0; k < nreg; k++) {
		unsigned pick = nreg;

		/* the first ready type, singletons (settings) first */
		for (i = 0; i < nreg; i++) {
			bool ready = !done[i];

			for (j = 0; ready && j < nreg; j++)
				if (j != i && !done[j] && type_refs(reg[i], reg[j]->name))
					ready = false;
			if (ready && (pick == nreg || (reg[i]->singleton && !reg[pick]->singleton)))
				pick = i;
		}
		i = pick;
		if (i == nreg) {
			for (i = 0; i < nreg && done[i]; i++)
				;
			snprintf(err, errlen, "type %s: reference cycle between types",
				 reg[i]->name);
			return -EINVAL;
		}
		done[i] = true;
		reg[i]->id = (int)k;
		ss_types[k] = reg[i];
	}
	return 0;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int
seal_type(struct ss_type *t, char *err, size_t errlen)
{
	struct ss_field extra[64];
	const struct ss_type_ext *x;
	unsigned nextra = 0, i, j;
	size_t rec = align8(t->schema.rec_size);
	int rc;

	for (x = t->ext; x != NULL; x = x->next) {
		for (i = 0; i < x->schema.n; i++) {
			const char *fn = x->schema.f[i].name;

			for (j = 0; j < t->schema.n + nextra; j++)
				if (strcmp(j < t->schema.n ? t->schema.f[j].name : extra[j - t->schema.n].name,
					   fn) == 0) {
					snprintf(err, errlen, "type %s: extension %s: field %s already exists",
						 t->name, x->owner ? x->owner : "?", fn);
					return -EINVAL;
				}
			if (x->schema.f[i].flags & SS_FF_KEY || nextra == 64) {
				snprintf(err, errlen, "type %s: extension %s: field %s cannot be added%s",
					 t->name, x->owner ? x->owner : "?", fn,
					 nextra == 64 ? " (too many)" : " as a key");
				return -EINVAL;
			}
			extra[nextra++] = x->schema.f[i];
			/* the raw bulk path knows flat scalar fields and key
			 * references only, and runs no check: a bulk add that
			 * names such a field, or any field of an extension with
			 * a check, takes the general path (an add without them
			 * passes the extension's check as it has none of its
			 * fields) */
			if (x->schema.f[i].ref != NULL || x->schema.f[i].kind >= SS_F_NAMES ||
			    x->schema.f[i].kind == SS_F_REAL ||
			    x->check != NULL) {
				if (t->nb_raw_stop < sizeof(t->raw_stop) / sizeof(t->raw_stop[0]))
					t->raw_stop[t->nb_raw_stop++] = fn;
				else
					t->bulk_raw = false;
			}
		}
		((struct ss_type_ext *)x)->rec_off = rec;
		rec = align8(rec + x->schema.rec_size);
	}
	if (t->schema.n + nextra > 64) {
		snprintf(err, errlen, "type %s: more than 64 fields", t->name);
		return -EINVAL;
	}
	t->decl = t->schema;
	t->rec_size = rec;
	rc = copy_schema(&t->decl, extra, nextra, &t->schema, err, errlen);
	if (rc < 0)
		return rc;
	for (i = 0; i < SS_NODE_IDX; i++)
		t->idx[i] = i < t->nidx ? t->id * SS_NODE_IDX + (int)i : -1;
	if (t->methods & (SS_TM_REPLACE | SS_TM_ADD_CHILDREN)) {
		const struct ss_type *c = t->replace_child ? find_reg(t->replace_child) : NULL;

		if (c == NULL || t->replace_list == NULL || c->schema.n == 0 ||
		    !(c->schema.f[0].flags & SS_FF_KEY) || c->schema.f[0].ref == NULL ||
		    strcmp(c->schema.f[0].ref, t->name) != 0 || t->schema.n == 0 ||
		    !(t->schema.f[0].flags & SS_FF_KEY)) {
			snprintf(err, errlen, "type %s: replace needs replace_list and a registered "
				 "replace_child whose first key field references %s", t->name,
				 t->name);
			return -EINVAL;
		}
	}
	if (t->nidx > SS_NODE_IDX || (t->nidx && (!t->idx_key || !t->idx_conflict))) {
		snprintf(err, errlen, "type %s: at most %d indexes, each with idx_key and "
			 "idx_conflict", t->name, SS_NODE_IDX);
		return -EINVAL;
	}
	return 0;
}

int
ss_types_seal(char *err, size_t errlen)
{
	unsigned i;
	int rc;

	if (sealed)
		return 0;
	if (reg_err[0] != '\0') {
		snprintf(err, errlen, "%s", reg_err);
		return -EINVAL;
	}
	for (i = 0; i < nexts; i++) {
		struct ss_type *t = find_reg(exts[i]->type);
		struct ss_type_ext **p;

		if (t == NULL) {
			snprintf(err, errlen, "extension %s: type %s is not registered",
				 exts[i]->owner ? exts[i]->owner : "?", exts[i]->type);
			return -EINVAL;
		}
		for (p = &t->ext; *p != NULL; p = &(*p)->next)
			;
		exts[i]->next = NULL;
		*p = exts[i];
	}
	rc = order_types(err, errlen);
	for (i = 0; rc == 0 && i < nreg; i++) {
		rc = seal_type(ss_types[i], err, errlen);
		if (rc < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "%s", err);
			if (strncmp(msg, "type ", 5) != 0)
				snprintf(err, errlen, "type %s: %s", ss_types[i]->name, msg);
		}
	}
	if (rc < 0)
		return rc;
	ss_ntypes = (int)nreg;
	sealed = true;
	return 0;
}

unsigned
ss_types_count(void)
{
	return (unsigned)ss_ntypes;
}

const struct ss_type *
ss_type_get(int id)
{
	return id >= 0 && id < ss_ntypes ? ss_types[id] : NULL;
}

const struct ss_type *
ss_type_find(const char *name)
{
	int t = name ? ss_type_by_name(name, strlen(name)) : -1;

	return t >= 0 ? ss_types[t] : NULL;
}

int
ss_type_by_name(const char *name, size_t len)
{
	int t;

	for (t = 0; t < ss_ntypes; t++)
		if (strlen(ss_types[t]->name) == len && memcmp(ss_types[t]->name, name, len) == 0)
			return t;
	return -1;
}

/* ---- schema.get ---------------------------------------------------------------------- */

static const char *const kind_names[SS_F_KIND_COUNT] = {
	[SS_F_NAME] = "name", [SS_F_IP] = "ip", [SS_F_IP4] = "ip4", [SS_F_IP6] = "ip6",
	[SS_F_PREFIX] = "prefix", [SS_F_MAC] = "mac", [SS_F_UINT] = "uint", [SS_F_VLAN] = "vlan",
	[SS_F_BOOL] = "bool", [SS_F_ENUM] = "enum", [SS_F_REAL] = "real", [SS_F_NAMES] = "names",
	[SS_F_PREFIXES] = "prefixes", [SS_F_PORTS] = "ports", [SS_F_PROTOS] = "protocols",
	[SS_F_OBJ] = "object", [SS_F_OBJS] = "objects",
};

static json_t *describe_fields(const struct ss_schema *s);

static json_t *
describe_field(const struct ss_field *f)
{
	json_t *d = json_object();
	bool list = f->kind >= SS_F_NAMES && f->kind != SS_F_OBJ;

	if (d == NULL)
		return NULL;
	json_object_set_new(d, "name", json_string(f->name));
	json_object_set_new(d, "kind", json_string(kind_names[f->kind]));
	json_object_set_new(d, "required", json_boolean(f->flags & (SS_FF_REQ | SS_FF_KEY)));
	json_object_set_new(d, "key", json_boolean(f->flags & SS_FF_KEY));
	if (f->flags & SS_FF_NULL)
		json_object_set_new(d, "nullable", json_true());
	if (f->flags & SS_FF_DFLT) {
		if (f->kind == SS_F_BOOL)
			json_object_set_new(d, "default", json_boolean(f->dflt_i));
		else if (f->kind == SS_F_REAL)
			json_object_set_new(d, "default", json_real(f->dflt_r));
		else if (f->dflt_s != NULL)
			json_object_set_new(d, "default", json_string(f->dflt_s));
		else
			json_object_set_new(d, "default", json_integer((json_int_t)f->dflt_i));
	}
	if (f->kind == SS_F_ENUM) {
		json_t *e = json_array();
		int i;

		for (i = 0; f->enums[i] != NULL; i++)
			json_array_append_new(e, json_string(f->enums[i]));
		json_object_set_new(d, "values", e);
	}
	if (f->kind == SS_F_UINT || f->kind == SS_F_VLAN || f->kind == SS_F_REAL) {
		json_object_set_new(d, "min", json_integer((json_int_t)f->min));
		json_object_set_new(d, "max", json_integer((json_int_t)f->max));
	}
	if (list) {
		if (f->kind == SS_F_OBJS)
			json_object_set_new(d, "min_entries", json_integer((json_int_t)f->min));
		if (f->max)
			json_object_set_new(d, "max_entries", json_integer((json_int_t)f->max));
	}
	if (f->ref != NULL)
		json_object_set_new(d, "ref", json_string(f->ref));
	if (f->sub != NULL)
		json_object_set_new(d, "fields", describe_fields(f->sub));
	return d;
}

static json_t *
describe_fields(const struct ss_schema *s)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; a != NULL && i < s->n; i++)
		json_array_append_new(a, describe_field(&s->f[i]));
	return a;
}

json_t *
ss_types_describe(const uint32_t *limit)
{
	json_t *types = json_array();
	int t;

	for (t = 0; types != NULL && t < ss_ntypes; t++) {
		const struct ss_type *ty = ss_types[t];
		const struct ss_type_ext *x;
		json_t *d = json_object(), *m = json_array(), *fields, *ext = json_array();
		unsigned i, k = ty->decl.n;

		if (ty->singleton) {
			json_array_append_new(m, json_string(ty->methods & SS_TM_SET ? "set" : "config"));
			if (ty->methods & SS_TM_SET)
				json_array_append_new(m, json_string("get"));
		} else {
			json_array_append_new(m, json_string("add"));
			json_array_append_new(m, json_string("delete"));
			json_array_append_new(m, json_string("list"));
			if (ty->methods & SS_TM_GET)
				json_array_append_new(m, json_string("get"));
			if (ty->methods & SS_TM_SET)
				json_array_append_new(m, json_string("set"));
			if (ty->methods & SS_TM_REPLACE)
				json_array_append_new(m, json_string("replace"));
		}
		fields = describe_fields(&ty->schema);
		/* fields an extension added name their owner */
		for (x = ty->ext; x != NULL; x = x->next) {
			for (i = 0; i < x->schema.n; i++, k++)
				json_object_set_new(json_array_get(fields, k), "extension",
						    json_string(x->owner ? x->owner : ""));
			json_array_append_new(ext, json_string(x->owner ? x->owner : ""));
		}
		json_object_set_new(d, "name", json_string(ty->name));
		json_object_set_new(d, "list_key", json_string(ty->list_key));
		json_object_set_new(d, "singleton", json_boolean(ty->singleton));
		if (!ty->singleton && limit[t] != 0)
			json_object_set_new(d, "capacity", json_integer((json_int_t)limit[t]));
		json_object_set_new(d, "methods", m);
		if (ty->filter != NULL)
			json_object_set_new(d, "filter", json_string(ty->filter));
		json_object_set_new(d, "fields", fields);
		if (json_array_size(ext))
			json_object_set_new(d, "extensions", ext);
		else
			json_decref(ext);
		json_array_append_new(types, d);
	}
	return types ? json_pack("{so}", "types", types) : NULL;
}
