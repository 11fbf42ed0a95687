/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Port table types. The table is filled on the control thread before any
 * worker starts and is read-only afterwards
 * (dataplane: ro, ctlplane: rw before launch only).
 */
#ifndef SS_PORT_T_H
#define SS_PORT_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#define SS_MAX_PORTS 32
#define SS_PORT_NONE UINT16_MAX
#define SS_PORT_NAME_MAX 32

enum ss_port_role { SS_ROLE_HOST = 0, SS_ROLE_FABRIC, SS_ROLE_STORAGE };

struct ss_port {
	char name[SS_PORT_NAME_MAX];
	char *devargs;
	enum ss_port_role role;
	uint16_t index;        /* position in ss_ports.ports[] */
	uint16_t eth_id;       /* DPDK ethdev port id */
	uint16_t peer;         /* patch mode: everything received goes out of peer */
	uint16_t mtu;          /* largest L3 packet transmitted */
	uint16_t rx_queues;
	uint16_t tx_queues;    /* workers, plus workers again with the lossless lane */
	bool lossless_lane;
	bool mtu_set_on_device;
	struct rte_ether_addr mac;
	int socket;            /* NUMA node the mbuf pool lives on */
	struct rte_mempool *pool;
};

struct ss_port_table {
	uint16_t nb_ports;
	uint16_t nb_workers;
	uint16_t by_eth_id[RTE_MAX_ETHPORTS]; /* ethdev id -> index, SS_PORT_NONE */
	struct ss_port ports[SS_MAX_PORTS];
};

/* The one port table of the process. */
extern struct ss_port_table ss_ports;

static inline const char *ss_role_name(enum ss_port_role r)
{
	return r == SS_ROLE_HOST ? "host" : r == SS_ROLE_FABRIC ? "fabric" : "storage";
}

#endif
