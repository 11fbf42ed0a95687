/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The rate limiter feature (docs/ratelimit.md): the `rate_limit` table fed
 * by ENI changes (the eni.rate_limit_* fields it adds, rl_types.c; ENI
 * indices from the overlay, whose tables are prepared first), and the
 * `rate_limit` stats scope ({ENI: {rate_limit_pps, rate_limit_bps, passed,
 * dropped}}, only ENIs with a limit). Its node places itself on the
 * outbound arc (rl_node.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>

#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/prometheus.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_types.h"
#include "pipelines/ratelimit/rl_int.h"
#include "pipelines/ratelimit/rl_types.h"

static int rl_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		      char *err, size_t errlen)
{
	(void)ctx;
	(void)ctl;
	for (size_t i = 0; i < n; i++) {
		const struct ss_change *c = &changes[i];
		bool del = c->op == SS_CHANGE_DELETE;
		const struct ss_eni_rec *eni;
		const struct ss_rl_eni_rec *lim;
		int rc;

		if (c->ty != &ss_type_eni)
			continue;
		eni = del ? c->old_rec : c->rec;
		lim = ss_rec_ext(&ss_rl_eni_ext, eni);
		rc = ss_rl_stage_eni(eni->name, ss_overlay_eni_index(eni->name),
				     del ? 0 : lim->pps, del ? 0 : lim->bps, del, err, errlen);
		if (rc != 0) {
			ss_rl_abort();
			return rc;
		}
	}
	if (ss_rl_finalize(err, errlen) != 0) {
		ss_rl_abort();
		return -ENOMEM;
	}
	return 0;
}

static void rl_commit(void *ctx)
{
	(void)ctx;
	ss_rl_commit();
}

static void rl_abort(void *ctx)
{
	(void)ctx;
	ss_rl_abort();
}

static void rl_reclaim(void *ctx)
{
	(void)ctx;
	ss_rl_reclaim();
}

static json_t *rl_stats_get(void *ctx)
{
	json_t *res = json_object();

	(void)ctx;
	for (uint32_t i = 1; i < ss_rl.n; i++) {
		const struct ss_rl_conf *c = &ss_rl.conf[i];
		uint64_t passed, dropped;

		if (c->name[0] == '\0' || (c->pps == 0 && c->bps == 0))
			continue;
		ss_rl_sum(i, &passed, &dropped);
		json_object_set_new(res, c->name, json_pack("{sIsIsIsI}",
			"rate_limit_pps", (json_int_t)c->pps, "rate_limit_bps", (json_int_t)c->bps,
			"passed", (json_int_t)(passed - ss_rl.baseline[i].passed),
			"dropped", (json_int_t)(dropped - ss_rl.baseline[i].dropped)));
	}
	return res;
}

static void rl_stats_clear(void *ctx)
{
	(void)ctx;
	for (uint32_t i = 1; i < ss_rl.n; i++)
		ss_rl_new_baseline(i);
}

static void rl_fini(void)
{
	ss_rl_teardown();
}

static int rl_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "rate_limit",
		.prepare = rl_prepare,
		.commit = rl_commit,
		.abort = rl_abort,
		.reclaim = rl_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "rate_limit",
		.get = rl_stats_get,
		.clear = rl_stats_clear,
	};
	int sockets[SS_MAX_WORKERS];

	for (unsigned int w = 0; w < cfg->nb_workers && w < SS_MAX_WORKERS; w++)
		sockets[w] = (int)rte_lcore_to_socket_id(cfg->workers[w]);
	if (ss_rl_setup(ss_overlay_eni_max(), cfg->nb_workers, sockets, err, errlen) != 0)
		return -1;
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_prom_scope_labels("rate_limit", (const char *const[]){ "eni", NULL, NULL }) != 0) {
		rl_fini();
		snprintf(err, errlen, "cannot register the rate_limit table and stats");
		return -1;
	}
	return 0;
}

static struct ss_feature ratelimit = {
	.name = "ratelimit",
	.depends_on = SS_FEATURE_DEPS("overlay"),
	.init = rl_init,
	.fini = rl_fini,
};
SS_FEATURE_REGISTER(ratelimit);
