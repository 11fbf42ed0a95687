/* SPDX-License-Identifier: BSD-3-Clause
 *
 * route_out (pipelines/overlay/node_route_out.c) on hand-built mbufs:
 * outbound routing by LPM in the ENI's route group and the CA-to-PA
 * mapping (SPEC 3.1 steps 6-7): the encapsulation target and VNI it hands
 * to vxlan_encap, and route_drop / route_miss / mapping_miss. Packets come
 * from ENI e1 through overlay_host (the fixture), as the arc delivers them.
 */
#include <string.h>

#include <rte_ip.h>

#include "pipelines/conntrack/ct_xform.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_pkt.h"
#include "pipelines/overlay/ovl_tables-t.h"
#include "tests/unit/nodes/node_harness.h"
#include "tests/unit/nodes/topology.h"

struct rcase {
	const char *desc;
	const char *dst;     /* tenant destination */
	const char *edge;    /* "vxlan_encap" or "drop" */
	const char *drop;
	const char *pa;      /* expected target PA (encap), NULL: none */
	unsigned int mac;    /* its inner destination MAC 02:00:00:00:aa:<mac> */
	uint32_t vni;        /* expected meta->vni */
	int direct;          /* route action direct: SS_OVL_F_DIRECT, no target */
};

static const struct rcase cases[] = {
	{ "vnet route, mapping in the ENI's VNET", "10.1.0.20", "vxlan_encap", NULL, "100.64.1.20",
	  0x20, TP_VNI1, 0 },
	{ "vnet route, IPv6 PA", "10.1.0.21", "vxlan_encap", NULL, "fd00:1::21", 0x21, TP_VNI1, 0 },
	{ "vnet route to v2, use_dst_vni", "10.2.0.5", "vxlan_encap", NULL, "100.64.1.5", 0x05,
	  TP_VNI2, 0 },
	{ "vnet route to v2, the ENI's VNI", "10.2.0.6", "vxlan_encap", NULL, "100.64.1.6", 0x06,
	  TP_VNI1, 0 },
	{ "vnet_direct: the overlay_ip's mapping", "10.3.0.7", "vxlan_encap", NULL, "100.64.1.50",
	  0x50, TP_VNI1, 0 },
	{ "IPv6 tenant, IPv4 PA", "2001:db8:1::20", "vxlan_encap", NULL, "100.64.1.20", 0x20,
	  TP_VNI1, 0 },
	{ "direct route", "8.8.8.8", "vxlan_encap", NULL, NULL, 0, 0, 1 },
	{ "drop route", "10.9.0.1", "drop", "route_drop", NULL, 0, 0, 0 },
	{ "no route", "192.168.0.1", "drop", "route_miss", NULL, 0, 0, 0 },
	{ "no IPv6 route", "2001:db8:2::1", "drop", "route_miss", NULL, 0, 0, 0 },
	{ "routed, no mapping", "10.1.0.99", "drop", "mapping_miss", NULL, 0, 0, 0 },
	{ "routed to v2, no mapping there", "10.2.0.20", "drop", "mapping_miss", NULL, 0, 0, 0 },
};

static int setup(void **state)
{
	int rc = nt_setup(state);

	if (rc == 0)
		nt_topology();
	return rc;
}

static void check_case(const struct rcase *c, struct rte_mbuf *m, const char *edge)
{
	const struct ss_meta *meta = ss_meta(m);
	const struct ss_ovl_target *tgt = meta->ovl_tgt;
	uint8_t pa[16], mac[6] = { 2, 0, 0, 0, 0xaa, (uint8_t)c->mac };
	int fam;

	nt_expect(c->desc, m, edge, c->edge, c->drop);
	if (c->direct) {
		if (!(meta->ovl_flags & SS_OVL_F_DIRECT))
			fail_msg("%s: SS_OVL_F_DIRECT not set", c->desc);
		return;
	}
	if (c->pa == NULL)
		return;
	assert_false(meta->ovl_flags & SS_OVL_F_DIRECT);
	fam = nt_ip(c->pa, pa);
	if (tgt == NULL || tgt->fam != fam || memcmp(tgt->pa, pa, fam == 4 ? 4 : 16) != 0)
		fail_msg("%s: encapsulation target is not PA %s", c->desc, c->pa);
	assert_true(tgt->set_mac);
	nt_bytes(c->desc, tgt->mac.addr_bytes, mac, 6);
	if (meta->vni != c->vni)
		fail_msg("%s: VNI %u, expected %u", c->desc, meta->vni, c->vni);
}

static struct rte_mbuf *packet(const struct rcase *c)
{
	struct rte_mbuf *m = nt_outbound_e1(c->dst, 17, 1000, 2000, 16);
	struct ss_meta *meta = ss_meta(m);

	/* what route_out must write, poisoned */
	meta->ovl_tgt = NULL;
	meta->vni = 0xdead;
	return m;
}

/* Every case in one burst (bulk mapping lookup, mixed edges), then each
 * alone (whole-burst move). */
static void test_route_cases(void **state)
{
	const size_t n = RTE_DIM(cases);
	struct rte_mbuf *m[RTE_DIM(cases)];
	const char *edge[RTE_DIM(cases)];

	(void)state;
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < n; i++)
			m[i] = packet(&cases[i]);
		if (round == 0)
			nt_run("route_out", m, (uint16_t)n, edge);
		else
			for (size_t i = 0; i < n; i++)
				edge[i] = nt_run1("route_out", m[i]);
		for (size_t i = 0; i < n; i++)
			check_case(&cases[i], m[i], edge[i]);
		nt_free(m, (uint16_t)n);
	}
}

/* Runs of the same ENI and destination (route_out routes and looks up a
 * run once): every packet gets what it gets alone, with runs broken by
 * another destination, a drop, a direct route, a different key to the same
 * mapping entry and an ENI index that no longer resolves. */
static void test_route_runs(void **state)
{
	static const int order[] = { 0, 0, 0, 1, 1, 0, 0, 7, 7, 0, 10, 10, 4, 4, 4, 0, 5, 5, 2, 2,
				     3, 3, 6, 6, 0, 11, 11, 9, 8, 5, 0, 0, -1, 0, 0 };
	const size_t n = RTE_DIM(order);
	struct rte_mbuf *m[RTE_DIM(order)];
	const char *edge[RTE_DIM(order)];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		m[i] = packet(&cases[order[i] < 0 ? 0 : order[i]]);
		if (order[i] < 0)
			ss_meta(m[i])->eni = ss_overlay_eni_max();   /* as test_route_eni_gone */
	}
	nt_run("route_out", m, (uint16_t)n, edge);
	for (size_t i = 0; i < n; i++) {
		if (order[i] < 0)
			nt_expect("ENI gone within a run", m[i], edge[i], "drop", "eni_miss");
		else
			check_case(&cases[order[i]], m[i], edge[i]);
	}
	nt_free(m, (uint16_t)n);
}

/* The reuse is per ENI: an ENI of another route group (10.1.0.0/16 drop
 * there) interleaved with e1's run to the same destination. */
static void test_route_runs_two_enis(void **state)
{
	static const int other[] = { 0, 0, 1, 1, 0, 1, 0, 0, 1 };
	const size_t n = RTE_DIM(other);
	struct rte_mbuf *m[RTE_DIM(other)];
	const char *edge[RTE_DIM(other)];
	struct pb pb;

	(void)state;
	nt_ok("route.add", "{\"group\": \"rg9\", \"prefix\": \"10.1.0.0/16\", \"action\": \"drop\"}");
	nt_ok("eni.add", "{\"name\": \"erun\", \"mac\": \"02:00:00:00:01:09\", \"vnet\": \"v1\", "
			 "\"port\": \"host0\", \"route_group\": \"rg9\"}");
	for (size_t i = 0; i < n; i++) {
		if (other[i]) {
			nt_frame_ip(&pb, "02:00:00:00:01:09", TP_SW_MAC, 0, TP_VM, "10.1.0.20", 17,
				    1000, 2000, 16);
			m[i] = nt_outbound_mbuf(&pb);
		} else {
			m[i] = packet(&cases[0]);
		}
	}
	nt_run("route_out", m, (uint16_t)n, edge);
	for (size_t i = 0; i < n; i++) {
		if (other[i])
			nt_expect("the other ENI's drop route", m[i], edge[i], "drop", "route_drop");
		else
			check_case(&cases[0], m[i], edge[i]);
	}
	nt_free(m, (uint16_t)n);
	nt_ok("eni.delete", "{\"name\": \"erun\"}");
	nt_ok("route.delete", "{\"group\": \"rg9\", \"prefix\": \"10.1.0.0/16\"}");
}

/* An ENI deleted between overlay_host and route_out (its index in the
 * metadata no longer resolves). */
static void test_route_eni_gone(void **state)
{
	struct rte_mbuf *m = nt_outbound_e1("10.1.0.20", 17, 1000, 2000, 16);

	(void)state;
	ss_meta(m)->eni = ss_overlay_eni_max();   /* never allocated in this topology */
	nt_expect("ENI gone", m, nt_run1("route_out", m), "drop", "eni_miss");
	nt_free(&m, 1);
}

/* A route added through the API takes effect on the next burst, and the
 * longest prefix wins. */
static void test_route_longest_prefix(void **state)
{
	struct rte_mbuf *m;

	(void)state;
	nt_ok("route.add", "{\"group\": \"rg1\", \"prefix\": \"10.1.0.99/32\", \"action\": \"drop\"}");
	m = nt_outbound_e1("10.1.0.99", 17, 1000, 2000, 16);
	nt_expect("/32 drop inside the /16 vnet route", m, nt_run1("route_out", m), "drop",
		  "route_drop");
	nt_free(&m, 1);
	m = nt_outbound_e1("10.1.0.20", 17, 1000, 2000, 16);
	nt_expect("the /16 still routes", m, nt_run1("route_out", m), "vxlan_encap", NULL);
	nt_free(&m, 1);
	nt_ok("route.delete", "{\"group\": \"rg1\", \"prefix\": \"10.1.0.99/32\"}");
	m = nt_outbound_e1("10.1.0.99", 17, 1000, 2000, 16);
	nt_expect("/32 deleted", m, nt_run1("route_out", m), "drop", "mapping_miss");
	nt_free(&m, 1);
}

/* The flow cache (ct_xform.h): a packet marked SS_OVL_F_FILL leaves
 * vxlan_encap's transform in its slot; the flow's next packet, marked
 * SS_OVL_F_CACHED with that slot, goes from route_out straight to port_tx
 * with the same frame (but for the IPv4 identification and checksum); a
 * slot of another generation or flow sends the packet through the lookups
 * and marks it for a refill. */
static void test_route_cached(void **state)
{
	static struct ss_ct_xform slot;
	struct rte_mbuf *a = nt_outbound_e1("10.1.0.20", 17, 1000, 2000, 16);
	struct rte_mbuf *b = nt_outbound_e1("10.1.0.20", 17, 1000, 2000, 16);
	struct rte_mbuf *c = nt_outbound_e1("10.1.0.20", 17, 1000, 2000, 16);
	uint32_t gen = ss_ovl_gen_read(), owner = ss_ct_xform_owner(7, 1);
	struct rte_mbuf *mm[] = { a, b, c };
	const uint8_t *pa, *pb;

	(void)state;
	memset(&slot, 0, sizeof(slot));
	for (int i = 0; i < 3; i++) {
		struct ss_meta *meta = ss_meta(mm[i]);

		meta->ovl_slot = &slot;
		meta->ovl_gen = gen;
		meta->ovl_owner = owner;
	}
	ss_meta(a)->ovl_flags |= SS_OVL_F_FILL;
	nt_expect("miss: to the lookups", a, nt_run1("route_out", a), "vxlan_encap", NULL);
	nt_expect("miss: encapsulated", a, nt_run1("vxlan_encap", a), "port_tx", NULL);
	assert_true(slot.valid && slot.gen == gen && slot.owner == owner && slot.v4);
	assert_int_equal(slot.hlen, 14 + 20 + 16);
	assert_int_equal(slot.seq & 1, 0);
	assert_true(ss_ct_xform_valid(&slot, gen, owner));

	ss_meta(b)->ovl_flags |= SS_OVL_F_CACHED;
	ss_meta(b)->out_port = 0xffff;
	nt_expect("hit: straight to port_tx", b, nt_run1("route_out", b), "port_tx", NULL);
	assert_int_equal(ss_meta(b)->out_port, ss_meta(a)->out_port);
	assert_int_equal(rte_pktmbuf_pkt_len(b), rte_pktmbuf_pkt_len(a));
	pa = nt_data(a);
	pb = nt_data(b);
	nt_bytes("hit: Ethernet, IPv4 version to length", pb, pa, 18);
	nt_bytes("hit: IPv4 flags to protocol", pb + 20, pa + 20, 4);
	nt_bytes("hit: addresses, UDP, VXLAN, inner frame", pb + 26, pa + 26,
		 rte_pktmbuf_pkt_len(a) - 26);
	assert_int_equal(rte_raw_cksum(pb + 14, 20), 0xffff);

	/* the tables changed since the slot was written */
	ss_meta(c)->ovl_flags |= SS_OVL_F_CACHED;
	ss_meta(c)->ovl_gen = gen + 1;
	nt_expect("stale: to the lookups", c, nt_run1("route_out", c), "vxlan_encap", NULL);
	assert_true(ss_meta(c)->ovl_flags & SS_OVL_F_FILL);
	assert_false(ss_meta(c)->ovl_flags & SS_OVL_F_CACHED);
	nt_free(mm, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_cases),
		cmocka_unit_test(test_route_runs),
		cmocka_unit_test(test_route_runs_two_enis),
		cmocka_unit_test(test_route_eni_gone),
		cmocka_unit_test(test_route_longest_prefix),
		cmocka_unit_test(test_route_cached),
	};

	return cmocka_run_group_tests(tests, setup, nt_teardown);
}
