/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Per-QP telemetry table: layout, incremental aging and the reader side of
 * the per-slot sequence lock. See rdma_qp.h for the concurrency contract.
 */
#include <stdint.h>
#include <string.h>

#include "pipelines/rdma/rdma_qp.h"

/* ss_rdma_opclass() as a table (IBA table 38): the operations of one
 * transport (RC 0x00, UC 0x20, RD 0x40, UD 0x60, XRC 0xa0) share the
 * numbering; 0x81 is the CNP; the rest is SS_OPC_OTHER (0). */
#define OPC_TRANSPORT(t)                                                                     \
	[(t) + 0x00 ... (t) + 0x05] = SS_OPC_SEND, [(t) + 0x06 ... (t) + 0x0b] = SS_OPC_WRITE, \
	[(t) + 0x0c] = SS_OPC_READ_REQ, [(t) + 0x0d ... (t) + 0x10] = SS_OPC_READ_RESP,       \
	[(t) + 0x11] = SS_RDMA_OPC_AETH, [(t) + 0x12] = SS_OPC_ACK,                           \
	[(t) + 0x16 ... (t) + 0x17] = SS_OPC_SEND

const uint8_t ss_rdma_opc_tab[256] = {
	OPC_TRANSPORT(0x00), OPC_TRANSPORT(0x20), OPC_TRANSPORT(0x40), OPC_TRANSPORT(0x60),
	OPC_TRANSPORT(0xa0), [SS_BTH_OP_CNP] = SS_OPC_CNP,
};

/* Buckets for a capacity: twice the slots the capacity needs, so that a
 * bucket overflows (a QP not tracked while the table is not full) only
 * with a vanishing probability. */
static uint32_t qpt_buckets(uint32_t capacity)
{
	uint64_t want = ((uint64_t)capacity * 2 + SS_RDMA_QP_WAYS - 1) / SS_RDMA_QP_WAYS;
	uint32_t nb = 1;

	while (nb < want)
		nb <<= 1;
	return nb;
}

size_t ss_rdma_qpt_memsize(uint32_t capacity)
{
	if (capacity == 0 || capacity > (1u << 26))
		return 0;
	uint64_t slots = (uint64_t)qpt_buckets(capacity) * SS_RDMA_QP_WAYS;

	return RTE_ALIGN_CEIL(sizeof(struct ss_rdma_qpt), RTE_CACHE_LINE_SIZE) +
	       RTE_ALIGN_CEIL(slots * sizeof(uint32_t), RTE_CACHE_LINE_SIZE) +
	       slots * sizeof(struct ss_rdma_qp_entry);
}

struct ss_rdma_qpt *ss_rdma_qpt_init(void *mem, uint32_t capacity)
{
	struct ss_rdma_qpt *t = mem;
	uint32_t nb = qpt_buckets(capacity);
	uint8_t *p = mem;

	memset(t, 0, sizeof(*t));
	t->nb_buckets = nb;
	t->mask = nb - 1;
	t->capacity = capacity;
	p += RTE_ALIGN_CEIL(sizeof(*t), RTE_CACHE_LINE_SIZE);
	t->sig = (uint32_t *)p;
	p += RTE_ALIGN_CEIL((size_t)nb * SS_RDMA_QP_WAYS * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	t->e = (struct ss_rdma_qp_entry *)p;
	return t;
}

void ss_rdma_qpt_age(struct ss_rdma_qpt *t, uint64_t now, uint64_t idle, uint32_t nb_buckets)
{
	for (uint32_t b = 0; b < nb_buckets; b++) {
		uint32_t base = t->age_cursor * SS_RDMA_QP_WAYS;

		t->age_cursor = (t->age_cursor + 1) & t->mask;
		for (uint32_t i = 0; i < SS_RDMA_QP_WAYS; i++) {
			struct ss_rdma_qp_entry *e = &t->e[base + i];

			if (t->sig[base + i] == 0 || !qpt_expired(e, now, idle))
				continue;
			qpt_seq_begin(e);
			e->used = 0;
			qpt_seq_end(e);
			t->sig[base + i] = 0;
			t->count--;
			t->expired++;
		}
	}
}

int ss_rdma_qpt_read(const struct ss_rdma_qpt *t, uint32_t i, uint64_t now, uint64_t idle,
		     uint32_t clear_gen, struct ss_rdma_qp_entry *out)
{
	const struct ss_rdma_qp_entry *e = &t->e[i];

	for (int tries = 0; tries < 64; tries++) {
		uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

		if (s1 & 1)
			continue;
		memcpy(out, e, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1)
			continue;
		return out->used && out->clear_gen == clear_gen && !qpt_expired(out, now, idle);
	}
	return 0; /* rewritten 64 times while we looked: it is being recycled */
}
