/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the per-QP telemetry table (pipelines/rdma/rdma_qp.[ch]):
 * counting per opcode class, PSN discontinuities, capacity, idle aging
 * (on lookup and by the incremental reaper), stats.clear generations and
 * the reader side of the sequence lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pipelines/rdma/rdma_qp.h"

#define IDLE 1000

static struct ss_rdma_qpt *table(uint32_t capacity)
{
	size_t sz = ss_rdma_qpt_memsize(capacity);
	void *mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);

	assert_non_null(mem);
	memset(mem, 0, sz);
	return ss_rdma_qpt_init(mem, capacity);
}

static struct ss_rdma_qp_key key4(uint8_t a, uint8_t b, uint32_t qp)
{
	struct ss_rdma_qp_key k;

	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.src[0] = 10;
	k.src[3] = a;
	k.dst[0] = 10;
	k.dst[3] = b;
	k.dqp = qp;
	return k;
}

static struct ss_rdma_qp_entry *get(struct ss_rdma_qpt *t, const struct ss_rdma_qp_key *k,
				    uint64_t now, uint32_t cg)
{
	return ss_rdma_qpt_find_or_add(t, k, ss_rdma_qp_hash(k), now, IDLE, cg);
}

/* Table-driven PSN sequences: (class, psn) packets and the gaps expected. */
static void test_psn_gaps(void **state)
{
	static const struct {
		const char *what;
		int n;
		struct { enum ss_rdma_opclass c; uint32_t psn; } p[10];
		uint64_t gaps;
	} cases[] = {
		{ "in order", 4, { { SS_OPC_WRITE, 10 }, { SS_OPC_WRITE, 11 }, { SS_OPC_WRITE, 12 },
				   { SS_OPC_SEND, 13 } }, 0 },
		{ "one forward jump", 3, { { SS_OPC_WRITE, 10 }, { SS_OPC_WRITE, 14 },
					   { SS_OPC_WRITE, 15 } }, 1 },
		{ "jump then step back (retransmission)", 6,
		  { { SS_OPC_WRITE, 10 }, { SS_OPC_WRITE, 11 }, { SS_OPC_WRITE, 12 },
		    { SS_OPC_WRITE, 15 }, { SS_OPC_WRITE, 16 }, { SS_OPC_WRITE, 13 } }, 2 },
		{ "duplicate", 3, { { SS_OPC_WRITE, 5 }, { SS_OPC_WRITE, 5 }, { SS_OPC_WRITE, 6 } },
		  1 },
		{ "24-bit wrap is in order", 3,
		  { { SS_OPC_WRITE, 0xfffffe }, { SS_OPC_WRITE, 0xffffff }, { SS_OPC_WRITE, 0 } }, 0 },
		{ "READ request consumes a PSN range", 4,
		  { { SS_OPC_READ_REQ, 100 }, { SS_OPC_READ_REQ, 108 }, { SS_OPC_WRITE, 112 },
		    { SS_OPC_WRITE, 113 } }, 0 },
		{ "after a READ request, a step back still counts", 2,
		  { { SS_OPC_READ_REQ, 100 }, { SS_OPC_WRITE, 99 } }, 1 },
		{ "read responses in sequence", 4,
		  { { SS_OPC_READ_RESP, 7 }, { SS_OPC_READ_RESP, 8 }, { SS_OPC_READ_RESP, 9 },
		    { SS_OPC_READ_RESP, 10 } }, 0 },
		{ "ACKs, NAKs and CNPs are not in the sequence", 5,
		  { { SS_OPC_WRITE, 1 }, { SS_OPC_ACK, 90 }, { SS_OPC_CNP, 0 }, { SS_OPC_NAK, 3 },
		    { SS_OPC_WRITE, 2 } }, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_rdma_qpt *t = table(64);
		struct ss_rdma_qp_key k = key4(1, 2, (uint32_t)i);
		struct ss_rdma_qp_entry *e = get(t, &k, 1, 0);

		assert_non_null(e);
		for (int j = 0; j < cases[i].n; j++)
			ss_rdma_qp_count(e, 100, cases[i].p[j].c, cases[i].p[j].psn, false, 1);
		if (e->c.psn_gaps != cases[i].gaps)
			fail_msg("%s: %llu gaps, want %llu", cases[i].what,
				 (unsigned long long)e->c.psn_gaps, (unsigned long long)cases[i].gaps);
		free(t);
	}
}

static void test_classes_and_bytes(void **state)
{
	struct ss_rdma_qpt *t = table(64);
	struct ss_rdma_qp_key k = key4(1, 2, 0x1234);
	struct ss_rdma_qp_entry *e = get(t, &k, 5, 0);
	static const enum ss_rdma_opclass seq[] = {
		SS_OPC_SEND, SS_OPC_WRITE, SS_OPC_WRITE, SS_OPC_READ_REQ, SS_OPC_READ_RESP,
		SS_OPC_READ_RESP, SS_OPC_READ_RESP, SS_OPC_ACK, SS_OPC_NAK, SS_OPC_CNP,
		SS_OPC_OTHER,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		ss_rdma_qp_count(e, (uint32_t)(60 + i), seq[i], (uint32_t)i, i % 3 == 0, 6);
	assert_int_equal(e->c.packets, 11);
	assert_int_equal(e->c.bytes, 11 * 60 + 55);
	assert_int_equal(e->c.send, 1);
	assert_int_equal(e->c.write, 2);
	assert_int_equal(e->c.read_req, 1);
	assert_int_equal(e->c.read_resp, 3);
	assert_int_equal(e->c.ack, 1);
	assert_int_equal(e->c.nak, 1);
	assert_int_equal(e->c.cnp, 1);
	assert_int_equal(e->c.ecn_ce, 4);   /* i = 0, 3, 6, 9 */
	assert_int_equal(e->last_tsc, 6);
	/* the same key finds the same entry; others get their own */
	assert_ptr_equal(get(t, &k, 7, 0), e);
	struct ss_rdma_qp_key k2 = key4(1, 2, 0x1235), k3 = key4(1, 3, 0x1234);
	assert_ptr_not_equal(get(t, &k2, 7, 0), e);
	assert_ptr_not_equal(get(t, &k3, 7, 0), e);
	assert_int_equal(t->count, 3);
	free(t);
}

static void test_capacity(void **state)
{
	struct ss_rdma_qpt *t = table(4);

	(void)state;
	for (uint32_t i = 0; i < 4; i++) {
		struct ss_rdma_qp_key k = key4(1, 2, i);
		assert_non_null(get(t, &k, 10, 0));
	}
	struct ss_rdma_qp_key k5 = key4(1, 2, 99);
	assert_null(get(t, &k5, 10, 0));
	assert_int_equal(t->insert_failed, 1);
	assert_int_equal(t->count, 4);
	/* existing QPs are still found when full */
	struct ss_rdma_qp_key k0 = key4(1, 2, 0);
	assert_non_null(get(t, &k0, 11, 0));
	free(t);
}

static void test_idle_aging(void **state)
{
	struct ss_rdma_qpt *t = table(4);
	struct ss_rdma_qp_entry copy;

	(void)state;
	for (uint32_t i = 0; i < 4; i++) {
		struct ss_rdma_qp_key k = key4(1, 2, i);
		struct ss_rdma_qp_entry *e = get(t, &k, 100, 0);
		ss_rdma_qp_count(e, 64, SS_OPC_WRITE, 1, false, 100);
	}
	/* QP 0 stays active */
	struct ss_rdma_qp_key k0 = key4(1, 2, 0);
	ss_rdma_qp_count(get(t, &k0, 900, 0), 64, SS_OPC_WRITE, 2, false, 900);
	/* past the idle timeout of QPs 1..3: a new QP takes an expired slot
	 * even though count == capacity */
	struct ss_rdma_qp_key k9 = key4(1, 2, 9);
	struct ss_rdma_qp_entry *e9 = get(t, &k9, 1500, 0);
	assert_non_null(e9);
	assert_int_equal(e9->c.packets, 0);
	assert_int_equal(t->expired, 1);
	assert_int_equal(t->count, 4);
	/* an expired QP that comes back restarts from zero */
	struct ss_rdma_qp_key k1 = key4(1, 2, 1);
	uint32_t before = t->count;
	struct ss_rdma_qp_entry *e1 = get(t, &k1, 1500, 0);
	if (e1 != NULL) {   /* it was still in its slot (not the one k9 took) */
		assert_int_equal(e1->c.packets, 0);
		assert_int_equal(e1->psn_valid, 0);
		assert_int_equal(t->count, before);
	}
	/* readers never see expired entries */
	uint32_t live = 0;
	for (uint32_t s = 0; s < ss_rdma_qpt_slots(t); s++)
		live += (uint32_t)ss_rdma_qpt_read(t, s, 1500, IDLE, 0, &copy);
	assert_int_equal(live, e1 ? 3 : 2); /* QP 0, QP 9 (and QP 1 again) */
	/* the reaper frees what stays idle */
	ss_rdma_qpt_age(t, 5000, IDLE, t->nb_buckets);
	assert_int_equal(t->count, 0);
	for (uint32_t s = 0; s < ss_rdma_qpt_slots(t); s++)
		assert_int_equal(t->sig[s], 0);
	free(t);
}

static void test_reaper_is_incremental(void **state)
{
	struct ss_rdma_qpt *t = table(4096);
	uint32_t visited;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++) {
		struct ss_rdma_qp_key k = key4((uint8_t)(i >> 8), (uint8_t)i, i);
		assert_non_null(get(t, &k, 10, 0));
	}
	assert_int_equal(t->count, 1000);
	/* two buckets per call: a full sweep takes nb_buckets / 2 calls */
	for (visited = 0; t->count > 0 && visited < t->nb_buckets; visited += 2) {
		uint32_t c = t->count;
		ss_rdma_qpt_age(t, 10 + IDLE + 1, IDLE, 2);
		assert_true(c - t->count <= 2 * SS_RDMA_QP_WAYS);
	}
	assert_int_equal(t->count, 0);
	assert_true(visited >= t->nb_buckets / 2);
	free(t);
}

static void test_clear_generation(void **state)
{
	struct ss_rdma_qpt *t = table(16);
	struct ss_rdma_qp_key k = key4(1, 2, 3);
	struct ss_rdma_qp_entry *e = get(t, &k, 10, 0), copy;
	uint32_t slot = (uint32_t)(e - t->e);

	(void)state;
	ss_rdma_qp_count(e, 64, SS_OPC_WRITE, 1, false, 10);
	assert_int_equal(ss_rdma_qpt_read(t, slot, 10, IDLE, 0, &copy), 1);
	assert_int_equal(copy.c.packets, 1);
	/* after stats.clear (generation 1): invisible until its next packet */
	assert_int_equal(ss_rdma_qpt_read(t, slot, 10, IDLE, 1, &copy), 0);
	e = get(t, &k, 11, 1);
	assert_int_equal(e->c.packets, 0);
	ss_rdma_qp_count(e, 64, SS_OPC_WRITE, 2, false, 11);
	assert_int_equal(ss_rdma_qpt_read(t, slot, 11, IDLE, 1, &copy), 1);
	assert_int_equal(copy.c.packets, 1);
	assert_int_equal(copy.c.psn_gaps, 0);
	free(t);
}

static void test_reader_sequence(void **state)
{
	struct ss_rdma_qpt *t = table(16);
	struct ss_rdma_qp_key k = key4(1, 2, 3);
	struct ss_rdma_qp_entry *e = get(t, &k, 10, 0), copy;
	uint32_t slot = (uint32_t)(e - t->e);

	(void)state;
	assert_int_equal(e->seq % 2, 0);
	assert_true(e->seq >= 2);           /* the insert was one sequence section */
	e->seq++;                           /* the worker is rewriting it */
	assert_int_equal(ss_rdma_qpt_read(t, slot, 10, IDLE, 0, &copy), 0);
	e->seq++;
	assert_int_equal(ss_rdma_qpt_read(t, slot, 10, IDLE, 0, &copy), 1);
	assert_memory_equal(&copy.key, &k, sizeof(k));
	/* a reader slightly behind the worker's clock still sees it */
	assert_int_equal(ss_rdma_qpt_read(t, slot, 5, IDLE, 0, &copy), 1);
	free(t);
}

/* The worker's opcode class table answers as ss_rdma_opclass() for every
 * opcode, AETH presence and syndrome. */
static void test_opclass_by_table(void **state)
{
	(void)state;
	for (unsigned int op = 0; op < 256; op++)
		for (unsigned int aeth = 0; aeth < 2; aeth++)
			for (unsigned int syn = 0; syn < 256; syn++)
				assert_int_equal(ss_rdma_opclass_tab((uint8_t)op, aeth, (uint8_t)syn),
						 ss_rdma_opclass((uint8_t)op, aeth, (uint8_t)syn));
}

static struct ss_rdma_qp_key key6(uint8_t a, uint32_t qp)
{
	struct ss_rdma_qp_key k;

	memset(&k, 0, sizeof(k));
	k.family = 6;
	k.src[0] = 0xfd;
	k.src[15] = a;
	k.dst[0] = 0xfd;
	k.dst[15] = 0x50;
	k.dqp = qp;
	return k;
}

/* The burst lookup: the candidate slot by signature is the key's entry,
 * a hit while live; NULL or no hit sends the packet to find_or_add. */
static void test_candidate_and_hit(void **state)
{
	struct ss_rdma_qpt *t = table(4096);
	struct ss_rdma_qp_key k[64], v6a = key6(1, 9), v6b = key6(1, 9);
	struct ss_rdma_qp_entry *e[64];

	(void)state;
	v6b.src[8] = 1; /* differs only in the words IPv4 keys leave zero */
	for (int i = 0; i < 64; i++) {
		k[i] = key4((uint8_t)i, 7, 0x100 + (uint32_t)i);
		e[i] = get(t, &k[i], 10, 0);
		assert_non_null(e[i]);
	}
	for (int i = 0; i < 64; i++) {
		uint32_t h = ss_rdma_qp_hash(&k[i]);
		struct ss_rdma_qp_entry *c = ss_rdma_qpt_candidate(t, ss_rdma_qpt_base(t, h), h);

		assert_ptr_equal(c, e[i]);
		assert_true(ss_rdma_qpt_hit(c, &k[i], 20, IDLE, 0));
		assert_false(ss_rdma_qpt_hit(c, &k[(i + 1) % 64], 20, IDLE, 0));
		assert_false(ss_rdma_qpt_hit(c, &k[i], 20 + IDLE + 1, IDLE, 0)); /* idle */
		assert_false(ss_rdma_qpt_hit(c, &k[i], 20, IDLE, 1));            /* cleared */
	}
	/* a key never inserted: no slot of its bucket has its signature */
	struct ss_rdma_qp_key absent = key4(200, 8, 1);
	uint32_t h = ss_rdma_qp_hash(&absent);

	assert_null(ss_rdma_qpt_candidate(t, ss_rdma_qpt_base(t, h), h));
	/* IPv6 keys compare all their words */
	struct ss_rdma_qp_entry *e6 = get(t, &v6a, 10, 0);

	assert_non_null(e6);
	assert_true(ss_rdma_qpt_hit(e6, &v6a, 10, IDLE, 0));
	assert_false(ss_rdma_qpt_hit(e6, &v6b, 10, IDLE, 0));
	assert_false(ss_rdma_qp_key_eq(&v6a, &v6b));
	free(t);
}

static void test_memsize(void **state)
{
	(void)state;
	assert_int_equal(ss_rdma_qpt_memsize(0), 0);
	assert_int_equal(ss_rdma_qpt_memsize((1u << 26) + 1), 0);
	assert_true(ss_rdma_qpt_memsize(65536) >= 2 * 65536 * sizeof(struct ss_rdma_qp_entry));
	assert_int_equal(sizeof(struct ss_rdma_qp_entry) % 64, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psn_gaps),
		cmocka_unit_test(test_classes_and_bytes),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_idle_aging),
		cmocka_unit_test(test_reaper_is_incremental),
		cmocka_unit_test(test_clear_generation),
		cmocka_unit_test(test_reader_sequence),
		cmocka_unit_test(test_memsize),
		cmocka_unit_test(test_opclass_by_table),
		cmocka_unit_test(test_candidate_and_hit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
