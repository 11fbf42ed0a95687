/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the control-plane harnesses (fuzz_server, fuzz_bootstrap,
 * fuzz_restore) share: a quiet log, a small control plane with the three
 * port roles, files written whole, state.get.
 */
#ifndef SS_FUZZ_CTL_ENV_H
#define SS_FUZZ_CTL_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl.h"

/* the control plane's log lines (a refused client, a kept object) would
 * drown libFuzzer's */
static inline void
fz_quiet(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static const struct ss_ctl_runtime fz_rt = { .log = fz_quiet };

/* Small tables: a fuzzer input fills them in a few ops. */
#define FZ_LIMITS                                                                              \
	{ .max_vnets = 8, .max_enis = 8, .max_mappings = 64, .max_routes = 64,                 \
	  .max_inbound_routes = 16, .max_underlay_routes = 8, .max_acl_groups = 8,             \
	  .max_acl_rules = 64, .max_rdma_policies = 8, .max_vips = 8, .max_pa_validations = 8 }

static inline void
fz_write_file(const char *p, const void *d, size_t n)
{
	FILE *f = fopen(p, "w");

	if (f == NULL || fwrite(d, 1, n, f) != n || fclose(f) != 0)
		abort();
}

/* A control plane reading `bootstrap` and/or `state_file` (NULL: none),
 * with ports host0, fabric0, storage0. */
static inline struct ss_ctl *
fz_create(const char *bootstrap, const char *state_file)
{
	struct ss_ctl_conf conf = {
		.socket_path = "/nonexistent/fuzz.sock",
		.bootstrap_file = bootstrap,
		.state_file = state_file,
		.limits = FZ_LIMITS,
	};
	struct ss_ctl *c = ss_ctl_create(&conf, &fz_rt);

	if (c == NULL || ss_ctl_add_port(c, "host0", "host") != 0 ||
	    ss_ctl_add_port(c, "fabric0", "fabric") != 0 ||
	    ss_ctl_add_port(c, "storage0", "storage") != 0)
		abort();
	return c;
}

/* state.get's reply (malloc'd), aborting on anything but a result. */
static inline char *
fz_state_get(struct ss_ctl *c)
{
	static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"state.get\"}";
	char *r = ss_ctl_handle_line(c, req, sizeof(req) - 1);

	if (r == NULL || strstr(r, "\"result\":{\"ops\":") == NULL) {
		fprintf(stderr, "state.get failed: %s\n", r ? r : "(null)");
		abort();
	}
	return r;
}

#endif
