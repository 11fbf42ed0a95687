/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Control-plane benchmark (SPEC section 6 "mappings per second through the
 * bulk API"): 1M mapping.add entries in 10k-entry requests through
 * ss_ctl_handle_line(), validation, store and journal (state_file in a
 * fresh /tmp directory) included. The request texts are built beforehand:
 * producing them is the client's work. Prints mappings_per_s=N.
 *
 * usage: bench_mappings [total [batch [directory]]]   (default 1000000 10000 /tmp)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/ctl.h"

static double
clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double
now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static void
check(char *reply, const char *what)
{
	if (reply == NULL || strstr(reply, "\"error\"") != NULL) {
		fprintf(stderr, "bench: %s failed: %s\n", what, reply ? reply : "(no reply)");
		exit(1);
	}
	free(reply);
}

int
main(int argc, char **argv)
{
	long total = argc > 1 ? atol(argv[1]) : 1000000;
	long batch = argc > 2 ? atol(argv[2]) : 10000;
	long nreq = (total + batch - 1) / batch, r, i, k = 0;
	char dir[256], state[300], cmd[320];
	struct ss_ctl_conf conf = { 0 };
	struct ss_ctl *ctl;
	char **req, err[256];
	size_t *len;
	double t0, dt, c0, dc;
	const char *vnet = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"vnet.add\","
			   "\"params\":{\"name\":\"vnet1\",\"vni\":100}}";

	snprintf(dir, sizeof(dir), "%s/ss_bench_XXXXXX", argc > 3 ? argv[3] : "/tmp");
	if (total <= 0 || batch <= 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: bench_mappings [total [batch [directory]]]\n");
		return 2;
	}
	snprintf(state, sizeof(state), "%s/state.json", dir);
	conf.state_file = state;
	conf.socket_path = "/nonexistent";
	ctl = ss_ctl_create(&conf, NULL);
	if (ctl == NULL || ss_ctl_restore(ctl, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: create/restore failed: %s\n", ctl ? err : "create");
		return 1;
	}
	check(ss_ctl_handle_line(ctl, vnet, strlen(vnet)), "vnet.add");

	req = calloc((size_t)nreq, sizeof(*req));
	len = calloc((size_t)nreq, sizeof(*len));
	if (req == NULL || len == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	for (r = 0; r < nreq; r++) {
		size_t cap = (size_t)batch * 128 + 256, n = 0;
		char *b = malloc(cap);

		if (b == NULL) {
			fprintf(stderr, "bench: out of memory\n");
			return 1;
		}
		n += (size_t)snprintf(b + n, cap - n, "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"mapping.add\","
				     "\"params\":{\"entries\":[", r + 1);
		for (i = 0; i < batch && k < total; i++, k++)
			n += (size_t)snprintf(b + n, cap - n,
					     "%s{\"vnet\":\"vnet1\",\"ip\":\"10.%ld.%ld.%ld\","
					     "\"underlay_ip\":\"192.168.%ld.%ld\","
					     "\"mac\":\"02:00:00:%02lx:%02lx:%02lx\"}",
					     i ? "," : "", (k >> 16) & 255, (k >> 8) & 255, k & 255,
					     (k >> 8) & 255, k & 255, (k >> 16) & 255, (k >> 8) & 255,
					     k & 255);
		n += (size_t)snprintf(b + n, cap - n, "]}}");
		req[r] = b;
		len[r] = n;
	}

	t0 = now_s();
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (r = 0; r < nreq; r++)
		check(ss_ctl_handle_line(ctl, req[r], len[r]), "mapping.add");
	dt = now_s() - t0;
	dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;

	/* wall clock is the figure; CPU time tells a busy machine apart */
	printf("mappings=%ld batch=%ld seconds=%.3f cpu_seconds=%.3f\n", total, batch, dt, dc);
	printf("mappings_per_cpu_s=%.0f\n", (double)total / dc);
	printf("mappings_per_s=%.0f\n", (double)total / dt);
	for (r = 0; r < nreq; r++)
		free(req[r]);
	free(req);
	free(len);
	ss_ctl_destroy(ctl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	return 0;
}
