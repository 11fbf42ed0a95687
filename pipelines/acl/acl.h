/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ACL engine (SPEC section 3.5): rule groups compiled into one rte_acl
 * context each, per-ENI stage bindings, and the stage evaluation.
 *
 * Three layers, each usable without the next:
 *   rules   ss_acl_rule_parse(): an acl_rule record (acl_types.h) -> rule
 *   groups  ss_acl_group_build(): rules -> rte_acl context (needs the EAL)
 *   table   ss_acl_table_*(): the control plane's view. prepare() builds a
 *           whole new ss_acl_state aside from the store, commit() publishes
 *           it with one pointer store, reclaim() frees the old one after the
 *           RCU grace period.
 *
 * Evaluation (ss_acl_classify_burst) runs on workers, reads one published
 * state for a whole burst, and classifies the burst stage by stage with one
 * rte_acl_classify() call per (stage, group) present in the burst.
 *
 * Threads: everything but ss_acl_classify_burst, ss_acl_eni_gen and
 * ss_acl_current is control-thread only.
 */
#ifndef SS_ACL_H
#define SS_ACL_H

#include <stddef.h>

#include <jansson.h>

#include "control/ctl.h"
#include "pipelines/acl/acl-t.h"
#include "pipelines/acl/acl_types.h"

/* ---- rules ---------------------------------------------------------------- */

/* Convert the record of an acl_rule of a group of family `v6`. Returns a
 * malloc'd rule (one block, free()) or NULL with a message naming the field. */
struct ss_acl_rule *ss_acl_rule_parse(const struct ss_acl_rule_rec *rec, int v6, char *err,
				      size_t errlen);

/* Number of classifier entries the rule expands to (product of its list
 * lengths, an empty list counting 1). */
uint64_t ss_acl_rule_expansion(const struct ss_acl_rule *r);

/* ---- groups --------------------------------------------------------------- */

/* Compile `n` rules (any order; priorities must be unique) into a group.
 * nb_workers sizes the hit counters. NULL with a message on failure
 * (-errno in *rc: -EINVAL bad rules, -E2BIG too large, -ENOMEM). */
struct ss_acl_group *ss_acl_group_build(const char *name, int v6, struct ss_acl_rule *const *rules,
					uint32_t n, unsigned int nb_workers, int *rc, char *err,
					size_t errlen);
void ss_acl_group_free(struct ss_acl_group *g);
/* Hits of the rule of rank `rank`, all workers plus the base. */
uint64_t ss_acl_group_hits(const struct ss_acl_group *g, uint32_t rank);

/* ---- evaluation (workers) --------------------------------------------------- */

/* SPEC 3.5 stage semantics for n requests: allow[i] = 1 or 0. Counts a hit
 * on every rule that decided a stage, in row `worker` of its group. */
void ss_acl_classify_burst(const struct ss_acl_state *st, unsigned int worker,
			   const struct ss_acl_req *req, uint32_t n, uint8_t *allow);

/* The same, and dec[i]: the rules that decided request i (dec NULL: as
 * ss_acl_classify_burst). */
void ss_acl_classify_burst_dec(const struct ss_acl_state *st, unsigned int worker,
			       const struct ss_acl_req *req, uint32_t n, uint8_t *allow,
			       struct ss_acl_decided *dec);

/* Count again, in row `worker`, the hits a classification of ENI `eni` in
 * slot `slot` (ss_acl_slot) recorded in *dec, against the binding of `st`.
 * The caller makes sure the ENI's generation in `st` is the one the
 * classification saw (then the binding holds the same groups). */
static inline void ss_acl_count_decided(const struct ss_acl_state *st, unsigned int worker,
					uint32_t eni, unsigned int slot,
					const struct ss_acl_decided *dec)
{
	const struct ss_acl_binding *b;

	if (st == NULL || eni >= st->nb_bind || slot >= SS_ACL_SLOTS)
		return;
	b = &st->bind[eni];
	for (unsigned int s = 0; s < b->nstages[slot] && s < SS_ACL_MAX_STAGES; s++) {
		const struct ss_acl_group *g = b->stage[slot][s];
		uint32_t r = dec->rule[s];

		if (r != 0 && r <= g->nb_rules && worker < g->nb_workers)
			g->hits[(size_t)worker * g->stride + r - 1]++;
	}
}

static inline uint32_t ss_acl_eni_gen(const struct ss_acl_state *st, uint32_t eni)
{
	return st != NULL && eni < st->nb_bind ? st->bind[eni].gen : 0;
}

/* ---- table (control thread) ------------------------------------------------ */

/* The index of a committed ENI in a state, -1 if absent. */
int ss_acl_state_eni_index(const struct ss_acl_state *st, const char *name);

/* How the table reads the committed store: the daemon passes the control
 * plane and overlay's ENI index, the unit tests an in-memory store. foreach
 * hands fn the record of every object of type t (ss_type_acl_group,
 * ss_type_acl_rule, ss_type_eni), valid during the call only, and returns
 * fn's first non-zero result (as ss_ctl_store_foreach_rec()). */
struct ss_acl_store_ops {
	void *arg;
	int (*foreach)(void *arg, const struct ss_type *t,
		       int (*fn)(void *fnarg, const void *rec), void *fnarg);
	/* ENI index as used in the packet metadata, or -1 */
	int (*eni_index)(void *arg, const char *name);
};

struct ss_acl_table;

struct ss_acl_table *ss_acl_table_create(void);
void ss_acl_table_destroy(struct ss_acl_table *t);
/* Hit counter rows of groups compiled from now on (>= 1). */
void ss_acl_table_set_workers(struct ss_acl_table *t, unsigned int nb_workers);
/* Build the state for the store after `changes` (0 and nothing pending when
 * no change concerns ACLs). -errno with a message naming the object. */
int ss_acl_table_prepare(struct ss_acl_table *t, const struct ss_acl_store_ops *ops,
			 const struct ss_change *changes, size_t n, char *err, size_t errlen);
void ss_acl_table_commit(struct ss_acl_table *t);
void ss_acl_table_abort(struct ss_acl_table *t);
void ss_acl_table_reclaim(struct ss_acl_table *t);
/* The published state (acquire load). */
const struct ss_acl_state *ss_acl_table_state(const struct ss_acl_table *t);
/* stats scope `acl`: {GROUP: {PRIORITY: hits}} */
json_t *ss_acl_table_stats(const struct ss_acl_table *t);
void ss_acl_table_stats_clear(struct ss_acl_table *t);

/* The daemon's table, published for the policy nodes (NULL before the
 * feature is initialised). */
extern struct ss_acl_table *ss_acl_main;

static inline const struct ss_acl_state *ss_acl_current(void)
{
	return ss_acl_main ? ss_acl_table_state(ss_acl_main) : NULL;
}

#endif
