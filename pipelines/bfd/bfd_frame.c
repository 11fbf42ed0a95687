/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Frames around BFD (bfd_frame.h).
 */
#include <string.h>

#include "pipelines/bfd/bfd_frame.h"
#include "pipelines/bfd/bfd_fsm.h"

#define ETH_HLEN 14
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const uint8_t *ip_src(const uint8_t *frame, const struct ss_layer *l)
{
	return frame + l->l3_off + (l->l3 == SS_L3_IPV4 ? 12 : 8);
}

int ss_bfd_frame_classify(const uint8_t *frame, uint32_t len, const struct ss_layer *l,
			  const uint8_t **src)
{
	if (l->l3 == SS_L3_ARP) {
		const uint8_t *a = frame + l->l3_off;

		if ((uint32_t)l->l3_off + 28 > len || rd16(a) != 1 ||
		    rd16(a + 2) != SS_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 || rd16(a + 6) != 2)
			return SS_BFD_FRAME_NONE;
		*src = a + 14;
		return SS_BFD_FRAME_ARP;
	}
	if (!(l->flags & SS_PF_L4) || (l->flags & SS_PF_VXLAN))
		return SS_BFD_FRAME_NONE;
	if (l->proto == IPPROTO_UDP_ &&
	    (l->dport == SS_BFD_UDP_SINGLE || l->dport == SS_BFD_UDP_MULTI)) {
		*src = ip_src(frame, l);
		return SS_BFD_FRAME_BFD;
	}
	if (l->l3 == SS_L3_IPV6 && l->proto == IPPROTO_ICMPV6_ && (l->dport >> 8) == 136 &&
	    (uint32_t)l->l4_off + 24 <= len) {
		*src = frame + l->l4_off + 8;  /* the target address */
		return SS_BFD_FRAME_NA;
	}
	return SS_BFD_FRAME_NONE;
}

int ss_bfd_frame_read(const uint8_t *frame, uint32_t len, const struct ss_layer *l,
		      struct ss_bfd_rx_frame *out)
{
	const uint8_t *src;
	int kind = ss_bfd_frame_classify(frame, len, l, &src);

	memset(out, 0, sizeof(*out));
	out->kind = (uint8_t)kind;
	if (kind == SS_BFD_FRAME_NONE)
		return SS_BFD_DISC_SHORT;
	if ((uint32_t)l->l2_off + ETH_HLEN > len)
		return SS_BFD_DISC_SHORT;
	memcpy(out->smac, frame + l->l2_off + 6, 6);
	if (kind == SS_BFD_FRAME_ARP) {
		out->fam = 4;
		memcpy(out->smac, frame + l->l3_off + 8, 6);
		memcpy(out->src, src, 4);
		memcpy(out->dst, frame + l->l3_off + 24, 4);
		return SS_BFD_OK;
	}
	out->fam = l->l3 == SS_L3_IPV4 ? 4 : 6;
	if (out->fam == 4) {
		if ((uint32_t)l->l3_off + 20 > len)
			return SS_BFD_DISC_SHORT;
		out->ttl = frame[l->l3_off + 8];
		memcpy(out->dst, frame + l->l3_off + 16, 4);
	} else {
		if ((uint32_t)l->l3_off + 40 > len)
			return SS_BFD_DISC_SHORT;
		out->ttl = frame[l->l3_off + 7];
		memcpy(out->dst, frame + l->l3_off + 24, 16);
	}
	memcpy(out->src, src, out->fam == 4 ? 4 : 16);
	if (kind == SS_BFD_FRAME_NA) {
		/* options after the 24-byte message: the target link-layer
		 * address (type 2) names the peer's MAC */
		uint32_t off = (uint32_t)l->l4_off + 24;
		uint32_t end = (uint32_t)l->l3_off + l->l3_len;

		if (end > len)
			end = len;
		while (off + 8 <= end && frame[off + 1] != 0) {
			uint32_t olen = (uint32_t)frame[off + 1] * 8;

			if (frame[off] == 2 && olen >= 8)
				memcpy(out->smac, frame + off + 2, 6);
			off += olen;
		}
		return SS_BFD_OK;
	}
	/* BFD in UDP: the UDP length must fit the IP packet */
	{
		uint32_t ulen, end = (uint32_t)l->l3_off + l->l3_len;

		out->sport = l->sport;
		out->dport = l->dport;
		if ((uint32_t)l->l4_off + 8 > len || end > len)
			return SS_BFD_DISC_UDP;
		ulen = rd16(frame + l->l4_off + 4);
		if (ulen < 8 || l->l4_off + ulen > end)
			return SS_BFD_DISC_UDP;
		out->payload = frame + l->l4_off + 8;
		out->plen = ulen - 8;
	}
	return SS_BFD_OK;
}

/* ---- building ---------------------------------------------------------------------- */

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The L4 checksum over the pseudo-header and `l4len` bytes at l4. */
static uint16_t l4_csum(int fam, const uint8_t *sip, const uint8_t *dip, uint8_t proto,
			const uint8_t *l4, uint32_t l4len)
{
	uint8_t ph[40];
	uint32_t n;
	uint16_t c;

	memset(ph, 0, sizeof(ph));
	if (fam == 4) {
		memcpy(ph, sip, 4);
		memcpy(ph + 4, dip, 4);
		ph[9] = proto;
		wr16(ph + 10, (uint16_t)l4len);
		n = 12;
	} else {
		memcpy(ph, sip, 16);
		memcpy(ph + 16, dip, 16);
		ph[34] = (uint8_t)(l4len >> 8);
		ph[35] = (uint8_t)l4len;
		ph[39] = proto;
		n = 40;
	}
	c = (uint16_t)~fold((uint32_t)ss_csum_raw(l4, l4len, ss_csum_raw(ph, n, 0)));
	return c == 0 && proto == IPPROTO_UDP_ ? 0xffff : c;
}

static uint8_t *eth(uint8_t *buf, const uint8_t dmac[6], const uint8_t smac[6], uint16_t type)
{
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	wr16(buf + 12, type);
	return buf + ETH_HLEN;
}

/* IPv4 or IPv6 header at p for `l4len` bytes of `proto`; returns the L4 start. */
static uint8_t *ip_hdr(uint8_t *p, int fam, const uint8_t *sip, const uint8_t *dip, uint8_t proto,
		       uint8_t ttl, uint32_t l4len)
{
	if (fam == 4) {
		memset(p, 0, 20);
		p[0] = 0x45;
		p[1] = 0xc0;                      /* CS6: network control */
		wr16(p + 2, (uint16_t)(20 + l4len));
		p[8] = ttl;
		p[9] = proto;
		memcpy(p + 12, sip, 4);
		memcpy(p + 16, dip, 4);
		wr16(p + 10, (uint16_t)~fold(ss_csum_raw(p, 20, 0)));
		return p + 20;
	}
	memset(p, 0, 40);
	p[0] = 0x6c;                              /* version 6, traffic class CS6 */
	wr16(p + 4, (uint16_t)l4len);
	p[6] = proto;
	p[7] = ttl;
	memcpy(p + 8, sip, 16);
	memcpy(p + 24, dip, 16);
	return p + 40;
}

uint32_t ss_bfd_frame_udp(uint8_t *buf, uint32_t cap, const uint8_t dmac[6],
			  const uint8_t smac[6], int fam, const uint8_t *sip, const uint8_t *dip,
			  uint16_t sport, uint16_t dport, uint8_t ttl, const uint8_t *payload,
			  uint32_t plen)
{
	uint32_t l4len = 8 + plen, total = ETH_HLEN + (fam == 4 ? 20 : 40) + l4len;
	uint8_t *p, *udp;

	if (total > cap)
		return 0;
	p = eth(buf, dmac, smac, fam == 4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6);
	udp = ip_hdr(p, fam, sip, dip, IPPROTO_UDP_, ttl, l4len);
	wr16(udp, sport);
	wr16(udp + 2, dport);
	wr16(udp + 4, (uint16_t)l4len);
	wr16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	wr16(udp + 6, l4_csum(fam, sip, dip, IPPROTO_UDP_, udp, l4len));
	return total;
}

uint32_t ss_bfd_frame_arp(uint8_t *buf, uint32_t cap, const uint8_t smac[6], const uint8_t sip[4],
			  const uint8_t tip[4])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t *a;

	if (cap < 60)
		return 0;
	memset(buf, 0, 60);                       /* padded to the Ethernet minimum */
	a = eth(buf, bcast, smac, SS_ETHERTYPE_ARP);
	wr16(a, 1);
	wr16(a + 2, SS_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, 1);
	memcpy(a + 8, smac, 6);
	memcpy(a + 14, sip, 4);
	memcpy(a + 24, tip, 4);
	return 60;
}

uint32_t ss_bfd_frame_ns(uint8_t *buf, uint32_t cap, const uint8_t smac[6], const uint8_t sip[16],
			 const uint8_t tip[16])
{
	uint8_t dmac[6] = { 0x33, 0x33, 0xff, tip[13], tip[14], tip[15] };
	uint8_t dip[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff, [13] = tip[13],
			    [14] = tip[14], [15] = tip[15] };
	uint32_t l4len = 32, total = ETH_HLEN + 40 + l4len;
	uint8_t *p, *icmp;

	if (total > cap)
		return 0;
	p = eth(buf, dmac, smac, SS_ETHERTYPE_IPV6);
	icmp = ip_hdr(p, 6, sip, dip, IPPROTO_ICMPV6_, 255, l4len);
	memset(icmp, 0, l4len);
	icmp[0] = 135;
	memcpy(icmp + 8, tip, 16);
	icmp[24] = 1;                              /* source link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, smac, 6);
	wr16(icmp + 2, l4_csum(6, sip, dip, IPPROTO_ICMPV6_, icmp, l4len));
	return total;
}
