/* SPDX-License-Identifier: BSD-3-Clause
 *
 * IPFIX message encoding (RFC 7011) for sswitch's flow records (SPEC 5,
 * docs/ipfix.md): two templates, IPv4 (256) and IPv6 (257), with the same
 * Information Elements (RFC 5102 / IANA numbers):
 *
 *     octetDeltaCount(1)          u64   the tenant IP packets' bytes
 *     packetDeltaCount(2)         u64
 *     flowStartMilliseconds(152)  u64   Unix epoch, ms
 *     flowEndMilliseconds(153)    u64
 *     layer2SegmentId(351)        u64   the VNI
 *     sourceIPv4Address(8) / sourceIPv6Address(27)
 *     destinationIPv4Address(12) / destinationIPv6Address(28)
 *     sourceTransportPort(7)      u16
 *     destinationTransportPort(11) u16  (both 0 for ICMP and other protocols)
 *     protocolIdentifier(4)       u8
 *     flowDirection(61)           u8    0: leaving the VM, 1: toward it
 *     flowEndReason(136)          u8    RFC 5102 5.11.3
 *
 * Pure functions on byte buffers (no DPDK, no sockets): the exporter
 * (ipfix_feature.c) and the unit tests use them.
 */
#ifndef SS_IPFIX_MSG_H
#define SS_IPFIX_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "pipelines/conntrack/ct-t.h"

#define SS_IPFIX_VERSION 10
#define SS_IPFIX_TMPL_V4 256
#define SS_IPFIX_TMPL_V6 257
#define SS_IPFIX_HDR_LEN 16
#define SS_IPFIX_REC_V4 55     /* bytes of one IPv4 data record */
#define SS_IPFIX_REC_V6 79
/* a message fits a 1500-byte link under IPv6 + UDP headers */
#define SS_IPFIX_MSG_MAX 1400

/* One data record: one direction of one flow. */
struct ss_ipfix_flow {
	uint8_t v6;
	uint8_t proto;
	uint8_t direction;        /* 0: outbound (leaving the VM), 1: inbound */
	uint8_t end_reason;       /* enum ss_ct_end_reason */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, network order */
	uint16_t sport, dport;
	uint64_t octets, packets;
	uint64_t start_ms, end_ms;
	uint64_t vni;
};

/* Ticks of the flow table's clock to Unix milliseconds: ms at tick t0. */
struct ss_ipfix_clock {
	uint64_t t0;
	uint64_t hz;
	uint64_t ms0;
};

uint64_t ss_ipfix_ms(const struct ss_ipfix_clock *c, uint64_t ticks);

/* The data records of a conntrack record (one per direction that sent a
 * packet since the last record): 0, 1 or 2 written to out. Ports only
 * for TCP and UDP (an ICMP echo flow's key holds its identifier). */
unsigned int ss_ipfix_from_record(const struct ss_ct_record *r, uint32_t vni,
				  const struct ss_ipfix_clock *c, struct ss_ipfix_flow out[2]);

/* A message being built in buf[SS_IPFIX_MSG_MAX]. */
struct ss_ipfix_msg {
	uint8_t buf[SS_IPFIX_MSG_MAX];
	size_t len;               /* bytes used, header included */
	size_t set_off;           /* open set's header, 0: none */
	uint16_t set_id;
	uint32_t nb_data;         /* data records in the message */
};

void ss_ipfix_msg_init(struct ss_ipfix_msg *m);
/* Append the template set (both templates). 0 or -ENOSPC. */
int ss_ipfix_msg_add_templates(struct ss_ipfix_msg *m);
/* Append a data record (opening a data set of its template if needed).
 * 0, or -ENOSPC: the message is full (send it, start another). */
int ss_ipfix_msg_add(struct ss_ipfix_msg *m, const struct ss_ipfix_flow *f);
/* Close the open set and write the message header: export time (Unix
 * seconds), sequence number (data records sent before this message in the
 * domain's stream, RFC 7011 3.1), observation domain. Returns the length. */
size_t ss_ipfix_msg_finish(struct ss_ipfix_msg *m, uint32_t export_s, uint32_t seq,
			   uint32_t domain);

#endif
