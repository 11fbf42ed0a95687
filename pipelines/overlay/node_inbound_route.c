/* SPDX-License-Identifier: BSD-3-Clause
 *
 * inbound_route: inbound routing and PA validation (SPEC 3.2 step 4).
 * The ENI's inbound routes for (VNI, outer source) decide: longest prefix,
 * then lowest priority; `decap` accepts, `decap_pa_validate` requires
 * (vnet, outer source) in the PA-validation table. An ENI without inbound
 * routes accepts exactly the PAs of its VNET's mappings. Then the `inbound`
 * arc: its features, then decapsulation.
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

/* Accepted: the `inbound` arc (its features, then decapsulation). */
static inline uint8_t pass(struct rte_mbuf *m)
{
	return ss_arc_edge(&ss_ovl_arc_inbound.from[0], m, ss_meta(m)->hdr.outer.flags);
}

static uint16_t inbound_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				uint16_t nb_objs)
{
	struct ss_ovl_inb_key ikeys[RTE_GRAPH_BURST_SIZE];
	struct ss_ovl_ipkey pkeys[RTE_GRAPH_BURST_SIZE], vkeys[RTE_GRAPH_BURST_SIZE];
	uint64_t vals[RTE_GRAPH_BURST_SIZE];
	uint16_t ipk[RTE_GRAPH_BURST_SIZE], ppk[RTE_GRAPH_BURST_SIZE], vpk[RTE_GRAPH_BURST_SIZE];
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	uint16_t ni = 0, np = 0, nv = 0;

	/* pass 1: ENIs with inbound routes need them; the others accept the
	 * PAs of their VNET's mappings (SPEC 3.2 step 4) */
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		struct ss_meta *meta = ss_meta(m);
		const struct ss_layer *o = &meta->hdr.outer;
		const struct ss_ovl_eni *e = ss_ovl_eni_get(meta->eni);

		if (unlikely(e == NULL)) {
			next[i] = drop(m, SS_DROP_ENI_MISS);
			continue;
		}
		if (__atomic_load_n(&ss_ovl.inb_count[e->index], __ATOMIC_RELAXED) == 0) {
			ss_ovl_ipkey(&pkeys[np], ovl_fam(o), e->vnet,
				     ovl_src_ip(rte_pktmbuf_mtod(m, uint8_t *), o));
			ppk[np++] = i;
		} else {
			ikeys[ni].eni = e->index;
			ikeys[ni].vni = meta->hdr.vni;
			ipk[ni++] = i;
		}
	}
	/* pass 2: the inbound routes */
	ovl_hash_lookup_n(&ss_ovl.inb, ikeys, sizeof(ikeys[0]), ni, vals);
	for (uint16_t j = 0; j < ni; j++) {
		uint16_t i = ipk[j];
		struct rte_mbuf *m = objs[i];
		const struct ss_layer *o = &ss_meta(m)->hdr.outer;
		const uint8_t *src = ovl_src_ip(rte_pktmbuf_mtod(m, uint8_t *), o);
		const struct ss_ovl_inb_rule *r =
			vals[j] ? ss_ovl_inb_list_match((const void *)(uintptr_t)vals[j], ovl_fam(o), src)
				: NULL;

		if (r == NULL) {
			next[i] = drop(m, SS_DROP_INBOUND_ROUTE_MISS);
		} else if (r->action == SS_OVL_INB_DECAP_PA_VALIDATE) {
			const struct ss_ovl_eni *e = ss_ovl_eni_get(ss_meta(m)->eni);
			ss_ovl_ipkey(&vkeys[nv], ovl_fam(o), r->vnet ? r->vnet : e->vnet, src);
			vpk[nv++] = i;
		} else {
			next[i] = pass(m);
		}
	}
	/* pass 3: PA validation, and the PAs of mappings */
	ovl_hash_lookup_n(&ss_ovl.pav, vkeys, sizeof(vkeys[0]), nv, vals);
	for (uint16_t j = 0; j < nv; j++) {
		struct rte_mbuf *m = objs[vpk[j]];
		next[vpk[j]] = vals[j] ? pass(m) : drop(m, SS_DROP_PA_VALIDATION_FAIL);
	}
	ovl_hash_lookup_n(&ss_ovl.paref, pkeys, sizeof(pkeys[0]), np, vals);
	for (uint16_t j = 0; j < np; j++) {
		struct rte_mbuf *m = objs[ppk[j]];
		next[ppk[j]] = vals[j] ? pass(m) : drop(m, SS_DROP_PA_VALIDATION_FAIL);
	}
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
