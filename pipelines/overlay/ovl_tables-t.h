/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Types of the overlay tables (SPEC sections 3.1-3.3). Entries the workers
 * read are immutable once published: a change publishes a new entry and the
 * old one is freed after the RCU grace period (see docs/overlay.md).
 * Addresses are in network order; `fam` is 4 or 6.
 */
#ifndef SS_OVL_TABLES_T_H
#define SS_OVL_TABLES_T_H

#include <stdint.h>

#include <rte_ether.h>

#include "pipelines/overlay/ovl_hash.h"
#include "pipelines/overlay/ovl_lpm.h"
#include "pipelines/overlay/ovl_pool.h"
#include "pipelines/overlay/ovl_util.h"

#define SS_OVL_NAME_MAX 64         /* object names are at most 63 characters */
#define SS_OVL_MAX_NEXT_HOPS 16    /* underlay ECMP width (the API's limit) */
#define SS_OVL_MAX_GROUPS 32767    /* route groups: scope = group * 2 + (IPv6) */
#define SS_OVL_DSCP_COPY 0xff      /* ENI without `dscp`: copy the inner DSCP */
#define SS_OVL_VNI_DIR (1u << 16)  /* the VNI is in the direction table */

/* switch.set: published by pointer (copy on write). */
struct ss_ovl_switch {
	uint8_t has_ip4, has_ip6, has_mac;
	uint8_t ip4[4];
	uint8_t ip6[16];
	struct rte_ether_addr mac;
};

/* vnets[index]: written before the index is published, never modified
 * while the VNET exists (there is no vnet.set). */
struct ss_ovl_vnet {
	uint32_t vni;
	uint8_t has_gw4, has_gw6;
	uint8_t gw4[4];
	uint8_t gw6[16];
};

/* Where a packet is encapsulated to: a mapping's PA, or an appliance ENI's
 * VM (vm_underlay_ip). */
struct ss_ovl_target {
	uint8_t fam;
	uint8_t set_mac;               /* inner destination MAC := mac */
	struct rte_ether_addr mac;
	uint8_t pa[16];
};

/* mapping.add: CA -> PA (pool entry, value of the mapping table). */
struct ss_ovl_mapping {
	struct ss_ovl_target tgt;
	uint8_t use_dst_vni;
	uint16_t vnet;                 /* the VNET it belongs to */
	uint32_t index;                /* its pool index (control plane) */
};

struct ss_ovl_eni {
	uint32_t index;                /* = meta->eni, ss_overlay_eni_index() */
	uint16_t vnet;
	uint16_t port;                 /* SS_PORT_NONE: an appliance ENI */
	uint16_t vlan;                 /* 0: untagged */
	uint16_t group;                /* route group index, 0: none */
	uint8_t admin_up;
	uint8_t dscp;                  /* SS_OVL_DSCP_COPY or 0..63 (pipe mode) */
	uint8_t has_vm;                /* vm_underlay_ip / vm_vni set */
	uint8_t pad;
	uint32_t vni;                  /* its VNET's VNI */
	uint32_t vm_vni;
	struct rte_ether_addr mac;
	struct ss_ovl_target vm;       /* set_mac = 0 */
	char name[SS_OVL_NAME_MAX];
};

enum ss_ovl_route_action {
	SS_OVL_RT_VNET = 1,
	SS_OVL_RT_VNET_DIRECT,
	SS_OVL_RT_DIRECT,
	SS_OVL_RT_DROP,
};

/* route.add: the LPM next hop of a route group's scope. Actions other than
 * vnet_direct fit in the 21-bit next hop itself (SS_OVL_RT_INLINE | action
 * << 16 | vnet), so the common case costs no memory access beyond the LPM;
 * vnet_direct's next hop is the index of a pool entry (< 2^20). */
#define SS_OVL_RT_INLINE (1u << 20)
#define SS_OVL_RT_POOL_MAX (SS_OVL_RT_INLINE - 1)

struct ss_ovl_route {
	uint8_t action;                /* enum ss_ovl_route_action */
	uint8_t fam;                   /* overlay_ip's */
	uint16_t vnet;                 /* 0: the ENI's VNET */
	uint8_t overlay_ip[16];
};

struct ss_ovl_nexthop {
	uint16_t port;
	struct rte_ether_addr mac;
};

/* Resilient ECMP (SPEC 3.10): a route with a next hop coupled to a BFD
 * session picks its member through a fixed table of buckets, indexed by
 * the top bits of the flow hash. Bucket b belongs to member b * n / B (the
 * same split as the plain multiply); while that member is withdrawn, its
 * buckets go to the members still up, so only its flows move. */
#define SS_OVL_ECMP_SHIFT 7
#define SS_OVL_ECMP_BUCKETS (1u << SS_OVL_ECMP_SHIFT)
#define SS_OVL_NH_NONE 0xff        /* bucket of a route with no member up */

/* A next hop's BFD session (next_hops[].bfd), fam 0: none. */
struct ss_ovl_nh_bfd {
	uint8_t fam;
	uint8_t up;                    /* the member is in the ECMP set */
	uint8_t ip[16];
};

/* underlay_route.add: an LPM next hop in scope 0 (IPv4) / 1 (IPv6).
 * Immutable once published, except bucket[] and n_up of a resilient route:
 * the control thread rewrites them in place (one byte store per bucket,
 * ss_overlay_nh_liveness_changed), then bumps ss_ovl_gen; a worker reads
 * a bucket once per packet and sees the old member or the new one. */
struct ss_ovl_uroute {
	uint16_t n;
	uint8_t resilient;             /* some next hop names a BFD session */
	uint8_t n_up;                  /* members in the set (resilient only) */
	struct ss_ovl_nexthop nh[SS_OVL_MAX_NEXT_HOPS];
	uint8_t bucket[SS_OVL_ECMP_BUCKETS]; /* dataplane: ro; ctlplane: rw */
	struct ss_ovl_nh_bfd bfd[SS_OVL_MAX_NEXT_HOPS]; /* ctlplane only */
};

enum ss_ovl_inb_action { SS_OVL_INB_DECAP = 1, SS_OVL_INB_DECAP_PA_VALIDATE };

struct ss_ovl_inb_rule {
	uint64_t net[2];               /* the prefix (host bits zero), as words */
	uint64_t mask[2];              /* its mask, as words */
	uint8_t fam;
	uint8_t plen;
	uint8_t action;                /* enum ss_ovl_inb_action */
	uint8_t pad;
	uint16_t vnet;                 /* PA validation VNET, 0: the ENI's */
	uint16_t pad2;
	uint32_t priority;
	uint8_t addr[16];              /* the prefix as bytes (control plane) */
};

/* The inbound routes of one (ENI, VNI), longest prefix first, then lowest
 * priority: the first rule that matches wins. Replaced whole (copy on
 * write) when one changes. */
struct ss_ovl_inb_list {
	uint32_t n;
	uint32_t pad;
	struct ss_ovl_inb_rule r[];
};

/* ---- hash keys (no implicit padding: keys are compared as bytes) ---------- */

struct ss_ovl_ipkey {              /* VIPs, mappings, PA refs, PA validation */
	uint8_t fam;
	uint8_t pad;
	uint16_t vnet;
	uint8_t addr[16];
};

struct ss_ovl_host_key {           /* ENI by (port, VLAN, source MAC) */
	uint16_t port;
	uint16_t vlan;
	uint8_t mac[6];
	uint16_t pad;
};

struct ss_ovl_vmac_key {           /* ENI by (VNET, MAC); appliance: vnet 0 */
	uint16_t vnet;
	uint8_t mac[6];
};

struct ss_ovl_inb_key {
	uint32_t eni;
	uint32_t vni;
};

/* ---- the tables --------------------------------------------------------------
 * One instance (ss_ovl). Fields marked dataplane are read by the workers
 * with acquire loads; everything else belongs to the control thread. */
struct ss_ovl {
	/* dataplane: ro; ctlplane: rw in commit */
	struct ss_ovl_switch *sw;
	struct ovl_hash vip;           /* ipkey(vnet 0) -> 1 */
	struct ovl_hash vni;           /* vni -> vnet index | SS_OVL_VNI_DIR */
	struct ovl_hash eni_host;      /* host_key -> eni index */
	struct ovl_hash eni_vnet;      /* vmac_key -> eni index */
	struct ovl_hash eni_app;       /* vmac_key(vnet 0) -> eni index (ENIs without port) */
	struct ovl_hash map;           /* ipkey -> struct ss_ovl_mapping * */
	struct ovl_hash paref;         /* ipkey(vnet, PA) -> number of mappings */
	struct ovl_hash pav;           /* ipkey(vnet, PA) -> 1 */
	struct ovl_hash inb;           /* inb_key -> struct ss_ovl_inb_list * */
	struct ovl_lpm lpm;            /* underlay (scopes 0, 1) and route groups */
	struct ss_ovl_vnet *vnets;     /* [max_vnets + 1] */
	struct ss_ovl_eni **enis;      /* [max_enis + 1] */
	uint32_t *inb_count;           /* [max_enis + 1]: inbound routes of the ENI */
	struct ovl_pool routes;        /* struct ss_ovl_route */
	struct ovl_pool uroutes;       /* struct ss_ovl_uroute */
	struct ovl_pool maps;          /* struct ss_ovl_mapping */

	/* ctlplane only */
	uint32_t max_vnets, max_enis;
	struct ovl_ids vnet_ids, eni_ids, group_ids;
	struct ovl_kmap vnet_names, eni_names, group_names;  /* committed name -> index */
	struct ovl_kmap vnet_stage, eni_stage, group_stage;  /* open transaction */
	struct ss_ovl_eni **eni_next;  /* [max_enis + 1] staged entry (or deletion) */
	uint8_t *eni_touched;          /* [max_enis + 1] */
	uint32_t *eni_list;            /* indices touched by the open transaction */
	size_t neni_list, cap_eni_list;
	uint32_t *group_ref;           /* [SS_OVL_MAX_GROUPS + 1] routes + ENIs using it */
	char (*group_name)[SS_OVL_NAME_MAX]; /* [SS_OVL_MAX_GROUPS + 1] */
	struct ovl_kmap group_delta;   /* group -> staged change of group_ref */
	struct ovl_kmap inb_delta;     /* eni -> staged change of inb_count */
	struct ss_ovl_switch *sw_next; /* staged switch.set */
	/* the VNET of the last mapping staged (bulk adds name the same one
	 * a million times); emptied when a prepare starts and by every staged
	 * vnet change */
	char map_vnet[SS_OVL_NAME_MAX];
	uint16_t map_vnet_idx;
	struct ovl_gc gc;
	bool prepared;
	/* called in commit for every ENI index that starts being used (stats
	 * baselines); may be NULL */
	void (*on_eni_new)(uint32_t index);
};

extern struct ss_ovl ss_ovl;

#endif
