/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Features (overlay, acl, conntrack, rdma, capture, ...) plug themselves in
 * without touching main.c: a feature file declares
 *
 *     static struct ss_feature acl = {
 *             .name = "acl",
 *             .depends_on = SS_FEATURE_DEPS("overlay"),
 *             .init = ..., .fini = ...,
 *     };
 *     SS_FEATURE_REGISTER(acl);
 *
 * and sswitchd calls every init() on the control thread after the control
 * plane exists and before the ports, graphs and state are set up, each
 * after the inits of the features it depends on (a stable topological
 * order: registration order among independent features). So a feature's
 * tables are registered, and prepared at each commit, after those of its
 * dependencies (overlay, acl, conntrack, rdma, capture today). init()
 * registers the feature's tables, stats scopes and methods with the
 * control plane (control/ctl.h); its nodes place themselves in the packet
 * path on named arcs (pipelines/common/arc.h). fini() runs after the
 * workers stopped, in the same order.
 */
#ifndef SS_FEATURE_H
#define SS_FEATURE_H

#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "control/ctl.h"

struct ss_config;

struct ss_feature {
	const char *name;
	/* names of the features whose init must run first (their tables are
	 * prepared first, their functions may be called), NULL-terminated;
	 * NULL: none */
	const char *const *depends_on;
	int (*init)(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen);
	void (*fini)(void);
	/* Optional: called on the control thread at every turn of the main
	 * loop (about every 50 ms, and after each control request); must not
	 * block. */
	void (*poll)(void);
	/* Optional, with poll: microseconds until poll has work of its own
	 * (a timer); the main loop waits no longer than that. */
	uint64_t (*poll_in_us)(void);
	struct ss_feature *next;
};

/* A NULL-terminated list for .depends_on. */
#define SS_FEATURE_DEPS(...) ((const char *const[]){ __VA_ARGS__, NULL })

void ss_feature_register(struct ss_feature *f);
#define SS_FEATURE_REGISTER(f)                                                                 \
	RTE_INIT(ss_feature_register_##f)                                                      \
	{                                                                                      \
		ss_feature_register(&f);                                                       \
	}

/* Sort v[0..n-1] so every feature comes after those it depends on; among
 * features free to go, the one first in v goes first. 0, or -1 with "feature
 * NAME: reason" in err (a dependency that is not in v, a cycle, a duplicate
 * name); v is then unchanged. */
int ss_features_sort(struct ss_feature **v, size_t n, char *err, size_t errlen);

/* Order the registered features (ss_features_sort), then init each.
 * 0, or -1 with "feature NAME: reason" in err. */
int ss_features_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen);
void ss_features_fini(void);
void ss_features_poll(void);
/* How long the main loop may wait for requests before the next poll: at
 * most max_ms, less when a feature's timer is due sooner. */
int ss_features_poll_timeout_ms(int max_ms);

#endif
