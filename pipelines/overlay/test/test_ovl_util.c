/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the control-side building blocks: the staging map (checked
 * against a plain array under random inserts and backward-shift deletes),
 * the index allocator's transaction life cycle, and the lock-free hash's
 * staged view, growth and deferred slot frees.
 */
#include <stdlib.h>

#include "pipelines/overlay/test/ovl_test.h"

static void test_kmap_random(void **state)
{
	enum { KEYS = 5000, OPS = 200000 };
	static uint64_t ref[KEYS];
	static uint8_t present[KEYS];
	struct ovl_kmap m;
	uint32_t n = 0, pos = 0, seen = 0;
	const void *k;
	uint64_t v;

	(void)state;
	srand(7);
	ovl_kmap_init(&m, 12);
	for (int i = 0; i < OPS; i++) {
		uint32_t key[3] = { (uint32_t)rand() % KEYS, 0xabcdef, 0 };
		uint32_t id = key[0];

		if (rand() % 3 == 0) {
			assert_int_equal(ovl_kmap_del(&m, key), present[id]);
			n -= present[id];
			present[id] = 0;
		} else {
			uint64_t val = (uint64_t)rand() << 20 | id;
			assert_int_equal(ovl_kmap_put(&m, key, val, (uint8_t)(id & 7)), 0);
			n += !present[id];
			present[id] = 1;
			ref[id] = val;
		}
		if (i % 10000 == 0) {
			for (uint32_t j = 0; j < KEYS; j++) {
				uint32_t kk[3] = { j, 0xabcdef, 0 };
				uint8_t tag;
				assert_int_equal(ovl_kmap_get(&m, kk, &v, &tag), present[j]);
				if (present[j]) {
					assert_int_equal(v, ref[j]);
					assert_int_equal(tag, j & 7);
				}
			}
		}
	}
	assert_int_equal(m.n, n);
	while (ovl_kmap_next(&m, &pos, &k, &v, NULL)) {
		uint32_t id;

		memcpy(&id, k, sizeof(id));
		assert_true(present[id]);
		assert_int_equal(v, ref[id]);
		seen++;
	}
	assert_int_equal(seen, n);
	assert_int_equal(ovl_kmap_reserve(&m, 100000), 0);
	assert_true((uint64_t)m.cap * 3 >= (uint64_t)(m.n + 100000) * 4);
	ovl_kmap_clear(&m);
	assert_int_equal(m.n, 0);
	ovl_kmap_free(&m);
}

static void test_ids_lifecycle(void **state)
{
	struct ovl_ids ids;
	uint32_t a, b, c, d;

	(void)state;
	ovl_ids_init(&ids, 4);          /* indices 1..3 */
	assert_int_equal(ovl_ids_alloc(&ids, &a), 0);
	assert_int_equal(ovl_ids_alloc(&ids, &b), 0);
	assert_int_equal(ovl_ids_alloc(&ids, &c), 0);
	assert_int_equal(ovl_ids_alloc(&ids, &d), -ENOSPC);
	assert_true(a >= 1 && b >= 1 && c >= 1 && a != b && b != c && a != c);
	ovl_ids_abort(&ids);             /* all three come back */
	assert_int_equal(ovl_ids_in_use(&ids), 0);
	assert_int_equal(ovl_ids_alloc(&ids, &a), 0);
	ovl_ids_commit(&ids);
	assert_int_equal(ovl_ids_in_use(&ids), 1);
	/* a released index is not handed out before reclaim */
	assert_int_equal(ovl_ids_release(&ids, a), 0);
	ovl_ids_commit(&ids);
	assert_int_equal(ovl_ids_alloc(&ids, &b), 0);
	assert_int_equal(ovl_ids_alloc(&ids, &c), 0);
	assert_int_not_equal(b, a);
	assert_int_not_equal(c, a);
	assert_int_equal(ovl_ids_alloc(&ids, &d), -ENOSPC);
	ovl_ids_commit(&ids);
	ovl_ids_reclaim(&ids);
	assert_int_equal(ovl_ids_alloc(&ids, &d), 0);
	assert_int_equal(d, a);
	/* an aborted release keeps the index in use */
	assert_int_equal(ovl_ids_release(&ids, b), 0);
	ovl_ids_abort(&ids);
	ovl_ids_reclaim(&ids);
	assert_int_equal(ovl_ids_in_use(&ids), 2); /* c and b; d was aborted */
	ovl_ids_fini(&ids);
}

static void test_hash_stage_grow_free(void **state)
{
	struct ovl_hash h;
	uint64_t v;
	bool staged;
	uint32_t k;

	(void)state;
	assert_int_equal(ovl_hash_init(&h, "t", sizeof(uint32_t), 64), 0);
	for (k = 0; k < 50; k++)
		assert_int_equal(ovl_hash_set(&h, &k, k * 10), 0);
	k = 3;
	assert_true(ovl_hash_get(&h, &k, &v, &staged));
	assert_true(staged);
	assert_int_equal(v, 30);
	assert_false(ovl_hash_lookup(&h, &k, &v));     /* invisible until commit */
	assert_int_equal(ovl_hash_finalize(&h), 0);
	assert_null(h.next);                             /* fits: no rebuild */
	ovl_hash_commit(&h);
	ovl_hash_reclaim(&h);
	assert_true(ovl_hash_lookup(&h, &k, &v));
	assert_int_equal(v, 30);
	assert_int_equal(h.count, 50);

	/* 100 more do not fit in 64: a bigger table is built aside */
	struct rte_hash *before = h.live;
	for (k = 50; k < 150; k++)
		ovl_hash_set(&h, &k, k * 10);
	k = 7;
	ovl_hash_del(&h, &k);
	assert_int_equal(ovl_hash_finalize(&h), 0);
	assert_non_null(h.next);
	assert_true(ovl_hash_lookup(&h, &k, &v));       /* old table still live */
	ovl_hash_commit(&h);
	assert_ptr_not_equal(h.live, before);
	assert_ptr_equal(h.old, before);
	ovl_hash_reclaim(&h);
	assert_null(h.old);
	assert_false(ovl_hash_lookup(&h, &k, &v));
	assert_int_equal(h.count, 149);
	for (k = 0; k < 150; k++) {
		if (k == 7)
			continue;
		assert_true(ovl_hash_lookup(&h, &k, &v));
		assert_int_equal(v, k * 10);
	}

	/* deletes free their slots only at reclaim; aborts leave no trace */
	k = 8;
	ovl_hash_del(&h, &k);
	assert_int_equal(ovl_hash_finalize(&h), 0);
	ovl_hash_commit(&h);
	assert_int_equal(h.nfree, 1);
	ovl_hash_reclaim(&h);
	assert_int_equal(h.nfree, 0);
	k = 9;
	ovl_hash_set(&h, &k, 999);
	k = 1000;
	ovl_hash_set(&h, &k, 1);
	assert_int_equal(ovl_hash_finalize(&h), 0);
	ovl_hash_abort(&h);
	k = 9;
	assert_true(ovl_hash_lookup(&h, &k, &v));
	assert_int_equal(v, 90);
	k = 1000;
	assert_false(ovl_hash_get(&h, &k, &v, NULL));
	ovl_hash_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmap_random),
		cmocka_unit_test(test_ids_lifecycle),
		cmocka_unit_test(test_hash_stage_grow_free),
	};

	if (ovl_test_eal() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
