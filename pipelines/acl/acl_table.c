/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The ACL table: acl_group / acl_rule / eni objects -> struct ss_acl_state.
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

struct prep {
	struct ss_acl_table *t;
	const struct ss_acl_store_ops *ops;
	json_t *touched;      /* set of group names */
	json_t *gindex;       /* group name -> index in g[] */
	struct gbuild *g;
	uint32_t ng, gcap;
	struct {
		int idx;
		const json_t *obj;
	} *eni;
	uint32_t neni, ecap;
	int rc;
	char *err;
	size_t errlen;
};

static int collect_group(void *arg, const json_t *obj)
{
	struct prep *p = arg;
	const char *name = json_string_value(json_object_get(obj, "name"));
	const char *fam = json_string_value(json_object_get(obj, "family"));
	struct ss_acl_group *old;
	struct gbuild *b;

	if (name == NULL || fam == NULL || strlen(name) >= SS_ACL_NAME_MAX) {
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
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->v6 = strcmp(fam, "ipv6") == 0;
	old = find_group(p->t->cur, name);
	if (old != NULL && old->v6 == b->v6 && json_object_get(p->touched, name) == NULL)
		b->reuse = old;
	if (json_object_set_new(p->gindex, name, json_integer(p->ng)) < 0)
		return p->rc = -ENOMEM;
	p->ng++;
	return 0;
}

static int collect_rule(void *arg, const json_t *obj)
{
	struct prep *p = arg;
	const char *group = json_string_value(json_object_get(obj, "group"));
	const json_t *gi = group ? json_object_get(p->gindex, group) : NULL;
	struct ss_acl_rule *r;
	struct gbuild *b;
	char msg[200];

	if (gi == NULL)
		return 0;   /* the store guarantees the group; nothing to build */
	b = &p->g[json_integer_value(gi)];
	if (b->reuse != NULL)
		return 0;
	r = ss_acl_rule_parse(obj, b->v6, msg, sizeof(msg));
	if (r == NULL) {
		snprintf(p->err, p->errlen, "acl_rule %s/%lld: %s", group,
			 (long long)json_integer_value(json_object_get(obj, "priority")), msg);
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

/* ENI objects are kept until the bindings are built (they come from the
 * store, which may materialise them for the duration of the callback). */
static int collect_eni(void *arg, const json_t *obj)
{
	struct prep *p = arg;
	const char *name = json_string_value(json_object_get(obj, "name"));
	int idx = name ? p->ops->eni_index(p->ops->arg, name) : -1;

	if (idx < 0) {
		snprintf(p->err, p->errlen, "eni %s: no ENI index (overlay table)",
			 name ? name : "?");
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
	/* the store may hand out transient objects: keep a reference */
	p->eni[p->neni].idx = idx;
	p->eni[p->neni].obj = json_incref((json_t *)obj);
	p->neni++;
	return 0;
}

static int cmp_group_name(const void *a, const void *b)
{
	return strcmp((*(struct ss_acl_group *const *)a)->name,
		      (*(struct ss_acl_group *const *)b)->name);
}

/* Does this transaction concern the ACL table, and which groups? */
static int scan_changes(struct prep *p, const struct ss_change *ch, size_t n)
{
	int relevant = 0;

	for (size_t i = 0; i < n; i++) {
		const char *key = NULL;

		if (strcmp(ch[i].type, "acl_group") == 0)
			key = "name";
		else if (strcmp(ch[i].type, "acl_rule") == 0)
			key = "group";
		else if (strcmp(ch[i].type, "eni") == 0)
			relevant = 1;
		if (key == NULL)
			continue;
		relevant = 1;
		for (int k = 0; k < 2; k++) {
			const json_t *o = k ? ch[i].old : ch[i].obj;
			const char *g = o ? json_string_value(json_object_get(o, key)) : NULL;

			if (g != NULL && json_object_set_new(p->touched, g, json_true()) < 0)
				return -ENOMEM;
		}
	}
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
		const json_t *obj = p->eni[i].obj;
		const char *name = json_string_value(json_object_get(obj, "name"));
		const json_t *acl = json_object_get(obj, "acl");
		uint32_t idx = (uint32_t)p->eni[i].idx;
		struct ss_acl_binding *b = &st->bind_w[idx];
		const struct ss_acl_binding *ob = NULL;

		if (st->bind_name[idx][0] != '\0') {
			snprintf(p->err, p->errlen, "eni %s and eni %s have the same index %u",
				 st->bind_name[idx], name, idx);
			return -EINVAL;
		}
		snprintf(st->bind_name[idx], SS_ACL_NAME_MAX, "%s", name);
		for (unsigned int s = 0; s < SS_ACL_SLOTS; s++) {
			const json_t *list = acl ? json_object_get(acl, slot_names[s]) : NULL;
			size_t k;

			if (json_array_size(list) > SS_ACL_MAX_STAGES) {
				snprintf(p->err, p->errlen, "eni %s: acl.%s: at most %d stages", name,
					 slot_names[s], SS_ACL_MAX_STAGES);
				return -EINVAL;
			}
			for (k = 0; k < json_array_size(list); k++) {
				const char *gname = json_string_value(json_array_get(list, k));
				const struct ss_acl_group *g = gname ? find_group(st, gname) : NULL;

				if (g == NULL) {
					snprintf(p->err, p->errlen, "eni %s: acl.%s[%zu]: no acl_group %s",
						 name, slot_names[s], k, gname ? gname : "?");
					return -ENOENT;
				}
				if (g->v6 != (s >= SS_ACL_OUTBOUND_V6)) {
					snprintf(p->err, p->errlen,
						 "eni %s: acl.%s[%zu]: acl_group %s is of the other family",
						 name, slot_names[s], k, gname);
					return -EINVAL;
				}
				b->stage[s][k] = g;
			}
			b->nstages[s] = (uint8_t)k;
		}
		if (cur != NULL && idx < cur->nb_bind && strcmp(cur->bind_name[idx], name) == 0)
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
	p.touched = json_object();
	p.gindex = json_object();
	if (p.touched == NULL || p.gindex == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = scan_changes(&p, changes, n);
	if (rc <= 0)
		goto out;   /* nothing for us (0) or -ENOMEM */
	if ((rc = ops->foreach(ops->arg, "acl_group", collect_group, &p)) != 0 ||
	    (rc = ops->foreach(ops->arg, "acl_rule", collect_rule, &p)) != 0 ||
	    (rc = ops->foreach(ops->arg, "eni", collect_eni, &p)) != 0) {
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
	for (i = 0; i < p.neni; i++)
		json_decref((json_t *)p.eni[i].obj);
	free(p.eni);
	json_decref(p.touched);
	json_decref(p.gindex);
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
