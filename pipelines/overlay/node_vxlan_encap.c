/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vxlan_encap: VXLAN encapsulation (RFC 7348) and underlay forwarding (SPEC
 * 3.1 steps 8-10), for outbound packets, appliance-mode packets and inbound
 * packets to appliance ENIs alike; also the unencapsulated `direct` route
 * action. Header rules (SPEC 3.1 step 8):
 *   - the tenant frame loses its VLAN tags (and, when it arrived in VXLAN,
 *     its old outer headers); inner destination MAC := the mapping's MAC;
 *     nothing else of it changes (inner TTL included);
 *   - outer source IP: the switch underlay IP of the PA's family, or for a
 *     re-encapsulation the VIP the packet arrived on;
 *   - IPv4: TTL 64, DF clear, header checksum; IPv6: hop limit 64, flow
 *     label = 20 bits of the flow hash, never 0;
 *   - DSCP copied from the inner header unless the ENI sets `dscp`; ECN
 *     copied (RFC 6040 section 4.1, normal mode);
 *   - UDP destination 4789, source 49152 + 14 bits of the flow hash;
 *     checksum 0 over IPv4 (RFC 7348 5), computed over IPv6 (RFC 8200 8.1);
 *   - VXLAN flags 0x08 (I), VNI from meta->vni;
 *   - underlay next hop by LPM on the PA, ECMP member by the flow hash;
 *     outer source MAC = the egress port's. The egress MTU is enforced by
 *     port_tx (drop mtu_exceeded).
 */
#include <rte_ip.h>
#include <rte_udp.h>

#include "pipelines/overlay/ovl_pkt.h"

enum {
	ENCAP_NEXT_DROP = 0,
	ENCAP_NEXT_TX,
	ENCAP_NB_NEXT,
};

struct encap_ctx {
	struct ss_worker *w;
	uint16_t ip_id;        /* IPv4 identification: DF is clear (RFC 6864) */
};
_Static_assert(sizeof(struct encap_ctx) <= RTE_NODE_CTX_SZ, "encap ctx too large");

#define VXLAN_HLEN (8 + 8)  /* UDP + VXLAN */

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return ENCAP_NEXT_DROP;
}

/* Leave only the tenant frame, untagged: drop what precedes it (the outer
 * headers of a packet that arrived in VXLAN) and its 802.1Q tags. */
static inline uint8_t *tenant_frame(struct rte_mbuf *m, const struct ss_layer *l)
{
	uint8_t *f;
	uint16_t tags = (uint16_t)(l->l3_off - l->l2_off - RTE_ETHER_HDR_LEN);

	if (l->l2_off)
		rte_pktmbuf_adj(m, l->l2_off);
	f = rte_pktmbuf_mtod(m, uint8_t *);
	if (tags) {
		memmove(f + tags, f, 2 * RTE_ETHER_ADDR_LEN);
		f = (uint8_t *)rte_pktmbuf_adj(m, tags);
	}
	return f;
}

static inline const struct ss_ovl_nexthop *next_hop(const struct ss_meta *meta, int fam,
						    const uint8_t *dst)
{
	const struct ss_ovl_uroute *u = ss_ovl_uroute_find(fam, dst);

	/* a multiply, not a division: the same member for every packet of a flow */
	return u ? &u->nh[(uint32_t)(((uint64_t)meta->flow_hash * u->n) >> 32)] : NULL;
}

static inline void eth_out(uint8_t *f, const struct ss_ovl_nexthop *hop, uint16_t type)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;

	eth->dst_addr = hop->mac;
	eth->src_addr = ss_ports.ports[hop->port].mac;
	eth->ether_type = rte_cpu_to_be_16(type);
}

/* Route action `direct`: routed to the underlay as it is (TTL decremented). */
static uint8_t direct(struct rte_mbuf *m, struct ss_meta *meta, const struct ss_layer *l)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = frame + l->l3_off;
	int fam = ovl_fam(l);
	const struct ss_ovl_nexthop *hop = next_hop(meta, fam, ovl_dst_ip(frame, l));

	if (hop == NULL)
		return drop(m, SS_DROP_UNDERLAY_ROUTE_MISS);
	if (fam == 4) {
		if (ip[8] <= 1)
			return drop(m, SS_DROP_TTL_EXCEEDED);
		ip[8]--;
		ip[10] = ip[11] = 0;
		uint16_t ck = rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip);
		memcpy(ip + 10, &ck, 2);
	} else {
		if (ip[7] <= 1)
			return drop(m, SS_DROP_TTL_EXCEEDED);
		ip[7]--;
	}
	frame = tenant_frame(m, l);
	eth_out(frame, hop, fam == 4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6);
	meta->out_port = hop->port;
	return ENCAP_NEXT_TX;
}

static inline uint32_t sum16(const uint8_t *a, unsigned int n)
{
	uint32_t s = 0;

	for (unsigned int i = 0; i < n; i += 2)
		s += (uint32_t)(a[i] << 8 | a[i + 1]);
	return s;
}

/* The outer header, written at h (the IP version is a constant in each
 * caller, so each is compiled once per family). Fields are written with
 * whole-field stores and the IPv4 checksum is summed from the values, not
 * read back from the fresh stores (a store-forwarding stall otherwise). */
static inline void outer(uint8_t *h, const bool v4, const struct ss_meta *meta,
			 const struct ss_ovl_target *tgt, const struct ss_ovl_nexthop *hop,
			 const uint8_t *src, uint8_t tos, uint32_t inner_len, uint16_t ip_id)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)h;
	struct rte_udp_hdr *udp;
	uint16_t ulen = (uint16_t)(VXLAN_HLEN + inner_len);

	eth_out(h, hop, v4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6);
	if (v4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
		uint16_t tot = (uint16_t)(20 + ulen);
		uint32_t sum = (0x45u << 8 | tos) + tot + ip_id + (64u << 8 | OVL_IPPROTO_UDP) +
			       sum16(src, 4) + sum16(tgt->pa, 4);

		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->version_ihl = 0x45;
		ip->type_of_service = tos;
		ip->total_length = rte_cpu_to_be_16(tot);
		ip->packet_id = rte_cpu_to_be_16(ip_id);
		ip->fragment_offset = 0;                  /* DF clear, not a fragment */
		ip->time_to_live = 64;
		ip->next_proto_id = OVL_IPPROTO_UDP;
		ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
		memcpy(&ip->src_addr, src, 4);
		memcpy(&ip->dst_addr, tgt->pa, 4);
		udp = (struct rte_udp_hdr *)(ip + 1);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
		uint32_t fl = meta->flow_hash & 0xfffff;

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)tos << 20 | (fl ? fl : 1));
		ip->payload_len = rte_cpu_to_be_16(ulen);
		ip->proto = OVL_IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src, 16);
		memcpy(ip->dst_addr, tgt->pa, 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
	}
	udp->src_port = rte_cpu_to_be_16((uint16_t)(0xc000 | (meta->flow_hash & 0x3fff)));
	udp->dst_port = rte_cpu_to_be_16(SS_UDP_PORT_VXLAN);
	udp->dgram_len = rte_cpu_to_be_16(ulen);
	udp->dgram_cksum = 0;
	/* VXLAN: flags 0x08 (I), 24 reserved bits; VNI, 8 reserved bits */
	uint32_t vx[2] = { rte_cpu_to_be_32(0x08000000u), rte_cpu_to_be_32(meta->vni << 8) };
	memcpy(udp + 1, vx, sizeof(vx));
	if (!v4)
		udp->dgram_cksum = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)(eth + 1), udp);
}

/* The tenant frame `l` (untagged, inner destination MAC := the target's
 * when it sets one) in VXLAN toward tgt->pa through `hop`, from `src`: the
 * outer DSCP is `dscp`, or the tenant's with SS_OVL_DSCP_COPY; the outer
 * ECN is the tenant's. 0, or the packet is marked dropped (no_mbuf) and -1. */
static inline int encap_write(struct rte_mbuf *m, struct ss_meta *meta, const struct ss_layer *l,
			      const struct ss_ovl_target *tgt, const struct ss_ovl_nexthop *hop,
			      const uint8_t *src, uint8_t dscp, uint16_t *ip_id)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	bool v4 = tgt->fam == 4;
	uint8_t tos = 0;
	uint8_t *h;

	if (l->l3 == SS_L3_IPV4 || l->l3 == SS_L3_IPV6)
		tos = ovl_tos(frame + l->l3_off, ovl_fam(l));
	frame = tenant_frame(m, l);
	if (tgt->set_mac)
		memcpy(frame, tgt->mac.addr_bytes, 6);
	if (dscp == SS_OVL_DSCP_COPY)
		dscp = tos >> 2;
	tos = (uint8_t)(dscp << 2 | (tos & 3));
	uint32_t inner_len = m->pkt_len;
	h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(RTE_ETHER_HDR_LEN + (v4 ? 20 : 40) +
							 VXLAN_HLEN));
	if (unlikely(h == NULL)) {
		ss_mark_drop(m, SS_DROP_NO_MBUF);
		return -1;
	}
	if (v4)
		outer(h, true, meta, tgt, hop, src, tos, inner_len, (*ip_id)++);
	else
		outer(h, false, meta, tgt, hop, src, tos, inner_len, 0);
	meta->out_port = hop->port;
	return 0;
}

static uint8_t encap_one(struct encap_ctx *ctx, struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = ss_overlay_tenant(meta);
	const struct ss_ovl_eni *e = ss_ovl_eni_get(meta->eni);
	const struct ss_ovl_target *tgt = meta->ovl_tgt;
	const struct ss_ovl_nexthop *hop;
	const struct ss_ovl_switch *sw;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t src[16];
	bool v4;

	if (unlikely(e == NULL))
		return drop(m, SS_DROP_ENI_MISS);
	if (meta->ovl_flags & SS_OVL_F_DIRECT)
		return direct(m, meta, l);
	v4 = tgt->fam == 4;
	hop = next_hop(meta, tgt->fam, tgt->pa);
	if (unlikely(hop == NULL))
		return drop(m, SS_DROP_UNDERLAY_ROUTE_MISS);
	sw = ss_ovl_switch_get();
	if ((meta->ovl_flags & SS_OVL_F_REENCAP) && ovl_fam(&meta->hdr.outer) == tgt->fam)
		memcpy(src, ovl_dst_ip(frame, &meta->hdr.outer), v4 ? 4 : 16); /* its VIP */
	else if (sw && v4 && sw->has_ip4)
		memcpy(src, sw->ip4, 4);
	else if (sw && !v4 && sw->has_ip6)
		memcpy(src, sw->ip6, 16);
	else
		return drop(m, SS_DROP_NO_UNDERLAY_IP);
	return encap_write(m, meta, l, tgt, hop, src, e->dscp, &ctx->ip_id) ? ENCAP_NEXT_DROP
									      : ENCAP_NEXT_TX;
}

static uint16_t encap_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	struct encap_ctx *ctx = (struct encap_ctx *)node->ctx;
	uint8_t next[RTE_GRAPH_BURST_SIZE];

	for (uint16_t i = 0; i < nb_objs; i++) {
		if (i + 4 < nb_objs)
			rte_prefetch0(ss_meta(objs[i + 4]));
		next[i] = encap_one(ctx, objs[i]);
	}
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static int encap_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct encap_ctx *ctx = (struct encap_ctx *)node->ctx;

	ctx->ip_id = 0;
	return ss_node_init_worker(graph, node);
}

static struct rte_node_register encap_node = {
	.name = OVL_NODE_ENCAP,
	.process = encap_process,
	.init = encap_init,
	.nb_edges = ENCAP_NB_NEXT,
	.next_nodes = {
		[ENCAP_NEXT_DROP] = SS_NODE_DROP,
		[ENCAP_NEXT_TX] = "port_tx",
	},
};
RTE_NODE_REGISTER(encap_node);

/* ---- for other features (overlay.h) ------------------------------------- */

const struct ss_ovl_mapping *ss_overlay_mapping_lookup(uint32_t eni, int fam, const uint8_t *dst,
						       uint32_t *vni)
{
	const struct ss_ovl_eni *e = ss_ovl_eni_get(eni);
	const struct ss_ovl_mapping *mp;

	if (e == NULL || (fam != 4 && fam != 6))
		return NULL;
	mp = ss_ovl_mapping_find(e->vnet, fam, dst);
	if (mp != NULL)
		*vni = mp->use_dst_vni ? ss_ovl_vnet_get(mp->vnet)->vni : e->vni;
	return mp;
}

int ss_overlay_encap_to_pa(struct rte_mbuf *m, const struct ss_ovl_mapping *mp, uint32_t vni,
			   uint16_t port, const uint8_t next_hop_mac[6], uint8_t dscp,
			   uint16_t *ip_id)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = &meta->hdr.outer;
	const struct ss_ovl_target *tgt = &mp->tgt;
	const struct ss_ovl_switch *sw = ss_ovl_switch_get();
	struct ss_ovl_nexthop hop = { .port = port };
	uint8_t src[16];

	if (tgt->fam == 4 && sw && sw->has_ip4)
		memcpy(src, sw->ip4, 4);
	else if (tgt->fam == 6 && sw && sw->has_ip6)
		memcpy(src, sw->ip6, 16);
	else
		return SS_DROP_NO_UNDERLAY_IP;
	memcpy(hop.mac.addr_bytes, next_hop_mac, 6);
	meta->flow_hash = ovl_flow_hash(rte_pktmbuf_mtod(m, const uint8_t *), l);
	meta->vni = vni;
	if (encap_write(m, meta, l, tgt, &hop, src, (uint8_t)(dscp & 63), ip_id) != 0)
		return SS_DROP_NO_MBUF;
	return 0;
}
