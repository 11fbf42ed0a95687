/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Where `parse` sends a packet once it is parsed and admitted:
 *   1. the port has a peer (patch mode): l2_patch;
 *   2. otherwise the ingress arc of the port's role (pipelines/common/arc.h):
 *      "ingress.host", "ingress.fabric", "ingress.storage". parse sends the
 *      packet to the first feature of the arc whose filter accepts it (RDMA
 *      steering takes RoCEv2 packets on host and storage ports; the overlay
 *      takes the rest: host ports to the outbound pipeline, fabric and
 *      storage ports to the VXLAN inbound pipeline);
 *   3. no feature on the arc (or none accepting the packet): drop
 *      `no_forwarding`, the arcs' end.
 * Features attach their nodes with SS_ARC_FEATURE_REGISTER; sswitchd adds
 * the edges (ss_arcs_finalize) before the graphs are created.
 */
#ifndef SS_PARSE_NODE_H
#define SS_PARSE_NODE_H

#define SS_ARC_INGRESS_HOST "ingress.host"
#define SS_ARC_INGRESS_FABRIC "ingress.fabric"
#define SS_ARC_INGRESS_STORAGE "ingress.storage"

#endif
