/* SPDX-License-Identifier: BSD-3-Clause
 *
 * overlay_fabric: the entry of fabric and storage ports (SPEC 3.2 steps 1-3,
 * 3.3).
 *   - not VXLAN: ARP and neighbour solicitations for a switch address (the
 *     underlay IPs and the VIPs) are answered with the port's MAC, ICMP /
 *     ICMPv6 echo to one is answered; anything else: not_vxlan;
 *   - VXLAN to a non-VIP: vip_miss;
 *   - VNI in the direction table: appliance mode, ENI by inner source MAC,
 *     on to the outbound arc (its features, route_out) with the tenant packet
 *     inside;
 *   - else VNET by VNI, ENI by (VNET, inner destination MAC), on to
 *     inbound_route.
 */
#include "pipelines/overlay/ovl_pkt.h"

enum {
	FAB_NEXT_DROP = 0,
	FAB_NEXT_TX,
	FAB_NEXT_INBOUND,
	FAB_NEXT_ROUTE,
	FAB_NB_NEXT,
};

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return FAB_NEXT_DROP;
}

static inline bool is_switch_ip(int fam, const uint8_t *ip)
{
	return ss_ovl_is_vip(ss_ovl_switch_get(), fam, ip);
}

/* Non-VXLAN traffic: the switch's own ARP / ND / echo, or not_vxlan. */
static uint8_t local(struct rte_mbuf *m, struct ss_meta *meta)
{
	const struct ss_layer *l = &meta->hdr.outer;
	const struct rte_ether_addr *mac = &ss_ports.ports[meta->in_port].mac;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t target[16];

	if (ovl_arp_request(frame, l, target)) {
		if (!is_switch_ip(4, target))
			return drop(m, SS_DROP_NOT_VXLAN);
		ovl_arp_reply(frame, l, mac);
	} else if (ovl_nd_solicit(frame, l, target)) {
		if (!is_switch_ip(6, target) || ovl_nd_advert(m, l, mac, false) != 0)
			return drop(m, SS_DROP_NOT_VXLAN);
	} else if (l->l3 == SS_L3_IPV4 || l->l3 == SS_L3_IPV6) {
		if (!is_switch_ip(ovl_fam(l), ovl_dst_ip(frame, l)) || !ovl_echo_reply(frame, l, mac))
			return drop(m, SS_DROP_NOT_VXLAN);
	} else {
		return drop(m, SS_DROP_NOT_VXLAN);
	}
	meta->out_port = meta->in_port;
	return FAB_NEXT_TX;
}

/* Appliance mode (SPEC 3.3): the ENI sent it, through a host vSwitch. */
static uint8_t appliance(struct rte_mbuf *m, struct ss_meta *meta, unsigned int wi)
{
	const struct ss_layer *in = &meta->hdr.inner;
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct ss_ovl_vmac_key k = { .vnet = 0 };
	const struct ss_ovl_eni *e = NULL;
	uint64_t idx;

	memcpy(k.mac, frame + in->l2_off + 6, 6);
	if (ovl_hash_lookup(&ss_ovl.eni_app, &k, &idx))
		e = ss_ovl_eni_get((uint32_t)idx);
	if (e == NULL)
		return drop(m, SS_DROP_ENI_MISS);
	if (!e->admin_up)
		return drop(m, SS_DROP_ENI_ADMIN_DOWN);
	meta->eni = e->index;
	meta->vnet = e->vnet;
	meta->ovl_dir = SS_OVL_DIR_OUTBOUND;
	meta->ovl_flags = SS_OVL_F_INNER | SS_OVL_F_REENCAP;
	ovl_eni_rx(wi, e->index, m->pkt_len - in->l2_off);
	if (in->l3 == SS_L3_ARP)
		return drop(m, SS_DROP_ARP_UNRESOLVED);  /* the host vSwitch answers its VMs */
	if (in->l3 != SS_L3_IPV4 && in->l3 != SS_L3_IPV6)
		return drop(m, SS_DROP_TENANT_NOT_IP);
	meta->flow_hash = ovl_flow_hash(frame, in);
	return ss_arc_edge(&ss_ovl_arc_outbound.from[OVL_OUT_FROM_FABRIC], m,
			   meta->hdr.outer.flags);
}

/* Pass 1: what is decided without tables keyed by VNI. Returns the edge,
 * or OVL_PENDING when the VNI lookup must decide. */
static inline uint8_t fabric_vxlan(struct rte_mbuf *m, uint32_t *vni)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *o = &meta->hdr.outer;

	if (!(o->flags & SS_PF_VXLAN))
		return local(m, meta);
	if (!ss_ovl_is_vip(ss_ovl_switch_get(), ovl_fam(o),
			   ovl_dst_ip(rte_pktmbuf_mtod(m, uint8_t *), o)))
		return drop(m, SS_DROP_VIP_MISS);
	if (!(meta->hdr.vxlan_flags & 0x08))
		return drop(m, SS_DROP_NOT_VXLAN);       /* RFC 7348: I flag set */
	*vni = meta->hdr.vni;
	return OVL_PENDING;
}

/* Pass 2: direction table and VNET by VNI (one value answers both).
 * OVL_PENDING: the ENI lookup must decide, with `key`. */
static inline uint8_t fabric_vnet(struct rte_mbuf *m, uint64_t v, struct ss_ovl_vmac_key *key,
				  unsigned int wi)
{
	struct ss_meta *meta = ss_meta(m);

	if (v & SS_OVL_VNI_DIR)
		return appliance(m, meta, wi);
	if (v == 0)
		return drop(m, SS_DROP_VNI_UNKNOWN);
	key->vnet = (uint16_t)v;
	memcpy(key->mac, rte_pktmbuf_mtod(m, uint8_t *) + meta->hdr.inner.l2_off, 6);
	return OVL_PENDING;
}

/* Pass 3: the ENI by (VNET, inner destination MAC). */
static inline uint8_t fabric_eni(struct rte_mbuf *m, uint64_t idx, uint16_t vnet)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *in = &meta->hdr.inner;
	const struct ss_ovl_eni *e = idx ? ss_ovl_eni_get((uint32_t)idx) : NULL;

	if (e == NULL)
		return drop(m, SS_DROP_ENI_MISS);
	if (!e->admin_up)
		return drop(m, SS_DROP_ENI_ADMIN_DOWN);
	meta->eni = e->index;
	meta->vnet = vnet;
	meta->ovl_dir = SS_OVL_DIR_INBOUND;
	meta->ovl_flags = SS_OVL_F_INNER;
	meta->flow_hash = in->l3 == SS_L3_IPV4 || in->l3 == SS_L3_IPV6
				  ? ovl_flow_hash(rte_pktmbuf_mtod(m, uint8_t *), in)
				  : 0;
	return FAB_NEXT_INBOUND;
}

static uint16_t fabric_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			       uint16_t nb_objs)
{
	unsigned int wi = ss_node_worker(node)->index;
	uint32_t vnis[RTE_GRAPH_BURST_SIZE];
	struct ss_ovl_vmac_key keys[RTE_GRAPH_BURST_SIZE];
	uint64_t vals[RTE_GRAPH_BURST_SIZE];
	uint16_t pkt[RTE_GRAPH_BURST_SIZE];
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	uint16_t n = 0, k = 0;

	for (uint16_t i = 0; i < nb_objs; i++) {
		if (i + 4 < nb_objs)
			rte_prefetch0(ss_meta(objs[i + 4]));
		next[i] = fabric_vxlan(objs[i], &vnis[n]);
		if (next[i] == OVL_PENDING)
			pkt[n++] = i;
	}
	ovl_hash_lookup_n(&ss_ovl.vni, vnis, sizeof(vnis[0]), n, vals);
	for (uint16_t j = 0; j < n; j++) {
		uint16_t i = pkt[j];
		next[i] = fabric_vnet(objs[i], vals[j], &keys[k], wi);
		if (next[i] == OVL_PENDING)
			pkt[k++] = i;   /* k <= j: pkt[] is reused in place */
	}
	ovl_hash_lookup_n(&ss_ovl.eni_vnet, keys, sizeof(keys[0]), k, vals);
	for (uint16_t j = 0; j < k; j++)
		next[pkt[j]] = fabric_eni(objs[pkt[j]], vals[j], keys[j].vnet);
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static struct rte_node_register fabric_node = {
	.name = OVL_NODE_FABRIC,
	.process = fabric_process,
	.init = ss_node_init_worker,
	.nb_edges = FAB_NB_NEXT,
	.next_nodes = {
		[FAB_NEXT_DROP] = SS_NODE_DROP,
		[FAB_NEXT_TX] = "port_tx",
		[FAB_NEXT_INBOUND] = OVL_NODE_INBOUND,
		[FAB_NEXT_ROUTE] = OVL_NODE_ROUTE_OUT,
	},
};
RTE_NODE_REGISTER(fabric_node);
