/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What the policy stage needs to know about a packet: its flow key (the
 * connection, direction-free), its classifier key (the packet as it is),
 * and for ICMP errors the flow of the packet they quote (RFC 792, RFC 4443
 * section 2.4: the invoking packet's IP header and at least 8 bytes of it
 * follow the 8-byte ICMP header), for fragments the datagram they belong
 * to. Only bytes inside the tenant packet (as its IP length delimits it)
 * are read; parse has checked every header it reported.
 */
#include <string.h>

#include "pipelines/conntrack/ct.h"

#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_ICMPV6 58

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The canonical key: endpoint a is the smaller (address, port) as
 * big-endian numbers. Constant-size copies per family (this runs for every
 * packet). */
static inline uint8_t key4(struct ss_ct_key *k, uint32_t eni, uint8_t proto, const uint8_t *src,
			   const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	uint32_t s = rd32(src), d = rd32(dst);
	uint8_t side = s > d || (s == d && sport > dport);

	memset(k, 0, sizeof(*k));
	k->eni = eni;
	k->proto = proto;
	memcpy(k->a, side ? dst : src, 4);
	memcpy(k->b, side ? src : dst, 4);
	k->pa = side ? dport : sport;
	k->pb = side ? sport : dport;
	return side;
}

static inline uint8_t key6(struct ss_ct_key *k, uint32_t eni, uint8_t proto, const uint8_t *src,
			   const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	uint64_t s, d;
	uint8_t side;

	memcpy(&s, src, 8);
	memcpy(&d, dst, 8);
	if (s == d) {
		memcpy(&s, src + 8, 8);
		memcpy(&d, dst + 8, 8);
	}
	s = rte_be_to_cpu_64(s);
	d = rte_be_to_cpu_64(d);
	side = s > d || (s == d && sport > dport);
	memset(k, 0, sizeof(*k));
	k->eni = eni;
	k->proto = proto;
	k->v6 = 1;
	memcpy(k->a, side ? dst : src, 16);
	memcpy(k->b, side ? src : dst, 16);
	k->pa = side ? dport : sport;
	k->pb = side ? sport : dport;
	return side;
}

uint8_t ss_ct_key_make(struct ss_ct_key *k, uint32_t eni, uint8_t proto, int v6,
		       const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	return v6 ? key6(k, eni, proto, src, dst, sport, dport)
		  : key4(k, eni, proto, src, dst, sport, dport);
}

/* An echo exchange is a connection from the requester's port `id` to the
 * responder's port 0: a request and its reply make one flow, a request in
 * the other direction is another one. Returns 1 for echo messages. */
static inline int echo_ports(uint8_t proto, uint8_t type, uint16_t id, uint16_t *sp,
			     uint16_t *dp)
{
	int req = proto == P_ICMP ? type == 8 : type == 128;
	int rep = proto == P_ICMP ? type == 0 : type == 129;

	if (!req && !rep)
		return 0;
	*sp = req ? id : 0;
	*dp = req ? 0 : id;
	return 1;
}

static inline int icmp_is_error(uint8_t proto, uint8_t type)
{
	if (proto == P_ICMP)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* IPv6: walk the extension headers from `off` (next header `nh`) to the
 * upper layer, within [.., end). Returns the upper-layer offset and sets
 * *proto, or -1. Fragment header: *frag_id and *frag_off. */
static int v6_walk(const uint8_t *d, uint32_t off, uint32_t end, uint8_t nh, uint8_t *proto,
		   uint32_t *frag_id, uint16_t *frag_off)
{
	for (int n = 0; n < 8; n++) {
		uint32_t hlen;

		switch (nh) {
		case 0:    /* hop-by-hop */
		case 43:   /* routing */
		case 60:   /* destination options */
			if (end - off < 8)
				return -1;
			hlen = ((uint32_t)d[off + 1] + 1) * 8;
			break;
		case 51:   /* AH */
			if (end - off < 8)
				return -1;
			hlen = ((uint32_t)d[off + 1] + 2) * 4;
			break;
		case 44:   /* fragment */
			if (end - off < 8)
				return -1;
			if (frag_id)
				*frag_id = rd32(d + off + 4);
			if (frag_off)
				*frag_off = rd16(d + off + 2);   /* offset << 3 | M */
			hlen = 8;
			break;
		default:
			*proto = nh;
			return (int)off;
		}
		if (hlen > end - off)
			return -1;
		nh = d[off];
		off += hlen;
	}
	return -1;
}

/* The quoted packet of an ICMP error at `icmp` (8-byte header) -> its flow
 * key. 0 or -1 when the quote is too short or not a first fragment. */
static int embedded_key(const uint8_t *d, uint32_t icmp, uint32_t end, int v6, uint32_t eni,
			struct ss_ct_key *k, uint8_t *side)
{
	uint32_t off = icmp + 8, l4;
	const uint8_t *src, *dst;
	uint16_t sp = 0, dp = 0;
	uint8_t proto;

	if (end < off)
		return -1;
	if (!v6) {
		uint32_t ihl;

		if (end - off < 20 || (d[off] >> 4) != 4)
			return -1;
		ihl = (uint32_t)(d[off] & 0x0f) * 4;
		if (ihl < 20 || (rd16(d + off + 6) & 0x1fff) != 0)
			return -1;
		proto = d[off + 9];
		src = d + off + 12;
		dst = d + off + 16;
		l4 = off + ihl;
	} else {
		uint16_t fo = 0;
		int r;

		if (end - off < 40 || (d[off] >> 4) != 6)
			return -1;
		src = d + off + 8;
		dst = d + off + 24;
		r = v6_walk(d, off + 40, end, d[off + 6], &proto, NULL, &fo);
		if (r < 0 || (fo & 0xfff8) != 0)
			return -1;
		l4 = (uint32_t)r;
	}
	if (proto == P_TCP || proto == P_UDP) {
		if (l4 > end || end - l4 < 4)
			return -1;
		sp = rd16(d + l4);
		dp = rd16(d + l4 + 2);
	} else if (proto == P_ICMP || proto == P_ICMPV6) {
		if (l4 > end || end - l4 < 8)
			return -1;
		echo_ports(proto, d[l4], rd16(d + l4 + 4), &sp, &dp);
	}
	*side = ss_ct_key_make(k, eni, proto, v6, src, dst, sp, dp);
	return 0;
}

void ss_ct_extract(const struct ss_ct_pkt *p, unsigned int dir, struct ss_ct_info *out)
{
	const struct ss_layer *l = p->l;
	const uint8_t *d = p->data, *ip, *src, *dst;
	uint16_t csp = 0, cdp = 0;
	uint32_t end;
	int v6;

	out->kind = SS_CT_K_OTHER;
	out->tcp_flags = 0;
	out->first_frag = 0;
	out->can_create = 0;
	out->ip_len = l->l3_len;
	if (l->l3 != SS_L3_IPV4 && l->l3 != SS_L3_IPV6)
		return;
	v6 = l->l3 == SS_L3_IPV6;
	ip = d + l->l3_off;
	end = (uint32_t)l->l3_off + l->l3_len;
	src = v6 ? ip + 8 : ip + 12;
	dst = v6 ? ip + 24 : ip + 16;
	out->kind = SS_CT_K_NORMAL;

	if (l->flags & SS_PF_FRAG) {
		struct ss_ct_frag_key *f = &out->frag;
		uint16_t word = 0, offset;
		uint32_t id = 0;
		int more;

		memset(f, 0, sizeof(*f));
		if (v6) {
			v6_walk(d, (uint32_t)l->l3_off + 40, end, ip[6], &f->proto, &id, &word);
			offset = word >> 3;
			more = word & 1;
		} else {
			id = rd16(ip + 4);
			word = rd16(ip + 6);
			offset = word & 0x1fff;
			more = (word & 0x2000) != 0;
		}
		f->eni = p->eni;
		f->id = id;
		f->proto = l->proto;
		f->v6 = (uint8_t)v6;
		f->dir = (uint8_t)dir;
		memcpy(f->src, src, v6 ? 16 : 4);
		memcpy(f->dst, dst, v6 ? 16 : 4);
		/* offset 0 without more fragments (an IPv6 atomic fragment, RFC
		 * 6946) is a whole packet */
		if (offset != 0)
			out->kind = SS_CT_K_NONFIRST;
		else if (more)
			out->first_frag = 1;
	}
	if (out->kind == SS_CT_K_NORMAL && (l->flags & SS_PF_L4)) {
		switch (l->proto) {
		case P_TCP:
			out->tcp_flags = d[l->l4_off + 13];
			/* fallthrough */
		case P_UDP:
			csp = l->sport;
			cdp = l->dport;
			break;
		case P_ICMP:
		case P_ICMPV6: {
			uint8_t type = d[l->l4_off];

			if (echo_ports(l->proto, type, l->sport, &csp, &cdp)) {
				/* ports set */
			} else if (icmp_is_error(l->proto, type) &&
				   embedded_key(d, l->l4_off, end, v6, p->eni, &out->emb,
						&out->emb_side) == 0) {
				out->kind = SS_CT_K_ICMP_ERR;
			}
			break;
		}
		default:
			break;
		}
	}
	out->side = v6 ? key6(&out->key, p->eni, l->proto, src, dst, csp, cdp)
		       : key4(&out->key, p->eni, l->proto, src, dst, csp, cdp);
	/* what may open a connection: a TCP SYN without ACK or RST (mid-stream
	 * TCP without a flow is forwarded by the ACL verdict but not tracked),
	 * any other first packet; never an ICMP error or a later fragment */
	if (out->kind == SS_CT_K_NORMAL)
		out->can_create = l->proto != P_TCP ||
				  (out->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
}

void ss_ct_extract_ports(struct ss_ct_info *out, uint16_t sport, uint16_t dport)
{
	const struct ss_ct_frag_key *f = &out->frag;

	out->side = ss_ct_key_make(&out->key, f->eni, f->proto, f->v6, f->src, f->dst, sport,
				   dport);
}

void ss_ct_acl_key(const struct ss_ct_key *k, uint8_t side, struct ss_acl_key *a)
{
	const uint8_t *src = side ? k->b : k->a, *dst = side ? k->a : k->b;
	uint16_t sp = 0, dp = 0;

	if (k->proto == P_TCP || k->proto == P_UDP) {
		sp = side ? k->pb : k->pa;
		dp = side ? k->pa : k->pb;
	}
	a->proto = k->proto;
	a->v6 = k->v6;
	a->pad[0] = a->pad[1] = 0;
	if (k->v6) {
		memcpy(a->a6.src, src, 16);
		memcpy(a->a6.dst, dst, 16);
		a->a6.sport = rte_cpu_to_be_16(sp);
		a->a6.dport = rte_cpu_to_be_16(dp);
	} else {
		memcpy(&a->a4.src, src, 4);
		memcpy(&a->a4.dst, dst, 4);
		a->a4.sport = rte_cpu_to_be_16(sp);
		a->a4.dport = rte_cpu_to_be_16(dp);
	}
}
