/* SPDX-License-Identifier: BSD-3-Clause
 *
 * health.get and pipeline.graph: the operator's first look. health.get
 * reports each port's link and error counters and findings computed over the
 * last tick (ss_health_tick, about once a second on the control thread):
 * `link_down`, `drop_spike` (more than 1% and 100 packets of what a port
 * received was dropped), `tx_stuck` (a port refused packets and sent none),
 * `worker_stalled` (a worker did not complete a graph walk).
 */
#ifndef SS_HEALTH_H
#define SS_HEALTH_H

#include "control/ctl.h"

void ss_health_tick(void);
int ss_health_register(struct ss_ctl *ctl);

/* A feature's findings (e.g. BFD sessions not Up): fn appends objects
 * {finding, object, message} to `findings` at every health.get. Control
 * thread, from the feature's init. 0 or -ENOSPC. */
typedef void (*ss_health_findings_fn)(void *ctx, json_t *findings);
int ss_health_add_source(ss_health_findings_fn fn, void *ctx);

#endif
