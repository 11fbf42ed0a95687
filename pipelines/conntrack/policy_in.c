/* SPDX-License-Identifier: BSD-3-Clause
 *
 * policy_in: the inbound policy stage (SPEC 3.2 step 5), after inbound
 * routing and PA validation, before decapsulation. See policy_node.h.
 */
#include "pipelines/conntrack/policy_node.h"

static struct ss_arc_feature arc = { .arc = SS_ARC_INBOUND, .node = "policy_in" };
SS_ARC_FEATURE_REGISTER(arc);

static uint16_t policy_in_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				  uint16_t nb)
{
	return ss_policy_process(graph, node, objs, nb, SS_ACL_IN, &arc.next);
}

static struct rte_node_register policy_in_node = {
	.name = "policy_in",
	.process = policy_in_process,
	.init = ss_node_init_worker,
	.nb_edges = 1,
	.next_nodes = { [SS_POLICY_NEXT_DROP] = SS_NODE_DROP },
};
RTE_NODE_REGISTER(policy_in_node);
