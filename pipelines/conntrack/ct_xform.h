/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The flow-cached outbound transform (SPEC 3.6 design note; docs/conntrack.md
 * "Flow cache"). Every flow position of the table has one slot, for the
 * side of the flow that leaves its ENI outbound: what vxlan_encap built for
 * that flow (the outer Ethernet + IP + UDP + VXLAN headers, the egress port,
 * the inner destination MAC, the DSCP mode; for the route action `direct`,
 * the routed frame's Ethernet header and the egress port), stamped with
 *   - gen:   the overlay generation (ss_ovl_gen) the worker read before it
 *            looked anything up for the packet the slot was built from;
 *   - owner: the flow's incarnation (ss_ct_entry.seq) and side, so a slot
 *            left by an earlier flow at the same position, or by the other
 *            side, is never taken for this one.
 * A slot is valid for a packet when its generation is the current one and
 * its owner is the packet's flow and side.
 *
 * Concurrency: a seqlock. `seq` is odd while a writer fills the slot; a
 * writer claims it with a compare-and-swap from an even value and gives up
 * when it loses (another worker is filling it with the same result); readers
 * copy the slot and re-check `seq`. Workers only, no allocation.
 */
#ifndef SS_CT_XFORM_H
#define SS_CT_XFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>

#define SS_CT_XF_HDR_MAX 72   /* Ethernet 14 + IPv6 40 + UDP 8 + VXLAN 8 = 70 */

struct ss_ct_xform {
	uint32_t seq;        /* seqlock: odd while written */
	uint32_t gen;        /* overlay generation the transform was resolved at */
	uint32_t owner;      /* ss_ct_xform_owner() of the flow side */
	uint32_t base;       /* IPv4: sum of the constant header words; IPv6: flow label */
	uint16_t port;       /* egress port (sswitch index) */
	uint8_t valid;       /* 1: the fields below describe a transform */
	uint8_t v4;          /* outer IPv4 (else IPv6) */
	uint8_t hlen;        /* bytes of hdr */
	uint8_t dscp;        /* outer DSCP, or SS_OVL_DSCP_COPY */
	uint8_t set_mac;     /* rewrite the inner destination MAC to mac */
	uint8_t direct;      /* route action `direct`: hdr is the Ethernet header of the
			      * routed frame (TTL decremented per packet), no VXLAN */
	uint8_t mac[6];
	uint8_t pad2[2];
	uint8_t hdr[SS_CT_XF_HDR_MAX]; /* the outer headers as vxlan_encap built them */
} __rte_cache_aligned;

static inline uint32_t ss_ct_xform_owner(uint32_t flow_seq, uint8_t side)
{
	return flow_seq << 1 | (side & 1);
}

/* A consistent copy of the slot into *out; false while it is being written
 * or when it changed during the copy. */
static inline bool ss_ct_xform_read(const struct ss_ct_xform *x, struct ss_ct_xform *out)
{
	uint32_t s = __atomic_load_n(&x->seq, __ATOMIC_ACQUIRE);

	if (s & 1)
		return false;
	memcpy(out, x, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&x->seq, __ATOMIC_RELAXED) == s;
}

/* Whether the slot holds a transform for (gen, owner), without copying it
 * (a hint: the copy of ss_ct_xform_read decides). */
static inline bool ss_ct_xform_valid(const struct ss_ct_xform *x, uint32_t gen, uint32_t owner)
{
	return (__atomic_load_n(&x->seq, __ATOMIC_ACQUIRE) & 1) == 0 &&
	       __atomic_load_n(&x->gen, __ATOMIC_RELAXED) == gen &&
	       __atomic_load_n(&x->owner, __ATOMIC_RELAXED) == owner &&
	       __atomic_load_n(&x->valid, __ATOMIC_RELAXED);
}

/* Claim the slot for writing; false when another writer holds it. */
static inline bool ss_ct_xform_begin(struct ss_ct_xform *x, uint32_t *seq)
{
	uint32_t s = __atomic_load_n(&x->seq, __ATOMIC_RELAXED);

	if (s & 1)
		return false;
	if (!__atomic_compare_exchange_n(&x->seq, &s, s + 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	__atomic_thread_fence(__ATOMIC_RELEASE);   /* odd before any field */
	*seq = s;
	return true;
}

static inline void ss_ct_xform_end(struct ss_ct_xform *x, uint32_t seq)
{
	__atomic_store_n(&x->seq, seq + 2, __ATOMIC_RELEASE);
}

#endif
