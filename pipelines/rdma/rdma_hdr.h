/* SPDX-License-Identifier: BSD-3-Clause
 *
 * RoCEv2 header helpers: BTH opcode classes and the header rewrites a
 * steered packet gets. Pure functions on bytes (no DPDK), unit-tested.
 *
 * ICRC safety (InfiniBand Architecture Specification Vol. 1, Annex A17.3.3):
 * the RoCEv2 invariant CRC covers the IP header with DSCP/ECN (IPv4 TOS,
 * IPv6 traffic class), TTL / hop limit, the IPv4 header checksum and the
 * IPv6 flow label masked out, the UDP checksum masked out, and the BTH with
 * its FECN/BECN/reserved byte masked out. Everything else in the IP packet
 * is covered. So a switch may rewrite exactly: the Ethernet header (MACs,
 * 802.1Q tag), DSCP, TTL / hop limit and the IPv4 checksum; these helpers
 * touch nothing else. ECN is never changed (a CE mark is never cleared).
 */
#ifndef SS_RDMA_HDR_H
#define SS_RDMA_HDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SS_BTH_OP_CNP 0x81

/* Opcode classes of SPEC 3.7 per-QP telemetry. */
enum ss_rdma_opclass {
	SS_OPC_OTHER = 0,   /* atomics, RD/XRC oddities, unknown */
	SS_OPC_SEND,
	SS_OPC_WRITE,
	SS_OPC_READ_REQ,
	SS_OPC_READ_RESP,
	SS_OPC_ACK,         /* ACKNOWLEDGE with an ACK syndrome, ATOMIC ACKNOWLEDGE */
	SS_OPC_NAK,         /* ACKNOWLEDGE with a NAK or RNR NAK syndrome */
	SS_OPC_CNP,
};

/* AETH syndrome (IBA 9.7.5.1): bits 6:5 are 00 ACK, 01 RNR NAK, 11 NAK. */
static inline bool ss_aeth_is_nak(uint8_t syndrome)
{
	return (syndrome & 0x60) == 0x60 || (syndrome & 0x60) == 0x20;
}

/* Class of a BTH opcode (transport in bits 7:5, operation in 4:0; IBA
 * table 38). RC, UC, RD, UD and XRC share the operation numbering. */
static inline enum ss_rdma_opclass ss_rdma_opclass(uint8_t opcode, bool has_aeth,
						   uint8_t syndrome)
{
	uint8_t op = opcode & 0x1f;

	if (opcode == SS_BTH_OP_CNP)
		return SS_OPC_CNP;
	if (opcode >= 0xc0 || (opcode & 0xe0) == 0x80)
		return SS_OPC_OTHER;   /* manufacturer specific, reserved */
	if (op <= 0x05 || op == 0x16 || op == 0x17)
		return SS_OPC_SEND;
	if (op <= 0x0b)
		return SS_OPC_WRITE;
	if (op == 0x0c)
		return SS_OPC_READ_REQ;
	if (op <= 0x10)
		return SS_OPC_READ_RESP;
	if (op == 0x11)
		return has_aeth && ss_aeth_is_nak(syndrome) ? SS_OPC_NAK : SS_OPC_ACK;
	if (op == 0x12)
		return SS_OPC_ACK;
	return SS_OPC_OTHER;
}

/* Whether a class carries a request/response PSN sequence that PSN gap
 * counting follows. ACKs repeat or skip PSNs by design (coalescing), CNPs
 * carry none. */
static inline bool ss_rdma_psn_tracked(enum ss_rdma_opclass c)
{
	return c == SS_OPC_SEND || c == SS_OPC_WRITE || c == SS_OPC_READ_REQ ||
	       c == SS_OPC_READ_RESP;
}

/* 24-bit PSN difference b - a as a signed number in [-2^23, 2^23). */
static inline int32_t ss_psn_diff(uint32_t a, uint32_t b)
{
	uint32_t d = (b - a) & 0xffffff;

	return d & 0x800000 ? (int32_t)d - 0x1000000 : (int32_t)d;
}

/* ECN field of an IP header (2 low bits of TOS / traffic class). */
static inline uint8_t ss_ip_ecn(const uint8_t *ip, bool v4)
{
	return v4 ? (ip[1] & 3) : ((ip[1] >> 4) & 3);
}

/* IPv4: DSCP := dscp (ECN kept), TTL - 1, header checksum updated
 * incrementally (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for a 16-bit
 * word m -> m'). The words are used as they lie in memory: a ones'
 * complement sum is the same in either byte order (RFC 1071 2.(B)), so
 * nothing is swapped. The caller checked TTL > 1 (the decrement does not
 * borrow from the protocol byte). */
static inline void ss_rdma_rewrite_ip4(uint8_t *ip, uint8_t dscp)
{
	uint16_t w0, w4, hc, n0, n4;

	memcpy(&w0, ip, 2);      /* version/IHL, TOS */
	memcpy(&w4, ip + 8, 2);  /* TTL, protocol */
	memcpy(&hc, ip + 10, 2);
	/* eqn. 3 for both changed words in one sum (ones' complement
	 * addition is associative: the same as two updates in a row); for the
	 * TTL word ~m + m' = ~m + m - 1 = 0xffff - 1 (or - 0x100 when the TTL
	 * is the high byte), a constant */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	n0 = (uint16_t)((w0 & 0x03ff) | dscp << 10);
	n4 = (uint16_t)(w4 - 1);
	uint32_t s = (uint32_t)(uint16_t)~hc + (uint16_t)~w0 + n0 + 0xfffe;
#else
	n0 = (uint16_t)((w0 & 0xff03) | dscp << 2);
	n4 = (uint16_t)(w4 - 0x100);
	uint32_t s = (uint32_t)(uint16_t)~hc + (uint16_t)~w0 + n0 + 0xfeff;
#endif

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	hc = (uint16_t)~s;
	memcpy(ip, &n0, 2);
	memcpy(ip + 8, &n4, 2);
	memcpy(ip + 10, &hc, 2);
}

/* IPv6: traffic class DSCP := dscp (ECN kept), hop limit - 1. The flow
 * label and everything else is untouched. */
static inline void ss_rdma_rewrite_ip6(uint8_t *ip, uint8_t dscp)
{
	uint8_t ecn = (ip[1] >> 4) & 3;
	uint8_t tc = (uint8_t)(dscp << 2 | ecn);

	ip[0] = (uint8_t)(0x60 | tc >> 4);
	ip[1] = (uint8_t)((tc & 0x0f) << 4 | (ip[1] & 0x0f));
	ip[7] = (uint8_t)(ip[7] - 1);
}

/* TTL / hop limit of an IP header. */
static inline uint8_t ss_ip_ttl(const uint8_t *ip, bool v4)
{
	return v4 ? ip[8] : ip[7];
}

#endif
