/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The single-node harness: how the enqueue is captured.
 *
 * grout compiles a node's .c file into its test with __GROUT_UNIT_TEST__,
 * where its graph header renames the real rte_node_enqueue_x1 and puts a
 * cmocka check_expected(next) in its place: the test expects raw edge
 * numbers, one packet at a time. That does not fit sswitch: its nodes move
 * whole bursts (ss_node_dispatch -> rte_node_next_stream_move) and enqueue
 * per packet only when edges are mixed, and the tests must name edges by
 * the next node's name because features add edges at init. In DPDK 22.11
 * the enqueue functions are static inlines of rte_graph_worker.h working on
 * the public struct rte_node / struct rte_graph, so no shim is needed: the
 * harness builds the REAL worker graph ("ss_w0") of a switch set up the way
 * sswitchd sets one up (config file, control plane, features, ports,
 * ss_workers_init; ports started, no worker launched), and then plays the
 * graph walker for one node:
 *
 *   1. the burst is written into the node's own stream (node->objs,
 *      node->idx), where rte_graph_walk() leaves it, because the whole-burst
 *      move (rte_node_next_stream_move) swaps that stream, not the objs
 *      argument;
 *   2. node->process(graph, node, node->objs, n) runs, then node->idx := 0
 *      as the walker does;
 *   3. the capture: every packet the node enqueued is in the stream of one
 *      of its next nodes (node->nodes[edge]); the harness reads each next
 *      node's stream, records per packet that node's NAME, and empties the
 *      streams and the graph's pending list (graph->tail := 0, as the end
 *      of a walk does). The next nodes never run. A packet in no stream
 *      was consumed by the node itself (port_tx transmitted it; the ports
 *      are net_null devices, started so that transmitting works).
 *
 * So the node runs unmodified, with the real enqueue code, against edges
 * resolved the way the daemon resolves them (static edges, and edges that
 * features added at init: the policy arc, parse's role pipelines,
 * rdma_steer's successors), and a test can only name edges by node name.
 * The tables are set through the public JSON-RPC API (ss_ctl_handle_line),
 * whose method and field names are API and do not change with refactors.
 * The process is a unit test: one EAL per executable, so one group setup.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_eal.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>

#include "control/ctl.h"
#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "pipelines/common/arc.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/parse/parse_node.h"
#include "tests/unit/nodes/node_harness.h"

static struct {
	struct ss_config cfg;
	struct ss_ctl *ctl;
	struct rte_graph *graph;
	char dir[64];
	char conf[96];
	char *argv[32];
	int argc;
} nt;

/* host0/host1: host ports; fabric0: the underlay; storage0: RoCE targets
 * (lossless lane); patch0 <-> patch1: patch mode. net_null devices: nothing
 * is ever received, and transmitted mbufs are freed. */
static const char conf_text[] =
	"eal = [\"--no-huge\", \"-m\", \"256\", \"--no-pci\", \"--no-shconf\",\n"
	"       \"--log-level\", \"*:error\"];\n"
	"lcores = { main = 0; workers = [1]; };\n"
	"ports = (\n"
	"  { name = \"host0\"; role = \"host\"; devargs = \"net_null0,no-rx=1\";\n"
	"    mac = \"" NT_HOST0_MAC "\"; },\n"
	"  { name = \"host1\"; role = \"host\"; devargs = \"net_null1,no-rx=1\";\n"
	"    mac = \"02:00:00:00:00:11\"; },\n"
	"  { name = \"fabric0\"; role = \"fabric\"; devargs = \"net_null2,no-rx=1\";\n"
	"    mac = \"" NT_FABRIC0_MAC "\"; mtu = 1500; },\n"
	"  { name = \"storage0\"; role = \"storage\"; devargs = \"net_null3,no-rx=1\";\n"
	"    mac = \"" NT_STORAGE0_MAC "\"; },\n"
	"  { name = \"patch0\"; role = \"host\"; devargs = \"net_null4,no-rx=1\"; peer = \"patch1\"; },\n"
	"  { name = \"patch1\"; role = \"fabric\"; devargs = \"net_null5,no-rx=1\"; peer = \"patch0\"; }\n"
	");\n"
	"control = { socket = \"%s/ctl.sock\"; state_file = \"\"; };\n"
	"tables = { vnets = 16; enis = 16; mappings = 1024; routes = 1024; inbound_routes = 64;\n"
	"           underlay_routes = 64; acl_groups = 16; acl_rules = 256; rdma_policies = 16;\n"
	"           vips = 16; pa_validations = 16; };\n"
	"flows = { max_flows = 4096; idle_timeout_ms = 30000; tcp_fin_timeout_ms = 2000; };\n"
	"rdma = { qp_table_size = 1024; };\n"
	"mbufs = 4096;\n";

static void rcu_sync(void *ctx)
{
	(void)ctx;
	ss_workers_rcu_synchronize();
}

static int write_conf(void)
{
	FILE *f;

	snprintf(nt.dir, sizeof(nt.dir), "/tmp/ss-nodetest-XXXXXX");
	if (mkdtemp(nt.dir) == NULL)
		return -1;
	snprintf(nt.conf, sizeof(nt.conf), "%s/sswitchd.conf", nt.dir);
	f = fopen(nt.conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f, conf_text, nt.dir);
	return fclose(f);
}

/* The config's EAL list, two lcores on the first CPU this process may run
 * on (the worker lcore is never launched), a private file prefix. */
static int eal_start(void)
{
	static char lcores[64], prefix[64];
	char *copy[32];
	cpu_set_t set;
	int cpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
			cpu++;
	snprintf(lcores, sizeof(lcores), "0@%d,1@%d", cpu, cpu);
	snprintf(prefix, sizeof(prefix), "ss-nodetest-%d", (int)getpid());
	nt.argv[nt.argc++] = "nodetest";
	for (int i = 0; i < nt.cfg.eal_argc && nt.argc < 24; i++)
		nt.argv[nt.argc++] = nt.cfg.eal_argv[i];
	nt.argv[nt.argc++] = "--lcores";
	nt.argv[nt.argc++] = lcores;
	nt.argv[nt.argc++] = "--main-lcore";
	nt.argv[nt.argc++] = "0";
	nt.argv[nt.argc++] = "--file-prefix";
	nt.argv[nt.argc++] = prefix;
	memcpy(copy, nt.argv, sizeof(copy));   /* rte_eal_init permutes argv */
	return rte_eal_init(nt.argc, copy) < 0 ? -1 : 0;
}

int nt_setup(void **state)
{
	static const struct ss_ctl_runtime rt = { .rcu_synchronize = rcu_sync };
	char err[1024] = "";

	(void)state;
	if (write_conf() != 0 || ss_config_load(nt.conf, &nt.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "nodetest: config: %s\n", err);
		return -1;
	}
	if (eal_start() != 0) {
		fprintf(stderr, "nodetest: EAL initialisation failed\n");
		return -1;
	}
	struct ss_ctl_conf cc = {
		.socket_path = nt.cfg.socket_path,
		.limits = nt.cfg.limits,
		.max_flows = nt.cfg.max_flows,
		.idle_timeout_ms = nt.cfg.idle_timeout_ms,
		.tcp_fin_timeout_ms = nt.cfg.tcp_fin_timeout_ms,
		.rdma_qp_table_size = nt.cfg.rdma_qp_table_size,
		.rdma_qp_idle_timeout_ms = nt.cfg.rdma_qp_idle_timeout_ms,
		.rdma_data_dscp = nt.cfg.rdma_data_dscp,
		.rdma_cnp_dscp = nt.cfg.rdma_cnp_dscp,
		.rdma_dscp_set = nt.cfg.rdma_dscp_set,
	};
	/* sswitchd's order (dataplane/main.c start()) */
	nt.ctl = ss_ctl_create(&cc, &rt);
	if (nt.ctl == NULL) {
		fprintf(stderr, "nodetest: control plane: %s\n", strerror(errno));
		return -1;
	}
	if (ss_features_init(nt.ctl, &nt.cfg, err, sizeof(err)) != 0 ||
	    ss_ports_init(&nt.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "nodetest: %s\n", err);
		return -1;
	}
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++)
		if (ss_ctl_add_port(nt.ctl, ss_ports.ports[i].name,
				    ss_role_name(ss_ports.ports[i].role)) != 0) {
			fprintf(stderr, "nodetest: cannot add port %s\n", ss_ports.ports[i].name);
			return -1;
		}
	if (ss_workers_init(&nt.cfg, err, sizeof(err)) != 0 ||
	    ss_ctl_restore(nt.ctl, err, sizeof(err)) != 0 || ss_ports_start(err, sizeof(err)) != 0) {
		fprintf(stderr, "nodetest: %s\n", err);
		return -1;
	}
	nt.graph = ss_workers.w[0]->graph;
	return 0;
}

int nt_teardown(void **state)
{
	char path[160];

	(void)state;
	ss_ports_close();
	ss_features_fini();
	ss_ctl_destroy(nt.ctl);
	ss_workers_free();
	rte_eal_cleanup();
	ss_config_free(&nt.cfg);
	snprintf(path, sizeof(path), "%s/sswitchd.conf", nt.dir);
	unlink(path);
	rmdir(nt.dir);
	return 0;
}

static json_t *call(const char *method, const char *fmt, va_list ap)
{
	char params[4096], req[4400], *rep;
	json_error_t je;
	json_t *r, *res;

	vsnprintf(params, sizeof(params), fmt, ap);
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
		 method, params);
	rep = ss_ctl_handle_line(nt.ctl, req, strlen(req));
	if (rep == NULL)
		fail_msg("%s: no reply", method);
	r = json_loads(rep, 0, &je);
	if (r == NULL || json_object_get(r, "error") != NULL) {
		json_decref(r);
		fail_msg("%s %s failed: %s", method, params, rep);
	}
	free(rep);
	res = json_incref(json_object_get(r, "result"));
	json_decref(r);
	return res;
}

void nt_ok(const char *method, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_decref(call(method, fmt, ap));
	va_end(ap);
}

json_t *nt_result(const char *method, const char *fmt, ...)
{
	va_list ap;
	json_t *r;

	va_start(ap, fmt);
	r = call(method, fmt, ap);
	va_end(ap);
	return r;
}

static uint16_t port_index(const char *name)
{
	uint16_t i = ss_port_by_name(name);

	if (i == SS_PORT_NONE)
		fail_msg("no test port %s", name);
	return i;
}

struct rte_mbuf *nt_mbuf(const char *port, const struct pb *frame, int parsed)
{
	const struct ss_port *p = &ss_ports.ports[port_index(port)];
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->pool);
	struct ss_meta *meta;
	char *d;

	assert_non_null(m);
	d = rte_pktmbuf_append(m, (uint16_t)frame->len);
	assert_non_null(d);
	memcpy(d, frame->b, frame->len);
	m->port = p->eth_id;
	meta = ss_meta(m);
	memset(meta, 0xa5, sizeof(*meta));
	if (parsed) {
		memset(meta, 0, sizeof(*meta));
		if (ss_parse((const uint8_t *)d, frame->len, &meta->hdr, &meta->bth) != 0)
			fail_msg("test frame on %s does not parse", port);
		meta->in_port = p->index;
		meta->drop = SS_DROP_NONE;
		meta->tx_class = SS_TX_DEFAULT;
	}
	return m;
}

void nt_free(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

void nt_run(const char *name, struct rte_mbuf **pkts, uint16_t n, const char **edge)
{
	struct rte_node *node = rte_graph_node_get_by_name(nt.graph->name, name);

	if (node == NULL)
		fail_msg("node %s is not in the worker graph", name);
	assert_true(n > 0 && n <= node->size && n <= NT_BURST_MAX);
	assert_int_equal(node->idx, 0);
	for (uint16_t i = 0; i < n; i++) {
		node->objs[i] = pkts[i];
		edge[i] = NULL;
	}
	node->idx = n;
	node->process(nt.graph, node, node->objs, n);
	node->idx = 0;

	for (rte_edge_t e = 0; e < node->nb_edges; e++) {
		struct rte_node *next = node->nodes[e];

		for (uint16_t j = 0; j < next->idx; j++) {
			uint16_t k = 0;

			while (k < n && pkts[k] != next->objs[j])
				k++;
			if (k == n)
				fail_msg("%s enqueued an object it was not given to %s", name,
					 next->name);
			if (edge[k] != NULL)
				fail_msg("%s enqueued packet %u twice (%s, %s)", name, k, edge[k],
					 next->name);
			edge[k] = next->name;
		}
		next->idx = 0;
	}
	nt.graph->tail = 0;
	for (uint16_t i = 0; i < n; i++)
		if (edge[i] == NULL)
			edge[i] = NT_CONSUMED;
}

const char *nt_run1(const char *node, struct rte_mbuf *m)
{
	const char *edge;

	nt_run(node, &m, 1, &edge);
	return edge;
}

const char *nt_drop_name(const struct rte_mbuf *m)
{
	uint8_t d = ss_meta((struct rte_mbuf *)(uintptr_t)m)->drop;
	const char *s = ss_drop_name(d);

	return d == SS_DROP_NONE ? "" : s ? s : "(out of range)";
}

void nt_expect(const char *desc, const struct rte_mbuf *m, const char *edge,
	       const char *expect_edge, const char *expect_drop)
{
	const char *got = nt_drop_name(m);

	if (strcmp(edge, expect_edge) != 0)
		fail_msg("%s: sent to %s (drop reason \"%s\"), expected %s", desc, edge, got,
			 expect_edge);
	if (strcmp(got, expect_drop ? expect_drop : "") != 0)
		fail_msg("%s: drop reason \"%s\", expected \"%s\"", desc, got,
			 expect_drop ? expect_drop : "");
}

/* Where `from` hands a packet with parse flags `pf` along `n` (one of its
 * arc lists): the name of the node at the end of that edge. */
static const char *arc_next_name(const char *from, const struct ss_arc_next *n, uint8_t pf)
{
	const struct ss_arc_hop *h = n->hop;
	rte_node_t id = rte_node_from_name(from);
	static char *names[64];
	rte_edge_t nb;

	while ((pf & h->pf) != h->pf)
		h++;
	nb = rte_node_edge_get(id, NULL) / sizeof(char *);
	if (id == RTE_NODE_ID_INVALID || nb > RTE_DIM(names) || h->edge >= nb)
		fail_msg("%s: no edge %u", from, h->edge);
	rte_node_edge_get(id, names);
	return names[h->edge];
}

/* The start list of `node` on arc `arc`. */
static const struct ss_arc_next *arc_from(const char *arc, const char *node)
{
	const struct ss_arc *a = ss_arc_lookup(arc);

	for (unsigned int i = 0; a != NULL && i < SS_ARC_MAX_STARTS && a->start[i]; i++)
		if (strcmp(a->start[i], node) == 0)
			return &a->from[i];
	fail_msg("%s is not a start of arc %s", node, arc);
	return NULL;
}

/* The arc list of feature `node` on arc `arc`. */
static const struct ss_arc_next *arc_after(const char *arc, const char *node)
{
	const struct ss_arc_feature *f = ss_arc_feature_lookup(arc, node);

	if (f == NULL)
		fail_msg("%s is not on arc %s", node, arc);
	return &f->next;
}

const char *nt_successor(const char *slot)
{
	/* Read from the finalised arcs (pipelines/common/arc.h), so a stage
	 * that attaches itself to an arc needs no edit here. pf: the parse
	 * flags of the packet the slot is about (a UDP packet; RoCEv2). */
	const uint8_t udp = SS_PF_L4, roce = SS_PF_L4 | SS_PF_ROCE;

	if (strcmp(slot, "parse.host") == 0)
		return arc_next_name("parse", arc_from(SS_ARC_INGRESS_HOST, "parse"), udp);
	if (strcmp(slot, "parse.fabric") == 0)
		return arc_next_name("parse", arc_from(SS_ARC_INGRESS_FABRIC, "parse"), udp);
	if (strcmp(slot, "parse.storage") == 0)
		return arc_next_name("parse", arc_from(SS_ARC_INGRESS_STORAGE, "parse"), udp);
	if (strcmp(slot, "parse.roce") == 0)
		return arc_next_name("parse", arc_from(SS_ARC_INGRESS_HOST, "parse"), roce);
	if (strcmp(slot, "outbound.after_eni") == 0)
		return arc_next_name("overlay_host", arc_from(SS_ARC_OUTBOUND, "overlay_host"),
				     udp);
	if (strcmp(slot, "outbound.after_policy") == 0)
		return arc_next_name("policy_out", arc_after(SS_ARC_OUTBOUND, "policy_out"), udp);
	if (strcmp(slot, "inbound.after_policy") == 0)
		return arc_next_name("policy_in", arc_after(SS_ARC_INBOUND, "policy_in"), udp);
	if (strcmp(slot, "rdma.unsteered.host") == 0)
		return arc_next_name("rdma_steer", arc_after(SS_ARC_INGRESS_HOST, "rdma_steer"),
				     roce);
	if (strcmp(slot, "rdma.unsteered.storage") == 0)
		return arc_next_name("rdma_steer",
				     arc_after(SS_ARC_INGRESS_STORAGE, "rdma_steer"), roce);
	fail_msg("no successor slot %s", slot);
	return NULL;
}

void nt_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		fail_msg("bad test MAC %s", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
}

int nt_ip(const char *s, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, a) == 1)
		return 6;
	fail_msg("bad test address %s", s);
	return 0;
}

uint8_t *nt_frame_l3(struct pb *pb)
{
	uint16_t type = pb_rd16(pb->b + 12);

	return pb->b + (type == 0x8100 ? 18 : 14);
}

void nt_frame_ip(struct pb *pb, const char *smac, const char *dmac, uint16_t vlan,
		 const char *src, const char *dst, uint8_t proto, uint16_t sport,
		 uint16_t dport, uint32_t payload)
{
	uint8_t s[16], d[16];
	int fam = nt_ip(src, s);
	uint16_t type = fam == 4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6;
	uint8_t *ip;

	assert_int_equal(nt_ip(dst, d), fam);
	pb_init(pb);
	pb_eth(pb, vlan ? 0x8100 : type);
	nt_mac(dmac, pb->b);
	nt_mac(smac, pb->b + 6);
	if (vlan)
		pb_vlan(pb, vlan, type);
	if (fam == 4)
		pb_ipv4(pb, proto, 0);
	else
		pb_ipv6(pb, proto);
	ip = nt_frame_l3(pb);
	memcpy(ip + (fam == 4 ? 12 : 8), s, fam == 4 ? 4 : 16);
	memcpy(ip + (fam == 4 ? 16 : 24), d, fam == 4 ? 4 : 16);
	if (proto == 6)
		pb_tcp(pb, sport, dport, 0);
	else if (proto == 17)
		pb_udp(pb, sport, dport);
	else
		pb_icmp(pb, fam == 4 ? 8 : 128, 0, sport, dport);
	pb_payload(pb, payload);
	pb_finish(pb);
}

void nt_bytes(const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte %zu is 0x%02x, expected 0x%02x", what, i, got[i], want[i]);
}
