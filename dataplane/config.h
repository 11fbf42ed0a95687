/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sswitchd.conf (libconfig). Parsed once at start on the main thread; a bad
 * file is refused with the file, line and reason, before anything starts.
 */
#ifndef SS_CONFIG_H
#define SS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "control/ctl.h"
#include "dataplane/port-t.h"
#include "dataplane/worker-t.h"

#define SS_DEFAULT_CONFIG "/etc/sswitch/sswitchd.conf"
#define SS_DEFAULT_SOCKET "/run/sswitch/sswitchd.sock"
#define SS_DEFAULT_STATE "/var/lib/sswitch/state.json"

struct ss_port_conf {
	char name[SS_PORT_NAME_MAX];
	char *devargs;
	enum ss_port_role role;
	char peer[SS_PORT_NAME_MAX]; /* "" = none */
	uint16_t mtu;
	uint16_t rx_queues;          /* 0 = one per worker, capped by the device */
	int lossless_lane;           /* -1 = role default (storage: on) */
	bool has_mac;
	uint8_t mac[6];
	int line;
};

struct ss_config {
	char *path;
	int eal_argc;
	char **eal_argv;
	unsigned int main_lcore;
	unsigned int nb_workers;
	unsigned int workers[SS_MAX_WORKERS];
	unsigned int nb_ports;
	struct ss_port_conf ports[SS_MAX_PORTS];
	uint32_t mbufs;              /* 0 = computed */
	/* control */
	char *socket_path;
	char *state_file;            /* NULL = no persistence ("" in the file) */
	char *group;
	char *bootstrap;             /* resolved against the config's directory */
	/* control socket limits, snapshot interval (0 = default; control/limits.h) */
	uint32_t ctl_idle_timeout_s;
	uint32_t ctl_request_timeout_ms;
	uint32_t ctl_max_clients;
	uint32_t ctl_max_clients_per_uid;
	uint32_t ctl_max_buffered_mb;
	uint32_t ctl_snapshot_interval_s;
	struct ss_ctl_limits limits;
	uint32_t max_flows;
	uint32_t idle_timeout_ms;
	uint32_t tcp_fin_timeout_ms;
	/* rdma (rdma.config defaults; 0 = the control plane's default) */
	uint32_t rdma_qp_table_size;
	uint32_t rdma_qp_idle_timeout_ms;
	uint8_t rdma_data_dscp;          /* valid with rdma_dscp_set */
	uint8_t rdma_cnp_dscp;
	uint8_t rdma_dscp_set;           /* 1: the section gave the DSCPs (else 26 / 48) */
	/* ipfix (flow records, pipelines/ipfix; 0 / NULL = the default) */
	char *ipfix_collector;       /* "HOST:PORT" or NULL: no export */
	uint32_t ipfix_observation_domain;
	uint32_t ipfix_active_timeout_s;
	uint32_t ipfix_template_refresh_s;
	/* ha (SPEC 3.11, pipelines/ha): ha_role 0 = no section */
	uint8_t ha_role;             /* 1 active, 2 standby (enum ss_ha_role) */
	char *ha_listen;             /* "IP:PORT" */
	char *ha_peer;
	bool ha_auto_failover;
	uint32_t ha_peer_timeout_ms;
	/* telemetry */
	char *prometheus;            /* "addr:port" or NULL */
	unsigned int stats_interval_s;
};

/* Parse `path` into `cfg`. 0, or -1 with a message "FILE:LINE: reason" in err. */
int ss_config_load(const char *path, struct ss_config *cfg, char *err, size_t errlen);
void ss_config_free(struct ss_config *cfg);
/* sswitchd --check, after ss_config_load: what the start needs from the
 * system besides a valid file, short of opening devices: control.group
 * exists, the socket and state file can be created (or exist writable),
 * the bootstrap file is readable, the Prometheus address is an IP
 * address. 0, or -1 with "FILE: key ...: reason" in err. */
int ss_config_check_env(const struct ss_config *cfg, char *err, size_t errlen);

#endif
