/* SPDX-License-Identifier: BSD-3-Clause
 *
 * eni.rate_limit_pps / eni.rate_limit_bps: fields the rate limiter adds to
 * the overlay's `eni` type (rl_types.h). Validated, stored, journaled and
 * listed like the ENI's own fields; decoded into struct ss_rl_eni_rec.
 */
#include "pipelines/ratelimit/rl_types.h"

static const struct ss_field rl_eni_fields[] = {
	{ .name = "rate_limit_pps", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 0,
	  .max = (int64_t)SS_RL_MAX_PPS, SS_REC(struct ss_rl_eni_rec, pps) },
	{ .name = "rate_limit_bps", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 0,
	  .max = (int64_t)SS_RL_MAX_BPS, SS_REC(struct ss_rl_eni_rec, bps) },
};

struct ss_type_ext ss_rl_eni_ext = {
	.type = "eni",
	.owner = "ratelimit",
	.schema = SS_SCHEMA_REC(rl_eni_fields, struct ss_rl_eni_rec),
};

SS_TYPES_INIT(ss_rl_types_init)
{
	ss_type_extend(&ss_rl_eni_ext);
}
