/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The committed state as txn ops (state.get and snapshots): objects are
 * emitted type by type in dependency order (store-t.h), each type as one
 * bulk `<type>.add {"entries": [...]}` op, so replaying the ops through
 * `txn` into an empty store rebuilds the same store. Objects are expanded
 * from their stored text (ss_schema_expand_text): no jansson tree is built.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/objects.h"
#include "control/ops.h"
#include "control/store.h"

#define FLUSH_AT (1u << 20)

static int
maybe_flush(struct ss_buf *b, int (*flush)(void *, struct ss_buf *), void *arg)
{
	if (flush == NULL || b->len < FLUSH_AT)
		return 0;
	return flush(arg, b);
}

int
ss_state_dump_ops(struct ss_ctl *ctl, struct ss_buf *b, bool sorted,
		  int (*flush)(void *arg, struct ss_buf *b), void *arg)
{
	struct ss_core *core = ss_core(ctl);
	int t, first_op = 1, rc = 0;

	ss_buf_addc(b, '[');
	for (t = 0; t < ss_ntypes && rc == 0; t++) {
		const struct ss_type *ty = ss_types[t];
		struct ss_node **v;
		size_t i, n;

		if (ss_store_nodes(&core->store, t, sorted, &v, &n) < 0)
			return -ENOMEM;
		if (n == 0)
			continue;
		if (ty->singleton) {
			struct ss_node *s = v[0];
			struct ss_buf d;
			bool dflt = false;

			/* settings equal to the config's defaults are not state */
			if (core->dflt[t] != NULL) {
				ss_buf_init(&d);
				ss_schema_dump_compact(&d, &ty->schema, core->dflt[t]);
				dflt = d.len == s->tlen && memcmp(d.p, ss_node_text(s), d.len) == 0;
				ss_buf_free(&d);
			}
			if (!dflt && s->tlen > 2) {   /* "[]": a switch never set */
				ss_buf_adds(b, first_op ? "{\"method\":\"" : ",{\"method\":\"");
				ss_buf_adds(b, ty->name);
				ss_buf_adds(b, (ty->methods & SS_TM_SET) ? ".set\",\"params\":" : "\",\"params\":");
				ss_schema_expand_text(b, &ty->schema, ss_node_text(s), s->tlen);
				ss_buf_addc(b, '}');
				first_op = 0;
			}
			free(v);
			continue;
		}
		ss_buf_adds(b, first_op ? "{\"method\":\"" : ",{\"method\":\"");
		first_op = 0;
		ss_buf_adds(b, ty->name);
		ss_buf_adds(b, ".add\",\"params\":{\"entries\":[");
		for (i = 0; i < n && rc == 0; i++) {
			if (i)
				ss_buf_addc(b, ',');
			ss_schema_expand_text(b, &ty->schema, ss_node_text(v[i]), v[i]->tlen);
			rc = maybe_flush(b, flush, arg);
		}
		ss_buf_adds(b, "]}}");
		free(v);
	}
	ss_buf_addc(b, ']');
	if (rc == 0 && b->oom)
		rc = -ENOMEM;
	return rc;
}
