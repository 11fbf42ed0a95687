/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The transaction layer's state (txn.c): the committed generation, the
 * open-transaction flag, the data-plane tables a commit hands changes to
 * and the journal hooks. The facade owns it (control/ctl.c) and the layers
 * from txn up reach it as ss_core(ctl)->txn; the ops layer below does not
 * include this header. The functions are in ops.h (methods apply ops
 * inside a transaction).
 */
#ifndef SS_CTL_TXN_H
#define SS_CTL_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/ctl-int.h"

struct ss_txn_state {
	uint64_t generation;         /* of the committed state */
	bool in_txn;
	struct ss_ctl_table *tables; /* ss_ctl_register_table(), in order */
	size_t ntables;
	/* The journal of committed transactions, installed by persist.c so
	 * that txn.c (below it) calls it without depending on it: append()
	 * journals the open transaction as generation gen before the commit
	 * (0 or -1 with err), committed() runs after it (compaction). */
	struct {
		int (*append)(struct ss_ctl *ctl, uint64_t gen, struct ss_err *err);
		void (*committed)(struct ss_ctl *ctl);
	} journal;
};

#endif /* SS_CTL_TXN_H */
