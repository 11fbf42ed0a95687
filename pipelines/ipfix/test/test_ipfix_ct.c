/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Flow records as conntrack makes them for the exporter (ct_table.c,
 * ct_policy.c; docs/ipfix.md), with a fake clock (1 tick = 1 ms) and the
 * real policy stage: the per-direction packet and byte counts (the tenant
 * IP packet), the end reasons (RST, FIN timeout, idle, revocation, flush),
 * active-timeout records with deltas, a full ring counted and never
 * waited on, no records with the export off, and counts that move with a
 * flow into a larger table. The ENI's outbound stages allow everything,
 * its inbound stages deny everything.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "tests/unit/acl/acl_test_util.h"
#include "tests/unit/conntrack/ct_test_util.h"
#include "pipelines/conntrack/ct_int.h"

#define ENI 3
#define VM "10.0.0.1"
#define PEER "192.0.2.9"
#define OUT SS_ACL_OUT
#define IN SS_ACL_IN
#define TCP_LEN 40    /* IPv4 + TCP header, no payload */
#define UDP_LEN 38    /* IPv4 + UDP + 10 bytes */

struct fx {
	struct ss_acl_table *acl;
	struct tu_store store;
	struct ss_ct *ct;
	struct ss_ct_export x;
	uint64_t now;
};

static void put_group(struct tu_store *s, const char *name, const char *family,
		      const char *rule)
{
	json_t *r = json_loads(rule, 0, NULL);

	tu_add(s, "acl_group", json_pack("{s:s, s:s}", "name", name, "family", family));
	json_object_set_new(r, "group", json_string(name));
	tu_add(s, "acl_rule", r);
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

static struct fx *fx_make(unsigned int ring_size)
{
	static const char *const out4[] = { "out4", NULL }, *const in4[] = { "in4", NULL };
	static const char *const none[] = { NULL };
	static int seq;
	struct fx *f = calloc(1, sizeof(*f));
	char name[32];

	tu_store_init(&f->store);
	f->acl = ss_acl_table_create();
	put_group(&f->store, "out4", "ipv4", "{\"priority\": 1, \"action\": \"allow\"}");
	put_group(&f->store, "in4", "ipv4", "{\"priority\": 1, \"action\": \"deny\"}");
	tu_eni(&f->store, "vm", ENI, out4, in4, none, none);
	publish(f, "out4");
	snprintf(name, sizeof(name), "ipx%d", seq);
	f->ct = ss_ct_create(name, 1024, 256, 16, 1, NULL, 1000);
	assert_non_null(f->ct);
	ss_ct_configure(f->ct, 1024, 10000, 2000);
	snprintf(name, sizeof(name), "ipxr%d", seq++);
	f->x.ring = rte_ring_create_elem(name, sizeof(struct ss_ct_record), ring_size,
					 SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(f->x.ring);
	ss_ct_export_set(&f->x);
	f->now = 1000000;
	return f;
}

static int setup(void **state)
{
	*state = fx_make(64);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ss_ct_export_set(NULL);
	ss_ct_free(f->ct);
	rte_ring_free(f->x.ring);
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

static int tcp(struct fx *f, unsigned int dir, const char *src, uint16_t sp, const char *dst,
	       uint16_t dp, uint8_t flags)
{
	struct tpkt t;
	uint8_t l4[20];
	uint32_t n = l4_tcp(l4, sp, dp, flags);

	assert_int_equal(tp_frame(&t, ENI, 0, src, dst, 6, 0, 0, l4, n), 0);
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

/* The next record, 0; -1 when the ring is empty. */
static int next(struct fx *f, struct ss_ct_record *r)
{
	return rte_ring_sc_dequeue_elem(f->x.ring, r, sizeof(*r)) == 0 ? 0 : -1;
}

/* Packets and bytes the VM (10.0.0.1 < 192.0.2.9: endpoint a) and the
 * peer (b) sent, as the record says. */
static void assert_counts(const struct ss_ct_record *r, uint32_t vm_pkts, uint64_t vm_bytes,
			  uint32_t peer_pkts, uint64_t peer_bytes)
{
	assert_int_equal(r->pkts[0], vm_pkts);
	assert_int_equal(r->bytes[0], vm_bytes);
	assert_int_equal(r->pkts[1], peer_pkts);
	assert_int_equal(r->bytes[1], peer_bytes);
}

static void test_tcp_rst(void **state)
{
	struct fx *f = *state;
	struct ss_ct_record r;
	uint64_t t0 = f->now;

	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_SYN), SS_CT_PASS);
	f->now += 5;
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_SYN | TF_ACK), SS_CT_PASS);
	f->now += 5;
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_ACK), SS_CT_PASS);
	/* denied inbound without the flow's orientation: not the flow's */
	assert_int_equal(tcp(f, IN, VM, 40000, PEER, 80, TF_ACK), SS_CT_DROP_ACL);
	assert_int_equal(next(f, &r), -1);   /* nothing while it lives */
	f->now += 5;
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_RST), SS_CT_PASS);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.reason, SS_CT_END_EOF);
	assert_counts(&r, 2, 2 * TCP_LEN, 2, 2 * TCP_LEN);   /* the RST is counted */
	assert_int_equal(r.key.eni, ENI);
	assert_int_equal(r.key.proto, 6);
	assert_int_equal(r.init_side, 0);
	assert_int_equal(r.init_dir, OUT);
	assert_int_equal(r.start, t0);
	assert_int_equal(r.end, t0 + 15);
	assert_int_equal(next(f, &r), -1);
	assert_int_equal(f->x.enqueued, 1);
	assert_int_equal(f->x.dropped, 0);
}

/* Two packets of a new connection in one burst: both misses, the first
 * opens the flow, the second is counted in it. */
static void test_same_burst(void **state)
{
	struct fx *f = *state;
	struct ss_ct_pkt p[3];
	struct ss_ct_record r;
	struct tpkt t[3];
	uint8_t l4[64], v[3];

	for (int i = 0; i < 3; i++) {
		uint32_t n = l4_udp(l4, 5000, 53, 10);

		assert_int_equal(tp_frame(&t[i], ENI, 0, VM, PEER, 17, 0, 0, l4, n), 0);
		p[i] = t[i].p;
	}
	ss_ct_policy_burst(f->ct, ss_acl_table_state(f->acl), 0, OUT, p, 3, f->now, v);
	assert_int_equal(v[0] | v[1] | v[2], SS_CT_PASS);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	assert_int_equal(ss_ct_flush(f->ct, UINT32_MAX, NULL, NULL, 1), 1);
	assert_int_equal(next(f, &r), 0);
	assert_counts(&r, 3, 3 * UDP_LEN, 0, 0);
}

static void test_fin_idle_flush(void **state)
{
	struct fx *f = *state;
	struct ss_ct_record r;

	/* TCP: FIN from both sides, then the timeout at the sweep */
	tcp(f, OUT, VM, 40001, PEER, 80, TF_SYN);
	tcp(f, IN, PEER, 80, VM, 40001, TF_FIN | TF_ACK);
	tcp(f, OUT, VM, 40001, PEER, 80, TF_FIN | TF_ACK);
	/* UDP, initiated inbound by the peer (the ENI's inbound stage denies
	 * everything: opened from the VM, answered by the peer) */
	assert_int_equal(udp(f, OUT, VM, 5353, PEER, 53), SS_CT_PASS);
	assert_int_equal(udp(f, IN, PEER, 53, VM, 5353), SS_CT_PASS);
	assert_int_equal(udp(f, IN, PEER, 53, VM, 5353), SS_CT_PASS);
	f->now += 2500;
	ss_ct_sweep(f->ct, f->now, UINT32_MAX, 1);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.key.proto, 6);
	assert_int_equal(r.reason, SS_CT_END_EOF);
	assert_counts(&r, 2, 2 * TCP_LEN, 1, TCP_LEN);
	assert_int_equal(next(f, &r), -1);   /* UDP still within its idle time */
	f->now += 10000;
	ss_ct_sweep(f->ct, f->now, UINT32_MAX, 1);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.key.proto, 17);
	assert_int_equal(r.reason, SS_CT_END_IDLE);
	assert_counts(&r, 1, UDP_LEN, 2, 2 * UDP_LEN);
	/* an expired flow met by a packet: ended idle there, the packet opens
	 * a new one */
	udp(f, OUT, VM, 6000, PEER, 53);
	f->now += 20000;
	udp(f, OUT, VM, 6000, PEER, 53);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.reason, SS_CT_END_IDLE);
	assert_counts(&r, 1, UDP_LEN, 0, 0);
	/* flow.flush */
	assert_int_equal(ss_ct_flush(f->ct, UINT32_MAX, NULL, NULL, 1), 1);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.reason, SS_CT_END_FORCED);
	assert_counts(&r, 1, UDP_LEN, 0, 0);
	assert_int_equal(r.start, f->now);
}

static void test_revocation(void **state)
{
	struct fx *f = *state;
	struct ss_ct_record r;

	tcp(f, OUT, VM, 40002, PEER, 443, TF_SYN);
	tcp(f, IN, PEER, 443, VM, 40002, TF_SYN | TF_ACK);
	/* the outbound group now denies: the next packet re-checks, revokes */
	tu_del_where(&f->store, "acl_rule", "group", "out4");
	put_group(&f->store, "out4", "ipv4", "{\"priority\": 1, \"action\": \"deny\"}");
	publish(f, "out4");
	assert_int_equal(tcp(f, OUT, VM, 40002, PEER, 443, TF_ACK), SS_CT_DROP_ACL);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.reason, SS_CT_END_FORCED);
	assert_counts(&r, 1, TCP_LEN, 1, TCP_LEN);   /* the denied packet is not */
}

static void test_active_timeout(void **state)
{
	struct fx *f = *state;
	struct ss_ct_record r;
	uint64_t t0 = f->now;

	f->x.active_s = 1;
	for (int i = 0; i < 5; i++) {
		udp(f, OUT, VM, 7000, PEER, 53);
		udp(f, IN, PEER, 53, VM, 7000);
		f->now += 100;
	}
	ss_ct_sweep(f->ct, f->now, UINT32_MAX, 1);   /* 500 ms: not yet */
	assert_int_equal(next(f, &r), -1);
	f->now = t0 + 1000;
	ss_ct_sweep(f->ct, f->now, UINT32_MAX, 1);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.reason, SS_CT_END_ACTIVE);
	assert_counts(&r, 5, 5 * UDP_LEN, 5, 5 * UDP_LEN);
	assert_int_equal(r.start, t0);
	assert_int_equal(r.end, t0 + 400);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);   /* the flow goes on */
	/* the next record has what came since, from the previous one's time */
	udp(f, OUT, VM, 7000, PEER, 53);
	f->now += 500;
	ss_ct_sweep(f->ct, f->now, UINT32_MAX, 1);
	assert_int_equal(next(f, &r), -1);
	f->now += 500;
	udp(f, OUT, VM, 7000, PEER, 53);
	ss_ct_sweep(f->ct, f->now, UINT32_MAX, 1);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.reason, SS_CT_END_ACTIVE);
	assert_counts(&r, 2, 2 * UDP_LEN, 0, 0);
	assert_int_equal(r.start, t0 + 1000);
	/* an interval without packets makes no record; the end has the rest */
	f->now += 1000;
	ss_ct_sweep(f->ct, f->now, UINT32_MAX, 1);
	assert_int_equal(next(f, &r), -1);
	udp(f, IN, PEER, 53, VM, 7000);
	ss_ct_flush(f->ct, ENI, NULL, NULL, 1);
	assert_int_equal(next(f, &r), 0);
	assert_int_equal(r.reason, SS_CT_END_FORCED);
	assert_counts(&r, 0, 0, 1, UDP_LEN);
	/* export off: counted, not reported */
	ss_ct_export_set(NULL);
	udp(f, OUT, VM, 7001, PEER, 53);
	ss_ct_flush(f->ct, ENI, NULL, NULL, 1);
	assert_int_equal(next(f, &r), -1);
}

static void test_ring_full(void **state)
{
	struct fx *f = fx_make(4);   /* room for 3 */
	struct ss_ct_record r;
	int n = 0;

	(void)state;
	for (uint16_t i = 0; i < 5; i++)
		udp(f, OUT, VM, (uint16_t)(8000 + i), PEER, 53);
	/* never waits: what does not fit is counted */
	assert_int_equal(ss_ct_flush(f->ct, UINT32_MAX, NULL, NULL, 1), 5);
	while (next(f, &r) == 0)
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(f->x.enqueued, 3);
	assert_int_equal(f->x.dropped, 2);
	teardown((void **)&f);
}

static void test_migrate_keeps_counts(void **state)
{
	struct fx *f = *state;
	struct ss_ct_record r;
	struct ss_ct *big;

	udp(f, OUT, VM, 9000, PEER, 53);
	udp(f, IN, PEER, 53, VM, 9000);
	big = ss_ct_create("ipxbig", 4096, 256, 16, 1, NULL, 1000);
	assert_non_null(big);
	ss_ct_configure(big, 4096, 10000, 2000);
	assert_int_equal(ss_ct_migrate(big, f->ct), 1);
	ss_ct_free(f->ct);
	f->ct = big;
	udp(f, OUT, VM, 9000, PEER, 53);
	assert_int_equal(ss_ct_flush(f->ct, UINT32_MAX, NULL, NULL, 1), 1);
	assert_int_equal(next(f, &r), 0);
	assert_counts(&r, 2, 2 * UDP_LEN, 1, UDP_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_idle_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_active_timeout, setup, teardown),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test_setup_teardown(test_migrate_keeps_counts, setup, teardown),
	};

	if (tu_eal_init() < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
