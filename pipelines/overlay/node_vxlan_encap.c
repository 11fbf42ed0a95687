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

#include "pipelines/conntrack/ct_xform.h"
#include "pipelines/overlay/ovl_pkt.h"

enum {
	ENCAP_NEXT_DROP = 0,
	ENCAP_NEXT_TX,
	ENCAP_NB_NEXT,
};

struct encap_ctx {
	struct ss_worker *w;        /* ss_node_ctx */
	struct ss_ovl_wstate *ws;   /* the worker's: IPv4 identification, cache counters */
};
_Static_assert(sizeof(struct encap_ctx) <= RTE_NODE_CTX_SZ, "encap ctx too large");

struct ss_ovl_wstate ss_ovl_wstate[SS_MAX_WORKERS];

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return ENCAP_NEXT_DROP;
}

/* The last underlay route found in this burst, for the next packets to the
 * same address (a burst comes in runs: one VM, one peer): the route
 * depends on nothing else, and within a burst the tables are those the
 * lookups read anyway (RCU: held until the end of the walk). */
struct uroute_memo {
	const struct ss_ovl_uroute *u;
	int fam;               /* -1: none yet */
	uint8_t dst[16];
};

/* The underlay next hop, or NULL with the drop reason in *why. */
static inline const struct ss_ovl_nexthop *next_hop(struct uroute_memo *memo,
						    const struct ss_meta *meta, int fam,
						    const uint8_t *dst, unsigned int *why)
{
	const struct ss_ovl_uroute *u;
	const struct ss_ovl_nexthop *hop;
	unsigned int len = fam == 4 ? 4 : 16;

	if (memo->fam == fam && ss_ovl_ip_eq(dst, memo->dst, len)) {
		u = memo->u;
	} else {
		u = ss_ovl_uroute_find(fam, dst);
		memo->u = u;
		memo->fam = fam;
		memcpy(memo->dst, dst, len);
	}

	if (unlikely(u == NULL)) {
		*why = SS_DROP_UNDERLAY_ROUTE_MISS;
		return NULL;
	}
	hop = ss_ovl_uroute_pick(u, meta->flow_hash);
	if (unlikely(hop == NULL))
		*why = SS_DROP_UNDERLAY_NH_DOWN;
	return hop;
}

static inline void eth_out(uint8_t *f, const struct ss_ovl_nexthop *hop, uint16_t type)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;

	eth->dst_addr = hop->mac;
	eth->src_addr = ss_ports.ports[hop->port].mac;
	eth->ether_type = rte_cpu_to_be_16(type);
}

static void cache_fill(struct ss_ovl_wstate *ws, const struct ss_meta *meta, const uint8_t *h,
		       uint8_t hlen, uint32_t base, uint8_t direct,
		       const struct ss_ovl_target *tgt, uint16_t port, uint8_t dscp);

/* Copy hlen bytes of outer headers: the two VXLAN sizes in fixed moves (a
 * memcpy of a variable length becomes `rep movs`), else an Ethernet header. */
static inline void hdr_copy(uint8_t *dst, const uint8_t *src, uint8_t hlen)
{
	if (hlen == RTE_ETHER_HDR_LEN + 20 + OVL_VXLAN_HLEN) {
		rte_mov32(dst, src);
		rte_mov32(dst + RTE_ETHER_HDR_LEN + 20 + OVL_VXLAN_HLEN - 32,
			  src + RTE_ETHER_HDR_LEN + 20 + OVL_VXLAN_HLEN - 32);
	} else if (hlen == RTE_ETHER_HDR_LEN + 40 + OVL_VXLAN_HLEN) {
		rte_mov64(dst, src);
		rte_mov32(dst + RTE_ETHER_HDR_LEN + 40 + OVL_VXLAN_HLEN - 32,
			  src + RTE_ETHER_HDR_LEN + 40 + OVL_VXLAN_HLEN - 32);
	} else {
		memcpy(dst, src, RTE_ETHER_HDR_LEN);
	}
}

/* Route action `direct`: routed to the underlay as it is (TTL decremented). */
static uint8_t direct(struct encap_ctx *ctx, struct uroute_memo *memo, struct rte_mbuf *m,
		      struct ss_meta *meta, const struct ss_layer *l)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	int fam = ovl_fam(l);
	unsigned int why = 0;
	const struct ss_ovl_nexthop *hop = next_hop(memo, meta, fam, ovl_dst_ip(frame, l), &why);

	if (hop == NULL)
		return drop(m, why);
	if (ovl_direct_ttl(frame + l->l3_off, fam) < 0)
		return drop(m, SS_DROP_TTL_EXCEEDED);
	frame = ovl_tenant_frame(m, l);
	eth_out(frame, hop, fam == 4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6);
	meta->out_port = hop->port;
	if ((meta->ovl_flags & (SS_OVL_F_FILL | SS_OVL_F_REENCAP)) == SS_OVL_F_FILL)
		cache_fill(ctx->ws, meta, frame, RTE_ETHER_HDR_LEN, 0, 1, NULL, hop->port, 0);
	return ENCAP_NEXT_TX;
}

/* The outer headers, written at h (the IP version is a constant in each
 * caller, so each is compiled once per family): the constant fields here,
 * the per-packet ones by ovl_outer_fix (ovl_pkt.h), which the flow cache's
 * hit path (route_out) applies to a copy of what this wrote. */
static inline uint32_t outer(uint8_t *h, const bool v4, const struct ss_meta *meta,
			     const struct ss_ovl_target *tgt, const struct ss_ovl_nexthop *hop,
			     const uint8_t *src, uint8_t tos, uint32_t inner_len, uint16_t ip_id)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)h;
	struct rte_udp_hdr *udp;
	uint32_t base;

	eth_out(h, hop, v4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6);
	if (v4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		base = (64u << 8 | OVL_IPPROTO_UDP) + ovl_sum16(src, 4) + ovl_sum16(tgt->pa, 4);
		ip->version_ihl = 0x45;
		ip->fragment_offset = 0;                  /* DF clear, not a fragment */
		ip->time_to_live = 64;
		ip->next_proto_id = OVL_IPPROTO_UDP;
		memcpy(&ip->src_addr, src, 4);
		memcpy(&ip->dst_addr, tgt->pa, 4);
		udp = (struct rte_udp_hdr *)(ip + 1);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
		uint32_t fl = meta->flow_hash & 0xfffff;

		base = fl ? fl : 1;   /* the flow label, never 0 */
		ip->proto = OVL_IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src, 16);
		memcpy(ip->dst_addr, tgt->pa, 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
	}
	udp->src_port = rte_cpu_to_be_16((uint16_t)(0xc000 | (meta->flow_hash & 0x3fff)));
	udp->dst_port = rte_cpu_to_be_16(SS_UDP_PORT_VXLAN);
	udp->dgram_cksum = 0;
	/* VXLAN: flags 0x08 (I), 24 reserved bits; VNI, 8 reserved bits */
	uint32_t vx[2] = { rte_cpu_to_be_32(0x08000000u), rte_cpu_to_be_32(meta->vni << 8) };
	memcpy(udp + 1, vx, sizeof(vx));
	ovl_outer_fix(h, v4, tos, inner_len, ip_id, base);
	return base;
}

/* The tenant frame `l` (untagged, inner destination MAC := the target's
 * when it sets one) in VXLAN toward tgt->pa through `hop`, from `src`: the
 * outer DSCP is `dscp`, or the tenant's with SS_OVL_DSCP_COPY; the outer
 * ECN is the tenant's. The outer headers, or NULL when the packet is marked
 * dropped (no_mbuf); *base: what the flow cache keeps of them (ct_xform.h:
 * IPv4, the sum of the constant header words; IPv6, the flow label). */
static __rte_always_inline uint8_t *encap_write(struct rte_mbuf *m, struct ss_meta *meta,
				   const struct ss_layer *l, const struct ss_ovl_target *tgt,
				   const struct ss_ovl_nexthop *hop, const uint8_t *src,
				   uint8_t dscp, uint16_t *ip_id, uint32_t *base)
{
	bool v4 = tgt->fam == 4;
	uint8_t tos = ovl_inner_prep(m, l, tgt->set_mac, tgt->mac.addr_bytes, dscp);
	uint32_t inner_len = m->pkt_len;
	uint8_t *h;

	h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(RTE_ETHER_HDR_LEN + (v4 ? 20 : 40) +
							 OVL_VXLAN_HLEN));
	if (unlikely(h == NULL)) {
		ss_mark_drop(m, SS_DROP_NO_MBUF);
		return NULL;
	}
	if (v4)
		*base = outer(h, true, meta, tgt, hop, src, tos, inner_len, (*ip_id)++);
	else
		*base = outer(h, false, meta, tgt, hop, src, tos, inner_len, 0);
	meta->out_port = hop->port;
	return h;
}

/* The flow cache's miss path: what was just built for the packet's flow
 * side (h: the hlen bytes of outer headers, their `base` as encap_write
 * gave it, or for `direct` the Ethernet header) goes into its slot, stamped
 * with the generation policy_out read before the lookups (a writer that
 * loses the slot to another gives up). */
static void cache_fill(struct ss_ovl_wstate *ws, const struct ss_meta *meta, const uint8_t *h,
		       uint8_t hlen, uint32_t base, uint8_t direct,
		       const struct ss_ovl_target *tgt, uint16_t port, uint8_t dscp)
{
	struct ss_ct_xform *x = meta->ovl_slot;
	bool v4 = direct || tgt->fam == 4;
	uint32_t seq;

	if (!ss_ct_xform_begin(x, &seq))
		return;
	x->gen = meta->ovl_gen;
	x->owner = meta->ovl_owner;
	x->base = direct ? 0 : base;
	if (direct) {
		x->set_mac = 0;
	} else {
		x->set_mac = tgt->set_mac;
		memcpy(x->mac, tgt->mac.addr_bytes, 6);
	}
	x->port = port;
	x->direct = direct;
	x->v4 = v4;
	x->hlen = hlen;
	x->dscp = dscp;
	hdr_copy(x->hdr, h, hlen);
	x->valid = 1;
	ss_ct_xform_end(x, seq);
	ws->cache_fills++;
}

/* The outer headers last built in this burst from the switch's underlay
 * address, for the next packets to the same target with the same VNI (a
 * burst comes in runs): copied, then the per-packet fields written as
 * encap_write writes them (the Ethernet addresses when the flow's ECMP
 * member is another than the template's, UDP source port, IPv6 flow
 * label, ovl_outer_fix). Target and next hop are entries the walk holds
 * (RCU), so an equal pointer is equal contents. */
struct encap_tpl {
	const struct ss_ovl_target *tgt;   /* NULL: none yet */
	const struct ss_ovl_nexthop *hop;  /* the one hdr's Ethernet header is for */
	uint32_t vni;
	uint32_t base;                     /* IPv4: encap_write's *base */
	uint8_t hdr[SS_CT_XF_HDR_MAX];
};

static inline bool tpl_match(const struct encap_tpl *t, const struct ss_meta *meta)
{
	return t->tgt == meta->ovl_tgt && t->vni == meta->vni &&
	       !(meta->ovl_flags & SS_OVL_F_REENCAP);
}

/* encap_write from the template t (tpl_match): the same bytes. */
static inline uint8_t *tpl_write(const struct encap_tpl *t, struct rte_mbuf *m,
				 struct ss_meta *meta, const struct ss_layer *l,
				 const struct ss_ovl_nexthop *hop, uint8_t dscp, uint16_t *ip_id,
				 uint32_t *base)
{
	const struct ss_ovl_target *tgt = t->tgt;
	bool v4 = tgt->fam == 4;
	uint8_t hlen = (uint8_t)(RTE_ETHER_HDR_LEN + (v4 ? 20 : 40) + OVL_VXLAN_HLEN);
	uint8_t tos = ovl_inner_prep(m, l, tgt->set_mac, tgt->mac.addr_bytes, dscp);
	uint32_t inner_len = m->pkt_len;
	struct rte_udp_hdr *udp;
	uint8_t *h;

	h = (uint8_t *)rte_pktmbuf_prepend(m, hlen);
	if (unlikely(h == NULL)) {
		ss_mark_drop(m, SS_DROP_NO_MBUF);
		return NULL;
	}
	hdr_copy(h, t->hdr, hlen);
	if (hop != t->hop)
		eth_out(h, hop, v4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6);
	udp = (struct rte_udp_hdr *)(h + hlen - OVL_VXLAN_HLEN);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(0xc000 | (meta->flow_hash & 0x3fff)));
	if (v4) {
		*base = t->base;
		ovl_outer_fix(h, true, tos, inner_len, (*ip_id)++, t->base);
	} else {
		uint32_t fl = meta->flow_hash & 0xfffff;

		*base = fl ? fl : 1;   /* the flow label, never 0 */
		ovl_outer_fix(h, false, tos, inner_len, 0, *base);
	}
	meta->out_port = hop->port;
	return h;
}

static uint8_t encap_one(struct encap_ctx *ctx, struct uroute_memo *memo, struct encap_tpl *tpl,
			 struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = ss_overlay_tenant(meta);
	const struct ss_ovl_eni *e = ss_ovl_eni_get(meta->eni);
	const struct ss_ovl_target *tgt = meta->ovl_tgt;
	const struct ss_ovl_nexthop *hop;
	const struct ss_ovl_switch *sw;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t src[16];
	unsigned int why = 0;
	uint32_t base;
	bool v4;

	if (unlikely(e == NULL))
		return drop(m, SS_DROP_ENI_MISS);
	if (meta->ovl_flags & SS_OVL_F_DIRECT)
		return direct(ctx, memo, m, meta, l);
	v4 = tgt->fam == 4;
	hop = next_hop(memo, meta, tgt->fam, tgt->pa, &why);
	if (unlikely(hop == NULL))
		return drop(m, why);
	if (tpl_match(tpl, meta)) {
		uint8_t *h = tpl_write(tpl, m, meta, l, hop, e->dscp, &ctx->ws->ip_id, &base);

		if (unlikely(h == NULL))
			return ENCAP_NEXT_DROP;
		if (meta->ovl_flags & SS_OVL_F_FILL)
			cache_fill(ctx->ws, meta, h,
				   (uint8_t)(RTE_ETHER_HDR_LEN + (v4 ? 20 : 40) + OVL_VXLAN_HLEN),
				   base, 0, tgt, hop->port, e->dscp);
		return ENCAP_NEXT_TX;
	}
	sw = ss_ovl_switch_get();
	if ((meta->ovl_flags & SS_OVL_F_REENCAP) && ovl_fam(&meta->hdr.outer) == tgt->fam)
		memcpy(src, ovl_dst_ip(frame, &meta->hdr.outer), v4 ? 4 : 16); /* its VIP */
	else if (sw && v4 && sw->has_ip4)
		memcpy(src, sw->ip4, 4);
	else if (sw && !v4 && sw->has_ip6)
		memcpy(src, sw->ip6, 16);
	else
		return drop(m, SS_DROP_NO_UNDERLAY_IP);
	uint8_t *h = encap_write(m, meta, l, tgt, hop, src, e->dscp, &ctx->ws->ip_id, &base);

	if (unlikely(h == NULL))
		return ENCAP_NEXT_DROP;
	if (!(meta->ovl_flags & SS_OVL_F_REENCAP)) {
		tpl->tgt = tgt;
		tpl->hop = hop;
		tpl->vni = meta->vni;
		tpl->base = base;
		hdr_copy(tpl->hdr, h, (uint8_t)(RTE_ETHER_HDR_LEN + (v4 ? 20 : 40) + OVL_VXLAN_HLEN));
	}
	if ((meta->ovl_flags & (SS_OVL_F_FILL | SS_OVL_F_REENCAP)) == SS_OVL_F_FILL)
		cache_fill(ctx->ws, meta, h,
			   (uint8_t)(RTE_ETHER_HDR_LEN + (v4 ? 20 : 40) + OVL_VXLAN_HLEN), base, 0,
			   tgt, hop->port, e->dscp);
	return ENCAP_NEXT_TX;
}

static uint16_t encap_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	struct encap_ctx *ctx = (struct encap_ctx *)node->ctx;
	struct uroute_memo memo = { .u = NULL, .fam = -1 };
	struct encap_tpl tpl = { .tgt = NULL };
	uint8_t next[RTE_GRAPH_BURST_SIZE];

	for (uint16_t i = 0; i < nb_objs; i++) {
		if (i + 4 < nb_objs)
			rte_prefetch0(ss_meta(objs[i + 4]));
		next[i] = encap_one(ctx, &memo, &tpl, objs[i]);
	}
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static int encap_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct encap_ctx *ctx = (struct encap_ctx *)node->ctx;

	int rc = ss_node_init_worker(graph, node);

	if (rc == 0)
		ctx->ws = &ss_ovl_wstate[ss_node_worker(node)->index];
	return rc;
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
	uint32_t base;

	if (encap_write(m, meta, l, tgt, &hop, src, (uint8_t)(dscp & 63), ip_id, &base) == NULL)
		return SS_DROP_NO_MBUF;
	return 0;
}

/* ---- outer headers chosen by another feature (overlay.h; Private Link) ---- */

int ss_overlay_underlay_hop(int fam, const uint8_t *dst, uint32_t flow_hash, uint16_t *port,
			    uint8_t mac[6])
{
	const struct ss_ovl_uroute *u = ss_ovl_uroute_find(fam, dst);
	const struct ss_ovl_nexthop *hop;

	if (u == NULL)
		return -1;
	/* the same member choice as vxlan_encap (BFD-withdrawn members out) */
	hop = ss_ovl_uroute_pick(u, flow_hash);
	if (hop == NULL)
		return -2;
	*port = hop->port;
	memcpy(mac, hop->mac.addr_bytes, 6);
	return 0;
}

const uint8_t *ss_overlay_switch_mac(void)
{
	const struct ss_ovl_switch *sw = ss_ovl_switch_get();

	return sw && sw->has_mac ? sw->mac.addr_bytes : NULL;
}

int ss_overlay_vxlan_push(struct rte_mbuf *m, const struct ss_layer *l, uint32_t eni, int fam,
			  const uint8_t *pa, const uint8_t *src, const uint8_t *inner_mac,
			  uint32_t vni, uint16_t port, const uint8_t eth_dst[6],
			  const uint8_t eth_src[6], uint16_t *ip_id)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_ovl_eni *e = ss_ovl_eni_get(eni);
	struct ss_ovl_target tgt = { .fam = (uint8_t)fam, .set_mac = inner_mac != NULL };
	struct ss_ovl_nexthop hop = { .port = port };
	uint32_t base;
	uint8_t *h;

	if (e == NULL)
		return SS_DROP_ENI_MISS;
	memcpy(tgt.pa, pa, fam == 4 ? 4 : 16);
	if (inner_mac != NULL)
		memcpy(tgt.mac.addr_bytes, inner_mac, 6);
	memcpy(hop.mac.addr_bytes, eth_dst, 6);
	meta->vni = vni;
	h = encap_write(m, meta, l, &tgt, &hop, src, e->dscp, ip_id, &base);
	if (h == NULL)
		return SS_DROP_NO_MBUF;
	memcpy(h + RTE_ETHER_ADDR_LEN, eth_src, 6);
	return 0;
}
