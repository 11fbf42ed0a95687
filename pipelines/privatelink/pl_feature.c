/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The Private Link feature (SPEC 3.8, docs/privatelink.md): the
 * `privatelink` table fed by tunnel changes, private-link mapping changes
 * and changes of ENIs with a pl_underlay_ip (pl_table.c; ENI and VNET
 * indices from the overlay, whose tables are prepared first), and the
 * `privatelink` stats scope ({ENI: {pl_packets, pl_bytes}}, the ENIs with a
 * pl_underlay_ip). Its nodes place themselves on arcs: pl_out on
 * `outbound` (node_pl_out.c), pl_in on `ingress.fabric` (node_pl_in.c).
 */
#include <errno.h>
#include <stdio.h>

#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/prometheus.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/privatelink/pl.h"

static int pl_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		      char *err, size_t errlen)
{
	(void)ctx;
	return ss_pl_prepare(ctl, changes, n, err, errlen);
}

static void pl_commit(void *ctx)
{
	(void)ctx;
	ss_pl_commit();
}

static void pl_abort(void *ctx)
{
	(void)ctx;
	ss_pl_abort();
}

static void pl_reclaim(void *ctx)
{
	(void)ctx;
	ss_pl_reclaim();
}

static void stats_one(void *arg, const char *name, uint32_t index)
{
	struct ss_pl_ctr c;

	ss_pl_counters(index, &c);
	json_object_set_new(arg, name, json_pack("{sIsI}", "pl_packets", (json_int_t)c.packets,
						 "pl_bytes", (json_int_t)c.bytes));
}

static json_t *pl_stats_get(void *ctx)
{
	json_t *res = json_object();

	(void)ctx;
	if (res != NULL)
		ss_pl_foreach_eni(stats_one, res);
	return res;
}

static void pl_stats_clear(void *ctx)
{
	(void)ctx;
	ss_pl_counters_clear();
}

static void pl_fini(void)
{
	ss_pl_teardown();
}

static int pl_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "privatelink",
		.prepare = pl_prepare,
		.commit = pl_commit,
		.abort = pl_abort,
		.reclaim = pl_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "privatelink",
		.get = pl_stats_get,
		.clear = pl_stats_clear,
	};

	if (ss_pl_setup(ss_overlay_eni_max(), cfg->nb_workers, err, errlen) != 0)
		return -1;
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_prom_scope_labels("privatelink", (const char *const[]){ "eni", NULL, NULL }) != 0) {
		pl_fini();
		snprintf(err, errlen, "cannot register the privatelink table and stats");
		return -1;
	}
	return 0;
}

static struct ss_feature privatelink = {
	.name = "privatelink",
	.depends_on = SS_FEATURE_DEPS("overlay", "conntrack"),
	.init = pl_init,
	.fini = pl_fini,
};
SS_FEATURE_REGISTER(privatelink);
