/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The shared flow table under two concurrent workers (EAL lcores 1 and 2,
 * oversubscribed on the CPUs there are) and a control thread that sweeps,
 * lists and flushes at the same time, with RCU quiescent states as in
 * sswitchd:
 *   1. both workers open the same connections at the same time: each one
 *      exists once, and `created` counts each once;
 *   2. one worker opens TCP connections, the other answers and resets them:
 *      every reset connection is gone;
 *   3. the control thread flushes while the workers open connections.
 * After each phase the table must be consistent: live entries == the flow
 * count == the per-ENI count == keys in the hash. The per-ENI gauges are
 * laid out as in sswitchd: one row per worker, and the control thread's
 * removals added to worker 0's row.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "tests/unit/acl/acl_test_util.h"
#include "tests/unit/conntrack/ct_test_util.h"

#define ENI 1
#define NCONN 3000
#define BURST 32

static struct ss_acl_table *acl;
static struct ss_ct *ct;
static struct rte_rcu_qsbr *qsbr;
static volatile int phase_stop;

struct job {
	int phase;
	int who;          /* 0 or 1: worker (QSBR thread id, counter row) */
	uint64_t passed, dropped;
};

/* Connection i: 10.1.(i>>8).(i&255):(1024+i) -> 192.0.2.1:53 (UDP) or :80 (TCP). */
static void conn_pkt(struct tpkt *t, int i, int reply, int tcp, uint8_t flags)
{
	char vm[32];
	uint8_t l4[64];
	uint32_t n;
	uint16_t vport = (uint16_t)(1024 + i), pport = tcp ? 80 : 53;

	snprintf(vm, sizeof(vm), "10.1.%d.%d", i >> 8, i & 255);
	if (tcp)
		n = reply ? l4_tcp(l4, pport, vport, flags) : l4_tcp(l4, vport, pport, flags);
	else
		n = reply ? l4_udp(l4, pport, vport, 4) : l4_udp(l4, vport, pport, 4);
	if (tp_frame(t, ENI, 0, reply ? "192.0.2.1" : vm, reply ? vm : "192.0.2.1",
		     tcp ? 6 : 17, 0, 0, l4, n) != 0)
		abort();
}

static void burst(struct job *j, unsigned int dir, struct tpkt *t, int n)
{
	struct ss_ct_pkt p[BURST];
	uint8_t v[BURST];

	for (int i = 0; i < n; i++)
		p[i] = t[i].p;
	ss_ct_policy_burst(ct, ss_acl_table_state(acl), (unsigned int)j->who, dir, p, (uint32_t)n,
			   rte_rdtsc(), v);
	for (int i = 0; i < n; i++) {
		if (v[i] == SS_CT_PASS)
			j->passed++;
		else
			j->dropped++;
	}
	rte_rcu_qsbr_quiescent(qsbr, (unsigned int)j->who);
}

static int worker(void *arg)
{
	struct job *j = arg;
	static __thread struct tpkt t[BURST];

	rte_rcu_qsbr_thread_register(qsbr, (unsigned int)j->who);
	rte_rcu_qsbr_thread_online(qsbr, (unsigned int)j->who);
	switch (j->phase) {
	case 1:   /* both open the same UDP connections, in opposite orders */
		for (int round = 0; round < 3; round++)
			for (int b = 0; b < NCONN; b += BURST) {
				int n = NCONN - b < BURST ? NCONN - b : BURST;

				for (int i = 0; i < n; i++)
					conn_pkt(&t[i], j->who ? NCONN - 1 - (b + i) : b + i, 0, 0, 0);
				burst(j, SS_ACL_OUT, t, n);
			}
		break;
	case 2:   /* worker 0 opens TCP connections, worker 1 answers and resets */
		for (int b = 0; b < NCONN; b += BURST) {
			int n = NCONN - b < BURST ? NCONN - b : BURST;

			if (j->who == 0) {
				for (int i = 0; i < n; i++)
					conn_pkt(&t[i], b + i, 0, 1, TF_SYN);
				burst(j, SS_ACL_OUT, t, n);
				continue;
			}
			/* a reset is denied until its connection exists: resend
			 * those until each one passed once */
			int left = n, idx[BURST];

			for (int i = 0; i < n; i++)
				idx[i] = b + i;
			while (left > 0 && !__atomic_load_n(&phase_stop, __ATOMIC_RELAXED)) {
				struct ss_ct_pkt p[BURST];
				uint8_t v[BURST];
				int k = 0;

				for (int i = 0; i < left; i++) {
					conn_pkt(&t[i], idx[i], 1, 1, TF_RST | TF_ACK);
					p[i] = t[i].p;
				}
				ss_ct_policy_burst(ct, ss_acl_table_state(acl), 1, SS_ACL_IN, p,
						   (uint32_t)left, rte_rdtsc(), v);
				rte_rcu_qsbr_quiescent(qsbr, 1);
				for (int i = 0; i < left; i++)
					if (v[i] != SS_CT_PASS)
						idx[k++] = idx[i];
				left = k;
			}
		}
		break;
	case 3:   /* open connections while the control thread flushes */
		while (!__atomic_load_n(&phase_stop, __ATOMIC_RELAXED))
			for (int b = 0; b < NCONN; b += BURST) {
				int n = NCONN - b < BURST ? NCONN - b : BURST;

				for (int i = 0; i < n; i++)
					conn_pkt(&t[i], (b + i + j->who * 7) % NCONN, 0, 0, 0);
				burst(j, SS_ACL_OUT, t, n);
			}
		break;
	}
	rte_rcu_qsbr_thread_offline(qsbr, (unsigned int)j->who);
	rte_rcu_qsbr_thread_unregister(qsbr, (unsigned int)j->who);
	return 0;
}

static void consistent(void)
{
	uint32_t live = 0;

	/* everything the workers queued is past its grace period now */
	rte_rcu_qsbr_dq_reclaim(ct->flows.dq, UINT32_MAX, NULL, NULL, NULL);
	for (uint32_t pos = 0; pos < ct->flows.nb_pos; pos++) {
		uint8_t st = ((struct ss_ct_entry *)(ct->flows.ent + pos * ct->flows.esize))->state;

		assert_true(st == SS_CT_LIVE || st == SS_CT_FREE);
		live += st == SS_CT_LIVE;
	}
	assert_int_equal(live, __atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED));
	assert_int_equal(live, ss_ct_eni_flows(ct, ENI));
	assert_int_equal(live, rte_hash_count(ct->flows.h));
}

static void run_phase(int phase, int control)
{
	struct job j[2] = { { .phase = phase, .who = 0 }, { .phase = phase, .who = 1 } };
	uint64_t t0 = rte_get_tsc_cycles();

	phase_stop = 0;
	assert_int_equal(rte_eal_remote_launch(worker, &j[0], 1), 0);
	assert_int_equal(rte_eal_remote_launch(worker, &j[1], 2), 0);
	while (control) {
		/* the control thread's share: sweep slices, flush, list */
		ss_ct_sweep(ct, rte_rdtsc(), 256, 2);
		if (control == 2) {
			ss_ct_flush(ct, ENI, NULL, NULL, 2);
			if (rte_get_tsc_cycles() - t0 > rte_get_tsc_hz() / 2)
				break;
		}
		if (rte_eal_get_lcore_state(1) == WAIT && rte_eal_get_lcore_state(2) == WAIT)
			break;
	}
	__atomic_store_n(&phase_stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	rte_rcu_qsbr_synchronize(qsbr, RTE_QSBR_THRID_INVALID);
	consistent();
}

static void test_concurrent(void **state)
{
	(void)state;
	run_phase(1, 1);
	/* each connection exists once, created once, whatever the race */
	assert_int_equal(ss_ct_eni_flows(ct, ENI), NCONN);
	assert_int_equal(SS_CT_COUNTER(ct, created), NCONN);

	run_phase(2, 1);
	assert_int_equal(SS_CT_COUNTER(ct, removed_rst), NCONN);
	assert_int_equal(ss_ct_eni_flows(ct, ENI), NCONN);   /* the UDP ones remain */

	run_phase(3, 2);
	assert_true(SS_CT_COUNTER(ct, flushed) > 0);
}

int main(void)
{
	static const char *const allow_all[] = { "{\"priority\": 1, \"action\": \"allow\"}", NULL };
	static const char *const deny_all[] = { "{\"priority\": 1, \"action\": \"deny\"}", NULL };
	static const char *const out4[] = { "out4", NULL }, *const in4[] = { "in4", NULL };
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_concurrent) };
	char prefix[64], err[256];
	struct tu_store s;

	snprintf(prefix, sizeof(prefix), "--file-prefix=sstestmt%d", (int)getpid());
	char *argv[] = { "test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			 "--log-level", "*:error", "--lcores", "0@0,1@1,2@0", prefix, NULL };
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0)
		return 1;
	qsbr = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(2), RTE_CACHE_LINE_SIZE);
	if (qsbr == NULL || rte_rcu_qsbr_init(qsbr, 2) != 0)
		return 1;
	tu_store_init(&s);
	acl = ss_acl_table_create();
	ss_acl_table_set_workers(acl, 2);
	for (int g = 0; g < 2; g++) {
		const char *name = g ? "in4" : "out4";
		const char *const *rules = g ? deny_all : allow_all;

		tu_add(&s, "acl_group", json_pack("{s:s, s:s}", "name", name, "family", "ipv4"));
		json_t *r = json_loads(rules[0], 0, NULL);
		json_object_set_new(r, "group", json_string(name));
		tu_add(&s, "acl_rule", r);
	}
	tu_eni(&s, "vm", ENI, out4, in4, NULL, NULL);
	struct ss_change ch = { .op = SS_CHANGE_ADD, .ty = &ss_type_eni };
	if (tu_publish(acl, &s, &ch, 1, err, sizeof(err)) != 0)
		return 1;
	ct = ss_ct_create("ctmt", 4 * NCONN, 256, 4, 2, qsbr, rte_get_tsc_hz());
	if (ct == NULL)
		return 1;
	ss_ct_configure(ct, 4 * NCONN, 60000, 2000);
	/* gauges laid out as sswitchd does: one row per worker, the control
	 * thread adding to worker 0's row */
	static int64_t g[2][8];
	int64_t *rows[3] = { g[0], g[1], g[0] };
	ss_ct_share(ct, NULL, rows, sizeof(int64_t));
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	ss_ct_free(ct);
	ss_acl_table_destroy(acl);
	tu_store_free(&s);
	rte_free(qsbr);
	return rc;
}
