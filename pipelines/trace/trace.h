/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet trace: the hooks the shared runtime calls (docs/trace.md).
 *
 * A traced packet carries the mbuf dynamic flag ss_trace_flag and, in an
 * mbuf dynamic field, the slot its path is recorded in. While any trace is
 * active (ss_trace_armed != 0):
 *   - ss_node_dispatch() (pipelines/common/node.h) hands every burst to
 *     ss_trace_dispatch() first: it records, for each traced packet, the
 *     node, the edge it took and the packet's metadata and first bytes as
 *     the node left them; a live trace picks its packets at `parse`
 *     (trace.start filter); a frame injected by trace.packet that reaches
 *     port_tx, l2_patch or drop is recorded there and freed, never sent;
 *   - the worker loop (dataplane/worker.c) calls ss_trace_walk_begin()
 *     before each graph walk (injects a trace.packet frame) and
 *     ss_trace_walk_end() after it (the paths of the walk are complete:
 *     nothing is buffered across walks).
 * With no trace active the cost is one load and one predictable branch per
 * burst in ss_node_dispatch and two per walk in the worker loop.
 *
 * Threads: the hooks run on workers; everything else (pipelines/trace/
 * trace_ctl.c) on the control thread.
 */
#ifndef SS_TRACE_H
#define SS_TRACE_H

#include <stdbool.h>
#include <stdint.h>

struct rte_graph;
struct rte_node;
struct ss_worker;

/* SS_TRACE_ARMED_*: what is active. ctlplane: rw, dataplane: ro. */
extern uint32_t ss_trace_armed;
#define SS_TRACE_ARMED_PACKET 0x1   /* a trace.packet frame is in flight */
#define SS_TRACE_ARMED_LIVE 0x2     /* trace.start: picking live packets */

static inline bool ss_trace_active(void)
{
	return __builtin_expect(__atomic_load_n(&ss_trace_armed, __ATOMIC_RELAXED) != 0, 0);
}

/* A live trace (trace.start) is picking packets at `parse`: the flow fast
 * path (pipelines/conntrack/flow_fast.c), which forwards packets of cached
 * flows without reaching parse, hands every packet to parse meanwhile. */
static inline bool ss_trace_live_armed(void)
{
	return __builtin_expect(
		(__atomic_load_n(&ss_trace_armed, __ATOMIC_RELAXED) & SS_TRACE_ARMED_LIVE) != 0, 0);
}

/* Record the traced packets of a burst that `node` hands on (next[i]: the
 * edge of objs[i]). Returns true when it enqueued the burst itself (a
 * trace.packet frame was taken out of it); false: the caller dispatches.
 * Workers. */
bool ss_trace_dispatch(struct rte_graph *graph, struct rte_node *node, void **objs,
		       uint16_t nb, const uint8_t *next);

/* Before and after each graph walk of worker w, while a trace is active. */
void ss_trace_walk_begin(struct ss_worker *w);
void ss_trace_walk_end(struct ss_worker *w);

#endif
