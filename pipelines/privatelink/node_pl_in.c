/* SPDX-License-Identifier: BSD-3-Clause
 *
 * pl_in: Private Link's return path (SPEC 3.8), on the `ingress.fabric`
 * arc before overlay_fabric. A pl_underlay_ip is a VIP of the switch from
 * the moment an ENI names it, but not one of the overlay's: this node is
 * where packets to it are taken.
 *
 *   - ARP requests and neighbour solicitations for a pl_underlay_ip are
 *     answered, ICMP / ICMPv6 echo to one is answered (as overlay_fabric
 *     does for its VIPs, with the overlay's helpers), out of the port they
 *     came in on;
 *   - VXLAN to a pl_underlay_ip whose inner frame is an IPv6 packet from a
 *     private endpoint's service address is a reply: the ENI is the one
 *     with that pl_underlay_ip and the inner destination MAC, the endpoint
 *     the mapping of the ENI's VNET whose service address (overlay_dip +
 *     its IPv4) is the inner source and whose VNI is the packet's. Then:
 *       the ENI admin down: eni_admin_down;
 *       outer source not the mapping's underlay_ip: pa_validation_fail
 *       (inbound routes and PA-validation entries are not consulted);
 *       inner destination outside overlay_sip (or overlay_sip a /128:
 *       the VM's address is not in the packet): pl_no_flow;
 *       not translatable (pl_nat.h, ss_pl_nat64): nat_unsupported;
 *       translated back to IPv4, the reverse of a live flow the VM opened
 *       must exist (ss_ct_lookup_live, which creates nothing): else
 *       pl_no_flow;
 *     and the packet goes to policy_in, the inbound policy stage, as an
 *     inbound packet of the ENI with the translated IPv4 packet as its
 *     inner frame: conntrack updates the flow (last_seen, TCP state, flow
 *     records) and passes it as the reverse of an allowed flow (no ACL
 *     stage), then the rest of the inbound arc and vxlan_decap deliver it
 *     (SPEC 3.2 step 6: RFC 6040 ECN, the ENI's host port and VLAN tag);
 *   - everything else goes on along the arc untouched (a burst moves on
 *     whole while no ENI has a pl_underlay_ip).
 * pl_packets / pl_bytes count a reply here, once it is handed to
 * policy_in: the frame the VM receives (inner Ethernet, the ENI's tag,
 * the IPv4 packet).
 *
 * policy_in is entered directly (an edge of this node), not at the start
 * of the `inbound` arc, whose owner declares inbound_route as its only
 * start: a feature placed on that arc before policy_in would not see
 * these replies; the features after it do.
 *
 * Flow fast path: pl_in_fast_skip (below).
 */
#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "dataplane/port-t.h"
#include "pipelines/acl/acl.h"
#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_emc.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_pkt.h"
#include "pipelines/parse/parse_node.h"
#include "pipelines/privatelink/pl.h"
#include "pipelines/privatelink/pl_nat.h"

enum { PL_IN_NEXT_DROP = 0, PL_IN_NEXT_TX, PL_IN_NEXT_POLICY, PL_IN_NB_NEXT };

/* The flow fast path (pipelines/conntrack/flow_fast.c) may leave pl_in out
 * for every ENI: it only takes VXLAN whose inner frame is IPv4 (and never
 * ARP, ND or echo), which pl_in hands on unchanged (it takes inner IPv6
 * only); and no inbound fast-path entry is ever made from a reply pl_in
 * translated: vxlan_decap makes one (ss_emc_in_fill) only from a frame
 * whose outer IPv4 total length and UDP length describe it
 * (ss_emc_in_key_of), and pl_in leaves the outer headers as they arrived,
 * counting the 20 bytes longer IPv6 packet. So replies always come here
 * (their inner frame is IPv6, which the fast path never takes either).
 * Hence fast_skip = ss_arc_skip_always. */

static struct ss_arc_feature pl_in_arc = {
	.arc = SS_ARC_INGRESS_FABRIC,
	.node = SS_PL_NODE_IN,
	.runs_before = { OVL_NODE_FABRIC },
	.fast_skip = ss_arc_skip_always,
};
SS_ARC_FEATURE_REGISTER(pl_in_arc);

struct pl_in_burst {
	const struct ss_pl_state *st;
	const struct ss_ct *ct;
	uint64_t now;
	unsigned int wi;
};

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return PL_IN_NEXT_DROP;
}

static inline uint8_t pass(struct rte_mbuf *m)
{
	return ss_arc_edge(&pl_in_arc.next, m, ss_meta(m)->hdr.outer.flags);
}

/* Not VXLAN: the switch's own ARP / ND / echo for a pl_underlay_ip. */
static uint8_t pl_local(const struct ss_pl_state *st, struct rte_mbuf *m, struct ss_meta *meta)
{
	const struct ss_layer *l = &meta->hdr.outer;
	const struct rte_ether_addr *mac = &ss_ports.ports[meta->in_port].mac;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t target[16];

	if (l->l3 == SS_L3_ARP) {
		if (!ovl_arp_request(frame, l, target) || !ss_pl_is_vip(st, 4, target))
			return pass(m);
		ovl_arp_reply(frame, l, mac);
	} else if (ovl_nd_solicit(frame, l, target)) {
		if (!ss_pl_is_vip(st, 6, target))
			return pass(m);
		if (ovl_nd_advert(m, l, mac, false) != 0)
			return drop(m, SS_DROP_NO_MBUF);
	} else if (l->l3 == SS_L3_IPV4 || l->l3 == SS_L3_IPV6) {
		if (!ss_pl_is_vip(st, (uint8_t)ovl_fam(l), ovl_dst_ip(frame, l)) ||
		    !ovl_echo_reply(frame, l, mac))
			return pass(m);
	} else {
		return pass(m);
	}
	meta->out_port = meta->in_port;
	return PL_IN_NEXT_TX;
}

/* A reply from a private endpoint's service, found (ep, ENI index eni). */
static uint8_t pl_reply(const struct pl_in_burst *b, struct rte_mbuf *m, struct ss_meta *meta,
			const struct ss_pl_ep *ep, uint32_t eni)
{
	const struct ss_pl_eni *pe = &b->st->eni[eni];
	const struct ss_layer *o = &meta->hdr.outer;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	const uint8_t *dst6 = f + meta->hdr.inner.l3_off + 24;
	uint8_t dst4[4];
	struct ss_ct_info ci;
	struct ss_ct_pkt p;
	uint32_t len;
	int rc;

	if (!pe->admin_up)
		return drop(m, SS_DROP_ENI_ADMIN_DOWN);
	if ((uint8_t)ovl_fam(o) != ep->pa_fam ||
	    memcmp(ovl_src_ip(f, o), ep->pa, ep->pa_fam == 4 ? 4 : 16) != 0)
		return drop(m, SS_DROP_PA_VALIDATION_FAIL);
	/* overlay_sip is at most /96 with zero bits down to the low 32 */
	if (ep->sip_len == 128 || memcmp(dst6, ep->sip, 12) != 0)
		return drop(m, SS_DROP_PL_NO_FLOW);
	memcpy(dst4, dst6 + 12, 4);
	rc = ss_pl_nat64(m, &meta->hdr.inner, ep->ip, dst4);
	if (rc != 0)
		return drop(m, (unsigned int)rc);
	f = rte_pktmbuf_mtod(m, uint8_t *);
	if (ss_parse_layer(f, rte_pktmbuf_data_len(m), meta->hdr.inner.l2_off,
			   &meta->hdr.inner) != 0)
		return drop(m, SS_DROP_NAT_UNSUPPORTED);
	p.data = f;
	p.l = &meta->hdr.inner;
	p.eni = eni;
	ss_ct_extract(&p, SS_ACL_IN, &ci);
	if (ci.kind != SS_CT_K_NORMAL ||
	    ss_ct_lookup_live(b->ct, &ci.key, ci.side, SS_ACL_IN, b->now) != SS_ACL_OUT)
		return drop(m, SS_DROP_PL_NO_FLOW);
	meta->eni = eni;
	meta->vnet = pe->vnet;
	meta->ovl_dir = SS_OVL_DIR_INBOUND;
	/* translated in place: no fast-path entry may be learnt from it */
	meta->ovl_flags = SS_OVL_F_INNER | SS_OVL_F_NOFAST;
	meta->flow_hash = ovl_flow_hash(f, &meta->hdr.inner);
	len = m->pkt_len - meta->hdr.inner.l2_off + (pe->vlan ? 4u : 0u);
	ss_pl_count(b->wi, eni, len);
	return PL_IN_NEXT_POLICY;
}

static uint8_t pl_in_one(const struct pl_in_burst *b, struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *o = &meta->hdr.outer, *in = &meta->hdr.inner;
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	const struct ss_pl_ep *ep;
	uint32_t eni = 0;
	uint8_t fam;

	if (!(o->flags & SS_PF_VXLAN))
		return pl_local(b->st, m, meta);
	fam = (uint8_t)ovl_fam(o);
	if (!ss_pl_is_vip(b->st, fam, ovl_dst_ip(f, o)) || !(meta->hdr.vxlan_flags & 0x08) ||
	    in->l3 != SS_L3_IPV6)
		return pass(m);
	ep = ss_pl_reply_find(b->st, fam, ovl_dst_ip(f, o), f + in->l2_off, meta->hdr.vni,
			      f + in->l3_off + 8, &eni);
	if (ep == NULL)
		return pass(m);
	return pl_reply(b, m, meta, ep, eni);
}

static uint16_t pl_in_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb)
{
	struct pl_in_burst b = { .st = ss_pl_state_get() };
	uint8_t next[RTE_GRAPH_BURST_SIZE];

	if (b.st->n_vip == 0 && pl_in_arc.next.hop[0].pf == 0 &&
	    pl_in_arc.next.hop[0].drop == 0) {
		rte_node_next_stream_move(graph, node, pl_in_arc.next.hop[0].edge);
		return nb;
	}
	b.ct = ss_ct_current();
	b.now = rte_rdtsc();
	b.wi = ss_node_worker(node)->index;
	for (uint16_t i = 0; i < nb; i++)
		next[i] = pl_in_one(&b, objs[i]);
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

static struct rte_node_register pl_in_node = {
	.name = SS_PL_NODE_IN,
	.process = pl_in_process,
	.init = ss_node_init_worker,
	.nb_edges = PL_IN_NB_NEXT,
	.next_nodes = {
		[PL_IN_NEXT_DROP] = SS_NODE_DROP,
		[PL_IN_NEXT_TX] = "port_tx",
		[PL_IN_NEXT_POLICY] = "policy_in",
	},
};
RTE_NODE_REGISTER(pl_in_node);
