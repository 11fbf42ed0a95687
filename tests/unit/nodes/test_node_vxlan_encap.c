/* SPDX-License-Identifier: BSD-3-Clause
 *
 * vxlan_encap (pipelines/overlay/node_vxlan_encap.c) on hand-built mbufs:
 * the outer headers field by field (SPEC 3.1 step 8, RFC 7348), IPv4 and
 * IPv6 underlays, VLAN removal, DSCP copy vs the ENI's pipe-mode DSCP, the
 * `direct` action, underlay_route_miss and no_underlay_ip; and the egress
 * MTU, which port_tx enforces on what vxlan_encap built. Packets come from
 * the ENIs through overlay_host and route_out (the fixtures).
 */
#include <string.h>

#include <rte_ip.h>

#include "dataplane/port.h"
#include "dataplane/worker-t.h"
#include "pipelines/overlay/overlay.h"
#include "tests/unit/nodes/node_harness.h"
#include "tests/unit/nodes/topology.h"

static int setup(void **state)
{
	int rc = nt_setup(state);

	if (rc == 0)
		nt_topology();
	return rc;
}

/* frame -> overlay_host -> route_out -> (here) vxlan_encap's input */
static struct rte_mbuf *encap_input(const struct pb *frame)
{
	struct rte_mbuf *m = nt_outbound_mbuf(frame);

	nt_expect("fixture: route_out", m, nt_run1("route_out", m), "vxlan_encap", NULL);
	return m;
}

static void frame_e1(struct pb *pb, const char *dst, uint8_t tos, uint32_t payload)
{
	uint8_t a[16];
	int v4 = nt_ip(dst, a) == 4;

	nt_frame_ip(pb, TP_E1_MAC, TP_SW_MAC, 0, v4 ? TP_VM : TP_VM6, dst, 17, 1000, 2000, payload);
	uint8_t *ip = nt_frame_l3(pb);
	if (v4) {
		ip[1] = tos;
		pb_ipv4_csum(ip);
	} else {
		ip[0] = (uint8_t)(0x60 | tos >> 4);
		ip[1] = (uint8_t)(tos << 4);
	}
}

/* The inner frame a tenant frame becomes: untagged, destination MAC :=
 * the mapping's. */
static uint32_t expected_inner(const struct pb *in, unsigned int map_mac, uint8_t *out)
{
	uint32_t tag = pb_rd16(in->b + 12) == 0x8100 ? 4 : 0;

	memcpy(out, in->b, 12);
	memcpy(out + 12, in->b + 12 + tag, in->len - 12 - tag);
	out[0] = 2, out[1] = 0, out[2] = 0, out[3] = 0, out[4] = 0xaa, out[5] = (uint8_t)map_mac;
	return in->len - tag;
}

/* Outer Ethernet + IPv4 + UDP + VXLAN, then the inner frame. */
static void check_outer4(const char *desc, struct rte_mbuf *m, const struct pb *in,
			 unsigned int map_mac, const char *pa, uint32_t vni, uint8_t tos)
{
	const uint8_t *f = nt_data(m), *ip = f + 14, *udp = ip + 20, *vx = udp + 8;
	uint8_t want[16], inner[PB_MAX];
	uint32_t ilen = expected_inner(in, map_mac, inner);
	uint16_t hash = (uint16_t)(ss_meta(m)->flow_hash & 0x3fff);

	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 20 + 8 + 8 + ilen);
	nt_mac(TP_NH4, want);
	nt_bytes(desc, f, want, 6);                        /* next hop */
	nt_mac(NT_FABRIC0_MAC, want);
	nt_bytes(desc, f + 6, want, 6);                    /* egress port's MAC */
	assert_int_equal(pb_rd16(f + 12), SS_ETHERTYPE_IPV4);
	assert_int_equal(ip[0], 0x45);
	if (ip[1] != tos)
		fail_msg("%s: outer TOS 0x%02x, expected 0x%02x", desc, ip[1], tos);
	assert_int_equal(pb_rd16(ip + 2), 20 + 8 + 8 + ilen);
	assert_int_equal(pb_rd16(ip + 6), 0);              /* DF clear, not a fragment */
	assert_int_equal(ip[8], 64);                       /* TTL */
	assert_int_equal(ip[9], 17);
	assert_int_equal(ss_csum_raw(ip, 20, 0), 0xffff);  /* header checksum verifies */
	nt_ip(TP_UL4, want);
	nt_bytes(desc, ip + 12, want, 4);
	nt_ip(pa, want);
	nt_bytes(desc, ip + 16, want, 4);
	assert_int_equal(pb_rd16(udp), 0xc000 | hash);     /* 49152 + 14 bits of the hash */
	assert_int_equal(pb_rd16(udp + 2), SS_UDP_PORT_VXLAN);
	assert_int_equal(pb_rd16(udp + 4), 8 + 8 + ilen);
	assert_int_equal(pb_rd16(udp + 6), 0);             /* no checksum over IPv4 */
	static const uint8_t flags[4] = { 0x08, 0, 0, 0 };
	nt_bytes(desc, vx, flags, 4);
	const uint8_t vnib[4] = { (uint8_t)(vni >> 16), (uint8_t)(vni >> 8), (uint8_t)vni, 0 };
	nt_bytes(desc, vx + 4, vnib, 4);
	nt_bytes(desc, vx + 8, inner, ilen);
	assert_int_equal(ss_meta(m)->out_port, ss_port_by_name("fabric0"));
}

struct ecase {
	const char *desc;
	const char *smac;
	uint16_t vlan;
	const char *dst;
	uint8_t tos;         /* inner TOS / traffic class */
	unsigned int map_mac;
	const char *pa;
	uint32_t vni;
	uint8_t outer_tos;
};

static const struct ecase v4_cases[] = {
	{ "IPv4 in IPv4", TP_E1_MAC, 0, "10.1.0.20", 0, 0x20, "100.64.1.20", TP_VNI1, 0 },
	{ "DSCP and ECN copied", TP_E1_MAC, 0, "10.1.0.20", 0xb9, 0x20, "100.64.1.20", TP_VNI1, 0xb9 },
	{ "ENI dscp 46 (pipe), ECN copied", TP_EDSCP_MAC, 0, "10.1.0.20", 0x22, 0x20,
	  "100.64.1.20", TP_VNI1, 46 << 2 | 2 },
	{ "VLAN tag removed", TP_E2_MAC, TP_E2_VLAN, "10.1.0.20", 0, 0x20, "100.64.1.20", TP_VNI1, 0 },
	{ "IPv6 in IPv4", TP_E1_MAC, 0, "2001:db8:1::20", 0x88, 0x20, "100.64.1.20", TP_VNI1, 0x88 },
	{ "use_dst_vni mapping", TP_E1_MAC, 0, "10.2.0.5", 0, 0x05, "100.64.1.5", TP_VNI2, 0 },
};

static void test_encap_ipv4_underlay(void **state)
{
	const size_t n = RTE_DIM(v4_cases);
	struct rte_mbuf *m[RTE_DIM(v4_cases)];
	const char *edge[RTE_DIM(v4_cases)];
	struct pb in[RTE_DIM(v4_cases)];
	uint8_t a[16];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct ecase *c = &v4_cases[i];
		int v4 = nt_ip(c->dst, a) == 4;

		nt_frame_ip(&in[i], c->smac, TP_SW_MAC, c->vlan, v4 ? TP_VM : TP_VM6, c->dst, 17,
			    1000 + (uint16_t)i, 2000, 32);
		uint8_t *ip = nt_frame_l3(&in[i]);
		if (v4) {
			ip[1] = c->tos;
			pb_ipv4_csum(ip);
		} else {
			ip[0] = (uint8_t)(0x60 | c->tos >> 4);
			ip[1] = (uint8_t)(c->tos << 4);
		}
		m[i] = encap_input(&in[i]);
	}
	nt_run("vxlan_encap", m, (uint16_t)n, edge);
	for (size_t i = 0; i < n; i++) {
		const struct ecase *c = &v4_cases[i];
		nt_expect(c->desc, m[i], edge[i], "port_tx", NULL);
		check_outer4(c->desc, m[i], &in[i], c->map_mac, c->pa, c->vni, c->outer_tos);
	}
	nt_free(m, (uint16_t)n);
}

/* Outer Ethernet + IPv6 + UDP + VXLAN toward fd00:1::21 (mapping aa:21),
 * then the inner frame. */
static void check_outer6(const char *desc, struct rte_mbuf *m, const struct pb *in, uint8_t tos)
{
	uint8_t want[16], inner[PB_MAX];
	const uint8_t *f = nt_data(m), *ip = f + 14, *udp = ip + 40;
	uint32_t ilen = expected_inner(in, 0x21, inner);
	uint32_t fl = ss_meta(m)->flow_hash & 0xfffff;
	uint32_t vtc = (uint32_t)pb_rd16(ip) << 16 | pb_rd16(ip + 2);

	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 40 + 16 + ilen);
	nt_mac(TP_NH6, want);
	nt_bytes(desc, f, want, 6);
	assert_int_equal(pb_rd16(f + 12), SS_ETHERTYPE_IPV6);
	assert_int_equal(vtc >> 28, 6);
	assert_int_equal((vtc >> 20) & 0xff, tos);         /* traffic class = inner TOS */
	assert_int_equal(vtc & 0xfffff, fl ? fl : 1);
	assert_int_equal(pb_rd16(ip + 4), 16 + ilen);
	assert_int_equal(ip[6], 17);
	assert_int_equal(ip[7], 64);
	nt_ip(TP_UL6, want);
	nt_bytes(desc, ip + 8, want, 16);
	nt_ip("fd00:1::21", want);
	nt_bytes(desc, ip + 24, want, 16);
	assert_int_equal(pb_rd16(udp), 0xc000 | (ss_meta(m)->flow_hash & 0x3fff));
	assert_int_equal(pb_rd16(udp + 2), SS_UDP_PORT_VXLAN);
	assert_int_not_equal(pb_rd16(udp + 6), 0);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify((const struct rte_ipv6_hdr *)ip, udp), 0);
	nt_bytes(desc, udp + 16, inner, ilen);
}

/* IPv4 tenant toward an IPv6 PA: hop limit 64, flow label from the hash
 * (never 0), UDP checksum computed (RFC 8200 8.1). */
static void test_encap_ipv6_underlay(void **state)
{
	struct rte_mbuf *m;
	struct pb in;

	(void)state;
	frame_e1(&in, "10.1.0.21", 0x4a, 40);
	m = encap_input(&in);
	nt_expect("IPv4 in IPv6", m, nt_run1("vxlan_encap", m), "port_tx", NULL);
	check_outer6("IPv4 in IPv6", m, &in, 0x4a);
	nt_free(&m, 1);
}

/* A burst to one target (vxlan_encap builds the outer headers of a run
 * once): each packet's own flow label, UDP source port, traffic class,
 * lengths and checksum, IPv4 and IPv6 targets interleaved. */
static void test_encap_runs(void **state)
{
	static const char *const dst[] = { "10.1.0.21", "10.1.0.21", "10.1.0.21", "10.1.0.20",
					   "10.1.0.20", "10.1.0.21", "10.1.0.21" };
	const size_t n = RTE_DIM(dst);
	struct rte_mbuf *m[RTE_DIM(dst)];
	const char *edge[RTE_DIM(dst)];
	struct pb in[RTE_DIM(dst)];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		uint8_t tos = (uint8_t)(i * 0x25);

		nt_frame_ip(&in[i], TP_E1_MAC, TP_SW_MAC, 0, TP_VM, dst[i], 17,
			    3000 + (uint16_t)i, 2000, 20 + 8 * (uint32_t)i);
		uint8_t *ip = nt_frame_l3(&in[i]);
		ip[1] = tos;
		pb_ipv4_csum(ip);
		m[i] = encap_input(&in[i]);
	}
	nt_run("vxlan_encap", m, (uint16_t)n, edge);
	for (size_t i = 0; i < n; i++) {
		uint8_t tos = (uint8_t)(i * 0x25);

		nt_expect(dst[i], m[i], edge[i], "port_tx", NULL);
		if (strcmp(dst[i], "10.1.0.21") == 0)
			check_outer6("run to an IPv6 PA", m[i], &in[i], tos);
		else
			check_outer4("run to an IPv4 PA", m[i], &in[i], 0x20, "100.64.1.20", TP_VNI1,
				     tos);
	}
	nt_free(m, (uint16_t)n);
}

/* Route action direct: not encapsulated, TTL decremented, checksum
 * updated, next hop by LPM on the tenant destination. */
static void test_encap_direct(void **state)
{
	struct rte_mbuf *m;
	struct pb in;
	uint8_t want[16];

	(void)state;
	frame_e1(&in, "8.8.8.8", 0, 20);
	m = encap_input(&in);
	nt_expect("direct", m, nt_run1("vxlan_encap", m), "port_tx", NULL);
	const uint8_t *f = nt_data(m);
	assert_int_equal(rte_pktmbuf_pkt_len(m), in.len);
	nt_mac(TP_NH4, want);
	nt_bytes("direct next hop", f, want, 6);
	nt_mac(NT_FABRIC0_MAC, want);
	nt_bytes("direct source MAC", f + 6, want, 6);
	assert_int_equal(f[14 + 8], 63);
	assert_int_equal(ss_csum_raw(f + 14, 20, 0), 0xffff);
	nt_bytes("direct L3 after the TTL", f + 14 + 12, in.b + 14 + 12, in.len - 26);
	assert_int_equal(ss_meta(m)->out_port, ss_port_by_name("fabric0"));
	nt_free(&m, 1);

	frame_e1(&in, "8.8.8.8", 0, 20);
	nt_frame_l3(&in)[8] = 1;
	pb_ipv4_csum(nt_frame_l3(&in));
	m = encap_input(&in);
	nt_expect("direct, TTL 1", m, nt_run1("vxlan_encap", m), "drop", "ttl_exceeded");
	nt_free(&m, 1);
}

static void test_encap_underlay_misses(void **state)
{
	struct rte_mbuf *m;
	struct pb in;

	(void)state;
	frame_e1(&in, "10.1.0.22", 0, 20);   /* PA 100.64.2.22: no underlay route */
	m = encap_input(&in);
	nt_expect("no underlay route", m, nt_run1("vxlan_encap", m), "drop", "underlay_route_miss");
	nt_free(&m, 1);

	/* without an IPv6 underlay address, an IPv6 PA cannot be reached */
	nt_ok("switch.set", "{\"underlay_ip6\": null}");
	frame_e1(&in, "10.1.0.21", 0, 20);
	m = encap_input(&in);
	nt_expect("no IPv6 underlay IP", m, nt_run1("vxlan_encap", m), "drop", "no_underlay_ip");
	nt_free(&m, 1);
	nt_ok("switch.set", "{\"underlay_ip6\": \"" TP_UL6 "\"}");
	frame_e1(&in, "10.1.0.21", 0, 20);
	m = encap_input(&in);
	nt_expect("IPv6 underlay IP back", m, nt_run1("vxlan_encap", m), "port_tx", NULL);
	nt_free(&m, 1);
}

/* The egress MTU (fabric0: 1500) applies to the outer L3 length: the
 * largest inner IPv4 packet that fits is 1500 - 20 - 8 - 8 - 14 = 1450
 * bytes. vxlan_encap builds the packet; port_tx transmits it or drops it
 * mtu_exceeded. */
static void test_encap_mtu(void **state)
{
	struct ss_worker *w = ss_workers.w[0];
	uint16_t fab = ss_port_by_name("fabric0");
	struct rte_mbuf *m;
	struct pb in;

	(void)state;
	for (uint32_t l3 = 1450; l3 <= 1451; l3++) {
		uint64_t tx = w->port[fab].tx_packets;

		frame_e1(&in, "10.1.0.20", 0, l3 - 20 - 8);
		m = encap_input(&in);
		nt_expect("MTU-sized", m, nt_run1("vxlan_encap", m), "port_tx", NULL);
		assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + l3 + 50);
		const char *e = nt_run1("port_tx", m);
		if (l3 == 1450) {
			assert_string_equal(e, NT_CONSUMED);   /* the device has it */
			assert_int_equal(w->port[fab].tx_packets - tx, 1);
		} else {
			nt_expect("outer L3 = MTU + 1", m, e, "drop", "mtu_exceeded");
			assert_int_equal(w->port[fab].tx_packets - tx, 0);
			nt_free(&m, 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encap_ipv4_underlay),
		cmocka_unit_test(test_encap_ipv6_underlay),
		cmocka_unit_test(test_encap_runs),
		cmocka_unit_test(test_encap_direct),
		cmocka_unit_test(test_encap_underlay_misses),
		cmocka_unit_test(test_encap_mtu),
	};

	return cmocka_run_group_tests(tests, setup, nt_teardown);
}
