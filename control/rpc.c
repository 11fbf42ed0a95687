/* SPDX-License-Identifier: BSD-3-Clause
 *
 * JSON-RPC 2.0 framing and method dispatch (SPEC section 4).
 *
 * One request line is one JSON value: a request object or a batch (array)
 * of them. Every request is handled on its own (a batch is not a
 * transaction: `txn` is). A request without "id" is a notification: it is
 * executed and gets no reply. Results and errors are written as text: big
 * results (state.get, mapping.list) splice the store's canonical texts
 * without building jansson trees.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/methods.h"
#include "control/objects.h"
#include "control/ops.h"
#include "control/rpc.h"
#include "control/store.h"
#include "control/txn.h"

/* ---- replies ------------------------------------------------------------- */

static void
reply_head(struct ss_buf *b, const json_t *id)
{
	ss_buf_adds(b, "{\"jsonrpc\":\"2.0\",\"id\":");
	if (id != NULL)
		ss_json_dump(b, id);
	else
		ss_buf_adds(b, "null");
}

static void
reply_error(struct ss_buf *b, const json_t *id, const struct ss_err *e)
{
	reply_head(b, id);
	ss_buf_addf(b, ",\"error\":{\"code\":%d,\"message\":", e->code);
	ss_json_dump_str(b, e->msg, strlen(e->msg));
	if (e->field[0] || e->index >= 0) {
		ss_buf_adds(b, ",\"data\":{");
		if (e->field[0]) {
			ss_buf_adds(b, "\"field\":");
			ss_json_dump_str(b, e->field, strlen(e->field));
		}
		if (e->index >= 0)
			ss_buf_addf(b, "%s\"index\":%d", e->field[0] ? "," : "", e->index);
		ss_buf_addc(b, '}');
	}
	ss_buf_add(b, "}}", 2);
}

char *
ss_rpc_error_line(const json_t *id, const struct ss_err *e)
{
	struct ss_buf b;

	ss_buf_init(&b);
	reply_error(&b, id, e);
	return ss_buf_steal(&b);
}

/* ---- read-only methods ------------------------------------------------------ */

static int
check_keys(const json_t *params, const char *const *allowed, struct ss_err *err)
{
	void *it;

	for (it = json_object_iter((json_t *)params); it;
	     it = json_object_iter_next((json_t *)params, it)) {
		const char *k = json_object_iter_key(it);
		int i, ok = 0;

		for (i = 0; allowed[i] != NULL && !ok; i++)
			ok = strcmp(k, allowed[i]) == 0;
		if (!ok)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, k, "unknown field \"%.64s\"", k);
	}
	return 0;
}

static const struct ss_decorator_reg *
decorator(const struct ss_ctl *ctl, int type)
{
	size_t i;

	for (i = 0; i < ss_core_const(ctl)->rpc->ndecorators; i++)
		if (ss_core_const(ctl)->rpc->decorators[i].type == type)
			return &ss_core_const(ctl)->rpc->decorators[i];
	return NULL;
}

/* Append the node's value, decorated if a decorator is registered. */
static int
emit_node(struct ss_ctl *ctl, struct ss_buf *b, struct ss_node *n)
{
	const struct ss_decorator_reg *d = decorator(ctl, n->type);
	json_t *v, *out;

	if (d == NULL) {
		ss_schema_expand_text(b, &ss_types[n->type]->schema, ss_node_text(n), n->tlen);
		return 0;
	}
	v = ss_node_value(n);
	out = v ? json_deep_copy(v) : NULL;
	if (out == NULL) {
		json_decref(v);
		return -1;
	}
	d->fn(d->ctx, ctl, v, out);
	ss_json_dump(b, out);
	json_decref(out);
	json_decref(v);
	return 0;
}

static int
do_list(struct ss_ctl *ctl, int type, const json_t *params, struct ss_buf *res,
	struct ss_err *err)
{
	const struct ss_type *t = ss_types[type];
	const char *allowed[] = { "limit", t->filter, NULL };
	const json_t *fv = t->filter ? json_object_get(params, t->filter) : NULL;
	const json_t *lim = json_object_get(params, "limit");
	struct ss_node **v;
	size_t i, n, k = 0, flen = 0;
	char prefix[SS_KEY_MAX];

	if (check_keys(params, allowed, err) < 0)
		return -1;
	if (lim != NULL && (!json_is_integer(lim) || json_integer_value(lim) < 0))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "limit", "limit must be an integer >= 0");
	if (fv != NULL) {
		if (!json_is_string(fv))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, t->filter, "%s must be a string",
					  t->filter);
		/* every filter field is the first component of its type's key */
		flen = (size_t)snprintf(prefix, sizeof(prefix), "%s/", json_string_value(fv));
		if (flen >= sizeof(prefix))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, t->filter, "%s too long", t->filter);
	}
	if (ss_store_nodes(&ss_core(ctl)->store, type, fv == NULL, &v, &n) < 0)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	if (fv != NULL) {
		for (i = 0; i < n; i++)
			if (strncmp(v[i]->key, prefix, flen) == 0)
				v[k++] = v[i];
		n = k;
		ss_nodes_sort(v, n);
	}
	if (lim != NULL && (size_t)json_integer_value(lim) < n)
		n = (size_t)json_integer_value(lim);
	ss_buf_addc(res, '{');
	ss_json_dump_str(res, t->list_key, strlen(t->list_key));
	ss_buf_add(res, ":[", 2);
	for (i = 0; i < n; i++) {
		if (i)
			ss_buf_addc(res, ',');
		if (emit_node(ctl, res, v[i]) < 0) {
			free(v);
			return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		}
	}
	ss_buf_add(res, "]}", 2);
	free(v);
	return 0;
}

static int
do_get(struct ss_ctl *ctl, int type, const json_t *params, struct ss_buf *res,
       struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	static const char *const name_only[] = { "name", NULL }, *const none[] = { NULL };
	const struct ss_type *t = ss_types[type];
	const json_t *name = json_object_get(params, "name");
	struct ss_node *n;

	if (check_keys(params, t->singleton ? none : name_only, err) < 0)
		return -1;
	if (t->singleton) {
		n = ss_store_find(&core->store, type, "", 0);
		if (n == NULL) {
			ss_buf_add(res, "{}", 2);
			return 0;
		}
	} else {
		if (!json_is_string(name))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, "name",
					  "missing required field \"name\"");
		n = ss_store_find(&core->store, type, json_string_value(name),
				  json_string_length(name));
		if (n == NULL)
			return ss_err_set(err, SS_ERR_NOT_FOUND, "name", "%s %s not found", t->name,
					  json_string_value(name));
	}
	if (emit_node(ctl, res, n) < 0)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	return 0;
}

static int
do_sysinfo(struct ss_ctl *ctl, struct ss_buf *res, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	json_t *r = json_object(), *ports;
	size_t i;

	if (r == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	json_object_set_new(r, "version", json_string(SS_VERSION));
	if (core->rt.system_info != NULL) {
		core->rt.system_info(core->rt.ctx, r);
	} else {
		ports = json_array();
		for (i = 0; i < core->rpc->nports; i++)
			json_array_append_new(ports, json_pack("{ssss}", "name", core->rpc->ports[i].name,
							       "role", core->rpc->ports[i].role));
		json_object_set_new(r, "ports", ports);
		json_object_set_new(r, "workers", json_array());
	}
	json_object_set_new(r, "uptime_s",
			    json_integer((json_int_t)((ss_now_ms() -
						       ((uint64_t)core->rpc->started.tv_sec * 1000 +
							(uint64_t)core->rpc->started.tv_nsec / 1000000)) / 1000)));
	json_object_set_new(r, "generation", json_integer((json_int_t)core->txn->generation));
	ss_json_dump(res, r);
	json_decref(r);
	return 0;
}

static int
do_stats(struct ss_ctl *ctl, const json_t *params, bool clear, struct ss_buf *res,
	 struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	static const char *const allowed[] = { "scope", NULL };
	const json_t *sv = json_object_get(params, "scope");
	const char *scope = "all";
	json_t *r;
	size_t i, hit = 0;

	if (check_keys(params, allowed, err) < 0)
		return -1;
	if (sv != NULL) {
		if (!json_is_string(sv))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, "scope", "scope must be a string");
		scope = json_string_value(sv);
	}
	for (i = 0; i < core->rpc->nstats; i++)
		hit += strcmp(scope, "all") == 0 || strcmp(scope, core->rpc->stats[i].scope) == 0;
	if (hit == 0 && strcmp(scope, "all") != 0) {
		char list[256] = "all";

		for (i = 0; i < core->rpc->nstats; i++) {
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, core->rpc->stats[i].scope, sizeof(list) - strlen(list) - 1);
		}
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "scope",
				  "unknown scope \"%.32s\" (one of: %s)", scope, list);
	}
	r = json_object();
	if (r == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	for (i = 0; i < core->rpc->nstats; i++) {
		struct ss_ctl_stats *s = &core->rpc->stats[i];

		if (strcmp(scope, "all") != 0 && strcmp(scope, s->scope) != 0)
			continue;
		if (clear) {
			if (s->clear)
				s->clear(s->ctx);
		} else {
			json_t *v = s->get ? s->get(s->ctx) : NULL;

			json_object_set_new(r, s->scope, v ? v : json_object());
		}
	}
	if (clear)
		json_object_set_new(r, "cleared", json_string(scope));
	ss_json_dump(res, r);
	json_decref(r);
	return 0;
}

static int
do_runtime(struct ss_ctl *ctl, const struct ss_method_reg *reg, const json_t *params,
	   struct ss_buf *res, struct ss_err *err)
{
	json_t *result = NULL;
	const char *field = NULL;
	char msg[sizeof(err->msg)] = "";
	int rc = reg->fn(reg->ctx, ctl, params, &result, msg, sizeof(msg), &field);

	if (rc != 0) {
		json_decref(result);
		return ss_err_set(err, rc, field, "%s", msg[0] ? msg : "request failed");
	}
	if (result == NULL)
		ss_buf_add(res, "{}", 2);
	else
		ss_json_dump(res, result);
	json_decref(result);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static int
dispatch_one(struct ss_ctl *ctl, const char *method, json_t *params, const char *raw,
	     size_t rawlen, struct ss_buf *res, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	const struct ss_method_reg *reg;
	struct ss_method m;
	bool known = ss_method_lookup(method, &m) == 0;
	int rc;

	if (raw != NULL) {
		/* params.entries was left as text by ss_json_parse_lazy() */
		if (known && m.kind == MK_ADD && ss_types[m.type]->bulk_raw && !core->rpc->no_bulk_raw &&
		    json_object_size(params) == 1) {
			ss_txn_begin(ctl);
			rc = ss_op_add_raw(ctl, m.type, raw, rawlen, err);
			if (rc < 0) {
				ss_txn_abort(ctl);
				return -1;
			}
			if (rc == 0) {
				if (ss_txn_commit(ctl, SS_TXN_TABLES | SS_TXN_PERSIST, err) < 0)
					return -1;
				ss_buf_addf(res, "{\"generation\":%llu}",
					    (unsigned long long)core->txn->generation);
				return 0;
			}
			ss_txn_abort(ctl);   /* an entry the general path takes */
		}
		{
			json_t *entries = ss_json_parse(raw, rawlen, NULL, 0);

			/* validated already: only ENOMEM can fail */
			if (entries == NULL || json_object_set_new(params, "entries", entries) < 0)
				return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		}
	}
	if (!known) {
		reg = ss_method_registered(ctl, method);
		if (reg != NULL)
			return do_runtime(ctl, reg, params, res, err);
		if (ss_method_runtime_name(method))
			return ss_err_set(err, SS_ERR_NOT_SUPPORTED, NULL,
					  "%s: not supported (no feature of this daemon serves it)",
					  method);
		return ss_err_set(err, SS_RPC_METHOD_NOT_FOUND, NULL, "unknown method %.64s", method);
	}
	switch (m.kind) {
	case MK_LIST:
		return do_list(ctl, m.type, params, res, err);
	case MK_GET:
		return do_get(ctl, m.type, params, res, err);
	case MK_STATE: {
		static const char *const none[] = { NULL };

		if (check_keys(params, none, err) < 0)
			return -1;
		ss_buf_adds(res, "{\"ops\":");
		if (ss_state_dump_ops(ctl, res, true, NULL, NULL) < 0)
			return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		ss_buf_addc(res, '}');
		return 0;
	}
	case MK_SCHEMA: {
		static const char *const none[] = { NULL };
		json_t *d;

		if (check_keys(params, none, err) < 0)
			return -1;
		d = ss_types_describe(core->limit);
		if (d == NULL)
			return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		ss_json_dump(res, d);
		json_decref(d);
		return 0;
	}
	case MK_SYSINFO:
		return do_sysinfo(ctl, res, err);
	case MK_STATS_GET:
	case MK_STATS_CLEAR:
		return do_stats(ctl, params, m.kind == MK_STATS_CLEAR, res, err);
	case MK_CONFIG:
		if (json_object_size(params) == 0)
			return do_get(ctl, m.type, params, res, err);
		break;
	default:
		break;
	}
	/* a mutating request: one transaction */
	ss_txn_begin(ctl);
	if (m.kind == MK_TXN) {
		static const char *const ops_only[] = { "ops", NULL };

		if (check_keys(params, ops_only, err) < 0) {
			ss_txn_abort(ctl);
			return -1;
		}
		if (json_object_get(params, "ops") == NULL)
			rc = ss_err_set(err, SS_RPC_INVALID_PARAMS, "ops",
					"missing required field \"ops\"");
		else
			rc = ss_op_apply_ops(ctl, json_object_get(params, "ops"), err);
	} else {
		rc = ss_method_apply(ctl, &m, params, err);
	}
	if (rc < 0) {
		ss_txn_abort(ctl);
		return -1;
	}
	if (ss_txn_commit(ctl, SS_TXN_TABLES | SS_TXN_PERSIST, err) < 0)
		return -1;
	ss_buf_addf(res, "{\"generation\":%llu}", (unsigned long long)core->txn->generation);
	return 0;
}

static int
dispatch(struct ss_ctl *ctl, const char *method, json_t *params, const char *raw,
	 size_t rawlen, struct ss_buf *res, struct ss_err *err)
{
	int rc = dispatch_one(ctl, method, params, raw, rawlen, res, err);

	ss_ctl_reads_release(ctl);
	return rc;
}

/* ---- streamed replies ----------------------------------------------------------
 *
 * state.get's reply grows with the state (1M mappings: ~110 MB). Where the
 * caller can take a reply in steps (the server, a batch), the request
 * writes the reply's head, then a stream writes the ops from a cursor
 * (state.c) each time the caller has room, then the tail: the reply is
 * never held whole, and it is the state when the request was taken.
 */
struct ss_rpc_stream {
	struct ss_state_cursor *cur;
	bool newline;                /* a line of its own: '\n' after the tail */
};

int
ss_rpc_stream_step(struct ss_ctl *ctl, struct ss_rpc_stream *st, struct ss_buf *out,
		   size_t out_limit, uint64_t deadline_ns)
{
	int rc = ss_state_cursor_step(ctl, st->cur, out, out_limit, deadline_ns);

	if (rc <= 0)
		return rc < 0 ? -1 : 0;
	ss_buf_adds(out, st->newline ? "}}\n" : "}}");
	return out->oom ? -1 : 1;
}

size_t
ss_rpc_stream_held(const struct ss_rpc_stream *st)
{
	return st != NULL ? sizeof(*st) + ss_state_cursor_held(st->cur) : 0;
}

void
ss_rpc_stream_free(struct ss_rpc_stream *st)
{
	if (st == NULL)
		return;
	ss_state_cursor_free(st->cur);
	free(st);
}

/* state.get with the reply streamed: its head written, *stream set. 0, or
 * -1 with err (nothing written). */
static int
stream_state(struct ss_ctl *ctl, const json_t *id, const json_t *params, struct ss_buf *out,
	     struct ss_rpc_stream **stream, struct ss_err *err)
{
	static const char *const none[] = { NULL };
	struct ss_rpc_stream *st;

	if (check_keys(params, none, err) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->cur = ss_state_cursor_new(ctl, true)) == NULL) {
		free(st);
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	}
	reply_head(out, id);
	ss_buf_adds(out, ",\"result\":{\"ops\":");
	*stream = st;
	return 0;
}

/* Handle one request object; appends its reply to out (not for
 * notifications). Returns 1 if a reply was written (or, with *stream set,
 * begun: the caller steps the stream to its end). stream NULL: the reply
 * is written whole. */
static int
handle_one(struct ss_ctl *ctl, json_t *req, const char *raw, size_t rawlen, struct ss_buf *out,
	   struct ss_rpc_stream **stream)
{
	const json_t *id = NULL, *ver;
	const char *method;
	json_t *params, *empty = NULL;
	struct ss_buf res;
	struct ss_err err;
	bool notify;
	void *it;
	int rc;

	ss_err_init(&err);
	if (!json_is_object(req)) {
		ss_err_set(&err, SS_RPC_INVALID_REQUEST, NULL, "a request must be an object");
		goto invalid;
	}
	notify = json_object_get(req, "id") == NULL;
	id = json_object_get(req, "id");
	if (id != NULL && !json_is_string(id) && !json_is_number(id) && !json_is_null(id)) {
		id = NULL;
		ss_err_set(&err, SS_RPC_INVALID_REQUEST, "id", "id must be a string, number or null");
		goto invalid;
	}
	for (it = json_object_iter(req); it; it = json_object_iter_next(req, it)) {
		const char *k = json_object_iter_key(it);

		if (strcmp(k, "jsonrpc") && strcmp(k, "id") && strcmp(k, "method") &&
		    strcmp(k, "params")) {
			ss_err_set(&err, SS_RPC_INVALID_REQUEST, k, "unknown member \"%.64s\"", k);
			goto invalid;
		}
	}
	ver = json_object_get(req, "jsonrpc");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
		ss_err_set(&err, SS_RPC_INVALID_REQUEST, "jsonrpc", "jsonrpc must be \"2.0\"");
		goto invalid;
	}
	method = json_string_value(json_object_get(req, "method"));
	if (method == NULL) {
		ss_err_set(&err, SS_RPC_INVALID_REQUEST, "method", "method must be a string");
		goto invalid;
	}
	params = json_object_get(req, "params");
	if (params != NULL && !json_is_object(params)) {
		ss_err_set(&err, SS_RPC_INVALID_PARAMS, NULL, "params must be an object");
		goto reply_err;
	}
	if (params == NULL) {
		params = empty = json_object();
		if (params == NULL) {
			ss_err_set(&err, SS_RPC_INTERNAL, NULL, "out of memory");
			goto reply_err;
		}
	}
	if (stream != NULL && strcmp(method, "state.get") == 0) {
		/* a read: as a notification it has nothing to do */
		rc = notify ? 0 : stream_state(ctl, id, params, out, stream, &err);
		json_decref(empty);
		if (notify)
			return 0;
		if (rc < 0)
			goto reply_err;
		return 1;
	}
	ss_buf_init(&res);
	rc = dispatch(ctl, method, params, raw, rawlen, &res, &err);
	json_decref(empty);
	if (rc == 0 && res.oom)
		rc = ss_err_set(&err, SS_RPC_INTERNAL, NULL, "out of memory");
	if (notify) {
		ss_buf_free(&res);
		return 0;
	}
	if (rc < 0) {
		ss_buf_free(&res);
		goto reply_err;
	}
	reply_head(out, id);
	ss_buf_adds(out, ",\"result\":");
	ss_buf_add(out, res.p, res.len);
	ss_buf_addc(out, '}');
	ss_buf_free(&res);
	return 1;
reply_err:
	if (notify)
		return 0;
invalid:
	reply_error(out, id, &err);
	return 1;
}

/* ---- batches, in slices ------------------------------------------------------
 *
 * A batch line is handled in two passes over its text, each resumable
 * between any two elements: the whole array is validated first (a batch that
 * is not valid JSON gets one parse error and nothing is executed, as when it
 * was parsed whole), then each element is parsed, executed and its reply
 * appended. Only the line's text is held, never a tree of the whole batch;
 * the reply is streamed into the caller's buffer as it grows ("[" before the
 * first reply, "]\n" after the last; nothing at all when every element is
 * a notification).
 */
struct ss_rpc_batch {
	size_t off;                  /* next element (or separator) in the line */
	size_t n;                    /* elements seen in this pass */
	int pass;                    /* 0: validating, 1: executing */
	int replies;                 /* replies written */
	struct ss_rpc_stream *stream;   /* the reply of element n, being written */
};

struct ss_rpc_batch *
ss_rpc_batch_new(const char *line, size_t len)
{
	struct ss_rpc_batch *b;
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
		i++;
	if (i == len || line[i] != '[')
		return NULL;
	b = calloc(1, sizeof(*b));
	if (b != NULL)
		b->off = i + 1;
	return b;
}

size_t
ss_rpc_batch_held(const struct ss_rpc_batch *b)
{
	return b != NULL ? sizeof(*b) + ss_rpc_stream_held(b->stream) : 0;
}

void
ss_rpc_batch_free(struct ss_rpc_batch *b)
{
	if (b != NULL)
		ss_rpc_stream_free(b->stream);
	free(b);
}

static void
batch_ws(const char *line, size_t len, size_t *off)
{
	while (*off < len && (line[*off] == ' ' || line[*off] == '\t' || line[*off] == '\r' ||
			      line[*off] == '\n'))
		(*off)++;
}

static int
batch_fail(struct ss_buf *out, int code, const char *msg)
{
	struct ss_err err;

	ss_err_init(&err);
	ss_err_set(&err, code, NULL, "%s", msg);
	reply_error(out, NULL, &err);
	ss_buf_addc(out, '\n');
	return 1;
}

/* Pass 0 over one element: 1 at the end of the array, 0 to go on, -1 on a
 * syntax error (its message in perr). */
static int
batch_validate_one(struct ss_rpc_batch *b, const char *line, size_t len, char *perr,
		   size_t perrlen)
{
	batch_ws(line, len, &b->off);
	if (b->n == 0 && b->off < len && line[b->off] == ']')
		goto end;
	if (ss_json_skip_at(line, len, &b->off, perr, perrlen) < 0)
		return -1;
	b->n++;
	batch_ws(line, len, &b->off);
	if (b->off < len && line[b->off] == ',') {
		b->off++;
		return 0;
	}
	if (b->off < len && line[b->off] == ']')
		goto end;
	snprintf(perr, perrlen, "byte %zu: %s", b->off,
		 b->off < len ? "expected ',' or ']'" : "unexpected end of input");
	return -1;
end:
	b->off++;
	batch_ws(line, len, &b->off);
	if (b->off != len) {
		snprintf(perr, perrlen, "byte %zu: trailing characters after the value", b->off);
		return -1;
	}
	return 1;
}

int
ss_rpc_batch_step(struct ss_ctl *ctl, struct ss_rpc_batch *b, const char *line, size_t len,
		  struct ss_buf *out, size_t out_limit, uint64_t deadline_ns)
{
	char perr[160], msg[200];
	unsigned k = 0;

	while (b->pass == 0) {
		int rc = batch_validate_one(b, line, len, perr, sizeof(perr));

		if (rc < 0) {
			snprintf(msg, sizeof(msg), "parse error: %s", perr);
			return batch_fail(out, SS_RPC_PARSE_ERROR, msg);
		}
		if (rc > 0) {
			if (b->n == 0)
				return batch_fail(out, SS_RPC_INVALID_REQUEST, "empty batch");
			b->pass = 1;
			b->n = 0;
			b->off = 0;
			batch_ws(line, len, &b->off);
			b->off++;   /* '[' */
			break;
		}
		if ((++k & 63) == 0 && ss_now_ns() >= deadline_ns)
			return 0;
	}
	for (;;) {
		json_t *req;
		size_t mark = out->len;

		if (b->stream != NULL) {
			int rc = ss_rpc_stream_step(ctl, b->stream, out, out_limit, deadline_ns);

			if (rc == 0)
				return 0;
			ss_rpc_stream_free(b->stream);
			b->stream = NULL;
			if (rc < 0)
				return -1;
			goto next;
		}
		/* validated: an element, then ',' or ']' */
		req = ss_json_parse_at(line, len, &b->off, perr, sizeof(perr));
		if (req == NULL) {
			/* validated already: only ENOMEM; the rest of the batch is lost */
			if (b->replies == 0)
				return batch_fail(out, SS_RPC_INTERNAL, "out of memory");
			ss_buf_add(out, "]\n", 2);
			return 1;
		}
		ss_buf_addc(out, b->replies ? ',' : '[');
		if (handle_one(ctl, req, NULL, 0, out, &b->stream))
			b->replies++;
		else
			out->len = mark;
		json_decref(req);
		if (b->stream != NULL)
			continue;
next:
		b->n++;
		batch_ws(line, len, &b->off);
		if (line[b->off++] == ']') {
			if (b->replies)
				ss_buf_add(out, "]\n", 2);
			return 1;
		}
		if (out->len >= out_limit || ss_now_ns() >= deadline_ns)
			return 0;
	}
}

char *
ss_rpc_handle(struct ss_ctl *ctl, const char *line, size_t len)
{
	struct ss_buf out;
	struct ss_err err;
	char perr[160];
	const char *raw;
	size_t rawlen;
	struct ss_rpc_batch *b = ss_rpc_batch_new(line, len);
	json_t *req;

	ss_buf_init(&out);
	if (b != NULL) {
		int rc;

		while ((rc = ss_rpc_batch_step(ctl, b, line, len, &out, SIZE_MAX, UINT64_MAX)) == 0)
			;
		ss_rpc_batch_free(b);
		if (rc < 0) {
			out.len = 0;
			out.oom = false;
			batch_fail(&out, SS_RPC_INTERNAL, "out of memory");
		}
		if (out.len == 0) {
			ss_buf_free(&out);
			return NULL;
		}
		out.len--;   /* the newline */
		return ss_buf_steal(&out);
	}
	req = ss_json_parse_lazy(line, len, &raw, &rawlen, perr, sizeof(perr));
	ss_err_init(&err);
	if (req == NULL) {
		ss_err_set(&err, SS_RPC_PARSE_ERROR, NULL, "parse error: %s", perr);
		reply_error(&out, NULL, &err);
	} else if (handle_one(ctl, req, raw, rawlen, &out, NULL) == 0) {
		json_decref(req);
		ss_buf_free(&out);
		return NULL;
	}
	json_decref(req);
	return ss_buf_steal(&out);
}

int
ss_rpc_handle_into(struct ss_ctl *ctl, const char *line, size_t len, struct ss_buf *out,
		   struct ss_rpc_stream **stream)
{
	struct ss_err err;
	char perr[160];
	const char *raw;
	size_t rawlen;
	json_t *req;
	int rc = 1;

	*stream = NULL;
	req = ss_json_parse_lazy(line, len, &raw, &rawlen, perr, sizeof(perr));
	if (req == NULL) {
		ss_err_init(&err);
		ss_err_set(&err, SS_RPC_PARSE_ERROR, NULL, "parse error: %s", perr);
		reply_error(out, NULL, &err);
	} else {
		rc = handle_one(ctl, req, raw, rawlen, out, stream);
	}
	json_decref(req);
	if (*stream != NULL)
		(*stream)->newline = true;
	else if (rc)
		ss_buf_addc(out, '\n');
	return rc;
}
