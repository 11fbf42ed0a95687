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

#endif
