/* SPDX-License-Identifier: BSD-3-Clause
 *
 * RDMA steering policies: building the published state from the store's
 * normalised objects (control thread), and the lookup the worker does.
 *
 * A state is built whole from the complete policy set each time a
 * transaction touches rdma.policy / rdma.config (policies are few: the
 * SPEC's controller installs one per storage target and tenant), so a
 * packet sees the old set or the new one, never a mix.
 *
 * Matching (SPEC 3.7): destination prefix (required), source prefix and
 * destination QP (optional); among the matching policies the lowest
 * `priority` wins, equal priorities are ordered by name. The matches are
 * kept in that order, so the first hit of a linear scan is the answer;
 * the per-QP table caches the result per (source, destination, QP), so the
 * scan runs once per QP and state generation, not per packet.
 *
 * Nothing here needs the EAL: memory comes from the caller's allocator, so
 * the unit tests use calloc and the daemon rte_zmalloc_socket.
 */
#ifndef SS_RDMA_H
#define SS_RDMA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "pipelines/rdma/rdma-t.h"
#include "pipelines/rdma/rdma_types.h"

struct ss_rdma_mem {
	/* zeroed, cache-line aligned; NULL on failure */
	void *(*zalloc)(size_t size, int socket);
	void (*free)(void *p);
};

struct ss_rdma_port_info {
	uint16_t index;
	bool lossless_lane;
	uint8_t mac[6];
};

/* What a build needs from its environment. */
struct ss_rdma_env {
	const struct ss_rdma_mem *mem;
	unsigned int nb_workers;
	const int *sockets;          /* NUMA node of each worker */
	uint64_t tsc_hz;
	/* 0, or -ENOENT when no port has this name */
	int (*port)(void *arg, const char *name, struct ss_rdma_port_info *out);
	/* the overlay ENI index of `name` (encap vnet), -1 when none; NULL:
	 * no overlay, encap vnet is refused */
	int (*eni)(void *arg, const char *name);
	void *arg;
};

/* rdma.config record -> settings (ranges checked again). 0 or -EINVAL with
 * err. */
int ss_rdma_settings_parse(const struct ss_rdma_config_rec *rec, struct ss_rdma_settings *out,
			   char *err, size_t errlen);

/* A QP table per worker, `size` entries in all (split evenly). */
struct ss_rdma_qpset *ss_rdma_qpset_new(const struct ss_rdma_env *env, uint32_t size);
void ss_rdma_qpset_free(const struct ss_rdma_mem *mem, struct ss_rdma_qpset *q);

/* Build a state from `n` rdma.policy records (any order). The state refers
 * to `qps` without owning it. 0, or -errno with a message naming the
 * policy. */
int ss_rdma_state_build(const struct ss_rdma_env *env, const struct ss_rdma_settings *cfg,
			const struct ss_rdma_policy_rec *pols, size_t n, struct ss_rdma_qpset *qps,
			uint32_t gen, struct ss_rdma_state **out, char *err, size_t errlen);
/* Frees the state (not its qps, not ext). */
void ss_rdma_state_free(const struct ss_rdma_mem *mem, struct ss_rdma_state *st);
/* Index of the policy named `name`, -1 if absent. Control thread. */
int ss_rdma_state_find(const struct ss_rdma_state *st, const char *name);
/* Packets and bytes counted for policy i, summed over the workers. */
void ss_rdma_state_counters(const struct ss_rdma_state *st, unsigned int nb_workers,
			    uint32_t i, uint64_t *packets, uint64_t *bytes);

/* ---- worker side -------------------------------------------------------- */

/* src, dst in host order. The policy index or SS_RDMA_NO_POLICY. */
static inline uint16_t ss_rdma_lookup4(const struct ss_rdma_state *st, uint32_t src, uint32_t dst,
				       uint32_t qp)
{
	const struct ss_rdma_match4 *m = st->m4;

	for (uint32_t i = 0; i < st->nb4; i++)
		if (((dst & m[i].dmask) ^ m[i].dst) == 0 && ((src & m[i].smask) ^ m[i].src) == 0 &&
		    ((qp & m[i].qpmask) ^ m[i].qp) == 0)
			return m[i].pol;
	return SS_RDMA_NO_POLICY;
}

/* src, dst: 16 bytes each, network order. */
static inline uint16_t ss_rdma_lookup6(const struct ss_rdma_state *st, const uint8_t *src,
				       const uint8_t *dst, uint32_t qp)
{
	const struct ss_rdma_match6 *m = st->m6;
	uint64_t s[2], d[2];

	memcpy(s, src, 16);
	memcpy(d, dst, 16);
	for (uint32_t i = 0; i < st->nb6; i++)
		if ((((d[0] & m[i].dmask[0]) ^ m[i].dst[0]) | ((d[1] & m[i].dmask[1]) ^ m[i].dst[1]) |
		     ((s[0] & m[i].smask[0]) ^ m[i].src[0]) | ((s[1] & m[i].smask[1]) ^ m[i].src[1])) ==
			    0 &&
		    ((qp & m[i].qpmask) ^ m[i].qp) == 0)
			return m[i].pol;
	return SS_RDMA_NO_POLICY;
}

#endif
