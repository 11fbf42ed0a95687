/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Underlay and overlay objects: switch, vip, underlay_route, vnet,
 * direction, route, mapping, pa_validation (SPEC sections 3.1, 3.2, 4).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/objects.h"
#include "control/store.h"

#define VNI_MAX 16777215

/* ---- helpers ---------------------------------------------------------- */

const struct ss_port *
ss_ctl_port(const struct ss_ctl *ctl, const char *name)
{
	size_t i;

	for (i = 0; i < ctl->nports; i++)
		if (strcmp(ctl->ports[i].name, name) == 0)
			return &ctl->ports[i];
	return NULL;
}

int
ss_check_port(struct ss_ctl *ctl, const char *name, const char *const *roles,
	      const char *field, struct ss_err *err)
{
	const struct ss_port *p = ss_ctl_port(ctl, name);
	int i;

	if (p == NULL)
		return ss_err_set(err, SS_ERR_NOT_FOUND, field, "%s: port %s not found", field,
				  name);
	if (roles == NULL)
		return 0;
	for (i = 0; roles[i] != NULL; i++)
		if (strcmp(p->role, roles[i]) == 0)
			return 0;
	return ss_err_set(err, SS_RPC_INVALID_PARAMS, field, "%s: port %s has role %s, not %s%s%s",
			  field, name, p->role, roles[0], roles[1] ? " or " : "",
			  roles[1] ? roles[1] : "");
}

static int
no_idx(const json_t *obj, int which, char *buf, size_t len)
{
	(void)obj;
	(void)which;
	(void)buf;
	(void)len;
	return 1;
}

/* ---- switch ----------------------------------------------------------- */

static const struct ss_field switch_fields[] = {
	{ .name = "underlay_ip", .kind = SS_F_IP4, .flags = SS_FF_NULL },
	{ .name = "underlay_ip6", .kind = SS_F_IP6, .flags = SS_FF_NULL },
	{ .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_NULL },
};

const struct ss_type ss_type_switch = {
	.name = "switch", .list_key = "switch",
	.schema = SS_SCHEMA(switch_fields), .singleton = true,
	.idx = { -1, -1 }, .idx_key = no_idx,
};

/* ---- vip -------------------------------------------------------------- */

static const struct ss_field vip_fields[] = {
	{ .name = "ip", .kind = SS_F_IP, .flags = SS_FF_KEY },
};

const struct ss_type ss_type_vip = {
	.name = "vip", .list_key = "vips",
	.bulk_raw = true,
	.schema = SS_SCHEMA(vip_fields),
	.idx = { -1, -1 }, .idx_key = no_idx,
};

/* ---- underlay_route --------------------------------------------------- */

static const struct ss_field next_hop_fields[] = {
	{ .name = "port", .kind = SS_F_NAME, .flags = SS_FF_REQ },
	{ .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_REQ },
};
static const struct ss_schema next_hop_schema = SS_SCHEMA(next_hop_fields);

static const struct ss_field underlay_route_fields[] = {
	{ .name = "prefix", .kind = SS_F_PREFIX, .flags = SS_FF_KEY },
	{ .name = "next_hops", .kind = SS_F_OBJS, .flags = SS_FF_REQ, .min = 1, .max = 16,
	  .sub = &next_hop_schema },
};

static int
underlay_route_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	static const char *const roles[] = { "fabric", "storage", NULL };
	const json_t *nh = json_object_get(obj, "next_hops");
	size_t i;

	for (i = 0; i < json_array_size(nh); i++) {
		char field[48];

		snprintf(field, sizeof(field), "next_hops[%zu].port", i);
		if (ss_check_port(ctl, json_string_value(json_object_get(json_array_get(nh, i),
									 "port")),
				  roles, field, err) < 0)
			return -1;
	}
	return 0;
}

const struct ss_type ss_type_underlay_route = {
	.name = "underlay_route", .list_key = "underlay_routes",
	.schema = SS_SCHEMA(underlay_route_fields),
	.idx = { -1, -1 }, .idx_key = no_idx, .check = underlay_route_check,
};

/* ---- vnet ------------------------------------------------------------- */

static const struct ss_field vnet_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY },
	{ .name = "vni", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1, .max = VNI_MAX },
	{ .name = "gateway_ip", .kind = SS_F_IP4 },
	{ .name = "gateway_ip6", .kind = SS_F_IP6 },
};

static int
vnet_idx(const json_t *obj, int which, char *buf, size_t len)
{
	if (which != 0)
		return 1;
	snprintf(buf, len, "%lld", (long long)json_integer_value(json_object_get(obj, "vni")));
	return 0;
}

const struct ss_type ss_type_vnet = {
	.name = "vnet", .list_key = "vnets",
	.schema = SS_SCHEMA(vnet_fields),
	.idx = { SS_IDX_VNET_VNI, -1 }, .idx_key = vnet_idx,
};

/* ---- direction -------------------------------------------------------- */

static const struct ss_field direction_fields[] = {
	{ .name = "vni", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 1, .max = VNI_MAX },
};

const struct ss_type ss_type_direction = {
	.name = "direction", .list_key = "directions",
	.bulk_raw = true,
	.schema = SS_SCHEMA(direction_fields),
	.idx = { -1, -1 }, .idx_key = no_idx,
};

/* ---- route (outbound, SPEC 3.1 step 6) --------------------------------- */

static const char *const route_actions[] = { "vnet", "vnet_direct", "direct", "drop", NULL };

static const struct ss_field route_fields[] = {
	{ .name = "group", .kind = SS_F_NAME, .flags = SS_FF_KEY },
	{ .name = "prefix", .kind = SS_F_PREFIX, .flags = SS_FF_KEY },
	{ .name = "action", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = route_actions },
	{ .name = "vnet", .kind = SS_F_NAME, .ref = SS_REF(SS_T_VNET) },
	{ .name = "overlay_ip", .kind = SS_F_IP },
};

static int
route_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	const char *action = json_string_value(json_object_get(obj, "action"));
	int fam = ss_obj_family(obj, "prefix");

	(void)ctl;
	if (strcmp(action, "vnet_direct") == 0) {
		if (json_object_get(obj, "overlay_ip") == NULL)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, "overlay_ip",
					  "action vnet_direct requires overlay_ip");
		if (ss_obj_family(obj, "overlay_ip") != fam)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, "overlay_ip",
					  "overlay_ip must be of the prefix's address family");
	} else if (json_object_get(obj, "overlay_ip") != NULL) {
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "overlay_ip",
				  "overlay_ip is only valid with action vnet_direct");
	}
	if ((strcmp(action, "direct") == 0 || strcmp(action, "drop") == 0) &&
	    json_object_get(obj, "vnet") != NULL)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "vnet",
				  "vnet is only valid with actions vnet and vnet_direct");
	return 0;
}

const struct ss_type ss_type_route = {
	.name = "route", .list_key = "routes",
	.schema = SS_SCHEMA(route_fields),
	.idx = { -1, -1 }, .idx_key = no_idx, .check = route_check, .filter = "group",
};

/* ---- mapping (CA -> PA, SPEC 3.1 step 7) ------------------------------ */

static const struct ss_field mapping_fields[] = {
	{ .name = "vnet", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = SS_REF(SS_T_VNET) },
	{ .name = "ip", .kind = SS_F_IP, .flags = SS_FF_KEY },
	{ .name = "underlay_ip", .kind = SS_F_IP, .flags = SS_FF_REQ },
	{ .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_REQ },
	{ .name = "use_dst_vni", .kind = SS_F_BOOL, .flags = SS_FF_DFLT, .dflt_i = 0 },
};

const struct ss_type ss_type_mapping = {
	.name = "mapping", .list_key = "mappings",
	.bulk_raw = true,
	.schema = SS_SCHEMA(mapping_fields),
	.idx = { -1, -1 }, .idx_key = no_idx, .filter = "vnet",
};

/* ---- pa_validation (SPEC 3.2 step 4) ---------------------------------- */

static const struct ss_field pa_validation_fields[] = {
	{ .name = "vnet", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = SS_REF(SS_T_VNET) },
	{ .name = "underlay_ip", .kind = SS_F_IP, .flags = SS_FF_KEY },
};

const struct ss_type ss_type_pa_validation = {
	.name = "pa_validation", .list_key = "pa_validations",
	.bulk_raw = true,
	.schema = SS_SCHEMA(pa_validation_fields),
	.idx = { -1, -1 }, .idx_key = no_idx, .filter = "vnet",
};

/* ---- the type table --------------------------------------------------- */

const struct ss_type *const ss_types[SS_T_COUNT] = {
	[SS_T_SWITCH] = &ss_type_switch,
	[SS_T_FLOW_CONFIG] = &ss_type_flow_config,
	[SS_T_RDMA_CONFIG] = &ss_type_rdma_config,
	[SS_T_VIP] = &ss_type_vip,
	[SS_T_UNDERLAY_ROUTE] = &ss_type_underlay_route,
	[SS_T_VNET] = &ss_type_vnet,
	[SS_T_DIRECTION] = &ss_type_direction,
	[SS_T_ACL_GROUP] = &ss_type_acl_group,
	[SS_T_ACL_RULE] = &ss_type_acl_rule,
	[SS_T_ENI] = &ss_type_eni,
	[SS_T_ROUTE] = &ss_type_route,
	[SS_T_MAPPING] = &ss_type_mapping,
	[SS_T_INBOUND_ROUTE] = &ss_type_inbound_route,
	[SS_T_PA_VALIDATION] = &ss_type_pa_validation,
	[SS_T_RDMA_POLICY] = &ss_type_rdma_policy,
};

int
ss_type_by_name(const char *name, size_t len)
{
	int t;

	for (t = 0; t < SS_T_COUNT; t++)
		if (strlen(ss_types[t]->name) == len && memcmp(ss_types[t]->name, name, len) == 0)
			return t;
	return -1;
}
