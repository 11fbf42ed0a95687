/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Worker lcores. Each worker walks its own graph ("ss_w<index>", created
 * from the same node patterns) over the rx queues assigned to it, never
 * blocks, never locks, and reports an RCU quiescent state after every walk:
 * between two walks it holds no reference to any table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_graph_worker.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/port-t.h"
#include "dataplane/worker.h"
#include "pipelines/common/arc.h"
#include "pipelines/trace/trace.h"

struct ss_worker_table ss_workers;
struct rte_rcu_qsbr *ss_qsbr;
static volatile bool workers_stop;

/* The graph's entries: port_rx, and the source nodes of features (named
 * src_*: frames the control thread originates, e.g. pipelines/bfd); every
 * other node is pulled in through the edges. */
static const char *node_patterns[] = { "port_rx", "src_*" };

struct ss_worker *ss_worker_of_graph(const struct rte_graph *graph)
{
	unsigned int idx;

	if (sscanf(graph->name, "ss_w%u", &idx) != 1 || idx >= ss_workers.nb)
		return NULL;
	return ss_workers.w[idx];
}

int ss_workers_init(const struct ss_config *cfg, char *err, size_t errlen)
{
	size_t sz = rte_rcu_qsbr_get_memsize(cfg->nb_workers);

	ss_qsbr = rte_zmalloc("ss_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (ss_qsbr == NULL || rte_rcu_qsbr_init(ss_qsbr, cfg->nb_workers) != 0) {
		snprintf(err, errlen, "cannot allocate the RCU state: %s", rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned int i = 0; i < cfg->nb_workers; i++) {
		unsigned int lcore = cfg->workers[i];
		struct ss_worker *w;

		if (!rte_lcore_is_enabled(lcore)) {
			snprintf(err, errlen,
				 "lcores.workers[%u]: lcore %u is not enabled in the EAL (check eal "
				 "-l/--lcores)",
				 i, lcore);
			return -1;
		}
		w = rte_zmalloc_socket("ss_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lcore));
		if (w == NULL) {
			snprintf(err, errlen, "cannot allocate worker %u", i);
			return -1;
		}
		w->lcore = lcore;
		w->index = i;
		snprintf(w->graph_name, sizeof(w->graph_name), "ss_w%u", i);
		ss_workers.w[i] = w;
		ss_workers.nb++;
	}
	for (uint16_t p = 0; p < ss_ports.nb_ports; p++) {
		const struct ss_port *port = &ss_ports.ports[p];
		for (uint16_t q = 0; q < port->rx_queues; q++) {
			struct ss_worker *w = ss_workers.w[q % ss_workers.nb];
			if (w->nb_rxq == SS_MAX_RXQ_PER_WORKER) {
				snprintf(err, errlen, "worker %u: more than %d rx queues", w->index,
					 SS_MAX_RXQ_PER_WORKER);
				return -1;
			}
			w->rxq[w->nb_rxq++] = (struct ss_rxq){ p, port->eth_id, q };
		}
	}
	/* the features' nodes on their arcs: every edge exists before the
	 * graphs are created (pipelines/common/arc.h) */
	if (ss_arcs_finalize(err, errlen) != 0)
		return -1;
	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		struct ss_worker *w = ss_workers.w[i];
		struct rte_graph_param prm = {
			.socket_id = (int)rte_lcore_to_socket_id(w->lcore),
			.nb_node_patterns = RTE_DIM(node_patterns),
			.node_patterns = node_patterns,
		};
		if (rte_graph_create(w->graph_name, &prm) == RTE_GRAPH_ID_INVALID) {
			snprintf(err, errlen, "worker %u: cannot create graph: %s", i,
				 rte_strerror(rte_errno));
			return -1;
		}
		w->graph = rte_graph_lookup(w->graph_name);
	}
	return 0;
}

static int worker_main(void *arg)
{
	struct ss_worker *w = arg;

	rte_rcu_qsbr_thread_register(ss_qsbr, w->index);
	rte_rcu_qsbr_thread_online(ss_qsbr, w->index);
	while (!__atomic_load_n(&workers_stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = rte_rdtsc();
		bool traced = ss_trace_active();   /* pipelines/trace/trace.h */
		if (traced)
			ss_trace_walk_begin(w);
		rte_graph_walk(w->graph);
		if (traced)
			ss_trace_walk_end(w);
		uint64_t dt = rte_rdtsc() - t0;
		w->walks++;
		w->total_cycles += dt;
		if (w->rx_last) {
			w->busy_walks++;
			w->busy_cycles += dt;
		}
		rte_rcu_qsbr_quiescent(ss_qsbr, w->index);
	}
	rte_rcu_qsbr_thread_offline(ss_qsbr, w->index);
	rte_rcu_qsbr_thread_unregister(ss_qsbr, w->index);
	return 0;
}

int ss_workers_launch(char *err, size_t errlen)
{
	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		struct ss_worker *w = ss_workers.w[i];
		int rc = rte_eal_remote_launch(worker_main, w, w->lcore);
		if (rc != 0) {
			snprintf(err, errlen, "worker %u: cannot launch on lcore %u: %s", i, w->lcore,
				 rte_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

void ss_workers_stop(void)
{
	__atomic_store_n(&workers_stop, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
}

void ss_workers_rcu_synchronize(void)
{
	if (ss_qsbr)
		rte_rcu_qsbr_synchronize(ss_qsbr, RTE_QSBR_THRID_INVALID);
}

void ss_workers_free(void)
{
	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		struct ss_worker *w = ss_workers.w[i];
		if (w->graph)
			rte_graph_destroy(rte_graph_from_name(w->graph_name));
		rte_free(w);
		ss_workers.w[i] = NULL;
	}
	ss_workers.nb = 0;
	rte_free(ss_qsbr);
	ss_qsbr = NULL;
}
