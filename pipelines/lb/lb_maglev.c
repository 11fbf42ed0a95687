/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Weighted Maglev and the gRFC A58 weights (lb_maglev.h, docs/lb.md).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "pipelines/lb/lb_maglev.h"

uint64_t ss_lb_name_hash(const char *name, uint64_t seed)
{
	/* FNV-1a 64 over the text, then the finaliser: stable across builds
	 * and machines (no pointer, no random seed) */
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return ss_lb_mix64(h ^ seed);
}

struct turn {
	const char *name;
	uint32_t idx;       /* the caller's index */
	uint32_t pos;       /* next slot of its permutation */
	uint32_t skip;
	uint32_t quota;     /* slots it ends with */
	uint32_t have;
	double rate;        /* credit per turn: w / max w */
	double credit;
	double rem;         /* largest remainder rounding */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct turn *)a)->name, ((const struct turn *)b)->name);
}

static int by_rem(const void *a, const void *b)
{
	const struct turn *x = *(const struct turn *const *)a, *y = *(const struct turn *const *)b;

	if (x->rem != y->rem)
		return x->rem > y->rem ? -1 : 1;
	return strcmp(x->name, y->name);   /* ties: by name, so the result is stable */
}

/* Quotas: floor(m x share), plus one for the largest remainders until the
 * quotas sum to m (each is then round(m x share) +-1). */
static int quotas(struct turn *t, uint32_t n, uint32_t m, double total)
{
	struct turn **v = malloc(n * sizeof(*v));
	uint32_t sum = 0, k = 0;

	if (v == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		double exact = (double)m * (t[i].rate / total);

		t[i].quota = (uint32_t)floor(exact);
		t[i].rem = exact - t[i].quota;
		sum += t[i].quota;
		if (t[i].rate > 0)
			v[k++] = &t[i];
	}
	qsort(v, k, sizeof(*v), by_rem);
	for (uint32_t i = 0; sum < m; i = (i + 1) % k, sum++)
		v[i]->quota++;
	free(v);
	return 0;
}

int ss_lb_maglev_build(uint16_t *table, uint32_t m, const char *const *names, const double *w,
		       uint32_t n, uint32_t *counts)
{
	struct turn *t;
	double wmax = 0, total = 0;
	uint32_t filled = 0;
	int rc;

	for (uint32_t s = 0; s < m; s++)
		table[s] = SS_LB_NO_BACKEND;
	for (uint32_t i = 0; counts != NULL && i < n; i++)
		counts[i] = 0;
	for (uint32_t i = 0; i < n; i++)
		if (w[i] > 0) {
			total += w[i];
			wmax = w[i] > wmax ? w[i] : wmax;
		}
	if (!ss_lb_is_prime(m) || n >= SS_LB_NO_BACKEND || total <= 0)
		return -EINVAL;
	t = calloc(n, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		t[i].name = names[i];
		t[i].idx = i;
		t[i].pos = (uint32_t)(ss_lb_name_hash(names[i], 0x6f66667365740000ull) % m);
		t[i].skip = (uint32_t)(ss_lb_name_hash(names[i], 0x736b697000000000ull) % (m - 1)) + 1;
		t[i].rate = w[i] > 0 ? w[i] / wmax : 0;
	}
	/* the turns go by name: the table depends on the set of (name, weight)
	 * only, not on the order the caller lists them in */
	qsort(t, n, sizeof(*t), by_name);
	rc = quotas(t, n, m, total / wmax);
	if (rc != 0) {
		free(t);
		return rc;
	}
	while (filled < m) {
		for (uint32_t i = 0; i < n && filled < m; i++) {
			struct turn *b = &t[i];

			if (b->have >= b->quota)
				continue;
			b->credit += b->rate;
			/* 1e-9: rates like 1/3 summed three times are a whole credit */
			while (b->credit >= 1.0 - 1e-9 && b->have < b->quota) {
				while (table[b->pos] != SS_LB_NO_BACKEND)
					b->pos = (uint32_t)(((uint64_t)b->pos + b->skip) % m);
				table[b->pos] = (uint16_t)b->idx;
				b->pos = (uint32_t)(((uint64_t)b->pos + b->skip) % m);
				b->have++;
				b->credit -= 1.0;
				filled++;
			}
		}
	}
	for (uint32_t i = 0; counts != NULL && i < n; i++)
		counts[t[i].idx] = t[i].have;
	free(t);
	return 0;
}

/* ---- gRFC A58 ------------------------------------------------------------------ */

double ss_lb_orca_report_weight(double rps, double eps, double cpu, double app, double penalty)
{
	double util = app > 0 ? app : cpu, pen = 0;

	if (!(rps > 0) || !(util > 0))
		return 0;
	if (eps > 0 && penalty > 0)
		pen = eps / rps * penalty;
	return rps / (util + pen);
}

bool ss_lb_orca_report(struct ss_lb_orca *o, const struct ss_lb_orca_conf *c, uint64_t now_ms,
		       double rps, double eps, double cpu, double app)
{
	double w = ss_lb_orca_report_weight(rps, eps, cpu, app, c->error_utilization_penalty);

	if (!(w > 0) || !isfinite(w))
		return false;
	/* a report after the weight expired starts a new blackout */
	if (o->non_empty_since != UINT64_MAX && now_ms - o->last_update >= c->weight_expiration_ms)
		o->non_empty_since = UINT64_MAX;
	if (o->non_empty_since == UINT64_MAX)
		o->non_empty_since = now_ms;
	o->last_update = now_ms;
	o->weight = w;
	return true;
}

double ss_lb_orca_weight(struct ss_lb_orca *o, const struct ss_lb_orca_conf *c, uint64_t now_ms)
{
	if (o->non_empty_since == UINT64_MAX)
		return 0;
	if (now_ms - o->last_update >= c->weight_expiration_ms) {
		o->non_empty_since = UINT64_MAX;
		return 0;
	}
	if (c->blackout_period_ms > 0 && now_ms - o->non_empty_since < c->blackout_period_ms)
		return 0;
	return o->weight;
}

void ss_lb_effective_weights(uint32_t n, const double *reported, const double *configured,
			     double *out)
{
	double sum = 0, mean;
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++)
		if (reported[i] > 0) {
			sum += reported[i];
			k++;
		}
	mean = k > 0 ? sum / k : 1.0;
	for (uint32_t i = 0; i < n; i++)
		out[i] = (reported[i] > 0 ? reported[i] : mean) * configured[i];
}
