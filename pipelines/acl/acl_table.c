/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The ACL table: acl_group / acl_rule / eni records -> struct ss_acl_state.
 *
 * prepare() (control thread, may fail)
 *   - finds the groups this transaction touched (an acl_group or acl_rule
 *     change names them), recompiles those from the store and reuses every
 *     other compiled group of the published state as is;
 *   - rebuilds the per-ENI binding array (index = overlay's ENI index) and
 *     gives an ENI a new generation when its stage list, as group pointers,
 *     differs from the published one (a recompiled group is a new pointer);
 *     an ENI whose policy did not change keeps its generation, so its flows
 *     are not re-checked for nothing.
 * commit()  one pointer store (release).
 * reclaim() after the grace period: carries the hit counters of replaced
 *   groups over to their successors (same group name, same priority), frees
 *   the groups no longer referenced and the old state.
 * abort()   frees what prepare built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/acl/acl.h"
#include "pipelines/overlay/ovl_types.h"

struct ss_acl_table *ss_acl_main;

struct ss_acl_table {
	struct ss_acl_state *cur;      /* published; dataplane: ro */
	struct ss_acl_state *pending;  /* built by prepare */
	struct ss_acl_state *old;      /* replaced by commit, freed by reclaim */
	unsigned int nb_workers;
	uint32_t gen_counter;          /* last generation handed out */
};

static const char *const slot_names[SS_ACL_SLOTS] = {
	[SS_ACL_OUTBOUND_V4] = "outbound_v4",
	[SS_ACL_INBOUND_V4] = "inbound_v4",
	[SS_ACL_OUTBOUND_V6] = "outbound_v6",
	[SS_ACL_INBOUND_V6] = "inbound_v6",
};

struct ss_acl_table *ss_acl_table_create(void)
{
	struct ss_acl_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->nb_workers = 1;
	t->cur = calloc(1, sizeof(*t->cur));
	if (t->cur == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void ss_acl_table_set_workers(struct ss_acl_table *t, unsigned int nb_workers)
{
	t->nb_workers = nb_workers ? nb_workers : 1;
}

const struct ss_acl_state *ss_acl_table_state(const struct ss_acl_table *t)
{
	return __atomic_load_n(&t->cur, __ATOMIC_ACQUIRE);
}

int ss_acl_state_eni_index(const struct ss_acl_state *st, const char *name)
{
	for (uint32_t i = 0; st != NULL && i < st->nb_bind; i++)
		if (strcmp(st->bind_name[i], name) == 0)
			return (int)i;
	return -1;
}

static struct ss_acl_group *find_group(const struct ss_acl_state *st, const char *name)
{
	uint32_t lo = 0, hi = st ? st->nb_groups : 0;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = strcmp(st->groups[mid]->name, name);

		if (c == 0)
			return st->groups[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void state_free_shell(struct ss_acl_state *st)
{
	if (st == NULL)
		return;
	free(st->bind_w);
	free(st->bind_name);
	free(st->groups);
	free(st);
}

/* Free the groups of `st` that `keep` does not reference, then `st`. */
static void state_free_except(struct ss_acl_state *st, const struct ss_acl_state *keep)
{
	if (st == NULL)
		return;
	for (uint32_t i = 0; i < st->nb_groups; i++)
		if (find_group(keep, st->groups[i]->name) != st->groups[i])
			ss_acl_group_free(st->groups[i]);
	state_free_shell(st);
}

void ss_acl_table_destroy(struct ss_acl_table *t)
{
	if (t == NULL)
		return;
	ss_acl_table_abort(t);
	ss_acl_table_reclaim(t);
	state_free_except(t->cur, NULL);
	free(t);
}

/* ---- prepare --------------------------------------------------------------- */

struct gbuild {
	char name[SS_ACL_NAME_MAX];
	int v6;
	struct ss_acl_group *reuse;   /* unchanged: the published group */
	struct ss_acl_rule **rules;
	uint32_t nrules, cap;
};

/* An ENI's bindings, its groups as indexes in the (sorted) g[] */
struct ebuild {
	int idx;
	char name[SS_ACL_NAME_MAX];
	uint8_t n[SS_ACL_SLOTS];
	uint32_t g[SS_ACL_SLOTS][SS_ACL_MAX_STAGES];
};

struct prep {
	struct ss_acl_table *t;
	const struct ss_acl_store_ops *ops;
	char (*touched)[SS_ACL_NAME_MAX];  /* group names, sorted */
	uint32_t ntouched, tcap;
	struct gbuild *g;                  /* sorted by name once collected */
	uint32_t ng, gcap;
	struct ebuild *eni;
	uint32_t neni, ecap;
	int rc;
	char *err;
	size_t errlen;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);   /* names first in both element types */
}

static int touched(const struct prep *p, const char *name)
{
	return p->ntouched != 0 &&
	       bsearch(name, p->touched, p->ntouched, sizeof(*p->touched), cmp_name) != NULL;
}

/* index in g[] of a collected group, -1 if none */
static int gindex(const struct prep *p, const char *name)
{
	const struct gbuild *b = p->ng ? bsearch(name, p->g, p->ng, sizeof(*p->g), cmp_name) : NULL;

	return b != NULL ? (int)(b - p->g) : -1;
}

static int collect_group(void *arg, const void *rec)
{
	const struct ss_acl_group_rec *gr = rec;
	struct prep *p = arg;
	struct ss_acl_group *old;
	struct gbuild *b;

	if (gr->name[0] == '\0' || strlen(gr->name) >= SS_ACL_NAME_MAX ||
	    (gr->family != SS_ACL_IPV4 && gr->family != SS_ACL_IPV6)) {
		snprintf(p->err, p->errlen, "acl_group without a valid name or family");
		return p->rc = -EINVAL;
	}
	if (p->ng == p->gcap) {
		uint32_t cap = p->gcap ? 2 * p->gcap : 16;
		struct gbuild *g = realloc(p->g, cap * sizeof(*g));

		if (g == NULL)
			return p->rc = -ENOMEM;
		p->g = g;
		p->gcap = cap;
	}
	b = &p->g[p->ng];
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", gr->name);
	b->v6 = gr->family == SS_ACL_IPV6;
	old = find_group(p->t->cur, gr->name);
	if (old != NULL && old->v6 == b->v6 && !touched(p, gr->name))
		b->reuse = old;
	p->ng++;
	return 0;
}

static int collect_rule(void *arg, const void *rec)
{
	const struct ss_acl_rule_rec *rr = rec;
	struct prep *p = arg;
	int gi = gindex(p, rr->group);
	struct ss_acl_rule *r;
	struct gbuild *b;
	char msg[200];

	if (gi < 0)
		return 0;   /* the store guarantees the group; nothing to build */
	b = &p->g[gi];
	if (b->reuse != NULL)
		return 0;
	r = ss_acl_rule_parse(rr, b->v6, msg, sizeof(msg));
	if (r == NULL) {
		snprintf(p->err, p->errlen, "acl_rule %s/%u: %s", rr->group, rr->priority, msg);
		return p->rc = -EINVAL;
	}
	if (b->nrules == b->cap) {
		uint32_t cap = b->cap ? 2 * b->cap : 16;
		struct ss_acl_rule **v = realloc(b->rules, cap * sizeof(*v));

		if (v == NULL) {
			free(r);
			return p->rc = -ENOMEM;
		}
		b->rules = v;
		b->cap = cap;
	}
	b->rules[b->nrules++] = r;
	return 0;
}

/* An ENI's stage lists, resolved to the collected groups (the record is
 * valid during the callback only). */
static int collect_eni(void *arg, const void *rec)
{
	const struct ss_eni_rec *er = rec;
	const uint32_t *nlist[SS_ACL_SLOTS] = {
		[SS_ACL_OUTBOUND_V4] = &er->acl.n_outbound_v4,
		[SS_ACL_INBOUND_V4] = &er->acl.n_inbound_v4,
		[SS_ACL_OUTBOUND_V6] = &er->acl.n_outbound_v6,
		[SS_ACL_INBOUND_V6] = &er->acl.n_inbound_v6,
	};
	const char (*list[SS_ACL_SLOTS])[SS_REC_NAME] = {
		[SS_ACL_OUTBOUND_V4] = er->acl.outbound_v4,
		[SS_ACL_INBOUND_V4] = er->acl.inbound_v4,
		[SS_ACL_OUTBOUND_V6] = er->acl.outbound_v6,
		[SS_ACL_INBOUND_V6] = er->acl.inbound_v6,
	};
	struct prep *p = arg;
	const char *name = er->name;
	int idx = name[0] ? p->ops->eni_index(p->ops->arg, name) : -1;
	struct ebuild *e;

	if (idx < 0) {
		snprintf(p->err, p->errlen, "eni %s: no ENI index (overlay table)",
			 name[0] ? name : "?");
		return p->rc = -ENOENT;
	}
	if (strlen(name) >= SS_ACL_NAME_MAX) {
		snprintf(p->err, p->errlen, "eni %s: name too long", name);
		return p->rc = -EINVAL;
	}
	if (p->neni == p->ecap) {
		uint32_t cap = p->ecap ? 2 * p->ecap : 16;
		void *v = realloc(p->eni, cap * sizeof(*p->eni));

		if (v == NULL)
			return p->rc = -ENOMEM;
		p->eni = v;
		p->ecap = cap;
	}
	e = &p->eni[p->neni];
	memset(e, 0, sizeof(*e));
	e->idx = idx;
	snprintf(e->name, sizeof(e->name), "%s", name);
	for (unsigned int s = 0; s < SS_ACL_SLOTS; s++) {
		uint32_t k;

		if (*nlist[s] > SS_ACL_MAX_STAGES) {
			snprintf(p->err, p->errlen, "eni %s: acl.%s: at most %d stages", name,
				 slot_names[s], SS_ACL_MAX_STAGES);
			return p->rc = -EINVAL;
		}
		for (k = 0; k < *nlist[s]; k++) {
			const char *gname = list[s][k];
			int gi = gindex(p, gname);

			if (gi < 0) {
				snprintf(p->err, p->errlen, "eni %s: acl.%s[%u]: no acl_group %s",
					 name, slot_names[s], k, gname[0] ? gname : "?");
				return p->rc = -ENOENT;
			}
			if (p->g[gi].v6 != (s >= SS_ACL_OUTBOUND_V6)) {
				snprintf(p->err, p->errlen,
					 "eni %s: acl.%s[%u]: acl_group %s is of the other family",
					 name, slot_names[s], k, gname);
				return p->rc = -EINVAL;
			}
			e->g[s][k] = (uint32_t)gi;
		}
		e->n[s] = (uint8_t)k;
	}
	p->neni++;
	return 0;
}

static int cmp_group_name(const void *a, const void *b)
{
	return strcmp((*(struct ss_acl_group *const *)a)->name,
		      (*(struct ss_acl_group *const *)b)->name);
}

static int touch(struct prep *p, const char *name)
{
	if (p->ntouched == p->tcap) {
		uint32_t cap = p->tcap ? 2 * p->tcap : 16;
		void *v = realloc(p->touched, cap * sizeof(*p->touched));

		if (v == NULL)
			return -ENOMEM;
		p->touched = v;
		p->tcap = cap;
	}
	snprintf(p->touched[p->ntouched++], SS_ACL_NAME_MAX, "%s", name);
	return 0;
}

/* Does this transaction concern the ACL table, and which groups? */
static int scan_changes(struct prep *p, const struct ss_change *ch, size_t n)
{
	int relevant = 0;

	for (size_t i = 0; i < n; i++) {
		const void *recs[2] = { ch[i].rec, ch[i].old_rec };

		if (ch[i].ty == &ss_type_eni)
			relevant = 1;
		if (ch[i].ty != &ss_type_acl_group && ch[i].ty != &ss_type_acl_rule)
			continue;
		relevant = 1;
		for (int k = 0; k < 2; k++) {
			const char *g;

			if (recs[k] == NULL)
				continue;
			g = ch[i].ty == &ss_type_acl_group
				    ? ((const struct ss_acl_group_rec *)recs[k])->name
				    : ((const struct ss_acl_rule_rec *)recs[k])->group;
			if (g[0] != '\0' && touch(p, g) != 0)
				return -ENOMEM;
		}
	}
	if (p->ntouched)
		qsort(p->touched, p->ntouched, sizeof(*p->touched), cmp_name);
	return relevant;
}

static int build_bindings(struct prep *p, struct ss_acl_state *st)
{
	const struct ss_acl_state *cur = p->t->cur;
	uint32_t nb = 0, i;

	for (i = 0; i < p->neni; i++)
		if ((uint32_t)p->eni[i].idx + 1 > nb)
			nb = (uint32_t)p->eni[i].idx + 1;
	st->nb_bind = nb;
	st->bind_w = calloc(nb ? nb : 1, sizeof(*st->bind_w));
	st->bind_name = calloc(nb ? nb : 1, sizeof(*st->bind_name));
	if (st->bind_w == NULL || st->bind_name == NULL)
		return -ENOMEM;
	st->bind = st->bind_w;
	for (i = 0; i < p->neni; i++) {
		const struct ebuild *e = &p->eni[i];
		uint32_t idx = (uint32_t)e->idx;
		struct ss_acl_binding *b = &st->bind_w[idx];
		const struct ss_acl_binding *ob = NULL;

		if (st->bind_name[idx][0] != '\0') {
			snprintf(p->err, p->errlen, "eni %s and eni %s have the same index %u",
				 st->bind_name[idx], e->name, idx);
			return -EINVAL;
		}
		snprintf(st->bind_name[idx], SS_ACL_NAME_MAX, "%s", e->name);
		/* st->groups[] is in g[]'s order: both sorted by name */
		for (unsigned int s = 0; s < SS_ACL_SLOTS; s++) {
			for (unsigned int k = 0; k < e->n[s]; k++)
				b->stage[s][k] = st->groups[e->g[s][k]];
			b->nstages[s] = e->n[s];
		}
		if (cur != NULL && idx < cur->nb_bind && strcmp(cur->bind_name[idx], e->name) == 0)
			ob = &cur->bind[idx];
		if (ob != NULL && memcmp(ob->nstages, b->nstages, sizeof(b->nstages)) == 0 &&
		    memcmp(ob->stage, b->stage, sizeof(b->stage)) == 0)
			b->gen = ob->gen;
		else
			b->gen = ++p->t->gen_counter;
	}
	return 0;
}

int ss_acl_table_prepare(struct ss_acl_table *t, const struct ss_acl_store_ops *ops,
			 const struct ss_change *changes, size_t n, char *err, size_t errlen)
{
	struct prep p = { .t = t, .ops = ops, .err = err, .errlen = errlen };
	struct ss_acl_state *st = NULL;
	uint32_t i;
	int rc;

	ss_acl_table_abort(t);
	rc = scan_changes(&p, changes, n);
	if (rc <= 0)
		goto out;   /* nothing for us (0) or -ENOMEM */
	if ((rc = ops->foreach(ops->arg, &ss_type_acl_group, collect_group, &p)) == 0) {
		/* rules and ENIs find their group by name */
		if (p.ng)
			qsort(p.g, p.ng, sizeof(*p.g), cmp_name);
		if ((rc = ops->foreach(ops->arg, &ss_type_acl_rule, collect_rule, &p)) == 0)
			rc = ops->foreach(ops->arg, &ss_type_eni, collect_eni, &p);
	}
	if (rc != 0) {
		rc = p.rc ? p.rc : rc < 0 ? rc : -EINVAL;
		goto out;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->groups = calloc(p.ng ? p.ng : 1, sizeof(*st->groups))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < p.ng; i++) {
		struct gbuild *b = &p.g[i];

		if (b->reuse != NULL) {
			st->groups[st->nb_groups++] = b->reuse;
			continue;
		}
		st->groups[st->nb_groups] = ss_acl_group_build(b->name, b->v6, b->rules, b->nrules,
							       t->nb_workers, &rc, err, errlen);
		if (st->groups[st->nb_groups] == NULL)
			goto out;
		st->nb_groups++;
	}
	qsort(st->groups, st->nb_groups, sizeof(*st->groups), cmp_group_name);
	rc = build_bindings(&p, st);
	if (rc < 0)
		goto out;
	st->gen = t->gen_counter;
	t->pending = st;
	st = NULL;
	rc = 0;
out:
	if (rc == -ENOMEM && err[0] == '\0')
		snprintf(err, errlen, "out of memory building the ACL state");
	if (st != NULL)
		state_free_except(st, t->cur);
	for (i = 0; i < p.ng; i++) {
		for (uint32_t k = 0; k < p.g[i].nrules; k++)
			free(p.g[i].rules[k]);
		free(p.g[i].rules);
	}
	free(p.g);
	free(p.eni);
	free(p.touched);
	return rc < 0 ? rc : 0;
}

void ss_acl_table_commit(struct ss_acl_table *t)
{
	/* the control plane calls reclaim() after every commit(), so t->old is
	 * NULL here */
	if (t->pending == NULL)
		return;
	t->old = t->cur;
	__atomic_store_n(&t->cur, t->pending, __ATOMIC_RELEASE);
	t->pending = NULL;
}

void ss_acl_table_abort(struct ss_acl_table *t)
{
	state_free_except(t->pending, t->cur);
	t->pending = NULL;
}

void ss_acl_table_reclaim(struct ss_acl_table *t)
{
	struct ss_acl_state *old = t->old;

	if (old == NULL)
		return;
	/* counters of a replaced group continue in its successor, by priority */
	for (uint32_t i = 0; i < old->nb_groups; i++) {
		const struct ss_acl_group *og = old->groups[i];
		struct ss_acl_group *ng = find_group(t->cur, og->name);
		uint32_t a = 0, b = 0;

		if (ng == NULL || ng == og)
			continue;
		while (a < og->nb_rules && b < ng->nb_rules) {
			if (og->action[a].priority < ng->action[b].priority) {
				a++;
			} else if (og->action[a].priority > ng->action[b].priority) {
				b++;
			} else {
				ng->base[b] += ss_acl_group_hits(og, a);
				a++;
				b++;
			}
		}
	}
	state_free_except(old, t->cur);
	t->old = NULL;
}

/* ---- stats ------------------------------------------------------------------ */

json_t *ss_acl_table_stats(const struct ss_acl_table *t)
{
	const struct ss_acl_state *st = t->cur;
	json_t *res = json_object();

	if (res == NULL)
		return NULL;
	for (uint32_t i = 0; st != NULL && i < st->nb_groups; i++) {
		const struct ss_acl_group *g = st->groups[i];
		json_t *o = json_object();
		char prio[16];

		if (o == NULL || json_object_set_new(res, g->name, o) < 0) {
			json_decref(res);
			return NULL;
		}
		for (uint32_t r = 0; r < g->nb_rules; r++) {
			snprintf(prio, sizeof(prio), "%u", g->action[r].priority);
			json_object_set_new(o, prio, json_integer((json_int_t)ss_acl_group_hits(g, r)));
		}
	}
	return res;
}

void ss_acl_table_stats_clear(struct ss_acl_table *t)
{
	const struct ss_acl_state *st = t->cur;

	for (uint32_t i = 0; st != NULL && i < st->nb_groups; i++) {
		struct ss_acl_group *g = st->groups[i];

		for (uint32_t r = 0; r < g->nb_rules; r++)
			g->base[r] -= ss_acl_group_hits(g, r);
	}
}
