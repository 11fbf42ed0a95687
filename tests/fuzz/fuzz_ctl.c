/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the control protocol: the input is split into lines
 * and each one goes through ss_ctl_handle_line() on a fresh in-memory store
 * (no state_file, small capacities), exactly as the server would feed it,
 * so multi-line inputs build states (vnet then eni then txn...).
 *
 * Two differential checks, any difference aborts:
 * - our JSON parser (control/json.c) against jansson's: both must accept
 *   the same lines and produce equal values, and our serialisation must
 *   read back equal;
 * - the raw bulk path (control/bulk.c) against the general one: a second
 *   store with the raw path off gets every line too and must answer the
 *   same bytes (parse errors: the same code; the message may name another
 *   byte, as validation without building finds duplicate keys at the end
 *   of their object).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ctl-int.h"
#include "control/ctl.h"
#include "control/json.h"
#include "control/rpc.h"

static void
differential(const char *line, size_t len)
{
	char err[160];
	json_error_t je;
	json_t *ours = ss_json_parse(line, len, err, sizeof(err));
	json_t *theirs = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);

	/* documented differences: our depth and number length limits, and
	 * jansson taking a NUL byte right after a top-level number for the
	 * end of the input (we refuse any NUL byte) */
	if (ours == NULL && (strstr(err, "nesting too deep") || strstr(err, "number too long") ||
			     memchr(line, '\0', len) != NULL)) {
		json_decref(theirs);
		return;
	}
	if ((ours == NULL) != (theirs == NULL)) {
		fprintf(stderr, "parsers disagree on %.*s: ours %s, jansson %s\n", (int)len, line,
			ours ? "ok" : err, theirs ? "ok" : je.text);
		abort();
	}
	if (ours != NULL) {
		struct ss_buf b;
		json_t *back;

		if (!json_equal(ours, theirs)) {
			fprintf(stderr, "parsers give different values for %.*s\n", (int)len, line);
			abort();
		}
		ss_buf_init(&b);
		ss_json_dump(&b, ours);
		back = b.oom ? NULL : json_loadb(b.p, b.len, JSON_DECODE_ANY, &je);
		if (!b.oom && (back == NULL || !json_equal(back, ours))) {
			fprintf(stderr, "serialisation does not read back: %s\n", b.p);
			abort();
		}
		json_decref(back);
		ss_buf_free(&b);
	}
	json_decref(ours);
	json_decref(theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_ctl_conf conf = {
		.socket_path = "/nonexistent/fuzz.sock",
		.limits = { .max_vnets = 8, .max_enis = 8, .max_mappings = 64, .max_routes = 64,
			    .max_inbound_routes = 16, .max_underlay_routes = 8, .max_acl_groups = 8,
			    .max_acl_rules = 64, .max_rdma_policies = 8, .max_vips = 8,
			    .max_pa_validations = 16 },
	};
	const char *p = (const char *)data, *end = p + size;
	const char *state_get = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"state.get\"}";
	struct ss_ctl *ctl = NULL, *slow = NULL;
	char err[256], *a, *b;

	ctl = ss_ctl_create(&conf, NULL);
	slow = ss_ctl_create(&conf, NULL);
	if (ctl == NULL || slow == NULL)
		abort();
	ss_core(slow)->rpc->no_bulk_raw = true;
	ss_ctl_add_port(ctl, "host0", "host");
	ss_ctl_add_port(ctl, "fabric0", "fabric");
	ss_ctl_add_port(ctl, "storage0", "storage");
	ss_ctl_add_port(slow, "host0", "host");
	ss_ctl_add_port(slow, "fabric0", "fabric");
	ss_ctl_add_port(slow, "storage0", "storage");
	if (ss_ctl_restore(ctl, err, sizeof(err)) != 0 || ss_ctl_restore(slow, err, sizeof(err)) != 0)
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		differential(p, len);
		a = ss_ctl_handle_line(ctl, p, len);
		b = ss_ctl_handle_line(slow, p, len);
		if ((a == NULL) != (b == NULL) ||
		    (a != NULL && strcmp(a, b) != 0 &&
		     !(strstr(a, "\"code\":-32700") && strstr(b, "\"code\":-32700")))) {
			fprintf(stderr, "raw bulk path differs on %.*s\nraw:     %s\ngeneral: %s\n",
				(int)len, p, a ? a : "(none)", b ? b : "(none)");
			abort();
		}
		free(a);
		free(b);
		p += len + 1;
	}
	/* the stores must still dump, alike, after whatever happened */
	a = ss_ctl_handle_line(ctl, state_get, strlen(state_get));
	b = ss_ctl_handle_line(slow, state_get, strlen(state_get));
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	ss_ctl_destroy(ctl);
	ss_ctl_destroy(slow);
	return 0;
}
