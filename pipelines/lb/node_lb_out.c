/* SPDX-License-Identifier: BSD-3-Clause
 *
 * lb_out: the load balancer, outbound (SPEC 3.9, docs/lb.md), on the
 * `outbound` arc after policy_out (so the ACLs and connection tracking see
 * the VIP as the destination) and before route_out (which routes, maps and
 * encapsulates toward the backend's address).
 *
 * A TCP / UDP packet (not a fragment) of an ENI whose VNET has an LB, to
 * that LB's (vip, protocol, port): its session (the connection as the VM
 * sent it) gives the backend; without one, the Maglev table entry at the
 * flow hash (ss_lb_flow_hash % table size) picks it and the session is
 * opened (connection counted). The destination becomes (backend ip,
 * backend_port), checksums updated incrementally (lb_nat.h). No active
 * backend and no session: drop `lb_no_backend`. Everything else goes on
 * unchanged.
 *
 * Flow cache: the transform a flow caches (conntrack's slot, filled by
 * vxlan_encap) is the encapsulation toward the session's backend, which
 * stays the flow's backend while the session lives. A packet that opens a
 * session for a flow that already existed (its session expired or its
 * backend went down) goes through route_out's lookups and refills the slot
 * (SS_OVL_F_CACHED cleared, SS_OVL_F_FILL set). The flow fast path applies
 * cached transforms without this node, so lb_out_fast_skip keeps it off
 * for the ENIs of a VNET with an LB.
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

enum { LB_OUT_NEXT_DROP = 0, LB_OUT_NB_NEXT };

static bool lb_out_fast_skip(uint32_t eni)
{
	return !ss_lb_eni_on(ss_lb_state_get(), eni);
}

static struct ss_arc_feature lb_out_arc = {
	.arc = SS_ARC_OUTBOUND,
	.node = SS_LB_NODE_OUT,
	.runs_after = { "policy_out" },
	.runs_before = { "pl_out" },
	.fast_skip = lb_out_fast_skip,
};
SS_ARC_FEATURE_REGISTER(lb_out_arc);

static inline uint8_t pass(struct rte_mbuf *m)
{
	return ss_arc_edge(&lb_out_arc.next, m, ss_meta(m)->hdr.outer.flags);
}

static uint8_t lb_out_one(unsigned int worker, const struct ss_lb_state *st, struct rte_mbuf *m,
			  uint64_t tsc)
{
	struct ss_meta *meta = ss_meta(m);
	struct ss_layer *l = (struct ss_layer *)(uintptr_t)ss_overlay_tenant(meta);
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	const struct ss_lb_sess *s;
	const struct ss_lb_vip *v;
	const uint8_t *bip;
	struct ss_lb_skey k;
	unsigned int alen;
	uint32_t slot;
	uint16_t bport;
	uint8_t fam;

	if (!ss_lb_eni_on(st, meta->eni) || (l->flags & (SS_PF_L4 | SS_PF_FRAG)) != SS_PF_L4 ||
	    (l->proto != IPPROTO_TCP && l->proto != IPPROTO_UDP))
		return pass(m);
	if (l->l3 == SS_L3_IPV4)
		fam = 4;
	else if (l->l3 == SS_L3_IPV6)
		fam = 6;
	else
		return pass(m);
	alen = fam == 4 ? 4 : 16;
	v = ss_lb_find(st, meta->vnet, fam, f + l->l3_off + (fam == 4 ? 16 : 24), l->proto,
		       l->dport);
	if (likely(v == NULL))
		return pass(m);
	memset(&k, 0, sizeof(k));
	k.eni = meta->eni;
	k.proto = l->proto;
	k.fam = fam;
	k.sport = l->sport;
	k.dport = l->dport;
	memcpy(k.src, f + l->l3_off + (fam == 4 ? 12 : 8), alen);
	memcpy(k.dst, f + l->l3_off + (fam == 4 ? 16 : 24), alen);
	s = ss_lb_sess_find(&k);
	if (s != NULL) {
		ss_lb_sess_touch(s, tsc);
		bip = s->bip;
		bport = s->bport;
		slot = s->slot;
	} else {
		const struct ss_lb_be *be;
		bool opened;

		if (v->table == NULL) {
			ss_mark_drop(m, SS_DROP_LB_NO_BACKEND);
			return LB_OUT_NEXT_DROP;
		}
		be = &v->be[v->table[ss_lb_flow_hash(k.proto, alen, k.src, k.dst, k.sport, k.dport) %
				     v->m]];
		s = ss_lb_sess_open(&k, v, be, tsc, &opened);
		if (opened)
			ss_lb_ctr[worker][be->slot].connections++;
		bip = s != NULL ? s->bip : be->ip;
		bport = s != NULL ? s->bport : v->backend_port;
		slot = s != NULL ? s->slot : be->slot;
		/* the flow's cached transform (if any) led to another backend */
		if (meta->ovl_flags & SS_OVL_F_CACHED)
			meta->ovl_flags = (uint8_t)((meta->ovl_flags & ~SS_OVL_F_CACHED) |
						    SS_OVL_F_FILL);
	}
	ss_lb_rewrite(f, l, fam, true, bip, bport);
	ss_lb_count(worker, slot, l->l3_len);
	return pass(m);
}

static uint16_t lb_out_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			       uint16_t nb)
{
	const struct ss_lb_state *st = ss_lb_state_get();
	const struct ss_arc_hop *h = &lb_out_arc.next.hop[0];
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	unsigned int worker;
	uint64_t tsc;

	if (st->n_lb == 0 && h->pf == 0 && h->drop == 0) {
		rte_node_next_stream_move(graph, node, h->edge);
		return nb;
	}
	worker = ss_node_worker(node)->index;
	tsc = rte_get_tsc_cycles();
	for (uint16_t i = 0; i < nb; i++)
		next[i] = lb_out_one(worker, st, objs[i], tsc);
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

static struct rte_node_register lb_out_node = {
	.name = SS_LB_NODE_OUT,
	.process = lb_out_process,
	.init = ss_node_init_worker,
	.nb_edges = LB_OUT_NB_NEXT,
	.next_nodes = {
		[LB_OUT_NEXT_DROP] = SS_NODE_DROP,
	},
};
RTE_NODE_REGISTER(lb_out_node);
