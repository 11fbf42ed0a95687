/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Per-QP telemetry table: one per worker, bounded, with idle aging done a
 * few buckets at a time by the worker that owns it.
 *
 * Concurrency contract
 * --------------------
 *  - Only the owning worker calls ss_rdma_qpt_find_or_add(), _count(),
 *    _age(). It never blocks and never locks.
 *  - Any other thread may call ss_rdma_qpt_read() at any time. A slot whose
 *    key the worker is rewriting has an odd `seq`; the reader copies the
 *    slot and keeps the copy only when `seq` was even and unchanged around
 *    the copy (a sequence lock where the writer never waits). Counters are
 *    updated outside the sequence section: a copy may be one packet behind
 *    on some counter, never belong to another QP.
 *  - Expired entries (idle longer than qp_idle_timeout_ms) are invisible to
 *    readers and reused by the worker before they are reaped.
 *  - stats.clear bumps a global clear generation; an entry whose clear_gen
 *    is older restarts from zero on its next packet and is invisible until.
 *
 * Layout: buckets of 8 slots, a 32-bit signature per slot (0 = free) in a
 * separate array so a miss touches one cache line of signatures. The hash
 * is CRC32 of the 40-byte key.
 */
#ifndef SS_RDMA_QP_H
#define SS_RDMA_QP_H

#include <stddef.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include "pipelines/rdma/rdma-t.h"
#include "pipelines/rdma/rdma_hdr.h"

/* Bytes needed for a table of `capacity` entries (0 if too large). */
size_t ss_rdma_qpt_memsize(uint32_t capacity);
/* Lay a table out in `mem` (ss_rdma_qpt_memsize bytes, zeroed, cache
 * aligned). */
struct ss_rdma_qpt *ss_rdma_qpt_init(void *mem, uint32_t capacity);

/* CRC32-C of a key's words; without SSE 4.2 at build time, DPDK's
 * (run-time selected) rte_hash_crc: the same values. */
static inline uint32_t qp_crc(uint64_t w, uint32_t h)
{
#if defined(__SSE4_2__)
	return (uint32_t)_mm_crc32_u64(h, w);
#else
	return rte_hash_crc_8byte(w, h);
#endif
}

static inline uint32_t ss_rdma_qp_hash(const struct ss_rdma_qp_key *k)
{
	uint32_t h = 0x5f3759df;

	RTE_BUILD_BUG_ON(sizeof(*k) != 40);
	h = qp_crc(k->w[0], h);
	h = qp_crc(k->w[2], h);
	h = qp_crc(k->w[4], h);
	if (k->family == 6) { /* IPv4 keys are zero there */
		h = qp_crc(k->w[1], h);
		h = qp_crc(k->w[3], h);
	}
	return h;
}

/* Keys made by ss_rdma_qp_key_make: the family is in w[4], and IPv4 keys
 * have zeros in w[1] and w[3]. */
static inline bool ss_rdma_qp_key_eq(const struct ss_rdma_qp_key *a,
				     const struct ss_rdma_qp_key *b)
{
	if (((a->w[0] ^ b->w[0]) | (a->w[2] ^ b->w[2]) | (a->w[4] ^ b->w[4])) != 0)
		return false;
	return b->family == 4 || ((a->w[1] ^ b->w[1]) | (a->w[3] ^ b->w[3])) == 0;
}

/* The key of a RoCE packet from its IP header, built in whole words (no
 * narrow stores read back wide: that stalls store forwarding). */
static inline void ss_rdma_qp_key_make(struct ss_rdma_qp_key *k, const uint8_t *ip, bool v4,
				       uint32_t dqp)
{
	uint64_t fam = v4 ? 4 : 6;

	if (v4) {
		uint32_t s, d;

		memcpy(&s, ip + 12, 4);
		memcpy(&d, ip + 16, 4);
		/* the address bytes first in memory, then zeros */
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
		k->w[0] = s;
		k->w[2] = d;
#else
		k->w[0] = (uint64_t)s << 32;
		k->w[2] = (uint64_t)d << 32;
#endif
		k->w[1] = k->w[3] = 0;
	} else {
		memcpy(&k->w[0], ip + 8, 16);
		memcpy(&k->w[2], ip + 24, 16);
	}
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	k->w[4] = dqp | fam << 32;
#else
	k->w[4] = (uint64_t)dqp << 32 | fam << 24;
#endif
}

/* First slot of the bucket of hash `h`. */
static inline uint32_t ss_rdma_qpt_base(const struct ss_rdma_qpt *t, uint32_t h)
{
	return (h >> 3 & t->mask) * SS_RDMA_QP_WAYS;
}

/* Second step of a lookup, done for a whole burst before the rest: the
 * signatures of the bucket at `base` (prefetched by the caller earlier:
 * &t->sig[base]) give the slot the key of hash `h` probably has; its two
 * hot lines are prefetched and the slot returned (NULL: no slot has the
 * signature). The caller confirms with ss_rdma_qpt_hit() and otherwise
 * calls ss_rdma_qpt_find_or_add(). */
static inline struct ss_rdma_qp_entry *ss_rdma_qpt_candidate(const struct ss_rdma_qpt *t,
							     uint32_t base, uint32_t h)
{
	const uint32_t *s = &t->sig[base];
	uint32_t hits;

	RTE_BUILD_BUG_ON(SS_RDMA_QP_WAYS != 8);
#if defined(__SSE2__)
	{
		__m128i sig = _mm_set1_epi32((int)(h | 1));
		__m128i lo = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)s), sig);
		__m128i hi = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(s + 4)), sig);

		hits = (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
		       (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
	}
#else
	hits = 0;
	for (uint32_t i = 0; i < SS_RDMA_QP_WAYS; i++)
		hits |= (uint32_t)(s[i] == (h | 1)) << i;
#endif
	if (hits == 0)
		return NULL;
	struct ss_rdma_qp_entry *e = &t->e[base + (uint32_t)__builtin_ctz(hits)];

	rte_prefetch0(e);
	rte_prefetch0((const char *)e + RTE_CACHE_LINE_SIZE);
	return e;
}

/* Whether a candidate slot is the live entry of `key` (not expired, of the
 * current clear generation): the worker counts into it directly. */
static inline bool ss_rdma_qpt_hit(const struct ss_rdma_qp_entry *e,
				   const struct ss_rdma_qp_key *key, uint64_t now, uint64_t idle,
				   uint32_t clear_gen)
{
	return ss_rdma_qp_key_eq(&e->key, key) && e->clear_gen == clear_gen &&
	       (int64_t)(now - e->last_tsc) <= (int64_t)idle;
}

static inline void qpt_seq_begin(struct ss_rdma_qp_entry *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void qpt_seq_end(struct ss_rdma_qp_entry *e)
{
	__atomic_store_n(&e->seq, e->seq + 1, __ATOMIC_RELEASE);
}

/* (Re)start an entry for `key`: counters zero, no PSN seen. */
static inline void qpt_entry_reset(struct ss_rdma_qp_entry *e, const struct ss_rdma_qp_key *key,
				   uint64_t now, uint32_t clear_gen)
{
	qpt_seq_begin(e);
	e->key = *key;
	e->used = 1;
	e->psn_valid = 0;
	e->after_read = 0;
	e->last_tsc = now;
	e->pgen = 0;
	e->pidx = SS_RDMA_NO_POLICY;
	e->clear_gen = clear_gen;
	memset(&e->c, 0, sizeof(e->c));
	qpt_seq_end(e);
}

static inline bool qpt_expired(const struct ss_rdma_qp_entry *e, uint64_t now, uint64_t idle)
{
	/* signed: a reader's TSC may be a little behind the worker's */
	return (int64_t)(now - e->last_tsc) > (int64_t)idle;
}

/* The entry of `key`, created if absent. NULL when the bucket has no free
 * or expired slot or the table holds `capacity` entries (counted in
 * insert_failed). An entry found expired or cleared restarts from zero. */
static inline struct ss_rdma_qp_entry *
ss_rdma_qpt_find_or_add(struct ss_rdma_qpt *t, const struct ss_rdma_qp_key *key, uint32_t h,
			uint64_t now, uint64_t idle, uint32_t clear_gen)
{
	uint32_t sig = h | 1;
	uint32_t base = (h >> 3 & t->mask) * SS_RDMA_QP_WAYS;
	const uint32_t *s = &t->sig[base];
	int free_slot = -1, stale_slot = -1;

	for (int i = 0; i < SS_RDMA_QP_WAYS; i++) {
		struct ss_rdma_qp_entry *e;

		if (s[i] == 0) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		e = &t->e[base + i];
		if (s[i] == sig && ss_rdma_qp_key_eq(&e->key, key)) {
			if (unlikely(qpt_expired(e, now, idle) || e->clear_gen != clear_gen))
				qpt_entry_reset(e, key, now, clear_gen);
			return e;
		}
		if (stale_slot < 0 && qpt_expired(e, now, idle))
			stale_slot = i;
	}
	if (stale_slot >= 0) {
		/* reuse an idle QP's slot: count unchanged */
		struct ss_rdma_qp_entry *e = &t->e[base + stale_slot];

		t->sig[base + stale_slot] = sig;
		t->expired++;
		qpt_entry_reset(e, key, now, clear_gen);
		return e;
	}
	if (free_slot < 0 || t->count >= t->capacity) {
		t->insert_failed++;
		return NULL;
	}
	t->sig[base + free_slot] = sig;
	t->count++;
	qpt_entry_reset(&t->e[base + free_slot], key, now, clear_gen);
	return &t->e[base + free_slot];
}

/* Class of a BTH opcode by table (rdma_qp.c): SS_RDMA_OPC_AETH marks the
 * ACKNOWLEDGE opcodes, whose class (ACK or NAK) the AETH syndrome decides.
 * The same answers as ss_rdma_opclass() (unit-tested over every opcode). */
#define SS_RDMA_OPC_AETH 8
extern const uint8_t ss_rdma_opc_tab[256];

static inline enum ss_rdma_opclass ss_rdma_opclass_tab(uint8_t opcode, bool has_aeth,
						       uint8_t syndrome)
{
	uint8_t c = ss_rdma_opc_tab[opcode];

	if (unlikely(c == SS_RDMA_OPC_AETH))
		return has_aeth && ss_aeth_is_nak(syndrome) ? SS_OPC_NAK : SS_OPC_ACK;
	return (enum ss_rdma_opclass)c;
}

_Static_assert(offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_OTHER]) ==
		       offsetof(struct ss_rdma_qp_counters, other) &&
	       offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_SEND]) ==
		       offsetof(struct ss_rdma_qp_counters, send) &&
	       offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_WRITE]) ==
		       offsetof(struct ss_rdma_qp_counters, write) &&
	       offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_READ_REQ]) ==
		       offsetof(struct ss_rdma_qp_counters, read_req) &&
	       offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_READ_RESP]) ==
		       offsetof(struct ss_rdma_qp_counters, read_resp) &&
	       offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_ACK]) ==
		       offsetof(struct ss_rdma_qp_counters, ack) &&
	       offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_NAK]) ==
		       offsetof(struct ss_rdma_qp_counters, nak) &&
	       offsetof(struct ss_rdma_qp_counters, by_class[SS_OPC_CNP]) ==
		       offsetof(struct ss_rdma_qp_counters, cnp),
	       "by_class is indexed by enum ss_rdma_opclass");

/* Account one packet to an entry. */
static inline void ss_rdma_qp_count(struct ss_rdma_qp_entry *e, uint32_t frame_len,
				    enum ss_rdma_opclass cls, uint32_t psn, bool ce, uint64_t now)
{
	struct ss_rdma_qp_counters *c = &e->c;

	e->last_tsc = now;
	c->packets++;
	c->bytes += frame_len;
	c->ecn_ce += ce;
	c->by_class[cls & 7]++;
	/* PSN gaps follow SEND, WRITE, READ_REQ and READ_RESP (1..4) */
	RTE_BUILD_BUG_ON(SS_OPC_SEND != 1 || SS_OPC_WRITE != 2 || SS_OPC_READ_REQ != 3 ||
			 SS_OPC_READ_RESP != 4);
	if ((unsigned int)cls - SS_OPC_SEND > SS_OPC_READ_RESP - SS_OPC_SEND)
		return;
	if (e->psn_valid) {
		int32_t d = ss_psn_diff(e->last_psn, psn);

		/* in sequence: the next PSN; after a READ request any forward
		 * step (the request consumed one PSN per response packet).
		 * Anything else is one discontinuity: a forward jump (loss) or
		 * a backward step (retransmission, duplicate). */
		if (!(d == 1 || (e->after_read && d > 0)))
			c->psn_gaps++;
	}
	e->last_psn = psn;
	e->psn_valid = 1;
	e->after_read = cls == SS_OPC_READ_REQ;
}

/* Reap expired entries in the next `nb_buckets` buckets. */
void ss_rdma_qpt_age(struct ss_rdma_qpt *t, uint64_t now, uint64_t idle, uint32_t nb_buckets);

/* A consistent copy of slot `i` (0 .. nb_buckets * WAYS - 1) into *out.
 * Returns 1 when the slot holds a live QP (used, not expired at `now`, of
 * clear generation `clear_gen`), 0 otherwise. Any thread. */
int ss_rdma_qpt_read(const struct ss_rdma_qpt *t, uint32_t i, uint64_t now, uint64_t idle,
		     uint32_t clear_gen, struct ss_rdma_qp_entry *out);

static inline uint32_t ss_rdma_qpt_slots(const struct ss_rdma_qpt *t)
{
	return t->nb_buckets * SS_RDMA_QP_WAYS;
}

#endif
