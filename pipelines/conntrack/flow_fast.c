/* SPDX-License-Identifier: BSD-3-Clause
 *
 * flow_fast: the flow fast path (ct_emc.h, docs/conntrack.md "Fast path").
 * port_rx hands it what host ports received; a packet of a cached
 * outbound flow is forwarded from here straight to port_tx with its
 * flow's transform, everything else goes on to parse unchanged.
 *
 * For a hit it does what the full path would: the port's received bytes
 * (parse), the ENI's received packets and bytes (overlay_host), the flow's
 * activity (policy_out), the transform (route_out), the per-worker cache
 * counter. What it checks, per packet, before it takes one:
 *   - the key matches an entry of this worker's table;
 *   - the entry's flow table is the one published, its flow live, of the
 *     same incarnation and side, not closing (FIN seen), not expired;
 *   - the flow was checked against its ENI's current ACL generation;
 *   - the slot holds a transform of the current overlay generation (read
 *     once per burst, before any lookup) for that owner;
 *   - every other feature the packet would meet on the ingress.host and
 *     outbound arcs may be left out for the ENI (ss_arc_feature.fast_skip).
 * Once a packet of a burst took the full path, later packets of the burst
 * with the same key bucket take it too: a flow's packets leave in order.
 *
 * Edges: 0 drop, 1 parse, 2 port_tx.
 */
#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_malloc.h>

#include "dataplane/port-t.h"
#include "pipelines/acl/acl.h"
#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/conntrack/ct_emc.h"
#include "pipelines/conntrack/ct_int.h"
#include "pipelines/conntrack/ct_xform.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_pkt.h"
#include "pipelines/parse/parse_node.h"

enum { FAST_NEXT_DROP = 0, FAST_NEXT_PARSE, FAST_NEXT_TX, FAST_NB_NEXT };

#define FAST_MAX_SKIPS 8

struct ss_emc *ss_emc_of[SS_MAX_WORKERS];

/* The features the fast path leaves out, and whether it may run at all;
 * set once, before the graphs exist (flow_fast_arcs). */
static struct {
	bool checked;
	bool off;                  /* a feature on the arcs cannot be left out */
	unsigned int nb_skip;
	bool (*skip[FAST_MAX_SKIPS])(uint32_t eni);
} fast;

struct fast_ctx {
	struct ss_worker *w;       /* ss_node_ctx */
	struct ss_emc *emc;
};
_Static_assert(sizeof(struct fast_ctx) <= RTE_NODE_CTX_SZ, "fast ctx too large");

/* The features of `arc` a plain TCP/UDP packet meets, but the node that
 * the fast path stands in for: each needs a fast_skip, else the fast path
 * is off. */
static void collect(const char *arc, const char *stand_in)
{
	const struct ss_arc_feature *f[SS_ARC_MAX_FEATURES * 2];
	unsigned int n = ss_arc_features(arc, f, RTE_DIM(f));

	for (unsigned int i = 0; i < n && i < RTE_DIM(f); i++) {
		if (strcmp(f[i]->node, stand_in) == 0 || (f[i]->pf & ~SS_PF_L4) != 0)
			continue;
		if (f[i]->fast_skip == NULL || fast.nb_skip == FAST_MAX_SKIPS) {
			fast.off = true;
			RTE_LOG(NOTICE, USER1, "flow fast path off: %s on arc %s must see every packet\n",
				f[i]->node, arc);
			continue;
		}
		fast.skip[fast.nb_skip++] = f[i]->fast_skip;
	}
}

static void flow_fast_arcs(void)
{
	if (fast.checked)
		return;
	fast.checked = true;
	collect(SS_ARC_INGRESS_HOST, OVL_NODE_HOST);
	collect(SS_ARC_OUTBOUND, "policy_out");
}

/* Whether every feature the fast path leaves out may be left out for
 * `eni`; answers are kept for the burst, a few ENIs at a time. */
#define SKIP_MEMO 8

struct skip_memo {
	uint32_t eni[SKIP_MEMO];   /* UINT32_MAX: none */
	bool ok[SKIP_MEMO];
};

static inline bool skippable(struct skip_memo *sk, uint32_t eni)
{
	unsigned int s = eni & (SKIP_MEMO - 1);

	if (likely(fast.nb_skip == 0))
		return true;
	if (sk->eni[s] == eni)
		return sk->ok[s];
	sk->eni[s] = eni;
	sk->ok[s] = true;
	for (unsigned int i = 0; i < fast.nb_skip; i++)
		if (!fast.skip[i](eni)) {
			sk->ok[s] = false;
			break;
		}
	return sk->ok[s];
}

/* Whether the entry's flow may be forwarded with transform *x now. */
static inline bool flow_ok(struct ss_ct *ct, const struct ss_acl_state *acl,
			   const struct ss_emc_ent *ent, uint32_t gen, uint64_t now,
			   struct ss_ct_xform *x)
{
	struct ss_ct_entry *e = ss_ct_entry_at(ct, ent->pos);

	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE ||
	    ss_ct_xform_owner(e->seq, (uint8_t)(ent->owner & 1)) != ent->owner ||
	    __atomic_load_n(&e->fin_at, __ATOMIC_RELAXED) != 0 ||
	    ss_ct_expired(ct, e, now) != SS_CT_EXP_NO ||
	    __atomic_load_n(&e->acl_gen, __ATOMIC_RELAXED) != ss_acl_eni_gen(acl, ent->eni))
		return false;
	if (!ss_ct_xform_read(&ct->xf[ent->pos], x) || !x->valid || x->gen != gen ||
	    x->owner != ent->owner)
		return false;
	/* activity, as policy_out: one store per millisecond at most */
	if ((int64_t)(now - __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED)) >=
	    (int64_t)(ct->tick_hz / 1000))
		__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	return true;
}

static uint16_t fast_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb)
{
	struct fast_ctx *ctx = (struct fast_ctx *)node->ctx;
	struct ss_worker *w = ctx->w;
	struct ss_emc *emc = ctx->emc;
	struct ss_ovl_wstate *ws = &ss_ovl_wstate[w->index];
	struct ss_ct *ct = ss_ct_current();
	const struct ss_acl_state *acl;
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	struct skip_memo sk;
	uint64_t slow = 0, now;
	uint32_t gen;
	uint16_t i, hits = 0;

	if (unlikely(fast.off || ct == NULL)) {
		rte_node_next_stream_move(graph, node, FAST_NEXT_PARSE);
		return nb;
	}
	memset(sk.eni, 0xff, sizeof(sk.eni));
	/* before any lookup of the burst (as policy_out) */
	gen = ss_ovl_gen_read();
	acl = ss_acl_current();
	now = rte_rdtsc();
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		uint16_t pi = ss_ports.by_eth_id[m->port];
		struct ss_emc_key k;
		struct ss_emc_ent *ent;
		struct ss_ct_xform x;
		struct ss_meta *meta;
		struct ss_layer l;
		uint64_t bit;
		uint32_t sig;
		int rc;

		if (i + 2 < nb)
			rte_prefetch0(rte_pktmbuf_mtod((struct rte_mbuf *)objs[i + 2], void *));
		next[i] = FAST_NEXT_PARSE;
		if (unlikely(m->nb_segs != 1) ||
		    !ss_emc_key_of(d, rte_pktmbuf_data_len(m), pi, &k))
			continue;
		sig = ss_emc_hash(&k);
		bit = 1ull << (sig & 63);
		if ((slow & bit) || (ent = ss_emc_find(emc, &k, sig)) == NULL || ent->ct != ct ||
		    !flow_ok(ct, acl, ent, gen, now, &x) || !skippable(&sk, ent->eni)) {
			slow |= bit;
			continue;
		}
		meta = ss_meta(m);
		meta->in_port = pi;
		meta->drop = SS_DROP_NONE;
		meta->drop_node = UINT16_MAX;
		meta->tx_class = SS_TX_DEFAULT;
		meta->eni = ent->eni;
		w->port[pi].rx_bytes += m->pkt_len;
		ovl_eni_rx(w->index, ent->eni, m->pkt_len);
		l = (struct ss_layer){ .l2_off = 0, .l3_off = k.l3_off, .l3 = SS_L3_IPV4,
				       .nb_vlans = k.tci ? 1 : 0, .proto = k.proto,
				       .flags = SS_PF_L4 };
		rc = ovl_xform_apply(ws, m, &l, &x);
		if (unlikely(rc != 0)) {
			meta->drop = (uint8_t)rc;
			next[i] = FAST_NEXT_DROP;
			continue;
		}
		meta->out_port = x.port;
		next[i] = FAST_NEXT_TX;
		hits++;
	}
	emc->hits += hits;
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

static int fast_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct fast_ctx *ctx = (struct fast_ctx *)node->ctx;
	int rc = ss_node_init_worker(graph, node);
	unsigned int wi;

	if (rc != 0)
		return rc;
	flow_fast_arcs();
	wi = ctx->w->index;
	if (ss_emc_of[wi] == NULL) {
		ss_emc_of[wi] = rte_zmalloc_socket("ss_emc", sizeof(struct ss_emc),
						   RTE_CACHE_LINE_SIZE, graph->socket);
		if (ss_emc_of[wi] == NULL)
			return -ENOMEM;
	}
	ctx->emc = ss_emc_of[wi];
	return 0;
}

static void fast_fini(const struct rte_graph *graph, struct rte_node *node)
{
	struct fast_ctx *ctx = (struct fast_ctx *)node->ctx;

	RTE_SET_USED(graph);
	if (ctx->w != NULL && ss_emc_of[ctx->w->index] == ctx->emc) {
		ss_emc_of[ctx->w->index] = NULL;
		rte_free(ctx->emc);
	}
	ctx->emc = NULL;
}

static struct rte_node_register fast_node = {
	.name = SS_NODE_FLOW_FAST,
	.process = fast_process,
	.init = fast_init,
	.fini = fast_fini,
	.nb_edges = FAST_NB_NEXT,
	.next_nodes = {
		[FAST_NEXT_DROP] = SS_NODE_DROP,
		[FAST_NEXT_PARSE] = "parse",
		[FAST_NEXT_TX] = "port_tx",
	},
};
RTE_NODE_REGISTER(fast_node);
