/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vxlan_decap: decapsulation and delivery to the ENI (SPEC 3.2 step 6).
 * ECN per RFC 6040 section 4.2: the inner ECN field becomes the table's
 * entry for (inner, outer); outer CE over a Not-ECT inner packet is dropped
 * (ecn_ce_not_ect). A host-port ENI gets the inner frame on its port, tagged
 * with its VLAN if it has one; an appliance ENI gets it re-encapsulated
 * toward vm_underlay_ip with VNI vm_vni (vxlan_encap). It is also where a
 * policy node returns allowed inbound packets.
 */
#include <rte_ip.h>

#include "pipelines/conntrack/ct_emc.h"
#include "pipelines/overlay/ovl_pkt.h"

enum {
	DECAP_NEXT_DROP = 0,
	DECAP_NEXT_TX,
	DECAP_NEXT_ENCAP,
	DECAP_NB_NEXT,
};

enum { NOT_ECT = 0, ECT1 = 1, ECT0 = 2, CE = 3 };

static inline uint8_t drop(struct rte_mbuf *m, unsigned int reason)
{
	ss_mark_drop(m, reason);
	return DECAP_NEXT_DROP;
}

/* RFC 6040 4.2: the inner ECN after decapsulation, -1: drop. */
static inline int ecn_decap(int inner, int outer)
{
	if (inner == NOT_ECT)
		return outer == CE ? -1 : NOT_ECT;
	if (outer == CE)
		return CE;
	if (inner == ECT0 && outer == ECT1)
		return ECT1;
	return inner;
}

/* Apply it to the inner IP header. 0 or -1 (drop). */
static inline int ecn(uint8_t *frame, const struct ss_meta *meta)
{
	const struct ss_layer *in = &meta->hdr.inner;
	uint8_t *ip = frame + in->l3_off;
	int outer = ovl_tos(frame + meta->hdr.outer.l3_off, ovl_fam(&meta->hdr.outer)) & 3;
	int inner, res;

	if (in->l3 != SS_L3_IPV4 && in->l3 != SS_L3_IPV6)
		return 0;
	inner = ovl_tos(ip, ovl_fam(in)) & 3;
	res = ecn_decap(inner, outer);
	if (res < 0)
		return -1;
	if (res == inner)
		return 0;
	if (in->l3 == SS_L3_IPV4) {
		ip[1] = (uint8_t)((ip[1] & ~3) | res);
		ip[10] = ip[11] = 0;
		uint16_t ck = rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip);
		memcpy(ip + 10, &ck, 2);
	} else {
		/* traffic class straddles bytes 0-1: ECN is bits 4-5 of byte 1 */
		ip[1] = (uint8_t)((ip[1] & ~0x30) | res << 4);
	}
	return 0;
}

static uint8_t decap_one(struct rte_mbuf *m, unsigned int wi)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *in = &meta->hdr.inner;
	const struct ss_ovl_eni *e = ss_ovl_eni_get(meta->eni);
	uint8_t *f;

	if (unlikely(e == NULL))
		return drop(m, SS_DROP_ENI_MISS);
	if (ecn(rte_pktmbuf_mtod(m, uint8_t *), meta) != 0)
		return drop(m, SS_DROP_ECN_CE_NOT_ECT);
	if (e->port == SS_PORT_NONE) {
		if (!e->has_vm)
			return drop(m, SS_DROP_ENI_UNREACHABLE);
		/* appliance ENI: on to its VM's host, from the VIP it came to */
		meta->ovl_tgt = &e->vm;
		meta->vni = e->vm_vni;
		meta->ovl_flags |= SS_OVL_F_REENCAP;
		ovl_eni_tx(wi, e->index, m->pkt_len - in->l2_off);
		return DECAP_NEXT_ENCAP;
	}
	if (meta->ovl_flags & SS_OVL_F_FASTIN)
		ss_emc_in_fill(wi, rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			       meta->in_port, ss_ports.ports[meta->in_port].mac.addr_bytes, e->index,
			       meta->ovl_slot, meta->ovl_owner, meta->ovl_gen, e->port, e->vlan);
	rte_pktmbuf_adj(m, in->l2_off);
	if (e->vlan) {
		f = (uint8_t *)rte_pktmbuf_prepend(m, 4);
		if (unlikely(f == NULL))
			return drop(m, SS_DROP_NO_MBUF);
		memmove(f, f + 4, 2 * RTE_ETHER_ADDR_LEN);
		f[12] = SS_ETHERTYPE_VLAN >> 8;
		f[13] = SS_ETHERTYPE_VLAN & 0xff;
		f[14] = (uint8_t)(e->vlan >> 8);
		f[15] = (uint8_t)e->vlan;
	}
	meta->out_port = e->port;
	ovl_eni_tx(wi, e->index, m->pkt_len);
	return DECAP_NEXT_TX;
}

static uint16_t decap_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			      uint16_t nb_objs)
{
	unsigned int wi = ss_node_worker(node)->index;
	uint8_t next[RTE_GRAPH_BURST_SIZE];

	for (uint16_t i = 0; i < nb_objs; i++)
		next[i] = decap_one(objs[i], wi);
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static struct rte_node_register decap_node = {
	.name = OVL_NODE_DECAP,
	.process = decap_process,
	.init = ss_node_init_worker,
	.nb_edges = DECAP_NB_NEXT,
	.next_nodes = {
		[DECAP_NEXT_DROP] = SS_NODE_DROP,
		[DECAP_NEXT_TX] = "port_tx",
		[DECAP_NEXT_ENCAP] = OVL_NODE_ENCAP,
	},
};
RTE_NODE_REGISTER(decap_node);
