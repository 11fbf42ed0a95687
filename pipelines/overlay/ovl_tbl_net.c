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
	const json_t *o = c->op == SS_CHANGE_DELETE ? NULL : c->obj;
	struct ss_ovl_switch *sw;
	uint8_t fam, a[16];
	int rc;

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
	rc = o ? ovl_json_ip(o, "underlay_ip", &fam, a) : 0;
	if (rc < 0 || (rc == 1 && fam != 4))
		return ovl_err(-EINVAL, err, errlen, "switch: bad underlay_ip");
	if (rc == 1) {
		sw->has_ip4 = 1;
		memcpy(sw->ip4, a, 4);
	}
	rc = o ? ovl_json_ip(o, "underlay_ip6", &fam, a) : 0;
	if (rc < 0 || (rc == 1 && fam != 6))
		return ovl_err(-EINVAL, err, errlen, "switch: bad underlay_ip6");
	if (rc == 1) {
		sw->has_ip6 = 1;
		memcpy(sw->ip6, a, 16);
	}
	rc = o ? ovl_json_mac(o, "mac", &sw->mac) : 0;
	if (rc < 0)
		return ovl_err(-EINVAL, err, errlen, "switch: bad mac");
	sw->has_mac = rc == 1;
	ss_ovl.sw_next = sw;
	return 0;
}

int ovl_stage_vip(const struct ss_change *c, char *err, size_t errlen)
{
	const json_t *o = ovl_chg_obj(c);
	struct ss_ovl_ipkey k;
	uint8_t fam, a[16];
	int rc;

	if (ovl_json_ip(o, "ip", &fam, a) != 1)
		return ovl_err(-EINVAL, err, errlen, "vip: bad ip");
	ss_ovl_ipkey(&k, fam, 0, a);
	rc = c->op == SS_CHANGE_DELETE ? ovl_hash_del(&ss_ovl.vip, &k)
				       : ovl_hash_set(&ss_ovl.vip, &k, 1);
	return rc ? ovl_err(rc, err, errlen, "vip %s: out of memory", ovl_json_str(o, "ip")) : 0;
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
	const json_t *o = ovl_chg_obj(c);
	uint32_t vni;
	int rc;

	if (ovl_json_uint(o, "vni", &vni) != 1)
		return ovl_err(-EINVAL, err, errlen, "direction: bad vni");
	rc = c->op == SS_CHANGE_DELETE ? vni_update(vni, SS_OVL_VNI_DIR, 0)
				       : vni_update(vni, 0, SS_OVL_VNI_DIR);
	return rc ? ovl_err(rc, err, errlen, "direction %u: out of memory", vni) : 0;
}

int ovl_stage_vnet(const struct ss_change *c, char *err, size_t errlen)
{
	const json_t *o = ovl_chg_obj(c);
	const char *name = ovl_json_str(o, "name");
	uint32_t idx = ovl_name_get(&ss_ovl.vnet_names, &ss_ovl.vnet_stage, name);
	struct ss_ovl_vnet *v;
	uint8_t fam, a[16];
	int rc;

	if (name == NULL)
		return ovl_err(-EINVAL, err, errlen, "vnet: no name");
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
	if (ovl_json_uint(o, "vni", &v->vni) != 1)
		return ovl_err(-EINVAL, err, errlen, "vnet %s: bad vni", name);
	rc = ovl_json_ip(o, "gateway_ip", &fam, a);
	if (rc < 0 || (rc == 1 && fam != 4))
		return ovl_err(-EINVAL, err, errlen, "vnet %s: bad gateway_ip", name);
	if (rc == 1) {
		v->has_gw4 = 1;
		memcpy(v->gw4, a, 4);
	}
	rc = ovl_json_ip(o, "gateway_ip6", &fam, a);
	if (rc < 0 || (rc == 1 && fam != 6))
		return ovl_err(-EINVAL, err, errlen, "vnet %s: bad gateway_ip6", name);
	if (rc == 1) {
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
	const json_t *o = ovl_chg_obj(c);
	const char *pfx = ovl_json_str(o, "prefix");
	struct ovl_lpm_rule r;
	struct ss_ovl_uroute *u;
	const json_t *hops;
	uint32_t cur, idx;
	int rc;

	memset(&r, 0, sizeof(r));
	if (ovl_json_prefix(o, "prefix", &r.fam, r.addr, &r.plen) != 1)
		return ovl_err(-EINVAL, err, errlen, "underlay_route: bad prefix");
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
	hops = json_object_get(o, "next_hops");
	if (json_array_size(hops) == 0 || json_array_size(hops) > SS_OVL_MAX_NEXT_HOPS)
		return ovl_err(-EINVAL, err, errlen, "underlay_route %s: 1 to %d next_hops", pfx,
			       SS_OVL_MAX_NEXT_HOPS);
	for (size_t i = 0; i < json_array_size(hops); i++) {
		const json_t *h = json_array_get(hops, i);
		const char *port = ovl_json_str(h, "port");
		uint16_t pi = port ? ovl_port_by_name(port) : SS_PORT_NONE;

		if (pi == SS_PORT_NONE)
			return ovl_err(-ENOENT, err, errlen,
				       "underlay_route %s: next_hops[%zu].port %s not found", pfx,
				       i, port ? port : "(none)");
		if (ovl_json_mac(h, "mac", &u->nh[i].mac) != 1)
			return ovl_err(-EINVAL, err, errlen,
				       "underlay_route %s: next_hops[%zu].mac is bad", pfx, i);
		u->nh[i].port = pi;
	}
	u->n = (uint16_t)json_array_size(hops);
	rc = ovl_lpm_set(&ss_ovl.lpm, &r, idx);
	return rc ? ovl_err(rc, err, errlen, "underlay_route %s: out of memory", pfx) : 0;
}
