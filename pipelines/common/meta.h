/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Per-packet metadata, carried in the mbuf private area (the mempools are
 * created with priv_size = SS_META_PRIV_SIZE). Written by `parse` and the
 * stages after it; read by whoever comes next. Only the worker that received
 * the mbuf touches it.
 */
#ifndef SS_META_H
#define SS_META_H

#include <rte_common.h>
#include <rte_mbuf.h>

#include "pipelines/parse/parse.h"

/* tx_class: which transmit queue of the egress port (SPEC section 2) */
enum ss_tx_class { SS_TX_DEFAULT = 0, SS_TX_LOSSLESS = 1 };

struct ss_meta {
	struct ss_parsed hdr;   /* offsets from the frame start at rx */
	struct ss_bth bth;      /* valid with hdr.outer.flags & SS_PF_ROCE */
	uint16_t in_port;       /* sswitch port index (not the ethdev id) */
	uint16_t out_port;      /* sswitch port index, set before port_tx */
	uint8_t drop;           /* enum ss_drop_reason, set before drop */
	uint8_t tx_class;       /* enum ss_tx_class */
	uint16_t drop_node;     /* rte_node id of the node that sent it to drop
				 * (stamped by ss_node_dispatch, node.h) */
	/* overlay (pipelines/overlay/overlay.h): written by its nodes, read by
	 * the features between them (ACL, conntrack) */
	uint32_t eni;           /* ENI index (ss_overlay_eni_index), 0: none */
	uint32_t flow_hash;     /* hash of the tenant packet's 5-tuple */
	uint32_t vni;           /* VNI of the VXLAN header to build */
	uint16_t vnet;          /* VNET index of the tenant packet */
	uint8_t ovl_dir;        /* enum ss_overlay_dir */
	uint8_t ovl_flags;      /* SS_OVL_F_* */
	const void *ovl_tgt;    /* encapsulation target, valid within one graph walk */
	/* the flow-cached transform (pipelines/conntrack/ct_xform.h), with
	 * SS_OVL_F_CACHED or SS_OVL_F_FILL: the flow's slot (valid within one
	 * graph walk), the overlay generation read before the packet's
	 * lookups, and the owner stamp (flow incarnation and side) */
	void *ovl_slot;
	uint32_t ovl_gen;
	uint32_t ovl_owner;
};
_Static_assert(sizeof(struct ss_meta) <= 128, "struct ss_meta outgrew two cache lines");

/* ovl_flags bits of the flow cache (0x01-0x04: overlay.h) */
#define SS_OVL_F_CACHED 0x08   /* policy_out found a valid transform: route_out applies it */
#define SS_OVL_F_FILL 0x10     /* vxlan_encap writes what it builds into ovl_slot */
#define SS_OVL_F_FASTIN 0x20   /* inbound: policy_in passed it by its flow (ovl_slot: the
				* flow's position, ovl_owner, ovl_gen): vxlan_decap may
				* hand the flow to the fast path (ct_emc.h) */
#define SS_OVL_F_NOFAST 0x40   /* a stage rewrote the tenant packet on the way in
				* (Private Link's NAT64, pl_in): the frame as received
				* is not what the policy stage saw, so neither a flow
				* nor a deny is cached for it */

/* a whole number of cache lines, so the packet data stays cache-aligned */
#define SS_META_PRIV_SIZE RTE_ALIGN_CEIL(sizeof(struct ss_meta), RTE_CACHE_LINE_SIZE)

static inline struct ss_meta *ss_meta(struct rte_mbuf *m)
{
	return (struct ss_meta *)rte_mbuf_to_priv(m);
}

#endif
