/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The rate limiter's fields on the overlay's `eni` type (a type extension,
 * control/types.h): `rate_limit_pps` (packets per second) and
 * `rate_limit_bps` (bits per second of the tenant frames), optional,
 * 0 or absent: unlimited. Registered in rl_types.c.
 */
#ifndef SS_RL_TYPES_H
#define SS_RL_TYPES_H

#include <stdint.h>

#include "control/types.h"

#define SS_RL_MAX_PPS 1000000000000ull     /* 10^12 packets/s */
#define SS_RL_MAX_BPS 100000000000000ull   /* 100 Tbit/s */

/* Inside every eni record (ss_rec_ext(&ss_rl_eni_ext, rec)). */
struct ss_rl_eni_rec {
	uint64_t pps;
	uint64_t bps;
};

extern struct ss_type_ext ss_rl_eni_ext;

#endif
