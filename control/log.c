/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Logging and the clock of the control plane (base layer: every other
 * control/ file may call these; they call nothing above them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "control/ctl-int.h"

void
ss_ctl_log(struct ss_ctl *ctl, int level, const char *fmt, ...)
{
	struct ss_core *core = ss_core(ctl);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (core->rt.log != NULL)
		core->rt.log(core->rt.ctx, level, msg);
	else
		fprintf(stderr, "sswitch control: %s\n", msg);
}

uint64_t
ss_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ss_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
