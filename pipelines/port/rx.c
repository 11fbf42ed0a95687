/* SPDX-License-Identifier: BSD-3-Clause
 *
 * port_rx: the source node. Polls every rx queue assigned to this worker,
 * fills the node's stream and moves it whole to `parse`.
 */
#include <rte_ethdev.h>

#include "pipelines/capture/capture.h"
#include "pipelines/common/node.h"

enum { RX_NEXT_PARSE = 0 };

/* Per-queue burst: the mbufs of one burst and their headers stay in L1
 * until parse has seen them (256 would not). */
#define RX_BURST 32

static uint16_t rx_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			   uint16_t nb_objs)
{
	struct ss_worker *w = ss_node_worker(node);
	struct rte_mbuf **pkts = (struct rte_mbuf **)node->objs;
	uint16_t count = 0;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	for (uint16_t i = 0; i < w->nb_rxq && count + RX_BURST <= RTE_GRAPH_BURST_SIZE; i++) {
		const struct ss_rxq *q = &w->rxq[i];
		uint16_t n = rte_eth_rx_burst(q->eth_id, q->queue, pkts + count, RX_BURST);
		w->port[q->port].rx_packets += n;
		ss_capture_rx(q->port, pkts + count, n);
		count += n;
	}
	w->rx_last = count;
	if (count == 0)
		return 0;
	node->idx = count;
	rte_node_next_stream_move(graph, node, RX_NEXT_PARSE);
	return count;
}

static struct rte_node_register rx_node = {
	.name = "port_rx",
	.flags = RTE_NODE_SOURCE_F,
	.process = rx_process,
	.init = ss_node_init_worker,
	.nb_edges = 1,
	.next_nodes = { [RX_NEXT_PARSE] = "parse" },
};
RTE_NODE_REGISTER(rx_node);
