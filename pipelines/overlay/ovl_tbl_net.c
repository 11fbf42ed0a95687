/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Staging of the underlay-side objects: switch, vip, direction, vnet,
 * underlay_route (SPEC sections 3.1 step 9, 3.2 steps 1-3, 4).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/port-t.h"
#include "pipelines/overlay/ovl_tables-int.h"

int ovl_stage_switch(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_switch_rec *r = c->op == SS_CHANGE_DELETE ? NULL : c->rec;
	struct ss_ovl_switch *sw;
	uint8_t fam, a[16];

	if (ovl_gc_reserve(&ss_ovl.gc, 1) != 0)
		return ovl_err(-ENOMEM, err, errlen, "switch: out of memory");
	/* a second switch.set in the same transaction replaces the first:
	 * ss_ovl_abort/commit handle the one staged last (the first one is
	 * freed with the gc's fresh blocks on abort, deferred on commit) */
	if (ss_ovl.sw_next != NULL && ovl_gc_defer(&ss_ovl.gc, ss_ovl.sw_next) != 0)
		return ovl_err(-ENOMEM, err, errlen, "switch: out of memory");
	sw = ovl_gc_alloc(&ss_ovl.gc, sizeof(*sw));
	if (sw == NULL)
		return ovl_err(-ENOMEM, err, errlen, "switch: out of memory");
	if (r != NULL && ovl_rec_ip(&r->underlay_ip, &fam, a)) {
		if (fam != 4)
			return ovl_err(-EINVAL, err, errlen, "switch: bad underlay_ip");
		sw->has_ip4 = 1;
		memcpy(sw->ip4, a, 4);
	}
	if (r != NULL && ovl_rec_ip(&r->underlay_ip6, &fam, a)) {
		if (fam != 6)
			return ovl_err(-EINVAL, err, errlen, "switch: bad underlay_ip6");
		sw->has_ip6 = 1;
		memcpy(sw->ip6, a, 16);
	}
	if (r != NULL && OVL_HAS(r, SS_SWITCH_F_MAC)) {
		memcpy(sw->mac.addr_bytes, r->mac, RTE_ETHER_ADDR_LEN);
		sw->has_mac = 1;
	}
	ss_ovl.sw_next = sw;
	return 0;
}

int ovl_stage_vip(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_vip_rec *r = ovl_chg_rec(c);
	char buf[OVL_ADDR_STRLEN];
	struct ss_ovl_ipkey k;
	uint8_t fam, a[16];
	int rc;

	if (r == NULL || !ovl_rec_ip(&r->ip, &fam, a))
		return ovl_err(-EINVAL, err, errlen, "vip: bad ip");
	ss_ovl_ipkey(&k, fam, 0, a);
	rc = c->op == SS_CHANGE_DELETE ? ovl_hash_del(&ss_ovl.vip, &k)
				       : ovl_hash_set(&ss_ovl.vip, &k, 1);
	return rc ? ovl_err(rc, err, errlen, "vip %s: out of memory",
			    ovl_fmt_ip(&r->ip, buf, sizeof(buf))) : 0;
}

/* The VNI table answers both questions of SPEC 3.2 step 3 in one lookup:
 * direction-table membership (SS_OVL_VNI_DIR) and the VNET of the VNI. */
static int vni_update(uint32_t vni, uint64_t clear, uint64_t set)
{
	uint64_t v = 0;

	ovl_hash_get(&ss_ovl.vni, &vni, &v, NULL);
	v = (v & ~clear) | set;
	return v ? ovl_hash_set(&ss_ovl.vni, &vni, v) : ovl_hash_del(&ss_ovl.vni, &vni);
}

int ovl_stage_direction(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_direction_rec *r = ovl_chg_rec(c);
	int rc;

	if (r == NULL)
		return ovl_err(-EINVAL, err, errlen, "direction: no record");
	rc = c->op == SS_CHANGE_DELETE ? vni_update(r->vni, SS_OVL_VNI_DIR, 0)
				       : vni_update(r->vni, 0, SS_OVL_VNI_DIR);
	return rc ? ovl_err(rc, err, errlen, "direction %u: out of memory", r->vni) : 0;
}

int ovl_stage_vnet(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_vnet_rec *r = ovl_chg_rec(c);
	const char *name = r != NULL && r->name[0] ? r->name : NULL;
	uint32_t idx = ovl_name_get(&ss_ovl.vnet_names, &ss_ovl.vnet_stage, name);
	struct ss_ovl_vnet *v;
	uint8_t fam, a[16];
	int rc;

	if (name == NULL)
		return ovl_err(-EINVAL, err, errlen, "vnet: no name");
	ss_ovl.map_vnet[0] = '\0';
	if (c->op == SS_CHANGE_DELETE) {
		if (idx == 0)
			return 0;
		if (vni_update(ss_ovl.vnets[idx].vni, 0xffff, 0) != 0 ||
		    ovl_name_del(&ss_ovl.vnet_stage, name) != 0 ||
		    ovl_ids_release(&ss_ovl.vnet_ids, idx) != 0)
			return ovl_err(-ENOMEM, err, errlen, "vnet %s: out of memory", name);
		return 0;
	}
	/* a VNET never changes in place (no vnet.set): its entry is written
	 * once, into an index no worker can reach yet */
	if (idx != 0)
		return ovl_err(-EEXIST, err, errlen, "vnet %s: already published", name);
	rc = ovl_ids_alloc(&ss_ovl.vnet_ids, &idx);
	if (rc != 0)
		return ovl_err(rc, err, errlen, "vnet %s: %s", name,
			       rc == -ENOSPC ? "VNET table full" : "out of memory");
	v = &ss_ovl.vnets[idx];
	memset(v, 0, sizeof(*v));
	v->vni = r->vni;
	if (ovl_rec_ip(&r->gateway_ip, &fam, a)) {
		if (fam != 4)
			return ovl_err(-EINVAL, err, errlen, "vnet %s: bad gateway_ip", name);
		v->has_gw4 = 1;
		memcpy(v->gw4, a, 4);
	}
	if (ovl_rec_ip(&r->gateway_ip6, &fam, a)) {
		if (fam != 6)
			return ovl_err(-EINVAL, err, errlen, "vnet %s: bad gateway_ip6", name);
		v->has_gw6 = 1;
		memcpy(v->gw6, a, 16);
	}
	if (vni_update(v->vni, 0xffff, idx) != 0 ||
	    ovl_name_set(&ss_ovl.vnet_stage, name, idx) != 0)
		return ovl_err(-ENOMEM, err, errlen, "vnet %s: out of memory", name);
	return 0;
}

int ovl_stage_underlay_route(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_underlay_route_rec *rec = ovl_chg_rec(c);
	char pfx[OVL_ADDR_STRLEN];
	struct ovl_lpm_rule r;
	struct ss_ovl_uroute *u;
	uint32_t cur, idx;
	int rc;

	memset(&r, 0, sizeof(r));
	if (rec == NULL || !ovl_rec_prefix(&rec->prefix, &r.fam, r.addr, &r.plen))
		return ovl_err(-EINVAL, err, errlen, "underlay_route: bad prefix");
	ovl_fmt_prefix(&rec->prefix, pfx, sizeof(pfx));
	r.scope = r.fam == 6;
	ovl_lpm_mask(&r);
	if (ovl_lpm_get(&ss_ovl.lpm, &r, &cur) &&
	    ovl_pool_release(&ss_ovl.uroutes, cur) != 0)
		return ovl_err(-ENOMEM, err, errlen, "underlay_route %s: out of memory", pfx);
	if (c->op == SS_CHANGE_DELETE) {
		rc = ovl_lpm_del(&ss_ovl.lpm, &r);
		return rc ? ovl_err(rc, err, errlen, "underlay_route %s: out of memory", pfx) : 0;
	}
	rc = ovl_pool_alloc(&ss_ovl.uroutes, &idx, (void **)&u);
	if (rc != 0)
		return ovl_err(rc, err, errlen, "underlay_route %s: %s", pfx,
			       rc == -ENOSPC ? "table full" : "out of memory");
	if (rec->n_next_hops == 0 || rec->n_next_hops > SS_OVL_MAX_NEXT_HOPS)
		return ovl_err(-EINVAL, err, errlen, "underlay_route %s: 1 to %d next_hops", pfx,
			       SS_OVL_MAX_NEXT_HOPS);
	for (uint32_t i = 0; i < rec->n_next_hops; i++) {
		const struct ss_next_hop_rec *h = &rec->next_hops[i];
		uint16_t pi = h->port[0] ? ovl_port_by_name(h->port) : SS_PORT_NONE;

		if (pi == SS_PORT_NONE)
			return ovl_err(-ENOENT, err, errlen,
				       "underlay_route %s: next_hops[%u].port %s not found", pfx,
				       i, h->port[0] ? h->port : "(none)");
		memcpy(u->nh[i].mac.addr_bytes, h->mac, RTE_ETHER_ADDR_LEN);
		u->nh[i].port = pi;
		if (ovl_rec_ip(&h->bfd, &u->bfd[i].fam, u->bfd[i].ip))
			u->resilient = 1;
	}
	u->n = (uint16_t)rec->n_next_hops;
	if (u->resilient)
		ovl_uroute_members(u);   /* the sessions' states as they are now */
	rc = ovl_lpm_set(&ss_ovl.lpm, &r, idx);
	return rc ? ovl_err(rc, err, errlen, "underlay_route %s: out of memory", pfx) : 0;
}
