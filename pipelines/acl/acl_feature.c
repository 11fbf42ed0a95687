/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The ACL feature (depends on overlay): the `acl` table fed by acl_group, acl_rule and
 * eni objects (ENI indexes from the overlay, prepared before us), and the
 * `acl` stats scope ({GROUP: {PRIORITY: hits}}). The policy nodes that
 * evaluate the stages belong to conntrack (pipelines/conntrack/policy_*.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/prometheus.h"
#include "dataplane/worker-t.h"
#include "pipelines/acl/acl.h"
#include "pipelines/overlay/overlay.h"

static int store_foreach(void *arg, const struct ss_type *t,
			 int (*fn)(void *fnarg, const void *rec), void *fnarg)
{
	return ss_ctl_store_foreach_rec(arg, t, fn, fnarg);
}

static int eni_index(void *arg, const char *name)
{
	(void)arg;
	return ss_overlay_eni_index(name);
}

static int acl_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		       char *err, size_t errlen)
{
	struct ss_acl_store_ops ops = { .arg = ctl, .foreach = store_foreach,
					.eni_index = eni_index };

	(void)ctx;
	/* the workers exist by the first publication (restore) */
	ss_acl_table_set_workers(ss_acl_main, ss_workers.nb);
	return ss_acl_table_prepare(ss_acl_main, &ops, changes, n, err, errlen);
}

static void acl_commit(void *ctx)
{
	(void)ctx;
	ss_acl_table_commit(ss_acl_main);
}

static void acl_abort(void *ctx)
{
	(void)ctx;
	ss_acl_table_abort(ss_acl_main);
}

static void acl_reclaim(void *ctx)
{
	(void)ctx;
	ss_acl_table_reclaim(ss_acl_main);
}

static json_t *acl_stats_get(void *ctx)
{
	(void)ctx;
	return ss_acl_table_stats(ss_acl_main);
}

static void acl_stats_clear(void *ctx)
{
	(void)ctx;
	ss_acl_table_stats_clear(ss_acl_main);
}

static void acl_fini(void)
{
	struct ss_acl_table *t = ss_acl_main;

	ss_acl_main = NULL;
	ss_acl_table_destroy(t);
}

static int acl_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "acl",
		.prepare = acl_prepare,
		.commit = acl_commit,
		.abort = acl_abort,
		.reclaim = acl_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "acl",
		.get = acl_stats_get,
		.clear = acl_stats_clear,
	};

	(void)cfg;
	ss_acl_main = ss_acl_table_create();
	if (ss_acl_main == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_prom_scope_labels("acl", (const char *const[]){ "group", "priority", NULL }) != 0) {
		acl_fini();
		snprintf(err, errlen, "cannot register the acl table and stats");
		return -1;
	}
	return 0;
}

static struct ss_feature acl = {
	.name = "acl",
	.depends_on = SS_FEATURE_DEPS("overlay"),  /* ss_overlay_eni_index */
	.init = acl_init,
	.fini = acl_fini,
};
SS_FEATURE_REGISTER(acl);
