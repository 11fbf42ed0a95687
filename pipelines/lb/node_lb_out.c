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

/* Pass 1: the packet's LB (NULL: not balanced) and its session key. */
static const struct ss_lb_vip *classify(const struct ss_lb_state *st, struct rte_mbuf *m,
					struct ss_lb_skey *k)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = ss_overlay_tenant(meta);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct ss_lb_vip *v;
	unsigned int alen;
	uint8_t fam;

	if (!ss_lb_eni_on(st, meta->eni) || (l->flags & (SS_PF_L4 | SS_PF_FRAG)) != SS_PF_L4 ||
	    (l->proto != IPPROTO_TCP && l->proto != IPPROTO_UDP))
		return NULL;
	if (l->l3 == SS_L3_IPV4)
		fam = 4;
	else if (l->l3 == SS_L3_IPV6)
		fam = 6;
	else
		return NULL;
	alen = fam == 4 ? 4 : 16;
	v = ss_lb_find(st, meta->vnet, fam, f + l->l3_off + (fam == 4 ? 16 : 24), l->proto,
		       l->dport);
	if (likely(v == NULL))
		return NULL;
	memset(k, 0, sizeof(*k));
	k->eni = meta->eni;
	k->proto = l->proto;
	k->fam = fam;
	k->sport = l->sport;
	k->dport = l->dport;
	memcpy(k->src, f + l->l3_off + (fam == 4 ? 12 : 8), alen);
	memcpy(k->dst, f + l->l3_off + (fam == 4 ? 16 : 24), alen);
	return v;
}

/* Pass 3: the packet of LB v with session s (NULL: none found). */
static uint8_t balance(unsigned int worker, const struct ss_lb_vip *v, struct rte_mbuf *m,
		       const struct ss_lb_skey *k, const struct ss_lb_sess *s, uint64_t tsc)
{
	struct ss_meta *meta = ss_meta(m);
	struct ss_layer *l = (struct ss_layer *)(uintptr_t)ss_overlay_tenant(meta);
	const uint8_t *bip;
	uint32_t slot;
	uint16_t bport;

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
		be = &v->be[v->table[ss_lb_flow_hash(k->proto, k->fam == 4 ? 4 : 16, k->src, k->dst,
						     k->sport, k->dport) % v->m]];
		s = ss_lb_sess_open(k, v, be, tsc, &opened);
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
	ss_lb_rewrite(rte_pktmbuf_mtod(m, uint8_t *), l, k->fam, true, bip, bport);
	ss_lb_count(worker, slot, l->l3_len);
	return pass(m);
}

static uint16_t lb_out_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			       uint16_t nb)
{
	const struct ss_lb_state *st = ss_lb_state_get();
	const struct ss_arc_hop *h = &lb_out_arc.next.hop[0];
	struct ss_lb_skey keys[RTE_GRAPH_BURST_SIZE];
	const struct ss_lb_vip *vip[RTE_GRAPH_BURST_SIZE];
	const struct ss_lb_sess *sess[RTE_GRAPH_BURST_SIZE];
	const void *kp[RTE_GRAPH_BURST_SIZE];
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	uint16_t idx[RTE_GRAPH_BURST_SIZE];
	unsigned int worker;
	uint16_t n = 0;
	uint64_t tsc;

	/* nothing to balance: the burst moves whole (recorded through the
	 * dispatch while a trace runs: the next node's trace probe runs there) */
	if (st->n_lb == 0 && h->pf == 0 && h->drop == 0 && !ss_trace_active()) {
		rte_node_next_stream_move(graph, node, h->edge);
		return nb;
	}
	/* classify, look the sessions up in bulk, then balance */
	for (uint16_t i = 0; i < nb; i++) {
		const struct ss_lb_vip *v = classify(st, objs[i], &keys[n]);

		if (v == NULL) {
			next[i] = pass(objs[i]);
			continue;
		}
		vip[n] = v;
		kp[n] = &keys[n];
		idx[n++] = i;
	}
	if (n == 0) {
		ss_node_dispatch(graph, node, objs, nb, next);
		return nb;
	}
	ss_lb_sess_find_bulk(kp, n, sess);
	worker = ss_node_worker(node)->index;
	tsc = rte_get_tsc_cycles();
	for (uint16_t j = 0; j < n; j++)
		next[idx[j]] = balance(worker, vip[j], objs[idx[j]], &keys[j], sess[j], tsc);
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
