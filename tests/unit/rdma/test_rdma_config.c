/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the `rdma` section of sswitchd.conf (dataplane/config.c,
 * load_rdma): values, defaults when absent, and errors naming the file,
 * line and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dataplane/config.h"

#define BASE \
	"lcores = { main = 0; workers = [1]; };\n" \
	"ports = ( { name = \"h0\"; devargs = \"net_null0\"; role = \"host\"; } );\n"

static int load(const char *extra, struct ss_config *cfg, char *err, size_t errlen)
{
	char path[] = "/tmp/ss_rdma_conf_XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	int rc;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "%s%s", BASE, extra);
	fclose(f);
	rc = ss_config_load(path, cfg, err, errlen);
	unlink(path);
	/* the message names the file: keep only what follows it */
	if (rc != 0 && strncmp(err, path, strlen(path)) == 0)
		memmove(err, err + strlen(path), strlen(err + strlen(path)) + 1);
	return rc;
}

static void test_values(void **state)
{
	struct ss_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(load("rdma = { data_dscp = 10; cnp_dscp = 46; qp_table_size = 4096;\n"
			      "  qp_idle_timeout_ms = 2500; };\n", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.rdma_data_dscp, 10);
	assert_int_equal(cfg.rdma_cnp_dscp, 46);
	assert_int_equal(cfg.rdma_dscp_set, 1);
	assert_int_equal(cfg.rdma_qp_table_size, 4096);
	assert_int_equal(cfg.rdma_qp_idle_timeout_ms, 2500);
	ss_config_free(&cfg);

	/* a partial section: the DSCPs not given keep 26 / 48 */
	assert_int_equal(load("rdma = { cnp_dscp = 40; };\n", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.rdma_data_dscp, 26);
	assert_int_equal(cfg.rdma_cnp_dscp, 40);
	assert_int_equal(cfg.rdma_qp_table_size, 0);      /* the control plane's default */
	ss_config_free(&cfg);

	/* no section: nothing set */
	assert_int_equal(load("", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.rdma_dscp_set, 0);
	assert_int_equal(cfg.rdma_qp_table_size, 0);
	assert_int_equal(cfg.rdma_qp_idle_timeout_ms, 0);
	ss_config_free(&cfg);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "rdma = { data_dscp = 64; };\n", ":3: rdma.data_dscp: 64 is out of range [0, 63]" },
		{ "rdma = { cnp_dscp = -1; };\n", ":3: rdma.cnp_dscp: -1 is out of range [0, 63]" },
		{ "rdma = {\n  qp_table_size = 0;\n};\n",
		  ":4: rdma.qp_table_size: 0 is out of range [1, 67108864]" },
		{ "rdma = { qp_idle_timeout_ms = \"1s\"; };\n",
		  ":3: rdma.qp_idle_timeout_ms: expected an integer, got a string" },
		{ "rdma = { dscp = 1; };\n", ":3: rdma.dscp: unknown key" },
		{ "rdma = 1;\n", ":3: rdma: expected a group { ... }, got an integer" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_config cfg;
		char err[512] = "";

		assert_int_equal(load(cases[i].text, &cfg, err, sizeof(err)), -1);
		if (strcmp(err, cases[i].msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].text, err, cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
