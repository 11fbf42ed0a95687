/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet building for the conntrack unit tests: IPv4/IPv6 frames with TCP,
 * UDP, ICMP (echo and errors quoting another packet), fragments; parsed
 * with the real parser so the policy stage sees what it sees in sswitchd.
 */
#ifndef SS_TEST_CT_UTIL_H
#define SS_TEST_CT_UTIL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "pipelines/conntrack/ct.h"
#include "pipelines/parse/parse.h"

#define TF_FIN 0x01
#define TF_SYN 0x02
#define TF_RST 0x04
#define TF_ACK 0x10

struct tpkt {
	uint8_t b[512];
	uint32_t len;
	struct ss_parsed hdr;
	struct ss_ct_pkt p;
};

static inline void tp_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* L4 bytes */
static inline uint32_t l4_tcp(uint8_t *b, uint16_t sp, uint16_t dp, uint8_t flags)
{
	memset(b, 0, 20);
	tp_wr16(b, sp);
	tp_wr16(b + 2, dp);
	b[12] = 5 << 4;
	b[13] = flags;
	tp_wr16(b + 14, 65535);
	return 20;
}

static inline uint32_t l4_udp(uint8_t *b, uint16_t sp, uint16_t dp, uint32_t payload)
{
	memset(b, 0, 8 + payload);
	tp_wr16(b, sp);
	tp_wr16(b + 2, dp);
	tp_wr16(b + 4, (uint16_t)(8 + payload));
	return 8 + payload;
}

static inline uint32_t l4_icmp(uint8_t *b, uint8_t type, uint8_t code, uint16_t id,
			       const uint8_t *quote, uint32_t qlen)
{
	memset(b, 0, 8);
	b[0] = type;
	b[1] = code;
	tp_wr16(b + 4, id);
	if (quote)
		memcpy(b + 8, quote, qlen);
	return 8 + (quote ? qlen : 0);
}

/* An IP packet (no Ethernet) into `out`; returns its length. frag: the
 * IPv4 flags+offset word (IPv6: a fragment header is added when frag_id is
 * non-zero, with `frag` as its offset|M word). */
static inline uint32_t ip_pkt(uint8_t *out, int v6, const char *src, const char *dst,
			      uint8_t proto, uint16_t frag, uint32_t frag_id, const uint8_t *l4,
			      uint32_t l4len)
{
	if (!v6) {
		memset(out, 0, 20);
		out[0] = 0x45;
		tp_wr16(out + 2, (uint16_t)(20 + l4len));
		tp_wr16(out + 4, (uint16_t)frag_id);
		tp_wr16(out + 6, frag);
		out[8] = 64;
		out[9] = proto;
		inet_pton(AF_INET, src, out + 12);
		inet_pton(AF_INET, dst, out + 16);
		tp_wr16(out + 10, (uint16_t)~ss_csum_raw(out, 20, 0));
		memcpy(out + 20, l4, l4len);
		return 20 + l4len;
	}
	uint32_t h = 40;

	memset(out, 0, 40);
	out[0] = 0x60;
	out[6] = proto;
	out[7] = 64;
	inet_pton(AF_INET6, src, out + 8);
	inet_pton(AF_INET6, dst, out + 24);
	if (frag_id) {
		out[6] = 44;
		memset(out + 40, 0, 8);
		out[40] = proto;
		tp_wr16(out + 42, frag);
		out[44] = (uint8_t)(frag_id >> 24);
		out[45] = (uint8_t)(frag_id >> 16);
		out[46] = (uint8_t)(frag_id >> 8);
		out[47] = (uint8_t)frag_id;
		h = 48;
	}
	memcpy(out + h, l4, l4len);
	tp_wr16(out + 4, (uint16_t)(h - 40 + l4len));
	return h + l4len;
}

/* Ethernet + IP packet, parsed; 0 or the parser's drop reason. */
static inline int tp_frame(struct tpkt *t, uint32_t eni, int v6, const char *src,
			   const char *dst, uint8_t proto, uint16_t frag, uint32_t frag_id,
			   const uint8_t *l4, uint32_t l4len)
{
	memset(t->b, 0, 14);
	t->b[0] = 0x02;
	t->b[6] = 0x02;
	tp_wr16(t->b + 12, v6 ? 0x86dd : 0x0800);
	t->len = 14 + ip_pkt(t->b + 14, v6, src, dst, proto, frag, frag_id, l4, l4len);
	t->p.data = t->b;
	t->p.l = &t->hdr.outer;
	t->p.eni = eni;
	return ss_parse(t->b, t->len, &t->hdr, NULL);
}

#endif
