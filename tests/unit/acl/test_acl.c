/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ACL engine unit tests: the SPEC 3.5 stage semantics case by case
 * (table-driven), rule parsing, expansion limits, the table's generations,
 * counters and error messages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/acl/acl_test_util.h"

static struct ss_acl_key key4(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			      uint16_t dport)
{
	struct ss_acl_key k;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	inet_pton(AF_INET, src, &k.a4.src);
	inet_pton(AF_INET, dst, &k.a4.dst);
	k.a4.sport = htons(sport);
	k.a4.dport = htons(dport);
	return k;
}

static struct ss_acl_key key6(uint8_t proto, const char *src, uint16_t sport, const char *dst,
			      uint16_t dport)
{
	struct ss_acl_key k;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	k.v6 = 1;
	inet_pton(AF_INET6, src, k.a6.src);
	inet_pton(AF_INET6, dst, k.a6.dst);
	k.a6.sport = htons(sport);
	k.a6.dport = htons(dport);
	return k;
}

/* Groups from text: "name:family" then rules as JSON objects. */
static void add_group(struct tu_store *s, const char *name, const char *family,
		      const char *const *rules)
{
	tu_del_where(s, "acl_group", "name", name);
	tu_del_where(s, "acl_rule", "group", name);
	tu_add(s, "acl_group", json_pack("{s:s, s:s}", "name", name, "family", family));
	for (; rules && *rules; rules++) {
		json_error_t e;
		json_t *r = json_loads(*rules, 0, &e);

		if (r == NULL)
			fail_msg("bad test rule %s: %s", *rules, e.text);
		json_object_set_new(r, "group", json_string(name));
		tu_add(s, "acl_rule", r);
	}
}

static const struct ss_change any_change = { .op = SS_CHANGE_ADD, .ty = &ss_type_acl_group };

static int classify1(struct ss_acl_table *t, uint32_t eni, int dir, const struct ss_acl_key *k)
{
	struct ss_acl_req req = { .key = k, .eni = eni, .dir = (uint8_t)dir };
	uint8_t allow = 2;

	ss_acl_classify_burst(ss_acl_table_state(t), 0, &req, 1, &allow);
	return allow;
}

/* ---- SPEC 3.5 semantics, table-driven ---------------------------------------- */

struct sem_case {
	const char *what;
	const char *const *stages[3];   /* rules per stage; NULL ends */
	int nstages;
	int want_allow;
};

static const char *const allow_all_term[] = { "{\"priority\": 1, \"action\": \"allow\"}", NULL };
static const char *const deny_all_term[] = { "{\"priority\": 1, \"action\": \"deny\"}", NULL };
static const char *const soft_deny[] = {
	"{\"priority\": 5, \"action\": \"deny\", \"terminating\": false}", NULL };
static const char *const soft_allow[] = {
	"{\"priority\": 5, \"action\": \"allow\", \"terminating\": false}", NULL };
static const char *const empty[] = { NULL };
static const char *const other_port_only[] = {
	"{\"priority\": 1, \"action\": \"allow\", \"dst_ports\": [81]}", NULL };
static const char *const prio_order[] = {
	"{\"priority\": 20, \"action\": \"allow\", \"dst_ports\": [80]}",
	"{\"priority\": 10, \"action\": \"deny\", \"protocols\": [6]}",
	"{\"priority\": 30, \"action\": \"allow\"}", NULL };
static const char *const prio_order_rev[] = {
	"{\"priority\": 20, \"action\": \"allow\", \"dst_ports\": [80]}",
	"{\"priority\": 30, \"action\": \"deny\", \"protocols\": [6]}", NULL };

static const struct sem_case sem_cases[] = {
	{ "no stage bound: allow", { NULL }, 0, 1 },
	{ "one terminating allow", { allow_all_term }, 1, 1 },
	{ "one terminating deny", { deny_all_term }, 1, 0 },
	{ "terminating verdict ends evaluation", { deny_all_term, allow_all_term }, 2, 0 },
	{ "soft deny overridden by a later terminating allow", { soft_deny, allow_all_term }, 2, 1 },
	{ "soft allow overridden by a later terminating deny", { soft_allow, deny_all_term }, 2, 0 },
	{ "soft allow then soft deny: the last one stands", { soft_allow, soft_deny }, 2, 0 },
	{ "soft deny then soft allow: the last one stands", { soft_deny, soft_allow }, 2, 1 },
	{ "only soft allow: allow", { soft_allow }, 1, 1 },
	{ "bound but empty stage denies", { empty }, 1, 0 },
	{ "soft allow then an empty stage: deny", { soft_allow, empty }, 2, 0 },
	{ "bound stage without a match denies", { other_port_only }, 1, 0 },
	{ "soft allow, then a stage without a match: deny", { soft_allow, other_port_only }, 2,
	  0 },
	{ "lowest priority number wins", { prio_order }, 1, 0 },
	{ "lowest priority number wins (other order)", { prio_order_rev }, 1, 1 },
	{ "three stages of soft verdicts", { soft_allow, soft_deny, soft_allow }, 3, 1 },
};

static void test_stage_semantics(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(sem_cases) / sizeof(sem_cases[0]); c++) {
		const struct sem_case *sc = &sem_cases[c];
		struct ss_acl_table *t = ss_acl_table_create();
		struct tu_store s;
		const char *names[4] = { NULL, NULL, NULL, NULL };
		static const char *const gn[3] = { "st0", "st1", "st2" };
		struct ss_acl_key k = key4(6, "10.0.0.1", 1234, "10.0.0.2", 80);
		char err[256];

		tu_store_init(&s);
		for (int i = 0; i < sc->nstages; i++) {
			add_group(&s, gn[i], "ipv4", sc->stages[i]);
			names[i] = gn[i];
		}
		tu_eni(&s, "e", 0, sc->nstages ? names : NULL, NULL, NULL, NULL);
		if (tu_publish(t, &s, &any_change, 1, err, sizeof(err)) != 0)
			fail_msg("%s: %s", sc->what, err);
		if (classify1(t, 0, SS_ACL_OUT, &k) != sc->want_allow)
			fail_msg("case \"%s\": got %s", sc->what,
				 sc->want_allow ? "deny" : "allow");
		/* the other direction and family have no stage: allow */
		assert_int_equal(classify1(t, 0, SS_ACL_IN, &k), 1);
		ss_acl_table_destroy(t);
		tu_store_free(&s);
	}
}

/* ---- matching ------------------------------------------------------------------ */

static void test_match_fields(void **state)
{
	static const char *const rules4[] = {
		"{\"priority\": 1, \"action\": \"allow\", \"src\": [\"10.1.0.0/16\", "
		"\"192.168.7.7/32\"], \"dst\": [\"172.16.0.0/12\"], \"protocols\": [6, 17], "
		"\"src_ports\": [\"1000-2000\"], \"dst_ports\": [53, \"8000-8080\"]}",
		NULL };
	static const char *const rules6[] = {
		"{\"priority\": 7, \"action\": \"allow\", \"src\": [\"2001:db8:1::/48\"], "
		"\"dst\": [\"2001:db8:ff::5/128\"], \"protocols\": [17], \"dst_ports\": [443]}",
		NULL };
	static const char *const g4[] = { "m4", NULL }, *const g6[] = { "m6", NULL };
	static const struct {
		const char *what;
		int v6;
		uint8_t proto;
		const char *src, *dst;
		uint16_t sport, dport;
		int want;
	} cases[] = {
		{ "all fields inside", 0, 6, "10.1.2.3", "172.16.0.1", 1500, 53, 1 },
		{ "second src prefix", 0, 17, "192.168.7.7", "172.31.255.255", 1000, 8080, 1 },
		{ "src port range low end", 0, 6, "10.1.0.0", "172.16.0.1", 1000, 8000, 1 },
		{ "src port range high end", 0, 6, "10.1.255.255", "172.16.0.1", 2000, 8000, 1 },
		{ "src port below the range", 0, 6, "10.1.0.1", "172.16.0.1", 999, 8000, 0 },
		{ "src port above the range", 0, 6, "10.1.0.1", "172.16.0.1", 2001, 8000, 0 },
		{ "dst port above the range", 0, 6, "10.1.0.1", "172.16.0.1", 1500, 8081, 0 },
		{ "src just outside the /16", 0, 6, "10.2.0.0", "172.16.0.1", 1500, 53, 0 },
		{ "src next to the /32", 0, 6, "192.168.7.8", "172.16.0.1", 1500, 53, 0 },
		{ "dst just outside the /12", 0, 6, "10.1.0.1", "172.32.0.0", 1500, 53, 0 },
		{ "protocol not listed", 0, 1, "10.1.0.1", "172.16.0.1", 1500, 53, 0 },
		{ "IPv6 inside", 1, 17, "2001:db8:1:ffff::1", "2001:db8:ff::5", 9, 443, 1 },
		{ "IPv6 src outside the /48", 1, 17, "2001:db8:2::1", "2001:db8:ff::5", 9, 443, 0 },
		{ "IPv6 dst next to the /128", 1, 17, "2001:db8:1::1", "2001:db8:ff::6", 9, 443, 0 },
		{ "IPv6 wrong port", 1, 17, "2001:db8:1::1", "2001:db8:ff::5", 9, 444, 0 },
	};
	struct ss_acl_table *t = ss_acl_table_create();
	struct tu_store s;
	char err[256];

	(void)state;
	tu_store_init(&s);
	add_group(&s, "m4", "ipv4", rules4);
	add_group(&s, "m6", "ipv6", rules6);
	tu_eni(&s, "e", 5, g4, NULL, g6, NULL);
	if (tu_publish(t, &s, &any_change, 1, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_acl_key k = cases[i].v6 ? key6(cases[i].proto, cases[i].src, cases[i].sport,
							 cases[i].dst, cases[i].dport)
						  : key4(cases[i].proto, cases[i].src, cases[i].sport,
							 cases[i].dst, cases[i].dport);

		if (classify1(t, 5, SS_ACL_OUT, &k) != cases[i].want)
			fail_msg("case \"%s\": want %s", cases[i].what,
				 cases[i].want ? "allow" : "deny");
	}
	/* 2 src x 1 dst x 2 protocols x 1 x 2 dst ranges */
	const struct ss_acl_state *st = ss_acl_table_state(t);
	assert_int_equal(st->nb_groups, 2);
	assert_int_equal(st->groups[0]->expanded, 8);
	ss_acl_table_destroy(t);
	tu_store_free(&s);
}

/* ---- the table ------------------------------------------------------------------ */

static void test_generations(void **state)
{
	static const char *const r1[] = { "{\"priority\": 1, \"action\": \"allow\"}", NULL };
	static const char *const r2[] = { "{\"priority\": 1, \"action\": \"deny\"}", NULL };
	static const char *const ga[] = { "ga", NULL }, *const gb[] = { "gb", NULL };
	struct ss_acl_table *t = ss_acl_table_create();
	struct ss_acl_key k = key4(17, "1.1.1.1", 1, "2.2.2.2", 2);
	struct tu_store s;
	uint32_t g1, g2, g3;
	char err[256];

	(void)state;
	tu_store_init(&s);
	add_group(&s, "ga", "ipv4", r1);
	add_group(&s, "gb", "ipv4", r1);
	tu_eni(&s, "e1", 0, ga, NULL, NULL, NULL);
	tu_eni(&s, "e2", 1, gb, NULL, NULL, NULL);
	tu_eni(&s, "e3", 2, NULL, NULL, NULL, NULL);
	assert_int_equal(tu_publish(t, &s, &any_change, 1, err, sizeof(err)), 0);
	g1 = ss_acl_eni_gen(ss_acl_table_state(t), 0);
	g2 = ss_acl_eni_gen(ss_acl_table_state(t), 1);
	g3 = ss_acl_eni_gen(ss_acl_table_state(t), 2);
	assert_true(g1 != 0 && g2 != 0 && g3 != 0 && g1 != g2);
	assert_int_equal(classify1(t, 0, SS_ACL_OUT, &k), 1);

	/* a change of gb: only e2's generation moves */
	add_group(&s, "gb", "ipv4", r2);
	struct ss_change ch = tu_change("acl_rule", SS_CHANGE_SET,
					json_array_get(tu_list(&s, "acl_rule"), 1));
	assert_int_equal(tu_publish(t, &s, &ch, 1, err, sizeof(err)), 0);
	assert_int_equal(ss_acl_eni_gen(ss_acl_table_state(t), 0), g1);
	assert_int_not_equal(ss_acl_eni_gen(ss_acl_table_state(t), 1), g2);
	assert_int_equal(ss_acl_eni_gen(ss_acl_table_state(t), 2), g3);
	assert_int_equal(classify1(t, 1, SS_ACL_OUT, &k), 0);
	g2 = ss_acl_eni_gen(ss_acl_table_state(t), 1);

	/* an ENI change that leaves its stages alone keeps the generation;
	 * binding a stage moves it */
	tu_eni(&s, "e3", 2, NULL, NULL, NULL, NULL);
	ch = tu_change("eni", SS_CHANGE_SET, json_array_get(tu_list(&s, "eni"), 2));
	assert_int_equal(tu_publish(t, &s, &ch, 1, err, sizeof(err)), 0);
	assert_int_equal(ss_acl_eni_gen(ss_acl_table_state(t), 2), g3);
	tu_eni(&s, "e3", 2, NULL, ga, NULL, NULL);
	assert_int_equal(tu_publish(t, &s, &ch, 1, err, sizeof(err)), 0);
	assert_int_not_equal(ss_acl_eni_gen(ss_acl_table_state(t), 2), g3);
	assert_int_equal(ss_acl_eni_gen(ss_acl_table_state(t), 0), g1);
	assert_int_equal(ss_acl_eni_gen(ss_acl_table_state(t), 1), g2);

	/* a transaction without ACL objects builds nothing */
	const struct ss_acl_state *before = ss_acl_table_state(t);
	ch = (struct ss_change){ .op = SS_CHANGE_ADD, .ty = &ss_type_mapping };
	assert_int_equal(tu_publish(t, &s, &ch, 1, err, sizeof(err)), 0);
	assert_ptr_equal(ss_acl_table_state(t), before);
	ss_acl_table_destroy(t);
	tu_store_free(&s);
}

static void test_counters(void **state)
{
	static const char *const r[] = {
		"{\"priority\": 10, \"action\": \"allow\", \"dst_ports\": [80]}",
		"{\"priority\": 20, \"action\": \"deny\"}", NULL };
	static const char *const r_new[] = {
		"{\"priority\": 10, \"action\": \"allow\", \"dst_ports\": [80, 81]}",
		"{\"priority\": 15, \"action\": \"deny\", \"dst_ports\": [99]}",
		"{\"priority\": 20, \"action\": \"deny\"}", NULL };
	static const char *const g[] = { "cnt", NULL };
	struct ss_acl_table *t = ss_acl_table_create();
	struct ss_acl_key k80 = key4(6, "1.1.1.1", 1, "2.2.2.2", 80);
	struct ss_acl_key k99 = key4(6, "1.1.1.1", 1, "2.2.2.2", 99);
	struct tu_store s;
	json_t *st;
	char err[256];

	(void)state;
	tu_store_init(&s);
	ss_acl_table_set_workers(t, 2);
	add_group(&s, "cnt", "ipv4", r);
	tu_eni(&s, "e", 0, g, NULL, NULL, NULL);
	assert_int_equal(tu_publish(t, &s, &any_change, 1, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		classify1(t, 0, SS_ACL_OUT, &k80);
	{
		struct ss_acl_req req = { .key = &k99, .eni = 0, .dir = SS_ACL_OUT };
		uint8_t a;

		ss_acl_classify_burst(ss_acl_table_state(t), 1, &req, 1, &a);   /* worker 1 */
		assert_int_equal(a, 0);
	}
	st = ss_acl_table_stats(t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cnt"), "10")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cnt"), "20")), 1);
	json_decref(st);

	/* replaced group: counters of the kept priorities carry over */
	add_group(&s, "cnt", "ipv4", r_new);
	json_t *gobj = json_pack("{s:s}", "name", "cnt");
	struct ss_change ch = tu_change("acl_group", SS_CHANGE_SET, gobj);
	assert_int_equal(tu_publish(t, &s, &ch, 1, err, sizeof(err)), 0);
	json_decref(gobj);
	classify1(t, 0, SS_ACL_OUT, &k99);
	st = ss_acl_table_stats(t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cnt"), "10")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cnt"), "15")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cnt"), "20")), 1);
	json_decref(st);

	ss_acl_table_stats_clear(t);
	classify1(t, 0, SS_ACL_OUT, &k80);
	st = ss_acl_table_stats(t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cnt"), "10")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "cnt"), "15")), 0);
	json_decref(st);
	ss_acl_table_destroy(t);
	tu_store_free(&s);
}

/* ss_acl_classify_burst_dec names the rule that decided each stage (the
 * flow fast path's cached deny stores them), and ss_acl_count_decided
 * counts exactly the hits the classification counted. */
static void test_decided_rules(void **state)
{
	static const char *const s1[] = {
		"{\"priority\": 5, \"action\": \"allow\", \"terminating\": false}",
		"{\"priority\": 9, \"action\": \"deny\", \"dst_ports\": [99]}", NULL };
	static const char *const s2[] = {
		"{\"priority\": 1, \"action\": \"deny\", \"dst_ports\": [80]}",
		"{\"priority\": 2, \"action\": \"allow\"}", NULL };
	static const char *const g[] = { "ds1", "ds2", NULL };
	struct ss_acl_table *t = ss_acl_table_create();
	struct ss_acl_key k80 = key4(17, "1.1.1.1", 1, "2.2.2.2", 80);
	struct ss_acl_key k81 = key4(17, "1.1.1.1", 1, "2.2.2.2", 81);
	struct ss_acl_req req[2] = { { .key = &k80, .eni = 0, .dir = SS_ACL_OUT },
				     { .key = &k81, .eni = 0, .dir = SS_ACL_OUT } };
	struct ss_acl_decided dec[2];
	struct tu_store s;
	uint8_t allow[2];
	json_t *st;
	char err[256];

	(void)state;
	tu_store_init(&s);
	ss_acl_table_set_workers(t, 2);
	add_group(&s, "ds1", "ipv4", s1);
	add_group(&s, "ds2", "ipv4", s2);
	tu_eni(&s, "e", 0, g, NULL, NULL, NULL);
	assert_int_equal(tu_publish(t, &s, &any_change, 1, err, sizeof(err)), 0);
	memset(dec, 0xee, sizeof(dec));
	ss_acl_classify_burst_dec(ss_acl_table_state(t), 1, req, 2, allow, dec);
	assert_int_equal(allow[0], 0);
	assert_int_equal(allow[1], 1);
	/* ranks + 1 in ascending priority: ds1 5 -> 1; ds2 1 -> 1, 2 -> 2 */
	assert_int_equal(dec[0].rule[0], 1);
	assert_int_equal(dec[0].rule[1], 1);
	assert_int_equal(dec[1].rule[0], 1);
	assert_int_equal(dec[1].rule[1], 2);
	for (int i = 2; i < SS_ACL_MAX_STAGES; i++)
		assert_int_equal(dec[0].rule[i], 0);
	/* counted again (worker 0): the same rules, once more each */
	ss_acl_count_decided(ss_acl_table_state(t), 0, 0, ss_acl_slot(SS_ACL_OUT, 0), &dec[0]);
	st = ss_acl_table_stats(t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "ds1"), "5")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "ds1"), "9")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "ds2"), "1")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "ds2"), "2")), 1);
	json_decref(st);
	/* no decided rule in a stage (no match): nothing counted there */
	memset(&dec[1], 0, sizeof(dec[1]));
	ss_acl_count_decided(ss_acl_table_state(t), 0, 0, ss_acl_slot(SS_ACL_OUT, 0), &dec[1]);
	/* an ENI the state does not bind: nothing */
	ss_acl_count_decided(ss_acl_table_state(t), 0, 7, ss_acl_slot(SS_ACL_OUT, 0), &dec[0]);
	st = ss_acl_table_stats(t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "ds1"), "5")), 3);
	json_decref(st);
	ss_acl_table_destroy(t);
	tu_store_free(&s);
}

static void test_errors(void **state)
{
	struct ss_acl_table *t = ss_acl_table_create();
	struct ss_acl_store_ops ops;
	struct tu_store s;
	char err[256] = "";
	json_t *r;
	int rc;

	(void)state;
	tu_store_init(&s);
	ops = tu_ops(&s);
	/* a rule expanding past the group limit: -E2BIG naming group and rule */
	tu_add(&s, "acl_group", json_pack("{s:s, s:s}", "name", "huge", "family", "ipv4"));
	r = json_pack("{s:s, s:i, s:s}", "group", "huge", "priority", 42, "action", "allow");
	json_t *src = json_array(), *dst = json_array(), *dp = json_array();
	for (int i = 0; i < 200; i++) {
		char p[32];

		snprintf(p, sizeof(p), "10.%d.0.0/16", i);
		json_array_append_new(src, json_string(p));
		snprintf(p, sizeof(p), "11.%d.0.0/16", i);
		json_array_append_new(dst, json_string(p));
		json_array_append_new(dp, json_integer(i));
	}
	json_object_set_new(r, "src", src);
	json_object_set_new(r, "dst", dst);
	json_object_set_new(r, "dst_ports", dp);
	tu_add(&s, "acl_rule", r);
	rc = ss_acl_table_prepare(t, &ops, &any_change, 1, err, sizeof(err));
	assert_int_equal(rc, -E2BIG);
	assert_non_null(strstr(err, "acl_group huge"));
	assert_non_null(strstr(err, "rule 42"));
	ss_acl_table_abort(t);

	/* a malformed rule names the field */
	tu_del_where(&s, "acl_rule", "group", "huge");
	tu_add(&s, "acl_rule", json_pack("{s:s, s:i, s:s, s:[s]}", "group", "huge", "priority", 7,
					 "action", "allow", "src", "2001:db8::/32"));
	rc = ss_acl_table_prepare(t, &ops, &any_change, 1, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, "huge/7"));
	assert_non_null(strstr(err, "src[0]"));

	/* an ENI overlay does not know */
	tu_del_where(&s, "acl_rule", "group", "huge");
	tu_eni(&s, "ghost", 0, NULL, NULL, NULL, NULL);
	json_object_del(s.eni_idx, "ghost");
	rc = ss_acl_table_prepare(t, &ops, &any_change, 1, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_non_null(strstr(err, "eni ghost"));
	/* nothing was published by the failures */
	assert_int_equal(ss_acl_table_state(t)->nb_groups, 0);
	ss_acl_table_destroy(t);
	tu_store_free(&s);
}

/* prepare then abort leaves the published state and frees what was built
 * (ASan checks the freeing) */
static void test_abort(void **state)
{
	static const char *const r[] = { "{\"priority\": 1, \"action\": \"deny\"}", NULL };
	static const char *const g[] = { "a", NULL };
	struct ss_acl_table *t = ss_acl_table_create();
	struct ss_acl_key k = key4(6, "1.1.1.1", 1, "2.2.2.2", 2);
	struct ss_acl_store_ops ops;
	struct tu_store s;
	char err[256];

	(void)state;
	tu_store_init(&s);
	ops = tu_ops(&s);
	tu_eni(&s, "e", 0, NULL, NULL, NULL, NULL);
	assert_int_equal(tu_publish(t, &s, &any_change, 1, err, sizeof(err)), 0);
	add_group(&s, "a", "ipv4", r);
	tu_eni(&s, "e", 0, g, NULL, NULL, NULL);
	assert_int_equal(ss_acl_table_prepare(t, &ops, &any_change, 1, err, sizeof(err)), 0);
	assert_int_equal(classify1(t, 0, SS_ACL_OUT, &k), 1);   /* not yet published */
	ss_acl_table_abort(t);
	ss_acl_table_commit(t);   /* nothing pending: no-op */
	ss_acl_table_reclaim(t);
	assert_int_equal(classify1(t, 0, SS_ACL_OUT, &k), 1);
	assert_int_equal(tu_publish(t, &s, &any_change, 1, err, sizeof(err)), 0);
	assert_int_equal(classify1(t, 0, SS_ACL_OUT, &k), 0);
	/* the group deleted and unbound: freed at reclaim */
	tu_del_where(&s, "acl_group", "name", "a");
	tu_del_where(&s, "acl_rule", "group", "a");
	tu_eni(&s, "e", 0, NULL, NULL, NULL, NULL);
	assert_int_equal(tu_publish(t, &s, &any_change, 1, err, sizeof(err)), 0);
	assert_int_equal(ss_acl_table_state(t)->nb_groups, 0);
	assert_int_equal(classify1(t, 0, SS_ACL_OUT, &k), 1);
	ss_acl_table_destroy(t);
	tu_store_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_semantics),
		cmocka_unit_test(test_match_fields),
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_decided_rules),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_abort),
	};

	if (tu_eal_init() < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
