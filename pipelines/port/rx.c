/* SPDX-License-Identifier: BSD-3-Clause
 *
 * port_rx: the source node. Polls every rx queue assigned to this worker,
 * fills the node's stream and moves it whole to `parse`.
 */
#include <rte_ethdev.h>

#include "pipelines/capture/capture.h"
#include "dataplane/port-t.h"
#include "pipelines/common/node.h"

/* Host and fabric ports (not patched) go to the flow fast path first
 * (pipelines/conntrack/ct_emc.h), which hands what it does not forward on
 * to parse; storage and patched ports go to parse. */
enum { RX_NEXT_PARSE = 0, RX_NEXT_FAST };

static inline uint16_t rx_edge(const struct ss_rxq *q)
{
	const struct ss_port *p = &ss_ports.ports[q->port];

	return p->role != SS_ROLE_STORAGE && p->peer == SS_PORT_NONE ? RX_NEXT_FAST : RX_NEXT_PARSE;
}

/* Per-queue burst: the mbufs of one burst and their headers stay in L1
 * until parse has seen them (256 would not). */
#define RX_BURST 32

static uint16_t rx_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			   uint16_t nb_objs)
{
	struct ss_worker *w = ss_node_worker(node);
	struct rte_mbuf **pkts = (struct rte_mbuf **)node->objs;
	uint16_t count = 0, start[SS_MAX_RXQ_PER_WORKER];
	uint8_t edge[SS_MAX_RXQ_PER_WORKER];
	uint16_t nq = 0;
	bool mixed = false;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	for (uint16_t i = 0; i < w->nb_rxq && count + RX_BURST <= RTE_GRAPH_BURST_SIZE; i++) {
		const struct ss_rxq *q = &w->rxq[i];
		uint16_t n = rte_eth_rx_burst(q->eth_id, q->queue, pkts + count, RX_BURST);

		if (n == 0)
			continue;
		w->port[q->port].rx_packets += n;
		ss_capture_rx(q->port, pkts + count, n);
		start[nq] = count;
		edge[nq] = (uint8_t)rx_edge(q);
		mixed |= edge[nq] != edge[0];
		nq++;
		count += n;
	}
	w->rx_last = count;
	if (count == 0)
		return 0;
	if (likely(!mixed)) {
		node->idx = count;
		rte_node_next_stream_move(graph, node, edge[0]);
		return count;
	}
	/* queues of both kinds: each queue's packets to its edge */
	for (uint16_t k = 0; k < nq; k++) {
		uint16_t end = k + 1 < nq ? start[k + 1] : count;

		rte_node_enqueue(graph, node, edge[k], (void **)(pkts + start[k]),
				 (uint16_t)(end - start[k]));
	}
	return count;
}

static struct rte_node_register rx_node = {
	.name = "port_rx",
	.flags = RTE_NODE_SOURCE_F,
	.process = rx_process,
	.init = ss_node_init_worker,
	.nb_edges = 2,
	.next_nodes = { [RX_NEXT_PARSE] = "parse", [RX_NEXT_FAST] = "flow_fast" },
};
RTE_NODE_REGISTER(rx_node);
