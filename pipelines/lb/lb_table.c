/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's control side (lb.h): the model of the committed LBs
 * and backends with their soft state (ORCA reports, counter slots), the
 * published data-plane state built from it, and the session upkeep.
 *
 *   prepare  any change of an lb, lb.backend, lb.config, eni, vnet or
 *            flow.config: a new model from the store (reports and slots of
 *            the backends that stay carried over, slots for new ones), and
 *            its state with the Maglev tables, built aside. May fail.
 *   commit   the new model and state become current (one release store).
 *   reclaim  after the grace period: the old state and model freed; the
 *            sessions of backends deleted or set `down` removed with their
 *            conntrack flows (SPEC 3.9: the next packet picks again), then
 *            the deleted backends' slots are free for reuse.
 *   poll     (main loop) idle sessions expire with flow.config's
 *            idle_timeout_ms; every weight_update_period_ms the effective
 *            weights are recomputed and the LBs whose weights moved get new
 *            tables (a new state, the old one freed once the workers passed
 *            a quiescent state: rte_rcu_qsbr_check, never blocking).
 * Threads: control thread only.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "control/ctl.h"
#include "dataplane/worker.h"
#include "pipelines/common/arc.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_emc.h"
#include "pipelines/conntrack/ct_types.h"
#include "pipelines/lb/lb.h"
#include "pipelines/lb/lb_types.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_types.h"

/* no LB, every ENI off: published until the first commit */
static const uint8_t none_on[1];
static struct ss_lb_state lb_empty = { .n_eni = 0, .eni_on = none_on };

struct ss_lb_state *ss_lb_published = &lb_empty;
struct ss_lb_ctr *ss_lb_ctr[SS_MAX_WORKERS];

struct mbe {
	char ip[SS_REC_NAME];          /* canonical text: the Maglev name */
	uint8_t addr[16];
	uint32_t weight;
	uint8_t state;                 /* enum ss_lb_bstate */
	uint32_t slot;
	struct ss_lb_orca orca;
	double eff;                    /* effective weight of the current table */
	uint32_t entries;
};

struct mlb {
	struct ss_lb_rec rec;
	int vnet;
	uint32_t nb, cap;
	struct mbe *be;
};

struct model {
	uint32_t n, cap;
	struct mlb *lb;
	uint8_t *eni_on;
	int *eni_vnet;                 /* [ENI index]: its VNET's index (when eni_on) */
};

struct retired {
	struct ss_lb_state *st;
	uint64_t token;
};

static struct {
	uint32_t n_eni;
	unsigned int nb_workers;
	struct model *cur, *pending, *old;
	struct ss_lb_state *pstate, *ostate;
	struct ss_lb_config_rec conf, pconf;
	uint64_t idle_ms, pidle_ms;
	uint8_t slot_used[SS_LB_SLOTS];
	uint8_t purge[SS_LB_SLOTS];    /* sessions to remove at the next reclaim */
	uint32_t *palloc, npalloc;     /* slots prepare took (abort gives them back) */
	uint32_t *dying, ndying;       /* slots of deleted backends (freed at reclaim) */
	uint32_t *pdying, npdying;
	struct ss_lb_ctr base[SS_LB_SLOTS];   /* stats.clear and slot reuse */
	struct retired ret[8];
	unsigned int nret;
	uint64_t next_weights, next_sweep;
	bool sessions;                 /* the session tables exist */
} g;

static uint64_t now_ms(void)
{
	return rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
}

/* ---- model -------------------------------------------------------------------------- */

static void model_free(struct model *m)
{
	if (m == NULL)
		return;
	for (uint32_t i = 0; i < m->n; i++)
		free(m->lb[i].be);
	free(m->lb);
	free(m->eni_on);
	free(m->eni_vnet);
	free(m);
}

static struct mlb *model_lb(struct model *m, const char *name)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (strcmp(m->lb[i].rec.name, name) == 0)
			return &m->lb[i];
	return NULL;
}

static struct mbe *model_be(struct model *m, const char *lb, const char *ip)
{
	struct mlb *l = m != NULL ? model_lb(m, lb) : NULL;

	for (uint32_t i = 0; l != NULL && i < l->nb; i++)
		if (strcmp(l->be[i].ip, ip) == 0)
			return &l->be[i];
	return NULL;
}

static int add_lb(void *arg, const void *rec)
{
	struct model *m = arg;
	const struct ss_lb_rec *r = rec;

	if (m->n == m->cap) {
		uint32_t cap = m->cap ? 2 * m->cap : 8;
		struct mlb *v = realloc(m->lb, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		m->lb = v;
		m->cap = cap;
	}
	memset(&m->lb[m->n], 0, sizeof(m->lb[0]));
	m->lb[m->n].rec = *r;
	m->lb[m->n].vnet = ss_overlay_vnet_index(r->vnet);
	m->n++;
	return 0;
}

static int ip_text(const struct ss_rec_ip *ip, char *out, size_t len)
{
	return inet_ntop(ip->family, ip->bytes, out, (socklen_t)len) != NULL ? 0 : -EINVAL;
}

static int slot_take(uint32_t *slot)
{
	for (uint32_t s = 0; s < SS_LB_SLOTS; s++)
		if (!g.slot_used[s]) {
			uint32_t *v = realloc(g.palloc, (g.npalloc + 1) * sizeof(*v));

			if (v == NULL)
				return -ENOMEM;
			g.palloc = v;
			g.palloc[g.npalloc++] = s;
			g.slot_used[s] = 1;
			/* a new backend's counters start at 0: the slot's previous
			 * owner counts no more (its sessions were removed and a
			 * grace period passed before the slot was freed) */
			memset(&g.base[s], 0, sizeof(g.base[s]));
			for (unsigned int w = 0; w < g.nb_workers; w++) {
				g.base[s].connections += ss_lb_ctr[w][s].connections;
				g.base[s].packets += ss_lb_ctr[w][s].packets;
				g.base[s].bytes += ss_lb_ctr[w][s].bytes;
			}
			*slot = s;
			return 0;
		}
	return -ENOSPC;
}

static int add_backend(void *arg, const void *rec)
{
	struct model *m = arg;
	const struct ss_lb_backend_rec *r = rec;
	struct mlb *l = model_lb(m, r->lb);
	const struct mbe *prev;
	struct mbe *b;

	if (l == NULL)
		return 0;   /* cannot be: the reference is checked */
	if (l->nb == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 8;
		struct mbe *v = realloc(l->be, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->be = v;
		l->cap = cap;
	}
	b = &l->be[l->nb];
	memset(b, 0, sizeof(*b));
	if (ip_text(&r->ip, b->ip, sizeof(b->ip)) != 0)
		return -EINVAL;
	memcpy(b->addr, r->ip.bytes, 16);
	b->weight = r->weight;
	b->state = r->state;
	prev = model_be(g.cur, r->lb, b->ip);
	if (prev != NULL) {
		b->slot = prev->slot;
		b->orca = prev->orca;
	} else {
		int rc = slot_take(&b->slot);

		if (rc != 0)
			return rc;
		ss_lb_orca_init(&b->orca);
	}
	l->nb++;
	return 0;
}

static int eni_on(void *arg, const void *rec)
{
	struct model *m = arg;
	const struct ss_eni_rec *e = rec;
	int idx = ss_overlay_eni_index(e->name);

	if (idx <= 0 || (uint32_t)idx >= g.n_eni)
		return 0;
	for (uint32_t i = 0; i < m->n; i++)
		if (strcmp(m->lb[i].rec.vnet, e->vnet) == 0) {
			m->eni_on[idx] = 1;
			m->eni_vnet[idx] = m->lb[i].vnet;
			break;
		}
	return 0;
}

/* ---- weights and state -------------------------------------------------------------- */

static struct ss_lb_orca_conf orca_conf(const struct ss_lb_config_rec *c)
{
	struct ss_lb_orca_conf o = {
		.error_utilization_penalty = c->error_utilization_penalty,
		.blackout_period_ms = c->blackout_period_ms,
		.weight_expiration_ms = c->weight_expiration_ms,
	};

	return o;
}

/* Effective weights of l's backends at `now` into out[] (l->nb entries). */
static int weights(struct mlb *l, const struct ss_lb_config_rec *c, uint64_t now, double *out)
{
	struct ss_lb_orca_conf oc = orca_conf(c);
	double *rep = malloc((l->nb + 1) * 2 * sizeof(double)), *cfg;

	if (rep == NULL)
		return -ENOMEM;
	cfg = rep + l->nb + 1;
	for (uint32_t i = 0; i < l->nb; i++) {
		rep[i] = ss_lb_orca_weight(&l->be[i].orca, &oc, now);
		cfg[i] = l->be[i].weight;
	}
	ss_lb_effective_weights(l->nb, rep, cfg, out);
	free(rep);
	return 0;
}

static void state_free(struct ss_lb_state *st)
{
	if (st == NULL || st == &lb_empty)
		return;
	for (uint32_t i = 0; i < st->n_lb; i++) {
		rte_free((void *)(uintptr_t)st->lb[i].table);
		rte_free((void *)(uintptr_t)st->lb[i].be);
	}
	rte_free((void *)(uintptr_t)st->lb);
	rte_free((void *)(uintptr_t)st->eni_on);
	rte_free(st);
}

/* One LB's data-plane entry, its table built from eff[] (active backends
 * only); the entry counts go back into the model. */
static int vip_build(struct ss_lb_vip *v, struct mlb *l, const double *eff)
{
	const char **names = calloc(l->nb + 1, sizeof(*names));
	double *w = calloc(l->nb + 1, sizeof(*w));
	uint32_t *cnt = calloc(l->nb + 1, sizeof(*cnt));
	struct ss_lb_be *be = rte_zmalloc("ss_lb_be", (l->nb + 1) * sizeof(*be), 0);
	uint16_t *t = NULL;
	bool any = false;
	int rc = -ENOMEM;

	if (names == NULL || w == NULL || cnt == NULL || be == NULL)
		goto out;
	v->vnet = (uint16_t)(l->vnet > 0 ? l->vnet : 0);
	v->fam = l->rec.vip.family == AF_INET6 ? 6 : 4;
	v->proto = l->rec.protocol == SS_LB_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	v->port = l->rec.port;
	v->backend_port = l->rec.backend_port ? l->rec.backend_port : l->rec.port;
	memcpy(v->vip, l->rec.vip.bytes, 16);
	v->m = l->rec.table_size;
	for (uint32_t i = 0; i < l->nb; i++) {
		memcpy(be[i].ip, l->be[i].addr, 16);
		be[i].slot = l->be[i].slot;
		names[i] = l->be[i].ip;
		w[i] = l->be[i].state == SS_LB_ACTIVE ? eff[i] : 0;
		any |= w[i] > 0;
		l->be[i].eff = eff[i];
		l->be[i].entries = 0;
	}
	if (any) {
		t = rte_malloc("ss_lb_table", (size_t)v->m * sizeof(*t), RTE_CACHE_LINE_SIZE);
		if (t == NULL)
			goto out;
		rc = ss_lb_maglev_build(t, v->m, names, w, l->nb, cnt);
		if (rc != 0) {
			rte_free(t);
			goto out;
		}
		for (uint32_t i = 0; i < l->nb; i++)
			l->be[i].entries = cnt[i];
	}
	v->table = t;
	v->nb = l->nb;
	v->be = be;
	be = NULL;
	rc = 0;
out:
	rte_free(be);
	free(names);
	free(w);
	free(cnt);
	return rc;
}

/* The data-plane state of model m with the effective weights at `now`. */
static struct ss_lb_state *state_build(struct model *m, const struct ss_lb_config_rec *c,
				       uint64_t now)
{
	struct ss_lb_state *st = rte_zmalloc("ss_lb_state", sizeof(*st), 0);
	struct ss_lb_vip *vips = rte_zmalloc("ss_lb_vips", (m->n + 1) * sizeof(*vips), 0);
	uint8_t *on = rte_zmalloc("ss_lb_eni_on", g.n_eni, 0);

	if (st == NULL || vips == NULL || on == NULL) {
		rte_free(st);
		rte_free(vips);
		rte_free(on);
		return NULL;
	}
	memcpy(on, m->eni_on, g.n_eni);
	st->n_eni = g.n_eni;
	st->eni_on = on;
	st->lb = vips;
	for (uint32_t i = 0; i < m->n; i++) {
		double *eff = calloc(m->lb[i].nb + 1, sizeof(*eff));

		if (eff == NULL || weights(&m->lb[i], c, now, eff) != 0 ||
		    vip_build(&vips[i], &m->lb[i], eff) != 0) {
			free(eff);
			state_free(st);
			return NULL;
		}
		free(eff);
		st->n_lb = i + 1;
	}
	return st;
}

/* ---- table hooks -------------------------------------------------------------------- */

static bool consumes(const struct ss_change *c)
{
	return c->ty == &ss_type_lb || c->ty == &ss_type_lb_backend ||
	       c->ty == &ss_type_lb_config || c->ty == &ss_type_eni || c->ty == &ss_type_vnet ||
	       c->ty == &ss_type_flow_config;
}

void ss_lb_abort(void)
{
	for (uint32_t i = 0; i < g.npalloc; i++)
		g.slot_used[g.palloc[i]] = 0;
	g.npalloc = 0;
	g.npdying = 0;
	model_free(g.pending);
	g.pending = NULL;
	state_free(g.pstate);
	g.pstate = NULL;
}

static int note_dying(uint32_t slot)
{
	uint32_t *v = realloc(g.pdying, (g.npdying + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	g.pdying = v;
	g.pdying[g.npdying++] = slot;
	return 0;
}

int ss_lb_prepare(struct ss_ctl *ctl, const struct ss_change *changes, size_t n, char *err,
		  size_t errlen)
{
	const struct ss_lb_config_rec *c;
	const struct ss_flow_config_rec *f;
	struct model *m;
	size_t i;
	int rc;

	ss_lb_abort();
	for (i = 0; i < n && !consumes(&changes[i]); i++)
		;
	if (i == n && g.cur != NULL)
		return 0;
	c = ss_ctl_store_rec(ctl, &ss_type_lb_config, "");
	f = ss_ctl_store_rec(ctl, &ss_type_flow_config, "");
	m = calloc(1, sizeof(*m));
	if (c == NULL || f == NULL || m == NULL || (m->eni_on = calloc(g.n_eni, 1)) == NULL ||
	    (m->eni_vnet = calloc(g.n_eni, sizeof(int))) == NULL) {
		model_free(m);
		snprintf(err, errlen, "lb: out of memory");
		return -ENOMEM;
	}
	g.pending = m;
	g.pconf = *c;
	g.pidle_ms = f->idle_timeout_ms;
	rc = ss_ctl_store_foreach_rec(ctl, &ss_type_lb, add_lb, m);
	if (rc == 0)
		rc = ss_ctl_store_foreach_rec(ctl, &ss_type_lb_backend, add_backend, m);
	if (rc == 0 && m->n > 0)
		rc = ss_ctl_store_foreach_rec(ctl, &ss_type_eni, eni_on, m);
	/* the session tables (tens of MB) exist once there is an LB; no worker
	 * reads them before a state with an LB is published */
	if (rc == 0 && m->n > 0 && !g.sessions) {
		rc = ss_lb_sess_setup(SS_LB_SESSIONS, ss_qsbr);
		if (rc != 0) {
			snprintf(err, errlen, "lb: cannot create the session tables (%u sessions): %s",
				 SS_LB_SESSIONS, strerror(-rc));
			ss_lb_abort();
			return rc;
		}
		g.sessions = true;
	}
	/* backends that go: their sessions and then their slots */
	for (uint32_t a = 0; rc == 0 && g.cur != NULL && a < g.cur->n; a++)
		for (uint32_t b = 0; rc == 0 && b < g.cur->lb[a].nb; b++)
			if (model_be(m, g.cur->lb[a].rec.name, g.cur->lb[a].be[b].ip) == NULL)
				rc = note_dying(g.cur->lb[a].be[b].slot);
	if (rc == 0) {
		g.pstate = state_build(m, &g.pconf, now_ms());
		if (g.pstate == NULL)
			rc = -ENOMEM;
	}
	if (rc != 0) {
		if (rc == -ENOSPC)
			snprintf(err, errlen, "lb: more than %d backends in all LBs", (int)SS_LB_SLOTS);
		else
			snprintf(err, errlen, "lb: cannot build the tables: %s", strerror(-rc));
		ss_lb_abort();
		return rc;
	}
	return 0;
}

void ss_lb_commit(void)
{
	if (g.pending == NULL)
		return;
	/* sessions of backends set down or gone are removed at reclaim */
	for (uint32_t a = 0; a < g.pending->n; a++)
		for (uint32_t b = 0; b < g.pending->lb[a].nb; b++) {
			const struct mbe *be = &g.pending->lb[a].be[b];
			const struct mbe *prev = model_be(g.cur, g.pending->lb[a].rec.name, be->ip);

			if (be->state == SS_LB_DOWN && (prev == NULL || prev->state != SS_LB_DOWN))
				g.purge[be->slot] = 1;
		}
	for (uint32_t i = 0; i < g.npdying; i++)
		g.purge[g.pdying[i]] = 1;
	{
		uint32_t *t = g.dying;

		g.dying = g.pdying;
		g.ndying = g.npdying;
		g.pdying = t;
		g.npdying = 0;
	}
	g.npalloc = 0;
	g.old = g.cur;
	g.cur = g.pending;
	g.pending = NULL;
	g.conf = g.pconf;
	g.idle_ms = g.pidle_ms;
	g.ostate = ss_lb_published;
	__atomic_store_n(&ss_lb_published, g.pstate, __ATOMIC_RELEASE);
	ss_arc_fast_skip_changed();   /* lb_*_fast_skip read eni_on (a weights-only
				       * rebuild keeps it, and does not call this) */
	g.pstate = NULL;
	g.next_weights = now_ms() + g.conf.weight_update_period_ms;
}

struct sweep_arg {
	uint64_t idle_ticks;
	struct ss_ct *ct;
	uint32_t flushed;
};

static bool sweep_drop(void *arg, const struct ss_lb_sess *s, uint64_t idle)
{
	const struct sweep_arg *a = arg;

	return g.purge[s->slot] || idle > a->idle_ticks;
}

/* A session removed because its backend went down or away: its conntrack
 * flow goes too (SPEC 3.9), so the connection's next packet is a new one. */
static void sweep_removed(void *arg, const struct ss_lb_skey *k, const struct ss_lb_sess *s)
{
	struct sweep_arg *a = arg;
	struct ss_ct_key ck;

	if (!g.purge[s->slot] || a->ct == NULL)
		return;
	ss_ct_key_make(&ck, k->eni, k->proto, k->fam == 6, k->src, k->dst, k->sport, k->dport);
	if (ss_ct_remove_key(a->ct, &ck, g.nb_workers))
		a->flushed++;
}

static void sweep(uint32_t budget)
{
	struct sweep_arg a = {
		.idle_ticks = g.idle_ms * (rte_get_tsc_hz() / 1000),
		.ct = ss_ct_current(),
	};

	ss_lb_sess_sweep(rte_get_tsc_cycles(), budget, sweep_drop, sweep_removed, &a);
}

/* ---- HA sync of sessions ----------------------------------------------------------- */

/* The published LB index of k's LB (the committed model and the published
 * state list the LBs in the same order), -1 if none. */
static int sess_lb(const struct ss_lb_skey *k)
{
	const struct ss_lb_state *st = ss_lb_state_get();
	const struct ss_lb_vip *v;

	if (!g.sessions || g.cur == NULL || st->n_lb != g.cur->n || k->eni >= g.n_eni ||
	    !g.cur->eni_on[k->eni])
		return -1;
	v = ss_lb_find(st, (uint16_t)g.cur->eni_vnet[k->eni], k->fam, k->dst, k->proto,
		       k->dport);
	return v != NULL ? (int)(v - st->lb) : -1;
}

const char *ss_lb_sess_lb_name(const struct ss_lb_skey *k)
{
	int i = sess_lb(k);

	return i >= 0 ? g.cur->lb[i].rec.name : NULL;
}

int ss_lb_sess_import(const char *lb, const struct ss_lb_skey *k, const uint8_t *bip)
{
	const struct ss_lb_state *st = ss_lb_state_get();
	int i = sess_lb(k);
	const struct ss_lb_vip *v;
	const struct ss_lb_sess *s;
	bool opened;

	if (i < 0 || strcmp(g.cur->lb[i].rec.name, lb) != 0)
		return -ENOENT;
	v = &st->lb[i];
	for (uint32_t b = 0; b < v->nb; b++) {
		if (memcmp(v->be[b].ip, bip, 16) != 0)
			continue;
		/* twice: a worker may open its own pick between the removal
		 * and the open (a packet of the synced flow) */
		for (int tries = 0; tries < 2; tries++) {
			s = ss_lb_sess_find(k);
			if (s != NULL && memcmp(s->bip, bip, 16) == 0) {
				ss_lb_sess_touch(s, rte_get_tsc_cycles());
				return 0;
			}
			/* the active's backend wins over this switch's own pick */
			if (s != NULL)
				ss_lb_sess_remove(k);
			s = ss_lb_sess_open(k, v, &v->be[b], rte_get_tsc_cycles(), &opened);
			if (s == NULL)
				return ss_lb_sess_count() >= SS_LB_SESSIONS ? -ENOSPC : -EBUSY;
			if (memcmp(s->bip, bip, 16) == 0)
				return 0;
		}
		return -EBUSY;
	}
	return -ESRCH;
}

void ss_lb_reclaim(void)
{
	bool purge = false;

	state_free(g.ostate);
	g.ostate = NULL;
	model_free(g.old);
	g.old = NULL;
	for (uint32_t s = 0; s < SS_LB_SLOTS && !purge; s++)
		purge = g.purge[s];
	if (!purge)
		return;
	/* every worker now uses the new state: no new session toward these
	 * backends can appear, so one pass removes them all */
	sweep(UINT32_MAX);
	memset(g.purge, 0, sizeof(g.purge));
	for (uint32_t i = 0; i < g.ndying; i++)
		g.slot_used[g.dying[i]] = 0;
	g.ndying = 0;
}

/* ---- the main loop's turn ----------------------------------------------------------- */

static void retire_poll(void)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < g.nret; i++) {
		if (ss_qsbr == NULL || rte_rcu_qsbr_check(ss_qsbr, g.ret[i].token, false) == 1)
			state_free(g.ret[i].st);
		else
			g.ret[k++] = g.ret[i];
	}
	g.nret = k;
}

/* New tables for LBs whose effective weights moved. */
static void weights_poll(uint64_t now)
{
	bool moved = false;
	struct ss_lb_state *st, *old;

	for (uint32_t i = 0; i < g.cur->n && !moved; i++) {
		struct mlb *l = &g.cur->lb[i];
		double *eff = calloc(l->nb + 1, sizeof(*eff));

		if (eff == NULL || weights(l, &g.conf, now, eff) != 0) {
			free(eff);
			return;   /* out of memory: the next turn tries again */
		}
		for (uint32_t b = 0; b < l->nb; b++)
			if (fabs(eff[b] - l->be[b].eff) > 1e-9 * (eff[b] + l->be[b].eff))
				moved = true;
		free(eff);
	}
	if (!moved || g.nret == sizeof(g.ret) / sizeof(g.ret[0]))
		return;
	st = state_build(g.cur, &g.conf, now);
	if (st == NULL)
		return;
	old = ss_lb_published;
	__atomic_store_n(&ss_lb_published, st, __ATOMIC_RELEASE);
	g.ret[g.nret].st = old;
	g.ret[g.nret].token = ss_qsbr != NULL ? rte_rcu_qsbr_start(ss_qsbr) : 0;
	g.nret++;
}

void ss_lb_poll(void)
{
	uint64_t now = now_ms();

	retire_poll();
	if (g.cur == NULL)
		return;
	if (now >= g.next_sweep) {
		/* the whole table about every 10 s */
		sweep(SS_LB_SESSIONS / 100 + 1);
		g.next_sweep = now + 100;
	}
	if (g.cur->n > 0 && now >= g.next_weights) {
		weights_poll(now);
		g.next_weights = now + g.conf.weight_update_period_ms;
	}
}

uint64_t ss_lb_poll_in_us(void)
{
	uint64_t now = now_ms(), next;

	if (g.cur == NULL || g.cur->n == 0)
		return g.nret ? 1000 : UINT64_MAX;
	next = g.next_weights < g.next_sweep ? g.next_weights : g.next_sweep;
	return next > now ? (next - now) * 1000 : 0;
}

/* ---- reports, lists, stats ------------------------------------------------------------ */

int ss_lb_report(const char *lb, const char *ip, double rps, double eps, double cpu, double app,
		 bool *used, char *err, size_t errlen)
{
	struct ss_lb_orca_conf oc = orca_conf(&g.conf);
	struct mbe *b = model_be(g.cur, lb, ip);

	if (b == NULL) {
		if (g.cur == NULL || model_lb(g.cur, lb) == NULL)
			snprintf(err, errlen, "lb %s not found", lb);
		else
			snprintf(err, errlen, "lb %s has no backend %s", lb, ip);
		return -ENOENT;
	}
	*used = ss_lb_orca_report(&b->orca, &oc, now_ms(), rps, eps, cpu, app);
	return 0;
}

static void counters(uint32_t slot, struct ss_lb_ctr *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int w = 0; w < g.nb_workers; w++) {
		out->connections += ss_lb_ctr[w][slot].connections;
		out->packets += ss_lb_ctr[w][slot].packets;
		out->bytes += ss_lb_ctr[w][slot].bytes;
	}
	out->connections -= g.base[slot].connections;
	out->packets -= g.base[slot].packets;
	out->bytes -= g.base[slot].bytes;
}

bool ss_lb_backend_runtime(const char *lb, const char *ip, json_t *out)
{
	const struct mbe *b = model_be(g.cur, lb, ip);
	struct ss_lb_ctr c;
	uint64_t now = now_ms();

	if (b == NULL)
		return false;
	counters(b->slot, &c);
	json_object_set_new(out, "effective_weight", json_real(b->eff));
	json_object_set_new(out, "entries", json_integer(b->entries));
	json_object_set_new(out, "connections", json_integer((json_int_t)c.connections));
	json_object_set_new(out, "packets", json_integer((json_int_t)c.packets));
	json_object_set_new(out, "bytes", json_integer((json_int_t)c.bytes));
	json_object_set_new(out, "last_report_age_ms",
			    b->orca.last_update ? json_integer((json_int_t)(now - b->orca.last_update))
						: json_null());
	return true;
}

void ss_lb_findings(json_t *findings)
{
	for (uint32_t i = 0; g.cur != NULL && i < g.cur->n; i++) {
		const struct mlb *l = &g.cur->lb[i];
		uint32_t active = 0, draining = 0;
		char msg[256], obj[SS_REC_NAME + 4];

		for (uint32_t b = 0; b < l->nb; b++) {
			active += l->be[b].state == SS_LB_ACTIVE;
			draining += l->be[b].state == SS_LB_DRAINING;
		}
		if (active > 0)
			continue;
		snprintf(obj, sizeof(obj), "lb %s", l->rec.name);
		snprintf(msg, sizeof(msg), "lb %s has no active backend (%u backends, %u draining): "
			 "new connections to its VIP are dropped (lb_no_backend)", l->rec.name, l->nb,
			 draining);
		json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "finding",
							  "lb_no_backend", "object", obj, "message",
							  msg));
	}
}

json_t *ss_lb_stats(void)
{
	json_t *res = json_object();

	for (uint32_t i = 0; res != NULL && g.cur != NULL && i < g.cur->n; i++) {
		const struct mlb *l = &g.cur->lb[i];
		json_t *o = json_object();

		for (uint32_t b = 0; o != NULL && b < l->nb; b++) {
			struct ss_lb_ctr c;

			counters(l->be[b].slot, &c);
			json_object_set_new(o, l->be[b].ip,
					    json_pack("{sIsIsI}", "connections",
						      (json_int_t)c.connections, "packets",
						      (json_int_t)c.packets, "bytes",
						      (json_int_t)c.bytes));
		}
		json_object_set_new(res, l->rec.name, o);
	}
	return res;
}

void ss_lb_stats_clear(void)
{
	for (uint32_t s = 0; s < SS_LB_SLOTS; s++) {
		struct ss_lb_ctr c;

		memset(&c, 0, sizeof(c));
		for (unsigned int w = 0; w < g.nb_workers; w++) {
			c.connections += ss_lb_ctr[w][s].connections;
			c.packets += ss_lb_ctr[w][s].packets;
			c.bytes += ss_lb_ctr[w][s].bytes;
		}
		g.base[s] = c;
	}
}

/* ---- setup ---------------------------------------------------------------------------- */

int ss_lb_setup(uint32_t max_enis, unsigned int nb_workers, char *err, size_t errlen)
{
	memset(&g, 0, sizeof(g));
	g.n_eni = max_enis + 1;
	g.nb_workers = nb_workers;
	for (unsigned int w = 0; w < nb_workers; w++) {
		ss_lb_ctr[w] = rte_zmalloc("ss_lb_ctr", SS_LB_SLOTS * sizeof(struct ss_lb_ctr),
					   RTE_CACHE_LINE_SIZE);
		if (ss_lb_ctr[w] == NULL) {
			ss_lb_teardown();
			snprintf(err, errlen, "lb: cannot allocate the counters");
			return -ENOMEM;
		}
	}
	ss_lb_published = &lb_empty;
	return 0;
}

void ss_lb_teardown(void)
{
	ss_lb_abort();
	state_free(ss_lb_published);
	ss_lb_published = &lb_empty;
	state_free(g.ostate);
	for (unsigned int i = 0; i < g.nret; i++)
		state_free(g.ret[i].st);
	model_free(g.cur);
	model_free(g.old);
	free(g.palloc);
	free(g.dying);
	free(g.pdying);
	if (g.sessions)
		ss_lb_sess_teardown();
	for (unsigned int w = 0; w < SS_MAX_WORKERS; w++) {
		rte_free(ss_lb_ctr[w]);
		ss_lb_ctr[w] = NULL;
	}
	memset(&g, 0, sizeof(g));
}
