/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The parser's straight-line path (pipelines/parse/parse.c, layer_fast)
 * against the reference (ss_parse_layer_full): for frames of the shape the
 * fast path takes (untagged IPv4 TCP/UDP) and 300k random mutations of
 * them, ss_parse_layer must return the same verdict and, when it parses,
 * the same struct ss_layer byte for byte, at the frame start and at an
 * offset (the VXLAN inner frame); ss_parse against ss_parse_full on whole
 * frames (plain UDP, VXLAN, RoCEv2 ports, TCP). Each buffer is exactly sized, so the
 * sanitizer build catches a read past it. The seed is printed;
 * SS_PARSE_SEED=<n> replays a run.
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

#define P_TCP 6
#define P_UDP 17

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

/* Both parsers on `len` bytes at `off` of an exactly sized copy. Returns
 * the verdict; fails the test when they differ. */
static int compare(const uint8_t *frame, uint32_t len, uint32_t off, uint64_t it)
{
	uint8_t *x = malloc(len ? len : 1);
	struct ss_layer a, b;
	int ra, rb;

	assert_non_null(x);
	memcpy(x, frame, len);
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	ra = ss_parse_layer(len ? x : x + 1, len, off, &a);
	rb = ss_parse_layer_full(len ? x : x + 1, len, off, &b);
	if (off == 0) {
		/* the whole frame: ss_parse (inline path) against ss_parse_full */
		struct ss_parsed pa, pb;
		struct ss_bth ba, bb;
		int qa, qb;

		memset(&pa, 0xa5, sizeof(pa));
		memset(&pb, 0xa5, sizeof(pb));
		memset(&ba, 0xa5, sizeof(ba));
		memset(&bb, 0xa5, sizeof(bb));
		qa = ss_parse(len ? x : x + 1, len, &pa, &ba);
		qb = ss_parse_full(len ? x : x + 1, len, &pb, &bb);
		if (qa != qb || (qa == 0 && (memcmp(&pa, &pb, sizeof(pa)) != 0 ||
					     memcmp(&ba, &bb, sizeof(ba)) != 0))) {
			free(x);
			fail_msg("iteration %llu (len %u): ss_parse %s, ss_parse_full %s",
				 (unsigned long long)it, len, ss_drop_name((unsigned int)qa),
				 ss_drop_name((unsigned int)qb));
		}
	}
	free(x);
	if (ra != rb)
		fail_msg("iteration %llu (len %u, off %u): fast path %s, reference %s",
			 (unsigned long long)it, len, off, ss_drop_name((unsigned int)ra),
			 ss_drop_name((unsigned int)rb));
	if (ra == 0 && memcmp(&a, &b, sizeof(a)) != 0)
		fail_msg("iteration %llu (len %u, off %u): layers differ", (unsigned long long)it,
			 len, off);
	return ra;
}

static void build(struct pb *p, uint32_t lead, uint8_t proto, uint32_t payload)
{
	pb_init(p);
	if (lead)
		pb_payload(p, lead); /* what precedes an inner frame */
	pb_eth(p, SS_ETHERTYPE_IPV4);
	pb_ipv4(p, proto, 0);
	if (proto == P_TCP)
		pb_tcp(p, 1234, 80, rnd_below(2) * 4);
	else
		/* plain, VXLAN or RoCEv2 (the payload as their header) */
		pb_udp(p, 1024, (uint16_t[]){ 53, SS_UDP_PORT_VXLAN, SS_UDP_PORT_ROCEV2 }[rnd_below(3)]);
	pb_payload(p, payload);
	pb_finish(p);
}

/* The unmutated shapes: both take them, with the same fields. */
static void test_fast_shapes(void **state)
{
	static const uint8_t protos[] = { P_TCP, P_UDP };
	struct pb p;
	(void)state;

	rng_state = 1;
	for (unsigned int lead = 0; lead <= 16; lead += 16)
		for (unsigned int k = 0; k < 2; k++)
			for (uint32_t pay = 0; pay < 40; pay += 13) {
				build(&p, lead, protos[k], pay);
				assert_int_equal(compare(p.b, p.len, lead, 0), 0);
			}
}

static void test_fast_mutations(void **state)
{
	const char *env = getenv("SS_PARSE_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	const uint64_t iters = 300000;
	uint64_t ok = 0, failed = 0;
	uint8_t buf[PB_MAX];
	struct pb p;
	(void)state;

	printf("parse fast path: seed %llu (SS_PARSE_SEED=%llu replays it)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	rng_state = seed ? seed : 1;
	for (uint64_t it = 0; it < iters; it++) {
		uint32_t lead = rnd_below(2) * 16;
		build(&p, lead, rnd_below(2) ? P_TCP : P_UDP, rnd_below(64));
		uint32_t len = p.len, ip = lead + 14, hot = ip + 40 < len ? ip + 40 : len;

		memcpy(buf, p.b, p.len);
		for (int m = 1 + (int)rnd_below(3); m > 0; m--) {
			switch (rnd_below(5)) {
			case 0: /* a bit of the headers */
				buf[lead + rnd_below(hot - lead)] ^= (uint8_t)(1u << rnd_below(8));
				break;
			case 1: /* the IPv4 total length */
				pb_wr16(buf + ip + 2, (uint16_t)(pb_rd16(buf + ip + 2) + rnd_below(17) - 8));
				break;
			case 2: /* the UDP length / TCP data offset byte */
				buf[ip + 20 + (buf[ip + 9] == P_UDP ? 5 : 12)] = (uint8_t)rnd();
				break;
			case 3: /* the frame cut */
				len = rnd_below(len + 1);
				break;
			case 4: /* flags and fragment offset */
				pb_wr16(buf + ip + 6, (uint16_t)(rnd_below(2) ? 0x4000 : rnd()));
				break;
			}
		}
		/* mostly with a right checksum, so the mutations reach the L4 checks */
		if (rnd_below(4) != 0 && ip + 20 <= len)
			pb_ipv4_csum(buf + ip);
		if (compare(buf, len, lead, it) == 0)
			ok++;
		else
			failed++;
	}
	printf("parse fast path: %llu parsed, %llu rejected\n", (unsigned long long)ok,
	       (unsigned long long)failed);
	/* both outcomes exercised */
	assert_true(ok > iters / 20 && failed > iters / 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_shapes),
		cmocka_unit_test(test_fast_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
