/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of single graph nodes fed hand-built mbufs (the first tier of
 * STYLE.md habit 8). See node_harness.c for how the enqueue is captured.
 *
 * A test file:
 *   - calls nt_setup() / nt_teardown() as its cmocka group fixtures: one
 *     EAL, control plane, feature set, port table and worker graph per
 *     process, built the way sswitchd builds them (nothing started);
 *   - sets table state through the public JSON-RPC API (nt_ok), so the
 *     tests survive internal refactors of the tables;
 *   - builds frames with tests/unit/pktbuild.h and the nt_frame_* helpers,
 *     turns them into mbufs of the daemon's own pool (nt_mbuf), runs ONE
 *     node's process function on the burst (nt_run) and checks, per packet,
 *     the NAME of the node it was enqueued to, meta->drop and the bytes.
 *
 * Edges are always named by the next node's name. Where a node hands
 * packets on to a feature slot (the outbound policy arc, parse's per-role
 * pipelines, rdma_steer's non-steered successor) rather than to a fixed
 * node, tests ask nt_successor() for the expected name, which it reads
 * from the finalised arcs: a stage that attaches itself to an arc (the
 * rate limiter after policy_out) changes the answer, not the tests.
 */
#ifndef SS_NODE_HARNESS_H
#define SS_NODE_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <rte_mbuf.h>

#include "pipelines/common/meta.h"
#include "pipelines/drop/drop.h"
#include "tests/unit/pktbuild.h"

/* Ports of the test switch (names as in the API; see node_harness.c). */
#define NT_HOST0_MAC "02:00:00:00:00:10"
#define NT_FABRIC0_MAC "02:00:00:00:0f:01"
#define NT_STORAGE0_MAC "02:00:00:00:05:01"
#define NT_FABRIC_MTU 1500

#define NT_BURST_MAX 64

/* cmocka group fixtures. */
int nt_setup(void **state);
int nt_teardown(void **state);

/* JSON-RPC `method` with printf-formatted params (JSON text); fails the
 * test with the reply when it is an error. */
void nt_ok(const char *method, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, returning the result (a new reference). */
json_t *nt_result(const char *method, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The mbuf of `frame` received on port `port` (config name): m->port is
 * its ethdev. With `parsed`, the metadata is what parse leaves for a packet
 * it admitted (ss_parse's headers, in_port, no drop); otherwise it is
 * poisoned (0xa5 bytes) so that a test sees what the node writes. */
struct rte_mbuf *nt_mbuf(const char *port, const struct pb *frame, int parsed);
/* The packet's bytes (contiguous: the nodes never chain). */
static inline const uint8_t *nt_data(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, const uint8_t *);
}
void nt_free(struct rte_mbuf **pkts, uint16_t n);

/* Run node `node`'s process function once on pkts[0..n) exactly as the
 * graph walker would (the burst in the node's own stream), and set edge[i]
 * to the name of the node packet i was enqueued to, or NT_CONSUMED when it
 * was enqueued nowhere (port_tx transmitted it: the mbuf is the device's,
 * do not free it). Fails the test if a packet was enqueued twice. */
#define NT_CONSUMED "(consumed)"
void nt_run(const char *node, struct rte_mbuf **pkts, uint16_t n, const char **edge);
/* One packet: the name of the node it went to. */
const char *nt_run1(const char *node, struct rte_mbuf *m);

/* The name of meta->drop ("" when not dropped). */
const char *nt_drop_name(const struct rte_mbuf *m);

/* Assert the packet went to `expect_edge` with drop reason `expect_drop`
 * (NULL: none), naming the case `desc` in the failure. */
void nt_expect(const char *desc, const struct rte_mbuf *m, const char *edge,
	       const char *expect_edge, const char *expect_drop);

/* ---- feature slots --------------------------------------------------------
 * The node a stage hands a packet on to through a slot that features fill:
 *   "parse.host" / "parse.fabric" / "parse.storage": a port role's pipeline
 *   "parse.roce": RoCEv2 from host and storage ports
 *   "outbound.after_eni": after overlay_host resolved the ENI
 *   "outbound.after_policy": after policy_out allowed the packet
 *   "inbound.after_policy": after policy_in allowed the packet
 *   "rdma.unsteered.host" / "rdma.unsteered.storage": what rdma_steer does
 *       not steer, by ingress role */
const char *nt_successor(const char *slot);

/* ---- frames ------------------------------------------------------------- */
void nt_mac(const char *s, uint8_t mac[6]);
/* family 4 or 6 of an address text, and its bytes */
int nt_ip(const char *s, uint8_t a[16]);

/* Ethernet (dmac <- smac, VLAN `vlan` when non-zero) / IPv4 or IPv6 (by the
 * address text) / `proto` (6 TCP SYN, 17 UDP, 1 or 58 ICMP echo) with
 * `payload` zero bytes; lengths and the IPv4 checksum written. TTL/hop
 * limit 64, TOS 0. */
void nt_frame_ip(struct pb *pb, const char *smac, const char *dmac, uint16_t vlan,
		 const char *src, const char *dst, uint8_t proto, uint16_t sport,
		 uint16_t dport, uint32_t payload);
/* The IP header of a frame built by nt_frame_ip (after the tag, if any). */
uint8_t *nt_frame_l3(struct pb *pb);

/* Compare n bytes at `got` with the expectation, naming `what` on failure. */
void nt_bytes(const char *what, const uint8_t *got, const uint8_t *want, size_t n);

#endif
