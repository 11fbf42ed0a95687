/* SPDX-License-Identifier: BSD-3-Clause
 *
 * route_out: outbound routing and CA-to-PA mapping (SPEC 3.1 steps 6-7), for
 * host-port ENIs and appliance mode alike. LPM on the tenant destination in
 * the ENI's route group; `vnet` / `vnet_direct` continue to the mapping of
 * (VNET, destination or overlay_ip), which gives the encapsulation target
 * and the VNI; `direct` goes to the underlay unencapsulated; `drop` drops.
 * It is also where a policy node returns allowed outbound packets.
 *
 * The burst goes through in passes so that memory latency overlaps: routes
 * first (their next hop usually carries the whole action), then the
 * distinct mapping keys in bulk lookups, the mapping entries prefetched,
 * then the verdicts. A packet of the same ENI and destination as the last
 * one routed reuses its route and key, and a key equal to the previous one
 * is looked up once: a burst comes in runs (one VM, one peer), and every
 * lookup in the LF rte_hash costs ~200 instructions.
 *
 * Flow cache (pipelines/conntrack/ct_xform.h, docs/conntrack.md): a packet
 * policy_out marked SS_OVL_F_CACHED carries its flow's slot; route_out
 * copies the slot (seqlock), checks it is still the one policy_out judged
 * valid (generation, owner), and applies it: tags stripped, inner
 * destination MAC rewritten, the cached outer headers prepended with their
 * per-packet fields (ovl_outer_fix, the same code as vxlan_encap), or for
 * the route action `direct` the TTL decremented and the cached Ethernet
 * header written (ovl_direct_ttl, as vxlan_encap), and the packet goes
 * straight to port_tx. A slot rewritten meanwhile sends the
 * packet through the lookups (and vxlan_encap refills the slot).
 */
#include "pipelines/conntrack/ct_emc.h"
#include "pipelines/conntrack/ct_xform.h"
#include "pipelines/overlay/ovl_pkt.h"

enum {
	ROUTE_NEXT_DROP = 0,
	ROUTE_NEXT_ENCAP,
	ROUTE_NEXT_TX,
	ROUTE_NB_NEXT,
};

#define ROUTE_LOOKUP 0xfe   /* cached() declined: take the lookups */

struct route_ctx {
	struct ss_worker *w;        /* ss_node_ctx */
	struct ss_ovl_wstate *ws;   /* the worker's: IPv4 identification, cache counters */
};
_Static_assert(sizeof(struct route_ctx) <= RTE_NODE_CTX_SZ, "route ctx too large");

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return ROUTE_NEXT_DROP;
}

/* Pass 1: the route of dst (family fam) for the packet's ENI. Returns the
 * edge, or OVL_PENDING when the packet needs the mapping `key`. */
static inline uint8_t route(struct rte_mbuf *m, int fam, const uint8_t *dst,
			    struct ss_ovl_ipkey *key)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_ovl_eni *e = ss_ovl_eni_get(meta->eni);
	const struct ss_ovl_route *ent;
	uint16_t vnet;
	uint8_t action;

	if (unlikely(e == NULL))
		return drop(m, SS_DROP_ENI_MISS);   /* deleted since overlay_host */
	if (unlikely(!ss_ovl_route_find(e->group, fam, dst, &action, &vnet, &ent)))
		return drop(m, SS_DROP_ROUTE_MISS);
	switch (action) {
	case SS_OVL_RT_VNET:
		ss_ovl_ipkey(key, fam, vnet ? vnet : e->vnet, dst);
		return OVL_PENDING;
	case SS_OVL_RT_VNET_DIRECT:
		ss_ovl_ipkey(key, ent->fam, vnet ? vnet : e->vnet, ent->overlay_ip);
		return OVL_PENDING;
	case SS_OVL_RT_DIRECT:
		meta->ovl_flags |= SS_OVL_F_DIRECT;
		return ROUTE_NEXT_ENCAP;
	default:
		return drop(m, SS_DROP_ROUTE_DROP);
	}
}

static inline bool ipkey_eq(const struct ss_ovl_ipkey *a, const struct ss_ovl_ipkey *b)
{
	uint64_t x[2], y[2];
	uint32_t u, v;

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	memcpy(&u, (const uint8_t *)a + 16, 4);
	memcpy(&v, (const uint8_t *)b + 16, 4);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (u ^ v)) == 0;
}
_Static_assert(sizeof(struct ss_ovl_ipkey) == 20, "mapping key layout");
_Static_assert(RTE_GRAPH_BURST_SIZE <= 256, "key indices are 8-bit");

/* The last route that ended in a mapping key, for the next packets of the
 * same ENI to the same destination (a burst comes in runs): the route
 * depends on nothing else, and within a burst the tables are those the
 * lookups read anyway (RCU: held until the end of the walk). */
struct route_memo {
	uint32_t eni;
	uint8_t fam;           /* 0: none yet */
	uint8_t key;           /* index of the mapping key */
	uint8_t dst[16];
};

/* Pass 3: the mapping found (or not) for key. */
static inline uint8_t map(struct rte_mbuf *m, const struct ss_ovl_ipkey *key,
			  const struct ss_ovl_mapping *mp)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_ovl_eni *e;

	if (unlikely(mp == NULL))
		return drop(m, SS_DROP_MAPPING_MISS);
	e = ss_ovl_eni_get(meta->eni);
	if (unlikely(e == NULL))
		return drop(m, SS_DROP_ENI_MISS);
	meta->ovl_tgt = &mp->tgt;
	meta->vni = mp->use_dst_vni ? ss_ovl_vnet_get(key->vnet)->vni : e->vni;
	return ROUTE_NEXT_ENCAP;
}

/* The flow's cached transform, applied. */
static uint8_t cached(struct route_ctx *ctx, struct rte_mbuf *m, struct ss_meta *meta)
{
	const struct ss_layer *l = ss_overlay_tenant(meta);
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t len = rte_pktmbuf_data_len(m);
	struct ss_ct_xform x;
	int rc;

	if (unlikely(!ss_ct_xform_read(meta->ovl_slot, &x) || !x.valid ||
		     x.gen != meta->ovl_gen || x.owner != meta->ovl_owner)) {
		meta->ovl_flags = (uint8_t)((meta->ovl_flags & ~SS_OVL_F_CACHED) | SS_OVL_F_FILL);
		return ROUTE_LOOKUP;
	}
	/* the flow fast path takes the flow's next packets (ct_emc.h); the
	 * frame as received, before the transform changes it */
	ss_emc_fill_slot(ctx->w->index, frame, len, meta->in_port, meta->eni, meta->ovl_slot,
			 meta->ovl_owner, meta->ovl_gen);
	rc = ovl_xform_apply(ctx->ws, m, l, &x);
	if (unlikely(rc != 0))
		return drop(m, (unsigned int)rc);
	meta->out_port = x.port;
	return ROUTE_NEXT_TX;
}

static uint16_t route_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	struct route_ctx *ctx = (struct route_ctx *)node->ctx;
	struct ss_ovl_ipkey keys[RTE_GRAPH_BURST_SIZE];
	uint64_t vals[RTE_GRAPH_BURST_SIZE];
	uint16_t pkt[RTE_GRAPH_BURST_SIZE];
	uint8_t key_of[RTE_GRAPH_BURST_SIZE];
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	struct route_memo memo = { .fam = 0 };
	uint16_t n = 0, nk = 0;

	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		struct ss_meta *meta = ss_meta(m);

		if (i + 4 < nb_objs)
			rte_prefetch0(ss_meta(objs[i + 4]));
		if (meta->ovl_flags & SS_OVL_F_CACHED) {
			next[i] = cached(ctx, m, meta);
			if (next[i] != ROUTE_LOOKUP)
				continue;
		}
		const struct ss_layer *l = ss_overlay_tenant(meta);
		const uint8_t *dst = ovl_dst_ip(rte_pktmbuf_mtod(m, uint8_t *), l);
		int fam = ovl_fam(l);

		if (memo.fam == fam && memo.eni == meta->eni &&
		    ss_ovl_ip_eq(dst, memo.dst, fam == 4 ? 4 : 16)) {
			next[i] = OVL_PENDING;
			pkt[n] = i;
			key_of[n++] = memo.key;
			continue;
		}
		next[i] = route(m, fam, dst, &keys[nk]);
		if (next[i] != OVL_PENDING)
			continue;
		if (nk == 0 || !ipkey_eq(&keys[nk], &keys[nk - 1]))
			nk++;
		pkt[n] = i;
		key_of[n++] = (uint8_t)(nk - 1);
		if (fam == 4 || fam == 6) {
			memo.eni = meta->eni;
			memo.fam = (uint8_t)fam;
			memo.key = (uint8_t)(nk - 1);
			memcpy(memo.dst, dst, fam == 4 ? 4 : 16);
		}
	}
	ovl_hash_lookup_n(&ss_ovl.map, keys, sizeof(keys[0]), nk, vals);
	for (uint16_t k = 0; k < nk; k++)
		if (vals[k])
			rte_prefetch0((const void *)(uintptr_t)vals[k]);
	for (uint16_t j = 0; j < n; j++)
		next[pkt[j]] = map(objs[pkt[j]], &keys[key_of[j]],
				   (const void *)(uintptr_t)vals[key_of[j]]);
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static int route_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct route_ctx *ctx = (struct route_ctx *)node->ctx;
	int rc = ss_node_init_worker(graph, node);

	if (rc == 0)
		ctx->ws = &ss_ovl_wstate[ss_node_worker(node)->index];
	return rc;
}

static struct rte_node_register route_node = {
	.name = OVL_NODE_ROUTE_OUT,
	.process = route_process,
	.init = route_init,
	.nb_edges = ROUTE_NB_NEXT,
	.next_nodes = {
		[ROUTE_NEXT_DROP] = SS_NODE_DROP,
		[ROUTE_NEXT_ENCAP] = OVL_NODE_ENCAP,
		[ROUTE_NEXT_TX] = "port_tx",
	},
};
RTE_NODE_REGISTER(route_node);
