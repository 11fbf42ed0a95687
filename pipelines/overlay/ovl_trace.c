/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The overlay's part of the packet trace (pipelines/trace/trace_node.h):
 * what overlay_host, overlay_fabric, route_out, vxlan_encap, inbound_route
 * and vxlan_decap used for a traced packet, named from the published
 * tables and the store (control thread, read-only): the ENI and its
 * lookup key, the VNET, the outbound route (group, prefix, action), the
 * mapping, the encapsulation and underlay next hop, the inbound route.
 */
#include <arpa/inet.h>
#include <string.h>

#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_pkt.h"
#include "pipelines/trace/trace_node.h"

/* ---- names ------------------------------------------------------------------- */

struct vnet_find {
	uint16_t idx;
	char name[SS_OVL_NAME_MAX];
};

static int vnet_cb(void *arg, const json_t *obj)
{
	struct vnet_find *f = arg;
	const char *n = json_string_value(json_object_get(obj, "name"));

	if (n != NULL && ss_ovl_vnet_index(n) == f->idx) {
		snprintf(f->name, sizeof(f->name), "%s", n);
		return 1;
	}
	return 0;
}

static json_t *vnet_json(uint16_t idx)
{
	struct vnet_find f = { .idx = idx };

	if (idx == 0 || ss_ctl_store_foreach(ss_trace_ctl(), "vnet", vnet_cb, &f) != 1)
		return json_null();
	return json_string(f.name);
}

static json_t *eni_json(uint32_t idx)
{
	const char *n = ss_ovl_eni_name(idx);

	return n ? json_string(n) : json_null();
}

/* The longest prefix of objects of `type` (field `pfx`, and `group` ==
 * group when group is not NULL) containing addr: the store's words for
 * what an LPM lookup found. */
struct lpm_find {
	const char *group;
	const char *pfx;
	int fam;
	const uint8_t *addr;
	int best;
	json_t *obj;
};

static int lpm_cb(void *arg, const json_t *obj)
{
	struct lpm_find *f = arg;
	const char *s = json_string_value(json_object_get(obj, f->pfx));
	uint8_t a[16];
	int fam, plen;

	if (s == NULL || (f->group && (json_string_value(json_object_get(obj, "group")) == NULL ||
				       strcmp(json_string_value(json_object_get(obj, "group")),
					      f->group) != 0)))
		return 0;
	if (ss_trace_parse_prefix(s, &fam, a, &plen) != 0 || fam != f->fam || plen <= f->best)
		return 0;
	for (int b = 0; b < plen; b++)
		if (((a[b / 8] ^ f->addr[b / 8]) >> (7 - b % 8)) & 1)
			return 0;
	f->best = plen;
	json_decref(f->obj);
	f->obj = json_deep_copy(obj);
	return 0;
}

static json_t *lpm_json(const char *type, const char *group, const char *pfx, int fam,
			const uint8_t *addr)
{
	struct lpm_find f = { .group = group, .pfx = pfx, .fam = fam, .addr = addr, .best = -1 };

	ss_ctl_store_foreach(ss_trace_ctl(), type, lpm_cb, &f);
	return f.obj ? f.obj : json_null();
}

static bool next_is(const struct ss_trace_step *st, const char *name)
{
	const char *n = rte_node_id_to_name(st->next_node);

	return n != NULL && strcmp(n, name) == 0;
}

static const uint8_t *tenant_ip(const struct ss_trace_step *st, const struct ss_layer *l,
				int *fam, bool dst)
{
	uint32_t need = l->l3_off + (l->l3 == SS_L3_IPV6 ? 40 : 20);

	if ((l->l3 != SS_L3_IPV4 && l->l3 != SS_L3_IPV6) || need > st->data_len)
		return NULL;
	*fam = l->l3 == SS_L3_IPV4 ? 4 : 6;
	if (*fam == 4)
		return st->data + l->l3_off + (dst ? 16 : 12);
	return st->data + l->l3_off + (dst ? 24 : 8);
}

/* ---- overlay_host ------------------------------------------------------------ */

static void host_describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			  json_t *o)
{
	const struct ss_meta *m = &st->meta;
	const struct ss_layer *l = &m->hdr.outer;
	/* the frame as the node got it (an ARP / ND answer rewrites it) */
	const uint8_t *frame = prev != NULL ? prev->data : st->data;
	struct ss_ovl_host_key k = { 0 };
	uint64_t v = 0;

	k.port = m->in_port;
	k.vlan = l->nb_vlans ? l->vlan_tci & 0x0fff : 0;
	memcpy(k.mac, frame + l->l2_off + 6, 6);
	json_object_set_new(o, "lookup", json_pack("{s:o,s:i,s:o}", "port",
		ss_trace_port(k.port), "vlan", k.vlan, "mac", ss_trace_mac(k.mac)));
	if (!ovl_hash_lookup(&ss_ovl.eni_host, &k, &v)) {
		json_object_set_new(o, "eni", json_null());
		return;
	}
	const struct ss_ovl_eni *e = ss_ovl_eni_get((uint32_t)v);
	json_object_set_new(o, "eni", eni_json((uint32_t)v));
	if (e != NULL) {
		json_object_set_new(o, "vnet", vnet_json(e->vnet));
		json_object_set_new(o, "admin_state", json_string(e->admin_up ? "up" : "down"));
	}
	if (st->edge != 0 && next_is(st, "port_tx"))
		json_object_set_new(o, "neighbour", json_string(l->l3 == SS_L3_ARP
			? "ARP request answered" : "neighbour solicitation answered"));
}

static struct ss_trace_describer host_trace = { .node = OVL_NODE_HOST,
						.describe = host_describe };
SS_TRACE_DESCRIBER_REGISTER(host_trace);

/* ---- overlay_fabric ---------------------------------------------------------- */

static void fabric_describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			    json_t *o)
{
	const struct ss_meta *m = &st->meta;
	const uint8_t *vip;
	int fam;

	(void)prev;
	if (!(m->hdr.outer.flags & SS_PF_VXLAN)) {
		if (st->edge != 0 && next_is(st, "port_tx"))
			json_object_set_new(o, "local", json_string("answered (ARP / ICMP echo)"));
		return;
	}
	vip = tenant_ip(st, &m->hdr.outer, &fam, true);
	if (vip != NULL)
		json_object_set_new(o, "vip", ss_trace_ip(fam, vip));
	json_object_set_new(o, "vni", json_integer(m->hdr.vni));
	if (st->edge == 0)
		return;
	json_object_set_new(o, "eni", eni_json(m->eni));
	json_object_set_new(o, "vnet", vnet_json(m->vnet));
	json_object_set_new(o, "appliance", json_boolean(m->ovl_dir == SS_OVL_DIR_OUTBOUND));
}

static struct ss_trace_describer fabric_trace = { .node = OVL_NODE_FABRIC,
						  .describe = fabric_describe };
SS_TRACE_DESCRIBER_REGISTER(fabric_trace);

/* ---- route_out --------------------------------------------------------------- */

static const char *const rt_action[] = { [SS_OVL_RT_VNET] = "vnet",
	[SS_OVL_RT_VNET_DIRECT] = "vnet_direct", [SS_OVL_RT_DIRECT] = "direct",
	[SS_OVL_RT_DROP] = "drop" };

static void route_describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			   json_t *o)
{
	const struct ss_meta *m = &st->meta;
	const struct ss_ovl_eni *e = ss_ovl_eni_get(m->eni);
	const struct ss_ovl_route *ent;
	const uint8_t *dst;
	uint8_t action;
	uint16_t vnet;
	int fam;

	(void)prev;
	if (st->edge != 0 && next_is(st, "port_tx")) {
		/* SS_OVL_F_CACHED: the flow's transform, no lookup */
		json_object_set_new(o, "flow_cache", json_string("hit: the flow's cached transform "
								 "applied, no lookups"));
		json_object_set_new(o, "out_port", ss_trace_port(m->out_port));
		return;
	}
	dst = tenant_ip(st, ss_overlay_tenant(m), &fam, true);
	if (e == NULL || dst == NULL)
		return;
	json_object_set_new(o, "dst", ss_trace_ip(fam, dst));
	if (e->group == 0 || !ss_ovl_route_find(e->group, fam, dst, &action, &vnet, &ent)) {
		json_object_set_new(o, "route", json_pack("{s:s*,s:n}", "group",
			e->group ? ss_ovl.group_name[e->group] : NULL, "prefix"));
		return;
	}
	const char *gname = ss_ovl.group_name[e->group];
	json_t *obj = lpm_json("route", gname, "prefix", fam, dst);
	json_t *r = json_pack("{s:s,s:O,s:s}", "group", gname, "prefix",
			      json_object_get(obj, "prefix") ? json_object_get(obj, "prefix")
							     : json_null(),
			      "action", action < RTE_DIM(rt_action) && rt_action[action]
					? rt_action[action] : "?");
	json_decref(obj);
	uint16_t mvnet = vnet ? vnet : e->vnet;
	if (action == SS_OVL_RT_VNET || action == SS_OVL_RT_VNET_DIRECT)
		json_object_set_new(r, "vnet", vnet_json(mvnet));
	if (action == SS_OVL_RT_VNET_DIRECT && ent != NULL)
		json_object_set_new(r, "overlay_ip", ss_trace_ip(ent->fam, ent->overlay_ip));
	json_object_set_new(o, "route", r);
	if (action != SS_OVL_RT_VNET && action != SS_OVL_RT_VNET_DIRECT)
		return;
	int kfam = action == SS_OVL_RT_VNET_DIRECT && ent ? ent->fam : fam;
	const uint8_t *kip = action == SS_OVL_RT_VNET_DIRECT && ent ? ent->overlay_ip : dst;
	const struct ss_ovl_mapping *mp = ss_ovl_mapping_find(mvnet, kfam, kip);
	json_t *mj = json_pack("{s:o,s:o}", "vnet", vnet_json(mvnet), "ip", ss_trace_ip(kfam, kip));
	if (mp != NULL) {
		json_object_set_new(mj, "underlay_ip", ss_trace_ip(mp->tgt.fam, mp->tgt.pa));
		json_object_set_new(mj, "mac", ss_trace_mac(mp->tgt.mac.addr_bytes));
		json_object_set_new(mj, "use_dst_vni", json_boolean(mp->use_dst_vni));
		if (st->edge != 0)
			json_object_set_new(mj, "vni", json_integer(m->vni));
	} else {
		json_object_set_new(mj, "found", json_false());
	}
	json_object_set_new(o, "mapping", mj);
}

static struct ss_trace_describer route_trace = { .node = OVL_NODE_ROUTE_OUT,
						 .describe = route_describe };
SS_TRACE_DESCRIBER_REGISTER(route_trace);

/* ---- vxlan_encap ------------------------------------------------------------- */

static void encap_describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			   json_t *o)
{
	const struct ss_meta *m = &st->meta;
	json_t *h, *ip, *udp, *vx, *eth;

	(void)prev;
	if (st->edge == 0)
		return;
	h = ss_trace_headers(st->data, st->data_len);
	ip = json_object_get(h, "ip");
	udp = json_object_get(h, "udp");
	vx = json_object_get(h, "vxlan");
	eth = json_object_get(h, "eth");
	if (m->ovl_flags & SS_OVL_F_DIRECT) {
		json_object_set_new(o, "direct", json_true());
	} else if (ip && udp && vx) {
		json_t *e = json_pack("{s:O,s:O,s:O,s:O,s:O}", "src", json_object_get(ip, "src"),
			"dst", json_object_get(ip, "dst"), "vni", json_object_get(vx, "vni"),
			"udp_sport", json_object_get(udp, "sport"), "dscp",
			json_object_get(ip, "dscp"));
		json_object_set(e, "ecn", json_object_get(ip, "ecn"));
		json_object_set_new(o, "encap", e);
	}
	if (ip != NULL && eth != NULL) {
		const char *d = json_string_value(json_object_get(ip, "dst"));
		uint8_t a[16];
		int fam = strchr(d ? d : "", ':') ? 6 : 4;
		json_t *u = json_pack("{s:o,s:O}", "port", ss_trace_port(m->out_port),
				      "next_hop_mac", json_object_get(eth, "dst"));

		if (d && inet_pton(fam == 4 ? AF_INET : AF_INET6, d, a) == 1) {
			json_t *r = lpm_json("underlay_route", NULL, "prefix", fam, a);
			const struct ss_ovl_uroute *ur = ss_ovl_uroute_find(fam, a);

			json_object_set(u, "prefix", json_object_get(r, "prefix") ?
				json_object_get(r, "prefix") : json_null());
			json_decref(r);
			if (ur != NULL)
				json_object_set_new(u, "ecmp_members", json_integer(ur->n));
		}
		json_object_set_new(o, "underlay", u);
	}
	if ((m->ovl_flags & (SS_OVL_F_FILL | SS_OVL_F_REENCAP)) == SS_OVL_F_FILL)
		json_object_set_new(o, "flow_cache", json_string("filled: the next packets of the "
								 "flow take this transform"));
	json_decref(h);
}

static struct ss_trace_describer encap_trace = { .node = OVL_NODE_ENCAP,
						 .describe = encap_describe };
SS_TRACE_DESCRIBER_REGISTER(encap_trace);

/* ---- inbound_route ----------------------------------------------------------- */

static void inbound_describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			     json_t *o)
{
	const struct ss_meta *m = &st->meta;
	const uint8_t *src;
	int fam;

	(void)prev;
	json_object_set_new(o, "eni", eni_json(m->eni));
	src = tenant_ip(st, &m->hdr.outer, &fam, false);
	if (src == NULL)
		return;
	json_object_set_new(o, "outer_src", ss_trace_ip(fam, src));
	const struct ss_ovl_inb_rule *r = ss_ovl_inb_match(m->eni, m->hdr.vni, fam, src);
	if (r != NULL) {
		char pfx[INET6_ADDRSTRLEN + 4], a[INET6_ADDRSTRLEN];

		inet_ntop(r->fam == 4 ? AF_INET : AF_INET6, r->addr, a, sizeof(a));
		snprintf(pfx, sizeof(pfx), "%s/%u", a, r->plen);
		json_object_set_new(o, "inbound_route", json_pack("{s:i,s:s,s:i,s:s}", "vni",
			m->hdr.vni, "src_prefix", pfx, "priority", r->priority, "action",
			r->action == SS_OVL_INB_DECAP ? "decap" : "decap_pa_validate"));
	} else {
		json_object_set_new(o, "inbound_route", json_null());
	}
}

static struct ss_trace_describer inbound_trace = { .node = OVL_NODE_INBOUND,
						   .describe = inbound_describe };
SS_TRACE_DESCRIBER_REGISTER(inbound_trace);

/* ---- vxlan_decap ------------------------------------------------------------- */

static void decap_describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			   json_t *o)
{
	const struct ss_meta *m = &st->meta;

	(void)prev;
	json_object_set_new(o, "eni", eni_json(m->eni));
	if (st->edge == 0)
		return;
	if (m->ovl_flags & SS_OVL_F_REENCAP)
		json_object_set_new(o, "reencap", json_pack("{s:i}", "vni", m->vni));
	else
		json_object_set_new(o, "out_port", ss_trace_port(m->out_port));
}

static struct ss_trace_describer decap_trace = { .node = OVL_NODE_DECAP,
						 .describe = decap_describe };
SS_TRACE_DESCRIBER_REGISTER(decap_trace);
