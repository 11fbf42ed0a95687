/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Connection tracking's object type: the flow table settings (SPEC 3.6,
 * `flow.config`), a singleton that always exists, initialised from the
 * config file's `flows` section. Declared in ct_types.c.
 */
#ifndef SS_CT_TYPES_H
#define SS_CT_TYPES_H

#include <stdint.h>

#include "control/types.h"

extern struct ss_type ss_type_flow_config;

struct ss_flow_config_rec {
	uint32_t max_flows;
	uint32_t idle_timeout_ms;
	uint32_t tcp_fin_timeout_ms;
};

#endif /* SS_CT_TYPES_H */
