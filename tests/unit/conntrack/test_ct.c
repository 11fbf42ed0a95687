/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Connection tracking unit tests, with a fake clock (1 tick = 1 ms):
 * the policy stage (ss_ct_policy_burst) with a real ACL state where the
 * ENI's outbound stages allow everything and its inbound stages deny
 * everything, so a reply passes only through its flow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include "tests/unit/acl/acl_test_util.h"
#include "tests/unit/conntrack/ct_test_util.h"
#include "pipelines/conntrack/ct_int.h"

#define ENI 3
#define VM "10.0.0.1"
#define PEER "192.0.2.9"
#define VM6 "2001:db8::1"
#define PEER6 "2001:db8:ffff::9"

struct fx {
	struct ss_acl_table *acl;
	struct tu_store store;
	struct ss_ct *ct;
	uint64_t now;
};

static const char *const allow_all[] = { "{\"priority\": 1, \"action\": \"allow\"}", NULL };
static const char *const deny_all[] = { "{\"priority\": 1, \"action\": \"deny\"}", NULL };

static void put_group(struct tu_store *s, const char *name, const char *family,
		      const char *const *rules)
{
	tu_del_where(s, "acl_group", "name", name);
	tu_del_where(s, "acl_rule", "group", name);
	tu_add(s, "acl_group", json_pack("{s:s, s:s}", "name", name, "family", family));
	for (; *rules; rules++) {
		json_t *r = json_loads(*rules, 0, NULL);

		json_object_set_new(r, "group", json_string(name));
		tu_add(s, "acl_rule", r);
	}
}

static void publish(struct fx *f, const char *group)
{
	json_t *g = json_pack("{s:s}", "name", group);
	struct ss_change ch = tu_change("acl_group", SS_CHANGE_SET, g);
	char err[256];

	if (tu_publish(f->acl, &f->store, &ch, 1, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	json_decref(g);
}

static int setup(void **state)
{
	static const char *const out4[] = { "out4", NULL }, *const in4[] = { "in4", NULL };
	static const char *const out6[] = { "out6", NULL }, *const in6[] = { "in6", NULL };
	struct fx *f = calloc(1, sizeof(*f));

	tu_store_init(&f->store);
	f->acl = ss_acl_table_create();
	put_group(&f->store, "out4", "ipv4", allow_all);
	put_group(&f->store, "in4", "ipv4", deny_all);
	put_group(&f->store, "out6", "ipv6", allow_all);
	put_group(&f->store, "in6", "ipv6", deny_all);
	tu_eni(&f->store, "vm", ENI, out4, in4, out6, in6);
	publish(f, "out4");
	f->ct = ss_ct_create("ctt", 1024, 256, 16, 1, NULL, 1000);
	assert_non_null(f->ct);
	ss_ct_configure(f->ct, 1024, 10000, 2000);
	f->now = 1000000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ss_ct_free(f->ct);
	ss_acl_table_destroy(f->acl);
	tu_store_free(&f->store);
	free(f);
	return 0;
}

static int run(struct fx *f, unsigned int dir, struct tpkt *t)
{
	uint8_t v = 0xff;

	ss_ct_policy_burst(f->ct, ss_acl_table_state(f->acl), 0, dir, &t->p, 1, f->now, &v);
	return v;
}

static int tcp(struct fx *f, unsigned int dir, int v6, const char *src, uint16_t sp,
	       const char *dst, uint16_t dp, uint8_t flags)
{
	struct tpkt t;
	uint8_t l4[20];
	uint32_t n = l4_tcp(l4, sp, dp, flags);

	assert_int_equal(tp_frame(&t, ENI, v6, src, dst, 6, 0, 0, l4, n), 0);
	return run(f, dir, &t);
}

static int udp(struct fx *f, unsigned int dir, const char *src, uint16_t sp, const char *dst,
	       uint16_t dp)
{
	struct tpkt t;
	uint8_t l4[64];
	uint32_t n = l4_udp(l4, sp, dp, 10);

	assert_int_equal(tp_frame(&t, ENI, 0, src, dst, 17, 0, 0, l4, n), 0);
	return run(f, dir, &t);
}

#define OUT SS_ACL_OUT
#define IN SS_ACL_IN
#define PASS SS_CT_PASS
#define DENY SS_CT_DROP_ACL

static void test_tcp_handshake_and_return(void **state)
{
	struct fx *f = *state;

	/* nothing comes in without a flow */
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 40000, TF_SYN | TF_ACK), DENY);
	assert_int_equal(tcp(f, OUT, 0, VM, 40000, PEER, 80, TF_SYN), PASS);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 40000, TF_SYN | TF_ACK), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 40000, PEER, 80, TF_ACK), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 40000, TF_ACK), PASS);
	/* another port of the same hosts is another connection */
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 40001, TF_ACK), DENY);
	/* the initiator's tuple arriving inbound is not the reply */
	assert_int_equal(tcp(f, IN, 0, VM, 40000, PEER, 80, TF_ACK), DENY);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	assert_int_equal(SS_CT_COUNTER(f->ct, created), 1);
	/* mid-stream TCP without a flow passes by the ACL but opens nothing */
	assert_int_equal(tcp(f, OUT, 0, VM, 40002, PEER, 80, TF_ACK), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 40002, TF_ACK), DENY);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
}

static void test_tcp_ipv6(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tcp(f, IN, 1, PEER6, 443, VM6, 50000, TF_SYN | TF_ACK), DENY);
	assert_int_equal(tcp(f, OUT, 1, VM6, 50000, PEER6, 443, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, 1, PEER6, 443, VM6, 50000, TF_SYN | TF_ACK), PASS);
	assert_int_equal(tcp(f, IN, 1, PEER6, 443, VM6, 50001, TF_ACK), DENY);
	assert_int_equal(tcp(f, IN, 1, PEER6, 443, VM6, 50000, TF_RST), PASS);
	assert_int_equal(tcp(f, IN, 1, PEER6, 443, VM6, 50000, TF_ACK), DENY);
}

static void test_tcp_rst(void **state)
{
	struct fx *f = *state;

	/* RST from the responder */
	assert_int_equal(tcp(f, OUT, 0, VM, 1000, PEER, 22, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 22, VM, 1000, TF_RST | TF_ACK), PASS);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	assert_int_equal(tcp(f, IN, 0, PEER, 22, VM, 1000, TF_ACK), DENY);
	/* RST from the initiator: it is forwarded, the flow is gone */
	assert_int_equal(tcp(f, OUT, 0, VM, 1001, PEER, 22, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 22, VM, 1001, TF_SYN | TF_ACK), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 1001, PEER, 22, TF_RST), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 22, VM, 1001, TF_ACK), DENY);
	assert_int_equal(SS_CT_COUNTER(f->ct, removed_rst), 2);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
}

static void test_tcp_fin_timeout(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tcp(f, OUT, 0, VM, 2000, PEER, 80, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 2000, TF_SYN | TF_ACK), PASS);
	/* one FIN: half-closed, no timer */
	assert_int_equal(tcp(f, OUT, 0, VM, 2000, PEER, 80, TF_FIN | TF_ACK), PASS);
	f->now += 5000;
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 2000, TF_ACK), PASS);
	/* the second FIN starts tcp_fin_timeout_ms (2000) */
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 2000, TF_FIN | TF_ACK), PASS);
	f->now += 1999;
	assert_int_equal(tcp(f, OUT, 0, VM, 2000, PEER, 80, TF_ACK), PASS);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	f->now += 1;
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 2000, TF_ACK), DENY);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	assert_int_equal(SS_CT_COUNTER(f->ct, removed_fin), 1);

	/* the same through the sweeper, without traffic */
	assert_int_equal(tcp(f, OUT, 0, VM, 2001, PEER, 80, TF_SYN), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 2001, PEER, 80, TF_FIN), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 2001, TF_FIN | TF_ACK), PASS);
	f->now += 1000;
	ss_ct_sweep(f->ct, f->now, 100000, 1);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	f->now += 1000;
	ss_ct_sweep(f->ct, f->now, 100000, 1);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	assert_int_equal(SS_CT_COUNTER(f->ct, removed_fin), 2);

	/* a new SYN on a closing connection (port reuse) opens a new flow */
	assert_int_equal(tcp(f, OUT, 0, VM, 2002, PEER, 80, TF_SYN), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 2002, PEER, 80, TF_FIN), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 2002, TF_FIN | TF_ACK), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 2002, PEER, 80, TF_SYN), PASS);
	f->now += 2500;
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 2002, TF_SYN | TF_ACK), PASS);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
}

static void test_idle_expiry(void **state)
{
	struct fx *f = *state;

	ss_ct_configure(f->ct, 1024, 500, 2000);
	assert_int_equal(udp(f, OUT, VM, 5353, PEER, 53), PASS);
	f->now += 500;
	assert_int_equal(udp(f, IN, PEER, 53, VM, 5353), PASS);   /* refreshes */
	f->now += 500;
	assert_int_equal(udp(f, IN, PEER, 53, VM, 5353), PASS);
	f->now += 501;
	assert_int_equal(udp(f, IN, PEER, 53, VM, 5353), DENY);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	assert_int_equal(SS_CT_COUNTER(f->ct, expired), 1);

	/* the incremental sweep: every position is visited within the
	 * budgets of successive calls */
	for (int i = 0; i < 20; i++)
		assert_int_equal(udp(f, OUT, VM, (uint16_t)(6000 + i), PEER, 53), PASS);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 20);
	f->now += 501;
	uint32_t calls = 0;
	while (ss_ct_eni_flows(f->ct, ENI) > 0 && calls < 10000) {
		ss_ct_sweep(f->ct, f->now, 8, 1);
		calls++;
	}
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	assert_true(calls >= 3);   /* 8 positions a call, not one stop-the-world pass */
	assert_int_equal(SS_CT_COUNTER(f->ct, expired), 21);
	/* a flow.config change applies to the running table */
	ss_ct_configure(f->ct, 1024, 100000, 2000);
	assert_int_equal(udp(f, OUT, VM, 7000, PEER, 53), PASS);
	f->now += 50000;
	assert_int_equal(udp(f, IN, PEER, 53, VM, 7000), PASS);
}

/* The live flow of a UDP packet, as ss_ct_lookup_live sees it
 * (Private Link's return path): the direction it was opened in, or
 * -ENOENT. */
static int live(struct fx *f, unsigned int dir, const char *src, uint16_t sp, const char *dst,
		uint16_t dp)
{
	struct ss_ct_info ci;
	struct tpkt t;
	uint8_t l4[64];
	uint32_t n = l4_udp(l4, sp, dp, 10);

	assert_int_equal(tp_frame(&t, ENI, 0, src, dst, 17, 0, 0, l4, n), 0);
	ss_ct_extract(&t.p, dir, &ci);
	return ss_ct_lookup_live(f->ct, &ci.key, ci.side, dir, f->now);
}

static void test_lookup_live(void **state)
{
	struct fx *f = *state;

	ss_ct_configure(f->ct, 1024, 500, 2000);
	/* nothing yet, and looking creates nothing */
	assert_int_equal(live(f, IN, PEER, 53, VM, 5353), -ENOENT);
	assert_int_equal(live(f, OUT, VM, 5353, PEER, 53), -ENOENT);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	assert_int_equal(SS_CT_COUNTER(f->ct, created), 0);
	assert_int_equal(udp(f, OUT, VM, 5353, PEER, 53), PASS);
	/* the reply and the initiator's next packet travel the flow; the
	 * same packet in the wrong direction does not */
	assert_int_equal(live(f, IN, PEER, 53, VM, 5353), OUT);
	assert_int_equal(live(f, OUT, VM, 5353, PEER, 53), OUT);
	assert_int_equal(live(f, OUT, PEER, 53, VM, 5353), -ENOENT);
	assert_int_equal(live(f, IN, PEER, 53, VM, 5354), -ENOENT);
	/* a lookup does not refresh the flow: it expires on time */
	f->now += 400;
	assert_int_equal(live(f, IN, PEER, 53, VM, 5353), OUT);
	f->now += 101;
	assert_int_equal(live(f, IN, PEER, 53, VM, 5353), -ENOENT);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);   /* nor does it remove it */
	assert_int_equal(ss_ct_lookup_live(NULL, &(struct ss_ct_key){ 0 }, 0, IN, f->now), -ENOENT);
}

static void test_max_flows(void **state)
{
	struct fx *f = *state;

	ss_ct_configure(f->ct, 2, 10000, 2000);
	assert_int_equal(udp(f, OUT, VM, 1, PEER, 9), PASS);
	assert_int_equal(udp(f, OUT, VM, 2, PEER, 9), PASS);
	/* full: still forwarded by the ACL verdict, not tracked, not a drop */
	assert_int_equal(udp(f, OUT, VM, 3, PEER, 9), PASS);
	assert_int_equal(SS_CT_COUNTER(f->ct, table_full), 1);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 2);
	assert_int_equal(udp(f, IN, PEER, 9, VM, 2), PASS);
	assert_int_equal(udp(f, IN, PEER, 9, VM, 3), DENY);
	/* room again after a flush */
	assert_int_equal(ss_ct_flush(f->ct, ENI, NULL, NULL, 1), 2);
	assert_int_equal(udp(f, OUT, VM, 3, PEER, 9), PASS);
	assert_int_equal(udp(f, IN, PEER, 9, VM, 3), PASS);
	assert_int_equal(SS_CT_COUNTER(f->ct, flushed), 2);
}

static int icmp_echo_frag(struct fx *f, unsigned int dir, int v6, const char *src,
			  const char *dst, uint32_t ipid, int first, int more)
{
	struct tpkt t;
	uint8_t l4[64];
	uint32_t n;
	uint16_t frag = (uint16_t)((more ? (v6 ? 1 : 0x2000) : 0) | (first ? 0 : (v6 ? 64 : 8)));

	if (first) {
		n = l4_icmp(l4, v6 ? 128 : 8, 0, 77, NULL, 0);
		memset(l4 + n, 0xab, 24);
		n += 24;
	} else {
		n = 32;
		memset(l4, 0xcd, n);
	}
	assert_int_equal(tp_frame(&t, ENI, v6, src, dst, v6 ? 58 : 1, frag, ipid, l4, n), 0);
	return run(f, dir, &t);
}

static void test_fragments(void **state)
{
	struct fx *f = *state;
	uint64_t t0;

	/* a later fragment before its first one: frag_no_first */
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, PEER, 100, 0, 0), SS_CT_DROP_FRAG);
	/* the first decides, the later ones follow for 3 s */
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, PEER, 100, 1, 1), PASS);
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, PEER, 100, 0, 1), PASS);
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, PEER, 100, 0, 0), PASS);
	/* another datagram id of the same hosts is not covered */
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, PEER, 101, 0, 0), SS_CT_DROP_FRAG);
	/* the reply, fragmented too: its first fragment passes by the flow,
	 * its later ones follow it although inbound denies everything */
	assert_int_equal(icmp_echo_frag(f, IN, 0, PEER, VM, 900, 0, 0), SS_CT_DROP_FRAG);
	assert_int_equal(icmp_echo_frag(f, IN, 0, PEER, VM, 900, 1, 1), DENY);  /* a request */
	t0 = f->now;
	{
		struct tpkt t;
		uint8_t l4[64];
		uint32_t n = l4_icmp(l4, 0, 0, 77, NULL, 0);   /* echo reply, id 77 */

		memset(l4 + n, 0xab, 24);
		assert_int_equal(tp_frame(&t, ENI, 0, PEER, VM, 1, 0x2000, 901, l4, n + 24), 0);
		assert_int_equal(run(f, IN, &t), PASS);
	}
	assert_int_equal(icmp_echo_frag(f, IN, 0, PEER, VM, 901, 0, 0), PASS);
	/* 3 s later the datagram is forgotten */
	f->now = t0 + 3000;
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, PEER, 100, 0, 0), SS_CT_DROP_FRAG);
	assert_int_equal(SS_CT_COUNTER(f->ct, frag_no_first), 4);
	/* IPv6 fragment headers, same rules */
	assert_int_equal(icmp_echo_frag(f, OUT, 1, VM6, PEER6, 0x12345, 0, 0), SS_CT_DROP_FRAG);
	assert_int_equal(icmp_echo_frag(f, OUT, 1, VM6, PEER6, 0x12345, 1, 1), PASS);
	assert_int_equal(icmp_echo_frag(f, OUT, 1, VM6, PEER6, 0x12345, 0, 0), PASS);
	/* an IPv6 atomic fragment (offset 0, no more fragments) is a whole
	 * packet: it opens its flow like any other */
	{
		struct tpkt t;
		uint8_t l4[32];
		uint32_t n2 = l4_udp(l4, 4444, 53, 4);

		assert_int_equal(tp_frame(&t, ENI, 1, VM6, PEER6, 17, 0, 0x777, l4, n2), 0);
		assert_int_equal(run(f, OUT, &t), PASS);
		n2 = l4_udp(l4, 53, 4444, 4);
		assert_int_equal(tp_frame(&t, ENI, 1, PEER6, VM6, 17, 0, 0x778, l4, n2), 0);
		assert_int_equal(run(f, IN, &t), PASS);
	}
	/* a first fragment the ACL denies: the rest of the datagram too */
	put_group(&f->store, "out4", "ipv4", deny_all);
	publish(f, "out4");
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, "198.51.100.1", 200, 1, 1), DENY);
	assert_int_equal(icmp_echo_frag(f, OUT, 0, VM, "198.51.100.1", 200, 0, 0), DENY);
}

static void test_revocation(void **state)
{
	static const char *const no_ssh[] = {
		"{\"priority\": 1, \"action\": \"deny\", \"protocols\": [6], \"dst_ports\": [22]}",
		"{\"priority\": 2, \"action\": \"allow\"}", NULL };
	struct fx *f = *state;

	assert_int_equal(tcp(f, OUT, 0, VM, 3000, PEER, 22, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 22, VM, 3000, TF_SYN | TF_ACK), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 3001, PEER, 80, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 3001, TF_SYN | TF_ACK), PASS);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 2);
	/* the outbound policy now denies ssh: the ssh flow is revoked on its
	 * next packet, whichever direction it comes from */
	put_group(&f->store, "out4", "ipv4", no_ssh);
	publish(f, "out4");
	assert_int_equal(tcp(f, IN, 0, PEER, 22, VM, 3000, TF_ACK), DENY);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	assert_int_equal(tcp(f, OUT, 0, VM, 3000, PEER, 22, TF_ACK), DENY);
	assert_int_equal(SS_CT_COUNTER(f->ct, revoked), 1);
	/* the http flow is re-checked once, still allowed, and kept */
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 3001, TF_ACK), PASS);
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 3001, TF_ACK), PASS);
	assert_int_equal(SS_CT_COUNTER(f->ct, rechecked), 2);
	/* a change of a group the ENI does not use re-checks nothing */
	put_group(&f->store, "unused", "ipv4", deny_all);
	publish(f, "unused");
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 3001, TF_ACK), PASS);
	assert_int_equal(SS_CT_COUNTER(f->ct, rechecked), 2);
}

static void test_icmp(void **state)
{
	struct fx *f = *state;
	uint8_t quote[64], l4[128];
	uint32_t ql, n;
	struct tpkt t;

	/* echo: the identifier is the port */
	n = l4_icmp(l4, 8, 0, 4242, NULL, 0);
	assert_int_equal(tp_frame(&t, ENI, 0, VM, PEER, 1, 0, 0, l4, n), 0);
	assert_int_equal(run(f, OUT, &t), PASS);
	n = l4_icmp(l4, 0, 0, 4242, NULL, 0);
	assert_int_equal(tp_frame(&t, ENI, 0, PEER, VM, 1, 0, 0, l4, n), 0);
	assert_int_equal(run(f, IN, &t), PASS);
	n = l4_icmp(l4, 0, 0, 4243, NULL, 0);
	assert_int_equal(tp_frame(&t, ENI, 0, PEER, VM, 1, 0, 0, l4, n), 0);
	assert_int_equal(run(f, IN, &t), DENY);
	/* ICMPv6 echo */
	n = l4_icmp(l4, 128, 0, 9, NULL, 0);
	assert_int_equal(tp_frame(&t, ENI, 1, VM6, PEER6, 58, 0, 0, l4, n), 0);
	assert_int_equal(run(f, OUT, &t), PASS);
	n = l4_icmp(l4, 129, 0, 9, NULL, 0);
	assert_int_equal(tp_frame(&t, ENI, 1, PEER6, VM6, 58, 0, 0, l4, n), 0);
	assert_int_equal(run(f, IN, &t), PASS);

	/* an error quoting a tracked UDP packet follows its flow, from any
	 * router on the path */
	assert_int_equal(udp(f, OUT, VM, 33434, PEER, 33435), PASS);
	{
		uint8_t u[16];
		uint32_t ul = l4_udp(u, 33434, 33435, 0);

		ql = ip_pkt(quote, 0, VM, PEER, 17, 0, 1, u, ul);
	}
	n = l4_icmp(l4, 11, 0, 0, quote, ql);   /* time exceeded */
	assert_int_equal(tp_frame(&t, ENI, 0, "203.0.113.1", VM, 1, 0, 0, l4, n), 0);
	assert_int_equal(run(f, IN, &t), PASS);
	assert_int_equal(SS_CT_COUNTER(f->ct, icmp_related), 1);
	/* quoting an unknown flow: the ACL decides (inbound: deny) */
	{
		uint8_t u[16];
		uint32_t ul = l4_udp(u, 1, 2, 0);

		ql = ip_pkt(quote, 0, VM, PEER, 17, 0, 1, u, ul);
	}
	n = l4_icmp(l4, 3, 3, 0, quote, ql);
	assert_int_equal(tp_frame(&t, ENI, 0, PEER, VM, 1, 0, 0, l4, n), 0);
	assert_int_equal(run(f, IN, &t), DENY);
	/* an error never opens a flow */
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 3);
	/* ICMPv6 packet too big quoting a tracked TCP flow */
	assert_int_equal(tcp(f, OUT, 1, VM6, 40000, PEER6, 443, TF_SYN), PASS);
	{
		uint8_t tc[20];
		uint32_t tl = l4_tcp(tc, 40000, 443, TF_ACK);

		ql = ip_pkt(quote, 1, VM6, PEER6, 6, 0, 0, tc, tl);
	}
	n = l4_icmp(l4, 2, 0, 0, quote, ql);
	assert_int_equal(tp_frame(&t, ENI, 1, "2001:db8:aaaa::1", VM6, 58, 0, 0, l4, n), 0);
	assert_int_equal(run(f, IN, &t), PASS);
}

/* Growth: the live flows move to a larger table, state included, and the
 * per-ENI gauges are recounted. */
static void test_migrate(void **state)
{
	struct fx *f = *state;
	struct ss_ct *big;

	for (int i = 0; i < 40; i++)
		assert_int_equal(udp(f, OUT, VM, (uint16_t)(100 + i), PEER, 53), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 999, PEER, 80, TF_SYN), PASS);
	assert_int_equal(tcp(f, OUT, 0, VM, 999, PEER, 80, TF_FIN), PASS);
	big = ss_ct_create("ctbig", 4096, 256, 16, 1, NULL, 1000);
	assert_non_null(big);
	ss_ct_configure(big, 4096, 10000, 2000);
	/* both tables count into the same gauges, as in sswitchd */
	static int64_t g[2][16];
	int64_t *rows[2] = { g[0], g[1] };
	ss_ct_share(f->ct, NULL, rows, sizeof(int64_t));
	ss_ct_share(big, NULL, rows, sizeof(int64_t));
	g[0][ENI] = 41;
	assert_int_equal(ss_ct_migrate(big, f->ct), 41);
	/* meanwhile: a flow opened in the old table after the first pass (X),
	 * one opened in both (Y: a worker already on the new table), one
	 * copied and then reset in the old table */
	struct ss_ct *small = f->ct;
	assert_int_equal(udp(f, OUT, VM, 500, PEER, 53), PASS);
	assert_int_equal(udp(f, OUT, VM, 501, PEER, 53), PASS);
	f->ct = big;
	assert_int_equal(udp(f, OUT, VM, 501, PEER, 53), PASS);
	f->ct = small;
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 999, TF_RST), PASS);
	assert_int_equal(ss_ct_eni_flows(small, ENI), 44);   /* the reset copy is not subtracted */
	assert_int_equal(ss_ct_migrate(big, small), 1);      /* X; Y is there; nothing twice */
	ss_ct_free(small);
	f->ct = big;
	/* the 41 copies (the reset one included: it lingers until it expires),
	 * X and Y, each counted once */
	assert_int_equal(ss_ct_eni_flows(big, ENI), 43);
	assert_int_equal(big->nb_flows, 43);
	assert_int_equal(udp(f, IN, PEER, 53, VM, 500), PASS);
	for (int i = 0; i < 40; i++)
		assert_int_equal(udp(f, IN, PEER, 53, VM, (uint16_t)(100 + i)), PASS);
	assert_int_equal(udp(f, IN, PEER, 53, VM, 99), DENY);
	/* the half-closed TCP flow kept its FIN: the peer's FIN starts the timer */
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 999, TF_FIN | TF_ACK), PASS);
	f->now += 2000;
	assert_int_equal(tcp(f, IN, 0, PEER, 80, VM, 999, TF_ACK), DENY);
}

/* The control thread's removal checks the incarnation it examined: a
 * position freed and reopened by another flow meanwhile is left alone. */
static void test_remove_incarnation(void **state)
{
	struct fx *f = *state;
	uint32_t pos, seq;
	struct ss_ct_entry *e = NULL;

	assert_int_equal(udp(f, OUT, VM, 7777, PEER, 53), PASS);
	for (pos = 0; pos < f->ct->flows.nb_pos; pos++) {
		e = ss_ct_entry_at(f->ct, pos);
		if (e->state == SS_CT_LIVE)
			break;
	}
	assert_true(pos < f->ct->flows.nb_pos);
	seq = e->seq;
	assert_false(ss_ct_flow_remove_seq(f->ct, pos, 1, seq - 1));   /* an older flow's */
	assert_int_equal(e->state, SS_CT_LIVE);
	assert_int_equal(udp(f, IN, PEER, 53, VM, 7777), PASS);
	assert_true(ss_ct_flow_remove_seq(f->ct, pos, 1, seq));
	assert_int_equal(udp(f, IN, PEER, 53, VM, 7777), DENY);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	/* the position, reopened, is a new incarnation */
	assert_int_equal(udp(f, OUT, VM, 7777, PEER, 53), PASS);
	for (pos = 0; pos < f->ct->flows.nb_pos; pos++)
		if (ss_ct_entry_at(f->ct, pos)->state == SS_CT_LIVE)
			break;
	assert_int_not_equal(ss_ct_entry_at(f->ct, pos)->seq == seq &&
			     ss_ct_entry_at(f->ct, pos) == e, 1);
}

/* Keys: canonical, both directions equal, side says who sent. */
static void test_keys(void **state)
{
	struct ss_ct_key k1, k2;
	uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };

	(void)state;
	assert_int_equal(ss_ct_key_make(&k1, 1, 6, 0, a, b, 1000, 80), 0);
	assert_int_equal(ss_ct_key_make(&k2, 1, 6, 0, b, a, 80, 1000), 1);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	/* same addresses: the ports order them */
	assert_int_equal(ss_ct_key_make(&k1, 1, 17, 0, a, a, 5, 6), 0);
	assert_int_equal(ss_ct_key_make(&k2, 1, 17, 0, a, a, 6, 5), 1);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	/* ENI and protocol are part of the key */
	ss_ct_key_make(&k2, 2, 17, 0, a, a, 5, 6);
	assert_memory_not_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(sizeof(struct ss_ct_key), 48);
}

/* The policy stage hashes flow keys itself (rte_hash_crc inlined): the
 * same signatures as the table's own hash function. */
static void test_key_hash(void **state)
{
	struct fx *f = *state;
	uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
	struct ss_ct_key k;

	ss_ct_key_make(&k, 3, 6, 0, a, b, 1000, 80);
	assert_int_equal(rte_hash_crc(&k, sizeof(k), 0), rte_hash_hash(f->ct->flows.h, &k));
	ss_ct_key_make(&k, 5, 17, 1, a, b, 53, 4000);
	assert_int_equal(rte_hash_crc(&k, sizeof(k), 0), rte_hash_hash(f->ct->flows.h, &k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test_setup_teardown(test_key_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_handshake_and_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_fin_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_incarnation, setup, teardown),
	};

	if (tu_eal_init() < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
