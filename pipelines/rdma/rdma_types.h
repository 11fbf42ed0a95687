/* SPDX-License-Identifier: BSD-3-Clause
 *
 * RDMA's object types (SPEC section 3.7) and their records
 * (control/types.h): the steering policies and the rdma.config settings
 * singleton (always exists, initialised from the config's `rdma` section).
 * Declared and registered in rdma_types.c.
 */
#ifndef SS_RDMA_TYPES_H
#define SS_RDMA_TYPES_H

#include <stdint.h>

#include "control/types.h"

extern struct ss_type ss_type_rdma_config, ss_type_rdma_policy;

struct ss_rdma_config_rec {
	uint8_t data_dscp;
	uint8_t cnp_dscp;
	uint32_t qp_table_size;
	uint32_t qp_idle_timeout_ms;
};

struct ss_rdma_match_rec {
	struct ss_rec_prefix dst_prefix;
	struct ss_rec_prefix src_prefix;     /* family 0: any */
	uint32_t dst_qp;                     /* if SS_RDMA_MATCH_F_DST_QP present */
	uint64_t present;
};
enum { SS_RDMA_MATCH_F_DST_PREFIX, SS_RDMA_MATCH_F_SRC_PREFIX, SS_RDMA_MATCH_F_DST_QP };

enum ss_rdma_queue { SS_RDMA_LOSSLESS, SS_RDMA_DEFAULT };
/* record values of action.encap (the data plane's are in rdma-t.h) */
enum ss_rdma_rec_encap { SS_RDMA_REC_ENCAP_NONE, SS_RDMA_REC_ENCAP_VNET };

struct ss_rdma_action_rec {
	char port[SS_REC_NAME];
	uint8_t next_hop_mac[6];
	uint8_t queue;                       /* enum ss_rdma_queue */
	uint8_t dscp;                        /* if present */
	uint8_t pcp;                         /* if present */
	uint8_t encap;                       /* enum ss_rdma_rec_encap */
	char eni[SS_REC_NAME];               /* encap vnet only */
	uint64_t present;
};
enum {
	SS_RDMA_ACTION_F_PORT, SS_RDMA_ACTION_F_NEXT_HOP_MAC, SS_RDMA_ACTION_F_QUEUE,
	SS_RDMA_ACTION_F_DSCP, SS_RDMA_ACTION_F_PCP, SS_RDMA_ACTION_F_ENCAP, SS_RDMA_ACTION_F_ENI,
};

struct ss_rdma_policy_rec {
	char name[SS_REC_NAME];
	uint32_t priority;
	struct ss_rdma_match_rec match;
	struct ss_rdma_action_rec action;
};

#endif /* SS_RDMA_TYPES_H */
