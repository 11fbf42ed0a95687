/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Object types: what a feature declares so that the control plane stores,
 * validates, journals, lists and hands over its objects.
 *
 * A feature declares its types in its own folder (e.g.
 * pipelines/acl/acl_types.c) and registers them from a constructor:
 *
 *   struct ss_acl_group_rec {              // the C record the table gets
 *           char name[SS_REC_NAME];
 *           uint8_t family;                // index in families[]
 *   };
 *   static const struct ss_field group_fields[] = {
 *           { .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY,
 *             SS_REC(struct ss_acl_group_rec, name) },
 *           { .name = "family", .kind = SS_F_ENUM, .flags = SS_FF_REQ,
 *             .enums = families, SS_REC(struct ss_acl_group_rec, family) },
 *   };
 *   struct ss_type ss_type_acl_group = {
 *           .name = "acl_group", .list_key = "acl_groups",
 *           .schema = SS_SCHEMA_REC(group_fields, struct ss_acl_group_rec),
 *           .methods = SS_TM_GET,
 *   };
 *   SS_TYPES_INIT(acl_types) { ss_type_register(&ss_type_acl_group); }
 *
 * Field descriptors say, for each field: its kind (and so its JSON syntax
 * and canonical form), whether it is a key, required, defaulted or
 * clearable, its range, enum values, list limits, the type it references
 * BY NAME (existence is checked, deletion of the referenced object is
 * refused while referenced), and where its value goes in the record.
 *
 * Typed hand-over
 * ---------------
 * Before the tables' prepare() the control core decodes every change's new
 * and old object ONCE into the type's record (ss_change.rec / old_rec), so
 * tables never read JSON and never compare type names: they compare
 * ss_change.ty with the handle of the type they consume. Record layouts by
 * kind (the field's SS_REC() says offset and size):
 *   NAME, ENUM-as-text  char[N] (N >= SS_REC_NAME), NUL-terminated
 *   IP, IP4, IP6        struct ss_rec_ip
 *   PREFIX              struct ss_rec_prefix
 *   MAC                 uint8_t[6]
 *   UINT, VLAN          uint8_t / uint16_t / uint32_t / uint64_t (by size)
 *   BOOL                bool
 *   ENUM                its index in enums[], uint8_t / uint16_t / uint32_t
 *   REAL                double
 *   OBJ                 the nested record (schema `sub`, its own offsets)
 *   NAMES, PREFIXES, PORTS, PROTOS, OBJS
 *                       SS_REC_LIST(): inline array of `max` elements plus
 *                       a uint32_t count; or SS_REC_VEC(): a struct
 *                       ss_rec_vec pointing to the elements (long lists:
 *                       ACL rule prefixes)
 *   elements: NAMES char[SS_REC_NAME], PREFIXES struct ss_rec_prefix,
 *   PORTS struct ss_rec_port_range, PROTOS uint8_t, OBJS the sub record.
 * A field without SS_REC() is not decoded. Absent optional fields are
 * zero; a schema with SS_SCHEMA_REC_PRES() also gets a presence bit per
 * field (bit = the field's index in its schema) in a uint64_t of the record.
 *
 * Type extension
 * --------------
 * A feature adds fields to another feature's type with ss_type_extend():
 * the fields are validated, stored, journaled, listed and shown exactly
 * like native ones (they appear after the native fields), and decoded into
 * the extension's own record, found with ss_rec_ext() from the extended
 * type's record in ss_change.rec / old_rec.
 *
 * Threads: registration happens in constructors (before main); everything
 * else on the control thread. The registry is sealed by the first
 * ss_ctl_create(): type ids are assigned then, in dependency order (a type
 * comes after every type it references), which is the order state.get and
 * snapshots emit.
 */
#ifndef SS_CTL_TYPES_H
#define SS_CTL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "control/err.h"

struct ss_ctl;
struct ss_ctl_conf;

/* ---- field kinds and flags ------------------------------------------------- */

enum ss_fkind {
	SS_F_NAME,       /* object name [A-Za-z0-9_.:-]{1,63} */
	SS_F_IP,         /* address of either family */
	SS_F_IP4,
	SS_F_IP6,
	SS_F_PREFIX,     /* prefix of either family, host bits cleared */
	SS_F_MAC,        /* unicast MAC */
	SS_F_UINT,       /* integer in [min, max] */
	SS_F_VLAN,       /* 1..4094; 0 means untagged: the field is dropped */
	SS_F_BOOL,
	SS_F_ENUM,       /* one of enums[] */
	SS_F_REAL,       /* a number (integer or not) in [min, max] (lb.config) */
	SS_F_NAMES,      /* list of names, at most max, no duplicates */
	SS_F_PREFIXES,   /* list of prefixes, at most max */
	SS_F_PORTS,      /* list of ports / "a-b" ranges, at most max */
	SS_F_PROTOS,     /* list of protocol numbers 0..255, no duplicates */
	SS_F_OBJ,        /* nested object of schema sub */
	SS_F_OBJS,       /* list of nested objects, min..max entries */
	SS_F_KIND_COUNT
};

#define SS_FF_REQ   0x01     /* required in an add */
#define SS_FF_KEY   0x02     /* part of the object's key (also required) */
#define SS_FF_DFLT  0x04     /* dflt_s / dflt_i is filled in when absent */
#define SS_FF_NULL  0x08     /* may be cleared with null in a set */

/* ---- records --------------------------------------------------------------- */

#define SS_REC_NAME 64       /* char[] of a name: 63 + NUL */

struct ss_rec_ip {
	uint8_t family;          /* AF_INET, AF_INET6; 0: absent */
	uint8_t bytes[16];       /* network order; IPv4 in bytes[0..3] */
};

struct ss_rec_prefix {
	uint8_t family;          /* AF_INET, AF_INET6; 0: absent */
	uint8_t len;             /* prefix length */
	uint8_t bytes[16];       /* host bits clear */
};

struct ss_rec_port_range {
	uint16_t lo, hi;         /* a single port: lo == hi */
};

/* A long list: n elements at v (owned by the change: valid until the end
 * of the transaction's reclaim(), or of the store read that returned it). */
struct ss_rec_vec {
	uint32_t n;
	const void *v;
};

struct ss_schema;

struct ss_field {
	const char *name;
	uint8_t kind;                /* enum ss_fkind */
	uint8_t flags;               /* SS_FF_* */
	const char *ref;             /* name of the referenced type, or NULL */
	int64_t min, max;            /* UINT/VLAN range; list max (and OBJS min) */
	const char *const *enums;    /* ENUM: NULL-terminated values */
	const char *dflt_s;          /* SS_FF_DFLT: default of ENUM/string kinds */
	int64_t dflt_i;              /* SS_FF_DFLT: default of UINT/BOOL */
	double dflt_r;               /* SS_FF_DFLT: default of REAL */
	const struct ss_schema *sub; /* OBJ/OBJS */
	/* typed hand-over: where the value goes in the record (SS_REC*) */
	uint16_t off;                /* offset in the record */
	uint16_t size;               /* bytes at off; 0: not decoded */
	uint16_t cnt_off;            /* SS_REC_LIST: offset of the uint32_t count;
				      * SS_REC_VEC: SS_REC_VEC_MARK */
	/* set by the registry (runtime copies only): the referenced type's
	 * id + 1, 0 for none */
	uint8_t ref_id;
};

#define SS_REC(rtype, member) \
	.off = offsetof(rtype, member), .size = sizeof(((rtype *)0)->member)
/* inline list: member is an array of `max` elements, count a uint32_t */
#define SS_REC_LIST(rtype, member, count) \
	SS_REC(rtype, member), .cnt_off = offsetof(rtype, count)
/* long list: member is a struct ss_rec_vec */
#define SS_REC_VEC_MARK 0xffff
#define SS_REC_VEC(rtype, member) SS_REC(rtype, member), .cnt_off = SS_REC_VEC_MARK

struct ss_schema {
	const struct ss_field *f;
	unsigned n;
	uint16_t rec_size;           /* size of the record; 0: none */
	int16_t pres_off;            /* offset of the uint64_t presence bits, -1 */
};

#define SS_SCHEMA(arr) { (arr), sizeof(arr) / sizeof((arr)[0]), 0, -1 }
#define SS_SCHEMA_REC(arr, rtype) \
	{ (arr), sizeof(arr) / sizeof((arr)[0]), sizeof(rtype), -1 }
#define SS_SCHEMA_REC_PRES(arr, rtype, pres) \
	{ (arr), sizeof(arr) / sizeof((arr)[0]), sizeof(rtype), offsetof(rtype, pres) }

/* Is field number i of a SS_SCHEMA_REC_PRES() schema present in rec? */
static inline bool
ss_rec_has(const void *rec, const struct ss_schema *s, unsigned i)
{
	uint64_t pres;

	if (s->pres_off < 0)
		return false;
	memcpy(&pres, (const char *)rec + s->pres_off, sizeof(pres));
	return (pres >> i) & 1;
}

/* ---- types ----------------------------------------------------------------- */

#define SS_TYPES_MAX 32          /* registered types, extensions included */
#define SS_NODE_IDX 2            /* secondary unique indexes per type */

/* methods a type has besides .add/.delete/.list (singletons: the method
 * named like the type sets it, unless SS_TM_SET: then .set and .get) */
#define SS_TM_GET 0x1            /* <type>.get {name} (singletons: {}) */
#define SS_TM_SET 0x2            /* <type>.set: change some fields */
#define SS_TM_REPLACE 0x4        /* <type>.replace: the object and its whole
				  * set of children (replace_child/_list) */
#define SS_TM_ADD_CHILDREN 0x8   /* <type>.add takes its children too: with
				  * replace_list given, the object and exactly
				  * those children (replace_child), as replace
				  * creates them (lb.add {..., backends}) */

struct ss_type_ext;

struct ss_type {
	/* ---- declared by the feature ---- */
	const char *name;            /* method prefix, ss_change.type */
	const char *list_key;        /* result key of <name>.list */
	struct ss_schema schema;     /* the feature's fields (and its record) */
	bool singleton;              /* one object, key "" (switch, *.config) */
	unsigned methods;            /* SS_TM_* */
	/* bulk adds read from the request text: only for flat types with
	 * scalar fields, no check, no index, and references only in the first
	 * key field (so the key alone gives them) */
	bool bulk_raw;
	/* fields of extensions the raw path cannot handle (a reference, a
	 * list, or an extension check): a bulk add naming one of them goes
	 * the general path (bulk.c stops at the first entry naming one);
	 * set when sealed */
	const char *raw_stop[16];
	unsigned nb_raw_stop;
	const char *filter;          /* <name>.list filter field or NULL */
	/* SS_TM_REPLACE: the child type (its first key field references this
	 * type) and the params list holding the new children */
	const char *replace_child;
	const char *replace_list;
	/* semantic checks after the schema and reference existence; may read
	 * the store (ss_ctl_store_get). obj is normalised, defaults filled in.
	 * 0 or -1 with err. */
	int (*check)(struct ss_ctl *ctl, json_t *obj, struct ss_err *err);
	/* secondary unique indexes: nidx of them; idx_key() writes the key of
	 * index `which` for obj (0) or returns 1 when obj has none;
	 * idx_conflict() fills err (1002, naming the field) when another
	 * object `owner` has the same key. */
	/* settings singletons that always exist (flow.config, rdma.config):
	 * their value before any set, from the daemon's config (new
	 * reference; NULL: out of memory). Settings equal to it are not part
	 * of state.get. */
	json_t *(*defaults)(const struct ss_ctl_conf *conf);
	/* capacity when the config's `tables` section has no key for the type
	 * (control/limits.h lists those that have one); 0: unbounded */
	uint32_t capacity;
	unsigned nidx;
	int (*idx_key)(const json_t *obj, int which, char *buf, size_t len);
	int (*idx_conflict)(const json_t *obj, int which, const char *key, const char *owner,
			    struct ss_err *err);

	/* ---- set by the registry ---- */
	int id;                      /* dense id, dependency order; -1 before */
	int idx[SS_NODE_IDX];        /* global index ids, -1 for none */
	struct ss_schema decl;       /* schema as declared (records) */
	struct ss_type_ext *ext;     /* extensions, in registration order */
	size_t rec_size;             /* record incl. extensions */
};

/* Fields added to another feature's type. */
struct ss_type_ext {
	const char *type;            /* the extended type's name */
	const char *owner;           /* the feature adding them (schema.get) */
	struct ss_schema schema;     /* the added fields, offsets in the
				      * extension's own record */
	/* checked after the extended type's check; same contract */
	int (*check)(struct ss_ctl *ctl, json_t *obj, struct ss_err *err);
	/* set by the registry */
	size_t rec_off;              /* the extension record in the type's */
	struct ss_type_ext *next;
};

/* Register a type / an extension (constructors: SS_TYPES_INIT). Errors
 * (duplicate name, SS_TYPES_MAX reached, unknown extended type, a field
 * name taken) are kept and make ss_ctl_create() fail with EINVAL and a
 * message naming the type and the reason. */
void ss_type_register(struct ss_type *t);
void ss_type_extend(struct ss_type_ext *x);

#define SS_TYPES_INIT(fn) \
	static void __attribute__((constructor(200), used)) fn(void)

/* Seal the registry: resolve references, assign ids in dependency order,
 * lay out records. Idempotent. 0, or -EINVAL with a message in err. */
int ss_types_seal(char *err, size_t errlen);

/* Registered types by id (0 .. ss_types_count() - 1) and by name. */
unsigned ss_types_count(void);
const struct ss_type *ss_type_get(int id);
const struct ss_type *ss_type_find(const char *name);

/* The extension's record inside a record of the type it extends. */
static inline const void *
ss_rec_ext(const struct ss_type_ext *x, const void *rec)
{
	return rec != NULL ? (const char *)rec + x->rec_off : NULL;
}

/* ---- helpers for checks ------------------------------------------------------ */

/* AF_INET / AF_INET6 of an address or prefix field of obj, 0 if absent. */
int ss_obj_family(const json_t *obj, const char *field);
/* Is `name` a port of the config with one of `roles` (NULL: any)? 0, or -1
 * with err naming `field` (1001 unknown port, -32602 wrong role). */
int ss_check_port(struct ss_ctl *ctl, const char *name, const char *const *roles,
		  const char *field, struct ss_err *err);

#endif /* SS_CTL_TYPES_H */
