/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Update while reading: a reader thread does what a worker does (lookups of
 * mappings, routes, ENIs; holds what it found until its next quiescent
 * state, then reports one) while this thread runs transactions that
 * replace, delete and re-add those entries, with an RCU grace period
 * between commit and reclaim, as the control plane does.
 *
 * Every entry encodes its own key, and a reader re-reads what it holds
 * after a while: an entry freed (and reused) too early, a lookup answering
 * from a half-updated LPM copy, or a hash losing a key during an update
 * shows up as an error. Run with OVL_RCU_NO_SYNC=1 to see it catch the
 * missing grace period.
 */
#include <pthread.h>
#include <stdlib.h>

#include <rte_rcu_qsbr.h>

#include "pipelines/overlay/test/ovl_test.h"

#define NI 32          /* /16 routes 10.i.0.0/16, i < NI */
#define NJ 64          /* mappings 10.i.0.j, 1 <= j <= NJ */
#define ROUNDS 150

static struct rte_rcu_qsbr *qsbr;
static volatile int stop;
static uint64_t lookups, errors, holds;
static char first_error[256];
static struct txn T;

static void error(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED) == 0) {
		va_start(ap, fmt);
		vsnprintf(first_error, sizeof(first_error), fmt, ap);
		va_end(ap);
	}
}

static void spin(unsigned int n)
{
	for (volatile unsigned int i = 0; i < n; i++)
		;
}

static void *reader(void *arg)
{
	uint16_t vnet = (uint16_t)ss_ovl_vnet_index("A");
	uint16_t group = (uint16_t)ss_ovl_group_index("g");
	uint32_t eni = (uint32_t)ss_ovl_eni_index("e");
	unsigned int seed = 1;

	(void)arg;
	rte_rcu_qsbr_thread_register(qsbr, 0);
	rte_rcu_qsbr_thread_online(qsbr, 0);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		/* one "graph walk": a few lookups, held, re-checked */
		for (int n = 0; n < 16; n++) {
			uint8_t i = (uint8_t)(rand_r(&seed) % NI), j = (uint8_t)(rand_r(&seed) % NJ + 1);
			uint8_t a[16] = { 10, i, 0, j };
			const struct ss_ovl_mapping *m = ss_ovl_mapping_find(vnet, 4, a);
			const struct ss_ovl_route *r = NULL;
			uint8_t act = 0;
			uint16_t rv;
			ss_ovl_route_find(group, 4, a, &act, &rv, &r);
			const struct ss_ovl_eni *e = ss_ovl_eni_get(eni);
			uint8_t pa[4] = { 100, 64, i, 1 };
			const struct ss_ovl_uroute *u = ss_ovl_uroute_find(4, pa);
			const struct ss_ovl_inb_rule *ir = ss_ovl_inb_match(eni, 1000 + i, 4, pa);
			struct ss_ovl_mapping mc;
			struct ss_ovl_route rc;
			struct ss_ovl_eni ec;

			__atomic_fetch_add(&lookups, 1, __ATOMIC_RELAXED);
			if (m == NULL && (j & 1))
				error("mapping 10.%u.0.%u (never deleted) missing", i, j);
			if (r == NULL)
				error("route for 10.%u.0.%u missing", i, j);
			if (e == NULL)
				error("ENI missing");
			if (u == NULL || u->n != 1 || u->nh[0].mac.addr_bytes[4] != i)
				error("underlay route for 100.64.%u.1 missing or another's", i);
			if (ir == NULL || ir->priority != i)
				error("inbound route of VNI %u missing or another's", 1000 + i);
			if (m == NULL || r == NULL || e == NULL)
				continue;
			mc = *m;
			rc = *r;
			ec = *e;
			if (mc.tgt.mac.addr_bytes[4] != i || mc.tgt.mac.addr_bytes[5] != j ||
			    mc.vnet != vnet)
				error("mapping 10.%u.0.%u has another's entry", i, j);
			if (rc.action != SS_OVL_RT_VNET_DIRECT || rc.overlay_ip[1] != i)
				error("route for 10.%u.x.x has another's entry", i);
			if (ec.index != eni || ec.vnet != vnet)
				error("ENI entry is not the ENI's");
			spin(200);
			if (memcmp(&mc, m, sizeof(mc)) != 0)
				error("mapping 10.%u.0.%u changed while held", i, j);
			if (memcmp(&rc, r, sizeof(rc)) != 0)
				error("route entry changed while held");
			if (memcmp(&ec, e, sizeof(ec)) != 0)
				error("ENI entry changed while held");
			__atomic_fetch_add(&holds, 1, __ATOMIC_RELAXED);
		}
		rte_rcu_qsbr_quiescent(qsbr, 0);
	}
	rte_rcu_qsbr_thread_offline(qsbr, 0);
	rte_rcu_qsbr_thread_unregister(qsbr, 0);
	return NULL;
}

static void uroute_op(int add, int i, int v)
{
	txn_op(&T, "underlay_route", add ? SS_CHANGE_ADD : SS_CHANGE_DELETE,
	       "{\"prefix\": \"100.64.%d.0/24\", \"next_hops\": [{\"port\": \"fabric0\", "
	       "\"mac\": \"02:00:00:00:%02x:%02x\"}]}", i, i, v & 255);
}

/* inbound routes of (e, VNI 1000 + i): replaced as a whole list */
static void inb_op(int add, int i, int prio)
{
	txn_op(&T, "inbound_route", add ? SS_CHANGE_ADD : SS_CHANGE_DELETE,
	       "{\"eni\": \"e\", \"vni\": %d, \"src_prefix\": \"100.64.0.0/16\", "
	       "\"priority\": %d, \"action\": \"decap\"}", 1000 + i, prio);
}

static void route_op(int add, int i, int v)
{
	txn_op(&T, "route", add ? SS_CHANGE_ADD : SS_CHANGE_DELETE,
	       "{\"group\": \"g\", \"prefix\": \"10.%d.0.0/16\", \"action\": \"vnet_direct\", "
	       "\"overlay_ip\": \"192.%d.%d.1\"}", i, i, v & 255);
}

static void map_op(enum ss_change_op op, int i, int j, int v)
{
	txn_op(&T, "mapping", op, "{\"vnet\": \"A\", \"ip\": \"10.%d.0.%d\", \"underlay_ip\": "
	       "\"192.0.%d.1\", \"mac\": \"02:00:00:%02x:%02x:%02x\"}", i, j, v & 255, v & 255, i, j);
}

static void commit_with_grace(void)
{
	int rc = ss_ovl_prepare(NULL, NULL, T.ch, T.n, T.err, sizeof(T.err));

	if (rc != 0)
		fail_msg("prepare: %s", T.err);
	ss_ovl_commit(NULL);
	if (getenv("OVL_RCU_NO_SYNC") == NULL)
		rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
	ss_ovl_reclaim(NULL);
	txn_reset(&T);
}

static void test_update_while_reading(void **state)
{
	struct ss_ctl_limits lim = { .max_enis = 16, .max_vnets = 16 };
	pthread_t th;

	(void)state;
	assert_int_equal(ss_ovl_tables_init(&lim), 0);
	qsbr = calloc(1, rte_rcu_qsbr_get_memsize(1));
	assert_int_equal(rte_rcu_qsbr_init(qsbr, 1), 0);

	ADD(&T, "vnet", "{\"name\": \"A\", \"vni\": 100}");
	ADD(&T, "eni", "{\"name\": \"e\", \"mac\": \"02:00:00:00:00:01\", \"vnet\": \"A\", "
		       "\"port\": \"host0\", \"route_group\": \"g\"}");
	TXN_OK(&T);
	for (int i = 0; i < NI; i++) {
		route_op(1, i, 0);
		uroute_op(1, i, 0);
		inb_op(1, i, i);
		for (int j = 1; j <= NJ; j++)
			map_op(SS_CHANGE_ADD, i, j, 0);
	}
	TXN_OK(&T);
	assert_int_equal(pthread_create(&th, NULL, reader, NULL), 0);

	for (int v = 1; v <= ROUNDS; v++) {
		int i = v % NI;
		/* replace a route (delete + add in one txn), rewrite a block of
		 * mappings, delete and re-add the even ones of another block,
		 * and touch the ENI (a new entry under the same index) */
		route_op(0, i, v - 1);
		route_op(1, i, v);
		uroute_op(0, i, v - 1);
		uroute_op(1, i, v);
		/* a better route for a moment: added, then removed next txn */
		inb_op(1, i, 1000 + v);
		for (int j = 1; j <= NJ; j++)
			map_op(SS_CHANGE_SET, i, j, v);
		for (int j = 2; j <= NJ; j += 2)
			map_op(SS_CHANGE_DELETE, (i + 7) % NI, j, 0);
		SET(&T, "eni", "{\"name\": \"e\", \"mac\": \"02:00:00:00:00:01\", \"vnet\": \"A\", "
			       "\"port\": \"host0\", \"route_group\": \"g\", \"dscp\": %d}", v % 64);
		commit_with_grace();
		for (int j = 2; j <= NJ; j += 2)
			map_op(SS_CHANGE_ADD, (i + 7) % NI, j, v);
		inb_op(0, i, 1000 + v);
		/* also grow the mapping table now and then: a new rte_hash is
		 * swapped in under the readers' feet */
		if (v % 50 == 0)
			for (int j = 0; j < 400 * (v / 50); j++)
				txn_op(&T, "mapping", SS_CHANGE_ADD,
				       "{\"vnet\": \"A\", \"ip\": \"172.16.%d.%d\", \"underlay_ip\": "
				       "\"192.0.2.1\", \"mac\": \"02:00:00:00:00:02\"}",
				       (j + v * 1000) / 250 % 250, (j + v * 1000) % 250);
		commit_with_grace();
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	printf("reader: %lu lookups, %lu held and re-checked, %lu errors\n",
	       (unsigned long)lookups, (unsigned long)holds, (unsigned long)errors);
	if (errors)
		fail_msg("%lu errors, first: %s", (unsigned long)errors, first_error);
	assert_true(holds > 1000);
	free(qsbr);
	ss_ovl_tables_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_while_reading),
	};

	if (ovl_test_eal() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
