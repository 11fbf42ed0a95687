/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's address rewrite: the destination of a VM's packet
 * (VIP -> backend, lb_out) or the source of a backend's reply (backend ->
 * VIP, lb_in), with the IPv4 header checksum and the TCP / UDP checksum
 * updated incrementally (RFC 1624, equation 3: HC' = ~(~HC + ~m + m')).
 * An IPv4 UDP checksum of 0 (none) stays 0; a computed 0 is sent as 0xffff
 * (RFC 768). Workers; headers are in the first segment (parse checked them).
 */
#ifndef SS_LB_NAT_H
#define SS_LB_NAT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include "pipelines/parse/parse.h"

static inline uint16_t ss_lb_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void ss_lb_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The checksum `csum` (host order) after the even-length bytes at `old`
 * became those at `neu`. */
static inline uint16_t ss_lb_csum_fix(uint16_t csum, const uint8_t *old, const uint8_t *neu,
				      unsigned int len)
{
	uint32_t s = (uint16_t)~csum;

	for (unsigned int i = 0; i < len; i += 2) {
		s += (uint16_t)~ss_lb_rd16(old + i);
		s += ss_lb_rd16(neu + i);
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Rewrite the destination (dst true) or the source address and port of the
 * tenant packet `l` (family 4 or 6, TCP or UDP with SS_PF_L4) in frame f,
 * and the ports the layer records. */
static inline void ss_lb_rewrite(uint8_t *f, struct ss_layer *l, uint8_t fam, bool dst,
				 const uint8_t *ip, uint16_t port)
{
	const unsigned int alen = fam == 4 ? 4 : 16;
	uint8_t *a = f + l->l3_off + (fam == 4 ? (dst ? 16 : 12) : (dst ? 24 : 8));
	uint8_t *l4 = f + l->l4_off, *pp = l4 + (dst ? 2 : 0);
	uint8_t *ck = l4 + (l->proto == IPPROTO_TCP ? 16 : 6), np[2];
	uint16_t c = ss_lb_rd16(ck);

	ss_lb_wr16(np, port);
	if (!(l->proto == IPPROTO_UDP && fam == 4 && c == 0)) {
		c = ss_lb_csum_fix(c, a, ip, alen);
		c = ss_lb_csum_fix(c, pp, np, 2);
		if (l->proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		ss_lb_wr16(ck, c);
	}
	if (fam == 4) {
		uint8_t *hc = f + l->l3_off + 10;

		ss_lb_wr16(hc, ss_lb_csum_fix(ss_lb_rd16(hc), a, ip, 4));
	}
	memcpy(a, ip, alen);
	memcpy(pp, np, 2);
	if (dst)
		l->dport = port;
	else
		l->sport = port;
}

#endif
