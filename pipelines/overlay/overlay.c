/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The overlay feature: registers the overlay tables with the control plane
 * and the `eni` stats scope; declares the outbound and inbound arcs and
 * attaches its entry nodes to parse's ingress arcs (host ports:
 * overlay_host; fabric / storage ports: overlay_fabric); serves the ENI
 * index to the features that depend on it (overlay.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_graph.h>
#include <rte_malloc.h>

#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/prometheus.h"
#include "dataplane/worker-t.h"
#include "pipelines/overlay/ovl_pkt.h"
#include "pipelines/parse/parse_node.h"

struct ss_overlay_eni_counters *ss_overlay_eni_ctr[SS_MAX_WORKERS];

static unsigned int nb_workers;
/* stats.clear baselines (control thread): counters are never written by
 * anyone but their worker */
static struct ss_overlay_eni_counters *baseline;

/* ---- arcs ------------------------------------------------------------------- */

struct ss_arc ss_ovl_arc_outbound = {
	.name = SS_ARC_OUTBOUND,
	.start = { [OVL_OUT_FROM_HOST] = OVL_NODE_HOST, [OVL_OUT_FROM_FABRIC] = OVL_NODE_FABRIC },
	.end = OVL_NODE_ROUTE_OUT,
};
SS_ARC_REGISTER(ss_ovl_arc_outbound);

struct ss_arc ss_ovl_arc_inbound = {
	.name = SS_ARC_INBOUND,
	.start = { OVL_NODE_INBOUND },
	.end = OVL_NODE_DECAP,
};
SS_ARC_REGISTER(ss_ovl_arc_inbound);

/* The entry nodes on parse's ingress arcs: host ports to the outbound
 * pipeline, fabric and storage ports to the VXLAN one. */
static struct ss_arc_feature ingress_host = { .arc = SS_ARC_INGRESS_HOST, .node = OVL_NODE_HOST };
SS_ARC_FEATURE_REGISTER(ingress_host);
static struct ss_arc_feature ingress_fabric = {
	.arc = SS_ARC_INGRESS_FABRIC, .node = OVL_NODE_FABRIC,
};
SS_ARC_FEATURE_REGISTER(ingress_fabric);
static struct ss_arc_feature ingress_storage = {
	.arc = SS_ARC_INGRESS_STORAGE, .node = OVL_NODE_FABRIC,
};
SS_ARC_FEATURE_REGISTER(ingress_storage);

int ss_overlay_eni_index(const char *name)
{
	return ss_ovl_eni_index(name);
}

uint32_t ss_overlay_eni_max(void)
{
	return ss_ovl.max_enis;
}

uint32_t ss_overlay_eni_vni(uint32_t eni)
{
	const struct ss_ovl_eni *e;

	if (eni == 0 || eni > ss_ovl.max_enis || ss_ovl.enis == NULL)
		return 0;
	e = ss_ovl_eni_get(eni);
	return e != NULL ? e->vni : 0;
}

int ss_overlay_vnet_index(const char *name)
{
	return ss_ovl_vnet_index(name);
}

uint32_t ss_overlay_vnet_vni(const char *name)
{
	int idx = ss_ovl_vnet_index(name);

	return idx > 0 ? ss_ovl.vnets[idx].vni : 0;
}

/* ---- `eni` stats scope --------------------------------------------------------- */

static void eni_sum(uint32_t idx, struct ss_overlay_eni_counters *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int w = 0; w < nb_workers; w++) {
		const struct ss_overlay_eni_counters *c = &ss_overlay_eni_ctr[w][idx];
		s->rx_packets += c->rx_packets;
		s->rx_bytes += c->rx_bytes;
		s->tx_packets += c->tx_packets;
		s->tx_bytes += c->tx_bytes;
		s->acl_drops += c->acl_drops;
		s->flows += c->flows;
	}
}

/* A new ENI at idx: nobody counts there yet (the index was free for a grace
 * period); what its predecessor counted becomes the baseline. */
static void eni_new(uint32_t idx)
{
	eni_sum(idx, &baseline[idx]);
	baseline[idx].flows = 0;
}

static json_t *eni_stats_get(void *ctx)
{
	json_t *res = json_object();

	(void)ctx;
	for (uint32_t i = 1; i <= ss_ovl.max_enis; i++) {
		const struct ss_overlay_eni_counters *b = &baseline[i];
		struct ss_overlay_eni_counters s;
		const char *name = ss_ovl_eni_name(i);

		if (name == NULL)
			continue;
		eni_sum(i, &s);
		json_object_set_new(res, name, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			"rx_packets", (json_int_t)(s.rx_packets - b->rx_packets),
			"rx_bytes", (json_int_t)(s.rx_bytes - b->rx_bytes),
			"tx_packets", (json_int_t)(s.tx_packets - b->tx_packets),
			"tx_bytes", (json_int_t)(s.tx_bytes - b->tx_bytes),
			"acl_drops", (json_int_t)(s.acl_drops - b->acl_drops),
			"flows", (json_int_t)(s.flows - b->flows)));
	}
	return res;
}

static void eni_stats_clear(void *ctx)
{
	(void)ctx;
	for (uint32_t i = 1; i <= ss_ovl.max_enis; i++) {
		int64_t flows = baseline[i].flows;   /* a gauge: not cleared */
		eni_sum(i, &baseline[i]);
		baseline[i].flows = flows;
	}
}

/* ---- feature ----------------------------------------------------------------------- */

static void overlay_fini(void)
{
	ss_ovl_tables_fini();
	for (unsigned int w = 0; w < SS_MAX_WORKERS; w++) {
		rte_free(ss_overlay_eni_ctr[w]);
		ss_overlay_eni_ctr[w] = NULL;
	}
	free(baseline);
	baseline = NULL;
}

static int overlay_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "overlay",
		.prepare = ss_ovl_prepare,
		.commit = ss_ovl_commit,
		.abort = ss_ovl_abort,
		.reclaim = ss_ovl_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "eni",
		.get = eni_stats_get,
		.clear = eni_stats_clear,
	};
	size_t n;
	int rc = ss_ovl_tables_init(&cfg->limits);

	if (rc != 0) {
		snprintf(err, errlen, "cannot allocate the overlay tables: %s", strerror(-rc));
		return -1;
	}
	ss_ovl.on_eni_new = eni_new;
	nb_workers = cfg->nb_workers;
	n = (size_t)ss_ovl.max_enis + 1;
	baseline = calloc(n, sizeof(*baseline));
	bool ok = baseline != NULL;
	for (unsigned int w = 0; w < nb_workers && ok; w++) {
		ss_overlay_eni_ctr[w] = rte_zmalloc("ss_ovl_eni_ctr", n * sizeof(*baseline),
						    RTE_CACHE_LINE_SIZE);
		ok = ss_overlay_eni_ctr[w] != NULL;
	}
	if (!ok) {
		overlay_fini();
		snprintf(err, errlen, "cannot allocate the per-ENI counters");
		return -1;
	}
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_prom_scope_labels("eni", (const char *const[]){ "eni", NULL, NULL }) != 0) {
		overlay_fini();
		snprintf(err, errlen, "cannot register the overlay tables");
		return -1;
	}
	return 0;
}

static struct ss_feature overlay = {
	.name = "overlay",
	.init = overlay_init,
	.fini = overlay_fini,
};
SS_FEATURE_REGISTER(overlay);
