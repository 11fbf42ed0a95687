/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the config loader (dataplane/config.c). Fixtures are written
 * to a fresh temporary directory. Every error must read
 * "FILE:LINE: key: reason": a fixture marks the line the error is about with
 * a "# <-" comment, and the message must start with exactly that file, line
 * and key path. Fixtures write ports over several lines, as operators do, so
 * the line of a key and the line of its group differ.
 */
#include <errno.h>
#include <limits.h>
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MARK "# <-"

static char tmpdir[PATH_MAX];
static unsigned int nfiles;

static int make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/ss-config-test-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static void remove_tmpdir(void)
{
	char path[PATH_MAX + 32];

	for (unsigned int i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/t%u.conf", tmpdir, i);
		unlink(path);
	}
	rmdir(tmpdir);
}

/* Write `text` to a new file in the temp dir; its path into `path`. */
static void write_conf(const char *text, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/t%u.conf", tmpdir, nfiles++);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* 1-based line of the first line containing MARK, 0 if none. */
static int marked_line(const char *text)
{
	const char *m = strstr(text, MARK);
	int line = 1;

	if (m == NULL)
		return 0;
	for (const char *c = text; c < m; c++)
		line += *c == '\n';
	return line;
}

/* ------------------------------------------------------------------------ */
/* A valid config using every section and every key. */

static const char full_conf[] =
	"# sswitchd.conf used by test_config\n"
	"eal = [\"--no-huge\", \"-m\", \"1024\", \"--no-pci\", \"--file-prefix=ut\"];\n"
	"lcores = {\n"
	"  main = 2;\n"
	"  workers = [3, 5, 4];\n"
	"};\n"
	"ports = (\n"
	"  {\n"
	"    name = \"host0\";\n"
	"    devargs = \"net_tap0,iface=ss-host0\";\n"
	"    role = \"host\";\n"
	"    peer = \"fabric0\";\n"
	"    mtu = 9000;\n"
	"    rx_queues = 2;\n"
	"    lossless_lane = false;\n"
	"    mac = \"02:00:00:00:aa:01\";\n"
	"  },\n"
	"  {\n"
	"    name = \"fabric0\";\n"
	"    devargs = \"0000:03:00.0\";\n"
	"    role = \"fabric\";\n"
	"  },\n"
	"  { name = \"stor-0.a_b\"; devargs = \"net_pcap0,rx_pcap=/tmp/in.pcap,tx_pcap=/tmp/o.pcap\";"
	" role = \"storage\"; lossless_lane = true; mtu = 68; }\n"
	");\n"
	"control = {\n"
	"  socket = \"/tmp/ss-ut.sock\";\n"
	"  state_file = \"/tmp/ss-ut-state.json\";\n"
	"  group = \"sswitch\";\n"
	"  idle_timeout_s = 30; request_timeout_ms = 2000; max_clients = 100;\n"
	"  max_clients_per_uid = 10; max_buffered_mb = 64; snapshot_interval_s = 3;\n"
	"};\n"
	"flows = { max_flows = 2048; idle_timeout_ms = 1000; tcp_fin_timeout_ms = 500; };\n"
	"tables = {\n"
	"  vnets = 11; enis = 12; mappings = 13; routes = 14; inbound_routes = 15;\n"
	"  underlay_routes = 16; acl_groups = 17; acl_rules = 18; rdma_policies = 19;\n"
	"  vips = 20; pa_validations = 21;\n"
	"};\n"
	"telemetry = { prometheus = \"127.0.0.1:9469\"; };\n"
	"bootstrap = \"objects.json\";\n"
	"mbufs = 65536;\n"
	"stats_interval_s = 5;\n";

static void test_full_config(void **state)
{
	char path[PATH_MAX + 32], err[512], want[PATH_MAX + 64];
	struct ss_config cfg;
	(void)state;

	write_conf(full_conf, path, sizeof(path));
	if (ss_config_load(path, &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(cfg.path, path);

	assert_int_equal(cfg.eal_argc, 5);
	assert_string_equal(cfg.eal_argv[0], "--no-huge");
	assert_string_equal(cfg.eal_argv[2], "1024");
	assert_string_equal(cfg.eal_argv[4], "--file-prefix=ut");
	assert_null(cfg.eal_argv[5]);

	assert_int_equal(cfg.main_lcore, 2);
	assert_int_equal(cfg.ctl_idle_timeout_s, 30);
	assert_int_equal(cfg.ctl_request_timeout_ms, 2000);
	assert_int_equal(cfg.ctl_max_clients, 100);
	assert_int_equal(cfg.ctl_max_clients_per_uid, 10);
	assert_int_equal(cfg.ctl_max_buffered_mb, 64);
	assert_int_equal(cfg.ctl_snapshot_interval_s, 3);
	assert_int_equal(cfg.nb_workers, 3);
	assert_int_equal(cfg.workers[0], 3);
	assert_int_equal(cfg.workers[1], 5);
	assert_int_equal(cfg.workers[2], 4);

	assert_int_equal(cfg.nb_ports, 3);
	const struct ss_port_conf *h = &cfg.ports[0], *f = &cfg.ports[1], *s = &cfg.ports[2];
	assert_string_equal(h->name, "host0");
	assert_string_equal(h->devargs, "net_tap0,iface=ss-host0");
	assert_int_equal(h->role, SS_ROLE_HOST);
	assert_string_equal(h->peer, "fabric0");
	assert_int_equal(h->mtu, 9000);
	assert_int_equal(h->rx_queues, 2);
	assert_int_equal(h->lossless_lane, 0);
	assert_true(h->has_mac);
	static const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0xaa, 0x01 };
	assert_memory_equal(h->mac, mac, 6);
	assert_int_equal(h->line, 8);
	/* defaults */
	assert_string_equal(f->name, "fabric0");
	assert_string_equal(f->devargs, "0000:03:00.0");
	assert_int_equal(f->role, SS_ROLE_FABRIC);
	assert_string_equal(f->peer, "");
	assert_int_equal(f->mtu, 1500);
	assert_int_equal(f->rx_queues, 0);
	assert_int_equal(f->lossless_lane, -1);
	assert_false(f->has_mac);
	assert_int_equal(f->line, 18);
	assert_string_equal(s->name, "stor-0.a_b");
	assert_int_equal(s->role, SS_ROLE_STORAGE);
	assert_int_equal(s->lossless_lane, 1);
	assert_int_equal(s->mtu, 68);

	assert_string_equal(cfg.socket_path, "/tmp/ss-ut.sock");
	assert_string_equal(cfg.state_file, "/tmp/ss-ut-state.json");
	assert_string_equal(cfg.group, "sswitch");
	assert_int_equal(cfg.max_flows, 2048);
	assert_int_equal(cfg.idle_timeout_ms, 1000);
	assert_int_equal(cfg.tcp_fin_timeout_ms, 500);
	assert_int_equal(cfg.limits.max_vnets, 11);
	assert_int_equal(cfg.limits.max_enis, 12);
	assert_int_equal(cfg.limits.max_mappings, 13);
	assert_int_equal(cfg.limits.max_routes, 14);
	assert_int_equal(cfg.limits.max_inbound_routes, 15);
	assert_int_equal(cfg.limits.max_underlay_routes, 16);
	assert_int_equal(cfg.limits.max_acl_groups, 17);
	assert_int_equal(cfg.limits.max_acl_rules, 18);
	assert_int_equal(cfg.limits.max_rdma_policies, 19);
	assert_int_equal(cfg.limits.max_vips, 20);
	assert_int_equal(cfg.limits.max_pa_validations, 21);
	assert_string_equal(cfg.prometheus, "127.0.0.1:9469");
	snprintf(want, sizeof(want), "%s/objects.json", tmpdir);
	assert_string_equal(cfg.bootstrap, want);
	assert_int_equal(cfg.mbufs, 65536);
	assert_int_equal(cfg.stats_interval_s, 5);
	ss_config_free(&cfg);
	assert_null(cfg.path);
}

static const char minimal_conf[] =
	"lcores = { main = 0; workers = [1]; };\n"
	"ports = ( { name = \"p0\"; devargs = \"net_null0\"; role = \"host\"; } );\n";

static void test_defaults(void **state)
{
	char path[PATH_MAX + 32], err[512];
	struct ss_config cfg;
	(void)state;

	write_conf(minimal_conf, path, sizeof(path));
	if (ss_config_load(path, &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.eal_argc, 0);
	assert_int_equal(cfg.nb_workers, 1);
	assert_int_equal(cfg.ports[0].mtu, 1500);
	assert_string_equal(cfg.socket_path, SS_DEFAULT_SOCKET);
	assert_string_equal(cfg.state_file, SS_DEFAULT_STATE);
	assert_null(cfg.group);
	assert_null(cfg.prometheus);
	assert_null(cfg.bootstrap);
	assert_int_equal(cfg.max_flows, 1048576);
	assert_int_equal(cfg.idle_timeout_ms, 30000);
	assert_int_equal(cfg.tcp_fin_timeout_ms, 2000);
	assert_int_equal(cfg.limits.max_vnets, 0);
	assert_int_equal(cfg.mbufs, 0);
	assert_int_equal(cfg.stats_interval_s, 1);
	ss_config_free(&cfg);
}

/* state_file = "" turns persistence off; an absolute bootstrap is kept. */
static void test_no_state_absolute_bootstrap(void **state)
{
	char path[PATH_MAX + 32], err[512];
	struct ss_config cfg;
	(void)state;

	write_conf("lcores = { main = 0; workers = [1]; };\n"
		   "ports = ( { name = \"p0\"; devargs = \"net_null0\"; role = \"host\"; } );\n"
		   "control = { state_file = \"\"; };\n"
		   "bootstrap = \"/etc/sswitch/objects.json\";\n"
		   "stats_interval_s = 0;\n",
		   path, sizeof(path));
	if (ss_config_load(path, &cfg, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_null(cfg.state_file);
	assert_string_equal(cfg.bootstrap, "/etc/sswitch/objects.json");
	assert_int_equal(cfg.stats_interval_s, 0);
	ss_config_free(&cfg);
}

/* A config named without a directory: the bootstrap is relative to ".". */
static void test_bootstrap_relative_to_cwd_config(void **state)
{
	char path[PATH_MAX + 32], err[512], cwd[PATH_MAX];
	struct ss_config cfg;
	(void)state;

	write_conf("lcores = { main = 0; workers = [1]; };\n"
		   "ports = ( { name = \"p0\"; devargs = \"net_null0\"; role = \"host\"; } );\n"
		   "bootstrap = \"sub/objects.json\";\n",
		   path, sizeof(path));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	int rc = ss_config_load(strrchr(path, '/') + 1, &cfg, err, sizeof(err));
	assert_int_equal(chdir(cwd), 0);
	if (rc != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(cfg.bootstrap, "./sub/objects.json");
	ss_config_free(&cfg);
}

static void test_file_missing(void **state)
{
	char path[PATH_MAX + 32], err[512];
	struct ss_config cfg;
	(void)state;

	snprintf(path, sizeof(path), "%s/does-not-exist.conf", tmpdir);
	assert_int_equal(ss_config_load(path, &cfg, err, sizeof(err)), -1);
	if (strncmp(err, path, strlen(path)) != 0 || strstr(err, strerror(ENOENT)) == NULL)
		fail_msg("message \"%s\" should name %s and say why", err, path);
}

/* A short error buffer gets a truncated, terminated message. */
static void test_small_err_buffer(void **state)
{
	char path[PATH_MAX + 32], err[8];
	struct ss_config cfg;
	(void)state;

	write_conf("lcores = { main = 0; workers = [0]; };\n", path, sizeof(path));
	assert_int_equal(ss_config_load(path, &cfg, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, path, sizeof(err) - 1);
}

/* ------------------------------------------------------------------------ */
/* Errors. */

#define LCORES "lcores = {\n  main = 0;\n  workers = [1];\n};\n"
#define PORT0                               \
	"ports = (\n"                       \
	"  {\n"                             \
	"    name = \"host0\";\n"           \
	"    devargs = \"net_null0\";\n"    \
	"    role = \"host\";\n"            \
	"  },\n"
/* ports[1], then the closing of the list */
#define PORT1(...) "  {\n" __VA_ARGS__ "  }\n);\n"
#define NAME1 "    name = \"fabric0\";\n"
#define DEV1 "    devargs = \"net_null1\";\n"
#define ROLE1 "    role = \"fabric\";\n"

struct ecase {
	const char *name;
	const char *text;
	const char *key;      /* key path in the message; NULL for syntax errors */
	const char *reason;   /* a piece of the reason */
};

static const struct ecase ecases[] = {
	{ "syntax error",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    mtu = 9000 9000; " MARK "\n"),
	  NULL, "syntax error" },
	{ "missing lcores", PORT0 PORT1(NAME1 DEV1 ROLE1), "lcores", "missing" },
	{ "missing ports", LCORES, "ports", "missing" },
	{ "empty ports", LCORES "ports = ( ); " MARK "\n", "ports", "at least one" },
	{ "ports not a list", LCORES "ports = { name = \"a\"; }; " MARK "\n", "ports",
	  "expected a list" },
	{ "missing port name", LCORES PORT0 "  { " MARK "\n" DEV1 ROLE1 "  }\n);\n",
	  "ports[1].name", "missing" },
	{ "missing port devargs", LCORES PORT0 "  { " MARK "\n" NAME1 ROLE1 "  }\n);\n",
	  "ports[1].devargs", "missing" },
	{ "missing port role", LCORES PORT0 "  { " MARK "\n" NAME1 DEV1 "  }\n);\n",
	  "ports[1].role", "missing" },
	{ "mtu of the wrong type",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    mtu = \"x\"; " MARK "\n"),
	  "ports[1].mtu", "expected an integer" },
	{ "mtu out of range", LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    mtu = 10; " MARK "\n"),
	  "ports[1].mtu", "out of range" },
	{ "rx_queues out of range",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    rx_queues = 0; " MARK "\n"),
	  "ports[1].rx_queues", "out of range" },
	{ "lossless_lane not a boolean",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    lossless_lane = 1; " MARK "\n"),
	  "ports[1].lossless_lane", "true or false" },
	{ "unknown role", LCORES PORT0 PORT1(NAME1 DEV1 "    role = \"hots\"; " MARK "\n"),
	  "ports[1].role", "\"hots\" (expected host, fabric or storage)" },
	{ "empty devargs", LCORES PORT0 PORT1(NAME1 "    devargs = \"\"; " MARK "\n" ROLE1),
	  "ports[1].devargs", "is not a device" },
	{ "devargs with a space",
	  LCORES PORT0 PORT1(NAME1 "    devargs = \"net_tap0, iface=x\"; " MARK "\n" ROLE1),
	  "ports[1].devargs", "is not a device" },
	{ "devargs without a driver",
	  LCORES PORT0 PORT1(NAME1 "    devargs = \",x\"; " MARK "\n" ROLE1),
	  "ports[1].devargs", "is not a device" },
	{ "devargs with a trailing comma",
	  LCORES PORT0 PORT1(NAME1 "    devargs = \"net_null1,\"; " MARK "\n" ROLE1),
	  "ports[1].devargs", "is not a device" },
	{ "port name with a space",
	  LCORES PORT0 PORT1("    name = \"fab 0\"; " MARK "\n" DEV1 ROLE1),
	  "ports[1].name", "fab 0" },
	{ "duplicate port name",
	  LCORES PORT0 PORT1("    name = \"host0\"; " MARK "\n" DEV1 ROLE1),
	  "ports[1].name", "already the name of ports[0]" },
	{ "peer naming an unknown port",
	  LCORES "ports = (\n  {\n    name = \"host0\";\n    devargs = \"net_null0\";\n"
		 "    role = \"host\";\n    peer = \"fabric9\"; " MARK "\n  },\n"
		 PORT1(NAME1 DEV1 ROLE1),
	  "ports[0].peer", "fabric9" },
	{ "bad MAC (5 bytes)",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    mac = \"02:00:00:00:00\"; " MARK "\n"),
	  "ports[1].mac", "not a unicast MAC" },
	{ "bad MAC (not hex)",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    mac = \"02:00:00:00:00:zz\"; " MARK "\n"),
	  "ports[1].mac", "not a unicast MAC" },
	{ "multicast MAC",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    mac = \"01:00:5e:00:00:01\"; " MARK "\n"),
	  "ports[1].mac", "not a unicast MAC" },
	{ "unknown top-level key", LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "mbuf = 4096; " MARK "\n",
	  "mbuf", "unknown key" },
	{ "unknown key in ports[1]",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1 "    mtus = 9000; " MARK "\n"),
	  "ports[1].mtus", "unknown key" },
	{ "unknown key in control",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "control = {\n  sockett = \"/x\"; " MARK "\n};\n",
	  "control.sockett", "unknown key" },
	{ "unknown key in lcores",
	  "lcores = {\n  main = 0;\n  worker = [1]; " MARK "\n};\n" PORT0 PORT1(NAME1 DEV1 ROLE1),
	  "lcores.worker", "unknown key" },
	{ "unknown key in tables",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "tables = {\n  vnet = 10; " MARK "\n};\n",
	  "tables.vnet", "unknown key" },
	{ "tables.vnets above the 16-bit VNET index",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "tables = {\n  vnets = 65536; " MARK "\n};\n",
	  "tables.vnets", "65536 is out of range [1, 65535]" },
	{ "tables.underlay_routes above the LPM next hops",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "tables = {\n  underlay_routes = 2097152; " MARK
	  "\n};\n",
	  "tables.underlay_routes", "out of range [1, 2097151]" },
	{ "empty control socket",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "control = {\n  socket = \"\"; " MARK "\n};\n",
	  "control.socket", "1 to 107 characters" },
	{ "control not a group", LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "control = 5; " MARK "\n",
	  "control", "expected a group" },
	{ "control.max_clients_per_uid above max_clients",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1)
		  "control = {\n  max_clients = 8;\n  max_clients_per_uid = 9; " MARK "\n};\n",
	  "control.max_clients_per_uid", "must not be above max_clients (8)" },
	{ "control.request_timeout_ms too short",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1)
		  "control = {\n  request_timeout_ms = 10; " MARK "\n};\n",
	  "control.request_timeout_ms", "out of range [100, 600000]" },
	{ "control.max_buffered_mb below two requests",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1)
		  "control = {\n  max_buffered_mb = 16; " MARK "\n};\n",
	  "control.max_buffered_mb", "out of range [34, 65536]" },
	{ "worker is the main lcore",
	  "lcores = {\n  main = 1;\n  workers = [1, 2]; " MARK "\n};\n" PORT0
		  PORT1(NAME1 DEV1 ROLE1),
	  "lcores.workers[0]", "main lcore" },
	{ "duplicate worker",
	  "lcores = {\n  main = 0;\n  workers = [1, 2, 1]; " MARK "\n};\n" PORT0
		  PORT1(NAME1 DEV1 ROLE1),
	  "lcores.workers[2]", "twice" },
	{ "no worker",
	  "lcores = {\n  main = 0;\n  workers = []; " MARK "\n};\n" PORT0 PORT1(NAME1 DEV1 ROLE1),
	  "lcores.workers", "at least one" },
	{ "eal element not a string",
	  "eal = (\"--no-huge\", 5); " MARK "\n" LCORES PORT0 PORT1(NAME1 DEV1 ROLE1), "eal[1]",
	  "expected a string" },
	{ "prometheus without a port",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1)
		  "telemetry = {\n  prometheus = \"127.0.0.1\"; " MARK "\n};\n",
	  "telemetry.prometheus", "not ADDRESS:PORT" },
	{ "prometheus port out of range",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1)
		  "telemetry = {\n  prometheus = \"127.0.0.1:65536\"; " MARK "\n};\n",
	  "telemetry.prometheus", "not ADDRESS:PORT" },
	{ "prometheus without an address",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "telemetry = {\n  prometheus = \":9469\"; " MARK
						 "\n};\n",
	  "telemetry.prometheus", "not ADDRESS:PORT" },
	{ "flows.max_flows out of range",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "flows = {\n  max_flows = 0; " MARK "\n};\n",
	  "flows.max_flows", "out of range" },
	{ "mbufs out of range", LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "mbufs = 10; " MARK "\n",
	  "mbufs", "out of range" },
	{ "stats_interval_s of the wrong type",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "stats_interval_s = \"1\"; " MARK "\n",
	  "stats_interval_s", "expected an integer" },
	{ "bootstrap of the wrong type",
	  LCORES PORT0 PORT1(NAME1 DEV1 ROLE1) "bootstrap = 1; " MARK "\n", "bootstrap",
	  "expected a string" },
};

static void run_error_case(void **state)
{
	const struct ecase *c = *state;
	char path[PATH_MAX + 32], err[1024], want[PATH_MAX + 200];
	struct ss_config cfg;
	int line = marked_line(c->text);

	write_conf(c->text, path, sizeof(path));
	memset(err, 'x', sizeof(err));
	if (ss_config_load(path, &cfg, err, sizeof(err)) != -1)
		fail_msg("%s: accepted", c->name);
	/* refused configs leave nothing allocated behind */
	assert_null(cfg.path);
	assert_null(cfg.socket_path);
	assert_int_equal(cfg.nb_ports, 0);

	if (c->key == NULL) /* syntax error: no key to name */
		snprintf(want, sizeof(want), "%s:%d: ", path, line);
	else if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s: ", path, line, c->key);
	else /* nothing to point at: the message still names the file first */
		snprintf(want, sizeof(want), "%s:", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("%s: message\n  \"%s\"\nshould start with\n  \"%s\"", c->name, err, want);
	if (line == 0 && c->key) {
		snprintf(want, sizeof(want), ": %s: ", c->key);
		if (strstr(err, want) == NULL)
			fail_msg("%s: message \"%s\" does not name the key %s", c->name, err,
				 c->key);
	}
	if (strstr(err, c->reason) == NULL)
		fail_msg("%s: message \"%s\" does not say \"%s\"", c->name, err, c->reason);
}

int main(void)
{
	static struct CMUnitTest error_tests[ARRAY_SIZE(ecases)];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_no_state_absolute_bootstrap),
		cmocka_unit_test(test_bootstrap_relative_to_cwd_config),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_small_err_buffer),
	};
	int failed;

	for (size_t i = 0; i < ARRAY_SIZE(ecases); i++) {
		error_tests[i].name = ecases[i].name;
		error_tests[i].test_func = run_error_case;
		error_tests[i].initial_state = (void *)&ecases[i];
	}
	if (make_tmpdir() != 0) {
		perror("mkdtemp");
		return 1;
	}
	failed = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("config errors", error_tests, NULL, NULL);
	remove_tmpdir();
	return failed ? 1 : 0;
}
