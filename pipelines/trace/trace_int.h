/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet trace internals shared by the worker side (trace_dp.c) and the
 * control side (trace_ctl.c).
 *
 * Slots: slot 0 records the trace.packet frame, slots 1..SS_TRACE_LIVE_MAX
 * the live packets of trace.start. A slot is FREE (control thread owns
 * it), OPEN (the worker that took the packet owns it until the end of its
 * walk) or DONE (written; the control thread reads it after an acquire
 * load of `state`). A live slot is claimed by a worker with one atomic
 * increment of ss_trace_live.claimed: each is taken exactly once.
 */
#ifndef SS_TRACE_INT_H
#define SS_TRACE_INT_H

#include <stdint.h>

#include <rte_mbuf_dyn.h>

#include "dataplane/worker-t.h"
#include "pipelines/trace/trace.h"
#include "pipelines/trace/trace_node.h"

#define SS_TRACE_LIVE_MAX 64
#define SS_TRACE_SLOTS (1 + SS_TRACE_LIVE_MAX)
#define SS_TRACE_MAX_NODES 256   /* rte_node ids below this can be described */

enum { SS_TRACE_FREE = 0, SS_TRACE_OPEN, SS_TRACE_DONE };

/* the mbuf dynamic field: slot | SS_TRACE_F_INJECTED */
#define SS_TRACE_F_INJECTED 0x80000000u
#define SS_TRACE_SLOT_MASK 0xffffu

struct ss_trace_pkt {
	uint32_t state;          /* SS_TRACE_*, release / acquire */
	uint16_t worker;
	uint16_t nb_steps;       /* recorded (at most SS_TRACE_STEPS) */
	uint16_t lost_steps;     /* beyond SS_TRACE_STEPS */
	uint16_t in_port;
	uint8_t injected;        /* trace.packet: freed at its end, not sent */
	uint8_t ended;           /* reached port_tx, l2_patch or drop */
	uint64_t tsc;            /* when it was taken */
	uint64_t generation;     /* control generation when armed (control thread) */
	struct ss_trace_step step[SS_TRACE_STEPS];
};

/* trace.start's filter, on the tenant packet (the inner one of VXLAN) as
 * parse sees it. Fields with their `has` bit unset match anything. */
#define SS_TF_PORT 0x01
#define SS_TF_SRC 0x02
#define SS_TF_DST 0x04
#define SS_TF_PROTO 0x08
#define SS_TF_SPORT 0x10
#define SS_TF_DPORT 0x20
#define SS_TF_MAC 0x40
#define SS_TF_VNI 0x80

struct ss_trace_prefix {
	uint8_t fam;             /* 4 or 6 */
	uint8_t len;
	uint8_t addr[16];
};

struct ss_trace_filter {
	uint32_t has;            /* SS_TF_* */
	uint16_t port;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t vni;
	uint8_t mac[6];          /* source or destination MAC of the tenant frame */
	struct ss_trace_prefix src, dst;
};

struct ss_trace_live {
	struct ss_trace_filter f;    /* ctlplane: rw while disarmed, dataplane: ro */
	uint32_t count;              /* packets to take */
	uint32_t claimed;            /* atomic: slots handed out (may exceed count) */
};

/* Per worker: what the control thread hands it and what it has open. */
struct ss_trace_wk {
	struct rte_mbuf *inject;     /* trace.packet frame: control stores, worker takes */
	struct rte_node *rx_node;    /* port_rx of the worker's graph (control, before arming) */
	uint16_t nb_open;            /* worker only */
	uint16_t open[SS_TRACE_SLOTS];
} __rte_cache_aligned;

extern struct ss_trace_pkt *ss_trace_slots;      /* [SS_TRACE_SLOTS] */
extern struct ss_trace_live ss_trace_live;
extern struct ss_trace_wk ss_trace_wk[SS_MAX_WORKERS];
extern uint64_t ss_trace_flag;                    /* dynflag mask, 0: not registered */
extern int ss_trace_field;                        /* dynfield offset */
/* describers by rte_node id (ctlplane: filled before arming, dataplane: ro) */
extern struct ss_trace_describer *ss_trace_by_node[SS_TRACE_MAX_NODES];
/* rte_node ids the worker side needs (ctlplane: before arming) */
extern uint16_t ss_trace_node_parse, ss_trace_node_tx, ss_trace_node_drop, ss_trace_node_patch;

/* Register the mbuf flag and field, find node ids, map describers to
 * nodes. Idempotent; 0 or -errno with err. Control thread. */
int ss_trace_dp_setup(char *err, size_t errlen);

static inline uint32_t *ss_trace_mbuf_field(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, ss_trace_field, uint32_t *);
}

#endif
