/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Prometheus exposition (text format 0.0.4) of the stats scopes on the
 * `telemetry.prometheus` address: GET /metrics. Served from the control
 * thread, non-blocking, one short request per connection.
 */
#ifndef SS_PROMETHEUS_H
#define SS_PROMETHEUS_H

#include <stddef.h>

struct ss_prom;

/* "ADDR:PORT" (IPv4 or [IPv6]). NULL and errno on failure, err says why. */
struct ss_prom *ss_prom_open(const char *addr, char *err, size_t errlen);
/* Serve whatever is pending, without blocking. */
void ss_prom_poll(struct ss_prom *p);
/* Render the metrics text (malloc'd). Exposed for tests. */
char *ss_prom_render(size_t *len);
void ss_prom_close(struct ss_prom *p);

#endif
