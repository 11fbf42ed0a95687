/* SPDX-License-Identifier: BSD-3-Clause
 *
 * inbound_route: inbound routing and PA validation (SPEC 3.2 step 4).
 * The ENI's inbound routes for (VNI, outer source) decide: longest prefix,
 * then lowest priority; `decap` accepts, `decap_pa_validate` requires
 * (vnet, outer source) in the PA-validation table. An ENI without inbound
 * routes accepts exactly the PAs of its VNET's mappings. Then the policy
 * hook, or decapsulation.
 */
#include "pipelines/overlay/ovl_pkt.h"

enum {
	INB_NEXT_DROP = 0,
	INB_NEXT_DECAP,
	INB_NB_NEXT,
};

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return INB_NEXT_DROP;
}

static inline bool pa_known(const struct ovl_hash *h, uint16_t vnet, int fam, const uint8_t *pa)
{
	struct ss_ovl_ipkey k;
	uint64_t v;

	ss_ovl_ipkey(&k, fam, vnet, pa);
	return ovl_hash_lookup(h, &k, &v);
}

static uint8_t inbound_one(struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *o = &meta->hdr.outer;
	const uint8_t *src = ovl_src_ip(rte_pktmbuf_mtod(m, uint8_t *), o);
	const struct ss_ovl_eni *e = ss_ovl_eni_get(meta->eni);
	const struct ss_ovl_inb_rule *r;
	int fam = ovl_fam(o);

	if (unlikely(e == NULL))
		return drop(m, SS_DROP_ENI_MISS);
	if (__atomic_load_n(&ss_ovl.inb_count[e->index], __ATOMIC_RELAXED) == 0) {
		if (!pa_known(&ss_ovl.paref, e->vnet, fam, src))
			return drop(m, SS_DROP_PA_VALIDATION_FAIL);
	} else {
		r = ss_ovl_inb_match(e->index, meta->hdr.vni, fam, src);
		if (r == NULL)
			return drop(m, SS_DROP_INBOUND_ROUTE_MISS);
		if (r->action == SS_OVL_INB_DECAP_PA_VALIDATE &&
		    !pa_known(&ss_ovl.pav, r->vnet ? r->vnet : e->vnet, fam, src))
			return drop(m, SS_DROP_PA_VALIDATION_FAIL);
	}
	return ss_ovl_edge_policy_in ? ss_ovl_edge_policy_in : INB_NEXT_DECAP;
}

static uint16_t inbound_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				uint16_t nb_objs)
{
	uint8_t next[RTE_GRAPH_BURST_SIZE];

	for (uint16_t i = 0; i < nb_objs; i++)
		next[i] = inbound_one(objs[i]);
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static struct rte_node_register inbound_node = {
	.name = OVL_NODE_INBOUND,
	.process = inbound_process,
	.nb_edges = INB_NB_NEXT,
	.next_nodes = {
		[INB_NEXT_DROP] = SS_NODE_DROP,
		[INB_NEXT_DECAP] = OVL_NODE_DECAP,
	},
};
RTE_NODE_REGISTER(inbound_node);
