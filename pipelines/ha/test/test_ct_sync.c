/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Conntrack's side of the HA sync (pipelines/conntrack/ct_sync.c), with the
 * conntrack tests' fixture (fake clock, 1 tick = 1 ms): the ENI's outbound
 * stages allow everything, its inbound stages deny everything, so a reply
 * passes only through its flow.
 *   - events: create on the first packet, update on each side's first FIN,
 *     remove on RST and flush, in order, with the key and the initiator;
 *   - the creation hold: a standby's policy stage opens no flow;
 *   - install: a synced flow lets the reply through as a flow opened here
 *     would; a refresh keeps the later activity and the union of the TCP
 *     bits; max_flows is honoured;
 *   - remove and walk: a removed flow is gone; a walk in slices sees every
 *     live flow once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <rte_hash.h>
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
#define PASS SS_CT_PASS
#define DENY SS_CT_DROP_ACL

struct fx {
	struct ss_acl_table *acl;
	struct tu_store store;
	struct ss_ct *ct;
	struct ss_ct_sync sync;
	uint64_t now;
};

static void put_group(struct tu_store *s, const char *name, const char *rule)
{
	json_t *r = json_loads(rule, 0, NULL);

	tu_add(s, "acl_group", json_pack("{s:s, s:s}", "name", name, "family", "ipv4"));
	json_object_set_new(r, "group", json_string(name));
	tu_add(s, "acl_rule", r);
}

static int setup(void **state)
{
	static const char *const out4[] = { "out4", NULL }, *const in4[] = { "in4", NULL };
	struct fx *f = calloc(1, sizeof(*f));
	json_t *g = json_pack("{s:s}", "name", "out4");
	struct ss_change ch;
	char err[256];

	tu_store_init(&f->store);
	ch = tu_change("acl_group", SS_CHANGE_SET, g);
	f->acl = ss_acl_table_create();
	put_group(&f->store, "out4", "{\"priority\": 1, \"action\": \"allow\"}");
	put_group(&f->store, "in4", "{\"priority\": 1, \"action\": \"deny\"}");
	tu_eni(&f->store, "vm", ENI, out4, in4, NULL, NULL);
	if (tu_publish(f->acl, &f->store, &ch, 1, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	json_decref(g);
	f->ct = ss_ct_create("cts", 1024, 256, 16, 1, NULL, 1000);
	assert_non_null(f->ct);
	ss_ct_configure(f->ct, 1024, 10000, 2000);
	f->sync.ring = rte_ring_create_elem("cts_ring", sizeof(struct ss_ct_event), 64,
					    SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(f->sync.ring);
	f->now = 1000000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ss_ct_sync_set(NULL);
	ss_ct_create_hold(false);
	rte_ring_free(f->sync.ring);
	ss_ct_free(f->ct);
	ss_acl_table_destroy(f->acl);
	tu_store_free(&f->store);
	free(f);
	return 0;
}

static int tcp(struct fx *f, unsigned int dir, const char *src, uint16_t sp, const char *dst,
	       uint16_t dp, uint8_t flags)
{
	struct tpkt t;
	uint8_t l4[20], v = 0xff;
	uint32_t n = l4_tcp(l4, sp, dp, flags);

	assert_int_equal(tp_frame(&t, ENI, 0, src, dst, 6, 0, 0, l4, n), 0);
	ss_ct_policy_burst(f->ct, ss_acl_table_state(f->acl), 0, dir, &t.p, 1, f->now, &v);
	return v;
}

static struct ss_ct_key key_of(const char *src, uint16_t sp, const char *dst, uint16_t dp,
			       uint8_t *side)
{
	struct ss_ct_key k;
	uint8_t s[4], d[4];

	inet_pton(AF_INET, src, s);
	inet_pton(AF_INET, dst, d);
	*side = ss_ct_key_make(&k, ENI, 6, 0, s, d, sp, dp);
	return k;
}

static void expect_event(struct fx *f, uint8_t type, const struct ss_ct_key *k, uint8_t tcp_bits)
{
	struct ss_ct_event ev;

	assert_int_equal(rte_ring_sc_dequeue_elem(f->sync.ring, &ev, sizeof(ev)), 0);
	assert_int_equal(ev.type, type);
	assert_memory_equal(&ev.key, k, sizeof(*k));
	assert_int_equal(ev.init_dir, OUT);
	assert_int_equal(ev.tcp & (SS_CT_FIN_A | SS_CT_FIN_B), tcp_bits);
}

static void test_events(void **state)
{
	struct fx *f = *state;
	uint8_t side;
	struct ss_ct_key k = key_of(VM, 40000, PEER, 80, &side);
	struct ss_ct_event ev;
	uint8_t fin_vm = side ? SS_CT_FIN_B : SS_CT_FIN_A, fin_peer = side ? SS_CT_FIN_A : SS_CT_FIN_B;

	/* no hook: nothing queued */
	assert_int_equal(tcp(f, OUT, VM, 39999, PEER, 80, TF_SYN), PASS);
	assert_int_equal(rte_ring_count(f->sync.ring), 0);
	ss_ct_sync_set(&f->sync);
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_SYN), PASS);
	expect_event(f, SS_CT_EV_CREATE, &k, 0);
	/* packets that change nothing the standby needs: no event */
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_SYN | TF_ACK), PASS);
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_ACK), PASS);
	assert_int_equal(rte_ring_count(f->sync.ring), 0);
	/* each side's first FIN, once */
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_FIN | TF_ACK), PASS);
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_FIN | TF_ACK), PASS);
	expect_event(f, SS_CT_EV_UPDATE, &k, fin_vm);
	assert_int_equal(rte_ring_count(f->sync.ring), 0);
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_FIN | TF_ACK), PASS);
	expect_event(f, SS_CT_EV_UPDATE, &k, fin_vm | fin_peer);
	/* RST: removal */
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_RST), PASS);
	expect_event(f, SS_CT_EV_REMOVE, &k, fin_vm | fin_peer);
	/* the control thread's removals too (flush: key read from the position) */
	k = key_of(VM, 40001, PEER, 80, &side);
	assert_int_equal(tcp(f, OUT, VM, 40001, PEER, 80, TF_SYN), PASS);
	expect_event(f, SS_CT_EV_CREATE, &k, 0);
	assert_int_equal(ss_ct_flush(f->ct, ENI, NULL, NULL, 1), 2);
	assert_int_equal(rte_ring_count(f->sync.ring), 2);
	while (rte_ring_sc_dequeue_elem(f->sync.ring, &ev, sizeof(ev)) == 0)
		assert_int_equal(ev.type, SS_CT_EV_REMOVE);
	/* a full ring counts, never blocks */
	for (int i = 0; i < 80; i++)
		assert_int_equal(tcp(f, OUT, VM, (uint16_t)(41000 + i), PEER, 80, TF_SYN), PASS);
	assert_int_equal(f->sync.enqueued + f->sync.dropped, 4 + 1 + 2 + 80);
	assert_true(f->sync.dropped >= 80 - 63);
}

static void test_hold(void **state)
{
	struct fx *f = *state;

	ss_ct_sync_set(&f->sync);
	ss_ct_create_hold(true);
	assert_true(ss_ct_create_held());
	/* allowed, but no flow: the reply is denied */
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_SYN | TF_ACK), DENY);
	assert_int_equal(f->ct->nb_flows, 0);
	assert_int_equal(rte_ring_count(f->sync.ring), 0);
	ss_ct_create_hold(false);
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_SYN), PASS);
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_SYN | TF_ACK), PASS);
}

static struct ss_ct_flow_state state_of(uint8_t side, uint64_t last_seen)
{
	return (struct ss_ct_flow_state){ .eni = ENI, .init_dir = OUT, .init_side = side,
					  .tcp = SS_CT_SYN_SEEN, .last_seen = last_seen,
					  .acl_gen = 0 };
}

static void test_install_remove(void **state)
{
	struct fx *f = *state;
	uint8_t side;
	struct ss_ct_key k = key_of(VM, 40000, PEER, 80, &side);
	struct ss_ct_flow_state st = state_of(side, f->now - 100);
	const struct ss_ct_entry *e;
	int32_t pos;

	/* the standby's table: a reply of a synced connection passes, mid-stream */
	ss_ct_create_hold(true);
	st.acl_gen = ss_acl_eni_gen(ss_acl_table_state(f->acl), ENI);
	assert_int_equal(ss_ct_sync_install(f->ct, &k, &st), 0);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_ACK), PASS);
	assert_int_equal(tcp(f, OUT, VM, 40000, PEER, 80, TF_ACK), PASS);
	/* another port: no flow, denied */
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40001, TF_ACK), DENY);
	/* a refresh: later activity kept, an older one ignored, bits joined */
	pos = rte_hash_lookup(f->ct->flows.h, &k);
	assert_true(pos >= 0);
	e = ss_ct_entry_at(f->ct, (uint32_t)pos);
	st.last_seen = f->now - 5000;
	st.tcp = SS_CT_FIN_A;
	assert_int_equal(ss_ct_sync_install(f->ct, &k, &st), 0);
	assert_int_equal(e->last_seen, f->now);
	assert_int_equal(e->tcp & (SS_CT_FIN_A | SS_CT_SYN_SEEN), SS_CT_FIN_A | SS_CT_SYN_SEEN);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 1);
	/* removal */
	assert_int_equal(ss_ct_sync_remove(f->ct, &k), 0);
	assert_int_equal(ss_ct_sync_remove(f->ct, &k), -ENOENT);
	assert_int_equal(tcp(f, IN, PEER, 80, VM, 40000, TF_ACK), DENY);
	assert_int_equal(ss_ct_eni_flows(f->ct, ENI), 0);
	/* max_flows */
	ss_ct_configure(f->ct, 2, 10000, 2000);
	for (uint16_t p = 1; p <= 3; p++) {
		k = key_of(VM, p, PEER, 80, &side);
		st = state_of(side, f->now);
		assert_int_equal(ss_ct_sync_install(f->ct, &k, &st), p <= 2 ? 0 : -ENOSPC);
	}
}

struct seen {
	uint32_t n;
	uint8_t port[600];
};

static void count_one(void *arg, const struct ss_ct_key *k, const struct ss_ct_flow_state *st)
{
	struct seen *s = arg;
	uint16_t p = k->pa == 80 ? k->pb : k->pa;

	assert_int_equal(st->eni, ENI);
	assert_true(p < 600);
	s->port[p]++;
	s->n++;
}

static void test_walk(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	uint32_t cursor = 0, turns = 0;

	for (uint16_t p = 1; p <= 500; p++) {
		uint8_t side;
		struct ss_ct_key k = key_of(VM, p, PEER, 80, &side);
		struct ss_ct_flow_state st = state_of(side, f->now);

		assert_int_equal(ss_ct_sync_install(f->ct, &k, &st), 0);
	}
	while (!ss_ct_sync_walk(f->ct, &cursor, 97, count_one, &s))
		turns++;
	assert_int_equal(s.n, 500);
	for (uint16_t p = 1; p <= 500; p++)
		assert_int_equal(s.port[p], 1);
	assert_true(turns >= f->ct->flows.nb_pos / 97 - 1);
	/* a walk at the end stays there */
	assert_true(ss_ct_sync_walk(f->ct, &cursor, 97, count_one, &s));
	assert_int_equal(s.n, 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
	};

	if (tu_eal_init() < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
