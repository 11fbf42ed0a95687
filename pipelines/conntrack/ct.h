/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Connection tracking (SPEC section 3.6) and the policy stage that puts it
 * in front of the ACLs.
 *
 * ss_ct_policy_burst() is the whole policy stage for a burst of one
 * direction: flow lookup, ACL evaluation of what no live flow covers
 * (misses, and flows whose ENI's ACL generation moved: re-checked against
 * the new rules, revoked when denied), flow creation, TCP state, fragment
 * and ICMP-error following. The graph nodes (policy_out, policy_in) wrap it;
 * the unit tests call it directly with a fake clock.
 *
 * Threads: ss_ct_policy_burst on workers (and the tests' thread). Everything
 * else on the control thread, which must be an EAL lcore (the hash's free
 * slot caches are per lcore).
 */
#ifndef SS_CT_H
#define SS_CT_H

#include <stdbool.h>
#include <stddef.h>

#include "pipelines/acl/acl.h"
#include "pipelines/conntrack/ct-t.h"
#include "pipelines/parse/parse.h"

/* One packet for the policy stage: the frame and the parsed layer of the
 * tenant packet (the inner one for VXLAN), and its ENI. */
struct ss_ct_pkt {
	const uint8_t *data;
	const struct ss_layer *l;
	uint32_t eni;
};

/* Extraction result (exposed for the tests). */
enum ss_ct_kind {
	SS_CT_K_OTHER = 0,    /* not IPv4/IPv6: no policy applies */
	SS_CT_K_NORMAL,
	SS_CT_K_ICMP_ERR,     /* `emb` is the flow key of the embedded packet */
	SS_CT_K_NONFIRST,     /* non-first fragment: ports come from `frag` */
};

struct ss_ct_info {
	struct ss_ct_key key;     /* the packet's flow (a miss: its classifier key too) */
	struct ss_ct_key emb;     /* SS_CT_K_ICMP_ERR */
	struct ss_ct_frag_key frag; /* fragments (first and later) */
	uint8_t kind;
	uint8_t side;             /* 0: source is endpoint a */
	uint8_t emb_side;
	uint8_t tcp_flags;        /* TCP header flags, 0 otherwise */
	uint8_t first_frag;       /* a first fragment: record its ports */
	uint8_t can_create;
	uint16_t ip_len;          /* the tenant IP packet's length (flow records) */
};

/* Fill `out` for a packet of direction `dir`. Reads only inside the
 * packet as the layer delimits it. */
void ss_ct_extract(const struct ss_ct_pkt *p, unsigned int dir, struct ss_ct_info *out);

/* A non-first fragment's flow ports (as its first fragment recorded them)
 * complete its key. */
void ss_ct_extract_ports(struct ss_ct_info *out, uint16_t sport, uint16_t dport);

/* The classifier key of the packet a flow key describes, sent by endpoint
 * `side` (0: a): addresses, protocol, and the ports for TCP and UDP only
 * (0 for every other protocol, as the ACL rules see them). */
void ss_ct_acl_key(const struct ss_ct_key *k, uint8_t side, struct ss_acl_key *a);

/* Canonical key from a source/destination (v6: 16-byte addresses, else 4)
 * and ports; returns the side of the source (0: a). */
uint8_t ss_ct_key_make(struct ss_ct_key *k, uint32_t eni, uint8_t proto, int v6,
		       const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport);

/* ---- table (control thread) -------------------------------------------------- */

/* A table for `capacity` flows and `frag_capacity` fragment trains. nb_eni
 * bounds the per-ENI flow counters. qsbr: the workers' RCU variable (NULL:
 * no concurrent reader, positions are freed at once). tick_hz: units of the
 * `now` arguments per second. NULL with errno. */
struct ss_ct *ss_ct_create(const char *name, uint32_t capacity, uint32_t frag_capacity,
			   uint32_t nb_eni, unsigned int nb_workers, struct rte_rcu_qsbr *qsbr,
			   uint64_t tick_hz);
/* Use `cnt` (nb_workers + 1 rows, owned by the caller, kept across tables)
 * for the counters, and `rows` (nb_workers + 1 bases, stride in bytes) for
 * the per-ENI gauges, instead of the table's own. Before any packet. */
void ss_ct_share(struct ss_ct *ct, struct ss_ct_counters *cnt, int64_t *const *rows,
		 size_t stride);
void ss_ct_free(struct ss_ct *ct);
/* Apply flow.config (max_flows may exceed the capacity: the excess is
 * reported as flow_table_full until the table is rebuilt larger). */
void ss_ct_configure(struct ss_ct *ct, uint32_t max_flows, uint32_t idle_timeout_ms,
		     uint32_t tcp_fin_timeout_ms);
/* Growth: copy the live flows of `from` into the larger `to`. Call once
 * while the workers still use `from` (its positions are then never reused,
 * so the control thread reads them safely), publish `to`, wait for a grace
 * period, call again for the flows `from` gained meanwhile, free `from`.
 * The per-ENI gauges stay exact: a flow copied and then removed from
 * `from` is not subtracted, a flow `to` opened by itself meanwhile, or
 * that did not fit, is. Returns the number copied. */
uint32_t ss_ct_migrate(struct ss_ct *to, struct ss_ct *from);

/* Scan up to `budget` positions of each table from where the last call
 * stopped: remove expired flows (idle, or FIN from both sides past the
 * timeout) and fragment entries, and hand freed positions back after their
 * grace period. `row` is the counter row (nb_workers: control thread). */
void ss_ct_sweep(struct ss_ct *ct, uint64_t now, uint32_t budget, unsigned int row);
/* Remove the live flows of ENI `eni` (UINT32_MAX: all) for which keep()
 * returns false (keep NULL: all of them). Returns how many. */
uint32_t ss_ct_flush(struct ss_ct *ct, uint32_t eni, bool (*keep)(void *arg,
		     const struct ss_ct_entry *e), void *arg, unsigned int row);

/* Remove the live flow of key `k` (canonical, ss_ct_key_make), if any;
 * true when this call removed it (counted as flushed). Control thread. */
bool ss_ct_remove_key(struct ss_ct *ct, const struct ss_ct_key *k, unsigned int row);

/* A live flow as flow.list reports it: the initiator's view. */
struct ss_ct_flow_info {
	uint32_t eni;
	uint8_t proto, v6, dir, tcp;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint64_t idle_ticks;
	uint64_t fin_age_ticks;   /* 0: no FIN pair yet */
	uint32_t acl_gen;
};
/* Calls fn for up to `limit` live flows (eni UINT32_MAX: all ENIs); stops
 * when fn returns non-zero. Returns the number reported. */
uint32_t ss_ct_list(const struct ss_ct *ct, uint32_t eni, uint32_t limit, uint64_t now,
		    int (*fn)(void *arg, const struct ss_ct_flow_info *f), void *arg);

/* Flow records (docs/ipfix.md): install `x` (NULL: none) as the place
 * every table sends its records to: each flow's end (RST, FIN, idle,
 * revocation, flush) and, from ss_ct_sweep, every x->active_s for flows
 * that live longer. Control thread; `x` and its ring must outlive every
 * worker walk that may have read the previous value (keep them for the
 * process's lifetime). */
void ss_ct_export_set(struct ss_ct_export *x);
struct ss_ct_export *ss_ct_export_get(void);

/* Live flows of an ENI (sum of the gauge rows). */
int64_t ss_ct_eni_flows(const struct ss_ct *ct, uint32_t eni);

/* Sum of a counter over every row. */
uint64_t ss_ct_counter(const struct ss_ct *ct, size_t offset);
#define SS_CT_COUNTER(ct, field) ss_ct_counter((ct), offsetof(struct ss_ct_counters, field))

/* ---- lookup only (workers) ---------------------------------------------------
 * For a stage that must know whether a packet belongs to a connection
 * before the policy stage sees it (Private Link's return path,
 * pipelines/privatelink/node_pl_in.c). It creates, updates and removes
 * nothing: the packet then goes through the policy stage as usual. */

/* The live flow `k` (ss_ct_extract of the packet) if a packet sent by
 * endpoint `side` in direction `dir` (enum ss_acl_dir) travels it the way
 * the flow says (the initiator in the initiating direction, or the
 * responder in the other one) and the flow is not expired at `now`:
 * returns the direction the flow was opened in (enum ss_acl_dir), else
 * -ENOENT (also with ct NULL). */
int ss_ct_lookup_live(const struct ss_ct *ct, const struct ss_ct_key *k, uint8_t side,
		      unsigned int dir, uint64_t now);

/* ---- the policy stage (workers) ---------------------------------------------- */

/* n <= SS_CT_BURST_MAX packets of direction dir (enum ss_acl_dir); verdict[i]
 * is an enum ss_ct_verdict. `worker` selects the ACL hit and counter rows. */
#define SS_CT_BURST_MAX 256
void ss_ct_policy_burst(struct ss_ct *ct, const struct ss_acl_state *acl, unsigned int worker,
			unsigned int dir, const struct ss_ct_pkt *p, uint32_t n, uint64_t now,
			uint8_t *verdict);

/* The flow a passed packet belongs to, for the flow cache (ct_xform.h):
 * pos < 0 when it has none worth caching for (no flow, not tracked, an
 * ICMP error, a fragment, a TCP RST); otherwise its position (slot
 * ct->xf[pos]) and the slot owner stamp of the packet's side. */
struct ss_ct_ref {
	int32_t pos;
	uint32_t owner;
	/* dropped acl_deny by the ACL stages as a packet of no flow (not a
	 * revocation): deny is 1, acl_gen the ENI's ACL generation in the
	 * state the classification read, dec the rules that decided (the flow
	 * fast path caches such a verdict, ct_emc.h) */
	uint8_t deny;
	uint32_t acl_gen;
	struct ss_acl_decided dec;
};

/* ss_ct_policy_burst, and ref[i] for every packet (ref NULL: as above). */
void ss_ct_policy_burst_ref(struct ss_ct *ct, const struct ss_acl_state *acl,
			    unsigned int worker, unsigned int dir, const struct ss_ct_pkt *p,
			    uint32_t n, uint64_t now, uint8_t *verdict, struct ss_ct_ref *ref);

/* ---- HA (pipelines/ha, docs/ha.md): flow events, installing synced flows ---------- */

/* The published flow table (ct_feature.c; NULL before the first commit). */
struct ss_ct *ss_ct_current(void);

/* Install `s` (NULL: none) as the sink of every table's flow events.
 * Control thread; `s` and its ring outlive every worker walk that may have
 * read the previous value (keep them for the process's lifetime). */
void ss_ct_sync_set(struct ss_ct_sync *s);
struct ss_ct_sync *ss_ct_sync_get(void);
/* A standby creates no flow: while held, the policy stage opens no new
 * flow (a packet it would open one for passes untracked; the HA stage in
 * front of it has already dropped such packets on a standby). */
void ss_ct_create_hold(bool hold);
bool ss_ct_create_held(void);
/* Install (or refresh) the flow `k` with the state `st` (control thread):
 * a new flow gets it whole; a live one takes the later last_seen, the
 * union of the TCP bits and a FIN time it lacked. 0, -ENOSPC (max_flows,
 * or the table), -EBUSY (the key is being created or removed). */
int ss_ct_sync_install(struct ss_ct *ct, const struct ss_ct_key *k,
		       const struct ss_ct_flow_state *st);
/* Remove the live flow `k` (control thread). 0, or -ENOENT. */
int ss_ct_sync_remove(struct ss_ct *ct, const struct ss_ct_key *k);
/* Visit the live flows at positions *cursor.. (at most `budget`
 * positions), calling fn with each flow's key and state; *cursor moves on.
 * Returns true once the last position was visited. */
bool ss_ct_sync_walk(const struct ss_ct *ct, uint32_t *cursor, uint32_t budget,
		     void (*fn)(void *arg, const struct ss_ct_key *k,
				const struct ss_ct_flow_state *st),
		     void *arg);
/* live[i] = 1 when keys[i] has a live flow, for n <= 64 keys (workers). */
void ss_ct_live_bulk(const struct ss_ct *ct, const struct ss_ct_key **keys, uint32_t n,
		     uint8_t *live);

#endif
