/* SPDX-License-Identifier: BSD-3-Clause
 *
 * parse (pipelines/parse/parse_node.c) on hand-built mbufs: admission per
 * port role (SPEC 2), malformed frames, VLAN and VXLAN metadata, the
 * ingress edge per role, RoCEv2 to the RoCE slot, patch mode, and what it
 * counts. The frames' metadata starts poisoned: everything checked here
 * was written by the node.
 */
#include <stdio.h>
#include <string.h>

#include "dataplane/port.h"
#include "dataplane/worker-t.h"
#include "tests/unit/nodes/node_harness.h"

enum frame {
	F_UDP4,          /* IPv4/UDP, unicast to the port MAC */
	F_UDP4_OTHER,    /* IPv4/UDP, unicast to a MAC that is not the port's */
	F_UDP4_VLAN,     /* tagged VLAN 100 */
	F_UDP4_CUT,      /* cut inside the IPv4 header */
	F_UDP4_BADSUM,   /* IPv4 header checksum broken */
	F_ARP_BCAST,     /* ARP request to ff:ff:ff:ff:ff:ff */
	F_VXLAN,         /* VXLAN 1000 over IPv4, inner IPv6/TCP */
	F_ROCE,          /* RoCEv2 over IPv4 */
	F_VLAN3,         /* three stacked tags */
};

struct pcase {
	const char *desc;
	const char *port;
	enum frame frame;
	const char *slot;   /* expected successor slot (nt_successor), or NULL */
	const char *edge;   /* else the fixed node expected */
	const char *drop;   /* expected drop reason, NULL: none */
};

static const struct pcase cases[] = {
	{ "host port takes unicast to any MAC", "host0", F_UDP4_OTHER, "parse.host", NULL, NULL },
	{ "host port: VLAN-tagged frame", "host0", F_UDP4_VLAN, "parse.host", NULL, NULL },
	{ "fabric port: unicast to its MAC", "fabric0", F_UDP4, "parse.fabric", NULL, NULL },
	{ "fabric port: unicast to another MAC", "fabric0", F_UDP4_OTHER, NULL, "drop",
	  "dmac_mismatch" },
	{ "fabric port: broadcast is admitted", "fabric0", F_ARP_BCAST, "parse.fabric", NULL, NULL },
	{ "storage port: unicast to another MAC", "storage0", F_UDP4_OTHER, NULL, "drop",
	  "dmac_mismatch" },
	{ "storage port: not RoCE goes to its role's pipeline", "storage0", F_UDP4,
	  "parse.storage", NULL, NULL },
	{ "fabric port: VXLAN", "fabric0", F_VXLAN, "parse.fabric", NULL, NULL },
	{ "truncated inside the IPv4 header", "host0", F_UDP4_CUT, NULL, "drop",
	  "parse_truncated" },
	{ "IPv4 checksum", "host0", F_UDP4_BADSUM, NULL, "drop", "ip_checksum_bad" },
	{ "three VLAN tags", "host0", F_VLAN3, NULL, "drop", "vlan_too_deep" },
	{ "RoCEv2 from a storage port", "storage0", F_ROCE, "parse.roce", NULL, NULL },
	{ "RoCEv2 from a host port", "host0", F_ROCE, "parse.roce", NULL, NULL },
	{ "RoCEv2 from a fabric port is not steered", "fabric0", F_ROCE, "parse.fabric", NULL,
	  NULL },
	{ "patch mode: to l2_patch whatever the frame", "patch0", F_ARP_BCAST, NULL, "l2_patch",
	  NULL },
	{ "patch mode: a truncated frame is still dropped", "patch1", F_UDP4_CUT, NULL, "drop",
	  "parse_truncated" },
};

/* The frame `f` addressed to port `port`'s MAC (or another one). */
static void build(struct pb *pb, enum frame f, const char *port)
{
	const struct ss_port *p = &ss_ports.ports[ss_port_by_name(port)];
	char own[32];
	const uint8_t *a = p->mac.addr_bytes;

	snprintf(own, sizeof(own), "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4],
		 a[5]);
	switch (f) {
	case F_UDP4:
	case F_UDP4_BADSUM:
		nt_frame_ip(pb, "02:00:00:00:01:01", own, 0, "10.1.0.10", "10.1.0.20", 17, 1000,
			    2000, 16);
		if (f == F_UDP4_BADSUM)
			pb->b[14 + 10] ^= 0xff;
		break;
	case F_UDP4_OTHER:
	case F_UDP4_CUT:
		nt_frame_ip(pb, "02:00:00:00:01:01", "02:00:00:00:77:77", 0, "10.1.0.10",
			    "10.1.0.20", 17, 1000, 2000, 16);
		if (f == F_UDP4_CUT)
			pb->len = 14 + 12;
		break;
	case F_UDP4_VLAN:
		nt_frame_ip(pb, "02:00:00:00:01:01", own, 100, "10.1.0.10", "10.1.0.20", 17, 1000,
			    2000, 16);
		break;
	case F_ARP_BCAST:
		pb_init(pb);
		pb_eth(pb, SS_ETHERTYPE_ARP);
		memset(pb->b, 0xff, 6);
		pb_arp(pb, 1);
		pb_finish(pb);
		break;
	case F_VXLAN:
		pb_init(pb);
		pb_vxlan4_outer(pb, 1000);
		nt_mac(own, pb->b);
		pb_eth(pb, SS_ETHERTYPE_IPV6);
		pb_ipv6(pb, 6);
		pb_tcp(pb, 1234, 80, 0);
		pb_finish(pb);
		break;
	case F_ROCE:
		pb_init(pb);
		pb_roce4(pb, 0x04, 0x123, 1, 77);   /* SEND only */
		nt_mac(own, pb->b);
		pb_payload(pb, 20);
		pb_finish(pb);
		break;
	case F_VLAN3:
		pb_init(pb);
		pb_eth(pb, SS_ETHERTYPE_QINQ);
		pb_vlan(pb, 1, SS_ETHERTYPE_VLAN);
		pb_vlan(pb, 2, SS_ETHERTYPE_VLAN);
		pb_vlan(pb, 3, SS_ETHERTYPE_IPV4);
		pb_ipv4(pb, 17, 0);
		pb_udp(pb, 1, 2);
		pb_finish(pb);
		break;
	}
}

/* Every case in one burst, then each alone (the whole-burst move). */
static void test_parse_cases(void **state)
{
	const size_t n = RTE_DIM(cases);
	struct rte_mbuf *m[RTE_DIM(cases)];
	const char *edge[RTE_DIM(cases)];
	struct pb pb;

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++) {
			build(&pb, cases[i].frame, cases[i].port);
			m[i] = nt_mbuf(cases[i].port, &pb, 0);
		}
		if (round == 0)
			nt_run("parse", m, (uint16_t)n, edge);
		else
			for (size_t i = 0; i < n; i++)
				edge[i] = nt_run1("parse", m[i]);
		for (size_t i = 0; i < n; i++) {
			const struct pcase *c = &cases[i];
			nt_expect(c->desc, m[i], edge[i], c->slot ? nt_successor(c->slot) : c->edge,
				  c->drop);
			assert_int_equal(ss_meta(m[i])->in_port, ss_port_by_name(c->port));
		}
		nt_free(m, (uint16_t)n);
	}
}

static void test_parse_metadata(void **state)
{
	struct rte_mbuf *m;
	const struct ss_meta *meta;
	struct pb pb;

	(void)state;
	/* VLAN: the tag and the headers behind it */
	build(&pb, F_UDP4_VLAN, "host0");
	m = nt_mbuf("host0", &pb, 0);
	nt_expect("VLAN", m, nt_run1("parse", m), nt_successor("parse.host"), NULL);
	meta = ss_meta(m);
	assert_int_equal(meta->hdr.outer.nb_vlans, 1);
	assert_int_equal(meta->hdr.outer.vlan_tci & 0x0fff, 100);
	assert_int_equal(meta->hdr.outer.l3, SS_L3_IPV4);
	assert_int_equal(meta->hdr.outer.l3_off, 18);
	assert_int_equal(meta->hdr.outer.l4_off, 38);
	assert_int_equal(meta->hdr.outer.sport, 1000);
	assert_int_equal(meta->hdr.outer.dport, 2000);
	assert_int_equal(meta->tx_class, SS_TX_DEFAULT);
	nt_free(&m, 1);

	/* VXLAN: the outer stack, the VNI and the inner frame */
	build(&pb, F_VXLAN, "fabric0");
	m = nt_mbuf("fabric0", &pb, 0);
	nt_expect("VXLAN", m, nt_run1("parse", m), nt_successor("parse.fabric"), NULL);
	meta = ss_meta(m);
	assert_true(meta->hdr.outer.flags & SS_PF_VXLAN);
	assert_int_equal(meta->hdr.outer.dport, SS_UDP_PORT_VXLAN);
	assert_int_equal(meta->hdr.vni, 1000);
	assert_int_equal(meta->hdr.inner.l2_off, 50);
	assert_int_equal(meta->hdr.inner.l3, SS_L3_IPV6);
	assert_int_equal(meta->hdr.inner.l3_off, 64);
	assert_int_equal(meta->hdr.inner.proto, 6);
	assert_int_equal(meta->hdr.inner.dport, 80);
	nt_free(&m, 1);

	/* RoCEv2: the BTH */
	build(&pb, F_ROCE, "storage0");
	m = nt_mbuf("storage0", &pb, 0);
	nt_expect("RoCE", m, nt_run1("parse", m), nt_successor("parse.roce"), NULL);
	meta = ss_meta(m);
	assert_true(meta->hdr.outer.flags & SS_PF_ROCE);
	assert_int_equal(meta->bth.opcode, 0x04);
	assert_int_equal(meta->bth.dqp, 0x123);
	assert_int_equal(meta->bth.psn, 77);
	nt_free(&m, 1);
}

/* Received bytes are counted per port on the worker, dropped or not. */
static void test_parse_counts_rx_bytes(void **state)
{
	struct ss_worker *w = ss_workers.w[0];
	uint16_t fab = ss_port_by_name("fabric0");
	uint64_t before = w->port[fab].rx_bytes;
	struct rte_mbuf *m[2];
	const char *edge[2];
	struct pb pb;
	uint32_t len = 0;

	(void)state;
	build(&pb, F_UDP4, "fabric0");
	m[0] = nt_mbuf("fabric0", &pb, 0);
	len += pb.len;
	build(&pb, F_UDP4_OTHER, "fabric0");
	m[1] = nt_mbuf("fabric0", &pb, 0);
	len += pb.len;
	nt_run("parse", m, 2, edge);
	assert_int_equal(w->port[fab].rx_bytes - before, len);
	nt_free(m, 2);
}

/* A chained frame is made contiguous before it is parsed. */
static void test_parse_linearises_chains(void **state)
{
	const struct ss_port *p = &ss_ports.ports[ss_port_by_name("host0")];
	struct rte_mbuf *m, *tail;
	struct pb pb;

	(void)state;
	build(&pb, F_UDP4, "host0");
	m = nt_mbuf("host0", &pb, 0);
	tail = rte_pktmbuf_alloc(p->pool);
	assert_non_null(tail);
	/* move the last 20 bytes (inside the UDP payload) to a second segment */
	memcpy(rte_pktmbuf_append(tail, 20), nt_data(m) + pb.len - 20, 20);
	assert_int_equal(rte_pktmbuf_trim(m, 20), 0);
	assert_int_equal(rte_pktmbuf_chain(m, tail), 0);
	assert_int_equal(m->nb_segs, 2);
	nt_expect("chained", m, nt_run1("parse", m), nt_successor("parse.host"), NULL);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(rte_pktmbuf_data_len(m), pb.len);
	nt_bytes("linearised frame", nt_data(m), pb.b, pb.len);
	nt_free(&m, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cases),
		cmocka_unit_test(test_parse_metadata),
		cmocka_unit_test(test_parse_counts_rx_bytes),
		cmocka_unit_test(test_parse_linearises_chains),
	};

	return cmocka_run_group_tests(tests, nt_setup, nt_teardown);
}
