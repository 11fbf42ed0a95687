/* SPDX-License-Identifier: BSD-3-Clause
 *
 * flow_fast: the flow fast path (ct_emc.h, docs/conntrack.md "Fast path").
 * port_rx hands it what host and fabric ports received (not patched
 * ports); a packet of a cached flow is forwarded from here straight to
 * port_tx, everything else goes on to parse unchanged.
 *
 *   host port, outbound:  the flow's cached transform (ct_xform.h) applied
 *                         as route_out would apply it;
 *   fabric port, inbound: VXLAN to a VIP, decapsulated and delivered to
 *                         the ENI's host port (tag pushed) as vxlan_decap
 *                         would.
 *
 * For a hit it does what the full path would: the port's received bytes
 * (parse), the ENI's packet and byte counters (outbound: rx, overlay_host;
 * inbound: tx, vxlan_decap), the flow's activity (policy_out/in), the
 * per-worker cache counters. What it checks, per packet, before it takes one:
 *   - the key matches an entry of this worker's table;
 *   - the entry's flow table is the one published, its flow live, of the
 *     same incarnation and side, not closing (FIN seen), not expired, and
 *     checked against its ENI's current ACL generation;
 *   - outbound: the flow's slot holds a transform of the current overlay
 *     generation for that owner; inbound: the entry was resolved at the
 *     current overlay generation;
 *   - every other feature the packet would meet on the arcs of its
 *     direction may be left out for its ENI (ss_arc_feature.fast_skip).
 * The overlay generation is read once per walk, before any table lookup
 * of the walk, and the full path stamps what it resolves in the same walk
 * with it (ss_ovl_walk_gen). Once a packet of a burst took the full path,
 * later packets of the burst in the same key bucket take it too: a flow's
 * packets leave in order.
 *
 * Cached deny (ct_emc.h, ss_emc_deny_fill / ss_emc_in_deny_fill): an entry
 * may instead say that policy_out (policy_in) dropped the key `acl_deny` as
 * a packet of no flow. While the overlay generation (the ENI resolution,
 * inbound also VIP and PA validation) and the ENI's ACL generation are
 * those it was classified at, every fast_skip holds and the flow table,
 * looked up in bulk at the end of the burst, has no entry for the key (a
 * flow opened from the other side passes the packet on the full path),
 * the packet is dropped here `acl_deny` with the full path's counters:
 * port bytes, outbound the ENI's rx, the ENI's acl_drops, the hits of the
 * rules that decided each stage, and the drop under node policy_out
 * (policy_in), stamped after ss_node_dispatch.
 *
 * While a live packet trace is armed (trace.start: it picks packets at
 * parse) every packet goes on to parse (ss_trace_live_armed).
 *
 * Edges: 0 drop, 1 parse, 2 port_tx.
 */
#include <stdalign.h>

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_hash.h>
#include <rte_malloc.h>

#include "dataplane/port-t.h"
#include "pipelines/acl/acl.h"
#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_emc.h"
#include "pipelines/conntrack/ct_int.h"
#include "pipelines/conntrack/ct_xform.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_pkt.h"
#include "pipelines/parse/parse_node.h"
#include "pipelines/trace/trace.h"

enum { FAST_NEXT_DROP = 0, FAST_NEXT_PARSE, FAST_NEXT_TX, FAST_NB_NEXT };
#define FAST_NEXT_PENDING 0xff   /* not an edge: resolved by table_resolve */

#define FAST_MAX_SKIPS 8

struct ss_emc *ss_emc_of[SS_MAX_WORKERS];

/* The features the fast path leaves out, and whether it may run at all;
 * set once, before the graphs exist (flow_fast_arcs). */
struct fast_dir {
	bool off;                  /* a feature on the arcs cannot be left out */
	unsigned int nb_skip;
	bool (*skip[FAST_MAX_SKIPS])(uint32_t eni);
};

static struct {
	bool checked;
	struct fast_dir out, in;   /* host ports (outbound), fabric ports (inbound) */
	rte_node_t policy[2];      /* [enum ss_acl_dir]: the node a cached deny's
				    * drop is counted under */
} fast = { .policy = { RTE_NODE_ID_INVALID, RTE_NODE_ID_INVALID } };

struct fast_ctx {
	struct ss_worker *w;       /* ss_node_ctx */
	struct ss_emc *emc;
};
_Static_assert(sizeof(struct fast_ctx) <= RTE_NODE_CTX_SZ, "fast ctx too large");

/* The features of `arc` a plain TCP/UDP packet meets, but the node that
 * the fast path stands in for: each needs a fast_skip, else the fast path
 * of that direction is off. */
static void collect(struct fast_dir *fd, const char *arc, const char *stand_in, uint8_t extra_pf)
{
	const struct ss_arc_feature *f[SS_ARC_MAX_FEATURES * 2];
	unsigned int n = ss_arc_features(arc, f, RTE_DIM(f));

	for (unsigned int i = 0; i < n && i < RTE_DIM(f); i++) {
		if (strcmp(f[i]->node, stand_in) == 0 || (f[i]->pf & ~(SS_PF_L4 | extra_pf)) != 0)
			continue;
		if (f[i]->fast_skip == ss_arc_skip_always)
			continue;
		if (f[i]->fast_skip == NULL || fd->nb_skip == FAST_MAX_SKIPS) {
			fd->off = true;
			RTE_LOG(NOTICE, USER1, "flow fast path off: %s on arc %s must see every packet\n",
				f[i]->node, arc);
			continue;
		}
		fd->skip[fd->nb_skip++] = f[i]->fast_skip;
	}
}

static void flow_fast_arcs(void)
{
	if (fast.checked)
		return;
	fast.checked = true;
	collect(&fast.out, SS_ARC_INGRESS_HOST, OVL_NODE_HOST, 0);
	collect(&fast.out, SS_ARC_OUTBOUND, "policy_out", 0);
	/* VXLAN packets to the VIP: features filtered on SS_PF_VXLAN meet them */
	collect(&fast.in, SS_ARC_INGRESS_FABRIC, OVL_NODE_FABRIC, SS_PF_VXLAN);
	collect(&fast.in, SS_ARC_INBOUND, "policy_in", SS_PF_VXLAN);
	fast.policy[SS_ACL_OUT] = rte_node_from_name("policy_out");
	fast.policy[SS_ACL_IN] = rte_node_from_name("policy_in");
}

/* Whether every feature the fast path leaves out may be left out for
 * `eni`: asked once and remembered per ENI (a direct-mapped memo in the
 * worker's ss_emc) until a feature says its answers changed (the epoch,
 * read once per burst: see ss_arc_feature.fast_skip). */
static inline bool skippable(const struct fast_dir *fd, struct ss_emc_skip *memo, uint64_t epoch,
			     uint32_t eni)
{
	struct ss_emc_skip *s = &memo[eni & (SS_EMC_SKIP_ENTRIES - 1)];
	bool ok = true;

	if (likely(fd->nb_skip == 0))
		return true;
	if (likely(s->epoch == epoch && s->eni == eni))
		return s->ok;
	for (unsigned int i = 0; i < fd->nb_skip; i++)
		if (!fd->skip[i](eni)) {
			ok = false;
			break;
		}
	s->eni = eni;
	s->ok = ok;
	s->epoch = epoch;
	return ok;
}

/* The flow at pos still what it was when the entry was written (owner),
 * live, not closing, not expired, checked at the ENI's ACL generation;
 * its activity refreshed as policy_out/in would (one store per ms). */
static inline bool flow_live(struct ss_ct *ct, const struct ss_acl_state *acl, uint32_t pos,
			     uint32_t owner, uint32_t eni, uint64_t now)
{
	struct ss_ct_entry *e = ss_ct_entry_at(ct, pos);

	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE ||
	    ss_ct_xform_owner(e->seq, (uint8_t)(owner & 1)) != owner ||
	    __atomic_load_n(&e->fin_at, __ATOMIC_RELAXED) != 0 ||
	    ss_ct_expired(ct, e, now) != SS_CT_EXP_NO ||
	    __atomic_load_n(&e->acl_gen, __ATOMIC_RELAXED) != ss_acl_eni_gen(acl, eni))
		return false;
	if ((int64_t)(now - __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED)) >=
	    (int64_t)(ct->tick_hz / 1000))
		__atomic_store_n(&e->last_seen, now, __ATOMIC_RELAXED);
	return true;
}

/* Whether the entry's flow may be forwarded with transform *x now. */
static inline bool flow_ok(struct ss_ct *ct, const struct ss_acl_state *acl,
			   const struct ss_emc_ent *ent, uint32_t gen, uint64_t now,
			   struct ss_ct_xform *x)
{
	return flow_live(ct, acl, ent->pos, ent->owner, ent->eni, now) &&
	       ss_ct_xform_read(&ct->xf[ent->pos], x) && x->valid && x->gen == gen &&
	       x->owner == ent->owner;
}

struct burst {
	struct ss_worker *w;
	struct ss_emc *emc;
	struct ss_ovl_wstate *ws;
	struct ss_ct *ct;
	const struct ss_acl_state *acl;
	uint32_t gen;
	uint64_t now;
	uint64_t slow;             /* key buckets a packet of took the full path */
	/* packets dropped by a cached deny, [SS_ACL_OUT]: outbound, [SS_ACL_IN] */
	uint64_t deny[2][(RTE_GRAPH_BURST_SIZE + 63) / 64];
	struct ss_emc_skip *sk_out, *sk_in;  /* the worker's fast_skip memos */
	uint64_t skip_epoch;
	bool bypass;               /* outbound: no exact-match probe (ct_emc.h) */
	uint16_t nbypassed;
	/* packets the exact-match table missed (or holds a cached deny for),
	 * to look up in the flow table in bulk */
	uint16_t nt;
	struct pending {
		union {
			struct ss_emc_key k;     /* outbound */
			struct ss_emc_in_key ik; /* inbound */
		};
		/* rte_hash reads the key in 8-byte words (rte_hash_crc) */
		struct ss_ct_key ck __rte_aligned(8);
		uint32_t sig;
		uint32_t eni;
		uint16_t idx;      /* in the burst */
		uint8_t side;
		uint8_t deny;      /* a cached deny: dropped unless the key has a flow */
		uint8_t dir;       /* enum ss_acl_dir of the packet */
		uint16_t out_port; /* inbound: the ENI's delivery (ss_emc_inres) */
		uint16_t vlan;
		struct ss_acl_decided dec; /* deny: the rules that decided */
	} t[RTE_GRAPH_BURST_SIZE];
};

/* The meta of a packet the fast path forwards, as parse leaves it. */
static inline struct ss_meta *fast_meta(struct rte_mbuf *m, uint16_t pi, uint32_t eni)
{
	struct ss_meta *meta = ss_meta(m);

	meta->in_port = pi;
	meta->drop = SS_DROP_NONE;
	meta->drop_node = UINT16_MAX;
	meta->tx_class = SS_TX_DEFAULT;
	meta->eni = eni;
	return meta;
}

static __rte_always_inline uint8_t out_apply(struct burst *b, struct rte_mbuf *m, uint16_t pi,
					     const struct ss_emc_key *k, uint32_t eni,
					     const struct ss_ct_xform *x, uint32_t pos,
					     uint32_t owner);

/* An outbound packet the exact-match table does not hold: when its
 * source's ENI is known at this generation, its flow key goes to the bulk
 * flow-table lookup at the end of the burst (table_resolve); else the full
 * path. */
static inline uint8_t table_pending(struct burst *b, const struct ss_emc_key *k, uint32_t sig,
				    const uint8_t *d, uint16_t idx)
{
	const struct ss_emc_eni *n = &b->emc->eni[ss_emc_eni_slot(k)];
	struct pending *p;

	/* an ENI whose packets a feature must see (fast_skip false: a load
	 * balancer's VNET) is not worth the flow-table lookup */
	if (n->eni == 0 || n->gen != b->gen || n->port != k->port || n->tci != k->tci ||
	    memcmp(n->smac, k->smac, 6) != 0 || !skippable(&fast.out, b->sk_out, b->skip_epoch, n->eni)) {
		b->slow |= 1ull << (sig & 63);
		return FAST_NEXT_PARSE;
	}
	p = &b->t[b->nt++];
	p->k = *k;
	p->sig = sig;
	p->eni = n->eni;
	p->idx = idx;
	p->deny = 0;
	p->dir = SS_ACL_OUT;
	p->side = ss_ct_key_make(&p->ck, n->eni, k->proto, 0, d + k->l3_off + 12,
				 d + k->l3_off + 16, rte_be_to_cpu_16(k->sport),
				 rte_be_to_cpu_16(k->dport));
	return FAST_NEXT_PENDING;
}

/* A packet whose key holds a cached deny (ss_emc_deny_fill): when the
 * ENI resolution (overlay generation) and the ENI's ACL generation are
 * those it was classified at and every left-out feature may be left out,
 * it goes to the bulk flow-table lookup (table_resolve): the full path
 * drops it so only while no flow covers its key. */
static inline uint8_t deny_pending(struct burst *b, const struct ss_emc_ent *ent,
				   const struct ss_emc_key *k, uint32_t sig, const uint8_t *d,
				   uint16_t idx)
{
	struct pending *p;

	if (ent->gen != b->gen || ent->acl_gen != ss_acl_eni_gen(b->acl, ent->eni) ||
	    !skippable(&fast.out, b->sk_out, b->skip_epoch, ent->eni)) {
		b->slow |= 1ull << (sig & 63);
		return FAST_NEXT_PARSE;
	}
	p = &b->t[b->nt++];
	p->k = *k;
	p->sig = sig;
	p->eni = ent->eni;
	p->idx = idx;
	p->deny = 1;
	p->dir = SS_ACL_OUT;
	ss_emc_deny_rules(ent, &p->dec);
	p->side = ss_ct_key_make(&p->ck, ent->eni, k->proto, 0, d + k->l3_off + 12,
				 d + k->l3_off + 16, rte_be_to_cpu_16(k->sport),
				 rte_be_to_cpu_16(k->dport));
	return FAST_NEXT_PENDING;
}

/* A cached deny taken: what the full path counts for the packet (parse:
 * the port's bytes; outbound, overlay_host: the ENI's rx; policy_out/in:
 * the ENI's acl_drops, the deciding rules' hits), dropped acl_deny; the
 * drop is counted under the policy node (fast_process). */
static inline uint8_t deny_apply(struct burst *b, struct rte_mbuf *m, uint16_t pi,
				 const struct pending *p)
{
	struct ss_meta *meta = fast_meta(m, pi, p->eni);
	unsigned int wi = b->w->index;

	b->w->port[pi].rx_bytes += m->pkt_len;
	if (p->dir == SS_ACL_OUT)
		ovl_eni_rx(wi, p->eni, m->pkt_len);
	else
		b->emc->in_hits++;
	ss_overlay_eni_acl_drop(wi, p->eni);
	ss_acl_count_decided(b->acl, wi, p->eni, ss_acl_slot(p->dir, 0), &p->dec);
	meta->drop = SS_DROP_ACL_DENY;
	b->deny[p->dir][p->idx / 64] |= 1ull << (p->idx % 64);
	b->emc->deny_hits++;
	return FAST_NEXT_DROP;
}

/* A host-port packet with key *kp (ss_emc_key_of, in the caller's loop:
 * a frame the fast path never takes costs no call): its flow's outbound
 * transform, or the full path. */
static uint8_t fast_out(struct burst *b, struct rte_mbuf *m, const uint8_t *d, uint16_t pi,
			uint16_t idx, const struct ss_emc_key *kp)
{
	const struct ss_emc_key k = *kp;
	struct ss_emc_ent *ent;
	struct ss_ct_xform x;
	uint64_t bit;
	uint32_t sig;

	sig = ss_emc_hash(&k);
	bit = 1ull << (sig & 63);
	if (b->slow & bit)
		return FAST_NEXT_PARSE;
	if (unlikely(b->bypass)) {
		/* far more flows than entries (ct_emc.h): the flow table */
		b->nbypassed++;
		return table_pending(b, &k, sig, d, idx);
	}
	ent = ss_emc_find(b->emc, &k, sig);
	if (ent == NULL)
		return table_pending(b, &k, sig, d, idx);
	if (ent->deny)
		return deny_pending(b, ent, &k, sig, d, idx);
	/* the ENI's features first (memoised per burst): an ENI whose
	 * packets a feature must see (a load balancer's VNET) is not worth
	 * the flow and transform checks */
	if (ent->ct != b->ct || !skippable(&fast.out, b->sk_out, b->skip_epoch, ent->eni) ||
	    !flow_ok(b->ct, b->acl, ent, b->gen, b->now, &x)) {
		b->slow |= bit;
		return FAST_NEXT_PARSE;
	}
	return out_apply(b, m, pi, &k, ent->eni, &x, ent->pos, ent->owner);
}

/* An outbound hit: the transform applied (route_out's work). */
static __rte_always_inline uint8_t out_apply(struct burst *b, struct rte_mbuf *m, uint16_t pi,
					     const struct ss_emc_key *k, uint32_t eni,
					     const struct ss_ct_xform *x, uint32_t pos,
					     uint32_t owner)
{
	struct ss_meta *meta = fast_meta(m, pi, eni);
	struct ss_layer l;
	int rc;

	/* the flow record's counters (IPFIX octetDeltaCount: the IP packet) */
	ss_ct_count(ss_ct_entry_at(b->ct, pos), (uint8_t)(owner & 1),
		    ss_emc_rd16(rte_pktmbuf_mtod(m, const uint8_t *) + k->l3_off + 2));

	b->w->port[pi].rx_bytes += m->pkt_len;
	ovl_eni_rx(b->w->index, eni, m->pkt_len);
	l = (struct ss_layer){ .l2_off = 0, .l3_off = k->l3_off, .l3 = SS_L3_IPV4,
			       .nb_vlans = k->tci ? 1 : 0, .proto = k->proto, .flags = SS_PF_L4 };
	rc = ovl_xform_apply(b->ws, m, &l, x);
	if (unlikely(rc != 0)) {
		meta->drop = (uint8_t)rc;
		return FAST_NEXT_DROP;
	}
	meta->out_port = x->port;
	return FAST_NEXT_TX;
}

/* An inbound packet whose key holds a cached deny: as deny_pending. */
static inline uint8_t in_deny_pending(struct burst *b, const struct ss_emc_in_ent *ent,
				      const uint8_t *d, uint32_t sig, uint16_t idx)
{
	const uint8_t *iip = d + SS_EMC_IN_HLEN + RTE_ETHER_HDR_LEN;
	struct pending *p;

	if (ent->gen != b->gen || ent->acl_gen != ss_acl_eni_gen(b->acl, ent->eni) ||
	    !skippable(&fast.in, b->sk_in, b->skip_epoch, ent->eni)) {
		b->slow |= 1ull << (sig & 63);
		return FAST_NEXT_PARSE;
	}
	p = &b->t[b->nt++];
	p->sig = sig;
	p->eni = ent->eni;
	p->idx = idx;
	p->deny = 1;
	p->dir = SS_ACL_IN;
	p->dec = ent->dec;
	p->side = ss_ct_key_make(&p->ck, ent->eni, iip[9], 0, iip + 12, iip + 16,
				 ss_emc_rd16(iip + 20), ss_emc_rd16(iip + 22));
	return FAST_NEXT_PENDING;
}

/* An inbound hit: decapsulated and delivered to the ENI's host port
 * (vxlan_decap's work). */
static inline uint8_t in_apply(struct burst *b, struct rte_mbuf *m, uint16_t pi, uint32_t eni,
			       uint32_t pos, uint32_t owner, uint16_t out_port, uint16_t vlan)
{
	struct ss_meta *meta = fast_meta(m, pi, eni);
	uint8_t *f;

	ss_ct_count(ss_ct_entry_at(b->ct, pos), (uint8_t)(owner & 1),
		    ss_emc_rd16(rte_pktmbuf_mtod(m, const uint8_t *) + SS_EMC_IN_HLEN +
				RTE_ETHER_HDR_LEN + 2));
	b->w->port[pi].rx_bytes += m->pkt_len;
	/* the ENI's rx counts packets from its VM: the full inbound path
	 * counts only tx (vxlan_decap) */
	rte_pktmbuf_adj(m, SS_EMC_IN_HLEN);
	if (vlan) {
		f = (uint8_t *)rte_pktmbuf_prepend(m, 4);
		if (unlikely(f == NULL)) {
			meta->drop = SS_DROP_NO_MBUF;
			return FAST_NEXT_DROP;
		}
		{
			uint64_t a;
			uint32_t c;

			/* the MACs 4 bytes forward (constant-size copies, inline) */
			memcpy(&a, f + 4, 8);
			memcpy(&c, f + 12, 4);
			memcpy(f, &a, 8);
			memcpy(f + 8, &c, 4);
		}
		f[12] = SS_ETHERTYPE_VLAN >> 8;
		f[13] = SS_ETHERTYPE_VLAN & 0xff;
		f[14] = (uint8_t)(vlan >> 8);
		f[15] = (uint8_t)vlan;
	}
	meta->out_port = out_port;
	ovl_eni_tx(b->w->index, eni, m->pkt_len);
	b->ws->cache_hits++;
	b->emc->in_hits++;
	return FAST_NEXT_TX;
}

/* An inbound packet the exact-match table does not hold: when the full
 * path delivered a packet of the same (port, outer source, VIP, VNI,
 * tenant destination MAC) at this overlay generation (ss_emc_inres: the
 * ENI, PA validation passed, its delivery), its flow key goes to the bulk
 * flow-table lookup at the end of the burst; else the full path. */
static inline uint8_t in_table_pending(struct burst *b, const struct ss_emc_in_key *k,
				       uint32_t sig, const uint8_t *d, uint16_t idx)
{
	const struct ss_emc_inres *r = ss_emc_inres_of(b->emc, k);
	const uint8_t *iip = d + SS_EMC_IN_HLEN + RTE_ETHER_HDR_LEN;
	struct pending *p;

	if (r->eni == 0 || r->gen != b->gen || !ss_emc_inres_match(r, k) ||
	    !skippable(&fast.in, b->sk_in, b->skip_epoch, r->eni)) {
		b->slow |= 1ull << (sig & 63);
		return FAST_NEXT_PARSE;
	}
	p = &b->t[b->nt++];
	p->ik = *k;
	p->sig = sig;
	p->eni = r->eni;
	p->idx = idx;
	p->deny = 0;
	p->dir = SS_ACL_IN;
	p->out_port = r->out_port;
	p->vlan = r->vlan;
	p->side = ss_ct_key_make(&p->ck, r->eni, iip[9], 0, iip + 12, iip + 16,
				 ss_emc_rd16(iip + 20), ss_emc_rd16(iip + 22));
	return FAST_NEXT_PENDING;
}

/* A fabric-port packet: decapsulated to its flow's ENI, or the full path. */
static inline uint8_t fast_in(struct burst *b, struct rte_mbuf *m, const uint8_t *d, uint16_t pi,
			      uint16_t idx)
{
	struct ss_emc_in_key k;
	struct ss_emc_in_ent *ent;
	uint64_t bit;
	uint32_t sig;

	if (fast.in.off || b->emc->in == NULL)
		return FAST_NEXT_PARSE;
	if (unlikely(b->emc->in_off != 0)) {
		b->emc->in_off--;   /* paused: misses are the rule (ct_emc.h) */
		return FAST_NEXT_PARSE;
	}
	if (!ss_emc_in_key_of(d, rte_pktmbuf_data_len(m), pi, ss_ports.ports[pi].mac.addr_bytes,
			      &k))
		return FAST_NEXT_PARSE;
	if (unlikely(++b->emc->in_probes == SS_EMC_IN_WINDOW)) {
		if (b->emc->in_hits < SS_EMC_IN_WINDOW / 16)
			b->emc->in_off = SS_EMC_IN_PAUSE;
		b->emc->in_probes = b->emc->in_hits = 0;
	}
	sig = ss_emc_in_hash(&k);
	bit = 1ull << (sig & 63);
	if (b->slow & bit)
		return FAST_NEXT_PARSE;
	ent = ss_emc_in_find(b->emc, &k, sig);
	if (ent == NULL)
		return in_table_pending(b, &k, sig, d, idx);
	if (ent->deny)
		return in_deny_pending(b, ent, d, sig, idx);
	if (ent->ct != b->ct || ent->gen != b->gen || !skippable(&fast.in, b->sk_in, b->skip_epoch, ent->eni) ||
	    !flow_live(b->ct, b->acl, ent->pos, ent->owner, ent->eni, b->now)) {
		b->slow |= bit;
		return FAST_NEXT_PARSE;
	}
	return in_apply(b, m, pi, ent->eni, ent->pos, ent->owner, ent->out_port, ent->vlan);
}

/* An inbound packet's flow found in the flow table (table_resolve): taken
 * as fast_in takes an entry, and remembered in the exact-match table. */
static inline uint8_t in_table_hit(struct burst *b, struct rte_mbuf *m, const struct pending *p,
				   uint32_t pos)
{
	struct ss_ct_entry *e = ss_ct_entry_at(b->ct, pos);
	uint32_t owner = ss_ct_xform_owner(e->seq, p->side);
	struct ss_emc_in_ent *ent;
	uint8_t next;

	/* the packet travels the way the flow says (policy_chunk) */
	if ((e->init_dir == SS_ACL_IN) != (p->side == e->init_side) ||
	    !flow_live(b->ct, b->acl, pos, owner, p->eni, b->now) ||
	    !skippable(&fast.in, b->sk_in, b->skip_epoch, p->eni))
		return FAST_NEXT_PENDING;
	next = in_apply(b, m, ss_ports.by_eth_id[m->port], p->eni, pos, owner, p->out_port,
			p->vlan);
	b->emc->table_hits++;
	ent = ss_emc_in_find(b->emc, &p->ik, p->sig);
	if (ent == NULL)
		ent = ss_emc_in_victim(b->emc, p->sig);
	ent->key = p->ik;
	ent->sig = p->sig;
	ent->eni = p->eni;
	ent->pos = pos;
	ent->owner = owner;
	ent->gen = b->gen;
	ent->out_port = p->out_port;
	ent->vlan = p->vlan;
	ent->ct = b->ct;
	ent->deny = 0;
	b->emc->fills++;
	return next;
}

/* The pending packets' flows, looked up in the flow table in bulk; a
 * flow found live, in its own orientation, with a current transform, is
 * forwarded and remembered in the exact-match table. */
static void table_resolve(struct burst *b, void **objs, uint8_t *next)
{
	const void *keys[RTE_HASH_LOOKUP_BULK_MAX];
	int32_t pos[RTE_HASH_LOOKUP_BULK_MAX];

	for (uint16_t base = 0; base < b->nt; base += RTE_HASH_LOOKUP_BULK_MAX) {
		uint16_t n = RTE_MIN(b->nt - base, RTE_HASH_LOOKUP_BULK_MAX);

		for (uint16_t j = 0; j < n; j++)
			keys[j] = &b->t[base + j].ck;
		rte_hash_lookup_bulk(b->ct->flows.h, keys, n, pos);
		for (uint16_t j = 0; j < n; j++)
			if (pos[j] >= 0) {
				rte_prefetch0(ss_ct_entry_at(b->ct, (uint32_t)pos[j]));
				rte_prefetch0(&b->ct->xf[pos[j]]);
			}
		for (uint16_t j = 0; j < n; j++) {
			struct pending *p = &b->t[base + j];
			struct rte_mbuf *m = objs[p->idx];
			uint64_t bit = 1ull << (p->sig & 63);
			struct ss_emc_ent *ent;
			struct ss_ct_entry *e;
			struct ss_ct_xform x;
			uint32_t owner;

			next[p->idx] = FAST_NEXT_PARSE;
			if (p->deny) {
				/* no flow for the key (not even one being set up or
				 * removed): policy_out would classify it, as before */
				if ((b->slow & bit) || pos[j] >= 0)
					b->slow |= bit;
				else
					next[p->idx] = deny_apply(b, m, ss_ports.by_eth_id[m->port], p);
				continue;
			}
			if ((b->slow & bit) || pos[j] < 0) {
				b->slow |= bit;
				continue;
			}
			if (p->dir == SS_ACL_IN) {
				next[p->idx] = in_table_hit(b, m, p, (uint32_t)pos[j]);
				if (next[p->idx] == FAST_NEXT_PENDING) {
					next[p->idx] = FAST_NEXT_PARSE;
					b->slow |= bit;
				}
				continue;
			}
			e = ss_ct_entry_at(b->ct, (uint32_t)pos[j]);
			owner = ss_ct_xform_owner(e->seq, p->side);
			/* the packet travels the way the flow says (policy_chunk) */
			if ((e->init_dir == SS_ACL_OUT) != (p->side == e->init_side) ||
			    !flow_live(b->ct, b->acl, (uint32_t)pos[j], owner, p->eni, b->now) ||
			    !ss_ct_xform_read(&b->ct->xf[pos[j]], &x) || !x.valid || x.gen != b->gen ||
			    x.owner != owner || !skippable(&fast.out, b->sk_out, b->skip_epoch, p->eni)) {
				b->slow |= bit;
				continue;
			}
			next[p->idx] = out_apply(b, m, ss_ports.by_eth_id[m->port], &p->k, p->eni, &x,
						 (uint32_t)pos[j], owner);
			b->emc->table_hits++;
			b->emc->out_table_hits++;
			if (b->bypass)
				continue;   /* not filled while bypassed */
			/* the exact-match table takes it (its own entry, or a way) */
			ent = ss_emc_find(b->emc, &p->k, p->sig);
			if (ent == NULL)
				ent = ss_emc_victim(b->emc, p->sig);
			b->emc->fills++;
			ent->key = p->k;
			ent->sig = p->sig;
			ent->eni = p->eni;
			ent->pos = (uint32_t)pos[j];
			ent->owner = owner;
			ent->ct = b->ct;
			ent->deny = 0;
		}
	}
}

/* Once per burst: the outbound exact-match bypass (ct_emc.h) counted down
 * by the packets that took it, or decided at the end of a window. */
static inline void out_bypass_update(struct ss_emc *emc, uint16_t nbypassed)
{
	uint64_t h, t;

	if (emc->out_bypass != 0) {
		emc->bypassed += nbypassed;
		emc->out_bypass = emc->out_bypass > nbypassed ? emc->out_bypass - nbypassed : 0;
		if (emc->out_bypass == 0) {
			emc->out_bursts = 0;
			emc->out_hits0 = emc->hits;
			emc->out_table0 = emc->out_table_hits;
		}
		return;
	}
	if (++emc->out_bursts < SS_EMC_OUT_WINDOW)
		return;
	h = emc->hits - emc->out_hits0;
	t = emc->out_table_hits - emc->out_table0;
	if (h >= SS_EMC_OUT_MIN_HITS && t * 16 > h * 15)
		emc->out_bypass = SS_EMC_OUT_BYPASS;
	emc->out_bursts = 0;
	emc->out_hits0 = emc->hits;
	emc->out_table0 = emc->out_table_hits;
}

static uint16_t fast_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb)
{
	struct fast_ctx *ctx = (struct fast_ctx *)node->ctx;
	struct burst b;   /* not zeroed whole: the pending list is large */
	uint8_t next[RTE_GRAPH_BURST_SIZE];
	uint16_t i, hits = 0, eth_id = UINT16_MAX, pi = 0;
	bool host = false;

	b.w = ctx->w;
	b.emc = ctx->emc;
	b.nt = 0;
	b.slow = 0;
	memset(b.deny, 0, sizeof(b.deny));

	/* before the walk's first table lookup: what this walk resolves is
	 * stamped with it (ss_ovl_walk_gen) */
	b.ws = &ss_ovl_wstate[b.w->index];
	b.gen = ss_ovl_gen_read();
	b.ws->walk_gen = b.gen;
	b.ws->walk_id = b.w->walks + 1;
	b.ct = ss_ct_current();
	/* while a live packet trace picks packets at parse (trace.start,
	 * docs/trace.md), every packet takes the full path so that packets of
	 * cached flows are traced too */
	if (unlikely(b.ct == NULL || ss_trace_live_armed())) {
		rte_node_next_stream_move(graph, node, FAST_NEXT_PARSE);
		return nb;
	}
	b.acl = ss_acl_current();
	b.now = rte_rdtsc();
	b.sk_out = b.emc->skip[0];
	b.sk_in = b.emc->skip[1];
	b.skip_epoch = ss_arc_fast_skip_epoch();
	b.bypass = b.emc->out_bypass != 0;
	b.nbypassed = 0;
	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

		/* a burst mostly comes from one port: its role looked up once */
		if (unlikely(m->port != eth_id)) {
			eth_id = m->port;
			pi = ss_ports.by_eth_id[eth_id];
			host = ss_ports.ports[pi].role == SS_ROLE_HOST;
		}
		if (i + 2 < nb)
			rte_prefetch0(rte_pktmbuf_mtod((struct rte_mbuf *)objs[i + 2], void *));
		if (unlikely(m->nb_segs != 1))
			next[i] = FAST_NEXT_PARSE;
		else if (host) {
			struct ss_emc_key k;

			next[i] = !fast.out.off && ss_emc_key_of(d, rte_pktmbuf_data_len(m), pi, &k)
				  ? fast_out(&b, m, d, pi, i, &k) : FAST_NEXT_PARSE;
		}
		else
			next[i] = fast_in(&b, m, d, pi, i);
	}
	if (b.nt > 0)
		table_resolve(&b, objs, next);
	for (i = 0; i < nb; i++)
		hits += next[i] == FAST_NEXT_TX;
	b.emc->hits += hits;
	out_bypass_update(b.emc, b.nbypassed);
	ss_node_dispatch(graph, node, objs, nb, next);
	/* a cached deny is policy_out's (policy_in's) drop: counted under
	 * it, as on the full path (ss_node_dispatch stamped flow_fast) */
	for (unsigned int dir = 0; dir < 2; dir++)
		for (i = 0; i < RTE_DIM(b.deny[dir]); i++)
			for (uint64_t bits = b.deny[dir][i]; bits != 0; bits &= bits - 1)
				ss_meta(objs[i * 64 + (unsigned int)__builtin_ctzll(bits)])
					->drop_node = (uint16_t)fast.policy[dir];
	return nb;
}

static int fast_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct fast_ctx *ctx = (struct fast_ctx *)node->ctx;
	int rc = ss_node_init_worker(graph, node);
	unsigned int wi;

	if (rc != 0)
		return rc;
	flow_fast_arcs();
	wi = ctx->w->index;
	if (ss_emc_of[wi] == NULL) {
		ss_emc_of[wi] = rte_zmalloc_socket("ss_emc", sizeof(struct ss_emc),
						   RTE_CACHE_LINE_SIZE, graph->socket);
		if (ss_emc_of[wi] == NULL)
			return -ENOMEM;
		ss_emc_of[wi]->in = rte_zmalloc_socket("ss_emc_in",
						       sizeof(struct ss_emc_in_ent) * SS_EMC_ENTRIES,
						       alignof(struct ss_emc_in_ent), graph->socket);
		if (ss_emc_of[wi]->in == NULL) {
			rte_free(ss_emc_of[wi]);
			ss_emc_of[wi] = NULL;
			return -ENOMEM;
		}
	}
	ctx->emc = ss_emc_of[wi];
	return 0;
}

static void fast_fini(const struct rte_graph *graph, struct rte_node *node)
{
	struct fast_ctx *ctx = (struct fast_ctx *)node->ctx;

	RTE_SET_USED(graph);
	if (ctx->w != NULL && ss_emc_of[ctx->w->index] == ctx->emc) {
		ss_emc_of[ctx->w->index] = NULL;
		rte_free(ctx->emc->in);
		rte_free(ctx->emc);
	}
	ctx->emc = NULL;
}

static struct rte_node_register fast_node = {
	.name = SS_NODE_FLOW_FAST,
	.process = fast_process,
	.init = fast_init,
	.fini = fast_fini,
	.nb_edges = FAST_NB_NEXT,
	.next_nodes = {
		[FAST_NEXT_DROP] = SS_NODE_DROP,
		[FAST_NEXT_PARSE] = "parse",
		[FAST_NEXT_TX] = "port_tx",
	},
};
RTE_NODE_REGISTER(fast_node);
