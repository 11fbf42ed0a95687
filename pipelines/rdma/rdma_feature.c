/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The RDMA steering feature (depends on overlay): the `rdma` table fed by
 * the store (rdma.policy, rdma.config), the `rdma` stats scope,
 * rdma.qp.list and the runtime fields of rdma.policy.list / .get. Its node
 * places itself on parse's ingress arcs (rdma_steer.c).
 *
 * Publication (control/ctl.h): prepare() builds a whole new state aside
 * (policies, QP tables when qp_table_size changed, offload); commit() is one
 * release store of ss_rdma_cur; reclaim(), after the grace period, carries
 * the old state's final counters over and frees it. Control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "control/ctl.h"
#include "dataplane/feature.h"
#include "dataplane/prometheus.h"
#include "dataplane/port.h"
#include "dataplane/worker-t.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/rdma/rdma.h"
#include "pipelines/rdma/rdma_offload.h"
#include "pipelines/rdma/rdma_qp.h"
#include "pipelines/rdma/rdma_steer.h"

static struct {
	struct ss_ctl *ctl;
	struct ss_rdma_state *pending;     /* built by prepare, not yet published */
	struct ss_rdma_qpset *pending_qps; /* allocated by prepare (NULL: reused) */
	struct ss_rdma_state *retired;     /* replaced by commit, freed by reclaim */
	uint32_t gen;
	struct ss_verbs *verbs;
} R;

static void *rte_zalloc(size_t size, int socket)
{
	return rte_zmalloc_socket("ss_rdma", size, RTE_CACHE_LINE_SIZE,
				  socket < 0 ? SOCKET_ID_ANY : socket);
}

static const struct ss_rdma_mem rte_mem = { .zalloc = rte_zalloc, .free = rte_free };

static int port_info(void *arg, const char *name, struct ss_rdma_port_info *out)
{
	uint16_t i = ss_port_by_name(name);

	(void)arg;
	if (i == SS_PORT_NONE)
		return -ENOENT;
	out->index = i;
	out->lossless_lane = ss_ports.ports[i].lossless_lane;
	memcpy(out->mac, ss_ports.ports[i].mac.addr_bytes, 6);
	return 0;
}

static int eni_index(void *arg, const char *name)
{
	(void)arg;
	return ss_overlay_eni_index(name);
}

/* ---- the table ------------------------------------------------------------ */

/* The policies' records, copied: the store hands out transient ones. */
struct pol_vec {
	struct ss_rdma_policy_rec *v;
	size_t n, cap;
};

static int collect(void *arg, const void *rec)
{
	struct pol_vec *pv = arg;

	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 64;
		struct ss_rdma_policy_rec *v = realloc(pv->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		pv->v = v;
		pv->cap = cap;
	}
	memcpy(&pv->v[pv->n++], rec, sizeof(*pv->v));
	return 0;
}

static bool relevant(const struct ss_change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ch[i].ty == &ss_type_rdma_policy || ch[i].ty == &ss_type_rdma_config)
			return true;
	return false;
}

static int rdma_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
			char *err, size_t errlen)
{
	struct ss_rdma_state *cur = ss_rdma_cur;
	struct ss_rdma_settings cfg = { 26, 48, 65536, 60000 };
	const struct ss_rdma_config_rec *cr = ss_ctl_store_rec(ctl, &ss_type_rdma_config, "");
	struct pol_vec pv = { 0 };
	struct ss_rdma_qpset *qps;
	int sockets[SS_MAX_WORKERS];
	int rc;

	(void)ctx;
	R.pending = NULL;
	R.pending_qps = NULL;
	if (cur != NULL && !relevant(changes, n))
		return 0;
	if (cr != NULL && (rc = ss_rdma_settings_parse(cr, &cfg, err, errlen)) != 0)
		return rc;
	rc = ss_ctl_store_foreach_rec(ctl, &ss_type_rdma_policy, collect, &pv);
	if (rc != 0) {
		free(pv.v);
		snprintf(err, errlen, "out of memory collecting the rdma policies");
		return -ENOMEM;
	}
	for (unsigned int w = 0; w < ss_workers.nb; w++)
		sockets[w] = (int)rte_lcore_to_socket_id(ss_workers.w[w]->lcore);
	struct ss_rdma_env env = {
		.mem = &rte_mem, .nb_workers = ss_workers.nb, .sockets = sockets,
		.tsc_hz = rte_get_tsc_hz(), .port = port_info,
		.eni = eni_index,
	};
	qps = cur ? cur->qps : NULL;
	if (qps == NULL || qps->size != cfg.qp_table_size || qps->nb != ss_workers.nb) {
		qps = R.pending_qps = ss_rdma_qpset_new(&env, cfg.qp_table_size);
		if (qps == NULL) {
			free(pv.v);
			snprintf(err, errlen, "cannot allocate the QP tables (qp_table_size %u)",
				 cfg.qp_table_size);
			return -ENOMEM;
		}
	}
	rc = ss_rdma_state_build(&env, &cfg, pv.v, pv.n, qps, ++R.gen ? R.gen : ++R.gen,
				 &R.pending, err, errlen);
	free(pv.v);
	if (rc == 0 && ss_rdma_offload_install(R.pending, cur, R.verbs) != 0) {
		snprintf(err, errlen, "out of memory installing the rdma offloads");
		rc = -ENOMEM;
	}
	if (rc != 0) {
		if (R.pending)
			ss_rdma_offload_release(R.pending, R.verbs);
		ss_rdma_state_free(&rte_mem, R.pending);
		ss_rdma_qpset_free(&rte_mem, R.pending_qps);
		R.pending = NULL;
		R.pending_qps = NULL;
	}
	return rc;
}

static void rdma_commit(void *ctx)
{
	(void)ctx;
	if (R.pending == NULL)
		return;
	R.retired = ss_rdma_cur;
	ss_rdma_offload_commit(R.pending, R.retired);
	__atomic_store_n(&ss_rdma_cur, R.pending, __ATOMIC_RELEASE);
	R.pending = NULL;
	R.pending_qps = NULL;
}

static void rdma_abort(void *ctx)
{
	(void)ctx;
	if (R.pending == NULL)
		return;
	ss_rdma_offload_release(R.pending, R.verbs);
	ss_rdma_state_free(&rte_mem, R.pending);
	ss_rdma_qpset_free(&rte_mem, R.pending_qps);
	R.pending = NULL;
	R.pending_qps = NULL;
}

static void rdma_reclaim(void *ctx)
{
	struct ss_rdma_state *old = R.retired;

	(void)ctx;
	if (old == NULL)
		return;
	R.retired = NULL;
	ss_rdma_offload_carry(ss_rdma_cur, old, ss_workers.nb);
	ss_rdma_offload_release(old, R.verbs);
	if (old->qps != ss_rdma_cur->qps)
		ss_rdma_qpset_free(&rte_mem, old->qps);
	ss_rdma_state_free(&rte_mem, old);
}

/* ---- stats, rdma.policy.list fields ---------------------------------------- */

static void policy_totals(const struct ss_rdma_state *st, uint32_t i, uint64_t *pk, uint64_t *by)
{
	const struct ss_rdma_pol_ext *x = st->ext;

	ss_rdma_state_counters(st, ss_workers.nb, i, pk, by);
	if (x != NULL) {
		*pk += x[i].carry_packets - x[i].base_packets;
		*by += x[i].carry_bytes - x[i].base_bytes;
	}
}

static json_t *stats_get(void *ctx)
{
	const struct ss_rdma_state *st = ss_rdma_cur;
	json_t *pols = json_object(), *tables = json_object();
	uint64_t entries = 0, failed = 0, expired = 0, cap = 0;

	(void)ctx;
	for (uint32_t i = 0; st && i < st->nb_pol; i++) {
		uint64_t pk, by;

		policy_totals(st, i, &pk, &by);
		json_object_set_new(pols, st->names[i], json_pack("{s:I, s:I}", "packets",
								  (json_int_t)pk, "bytes",
								  (json_int_t)by));
	}
	for (uint32_t w = 0; st && st->qps && w < st->qps->nb; w++) {
		const struct ss_rdma_qpt *t = st->qps->t[w];

		entries += __atomic_load_n(&t->count, __ATOMIC_RELAXED);
		failed += __atomic_load_n(&t->insert_failed, __ATOMIC_RELAXED);
		expired += __atomic_load_n(&t->expired, __ATOMIC_RELAXED);
		cap += t->capacity;
	}
	json_object_set_new(tables, "entries", json_integer((json_int_t)entries));
	json_object_set_new(tables, "capacity", json_integer((json_int_t)cap));
	json_object_set_new(tables, "insert_failed", json_integer((json_int_t)failed));
	json_object_set_new(tables, "expired", json_integer((json_int_t)expired));
	return json_pack("{s:o, s:o}", "policies", pols, "qp_tables", tables);
}

static void stats_clear(void *ctx)
{
	struct ss_rdma_state *st = ss_rdma_cur;
	struct ss_rdma_pol_ext *x = st ? st->ext : NULL;

	(void)ctx;
	for (uint32_t i = 0; x && i < st->nb_pol; i++) {
		uint64_t pk, by;

		ss_rdma_state_counters(st, ss_workers.nb, i, &pk, &by);
		x[i].base_packets = x[i].carry_packets + pk;
		x[i].base_bytes = x[i].carry_bytes + by;
	}
	/* QP entries restart from zero on their next packet */
	__atomic_store_n(&ss_rdma_clear_gen, ss_rdma_clear_gen + 1, __ATOMIC_RELAXED);
}

static void policy_decorate(void *ctx, struct ss_ctl *ctl, const json_t *obj, json_t *out)
{
	const struct ss_rdma_state *st = ss_rdma_cur;
	const char *name = json_string_value(json_object_get(obj, "name"));
	int i = st && name ? ss_rdma_state_find(st, name) : -1;
	const struct ss_rdma_pol_ext *x = i >= 0 ? st->ext : NULL;
	uint64_t pk = 0, by = 0;

	(void)ctx;
	(void)ctl;
	if (i >= 0)
		policy_totals(st, (uint32_t)i, &pk, &by);
	json_object_set_new(out, "offloaded", json_boolean(x && x[i].offloaded));
	json_object_set_new(out, "offload_reason",
			    json_string(x ? x[i].reason : "not published to the data plane"));
	json_object_set_new(out, "lossless", json_boolean(i >= 0 && st->lossless[i]));
	json_object_set_new(out, "packets", json_integer((json_int_t)pk));
	json_object_set_new(out, "bytes", json_integer((json_int_t)by));
}

/* ---- rdma.qp.list ---------------------------------------------------------- */

struct qp_row {
	struct ss_rdma_qp_key key;
	struct ss_rdma_qp_counters c;
};

static int cmp_key(const void *a, const void *b)
{
	return memcmp(&((const struct qp_row *)a)->key, &((const struct qp_row *)b)->key,
		      sizeof(struct ss_rdma_qp_key));
}

static int cmp_packets(const void *a, const void *b)
{
	const struct qp_row *x = a, *y = b;

	if (x->c.packets != y->c.packets)
		return x->c.packets > y->c.packets ? -1 : 1;
	return cmp_key(a, b);
}

static void add_counters(struct ss_rdma_qp_counters *a, const struct ss_rdma_qp_counters *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;

	for (size_t k = 0; k < sizeof(*a) / sizeof(uint64_t); k++)
		x[k] += y[k];
}

static json_t *qp_json(const struct qp_row *r)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af = r->key.family == 4 ? AF_INET : AF_INET6;
	const struct ss_rdma_qp_counters *c = &r->c;

	inet_ntop(af, r->key.src, src, sizeof(src));
	inet_ntop(af, r->key.dst, dst, sizeof(dst));
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "src_ip", src, "dst_ip", dst, "dst_qp", (json_int_t)r->key.dqp,
			 "packets", (json_int_t)c->packets, "bytes", (json_int_t)c->bytes,
			 "send", (json_int_t)c->send, "write", (json_int_t)c->write,
			 "read_req", (json_int_t)c->read_req, "read_resp", (json_int_t)c->read_resp,
			 "ack", (json_int_t)c->ack, "nak", (json_int_t)c->nak,
			 "psn_gaps", (json_int_t)c->psn_gaps, "cnp", (json_int_t)c->cnp,
			 "ecn_ce", (json_int_t)c->ecn_ce);
}

static int qp_list(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		   char *err, size_t errlen, const char **err_field)
{
	const struct ss_rdma_state *st = ss_rdma_cur;
	const json_t *lim = params ? json_object_get(params, "limit") : NULL;
	uint64_t now = rte_rdtsc();
	uint32_t cg = __atomic_load_n(&ss_rdma_clear_gen, __ATOMIC_RELAXED);
	struct qp_row *rows = NULL;
	size_t n = 0, cap = 0, limit = SIZE_MAX;
	const char *key;
	json_t *v, *qps;

	(void)ctx;
	(void)ctl;
	if (params != NULL && !json_is_object(params) && !json_is_null(params)) {
		snprintf(err, errlen, "params must be an object");
		return SS_RPC_INVALID_PARAMS;
	}
	json_object_foreach((json_t *)params, key, v) {
		if (strcmp(key, "limit") != 0) {
			snprintf(err, errlen, "unknown field \"%.64s\"", key);
			*err_field = key; /* borrowed from params: the caller copies it */
			return SS_RPC_INVALID_PARAMS;
		}
	}
	if (lim != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 0) {
			snprintf(err, errlen, "limit must be an integer >= 0");
			*err_field = "limit";
			return SS_RPC_INVALID_PARAMS;
		}
		limit = (size_t)json_integer_value(lim);
	}
	for (uint32_t w = 0; st && st->qps && w < st->qps->nb; w++) {
		const struct ss_rdma_qpt *t = st->qps->t[w];

		for (uint32_t s = 0; s < ss_rdma_qpt_slots(t); s++) {
			struct ss_rdma_qp_entry e;

			if (!ss_rdma_qpt_read(t, s, now, st->idle_tsc, cg, &e))
				continue;
			if (n == cap) {
				struct qp_row *r = realloc(rows, (cap ? cap * 2 : 256) * sizeof(*r));

				if (r == NULL) {
					free(rows);
					snprintf(err, errlen, "out of memory");
					return SS_RPC_INTERNAL;
				}
				rows = r;
				cap = cap ? cap * 2 : 256;
			}
			rows[n].key = e.key;
			rows[n].c = e.c;
			n++;
		}
	}
	/* per-worker tables: the same QP may have been seen by several */
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_key);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && memcmp(&rows[m - 1].key, &rows[i].key, sizeof(rows[i].key)) == 0)
			add_counters(&rows[m - 1].c, &rows[i].c);
		else
			rows[m++] = rows[i];
	}
	if (m > 1)
		qsort(rows, m, sizeof(*rows), cmp_packets);
	qps = json_array();
	for (size_t i = 0; i < m && i < limit; i++)
		json_array_append_new(qps, qp_json(&rows[i]));
	free(rows);
	*result = json_pack("{s:o}", "qps", qps);
	return 0;
}

/* ---- feature -------------------------------------------------------------- */

static int rdma_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "rdma", .prepare = rdma_prepare, .commit = rdma_commit,
		.abort = rdma_abort, .reclaim = rdma_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "rdma", .get = stats_get, .clear = stats_clear,
	};
	char status[512];

	(void)cfg;
	R.ctl = ctl;
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_prom_scope_labels("rdma", (const char *const[]){ "table", "policy", NULL }) != 0 ||
	    ss_ctl_register_method(ctl, "rdma.qp.list", qp_list, NULL) != 0 ||
	    ss_ctl_register_decorator(ctl, "rdma.policy", policy_decorate, NULL) != 0) {
		snprintf(err, errlen, "cannot register the rdma table, stats and methods");
		return -1;
	}
	R.verbs = ss_verbs_open(&ss_verbs_ibv_ops, status, sizeof(status));
	RTE_LOG(INFO, USER1, "rdma: libibverbs: %s\n", status);
	return 0;
}

static void rdma_fini(void)
{
	struct ss_rdma_state *st = ss_rdma_cur;

	__atomic_store_n(&ss_rdma_cur, NULL, __ATOMIC_RELEASE);
	if (st != NULL) {
		ss_rdma_offload_release(st, R.verbs);
		ss_rdma_qpset_free(&rte_mem, st->qps);
		ss_rdma_state_free(&rte_mem, st);
	}
	ss_verbs_close(R.verbs);
	R.verbs = NULL;
}

static struct ss_feature rdma_feature = {
	.name = "rdma",
	/* ss_overlay_mapping_lookup, ss_overlay_encap_to_pa, parse's arcs */
	.depends_on = SS_FEATURE_DEPS("overlay"),
	.init = rdma_init,
	.fini = rdma_fini,
};
SS_FEATURE_REGISTER(rdma_feature);
