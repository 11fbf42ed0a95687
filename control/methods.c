/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Method resolution and the application of mutating methods (methods.h).
 */
#include <stdio.h>
#include <string.h>

#include "control/methods.h"
#include "control/objects.h"
#include "control/ops.h"

/* Methods of SPEC section 4 served by features through
 * ss_ctl_register_method(); 1005 until one registers. */
static const char *const runtime_methods[] = {
	"flow.list", "flow.flush", "rdma.qp.list", "capture.start", "capture.stop",
	"capture.list", "pipeline.graph", "health.get", NULL,
};

bool
ss_method_is_mutating(enum ss_mkind k)
{
	return k <= MK_TXN;
}

/* Resolve a built-in method name. 0 or -1 (not built in). */
int
ss_method_lookup(const char *name, struct ss_method *m)
{
	static const struct { const char *name; enum ss_mkind kind; } fixed[] = {
		{ "system.info", MK_SYSINFO },
		{ "state.get", MK_STATE },
		{ "schema.get", MK_SCHEMA },
		{ "txn", MK_TXN },
		{ "stats.get", MK_STATS_GET },
		{ "stats.clear", MK_STATS_CLEAR },
	};
	const char *dot = strrchr(name, '.');
	const struct ss_type *ty;
	size_t i;
	int t;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(name, fixed[i].name) == 0) {
			m->kind = fixed[i].kind;
			m->type = -1;
			return 0;
		}
	/* a settings singleton's method is its name (flow.config, rdma.config) */
	t = ss_type_by_name(name, strlen(name));
	if (t >= 0 && ss_types[t]->singleton && !(ss_types[t]->methods & SS_TM_SET)) {
		m->kind = MK_CONFIG;
		m->type = t;
		return 0;
	}
	if (dot == NULL)
		return -1;
	t = ss_type_by_name(name, (size_t)(dot - name));
	if (t < 0)
		return -1;
	ty = ss_types[t];
	m->type = t;
	if (strcmp(dot, ".set") == 0 && (ty->methods & SS_TM_SET))
		m->kind = MK_SET;
	else if (strcmp(dot, ".get") == 0 &&
		 (ty->methods & SS_TM_GET || (ty->singleton && ty->methods & SS_TM_SET)))
		m->kind = MK_GET;
	else if (ty->singleton)
		return -1;
	else if (strcmp(dot, ".add") == 0)
		m->kind = MK_ADD;
	else if (strcmp(dot, ".delete") == 0)
		m->kind = MK_DEL;
	else if (strcmp(dot, ".list") == 0)
		m->kind = MK_LIST;
	else if (strcmp(dot, ".replace") == 0 && (ty->methods & SS_TM_REPLACE))
		m->kind = MK_REPLACE;   /* ops.c: a group and its whole rule set */
	else
		return -1;
	return 0;
}

bool
ss_method_runtime_name(const char *name)
{
	int i;

	for (i = 0; runtime_methods[i] != NULL; i++)
		if (strcmp(name, runtime_methods[i]) == 0)
			return true;
	return false;
}

const struct ss_method_reg *
ss_method_registered(const struct ss_ctl *ctl, const char *name)
{
	size_t i;

	for (i = 0; i < ss_core_const(ctl)->nmethods; i++)
		if (strcmp(ss_core_const(ctl)->methods[i].name, name) == 0)
			return &ss_core_const(ctl)->methods[i];
	return NULL;
}

bool
ss_method_builtin(const char *name)
{
	struct ss_method m;

	return ss_method_lookup(name, &m) == 0;
}

/* ---- mutating operations -------------------------------------------------- */

int
ss_method_apply(struct ss_ctl *ctl, const struct ss_method *m, json_t *params,
		struct ss_err *err)
{
	switch (m->kind) {
	case MK_ADD:
		return ss_op_add(ctl, m->type, params, err);
	case MK_DEL:
		return ss_op_delete(ctl, m->type, params, err);
	case MK_SET:
	case MK_CONFIG:
		return ss_op_set(ctl, m->type, params, err);
	case MK_REPLACE:
		return ss_op_replace(ctl, m->type, params, err);
	default:
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "not a store operation");
	}
}

int
ss_op_apply(struct ss_ctl *ctl, const char *method, json_t *params, struct ss_err *err)
{
	struct ss_method m;

	if (ss_method_lookup(method, &m) < 0) {
		if (ss_method_registered(ctl, method) != NULL || ss_method_runtime_name(method))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, "method",
					  "%s cannot be used in a txn", method);
		return ss_err_set(err, SS_RPC_METHOD_NOT_FOUND, "method", "unknown method %.64s",
				  method);
	}
	if (!ss_method_is_mutating(m.kind) || m.kind == MK_TXN)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "method",
				  "%s cannot be used in a txn", method);
	return ss_method_apply(ctl, &m, params, err);
}

int
ss_op_apply_ops(struct ss_ctl *ctl, json_t *ops, struct ss_err *err)
{
	size_t i;

	if (!json_is_array(ops))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "ops", "ops must be an array");
	for (i = 0; i < json_array_size(ops); i++) {
		json_t *op = json_array_get(ops, i), *params, *empty = NULL;
		const char *method;
		void *it;
		int rc;

		if (!json_is_object(op)) {
			ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "expected {method, params}");
			goto op_err;
		}
		for (it = json_object_iter(op); it; it = json_object_iter_next(op, it))
			if (strcmp(json_object_iter_key(it), "method") &&
			    strcmp(json_object_iter_key(it), "params")) {
				ss_err_set(err, SS_RPC_INVALID_PARAMS, json_object_iter_key(it),
					   "unknown op member \"%.64s\"", json_object_iter_key(it));
				goto op_err;
			}
		method = json_string_value(json_object_get(op, "method"));
		params = json_object_get(op, "params");
		if (method == NULL) {
			ss_err_set(err, SS_RPC_INVALID_PARAMS, "method", "op without a method");
			goto op_err;
		}
		if (params != NULL && !json_is_object(params)) {
			ss_err_set(err, SS_RPC_INVALID_PARAMS, "params", "params must be an object");
			goto op_err;
		}
		if (params == NULL)
			params = empty = json_object();
		rc = ss_op_apply(ctl, method, params, err);
		json_decref(empty);
		if (rc < 0) {
			/* method problems are named from the txn's params */
			if (strcmp(err->field, "method") == 0)
				goto op_err;
			err->index = (int)i;
			return -1;
		}
		continue;
op_err:
		ss_err_prefix(err, "ops[%zu]", i);
		err->index = (int)i;
		return -1;
	}
	return 0;
}

