/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The `bfd` object type (bfd_types.h): schema, record, checks.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/ctl.h"
#include "pipelines/bfd/bfd_types.h"

static const struct ss_field bfd_fields[] = {
	[SS_BFD_F_PEER] = { .name = "peer", .kind = SS_F_IP, .flags = SS_FF_KEY,
			    SS_REC(struct ss_bfd_rec, peer) },
	[SS_BFD_F_PORT] = { .name = "port", .kind = SS_F_NAME, .flags = SS_FF_REQ,
			    SS_REC(struct ss_bfd_rec, port) },
	[SS_BFD_F_MAC] = { .name = "mac", .kind = SS_F_MAC, .flags = SS_FF_NULL,
			   SS_REC(struct ss_bfd_rec, mac) },
	[SS_BFD_F_LOCAL_IP] = { .name = "local_ip", .kind = SS_F_IP, .flags = SS_FF_NULL,
				SS_REC(struct ss_bfd_rec, local_ip) },
	[SS_BFD_F_TX] = { .name = "tx_interval_ms", .kind = SS_F_UINT, .flags = SS_FF_DFLT,
			  .dflt_i = 300, .min = SS_BFD_MIN_INTERVAL_MS, .max = SS_BFD_MAX_INTERVAL_MS,
			  SS_REC(struct ss_bfd_rec, tx_interval_ms) },
	[SS_BFD_F_RX] = { .name = "rx_interval_ms", .kind = SS_F_UINT, .flags = SS_FF_DFLT,
			  .dflt_i = 300, .min = SS_BFD_MIN_INTERVAL_MS, .max = SS_BFD_MAX_INTERVAL_MS,
			  SS_REC(struct ss_bfd_rec, rx_interval_ms) },
	[SS_BFD_F_MULT] = { .name = "detect_mult", .kind = SS_F_UINT, .flags = SS_FF_DFLT,
			    .dflt_i = 3, .min = 1, .max = 255,
			    SS_REC(struct ss_bfd_rec, detect_mult) },
	[SS_BFD_F_MULTIHOP] = { .name = "multihop", .kind = SS_F_BOOL, .flags = SS_FF_DFLT,
				.dflt_i = 0, SS_REC(struct ss_bfd_rec, multihop) },
};

static int bfd_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	static const char *const roles[] = { "fabric", NULL };
	int fam = ss_obj_family(obj, "peer");
	int lfam = ss_obj_family(obj, "local_ip");

	if (ss_check_port(ctl, json_string_value(json_object_get(obj, "port")), roles, "port",
			  err) < 0)
		return -1;
	if (lfam != 0 && lfam != fam)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "local_ip",
				  "bfd %s: local_ip is not of the peer's family",
				  json_string_value(json_object_get(obj, "peer")));
	return 0;
}

struct ss_type ss_type_bfd = {
	.name = "bfd", .list_key = "sessions",
	.schema = SS_SCHEMA_REC_PRES(bfd_fields, struct ss_bfd_rec, present),
	.methods = SS_TM_SET,
	.check = bfd_check,
	.capacity = SS_BFD_MAX_SESSIONS,
};

SS_TYPES_INIT(ss_bfd_types_init)
{
	ss_type_register(&ss_type_bfd);
}
