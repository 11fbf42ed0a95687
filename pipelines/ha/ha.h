/* SPDX-License-Identifier: BSD-3-Clause
 *
 * HA pair (SPEC 3.11, docs/ha.md): what the HA feature's files share.
 *
 *   ha_msg.[ch]   the channel's messages (no DPDK: unit tests, fuzzer)
 *   ha_chan.c     the channel: sockets, sequence numbers and acks, bulk and
 *                 incremental sync, the standby's installs (control thread)
 *   ha_lb.c       the load balancer's sessions on the channel (control thread)
 *   ha_node.c     ha_out / ha_in: the standby's stage in front of the
 *                 policy nodes (workers)
 *   ha_feature.c  config, ha.get / ha.set, stats, health, the poll
 */
#ifndef SS_HA_H
#define SS_HA_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dataplane/worker-t.h"

#define SS_HA_NODE_OUT "ha_out"
#define SS_HA_NODE_IN "ha_in"

/* Tenant packets a standby forwarded by its synced flows, per worker
 * (written by that worker only). */
struct ss_ha_wcnt {
	uint64_t standby_rx;
} __rte_cache_aligned;
extern struct ss_ha_wcnt ss_ha_wcnt[SS_MAX_WORKERS];

#endif
