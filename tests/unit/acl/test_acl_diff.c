/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Differential test of the ACL engine against a brute-force reference.
 *
 * Each trial draws ClassBench-like rule sets (acl/fw seed style: prefixes
 * of length 0, 8, 16, 24, 32 (IPv6: 0, 16, 32, 48, 64, 128) and random
 * lengths over a small pool of networks so rules overlap; port ranges any,
 * exact, 0-1023, 1024-65535 and small ranges; protocol lists), for three
 * stages per family, with terminating and non-terminating rules of both
 * actions. They go to the engine as acl_group / acl_rule / eni objects (the
 * path the daemon takes), packets aimed at rule boundaries (first and last
 * address of a prefix and one outside each, range ends +-1) are classified
 * in mixed bursts (several ENIs, both directions, both families, an ENI
 * without stages, a stage with an empty group), and every verdict and every
 * rule hit counter must equal the reference, which shares no code with the
 * daemon: it walks the rules in priority order for each stage.
 *
 * Then one stage group is replaced and the check runs again (verdicts,
 * generations of the bound ENIs only, counters carried over by priority).
 *
 * The seed is printed; SS_ACL_SEED=<n> replays it, SS_ACL_TRIALS=<n> runs
 * more trials.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "tests/unit/acl/acl_test_util.h"

/* ---- reference model ---------------------------------------------------- */

#define MAXL 3

struct tpfx {
	uint8_t a[16];
	int len;
};

struct trng {
	int lo, hi;
};

struct trule {
	uint32_t prio;
	int allow, term;
	int ns, nd, np, nsp, ndp;
	struct tpfx s[MAXL], d[MAXL];
	int p[MAXL];
	struct trng sp[MAXL], dp[MAXL];
	uint64_t hits;   /* expected */
};

struct tgroup {
	char name[32];
	int v6;
	int n;
	struct trule *r;
};

struct tpkt {
	int v6;
	uint8_t src[16], dst[16];
	int proto, sport, dport;
};

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static int rndn(int n)
{
	return (int)(rnd() % (uint32_t)n);
}

static int pfx_match(const struct tpfx *p, const uint8_t *a)
{
	for (int bit = 0; bit < p->len; bit++) {
		int m = 0x80 >> (bit % 8);

		if ((p->a[bit / 8] & m) != (a[bit / 8] & m))
			return 0;
	}
	return 1;
}

static int rule_match(const struct trule *r, const struct tpkt *k)
{
	int ok, i;

	for (ok = r->ns == 0, i = 0; i < r->ns && !ok; i++)
		ok = pfx_match(&r->s[i], k->src);
	if (!ok)
		return 0;
	for (ok = r->nd == 0, i = 0; i < r->nd && !ok; i++)
		ok = pfx_match(&r->d[i], k->dst);
	if (!ok)
		return 0;
	for (ok = r->np == 0, i = 0; i < r->np && !ok; i++)
		ok = r->p[i] == k->proto;
	if (!ok)
		return 0;
	for (ok = r->nsp == 0, i = 0; i < r->nsp && !ok; i++)
		ok = k->sport >= r->sp[i].lo && k->sport <= r->sp[i].hi;
	if (!ok)
		return 0;
	for (ok = r->ndp == 0, i = 0; i < r->ndp && !ok; i++)
		ok = k->dport >= r->dp[i].lo && k->dport <= r->dp[i].hi;
	return ok;
}

/* SPEC 3.5, written from the text: stages in order; in a stage the
 * matching rule with the lowest priority number decides; a terminating
 * verdict ends it; a non-terminating one is remembered; a stage without a
 * match denies; all stages passed: the last remembered verdict. No stage:
 * allow. Counts the expected hits. */
static int ref_eval(struct tgroup *const *stages, int n, const struct tpkt *k)
{
	int remembered = -1;

	if (n == 0)
		return 1;
	for (int s = 0; s < n; s++) {
		struct trule *best = NULL;

		for (int i = 0; i < stages[s]->n; i++) {
			struct trule *r = &stages[s]->r[i];

			if (rule_match(r, k) && (best == NULL || r->prio < best->prio))
				best = r;
		}
		if (best == NULL)
			return 0;
		best->hits++;
		if (best->term)
			return best->allow;
		remembered = best->allow;
	}
	return remembered;
}

/* ---- generators ----------------------------------------------------------- */

/* A pool of networks per family so rules and packets overlap. */
static uint8_t pool[2][8][16];

static void gen_pool(void)
{
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < 8; i++)
			for (int b = 0; b < 16; b++)
				pool[f][i][b] = (uint8_t)(i < 4 && b < 2 ? (uint32_t)(10 + i) : rnd());
}

static void mask_pfx(struct tpfx *p)
{
	for (int bit = p->len; bit < 128; bit++)
		p->a[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
}

static void gen_pfx(struct tpfx *p, int v6)
{
	static const int lens4[] = { 0, 8, 16, 24, 32 };
	static const int lens6[] = { 0, 16, 32, 48, 64, 128 };
	int maxlen = v6 ? 128 : 32;

	memcpy(p->a, pool[v6][rndn(8)], 16);
	if (!v6)
		memset(p->a + 4, 0, 12);
	if (rndn(3) == 0)
		p->len = rndn(maxlen + 1);
	else
		p->len = v6 ? lens6[rndn(6)] : lens4[rndn(5)];
	/* perturb bits near the end so sibling prefixes appear */
	if (p->len > 0 && rndn(2))
		p->a[(p->len - 1) / 8] ^= (uint8_t)(0x80 >> ((p->len - 1) % 8));
	mask_pfx(p);
}

static void gen_range(struct trng *r)
{
	int x;

	switch (rndn(6)) {
	case 0: r->lo = 0; r->hi = 65535; break;
	case 1: r->lo = 1024; r->hi = 65535; break;
	case 2: r->lo = 0; r->hi = 1023; break;
	case 3:
		x = rndn(3) ? (int)(rnd() % 1100) : rndn(65536);
		r->lo = r->hi = x;
		break;
	default:
		x = rndn(2) ? (int)(rnd() % 2000) : rndn(65536);
		r->lo = x;
		r->hi = x + rndn(64);
		if (r->hi > 65535)
			r->hi = 65535;
		break;
	}
}

static void gen_rule(struct trule *r, int v6, uint32_t prio)
{
	static const int protos[] = { 6, 17, 1, 58, 47 };

	memset(r, 0, sizeof(*r));
	r->prio = prio;
	r->allow = rndn(2);
	r->term = rndn(10) < 7;
	r->ns = rndn(10) < 3 ? 0 : 1 + rndn(10) / 7;
	r->nd = rndn(10) < 3 ? 0 : 1 + rndn(10) / 7;
	for (int i = 0; i < r->ns; i++)
		gen_pfx(&r->s[i], v6);
	for (int i = 0; i < r->nd; i++)
		gen_pfx(&r->d[i], v6);
	r->np = rndn(10) < 4 ? 0 : 1 + rndn(10) / 8;
	for (int i = 0; i < r->np; i++) {
		int p;
		do {
			p = protos[rndn(5)];
		} while ((i == 1 && p == r->p[0]) || (i == 2 && (p == r->p[0] || p == r->p[1])));
		r->p[i] = p;
	}
	r->nsp = rndn(10) < 6 ? 0 : 1 + rndn(10) / 8;
	r->ndp = rndn(10) < 4 ? 0 : 1 + rndn(10) / 7;
	for (int i = 0; i < r->nsp; i++)
		gen_range(&r->sp[i]);
	for (int i = 0; i < r->ndp; i++)
		gen_range(&r->dp[i]);
}

static void gen_group(struct tgroup *g, const char *name, int v6, int n)
{
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->v6 = v6;
	g->n = n;
	g->r = calloc((size_t)(n ? n : 1), sizeof(*g->r));
	for (int i = 0; i < n; i++) {
		uint32_t prio;
		int dup;

		do { /* unique priorities, sparse, in random order */
			prio = rnd() % 100000;
			dup = 0;
			for (int k = 0; k < i; k++)
				dup |= g->r[k].prio == prio;
		} while (dup);
		gen_rule(&g->r[i], v6, prio);
	}
}

/* Address at an edge of p: first, last, first-1, last+1, or inside. */
static void edge_addr(const struct tpfx *p, int v6, uint8_t *out)
{
	int nbits = v6 ? 128 : 32, which = rndn(5), bit;

	memcpy(out, p->a, 16);
	if (!v6)
		memset(out + 4, 0, 12);
	if (which == 1 || which == 3 || which == 4)   /* last (or random inside) */
		for (bit = p->len; bit < nbits; bit++)
			if (which != 4 || rndn(2))
				out[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	if (which == 2) {   /* first - 1: borrow */
		for (bit = nbits - 1; bit >= 0; bit--) {
			uint8_t m = (uint8_t)(0x80 >> (bit % 8));
			int set = out[bit / 8] & m;

			out[bit / 8] ^= m;
			if (set)
				break;
		}
	} else if (which == 3) { /* last + 1: carry */
		for (bit = nbits - 1; bit >= 0; bit--) {
			uint8_t m = (uint8_t)(0x80 >> (bit % 8));
			int set = out[bit / 8] & m;

			out[bit / 8] ^= m;
			if (!set)
				break;
		}
	}
}

static int edge_port(const struct trng *r)
{
	int v;

	switch (rndn(5)) {
	case 0: v = r->lo; break;
	case 1: v = r->hi; break;
	case 2: v = r->lo - 1; break;
	case 3: v = r->hi + 1; break;
	default: v = r->lo + rndn(r->hi - r->lo + 1); break;
	}
	return v < 0 ? 0 : v > 65535 ? 65535 : v;
}

static void gen_pkt(struct tpkt *k, int v6, struct tgroup *const *groups, int ng)
{
	static const int protos[] = { 6, 17, 1, 58, 47, 132 };
	const struct tgroup *g = groups[rndn(ng)];
	const struct trule *r = g->n ? &g->r[rndn(g->n)] : NULL;

	memset(k, 0, sizeof(*k));
	k->v6 = v6;
	for (int i = 0; i < 16; i++) {
		k->src[i] = (uint8_t)rnd();
		k->dst[i] = (uint8_t)rnd();
	}
	if (!v6) {
		memset(k->src + 4, 0, 12);
		memset(k->dst + 4, 0, 12);
	}
	k->proto = protos[rndn(6)];
	k->sport = rndn(65536);
	k->dport = rndn(65536);
	if (r == NULL || rndn(10) == 0)
		return;   /* a random packet now and then */
	if (r->ns && rndn(8))
		edge_addr(&r->s[rndn(r->ns)], v6, k->src);
	if (r->nd && rndn(8))
		edge_addr(&r->d[rndn(r->nd)], v6, k->dst);
	if (r->np && rndn(8))
		k->proto = r->p[rndn(r->np)];
	if (r->nsp && rndn(8))
		k->sport = edge_port(&r->sp[rndn(r->nsp)]);
	if (r->ndp && rndn(8))
		k->dport = edge_port(&r->dp[rndn(r->ndp)]);
}

/* ---- to the engine -------------------------------------------------------- */

static json_t *pfx_json(const struct tpfx *p, int v6)
{
	char addr[INET6_ADDRSTRLEN], txt[INET6_ADDRSTRLEN + 8];

	inet_ntop(v6 ? AF_INET6 : AF_INET, p->a, addr, sizeof(addr));
	snprintf(txt, sizeof(txt), "%s/%d", addr, p->len);
	return json_string(txt);
}

static json_t *rng_json(const struct trng *r)
{
	char txt[16];

	if (r->lo == r->hi)
		return json_integer(r->lo);
	snprintf(txt, sizeof(txt), "%d-%d", r->lo, r->hi);
	return json_string(txt);
}

static json_t *rule_json(const struct tgroup *g, const struct trule *r)
{
	json_t *o = json_pack("{s:s, s:i, s:s, s:b}", "group", g->name, "priority",
			      (json_int_t)r->prio, "action", r->allow ? "allow" : "deny",
			      "terminating", r->term);
	json_t *a;

	if (r->ns) {
		a = json_array();
		for (int i = 0; i < r->ns; i++)
			json_array_append_new(a, pfx_json(&r->s[i], g->v6));
		json_object_set_new(o, "src", a);
	}
	if (r->nd) {
		a = json_array();
		for (int i = 0; i < r->nd; i++)
			json_array_append_new(a, pfx_json(&r->d[i], g->v6));
		json_object_set_new(o, "dst", a);
	}
	if (r->np) {
		a = json_array();
		for (int i = 0; i < r->np; i++)
			json_array_append_new(a, json_integer(r->p[i]));
		json_object_set_new(o, "protocols", a);
	}
	if (r->nsp) {
		a = json_array();
		for (int i = 0; i < r->nsp; i++)
			json_array_append_new(a, rng_json(&r->sp[i]));
		json_object_set_new(o, "src_ports", a);
	}
	if (r->ndp) {
		a = json_array();
		for (int i = 0; i < r->ndp; i++)
			json_array_append_new(a, rng_json(&r->dp[i]));
		json_object_set_new(o, "dst_ports", a);
	}
	return o;
}

static void store_group(struct tu_store *s, const struct tgroup *g)
{
	tu_del_where(s, "acl_group", "name", g->name);
	tu_del_where(s, "acl_rule", "group", g->name);
	tu_add(s, "acl_group", json_pack("{s:s, s:s}", "name", g->name, "family",
					 g->v6 ? "ipv6" : "ipv4"));
	for (int i = 0; i < g->n; i++)
		tu_add(s, "acl_rule", rule_json(g, &g->r[i]));
}

static void pkt_key(const struct tpkt *k, struct ss_acl_key *key)
{
	memset(key, 0, sizeof(*key));
	key->proto = (uint8_t)k->proto;
	key->v6 = (uint8_t)k->v6;
	if (k->v6) {
		memcpy(key->a6.src, k->src, 16);
		memcpy(key->a6.dst, k->dst, 16);
		key->a6.sport = htons((uint16_t)k->sport);
		key->a6.dport = htons((uint16_t)k->dport);
	} else {
		memcpy(&key->a4.src, k->src, 4);
		memcpy(&key->a4.dst, k->dst, 4);
		key->a4.sport = htons((uint16_t)k->sport);
		key->a4.dport = htons((uint16_t)k->dport);
	}
}

/* ---- the trial ------------------------------------------------------------ */

/* ENIs: index, and stage lists per slot as indexes into the trial's groups
 * (g[0..2] IPv4 stages, g[3..5] IPv6 stages, g[6] empty IPv4, g[7] empty
 * IPv6); -1 ends a list. */
#define NG 8
#define NENI 4
static const struct {
	const char *name;
	int idx;
	int slots[SS_ACL_SLOTS][4];
} enis[NENI] = {
	{ "eniA", 0, { { 0, 1, 2, -1 }, { 2, -1 }, { 3, 4, 5, -1 }, { 4, -1 } } },
	{ "eniB", 3, { { 1, 0, -1 }, { -1 }, { 5, 3, -1 }, { 3, 4, 5, -1 } } },
	{ "eniC", 1, { { -1 }, { -1 }, { -1 }, { -1 } } },
	{ "eniD", 2, { { 6, -1 }, { 2, 0, -1 }, { 7, -1 }, { -1 } } },
};

struct trial {
	struct tgroup g[NG];
	struct tu_store store;
	struct ss_acl_table *t;
};

static void trial_store_enis(struct trial *tr)
{
	for (int e = 0; e < NENI; e++) {
		const char *names[SS_ACL_SLOTS][5];

		for (int s = 0; s < SS_ACL_SLOTS; s++) {
			int k = 0;

			for (; enis[e].slots[s][k] >= 0; k++)
				names[s][k] = tr->g[enis[e].slots[s][k]].name;
			names[s][k] = NULL;
		}
		tu_eni(&tr->store, enis[e].name, enis[e].idx, names[0], names[1], names[2],
		       names[3]);
	}
}

static int eni_stages(const struct trial *tr, int e, int slot, struct tgroup **out)
{
	int n = 0;

	for (; enis[e].slots[slot][n] >= 0; n++)
		out[n] = (struct tgroup *)&tr->g[enis[e].slots[slot][n]];
	return n;
}

/* Classify npkts random packets in mixed bursts and compare. */
static void check_verdicts(struct trial *tr, int npkts)
{
	const struct ss_acl_state *st = ss_acl_table_state(tr->t);
	enum { B = 64 };
	struct ss_acl_key keys[B];
	struct ss_acl_req req[B];
	struct tpkt pk[B];
	uint8_t allow[B];
	int want[B], eidx[B];
	int done = 0, allowed = 0;

	while (done < npkts) {
		int n = 1 + rndn(B);

		for (int i = 0; i < n; i++) {
			int v6 = rndn(2), e = rndn(NENI), dir = rndn(2);
			struct tgroup *gs[3] = { &tr->g[v6 ? 3 : 0], &tr->g[v6 ? 4 : 1],
						 &tr->g[v6 ? 5 : 2] };
			struct tgroup *stages[5];
			int ns;

			gen_pkt(&pk[i], v6, gs, 3);
			pkt_key(&pk[i], &keys[i]);
			eidx[i] = e;
			req[i] = (struct ss_acl_req){ .key = &keys[i], .eni = (uint32_t)enis[e].idx,
						      .dir = (uint8_t)dir };
			ns = eni_stages(tr, e, (int)ss_acl_slot((unsigned)dir, (unsigned)v6), stages);
			want[i] = ref_eval(stages, ns, &pk[i]);
		}
		ss_acl_classify_burst(st, 0, req, (uint32_t)n, allow);
		for (int i = 0; i < n; i++) {
			char s[64], d[64];

			if (allow[i] == want[i])
				continue;
			inet_ntop(pk[i].v6 ? AF_INET6 : AF_INET, pk[i].src, s, sizeof(s));
			inet_ntop(pk[i].v6 ? AF_INET6 : AF_INET, pk[i].dst, d, sizeof(d));
			fail_msg("verdict mismatch: eni %s dir %s proto %d %s:%d -> %s:%d: engine %s, "
				 "reference %s", enis[eidx[i]].name, req[i].dir ? "in" : "out",
				 pk[i].proto, s, pk[i].sport, d, pk[i].dport,
				 allow[i] ? "allow" : "deny", want[i] ? "allow" : "deny");
		}
		for (int i = 0; i < n; i++)
			allowed += want[i];
		done += n;
	}
	/* both verdicts must be well represented, or the test proves little */
	assert_true(allowed > npkts / 20);
	assert_true(allowed < npkts - npkts / 20);
}

static void check_hits(struct trial *tr)
{
	json_t *stats = ss_acl_table_stats(tr->t);

	for (int gi = 0; gi < NG; gi++) {
		const struct tgroup *g = &tr->g[gi];
		const json_t *o = json_object_get(stats, g->name);

		assert_non_null(o);
		assert_int_equal(json_object_size(o), g->n);
		for (int i = 0; i < g->n; i++) {
			char prio[16];
			const json_t *v;

			snprintf(prio, sizeof(prio), "%u", g->r[i].prio);
			v = json_object_get(o, prio);
			assert_non_null(v);
			if ((uint64_t)json_integer_value(v) != g->r[i].hits)
				fail_msg("hits of %s/%s: engine %lld, reference %llu", g->name, prio,
					 (long long)json_integer_value(v),
					 (unsigned long long)g->r[i].hits);
		}
	}
	json_decref(stats);
}

static void run_trial(int nrules, int npkts)
{
	static const char *const names[NG] = { "s4a", "s4b", "s4c", "s6a",
					       "s6b", "s6c", "empty4", "empty6" };
	struct trial tr;
	struct ss_change ch = { .op = SS_CHANGE_ADD, .ty = &ss_type_acl_group };
	uint32_t gen_before[NENI];
	char err[256];

	memset(&tr, 0, sizeof(tr));
	tu_store_init(&tr.store);
	tr.t = ss_acl_table_create();
	assert_non_null(tr.t);
	gen_pool();
	for (int i = 0; i < NG; i++) {
		int n = i >= 6 ? 0 : nrules / 2 + rndn(nrules);

		gen_group(&tr.g[i], names[i], i >= 3 && i != 6, n);
		store_group(&tr.store, &tr.g[i]);
	}
	trial_store_enis(&tr);
	if (tu_publish(tr.t, &tr.store, &ch, 1, err, sizeof(err)) != 0)
		fail_msg("prepare: %s", err);
	check_verdicts(&tr, npkts);
	check_hits(&tr);

	/* replace stage group s4b (and s6c) with new rules: keep half of the
	 * priorities so the counters carried over can be checked */
	const struct ss_acl_state *st = ss_acl_table_state(tr.t);
	for (int e = 0; e < NENI; e++)
		gen_before[e] = ss_acl_eni_gen(st, (uint32_t)enis[e].idx);
	for (int gi = 1; gi < NG; gi += 4) {  /* s4b, s6c */
		struct tgroup *g = &tr.g[gi];

		for (int i = 0; i < g->n; i++) {
			if (rndn(2) == 0) {
				uint64_t hits = g->r[i].hits;
				uint32_t prio = g->r[i].prio;

				gen_rule(&g->r[i], g->v6, prio);
				g->r[i].hits = hits;   /* same priority: counter carried */
			}
		}
		store_group(&tr.store, g);
	}
	json_t *gobj[2] = { json_pack("{s:s}", "name", "s4b"), json_pack("{s:s}", "name", "s6c") };
	struct ss_change chs[2] = {
		tu_change("acl_group", SS_CHANGE_SET, gobj[0]),
		tu_change("acl_group", SS_CHANGE_SET, gobj[1]),
	};
	if (tu_publish(tr.t, &tr.store, chs, 2, err, sizeof(err)) != 0)
		fail_msg("prepare after the change: %s", err);
	json_decref(gobj[0]);
	json_decref(gobj[1]);
	st = ss_acl_table_state(tr.t);
	/* eniA and eniB bind s4b/s6c, eniD binds neither, eniC nothing */
	assert_int_not_equal(ss_acl_eni_gen(st, 0), gen_before[0]);
	assert_int_not_equal(ss_acl_eni_gen(st, 3), gen_before[1]);
	assert_int_equal(ss_acl_eni_gen(st, 1), gen_before[2]);
	assert_int_equal(ss_acl_eni_gen(st, 2), gen_before[3]);
	check_verdicts(&tr, npkts);
	check_hits(&tr);

	ss_acl_table_destroy(tr.t);
	for (int i = 0; i < NG; i++)
		free(tr.g[i].r);
	tu_store_free(&tr.store);
}

static uint64_t seed;

static void test_differential(void **state)
{
	const char *env = getenv("SS_ACL_TRIALS");
	int trials = env ? atoi(env) : 6;

	(void)state;
	for (int t = 0; t < trials; t++) {
		/* small sets (dense overlaps), then larger ones */
		int nrules = t % 3 == 0 ? 8 : t % 3 == 1 ? 60 : 300;

		run_trial(nrules, 4000);
	}
}

int main(void)
{
	const char *env = getenv("SS_ACL_SEED");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differential),
	};

	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (seed == 0)
		seed = 1;
	rng_state = seed;
	printf("acl differential: seed %llu (SS_ACL_SEED=%llu replays it)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	if (tu_eal_init() < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
