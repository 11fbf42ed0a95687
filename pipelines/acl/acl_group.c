/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ACL groups compiled into rte_acl contexts, and the stage evaluation.
 *
 * Field layout (struct ss_acl_key, network byte order): protocol (one byte,
 * bitmask), source and destination address (IPv4: one 32-bit mask field
 * each; IPv6: four each), source and destination port (16-bit ranges,
 * sharing one 4-byte input group). A rule with lists becomes the cross
 * product of its list entries, all with userdata = rank + 1, where rank is
 * the rule's position by ascending priority number; the rte_acl priority is
 * RTE_ACL_MAX_PRIORITY - rank, so the lowest priority number wins as SPEC
 * 3.5 says (rte_acl prefers the highest).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_malloc.h>

#include "pipelines/acl/acl.h"

#define F4_NUM 5
#define F6_NUM 11

RTE_ACL_RULE_DEF(acl_rule4, F4_NUM);
RTE_ACL_RULE_DEF(acl_rule6, F6_NUM);

/* rules handed to rte_acl_add_rules at a time */
#define ADD_BATCH 256

static void field_defs(int v6, struct rte_acl_config *cfg)
{
	struct rte_acl_field_def *d = cfg->defs;
	unsigned int n = 0, i;
	uint32_t off_dst = v6 ? 20 : 8, off_ports = v6 ? 36 : 12;
	unsigned int words = v6 ? 4 : 1;

	memset(cfg, 0, sizeof(*cfg));
	d[n++] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_BITMASK,
					     .size = sizeof(uint8_t), .field_index = 0,
					     .input_index = 0, .offset = 0 };
	for (i = 0; i < words; i++, n++)
		d[n] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_MASK,
						   .size = sizeof(uint32_t), .field_index = (uint8_t)n,
						   .input_index = (uint8_t)n, .offset = 4 + 4 * i };
	for (i = 0; i < words; i++, n++)
		d[n] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_MASK,
						   .size = sizeof(uint32_t), .field_index = (uint8_t)n,
						   .input_index = (uint8_t)n,
						   .offset = off_dst + 4 * i };
	d[n] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_RANGE,
					   .size = sizeof(uint16_t), .field_index = (uint8_t)n,
					   .input_index = (uint8_t)n, .offset = off_ports };
	d[n + 1] = (struct rte_acl_field_def){ .type = RTE_ACL_FIELD_TYPE_RANGE,
					       .size = sizeof(uint16_t),
					       .field_index = (uint8_t)(n + 1),
					       .input_index = (uint8_t)n, .offset = off_ports + 2 };
	n += 2;
	cfg->num_fields = n;
	cfg->num_categories = 1;
}

/* Address fields of a prefix: `words` 32-bit values (host order) with the
 * mask length each word covers. */
static void prefix_fields(const struct ss_acl_prefix *p, unsigned int words,
			  struct rte_acl_field *f)
{
	for (unsigned int i = 0; i < words; i++) {
		int bits = (int)p->len - 32 * (int)i;

		bits = bits < 0 ? 0 : bits > 32 ? 32 : bits;
		f[i].value.u32 = (uint32_t)p->addr[4 * i] << 24 | (uint32_t)p->addr[4 * i + 1] << 16 |
				 (uint32_t)p->addr[4 * i + 2] << 8 | p->addr[4 * i + 3];
		f[i].mask_range.u32 = (uint32_t)bits;
	}
}

static int cmp_rule_prio(const void *a, const void *b)
{
	const struct ss_acl_rule *x = *(const struct ss_acl_rule *const *)a;
	const struct ss_acl_rule *y = *(const struct ss_acl_rule *const *)b;

	return x->priority < y->priority ? -1 : x->priority > y->priority;
}

/* Expand rule `r` of rank `rank` into ctx, batching. */
static int add_rule(struct rte_acl_ctx *ctx, int v6, const struct ss_acl_rule *r, uint32_t rank,
		    uint8_t *buf, uint32_t *nbuf, size_t rsz)
{
	static const struct ss_acl_prefix any_prefix = { .len = 0 };
	static const struct ss_acl_range any_range = { 0, 65535 };
	unsigned int words = v6 ? 4 : 1;
	uint32_t is, id, ip, isp, idp;
	uint32_t ns = r->nsrc ? r->nsrc : 1, nd = r->ndst ? r->ndst : 1;
	uint32_t np = r->nproto ? r->nproto : 1, nsp = r->nsport ? r->nsport : 1;
	uint32_t ndp = r->ndport ? r->ndport : 1;

	for (is = 0; is < ns; is++)
		for (id = 0; id < nd; id++)
			for (ip = 0; ip < np; ip++)
				for (isp = 0; isp < nsp; isp++)
					for (idp = 0; idp < ndp; idp++) {
						struct rte_acl_rule *ar =
							(struct rte_acl_rule *)(buf + *nbuf * rsz);
						struct rte_acl_field *f = ar->field;
						const struct ss_acl_range *sp =
							r->nsport ? &r->sport[isp] : &any_range;
						const struct ss_acl_range *dp =
							r->ndport ? &r->dport[idp] : &any_range;

						memset(ar, 0, rsz);
						ar->data.category_mask = 1;
						ar->data.priority =
							(int32_t)(RTE_ACL_MAX_PRIORITY - rank);
						ar->data.userdata = rank + 1;
						f[0].value.u8 = r->nproto ? r->proto[ip] : 0;
						f[0].mask_range.u8 = r->nproto ? 0xff : 0;
						prefix_fields(r->nsrc ? &r->src[is] : &any_prefix, words,
							      &f[1]);
						prefix_fields(r->ndst ? &r->dst[id] : &any_prefix, words,
							      &f[1 + words]);
						f[1 + 2 * words].value.u16 = sp->lo;
						f[1 + 2 * words].mask_range.u16 = sp->hi;
						f[2 + 2 * words].value.u16 = dp->lo;
						f[2 + 2 * words].mask_range.u16 = dp->hi;
						if (++*nbuf == ADD_BATCH) {
							int rc = rte_acl_add_rules(
								ctx, (struct rte_acl_rule *)buf, *nbuf);
							*nbuf = 0;
							if (rc != 0)
								return rc;
						}
					}
	return 0;
}

struct ss_acl_group *ss_acl_group_build(const char *name, int v6, struct ss_acl_rule *const *rules,
					uint32_t n, unsigned int nb_workers, int *rc, char *err,
					size_t errlen)
{
	static uint32_t ctx_seq;   /* rte_acl names must be unique */
	size_t rsz = v6 ? sizeof(struct acl_rule6) : sizeof(struct acl_rule4);
	struct ss_acl_rule **sorted = NULL;
	struct ss_acl_action *action = NULL;
	struct ss_acl_group *g = NULL;
	uint8_t *buf = NULL;
	uint64_t total = 0;
	uint32_t i, nbuf = 0;

	*rc = -ENOMEM;
	if (nb_workers == 0)
		nb_workers = 1;
	if (n >= RTE_ACL_MAX_PRIORITY) {
		*rc = -E2BIG;
		snprintf(err, errlen, "acl_group %s: too many rules", name);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	action = calloc(n ? n : 1, sizeof(*action));
	if (g == NULL || sorted == NULL || action == NULL)
		goto nomem;
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->v6 = (uint8_t)!!v6;
	g->nb_rules = n;
	if (n > 0)
		memcpy(sorted, rules, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_rule_prio);
	for (i = 0; i < n; i++) {
		if (i > 0 && sorted[i]->priority == sorted[i - 1]->priority) {
			*rc = -EINVAL;
			snprintf(err, errlen, "acl_group %s: priority %u appears twice", name,
				 sorted[i]->priority);
			goto fail;
		}
		action[i].priority = sorted[i]->priority;
		action[i].allow = sorted[i]->allow;
		action[i].terminating = sorted[i]->terminating;
		total += ss_acl_rule_expansion(sorted[i]);
		if (total > SS_ACL_MAX_EXPANDED) {
			*rc = -E2BIG;
			snprintf(err, errlen,
				 "acl_group %s: rule %u takes the group past %u classifier entries "
				 "(each rule counts src x dst x protocols x src_ports x dst_ports)",
				 name, sorted[i]->priority, SS_ACL_MAX_EXPANDED);
			goto fail;
		}
	}
	g->action = action;
	action = NULL;
	g->expanded = total;
	g->nb_workers = nb_workers;
	g->stride = RTE_ALIGN_CEIL(n ? n : 1, RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
	g->hits = rte_zmalloc("ss_acl_hits", (size_t)nb_workers * g->stride * sizeof(uint64_t),
			      RTE_CACHE_LINE_SIZE);
	g->base = calloc(n ? n : 1, sizeof(*g->base));
	if (g->hits == NULL || g->base == NULL)
		goto nomem;
	if (n > 0) {
		struct rte_acl_param prm = {
			.socket_id = SOCKET_ID_ANY,
			.rule_size = (uint32_t)RTE_ACL_RULE_SZ(v6 ? F6_NUM : F4_NUM),
			.max_rule_num = (uint32_t)total,
		};
		struct rte_acl_config cfg;
		char ctx_name[RTE_ACL_NAMESIZE];
		int r;

		snprintf(ctx_name, sizeof(ctx_name), "ssacl%u",
			 __atomic_fetch_add(&ctx_seq, 1, __ATOMIC_RELAXED));
		prm.name = ctx_name;
		g->ctx = rte_acl_create(&prm);
		buf = malloc(ADD_BATCH * rsz);
		if (g->ctx == NULL || buf == NULL)
			goto nomem;
		for (i = 0; i < n; i++) {
			r = add_rule(g->ctx, v6, sorted[i], i, buf, &nbuf, rsz);
			if (r != 0)
				goto acl_fail;
		}
		if (nbuf > 0 && (r = rte_acl_add_rules(g->ctx, (struct rte_acl_rule *)buf, nbuf)) != 0)
			goto acl_fail;
		field_defs(v6, &cfg);
		r = rte_acl_build(g->ctx, &cfg);
		if (r != 0) {
		acl_fail:
			*rc = r < 0 ? r : -EINVAL;
			snprintf(err, errlen, "acl_group %s: cannot compile %" PRIu64
				 " classifier entries: %s", name, total, strerror(-*rc));
			goto fail;
		}
	}
	free(buf);
	free(sorted);
	*rc = 0;
	return g;
nomem:
	*rc = -ENOMEM;
	snprintf(err, errlen, "acl_group %s: out of memory", name);
fail:
	free(buf);
	free(sorted);
	free(action);
	ss_acl_group_free(g);
	return NULL;
}

void ss_acl_group_free(struct ss_acl_group *g)
{
	if (g == NULL)
		return;
	rte_acl_free(g->ctx);
	rte_free(g->hits);
	free(g->base);
	free((void *)(uintptr_t)g->action);
	free(g);
}

uint64_t ss_acl_group_hits(const struct ss_acl_group *g, uint32_t rank)
{
	uint64_t sum = g->base[rank];

	for (uint32_t w = 0; w < g->nb_workers; w++)
		sum += __atomic_load_n(&g->hits[(size_t)w * g->stride + rank], __ATOMIC_RELAXED);
	return sum;
}

/* ---- evaluation ------------------------------------------------------------ */

#define EVAL_BURST 256

/* Per-request evaluation state. */
enum { REM_NONE = 0, REM_ALLOW, REM_DENY };

static void classify_chunk(const struct ss_acl_state *st, unsigned int worker,
			   const struct ss_acl_req *req, uint32_t n, uint8_t *allow,
			   struct ss_acl_decided *dec)
{
	const struct ss_acl_binding *b[EVAL_BURST];
	uint8_t slot[EVAL_BURST], done[EVAL_BURST], rem[EVAL_BURST];
	uint16_t pend[EVAL_BURST], sel[EVAL_BURST];
	const uint8_t *data[EVAL_BURST];
	uint32_t res[EVAL_BURST];
	uint32_t i, npend = 0;

	for (i = 0; i < n; i++) {
		uint32_t eni = req[i].eni;

		slot[i] = (uint8_t)ss_acl_slot(req[i].dir, req[i].key->v6);
		b[i] = st != NULL && eni < st->nb_bind ? &st->bind[eni] : NULL;
		rem[i] = REM_NONE;
		/* no stage bound for this direction and family: allow */
		done[i] = b[i] == NULL || b[i]->nstages[slot[i]] == 0;
		allow[i] = 1;
		if (dec != NULL)
			memset(&dec[i], 0, sizeof(dec[i]));
		if (!done[i])
			pend[npend++] = (uint16_t)i;
	}
	for (unsigned int s = 0; s < SS_ACL_MAX_STAGES && npend > 0; s++) {
		uint32_t left = 0;

		/* requests whose binding has a stage s */
		for (i = 0; i < npend; i++)
			if (b[pend[i]]->nstages[slot[pend[i]]] > s)
				pend[left++] = pend[i];
		npend = left;
		/* one classify call per distinct group of this stage */
		uint16_t q[EVAL_BURST], next[EVAL_BURST];
		uint32_t npass = npend, nnext;

		memcpy(q, pend, npend * sizeof(q[0]));
		while (npass > 0) {
			const struct ss_acl_group *g = b[q[0]]->stage[slot[q[0]]][s];
			uint32_t k = 0;

			nnext = 0;
			for (i = 0; i < npass; i++) {
				uint16_t r = q[i];

				if (b[r]->stage[slot[r]][s] == g) {
					sel[k] = r;
					data[k++] = (const uint8_t *)req[r].key;
				} else {
					next[nnext++] = r;
				}
			}
			if (g->ctx != NULL)
				rte_acl_classify(g->ctx, data, res, k, 1);
			else
				memset(res, 0, k * sizeof(res[0]));
			for (i = 0; i < k; i++) {
				uint16_t r = sel[i];

				if (res[i] == 0) {
					/* a bound stage without a match: terminating deny */
					done[r] = 1;
					allow[r] = 0;
					continue;
				}
				const struct ss_acl_action *a = &g->action[res[i] - 1];

				if (likely(worker < g->nb_workers))
					g->hits[(size_t)worker * g->stride + res[i] - 1]++;
				if (dec != NULL)
					dec[r].rule[s] = res[i];
				if (a->terminating) {
					done[r] = 1;
					allow[r] = a->allow;
				} else {
					rem[r] = a->allow ? REM_ALLOW : REM_DENY;
				}
			}
			memcpy(q, next, nnext * sizeof(next[0]));
			npass = nnext;
		}
		/* keep the undecided ones for the next stage */
		left = 0;
		for (i = 0; i < npend; i++)
			if (!done[pend[i]])
				pend[left++] = pend[i];
		npend = left;
	}
	/* every bound stage matched a non-terminating rule: the last one stands */
	for (i = 0; i < n; i++)
		if (!done[i])
			allow[i] = rem[i] == REM_ALLOW;
}

void ss_acl_classify_burst_dec(const struct ss_acl_state *st, unsigned int worker,
			       const struct ss_acl_req *req, uint32_t n, uint8_t *allow,
			       struct ss_acl_decided *dec)
{
	while (n > 0) {
		uint32_t k = n > EVAL_BURST ? EVAL_BURST : n;

		classify_chunk(st, worker, req, k, allow, dec);
		req += k;
		allow += k;
		if (dec != NULL)
			dec += k;
		n -= k;
	}
}

void ss_acl_classify_burst(const struct ss_acl_state *st, unsigned int worker,
			   const struct ss_acl_req *req, uint32_t n, uint8_t *allow)
{
	ss_acl_classify_burst_dec(st, worker, req, n, allow, NULL);
}
