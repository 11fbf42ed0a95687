/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Staging of the tenant routing objects: route (outbound routing, SPEC 3.1
 * step 6), mapping (CA -> PA, step 7), pa_validation and inbound_route
 * (SPEC 3.2 step 4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/overlay/ovl_tables-int.h"

/* The index of the VNET named by a record field ("": none, 0). */
static uint16_t vnet_of(const char *name, int *rc, const char *what, char *err, size_t errlen)
{
	uint32_t idx;

	*rc = 0;
	if (name[0] == '\0')
		return 0;
	idx = ovl_name_get(&ss_ovl.vnet_names, &ss_ovl.vnet_stage, name);
	if (idx == 0)
		*rc = ovl_err(-ENOENT, err, errlen, "%s: vnet %s not found", what, name);
	return (uint16_t)idx;
}

/* ---- route ----------------------------------------------------------------------- */

/* route.action (enum ss_route_action) -> the tables' action */
static const uint8_t route_actions[] = {
	[SS_ROUTE_VNET] = SS_OVL_RT_VNET,
	[SS_ROUTE_VNET_DIRECT] = SS_OVL_RT_VNET_DIRECT,
	[SS_ROUTE_DIRECT] = SS_OVL_RT_DIRECT,
	[SS_ROUTE_DROP] = SS_OVL_RT_DROP,
};

int ovl_stage_route(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_route_rec *rec = ovl_chg_rec(c);
	char what[160], pfx[OVL_ADDR_STRLEN];
	struct ovl_lpm_rule r;
	struct ss_ovl_route *rt;
	uint32_t cur, idx;
	uint16_t g, vnet;
	uint8_t act;
	int rc;

	memset(&r, 0, sizeof(r));
	if (rec == NULL || rec->group[0] == '\0' ||
	    !ovl_rec_prefix(&rec->prefix, &r.fam, r.addr, &r.plen))
		return ovl_err(-EINVAL, err, errlen, "route: bad group or prefix");
	snprintf(what, sizeof(what), "route %s %s", rec->group,
		 ovl_fmt_prefix(&rec->prefix, pfx, sizeof(pfx)));
	ovl_lpm_mask(&r);
	g = (uint16_t)ovl_name_get(&ss_ovl.group_names, &ss_ovl.group_stage, rec->group);
	r.scope = (uint16_t)(g * 2 + (r.fam == 6));
	if (g != 0 && ovl_lpm_get(&ss_ovl.lpm, &r, &cur)) {
		if (!(cur & SS_OVL_RT_INLINE) && ovl_pool_release(&ss_ovl.routes, cur) != 0)
			return ovl_err(-ENOMEM, err, errlen, "%s: out of memory", what);
		if (c->op == SS_CHANGE_DELETE) {
			rc = ovl_lpm_del(&ss_ovl.lpm, &r);
			if (rc != 0)
				return ovl_err(rc, err, errlen, "%s: out of memory", what);
			return ovl_group_unref(g, err, errlen);
		}
	} else {
		if (c->op == SS_CHANGE_DELETE)
			return 0;
		rc = ovl_group_ref(rec->group, &g, err, errlen);
		if (rc != 0)
			return rc;
		r.scope = (uint16_t)(g * 2 + (r.fam == 6));
	}
	if (rec->action >= RTE_DIM(route_actions))
		return ovl_err(-EINVAL, err, errlen, "%s: bad action", what);
	act = route_actions[rec->action];
	vnet = vnet_of(rec->vnet, &rc, what, err, errlen);
	if (rc != 0)
		return rc;
	if (act != SS_OVL_RT_VNET_DIRECT) {
		idx = SS_OVL_RT_INLINE | (uint32_t)act << 16 | vnet;
	} else {
		rc = ovl_pool_alloc(&ss_ovl.routes, &idx, (void **)&rt);
		if (rc != 0)
			return ovl_err(rc, err, errlen, "%s: %s", what, rc == -ENOSPC
				       ? "vnet_direct route table full (tables.routes)" : "out of memory");
		rt->action = act;
		rt->vnet = vnet;
		if (!ovl_rec_ip(&rec->overlay_ip, &rt->fam, rt->overlay_ip))
			return ovl_err(-EINVAL, err, errlen, "%s: vnet_direct needs overlay_ip", what);
	}
	rc = ovl_lpm_set(&ss_ovl.lpm, &r, idx);
	return rc ? ovl_err(rc, err, errlen, "%s: out of memory", what) : 0;
}

/* ---- mapping ------------------------------------------------------------------- */

/* The number of mappings of a VNET with a given PA (SPEC 3.2 step 4: an
 * ENI without inbound routes accepts the PAs of its VNET's mappings). */
static int paref_add(uint16_t vnet, const struct ss_ovl_target *t, int delta)
{
	struct ss_ovl_ipkey k;
	uint64_t n = 0;

	bool staged = false;

	ss_ovl_ipkey(&k, t->fam, vnet, t->pa);
	if (!ovl_hash_get(&ss_ovl.paref, &k, &n, &staged) && !staged && delta > 0)
		return ovl_hash_set_new(&ss_ovl.paref, &k, (uint64_t)delta);
	n = (uint64_t)((int64_t)n + delta);
	return n ? ovl_hash_set(&ss_ovl.paref, &k, n) : ovl_hash_del(&ss_ovl.paref, &k);
}

/* A mapping's failure: "mapping VNET IP: why" (formatted only then: bulk
 * adds stage a million of them). */
static int map_err(const struct ss_mapping_rec *r, int rc, char *err, size_t errlen,
		   const char *why)
{
	char buf[OVL_ADDR_STRLEN];

	return ovl_err(rc, err, errlen, "mapping %s %s: %s", r->vnet,
		       ovl_fmt_ip(&r->ip, buf, sizeof(buf)), why);
}

int ovl_stage_mapping(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_mapping_rec *r = ovl_chg_rec(c);
	struct ss_ovl_mapping *m;
	struct ss_ovl_ipkey k;
	uint8_t fam, ip[16];
	bool staged = false;
	uint64_t cur;
	uint32_t idx;
	uint16_t vnet;
	int rc;

	if (r == NULL)
		return ovl_err(-EINVAL, err, errlen, "mapping: no record");
	if (r->vnet[0] != '\0' && strcmp(r->vnet, ss_ovl.map_vnet) == 0) {
		vnet = ss_ovl.map_vnet_idx;
	} else {
		vnet = r->vnet[0] ? (uint16_t)ovl_name_get(&ss_ovl.vnet_names, &ss_ovl.vnet_stage,
							  r->vnet) : 0;
		if (vnet != 0 && strlen(r->vnet) < sizeof(ss_ovl.map_vnet)) {
			strcpy(ss_ovl.map_vnet, r->vnet);
			ss_ovl.map_vnet_idx = vnet;
		}
	}
	if (vnet == 0) {
		char why[96];

		if (r->vnet[0] == '\0')
			return map_err(r, -EINVAL, err, errlen, "no vnet");
		snprintf(why, sizeof(why), "vnet %s not found", r->vnet);
		return map_err(r, -ENOENT, err, errlen, why);
	}
	if (!ovl_rec_ip(&r->ip, &fam, ip))
		return map_err(r, -EINVAL, err, errlen, "bad ip");
	ss_ovl_ipkey(&k, fam, vnet, ip);
	if (ovl_hash_get(&ss_ovl.map, &k, &cur, &staged)) {
		const struct ss_ovl_mapping *old = (const void *)(uintptr_t)cur;
		if (ovl_pool_release(&ss_ovl.maps, old->index) != 0 ||
		    paref_add(vnet, &old->tgt, -1) != 0)
			return map_err(r, -ENOMEM, err, errlen, "out of memory");
		staged = true;   /* present: not a new key */
	}
	if (c->op == SS_CHANGE_DELETE) {
		rc = ovl_hash_del(&ss_ovl.map, &k);
		return rc ? map_err(r, rc, err, errlen, "out of memory") : 0;
	}
	rc = ovl_pool_alloc(&ss_ovl.maps, &idx, (void **)&m);
	if (rc != 0)
		return map_err(r, rc, err, errlen, rc == -ENOSPC
			       ? "mapping table full (tables.mappings)" : "out of memory");
	m->index = idx;
	m->vnet = vnet;
	m->tgt.set_mac = 1;
	if (!ovl_rec_ip(&r->underlay_ip, &m->tgt.fam, m->tgt.pa))
		return map_err(r, -EINVAL, err, errlen, "bad underlay_ip or mac");
	memcpy(m->tgt.mac.addr_bytes, r->mac, RTE_ETHER_ADDR_LEN);
	m->use_dst_vni = r->use_dst_vni;
	/* a key neither live nor staged is new: finalize() need not look it up */
	rc = staged ? ovl_hash_set(&ss_ovl.map, &k, (uint64_t)(uintptr_t)m)
		    : ovl_hash_set_new(&ss_ovl.map, &k, (uint64_t)(uintptr_t)m);
	if (rc != 0 || paref_add(vnet, &m->tgt, 1) != 0)
		return map_err(r, -ENOMEM, err, errlen, "out of memory");
	return 0;
}

/* ---- pa_validation ---------------------------------------------------------------- */

int ovl_stage_pa_validation(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_pa_validation_rec *r = ovl_chg_rec(c);
	char what[160], buf[OVL_ADDR_STRLEN];
	struct ss_ovl_ipkey k;
	uint8_t fam, ip[16];
	uint16_t vnet;
	int rc;

	if (r == NULL)
		return ovl_err(-EINVAL, err, errlen, "pa_validation: no record");
	snprintf(what, sizeof(what), "pa_validation %s %s", r->vnet,
		 ovl_fmt_ip(&r->underlay_ip, buf, sizeof(buf)));
	vnet = vnet_of(r->vnet, &rc, what, err, errlen);
	if (rc != 0 || vnet == 0 || !ovl_rec_ip(&r->underlay_ip, &fam, ip))
		return rc ? rc : ovl_err(-EINVAL, err, errlen, "%s: bad vnet or ip", what);
	ss_ovl_ipkey(&k, fam, vnet, ip);
	rc = c->op == SS_CHANGE_DELETE ? ovl_hash_del(&ss_ovl.pav, &k)
				       : ovl_hash_set(&ss_ovl.pav, &k, 1);
	return rc ? ovl_err(rc, err, errlen, "%s: out of memory", what) : 0;
}

/* ---- inbound_route ----------------------------------------------------------------- */

static int inb_cmp(const void *a, const void *b)
{
	const struct ss_ovl_inb_rule *x = a, *y = b;

	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->fam - y->fam;
}

static bool inb_same(const struct ss_ovl_inb_rule *x, const struct ss_ovl_inb_rule *y)
{
	return x->fam == y->fam && x->plen == y->plen && x->priority == y->priority &&
	       memcmp(x->addr, y->addr, 16) == 0;
}

/* The prefix and its mask as words, for the data plane's match. */
static void inb_words(struct ss_ovl_inb_rule *r)
{
	uint8_t mask[16] = { 0 };
	struct ovl_lpm_rule m = { .fam = r->fam, .plen = r->plen };

	memcpy(m.addr, r->addr, 16);
	ovl_lpm_mask(&m);
	memcpy(r->addr, m.addr, 16);
	for (unsigned int i = 0; i < 16 && i * 8 < r->plen; i++)
		mask[i] = r->plen - i * 8 >= 8 ? 0xff : (uint8_t)(0xff << (8 - (r->plen - i * 8)));
	memcpy(r->net, r->addr, 16);
	memcpy(r->mask, mask, 16);
}

static int inb_count_add(uint32_t eni, int delta)
{
	uint64_t d = 0;

	ovl_kmap_get(&ss_ovl.inb_delta, &eni, &d, NULL);
	return ovl_kmap_put(&ss_ovl.inb_delta, &eni, (uint64_t)((int64_t)d + delta), 0);
}

int ovl_stage_inbound_route(const struct ss_change *c, char *err, size_t errlen)
{
	const struct ss_inbound_route_rec *rec = ovl_chg_rec(c);
	const struct ss_ovl_inb_list *cur = NULL;
	char what[192], pfx[OVL_ADDR_STRLEN];
	struct ss_ovl_inb_list *nl;
	struct ss_ovl_inb_rule r;
	struct ss_ovl_inb_key k;
	uint64_t v;
	uint32_t n = 0, ncur;
	bool found = false;
	int rc;

	memset(&r, 0, sizeof(r));
	if (rec == NULL)
		return ovl_err(-EINVAL, err, errlen, "inbound_route: no record");
	snprintf(what, sizeof(what), "inbound_route %s %u %s %u", rec->eni, rec->vni,
		 ovl_fmt_prefix(&rec->src_prefix, pfx, sizeof(pfx)), rec->priority);
	k.eni = ovl_name_get(&ss_ovl.eni_names, &ss_ovl.eni_stage, rec->eni[0] ? rec->eni : NULL);
	if (k.eni == 0)
		return ovl_err(-ENOENT, err, errlen, "%s: eni not found", what);
	k.vni = rec->vni;
	r.priority = rec->priority;
	if (!ovl_rec_prefix(&rec->src_prefix, &r.fam, r.addr, &r.plen))
		return ovl_err(-EINVAL, err, errlen, "%s: bad vni, src_prefix or priority", what);
	r.action = rec->action == SS_INBOUND_DECAP_PA_VALIDATE ? SS_OVL_INB_DECAP_PA_VALIDATE
								: SS_OVL_INB_DECAP;
	inb_words(&r);
	r.vnet = vnet_of(rec->vnet, &rc, what, err, errlen);
	if (rc != 0)
		return rc;
	if (ovl_hash_get(&ss_ovl.inb, &k, &v, NULL))
		cur = (const void *)(uintptr_t)v;
	ncur = cur ? cur->n : 0;
	nl = ovl_gc_alloc(&ss_ovl.gc, sizeof(*nl) + (ncur + 1) * sizeof(nl->r[0]));
	if (nl == NULL || ovl_gc_reserve(&ss_ovl.gc, 1) != 0)
		return ovl_err(-ENOMEM, err, errlen, "%s: out of memory", what);
	for (uint32_t i = 0; i < ncur; i++) {
		if (inb_same(&cur->r[i], &r))
			found = true;
		else
			nl->r[n++] = cur->r[i];
	}
	if (c->op != SS_CHANGE_DELETE)
		nl->r[n++] = r;
	qsort(nl->r, n, sizeof(nl->r[0]), inb_cmp);
	nl->n = n;
	/* the list this one replaces: freed after the grace period, or with
	 * the transaction's fresh blocks if this transaction built it */
	ovl_gc_defer(&ss_ovl.gc, (void *)(uintptr_t)cur);
	rc = n ? ovl_hash_set(&ss_ovl.inb, &k, (uint64_t)(uintptr_t)nl)
	       : ovl_hash_del(&ss_ovl.inb, &k);
	if (rc == 0 && c->op == SS_CHANGE_DELETE && found)
		rc = inb_count_add(k.eni, -1);
	else if (rc == 0 && c->op != SS_CHANGE_DELETE && !found)
		rc = inb_count_add(k.eni, 1);
	return rc ? ovl_err(rc, err, errlen, "%s: out of memory", what) : 0;
}

/* ---- data plane helper --------------------------------------------------------------- */

const struct ss_ovl_inb_rule *ss_ovl_inb_match(uint32_t eni, uint32_t vni, int fam,
					       const uint8_t *src)
{
	struct ss_ovl_inb_key k = { .eni = eni, .vni = vni };
	const struct ss_ovl_inb_list *l;
	uint64_t v;

	if (!ovl_hash_lookup(&ss_ovl.inb, &k, &v))
		return NULL;
	l = (const void *)(uintptr_t)v;
	return ss_ovl_inb_list_match(l, fam, src);
}
