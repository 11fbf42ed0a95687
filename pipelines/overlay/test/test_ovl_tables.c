/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the overlay tables: every object type staged through
 * ss_ovl_prepare/commit/reclaim exactly as the control plane drives it, and
 * checked through the lookups the graph nodes use.
 */
#include "pipelines/overlay/test/ovl_test.h"

static struct txn T;

static int setup(void **state)
{
	struct ss_ctl_limits lim = { .max_enis = 64, .max_vnets = 64 };

	(void)state;
	return ss_ovl_tables_init(&lim);
}

static int teardown(void **state)
{
	(void)state;
	txn_reset(&T);
	ss_ovl_tables_fini();
	return 0;
}

static int vip(const char *s)
{
	uint8_t fam, a[16];

	ip(s, &fam, a);
	return ss_ovl_is_vip(ss_ovl_switch_get(), fam, a);
}

static void test_switch_vip_direction(void **state)
{
	const struct ss_ovl_switch *sw;
	uint32_t vni = 7000;
	uint64_t v;

	(void)state;
	assert_null(ss_ovl_switch_get());
	assert_false(vip("10.0.0.1"));
	ADD(&T, "switch", "{\"underlay_ip\": \"10.0.0.1\", \"underlay_ip6\": \"fd00::1\", "
			  "\"mac\": \"02:00:00:00:00:01\"}");
	ADD(&T, "vip", "{\"ip\": \"10.0.0.100\"}");
	ADD(&T, "vip", "{\"ip\": \"fd00::100\"}");
	ADD(&T, "direction", "{\"vni\": 7000}");
	TXN_OK(&T);
	sw = ss_ovl_switch_get();
	assert_non_null(sw);
	assert_true(sw->has_ip4 && sw->has_ip6 && sw->has_mac);
	assert_int_equal(sw->mac.addr_bytes[5], 1);
	assert_true(vip("10.0.0.1"));
	assert_true(vip("fd00::1"));
	assert_true(vip("10.0.0.100"));
	assert_true(vip("fd00::100"));
	assert_false(vip("10.0.0.2"));
	assert_false(vip("fd00::2"));
	assert_true(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
	assert_int_equal(v, SS_OVL_VNI_DIR);   /* a direction VNI without a VNET */

	/* switch.set without underlay_ip6: the old IPv6 VIP goes away */
	SET(&T, "switch", "{\"underlay_ip\": \"10.0.0.9\"}");
	DEL(&T, "vip", "{\"ip\": \"10.0.0.100\"}");
	DEL(&T, "direction", "{\"vni\": 7000}");
	TXN_OK(&T);
	assert_false(vip("10.0.0.1"));
	assert_true(vip("10.0.0.9"));
	assert_false(vip("fd00::1"));
	assert_false(vip("10.0.0.100"));
	assert_true(vip("fd00::100"));
	assert_false(ss_ovl_switch_get()->has_mac);
	assert_false(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
}

static void test_vnet(void **state)
{
	uint32_t vni = 100;
	uint64_t v;
	int a, b;

	(void)state;
	ADD(&T, "vnet", "{\"name\": \"A\", \"vni\": 100, \"gateway_ip\": \"10.1.0.1\"}");
	ADD(&T, "vnet", "{\"name\": \"B\", \"vni\": 200, \"gateway_ip6\": \"fd01::1\"}");
	TXN_OK(&T);
	a = ss_ovl_vnet_index("A");
	b = ss_ovl_vnet_index("B");
	assert_true(a > 0 && b > 0 && a != b);
	assert_true(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
	assert_int_equal(v, a);
	assert_int_equal(ss_ovl_vnet_get((uint16_t)a)->vni, 100);
	/* a direction entry on a VNET's VNI: both answers in one value */
	ADD(&T, "direction", "{\"vni\": 100}");
	TXN_OK(&T);
	assert_true(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
	assert_int_equal(v, a | SS_OVL_VNI_DIR);
	DEL(&T, "direction", "{\"vni\": 100}");
	TXN_OK(&T);
	assert_true(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
	assert_int_equal(v, a);
	assert_true(ss_ovl_vnet_get((uint16_t)a)->has_gw4);
	assert_false(ss_ovl_vnet_get((uint16_t)a)->has_gw6);
	assert_true(ss_ovl_vnet_get((uint16_t)b)->has_gw6);
	assert_int_equal(ss_ovl_vnet_get((uint16_t)b)->gw6[15], 1);

	/* delete and re-add in one transaction: a new index, the old one is
	 * only reusable after the grace period */
	DEL(&T, "vnet", "{\"name\": \"A\", \"vni\": 100}");
	ADD(&T, "vnet", "{\"name\": \"A\", \"vni\": 101}");
	TXN_OK(&T);
	assert_true(ss_ovl_vnet_index("A") != a);
	assert_false(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
	vni = 101;
	assert_true(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
	assert_int_equal(v, ss_ovl_vnet_index("A"));

	DEL(&T, "vnet", "{\"name\": \"B\", \"vni\": 200}");
	TXN_OK(&T);
	assert_int_equal(ss_ovl_vnet_index("B"), -1);
	vni = 200;
	assert_false(ovl_hash_lookup(&ss_ovl.vni, &vni, &v));
}

static const struct ss_ovl_uroute *uroute(const char *dst)
{
	uint8_t fam, a[16];

	ip(dst, &fam, a);
	return ss_ovl_uroute_find(fam, a);
}

static void test_underlay_routes(void **state)
{
	const struct ss_ovl_uroute *u;

	(void)state;
	assert_null(uroute("192.0.2.1"));
	ADD(&T, "underlay_route", "{\"prefix\": \"0.0.0.0/0\", \"next_hops\": "
		"[{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:01\"}]}");
	ADD(&T, "underlay_route", "{\"prefix\": \"192.0.2.0/24\", \"next_hops\": "
		"[{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:02\"},"
		" {\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0b:02\"}]}");
	ADD(&T, "underlay_route", "{\"prefix\": \"2001:db8::/32\", \"next_hops\": "
		"[{\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0b:03\"}]}");
	ADD(&T, "underlay_route", "{\"prefix\": \"2001:db8::5/128\", \"next_hops\": "
		"[{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:04\"}]}");
	TXN_OK(&T);
	u = uroute("192.0.2.77");
	assert_non_null(u);
	assert_int_equal(u->n, 2);
	assert_int_equal(u->nh[0].port, 2);
	assert_int_equal(u->nh[1].port, 3);
	assert_int_equal(u->nh[1].mac.addr_bytes[5], 2);
	u = uroute("198.51.100.1");
	assert_non_null(u);
	assert_int_equal(u->n, 1);
	assert_int_equal(u->nh[0].mac.addr_bytes[5], 1);
	u = uroute("2001:db8::6");
	assert_non_null(u);
	assert_int_equal(u->nh[0].mac.addr_bytes[5], 3);
	u = uroute("2001:db8::5");   /* /128: the exact table, longer wins */
	assert_non_null(u);
	assert_int_equal(u->nh[0].mac.addr_bytes[5], 4);
	assert_null(uroute("2001:db9::1"));

	/* replace the /24's next hops, delete the /128 */
	SET(&T, "underlay_route", "{\"prefix\": \"192.0.2.0/24\", \"next_hops\": "
		"[{\"port\": \"fabric1\", \"mac\": \"02:00:00:00:0b:09\"}]}");
	DEL(&T, "underlay_route", "{\"prefix\": \"2001:db8::5/128\", \"next_hops\": "
		"[{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:04\"}]}");
	TXN_OK(&T);
	u = uroute("192.0.2.77");
	assert_int_equal(u->n, 1);
	assert_int_equal(u->nh[0].mac.addr_bytes[5], 9);
	assert_int_equal(uroute("2001:db8::5")->nh[0].mac.addr_bytes[5], 3);
	assert_int_equal(ss_ovl.lpm.long_bits[1], 0);

	/* an unknown port names the object; nothing of the txn is visible */
	ADD(&T, "underlay_route", "{\"prefix\": \"203.0.113.0/24\", \"next_hops\": "
		"[{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:05\"}]}");
	ADD(&T, "underlay_route", "{\"prefix\": \"198.51.100.0/24\", \"next_hops\": "
		"[{\"port\": \"nope\", \"mac\": \"02:00:00:00:0a:06\"}]}");
	assert_int_equal(txn_run(&T), -ENOENT);
	assert_non_null(strstr(T.err, "198.51.100.0/24"));
	assert_non_null(strstr(T.err, "nope"));
	assert_int_equal(uroute("203.0.113.1")->nh[0].mac.addr_bytes[5], 1);
	/* and the next transaction still works (the shadow was rebuilt) */
	ADD(&T, "underlay_route", "{\"prefix\": \"203.0.113.0/24\", \"next_hops\": "
		"[{\"port\": \"fabric0\", \"mac\": \"02:00:00:00:0a:07\"}]}");
	TXN_OK(&T);
	assert_int_equal(uroute("203.0.113.1")->nh[0].mac.addr_bytes[5], 7);
	assert_int_equal(uroute("192.0.2.1")->nh[0].mac.addr_bytes[5], 9);
}

static int eni_by_host(const char *port, uint16_t vlan, const char *mac)
{
	struct ss_ovl_host_key k;
	struct rte_ether_addr m;
	uint64_t v;

	memset(&k, 0, sizeof(k));
	k.port = ovl_port_by_name(port);
	k.vlan = vlan;
	rte_ether_unformat_addr(mac, &m);
	memcpy(k.mac, m.addr_bytes, 6);
	return ovl_hash_lookup(&ss_ovl.eni_host, &k, &v) ? (int)v : -1;
}

static int eni_by_vmac(const char *vnet, const char *mac)
{
	struct ss_ovl_vmac_key k;
	struct rte_ether_addr m;
	uint64_t v;

	k.vnet = vnet ? (uint16_t)ss_ovl_vnet_index(vnet) : 0;
	rte_ether_unformat_addr(mac, &m);
	memcpy(k.mac, m.addr_bytes, 6);
	return ovl_hash_lookup(vnet ? &ss_ovl.eni_vnet : &ss_ovl.eni_app, &k, &v) ? (int)v : -1;
}

static void base_vnets(void)
{
	ADD(&T, "vnet", "{\"name\": \"A\", \"vni\": 100, \"gateway_ip\": \"10.1.0.1\"}");
	ADD(&T, "vnet", "{\"name\": \"B\", \"vni\": 200}");
}

static void test_eni(void **state)
{
	const struct ss_ovl_eni *e;
	int i1, i2;

	(void)state;
	base_vnets();
	ADD(&T, "eni", "{\"name\": \"e1\", \"mac\": \"02:00:00:00:01:01\", \"vnet\": \"A\", "
		       "\"admin_state\": \"up\", \"port\": \"host0\", \"vlan\": 10, "
		       "\"route_group\": \"rg1\"}");
	ADD(&T, "eni", "{\"name\": \"app\", \"mac\": \"02:00:00:00:01:02\", \"vnet\": \"B\", "
		       "\"admin_state\": \"up\", \"vm_underlay_ip\": \"192.0.2.9\", "
		       "\"vm_vni\": 900, \"dscp\": 46}");
	TXN_OK(&T);
	i1 = ss_ovl_eni_index("e1");
	i2 = ss_ovl_eni_index("app");
	assert_true(i1 > 0 && i2 > 0 && i1 != i2);
	assert_int_equal(eni_by_host("host0", 10, "02:00:00:00:01:01"), i1);
	assert_int_equal(eni_by_host("host0", 0, "02:00:00:00:01:01"), -1);
	assert_int_equal(eni_by_vmac("A", "02:00:00:00:01:01"), i1);
	assert_int_equal(eni_by_vmac(NULL, "02:00:00:00:01:01"), -1); /* has a port */
	assert_int_equal(eni_by_vmac(NULL, "02:00:00:00:01:02"), i2);
	assert_int_equal(eni_by_vmac("B", "02:00:00:00:01:02"), i2);
	e = ss_ovl_eni_get((uint32_t)i1);
	assert_non_null(e);
	assert_string_equal(e->name, "e1");
	assert_int_equal(e->vni, 100);
	assert_int_equal(e->port, 0);
	assert_int_equal(e->vlan, 10);
	assert_true(e->admin_up);
	assert_int_equal(e->dscp, SS_OVL_DSCP_COPY);
	assert_int_equal(e->group, ss_ovl_group_index("rg1"));
	assert_false(e->has_vm);
	e = ss_ovl_eni_get((uint32_t)i2);
	assert_int_equal(e->port, SS_PORT_NONE);
	assert_true(e->has_vm);
	assert_int_equal(e->vm_vni, 900);
	assert_int_equal(e->vm.fam, 4);
	assert_int_equal(e->dscp, 46);
	assert_int_equal(e->group, 0);
	assert_string_equal(ss_ovl_eni_name((uint32_t)i2), "app");

	/* eni.set: new VLAN, down, other port: the index stays, the keys move */
	SET(&T, "eni", "{\"name\": \"e1\", \"mac\": \"02:00:00:00:01:01\", \"vnet\": \"A\", "
		       "\"admin_state\": \"down\", \"port\": \"host1\"}");
	TXN_OK(&T);
	assert_int_equal(ss_ovl_eni_index("e1"), i1);
	assert_int_equal(eni_by_host("host0", 10, "02:00:00:00:01:01"), -1);
	assert_int_equal(eni_by_host("host1", 0, "02:00:00:00:01:01"), i1);
	e = ss_ovl_eni_get((uint32_t)i1);
	assert_false(e->admin_up);
	assert_int_equal(e->vlan, 0);
	assert_int_equal(e->group, 0);
	assert_int_equal(ss_ovl_group_index("rg1"), -1); /* no user left */

	/* an appliance ENI with the MAC of another: refused, nothing changes */
	ADD(&T, "eni", "{\"name\": \"dup\", \"mac\": \"02:00:00:00:01:02\", \"vnet\": \"A\", "
		       "\"admin_state\": \"up\"}");
	assert_int_equal(txn_run(&T), -EEXIST);
	assert_non_null(strstr(T.err, "eni dup"));
	assert_int_equal(ss_ovl_eni_index("dup"), -1);
	assert_int_equal(eni_by_vmac("A", "02:00:00:00:01:02"), -1);

	/* the index is known during prepare, before the commit */
	ADD(&T, "eni", "{\"name\": \"e3\", \"mac\": \"02:00:00:00:01:03\", \"vnet\": \"A\", "
		       "\"port\": \"host0\"}");
	assert_int_equal(ss_ovl_prepare(NULL, NULL, T.ch, T.n, T.err, sizeof(T.err)), 0);
	assert_true(ss_ovl_eni_index("e3") > 0);
	assert_null(ss_ovl_eni_get((uint32_t)ss_ovl_eni_index("e3")));
	ss_ovl_abort(NULL);
	txn_reset(&T);
	assert_int_equal(ss_ovl_eni_index("e3"), -1);

	DEL(&T, "eni", "{\"name\": \"app\", \"mac\": \"02:00:00:00:01:02\", \"vnet\": \"B\"}");
	TXN_OK(&T);
	assert_int_equal(ss_ovl_eni_index("app"), -1);
	assert_null(ss_ovl_eni_get((uint32_t)i2));
	assert_int_equal(eni_by_vmac(NULL, "02:00:00:00:01:02"), -1);
	assert_int_equal(eni_by_vmac("B", "02:00:00:00:01:02"), -1);
}

struct rt {
	uint8_t action;
	uint16_t vnet;
	const struct ss_ovl_route *ent;
};

static const struct rt *route(const char *group, const char *dst)
{
	static struct rt r;
	uint8_t fam, a[16];
	int g = ss_ovl_group_index(group);

	ip(dst, &fam, a);
	if (g <= 0 || !ss_ovl_route_find((uint16_t)g, fam, a, &r.action, &r.vnet, &r.ent))
		return NULL;
	return &r;
}

static void test_routes(void **state)
{
	const struct rt *r;

	(void)state;
	base_vnets();
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"10.0.0.0/8\", \"action\": \"vnet\"}");
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"10.2.0.0/16\", \"action\": \"drop\"}");
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"10.2.3.0/24\", \"action\": "
			 "\"vnet_direct\", \"vnet\": \"B\", \"overlay_ip\": \"10.9.9.9\"}");
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"0.0.0.0/0\", \"action\": \"direct\"}");
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"fd10::/48\", \"action\": \"vnet\", "
			 "\"vnet\": \"B\"}");
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"fd10::100/120\", \"action\": "
			 "\"drop\"}");
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"fd10::105/128\", \"action\": "
			 "\"direct\"}");
	ADD(&T, "route", "{\"group\": \"h\", \"prefix\": \"10.0.0.0/8\", \"action\": \"drop\"}");
	TXN_OK(&T);
	assert_int_equal(route("g", "10.1.1.1")->action, SS_OVL_RT_VNET);
	assert_int_equal(route("g", "10.1.1.1")->vnet, 0);
	assert_int_equal(route("g", "10.2.1.1")->action, SS_OVL_RT_DROP);
	r = route("g", "10.2.3.4");
	assert_int_equal(r->action, SS_OVL_RT_VNET_DIRECT);
	assert_int_equal(r->vnet, ss_ovl_vnet_index("B"));
	assert_non_null(r->ent);
	assert_int_equal(r->ent->fam, 4);
	assert_int_equal(r->ent->overlay_ip[3], 9);
	assert_null(route("g", "10.1.1.1")->ent);   /* inline next hop */
	assert_int_equal(route("g", "192.168.0.1")->action, SS_OVL_RT_DIRECT);
	assert_int_equal(route("h", "10.1.1.1")->action, SS_OVL_RT_DROP);
	assert_null(route("h", "192.168.0.1"));
	assert_int_equal(route("g", "fd10::1:2")->action, SS_OVL_RT_VNET);
	assert_int_equal(route("g", "fd10::1ff")->action, SS_OVL_RT_DROP);
	assert_int_equal(route("g", "fd10::105")->action, SS_OVL_RT_DIRECT);
	assert_null(route("g", "fd11::1"));
	/* IPv4 and IPv6 of one group are distinct scopes */
	assert_null(route("h", "::ffff:10.1.1.1"));

	DEL(&T, "route", "{\"group\": \"g\", \"prefix\": \"10.2.0.0/16\", \"action\": \"drop\"}");
	DEL(&T, "route", "{\"group\": \"g\", \"prefix\": \"fd10::105/128\", \"action\": "
			 "\"direct\"}");
	DEL(&T, "route", "{\"group\": \"h\", \"prefix\": \"10.0.0.0/8\", \"action\": \"drop\"}");
	TXN_OK(&T);
	assert_int_equal(route("g", "10.2.1.1")->action, SS_OVL_RT_VNET);
	assert_int_equal(route("g", "10.2.3.1")->action, SS_OVL_RT_VNET_DIRECT);
	assert_int_equal(route("g", "fd10::105")->action, SS_OVL_RT_DROP);
	assert_int_equal(ss_ovl_group_index("h"), -1);

	/* an ENI keeps a group alive without routes; a route re-creates it */
	ADD(&T, "eni", "{\"name\": \"e\", \"mac\": \"02:00:00:00:01:01\", \"vnet\": \"A\", "
		       "\"port\": \"host0\", \"route_group\": \"h\"}");
	TXN_OK(&T);
	assert_true(ss_ovl_group_index("h") > 0);
	assert_null(route("h", "10.1.1.1"));
	ADD(&T, "route", "{\"group\": \"h\", \"prefix\": \"10.0.0.0/8\", \"action\": \"vnet\"}");
	TXN_OK(&T);
	assert_int_equal(ss_ovl_eni_get((uint32_t)ss_ovl_eni_index("e"))->group,
			 ss_ovl_group_index("h"));
	assert_int_equal(route("h", "10.1.1.1")->action, SS_OVL_RT_VNET);
}

/* More /32s than the first LPM copy has tbl8 groups: the shadow is rebuilt
 * bigger in prepare, the swap publishes it, the next prepare rebuilds the
 * other copy. */
static void test_route_table_growth(void **state)
{
	char buf[160];
	int i;

	(void)state;
	for (i = 0; i < 1200; i++) {
		snprintf(buf, sizeof(buf), "{\"group\": \"g\", \"prefix\": \"10.%d.%d.1/32\", "
			 "\"action\": \"%s\"}", i / 250, i % 250, i % 2 ? "drop" : "direct");
		ADD(&T, "route", "%s", buf);
	}
	TXN_OK(&T);
	for (int round = 0; round < 2; round++) {
		for (i = 0; i < 1200; i++) {
			char s[32];
			const struct rt *r;
			snprintf(s, sizeof(s), "10.%d.%d.1", i / 250, i % 250);
			r = route("g", s);
			if (round == 1 && i % 3 == 0) {
				assert_null(r);
				continue;
			}
			assert_non_null(r);
			assert_int_equal(r->action, i % 2 ? SS_OVL_RT_DROP : SS_OVL_RT_DIRECT);
			snprintf(s, sizeof(s), "10.%d.%d.2", i / 250, i % 250);
			assert_null(route("g", s));
		}
		if (round == 1)
			break;
		for (i = 0; i < 1200; i += 3) {
			snprintf(buf, sizeof(buf), "{\"group\": \"g\", \"prefix\": "
				 "\"10.%d.%d.1/32\", \"action\": \"drop\"}", i / 250, i % 250);
			DEL(&T, "route", "%s", buf);
		}
		TXN_OK(&T);
	}
	assert_true(ss_ovl.lpm.tbl8s > 256);
}

static void test_mappings(void **state)
{
	const struct ss_ovl_mapping *m;
	struct ss_ovl_ipkey k;
	uint8_t fam, a[16];
	uint64_t n;
	int i;

	(void)state;
	base_vnets();
	TXN_OK(&T);
	/* more than the initial 1024: the table grows inside one transaction */
	for (i = 0; i < 3000; i++)
		ADD(&T, "mapping", "{\"vnet\": \"A\", \"ip\": \"10.1.%d.%d\", \"underlay_ip\": "
			"\"192.0.2.%d\", \"mac\": \"02:00:00:01:%02x:%02x\", \"use_dst_vni\": %s}",
			i / 200, i % 200 + 1, i % 4 + 1, i >> 8, i & 255, i == 7 ? "true" : "false");
	ADD(&T, "mapping", "{\"vnet\": \"B\", \"ip\": \"fd00::7\", \"underlay_ip\": "
		"\"2001:db8::7\", \"mac\": \"02:00:00:02:00:07\"}");
	TXN_OK(&T);
	for (i = 0; i < 3000; i++) {
		char s[32];
		snprintf(s, sizeof(s), "10.1.%d.%d", i / 200, i % 200 + 1);
		m = map_find("A", s);
		assert_non_null(m);
		assert_int_equal(m->tgt.fam, 4);
		assert_int_equal(m->tgt.pa[3], i % 4 + 1);
		assert_int_equal(m->tgt.mac.addr_bytes[5], i & 255);
		assert_true(m->tgt.set_mac);
		assert_int_equal(m->use_dst_vni, i == 7);
		assert_int_equal(m->vnet, ss_ovl_vnet_index("A"));
	}
	assert_null(map_find("B", "10.1.0.1"));
	m = map_find("B", "fd00::7");
	assert_non_null(m);
	assert_int_equal(m->tgt.fam, 6);
	/* 750 mappings of A have PA 192.0.2.1 */
	ip("192.0.2.1", &fam, a);
	ss_ovl_ipkey(&k, fam, (uint16_t)ss_ovl_vnet_index("A"), a);
	assert_true(ovl_hash_lookup(&ss_ovl.paref, &k, &n));
	assert_int_equal(n, 750);

	/* a set replaces the entry (new PA and MAC), a delete removes it */
	SET(&T, "mapping", "{\"vnet\": \"A\", \"ip\": \"10.1.0.1\", \"underlay_ip\": "
		"\"2001:db8::1\", \"mac\": \"02:00:00:00:99:99\"}");
	DEL(&T, "mapping", "{\"vnet\": \"A\", \"ip\": \"10.1.0.2\", \"underlay_ip\": "
		"\"192.0.2.2\", \"mac\": \"02:00:00:01:00:01\"}");
	TXN_OK(&T);
	m = map_find("A", "10.1.0.1");
	assert_int_equal(m->tgt.fam, 6);
	assert_int_equal(m->tgt.mac.addr_bytes[4], 0x99);
	assert_null(map_find("A", "10.1.0.2"));
	assert_true(ovl_hash_lookup(&ss_ovl.paref, &k, &n));
	assert_int_equal(n, 749);
	ip("2001:db8::1", &fam, a);
	ss_ovl_ipkey(&k, fam, (uint16_t)ss_ovl_vnet_index("A"), a);
	assert_true(ovl_hash_lookup(&ss_ovl.paref, &k, &n));
	assert_int_equal(n, 1);

	/* in one transaction: a mapping of C, C deleted and added again (a new
	 * index), a mapping of the new C: each gets the index of its time (the
	 * staging remembers the last mapping's VNET) */
	ADD(&T, "vnet", "{\"name\": \"C\", \"vni\": 300}");
	TXN_OK(&T);
	i = ss_ovl_vnet_index("C");
	ADD(&T, "mapping", "{\"vnet\": \"C\", \"ip\": \"10.3.0.1\", \"underlay_ip\": "
		"\"192.0.2.9\", \"mac\": \"02:00:00:03:00:01\"}");
	DEL(&T, "mapping", "{\"vnet\": \"C\", \"ip\": \"10.3.0.1\", \"underlay_ip\": "
		"\"192.0.2.9\", \"mac\": \"02:00:00:03:00:01\"}");
	DEL(&T, "vnet", "{\"name\": \"C\", \"vni\": 300}");
	ADD(&T, "vnet", "{\"name\": \"C\", \"vni\": 301}");
	ADD(&T, "mapping", "{\"vnet\": \"C\", \"ip\": \"10.3.0.2\", \"underlay_ip\": "
		"\"192.0.2.9\", \"mac\": \"02:00:00:03:00:02\"}");
	TXN_OK(&T);
	assert_true(ss_ovl_vnet_index("C") != i);
	assert_null(map_find("C", "10.3.0.1"));
	m = map_find("C", "10.3.0.2");
	assert_non_null(m);
	assert_int_equal(m->vnet, ss_ovl_vnet_index("C"));
	ip("192.0.2.9", &fam, a);
	ss_ovl_ipkey(&k, fam, (uint16_t)i, a);
	assert_false(ovl_hash_lookup(&ss_ovl.paref, &k, &n));
	ss_ovl_ipkey(&k, fam, (uint16_t)ss_ovl_vnet_index("C"), a);
	assert_true(ovl_hash_lookup(&ss_ovl.paref, &k, &n));
	assert_int_equal(n, 1);
}

static void test_pa_validation(void **state)
{
	struct ss_ovl_ipkey k;
	uint8_t fam, a[16];
	uint64_t v;

	(void)state;
	base_vnets();
	ADD(&T, "pa_validation", "{\"vnet\": \"A\", \"underlay_ip\": \"192.0.2.5\"}");
	TXN_OK(&T);
	ip("192.0.2.5", &fam, a);
	ss_ovl_ipkey(&k, fam, (uint16_t)ss_ovl_vnet_index("A"), a);
	assert_true(ovl_hash_lookup(&ss_ovl.pav, &k, &v));
	ss_ovl_ipkey(&k, fam, (uint16_t)ss_ovl_vnet_index("B"), a);
	assert_false(ovl_hash_lookup(&ss_ovl.pav, &k, &v));
	DEL(&T, "pa_validation", "{\"vnet\": \"A\", \"underlay_ip\": \"192.0.2.5\"}");
	TXN_OK(&T);
	ss_ovl_ipkey(&k, fam, (uint16_t)ss_ovl_vnet_index("A"), a);
	assert_false(ovl_hash_lookup(&ss_ovl.pav, &k, &v));
}

static const struct ss_ovl_inb_rule *inb(const char *eni, uint32_t vni, const char *src)
{
	uint8_t fam, a[16];

	ip(src, &fam, a);
	return ss_ovl_inb_match((uint32_t)ss_ovl_eni_index(eni), vni, fam, a);
}

static void test_inbound_routes(void **state)
{
	const struct ss_ovl_inb_rule *r;
	uint32_t e;

	(void)state;
	base_vnets();
	ADD(&T, "eni", "{\"name\": \"e\", \"mac\": \"02:00:00:00:01:01\", \"vnet\": \"A\", "
		       "\"port\": \"host0\"}");
	ADD(&T, "inbound_route", "{\"eni\": \"e\", \"vni\": 100, \"src_prefix\": "
		"\"192.0.2.0/24\", \"priority\": 5, \"action\": \"decap\"}");
	ADD(&T, "inbound_route", "{\"eni\": \"e\", \"vni\": 100, \"src_prefix\": "
		"\"192.0.2.0/24\", \"priority\": 1, \"action\": \"decap_pa_validate\", "
		"\"vnet\": \"B\"}");
	ADD(&T, "inbound_route", "{\"eni\": \"e\", \"vni\": 100, \"src_prefix\": "
		"\"192.0.2.128/25\", \"priority\": 9, \"action\": \"decap\"}");
	ADD(&T, "inbound_route", "{\"eni\": \"e\", \"vni\": 100, \"src_prefix\": "
		"\"2001:db8::/32\", \"priority\": 0, \"action\": \"decap\"}");
	ADD(&T, "inbound_route", "{\"eni\": \"e\", \"vni\": 300, \"src_prefix\": "
		"\"0.0.0.0/0\", \"priority\": 0, \"action\": \"decap_pa_validate\"}");
	TXN_OK(&T);
	e = (uint32_t)ss_ovl_eni_index("e");
	assert_int_equal(ss_ovl.inb_count[e], 5);
	r = inb("e", 100, "192.0.2.1");             /* same prefix: lowest priority */
	assert_non_null(r);
	assert_int_equal(r->priority, 1);
	assert_int_equal(r->action, SS_OVL_INB_DECAP_PA_VALIDATE);
	assert_int_equal(r->vnet, ss_ovl_vnet_index("B"));
	r = inb("e", 100, "192.0.2.200");           /* longest prefix first */
	assert_int_equal(r->priority, 9);
	assert_int_equal(r->action, SS_OVL_INB_DECAP);
	assert_null(inb("e", 100, "198.51.100.1"));
	assert_int_equal(inb("e", 100, "2001:db8:1::1")->plen, 32);
	assert_null(inb("e", 200, "192.0.2.1"));
	assert_int_equal(inb("e", 300, "203.0.113.1")->vnet, 0);

	DEL(&T, "inbound_route", "{\"eni\": \"e\", \"vni\": 100, \"src_prefix\": "
		"\"192.0.2.0/24\", \"priority\": 1, \"action\": \"decap_pa_validate\", "
		"\"vnet\": \"B\"}");
	DEL(&T, "inbound_route", "{\"eni\": \"e\", \"vni\": 300, \"src_prefix\": "
		"\"0.0.0.0/0\", \"priority\": 0, \"action\": \"decap_pa_validate\"}");
	TXN_OK(&T);
	assert_int_equal(ss_ovl.inb_count[e], 3);
	assert_int_equal(inb("e", 100, "192.0.2.1")->priority, 5);
	assert_null(inb("e", 300, "203.0.113.1"));
}

/* A transaction that fails half-way leaves no trace and leaks nothing: the
 * indices and entries it took are handed out again by the next one. */
static void test_abort_is_clean(void **state)
{
	uint32_t ids_before, pool_before;

	(void)state;
	base_vnets();
	TXN_OK(&T);
	ids_before = ovl_ids_in_use(&ss_ovl.eni_ids);
	pool_before = ovl_ids_in_use(&ss_ovl.maps.ids);
	ADD(&T, "eni", "{\"name\": \"ok\", \"mac\": \"02:00:00:00:01:01\", \"vnet\": \"A\", "
		       "\"port\": \"host0\"}");
	ADD(&T, "mapping", "{\"vnet\": \"A\", \"ip\": \"10.1.0.5\", \"underlay_ip\": "
		"\"192.0.2.1\", \"mac\": \"02:00:00:00:02:01\"}");
	ADD(&T, "route", "{\"group\": \"g\", \"prefix\": \"10.0.0.0/8\", \"action\": \"vnet\"}");
	ADD(&T, "eni", "{\"name\": \"bad\", \"mac\": \"02:00:00:00:01:02\", \"vnet\": \"A\", "
		       "\"port\": \"nope\"}");
	assert_int_equal(txn_run(&T), -ENOENT);
	assert_non_null(strstr(T.err, "eni bad: port nope not found"));
	assert_int_equal(ss_ovl_eni_index("ok"), -1);
	assert_null(map_find("A", "10.1.0.5"));
	assert_int_equal(ss_ovl_group_index("g"), -1);
	assert_int_equal(eni_by_host("host0", 0, "02:00:00:00:01:01"), -1);
	assert_int_equal(ovl_ids_in_use(&ss_ovl.eni_ids), ids_before);
	assert_int_equal(ovl_ids_in_use(&ss_ovl.maps.ids), pool_before);

	/* an ENI table of 64: the 65th is refused as capacity (-ENOSPC) */
	for (int i = 0; i < 65; i++)
		ADD(&T, "eni", "{\"name\": \"e%d\", \"mac\": \"02:00:00:00:02:%02x\", "
			       "\"vnet\": \"A\", \"port\": \"host0\"}", i, i);
	assert_int_equal(txn_run(&T), -ENOSPC);
	assert_non_null(strstr(T.err, "ENI table full"));
	assert_int_equal(ovl_ids_in_use(&ss_ovl.eni_ids), ids_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_switch_vip_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_underlay_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eni, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_table_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mappings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pa_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_is_clean, setup, teardown),
	};

	if (ovl_test_eal() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
