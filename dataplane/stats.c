/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Counter snapshots. Totals are summed over the workers' private counters;
 * stats.clear moves a baseline so the workers' counters are never written by
 * another thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_telemetry.h>

#include "dataplane/port-t.h"
#include "dataplane/stats.h"
#include "dataplane/worker-t.h"

#define MAX_NODES 256

struct port_totals {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes, rx_dropped, tx_dropped, errors;
};

struct node_totals {
	uint64_t packets, calls, cycles;
};

struct worker_totals {
	uint64_t walks, busy_walks, busy_cycles, total_cycles, rx_packets;
};

static struct port_totals base_port[SS_MAX_PORTS];
static uint64_t base_drop[SS_DROP_MAX];
static struct node_totals base_node[MAX_NODES];
static uint64_t base_node_drop[SS_MAX_DROP_NODES][SS_DROP_MAX];
static struct worker_totals base_worker[SS_MAX_WORKERS];

static void port_sum(uint16_t pi, struct port_totals *t)
{
	const struct ss_port *p = &ss_ports.ports[pi];
	struct rte_eth_stats es;

	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		const struct ss_port_counters *c = &ss_workers.w[i]->port[pi];
		t->rx_packets += c->rx_packets;
		t->rx_bytes += c->rx_bytes;
		t->tx_packets += c->tx_packets;
		t->tx_bytes += c->tx_bytes;
		t->rx_dropped += c->rx_dropped;
		t->tx_dropped += c->tx_dropped;
	}
	/* what the device itself lost before we saw it */
	if (rte_eth_stats_get(p->eth_id, &es) == 0) {
		t->rx_dropped += es.imissed + es.rx_nombuf;
		t->errors += es.ierrors + es.oerrors;
	}
}

static uint64_t drop_sum(unsigned int r)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < ss_workers.nb; i++)
		n += ss_workers.w[i]->drops[r];
	return n;
}

static int node_sum(rte_node_t id, struct node_totals *t)
{
	const char *name = rte_node_id_to_name(id);
	int found = 0;

	memset(t, 0, sizeof(*t));
	if (name == NULL)
		return 0;
	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		struct rte_node *n = rte_graph_node_get_by_name(ss_workers.w[i]->graph_name, name);
		if (n == NULL)
			continue;
		found = 1;
		t->packets += n->total_objs;
		t->calls += n->total_calls;
		t->cycles += n->total_cycles;
	}
	return found;
}

static void set_u64(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static uint64_t node_drop_sum(rte_node_t id, unsigned int r)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < ss_workers.nb; i++)
		n += ss_workers.w[i]->node_drops[id][r];
	return n;
}

/* {REASON: n} for the reasons this node dropped packets for since the last
 * clear (never-seen reasons are absent) */
static json_t *node_drops(rte_node_t id)
{
	json_t *o = json_object();

	if (id >= SS_MAX_DROP_NODES)
		return o;
	for (unsigned int r = 0; r < SS_DROP_MAX; r++) {
		uint64_t n = node_drop_sum(id, r) - base_node_drop[id][r];
		if (n)
			set_u64(o, r == SS_DROP_NONE ? "unnamed" : ss_drop_name(r), n);
	}
	return o;
}

static void worker_sum(unsigned int i, struct worker_totals *t)
{
	const struct ss_worker *w = ss_workers.w[i];

	t->walks = w->walks;
	t->busy_walks = w->busy_walks;
	t->busy_cycles = w->busy_cycles;
	t->total_cycles = w->total_cycles;
	t->rx_packets = 0;
	for (uint16_t p = 0; p < ss_ports.nb_ports; p++)
		t->rx_packets += w->port[p].rx_packets;
}

json_t *ss_stats_ports(void)
{
	json_t *res = json_object();

	for (uint16_t i = 0; i < ss_ports.nb_ports; i++) {
		struct port_totals t;
		const struct port_totals *b = &base_port[i];
		json_t *o = json_object();

		port_sum(i, &t);
		set_u64(o, "rx_packets", t.rx_packets - b->rx_packets);
		set_u64(o, "tx_packets", t.tx_packets - b->tx_packets);
		set_u64(o, "rx_bytes", t.rx_bytes - b->rx_bytes);
		set_u64(o, "tx_bytes", t.tx_bytes - b->tx_bytes);
		set_u64(o, "rx_dropped", t.rx_dropped - b->rx_dropped);
		set_u64(o, "tx_dropped", t.tx_dropped - b->tx_dropped);
		set_u64(o, "errors", t.errors - b->errors);
		json_object_set_new(res, ss_ports.ports[i].name, o);
	}
	return res;
}

void ss_stats_clear_ports(void)
{
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++)
		port_sum(i, &base_port[i]);
}

/* Every reason is listed, zeros included, so a scraper sees the full set. */
json_t *ss_stats_drops(void)
{
	json_t *res = json_object();

	for (unsigned int r = 1; r < SS_DROP_MAX; r++)
		set_u64(res, ss_drop_name(r), drop_sum(r) - base_drop[r]);
	uint64_t unnamed = drop_sum(SS_DROP_NONE) - base_drop[SS_DROP_NONE];
	if (unnamed)
		set_u64(res, "unnamed", unnamed); /* a stage dropped without a reason: a bug */
	return res;
}

void ss_stats_clear_drops(void)
{
	for (unsigned int r = 0; r < SS_DROP_MAX; r++)
		base_drop[r] = drop_sum(r);
}

json_t *ss_stats_nodes(void)
{
	json_t *res = json_object();
	rte_node_t max = rte_node_max_count();

	for (rte_node_t id = 0; id < max && id < MAX_NODES; id++) {
		struct node_totals t;
		if (!node_sum(id, &t))
			continue;
		json_t *o = json_object();
		set_u64(o, "packets", t.packets - base_node[id].packets);
		set_u64(o, "calls", t.calls - base_node[id].calls);
		set_u64(o, "cycles", t.cycles - base_node[id].cycles);
		json_object_set_new(o, "drops", node_drops(id));
		json_object_set_new(res, rte_node_id_to_name(id), o);
	}
	return res;
}

void ss_stats_clear_nodes(void)
{
	rte_node_t max = rte_node_max_count();

	for (rte_node_t id = 0; id < max && id < MAX_NODES; id++)
		node_sum(id, &base_node[id]);
	for (rte_node_t id = 0; id < max && id < SS_MAX_DROP_NODES; id++)
		for (unsigned int r = 0; r < SS_DROP_MAX; r++)
			base_node_drop[id][r] = node_drop_sum(id, r);
}

json_t *ss_stats_workers(void)
{
	json_t *res = json_object();

	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		struct worker_totals t;
		const struct worker_totals *b = &base_worker[i];
		json_t *o = json_object();
		char key[16];

		worker_sum(i, &t);
		set_u64(o, "lcore", ss_workers.w[i]->lcore);
		set_u64(o, "tsc_hz", rte_get_tsc_hz());
		set_u64(o, "walks", t.walks - b->walks);
		set_u64(o, "busy_walks", t.busy_walks - b->busy_walks);
		set_u64(o, "busy_cycles", t.busy_cycles - b->busy_cycles);
		set_u64(o, "total_cycles", t.total_cycles - b->total_cycles);
		set_u64(o, "rx_packets", t.rx_packets - b->rx_packets);
		snprintf(key, sizeof(key), "%u", i);
		json_object_set_new(res, key, o);
	}
	return res;
}

void ss_stats_clear_workers(void)
{
	for (unsigned int i = 0; i < ss_workers.nb; i++)
		worker_sum(i, &base_worker[i]);
}

static json_t *get_ports(void *ctx) { RTE_SET_USED(ctx); return ss_stats_ports(); }
static json_t *get_drops(void *ctx) { RTE_SET_USED(ctx); return ss_stats_drops(); }
static json_t *get_nodes(void *ctx) { RTE_SET_USED(ctx); return ss_stats_nodes(); }
static json_t *get_workers(void *ctx) { RTE_SET_USED(ctx); return ss_stats_workers(); }
static void clr_ports(void *ctx) { RTE_SET_USED(ctx); ss_stats_clear_ports(); }
static void clr_drops(void *ctx) { RTE_SET_USED(ctx); ss_stats_clear_drops(); }
static void clr_nodes(void *ctx) { RTE_SET_USED(ctx); ss_stats_clear_nodes(); }
static void clr_workers(void *ctx) { RTE_SET_USED(ctx); ss_stats_clear_workers(); }

int ss_stats_register(struct ss_ctl *ctl)
{
	static const struct ss_ctl_stats scopes[] = {
		{ "ports", get_ports, clr_ports, NULL },
		{ "drops", get_drops, clr_drops, NULL },
		{ "nodes", get_nodes, clr_nodes, NULL },
		{ "workers", get_workers, clr_workers, NULL },
	};

	for (size_t i = 0; i < RTE_DIM(scopes); i++)
		if (ss_ctl_register_stats(ctl, &scopes[i]) != 0)
			return -1;
	return 0;
}

/* --- DPDK telemetry: /sswitch/<scope>, two levels of dictionaries --- */

static int json_to_tel(const json_t *obj, struct rte_tel_data *d, int depth)
{
	const char *k;
	json_t *v;

	rte_tel_data_start_dict(d);
	json_object_foreach((json_t *)obj, k, v) {
		if (json_is_integer(v)) {
			rte_tel_data_add_dict_u64(d, k, (uint64_t)json_integer_value(v));
		} else if (json_is_string(v)) {
			rte_tel_data_add_dict_string(d, k, json_string_value(v));
		} else if (json_is_object(v) && depth == 0) {
			struct rte_tel_data *c = rte_tel_data_alloc();
			if (c == NULL)
				return -ENOMEM;
			json_to_tel(v, c, 1);
			rte_tel_data_add_dict_container(d, k, c, 0);
		}
	}
	return 0;
}

static int tel_scope(json_t *(*fn)(void), struct rte_tel_data *d)
{
	json_t *o = fn();
	int rc = json_to_tel(o, d, 0);

	json_decref(o);
	return rc;
}

static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tel_scope(ss_stats_ports, d);
}

static int tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tel_scope(ss_stats_drops, d);
}

static int tel_nodes(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tel_scope(ss_stats_nodes, d);
}

static int tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	return tel_scope(ss_stats_workers, d);
}

int ss_stats_telemetry_init(void)
{
	if (rte_telemetry_register_cmd("/sswitch/ports", tel_ports,
				       "Per-port counters. Takes no parameters") ||
	    rte_telemetry_register_cmd("/sswitch/drops", tel_drops,
				       "Drops per reason. Takes no parameters") ||
	    rte_telemetry_register_cmd("/sswitch/nodes", tel_nodes,
				       "Per graph node packets, calls, cycles. Takes no parameters") ||
	    rte_telemetry_register_cmd("/sswitch/workers", tel_workers,
				       "Per worker walks and cycles. Takes no parameters"))
		return -1;
	return 0;
}

/* --- console --- */

static const char *rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

void ss_stats_print_line(FILE *out, double interval_s)
{
	static struct port_totals prev[SS_MAX_PORTS];
	static uint64_t prev_drop[SS_DROP_MAX];
	char line[1024];
	size_t n = 0;
	uint64_t top = 0, total_drop = 0;
	unsigned int top_r = 0, nb_reasons = 0;

	if (interval_s <= 0)
		interval_s = 1;
	char r1[16], r2[16], r3[16];

	for (uint16_t i = 0; i < ss_ports.nb_ports && n < sizeof(line) - 128; i++) {
		struct port_totals t;
		port_sum(i, &t);
		n += (size_t)snprintf(
			line + n, sizeof(line) - n, "%s rx %s tx %s pps | ", ss_ports.ports[i].name,
			rate(r1, sizeof(r1), (double)(t.rx_packets - prev[i].rx_packets) / interval_s),
			rate(r2, sizeof(r2), (double)(t.tx_packets - prev[i].tx_packets) / interval_s));
		prev[i] = t;
	}
	for (unsigned int r = 0; r < SS_DROP_MAX; r++) {
		uint64_t v = drop_sum(r);
		uint64_t d = v - prev_drop[r];
		total_drop += d;
		nb_reasons += d > 0;
		if (d > top) {
			top = d;
			top_r = r;
		}
		prev_drop[r] = v;
	}
	/* which reasons: `sswitchctl stats drops`, the doc of each reason:
	 * docs/operations.md and the feature documents */
	if (top)
		snprintf(line + n, sizeof(line) - n,
			 "drops %s/s, %u reason%s (most: %s; sswitchctl stats drops)",
			 rate(r3, sizeof(r3), (double)total_drop / interval_s), nb_reasons,
			 nb_reasons == 1 ? "" : "s", ss_drop_name(top_r));
	else
		snprintf(line + n, sizeof(line) - n, "drops 0/s");
	fprintf(out, "sswitchd: %s\n", line);
	fflush(out);
}
