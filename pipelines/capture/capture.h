/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet capture (capture.start/stop/list): copies of a port's received or
 * transmitted frames, or of the frames dropped for one reason, written to a
 * pcap file (libpcap) by the control thread.
 *
 * Worker side: port_rx, port_tx and drop call the hooks below; each reads one
 * word (`ss_capture_active`) per burst and returns when no capture runs.
 * When one does, matching packets are copied (rte_pktmbuf_copy, up to the
 * snap length, from a pool made for captures) and enqueued on the capture's
 * multi-producer ring; a full ring or an empty pool counts as `lost`, never
 * blocks, never touches the original packet.
 * Control side: the control thread drains the rings at every main-loop turn
 * and writes the pcap records; a capture stops by itself after `count`
 * packets. Slots are published and retired with RCU, so a worker never
 * enqueues to a ring being freed.
 */
#ifndef SS_CAPTURE_H
#define SS_CAPTURE_H

#include <stdint.h>

#include <rte_mbuf.h>

#define SS_CAPTURE_MAX 8

enum ss_capture_dir { SS_CAP_RX = 1, SS_CAP_TX = 2, SS_CAP_DROP = 4 };

/* A bit per active slot (ctlplane: rw, dataplane: ro). */
extern uint32_t ss_capture_active;

void ss_capture_packets(unsigned int dir, uint16_t port, struct rte_mbuf **pkts, uint16_t n);
void ss_capture_drops(struct rte_mbuf **pkts, uint16_t n);

static inline void ss_capture_rx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	if (unlikely(__atomic_load_n(&ss_capture_active, __ATOMIC_RELAXED) != 0))
		ss_capture_packets(SS_CAP_RX, port, pkts, n);
}

static inline void ss_capture_tx(uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	if (unlikely(__atomic_load_n(&ss_capture_active, __ATOMIC_RELAXED) != 0))
		ss_capture_packets(SS_CAP_TX, port, pkts, n);
}

static inline void ss_capture_drop(struct rte_mbuf **pkts, uint16_t n)
{
	if (unlikely(__atomic_load_n(&ss_capture_active, __ATOMIC_RELAXED) != 0))
		ss_capture_drops(pkts, n);
}

#endif
