/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The rate limiter's control-thread state (rl_table.c) and its functions.
 * Control thread only.
 */
#ifndef SS_RL_INT_H
#define SS_RL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipelines/ratelimit/rl.h"

#define SS_RL_NAME_MAX 64

/* One ENI's configuration as the store has it. */
struct ss_rl_conf {
	char name[SS_RL_NAME_MAX];   /* "" : no ENI at this index */
	uint64_t pps;
	uint64_t bps;
	uint32_t gen;                /* limit generation: buckets restart on change */
	uint32_t born;               /* identity of the ENI at this index */
};

struct ss_rl_counts {
	uint64_t passed;
	uint64_t dropped;
};

struct ss_rl {
	uint32_t n;                  /* ENI indices 0..n-1 */
	unsigned int nb_workers;
	uint64_t hz;
	uint32_t gen;
	struct ss_rl_conf *conf;     /* committed */
	struct ss_rl_conf *stage_conf; /* being prepared (a copy of conf) */
	bool staging;
	struct ss_rl_state *next;    /* built by finalize, published by commit */
	struct ss_rl_state *old;     /* freed by reclaim */
	struct ss_rl_counts *baseline; /* stats.clear and new ENIs */
};

extern struct ss_rl ss_rl;

/* Allocate for ENI indices 1..max_eni and `nb_workers` workers (worker w's
 * buckets on NUMA node sockets[w]). 0, -ENOMEM. */
int ss_rl_setup(uint32_t max_eni, unsigned int nb_workers, const int *sockets, char *err,
		size_t errlen);
void ss_rl_teardown(void);

/* Stage the limits of ENI `name` at `index` (deleted: the ENI is gone). */
int ss_rl_stage_eni(const char *name, int index, uint64_t pps, uint64_t bps, bool deleted,
		    char *err, size_t errlen);
/* Build the state to publish (fails only on memory). */
int ss_rl_finalize(char *err, size_t errlen);
void ss_rl_commit(void);
void ss_rl_abort(void);
void ss_rl_reclaim(void);

/* Sums over the workers of one ENI's counters; baseline. */
void ss_rl_sum(uint32_t index, uint64_t *passed, uint64_t *dropped);
void ss_rl_new_baseline(uint32_t index);

#endif
