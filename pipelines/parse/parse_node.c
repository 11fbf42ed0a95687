/* SPDX-License-Identifier: BSD-3-Clause
 *
 * parse: fills struct ss_meta for every packet, accounts received bytes,
 * applies the port's admission rule (SPEC section 2: fabric and storage ports
 * take unicast to their own MAC, broadcast and multicast; host ports take
 * anything) and picks the pipeline of the ingress port (parse_node.h).
 */
#include <rte_ethdev.h>
#include <rte_ether.h>

#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/drop/drop.h"
#include "pipelines/parse/parse.h"
#include "pipelines/parse/parse_node.h"

enum {
	PARSE_NEXT_DROP = 0,
	PARSE_NEXT_PATCH,
	PARSE_NB_STATIC_NEXT,
};

/* One ingress arc per port role; features attach to them (parse_node.h). */
#define INGRESS_ARC(var, arc_name)                                                             \
	static struct ss_arc var = {                                                           \
		.name = arc_name,                                                              \
		.start = { "parse" },                                                          \
		.end = SS_NODE_DROP,                                                           \
		.end_drop = SS_DROP_NO_FORWARDING,                                             \
		/* until ss_arcs_finalize: the end */                                         \
		.from = { { .hop = { { .drop = SS_DROP_NO_FORWARDING } } } },                  \
	};                                                                                     \
	SS_ARC_REGISTER(var)

INGRESS_ARC(ingress_host, SS_ARC_INGRESS_HOST);
INGRESS_ARC(ingress_fabric, SS_ARC_INGRESS_FABRIC);
INGRESS_ARC(ingress_storage, SS_ARC_INGRESS_STORAGE);

static const struct ss_arc_next *const role_arc[SS_ROLE_STORAGE + 1] = {
	[SS_ROLE_HOST] = &ingress_host.from[0],
	[SS_ROLE_FABRIC] = &ingress_fabric.from[0],
	[SS_ROLE_STORAGE] = &ingress_storage.from[0],
};

/* Where the packets of a port go once parsed. */
static inline uint8_t ingress_next(const struct ss_port *port, struct rte_mbuf *m,
				   const struct ss_meta *meta)
{
	if (port->peer != SS_PORT_NONE)
		return PARSE_NEXT_PATCH;
	return ss_arc_edge(role_arc[port->role], m, meta->hdr.outer.flags);
}

/* A run of packets of one ingress port within a burst: the port is looked
 * up once and its received bytes are added once (run_end). */
struct run {
	uint16_t eth_id;
	uint16_t pi;
	const struct ss_port *port;
	uint64_t bytes;
};

static inline void run_end(struct ss_worker *w, const struct run *r)
{
	if (r->bytes != 0)
		w->port[r->pi].rx_bytes += r->bytes;
}

static inline void run_start(struct ss_worker *w, struct run *r, uint16_t eth_id)
{
	run_end(w, r);
	r->eth_id = eth_id;
	r->pi = ss_ports.by_eth_id[eth_id];
	r->port = &ss_ports.ports[r->pi];
	r->bytes = 0;
}

static inline uint8_t parse_one(struct ss_worker *w, struct run *r, struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const uint8_t *data;
	int rc;

	if (unlikely(m->port != r->eth_id))
		run_start(w, r, m->port);
	/* adjacent fields: the compiler merges these stores */
	meta->in_port = r->pi;
	meta->out_port = SS_PORT_NONE;  /* set by the stage that picks the egress */
	meta->drop = SS_DROP_NONE;
	meta->tx_class = SS_TX_DEFAULT;
	meta->drop_node = UINT16_MAX;   /* stamped by whoever drops it */
	r->bytes += m->pkt_len;

	/* the mbuf data room holds the largest frame a port accepts; a chained
	 * frame is linearised so every stage sees one contiguous buffer */
	if (unlikely(m->nb_segs > 1) && rte_pktmbuf_linearize(m) != 0) {
		meta->drop = SS_DROP_FRAME_TOO_BIG;
		return PARSE_NEXT_DROP;
	}
	data = rte_pktmbuf_mtod(m, const uint8_t *);
	rc = ss_parse_inline(data, rte_pktmbuf_data_len(m), &meta->hdr, &meta->bth);
	if (unlikely(rc != 0)) {
		meta->drop = (uint8_t)rc;
		return PARSE_NEXT_DROP;
	}
	if (r->port->role != SS_ROLE_HOST) {
		const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)data;
		if (rte_is_unicast_ether_addr(&eth->dst_addr) &&
		    !rte_is_same_ether_addr(&eth->dst_addr, &r->port->mac)) {
			meta->drop = SS_DROP_DMAC_MISMATCH;
			return PARSE_NEXT_DROP;
		}
	}
	return ingress_next(r->port, m, meta);
}

static uint16_t parse_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	struct ss_worker *w = ss_node_worker(node);
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	struct run r = { .eth_id = UINT16_MAX };
	uint16_t i;

	for (i = 0; i + 4 <= nb_objs; i += 4) {
		if (i + 8 <= nb_objs) {
			for (int k = 4; k < 8; k++) {
				rte_prefetch0(rte_pktmbuf_mtod((struct rte_mbuf *)objs[i + k], void *));
				rte_prefetch0(rte_mbuf_to_priv((struct rte_mbuf *)objs[i + k]));
			}
		}
		next[i] = parse_one(w, &r, objs[i]);
		next[i + 1] = parse_one(w, &r, objs[i + 1]);
		next[i + 2] = parse_one(w, &r, objs[i + 2]);
		next[i + 3] = parse_one(w, &r, objs[i + 3]);
	}
	for (; i < nb_objs; i++)
		next[i] = parse_one(w, &r, objs[i]);
	run_end(w, &r);
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static struct rte_node_register parse_node = {
	.name = "parse",
	.process = parse_process,
	.init = ss_node_init_worker,
	.nb_edges = PARSE_NB_STATIC_NEXT,
	.next_nodes = {
		[PARSE_NEXT_DROP] = SS_NODE_DROP,
		[PARSE_NEXT_PATCH] = "l2_patch",
	},
};
RTE_NODE_REGISTER(parse_node);
