/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The BFD feature's two nodes (bfd.h): bfd_punt on `ingress.fabric`, before
 * overlay_fabric, and the source node src_bfd_tx.
 *
 * bfd_punt sees every frame of a fabric port that the admission rule let
 * in, so its common case is a burst of VXLAN with nothing to take: a few
 * compares per packet on the parsed layer, then the burst moves on whole.
 */
#include <string.h>

#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_ring.h>

#include "pipelines/bfd/bfd.h"
#include "pipelines/bfd/bfd_frame.h"
#include "pipelines/bfd/bfd_fsm.h"
#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/drop/drop.h"
#include "pipelines/parse/parse_node.h"

struct ss_bfd_peers *ss_bfd_peers_cur;
struct rte_ring *ss_bfd_rx_ring;
struct rte_ring *ss_bfd_tx_ring;

enum { PUNT_NEXT_DROP = 0 };

/* The flow fast path takes only VXLAN (UDP 4789) to a VIP on fabric ports:
 * never a BFD packet (UDP 3784/4784) nor an ARP reply or neighbour
 * advertisement, so the punt node has nothing to do with what it takes
 * (fast_skip = ss_arc_skip_always). */

static struct ss_arc_feature punt_arc = {
	.arc = SS_ARC_INGRESS_FABRIC,
	.node = SS_BFD_PUNT_NODE,
	.runs_before = { "overlay_fabric" },
	.fast_skip = ss_arc_skip_always,
};
SS_ARC_FEATURE_REGISTER(punt_arc);

/* Could this frame be for the control thread? (no memory access beyond the
 * parsed layer) */
static inline int candidate(const struct ss_layer *l)
{
	if (l->l3 == SS_L3_ARP)
		return 1;
	if (!(l->flags & SS_PF_L4) || (l->flags & SS_PF_VXLAN))
		return 0;
	if (l->proto == 17)
		return l->dport == SS_BFD_UDP_SINGLE || l->dport == SS_BFD_UDP_MULTI;
	return l->proto == 58 && (l->dport >> 8) == 136;
}

/* Is `src` a session's address for a frame of `kind` received on `port`? */
static inline bool known_peer(const struct ss_bfd_peers *ps, int kind, int fam, uint16_t port,
			      uint16_t dport, const uint8_t *src)
{
	for (uint32_t i = 0; ps != NULL && i < ps->n; i++) {
		const struct ss_bfd_peer *p = &ps->p[i];

		if (p->fam != fam || memcmp(p->ip, src, fam == 4 ? 4 : 16) != 0)
			continue;
		if (kind != SS_BFD_FRAME_BFD)
			return p->port == port;          /* address resolution */
		if (p->multihop ? dport == SS_BFD_UDP_MULTI
				: dport == SS_BFD_UDP_SINGLE && p->port == port)
			return true;
	}
	return false;
}

/* One candidate: 1 punted, 0 handed on (not ours), -1 dropped (reason set). */
static int punt_one(const struct ss_bfd_peers *ps, struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = &meta->hdr.outer;
	const uint8_t *src = NULL;
	int kind, fam;

	kind = ss_bfd_frame_classify(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				     l, &src);
	if (kind == SS_BFD_FRAME_NONE)
		return 0;
	fam = l->l3 == SS_L3_IPV6 ? 6 : 4;
	if (!known_peer(ps, kind, fam, meta->in_port, l->dport, src)) {
		if (kind != SS_BFD_FRAME_BFD)
			return 0;                    /* someone else's ARP / NA */
		meta->drop = SS_DROP_BFD_NO_SESSION;
		return -1;
	}
	if (rte_ring_mp_enqueue(ss_bfd_rx_ring, m) != 0) {
		meta->drop = SS_DROP_BFD_PUNT_FULL;
		return -1;
	}
	return 1;
}

static uint16_t punt_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb)
{
	const struct ss_bfd_peers *ps = __atomic_load_n(&ss_bfd_peers_cur, __ATOMIC_ACQUIRE);
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	bool any = false;
	uint16_t i;

	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		struct ss_meta *meta = ss_meta(m);

		any |= candidate(&meta->hdr.outer) != 0;
		next[i] = ss_arc_edge(&punt_arc.next, m, meta->hdr.outer.flags);
	}
	if (likely(!any)) {
		ss_node_dispatch(graph, node, objs, nb, next);
		return nb;
	}
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		int r = candidate(&ss_meta(m)->hdr.outer) ? punt_one(ps, m) : 0;

		if (r > 0)
			continue;                    /* the control thread's now */
		if (r < 0) {
			ss_meta(m)->drop_node = (uint16_t)node->id;
			rte_node_enqueue_x1(graph, node, PUNT_NEXT_DROP, m);
		} else {
			if (next[i] == PUNT_NEXT_DROP)
				ss_meta(m)->drop_node = (uint16_t)node->id;
			rte_node_enqueue_x1(graph, node, next[i], m);
		}
	}
	return nb;
}

static struct rte_node_register punt_node = {
	.name = SS_BFD_PUNT_NODE,
	.process = punt_process,
	.init = ss_node_init_worker,
	.nb_edges = 1,
	.next_nodes = { [PUNT_NEXT_DROP] = SS_NODE_DROP },
};
RTE_NODE_REGISTER(punt_node);

/* ---- src_bfd_tx --------------------------------------------------------------- */

enum { TXS_NEXT_DROP = 0, TXS_NEXT_TX };

static uint16_t txs_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			    uint16_t nb_objs)
{
	struct rte_ring *r = ss_bfd_tx_ring;
	unsigned int n;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	/* one consumer: worker 0 (its tx queue on every port) */
	if (r == NULL || ss_node_worker(node)->index != 0 || rte_ring_empty(r))
		return 0;
	n = rte_ring_sc_dequeue_burst(r, node->objs, RTE_GRAPH_BURST_SIZE, NULL);
	if (n == 0)
		return 0;
	node->idx = (uint16_t)n;
	rte_node_next_stream_move(graph, node, TXS_NEXT_TX);
	return (uint16_t)n;
}

static struct rte_node_register txs_node = {
	.name = SS_BFD_TX_NODE,
	.flags = RTE_NODE_SOURCE_F,
	.process = txs_process,
	.init = ss_node_init_worker,
	.nb_edges = 2,
	.next_nodes = { [TXS_NEXT_DROP] = SS_NODE_DROP, [TXS_NEXT_TX] = "port_tx" },
};
RTE_NODE_REGISTER(txs_node);
