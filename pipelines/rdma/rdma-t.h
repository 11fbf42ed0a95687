/* SPDX-License-Identifier: BSD-3-Clause
 *
 * RDMA (RoCEv2) steering: types (SPEC section 3.7, docs/rdma.md).
 *
 * Who writes what
 * ---------------
 * struct ss_rdma_state is built aside by the control thread (prepare), made
 * visible with one release store of `ss_rdma_cur` (commit), and freed after
 * an RCU grace period (reclaim). Workers load it once per burst and only
 * read it, except for their own row of per-policy counters (ctr[w]).
 *
 * The QP telemetry tables (struct ss_rdma_qpt) belong to one worker each:
 * only that worker writes them. The control thread reads them for
 * rdma.qp.list through the per-entry sequence counter (rdma_qp.h); it never
 * writes them. A table set is replaced (not resized) when qp_table_size
 * changes, through the same publication as the policies.
 */
#ifndef SS_RDMA_T_H
#define SS_RDMA_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dataplane/worker-t.h"

#define SS_RDMA_NO_POLICY UINT16_MAX
#define SS_RDMA_MAX_POLICIES 65535u
#define SS_RDMA_NO_PCP 0xff

enum ss_rdma_encap { SS_RDMA_ENCAP_NONE = 0, SS_RDMA_ENCAP_VNET = 1 };

/* What a matching packet gets (dataplane: ro). */
struct ss_rdma_action {
	uint8_t dmac[6];        /* next_hop_mac */
	uint8_t smac[6];        /* the egress port's MAC */
	uint16_t out_port;      /* sswitch port index */
	uint8_t tx_class;       /* enum ss_tx_class, SS_TX_LOSSLESS only with a lane */
	uint8_t dscp;           /* DSCP of data packets (CNPs: state cnp_dscp) */
	uint8_t pcp;            /* 0..7, SS_RDMA_NO_PCP: leave the tag's PCP */
	uint8_t encap;          /* enum ss_rdma_encap */
	uint16_t pad;
	uint32_t eni;           /* encap vnet: the overlay ENI index of action.eni */
};

/* Match of an IPv4 policy: a packet matches when (x & mask) == value for
 * the destination, the source and the destination QP (a mask of 0 is a
 * wildcard). Host byte order. */
struct ss_rdma_match4 {
	uint32_t dst, dmask;
	uint32_t src, smask;
	uint32_t qp, qpmask;
	uint16_t pol;           /* index in state->act */
};

struct ss_rdma_match6 {
	uint64_t dst[2], dmask[2];   /* network byte order words */
	uint64_t src[2], smask[2];
	uint32_t qp, qpmask;
	uint16_t pol;
};

/* Per worker, per policy (worker: rw, control: ro). */
struct ss_rdma_pctr {
	uint64_t packets;
	uint64_t bytes;
};

/* ---- per-QP telemetry ------------------------------------------------- */

struct ss_rdma_qp_key {
	union {
		struct {
			uint8_t src[16];  /* IPv4: the 4 address bytes, then zeros */
			uint8_t dst[16];
			uint32_t dqp;
			uint8_t family;   /* 4 or 6 */
			uint8_t pad[3];
		};
		uint64_t w[5];            /* built, hashed and compared as words */
	};
};

/* The per-class counters are also an array indexed by enum
 * ss_rdma_opclass (rdma_hdr.h), so the worker counts a packet's class with
 * one indexed increment; `other` (atomics, unknown opcodes) is not
 * reported. */
struct ss_rdma_qp_counters {
	uint64_t packets, bytes;
	union {
		struct {
			uint64_t other, send, write, read_req, read_resp, ack, nak, cnp;
		};
		uint64_t by_class[8];
	};
	uint64_t psn_gaps, ecn_ce;
};

/* One slot. `seq` is odd while the worker rewrites the key (insert, reuse
 * after idle expiry, clear); readers copy the slot and retry when seq moved.
 * Cache lines: 0 = key, last_tsc, PSN state, pgen (every packet); 1 = pidx,
 * clear_gen, packets, bytes, other..read_resp (every packet); 2 = ack..ecn_ce
 * (ACK / NAK / CNP / CE packets). */
struct ss_rdma_qp_entry {
	uint32_t seq;
	uint8_t used;
	uint8_t psn_valid;      /* last_psn holds a PSN of this QP */
	uint8_t after_read;     /* last tracked packet was a READ request */
	uint8_t pad0;
	struct ss_rdma_qp_key key;
	uint64_t last_tsc;      /* last packet, worker TSC */
	uint32_t last_psn;
	uint32_t pgen;          /* state generation pidx was resolved against */
	uint16_t pidx;          /* cached policy lookup, SS_RDMA_NO_POLICY */
	uint16_t pad1;
	uint32_t clear_gen;     /* stats.clear generation the counters belong to */
	struct ss_rdma_qp_counters c;
} __rte_cache_aligned;

#define SS_RDMA_QP_WAYS 8

/* One worker's table: nb_buckets buckets of SS_RDMA_QP_WAYS slots, at most
 * `capacity` used slots. The memory of the struct, the signatures and the
 * slots is one block (ss_rdma_qpt_memsize). */
struct ss_rdma_qpt {
	uint32_t nb_buckets;    /* power of two */
	uint32_t mask;
	uint32_t capacity;
	uint32_t count;         /* used slots (worker: rw, others: ro) */
	uint64_t insert_failed; /* new QPs not tracked: table full (worker: rw) */
	uint64_t expired;       /* entries reaped after qp_idle_timeout_ms */
	uint32_t age_cursor;    /* next bucket the incremental reaper visits */
	uint32_t pad;
	uint32_t *sig;          /* [nb_buckets * WAYS], 0 = free (worker only) */
	struct ss_rdma_qp_entry *e; /* [nb_buckets * WAYS] */
} __rte_cache_aligned;

struct ss_rdma_qpset {
	uint32_t nb;                         /* workers */
	uint32_t size;                       /* qp_table_size it was built for */
	struct ss_rdma_qpt *t[SS_MAX_WORKERS];
};

/* ---- the published state ---------------------------------------------- */

struct ss_rdma_state {
	uint32_t gen;           /* distinct per built state, never 0 */
	uint8_t cnp_dscp;
	uint8_t pad[3];
	uint64_t idle_tsc;      /* qp_idle_timeout_ms in TSC cycles */
	uint32_t nb_pol;
	uint32_t nb4, nb6;
	struct ss_rdma_match4 *m4;   /* by (priority, name) */
	struct ss_rdma_match6 *m6;
	struct ss_rdma_action *act;  /* [nb_pol], by (priority, name) */
	struct ss_rdma_pctr *ctr[SS_MAX_WORKERS]; /* [nb_pol] each */
	struct ss_rdma_qpset *qps;   /* shared with the previous state unless resized */
	/* control thread only */
	char **names;                /* [nb_pol], by (priority, name) */
	uint32_t *priority;          /* [nb_pol] */
	bool *lossless;              /* [nb_pol]: queue lossless and the port has a lane */
	void *ext;                   /* the feature's per-state data (encap, offload) */
};

/* The settings of rdma.config. */
struct ss_rdma_settings {
	uint8_t data_dscp;
	uint8_t cnp_dscp;
	uint32_t qp_table_size;
	uint32_t qp_idle_timeout_ms;
};

#endif
