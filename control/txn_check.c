/* SPDX-License-Identifier: BSD-3-Clause
 *
 * txn.check: a txn's ops validated and staged exactly as `txn` would
 * (every op's checks, references, store capacities), then put through the
 * data-plane tables' prepare() (their capacity and compilation), then
 * rolled back: nothing is applied, journaled or published and the state
 * generation does not move. The result says what the txn would change:
 * counts per object type and, with `changes: true`, every change with the
 * object before and after (what `sswitchctl txn --dry-run` and `sswitchctl
 * state diff` show). An invalid txn answers the error `txn` would.
 *
 * Control thread only, like every method.
 */
#include <stdio.h>
#include <string.h>

#include "control/methods.h"
#include "control/objects.h"
#include "control/ops.h"
#include "control/store.h"
#include "control/txn.h"
#include "control/txn_check.h"

/* Borrowed by the rpc layer after the handler returns (ss_ctl_method_fn):
 * the control thread serves one request at a time. */
static char err_field[sizeof(((struct ss_err *)0)->field) + 16];

static int fail(const struct ss_err *e, char *err, size_t errlen, const char **field)
{
	if (e->index >= 0 && strncmp(e->msg, "ops[", 4) != 0)
		snprintf(err, errlen, "ops[%d]: %s", e->index, e->msg);
	else
		snprintf(err, errlen, "%s", e->msg);
	if (e->field[0] != '\0') {
		snprintf(err_field, sizeof(err_field), "%s", e->field);
		*field = err_field;
	}
	return e->code;
}

static const char *const op_names[] = {
	[SS_LOG_LINK] = "add", [SS_LOG_UNLINK] = "delete", [SS_LOG_REPLACE] = "set",
};

/* The open transaction's undo log as counts per type (and the changes). */
static json_t *describe_log(struct ss_ctl *ctl, bool with_changes)
{
	struct ss_log *log = &ss_core(ctl)->store.log;
	json_t *counts = json_object(), *changes = with_changes ? json_array() : NULL;
	size_t i;

	if (counts == NULL || (with_changes && changes == NULL))
		goto oom;
	for (i = 0; i < log->n; i++) {
		struct ss_log_ent *e = &log->v[i];
		const char *type = ss_types[e->node->type]->name, *op = op_names[e->kind];
		json_t *c = json_object_get(counts, type);

		if (c == NULL) {
			c = json_pack("{s:i, s:i, s:i}", "add", 0, "set", 0, "delete", 0);
			if (c == NULL || json_object_set_new(counts, type, c) < 0)
				goto oom;
		}
		json_object_set_new(c, op, json_integer(json_integer_value(json_object_get(c, op)) + 1));
		if (!with_changes)
			continue;
		/* raw bulk adds are stored without a value (as in txn.c) */
		if (e->obj == NULL && e->kind != SS_LOG_UNLINK &&
		    (e->obj = ss_node_value(e->node)) == NULL)
			goto oom;
		json_t *ch = json_pack("{s:s, s:s, s:s}", "op", op, "type", type, "key",
				       e->node->key);
		if (ch == NULL || json_array_append_new(changes, ch) < 0)
			goto oom;
		if (e->kind != SS_LOG_UNLINK)
			json_object_set(ch, "object", e->obj);
		if (e->kind != SS_LOG_LINK && e->old_obj != NULL)
			json_object_set(ch, "old", e->old_obj);
	}
	json_t *r = json_pack("{s:b, s:o}", "valid", 1, "counts", counts);
	if (r != NULL && changes != NULL)
		json_object_set_new(r, "changes", changes);
	return r;
oom:
	json_decref(counts);
	json_decref(changes);
	return NULL;
}

int ss_txn_check_method(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
			char *err, size_t errlen, const char **field)
{
	struct ss_core *core = ss_core(ctl);
	const json_t *ops = json_object_get(params, "ops"), *chg = json_object_get(params, "changes");
	const char *key;
	json_t *v, *copy;
	struct ss_err e;

	(void)ctx;
	json_object_foreach((json_t *)params, key, v)
		if (strcmp(key, "ops") != 0 && strcmp(key, "changes") != 0) {
			snprintf(err, errlen, "unknown field \"%.64s\"", key);
			snprintf(err_field, sizeof(err_field), "%.64s", key);
			*field = err_field;
			return SS_RPC_INVALID_PARAMS;
		}
	if (ops == NULL) {
		snprintf(err, errlen, "missing required field \"ops\"");
		*field = "ops";
		return SS_RPC_INVALID_PARAMS;
	}
	if (chg != NULL && !json_is_boolean(chg)) {
		snprintf(err, errlen, "changes must be true or false");
		*field = "changes";
		return SS_RPC_INVALID_PARAMS;
	}
	if (core->txn->in_txn) {
		snprintf(err, errlen, "txn.check: a transaction is open");
		return SS_RPC_INTERNAL;
	}
	/* the ops layer may normalise params in place: work on a copy */
	copy = json_deep_copy(ops);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return SS_RPC_INTERNAL;
	}
	ss_err_init(&e);
	ss_txn_begin(ctl);
	if (ss_op_apply_ops(ctl, copy, &e) < 0) {
		ss_txn_abort(ctl);
		json_decref(copy);
		return fail(&e, err, errlen, field);
	}
	*result = describe_log(ctl, json_is_true(chg));
	if (*result == NULL) {
		ss_txn_abort(ctl);
		json_decref(copy);
		snprintf(err, errlen, "out of memory");
		return SS_RPC_INTERNAL;
	}
	ss_err_init(&e);
	if (ss_txn_check(ctl, &e) < 0) {
		json_decref(*result);
		*result = NULL;
		json_decref(copy);
		return fail(&e, err, errlen, field);
	}
	json_decref(copy);
	json_object_set_new(*result, "generation", json_integer((json_int_t)core->txn->generation));
	return 0;
}
