/* SPDX-License-Identifier: BSD-3-Clause
 *
 * lb_in: the load balancer, inbound (SPEC 3.9, docs/lb.md), on the
 * `inbound` arc before policy_in: a TCP / UDP reply from (backend ip,
 * backend_port) to a VM whose session exists (lb_out opened it) gets its
 * source restored to (vip, port), checksums updated incrementally, so
 * connection tracking and the ACLs see the reverse of the connection the
 * VM opened, and so does the VM. Everything else goes on unchanged.
 *
 * The flow fast path delivers known inbound flows without the arc, so
 * lb_in_fast_skip keeps it off for the ENIs of a VNET with an LB.
 */
#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/drop/drop.h"
#include "pipelines/lb/lb.h"
#include "pipelines/lb/lb_nat.h"
#include "pipelines/overlay/overlay.h"

enum { LB_IN_NEXT_DROP = 0, LB_IN_NB_NEXT };

static bool lb_in_fast_skip(uint32_t eni)
{
	return !ss_lb_eni_on(ss_lb_state_get(), eni);
}

static struct ss_arc_feature lb_in_arc = {
	.arc = SS_ARC_INBOUND,
	.node = SS_LB_NODE_IN,
	.runs_before = { "policy_in" },
	.fast_skip = lb_in_fast_skip,
};
SS_ARC_FEATURE_REGISTER(lb_in_arc);

static void lb_in_one(unsigned int worker, const struct ss_lb_state *st, struct rte_mbuf *m,
		      uint64_t tsc)
{
	struct ss_meta *meta = ss_meta(m);
	struct ss_layer *l = (struct ss_layer *)(uintptr_t)ss_overlay_tenant(meta);
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	const struct ss_lb_sess *s;
	struct ss_lb_skey k;
	unsigned int alen;
	uint8_t fam;

	if (!ss_lb_eni_on(st, meta->eni) || (l->flags & (SS_PF_L4 | SS_PF_FRAG)) != SS_PF_L4 ||
	    (l->proto != IPPROTO_TCP && l->proto != IPPROTO_UDP))
		return;
	if (l->l3 == SS_L3_IPV4)
		fam = 4;
	else if (l->l3 == SS_L3_IPV6)
		fam = 6;
	else
		return;
	alen = fam == 4 ? 4 : 16;
	memset(&k, 0, sizeof(k));
	k.eni = meta->eni;
	k.proto = l->proto;
	k.fam = fam;
	k.rev = 1;
	k.sport = l->sport;
	k.dport = l->dport;
	memcpy(k.src, f + l->l3_off + (fam == 4 ? 12 : 8), alen);
	memcpy(k.dst, f + l->l3_off + (fam == 4 ? 16 : 24), alen);
	s = ss_lb_sess_find_rev(&k);
	if (s == NULL)
		return;
	/* replies keep the session alive too (a server pushing over UDP) */
	ss_lb_sess_touch(s, tsc);
	ss_lb_rewrite(f, l, fam, false, s->vip, s->vport);
	ss_lb_count(worker, s->slot, l->l3_len);
}

static uint16_t lb_in_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb)
{
	const struct ss_lb_state *st = ss_lb_state_get();
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	unsigned int worker;
	uint64_t tsc;

	/* nothing to balance: the burst moves whole (recorded through the
	 * dispatch while a trace runs: policy_in's trace probe runs there) */
	if (st->n_lb == 0 && lb_in_arc.next.hop[0].pf == 0 && lb_in_arc.next.hop[0].drop == 0 &&
	    !ss_trace_active()) {
		rte_node_next_stream_move(graph, node, lb_in_arc.next.hop[0].edge);
		return nb;
	}
	worker = ss_node_worker(node)->index;
	tsc = rte_get_tsc_cycles();
	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];

		lb_in_one(worker, st, m, tsc);
		next[i] = ss_arc_edge(&lb_in_arc.next, m, ss_meta(m)->hdr.outer.flags);
	}
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

static struct rte_node_register lb_in_node = {
	.name = SS_LB_NODE_IN,
	.process = lb_in_process,
	.init = ss_node_init_worker,
	.nb_edges = LB_IN_NB_NEXT,
	.next_nodes = {
		[LB_IN_NEXT_DROP] = SS_NODE_DROP,
	},
};
RTE_NODE_REGISTER(lb_in_node);
