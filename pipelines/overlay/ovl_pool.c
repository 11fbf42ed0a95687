/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Chunked entry pool (ovl_pool.h).
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "pipelines/overlay/ovl_pool.h"

int ovl_pool_init(struct ovl_pool *p, uint32_t esize, uint32_t limit)
{
	memset(p, 0, sizeof(*p));
	p->esize = (uint32_t)RTE_ALIGN_CEIL(esize, 8);
	/* index 0 is "none": one more than the limit */
	p->max_chunks = (uint32_t)(((uint64_t)limit + 1 + OVL_POOL_CHUNK - 1) / OVL_POOL_CHUNK);
	p->chunks = rte_zmalloc("ss_ovl_pool", (size_t)p->max_chunks * sizeof(uint8_t *),
				RTE_CACHE_LINE_SIZE);
	if (p->chunks == NULL)
		return -ENOMEM;
	return ovl_ids_init(&p->ids, limit + 1);
}

void ovl_pool_fini(struct ovl_pool *p)
{
	if (p->chunks) {
		for (uint32_t i = 0; i < p->max_chunks; i++)
			rte_free(p->chunks[i]);
		rte_free(p->chunks);
	}
	ovl_ids_fini(&p->ids);
	memset(p, 0, sizeof(*p));
}

int ovl_pool_alloc(struct ovl_pool *p, uint32_t *idx, void **entry)
{
	uint32_t id, c;
	int rc = ovl_ids_alloc(&p->ids, &id);

	if (rc != 0)
		return rc;
	c = id >> OVL_POOL_CHUNK_SHIFT;
	if (p->chunks[c] == NULL) {
		/* chunks are never freed before fini: a reader may hold any
		 * pointer into them; publishing the chunk pointer before an
		 * index into it is enough (the index is published later, with
		 * release semantics) */
		uint8_t *ch = rte_zmalloc("ss_ovl_chunk", (size_t)OVL_POOL_CHUNK * p->esize,
					  RTE_CACHE_LINE_SIZE);
		if (ch == NULL) {
			ovl_ids_undo_last(&p->ids);
			return -ENOMEM;
		}
		__atomic_store_n(&p->chunks[c], ch, __ATOMIC_RELEASE);
	}
	*idx = id;
	*entry = ovl_pool_get(p, id);
	memset(*entry, 0, p->esize);
	return 0;
}

int ovl_pool_release(struct ovl_pool *p, uint32_t idx)
{
	return ovl_ids_release(&p->ids, idx);
}

void ovl_pool_commit(struct ovl_pool *p)
{
	ovl_ids_commit(&p->ids);
}

void ovl_pool_abort(struct ovl_pool *p)
{
	ovl_ids_abort(&p->ids);
}

void ovl_pool_reclaim(struct ovl_pool *p)
{
	ovl_ids_reclaim(&p->ids);
}
