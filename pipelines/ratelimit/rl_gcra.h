/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The rate limiter's conformance test: GCRA, the virtual-scheduling form of
 * ITU-T I.371 (the algorithm a token bucket is equivalent to), in TSC
 * cycles, for a packet rate and a byte rate at once.
 *
 * Every bucket keeps a theoretical arrival time (TAT) per limit. A packet
 * arriving at `now` conforms to a limit when max(TAT, now) - now <= tau,
 * and a conforming packet advances TAT to max(TAT, now) + its cost (the
 * emission interval for the packet limit, length x cycles per byte for the
 * byte limit). tau = burst tolerance: after an idle period, about
 * tau / interval + 1 packets (or tau / cycles-per-byte bytes plus one
 * packet) pass back to back. A packet passes only if it conforms to both
 * limits, and only then are the TATs advanced: a dropped packet costs
 * nothing, so a flood is cut to the configured rate, never below it.
 *
 * No division per packet: the intervals are computed on the control thread
 * (ss_rl_limit_make). Header only, DPDK-free: the unit test drives it with
 * a fake clock.
 */
#ifndef SS_RL_GCRA_H
#define SS_RL_GCRA_H

#include <stdbool.h>
#include <stdint.h>

/* Bucket depth: this much of the rate may pass back to back after an idle
 * period, and never less than one packet (packet limit) or one jumbo
 * frame (byte limit). */
#define SS_RL_BURST_MS 10u
#define SS_RL_MIN_BURST_BYTES 9216u

/* One ENI's limits as a worker applies them (built on the control thread;
 * read-only on workers). A zero interval means "no such limit". */
struct ss_rl_limit {
	uint64_t pkt_t;      /* cycles per packet */
	uint64_t pkt_tau;    /* cycles */
	uint64_t byte_t16;   /* cycles per byte, 16.16 fixed point */
	uint64_t byte_tau;   /* cycles */
	uint32_t gen;        /* changes when the limit is set anew: buckets restart */
	uint32_t active;     /* pkt_t || byte_t16 */
};

/* One worker's state for one ENI (written only by that worker). */
struct ss_rl_bucket {
	uint64_t pkt_tat;
	uint64_t byte_tat;
	uint64_t passed;
	uint64_t dropped;
	uint32_t gen;        /* the limit generation the TATs belong to */
	uint32_t pad;
	uint64_t pad2[3];
};
_Static_assert(sizeof(struct ss_rl_bucket) == 64, "one bucket per cache line");

/* Build a limit for `pps` packets and `bps` bits per second (0: none),
 * shared by `workers` workers, each of which polices its share
 * (rate / workers: RSS spreads an ENI's flows over the workers), on a
 * clock of `hz` cycles per second. */
static inline void ss_rl_limit_make(struct ss_rl_limit *l, uint64_t pps, uint64_t bps,
				    unsigned int workers, uint64_t hz, uint32_t gen)
{
	uint64_t w = workers ? workers : 1;

	*l = (struct ss_rl_limit){ .gen = gen };
	if (pps) {
		uint64_t burst = pps * SS_RL_BURST_MS / 1000 / w;

		/* interval of this worker's share: hz / (pps / w) */
		l->pkt_t = hz * w / pps;
		if (l->pkt_t == 0)
			l->pkt_t = 1;
		l->pkt_tau = (burst > 1 ? burst - 1 : 0) * l->pkt_t;
	}
	if (bps) {
		uint64_t bytes_ps = bps / 8 ? bps / 8 : 1;
		uint64_t burst = bytes_ps * SS_RL_BURST_MS / 1000 / w;
		/* (hz << 16) fits in 64 bits for any clock below 2^48 Hz */
		l->byte_t16 = (hz << 16) * w / bytes_ps;
		if (l->byte_t16 == 0)
			l->byte_t16 = 1;
		if (burst < SS_RL_MIN_BURST_BYTES)
			burst = SS_RL_MIN_BURST_BYTES;
		l->byte_tau = (burst * l->byte_t16) >> 16;
	}
	l->active = (l->pkt_t || l->byte_t16) ? 1 : 0;
}

/* Worker: does a packet of `len` bytes arriving at `now` conform? Updates
 * the bucket and its passed/dropped counters. */
static inline bool ss_rl_conform(const struct ss_rl_limit *l, struct ss_rl_bucket *b,
				 uint64_t now, uint32_t len)
{
	uint64_t ptat, btat;

	if (b->gen != l->gen) {
		b->gen = l->gen;
		b->pkt_tat = 0;
		b->byte_tat = 0;
	}
	ptat = b->pkt_tat > now ? b->pkt_tat : now;
	btat = b->byte_tat > now ? b->byte_tat : now;
	if ((l->pkt_t && ptat - now > l->pkt_tau) || (l->byte_t16 && btat - now > l->byte_tau)) {
		b->dropped++;
		return false;
	}
	if (l->pkt_t)
		b->pkt_tat = ptat + l->pkt_t;
	if (l->byte_t16)
		b->byte_tat = btat + (((uint64_t)len * l->byte_t16) >> 16);
	b->passed++;
	return true;
}

#endif
