/* SPDX-License-Identifier: BSD-3-Clause
 *
 * overlay_host (pipelines/overlay/node_host.c) on hand-built mbufs: ENI by
 * (port, VLAN, source MAC), admin state, ARP answered for mappings and the
 * VNET gateway, neighbour solicitations answered for mappings (SPEC 3.1
 * steps 2-3), the metadata handed to the outbound arc, and the per-ENI
 * counters. Frames arrive as parse leaves them.
 */
#include <stdio.h>
#include <string.h>

#include <rte_ip.h>

#include "dataplane/port.h"
#include "pipelines/overlay/overlay.h"
#include "tests/unit/nodes/node_harness.h"
#include "tests/unit/nodes/topology.h"

enum kind { K_UDP, K_ARP, K_NS, K_LLDP };

struct hcase {
	const char *desc;
	enum kind kind;
	const char *smac;
	uint16_t vlan;
	const char *dst;     /* IP destination, or the ARP target */
	const char *eni;     /* expected meta->eni (by name), NULL: none */
	const char *slot;    /* expected successor slot, or NULL */
	const char *edge;    /* else the fixed node expected */
	const char *drop;
};

static const struct hcase cases[] = {
	{ "ENI hit, untagged", K_UDP, TP_E1_MAC, 0, "10.1.0.20", "e1", "outbound.after_eni", NULL,
	  NULL },
	{ "ENI hit, VLAN 100", K_UDP, TP_E2_MAC, TP_E2_VLAN, "10.1.0.20", "e2",
	  "outbound.after_eni", NULL, NULL },
	{ "unknown source MAC", K_UDP, "02:00:00:00:01:99", 0, "10.1.0.20", NULL, NULL, "drop",
	  "eni_miss" },
	{ "ENI MAC on the wrong VLAN", K_UDP, TP_E1_MAC, TP_E2_VLAN, "10.1.0.20", NULL, NULL,
	  "drop", "eni_miss" },
	{ "VLAN ENI untagged", K_UDP, TP_E2_MAC, 0, "10.1.0.20", NULL, NULL, "drop", "eni_miss" },
	{ "ENI admin down", K_UDP, TP_EDOWN_MAC, 0, "10.1.0.20", NULL, NULL, "drop",
	  "eni_admin_down" },
	{ "ARP for a mapped CA", K_ARP, TP_E1_MAC, 0, "10.1.0.20", "e1", NULL, "port_tx", NULL },
	{ "ARP for the VNET gateway", K_ARP, TP_E1_MAC, 0, TP_GW1, "e1", NULL, "port_tx", NULL },
	{ "ARP for an unmapped address", K_ARP, TP_E1_MAC, 0, "10.1.0.99", "e1", NULL, "drop",
	  "arp_unresolved" },
	{ "neighbour solicitation for a mapped CA", K_NS, TP_E1_MAC, 0, "2001:db8:1::20", "e1", NULL,
	  "port_tx", NULL },
	{ "neighbour solicitation for an unmapped address", K_NS, TP_E1_MAC, 0, "2001:db8:1::99",
	  "e1", NULL, "drop", "arp_unresolved" },
	{ "ARP from an unknown MAC", K_ARP, "02:00:00:00:01:99", 0, "10.1.0.20", NULL, NULL,
	  "drop", "eni_miss" },
	{ "tenant frame neither IP nor ARP", K_LLDP, TP_E1_MAC, 0, NULL, "e1", NULL, "drop",
	  "tenant_not_ip" },
};

static int setup(void **state)
{
	int rc = nt_setup(state);

	if (rc == 0)
		nt_topology();
	return rc;
}

/* An ARP request from smac / TP_VM for `target`, broadcast. */
static void arp_request(struct pb *pb, const char *smac, uint16_t vlan, const char *target)
{
	uint8_t *a;
	uint8_t ip[16];

	pb_init(pb);
	pb_eth(pb, vlan ? 0x8100 : SS_ETHERTYPE_ARP);
	memset(pb->b, 0xff, 6);
	nt_mac(smac, pb->b + 6);
	if (vlan)
		pb_vlan(pb, vlan, SS_ETHERTYPE_ARP);
	a = pb->b + pb_arp(pb, 1);
	nt_mac(smac, a + 8);
	nt_ip(TP_VM, ip);
	memcpy(a + 14, ip, 4);
	nt_ip(target, ip);
	memcpy(a + 24, ip, 4);
	pb_finish(pb);
}

/* A neighbour solicitation (RFC 4861 4.3) from smac / TP_VM6 for `target`,
 * to its solicited-node multicast address. */
static void nd_solicit(struct pb *pb, const char *smac, const char *target)
{
	uint8_t t[16], a[16];
	uint8_t *ip, *icmp;

	nt_ip(target, t);
	pb_init(pb);
	pb_eth(pb, SS_ETHERTYPE_IPV6);
	const uint8_t dmac[6] = { 0x33, 0x33, 0xff, t[13], t[14], t[15] };
	memcpy(pb->b, dmac, 6);
	nt_mac(smac, pb->b + 6);
	ip = pb->b + pb_ipv6(pb, 58);
	ip[7] = 255;
	nt_ip(TP_VM6, a);
	memcpy(ip + 8, a, 16);
	nt_ip("ff02::1:ff00:0", a);
	memcpy(a + 13, t + 13, 3);
	memcpy(ip + 24, a, 16);
	icmp = pb->b + pb_icmp(pb, 135, 0, 0, 0);
	pb_payload(pb, 16);
	memcpy(icmp + 8, t, 16);
	pb_finish(pb);
}

static void build(struct pb *pb, const struct hcase *c)
{
	switch (c->kind) {
	case K_UDP:
		nt_frame_ip(pb, c->smac, TP_SW_MAC, c->vlan, TP_VM, c->dst, 17, 1000, 2000, 16);
		break;
	case K_ARP:
		arp_request(pb, c->smac, c->vlan, c->dst);
		break;
	case K_NS:
		nd_solicit(pb, c->smac, c->dst);
		break;
	case K_LLDP:
		pb_init(pb);
		pb_eth(pb, 0x88cc);
		nt_mac(c->smac, pb->b + 6);
		pb_payload(pb, 46);
		pb_finish(pb);
		break;
	}
}

static void check_case(const struct hcase *c, struct rte_mbuf *m, const char *edge)
{
	const struct ss_meta *meta = ss_meta(m);

	nt_expect(c->desc, m, edge, c->slot ? nt_successor(c->slot) : c->edge, c->drop);
	if (c->eni == NULL)
		return;
	if ((int)meta->eni != ss_overlay_eni_index(c->eni))
		fail_msg("%s: meta->eni %u, expected %s's %d", c->desc, meta->eni, c->eni,
			 ss_overlay_eni_index(c->eni));
	assert_int_equal(meta->ovl_dir, SS_OVL_DIR_OUTBOUND);
	assert_int_equal(meta->ovl_flags, 0);
}

/* Every case in one burst (mixed edges), then each alone (whole-burst move). */
static void test_host_cases(void **state)
{
	const size_t n = RTE_DIM(cases);
	struct rte_mbuf *m[RTE_DIM(cases)];
	const char *edge[RTE_DIM(cases)];
	struct pb pb;

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++) {
			build(&pb, &cases[i]);
			m[i] = nt_mbuf("host0", &pb, 1);
		}
		if (round == 0)
			nt_run("overlay_host", m, (uint16_t)n, edge);
		else
			for (size_t i = 0; i < n; i++)
				edge[i] = nt_run1("overlay_host", m[i]);
		for (size_t i = 0; i < n; i++)
			check_case(&cases[i], m[i], edge[i]);
		nt_free(m, (uint16_t)n);
	}
}

/* Runs of one source (overlay_host looks a run's key up once): every packet
 * gets what it gets alone, with runs broken by other ENIs, a VLAN, unknown
 * and admin-down sources, ARP and a non-IP frame; e1's counters count each
 * of its packets. */
static void test_host_runs(void **state)
{
	static const int order[] = { 0, 0, 0, 1, 1, 0, 2, 2, 0, 0, 3, 0, 4, 5, 5, 0, 6, 0, 12,
				     12, 0, 1, 0, 0 };
	const size_t n = RTE_DIM(order);
	int e1 = ss_overlay_eni_index("e1");
	const struct ss_overlay_eni_counters *c = &ss_overlay_eni_ctr[0][e1];
	uint64_t rx = c->rx_packets, rx_e1 = 0;
	struct rte_mbuf *m[RTE_DIM(order)];
	const char *edge[RTE_DIM(order)];
	struct pb pb;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		build(&pb, &cases[order[i]]);
		m[i] = nt_mbuf("host0", &pb, 1);
		if (cases[order[i]].eni != NULL && strcmp(cases[order[i]].eni, "e1") == 0)
			rx_e1++;
	}
	nt_run("overlay_host", m, (uint16_t)n, edge);
	for (size_t i = 0; i < n; i++)
		check_case(&cases[order[i]], m[i], edge[i]);
	assert_int_equal(c->rx_packets - rx, rx_e1);
	nt_free(m, (uint16_t)n);
}

/* The ENI on the other host port does not match host0's frames. */
static void test_host_eni_is_per_port(void **state)
{
	struct rte_mbuf *m;
	struct pb pb;

	(void)state;
	nt_frame_ip(&pb, TP_E1_MAC, TP_SW_MAC, 0, TP_VM, "10.1.0.20", 17, 1000, 2000, 16);
	m = nt_mbuf("host1", &pb, 1);
	nt_expect("e1's MAC on host1", m, nt_run1("overlay_host", m), "drop", "eni_miss");
	nt_free(&m, 1);
}

/* The reply, field by field (RFC 826): to the asker, from the answer. */
static void check_arp_reply(const char *desc, struct rte_mbuf *m, const char *target,
			    const char *answer_mac)
{
	const uint8_t *f = nt_data(m);
	const uint8_t *a = f + 14;
	uint8_t mac[6], vm_mac[6], ip[16], vm[16];

	nt_mac(answer_mac, mac);
	nt_mac(TP_E1_MAC, vm_mac);
	nt_ip(target, ip);
	nt_ip(TP_VM, vm);
	nt_bytes(desc, f, vm_mac, 6);            /* Ethernet destination: the asker */
	nt_bytes(desc, f + 6, mac, 6);           /* Ethernet source: the answer */
	assert_int_equal(pb_rd16(f + 12), SS_ETHERTYPE_ARP);
	assert_int_equal(pb_rd16(a + 6), 2);     /* reply */
	nt_bytes(desc, a + 8, mac, 6);           /* sender: the answer */
	nt_bytes(desc, a + 14, ip, 4);
	nt_bytes(desc, a + 18, vm_mac, 6);       /* target: the asker */
	nt_bytes(desc, a + 24, vm, 4);
	assert_int_equal(ss_meta(m)->out_port, ss_port_by_name("host0"));
}

static void test_host_arp_replies(void **state)
{
	struct rte_mbuf *m;
	struct pb pb;

	(void)state;
	arp_request(&pb, TP_E1_MAC, 0, "10.1.0.20");
	m = nt_mbuf("host0", &pb, 1);
	nt_expect("ARP mapping", m, nt_run1("overlay_host", m), "port_tx", NULL);
	check_arp_reply("ARP reply for 10.1.0.20", m, "10.1.0.20", "02:00:00:00:aa:20");
	nt_free(&m, 1);

	arp_request(&pb, TP_E1_MAC, 0, TP_GW1);
	m = nt_mbuf("host0", &pb, 1);
	nt_expect("ARP gateway", m, nt_run1("overlay_host", m), "port_tx", NULL);
	check_arp_reply("ARP reply for the gateway", m, TP_GW1, TP_SW_MAC);
	nt_free(&m, 1);
}

/* The neighbour advertisement (RFC 4861 4.4, 7.2.4): from the target to the
 * solicitor, solicited + override, with the target link-layer address. */
static void test_host_nd_reply(void **state)
{
	struct rte_mbuf *m;
	struct pb pb;
	uint8_t mac[6], vm_mac[6], t[16], vm[16];

	(void)state;
	nd_solicit(&pb, TP_E1_MAC, "2001:db8:1::20");
	m = nt_mbuf("host0", &pb, 1);
	nt_expect("ND mapping", m, nt_run1("overlay_host", m), "port_tx", NULL);

	const uint8_t *f = nt_data(m), *ip = f + 14, *icmp = ip + 40;
	nt_mac("02:00:00:00:aa:20", mac);
	nt_mac(TP_E1_MAC, vm_mac);
	nt_ip("2001:db8:1::20", t);
	nt_ip(TP_VM6, vm);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 40 + 32);
	nt_bytes("NA Ethernet destination", f, vm_mac, 6);
	nt_bytes("NA Ethernet source", f + 6, mac, 6);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(pb_rd16(ip + 4), 32);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 255);
	nt_bytes("NA source", ip + 8, t, 16);
	nt_bytes("NA destination", ip + 24, vm, 16);
	assert_int_equal(icmp[0], 136);
	assert_int_equal(icmp[1], 0);
	assert_int_equal(icmp[4], 0x60);                   /* solicited, override */
	nt_bytes("NA target", icmp + 8, t, 16);
	assert_int_equal(icmp[24], 2);                     /* target link-layer address */
	assert_int_equal(icmp[25], 1);
	nt_bytes("NA option", icmp + 26, mac, 6);
	assert_int_equal(rte_ipv6_udptcp_cksum_verify((const struct rte_ipv6_hdr *)ip, icmp), 0);
	assert_int_equal(ss_meta(m)->out_port, ss_port_by_name("host0"));
	nt_free(&m, 1);
}

/* The flow hash the later stages use: per flow direction. */
static void test_host_flow_hash(void **state)
{
	struct rte_mbuf *m[3];
	const char *edge[3];
	struct pb pb;

	(void)state;
	nt_frame_ip(&pb, TP_E1_MAC, TP_SW_MAC, 0, TP_VM, "10.1.0.20", 6, 1000, 80, 0);
	m[0] = nt_mbuf("host0", &pb, 1);
	m[1] = nt_mbuf("host0", &pb, 1);
	nt_frame_ip(&pb, TP_E1_MAC, TP_SW_MAC, 0, TP_VM, "10.1.0.20", 6, 1001, 80, 0);
	m[2] = nt_mbuf("host0", &pb, 1);
	nt_run("overlay_host", m, 3, edge);
	for (int i = 0; i < 3; i++)
		nt_expect("TCP from e1", m[i], edge[i], nt_successor("outbound.after_eni"), NULL);
	assert_int_equal(ss_meta(m[0])->flow_hash, ss_meta(m[1])->flow_hash);
	assert_int_not_equal(ss_meta(m[0])->flow_hash, ss_meta(m[2])->flow_hash);
	assert_int_equal(ss_meta(m[0])->vnet, ss_meta(m[2])->vnet);
	assert_int_not_equal(ss_meta(m[0])->vnet, 0);
	nt_free(m, 3);
}

/* rx counts what came from the ENI (outbound), tx the ARP replies to it. */
static void test_host_eni_counters(void **state)
{
	int e1 = ss_overlay_eni_index("e1");
	const struct ss_overlay_eni_counters *c = &ss_overlay_eni_ctr[0][e1];
	uint64_t rx = c->rx_packets, rx_bytes = c->rx_bytes, tx = c->tx_packets;
	struct rte_mbuf *m[2];
	const char *edge[2];
	struct pb pb;
	uint32_t len;

	(void)state;
	nt_frame_ip(&pb, TP_E1_MAC, TP_SW_MAC, 0, TP_VM, "10.1.0.20", 17, 1000, 2000, 100);
	len = pb.len;
	m[0] = nt_mbuf("host0", &pb, 1);
	arp_request(&pb, TP_E1_MAC, 0, "10.1.0.20");
	len += pb.len;
	m[1] = nt_mbuf("host0", &pb, 1);
	nt_run("overlay_host", m, 2, edge);
	assert_int_equal(c->rx_packets - rx, 2);
	assert_int_equal(c->rx_bytes - rx_bytes, len);
	assert_int_equal(c->tx_packets - tx, 1);
	nt_free(m, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_cases),
		cmocka_unit_test(test_host_runs),
		cmocka_unit_test(test_host_eni_is_per_port),
		cmocka_unit_test(test_host_arp_replies),
		cmocka_unit_test(test_host_nd_reply),
		cmocka_unit_test(test_host_flow_hash),
		cmocka_unit_test(test_host_eni_counters),
	};

	return cmocka_run_group_tests(tests, setup, nt_teardown);
}
