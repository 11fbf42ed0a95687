/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of pipelines/rdma/rdma_hdr.h: BTH opcode classes, AETH NAK
 * syndromes, PSN arithmetic, and the ICRC-safe IPv4/IPv6 rewrites (every
 * byte outside DSCP/TTL/checksum unchanged, ECN kept, checksum valid).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pipelines/rdma/rdma_hdr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_opclass_table(void **state)
{
	static const struct {
		const char *what;
		uint8_t opcode, has_aeth, syndrome;
		enum ss_rdma_opclass want;
	} cases[] = {
		{ "RC SEND FIRST", 0x00, 0, 0, SS_OPC_SEND },
		{ "RC SEND ONLY IMM", 0x05, 0, 0, SS_OPC_SEND },
		{ "RC SEND LAST INV", 0x16, 0, 0, SS_OPC_SEND },
		{ "RC SEND ONLY INV", 0x17, 0, 0, SS_OPC_SEND },
		{ "RC WRITE FIRST", 0x06, 0, 0, SS_OPC_WRITE },
		{ "RC WRITE ONLY", 0x0a, 0, 0, SS_OPC_WRITE },
		{ "RC WRITE ONLY IMM", 0x0b, 0, 0, SS_OPC_WRITE },
		{ "RC READ REQUEST", 0x0c, 0, 0, SS_OPC_READ_REQ },
		{ "RC READ RESP FIRST", 0x0d, 1, 0, SS_OPC_READ_RESP },
		{ "RC READ RESP MIDDLE", 0x0e, 0, 0, SS_OPC_READ_RESP },
		{ "RC READ RESP ONLY", 0x10, 1, 0, SS_OPC_READ_RESP },
		{ "RC ACK", 0x11, 1, 0x1f, SS_OPC_ACK },
		{ "RC ACK, NAK PSN seq error", 0x11, 1, 0x60, SS_OPC_NAK },
		{ "RC ACK, NAK remote access", 0x11, 1, 0x62, SS_OPC_NAK },
		{ "RC ACK, RNR NAK", 0x11, 1, 0x2e, SS_OPC_NAK },
		{ "RC ATOMIC ACK", 0x12, 1, 0, SS_OPC_ACK },
		{ "RC CMP SWAP", 0x13, 0, 0, SS_OPC_OTHER },
		{ "RC FETCH ADD", 0x14, 0, 0, SS_OPC_OTHER },
		{ "UC SEND ONLY", 0x24, 0, 0, SS_OPC_SEND },
		{ "UC WRITE ONLY", 0x2a, 0, 0, SS_OPC_WRITE },
		{ "UD SEND ONLY", 0x64, 0, 0, SS_OPC_SEND },
		{ "UD SEND ONLY IMM", 0x65, 0, 0, SS_OPC_SEND },
		{ "XRC WRITE FIRST", 0xa6, 0, 0, SS_OPC_WRITE },
		{ "CNP", 0x81, 0, 0, SS_OPC_CNP },
		{ "CNP-space other", 0x80, 0, 0, SS_OPC_OTHER },
		{ "manufacturer specific", 0xc5, 0, 0, SS_OPC_OTHER },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum ss_rdma_opclass got =
			ss_rdma_opclass(cases[i].opcode, cases[i].has_aeth, cases[i].syndrome);
		if (got != cases[i].want)
			fail_msg("%s (0x%02x): class %d, want %d", cases[i].what, cases[i].opcode, got,
				 cases[i].want);
	}
	assert_true(ss_rdma_psn_tracked(SS_OPC_WRITE));
	assert_true(ss_rdma_psn_tracked(SS_OPC_READ_RESP));
	assert_false(ss_rdma_psn_tracked(SS_OPC_ACK));
	assert_false(ss_rdma_psn_tracked(SS_OPC_NAK));
	assert_false(ss_rdma_psn_tracked(SS_OPC_CNP));
}

static void test_psn_diff(void **state)
{
	(void)state;
	assert_int_equal(ss_psn_diff(10, 11), 1);
	assert_int_equal(ss_psn_diff(10, 10), 0);
	assert_int_equal(ss_psn_diff(10, 8), -2);
	assert_int_equal(ss_psn_diff(0xffffff, 0), 1);        /* wrap */
	assert_int_equal(ss_psn_diff(0xfffffe, 3), 5);
	assert_int_equal(ss_psn_diff(2, 0xffffff), -3);
	assert_int_equal(ss_psn_diff(0, 0x7fffff), 0x7fffff);
	assert_int_equal(ss_psn_diff(0, 0x800000), -0x800000);
}

static uint16_t ip4_csum(const uint8_t *ip)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s; /* 0xffff when valid */
}

static void ip4_fill(uint8_t *ip, uint8_t tos, uint8_t ttl, uint32_t seed)
{
	uint32_t s;

	for (int i = 0; i < 20; i++) {
		seed = seed * 1103515245u + 12345u;
		ip[i] = (uint8_t)(seed >> 16);
	}
	ip[0] = 0x45;
	ip[1] = tos;
	ip[8] = ttl;
	ip[9] = 17;
	ip[10] = ip[11] = 0;
	s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	ip[10] = (uint8_t)(~s >> 8);
	ip[11] = (uint8_t)~s;
}

/* Every TOS x every DSCP, TTLs from 2 to 255: DSCP set, ECN kept (CE never
 * cleared), TTL - 1, checksum still valid, nothing else changed. */
static void test_rewrite_ip4(void **state)
{
	uint8_t ip[20], before[20];
	unsigned long n = 0;

	(void)state;
	for (unsigned int tos = 0; tos < 256; tos++)
		for (unsigned int dscp = 0; dscp < 64; dscp++)
			for (unsigned int ttl = 2; ttl < 256; ttl += 7) {
				ip4_fill(ip, (uint8_t)tos, (uint8_t)ttl, tos * 977 + dscp * 31 + ttl);
				assert_int_equal(ip4_csum(ip), 0xffff);
				memcpy(before, ip, 20);
				ss_rdma_rewrite_ip4(ip, (uint8_t)dscp);
				assert_int_equal(ip[1] >> 2, dscp);
				assert_int_equal(ip[1] & 3, tos & 3);
				assert_int_equal(ip[8], ttl - 1);
				assert_int_equal(ip4_csum(ip), 0xffff);
				for (int i = 0; i < 20; i++)
					if (i != 1 && i != 8 && i != 10 && i != 11)
						assert_int_equal(ip[i], before[i]);
				n++;
			}
	assert_true(n > 500000);
}

static void test_rewrite_ip6(void **state)
{
	uint8_t ip[40], before[40];

	(void)state;
	for (unsigned int tc = 0; tc < 256; tc++)
		for (unsigned int dscp = 0; dscp < 64; dscp++) {
			for (int i = 0; i < 40; i++)
				ip[i] = (uint8_t)(i * 37 + tc + dscp);
			ip[0] = (uint8_t)(0x60 | tc >> 4);
			ip[1] = (uint8_t)((tc & 0x0f) << 4 | 0x0a);   /* flow label high nibble */
			ip[7] = 64;
			memcpy(before, ip, 40);
			ss_rdma_rewrite_ip6(ip, (uint8_t)dscp);
			uint8_t ntc = (uint8_t)((ip[0] & 0x0f) << 4 | ip[1] >> 4);
			assert_int_equal(ip[0] >> 4, 6);
			assert_int_equal(ntc >> 2, dscp);
			assert_int_equal(ntc & 3, tc & 3);
			assert_int_equal(ip[1] & 0x0f, 0x0a);
			assert_int_equal(ip[7], 63);
			assert_memory_equal(ip + 2, before + 2, 5);
			assert_memory_equal(ip + 8, before + 8, 32);
		}
}

static void test_ecn_and_ttl_accessors(void **state)
{
	uint8_t v4[20] = { 0x45, 0xb3 }, v6[40] = { 0x6b, 0x30 };

	(void)state;
	v4[8] = 9;
	v6[7] = 1;
	assert_int_equal(ss_ip_ecn(v4, true), 3);
	assert_int_equal(ss_ip_ecn(v6, false), 3);
	v6[1] = 0x10;
	assert_int_equal(ss_ip_ecn(v6, false), 1);
	assert_int_equal(ss_ip_ttl(v4, true), 9);
	assert_int_equal(ss_ip_ttl(v6, false), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opclass_table),
		cmocka_unit_test(test_psn_diff),
		cmocka_unit_test(test_rewrite_ip4),
		cmocka_unit_test(test_rewrite_ip6),
		cmocka_unit_test(test_ecn_and_ttl_accessors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
