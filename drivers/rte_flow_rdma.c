/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rte_flow rules for RDMA steering policies. See rte_flow_rdma.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "drivers/rte_flow_rdma.h"

#define ROCEV2_UDP_PORT 4791

const char *ss_errno_name(int neg_errno, char *buf, size_t len)
{
	static const struct { int e; const char *n; } names[] = {
		{ ENOTSUP, "ENOTSUP" }, { EINVAL, "EINVAL" }, { ENOENT, "ENOENT" },
		{ ENOMEM, "ENOMEM" }, { EEXIST, "EEXIST" }, { EBUSY, "EBUSY" },
		{ ENOSYS, "ENOSYS" }, { EIO, "EIO" }, { EPERM, "EPERM" },
		{ ENODEV, "ENODEV" }, { ENXIO, "ENXIO" }, { ENOSPC, "ENOSPC" },
		{ EACCES, "EACCES" }, { EAGAIN, "EAGAIN" },
	};
	int e = neg_errno < 0 ? -neg_errno : neg_errno;

	for (size_t i = 0; i < RTE_DIM(names); i++)
		if (names[i].e == e) {
			snprintf(buf, len, "-%s", names[i].n);
			return buf;
		}
	snprintf(buf, len, "-%d", e);
	return buf;
}

static void mask_bytes(unsigned int plen, uint8_t *m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;
		m[i] = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

static void item(struct ss_rdma_flow_rule *r, enum rte_flow_item_type type, const void *spec,
		 const void *mask)
{
	struct rte_flow_item *it = &r->pattern[r->nb_items++];

	it->type = type;
	it->spec = spec;
	it->last = NULL;
	it->mask = mask;
}

static void action(struct ss_rdma_flow_rule *r, enum rte_flow_action_type type, const void *conf)
{
	struct rte_flow_action *a = &r->actions[r->nb_actions++];

	a->type = type;
	a->conf = conf;
}

static void build_ip(const struct ss_rdma_flow_spec *s, struct ss_rdma_flow_rule *r)
{
	uint8_t m[16];

	if (s->family == 4) {
		mask_bytes(s->dst_len, m, 4);
		memcpy(&r->ip4_mask.hdr.dst_addr, m, 4);
		for (int i = 0; i < 4; i++)
			((uint8_t *)&r->ip4_spec.hdr.dst_addr)[i] = s->dst[i] & m[i];
		if (s->has_src) {
			mask_bytes(s->src_len, m, 4);
			memcpy(&r->ip4_mask.hdr.src_addr, m, 4);
			for (int i = 0; i < 4; i++)
				((uint8_t *)&r->ip4_spec.hdr.src_addr)[i] = s->src[i] & m[i];
		}
		r->ip4_spec.hdr.next_proto_id = IPPROTO_UDP;
		r->ip4_mask.hdr.next_proto_id = 0xff;
		item(r, RTE_FLOW_ITEM_TYPE_IPV4, &r->ip4_spec, &r->ip4_mask);
	} else {
		mask_bytes(s->dst_len, r->ip6_mask.hdr.dst_addr, 16);
		for (int i = 0; i < 16; i++)
			r->ip6_spec.hdr.dst_addr[i] = s->dst[i] & r->ip6_mask.hdr.dst_addr[i];
		if (s->has_src) {
			mask_bytes(s->src_len, r->ip6_mask.hdr.src_addr, 16);
			for (int i = 0; i < 16; i++)
				r->ip6_spec.hdr.src_addr[i] = s->src[i] & r->ip6_mask.hdr.src_addr[i];
		}
		r->ip6_spec.hdr.proto = IPPROTO_UDP;
		r->ip6_mask.hdr.proto = 0xff;
		item(r, RTE_FLOW_ITEM_TYPE_IPV6, &r->ip6_spec, &r->ip6_mask);
	}
}

int ss_rdma_flow_build(const struct ss_rdma_flow_spec *s, struct ss_rdma_flow_rule *r,
		       char *reason, size_t len)
{
	bool transfer = s->fate == SS_RDMA_FLOW_REPRESENTED_PORT;

	memset(r, 0, sizeof(*r));
	if (s->family != 4 && s->family != 6) {
		snprintf(reason, len, "rte_flow: unknown address family");
		return -EINVAL;
	}
#if !SS_HAVE_FLOW_IB_BTH
	if (s->has_qp) {
		snprintf(reason, len, "rte_flow: match.dst_qp needs RTE_FLOW_ITEM_TYPE_IB_BTH "
			 "(DPDK >= 23.07; built against %s)", SS_DPDK_VERSION_STR);
		return -ENOTSUP;
	}
	if (transfer) {
		/* in hardware, a CNP would get the data DSCP: telling CNPs
		 * apart needs the BTH opcode match */
		snprintf(reason, len, "rte_flow: forwarding to a representor needs a BTH opcode "
			 "match for CNPs (DPDK >= 23.07; built against %s)", SS_DPDK_VERSION_STR);
		return -ENOTSUP;
	}
#endif
	r->attr.priority = s->priority;
	if (transfer) {
		r->attr.transfer = 1;
		r->in_port.port_id = s->in_port_id;
		item(r, RTE_FLOW_ITEM_TYPE_REPRESENTED_PORT, &r->in_port, NULL);
	} else {
		r->attr.ingress = 1;
	}
	item(r, RTE_FLOW_ITEM_TYPE_ETH, NULL, NULL);
	build_ip(s, r);
	r->udp_spec.hdr.dst_port = rte_cpu_to_be_16(ROCEV2_UDP_PORT);
	r->udp_mask.hdr.dst_port = RTE_BE16(0xffff);
	item(r, RTE_FLOW_ITEM_TYPE_UDP, &r->udp_spec, &r->udp_mask);
#if SS_HAVE_FLOW_IB_BTH
	if (s->has_qp) {
		r->bth_spec.hdr.dst_qp[0] = (uint8_t)(s->qp >> 16);
		r->bth_spec.hdr.dst_qp[1] = (uint8_t)(s->qp >> 8);
		r->bth_spec.hdr.dst_qp[2] = (uint8_t)s->qp;
		memset(r->bth_mask.hdr.dst_qp, 0xff, 3);
	}
	if (transfer && s->cnp) {
		r->bth_spec.hdr.opcode = 0x81;
		r->bth_mask.hdr.opcode = 0xff;
	}
	if (s->has_qp || (transfer && s->cnp))
		item(r, RTE_FLOW_ITEM_TYPE_IB_BTH, &r->bth_spec, &r->bth_mask);
#endif
	item(r, RTE_FLOW_ITEM_TYPE_END, NULL, NULL);

	r->dscp.dscp = s->dscp;
	if (transfer) {
		memcpy(r->smac.mac_addr, s->smac, 6);
		memcpy(r->dmac.mac_addr, s->dmac, 6);
		action(r, RTE_FLOW_ACTION_TYPE_SET_MAC_SRC, &r->smac);
		action(r, RTE_FLOW_ACTION_TYPE_SET_MAC_DST, &r->dmac);
		action(r, RTE_FLOW_ACTION_TYPE_DEC_TTL, NULL);
	}
	action(r, s->family == 4 ? RTE_FLOW_ACTION_TYPE_SET_IPV4_DSCP
				 : RTE_FLOW_ACTION_TYPE_SET_IPV6_DSCP, &r->dscp);
	if (transfer) {
		r->port.port_id = s->port_id;
		action(r, RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT, &r->port);
	} else {
		r->queue.index = s->queue;
		action(r, RTE_FLOW_ACTION_TYPE_QUEUE, &r->queue);
	}
	action(r, RTE_FLOW_ACTION_TYPE_END, NULL);
	return 0;
}

static const char *driver_of(uint16_t port_id, struct rte_eth_dev_info *info)
{
	if (rte_eth_dev_info_get(port_id, info) != 0 || info->driver_name == NULL)
		return "unknown driver";
	return info->driver_name;
}

int ss_rdma_flow_install(uint16_t port_id, const struct ss_rdma_flow_rule *r,
			 struct rte_flow **out, char *reason, size_t len)
{
	struct rte_eth_dev_info info;
	struct rte_flow_error fe;
	char en[16];
	int rc;

	*out = NULL;
	memset(&fe, 0, sizeof(fe));
	if (r->attr.transfer) {
		/* transfer rules live on the switch domain's proxy port */
		uint16_t proxy;

		rc = rte_flow_pick_transfer_proxy(port_id, &proxy, &fe);
		if (rc != 0) {
			snprintf(reason, len, "%s: no transfer proxy: %s (%s)",
				 driver_of(port_id, &info), fe.message ? fe.message : "no reason given",
				 ss_errno_name(rc, en, sizeof(en)));
			return rc;
		}
		port_id = proxy;
	}
	rc = rte_flow_validate(port_id, &r->attr, r->pattern, r->actions, &fe);
	if (rc == -ENOTSUP || rc == -ENOSYS) {
		snprintf(reason, len, "%s: rte_flow not supported (%s)", driver_of(port_id, &info),
			 ss_errno_name(rc, en, sizeof(en)));
		return rc;
	}
	if (rc != 0) {
		snprintf(reason, len, "%s: rule refused: %s (%s)", driver_of(port_id, &info),
			 fe.message ? fe.message : "no reason given", ss_errno_name(rc, en, sizeof(en)));
		return rc;
	}
	memset(&fe, 0, sizeof(fe));
	*out = rte_flow_create(port_id, &r->attr, r->pattern, r->actions, &fe);
	if (*out == NULL) {
		rc = rte_errno ? -rte_errno : -EIO;
		snprintf(reason, len, "%s: rte_flow_create: %s (%s)", driver_of(port_id, &info),
			 fe.message ? fe.message : "no reason given", ss_errno_name(rc, en, sizeof(en)));
		return rc;
	}
	snprintf(reason, len, "%s: rte_flow rule installed", driver_of(port_id, &info));
	return 0;
}

void ss_rdma_flow_remove(uint16_t port_id, bool transfer, struct rte_flow *f)
{
	struct rte_flow_error fe;
	uint16_t proxy;

	if (f == NULL)
		return;
	if (transfer && rte_flow_pick_transfer_proxy(port_id, &proxy, &fe) == 0)
		port_id = proxy;
	rte_flow_destroy(port_id, f, &fe);
}
