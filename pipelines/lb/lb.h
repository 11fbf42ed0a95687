/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's data-plane state (SPEC 3.9, docs/lb.md).
 *
 * Concurrency rules
 * -----------------
 * 1. The LB state (struct ss_lb_state: the VIPs, their backends and Maglev
 *    tables, the per-ENI "has an LB" bytes) is immutable once published.
 *    The control thread builds a new one aside (a transaction's prepare, or
 *    the weight timer in the main loop), publishes it with one release store
 *    and frees the old one after an RCU grace period of the workers. Workers
 *    load it once per burst (acquire) and hold nothing across graph walks.
 * 2. Sessions (lb_sess.c) are shared by every worker: two rte_hash tables
 *    with lock-free readers (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
 *    MULTI_WRITER_ADD, as conntrack's flow table): `fwd` keyed by (ENI,
 *    protocol, the 5-tuple as the VM sent it), whose key position indexes
 *    struct ss_lb_sess, and `rev` keyed by (ENI, protocol, the backend's
 *    reply 5-tuple), whose position indexes the fwd position. A worker
 *    creates a session on the first packet of a connection (CAS FREE ->
 *    INIT, fill, LIVE with release); only the control thread removes them
 *    (CAS LIVE -> DEAD, keys deleted, positions handed back after a grace
 *    period through an rte_rcu_qsbr defer queue). Readers treat anything
 *    but LIVE as absent. `last_seen` is a plain word written with relaxed
 *    stores by whichever worker saw the connection last.
 * 3. Counters: per worker, per backend slot (ss_lb_ctr[w][slot]), written
 *    by that worker only, summed by the control thread. A slot belongs to
 *    one backend from its creation to its deletion; a deleted backend's
 *    slot is reused only after its sessions are gone (lb_table.c).
 */
#ifndef SS_LB_H
#define SS_LB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/worker-t.h"
#include "pipelines/lb/lb_maglev.h"
#include "pipelines/lb/lb_types.h"

#define SS_LB_NODE_OUT "lb_out"
#define SS_LB_NODE_IN "lb_in"
#define SS_LB_SLOTS SS_LB_MAX_BACKENDS   /* one per backend (lb.backend's capacity) */
#define SS_LB_SESSIONS (1u << 18)   /* connections tracked at once */

struct ss_lb_be {
	uint8_t ip[16];                /* IPv4 in the first 4 bytes */
	uint32_t slot;                 /* counters */
};

struct ss_lb_vip {
	uint16_t vnet;                 /* VNET index */
	uint8_t fam;                   /* 4 or 6 */
	uint8_t proto;                 /* IPPROTO_TCP / IPPROTO_UDP */
	uint16_t port;                 /* host order */
	uint16_t backend_port;         /* host order */
	uint8_t vip[16];
	uint32_t m;                    /* table size */
	const uint16_t *table;         /* m entries, index in be[]; NULL: no active backend */
	uint32_t nb;
	const struct ss_lb_be *be;
};

struct ss_lb_state {
	uint32_t n_eni;
	const uint8_t *eni_on;         /* [ENI index]: its VNET has an LB */
	uint32_t n_lb;
	const struct ss_lb_vip *lb;
};

/* dataplane: ro (acquire); ctlplane: rw (publish) */
extern struct ss_lb_state *ss_lb_published;

static inline const struct ss_lb_state *ss_lb_state_get(void)
{
	return __atomic_load_n(&ss_lb_published, __ATOMIC_ACQUIRE);
}

static inline bool ss_lb_eni_on(const struct ss_lb_state *st, uint32_t eni)
{
	return eni < st->n_eni && st->eni_on[eni];
}

/* The LB of (vnet, family, address, protocol, port), NULL if none (few:
 * a scan). */
static inline const struct ss_lb_vip *ss_lb_find(const struct ss_lb_state *st, uint16_t vnet,
						  uint8_t fam, const uint8_t *ip, uint8_t proto,
						  uint16_t port)
{
	for (uint32_t i = 0; i < st->n_lb; i++) {
		const struct ss_lb_vip *v = &st->lb[i];

		if (v->vnet == vnet && v->fam == fam && v->proto == proto && v->port == port &&
		    memcmp(v->vip, ip, fam == 4 ? 4 : 16) == 0)
			return v;
	}
	return NULL;
}

struct rte_rcu_qsbr;

/* ---- sessions (lb_sess.c) ------------------------------------------------------- */

/* 48 bytes (rte_hash compares 48-byte keys fast). */
struct ss_lb_skey {
	uint32_t eni;
	uint8_t proto;
	uint8_t fam;
	uint8_t rev;                   /* 0: the VM's packet, 1: the backend's reply */
	uint8_t pad0;
	uint16_t sport, dport;         /* host order */
	uint8_t src[16], dst[16];
	uint32_t pad1;
} __rte_aligned(8);   /* rte_hash reads keys in 8-byte words */
_Static_assert(sizeof(struct ss_lb_skey) == 48, "session key size");

enum ss_lb_sstate { SS_LB_S_FREE = 0, SS_LB_S_INIT, SS_LB_S_LIVE, SS_LB_S_DEAD };

struct ss_lb_sess {
	uint8_t state;                 /* enum ss_lb_sstate, CAS only */
	uint8_t fam;
	uint16_t vport;                /* the VIP's port, host order */
	uint16_t bport;                /* the backend's port, host order */
	uint16_t pad;
	uint32_t slot;                 /* the backend's counter slot */
	int32_t rpos;                  /* position in rev, -1: none */
	uint8_t vip[16];
	uint8_t bip[16];
	uint64_t last_seen;            /* tsc, relaxed */
};

/* The session of a VM's packet (key with rev 0), NULL if none live. */
const struct ss_lb_sess *ss_lb_sess_find(const struct ss_lb_skey *k);
/* ss_lb_sess_find for n keys at once (bulk lookups of up to 64),
 * out[i] for keys[i]. */
void ss_lb_sess_find_bulk(const void **keys, uint32_t n, const struct ss_lb_sess **out);
/* The session a backend's reply belongs to (key with rev 1). */
const struct ss_lb_sess *ss_lb_sess_find_rev(const struct ss_lb_skey *k);
/* Open the session `k` (rev 0) -> backend `be` of `v`, now `tsc`; returns
 * the session that holds the connection: the new one, one another worker
 * opened meanwhile, or NULL (table full, or a session being created or
 * removed: the packet goes to the picked backend without one). Workers. */
const struct ss_lb_sess *ss_lb_sess_open(const struct ss_lb_skey *k, const struct ss_lb_vip *v,
					  const struct ss_lb_be *be, uint64_t tsc, bool *opened);

static inline void ss_lb_sess_touch(const struct ss_lb_sess *s, uint64_t tsc)
{
	__atomic_store_n(&((struct ss_lb_sess *)(uintptr_t)s)->last_seen, tsc, __ATOMIC_RELAXED);
}

/* Control thread: create / free the tables (qsbr: the workers'; NULL: no
 * concurrent reader). 0 or -errno. */
int ss_lb_sess_setup(uint32_t capacity, struct rte_rcu_qsbr *qsbr);
void ss_lb_sess_teardown(void);
/* Remove the sessions for which drop(arg, s, idle) returns true (idle: the
 * session's idle time in tsc); on_removed(arg, key, s) is called for each
 * before its positions go back. Scans up to `budget` positions from where
 * the last call stopped (UINT32_MAX: all). Returns how many were removed. */
uint32_t ss_lb_sess_sweep(uint64_t now, uint32_t budget,
			  bool (*drop)(void *arg, const struct ss_lb_sess *s, uint64_t idle),
			  void (*on_removed)(void *arg, const struct ss_lb_skey *k,
					     const struct ss_lb_sess *s),
			  void *arg);
/* Live sessions. */
uint32_t ss_lb_sess_count(void);

/* ---- HA sync of sessions (lb_sess.c, lb_table.c; docs/ha.md) ------------------- */

/* A session opened (by a worker) or removed (by the control thread), put on
 * the HA channel's ring without waiting: a full ring counts `dropped` and
 * the channel answers with a bulk resync (as conntrack's flow events). */
enum ss_lb_event_type { SS_LB_EV_OPEN = 1, SS_LB_EV_REMOVE };

struct ss_lb_event {
	struct ss_lb_skey key;         /* the forward key (rev 0) */
	uint8_t bip[16];               /* the backend */
	uint64_t tsc;                  /* when (rte_rdtsc) */
	uint8_t type;                  /* enum ss_lb_event_type */
	uint8_t pad[7];
};

struct ss_lb_sync {
	struct rte_ring *ring;         /* multi-producer, of struct ss_lb_event */
	uint64_t dropped;              /* atomic */
	uint64_t enqueued;             /* atomic */
};

/* The hook (NULL: no events; the HA channel sets it on its active). */
void ss_lb_sync_set(struct ss_lb_sync *s);
/* Control thread: remove the session of forward key k (and its reverse
 * key); 0 or -ENOENT. */
int ss_lb_sess_remove(const struct ss_lb_skey *k);
/* Control thread: remove every session (a standby's bulk sync starts). */
uint32_t ss_lb_sess_flush(void);
/* Control thread: the name of the LB a session with forward key k belongs
 * to (the LB of k's ENI's VNET with k's destination as VIP), NULL if none. */
const char *ss_lb_sess_lb_name(const struct ss_lb_skey *k);
/* Control thread (a standby): install the session k (rev 0) of LB `lb`
 * toward backend `bip`, replacing one toward another backend. 0, or
 * -ENOENT (no LB of that name, or not the LB of k's ENI and VIP), -ESRCH
 * (no such backend in that LB here), -ENOSPC / -EBUSY (the table refused). */
int ss_lb_sess_import(const char *lb, const struct ss_lb_skey *k, const uint8_t *bip);

/* ---- counters ------------------------------------------------------------------- */

struct ss_lb_ctr {
	uint64_t connections;          /* sessions opened toward the backend */
	uint64_t packets;              /* both directions */
	uint64_t bytes;                /* the tenant IP packets */
};

extern struct ss_lb_ctr *ss_lb_ctr[SS_MAX_WORKERS];

static inline void ss_lb_count(unsigned int worker, uint32_t slot, uint32_t bytes)
{
	ss_lb_ctr[worker][slot].packets++;
	ss_lb_ctr[worker][slot].bytes += bytes;
}

/* ---- control thread (lb_table.c) ----------------------------------------------- */

struct ss_ctl;
struct ss_change;
struct json_t;

int ss_lb_setup(uint32_t max_enis, unsigned int nb_workers, char *err, size_t errlen);
void ss_lb_teardown(void);
int ss_lb_prepare(struct ss_ctl *ctl, const struct ss_change *changes, size_t n, char *err,
		  size_t errlen);
void ss_lb_commit(void);
void ss_lb_abort(void);
void ss_lb_reclaim(void);
/* The main loop's turn: expire sessions, recompute effective weights and
 * rebuild the tables whose weights moved (at most once per
 * weight_update_period_ms), free states retired by the timer. */
void ss_lb_poll(void);
uint64_t ss_lb_poll_in_us(void);
/* lb.report: 0, or -ENOENT (no such lb / backend: the message in err). */
int ss_lb_report(const char *lb, const char *ip, double rps, double eps, double cpu,
		 double app, bool *used, char *err, size_t errlen);
/* lb.list / stats: the runtime fields of backend `ip` of `lb` into `out`
 * (effective_weight, entries, connections, packets, bytes,
 * last_report_age_ms); false when the backend is not in the committed
 * state. */
bool ss_lb_backend_runtime(const char *lb, const char *ip, struct json_t *out);
/* health.get: a finding `lb_no_backend` (object "lb NAME") per LB without
 * an active backend. */
void ss_lb_findings(struct json_t *findings);
/* stats.get scope lb: {lb: {backend ip: {connections, packets, bytes}}}. */
struct json_t *ss_lb_stats(void);
void ss_lb_stats_clear(void);

#endif
