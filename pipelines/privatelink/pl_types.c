/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Private Link's object types (pl_types.h): the mapping and ENI fields it
 * adds, the `tunnel` type, and their semantic checks (SPEC 3.8).
 *
 * Note: a bulk mapping.add naming one of these fields takes the general
 * path, not the raw one (control/types.c raw_stop; docs/privatelink.md,
 * "Costs").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "control/ctl.h"
#include "pipelines/overlay/ovl_types.h"
#include "pipelines/privatelink/pl_types.h"

/* ---- mapping.routing / overlay_sip / overlay_dip / vni / tunnel ---------------- */

static const char *const routings[] = { "vnet", "privatelink", NULL };

static const struct ss_field pl_mapping_fields[] = {
	{ .name = "routing", .kind = SS_F_ENUM, .enums = routings,
	  SS_REC(struct ss_pl_mapping_rec, routing) },
	{ .name = "overlay_sip", .kind = SS_F_PREFIX,
	  SS_REC(struct ss_pl_mapping_rec, overlay_sip) },
	{ .name = "overlay_dip", .kind = SS_F_PREFIX,
	  SS_REC(struct ss_pl_mapping_rec, overlay_dip) },
	{ .name = "vni", .kind = SS_F_UINT, .min = 1, .max = SS_VNI_MAX,
	  SS_REC(struct ss_pl_mapping_rec, vni) },
	{ .name = "tunnel", .kind = SS_F_NAME, .ref = "tunnel",
	  SS_REC(struct ss_pl_mapping_rec, tunnel) },
};

/* An NAT46 prefix (SPEC 3.8): IPv6, at most /96 (the low 32 bits carry the
 * IPv4 address) or exactly /128 (replaces the address whole). */
static int
nat_prefix_check(const json_t *obj, const char *field, struct ss_err *err)
{
	const char *s = json_string_value(json_object_get(obj, field));
	const char *slash = s ? strchr(s, '/') : NULL;
	long len;

	if (s == NULL)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, field,
				  "%s is required with routing privatelink", field);
	if (ss_obj_family(obj, field) != AF_INET6 || slash == NULL)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, field, "%s: %s is not an IPv6 prefix",
				  field, s);
	len = strtol(slash + 1, NULL, 10);
	if (len > 96 && len != 128)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, field,
				  "%s: %s: a NAT46 prefix is at most /96 or exactly /128", field,
				  s);
	return 0;
}

static int
pl_mapping_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	static const char *const pl_only[] = { "overlay_sip", "overlay_dip", "vni", "tunnel" };
	const char *routing = json_string_value(json_object_get(obj, "routing"));

	(void)ctl;
	if (routing == NULL || strcmp(routing, "privatelink") != 0) {
		for (size_t i = 0; i < sizeof(pl_only) / sizeof(pl_only[0]); i++)
			if (json_object_get(obj, pl_only[i]) != NULL)
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, pl_only[i],
						  "%s is only valid with routing privatelink",
						  pl_only[i]);
		return 0;
	}
	if (nat_prefix_check(obj, "overlay_sip", err) < 0 ||
	    nat_prefix_check(obj, "overlay_dip", err) < 0)
		return -1;
	return 0;
}

struct ss_type_ext ss_pl_mapping_ext = {
	.type = "mapping",
	.owner = "privatelink",
	.schema = SS_SCHEMA_REC(pl_mapping_fields, struct ss_pl_mapping_rec),
	.check = pl_mapping_check,
};

/* ---- eni.pl_underlay_ip ------------------------------------------------------------ */

static const struct ss_field pl_eni_fields[] = {
	{ .name = "pl_underlay_ip", .kind = SS_F_IP, .flags = SS_FF_NULL,
	  SS_REC(struct ss_pl_eni_rec, pl_underlay_ip) },
};

struct ss_type_ext ss_pl_eni_ext = {
	.type = "eni",
	.owner = "privatelink",
	.schema = SS_SCHEMA_REC(pl_eni_fields, struct ss_pl_eni_rec),
};

/* ---- tunnel (PL NSG) ------------------------------------------------------------------ */

static const struct ss_field tunnel_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY,
	  SS_REC(struct ss_tunnel_rec, name) },
	{ .name = "vni", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1, .max = SS_VNI_MAX,
	  SS_REC(struct ss_tunnel_rec, vni) },
	/* a list of addresses: names' syntax admits every address text; each is
	 * parsed (and must be canonical) in tunnel_check */
	{ .name = "underlay_ips", .kind = SS_F_NAMES, .flags = SS_FF_REQ,
	  .max = SS_PL_TUNNEL_MAX_IPS,
	  SS_REC_LIST(struct ss_tunnel_rec, underlay_ips, n_underlay_ips) },
};

static int
tunnel_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	const json_t *ips = json_object_get(obj, "underlay_ips");
	size_t i;

	(void)ctl;
	if (json_array_size(ips) == 0)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "underlay_ips",
				  "underlay_ips: at least one address");
	for (i = 0; i < json_array_size(ips); i++) {
		const char *s = json_string_value(json_array_get(ips, i));
		int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
		char out[INET6_ADDRSTRLEN], field[48];
		uint8_t a[16];

		snprintf(field, sizeof(field), "underlay_ips[%zu]", i);
		if (inet_pton(af, s, a) != 1 || inet_ntop(af, a, out, sizeof(out)) == NULL)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, field,
					  "%s: \"%s\" is not an address", field, s);
		if (strcmp(out, s) != 0)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, field,
					  "%s: \"%s\": write it as %s", field, s, out);
	}
	return 0;
}

struct ss_type ss_type_tunnel = {
	.name = "tunnel", .list_key = "tunnels",
	.schema = SS_SCHEMA_REC(tunnel_fields, struct ss_tunnel_rec),
	.check = tunnel_check,
};

SS_TYPES_INIT(ss_pl_types_init)
{
	ss_type_register(&ss_type_tunnel);
	ss_type_extend(&ss_pl_mapping_ext);
	ss_type_extend(&ss_pl_eni_ext);
}
