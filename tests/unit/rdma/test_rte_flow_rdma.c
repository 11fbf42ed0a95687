/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the rte_flow rule builder and installer
 * (drivers/rte_flow_rdma.c): the exact pattern and action arrays for IPv4
 * and IPv6, with and without source prefix and destination QP, the
 * representor fate, and the installer on a device without rte_flow (an EAL
 * with a net_null port), which must report the reason without failing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "drivers/rte_flow_rdma.h"

static struct ss_rdma_flow_spec spec4(void)
{
	struct ss_rdma_flow_spec s;

	memset(&s, 0, sizeof(s));
	s.family = 4;
	inet_pton(AF_INET, "10.1.77.0", s.dst); /* host bits set: the builder masks them */
	s.dst_len = 16;
	s.dscp = 26;
	s.queue = 3;
	s.priority = 5;
	return s;
}

static struct ss_rdma_flow_spec spec6(void)
{
	struct ss_rdma_flow_spec s;

	memset(&s, 0, sizeof(s));
	s.family = 6;
	inet_pton(AF_INET6, "2001:db8:1:f0ff::", s.dst);
	s.dst_len = 52;
	s.dscp = 34;
	s.queue = 1;
	s.priority = 9;
	return s;
}

static void expect_types(const struct ss_rdma_flow_rule *r, const enum rte_flow_item_type *it,
			 unsigned int ni, const enum rte_flow_action_type *ac, unsigned int na)
{
	assert_int_equal(r->nb_items, ni);
	for (unsigned int i = 0; i < ni; i++)
		if (r->pattern[i].type != it[i])
			fail_msg("pattern[%u]: type %d, want %d", i, r->pattern[i].type, it[i]);
	assert_int_equal(r->nb_actions, na);
	for (unsigned int i = 0; i < na; i++)
		if (r->actions[i].type != ac[i])
			fail_msg("actions[%u]: type %d, want %d", i, r->actions[i].type, ac[i]);
}

static void expect_udp_4791(const struct rte_flow_item *it)
{
	const struct rte_flow_item_udp *s = it->spec, *m = it->mask;

	assert_int_equal(rte_be_to_cpu_16(s->hdr.dst_port), 4791);
	assert_int_equal(m->hdr.dst_port, 0xffff);
	assert_int_equal(m->hdr.src_port, 0);
	assert_int_equal(m->hdr.dgram_len, 0);
	assert_int_equal(m->hdr.dgram_cksum, 0);
	assert_null(it->last);
}

static void test_ipv4_dst(void **state)
{
	static const enum rte_flow_item_type items[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_UDP,
		RTE_FLOW_ITEM_TYPE_END,
	};
	static const enum rte_flow_action_type acts[] = {
		RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP, RTE_FLOW_ACTION_TYPE_QUEUE,
		RTE_FLOW_ACTION_TYPE_END,
	};
	struct ss_rdma_flow_spec s = spec4();
	struct ss_rdma_flow_rule r;
	char why[256] = "";

	(void)state;
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), 0);
	expect_types(&r, items, 4, acts, 3);
	assert_int_equal(r.attr.ingress, 1);
	assert_int_equal(r.attr.egress, 0);
	assert_int_equal(r.attr.transfer, 0);
	assert_int_equal(r.attr.group, 0);
	assert_int_equal(r.attr.priority, 5);
	/* ETH: any */
	assert_null(r.pattern[0].spec);
	assert_null(r.pattern[0].mask);
	/* IPv4: destination /16, protocol UDP, nothing else */
	const struct rte_flow_item_ipv4 *is = r.pattern[1].spec, *im = r.pattern[1].mask;
	struct rte_flow_item_ipv4 want_s, want_m;
	memset(&want_s, 0, sizeof(want_s));
	memset(&want_m, 0, sizeof(want_m));
	want_s.hdr.dst_addr = htonl(0x0a010000);
	want_m.hdr.dst_addr = htonl(0xffff0000);
	want_s.hdr.next_proto_id = 17;
	want_m.hdr.next_proto_id = 0xff;
	assert_memory_equal(is, &want_s, sizeof(want_s));
	assert_memory_equal(im, &want_m, sizeof(want_m));
	expect_udp_4791(&r.pattern[2]);
	/* actions */
	assert_int_equal(((const struct rte_flow_action_set_dscp *)r.actions[0].conf)->dscp, 26);
	assert_int_equal(((const struct rte_flow_action_queue *)r.actions[1].conf)->index, 3);
	assert_null(r.actions[2].conf);
}

static void test_ipv4_dst_src(void **state)
{
	struct ss_rdma_flow_spec s = spec4();
	struct ss_rdma_flow_rule r;
	char why[256] = "";

	(void)state;
	s.has_src = true;
	inet_pton(AF_INET, "192.168.3.9", s.src);
	s.src_len = 24;
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), 0);
	const struct rte_flow_item_ipv4 *is = r.pattern[1].spec, *im = r.pattern[1].mask;
	assert_int_equal(ntohl(is->hdr.src_addr), 0xc0a80300);
	assert_int_equal(ntohl(im->hdr.src_addr), 0xffffff00);
	assert_int_equal(ntohl(is->hdr.dst_addr), 0x0a010000);
	assert_int_equal(ntohl(im->hdr.dst_addr), 0xffff0000);
	assert_int_equal(im->hdr.type_of_service, 0);
	assert_int_equal(im->hdr.time_to_live, 0);
}

static void test_ipv6_dst(void **state)
{
	static const enum rte_flow_item_type items[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV6, RTE_FLOW_ITEM_TYPE_UDP,
		RTE_FLOW_ITEM_TYPE_END,
	};
	static const enum rte_flow_action_type acts[] = {
		RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP, RTE_FLOW_ACTION_TYPE_QUEUE,
		RTE_FLOW_ACTION_TYPE_END,
	};
	static const uint8_t want_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0xf0 };
	static const uint8_t want_mask[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0 };
	struct ss_rdma_flow_spec s = spec6();
	struct ss_rdma_flow_rule r;
	char why[256] = "";

	(void)state;
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), 0);
	expect_types(&r, items, 4, acts, 3);
	assert_int_equal(r.attr.ingress, 1);
	assert_int_equal(r.attr.priority, 9);
	const struct rte_flow_item_ipv6 *is = r.pattern[1].spec, *im = r.pattern[1].mask;
	assert_memory_equal(is->hdr.dst_addr, want_dst, 16);
	assert_memory_equal(im->hdr.dst_addr, want_mask, 16);
	static const uint8_t zero[16];
	assert_memory_equal(im->hdr.src_addr, zero, 16);
	assert_int_equal(is->hdr.proto, 17);
	assert_int_equal(im->hdr.proto, 0xff);
	assert_int_equal(im->hdr.vtc_flow, 0);
	assert_int_equal(im->hdr.hop_limits, 0);
	expect_udp_4791(&r.pattern[2]);
	assert_int_equal(((const struct rte_flow_action_set_dscp *)r.actions[0].conf)->dscp, 34);
	assert_int_equal(((const struct rte_flow_action_queue *)r.actions[1].conf)->index, 1);
}

static void test_ipv6_dst_src(void **state)
{
	struct ss_rdma_flow_spec s = spec6();
	struct ss_rdma_flow_rule r;
	char why[256] = "";
	static const uint8_t want_src[16] = { 0xfd, 0x00, 0x00, 0x07 };
	static const uint8_t want_mask[16] = { 0xff, 0xff, 0xff, 0xff };

	(void)state;
	s.has_src = true;
	inet_pton(AF_INET6, "fd00:7::1", s.src);
	s.src_len = 32;
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), 0);
	const struct rte_flow_item_ipv6 *is = r.pattern[1].spec, *im = r.pattern[1].mask;
	assert_memory_equal(is->hdr.src_addr, want_src, 16);
	assert_memory_equal(im->hdr.src_addr, want_mask, 16);
}

static void test_dst_qp(void **state)
{
	struct ss_rdma_flow_spec s4 = spec4(), s6 = spec6();
	struct ss_rdma_flow_rule r;
	char why[256] = "";

	(void)state;
	s4.has_qp = s6.has_qp = true;
	s4.qp = s6.qp = 0x12abcd;
#if SS_HAVE_FLOW_IB_BTH
	static const enum rte_flow_item_type items4[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_UDP,
		RTE_FLOW_ITEM_TYPE_IB_BTH, RTE_FLOW_ITEM_TYPE_END,
	};
	static const enum rte_flow_item_type items6[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV6, RTE_FLOW_ITEM_TYPE_UDP,
		RTE_FLOW_ITEM_TYPE_IB_BTH, RTE_FLOW_ITEM_TYPE_END,
	};
	static const enum rte_flow_action_type acts4[] = {
		RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP, RTE_FLOW_ACTION_TYPE_QUEUE,
		RTE_FLOW_ACTION_TYPE_END,
	};
	static const enum rte_flow_action_type acts6[] = {
		RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP, RTE_FLOW_ACTION_TYPE_QUEUE,
		RTE_FLOW_ACTION_TYPE_END,
	};
	static const uint8_t qp[3] = { 0x12, 0xab, 0xcd }, ff[3] = { 0xff, 0xff, 0xff };

	assert_int_equal(ss_rdma_flow_build(&s4, &r, why, sizeof(why)), 0);
	expect_types(&r, items4, 5, acts4, 3);
	assert_memory_equal(((const struct rte_flow_item_ib_bth *)r.pattern[3].spec)->hdr.dst_qp,
			    qp, 3);
	assert_memory_equal(((const struct rte_flow_item_ib_bth *)r.pattern[3].mask)->hdr.dst_qp,
			    ff, 3);
	assert_int_equal(((const struct rte_flow_item_ib_bth *)r.pattern[3].mask)->hdr.opcode, 0);
	assert_int_equal(ss_rdma_flow_build(&s6, &r, why, sizeof(why)), 0);
	expect_types(&r, items6, 5, acts6, 3);
#else
	/* DPDK < 23.07: no IB_BTH item, so a QP match cannot be expressed; a
	 * rule without it would also catch the other QPs */
	assert_int_equal(ss_rdma_flow_build(&s4, &r, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "match.dst_qp needs RTE_FLOW_ITEM_TYPE_IB_BTH (DPDK >= 23.07"));
	assert_int_equal(r.nb_items, 0);
	why[0] = '\0';
	assert_int_equal(ss_rdma_flow_build(&s6, &r, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "RTE_FLOW_ITEM_TYPE_IB_BTH"));
#endif
}

static void test_represented_port(void **state)
{
	struct ss_rdma_flow_spec s = spec4();
	struct ss_rdma_flow_rule r;
	char why[256] = "";

	(void)state;
	s.fate = SS_RDMA_FLOW_REPRESENTED_PORT;
	s.port_id = 4;
	s.in_port_id = 2;
	memcpy(s.smac, "\x02\x00\x00\x00\x00\x51", 6);
	memcpy(s.dmac, "\x02\x00\x00\x00\x00\x99", 6);
#if SS_HAVE_FLOW_IB_BTH
	static const enum rte_flow_item_type items[] = {
		RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, RTE_FLOW_ITEM_TYPE_ETH,
		RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_UDP, RTE_FLOW_ITEM_TYPE_END,
	};
	static const enum rte_flow_action_type acts[] = {
		RTE_FLOW_ACTION_TYPE_SET_MAC_SRC, RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
		RTE_FLOW_ACTION_TYPE_DEC_TTL, RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP,
		RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, RTE_FLOW_ACTION_TYPE_END,
	};
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), 0);
	expect_types(&r, items, 5, acts, 6);
	assert_int_equal(r.attr.transfer, 1);
	assert_int_equal(r.attr.ingress, 0);
	assert_int_equal(((const struct rte_flow_item_ethdev *)r.pattern[0].spec)->port_id, 2);
	assert_int_equal(((const struct rte_flow_action_ethdev *)r.actions[4].conf)->port_id, 4);
	/* the CNP companion: opcode 0x81, the CNP DSCP */
	s.cnp = true;
	s.dscp = 48;
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), 0);
	assert_int_equal(r.pattern[4].type, RTE_FLOW_ITEM_TYPE_IB_BTH);
	assert_int_equal(((const struct rte_flow_item_ib_bth *)r.pattern[4].spec)->hdr.opcode, 0x81);
	assert_int_equal(((const struct rte_flow_action_set_dscp *)r.actions[3].conf)->dscp, 48);
#else
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "forwarding to a representor needs a BTH opcode match for CNPs"));
#endif
}

static void test_bad_family(void **state)
{
	struct ss_rdma_flow_spec s = spec4();
	struct ss_rdma_flow_rule r;
	char why[256] = "";

	(void)state;
	s.family = 5;
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), -EINVAL);
}

static void test_errno_names(void **state)
{
	char b[16];

	(void)state;
	assert_string_equal(ss_errno_name(-ENOTSUP, b, sizeof(b)), "-ENOTSUP");
	assert_string_equal(ss_errno_name(-EINVAL, b, sizeof(b)), "-EINVAL");
	assert_string_equal(ss_errno_name(ENXIO, b, sizeof(b)), "-ENXIO");
	assert_string_equal(ss_errno_name(-200, b, sizeof(b)), "-200");
}

/* A real ethdev without rte_flow: the installer says so and creates nothing. */
static void test_install_unsupported(void **state)
{
	char prefix[64];
	char *argv[] = { "test", "--no-huge", "-m", "64", "--no-pci", "--no-telemetry",
			 "--no-shconf", "--log-level", "*:error", "--vdev", "net_null0", "--file-prefix",
			 prefix };
	struct ss_rdma_flow_spec s = spec4();
	struct ss_rdma_flow_rule r;
	struct rte_flow *f = (struct rte_flow *)0x1;
	char why[256] = "";
	uint16_t port;

	(void)state;
	snprintf(prefix, sizeof(prefix), "ssrdmaflow%d", (int)getpid());
	assert_true(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) >= 0);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
	assert_int_equal(ss_rdma_flow_build(&s, &r, why, sizeof(why)), 0);
	/* DPDK 22.11 answers ENOSYS for a driver without flow ops */
	assert_int_equal(ss_rdma_flow_install(port, &r, &f, why, sizeof(why)), -ENOSYS);
	assert_null(f);
	assert_string_equal(why, "net_null: rte_flow not supported (-ENOSYS)");
	ss_rdma_flow_remove(port, false, NULL); /* nothing to remove: a no-op */
	rte_eal_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_dst),
		cmocka_unit_test(test_ipv4_dst_src),
		cmocka_unit_test(test_ipv6_dst),
		cmocka_unit_test(test_ipv6_dst_src),
		cmocka_unit_test(test_dst_qp),
		cmocka_unit_test(test_represented_port),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_install_unsupported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
