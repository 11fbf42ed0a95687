/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SS_WORKER_H
#define SS_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include <rte_rcu_qsbr.h>

#include "dataplane/config.h"
#include "dataplane/worker-t.h"

/* The QSBR variable every worker reports to (thread id = worker index). */
extern struct rte_rcu_qsbr *ss_qsbr;

/* Allocate the workers, assign rx queues (queue q of every port goes to
 * worker q % W), finalise the feature arcs (ss_arcs_finalize: their graph
 * edges) and create one graph per worker. After ss_features_init and
 * ss_ports_init. */
int ss_workers_init(const struct ss_config *cfg, char *err, size_t errlen);
/* Launch the workers on their lcores. */
int ss_workers_launch(char *err, size_t errlen);
/* Ask the workers to stop and wait for them (they finish the current walk). */
void ss_workers_stop(void);
/* Wait until every online worker has passed a quiescent state. */
void ss_workers_rcu_synchronize(void);
void ss_workers_free(void);

#endif
