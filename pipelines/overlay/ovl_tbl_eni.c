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

/* Build the entry of an eni.add/eni.set object. */
static int eni_build(const json_t *o, const char *name, struct ss_ovl_eni *e, char *err,
		     size_t errlen)
{
	const char *vnet = ovl_json_str(o, "vnet");
	const char *port = ovl_json_str(o, "port");
	const char *admin = ovl_json_str(o, "admin_state");
	const char *group = ovl_json_str(o, "route_group");
	uint32_t v = 0;
	int rc;

	snprintf(e->name, sizeof(e->name), "%s", name);
	e->vnet = (uint16_t)ovl_name_get(&ss_ovl.vnet_names, &ss_ovl.vnet_stage, vnet);
	if (e->vnet == 0)
		return ovl_err(-ENOENT, err, errlen, "eni %s: vnet %s not found", name,
			       vnet ? vnet : "(none)");
	e->vni = ss_ovl.vnets[e->vnet].vni;
	if (ovl_json_mac(o, "mac", &e->mac) != 1)
		return ovl_err(-EINVAL, err, errlen, "eni %s: bad mac", name);
	e->admin_up = admin == NULL || strcmp(admin, "down") != 0;
	e->port = SS_PORT_NONE;
	if (port != NULL) {
		e->port = ovl_port_by_name(port);
		if (e->port == SS_PORT_NONE)
			return ovl_err(-ENOENT, err, errlen, "eni %s: port %s not found", name, port);
	}
	rc = ovl_json_uint(o, "vlan", &v);
	if (rc < 0 || v > 4094)
		return ovl_err(-EINVAL, err, errlen, "eni %s: bad vlan", name);
	e->vlan = (uint16_t)v;
	rc = ovl_json_ip(o, "vm_underlay_ip", &e->vm.fam, e->vm.pa);
	if (rc < 0 || ovl_json_uint(o, "vm_vni", &e->vm_vni) < 0)
		return ovl_err(-EINVAL, err, errlen, "eni %s: bad vm_underlay_ip or vm_vni", name);
	e->has_vm = rc == 1 && e->vm_vni != 0;
	v = SS_OVL_DSCP_COPY;
	rc = ovl_json_uint(o, "dscp", &v);
	if (rc < 0 || (rc == 1 && v > 63))
		return ovl_err(-EINVAL, err, errlen, "eni %s: bad dscp", name);
	e->dscp = (uint8_t)v;
	if (group != NULL)
		return ovl_group_ref(group, &e->group, err, errlen);
	return 0;
}

int ovl_stage_eni(const struct ss_change *c, char *err, size_t errlen)
{
	struct ss_ovl *o = &ss_ovl;
	const json_t *obj = ovl_chg_obj(c);
	const char *name = ovl_json_str(obj, "name");
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
	rc = eni_build(obj, name, e, err, errlen);
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
