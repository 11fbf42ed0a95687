/* SPDX-License-Identifier: BSD-3-Clause
 *
 * An exact-match table read lock-free by the workers and written by the
 * control thread in transactions: an rte_hash created with
 * RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
 * plus a staging map.
 *
 * Concurrency rules
 * -----------------
 *  - Workers call ovl_hash_lookup*() only. They may hold the value they got
 *    until their next quiescent state (the end of the graph walk).
 *  - prepare: ovl_hash_get/set/del only touch the staging map (a set or a
 *    delete is visible to later get() calls of the same transaction, never
 *    to a worker). ovl_hash_finalize() then checks that the live table can
 *    take every staged key; if not it builds a bigger table aside (a full
 *    copy: amortised by doubling), which is the only fallible step.
 *  - commit: either one pointer store (the grown table), or the staged keys
 *    applied to the live table: an rte_hash_add_key_data() that cannot fail
 *    (capacity was checked, and the extendable buckets guarantee that every
 *    one of `cap` keys fits) and rte_hash_del_key(). Each key changes
 *    atomically for readers (the LF mode stores the data pointer with
 *    release semantics); the keys of one transaction appear one by one.
 *  - reclaim (after the grace period): key slots of deleted keys are freed
 *    (rte_hash_free_key_with_position: the LF mode never reuses a slot on
 *    delete), and a replaced table is freed.
 *
 * Values are 64-bit: an index, a count, or a pointer to an immutable entry.
 */
#ifndef SS_OVL_HASH_H
#define SS_OVL_HASH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>

#include "pipelines/overlay/ovl_util.h"

struct ovl_hash {
	struct rte_hash *live;       /* dataplane: ro (acquire); ctlplane: rw in commit */
	/* ctlplane only */
	char name[16];
	uint32_t key_len;
	uint32_t cap;                /* keys the live table is guaranteed to take */
	uint32_t count;              /* keys in the live table */
	uint32_t gen;                /* for unique rte_hash names */
	struct ovl_kmap stage;       /* key -> value (tag SET) or deletion (tag DEL) */
	struct rte_hash *next;       /* grown table built by finalize() */
	uint32_t next_cap, next_count, count_after;
	struct rte_hash *old;        /* replaced table, freed by reclaim() */
	int32_t *freepos;            /* deleted key slots, freed by reclaim() */
	size_t nfree, cap_free;
};

/* 0 or -ENOMEM (rte_hash_create failed). */
int ovl_hash_init(struct ovl_hash *h, const char *name, uint32_t key_len, uint32_t cap);
void ovl_hash_fini(struct ovl_hash *h);

/* Staged view (control thread). get: 1 and *val when present; *staged (may
 * be NULL) tells whether the value was set by the open transaction. */
int ovl_hash_get(const struct ovl_hash *h, const void *key, uint64_t *val, bool *staged);
int ovl_hash_set(struct ovl_hash *h, const void *key, uint64_t val);
/* The same for a key the caller just found absent (ovl_hash_get() 0 with
 * *staged false): finalize() counts it as an add without a lookup. */
int ovl_hash_set_new(struct ovl_hash *h, const void *key, uint64_t val);
int ovl_hash_del(struct ovl_hash *h, const void *key);
bool ovl_hash_dirty(const struct ovl_hash *h);
/* Iterate the staged changes: 1 with key/value/deleted, 0 at the end. */
int ovl_hash_staged_next(const struct ovl_hash *h, uint32_t *pos, const void **key,
			 uint64_t *val, bool *deleted);
/* Iterate the live table (control thread): 1 with key/value, 0 at the end. */
int ovl_hash_live_next(const struct ovl_hash *h, uint32_t *pos, const void **key,
		       uint64_t *val);

int ovl_hash_finalize(struct ovl_hash *h);   /* end of prepare: 0, -ENOMEM */
void ovl_hash_commit(struct ovl_hash *h);
void ovl_hash_abort(struct ovl_hash *h);
void ovl_hash_reclaim(struct ovl_hash *h);

/* ---- data plane --------------------------------------------------------- */

static inline int ovl_hash_lookup(const struct ovl_hash *h, const void *key, uint64_t *val)
{
	const struct rte_hash *t = __atomic_load_n(&h->live, __ATOMIC_ACQUIRE);
	void *d;

	if (rte_hash_lookup_data(t, key, &d) < 0)
		return 0;
	*val = (uint64_t)(uintptr_t)d;
	return 1;
}

/* n <= RTE_HASH_LOOKUP_BULK_MAX. Returns the hit mask. */
static inline uint64_t ovl_hash_lookup_bulk(const struct ovl_hash *h, const void **keys,
					    uint32_t n, uint64_t *vals)
{
	const struct rte_hash *t = __atomic_load_n(&h->live, __ATOMIC_ACQUIRE);
	uint64_t hits = 0;

	rte_hash_lookup_bulk_data(t, keys, n, &hits, (void **)vals);
	return hits;
}

/* Look up n keys laid out `stride` bytes apart, in bulk (the buckets and
 * keys of up to 64 lookups are fetched in parallel; a single key by the
 * single lookup, which has less set-up). vals[i] = the value, or 0 when
 * absent: no table stores 0 (indices start at 1, counts at 1, pointers are
 * not NULL). */
static inline void ovl_hash_lookup_n(const struct ovl_hash *h, const void *keys, size_t stride,
				     uint32_t n, uint64_t *vals)
{
	const struct rte_hash *t = __atomic_load_n(&h->live, __ATOMIC_ACQUIRE);
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];

	if (n == 1) {
		void *d;

		vals[0] = rte_hash_lookup_data(t, keys, &d) < 0 ? 0 : (uint64_t)(uintptr_t)d;
		return;
	}
	for (uint32_t base = 0; base < n; base += RTE_HASH_LOOKUP_BULK_MAX) {
		uint32_t m = n - base < RTE_HASH_LOOKUP_BULK_MAX ? n - base : RTE_HASH_LOOKUP_BULK_MAX;
		uint64_t hits = 0;

		for (uint32_t j = 0; j < m; j++)
			kp[j] = (const uint8_t *)keys + (base + j) * stride;
		rte_hash_lookup_bulk_data(t, kp, m, &hits, (void **)&vals[base]);
		for (uint32_t j = 0; j < m; j++)
			if (!((hits >> j) & 1))
				vals[base + j] = 0;
	}
}

#endif
