/* SPDX-License-Identifier: BSD-3-Clause
 *
 * policy_out (pipelines/conntrack/policy_out.c) on hand-built mbufs: the
 * outbound ACL stages (SPEC 3.5: allow / acl_deny, counted in the ENI's
 * acl_drops), connection tracking (SPEC 3.6: a packet of a tracked flow
 * skips the ACLs; a changed ACL revokes the flow on its next packet).
 * Outbound packets come through overlay_host (the fixture); the inbound
 * half of a connection goes through policy_in.
 *
 * ENI eacl binds outbound_v4 [web_only] (allow TCP to port 80; a bound
 * stage where nothing matches denies). ENI e1 binds nothing (allows).
 */
#include <string.h>

#include "pipelines/overlay/overlay.h"
#include "tests/unit/nodes/node_harness.h"
#include "tests/unit/nodes/topology.h"

#define PEER "10.1.0.20"

struct acase {
	const char *desc;
	const char *smac;
	uint8_t proto;
	uint16_t sport, dport;
	const char *drop;    /* NULL: allowed */
};

static const struct acase cases[] = {
	{ "no ACL bound: allowed", TP_E1_MAC, 17, 3000, 53, NULL },
	{ "TCP/80 allowed by web_only", TP_EACL_MAC, 6, 3001, 80, NULL },
	{ "TCP/22: no rule matches, the stage denies", TP_EACL_MAC, 6, 3002, 22, "acl_deny" },
	{ "UDP/80: protocol not listed", TP_EACL_MAC, 17, 3003, 80, "acl_deny" },
	{ "ICMP echo: protocol not listed", TP_EACL_MAC, 1, 3004, 1, "acl_deny" },
};

static int setup(void **state)
{
	int rc = nt_setup(state);

	if (rc == 0)
		nt_topology();
	return rc;
}

static struct rte_mbuf *outbound(const char *smac, uint8_t proto, uint16_t sport,
				 uint16_t dport, uint8_t tcp_flags)
{
	struct pb pb;

	nt_frame_ip(&pb, smac, TP_SW_MAC, 0, TP_VM, PEER, proto, sport, dport, 8);
	if (proto == 6)
		pb.b[14 + 20 + 13] = tcp_flags;
	return nt_outbound_mbuf(&pb);
}

static uint64_t acl_drops(const char *eni)
{
	return ss_overlay_eni_ctr[0][ss_overlay_eni_index(eni)].acl_drops;
}

static void check(const struct acase *c, struct rte_mbuf *m, const char *edge)
{
	nt_expect(c->desc, m, edge, c->drop ? "drop" : nt_successor("outbound.after_policy"),
		  c->drop);
}

/* Every case in one burst (mixed edges), then each alone. */
static void test_policy_acl(void **state)
{
	const size_t n = RTE_DIM(cases);
	struct rte_mbuf *m[RTE_DIM(cases)];
	const char *edge[RTE_DIM(cases)];

	(void)state;
	for (int round = 0; round < 2; round++) {
		uint64_t before = acl_drops("eacl"), denied = 0;

		for (size_t i = 0; i < n; i++) {
			const struct acase *c = &cases[i];
			/* new ports per round: every packet opens a connection */
			m[i] = outbound(c->smac, c->proto, (uint16_t)(c->sport + 100 * round),
					c->dport, 0x02);
			denied += c->drop != NULL;
		}
		if (round == 0)
			nt_run("policy_out", m, (uint16_t)n, edge);
		else
			for (size_t i = 0; i < n; i++)
				edge[i] = nt_run1("policy_out", m[i]);
		for (size_t i = 0; i < n; i++)
			check(&cases[i], m[i], edge[i]);
		assert_int_equal(acl_drops("eacl") - before, denied);
		nt_free(m, (uint16_t)n);
	}
}

/* The inbound SYN peer:40000 -> VM:22 to ENI eacl, VXLAN on fabric0, as
 * the inbound path hands it to policy_in (no inbound ACL: allowed). */
static void inbound_syn(uint16_t peer_port, uint16_t vm_port)
{
	struct rte_mbuf *m;
	struct ss_meta *meta;
	uint8_t a[16];
	struct pb pb;
	uint8_t *ip;

	pb_init(&pb);
	pb_vxlan4_outer(&pb, TP_VNI1);
	nt_mac(NT_FABRIC0_MAC, pb.b);
	pb_eth(&pb, SS_ETHERTYPE_IPV4);
	nt_mac(TP_EACL_MAC, pb.b + 50);
	ip = pb.b + pb_ipv4(&pb, 6, 0);
	nt_ip(PEER, a);
	memcpy(ip + 12, a, 4);
	nt_ip(TP_VM, a);
	memcpy(ip + 16, a, 4);
	pb_tcp(&pb, peer_port, vm_port, 0);
	pb_finish(&pb);
	m = nt_mbuf("fabric0", &pb, 1);
	meta = ss_meta(m);
	meta->eni = (uint32_t)ss_overlay_eni_index("eacl");
	meta->vnet = 0;
	meta->ovl_dir = SS_OVL_DIR_INBOUND;
	meta->ovl_flags = SS_OVL_F_INNER;
	meta->flow_hash = 0;
	nt_expect("fixture: inbound SYN through policy_in", m, nt_run1("policy_in", m),
		  nt_successor("inbound.after_policy"), NULL);
	nt_free(&m, 1);
}

/* The reply to an allowed inbound connection matches no outbound rule but
 * is a packet of a tracked flow: it skips the ACLs. */
static void test_policy_flow_skips_acl(void **state)
{
	struct rte_mbuf *m;

	(void)state;
	m = outbound(TP_EACL_MAC, 6, 22, 40000, 0x12);
	nt_expect("SYN-ACK without a flow", m, nt_run1("policy_out", m), "drop", "acl_deny");
	nt_free(&m, 1);

	inbound_syn(40000, 22);
	m = outbound(TP_EACL_MAC, 6, 22, 40000, 0x12);
	nt_expect("SYN-ACK of the tracked flow", m, nt_run1("policy_out", m),
		  nt_successor("outbound.after_policy"), NULL);
	nt_free(&m, 1);
	m = outbound(TP_EACL_MAC, 6, 22, 40000, 0x10);
	nt_expect("ACK of the tracked flow", m, nt_run1("policy_out", m),
		  nt_successor("outbound.after_policy"), NULL);
	nt_free(&m, 1);
	/* another connection (peer port 40001) is not covered */
	m = outbound(TP_EACL_MAC, 6, 22, 40001, 0x12);
	nt_expect("SYN-ACK of another connection", m, nt_run1("policy_out", m), "drop",
		  "acl_deny");
	nt_free(&m, 1);
}

/* web_only's rule hits (stats.get scope acl) */
static json_int_t web_only_hits(void)
{
	json_t *r = nt_result("stats.get", "{\"scope\": \"acl\"}");
	json_int_t n = json_integer_value(json_object_get(
		json_object_get(json_object_get(r, "acl"), "web_only"), "10"));

	json_decref(r);
	return n;
}

/* The first packet of a connection is classified (the rule counts a hit),
 * the next ones of its flow are not. */
static void test_policy_flow_hit_is_not_classified(void **state)
{
	struct rte_mbuf *m[3];
	const char *edge[3];
	json_int_t hits;

	(void)state;
	hits = web_only_hits();
	m[0] = outbound(TP_EACL_MAC, 6, 6000, 80, 0x02);
	nt_expect("SYN to 80", m[0], nt_run1("policy_out", m[0]),
		  nt_successor("outbound.after_policy"), NULL);
	nt_free(m, 1);
	assert_int_equal(web_only_hits() - hits, 1);
	for (int i = 0; i < 3; i++)
		m[i] = outbound(TP_EACL_MAC, 6, 6000, 80, 0x10);
	nt_run("policy_out", m, 3, edge);
	for (int i = 0; i < 3; i++)
		nt_expect("ACK of the flow", m[i], edge[i], nt_successor("outbound.after_policy"),
			  NULL);
	nt_free(m, 3);
	assert_int_equal(web_only_hits() - hits, 1);
}

/* A flow the changed ACL denies is revoked on its next packet. */
static void test_policy_acl_change_revokes(void **state)
{
	struct rte_mbuf *m;

	(void)state;
	m = outbound(TP_EACL_MAC, 6, 5000, 80, 0x02);
	nt_expect("SYN to 80", m, nt_run1("policy_out", m), nt_successor("outbound.after_policy"),
		  NULL);
	nt_free(&m, 1);
	nt_ok("acl_group.replace",
	      "{\"name\": \"web_only\", \"family\": \"ipv4\", \"rules\": [{\"priority\": 10, "
	      "\"action\": \"allow\", \"protocols\": [6], \"dst_ports\": [443]}]}");
	m = outbound(TP_EACL_MAC, 6, 5000, 80, 0x10);
	nt_expect("next packet after the ACL change", m, nt_run1("policy_out", m), "drop",
		  "acl_deny");
	nt_free(&m, 1);
	nt_ok("acl_group.replace",
	      "{\"name\": \"web_only\", \"family\": \"ipv4\", \"rules\": [{\"priority\": 10, "
	      "\"action\": \"allow\", \"protocols\": [6], \"dst_ports\": [80]}]}");
	m = outbound(TP_EACL_MAC, 6, 5001, 80, 0x02);
	nt_expect("SYN to 80 with the ACL back", m, nt_run1("policy_out", m),
		  nt_successor("outbound.after_policy"), NULL);
	nt_free(&m, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_acl),
		cmocka_unit_test(test_policy_flow_skips_acl),
		cmocka_unit_test(test_policy_flow_hit_is_not_classified),
		cmocka_unit_test(test_policy_acl_change_revokes),
	};

	return cmocka_run_group_tests(tests, setup, nt_teardown);
}
