/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Feature arcs: the registry and the finalize step (see arc.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_graph.h>
#include <rte_log.h>

#include "pipelines/common/arc.h"
#include "pipelines/drop/drop.h"

/* Registration order (constructors, then nothing): lists kept in order. */
static struct ss_arc *arcs;
static struct ss_arc_feature *features;
static bool finalized;

uint64_t ss_arc_skip_epoch = 1;   /* a zeroed memo entry (epoch 0) is stale */

bool ss_arc_skip_always(uint32_t eni)
{
	(void)eni;
	return true;
}

void ss_arc_register(struct ss_arc *arc)
{
	struct ss_arc **pp = &arcs;

	while (*pp)
		pp = &(*pp)->link;
	arc->link = NULL;
	*pp = arc;
}

void ss_arc_feature_register(struct ss_arc_feature *f)
{
	struct ss_arc_feature **pp = &features;

	while (*pp)
		pp = &(*pp)->link;
	f->link = NULL;
	*pp = f;
}

const struct ss_arc *ss_arc_lookup(const char *name)
{
	for (const struct ss_arc *a = arcs; a; a = a->link)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

unsigned int ss_arc_features(const char *arc, const struct ss_arc_feature **out, unsigned int max)
{
	unsigned int n = 0;

	for (const struct ss_arc_feature *f = features; f; f = f->link)
		if (strcmp(f->arc, arc) == 0) {
			if (n < max)
				out[n] = f;
			n++;
		}
	return n;
}

const struct ss_arc_feature *ss_arc_feature_lookup(const char *arc, const char *node)
{
	for (const struct ss_arc_feature *f = features; f; f = f->link)
		if (strcmp(f->arc, arc) == 0 && strcmp(f->node, node) == 0)
			return f;
	return NULL;
}

/* The edge from `from` to `to`: the existing one if `from` has it (static
 * edges, or added for another arc), else a new one. 0 or -errno. */
static int edge_to(const char *from, const char *to, uint8_t *edge)
{
	rte_node_t id = rte_node_from_name(from);
	const char *names[1] = { to };
	rte_edge_t n;

	if (id == RTE_NODE_ID_INVALID || rte_node_from_name(to) == RTE_NODE_ID_INVALID)
		return -ENOENT;
	n = rte_node_edge_count(id);
	if (n != RTE_EDGE_ID_INVALID && n > 0) {
		char *cur[n];

		if (rte_node_edge_get(id, cur) == n)
			for (rte_edge_t i = 0; i < n; i++)
				if (cur[i] != NULL && strcmp(cur[i], to) == 0) {
					if (i >= UINT8_MAX)
						return -ENOSPC;
					*edge = (uint8_t)i;
					return 0;
				}
	}
	if (rte_node_edge_update(id, RTE_EDGE_ID_INVALID, names, 1) == RTE_EDGE_ID_INVALID)
		return -ENOSPC;
	n = rte_node_edge_count(id);
	/* nodes keep their next[] in uint8_t, 0xff meaning "not decided yet" */
	if (n == 0 || n == RTE_EDGE_ID_INVALID || n - 1 >= UINT8_MAX)
		return -ENOSPC;
	*edge = (uint8_t)(n - 1);
	return 0;
}

struct arc_work {
	struct ss_arc *arc;
	struct ss_arc_feature *v[SS_ARC_MAX_FEATURES];  /* registration order, then sorted */
	unsigned int n;
	char *err;
	size_t errlen;
};

static int find(const struct arc_work *w, const char *node)
{
	for (unsigned int i = 0; i < w->n; i++)
		if (strcmp(w->v[i]->node, node) == 0)
			return (int)i;
	return -1;
}

/* before[i][j]: v[i] must come before v[j] */
static int constraints(struct arc_work *w, bool before[][SS_ARC_MAX_FEATURES])
{
	for (unsigned int i = 0; i < w->n; i++) {
		const struct ss_arc_feature *f = w->v[i];

		for (unsigned int k = 0; k < SS_ARC_MAX_CONSTRAINTS; k++) {
			const char *b = f->runs_before[k], *a = f->runs_after[k];
			int j;

			if (b != NULL) {
				j = find(w, b);
				if (j < 0 || j == (int)i)
					goto bad_before;
				before[i][j] = true;
			}
			if (a != NULL) {
				j = find(w, a);
				if (j < 0 || j == (int)i)
					goto bad_after;
				before[j][i] = true;
			}
			continue;
bad_before:
			snprintf(w->err, w->errlen,
				 "arc %s: %s runs before %s, which is not a feature on the arc",
				 w->arc->name, f->node, b);
			return -1;
bad_after:
			snprintf(w->err, w->errlen,
				 "arc %s: %s runs after %s, which is not a feature on the arc",
				 w->arc->name, f->node, a);
			return -1;
		}
	}
	return 0;
}

/* Stable topological sort of w->v: among the nodes free to go next, the
 * one registered first. */
static int order(struct arc_work *w)
{
	bool before[SS_ARC_MAX_FEATURES][SS_ARC_MAX_FEATURES] = { { false } };
	struct ss_arc_feature *out[SS_ARC_MAX_FEATURES];
	bool done[SS_ARC_MAX_FEATURES] = { false };

	if (constraints(w, before) != 0)
		return -1;
	for (unsigned int k = 0; k < w->n; k++) {
		int pick = -1;

		for (unsigned int i = 0; i < w->n && pick < 0; i++) {
			bool free_ = !done[i];
			for (unsigned int j = 0; j < w->n && free_; j++)
				if (!done[j] && before[j][i])
					free_ = false;
			if (free_)
				pick = (int)i;
		}
		if (pick < 0) {
			size_t len = 0;

			len += (size_t)snprintf(w->err, w->errlen,
						"arc %s: runs_before / runs_after form a cycle among",
						w->arc->name);
			for (unsigned int i = 0; i < w->n && len < w->errlen; i++)
				if (!done[i])
					len += (size_t)snprintf(w->err + len, w->errlen - len, " %s",
								w->v[i]->node);
			return -1;
		}
		done[pick] = true;
		out[k] = w->v[pick];
	}
	memcpy(w->v, out, w->n * sizeof(out[0]));
	return 0;
}

/* Where `from` sends packets when the features v[pos..] come next. */
static int build_next(struct arc_work *w, const char *from, unsigned int pos,
		      struct ss_arc_next *next)
{
	const struct ss_arc *a = w->arc;
	unsigned int k = 0;
	const char *to = NULL;
	int rc;

	memset(next, 0, sizeof(*next));
	for (unsigned int j = pos; j < w->n; j++) {
		to = w->v[j]->node;
		rc = edge_to(from, to, &next->hop[k].edge);
		if (rc != 0)
			goto fail;
		next->hop[k++].pf = w->v[j]->pf;
		if (w->v[j]->pf == 0)
			return 0;
	}
	to = a->end;
	rc = edge_to(from, to, &next->hop[k].edge);
	if (rc != 0)
		goto fail;
	if (strcmp(a->end, SS_NODE_DROP) == 0)
		next->hop[k].drop = a->end_drop;
	return 0;
fail:
	snprintf(w->err, w->errlen, "arc %s: cannot add the graph edge %s -> %s: %s", a->name, from,
		 to, strerror(-rc));
	return -1;
}

static void log_arc(const struct arc_work *w)
{
	char line[512];
	size_t len = 0;

	for (unsigned int s = 0; s < SS_ARC_MAX_STARTS && w->arc->start[s]; s++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", s ? ", " : "",
					w->arc->start[s]);
	for (unsigned int i = 0; i < w->n && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " -> %s%s", w->v[i]->node,
					w->v[i]->pf ? " (filtered)" : "");
	if (len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, " -> %s", w->arc->end);
	RTE_LOG(INFO, USER1, "arc %s: %s\n", w->arc->name, line);
}

static int finalize_arc(struct arc_work *w)
{
	struct ss_arc *a = w->arc;
	unsigned int s;

	if (a->end == NULL || rte_node_from_name(a->end) == RTE_NODE_ID_INVALID) {
		snprintf(w->err, w->errlen, "arc %s: end node %s is not registered", a->name,
			 a->end ? a->end : "(none)");
		return -1;
	}
	for (s = 0; s < SS_ARC_MAX_STARTS && a->start[s]; s++)
		if (rte_node_from_name(a->start[s]) == RTE_NODE_ID_INVALID) {
			snprintf(w->err, w->errlen, "arc %s: start node %s is not registered",
				 a->name, a->start[s]);
			return -1;
		}
	if (s == 0) {
		snprintf(w->err, w->errlen, "arc %s: no start node", a->name);
		return -1;
	}
	for (struct ss_arc_feature *f = features; f; f = f->link) {
		if (strcmp(f->arc, a->name) != 0)
			continue;
		if (rte_node_from_name(f->node) == RTE_NODE_ID_INVALID) {
			snprintf(w->err, w->errlen, "arc %s: feature node %s is not registered",
				 a->name, f->node);
			return -1;
		}
		bool is_start = false;
		for (s = 0; s < SS_ARC_MAX_STARTS && a->start[s]; s++)
			is_start |= strcmp(a->start[s], f->node) == 0;
		if (is_start || strcmp(a->end, f->node) == 0) {
			snprintf(w->err, w->errlen, "arc %s: %s is the arc's %s, not a feature on it",
				 a->name, f->node, is_start ? "start" : "end");
			return -1;
		}
		if (find(w, f->node) >= 0) {
			snprintf(w->err, w->errlen, "arc %s: %s is attached twice", a->name, f->node);
			return -1;
		}
		if (w->n == SS_ARC_MAX_FEATURES) {
			snprintf(w->err, w->errlen, "arc %s: more than %d features (%s)", a->name,
				 SS_ARC_MAX_FEATURES, f->node);
			return -1;
		}
		w->v[w->n++] = f;
	}
	if (order(w) != 0)
		return -1;
	for (s = 0; s < SS_ARC_MAX_STARTS && a->start[s]; s++)
		if (build_next(w, a->start[s], 0, &a->from[s]) != 0)
			return -1;
	for (unsigned int i = 0; i < w->n; i++)
		if (build_next(w, w->v[i]->node, i + 1, &w->v[i]->next) != 0)
			return -1;
	log_arc(w);
	return 0;
}

int ss_arc_finalize(struct ss_arc *arc, char *err, size_t errlen)
{
	struct arc_work w = { .arc = arc, .n = 0, .err = err, .errlen = errlen };

	return finalize_arc(&w);
}

int ss_arcs_finalize(char *err, size_t errlen)
{
	if (finalized)
		return 0;
	for (const struct ss_arc_feature *f = features; f; f = f->link)
		if (ss_arc_lookup(f->arc) == NULL) {
			snprintf(err, errlen, "arc %s: unknown arc (node %s attaches to it)", f->arc,
				 f->node);
			return -1;
		}
	for (struct ss_arc *a = arcs; a; a = a->link) {
		for (const struct ss_arc *b = arcs; b != a; b = b->link)
			if (strcmp(a->name, b->name) == 0) {
				snprintf(err, errlen, "arc %s: registered twice", a->name);
				return -1;
			}
		if (ss_arc_finalize(a, err, errlen) != 0)
			return -1;
	}
	finalized = true;
	return 0;
}
