/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's objects (SPEC 3.9, docs/lb.md), registered in
 * lb_types.c:
 *   lb          {name, vnet, vip, protocol, port, backend_port, table_size};
 *               lb.add also takes `backends` (its lb.backend children);
 *   lb.backend  {lb, ip, weight, state}, key lb/ip, lb.backend.set changes
 *               the fields given;
 *   lb.config   the ORCA weight settings (a singleton that always exists).
 * Load reports (lb.report) are soft state, not objects (lb_feature.c).
 */
#ifndef SS_LB_TYPES_H
#define SS_LB_TYPES_H

#include <stdint.h>

#include "control/types.h"

#define SS_LB_DEFAULT_TABLE_SIZE 65537
#define SS_LB_MAX_TABLE_SIZE 1048573     /* a prime */
#define SS_LB_MAX_BACKENDS 4096          /* of all LBs together (1004 beyond) */
#define SS_LB_MAX_WEIGHT 1000000

enum ss_lb_proto { SS_LB_TCP = 0, SS_LB_UDP };
enum ss_lb_bstate { SS_LB_ACTIVE = 0, SS_LB_DRAINING, SS_LB_DOWN };

struct ss_lb_rec {
	char name[SS_REC_NAME];
	char vnet[SS_REC_NAME];
	struct ss_rec_ip vip;
	uint8_t protocol;                 /* enum ss_lb_proto */
	uint16_t port;
	uint16_t backend_port;            /* filled in by the check: default port */
	uint32_t table_size;
};

struct ss_lb_backend_rec {
	char lb[SS_REC_NAME];
	struct ss_rec_ip ip;
	uint32_t weight;
	uint8_t state;                    /* enum ss_lb_bstate */
};

struct ss_lb_config_rec {
	double error_utilization_penalty;
	uint32_t blackout_period_ms;
	uint32_t weight_expiration_ms;
	uint32_t weight_update_period_ms;
};

extern struct ss_type ss_type_lb, ss_type_lb_backend, ss_type_lb_config;

#endif
