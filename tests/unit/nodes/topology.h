/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The overlay topology the overlay, policy and RDMA node tests share, set
 * through the JSON-RPC API (nt_topology()). Addresses are text, as the
 * API takes them; tests turn them into bytes with nt_ip / nt_mac.
 *
 *   switch    underlay 100.64.0.1 / fd00::1, MAC 02:00:00:00:ee:01
 *   underlay  100.64.1.0/24 and 8.8.0.0/16 -> fabric0 via TP_NH4;
 *             fd00:1::/64 -> fabric0 via TP_NH6; nothing for 100.64.2.0/24
 *   vnets     v1 (VNI 1000, gateway 10.1.0.1), v2 (VNI 2000)
 *   ENIs      on host0, VNET v1, route group rg1:
 *             e1 (untagged), e2 (VLAN 100), edown (admin down),
 *             edscp (dscp 46), eacl (outbound_v4 ACL web_only: TCP/80)
 *   routes    rg1: 10.1.0.0/16 vnet, 10.2.0.0/16 vnet v2, 10.3.0.0/16
 *             vnet_direct 10.1.0.50, 10.9.0.0/16 drop, 8.8.0.0/16 direct,
 *             2001:db8:1::/48 vnet
 *   mappings  v1: 10.1.0.20 -> 100.64.1.20, 10.1.0.21 -> fd00:1::21,
 *             10.1.0.22 -> 100.64.2.22 (no underlay route),
 *             10.1.0.50 -> 100.64.1.50, 2001:db8:1::20 -> 100.64.1.20;
 *             v2: 10.2.0.5 -> 100.64.1.5 (use_dst_vni),
 *             10.2.0.6 -> 100.64.1.6
 *             (mapping MAC: 02:00:00:00:aa:XX, XX the last digits of the CA as
 *             written, read as hex: 10.1.0.20 -> aa:20, 10.2.0.5 -> aa:05)
 */
#ifndef SS_NODE_TOPOLOGY_H
#define SS_NODE_TOPOLOGY_H

#define TP_SW_MAC "02:00:00:00:ee:01"
#define TP_UL4 "100.64.0.1"
#define TP_UL6 "fd00::1"
#define TP_NH4 "02:00:00:00:99:01"
#define TP_NH6 "02:00:00:00:99:02"
#define TP_VNI1 1000
#define TP_VNI2 2000
#define TP_GW1 "10.1.0.1"

#define TP_E1_MAC "02:00:00:00:01:01"
#define TP_E2_MAC "02:00:00:00:01:02"
#define TP_EDOWN_MAC "02:00:00:00:01:03"
#define TP_EDSCP_MAC "02:00:00:00:01:04"
#define TP_EACL_MAC "02:00:00:00:01:05"
#define TP_E2_VLAN 100
#define TP_EDSCP_DSCP 46

#define TP_VM "10.1.0.10"      /* the ENIs' own tenant address */
#define TP_VM6 "2001:db8:1::10"

struct pb;
struct rte_mbuf;

/* Set the topology (once per process). */
void nt_topology(void);

/* An outbound tenant packet as the outbound arc receives it: the frame
 * received on host0, parsed, then through overlay_host (which must hand it
 * on to the outbound arc: the test fails otherwise). */
struct rte_mbuf *nt_outbound_mbuf(const struct pb *frame);
/* The same for a frame from ENI e1 (TP_E1_MAC, untagged, source TP_VM or
 * TP_VM6 by the family of dst) to dst: protocol, ports and payload as
 * nt_frame_ip takes them. */
struct rte_mbuf *nt_outbound_e1(const char *dst, uint8_t proto, uint16_t sport, uint16_t dport,
				uint32_t payload);

#endif
