/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Private Link's objects (SPEC 3.8, docs/privatelink.md):
 *   - fields it adds to the overlay's `mapping` type (a type extension,
 *     control/types.h): `routing` ("vnet" | "privatelink"), `overlay_sip`,
 *     `overlay_dip` (IPv6 prefixes, at most /96 or exactly /128), `vni` (the
 *     service's VNI, default the VNET's), `tunnel` (a reference);
 *   - the field it adds to `eni`: `pl_underlay_ip`;
 *   - its own type `tunnel` {name, vni, underlay_ips} (PL NSG, ECMP list).
 * Registered in pl_types.c.
 */
#ifndef SS_PL_TYPES_H
#define SS_PL_TYPES_H

#include <stdint.h>

#include "control/types.h"

#define SS_PL_TUNNEL_MAX_IPS 16

enum ss_pl_routing { SS_PL_ROUTING_VNET = 0, SS_PL_ROUTING_PRIVATELINK };

/* Inside every mapping record (ss_rec_ext(&ss_pl_mapping_ext, rec)). */
struct ss_pl_mapping_rec {
	uint8_t routing;                     /* enum ss_pl_routing */
	struct ss_rec_prefix overlay_sip;
	struct ss_rec_prefix overlay_dip;
	uint32_t vni;                        /* 0: the VNET's */
	char tunnel[SS_REC_NAME];            /* "": none */
};

/* Inside every eni record (ss_rec_ext(&ss_pl_eni_ext, rec)). */
struct ss_pl_eni_rec {
	struct ss_rec_ip pl_underlay_ip;     /* family 0: none */
};

struct ss_tunnel_rec {
	char name[SS_REC_NAME];
	uint32_t vni;
	uint32_t n_underlay_ips;
	/* addresses in their canonical text (checked by tunnel_check) */
	char underlay_ips[SS_PL_TUNNEL_MAX_IPS][SS_REC_NAME];
};

extern struct ss_type_ext ss_pl_mapping_ext, ss_pl_eni_ext;
extern struct ss_type ss_type_tunnel;

#endif
