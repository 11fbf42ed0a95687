/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rate_limit: polices every outbound packet of an ENI that has a limit
 * (rl.h), on the `outbound` arc after the policy stage (so what the ACLs
 * deny never spends the ENI's budget) and before routing. Conforming
 * packets go on along the arc; the others are dropped `rate_limited`.
 * A burst in which no ENI has a limit moves on whole.
 */
#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/ratelimit/rl.h"

enum { RL_NEXT_DROP = 0 };

/* The flow fast path may leave the limiter out for an ENI without a limit
 * (a limit set later is read on the ENI's next packet). */
static bool rl_fast_skip(uint32_t eni)
{
	const struct ss_rl_state *st = __atomic_load_n(&ss_rl_published, __ATOMIC_ACQUIRE);

	return !(eni < st->n && st->lim[eni].active);
}

static struct ss_arc_feature rl_arc = {
	.arc = SS_ARC_OUTBOUND,
	.node = SS_RL_NODE,
	.runs_after = { "policy_out" },
	.fast_skip = rl_fast_skip,
};
SS_ARC_FEATURE_REGISTER(rl_arc);

/* The tenant frame as the VM sent it (without the outer headers of an
 * appliance-mode packet), the length the byte limit counts. */
static inline uint32_t tenant_len(const struct rte_mbuf *m, const struct ss_meta *meta)
{
	return m->pkt_len - ss_overlay_tenant(meta)->l2_off;
}

static uint16_t rl_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			   uint16_t nb)
{
	const struct ss_rl_state *st = __atomic_load_n(&ss_rl_published, __ATOMIC_ACQUIRE);
	struct ss_worker *w = ss_node_worker(node);
	struct ss_rl_bucket *buckets = ss_rl_buckets[w->index];
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	uint64_t now;
	uint16_t i;

	if (st->nb_active == 0 && rl_arc.next.hop[0].pf == 0 && rl_arc.next.hop[0].drop == 0) {
		rte_node_next_stream_move(graph, node, rl_arc.next.hop[0].edge);
		return nb;
	}
	now = rte_rdtsc();
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		struct ss_meta *meta = ss_meta(m);
		uint32_t eni = meta->eni;

		if (eni < st->n && st->lim[eni].active &&
		    !ss_rl_conform(&st->lim[eni], &buckets[eni], now, tenant_len(m, meta))) {
			meta->drop = SS_DROP_RATE_LIMITED;
			next[i] = RL_NEXT_DROP;
			continue;
		}
		next[i] = ss_arc_edge(&rl_arc.next, m, meta->hdr.outer.flags);
	}
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

static struct rte_node_register rl_node = {
	.name = SS_RL_NODE,
	.process = rl_process,
	.init = ss_node_init_worker,
	.nb_edges = 1,
	.next_nodes = { [RL_NEXT_DROP] = SS_NODE_DROP },
};
RTE_NODE_REGISTER(rl_node);
