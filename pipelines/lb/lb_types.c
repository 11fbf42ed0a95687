/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's object types (lb_types.h) and their semantic checks
 * (SPEC 3.9).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/ctl.h"
#include "pipelines/lb/lb_maglev.h"
#include "pipelines/lb/lb_types.h"

/* ---- lb ------------------------------------------------------------------------------- */

static const char *const protocols[] = { "tcp", "udp", NULL };

static const struct ss_field lb_fields[] = {
	{ .name = "name", .kind = SS_F_NAME, .flags = SS_FF_KEY, SS_REC(struct ss_lb_rec, name) },
	{ .name = "vnet", .kind = SS_F_NAME, .flags = SS_FF_REQ, .ref = "vnet",
	  SS_REC(struct ss_lb_rec, vnet) },
	{ .name = "vip", .kind = SS_F_IP, .flags = SS_FF_REQ, SS_REC(struct ss_lb_rec, vip) },
	{ .name = "protocol", .kind = SS_F_ENUM, .flags = SS_FF_REQ, .enums = protocols,
	  SS_REC(struct ss_lb_rec, protocol) },
	{ .name = "port", .kind = SS_F_UINT, .flags = SS_FF_REQ, .min = 1, .max = 65535,
	  SS_REC(struct ss_lb_rec, port) },
	{ .name = "backend_port", .kind = SS_F_UINT, .min = 1, .max = 65535,
	  SS_REC(struct ss_lb_rec, backend_port) },
	{ .name = "table_size", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 2,
	  .max = SS_LB_MAX_TABLE_SIZE, .dflt_i = SS_LB_DEFAULT_TABLE_SIZE,
	  SS_REC(struct ss_lb_rec, table_size) },
};

static int lb_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	json_int_t m = json_integer_value(json_object_get(obj, "table_size"));

	(void)ctl;
	if (!ss_lb_is_prime((uint64_t)m))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "table_size",
				  "table_size: %lld is not a prime (Maglev needs a prime, e.g. "
				  "65537, 4099, 251)", (long long)m);
	/* backend_port defaults to port: stored, so lists and state.get show it */
	if (json_object_get(obj, "backend_port") == NULL &&
	    json_object_set_new(obj, "backend_port",
				json_integer(json_integer_value(json_object_get(obj, "port")))) < 0)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	return 0;
}

/* unique: (vnet, vip, protocol, port) -> lb */
static int lb_idx(const json_t *obj, int which, char *buf, size_t len)
{
	(void)which;
	snprintf(buf, len, "%s/%s/%s/%lld", json_string_value(json_object_get(obj, "vnet")),
		 json_string_value(json_object_get(obj, "vip")),
		 json_string_value(json_object_get(obj, "protocol")),
		 (long long)json_integer_value(json_object_get(obj, "port")));
	return 0;
}

static int lb_idx_conflict(const json_t *obj, int which, const char *key, const char *owner,
			   struct ss_err *err)
{
	(void)which;
	(void)key;
	return ss_err_set(err, SS_ERR_EXISTS, "vip", "vip %s %s port %lld in vnet %s is already "
			  "lb %s", json_string_value(json_object_get(obj, "vip")),
			  json_string_value(json_object_get(obj, "protocol")),
			  (long long)json_integer_value(json_object_get(obj, "port")),
			  json_string_value(json_object_get(obj, "vnet")), owner);
}

struct ss_type ss_type_lb = {
	.name = "lb", .list_key = "lbs",
	.schema = SS_SCHEMA_REC(lb_fields, struct ss_lb_rec),
	.methods = SS_TM_GET | SS_TM_ADD_CHILDREN,
	.replace_child = "lb.backend", .replace_list = "backends",
	.check = lb_check,
	.nidx = 1, .idx_key = lb_idx, .idx_conflict = lb_idx_conflict,
};

/* ---- lb.backend ---------------------------------------------------------------------------- */

static const char *const bstates[] = { "active", "draining", "down", NULL };

static const struct ss_field backend_fields[] = {
	{ .name = "lb", .kind = SS_F_NAME, .flags = SS_FF_KEY, .ref = "lb",
	  SS_REC(struct ss_lb_backend_rec, lb) },
	{ .name = "ip", .kind = SS_F_IP, .flags = SS_FF_KEY, SS_REC(struct ss_lb_backend_rec, ip) },
	{ .name = "weight", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 1,
	  .max = SS_LB_MAX_WEIGHT, .dflt_i = 1, SS_REC(struct ss_lb_backend_rec, weight) },
	{ .name = "state", .kind = SS_F_ENUM, .flags = SS_FF_DFLT, .enums = bstates,
	  .dflt_s = "active", SS_REC(struct ss_lb_backend_rec, state) },
};

static int backend_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	const char *lb = json_string_value(json_object_get(obj, "lb"));
	const char *ip = json_string_value(json_object_get(obj, "ip"));
	const json_t *l = ss_ctl_store_get(ctl, "lb", lb);

	/* the lb exists: references are checked before this check */
	if (l != NULL && ss_obj_family(l, "vip") != ss_obj_family(obj, "ip"))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "ip",
				  "ip: %s is not of the family of lb %s's vip %s", ip, lb,
				  json_string_value(json_object_get(l, "vip")));
	return 0;
}

struct ss_type ss_type_lb_backend = {
	.name = "lb.backend", .list_key = "backends",
	.schema = SS_SCHEMA_REC(backend_fields, struct ss_lb_backend_rec),
	.methods = SS_TM_SET,
	.filter = "lb",
	.check = backend_check,
	/* counter slots (lb.h): a backend's table index fits 16 bits anyway */
	.capacity = SS_LB_MAX_BACKENDS,
};

/* ---- lb.config ----------------------------------------------------------------------------- */

static const struct ss_field config_fields[] = {
	{ .name = "error_utilization_penalty", .kind = SS_F_REAL, .flags = SS_FF_DFLT, .min = 0,
	  .max = 1000000, .dflt_r = 1.0,
	  SS_REC(struct ss_lb_config_rec, error_utilization_penalty) },
	{ .name = "blackout_period_ms", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 0,
	  .max = 86400000, .dflt_i = 10000, SS_REC(struct ss_lb_config_rec, blackout_period_ms) },
	{ .name = "weight_expiration_ms", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 1,
	  .max = 86400000, .dflt_i = 180000,
	  SS_REC(struct ss_lb_config_rec, weight_expiration_ms) },
	{ .name = "weight_update_period_ms", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 1,
	  .max = 86400000, .dflt_i = 1000,
	  SS_REC(struct ss_lb_config_rec, weight_update_period_ms) },
};

static json_t *config_defaults(const struct ss_ctl_conf *conf)
{
	(void)conf;
	return json_pack("{sfsIsIsI}", "error_utilization_penalty", 1.0, "blackout_period_ms",
			 (json_int_t)10000, "weight_expiration_ms", (json_int_t)180000,
			 "weight_update_period_ms", (json_int_t)1000);
}

struct ss_type ss_type_lb_config = {
	.name = "lb.config", .list_key = "lb.config",
	.schema = SS_SCHEMA_REC(config_fields, struct ss_lb_config_rec),
	.singleton = true, .defaults = config_defaults,
};

SS_TYPES_INIT(ss_lb_types_init)
{
	ss_type_register(&ss_type_lb);
	ss_type_register(&ss_type_lb_backend);
	ss_type_register(&ss_type_lb_config);
}
