/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The rate limiter's table: the limits of every ENI, built aside at
 * prepare() from the transaction's ENI changes, published with one pointer
 * store at commit(), the old copy freed at reclaim() after the grace
 * period. One copy is O(ENIs): ENI changes are rare next to the packets
 * they police, and a whole copy keeps every published state immutable.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "pipelines/common/arc.h"
#include "pipelines/ratelimit/rl_int.h"

struct ss_rl_state *ss_rl_published;
struct ss_rl_bucket *ss_rl_buckets[SS_MAX_WORKERS];

struct ss_rl ss_rl;

static size_t state_size(uint32_t n)
{
	return sizeof(struct ss_rl_state) + (size_t)n * sizeof(struct ss_rl_limit);
}

int ss_rl_setup(uint32_t max_eni, unsigned int nb_workers, const int *sockets, char *err,
		size_t errlen)
{
	uint32_t n = max_eni + 1;

	ss_rl.n = n;
	ss_rl.nb_workers = nb_workers ? nb_workers : 1;
	ss_rl.hz = rte_get_tsc_hz();
	ss_rl.conf = rte_zmalloc("ss_rl_conf", (size_t)n * sizeof(*ss_rl.conf), 0);
	ss_rl.stage_conf = rte_zmalloc("ss_rl_stage", (size_t)n * sizeof(*ss_rl.stage_conf), 0);
	ss_rl.baseline = rte_zmalloc("ss_rl_base", (size_t)n * sizeof(*ss_rl.baseline), 0);
	ss_rl_published = rte_zmalloc("ss_rl_state", state_size(n), RTE_CACHE_LINE_SIZE);
	if (!ss_rl.conf || !ss_rl.stage_conf || !ss_rl.baseline || !ss_rl_published)
		goto nomem;
	ss_rl_published->n = n;
	for (unsigned int w = 0; w < ss_rl.nb_workers; w++) {
		ss_rl_buckets[w] = rte_zmalloc_socket("ss_rl_buckets",
						      (size_t)n * sizeof(struct ss_rl_bucket),
						      RTE_CACHE_LINE_SIZE,
						      nb_workers ? sockets[w] : SOCKET_ID_ANY);
		if (ss_rl_buckets[w] == NULL)
			goto nomem;
	}
	return 0;
nomem:
	ss_rl_teardown();
	snprintf(err, errlen, "rate limiter: out of memory for %u ENIs", max_eni);
	return -ENOMEM;
}

void ss_rl_teardown(void)
{
	for (unsigned int w = 0; w < SS_MAX_WORKERS; w++) {
		rte_free(ss_rl_buckets[w]);
		ss_rl_buckets[w] = NULL;
	}
	rte_free(ss_rl_published);
	rte_free(ss_rl.next);
	rte_free(ss_rl.conf);
	rte_free(ss_rl.stage_conf);
	rte_free(ss_rl.baseline);
	memset(&ss_rl, 0, sizeof(ss_rl));
	ss_rl_published = NULL;
}

/* ---- prepare: stage ENI changes -------------------------------------------------- */

static void stage_begin(void)
{
	if (ss_rl.staging)
		return;
	memcpy(ss_rl.stage_conf, ss_rl.conf, (size_t)ss_rl.n * sizeof(*ss_rl.conf));
	ss_rl.staging = true;
}

int ss_rl_stage_eni(const char *name, int index, uint64_t pps, uint64_t bps, bool deleted,
		    char *err, size_t errlen)
{
	struct ss_rl_conf *c;

	stage_begin();
	if (deleted && index <= 0) {
		/* the overlay already forgot the name: find the index we knew */
		for (uint32_t i = 1; i < ss_rl.n; i++)
			if (strcmp(ss_rl.stage_conf[i].name, name) == 0) {
				index = (int)i;
				break;
			}
		if (index <= 0)
			return 0;
	}
	if (index <= 0 || (uint32_t)index >= ss_rl.n) {
		snprintf(err, errlen, "eni %s: no ENI index for the rate limiter", name);
		return -EINVAL;
	}
	c = &ss_rl.stage_conf[index];
	if (deleted) {
		memset(c, 0, sizeof(*c));
		return 0;
	}
	if (strcmp(c->name, name) != 0) {
		/* a new ENI at this index: its counters start from zero */
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->born = ++ss_rl.gen;
	}
	if (c->pps != pps || c->bps != bps) {
		c->pps = pps;
		c->bps = bps;
		c->gen = ++ss_rl.gen;
	}
	return 0;
}

/* Build the state to publish from the staged configuration. */
int ss_rl_finalize(char *err, size_t errlen)
{
	struct ss_rl_state *s;
	uint32_t active = 0;

	if (!ss_rl.staging)
		return 0;
	s = rte_zmalloc("ss_rl_state", state_size(ss_rl.n), RTE_CACHE_LINE_SIZE);
	if (s == NULL) {
		snprintf(err, errlen, "rate limiter: out of memory");
		return -ENOMEM;
	}
	s->n = ss_rl.n;
	for (uint32_t i = 1; i < ss_rl.n; i++) {
		const struct ss_rl_conf *c = &ss_rl.stage_conf[i];

		if (c->pps == 0 && c->bps == 0)
			continue;
		ss_rl_limit_make(&s->lim[i], c->pps, c->bps, ss_rl.nb_workers, ss_rl.hz, c->gen);
		active++;
	}
	s->nb_active = active;
	ss_rl.next = s;
	return 0;
}

void ss_rl_commit(void)
{
	struct ss_rl_state *old = ss_rl_published;

	if (!ss_rl.staging)
		return;
	for (uint32_t i = 1; i < ss_rl.n; i++)
		if (ss_rl.stage_conf[i].born != ss_rl.conf[i].born)
			ss_rl_new_baseline(i);
	memcpy(ss_rl.conf, ss_rl.stage_conf, (size_t)ss_rl.n * sizeof(*ss_rl.conf));
	__atomic_store_n(&ss_rl_published, ss_rl.next, __ATOMIC_RELEASE);
	ss_arc_fast_skip_changed();   /* rl_fast_skip reads the published limits */
	ss_rl.old = old;
	ss_rl.next = NULL;
	ss_rl.staging = false;
}

void ss_rl_abort(void)
{
	rte_free(ss_rl.next);
	ss_rl.next = NULL;
	ss_rl.staging = false;
}

void ss_rl_reclaim(void)
{
	rte_free(ss_rl.old);
	ss_rl.old = NULL;
}

/* ---- counters ------------------------------------------------------------------------ */

void ss_rl_sum(uint32_t index, uint64_t *passed, uint64_t *dropped)
{
	*passed = *dropped = 0;
	for (unsigned int w = 0; w < ss_rl.nb_workers; w++) {
		const struct ss_rl_bucket *b = &ss_rl_buckets[w][index];

		*passed += __atomic_load_n(&b->passed, __ATOMIC_RELAXED);
		*dropped += __atomic_load_n(&b->dropped, __ATOMIC_RELAXED);
	}
}

/* A new ENI at an index starts its counters from zero: what was counted
 * before becomes the baseline (counters are never written by the control
 * thread). */
void ss_rl_new_baseline(uint32_t index)
{
	ss_rl_sum(index, &ss_rl.baseline[index].passed, &ss_rl.baseline[index].dropped);
}
