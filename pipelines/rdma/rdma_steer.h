/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The rdma_steer node and what it reads (see rdma-t.h for the rules).
 */
#ifndef SS_RDMA_STEER_H
#define SS_RDMA_STEER_H

#include <stdint.h>

#include "pipelines/rdma/rdma-t.h"

#define SS_RDMA_NODE "rdma_steer"

/* The published state (ctlplane: rw with release stores, dataplane: one
 * acquire load per burst). NULL until the first publication. */
extern struct ss_rdma_state *ss_rdma_cur;
/* stats.clear generation of the QP tables (ctlplane: rw, dataplane: ro). */
extern uint32_t ss_rdma_clear_gen;

#endif
