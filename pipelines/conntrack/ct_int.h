/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Conntrack internals shared by ct_table.c and ct_policy.c.
 */
#ifndef SS_CT_INT_H
#define SS_CT_INT_H

#include <stdbool.h>

#include "pipelines/conntrack/ct-t.h"

static inline struct ss_ct_entry *ss_ct_entry_at(struct ss_ct *ct, uint32_t pos)
{
	return (struct ss_ct_entry *)(ct->flows.ent + (size_t)pos * sizeof(struct ss_ct_entry));
}

static inline struct ss_ct_frag *ss_ct_frag_at(struct ss_ct *ct, uint32_t pos)
{
	return (struct ss_ct_frag *)(ct->frags.ent + (size_t)pos * sizeof(struct ss_ct_frag));
}

enum { SS_CT_EXP_NO = 0, SS_CT_EXP_IDLE, SS_CT_EXP_FIN };

/* Why a live flow is over at `now` (signed differences: another core's
 * clock may be a little ahead). */
static inline int ss_ct_expired(const struct ss_ct *ct, const struct ss_ct_entry *e, uint64_t now)
{
	uint64_t fin_at = __atomic_load_n(&e->fin_at, __ATOMIC_RELAXED);

	if (fin_at != 0 && (int64_t)(now - fin_at) >=
				   (int64_t)__atomic_load_n(&ct->conf.fin_ticks, __ATOMIC_RELAXED))
		return SS_CT_EXP_FIN;
	if ((int64_t)(now - __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED)) >
	    (int64_t)__atomic_load_n(&ct->conf.idle_ticks, __ATOMIC_RELAXED))
		return SS_CT_EXP_IDLE;
	return SS_CT_EXP_NO;
}

static inline void ss_ct_gauge_add(struct ss_ct *ct, unsigned int row, uint32_t eni,
				   int64_t delta)
{
	if (eni < ct->nb_eni)
		__atomic_fetch_add((int64_t *)(ct->gauge[row] + (size_t)eni * ct->gauge_stride),
				   delta, __ATOMIC_RELAXED);
}

/* The flow-record exporter (ss_ct_export_set), read per packet. */
extern struct ss_ct_export *ss_ct_export_cur;

/* A packet of `ip_len` bytes sent by endpoint `side` passed by the flow
 * (flow records). Relaxed atomic adds: two workers may count one flow.
 * Only while an exporter is installed: nothing else reads these counters,
 * and the two locked adds are a tenth of a fast-path hit's cycles (so a
 * flow's first record after `ipfix` is switched on counts from then). */
static inline void ss_ct_count(struct ss_ct_entry *e, uint8_t side, uint16_t ip_len)
{
	if (__atomic_load_n(&ss_ct_export_cur, __ATOMIC_RELAXED) == NULL)
		return;
	__atomic_fetch_add(&e->pkts[side & 1], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->bytes[side & 1], ip_len, __ATOMIC_RELAXED);
}

/* A new flow's record counters: its first packet. Before the flow is LIVE. */
static inline void ss_ct_count_first(struct ss_ct_entry *e, uint8_t side, uint16_t ip_len,
				     uint64_t now)
{
	e->start = now;
	e->pkts[side & 1] = 1;
	e->pkts[!(side & 1)] = 0;
	e->bytes[side & 1] = ip_len;
	e->bytes[!(side & 1)] = 0;
}

/* Claim and delete the key at `pos` of a table; true for the one caller
 * that removed it. `key` and `sig` (the key and its hash, when the caller
 * has them) spare reading the key store and hashing again; key NULL: read
 * from the position. */
bool ss_ct_lfh_remove(struct ss_ct_lfh *t, uint32_t pos, const void *key, uint32_t sig);
/* Queue worker `row`'s open batch of removed flow positions (ct_table.c;
 * one deferred-queue entry for the batch). A worker that ends flows with
 * ss_ct_flow_end closes its batch before its next quiescent state
 * (ct_policy.c: at the end of each chunk). */
void ss_ct_defer_close(struct ss_ct_lfh *t, unsigned int row);

static inline bool ss_ct_defer_open(const struct ss_ct *ct, unsigned int row)
{
	return row < ct->flows.nb_defer && ct->flows.defer[row].cur != SS_CT_BATCHES;
}

/* The same for a flow, with its gauge (row: the caller's). */
bool ss_ct_flow_remove(struct ss_ct *ct, uint32_t pos, unsigned int row, const void *key,
		       uint32_t sig);
/* The control thread's removal: it is no RCU reader, so the position it
 * examined may have been freed and given to another flow since; `seq`
 * (read before the examination) must still be the entry's. */
bool ss_ct_flow_remove_seq(struct ss_ct *ct, uint32_t pos, unsigned int row, uint32_t seq);
/* The same, with the reason the flow's record gives (enum ss_ct_end_reason;
 * ss_ct_flow_remove* report SS_CT_END_FORCED). */
bool ss_ct_flow_end(struct ss_ct *ct, uint32_t pos, unsigned int row, const void *key,
		    uint32_t sig, uint8_t reason);
bool ss_ct_flow_end_seq(struct ss_ct *ct, uint32_t pos, unsigned int row, uint32_t seq,
			uint8_t reason);

static inline unsigned int ss_ct_row(const struct ss_ct *ct, unsigned int worker)
{
	return worker < ct->nb_workers ? worker : ct->nb_workers;
}

/* HA flow events (ct_sync.c): one call per event where it happens; a NULL
 * check while no channel is configured. key NULL: read from the position
 * (the caller owns the entry: it is creating it, or claimed it). */
extern struct ss_ct_sync *ss_ct_sync_hook;
extern bool ss_ct_no_create;
void ss_ct_sync_emit(struct ss_ct_sync *s, struct ss_ct *ct, uint8_t type, uint32_t pos,
		     const void *key);

static inline void ss_ct_sync_note(struct ss_ct *ct, uint8_t type, uint32_t pos,
				   const void *key)
{
	struct ss_ct_sync *s = __atomic_load_n(&ss_ct_sync_hook, __ATOMIC_ACQUIRE);

	if (unlikely(s != NULL))
		ss_ct_sync_emit(s, ct, type, pos, key);
}

#endif
