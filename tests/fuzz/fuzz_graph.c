/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the packet graph: frames through the real nodes,
 * from port_rx to port_tx or drop, with a fixed topology loaded through the
 * control API. One process initialises the EAL once (--no-huge, no PCI,
 * in memory), three net_null ports (host0, fabric0, storage0: the
 * daemon's own port code probes and configures them), the features, one
 * worker whose graph is walked on the fuzzer's thread (no lcore is
 * launched), and the topology (fz_topology below: ENIs with and without
 * VLAN, an appliance ENI, mappings and routes in IPv4 and IPv6, a VIP,
 * inbound routes with PA validation, ACL groups (conntrack follows every
 * ENI's flows), a rate limit, RDMA steering to the storage port, a BFD
 * session, Private Link mappings and a tunnel) as one `txn` through
 * ss_ctl_handle_line.
 *
 * Input: byte 0 picks what happens, the rest is frames.
 *   bits 0-1  ingress port of the first frame (0 host0, 1 fabric0,
 *             2 storage0, 3 host0)
 *   bit 2     the first frame is received twice: the first pass takes the
 *             full path and makes its flow, the second meets flow_fast
 *   bit 3     two frames: bytes 1-2 the first one's length (big endian),
 *             the second one is received after it (a reply, the next
 *             fragment) on port bits 4-5
 *   bit 6     a live trace (trace.start) records the frames, and
 *             trace.stop formats what each node recorded (the features'
 *             describers read the frames' bytes)
 * Frames are injected through an rx callback of the port's queue (the
 * worker's port_rx receives them as from the device) and counted on the
 * way out by a tx callback (the device then frees them).
 *
 * After each frame, abort on any violation of the packet accounting:
 *   received + sent by the control thread (BFD) = transmitted + dropped +
 *   punted to the control thread (BFD, ARP, ND)
 * per worker counters against what the tx callback saw, every drop
 * counted against one port, no drop without a reason (SS_DROP_NONE), every
 * transmitted mbuf sane (rte_mbuf_check); after each input, every mbuf
 * back in its pool. The flow table is flushed per input (flow.flush) so
 * an input means the same thing whatever ran before it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <sanitizer/lsan_interface.h>

#include "control/ctl.h"
#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/port.h"
#include "dataplane/stats.h"
#include "dataplane/worker.h"
#include "pipelines/bfd/bfd.h"
#include "pipelines/trace/trace.h"
#include "tests/fuzz/fuzz_ctl_env.h"

#define FZ_PORTS 3
#define FZ_WALKS 4           /* a frame is done in one walk; the rest: BFD */

static struct ss_ctl *ctl;
static struct ss_config cfg;
static struct ss_worker *w;
static struct rte_mbuf *pending[FZ_PORTS];
static uint64_t tx_seen;
static unsigned int pool_avail;

/* The topology: one transaction (the addresses are the corpus's, see
 * tests/fuzz/gen_graph_corpus.py). */
static const char fz_topology[] =
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"txn\",\"params\":{\"ops\":["
	"{\"method\":\"switch.set\",\"params\":{\"underlay_ip\":\"100.64.0.1\","
	"\"underlay_ip6\":\"fd00::1\",\"mac\":\"02:00:00:00:ff:ff\"}},"
	"{\"method\":\"vip.add\",\"params\":{\"ip\":\"100.64.0.100\"}},"
	"{\"method\":\"vip.add\",\"params\":{\"ip\":\"fd00::100\"}},"
	"{\"method\":\"underlay_route.add\",\"params\":{\"prefix\":\"100.64.1.0/24\","
	"\"next_hops\":[{\"port\":\"fabric0\",\"mac\":\"02:00:00:00:0b:01\"}]}},"
	"{\"method\":\"underlay_route.add\",\"params\":{\"prefix\":\"100.64.3.0/24\","
	"\"next_hops\":[{\"port\":\"fabric0\",\"mac\":\"02:00:00:00:0b:03\"}]}},"
	"{\"method\":\"underlay_route.add\",\"params\":{\"prefix\":\"fd00:1::/64\","
	"\"next_hops\":[{\"port\":\"fabric0\",\"mac\":\"02:00:00:00:0b:06\"}]}},"
	"{\"method\":\"underlay_route.add\",\"params\":{\"prefix\":\"192.168.0.0/16\","
	"\"next_hops\":[{\"port\":\"fabric0\",\"mac\":\"02:00:00:00:0b:04\"}]}},"
	"{\"method\":\"vnet.add\",\"params\":{\"name\":\"v1\",\"vni\":1000,"
	"\"gateway_ip\":\"10.0.0.1\",\"gateway_ip6\":\"fd10::1\"}},"
	"{\"method\":\"vnet.add\",\"params\":{\"name\":\"v2\",\"vni\":2000,"
	"\"gateway_ip\":\"10.7.0.1\"}},"
	"{\"method\":\"direction.add\",\"params\":{\"vni\":3000}},"
	"{\"method\":\"acl_group.replace\",\"params\":{\"name\":\"out4\",\"family\":\"ipv4\","
	"\"rules\":[{\"priority\":1,\"action\":\"deny\",\"dst\":[\"10.0.0.66/32\"]},"
	"{\"priority\":2,\"action\":\"allow\"}]}},"
	"{\"method\":\"acl_group.replace\",\"params\":{\"name\":\"in4\",\"family\":\"ipv4\","
	"\"rules\":[{\"priority\":1,\"action\":\"deny\",\"src\":[\"10.0.0.67/32\"]},"
	"{\"priority\":2,\"action\":\"allow\"}]}},"
	"{\"method\":\"acl_group.replace\",\"params\":{\"name\":\"out6\",\"family\":\"ipv6\","
	"\"rules\":[{\"priority\":1,\"action\":\"allow\"}]}},"
	"{\"method\":\"eni.add\",\"params\":{\"name\":\"e1\",\"mac\":\"02:00:00:00:10:01\","
	"\"vnet\":\"v1\",\"port\":\"host0\",\"route_group\":\"rg1\","
	"\"pl_underlay_ip\":\"100.64.0.50\",\"acl\":{\"outbound_v4\":[\"out4\"],"
	"\"inbound_v4\":[\"in4\"],\"outbound_v6\":[\"out6\"]}}},"
	"{\"method\":\"eni.add\",\"params\":{\"name\":\"e2\",\"mac\":\"02:00:00:00:10:02\","
	"\"vnet\":\"v1\",\"port\":\"host0\",\"vlan\":100,\"route_group\":\"rg1\",\"dscp\":46,"
	"\"rate_limit_pps\":100000}},"
	"{\"method\":\"eni.add\",\"params\":{\"name\":\"e4\",\"mac\":\"02:00:00:00:10:04\","
	"\"vnet\":\"v2\",\"port\":\"host0\"}},"
	"{\"method\":\"eni.add\",\"params\":{\"name\":\"a1\",\"mac\":\"02:00:00:00:30:01\","
	"\"vnet\":\"v1\",\"vm_underlay_ip\":\"100.64.1.50\",\"vm_vni\":3001,"
	"\"route_group\":\"rg1\"}},"
	"{\"method\":\"route.add\",\"params\":{\"group\":\"rg1\",\"prefix\":\"10.0.0.0/8\","
	"\"action\":\"vnet\"}},"
	"{\"method\":\"route.add\",\"params\":{\"group\":\"rg1\",\"prefix\":\"10.9.0.0/16\","
	"\"action\":\"drop\"}},"
	"{\"method\":\"route.add\",\"params\":{\"group\":\"rg1\",\"prefix\":\"10.8.0.0/16\","
	"\"action\":\"vnet_direct\",\"overlay_ip\":\"10.0.0.5\"}},"
	"{\"method\":\"route.add\",\"params\":{\"group\":\"rg1\",\"prefix\":\"10.7.0.0/16\","
	"\"action\":\"vnet\",\"vnet\":\"v2\"}},"
	"{\"method\":\"route.add\",\"params\":{\"group\":\"rg1\",\"prefix\":\"192.168.0.0/16\","
	"\"action\":\"direct\"}},"
	"{\"method\":\"route.add\",\"params\":{\"group\":\"rg1\",\"prefix\":\"fd10::/32\","
	"\"action\":\"vnet\"}},"
	"{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v1\",\"ip\":\"10.0.0.5\","
	"\"underlay_ip\":\"100.64.1.5\",\"mac\":\"02:00:00:00:20:05\"}},"
	"{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v1\",\"ip\":\"10.0.0.6\","
	"\"underlay_ip\":\"fd00:1::6\",\"mac\":\"02:00:00:00:20:06\"}},"
	"{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v1\",\"ip\":\"fd10::5\","
	"\"underlay_ip\":\"100.64.1.5\",\"mac\":\"02:00:00:00:20:07\"}},"
	"{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v1\",\"ip\":\"fd10::6\","
	"\"underlay_ip\":\"fd00:1::6\",\"mac\":\"02:00:00:00:20:08\"}},"
	"{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v2\",\"ip\":\"10.7.0.9\","
	"\"underlay_ip\":\"100.64.1.9\",\"mac\":\"02:00:00:00:20:0a\",\"use_dst_vni\":true}},"
	"{\"method\":\"inbound_route.add\",\"params\":{\"eni\":\"e4\",\"vni\":2000,"
	"\"src_prefix\":\"100.64.3.0/24\",\"priority\":10,\"action\":\"decap\"}},"
	"{\"method\":\"inbound_route.add\",\"params\":{\"eni\":\"e4\",\"vni\":2000,"
	"\"src_prefix\":\"100.64.3.0/24\",\"priority\":5,\"action\":\"decap_pa_validate\","
	"\"vnet\":\"v2\"}},"
	"{\"method\":\"pa_validation.add\",\"params\":{\"vnet\":\"v2\",\"underlay_ip\":\"100.64.3.7\"}},"
	"{\"method\":\"tunnel.add\",\"params\":{\"name\":\"t1\",\"vni\":4000,"
	"\"underlay_ips\":[\"100.64.1.20\",\"100.64.1.21\"]}},"
	"{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v1\",\"ip\":\"10.0.1.1\","
	"\"underlay_ip\":\"100.64.1.77\",\"mac\":\"02:00:00:00:50:01\",\"routing\":\"privatelink\","
	"\"overlay_sip\":\"9988::/96\",\"overlay_dip\":\"1122:3344:5566:7788::303:301/128\","
	"\"vni\":5000}},"
	"{\"method\":\"mapping.add\",\"params\":{\"vnet\":\"v1\",\"ip\":\"10.0.1.2\","
	"\"underlay_ip\":\"100.64.1.78\",\"mac\":\"02:00:00:00:50:02\",\"routing\":\"privatelink\","
	"\"overlay_sip\":\"9988::/96\",\"overlay_dip\":\"1122:3344:5566:7788::/96\","
	"\"tunnel\":\"t1\"}},"
	"{\"method\":\"rdma.policy.add\",\"params\":{\"name\":\"p-stor\",\"priority\":100,"
	"\"match\":{\"dst_prefix\":\"10.50.0.0/16\"},\"action\":{\"port\":\"storage0\","
	"\"next_hop_mac\":\"02:00:00:00:99:01\",\"queue\":\"lossless\"}}},"
	"{\"method\":\"rdma.policy.add\",\"params\":{\"name\":\"p-qp\",\"priority\":10,"
	"\"match\":{\"dst_prefix\":\"10.50.0.0/16\",\"dst_qp\":1911},\"action\":{\"port\":\"storage0\","
	"\"next_hop_mac\":\"02:00:00:00:99:02\",\"queue\":\"lossless\",\"dscp\":40,\"pcp\":6}}},"
	"{\"method\":\"rdma.policy.add\",\"params\":{\"name\":\"p-v6\",\"priority\":100,"
	"\"match\":{\"dst_prefix\":\"2001:db8:50::/48\"},\"action\":{\"port\":\"storage0\","
	"\"next_hop_mac\":\"02:00:00:00:99:04\",\"queue\":\"lossless\"}}},"
	"{\"method\":\"rdma.policy.add\",\"params\":{\"name\":\"p-back\",\"priority\":100,"
	"\"match\":{\"dst_prefix\":\"192.168.0.0/16\"},\"action\":{\"port\":\"host0\","
	"\"next_hop_mac\":\"02:00:00:00:99:06\",\"queue\":\"lossless\"}}},"
	"{\"method\":\"bfd.add\",\"params\":{\"peer\":\"100.64.1.9\",\"port\":\"fabric0\","
	"\"mac\":\"02:00:00:00:0b:01\"}}"
	"]}}";

static void
fz_die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_graph setup: %s: %s\n", what, why);
	abort();
}

/* rx callback: the pending frame of this port, as the device's. */
static uint16_t
fz_rx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb, uint16_t max,
      void *arg)
{
	uint16_t p = (uint16_t)(uintptr_t)arg;

	(void)port;
	(void)queue;
	if (pending[p] != NULL && nb < max) {
		pkts[nb++] = pending[p];
		pending[p] = NULL;
	}
	return nb;
}

/* tx callback: count and check what the node hands the device. */
static uint16_t
fz_tx(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb, void *arg)
{
	const char *why = NULL;

	(void)port;
	(void)queue;
	(void)arg;
	for (uint16_t i = 0; i < nb; i++)
		if (rte_mbuf_check(pkts[i], 1, &why) != 0) {
			fprintf(stderr, "transmitted mbuf is broken: %s\n", why);
			abort();
		}
	tx_seen += nb;
	return nb;
}

static void
fz_write_config(const char *path)
{
	static const char text[] =
		"lcores = { main = 0; workers = [1]; };\n"
		"ports = (\n"
		"  { name = \"host0\"; devargs = \"net_null0,no-rx=1\"; role = \"host\";"
		"    mac = \"02:00:00:00:00:01\"; },\n"
		"  { name = \"fabric0\"; devargs = \"net_null1,no-rx=1\"; role = \"fabric\";"
		"    mac = \"02:00:00:00:00:aa\"; },\n"
		"  { name = \"storage0\"; devargs = \"net_null2,no-rx=1\"; role = \"storage\";"
		"    mac = \"02:00:00:00:00:51\"; }\n"
		");\n"
		"control = { socket = \"/nonexistent/fuzz_graph.sock\"; state_file = \"\"; };\n"
		"tables = { vnets = 8; enis = 8; mappings = 64; routes = 64; inbound_routes = 16;"
		" underlay_routes = 8; acl_groups = 8; acl_rules = 64; rdma_policies = 8; vips = 8;"
		" pa_validations = 8; };\n"
		"flows = { max_flows = 1024; };\n"
		"rdma = { qp_table_size = 256; };\n"
		"mbufs = 8191;\n";

	fz_write_file(path, text, sizeof(text) - 1);
}

static void
fz_rcu_sync(void *ctx)
{
	(void)ctx;
	ss_workers_rcu_synchronize();
}

static void
fz_setup(void)
{
	/* no shared config, no runtime files of another process's to meet */
	static char prefix[64];
	static char *eal[] = { "fuzz_graph", "--no-huge", "-m", "256", "--no-pci", "-l", "0",
			       "--no-shconf", "--file-prefix", prefix, "--no-telemetry",
			       "--log-level", "*:error", NULL };
	static const struct ss_ctl_runtime rt = { .rcu_synchronize = fz_rcu_sync,
						  .log = fz_quiet };
	char path[] = "/tmp/ss-fuzz-graph-XXXXXX", err[1024] = "";
	int fd = mkstemp(path);
	char *r;

	if (fd < 0)
		fz_die("config", "mkstemp");
	snprintf(prefix, sizeof(prefix), "ss-fuzz-graph-%d", (int)getpid());
	close(fd);
	fz_write_config(path);
	if (ss_config_load(path, &cfg, err, sizeof(err)) != 0)
		fz_die("config", err);
	unlink(path);
	/* the worker's graph is walked here, on the main lcore */
	cfg.workers[0] = 0;
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		fz_die("EAL", rte_strerror(rte_errno));

	struct ss_ctl_conf cc = {
		.socket_path = cfg.socket_path,
		.limits = cfg.limits,
		.max_flows = cfg.max_flows,
		.idle_timeout_ms = cfg.idle_timeout_ms,
		.tcp_fin_timeout_ms = cfg.tcp_fin_timeout_ms,
		.rdma_qp_table_size = cfg.rdma_qp_table_size,
	};
	ctl = ss_ctl_create(&cc, &rt);
	if (ctl == NULL || ss_stats_register(ctl) != 0)
		fz_die("control plane", "cannot create");
	if (ss_features_init(ctl, &cfg, err, sizeof(err)) != 0)
		fz_die("features", err);
	if (ss_ports_init(&cfg, err, sizeof(err)) != 0)
		fz_die("ports", err);
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++)
		if (ss_ctl_add_port(ctl, ss_ports.ports[i].name,
				    ss_role_name(ss_ports.ports[i].role)) != 0)
			fz_die("control plane", "cannot add a port");
	if (ss_workers_init(&cfg, err, sizeof(err)) != 0)
		fz_die("workers", err);
	if (ss_ctl_restore(ctl, err, sizeof(err)) != 0)
		fz_die("restore", err);
	r = ss_ctl_handle_line(ctl, fz_topology, sizeof(fz_topology) - 1);
	if (r == NULL || strstr(r, "\"result\"") == NULL)
		fz_die("topology", r ? r : "no reply");
	free(r);
	if (ss_ports_start(err, sizeof(err)) != 0)
		fz_die("ports", err);
	w = ss_workers.w[0];
	for (uint16_t p = 0; p < ss_ports.nb_ports; p++) {
		const struct ss_port *sp = &ss_ports.ports[p];

		if (rte_eth_add_rx_callback(sp->eth_id, 0, fz_rx, (void *)(uintptr_t)p) == NULL)
			fz_die("rx callback", rte_strerror(rte_errno));
		for (uint16_t q = 0; q < sp->tx_queues; q++)
			if (rte_eth_add_tx_callback(sp->eth_id, q, fz_tx, NULL) == NULL)
				fz_die("tx callback", rte_strerror(rte_errno));
	}
	pool_avail = rte_mempool_avail_count(ss_ports.ports[0].pool);
}

struct fz_count {
	uint64_t rx, tx, drops, rx_dropped, tx_dropped, no_reason, tx_seen;
	unsigned int bfd_tx, bfd_rx;
	uint64_t by_reason[SS_DROP_MAX];
	uint64_t tx_port[SS_MAX_PORTS];
};

/* FUZZ_GRAPH_VERBOSE=1: each frame's fate on stderr (to read what a
 * reproducer or a seed does). */
static bool verbose;

static void
fz_count(struct fz_count *c)
{
	memset(c, 0, sizeof(*c));
	for (uint16_t p = 0; p < ss_ports.nb_ports; p++) {
		c->rx += w->port[p].rx_packets;
		c->tx += w->port[p].tx_packets;
		c->rx_dropped += w->port[p].rx_dropped;
		c->tx_dropped += w->port[p].tx_dropped;
		c->tx_port[p] = w->port[p].tx_packets;
	}
	for (unsigned int r = 0; r < SS_DROP_MAX; r++) {
		c->drops += w->drops[r];
		c->by_reason[r] = w->drops[r];
	}
	c->no_reason = w->drops[SS_DROP_NONE];
	c->tx_seen = tx_seen;
	c->bfd_tx = ss_bfd_tx_ring ? rte_ring_count(ss_bfd_tx_ring) : 0;
	c->bfd_rx = ss_bfd_rx_ring ? rte_ring_count(ss_bfd_rx_ring) : 0;
}

static void
fz_walk(void)
{
	bool traced = ss_trace_active();

	if (traced)
		ss_trace_walk_begin(w);
	rte_graph_walk(w->graph);
	if (traced)
		ss_trace_walk_end(w);
}

/* One frame received on port `p`, walked to its end, accounted. */
static void
fz_frame(uint16_t p, const uint8_t *d, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ss_ports.ports[p].pool);
	struct fz_count a, b;
	uint64_t in, out;

	if (m == NULL) {
		fprintf(stderr, "mbuf pool empty: %u of %u left\n",
			rte_mempool_avail_count(ss_ports.ports[p].pool), pool_avail);
		abort();
	}
	if (len > rte_pktmbuf_tailroom(m))
		len = rte_pktmbuf_tailroom(m);
	memcpy(rte_pktmbuf_mtod(m, void *), d, len);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	m->port = ss_ports.ports[p].eth_id;
	pending[p] = m;
	fz_count(&a);
	for (int i = 0; i < FZ_WALKS; i++)
		fz_walk();
	fz_count(&b);
	if (pending[p] != NULL) {
		fprintf(stderr, "port_rx did not receive the frame on %s\n", ss_ports.ports[p].name);
		abort();
	}
	/* in: received, and what src_bfd_tx took from the control thread;
	 * out: transmitted, dropped, punted to the control thread */
	in = (b.rx - a.rx) + (a.bfd_tx - b.bfd_tx);
	out = (b.tx - a.tx) + (b.drops - a.drops) + (b.bfd_rx - a.bfd_rx);
	if (b.rx - a.rx != 1 || in != out || b.tx - a.tx != b.tx_seen - a.tx_seen ||
	    b.drops - a.drops != (b.rx_dropped - a.rx_dropped) + (b.tx_dropped - a.tx_dropped) ||
	    b.no_reason != 0) {
		fprintf(stderr,
			"packet accounting broken on %s (%zu bytes): rx %llu, from the control "
			"thread %u, tx %llu (device saw %llu), drops %llu (rx_dropped %llu, "
			"tx_dropped %llu, no reason %llu), punted %u\n",
			ss_ports.ports[p].name, len, (unsigned long long)(b.rx - a.rx),
			a.bfd_tx - b.bfd_tx, (unsigned long long)(b.tx - a.tx),
			(unsigned long long)(b.tx_seen - a.tx_seen),
			(unsigned long long)(b.drops - a.drops),
			(unsigned long long)(b.rx_dropped - a.rx_dropped),
			(unsigned long long)(b.tx_dropped - a.tx_dropped),
			(unsigned long long)b.no_reason, b.bfd_rx - a.bfd_rx);
		abort();
	}
	if (verbose) {
		fprintf(stderr, "%s, %zu bytes:", ss_ports.ports[p].name, len);
		for (uint16_t i = 0; i < ss_ports.nb_ports; i++)
			if (b.tx_port[i] != a.tx_port[i])
				fprintf(stderr, " tx %s x%llu", ss_ports.ports[i].name,
					(unsigned long long)(b.tx_port[i] - a.tx_port[i]));
		for (unsigned int r = 0; r < SS_DROP_MAX; r++)
			if (b.by_reason[r] != a.by_reason[r])
				fprintf(stderr, " drop %s", ss_drop_name(r));
		if (b.bfd_rx != a.bfd_rx)
			fprintf(stderr, " punted");
		fprintf(stderr, "\n");
	}
	/* the control thread's turn: it takes what was punted */
	ss_features_poll();
}

/* A control request that must succeed. */
static void
fz_call(const char *req, size_t len)
{
	char *r = ss_ctl_handle_line(ctl, req, len);

	if (r == NULL || strstr(r, "\"result\"") == NULL) {
		fprintf(stderr, "%.*s failed: %s\n", (int)len, req, r ? r : "no reply");
		abort();
	}
	free(r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once, before the first input. What the setup keeps lives for the whole
 * process, much of it referenced only from DPDK's memory (mmap'ed, which
 * LeakSanitizer does not scan): not a leak of any input. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_GRAPH_VERBOSE") != NULL;
	__lsan_disable();
	fz_setup();
	__lsan_enable();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char flush[] = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"flow.flush\"}";
	static const char trace_start[] =
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"trace.start\",\"params\":{\"count\":4}}";
	static const char trace_stop[] = "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"trace.stop\"}";
	uint8_t b0;
	size_t len;

	if (size < 1)
		return 0;
	b0 = data[0];
	data++;
	size--;
	len = size;
	if (b0 & 8) {
		if (size < 2)
			return 0;
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
	}
	if (b0 & 0x40)
		fz_call(trace_start, sizeof(trace_start) - 1);
	fz_frame((b0 & 3) % FZ_PORTS, data, len);
	if (b0 & 4)
		fz_frame((b0 & 3) % FZ_PORTS, data, len);
	if (b0 & 8)
		fz_frame(((b0 >> 4) & 3) % FZ_PORTS, data + len, size - len);
	if (b0 & 0x40)
		fz_call(trace_stop, sizeof(trace_stop) - 1);
	fz_call(flush, sizeof(flush) - 1);
	ss_features_poll();
	if (ss_bfd_rx_ring != NULL && rte_ring_count(ss_bfd_rx_ring) != 0) {
		fprintf(stderr, "the control thread left punted frames\n");
		abort();
	}
	if (rte_mempool_avail_count(ss_ports.ports[0].pool) != pool_avail) {
		fprintf(stderr, "mbufs lost: %u in the pool, %u before\n",
			rte_mempool_avail_count(ss_ports.ports[0].pool), pool_avail);
		abort();
	}
	return 0;
}
