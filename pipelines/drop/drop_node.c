/* SPDX-License-Identifier: BSD-3-Clause
 *
 * drop: the one sink of the graph. Every packet arrives with meta->drop set
 * to its reason (drop.h) and the id of the node that dropped it
 * (meta->drop_node, pipelines/common/node.h); it is counted under exactly
 * that reason, per (node, reason), and against its port, then freed.
 */
#include <rte_mbuf.h>

#include "pipelines/capture/capture.h"
#include "pipelines/common/node.h"

static uint16_t drop_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb_objs)
{
	struct ss_worker *w = ss_node_worker(node);

	RTE_SET_USED(graph);
	for (uint16_t i = 0; i < nb_objs; i++) {
		const struct ss_meta *meta = ss_meta(objs[i]);
		unsigned int reason = meta->drop;

		/* a stage that forgot to name its reason is a bug; still count it */
		if (unlikely(reason == SS_DROP_NONE || reason >= SS_DROP_MAX))
			reason = SS_DROP_NONE;
		w->drops[reason]++;
		if (likely(meta->drop_node < SS_MAX_DROP_NODES))
			w->node_drops[meta->drop_node][reason]++;
		if (reason == SS_DROP_TX_FULL || reason == SS_DROP_MTU_EXCEEDED)
			w->port[meta->out_port].tx_dropped++;
		else
			w->port[meta->in_port].rx_dropped++;
	}
	ss_capture_drop((struct rte_mbuf **)objs, nb_objs);
	rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, nb_objs);
	return nb_objs;
}

static struct rte_node_register drop_node = {
	.name = SS_NODE_DROP,
	.process = drop_process,
	.init = ss_node_init_worker,
	.nb_edges = 0,
};
RTE_NODE_REGISTER(drop_node);
