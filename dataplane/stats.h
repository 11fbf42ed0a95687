/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Counters as the outside sees them: stats.get scopes `ports`, `drops`,
 * `nodes` and `workers`, DPDK telemetry under /sswitch/, the console line
 * and the Prometheus text. One snapshot function per scope feeds all of them.
 * Snapshots may be taken from the control thread and the telemetry thread;
 * clear is control thread only (it moves a baseline, never touches the
 * workers' counters).
 */
#ifndef SS_STATS_H
#define SS_STATS_H

#include <stdio.h>

#include <jansson.h>

#include "control/ctl.h"

json_t *ss_stats_ports(void);
json_t *ss_stats_drops(void);
json_t *ss_stats_nodes(void);
json_t *ss_stats_workers(void);
void ss_stats_clear_ports(void);
void ss_stats_clear_drops(void);
void ss_stats_clear_nodes(void);
void ss_stats_clear_workers(void);

/* Register the scopes above with the control plane. */
int ss_stats_register(struct ss_ctl *ctl);
/* Register the /sswitch/ telemetry commands. */
int ss_stats_telemetry_init(void);
/* One console line of rates since the previous call. */
void ss_stats_print_line(FILE *out, double interval_s);

#endif
