/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rdma_steer: RoCEv2 packets from host and storage ports (parse sends them
 * here). Every packet is counted in its worker's per-QP table; a packet that
 * matches a policy is routed to the policy's port (SPEC 3.7): Ethernet
 * addresses, 802.1Q PCP, DSCP and TTL rewritten (ICRC-safe, rdma_hdr.h),
 * lossless class when the policy asks and the port has the lane, then
 * port_tx. A policy with encap `vnet` does the same DSCP / TTL rewrites,
 * then hands the packet to the overlay's encapsulation toward the mapping of
 * (its ENI's VNET, destination IP): VXLAN to the PA out of the policy's
 * port, to its next_hop_mac (no mapping: dropped `mapping_miss`).
 * What matches no policy goes on to its successor on the ingress arc of
 * its port's role (the overlay), or is dropped `no_forwarding` when the arc
 * has none (as parse would).
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/parse/parse_node.h"
#include "pipelines/rdma/rdma.h"
#include "pipelines/rdma/rdma_qp.h"
#include "pipelines/rdma/rdma_steer.h"

enum { RDMA_NEXT_DROP = 0, RDMA_NEXT_TX, RDMA_NB_STATIC_NEXT };

/* Buckets of the QP table the reaper visits per burst. */
#define RDMA_AGE_BUCKETS 2

struct ss_rdma_state *ss_rdma_cur;
uint32_t ss_rdma_clear_gen;

/* rdma_steer sits on the ingress arcs of host and storage ports, in front
 * of the overlay, for RoCEv2 packets only (parse flags SS_PF_ROCE). */
static struct ss_arc_feature arc_host = {
	.arc = SS_ARC_INGRESS_HOST,
	.node = SS_RDMA_NODE,
	.runs_before = { "overlay_host" },
	.pf = SS_PF_ROCE,
};
SS_ARC_FEATURE_REGISTER(arc_host);

static struct ss_arc_feature arc_storage = {
	.arc = SS_ARC_INGRESS_STORAGE,
	.node = SS_RDMA_NODE,
	.runs_before = { "overlay_fabric" },
	.pf = SS_PF_ROCE,
};
SS_ARC_FEATURE_REGISTER(arc_storage);

/* Fabric ports have no RoCE arc: nothing of theirs comes here. */
static const struct ss_arc_next no_arc = {
	.hop = { { .edge = RDMA_NEXT_DROP, .drop = SS_DROP_NO_FORWARDING } },
};

/* The arc successor, per ingress role (dataplane: ro). */
static const struct ss_arc_next *const role_next[SS_ROLE_STORAGE + 1] = {
	[SS_ROLE_HOST] = &arc_host.next,
	[SS_ROLE_FABRIC] = &no_arc,
	[SS_ROLE_STORAGE] = &arc_storage.next,
};

/* Node context: ss_node_ctx's layout, then the IPv4 identification of the
 * outer headers this node builds (encap vnet; DF clear, RFC 6864). */
struct rdma_ctx {
	struct ss_worker *w;
	uint16_t ip_id;
};
_Static_assert(sizeof(struct rdma_ctx) <= RTE_NODE_CTX_SZ, "rdma ctx too large");

/* What a burst reads once: the published state, this worker's QP table
 * (read-only for the burst's loop: its address does not escape, so the
 * compiler keeps it in registers). */
struct burst {
	const struct ss_rdma_state *st;
	const struct ss_rdma_action *act;
	struct ss_rdma_qpt *qt;
	uint64_t now;
	uint64_t idle;
	uint32_t gen;
	uint32_t clear_gen;
	uint8_t cnp_dscp;
};

/* Packets and bytes of a run of packets steered by one policy: added to
 * the worker's row of policy counters when the policy changes and at the
 * end of the burst (one worker writes its row: no atomics). */
struct run {
	struct ss_rdma_pctr *ctr;
	uint16_t pidx;
	uint32_t packets;
	uint64_t bytes;
};

static inline void run_flush(struct run *r)
{
	if (r->packets != 0) {
		r->ctr[r->pidx].packets += r->packets;
		r->ctr[r->pidx].bytes += r->bytes;
		r->packets = 0;
		r->bytes = 0;
	}
}

static inline void run_add(struct run *r, uint16_t pidx, uint32_t len)
{
	if (unlikely(pidx != r->pidx)) {
		run_flush(r);
		r->pidx = pidx;
	}
	r->packets++;
	r->bytes += len;
}

static_assert(offsetof(struct ss_rdma_action, smac) == offsetof(struct ss_rdma_action, dmac) + 6,
	      "the action's MACs are one 12-byte Ethernet address pair");

/* Not steered: on to the arc successor of the ingress role (the overlay),
 * or dropped no_forwarding when the arc has none (as parse would). */
static inline uint8_t unsteered(struct rte_mbuf *m, const struct ss_meta *meta)
{
	return ss_arc_edge(role_next[ss_ports.ports[meta->in_port].role], m,
			   meta->hdr.outer.flags);
}

/* The QP's entry when the burst's candidate slot was not it: a new QP, a
 * signature collision, an entry expired or cleared (kept out of line). */
static __rte_noinline struct ss_rdma_qp_entry *
qp_lookup_slow(struct ss_rdma_qpt *qt, const struct ss_rdma_qp_key *key, uint32_t h, uint64_t now,
	       uint64_t idle, uint32_t clear_gen)
{
	return ss_rdma_qpt_find_or_add(qt, key, h, now, idle, clear_gen);
}

/* The policy of a packet by the policy table (once per QP and state). */
static __rte_noinline uint16_t policy_lookup(const struct ss_rdma_state *st, const uint8_t *ip,
					     bool v4, uint32_t dqp)
{
	if (v4) {
		uint32_t s, d;

		memcpy(&s, ip + 12, 4);
		memcpy(&d, ip + 16, 4);
		return ss_rdma_lookup4(st, rte_be_to_cpu_32(s), rte_be_to_cpu_32(d), dqp);
	}
	return ss_rdma_lookup6(st, ip + 8, ip + 24, dqp);
}

/* Per-QP accounting; returns the packet's policy (cached per QP). `e` is
 * the candidate slot of the key (ss_rdma_qpt_candidate), NULL if none. */
static inline uint16_t account_and_match(const struct burst *b, const struct ss_meta *meta,
					 const uint8_t *ip, bool v4, uint32_t frame_len,
					 const struct ss_rdma_qp_key *key, uint32_t h,
					 struct ss_rdma_qp_entry *e)
{
	const struct ss_bth *bth = &meta->bth;
	uint16_t pidx;

	if (unlikely(e == NULL || !ss_rdma_qpt_hit(e, key, b->now, b->idle, b->clear_gen)))
		e = b->qt != NULL ? qp_lookup_slow(b->qt, key, h, b->now, b->idle, b->clear_gen)
				  : NULL;
	if (likely(e != NULL)) {
		ss_rdma_qp_count(e, frame_len,
				 ss_rdma_opclass_tab(bth->opcode, bth->has_aeth, bth->aeth_syndrome),
				 bth->psn, ss_ip_ecn(ip, v4) == 3, b->now);
		if (likely(e->pgen == b->gen))
			return e->pidx;
	}
	pidx = policy_lookup(b->st, ip, v4, bth->dqp);
	if (e != NULL) {
		e->pidx = pidx;
		e->pgen = b->gen;
	}
	return pidx;
}

/* encap vnet: the rewritten RoCE packet, whole (its source MAC kept, its
 * destination MAC := the mapping's, VLAN tags removed), in VXLAN toward
 * the mapping's PA; outer DSCP = the packet's (policy or CNP DSCP). */
static __rte_noinline uint8_t steer_vnet(struct rte_mbuf *m, const struct ss_rdma_action *a,
					 const uint8_t *ip, bool v4, uint8_t dscp, uint16_t *ip_id)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_ovl_mapping *mp;
	uint32_t vni;
	int reason;

	mp = ss_overlay_mapping_lookup(a->eni, v4 ? 4 : 6, ip + (v4 ? 16 : 24), &vni);
	if (unlikely(mp == NULL)) {
		ss_mark_drop(m, SS_DROP_MAPPING_MISS);
		return RDMA_NEXT_DROP;
	}
	reason = ss_overlay_encap_to_pa(m, mp, vni, a->out_port, a->dmac, dscp, ip_id);
	if (unlikely(reason != 0)) {
		ss_mark_drop(m, (unsigned int)reason);
		return RDMA_NEXT_DROP;
	}
	meta->tx_class = a->tx_class;
	return RDMA_NEXT_TX;
}

/* One packet (`v4`: its outer layer is IPv4; a constant in the loop of
 * all-IPv4 bursts): its edge; *pidx the policy that steered it to port_tx (and
 * *len its length as received, for the policy's counters), otherwise
 * SS_RDMA_NO_POLICY. */
static __rte_always_inline uint8_t steer_one(const struct burst *b, struct rte_mbuf *m,
					     uint8_t *ip, bool v4, const struct ss_rdma_qp_key *key,
					     uint32_t h, struct ss_rdma_qp_entry *e,
					     uint16_t *ip_id, uint16_t *pidx_out, uint32_t *len)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = &meta->hdr.outer;
	uint16_t pidx;
	uint8_t edge;

	*pidx_out = SS_RDMA_NO_POLICY;
	*len = m->pkt_len;
	pidx = account_and_match(b, meta, ip, v4, *len, key, h, e);
	if (pidx == SS_RDMA_NO_POLICY)
		return unsteered(m, meta);

	/* routed (SPEC 3.7): TTL / hop limit <= 1 is not forwarded */
	if (unlikely(ss_ip_ttl(ip, v4) <= 1)) {
		ss_mark_drop(m, SS_DROP_TTL_EXCEEDED);
		return RDMA_NEXT_DROP;
	}
	const struct ss_rdma_action *a = &b->act[pidx];
	uint8_t dscp = meta->bth.opcode == SS_BTH_OP_CNP ? b->cnp_dscp : a->dscp;

	if (likely(v4))
		ss_rdma_rewrite_ip4(ip, dscp);
	else
		ss_rdma_rewrite_ip6(ip, dscp);
	if (unlikely(a->encap == SS_RDMA_ENCAP_VNET)) {
		edge = steer_vnet(m, a, ip, v4, dscp, ip_id);
		if (edge == RDMA_NEXT_TX)
			*pidx_out = pidx;
		return edge;
	}
	if (a->pcp != SS_RDMA_NO_PCP && l->nb_vlans > 0) {
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);

		d[14] = (uint8_t)(a->pcp << 5 | (d[14] & 0x1f));
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), a->dmac, 12); /* destination, source */
	*pidx_out = pidx;
	meta->out_port = a->out_port;
	meta->tx_class = a->tx_class;
	return RDMA_NEXT_TX;
}

/* What the first two passes over a burst leave for the third. */
struct pkt {
	struct ss_rdma_qp_key key;
	uint32_t hash;
	uint32_t base;                 /* first slot of the key's bucket */
	uint8_t *ip;
	struct ss_rdma_qp_entry *cand; /* ss_rdma_qpt_candidate */
};

static uint16_t rdma_steer_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				   uint16_t nb_objs)
{
	struct rdma_ctx *ctx = (struct rdma_ctx *)node->ctx;
	struct ss_worker *w = ctx->w;
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	struct pkt pk[RTE_GRAPH_BURST_SIZE];
	const struct ss_rdma_state *st;
	uint16_t nb_tx = 0;
	bool all4 = true;
	struct burst b;
	struct run r;

	st = __atomic_load_n(&ss_rdma_cur, __ATOMIC_ACQUIRE);
	if (unlikely(st == NULL)) {
		for (uint16_t i = 0; i < nb_objs; i++)
			next[i] = unsteered(objs[i], ss_meta(objs[i]));
		goto out;
	}
	b.st = st;
	b.act = st->act;
	b.qt = NULL;
	if (st->qps != NULL && w->index < st->qps->nb)
		b.qt = st->qps->t[w->index];
	b.now = rte_rdtsc();
	b.idle = st->idle_tsc;
	b.gen = st->gen;
	b.clear_gen = __atomic_load_n(&ss_rdma_clear_gen, __ATOMIC_RELAXED);
	b.cnp_dscp = st->cnp_dscp;
	r.ctr = st->ctr[w->index];
	r.pidx = SS_RDMA_NO_POLICY;
	r.packets = 0;
	r.bytes = 0;
	/* three passes so the QP table's cache misses overlap: keys, hashes
	 * and signature prefetches; candidate slots and their prefetches;
	 * then the work (for a burst of IPv4 packets, the usual case, with
	 * the IPv6 alternatives compiled out) */
	if (likely(b.qt != NULL)) {
		for (uint16_t i = 0; i < nb_objs; i++) {
			struct rte_mbuf *m = objs[i];
			const struct ss_meta *meta = ss_meta(m);
			struct pkt *p = &pk[i];
			bool v4 = meta->hdr.outer.l3 == SS_L3_IPV4;

			all4 &= v4;
			p->ip = rte_pktmbuf_mtod(m, uint8_t *) + meta->hdr.outer.l3_off;
			ss_rdma_qp_key_make(&p->key, p->ip, v4, meta->bth.dqp);
			p->hash = ss_rdma_qp_hash(&p->key);
			p->base = ss_rdma_qpt_base(b.qt, p->hash);
			rte_prefetch0(&b.qt->sig[p->base]);
		}
		for (uint16_t i = 0; i < nb_objs; i++)
			pk[i].cand = ss_rdma_qpt_candidate(b.qt, pk[i].base, pk[i].hash);
	} else {
		/* no QP table (this worker has none): policies only */
		all4 = false;
		for (uint16_t i = 0; i < nb_objs; i++) {
			struct rte_mbuf *m = objs[i];
			const struct ss_meta *meta = ss_meta(m);

			pk[i].ip = rte_pktmbuf_mtod(m, uint8_t *) + meta->hdr.outer.l3_off;
			pk[i].cand = NULL;
		}
	}
	if (likely(all4)) {
		for (uint16_t i = 0; i < nb_objs; i++) {
			uint16_t pidx;
			uint32_t len;

			next[i] = steer_one(&b, objs[i], pk[i].ip, true, &pk[i].key, pk[i].hash,
					    pk[i].cand, &ctx->ip_id, &pidx, &len);
			if (likely(pidx != SS_RDMA_NO_POLICY)) {
				run_add(&r, pidx, len);
				nb_tx++;
			}
		}
	} else {
		for (uint16_t i = 0; i < nb_objs; i++) {
			struct rte_mbuf *m = objs[i];
			uint16_t pidx;
			uint32_t len;

			next[i] = steer_one(&b, m, pk[i].ip,
					    ss_meta(m)->hdr.outer.l3 == SS_L3_IPV4, &pk[i].key,
					    pk[i].hash, pk[i].cand, &ctx->ip_id, &pidx, &len);
			if (likely(pidx != SS_RDMA_NO_POLICY)) {
				run_add(&r, pidx, len);
				nb_tx++;
			}
		}
	}
	run_flush(&r);
	if (b.qt != NULL)
		ss_rdma_qpt_age(b.qt, b.now, b.idle, RDMA_AGE_BUCKETS);
	/* every packet steered to port_tx, no trace: the whole burst moves */
	if (likely(nb_tx == nb_objs && nb_objs != 0) && !ss_trace_active()) {
		rte_node_next_stream_move(graph, node, RDMA_NEXT_TX);
		return nb_objs;
	}
out:
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static int rdma_steer_init(const struct rte_graph *graph, struct rte_node *node)
{
	((struct rdma_ctx *)node->ctx)->ip_id = 0;
	return ss_node_init_worker(graph, node);
}

static struct rte_node_register rdma_steer_node = {
	.name = SS_RDMA_NODE,
	.process = rdma_steer_process,
	.init = rdma_steer_init,
	.nb_edges = RDMA_NB_STATIC_NEXT,
	.next_nodes = {
		[RDMA_NEXT_DROP] = SS_NODE_DROP,
		[RDMA_NEXT_TX] = "port_tx",
	},
};
RTE_NODE_REGISTER(rdma_steer_node);
