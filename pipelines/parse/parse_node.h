/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Where `parse` sends a packet once it is parsed and admitted:
 *   1. the port has a peer (patch mode): l2_patch;
 *   2. a RoCEv2 packet (UDP 4791 with a BTH) on a host or storage port, when
 *      a feature registered a RoCE node: that node (RDMA steering decides,
 *      and hands what it does not steer to the role's node itself);
 *   3. the node registered for the port's role (host: the tenant outbound
 *      pipeline; fabric and storage: the VXLAN inbound pipeline);
 *   4. otherwise: drop `no_forwarding`.
 * Features register their nodes from their init (dataplane/feature.h),
 * before the graphs are created. Control thread only.
 */
#ifndef SS_PARSE_NODE_H
#define SS_PARSE_NODE_H

#include "dataplane/port-t.h"

/* 0 or -errno (unknown node, role already taken). */
int ss_parse_set_ingress(enum ss_port_role role, const char *node);
int ss_parse_set_roce(const char *node);
/* The edge name registered for a role, NULL if none (nodes that hand packets
 * on to the role's pipeline use it to add their own edge). */
const char *ss_parse_ingress_node(enum ss_port_role role);

#endif
