/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SS_DROP_H
#define SS_DROP_H

#include <stdint.h>

/* Drop reasons, generated from drop_reasons_all.def (built by meson: the
 * runtime's drop_reasons.def, then each feature's <feature>_drops.def;
 * targets that include this header depend on drop_dep). 0 is "not
 * dropped". */
enum ss_drop_reason {
	SS_DROP_NONE = 0,
#define SS_DROP(id, name, help) SS_DROP_##id,
#include "pipelines/drop/drop_reasons_all.def"
#undef SS_DROP
	SS_DROP_MAX
};

/* The API name of a reason ("parse_truncated"), NULL when out of range. */
const char *ss_drop_name(unsigned int reason);
/* One-line description, NULL when out of range. */
const char *ss_drop_help(unsigned int reason);
/* Reason by API name, SS_DROP_NONE when unknown. */
enum ss_drop_reason ss_drop_from_name(const char *name);

/* Name of the graph node every dropped packet is enqueued to. */
#define SS_NODE_DROP "drop"

#endif
