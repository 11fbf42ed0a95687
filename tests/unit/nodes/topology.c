/* SPDX-License-Identifier: BSD-3-Clause */
#include "tests/unit/nodes/node_harness.h"
#include "tests/unit/nodes/topology.h"

static void mapping(const char *vnet, const char *ca, const char *pa, unsigned int mac,
		    const char *extra)
{
	nt_ok("mapping.add",
	      "{\"vnet\": \"%s\", \"ip\": \"%s\", \"underlay_ip\": \"%s\", "
	      "\"mac\": \"02:00:00:00:aa:%02x\"%s}",
	      vnet, ca, pa, mac, extra);
}

static void eni(const char *name, const char *mac, const char *extra)
{
	nt_ok("eni.add",
	      "{\"name\": \"%s\", \"mac\": \"%s\", \"vnet\": \"v1\", \"port\": \"host0\", "
	      "\"route_group\": \"rg1\"%s}",
	      name, mac, extra);
}

static void route(const char *prefix, const char *action, const char *extra)
{
	nt_ok("route.add", "{\"group\": \"rg1\", \"prefix\": \"%s\", \"action\": \"%s\"%s}", prefix,
	      action, extra);
}

void nt_topology(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	nt_ok("switch.set", "{\"underlay_ip\": \"" TP_UL4 "\", \"underlay_ip6\": \"" TP_UL6
			    "\", \"mac\": \"" TP_SW_MAC "\"}");
	nt_ok("underlay_route.add", "{\"prefix\": \"100.64.1.0/24\", \"next_hops\": "
				    "[{\"port\": \"fabric0\", \"mac\": \"" TP_NH4 "\"}]}");
	nt_ok("underlay_route.add", "{\"prefix\": \"8.8.0.0/16\", \"next_hops\": "
				    "[{\"port\": \"fabric0\", \"mac\": \"" TP_NH4 "\"}]}");
	nt_ok("underlay_route.add", "{\"prefix\": \"fd00:1::/64\", \"next_hops\": "
				    "[{\"port\": \"fabric0\", \"mac\": \"" TP_NH6 "\"}]}");
	nt_ok("vnet.add", "{\"name\": \"v1\", \"vni\": %d, \"gateway_ip\": \"" TP_GW1 "\"}",
	      TP_VNI1);
	nt_ok("vnet.add", "{\"name\": \"v2\", \"vni\": %d}", TP_VNI2);
	route("10.1.0.0/16", "vnet", "");
	route("10.2.0.0/16", "vnet", ", \"vnet\": \"v2\"");
	route("10.3.0.0/16", "vnet_direct", ", \"overlay_ip\": \"10.1.0.50\"");
	route("10.9.0.0/16", "drop", "");
	route("8.8.0.0/16", "direct", "");
	route("2001:db8:1::/48", "vnet", "");
	mapping("v1", "10.1.0.20", "100.64.1.20", 0x20, "");
	mapping("v1", "10.1.0.21", "fd00:1::21", 0x21, "");
	mapping("v1", "10.1.0.22", "100.64.2.22", 0x22, "");
	mapping("v1", "10.1.0.50", "100.64.1.50", 0x50, "");
	mapping("v1", "2001:db8:1::20", "100.64.1.20", 0x20, "");
	mapping("v2", "10.2.0.5", "100.64.1.5", 0x05, ", \"use_dst_vni\": true");
	mapping("v2", "10.2.0.6", "100.64.1.6", 0x06, "");
	nt_ok("acl_group.replace",
	      "{\"name\": \"web_only\", \"family\": \"ipv4\", \"rules\": [{\"priority\": 10, "
	      "\"action\": \"allow\", \"protocols\": [6], \"dst_ports\": [80]}]}");
	eni("e1", TP_E1_MAC, "");
	eni("e2", TP_E2_MAC, ", \"vlan\": 100");
	eni("edown", TP_EDOWN_MAC, ", \"admin_state\": \"down\"");
	eni("edscp", TP_EDSCP_MAC, ", \"dscp\": 46");
	eni("eacl", TP_EACL_MAC, ", \"acl\": {\"outbound_v4\": [\"web_only\"]}");
}

struct rte_mbuf *nt_outbound_mbuf(const struct pb *frame)
{
	struct rte_mbuf *m = nt_mbuf("host0", frame, 1);

	nt_expect("fixture: overlay_host", m, nt_run1("overlay_host", m),
		  nt_successor("outbound.after_eni"), NULL);
	return m;
}

struct rte_mbuf *nt_outbound_e1(const char *dst, uint8_t proto, uint16_t sport, uint16_t dport,
				uint32_t payload)
{
	uint8_t a[16];
	struct pb pb;

	nt_frame_ip(&pb, TP_E1_MAC, TP_SW_MAC, 0, nt_ip(dst, a) == 4 ? TP_VM : TP_VM6, dst, proto,
		    sport, dport, payload);
	return nt_outbound_mbuf(&pb);
}
