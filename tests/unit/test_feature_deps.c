/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the feature init order (dataplane/feature.c,
 * ss_features_sort): dependencies first, registration order among
 * independent features, and a clear refusal of a missing dependency, a
 * cycle or a duplicate name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/feature.h"

#define NONE NULL

static struct ss_feature overlay = { .name = "overlay" };
static struct ss_feature acl = { .name = "acl", .depends_on = SS_FEATURE_DEPS("overlay") };
static struct ss_feature conntrack = {
	.name = "conntrack", .depends_on = SS_FEATURE_DEPS("overlay", "acl"),
};
static struct ss_feature rdma = { .name = "rdma", .depends_on = SS_FEATURE_DEPS("overlay") };
static struct ss_feature capture = { .name = "capture", .depends_on = NONE };

static void assert_order(struct ss_feature **v, size_t n, const char *const *want)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->name, want[i]) != 0)
			fail_msg("position %zu: %s, expected %s", i, v[i]->name, want[i]);
}

static void test_sorted_input_unchanged(void **state)
{
	struct ss_feature *v[] = { &overlay, &acl, &conntrack, &rdma, &capture };
	static const char *const want[] = { "overlay", "acl", "conntrack", "rdma", "capture" };
	char err[256] = "";

	(void)state;
	assert_int_equal(ss_features_sort(v, 5, err, sizeof(err)), 0);
	assert_order(v, 5, want);
}

static void test_dependencies_first_stable_otherwise(void **state)
{
	/* registered backwards: capture depends on nothing and stays first;
	 * overlay moves up to the first feature needing it; among the rest,
	 * registration order (rdma before acl), conntrack after acl */
	struct ss_feature *v[] = { &capture, &rdma, &conntrack, &acl, &overlay };
	static const char *const want[] = { "capture", "overlay", "rdma", "acl", "conntrack" };
	char err[256] = "";

	(void)state;
	assert_int_equal(ss_features_sort(v, 5, err, sizeof(err)), 0);
	assert_order(v, 5, want);
}

static void test_missing_dependency(void **state)
{
	struct ss_feature *v[] = { &capture, &conntrack, &overlay };  /* no acl */
	char err[256] = "";

	(void)state;
	assert_int_equal(ss_features_sort(v, 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "feature conntrack"));
	assert_non_null(strstr(err, "acl"));
	/* unchanged on failure */
	assert_ptr_equal(v[0], &capture);
	assert_ptr_equal(v[1], &conntrack);
	assert_ptr_equal(v[2], &overlay);
}

static void test_cycle(void **state)
{
	struct ss_feature a = { .name = "a", .depends_on = SS_FEATURE_DEPS("c") };
	struct ss_feature b = { .name = "b", .depends_on = SS_FEATURE_DEPS("a") };
	struct ss_feature c = { .name = "c", .depends_on = SS_FEATURE_DEPS("b") };
	struct ss_feature *v[] = { &overlay, &a, &b, &c, &capture };
	char err[256] = "";

	(void)state;
	assert_int_equal(ss_features_sort(v, 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cycle"));
	assert_non_null(strstr(err, " a"));
	assert_non_null(strstr(err, " b"));
	assert_non_null(strstr(err, " c"));
	assert_null(strstr(err, "overlay"));  /* not part of it */
	assert_ptr_equal(v[0], &overlay);
	assert_ptr_equal(v[1], &a);
}

static void test_self_dependency(void **state)
{
	struct ss_feature a = { .name = "a", .depends_on = SS_FEATURE_DEPS("a") };
	struct ss_feature *v[] = { &a };
	char err[256] = "";

	(void)state;
	assert_int_equal(ss_features_sort(v, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cycle"));
}

static void test_duplicate_name(void **state)
{
	struct ss_feature again = { .name = "acl" };
	struct ss_feature *v[] = { &overlay, &acl, &again };
	char err[256] = "";

	(void)state;
	assert_int_equal(ss_features_sort(v, 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "feature acl: registered twice"));
}

static void test_empty(void **state)
{
	char err[64] = "";

	(void)state;
	assert_int_equal(ss_features_sort(NULL, 0, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_input_unchanged),
		cmocka_unit_test(test_dependencies_first_stable_otherwise),
		cmocka_unit_test(test_missing_dependency),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_self_dependency),
		cmocka_unit_test(test_duplicate_name),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
