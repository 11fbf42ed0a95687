/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The overlay's object types (SPEC sections 3.1-3.3, 4) and the records the
 * control core hands to the overlay tables (control/types.h): switch, vip,
 * underlay_route, vnet, direction, eni, route, mapping, inbound_route,
 * pa_validation. Declared and registered in ovl_types.c.
 */
#ifndef SS_OVL_TYPES_H
#define SS_OVL_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "control/types.h"

#define SS_VNI_MAX 16777215
#define SS_OVL_MAX_NEXT_HOPS_REC 16
#define SS_ACL_MAX_STAGES 5          /* acl groups per ENI stage */

extern struct ss_type ss_type_switch, ss_type_vip, ss_type_underlay_route, ss_type_vnet,
	ss_type_direction, ss_type_eni, ss_type_route, ss_type_mapping, ss_type_inbound_route,
	ss_type_pa_validation;

struct ss_switch_rec {
	struct ss_rec_ip underlay_ip;        /* family 0: not set */
	struct ss_rec_ip underlay_ip6;
	uint8_t mac[6];
	uint64_t present;                    /* bit: field index (SS_SWITCH_F_*) */
};
enum { SS_SWITCH_F_UNDERLAY_IP, SS_SWITCH_F_UNDERLAY_IP6, SS_SWITCH_F_MAC };

struct ss_vip_rec {
	struct ss_rec_ip ip;
};

struct ss_next_hop_rec {
	char port[SS_REC_NAME];
	uint8_t mac[6];
	struct ss_rec_ip bfd;                /* the BFD session's peer; family 0: none */
};

struct ss_underlay_route_rec {
	struct ss_rec_prefix prefix;
	uint32_t n_next_hops;
	struct ss_next_hop_rec next_hops[SS_OVL_MAX_NEXT_HOPS_REC];
};

struct ss_vnet_rec {
	char name[SS_REC_NAME];
	uint32_t vni;
	struct ss_rec_ip gateway_ip;         /* family 0: none */
	struct ss_rec_ip gateway_ip6;
};

struct ss_direction_rec {
	uint32_t vni;
};

/* route.action */
enum ss_route_action { SS_ROUTE_VNET, SS_ROUTE_VNET_DIRECT, SS_ROUTE_DIRECT, SS_ROUTE_DROP };

struct ss_route_rec {
	char group[SS_REC_NAME];
	struct ss_rec_prefix prefix;
	uint8_t action;                      /* enum ss_route_action */
	char vnet[SS_REC_NAME];              /* "": the ENI's VNET */
	struct ss_rec_ip overlay_ip;         /* vnet_direct only */
};

struct ss_mapping_rec {
	char vnet[SS_REC_NAME];
	struct ss_rec_ip ip;
	struct ss_rec_ip underlay_ip;
	uint8_t mac[6];
	bool use_dst_vni;
};

struct ss_pa_validation_rec {
	char vnet[SS_REC_NAME];
	struct ss_rec_ip underlay_ip;
};

/* eni.acl: the ACL groups of each stage, in order */
struct ss_eni_acl_rec {
	uint32_t n_outbound_v4, n_inbound_v4, n_outbound_v6, n_inbound_v6;
	char outbound_v4[SS_ACL_MAX_STAGES][SS_REC_NAME];
	char inbound_v4[SS_ACL_MAX_STAGES][SS_REC_NAME];
	char outbound_v6[SS_ACL_MAX_STAGES][SS_REC_NAME];
	char inbound_v6[SS_ACL_MAX_STAGES][SS_REC_NAME];
};

enum ss_eni_admin { SS_ENI_UP, SS_ENI_DOWN };

struct ss_eni_rec {
	char name[SS_REC_NAME];
	uint8_t mac[6];
	uint8_t admin_state;                 /* enum ss_eni_admin */
	uint8_t dscp;                        /* if SS_ENI_F_DSCP is present */
	char vnet[SS_REC_NAME];
	char port[SS_REC_NAME];              /* "": an appliance ENI */
	uint16_t vlan;                       /* 0: untagged */
	struct ss_rec_ip vm_underlay_ip;
	uint32_t vm_vni;
	char route_group[SS_REC_NAME];
	struct ss_eni_acl_rec acl;
	uint64_t present;                    /* bit: field index (SS_ENI_F_*) */
};
enum {
	SS_ENI_F_NAME, SS_ENI_F_MAC, SS_ENI_F_VNET, SS_ENI_F_ADMIN_STATE, SS_ENI_F_PORT,
	SS_ENI_F_VLAN, SS_ENI_F_VM_UNDERLAY_IP, SS_ENI_F_VM_VNI, SS_ENI_F_ROUTE_GROUP,
	SS_ENI_F_ACL, SS_ENI_F_DSCP,
};

enum ss_inbound_action { SS_INBOUND_DECAP, SS_INBOUND_DECAP_PA_VALIDATE };

struct ss_inbound_route_rec {
	char eni[SS_REC_NAME];
	uint32_t vni;
	struct ss_rec_prefix src_prefix;
	uint32_t priority;
	uint8_t action;                      /* enum ss_inbound_action */
	char vnet[SS_REC_NAME];              /* "": the ENI's VNET */
};

#endif /* SS_OVL_TYPES_H */
