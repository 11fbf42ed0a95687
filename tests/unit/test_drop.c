/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the drop-reason names (pipelines/drop/drop_names.c), which
 * are API: stats.get, telemetry, Prometheus and capture filters use them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pipelines/drop/drop.h"

static int lower_snake_case(const char *s)
{
	/* [a-z][a-z0-9]*(_[a-z0-9]+)* */
	if (!(*s >= 'a' && *s <= 'z'))
		return 0;
	for (const char *c = s; *c; c++) {
		if (*c == '_') {
			if (c[1] == '\0' || c[1] == '_')
				return 0;
		} else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))) {
			return 0;
		}
	}
	return 1;
}

static void test_names_and_help(void **state)
{
	(void)state;

	assert_true(SS_DROP_MAX > 1);
	assert_string_equal(ss_drop_name(SS_DROP_NONE), "none");
	for (unsigned int i = 1; i < SS_DROP_MAX; i++) {
		const char *n = ss_drop_name(i), *h = ss_drop_help(i);

		assert_non_null(n);
		if (!lower_snake_case(n))
			fail_msg("reason %u: \"%s\" is not lower_snake_case", i, n);
		if (h == NULL || strlen(h) < 8)
			fail_msg("reason %u (%s): no help", i, n);
		for (unsigned int j = 1; j < i; j++)
			if (strcmp(n, ss_drop_name(j)) == 0)
				fail_msg("reasons %u and %u are both \"%s\"", j, i, n);
		assert_int_not_equal(strcmp(n, "none"), 0);
	}
}

static void test_round_trip(void **state)
{
	(void)state;

	for (unsigned int i = 1; i < SS_DROP_MAX; i++)
		assert_int_equal(ss_drop_from_name(ss_drop_name(i)), i);
	assert_int_equal(ss_drop_from_name("no_such_reason"), SS_DROP_NONE);
	assert_int_equal(ss_drop_from_name(""), SS_DROP_NONE);
	assert_int_equal(ss_drop_from_name("PARSE_TRUNCATED"), SS_DROP_NONE);
	assert_int_equal(ss_drop_from_name("parse_truncated "), SS_DROP_NONE);
	assert_int_equal(ss_drop_from_name("none"), SS_DROP_NONE);
}

static void test_out_of_range(void **state)
{
	(void)state;

	assert_null(ss_drop_name(SS_DROP_MAX));
	assert_null(ss_drop_help(SS_DROP_MAX));
	assert_null(ss_drop_name(~0u));
	assert_null(ss_drop_help(~0u));
}

/* The spellings SPEC sections 2, 3.4 and 3.7 require, tied to the enum
 * values the code uses. */
static void test_spec_spellings(void **state)
{
	static const struct {
		unsigned int id;
		const char *name;
	} spec[] = {
		{ SS_DROP_PARSE_TRUNCATED, "parse_truncated" },
		{ SS_DROP_PARSE_BAD_IP, "parse_bad_ip" },
		{ SS_DROP_MTU_EXCEEDED, "mtu_exceeded" },
		{ SS_DROP_TTL_EXCEEDED, "ttl_exceeded" },
		{ SS_DROP_TX_FULL, "tx_full" },
		{ SS_DROP_NO_MBUF, "no_mbuf" },
		{ SS_DROP_DMAC_MISMATCH, "dmac_mismatch" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		assert_string_equal(ss_drop_name(spec[i].id), spec[i].name);
		assert_int_equal(ss_drop_from_name(spec[i].name), spec[i].id);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_help),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_spec_spellings),
	};

	return cmocka_run_group_tests_name("drop reasons", tests, NULL, NULL);
}
