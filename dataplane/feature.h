/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Features (overlay, acl, conntrack, rdma, capture, ...) plug themselves in
 * without touching main.c: a feature file declares
 *
 *     static struct ss_feature overlay = { .name = "overlay", .order = 10,
 *                                          .init = ..., .fini = ... };
 *     SS_FEATURE_REGISTER(overlay);
 *
 * and sswitchd calls every init() on the control thread after the control
 * plane exists and before the ports, graphs and state are set up, by
 * ascending `order` (so tables are registered, and prepared at each commit,
 * in that order: overlay 10, acl 20, conntrack 30, rdma 40, capture 50). init() registers the feature's tables, stats scopes and
 * methods with the control plane (control/ctl.h) and its ingress edges with
 * parse (pipelines/parse/parse_node.h). fini() runs after the workers stopped.
 */
#ifndef SS_FEATURE_H
#define SS_FEATURE_H

#include <stddef.h>

#include <rte_common.h>

#include "control/ctl.h"

struct ss_config;

struct ss_feature {
	const char *name;
	int order;
	int (*init)(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen);
	void (*fini)(void);
	/* Optional: called on the control thread at every turn of the main
	 * loop (about every 50 ms, and after each control request); must not
	 * block. */
	void (*poll)(void);
	struct ss_feature *next;
};

void ss_feature_register(struct ss_feature *f);
#define SS_FEATURE_REGISTER(f)                                                                 \
	RTE_INIT(ss_feature_register_##f)                                                      \
	{                                                                                      \
		ss_feature_register(&f);                                                       \
	}

/* 0, or -1 with "feature NAME: reason" in err. */
int ss_features_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen);
void ss_features_fini(void);
void ss_features_poll(void);

#endif
