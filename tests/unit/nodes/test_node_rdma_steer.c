/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rdma_steer (pipelines/rdma/rdma_steer.c) on hand-built RoCEv2 mbufs
 * (SPEC 3.7): policy match by destination prefix and QP, the rewrites
 * outside the ICRC (MACs, PCP, DSCP with ECN kept, TTL and the IPv4
 * checksum; addresses, UDP and BTH untouched), the lossless class, the CNP
 * DSCP, ttl_exceeded, encap vnet (VXLAN toward the mapping's PA,
 * mapping_miss) and what no policy matches, handed to the ingress role's
 * pipeline. Frames arrive as parse leaves them.
 *
 * Policies: p-stor  10.50.0.0/16 -> storage0 via NH_STOR, lossless
 *           p-qp    10.50.0.0/16 QP 0x777 -> storage0 via NH_QP, DSCP 40, PCP 6
 *           p-v6    2001:db8:50::/48 -> storage0 via NH_V6
 *           p-vnet  10.1.0.0/16 -> fabric0 via NH_VNET, encap vnet (ENI e1), DSCP 30
 */
#include <string.h>

#include "dataplane/port.h"
#include "tests/unit/nodes/node_harness.h"
#include "tests/unit/nodes/topology.h"

#define NH_STOR "02:00:00:00:99:10"
#define NH_QP "02:00:00:00:99:11"
#define NH_V6 "02:00:00:00:99:12"
#define NH_VNET "02:00:00:00:99:13"
#define GPU "192.168.1.10"
#define GPU6 "fd10::10"

#define DSCP_DATA 26   /* defaults (SPEC 3.7) */
#define DSCP_CNP 48
#define OP_SEND 0x04
#define OP_CNP 0x81

static int setup(void **state)
{
	int rc = nt_setup(state);

	if (rc != 0)
		return rc;
	nt_topology();
	nt_ok("rdma.policy.add", "{\"name\": \"p-stor\", \"priority\": 100, \"match\": "
		"{\"dst_prefix\": \"10.50.0.0/16\"}, \"action\": {\"port\": \"storage0\", "
		"\"next_hop_mac\": \"" NH_STOR "\", \"queue\": \"lossless\"}}");
	nt_ok("rdma.policy.add", "{\"name\": \"p-qp\", \"priority\": 10, \"match\": "
		"{\"dst_prefix\": \"10.50.0.0/16\", \"dst_qp\": 1911}, \"action\": {\"port\": "
		"\"storage0\", \"next_hop_mac\": \"" NH_QP "\", \"queue\": \"lossless\", "
		"\"dscp\": 40, \"pcp\": 6}}");
	nt_ok("rdma.policy.add", "{\"name\": \"p-v6\", \"priority\": 100, \"match\": "
		"{\"dst_prefix\": \"2001:db8:50::/48\"}, \"action\": {\"port\": \"storage0\", "
		"\"next_hop_mac\": \"" NH_V6 "\", \"queue\": \"lossless\"}}");
	nt_ok("rdma.policy.add", "{\"name\": \"p-vnet\", \"priority\": 10, \"match\": "
		"{\"dst_prefix\": \"10.1.0.0/16\"}, \"action\": {\"port\": \"fabric0\", "
		"\"next_hop_mac\": \"" NH_VNET "\", \"encap\": \"vnet\", \"eni\": \"e1\", "
		"\"dscp\": 30}}");
	return 0;
}

/* RoCEv2 from `src` to `dst` (IPv4 or IPv6), optionally tagged, with the
 * given TOS / traffic class, TTL, opcode and destination QP. */
static void roce(struct pb *pb, uint16_t vlan, const char *src, const char *dst, uint8_t tos,
		 uint8_t ttl, uint8_t op, uint32_t qp)
{
	uint8_t s[16], d[16];
	int v4 = nt_ip(src, s) == 4;
	uint16_t type = v4 ? SS_ETHERTYPE_IPV4 : SS_ETHERTYPE_IPV6;
	uint8_t *ip;

	nt_ip(dst, d);
	pb_init(pb);
	pb_eth(pb, vlan ? 0x8100 : type);
	nt_mac(NT_STORAGE0_MAC, pb->b);
	nt_mac("02:00:00:00:07:01", pb->b + 6);
	if (vlan)
		pb_vlan(pb, vlan, type);
	ip = pb->b + (v4 ? pb_ipv4(pb, 17, 0) : pb_ipv6(pb, 17));
	pb_udp(pb, 49153, SS_UDP_PORT_ROCEV2);
	pb_bth(pb, op, 0xffff, qp, 1, 100);
	pb_payload(pb, 32);
	pb_finish(pb);
	if (v4) {
		memcpy(ip + 12, s, 4);
		memcpy(ip + 16, d, 4);
		ip[1] = tos;
		ip[8] = ttl;
		pb_ipv4_csum(ip);
	} else {
		memcpy(ip + 8, s, 16);
		memcpy(ip + 24, d, 16);
		ip[0] = (uint8_t)(0x60 | tos >> 4);
		ip[1] = (uint8_t)(tos << 4);
		ip[7] = ttl;
	}
}

struct scase {
	const char *desc;
	const char *port;
	uint16_t vlan;
	const char *src, *dst;
	uint8_t tos, ttl, op;
	uint32_t qp;
	const char *slot;     /* expected successor slot, or NULL */
	const char *edge;     /* else the fixed node */
	const char *drop;
	const char *nh;       /* steered without encap: next hop MAC */
	uint8_t tx_class;
	uint8_t dscp;         /* expected DSCP after the rewrite */
};

static const struct scase cases[] = {
	{ "data to storage: DSCP 26, ECT(0) kept", "host0", 0, GPU, "10.50.0.5", 0x02, 64, OP_SEND,
	  0x123, NULL, "port_tx", NULL, NH_STOR, SS_TX_LOSSLESS, DSCP_DATA },
	{ "CE never cleared", "host0", 0, GPU, "10.50.0.5", 0xff, 64, OP_SEND, 0x123, NULL,
	  "port_tx", NULL, NH_STOR, SS_TX_LOSSLESS, DSCP_DATA },
	{ "QP policy wins by priority, DSCP 40, PCP 6", "host0", 7, GPU, "10.50.0.5", 0x01, 9,
	  OP_SEND, 0x777, NULL, "port_tx", NULL, NH_QP, SS_TX_LOSSLESS, 40 },
	{ "CNP gets the CNP DSCP", "host0", 0, GPU, "10.50.0.5", 0x00, 64, OP_CNP, 0x777, NULL,
	  "port_tx", NULL, NH_QP, SS_TX_LOSSLESS, DSCP_CNP },
	{ "from a storage port", "storage0", 0, GPU, "10.50.1.1", 0x00, 2, OP_SEND, 0x5, NULL,
	  "port_tx", NULL, NH_STOR, SS_TX_LOSSLESS, DSCP_DATA },
	{ "IPv6", "host0", 0, GPU6, "2001:db8:50::5", 0x02, 64, OP_SEND, 0x9, NULL, "port_tx",
	  NULL, NH_V6, SS_TX_LOSSLESS, DSCP_DATA },
	{ "TTL 1 is not routed", "host0", 0, GPU, "10.50.0.5", 0x00, 1, OP_SEND, 0x123, NULL,
	  "drop", "ttl_exceeded", NULL, 0, 0 },
	{ "IPv6 hop limit 1", "host0", 0, GPU6, "2001:db8:50::5", 0x00, 1, OP_SEND, 0x9, NULL,
	  "drop", "ttl_exceeded", NULL, 0, 0 },
	{ "no policy, host port", "host0", 0, GPU, "10.60.0.1", 0x00, 64, OP_SEND, 0x123,
	  "rdma.unsteered.host", NULL, NULL, NULL, 0, 0 },
	{ "no policy, storage port", "storage0", 0, GPU, "10.60.0.1", 0x00, 64, OP_SEND, 0x123,
	  "rdma.unsteered.storage", NULL, NULL, NULL, 0, 0 },
	{ "encap vnet, no mapping", "host0", 0, GPU, "10.1.0.99", 0x00, 64, OP_SEND, 0x123, NULL,
	  "drop", "mapping_miss", NULL, 0, 0 },
};

/* A steered packet: only the fields outside the ICRC changed. */
static void check_steered(const struct scase *c, const struct pb *in, struct rte_mbuf *m)
{
	const uint8_t *f = nt_data(m);
	uint32_t l3 = c->vlan ? 18 : 14;
	const uint8_t *ip = f + l3, *orig = in->b + l3;
	int v4 = pb_rd16(f + l3 - 2) == SS_ETHERTYPE_IPV4;
	uint8_t mac[6], tos;

	assert_int_equal(rte_pktmbuf_pkt_len(m), in->len);
	nt_mac(c->nh, mac);
	nt_bytes(c->desc, f, mac, 6);
	nt_bytes(c->desc, f + 6, ss_ports.ports[ss_port_by_name("storage0")].mac.addr_bytes, 6);
	if (c->vlan) {
		assert_int_equal(f[14] >> 5, 6);                      /* PCP */
		assert_int_equal(pb_rd16(f + 14) & 0x1fff, pb_rd16(orig - 4) & 0x1fff);
	}
	if (v4) {
		tos = ip[1];
		assert_int_equal(ip[8], orig[8] - 1);
		assert_int_equal(ss_csum_raw(ip, 20, 0), 0xffff);
		nt_bytes(c->desc, ip + 12, orig + 12, 8);               /* addresses */
		nt_bytes(c->desc, ip + 20, orig + 20, in->len - l3 - 20); /* UDP, BTH, payload */
	} else {
		tos = (uint8_t)(ip[0] << 4 | ip[1] >> 4);
		assert_int_equal(ip[7], orig[7] - 1);
		assert_int_equal(ip[1] & 0x0f, orig[1] & 0x0f);        /* flow label */
		nt_bytes(c->desc, ip + 2, orig + 2, 5);
		nt_bytes(c->desc, ip + 8, orig + 8, in->len - l3 - 8);
	}
	uint8_t orig_ecn = v4 ? orig[1] & 3 : (orig[1] >> 4) & 3;
	if (tos != (uint8_t)(c->dscp << 2 | orig_ecn))
		fail_msg("%s: TOS 0x%02x, expected DSCP %u ECN %u", c->desc, tos, c->dscp, orig_ecn);
	assert_int_equal(ss_meta(m)->out_port, ss_port_by_name("storage0"));
	assert_int_equal(ss_meta(m)->tx_class, c->tx_class);
}

/* Every case in one burst, then each alone (whole-burst move). */
static void test_rdma_cases(void **state)
{
	const size_t n = RTE_DIM(cases);
	struct rte_mbuf *m[RTE_DIM(cases)];
	const char *edge[RTE_DIM(cases)];
	struct pb in[RTE_DIM(cases)];

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++) {
			const struct scase *c = &cases[i];
			roce(&in[i], c->vlan, c->src, c->dst, c->tos, c->ttl, c->op, c->qp);
			m[i] = nt_mbuf(c->port, &in[i], 1);
		}
		if (round == 0)
			nt_run("rdma_steer", m, (uint16_t)n, edge);
		else
			for (size_t i = 0; i < n; i++)
				edge[i] = nt_run1("rdma_steer", m[i]);
		for (size_t i = 0; i < n; i++) {
			const struct scase *c = &cases[i];
			nt_expect(c->desc, m[i], edge[i], c->slot ? nt_successor(c->slot) : c->edge,
				  c->drop);
			if (c->nh != NULL)
				check_steered(c, &in[i], m[i]);
			else if (c->slot != NULL)   /* handed on untouched */
				nt_bytes(c->desc, nt_data(m[i]), in[i].b, in[i].len);
		}
		nt_free(m, (uint16_t)n);
	}
}

/* encap vnet: the rewritten RoCE packet, untagged, its destination MAC :=
 * the mapping's, inside VXLAN toward the mapping's PA (SPEC 3.1 step 8
 * rules), out of the policy's port to its next hop; outer DSCP = the
 * policy's. */
static void test_rdma_encap_vnet(void **state)
{
	struct rte_mbuf *m;
	struct pb in;
	uint8_t want[16];

	(void)state;
	roce(&in, 5, GPU, "10.1.0.20", 0x01, 64, OP_SEND, 0x42);
	m = nt_mbuf("host0", &in, 1);
	nt_expect("encap vnet", m, nt_run1("rdma_steer", m), "port_tx", NULL);

	const uint8_t *f = nt_data(m), *ip = f + 14, *udp = ip + 20, *inner = udp + 16;
	uint32_t ilen = in.len - 4;

	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 20 + 16 + ilen);
	nt_mac(NH_VNET, want);
	nt_bytes("outer destination MAC", f, want, 6);
	nt_mac(NT_FABRIC0_MAC, want);
	nt_bytes("outer source MAC", f + 6, want, 6);
	assert_int_equal(ip[1], 30 << 2 | 1);                   /* policy DSCP, ECN kept */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ss_csum_raw(ip, 20, 0), 0xffff);
	nt_ip(TP_UL4, want);
	nt_bytes("outer source", ip + 12, want, 4);
	nt_ip("100.64.1.20", want);
	nt_bytes("outer destination", ip + 16, want, 4);
	assert_int_equal(pb_rd16(udp + 2), SS_UDP_PORT_VXLAN);
	assert_int_equal(udp[8], 0x08);
	assert_int_equal((uint32_t)udp[12] << 16 | udp[13] << 8 | udp[14], TP_VNI1);
	const uint8_t map_mac[6] = { 2, 0, 0, 0, 0xaa, 0x20 };
	nt_bytes("inner destination MAC", inner, map_mac, 6);
	nt_bytes("inner source MAC", inner + 6, in.b + 6, 6);
	assert_int_equal(pb_rd16(inner + 12), SS_ETHERTYPE_IPV4);   /* tag removed */
	assert_int_equal(inner[14 + 1], 30 << 2 | 1);
	assert_int_equal(inner[14 + 8], 63);
	assert_int_equal(ss_csum_raw(inner + 14, 20, 0), 0xffff);
	nt_bytes("inner addresses, UDP, BTH", inner + 14 + 12, in.b + 18 + 12, in.len - 18 - 12);
	assert_int_equal(ss_meta(m)->out_port, ss_port_by_name("fabric0"));
	nt_free(&m, 1);
}

/* Deleting the policy hands the QP's packets on unsteered. */
static void test_rdma_policy_delete(void **state)
{
	struct rte_mbuf *m;
	struct pb in;

	(void)state;
	roce(&in, 0, GPU, "10.50.0.9", 0, 64, OP_SEND, 0x31);
	m = nt_mbuf("host0", &in, 1);
	nt_expect("steered", m, nt_run1("rdma_steer", m), "port_tx", NULL);
	nt_free(&m, 1);
	nt_ok("rdma.policy.delete", "{\"name\": \"p-stor\"}");
	m = nt_mbuf("host0", &in, 1);
	nt_expect("policy deleted", m, nt_run1("rdma_steer", m),
		  nt_successor("rdma.unsteered.host"), NULL);
	nt_free(&m, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rdma_cases),
		cmocka_unit_test(test_rdma_encap_vnet),
		cmocka_unit_test(test_rdma_policy_delete),
	};

	return cmocka_run_group_tests(tests, setup, nt_teardown);
}
