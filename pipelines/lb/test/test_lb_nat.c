/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's rewrite (lb_nat.h) against checksums computed from
 * scratch: random IPv4 / IPv6 TCP and UDP packets get their destination
 * (lb_out) or source (lb_in) rewritten; the incrementally updated IPv4
 * header and L4 checksums must equal full recomputations (RFC 1071 over the
 * pseudo-header), an IPv4 UDP checksum of 0 must stay 0, and a UDP
 * checksum that comes out 0 must be sent as 0xffff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipelines/lb/lb_nat.h"

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The L4 checksum of the packet as it is (the field itself taken as 0). */
static uint16_t l4_csum(uint8_t *f, const struct ss_layer *l, uint8_t fam, size_t l4len)
{
	uint8_t *ck = f + l->l4_off + (l->proto == IPPROTO_TCP ? 16 : 6), save[2];
	uint32_t s = 0;
	uint16_t c;

	memcpy(save, ck, 2);
	memset(ck, 0, 2);
	if (fam == 4)
		s = sum16(f + l->l3_off + 12, 8, 0);
	else
		s = sum16(f + l->l3_off + 8, 32, 0);
	s += l->proto + (uint32_t)l4len;
	s = sum16(f + l->l4_off, l4len, s);
	memcpy(ck, save, 2);
	c = fold(s);
	return l->proto == IPPROTO_UDP && c == 0 ? 0xffff : c;
}

static uint16_t ip_csum(uint8_t *f, const struct ss_layer *l)
{
	uint8_t save[2];
	uint16_t c;

	memcpy(save, f + l->l3_off + 10, 2);
	memset(f + l->l3_off + 10, 0, 2);
	c = fold(sum16(f + l->l3_off, 20, 0));
	memcpy(f + l->l3_off + 10, save, 2);
	return c;
}

/* A random packet: Ethernet, IPv4 (20) or IPv6 (40), TCP (20) or UDP (8),
 * payload; correct checksums. */
static size_t make(uint8_t *f, struct ss_layer *l, uint8_t fam, uint8_t proto, bool udp0)
{
	size_t pay = (size_t)(rand() % 40), l4len = (proto == IPPROTO_TCP ? 20 : 8) + pay;

	for (size_t i = 0; i < 200; i++)
		f[i] = (uint8_t)rand();
	memset(l, 0, sizeof(*l));
	l->l3_off = 14;
	l->l4_off = (uint16_t)(14 + (fam == 4 ? 20 : 40));
	l->proto = proto;
	l->l3 = fam == 4 ? SS_L3_IPV4 : SS_L3_IPV6;
	l->flags = SS_PF_L4;
	if (fam == 4) {
		f[14] = 0x45;
		f[23] = proto;
	} else {
		f[14] = 0x60;
		f[20] = proto;
	}
	l->sport = ss_lb_rd16(f + l->l4_off);
	l->dport = ss_lb_rd16(f + l->l4_off + 2);
	if (proto == IPPROTO_UDP)
		ss_lb_wr16(f + l->l4_off + 4, (uint16_t)l4len);
	if (fam == 4)
		ss_lb_wr16(f + 24, ip_csum(f, l));
	ss_lb_wr16(f + l->l4_off + (proto == IPPROTO_TCP ? 16 : 6),
		   udp0 ? 0 : l4_csum(f, l, fam, l4len));
	return l4len;
}

static void run(uint8_t fam, uint8_t proto, bool dst, bool udp0)
{
	for (int k = 0; k < 20000; k++) {
		uint8_t f[200], ip[16];
		struct ss_layer l;
		size_t l4len = make(f, &l, fam, proto, udp0);
		uint16_t port = (uint16_t)rand();
		unsigned int ck = l.l4_off + (proto == IPPROTO_TCP ? 16 : 6);

		for (int i = 0; i < 16; i++)
			ip[i] = (uint8_t)rand();
		if (k % 7 == 0)      /* unchanged address: only the port moves */
			memcpy(ip, f + l.l3_off + (fam == 4 ? (dst ? 16 : 12) : (dst ? 24 : 8)),
			       fam == 4 ? 4 : 16);
		ss_lb_rewrite(f, &l, fam, dst, ip, port);
		assert_memory_equal(f + l.l3_off + (fam == 4 ? (dst ? 16 : 12) : (dst ? 24 : 8)), ip,
				    fam == 4 ? 4 : 16);
		assert_int_equal(ss_lb_rd16(f + l.l4_off + (dst ? 2 : 0)), port);
		assert_int_equal(dst ? l.dport : l.sport, port);
		if (fam == 4)
			assert_int_equal(ss_lb_rd16(f + l.l3_off + 10), ip_csum(f, &l));
		if (udp0)
			assert_int_equal(ss_lb_rd16(f + ck), 0);
		else
			assert_int_equal(ss_lb_rd16(f + ck), l4_csum(f, &l, fam, l4len));
	}
}

static void test_v4_tcp(void **state)
{
	(void)state;
	run(4, IPPROTO_TCP, true, false);
	run(4, IPPROTO_TCP, false, false);
}

static void test_v4_udp(void **state)
{
	(void)state;
	run(4, IPPROTO_UDP, true, false);
	run(4, IPPROTO_UDP, false, false);
	run(4, IPPROTO_UDP, true, true);   /* no checksum: stays 0 */
}

static void test_v6(void **state)
{
	(void)state;
	run(6, IPPROTO_TCP, true, false);
	run(6, IPPROTO_UDP, true, false);
	run(6, IPPROTO_UDP, false, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_tcp),
		cmocka_unit_test(test_v4_udp),
		cmocka_unit_test(test_v6),
	};

	srand(12345);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
