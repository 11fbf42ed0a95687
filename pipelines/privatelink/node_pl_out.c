/* SPDX-License-Identifier: BSD-3-Clause
 *
 * pl_out: outbound Private Link (SPEC 3.8), on the `outbound` arc after the
 * policy stage and the rate limiter, before route_out. So the ACLs and
 * connection tracking see the packet as the VM sent it (IPv4), and the
 * translation happens after them.
 *
 * A packet whose destination is a private endpoint of its ENI's VNET
 * (a mapping with routing privatelink) is translated to IPv6 (pl_nat.h),
 * encapsulated toward the mapping's underlay_ip from the ENI's
 * pl_underlay_ip with the endpoint's VNI and inner destination MAC the
 * mapping's, and, with a tunnel (PL NSG), encapsulated once more toward the
 * tunnel member the flow hash picks (VNI the tunnel's; the middle Ethernet
 * header from and to the switch MAC). Every outer header follows SPEC 3.1
 * step 8 (ss_overlay_vxlan_push). The egress MTU is checked here on the
 * final size (as port_tx would: only forwarded packets count in
 * pl_packets), then the packet goes to port_tx. Everything else goes on
 * along the arc.
 *
 * The private endpoint is found by (the ENI's VNET, destination): outbound
 * routes are not consulted for it (docs/privatelink.md, "Limits").
 *
 * Flow cache: private-link packets never fill their flow's slot (they do
 * not reach vxlan_encap) and so always come here through the lookups; the
 * flow fast path leaves pl_out out (pl_out_fast_skip, below).
 *
 * Drops: nat_unsupported (IPv6 packets, fragments, ICMP other than echo,
 * an ENI without pl_underlay_ip), no_underlay_ip (pl_underlay_ip of another
 * family than the underlay address), underlay_route_miss, no_mbuf.
 */
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "dataplane/port-t.h"
#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/privatelink/pl.h"
#include "pipelines/privatelink/pl_nat.h"

enum { PL_OUT_NEXT_DROP = 0, PL_OUT_NEXT_TX, PL_OUT_NB_NEXT };

/* The flow fast path (pipelines/conntrack/ct_emc.h) may leave pl_out out
 * for every ENI: it only forwards packets of flows with a cached transform,
 * and a packet pl_out translates goes straight to port_tx, never reaching
 * vxlan_encap (nor route_out's cached path), so its flow never gets a
 * cached transform and never reaches the fast path. A mapping turning into
 * a private-link one (or an ENI's pl_underlay_ip, a tunnel changing) is
 * committed in a transaction: the overlay's commit bumps the overlay
 * generation, and so does ss_pl_commit() after it publishes the new
 * endpoints, which invalidates every transform cached before (also one
 * filled between the two commits, from the old endpoints). Hence
 * fast_skip = ss_arc_skip_always. */

static struct ss_arc_feature pl_out_arc = {
	.arc = SS_ARC_OUTBOUND,
	.node = SS_PL_NODE_OUT,
	.runs_after = { "policy_out", "rate_limit" },
	.fast_skip = ss_arc_skip_always,
};
SS_ARC_FEATURE_REGISTER(pl_out_arc);

struct pl_out_ctx {
	struct ss_worker *w;        /* ss_node_ctx */
	uint16_t ip_id;             /* IPv4 identification of the outer headers */
};
_Static_assert(sizeof(struct pl_out_ctx) <= RTE_NODE_CTX_SZ, "pl_out ctx too large");

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return PL_OUT_NEXT_DROP;
}

/* Encapsulation of the translated frame `l` (SPEC 3.8). 0 or a drop reason. */
static int pl_encap(struct pl_out_ctx *ctx, const struct ss_pl_state *st, struct rte_mbuf *m,
		    const struct ss_layer *l, uint32_t eni, const struct ss_pl_eni *pe,
		    const struct ss_pl_ep *ep)
{
	const struct ss_meta *meta = ss_meta(m);
	const struct ss_pl_tun *t = ep->tunnel >= 0 ? &st->tun[ep->tunnel] : NULL;
	const uint8_t *dst = ep->pa, *mid_mac;
	uint8_t fam = ep->pa_fam, mac[6];
	struct ss_layer mid;
	uint16_t port;
	int rc;

	if (t != NULL) {
		uint32_t k = (uint32_t)(((uint64_t)meta->flow_hash * t->n) >> 32);

		dst = t->m[k].ip;
		fam = t->m[k].fam;
	}
	if (pe->fam != ep->pa_fam || pe->fam != fam)
		return SS_DROP_NO_UNDERLAY_IP;
	switch (ss_overlay_underlay_hop(fam, dst, meta->flow_hash, &port, mac)) {
	case 0:
		break;
	case -2:
		return SS_DROP_UNDERLAY_NH_DOWN;
	default:
		return SS_DROP_UNDERLAY_ROUTE_MISS;
	}
	if (t == NULL)
		return ss_overlay_vxlan_push(m, l, eni, fam, dst, pe->ip, ep->mac, ep->vni, port, mac,
					     ss_ports.ports[port].mac.addr_bytes, &ctx->ip_id);
	/* PL NSG: toward the service inside, toward the tunnel outside */
	mid_mac = ss_overlay_switch_mac();
	if (mid_mac == NULL)
		mid_mac = ss_ports.ports[port].mac.addr_bytes;
	rc = ss_overlay_vxlan_push(m, l, eni, ep->pa_fam, ep->pa, pe->ip, ep->mac, ep->vni, port,
				   mid_mac, mid_mac, &ctx->ip_id);
	if (rc != 0)
		return rc;
	memset(&mid, 0, sizeof(mid));
	mid.l3_off = RTE_ETHER_HDR_LEN;
	mid.l3 = ep->pa_fam == 4 ? SS_L3_IPV4 : SS_L3_IPV6;
	return ss_overlay_vxlan_push(m, &mid, eni, fam, dst, pe->ip, NULL, t->vni, port, mac,
				     ss_ports.ports[port].mac.addr_bytes, &ctx->ip_id);
}

static uint8_t pl_out_one(struct pl_out_ctx *ctx, const struct ss_pl_state *st,
			  struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = ss_overlay_tenant(meta);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct ss_pl_eni *pe;
	const struct ss_pl_ep *ep;
	struct ss_layer nl;
	uint32_t bytes;
	uint8_t fam;
	int rc;

	if (l->l3 == SS_L3_IPV4)
		fam = 4;
	else if (l->l3 == SS_L3_IPV6)
		fam = 6;
	else
		return ss_arc_edge(&pl_out_arc.next, m, meta->hdr.outer.flags);
	ep = ss_pl_ep_find(st, meta->vnet, fam, f + l->l3_off + (fam == 4 ? 16 : 24));
	if (likely(ep == NULL))
		return ss_arc_edge(&pl_out_arc.next, m, meta->hdr.outer.flags);
	pe = meta->eni < st->n_eni ? &st->eni[meta->eni] : NULL;
	if (fam != 4 || pe == NULL || !pe->has)
		return drop(m, SS_DROP_NAT_UNSUPPORTED);
	bytes = m->pkt_len - l->l2_off;
	rc = ss_pl_nat46(m, l, ep, &nl);
	if (rc == 0)
		rc = pl_encap(ctx, st, m, &nl, meta->eni, pe, ep);
	if (rc != 0)
		return drop(m, (unsigned int)rc);
	/* port_tx's check (SPEC 3.1 step 9), made here so that only what is
	 * forwarded counts in pl_packets */
	if (unlikely(m->pkt_len - RTE_ETHER_HDR_LEN > ss_ports.ports[meta->out_port].mtu))
		return drop(m, SS_DROP_MTU_EXCEEDED);
	ss_pl_count(ctx->w->index, meta->eni, bytes);
	return PL_OUT_NEXT_TX;
}

static uint16_t pl_out_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			       uint16_t nb)
{
	struct pl_out_ctx *ctx = (struct pl_out_ctx *)node->ctx;
	const struct ss_pl_state *st = ss_pl_state_get();
	uint8_t next[RTE_GRAPH_BURST_SIZE];

	if (st->n_ep == 0 && pl_out_arc.next.hop[0].pf == 0 && pl_out_arc.next.hop[0].drop == 0) {
		rte_node_next_stream_move(graph, node, pl_out_arc.next.hop[0].edge);
		return nb;
	}
	for (uint16_t i = 0; i < nb; i++)
		next[i] = pl_out_one(ctx, st, objs[i]);
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

static struct rte_node_register pl_out_node = {
	.name = SS_PL_NODE_OUT,
	.process = pl_out_process,
	.init = ss_node_init_worker,
	.nb_edges = PL_OUT_NB_NEXT,
	.next_nodes = {
		[PL_OUT_NEXT_DROP] = SS_NODE_DROP,
		[PL_OUT_NEXT_TX] = "port_tx",
	},
};
RTE_NODE_REGISTER(pl_out_node);
