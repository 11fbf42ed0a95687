/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Micro-benchmark of the policy stage alone (no graph, no ports): cycles
 * per packet of ss_ct_policy_burst on one core, with a 3-stage ACL of 1000
 * ClassBench-style rules bound to the ENI:
 *   hit   packets of 1M live flows in random order (flow hit, no ACL)
 *   cps   new connections: a TCP SYN (miss, 3 ACL stages, insert) and later
 *         its RST (hit, remove), with 1M live flows in the table
 *   acl   the 3 ACL stages alone (ss_acl_classify_burst)
 * Usage: bench_ct [live flows (1M)] [seconds per test (2)] [only: hit|cps|acl]
 * Each figure is the best average over chunks of 64k packets: on a shared
 * machine a chunk that was preempted does not measure the code.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "pipelines/conntrack/ct.h"
#include "tests/unit/acl/acl_test_util.h"

#define ENI 1
#define B 32
/* The machine may be shared: figures are the best average over chunks of
 * this many packets (a chunk a preemption landed in is not the code's cost). */
#define CHUNK_PKTS (B * 2048)
#define BEST(a, b) ((a) < (b) ? (a) : (b))

struct pk {
	uint8_t frame[64];
	struct ss_layer l;
};

static uint64_t rs = 88172645463325252ull;

static uint32_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)rs;
}

/* Flow i: 10.0.(i>>16).(i>>8) port 1024+(i&0x3fff)... -> 10.1.x.y:80, TCP or UDP. */
static void mk(struct pk *p, uint32_t i, int tcp, uint8_t flags, int reply)
{
	uint8_t *ip = p->frame + 14;
	uint8_t a[4] = { 10, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8) };
	uint8_t b[4] = { 10, 1, (uint8_t)(i >> 12), (uint8_t)i };
	uint16_t sp = (uint16_t)(1024 + (i & 0x3fff)), dp = 80;

	memset(p, 0, sizeof(*p));
	p->frame[12] = 0x08;
	ip[0] = 0x45;
	ip[9] = tcp ? 6 : 17;
	memcpy(ip + (reply ? 16 : 12), a, 4);
	memcpy(ip + (reply ? 12 : 16), b, 4);
	ip[20 + 13] = flags;
	p->l.l3_off = 14;
	p->l.l4_off = 34;
	p->l.l3_len = 40;
	p->l.l3 = SS_L3_IPV4;
	p->l.proto = ip[9];
	p->l.flags = SS_PF_L4;
	p->l.sport = reply ? dp : sp;
	p->l.dport = reply ? sp : dp;
}

static json_t *pfx(uint32_t a, int len)
{
	char s[32];

	a = len ? a & (0xffffffffu << (32 - len)) : 0;
	snprintf(s, sizeof(s), "%u.%u.%u.%u/%d", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len);
	return json_string(s);
}

/* 1000 rules over 3 stages: prefixes around the traffic's and elsewhere,
 * port ranges, protocols; soft verdicts in stages 1-2, the traffic ends
 * allowed by stage 3. */
static void rules(struct tu_store *s)
{
	static const int lens[] = { 8, 16, 24, 32, 12, 20 };
	static const char *const g[3] = { "st1", "st2", "st3" };
	int n[3] = { 400, 300, 300 };

	for (int k = 0; k < 3; k++) {
		tu_add(s, "acl_group", json_pack("{s:s, s:s}", "name", g[k], "family", "ipv4"));
		for (int i = 0; i < n[k]; i++) {
			uint32_t base = (rnd() & 1) ? 0x0a000000u | (rnd() & 0x1ffff) << 8
						    : (rnd() % 200 + 20) << 24 | (rnd() & 0xffffff);
			int last = i == n[k] - 1;
			json_t *r = json_pack("{s:s, s:i, s:s, s:b}", "group", g[k], "priority",
					      10 * (i + 1), "action",
					      last || k == 2 || (rnd() & 1) ? "allow" : "deny",
					      "terminating", k == 2 && (last || (rnd() & 3) == 0));

			if (!last) {
				json_object_set_new(r, "src", json_pack("[o]", pfx(base, lens[rnd() % 6])));
				json_object_set_new(r, "dst", json_pack("[o]", pfx(rnd(), lens[rnd() % 6])));
				if (rnd() & 1)
					json_object_set_new(r, "protocols", json_pack("[i]", rnd() & 1 ? 6 : 17));
				if (rnd() & 1) {
					char pr[16];
					uint32_t lo = rnd() % 60000;

					snprintf(pr, sizeof(pr), "%u-%u", lo, lo + rnd() % 1000);
					json_object_set_new(r, "dst_ports", json_pack("[s]", pr));
				}
			}
			tu_add(s, "acl_rule", r);
		}
	}
}

/* Bursts of B packets of flows order[k], k = 0, 1, ...; each burst is
 * built in a small hot buffer first (as rx leaves it in cache) and only
 * the policy stage is timed. */
static double run(struct ss_ct *ct, const struct ss_acl_state *acl, uint32_t nflows,
		  const uint32_t *order, int reply, unsigned int dir, double secs)
{
	static struct pk hot[B];
	struct ss_ct_pkt p[B];
	uint8_t v[B];
	uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc(), cyc = 0, n = 0;
	uint32_t k = 0;

	double best = 1e30;

	while (rte_rdtsc() - t0 < (uint64_t)(secs * hz)) {
		for (int i = 0; i < B; i++, k++) {
			mk(&hot[i], order[k % nflows], 0, 0, reply);
			p[i] = (struct ss_ct_pkt){ .data = hot[i].frame, .l = &hot[i].l, .eni = ENI };
		}
		uint64_t c0 = rte_rdtsc();
		ss_ct_policy_burst(ct, acl, 0, dir, p, B, c0, v);
		cyc += rte_rdtsc() - c0;
		n += B;
		if (n == CHUNK_PKTS) {
			best = BEST(best, (double)cyc / (double)n);
			cyc = n = 0;
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	uint32_t live = argc > 1 ? (uint32_t)atoi(argv[1]) : 1u << 20;
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	const char *only = argc > 3 ? argv[3] : NULL;
	static const char *const stages[] = { "st1", "st2", "st3", NULL };
	struct ss_acl_table *acl;
	struct tu_store s;
	struct ss_ct *ct;
	struct pk *pk;
	uint32_t *order;
	char err[256];

	if (tu_eal_init() < 0)
		return 1;
	tu_store_init(&s);
	rules(&s);
	tu_eni(&s, "vm", ENI, stages, NULL, NULL, NULL);
	acl = ss_acl_table_create();
	struct ss_change ch = { .op = SS_CHANGE_ADD, .ty = &ss_type_eni };
	uint64_t b0 = rte_rdtsc();
	if (tu_publish(acl, &s, &ch, 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("compile  %.1f ms for the 3 groups (1000 rules: parse, rte_acl_build, bindings)\n",
	       (double)(rte_rdtsc() - b0) * 1000 / rte_get_tsc_hz());
	const struct ss_acl_state *st = ss_acl_table_state(acl);
	ct = ss_ct_create("bench", live + live / 4 + 65536, 1024, 4, 1, NULL, rte_get_tsc_hz());
	if (ct == NULL)
		return 1;
	ss_ct_configure(ct, live + 65536, 600000, 2000);
	pk = malloc((size_t)live * sizeof(*pk));
	order = malloc((size_t)live * sizeof(*order));
	for (uint32_t i = 0; i < live; i++) {
		mk(&pk[i], i, 0, 0, 0);
		order[i] = i;
	}
	for (uint32_t i = live; i > 1; i--) {
		uint32_t j = rnd() % i, t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	/* fill: every flow created once */
	{
		struct ss_ct_pkt p[B];
		uint8_t v[B];
		uint64_t c0 = rte_rdtsc();

		for (uint32_t i = 0; i < live; i += B) {
			uint32_t m = live - i < B ? live - i : B;

			for (uint32_t j = 0; j < m; j++)
				p[j] = (struct ss_ct_pkt){ .data = pk[i + j].frame, .l = &pk[i + j].l,
							   .eni = ENI };
			ss_ct_policy_burst(ct, st, 0, SS_ACL_OUT, p, m, rte_rdtsc(), v);
		}
		printf("fill     %u flows: %.1f cycles/flow (miss, 3 stages, insert); %lld live\n",
		       live, (double)(rte_rdtsc() - c0) / live,
		       (long long)ss_ct_eni_flows(ct, ENI));
	}
	if (only == NULL || strcmp(only, "hit") == 0) {
	printf("hit      %.1f cycles/packet (%u flows, random order)\n",
	       run(ct, st, live, order, 0, SS_ACL_OUT, secs), live);
	printf("hit rev  %.1f cycles/packet (their replies, inbound)\n",
	       run(ct, st, live, order, 1, SS_ACL_IN, secs));
	{
		static uint32_t few[1024];

		for (uint32_t i = 0; i < 1024; i++)
			few[i] = order[i];
		printf("hit 1k   %.1f cycles/packet (1024 of the flows, cache-hot)\n",
		       run(ct, st, 1024, few, 0, SS_ACL_OUT, secs));
	}
	}

	/* cps: SYN of new connections, their RST 8 bursts later */
	if (only == NULL || strcmp(only, "cps") == 0) {
		enum { RING = 16 * B };
		static struct pk syn[RING];
		struct ss_ct_pkt p[B];
		uint8_t v[B];
		uint64_t hz = rte_get_tsc_hz(), t0 = rte_rdtsc(), cyc = 0, conns = 0;
		uint32_t next = live + 1, r = 0;
		double best = 1e30;

		while (rte_rdtsc() - t0 < (uint64_t)(secs * hz)) {
			/* RSTs of the connections opened 8 bursts ago */
			uint32_t old = (r + RING - 8 * B) % RING;
			uint64_t c0;

			if (conns >= 8 * B) {
				for (int i = 0; i < B; i++) {
					struct pk *x = &syn[(old + i) % RING];

					x->frame[14 + 33] = 0x04 | 0x10;
					p[i] = (struct ss_ct_pkt){ .data = x->frame, .l = &x->l,
								   .eni = ENI };
				}
				c0 = rte_rdtsc();
				ss_ct_policy_burst(ct, st, 0, SS_ACL_OUT, p, B, c0, v);
				cyc += rte_rdtsc() - c0;
			}
			for (int i = 0; i < B; i++) {
				struct pk *x = &syn[(r + i) % RING];

				mk(x, next++, 1, 0x02, 0);
				p[i] = (struct ss_ct_pkt){ .data = x->frame, .l = &x->l, .eni = ENI };
			}
			c0 = rte_rdtsc();
			ss_ct_policy_burst(ct, st, 0, SS_ACL_OUT, p, B, c0, v);
			cyc += rte_rdtsc() - c0;
			conns += B;
			r = (r + B) % RING;
			if (conns % CHUNK_PKTS == 0) {
				best = BEST(best, (double)cyc / CHUNK_PKTS);
				cyc = 0;
			}
		}
		printf("cps      %.1f cycles/connection (SYN: miss, 3 stages, insert; RST: hit, "
		       "remove) = %.2f M connections/s per core; created %llu, table_full %llu\n",
		       best, (double)hz / best / 1e6,
		       (unsigned long long)SS_CT_COUNTER(ct, created),
		       (unsigned long long)SS_CT_COUNTER(ct, table_full));
	}
	/* the ACL stages alone */
	if (only == NULL || strcmp(only, "acl") == 0) {
		struct ss_acl_key keys[B];
		struct ss_acl_req req[B];
		uint8_t a[B];
		uint64_t cyc = 0, cnt = 0, hz = rte_get_tsc_hz(), t0 = rte_rdtsc();
		uint32_t k = 0;
		double best = 1e30;

		while (rte_rdtsc() - t0 < (uint64_t)(secs * hz)) {
			for (int i = 0; i < B; i++, k++) {
				struct ss_ct_info in;
				struct ss_ct_pkt pp = { .data = pk[order[k % live]].frame,
							.l = &pk[order[k % live]].l, .eni = ENI };

				ss_ct_extract(&pp, SS_ACL_OUT, &in);
				ss_ct_acl_key(&in.key, in.side, &keys[i]);
				req[i] = (struct ss_acl_req){ .key = &keys[i], .eni = ENI, .dir = SS_ACL_OUT };
			}
			uint64_t c0 = rte_rdtsc();
			ss_acl_classify_burst(st, 0, req, B, a);
			cyc += rte_rdtsc() - c0;
			cnt += B;
			if (cnt == CHUNK_PKTS) {
				best = BEST(best, (double)cyc / cnt);
				cyc = cnt = 0;
			}
		}
		printf("acl      %.1f cycles/packet (3 stages, 1000 rules, classify only)\n", best);
	}
	ss_ct_free(ct);
	ss_acl_table_destroy(acl);
	tu_store_free(&s);
	free(pk);
	free(order);
	return 0;
}
