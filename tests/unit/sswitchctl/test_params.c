/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the pure parts of sswitchctl (control/sswitchctl/params.c):
 * command words -> method name, key=value -> JSON params.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sswitchctl.h"

/* Parse key=value arguments into params and compare with the expected JSON. */
static void assert_params(const char *const *args, const char *expected)
{
	json_t *root = json_object(), *want;
	json_error_t jerr;
	char err[256];

	for (const char *const *a = args; *a != NULL; a++) {
		int rc = ss_params_add_kv(root, *a, err, sizeof(err));
		if (rc != 0)
			fail_msg("'%s' rejected: %s", *a, err);
	}
	want = json_loads(expected, 0, &jerr);
	assert_non_null(want);
	if (!json_equal(root, want)) {
		char *got = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
		fail_msg("got %s, want %s", got, expected);
	}
	json_decref(want);
	json_decref(root);
}

/* The last of args must be refused with an error message containing `msg`;
 * the ones before it must be accepted. */
static void assert_refused(const char *const *args, const char *msg)
{
	json_t *root = json_object();
	char err[256] = "";
	int rc = 0;

	for (const char *const *a = args; *a != NULL; a++) {
		rc = ss_params_add_kv(root, *a, err, sizeof(err));
		if (a[1] != NULL && rc != 0)
			fail_msg("'%s' rejected: %s", *a, err);
	}
	assert_int_equal(rc, -EINVAL);
	if (strstr(err, msg) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, msg);
	json_decref(root);
}

static void test_values_typed_as_json(void **state)
{
	(void)state;
	assert_params((const char *const[]){ "vni=100", NULL }, "{\"vni\": 100}");
	assert_params((const char *const[]){ "x=-5", NULL }, "{\"x\": -5}");
	assert_params((const char *const[]){ "on=true", "off=false", "n=null", NULL },
		      "{\"on\": true, \"off\": false, \"n\": null}");
	assert_params((const char *const[]){ "r=1.5", NULL }, "{\"r\": 1.5}");
	assert_params((const char *const[]){ "l=[1,\"a\"]", NULL }, "{\"l\": [1, \"a\"]}");
	assert_params((const char *const[]){ "o={\"port\":\"fabric0\"}", NULL },
		      "{\"o\": {\"port\": \"fabric0\"}}");
	assert_params((const char *const[]){ "name=\"123\"", NULL }, "{\"name\": \"123\"}");
}

static void test_values_fall_back_to_strings(void **state)
{
	(void)state;
	assert_params((const char *const[]){
		"name=v1", "gateway_ip=10.0.0.1", "prefix=10.0.0.0/8",
		"mac=02:00:00:00:00:01", "ip6=fd00::1", "ports=1000-2000",
		"empty=", "eq=a=b", "sp=two words", "trailing=1 x", NULL },
		"{\"name\": \"v1\", \"gateway_ip\": \"10.0.0.1\", "
		"\"prefix\": \"10.0.0.0/8\", \"mac\": \"02:00:00:00:00:01\", "
		"\"ip6\": \"fd00::1\", \"ports\": \"1000-2000\", \"empty\": \"\", "
		"\"eq\": \"a=b\", \"sp\": \"two words\", \"trailing\": \"1 x\"}");
}

static void test_dotted_keys_nest(void **state)
{
	(void)state;
	assert_params((const char *const[]){
		"acl.outbound_v4=[\"g1\",\"g2\"]", "acl.inbound_v4=[\"g3\"]", NULL },
		"{\"acl\": {\"outbound_v4\": [\"g1\", \"g2\"], \"inbound_v4\": [\"g3\"]}}");
	assert_params((const char *const[]){
		"name=p1", "match.dst_prefix=10.0.0.0/8", "match.dst_qp=17",
		"action.port=storage0", NULL },
		"{\"name\": \"p1\", \"match\": {\"dst_prefix\": \"10.0.0.0/8\", "
		"\"dst_qp\": 17}, \"action\": {\"port\": \"storage0\"}}");
	assert_params((const char *const[]){ "a.b.c=1", "a.b.d=2", "a.e=3", NULL },
		      "{\"a\": {\"b\": {\"c\": 1, \"d\": 2}, \"e\": 3}}");
	/* Dashes in keys are underscores, as in command words. */
	assert_params((const char *const[]){ "admin-state=down", NULL },
		      "{\"admin_state\": \"down\"}");
}

static void test_indexes_build_lists(void **state)
{
	(void)state;
	assert_params((const char *const[]){
		"entries[0].ip=10.0.0.1", "entries[0].vnet=v1", "entries[1].ip=10.0.0.2", NULL },
		"{\"entries\": [{\"ip\": \"10.0.0.1\", \"vnet\": \"v1\"}, {\"ip\": \"10.0.0.2\"}]}");
	assert_params((const char *const[]){ "l[0]=a", "l[1]=2", NULL },
		      "{\"l\": [\"a\", 2]}");
	assert_params((const char *const[]){
		"next_hops[0].port=fabric0", "next_hops[0].mac=02:00:00:00:00:fe", NULL },
		"{\"next_hops\": [{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:00:fe\"}]}");
	assert_params((const char *const[]){ "m[0][0]=1", "m[0][1]=2", NULL },
		      "{\"m\": [[1, 2]]}");
}

static void test_bad_keys_refused(void **state)
{
	(void)state;
	assert_refused((const char *const[]){ "vni=1", "vni=2", NULL }, "given twice");
	assert_refused((const char *const[]){ "a=1", "a.b=2", NULL }, "conflicts");
	assert_refused((const char *const[]){ "a.b=1", "a=2", NULL }, "given twice");
	assert_refused((const char *const[]){ "l[1]=x", NULL }, "skips");
	assert_refused((const char *const[]){ "l[0]=x", "l[2]=y", NULL }, "skips");
	assert_refused((const char *const[]){ "a..b=1", NULL }, "not a valid parameter");
	assert_refused((const char *const[]){ "a.=1", NULL }, "not a valid parameter");
	assert_refused((const char *const[]){ "a[x]=1", NULL }, "not a valid parameter");
	assert_refused((const char *const[]){ "a[0=1", NULL }, "not a valid parameter");
	assert_refused((const char *const[]){ "novalue", NULL }, "not a key=value");
}

static void test_is_kv(void **state)
{
	(void)state;
	assert_true(ss_is_kv("name=v1"));
	assert_true(ss_is_kv("acl.outbound_v4=[]"));
	assert_true(ss_is_kv("entries[0].ip=1.2.3.4"));
	assert_true(ss_is_kv("k="));
	assert_false(ss_is_kv("v1"));
	assert_false(ss_is_kv("=v"));
	assert_false(ss_is_kv("--vnet=v1"));
	assert_false(ss_is_kv("{\"a\":\"=\"}"));
	assert_false(ss_is_kv("a b=c"));
}

static void test_merge(void **state)
{
	json_error_t jerr;
	json_t *dst = json_loads("{\"name\":\"e1\",\"acl\":{\"outbound_v4\":[\"g1\"]},\"vlan\":5}",
				 0, &jerr);
	json_t *src = json_loads("{\"acl\":{\"inbound_v4\":[\"g2\"]},\"vlan\":7}", 0, &jerr);
	json_t *want = json_loads("{\"name\":\"e1\",\"acl\":{\"outbound_v4\":[\"g1\"],"
				  "\"inbound_v4\":[\"g2\"]},\"vlan\":7}", 0, &jerr);

	(void)state;
	assert_int_equal(ss_params_merge(dst, src), 0);
	assert_true(json_equal(dst, want));
	json_decref(dst);
	json_decref(src);
	json_decref(want);
}

/* Command words -> (method, words consumed). */
static const struct {
	const char *words[5];
	const char *method;   /* NULL: nothing matched */
	int consumed;
} resolve_cases[] = {
	{ { "eni", "add" }, "eni.add", 2 },
	{ { "vnet", "list" }, "vnet.list", 2 },
	{ { "ENI", "Get" }, "eni.get", 2 },
	{ { "rdma", "policy", "add" }, "rdma.policy.add", 3 },
	{ { "rdma", "qp", "list" }, "rdma.qp.list", 3 },
	{ { "rdma", "config" }, "rdma.config", 2 },
	{ { "acl", "group", "add" }, "acl_group.add", 3 },
	{ { "acl_group", "replace" }, "acl_group.replace", 2 },
	{ { "acl-group", "delete" }, "acl_group.delete", 2 },
	{ { "acl", "rule", "add" }, "acl_rule.add", 3 },
	{ { "inbound-route", "add" }, "inbound_route.add", 2 },
	{ { "inbound_route", "delete" }, "inbound_route.delete", 2 },
	{ { "inbound", "route", "add" }, "inbound_route.add", 3 },
	{ { "pa-validation", "add" }, "pa_validation.add", 2 },
	{ { "underlay-route", "delete" }, "underlay_route.delete", 2 },
	{ { "underlay_route", "add" }, "underlay_route.add", 2 },
	{ { "rdma-policy", "delete" }, "rdma.policy.delete", 2 },
	{ { "rdma_qp", "list" }, "rdma.qp.list", 2 },
	{ { "Acl-Rule", "LIST" }, "acl_rule.list", 2 },
	{ { "pa", "validation", "add" }, "pa_validation.add", 3 },
	{ { "route", "add" }, "route.add", 2 },
	{ { "flow", "flush" }, "flow.flush", 2 },
	{ { "system", "info" }, "system.info", 2 },
	{ { "pipeline", "graph" }, "pipeline.graph", 2 },
	{ { "health", "get" }, "health.get", 2 },
	{ { "state", "get" }, "state.get", 2 },
	{ { "switch", "set" }, "switch.set", 2 },
	{ { "capture", "start" }, "capture.start", 2 },
	{ { "txn" }, "txn", 1 },
	/* Extra words are left for the caller to refuse. */
	{ { "vnet", "list", "extra" }, "vnet.list", 2 },
	/* A known object with a verb the client does not know: sent as is. */
	{ { "vip", "list" }, "vip.list", 2 },
	{ { "rdma", "policy", "get" }, "rdma.policy.get", 3 },
	{ { "acl", "group", "list" }, "acl_group.list", 3 },
	{ { "rdma-policy", "frob" }, "rdma.policy.frob", 2 },
	/* Unknown objects, and words that are not words. */
	{ { "bogus", "add" }, NULL, 0 },
	{ { "acl", "add" }, NULL, 0 },
	{ { "acl__group", "add" }, NULL, 0 },
	{ { "-vnet", "add" }, NULL, 0 },
	{ { "", "add" }, NULL, 0 },
};

static void test_resolve_method(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(resolve_cases) / sizeof(resolve_cases[0]); i++) {
		char out[128] = "";
		int n = 0;

		while (n < 5 && resolve_cases[i].words[n] != NULL)
			n++;
		int k = ss_resolve_method(resolve_cases[i].words, n, out, sizeof(out));
		if (resolve_cases[i].method == NULL) {
			if (k != 0)
				fail_msg("case %zu (%s): matched %s", i,
					 resolve_cases[i].words[0], out);
			continue;
		}
		if (k != resolve_cases[i].consumed || strcmp(out, resolve_cases[i].method) != 0)
			fail_msg("case %zu: got %s/%d, want %s/%d", i, out, k,
				 resolve_cases[i].method, resolve_cases[i].consumed);
	}
}

static void test_resolve_object_without_verb(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(ss_resolve_method((const char *const[]){ "vnet" }, 1, out,
					   sizeof(out)), -1);
	assert_string_equal(out, "vnet");
	assert_int_equal(ss_resolve_method((const char *const[]){ "rdma", "policy" }, 2, out,
					   sizeof(out)), -1);
	assert_string_equal(out, "rdma.policy");
	assert_int_equal(ss_resolve_method((const char *const[]){ "acl", "rule" }, 2, out,
					   sizeof(out)), -1);
	assert_string_equal(out, "acl_rule");
}

static void test_every_known_method_resolves_to_itself(void **state)
{
	(void)state;
	for (const char *const *m = ss_known_methods; *m != NULL; m++) {
		/* Split the method at '.' and '_' as a person would type it. */
		char buf[128], out[128];
		const char *words[8];
		int n = 0;

		snprintf(buf, sizeof(buf), "%s", *m);
		for (char *tok = strtok(buf, "._"); tok != NULL && n < 8; tok = strtok(NULL, "._"))
			words[n++] = tok;
		int k = ss_resolve_method(words, n, out, sizeof(out));
		if (k != n || strcmp(out, *m) != 0)
			fail_msg("%s: got %s/%d", *m, out, k);
	}
}

/* Object types and verbs a feature added are known from the daemon's
 * schema.get, with no table edit here. */
static void test_methods_from_schema(void **state)
{
	const char *words[] = { "rate-limit", "policy", "add" };
	const char *cfg[] = { "nat", "config" };
	char out[128];
	json_error_t jerr;
	json_t *schema = json_loads(
		"{\"types\":[{\"name\":\"rate_limit.policy\",\"methods\":[\"add\",\"delete\",\"list\"]},"
		"{\"name\":\"nat.config\",\"methods\":[\"config\"]}]}", 0, &jerr);

	(void)state;
	assert_non_null(schema);
	assert_false(ss_method_known("rate_limit.policy.add"));
	assert_int_equal(ss_resolve_method(words, 3, out, sizeof(out)), 0);
	ss_methods_from_schema(schema);
	json_decref(schema);
	assert_true(ss_method_known("rate_limit.policy.add"));
	assert_true(ss_method_known("nat.config"));
	assert_false(ss_method_known("rate_limit.policy.get"));
	assert_false(ss_method_known("nat.config.add"));
	assert_int_equal(ss_resolve_method(words, 3, out, sizeof(out)), 3);
	assert_string_equal(out, "rate_limit.policy.add");
	assert_int_equal(ss_resolve_method(cfg, 2, out, sizeof(out)), 2);
	assert_string_equal(out, "nat.config");
	/* the built-in methods are unaffected */
	assert_true(ss_method_known("vnet.add"));
	ss_methods_from_schema(NULL);
	assert_false(ss_method_known("rate_limit.policy.add"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_typed_as_json),
		cmocka_unit_test(test_values_fall_back_to_strings),
		cmocka_unit_test(test_dotted_keys_nest),
		cmocka_unit_test(test_indexes_build_lists),
		cmocka_unit_test(test_bad_keys_refused),
		cmocka_unit_test(test_is_kv),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_resolve_method),
		cmocka_unit_test(test_resolve_object_without_verb),
		cmocka_unit_test(test_every_known_method_resolves_to_itself),
		cmocka_unit_test(test_methods_from_schema),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
