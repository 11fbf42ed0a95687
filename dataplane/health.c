/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_graph.h>

#include "dataplane/health.h"
#include "dataplane/port-t.h"
#include "dataplane/worker-t.h"

struct tick {
	uint64_t rx[SS_MAX_PORTS], rx_drop[SS_MAX_PORTS], tx[SS_MAX_PORTS], tx_drop[SS_MAX_PORTS];
	uint64_t walks[SS_MAX_WORKERS];
	uint64_t drops[SS_DROP_MAX];
};

static struct tick prev, last_delta;

/* features' findings (ss_health_add_source) */
#define MAX_SOURCES 8
static struct {
	ss_health_findings_fn fn;
	void *ctx;
} sources[MAX_SOURCES];
static unsigned int nb_sources;

int ss_health_add_source(ss_health_findings_fn fn, void *ctx)
{
	if (nb_sources == MAX_SOURCES)
		return -ENOSPC;
	sources[nb_sources].fn = fn;
	sources[nb_sources].ctx = ctx;
	nb_sources++;
	return 0;
}
static bool have_prev, have_delta;

static void snapshot(struct tick *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		const struct ss_worker *w = ss_workers.w[i];
		t->walks[i] = w->walks;
		for (uint16_t p = 0; p < ss_ports.nb_ports; p++) {
			t->rx[p] += w->port[p].rx_packets;
			t->rx_drop[p] += w->port[p].rx_dropped;
			t->tx[p] += w->port[p].tx_packets;
			t->tx_drop[p] += w->port[p].tx_dropped;
		}
		for (unsigned int r = 0; r < SS_DROP_MAX; r++)
			t->drops[r] += w->drops[r];
	}
}

void ss_health_tick(void)
{
	struct tick now;

	snapshot(&now);
	if (have_prev) {
		uint64_t *a = (uint64_t *)&now, *b = (uint64_t *)&prev, *d = (uint64_t *)&last_delta;
		for (size_t i = 0; i < sizeof(now) / sizeof(uint64_t); i++)
			d[i] = a[i] - b[i];
		have_delta = true;
	}
	prev = now;
	have_prev = true;
}

static json_t *finding(const char *kind, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static json_t *finding(const char *kind, const char *object, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s, s:s}", "finding", kind, "object", object, "message", msg);
}

static int health_get(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		      char *err, size_t errlen, const char **err_field)
{
	json_t *ports = json_object(), *findings = json_array();

	*result = json_object();
	RTE_SET_USED(ctx);
	RTE_SET_USED(ctl);
	RTE_SET_USED(params);
	RTE_SET_USED(err);
	RTE_SET_USED(errlen);
	RTE_SET_USED(err_field);
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++) {
		const struct ss_port *p = &ss_ports.ports[i];
		struct rte_eth_link link;
		struct rte_eth_stats es;

		memset(&link, 0, sizeof(link));
		memset(&es, 0, sizeof(es));
		rte_eth_link_get_nowait(p->eth_id, &link);
		rte_eth_stats_get(p->eth_id, &es);
		json_object_set_new(ports, p->name,
				    json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "link_up",
					      link.link_status == RTE_ETH_LINK_UP, "speed_mbps",
					      (json_int_t)link.link_speed, "rx_errors",
					      (json_int_t)es.ierrors, "tx_errors", (json_int_t)es.oerrors,
					      "rx_missed", (json_int_t)es.imissed, "rx_nombuf",
					      (json_int_t)es.rx_nombuf));
		if (link.link_status != RTE_ETH_LINK_UP)
			json_array_append_new(findings, finding("link_down", p->name,
								"port %s: link is down", p->name));
		if (!have_delta)
			continue;
		uint64_t rx = last_delta.rx[i], dr = last_delta.rx_drop[i];
		if (dr > 100 && dr * 100 > rx)
			json_array_append_new(
				findings, finding("drop_spike", p->name,
						  "port %s: %" PRIu64 " of %" PRIu64
						  " received packets dropped in the last interval",
						  p->name, dr, rx));
		if (last_delta.tx_drop[i] > 0 && last_delta.tx[i] == 0)
			json_array_append_new(
				findings, finding("tx_stuck", p->name,
						  "port %s: %" PRIu64
						  " packets refused by the tx queues, none sent",
						  p->name, last_delta.tx_drop[i]));
	}
	if (have_delta) {
		for (unsigned int i = 0; i < ss_workers.nb; i++)
			if (last_delta.walks[i] == 0) {
				char name[32];
				snprintf(name, sizeof(name), "worker%u", i);
				json_array_append_new(findings,
						      finding("worker_stalled", name,
							      "worker %u (lcore %u) made no progress",
							      i, ss_workers.w[i]->lcore));
			}
		uint64_t top = 0;
		unsigned int top_r = 0;
		for (unsigned int r = 1; r < SS_DROP_MAX; r++)
			if (last_delta.drops[r] > top) {
				top = last_delta.drops[r];
				top_r = r;
			}
		if (top)
			json_object_set_new(*result, "top_drop_reason",
					    json_string(ss_drop_name(top_r)));
	}
	for (unsigned int i = 0; i < nb_sources; i++)
		sources[i].fn(sources[i].ctx, findings);
	json_object_set_new(*result, "ports", ports);
	json_object_set_new(*result, "findings", findings);
	json_object_set_new(*result, "healthy", json_boolean(json_array_size(findings) == 0));
	return 0;
}

static int pipeline_graph(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
			  char *err, size_t errlen, const char **err_field)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	RTE_SET_USED(ctx);
	RTE_SET_USED(ctl);
	RTE_SET_USED(params);
	RTE_SET_USED(err_field);
	if (ss_workers.nb == 0) {
		snprintf(err, errlen, "no worker graph exists");
		return SS_RPC_INTERNAL;
	}
	f = open_memstream(&text, &len);
	if (f == NULL || rte_graph_export(ss_workers.w[0]->graph_name, f) != 0) {
		if (f)
			fclose(f);
		free(text);
		snprintf(err, errlen, "cannot export graph %s", ss_workers.w[0]->graph_name);
		return SS_RPC_INTERNAL;
	}
	fclose(f);
	*result = json_pack("{s:s, s:s#}", "graph", ss_workers.w[0]->graph_name, "dot", text, len);
	free(text);
	return 0;
}

int ss_health_register(struct ss_ctl *ctl)
{
	if (ss_ctl_register_method(ctl, "health.get", health_get, NULL) ||
	    ss_ctl_register_method(ctl, "pipeline.graph", pipeline_graph, NULL))
		return -1;
	return 0;
}
