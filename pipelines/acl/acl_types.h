/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The ACL's object types (SPEC section 3.5) and their records
 * (control/types.h): a group is {name, family}; its rules are separate
 * objects keyed "group/priority" so a rule change is a small change.
 * Declared and registered in acl_types.c.
 */
#ifndef SS_ACL_TYPES_H
#define SS_ACL_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "control/types.h"

extern struct ss_type ss_type_acl_group, ss_type_acl_rule;

enum ss_acl_family { SS_ACL_IPV4, SS_ACL_IPV6 };

struct ss_acl_group_rec {
	char name[SS_REC_NAME];
	uint8_t family;                      /* enum ss_acl_family */
};

enum ss_acl_rule_action { SS_ACL_ALLOW, SS_ACL_DENY };   /* not ss_acl_action: acl-t.h */

/* Lists are long (4096 prefixes): ss_rec_vec of struct ss_rec_prefix,
 * uint8_t protocols, struct ss_rec_port_range; n == 0: any. */
struct ss_acl_rule_rec {
	char group[SS_REC_NAME];
	uint32_t priority;
	uint8_t action;                      /* enum ss_acl_rule_action */
	bool terminating;
	struct ss_rec_vec src, dst, protocols, src_ports, dst_ports;
};

#endif /* SS_ACL_TYPES_H */
