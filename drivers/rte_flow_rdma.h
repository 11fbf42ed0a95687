/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rte_flow offload of RDMA steering policies (SPEC 3.7 "Hardware offload").
 *
 * A policy becomes one ingress rule per ingress port:
 *
 *   pattern  ETH / IPV4|IPV6 (dst prefix [, src prefix]) / UDP dst 4791
 *            [/ IB_BTH dst QP: DPDK >= 23.07 only, SS_HAVE_FLOW_IB_BTH]
 *   actions  SET_IPV4_DSCP|SET_IPV6_DSCP / QUEUE index          (fate QUEUE)
 *
 * With fate QUEUE the packet still goes through the software path, which
 * does the rest of the steering (and gives CNPs their own DSCP). With fate
 * REPRESENTED_PORT (a BlueField representor egress) the hardware does it all
 * in a transfer rule:
 *
 *   pattern  REPRESENTED_PORT ingress / ETH / IPV4|IPV6 / UDP 4791
 *            / IB_BTH (opcode CNP for the companion rule; dst QP)
 *   actions  SET_MAC_SRC / SET_MAC_DST / DEC_TTL / SET_IPVx_DSCP
 *            / REPRESENTED_PORT egress
 *
 * which needs the BTH match (a CNP must get the CNP DSCP, not the policy's):
 * with DPDK < 23.07 the builder declines it with that reason.
 *
 * The builder is pure (no device): it fills a self-contained rule whose
 * pattern and action arrays point into the rule itself, so a rule must not
 * be copied once built. The installer validates first and creates only
 * what the port accepts; every refusal comes back as a one-line reason
 * ("net_pcap: rte_flow not supported (-ENOTSUP)"), never as an error of the
 * transaction: offload is best effort and the software path always works.
 *
 * Control thread only.
 */
#ifndef SS_RTE_FLOW_RDMA_H
#define SS_RTE_FLOW_RDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_flow.h>

#include "drivers/ss_drivers_config.h"

enum ss_rdma_flow_fate {
	SS_RDMA_FLOW_QUEUE = 0,           /* mark and deliver to rx queue `queue` */
	SS_RDMA_FLOW_REPRESENTED_PORT,    /* mark, route and send out `port_id` in hardware */
};

struct ss_rdma_flow_spec {
	int family;                       /* 4 or 6 */
	uint8_t dst[16];                  /* network order, IPv4 in the first 4 bytes */
	unsigned int dst_len;
	bool has_src;
	uint8_t src[16];
	unsigned int src_len;
	bool has_qp;
	uint32_t qp;                      /* 24 bits */
	uint8_t dscp;
	enum ss_rdma_flow_fate fate;
	uint16_t queue;                   /* QUEUE */
	uint16_t port_id;                 /* REPRESENTED_PORT: ethdev id of the egress */
	uint16_t in_port_id;              /* REPRESENTED_PORT: ethdev id of the ingress */
	bool cnp;                         /* REPRESENTED_PORT: the CNP companion rule
					   * (opcode 0x81, dscp = the CNP DSCP) */
	uint8_t smac[6], dmac[6];         /* REPRESENTED_PORT: the L2 rewrite */
	uint32_t priority;                /* rte_flow attr priority (0 = highest) */
};

#define SS_RDMA_FLOW_MAX_ITEMS 7
#define SS_RDMA_FLOW_MAX_ACTIONS 7

struct ss_rdma_flow_rule {
	struct rte_flow_attr attr;
	struct rte_flow_item pattern[SS_RDMA_FLOW_MAX_ITEMS];
	struct rte_flow_action actions[SS_RDMA_FLOW_MAX_ACTIONS];
	unsigned int nb_items;            /* END included */
	unsigned int nb_actions;          /* END included */
	/* what the arrays point to */
	struct rte_flow_item_ipv4 ip4_spec, ip4_mask;
	struct rte_flow_item_ipv6 ip6_spec, ip6_mask;
	struct rte_flow_item_udp udp_spec, udp_mask;
#if SS_HAVE_FLOW_IB_BTH
	struct rte_flow_item_ib_bth bth_spec, bth_mask;
#endif
	struct rte_flow_action_set_dscp dscp;
	struct rte_flow_action_queue queue;
	struct rte_flow_action_ethdev port;
	struct rte_flow_item_ethdev in_port;
	struct rte_flow_action_set_mac smac, dmac;
};

/* Build the rule of `s` into `r`. 0, or -ENOTSUP with the reason (a match
 * or action this DPDK cannot express). */
int ss_rdma_flow_build(const struct ss_rdma_flow_spec *s, struct ss_rdma_flow_rule *r,
		       char *reason, size_t len);

/* rte_flow_validate, then rte_flow_create on `port_id`. 0 with *out, or
 * -errno with the reason ("DRIVER: ..."). */
int ss_rdma_flow_install(uint16_t port_id, const struct ss_rdma_flow_rule *r,
			 struct rte_flow **out, char *reason, size_t len);
/* Destroy a rule ss_rdma_flow_install() created on `port_id` (transfer:
 * the rule had attr.transfer set). */
void ss_rdma_flow_remove(uint16_t port_id, bool transfer, struct rte_flow *f);

/* "-ENOTSUP", "-EINVAL", ... ("-%d" for the rest). */
const char *ss_errno_name(int neg_errno, char *buf, size_t len);

#endif
