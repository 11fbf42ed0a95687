/* SPDX-License-Identifier: BSD-3-Clause
 *
 * BFD (docs/bfd.md, SPEC 3.10): what the data plane and the control thread
 * share.
 *
 *   bfd_punt (bfd_node.c), on the `ingress.fabric` arc before
 *   overlay_fabric: takes BFD control packets (UDP 3784 single hop, 4784
 *   multihop) from the addresses of configured sessions, and the ARP
 *   replies / neighbour advertisements of those addresses, off the packet
 *   path into ss_bfd_rx_ring (multi-producer: every worker; single
 *   consumer: the control thread). BFD from any other address is dropped
 *   `bfd_no_session`; a full ring drops `bfd_punt_full`. Nothing it takes
 *   is ever forwarded.
 *
 *   src_bfd_tx (bfd_node.c), a source node: worker 0 moves the frames the
 *   control thread built (ss_bfd_tx_ring: single producer, single
 *   consumer) to port_tx, which sends them on meta->out_port from worker
 *   0's queue, counted like any transmitted frame.
 *
 * Concurrency:
 *   ss_bfd_peers_cur  the session addresses the punt node accepts; built
 *                     aside by the control thread at prepare(), published
 *                     with one pointer store at commit(), the old copy freed
 *                     at reclaim() after the RCU grace period.
 *                     dataplane: ro, ctlplane: rw (aside copies only).
 *   the rings         rte_ring: lock-free, never waited on.
 */
#ifndef SS_BFD_H
#define SS_BFD_H

#include <stdint.h>

#include <rte_ring.h>

#define SS_BFD_PUNT_NODE "bfd_punt"
#define SS_BFD_TX_NODE "src_bfd_tx"
#define SS_BFD_RING_SIZE 1024

struct ss_bfd_peer {
	uint8_t fam;                 /* 4 or 6 */
	uint8_t multihop;            /* UDP 4784, on any fabric port */
	uint16_t port;               /* sswitch port index (single hop) */
	uint8_t ip[16];
};

struct ss_bfd_peers {
	uint32_t n;
	uint32_t pad;
	struct ss_bfd_peer p[];
};

extern struct ss_bfd_peers *ss_bfd_peers_cur;
extern struct rte_ring *ss_bfd_rx_ring;
extern struct rte_ring *ss_bfd_tx_ring;

#endif
