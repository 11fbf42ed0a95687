/* SPDX-License-Identifier: BSD-3-Clause
 *
 * API errors (err.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control/err.h"

void
ss_err_init(struct ss_err *e)
{
	e->code = 0;
	e->index = -1;
	e->field[0] = '\0';
	e->msg[0] = '\0';
}

int
ss_err_set(struct ss_err *e, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
ss_err_prefix(struct ss_err *e, const char *fmt, ...)
{
	char old[sizeof(e->field)];
	size_t n;
	va_list ap;

	memcpy(old, e->field, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(e->field, sizeof(e->field), fmt, ap);
	va_end(ap);
	if (old[0] == '\0')
		return;
	n = strlen(e->field);
	if (old[0] != '[' && n + 1 < sizeof(e->field))
		e->field[n++] = '.';
	if (n < sizeof(e->field))
		memccpy(e->field + n, old, '\0', sizeof(e->field) - n);
	e->field[sizeof(e->field) - 1] = '\0';
}
