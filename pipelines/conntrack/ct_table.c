/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The flow table and the fragment table: rte_hash (lock-free readers,
 * multi-writer) + one state-first entry per key position; removal through
 * a CAS on the state, positions recycled after an RCU grace period (see the
 * rules in ct-t.h). Control-thread services: configuration, incremental
 * sweep, flush, list, migration into a larger table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring_elem.h>

#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_int.h"
#include "pipelines/conntrack/ct_xform.h"

/* ---- lock-free hash with deferred position reuse ----------------------------- */

static void lfh_release(struct ss_ct_lfh *t, uint32_t pos)
{
	/* FREE before the slot goes back: the next adder CASes FREE -> INIT */
	__atomic_store_n(t->ent + (size_t)pos * t->esize, SS_CT_FREE, __ATOMIC_RELEASE);
	rte_hash_free_key_with_position(t->h, (int32_t)pos);
}

static void lfh_free_cb(void *p, void *e, unsigned int n)
{
	struct ss_ct_lfh *t = p;
	const uint32_t *pos = e;

	bool hold = __atomic_load_n(&t->hold, __ATOMIC_ACQUIRE);

	/* hold: being migrated, the whole table goes soon */
	for (unsigned int i = 0; i < n; i++) {
		struct ss_ct_batch *b;

		if (!(pos[i] & SS_CT_BATCH_BIT)) {
			if (!hold)
				lfh_release(t, pos[i]);
			continue;
		}
		b = &t->defer[(pos[i] & ~SS_CT_BATCH_BIT) / SS_CT_BATCHES]
			     .b[(pos[i] & ~SS_CT_BATCH_BIT) % SS_CT_BATCHES];
		for (uint32_t k = 0; !hold && k < b->n; k++)
			lfh_release(t, b->pos[k]);
		__atomic_store_n(&b->busy, 0, __ATOMIC_RELEASE);
	}
}

static int lfh_init(struct ss_ct_lfh *t, const char *name, uint32_t entries, uint32_t key_len,
		    uint32_t esize, struct rte_rcu_qsbr *qsbr)
{
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries < 64 ? 64 : entries,
		.key_len = key_len,
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD,
	};
	char dqname[RTE_RCU_QSBR_DQ_NAMESIZE];

	memset(t, 0, sizeof(*t));
	t->h = rte_hash_create(&hp);
	if (t->h == NULL)
		return -ENOMEM;
	t->esize = esize;
	t->nb_pos = (uint32_t)rte_hash_max_key_id(t->h) + 1;
	t->ent = rte_zmalloc("ss_ct_entries", (size_t)t->nb_pos * esize, RTE_CACHE_LINE_SIZE);
	if (t->ent == NULL)
		return -ENOMEM;
	t->qsbr = qsbr;
	if (qsbr != NULL) {
		struct rte_rcu_qsbr_dq_parameters dp = {
			.name = dqname,
			.flags = 0,   /* multi-thread safe: workers and control */
			.size = t->nb_pos,   /* a position is queued at most once */
			.esize = sizeof(uint32_t),
			.trigger_reclaim_limit = 64,
			.max_reclaim_size = 64,
			.free_fn = lfh_free_cb,
			.p = t,
			.v = qsbr,
		};

		snprintf(dqname, sizeof(dqname), "%s", name);
		t->dq = rte_rcu_qsbr_dq_create(&dp);
		if (t->dq == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void lfh_fini(struct ss_ct_lfh *t)
{
	if (t->dq != NULL) {
		/* the caller waited for a grace period: everything is reclaimable */
		rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, NULL, NULL, NULL);
		rte_rcu_qsbr_dq_delete(t->dq);
	}
	rte_hash_free(t->h);
	rte_free(t->ent);
	rte_free(t->defer);   /* after the reclaim: it gives batches back */
	memset(t, 0, sizeof(*t));
}

/* Claim (LIVE -> DEAD) and delete the key at `pos`; true when this thread
 * removed it. */
static bool lfh_claim(struct ss_ct_lfh *t, uint32_t pos)
{
	uint8_t *st = t->ent + (size_t)pos * t->esize, exp = SS_CT_LIVE;

	return __atomic_compare_exchange_n(st, &exp, SS_CT_DEAD, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/* After a successful claim: delete the key, queue the position. */
static void lfh_finish(struct ss_ct_lfh *t, uint32_t pos, const void *key, uint32_t sig)
{
	void *kp;

	if (key != NULL)
		rte_hash_del_key_with_hash(t->h, key, sig);
	else if (rte_hash_get_key_with_position(t->h, (int32_t)pos, &kp) == 0)
		rte_hash_del_key(t->h, kp);
	if (t->dq == NULL)
		lfh_release(t, pos);   /* no concurrent reader (tests) */
	else
		/* cannot fail: the queue has room for every position, and a
		 * position is queued once per removal */
		rte_rcu_qsbr_dq_enqueue(t->dq, &pos);
}

bool ss_ct_lfh_remove(struct ss_ct_lfh *t, uint32_t pos, const void *key, uint32_t sig)
{
	if (!lfh_claim(t, pos))
		return false;
	lfh_finish(t, pos, key, sig);
	return true;
}

/* ---- a worker's removals, queued in batches -------------------------------------- */

/* rte_rcu_qsbr_dq_enqueue per removal costs a grace-period token (a locked
 * add on the shared counter), a multi-producer ring entry and, past its
 * trigger, a reclaim attempt with two log calls: about 550 instructions
 * for each flow a TCP RST ends. A worker's policy chunk collects the
 * positions it removed in a batch and queues the batch as one entry
 * (ss_ct_defer_close); lfh_free_cb gives its positions back. Without a
 * free batch (all queued, not reclaimed yet) a position is queued alone. */
static bool defer_push(struct ss_ct_lfh *t, unsigned int row, uint32_t pos)
{
	struct ss_ct_defer *d = &t->defer[row];
	struct ss_ct_batch *b;

	if (d->cur == SS_CT_BATCHES) {
		b = &d->b[d->next];
		if (__atomic_load_n(&b->busy, __ATOMIC_ACQUIRE))
			return false;
		d->cur = d->next;
		d->next = (d->next + 1) % SS_CT_BATCHES;
		b->n = 0;
	}
	b = &d->b[d->cur];
	b->pos[b->n++] = pos;
	if (b->n == SS_CT_BATCH_POS)
		ss_ct_defer_close(t, row);
	return true;
}

void ss_ct_defer_close(struct ss_ct_lfh *t, unsigned int row)
{
	struct ss_ct_defer *d = &t->defer[row];
	uint32_t e = SS_CT_BATCH_BIT | (row * SS_CT_BATCHES + d->cur);

	if (d->cur == SS_CT_BATCHES)
		return;
	__atomic_store_n(&d->b[d->cur].busy, 1, __ATOMIC_RELAXED);
	d->cur = SS_CT_BATCHES;
	/* after the keys' deletion: the token covers every reader that may
	 * still hold one of the positions; cannot fail (room for every
	 * position, each queued once, a batch holding at least one) */
	rte_rcu_qsbr_dq_enqueue(t->dq, &e);
}

/* A flow's key and position after its claim: a worker's removal joins its
 * open batch, any other goes on the deferred queue alone. */
static void flow_finish(struct ss_ct *ct, uint32_t pos, const void *key, uint32_t sig,
			unsigned int row)
{
	struct ss_ct_lfh *t = &ct->flows;

	if (key == NULL || row >= t->nb_defer) {
		lfh_finish(t, pos, key, sig);
		return;
	}
	rte_hash_del_key_with_hash(t->h, key, sig);
	if (!defer_push(t, row, pos))
		rte_rcu_qsbr_dq_enqueue(t->dq, &pos);
}

/* ---- create / free -------------------------------------------------------------- */

struct ss_ct *ss_ct_create(const char *name, uint32_t capacity, uint32_t frag_capacity,
			   uint32_t nb_eni, unsigned int nb_workers, struct rte_rcu_qsbr *qsbr,
			   uint64_t tick_hz)
{
	struct ss_ct *ct = rte_zmalloc("ss_ct", sizeof(*ct), RTE_CACHE_LINE_SIZE);
	char n[RTE_HASH_NAMESIZE];
	int rc;

	if (ct == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ct->capacity = capacity;
	ct->tick_hz = tick_hz;
	ct->nb_workers = nb_workers ? nb_workers : 1;
	ct->nb_eni = nb_eni;
	ct->conf.max_flows = capacity;
	ct->conf.idle_ticks = 30 * tick_hz;
	ct->conf.fin_ticks = 2 * tick_hz;
	snprintf(n, sizeof(n), "%sf", name);
	rc = lfh_init(&ct->flows, n, capacity, sizeof(struct ss_ct_key),
		      sizeof(struct ss_ct_entry), qsbr);
	if (rc == 0) {
		snprintf(n, sizeof(n), "%sg", name);
		rc = lfh_init(&ct->frags, n, frag_capacity, sizeof(struct ss_ct_frag_key),
			      sizeof(struct ss_ct_frag), qsbr);
	}
	if (ct->nb_workers >= SS_CT_MAX_ROWS)
		rc = -EINVAL;
	ct->own_gauge = rte_zmalloc("ss_ct_gauge", (size_t)(ct->nb_workers + 1) *
				    (nb_eni ? nb_eni : 1) * sizeof(int64_t), RTE_CACHE_LINE_SIZE);
	ct->cnt = rte_zmalloc("ss_ct_cnt", (ct->nb_workers + 1) * sizeof(*ct->cnt),
			      RTE_CACHE_LINE_SIZE);
	ct->own_cnt = true;
	if (rc == 0)
		ct->xf = rte_zmalloc("ss_ct_xform", (size_t)ct->flows.nb_pos * sizeof(*ct->xf),
				     RTE_CACHE_LINE_SIZE);
	if (rc == 0 && qsbr != NULL) {
		ct->flows.defer = rte_zmalloc("ss_ct_defer",
					      ct->nb_workers * sizeof(*ct->flows.defer),
					      RTE_CACHE_LINE_SIZE);
		if (ct->flows.defer == NULL)
			rc = -ENOMEM;
		for (unsigned int r = 0; rc == 0 && r < ct->nb_workers; r++)
			ct->flows.defer[r].cur = SS_CT_BATCHES;
		ct->flows.nb_defer = rc == 0 ? ct->nb_workers : 0;
	}
	if (rc != 0 || ct->own_gauge == NULL || ct->cnt == NULL || ct->xf == NULL) {
		ss_ct_free(ct);
		errno = rc ? -rc : ENOMEM;
		return NULL;
	}
	ct->gauge_stride = sizeof(int64_t);
	for (unsigned int r = 0; r <= ct->nb_workers; r++)
		ct->gauge[r] = (uint8_t *)(ct->own_gauge + (size_t)r * (nb_eni ? nb_eni : 1));
	return ct;
}

void ss_ct_share(struct ss_ct *ct, struct ss_ct_counters *cnt, int64_t *const *rows,
		 size_t stride)
{
	if (cnt != NULL) {
		if (ct->own_cnt)
			rte_free(ct->cnt);
		ct->cnt = cnt;
		ct->own_cnt = false;
	}
	if (rows != NULL) {
		for (unsigned int r = 0; r <= ct->nb_workers; r++)
			ct->gauge[r] = (uint8_t *)rows[r];
		ct->gauge_stride = stride;
	}
}

int64_t ss_ct_eni_flows(const struct ss_ct *ct, uint32_t eni)
{
	int64_t sum = 0;

	if (ct == NULL || eni >= ct->nb_eni)
		return 0;
	for (unsigned int r = 0; r <= ct->nb_workers; r++) {
		unsigned int k;

		for (k = 0; k < r && ct->gauge[k] != ct->gauge[r]; k++)
			;
		if (k < r)
			continue;   /* a row sharing another's storage */
		sum += __atomic_load_n((const int64_t *)(ct->gauge[r] + (size_t)eni *
							 ct->gauge_stride), __ATOMIC_RELAXED);
	}
	return sum;
}

void ss_ct_free(struct ss_ct *ct)
{
	if (ct == NULL)
		return;
	lfh_fini(&ct->flows);
	lfh_fini(&ct->frags);
	rte_free(ct->xf);
	rte_free(ct->own_gauge);
	if (ct->own_cnt)
		rte_free(ct->cnt);
	rte_free(ct);
}

void ss_ct_configure(struct ss_ct *ct, uint32_t max_flows, uint32_t idle_timeout_ms,
		     uint32_t tcp_fin_timeout_ms)
{
	__atomic_store_n(&ct->conf.max_flows, max_flows, __ATOMIC_RELAXED);
	__atomic_store_n(&ct->conf.idle_ticks, ct->tick_hz * idle_timeout_ms / 1000,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&ct->conf.fin_ticks, ct->tick_hz * tcp_fin_timeout_ms / 1000,
			 __ATOMIC_RELAXED);
}

uint64_t ss_ct_counter(const struct ss_ct *ct, size_t offset)
{
	uint64_t sum = 0;

	for (unsigned int r = 0; ct != NULL && r <= ct->nb_workers; r++)
		sum += __atomic_load_n((const uint64_t *)((const uint8_t *)&ct->cnt[r] + offset),
				       __ATOMIC_RELAXED);
	return sum;
}

/* ---- flow records ----------------------------------------------------------- */

struct ss_ct_export *ss_ct_export_cur;   /* ctlplane: rw, dataplane: ro */

void ss_ct_export_set(struct ss_ct_export *x)
{
	__atomic_store_n(&ss_ct_export_cur, x, __ATOMIC_RELEASE);
}

struct ss_ct_export *ss_ct_export_get(void)
{
	return __atomic_load_n(&ss_ct_export_cur, __ATOMIC_ACQUIRE);
}

/* Take the entry's counters into a record and hand it over; never waits
 * (a full ring counts x->dropped). The entry is ours: claimed (DEAD) by
 * this thread, or LIVE and examined by the control thread for an active
 * timeout. key NULL: read from the position. */
static void record_emit(struct ss_ct *ct, struct ss_ct_export *x, uint32_t pos,
			struct ss_ct_entry *e, const void *key, uint8_t reason, uint64_t end)
{
	struct ss_ct_record r;
	void *kp;

	if (key == NULL) {
		if (rte_hash_get_key_with_position(ct->flows.h, (int32_t)pos, &kp) != 0)
			return;
		key = kp;
	}
	memcpy(&r.key, key, sizeof(r.key));
	r.start = __atomic_load_n(&e->start, __ATOMIC_RELAXED);
	r.end = end;
	for (int s = 0; s < 2; s++) {
		r.pkts[s] = __atomic_exchange_n(&e->pkts[s], 0, __ATOMIC_RELAXED);
		r.bytes[s] = __atomic_exchange_n(&e->bytes[s], 0, __ATOMIC_RELAXED);
	}
	if (r.pkts[0] == 0 && r.pkts[1] == 0)
		return;   /* nothing since the last record */
	r.init_side = e->init_side;
	r.init_dir = e->init_dir;
	r.reason = reason;
	memset(r.pad, 0, sizeof(r.pad));
	if (rte_ring_mp_enqueue_elem(x->ring, &r, sizeof(r)) != 0)
		__atomic_fetch_add(&x->dropped, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&x->enqueued, 1, __ATOMIC_RELAXED);
}

/* ---- removal, expiry ----------------------------------------------------------- */

static void flow_removed(struct ss_ct *ct, struct ss_ct_entry *e, unsigned int row)
{
	uint32_t eni = e->eni;

	__atomic_fetch_sub(&ct->nb_flows, 1, __ATOMIC_RELAXED);
	/* a flow already copied into the next table lives on there */
	if (!(__atomic_fetch_or(&e->tcp, SS_CT_REMOVED, __ATOMIC_ACQ_REL) & SS_CT_MIGRATED))
		ss_ct_gauge_add(ct, row, eni, -1);
}

bool ss_ct_flow_end(struct ss_ct *ct, uint32_t pos, unsigned int row, const void *key,
		    uint32_t sig, uint8_t reason)
{
	struct ss_ct_entry *e = ss_ct_entry_at(ct, pos);
	struct ss_ct_export *x;

	if (!lfh_claim(&ct->flows, pos))
		return false;
	x = ss_ct_export_get();
	if (x != NULL)
		record_emit(ct, x, pos, e, key, reason, __atomic_load_n(&e->last_seen,
									 __ATOMIC_RELAXED));
	ss_ct_sync_note(ct, SS_CT_EV_REMOVE, pos, key);
	flow_finish(ct, pos, key, sig, row);
	flow_removed(ct, e, row);
	return true;
}

bool ss_ct_flow_remove(struct ss_ct *ct, uint32_t pos, unsigned int row, const void *key,
		       uint32_t sig)
{
	return ss_ct_flow_end(ct, pos, row, key, sig, SS_CT_END_FORCED);
}

bool ss_ct_flow_end_seq(struct ss_ct *ct, uint32_t pos, unsigned int row, uint32_t seq,
			uint8_t reason)
{
	struct ss_ct_entry *e = ss_ct_entry_at(ct, pos);
	struct ss_ct_export *x;

	if (!lfh_claim(&ct->flows, pos))
		return false;
	if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) != seq) {
		/* another flow now: ours, by the claim, to give back */
		__atomic_store_n(&e->state, SS_CT_LIVE, __ATOMIC_RELEASE);
		return false;
	}
	x = ss_ct_export_get();
	if (x != NULL)
		record_emit(ct, x, pos, e, NULL, reason, __atomic_load_n(&e->last_seen,
									  __ATOMIC_RELAXED));
	ss_ct_sync_note(ct, SS_CT_EV_REMOVE, pos, NULL);
	lfh_finish(&ct->flows, pos, NULL, 0);
	flow_removed(ct, e, row);
	return true;
}

bool ss_ct_flow_remove_seq(struct ss_ct *ct, uint32_t pos, unsigned int row, uint32_t seq)
{
	return ss_ct_flow_end_seq(ct, pos, row, seq, SS_CT_END_FORCED);
}

/* Active timeout (control thread, sweep): a live flow that has not been
 * reported for x->active_s, or whose packet count nears 2^32, gets a
 * record and starts a new interval. The flow may end meanwhile: its
 * remover reports what this did not take (the counters are exchanged). */
static void flow_active(struct ss_ct *ct, struct ss_ct_export *x, uint32_t pos,
			struct ss_ct_entry *e, uint64_t now)
{
	uint64_t start = __atomic_load_n(&e->start, __ATOMIC_RELAXED);

	if ((int64_t)(now - start) < (int64_t)(ct->tick_hz * x->active_s) &&
	    __atomic_load_n(&e->pkts[0], __ATOMIC_RELAXED) < (1u << 31) &&
	    __atomic_load_n(&e->pkts[1], __ATOMIC_RELAXED) < (1u << 31))
		return;
	record_emit(ct, x, pos, e, NULL, SS_CT_END_ACTIVE,
		    __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED));
	__atomic_store_n(&e->start, now, __ATOMIC_RELAXED);
}

void ss_ct_sweep(struct ss_ct *ct, uint64_t now, uint32_t budget, unsigned int row)
{
	struct ss_ct_counters *c;

	row = ss_ct_row(ct, row);
	c = &ct->cnt[row];
	uint32_t fbudget = budget / 4 + 1;
	struct ss_ct_export *x = ss_ct_export_get();

	for (uint32_t k = 0; k < budget && k < ct->flows.nb_pos; k++) {
		uint32_t pos = ct->flows.sweep++, seq;
		struct ss_ct_entry *e;
		int why;

		if (pos >= ct->flows.nb_pos)
			pos = ct->flows.sweep = 0;
		e = ss_ct_entry_at(ct, pos);
		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
			continue;
		seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		why = ss_ct_expired(ct, e, now);
		if (why && ss_ct_flow_end_seq(ct, pos, row, seq, why == SS_CT_EXP_FIN ?
					      SS_CT_END_EOF : SS_CT_END_IDLE)) {
			if (why == SS_CT_EXP_FIN)
				c->removed_fin++;
			else
				c->expired++;
		} else if (!why && x != NULL && x->active_s != 0) {
			flow_active(ct, x, pos, e, now);
		}
	}
	for (uint32_t k = 0; k < fbudget && k < ct->frags.nb_pos; k++) {
		uint32_t pos = ct->frags.sweep++;
		struct ss_ct_frag *f;
		uint16_t seq;

		if (pos >= ct->frags.nb_pos)
			pos = ct->frags.sweep = 0;
		f = ss_ct_frag_at(ct, pos);
		if (__atomic_load_n(&f->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
			continue;
		seq = __atomic_load_n(&f->seq, __ATOMIC_ACQUIRE);
		if ((int64_t)(now - __atomic_load_n(&f->expires, __ATOMIC_RELAXED)) < 0 ||
		    !lfh_claim(&ct->frags, pos))
			continue;
		if (__atomic_load_n(&f->seq, __ATOMIC_ACQUIRE) != seq)
			__atomic_store_n(&f->state, SS_CT_LIVE, __ATOMIC_RELEASE);  /* reused */
		else
			lfh_finish(&ct->frags, pos, NULL, 0);
	}
	if (ct->flows.dq)
		rte_rcu_qsbr_dq_reclaim(ct->flows.dq, budget, NULL, NULL, NULL);
	if (ct->frags.dq)
		rte_rcu_qsbr_dq_reclaim(ct->frags.dq, fbudget, NULL, NULL, NULL);
}

uint32_t ss_ct_flush(struct ss_ct *ct, uint32_t eni,
		     bool (*keep)(void *arg, const struct ss_ct_entry *e), void *arg,
		     unsigned int row)
{
	struct ss_ct_counters *c;
	uint32_t n = 0;

	row = ss_ct_row(ct, row);
	c = &ct->cnt[row];
	for (uint32_t pos = 0; pos < ct->flows.nb_pos; pos++) {
		struct ss_ct_entry *e = ss_ct_entry_at(ct, pos);
		uint32_t seq;

		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
			continue;
		seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (eni != UINT32_MAX && e->eni != eni)
			continue;
		if (keep != NULL && keep(arg, e))
			continue;
		if (ss_ct_flow_remove_seq(ct, pos, row, seq)) {
			c->flushed++;
			n++;
		}
	}
	return n;
}

/* Added for the load balancer (pipelines/lb: a backend set down or deleted
 * takes its connections' flows along, SPEC 3.9). */
bool ss_ct_remove_key(struct ss_ct *ct, const struct ss_ct_key *k, unsigned int row)
{
	int32_t pos = rte_hash_lookup(ct->flows.h, k);
	struct ss_ct_entry *e;

	if (pos < 0)
		return false;
	row = ss_ct_row(ct, row);
	e = ss_ct_entry_at(ct, (uint32_t)pos);
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE ||
	    !ss_ct_flow_remove_seq(ct, (uint32_t)pos, row, __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE)))
		return false;
	ct->cnt[row].flushed++;
	return true;
}

/* ---- list, migrate -------------------------------------------------------------- */

uint32_t ss_ct_list(const struct ss_ct *ct, uint32_t eni, uint32_t limit, uint64_t now,
		    int (*fn)(void *arg, const struct ss_ct_flow_info *f), void *arg)
{
	uint32_t n = 0;

	for (uint32_t pos = 0; pos < ct->flows.nb_pos && n < limit; pos++) {
		const struct ss_ct_entry *e = ss_ct_entry_at((struct ss_ct *)ct, pos);
		struct ss_ct_flow_info f;
		const struct ss_ct_key *k;
		void *kp;

		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
			continue;
		if ((eni != UINT32_MAX && e->eni != eni) || ss_ct_expired(ct, e, now))
			continue;
		if (rte_hash_get_key_with_position(ct->flows.h, (int32_t)pos, &kp) != 0)
			continue;
		k = kp;
		memset(&f, 0, sizeof(f));
		f.eni = e->eni;
		f.proto = k->proto;
		f.v6 = k->v6;
		f.dir = e->init_dir;
		f.tcp = __atomic_load_n(&e->tcp, __ATOMIC_RELAXED);
		memcpy(f.src, e->init_side ? k->b : k->a, 16);
		memcpy(f.dst, e->init_side ? k->a : k->b, 16);
		f.sport = e->init_side ? k->pb : k->pa;
		f.dport = e->init_side ? k->pa : k->pb;
		f.idle_ticks = now - __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
		f.fin_age_ticks = e->fin_at ? now - e->fin_at : 0;
		f.acl_gen = __atomic_load_n(&e->acl_gen, __ATOMIC_RELAXED);
		n++;
		if (fn(arg, &f) != 0)
			break;
	}
	return n;
}

uint32_t ss_ct_migrate(struct ss_ct *to, struct ss_ct *from)
{
	unsigned int row = to->nb_workers;
	uint32_t n = 0;

	/* from now on no position of `from` is reused: a key read below is
	 * the key of the entry whose state was read */
	__atomic_store_n(&from->flows.hold, true, __ATOMIC_RELEASE);
	for (uint32_t pos = 0; pos < from->flows.nb_pos; pos++) {
		struct ss_ct_entry *e = ss_ct_entry_at(from, pos);
		struct ss_ct_entry *d;
		uint8_t exp = SS_CT_FREE, old;
		int32_t np;
		void *kp;

		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
			continue;
		old = __atomic_fetch_or(&e->tcp, SS_CT_MIGRATED, __ATOMIC_ACQ_REL);
		if (old & (SS_CT_MIGRATED | SS_CT_REMOVED))
			continue;   /* copied before, or its remover counted it */
		if (rte_hash_get_key_with_position(from->flows.h, (int32_t)pos, &kp) != 0)
			continue;
		np = rte_hash_add_key(to->flows.h, kp);
		if (np < 0) {
			/* no room: the flow ends with `from` */
			ss_ct_gauge_add(to, row, e->eni, -1);
			continue;
		}
		d = ss_ct_entry_at(to, (uint32_t)np);
		if (!__atomic_compare_exchange_n(&d->state, &exp, SS_CT_INIT, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			/* `to` opened it by itself (a packet after the switch): one
			 * flow, counted twice */
			ss_ct_gauge_add(to, row, e->eni, -1);
			continue;
		}
		d->init_dir = e->init_dir;
		d->init_side = e->init_side;
		d->tcp = old & (uint8_t)~(SS_CT_MIGRATED | SS_CT_REMOVED);
		d->eni = e->eni;
		d->acl_gen = e->acl_gen;
		d->last_seen = e->last_seen;
		d->fin_at = e->fin_at;
		/* the counts so far move with the flow; what `from` still gets
		 * before the switch is reported if it ends there */
		d->start = e->start;
		for (int s = 0; s < 2; s++) {
			d->pkts[s] = __atomic_exchange_n(&e->pkts[s], 0, __ATOMIC_RELAXED);
			d->bytes[s] = __atomic_exchange_n(&e->bytes[s], 0, __ATOMIC_RELAXED);
		}
		d->seq++;
		__atomic_store_n(&d->state, SS_CT_LIVE, __ATOMIC_RELEASE);
		__atomic_fetch_add(&to->nb_flows, 1, __ATOMIC_RELAXED);
		n++;
	}
	return n;
}

/* ---- lookup only (Private Link's return path) --------------------------------- */

int ss_ct_lookup_live(const struct ss_ct *ct, const struct ss_ct_key *k, uint8_t side,
		      unsigned int dir, uint64_t now)
{
	const struct ss_ct_entry *e;
	int32_t pos;

	if (ct == NULL)
		return -ENOENT;
	pos = rte_hash_lookup(ct->flows.h, k);
	if (pos < 0)
		return -ENOENT;
	e = (const struct ss_ct_entry *)(ct->flows.ent + (size_t)pos * sizeof(*e));
	/* acquire: init_dir and init_side were written before LIVE was */
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE ||
	    (dir == e->init_dir) != (side == e->init_side) ||
	    ss_ct_expired(ct, e, now) != SS_CT_EXP_NO)
		return -ENOENT;
	return e->init_dir;
}
