/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ENIs and their inbound routes (SPEC sections 3.1 step 2, 3.2 steps 3-4,
 * 3.5 stage binding).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/objects.h"
#include "control/store.h"

#define VNI_MAX 16777215
#define ACL_MAX_STAGES 5

static const char *const admin_states[] = { "up", "down", NULL };

static const struct ss_field eni_acl_fields[] = {
	{ .name = "outbound_v4", .kind = SS_F_NAMES, .max = ACL_MAX_STAGES,
	  .ref = SS_REF(SS_T_ACL_GROUP) },
	{ .name = "inbound_v4", .kind = SS_F_NAMES, .max = ACL_MAX_STAGES,
	  .ref = SS_REF(SS_T_ACL_GROUP) },
	{ .name = "outbound_v6", .kind = SS_F_NAMES, .max = ACL_MAX_STAGES,
	  .ref = SS_REF(SS_T_ACL_GROUP) },
	{ .name = "inbound_v6", .kind = SS_F_NAMES, .max = ACL_MAX_STAGES,
	  .ref = SS_REF(SS_T_ACL_GROUP) },
};
static const struct ss_schema eni_acl_schema = SS_SCHEMA(eni_acl_fields);

static const struct ss_field eni_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY },
	{ .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_REQ },
	{ .name = "vnet", .kind = SS_F_NAME, .flags = SS_FF_REQ, .ref = SS_REF(SS_T_VNET) },
	{ .name = "admin_state", .kind = SS_F_ENUM, .flags = SS_FF_DFLT, .enums = admin_states,
	  .dflt_s = "up" },
	{ .name = "port", .kind = SS_F_NAME, .flags = SS_FF_NULL },
	{ .name = "vlan", .kind = SS_F_VLAN, .flags = SS_FF_NULL, .min = 1, .max = 4094 },
	{ .name = "vm_underlay_ip", .kind = SS_F_IP, .flags = SS_FF_NULL },
	{ .name = "vm_vni", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 1, .max = VNI_MAX },
	{ .name = "route_group", .kind = SS_F_NAME, .flags = SS_FF_NULL },
	{ .name = "acl", .kind = SS_F_OBJ, .flags = SS_FF_NULL, .sub = &eni_acl_schema },
	{ .name = "dscp", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 0, .max = 63 },
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
			struct ss_node *n = ss_store_find(&ctl->store, SS_T_ACL_GROUP, g, strlen(g));
			const char *fam;
			char field[48];

			if (n == NULL)
				continue;   /* reported as 1001 by the reference check */
			fam = json_string_value(json_object_get(ss_node_obj(n), "family"));
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

const struct ss_type ss_type_eni = {
	.name = "eni", .list_key = "enis",
	.schema = SS_SCHEMA(eni_fields),
	.idx = { SS_IDX_ENI_VNET_MAC, SS_IDX_ENI_PORT_MAC }, .idx_key = eni_idx,
	.check = eni_check,
};

/* ---- inbound_route ----------------------------------------------------- */

static const char *const inbound_actions[] = { "decap", "decap_pa_validate", NULL };

static const struct ss_field inbound_route_fields[] = {
	{ .name = "eni", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = SS_REF(SS_T_ENI) },
	{ .name = "vni", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 1, .max = VNI_MAX },
	{ .name = "src_prefix", .kind = SS_F_PREFIX, .flags = SS_FF_KEY },
	{ .name = "priority", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 0,
	  .max = 2147483647 },
	{ .name = "action", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = inbound_actions },
	{ .name = "vnet", .kind = SS_F_NAME, .ref = SS_REF(SS_T_VNET) },
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

static int
no_idx(const json_t *obj, int which, char *buf, size_t len)
{
	(void)obj;
	(void)which;
	(void)buf;
	(void)len;
	return 1;
}

const struct ss_type ss_type_inbound_route = {
	.name = "inbound_route", .list_key = "inbound_routes",
	.schema = SS_SCHEMA(inbound_route_fields),
	.idx = { -1, -1 }, .idx_key = no_idx, .check = inbound_route_check, .filter = "eni",
};
