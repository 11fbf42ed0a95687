/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The rate limiter's conformance test (rl_gcra.h) on a fake clock of 1 GHz:
 * bursts after idle, the long-run rate under a flood, both limits at once,
 * the per-worker share, and a limit set anew restarting the bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipelines/ratelimit/rl_gcra.h"

#define HZ 1000000000ull

/* Offer `n` packets of `len` bytes, one every `gap` cycles from `t0`;
 * returns how many passed. */
static uint64_t offer(const struct ss_rl_limit *l, struct ss_rl_bucket *b, uint64_t t0,
		      uint64_t gap, uint64_t n, uint32_t len)
{
	uint64_t passed = 0;

	for (uint64_t i = 0; i < n; i++)
		passed += ss_rl_conform(l, b, t0 + i * gap, len);
	return passed;
}

static void test_unlimited(void **state)
{
	struct ss_rl_limit l;
	struct ss_rl_bucket b = { 0 };

	(void)state;
	ss_rl_limit_make(&l, 0, 0, 1, HZ, 1);
	assert_int_equal(l.active, 0);
	assert_int_equal(offer(&l, &b, 1000, 0, 100000, 1500), 100000);
}

static void test_pps_burst_then_rate(void **state)
{
	struct ss_rl_limit l;
	struct ss_rl_bucket b = { 0 };
	uint64_t p;

	(void)state;
	ss_rl_limit_make(&l, 1000, 0, 1, HZ, 1);     /* 1000 pps: burst 10 ms = 10 */
	assert_int_equal(l.active, 1);
	assert_int_equal(l.pkt_t, 1000000);
	/* 100 packets at once after idle: exactly the burst */
	assert_int_equal(offer(&l, &b, 5 * HZ, 0, 100, 64), 10);
	assert_int_equal(b.dropped, 90);
	/* a 10x flood for one second: the rate, +-1 */
	p = offer(&l, &b, 6 * HZ, HZ / 10000, 10000, 64);
	assert_true(p >= 999 && p <= 1011);
	/* traffic under the rate all passes */
	b = (struct ss_rl_bucket){ 0 };
	assert_int_equal(offer(&l, &b, 10 * HZ, HZ / 500, 500, 64), 500);
}

static void test_bps(void **state)
{
	struct ss_rl_limit l;
	struct ss_rl_bucket b = { 0 };
	uint64_t p;

	(void)state;
	ss_rl_limit_make(&l, 0, 8000000, 1, HZ, 1);  /* 1 MB/s, burst 10000 bytes */
	/* 1000-byte packets at once: the burst's 10000 bytes and one more packet */
	assert_int_equal(offer(&l, &b, HZ, 0, 100, 1000), 11);
	/* 10 MB/s offered for one second: 1 MB/s passes (+- a packet) */
	b = (struct ss_rl_bucket){ 0 };
	p = offer(&l, &b, 3 * HZ, HZ / 10000, 10000, 1000);
	assert_true(p >= 1000 && p <= 1012);
	/* small packets under the byte rate pass */
	b = (struct ss_rl_bucket){ 0 };
	assert_int_equal(offer(&l, &b, 5 * HZ, HZ / 1000, 1000, 500), 1000);
}

static void test_both_limits_stricter_wins(void **state)
{
	struct ss_rl_limit l;
	struct ss_rl_bucket b = { 0 };
	uint64_t p;

	(void)state;
	/* 1000 pps and 8 Mbps: 100-byte packets hit the packet limit, */
	ss_rl_limit_make(&l, 1000, 8000000, 1, HZ, 1);
	p = offer(&l, &b, HZ, HZ / 10000, 10000, 100);
	assert_true(p >= 1000 && p <= 1011);
	/* 9000-byte packets the byte limit (1 MB/s = 111 of them) */
	b = (struct ss_rl_bucket){ 0 };
	p = offer(&l, &b, 3 * HZ, HZ / 10000, 10000, 9000);
	assert_true(p >= 111 && p <= 114);
}

static void test_worker_share(void **state)
{
	struct ss_rl_limit l;
	struct ss_rl_bucket b = { 0 };
	uint64_t p;

	(void)state;
	/* 2 workers: each polices half of 2000 pps */
	ss_rl_limit_make(&l, 2000, 0, 2, HZ, 1);
	p = offer(&l, &b, HZ, HZ / 10000, 10000, 64);
	assert_true(p >= 999 && p <= 1011);
}

static void test_new_generation_restarts(void **state)
{
	struct ss_rl_limit l;
	struct ss_rl_bucket b = { 0 };

	(void)state;
	ss_rl_limit_make(&l, 10, 0, 1, HZ, 1);       /* 10 pps: one packet of burst */
	assert_int_equal(offer(&l, &b, HZ, 0, 5, 64), 1);
	/* the bucket is exhausted for 100 ms; a limit set anew starts afresh */
	assert_int_equal(offer(&l, &b, HZ + 1000, 0, 1, 64), 0);
	ss_rl_limit_make(&l, 1000, 0, 1, HZ, 2);
	assert_int_equal(offer(&l, &b, HZ + 2000, 0, 100, 64), 10);
	assert_int_equal(b.passed, 11);
	assert_int_equal(b.dropped, 5 - 1 + 1 + 90);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_pps_burst_then_rate),
		cmocka_unit_test(test_bps),
		cmocka_unit_test(test_both_limits_stricter_wins),
		cmocka_unit_test(test_worker_share),
		cmocka_unit_test(test_new_generation_restarts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
