/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The packet parser: Ethernet, up to two 802.1Q/802.1ad tags, ARP, IPv4 (with
 * options, fragments), IPv6 (with extension headers), TCP, UDP, ICMP/ICMPv6,
 * VXLAN (RFC 7348, inner frame parsed one level deep) and the RoCEv2 BTH
 * (InfiniBand Architecture Specification Vol. 1, Annex A17).
 *
 * Contract: ss_parse() reads only bytes in [p, p + len). Each header is
 * checked against the bytes that contain it (the frame, or the IP packet as
 * its length field delimits it), so a lying length field can never make a
 * later stage read past the end. Offsets are from the start of the outer
 * frame. It does not depend on DPDK, so the unit tests call it directly.
 */
#ifndef SS_PARSE_H
#define SS_PARSE_H

#include <stdint.h>
#include <string.h>

#define SS_ETHERTYPE_IPV4 0x0800
#define SS_ETHERTYPE_ARP 0x0806
#define SS_ETHERTYPE_VLAN 0x8100
#define SS_ETHERTYPE_QINQ 0x88a8
#define SS_ETHERTYPE_IPV6 0x86dd

#define SS_UDP_PORT_VXLAN 4789
#define SS_UDP_PORT_ROCEV2 4791

enum ss_l3 { SS_L3_NONE = 0, SS_L3_IPV4, SS_L3_IPV6, SS_L3_ARP };

/* ss_layer.flags */
#define SS_PF_FRAG 0x01       /* an IP fragment (first or not) */
#define SS_PF_FRAG_FIRST 0x02 /* offset 0 with more fragments: carries the L4 header */
#define SS_PF_L4 0x04         /* sport/dport/l4_off valid */
#define SS_PF_VXLAN 0x08      /* UDP 4789 with a VXLAN header (outer layer only) */
#define SS_PF_ROCE 0x10       /* UDP 4791 with a BTH */
#define SS_PF_IP_OPTS 0x20    /* IPv4 options / IPv6 extension headers present */

/* One Ethernet-to-L4 header stack. 20 bytes. */
struct ss_layer {
	uint16_t l2_off;    /* start of the Ethernet header */
	uint16_t l3_off;    /* start of the IP / ARP header */
	uint16_t l4_off;    /* start of the L4 header (valid with SS_PF_L4) */
	uint16_t l3_len;    /* IPv4 total length, IPv6 40 + payload length */
	uint16_t ethertype; /* after the VLAN tags */
	uint16_t vlan_tci;  /* outer tag's TCI, 0 when untagged */
	uint16_t sport;     /* host order; ICMP echo: identifier */
	uint16_t dport;     /* host order; ICMP: type << 8 | code */
	uint8_t nb_vlans;
	uint8_t l3;         /* enum ss_l3 */
	uint8_t proto;      /* L4 protocol number (after IPv6 extension headers) */
	uint8_t flags;      /* SS_PF_* */
};

/* InfiniBand Base Transport Header of a RoCEv2 packet. */
struct ss_bth {
	uint8_t opcode;
	uint8_t flags;     /* SE, M, pad count, TVer */
	uint16_t pkey;
	uint32_t dqp;      /* 24 bits */
	uint32_t psn;      /* 24 bits */
	uint8_t ack_req;
	uint8_t aeth_syndrome; /* valid when the opcode carries an AETH */
	uint8_t has_aeth;
	uint8_t reserved;
};

struct ss_parsed {
	struct ss_layer outer;
	struct ss_layer inner; /* VXLAN only */
	uint32_t vni;          /* VXLAN only, 24 bits */
	uint8_t vxlan_flags;
};

/* Parse a frame. Returns 0, or an enum ss_drop_reason when the frame is
 * malformed. `bth` may be NULL when the caller does not want it. */
int ss_parse(const uint8_t *p, uint32_t len, struct ss_parsed *out, struct ss_bth *bth);

/* Parse one Ethernet layer starting at `off` (used for the inner frame).
 * Untagged IPv4 TCP/UDP without options takes a straight-line path; any
 * other frame, and any frame that path does not accept, is parsed by
 * ss_parse_layer_full, with the same result (tests/unit/test_parse_fast.c). */
int ss_parse_layer(const uint8_t *p, uint32_t len, uint32_t off, struct ss_layer *l);

/* The same with every check taken one by one: the reference. */
int ss_parse_layer_full(const uint8_t *p, uint32_t len, uint32_t off, struct ss_layer *l);

/* Internet checksum (RFC 1071) of `len` bytes, folded, not complemented. */
uint16_t ss_csum_raw(const void *buf, uint32_t len, uint32_t sum);

#define SS_IPPROTO_TCP 6
#define SS_IPPROTO_UDP 17

static inline uint16_t ss_parse_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ones' complement sum of an IPv4 header (ihl is a multiple of 4), in
 * 32-bit native-order words: the sum is byte-order independent, and the
 * result is 0xffff exactly when the checksum verifies (RFC 1071). */
static inline uint16_t ss_parse_ipv4_csum(const uint8_t *ip, uint32_t ihl)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < ihl; i += 4) {
		uint32_t w;
		memcpy(&w, ip + i, 4);
		sum += w;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The shape nearly every frame has: untagged Ethernet, IPv4 without
 * options, not a fragment, TCP or UDP, well formed. Checked and filled in
 * one straight line; returns 1 with `l` exactly as ss_parse_layer_full would
 * leave it, or 0 (l undefined) to let ss_parse_layer_full decide, errors
 * included. Every check below is one of parse_ipv4's and parse_l4's. */
/* ss_parse_ipv4_csum of a 20-byte header: two 64-bit words and a 32-bit
 * one, with end-around carries (RFC 1071 2.(C): any word size sums to
 * the same 16-bit result). 0xffff exactly when the checksum verifies. */
static inline uint16_t ss_parse_ipv4_csum20(const uint8_t *ip)
{
	uint64_t a, b, s, t;
	uint32_t c;

	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	memcpy(&c, ip + 16, 4);
	s = a + b;
	s += s < a;
	t = s + c;
	t += t < s;
	t = (t & 0xffffffff) + (t >> 32);
	t = (t & 0xffffffff) + (t >> 32);
	t = (t & 0xffff) + (t >> 16);
	t = (t & 0xffff) + (t >> 16);
	return (uint16_t)t;
}

static inline int ss_parse_layer_fast(const uint8_t *p, uint32_t len, uint32_t off, struct ss_layer *l)
{
	if (off > len || len - off < 14 + 20 || ss_parse_rd16(p + off + 12) != SS_ETHERTYPE_IPV4)
		return 0;
	const uint8_t *ip = p + off + 14;
	uint32_t tot = ss_parse_rd16(ip + 2);
	uint8_t proto = ip[9];

	/* version 4, IHL 5, not a fragment, room for the L4 header checked
	 * below; the checksum last (RFC 1812 5.2.2) */
	if (ip[0] != 0x45 || tot > len - off - 14 || (ss_parse_rd16(ip + 6) & 0x3fff) != 0 ||
	    ss_parse_ipv4_csum20(ip) != 0xffff)
		return 0;
	const uint8_t *l4 = ip + 20;
	uint32_t avail = tot - 20; /* used once tot >= 28 */

	/* the L4 header is read only once tot (within the frame) covers it */
	if (proto == SS_IPPROTO_UDP) {
		if (tot < 20 + 8)
			return 0;
		uint32_t ulen = ss_parse_rd16(l4 + 4);
		if (ulen < 8 || ulen > avail)
			return 0;
	} else if (proto == SS_IPPROTO_TCP) {
		if (tot < 20 + 20)
			return 0;
		uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
		if (doff < 20 || doff > avail)
			return 0;
	} else {
		return 0;
	}
	*l = (struct ss_layer){
		.l2_off = (uint16_t)off,
		.l3_off = (uint16_t)(off + 14),
		.l4_off = (uint16_t)(off + 14 + 20),
		.l3_len = (uint16_t)tot,
		.ethertype = SS_ETHERTYPE_IPV4,
		.sport = ss_parse_rd16(l4),
		.dport = ss_parse_rd16(l4 + 2),
		.l3 = SS_L3_IPV4,
		.proto = proto,
		.flags = SS_PF_L4,
	};
	return 1;
}


/* Every check taken one by one (no straight-line path): the reference. */
int ss_parse_full(const uint8_t *p, uint32_t len, struct ss_parsed *out, struct ss_bth *bth);

/* The rest of ss_parse once `out->outer` holds a valid UDP header of a
 * whole datagram: VXLAN (inner frame) or RoCEv2 (BTH). */
int ss_parse_tunnel(const uint8_t *p, struct ss_parsed *out, struct ss_bth *bth);

/* ss_parse with the common frame inline (parse_node.c, once per packet). */
static inline int ss_parse_inline(const uint8_t *p, uint32_t len, struct ss_parsed *out,
				  struct ss_bth *bth)
{
	struct ss_layer *o = &out->outer;

	if (__builtin_expect(!ss_parse_layer_fast(p, len, 0, o), 0))
		return ss_parse_full(p, len, out, bth);
	out->vni = 0;
	out->vxlan_flags = 0;
	if (o->proto != SS_IPPROTO_UDP ||
	    (o->dport != SS_UDP_PORT_VXLAN && o->dport != SS_UDP_PORT_ROCEV2))
		return 0;
	return ss_parse_tunnel(p, out, bth);
}

#endif
