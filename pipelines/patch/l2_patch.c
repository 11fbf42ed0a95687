/* SPDX-License-Identifier: BSD-3-Clause
 *
 * l2_patch: the per-port patch of the foundation (config `peer = "..."`):
 * everything received on a port goes out of its peer, unchanged. It is the
 * `l2` benchmark's floor and stays a supported mode.
 */
#include "pipelines/common/node.h"

enum { PATCH_NEXT_TX = 0 };

static uint16_t patch_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct ss_meta *meta = ss_meta(objs[i]);
		meta->out_port = ss_ports.ports[meta->in_port].peer;
	}
	rte_node_next_stream_move(graph, node, PATCH_NEXT_TX);
	return nb_objs;
}

static struct rte_node_register patch_node = {
	.name = "l2_patch",
	.process = patch_process,
	.nb_edges = 1,
	.next_nodes = { [PATCH_NEXT_TX] = "port_tx" },
};
RTE_NODE_REGISTER(patch_node);
