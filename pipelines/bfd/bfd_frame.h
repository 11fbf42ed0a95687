/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The frames around BFD control packets: reading what the punt node handed
 * to the control thread (BFD in UDP, RFC 5881 / 5883; the ARP replies and
 * neighbour advertisements that resolve a peer's MAC), and building what
 * the control thread sends (BFD in UDP over IPv4 / IPv6, ARP requests,
 * neighbour solicitations). DPDK-free: the unit test feeds it byte arrays.
 * Offsets come from the parser (pipelines/parse/parse.h), which already
 * checked every header against the bytes that contain it; these functions
 * check again what they read, so a frame can never make them read past
 * `len`.
 */
#ifndef SS_BFD_FRAME_H
#define SS_BFD_FRAME_H

#include <stdint.h>

#include "pipelines/parse/parse.h"

enum ss_bfd_frame_kind { SS_BFD_FRAME_NONE = 0, SS_BFD_FRAME_BFD, SS_BFD_FRAME_ARP,
			 SS_BFD_FRAME_NA };

struct ss_bfd_rx_frame {
	uint8_t kind;               /* enum ss_bfd_frame_kind */
	uint8_t fam;                /* 4 or 6 */
	uint8_t ttl;                /* TTL / hop limit */
	uint8_t smac[6];            /* the peer's MAC (ARP sha / NA target LLA / Ethernet source) */
	uint8_t src[16];            /* sender IP (ARP spa, NA target) */
	uint8_t dst[16];
	uint16_t sport, dport;
	const uint8_t *payload;     /* BFD: the UDP payload */
	uint32_t plen;
};

/* What kind of frame the punt node takes (workers: a few compares on the
 * parsed layer), and its sender address in *src (4 or 16 bytes). */
int ss_bfd_frame_classify(const uint8_t *frame, uint32_t len, const struct ss_layer *l,
			  const uint8_t **src);
/* Read a punted frame. SS_BFD_OK (0) or a discard reason
 * (SS_BFD_DISC_UDP for a bad UDP length). */
int ss_bfd_frame_read(const uint8_t *frame, uint32_t len, const struct ss_layer *l,
		      struct ss_bfd_rx_frame *out);

/* Build Ethernet + IPv4/IPv6 + UDP + payload at buf (cap bytes). Returns
 * the frame length, 0 if it does not fit. */
uint32_t ss_bfd_frame_udp(uint8_t *buf, uint32_t cap, const uint8_t dmac[6],
			  const uint8_t smac[6], int fam, const uint8_t *sip, const uint8_t *dip,
			  uint16_t sport, uint16_t dport, uint8_t ttl, const uint8_t *payload,
			  uint32_t plen);
/* An ARP request (RFC 826) for tip from sip / smac, broadcast. */
uint32_t ss_bfd_frame_arp(uint8_t *buf, uint32_t cap, const uint8_t smac[6], const uint8_t sip[4],
			  const uint8_t tip[4]);
/* A neighbour solicitation (RFC 4861 4.3) for tip, to its solicited-node
 * multicast group, with our link-layer address. */
uint32_t ss_bfd_frame_ns(uint8_t *buf, uint32_t cap, const uint8_t smac[6], const uint8_t sip[16],
			 const uint8_t tip[16]);

#endif
