/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet helpers shared by the overlay nodes: edges, the flow hash, address
 * accessors, the RFC 6040 ECN rules, and the replies the switch builds (ARP,
 * neighbour advertisement, ICMP echo; ovl_reply.c).
 */
#ifndef SS_OVL_PKT_H
#define SS_OVL_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_udp.h>

#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/conntrack/ct_xform.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_tables.h"

/* Node names (SPEC sections 3.1-3.3), in path order. */
#define OVL_NODE_HOST "overlay_host"        /* host port: ENI, ARP/ND */
#define OVL_NODE_FABRIC "overlay_fabric"    /* fabric port: local, VIP, VNI, ENI */
#define OVL_NODE_ROUTE_OUT "route_out"      /* outbound routing, mapping */
#define OVL_NODE_ENCAP "vxlan_encap"        /* VXLAN encapsulation, underlay */
#define OVL_NODE_INBOUND "inbound_route"    /* inbound routing, PA validation */
#define OVL_NODE_DECAP "vxlan_decap"        /* decapsulation, delivery */

/* The overlay's arcs (overlay.h); `from[]` is indexed by the start node. */
extern struct ss_arc ss_ovl_arc_outbound, ss_ovl_arc_inbound;
#define OVL_OUT_FROM_HOST 0     /* ss_ovl_arc_outbound.start[] */
#define OVL_OUT_FROM_FABRIC 1

/* A node's "not decided yet, the next bulk lookup decides" mark in its
 * next[] array: above any edge (ss_arcs_finalize keeps edges below 0xff). */
#define OVL_PENDING 0xff

#define OVL_IPPROTO_ICMP 1
#define OVL_IPPROTO_UDP 17
#define OVL_IPPROTO_ICMPV6 58

static inline int ovl_fam(const struct ss_layer *l)
{
	return l->l3 == SS_L3_IPV4 ? 4 : l->l3 == SS_L3_IPV6 ? 6 : 0;
}

static inline uint8_t *ovl_src_ip(uint8_t *frame, const struct ss_layer *l)
{
	return frame + l->l3_off + (l->l3 == SS_L3_IPV4 ? 12 : 8);
}

static inline uint8_t *ovl_dst_ip(uint8_t *frame, const struct ss_layer *l)
{
	return frame + l->l3_off + (l->l3 == SS_L3_IPV4 ? 16 : 24);
}

/* Traffic class / TOS byte of an IP header. */
static inline uint8_t ovl_tos(const uint8_t *ip, int fam)
{
	return fam == 4 ? ip[1] : (uint8_t)(ip[0] << 4 | ip[1] >> 4);
}

/* Hash of the tenant packet's protocol, addresses and ports (ICMP echo:
 * identifier): the same for every packet of a flow direction. */
static inline uint32_t ovl_flow_hash(const uint8_t *frame, const struct ss_layer *l)
{
	const uint8_t *ip = frame + l->l3_off;
	uint32_t h = l->proto, w;
	unsigned int n = l->l3 == SS_L3_IPV4 ? 2 : 8;

	/* addresses are contiguous: IPv4 at 12, IPv6 at 8 */
	ip += l->l3 == SS_L3_IPV4 ? 12 : 8;
	for (unsigned int i = 0; i < n; i++) {
		memcpy(&w, ip + 4 * i, 4);
		h = rte_hash_crc_4byte(w, h);
	}
	if (l->flags & SS_PF_L4)
		h = rte_hash_crc_4byte((uint32_t)l->sport << 16 | l->dport, h);
	return h;
}

/* ---- the flow cache (pipelines/conntrack/ct_xform.h) -------------------- */

/* The overlay generation: incremented (release) at the end of every commit
 * of the overlay's tables (ss_ovl_commit) and of the Private Link table
 * (ss_pl_commit, pipelines/privatelink/pl_table.c), read (acquire) by
 * policy_out once per burst before the lookups of its packets. */
extern uint32_t ss_ovl_gen;

static inline uint32_t ss_ovl_gen_read(void)
{
	return __atomic_load_n(&ss_ovl_gen, __ATOMIC_ACQUIRE);
}

/* Per worker, written by that worker only: the IPv4 identification of the
 * outer headers it builds (vxlan_encap and the cached path in route_out
 * share it), and the flow cache counters (stats scope `flows`). */
struct ss_ovl_wstate {
	uint16_t ip_id;
	uint32_t walk_gen;      /* overlay generation flow_fast read at the start of a walk */
	uint64_t walk_id;       /* that walk: its worker's `walks` + 1 (0: none yet) */
	uint64_t cache_hits;    /* packets sent with a cached transform */
	uint64_t cache_fills;   /* transforms written into a flow's slot */
} __rte_cache_aligned;
extern struct ss_ovl_wstate ss_ovl_wstate[SS_MAX_WORKERS];

/* The overlay generation what a worker resolves in this walk is stamped
 * with (flow cache, fast path): the one flow_fast read before the walk's
 * first table lookup (overlay_host and overlay_fabric look up after it),
 * else, in a walk flow_fast did not take part in, the current one. */
static inline uint32_t ss_ovl_walk_gen(const struct ss_ovl_wstate *ws, const struct ss_worker *w)
{
	return ws->walk_id == w->walks + 1 ? ws->walk_gen : ss_ovl_gen_read();
}

/* ---- the outer headers (vxlan_encap, route_out) -------------------------- */

#define OVL_VXLAN_HLEN (8 + 8)  /* UDP + VXLAN */

/* The sum of the n / 2 big-endian 16-bit words at a (n even), unfolded. */
static inline uint32_t ovl_sum16(const uint8_t *a, unsigned int n)
{
	uint32_t s = 0;
	uint16_t w;

	for (unsigned int i = 0; i < n; i += 2) {
		memcpy(&w, a + i, 2);
		s += rte_be_to_cpu_16(w);
	}
	return s;
}

/* Leave only the tenant frame, untagged: drop what precedes it (the outer
 * headers of a packet that arrived in VXLAN) and its 802.1Q tags. */
static inline uint8_t *ovl_tenant_frame(struct rte_mbuf *m, const struct ss_layer *l)
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

/* Route action `direct` (routed to the underlay unencapsulated): the
 * tenant IP header's TTL / hop limit decremented (IPv4: checksum
 * recomputed); -1 when it would reach 0 (drop ttl_exceeded). */
static inline int ovl_direct_ttl(uint8_t *ip, int fam)
{
	if (fam == 4) {
		if (ip[8] <= 1)
			return -1;
		ip[8]--;
		ip[10] = ip[11] = 0;
		uint16_t ck = rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip);
		memcpy(ip + 10, &ck, 2);
	} else {
		if (ip[7] <= 1)
			return -1;
		ip[7]--;
	}
	return 0;
}

/* The tenant frame, ready to be encapsulated: untagged, inner destination
 * MAC := mac when set_mac; returns the outer TOS / traffic class: DSCP
 * `dscp` (or the tenant's with SS_OVL_DSCP_COPY), ECN the tenant's (RFC
 * 6040 4.1, normal mode). */
static inline uint8_t ovl_inner_prep(struct rte_mbuf *m, const struct ss_layer *l, bool set_mac,
				     const uint8_t mac[6], uint8_t dscp)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t tos = 0;

	if (l->l3 == SS_L3_IPV4 || l->l3 == SS_L3_IPV6)
		tos = ovl_tos(frame + l->l3_off, ovl_fam(l));
	frame = ovl_tenant_frame(m, l);
	if (set_mac)
		memcpy(frame, mac, 6);
	if (dscp == SS_OVL_DSCP_COPY)
		dscp = tos >> 2;
	return (uint8_t)(dscp << 2 | (tos & 3));
}

/* The per-packet fields of the outer headers at h (Ethernet, then IPv4 or
 * IPv6, UDP, VXLAN; the rest already written): TOS / traffic class, the
 * lengths, the IPv4 identification and header checksum (`base`: the sum of
 * the IPv4 header's constant words, TTL/protocol and addresses), or for
 * IPv6 the flow label `base` and the UDP checksum (RFC 8200 8.1; 0 over
 * IPv4, RFC 7348 5). The checksum is summed from the values, not read back
 * from the fresh stores (a store-forwarding stall otherwise). */
static inline void ovl_outer_fix(uint8_t *h, const bool v4, uint8_t tos, uint32_t inner_len,
				 uint16_t ip_id, uint32_t base)
{
	struct rte_udp_hdr *udp;
	uint16_t ulen = (uint16_t)(OVL_VXLAN_HLEN + inner_len);

	if (v4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(h + RTE_ETHER_HDR_LEN);
		uint16_t tot = (uint16_t)(20 + ulen);
		uint32_t sum = (0x45u << 8 | tos) + tot + ip_id + base;

		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->type_of_service = tos;
		ip->total_length = rte_cpu_to_be_16(tot);
		ip->packet_id = rte_cpu_to_be_16(ip_id);
		ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->dgram_len = rte_cpu_to_be_16(ulen);
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(h + RTE_ETHER_HDR_LEN);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)tos << 20 | base);
		ip->payload_len = rte_cpu_to_be_16(ulen);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->dgram_len = rte_cpu_to_be_16(ulen);
		udp->dgram_cksum = 0;
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	}
}

static inline void ovl_eni_rx(unsigned int worker, uint32_t eni, uint32_t bytes)
{
	struct ss_overlay_eni_counters *c = &ss_overlay_eni_ctr[worker][eni];

	c->rx_packets++;
	c->rx_bytes += bytes;
}

static inline void ovl_eni_tx(unsigned int worker, uint32_t eni, uint32_t bytes)
{
	struct ss_overlay_eni_counters *c = &ss_overlay_eni_ctr[worker][eni];

	c->tx_packets++;
	c->tx_bytes += bytes;
}

/* Apply a flow's cached transform x (ct_xform.h) to tenant packet m whose
 * tenant layer is l, as vxlan_encap would have built it: tags stripped,
 * inner destination MAC rewritten, the cached outer headers prepended with
 * their per-packet fields; for the route action `direct`, the TTL
 * decremented and the cached Ethernet header written. 0, or the drop
 * reason (ttl_exceeded, no_mbuf). The caller sends it to x->port. Used by
 * route_out and by the flow fast path (pipelines/conntrack/flow_fast.c). */
static __rte_always_inline int ovl_xform_apply(struct ss_ovl_wstate *ws, struct rte_mbuf *m,
				  const struct ss_layer *l, const struct ss_ct_xform *x)
{
	uint32_t inner_len;
	uint8_t tos, *h;

	if (x->direct) {
		uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

		if (unlikely(ovl_direct_ttl(frame + l->l3_off, ovl_fam(l)) < 0))
			return SS_DROP_TTL_EXCEEDED;
		frame = ovl_tenant_frame(m, l);
		memcpy(frame, x->hdr, RTE_ETHER_HDR_LEN);
		ws->cache_hits++;
		return 0;
	}
	tos = ovl_inner_prep(m, l, x->set_mac, x->mac, x->dscp);
	inner_len = m->pkt_len;
	h = (uint8_t *)rte_pktmbuf_prepend(m, x->hlen);
	if (unlikely(h == NULL))
		return SS_DROP_NO_MBUF;
	/* the two usual sizes in vector moves (two overlapping ones cover the
	 * tail); a plain memcpy of 50 bytes became `rep movsb`, whose start-up
	 * cost more than the copy */
	if (x->hlen == RTE_ETHER_HDR_LEN + 20 + OVL_VXLAN_HLEN) {
		rte_mov32(h, x->hdr);
		rte_mov32(h + RTE_ETHER_HDR_LEN + 20 + OVL_VXLAN_HLEN - 32,
			  x->hdr + RTE_ETHER_HDR_LEN + 20 + OVL_VXLAN_HLEN - 32);
	} else if (x->hlen == RTE_ETHER_HDR_LEN + 40 + OVL_VXLAN_HLEN) {
		rte_mov64(h, x->hdr);
		rte_mov32(h + RTE_ETHER_HDR_LEN + 40 + OVL_VXLAN_HLEN - 32,
			  x->hdr + RTE_ETHER_HDR_LEN + 40 + OVL_VXLAN_HLEN - 32);
	} else
		memcpy(h, x->hdr, x->hlen);
	if (x->v4)
		ovl_outer_fix(h, true, tos, inner_len, ws->ip_id++, x->base);
	else
		ovl_outer_fix(h, false, tos, inner_len, 0, x->base);
	ws->cache_hits++;
	return 0;
}

/* ---- replies (ovl_reply.c) ---------------------------------------------
 * The frame is rewritten in place into the reply; it keeps its VLAN tags and
 * leaves on the port it came in on. */

/* An ARP request (Ethernet/IPv4, not a probe nor gratuitous): 1 and the
 * target address. */
int ovl_arp_request(const uint8_t *frame, const struct ss_layer *l, uint8_t tpa[4]);
void ovl_arp_reply(uint8_t *frame, const struct ss_layer *l, const struct rte_ether_addr *mac);
/* A neighbour solicitation (RFC 4861 7.1.1 checks, not DAD): 1 and the
 * target address. */
int ovl_nd_solicit(const uint8_t *frame, const struct ss_layer *l, uint8_t target[16]);
/* Rewrite into a neighbour advertisement with a target link-layer address
 * option. 0, or -1 when the mbuf has no room. */
int ovl_nd_advert(struct rte_mbuf *m, const struct ss_layer *l, const struct rte_ether_addr *mac,
		  bool router);
/* An ICMP / ICMPv6 echo request: rewrite it into the reply, from `mac`.
 * 1 when it was one, 0 otherwise (frame untouched). */
int ovl_echo_reply(uint8_t *frame, const struct ss_layer *l, const struct rte_ether_addr *mac);

#endif
