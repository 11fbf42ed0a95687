/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ENIs (SPEC sections 3.1 step 2, 3.2 step 3, 3.3). An ENI has a stable
 * index for its whole life (meta->eni, the per-ENI counters, and what other
 * features key their per-ENI state on); its entry is immutable and replaced
 * whole by eni.set. It is found through three lock-free hashes:
 *   eni_host  (port, VLAN, MAC)   outbound, host ports
 *   eni_vnet  (VNET, MAC)         inbound, by inner destination MAC
 *   eni_app   (MAC)               appliance mode, by inner source MAC; only
 *                                 ENIs without a port (appliance ENIs)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/port-t.h"
#include "pipelines/overlay/ovl_tables-int.h"

static struct ss_ovl_eni *eni_current(uint32_t idx)
{
	return ss_ovl.eni_touched[idx] ? ss_ovl.eni_next[idx] : ss_ovl.enis[idx];
}

static int eni_touch(uint32_t idx)
{
	struct ss_ovl *o = &ss_ovl;

	if (o->eni_touched[idx])
		return 0;
	if (ovl_grow((void **)&o->eni_list, &o->cap_eni_list, o->neni_list + 1, sizeof(uint32_t)))
		return -ENOMEM;
	o->eni_list[o->neni_list++] = idx;
	o->eni_next[idx] = o->enis[idx];
	o->eni_touched[idx] = 1;
	return 0;
}

static void host_key(struct ss_ovl_host_key *k, const struct ss_ovl_eni *e)
{
	memset(k, 0, sizeof(*k));
	k->port = e->port;
	k->vlan = e->vlan;
	memcpy(k->mac, e->mac.addr_bytes, 6);
}

static void vmac_key(struct ss_ovl_vmac_key *k, uint16_t vnet, const struct ss_ovl_eni *e)
{
	k->vnet = vnet;
	memcpy(k->mac, e->mac.addr_bytes, 6);
}

static int keys_del(const struct ss_ovl_eni *e)
{
	struct ss_ovl_host_key hk;
	struct ss_ovl_vmac_key vk;
	int rc = 0;

	if (e->port != SS_PORT_NONE) {
		host_key(&hk, e);
		rc = ovl_hash_del(&ss_ovl.eni_host, &hk);
	} else {
		vmac_key(&vk, 0, e);
		rc = ovl_hash_del(&ss_ovl.eni_app, &vk);
	}
	vmac_key(&vk, e->vnet, e);
	return rc ?: ovl_hash_del(&ss_ovl.eni_vnet, &vk);
}

static int keys_add(const struct ss_ovl_eni *e, char *err, size_t errlen)
{
	struct ss_ovl_host_key hk;
	struct ss_ovl_vmac_key vk;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	uint64_t other;
	int rc;

	rte_ether_format_addr(mac, sizeof(mac), &e->mac);
	if (e->port != SS_PORT_NONE) {
		host_key(&hk, e);
		rc = ovl_hash_set(&ss_ovl.eni_host, &hk, e->index);
	} else {
		/* the store keeps (VNET, MAC) unique; appliance mode finds an
		 * ENI by MAC alone, so that must be unique too */
		vmac_key(&vk, 0, e);
		if (ovl_hash_get(&ss_ovl.eni_app, &vk, &other, NULL) && other != e->index)
			return ovl_err(-EEXIST, err, errlen,
				       "eni %s: mac %s is already the mac of ENI %s (ENIs without "
				       "a port are found by MAC alone)", e->name, mac,
				       eni_current((uint32_t)other) ? eni_current((uint32_t)other)->name
								    : "?");
		rc = ovl_hash_set(&ss_ovl.eni_app, &vk, e->index);
	}
	vmac_key(&vk, e->vnet, e);
	rc = rc ?: ovl_hash_set(&ss_ovl.eni_vnet, &vk, e->index);
	return rc ? ovl_err(rc, err, errlen, "eni %s: out of memory", e->name) : 0;
}

/* Build the entry of an eni.add/eni.set record. */
static int eni_build(const struct ss_eni_rec *r, struct ss_ovl_eni *e, char *err, size_t errlen)
{
	const char *name = r->name;

	snprintf(e->name, sizeof(e->name), "%s", name);
	e->vnet = (uint16_t)ovl_name_get(&ss_ovl.vnet_names, &ss_ovl.vnet_stage,
					 r->vnet[0] ? r->vnet : NULL);
	if (e->vnet == 0)
		return ovl_err(-ENOENT, err, errlen, "eni %s: vnet %s not found", name,
			       r->vnet[0] ? r->vnet : "(none)");
	e->vni = ss_ovl.vnets[e->vnet].vni;
	if (!OVL_HAS(r, SS_ENI_F_MAC))
		return ovl_err(-EINVAL, err, errlen, "eni %s: bad mac", name);
	memcpy(e->mac.addr_bytes, r->mac, RTE_ETHER_ADDR_LEN);
	e->admin_up = r->admin_state != SS_ENI_DOWN;
	e->port = SS_PORT_NONE;
	if (r->port[0]) {
		e->port = ovl_port_by_name(r->port);
		if (e->port == SS_PORT_NONE)
			return ovl_err(-ENOENT, err, errlen, "eni %s: port %s not found", name,
				       r->port);
	}
	if (r->vlan > 4094)
		return ovl_err(-EINVAL, err, errlen, "eni %s: bad vlan", name);
	e->vlan = r->vlan;
	memset(&e->vm, 0, sizeof(e->vm));
	e->vm_vni = r->vm_vni;
	e->has_vm = ovl_rec_ip(&r->vm_underlay_ip, &e->vm.fam, e->vm.pa) && e->vm_vni != 0;
	e->dscp = SS_OVL_DSCP_COPY;
	if (OVL_HAS(r, SS_ENI_F_DSCP)) {
		if (r->dscp > 63)
			return ovl_err(-EINVAL, err, errlen, "eni %s: bad dscp", name);
		e->dscp = r->dscp;
	}
	if (r->route_group[0])
		return ovl_group_ref(r->route_group, &e->group, err, errlen);
	return 0;
}

int ovl_stage_eni(const struct ss_change *c, char *err, size_t errlen)
{
	struct ss_ovl *o = &ss_ovl;
	const struct ss_eni_rec *r = ovl_chg_rec(c);
	const char *name = r != NULL && r->name[0] ? r->name : NULL;
	uint32_t idx = ovl_name_get(&o->eni_names, &o->eni_stage, name);
	struct ss_ovl_eni *old = idx ? eni_current(idx) : NULL;
	struct ss_ovl_eni *e;
	int rc;

	if (name == NULL)
		return ovl_err(-EINVAL, err, errlen, "eni: no name");
	if (ovl_gc_reserve(&o->gc, 1) != 0)
		return ovl_err(-ENOMEM, err, errlen, "eni %s: out of memory", name);
	if (old != NULL) {
		/* the old entry leaves its keys and group; freed after the
		 * grace period (or at once if this transaction made it) */
		if (keys_del(old) != 0 || eni_touch(idx) != 0)
			return ovl_err(-ENOMEM, err, errlen, "eni %s: out of memory", name);
		rc = ovl_group_unref(old->group, err, errlen);
		if (rc != 0)
			return rc;
		ovl_gc_defer(&o->gc, old);
		o->eni_next[idx] = NULL;
	}
	if (c->op == SS_CHANGE_DELETE) {
		if (old == NULL)
			return 0;
		if (ovl_name_del(&o->eni_stage, name) != 0 || ovl_ids_release(&o->eni_ids, idx) != 0)
			return ovl_err(-ENOMEM, err, errlen, "eni %s: out of memory", name);
		return 0;
	}
	if (idx == 0) {
		rc = ovl_ids_alloc(&o->eni_ids, &idx);
		if (rc != 0)
			return ovl_err(rc, err, errlen, "eni %s: %s", name,
				       rc == -ENOSPC ? "ENI table full (tables.enis)"
						     : "out of memory");
		if (ovl_name_set(&o->eni_stage, name, idx) != 0 || eni_touch(idx) != 0)
			return ovl_err(-ENOMEM, err, errlen, "eni %s: out of memory", name);
	}
	e = ovl_gc_alloc(&o->gc, sizeof(*e));
	if (e == NULL)
		return ovl_err(-ENOMEM, err, errlen, "eni %s: out of memory", name);
	e->index = idx;
	rc = eni_build(r, e, err, errlen);
	if (rc != 0)
		return rc;
	rc = keys_add(e, err, errlen);
	if (rc != 0)
		return rc;
	o->eni_next[idx] = e;
	return 0;
}

int ovl_eni_finalize(void)
{
	return 0;
}

/* commit, before the keys: new and changed entries. */
void ovl_eni_commit_publish(void)
{
	struct ss_ovl *o = &ss_ovl;

	for (size_t i = 0; i < o->neni_list; i++) {
		uint32_t idx = o->eni_list[i];

		if (o->eni_next[idx] == NULL)
			continue;
		if (o->enis[idx] == NULL && o->on_eni_new != NULL)
			o->on_eni_new(idx);
		__atomic_store_n(&o->enis[idx], o->eni_next[idx], __ATOMIC_RELEASE);
	}
}

/* commit, after the keys: deleted entries. */
void ovl_eni_commit_retire(void)
{
	struct ss_ovl *o = &ss_ovl;

	for (size_t i = 0; i < o->neni_list; i++) {
		uint32_t idx = o->eni_list[i];

		if (o->eni_next[idx] == NULL)
			__atomic_store_n(&o->enis[idx], NULL, __ATOMIC_RELEASE);
		o->eni_touched[idx] = 0;
		o->eni_next[idx] = NULL;
	}
	o->neni_list = 0;
}

void ovl_eni_abort(void)
{
	struct ss_ovl *o = &ss_ovl;

	for (size_t i = 0; i < o->neni_list; i++) {
		o->eni_touched[o->eni_list[i]] = 0;
		o->eni_next[o->eni_list[i]] = NULL;
	}
	o->neni_list = 0;
}
