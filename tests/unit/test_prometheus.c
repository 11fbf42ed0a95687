/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the Prometheus rendering (dataplane/prometheus.c) on a
 * control plane with stats scopes of known shapes: described families come
 * out whole with HELP and TYPE, identities as labels, unit changes and
 * _info families; a counter no family describes (a feature's new scope) is
 * still exported, as a labelled gauge with HELP and TYPE. The live daemon's
 * output is checked with promtool in tests/api/test_prometheus.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "control/ctl.h"
#include "dataplane/prometheus.h"

static json_t *acl_get(void *ctx)
{
	(void)ctx;
	return json_pack("{s:{s:i, s:i}}", "g\"1", "10", 5, "20", 0);
}

static json_t *rl_get(void *ctx)
{
	(void)ctx;
	return json_pack("{s:{s:i, s:i, s:i, s:i}}", "e1", "rate_limit_pps", 100,
			 "rate_limit_bps", 1000004, "passed", 7, "dropped", 3);
}

static json_t *new_get(void *ctx)
{
	(void)ctx;
	return json_pack("{s:{s:i, s:b}, s:i}", "peer a", "sessions", 2, "up", 1, "total", 9);
}

static void noop_clear(void *ctx)
{
	(void)ctx;
}

static char *render(void)
{
	static const struct ss_ctl_stats acl = { .scope = "acl", .get = acl_get,
						 .clear = noop_clear };
	static const struct ss_ctl_stats rl = { .scope = "rate_limit", .get = rl_get,
						.clear = noop_clear };
	static const struct ss_ctl_stats nw = { .scope = "bfd x", .get = new_get,
						.clear = noop_clear };
	struct ss_ctl_conf conf = { .socket_path = "/nonexistent/sock" };
	struct ss_ctl *ctl = ss_ctl_create(&conf, NULL);
	size_t len = 0;
	char *text;

	assert_non_null(ctl);
	assert_int_equal(ss_ctl_register_stats(ctl, &acl), 0);
	assert_int_equal(ss_ctl_register_stats(ctl, &rl), 0);
	assert_int_equal(ss_ctl_register_stats(ctl, &nw), 0);
	text = ss_prom_render(ctl, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	ss_ctl_destroy(ctl);
	return text;
}

/* The lines of family `name`: HELP, TYPE, then its samples, contiguous. */
static void assert_family(const char *text, const char *name, const char *type)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "# HELP %s ", name);
	p = strstr(text, want);
	assert_non_null(p);
	snprintf(want, sizeof(want), "# TYPE %s %s\n", name, type);
	p = strchr(p, '\n') + 1;
	assert_memory_equal(p, want, strlen(want));
	/* no second HELP for the family */
	snprintf(want, sizeof(want), "# HELP %s ", name);
	assert_null(strstr(p, want));
}

static void test_described(void **state)
{
	char *t = render();

	(void)state;
	assert_family(t, "sswitch_build_info", "gauge");
	assert_non_null(strstr(t, "sswitch_build_info{version=\"" SS_VERSION "\",dpdk_version=\"DPDK"));
	assert_family(t, "sswitch_acl_rule_hits_total", "counter");
	/* the group's quote is escaped, the priority is a label */
	assert_non_null(strstr(t, "sswitch_acl_rule_hits_total{group=\"g\\\"1\",priority=\"10\"} 5\n"
				  "sswitch_acl_rule_hits_total{group=\"g\\\"1\",priority=\"20\"} 0\n"));
	assert_family(t, "sswitch_rate_limit_max_bytes_per_second", "gauge");
	assert_non_null(strstr(t, "sswitch_rate_limit_max_bytes_per_second{eni=\"e1\"} 125000.5\n"));
	assert_non_null(strstr(t, "sswitch_rate_limit_max_packets_per_second{eni=\"e1\"} 100\n"));
	assert_non_null(strstr(t, "sswitch_rate_limit_dropped_packets_total{eni=\"e1\"} 3\n"));
	/* families of scopes that are not registered are absent */
	assert_null(strstr(t, "sswitch_port_rx_packets_total"));
	free(t);
}

static void test_undescribed_counters_still_exported(void **state)
{
	char *t = render();

	(void)state;
	/* a scope no family describes: gauges named after scope and counter,
	 * the object level labelled "key", names sanitised */
	assert_family(t, "sswitch_bfd_x_sessions", "gauge");
	assert_non_null(strstr(t, "sswitch_bfd_x_sessions{key=\"peer a\"} 2\n"));
	assert_non_null(strstr(t, "sswitch_bfd_x_up{key=\"peer a\"} 1\n"));
	assert_family(t, "sswitch_bfd_x_total", "gauge");
	assert_non_null(strstr(t, "sswitch_bfd_x_total 9\n"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_described),
		cmocka_unit_test(test_undescribed_counters_still_exported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
