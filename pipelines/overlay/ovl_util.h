/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Control-thread building blocks of the overlay tables. Nothing here is
 * read by a worker; everything runs on the control thread only.
 *
 *   ovl_kmap   open-addressing map from a fixed-length byte key to a 64-bit
 *              value (linear probing, backward-shift deletion). The staging
 *              area of every table and the LPM rule registry.
 *   ovl_ids    index allocator whose frees take effect only after the RCU
 *              grace period: alloc() in prepare (returned by abort()),
 *              release() schedules the index for reclaim().
 *   ovl_gc     the same life cycle for memory blocks (rte_free).
 *
 * The transaction rules of control/ctl.h apply to all of them: anything that
 * can fail happens in prepare (alloc, reserve); commit only uses capacity
 * reserved before; reclaim runs after rcu_synchronize.
 */
#ifndef SS_OVL_UTIL_H
#define SS_OVL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC32C of a key of any alignment (the hash function of every table). */
uint32_t ovl_hash_crc(const void *key, uint32_t len, uint32_t init);

/* ---- ovl_kmap ----------------------------------------------------------- */

#define OVL_KMAP_KEY_MAX 64

struct ovl_kmap {
	uint8_t *slots;      /* cap * stride bytes */
	uint32_t cap;        /* power of two, 0 when empty */
	uint32_t n;
	uint32_t key_len;
	uint32_t stride;     /* 8 (value) + 8 (used, tag) + key, 8-aligned */
};

void ovl_kmap_init(struct ovl_kmap *m, uint32_t key_len);
void ovl_kmap_free(struct ovl_kmap *m);
void ovl_kmap_clear(struct ovl_kmap *m);
/* Make room for `extra` more keys without reallocating. 0 or -ENOMEM. */
int ovl_kmap_reserve(struct ovl_kmap *m, uint32_t extra);
/* Insert or replace; may grow (0 or -ENOMEM). `tag` is a caller byte kept
 * with the value. */
int ovl_kmap_put(struct ovl_kmap *m, const void *key, uint64_t val, uint8_t tag);
/* 1 and *val, *tag when present, 0 otherwise (val/tag may be NULL). */
int ovl_kmap_get(const struct ovl_kmap *m, const void *key, uint64_t *val, uint8_t *tag);
/* 1 when removed, 0 when absent. Never fails. */
int ovl_kmap_del(struct ovl_kmap *m, const void *key);
/* Iterate: *pos starts at 0; returns 1 with key/val/tag, 0 at the end. */
int ovl_kmap_next(const struct ovl_kmap *m, uint32_t *pos, const void **key, uint64_t *val,
		  uint8_t *tag);

/* ---- ovl_ids -------------------------------------------------------------- */

struct ovl_ids {
	uint32_t limit;      /* indices are 1..limit-1 (0 is reserved: "none") */
	uint32_t next;       /* never-used watermark */
	uint32_t *free;      /* stack of reusable indices */
	uint32_t nfree, cap_free;
	uint32_t *fresh;     /* allocated by the open transaction */
	uint32_t nfresh, cap_fresh;
	uint32_t *doomed;    /* released by the open transaction */
	uint32_t ndoomed, cap_doomed;
};

int ovl_ids_init(struct ovl_ids *ids, uint32_t limit);
void ovl_ids_fini(struct ovl_ids *ids);
/* prepare: 0 and *id, -ENOSPC when all limit-1 are in use, -ENOMEM. */
int ovl_ids_alloc(struct ovl_ids *ids, uint32_t *id);
/* prepare: give back the index the last alloc() returned. */
void ovl_ids_undo_last(struct ovl_ids *ids);
/* prepare: the index becomes free after this transaction's grace period. */
int ovl_ids_release(struct ovl_ids *ids, uint32_t id);
void ovl_ids_commit(struct ovl_ids *ids);   /* fresh ones become permanent */
void ovl_ids_abort(struct ovl_ids *ids);    /* fresh ones back, releases dropped */
void ovl_ids_reclaim(struct ovl_ids *ids);  /* releases take effect */
uint32_t ovl_ids_in_use(const struct ovl_ids *ids);

/* ---- ovl_gc --------------------------------------------------------------- */

struct ovl_gc {
	void **fresh;
	size_t nfresh, cap_fresh;
	void **doomed;
	size_t ndoomed, cap_doomed;
};

/* rte_zmalloc a block that is freed again if the transaction aborts. NULL
 * and errno on failure. */
void *ovl_gc_alloc(struct ovl_gc *gc, size_t size);
/* Free `p` after the grace period (or never, if the transaction aborts).
 * NULL is ignored. 0 or -ENOMEM. */
int ovl_gc_defer(struct ovl_gc *gc, void *p);
/* Make room for `extra` more ovl_gc_defer() calls that cannot fail. */
int ovl_gc_reserve(struct ovl_gc *gc, size_t extra);
void ovl_gc_commit(struct ovl_gc *gc);
void ovl_gc_abort(struct ovl_gc *gc);
void ovl_gc_reclaim(struct ovl_gc *gc);
void ovl_gc_fini(struct ovl_gc *gc);

/* Grow a malloc'd array to hold at least `need` elements. 0 or -ENOMEM. */
int ovl_grow(void **arr, size_t *cap, size_t need, size_t elem);

#endif
