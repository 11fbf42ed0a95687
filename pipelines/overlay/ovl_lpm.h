/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Longest-prefix match for every routing table of the overlay (underlay
 * routes, outbound route groups), both families, in one structure.
 *
 * Layout
 * ------
 * A route table is a 16-bit `scope` (one per table and family). A rule
 * (scope, prefix/plen) is stored in one rte_lpm6 under the key
 * scope(16 bits) . address, depth 16 + plen: IPv4 keys use 48 bits, IPv6
 * keys 128 bits, so IPv6 rules up to /112 fit; the rare /113../128 IPv6 rules
 * go to an exact-match table keyed (scope, plen, address) that is probed,
 * longest first, only for the lengths present in the scope (a 16-bit mask
 * per scope). One rte_lpm6 (64 MiB of tbl24) serves every table: an LPM per
 * route group would cost 64 MiB each.
 *
 * Concurrency: double buffering
 * -----------------------------
 * DPDK 22.11's rte_lpm6 has no RCU integration: a tbl8 group freed by a
 * delete goes straight back to its pool and the next add may reuse it while
 * a worker is still walking it. So the workers read `live` while the control
 * thread applies a transaction to `shadow`, the other copy:
 *   prepare  the staged rules are applied to the shadow (fallible: a full
 *            table is rebuilt bigger, aside);
 *   commit   one pointer store swaps live and shadow;
 *   reclaim  after the grace period nobody reads the old copy: the same
 *            rules are replayed onto it, so both copies agree again.
 * A transaction's routes therefore appear atomically, all together.
 * abort() only marks the shadow stale; the next prepare rebuilds it from the
 * registry of committed rules.
 *
 * The next hop is 21 bits (rte_lpm6): the caller's entry index.
 */
#ifndef SS_OVL_LPM_H
#define SS_OVL_LPM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_lpm6.h>

#include "pipelines/overlay/ovl_hash.h"
#include "pipelines/overlay/ovl_util.h"

#define OVL_LPM_NH_MAX ((1u << 21) - 1)
#define OVL_LPM_LONG_MIN 113      /* IPv6 rules this long go to the exact table */

/* A rule, also the key of the long-rule table (20 bytes, no padding). */
struct ovl_lpm_rule {
	uint16_t scope;
	uint8_t fam;                /* 4 or 6 */
	uint8_t plen;
	uint8_t addr[16];           /* network order, host bits zero */
};

struct ovl_lpm {
	/* dataplane: ro; ctlplane: rw in commit */
	struct rte_lpm6 *live;      /* NULL until the first rule */
	uint16_t *long_bits;        /* [65536]: bit (plen - 113) set when present */
	struct ovl_hash lng;        /* long IPv6 rules -> next hop */
	/* ctlplane only */
	struct rte_lpm6 *shadow;    /* NULL: to be (re)built */
	bool shadow_stale;          /* content differs from the registry */
	uint32_t tbl8s, max_rules;  /* sizes of the next copy to create */
	uint32_t live_tbl8s, live_rules, shadow_tbl8s, shadow_rules;
	struct ovl_kmap reg;        /* committed short rules -> next hop */
	struct ovl_kmap stage;      /* short rules of the open transaction */
	struct ovl_kmap long_cnt;   /* (scope, plen) -> committed long rules */
	struct ovl_kmap long_delta; /* (scope, plen) -> change by the open txn */
	bool swapped;
	uint32_t gen;
};

int ovl_lpm_init(struct ovl_lpm *l);
void ovl_lpm_fini(struct ovl_lpm *l);

/* Staged view (control thread). get: 1 and *nh when present. */
int ovl_lpm_get(const struct ovl_lpm *l, const struct ovl_lpm_rule *r, uint32_t *nh);
int ovl_lpm_set(struct ovl_lpm *l, const struct ovl_lpm_rule *r, uint32_t nh);
int ovl_lpm_del(struct ovl_lpm *l, const struct ovl_lpm_rule *r);

int ovl_lpm_finalize(struct ovl_lpm *l, char *err, size_t errlen);
void ovl_lpm_commit(struct ovl_lpm *l);
void ovl_lpm_abort(struct ovl_lpm *l);
void ovl_lpm_reclaim(struct ovl_lpm *l);

/* Clear the host bits of r->addr beyond r->plen. */
static inline void ovl_lpm_mask(struct ovl_lpm_rule *r)
{
	unsigned int len = r->fam == 4 ? 4 : 16;

	for (unsigned int i = 0; i < len; i++) {
		int keep = (int)r->plen - (int)(8 * i);
		if (keep <= 0)
			r->addr[i] = 0;
		else if (keep < 8)
			r->addr[i] &= (uint8_t)(0xff << (8 - keep));
	}
	if (r->fam == 4)
		memset(r->addr + 4, 0, 12);
}

/* ---- data plane --------------------------------------------------------- */

/* Longest match for `addr` (4 or 16 bytes, network order) in `scope`. */
static inline int ovl_lpm_lookup(const struct ovl_lpm *l, uint16_t scope, int fam,
				 const uint8_t *addr, uint32_t *nh)
{
	const struct rte_lpm6 *t;
	uint8_t key[16];

	if (fam == 6) {
		uint32_t bits = __atomic_load_n(&l->long_bits[scope], __ATOMIC_RELAXED);
		while (bits) {
			int b = 31 - __builtin_clz(bits);
			struct ovl_lpm_rule r = { .scope = scope, .fam = 6,
						  .plen = (uint8_t)(OVL_LPM_LONG_MIN + b) };
			uint64_t v;

			memcpy(r.addr, addr, 16);
			ovl_lpm_mask(&r);
			if (ovl_hash_lookup(&l->lng, &r, &v)) {
				*nh = (uint32_t)v;
				return 1;
			}
			bits &= ~(1u << b);
		}
	}
	t = __atomic_load_n(&l->live, __ATOMIC_ACQUIRE);
	if (t == NULL)
		return 0;
	key[0] = (uint8_t)(scope >> 8);
	key[1] = (uint8_t)scope;
	if (fam == 4) {
		memcpy(key + 2, addr, 4);
		memset(key + 6, 0, 10);
	} else {
		memcpy(key + 2, addr, 14);
	}
	return rte_lpm6_lookup(t, key, nh) == 0;
}

#endif
