/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the HA channel (pipelines/ha, docs/ha.md) needs of the flow table:
 * flow events handed to its ring (ss_ct_sync_note in ct_int.h calls the
 * emitter below at the three places a flow pair is created, changes TCP
 * state, or is removed), the hold on flow creation of a standby, and the
 * control thread's side of a sync: reading the live flows in slices,
 * installing a synced flow with the state it had on the active, removing
 * one. The concurrency rules are ct-t.h's: an installed flow is opened
 * like a worker opens one (FREE -> INIT -> LIVE by CAS), a removal claims
 * it like the sweep does (by incarnation).
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_ring_elem.h>

#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_int.h"

struct ss_ct_sync *ss_ct_sync_hook;   /* ctlplane: rw, dataplane: ro */
bool ss_ct_no_create;                 /* ctlplane: rw, dataplane: ro */

void ss_ct_sync_set(struct ss_ct_sync *s)
{
	__atomic_store_n(&ss_ct_sync_hook, s, __ATOMIC_RELEASE);
}

struct ss_ct_sync *ss_ct_sync_get(void)
{
	return __atomic_load_n(&ss_ct_sync_hook, __ATOMIC_ACQUIRE);
}

void ss_ct_create_hold(bool hold)
{
	__atomic_store_n(&ss_ct_no_create, hold, __ATOMIC_RELEASE);
}

bool ss_ct_create_held(void)
{
	return __atomic_load_n(&ss_ct_no_create, __ATOMIC_ACQUIRE);
}

void ss_ct_sync_emit(struct ss_ct_sync *s, struct ss_ct *ct, uint8_t type, uint32_t pos,
		     const void *key)
{
	const struct ss_ct_entry *e = ss_ct_entry_at(ct, pos);
	struct ss_ct_event ev;
	void *kp;

	if (key == NULL) {
		if (rte_hash_get_key_with_position(ct->flows.h, (int32_t)pos, &kp) != 0)
			return;
		key = kp;
	}
	memcpy(&ev.key, key, sizeof(ev.key));
	ev.tsc = rte_rdtsc();
	ev.type = type;
	ev.init_dir = e->init_dir;
	ev.init_side = e->init_side;
	ev.tcp = __atomic_load_n(&e->tcp, __ATOMIC_RELAXED) & (SS_CT_FIN_A | SS_CT_FIN_B |
							       SS_CT_SYN_SEEN);
	ev.pad = 0;
	if (rte_ring_mp_enqueue_elem(s->ring, &ev, sizeof(ev)) != 0)
		__atomic_fetch_add(&s->dropped, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&s->enqueued, 1, __ATOMIC_RELAXED);
}

int ss_ct_sync_install(struct ss_ct *ct, const struct ss_ct_key *k,
		       const struct ss_ct_flow_state *st)
{
	unsigned int row = ct->nb_workers;
	struct ss_ct_entry *e;
	uint8_t exp = SS_CT_FREE;
	int32_t pos = rte_hash_lookup(ct->flows.h, k);

	if (pos < 0) {
		int64_t nb = __atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED);

		/* a full cuckoo hash refuses an insert only after a long
		 * search: the table's own capacity is the bound too */
		if (nb >= (int64_t)__atomic_load_n(&ct->conf.max_flows, __ATOMIC_RELAXED) ||
		    nb >= (int64_t)ct->capacity)
			return -ENOSPC;
		pos = rte_hash_add_key(ct->flows.h, k);
		if (pos < 0)
			return -ENOSPC;
	}
	e = ss_ct_entry_at(ct, (uint32_t)pos);
	if (__atomic_compare_exchange_n(&e->state, &exp, SS_CT_INIT, false, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED)) {
		e->init_dir = st->init_dir;
		e->init_side = st->init_side;
		e->tcp = st->tcp & (SS_CT_FIN_A | SS_CT_FIN_B | SS_CT_SYN_SEEN);
		e->eni = st->eni;
		e->acl_gen = st->acl_gen;
		e->last_seen = st->last_seen;
		e->fin_at = st->fin_at;
		/* flow records count what this switch forwards from now on */
		e->start = st->last_seen;
		e->pkts[0] = e->pkts[1] = 0;
		e->bytes[0] = e->bytes[1] = 0;
		e->seq++;
		__atomic_store_n(&e->state, SS_CT_LIVE, __ATOMIC_RELEASE);
		__atomic_fetch_add(&ct->nb_flows, 1, __ATOMIC_RELAXED);
		ss_ct_gauge_add(ct, row, e->eni, 1);
		return 0;
	}
	if (exp != SS_CT_LIVE)
		return -EBUSY;
	if ((int64_t)(st->last_seen - __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED)) > 0)
		__atomic_store_n(&e->last_seen, st->last_seen, __ATOMIC_RELAXED);
	__atomic_fetch_or(&e->tcp, st->tcp & (SS_CT_FIN_A | SS_CT_FIN_B | SS_CT_SYN_SEEN),
			  __ATOMIC_RELAXED);
	if (st->fin_at != 0 && __atomic_load_n(&e->fin_at, __ATOMIC_RELAXED) == 0)
		__atomic_store_n(&e->fin_at, st->fin_at, __ATOMIC_RELAXED);
	return 0;
}

int ss_ct_sync_remove(struct ss_ct *ct, const struct ss_ct_key *k)
{
	int32_t pos = rte_hash_lookup(ct->flows.h, k);
	struct ss_ct_entry *e;
	uint32_t seq;

	if (pos < 0)
		return -ENOENT;
	e = ss_ct_entry_at(ct, (uint32_t)pos);
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
		return -ENOENT;
	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	return ss_ct_flow_end_seq(ct, (uint32_t)pos, ct->nb_workers, seq, SS_CT_END_FORCED)
		       ? 0 : -ENOENT;
}

bool ss_ct_sync_walk(const struct ss_ct *ct, uint32_t *cursor, uint32_t budget,
		     void (*fn)(void *arg, const struct ss_ct_key *k,
				const struct ss_ct_flow_state *st),
		     void *arg)
{
	uint32_t pos = *cursor;

	for (uint32_t n = 0; pos < ct->flows.nb_pos && n < budget; pos++, n++) {
		const struct ss_ct_entry *e = ss_ct_entry_at((struct ss_ct *)ct, pos);
		struct ss_ct_flow_state st;
		struct ss_ct_key key;
		uint32_t seq;
		void *kp;

		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
			continue;
		seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (rte_hash_get_key_with_position(ct->flows.h, (int32_t)pos, &kp) != 0)
			continue;
		memcpy(&key, kp, sizeof(key));
		st.eni = e->eni;
		st.init_dir = e->init_dir;
		st.init_side = e->init_side;
		st.tcp = __atomic_load_n(&e->tcp, __ATOMIC_RELAXED) &
			 (SS_CT_FIN_A | SS_CT_FIN_B | SS_CT_SYN_SEEN);
		st.last_seen = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
		st.fin_at = __atomic_load_n(&e->fin_at, __ATOMIC_RELAXED);
		st.acl_gen = __atomic_load_n(&e->acl_gen, __ATOMIC_RELAXED);
		/* the control thread is no RCU reader: the position may have
		 * been reused while it was read; then what was read is not
		 * one flow's (the new flow's own create event follows) */
		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE ||
		    __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) != seq)
			continue;
		fn(arg, &key, &st);
	}
	*cursor = pos;
	return pos >= ct->flows.nb_pos;
}

void ss_ct_live_bulk(const struct ss_ct *ct, const struct ss_ct_key **keys, uint32_t n,
		     uint8_t *live)
{
	int32_t pos[RTE_HASH_LOOKUP_BULK_MAX];

	if (n == 0)
		return;
	rte_hash_lookup_bulk(ct->flows.h, (const void **)keys, n, pos);
	for (uint32_t i = 0; i < n; i++)
		live[i] = pos[i] >= 0 &&
			  __atomic_load_n(&ss_ct_entry_at((struct ss_ct *)ct, (uint32_t)pos[i])->state,
					  __ATOMIC_ACQUIRE) == SS_CT_LIVE;
}
