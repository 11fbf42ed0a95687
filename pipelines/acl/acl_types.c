/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The ACL's object types (acl_types.h), registered with the control plane.
 * acl_group.replace (control/ops.c) swaps a group's whole rule set in one
 * transaction.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/ctl.h"
#include "pipelines/acl/acl_types.h"

static const char *const families[] = { "ipv4", "ipv6", NULL };
static const char *const acl_actions[] = { "allow", "deny", NULL };

static const struct ss_field acl_group_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY,
	  SS_REC(struct ss_acl_group_rec, name) },
	{ .name = "family", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = families,
	  SS_REC(struct ss_acl_group_rec, family) },
};

struct ss_type ss_type_acl_group = {
	.name = "acl_group", .list_key = "acl_groups",
	.schema = SS_SCHEMA_REC(acl_group_fields, struct ss_acl_group_rec),
	.methods = SS_TM_GET | SS_TM_REPLACE,
	.replace_child = "acl_rule", .replace_list = "rules",
};

static const struct ss_field acl_rule_fields[] = {
	{ .name = "group", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = "acl_group",
	  SS_REC(struct ss_acl_rule_rec, group) },
	{ .name = "priority", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 0,
	  .max = 2147483647, SS_REC(struct ss_acl_rule_rec, priority) },
	{ .name = "action", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = acl_actions,
	  SS_REC(struct ss_acl_rule_rec, action) },
	{ .name = "terminating", .kind = SS_F_BOOL, .flags = SS_FF_DFLT, .dflt_i = 1,
	  SS_REC(struct ss_acl_rule_rec, terminating) },
	{ .name = "src", .kind = SS_F_PREFIXES, .max = 4096, SS_REC_VEC(struct ss_acl_rule_rec, src) },
	{ .name = "dst", .kind = SS_F_PREFIXES, .max = 4096, SS_REC_VEC(struct ss_acl_rule_rec, dst) },
	{ .name = "protocols", .kind = SS_F_PROTOS, .max = 256,
	  SS_REC_VEC(struct ss_acl_rule_rec, protocols) },
	{ .name = "src_ports", .kind = SS_F_PORTS, .max = 1024,
	  SS_REC_VEC(struct ss_acl_rule_rec, src_ports) },
	{ .name = "dst_ports", .kind = SS_F_PORTS, .max = 1024,
	  SS_REC_VEC(struct ss_acl_rule_rec, dst_ports) },
};

/* The family of the rule's prefixes must be the group's. */
static int
acl_rule_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	static const char *const lists[] = { "src", "dst" };
	const char *g = json_string_value(json_object_get(obj, "group"));
	const json_t *grp = ss_ctl_store_get(ctl, "acl_group", g);
	const char *fam;
	int want, l;

	if (grp == NULL)
		return 0;   /* reported as 1001 by the reference check */
	fam = json_string_value(json_object_get(grp, "family"));
	if (fam == NULL)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	want = strcmp(fam, "ipv6") == 0 ? AF_INET6 : AF_INET;
	for (l = 0; l < 2; l++) {
		const json_t *v = json_object_get(obj, lists[l]);
		size_t k;

		for (k = 0; k < json_array_size(v); k++) {
			const char *p = json_string_value(json_array_get(v, k));
			char field[32];

			if ((strchr(p, ':') != NULL ? AF_INET6 : AF_INET) != want) {
				snprintf(field, sizeof(field), "%s[%zu]", lists[l], k);
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, field,
						  "%s: %s is not an %s prefix (acl_group %s is %s)",
						  field, p, fam, g, fam);
			}
		}
	}
	return 0;
}

struct ss_type ss_type_acl_rule = {
	.name = "acl_rule", .list_key = "rules",
	.schema = SS_SCHEMA_REC(acl_rule_fields, struct ss_acl_rule_rec),
	.check = acl_rule_check, .filter = "group",
};

SS_TYPES_INIT(ss_acl_types_init)
{
	ss_type_register(&ss_type_acl_group);
	ss_type_register(&ss_type_acl_rule);
}
