/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The manual of sswitchctl: `sswitchctl --help` (everything) and
 * `sswitchctl OBJECT --help` (one object's verbs and fields). The field
 * references mirror docs/api.md, the authority on types, ranges and
 * defaults.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sswitchctl.h"

struct obj_help {
	const char *name;      /* as typed: "rdma policy" */
	const char *aliases;   /* other spellings, space separated, for lookup */
	const char *verbs;     /* "add delete list" */
	const char *summary;
	const char *fields;    /* one field a line, indented by the printer */
	const char *example;
};

static const struct obj_help objects[] = {
	{ "info", "system system_info", "(none)",
	  "Daemon version, DPDK version, ports, workers, uptime and state generation\n"
	  "(method system.info; `system info` works too).",
	  NULL,
	  "sswitchctl info" },
	{ "switch", "", "set get",
	  "The switch's own addresses: the outer source of every VXLAN packet it\n"
	  "builds and the address it answers ARP/ND for on the fabric.",
	  "underlay_ip    IPv4 address, the underlay source for IPv4 PAs\n"
	  "underlay_ip6   IPv6 address, the underlay source for IPv6 PAs\n"
	  "mac            unicast MAC (aa:bb:cc:dd:ee:ff), answered for VNET gateways\n"
	  "`switch set` changes only the fields given; null clears one.",
	  "sswitchctl switch set underlay_ip=192.0.2.1 mac=02:00:00:00:00:01" },
	{ "vip", "", "add delete list",
	  "Extra underlay addresses (virtual IPs) that accept VXLAN traffic besides\n"
	  "the switch underlay IPs.",
	  "ip             IPv4 or IPv6 address (the key)",
	  "sswitchctl vip add ip=192.0.2.10" },
	{ "underlay-route", "underlay_route underlay route", "add delete list",
	  "Underlay (outer) forwarding: longest-prefix match on the outer destination,\n"
	  "ECMP across next hops by flow hash.",
	  "prefix         IPv4 or IPv6 prefix, a.b.c.d/len (the key)\n"
	  "next_hops      list of 1-16 {port, mac}: egress port (role fabric or\n"
	  "               storage) and the next-hop MAC",
	  "sswitchctl underlay-route add prefix=0.0.0.0/0 \\\n"
	  "        'next_hops=[{\"port\":\"fabric0\",\"mac\":\"02:00:00:00:00:fe\"}]'" },
	{ "vnet", "", "add delete get list",
	  "Virtual networks: a VNI and its gateway address.",
	  "name           1-63 of A-Z a-z 0-9 _ . : - (the key)\n"
	  "vni            integer 1-16777215, unique among VNETs\n"
	  "gateway_ip     IPv4 address the switch answers ARP for (optional)\n"
	  "gateway_ip6    IPv6 address the switch answers ND for (optional)",
	  "sswitchctl vnet add name=v1 vni=100 gateway_ip=10.0.0.1\n"
	  "sswitchctl vnet list" },
	{ "eni", "", "add set delete get list",
	  "Elastic network interfaces: a tenant endpoint on a host port (by port,\n"
	  "VLAN and source MAC) or an appliance ENI (no port; traffic comes from a\n"
	  "host vSwitch over VXLAN).",
	  "name           1-63 of A-Z a-z 0-9 _ . : - (the key)\n"
	  "mac            unicast MAC of the tenant endpoint, unique per VNET and\n"
	  "               per (port, vlan)\n"
	  "vnet           VNET name (must exist)\n"
	  "admin_state    \"up\" (default) or \"down\" (drops eni_admin_down)\n"
	  "port           port name (role host); absent for an appliance ENI\n"
	  "vlan           802.1Q VLAN id 1-4094, with a port only; absent or 0: untagged\n"
	  "vm_underlay_ip appliance ENI: PA of the VM's host (re-encapsulation)\n"
	  "vm_vni         appliance ENI: VNI toward the VM's host, 1-16777215\n"
	  "               (vm_underlay_ip and vm_vni go together)\n"
	  "route_group    outbound route group name\n"
	  "acl.outbound_v4, acl.inbound_v4, acl.outbound_v6, acl.inbound_v6\n"
	  "               lists of up to 5 ACL group names of the stage's family,\n"
	  "               in stage order\n"
	  "dscp           0-63: outer DSCP (pipe mode); absent: copied from inner\n"
	  "`eni set` takes name and the fields to change (null clears an optional\n"
	  "field); `eni get name=E`.",
	  "sswitchctl eni add name=e1 mac=02:00:00:00:01:01 vnet=v1 port=host0 \\\n"
	  "        route_group=rg1 acl.outbound_v4='[\"g1\",\"g2\"]'\n"
	  "sswitchctl eni set name=e1 admin_state=down" },
	{ "direction", "", "add delete list",
	  "Appliance-mode VNIs: VXLAN from a host vSwitch with this VNI is outbound\n"
	  "traffic of the ENI of its inner source MAC.",
	  "vni            integer 1-16777215 (the key)",
	  "sswitchctl direction add vni=7000" },
	{ "route", "", "add delete list",
	  "Outbound routes: longest-prefix match on the inner destination in the\n"
	  "ENI's route group.",
	  "group          route group name (the key with prefix)\n"
	  "prefix         IPv4 or IPv6 prefix (host bits are cleared)\n"
	  "action         \"vnet\", \"vnet_direct\", \"direct\" or \"drop\" (required)\n"
	  "vnet           vnet / vnet_direct: VNET to look the mapping up in\n"
	  "               (default: the ENI's)\n"
	  "overlay_ip     vnet_direct (required there): the address to look up\n"
	  "               instead of the destination, of the prefix's family\n"
	  "list filter: group",
	  "sswitchctl route add group=rg1 prefix=10.1.0.0/16 action=vnet vnet=v1\n"
	  "sswitchctl route list --group rg1" },
	{ "mapping", "", "add delete list",
	  "CA-to-PA mappings: where a tenant address lives in the underlay.",
	  "vnet           VNET name (the key with ip)\n"
	  "ip             customer address (CA), IPv4 or IPv6\n"
	  "underlay_ip    provider address (PA), IPv4 or IPv6\n"
	  "mac            inner destination MAC written on encapsulation\n"
	  "use_dst_vni    boolean, default false: encapsulate with this VNET's VNI\n"
	  "list filter: vnet",
	  "sswitchctl mapping add vnet=v1 ip=10.1.0.5 underlay_ip=198.51.100.7 \\\n"
	  "        mac=02:00:00:00:02:05\n"
	  "sswitchctl mapping list --vnet v1" },
	{ "inbound-route", "inbound_route inbound route", "add delete list",
	  "Inbound routing of decapsulated traffic per ENI.",
	  "eni            ENI name (eni, vni, src_prefix and priority are the key)\n"
	  "vni            integer 1-16777215\n"
	  "src_prefix     outer source prefix\n"
	  "priority       0-2147483647, lower wins among equal prefix lengths\n"
	  "action         \"decap\" or \"decap_pa_validate\"\n"
	  "vnet           decap_pa_validate only: VNET of the PA-validation entries\n"
	  "list filter: eni",
	  "sswitchctl inbound-route add eni=e1 vni=100 src_prefix=198.51.100.0/24 \\\n"
	  "        priority=10 action=decap_pa_validate vnet=v1" },
	{ "pa-validation", "pa_validation pa validation", "add delete list",
	  "Allowed outer source addresses per VNET (decap_pa_validate).",
	  "vnet           VNET name (the key with underlay_ip)\n"
	  "underlay_ip    IPv4 or IPv6 address\n"
	  "list filter: vnet",
	  "sswitchctl pa-validation add vnet=v1 underlay_ip=198.51.100.7" },
	{ "acl group", "acl_group acl-group", "add delete replace get list",
	  "ACL groups: ordered rule sets of one family, bound to ENI stages.",
	  "name           1-63 of A-Z a-z 0-9 _ . : - (the key)\n"
	  "family         \"ipv4\" or \"ipv6\"\n"
	  "rules          replace: the complete new list of rules (see acl rule;\n"
	  "               group may be omitted), swapped in atomically; replace\n"
	  "               creates the group when family is given",
	  "sswitchctl acl group add name=g1 family=ipv4\n"
	  "sswitchctl acl group replace name=g1 family=ipv4 -f rules.json" },
	{ "acl rule", "acl_rule acl-rule", "add delete list",
	  "One rule of an ACL group.",
	  "group          ACL group name (the key with priority)\n"
	  "priority       0-2147483647, unique in the group, lower wins\n"
	  "action         \"allow\" or \"deny\"\n"
	  "terminating    boolean, default true\n"
	  "src, dst       lists of prefixes of the group's family (empty: any)\n"
	  "protocols      list of IP protocol numbers 0-255 (empty: any)\n"
	  "src_ports, dst_ports\n"
	  "               lists of ports: 80 or \"1000-2000\" (inclusive)\n"
	  "list filter: group",
	  "sswitchctl acl rule add group=g1 priority=10 action=allow \\\n"
	  "        dst='[\"10.1.0.0/16\"]' protocols='[6]' dst_ports='[443,\"8000-8080\"]'" },
	{ "flow", "", "config list flush",
	  "Connection tracking.",
	  "config:  max_flows (>= 1), idle_timeout_ms (1-86400000),\n"
	  "         tcp_fin_timeout_ms (0-86400000); only the fields given change;\n"
	  "         without params it shows the settings\n"
	  "list:    eni (filter), limit\n"
	  "flush:   eni (optional: only that ENI's flows)",
	  "sswitchctl flow list --eni e1 --limit 20" },
	{ "rdma policy", "rdma_policy rdma-policy", "add delete get list",
	  "RoCEv2 steering policies for GPU-to-storage traffic.",
	  "name           1-63 of A-Z a-z 0-9 _ . : - (the key)\n"
	  "priority       0-2147483647, lower wins\n"
	  "match.dst_prefix  storage target prefix (required)\n"
	  "match.src_prefix  optional source prefix, of dst_prefix's family\n"
	  "match.dst_qp      optional destination QP, 0-16777215\n"
	  "action.port       egress port name (required)\n"
	  "action.next_hop_mac  next-hop MAC (required)\n"
	  "action.queue      \"default\" (default) or \"lossless\"\n"
	  "action.dscp       0-63 for data packets (default: rdma config data_dscp)\n"
	  "action.pcp        0-7, 802.1Q priority when the egress is tagged\n"
	  "action.encap      \"none\" (default) or \"vnet\"\n"
	  "action.eni        encap vnet only (required there): the ENI whose VNET\n"
	  "                  holds the mapping",
	  "sswitchctl rdma policy add name=p1 priority=10 match.dst_prefix=10.9.0.0/16 \\\n"
	  "        action.port=storage0 action.next_hop_mac=02:00:00:00:09:01\n"
	  "sswitchctl rdma policy list" },
	{ "rdma config", "rdma_config", "(none)",
	  "Global RDMA settings.",
	  "data_dscp      0-63, default 26\n"
	  "cnp_dscp       0-63, default 48 (CNPs, opcode 0x81)\n"
	  "qp_table_size  1-67108864, number of tracked QPs\n"
	  "qp_idle_timeout_ms  1-86400000, idle QPs are forgotten after this\n"
	  "Only the fields given change; without params it shows the settings.",
	  "sswitchctl rdma config data_dscp=24" },
	{ "rdma qp", "rdma_qp rdma-qp", "list",
	  "Per-QP RoCEv2 telemetry keyed on (src_ip, dst_ip, dst_qp).",
	  "limit          at most this many QPs",
	  "sswitchctl rdma qp list --limit 50" },
	{ "ipfix", "", "set get",
	  "IPFIX (RFC 7011) flow records to a UDP collector: one per flow direction\n"
	  "at a connection's end and every active_timeout_s (docs/ipfix.md).",
	  "collector      \"ADDR:PORT\" (numeric IPv4/IPv6 address); null: no export\n"
	  "observation_domain  0-4294967295, default 1\n"
	  "active_timeout_s    1-86400, default 60\n"
	  "template_refresh_s  1-86400, default 600\n"
	  "`ipfix set` changes only the fields given; `ipfix get` adds the\n"
	  "exporter's counters (ipfix_records_dropped: lost to a full ring).",
	  "sswitchctl ipfix set collector=10.0.0.9:4739 active_timeout_s=30\n"
	  "sswitchctl ipfix get" },
	{ "lb", "", "add delete get list report config",
	  "L4 load balancers (docs/lb.md): a VIP of a VNET spread over backends by a\n"
	  "weighted Maglev table, weights from the backends' ORCA load reports\n"
	  "(gRPC weighted round robin, gRFC A58); every connection stays on its\n"
	  "backend. `lb list` / `lb get` show per backend: weight, effective_weight,\n"
	  "entries (of the table), connections, packets, bytes, last_report_age_ms.",
	  "name           1-63 of A-Z a-z 0-9 _ . : - (the key)\n"
	  "vnet           VNET name: its ENIs' packets to the VIP are balanced\n"
	  "vip            IPv4 or IPv6 address\n"
	  "protocol       \"tcp\" or \"udp\"\n"
	  "port           1-65535, the VIP's port\n"
	  "backend_port   1-65535, the backends' port (default: port)\n"
	  "table_size     a prime, default 65537 (at least ~200 per backend)\n"
	  "backends       add: list of {ip, weight, state} (see lb backend)\n"
	  "report:  lb, ip, rps_fractional, eps, cpu_utilization,\n"
	  "         application_utilization (an ORCA load report; \"used\": false\n"
	  "         when rps or utilization <= 0)\n"
	  "config:  error_utilization_penalty (1.0), blackout_period_ms (10000),\n"
	  "         weight_expiration_ms (180000), weight_update_period_ms (1000);\n"
	  "         only the fields given change; without params it shows them",
	  "sswitchctl lb add name=web vnet=v1 vip=10.0.9.100 protocol=tcp port=80 \\\n"
	  "        backend_port=8080 'backends=[{\"ip\":\"10.0.5.1\"},{\"ip\":\"10.0.5.2\",\"weight\":2}]'\n"
	  "sswitchctl lb report lb=web ip=10.0.5.1 rps_fractional=120 cpu_utilization=0.6\n"
	  "sswitchctl lb get name=web" },
	{ "lb backend", "lb_backend lb-backend", "add set delete list",
	  "One backend of a load balancer.",
	  "lb             the lb's name (the key with ip)\n"
	  "ip             the backend's address, of the VIP's family\n"
	  "weight         1-1000000, default 1: multiplies its reported weight\n"
	  "state          \"active\" (default), \"draining\" (keeps its connections,\n"
	  "               gets no new ones) or \"down\" (gets nothing; its\n"
	  "               connections are removed)\n"
	  "`lb backend set` changes only the fields given.\n"
	  "list filter: lb",
	  "sswitchctl lb backend add lb=web ip=10.0.5.3 weight=4\n"
	  "sswitchctl lb backend set lb=web ip=10.0.5.3 state=draining" },
	{ "ha", "", "get set",
	  "HA pair: this switch's role, the flow sync channel to its peer and\n"
	  "failover (docs/ha.md). The channel itself is configured in sswitchd.conf\n"
	  "(ha = { role; listen; peer; auto_failover; peer_timeout_ms; }).",
	  "role           active | standby (`ha set`: the controller's failover)\n"
	  "`ha get` shows role, peer_state (connected|connecting|down), bulk_sync\n"
	  "(idle|running|done), synced_flows, sync_lag_ms (flow event to the peer's\n"
	  "ack), sent, received, rejected, ha_standby_rx and the other counters.",
	  "sswitchctl ha get\n"
	  "sswitchctl ha set role=active" },
	{ "stats", "", "[SCOPE] | clear [SCOPE]",
	  "Counters (method stats.get / stats.clear). SCOPE: ports, drops, nodes,\n"
	  "workers, eni, acl, rdma, flows, rate_limit, privatelink, lb, trace, bfd,\n"
	  "ipfix, ha, control or all (default); a daemon with more features serves\n"
	  "more (the error for an unknown scope lists them). Drop reasons that\n"
	  "never fired are hidden unless --all. --watch refreshes every --interval\n"
	  "seconds with rates (packets/s and bits/s per port, packets/s per drop\n"
	  "reason, node, worker, ENI and RDMA policy, worker busy share) until\n"
	  "Ctrl-C; --count N stops after N refreshes.",
	  NULL,
	  "sswitchctl stats drops\n"
	  "sswitchctl stats --watch --interval 2\n"
	  "sswitchctl stats clear ports" },
	{ "capture", "", "start stop list",
	  "Packet capture to pcap files, at most 8 at once.",
	  "name           capture name, 1-31 characters (the key)\n"
	  "file           absolute path of a new pcap file (on the daemon's host)\n"
	  "port           port name; required unless direction is drop\n"
	  "direction      \"rx\" (default), \"tx\", \"both\" or \"drop\"\n"
	  "drop_reason    with direction drop (its default then): only this reason\n"
	  "snaplen        64-65535 bytes kept per packet, default 65535\n"
	  "count          stop after this many packets, default 0 (no limit)\n"
	  "`capture stop name=N` completes the file.",
	  "sswitchctl capture start name=c1 drop_reason=acl_deny file=/tmp/deny.pcap\n"
	  "sswitchctl capture stop name=c1" },
	{ "trace", "", "packet start get stop",
	  "Follow a packet through the switch (docs/trace.md): `trace packet` runs\n"
	  "one frame through the packet graph as if PORT received it and prints each\n"
	  "node, what it used (ENI, flow, ACL rule, route, mapping, encap, next hop)\n"
	  "and where the packet ended, transmitting nothing (method trace.packet);\n"
	  "`trace start` records the path of the next live packets that match,\n"
	  "`trace get` reads them, `trace stop` ends it. `sswitchctl trace --help`\n"
	  "lists every parameter.",
	  "port           packet: the port the frame is received on; start: a filter\n"
	  "frame          packet: the whole frame in hex, or the fields below\n"
	  "src_mac, dst_mac, src, dst, protocol, src_port, dst_port, vlan, ttl, dscp\n"
	  "               packet: the fields the frame is built from\n"
	  "count          start: packets to record, default 10, at most 64",
	  "sswitchctl trace packet port=host0 src_mac=02:00:00:00:10:01 src=10.0.0.2 \\\n"
	  "    dst=10.0.0.5 protocol=tcp dst_port=443\n"
	  "sswitchctl trace start port=host0 count=5 dst=10.0.0.5" },
	{ "graph", "pipeline pipeline_graph", "(none)",
	  "The live packet graph as Graphviz dot text (method pipeline.graph).",
	  NULL,
	  "sswitchctl graph | dot -Tsvg > graph.svg" },
	{ "health", "health_get", "(none)",
	  "Port link states and error counters, and findings such as drop spikes\n"
	  "or stuck queues (method health.get).",
	  NULL,
	  "sswitchctl health" },
	{ "state", "", "get diff",
	  "`state get`: the committed object store as {\"ops\": [...]}, replayable\n"
	  "with txn. `state diff FILE`: what the txn FILE would change against the\n"
	  "running state, one line per object (+ added, - deleted, ~ changed with\n"
	  "the fields that differ); nothing is applied (method txn.check). Objects\n"
	  "the file does not mention are not changes: a txn only adds what it names.",
	  NULL,
	  "sswitchctl state get > backup.json\n"
	  "sswitchctl state diff backup.json\n"
	  "sswitchctl txn -f backup.json" },
	{ "txn", "", "(none)",
	  "Apply several operations all-or-nothing. The params are\n"
	  "{\"ops\": [{\"method\": M, \"params\": {...}}, ...]}; a file holding only the\n"
	  "list is accepted too. On failure nothing is applied and the error names\n"
	  "the failing op in data.index. With --dry-run (method txn.check) the txn\n"
	  "is validated completely, capacities included, and nothing is applied:\n"
	  "it prints how many objects of each type it would add, change, delete.",
	  "ops            list of {method, params}",
	  "sswitchctl txn -f ops.json\n"
	  "sswitchctl txn --dry-run -f ops.json" },
	{ "show", "", "[eni NAME]",
	  "One summary of the switch: version, uptime, health findings, ports with\n"
	  "link and counters, then per ENI its VNET (and mapping count), port,\n"
	  "route group (and route count), ACL stages, flows, packets, rate limit\n"
	  "and RDMA policies; the RDMA policies; object counts per type. `show eni\n"
	  "NAME`: that ENI only.",
	  NULL,
	  "sswitchctl show\n"
	  "sswitchctl show eni vm1" },
	{ "schema", "", "[OBJECT]",
	  "From the daemon's schema.get: the object types its features added that\n"
	  "this manual does not describe (OBJECT VERB... lines), or with OBJECT the\n"
	  "field names of that type, one a line. Bash completion reads it.",
	  NULL,
	  "sswitchctl schema eni" },
	{ "call", "", "METHOD [JSON | key=value ...]",
	  "Send any method with raw params; prints the raw result as JSON.",
	  NULL,
	  "sswitchctl call vnet.add '{\"name\":\"v1\",\"vni\":100}'" },
};

#define NOBJECTS (sizeof(objects) / sizeof(objects[0]))

/* Whether `word` (normalised: lower case, '-' and ' ' as '_') names o. */
static bool matches(const struct obj_help *o, const char *word)
{
	char norm[64], cand[64];
	const char *p;
	size_t i;

	for (i = 0; word[i] != '\0' && i + 1 < sizeof(norm); i++)
		norm[i] = (word[i] == '-' || word[i] == ' ' || word[i] == '.') ? '_' :
			  (char)tolower((unsigned char)word[i]);
	norm[i] = '\0';
	for (i = 0; o->name[i] != '\0' && i + 1 < sizeof(cand); i++)
		cand[i] = (o->name[i] == '-' || o->name[i] == ' ') ? '_' : o->name[i];
	cand[i] = '\0';
	if (strcmp(norm, cand) == 0)
		return true;
	for (p = o->aliases; *p != '\0';) {
		size_t n = strcspn(p, " ");

		if (n > 0 && n == strlen(norm) && strncmp(p, norm, n) == 0)
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

static void print_extension_fields(FILE *out, const struct obj_help *o, int indent);

static void print_indented(FILE *out, const char *text, int indent)
{
	while (*text != '\0') {
		size_t n = strcspn(text, "\n");

		fprintf(out, "%*s%.*s\n", indent, "", (int)n, text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

static void print_object(FILE *out, const struct obj_help *o, int indent)
{
	if (o->verbs[0] == '(')   /* "(none)": a command of its own */
		fprintf(out, "%*s%s\n", indent, "", o->name);
	else
		fprintf(out, "%*s%s %s\n", indent, "", o->name, o->verbs);
	print_indented(out, o->summary, indent + 4);
	if (o->fields != NULL) {
		fprintf(out, "%*sFields:\n", indent + 4, "");
		print_indented(out, o->fields, indent + 6);
	}
	print_extension_fields(out, o, indent);
	if (o->example != NULL) {
		fprintf(out, "%*sExample:\n", indent + 4, "");
		print_indented(out, o->example, indent + 6);
	}
}

bool ss_help_object(const char *object, FILE *out)
{
	bool found = false;

	for (size_t i = 0; i < NOBJECTS; i++) {
		/* "rdma" shows every rdma object, "acl" both acl ones. */
		size_t n = strlen(object);
		bool prefix = strncmp(objects[i].name, object, n) == 0 &&
			      objects[i].name[n] == ' ';

		if (matches(&objects[i], object) || prefix) {
			if (found)
				fputc('\n', out);
			print_object(out, &objects[i], 0);
			found = true;
		}
	}
	if (found)
		fprintf(out, "\nSee `sswitchctl --help` for global options and docs/api.md "
			"for the complete API reference.\n");
	return found;
}

bool ss_help_knows(const char *object)
{
	for (size_t i = 0; i < NOBJECTS; i++)
		if (matches(&objects[i], object))
			return true;
	return false;
}

/* ---- help from the daemon's schema.get ------------------------------------- */

/* Object spelling -> type name comparison: spaces, '-' and '.' as '_'. */
static bool same_object(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = (*a == '-' || *a == ' ' || *a == '.') ? '_' : (char)tolower((unsigned char)*a);
		char y = (*b == '-' || *b == ' ' || *b == '.') ? '_' : *b;

		if (x != y)
			return false;
	}
	return *a == '\0' && *b == '\0';
}

static const json_t *schema_type(const char *object)
{
	const json_t *types = ss_schema_types();

	for (size_t i = 0; i < json_array_size(types); i++) {
		const json_t *t = json_array_get(types, i);
		const char *name = json_string_value(json_object_get(t, "name"));

		if (name != NULL && same_object(object, name))
			return t;
	}
	return NULL;
}

static json_int_t ival(const json_t *f, const char *key)
{
	return json_integer_value(json_object_get(f, key));
}

/* One field line in the manual's style: name, then what it takes. */
static void print_field(FILE *out, const json_t *f, int indent)
{
	const char *kind = json_string_value(json_object_get(f, "kind"));
	const char *ref = json_string_value(json_object_get(f, "ref"));
	const char *ext = json_string_value(json_object_get(f, "extension"));
	const json_t *dflt = json_object_get(f, "default"), *vals = json_object_get(f, "values");
	char what[256] = "", *d;

	if (kind == NULL)
		return;
	if (strcmp(kind, "name") == 0)
		snprintf(what, sizeof(what), ref ? "%s name" : "1-63 of A-Z a-z 0-9 _ . : -",
			 ref);
	else if (strcmp(kind, "ip") == 0)
		snprintf(what, sizeof(what), "IPv4 or IPv6 address");
	else if (strcmp(kind, "ip4") == 0 || strcmp(kind, "ip6") == 0)
		snprintf(what, sizeof(what), "IPv%c address", kind[2]);
	else if (strcmp(kind, "prefix") == 0)
		snprintf(what, sizeof(what), "IPv4 or IPv6 prefix");
	else if (strcmp(kind, "mac") == 0)
		snprintf(what, sizeof(what), "unicast MAC (aa:bb:cc:dd:ee:ff)");
	else if (strcmp(kind, "uint") == 0 || strcmp(kind, "vlan") == 0)
		snprintf(what, sizeof(what), "integer %lld-%lld", (long long)ival(f, "min"),
			 (long long)ival(f, "max"));
	else if (strcmp(kind, "real") == 0)
		snprintf(what, sizeof(what), "number %lld-%lld", (long long)ival(f, "min"),
			 (long long)ival(f, "max"));
	else if (strcmp(kind, "bool") == 0)
		snprintf(what, sizeof(what), "boolean");
	else if (strcmp(kind, "enum") == 0) {
		for (size_t i = 0; i < json_array_size(vals); i++) {
			size_t n = strlen(what);

			snprintf(what + n, sizeof(what) - n, "%s\"%s\"",
				 i == 0 ? "" : i + 1 == json_array_size(vals) ? " or " : ", ",
				 json_string_value(json_array_get(vals, i)));
		}
	} else if (strcmp(kind, "object") == 0)
		snprintf(what, sizeof(what), "object with the fields below");
	else
		snprintf(what, sizeof(what), "list of up to %lld %s%s%s",
			 (long long)ival(f, "max_entries"), ref ? ref : "",
			 ref ? " names" : strcmp(kind, "objects") == 0 ? "objects" : kind,
			 strcmp(kind, "objects") == 0 ? " with the fields below" : "");
	fprintf(out, "%*s%-14s %s", indent, "", json_string_value(json_object_get(f, "name")),
		what);
	if (json_is_true(json_object_get(f, "key")))
		fputs(" (key)", out);
	else if (json_is_true(json_object_get(f, "required")))
		fputs(" (required)", out);
	if (dflt != NULL && (d = json_dumps(dflt, JSON_ENCODE_ANY)) != NULL) {
		fprintf(out, ", default %s", d);
		free(d);
	}
	if (ref != NULL)
		fprintf(out, ", must exist");
	if (json_is_true(json_object_get(f, "nullable")))
		fputs(", null clears", out);
	if (ext != NULL)
		fprintf(out, " [%s]", ext);
	fputc('\n', out);
	for (size_t i = 0; i < json_array_size(json_object_get(f, "fields")); i++)
		print_field(out, json_array_get(json_object_get(f, "fields"), i), indent + 2);
}

bool ss_help_schema_object(const char *object, FILE *out)
{
	const json_t *t = schema_type(object), *verbs, *fields;
	const char *name, *filter;

	if (t == NULL)
		return false;
	name = json_string_value(json_object_get(t, "name"));
	verbs = json_object_get(t, "methods");
	fields = json_object_get(t, "fields");
	filter = json_string_value(json_object_get(t, "filter"));
	fprintf(out, "%s", name);
	for (size_t i = 0; i < json_array_size(verbs); i++) {
		const char *v = json_string_value(json_array_get(verbs, i));

		if (v != NULL && strcmp(v, "config") != 0)
			fprintf(out, " %s", v);
	}
	fprintf(out, "\n    Object type served by the daemon (from its schema.get).\n"
		"    Fields:\n");
	for (size_t i = 0; i < json_array_size(fields); i++)
		print_field(out, json_array_get(fields, i), 6);
	if (filter != NULL)
		fprintf(out, "      list filter: %s\n", filter);
	fprintf(out, "\nSee `sswitchctl --help` for global options and docs/api.md "
		"for the complete API reference.\n");
	return true;
}

/* Fields a feature added to a type the manual describes: from the schema. */
static void print_extension_fields(FILE *out, const struct obj_help *o, int indent)
{
	const json_t *t = schema_type(o->name), *fields;
	bool any = false;

	if (t == NULL)
		return;
	fields = json_object_get(t, "fields");
	for (size_t i = 0; i < json_array_size(fields); i++) {
		const json_t *f = json_array_get(fields, i);

		if (json_object_get(f, "extension") == NULL)
			continue;
		if (!any)
			fprintf(out, "%*sFields added by features:\n", indent + 4, "");
		any = true;
		print_field(out, f, indent + 6);
	}
}

void ss_usage_hint(FILE *out)
{
	fprintf(out, "Usage: sswitchctl [global options] OBJECT VERB [key=value ...]\n"
		"Try `sswitchctl --help` or `sswitchctl OBJECT --help`.\n");
}

void ss_help_main(FILE *out)
{
	fprintf(out,
"NAME\n"
"    sswitchctl - control the sswitch smart-switch data plane (sswitchd)\n"
"\n"
"SYNOPSIS\n"
"    sswitchctl [global options] OBJECT VERB [key=value ...] [--key value ...]\n"
"    sswitchctl [global options] call METHOD [JSON | key=value ...]\n"
"    sswitchctl [global options] txn [--dry-run] -f FILE\n"
"    sswitchctl [global options] state diff FILE\n"
"    sswitchctl [global options] show [eni NAME]\n"
"    sswitchctl [global options] stats [SCOPE] [--all] [--watch [--interval S]]\n"
"    sswitchctl [global options] stats clear [SCOPE]\n"
"    sswitchctl [global options] trace packet|start|get|stop [key=value ...]\n"
"    sswitchctl [global options] info | health | graph | state get\n"
"    sswitchctl OBJECT --help\n"
"\n"
"DESCRIPTION\n"
"    sswitchctl talks to sswitchd over its Unix control socket using the\n"
"    JSON-RPC 2.0 API described in docs/api.md. `OBJECT VERB` calls the method\n"
"    OBJECT.VERB: `eni add` is eni.add, `rdma policy add` is rdma.policy.add.\n"
"    Multi-word objects may be written with spaces, '_' or '-':\n"
"    `acl group add`, `acl_group add` and `acl-group add` are the same.\n"
"\n"
"    Arguments key=value become the method's params. A value is parsed as JSON\n"
"    when it is exactly one JSON value (numbers, true, false, null, \"quoted\n"
"    strings\", [lists], {objects}), otherwise it is taken as a string:\n"
"    vni=100 is a number, name=v1 and prefix=10.0.0.0/8 are strings, name='\"7\"'\n"
"    is the string \"7\". Dotted keys build nested objects and [N] indexes\n"
"    build lists: acl.outbound_v4='[\"g1\",\"g2\"]', match.dst_prefix=10.0.0.0/8,\n"
"    entries[0].ip=10.0.0.5. `--key value` and `--key=value` after the command\n"
"    are the same as key=value (mapping list --vnet v1).\n"
"\n"
"    Every add and delete also takes entries=[...] (or -f FILE) to change many\n"
"    objects in one transaction; a delete takes the key fields only. Adding an\n"
"    object identical to an existing one, and deleting an absent one, succeed.\n"
"    Every list takes limit=N, and the filter named in the object's fields.\n"
"\n"
"GLOBAL OPTIONS\n"
"    -s, --socket PATH   control socket of sswitchd (default: $SSWITCH_SOCKET,\n"
"                        else " SSCTL_DEFAULT_SOCKET ")\n"
"    -j, --json          print the raw JSON result (errors: the raw error\n"
"                        object on stdout as well)\n"
"    -f, --file FILE     read the params (a JSON object) from FILE, '-' for\n"
"                        stdin; key=value arguments are merged on top\n"
"    -t, --timeout SEC   give up waiting for a reply after SEC seconds\n"
"                        (default 30)\n"
"        --dry-run       txn: validate (method txn.check), apply nothing\n"
"    -a, --all           stats: show drop reasons that never fired\n"
"    -w, --watch         stats: refresh with live rates until Ctrl-C\n"
"    -i, --interval SEC  stats --watch: refresh period (default 1)\n"
"    -n, --count N       stats --watch: stop after N refreshes\n"
"    -h, --help          this manual; after an OBJECT, that object's fields\n"
"    -V, --version       print the version\n"
"\n"
"OBJECTS AND VERBS\n");
	for (size_t i = 0; i < NOBJECTS; i++) {
		print_object(out, &objects[i], 4);
		fputc('\n', out);
	}
	fprintf(out,
"OUTPUT\n"
"    Lists print as aligned tables with a header line (columns are the\n"
"    objects' fields), objects as `key  value` lines, mutating methods print\n"
"    nothing on success. The table layout is for people and may change;\n"
"    scripts use --json, whose output is the method's result exactly.\n"
"\n"
"EXAMPLES\n"
"    sswitchctl vnet add name=v1 vni=100 gateway_ip=10.0.0.1\n"
"    sswitchctl eni add name=e1 mac=02:00:00:00:01:01 vnet=v1 port=host0\n"
"    sswitchctl mapping add entries='[{\"vnet\":\"v1\",\"ip\":\"10.0.0.5\",\n"
"        \"underlay_ip\":\"198.51.100.7\",\"mac\":\"02:00:00:00:02:05\"}]'\n"
"    sswitchctl --json eni list | jq '.enis[].name'\n"
"    sswitchctl stats --watch\n"
"    sswitchctl state get > backup.json && sswitchctl txn -f backup.json\n"
"\n"
"ENVIRONMENT\n"
"    SSWITCH_SOCKET      control socket path when -s is not given\n"
"\n"
"EXIT STATUS\n"
"    0   success\n"
"    1   the daemon answered with an error (its code, message and the field\n"
"        it names are printed on stderr; 1006: not root nor in the daemon's\n"
"        control group)\n"
"    2   usage error: bad arguments, unknown object or verb, unreadable -f file\n"
"    3   connection error: sswitchd not running, permission denied, timeout,\n"
"        or a reply that does not follow the protocol\n"
"\n"
"FILES\n"
"    " SSCTL_DEFAULT_SOCKET "\n"
"        default control socket; mode 0660, owned by root and the control group\n"
"        of the daemon's config (control.group): members may use sswitchctl\n"
"        without root\n"
"    /etc/sswitch/sswitchd.conf\n"
"        the daemon's config (control.socket sets the socket path)\n"
"\n"
"SEE ALSO\n"
"    sswitchd(8), docs/api.md (the control API reference)\n");
}
