/* SPDX-License-Identifier: BSD-3-Clause
 *
 * RDMA steering policies and settings (SPEC section 3.7) and the flow table
 * settings (SPEC 3.6, `flow.config`). The two settings objects are
 * singletons that always exist, initialised from the config file.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/objects.h"
#include "control/store.h"

static int
no_idx(const json_t *obj, int which, char *buf, size_t len)
{
	(void)obj;
	(void)which;
	(void)buf;
	(void)len;
	return 1;
}

/* ---- flow.config --------------------------------------------------------- */

static const struct ss_field flow_config_fields[] = {
	{ .name = "max_flows", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = 4294967295LL },
	{ .name = "idle_timeout_ms", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = 86400000 },
	{ .name = "tcp_fin_timeout_ms", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0,
	  .max = 86400000 },
};

const struct ss_type ss_type_flow_config = {
	.name = "flow.config", .list_key = "flow.config",
	.schema = SS_SCHEMA(flow_config_fields), .singleton = true,
	.idx = { -1, -1 }, .idx_key = no_idx,
};

/* ---- rdma.config --------------------------------------------------------- */

static const struct ss_field rdma_config_fields[] = {
	{ .name = "data_dscp", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0, .max = 63 },
	{ .name = "cnp_dscp", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0, .max = 63 },
	{ .name = "qp_table_size", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = 67108864 },
	{ .name = "qp_idle_timeout_ms", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1,
	  .max = 86400000 },
};

const struct ss_type ss_type_rdma_config = {
	.name = "rdma.config", .list_key = "rdma.config",
	.schema = SS_SCHEMA(rdma_config_fields), .singleton = true,
	.idx = { -1, -1 }, .idx_key = no_idx,
};

/* ---- rdma.policy ------------------------------------------------------- */

static const char *const queues[] = { "lossless", "default", NULL };
static const char *const encaps[] = { "none", "vnet", NULL };

static const struct ss_field rdma_match_fields[] = {
	{ .name = "dst_prefix", .kind = SS_F_PREFIX, .flags = SS_FF_REQ },
	{ .name = "src_prefix", .kind = SS_F_PREFIX },
	{ .name = "dst_qp", .kind = SS_F_UINT, .min = 0, .max = 16777215 },   /* 24 bits */
};
static const struct ss_schema rdma_match_schema = SS_SCHEMA(rdma_match_fields);

static const struct ss_field rdma_action_fields[] = {
	{ .name = "port", .kind = SS_F_NAME, .flags = SS_FF_REQ },
	{ .name = "next_hop_mac", .kind = SS_F_MAC, .flags = SS_FF_REQ },
	{ .name = "queue", .kind = SS_F_ENUM, .flags = SS_FF_DFLT, .enums = queues,
	  .dflt_s = "default" },
	{ .name = "dscp", .kind = SS_F_UINT, .min = 0, .max = 63 },
	{ .name = "pcp", .kind = SS_F_UINT, .min = 0, .max = 7 },
	{ .name = "encap", .kind = SS_F_ENUM, .flags = SS_FF_DFLT, .enums = encaps,
	  .dflt_s = "none" },
	{ .name = "eni", .kind = SS_F_NAME, .ref = SS_REF(SS_T_ENI) },
};
static const struct ss_schema rdma_action_schema = SS_SCHEMA(rdma_action_fields);

static const struct ss_field rdma_policy_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY },
	{ .name = "priority", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 0,
	  .max = 2147483647 },
	{ .name = "match", .kind = SS_F_OBJ, .flags = SS_FF_REQ, .sub = &rdma_match_schema },
	{ .name = "action", .kind = SS_F_OBJ, .flags = SS_FF_REQ, .sub = &rdma_action_schema },
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

const struct ss_type ss_type_rdma_policy = {
	.name = "rdma.policy", .list_key = "policies",
	.schema = SS_SCHEMA(rdma_policy_fields),
	.idx = { -1, -1 }, .idx_key = no_idx, .check = rdma_policy_check,
};
