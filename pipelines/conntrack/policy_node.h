/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The body of the policy nodes (policy_out.c, policy_in.c), written once
 * for both directions: each node is a feature on the overlay's arc of its
 * direction (overlay.h: "outbound", "inbound"), so it gets every tenant
 * packet of an ENI; it runs the policy stage over the burst
 * (ss_ct_policy_burst: connection tracking, then the ACL stages for what no
 * flow covers) and sends allowed packets on to its arc successor, the
 * others to `drop` with `acl_deny` (also counted in the ENI's acl_drops) or
 * `frag_no_first`.
 *
 * Edges: 0 = drop (static); the arc's, added by ss_arcs_finalize before the
 * graphs exist.
 */
#ifndef SS_POLICY_NODE_H
#define SS_POLICY_NODE_H

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "pipelines/acl/acl.h"
#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"

enum { SS_POLICY_NEXT_DROP = 0 };

/* The published flow table (RCU: valid for the walk). */
struct ss_ct *ss_ct_current(void);

static __rte_always_inline uint16_t ss_policy_process(struct rte_graph *graph,
						      struct rte_node *node, void **objs,
						      uint16_t nb, unsigned int dir,
						      const struct ss_arc_next *arc)
{
	struct ss_worker *w = ss_node_worker(node);
	const struct ss_acl_state *acl = ss_acl_current();
	struct ss_ct *ct = ss_ct_current();
	struct ss_ct_pkt p[RTE_GRAPH_BURST_SIZE];
	uint8_t v[RTE_GRAPH_BURST_SIZE], next[RTE_GRAPH_BURST_SIZE];
	uint16_t i;

	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		const struct ss_meta *meta = ss_meta(m);

		p[i].data = rte_pktmbuf_mtod(m, const uint8_t *);
		p[i].l = ss_overlay_tenant(meta);
		p[i].eni = meta->eni;
	}
	ss_ct_policy_burst(ct, acl, w->index, dir, p, nb, rte_rdtsc(), v);
	for (i = 0; i < nb; i++) {
		struct ss_meta *meta;

		if (likely(v[i] == SS_CT_PASS)) {
			next[i] = ss_arc_edge(arc, objs[i], ss_meta(objs[i])->hdr.outer.flags);
			continue;
		}
		meta = ss_meta(objs[i]);
		next[i] = SS_POLICY_NEXT_DROP;
		if (v[i] == SS_CT_DROP_ACL) {
			meta->drop = SS_DROP_ACL_DENY;
			ss_overlay_eni_acl_drop(w->index, meta->eni);
		} else {
			meta->drop = SS_DROP_FRAG_NO_FIRST;
		}
	}
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

#endif
