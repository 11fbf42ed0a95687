/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Hardware offload of a built policy state (control thread only), and the
 * control-side data each published policy carries (struct ss_rdma_pol_ext,
 * st->ext): counters carried over from earlier states, and what offload
 * did. Follows the table's transaction:
 *
 *   prepare  ss_rdma_offload_install(new, old): every policy of `new` is
 *            installed through rte_flow (each host/storage ingress port) and
 *            libibverbs (each RDMA device); a policy whose rules would be
 *            identical to its rules in `old` borrows them instead
 *   commit   ss_rdma_offload_commit(new, old): borrowed rules now belong to
 *            `new`
 *   abort    ss_rdma_offload_release(new): removes what prepare installed
 *   reclaim  ss_rdma_offload_carry(new, old) then ss_rdma_offload_release(old)
 *
 * Offload never fails a transaction: each policy reports offloaded and a
 * reason listing what every back-end did.
 */
#ifndef SS_RDMA_OFFLOAD_H
#define SS_RDMA_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/port-t.h"
#include "drivers/rte_flow_rdma.h"
#include "drivers/verbs_rdma.h"
#include "pipelines/rdma/rdma-t.h"

struct ss_rdma_pol_ext {
	/* stats: packets/bytes = carry + live counters - base */
	uint64_t carry_packets, carry_bytes;
	uint64_t base_packets, base_bytes;
	/* offload */
	bool offloaded;
	bool borrowed;                       /* rules still owned by the previous state */
	bool transfer;                       /* rules are transfer rules */
	char reason[256];
	struct ss_rdma_flow_spec fspec;      /* as installed (zeroed padding: comparable) */
	struct ss_verbs_flow_spec vspec;
	unsigned int nflows;
	uint16_t flow_port[SS_MAX_PORTS * 2];
	struct rte_flow *flow[SS_MAX_PORTS * 2];
	struct ss_verbs_flows vf;
};

/* Allocate st->ext (one ss_rdma_pol_ext per policy) and install. `pols`
 * are the policy objects in the state's order; `verbs` may be NULL.
 * 0 or -ENOMEM. */
int ss_rdma_offload_install(struct ss_rdma_state *st, const struct ss_rdma_state *old,
			    struct ss_verbs *verbs);
void ss_rdma_offload_commit(struct ss_rdma_state *st, struct ss_rdma_state *old);
/* Carry old's counters (final: after the grace period) into st. */
void ss_rdma_offload_carry(struct ss_rdma_state *st, const struct ss_rdma_state *old,
			   unsigned int nb_workers);
/* Remove the rules st owns and free st->ext. */
void ss_rdma_offload_release(struct ss_rdma_state *st, struct ss_verbs *verbs);

#endif
