/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Connection tracking types (SPEC section 3.6). Functions are in ct.h; the
 * design (one shared table, concurrency, expiry) is in docs/conntrack.md.
 *
 * Concurrency rules
 * -----------------
 * The flow table is one rte_hash shared by every worker, created with
 * RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | MULTI_WRITER_ADD: lookups are
 * lock-free, inserts and deletes serialise on the hash's internal writer
 * lock for the few instructions of the cuckoo insertion. A key's position
 * indexes `struct ss_ct_entry`; the first byte of an entry is its state and
 * is only changed by compare-and-swap:
 *
 *     FREE --(adder wins the CAS)--> INIT --(filled, release)--> LIVE
 *     LIVE --(remover wins the CAS)--> DEAD --(key deleted, RCU grace)--> FREE
 *
 * so exactly one thread creates an entry and exactly one removes it. The
 * control thread (sweep, flush) is no RCU reader: between examining an
 * entry and claiming it, the position may have been freed and reopened by
 * another flow; `seq` (+1 per opening) tells, and a claim of the wrong
 * incarnation is given back (DEAD -> LIVE by its owner, the claimer). A
 * deleted key's position is handed back to the hash (and the entry reset to
 * FREE) only after an RCU grace period (rte_rcu_qsbr defer queue; a
 * worker's removals of one policy chunk as one entry, struct ss_ct_defer),
 * so a reader that found the position in the current walk never sees it
 * reused.
 * Readers treat anything but LIVE as absent. Other fields of a LIVE entry
 * are plain words updated with relaxed atomics (last_seen, the TCP bits,
 * the ACL generation): two workers may update them at once and any of their
 * values is a correct one.
 */
#ifndef SS_CT_T_H
#define SS_CT_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dataplane/worker-t.h"

#define SS_CT_MAX_ROWS (SS_MAX_WORKERS + 1)

struct rte_hash;
struct rte_ring;
struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;
struct ss_ct_xform;

enum ss_ct_estate { SS_CT_FREE = 0, SS_CT_INIT, SS_CT_LIVE, SS_CT_DEAD };

/* A connection, both directions in one key: endpoint "a" is the smaller of
 * (address, port) of the two, so a packet and its reply find the same key.
 * 48 bytes (rte_hash has a 48-byte compare). */
struct ss_ct_key {
	uint32_t eni;
	uint8_t proto;
	uint8_t v6;
	uint16_t pad0;
	uint8_t a[16];     /* IPv4 in the first 4 bytes, network order */
	uint8_t b[16];
	uint16_t pa, pb;   /* host order; ICMP echo: requester id, responder 0 */
	uint32_t pad1;
} __rte_aligned(8);   /* rte_hash reads keys in 8-byte words (rte_hash_crc) */

/* ss_ct_entry.tcp */
#define SS_CT_FIN_A 0x01   /* endpoint a sent a FIN */
#define SS_CT_FIN_B 0x02
#define SS_CT_SYN_SEEN 0x04
/* table growth (ss_ct_migrate): exactly one of the remover and the copier
 * sees the other's bit, so the per-ENI gauge counts the flow once */
#define SS_CT_MIGRATED 0x40  /* copied into the next table */
#define SS_CT_REMOVED 0x80   /* removed from this table */

struct ss_ct_entry {
	uint8_t state;       /* enum ss_ct_estate, CAS only */
	uint8_t init_dir;    /* enum ss_acl_dir of the first packet */
	uint8_t init_side;   /* 0: endpoint a sent the first packet, 1: b */
	uint8_t tcp;         /* SS_CT_* bits, atomic or */
	uint32_t eni;
	uint32_t acl_gen;    /* ENI's ACL generation the flow was checked at */
	uint32_t seq;        /* incarnation: +1 each time the position opens a flow */
	uint64_t last_seen;  /* ticks */
	uint64_t fin_at;     /* ticks when both FINs were seen, 0: not yet */
	/* Flow records (docs/ipfix.md): what the flow carried since `start`,
	 * per sending endpoint (0: a, 1: b). Workers add with relaxed atomic
	 * adds (ss_ct_count, same line as last_seen); whoever reports them
	 * (the remover at the end, the control thread's sweep on active
	 * timeout) takes them with atomic exchanges and, for an active-timeout
	 * record, moves `start` to the time of that record. The tenant IP
	 * packet's bytes (IP header and payload). 32-bit packet counts: the
	 * sweep reports a flow early when one passes 2^31. */
	uint64_t start;      /* ticks: first packet, or the last active-timeout record */
	uint64_t bytes[2];
	uint32_t pkts[2];
};

/* Why a flow record was made: the IPFIX flowEndReason values (RFC 5102
 * section 5.11.3, IE 136). */
enum ss_ct_end_reason {
	SS_CT_END_IDLE = 1,       /* idle timeout */
	SS_CT_END_ACTIVE = 2,     /* active timeout (the flow goes on) */
	SS_CT_END_EOF = 3,        /* end of flow detected: TCP RST, FIN timeout */
	SS_CT_END_FORCED = 4,     /* flush, revocation, ENI deleted */
};

/* A flow record as conntrack hands it to the exporter: one connection, both
 * directions, counters since the previous record of the flow. */
struct ss_ct_record {
	struct ss_ct_key key;
	uint64_t start, end;      /* ticks: first and last packet */
	uint64_t bytes[2];        /* sent by endpoint a (0) and b (1) */
	uint32_t pkts[2];
	uint8_t init_side;        /* the endpoint that opened the connection */
	uint8_t init_dir;         /* its direction (enum ss_acl_dir) */
	uint8_t reason;           /* enum ss_ct_end_reason */
	uint8_t pad[5];
};

/* Where flow records go (an exporter installs it, ss_ct_export_set): a
 * multi-producer ring of struct ss_ct_record that workers and the control
 * thread enqueue to without waiting; a full ring counts `dropped`. */
struct ss_ct_export {
	struct rte_ring *ring;
	uint32_t active_s;        /* active timeout, seconds (0: none) */
	uint64_t dropped;         /* atomic */
	uint64_t enqueued;        /* atomic */
};

/* A table of keys with a state-first entry per position (flows, fragments). */
struct ss_ct_lfh {
	struct rte_hash *h;
	uint8_t *ent;              /* entry of position p at ent + p * esize */
	uint32_t esize;
	uint32_t nb_pos;           /* positions: rte_hash_max_key_id() + 1 */
	struct rte_rcu_qsbr_dq *dq;
	struct rte_rcu_qsbr *qsbr; /* NULL: positions freed at once (no readers) */
	bool hold;                 /* being migrated: removed positions are not
				    * reused (the table is freed whole after) */
	uint32_t sweep;            /* control thread: next position to sweep */
	struct ss_ct_defer *defer; /* flows with RCU: one per worker (nb_defer), else NULL */
	unsigned int nb_defer;
};

/* A worker's removed flow positions, handed to the table's deferred queue
 * as one entry per batch (ct_table.c) instead of one per removal. A batch
 * is the worker's to fill until it is queued (`busy` from then until the
 * queue gives its positions back, on whichever thread reclaims). */
#define SS_CT_BATCH_POS 64         /* a policy chunk's packets */
#define SS_CT_BATCHES 128          /* per worker */
#define SS_CT_BATCH_BIT 0x80000000u /* a queue entry naming a batch, not a position */

struct ss_ct_batch {
	uint32_t busy;             /* atomic: queued, not given back yet */
	uint32_t n;
	uint32_t pos[SS_CT_BATCH_POS];
};

struct ss_ct_defer {
	struct ss_ct_batch b[SS_CT_BATCHES];
	uint32_t cur;              /* the batch being filled, or SS_CT_BATCHES: none */
	uint32_t next;             /* the one to fill next */
} __rte_cache_aligned;

/* Non-first IPv4/IPv6 fragments follow their first fragment (SPEC 3.6):
 * (ENI, direction, addresses, protocol, fragment id) -> ports. */
struct ss_ct_frag_key {
	uint32_t eni;
	uint32_t id;
	uint8_t proto;
	uint8_t v6;
	uint8_t dir;
	uint8_t pad0;
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t pad1;
};

struct ss_ct_frag {
	uint8_t state;
	uint8_t pad;
	uint16_t sport, dport;
	uint16_t seq;        /* incarnation, as in ss_ct_entry */
	uint64_t expires;    /* ticks */
};

#define SS_CT_FRAG_MS 3000

/* Counters, one row per worker plus one for the control thread (row
 * nb_workers); each row is written by its thread only. */
struct ss_ct_counters {
	uint64_t created;
	uint64_t table_full;     /* allowed new connections not tracked */
	uint64_t removed_rst;
	uint64_t removed_fin;
	uint64_t expired;
	uint64_t revoked;        /* re-checked after an ACL change and denied */
	uint64_t rechecked;
	uint64_t flushed;
	uint64_t frag_tracked;
	uint64_t frag_no_first;
	uint64_t icmp_related;   /* ICMP errors passed because of their flow */
} __rte_cache_aligned;

struct ss_ct_conf {
	uint32_t max_flows;
	uint64_t idle_ticks;
	uint64_t fin_ticks;
};

struct ss_ct {
	struct ss_ct_lfh flows;
	struct ss_ct_lfh frags;
	struct ss_ct_xform *xf;    /* flow cache: slot of position p at xf[p] (ct_xform.h) */
	uint32_t capacity;         /* flows the table holds */
	struct ss_ct_conf conf;    /* ctlplane: rw (atomic stores), dataplane: ro */
	uint64_t tick_hz;
	int64_t nb_flows;          /* atomic */
	uint32_t nb_eni;           /* ENI indexes 0..nb_eni-1 are counted */
	unsigned int nb_workers;
	struct ss_ct_counters *cnt; /* nb_workers + 1 rows */
	bool own_cnt;
	/* Per-ENI live-flow gauges: the count of row r (worker r, control
	 * nb_workers) for ENI e is the int64_t at gauge[r] + e * gauge_stride
	 * bytes. Rows may share storage (sswitchd: the overlay's per-worker ENI
	 * counters, the control thread adding to worker 0's), so every update
	 * is an atomic add; the count is the sum over distinct rows. */
	uint8_t *gauge[SS_CT_MAX_ROWS];
	size_t gauge_stride;
	int64_t *own_gauge;
};

/* Verdicts of ss_ct_policy_burst. */
enum ss_ct_verdict { SS_CT_PASS = 0, SS_CT_DROP_ACL, SS_CT_DROP_FRAG };

/* ---- HA flow events (pipelines/ha, docs/ha.md) ---------------------------------
 * While an HA channel is configured, every flow pair's creation, TCP state
 * change (a side's first FIN) and removal is put on the channel's ring,
 * by whichever thread made it (workers, the control thread's sweep and
 * flush), without waiting: a full ring counts `dropped` and the channel
 * answers with a bulk resync. */
enum ss_ct_event_type { SS_CT_EV_CREATE = 1, SS_CT_EV_UPDATE, SS_CT_EV_REMOVE };

struct ss_ct_event {
	struct ss_ct_key key;
	uint64_t tsc;        /* when it happened (rte_rdtsc: one clock for every core) */
	uint8_t type;        /* enum ss_ct_event_type */
	uint8_t init_dir;
	uint8_t init_side;
	uint8_t tcp;         /* SS_CT_FIN_A | SS_CT_FIN_B | SS_CT_SYN_SEEN */
	uint32_t pad;
};

struct ss_ct_sync {
	struct rte_ring *ring;   /* multi-producer, of struct ss_ct_event */
	uint64_t dropped;        /* atomic: events refused by the full ring */
	uint64_t enqueued;       /* atomic */
};

/* A flow's state as the HA channel reads and installs it (ss_ct_sync_*). */
struct ss_ct_flow_state {
	uint32_t eni;
	uint8_t init_dir, init_side, tcp;
	uint64_t last_seen;  /* ticks */
	uint64_t fin_at;     /* ticks, 0: no FIN from both sides */
	uint32_t acl_gen;
};

#endif
