/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the daemon's config file (dataplane/config.c):
 * the input is the file's text, read by libconfig and validated key by
 * key. Checks: no crash or leak (ASan), a refused file always gets a
 * message, an accepted one has a control socket path, and a file loads
 * the same way twice. Inputs with libconfig's @include are skipped: they
 * name other files (/dev/zero...), not this parser's input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/config.h"

static char path[64];

/* libconfig 1.5's scanner leaks its string buffer on some syntax errors
 * (strbuf_append, inside libconfig.so): not this parser's, and nothing
 * the daemon does twice (it exits on a bad config). */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_config cfg, again;
	char err[512], err2[512];
	FILE *f;
	int rc, rc2;

	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof(path), "/tmp/ss-fuzz-config-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
	}
	f = fopen(path, "w");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
	rc = ss_config_load(path, &cfg, err, sizeof(err));
	if (rc != 0 && err[0] == '\0') {
		fprintf(stderr, "config refused without a message\n");
		abort();
	}
	if (rc == 0 && cfg.socket_path == NULL) {
		fprintf(stderr, "config accepted without a control socket\n");
		abort();
	}
	memset(&again, 0, sizeof(again));
	err2[0] = '\0';
	rc2 = ss_config_load(path, &again, err2, sizeof(err2));
	if (rc2 != rc || strcmp(err, err2) != 0) {
		fprintf(stderr, "config loads differently twice: %d %s / %d %s\n", rc, err, rc2, err2);
		abort();
	}
	if (rc == 0) {
		ss_config_free(&cfg);
		ss_config_free(&again);
	}
	return 0;
}
