/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The flow fast path's exact-match cache (docs/conntrack.md "Fast path").
 *
 * A packet of a known outbound flow need not walk parse, overlay_host,
 * policy_out, rate_limit and route_out to meet its flow's cached transform
 * (ct_xform.h): flow_fast, the node right after port_rx for host ports,
 * reads the few header fields that identify it, finds the flow in a
 * per-worker 2-way table keyed by exactly those fields, checks
 * that everything the full path would have decided is still what it
 * decided, and applies the transform. Like OVS's EMC in front of its
 * classifier; unlike it, an entry holds no action, only a reference:
 *
 *   key:   ingress port, VLAN tag, source MAC (what selects the ENI, as
 *          overlay_host looks it up) and the IPv4 5-tuple as it is in the
 *          frame;
 *   value: the ENI, the flow table it was found in, the flow's position
 *          and owner stamp (ct_xform.h: incarnation and side).
 *
 * An entry is only a hint: a hit is taken when the flow is still live,
 * still that incarnation, not closing, not expired, checked against its
 * ENI's current ACL generation, and its transform slot holds a transform
 * of the current overlay generation for that owner. Anything else, and
 * any packet the full path would look at more closely (not IPv4 TCP/UDP,
 * IP options, fragments, TCP SYN/FIN/RST, VXLAN or RoCEv2 ports, two VLAN
 * tags, a bad header checksum, inconsistent lengths), takes the full path,
 * which decides exactly as before. Entries are written by route_out when it
 * applied a transform through the full path (ss_emc_fill), i.e. for a flow
 * whose transform is known to be current.
 *
 * Only the worker that owns a table reads or writes it: no atomics.
 */
#ifndef SS_CT_EMC_H
#define SS_CT_EMC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>

#include "dataplane/worker-t.h"
#include "pipelines/acl/acl-t.h"
#include "pipelines/conntrack/ct-t.h"
#include "pipelines/conntrack/ct_xform.h"

#define SS_NODE_FLOW_FAST "flow_fast"

#define SS_EMC_ENTRIES 8192u   /* per worker, a power of two: 512 KiB */
#define SS_EMC_MASK (SS_EMC_ENTRIES - 1)

/* The fields of a frame the entry is keyed on (24 bytes, network order). */
struct ss_emc_key {
	uint16_t port;      /* sswitch port index */
	uint16_t tci;       /* 0: untagged; else 0x1000 | VLAN id */
	uint8_t smac[6];
	uint8_t proto;
	uint8_t l3_off;     /* 14 or 18 (part of the key: cheaper than masking) */
	uint32_t src, dst;
	uint16_t sport, dport;
};
_Static_assert(sizeof(struct ss_emc_key) == 24, "emc key");

/* An entry forwards (deny 0: the flow at pos of table ct, its transform)
 * or drops (deny 1: a cached acl_deny verdict, ss_emc_deny_fill). */
struct ss_emc_ent {
	struct ss_emc_key key;
	uint32_t sig;              /* key hash, 0: empty */
	uint32_t eni;
	union {
		struct {
			uint32_t pos;      /* flow position in ct */
			uint32_t owner;    /* ss_ct_xform_owner() of the flow side */
		};
		struct {
			uint32_t acl_gen;  /* deny: the ENI's ACL generation classified at */
			uint32_t gen;      /* deny: overlay generation of the ENI resolution */
		};
	};
	const struct ss_ct *ct;    /* the flow table pos belongs to; deny: NULL */
	uint8_t deny;
	/* deny: rank + 1 of the rule that decided each ACL stage, 0: none
	 * (ss_acl_decided, 24 bits: ranks < SS_ACL_MAX_EXPANDED) */
	uint8_t rule[SS_ACL_MAX_STAGES][3];
} __rte_aligned(64);   /* 64 bytes also where a cache line is 128 (arm64 generic) */
_Static_assert(sizeof(struct ss_emc_ent) == 64, "emc entry: 64 bytes");
_Static_assert(SS_ACL_MAX_EXPANDED < (1u << 24), "emc deny rule ranks: 24 bits");

/* The ENI of a host-port source (ingress port, tag, source MAC), as
 * overlay_host resolved it at overlay generation `gen`: lets the fast path
 * find a flow the exact-match table does not hold (more flows than
 * entries) in the flow table itself. */
struct ss_emc_eni {
	uint16_t port;
	uint16_t tci;
	uint8_t smac[6];
	uint16_t pad;
	uint32_t eni;
	uint32_t gen;              /* 0 with eni 0: empty */
};

#define SS_EMC_ENI_ENTRIES 256u

/* Inbound, what the full path resolved for a VXLAN packet it delivered to
 * a host-port ENI, keyed by what it resolved it from: fabric port, outer
 * source (PA validation: the ENI's inbound route for it, or its VNET's
 * PA tables), outer destination (the VIP), VNI (the VNET), tenant
 * destination MAC (the ENI in the VNET); the ENI, its delivery (host port,
 * tag), at overlay generation `gen`. Only delivered packets write it, so
 * an entry also says "PA validation passed". Lets the fast path find an
 * inbound flow the exact-match table does not hold in the flow table. */
struct ss_emc_inres {
	uint16_t port;
	uint8_t dmac[6];
	uint32_t vni;              /* VXLAN header word 2 as in the frame */
	uint32_t osrc, odst;
	uint32_t eni;              /* 0: empty */
	uint32_t gen;
	uint16_t out_port;
	uint16_t vlan;
};
_Static_assert(sizeof(struct ss_emc_inres) == 32, "emc inbound resolution");

#define SS_EMC_INRES_ENTRIES 4096u   /* per worker, direct-mapped: 128 KiB */
#define SS_EMC_IN_WINDOW 65536u
#define SS_EMC_IN_PAUSE (1u << 20)
/* outbound: when over SS_EMC_OUT_WINDOW bursts (and at least
 * SS_EMC_OUT_MIN_HITS fast-path hits) more than 15/16 of the hits were
 * found in the flow table, not in the exact-match table (far more live
 * flows than its entries), the probe and the fill are turned off for
 * SS_EMC_OUT_BYPASS packets: they go straight to the bulk flow-table
 * lookup. Decided per burst from counters kept anyway: nothing per packet */
#define SS_EMC_OUT_WINDOW 64u
#define SS_EMC_OUT_MIN_HITS 1024u
#define SS_EMC_OUT_BYPASS (1u << 20)

struct ss_emc_in_ent;

/* flow_fast's memo of the arc features' fast_skip answers for an ENI
 * (pipelines/common/arc.h), valid while epoch is ss_arc_skip_epoch. */
#define SS_EMC_SKIP_ENTRIES 1024u
struct ss_emc_skip {
	uint32_t eni;
	uint32_t ok;
	uint64_t epoch;            /* 0: empty (the epoch starts at 1) */
};

struct ss_emc {
	uint64_t hits;             /* packets forwarded by flow_fast */
	uint64_t fills;            /* entries written */
	struct ss_emc_ent ent[SS_EMC_ENTRIES];
	uint64_t table_hits;       /* of hits: found in the flow table, not in ent[] / in[] */
	uint64_t deny_hits;        /* packets dropped acl_deny by a cached deny */
	/* inbound probes that mostly miss both the exact-match table and the
	 * flow table (flows not yet delivered by the full path, e.g. a flood
	 * of new connections) cost a probe and evict another flow, for
	 * nothing. Out of each SS_EMC_IN_WINDOW probes, fewer than 1/16 hits
	 * (exact-match or flow table) switch the inbound probe and fill off
	 * for SS_EMC_IN_PAUSE packets (then it tries again). */
	uint32_t in_probes, in_hits;
	uint32_t in_off;           /* packets the inbound fast path still skips */
	/* outbound: the same idea for a table too small for the live flows
	 * (SS_EMC_OUT_WINDOW): probes cost two cache misses and fills evict
	 * the flows the next probes look for */
	uint32_t out_bursts;       /* of the current window */
	uint32_t out_bypass;       /* packets that still go straight to the flow table */
	uint64_t out_table_hits;   /* outbound of table_hits */
	uint64_t out_hits0, out_table0; /* hits, out_table_hits at the window's start */
	uint64_t bypassed;         /* packets that did (flow_fast_emc_bypassed) */
	struct ss_emc_in_ent *in;  /* SS_EMC_ENTRIES inbound entries */
	struct ss_emc_eni eni[SS_EMC_ENI_ENTRIES];
	struct ss_emc_inres inres[SS_EMC_INRES_ENTRIES];
	struct ss_emc_skip skip[2][SS_EMC_SKIP_ENTRIES];   /* [0] outbound, [1] inbound */
};

static inline uint32_t ss_emc_eni_slot(const struct ss_emc_key *k)
{
	uint64_t w;

	memcpy(&w, k, sizeof(w));   /* port, tci, smac[0..3] */
	return rte_hash_crc_4byte((uint32_t)(k->smac[4] << 8 | k->smac[5]),
				  rte_hash_crc_8byte(w, 0)) & (SS_EMC_ENI_ENTRIES - 1);
}

/* The published flow table (RCU: valid for the walk; ct_feature.c). */
struct ss_ct *ss_ct_current(void);

/* Per worker, allocated by flow_fast's init (NULL without that node). */
extern struct ss_emc *ss_emc_of[SS_MAX_WORKERS];

#define SS_EMC_TCP_SYN_FIN_RST 0x07

static inline uint16_t ss_emc_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Whether the IPv4 packet at ip, with `avail` bytes to the end of its
 * frame, is one the fast path may take: no options, not a fragment, a
 * correct header checksum, consistent lengths, TCP without SYN, FIN or RST
 * (those change the connection's state) or UDP not to the VXLAN or RoCEv2
 * ports. Anything else parse would look at more closely. */
static inline bool ss_emc_ip4_plain(const uint8_t *ip, uint32_t avail)
{
	uint32_t tot, sum, w[5];
	uint64_t s64;

	if (unlikely(avail < 20 + 8) || ip[0] != 0x45 || (ss_emc_rd16(ip + 6) & 0x3fff) != 0)
		return false;
	tot = ss_emc_rd16(ip + 2);
	if (tot > avail)
		return false;
	/* the protocol first: what the fast path never takes (RoCEv2 on a
	 * host port, SYN/FIN/RST) leaves before the checksum is summed */
	switch (ip[9]) {
	case IPPROTO_TCP: {
		uint32_t doff;

		if (tot < 20 + 20)
			return false;
		doff = (uint32_t)(ip[20 + 12] >> 4) * 4;
		if (doff < 20 || doff > tot - 20 || (ip[20 + 13] & SS_EMC_TCP_SYN_FIN_RST))
			return false;
		break;
	}
	case IPPROTO_UDP: {
		uint32_t ulen = ss_emc_rd16(ip + 20 + 4);
		uint16_t dp = ss_emc_rd16(ip + 20 + 2);

		if (ulen < 8 || ulen > tot - 20 || dp == 4789 || dp == 4791)
			return false;
		break;
	}
	default:
		return false;
	}
	/* RFC 1071 over the five 32-bit words, in any byte order: the sum
	 * verifies exactly when it folds to 0xffff */
	memcpy(w, ip, sizeof(w));
	s64 = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s64 = (s64 & 0xffffffff) + (s64 >> 32);
	sum = (uint32_t)((s64 & 0xffff) + (s64 >> 16));
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;   /* else parse drops it (ip_checksum_bad) */
}

/* The key of a host-port frame the fast path may take (an untagged or
 * singly tagged plain IPv4 packet, ss_emc_ip4_plain); false otherwise. */
static inline bool ss_emc_key_of(const uint8_t *d, uint32_t len, uint16_t port,
				 struct ss_emc_key *k)
{
	uint32_t l3 = RTE_ETHER_HDR_LEN;
	uint16_t et;
	const uint8_t *ip;

	if (unlikely(len < RTE_ETHER_HDR_LEN + 20 + 8))
		return false;
	et = ss_emc_rd16(d + 12);
	k->tci = 0;
	if (et == RTE_ETHER_TYPE_VLAN) {
		k->tci = (uint16_t)(0x1000 | (ss_emc_rd16(d + 14) & 0x0fff));
		et = ss_emc_rd16(d + 16);
		l3 += 4;
	}
	ip = d + l3;
	if (et != RTE_ETHER_TYPE_IPV4 || !ss_emc_ip4_plain(ip, len - l3))
		return false;
	k->port = port;
	memcpy(k->smac, d + 6, 6);
	k->proto = ip[9];
	k->l3_off = (uint8_t)l3;
	memcpy(&k->src, ip + 12, 8);
	memcpy(&k->sport, ip + 20, 4);
	return true;
}

/* ---- inbound: VXLAN from the fabric to a VIP, decapsulated to an ENI ---- */

/* Outer Ethernet (untagged, to the port's own MAC) + IPv4 + UDP + VXLAN:
 * 50 bytes, then the tenant frame. */
#define SS_EMC_IN_HLEN (RTE_ETHER_HDR_LEN + 20 + 8 + 8)

struct ss_emc_in_key {
	uint16_t port;      /* sswitch port index */
	uint8_t proto;      /* tenant L4 protocol */
	uint8_t pad0;
	uint32_t vni;       /* VXLAN header word 2 as in the frame (VNI << 8) */
	uint32_t osrc, odst; /* outer addresses: PA validation, VIP */
	uint8_t dmac[6];    /* tenant destination MAC: the ENI */
	uint16_t pad1;
	uint32_t src, dst;  /* tenant 5-tuple */
	uint16_t sport, dport;
	uint32_t pad2;
};
_Static_assert(sizeof(struct ss_emc_in_key) == 40, "emc inbound key");

struct ss_emc_in_ent {
	struct ss_emc_in_key key;
	uint32_t sig;              /* 0: empty */
	uint32_t eni;
	uint32_t pos;
	uint32_t owner;
	uint32_t gen;              /* overlay generation the delivery was resolved at */
	uint16_t out_port;         /* the ENI's host port */
	uint16_t vlan;             /* tag to push, 0: none */
	const struct ss_ct *ct;    /* deny: NULL */
	/* deny 1: a cached acl_deny verdict (ss_emc_in_deny_fill), classified
	 * at the ENI's ACL generation acl_gen by the rules dec, the ENI
	 * resolved (VIP, VNI, ENI, PA validation) at overlay generation gen;
	 * pos, owner, out_port, vlan unused */
	uint8_t deny;
	uint32_t acl_gen;
	struct ss_acl_decided dec;
} __rte_aligned(128);
_Static_assert(sizeof(struct ss_emc_in_ent) == 128, "emc inbound entry: two cache lines");

/* ECN of the decapsulated packet (RFC 6040) equals the inner one: the
 * full path would not rewrite the tenant header nor drop it. */
static inline bool ss_emc_ecn_same(uint8_t outer, uint8_t inner)
{
	outer &= 3;
	inner &= 3;
	if (outer == 3)
		return inner == 3;
	return !(inner == 2 && outer == 1);
}

/* The key of a fabric-port frame the fast path may take: untagged to the
 * port's MAC, IPv4 without options or fragments to UDP 4789 with a VXLAN
 * header whose flags are exactly I, around an untagged plain IPv4 tenant
 * packet whose ECN the decapsulation keeps. */
static inline bool ss_emc_in_key_of(const uint8_t *d, uint32_t len, uint16_t port,
				    const uint8_t port_mac[6], struct ss_emc_in_key *k)
{
	const uint8_t *ip = d + RTE_ETHER_HDR_LEN, *in, *iip;
	uint32_t tot, ulen, s32 = 0, w[5];
	uint64_t s64;

	if (unlikely(len < SS_EMC_IN_HLEN + RTE_ETHER_HDR_LEN + 20 + 8) ||
	    ss_emc_rd16(d + 12) != RTE_ETHER_TYPE_IPV4 || memcmp(d, port_mac, 6) != 0 ||
	    ip[0] != 0x45 || ip[9] != IPPROTO_UDP || (ss_emc_rd16(ip + 6) & 0x3fff) != 0 ||
	    ss_emc_rd16(ip + 22) != 4789 || ip[28] != 0x08)
		return false;
	tot = ss_emc_rd16(ip + 2);
	ulen = ss_emc_rd16(ip + 24);
	if (tot > len - RTE_ETHER_HDR_LEN || ulen > tot - 20 ||
	    ulen < 8 + 8 + RTE_ETHER_HDR_LEN + 20 + 8)
		return false;
	memcpy(w, ip, sizeof(w));
	s64 = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	s64 = (s64 & 0xffffffff) + (s64 >> 32);
	s32 = (uint32_t)((s64 & 0xffff) + (s64 >> 16));
	s32 = (s32 & 0xffff) + (s32 >> 16);
	s32 = (s32 & 0xffff) + (s32 >> 16);
	if (s32 != 0xffff)
		return false;
	in = d + SS_EMC_IN_HLEN;
	iip = in + RTE_ETHER_HDR_LEN;
	/* the tenant frame ends where the UDP datagram ends */
	if (ss_emc_rd16(in + 12) != RTE_ETHER_TYPE_IPV4 ||
	    !ss_emc_ip4_plain(iip, ulen - 16 - RTE_ETHER_HDR_LEN) || !ss_emc_ecn_same(ip[1], iip[1]))
		return false;
	k->port = port;
	k->proto = iip[9];
	k->pad0 = 0;
	memcpy(&k->vni, ip + 32, 4);
	memcpy(&k->osrc, ip + 12, 8);
	memcpy(k->dmac, in, 6);
	k->pad1 = 0;
	memcpy(&k->src, iip + 12, 8);
	memcpy(&k->sport, iip + 20, 4);
	k->pad2 = 0;
	return true;
}

static inline uint32_t ss_emc_hash(const struct ss_emc_key *k)
{
	uint64_t w[3];
	uint32_t h;

	memcpy(w, k, sizeof(w));
	h = rte_hash_crc_8byte(w[0], 0x5eed);
	h = rte_hash_crc_8byte(w[1], h);
	h = rte_hash_crc_8byte(w[2], h);
	return h ? h : 1;
}

static inline bool ss_emc_key_eq(const struct ss_emc_key *a, const struct ss_emc_key *b)
{
	uint64_t x[3], y[3];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2])) == 0;
}

static inline uint32_t ss_emc_in_hash(const struct ss_emc_in_key *k)
{
	uint64_t w[5];
	uint32_t h = 0x5eed;

	memcpy(w, k, sizeof(w));
	for (unsigned int i = 0; i < 5; i++)
		h = rte_hash_crc_8byte(w[i], h);
	return h ? h : 1;
}

static inline bool ss_emc_in_key_eq(const struct ss_emc_in_key *a, const struct ss_emc_in_key *b)
{
	uint64_t x[5], y[5];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}

/* A key's two places: two independent slices of its hash. */
static inline uint32_t ss_emc_way(uint32_t sig, unsigned int way)
{
	return (way ? sig >> 16 : sig) & SS_EMC_MASK;
}

/* The entry holding key k (hash sig), NULL if none. */
static inline struct ss_emc_ent *ss_emc_find(struct ss_emc *emc, const struct ss_emc_key *k,
					     uint32_t sig)
{
	struct ss_emc_ent *e = &emc->ent[ss_emc_way(sig, 0)];

	if (e->sig == sig && ss_emc_key_eq(&e->key, k))
		return e;
	e = &emc->ent[ss_emc_way(sig, 1)];
	if (e->sig == sig && ss_emc_key_eq(&e->key, k))
		return e;
	return NULL;
}

/* Where a key not in the table goes: an empty way, else one chosen by
 * another bit of its hash. */
static inline struct ss_emc_ent *ss_emc_victim(struct ss_emc *emc, uint32_t sig)
{
	struct ss_emc_ent *a = &emc->ent[ss_emc_way(sig, 0)];
	struct ss_emc_ent *b = &emc->ent[ss_emc_way(sig, 1)];

	return a->sig == 0 ? a : b->sig == 0 ? b : (sig & 0x10000) ? a : b;
}

/* route_out applied the transform of slot `slot` (flow position `pos` of
 * table ct, owner `owner`) to packet `m` of ENI `eni` through the full
 * path: remember it for the flow's next packets (and the ENI of its
 * source, resolved at overlay generation `gen`). `d`/`len`: the frame as
 * received (before the transform), port: its ingress port. */
static inline void ss_emc_fill(unsigned int worker, const uint8_t *d, uint32_t len, uint16_t port,
			       uint32_t eni, const struct ss_ct *ct, uint32_t pos, uint32_t owner,
			       uint32_t gen)
{
	struct ss_emc *emc = ss_emc_of[worker];
	struct ss_emc_key k;
	struct ss_emc_ent *e;
	uint32_t sig;

	if (emc == NULL || !ss_emc_key_of(d, len, port, &k))
		return;
	sig = ss_emc_hash(&k);
	/* its own entry, else an empty one, else the second way if the
	 * first holds a live key of another table, else the first */
	e = ss_emc_find(emc, &k, sig);
	if (e == NULL)
		e = ss_emc_victim(emc, sig);
	e->key = k;
	e->sig = sig;
	e->eni = eni;
	e->pos = pos;
	e->owner = owner;
	e->ct = ct;
	e->deny = 0;
	emc->fills++;
	{
		struct ss_emc_eni *n = &emc->eni[ss_emc_eni_slot(&k)];

		if (n->gen != gen || n->eni != eni || n->port != k.port || n->tci != k.tci ||
		    memcmp(n->smac, k.smac, 6) != 0) {
			n->port = k.port;
			n->tci = k.tci;
			memcpy(n->smac, k.smac, 6);
			n->eni = eni;
			n->gen = gen;
		}
	}
}

/* policy_out dropped packet `d` (the frame as received on host port
 * `port`, of ENI `eni` as overlay_host resolved it at overlay generation
 * `gen`) acl_deny as a packet of no flow, classified at the ENI's ACL
 * generation `acl_gen` by the rules *dec: remember the verdict for the
 * key's next packets (flow_fast drops them while both generations hold
 * and the flow table has no flow for them). */
static inline void ss_emc_deny_fill(unsigned int worker, const uint8_t *d, uint32_t len,
				    uint16_t port, uint32_t eni, uint32_t acl_gen, uint32_t gen,
				    const struct ss_acl_decided *dec)
{
	struct ss_emc *emc = ss_emc_of[worker];
	struct ss_emc_key k;
	struct ss_emc_ent *e;
	uint32_t sig;

	if (emc == NULL || !ss_emc_key_of(d, len, port, &k))
		return;
	sig = ss_emc_hash(&k);
	e = ss_emc_find(emc, &k, sig);
	if (e == NULL)
		e = ss_emc_victim(emc, sig);
	e->key = k;
	e->sig = sig;
	e->eni = eni;
	e->acl_gen = acl_gen;
	e->gen = gen;
	e->ct = NULL;
	e->deny = 1;
	for (unsigned int s = 0; s < SS_ACL_MAX_STAGES; s++) {
		e->rule[s][0] = (uint8_t)(dec->rule[s] >> 16);
		e->rule[s][1] = (uint8_t)(dec->rule[s] >> 8);
		e->rule[s][2] = (uint8_t)dec->rule[s];
	}
	emc->fills++;
}

/* The rules a deny entry recorded. */
static inline void ss_emc_deny_rules(const struct ss_emc_ent *e, struct ss_acl_decided *dec)
{
	for (unsigned int s = 0; s < SS_ACL_MAX_STAGES; s++)
		dec->rule[s] = (uint32_t)e->rule[s][0] << 16 | (uint32_t)e->rule[s][1] << 8 |
			       e->rule[s][2];
}

/* The same, for the flow whose transform slot is `slot` in the table
 * published now (a slot of a table replaced since is not remembered). */
static inline void ss_emc_fill_slot(unsigned int worker, const uint8_t *d, uint32_t len,
				    uint16_t port, uint32_t eni, const void *slot, uint32_t owner,
				    uint32_t gen)
{
	const struct ss_ct *ct = ss_ct_current();
	const struct ss_ct_xform *x = slot;

	if (ct == NULL || ss_emc_of[worker] == NULL || x < ct->xf || x >= ct->xf + ct->flows.nb_pos)
		return;
	ss_emc_fill(worker, d, len, port, eni, ct, (uint32_t)(x - ct->xf), owner, gen);
}

/* Where an inbound key not in the table goes (as ss_emc_victim). */
static inline struct ss_emc_in_ent *ss_emc_in_victim(struct ss_emc *emc, uint32_t sig)
{
	struct ss_emc_in_ent *a = &emc->in[ss_emc_way(sig, 0)];
	struct ss_emc_in_ent *b = &emc->in[ss_emc_way(sig, 1)];

	return a->sig == 0 ? a : b->sig == 0 ? b : (sig & 0x10000) ? a : b;
}

/* The resolution slot of an inbound key (ss_emc_inres). */
static inline struct ss_emc_inres *ss_emc_inres_of(struct ss_emc *emc,
						   const struct ss_emc_in_key *k)
{
	uint64_t a, m = 0;
	uint32_t h;

	memcpy(&a, &k->osrc, 8);   /* osrc, odst */
	memcpy(&m, k->dmac, 6);
	h = rte_hash_crc_8byte(a, k->vni ^ k->port);
	h = rte_hash_crc_8byte(m, h);
	return &emc->inres[h & (SS_EMC_INRES_ENTRIES - 1)];
}

static inline bool ss_emc_inres_match(const struct ss_emc_inres *r, const struct ss_emc_in_key *k)
{
	uint32_t a4, b4;
	uint16_t a2, b2;

	/* the MAC as two loads: a 6-byte memcmp is a libc call */
	memcpy(&a4, r->dmac, 4);
	memcpy(&b4, k->dmac, 4);
	memcpy(&a2, r->dmac + 4, 2);
	memcpy(&b2, k->dmac + 4, 2);
	return ((r->port ^ k->port) | (r->vni ^ k->vni) | (r->osrc ^ k->osrc) |
		(r->odst ^ k->odst) | (a4 ^ b4) | (uint32_t)(a2 ^ b2)) == 0;
}

static inline struct ss_emc_in_ent *ss_emc_in_find(struct ss_emc *emc,
						   const struct ss_emc_in_key *k, uint32_t sig)
{
	struct ss_emc_in_ent *e = &emc->in[ss_emc_way(sig, 0)];

	if (e->sig == sig && ss_emc_in_key_eq(&e->key, k))
		return e;
	e = &emc->in[ss_emc_way(sig, 1)];
	if (e->sig == sig && ss_emc_in_key_eq(&e->key, k))
		return e;
	return NULL;
}

/* vxlan_decap delivered packet `d` (the frame as received on fabric port
 * `port`) of the flow whose slot is `slot` (owner `owner`) to ENI `eni`
 * on host port `out_port` with tag `vlan`, from lookups made at overlay
 * generation `gen`: remember the resolution (ss_emc_inres) and the flow
 * for its next packets. */
static inline void ss_emc_in_fill(unsigned int worker, const uint8_t *d, uint32_t len,
				  uint16_t port, const uint8_t port_mac[6], uint32_t eni,
				  const void *slot, uint32_t owner, uint32_t gen, uint16_t out_port,
				  uint16_t vlan)
{
	struct ss_emc *emc = ss_emc_of[worker];
	const struct ss_ct *ct = ss_ct_current();
	const struct ss_ct_xform *x = slot;
	struct ss_emc_in_key k;
	struct ss_emc_in_ent *e;
	struct ss_emc_inres *r;
	uint32_t sig;

	if (emc == NULL || emc->in == NULL || !ss_emc_in_key_of(d, len, port, port_mac, &k))
		return;
	r = ss_emc_inres_of(emc, &k);
	if (r->eni != eni || r->gen != gen || r->out_port != out_port || r->vlan != vlan ||
	    !ss_emc_inres_match(r, &k)) {
		r->port = k.port;
		memcpy(r->dmac, k.dmac, 6);
		r->vni = k.vni;
		r->osrc = k.osrc;
		r->odst = k.odst;
		r->eni = eni;
		r->gen = gen;
		r->out_port = out_port;
		r->vlan = vlan;
	}
	if (emc->in_off != 0 || ct == NULL || x < ct->xf || x >= ct->xf + ct->flows.nb_pos)
		return;
	sig = ss_emc_in_hash(&k);
	e = ss_emc_in_find(emc, &k, sig);
	if (e == NULL)
		e = ss_emc_in_victim(emc, sig);
	e->key = k;
	e->sig = sig;
	e->eni = eni;
	e->pos = (uint32_t)(x - ct->xf);
	e->owner = owner;
	e->gen = gen;
	e->out_port = out_port;
	e->vlan = vlan;
	e->ct = ct;
	e->deny = 0;
	emc->fills++;
}

/* policy_in dropped packet `d` (the VXLAN frame as received on fabric
 * port `port`, to ENI `eni` as overlay_fabric and inbound_route resolved
 * and validated it at overlay generation `gen`) acl_deny as a packet of no
 * flow, classified at the ENI's ACL generation `acl_gen` by the rules
 * *dec: remember the verdict for the key's next packets. */
static inline void ss_emc_in_deny_fill(unsigned int worker, const uint8_t *d, uint32_t len,
				       uint16_t port, const uint8_t port_mac[6], uint32_t eni,
				       uint32_t acl_gen, uint32_t gen,
				       const struct ss_acl_decided *dec)
{
	struct ss_emc *emc = ss_emc_of[worker];
	struct ss_emc_in_key k;
	struct ss_emc_in_ent *e;
	uint32_t sig;

	if (emc == NULL || emc->in == NULL || emc->in_off != 0 ||
	    !ss_emc_in_key_of(d, len, port, port_mac, &k))
		return;
	sig = ss_emc_in_hash(&k);
	e = ss_emc_in_find(emc, &k, sig);
	if (e == NULL)
		e = ss_emc_in_victim(emc, sig);
	e->key = k;
	e->sig = sig;
	e->eni = eni;
	e->gen = gen;
	e->ct = NULL;
	e->deny = 1;
	e->acl_gen = acl_gen;
	e->dec = *dec;
	emc->fills++;
}

#endif
