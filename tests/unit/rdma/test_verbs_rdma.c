/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the libibverbs back-end (drivers/verbs_rdma.c) against a
 * fake struct ss_verbs_ops: the order of the calls, the contents of the
 * flow specs handed to ibv_create_flow, the "no RDMA device" state (NULL
 * list with ENOSYS, empty list), devices that are gone (ENXIO at open and
 * at flow creation), and that everything opened is closed in reverse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <cmocka.h>

#include "drivers/verbs_rdma.h"

/* ---- the fake ----------------------------------------------------------- */

#define NDEV 2

static struct {
	char log[64][48];
	int nlog;
	enum { LIST_TWO, LIST_NULL_ENOSYS, LIST_EMPTY, LIST_NULL_EACCES } list;
	int open_errno[NDEV];       /* ibv_open_device fails with this */
	int qp_errno[NDEV];         /* ibv_create_qp fails with this */
	int flow_errno[NDEV];       /* ibv_create_flow fails with this */
	int flows_live;
	uint8_t last_attr[NDEV][512];
	struct ibv_qp_init_attr last_qp_attr;
	int modify_states[8];
	int modify_masks[8];
	int nmodify;
} F;

static struct ibv_device devs[NDEV];
static struct ibv_device *dev_list[NDEV + 1];
static struct ibv_context ctxs[NDEV];
static struct ibv_pd pds[NDEV];
static struct ibv_cq cqs[NDEV];
static struct ibv_qp qps[NDEV];
static struct ibv_flow flows[64];
static int nflows;

static void logf_(const char *fmt, ...)
{
	va_list ap;

	assert_true(F.nlog < 64);
	va_start(ap, fmt);
	vsnprintf(F.log[F.nlog++], sizeof(F.log[0]), fmt, ap);
	va_end(ap);
}

static int idx_ctx(struct ibv_context *c) { return (int)(c - ctxs); }

static struct ibv_device **f_list(int *n)
{
	logf_("get_device_list");
	switch (F.list) {
	case LIST_NULL_ENOSYS:
		errno = ENOSYS;
		return NULL;
	case LIST_NULL_EACCES:
		errno = EACCES;
		return NULL;
	case LIST_EMPTY:
		*n = 0;
		dev_list[0] = NULL;
		return dev_list;
	default:
		*n = NDEV;
		for (int i = 0; i < NDEV; i++)
			dev_list[i] = &devs[i];
		dev_list[NDEV] = NULL;
		return dev_list;
	}
}

static void f_free_list(struct ibv_device **l)
{
	assert_ptr_equal(l, dev_list);
	logf_("free_device_list");
}

static const char *f_name(struct ibv_device *d)
{
	static const char *names[NDEV] = { "mlx5_0", "mlx5_1" };
	return names[d - devs];
}

static struct ibv_context *f_open(struct ibv_device *d)
{
	int i = (int)(d - devs);

	logf_("open_device %d", i);
	if (F.open_errno[i]) {
		errno = F.open_errno[i];
		return NULL;
	}
	ctxs[i].device = d;
	return &ctxs[i];
}

static int f_close(struct ibv_context *c)
{
	logf_("close_device %d", idx_ctx(c));
	return 0;
}

static struct ibv_pd *f_pd(struct ibv_context *c)
{
	int i = idx_ctx(c);

	logf_("alloc_pd %d", i);
	pds[i].context = c;
	return &pds[i];
}

static int f_dealloc_pd(struct ibv_pd *pd)
{
	logf_("dealloc_pd %d", (int)(pd - pds));
	return 0;
}

static struct ibv_cq *f_cq(struct ibv_context *c, int cqe, void *ctx, struct ibv_comp_channel *ch,
			   int vec)
{
	int i = idx_ctx(c);

	(void)ctx;
	(void)vec;
	assert_true(cqe > 0);
	assert_null(ch);
	logf_("create_cq %d", i);
	cqs[i].context = c;
	return &cqs[i];
}

static int f_destroy_cq(struct ibv_cq *cq)
{
	logf_("destroy_cq %d", (int)(cq - cqs));
	return 0;
}

static struct ibv_qp *f_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *a)
{
	int i = (int)(pd - pds);

	logf_("create_qp %d", i);
	F.last_qp_attr = *a;
	if (F.qp_errno[i]) {
		errno = F.qp_errno[i];
		return NULL;
	}
	qps[i].context = pd->context;
	return &qps[i];
}

static int f_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *a, int mask)
{
	logf_("modify_qp %d %s", (int)(qp - qps), a->qp_state == IBV_QPS_INIT ? "INIT"
						  : a->qp_state == IBV_QPS_RTR ? "RTR" : "?");
	if (a->qp_state == IBV_QPS_INIT)
		assert_int_equal(a->port_num, 1);
	F.modify_states[F.nmodify] = a->qp_state;
	F.modify_masks[F.nmodify++] = mask;
	return 0;
}

static int f_destroy_qp(struct ibv_qp *qp)
{
	logf_("destroy_qp %d", (int)(qp - qps));
	return 0;
}

static struct ibv_flow *f_flow(struct ibv_qp *qp, struct ibv_flow_attr *a)
{
	int i = (int)(qp - qps);

	logf_("create_flow %d", i);
	assert_true(a->size <= sizeof(F.last_attr[i]));
	memcpy(F.last_attr[i], a, a->size);
	if (F.flow_errno[i]) {
		errno = F.flow_errno[i];
		return NULL;
	}
	F.flows_live++;
	flows[nflows].context = qp->context;
	return &flows[nflows++];
}

static int f_destroy_flow(struct ibv_flow *f)
{
	logf_("destroy_flow %d", idx_ctx(f->context));
	F.flows_live--;
	return 0;
}

static const struct ss_verbs_ops fake = {
	.get_device_list = f_list, .free_device_list = f_free_list, .get_device_name = f_name,
	.open_device = f_open, .close_device = f_close, .alloc_pd = f_pd,
	.dealloc_pd = f_dealloc_pd, .create_cq = f_cq, .destroy_cq = f_destroy_cq,
	.create_qp = f_qp, .modify_qp = f_modify_qp, .destroy_qp = f_destroy_qp,
	.create_flow = f_flow, .destroy_flow = f_destroy_flow,
};

static int reset(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	nflows = 0;
	return 0;
}

static void expect_log(const char *const *want, int n)
{
	for (int i = 0; i < n && i < F.nlog; i++)
		if (strcmp(F.log[i], want[i]) != 0)
			fail_msg("call %d: \"%s\", want \"%s\"", i, F.log[i], want[i]);
	if (F.nlog != n) {
		for (int i = 0; i < F.nlog; i++)
			print_message("  call %d: %s\n", i, F.log[i]);
		fail_msg("%d calls, want %d", F.nlog, n);
	}
}

static struct ss_verbs_flow_spec v4spec(void)
{
	struct ss_verbs_flow_spec s;

	memset(&s, 0, sizeof(s));
	s.family = 4;
	inet_pton(AF_INET, "10.1.2.3", s.dst);
	s.dst_len = 16;
	s.priority = 3;
	return s;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_no_device_enosys(void **state)
{
	static const char *const want[] = { "get_device_list" };
	struct ss_verbs_flow_spec s = v4spec();
	struct ss_verbs_flows fl;
	char status[256], why[256];
	struct ss_verbs *v;

	(void)state;
	F.list = LIST_NULL_ENOSYS;
	v = ss_verbs_open(&fake, status, sizeof(status));
	assert_non_null(v);
	assert_string_equal(status, "no RDMA device");
	assert_int_equal(ss_verbs_nb_devices(v), 0);
	assert_int_equal(ss_verbs_flow_add(v, &s, &fl, why, sizeof(why)), -ENODEV);
	assert_string_equal(why, "no RDMA device");
	assert_int_equal(fl.n, 0);
	ss_verbs_flow_del(v, &fl);
	ss_verbs_close(v);
	expect_log(want, 1);
}

static void test_no_device_empty_and_other_errors(void **state)
{
	static const char *const want[] = { "get_device_list", "free_device_list" };
	char status[256];
	struct ss_verbs *v;

	(void)state;
	F.list = LIST_EMPTY;
	v = ss_verbs_open(&fake, status, sizeof(status));
	assert_string_equal(status, "no RDMA device");
	assert_int_equal(ss_verbs_nb_devices(v), 0);
	ss_verbs_close(v);
	expect_log(want, 2);

	reset(NULL);
	F.list = LIST_NULL_EACCES;
	v = ss_verbs_open(&fake, status, sizeof(status));
	assert_string_equal(status, "no RDMA device (ibv_get_device_list: Permission denied)");
	ss_verbs_close(v);
}

static void test_open_call_order(void **state)
{
	static const char *const want[] = {
		"get_device_list",
		"open_device 0", "alloc_pd 0", "create_cq 0", "create_qp 0",
		"modify_qp 0 INIT", "modify_qp 0 RTR",
		"open_device 1", "alloc_pd 1", "create_cq 1", "create_qp 1",
		"modify_qp 1 INIT", "modify_qp 1 RTR",
		"free_device_list",
		/* close: reverse of open, per device */
		"destroy_qp 0", "destroy_cq 0", "dealloc_pd 0", "close_device 0",
		"destroy_qp 1", "destroy_cq 1", "dealloc_pd 1", "close_device 1",
	};
	char status[256];
	struct ss_verbs *v;

	(void)state;
	v = ss_verbs_open(&fake, status, sizeof(status));
	assert_string_equal(status, "mlx5_0; mlx5_1");
	assert_int_equal(ss_verbs_nb_devices(v), 2);
	assert_int_equal(F.last_qp_attr.qp_type, IBV_QPT_RAW_PACKET);
	assert_ptr_equal(F.last_qp_attr.send_cq, &cqs[1]);
	assert_ptr_equal(F.last_qp_attr.recv_cq, &cqs[1]);
	assert_int_equal(F.modify_masks[0], IBV_QP_STATE | IBV_QP_PORT);
	assert_int_equal(F.modify_masks[1], IBV_QP_STATE);
	ss_verbs_close(v);
	expect_log(want, (int)(sizeof(want) / sizeof(want[0])));
}

static void test_flow_specs_ipv4(void **state)
{
	struct ss_verbs_flow_spec s = v4spec();
	struct ss_verbs_flows fl;
	char status[256], why[256];
	struct ss_verbs *v;

	(void)state;
	s.has_src = true;
	inet_pton(AF_INET, "192.168.9.9", s.src);
	s.src_len = 24;
	v = ss_verbs_open(&fake, status, sizeof(status));
	F.nlog = 0;
	assert_int_equal(ss_verbs_flow_add(v, &s, &fl, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(fl.n, 2);
	assert_int_equal(F.flows_live, 2);
	for (int d = 0; d < NDEV; d++) {
		const uint8_t *p = F.last_attr[d];
		const struct ibv_flow_attr *a = (const void *)p;
		const struct ibv_flow_spec_eth *eth = (const void *)(p + sizeof(*a));
		const struct ibv_flow_spec_ipv4 *ip = (const void *)(eth + 1);
		const struct ibv_flow_spec_tcp_udp *udp = (const void *)(ip + 1);

		assert_int_equal(a->type, IBV_FLOW_ATTR_NORMAL);
		assert_int_equal(a->flags, IBV_FLOW_ATTR_FLAGS_DONT_TRAP);
		assert_int_equal(a->num_of_specs, 3);
		assert_int_equal(a->port, 1);
		assert_int_equal(a->priority, 3);
		assert_int_equal(a->size, sizeof(*a) + sizeof(*eth) + sizeof(*ip) + sizeof(*udp));
		assert_int_equal(eth->type, IBV_FLOW_SPEC_ETH);
		assert_int_equal(eth->size, sizeof(*eth));
		assert_int_equal(ntohs(eth->val.ether_type), 0x0800);
		assert_int_equal(eth->mask.ether_type, 0xffff);
		static const uint8_t zero6[6];
		assert_memory_equal(eth->mask.dst_mac, zero6, 6);
		assert_int_equal(ip->type, IBV_FLOW_SPEC_IPV4);
		assert_int_equal(ip->size, sizeof(*ip));
		assert_int_equal(ntohl(ip->val.dst_ip), 0x0a010000);
		assert_int_equal(ntohl(ip->mask.dst_ip), 0xffff0000);
		assert_int_equal(ntohl(ip->val.src_ip), 0xc0a80900);
		assert_int_equal(ntohl(ip->mask.src_ip), 0xffffff00);
		assert_int_equal(udp->type, IBV_FLOW_SPEC_UDP);
		assert_int_equal(udp->size, sizeof(*udp));
		assert_int_equal(ntohs(udp->val.dst_port), 4791);
		assert_int_equal(udp->mask.dst_port, 0xffff);
		assert_int_equal(udp->mask.src_port, 0);
	}
	ss_verbs_flow_del(v, &fl);
	assert_int_equal(F.flows_live, 0);
	assert_int_equal(fl.n, 0);
	static const char *const want[] = { "create_flow 0", "create_flow 1", "destroy_flow 0",
					    "destroy_flow 1" };
	expect_log(want, 4);
	ss_verbs_close(v);
}

static void test_flow_specs_ipv6(void **state)
{
	struct ss_verbs_flow_spec s;
	uint8_t buf[512];
	size_t n;
	static const uint8_t want_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x07 };
	static const uint8_t want_mask[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[16];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.family = 6;
	inet_pton(AF_INET6, "2001:db8:7:1::9", s.dst);
	s.dst_len = 48;
	n = ss_verbs_flow_attr_build(&s, buf, sizeof(buf));
	const struct ibv_flow_attr *a = (const void *)buf;
	const struct ibv_flow_spec_eth *eth = (const void *)(buf + sizeof(*a));
	const struct ibv_flow_spec_ipv6 *ip = (const void *)(eth + 1);
	const struct ibv_flow_spec_tcp_udp *udp = (const void *)(ip + 1);
	assert_int_equal(n, sizeof(*a) + sizeof(*eth) + sizeof(*ip) + sizeof(*udp));
	assert_int_equal(a->size, n);
	assert_int_equal(ntohs(eth->val.ether_type), 0x86dd);
	assert_int_equal(ip->type, IBV_FLOW_SPEC_IPV6);
	assert_memory_equal(ip->val.dst_ip, want_dst, 16);
	assert_memory_equal(ip->mask.dst_ip, want_mask, 16);
	assert_memory_equal(ip->mask.src_ip, zero, 16);
	assert_int_equal(ip->mask.traffic_class, 0);
	assert_int_equal(ip->mask.hop_limit, 0);
	assert_int_equal(ntohs(udp->val.dst_port), 4791);
	/* too small a buffer, unknown family */
	assert_int_equal(ss_verbs_flow_attr_build(&s, buf, n - 1), 0);
	s.family = 0;
	assert_int_equal(ss_verbs_flow_attr_build(&s, buf, sizeof(buf)), 0);
}

static void test_enxio_at_open(void **state)
{
	static const char *const want[] = {
		"get_device_list",
		"open_device 0",
		"open_device 1", "alloc_pd 1", "create_cq 1", "create_qp 1",
		"modify_qp 1 INIT", "modify_qp 1 RTR",
		"free_device_list",
	};
	char status[256];
	struct ss_verbs *v;

	(void)state;
	F.open_errno[0] = ENXIO;
	v = ss_verbs_open(&fake, status, sizeof(status));
	assert_string_equal(status, "mlx5_0: device not present (ENXIO); mlx5_1");
	assert_int_equal(ss_verbs_nb_devices(v), 1);
	expect_log(want, (int)(sizeof(want) / sizeof(want[0])));
	ss_verbs_close(v);
}

static void test_failure_mid_open_cleans_up(void **state)
{
	static const char *const want[] = {
		"get_device_list",
		"open_device 0", "alloc_pd 0", "create_cq 0", "create_qp 0",
		/* unwound in reverse */
		"destroy_cq 0", "dealloc_pd 0", "close_device 0",
		"open_device 1", "alloc_pd 1", "create_cq 1", "create_qp 1",
		"destroy_cq 1", "dealloc_pd 1", "close_device 1",
		"free_device_list",
	};
	char status[256];
	struct ss_verbs *v;

	(void)state;
	F.qp_errno[0] = EPERM;
	F.qp_errno[1] = ENXIO;
	v = ss_verbs_open(&fake, status, sizeof(status));
	assert_string_equal(status, "mlx5_0: ibv_create_qp(IBV_QPT_RAW_PACKET): Operation not "
			    "permitted (EPERM); mlx5_1: device not present (ENXIO)");
	assert_int_equal(ss_verbs_nb_devices(v), 0);
	expect_log(want, (int)(sizeof(want) / sizeof(want[0])));
	F.nlog = 0;
	ss_verbs_close(v);
	assert_int_equal(F.nlog, 0); /* nothing left to close */
}

static void test_enxio_at_flow(void **state)
{
	struct ss_verbs_flow_spec s = v4spec();
	struct ss_verbs_flows fl, fl2;
	char status[256], why[256];
	struct ss_verbs *v;

	(void)state;
	v = ss_verbs_open(&fake, status, sizeof(status));
	F.flow_errno[0] = ENXIO;
	F.nlog = 0;
	assert_int_equal(ss_verbs_flow_add(v, &s, &fl, why, sizeof(why)), 0);
	assert_string_equal(why, "mlx5_0: device not present (ENXIO)");
	assert_int_equal(fl.n, 1);
	assert_int_equal(fl.dev[0], 1);
	assert_int_equal(ss_verbs_nb_devices(v), 1);
	/* the dead device is not asked again */
	assert_int_equal(ss_verbs_flow_add(v, &s, &fl2, why, sizeof(why)), 0);
	static const char *const want[] = { "create_flow 0", "create_flow 1", "create_flow 1" };
	expect_log(want, 3);
	/* another error on the last device: the flow is refused with why */
	F.flow_errno[1] = EINVAL;
	struct ss_verbs_flows fl3;
	assert_int_equal(ss_verbs_flow_add(v, &s, &fl3, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "mlx5_1: ibv_create_flow: Invalid argument (EINVAL)");
	assert_int_equal(fl3.n, 0);
	ss_verbs_flow_del(v, &fl);
	ss_verbs_flow_del(v, &fl2);
	assert_int_equal(F.flows_live, 0);
	ss_verbs_close(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_device_enosys, reset),
		cmocka_unit_test_setup(test_no_device_empty_and_other_errors, reset),
		cmocka_unit_test_setup(test_open_call_order, reset),
		cmocka_unit_test_setup(test_flow_specs_ipv4, reset),
		cmocka_unit_test_setup(test_flow_specs_ipv6, reset),
		cmocka_unit_test_setup(test_enxio_at_open, reset),
		cmocka_unit_test_setup(test_failure_mid_open_cleans_up, reset),
		cmocka_unit_test_setup(test_enxio_at_flow, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
