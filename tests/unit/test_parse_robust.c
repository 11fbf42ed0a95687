/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Robustness of the packet parser (pipelines/parse/parse.c), meant to run
 * under ASan/UBSan as well (the sanitizer build runs the same tests):
 *
 * 1. Truncation at every length: for several packets, every prefix
 *    0..len-1 is parsed from a heap buffer of exactly that size, once as cut
 *    (the length fields promise more: must be parse_truncated) and once with
 *    every length field rewritten to end at the cut (must fail exactly when
 *    the cut is inside a header -- pktbuild's hdr_end -- and parse when only
 *    payload is missing).
 * 2. 200k random mutations (bit flips, bytes, length fields, frame lengths)
 *    of valid packets, each parsed from an exactly-sized buffer; when the
 *    parse succeeds every offset it returns must lie inside the buffer. The
 *    seed is printed; SS_PARSE_SEED=<n> replays a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipelines/drop/drop.h"
#include "pipelines/parse/parse.h"
#include "tests/unit/pktbuild.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_HOPOPTS 0
#define P_ROUTING 43
#define P_FRAGMENT 44
#define P_AH 51
#define P_ICMPV6 58
#define P_DSTOPTS 60

#define ET_IP4 SS_ETHERTYPE_IPV4
#define ET_IP6 SS_ETHERTYPE_IPV6
#define ET_ARP SS_ETHERTYPE_ARP
#define ET_VLAN SS_ETHERTYPE_VLAN
#define ET_QINQ SS_ETHERTYPE_QINQ

/* ------------------------------------------------------------------------ */
/* Packets: every header kind, nested, with options. */

struct tpkt {
	const char *desc;
	void (*build)(struct pb *p);
};

static void t_vlan_ipv4opts_tcpopts(struct pb *p)
{
	pb_eth(p, ET_VLAN);
	pb_vlan(p, 0x0010, ET_IP4);
	pb_ipv4(p, P_TCP, 12);
	pb_tcp(p, 1234, 80, 12);
	pb_payload(p, 10);
}

static void t_ipv6_ext_udp(struct pb *p)
{
	pb_eth(p, ET_QINQ);
	pb_vlan(p, 0x0020, ET_VLAN);
	pb_vlan(p, 0x0030, ET_IP6);
	pb_ipv6(p, P_HOPOPTS);
	pb_ext6(p, P_ROUTING, 0);
	pb_ext6(p, P_AH, 1);
	pb_ah6(p, P_DSTOPTS, 12);
	pb_ext6(p, P_UDP, 2);
	pb_udp(p, 4000, 5000);
	pb_payload(p, 6);
}

static void t_vxlan_inner_ipv6_tcp(struct pb *p)
{
	pb_vxlan4_outer(p, 77);
	pb_eth(p, ET_VLAN);
	pb_vlan(p, 0x0042, ET_IP6);
	pb_ipv6(p, P_DSTOPTS);
	pb_ext6(p, P_TCP, 0);
	pb_tcp(p, 5555, 6666, 8);
	pb_payload(p, 5);
}

static void t_vxlan6_inner_ipv4_icmp(struct pb *p)
{
	pb_eth(p, ET_IP6);
	pb_ipv6(p, P_UDP);
	pb_udp(p, 1, SS_UDP_PORT_VXLAN);
	pb_vxlan(p, 9);
	pb_eth(p, ET_IP4);
	pb_ipv4(p, P_ICMP, 4);
	pb_icmp(p, 8, 0, 1, 1);
	pb_payload(p, 3);
}

static void t_roce_ack(struct pb *p)
{
	pb_roce4(p, 0x11, 0x42, 0, 7);
	pb_aeth(p, 0x00, 1);
	pb_payload(p, 4);
}

static void t_roce6_read_resp(struct pb *p)
{
	pb_eth(p, ET_IP6);
	pb_ipv6(p, P_UDP);
	pb_udp(p, 1, SS_UDP_PORT_ROCEV2);
	pb_bth(p, 0x0f, 0xffff, 0x99, 0, 8);
	pb_aeth(p, 0x00, 2);
	pb_payload(p, 16 + 4);
}

static void t_ipv6_frag_first(struct pb *p)
{
	pb_eth(p, ET_IP6);
	pb_ipv6(p, P_FRAGMENT);
	pb_frag6(p, P_TCP, 0, 1);
	pb_tcp(p, 1, 2, 4);
	pb_payload(p, 8);
}

static void t_qinq_arp(struct pb *p)
{
	pb_eth(p, ET_QINQ);
	pb_vlan(p, 1, ET_VLAN);
	pb_vlan(p, 2, ET_ARP);
	pb_arp(p, 1);
}

static const struct tpkt tpkts[] = {
	{ "802.1Q/IPv4 with options/TCP with options", t_vlan_ipv4opts_tcpopts },
	{ "QinQ/IPv6 HBH+RT+DO+AH+DO/UDP", t_ipv6_ext_udp },
	{ "VXLAN/inner 802.1Q/IPv6 DO/TCP with options", t_vxlan_inner_ipv6_tcp },
	{ "VXLAN over IPv6/inner IPv4 with options/ICMP", t_vxlan6_inner_ipv4_icmp },
	{ "RoCEv2 ACK", t_roce_ack },
	{ "RoCEv2 over IPv6 READ response last", t_roce6_read_resp },
	{ "IPv6 first fragment/TCP", t_ipv6_frag_first },
	{ "QinQ ARP", t_qinq_arp },
};

static void test_truncation_every_length(void **state)
{
	(void)state;

	for (size_t t = 0; t < ARRAY_SIZE(tpkts); t++) {
		struct pb p;
		struct ss_parsed out;
		struct ss_bth bth;
		uint8_t cut[PB_MAX];

		pb_init(&p);
		tpkts[t].build(&p);
		pb_finish(&p);
		assert_true(p.hdr_end > 14 && p.hdr_end <= p.len);
		if (pb_parse_exact(p.b, p.len, &out, &bth) != 0)
			fail_msg("%s: the whole packet does not parse", tpkts[t].desc);

		for (uint32_t len = 0; len < p.len; len++) {
			/* as cut: the length fields promise more than there is */
			int rc = pb_parse_exact(p.b, len, &out, &bth);
			if (rc != SS_DROP_PARSE_TRUNCATED)
				fail_msg("%s: cut at %u of %u: returned %d (%s), expected "
					 "parse_truncated", tpkts[t].desc, len, p.len, rc,
					 ss_drop_name((unsigned int)rc));

			/* lengths rewritten to end at the cut: a header cut short
			 * must still be refused, a packet with only payload
			 * missing is a valid (shorter) packet */
			memcpy(cut, p.b, len);
			pb_fix_lengths(cut, len, &p);
			rc = pb_parse_exact(cut, len, &out, &bth);
			if (len < p.hdr_end) {
				if (rc != SS_DROP_PARSE_TRUNCATED && rc != SS_DROP_PARSE_BAD_IP)
					fail_msg("%s: cut inside a header at %u (headers end at "
						 "%u), lengths fixed: returned %d (%s)",
						 tpkts[t].desc, len, p.hdr_end, rc,
						 ss_drop_name((unsigned int)rc));
			} else if (rc != 0) {
				fail_msg("%s: cut in the payload at %u (headers end at %u), "
					 "lengths fixed: returned %d (%s), expected 0",
					 tpkts[t].desc, len, p.hdr_end, rc,
					 ss_drop_name((unsigned int)rc));
			}
		}
	}
}

/* More shapes for the mutations. */
static void m_ipv4_tcp(struct pb *p)
{
	pb_eth(p, ET_IP4);
	pb_ipv4(p, P_TCP, 0);
	pb_tcp(p, 1, 2, 0);
	pb_payload(p, 6);
}

static void m_ipv4_frag_first_udp(struct pb *p)
{
	pb_eth(p, ET_IP4);
	uint32_t ip = pb_ipv4(p, P_UDP, 0);
	pb_ipv4_frag(p, ip, 1, 0);
	pb_udp(p, 1, 2);
	pb_payload(p, 16);
}

static void m_ipv6_ah_icmp6(struct pb *p)
{
	pb_eth(p, ET_IP6);
	pb_ipv6(p, P_AH);
	pb_ah6(p, P_ICMPV6, 12);
	pb_icmp(p, 128, 0, 9, 1);
}

static void m_vxlan_inner_ipv4_udp(struct pb *p)
{
	pb_vxlan4_outer(p, 1);
	pb_eth(p, ET_IP4);
	pb_ipv4(p, P_UDP, 4);
	pb_udp(p, 3, 4);
	pb_payload(p, 2);
}

static void m_roce_cnp(struct pb *p)
{
	pb_roce4(p, 0x81, 5, 0, 0);
	pb_payload(p, 16 + 4);
}

static void m_vlan_arp(struct pb *p)
{
	pb_eth(p, ET_VLAN);
	pb_vlan(p, 3, ET_ARP);
	pb_arp(p, 2);
}

/* ------------------------------------------------------------------------ */
/* Random mutations. */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static uint32_t l4_min(const uint8_t *p, const struct ss_layer *l)
{
	switch (l->proto) {
	case P_TCP:
		return (uint32_t)(p[l->l4_off + 12] >> 4) * 4;
	case P_UDP:
	case P_ICMP:
	case P_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

/* Every offset of a successfully parsed layer lies within [l2_off, end). */
static void check_layer(const uint8_t *p, uint32_t end, const struct ss_layer *l,
			const char *which, uint64_t iter)
{
	if (l->l2_off + 14u + 4u * l->nb_vlans > end || l->l3_off > end)
		fail_msg("iteration %llu: %s: L2 beyond %u", (unsigned long long)iter, which, end);
	uint32_t l3min = l->l3 == SS_L3_IPV4 ? 20 : l->l3 == SS_L3_IPV6 ? 40 :
			 l->l3 == SS_L3_ARP ? 28 : 0;
	if (l->l3 != SS_L3_NONE &&
	    (l->l3_off + l3min > end || l->l3_len < l3min || l->l3_off + l->l3_len > end))
		fail_msg("iteration %llu: %s: L3 at %u len %u beyond %u",
			 (unsigned long long)iter, which, l->l3_off, l->l3_len, end);
	if (l->flags & SS_PF_L4) {
		uint32_t l3end = l->l3_off + l->l3_len;
		if (l->l4_off < l->l3_off + l3min || l->l4_off + 8u > l3end ||
		    l->l4_off + l4_min(p, l) > l3end)
			fail_msg("iteration %llu: %s: L4 at %u beyond the IP packet end %u",
				 (unsigned long long)iter, which, l->l4_off, l3end);
	}
}

static void test_random_mutations(void **state)
{
	static void (*const bases[])(struct pb *p) = {
		m_ipv4_tcp, m_ipv4_frag_first_udp, m_ipv6_ah_icmp6, m_vxlan_inner_ipv4_udp,
		m_roce_cnp, m_vlan_arp,
		t_vlan_ipv4opts_tcpopts, t_ipv6_ext_udp, t_vxlan_inner_ipv6_tcp,
		t_vxlan6_inner_ipv4_icmp, t_roce_ack, t_roce6_read_resp, t_ipv6_frag_first,
		t_qinq_arp,
	};
	static struct pb base[ARRAY_SIZE(bases)];
	const char *env = getenv("SS_PARSE_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	const uint64_t iters = 200000;
	uint64_t ok = 0, reasons[SS_DROP_MAX] = { 0 };
	uint8_t buf[PB_MAX];
	(void)state;

	printf("parse mutations: seed %llu (SS_PARSE_SEED=%llu replays it)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	rng_state = seed ? seed : 1;
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
		pb_init(&base[i]);
		bases[i](&base[i]);
		pb_finish(&base[i]);
	}
	for (uint64_t it = 0; it < iters; it++) {
		const struct pb *b = &base[rnd_below(ARRAY_SIZE(bases))];
		uint32_t len = b->len;
		int nmut = 1 + (int)rnd_below(4);

		memcpy(buf, b->b, b->len);
		for (int m = 0; m < nmut; m++) {
			uint32_t hot = b->hdr_end + 8 < len ? b->hdr_end + 8 : len;
			switch (rnd_below(6)) {
			case 0: /* bit flip, mostly in the headers */
			case 1:
				if (hot)
					buf[rnd_below(hot)] ^= (uint8_t)(1u << rnd_below(8));
				break;
			case 2: { /* a byte set to an interesting value */
				static const uint8_t v[] = { 0x00, 0xff, 0x80, 0x7f, 0x01, 0x45,
							     0x4f, 0x60, 0x81, 0x88, 0x86, 0x11 };
				if (hot)
					buf[rnd_below(hot)] = v[rnd_below(sizeof(v))];
				break;
			}
			case 3: { /* a length field set at random */
				if (b->nfix == 0)
					break;
				uint32_t off = b->fix[rnd_below(b->nfix)].off;
				uint32_t at = off + (b->b[off] >> 4 == 6 ? 4 : 2);
				if (at + 2 <= len) {
					uint16_t v = rnd_below(2) ? (uint16_t)rnd() :
						     (uint16_t)(pb_rd16(buf + at) + rnd_below(17) - 8);
					pb_wr16(buf + at, v);
				}
				break;
			}
			case 4: /* a random length, shorter or longer */
				if (rnd_below(2)) {
					len = rnd_below(len + 1);
				} else {
					uint32_t more = rnd_below(64);
					for (uint32_t k = 0; k < more && len < PB_MAX; k++)
						buf[len++] = (uint8_t)rnd();
				}
				break;
			case 5: /* rewrite every length to fit: reach deeper code */
				pb_fix_lengths(buf, len, b);
				break;
			}
		}
		/* half of the time, keep the IPv4 checksums right so that mutations
		 * get past them */
		if (rnd_below(2))
			for (unsigned int f = 0; f < b->nfix; f++) {
				uint32_t off = b->fix[f].off;
				if (b->fix[f].kind == PB_FIX_IPV4 && off + 20 <= len &&
				    off + (uint32_t)(buf[off] & 0x0f) * 4 <= len)
					pb_ipv4_csum(buf + off);
			}

		uint8_t *x = malloc(len ? len : 1);
		struct ss_parsed out;
		struct ss_bth bth;
		assert_non_null(x);
		memcpy(x, buf, len);
		int rc = ss_parse(len ? x : x + 1, len, &out, &bth);
		if ((unsigned int)rc >= SS_DROP_MAX) {
			free(x);
			fail_msg("iteration %llu: returned %d", (unsigned long long)it, rc);
			return;
		}
		reasons[(unsigned int)rc]++;
		if (rc == 0) {
			ok++;
			check_layer(x, len, &out.outer, "outer", it);
			if (out.outer.flags & SS_PF_VXLAN) {
				uint32_t uend = out.outer.l4_off + pb_rd16(x + out.outer.l4_off + 4);
				if (uend > len || out.inner.l2_off != out.outer.l4_off + 16)
					fail_msg("iteration %llu: VXLAN inner at %u, UDP end %u, len %u",
						 (unsigned long long)it, out.inner.l2_off, uend, len);
				check_layer(x, uend, &out.inner, "inner", it);
			}
			if (out.outer.flags & SS_PF_ROCE) {
				uint32_t uend = out.outer.l4_off + pb_rd16(x + out.outer.l4_off + 4);
				uint32_t need = out.outer.l4_off + 8u + 12u + (bth.has_aeth ? 4u : 0u);
				if (need > uend || uend > len)
					fail_msg("iteration %llu: BTH ends at %u, UDP at %u, len %u",
						 (unsigned long long)it, need, uend, len);
			}
		}
		free(x);
	}
	printf("parse mutations: %llu of %llu parsed;", (unsigned long long)ok,
	       (unsigned long long)iters);
	for (unsigned int r = 1; r < SS_DROP_MAX; r++)
		if (reasons[r])
			printf(" %s %llu", ss_drop_name(r), (unsigned long long)reasons[r]);
	printf("\n");
	/* the mutations must exercise both outcomes */
	assert_true(ok > iters / 20);
	assert_true(reasons[SS_DROP_PARSE_TRUNCATED] > 0 && reasons[SS_DROP_PARSE_BAD_IP] > 0 &&
		    reasons[SS_DROP_IP_CHECKSUM_BAD] > 0 && reasons[SS_DROP_PARSE_BAD_L4] > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncation_every_length),
		cmocka_unit_test(test_random_mutations),
	};

	return cmocka_run_group_tests_name("parse robustness", tests, NULL, NULL);
}
