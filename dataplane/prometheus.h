/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Prometheus exposition (text format 0.0.4) of the stats scopes on the
 * `telemetry.prometheus` address: GET (or HEAD) /metrics. Served from the control
 * thread, non-blocking, one short request per connection.
 */
#ifndef SS_PROMETHEUS_H
#define SS_PROMETHEUS_H

#include <stddef.h>

struct ss_prom;

#include "control/ctl.h"

#define SS_PROM_MAX_LEVELS 3

/* Label names of the nesting levels of a stats scope's object (the last
 * level holds the counters), e.g. "acl": { "group", "priority" }: a
 * feature calls it from its init for the scope it registers. Levels
 * without a name are labelled "key". 0, -EEXIST (scope already named),
 * -ENOSPC. Control thread, before ss_prom_open. */
int ss_prom_scope_labels(const char *scope, const char *const labels[SS_PROM_MAX_LEVELS]);

/* "ADDR:PORT" (IPv4 or [IPv6]). The metrics are what stats.get with scope
 * `all` answers on `ctl`: every scope a feature registered (ports, drops,
 * nodes, workers, eni, acl, rdma, ...). NULL and errno on failure, err says
 * why. */
struct ss_prom *ss_prom_open(const char *addr, struct ss_ctl *ctl, char *err, size_t errlen);
/* Serve whatever is pending, without blocking. Control thread. */
void ss_prom_poll(struct ss_prom *p);
/* Render the metrics text (malloc'd). */
char *ss_prom_render(struct ss_ctl *ctl, size_t *len);
void ss_prom_close(struct ss_prom *p);

#endif
