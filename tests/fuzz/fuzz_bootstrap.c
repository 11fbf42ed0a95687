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
#include "tests/fuzz/fuzz_ctl_env.h"

static char path[64];

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
	fz_write_file(path, data, size);
	a = fz_create(path, NULL);
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
	sa = fz_state_get(a);
	ops = strstr(sa, "\"result\":") + strlen("\"result\":");
	fz_write_file(path, ops, strlen(ops) - 1);   /* without the reply's closing brace */
	b = fz_create(path, NULL);
	if (ss_ctl_restore(b, err, sizeof(err)) != 0) {
		fprintf(stderr, "state.get does not replay as a bootstrap: %s\n%s\n", err, ops);
		abort();
	}
	sb = fz_state_get(b);
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
