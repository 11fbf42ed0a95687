/* SPDX-License-Identifier: BSD-3-Clause
 *
 * JSON-RPC framing and dispatch through ss_ctl_handle_line(): batches,
 * notifications, the error codes and their data, registered methods and
 * stats scopes, system.info.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_test_util.h"
#include "control/json.h"

static char *
line(struct ss_ctl *ctl, const char *req)
{
	return ss_ctl_handle_line(ctl, req, strlen(req));
}

static json_t *
line_json(struct ss_ctl *ctl, const char *req)
{
	char *rep = line(ctl, req);
	json_error_t e;
	json_t *r;

	assert_non_null(rep);
	r = json_loads(rep, 0, &e);
	if (r == NULL)
		fail_msg("not JSON: %s", rep);
	free(rep);
	return r;
}

static int
code_of(const json_t *reply)
{
	return (int)json_integer_value(json_object_get(json_object_get(reply, "error"), "code"));
}

static void
test_parse_errors(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	static const char *const bad[] = {
		"{garbage", "not json", "{\"a\":1}}", "{\"a\":1,\"a\":2}", "[1,]", "\"\\u0000\"",
		"{\"a\":\"\xff\"}", "01", "{\"a\":tru}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = line_json(ctl, bad[i]);

		assert_int_equal(code_of(r), -32700);
		assert_true(json_is_null(json_object_get(r, "id")));
		json_decref(r);
	}
	/* nesting is bounded */
	{
		char deep[300];

		memset(deep, '[', 200);
		deep[200] = '\0';
		json_t *r = line_json(ctl, deep);

		assert_int_equal(code_of(r), -32700);
		json_decref(r);
	}
	ss_ctl_destroy(ctl);
}

static void
test_invalid_requests(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	static const char *const bad[] = {
		"5", "\"x\"", "[]", "{\"id\":1,\"method\":\"system.info\"}",
		"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"system.info\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
		"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"system.info\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system.info\",\"extra\":1}",
	};
	size_t i;
	json_t *r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = line_json(ctl, bad[i]);
		if (code_of(r) != -32600)
			fail_msg("%s: expected -32600", bad[i]);
		json_decref(r);
	}
	/* params must be an object */
	r = line_json(ctl, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"vnet.add\",\"params\":[1]}");
	assert_int_equal(code_of(r), -32602);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "a");
	json_decref(r);
	ss_ctl_destroy(ctl);
}

static void
test_batches_and_notifications(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r;
	char *rep;

	(void)state;
	/* a notification is executed, never answered */
	rep = line(ctl, "{\"jsonrpc\":\"2.0\",\"method\":\"vnet.add\",\"params\":{\"name\":\"n1\",\"vni\":5}}");
	assert_null(rep);
	assert_int_equal(ss_ctl_generation(ctl), 1);
	/* a failing notification is not answered either */
	rep = line(ctl, "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}");
	assert_null(rep);
	/* batch: replies in order, notifications skipped, bad members answered */
	r = line_json(ctl, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vnet.list\"},"
			   "{\"jsonrpc\":\"2.0\",\"method\":\"vnet.add\",\"params\":{\"name\":\"n2\",\"vni\":6}},"
			   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"},7]");
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(json_array_get(r, 0), "result"),
							 "vnets")), 1);
	assert_int_equal(code_of(json_array_get(r, 1)), -32601);
	assert_int_equal(code_of(json_array_get(r, 2)), -32600);
	json_decref(r);
	assert_int_equal(ss_ctl_generation(ctl), 2);
	/* a batch of notifications only: no reply at all */
	rep = line(ctl, "[{\"jsonrpc\":\"2.0\",\"method\":\"vnet.list\"},"
		   "{\"jsonrpc\":\"2.0\",\"method\":\"system.info\"}]");
	assert_null(rep);
	/* ids of every JSON type come back as sent */
	r = line_json(ctl, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"vnet.list\"}");
	assert_true(json_is_null(json_object_get(r, "id")));
	assert_non_null(json_object_get(r, "result"));
	json_decref(r);
	r = line_json(ctl, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"vnet.list\"}");
	assert_true(json_real_value(json_object_get(r, "id")) == 1.5);
	json_decref(r);
	ss_ctl_destroy(ctl);
}

static int
fake_flow_list(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result, char *err,
	       size_t errlen, const char **field)
{
	(void)ctl;
	(*(int *)ctx)++;
	if (json_object_get(params, "bad") != NULL) {
		snprintf(err, errlen, "bad is bad");
		*field = "bad";
		return SS_RPC_INVALID_PARAMS;
	}
	*result = json_pack("{s:[]}", "flows");
	return 0;
}

static int stats_cleared;

static json_t *
fake_stats(void *ctx)
{
	return json_pack("{s:i}", "n", *(int *)ctx);
}

static void
fake_clear(void *ctx)
{
	*(int *)ctx = 0;
	stats_cleared++;
}

static void
test_methods_registered_and_not(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	int calls = 0, ports_n = 5, drops_n = 9;
	struct ss_ctl_stats ports = { .scope = "ports", .get = fake_stats, .clear = fake_clear, .ctx = &ports_n };
	struct ss_ctl_stats drops = { .scope = "drops", .get = fake_stats, .clear = fake_clear, .ctx = &drops_n };
	json_t *r;

	(void)state;
	/* SPEC methods nobody serves: 1005; unknown names: -32601 */
	t_err(ctl, "flow.list", NULL, SS_ERR_NOT_SUPPORTED, NULL, -1);
	t_err(ctl, "capture.start", "{}", SS_ERR_NOT_SUPPORTED, NULL, -1);
	t_err(ctl, "flow.lister", NULL, SS_RPC_METHOD_NOT_FOUND, NULL, -1);
	t_err(ctl, "vnet.frobnicate", NULL, SS_RPC_METHOD_NOT_FOUND, NULL, -1);
	t_err(ctl, "mapping.get", NULL, SS_RPC_METHOD_NOT_FOUND, NULL, -1);

	assert_int_equal(ss_ctl_register_method(ctl, "flow.list", fake_flow_list, &calls), 0);
	assert_int_equal(ss_ctl_register_method(ctl, "flow.list", fake_flow_list, &calls), -EEXIST);
	assert_int_equal(ss_ctl_register_method(ctl, "vnet.add", fake_flow_list, &calls), -EEXIST);
	r = t_ok(ctl, "flow.list", "{\"eni\":\"e\"}");
	assert_true(json_is_array(json_object_get(r, "flows")));
	json_decref(r);
	t_err(ctl, "flow.list", "{\"bad\":1}", SS_RPC_INVALID_PARAMS, "bad", -1);
	assert_int_equal(calls, 2);
	/* runtime methods are not store operations */
	t_err(ctl, "txn", "{\"ops\":[{\"method\":\"flow.list\"}]}", SS_RPC_INVALID_PARAMS,
	      "ops[0].method", 0);

	/* stats */
	assert_int_equal(ss_ctl_register_stats(ctl, &ports), 0);
	assert_int_equal(ss_ctl_register_stats(ctl, &drops), 0);
	assert_int_equal(ss_ctl_register_stats(ctl, &ports), -EEXIST);
	r = t_ok(ctl, "stats.get", "{\"scope\":\"ports\"}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "ports"), "n")), 5);
	assert_null(json_object_get(r, "drops"));
	json_decref(r);
	r = t_ok(ctl, "stats.get", NULL);
	assert_non_null(json_object_get(r, "ports"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "drops"), "n")), 9);
	json_decref(r);
	t_err(ctl, "stats.get", "{\"scope\":\"nodes\"}", SS_RPC_INVALID_PARAMS, "scope", -1);
	t_err(ctl, "stats.get", "{\"scope\":1}", SS_RPC_INVALID_PARAMS, "scope", -1);
	t_err(ctl, "stats.get", "{\"what\":1}", SS_RPC_INVALID_PARAMS, "what", -1);
	json_decref(t_ok(ctl, "stats.clear", "{\"scope\":\"drops\"}"));
	assert_int_equal(drops_n, 0);
	assert_int_equal(ports_n, 5);
	json_decref(t_ok(ctl, "stats.clear", "{\"scope\":\"all\"}"));
	assert_int_equal(ports_n, 0);
	assert_int_equal(stats_cleared, 3);
	ss_ctl_destroy(ctl);
}

static void
fake_sysinfo(void *ctx, json_t *result)
{
	(void)ctx;
	json_object_set_new(result, "dpdk_version", json_string("DPDK test"));
	json_object_set_new(result, "ports", json_array());
	json_object_set_new(result, "workers", json_pack("[i]", 1));
}

static void
test_system_info(void **state)
{
	struct ss_ctl_conf conf = { .socket_path = "/tmp/unused.sock" };
	struct ss_ctl_runtime rt = { .system_info = fake_sysinfo };
	struct ss_ctl *ctl = ss_ctl_create(&conf, &rt);
	char err[256];
	json_t *r;

	(void)state;
	assert_non_null(ctl);
	assert_int_equal(ss_ctl_restore(ctl, err, sizeof(err)), 0);
	json_decref(t_ok(ctl, "vnet.add", "{\"name\":\"v\",\"vni\":1}"));
	r = t_ok(ctl, "system.info", NULL);
	assert_string_equal(json_string_value(json_object_get(r, "version")), SS_VERSION);
	assert_string_equal(json_string_value(json_object_get(r, "dpdk_version")), "DPDK test");
	assert_int_equal(json_integer_value(json_object_get(r, "generation")), 1);
	assert_true(json_is_integer(json_object_get(r, "uptime_s")));
	assert_int_equal(json_array_size(json_object_get(r, "workers")), 1);
	json_decref(r);
	ss_ctl_destroy(ctl);
}

static void
test_error_object_shape(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r, *e, *d;

	(void)state;
	r = t_call(ctl, "mapping.add", "{\"entries\":[{\"vnet\":\"v\",\"ip\":\"1.2.3.4\"}]}");
	e = json_object_get(r, "error");
	d = json_object_get(e, "data");
	assert_true(json_is_string(json_object_get(e, "message")));
	/* the first problem found: the missing required field */
	assert_int_equal(json_integer_value(json_object_get(e, "code")), -32602);
	assert_string_equal(json_string_value(json_object_get(d, "field")), "entries[0].underlay_ip");
	assert_null(json_object_get(d, "index"));
	json_decref(r);
	/* no data when there is nothing to name */
	r = t_call(ctl, "nope", NULL);
	assert_null(json_object_get(json_object_get(r, "error"), "data"));
	json_decref(r);
	ss_ctl_destroy(ctl);
}

/* String literals are scanned eight bytes at a time (json.c): a quote, a
 * backslash, a control character or a UTF-8 byte at any position of
 * strings of 0..40 bytes gives what jansson gives, errors included. */
static void
test_string_scan(void **state)
{
	static const char *const special[] = { "\\\"", "\\\\", "\\n", "\\u00e9", "\xc3\xa9",
						"\x01", "\xff", "\"" };
	char text[128], err[128];
	size_t len, pos, k;

	(void)state;
	for (len = 0; len <= 40; len++) {
		for (pos = 0; pos <= len; pos++) {
			for (k = 0; k < sizeof(special) / sizeof(special[0]); k++) {
				json_t *a, *b;
				size_t n = 0;

				text[n++] = '"';
				memset(text + n, 'x', pos);
				n += pos;
				if (pos < len) {
					memcpy(text + n, special[k], strlen(special[k]));
					n += strlen(special[k]);
					memset(text + n, 'y', len - pos - 1);
					n += len - pos - 1;
				}
				text[n++] = '"';
				text[n] = '\0';
				a = ss_json_parse(text, n, err, sizeof(err));
				b = json_loadb(text, n, JSON_DECODE_ANY, NULL);
				assert_true((a == NULL) == (b == NULL));
				if (a != NULL)
					assert_true(json_equal(a, b));
				json_decref(a);
				json_decref(b);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_string_scan),
		cmocka_unit_test(test_invalid_requests),
		cmocka_unit_test(test_batches_and_notifications),
		cmocka_unit_test(test_methods_registered_and_not),
		cmocka_unit_test(test_system_info),
		cmocka_unit_test(test_error_object_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
