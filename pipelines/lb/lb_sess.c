/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's sessions: connection -> backend, and the reverse
 * (lb.h, "Concurrency rules" 2; docs/lb.md, "Affinity").
 */
#include <errno.h>
#include <stdio.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring_elem.h>

#include "pipelines/lb/lb.h"

static struct {
	struct rte_hash *fwd, *rev;
	struct ss_lb_sess *sess;       /* by fwd position */
	int32_t *rev_fwd;              /* by rev position: the fwd position */
	uint32_t nb_pos, nb_rpos;
	struct rte_rcu_qsbr_dq *dq;
	uint32_t cursor;               /* sweep */
} g;

static struct ss_lb_sync *sync_hook;   /* ctlplane: rw, dataplane: ro */

void ss_lb_sync_set(struct ss_lb_sync *s)
{
	__atomic_store_n(&sync_hook, s, __ATOMIC_RELEASE);
}

static void sync_note(uint8_t type, const struct ss_lb_skey *k, const uint8_t *bip, uint64_t tsc)
{
	struct ss_lb_sync *s = __atomic_load_n(&sync_hook, __ATOMIC_ACQUIRE);
	struct ss_lb_event ev;

	if (likely(s == NULL))
		return;
	memcpy(&ev.key, k, sizeof(ev.key));
	memcpy(ev.bip, bip, 16);
	ev.tsc = tsc;
	ev.type = type;
	memset(ev.pad, 0, sizeof(ev.pad));
	if (rte_ring_mp_enqueue_elem(s->ring, &ev, sizeof(ev)) != 0)
		__atomic_fetch_add(&s->dropped, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&s->enqueued, 1, __ATOMIC_RELAXED);
}

/* Positions whose keys were deleted, handed back after a grace period. */
struct held {
	int32_t pos, rpos;
};

static void release(const struct held *h)
{
	/* FREE before the position goes back: the next opener CASes FREE -> INIT */
	__atomic_store_n(&g.sess[h->pos].state, SS_LB_S_FREE, __ATOMIC_RELEASE);
	rte_hash_free_key_with_position(g.fwd, h->pos);
	if (h->rpos >= 0)
		rte_hash_free_key_with_position(g.rev, h->rpos);
}

static void dq_free(void *p, void *e, unsigned int n)
{
	const struct held *h = e;

	(void)p;
	for (unsigned int i = 0; i < n; i++)
		release(&h[i]);
}

static struct rte_hash *hash_new(const char *name, uint32_t entries)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries,
		.key_len = sizeof(struct ss_lb_skey),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD,
	};

	return rte_hash_create(&hp);
}

int ss_lb_sess_setup(uint32_t capacity, struct rte_rcu_qsbr *qsbr)
{
	memset(&g, 0, sizeof(g));
	g.fwd = hash_new("ss_lb_fwd", capacity);
	g.rev = hash_new("ss_lb_rev", capacity);
	if (g.fwd == NULL || g.rev == NULL)
		goto fail;
	g.nb_pos = (uint32_t)rte_hash_max_key_id(g.fwd) + 1;
	g.nb_rpos = (uint32_t)rte_hash_max_key_id(g.rev) + 1;
	g.sess = rte_zmalloc("ss_lb_sess", (size_t)g.nb_pos * sizeof(*g.sess), RTE_CACHE_LINE_SIZE);
	g.rev_fwd = rte_zmalloc("ss_lb_rev_fwd", (size_t)g.nb_rpos * sizeof(*g.rev_fwd), 0);
	if (g.sess == NULL || g.rev_fwd == NULL)
		goto fail;
	if (qsbr != NULL) {
		char name[RTE_RCU_QSBR_DQ_NAMESIZE];
		struct rte_rcu_qsbr_dq_parameters dp = {
			.name = name,
			.flags = 0,
			.size = g.nb_pos,          /* a position is queued at most once */
			.esize = sizeof(struct held),
			.trigger_reclaim_limit = 64,
			.max_reclaim_size = 64,
			.free_fn = dq_free,
			.v = qsbr,
		};

		snprintf(name, sizeof(name), "ss_lb_dq");
		g.dq = rte_rcu_qsbr_dq_create(&dp);
		if (g.dq == NULL)
			goto fail;
	}
	return 0;
fail:
	ss_lb_sess_teardown();
	return -ENOMEM;
}

void ss_lb_sess_teardown(void)
{
	if (g.dq != NULL) {
		/* the workers are stopped: everything is reclaimable */
		rte_rcu_qsbr_dq_reclaim(g.dq, UINT32_MAX, NULL, NULL, NULL);
		rte_rcu_qsbr_dq_delete(g.dq);
	}
	rte_hash_free(g.fwd);
	rte_hash_free(g.rev);
	rte_free(g.sess);
	rte_free(g.rev_fwd);
	memset(&g, 0, sizeof(g));
}

static const struct ss_lb_sess *live_at(int32_t pos)
{
	const struct ss_lb_sess *s;

	if (pos < 0)
		return NULL;
	s = &g.sess[pos];
	return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SS_LB_S_LIVE ? s : NULL;
}

const struct ss_lb_sess *ss_lb_sess_find(const struct ss_lb_skey *k)
{
	return live_at(rte_hash_lookup(g.fwd, k));
}

void ss_lb_sess_find_bulk(const void **keys, uint32_t n, const struct ss_lb_sess **out)
{
	int32_t pos[RTE_HASH_LOOKUP_BULK_MAX];

	for (uint32_t done = 0; done < n;) {
		uint32_t k = n - done < RTE_HASH_LOOKUP_BULK_MAX ? n - done : RTE_HASH_LOOKUP_BULK_MAX;

		rte_hash_lookup_bulk(g.fwd, keys + done, k, pos);
		for (uint32_t i = 0; i < k; i++)
			out[done + i] = live_at(pos[i]);
		done += k;
	}
}

const struct ss_lb_sess *ss_lb_sess_find_rev(const struct ss_lb_skey *k)
{
	int32_t rpos = rte_hash_lookup(g.rev, k);

	if (rpos < 0)
		return NULL;
	return live_at(__atomic_load_n(&g.rev_fwd[rpos], __ATOMIC_ACQUIRE));
}

static void rev_key(struct ss_lb_skey *r, const struct ss_lb_skey *k, const struct ss_lb_vip *v,
		    const struct ss_lb_be *be)
{
	memset(r, 0, sizeof(*r));
	r->eni = k->eni;
	r->proto = k->proto;
	r->fam = k->fam;
	r->rev = 1;
	r->sport = v->backend_port;
	r->dport = k->sport;
	memcpy(r->src, be->ip, 16);
	memcpy(r->dst, k->src, 16);
}

const struct ss_lb_sess *ss_lb_sess_open(const struct ss_lb_skey *k, const struct ss_lb_vip *v,
					  const struct ss_lb_be *be, uint64_t tsc, bool *opened)
{
	int32_t pos = rte_hash_add_key(g.fwd, k), rpos;
	struct ss_lb_sess *s;
	struct ss_lb_skey r;
	uint8_t exp = SS_LB_S_FREE;

	*opened = false;
	if (pos < 0)
		return NULL;
	s = &g.sess[pos];
	if (!__atomic_compare_exchange_n(&s->state, &exp, SS_LB_S_INIT, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return exp == SS_LB_S_LIVE ? s : NULL;
	s->fam = k->fam;
	s->vport = k->dport;
	s->bport = v->backend_port;
	s->slot = be->slot;
	memcpy(s->vip, k->dst, 16);
	memcpy(s->bip, be->ip, 16);
	s->last_seen = tsc;
	rev_key(&r, k, v, be);
	rpos = rte_hash_add_key(g.rev, &r);
	if (rpos >= 0)
		__atomic_store_n(&g.rev_fwd[rpos], pos, __ATOMIC_RELEASE);
	s->rpos = rpos >= 0 ? rpos : -1;
	__atomic_store_n(&s->state, SS_LB_S_LIVE, __ATOMIC_RELEASE);
	*opened = true;
	sync_note(SS_LB_EV_OPEN, k, be->ip, rte_rdtsc());
	return s;
}

/* The keys of the DEAD session at pos deleted (the removal noted to the
 * HA hook), its positions handed back after a grace period. */
static void unlink_dead(uint32_t pos)
{
	struct ss_lb_sess *s = &g.sess[pos];
	struct held h = { (int32_t)pos, -1 };
	void *kp;

	if (rte_hash_get_key_with_position(g.fwd, (int32_t)pos, &kp) == 0) {
		sync_note(SS_LB_EV_REMOVE, kp, s->bip, rte_rdtsc());
		rte_hash_del_key(g.fwd, kp);
	}
	if (s->rpos >= 0 && rte_hash_get_key_with_position(g.rev, s->rpos, &kp) == 0) {
		rte_hash_del_key(g.rev, kp);
		h.rpos = s->rpos;
	}
	if (g.dq == NULL)
		release(&h);     /* no concurrent reader (tests) */
	else
		/* cannot fail: room for every position, each queued once */
		rte_rcu_qsbr_dq_enqueue(g.dq, &h);
}

int ss_lb_sess_remove(const struct ss_lb_skey *k)
{
	int32_t pos = g.fwd != NULL ? rte_hash_lookup(g.fwd, k) : -ENOENT;
	uint8_t exp = SS_LB_S_LIVE;

	if (pos < 0 || !__atomic_compare_exchange_n(&g.sess[pos].state, &exp, SS_LB_S_DEAD, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return -ENOENT;
	unlink_dead((uint32_t)pos);
	return 0;
}

static bool drop_all(void *arg, const struct ss_lb_sess *s, uint64_t idle)
{
	(void)arg;
	(void)s;
	(void)idle;
	return true;
}

uint32_t ss_lb_sess_flush(void)
{
	return ss_lb_sess_sweep(0, UINT32_MAX, drop_all, NULL, NULL);
}

uint32_t ss_lb_sess_sweep(uint64_t now, uint32_t budget,
			  bool (*drop)(void *arg, const struct ss_lb_sess *s, uint64_t idle),
			  void (*on_removed)(void *arg, const struct ss_lb_skey *k,
					     const struct ss_lb_sess *s),
			  void *arg)
{
	uint32_t removed = 0;

	if (g.sess == NULL)
		return 0;
	if (budget > g.nb_pos)
		budget = g.nb_pos;
	for (uint32_t i = 0; i < budget; i++) {
		uint32_t pos = g.cursor;
		struct ss_lb_sess *s = &g.sess[pos];
		uint64_t seen = __atomic_load_n(&s->last_seen, __ATOMIC_RELAXED);
		uint8_t exp = SS_LB_S_LIVE;
		void *kp;

		g.cursor = pos + 1 == g.nb_pos ? 0 : pos + 1;
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SS_LB_S_LIVE)
			continue;
		if (!drop(arg, s, now > seen ? now - seen : 0))
			continue;
		if (!__atomic_compare_exchange_n(&s->state, &exp, SS_LB_S_DEAD, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		if (rte_hash_get_key_with_position(g.fwd, (int32_t)pos, &kp) == 0 &&
		    on_removed != NULL)
			on_removed(arg, kp, s);
		unlink_dead(pos);
		removed++;
	}
	return removed;
}

uint32_t ss_lb_sess_count(void)
{
	return g.fwd != NULL ? (uint32_t)rte_hash_count(g.fwd) : 0;
}
