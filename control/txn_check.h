/* SPDX-License-Identifier: BSD-3-Clause
 *
 * txn.check {ops, changes?}: a txn's full validation and capacity check
 * with nothing applied (txn_check.c, docs/api.md).
 */
#ifndef SS_CTL_TXN_CHECK_H
#define SS_CTL_TXN_CHECK_H

#include "control/ctl.h"

/* The handler (an ss_ctl_method_fn), registered as "txn.check" by
 * ss_ctl_create. */
int ss_txn_check_method(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
			char *err, size_t errlen, const char **field);

#endif /* SS_CTL_TXN_CHECK_H */
