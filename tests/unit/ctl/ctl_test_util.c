/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_test_util.h"

struct ss_ctl *
t_ctl(const char *state_file, const struct ss_ctl_limits *limits)
{
	struct ss_ctl_conf conf = { 0 };
	struct ss_ctl *ctl;
	char err[512];
	int rc;

	conf.socket_path = "/tmp/ss-ctl-unit-unused.sock";
	conf.state_file = state_file;
	if (limits != NULL)
		conf.limits = *limits;
	ctl = ss_ctl_create(&conf, NULL);
	assert_non_null(ctl);
	assert_int_equal(ss_ctl_add_port(ctl, "host0", "host"), 0);
	assert_int_equal(ss_ctl_add_port(ctl, "host1", "host"), 0);
	assert_int_equal(ss_ctl_add_port(ctl, "fabric0", "fabric"), 0);
	assert_int_equal(ss_ctl_add_port(ctl, "storage0", "storage"), 0);
	rc = ss_ctl_restore(ctl, err, sizeof(err));
	if (rc != 0)
		fail_msg("restore: %s", err);
	return ctl;
}

json_t *
t_call(struct ss_ctl *ctl, const char *method, const char *params)
{
	size_t n = strlen(method) + (params ? strlen(params) : 0) + 128;
	char *req = malloc(n), *rep;
	json_error_t e;
	json_t *r;

	assert_non_null(req);
	snprintf(req, n, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"%s%s}", method,
		 params ? ",\"params\":" : "", params ? params : "");
	rep = ss_ctl_handle_line(ctl, req, strlen(req));
	free(req);
	assert_non_null(rep);
	r = json_loads(rep, 0, &e);
	if (r == NULL)
		fail_msg("reply is not JSON: %s", rep);
	free(rep);
	return r;
}

json_t *
t_ok(struct ss_ctl *ctl, const char *method, const char *params)
{
	json_t *r = t_call(ctl, method, params), *res;

	if (json_object_get(r, "error") != NULL) {
		char *s = json_dumps(r, JSON_COMPACT);

		print_error("%s %s -> %s\n", method, params ? params : "", s);
		free(s);
		fail();
	}
	res = json_incref(json_object_get(r, "result"));
	assert_non_null(res);
	json_decref(r);
	return res;
}

json_t *
t_okf(struct ss_ctl *ctl, const char *method, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return t_ok(ctl, method, buf);
}

void
t_err(struct ss_ctl *ctl, const char *method, const char *params, int code, const char *field,
      int index)
{
	json_t *r = t_call(ctl, method, params);
	json_t *e = json_object_get(r, "error"), *data;
	char *s = json_dumps(r, JSON_COMPACT);

	if (e == NULL || json_integer_value(json_object_get(e, "code")) != code) {
		print_error("%s %s: expected error %d, got %s\n", method, params ? params : "", code, s);
		fail();
	}
	data = json_object_get(e, "data");
	if (field != NULL) {
		const char *f = json_string_value(json_object_get(data, "field"));

		if (f == NULL || strcmp(f, field) != 0) {
			print_error("%s: expected data.field %s, got %s\n", method, field, s);
			fail();
		}
	}
	if (index >= -1) {
		json_t *i = json_object_get(data, "index");

		if ((index == -1 && i != NULL) || (index >= 0 && json_integer_value(i) != index)) {
			print_error("%s: expected data.index %d, got %s\n", method, index, s);
			fail();
		}
	}
	free(s);
	json_decref(r);
}

char *
t_state(struct ss_ctl *ctl)
{
	json_t *r = t_ok(ctl, "state.get", NULL);
	char *s = json_dumps(r, JSON_COMPACT);

	json_decref(r);
	return s;
}

char *
t_tmpdir(void)
{
	char *d = strdup("/tmp/ss-ctl-test-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

void
t_rmdir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}
