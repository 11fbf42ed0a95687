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
#include <rte_mbuf.h>

#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
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
