/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libibverbs flow steering of RDMA policies (SPEC 3.7 "on hosts through
 * libibverbs flow steering").
 *
 * Every RDMA device present is opened once, with a protection domain, a
 * completion queue and one IBV_QPT_RAW_PACKET queue pair (moved to RTR on
 * port 1); each policy becomes one ibv_create_flow() per device: an
 * Ethernet spec (IPv4 or IPv6 ethertype), an IPv4 or IPv6 spec with the
 * destination (and source) prefix, and a UDP spec for destination port 4791.
 * The flows are created with IBV_FLOW_ATTR_FLAGS_DONT_TRAP: the NIC
 * classifies the policy's traffic in hardware without taking it away from
 * the DPDK path, which keeps doing the rewrite (docs/rdma.md).
 *
 * "No RDMA device" (ibv_get_device_list() NULL with errno ENOSYS, or an
 * empty list) is a normal state: ss_verbs_open() then returns a handle with
 * no device, and every flow is reported "no RDMA device". A device that is
 * gone (ENXIO from open or from a later flow) is skipped / marked dead.
 *
 * Every libibverbs call goes through struct ss_verbs_ops, so the unit tests
 * substitute a fake. Control thread only.
 */
#ifndef SS_VERBS_RDMA_H
#define SS_VERBS_RDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

struct ss_verbs_ops {
	struct ibv_device **(*get_device_list)(int *num_devices);
	void (*free_device_list)(struct ibv_device **list);
	const char *(*get_device_name)(struct ibv_device *dev);
	struct ibv_context *(*open_device)(struct ibv_device *dev);
	int (*close_device)(struct ibv_context *ctx);
	struct ibv_pd *(*alloc_pd)(struct ibv_context *ctx);
	int (*dealloc_pd)(struct ibv_pd *pd);
	struct ibv_cq *(*create_cq)(struct ibv_context *ctx, int cqe, void *cq_context,
				    struct ibv_comp_channel *channel, int comp_vector);
	int (*destroy_cq)(struct ibv_cq *cq);
	struct ibv_qp *(*create_qp)(struct ibv_pd *pd, struct ibv_qp_init_attr *attr);
	int (*modify_qp)(struct ibv_qp *qp, struct ibv_qp_attr *attr, int attr_mask);
	int (*destroy_qp)(struct ibv_qp *qp);
	struct ibv_flow *(*create_flow)(struct ibv_qp *qp, struct ibv_flow_attr *flow);
	int (*destroy_flow)(struct ibv_flow *flow);
};

/* The real libibverbs. */
extern const struct ss_verbs_ops ss_verbs_ibv_ops;

#define SS_VERBS_MAX_DEVICES 8

struct ss_verbs;

struct ss_verbs_flow_spec {
	int family;                 /* 4 or 6 */
	uint8_t dst[16];            /* network order */
	unsigned int dst_len;
	bool has_src;
	uint8_t src[16];
	unsigned int src_len;
	uint16_t priority;
};

/* A policy's flows, one per device. */
struct ss_verbs_flows {
	unsigned int n;
	struct ibv_flow *flow[SS_VERBS_MAX_DEVICES];
	unsigned int dev[SS_VERBS_MAX_DEVICES];
};

/* Open every RDMA device. Never fails for want of a device: `status` says
 * what was found ("no RDMA device", "mlx5_0, mlx5_1", or why a device was
 * skipped). NULL only when out of memory. */
struct ss_verbs *ss_verbs_open(const struct ss_verbs_ops *ops, char *status, size_t len);
/* Number of usable devices. */
unsigned int ss_verbs_nb_devices(const struct ss_verbs *v);
/* Install a policy's flow on every usable device. 0 with *out (at least one
 * device took it), or -errno with the reason ("no RDMA device",
 * "mlx5_0: ibv_create_flow: ..."). */
int ss_verbs_flow_add(struct ss_verbs *v, const struct ss_verbs_flow_spec *s,
		      struct ss_verbs_flows *out, char *reason, size_t len);
void ss_verbs_flow_del(struct ss_verbs *v, struct ss_verbs_flows *f);
void ss_verbs_close(struct ss_verbs *v);

/* The ibv_flow_attr of a spec, followed by its eth / ipv4|ipv6 / udp specs,
 * written into buf. Returns the total size, 0 if buf is too small. */
size_t ss_verbs_flow_attr_build(const struct ss_verbs_flow_spec *s, void *buf, size_t len);

#endif
