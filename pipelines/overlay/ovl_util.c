/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Control-thread building blocks (ovl_util.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "pipelines/overlay/ovl_util.h"

int ovl_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

uint32_t ovl_hash_crc(const void *key, uint32_t len, uint32_t init)
{
	const uint8_t *p = key;
	uint32_t h = init;
	uint64_t w8;
	uint32_t w4;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w8, p, 8);
		h = rte_hash_crc_8byte(w8, h);
	}
	if (len >= 4) {
		memcpy(&w4, p, 4);
		h = rte_hash_crc_4byte(w4, h);
		len -= 4;
		p += 4;
	}
	for (; len > 0; len--, p++)
		h = rte_hash_crc_1byte(*p, h);
	return h;
}

/* ---- ovl_kmap --------------------------------------------------------------
 * Slot layout: [u64 value][u8 used][u8 tag][6 pad][key ...] padded to 8
 * bytes: keys are 8-byte aligned. */

#define SLOT_VAL(s) ((uint64_t *)(s))
#define SLOT_USED(s) ((s)[8])
#define SLOT_TAG(s) ((s)[9])
#define SLOT_KEY(s) ((s) + 16)

void ovl_kmap_init(struct ovl_kmap *m, uint32_t key_len)
{
	memset(m, 0, sizeof(*m));
	m->key_len = key_len;
	m->stride = (uint32_t)RTE_ALIGN_CEIL(16 + key_len, 8);
}

void ovl_kmap_free(struct ovl_kmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->n = 0;
}

void ovl_kmap_clear(struct ovl_kmap *m)
{
	if (m->n == 0)
		return;
	/* a huge map that is emptied goes back to small; others keep their
	 * memory for the next transaction */
	if (m->cap > (1u << 20)) {
		ovl_kmap_free(m);
		return;
	}
	memset(m->slots, 0, (size_t)m->cap * m->stride);
	m->n = 0;
}

static inline uint32_t kmap_hash(const struct ovl_kmap *m, const void *key)
{
	return ovl_hash_crc(key, m->key_len, 0x9e3779b9);
}

static inline uint8_t *kmap_slot(const struct ovl_kmap *m, uint32_t i)
{
	return m->slots + (size_t)i * m->stride;
}

static void kmap_insert_raw(struct ovl_kmap *m, const uint8_t *src)
{
	uint32_t i = kmap_hash(m, SLOT_KEY(src)) & (m->cap - 1);

	while (SLOT_USED(kmap_slot(m, i)))
		i = (i + 1) & (m->cap - 1);
	memcpy(kmap_slot(m, i), src, m->stride);
}

static int kmap_rehash(struct ovl_kmap *m, uint32_t ncap)
{
	struct ovl_kmap old = *m;

	m->slots = calloc(ncap, m->stride);
	if (m->slots == NULL) {
		m->slots = old.slots;
		return -ENOMEM;
	}
	m->cap = ncap;
	for (uint32_t i = 0; i < old.cap; i++) {
		const uint8_t *s = kmap_slot(&old, i);
		if (SLOT_USED(s))
			kmap_insert_raw(m, s);
	}
	free(old.slots);
	return 0;
}

int ovl_kmap_reserve(struct ovl_kmap *m, uint32_t extra)
{
	uint64_t need = (uint64_t)m->n + extra;
	uint32_t ncap = m->cap ? m->cap : 16;

	/* load factor at most 3/4 */
	while ((uint64_t)ncap * 3 < need * 4) {
		if (ncap >= (1u << 31))
			return -ENOMEM;
		ncap *= 2;
	}
	return ncap == m->cap ? 0 : kmap_rehash(m, ncap);
}

static int kmap_find(const struct ovl_kmap *m, const void *key, uint32_t *at)
{
	uint32_t i;

	if (m->cap == 0)
		return 0;
	i = kmap_hash(m, key) & (m->cap - 1);
	for (;;) {
		const uint8_t *s = kmap_slot(m, i);
		if (!SLOT_USED(s))
			return 0;
		if (memcmp(SLOT_KEY(s), key, m->key_len) == 0) {
			*at = i;
			return 1;
		}
		i = (i + 1) & (m->cap - 1);
	}
}

int ovl_kmap_put(struct ovl_kmap *m, const void *key, uint64_t val, uint8_t tag)
{
	uint32_t at;
	uint8_t *s;

	if (kmap_find(m, key, &at)) {
		s = kmap_slot(m, at);
		*SLOT_VAL(s) = val;
		SLOT_TAG(s) = tag;
		return 0;
	}
	if (ovl_kmap_reserve(m, 1) != 0)
		return -ENOMEM;
	at = kmap_hash(m, key) & (m->cap - 1);
	while (SLOT_USED(kmap_slot(m, at)))
		at = (at + 1) & (m->cap - 1);
	s = kmap_slot(m, at);
	*SLOT_VAL(s) = val;
	SLOT_USED(s) = 1;
	SLOT_TAG(s) = tag;
	memcpy(SLOT_KEY(s), key, m->key_len);
	m->n++;
	return 0;
}

int ovl_kmap_get(const struct ovl_kmap *m, const void *key, uint64_t *val, uint8_t *tag)
{
	uint32_t at;

	if (!kmap_find(m, key, &at))
		return 0;
	if (val)
		*val = *SLOT_VAL(kmap_slot(m, at));
	if (tag)
		*tag = SLOT_TAG(kmap_slot(m, at));
	return 1;
}

int ovl_kmap_del(struct ovl_kmap *m, const void *key)
{
	uint32_t i, j, mask;

	if (!kmap_find(m, key, &i))
		return 0;
	mask = m->cap - 1;
	/* backward-shift deletion keeps every probe sequence unbroken */
	j = i;
	for (;;) {
		uint8_t *sj;
		uint32_t home;

		j = (j + 1) & mask;
		sj = kmap_slot(m, j);
		if (!SLOT_USED(sj))
			break;
		home = kmap_hash(m, SLOT_KEY(sj)) & mask;
		/* sj stays when its home lies cyclically in (i, j] */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			memcpy(kmap_slot(m, i), sj, m->stride);
			i = j;
		}
	}
	memset(kmap_slot(m, i), 0, m->stride);
	m->n--;
	return 1;
}

int ovl_kmap_next(const struct ovl_kmap *m, uint32_t *pos, const void **key, uint64_t *val,
		  uint8_t *tag)
{
	for (; *pos < m->cap; (*pos)++) {
		const uint8_t *s = kmap_slot(m, *pos);
		if (!SLOT_USED(s))
			continue;
		if (key)
			*key = SLOT_KEY(s);
		if (val)
			*val = *SLOT_VAL(s);
		if (tag)
			*tag = SLOT_TAG(s);
		(*pos)++;
		return 1;
	}
	return 0;
}

/* ---- ovl_ids --------------------------------------------------------------- */

int ovl_ids_init(struct ovl_ids *ids, uint32_t limit)
{
	memset(ids, 0, sizeof(*ids));
	ids->limit = limit;
	ids->next = 1;
	return 0;
}

void ovl_ids_fini(struct ovl_ids *ids)
{
	free(ids->free);
	free(ids->fresh);
	free(ids->doomed);
	memset(ids, 0, sizeof(*ids));
}

int ovl_ids_alloc(struct ovl_ids *ids, uint32_t *id)
{
	size_t cap = ids->cap_fresh;
	uint32_t v;

	if (ovl_grow((void **)&ids->fresh, &cap, ids->nfresh + 1, sizeof(uint32_t)) != 0)
		return -ENOMEM;
	ids->cap_fresh = (uint32_t)cap;
	if (ids->nfree > 0) {
		v = ids->free[--ids->nfree];
	} else if (ids->next < ids->limit) {
		/* the free stack can hold every index ever handed out, so
		 * giving indices back (abort, reclaim) never allocates */
		cap = ids->cap_free;
		if (ovl_grow((void **)&ids->free, &cap, ids->next, sizeof(uint32_t)) != 0)
			return -ENOMEM;
		ids->cap_free = (uint32_t)cap;
		v = ids->next++;
	} else {
		return -ENOSPC;
	}
	ids->fresh[ids->nfresh++] = v;
	*id = v;
	return 0;
}

int ovl_ids_release(struct ovl_ids *ids, uint32_t id)
{
	size_t cap = ids->cap_doomed;

	if (ovl_grow((void **)&ids->doomed, &cap, ids->ndoomed + 1, sizeof(uint32_t)) != 0)
		return -ENOMEM;
	ids->cap_doomed = (uint32_t)cap;
	ids->doomed[ids->ndoomed++] = id;
	return 0;
}

void ovl_ids_commit(struct ovl_ids *ids)
{
	ids->nfresh = 0;
}

static void ids_push_free(struct ovl_ids *ids, uint32_t v)
{
	ids->free[ids->nfree++] = v;   /* cap_free >= next - 1 >= nfree + 1 */
}

void ovl_ids_undo_last(struct ovl_ids *ids)
{
	if (ids->nfresh > 0)
		ids_push_free(ids, ids->fresh[--ids->nfresh]);
}

void ovl_ids_abort(struct ovl_ids *ids)
{
	while (ids->nfresh > 0)
		ids_push_free(ids, ids->fresh[--ids->nfresh]);
	ids->ndoomed = 0;
}

void ovl_ids_reclaim(struct ovl_ids *ids)
{
	for (uint32_t i = 0; i < ids->ndoomed; i++)
		ids_push_free(ids, ids->doomed[i]);
	ids->ndoomed = 0;
}

uint32_t ovl_ids_in_use(const struct ovl_ids *ids)
{
	return ids->next - 1 - ids->nfree;
}

/* ---- ovl_gc ----------------------------------------------------------------- */

void *ovl_gc_alloc(struct ovl_gc *gc, size_t size)
{
	void *p;

	if (ovl_grow((void **)&gc->fresh, &gc->cap_fresh, gc->nfresh + 1, sizeof(void *)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	p = rte_zmalloc("ss_ovl", size, RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	gc->fresh[gc->nfresh++] = p;
	return p;
}

int ovl_gc_defer(struct ovl_gc *gc, void *p)
{
	if (p == NULL)
		return 0;
	if (ovl_grow((void **)&gc->doomed, &gc->cap_doomed, gc->ndoomed + 1, sizeof(void *)) != 0)
		return -ENOMEM;
	gc->doomed[gc->ndoomed++] = p;
	return 0;
}

int ovl_gc_reserve(struct ovl_gc *gc, size_t extra)
{
	return ovl_grow((void **)&gc->doomed, &gc->cap_doomed, gc->ndoomed + extra, sizeof(void *));
}

void ovl_gc_commit(struct ovl_gc *gc)
{
	gc->nfresh = 0;
}

void ovl_gc_abort(struct ovl_gc *gc)
{
	for (size_t i = 0; i < gc->nfresh; i++)
		rte_free(gc->fresh[i]);
	gc->nfresh = 0;
	gc->ndoomed = 0;
}

void ovl_gc_reclaim(struct ovl_gc *gc)
{
	for (size_t i = 0; i < gc->ndoomed; i++)
		rte_free(gc->doomed[i]);
	gc->ndoomed = 0;
}

void ovl_gc_fini(struct ovl_gc *gc)
{
	ovl_gc_abort(gc);
	free(gc->fresh);
	free(gc->doomed);
	memset(gc, 0, sizeof(*gc));
}
