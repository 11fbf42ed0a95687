/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's algorithms, free of DPDK so the unit tests use them
 * as the daemon does (SPEC 3.9, docs/lb.md):
 *
 *   - the weighted Maglev lookup table (Eisenbud et al., "Maglev: A Fast and
 *     Reliable Software Network Load Balancer", NSDI 2016, section 3.4):
 *     each backend's preference list is a permutation of the M slots given
 *     by an offset and a skip taken from two hashes of its name (its address
 *     text), so the same names build the same table on every start;
 *     backends take turns claiming their next preferred free slot. Weighted
 *     variant: each turn a backend earns weight / max_weight credit and
 *     claims one slot per whole credit, until it holds its quota, the
 *     largest-remainder rounding of M x its share (so round(M x share) +-1);
 *   - the effective weights of gRPC weighted round robin (gRFC A58) from
 *     ORCA load reports: blackout, expiration, error penalty, mean fill;
 *   - the flow hash that indexes the table (the data path and the
 *     distribution test use this one function).
 *
 * Threads: the table and the weights are computed on the control thread;
 * ss_lb_flow_hash on workers. Everything here is pure (no globals).
 */
#ifndef SS_LB_MAGLEV_H
#define SS_LB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SS_LB_NO_BACKEND 0xffff   /* a table slot without backend (never in a built table) */

/* ---- hashing -------------------------------------------------------------------- */

static inline uint64_t ss_lb_mix64(uint64_t x)
{
	/* the murmur3 / splitmix64 finaliser: every input bit moves every output bit */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* The hash of a connection as the VM sent it: protocol, source and
 * destination (alen 4 or 16 bytes each), ports in host order. Indexes the
 * Maglev table (hash % M). */
static inline uint64_t ss_lb_flow_hash(uint8_t proto, unsigned int alen, const uint8_t *src,
				       const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	uint64_t h = ss_lb_mix64(0x9e3779b97f4a7c15ull ^ ((uint64_t)proto << 32 |
							  (uint64_t)sport << 16 | dport));
	uint64_t w;

	for (unsigned int i = 0; i < alen; i += 4) {
		uint32_t a, b;

		memcpy(&a, src + i, 4);
		memcpy(&b, dst + i, 4);
		w = (uint64_t)a << 32 | b;
		h = ss_lb_mix64(h ^ w) + 0x632be59bd9b4e019ull;
	}
	return ss_lb_mix64(h);
}

/* The two hashes of a backend name (Maglev's h1 and h2: offset, skip). */
uint64_t ss_lb_name_hash(const char *name, uint64_t seed);

/* ---- the table ----------------------------------------------------------------- */

/* Is m a prime (table sizes)? Inline: the type check (lb_types.c) uses it
 * in the control tests too. */
static inline bool ss_lb_is_prime(uint64_t m)
{
	if (m < 2)
		return false;
	if (m % 2 == 0)
		return m == 2;
	for (uint64_t d = 3; d * d <= m; d += 2)
		if (m % d == 0)
			return false;
	return true;
}

/* Build the table of m slots (m prime, m >= 2) for n backends named
 * names[i] with weights w[i] >= 0 (a backend of weight 0 gets no slot).
 * table[s] is the index of the backend of slot s; counts[i] (may be NULL)
 * the number of slots of backend i. Returns 0, or -EINVAL (m not prime,
 * n > 0xfffe, no positive weight: the table is then all SS_LB_NO_BACKEND),
 * -ENOMEM. */
int ss_lb_maglev_build(uint16_t *table, uint32_t m, const char *const *names, const double *w,
		       uint32_t n, uint32_t *counts);

/* ---- ORCA weights (gRFC A58) ------------------------------------------------------ */

/* One backend's load-report state; ss_lb_orca_init() before use. */
struct ss_lb_orca {
	double weight;              /* the latest usable report's weight */
	uint64_t non_empty_since;   /* ms: first usable report since usable reports
				     * began, UINT64_MAX: none (blackout restarts) */
	uint64_t last_update;       /* ms of the latest usable report, 0: none */
};

struct ss_lb_orca_conf {
	double error_utilization_penalty;
	uint64_t blackout_period_ms;
	uint64_t weight_expiration_ms;
};

static inline void ss_lb_orca_init(struct ss_lb_orca *o)
{
	o->weight = 0;
	o->non_empty_since = UINT64_MAX;
	o->last_update = 0;
}

/* The weight a report gives: rps / (utilization + penalty x eps / rps),
 * utilization = application_utilization if > 0, else cpu_utilization; 0
 * when rps <= 0 or utilization <= 0 (the report is ignored). */
double ss_lb_orca_report_weight(double rps, double eps, double cpu, double app,
				double penalty);

/* Ingest a report at now_ms; false when it is ignored. */
bool ss_lb_orca_report(struct ss_lb_orca *o, const struct ss_lb_orca_conf *c, uint64_t now_ms,
		       double rps, double eps, double cpu, double app);

/* The backend's reported weight at now_ms, 0 when it has none usable: no
 * report, within blackout_period_ms of the first report, or the latest
 * older than weight_expiration_ms (which also restarts the blackout). */
double ss_lb_orca_weight(struct ss_lb_orca *o, const struct ss_lb_orca_conf *c,
			 uint64_t now_ms);

/* Effective weights: reported[i] (0: none usable) filled with the mean of
 * the usable ones (1 for all when none has one), times configured[i]. */
void ss_lb_effective_weights(uint32_t n, const double *reported, const double *configured,
			     double *out);

#endif
