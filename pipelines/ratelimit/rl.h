/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The per-ENI rate limiter (docs/ratelimit.md): a stage on the `outbound`
 * arc between the policy stage and routing that polices every packet an ENI
 * sends (host port or appliance mode) to the ENI's `rate_limit_pps` and
 * `rate_limit_bps` (eni.add / eni.set; 0 or absent: unlimited), dropping
 * what exceeds them as `rate_limited`.
 *
 * Concurrency (docs/architecture.md, "How tables are updated"):
 *   struct ss_rl_state   built aside by the control thread at prepare(),
 *                        published with one pointer store at commit(),
 *                        freed at reclaim() after the RCU grace period.
 *                        dataplane: ro, ctlplane: rw (aside copies only).
 *   ss_rl_buckets[w]     one array per worker, indexed by ENI index;
 *                        dataplane: rw by worker w only, ctlplane: ro
 *                        (stats sums, never written after allocation).
 */
#ifndef SS_RL_H
#define SS_RL_H

#include <stdint.h>

#include "dataplane/worker-t.h"
#include "pipelines/ratelimit/rl_gcra.h"

#define SS_RL_NODE "rate_limit"

struct ss_rl_state {
	uint32_t nb_active;            /* ENIs with a limit: 0 lets bursts through whole */
	uint32_t n;                    /* entries: ENI indices 0..n-1 */
	struct ss_rl_limit lim[];
};

/* The published state (workers: valid for the current graph walk). */
extern struct ss_rl_state *ss_rl_published;
extern struct ss_rl_bucket *ss_rl_buckets[SS_MAX_WORKERS];

#endif
