/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers shared by the graph nodes.
 *
 * Every node keeps a pointer to its worker in the first bytes of its
 * rte_node context (filled by ss_node_init_worker from the node's init
 * callback), so counters are written to the worker's own cache lines.
 *
 * ss_node_dispatch() is how a node hands a burst on: the node fills one edge
 * number per packet, and the helper moves the whole burst in one pointer swap
 * when every packet goes the same way (the common case), or enqueues per edge
 * otherwise.
 *
 * Edge 0 of every sswitch node is `drop` (SS_NEXT_DROP): a node marks the
 * reason (ss_mark_drop) and picks edge 0; ss_node_dispatch stamps the node's
 * id on those packets, so the drop node counts them per (node, reason).
 * A node that enqueues to drop by itself uses ss_node_enqueue_drop.
 */
#ifndef SS_NODE_H
#define SS_NODE_H

#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "dataplane/worker-t.h"
#include "pipelines/common/meta.h"
#include "pipelines/trace/trace.h"

struct ss_node_ctx {
	struct ss_worker *w;
};
_Static_assert(sizeof(struct ss_node_ctx) <= RTE_NODE_CTX_SZ, "node ctx too large");

static inline struct ss_worker *ss_node_worker(struct rte_node *node)
{
	return ((struct ss_node_ctx *)node->ctx)->w;
}

static inline int ss_node_init_worker(const struct rte_graph *graph, struct rte_node *node)
{
	struct ss_worker *w = ss_worker_of_graph(graph);

	if (w == NULL)
		return -EINVAL;
	((struct ss_node_ctx *)node->ctx)->w = w;
	return 0;
}

#define SS_MAX_EDGES 16
#define SS_NEXT_DROP 0

static inline void ss_node_dispatch(struct rte_graph *graph, struct rte_node *node, void **objs,
				    uint16_t nb, const uint8_t *next)
{
	uint16_t i;

	if (nb == 0)
		return;
	/* packet trace (pipelines/trace/trace.h): one branch per burst */
	if (ss_trace_active() && ss_trace_dispatch(graph, node, objs, nb, next))
		return;
	for (i = 1; i < nb; i++)
		if (next[i] != next[0])
			break;
	if (i == nb) {
		if (unlikely(next[0] == SS_NEXT_DROP))
			for (i = 0; i < nb; i++)
				ss_meta(objs[i])->drop_node = (uint16_t)node->id;
		rte_node_next_stream_move(graph, node, next[0]);
		return;
	}
	/* mixed: rte_node_enqueue_x1 keeps packet order per edge */
	for (i = 0; i < nb; i++) {
		if (next[i] == SS_NEXT_DROP)
			ss_meta(objs[i])->drop_node = (uint16_t)node->id;
		rte_node_enqueue_x1(graph, node, next[i], objs[i]);
	}
}

/* Mark a packet dropped for `reason`; the caller sends it on its drop edge. */
static inline void ss_mark_drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_meta(m)->drop = (uint8_t)reason;
}

/* Drop one packet for `reason` from `node` now (outside ss_node_dispatch). */
static inline void ss_node_enqueue_drop(struct rte_graph *graph, struct rte_node *node,
					struct rte_mbuf *m, unsigned int reason)
{
	struct ss_meta *meta = ss_meta(m);

	meta->drop = (uint8_t)reason;
	meta->drop_node = (uint16_t)node->id;
	rte_node_enqueue_x1(graph, node, SS_NEXT_DROP, m);
}

#endif
