/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Types of the object store (see store.h for the rules).
 */
#ifndef SS_CTL_STORE_T_H
#define SS_CTL_STORE_T_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "control/types.h"

#define SS_KEY_MAX 192

/* Secondary unique indexes: SS_NODE_IDX per type (ss_type.idx[]). */
#define SS_IDX_MAX (SS_TYPES_MAX * SS_NODE_IDX)

/* Intrusive chained hash table entry. */
struct ss_hent {
	struct ss_hent *next;
	const char *key;
	uint32_t hash;
	uint32_t klen;
};

struct ss_hmap {
	struct ss_hent **b;
	uint32_t nb;             /* power of two, or 0 */
	uint32_t n;
};

struct ss_dl {
	struct ss_dl *prev, *next;
};

struct ss_node;

/* An entry of a secondary index, owned by its node. */
struct ss_idx {
	struct ss_hent h;
	struct ss_node *owner;
	uint8_t which;           /* global index id (ss_type.idx[]) */
	char key[];
};

/* What only some nodes need: children (objects whose parent, i.e. first
 * key field with a reference, is this one: vnets, acl groups, ENIs), the
 * secondary index entries (vnets, ENIs) and the materialised value of an
 * object read through ss_ctl_store_get(). Allocated with the node for the
 * first two, on first read otherwise; freed with the node. */
struct ss_node_ext {
	struct ss_dl children;
	struct ss_idx *idx[SS_NODE_IDX];
	json_t *cache;               /* materialised value or NULL (owned) */
};

/* A stored object. Its value is kept as canonical text: the JSON array of
 * its normalised field values in schema order (ss_schema_dump_compact):
 * ~140 bytes for a whole mapping node where a jansson tree takes ~900, and
 * comparison and journaling are memcmp/memcpy. A jansson tree is
 * materialised on demand (ss_ctl_store_get) and cached in the ext. */
struct ss_node {
	struct ss_hent h;            /* in the type's map; h.key == key */
	struct ss_dl sib;            /* in the parent's children list */
	struct ss_node_ext *ext;     /* NULL for most leaves (mappings) */
	uint32_t tlen;               /* stored text: ss_node_text(), after the key */
	uint32_t refs;               /* number of references from other objects */
	uint8_t type;
	char key[];
};

/* Undo log of the open transaction. */
enum ss_log_kind { SS_LOG_LINK, SS_LOG_UNLINK, SS_LOG_REPLACE };
struct ss_log_ent {
	uint8_t kind;
	struct ss_node *node;        /* LINK/UNLINK: the node; REPLACE: the new node */
	struct ss_node *old;         /* REPLACE: the node replaced */
	json_t *obj;                 /* value after (LINK/REPLACE), owned ref */
	json_t *old_obj;             /* value before (UNLINK/REPLACE), owned ref */
};

struct ss_log {
	struct ss_log_ent *v;
	size_t n, cap;
};

/* Node memory: size classes of 32 bytes carved from 4 MiB mmap'ed chunks,
 * with a free list per class. Measured: with nodes in the malloc heap,
 * interleaving millions of long-lived nodes with the short-lived jansson
 * trees of requests made glibc malloc 5x slower (fragmentation). */
#define SS_POOL_CLASS 16
#define SS_POOL_CLASSES 128           /* nodes up to 2 KiB; larger: malloc */
#define SS_POOL_CHUNK (4u << 20)
struct ss_pool {
	void *free[SS_POOL_CLASSES];
	char *cur;
	size_t left;
	void **chunks;
	size_t nchunks;
};

struct ss_store {
	struct ss_pool pool;
	struct ss_node *hot;         /* last node found: bulk adds look their
				      * parent up twice per entry */
	struct ss_hmap map[SS_TYPES_MAX];    /* by type id */
	struct ss_hmap idx[SS_IDX_MAX];
	struct ss_log log;
	/* ss_store_pin(): while a reader holds node pointers across commits
	 * (a streamed state.get), the nodes commits remove wait here, chained
	 * by their h.next, until the last pin goes */
	uint32_t pins;
	struct ss_hent *deferred;
};

static inline char *
ss_node_text(const struct ss_node *n)
{
	return (char *)n->key + n->h.klen + 1;
}

static inline struct ss_idx *
ss_node_idx(const struct ss_node *n, int i)
{
	return n->ext != NULL ? n->ext->idx[i] : NULL;
}

#endif /* SS_CTL_STORE_T_H */
