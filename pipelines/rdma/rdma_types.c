/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rdma.config and rdma.policy (rdma_types.h), registered with the control
 * plane.
 */
#include <string.h>

#include "control/ctl.h"
#include "control/limits.h"
#include "pipelines/rdma/rdma_types.h"

/* ---- rdma.config --------------------------------------------------------------------- */

static const struct ss_field rdma_config_fields[] = {
	{ .name = "data_dscp", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0, .max = 63,
	  SS_REC(struct ss_rdma_config_rec, data_dscp) },
	{ .name = "cnp_dscp", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0, .max = 63,
	  SS_REC(struct ss_rdma_config_rec, cnp_dscp) },
	{ .name = "qp_table_size", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = SS_LIM_MAX_QP_TABLE_SIZE, SS_REC(struct ss_rdma_config_rec, qp_table_size) },
	{ .name = "qp_idle_timeout_ms", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = SS_LIM_MAX_TIMEOUT_MS, SS_REC(struct ss_rdma_config_rec, qp_idle_timeout_ms) },
};

static uint32_t
or_default(uint32_t v, uint32_t dflt)
{
	return v ? v : dflt;
}

/* the `rdma` section of the config (0: the default; the DSCPs only when
 * the section set them) */
static json_t *
rdma_config_defaults(const struct ss_ctl_conf *conf)
{
	return json_pack("{sIsIsIsI}",
			 "data_dscp",
			 (json_int_t)(conf->rdma_dscp_set ? conf->rdma_data_dscp
							  : SS_LIM_DEF_RDMA_DATA_DSCP),
			 "cnp_dscp",
			 (json_int_t)(conf->rdma_dscp_set ? conf->rdma_cnp_dscp
							  : SS_LIM_DEF_RDMA_CNP_DSCP),
			 "qp_table_size",
			 (json_int_t)or_default(conf->rdma_qp_table_size, SS_LIM_DEF_QP_TABLE_SIZE),
			 "qp_idle_timeout_ms",
			 (json_int_t)or_default(conf->rdma_qp_idle_timeout_ms, SS_LIM_DEF_QP_IDLE_MS));
}

struct ss_type ss_type_rdma_config = {
	.name = "rdma.config", .list_key = "rdma.config",
	.schema = SS_SCHEMA_REC(rdma_config_fields, struct ss_rdma_config_rec),
	.singleton = true, .defaults = rdma_config_defaults,
};

/* ---- rdma.policy ----------------------------------------------------------------------- */

static const char *const queues[] = { "lossless", "default", NULL };
static const char *const encaps[] = { "none", "vnet", NULL };

static const struct ss_field rdma_match_fields[] = {
	[SS_RDMA_MATCH_F_DST_PREFIX] = { .name = "dst_prefix", .kind = SS_F_PREFIX,
					 .flags = SS_FF_REQ,
					 SS_REC(struct ss_rdma_match_rec, dst_prefix) },
	[SS_RDMA_MATCH_F_SRC_PREFIX] = { .name = "src_prefix", .kind = SS_F_PREFIX,
					 SS_REC(struct ss_rdma_match_rec, src_prefix) },
	[SS_RDMA_MATCH_F_DST_QP] = { .name = "dst_qp", .kind = SS_F_UINT, .min = 0,
				     .max = 16777215,   /* 24 bits */
				     SS_REC(struct ss_rdma_match_rec, dst_qp) },
};
static const struct ss_schema rdma_match_schema =
	SS_SCHEMA_REC_PRES(rdma_match_fields, struct ss_rdma_match_rec, present);

static const struct ss_field rdma_action_fields[] = {
	[SS_RDMA_ACTION_F_PORT] = { .name = "port", .kind = SS_F_NAME, .flags = SS_FF_REQ,
				    SS_REC(struct ss_rdma_action_rec, port) },
	[SS_RDMA_ACTION_F_NEXT_HOP_MAC] = { .name = "next_hop_mac", .kind = SS_F_MAC,
					    .flags = SS_FF_REQ,
					    SS_REC(struct ss_rdma_action_rec, next_hop_mac) },
	[SS_RDMA_ACTION_F_QUEUE] = { .name = "queue", .kind = SS_F_ENUM, .flags = SS_FF_DFLT,
				     .enums = queues, .dflt_s = "default",
				     SS_REC(struct ss_rdma_action_rec, queue) },
	[SS_RDMA_ACTION_F_DSCP] = { .name = "dscp", .kind = SS_F_UINT, .min = 0, .max = 63,
				    SS_REC(struct ss_rdma_action_rec, dscp) },
	[SS_RDMA_ACTION_F_PCP] = { .name = "pcp", .kind = SS_F_UINT, .min = 0, .max = 7,
				   SS_REC(struct ss_rdma_action_rec, pcp) },
	[SS_RDMA_ACTION_F_ENCAP] = { .name = "encap", .kind = SS_F_ENUM, .flags = SS_FF_DFLT,
				     .enums = encaps, .dflt_s = "none",
				     SS_REC(struct ss_rdma_action_rec, encap) },
	[SS_RDMA_ACTION_F_ENI] = { .name = "eni", .kind = SS_F_NAME, .ref = "eni",
				   SS_REC(struct ss_rdma_action_rec, eni) },
};
static const struct ss_schema rdma_action_schema =
	SS_SCHEMA_REC_PRES(rdma_action_fields, struct ss_rdma_action_rec, present);

static const struct ss_field rdma_policy_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY,
	  SS_REC(struct ss_rdma_policy_rec, name) },
	{ .name = "priority", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0,
	  .max = 2147483647, SS_REC(struct ss_rdma_policy_rec, priority) },
	{ .name = "match", .kind = SS_F_OBJ, .flags = SS_FF_REQ, .sub = &rdma_match_schema,
	  SS_REC(struct ss_rdma_policy_rec, match) },
	{ .name = "action", .kind = SS_F_OBJ, .flags = SS_FF_REQ, .sub = &rdma_action_schema,
	  SS_REC(struct ss_rdma_policy_rec, action) },
};

static int
rdma_policy_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	const json_t *match = json_object_get(obj, "match");
	const json_t *action = json_object_get(obj, "action");
	int vnet_encap = strcmp(json_string_value(json_object_get(action, "encap")), "vnet") == 0;

	if (json_object_get(match, "src_prefix") != NULL &&
	    ss_obj_family(match, "src_prefix") != ss_obj_family(match, "dst_prefix"))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "match.src_prefix",
				  "match.src_prefix must be of dst_prefix's address family");
	if (ss_check_port(ctl, json_string_value(json_object_get(action, "port")), NULL,
			  "action.port", err) < 0)
		return -1;
	if (vnet_encap && json_object_get(action, "eni") == NULL)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "action.eni",
				  "encap vnet requires action.eni");
	if (!vnet_encap && json_object_get(action, "eni") != NULL)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "action.eni",
				  "action.eni is only valid with encap vnet");
	return 0;
}

struct ss_type ss_type_rdma_policy = {
	.name = "rdma.policy", .list_key = "policies",
	.schema = SS_SCHEMA_REC(rdma_policy_fields, struct ss_rdma_policy_rec),
	.methods = SS_TM_GET,
	.check = rdma_policy_check,
};

SS_TYPES_INIT(ss_rdma_types_init)
{
	ss_type_register(&ss_type_rdma_config);
	ss_type_register(&ss_type_rdma_policy);
}
