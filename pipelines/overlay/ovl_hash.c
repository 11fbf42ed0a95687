/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Lock-free exact-match table with staged transactions (ovl_hash.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include "pipelines/overlay/ovl_hash.h"

/* TAG_NEW: a set of a key known absent from the live table when staged
 * (a later set or delete of it in the same transaction retags it) */
enum { TAG_SET = 1, TAG_DEL = 2, TAG_NEW = 3 };

#define OVL_HASH_MIN 64

/* Key comparison without a libc call: every key here is a multiple of 4
 * bytes, at most 20 (rte_hash's own fast paths start at 16 and go by 16). */
static int key_cmp(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;
	uint64_t d = 0, u, v;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&u, x + i, 8);
		memcpy(&v, y + i, 8);
		d |= u ^ v;
	}
	if (i < len) {
		uint32_t p, q;
		memcpy(&p, x + i, 4);
		memcpy(&q, y + i, 4);
		d |= p ^ q;
	}
	return d != 0;
}

static struct rte_hash *create(struct ovl_hash *h, uint32_t cap)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters prm = {
		.name = name,
		.entries = cap,
		.key_len = h->key_len,
		.hash_func = ovl_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	struct rte_hash *t;

	snprintf(name, sizeof(name), "ovl_%s_%u", h->name, h->gen++);
	t = rte_hash_create(&prm);
	if (t != NULL && h->key_len % 4 == 0 && h->key_len <= 24)
		rte_hash_set_cmp_func(t, key_cmp);
	return t;
}

int ovl_hash_init(struct ovl_hash *h, const char *name, uint32_t key_len, uint32_t cap)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->key_len = key_len;
	h->cap = RTE_MAX(cap, (uint32_t)OVL_HASH_MIN);
	ovl_kmap_init(&h->stage, key_len);
	h->live = create(h, h->cap);
	return h->live ? 0 : -ENOMEM;
}

void ovl_hash_fini(struct ovl_hash *h)
{
	ovl_hash_abort(h);
	ovl_hash_reclaim(h);
	rte_hash_free(h->live);
	ovl_kmap_free(&h->stage);
	free(h->freepos);
	memset(h, 0, sizeof(*h));
}

int ovl_hash_get(const struct ovl_hash *h, const void *key, uint64_t *val, bool *staged)
{
	uint8_t tag;
	void *d;

	if (ovl_kmap_get(&h->stage, key, val, &tag)) {
		if (staged)
			*staged = true;
		return tag != TAG_DEL;
	}
	if (staged)
		*staged = false;
	if (rte_hash_lookup_data(h->live, key, &d) < 0)
		return 0;
	if (val)
		*val = (uint64_t)(uintptr_t)d;
	return 1;
}

int ovl_hash_set(struct ovl_hash *h, const void *key, uint64_t val)
{
	return ovl_kmap_put(&h->stage, key, val, TAG_SET);
}

int ovl_hash_set_new(struct ovl_hash *h, const void *key, uint64_t val)
{
	return ovl_kmap_put(&h->stage, key, val, TAG_NEW);
}

int ovl_hash_del(struct ovl_hash *h, const void *key)
{
	return ovl_kmap_put(&h->stage, key, 0, TAG_DEL);
}

bool ovl_hash_dirty(const struct ovl_hash *h)
{
	return h->stage.n > 0;
}

int ovl_hash_staged_next(const struct ovl_hash *h, uint32_t *pos, const void **key,
			 uint64_t *val, bool *deleted)
{
	uint8_t tag;

	if (!ovl_kmap_next(&h->stage, pos, key, val, &tag))
		return 0;
	*deleted = tag == TAG_DEL;
	return 1;
}

int ovl_hash_live_next(const struct ovl_hash *h, uint32_t *pos, const void **key,
		       uint64_t *val)
{
	void *d;

	if (rte_hash_iterate(h->live, key, &d, pos) < 0)
		return 0;
	*val = (uint64_t)(uintptr_t)d;
	return 1;
}

/* Room for a quarter more than needed, and at least twice the old size:
 * a table loaded in one transaction (a restore) gets little slack, one
 * growing by many small transactions doubles, so the copies stay amortised
 * O(1) per key (rte_hash sizes its key store exactly; only its bucket array
 * is a power of two). */
static uint32_t grown_cap(uint64_t need, uint32_t old)
{
	uint64_t c = need + need / 4;

	if (c < 2 * (uint64_t)old)
		c = 2 * (uint64_t)old;

	if (c < OVL_HASH_MIN)
		c = OVL_HASH_MIN;
	return c > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)c;
}

/* Build the grown table: every live key the transaction keeps, then the
 * staged ones. Nothing is visible to the workers. `all_new`: every staged
 * key is known absent from the live table (no live key to skip). */
static int grow(struct ovl_hash *h, uint64_t need, bool all_new)
{
	uint32_t ncap = grown_cap(need, h->cap);
	struct rte_hash *t = create(h, ncap);
	uint32_t pos = 0, n = 0;
	const void *key;
	uint64_t val;
	bool del;

	if (t == NULL)
		return -ENOMEM;
	while (ovl_hash_live_next(h, &pos, &key, &val)) {
		if (!all_new && ovl_kmap_get(&h->stage, key, NULL, NULL))
			continue;
		if (rte_hash_add_key_data(t, key, (void *)(uintptr_t)val) < 0)
			goto fail;
		n++;
	}
	pos = 0;
	while (ovl_hash_staged_next(h, &pos, &key, &val, &del)) {
		if (del)
			continue;
		if (rte_hash_add_key_data(t, key, (void *)(uintptr_t)val) < 0)
			goto fail;
		n++;
	}
	h->next = t;
	h->next_cap = ncap;
	h->next_count = n;
	return 0;
fail:
	rte_hash_free(t);
	return -ENOMEM;
}

int ovl_hash_finalize(struct ovl_hash *h)
{
	uint32_t pos = 0, adds = 0, dels = 0, news = 0;
	const void *key;
	uint64_t val;
	uint8_t tag;

	if (h->stage.n == 0)
		return 0;
	while (ovl_kmap_next(&h->stage, &pos, &key, &val, &tag)) {
		if (tag == TAG_NEW) {
			adds++;
			news++;
			continue;
		}
		int present = rte_hash_lookup(h->live, key) >= 0;
		if (tag == TAG_DEL && present)
			dels++;
		else if (tag != TAG_DEL && !present)
			adds++;
	}
	h->count_after = h->count + adds - dels;
	/* deleted slots are freed only at reclaim: they still count */
	if ((uint64_t)h->count + adds <= h->cap)
		return ovl_grow((void **)&h->freepos, &h->cap_free, dels, sizeof(int32_t));
	return grow(h, (uint64_t)h->count + adds, news == h->stage.n);
}

void ovl_hash_commit(struct ovl_hash *h)
{
	uint32_t pos = 0;
	const void *key;
	uint64_t val;
	bool del;

	if (h->next != NULL) {
		h->old = h->live;
		__atomic_store_n(&h->live, h->next, __ATOMIC_RELEASE);
		h->next = NULL;
		h->cap = h->next_cap;
		h->count = h->next_count;
		ovl_kmap_clear(&h->stage);
		return;
	}
	while (ovl_hash_staged_next(h, &pos, &key, &val, &del)) {
		if (del) {
			int32_t p = rte_hash_del_key(h->live, key);
			if (p >= 0)
				h->freepos[h->nfree++] = p;
		} else {
			/* cannot fail: finalize() checked the capacity */
			rte_hash_add_key_data(h->live, key, (void *)(uintptr_t)val);
		}
	}
	h->count = h->count_after;
	ovl_kmap_clear(&h->stage);
}

void ovl_hash_abort(struct ovl_hash *h)
{
	if (h->next != NULL) {
		rte_hash_free(h->next);
		h->next = NULL;
	}
	ovl_kmap_clear(&h->stage);
}

void ovl_hash_reclaim(struct ovl_hash *h)
{
	for (size_t i = 0; i < h->nfree; i++)
		rte_hash_free_key_with_position(h->live, h->freepos[i]);
	h->nfree = 0;
	if (h->old != NULL) {
		rte_hash_free(h->old);
		h->old = NULL;
	}
}
