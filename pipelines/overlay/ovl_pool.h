/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A pool of fixed-size entries that workers read by index, or by pointer:
 * entries live in chunks that never move, so a published index or pointer
 * stays valid until the entry is released and a grace period has passed.
 *
 * Life cycle (control thread): ovl_pool_alloc() in prepare, fill the entry,
 * publish its index/pointer in commit; ovl_pool_release() in prepare for an
 * entry a transaction replaces or deletes; the entry is reused only after
 * reclaim(). An entry is immutable once published: a change is a new entry.
 *
 * dataplane: ro (ovl_pool_get), ctlplane: rw.
 */
#ifndef SS_OVL_POOL_H
#define SS_OVL_POOL_H

#include <stdint.h>

#include "pipelines/overlay/ovl_util.h"

#define OVL_POOL_CHUNK_SHIFT 12
#define OVL_POOL_CHUNK (1u << OVL_POOL_CHUNK_SHIFT)

struct ovl_pool {
	uint8_t **chunks;        /* [max_chunks], rte_zmalloc'd */
	uint32_t esize;
	uint32_t max_chunks;
	struct ovl_ids ids;
};

/* limit: largest number of entries. 0 or -ENOMEM. */
int ovl_pool_init(struct ovl_pool *p, uint32_t esize, uint32_t limit);
void ovl_pool_fini(struct ovl_pool *p);
/* prepare: a zeroed entry. 0, -ENOSPC, -ENOMEM. */
int ovl_pool_alloc(struct ovl_pool *p, uint32_t *idx, void **entry);
int ovl_pool_release(struct ovl_pool *p, uint32_t idx);
void ovl_pool_commit(struct ovl_pool *p);
void ovl_pool_abort(struct ovl_pool *p);
void ovl_pool_reclaim(struct ovl_pool *p);

static inline void *ovl_pool_get(const struct ovl_pool *p, uint32_t idx)
{
	return p->chunks[idx >> OVL_POOL_CHUNK_SHIFT] +
	       (size_t)(idx & (OVL_POOL_CHUNK - 1)) * p->esize;
}

#endif
