/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The tenant overlay pipeline (SPEC sections 3.1-3.3): what other features
 * use of it.
 *
 * Packet metadata (struct ss_meta, pipelines/common/meta.h), set by the
 * overlay's entry nodes for every packet that reached an ENI:
 *   eni        the ENI's index: ss_overlay_eni_index(name) gives the same
 *              number from the control plane, so per-ENI state can be an
 *              array indexed by it (1..ss_overlay_eni_max()).
 *   vnet       its VNET's index.
 *   flow_hash  a hash of the tenant packet's (protocol, addresses, ports);
 *              the same for every packet of a direction of a flow.
 *   ovl_dir    SS_OVL_DIR_OUTBOUND (from the ENI: host port, or appliance
 *              mode) or SS_OVL_DIR_INBOUND (to the ENI, from the fabric).
 *   ovl_flags  SS_OVL_F_INNER: the tenant packet is the inner frame of a
 *              VXLAN packet: its headers are meta->hdr.inner, else
 *              meta->hdr.outer (ss_overlay_tenant() picks).
 * Header offsets stay relative to the frame start at rx: the overlay moves
 * no data before encapsulation / decapsulation, which come after the
 * arcs.
 *
 * Arcs (pipelines/common/arc.h): the overlay owns two, where features put
 * their nodes (ACL / conntrack's policy stage, rate limiters, ...):
 *   "outbound"  from overlay_host and overlay_fabric (appliance mode), once
 *               the ENI is resolved and ARP / ND answered, to route_out;
 *   "inbound"   from inbound_route, after inbound routing and PA
 *               validation, to vxlan_decap.
 * A feature node on them hands the packets it passes to its arc successor
 * (ss_arc_edge() on its attachment's `next`) and drops the others itself
 * (meta->drop set, to node "drop").
 *
 * All functions: control thread, except the counter helpers (workers).
 */
#ifndef SS_OVERLAY_H
#define SS_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dataplane/worker-t.h"
#include "pipelines/common/meta.h"

enum ss_overlay_dir { SS_OVL_DIR_NONE = 0, SS_OVL_DIR_OUTBOUND, SS_OVL_DIR_INBOUND };

#define SS_OVL_F_INNER 0x01    /* tenant headers are meta->hdr.inner */
#define SS_OVL_F_REENCAP 0x02  /* arrived in VXLAN, leaves in VXLAN: outer source = its VIP */
#define SS_OVL_F_DIRECT 0x04   /* outbound route action `direct`: routed, not encapsulated */

static inline const struct ss_layer *ss_overlay_tenant(const struct ss_meta *m)
{
	return (m->ovl_flags & SS_OVL_F_INNER) ? &m->hdr.inner : &m->hdr.outer;
}

#define SS_ARC_OUTBOUND "outbound"
#define SS_ARC_INBOUND "inbound"

/* The index the ENI has, or will have once the transaction being prepared
 * commits (usable from a table's prepare(): the overlay's tables are
 * prepared first), -1 if none. */
int ss_overlay_eni_index(const char *name);
/* ENI indices are 1..ss_overlay_eni_max() (config tables.enis). */
uint32_t ss_overlay_eni_max(void);
/* The VNI of the published ENI `eni`'s VNET, 0 when there is no such ENI
 * (flow records, pipelines/ipfix). Control thread. */
uint32_t ss_overlay_eni_vni(uint32_t eni);

/* ---- encapsulation for other features (workers; node_vxlan_encap.c) -----
 * Used by RDMA steering with encap `vnet` (docs/rdma.md). */
struct ss_ovl_mapping;
struct rte_mbuf;

/* The mapping of `dst` (family 4 or 6, network order) in the VNET of ENI
 * `eni`, NULL when there is none or the ENI is gone; *vni := the VNI its
 * VXLAN header carries (use_dst_vni: the mapping's VNET's, else the ENI's).
 * The pointer is valid within the current graph walk. */
const struct ss_ovl_mapping *ss_overlay_mapping_lookup(uint32_t eni, int fam, const uint8_t *dst,
						       uint32_t *vni);
/* Encapsulate the unencapsulated packet (its headers: meta->hdr.outer) in
 * VXLAN toward the mapping's PA with the overlay's own header rules (SPEC
 * 3.1 step 8: VLAN tags removed, inner destination MAC := the mapping's,
 * outer source = the switch underlay IP of the PA's family, UDP 4789 from
 * 49152 + the flow hash, VNI `vni`, TTL 64, outer ECN copied), the outer
 * DSCP `dscp`, out of sswitch port `port` to `next_hop_mac` from the port's
 * MAC (meta->out_port set). *ip_id: the caller's IPv4 identification
 * counter. 0, or the SS_DROP_* reason (no_underlay_ip, no_mbuf). */
int ss_overlay_encap_to_pa(struct rte_mbuf *m, const struct ss_ovl_mapping *mp, uint32_t vni,
			   uint16_t port, const uint8_t next_hop_mac[6], uint8_t dscp,
			   uint16_t *ip_id);

/* ---- underlay next hops coupled to BFD sessions (SPEC 3.10; ovl_ecmp.c) --
 * An underlay route's next hop may name a BFD session (next_hops[].bfd):
 * it is in the route's ECMP set only while `fn` says the session of that
 * peer (family 4 or 6, network order) is Up. The BFD feature installs `fn`
 * from its init and calls ss_overlay_nh_liveness_changed() (control
 * thread, outside prepare/commit of the overlay) whenever a session's
 * state changes or a session is added or deleted: the member sets are
 * recomputed (only a withdrawn member's flows move), the overlay
 * generation is bumped when any changed; returns the number of routes
 * changed. Without `fn` a coupled next hop is withdrawn. */
typedef bool (*ss_overlay_nh_up_fn)(int fam, const uint8_t *ip);
void ss_overlay_set_nh_liveness(ss_overlay_nh_up_fn fn);
unsigned int ss_overlay_nh_liveness_changed(void);

/* ---- for features that build their own outer headers (Private Link,
 * pipelines/privatelink/; workers, node_vxlan_encap.c) -------------------- */
struct ss_layer;

/* The VNET index of `name` (as ss_overlay_eni_index), -1 if none. Control
 * thread. */
int ss_overlay_vnet_index(const char *name);
/* The VNI of VNET `name` (0: none). Control thread, from a table's
 * prepare() (the overlay's tables are prepared first). */
uint32_t ss_overlay_vnet_vni(const char *name);
/* The underlay next hop toward `dst` (family 4 or 6): LPM in the underlay
 * routes, the ECMP member by `flow_hash` (SPEC 3.1 step 9, members
 * withdrawn by BFD left out). 0 with *port and mac, -1 (drop
 * underlay_route_miss) or -2 (every member withdrawn: underlay_nh_down). */
int ss_overlay_underlay_hop(int fam, const uint8_t *dst, uint32_t flow_hash, uint16_t *port,
			    uint8_t mac[6]);
/* The switch MAC (switch.set), NULL when unset. */
const uint8_t *ss_overlay_switch_mac(void);
/* Encapsulate the frame `l` describes (what precedes l->l2_off and its
 * 802.1Q tags removed; its destination MAC := inner_mac unless NULL) in
 * VXLAN toward `pa` (family fam) from `src` (same family), VNI `vni`, with
 * the overlay's header rules (SPEC 3.1 step 8: outer DSCP the ENI's `dscp`
 * or the frame's, ECN the frame's, UDP source from meta->flow_hash, TTL
 * 64, IPv4 checksum / IPv6 flow label and UDP checksum); the outer
 * Ethernet header from eth_src to eth_dst; meta->out_port := port. 0, or
 * the SS_DROP_* reason (eni_miss, no_mbuf). */
int ss_overlay_vxlan_push(struct rte_mbuf *m, const struct ss_layer *l, uint32_t eni, int fam,
			  const uint8_t *pa, const uint8_t *src, const uint8_t *inner_mac,
			  uint32_t vni, uint16_t port, const uint8_t eth_dst[6],
			  const uint8_t eth_src[6], uint16_t *ip_id);

/* Per-ENI counters (stats.get scope `eni`), one array per worker indexed
 * by ENI index. rx = from the ENI (outbound), tx = to the ENI (inbound);
 * bytes are frame lengths of the tenant frame. acl_drops and flows are
 * maintained by the ACL / conntrack feature: flows is a gauge (add on
 * create, subtract on removal, on any worker: the sum is the live count)
 * and is not reset by stats.clear. */
struct ss_overlay_eni_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t acl_drops;
	int64_t flows;
};

extern struct ss_overlay_eni_counters *ss_overlay_eni_ctr[SS_MAX_WORKERS];

static inline void ss_overlay_eni_acl_drop(unsigned int worker, uint32_t eni)
{
	ss_overlay_eni_ctr[worker][eni].acl_drops++;
}

static inline void ss_overlay_eni_flows_add(unsigned int worker, uint32_t eni, int64_t delta)
{
	ss_overlay_eni_ctr[worker][eni].flows += delta;
}

#endif
