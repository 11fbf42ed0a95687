/* SPDX-License-Identifier: BSD-3-Clause
 *
 * port_tx: transmits on meta->out_port, on this worker's queue of the
 * packet's class (SPEC section 2: worker i uses tx queue i, and W + i for the
 * lossless lane). Enforces the egress MTU (the L3 length, as on Linux). What
 * the queue does not accept is dropped as `tx_full`; nothing is buffered
 * across calls, so nothing is left behind when the worker stops.
 */
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "pipelines/capture/capture.h"
#include "pipelines/common/node.h"

enum { TX_NEXT_DROP = 0 };

#define TX_NB_SLOTS (SS_MAX_PORTS * 2)

struct tx_slot {
	uint16_t n;
	uint64_t bytes; /* of pkts[0 .. n) */
	struct rte_mbuf *pkts[RTE_GRAPH_BURST_SIZE];
};

struct tx_state {
	uint16_t nb_used;
	uint8_t used[TX_NB_SLOTS];
	struct tx_slot slot[TX_NB_SLOTS];
};

struct tx_ctx {
	struct ss_worker *w;
	struct tx_state *st;
};
_Static_assert(sizeof(struct tx_ctx) <= RTE_NODE_CTX_SZ, "tx ctx too large");

/* L3 length of the frame as it leaves: Ethernet and up to two tags off. */
static inline uint32_t l3_len(const struct rte_mbuf *m)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t l2 = RTE_ETHER_HDR_LEN;
	uint16_t et = (uint16_t)(d[12] << 8 | d[13]);

	if (et == RTE_ETHER_TYPE_VLAN || et == RTE_ETHER_TYPE_QINQ) {
		l2 += 4;
		et = (uint16_t)(d[16] << 8 | d[17]);
		if (et == RTE_ETHER_TYPE_VLAN)
			l2 += 4;
	}
	return m->pkt_len > l2 ? m->pkt_len - l2 : 0;
}

/* The slot of a packet: its egress port and class. */
static inline uint16_t tx_slot_of(const struct ss_meta *meta)
{
	return (uint16_t)(meta->out_port * 2 + (meta->tx_class & 1));
}

static inline uint16_t tx_queue(const struct ss_port *p, const struct ss_worker *w, uint8_t cls)
{
	if (cls == SS_TX_LOSSLESS && p->lossless_lane)
		return (uint16_t)(ss_ports.nb_workers + w->index);
	return (uint16_t)w->index;
}

/* `bytes`: the frame lengths of pkts[0 .. n), summed while they were
 * sorted (the device owns what it took, so the sum is taken before). */
static void tx_flush(struct rte_graph *graph, struct rte_node *node, struct ss_worker *w,
		     uint16_t pi, uint16_t q, struct rte_mbuf **pkts, uint16_t n, uint64_t bytes)
{
	const struct ss_port *p = &ss_ports.ports[pi];

	/* before the burst: the device owns the mbufs once it took them */
	ss_capture_tx(pi, pkts, n);
	uint16_t sent = rte_eth_tx_burst(p->eth_id, q, pkts, n);

	for (uint16_t i = sent; i < n; i++) {
		bytes -= pkts[i]->pkt_len;
		ss_node_enqueue_drop(graph, node, pkts[i], SS_DROP_TX_FULL);
	}
	w->port[pi].tx_packets += sent;
	w->port[pi].tx_bytes += bytes;
}

static uint16_t tx_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			   uint16_t nb_objs)
{
	struct tx_ctx *ctx = (struct tx_ctx *)node->ctx;
	struct ss_worker *w = ctx->w;
	struct tx_state *st = ctx->st;
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	uint16_t keep = 0, first_slot;
	uint64_t bytes = 0;
	bool same = true;

	if (unlikely(nb_objs == 0))
		return 0;
	/* the queue the burst goes to when every packet goes to the same */
	first_slot = tx_slot_of(ss_meta(pkts[0]));

	/* pass 1: MTU, and whether the whole burst shares one queue. A frame
	 * no longer than MTU + 14 fits whatever its tags (its L3 length is at
	 * most pkt_len - 14): only a longer one is looked at. */
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ss_meta *meta = ss_meta(m);
		const struct ss_port *p = &ss_ports.ports[meta->out_port];

		if (unlikely(m->pkt_len > (uint32_t)p->mtu + RTE_ETHER_HDR_LEN) &&
		    l3_len(m) > p->mtu) {
			ss_node_enqueue_drop(graph, node, m, SS_DROP_MTU_EXCEEDED);
			same = false;
			continue;
		}
		same &= tx_slot_of(meta) == first_slot;
		bytes += m->pkt_len;
		pkts[keep++] = m;
	}
	if (keep == 0)
		return nb_objs;
	if (same) {
		uint16_t pi = first_slot / 2;
		tx_flush(graph, node, w, pi, tx_queue(&ss_ports.ports[pi], w, first_slot & 1), pkts,
			 keep, bytes);
		return nb_objs;
	}
	/* pass 2: sort into per-queue slots, then one burst per queue */
	for (uint16_t i = 0; i < keep; i++) {
		uint16_t slot = tx_slot_of(ss_meta(pkts[i]));
		struct tx_slot *s = &st->slot[slot];

		if (s->n == 0) {
			st->used[st->nb_used++] = (uint8_t)slot;
			s->bytes = 0;
		}
		s->bytes += pkts[i]->pkt_len;
		s->pkts[s->n++] = pkts[i];
	}
	for (uint16_t k = 0; k < st->nb_used; k++) {
		uint16_t slot = st->used[k];
		struct tx_slot *s = &st->slot[slot];
		uint16_t pi = slot / 2;

		tx_flush(graph, node, w, pi, tx_queue(&ss_ports.ports[pi], w, slot & 1), s->pkts,
			 s->n, s->bytes);
		s->n = 0;
	}
	st->nb_used = 0;
	return nb_objs;
}

static int tx_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct tx_ctx *ctx = (struct tx_ctx *)node->ctx;
	int rc = ss_node_init_worker(graph, node);

	if (rc != 0)
		return rc;
	ctx->st = rte_zmalloc_socket("ss_tx_state", sizeof(*ctx->st), RTE_CACHE_LINE_SIZE,
				     graph->socket);
	return ctx->st == NULL ? -ENOMEM : 0;
}

static void tx_fini(const struct rte_graph *graph, struct rte_node *node)
{
	struct tx_ctx *ctx = (struct tx_ctx *)node->ctx;

	RTE_SET_USED(graph);
	rte_free(ctx->st);
	ctx->st = NULL;
}

static struct rte_node_register tx_node = {
	.name = "port_tx",
	.process = tx_process,
	.init = tx_init,
	.fini = tx_fini,
	.nb_edges = 1,
	.next_nodes = { [TX_NEXT_DROP] = SS_NODE_DROP },
};
RTE_NODE_REGISTER(tx_node);
