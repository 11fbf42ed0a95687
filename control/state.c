/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The committed state as txn ops (state.get and snapshots): objects are
 * emitted type by type in dependency order (store-t.h), each type as one
 * bulk `<type>.add {"entries": [...]}` op, so replaying the ops through
 * `txn` into an empty store rebuilds the same store. Objects are expanded
 * from their stored text (ss_schema_expand_text): no jansson tree is built.
 *
 * A cursor takes the state when it is created (the node pointers of every
 * type, the store pinned: ss_store_pin) and writes it in steps, so a reply
 * of any size is written while the client reads it (rpc.c, server.c),
 * commits going on meanwhile, and never held whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/objects.h"
#include "control/ops.h"
#include "control/store.h"

#define FLUSH_AT (1u << 20)

struct ss_state_cursor {
	struct ss_store *store;      /* pinned */
	struct ss_node **v[SS_TYPES_MAX];
	size_t n[SS_TYPES_MAX];
	int t;                       /* type being written */
	size_t i;                    /* its next object */
	bool started, open, first_op;
};

struct ss_state_cursor *
ss_state_cursor_new(struct ss_ctl *ctl, bool sorted)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_state_cursor *c = calloc(1, sizeof(*c));
	int t;

	if (c == NULL)
		return NULL;
	c->store = &core->store;
	c->first_op = true;
	ss_store_pin(c->store);
	for (t = 0; t < ss_ntypes; t++)
		if (ss_store_nodes(c->store, t, sorted, &c->v[t], &c->n[t]) < 0) {
			ss_state_cursor_free(c);
			errno = ENOMEM;
			return NULL;
		}
	return c;
}

size_t
ss_state_cursor_held(const struct ss_state_cursor *c)
{
	size_t n = sizeof(*c);
	int t;

	for (t = 0; t < SS_TYPES_MAX; t++)
		n += c->n[t] * sizeof(c->v[t][0]);
	return n;
}

void
ss_state_cursor_free(struct ss_state_cursor *c)
{
	int t;

	if (c == NULL)
		return;
	for (t = 0; t < SS_TYPES_MAX; t++)
		free(c->v[t]);
	ss_store_unpin(c->store);
	free(c);
}

static void
op_head(struct ss_state_cursor *c, struct ss_buf *b, const char *name, const char *rest)
{
	ss_buf_adds(b, c->first_op ? "{\"method\":\"" : ",{\"method\":\"");
	c->first_op = false;
	ss_buf_adds(b, name);
	ss_buf_adds(b, rest);
}

/* A singleton (switch, flow config...): one op, unless it is the config's
 * defaults or a switch never set. */
static void
emit_singleton(struct ss_ctl *ctl, struct ss_state_cursor *c, struct ss_buf *b, int t)
{
	struct ss_core *core = ss_core(ctl);
	const struct ss_type *ty = ss_types[t];
	struct ss_node *s = c->v[t][0];
	struct ss_buf d;
	bool dflt = false;

	/* settings equal to the config's defaults are not state */
	if (core->dflt[t] != NULL) {
		ss_buf_init(&d);
		ss_schema_dump_compact(&d, &ty->schema, core->dflt[t]);
		dflt = d.len == s->tlen && memcmp(d.p, ss_node_text(s), d.len) == 0;
		ss_buf_free(&d);
	}
	if (dflt || s->tlen <= 2)   /* "[]": a switch never set */
		return;
	op_head(c, b, ty->name, (ty->methods & SS_TM_SET) ? ".set\",\"params\":" : "\",\"params\":");
	ss_schema_expand_text(b, &ty->schema, ss_node_text(s), s->tlen);
	ss_buf_addc(b, '}');
}

int
ss_state_cursor_step(struct ss_ctl *ctl, struct ss_state_cursor *c, struct ss_buf *b,
		     size_t limit, uint64_t deadline_ns)
{
	unsigned k = 0;

	if (!c->started) {
		ss_buf_addc(b, '[');
		c->started = true;
	}
	for (; c->t < ss_ntypes; c->t++, c->i = 0) {
		const struct ss_type *ty = ss_types[c->t];
		struct ss_node **v = c->v[c->t];

		if (c->n[c->t] == 0)
			continue;
		if (ty->singleton) {
			emit_singleton(ctl, c, b, c->t);
			continue;
		}
		if (!c->open) {
			op_head(c, b, ty->name, ".add\",\"params\":{\"entries\":[");
			c->open = true;
		}
		while (c->i < c->n[c->t]) {
			if (c->i)
				ss_buf_addc(b, ',');
			ss_schema_expand_text(b, &ty->schema, ss_node_text(v[c->i]), v[c->i]->tlen);
			c->i++;
			if (b->oom)
				return -ENOMEM;
			if (b->len >= limit || (deadline_ns != UINT64_MAX && (++k & 63) == 0 &&
						  ss_now_ns() >= deadline_ns))
				return 0;
		}
		ss_buf_adds(b, "]}}");
		c->open = false;
	}
	ss_buf_addc(b, ']');
	return b->oom ? -ENOMEM : 1;
}

int
ss_state_dump_ops(struct ss_ctl *ctl, struct ss_buf *b, bool sorted,
		  int (*flush)(void *arg, struct ss_buf *b), void *arg)
{
	struct ss_state_cursor *c = ss_state_cursor_new(ctl, sorted);
	int rc;

	if (c == NULL)
		return -ENOMEM;
	while ((rc = ss_state_cursor_step(ctl, c, b, flush ? FLUSH_AT : SIZE_MAX, UINT64_MAX)) == 0)
		if ((rc = flush(arg, b)) < 0)
			break;
	ss_state_cursor_free(c);
	return rc < 0 ? rc : 0;
}
