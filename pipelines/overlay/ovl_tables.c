/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The overlay tables as one ss_ctl_table: prepare stages every change of a
 * transaction (in log order, so a name always resolves as the transaction
 * left it at that point), then checks capacities and builds aside whatever
 * must be rebuilt; commit publishes with pointer stores and lock-free hash
 * updates that cannot fail; reclaim frees what the workers may have been
 * reading. Design and reasoning: docs/overlay.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "control/limits.h"
#include "dataplane/port-t.h"
#include "pipelines/overlay/ovl_tables-int.h"

struct ss_ovl ss_ovl;

enum { TAG_SET = 1, TAG_DEL = 2 };

int ovl_err(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- record fields ----------------------------------------------------------------- */

int ovl_rec_ip(const struct ss_rec_ip *ip, uint8_t *fam, uint8_t addr[16])
{
	if (ip->family != AF_INET && ip->family != AF_INET6)
		return 0;
	*fam = ip->family == AF_INET ? 4 : 6;
	memset(addr, 0, 16);
	memcpy(addr, ip->bytes, *fam == 4 ? 4 : 16);
	return 1;
}

int ovl_rec_prefix(const struct ss_rec_prefix *p, uint8_t *fam, uint8_t addr[16],
		   uint8_t *plen)
{
	if (p->family != AF_INET && p->family != AF_INET6)
		return 0;
	*fam = p->family == AF_INET ? 4 : 6;
	memset(addr, 0, 16);
	memcpy(addr, p->bytes, *fam == 4 ? 4 : 16);
	*plen = p->len;
	return 1;
}

const char *ovl_fmt_ip(const struct ss_rec_ip *ip, char *buf, size_t len)
{
	if ((ip->family != AF_INET && ip->family != AF_INET6) ||
	    inet_ntop(ip->family, ip->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *ovl_fmt_prefix(const struct ss_rec_prefix *p, char *buf, size_t len)
{
	size_t l;

	if ((p->family != AF_INET && p->family != AF_INET6) ||
	    inet_ntop(p->family, p->bytes, buf, (socklen_t)len) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	l = strlen(buf);
	snprintf(buf + l, len - l, "/%u", p->len);
	return buf;
}

uint16_t ovl_port_by_name(const char *name)
{
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++)
		if (strcmp(ss_ports.ports[i].name, name) == 0)
			return i;
	return SS_PORT_NONE;
}

/* ---- names --------------------------------------------------------------------------- */

static void name_key(const char *name, char key[SS_OVL_NAME_MAX])
{
	memset(key, 0, SS_OVL_NAME_MAX);
	snprintf(key, SS_OVL_NAME_MAX, "%s", name);
}

uint32_t ovl_name_get(const struct ovl_kmap *committed, const struct ovl_kmap *stage,
		      const char *name)
{
	char key[SS_OVL_NAME_MAX];
	uint64_t v;
	uint8_t tag;

	if (name == NULL)
		return 0;
	name_key(name, key);
	if (ovl_kmap_get(stage, key, &v, &tag))
		return tag == TAG_SET ? (uint32_t)v : 0;
	return ovl_kmap_get(committed, key, &v, NULL) ? (uint32_t)v : 0;
}

int ovl_name_set(struct ovl_kmap *stage, const char *name, uint32_t index)
{
	char key[SS_OVL_NAME_MAX];

	name_key(name, key);
	return ovl_kmap_put(stage, key, index, TAG_SET);
}

int ovl_name_del(struct ovl_kmap *stage, const char *name)
{
	char key[SS_OVL_NAME_MAX];

	name_key(name, key);
	return ovl_kmap_put(stage, key, 0, TAG_DEL);
}

static void names_commit(struct ovl_kmap *committed, struct ovl_kmap *stage)
{
	uint32_t pos = 0;
	const void *k;
	uint64_t v;
	uint8_t tag;

	while (ovl_kmap_next(stage, &pos, &k, &v, &tag)) {
		if (tag == TAG_SET)
			ovl_kmap_put(committed, k, v, 0); /* reserved in finalize */
		else
			ovl_kmap_del(committed, k);
	}
	ovl_kmap_clear(stage);
}

/* ---- route groups ----------------------------------------------------------------------- */

uint32_t ovl_group_refs(uint16_t index)
{
	uint32_t key = index;
	uint64_t d = 0;

	ovl_kmap_get(&ss_ovl.group_delta, &key, &d, NULL);
	return (uint32_t)((int64_t)ss_ovl.group_ref[index] + (int64_t)d);
}

static int group_delta(uint32_t idx, int delta)
{
	uint32_t key = idx;
	uint64_t d = 0;

	ovl_kmap_get(&ss_ovl.group_delta, &key, &d, NULL);
	return ovl_kmap_put(&ss_ovl.group_delta, &key, (uint64_t)((int64_t)d + delta), 0);
}

int ovl_group_ref(const char *name, uint16_t *index, char *err, size_t errlen)
{
	uint32_t idx = ovl_name_get(&ss_ovl.group_names, &ss_ovl.group_stage, name);
	int rc;

	if (idx == 0) {
		rc = ovl_ids_alloc(&ss_ovl.group_ids, &idx);
		if (rc != 0)
			return ovl_err(rc, err, errlen, "route group %s: %s", name,
				       rc == -ENOSPC ? "more than 32767 route groups"
						     : "out of memory");
		if (ovl_name_set(&ss_ovl.group_stage, name, idx) != 0)
			return ovl_err(-ENOMEM, err, errlen, "route group %s: out of memory", name);
		snprintf(ss_ovl.group_name[idx], SS_OVL_NAME_MAX, "%s", name);
	}
	if (group_delta(idx, 1) != 0)
		return ovl_err(-ENOMEM, err, errlen, "route group %s: out of memory", name);
	*index = (uint16_t)idx;
	return 0;
}

int ovl_group_unref(uint16_t idx, char *err, size_t errlen)
{
	const char *name = ss_ovl.group_name[idx];

	if (idx == 0)
		return 0;
	if (group_delta(idx, -1) != 0)
		return ovl_err(-ENOMEM, err, errlen, "route group %s: out of memory", name);
	if (ovl_group_refs(idx) == 0) {
		/* last user gone: the name now, the index after the grace period */
		if (ovl_name_del(&ss_ovl.group_stage, name) != 0 ||
		    ovl_ids_release(&ss_ovl.group_ids, idx) != 0)
			return ovl_err(-ENOMEM, err, errlen, "route group %s: out of memory", name);
	}
	return 0;
}

/* ---- life cycle ---------------------------------------------------------------------------- */

/* control/limits.h is the one source of capacities: its maxima must be what
 * these tables can index. */
_Static_assert(SS_LIM_MAX_UNDERLAY_ROUTES <= OVL_LPM_NH_MAX, "underlay routes are LPM next hops");
_Static_assert(SS_LIM_MAX_VNETS <= UINT16_MAX, "VNET indexes are 16 bits");

static uint32_t lim(uint32_t v, uint32_t dflt)
{
	return v ? v : dflt;
}

int ss_ovl_tables_init(const struct ss_ctl_limits *l)
{
	struct ss_ovl *o = &ss_ovl;
	size_t ne;
	int rc;

	memset(o, 0, sizeof(*o));
	o->max_vnets = RTE_MIN(lim(l->max_vnets, SS_LIM_DEF_VNETS), SS_LIM_MAX_VNETS);
	o->max_enis = lim(l->max_enis, SS_LIM_DEF_ENIS);
	ne = (size_t)o->max_enis + 1;
	o->vnets = rte_zmalloc("ss_ovl_vnets", (o->max_vnets + 1) * sizeof(*o->vnets),
			       RTE_CACHE_LINE_SIZE);
	o->enis = rte_zmalloc("ss_ovl_enis", ne * sizeof(*o->enis), RTE_CACHE_LINE_SIZE);
	o->inb_count = rte_zmalloc("ss_ovl_inb", ne * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	o->eni_next = calloc(ne, sizeof(*o->eni_next));
	o->eni_touched = calloc(ne, 1);
	o->group_ref = calloc(SS_OVL_MAX_GROUPS + 1, sizeof(uint32_t));
	o->group_name = calloc(SS_OVL_MAX_GROUPS + 1, SS_OVL_NAME_MAX);
	if (!o->vnets || !o->enis || !o->inb_count || !o->eni_next || !o->eni_touched ||
	    !o->group_ref || !o->group_name) {
		ss_ovl_tables_fini();
		return -ENOMEM;
	}
	ovl_ids_init(&o->vnet_ids, o->max_vnets + 1);
	ovl_ids_init(&o->eni_ids, o->max_enis + 1);
	ovl_ids_init(&o->group_ids, SS_OVL_MAX_GROUPS + 1);
	ovl_kmap_init(&o->vnet_names, SS_OVL_NAME_MAX);
	ovl_kmap_init(&o->eni_names, SS_OVL_NAME_MAX);
	ovl_kmap_init(&o->group_names, SS_OVL_NAME_MAX);
	ovl_kmap_init(&o->vnet_stage, SS_OVL_NAME_MAX);
	ovl_kmap_init(&o->eni_stage, SS_OVL_NAME_MAX);
	ovl_kmap_init(&o->group_stage, SS_OVL_NAME_MAX);
	ovl_kmap_init(&o->group_delta, sizeof(uint32_t));
	ovl_kmap_init(&o->inb_delta, sizeof(uint32_t));
	rc = ovl_hash_init(&o->vip, "vip", sizeof(struct ss_ovl_ipkey), 64);
	rc = rc ?: ovl_hash_init(&o->vni, "vni", sizeof(uint32_t), 256);
	rc = rc ?: ovl_hash_init(&o->eni_host, "enih", sizeof(struct ss_ovl_host_key), 256);
	rc = rc ?: ovl_hash_init(&o->eni_vnet, "eniv", sizeof(struct ss_ovl_vmac_key), 256);
	rc = rc ?: ovl_hash_init(&o->eni_app, "enia", sizeof(struct ss_ovl_vmac_key), 256);
	rc = rc ?: ovl_hash_init(&o->map, "map", sizeof(struct ss_ovl_ipkey), 1024);
	rc = rc ?: ovl_hash_init(&o->paref, "paref", sizeof(struct ss_ovl_ipkey), 1024);
	rc = rc ?: ovl_hash_init(&o->pav, "pav", sizeof(struct ss_ovl_ipkey), 256);
	rc = rc ?: ovl_hash_init(&o->inb, "inb", sizeof(struct ss_ovl_inb_key), 256);
	rc = rc ?: ovl_lpm_init(&o->lpm);
	rc = rc ?: ovl_pool_init(&o->routes, sizeof(struct ss_ovl_route),
				 RTE_MIN(lim(l->max_routes, SS_LIM_DEF_ROUTES), SS_OVL_RT_POOL_MAX));
	rc = rc ?: ovl_pool_init(&o->uroutes, sizeof(struct ss_ovl_uroute),
				 RTE_MIN(lim(l->max_underlay_routes, SS_LIM_DEF_UNDERLAY_ROUTES),
					 OVL_LPM_NH_MAX));
	rc = rc ?: ovl_pool_init(&o->maps, sizeof(struct ss_ovl_mapping),
				 lim(l->max_mappings, SS_LIM_DEF_MAPPINGS));
	if (rc != 0)
		ss_ovl_tables_fini();
	return rc;
}

void ss_ovl_tables_fini(void)
{
	struct ss_ovl *o = &ss_ovl;

	if (o->prepared)
		ss_ovl_abort(NULL);
	if (o->enis) {
		for (uint32_t i = 0; i <= o->max_enis; i++)
			rte_free(o->enis[i]);
	}
	if (o->inb.live) {
		uint32_t pos = 0;
		const void *k;
		uint64_t v;
		while (ovl_hash_live_next(&o->inb, &pos, &k, &v))
			rte_free((void *)(uintptr_t)v);
	}
	rte_free(o->sw);
	ovl_hash_fini(&o->vip);
	ovl_hash_fini(&o->vni);
	ovl_hash_fini(&o->eni_host);
	ovl_hash_fini(&o->eni_vnet);
	ovl_hash_fini(&o->eni_app);
	ovl_hash_fini(&o->map);
	ovl_hash_fini(&o->paref);
	ovl_hash_fini(&o->pav);
	ovl_hash_fini(&o->inb);
	ovl_lpm_fini(&o->lpm);
	ovl_pool_fini(&o->routes);
	ovl_pool_fini(&o->uroutes);
	ovl_pool_fini(&o->maps);
	ovl_ids_fini(&o->vnet_ids);
	ovl_ids_fini(&o->eni_ids);
	ovl_ids_fini(&o->group_ids);
	ovl_kmap_free(&o->vnet_names);
	ovl_kmap_free(&o->eni_names);
	ovl_kmap_free(&o->group_names);
	ovl_kmap_free(&o->vnet_stage);
	ovl_kmap_free(&o->eni_stage);
	ovl_kmap_free(&o->group_stage);
	ovl_kmap_free(&o->group_delta);
	ovl_kmap_free(&o->inb_delta);
	ovl_gc_fini(&o->gc);
	rte_free(o->vnets);
	rte_free(o->enis);
	rte_free(o->inb_count);
	free(o->eni_next);
	free(o->eni_touched);
	free(o->eni_list);
	free(o->group_ref);
	free(o->group_name);
	memset(o, 0, sizeof(*o));
}

/* ---- transaction ------------------------------------------------------------------------------ */

static const struct {
	const struct ss_type *type;
	int (*stage)(const struct ss_change *c, char *err, size_t errlen);
} handlers[] = {
	{ &ss_type_switch, ovl_stage_switch },
	{ &ss_type_vip, ovl_stage_vip },
	{ &ss_type_direction, ovl_stage_direction },
	{ &ss_type_vnet, ovl_stage_vnet },
	{ &ss_type_underlay_route, ovl_stage_underlay_route },
	{ &ss_type_eni, ovl_stage_eni },
	{ &ss_type_route, ovl_stage_route },
	{ &ss_type_mapping, ovl_stage_mapping },
	{ &ss_type_pa_validation, ovl_stage_pa_validation },
	{ &ss_type_inbound_route, ovl_stage_inbound_route },
};

static struct ovl_hash *const *hashes(void)
{
	static struct ovl_hash *const h[] = {
		&ss_ovl.vip, &ss_ovl.vni, &ss_ovl.eni_host, &ss_ovl.eni_vnet,
		&ss_ovl.eni_app, &ss_ovl.map, &ss_ovl.paref, &ss_ovl.pav, &ss_ovl.inb, NULL,
	};
	return h;
}

static int finalize(char *err, size_t errlen)
{
	struct ss_ovl *o = &ss_ovl;
	int rc;

	for (struct ovl_hash *const *h = hashes(); *h; h++) {
		rc = ovl_hash_finalize(*h);
		if (rc != 0)
			return ovl_err(rc, err, errlen, "out of memory growing table %s", (*h)->name);
	}
	rc = ovl_lpm_finalize(&o->lpm, err, errlen);
	if (rc != 0)
		return rc;
	if (ovl_kmap_reserve(&o->vnet_names, o->vnet_stage.n) != 0 ||
	    ovl_kmap_reserve(&o->eni_names, o->eni_stage.n) != 0 ||
	    ovl_kmap_reserve(&o->group_names, o->group_stage.n) != 0 ||
	    ovl_eni_finalize() != 0)
		return ovl_err(-ENOMEM, err, errlen, "out of memory");
	return 0;
}

int ss_ovl_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		   char *err, size_t errlen)
{
	int rc = 0;

	(void)ctx;
	(void)ctl;
	ss_ovl.prepared = true;
	ss_ovl.map_vnet[0] = '\0';
	for (size_t i = 0; i < n && rc == 0; i++) {
		for (size_t t = 0; t < RTE_DIM(handlers); t++) {
			if (changes[i].ty == handlers[t].type) {
				rc = handlers[t].stage(&changes[i], err, errlen);
				break;
			}
		}
	}
	if (rc == 0)
		rc = finalize(err, errlen);
	if (rc != 0)
		ss_ovl_abort(NULL);   /* the control plane aborts only the others */
	return rc;
}

static void apply_deltas(struct ovl_kmap *delta, uint32_t *arr, bool atomic)
{
	uint32_t pos = 0;
	const void *k;
	uint64_t d;

	while (ovl_kmap_next(delta, &pos, &k, &d, NULL)) {
		uint32_t idx;

		memcpy(&idx, k, sizeof(idx));
		uint32_t v = (uint32_t)((int64_t)arr[idx] + (int64_t)d);
		if (atomic)
			__atomic_store_n(&arr[idx], v, __ATOMIC_RELEASE);
		else
			arr[idx] = v;
	}
	ovl_kmap_clear(delta);
}

/* Nothing below can fail: every allocation was made in prepare. Order:
 * entries before the keys that lead to them, keys removed before their
 * entries are retired. */
uint32_t ss_ovl_gen;   /* ovl_pkt.h */

void ss_ovl_commit(void *ctx)
{
	struct ss_ovl *o = &ss_ovl;

	(void)ctx;
	if (!o->prepared)
		return;
	if (o->sw_next) {
		ovl_gc_defer(&o->gc, o->sw);   /* capacity reserved by the handler */
		__atomic_store_n(&o->sw, o->sw_next, __ATOMIC_RELEASE);
		o->sw_next = NULL;
	}
	ovl_eni_commit_publish();
	ovl_pool_commit(&o->routes);
	ovl_pool_commit(&o->uroutes);
	ovl_pool_commit(&o->maps);
	for (struct ovl_hash *const *h = hashes(); *h; h++)
		ovl_hash_commit(*h);
	ovl_lpm_commit(&o->lpm);
	ovl_eni_commit_retire();
	apply_deltas(&o->inb_delta, o->inb_count, true);
	apply_deltas(&o->group_delta, o->group_ref, false);
	names_commit(&o->vnet_names, &o->vnet_stage);
	names_commit(&o->eni_names, &o->eni_stage);
	names_commit(&o->group_names, &o->group_stage);
	ovl_ids_commit(&o->vnet_ids);
	ovl_ids_commit(&o->eni_ids);
	ovl_ids_commit(&o->group_ids);
	ovl_gc_commit(&o->gc);
	o->prepared = false;
	/* last: every flow-cached transform resolved before is stale now */
	__atomic_fetch_add(&ss_ovl_gen, 1, __ATOMIC_RELEASE);
}

void ss_ovl_abort(void *ctx)
{
	struct ss_ovl *o = &ss_ovl;

	(void)ctx;
	o->sw_next = NULL;  /* freed with the gc's fresh blocks */
	ovl_eni_abort();
	for (struct ovl_hash *const *h = hashes(); *h; h++)
		ovl_hash_abort(*h);
	ovl_lpm_abort(&o->lpm);
	ovl_pool_abort(&o->routes);
	ovl_pool_abort(&o->uroutes);
	ovl_pool_abort(&o->maps);
	ovl_kmap_clear(&o->inb_delta);
	ovl_kmap_clear(&o->group_delta);
	ovl_kmap_clear(&o->vnet_stage);
	ovl_kmap_clear(&o->eni_stage);
	ovl_kmap_clear(&o->group_stage);
	ovl_ids_abort(&o->vnet_ids);
	ovl_ids_abort(&o->eni_ids);
	ovl_ids_abort(&o->group_ids);
	ovl_gc_abort(&o->gc);
	o->prepared = false;
}

void ss_ovl_reclaim(void *ctx)
{
	struct ss_ovl *o = &ss_ovl;

	(void)ctx;
	for (struct ovl_hash *const *h = hashes(); *h; h++)
		ovl_hash_reclaim(*h);
	ovl_lpm_reclaim(&o->lpm);
	ovl_pool_reclaim(&o->routes);
	ovl_pool_reclaim(&o->uroutes);
	ovl_pool_reclaim(&o->maps);
	ovl_ids_reclaim(&o->vnet_ids);
	ovl_ids_reclaim(&o->eni_ids);
	ovl_ids_reclaim(&o->group_ids);
	ovl_gc_reclaim(&o->gc);
}

int ss_ovl_eni_index(const char *name)
{
	uint32_t idx = ovl_name_get(&ss_ovl.eni_names, &ss_ovl.eni_stage, name);

	return idx ? (int)idx : -1;
}

int ss_ovl_vnet_index(const char *name)
{
	uint32_t idx = ovl_name_get(&ss_ovl.vnet_names, &ss_ovl.vnet_stage, name);

	return idx ? (int)idx : -1;
}

int ss_ovl_group_index(const char *name)
{
	uint32_t idx = ovl_name_get(&ss_ovl.group_names, &ss_ovl.group_stage, name);

	return idx ? (int)idx : -1;
}

const char *ss_ovl_eni_name(uint32_t index)
{
	const struct ss_ovl_eni *e;

	if (index == 0 || index > ss_ovl.max_enis)
		return NULL;
	e = ss_ovl.enis[index];
	return e ? e->name : NULL;
}
