/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Object types of the store: a declarative schema per type (fields, kinds,
 * ranges, defaults, which fields form the key, which reference other
 * objects) plus a semantic check for what a schema cannot say (address
 * families that must agree, port roles, ...). One file per family:
 * objects_net.c, objects_eni.c, objects_acl.c, objects_rdma.c.
 */
#ifndef SS_CTL_OBJECTS_H
#define SS_CTL_OBJECTS_H

#include <jansson.h>

#include "control/ctl-int.h"
#include "control/validate.h"

enum ss_fkind {
	SS_F_NAME,       /* object name (validate.h) */
	SS_F_IP,         /* address of either family */
	SS_F_IP4,
	SS_F_IP6,
	SS_F_PREFIX,     /* prefix of either family, host bits cleared */
	SS_F_MAC,        /* unicast MAC */
	SS_F_UINT,       /* integer in [min, max] */
	SS_F_VLAN,       /* 1..4094; 0 means untagged: the field is dropped */
	SS_F_BOOL,
	SS_F_ENUM,       /* one of enums[] */
	SS_F_NAMES,      /* list of names, at most max, no duplicates */
	SS_F_PREFIXES,   /* list of prefixes, at most max */
	SS_F_PORTS,      /* list of ports / "a-b" ranges, at most max */
	SS_F_PROTOS,     /* list of protocol numbers 0..255, no duplicates */
	SS_F_OBJ,        /* nested object of schema sub */
	SS_F_OBJS,       /* list of nested objects, min..max entries */
};

#define SS_FF_REQ   0x01     /* required in an add */
#define SS_FF_KEY   0x02     /* part of the object's key (also required) */
#define SS_FF_DFLT  0x04     /* dflt_s / dflt_i is filled in when absent */
#define SS_FF_NULL  0x08     /* may be cleared with null in a set */

#define SS_REF(t) ((t) + 1)

struct ss_schema;

struct ss_field {
	const char *name;
	uint8_t kind;
	uint8_t flags;
	uint8_t ref;                 /* SS_REF(type) for names of objects */
	int64_t min, max;
	const char *const *enums;
	const char *dflt_s;
	int64_t dflt_i;
	const struct ss_schema *sub;
};

struct ss_schema {
	const struct ss_field *f;
	unsigned n;
};

#define SS_SCHEMA(arr) { (arr), sizeof(arr) / sizeof((arr)[0]) }

/* A reference from an object to another (for existence and in-use). */
struct ss_ref {
	uint8_t type;
	uint8_t is_key;              /* from a key field: the parent reference */
	char key[SS_KEY_MAX];
	char field[128];
};
#define SS_MAX_REFS 32

struct ss_type {
	const char *name;            /* method prefix, ss_change.type */
	const char *list_key;        /* result key of <name>.list */
	struct ss_schema schema;
	bool singleton;
	/* bulk adds read from the request text (bulk.c): only for flat types
	 * with scalar fields, no check, no index, and references only in the
	 * first key field (so the key alone gives them) */
	bool bulk_raw;
	int idx[SS_NODE_IDX];        /* enum ss_idx_id or -1 */
	const char *filter;          /* list filter field or NULL */
	/* semantic checks after the schema and reference existence; may read
	 * the store. 0 or -1 with err. */
	int (*check)(struct ss_ctl *ctl, json_t *obj, struct ss_err *err);
	/* secondary index key for idx[which]; 1 when not applicable */
	int (*idx_key)(const json_t *obj, int which, char *buf, size_t len);
};

extern const struct ss_type *const ss_types[SS_T_COUNT];
int ss_type_by_name(const char *name, size_t len);

/* A scalar value as seen by both the jansson path and the raw bulk path
 * (bulk.c), so that both validate with the same code and messages. */
enum ss_vt { SS_VT_STRING, SS_VT_INT, SS_VT_REAL, SS_VT_BOOL, SS_VT_NULL, SS_VT_OBJECT,
	     SS_VT_ARRAY };
struct ss_scalar {
	enum ss_vt t;
	const char *s;               /* SS_VT_STRING */
	size_t len;
	long long i;                 /* SS_VT_INT */
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

/* per-family definitions */
extern const struct ss_type ss_type_switch, ss_type_vip, ss_type_underlay_route,
	ss_type_vnet, ss_type_direction, ss_type_route, ss_type_mapping,
	ss_type_pa_validation;                                  /* objects_net.c */
extern const struct ss_type ss_type_eni, ss_type_inbound_route;   /* objects_eni.c */
extern const struct ss_type ss_type_acl_group, ss_type_acl_rule;  /* objects_acl.c */
extern const struct ss_type ss_type_flow_config, ss_type_rdma_config,
	ss_type_rdma_policy;                                    /* objects_rdma.c */

/* helpers for checks */
int ss_obj_family(const json_t *obj, const char *field);   /* AF_* or 0 */
int ss_check_port(struct ss_ctl *ctl, const char *name, const char *const *roles,
		  const char *field, struct ss_err *err);

#endif /* SS_CTL_OBJECTS_H */
