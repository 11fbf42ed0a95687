/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Replies the switch answers itself (SPEC sections 2, 3.1 step 3, 3.2 step
 * 1): ARP (RFC 826), IPv6 neighbour advertisements (RFC 4861), ICMP and
 * ICMPv6 echo replies (RFC 792, RFC 4443). Each rewrites the request in
 * place; the caller sends it back out of the port it came in on.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "pipelines/overlay/ovl_pkt.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- ARP ------------------------------------------------------------------- */

int ovl_arp_request(const uint8_t *frame, const struct ss_layer *l, uint8_t tpa[4])
{
	const uint8_t *a = frame + l->l3_off;
	static const uint8_t zero[4];

	if (l->l3 != SS_L3_ARP || rd16(a) != 1 || rd16(a + 2) != SS_ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4 || rd16(a + 6) != 1)
		return 0;
	/* RFC 5227: a probe (sender 0.0.0.0) or an announcement (sender =
	 * target) asks nobody; answering would break duplicate detection */
	if (memcmp(a + 14, zero, 4) == 0 || memcmp(a + 14, a + 24, 4) == 0)
		return 0;
	memcpy(tpa, a + 24, 4);
	return 1;
}

void ovl_arp_reply(uint8_t *frame, const struct ss_layer *l, const struct rte_ether_addr *mac)
{
	uint8_t *a = frame + l->l3_off;
	uint8_t sha[6], spa[4], tpa[4];

	memcpy(sha, a + 8, 6);
	memcpy(spa, a + 14, 4);
	memcpy(tpa, a + 24, 4);
	memcpy(frame + l->l2_off, sha, 6);                 /* Ethernet destination */
	memcpy(frame + l->l2_off + 6, mac->addr_bytes, 6);  /* and source */
	wr16(a + 6, 2);                                    /* reply */
	memcpy(a + 8, mac->addr_bytes, 6);
	memcpy(a + 14, tpa, 4);
	memcpy(a + 18, sha, 6);
	memcpy(a + 24, spa, 4);
}

/* ---- neighbour discovery ------------------------------------------------------ */

int ovl_nd_solicit(const uint8_t *frame, const struct ss_layer *l, uint8_t target[16])
{
	const uint8_t *ip = frame + l->l3_off;
	const uint8_t *icmp = frame + l->l4_off;
	static const uint8_t unspec[16];

	if (l->l3 != SS_L3_IPV6 || l->proto != OVL_IPPROTO_ICMPV6 || !(l->flags & SS_PF_L4) ||
	    (l->dport >> 8) != 135)
		return 0;
	/* RFC 4861 7.1.1: hop limit 255, code 0, 24 bytes at least, target
	 * not multicast; a solicitation from :: is duplicate address
	 * detection, which the switch must not answer */
	if (ip[7] != 255 || icmp[1] != 0 || l->l3_off + l->l3_len - l->l4_off < 24 ||
	    icmp[8] == 0xff || memcmp(ip + 8, unspec, 16) == 0)
		return 0;
	memcpy(target, icmp + 8, 16);
	return 1;
}

int ovl_nd_advert(struct rte_mbuf *m, const struct ss_layer *l, const struct rte_ether_addr *mac,
		  bool router)
{
	uint32_t need = (uint32_t)l->l3_off + 40 + 32;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t src[16], target[16], *ip, *icmp;

	memcpy(src, frame + l->l3_off + 8, 16);
	memcpy(target, frame + l->l4_off + 8, 16);
	if (need > rte_pktmbuf_data_len(m)) {
		if (rte_pktmbuf_append(m, (uint16_t)(need - rte_pktmbuf_data_len(m))) == NULL)
			return -1;
	} else if (need < rte_pktmbuf_data_len(m)) {
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - need));
	}
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(frame + l->l2_off, frame + l->l2_off + 6, 6);
	memcpy(frame + l->l2_off + 6, mac->addr_bytes, 6);
	ip = frame + l->l3_off;
	icmp = ip + 40;
	memset(ip, 0, 72);
	ip[0] = 0x60;
	wr16(ip + 4, 32);
	ip[6] = OVL_IPPROTO_ICMPV6;
	ip[7] = 255;
	memcpy(ip + 8, target, 16);
	memcpy(ip + 24, src, 16);
	icmp[0] = 136;
	icmp[4] = (uint8_t)((router ? 0x80 : 0) | 0x40 | 0x20); /* Router, Solicited, Override */
	memcpy(icmp + 8, target, 16);
	icmp[24] = 2;                                     /* target link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, mac->addr_bytes, 6);
	uint16_t ck = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)ip, icmp);
	memcpy(icmp + 2, &ck, 2);
	return 0;
}

/* ---- ICMP echo ------------------------------------------------------------------ */

int ovl_echo_reply(uint8_t *frame, const struct ss_layer *l, const struct rte_ether_addr *mac)
{
	uint8_t *ip = frame + l->l3_off;
	uint8_t *icmp = frame + l->l4_off;
	uint8_t tmp[16];
	uint16_t ck;

	if (!(l->flags & SS_PF_L4) || (l->flags & SS_PF_FRAG))
		return 0;
	if (l->l3 == SS_L3_IPV4 && l->proto == OVL_IPPROTO_ICMP && (l->dport >> 8) == 8) {
		uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
		memcpy(tmp, ip + 12, 4);
		memcpy(ip + 12, ip + 16, 4);
		memcpy(ip + 16, tmp, 4);
		ip[8] = 64;
		ip[10] = ip[11] = 0;
		ck = rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip);
		memcpy(ip + 10, &ck, 2);
		icmp[0] = 0;
		icmp[2] = icmp[3] = 0;
		ck = (uint16_t)~rte_raw_cksum(icmp, l->l3_len - ihl);
		memcpy(icmp + 2, &ck, 2);
	} else if (l->l3 == SS_L3_IPV6 && l->proto == OVL_IPPROTO_ICMPV6 &&
		   (l->dport >> 8) == 128 && !(l->flags & SS_PF_IP_OPTS)) {
		memcpy(tmp, ip + 8, 16);
		memcpy(ip + 8, ip + 24, 16);
		memcpy(ip + 24, tmp, 16);
		ip[7] = 64;
		icmp[0] = 129;
		icmp[2] = icmp[3] = 0;
		ck = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)ip, icmp);
		memcpy(icmp + 2, &ck, 2);
	} else {
		return 0;
	}
	memcpy(frame + l->l2_off, frame + l->l2_off + 6, 6);
	memcpy(frame + l->l2_off + 6, mac->addr_bytes, 6);
	return 1;
}
