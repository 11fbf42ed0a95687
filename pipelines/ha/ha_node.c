/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ha_out, ha_in: the standby's stage, one node per direction, in front of
 * the policy node of its arc (outbound: before policy_out; inbound: before
 * policy_in). On an active switch (or without HA) the burst moves on whole.
 * On a standby (conntrack's creation hold, ss_ct_create_held) every tenant
 * packet of a live flow goes on and is counted `ha_standby_rx`; a packet
 * of no flow is dropped `ha_standby_no_flow` (SPEC 3.11: a standby creates
 * no flow until it is active). Packets conntrack does not track (not IP)
 * and non-first fragments (they follow their first fragment in the policy
 * stage) go on unchecked; an ICMP error is checked against the flow it
 * quotes.
 *
 * The flow fast path leaves these nodes out only while the switch is not
 * a standby (fast_skip), so a standby counts every packet it forwards.
 *
 * Edges: 0 = drop (static); the arc's, added by ss_arcs_finalize.
 */
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/drop/drop.h"
#include "pipelines/ha/ha.h"
#include "pipelines/ha/ha_int.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/trace/trace.h"

enum { HA_NEXT_DROP = 0 };

struct ss_ha_wcnt ss_ha_wcnt[SS_MAX_WORKERS];

static bool ha_fast_skip(uint32_t eni)
{
	(void)eni;
	return !ss_ct_create_held();
}

void ss_ha_hold_creates(bool hold)
{
	ss_ct_create_hold(hold);
	ss_arc_fast_skip_changed();
}

static struct ss_arc_feature ha_out_arc = {
	.arc = SS_ARC_OUTBOUND,
	.node = SS_HA_NODE_OUT,
	.runs_before = { "policy_out" },
	.fast_skip = ha_fast_skip,
};
SS_ARC_FEATURE_REGISTER(ha_out_arc);

static struct ss_arc_feature ha_in_arc = {
	.arc = SS_ARC_INBOUND,
	.node = SS_HA_NODE_IN,
	.runs_before = { "policy_in" },
	/* a load balancer's reply is looked up as conntrack knows it: with the
	 * VIP restored as its source (lb_in) */
	.runs_after = { "lb_in" },
	.fast_skip = ha_fast_skip,
};
SS_ARC_FEATURE_REGISTER(ha_in_arc);

#define CHUNK 64   /* RTE_HASH_LOOKUP_BULK_MAX */

static __rte_always_inline uint16_t ha_process(struct rte_graph *graph, struct rte_node *node,
					       void **objs, uint16_t nb, unsigned int dir,
					       const struct ss_arc_next *arc)
{
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	struct ss_ct *ct;
	struct ss_worker *w;
	uint64_t rx = 0;

	/* (a traced burst goes through ss_node_dispatch: the trace probes the
	 * policy node there) */
	if (likely(!ss_ct_create_held()) && arc->hop[0].pf == 0 && arc->hop[0].drop == 0 &&
	    !ss_trace_active()) {
		rte_node_next_stream_move(graph, node, arc->hop[0].edge);
		return nb;
	}
	ct = ss_ct_current();
	w = ss_node_worker(node);
	for (uint16_t base = 0; base < nb; base += CHUNK) {
		uint16_t k = nb - base < CHUNK ? nb - base : CHUNK;
		const struct ss_ct_key *keys[CHUNK];
		struct ss_ct_info in[CHUNK];
		uint8_t idx[CHUNK], live[CHUNK];
		uint32_t nk = 0;

		for (uint16_t j = 0; j < k; j++) {
			struct rte_mbuf *m = objs[base + j];
			struct ss_meta *meta = ss_meta(m);
			struct ss_ct_pkt p = {
				.data = rte_pktmbuf_mtod(m, const uint8_t *),
				.l = ss_overlay_tenant(meta),
				.eni = meta->eni,
			};

			next[base + j] = ss_arc_edge(arc, m, meta->hdr.outer.flags);
			if (!ss_ct_create_held())
				continue;
			ss_ct_extract(&p, dir, &in[j]);
			if (in[j].kind == SS_CT_K_OTHER || in[j].kind == SS_CT_K_NONFIRST)
				continue;
			keys[nk] = in[j].kind == SS_CT_K_ICMP_ERR ? &in[j].emb : &in[j].key;
			idx[nk++] = (uint8_t)j;
		}
		if (ct == NULL) {
			memset(live, 0, nk);
		} else {
			ss_ct_live_bulk(ct, keys, nk, live);
		}
		for (uint32_t i = 0; i < nk; i++) {
			uint16_t pi = base + idx[i];

			if (live[i]) {
				rx++;
				continue;
			}
			ss_meta(objs[pi])->drop = SS_DROP_HA_STANDBY_NO_FLOW;
			next[pi] = HA_NEXT_DROP;
		}
	}
	ss_ha_wcnt[w->index].standby_rx += rx;
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

static uint16_t ha_out_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			       uint16_t nb)
{
	return ha_process(graph, node, objs, nb, SS_ACL_OUT, &ha_out_arc.next);
}

static uint16_t ha_in_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb)
{
	return ha_process(graph, node, objs, nb, SS_ACL_IN, &ha_in_arc.next);
}

static struct rte_node_register ha_out_node = {
	.name = SS_HA_NODE_OUT,
	.process = ha_out_process,
	.init = ss_node_init_worker,
	.nb_edges = 1,
	.next_nodes = { [HA_NEXT_DROP] = SS_NODE_DROP },
};
RTE_NODE_REGISTER(ha_out_node);

static struct rte_node_register ha_in_node = {
	.name = SS_HA_NODE_IN,
	.process = ha_in_process,
	.init = ss_node_init_worker,
	.nb_edges = 1,
	.next_nodes = { [HA_NEXT_DROP] = SS_NODE_DROP },
};
RTE_NODE_REGISTER(ha_in_node);
