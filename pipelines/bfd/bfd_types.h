/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The `bfd` object type (SPEC 3.10): one BFD session per peer address.
 *   bfd.add {peer, port, mac (optional), local_ip (default: the switch
 *            underlay IP of the peer's family), tx_interval_ms (300),
 *            rx_interval_ms (300), detect_mult (3), multihop (false)}
 *   bfd.set {peer, ...}   changes intervals (a Poll Sequence when Up)
 *   bfd.delete {peer}, bfd.list -> {sessions: [...]}
 * Registered in bfd_types.c; the list's runtime fields (state,
 * discriminators, counters) come from a decorator (bfd_feature.c).
 */
#ifndef SS_BFD_TYPES_H
#define SS_BFD_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "control/types.h"

#define SS_BFD_MAX_SESSIONS 256
#define SS_BFD_MIN_INTERVAL_MS 10
#define SS_BFD_MAX_INTERVAL_MS 60000

struct ss_bfd_rec {
	struct ss_rec_ip peer;
	char port[SS_REC_NAME];
	uint8_t mac[6];                 /* if SS_BFD_F_MAC is present */
	struct ss_rec_ip local_ip;      /* family 0: the switch underlay IP */
	uint32_t tx_interval_ms;
	uint32_t rx_interval_ms;
	uint8_t detect_mult;
	bool multihop;
	uint64_t present;               /* bit: field index (SS_BFD_F_*) */
};
enum {
	SS_BFD_F_PEER, SS_BFD_F_PORT, SS_BFD_F_MAC, SS_BFD_F_LOCAL_IP, SS_BFD_F_TX,
	SS_BFD_F_RX, SS_BFD_F_MULT, SS_BFD_F_MULTIHOP,
};

extern struct ss_type ss_type_bfd;

#endif
