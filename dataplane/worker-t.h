/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Worker types. One struct ss_worker per worker lcore, allocated on the
 * worker's NUMA node. Counters are written by their worker only and read
 * (never written) by the control and telemetry threads: 64-bit aligned loads
 * cannot tear on the platforms we run on (x86-64, arm64). Clearing is done by
 * the readers keeping a baseline, never by writing here.
 */
#ifndef SS_WORKER_T_H
#define SS_WORKER_T_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_graph.h>

#include "dataplane/port-t.h"
#include "pipelines/drop/drop.h"

#define SS_MAX_WORKERS 64
#define SS_MAX_RXQ_PER_WORKER 64
/* rte_node ids below this have their drops counted per node (the graph
 * has a few dozen nodes, DPDK's own included) */
#define SS_MAX_DROP_NODES 128

struct ss_port_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_dropped;   /* received here, dropped by the pipeline */
	uint64_t tx_dropped;   /* meant for this port, not transmitted */
};

struct ss_rxq {
	uint16_t port;   /* sswitch port index */
	uint16_t eth_id;
	uint16_t queue;
};

struct ss_worker {
	/* set up by the control thread before launch, then read-only */
	unsigned int lcore;
	unsigned int index;    /* 0..nb_workers-1: tx queue and RCU thread id */
	struct rte_graph *graph;
	char graph_name[RTE_GRAPH_NAMESIZE];
	uint16_t nb_rxq;
	struct ss_rxq rxq[SS_MAX_RXQ_PER_WORKER];

	/* worker: rw, others: ro */
	uint64_t walks __rte_cache_aligned;
	uint64_t busy_walks;
	uint64_t busy_cycles;  /* TSC cycles of walks that received packets */
	uint64_t total_cycles;
	uint64_t rx_last;      /* packets received in the current walk */
	uint64_t drops[SS_DROP_MAX] __rte_cache_aligned;
	/* [rte_node id of the dropping node][reason] */
	uint64_t node_drops[SS_MAX_DROP_NODES][SS_DROP_MAX] __rte_cache_aligned;
	struct ss_port_counters port[SS_MAX_PORTS] __rte_cache_aligned;
} __rte_cache_aligned;

struct ss_worker_table {
	uint16_t nb;
	struct ss_worker *w[SS_MAX_WORKERS];
};

extern struct ss_worker_table ss_workers;

/* Worker of a graph (graphs are named "ss_w<index>"); NULL if not ours. */
struct ss_worker *ss_worker_of_graph(const struct rte_graph *graph);

#endif
