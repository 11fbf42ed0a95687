/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_version.h>

#include "dataplane/prometheus.h"
#include "dataplane/stats.h"

#define MAX_CLIENTS 16
#define REQ_MAX 4096

struct prom_client {
	int fd;
	size_t len;
	char buf[REQ_MAX];
};

struct ss_prom {
	int fd;
	struct ss_ctl *ctl;
	struct prom_client c[MAX_CLIENTS];
};

/* Label names of each nesting level of a scope's object; the last level
 * holds the counters. The runtime's scopes are named here, the features'
 * by ss_prom_scope_labels(); other scopes label their levels "key". */
#define MAX_SCOPES 32

struct scope_labels {
	const char *scope;
	const char *labels[SS_PROM_MAX_LEVELS];
};

static struct scope_labels known[MAX_SCOPES] = {
	{ "ports", { "port" } },
	{ "drops", { "reason" } },
	{ "nodes", { "node" } },
	{ "workers", { "worker" } },
};
static size_t nb_known = 4;

int ss_prom_scope_labels(const char *scope, const char *const labels[SS_PROM_MAX_LEVELS])
{
	for (size_t i = 0; i < nb_known; i++)
		if (strcmp(known[i].scope, scope) == 0)
			return -EEXIST;
	if (nb_known == MAX_SCOPES)
		return -ENOSPC;
	known[nb_known].scope = scope;
	for (int d = 0; d < SS_PROM_MAX_LEVELS; d++)
		known[nb_known].labels[d] = labels[d];
	nb_known++;
	return 0;
}

static const char *level_label(const char *scope, int depth)
{
	for (size_t i = 0; i < nb_known; i++)
		if (strcmp(known[i].scope, scope) == 0 && depth < SS_PROM_MAX_LEVELS &&
		    known[i].labels[depth])
			return known[i].labels[depth];
	return "key";
}

static void label_escape(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

/* ---- metric families ----------------------------------------------------
 *
 * Every family the daemon exports is described here: the stats.get scope it
 * comes from, where in that scope's object its samples are, its name, type
 * and help. A path is '/'-separated; a "{name}" segment matches any key and
 * makes it the value of label `name`. An info family turns the integers
 * named in `keys` (under the object its path leads to) into labels of one
 * sample of value 1. docs/operations.md lists the same families
 * (tests/api/test_prometheus.py compares the two).
 *
 * Integers of a scope that no family describes (a feature's new counter or
 * scope) are still exported, as gauges named sswitch_<scope>_<key> and
 * labelled as ss_prom_scope_labels() says, so nothing silently disappears.
 */
enum fam_type { FAM_COUNTER, FAM_GAUGE, FAM_INFO };

struct fam_desc {
	const char *scope;
	const char *path;
	const char *name;
	enum fam_type type;
	const char *help;
	const char *keys; /* FAM_INFO: comma-separated keys that become labels */
	unsigned div;	  /* the value is the integer divided by this (a unit change) */
};

static const struct fam_desc fams[] = {
	{ "ports", "{port}/rx_packets", "sswitch_port_rx_packets_total", FAM_COUNTER,
	  "Frames received on the port, including those dropped later." },
	{ "ports", "{port}/tx_packets", "sswitch_port_tx_packets_total", FAM_COUNTER,
	  "Frames sent on the port." },
	{ "ports", "{port}/rx_bytes", "sswitch_port_rx_bytes_total", FAM_COUNTER,
	  "Bytes received on the port (frame length without FCS)." },
	{ "ports", "{port}/tx_bytes", "sswitch_port_tx_bytes_total", FAM_COUNTER,
	  "Bytes sent on the port (frame length without FCS)." },
	{ "ports", "{port}/rx_dropped", "sswitch_port_rx_dropped_packets_total", FAM_COUNTER,
	  "Frames received on the port and dropped, plus the device's missed and no-mbuf counts." },
	{ "ports", "{port}/tx_dropped", "sswitch_port_tx_dropped_packets_total", FAM_COUNTER,
	  "Packets meant for the port and not sent (tx_full, mtu_exceeded)." },
	{ "ports", "{port}/errors", "sswitch_port_errors_total", FAM_COUNTER,
	  "Device receive and transmit errors." },
	{ "drops", "{reason}", "sswitch_drops_total", FAM_COUNTER,
	  "Packets dropped, per drop reason." },
	{ "nodes", "{node}/packets", "sswitch_node_packets_total", FAM_COUNTER,
	  "Packets processed by the graph node, summed over workers." },
	{ "nodes", "{node}/calls", "sswitch_node_calls_total", FAM_COUNTER,
	  "Calls of the graph node, summed over workers." },
	{ "nodes", "{node}/cycles", "sswitch_node_cycles_total", FAM_COUNTER,
	  "TSC cycles spent in the graph node, summed over workers." },
	{ "nodes", "{node}/drops/{reason}", "sswitch_node_drops_total", FAM_COUNTER,
	  "Packets the graph node dropped, per drop reason." },
	{ "workers", "{worker}", "sswitch_worker_info", FAM_INFO,
	  "Worker index, its lcore and TSC frequency (Hz).", "lcore,tsc_hz" },
	{ "workers", "{worker}/walks", "sswitch_worker_walks_total", FAM_COUNTER,
	  "Graph walks of the worker." },
	{ "workers", "{worker}/busy_walks", "sswitch_worker_busy_walks_total", FAM_COUNTER,
	  "Graph walks of the worker that received packets." },
	{ "workers", "{worker}/busy_cycles", "sswitch_worker_busy_cycles_total", FAM_COUNTER,
	  "TSC cycles of the worker's walks that received packets." },
	{ "workers", "{worker}/total_cycles", "sswitch_worker_cycles_total", FAM_COUNTER,
	  "TSC cycles of all the worker's walks." },
	{ "workers", "{worker}/rx_packets", "sswitch_worker_rx_packets_total", FAM_COUNTER,
	  "Packets the worker received from its queues." },
	{ "eni", "{eni}/rx_packets", "sswitch_eni_rx_packets_total", FAM_COUNTER,
	  "Packets the ENI's VM sent (received by the switch)." },
	{ "eni", "{eni}/rx_bytes", "sswitch_eni_rx_bytes_total", FAM_COUNTER,
	  "Bytes the ENI's VM sent (received by the switch)." },
	{ "eni", "{eni}/tx_packets", "sswitch_eni_tx_packets_total", FAM_COUNTER,
	  "Packets delivered to the ENI's VM." },
	{ "eni", "{eni}/tx_bytes", "sswitch_eni_tx_bytes_total", FAM_COUNTER,
	  "Bytes delivered to the ENI's VM." },
	{ "eni", "{eni}/acl_drops", "sswitch_eni_acl_drops_total", FAM_COUNTER,
	  "Packets of the ENI denied by an ACL stage." },
	{ "eni", "{eni}/flows", "sswitch_eni_flows", FAM_GAUGE,
	  "Connection-tracking flows of the ENI." },
	{ "acl", "{group}/{priority}", "sswitch_acl_rule_hits_total", FAM_COUNTER,
	  "Packets that matched the ACL rule (group, priority)." },
	{ "flows", "", "sswitch_flows_config_info", FAM_INFO,
	  "Connection-tracking configuration.", "max_flows,idle_timeout_ms,tcp_fin_timeout_ms" },
	{ "flows", "count", "sswitch_flows", FAM_GAUGE, "Connection-tracking flows in the table." },
	{ "flows", "capacity", "sswitch_flows_capacity", FAM_GAUGE,
	  "Flows the table holds now (it grows up to max_flows)." },
	{ "flows", "created", "sswitch_flows_created_total", FAM_COUNTER, "Flows created." },
	{ "flows", "flow_table_full", "sswitch_flows_table_full_total", FAM_COUNTER,
	  "Flows not created because the table was full." },
	{ "flows", "removed_rst", "sswitch_flows_removed_rst_total", FAM_COUNTER,
	  "Flows removed after a TCP RST." },
	{ "flows", "removed_fin", "sswitch_flows_removed_fin_total", FAM_COUNTER,
	  "Flows removed after a TCP FIN exchange." },
	{ "flows", "expired", "sswitch_flows_expired_total", FAM_COUNTER,
	  "Flows removed after their idle timeout." },
	{ "flows", "revoked", "sswitch_flows_revoked_total", FAM_COUNTER,
	  "Flows removed because a policy change denied them." },
	{ "flows", "rechecked", "sswitch_flows_rechecked_total", FAM_COUNTER,
	  "Flows checked again against a changed policy." },
	{ "flows", "flushed", "sswitch_flows_flushed_total", FAM_COUNTER,
	  "Flows removed by a flush." },
	{ "flows", "frag_tracked", "sswitch_flows_frag_tracked_total", FAM_COUNTER,
	  "Non-first IP fragments matched to their flow." },
	{ "flows", "frag_no_first", "sswitch_flows_frag_no_first_total", FAM_COUNTER,
	  "Non-first IP fragments whose first fragment was not seen." },
	{ "flows", "icmp_related", "sswitch_flows_icmp_related_total", FAM_COUNTER,
	  "ICMP errors matched to the flow they refer to." },
	{ "flows", "flow_cache_hits", "sswitch_flows_cache_hits_total", FAM_COUNTER,
	  "Outbound packets sent with the transform cached in their flow." },
	{ "flows", "flow_cache_fills", "sswitch_flows_cache_fills_total", FAM_COUNTER,
	  "Transforms written into a flow." },
	{ "flows", "flow_fast_hits", "sswitch_flows_fast_hits_total", FAM_COUNTER,
	  "Packets the flow fast path (flow_fast) forwarded straight to port_tx." },
	{ "flows", "flow_fast_fills", "sswitch_flows_fast_fills_total", FAM_COUNTER,
	  "Entries written into the fast path's per-worker exact-match tables." },
	{ "flows", "flow_fast_table_hits", "sswitch_flows_fast_table_hits_total", FAM_COUNTER,
	  "Packets whose flow the fast path found in the flow table (not in its "
	  "exact-match table)." },
	{ "flows", "flow_fast_deny_hits", "sswitch_flows_fast_deny_hits_total", FAM_COUNTER,
	  "Packets the fast path dropped acl_deny by a cached deny verdict (counted "
	  "under policy_out)." },
	{ "flows", "flow_fast_emc_bypassed", "sswitch_flows_fast_emc_bypassed_total", FAM_COUNTER,
	  "Outbound packets the fast path looked up in the flow table without probing its "
	  "exact-match table (far more live flows than its entries)." },
	{ "rdma", "policies/{policy}/packets", "sswitch_rdma_policy_packets_total", FAM_COUNTER,
	  "RoCEv2 packets steered by the RDMA policy." },
	{ "rdma", "policies/{policy}/bytes", "sswitch_rdma_policy_bytes_total", FAM_COUNTER,
	  "Bytes of RoCEv2 packets steered by the RDMA policy." },
	{ "rdma", "qp_tables/entries", "sswitch_rdma_qps", FAM_GAUGE,
	  "Queue pairs tracked in the per-worker QP tables." },
	{ "rdma", "qp_tables/capacity", "sswitch_rdma_qps_capacity", FAM_GAUGE,
	  "Queue pairs the per-worker QP tables hold together." },
	{ "rdma", "qp_tables/insert_failed", "sswitch_rdma_qp_insert_failed_total", FAM_COUNTER,
	  "Queue pairs not tracked because their table was full." },
	{ "rdma", "qp_tables/expired", "sswitch_rdma_qp_expired_total", FAM_COUNTER,
	  "Queue pairs removed after their idle timeout." },
	{ "rate_limit", "{eni}/rate_limit_pps", "sswitch_rate_limit_max_packets_per_second",
	  FAM_GAUGE, "The ENI's packet rate limit (0: none)." },
	{ "rate_limit", "{eni}/rate_limit_bps", "sswitch_rate_limit_max_bytes_per_second",
	  FAM_GAUGE, "The ENI's bit rate limit, in bytes per second (0: none).", NULL, 8 },
	{ "rate_limit", "{eni}/passed", "sswitch_rate_limit_passed_packets_total", FAM_COUNTER,
	  "Packets of the ENI within its rate limit." },
	{ "rate_limit", "{eni}/dropped", "sswitch_rate_limit_dropped_packets_total", FAM_COUNTER,
	  "Packets of the ENI dropped by its rate limit." },
	{ "privatelink", "{eni}/pl_packets", "sswitch_privatelink_packets_total", FAM_COUNTER,
	  "Private-link packets of the ENI translated (NAT46) and forwarded." },
	{ "privatelink", "{eni}/pl_bytes", "sswitch_privatelink_bytes_total", FAM_COUNTER,
	  "Bytes of the ENI's forwarded private-link packets, as the VM sent them." },
	{ "lb", "{lb}/{backend}/connections", "sswitch_lb_connections_total", FAM_COUNTER,
	  "Connections the load balancer opened toward the backend." },
	{ "lb", "{lb}/{backend}/packets", "sswitch_lb_packets_total", FAM_COUNTER,
	  "Packets of the backend's connections, both directions." },
	{ "lb", "{lb}/{backend}/bytes", "sswitch_lb_bytes_total", FAM_COUNTER,
	  "Bytes (tenant IP packets) of the backend's connections, both directions." },
	{ "trace", "traces_run", "sswitch_trace_runs_total", FAM_COUNTER,
	  "Packet traces run (trace.packet and trace.start)." },
	{ "trace", "packets_traced", "sswitch_trace_packets_total", FAM_COUNTER,
	  "Packets traced (trace.packet frames and live packets recorded)." },
	{ "control", "clients", "sswitch_control_clients", FAM_GAUGE,
	  "Connections open on the control socket." },
	{ "control", "buffered_bytes", "sswitch_control_buffered_bytes", FAM_GAUGE,
	  "Bytes of requests and replies buffered for all control clients." },
	{ "control", "buffered_bytes_peak", "sswitch_control_buffered_bytes_peak", FAM_GAUGE,
	  "Highest buffered_bytes seen since the counters were cleared." },
	{ "control", "accepted", "sswitch_control_accepted_total", FAM_COUNTER,
	  "Connections accepted on the control socket." },
	{ "control", "requests", "sswitch_control_requests_total", FAM_COUNTER,
	  "JSON-RPC requests handled." },
	{ "control", "batches", "sswitch_control_batches_total", FAM_COUNTER,
	  "JSON-RPC batches handled." },
	{ "control", "batch_slices", "sswitch_control_batch_slices_total", FAM_COUNTER,
	  "Slices long batches were handled in (the control thread serves other clients "
	  "between them)." },
	{ "control", "closed_by_peer", "sswitch_control_closed_by_peer_total", FAM_COUNTER,
	  "Control connections the client closed." },
	{ "control", "closed_idle", "sswitch_control_closed_idle_total", FAM_COUNTER,
	  "Control connections closed after control.idle_timeout_s without a request." },
	{ "control", "closed_request_timeout", "sswitch_control_closed_request_timeout_total",
	  FAM_COUNTER,
	  "Control connections closed because a request was not complete within "
	  "control.request_timeout_ms." },
	{ "control", "closed_not_reading", "sswitch_control_closed_not_reading_total", FAM_COUNTER,
	  "Control connections closed because the client did not read its replies." },
	{ "control", "closed_oversize", "sswitch_control_closed_oversize_total", FAM_COUNTER,
	  "Control connections closed because a request was too large." },
	{ "control", "closed_over_budget", "sswitch_control_closed_over_budget_total", FAM_COUNTER,
	  "Control connections closed because control.max_buffered_mb was reached." },
	{ "control", "closed_error", "sswitch_control_closed_error_total", FAM_COUNTER,
	  "Control connections closed on a socket error." },
	{ "control", "evicted_max_clients", "sswitch_control_evicted_max_clients_total",
	  FAM_COUNTER,
	  "Idle control connections closed to make room for a newcomer (control.max_clients)." },
	{ "control", "evicted_max_clients_per_uid",
	  "sswitch_control_evicted_max_clients_per_uid_total", FAM_COUNTER,
	  "Idle control connections closed to make room for a newcomer of the same uid "
	  "(control.max_clients_per_uid)." },
	{ "control", "refused_max_clients", "sswitch_control_refused_max_clients_total",
	  FAM_COUNTER,
	  "Control connections refused: control.max_clients busy connections." },
	{ "control", "refused_max_clients_per_uid",
	  "sswitch_control_refused_max_clients_per_uid_total", FAM_COUNTER,
	  "Control connections refused: control.max_clients_per_uid busy connections of the uid." },
	{ "control", "refused_permission", "sswitch_control_refused_permission_total", FAM_COUNTER,
	  "Control connections refused: the peer may not use the socket." },
	{ "control", "journal_bytes", "sswitch_control_journal_bytes", FAM_GAUGE,
	  "Size of the state journal (the commits since the last snapshot)." },
	{ "control", "journal_records", "sswitch_control_journal_records", FAM_GAUGE,
	  "Commits in the state journal since the last snapshot." },
	{ "control", "snapshot_bytes", "sswitch_control_snapshot_bytes", FAM_GAUGE,
	  "Size of the last state_file snapshot." },
	{ "control", "snapshots", "sswitch_control_snapshots_total", FAM_COUNTER,
	  "state_file snapshots written." },
	{ "control", "snapshot_failures", "sswitch_control_snapshot_failures_total", FAM_COUNTER,
	  "state_file snapshots that failed (the journal stays)." },
	{ "control", "snapshot_ms", "sswitch_control_snapshot_duration_seconds", FAM_GAUGE,
	  "Time the last state_file snapshot took.", NULL, 1000 },
	{ "bfd", "sessions/{peer}/up", "sswitch_bfd_session_up", FAM_GAUGE,
	  "1 when the BFD session to the peer is Up." },
	{ "bfd", "sessions/{peer}/state", "sswitch_bfd_session_state", FAM_GAUGE,
	  "State of the BFD session (RFC 5880: 0 AdminDown, 1 Down, 2 Init, 3 Up)." },
	{ "bfd", "sessions/{peer}/up_transitions", "sswitch_bfd_session_up_transitions_total",
	  FAM_COUNTER,
	  "Times the BFD session came Up." },
	{ "bfd", "sessions/{peer}/down_transitions", "sswitch_bfd_session_down_transitions_total",
	  FAM_COUNTER,
	  "Times the BFD session went down from Up." },
	{ "bfd", "sessions/{peer}/tx_packets", "sswitch_bfd_session_tx_packets_total", FAM_COUNTER,
	  "BFD control packets sent to the peer." },
	{ "bfd", "sessions/{peer}/rx_packets", "sswitch_bfd_session_rx_packets_total", FAM_COUNTER,
	  "BFD control packets attributed to the session." },
	{ "bfd", "sessions/{peer}/rx_discarded", "sswitch_bfd_session_rx_discarded_packets_total",
	  FAM_COUNTER,
	  "BFD control packets of the session discarded." },
	{ "bfd", "discards/{reason}", "sswitch_bfd_discarded_packets_total", FAM_COUNTER,
	  "BFD control packets discarded, per reason (RFC 5880 6.8.6 checks)." },
	{ "ipfix", "records_exported", "sswitch_ipfix_records_exported_total", FAM_COUNTER,
	  "IPFIX data records sent (one per flow direction)." },
	{ "ipfix", "messages_sent", "sswitch_ipfix_messages_sent_total", FAM_COUNTER,
	  "IPFIX messages sent to the collector." },
	{ "ipfix", "template_messages_sent", "sswitch_ipfix_template_messages_sent_total",
	  FAM_COUNTER,
	  "IPFIX template messages sent." },
	{ "ipfix", "send_errors", "sswitch_ipfix_send_errors_total", FAM_COUNTER,
	  "IPFIX messages the socket refused." },
	{ "ipfix", "flow_records", "sswitch_ipfix_flow_records_total", FAM_COUNTER,
	  "Flow records taken from the workers' ring (one per connection)." },
	{ "ipfix", "records_dropped", "sswitch_ipfix_records_dropped_total", FAM_COUNTER,
	  "Flow records lost to a full ring." },
	{ "ipfix", "ring_pending", "sswitch_ipfix_ring_pending", FAM_GAUGE,
	  "Flow records waiting in the ring." },
	{ "ha", "connected", "sswitch_ha_peer_connected", FAM_GAUGE,
	  "1 while the HA sync channel to the peer is up." },
	{ "ha", "standby", "sswitch_ha_standby", FAM_GAUGE,
	  "1 while this switch is the standby of an HA pair." },
	{ "ha", "synced_flows", "sswitch_ha_synced_flows", FAM_GAUGE,
	  "Flows synchronised with the peer (active: sent; standby: installed)." },
	{ "ha", "sync_lag_ms", "sswitch_ha_sync_lag_seconds", FAM_GAUGE,
	  "Time from a flow event to the peer's acknowledgement of it.", NULL, 1000 },
	{ "ha", "sent", "sswitch_ha_messages_sent_total", FAM_COUNTER,
	  "Messages sent on the HA sync channel." },
	{ "ha", "received", "sswitch_ha_messages_received_total", FAM_COUNTER,
	  "Messages received on the HA sync channel." },
	{ "ha", "rejected", "sswitch_ha_rejected_total", FAM_COUNTER,
	  "HA connections refused or closed: not the peer, a bad version, a malformed message." },
	{ "ha", "ha_standby_rx", "sswitch_ha_standby_rx_packets_total", FAM_COUNTER,
	  "Tenant packets the standby forwarded by its synced flows." },
	{ "ha", "unknown_eni", "sswitch_ha_unknown_eni_total", FAM_COUNTER,
	  "Synced flows of an ENI this switch does not have." },
	{ "ha", "install_failed", "sswitch_ha_install_failed_total", FAM_COUNTER,
	  "Synced flows the flow table refused (full)." },
	{ "ha", "events_dropped", "sswitch_ha_events_dropped_total", FAM_COUNTER,
	  "Flow events lost to a full ring (each triggers a bulk resync)." },
	{ "ha", "resyncs", "sswitch_ha_resyncs_total", FAM_COUNTER,
	  "Bulk syncs started because the event ring overflowed." },
	{ "ha", "bulk_syncs", "sswitch_ha_bulk_syncs_total", FAM_COUNTER,
	  "Bulk syncs sent (active) or received (standby)." },
	{ "ha", "failovers", "sswitch_ha_failovers_total", FAM_COUNTER,
	  "Times this switch went from standby to active." },
};
#define NB_FAMS (sizeof(fams) / sizeof(fams[0]))

#define MAX_FAMILIES 192
#define MAX_SEGS 6
#define MAX_LABELS 8

/* one family of the text being rendered: its samples are gathered in a
 * memstream so that the families come out whole, in table order */
struct family {
	char name[128];
	char help[192];
	const char *type;
	char *text;
	size_t len;
	FILE *f;
};

struct render {
	struct family fam[MAX_FAMILIES];
	size_t nb;
};

struct label {
	const char *name;
	char value[64];
	const char *str; /* when not NULL, the value */
};

static struct family *family_get(struct render *r, const char *name, const char *type,
				 const char *help)
{
	for (size_t i = 0; i < r->nb; i++)
		if (strcmp(r->fam[i].name, name) == 0)
			return &r->fam[i];
	if (r->nb == MAX_FAMILIES)
		return NULL;
	struct family *fm = &r->fam[r->nb];
	snprintf(fm->name, sizeof(fm->name), "%s", name);
	snprintf(fm->help, sizeof(fm->help), "%s", help);
	fm->type = type;
	fm->f = open_memstream(&fm->text, &fm->len);
	if (fm->f == NULL)
		return NULL;
	r->nb++;
	return fm;
}

static void sample_div(struct family *fm, const struct label *l, int nl, long long v,
		       unsigned div)
{
	if (fm == NULL)
		return;
	fputs(fm->name, fm->f);
	for (int i = 0; i < nl; i++) {
		fprintf(fm->f, "%s%s=\"", i ? "," : "{", l[i].name);
		label_escape(fm->f, l[i].str ? l[i].str : l[i].value);
		fputc('"', fm->f);
	}
	if (div > 1 && v % div != 0)
		fprintf(fm->f, "%s %.17g\n", nl ? "}" : "", (double)v / div);
	else
		fprintf(fm->f, "%s %lld\n", nl ? "}" : "", div > 1 ? v / div : v);
}

static void sample(struct family *fm, const struct label *l, int nl, long long v)
{
	sample_div(fm, l, nl, v, 1);
}

static int leaf_value(json_t *v, long long *n)
{
	if (json_is_integer(v))
		*n = (long long)json_integer_value(v);
	else if (json_is_boolean(v))
		*n = json_is_true(v);
	else
		return -1;
	return 0;
}

static int split(const char *path, char segs[MAX_SEGS][64])
{
	int n = 0;

	while (*path && n < MAX_SEGS) {
		const char *e = strchr(path, '/');
		size_t l = e ? (size_t)(e - path) : strlen(path);
		snprintf(segs[n++], 64, "%.*s", (int)l, path);
		path += l + (e != NULL);
	}
	return n;
}

static const char *seg_label(const char *seg)
{
	static char name[64];
	size_t l = strlen(seg);

	if (l < 3 || seg[0] != '{' || seg[l - 1] != '}')
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)(l - 2), seg + 1);
	return name;
}

/* Follow d's path from v, binding labels; at its end emit the sample(s). */
static void fam_walk(struct family *fm, const struct fam_desc *d, json_t *v,
		     char segs[MAX_SEGS][64], int nseg, int at, struct label *l, int nl)
{
	long long n;

	if (at == nseg) {
		if (d->type != FAM_INFO) {
			if (leaf_value(v, &n) == 0)
				sample_div(fm, l, nl, n, d->div);
			return;
		}
		if (!json_is_object(v))
			return;
		char names[MAX_LABELS][32];
		const char *k = d->keys;
		while (k && *k && nl < MAX_LABELS) {
			size_t kl = strcspn(k, ",");
			snprintf(names[nl], sizeof(names[nl]), "%.*s", (int)kl, k);
			k = k[kl] ? k + kl + 1 : NULL;
			if (leaf_value(json_object_get(v, names[nl]), &n) != 0)
				continue;
			l[nl].name = names[nl];
			l[nl].str = NULL;
			snprintf(l[nl].value, sizeof(l[nl].value), "%lld", n);
			nl++;
		}
		sample(fm, l, nl, 1);
		return;
	}
	if (!json_is_object(v))
		return;
	const char *lab = seg_label(segs[at]);
	if (lab == NULL) {
		fam_walk(fm, d, json_object_get(v, segs[at]), segs, nseg, at + 1, l, nl);
		return;
	}
	char name[64];
	snprintf(name, sizeof(name), "%s", lab);
	const char *k;
	json_t *c;
	json_object_foreach(v, k, c) {
		if (nl == MAX_LABELS)
			return;
		l[nl].name = name;
		l[nl].str = k;
		fam_walk(fm, d, c, segs, nseg, at + 1, l, nl + 1);
	}
}

/* Is the integer at path[0..n) of `scope` described by a family? */
static bool described(const char *scope, const char *const *path, int n)
{
	char segs[MAX_SEGS][64];

	for (size_t i = 0; i < NB_FAMS; i++) {
		if (strcmp(fams[i].scope, scope) != 0)
			continue;
		int ns = split(fams[i].path, segs);
		int want = ns + (fams[i].type == FAM_INFO);
		if (want != n)
			continue;
		int ok = 1;
		for (int s = 0; s < ns && ok; s++)
			ok = seg_label(segs[s]) != NULL || strcmp(segs[s], path[s]) == 0;
		if (ok && fams[i].type == FAM_INFO) {
			const char *k = fams[i].keys;
			size_t kl = strlen(path[n - 1]);
			ok = 0;
			for (; k && *k; k = strchr(k, ',') ? strchr(k, ',') + 1 : NULL)
				if (strncmp(k, path[n - 1], kl) == 0 && (k[kl] == ',' || k[kl] == '\0'))
					ok = 1;
		}
		if (ok)
			return true;
	}
	return false;
}

/* Integers of a scope no family describes: sswitch_<scope>_<key> gauges,
 * the object levels above them labelled by ss_prom_scope_labels(). */
static void emit_undescribed(struct render *r, const char *scope, json_t *v, const char **path,
			     int depth)
{
	long long n;

	if (leaf_value(v, &n) == 0) {
		if (!described(scope, path, depth)) {
			char name[128], help[192];
			struct label l[MAX_LABELS] = { { 0 } };
			int nl = 0;
			snprintf(name, sizeof(name), "sswitch_%s%s%s", scope, depth ? "_" : "",
				 depth ? path[depth - 1] : "");
			for (char *p = name; *p; p++)
				if (!isalnum((unsigned char)*p) && *p != '_')
					*p = '_';
			snprintf(help, sizeof(help), "stats.get scope %s, counter %s.", scope,
				 depth ? path[depth - 1] : scope);
			/* HELP text escapes only \\ and newline: keep it plain */
			for (char *p = help; *p; p++)
				if (!isprint((unsigned char)*p) || *p == '\\')
					*p = '_';
			for (int i = 0; i + 1 < depth && nl < MAX_LABELS; i++, nl++) {
				l[nl].name = level_label(scope, i);
				l[nl].str = path[i];
			}
			sample(family_get(r, name, "gauge", help), l, nl, n);
		}
		return;
	}
	if (!json_is_object(v) || depth >= MAX_SEGS)
		return;
	const char *k;
	json_t *c;
	json_object_foreach(v, k, c) {
		path[depth] = k;
		emit_undescribed(r, scope, c, path, depth + 1);
	}
}

static void render_scope(struct render *r, const char *scope, json_t *obj)
{
	static const char *const tname[] = { "counter", "gauge", "gauge" };
	char segs[MAX_SEGS][64];
	const char *path[MAX_SEGS] = { NULL };

	for (size_t i = 0; i < NB_FAMS; i++) {
		if (strcmp(fams[i].scope, scope) != 0)
			continue;
		struct label l[MAX_LABELS] = { { 0 } };
		struct family *fm = family_get(r, fams[i].name, tname[fams[i].type], fams[i].help);
		int ns = split(fams[i].path, segs);
		if (fm)
			fam_walk(fm, &fams[i], obj, segs, ns, 0, l, 0);
	}
	emit_undescribed(r, scope, obj, path, 0);
}

char *ss_prom_render(struct ss_ctl *ctl, size_t *len)
{
	static const char req[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stats.get\",\"params\":{\"scope\":\"all\"}}";
	struct render *r = calloc(1, sizeof(*r));
	char *text = NULL;
	FILE *f;
	json_t *rep = NULL, *res;
	const char *scope;
	json_t *obj;

	if (r == NULL)
		return NULL;
	struct label bl[2] = { { .name = "version", .str = SS_VERSION },
			       { .name = "dpdk_version", .str = rte_version() } };
	sample(family_get(r, "sswitch_build_info", "gauge",
			  "sswitchd version and the DPDK it runs on."), bl, 2, 1);
	char *line = ctl ? ss_ctl_handle_line(ctl, req, sizeof(req) - 1) : NULL;
	if (line)
		rep = json_loads(line, 0, NULL);
	free(line);
	res = json_object_get(rep, "result");
	if (json_is_object(res)) {
		json_object_foreach(res, scope, obj)
			render_scope(r, scope, obj);
	} else {
		/* no control plane: the runtime's own scopes */
		static json_t *(*const fns[])(void) = { ss_stats_ports, ss_stats_drops,
							  ss_stats_nodes, ss_stats_workers };
		static const char *const names[] = { "ports", "drops", "nodes", "workers" };
		for (size_t i = 0; i < 4; i++) {
			obj = fns[i]();
			render_scope(r, names[i], obj);
			json_decref(obj);
		}
	}
	json_decref(rep);
	f = open_memstream(&text, len);
	for (size_t i = 0; i < r->nb; i++) {
		struct family *fm = &r->fam[i];
		fclose(fm->f);
		if (f) {
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fm->name, fm->help, fm->name,
				fm->type);
			fwrite(fm->text, 1, fm->len, f);
		}
		free(fm->text);
	}
	free(r);
	if (f)
		fclose(f);
	return text;
}

struct ss_prom *ss_prom_open(const char *addr, struct ss_ctl *ctl, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[128];
	const char *colon = strrchr(addr, ':');
	int one = 1;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host)) {
		snprintf(err, errlen, "telemetry.prometheus: \"%s\" is not ADDRESS:PORT", addr);
		errno = EINVAL;
		return NULL;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	int port = atoi(colon + 1);
	memset(&ss, 0, sizeof(ss));
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		h++;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*s6);
	} else {
		snprintf(err, errlen, "telemetry.prometheus: \"%s\" is not an IP address", h);
		errno = EINVAL;
		return NULL;
	}
	struct ss_prom *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	for (int i = 0; i < MAX_CLIENTS; i++)
		p->c[i].fd = -1;
	p->ctl = ctl;
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		goto fail;
	setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->fd, (struct sockaddr *)&ss, sl) != 0 || listen(p->fd, 16) != 0)
		goto fail;
	return p;
fail:
	snprintf(err, errlen, "telemetry.prometheus: cannot listen on %s: %s", addr,
		 strerror(errno));
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	return NULL;
}

static void client_close(struct prom_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void write_all(int fd, const char *buf, size_t len)
{
	/* the socket is made blocking with a short timeout for the reply: a
	 * scrape is a few KB and a scraper that does not read is cut off */
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void client_serve(struct ss_prom *p, struct prom_client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (strstr(c->buf, "\r\n\r\n") == NULL && strstr(c->buf, "\n\n") == NULL) {
		if (c->len >= sizeof(c->buf) - 1)
			client_close(c);
		return;
	}
	char hdr[256];
	bool head = strncmp(c->buf, "HEAD ", 5) == 0;
	const char *target = c->buf + (head ? 5 : strncmp(c->buf, "GET ", 4) == 0 ? 4 : 0);
	if (target != c->buf && (strncmp(target, "/metrics ", 9) == 0 ||
				 strncmp(target, "/metrics?", 9) == 0 || strncmp(target, "/ ", 2) == 0)) {
		size_t len = 0;
		char *body = ss_prom_render(p->ctl, &len);
		int hl = snprintf(hdr, sizeof(hdr),
				  "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
				  "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
				  len);
		write_all(c->fd, hdr, (size_t)hl);
		if (body && !head)
			write_all(c->fd, body, len);
		free(body);
	} else {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 22\r\n"
					 "Connection: close\r\n\r\ntry GET /metrics\r\n\r\n";
		write_all(c->fd, nf, sizeof(nf) - 1);
	}
	client_close(c);
}

void ss_prom_poll(struct ss_prom *p)
{
	if (p == NULL)
		return;
	for (;;) {
		int fd = accept4(p->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		int slot = -1;
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (p->c[i].fd < 0) {
				slot = i;
				break;
			}
		if (slot < 0) {
			close(fd);
			continue;
		}
		p->c[slot].fd = fd;
		p->c[slot].len = 0;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (p->c[i].fd >= 0)
			client_serve(p, &p->c[i]);
}

void ss_prom_close(struct ss_prom *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (p->c[i].fd >= 0)
			close(p->c[i].fd);
	close(p->fd);
	free(p);
}
