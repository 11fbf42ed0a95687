/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A small packet builder for the unit tests: append headers front to back,
 * then pb_finish() writes every IPv4 total length (and header checksum),
 * IPv6 payload length and UDP length from where the packet ends. Padding
 * added after pb_finish() is outside every length field, like Ethernet
 * padding on the wire.
 *
 * pb.hdr_end is the end of the last *header* appended (payloads are not
 * headers): a frame cut before it is cut inside a header.
 *
 * A builder that edits a field after pb_finish() (to break it) keeps the
 * edit: callers finish a packet only when pb.finished is still 0.
 *
 * Everything is static inline so a test file may use any subset.
 */
#ifndef SS_TEST_PKTBUILD_H
#define SS_TEST_PKTBUILD_H

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/parse/parse.h"

#define PB_MAX 4096
#define PB_MAX_FIX 16

enum pb_fix_kind { PB_FIX_IPV4 = 1, PB_FIX_IPV6, PB_FIX_UDP };

struct pb {
	uint8_t b[PB_MAX];
	uint32_t len;
	uint32_t hdr_end;
	int finished;           /* pb_finish() was called */
	unsigned int nfix;
	struct {
		uint8_t kind;
		uint32_t off;
	} fix[PB_MAX_FIX];
};

static inline void pb_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t pb_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void pb_init(struct pb *pb)
{
	memset(pb, 0, sizeof(*pb));
}

/* Append `n` bytes (copied from `data`, zeros when NULL); returns their offset. */
static inline uint32_t pb_put(struct pb *pb, const void *data, uint32_t n)
{
	uint32_t off = pb->len;

	assert(pb->len + n <= PB_MAX);
	if (data)
		memcpy(pb->b + off, data, n);
	else
		memset(pb->b + off, 0, n);
	pb->len += n;
	return off;
}

/* Append a header of `n` bytes: same as pb_put, and moves hdr_end. */
static inline uint32_t pb_hdr(struct pb *pb, const void *data, uint32_t n)
{
	uint32_t off = pb_put(pb, data, n);

	pb->hdr_end = pb->len;
	return off;
}

static inline void pb_push_fix(struct pb *pb, enum pb_fix_kind k, uint32_t off)
{
	assert(pb->nfix < PB_MAX_FIX);
	pb->fix[pb->nfix].kind = (uint8_t)k;
	pb->fix[pb->nfix].off = off;
	pb->nfix++;
}

/* Non-header bytes: a recognisable pattern. */
static inline uint32_t pb_payload(struct pb *pb, uint32_t n)
{
	uint32_t off = pb_put(pb, NULL, n);

	for (uint32_t i = 0; i < n; i++)
		pb->b[off + i] = (uint8_t)(0xa0 + i);
	return off;
}

/* Ethernet: dst 02:00:00:00:00:02, src 02:00:00:00:00:01, then `type`
 * (an ethertype, or a TPID followed by pb_vlan()). */
static inline uint32_t pb_eth(struct pb *pb, uint16_t type)
{
	uint8_t h[14] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01 };

	pb_wr16(h + 12, type);
	return pb_hdr(pb, h, sizeof(h));
}

/* The rest of an 802.1Q/802.1ad tag: TCI, then the next type. */
static inline uint32_t pb_vlan(struct pb *pb, uint16_t tci, uint16_t next_type)
{
	uint8_t h[4];

	pb_wr16(h, tci);
	pb_wr16(h + 2, next_type);
	return pb_hdr(pb, h, sizeof(h));
}

/* IPv4 with `optlen` bytes of options (a multiple of 4: NOPs then EOL).
 * 10.0.0.1 -> 10.0.0.2, TTL 64, id 0x1234, no fragmentation. */
static inline uint32_t pb_ipv4(struct pb *pb, uint8_t proto, uint32_t optlen)
{
	uint8_t h[60] = { 0 };
	uint32_t hl = 20 + optlen;

	assert(optlen % 4 == 0 && hl <= 60);
	h[0] = (uint8_t)(0x40 | hl / 4);
	pb_wr16(h + 4, 0x1234);
	h[8] = 64;
	h[9] = proto;
	h[12] = 10, h[15] = 1;
	h[16] = 10, h[19] = 2;
	for (uint32_t i = 0; i < optlen; i++)
		h[20 + i] = i + 1 == optlen ? 0x00 : 0x01;
	uint32_t off = pb_hdr(pb, h, hl);
	pb_push_fix(pb, PB_FIX_IPV4, off);
	return off;
}

/* Flags + fragment offset field of the IPv4 header at `off`. */
static inline void pb_ipv4_frag(struct pb *pb, uint32_t off, int mf, uint16_t offset8)
{
	pb_wr16(pb->b + off + 6, (uint16_t)((mf ? 0x2000 : 0) | (offset8 & 0x1fff)));
}

/* Recompute the header checksum of the IPv4 header at `ip`. */
static inline void pb_ipv4_csum(uint8_t *ip)
{
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;

	ip[10] = ip[11] = 0;
	pb_wr16(ip + 10, (uint16_t)~ss_csum_raw(ip, hl, 0));
}

/* IPv6 2001:db8::1 -> 2001:db8::2, hop limit 64. */
static inline uint32_t pb_ipv6(struct pb *pb, uint8_t nh)
{
	uint8_t h[40] = { 0x60 };

	h[6] = nh;
	h[7] = 64;
	h[8] = 0x20, h[9] = 0x01, h[10] = 0x0d, h[11] = 0xb8, h[23] = 1;
	h[24] = 0x20, h[25] = 0x01, h[26] = 0x0d, h[27] = 0xb8, h[39] = 2;
	uint32_t off = pb_hdr(pb, h, sizeof(h));
	pb_push_fix(pb, PB_FIX_IPV6, off);
	return off;
}

/* Hop-by-hop / destination options / routing header of (ext_len + 1) * 8
 * bytes: next header, Hdr Ext Len, then one PadN option filling the rest. */
static inline uint32_t pb_ext6(struct pb *pb, uint8_t nh, uint8_t ext_len)
{
	uint8_t h[2048] = { 0 };
	uint32_t n = ((uint32_t)ext_len + 1) * 8;

	h[0] = nh;
	h[1] = ext_len;
	h[2] = 0x01;            /* PadN */
	h[3] = (uint8_t)(n - 4);
	return pb_hdr(pb, h, n);
}

/* Authentication header (RFC 4302) with `icv_len` bytes of ICV (multiple of 8
 * minus 4 keeps it 8-aligned for IPv6): Payload Len = total/4 - 2. */
static inline uint32_t pb_ah6(struct pb *pb, uint8_t nh, uint32_t icv_len)
{
	uint8_t h[256] = { 0 };
	uint32_t n = 12 + icv_len;

	assert(n % 4 == 0 && n <= sizeof(h));
	h[0] = nh;
	h[1] = (uint8_t)(n / 4 - 2);
	h[7] = 0x42; /* SPI */
	h[11] = 1;   /* sequence */
	return pb_hdr(pb, h, n);
}

/* IPv6 fragment header: offset in 8-byte units, M flag. */
static inline uint32_t pb_frag6(struct pb *pb, uint8_t nh, uint16_t offset8, int more)
{
	uint8_t h[8] = { nh };

	pb_wr16(h + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	h[7] = 0x77; /* identification */
	return pb_hdr(pb, h, sizeof(h));
}

/* TCP SYN with `optlen` bytes of options (NOPs then EOL). */
static inline uint32_t pb_tcp(struct pb *pb, uint16_t sport, uint16_t dport, uint32_t optlen)
{
	uint8_t h[60] = { 0 };
	uint32_t hl = 20 + optlen;

	assert(optlen % 4 == 0 && hl <= 60);
	pb_wr16(h, sport);
	pb_wr16(h + 2, dport);
	h[7] = 1;
	h[12] = (uint8_t)(hl / 4 << 4);
	h[13] = 0x02;
	pb_wr16(h + 14, 65535);
	for (uint32_t i = 0; i < optlen; i++)
		h[20 + i] = i + 1 == optlen ? 0x00 : 0x01;
	return pb_hdr(pb, h, hl);
}

static inline uint32_t pb_udp(struct pb *pb, uint16_t sport, uint16_t dport)
{
	uint8_t h[8] = { 0 };

	pb_wr16(h, sport);
	pb_wr16(h + 2, dport);
	uint32_t off = pb_hdr(pb, h, sizeof(h));
	pb_push_fix(pb, PB_FIX_UDP, off);
	return off;
}

/* ICMP / ICMPv6: type, code, checksum (left 0), identifier, sequence. */
static inline uint32_t pb_icmp(struct pb *pb, uint8_t type, uint8_t code, uint16_t id,
			       uint16_t seq)
{
	uint8_t h[8] = { type, code };

	pb_wr16(h + 4, id);
	pb_wr16(h + 6, seq);
	return pb_hdr(pb, h, sizeof(h));
}

/* Ethernet/IPv4 ARP (28 bytes). */
static inline uint32_t pb_arp(struct pb *pb, uint16_t op)
{
	uint8_t h[28] = { 0, 1, 0x08, 0, 6, 4 };

	pb_wr16(h + 6, op);
	h[8] = 0x02, h[13] = 0x01;          /* sender MAC */
	h[14] = 10, h[17] = 1;              /* sender IP */
	h[24] = 10, h[27] = 2;              /* target IP */
	return pb_hdr(pb, h, sizeof(h));
}

/* VXLAN (RFC 7348): I flag, 24-bit VNI. */
static inline uint32_t pb_vxlan(struct pb *pb, uint32_t vni)
{
	uint8_t h[8] = { 0x08 };

	h[4] = (uint8_t)(vni >> 16), h[5] = (uint8_t)(vni >> 8), h[6] = (uint8_t)vni;
	return pb_hdr(pb, h, sizeof(h));
}

/* InfiniBand BTH (12 bytes), flags byte 0x40 (MigReq set, no pad, TVer 0). */
static inline uint32_t pb_bth(struct pb *pb, uint8_t opcode, uint16_t pkey, uint32_t dqp,
			      int ack_req, uint32_t psn)
{
	uint8_t h[12] = { opcode, 0x40 };

	pb_wr16(h + 2, pkey);
	h[5] = (uint8_t)(dqp >> 16), h[6] = (uint8_t)(dqp >> 8), h[7] = (uint8_t)dqp;
	h[8] = ack_req ? 0x80 : 0;
	h[9] = (uint8_t)(psn >> 16), h[10] = (uint8_t)(psn >> 8), h[11] = (uint8_t)psn;
	return pb_hdr(pb, h, sizeof(h));
}

/* ACK Extended Transport Header: syndrome, 24-bit MSN. */
static inline uint32_t pb_aeth(struct pb *pb, uint8_t syndrome, uint32_t msn)
{
	uint8_t h[4] = { syndrome, (uint8_t)(msn >> 16), (uint8_t)(msn >> 8), (uint8_t)msn };

	return pb_hdr(pb, h, sizeof(h));
}

/* Common stacks. VXLAN over IPv4: ipv4 14-34, udp 34-42 (source port 49152),
 * vxlan 42-50; the inner Ethernet header follows at 50. */
static inline void pb_vxlan4_outer(struct pb *pb, uint32_t vni)
{
	pb_eth(pb, SS_ETHERTYPE_IPV4);
	pb_ipv4(pb, 17, 0);
	pb_udp(pb, 49152, SS_UDP_PORT_VXLAN);
	pb_vxlan(pb, vni);
}

/* RoCEv2 over IPv4: ipv4 14-34, udp 34-42 (source port 49153), bth 42-54. */
static inline void pb_roce4(struct pb *pb, uint8_t opcode, uint32_t dqp, int ack_req,
			    uint32_t psn)
{
	pb_eth(pb, SS_ETHERTYPE_IPV4);
	pb_ipv4(pb, 17, 0);
	pb_udp(pb, 49153, SS_UDP_PORT_ROCEV2);
	pb_bth(pb, opcode, 0xffff, dqp, ack_req, psn);
}

/* ss_parse() on a heap copy of exactly `len` bytes, so that AddressSanitizer
 * reports any read past the end (a zero-length frame is a pointer to no
 * byte). */
static inline int pb_parse_exact(const uint8_t *data, uint32_t len, struct ss_parsed *out,
				 struct ss_bth *bth)
{
	uint8_t *buf = malloc(len ? len : 1);
	int rc;

	if (buf == NULL)
		abort();
	if (len)
		memcpy(buf, data, len);
	rc = ss_parse(len ? buf : buf + 1, len, out, bth);
	free(buf);
	return rc;
}

/* Write every length field for a packet ending at `end`, clamping each to
 * what is left of the packet, and recompute the IPv4 checksums. Fields or
 * headers that do not lie entirely before `end` are left alone. */
static inline void pb_fix_lengths(uint8_t *b, uint32_t end, const struct pb *pb)
{
	for (unsigned int i = 0; i < pb->nfix; i++) {
		uint32_t off = pb->fix[i].off;
		uint8_t *h = b + off;

		if (off >= end)
			continue;
		uint32_t left = end - off;
		switch (pb->fix[i].kind) {
		case PB_FIX_IPV4:
			if (left >= 4)
				pb_wr16(h + 2, (uint16_t)left);
			if (left >= (uint32_t)(h[0] & 0x0f) * 4)
				pb_ipv4_csum(h);
			break;
		case PB_FIX_IPV6:
			if (left >= 6)
				pb_wr16(h + 4, (uint16_t)(left >= 40 ? left - 40 : 0));
			break;
		case PB_FIX_UDP:
			if (left >= 6)
				pb_wr16(h + 4, (uint16_t)left);
			break;
		}
	}
}

/* Lengths and checksums for the packet as built so far. */
static inline void pb_finish(struct pb *pb)
{
	pb_fix_lengths(pb->b, pb->len, pb);
	pb->finished = 1;
}

#endif
