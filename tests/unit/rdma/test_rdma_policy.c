/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the RDMA policy table (pipelines/rdma/rdma_policy.c): the
 * state built from rdma.policy records (decoded from JSON text by the
 * control core, control/records.h) and the worker's lookup. Table-driven: each case is a packet
 * (family, source, destination, QP) and the name of the policy that must
 * win, or none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <cmocka.h>

#include "control/records.h"
#include "pipelines/common/meta.h"
#include "pipelines/rdma/rdma.h"
#include "pipelines/rdma/rdma_qp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void *t_zalloc(size_t size, int socket)
{
	size_t sz = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, sz ? sz : 64);

	(void)socket;
	if (p)
		memset(p, 0, sz ? sz : 64);
	return p;
}

static const struct ss_rdma_mem mem = { .zalloc = t_zalloc, .free = free };

static int t_port(void *arg, const char *name, struct ss_rdma_port_info *out)
{
	static const struct {
		const char *name;
		bool lane;
		uint8_t mac[6];
	} ports[] = {
		{ "host0", false, { 2, 0, 0, 0, 0, 1 } },
		{ "stor0", true, { 2, 0, 0, 0, 0, 0x51 } },
		{ "fab0", false, { 2, 0, 0, 0, 0, 0xfa } },
	};

	(void)arg;
	for (uint16_t i = 0; i < ARRAY_SIZE(ports); i++)
		if (strcmp(ports[i].name, name) == 0) {
			out->index = i;
			out->lossless_lane = ports[i].lane;
			memcpy(out->mac, ports[i].mac, 6);
			return 0;
		}
	return -ENOENT;
}

/* the overlay's ENI index (encap vnet): e1 is 3 */
static int t_eni(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "e1") == 0 ? 3 : -1;
}

static const int sockets[2] = { 0, 0 };
static const struct ss_rdma_env env = {
	.mem = &mem, .nb_workers = 2, .sockets = sockets, .tsc_hz = 2000000000ull,
	.port = t_port, .eni = t_eni,
};
static const struct ss_rdma_settings cfg = { 26, 48, 1000, 5000 };

static struct ss_arena recs_arena;

/* The records of a JSON array of rdma.policy objects, in recs[]. */
static size_t decode(const json_t *arr, struct ss_rdma_policy_rec *recs, size_t max)
{
	size_t n = json_array_size(arr);

	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		int rc;
		const struct ss_rdma_policy_rec *r =
			ss_rec_decode(&ss_type_rdma_policy, json_array_get(arr, i), &recs_arena, &rc);

		if (r == NULL)
			fail_msg("test policy %zu does not decode: %d", i, rc);
		recs[i] = *r;
	}
	ss_arena_reset(&recs_arena);
	return n;
}

/* Build from a JSON array of policies; the objects live in *arr. `tweak`
 * (may be NULL) edits the records first. */
static int build_tweaked(const char *text, void (*tweak)(struct ss_rdma_policy_rec *),
			 struct ss_rdma_state **st, json_t **arr, char *err, size_t errlen)
{
	struct ss_rdma_policy_rec pols[64];
	json_error_t je;
	size_t n;

	*arr = json_loads(text, 0, &je);
	if (*arr == NULL)
		fail_msg("bad test JSON: %s", je.text);
	n = decode(*arr, pols, ARRAY_SIZE(pols));
	if (tweak != NULL)
		for (size_t i = 0; i < n; i++)
			tweak(&pols[i]);
	return ss_rdma_state_build(&env, &cfg, pols, n, NULL, 7, st, err, errlen);
}

static int build(const char *text, struct ss_rdma_state **st, json_t **arr, char *err,
		 size_t errlen)
{
	return build_tweaked(text, NULL, st, arr, err, errlen);
}

static const char *lookup(const struct ss_rdma_state *st, const char *src, const char *dst,
			  uint32_t qp)
{
	uint8_t s[16] = { 0 }, d[16] = { 0 };
	uint16_t i;

	if (strchr(dst, ':')) {
		assert_int_equal(inet_pton(AF_INET6, src, s), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, d), 1);
		i = ss_rdma_lookup6(st, s, d, qp);
	} else {
		uint32_t a, b;

		assert_int_equal(inet_pton(AF_INET, src, &a), 1);
		assert_int_equal(inet_pton(AF_INET, dst, &b), 1);
		i = ss_rdma_lookup4(st, ntohl(a), ntohl(b), qp);
	}
	return i == SS_RDMA_NO_POLICY ? "-" : st->names[i];
}

#define POL(name, prio, match, action)                                                         \
	"{\"name\":\"" name "\",\"priority\":" #prio ",\"match\":{" match "},\"action\":{" action \
	"}}"
#define ACT_STOR "\"port\":\"stor0\",\"next_hop_mac\":\"02:00:00:00:00:99\",\"queue\":\"lossless\",\"encap\":\"none\""
#define ACT_HOST "\"port\":\"host0\",\"next_hop_mac\":\"02:00:00:00:00:98\",\"queue\":\"lossless\",\"encap\":\"none\",\"dscp\":10,\"pcp\":5"

static const char *policies =
	"["
	POL("wide", 100, "\"dst_prefix\":\"10.0.0.0/8\"", ACT_STOR) ","
	POL("narrow", 50, "\"dst_prefix\":\"10.1.0.0/16\"", ACT_STOR) ","
	POL("from-gpu", 40, "\"dst_prefix\":\"10.1.0.0/16\",\"src_prefix\":\"192.168.0.0/16\"", ACT_HOST) ","
	POL("qp", 30, "\"dst_prefix\":\"10.1.2.0/24\",\"dst_qp\":4660", ACT_STOR) ","
	POL("tie-b", 20, "\"dst_prefix\":\"10.2.0.0/16\"", ACT_STOR) ","
	POL("tie-a", 20, "\"dst_prefix\":\"10.2.0.0/16\"", ACT_HOST) ","
	POL("host32", 60, "\"dst_prefix\":\"10.3.3.3/32\"", ACT_STOR) ","
	POL("v6", 10, "\"dst_prefix\":\"2001:db8:1::/48\"", ACT_STOR) ","
	POL("v6-src-qp", 5, "\"dst_prefix\":\"2001:db8:1::/48\",\"src_prefix\":\"fd00::/8\",\"dst_qp\":7", ACT_HOST) ","
	POL("v6-any", 1000, "\"dst_prefix\":\"::/0\"", ACT_STOR)
	"]";

static void test_lookup_table(void **state)
{
	static const struct {
		const char *what, *src, *dst;
		uint32_t qp;
		const char *want;
	} cases[] = {
		{ "only the /8 covers it", "172.16.0.1", "10.9.0.1", 1, "wide" },
		{ "/16 has the lower priority number", "172.16.0.1", "10.1.9.9", 1, "narrow" },
		{ "source prefix matches: priority 40 wins", "192.168.7.7", "10.1.9.9", 1, "from-gpu" },
		{ "source prefix misses", "192.169.0.1", "10.1.9.9", 1, "narrow" },
		{ "QP matches: priority 30", "192.168.7.7", "10.1.2.3", 4660, "qp" },
		{ "other QP: next best", "192.168.7.7", "10.1.2.3", 4661, "from-gpu" },
		{ "other QP, other source", "172.16.0.1", "10.1.2.3", 4661, "narrow" },
		{ "equal priority: by name", "1.1.1.1", "10.2.3.4", 0, "tie-a" },
		{ "/32 exact", "1.1.1.1", "10.3.3.3", 0, "host32" },
		{ "/32 neighbour", "1.1.1.1", "10.3.3.4", 0, "wide" },
		{ "no IPv4 policy covers it", "10.0.0.1", "11.0.0.1", 0, "-" },
		{ "IPv6 /48", "2001:db8::1", "2001:db8:1:2::5", 9, "v6" },
		{ "IPv6 src + QP", "fd00::1", "2001:db8:1:2::5", 7, "v6-src-qp" },
		{ "IPv6 src, other QP", "fd00::1", "2001:db8:1:2::5", 8, "v6" },
		{ "IPv6 QP, other src", "fc00::1", "2001:db8:1:2::5", 7, "v6" },
		{ "IPv6 ::/0 catches the rest", "2001:db8::1", "2001:db9::1", 0, "v6-any" },
	};
	struct ss_rdma_state *st;
	json_t *arr;
	char err[256] = "";

	(void)state;
	assert_int_equal(build(policies, &st, &arr, err, sizeof(err)), 0);
	assert_int_equal(st->nb_pol, 10);
	assert_int_equal(st->nb4, 7);
	assert_int_equal(st->nb6, 3);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got = lookup(st, cases[i].src, cases[i].dst, cases[i].qp);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: %s -> %s qp %u: got %s, want %s", cases[i].what, cases[i].src,
				 cases[i].dst, cases[i].qp, got, cases[i].want);
	}
	/* names are kept in (priority, name) order */
	assert_string_equal(st->names[0], "v6-src-qp");
	assert_string_equal(st->names[st->nb_pol - 1], "v6-any");
	assert_int_equal(ss_rdma_state_find(st, "tie-a") + 1, ss_rdma_state_find(st, "tie-b"));
	assert_int_equal(ss_rdma_state_find(st, "nope"), -1);
	ss_rdma_state_free(&mem, st);
	json_decref(arr);
}

static void test_actions(void **state)
{
	struct ss_rdma_state *st;
	json_t *arr;
	char err[256] = "";
	const char *text =
		"[" POL("to-stor", 1, "\"dst_prefix\":\"10.0.0.0/8\"", ACT_STOR) ","
		POL("to-host", 2, "\"dst_prefix\":\"11.0.0.0/8\"", ACT_HOST) ","
		POL("default-q", 3, "\"dst_prefix\":\"12.0.0.0/8\"",
		    "\"port\":\"stor0\",\"next_hop_mac\":\"02:00:00:00:00:97\",\"queue\":\"default\",\"encap\":\"none\"")
		"]";

	(void)state;
	assert_int_equal(build(text, &st, &arr, err, sizeof(err)), 0);
	const struct ss_rdma_action *a = &st->act[0];
	static const uint8_t nh[6] = { 2, 0, 0, 0, 0, 0x99 }, smac[6] = { 2, 0, 0, 0, 0, 0x51 };
	assert_memory_equal(a->dmac, nh, 6);
	assert_memory_equal(a->smac, smac, 6);
	assert_int_equal(a->out_port, 1);
	assert_int_equal(a->tx_class, SS_TX_LOSSLESS);
	assert_int_equal(a->dscp, 26);              /* rdma.config data_dscp */
	assert_int_equal(a->pcp, SS_RDMA_NO_PCP);
	assert_int_equal(a->encap, SS_RDMA_ENCAP_NONE);
	assert_true(st->lossless[0]);
	/* lossless asked toward a port without a lane: steered, not lossless */
	a = &st->act[1];
	assert_int_equal(a->out_port, 0);
	assert_int_equal(a->tx_class, SS_TX_DEFAULT);
	assert_false(st->lossless[1]);
	assert_int_equal(a->dscp, 10);
	assert_int_equal(a->pcp, 5);
	/* default queue toward a lane port */
	assert_int_equal(st->act[2].tx_class, SS_TX_DEFAULT);
	assert_false(st->lossless[2]);
	assert_int_equal(st->cnp_dscp, 48);
	assert_int_equal(st->gen, 7);
	assert_int_equal(st->idle_tsc, 5000ull * 2000000ull);
	assert_non_null(st->ctr[0]);
	assert_non_null(st->ctr[1]);
	assert_null(st->ctr[2]);
	ss_rdma_state_free(&mem, st);
	json_decref(arr);
}

/* encap vnet: the ENI resolved to the overlay's index; an absent ENI and a
 * build without the overlay (no eni callback) are refused. */
static void test_vnet_action(void **state)
{
	struct ss_rdma_state *st = NULL;
	json_t *arr;
	char err[256] = "";
#define ACT_VNET(eni) "\"port\":\"fab0\",\"next_hop_mac\":\"02:00:00:00:00:96\",\"queue\":\"lossless\"," \
	"\"encap\":\"vnet\",\"eni\":\"" eni "\""
	const char *ok = "[" POL("v", 1, "\"dst_prefix\":\"10.0.0.0/8\"", ACT_VNET("e1")) "]";
	const char *ghost = "[" POL("v", 1, "\"dst_prefix\":\"10.0.0.0/8\"", ACT_VNET("e9")) "]";

	(void)state;
	assert_int_equal(build(ok, &st, &arr, err, sizeof(err)), 0);
	assert_int_equal(st->act[0].encap, SS_RDMA_ENCAP_VNET);
	assert_int_equal(st->act[0].eni, 3);
	assert_int_equal(st->act[0].out_port, 2);
	ss_rdma_state_free(&mem, st);
	json_decref(arr);

	st = NULL;
	assert_int_equal(build(ghost, &st, &arr, err, sizeof(err)), -ENOENT);
	assert_null(st);
	assert_non_null(strstr(err, "rdma.policy v: action.eni \"e9\" is not an ENI"));
	json_decref(arr);

	struct ss_rdma_env no_overlay = env;
	struct ss_rdma_policy_rec pols[1];

	no_overlay.eni = NULL;
	arr = json_loads(ok, 0, NULL);
	decode(arr, pols, 1);
	assert_int_equal(ss_rdma_state_build(&no_overlay, &cfg, pols, 1, NULL, 8, &st, err,
					     sizeof(err)), -ENOTSUP);
	assert_null(st);
	json_decref(arr);
#undef ACT_VNET
}

/* records the decoder cannot produce from valid text: the table's second
 * line of checks */
static void no_dst_prefix(struct ss_rdma_policy_rec *r)
{
	memset(&r->match.dst_prefix, 0, sizeof(r->match.dst_prefix));
}

static void dst_prefix_33(struct ss_rdma_policy_rec *r)
{
	r->match.dst_prefix.len = 33;
}

static void test_build_errors(void **state)
{
	static const struct {
		const char *what, *text, *msg;
		void (*tweak)(struct ss_rdma_policy_rec *);
		int rc;
	} cases[] = {
		{ "unknown port",
		  "[" POL("p1", 1, "\"dst_prefix\":\"10.0.0.0/8\"",
			  "\"port\":\"nope\",\"next_hop_mac\":\"02:00:00:00:00:01\"") "]",
		  "rdma.policy p1: action.port \"nope\" is not a port", NULL, -ENOENT },
		{ "not a prefix",
		  "[" POL("p2", 1, "\"dst_prefix\":\"10.0.0.0/8\"", ACT_STOR) "]",
		  "rdma.policy p2: match.dst_prefix \"\" is not a prefix", no_dst_prefix, -EINVAL },
		{ "families differ",
		  "[" POL("p3", 1, "\"dst_prefix\":\"10.0.0.0/8\",\"src_prefix\":\"fd00::/8\"",
			  ACT_STOR) "]",
		  "rdma.policy p3: match.src_prefix \"fd00::/8\" is not a prefix of dst_prefix's "
		  "family", NULL, -EINVAL },
		{ "prefix too long",
		  "[" POL("p4", 1, "\"dst_prefix\":\"10.0.0.0/8\"", ACT_STOR) "]",
		  "rdma.policy p4: match.dst_prefix \"10.0.0.0/33\" is not a prefix", dst_prefix_33,
		  -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ss_rdma_state *st = (void *)1;
		json_t *arr;
		char err[256] = "";
		int rc = build_tweaked(cases[i].text, cases[i].tweak, &st, &arr, err, sizeof(err));

		if (rc != cases[i].rc || strcmp(err, cases[i].msg) != 0)
			fail_msg("%s: rc %d \"%s\"", cases[i].what, rc, err);
		assert_null(st);
		json_decref(arr);
	}
}

static void test_empty_and_counters(void **state)
{
	struct ss_rdma_state *st;
	json_t *arr;
	char err[256] = "";
	uint64_t pk, by;

	(void)state;
	assert_int_equal(build("[]", &st, &arr, err, sizeof(err)), 0);
	assert_string_equal(lookup(st, "1.1.1.1", "10.0.0.1", 0), "-");
	assert_string_equal(lookup(st, "::1", "2001:db8::1", 0), "-");
	ss_rdma_state_free(&mem, st);
	json_decref(arr);

	assert_int_equal(build(policies, &st, &arr, err, sizeof(err)), 0);
	st->ctr[0][3].packets = 5;
	st->ctr[0][3].bytes = 500;
	st->ctr[1][3].packets = 2;
	st->ctr[1][3].bytes = 120;
	ss_rdma_state_counters(st, 2, 3, &pk, &by);
	assert_int_equal(pk, 7);
	assert_int_equal(by, 620);
	ss_rdma_state_counters(st, 2, 4, &pk, &by);
	assert_int_equal(pk, 0);
	ss_rdma_state_free(&mem, st);
	json_decref(arr);
}

static void test_settings(void **state)
{
	struct ss_rdma_config_rec rec = { .data_dscp = 30, .cnp_dscp = 46, .qp_table_size = 4096,
					  .qp_idle_timeout_ms = 1500 };
	struct ss_rdma_settings s;
	char err[256];

	(void)state;
	assert_int_equal(ss_rdma_settings_parse(&rec, &s, err, sizeof(err)), 0);
	assert_int_equal(s.data_dscp, 30);
	assert_int_equal(s.cnp_dscp, 46);
	assert_int_equal(s.qp_table_size, 4096);
	assert_int_equal(s.qp_idle_timeout_ms, 1500);
	rec.cnp_dscp = 64;
	assert_int_equal(ss_rdma_settings_parse(&rec, &s, err, sizeof(err)), -EINVAL);
	rec.cnp_dscp = 46;
	rec.qp_table_size = 0;
	assert_int_equal(ss_rdma_settings_parse(&rec, &s, err, sizeof(err)), -EINVAL);
}

static void test_qpset(void **state)
{
	struct ss_rdma_qpset *q = ss_rdma_qpset_new(&env, 1001);

	(void)state;
	assert_non_null(q);
	assert_int_equal(q->nb, 2);
	assert_int_equal(q->size, 1001);
	/* split over the workers, rounded up */
	assert_int_equal(q->t[0]->capacity, 501);
	assert_int_equal(q->t[1]->capacity, 501);
	/* twice the slots the capacity needs, in whole buckets */
	assert_true(ss_rdma_qpt_slots(q->t[0]) >= 2 * 501);
	assert_int_equal(q->t[0]->nb_buckets & (q->t[0]->nb_buckets - 1), 0);
	ss_rdma_qpset_free(&mem, q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_table),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_vnet_action),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_empty_and_counters),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_qpset),
	};
	char err[256];

	/* the records are laid out when the type registry is sealed */
	if (ss_types_seal(err, sizeof(err)) != 0) {
		fprintf(stderr, "object types: %s\n", err);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
