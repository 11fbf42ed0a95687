/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the state restore (control/persist.c): a snapshot
 * (state_file) and its journal, both hostile or corrupt. Input: u16
 * little-endian length L, then L bytes of snapshot (absent when L is
 * 0xffff), then the journal's bytes (absent when none are left).
 * Checks: no crash or leak (ASan); a refused state gets a message; a
 * restored one is saved (ss_ctl_save: snapshot, journal emptied) and
 * restores again into a fresh control plane with the same state.get.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/ctl.h"
#include "tests/fuzz/fuzz_ctl_env.h"

static char dir[64], snap[96], journal[112];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_ctl *a, *b;
	char err[1024] = "", *sa, *sb;
	size_t l;
	uint64_t gen;

	if (dir[0] == '\0') {
		/* tmpfs when there is one: the restore fsyncs */
		snprintf(dir, sizeof(dir), "%s", access("/dev/shm", W_OK) == 0 ?
			 "/dev/shm/ss-fuzz-restore-XXXXXX" : "/tmp/ss-fuzz-restore-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(snap, sizeof(snap), "%s/state.json", dir);
		snprintf(journal, sizeof(journal), "%s/state.json.journal", dir);
	}
	if (size < 2)
		return 0;
	l = (size_t)data[0] | (size_t)data[1] << 8;
	data += 2;
	size -= 2;
	unlink(snap);
	unlink(journal);
	if (l != 0xffff) {
		if (l > size)
			l = size;
		fz_write_file(snap, data, l);
	} else {
		l = 0;
	}
	if (size > l)
		fz_write_file(journal, data + l, size - l);
	a = fz_create(NULL, snap);
	if (ss_ctl_restore(a, err, sizeof(err)) != 0) {
		if (err[0] == '\0') {
			fprintf(stderr, "restore refused without a message\n");
			abort();
		}
		ss_ctl_destroy(a);
		return 0;
	}
	sa = fz_state_get(a);
	gen = ss_ctl_generation(a);
	if (ss_ctl_save(a, err, sizeof(err)) != 0) {
		fprintf(stderr, "cannot save a restored state: %s\n", err);
		abort();
	}
	ss_ctl_destroy(a);
	b = fz_create(NULL, snap);
	if (ss_ctl_restore(b, err, sizeof(err)) != 0) {
		fprintf(stderr, "a saved state does not restore: %s\n", err);
		abort();
	}
	sb = fz_state_get(b);
	if (strcmp(sa, sb) != 0 || ss_ctl_generation(b) != gen) {
		fprintf(stderr, "restored state differs after a save:\n%s\n%s\n", sa, sb);
		abort();
	}
	free(sa);
	free(sb);
	ss_ctl_destroy(b);
	return 0;
}
