/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libibverbs back-end of RDMA policy offload. See verbs_rdma.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/verbs_rdma.h"

#define ROCEV2_UDP_PORT 4791
#define RAW_QP_PORT 1

/* ---- the real library (some entry points are static inline) ------------ */

static struct ibv_device **ibv_list(int *n)
{
	return ibv_get_device_list(n);
}

static const char *ibv_name(struct ibv_device *d)
{
	return ibv_get_device_name(d);
}

static struct ibv_cq *ibv_cq(struct ibv_context *c, int cqe, void *ctx,
			     struct ibv_comp_channel *ch, int vec)
{
	return ibv_create_cq(c, cqe, ctx, ch, vec);
}

static struct ibv_flow *ibv_flow_create(struct ibv_qp *qp, struct ibv_flow_attr *a)
{
	return ibv_create_flow(qp, a);
}

static int ibv_flow_destroy(struct ibv_flow *f)
{
	return ibv_destroy_flow(f);
}

const struct ss_verbs_ops ss_verbs_ibv_ops = {
	.get_device_list = ibv_list,
	.free_device_list = ibv_free_device_list,
	.get_device_name = ibv_name,
	.open_device = ibv_open_device,
	.close_device = ibv_close_device,
	.alloc_pd = ibv_alloc_pd,
	.dealloc_pd = ibv_dealloc_pd,
	.create_cq = ibv_cq,
	.destroy_cq = ibv_destroy_cq,
	.create_qp = ibv_create_qp,
	.modify_qp = ibv_modify_qp,
	.destroy_qp = ibv_destroy_qp,
	.create_flow = ibv_flow_create,
	.destroy_flow = ibv_flow_destroy,
};

/* ---- devices -------------------------------------------------------------- */

struct ss_verbs_dev {
	char name[64];
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	bool dead;              /* went away (ENXIO): no new flows */
};

struct ss_verbs {
	const struct ss_verbs_ops *ops;
	unsigned int n;
	struct ss_verbs_dev dev[SS_VERBS_MAX_DEVICES];
};

static void dev_close(const struct ss_verbs_ops *ops, struct ss_verbs_dev *d)
{
	if (d->qp)
		ops->destroy_qp(d->qp);
	if (d->cq)
		ops->destroy_cq(d->cq);
	if (d->pd)
		ops->dealloc_pd(d->pd);
	if (d->ctx)
		ops->close_device(d->ctx);
	memset(d, 0, sizeof(*d));
}

static const char *err_name(int e)
{
	switch (e) {
	case ENXIO: return "ENXIO";
	case ENOSYS: return "ENOSYS";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	case ENOTSUP: return "ENOTSUP";
	case ENODEV: return "ENODEV";
	default: return "error";
	}
}

/* Open one device: context, PD, CQ, raw packet QP in RTR. 0 or -errno with
 * `why` naming the step. */
static int dev_open(const struct ss_verbs_ops *ops, struct ibv_device *ibdev,
		    struct ss_verbs_dev *d, char *why, size_t len)
{
	struct ibv_qp_init_attr qa;
	struct ibv_qp_attr attr;
	const char *step;
	int e;

	snprintf(d->name, sizeof(d->name), "%s", ops->get_device_name(ibdev));
	errno = 0;
	step = "ibv_open_device";
	d->ctx = ops->open_device(ibdev);
	if (d->ctx == NULL)
		goto fail;
	step = "ibv_alloc_pd";
	d->pd = ops->alloc_pd(d->ctx);
	if (d->pd == NULL)
		goto fail;
	step = "ibv_create_cq";
	d->cq = ops->create_cq(d->ctx, 16, NULL, NULL, 0);
	if (d->cq == NULL)
		goto fail;
	memset(&qa, 0, sizeof(qa));
	qa.qp_type = IBV_QPT_RAW_PACKET;
	qa.send_cq = d->cq;
	qa.recv_cq = d->cq;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_recv_sge = 1;
	step = "ibv_create_qp(IBV_QPT_RAW_PACKET)";
	d->qp = ops->create_qp(d->pd, &qa);
	if (d->qp == NULL)
		goto fail;
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_INIT;
	attr.port_num = RAW_QP_PORT;
	step = "ibv_modify_qp(INIT)";
	e = ops->modify_qp(d->qp, &attr, IBV_QP_STATE | IBV_QP_PORT);
	if (e != 0) {
		errno = e;
		goto fail;
	}
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RTR;
	step = "ibv_modify_qp(RTR)";
	e = ops->modify_qp(d->qp, &attr, IBV_QP_STATE);
	if (e != 0) {
		errno = e;
		goto fail;
	}
	return 0;
fail:
	e = errno ? errno : EIO;
	if (e == ENXIO)
		snprintf(why, len, "%s: device not present (ENXIO)", d->name);
	else
		snprintf(why, len, "%s: %s: %s (%s)", d->name, step, strerror(e), err_name(e));
	dev_close(ops, d);
	return -e;
}

static void append(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n + 3 < len)
		snprintf(buf + n, len - n, "%s%s", n ? "; " : "", s);
}

struct ss_verbs *ss_verbs_open(const struct ss_verbs_ops *ops, char *status, size_t len)
{
	struct ss_verbs *v = calloc(1, sizeof(*v));
	struct ibv_device **list;
	char why[256];
	int num = 0;

	if (v == NULL)
		return NULL;
	v->ops = ops;
	status[0] = '\0';
	errno = 0;
	list = ops->get_device_list(&num);
	if (list == NULL) {
		/* ENOSYS: no kernel RDMA support at all; a normal state */
		if (errno == ENOSYS || errno == 0)
			snprintf(status, len, "no RDMA device");
		else
			snprintf(status, len, "no RDMA device (ibv_get_device_list: %s)",
				 strerror(errno));
		return v;
	}
	for (int i = 0; i < num && list[i] && v->n < SS_VERBS_MAX_DEVICES; i++) {
		struct ss_verbs_dev *d = &v->dev[v->n];

		if (dev_open(ops, list[i], d, why, sizeof(why)) == 0) {
			append(status, len, d->name);
			v->n++;
		} else {
			append(status, len, why);
		}
	}
	ops->free_device_list(list);
	if (num == 0)
		snprintf(status, len, "no RDMA device");
	return v;
}

unsigned int ss_verbs_nb_devices(const struct ss_verbs *v)
{
	unsigned int n = 0;

	for (unsigned int i = 0; v && i < v->n; i++)
		n += !v->dev[i].dead;
	return n;
}

void ss_verbs_close(struct ss_verbs *v)
{
	if (v == NULL)
		return;
	for (unsigned int i = 0; i < v->n; i++)
		dev_close(v->ops, &v->dev[i]);
	free(v);
}

/* ---- flows --------------------------------------------------------------- */

static void prefix_mask(unsigned int plen, uint8_t *m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;
		m[i] = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

size_t ss_verbs_flow_attr_build(const struct ss_verbs_flow_spec *s, void *buf, size_t len)
{
	size_t ipsz = s->family == 4 ? sizeof(struct ibv_flow_spec_ipv4)
				     : sizeof(struct ibv_flow_spec_ipv6);
	size_t total = sizeof(struct ibv_flow_attr) + sizeof(struct ibv_flow_spec_eth) + ipsz +
		       sizeof(struct ibv_flow_spec_tcp_udp);
	uint8_t *p = buf;

	if (len < total || (s->family != 4 && s->family != 6))
		return 0;
	memset(buf, 0, total);

	struct ibv_flow_attr *a = (struct ibv_flow_attr *)p;
	a->comp_mask = 0;
	a->type = IBV_FLOW_ATTR_NORMAL;
	a->size = (uint16_t)total;
	a->priority = s->priority;
	a->num_of_specs = 3;
	a->port = RAW_QP_PORT;
	a->flags = IBV_FLOW_ATTR_FLAGS_DONT_TRAP;
	p += sizeof(*a);

	struct ibv_flow_spec_eth *eth = (struct ibv_flow_spec_eth *)p;
	eth->type = IBV_FLOW_SPEC_ETH;
	eth->size = sizeof(*eth);
	eth->val.ether_type = htons(s->family == 4 ? 0x0800 : 0x86dd);
	eth->mask.ether_type = 0xffff;
	p += sizeof(*eth);

	if (s->family == 4) {
		struct ibv_flow_spec_ipv4 *ip = (struct ibv_flow_spec_ipv4 *)p;
		uint8_t m[4];

		ip->type = IBV_FLOW_SPEC_IPV4;
		ip->size = sizeof(*ip);
		prefix_mask(s->dst_len, m, 4);
		memcpy(&ip->mask.dst_ip, m, 4);
		for (int i = 0; i < 4; i++)
			((uint8_t *)&ip->val.dst_ip)[i] = s->dst[i] & m[i];
		if (s->has_src) {
			prefix_mask(s->src_len, m, 4);
			memcpy(&ip->mask.src_ip, m, 4);
			for (int i = 0; i < 4; i++)
				((uint8_t *)&ip->val.src_ip)[i] = s->src[i] & m[i];
		}
	} else {
		struct ibv_flow_spec_ipv6 *ip = (struct ibv_flow_spec_ipv6 *)p;

		ip->type = IBV_FLOW_SPEC_IPV6;
		ip->size = sizeof(*ip);
		prefix_mask(s->dst_len, ip->mask.dst_ip, 16);
		for (int i = 0; i < 16; i++)
			ip->val.dst_ip[i] = s->dst[i] & ip->mask.dst_ip[i];
		if (s->has_src) {
			prefix_mask(s->src_len, ip->mask.src_ip, 16);
			for (int i = 0; i < 16; i++)
				ip->val.src_ip[i] = s->src[i] & ip->mask.src_ip[i];
		}
	}
	p += ipsz;

	struct ibv_flow_spec_tcp_udp *udp = (struct ibv_flow_spec_tcp_udp *)p;
	udp->type = IBV_FLOW_SPEC_UDP;
	udp->size = sizeof(*udp);
	udp->val.dst_port = htons(ROCEV2_UDP_PORT);
	udp->mask.dst_port = 0xffff;
	return total;
}

int ss_verbs_flow_add(struct ss_verbs *v, const struct ss_verbs_flow_spec *s,
		      struct ss_verbs_flows *out, char *reason, size_t len)
{
	union {
		struct ibv_flow_attr a;
		uint8_t b[512];
	} buf;
	int last = -ENODEV;

	memset(out, 0, sizeof(*out));
	reason[0] = '\0';
	if (ss_verbs_nb_devices(v) == 0) {
		snprintf(reason, len, "no RDMA device");
		return -ENODEV;
	}
	if (ss_verbs_flow_attr_build(s, buf.b, sizeof(buf.b)) == 0) {
		snprintf(reason, len, "verbs: cannot express the match");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < v->n; i++) {
		struct ss_verbs_dev *d = &v->dev[i];
		struct ibv_flow *f;
		char why[160];

		if (d->dead)
			continue;
		errno = 0;
		f = v->ops->create_flow(d->qp, &buf.a);
		if (f == NULL) {
			int e = errno ? errno : EIO;

			if (e == ENXIO) {
				d->dead = true;
				snprintf(why, sizeof(why), "%s: device not present (ENXIO)", d->name);
			} else {
				snprintf(why, sizeof(why), "%s: ibv_create_flow: %s (%s)", d->name,
					 strerror(e), err_name(e));
			}
			append(reason, len, why);
			last = -e;
			continue;
		}
		out->flow[out->n] = f;
		out->dev[out->n] = i;
		out->n++;
	}
	if (out->n == 0)
		return last;
	return 0;
}

void ss_verbs_flow_del(struct ss_verbs *v, struct ss_verbs_flows *f)
{
	if (v == NULL || f == NULL)
		return;
	for (unsigned int i = 0; i < f->n; i++)
		if (f->flow[i] != NULL)
			v->ops->destroy_flow(f->flow[i]); /* frees it even when the device is gone */
	f->n = 0;
}
