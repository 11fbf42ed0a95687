/* SPDX-License-Identifier: BSD-3-Clause
 *
 * overlay_host: the entry of the outbound path for host ports (SPEC 3.1
 * steps 2-3). ENI by (ingress port, VLAN, source MAC); admin state; ARP
 * requests and neighbour solicitations answered for the ENI's VNET (mapping
 * MAC, or the switch MAC for the VNET gateway); then the `outbound` arc
 * (its features, then outbound routing).
 */
#include "pipelines/overlay/ovl_pkt.h"

enum {
	HOST_NEXT_DROP = 0,
	HOST_NEXT_ROUTE,
	HOST_NEXT_TX,
	HOST_NB_NEXT,
};

/* The MAC an ARP / ND from the ENI resolves to, NULL: unresolved. */
static const struct rte_ether_addr *resolve(const struct ss_ovl_eni *e, const struct ss_meta *meta,
					    int fam, const uint8_t *ip, bool *router)
{
	const struct ss_ovl_vnet *v = ss_ovl_vnet_get(e->vnet);
	const struct ss_ovl_mapping *m;

	*router = false;
	if ((fam == 4 && v->has_gw4 && memcmp(ip, v->gw4, 4) == 0) ||
	    (fam == 6 && v->has_gw6 && memcmp(ip, v->gw6, 16) == 0)) {
		const struct ss_ovl_switch *sw = ss_ovl_switch_get();
		*router = true;
		/* without switch.set mac, the host port's own MAC */
		return sw && sw->has_mac ? &sw->mac : &ss_ports.ports[meta->in_port].mac;
	}
	m = ss_ovl_mapping_find(e->vnet, fam, ip);
	return m ? &m->tgt.mac : NULL;
}

/* ARP / ND from an ENI: answered (to port_tx) or dropped arp_unresolved. */
static uint8_t neighbour(struct rte_mbuf *m, struct ss_meta *meta, const struct ss_ovl_eni *e,
			 unsigned int wi)
{
	const struct ss_layer *l = &meta->hdr.outer;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct rte_ether_addr *mac;
	uint8_t target[16];
	bool router;

	if (ovl_arp_request(frame, l, target)) {
		mac = resolve(e, meta, 4, target, &router);
		if (mac != NULL) {
			ovl_arp_reply(frame, l, mac);
			goto reply;
		}
	} else if (ovl_nd_solicit(frame, l, target)) {
		mac = resolve(e, meta, 6, target, &router);
		if (mac != NULL) {
			if (ovl_nd_advert(m, l, mac, router) == 0)
				goto reply;
			ss_mark_drop(m, SS_DROP_NO_MBUF);  /* no tailroom for the option */
			return HOST_NEXT_DROP;
		}
	}
	ss_mark_drop(m, SS_DROP_ARP_UNRESOLVED);
	return HOST_NEXT_DROP;
reply:
	meta->out_port = meta->in_port;
	ovl_eni_tx(wi, e->index, m->pkt_len);
	return HOST_NEXT_TX;
}

static inline bool is_nd(const struct ss_layer *l)
{
	uint8_t type = (uint8_t)(l->dport >> 8);

	return l->l3 == SS_L3_IPV6 && l->proto == OVL_IPPROTO_ICMPV6 && (l->flags & SS_PF_L4) &&
	       type >= 133 && type <= 137;
}

/* e: the packet's ENI (NULL: none), c: its counters on this worker. */
static inline uint8_t host_one(struct rte_mbuf *m, const struct ss_ovl_eni *e,
			       struct ss_overlay_eni_counters *c, unsigned int wi)
{
	struct ss_meta *meta = ss_meta(m);
	const struct ss_layer *l = &meta->hdr.outer;

	if (unlikely(e == NULL)) {
		ss_mark_drop(m, SS_DROP_ENI_MISS);
		return HOST_NEXT_DROP;
	}
	if (unlikely(!e->admin_up)) {
		ss_mark_drop(m, SS_DROP_ENI_ADMIN_DOWN);
		return HOST_NEXT_DROP;
	}
	meta->eni = e->index;
	meta->vnet = e->vnet;
	meta->ovl_dir = SS_OVL_DIR_OUTBOUND;
	meta->ovl_flags = 0;
	c->rx_packets++;
	c->rx_bytes += m->pkt_len;
	if (unlikely(l->l3 == SS_L3_ARP || is_nd(l)))
		return neighbour(m, meta, e, wi);
	if (unlikely(l->l3 != SS_L3_IPV4 && l->l3 != SS_L3_IPV6)) {
		ss_mark_drop(m, SS_DROP_TENANT_NOT_IP);
		return HOST_NEXT_DROP;
	}
	meta->flow_hash = ovl_flow_hash(rte_pktmbuf_mtod(m, const uint8_t *), l);
	return ss_arc_edge(&ss_ovl_arc_outbound.from[OVL_OUT_FROM_HOST], m, l->flags);
}

/* The ENI key of a packet: (ingress port, VLAN, source MAC). */
static inline void host_key(struct ss_ovl_host_key *k, struct rte_mbuf *m)
{
	const struct ss_meta *meta = ss_meta(m);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, void *);

	k->port = meta->in_port;
	k->vlan = meta->hdr.outer.nb_vlans ? meta->hdr.outer.vlan_tci & 0x0fff : 0;
	memcpy(k->mac, eth->src_addr.addr_bytes, 6);
	k->pad = 0;
}

static inline bool host_key_eq(const struct ss_ovl_host_key *a, const struct ss_ovl_host_key *b)
{
	uint64_t x, y;
	uint32_t u, v;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	memcpy(&u, (const uint8_t *)a + 8, 4);
	memcpy(&v, (const uint8_t *)b + 8, 4);
	return ((x ^ y) | (u ^ v)) == 0;
}
_Static_assert(sizeof(struct ss_ovl_host_key) == 12, "host key layout");
_Static_assert(RTE_GRAPH_BURST_SIZE <= 256, "key indices are 8-bit");

/* Packets of one ENI come in runs (a VM sends a burst): a key equal to the
 * previous packet's is looked up once, the distinct ones in bulk. */
static uint16_t host_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb_objs)
{
	unsigned int wi = ss_node_worker(node)->index;
	struct ss_ovl_host_key keys[RTE_GRAPH_BURST_SIZE];
	uint64_t vals[RTE_GRAPH_BURST_SIZE];
	const struct ss_ovl_eni *enis[RTE_GRAPH_BURST_SIZE];
	struct ss_overlay_eni_counters *ctr[RTE_GRAPH_BURST_SIZE];
	uint8_t key_of[RTE_GRAPH_BURST_SIZE];
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	uint16_t nk = 0;

	for (uint16_t i = 0; i < nb_objs; i++) {
		host_key(&keys[nk], objs[i]);
		if (nk == 0 || !host_key_eq(&keys[nk], &keys[nk - 1]))
			nk++;
		key_of[i] = (uint8_t)(nk - 1);
	}
	ovl_hash_lookup_n(&ss_ovl.eni_host, keys, sizeof(keys[0]), nk, vals);
	/* per key: the ENI (indices start at 1: 0 is a miss) and its counters */
	for (uint16_t k = 0; k < nk; k++) {
		enis[k] = vals[k] ? ss_ovl_eni_get((uint32_t)vals[k]) : NULL;
		ctr[k] = enis[k] ? &ss_overlay_eni_ctr[wi][enis[k]->index] : NULL;
	}
	for (uint16_t i = 0; i < nb_objs; i++)
		next[i] = host_one(objs[i], enis[key_of[i]], ctr[key_of[i]], wi);
	ss_node_dispatch(graph, node, objs, nb_objs, next);
	return nb_objs;
}

static struct rte_node_register host_node = {
	.name = OVL_NODE_HOST,
	.process = host_process,
	.init = ss_node_init_worker,
	.nb_edges = HOST_NB_NEXT,
	.next_nodes = {
		[HOST_NEXT_DROP] = SS_NODE_DROP,
		[HOST_NEXT_ROUTE] = OVL_NODE_ROUTE_OUT,
		[HOST_NEXT_TX] = "port_tx",
	},
};
RTE_NODE_REGISTER(host_node);
