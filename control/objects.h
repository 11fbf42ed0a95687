/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control core's view of the object types (types.h): the registry by id
 * and the schema engine (schema.c) that validates, normalises and
 * serialises objects. The types themselves are declared by the features.
 */
#ifndef SS_CTL_OBJECTS_H
#define SS_CTL_OBJECTS_H

#include <jansson.h>

#include "control/err.h"
#include "control/json.h"
#include "control/store-t.h"
#include "control/types.h"
#include "control/validate.h"

/* A reference from an object to another (for existence and in-use). */
struct ss_ref {
	uint8_t type;
	uint8_t is_key;              /* from a key field: the parent reference */
	char key[SS_KEY_MAX];
	char field[128];
};
#define SS_MAX_REFS 32

/* The registry's runtime view (types.c): ss_types[0 .. ss_ntypes - 1] by
 * id, in dependency order once sealed. */
extern struct ss_type *ss_types[SS_TYPES_MAX];
extern int ss_ntypes;
int ss_type_by_name(const char *name, size_t len);
/* schema.get: {"types": [...]} (new reference, NULL on ENOMEM) */
json_t *ss_types_describe(const uint32_t *limit);

/* A scalar value as seen by both the jansson path and the raw bulk path
 * (bulk.c), so that both validate with the same code and messages. */
enum ss_vt { SS_VT_STRING, SS_VT_INT, SS_VT_REAL, SS_VT_BOOL, SS_VT_NULL, SS_VT_OBJECT,
	     SS_VT_ARRAY };
struct ss_scalar {
	enum ss_vt t;
	const char *s;               /* SS_VT_STRING */
	size_t len;
	long long i;                 /* SS_VT_INT */
	double r;                    /* SS_VT_REAL */
	int b;                       /* SS_VT_BOOL */
};

/* Schema engine (schema.c) */
const struct ss_field *ss_schema_field(const struct ss_schema *s, const char *key, size_t klen);
/* Validate the value of a scalar field (NAME..ENUM kinds, BOOL, UINT, VLAN):
 * canon gets the canonical text when it differs (else ""), *drop is set
 * for a vlan 0. 0 or -1 with err. */
int ss_check_scalar(const struct ss_field *f, const struct ss_scalar *v,
		    char canon[SS_PREFIX_STRLEN], int *drop, struct ss_err *err);
enum ss_check_mode { SS_CHECK_FULL, SS_CHECK_KEY };
int ss_schema_check(const struct ss_schema *s, json_t *obj, enum ss_check_mode mode,
		    struct ss_err *err);
void ss_schema_dump(struct ss_buf *b, const struct ss_schema *s, const json_t *obj);
/* The stored form of an object (store-t.h): the array of its field values
 * in schema order, null for absent ones, trailing absent ones left out;
 * nested objects in ss_schema_dump() form. ~40% smaller than named. */
void ss_schema_dump_compact(struct ss_buf *b, const struct ss_schema *s, const json_t *obj);
/* stored form -> the object's text (what state.get and lists show) */
void ss_schema_expand_text(struct ss_buf *b, const struct ss_schema *s, const char *text,
			   size_t len);
/* stored form (parsed) -> the object (new reference, NULL on ENOMEM) */
json_t *ss_schema_expand_json(const struct ss_schema *s, const json_t *values);
/* key fields joined with '/', "" for singletons; -1 if too long */
int ss_schema_key(const struct ss_type *t, const json_t *obj, char *buf, size_t len);
int ss_schema_refs(const struct ss_type *t, const json_t *obj, struct ss_ref *refs, int max);
/* index of the parent reference in refs (first key field with a ref), -1 */
int ss_type_parent(const struct ss_type *t);

#endif /* SS_CTL_OBJECTS_H */
