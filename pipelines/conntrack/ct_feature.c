/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The conntrack feature (depends on overlay and acl): the policy nodes on
 * the overlay's arcs (policy_out.c, policy_in.c), the `flows` table
 * (flow.config, ENI deletions), flow.list / flow.flush, the `flows` stats
 * scope, and the idle sweep on the control thread's poll.
 *
 * Table life cycle (control thread):
 *   prepare  the first publication (restore) creates the flow table, small
 *            (memory follows the flows, not max_flows); deleted ENIs are
 *            noted.
 *   commit   publishes flow.config (atomic stores of its three words).
 *   reclaim  removes the flows of deleted ENIs (except those a new ENI at
 *            the same index opened since: their ACL generation is the
 *            index's).
 *   poll     sweeps a slice of the table; when the table is half full and
 *            max_flows allows more, grows it: a table four times larger is
 *            built aside, the live flows copied, the new table published
 *            with one pointer store, and after an RCU grace period the flows
 *            the old one gained meanwhile are copied too and the old table
 *            freed. Forwarding never stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_malloc.h>

#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/worker.h"
#include "pipelines/conntrack/ct_int.h"
#include "pipelines/conntrack/ct_types.h"
#include "pipelines/conntrack/policy_node.h"
#include "pipelines/overlay/ovl_types.h"

#define FRAG_CAPACITY 65536
#define INITIAL_CAPACITY 65536
#define LIST_DEFAULT 1000
#define LIST_MAX (1u << 20)
#define SWEEP_PERIOD_MS 25

/* flows scope: the flow cache and fast path counters */
struct cache_counters {
	uint64_t hits, fills, fast_hits, fast_fills, fast_table_hits, fast_deny_hits;
	uint64_t fast_emc_bypassed;
};

static struct {
	struct ss_ct *cur;               /* published; dataplane: ro */
	struct ss_ct *pending;             /* the first table, prepare -> commit */
	struct ss_ct_counters *cnt;      /* kept across tables */
	struct ss_ct_counters clear_base; /* stats.clear */
	struct cache_counters clear_cache; /* stats.clear of the flow cache counters */
	unsigned int nb_workers;
	uint32_t nb_eni;
	uint32_t seq;
	struct {
		uint32_t max_flows, idle_ms, fin_ms;
	} conf, pconf;
	uint32_t *flush, nflush;          /* ENI indexes to flush at reclaim */
	uint32_t *pflush, npflush, cap_pflush;
	uint64_t last_sweep;
	uint64_t grow_after;             /* TSC: no growth attempt before (backoff) */
	uint32_t grow_backoff_ms;        /* after a failed growth; 0: none failed */
} g;

struct ss_ct *ss_ct_current(void)
{
	return __atomic_load_n(&g.cur, __ATOMIC_ACQUIRE);
}

/* ---- table ------------------------------------------------------------------ */

static struct ss_ct *table_new(uint32_t capacity)
{
	int64_t *rows[SS_CT_MAX_ROWS];
	char name[16];
	struct ss_ct *ct;

	snprintf(name, sizeof(name), "ct%u", g.seq++);
	ct = ss_ct_create(name, capacity, FRAG_CAPACITY, g.nb_eni, g.nb_workers, ss_qsbr,
			  rte_get_tsc_hz());
	if (ct == NULL)
		return NULL;
	/* the flows gauge lives in the overlay's per-ENI counters (overlay.h);
	 * the control thread's removals go to worker 0's row, atomically */
	for (unsigned int r = 0; r < g.nb_workers; r++)
		rows[r] = &ss_overlay_eni_ctr[r][0].flows;
	rows[g.nb_workers] = rows[0];
	ss_ct_share(ct, g.cnt, rows, sizeof(struct ss_overlay_eni_counters));
	return ct;
}

/* flow.config, as the store holds it, into the pending settings. The
 * singleton always exists: no record is an allocation failure. */
static int read_conf(struct ss_ctl *ctl)
{
	const struct ss_flow_config_rec *r = ss_ctl_store_rec(ctl, &ss_type_flow_config, "");

	if (r == NULL)
		return -ENOMEM;
	g.pconf.max_flows = r->max_flows;
	g.pconf.idle_ms = r->idle_timeout_ms;
	g.pconf.fin_ms = r->tcp_fin_timeout_ms;
	return 0;
}

static int note_flush(uint32_t idx)
{
	if (g.npflush == g.cap_pflush) {
		uint32_t cap = g.cap_pflush ? 2 * g.cap_pflush : 16;
		uint32_t *v = realloc(g.pflush, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		g.pflush = v;
		g.cap_pflush = cap;
	}
	g.pflush[g.npflush++] = idx;
	return 0;
}

static void ct_abort(void *ctx)
{
	(void)ctx;
	ss_ct_free(g.pending);
	g.pending = NULL;
	g.npflush = 0;
	g.pconf = g.conf;
}

static int ct_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *ch, size_t n,
		      char *err, size_t errlen)
{
	const struct ss_acl_state *acl = ss_acl_current();
	bool conf = g.cur == NULL;

	ct_abort(ctx);
	for (size_t i = 0; i < n; i++) {
		if (ch[i].ty == &ss_type_flow_config) {
			conf = true;
		} else if (ch[i].ty == &ss_type_eni && ch[i].op == SS_CHANGE_DELETE) {
			const struct ss_eni_rec *e = ch[i].old_rec;
			int idx = e != NULL && e->name[0] ? ss_acl_state_eni_index(acl, e->name) : -1;

			if (idx >= 0 && note_flush((uint32_t)idx) < 0) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
		}
	}
	if (conf && read_conf(ctl) != 0) {
		snprintf(err, errlen, "flow.config: out of memory reading its record");
		g.npflush = 0;
		return -ENOMEM;
	}
	if (g.cur == NULL) {
		uint32_t cap = g.pconf.max_flows < INITIAL_CAPACITY ? g.pconf.max_flows
								     : INITIAL_CAPACITY;

		g.pending = table_new(cap);
		if (g.pending == NULL) {
			snprintf(err, errlen, "cannot allocate a flow table of %u flows", cap);
			g.npflush = 0;
			return -ENOMEM;
		}
	}
	return 0;
}

static void ct_commit(void *ctx)
{
	(void)ctx;
	if (g.pending != NULL) {
		/* the first table: nothing to replace */
		__atomic_store_n(&g.cur, g.pending, __ATOMIC_RELEASE);
		g.pending = NULL;
	}
	g.conf = g.pconf;
	ss_ct_configure(g.cur, g.conf.max_flows, g.conf.idle_ms, g.conf.fin_ms);
	free(g.flush);
	g.flush = g.pflush;
	g.nflush = g.npflush;
	g.pflush = NULL;
	g.npflush = g.cap_pflush = 0;
}

/* Flows of a deleted ENI's index that a new ENI opened since are kept. */
static bool opened_by_current_eni(void *arg, const struct ss_ct_entry *e)
{
	uint32_t gen = ss_acl_eni_gen(arg, e->eni);

	return gen != 0 && e->acl_gen == gen;
}

static void ct_reclaim(void *ctx)
{
	(void)ctx;
	for (uint32_t i = 0; i < g.nflush; i++)
		ss_ct_flush(g.cur, g.flush[i], opened_by_current_eni, (void *)ss_acl_current(),
			    g.nb_workers);
	free(g.flush);
	g.flush = NULL;
	g.nflush = 0;
}

/* ---- growth, sweep ------------------------------------------------------------- */

#define GROW_BACKOFF_MIN_MS 1000u
#define GROW_BACKOFF_MAX_MS 60000u

/* The table is half full and max_flows allows more: move to one four
 * times larger (up to max_flows plus a quarter: a cuckoo hash is not filled
 * to the last slot), or twice as large when that much memory is not there.
 * When neither can be allocated, new connections beyond this table's
 * capacity are counted flow_table_full and the growth is tried again after
 * a backoff (1 s doubling up to 60 s): allocating and freeing gigabytes at
 * every poll would starve the control thread. */
static void ct_grow(struct ss_ct *old, uint64_t now, uint64_t hz)
{
	uint64_t want = (uint64_t)old->capacity * 4, top = (uint64_t)g.conf.max_flows * 5 / 4;
	struct ss_ct *ct = NULL;

	if (now < g.grow_after)
		return;
	if (want > top)
		want = top;
	if (want > UINT32_MAX / 2)
		want = UINT32_MAX / 2;
	if (want <= old->capacity)
		return;
	ct = table_new((uint32_t)want);
	if (ct == NULL && want > (uint64_t)old->capacity * 2)
		ct = table_new(old->capacity * 2);
	if (ct == NULL) {
		g.grow_backoff_ms = g.grow_backoff_ms == 0 ? GROW_BACKOFF_MIN_MS
			: RTE_MIN(g.grow_backoff_ms * 2, GROW_BACKOFF_MAX_MS);
		g.grow_after = now + hz * g.grow_backoff_ms / 1000;
		RTE_LOG(WARNING, USER1, "conntrack: no memory to grow the flow table beyond %u flows "
			"(%" PRIu64 " wanted); new flows beyond it are counted flow_table_full; "
			"next attempt in %u ms\n", old->capacity, want, g.grow_backoff_ms);
		return;
	}
	g.grow_backoff_ms = 0;
	g.grow_after = 0;
	ss_ct_configure(ct, g.conf.max_flows, g.conf.idle_ms, g.conf.fin_ms);
	ss_ct_migrate(ct, old);
	__atomic_store_n(&g.cur, ct, __ATOMIC_RELEASE);
	/* the workers may still insert into `old` until their next quiescent
	 * state; then it is ours alone */
	ss_workers_rcu_synchronize();
	ss_ct_migrate(ct, old);
	ss_ct_free(old);
}

static void ct_poll(void)
{
	struct ss_ct *ct = g.cur;
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();

	if (ct == NULL)
		return;
	if (__atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED) > ct->capacity / 2 &&
	    ct->capacity < (uint64_t)g.conf.max_flows * 5 / 4) {
		ct_grow(ct, now, hz);
		ct = g.cur;
	}
	uint64_t dt = now - g.last_sweep;

	if (dt < hz * SWEEP_PERIOD_MS / 1000)
		return;
	g.last_sweep = now;
	/* a whole pass a second: the slice is the share of the positions the
	 * time since the last one stands for (at most a tenth of a pass) */
	if (dt > hz / 10)
		dt = hz / 10;
	ss_ct_sweep(ct, now, (uint32_t)((uint64_t)ct->flows.nb_pos * dt / hz) + 64, g.nb_workers);
}

/* ---- methods ------------------------------------------------------------------ */

static const char *eni_name(uint32_t idx)
{
	const struct ss_acl_state *st = ss_acl_current();

	return st != NULL && idx < st->nb_bind && st->bind_name[idx][0] ? st->bind_name[idx]
									 : NULL;
}

/* Common params: known keys only, `eni` an existing ENI. */
static int eni_param(const json_t *params, const char *const *keys, uint32_t *eni, char *err,
		     size_t errlen, const char **field)
{
	const json_t *v;
	const char *k;
	int idx;

	*eni = UINT32_MAX;
	if (params == NULL)
		return 0;
	if (!json_is_object(params)) {
		snprintf(err, errlen, "params must be an object");
		return SS_RPC_INVALID_PARAMS;
	}
	json_object_foreach((json_t *)params, k, v) {
		const char *const *kk;

		for (kk = keys; *kk && strcmp(*kk, k) != 0; kk++)
			;
		if (*kk == NULL) {
			snprintf(err, errlen, "unknown field \"%.64s\"", k);
			*field = NULL;
			return SS_RPC_INVALID_PARAMS;
		}
	}
	v = json_object_get(params, "eni");
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "eni must be a string");
		*field = "eni";
		return SS_RPC_INVALID_PARAMS;
	}
	idx = ss_acl_state_eni_index(ss_acl_current(), json_string_value(v));
	if (idx < 0) {
		snprintf(err, errlen, "eni %.64s not found", json_string_value(v));
		*field = "eni";
		return SS_ERR_NOT_FOUND;
	}
	*eni = (uint32_t)idx;
	return 0;
}

static int list_one(void *arg, const struct ss_ct_flow_info *f)
{
	json_t *flows = arg, *o;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint64_t ms = rte_get_tsc_hz() / 1000;
	const char *name = eni_name(f->eni);

	inet_ntop(f->v6 ? AF_INET6 : AF_INET, f->src, src, sizeof(src));
	inet_ntop(f->v6 ? AF_INET6 : AF_INET, f->dst, dst, sizeof(dst));
	o = json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:s, s:I}", "eni", name ? name : "",
		      "protocol", f->proto, "src_ip", src, "dst_ip", dst, "src_port", f->sport,
		      "dst_port", f->dport, "direction", f->dir == SS_ACL_OUT ? "outbound" : "inbound",
		      "idle_ms", (json_int_t)(f->idle_ticks / (ms ? ms : 1)));
	if (o == NULL)
		return -1;
	if (f->proto == 6) {
		uint8_t both = SS_CT_FIN_A | SS_CT_FIN_B;

		json_object_set_new(o, "state", json_string((f->tcp & both) == both ? "closing"
							    : (f->tcp & both) ? "fin_wait"
									      : "established"));
	}
	return json_array_append_new(flows, o);
}

static int m_flow_list(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		       char *err, size_t errlen, const char **field)
{
	static const char *const keys[] = { "eni", "limit", NULL };
	const json_t *lim = params ? json_object_get(params, "limit") : NULL;
	uint32_t eni, limit = LIST_DEFAULT;
	json_t *flows;
	int rc;

	(void)ctx;
	(void)ctl;
	rc = eni_param(params, keys, &eni, err, errlen, field);
	if (rc != 0)
		return rc;
	if (lim != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
		    json_integer_value(lim) > LIST_MAX) {
			snprintf(err, errlen, "limit must be an integer 1..%u", LIST_MAX);
			*field = "limit";
			return SS_RPC_INVALID_PARAMS;
		}
		limit = (uint32_t)json_integer_value(lim);
	}
	flows = json_array();
	if (flows == NULL)
		return SS_RPC_INTERNAL;
	if (g.cur != NULL)
		ss_ct_list(g.cur, eni, limit, rte_rdtsc(), list_one, flows);
	*result = json_pack("{s:o, s:I}", "flows", flows, "count",
			    (json_int_t)json_array_size(flows));
	return *result ? 0 : SS_RPC_INTERNAL;
}

static int m_flow_flush(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
			char *err, size_t errlen, const char **field)
{
	static const char *const keys[] = { "eni", NULL };
	uint32_t eni, n = 0;
	int rc;

	(void)ctx;
	(void)ctl;
	rc = eni_param(params, keys, &eni, err, errlen, field);
	if (rc != 0)
		return rc;
	if (g.cur != NULL)
		n = ss_ct_flush(g.cur, eni, NULL, NULL, g.nb_workers);
	*result = json_pack("{s:I}", "flushed", (json_int_t)n);
	return *result ? 0 : SS_RPC_INTERNAL;
}

/* ---- stats scope `flows` ------------------------------------------------------ */

#define CT_COUNTERS(X)                                                                         \
	X(created) X(table_full) X(removed_rst) X(removed_fin) X(expired) X(revoked)            \
	X(rechecked) X(flushed) X(frag_tracked) X(frag_no_first) X(icmp_related)

/* The flow cache counters (ovl_pkt.h) and the fast path's (ct_emc.h),
 * summed over the workers. */
static void cache_counters(struct cache_counters *c)
{
	*c = (struct cache_counters){ 0 };
	for (unsigned int w = 0; w < g.nb_workers && w < SS_MAX_WORKERS; w++) {
		const struct ss_emc *emc = ss_emc_of[w];

		c->hits += __atomic_load_n(&ss_ovl_wstate[w].cache_hits, __ATOMIC_RELAXED);
		c->fills += __atomic_load_n(&ss_ovl_wstate[w].cache_fills, __ATOMIC_RELAXED);
		if (emc != NULL) {
			c->fast_hits += __atomic_load_n(&emc->hits, __ATOMIC_RELAXED);
			c->fast_fills += __atomic_load_n(&emc->fills, __ATOMIC_RELAXED);
			c->fast_table_hits += __atomic_load_n(&emc->table_hits, __ATOMIC_RELAXED);
			c->fast_deny_hits += __atomic_load_n(&emc->deny_hits, __ATOMIC_RELAXED);
			c->fast_emc_bypassed += __atomic_load_n(&emc->bypassed, __ATOMIC_RELAXED);
		}
	}
}

static json_t *flows_stats_get(void *ctx)
{
	struct cache_counters cc;
	struct ss_ct *ct = g.cur;
	json_t *o;

	(void)ctx;
	o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "count",
		      (json_int_t)(ct ? __atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED) : 0),
		      "capacity", (json_int_t)(ct ? ct->capacity : 0), "max_flows",
		      (json_int_t)g.conf.max_flows, "idle_timeout_ms", (json_int_t)g.conf.idle_ms,
		      "tcp_fin_timeout_ms", (json_int_t)g.conf.fin_ms);
	if (o == NULL || ct == NULL)
		return o;
#define X(f)                                                                                   \
	json_object_set_new(o, strcmp(#f, "table_full") == 0 ? "flow_table_full" : #f,         \
			    json_integer((json_int_t)(SS_CT_COUNTER(ct, f) - g.clear_base.f)));
	CT_COUNTERS(X)
#undef X
	cache_counters(&cc);
	json_object_set_new(o, "flow_cache_hits",
			    json_integer((json_int_t)(cc.hits - g.clear_cache.hits)));
	json_object_set_new(o, "flow_cache_fills",
			    json_integer((json_int_t)(cc.fills - g.clear_cache.fills)));
	json_object_set_new(o, "flow_fast_hits",
			    json_integer((json_int_t)(cc.fast_hits - g.clear_cache.fast_hits)));
	json_object_set_new(o, "flow_fast_fills",
			    json_integer((json_int_t)(cc.fast_fills - g.clear_cache.fast_fills)));
	json_object_set_new(o, "flow_fast_table_hits",
			    json_integer((json_int_t)(cc.fast_table_hits -
						      g.clear_cache.fast_table_hits)));
	json_object_set_new(o, "flow_fast_deny_hits",
			    json_integer((json_int_t)(cc.fast_deny_hits -
						      g.clear_cache.fast_deny_hits)));
	json_object_set_new(o, "flow_fast_emc_bypassed",
			    json_integer((json_int_t)(cc.fast_emc_bypassed -
						      g.clear_cache.fast_emc_bypassed)));
	return o;
}

static void flows_stats_clear(void *ctx)
{
	(void)ctx;
	if (g.cur == NULL)
		return;
#define X(f) g.clear_base.f = SS_CT_COUNTER(g.cur, f);
	CT_COUNTERS(X)
#undef X
	cache_counters(&g.clear_cache);
}

/* ---- feature ------------------------------------------------------------------ */

static void ct_fini(void)
{
	ss_ct_free(g.pending);
	ss_ct_free(g.cur);
	rte_free(g.cnt);
	free(g.flush);
	free(g.pflush);
	memset(&g, 0, sizeof(g));
}

static int ct_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "flows",
		.prepare = ct_prepare,
		.commit = ct_commit,
		.abort = ct_abort,
		.reclaim = ct_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "flows",
		.get = flows_stats_get,
		.clear = flows_stats_clear,
	};

	g.nb_workers = cfg->nb_workers;
	g.nb_eni = ss_overlay_eni_max() + 1;
	g.conf.max_flows = cfg->max_flows;
	g.conf.idle_ms = cfg->idle_timeout_ms;
	g.conf.fin_ms = cfg->tcp_fin_timeout_ms;
	g.pconf = g.conf;
	g.cnt = rte_zmalloc("ss_ct_cnt", (g.nb_workers + 1) * sizeof(*g.cnt), RTE_CACHE_LINE_SIZE);
	if (g.cnt == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_ctl_register_method(ctl, "flow.list", m_flow_list, NULL) != 0 ||
	    ss_ctl_register_method(ctl, "flow.flush", m_flow_flush, NULL) != 0) {
		snprintf(err, errlen, "cannot register the flows table, stats and methods");
		ct_fini();
		return -1;
	}
	return 0;
}

static struct ss_feature conntrack = {
	.name = "conntrack",
	/* ss_overlay_eni_max, the overlay arcs; ss_acl_current */
	.depends_on = SS_FEATURE_DEPS("overlay", "acl"),
	.init = ct_init,
	.fini = ct_fini,
	.poll = ct_poll,
};
SS_FEATURE_REGISTER(conntrack);
