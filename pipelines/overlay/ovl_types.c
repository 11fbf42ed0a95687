/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The overlay's object types (ovl_types.h): schemas, records, semantic
 * checks and unique indexes, registered with the control plane.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/ctl.h"
#include "control/limits.h"
#include "pipelines/overlay/ovl_types.h"

/* ---- switch ------------------------------------------------------------------ */

static const struct ss_field switch_fields[] = {
	{ .name = "underlay_ip", .kind = SS_F_IP4, .flags = SS_FF_NULL,
	  SS_REC(struct ss_switch_rec, underlay_ip) },
	{ .name = "underlay_ip6", .kind = SS_F_IP6, .flags = SS_FF_NULL,
	  SS_REC(struct ss_switch_rec, underlay_ip6) },
	{ .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_NULL, SS_REC(struct ss_switch_rec, mac) },
};

struct ss_type ss_type_switch = {
	.name = "switch", .list_key = "switch",
	.schema = SS_SCHEMA_REC_PRES(switch_fields, struct ss_switch_rec, present),
	.singleton = true, .methods = SS_TM_SET,
};

/* ---- vip ------------------------------------------------------------------------ */

static const struct ss_field vip_fields[] = {
	{ .name = "ip", .kind = SS_F_IP, .flags = SS_FF_KEY, SS_REC(struct ss_vip_rec, ip) },
};

struct ss_type ss_type_vip = {
	.name = "vip", .list_key = "vips",
	.schema = SS_SCHEMA_REC(vip_fields, struct ss_vip_rec),
	.bulk_raw = true,
};

/* ---- underlay_route ------------------------------------------------------------- */

static const struct ss_field next_hop_fields[] = {
	{ .name = "port", .kind = SS_F_NAME, .flags = SS_FF_REQ,
	  SS_REC(struct ss_next_hop_rec, port) },
	{ .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_REQ, SS_REC(struct ss_next_hop_rec, mac) },
	/* SPEC 3.10: the member is in the ECMP set only while the bfd
	 * session of this peer is Up (pipelines/bfd) */
	{ .name = "bfd", .kind = SS_F_IP, .flags = 0, SS_REC(struct ss_next_hop_rec, bfd) },
};
static const struct ss_schema next_hop_schema =
	SS_SCHEMA_REC(next_hop_fields, struct ss_next_hop_rec);

static const struct ss_field underlay_route_fields[] = {
	{ .name = "prefix", .kind = SS_F_PREFIX, .flags = SS_FF_KEY,
	  SS_REC(struct ss_underlay_route_rec, prefix) },
	{ .name = "next_hops", .kind = SS_F_OBJS, .flags = SS_FF_REQ, .min = 1,
	  .max = SS_OVL_MAX_NEXT_HOPS_REC, .sub = &next_hop_schema,
	  SS_REC_LIST(struct ss_underlay_route_rec, next_hops, n_next_hops) },
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

struct ss_type ss_type_underlay_route = {
	.name = "underlay_route", .list_key = "underlay_routes",
	.schema = SS_SCHEMA_REC(underlay_route_fields, struct ss_underlay_route_rec),
	.check = underlay_route_check,
};

/* ---- vnet ------------------------------------------------------------------------ */

static const struct ss_field vnet_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY, SS_REC(struct ss_vnet_rec, name) },
	{ .name = "vni", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1, .max = SS_VNI_MAX,
	  SS_REC(struct ss_vnet_rec, vni) },
	{ .name = "gateway_ip", .kind = SS_F_IP4, SS_REC(struct ss_vnet_rec, gateway_ip) },
	{ .name = "gateway_ip6", .kind = SS_F_IP6, SS_REC(struct ss_vnet_rec, gateway_ip6) },
};

/* unique: vni -> vnet */
static int
vnet_idx(const json_t *obj, int which, char *buf, size_t len)
{
	(void)which;
	snprintf(buf, len, "%lld", (long long)json_integer_value(json_object_get(obj, "vni")));
	return 0;
}

static int
vnet_idx_conflict(const json_t *obj, int which, const char *key, const char *owner,
		  struct ss_err *err)
{
	(void)obj;
	(void)which;
	return ss_err_set(err, SS_ERR_EXISTS, "vni", "vni %s is already used by vnet %s", key,
			  owner);
}

struct ss_type ss_type_vnet = {
	.name = "vnet", .list_key = "vnets",
	.schema = SS_SCHEMA_REC(vnet_fields, struct ss_vnet_rec),
	.methods = SS_TM_GET,
	.nidx = 1, .idx_key = vnet_idx, .idx_conflict = vnet_idx_conflict,
};

/* ---- direction --------------------------------------------------------------------- */

static const struct ss_field direction_fields[] = {
	{ .name = "vni", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 1, .max = SS_VNI_MAX,
	  SS_REC(struct ss_direction_rec, vni) },
};

struct ss_type ss_type_direction = {
	.name = "direction", .list_key = "directions",
	.schema = SS_SCHEMA_REC(direction_fields, struct ss_direction_rec),
	.bulk_raw = true, .capacity = SS_LIM_DEF_DIRECTIONS,
};

/* ---- eni (SPEC 3.1 step 2, 3.2 steps 3-4, 3.5 stage binding) ------------------------ */

static const char *const admin_states[] = { "up", "down", NULL };

#define ACL_STAGE(stage) \
	{ .name = #stage, .kind = SS_F_NAMES, .max = SS_ACL_MAX_STAGES, .ref = "acl_group", \
	  SS_REC_LIST(struct ss_eni_acl_rec, stage, n_##stage) }
static const struct ss_field eni_acl_fields[] = {
	ACL_STAGE(outbound_v4), ACL_STAGE(inbound_v4), ACL_STAGE(outbound_v6),
	ACL_STAGE(inbound_v6),
};
#undef ACL_STAGE
static const struct ss_schema eni_acl_schema =
	SS_SCHEMA_REC(eni_acl_fields, struct ss_eni_acl_rec);

static const struct ss_field eni_fields[] = {
	[SS_ENI_F_NAME] = { .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY,
			    SS_REC(struct ss_eni_rec, name) },
	[SS_ENI_F_MAC] = { .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_REQ,
			   SS_REC(struct ss_eni_rec, mac) },
	[SS_ENI_F_VNET] = { .name = "vnet", .kind = SS_F_NAME, .flags = SS_FF_REQ, .ref = "vnet",
			    SS_REC(struct ss_eni_rec, vnet) },
	[SS_ENI_F_ADMIN_STATE] = { .name = "admin_state", .kind = SS_F_ENUM, .flags = SS_FF_DFLT,
				   .enums = admin_states, .dflt_s = "up",
				   SS_REC(struct ss_eni_rec, admin_state) },
	[SS_ENI_F_PORT] = { .name = "port", .kind = SS_F_NAME, .flags = SS_FF_NULL,
			    SS_REC(struct ss_eni_rec, port) },
	[SS_ENI_F_VLAN] = { .name = "vlan", .kind = SS_F_VLAN, .flags = SS_FF_NULL, .min = 1,
			    .max = 4094, SS_REC(struct ss_eni_rec, vlan) },
	[SS_ENI_F_VM_UNDERLAY_IP] = { .name = "vm_underlay_ip", .kind = SS_F_IP,
				      .flags = SS_FF_NULL,
				      SS_REC(struct ss_eni_rec, vm_underlay_ip) },
	[SS_ENI_F_VM_VNI] = { .name = "vm_vni", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 1,
			      .max = SS_VNI_MAX, SS_REC(struct ss_eni_rec, vm_vni) },
	[SS_ENI_F_ROUTE_GROUP] = { .name = "route_group", .kind = SS_F_NAME, .flags = SS_FF_NULL,
				   SS_REC(struct ss_eni_rec, route_group) },
	[SS_ENI_F_ACL] = { .name = "acl", .kind = SS_F_OBJ, .flags = SS_FF_NULL,
			   .sub = &eni_acl_schema, SS_REC(struct ss_eni_rec, acl) },
	[SS_ENI_F_DSCP] = { .name = "dscp", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 0,
			    .max = 63, SS_REC(struct ss_eni_rec, dscp) },
};

static int
eni_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	static const char *const host[] = { "host", NULL };
	const json_t *port = json_object_get(obj, "port");
	const json_t *acl = json_object_get(obj, "acl");
	unsigned i;

	if (port != NULL && ss_check_port(ctl, json_string_value(port), host, "port", err) < 0)
		return -1;
	if (port == NULL && json_object_get(obj, "vlan") != NULL)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "vlan",
				  "vlan is only valid on an ENI with a port");
	if ((json_object_get(obj, "vm_underlay_ip") == NULL) !=
	    (json_object_get(obj, "vm_vni") == NULL))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS,
				  json_object_get(obj, "vm_vni") ? "vm_underlay_ip" : "vm_vni",
				  "vm_underlay_ip and vm_vni go together");
	/* stage groups must be of the stage's family (SPEC 3.5) */
	for (i = 0; acl != NULL && i < eni_acl_schema.n; i++) {
		const char *list = eni_acl_schema.f[i].name;
		const char *want = strstr(list, "_v6") ? "ipv6" : "ipv4";
		const json_t *v = json_object_get(acl, list);
		size_t k;

		for (k = 0; k < json_array_size(v); k++) {
			const char *g = json_string_value(json_array_get(v, k));
			const json_t *grp = ss_ctl_store_get(ctl, "acl_group", g);
			const char *fam;
			char field[48];

			if (grp == NULL)
				continue;   /* reported as 1001 by the reference check */
			fam = json_string_value(json_object_get(grp, "family"));
			if (fam != NULL && strcmp(fam, want) != 0) {
				snprintf(field, sizeof(field), "acl.%s[%zu]", list, k);
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, field,
						  "%s: acl_group %s is %s, stage %s needs %s", field, g,
						  fam, list, want);
			}
		}
	}
	return 0;
}

/* unique: vnet/mac (inbound ENI lookup), port/vlan/mac (outbound) */
static int
eni_idx(const json_t *obj, int which, char *buf, size_t len)
{
	const char *mac = json_string_value(json_object_get(obj, "mac"));
	int n;

	if (which == 0) {
		n = snprintf(buf, len, "%s/%s", json_string_value(json_object_get(obj, "vnet")), mac);
	} else {
		const json_t *port = json_object_get(obj, "port");

		if (port == NULL)
			return 1;
		n = snprintf(buf, len, "%s/%lld/%s", json_string_value(port),
			     (long long)json_integer_value(json_object_get(obj, "vlan")), mac);
	}
	return n > 0 && (size_t)n < len ? 0 : 1;
}

static int
eni_idx_conflict(const json_t *obj, int which, const char *key, const char *owner,
		 struct ss_err *err)
{
	(void)key;
	if (which == 0)
		return ss_err_set(err, SS_ERR_EXISTS, "mac",
				  "mac %s is already used by eni %s in vnet %s",
				  json_string_value(json_object_get(obj, "mac")), owner,
				  json_string_value(json_object_get(obj, "vnet")));
	return ss_err_set(err, SS_ERR_EXISTS, "mac", "mac %s on port %s is already used by eni %s",
			  json_string_value(json_object_get(obj, "mac")),
			  json_string_value(json_object_get(obj, "port")), owner);
}

struct ss_type ss_type_eni = {
	.name = "eni", .list_key = "enis",
	.schema = SS_SCHEMA_REC_PRES(eni_fields, struct ss_eni_rec, present),
	.methods = SS_TM_GET | SS_TM_SET,
	.check = eni_check,
	.nidx = 2, .idx_key = eni_idx, .idx_conflict = eni_idx_conflict,
};

/* ---- route (outbound, SPEC 3.1 step 6) ------------------------------------------------ */

static const char *const route_actions[] = { "vnet", "vnet_direct", "direct", "drop", NULL };

static const struct ss_field route_fields[] = {
	{ .name = "group", .kind = SS_F_NAME, .flags = SS_FF_KEY,
	  SS_REC(struct ss_route_rec, group) },
	{ .name = "prefix", .kind = SS_F_PREFIX, .flags = SS_FF_KEY,
	  SS_REC(struct ss_route_rec, prefix) },
	{ .name = "action", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = route_actions,
	  SS_REC(struct ss_route_rec, action) },
	{ .name = "vnet", .kind = SS_F_NAME, .ref = "vnet", SS_REC(struct ss_route_rec, vnet) },
	{ .name = "overlay_ip", .kind = SS_F_IP, SS_REC(struct ss_route_rec, overlay_ip) },
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

struct ss_type ss_type_route = {
	.name = "route", .list_key = "routes",
	.schema = SS_SCHEMA_REC(route_fields, struct ss_route_rec),
	.check = route_check, .filter = "group",
};

/* ---- mapping (CA -> PA, SPEC 3.1 step 7) ------------------------------------------------ */

static const struct ss_field mapping_fields[] = {
	{ .name = "vnet", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = "vnet",
	  SS_REC(struct ss_mapping_rec, vnet) },
	{ .name = "ip", .kind = SS_F_IP, .flags = SS_FF_KEY, SS_REC(struct ss_mapping_rec, ip) },
	{ .name = "underlay_ip", .kind = SS_F_IP, .flags = SS_FF_REQ,
	  SS_REC(struct ss_mapping_rec, underlay_ip) },
	{ .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_REQ, SS_REC(struct ss_mapping_rec, mac) },
	{ .name = "use_dst_vni", .kind = SS_F_BOOL, .flags = SS_FF_DFLT, .dflt_i = 0,
	  SS_REC(struct ss_mapping_rec, use_dst_vni) },
};

struct ss_type ss_type_mapping = {
	.name = "mapping", .list_key = "mappings",
	.schema = SS_SCHEMA_REC(mapping_fields, struct ss_mapping_rec),
	.bulk_raw = true, .filter = "vnet",
};

/* ---- inbound_route ------------------------------------------------------------------------ */

static const char *const inbound_actions[] = { "decap", "decap_pa_validate", NULL };

static const struct ss_field inbound_route_fields[] = {
	{ .name = "eni", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = "eni",
	  SS_REC(struct ss_inbound_route_rec, eni) },
	{ .name = "vni", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 1, .max = SS_VNI_MAX,
	  SS_REC(struct ss_inbound_route_rec, vni) },
	{ .name = "src_prefix", .kind = SS_F_PREFIX, .flags = SS_FF_KEY,
	  SS_REC(struct ss_inbound_route_rec, src_prefix) },
	{ .name = "priority", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 0,
	  .max = 2147483647, SS_REC(struct ss_inbound_route_rec, priority) },
	{ .name = "action", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = inbound_actions,
	  SS_REC(struct ss_inbound_route_rec, action) },
	{ .name = "vnet", .kind = SS_F_NAME, .ref = "vnet",
	  SS_REC(struct ss_inbound_route_rec, vnet) },
};

static int
inbound_route_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	(void)ctl;
	if (json_object_get(obj, "vnet") != NULL &&
	    strcmp(json_string_value(json_object_get(obj, "action")), "decap_pa_validate") != 0)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "vnet",
				  "vnet is only valid with action decap_pa_validate");
	return 0;
}

struct ss_type ss_type_inbound_route = {
	.name = "inbound_route", .list_key = "inbound_routes",
	.schema = SS_SCHEMA_REC(inbound_route_fields, struct ss_inbound_route_rec),
	.check = inbound_route_check, .filter = "eni",
};

/* ---- pa_validation (SPEC 3.2 step 4) -------------------------------------------------------- */

static const struct ss_field pa_validation_fields[] = {
	{ .name = "vnet", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = "vnet",
	  SS_REC(struct ss_pa_validation_rec, vnet) },
	{ .name = "underlay_ip", .kind = SS_F_IP, .flags = SS_FF_KEY,
	  SS_REC(struct ss_pa_validation_rec, underlay_ip) },
};

struct ss_type ss_type_pa_validation = {
	.name = "pa_validation", .list_key = "pa_validations",
	.schema = SS_SCHEMA_REC(pa_validation_fields, struct ss_pa_validation_rec),
	.bulk_raw = true, .filter = "vnet",
};

SS_TYPES_INIT(ss_ovl_types_init)
{
	ss_type_register(&ss_type_switch);
	ss_type_register(&ss_type_vip);
	ss_type_register(&ss_type_underlay_route);
	ss_type_register(&ss_type_vnet);
	ss_type_register(&ss_type_direction);
	ss_type_register(&ss_type_eni);
	ss_type_register(&ss_type_route);
	ss_type_register(&ss_type_mapping);
	ss_type_register(&ss_type_inbound_route);
	ss_type_register(&ss_type_pa_validation);
}
