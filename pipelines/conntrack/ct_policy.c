/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The policy stage for a burst (SPEC 3.1 steps 4-5, 3.2 step 5, 3.6):
 *
 *   1. extract every packet's keys; a non-first fragment takes the ports
 *      its first fragment recorded, or is dropped `frag_no_first`;
 *   2. one bulk lookup of the flow keys (an ICMP error looks up the flow of
 *      the packet it quotes);
 *   3. a live flow seen in its own orientation passes without the ACLs,
 *      unless its ENI's ACL generation moved: then the connection's first
 *      packet (initiator, initiating direction) is re-classified;
 *      an expired flow is removed first and the packet is a miss;
 *   4. one ACL evaluation for all misses and re-checks of the burst;
 *   5. misses allowed and able to open a connection create a flow (unless
 *      max_flows is reached: forwarded, counted `flow_table_full`);
 *      re-checks denied remove the flow and drop the packet (revocation);
 *      TCP RST removes the flow, FIN from both sides starts its timer;
 *      a first fragment records its ports for the rest of its datagram.
 */
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_int.h"
#include "pipelines/conntrack/ct_xform.h"

#define CHUNK RTE_HASH_LOOKUP_BULK_MAX   /* 64 */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define P_TCP 6

enum act { A_DONE = 0, A_FLOW, A_RECHECK, A_ACL };

/* Returns the new flow's position, or -1 (not tracked, or another thread's). */
static int32_t flow_create(struct ss_ct *ct, unsigned int row, const struct ss_ct_info *in,
			   uint32_t sig, unsigned int dir, uint32_t gen, uint64_t now)
{
	struct ss_ct_counters *c = &ct->cnt[row];
	struct ss_ct_entry *e;
	uint8_t exp = SS_CT_FREE;
	int32_t pos;

	if (unlikely(__atomic_load_n(&ss_ct_no_create, __ATOMIC_RELAXED)))
		return -1;   /* HA standby (ct_sync.c) */
	if (__atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED) >=
	    (int64_t)__atomic_load_n(&ct->conf.max_flows, __ATOMIC_RELAXED)) {
		c->table_full++;
		return -1;
	}
	pos = rte_hash_add_key_with_hash(ct->flows.h, &in->key, sig);
	if (pos < 0) {
		c->table_full++;
		return -1;
	}
	e = ss_ct_entry_at(ct, (uint32_t)pos);
	/* an existing key (another worker's concurrent first packet, or a
	 * flow being removed) keeps its owner */
	if (!__atomic_compare_exchange_n(&e->state, &exp, SS_CT_INIT, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED)) {
		if (exp == SS_CT_LIVE)   /* opened by an earlier packet of this burst */
			ss_ct_count(e, in->side, in->ip_len);
		return -1;
	}
	e->init_dir = (uint8_t)dir;
	e->init_side = in->side;
	e->tcp = in->key.proto == P_TCP ? SS_CT_SYN_SEEN : 0;
	e->eni = in->key.eni;
	e->acl_gen = gen;
	e->last_seen = now;
	e->fin_at = 0;
	ss_ct_count_first(e, in->side, in->ip_len, now);
	e->seq++;
	__atomic_store_n(&e->state, SS_CT_LIVE, __ATOMIC_RELEASE);
	__atomic_fetch_add(&ct->nb_flows, 1, __ATOMIC_RELAXED);
	ss_ct_gauge_add(ct, row, e->eni, 1);
	c->created++;
	ss_ct_sync_note(ct, SS_CT_EV_CREATE, (uint32_t)pos, &in->key);
	return pos;
}

/* The flow cache reference of a packet that passed by the flow at pos. */
static inline void set_ref(struct ss_ct *ct, struct ss_ct_ref *ref, int32_t pos,
			   const struct ss_ct_info *in)
{
	if (ref == NULL || pos < 0 || in->kind != SS_CT_K_NORMAL || in->first_frag ||
	    (in->tcp_flags & TCP_RST))
		return;
	ref->pos = pos;
	ref->owner = ss_ct_xform_owner(ss_ct_entry_at(ct, (uint32_t)pos)->seq, in->side);
}

/* A packet passed by its flow: activity and TCP state. */
static void flow_update(struct ss_ct *ct, unsigned int row, uint32_t pos,
			const struct ss_ct_info *in, uint32_t sig, uint64_t now)
{
	struct ss_ct_counters *c = &ct->cnt[row];
	struct ss_ct_entry *e = ss_ct_entry_at(ct, pos);
	uint64_t last = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);

	if (in->kind == SS_CT_K_ICMP_ERR) {
		c->icmp_related++;
		return;   /* an error does not keep a connection alive */
	}
	ss_ct_count(e, in->side, in->ip_len);
	/* one store per millisecond at most: the line is shared by the workers
	 * that see the two directions */
	if ((int64_t)(now - last) >= (int64_t)(ct->tick_hz / 1000))
		__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	if (in->key.proto != P_TCP || in->kind != SS_CT_K_NORMAL)
		return;
	if (in->tcp_flags & TCP_RST) {
		if (ss_ct_flow_end(ct, pos, row, &in->key, sig, SS_CT_END_EOF))
			c->removed_rst++;
		return;
	}
	if (in->tcp_flags & TCP_FIN) {
		uint8_t bit = in->side ? SS_CT_FIN_B : SS_CT_FIN_A;
		uint8_t both = SS_CT_FIN_A | SS_CT_FIN_B;
		uint8_t old = __atomic_fetch_or(&e->tcp, bit, __ATOMIC_RELAXED);

		if ((old & both) != both && ((old | bit) & both) == both)
			__atomic_store_n(&e->fin_at, now ? now : 1, __ATOMIC_RELAXED);
		if (!(old & bit))
			ss_ct_sync_note(ct, SS_CT_EV_UPDATE, pos, &in->key);
	}
}

/* A non-first fragment: ports from the first one, or drop. */
static int frag_follow(struct ss_ct *ct, struct ss_ct_counters *c, struct ss_ct_info *in,
		       uint64_t now)
{
	int32_t pos = rte_hash_lookup(ct->frags.h, &in->frag);
	const struct ss_ct_frag *f;

	if (pos >= 0) {
		f = ss_ct_frag_at(ct, (uint32_t)pos);
		if (__atomic_load_n(&f->state, __ATOMIC_ACQUIRE) == SS_CT_LIVE &&
		    (int64_t)(now - __atomic_load_n(&f->expires, __ATOMIC_RELAXED)) < 0) {
			ss_ct_extract_ports(in, f->sport, f->dport);
			c->frag_tracked++;
			return 0;
		}
	}
	c->frag_no_first++;
	return -1;
}

/* A first fragment: later ones of its datagram follow it for 3 s. */
static void frag_record(struct ss_ct *ct, const struct ss_ct_info *in, uint64_t now)
{
	int32_t pos = rte_hash_add_key(ct->frags.h, &in->frag);
	uint16_t sp = in->side ? in->key.pb : in->key.pa;
	uint16_t dp = in->side ? in->key.pa : in->key.pb;
	uint64_t expires = now + ct->tick_hz * SS_CT_FRAG_MS / 1000;
	struct ss_ct_frag *f;
	uint8_t exp = SS_CT_FREE;

	if (pos < 0)
		return;   /* full: the datagram's later fragments are frag_no_first */
	f = ss_ct_frag_at(ct, (uint32_t)pos);
	if (__atomic_compare_exchange_n(&f->state, &exp, SS_CT_INIT, false, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED)) {
		f->sport = sp;
		f->dport = dp;
		f->expires = expires;
		f->seq++;
		__atomic_store_n(&f->state, SS_CT_LIVE, __ATOMIC_RELEASE);
	} else if (exp == SS_CT_LIVE) {
		/* the first fragment again (a retransmission): refresh */
		__atomic_store_n(&f->expires, expires, __ATOMIC_RELAXED);
	}
}

static void policy_chunk(struct ss_ct *ct, const struct ss_acl_state *acl, unsigned int worker,
			 unsigned int dir, const struct ss_ct_pkt *p, uint32_t n, uint64_t now,
			 uint8_t *verdict, struct ss_ct_ref *ref)
{
	unsigned int row = ss_ct_row(ct, worker);
	struct ss_ct_counters *c = &ct->cnt[row];
	struct ss_ct_info in[CHUNK];
	const void *keys[CHUNK];
	hash_sig_t sig[CHUNK];
	int32_t pos[CHUNK];
	uint8_t act[CHUNK], ri[CHUNK], look[CHUNK], allow[CHUNK];
	struct ss_acl_req req[CHUNK];
	struct ss_acl_key rkey[CHUNK];
	struct ss_acl_decided dec[CHUNK];
	uint32_t i, nl = 0, nr = 0;

	for (i = 0; i < n; i++) {
		ss_ct_extract(&p[i], dir, &in[i]);
		verdict[i] = SS_CT_PASS;
		act[i] = A_DONE;
		if (ref != NULL) {
			ref[i].pos = -1;
			ref[i].deny = 0;
		}
		if (in[i].kind == SS_CT_K_OTHER)
			continue;
		if (in[i].kind == SS_CT_K_NONFIRST && frag_follow(ct, c, &in[i], now) < 0) {
			verdict[i] = SS_CT_DROP_FRAG;
			continue;
		}
		keys[nl] = in[i].kind == SS_CT_K_ICMP_ERR ? &in[i].emb : &in[i].key;
		look[nl++] = (uint8_t)i;
	}
	/* one hash per key, reused by the insert or the removal: the table's
	 * own function (ct_table.c: rte_hash_crc over the key, initial value
	 * 0), inlined for the key's constant size rather than called through
	 * rte_hash_hash */
	for (uint32_t j = 0; j < nl; j++)
		sig[j] = rte_hash_crc(keys[j], sizeof(struct ss_ct_key), 0);
	if (nl > 0)
		rte_hash_lookup_with_hash_bulk(ct->flows.h, keys, sig, nl, pos);
	/* the entries live apart from the keys: fetch them all before use */
	for (uint32_t j = 0; j < nl; j++)
		if (pos[j] >= 0)
			rte_prefetch0(ss_ct_entry_at(ct, (uint32_t)pos[j]));

	for (uint32_t j = 0; j < nl; j++) {
		struct ss_ct_info *pi = &in[look[j]];
		struct ss_ct_entry *e = NULL;

		i = look[j];
		if (pos[j] >= 0) {
			e = ss_ct_entry_at(ct, (uint32_t)pos[j]);
			if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
				e = NULL;
		}
		if (e != NULL) {
			/* the packet must travel the way the flow says: initiator in
			 * the initiating direction, or responder in the other one (the
			 * quoted packet of an ICMP error went the other way) */
			unsigned int d = pi->kind == SS_CT_K_ICMP_ERR ? !dir : dir;
			unsigned int side = pi->kind == SS_CT_K_ICMP_ERR ? pi->emb_side : pi->side;

			if ((d == e->init_dir) != (side == e->init_side)) {
				e = NULL;
			} else {
				int why = ss_ct_expired(ct, e, now);
				int reopen = pi->kind == SS_CT_K_NORMAL && pi->can_create &&
					     pi->key.proto == P_TCP &&
					     __atomic_load_n(&e->fin_at, __ATOMIC_RELAXED) != 0;

				/* expired, or a new SYN on a closing connection (port
				 * reuse): the flow ends and the packet is a new one */
				if (why || reopen) {
					if (ss_ct_flow_end(ct, (uint32_t)pos[j], row, keys[j],
							   sig[j], why == SS_CT_EXP_IDLE ?
							   SS_CT_END_IDLE : SS_CT_END_EOF)) {
						if (why == SS_CT_EXP_IDLE)
							c->expired++;
						else
							c->removed_fin++;
					}
					e = NULL;
				}
			}
		}
		if (e != NULL) {
			uint32_t gen = ss_acl_eni_gen(acl, e->eni);

			if (__atomic_load_n(&e->acl_gen, __ATOMIC_RELAXED) == gen) {
				act[i] = A_FLOW;
				continue;
			}
			/* the ENI's policy changed since the flow was checked */
			ss_ct_acl_key(pi->kind == SS_CT_K_ICMP_ERR ? &pi->emb : &pi->key,
				      e->init_side, &rkey[nr]);
			req[nr] = (struct ss_acl_req){ .key = &rkey[nr], .eni = e->eni,
						       .dir = e->init_dir };
			act[i] = A_RECHECK;
		} else {
			ss_ct_acl_key(&pi->key, pi->side, &rkey[nr]);
			req[nr] = (struct ss_acl_req){ .key = &rkey[nr], .eni = p[i].eni,
						       .dir = (uint8_t)dir };
			act[i] = A_ACL;
		}
		ri[i] = (uint8_t)nr++;
	}
	if (nr > 0)
		ss_acl_classify_burst_dec(acl, worker, req, nr, allow, ref != NULL ? dec : NULL);

	for (uint32_t j = 0; j < nl; j++) {
		struct ss_ct_info *pi = &in[look[j]];

		i = look[j];
		switch (act[i]) {
		case A_FLOW:
			flow_update(ct, row, (uint32_t)pos[j], pi, sig[j], now);
			set_ref(ct, ref ? &ref[i] : NULL, pos[j], pi);
			break;
		case A_RECHECK:
			c->rechecked++;
			if (allow[ri[i]]) {
				__atomic_store_n(&ss_ct_entry_at(ct, (uint32_t)pos[j])->acl_gen,
						 ss_acl_eni_gen(acl, req[ri[i]].eni),
						 __ATOMIC_RELAXED);
				flow_update(ct, row, (uint32_t)pos[j], pi, sig[j], now);
				set_ref(ct, ref ? &ref[i] : NULL, pos[j], pi);
			} else {
				if (ss_ct_flow_end(ct, (uint32_t)pos[j], row, keys[j], sig[j],
						   SS_CT_END_FORCED))
					c->revoked++;
				verdict[i] = SS_CT_DROP_ACL;
			}
			break;
		case A_ACL:
			if (!allow[ri[i]]) {
				verdict[i] = SS_CT_DROP_ACL;
				if (ref != NULL && pi->kind == SS_CT_K_NORMAL && !pi->first_frag) {
					ref[i].deny = 1;
					ref[i].acl_gen = ss_acl_eni_gen(acl, p[i].eni);
					ref[i].dec = dec[ri[i]];
				}
			} else if (pi->can_create)
				/* no flow-cache reference for the packet that opens
				 * the flow: a connection's first packet (a SYN; in
				 * a connection-rate flood, the only one) would pay
				 * for a transform nobody uses; its next packet fills
				 * the slot */
				flow_create(ct, row, pi, sig[j], dir, ss_acl_eni_gen(acl, p[i].eni),
					    now);
			break;
		default:
			break;
		}
		if (pi->first_frag)
			frag_record(ct, pi, now);
	}
	if (ss_ct_defer_open(ct, row))
		ss_ct_defer_close(&ct->flows, row);
}

/* No flow table (never published: cannot happen once ports forward):
 * the ACL stages alone, every fragment on its own. */
static void acl_only_chunk(const struct ss_acl_state *acl, unsigned int worker, unsigned int dir,
			   const struct ss_ct_pkt *p, uint32_t n, uint8_t *verdict)
{
	struct ss_ct_info in[CHUNK];
	struct ss_acl_req req[CHUNK];
	struct ss_acl_key rkey[CHUNK];
	uint8_t allow[CHUNK], idx[CHUNK];
	uint32_t i, nr = 0;

	for (i = 0; i < n; i++) {
		ss_ct_extract(&p[i], dir, &in[i]);
		verdict[i] = SS_CT_PASS;
		if (in[i].kind == SS_CT_K_OTHER)
			continue;
		ss_ct_acl_key(&in[i].key, in[i].side, &rkey[nr]);
		req[nr] = (struct ss_acl_req){ .key = &rkey[nr], .eni = p[i].eni,
					       .dir = (uint8_t)dir };
		idx[nr++] = (uint8_t)i;
	}
	if (nr > 0)
		ss_acl_classify_burst(acl, worker, req, nr, allow);
	for (i = 0; i < nr; i++)
		if (!allow[i])
			verdict[idx[i]] = SS_CT_DROP_ACL;
}

void ss_ct_policy_burst_ref(struct ss_ct *ct, const struct ss_acl_state *acl,
			    unsigned int worker, unsigned int dir, const struct ss_ct_pkt *p,
			    uint32_t n, uint64_t now, uint8_t *verdict, struct ss_ct_ref *ref)
{
	while (n > 0) {
		uint32_t k = n > CHUNK ? CHUNK : n;

		if (likely(ct != NULL)) {
			policy_chunk(ct, acl, worker, dir, p, k, now, verdict, ref);
		} else {
			acl_only_chunk(acl, worker, dir, p, k, verdict);
			for (uint32_t i = 0; ref != NULL && i < k; i++) {
				ref[i].pos = -1;
				ref[i].deny = 0;
			}
		}
		p += k;
		verdict += k;
		if (ref != NULL)
			ref += k;
		n -= k;
	}
}

void ss_ct_policy_burst(struct ss_ct *ct, const struct ss_acl_state *acl, unsigned int worker,
			unsigned int dir, const struct ss_ct_pkt *p, uint32_t n, uint64_t now,
			uint8_t *verdict)
{
	ss_ct_policy_burst_ref(ct, acl, worker, dir, p, n, now, verdict, NULL);
}
