/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sswitchd: the smart-switch data plane daemon.
 *
 * Start order (SPEC section 2): config, EAL, ports configured, workers and
 * graphs created, committed state restored then the bootstrap file applied,
 * tables published, and only then ports started and workers launched, so no
 * packet is ever processed against a half-loaded state. SIGINT/SIGTERM: the
 * workers finish their walk and stop, ports are stopped and closed (pcap
 * outputs complete), state is already durable, exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_pdump.h>
#include <rte_version.h>
#include <systemd/sd-daemon.h>

#include "control/ctl.h"
#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/health.h"
#include "dataplane/port.h"
#include "dataplane/prometheus.h"
#include "dataplane/stats.h"
#include "dataplane/worker.h"

static volatile sig_atomic_t quit_signal;

static void on_signal(int sig)
{
	quit_signal = sig;
}

static void usage(FILE *out)
{
	fprintf(out,
"NAME\n"
"    sswitchd - sswitch smart-switch data plane daemon\n"
"\n"
"SYNOPSIS\n"
"    sswitchd [-c FILE] [-q] [-i SECONDS] [--check] [-- EAL-ARGS...]\n"
"\n"
"DESCRIPTION\n"
"    sswitchd runs the sswitch packet pipeline on DPDK: worker lcores walk\n"
"    the packet graph over the rx queues of the configured ports, and the\n"
"    main lcore runs the control thread that serves the JSON-RPC socket\n"
"    (see sswitchctl(8) and docs/api.md). It runs in the foreground; stop it\n"
"    with SIGINT or SIGTERM: ports are stopped and flushed, and it exits 0.\n"
"\n"
"OPTIONS\n"
"    -c, --config FILE\n"
"        Configuration file (libconfig syntax). Default: %s.\n"
"        A bad file is refused with FILE:LINE: key: reason; nothing starts.\n"
"    -q, --quiet\n"
"        Do not print the periodic one-line stats on standard output.\n"
"    -i, --stats-interval SECONDS\n"
"        Period of the stats line and of the health findings (default: the\n"
"        config's stats_interval_s, else 1). 0 disables the stats line.\n"
"    -t, --check\n"
"        Validate what the start would, short of opening devices: the\n"
"        configuration, control.group exists, the socket and state file can\n"
"        be created, the bootstrap file is readable and a valid txn (on an\n"
"        empty state, against the configured ports). Prints a summary and\n"
"        exits 0 when valid, 1 with the reason otherwise. Touches no device\n"
"        and no file.\n"
"    -V, --version\n"
"        Print the version and the DPDK version it was built with.\n"
"    -h, --help\n"
"        This text.\n"
"    -- EAL-ARGS...\n"
"        Further DPDK EAL arguments, appended after the config's `eal` list.\n"
"\n"
"CONFIGURATION (see docs/operations.md)\n"
"    eal      = [\"--no-huge\", \"-m\", \"1024\", \"--no-pci\"];   EAL arguments, verbatim\n"
"    lcores   = { main = 0; workers = [1]; };\n"
"    ports    = ( { name = \"host0\"; devargs = \"net_tap0,iface=ss-host0\";\n"
"                   role = \"host\"; mtu = 1500; peer = \"fabric0\"; }, ... );\n"
"               role: host | fabric | storage. Optional: mtu (L3, default\n"
"               1500), peer (patch mode: everything received goes out of\n"
"               the peer), rx_queues (default: one per worker), mac,\n"
"               lossless_lane (default true on storage ports).\n"
"    control  = { socket = \"%s\"; state_file = \"%s\";\n"
"                 group = \"sswitch\"; };   state_file = \"\" disables persistence\n"
"    flows    = { max_flows = 1048576; idle_timeout_ms = 30000;\n"
"                 tcp_fin_timeout_ms = 2000; };\n"
"    tables   = { mappings = N; routes = N; ... };   object store capacities\n"
"    rdma     = { data_dscp = 26; cnp_dscp = 48; qp_table_size = 65536;\n"
"                 qp_idle_timeout_ms = 60000; };   rdma.config defaults\n"
"    telemetry = { prometheus = \"127.0.0.1:9469\"; };  GET /metrics\n"
"    ipfix    = { collector = \"10.0.0.9:4739\"; active_timeout_s = 60; };\n"
"    ha       = { role = \"active\"; listen = \"IP:PORT\"; peer = \"IP:PORT\";\n"
"                 auto_failover = false; peer_timeout_ms = 1000; };  HA pair\n"
"    bootstrap = \"objects.json\";   {\"ops\": [...]} applied at start as one txn\n"
"    mbufs    = N;                  mbufs per NUMA node (default: computed)\n"
"    stats_interval_s = 1;\n"
"    Unless the eal list sets -l/-c/--lcores, sswitchd adds -l MAIN,WORKERS\n"
"    and --main-lcore MAIN.\n"
"\n"
"OBSERVABILITY\n"
"    Counters per port, per graph node, per drop reason and per worker are\n"
"    served by stats.get on the control socket, by DPDK telemetry\n"
"    (dpdk-telemetry.py: /sswitch/ports, /sswitch/drops, /sswitch/nodes,\n"
"    /sswitch/workers) and as Prometheus text when telemetry.prometheus is set.\n"
"\n"
"EXIT STATUS\n"
"    0 after a clean stop (or a valid --check), 1 when the configuration, the\n"
"    EAL, a port or the state file prevents the start.\n"
"\n"
"FILES\n"
"    %s, %s, %s\n"
"\n"
"SEE ALSO\n"
"    sswitchctl(8), sswitchd.conf(5), docs/operations.md, docs/architecture.md\n",
		SS_DEFAULT_CONFIG, SS_DEFAULT_SOCKET, SS_DEFAULT_STATE, SS_DEFAULT_CONFIG,
		SS_DEFAULT_SOCKET, SS_DEFAULT_STATE);
}

static bool eal_has(const struct ss_config *cfg, int extra_argc, char **extra_argv,
		    const char *const *opts)
{
	for (const char *const *o = opts; *o; o++) {
		size_t n = strlen(*o);
		for (int i = 0; i < cfg->eal_argc; i++)
			if (strncmp(cfg->eal_argv[i], *o, n) == 0)
				return true;
		for (int i = 0; i < extra_argc; i++)
			if (strncmp(extra_argv[i], *o, n) == 0)
				return true;
	}
	return false;
}

/* Whether an EAL argument mentions `text` (a log type, an option). */
static bool eal_has_text(const struct ss_config *cfg, int extra_argc, char **extra_argv,
			 const char *text)
{
	for (int i = 0; i < cfg->eal_argc; i++)
		if (strstr(cfg->eal_argv[i], text) != NULL)
			return true;
	for (int i = 0; i < extra_argc; i++)
		if (strstr(extra_argv[i], text) != NULL)
			return true;
	return false;
}

/* argv for rte_eal_init: the config's list verbatim, our lcore layout where
 * it does not conflict, then the command line's extra arguments. */
static char **eal_argv_build(const struct ss_config *cfg, int extra_argc, char **extra_argv,
			     int *argc_out)
{
	static const char *const lcore_opts[] = { "-l", "-c", "--lcores", NULL };
	static const char *const main_opts[] = { "--main-lcore", NULL };
	char **argv = calloc((size_t)(cfg->eal_argc + extra_argc + 10), sizeof(char *));
	int argc = 0;
	char buf[1024];

	if (argv == NULL)
		return NULL;
	argv[argc++] = strdup("sswitchd");
	/* DPDK 22.11's telemetry warns "No legacy callbacks, legacy socket not
	 * created" at every start: sswitchd serves the v2 socket only
	 * (dpdk-telemetry.py), so the legacy socket is not missed. Its log type
	 * is registered during rte_eal_init, where the first matching
	 * --log-level pattern wins: this one goes first. Errors still show; a
	 * config that names the telemetry log type itself is left alone. */
	if (!eal_has_text(cfg, extra_argc, extra_argv, "telemetry")) {
		argv[argc++] = strdup("--log-level");
		argv[argc++] = strdup("lib.telemetry:error");
	}
	for (int i = 0; i < cfg->eal_argc; i++)
		argv[argc++] = strdup(cfg->eal_argv[i]);
	if (!eal_has(cfg, extra_argc, extra_argv, lcore_opts)) {
		size_t n = (size_t)snprintf(buf, sizeof(buf), "%u", cfg->main_lcore);
		for (unsigned int i = 0; i < cfg->nb_workers && n < sizeof(buf) - 8; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",%u", cfg->workers[i]);
		argv[argc++] = strdup("-l");
		argv[argc++] = strdup(buf);
	}
	if (!eal_has(cfg, extra_argc, extra_argv, main_opts)) {
		snprintf(buf, sizeof(buf), "%u", cfg->main_lcore);
		argv[argc++] = strdup("--main-lcore");
		argv[argc++] = strdup(buf);
	}
	for (int i = 0; i < extra_argc; i++)
		argv[argc++] = strdup(extra_argv[i]);
	*argc_out = argc;
	return argv;
}

static void rt_rcu_sync(void *ctx)
{
	(void)ctx;
	ss_workers_rcu_synchronize();
}

static void rt_system_info(void *ctx, json_t *res)
{
	json_t *ports = json_array(), *workers = json_array();
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	(void)ctx;
	json_object_set_new(res, "dpdk_version", json_string(rte_version()));
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++) {
		const struct ss_port *p = &ss_ports.ports[i];
		struct rte_eth_link link;

		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(p->eth_id, &link);
		const uint8_t *b = p->mac.addr_bytes;
		/* lower case, like every MAC the API returns */
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3],
			 b[4], b[5]);
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:b, s:s, s:b}", "name", p->name,
				      "role", ss_role_name(p->role), "mac", mac, "mtu", p->mtu,
				      "rx_queues", p->rx_queues, "tx_queues", p->tx_queues, "link_up",
				      link.link_status == RTE_ETH_LINK_UP, "devargs", p->devargs,
				      "lossless_lane", p->lossless_lane);
		if (p->peer != SS_PORT_NONE)
			json_object_set_new(o, "peer", json_string(ss_ports.ports[p->peer].name));
		json_array_append_new(ports, o);
	}
	for (unsigned int i = 0; i < ss_workers.nb; i++)
		json_array_append_new(workers, json_integer(ss_workers.w[i]->lcore));
	json_object_set_new(res, "ports", ports);
	json_object_set_new(res, "workers", workers);
}

/* --check: the bootstrap file applied as the start would apply it, on a
 * control plane without devices, features or persistence: the same parser
 * and the same validation of every op (references, ports and their roles,
 * capacities), nothing kept. Validated against an empty store (the state
 * file is not read). 0 or -1 with err. */
static int check_bootstrap(const struct ss_config *cfg, char *err, size_t errlen)
{
	struct ss_ctl_conf cc = {
		.socket_path = cfg->socket_path,
		.bootstrap_file = cfg->bootstrap,
		.limits = cfg->limits,
		.max_flows = cfg->max_flows,
		.idle_timeout_ms = cfg->idle_timeout_ms,
		.tcp_fin_timeout_ms = cfg->tcp_fin_timeout_ms,
		.rdma_qp_table_size = cfg->rdma_qp_table_size,
		.rdma_qp_idle_timeout_ms = cfg->rdma_qp_idle_timeout_ms,
		.rdma_data_dscp = cfg->rdma_data_dscp,
		.rdma_cnp_dscp = cfg->rdma_cnp_dscp,
		.rdma_dscp_set = cfg->rdma_dscp_set,
	};
	struct ss_ctl *ctl;
	int rc = 0;

	if (cfg->bootstrap == NULL)
		return 0;
	ctl = ss_ctl_create(&cc, NULL);
	if (ctl == NULL) {
		snprintf(err, errlen, "control plane: %s", strerror(errno));
		return -1;
	}
	for (unsigned int i = 0; i < cfg->nb_ports && rc == 0; i++)
		if (ss_ctl_add_port(ctl, cfg->ports[i].name, ss_role_name(cfg->ports[i].role)) != 0) {
			snprintf(err, errlen, "control plane: cannot add port %s", cfg->ports[i].name);
			rc = -1;
		}
	if (rc == 0 && ss_ctl_restore(ctl, err, errlen) != 0)
		rc = -1;
	ss_ctl_destroy(ctl);
	return rc;
}

static void print_check(const struct ss_config *cfg)
{
	printf("%s: valid\n  workers: %u (main lcore %u)\n  ports:\n", cfg->path, cfg->nb_workers,
	       cfg->main_lcore);
	for (unsigned int i = 0; i < cfg->nb_ports; i++) {
		const struct ss_port_conf *p = &cfg->ports[i];
		printf("    %-12s %-8s mtu %-5u %s%s%s\n", p->name, ss_role_name(p->role), p->mtu,
		       p->devargs, p->peer[0] ? "  peer " : "", p->peer);
	}
	printf("  control socket: %s\n  state file: %s\n", cfg->socket_path,
	       cfg->state_file ? cfg->state_file : "(none)");
	if (cfg->group)
		printf("  control group: %s\n", cfg->group);
	if (cfg->bootstrap)
		printf("  bootstrap: %s (a valid txn)\n", cfg->bootstrap);
	if (cfg->prometheus)
		printf("  prometheus: %s\n", cfg->prometheus);
	if (cfg->rdma_dscp_set || cfg->rdma_qp_table_size || cfg->rdma_qp_idle_timeout_ms)
		printf("  rdma: data_dscp %u, cnp_dscp %u, qp_table_size %u, qp_idle_timeout_ms %u"
		       " (0: default)\n", cfg->rdma_dscp_set ? cfg->rdma_data_dscp : 26u,
		       cfg->rdma_dscp_set ? cfg->rdma_cnp_dscp : 48u, cfg->rdma_qp_table_size,
		       cfg->rdma_qp_idle_timeout_ms);
}

struct daemon {
	struct ss_config cfg;
	struct ss_ctl *ctl;
	struct ss_prom *prom;
	/* the EAL may keep pointers into its argv until rte_eal_cleanup() */
	int eal_argc;
	char **eal_argv;
	bool eal_up, ports_up, workers_up, features_up;
};

static int start(struct daemon *d, int extra_argc, char **extra_argv, char *err, size_t errlen)
{
	int eal_argc = 0;
	char **eal_argv = eal_argv_build(&d->cfg, extra_argc, extra_argv, &eal_argc);

	d->eal_argc = eal_argc;
	d->eal_argv = eal_argv;
	if (eal_argv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* rte_eal_init permutes argv: keep our own copy of the pointers */
	char **argv_copy = calloc((size_t)eal_argc + 1, sizeof(char *));
	if (argv_copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(argv_copy, eal_argv, (size_t)eal_argc * sizeof(char *));
	int rc = rte_eal_init(eal_argc, argv_copy);
	free(argv_copy);
	if (rc < 0) {
		snprintf(err, errlen, "EAL initialisation failed: %s (EAL arguments come from the "
			 "config's eal list)", rte_strerror(rte_errno));
		return -1;
	}
	d->eal_up = true;
	if (rte_get_main_lcore() != d->cfg.main_lcore) {
		snprintf(err, errlen, "lcores.main is %u but the EAL main lcore is %u",
			 d->cfg.main_lcore, rte_get_main_lcore());
		return -1;
	}
	if (rte_pdump_init() != 0)
		fprintf(stderr, "sswitchd: pdump not available (%s): dpdk-dumpcap cannot attach\n",
			rte_strerror(rte_errno));
	if (ss_stats_telemetry_init() != 0)
		fprintf(stderr, "sswitchd: cannot register telemetry commands\n");

	struct ss_ctl_conf cc = {
		.socket_path = d->cfg.socket_path,
		.state_file = d->cfg.state_file,
		.group = d->cfg.group,
		.bootstrap_file = d->cfg.bootstrap,
		.limits = d->cfg.limits,
		.max_flows = d->cfg.max_flows,
		.idle_timeout_ms = d->cfg.idle_timeout_ms,
		.tcp_fin_timeout_ms = d->cfg.tcp_fin_timeout_ms,
		.rdma_qp_table_size = d->cfg.rdma_qp_table_size,
		.rdma_qp_idle_timeout_ms = d->cfg.rdma_qp_idle_timeout_ms,
		.rdma_data_dscp = d->cfg.rdma_data_dscp,
		.rdma_cnp_dscp = d->cfg.rdma_cnp_dscp,
		.rdma_dscp_set = d->cfg.rdma_dscp_set,
		/* the control socket's limits (issue 17) */
		.request_timeout_ms = d->cfg.ctl_request_timeout_ms,
		.client_idle_timeout_s = d->cfg.ctl_idle_timeout_s,
		.max_clients = d->cfg.ctl_max_clients,
		.max_clients_per_uid = d->cfg.ctl_max_clients_per_uid,
		.max_buffered_mb = d->cfg.ctl_max_buffered_mb,
		.snapshot_interval_s = d->cfg.ctl_snapshot_interval_s,
		.ipfix_collector = d->cfg.ipfix_collector,
		.ipfix_observation_domain = d->cfg.ipfix_observation_domain,
		.ipfix_active_timeout_s = d->cfg.ipfix_active_timeout_s,
		.ipfix_template_refresh_s = d->cfg.ipfix_template_refresh_s,
	};
	static struct ss_ctl_runtime rt = {
		.ctx = NULL,
		.rcu_synchronize = rt_rcu_sync,
		.system_info = rt_system_info,
	};
	d->ctl = ss_ctl_create(&cc, &rt);
	if (d->ctl == NULL) {
		snprintf(err, errlen, "control plane: %s", strerror(errno));
		return -1;
	}
	if (ss_stats_register(d->ctl) != 0 || ss_health_register(d->ctl) != 0) {
		snprintf(err, errlen, "control plane: cannot register stats and methods");
		return -1;
	}
	/* features add their tables and methods before the graphs are
	 * created */
	if (ss_features_init(d->ctl, &d->cfg, err, errlen) != 0)
		return -1;
	d->features_up = true;
	if (ss_ports_init(&d->cfg, err, errlen) != 0)
		return -1;
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++)
		if (ss_ctl_add_port(d->ctl, ss_ports.ports[i].name,
				    ss_role_name(ss_ports.ports[i].role)) != 0) {
			snprintf(err, errlen, "control plane: cannot add port %s",
				 ss_ports.ports[i].name);
			return -1;
		}
	if (ss_workers_init(&d->cfg, err, errlen) != 0)
		return -1;
	if (ss_ctl_restore(d->ctl, err, errlen) != 0 || ss_ctl_listen(d->ctl, err, errlen) != 0)
		return -1;
	if (d->cfg.prometheus) {
		d->prom = ss_prom_open(d->cfg.prometheus, d->ctl, err, errlen);
		if (d->prom == NULL)
			return -1;
	}
	/* everything is published: only now may packets flow */
	if (ss_ports_start(err, errlen) != 0)
		return -1;
	d->ports_up = true;
	if (ss_workers_launch(err, errlen) != 0)
		return -1;
	d->workers_up = true;
	return 0;
}

static void stop(struct daemon *d)
{
	if (d->workers_up)
		ss_workers_stop();
	if (d->ports_up || d->eal_up)
		ss_ports_close();
	if (d->features_up)
		ss_features_fini();
	ss_prom_close(d->prom);
	if (d->ctl) {
		char err[512];
		/* every commit is already durable (journal); a snapshot makes the
		 * state file the whole state again, for backups and fast starts */
		if (d->workers_up && ss_ctl_save(d->ctl, err, sizeof(err)) != 0)
			fprintf(stderr, "sswitchd: saving state: %s\n", err);
		ss_ctl_destroy(d->ctl);
	}
	if (d->eal_up) {
		ss_workers_free();
		rte_eal_cleanup();
	}
	for (int i = 0; d->eal_argv && i < d->eal_argc; i++)
		free(d->eal_argv[i]);
	free(d->eal_argv);
	ss_config_free(&d->cfg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = SS_DEFAULT_CONFIG;
	bool quiet = false, check = false;
	long interval = -1;
	struct daemon d;
	char err[1024] = "";
	int c, rc = 1;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "c:qi:tVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'q': quiet = true; break;
		case 'i': {
			char *end;
			interval = strtol(optarg, &end, 10);
			if (*end || interval < 0 || interval > 3600) {
				fprintf(stderr, "sswitchd: --stats-interval: \"%s\" is not 0..3600\n",
					optarg);
				return 2;
			}
			break;
		}
		case 't': check = true; break;
		case 'V':
			printf("sswitchd %s (%s)\n", SS_VERSION, rte_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'sswitchd --help'.\n");
			return 2;
		}
	}
	if (ss_config_load(config, &d.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sswitchd: %s\n", err);
		return 1;
	}
	if (check) {
		rc = ss_config_check_env(&d.cfg, err, sizeof(err)) != 0 ||
		     check_bootstrap(&d.cfg, err, sizeof(err)) != 0;
		if (rc)
			fprintf(stderr, "sswitchd: %s\n", err);
		else
			print_check(&d.cfg);
		ss_config_free(&d.cfg);
		return rc;
	}
	if (interval < 0)
		interval = d.cfg.stats_interval_s;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (start(&d, argc - optind, argv + optind, err, sizeof(err)) != 0) {
		fprintf(stderr, "sswitchd: %s\n", err);
		goto out;
	}
	printf("sswitchd %s: %u ports, %u workers, control socket %s\n", SS_VERSION,
	       ss_ports.nb_ports, ss_workers.nb, d.cfg.socket_path);
	fflush(stdout);
	/* systemd Type=notify (dist/systemd/sswitchd.service): ready only now,
	 * with the tables published, the ports started and the workers
	 * forwarding. Without $NOTIFY_SOCKET (not under systemd) a no-op. */
	sd_notifyf(0, "READY=1\nSTATUS=%u ports, %u workers, control socket %s",
		   ss_ports.nb_ports, ss_workers.nb, d.cfg.socket_path);

	double tick = interval > 0 ? (double)interval : 1.0;
	double next = now_s() + tick;
	while (!quit_signal) {
		if (ss_ctl_poll(d.ctl, ss_features_poll_timeout_ms(50)) < 0) {
			fprintf(stderr, "sswitchd: control thread failed: %s\n", strerror(errno));
			goto out;
		}
		ss_prom_poll(d.prom);
		ss_features_poll();
		double t = now_s();
		if (t >= next) {
			ss_health_tick();
			if (!quiet && interval > 0)
				ss_stats_print_line(stdout, tick + (t - next));
			next = t + tick;
		}
	}
	printf("sswitchd: %s, stopping\n", strsignal(quit_signal));
	sd_notify(0, "STOPPING=1");
	rc = 0;
out:
	stop(&d);
	return rc;
}
