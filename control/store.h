/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The object store: one hash table per type of nodes holding canonical JSON
 * text, secondary unique indexes, reference counts and parent/children
 * lists, and the undo log that makes every change of a transaction
 * reversible.
 *
 * Rules
 * -----
 * - Forward operations (link, unlink, replace) may fail, with -ENOMEM only,
 *   and then change nothing. Everything they could need to allocate (log
 *   slot, hash buckets) is reserved before the first pointer moves.
 * - Rollback never allocates and cannot fail: it relinks the very nodes the
 *   transaction unlinked (they stay allocated, owned by the log, until the
 *   transaction ends) and unlinks/frees the ones it linked.
 * - A node's refs counts the references other objects hold to it; an object
 *   is deletable only at refs == 0. References are derived from the schema
 *   (fields with a ref) of the referring object's value, so link and unlink
 *   adjust them symmetrically.
 */
#ifndef SS_CTL_STORE_H
#define SS_CTL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "control/objects.h"
#include "control/store-t.h"

uint32_t ss_hash(const char *s, size_t n);
int ss_hmap_reserve(struct ss_hmap *m, uint32_t n);
struct ss_hent *ss_hmap_find(const struct ss_hmap *m, const char *key, size_t klen,
			     uint32_t hash);
void ss_hmap_free(struct ss_hmap *m);

void ss_store_init(struct ss_store *s);
/* Free everything (no log may be open). */
void ss_store_fini(struct ss_store *s);

struct ss_node *ss_store_find(struct ss_store *s, int type, const char *key, size_t klen);
/* The same with the hash known, and the hash computed while the bucket is
 * fetched into the cache (bulk adds overlap that miss with other work). */
struct ss_node *ss_store_find_hash(struct ss_store *s, int type, const char *key, size_t klen,
				   uint32_t hash);
uint32_t ss_store_prefetch(struct ss_store *s, int type, const char *key, size_t klen);
/* Owner of an index key, or NULL. */
struct ss_node *ss_store_idx_find(struct ss_store *s, int idx, const char *key);

/* A node for `obj` of type `type` under `key`: text is the canonical JSON
 * (ss_schema_dump), index entries computed from obj. NULL on ENOMEM. */
struct ss_node *ss_node_new(struct ss_store *s, int type, const char *key, size_t klen,
			    const char *text, size_t tlen, const json_t *obj);
void ss_node_free(struct ss_store *s, struct ss_node *n);
/* The node's value, materialised and cached on the node (borrowed). */
const json_t *ss_node_obj(struct ss_node *n);
/* A new reference to the node's value (cached one if any). */
json_t *ss_node_value(struct ss_node *n);

/* Forward operations recorded in the undo log. The log takes a reference
 * on obj / old_obj. */
int ss_store_link(struct ss_store *s, struct ss_node *n, json_t *obj);
int ss_store_unlink(struct ss_store *s, struct ss_node *n, json_t *old_obj);
int ss_store_replace(struct ss_store *s, struct ss_node *old, struct ss_node *n,
		     json_t *old_obj, json_t *obj);

/* Undo the whole log (infallible), then release it. */
void ss_store_rollback(struct ss_store *s);
/* Keep the changes: free the nodes they removed, release the log. */
void ss_store_release(struct ss_store *s);

/* Pins: a node is never changed once linked (a change replaces it), so a
 * reader that collected node pointers (ss_store_nodes) sees a consistent
 * state as long as none is freed. While the store is pinned, the nodes
 * commits remove (ss_store_release) stay allocated; the last unpin frees
 * them. What a pin costs is the nodes removed while it is held. */
void ss_store_pin(struct ss_store *s);
void ss_store_unpin(struct ss_store *s);

/* Nodes of a type, sorted by key when `sorted`. *out is malloc'd. */
int ss_store_nodes(struct ss_store *s, int type, bool sorted, struct ss_node ***out,
		   size_t *n);

void ss_nodes_sort(struct ss_node **v, size_t n);

#define ss_dl_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif /* SS_CTL_STORE_H */
