/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers of the control-plane unit tests: a store with the test ports,
 * JSON-RPC calls through ss_ctl_handle_line(), assertions on replies.
 */
#ifndef SS_CTL_TEST_UTIL_H
#define SS_CTL_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>

#include "control/ctl.h"

/* A ctl with ports host0, host1 (host), fabric0 (fabric), storage0
 * (storage), restored (state_file may be NULL). limits may be NULL. */
struct ss_ctl *t_ctl(const char *state_file, const struct ss_ctl_limits *limits);

/* Send {"jsonrpc":"2.0","id":1,"method":M,"params":P} (P: JSON text or
 * NULL) and return the parsed reply (asserts there is one). */
json_t *t_call(struct ss_ctl *ctl, const char *method, const char *params);
/* Same and assert success; returns the result (new reference). */
json_t *t_ok(struct ss_ctl *ctl, const char *method, const char *params);
/* Same and assert an error with this code and (if non-NULL) data.field;
 * index >= -1 checks data.index (-1: absent), -2 does not check. */
void t_err(struct ss_ctl *ctl, const char *method, const char *params, int code,
	   const char *field, int index);
/* printf-style params */
json_t *t_okf(struct ss_ctl *ctl, const char *method, const char *fmt, ...);
/* state.get as compact text (malloc'd) */
char *t_state(struct ss_ctl *ctl);
/* a fresh temporary directory (malloc'd path) and its removal */
char *t_tmpdir(void);
void t_rmdir(const char *dir);

#endif
