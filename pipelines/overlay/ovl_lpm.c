/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Double-buffered longest-prefix match (ovl_lpm.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "pipelines/overlay/ovl_lpm.h"

enum { TAG_SET = 1, TAG_DEL = 2 };

#define LPM_TBL8S_MIN 256
#define LPM_RULES_MIN 256
#define LPM_GROW_TRIES 12

struct long_key {
	uint16_t scope;
	uint8_t plen;
	uint8_t pad;
};

static bool is_long(const struct ovl_lpm_rule *r)
{
	return r->fam == 6 && r->plen >= OVL_LPM_LONG_MIN;
}

static void lpm_key(const struct ovl_lpm_rule *r, uint8_t key[16], uint8_t *depth)
{
	memset(key, 0, 16);
	key[0] = (uint8_t)(r->scope >> 8);
	key[1] = (uint8_t)r->scope;
	memcpy(key + 2, r->addr, r->fam == 4 ? 4 : 14);
	*depth = (uint8_t)(16 + r->plen);
}

int ovl_lpm_init(struct ovl_lpm *l)
{
	memset(l, 0, sizeof(*l));
	l->tbl8s = LPM_TBL8S_MIN;
	l->max_rules = LPM_RULES_MIN;
	ovl_kmap_init(&l->reg, sizeof(struct ovl_lpm_rule));
	ovl_kmap_init(&l->stage, sizeof(struct ovl_lpm_rule));
	ovl_kmap_init(&l->long_cnt, sizeof(struct long_key));
	ovl_kmap_init(&l->long_delta, sizeof(struct long_key));
	l->long_bits = rte_zmalloc("ss_ovl_lpm_bits", 65536 * sizeof(uint16_t), RTE_CACHE_LINE_SIZE);
	if (l->long_bits == NULL)
		return -ENOMEM;
	return ovl_hash_init(&l->lng, "lpmlong", sizeof(struct ovl_lpm_rule), 64);
}

void ovl_lpm_fini(struct ovl_lpm *l)
{
	ovl_hash_fini(&l->lng);
	rte_lpm6_free(l->live);
	rte_lpm6_free(l->shadow);
	rte_free(l->long_bits);
	ovl_kmap_free(&l->reg);
	ovl_kmap_free(&l->stage);
	ovl_kmap_free(&l->long_cnt);
	ovl_kmap_free(&l->long_delta);
	memset(l, 0, sizeof(*l));
}

int ovl_lpm_get(const struct ovl_lpm *l, const struct ovl_lpm_rule *r, uint32_t *nh)
{
	uint64_t v;
	uint8_t tag;

	if (is_long(r)) {
		if (!ovl_hash_get(&l->lng, r, &v, NULL))
			return 0;
	} else if (ovl_kmap_get(&l->stage, r, &v, &tag)) {
		if (tag == TAG_DEL)
			return 0;
	} else if (!ovl_kmap_get(&l->reg, r, &v, NULL)) {
		return 0;
	}
	if (nh)
		*nh = (uint32_t)v;
	return 1;
}

int ovl_lpm_set(struct ovl_lpm *l, const struct ovl_lpm_rule *r, uint32_t nh)
{
	if (nh > OVL_LPM_NH_MAX)
		return -ENOSPC;
	if (is_long(r))
		return ovl_hash_set(&l->lng, r, nh);
	return ovl_kmap_put(&l->stage, r, nh, TAG_SET);
}

int ovl_lpm_del(struct ovl_lpm *l, const struct ovl_lpm_rule *r)
{
	if (is_long(r))
		return ovl_hash_del(&l->lng, r);
	return ovl_kmap_put(&l->stage, r, 0, TAG_DEL);
}

/* ---- the shadow copy ------------------------------------------------------- */

static struct rte_lpm6 *lpm_create(struct ovl_lpm *l, uint32_t tbl8s, uint32_t rules)
{
	char name[RTE_LPM6_NAMESIZE];
	struct rte_lpm6_config cfg = { .max_rules = rules, .number_tbl8s = tbl8s };

	snprintf(name, sizeof(name), "ss_ovl_lpm%u", l->gen++);
	return rte_lpm6_create(name, (int)rte_socket_id(), &cfg);
}

/* Apply the committed rules then (when `stage`) the staged ones. */
static int lpm_fill(struct ovl_lpm *l, struct rte_lpm6 *t, bool stage)
{
	uint32_t pos = 0;
	const void *k;
	uint64_t v;
	uint8_t tag, key[16], depth;
	int rc;

	while (ovl_kmap_next(&l->reg, &pos, &k, &v, NULL)) {
		if (stage && ovl_kmap_get(&l->stage, k, NULL, NULL))
			continue;
		lpm_key(k, key, &depth);
		rc = rte_lpm6_add(t, key, depth, (uint32_t)v);
		if (rc < 0)
			return rc;
	}
	pos = 0;
	while (stage && ovl_kmap_next(&l->stage, &pos, &k, &v, &tag)) {
		if (tag != TAG_SET)
			continue;
		lpm_key(k, key, &depth);
		rc = rte_lpm6_add(t, key, depth, (uint32_t)v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Apply the staged rules to a copy that holds the committed ones: deletions
 * first, so the copy never holds more than the larger of the two states. */
static int lpm_apply_stage(struct ovl_lpm *l, struct rte_lpm6 *t)
{
	uint32_t pos = 0;
	const void *k;
	uint64_t v;
	uint8_t tag, key[16], depth;
	int rc;

	while (ovl_kmap_next(&l->stage, &pos, &k, &v, &tag)) {
		if (tag != TAG_DEL)
			continue;
		lpm_key(k, key, &depth);
		rte_lpm6_delete(t, key, depth); /* -ENOENT: a rule added and deleted */
	}
	pos = 0;
	while (ovl_kmap_next(&l->stage, &pos, &k, &v, &tag)) {
		if (tag != TAG_SET)
			continue;
		lpm_key(k, key, &depth);
		rc = rte_lpm6_add(t, key, depth, (uint32_t)v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static uint32_t rules_after(const struct ovl_lpm *l)
{
	uint32_t pos = 0, n = l->reg.n;
	const void *k;
	uint8_t tag;

	while (ovl_kmap_next(&l->stage, &pos, &k, NULL, &tag)) {
		int in_reg = ovl_kmap_get(&l->reg, k, NULL, NULL);
		if (tag == TAG_SET && !in_reg)
			n++;
		else if (tag == TAG_DEL && in_reg)
			n--;
	}
	return n;
}

static int prepare_shadow(struct ovl_lpm *l, char *err, size_t errlen)
{
	uint32_t need = rules_after(l);
	int rc = 0;

	/* rte_lpm6 also counts the rules being replaced while applying */
	while (l->max_rules < need + need / 4 + 16)
		l->max_rules *= 2;
	if (l->shadow && (l->shadow_tbl8s != l->tbl8s || l->shadow_rules != l->max_rules)) {
		rte_lpm6_free(l->shadow);
		l->shadow = NULL;
	}
	for (int tries = 0; tries < LPM_GROW_TRIES; tries++) {
		if (l->shadow == NULL) {
			l->shadow = lpm_create(l, l->tbl8s, l->max_rules);
			if (l->shadow == NULL) {
				snprintf(err, errlen, "cannot allocate a route table of %u tbl8 groups and "
					 "%u rules: %s", l->tbl8s, l->max_rules,
					 rte_strerror(rte_errno));
				return -ENOMEM;
			}
			l->shadow_tbl8s = l->tbl8s;
			l->shadow_rules = l->max_rules;
			l->shadow_stale = true;
		}
		if (l->shadow_stale) {
			rte_lpm6_delete_all(l->shadow);
			rc = lpm_fill(l, l->shadow, true);
		} else {
			rc = lpm_apply_stage(l, l->shadow);
		}
		/* the shadow now differs from the registry until commit */
		l->shadow_stale = true;
		if (rc == 0)
			return 0;
		if (rc != -ENOSPC)
			break;
		/* out of tbl8 groups: a bigger copy, rebuilt from scratch */
		rte_lpm6_free(l->shadow);
		l->shadow = NULL;
		l->tbl8s *= 2;
	}
	snprintf(err, errlen, "cannot add the routes: %s", strerror(-rc));
	return rc;
}

/* ---- transaction ------------------------------------------------------------ */

static int long_deltas(struct ovl_lpm *l)
{
	uint32_t pos = 0;
	const void *k;
	uint64_t v;
	bool del;

	while (ovl_hash_staged_next(&l->lng, &pos, &k, &v, &del)) {
		const struct ovl_lpm_rule *r = k;
		struct long_key lk = { .scope = r->scope, .plen = r->plen };
		int before = rte_hash_lookup(l->lng.live, r) >= 0;
		int64_t d = 0;
		uint64_t cur = 0;

		if (del && before)
			d = -1;
		else if (!del && !before)
			d = 1;
		if (d == 0)
			continue;
		ovl_kmap_get(&l->long_delta, &lk, &cur, NULL);
		if (ovl_kmap_put(&l->long_delta, &lk, (uint64_t)((int64_t)cur + d), 0) != 0)
			return -ENOMEM;
	}
	return ovl_kmap_reserve(&l->long_cnt, l->long_delta.n);
}

int ovl_lpm_finalize(struct ovl_lpm *l, char *err, size_t errlen)
{
	int rc;

	if (ovl_hash_dirty(&l->lng)) {
		rc = ovl_hash_finalize(&l->lng);
		if (rc == 0)
			rc = long_deltas(l);
		if (rc != 0) {
			snprintf(err, errlen, "out of memory for IPv6 routes longer than /112");
			return rc;
		}
	}
	if (l->stage.n == 0)
		return 0;
	rc = ovl_kmap_reserve(&l->reg, l->stage.n);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory for the route registry");
		return rc;
	}
	return prepare_shadow(l, err, errlen);
}

static void publish_long_bits(struct ovl_lpm *l)
{
	uint32_t pos = 0;
	const void *k;
	uint64_t d;

	while (ovl_kmap_next(&l->long_delta, &pos, &k, &d, NULL)) {
		const struct long_key *lk = k;
		uint64_t cur = 0;
		uint16_t bits = l->long_bits[lk->scope];
		uint16_t bit = (uint16_t)(1u << (lk->plen - OVL_LPM_LONG_MIN));

		ovl_kmap_get(&l->long_cnt, lk, &cur, NULL);
		cur = (uint64_t)((int64_t)cur + (int64_t)d);
		if (cur == 0) {
			ovl_kmap_del(&l->long_cnt, lk);
			bits &= (uint16_t)~bit;
		} else {
			ovl_kmap_put(&l->long_cnt, lk, cur, 0); /* reserved in finalize */
			bits |= bit;
		}
		__atomic_store_n(&l->long_bits[lk->scope], bits, __ATOMIC_RELEASE);
	}
	ovl_kmap_clear(&l->long_delta);
}

void ovl_lpm_commit(struct ovl_lpm *l)
{
	uint32_t pos = 0;
	const void *k;
	uint64_t v;
	uint8_t tag;

	/* an added long rule is in the exact table before its length bit is
	 * set; a deleted one leaves the table before its bit is cleared: a
	 * reader that sees a bit without a key falls back to the LPM */
	ovl_hash_commit(&l->lng);
	publish_long_bits(l);
	if (l->stage.n == 0)
		return;
	struct rte_lpm6 *old = l->live;
	uint32_t o8 = l->live_tbl8s, orules = l->live_rules;

	__atomic_store_n(&l->live, l->shadow, __ATOMIC_RELEASE);
	l->live_tbl8s = l->shadow_tbl8s;
	l->live_rules = l->shadow_rules;
	l->shadow = old;
	l->shadow_tbl8s = o8;
	l->shadow_rules = orules;
	l->shadow_stale = true;
	l->swapped = true;
	while (ovl_kmap_next(&l->stage, &pos, &k, &v, &tag)) {
		if (tag == TAG_SET)
			ovl_kmap_put(&l->reg, k, v, 0); /* reserved in finalize */
		else
			ovl_kmap_del(&l->reg, k);
	}
}

void ovl_lpm_abort(struct ovl_lpm *l)
{
	ovl_hash_abort(&l->lng);
	ovl_kmap_clear(&l->long_delta);
	ovl_kmap_clear(&l->stage);
	/* the shadow may hold some of the aborted rules: shadow_stale stays
	 * set and the next prepare rebuilds it from the registry */
}

void ovl_lpm_reclaim(struct ovl_lpm *l)
{
	ovl_hash_reclaim(&l->lng);
	if (!l->swapped)
		return;
	l->swapped = false;
	/* nobody reads the old copy any more: bring it up to date, or drop it
	 * when it was of the old size (the next prepare makes a new one) */
	if (l->shadow != NULL && l->shadow_tbl8s == l->tbl8s && l->shadow_rules == l->max_rules &&
	    lpm_apply_stage(l, l->shadow) == 0) {
		l->shadow_stale = false;
	} else if (l->shadow != NULL) {
		rte_lpm6_free(l->shadow);
		l->shadow = NULL;
	}
	ovl_kmap_clear(&l->stage);
}
