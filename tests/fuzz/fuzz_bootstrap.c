/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the bootstrap file (control.bootstrap: {"ops":
 * [...]} applied as one transaction at start, control/ctl.c): the input is
 * the file, applied to a fresh control plane without a state_file.
 * Checks: no crash or leak (ASan); a refused file gets a message and
 * leaves the store empty (generation 0); an applied one is exactly what
 * state.get returns afterwards: replaying that into a second fresh control
 * plane as a bootstrap file gives the same state.get.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/ctl.h"

/* the control plane's log lines (a refused client, a kept object) would
 * drown libFuzzer's */
static void
quiet(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static const struct ss_ctl_runtime rt = { .log = quiet };

static char path[64];

static void
write_file(const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		abort();
}

static struct ss_ctl *
create(void)
{
	struct ss_ctl_conf conf = {
		.socket_path = "/nonexistent/fuzz.sock",
		.bootstrap_file = path,
		.limits = { .max_vnets = 8, .max_enis = 8, .max_mappings = 64, .max_routes = 64,
			    .max_inbound_routes = 16, .max_underlay_routes = 8, .max_acl_groups = 8,
			    .max_acl_rules = 64, .max_rdma_policies = 8, .max_vips = 8,
			    .max_pa_validations = 8 },
	};
	struct ss_ctl *c = ss_ctl_create(&conf, &rt);

	if (c == NULL || ss_ctl_add_port(c, "host0", "host") != 0 ||
	    ss_ctl_add_port(c, "fabric0", "fabric") != 0 ||
	    ss_ctl_add_port(c, "storage0", "storage") != 0)
		abort();
	return c;
}

static char *
state_get(struct ss_ctl *c)
{
	static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"state.get\"}";
	char *r = ss_ctl_handle_line(c, req, sizeof(req) - 1);

	if (r == NULL || strstr(r, "\"result\":{\"ops\":") == NULL) {
		fprintf(stderr, "state.get failed: %s\n", r ? r : "(null)");
		abort();
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_ctl *a, *b;
	char err[1024] = "", *sa, *sb, *ops;
	int rc;

	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof(path), "/tmp/ss-fuzz-bootstrap-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
	}
	write_file(data, size);
	a = create();
	rc = ss_ctl_restore(a, err, sizeof(err));
	if (rc != 0) {
		if (err[0] == '\0' || ss_ctl_generation(a) != 0) {
			fprintf(stderr, "bootstrap refused without a message or half applied: %s\n", err);
			abort();
		}
		ss_ctl_destroy(a);
		return 0;
	}
	/* replay state.get's ops as a bootstrap file: the same state */
	sa = state_get(a);
	ops = strstr(sa, "\"result\":") + strlen("\"result\":");
	write_file(ops, strlen(ops) - 1);   /* without the reply's closing brace */
	b = create();
	if (ss_ctl_restore(b, err, sizeof(err)) != 0) {
		fprintf(stderr, "state.get does not replay as a bootstrap: %s\n%s\n", err, ops);
		abort();
	}
	sb = state_get(b);
	if (strcmp(sa, sb) != 0) {
		fprintf(stderr, "replayed state differs:\n%s\n%s\n", sa, sb);
		abort();
	}
	free(sa);
	free(sb);
	ss_ctl_destroy(a);
	ss_ctl_destroy(b);
	return 0;
}
