/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The methods the control plane serves itself: resolution of a method name
 * (built-in methods, <type>.<verb> of the registered types, the runtime
 * methods features register) and the application of the mutating ones,
 * alone or as the ops of a txn, bootstrap file or snapshot (ops layer:
 * below txn, persist and rpc, which all apply ops).
 */
#ifndef SS_CTL_METHODS_H
#define SS_CTL_METHODS_H

#include <stdbool.h>
#include <jansson.h>

#include "control/ctl-int.h"

enum ss_mkind {
	MK_ADD, MK_DEL, MK_SET, MK_REPLACE, MK_CONFIG, MK_TXN,      /* mutating */
	MK_LIST, MK_GET, MK_STATE, MK_SCHEMA, MK_SYSINFO, MK_STATS_GET, MK_STATS_CLEAR, MK_RUNTIME,
};

struct ss_method {
	enum ss_mkind kind;
	int type;                    /* type id, -1 for none */
};

/* A built-in method (served by the control plane itself): 0 or -1. */
int ss_method_lookup(const char *name, struct ss_method *m);
bool ss_method_builtin(const char *name);
bool ss_method_is_mutating(enum ss_mkind k);
/* A SPEC method served by a feature (1005 until one registers it)? */
bool ss_method_runtime_name(const char *name);
/* The registration of a feature's method, or NULL. */
const struct ss_method_reg *ss_method_registered(const struct ss_ctl *ctl, const char *name);
/* Apply a mutating store method (add, delete, set, replace, config). */
int ss_method_apply(struct ss_ctl *ctl, const struct ss_method *m, json_t *params,
		    struct ss_err *err);

/* Apply one {method, params} op of a txn / state / bootstrap file. */
int ss_op_apply(struct ss_ctl *ctl, const char *method, json_t *params, struct ss_err *err);
/* Apply {"ops": [...]}-style array; errors carry data.index. */
int ss_op_apply_ops(struct ss_ctl *ctl, json_t *ops, struct ss_err *err);

#endif /* SS_CTL_METHODS_H */
