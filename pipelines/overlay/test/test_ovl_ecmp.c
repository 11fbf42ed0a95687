/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Resilient underlay ECMP (ovl_ecmp.c, SPEC 3.10): next hops coupled to
 * BFD sessions leave and rejoin the member set; only a withdrawn member's
 * flows move, they spread over the members left, they come back when it
 * is up again, no member left is a NULL pick (underlay_nh_down), every
 * change bumps the overlay generation, and routes without BFD pick exactly
 * as before.
 */
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/test/ovl_test.h"

extern uint32_t ss_ovl_gen;

static struct txn T;
static bool up_a, up_b;

/* the BFD feature's answer, played by the test: 10.9.0.1 is A, 10.9.0.2 B */
static bool nh_up(int fam, const uint8_t *ip)
{
	if (fam != 4 || ip[0] != 10 || ip[1] != 9 || ip[2] != 0)
		return false;
	return ip[3] == 1 ? up_a : ip[3] == 2 ? up_b : false;
}

static int setup(void **state)
{
	struct ss_ctl_limits lim = { .max_enis = 8, .max_vnets = 8 };

	(void)state;
	up_a = up_b = false;
	ss_overlay_set_nh_liveness(nh_up);
	return ss_ovl_tables_init(&lim);
}

static int teardown(void **state)
{
	(void)state;
	txn_reset(&T);
	ss_ovl_tables_fini();
	ss_overlay_set_nh_liveness(NULL);
	return 0;
}

static const struct ss_ovl_uroute *route(const char *dst)
{
	uint8_t fam, a[16];

	ip(dst, &fam, a);
	return ss_ovl_uroute_find(fam, a);
}

#define NHASH 20000

/* The member (index) of NHASH spread flow hashes, -1 for none. */
static void members(const struct ss_ovl_uroute *u, int *m)
{
	for (uint32_t i = 0; i < NHASH; i++) {
		const struct ss_ovl_nexthop *h = ss_ovl_uroute_pick(u, i * 214739u + 7);

		m[i] = h ? (int)(h - u->nh) : -1;
	}
}

static int count(const int *m, int member)
{
	int n = 0;

	for (uint32_t i = 0; i < NHASH; i++)
		n += m[i] == member;
	return n;
}

static void test_withdraw_and_restore(void **state)
{
	static int all[NHASH], a_down[NHASH], back[NHASH];
	const struct ss_ovl_uroute *u;
	uint32_t gen;

	(void)state;
	/* A and B coupled to sessions, C not */
	ADD(&T, "underlay_route", "{\"prefix\": \"203.0.113.0/24\", \"next_hops\": ["
		"{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:01\", \"bfd\": \"10.9.0.1\"},"
		"{\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0b:01\", \"bfd\": \"10.9.0.2\"},"
		"{\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0c:01\"}]}");
	TXN_OK(&T);
	u = route("203.0.113.9");
	assert_non_null(u);
	assert_true(u->resilient);
	/* sessions not Up yet: only C */
	assert_int_equal(u->n_up, 1);
	members(u, all);
	assert_int_equal(count(all, 2), NHASH);

	up_a = up_b = true;
	gen = ss_ovl_gen;
	assert_int_equal(ss_overlay_nh_liveness_changed(), 1);
	assert_int_equal(ss_ovl_gen, gen + 1);
	assert_int_equal(u->n_up, 3);
	members(u, all);
	for (int m = 0; m < 3; m++)
		assert_true(count(all, m) > NHASH / 3 - NHASH / 20 &&
			    count(all, m) < NHASH / 3 + NHASH / 20);
	/* nothing changed: no new generation */
	gen = ss_ovl_gen;
	assert_int_equal(ss_overlay_nh_liveness_changed(), 0);
	assert_int_equal(ss_ovl_gen, gen);

	/* A goes down: only A's flows move, to both B and C */
	up_a = false;
	assert_int_equal(ss_overlay_nh_liveness_changed(), 1);
	assert_int_equal(ss_ovl_gen, gen + 1);
	members(u, a_down);
	assert_int_equal(count(a_down, 0), 0);
	for (uint32_t i = 0; i < NHASH; i++)
		if (all[i] != 0)
			assert_int_equal(a_down[i], all[i]);
	{
		int to_b = 0, to_c = 0;

		for (uint32_t i = 0; i < NHASH; i++)
			if (all[i] == 0) {
				to_b += a_down[i] == 1;
				to_c += a_down[i] == 2;
			}
		assert_true(to_b > count(all, 0) / 3 && to_c > count(all, 0) / 3);
	}
	/* A back: exactly the original assignment */
	up_a = true;
	assert_int_equal(ss_overlay_nh_liveness_changed(), 1);
	members(u, back);
	assert_memory_equal(back, all, sizeof(all));
}

static void test_no_member_left_and_plain_routes(void **state)
{
	static int m[NHASH];
	const struct ss_ovl_uroute *u, *p;

	(void)state;
	up_a = up_b = true;
	ADD(&T, "underlay_route", "{\"prefix\": \"198.51.100.0/24\", \"next_hops\": ["
		"{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:01\", \"bfd\": \"10.9.0.1\"},"
		"{\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0b:01\", \"bfd\": \"10.9.0.2\"}]}");
	ADD(&T, "underlay_route", "{\"prefix\": \"192.0.2.0/24\", \"next_hops\": ["
		"{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:02\"},"
		"{\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0b:02\"},"
		"{\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0c:02\"}]}");
	TXN_OK(&T);
	u = route("198.51.100.7");
	assert_int_equal(u->n_up, 2);
	members(u, m);
	assert_int_equal(count(m, 0) + count(m, 1), NHASH);
	/* B down, then A down: nothing left, the pick is NULL */
	up_b = false;
	ss_overlay_nh_liveness_changed();
	members(u, m);
	assert_int_equal(count(m, 0), NHASH);
	up_a = false;
	ss_overlay_nh_liveness_changed();
	assert_int_equal(u->n_up, 0);
	members(u, m);
	assert_int_equal(count(m, -1), NHASH);
	/* a route without BFD: the plain multiply, unaffected */
	p = route("192.0.2.1");
	assert_false(p->resilient);
	for (uint32_t h = 0; h < NHASH; h++) {
		uint32_t hash = h * 214739u + 7;

		assert_ptr_equal(ss_ovl_uroute_pick(p, hash),
				 &p->nh[(uint32_t)(((uint64_t)hash * 3) >> 32)]);
	}
	/* a new route whose sessions are down starts withdrawn */
	ADD(&T, "underlay_route", "{\"prefix\": \"198.18.0.0/15\", \"next_hops\": ["
		"{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:03\", \"bfd\": \"10.9.0.1\"}]}");
	TXN_OK(&T);
	assert_null(ss_ovl_uroute_pick(route("198.18.0.1"), 1234));
	up_a = true;
	ss_overlay_nh_liveness_changed();
	assert_non_null(ss_ovl_uroute_pick(route("198.18.0.1"), 1234));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_withdraw_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_member_left_and_plain_routes, setup,
						teardown),
	};

	if (ovl_test_eal() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
