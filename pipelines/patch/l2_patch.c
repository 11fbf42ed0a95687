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
	/* a burst is mostly one port's: its peer is looked up once */
	uint16_t in = UINT16_MAX, peer = SS_PORT_NONE;

	for (uint16_t i = 0; i < nb_objs; i++) {
		struct ss_meta *meta = ss_meta(objs[i]);

		if (unlikely(meta->in_port != in)) {
			in = meta->in_port;
			peer = ss_ports.ports[in].peer;
		}
		meta->out_port = peer;
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
