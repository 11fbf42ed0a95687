/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The Private Link table (pl.h): the control plane's own list of private
 * endpoints, tunnels and ENIs with a pl_underlay_ip, and the data-plane
 * state built from it.
 *
 * prepare: when the transaction touches one of them, copy the lists, apply
 * the changes, build a new ss_pl_state aside (may fail: ENOMEM); commit:
 * adopt the lists and publish the state (one release store, infallible);
 * reclaim: free the old state after the grace period; abort: drop what
 * prepare built. Transactions that touch none of them (ordinary mappings,
 * routes, ...) cost a look at each change's type and record.
 *
 * Indices (ENI, VNET) come from the overlay, whose tables are prepared
 * first: ss_overlay_eni_index() and ss_overlay_vnet_index() already answer
 * for what this transaction adds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <rte_malloc.h>

#include "control/ctl.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_pkt.h"
#include "pipelines/overlay/ovl_types.h"
#include "pipelines/privatelink/pl.h"

struct cp_ep {
	char vnet[SS_REC_NAME];
	struct ss_rec_ip ip;
	struct ss_rec_ip pa;
	uint8_t mac[6];
	struct ss_pl_mapping_rec pl;
};

struct cp_eni {
	char name[SS_REC_NAME];
	char vnet[SS_REC_NAME];
	uint8_t mac[6];
	uint8_t admin_up;
	uint16_t vlan;
	struct ss_rec_ip ip;
};

struct cp_list {
	void *v;
	size_t n, cap, esz;
};

struct cp_lists {
	struct cp_list ep, eni, tun;
};

struct ss_pl_state *ss_pl_published;
struct ss_pl_ctr *ss_pl_ctr[SS_MAX_WORKERS];

static struct ss_pl_state empty_state;
static struct cp_lists cur = {
	.ep = { .esz = sizeof(struct cp_ep) },
	.eni = { .esz = sizeof(struct cp_eni) },
	.tun = { .esz = sizeof(struct ss_tunnel_rec) },
};
static struct cp_lists stg;
static bool staged;
static struct ss_pl_state *next_state, *old_state;
static uint32_t max_enis;
static unsigned int nb_workers;
static struct ss_pl_ctr *baseline;    /* [max_enis + 1], control thread */

/* ---- lists ------------------------------------------------------------------------- */

static void *at(const struct cp_list *l, size_t i)
{
	return (char *)l->v + i * l->esz;
}

static int list_copy(struct cp_list *dst, const struct cp_list *src)
{
	dst->esz = src->esz;
	dst->n = src->n;
	dst->cap = src->n + 16;
	dst->v = malloc(dst->cap * dst->esz);
	if (dst->v == NULL)
		return -ENOMEM;
	if (src->n)
		memcpy(dst->v, src->v, src->n * src->esz);
	return 0;
}

static void *list_push(struct cp_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *v = realloc(l->v, cap * l->esz);

		if (v == NULL)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	return at(l, l->n++);
}

/* Remove the entries for which same(entry, key) holds (order kept). */
static void list_remove(struct cp_list *l, bool (*same)(const void *e, const void *key),
			const void *key)
{
	size_t i = 0;

	while (i < l->n) {
		if (same(at(l, i), key)) {
			memmove(at(l, i), at(l, i + 1), (l->n - i - 1) * l->esz);
			l->n--;
		} else {
			i++;
		}
	}
}

static void lists_free(struct cp_lists *c)
{
	free(c->ep.v);
	free(c->eni.v);
	free(c->tun.v);
	memset(c, 0, sizeof(*c));
}

static bool ip_eq(const struct ss_rec_ip *a, const struct ss_rec_ip *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, 16) == 0;
}

static bool ep_same(const void *e, const void *key)
{
	const struct cp_ep *x = e, *k = key;

	return strcmp(x->vnet, k->vnet) == 0 && ip_eq(&x->ip, &k->ip);
}

static bool eni_same(const void *e, const void *key)
{
	return strcmp(((const struct cp_eni *)e)->name, key) == 0;
}

static bool tun_same(const void *e, const void *key)
{
	return strcmp(((const struct ss_tunnel_rec *)e)->name, key) == 0;
}

/* ---- changes --------------------------------------------------------------------- */

static bool is_pl_mapping(const void *rec)
{
	const struct ss_pl_mapping_rec *pl = ss_rec_ext(&ss_pl_mapping_ext, rec);

	return pl != NULL && pl->routing == SS_PL_ROUTING_PRIVATELINK;
}

static bool has_pl_ip(const void *rec)
{
	const struct ss_pl_eni_rec *pl = ss_rec_ext(&ss_pl_eni_ext, rec);

	return pl != NULL && pl->pl_underlay_ip.family != 0;
}

static bool relevant(const struct ss_change *c)
{
	if (c->ty == &ss_type_tunnel)
		return true;
	if (c->ty == &ss_type_mapping)
		return is_pl_mapping(c->rec) || is_pl_mapping(c->old_rec);
	if (c->ty == &ss_type_eni)
		return has_pl_ip(c->rec) || has_pl_ip(c->old_rec);
	return false;
}

static int apply(const struct ss_change *c)
{
	bool del = c->op == SS_CHANGE_DELETE;
	const void *rec = del ? c->old_rec : c->rec;

	if (c->ty == &ss_type_tunnel) {
		const struct ss_tunnel_rec *t = rec;
		struct ss_tunnel_rec *n;

		list_remove(&stg.tun, tun_same, t->name);
		if (del)
			return 0;
		n = list_push(&stg.tun);
		if (n == NULL)
			return -ENOMEM;
		*n = *t;
	} else if (c->ty == &ss_type_mapping) {
		const struct ss_mapping_rec *m = rec;
		struct cp_ep key = { .ip = m->ip }, *n;

		snprintf(key.vnet, sizeof(key.vnet), "%s", m->vnet);
		list_remove(&stg.ep, ep_same, &key);
		if (del || !is_pl_mapping(c->rec))
			return 0;
		n = list_push(&stg.ep);
		if (n == NULL)
			return -ENOMEM;
		*n = key;
		n->pa = m->underlay_ip;
		memcpy(n->mac, m->mac, 6);
		n->pl = *(const struct ss_pl_mapping_rec *)ss_rec_ext(&ss_pl_mapping_ext, m);
	} else {
		const struct ss_eni_rec *e = rec;
		struct cp_eni *n;

		list_remove(&stg.eni, eni_same, e->name);
		if (del || !has_pl_ip(c->rec))
			return 0;
		n = list_push(&stg.eni);
		if (n == NULL)
			return -ENOMEM;
		snprintf(n->name, sizeof(n->name), "%s", e->name);
		snprintf(n->vnet, sizeof(n->vnet), "%s", e->vnet);
		memcpy(n->mac, e->mac, 6);
		n->admin_up = e->admin_state != SS_ENI_DOWN;
		n->vlan = e->vlan;
		n->ip = ((const struct ss_pl_eni_rec *)ss_rec_ext(&ss_pl_eni_ext, e))->pl_underlay_ip;
	}
	return 0;
}

/* ---- the data-plane state ------------------------------------------------------- */

static void state_free(struct ss_pl_state *st)
{
	if (st == NULL || st == &empty_state)
		return;
	rte_free(st->eni);
	rte_free(st->by_mac);
	rte_free(st->ep);
	rte_free(st->fwd);
	rte_free(st->rev);
	rte_free(st->tun);
	rte_free(st->vip);
	rte_free(st);
}

static uint8_t rec_fam(uint8_t family)
{
	return family == AF_INET ? 4 : 6;
}

static void slot_put(uint32_t *tab, uint32_t mask, uint32_t h, uint32_t val)
{
	uint32_t s = h & mask;

	while (tab[s] != 0)
		s = (s + 1) & mask;
	tab[s] = val;
}

/* The prefix bits of p, the low bits zero. */
static void prefix_bits(uint8_t out[16], const struct ss_rec_prefix *p)
{
	memcpy(out, p->bytes, 16);
}

static int build_ep(struct ss_pl_state *st, const struct cp_ep *c, struct ss_pl_ep *e,
		    char *err, size_t errlen)
{
	int vnet = ss_overlay_vnet_index(c->vnet);

	if (vnet <= 0) {
		snprintf(err, errlen, "mapping %s: no vnet", c->vnet);
		return -EINVAL;
	}
	e->vnet = (uint16_t)vnet;
	e->fam = rec_fam(c->ip.family);
	memcpy(e->ip, c->ip.bytes, 16);
	e->pa_fam = rec_fam(c->pa.family);
	memcpy(e->pa, c->pa.bytes, 16);
	memcpy(e->mac, c->mac, 6);
	e->sip_len = c->pl.overlay_sip.len;
	e->dip_len = c->pl.overlay_dip.len;
	prefix_bits(e->sip, &c->pl.overlay_sip);
	prefix_bits(e->dip, &c->pl.overlay_dip);
	memcpy(e->svc, e->dip, 16);
	if (e->fam == 4 && e->dip_len != 128)
		memcpy(e->svc + 12, e->ip, 4);
	e->vni = c->pl.vni ? c->pl.vni : ss_overlay_vnet_vni(c->vnet);
	e->tunnel = -1;
	for (uint32_t t = 0; c->pl.tunnel[0] != '\0' && t < stg.tun.n; t++)
		if (strcmp(((const struct ss_tunnel_rec *)at(&stg.tun, t))->name, c->pl.tunnel) == 0)
			e->tunnel = (int32_t)t;
	if (c->pl.tunnel[0] != '\0' && e->tunnel < 0) {
		snprintf(err, errlen, "mapping %s: tunnel %s: not found", c->vnet, c->pl.tunnel);
		return -EINVAL;
	}
	(void)st;
	return 0;
}

static int build_tunnels(struct ss_pl_state *st)
{
	st->n_tun = (uint32_t)stg.tun.n;
	st->tun = rte_zmalloc("pl_tun", sizeof(*st->tun) * (stg.tun.n + 1), 0);
	if (st->tun == NULL)
		return -ENOMEM;
	for (size_t t = 0; t < stg.tun.n; t++) {
		const struct ss_tunnel_rec *r = at(&stg.tun, t);

		st->tun[t].vni = r->vni;
		st->tun[t].n = r->n_underlay_ips;
		for (uint32_t i = 0; i < r->n_underlay_ips; i++) {
			bool v6 = strchr(r->underlay_ips[i], ':') != NULL;

			st->tun[t].m[i].fam = v6 ? 6 : 4;
			if (inet_pton(v6 ? AF_INET6 : AF_INET, r->underlay_ips[i],
				      st->tun[t].m[i].ip) != 1)
				return -EINVAL;
		}
	}
	return 0;
}

static int build_enis(struct ss_pl_state *st, char *err, size_t errlen)
{
	uint32_t slots = 4;

	if (stg.eni.n == 0)
		return 0;
	while (slots < 2 * stg.eni.n)
		slots *= 2;
	st->mac_mask = slots - 1;
	st->n_eni = max_enis + 1;
	st->eni = rte_zmalloc("pl_eni", sizeof(*st->eni) * st->n_eni, 0);
	st->vip = rte_zmalloc("pl_vip", sizeof(*st->vip) * stg.eni.n, 0);
	st->by_mac = rte_zmalloc("pl_by_mac", sizeof(uint32_t) * slots, 0);
	if (st->eni == NULL || st->vip == NULL || st->by_mac == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < stg.eni.n; i++) {
		const struct cp_eni *c = at(&stg.eni, i);
		int idx = ss_overlay_eni_index(c->name), vnet = ss_overlay_vnet_index(c->vnet);
		struct ss_pl_eni *e;

		if (idx <= 0 || (uint32_t)idx >= st->n_eni || vnet <= 0) {
			snprintf(err, errlen, "eni %s: no index", c->name);
			return -EINVAL;
		}
		e = &st->eni[idx];
		e->has = 1;
		e->fam = rec_fam(c->ip.family);
		e->vnet = (uint16_t)vnet;
		memcpy(e->ip, c->ip.bytes, 16);
		memcpy(e->mac, c->mac, 6);
		e->admin_up = c->admin_up;
		e->vlan = c->vlan;
		slot_put(st->by_mac, st->mac_mask, ss_pl_mac_hash(e->mac), (uint32_t)idx);
		if (!ss_pl_is_vip(st, e->fam, e->ip)) {
			st->vip[st->n_vip].fam = e->fam;
			memcpy(st->vip[st->n_vip].ip, e->ip, 16);
			st->n_vip++;
		}
	}
	return 0;
}

static struct ss_pl_state *build(char *err, size_t errlen, int *rc)
{
	struct ss_pl_state *st = rte_zmalloc("pl_state", sizeof(*st), 0);
	uint32_t slots = 4;

	*rc = -ENOMEM;
	if (st == NULL)
		return NULL;
	while (slots < 2 * stg.ep.n)
		slots *= 2;
	st->mask = slots - 1;
	st->fwd = rte_zmalloc("pl_fwd", sizeof(uint32_t) * slots, 0);
	st->rev = rte_zmalloc("pl_rev", sizeof(uint32_t) * slots, 0);
	st->ep = rte_zmalloc("pl_ep", sizeof(*st->ep) * (stg.ep.n + 1), 0);
	if (st->fwd == NULL || st->rev == NULL || st->ep == NULL)
		goto fail;
	if ((*rc = build_tunnels(st)) != 0 || (*rc = build_enis(st, err, errlen)) != 0)
		goto fail;
	for (size_t i = 0; i < stg.ep.n; i++) {
		struct ss_pl_ep *e = &st->ep[i];

		*rc = build_ep(st, at(&stg.ep, i), e, err, errlen);
		if (*rc != 0)
			goto fail;
		slot_put(st->fwd, st->mask, ss_pl_hash(e->vnet, e->fam, e->ip), (uint32_t)i + 1);
		if (e->fam == 4)
			slot_put(st->rev, st->mask, ss_pl_hash(e->vnet, 6, e->svc), (uint32_t)i + 1);
	}
	st->n_ep = (uint32_t)stg.ep.n;
	*rc = 0;
	return st;
fail:
	state_free(st);
	return NULL;
}

/* ---- the table ---------------------------------------------------------------------- */

int ss_pl_prepare(struct ss_ctl *ctl, const struct ss_change *changes, size_t n, char *err,
		  size_t errlen)
{
	size_t i;
	int rc;

	(void)ctl;
	for (i = 0; i < n && !relevant(&changes[i]); i++)
		;
	if (i == n)
		return 0;
	if (list_copy(&stg.ep, &cur.ep) != 0 || list_copy(&stg.eni, &cur.eni) != 0 ||
	    list_copy(&stg.tun, &cur.tun) != 0)
		goto nomem;
	for (; i < n; i++)
		if (relevant(&changes[i]) && apply(&changes[i]) != 0)
			goto nomem;
	next_state = build(err, errlen, &rc);
	if (next_state == NULL) {
		lists_free(&stg);
		if (rc == -ENOMEM)
			snprintf(err, errlen, "privatelink: out of memory");
		return rc;
	}
	staged = true;
	return 0;
nomem:
	lists_free(&stg);
	snprintf(err, errlen, "privatelink: out of memory");
	return -ENOMEM;
}

static void ctr_sum(uint32_t idx, struct ss_pl_ctr *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int w = 0; w < nb_workers; w++) {
		s->packets += ss_pl_ctr[w][idx].packets;
		s->bytes += ss_pl_ctr[w][idx].bytes;
	}
}

/* An ENI that starts using private link (perhaps at a reused index) starts
 * from 0: workers' rows are written by workers only, so through the
 * baseline. */
static void baseline_new_enis(void)
{
	for (size_t i = 0; i < stg.eni.n; i++) {
		const struct cp_eni *c = at(&stg.eni, i);
		int idx = ss_overlay_eni_index(c->name);
		bool known = false;

		for (size_t k = 0; k < cur.eni.n && !known; k++)
			known = strcmp(((const struct cp_eni *)at(&cur.eni, k))->name, c->name) == 0;
		if (!known && idx > 0 && (uint32_t)idx <= max_enis)
			ctr_sum((uint32_t)idx, &baseline[idx]);
	}
}

void ss_pl_counters(uint32_t idx, struct ss_pl_ctr *out)
{
	ctr_sum(idx, out);
	out->packets -= baseline[idx].packets;
	out->bytes -= baseline[idx].bytes;
}

void ss_pl_counters_clear(void)
{
	for (uint32_t i = 1; i <= max_enis; i++)
		ctr_sum(i, &baseline[i]);
}

void ss_pl_commit(void)
{
	if (!staged)
		return;
	baseline_new_enis();
	lists_free(&cur);
	cur = stg;
	memset(&stg, 0, sizeof(stg));
	old_state = ss_pl_published;
	__atomic_store_n(&ss_pl_published, next_state, __ATOMIC_RELEASE);
	next_state = NULL;
	staged = false;
	/* after the publish: a transform cached (flow cache, flow fast path)
	 * from a walk that read the overlay generation the overlay's commit
	 * just set, but the endpoints before this publish, is stale too; the
	 * fast path leaves pl_out out (node_pl_out.c) and relies on it */
	__atomic_fetch_add(&ss_ovl_gen, 1, __ATOMIC_RELEASE);
}

void ss_pl_abort(void)
{
	if (!staged)
		return;
	lists_free(&stg);
	state_free(next_state);
	next_state = NULL;
	staged = false;
}

void ss_pl_reclaim(void)
{
	state_free(old_state);
	old_state = NULL;
}

void ss_pl_foreach_eni(void (*fn)(void *arg, const char *name, uint32_t index), void *arg)
{
	for (size_t i = 0; i < cur.eni.n; i++) {
		const struct cp_eni *c = at(&cur.eni, i);
		int idx = ss_overlay_eni_index(c->name);

		if (idx > 0)
			fn(arg, c->name, (uint32_t)idx);
	}
}

int ss_pl_setup(uint32_t enis, unsigned int workers, char *err, size_t errlen)
{
	max_enis = enis;
	nb_workers = workers;
	baseline = calloc(enis + 1, sizeof(*baseline));
	if (baseline == NULL) {
		snprintf(err, errlen, "privatelink: cannot allocate the counters");
		return -1;
	}
	for (unsigned int w = 0; w < workers && w < SS_MAX_WORKERS; w++) {
		ss_pl_ctr[w] = rte_zmalloc("pl_ctr", sizeof(struct ss_pl_ctr) * (enis + 1),
					   RTE_CACHE_LINE_SIZE);
		if (ss_pl_ctr[w] == NULL) {
			ss_pl_teardown();
			snprintf(err, errlen, "privatelink: cannot allocate the counters");
			return -1;
		}
	}
	ss_pl_published = &empty_state;
	return 0;
}

void ss_pl_teardown(void)
{
	for (unsigned int w = 0; w < SS_MAX_WORKERS; w++) {
		rte_free(ss_pl_ctr[w]);
		ss_pl_ctr[w] = NULL;
	}
	if (ss_pl_published != &empty_state)
		state_free(ss_pl_published);
	ss_pl_published = NULL;
	free(baseline);
	baseline = NULL;
	lists_free(&cur);
	cur.ep.esz = sizeof(struct cp_ep);
	cur.eni.esz = sizeof(struct cp_eni);
	cur.tun.esz = sizeof(struct ss_tunnel_rec);
}
