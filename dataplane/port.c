/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Ports: ethdev probe and configuration, queue layout (SPEC section 2) and
 * NUMA-local mbuf pools. Everything here runs on the control thread before
 * the workers are launched, or after they stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <numa.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dataplane/port.h"
#include "pipelines/common/meta.h"

#define RX_DESC 1024
#define TX_DESC 1024
#define POOL_CACHE 256

struct ss_port_table ss_ports = { .nb_ports = 0 };
static struct rte_mempool *pools[RTE_MAX_NUMA_NODES + 1];

uint16_t ss_port_by_name(const char *name)
{
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++)
		if (strcmp(ss_ports.ports[i].name, name) == 0)
			return i;
	return SS_PORT_NONE;
}

/* The NUMA node of a port: the device's, or for devices that have none
 * (virtual devices report SOCKET_ID_ANY) the node of the first worker's CPU,
 * as libnuma sees it. */
static int port_socket(uint16_t eth_id, const struct ss_config *cfg)
{
	int s = rte_eth_dev_socket_id(eth_id);

	if (s >= 0)
		return s;
	if (numa_available() < 0)
		return 0;
	rte_cpuset_t cpus = rte_lcore_cpuset(cfg->workers[0]);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &cpus)) {
			int node = numa_node_of_cpu(cpu);
			return node >= 0 ? node : 0;
		}
	return 0;
}

static uint32_t pool_size(const struct ss_config *cfg)
{
	uint32_t n = 0;

	if (cfg->mbufs)
		return cfg->mbufs;
	for (unsigned int i = 0; i < cfg->nb_ports; i++)
		n += (uint32_t)(cfg->nb_workers * (RX_DESC + 2 * TX_DESC));
	n += cfg->nb_workers * (POOL_CACHE + 4 * RTE_GRAPH_BURST_SIZE);
	n += 8192; /* pcap infinite_rx keeps its whole file in mbufs */
	return RTE_MAX(n, 16383u);
}

static struct rte_mempool *pool_get(int socket, const struct ss_config *cfg, uint16_t data_room)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	int slot = socket < 0 || socket >= RTE_MAX_NUMA_NODES ? RTE_MAX_NUMA_NODES : socket;

	if (pools[slot])
		return pools[slot];
	snprintf(name, sizeof(name), "ss_mbuf_s%d", socket);
	pools[slot] = rte_pktmbuf_pool_create(name, pool_size(cfg), POOL_CACHE, SS_META_PRIV_SIZE,
					      data_room, socket);
	if (pools[slot] == NULL && socket != SOCKET_ID_ANY) {
		/* e.g. --no-huge: memory is not split by node */
		RTE_LOG(WARNING, USER1, "no mbuf pool on NUMA node %d (%s), using any node\n", socket,
			rte_strerror(rte_errno));
		snprintf(name, sizeof(name), "ss_mbuf_any%d", socket);
		pools[slot] = rte_pktmbuf_pool_create(name, pool_size(cfg), POOL_CACHE,
						      SS_META_PRIV_SIZE, data_room, SOCKET_ID_ANY);
	}
	return pools[slot];
}

static int find_port(const char *devargs, uint16_t *eth_id)
{
	struct rte_dev_iterator it;
	uint16_t id;

	RTE_ETH_FOREACH_MATCHING_DEV(id, devargs, &it) {
		rte_eth_iterator_cleanup(&it);
		*eth_id = id;
		return 0;
	}
	return -ENODEV;
}

static int port_setup(struct ss_port *p, const struct ss_port_conf *pc, const struct ss_config *cfg,
		      uint16_t data_room, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	int rc;

	if (find_port(pc->devargs, &p->eth_id) != 0) {
		rc = rte_dev_probe(pc->devargs);
		if (rc != 0 || find_port(pc->devargs, &p->eth_id) != 0) {
			snprintf(err, errlen, "port %s: cannot probe device \"%s\": %s", p->name,
				 pc->devargs, rc ? rte_strerror(-rc) : "no ethdev port appeared");
			return -1;
		}
	}
	if (ss_ports.by_eth_id[p->eth_id] != SS_PORT_NONE) {
		snprintf(err, errlen, "port %s: device \"%s\" is already port %s", p->name, pc->devargs,
			 ss_ports.ports[ss_ports.by_eth_id[p->eth_id]].name);
		return -1;
	}
	rc = rte_eth_dev_info_get(p->eth_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: dev_info: %s", p->name, rte_strerror(-rc));
		return -1;
	}
	p->rx_queues = pc->rx_queues ? pc->rx_queues
				     : (uint16_t)RTE_MIN(cfg->nb_workers, info.max_rx_queues);
	p->tx_queues = (uint16_t)(cfg->nb_workers * (p->lossless_lane ? 2 : 1));
	if (p->rx_queues > info.max_rx_queues) {
		snprintf(err, errlen, "port %s (%s): %u rx queues asked, the device has %u", p->name,
			 info.driver_name, p->rx_queues, info.max_rx_queues);
		return -1;
	}
	if (p->tx_queues > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %s (%s): needs %u tx queues (%u workers%s) but the device has %u%s",
			 p->name, info.driver_name, p->tx_queues, cfg->nb_workers,
			 p->lossless_lane ? " x2 for the lossless lane" : "", info.max_tx_queues,
			 strstr(info.driver_name, "pcap") ? "; give net_pcap one tx_pcap= per queue"
							   : "");
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (p->rx_queues > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	rc = rte_eth_dev_configure(p->eth_id, p->rx_queues, p->tx_queues, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: configure %u rx / %u tx queues: %s", p->name,
			 p->rx_queues, p->tx_queues, rte_strerror(-rc));
		return -1;
	}
	/* the MTU is enforced in software (port_tx); the device gets it too
	 * where it supports it */
	rc = rte_eth_dev_set_mtu(p->eth_id, p->mtu);
	p->mtu_set_on_device = rc == 0;
	if (rc != 0 && rc != -ENOTSUP)
		RTE_LOG(WARNING, USER1, "port %s: device refused MTU %u (%s); enforced in software\n",
			p->name, p->mtu, rte_strerror(-rc));
	rte_eth_dev_adjust_nb_rx_tx_desc(p->eth_id, &nb_rxd, &nb_txd);
	p->socket = port_socket(p->eth_id, cfg);
	p->pool = pool_get(p->socket, cfg, data_room);
	if (p->pool == NULL) {
		snprintf(err, errlen, "port %s: cannot create the mbuf pool (%u mbufs of %u bytes): %s",
			 p->name, pool_size(cfg), data_room, rte_strerror(rte_errno));
		return -1;
	}
	for (uint16_t q = 0; q < p->rx_queues; q++) {
		rc = rte_eth_rx_queue_setup(p->eth_id, q, nb_rxd, (unsigned int)p->socket, NULL, p->pool);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: rx queue %u: %s", p->name, q, rte_strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < p->tx_queues; q++) {
		rc = rte_eth_tx_queue_setup(p->eth_id, q, nb_txd, (unsigned int)p->socket, NULL);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: tx queue %u: %s", p->name, q, rte_strerror(-rc));
			return -1;
		}
	}
	if (pc->has_mac) {
		memcpy(p->mac.addr_bytes, pc->mac, 6);
		rc = rte_eth_dev_default_mac_addr_set(p->eth_id, &p->mac);
		if (rc != 0 && rc != -ENOTSUP) {
			snprintf(err, errlen, "port %s: cannot set MAC: %s", p->name, rte_strerror(-rc));
			return -1;
		}
	} else {
		rte_eth_macaddr_get(p->eth_id, &p->mac);
	}
	/* host ports take any destination; fabric ports check theirs in
	 * software (parse), which also counts what it refuses */
	rc = rte_eth_promiscuous_enable(p->eth_id);
	if (rc != 0 && rc != -ENOTSUP)
		RTE_LOG(WARNING, USER1, "port %s: promiscuous mode: %s\n", p->name, rte_strerror(-rc));
	return 0;
}

int ss_ports_init(const struct ss_config *cfg, char *err, size_t errlen)
{
	uint16_t max_mtu = 1500;

	ss_ports.nb_workers = (uint16_t)cfg->nb_workers;
	for (unsigned int i = 0; i < RTE_MAX_ETHPORTS; i++)
		ss_ports.by_eth_id[i] = SS_PORT_NONE;
	for (unsigned int i = 0; i < cfg->nb_ports; i++)
		max_mtu = RTE_MAX(max_mtu, cfg->ports[i].mtu);
	/* one contiguous buffer for the largest frame: L3 MTU + Ethernet, two
	 * tags, FCS, plus room to push an outer IPv6 VXLAN header (70 bytes) */
	uint32_t room = RTE_PKTMBUF_HEADROOM + max_mtu + 14 + 8 + 4 + 128;
	uint16_t data_room = (uint16_t)RTE_MAX(room, (uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE);

	for (unsigned int i = 0; i < cfg->nb_ports; i++) {
		const struct ss_port_conf *pc = &cfg->ports[i];
		struct ss_port *p = &ss_ports.ports[i];

		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", pc->name);
		p->devargs = pc->devargs;
		p->role = pc->role;
		p->index = (uint16_t)i;
		p->mtu = pc->mtu;
		p->peer = SS_PORT_NONE;
		p->lossless_lane = pc->lossless_lane < 0 ? pc->role == SS_ROLE_STORAGE
							 : pc->lossless_lane;
		if (port_setup(p, pc, cfg, data_room, err, errlen) != 0)
			return -1;
		ss_ports.by_eth_id[p->eth_id] = (uint16_t)i;
		ss_ports.nb_ports++;
	}
	for (unsigned int i = 0; i < cfg->nb_ports; i++)
		if (cfg->ports[i].peer[0])
			ss_ports.ports[i].peer = ss_port_by_name(cfg->ports[i].peer);
	return 0;
}

int ss_ports_start(char *err, size_t errlen)
{
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++) {
		struct ss_port *p = &ss_ports.ports[i];
		int rc = rte_eth_dev_start(p->eth_id);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: start: %s", p->name, rte_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

void ss_ports_close(void)
{
	for (uint16_t i = 0; i < ss_ports.nb_ports; i++) {
		struct ss_port *p = &ss_ports.ports[i];
		rte_eth_dev_stop(p->eth_id);
		rte_eth_dev_close(p->eth_id);
	}
}
