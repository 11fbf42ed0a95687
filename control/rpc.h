/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The JSON-RPC layer's state (rpc.c): what the daemon and the features
 * registered for the reads it serves (stats scopes, decorators, ports) and
 * the start time for system.info. The facade owns it (control/ctl.c) and
 * fills it from the registrations; rpc.c reaches it as ss_core(ctl)->rpc.
 * No layer below rpc includes this header.
 */
#ifndef SS_CTL_RPC_H
#define SS_CTL_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "control/ctl-int.h"

struct ss_port {
	char *name;
	char *role;                  /* host, fabric, storage */
};

struct ss_decorator_reg {
	int type;
	ss_ctl_decorate_fn fn;
	void *ctx;
};

struct ss_rpc_state {
	struct timespec started;     /* CLOCK_MONOTONIC at ss_ctl_create() */
	struct ss_ctl_stats *stats;
	size_t nstats;
	struct ss_decorator_reg *decorators;
	size_t ndecorators;
	struct ss_port *ports;
	size_t nports;
	bool no_bulk_raw;            /* tests: force the jansson path (bulk.c) */
};

#endif /* SS_CTL_RPC_H */
