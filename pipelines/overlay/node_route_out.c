/* SPDX-License-Identifier: BSD-3-Clause
 *
 * route_out: outbound routing and CA-to-PA mapping (SPEC 3.1 steps 6-7), for
 * host-port ENIs and appliance mode alike. LPM on the tenant destination in
 * the ENI's route group; `vnet` / `vnet_direct` continue to the mapping of
 * (VNET, destination or overlay_ip), which gives the encapsulation target
 * and the VNI; `direct` goes to the underlay unencapsulated; `drop` drops.
 * It is also where a policy node returns allowed outbound packets.
 */
#include "pipelines/overlay/ovl_pkt.h"

enum {
	ROUTE_NEXT_DROP = 0,
	ROUTE_NEXT_ENCAP,
	ROUTE_NB_NEXT,
};

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return ROUTE_NEXT_DROP;
}

static uint8_t route_one(struct rte_mbuf *m)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = ss_overlay_tenant(meta);
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct ss_ovl_eni *e = ss_ovl_eni_get(meta->eni);
	const struct ss_ovl_route *r;
	const struct ss_ovl_mapping *map;
	int fam = ovl_fam(l);
	uint16_t vnet;

	if (unlikely(e == NULL))
		return drop(m, SS_DROP_ENI_MISS);   /* deleted since overlay_host */
	r = ss_ovl_route_find(e->group, fam, ovl_dst_ip(frame, l));
	if (unlikely(r == NULL))
		return drop(m, SS_DROP_ROUTE_MISS);
	switch (r->action) {
	case SS_OVL_RT_VNET:
		vnet = r->vnet ? r->vnet : e->vnet;
		map = ss_ovl_mapping_find(vnet, fam, ovl_dst_ip(frame, l));
		break;
	case SS_OVL_RT_VNET_DIRECT:
		vnet = r->vnet ? r->vnet : e->vnet;
		map = ss_ovl_mapping_find(vnet, r->fam, r->overlay_ip);
		break;
	case SS_OVL_RT_DIRECT:
		meta->ovl_flags |= SS_OVL_F_DIRECT;
		return ROUTE_NEXT_ENCAP;
	default:
		return drop(m, SS_DROP_ROUTE_DROP);
	}
	if (unlikely(map == NULL))
		return drop(m, SS_DROP_MAPPING_MISS);
	meta->ovl_tgt = &map->tgt;
	meta->vni = map->use_dst_vni ? ss_ovl_vnet_get(vnet)->vni : e->vni;
	return ROUTE_NEXT_ENCAP;
}

static uint16_t route_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	uint8_t next[RTE_GRAPH_BURST_SIZE];

	for (uint16_t i = 0; i < nb_objs; i++) {
		if (i + 4 < nb_objs)
			rte_prefetch0(ss_meta(objs[i + 4]));
		next[i] = route_one(objs[i]);
	}
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static struct rte_node_register route_node = {
	.name = OVL_NODE_ROUTE_OUT,
	.process = route_process,
	.nb_edges = ROUTE_NB_NEXT,
	.next_nodes = {
		[ROUTE_NEXT_DROP] = SS_NODE_DROP,
		[ROUTE_NEXT_ENCAP] = OVL_NODE_ENCAP,
	},
};
RTE_NODE_REGISTER(route_node);
