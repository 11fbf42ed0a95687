/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "pipelines/drop/drop.h"

static const char *const names[SS_DROP_MAX] = {
	[SS_DROP_NONE] = "none",
#define SS_DROP(id, name, help) [SS_DROP_##id] = name,
#include "pipelines/drop/drop_reasons_all.def"
#undef SS_DROP
};

static const char *const helps[SS_DROP_MAX] = {
	[SS_DROP_NONE] = "not dropped",
#define SS_DROP(id, name, help) [SS_DROP_##id] = help,
#include "pipelines/drop/drop_reasons_all.def"
#undef SS_DROP
};

const char *ss_drop_name(unsigned int reason)
{
	return reason < SS_DROP_MAX ? names[reason] : NULL;
}

const char *ss_drop_help(unsigned int reason)
{
	return reason < SS_DROP_MAX ? helps[reason] : NULL;
}

enum ss_drop_reason ss_drop_from_name(const char *name)
{
	for (unsigned int i = 1; i < SS_DROP_MAX; i++)
		if (strcmp(names[i], name) == 0)
			return (enum ss_drop_reason)i;
	return SS_DROP_NONE;
}
