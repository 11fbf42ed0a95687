/* SPDX-License-Identifier: BSD-3-Clause
 *
 * IPv4 -> IPv6 header translation of a packet to a private endpoint (RFC
 * 7915 section 4 as SPEC 3.8 narrows it), in place in the mbuf. Workers.
 *
 *   source      := overlay_sip with the IPv4 source in the low 32 bits
 *                  (the whole overlay_sip when it is a /128)
 *   destination := overlay_dip with the IPv4 destination likewise
 *   traffic class := TOS, flow label 0, hop limit := TTL (not decremented:
 *   the overlay does not route), next header := protocol (ICMP -> 58),
 *   IPv4 options dropped, Ethernet padding trimmed.
 *   TCP / UDP: checksum updated for the new pseudo-header (RFC 1624
 *   incremental update: the protocol and length words are the same in both
 *   pseudo-headers, only the addresses differ); a UDP checksum of 0 is
 *   computed (RFC 7915 4.5). ICMP echo request / reply -> ICMPv6 128 / 129
 *   with the checksum computed over the IPv6 pseudo-header (RFC 7915 4.2).
 *   Refused (nat_unsupported): fragments, other ICMP types, TCP / UDP
 *   without their header, segmented mbufs.
 *
 * And back (ss_pl_nat64, the reply from the service; RFC 7915 section 5 as
 * SPEC 3.8 narrows it): the inner IPv6 packet of a VXLAN frame becomes
 *   IPv4 from the private endpoint's address to the VM's (the original
 *   addresses), TOS := traffic class, TTL := hop limit (not decremented),
 *   Identification 0, DF set (RFC 7915 5.1: no Fragment Header), protocol
 *   := next header (58 -> ICMP), header checksum computed;
 *   TCP / UDP checksum updated incrementally (RFC 1624: only the address
 *   words of the pseudo-header differ), a UDP checksum of 0 (not valid over
 *   IPv6) computed; ICMPv6 echo request / reply 128 / 129 -> ICMP 8 / 0,
 *   the checksum updated incrementally (the IPv6 pseudo-header and the
 *   type word out, the new type word in: RFC 7915 5.2), so a packet
 *   corrupted on the way stays detectably corrupt.
 *   Refused (nat_unsupported): extension headers (fragments among them),
 *   other ICMPv6 types, TCP / UDP / ICMPv6 without their header, segmented
 *   mbufs.
 */
#ifndef SS_PL_NAT_H
#define SS_PL_NAT_H

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "pipelines/drop/drop.h"
#include "pipelines/parse/parse.h"
#include "pipelines/privatelink/pl.h"

#define SS_PL_PROTO_ICMP 1
#define SS_PL_PROTO_TCP 6
#define SS_PL_PROTO_UDP 17
#define SS_PL_PROTO_ICMPV6 58

/* The IPv6 address of prefix `pfx` (length `len`) for IPv4 address `a4`. */
static inline void ss_pl_addr46(uint8_t out[16], const uint8_t pfx[16], uint8_t len,
				const uint8_t a4[4])
{
	memcpy(out, pfx, 16);
	if (len != 128)
		memcpy(out + 12, a4, 4);
}

/* One's complement sum of n bytes (n even) as 16-bit words, unfolded. */
static inline uint32_t ss_pl_sum(const uint8_t *a, unsigned int n)
{
	uint32_t s = 0;

	for (unsigned int i = 0; i < n; i += 2)
		s += (uint32_t)(a[i] << 8 | a[i + 1]);
	return s;
}

static inline uint16_t ss_pl_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Translate the IPv4 tenant packet `l` in m to IPv6 toward endpoint ep.
 * On success the mbuf holds [Ethernet (the tenant's MACs, untagged),
 * IPv6, L4...] from its start and *out describes it. 0, or a drop reason. */
static inline int ss_pl_nat46(struct rte_mbuf *m, const struct ss_layer *l,
			      const struct ss_pl_ep *ep, struct ss_layer *out)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	const uint8_t *ip = f + l->l3_off;
	uint8_t macs[12], src4[4], dst4[4], src6[16], dst6[16];
	uint8_t tos, ttl, proto, nh;
	uint16_t ihl, tot, plen, l4 = 0;
	uint8_t *h, *p;
	int32_t delta;

	if (l->flags & SS_PF_FRAG || !rte_pktmbuf_is_contiguous(m))
		return SS_DROP_NAT_UNSUPPORTED;
	ihl = (uint16_t)((ip[0] & 0xf) * 4);
	tot = (uint16_t)(ip[2] << 8 | ip[3]);
	tos = ip[1];
	ttl = ip[8];
	proto = ip[9];
	nh = proto == SS_PL_PROTO_ICMP ? SS_PL_PROTO_ICMPV6 : proto;
	if (proto == SS_PL_PROTO_TCP || proto == SS_PL_PROTO_UDP || proto == SS_PL_PROTO_ICMP) {
		if (!(l->flags & SS_PF_L4))
			return SS_DROP_NAT_UNSUPPORTED;
		if (proto == SS_PL_PROTO_ICMP && f[l->l4_off] != 8 && f[l->l4_off] != 0)
			return SS_DROP_NAT_UNSUPPORTED;
	}
	memcpy(macs, f + l->l2_off, 12);
	memcpy(src4, ip + 12, 4);
	memcpy(dst4, ip + 16, 4);
	ss_pl_addr46(src6, ep->sip, ep->sip_len, src4);
	ss_pl_addr46(dst6, ep->dip, ep->dip_len, dst4);
	plen = (uint16_t)(tot - ihl);
	/* drop the Ethernet padding, then make room: 54 bytes end at the L4 */
	if (m->pkt_len > (uint32_t)l->l3_off + tot)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - l->l3_off - tot));
	delta = (int32_t)(l->l3_off + ihl) - (RTE_ETHER_HDR_LEN + 40);
	if (delta >= 0)
		h = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)delta);
	else
		h = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)-delta);
	if (h == NULL)
		return SS_DROP_NO_MBUF;
	memcpy(h, macs, 12);
	h[12] = 0x86;
	h[13] = 0xdd;
	p = h + RTE_ETHER_HDR_LEN;
	p[0] = (uint8_t)(0x60 | tos >> 4);
	p[1] = (uint8_t)(tos << 4);
	p[2] = p[3] = 0;
	p[4] = (uint8_t)(plen >> 8);
	p[5] = (uint8_t)plen;
	p[6] = nh;
	p[7] = ttl;
	memcpy(p + 8, src6, 16);
	memcpy(p + 24, dst6, 16);
	l4 = RTE_ETHER_HDR_LEN + 40;
	if (proto == SS_PL_PROTO_TCP || (proto == SS_PL_PROTO_UDP && (h[l4 + 6] | h[l4 + 7]))) {
		uint8_t *ck = h + l4 + (proto == SS_PL_PROTO_TCP ? 16 : 6);
		uint32_t s = (uint16_t)~(ck[0] << 8 | ck[1]);
		uint16_t r;

		/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') */
		s += (uint16_t)~ss_pl_fold(ss_pl_sum(src4, 4) + ss_pl_sum(dst4, 4));
		s += ss_pl_sum(src6, 16) + ss_pl_sum(dst6, 16);
		r = (uint16_t)~ss_pl_fold(s);
		if (proto == SS_PL_PROTO_UDP && r == 0)
			r = 0xffff;
		ck[0] = (uint8_t)(r >> 8);
		ck[1] = (uint8_t)r;
	} else if (proto == SS_PL_PROTO_UDP || proto == SS_PL_PROTO_ICMP) {
		uint8_t *ck = h + l4 + (proto == SS_PL_PROTO_UDP ? 6 : 2);

		if (proto == SS_PL_PROTO_ICMP)
			h[l4] = h[l4] == 8 ? 128 : 129;
		ck[0] = ck[1] = 0;
		uint16_t r = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)p, h + l4);
		memcpy(ck, &r, 2);   /* network order already */
	}
	memset(out, 0, sizeof(*out));
	out->l3_off = RTE_ETHER_HDR_LEN;
	out->l4_off = l4;
	out->l3_len = (uint16_t)(40 + plen);
	out->ethertype = SS_ETHERTYPE_IPV6;
	out->l3 = SS_L3_IPV6;
	out->proto = nh;
	out->flags = l->flags & SS_PF_L4;
	out->sport = l->sport;
	out->dport = l->dport;
	return 0;
}

/* Translate the inner IPv6 packet `in` of the VXLAN frame in m back to
 * IPv4 from src4 to dst4 (SPEC 3.8, above), in place: everything before
 * the inner IP header (outer headers, inner Ethernet) moves 20 bytes
 * forward, so the inner IP header keeps its offset from the (new) frame
 * start; the inner EtherType becomes IPv4. The outer headers are left as
 * they arrived: their length fields still count the IPv6 packet (only
 * vxlan_decap, which removes them, comes after). The frame ends where the
 * IPv4 packet does. 0, or a drop reason; `in` must then be parsed again. */
static inline int ss_pl_nat64(struct rte_mbuf *m, const struct ss_layer *in, const uint8_t src4[4],
			      const uint8_t dst4[4])
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *ip = f + in->l3_off, *l4 = ip + 40;
	uint8_t nh = in->proto, proto, tc, hlim, *ck = NULL;
	uint16_t plen, ick, r;
	uint32_t s;
	bool udp0 = false;

	if (in->flags & (SS_PF_FRAG | SS_PF_IP_OPTS) || !rte_pktmbuf_is_contiguous(m))
		return SS_DROP_NAT_UNSUPPORTED;
	plen = (uint16_t)(ip[4] << 8 | ip[5]);
	if (nh == SS_PL_PROTO_TCP || nh == SS_PL_PROTO_UDP || nh == SS_PL_PROTO_ICMPV6) {
		if (!(in->flags & SS_PF_L4))
			return SS_DROP_NAT_UNSUPPORTED;
		if (nh == SS_PL_PROTO_ICMPV6 && l4[0] != 128 && l4[0] != 129)
			return SS_DROP_NAT_UNSUPPORTED;
	}
	tc = (uint8_t)(ip[0] << 4 | ip[1] >> 4);
	hlim = ip[7];
	proto = nh == SS_PL_PROTO_ICMPV6 ? SS_PL_PROTO_ICMP : nh;
	/* checksums first, while the IPv6 addresses are there */
	if (nh == SS_PL_PROTO_TCP || nh == SS_PL_PROTO_UDP) {
		ck = l4 + (nh == SS_PL_PROTO_TCP ? 16 : 6);
		ick = (uint16_t)(ck[0] << 8 | ck[1]);
		udp0 = nh == SS_PL_PROTO_UDP && ick == 0;
		if (!udp0) {
			/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') */
			s = (uint16_t)~ick;
			s += (uint16_t)~ss_pl_fold(ss_pl_sum(ip + 8, 32));
			s += ss_pl_sum(src4, 4) + ss_pl_sum(dst4, 4);
			r = (uint16_t)~ss_pl_fold(s);
			if (nh == SS_PL_PROTO_UDP && r == 0)
				r = 0xffff;
			ck[0] = (uint8_t)(r >> 8);
			ck[1] = (uint8_t)r;
		}
	} else if (nh == SS_PL_PROTO_ICMPV6) {
		uint8_t type = l4[0] == 128 ? 8 : 0;

		ck = l4 + 2;
		ick = (uint16_t)(ck[0] << 8 | ck[1]);
		/* out: the pseudo-header (addresses, length, next header 58) and
		 * the old type word; in: the new type word */
		s = (uint16_t)~ick;
		s += (uint16_t)~ss_pl_fold(ss_pl_sum(ip + 8, 32) + plen + SS_PL_PROTO_ICMPV6 +
					   (uint32_t)(l4[0] << 8 | l4[1]));
		s += (uint32_t)(type << 8 | l4[1]);
		r = (uint16_t)~ss_pl_fold(s);
		l4[0] = type;
		ck[0] = (uint8_t)(r >> 8);
		ck[1] = (uint8_t)r;
	}
	/* the frame ends with the IP packet */
	if (m->pkt_len > (uint32_t)in->l3_off + 40 + plen)
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - in->l3_off - 40 - plen));
	memmove(f + 20, f, in->l3_off);
	f = (uint8_t *)rte_pktmbuf_adj(m, 20);
	if (f == NULL)
		return SS_DROP_NAT_UNSUPPORTED;
	f[in->l3_off - 2] = SS_ETHERTYPE_IPV4 >> 8;
	f[in->l3_off - 1] = SS_ETHERTYPE_IPV4 & 0xff;
	ip = f + in->l3_off;
	ip[0] = 0x45;
	ip[1] = tc;
	ip[2] = (uint8_t)((20 + plen) >> 8);
	ip[3] = (uint8_t)(20 + plen);
	ip[4] = ip[5] = 0;           /* Identification 0 */
	ip[6] = 0x40;                /* DF */
	ip[7] = 0;
	ip[8] = hlim;
	ip[9] = proto;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, src4, 4);
	memcpy(ip + 16, dst4, 4);
	r = rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip);
	memcpy(ip + 10, &r, 2);      /* network order already */
	if (udp0) {
		ck = ip + 20 + 6;
		r = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)ip, ip + 20);
		memcpy(ck, &r, 2);
	}
	return 0;
}

#endif
