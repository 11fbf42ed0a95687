/* SPDX-License-Identifier: BSD-3-Clause
 *
 * flow.config (ct_types.h), registered with the control plane.
 */
#include "control/ctl.h"
#include "control/limits.h"
#include "pipelines/conntrack/ct_types.h"

static const struct ss_field flow_config_fields[] = {
	{ .name = "max_flows", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = 4294967295LL, SS_REC(struct ss_flow_config_rec, max_flows) },
	{ .name = "idle_timeout_ms", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = SS_LIM_MAX_TIMEOUT_MS, SS_REC(struct ss_flow_config_rec, idle_timeout_ms) },
	{ .name = "tcp_fin_timeout_ms", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0,
	  .max = SS_LIM_MAX_TIMEOUT_MS, SS_REC(struct ss_flow_config_rec, tcp_fin_timeout_ms) },
};

static uint32_t
or_default(uint32_t v, uint32_t dflt)
{
	return v ? v : dflt;
}

/* the `flows` section of the config (0: the default) */
static json_t *
flow_config_defaults(const struct ss_ctl_conf *conf)
{
	return json_pack("{sIsIsI}",
			 "max_flows", (json_int_t)or_default(conf->max_flows, SS_LIM_DEF_MAX_FLOWS),
			 "idle_timeout_ms",
			 (json_int_t)or_default(conf->idle_timeout_ms, SS_LIM_DEF_IDLE_TIMEOUT_MS),
			 "tcp_fin_timeout_ms",
			 (json_int_t)or_default(conf->tcp_fin_timeout_ms, SS_LIM_DEF_FIN_TIMEOUT_MS));
}

struct ss_type ss_type_flow_config = {
	.name = "flow.config", .list_key = "flow.config",
	.schema = SS_SCHEMA_REC(flow_config_fields, struct ss_flow_config_rec),
	.singleton = true, .defaults = flow_config_defaults,
};

SS_TYPES_INIT(ss_ct_types_init)
{
	ss_type_register(&ss_type_flow_config);
}
