/* SPDX-License-Identifier: BSD-3-Clause
 *
 * policy_out: the outbound policy stage (SPEC 3.1 steps 4-5, 3.3), after
 * ENI resolution and before outbound routing. See policy_node.h.
 */
#include "pipelines/conntrack/policy_node.h"

static struct ss_arc_feature arc = { .arc = SS_ARC_OUTBOUND, .node = "policy_out" };
SS_ARC_FEATURE_REGISTER(arc);

static uint16_t policy_out_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				   uint16_t nb)
{
	return ss_policy_process(graph, node, objs, nb, SS_ACL_OUT, &arc.next);
}

static struct rte_node_register policy_out_node = {
	.name = "policy_out",
	.process = policy_out_process,
	.init = ss_node_init_worker,
	.nb_edges = 1,
	.next_nodes = { [SS_POLICY_NEXT_DROP] = SS_NODE_DROP },
};
RTE_NODE_REGISTER(policy_out_node);
