/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ACL groups and rules (SPEC section 3.5). A group is {name, family}; its
 * rules are separate objects keyed "group/priority" so a rule change is a
 * small change. acl_group.replace (ops.c) swaps a group's whole rule set in
 * one transaction.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/objects.h"
#include "control/store.h"

static const char *const families[] = { "ipv4", "ipv6", NULL };
static const char *const acl_actions[] = { "allow", "deny", NULL };

static const struct ss_field acl_group_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY },
	{ .name = "family", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = families },
};

static int
no_idx(const json_t *obj, int which, char *buf, size_t len)
{
	(void)obj;
	(void)which;
	(void)buf;
	(void)len;
	return 1;
}

const struct ss_type ss_type_acl_group = {
	.name = "acl_group", .list_key = "acl_groups",
	.schema = SS_SCHEMA(acl_group_fields),
	.idx = { -1, -1 }, .idx_key = no_idx,
};

static const struct ss_field acl_rule_fields[] = {
	{ .name = "group", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = SS_REF(SS_T_ACL_GROUP) },
	{ .name = "priority", .kind = SS_F_UINT, .flags = SS_FF_KEY, .min = 0,
	  .max = 2147483647 },
	{ .name = "action", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = acl_actions },
	{ .name = "terminating", .kind = SS_F_BOOL, .flags = SS_FF_DFLT, .dflt_i = 1 },
	{ .name = "src", .kind = SS_F_PREFIXES, .max = 4096 },
	{ .name = "dst", .kind = SS_F_PREFIXES, .max = 4096 },
	{ .name = "protocols", .kind = SS_F_PROTOS, .max = 256 },
	{ .name = "src_ports", .kind = SS_F_PORTS, .max = 1024 },
	{ .name = "dst_ports", .kind = SS_F_PORTS, .max = 1024 },
};

/* The family of the rule's prefixes must be the group's. */
static int
acl_rule_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	static const char *const lists[] = { "src", "dst" };
	const char *g = json_string_value(json_object_get(obj, "group"));
	struct ss_node *n = ss_store_find(&ctl->store, SS_T_ACL_GROUP, g, strlen(g));
	const char *fam;
	int want, l;

	if (n == NULL)
		return 0;   /* reported as 1001 by the reference check */
	fam = json_string_value(json_object_get(ss_node_obj(n), "family"));
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

const struct ss_type ss_type_acl_rule = {
	.name = "acl_rule", .list_key = "rules",
	.schema = SS_SCHEMA(acl_rule_fields),
	.idx = { -1, -1 }, .idx_key = no_idx, .check = acl_rule_check, .filter = "group",
};
