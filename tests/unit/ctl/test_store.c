/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Object store semantics: validation and normalisation, idempotency,
 * references (1001), dependencies (1003), unique values and conflicts
 * (1002), capacities (1004), bulk entries, sets, lists, acl_group.replace,
 * and state.get replayed into an empty store.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_test_util.h"
#include "control/ctl-int.h"
#include "control/rpc.h"

#define OK(ctl, m, p) json_decref(t_ok(ctl, m, p))

/* The common topology: vnet v1 (vni 100), acl groups g4 / g6, eni e1. */
static void
base(struct ss_ctl *ctl)
{
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100,\"gateway_ip\":\"10.0.0.1\"}");
	OK(ctl, "acl_group.add", "{\"name\":\"g4\",\"family\":\"ipv4\"}");
	OK(ctl, "acl_group.add", "{\"name\":\"g6\",\"family\":\"ipv6\"}");
	OK(ctl, "eni.add", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
		"\"port\":\"host0\",\"vlan\":10,\"acl\":{\"outbound_v4\":[\"g4\"],\"inbound_v6\":[\"g6\"]}}");
}

static json_t *
get(struct ss_ctl *ctl, const char *method, const char *params)
{
	return t_ok(ctl, method, params);
}

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void
test_normalisation(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r, *rule;

	(void)state;
	base(ctl);
	OK(ctl, "mapping.add", "{\"vnet\":\"v1\",\"ip\":\"2001:DB8:0:0::1\",\"underlay_ip\":\"192.0.2.1\","
		"\"mac\":\"02-AB-CD-EF-00-01\"}");
	r = get(ctl, "mapping.list", NULL);
	{
		json_t *m = json_array_get(json_object_get(r, "mappings"), 0);

		assert_string_equal(str(m, "ip"), "2001:db8::1");
		assert_string_equal(str(m, "mac"), "02:ab:cd:ef:00:01");
		assert_true(json_is_false(json_object_get(m, "use_dst_vni")));   /* default */
	}
	json_decref(r);
	OK(ctl, "route.add", "{\"group\":\"rg\",\"prefix\":\"10.1.2.3/8\",\"action\":\"drop\"}");
	OK(ctl, "route.add", "{\"group\":\"rg\",\"prefix\":\"2001:db8:ffff::1/33\",\"action\":\"direct\"}");
	r = get(ctl, "route.list", "{\"group\":\"rg\"}");
	assert_string_equal(str(json_array_get(json_object_get(r, "routes"), 0), "prefix"), "10.0.0.0/8");
	assert_string_equal(str(json_array_get(json_object_get(r, "routes"), 1), "prefix"),
			    "2001:db8:8000::/33");
	json_decref(r);
	/* "10.1.2.3/8" is the same key as "10.0.0.0/8": identical add succeeds */
	OK(ctl, "route.add", "{\"group\":\"rg\",\"prefix\":\"10.0.0.0/8\",\"action\":\"drop\"}");
	OK(ctl, "acl_rule.add", "{\"group\":\"g4\",\"priority\":1,\"action\":\"deny\",\"src\":[\"10.9.9.9/24\"],"
		"\"src_ports\":[\"80\",\"80-80\",\"1000-2000\",443],\"protocols\":[6,17],\"dst\":[]}");
	r = get(ctl, "acl_rule.list", "{\"group\":\"g4\"}");
	rule = json_array_get(json_object_get(r, "rules"), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(rule, "src"), 0)), "10.9.9.0/24");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(rule, "src_ports"), 0)), 80);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(rule, "src_ports"), 1)), 80);
	assert_string_equal(json_string_value(json_array_get(json_object_get(rule, "src_ports"), 2)),
			    "1000-2000");
	assert_null(json_object_get(rule, "dst"));                    /* empty list dropped */
	assert_true(json_is_true(json_object_get(rule, "terminating")));   /* default */
	json_decref(r);
	/* vlan 0 is untagged: absent */
	OK(ctl, "eni.add", "{\"name\":\"e2\",\"mac\":\"02:00:00:00:00:02\",\"vnet\":\"v1\",\"port\":\"host1\",\"vlan\":0}");
	r = get(ctl, "eni.get", "{\"name\":\"e2\"}");
	assert_null(json_object_get(r, "vlan"));
	assert_string_equal(str(r, "admin_state"), "up");
	json_decref(r);
	ss_ctl_destroy(ctl);
}

struct bad_case {
	const char *method;
	const char *params;
	int code;
	const char *field;
};

static void
test_validation_table(void **state)
{
	static const struct bad_case cases[] = {
		{ "vnet.add", "{\"name\":\"x\",\"vni\":0}", -32602, "vni" },
		{ "vnet.add", "{\"name\":\"x\",\"vni\":16777216}", -32602, "vni" },
		{ "vnet.add", "{\"name\":\"x\",\"vni\":\"5\"}", -32602, "vni" },
		{ "vnet.add", "{\"name\":\"x\",\"vni\":5.0}", -32602, "vni" },
		{ "vnet.add", "{\"name\":\"x/y\",\"vni\":5}", -32602, "name" },
		{ "vnet.add", "{\"name\":\"\",\"vni\":5}", -32602, "name" },
		{ "vnet.add", "{\"vni\":5}", -32602, "name" },
		{ "vnet.add", "{\"name\":\"x\",\"vni\":5,\"gateway_ip\":\"2001::1\"}", -32602, "gateway_ip" },
		{ "vnet.add", "{\"name\":\"x\",\"vni\":5,\"color\":\"red\"}", -32602, "color" },
		{ "vnet.add", "{\"name\":\"x\",\"vni\":100}", 1002, "vni" },        /* vni of v1 */
		{ "vnet.delete", "{\"name\":\"v1\",\"vni\":100}", -32602, "vni" },  /* key only */
		{ "switch.set", "{\"underlay_ip\":\"2001::1\"}", -32602, "underlay_ip" },
		{ "switch.set", "{\"underlay_ip6\":\"10.0.0.1\"}", -32602, "underlay_ip6" },
		{ "switch.set", "{\"mac\":\"01:00:5e:00:00:01\"}", -32602, "mac" },
		{ "switch.set", "{\"mac\":\"00:00:00:00:00:00\"}", -32602, "mac" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"nope\"}", 1001, "vnet" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"port\":\"fabric0\"}", -32602, "port" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"port\":\"eth9\"}", 1001, "port" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"port\":\"host0\",\"vlan\":4095}", -32602, "vlan" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"vlan\":5}", -32602, "vlan" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"admin_state\":\"sideways\"}", -32602, "admin_state" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"dscp\":64}", -32602, "dscp" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"acl\":{\"outbound_v4\":[\"g4\",\"nope\"]}}", 1001, "acl.outbound_v4[1]" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"acl\":{\"outbound_v4\":[\"g6\"]}}", -32602, "acl.outbound_v4[0]" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"acl\":{\"outbound_v4\":[\"g4\",\"g4\"]}}", -32602, "acl.outbound_v4[1]" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"acl\":{\"outbound_v4\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}}", -32602, "acl.outbound_v4" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"acl\":{\"sideways\":[]}}", -32602, "acl.sideways" },
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:09\",\"vnet\":\"v1\",\"vm_vni\":5}", -32602, "vm_underlay_ip" },
		/* same MAC on the same port/vlan, and in the same vnet */
		{ "eni.add", "{\"name\":\"e9\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\"}", 1002, "mac" },
		{ "eni.set", "{\"name\":\"nope\",\"admin_state\":\"down\"}", 1001, "name" },
		{ "eni.set", "{\"name\":\"e1\",\"mac\":null}", -32602, "mac" },
		{ "route.add", "{\"group\":\"g\",\"prefix\":\"10.0.0.0/33\",\"action\":\"drop\"}", -32602, "prefix" },
		{ "route.add", "{\"group\":\"g\",\"prefix\":\"10.0.0.0\",\"action\":\"drop\"}", -32602, "prefix" },
		{ "route.add", "{\"group\":\"g\",\"prefix\":\"10.0.0.0/8\",\"action\":\"fly\"}", -32602, "action" },
		{ "route.add", "{\"group\":\"g\",\"prefix\":\"10.0.0.0/8\",\"action\":\"vnet\",\"vnet\":\"v9\"}", 1001, "vnet" },
		{ "route.add", "{\"group\":\"g\",\"prefix\":\"10.0.0.0/8\",\"action\":\"vnet_direct\"}", -32602, "overlay_ip" },
		{ "route.add", "{\"group\":\"g\",\"prefix\":\"10.0.0.0/8\",\"action\":\"vnet_direct\",\"overlay_ip\":\"2001::1\"}", -32602, "overlay_ip" },
		{ "route.add", "{\"group\":\"g\",\"prefix\":\"10.0.0.0/8\",\"action\":\"drop\",\"vnet\":\"v1\"}", -32602, "vnet" },
		{ "mapping.add", "{\"vnet\":\"v1\",\"ip\":\"10.0.0.300\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"}", -32602, "ip" },
		{ "mapping.add", "{\"vnet\":\"v1\",\"ip\":\"10.0.0.3\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\",\"use_dst_vni\":1}", -32602, "use_dst_vni" },
		{ "mapping.add", "{\"vnet\":\"zz\",\"ip\":\"10.0.0.3\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"}", 1001, "vnet" },
		{ "underlay_route.add", "{\"prefix\":\"0.0.0.0/0\",\"next_hops\":[]}", -32602, "next_hops" },
		{ "underlay_route.add", "{\"prefix\":\"0.0.0.0/0\",\"next_hops\":[{\"port\":\"host0\",\"mac\":\"02:00:00:00:00:07\"}]}", -32602, "next_hops[0].port" },
		{ "underlay_route.add", "{\"prefix\":\"0.0.0.0/0\",\"next_hops\":[{\"port\":\"fabric0\",\"mac\":\"02:00:00:00:00:07\"},{\"port\":\"nope\",\"mac\":\"02:00:00:00:00:07\"}]}", 1001, "next_hops[1].port" },
		{ "underlay_route.add", "{\"prefix\":\"0.0.0.0/0\",\"next_hops\":[{\"port\":\"fabric0\"}]}", -32602, "next_hops[0].mac" },
		{ "inbound_route.add", "{\"eni\":\"e1\",\"vni\":100,\"src_prefix\":\"10.0.0.0/8\",\"priority\":1,\"action\":\"decap\",\"vnet\":\"v1\"}", -32602, "vnet" },
		{ "inbound_route.add", "{\"eni\":\"zz\",\"vni\":100,\"src_prefix\":\"10.0.0.0/8\",\"priority\":1,\"action\":\"decap\"}", 1001, "eni" },
		{ "inbound_route.add", "{\"eni\":\"e1\",\"vni\":100,\"src_prefix\":\"10.0.0.0/8\",\"action\":\"decap\"}", -32602, "priority" },
		{ "acl_group.add", "{\"name\":\"g4\",\"family\":\"ipv6\"}", 1002, NULL },
		{ "acl_group.add", "{\"name\":\"g5\",\"family\":\"ipx\"}", -32602, "family" },
		{ "acl_rule.add", "{\"group\":\"g4\",\"priority\":1,\"action\":\"allow\",\"src\":[\"2001::/16\"]}", -32602, "src[0]" },
		{ "acl_rule.add", "{\"group\":\"g4\",\"priority\":1,\"action\":\"allow\",\"dst_ports\":[\"2000-1000\"]}", -32602, "dst_ports[0]" },
		{ "acl_rule.add", "{\"group\":\"g4\",\"priority\":1,\"action\":\"allow\",\"dst_ports\":[65536]}", -32602, "dst_ports[0]" },
		{ "acl_rule.add", "{\"group\":\"g4\",\"priority\":1,\"action\":\"allow\",\"protocols\":[256]}", -32602, "protocols[0]" },
		{ "acl_rule.add", "{\"group\":\"g4\",\"priority\":1,\"action\":\"maybe\"}", -32602, "action" },
		{ "acl_rule.add", "{\"group\":\"nope\",\"priority\":1,\"action\":\"allow\"}", 1001, "group" },
		{ "rdma.policy.add", "{\"name\":\"p\",\"priority\":1,\"match\":{\"dst_prefix\":\"10.0.0.0/8\",\"dst_qp\":16777216},\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\"}}", -32602, "match.dst_qp" },
		{ "rdma.policy.add", "{\"name\":\"p\",\"priority\":1,\"match\":{\"dst_prefix\":\"10.0.0.0/8\",\"src_prefix\":\"2001::/16\"},\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\"}}", -32602, "match.src_prefix" },
		{ "rdma.policy.add", "{\"name\":\"p\",\"priority\":1,\"match\":{\"dst_prefix\":\"10.0.0.0/8\"},\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\",\"encap\":\"vnet\"}}", -32602, "action.eni" },
		{ "rdma.policy.add", "{\"name\":\"p\",\"priority\":1,\"match\":{\"dst_prefix\":\"10.0.0.0/8\"},\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\",\"encap\":\"vnet\",\"eni\":\"zz\"}}", 1001, "action.eni" },
		{ "rdma.policy.add", "{\"name\":\"p\",\"priority\":1,\"match\":{\"dst_prefix\":\"10.0.0.0/8\"},\"action\":{\"port\":\"nope\",\"next_hop_mac\":\"02:00:00:00:00:08\"}}", 1001, "action.port" },
		{ "rdma.policy.add", "{\"name\":\"p\",\"priority\":1,\"match\":{\"dst_prefix\":\"10.0.0.0/8\"},\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\",\"pcp\":8}}", -32602, "action.pcp" },
		{ "rdma.policy.add", "{\"name\":\"p\",\"priority\":1,\"match\":{\"dst_prefix\":\"10.0.0.0/8\"},\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\",\"queue\":\"fast\"}}", -32602, "action.queue" },
		{ "rdma.config", "{\"data_dscp\":64}", -32602, "data_dscp" },
		{ "flow.config", "{\"max_flows\":0}", -32602, "max_flows" },
		{ "flow.config", "{\"speed\":1}", -32602, "speed" },
		{ "direction.add", "{\"vni\":0}", -32602, "vni" },
		{ "vip.add", "{\"ip\":\"1.2.3\"}", -32602, "ip" },
		{ "mapping.add", "{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"},"
				 "{\"vnet\":\"v1\",\"ip\":\"10.0.0.2\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"},"
				 "{\"vnet\":\"v1\",\"ip\":\"10.0.0.3\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"},"
				 "{\"vnet\":\"v1\",\"ip\":\"10.0.0.x\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"}]}", -32602, "entries[3].ip" },
		{ "mapping.add", "{\"entries\":[5]}", -32602, "entries[0]" },
		{ "mapping.add", "{\"entries\":[],\"vnet\":\"v1\"}", -32602, "vnet" },
		{ "mapping.add", "{\"entries\":{}}", -32602, "entries" },
	};
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	char *before;
	size_t i;

	(void)state;
	base(ctl);
	before = t_state(ctl);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *after;

		print_message("case %zu: %s %s\n", i, cases[i].method, cases[i].params);
		t_err(ctl, cases[i].method, cases[i].params, cases[i].code, cases[i].field, -1);
		after = t_state(ctl);
		assert_string_equal(before, after);   /* a refused call leaves no trace */
		free(after);
	}
	free(before);
	assert_int_equal(ss_ctl_generation(ctl), 4);
	ss_ctl_destroy(ctl);
}

static void
test_idempotency(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	uint64_t g;

	(void)state;
	base(ctl);
	g = ss_ctl_generation(ctl);
	/* identical adds (in any key order / spelling) change nothing */
	OK(ctl, "vnet.add", "{\"gateway_ip\":\"10.0.0.1\",\"vni\":100,\"name\":\"v1\"}");
	OK(ctl, "eni.add", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\",\"admin_state\":\"up\","
		"\"port\":\"host0\",\"vlan\":10,\"acl\":{\"inbound_v6\":[\"g6\"],\"outbound_v4\":[\"g4\"],\"inbound_v4\":[]}}");
	assert_int_equal(ss_ctl_generation(ctl), g);
	/* different content under the same key */
	t_err(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100}", SS_ERR_EXISTS, NULL, -1);
	/* deleting what is absent succeeds */
	OK(ctl, "mapping.delete", "{\"vnet\":\"v1\",\"ip\":\"10.9.9.9\"}");
	OK(ctl, "vnet.delete", "{\"name\":\"never\"}");
	assert_int_equal(ss_ctl_generation(ctl), g);
	ss_ctl_destroy(ctl);
}

static void
test_dependencies(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r;

	(void)state;
	base(ctl);
	OK(ctl, "vnet.add", "{\"name\":\"v2\",\"vni\":200}");
	OK(ctl, "mapping.add", "{\"vnet\":\"v2\",\"ip\":\"10.0.0.5\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"}");
	OK(ctl, "inbound_route.add", "{\"eni\":\"e1\",\"vni\":100,\"src_prefix\":\"10.0.0.0/8\",\"priority\":1,"
		"\"action\":\"decap_pa_validate\",\"vnet\":\"v2\"}");
	OK(ctl, "rdma.policy.add", "{\"name\":\"p1\",\"priority\":5,\"match\":{\"dst_prefix\":\"10.7.0.0/16\"},"
		"\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\",\"encap\":\"vnet\",\"eni\":\"e1\"}}");
	OK(ctl, "acl_rule.add", "{\"group\":\"g4\",\"priority\":1,\"action\":\"allow\"}");

	r = t_call(ctl, "vnet.delete", "{\"name\":\"v1\"}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), 1003);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "eni e1"));
	json_decref(r);
	r = t_call(ctl, "vnet.delete", "{\"name\":\"v2\"}");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")), "mapping"));
	json_decref(r);
	t_err(ctl, "acl_group.delete", "{\"name\":\"g6\"}", SS_ERR_IN_USE, NULL, -1);   /* bound to e1 */
	t_err(ctl, "acl_group.delete", "{\"name\":\"g4\"}", SS_ERR_IN_USE, NULL, -1);   /* rules, e1 */
	t_err(ctl, "eni.delete", "{\"name\":\"e1\"}", SS_ERR_IN_USE, NULL, -1);
	/* delete the users first: then it works (no cascade) */
	OK(ctl, "rdma.policy.delete", "{\"name\":\"p1\"}");
	t_err(ctl, "eni.delete", "{\"name\":\"e1\"}", SS_ERR_IN_USE, NULL, -1);   /* inbound route */
	OK(ctl, "inbound_route.delete", "{\"eni\":\"e1\",\"vni\":100,\"src_prefix\":\"10.1.1.1/8\",\"priority\":1}");
	OK(ctl, "eni.delete", "{\"name\":\"e1\"}");
	OK(ctl, "acl_group.delete", "{\"name\":\"g6\"}");
	t_err(ctl, "acl_group.delete", "{\"name\":\"g4\"}", SS_ERR_IN_USE, NULL, -1);   /* its rule */
	OK(ctl, "acl_group.replace", "{\"name\":\"g4\",\"rules\":[]}");
	OK(ctl, "acl_group.delete", "{\"name\":\"g4\"}");
	OK(ctl, "mapping.delete", "{\"entries\":[{\"vnet\":\"v2\",\"ip\":\"10.0.0.5\"}]}");
	OK(ctl, "vnet.delete", "{\"name\":\"v2\"}");
	OK(ctl, "vnet.delete", "{\"name\":\"v1\"}");
	r = get(ctl, "vnet.list", NULL);
	assert_int_equal(json_array_size(json_object_get(r, "vnets")), 0);
	json_decref(r);
	ss_ctl_destroy(ctl);
}

static void
test_capacity(void **state)
{
	struct ss_ctl_limits lim = { .max_mappings = 3, .max_vnets = 2 };
	struct ss_ctl *ctl = t_ctl(NULL, &lim);

	(void)state;
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":1}");
	OK(ctl, "vnet.add", "{\"name\":\"v2\",\"vni\":2}");
	t_err(ctl, "vnet.add", "{\"name\":\"v3\",\"vni\":3}", SS_ERR_CAPACITY, NULL, -1);
	OK(ctl, "vnet.add", "{\"name\":\"v2\",\"vni\":2}");   /* identical: not a new one */
	t_err(ctl, "mapping.add", "{\"entries\":["
	      "{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"},"
	      "{\"vnet\":\"v1\",\"ip\":\"10.0.0.2\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"},"
	      "{\"vnet\":\"v1\",\"ip\":\"10.0.0.3\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"},"
	      "{\"vnet\":\"v1\",\"ip\":\"10.0.0.4\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\"}]}",
	      SS_ERR_CAPACITY, "entries[3]", -1);
	/* freeing room in the same txn makes it fit */
	OK(ctl, "txn", "{\"ops\":[{\"method\":\"vnet.delete\",\"params\":{\"name\":\"v2\"}},"
		"{\"method\":\"vnet.add\",\"params\":{\"name\":\"v3\",\"vni\":3}}]}");
	ss_ctl_destroy(ctl);
}

static void
test_set_and_singletons(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r;

	(void)state;
	base(ctl);
	r = get(ctl, "switch.get", NULL);
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	OK(ctl, "switch.set", "{\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:AA:01\"}");
	OK(ctl, "switch.set", "{\"underlay_ip6\":\"2001:DB8::1\"}");
	r = get(ctl, "switch.get", NULL);
	assert_string_equal(str(r, "underlay_ip"), "192.0.2.1");
	assert_string_equal(str(r, "underlay_ip6"), "2001:db8::1");
	assert_string_equal(str(r, "mac"), "02:00:00:00:aa:01");
	json_decref(r);
	/* eni.set: changes given fields, null clears an optional one */
	OK(ctl, "eni.set", "{\"name\":\"e1\",\"admin_state\":\"down\",\"vlan\":null,\"port\":null,\"dscp\":10}");
	r = get(ctl, "eni.get", "{\"name\":\"e1\"}");
	assert_string_equal(str(r, "admin_state"), "down");
	assert_null(json_object_get(r, "port"));
	assert_null(json_object_get(r, "vlan"));
	assert_int_equal(json_integer_value(json_object_get(r, "dscp")), 10);
	assert_string_equal(str(r, "vnet"), "v1");
	json_decref(r);
	/* the result is validated as a whole */
	t_err(ctl, "eni.set", "{\"name\":\"e1\",\"vlan\":5}", -32602, "vlan", -1);
	/* flow.config / rdma.config: read without params, partial set */
	r = get(ctl, "rdma.config", NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "data_dscp")), 26);
	assert_int_equal(json_integer_value(json_object_get(r, "cnp_dscp")), 48);
	json_decref(r);
	OK(ctl, "rdma.config", "{\"cnp_dscp\":40}");
	r = get(ctl, "rdma.config", NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "data_dscp")), 26);
	assert_int_equal(json_integer_value(json_object_get(r, "cnp_dscp")), 40);
	json_decref(r);
	OK(ctl, "flow.config", "{\"idle_timeout_ms\":5000}");
	assert_non_null(ss_ctl_store_get(ctl, "flow.config", NULL));
	assert_int_equal(json_integer_value(json_object_get(ss_ctl_store_get(ctl, "flow.config", NULL),
							    "idle_timeout_ms")), 5000);
	ss_ctl_destroy(ctl);
}

static void
test_acl_replace(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r;
	uint64_t g;

	(void)state;
	/* replace creates the group when given a family */
	OK(ctl, "acl_group.replace", "{\"name\":\"a\",\"family\":\"ipv4\",\"rules\":["
		"{\"priority\":10,\"action\":\"allow\",\"dst_ports\":[80]},"
		"{\"priority\":20,\"action\":\"deny\"},{\"priority\":30,\"action\":\"deny\"}]}");
	g = ss_ctl_generation(ctl);
	OK(ctl, "acl_group.replace", "{\"name\":\"a\",\"rules\":["
		"{\"priority\":10,\"action\":\"allow\",\"dst_ports\":[80]},"
		"{\"priority\":20,\"action\":\"deny\"},{\"priority\":30,\"action\":\"deny\"}]}");
	assert_int_equal(ss_ctl_generation(ctl), g);   /* same rules: nothing changes */
	OK(ctl, "acl_group.replace", "{\"name\":\"a\",\"rules\":["
		"{\"priority\":10,\"action\":\"deny\"},{\"priority\":40,\"action\":\"allow\",\"group\":\"a\"}]}");
	r = get(ctl, "acl_rule.list", "{\"group\":\"a\"}");
	assert_int_equal(json_array_size(json_object_get(r, "rules")), 2);
	assert_string_equal(str(json_array_get(json_object_get(r, "rules"), 0), "action"), "deny");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r, "rules"), 1),
							    "priority")), 40);
	json_decref(r);
	t_err(ctl, "acl_group.replace", "{\"name\":\"a\",\"rules\":[{\"priority\":1,\"action\":\"deny\"},"
	      "{\"priority\":1,\"action\":\"allow\"}]}", -32602, "rules", -1);
	t_err(ctl, "acl_group.replace", "{\"name\":\"a\",\"rules\":[{\"priority\":1,\"action\":\"deny\","
	      "\"src\":[\"::/0\"]}]}", -32602, "rules[0].src[0]", -1);
	t_err(ctl, "acl_group.replace", "{\"name\":\"a\",\"rules\":[{\"priority\":1,\"action\":\"deny\","
	      "\"group\":\"b\"}]}", -32602, "rules[0].group", -1);
	t_err(ctl, "acl_group.replace", "{\"name\":\"b\",\"rules\":[]}", 1001, "name", -1);
	/* creating with a bad rule: refused as a whole, no group left behind */
	t_err(ctl, "acl_group.replace", "{\"name\":\"c\",\"family\":\"ipv4\",\"rules\":["
	      "{\"priority\":1,\"action\":\"maybe\"}]}", -32602, "rules[0].action", -1);
	assert_null(ss_ctl_store_get(ctl, "acl_group", "c"));
	t_err(ctl, "acl_group.replace", "{\"name\":\"a\",\"family\":\"ipv6\",\"rules\":[]}", 1002, NULL, -1);
	ss_ctl_destroy(ctl);
}

static void
test_lists(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r;
	int i;

	(void)state;
	base(ctl);
	OK(ctl, "vnet.add", "{\"name\":\"v2\",\"vni\":200}");
	for (i = 0; i < 5; i++) {
		char p[256];

		snprintf(p, sizeof(p), "{\"vnet\":\"%s\",\"ip\":\"10.0.0.%d\",\"underlay_ip\":\"1.1.1.1\","
			 "\"mac\":\"02:00:00:00:00:05\"}", i % 2 ? "v1" : "v2", i);
		OK(ctl, "mapping.add", p);
	}
	r = get(ctl, "mapping.list", "{\"vnet\":\"v2\"}");
	assert_int_equal(json_array_size(json_object_get(r, "mappings")), 3);
	json_decref(r);
	r = get(ctl, "mapping.list", "{\"limit\":2}");
	assert_int_equal(json_array_size(json_object_get(r, "mappings")), 2);
	json_decref(r);
	t_err(ctl, "mapping.list", "{\"group\":\"x\"}", -32602, "group", -1);
	t_err(ctl, "mapping.list", "{\"limit\":-1}", -32602, "limit", -1);
	r = get(ctl, "vnet.get", "{\"name\":\"v2\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "vni")), 200);
	json_decref(r);
	t_err(ctl, "vnet.get", "{\"name\":\"v9\"}", 1001, "name", -1);
	/* store access for the tables */
	assert_non_null(ss_ctl_store_get(ctl, "mapping", "v2/10.0.0.4"));
	assert_null(ss_ctl_store_get(ctl, "mapping", "v1/10.0.0.4"));
	assert_non_null(ss_ctl_store_get(ctl, "eni", "e1"));
	ss_ctl_destroy(ctl);
}

static void
test_state_replay(void **state)
{
	struct ss_ctl *a = t_ctl(NULL, NULL), *b;
	json_t *st;
	char *sa, *sb, *txn;

	(void)state;
	base(a);
	OK(a, "switch.set", "{\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:aa:01\"}");
	OK(a, "vip.add", "{\"ip\":\"192.0.2.10\"}");
	OK(a, "underlay_route.add", "{\"prefix\":\"0.0.0.0/0\",\"next_hops\":[{\"port\":\"fabric0\",\"mac\":\"02:00:00:00:00:09\"}]}");
	OK(a, "direction.add", "{\"vni\":777}");
	OK(a, "acl_rule.add", "{\"group\":\"g4\",\"priority\":3,\"action\":\"deny\",\"src\":[\"10.0.0.0/8\"]}");
	OK(a, "route.add", "{\"group\":\"rg\",\"prefix\":\"10.0.0.0/8\",\"action\":\"vnet\",\"vnet\":\"v1\"}");
	OK(a, "mapping.add", "{\"vnet\":\"v1\",\"ip\":\"10.0.0.5\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:05\",\"use_dst_vni\":true}");
	OK(a, "inbound_route.add", "{\"eni\":\"e1\",\"vni\":100,\"src_prefix\":\"10.0.0.0/8\",\"priority\":1,\"action\":\"decap\"}");
	OK(a, "pa_validation.add", "{\"vnet\":\"v1\",\"underlay_ip\":\"1.1.1.1\"}");
	OK(a, "rdma.policy.add", "{\"name\":\"p1\",\"priority\":5,\"match\":{\"dst_prefix\":\"10.7.0.0/16\",\"dst_qp\":17},"
		"\"action\":{\"port\":\"storage0\",\"next_hop_mac\":\"02:00:00:00:00:08\",\"queue\":\"lossless\",\"pcp\":3}}");
	OK(a, "rdma.config", "{\"data_dscp\":30}");
	st = t_ok(a, "state.get", NULL);
	txn = json_dumps(st, JSON_COMPACT);
	json_decref(st);
	b = t_ctl(NULL, NULL);
	OK(b, "txn", txn);
	sa = t_state(a);
	sb = t_state(b);
	assert_string_equal(sa, sb);
	/* and replaying it again is a no-op (idempotent adds) */
	OK(b, "txn", txn);
	free(sb);
	sb = t_state(b);
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	free(txn);
	ss_ctl_destroy(a);
	ss_ctl_destroy(b);
}


/* Bulk adds of flat types are read from the request text (control/bulk.c);
 * they must answer exactly like the general jansson path. */
static void
test_bulk_raw_equivalence(void **state)
{
	static const char *const cases[] = {
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\"}",
		"{\"mac\":\"02-AB-00-00-00-02\",\"underlay_ip\":\"2001:DB8::2\",\"ip\":\"2001:db8:0::2\",\"vnet\":\"v1\",\"use_dst_vni\":true}",
		"{\"vnet\":\"v\\u0031\",\"ip\":\"\\u0031\\u0030.0.0.3\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:03\"}",
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\",\"use_dst_vni\":false}",
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"192.0.2.9\",\"mac\":\"02:00:00:00:00:01\"}",
		"{\"vnet\":\"v2\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\"}",
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.4\",\"underlay_ip\":\"192.0.2.1\",\"mac\":\"01:00:00:00:00:01\"}",
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.4\",\"underlay_ip\":\"192.0.2.1\"}",
		"{\"vnet\":\"v1\",\"ip\":4,\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\"}",
		"{\"vnet\":\"v1\",\"ip\":null,\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\"}",
		"{\"vnet\":\"v1\",\"ip\":[1],\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\"}",
		"{\"vnet\":\"v1\",\"ip\":{\"a\":1},\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\"}",
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.5\",\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\",\"use_dst_vni\":1.5}",
		"{\"vnet\":\"v1\",\"ip\":\"10.0.0.5\",\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\",\"colour\":{\"deep\":[1,2]}}",
		"{\"vnet\":\"bad/name\",\"ip\":\"10.0.0.5\",\"underlay_ip\":\"192.0.2.1\",\"mac\":\"02:00:00:00:00:01\"}",
		"{}",
		"7",
	};
	static const char *const other[][2] = {
		{ "vip.add", "{\"ip\":\"2001:DB8::10\"}" },
		{ "vip.add", "{\"ip\":\"192.0.2.300\"}" },
		{ "direction.add", "{\"vni\":777}" },
		{ "direction.add", "{\"vni\":16777216}" },
		{ "direction.add", "{\"vni\":7.0}" },
		{ "direction.add", "{\"vni\":-1}" },
		{ "pa_validation.add", "{\"vnet\":\"v1\",\"underlay_ip\":\"198.51.100.1\"}" },
		{ "pa_validation.add", "{\"vnet\":\"v9\",\"underlay_ip\":\"198.51.100.1\"}" },
	};
	struct ss_ctl_limits lim = { .max_mappings = 3 };
	struct ss_ctl *fast = t_ctl(NULL, &lim), *slow = t_ctl(NULL, &lim);
	size_t i, j;
	char req[4096];

	(void)state;
	ss_core(slow)->rpc->no_bulk_raw = true;
	OK(fast, "vnet.add", "{\"name\":\"v1\",\"vni\":1}");
	OK(slow, "vnet.add", "{\"name\":\"v1\",\"vni\":1}");
	/* each case alone, then each pair (order and effects of earlier entries) */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (j = 0; j <= sizeof(cases) / sizeof(cases[0]); j++) {
			char *a, *b;

			if (j == sizeof(cases) / sizeof(cases[0]))
				snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
					 "\"mapping.add\",\"params\":{\"entries\":[%s]}}", cases[i]);
			else
				snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
					 "\"mapping.add\",\"params\":{\"entries\":[%s,%s]}}", cases[i],
					 cases[j]);
			a = ss_ctl_handle_line(fast, req, strlen(req));
			b = ss_ctl_handle_line(slow, req, strlen(req));
			if (strcmp(a, b) != 0)
				fail_msg("%s\nfast: %s\nslow: %s", req, a, b);
			free(a);
			free(b);
			a = t_state(fast);
			b = t_state(slow);
			assert_string_equal(a, b);
			free(a);
			free(b);
			/* start the next pair from the same small state */
			OK(fast, "mapping.delete", "{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\"},"
			   "{\"vnet\":\"v1\",\"ip\":\"2001:db8::2\"}]}");
			OK(slow, "mapping.delete", "{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\"},"
			   "{\"vnet\":\"v1\",\"ip\":\"2001:db8::2\"}]}");
		}
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		char *a, *b;

		snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\","
			 "\"params\":{\"entries\":[%s]}}", other[i][0], other[i][1]);
		a = ss_ctl_handle_line(fast, req, strlen(req));
		b = ss_ctl_handle_line(slow, req, strlen(req));
		if (strcmp(a, b) != 0)
			fail_msg("%s\nfast: %s\nslow: %s", req, a, b);
		free(a);
		free(b);
	}
	/* capacity: the fourth mapping */
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"mapping.add\","
		 "\"params\":{\"entries\":[%s,%s,%s,%s]}}", cases[0], cases[1], cases[2],
		 "{\"vnet\":\"v1\",\"ip\":\"10.0.0.9\",\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:09\"}");
	{
		char *a = ss_ctl_handle_line(fast, req, strlen(req));
		char *b = ss_ctl_handle_line(slow, req, strlen(req));

		assert_string_equal(a, b);
		assert_non_null(strstr(a, "1004"));
		free(a);
		free(b);
	}
	/* a duplicate key inside an entry is a parse error on both paths */
	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"mapping.add\","
		 "\"params\":{\"entries\":[{\"vnet\":\"v1\",\"vnet\":\"v1\"}]}}");
	{
		char *a = ss_ctl_handle_line(fast, req, strlen(req));

		assert_non_null(strstr(a, "-32700"));
		assert_non_null(strstr(a, "duplicate"));
		free(a);
	}
	/* past the 16 keys the validator keeps on its stack: the duplicate
	 * (key 20 repeats key 3) is still found */
	{
		size_t n = (size_t)snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":1,"
					    "\"method\":\"mapping.add\",\"params\":{\"entries\":[{");
		char *a;
		int k;

		for (k = 0; k < 20; k++)
			n += (size_t)snprintf(req + n, sizeof(req) - n, "%s\"k%d\":%d", k ? "," : "",
					      k == 19 ? 3 : k, k);
		snprintf(req + n, sizeof(req) - n, "}]}}");
		a = ss_ctl_handle_line(fast, req, strlen(req));
		assert_non_null(strstr(a, "-32700"));
		assert_non_null(strstr(a, "duplicate"));
		free(a);
	}
	ss_ctl_destroy(fast);
	ss_ctl_destroy(slow);
}

/* The IPv4 fast parser (control/validate.c) accepts exactly what
 * inet_pton(AF_INET) accepts, and keeps the text as it is. */
static void
test_ipv4_parser_vs_inet_pton(void **state)
{
	static const char alphabet[] = "0123456789..";
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	unsigned seed = 12345;
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		char ip[24], params[96];
		unsigned char a[4];
		int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 16, k;
		json_t *r;
		bool ok;

		for (k = 0; k < n; k++)
			ip[k] = alphabet[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof(alphabet) - 1)];
		ip[n] = '\0';
		if (i < 8) {
			static const char *const fixed[] = { "0.0.0.0", "255.255.255.255", "256.1.1.1",
							     "1.2.3.04", "01.2.3.4", "1.2.3", "1.2.3.4.",
							     "10.0.0.1" };
			snprintf(ip, sizeof(ip), "%s", fixed[i]);
		}
		snprintf(params, sizeof(params), "{\"ip\":\"%s\"}", ip);
		r = t_call(ctl, "vip.add", params);
		ok = json_object_get(r, "result") != NULL;
		json_decref(r);
		if (ok != (inet_pton(AF_INET, ip, a) == 1))
			fail_msg("%s: vip.add %s, inet_pton %s", ip, ok ? "ok" : "refused",
				 ok ? "refuses" : "accepts");
		if (ok) {
			assert_non_null(ss_ctl_store_get(ctl, "vip", ip));
			OK(ctl, "vip.delete", params);
		}
	}
	ss_ctl_destroy(ctl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalisation),
		cmocka_unit_test(test_validation_table),
		cmocka_unit_test(test_idempotency),
		cmocka_unit_test(test_dependencies),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_set_and_singletons),
		cmocka_unit_test(test_acl_replace),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_state_replay),
		cmocka_unit_test(test_bulk_raw_equivalence),
		cmocka_unit_test(test_ipv4_parser_vs_inet_pton),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
