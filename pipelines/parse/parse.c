/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The packet parser. See parse.h for the contract. Truncation is reported as
 * `parse_truncated` when a header does not fit in the bytes that contain it;
 * inconsistent header fields are `parse_bad_ip` / `parse_bad_l4`.
 */
#include <string.h>

#include "pipelines/drop/drop.h"
#include "pipelines/parse/parse.h"

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60

#define IPV6_MAX_EXT_HDRS 8

#define parse_likely(x) __builtin_expect(!!(x), 1)

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

uint16_t ss_csum_raw(const void *buf, uint32_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* L4 header at `off`, the IP payload ending at `end`. */
static int parse_l4(const uint8_t *p, uint32_t off, uint32_t end, struct ss_layer *l)
{
	uint32_t avail = end - off;

	l->l4_off = (uint16_t)off;
	switch (l->proto) {
	case IPPROTO_TCP_: {
		if (avail < 20)
			return SS_DROP_PARSE_TRUNCATED;
		uint32_t doff = (uint32_t)(p[off + 12] >> 4) * 4;
		if (doff < 20)
			return SS_DROP_PARSE_BAD_L4;
		if (doff > avail)
			return SS_DROP_PARSE_TRUNCATED;
		l->sport = rd16(p + off);
		l->dport = rd16(p + off + 2);
		break;
	}
	case IPPROTO_UDP_: {
		if (avail < 8)
			return SS_DROP_PARSE_TRUNCATED;
		uint32_t ulen = rd16(p + off + 4);
		if (ulen < 8)
			return SS_DROP_PARSE_BAD_L4;
		/* a first fragment's UDP length is the whole datagram's */
		if (ulen > avail && !(l->flags & SS_PF_FRAG))
			return SS_DROP_PARSE_TRUNCATED;
		l->sport = rd16(p + off);
		l->dport = rd16(p + off + 2);
		break;
	}
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_: {
		if (avail < 8)
			return SS_DROP_PARSE_TRUNCATED;
		uint8_t type = p[off];
		l->dport = rd16(p + off); /* type << 8 | code */
		/* echo request/reply carry an identifier: the flow's "port" */
		if (type == 8 || type == 0 || type == 128 || type == 129)
			l->sport = rd16(p + off + 4);
		else
			l->sport = 0;
		break;
	}
	default:
		return 0; /* other protocols: no ports */
	}
	l->flags |= SS_PF_L4;
	return 0;
}

static int parse_ipv4(const uint8_t *p, uint32_t len, uint32_t off, struct ss_layer *l)
{
	if (len - off < 20)
		return SS_DROP_PARSE_TRUNCATED;
	const uint8_t *ip = p + off;
	if ((ip[0] >> 4) != 4)
		return SS_DROP_PARSE_BAD_IP;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20)
		return SS_DROP_PARSE_BAD_IP;
	if (ihl > len - off)
		return SS_DROP_PARSE_TRUNCATED;
	uint32_t tot = rd16(ip + 2);
	if (tot < ihl)
		return SS_DROP_PARSE_BAD_IP;
	if (tot > len - off)
		return SS_DROP_PARSE_TRUNCATED;
	/* RFC 1812 5.2.2: a router verifies the header checksum */
	if (ss_parse_ipv4_csum(ip, ihl) != 0xffff)
		return SS_DROP_IP_CHECKSUM_BAD;
	l->l3 = SS_L3_IPV4;
	l->l3_len = (uint16_t)tot;
	l->proto = ip[9];
	if (ihl > 20)
		l->flags |= SS_PF_IP_OPTS;
	uint16_t frag = rd16(ip + 6);
	if (frag & 0x3fff) { /* MF or a non-zero offset */
		l->flags |= SS_PF_FRAG;
		if (frag & 0x1fff)
			return 0; /* not the first fragment: no L4 header here */
		l->flags |= SS_PF_FRAG_FIRST;
	}
	return parse_l4(p, off + ihl, off + tot, l);
}

static int parse_ipv6(const uint8_t *p, uint32_t len, uint32_t off, struct ss_layer *l)
{
	if (len - off < 40)
		return SS_DROP_PARSE_TRUNCATED;
	const uint8_t *ip = p + off;
	if ((ip[0] >> 4) != 6)
		return SS_DROP_PARSE_BAD_IP;
	uint32_t plen = rd16(ip + 4);
	uint8_t nh = ip[6];
	/* a zero payload length is only valid when nothing follows (a
	 * jumbogram, RFC 2675, cannot exist on Ethernet) */
	if (plen == 0 && nh != 59)
		return SS_DROP_PARSE_BAD_IP;
	if (40 + plen > len - off)
		return SS_DROP_PARSE_TRUNCATED;
	uint32_t end = off + 40 + plen;
	uint32_t cur = off + 40;

	l->l3 = SS_L3_IPV6;
	l->l3_len = (uint16_t)(40 + plen);
	for (int n = 0;; n++) {
		uint32_t hlen;

		switch (nh) {
		case IPPROTO_HOPOPTS_:
			if (n != 0) /* RFC 8200 4.3: only right after the IPv6 header */
				return SS_DROP_PARSE_BAD_IP;
			/* fallthrough */
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			if (end - cur < 8)
				return SS_DROP_PARSE_TRUNCATED;
			hlen = ((uint32_t)p[cur + 1] + 1) * 8;
			break;
		case IPPROTO_AH_:
			if (end - cur < 8)
				return SS_DROP_PARSE_TRUNCATED;
			hlen = ((uint32_t)p[cur + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT_: {
			if (end - cur < 8)
				return SS_DROP_PARSE_TRUNCATED;
			uint16_t fo = rd16(p + cur + 2);
			/* RFC 6946: an atomic fragment (offset 0, M 0) is whole */
			if (fo & 0xfff9)
				l->flags |= SS_PF_FRAG;
			l->flags |= SS_PF_IP_OPTS;
			l->proto = p[cur];
			if (fo & 0xfff8)
				return 0; /* not the first fragment */
			if (fo & 1)
				l->flags |= SS_PF_FRAG_FIRST;
			hlen = 8;
			break;
		}
		default:
			l->proto = nh;
			return parse_l4(p, cur, end, l);
		}
		if (n >= IPV6_MAX_EXT_HDRS)
			return SS_DROP_PARSE_BAD_IP;
		if (hlen > end - cur)
			return SS_DROP_PARSE_TRUNCATED;
		l->flags |= SS_PF_IP_OPTS;
		nh = p[cur];
		cur += hlen;
	}
}

/* Any layer, every check (see layer_fast for the common one). */
int ss_parse_layer_full(const uint8_t *p, uint32_t len, uint32_t off, struct ss_layer *l)
{
	memset(l, 0, sizeof(*l));
	l->l2_off = (uint16_t)off;
	if (off > len || len - off < 14)
		return SS_DROP_PARSE_TRUNCATED;
	uint32_t cur = off + 12;
	uint16_t et = rd16(p + cur);

	while (et == SS_ETHERTYPE_VLAN || et == SS_ETHERTYPE_QINQ) {
		if (l->nb_vlans == 2)
			return SS_DROP_VLAN_TOO_DEEP;
		if (len - cur < 6)
			return SS_DROP_PARSE_TRUNCATED;
		if (l->nb_vlans == 0)
			l->vlan_tci = rd16(p + cur + 2);
		l->nb_vlans++;
		cur += 4;
		et = rd16(p + cur);
	}
	cur += 2;
	l->ethertype = et;
	l->l3_off = (uint16_t)cur;
	switch (et) {
	case SS_ETHERTYPE_IPV4:
		return parse_ipv4(p, len, cur, l);
	case SS_ETHERTYPE_IPV6:
		return parse_ipv6(p, len, cur, l);
	case SS_ETHERTYPE_ARP:
		/* Ethernet/IPv4 ARP is 28 bytes */
		if (len - cur < 28)
			return SS_DROP_PARSE_TRUNCATED;
		l->l3 = SS_L3_ARP;
		l->l3_len = 28;
		return 0;
	default:
		return 0;
	}
}

static inline int bth_has_aeth(uint8_t opcode)
{
	/* RC: RDMA READ response first/last/only, ACKNOWLEDGE, ATOMIC ACK */
	switch (opcode) {
	case 0x0d: case 0x0f: case 0x10: case 0x11: case 0x12:
		return 1;
	default:
		return 0;
	}
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return __builtin_bswap32(w);
}

static int parse_bth(const uint8_t *p, uint32_t off, uint32_t end, struct ss_bth *b)
{
	if (end - off < 12)
		return SS_DROP_PARSE_TRUNCATED;
	const uint8_t *h = p + off;
	/* three big-endian words: opcode, flags, P_Key | reserved, DestQP |
	 * AckReq, reserved, PSN */
	uint32_t w0 = rd32(h), w1 = rd32(h + 4), w2 = rd32(h + 8);
	uint8_t opcode = (uint8_t)(w0 >> 24);
	uint8_t aeth = (uint8_t)bth_has_aeth(opcode);

	if (aeth && end - off < 16)
		return SS_DROP_PARSE_TRUNCATED;
	*b = (struct ss_bth){
		.opcode = opcode,
		.flags = (uint8_t)(w0 >> 16),
		.pkey = (uint16_t)w0,
		.dqp = w1 & 0xffffff,
		.psn = w2 & 0xffffff,
		.ack_req = (uint8_t)(w2 >> 31),
		.aeth_syndrome = aeth ? h[12] : 0,
		.has_aeth = aeth,
	};
	return 0;
}

int ss_parse_layer(const uint8_t *p, uint32_t len, uint32_t off, struct ss_layer *l)
{
	if (parse_likely(ss_parse_layer_fast(p, len, off, l)))
		return 0;
	return ss_parse_layer_full(p, len, off, l);
}

/* After a valid outer UDP header (not a fragment): VXLAN or RoCEv2. */
int ss_parse_tunnel(const uint8_t *p, struct ss_parsed *out, struct ss_bth *bth)
{
	struct ss_layer *o = &out->outer;
	uint32_t payload = o->l4_off + 8u;
	uint32_t end = o->l4_off + rd16(p + o->l4_off + 4); /* UDP length, checked */
	int rc;

	if (o->dport == SS_UDP_PORT_VXLAN) {
		if (end - payload < 8)
			return SS_DROP_PARSE_TRUNCATED;
		out->vxlan_flags = p[payload];
		out->vni = rd24(p + payload + 4);
		o->flags |= SS_PF_VXLAN;
		/* the inner frame ends where the UDP datagram ends */
		if (parse_likely(ss_parse_layer_fast(p, end, payload + 8, &out->inner)))
			return 0;
		return ss_parse_layer_full(p, end, payload + 8, &out->inner);
	}
	if (o->dport == SS_UDP_PORT_ROCEV2) {
		struct ss_bth tmp;
		rc = parse_bth(p, payload, end, bth ? bth : &tmp);
		if (rc == 0)
			o->flags |= SS_PF_ROCE;
		return rc;
	}
	return 0;
}

int ss_parse_full(const uint8_t *p, uint32_t len, struct ss_parsed *out, struct ss_bth *bth)
{
	struct ss_layer *o = &out->outer;
	int rc = ss_parse_layer_full(p, len, 0, o);

	out->vni = 0;
	out->vxlan_flags = 0;
	if (rc != 0 || !(o->flags & SS_PF_L4) || o->proto != IPPROTO_UDP_)
		return rc;
	/* a first fragment does not hold the whole datagram: no VXLAN/RoCE */
	if (o->flags & SS_PF_FRAG)
		return 0;
	return ss_parse_tunnel(p, out, bth);
}

int ss_parse(const uint8_t *p, uint32_t len, struct ss_parsed *out, struct ss_bth *bth)
{
	return ss_parse_inline(p, len, out, bth);
}
