/* SPDX-License-Identifier: BSD-3-Clause
 *
 * `sswitchctl show` and `sswitchctl show eni NAME`: one summary for people,
 * in the spirit of `ovs-vsctl show` and `vtysh show running-config`: the
 * daemon, its health, the ports with link and counters, then per ENI its
 * VNET, route group, ACL stages, mapping and flow counts, rate limit and
 * the RDMA policies steering to it; then the RDMA policies and how many
 * objects of every type the daemon holds (types features added included).
 * Built from read methods only (system.info, health.get, stats.get, the
 * object lists); --json prints the same data as one object.
 */
#include <stdlib.h>
#include <string.h>

#include "sswitchctl.h"

/* Lists counted up to this many objects (a million mappings are not
 * fetched to print one number). */
#define COUNT_CAP 100000

struct show {
	struct ss_rpc *c;
	char err[1024];
	int status;
};

/* One read call; NULL (and status set, message printed) on failure. A
 * method the daemon does not serve (a feature absent) is NULL quietly. */
static json_t *get(struct show *s, const char *method, json_t *params)
{
	struct ss_rpc_error rerr;
	json_t *result = NULL;
	int rc = ss_rpc_call(s->c, method, params, &result, &rerr, s->err, sizeof(s->err));

	json_decref(params);
	if (rc < 0) {
		fprintf(stderr, "sswitchctl: %s\n", s->err);
		s->status = SS_EXIT_CONN;
		return NULL;
	}
	if (rc > 0) {
		if (rerr.code != -32601 && rerr.code != 1005) {
			fprintf(stderr, "sswitchctl: %s: error %ld: %s\n", method, rerr.code,
				rerr.message);
			s->status = SS_EXIT_API;
		}
		json_decref(rerr.data);
		return NULL;
	}
	return result;
}

/* The rows of a list result ({"enis": [...]}), borrowed from it. */
static const json_t *rows_of(const json_t *result)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)result, k, v)
		if (json_is_array(v))
			return v;
	return NULL;
}

/* Number of objects a list returns (filter_key may be NULL); -1 unknown. */
static long long count(struct show *s, const char *method, const char *filter_key,
		       const char *filter_val)
{
	json_t *params = json_pack("{s:i}", "limit", COUNT_CAP);
	json_t *r;
	long long n;

	if (params != NULL && filter_key != NULL)
		json_object_set_new(params, filter_key, json_string(filter_val));
	r = get(s, method, params);
	n = r != NULL && rows_of(r) != NULL ? (long long)json_array_size(rows_of(r)) : -1;
	json_decref(r);
	return n;
}

static void count_text(char *buf, size_t len, long long n)
{
	if (n < 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%lld%s", n, n >= COUNT_CAP ? "+" : "");
}

static const char *str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "-";
}

static void header(struct show *s, const json_t *info, FILE *out)
{
	json_int_t up = json_integer_value(json_object_get(info, "uptime_s"));
	json_t *sw = get(s, "switch.get", NULL), *health = get(s, "health.get", NULL);
	const json_t *f;
	size_t i;

	char upt[64];

	if (up >= 86400)
		snprintf(upt, sizeof(upt), "%lldd %02lldh %02lldm", (long long)(up / 86400),
			 (long long)(up / 3600 % 24), (long long)(up / 60 % 60));
	else if (up >= 3600)
		snprintf(upt, sizeof(upt), "%lldh %02lldm %02llds", (long long)(up / 3600),
			 (long long)(up / 60 % 60), (long long)(up % 60));
	else
		snprintf(upt, sizeof(upt), "%lldm %02llds", (long long)(up / 60),
			 (long long)(up % 60));
	fprintf(out, "sswitchd %s (%s), up %s, %zu worker(s), state generation %"
		JSON_INTEGER_FORMAT "\n", str(info, "version"), str(info, "dpdk_version"), upt,
		json_is_array(json_object_get(info, "workers")) ?
			json_array_size(json_object_get(info, "workers")) :
			(size_t)json_integer_value(json_object_get(info, "workers")),
		json_integer_value(json_object_get(info, "generation")));
	fprintf(out, "switch: underlay_ip %s, underlay_ip6 %s, mac %s\n", str(sw, "underlay_ip"),
		str(sw, "underlay_ip6"), str(sw, "mac"));
	if (health != NULL) {
		bool ok = json_is_true(json_object_get(health, "healthy"));

		fprintf(out, "health: %s\n", ok ? "healthy" : "findings (sswitchctl health):");
		json_array_foreach(json_object_get(health, "findings"), i, f)
			fprintf(out, "  %s %s: %s\n", str(f, "finding"), str(f, "object"),
				str(f, "message"));
	}
	json_decref(sw);
	json_decref(health);
}

static void ports(const json_t *info, const json_t *stats, FILE *out)
{
	static const char *const titles[] = {
		"PORT", "ROLE", "LINK", "MTU", "MAC", "RX_PACKETS", "TX_PACKETS", "RX_DROPPED",
		"TX_DROPPED",
	};
	struct ss_table *t = ss_table_new(9, titles);
	const json_t *p;
	size_t i;

	if (t == NULL)
		return;
	fputs("\nPorts\n", out);
	json_array_foreach(json_object_get(info, "ports"), i, p) {
		const json_t *st = json_object_get(json_object_get(stats, "ports"), str(p, "name"));
		char b[5][48];
		const char *cells[9] = { str(p, "name"), str(p, "role"),
					 json_is_true(json_object_get(p, "link_up")) ? "up" : "down",
					 b[0], str(p, "mac"), b[1], b[2], b[3], b[4] };

		snprintf(b[0], sizeof(b[0]), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(p, "mtu")));
		ss_format_count(b[1], sizeof(b[1]), json_integer_value(json_object_get(st, "rx_packets")));
		ss_format_count(b[2], sizeof(b[2]), json_integer_value(json_object_get(st, "tx_packets")));
		ss_format_count(b[3], sizeof(b[3]), json_integer_value(json_object_get(st, "rx_dropped")));
		ss_format_count(b[4], sizeof(b[4]), json_integer_value(json_object_get(st, "tx_dropped")));
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

/* The ACL stages of an ENI: "outbound_v4 g1 g2; inbound_v4 g3". */
static void acl_text(const json_t *acl, char *buf, size_t len)
{
	const char *stage;
	json_t *groups;
	size_t pos = 0, i;
	const json_t *g;

	buf[0] = '\0';
	json_object_foreach((json_t *)acl, stage, groups) {
		if (json_array_size(groups) == 0)
			continue;
		pos += (size_t)snprintf(buf + pos, pos < len ? len - pos : 0, "%s%s", pos ? "; " : "",
					stage);
		json_array_foreach(groups, i, g)
			pos += (size_t)snprintf(buf + pos, pos < len ? len - pos : 0, " %s",
						json_string_value(g) ? json_string_value(g) : "?");
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

static void eni_block(struct show *s, const json_t *eni, const json_t *vnets, const json_t *stats,
		      const json_t *policies, FILE *out)
{
	const char *name = str(eni, "name"), *vnet = str(eni, "vnet");
	const json_t *st = json_object_get(json_object_get(stats, "eni"), name);
	const json_t *rl = json_object_get(json_object_get(stats, "rate_limit"), name);
	const json_t *v, *p;
	json_int_t vni = -1;
	char b[4][512];
	size_t i;

	json_array_foreach(vnets, i, v)
		if (strcmp(str(v, "name"), vnet) == 0)
			vni = json_integer_value(json_object_get(v, "vni"));
	fprintf(out, "\neni %s  mac %s  admin %s\n", name, str(eni, "mac"), str(eni, "admin_state"));
	count_text(b[0], sizeof(b[0]), count(s, "mapping.list", "vnet", vnet));
	fprintf(out, "  vnet         %s (vni %" JSON_INTEGER_FORMAT ", %s mappings)\n", vnet, vni,
		b[0]);
	if (json_object_get(eni, "port") != NULL) {
		char vlan[32] = "";

		if (json_is_integer(json_object_get(eni, "vlan")))
			snprintf(vlan, sizeof(vlan), " vlan %" JSON_INTEGER_FORMAT,
				 json_integer_value(json_object_get(eni, "vlan")));
		fprintf(out, "  port         %s%s\n", str(eni, "port"), vlan);
	}
	if (json_object_get(eni, "vm_underlay_ip") != NULL)
		fprintf(out, "  appliance    vm_underlay_ip %s vm_vni %" JSON_INTEGER_FORMAT "\n",
			str(eni, "vm_underlay_ip"),
			json_integer_value(json_object_get(eni, "vm_vni")));
	if (json_object_get(eni, "route_group") != NULL) {
		count_text(b[1], sizeof(b[1]),
			   count(s, "route.list", "group", str(eni, "route_group")));
		fprintf(out, "  route_group  %s (%s routes)\n", str(eni, "route_group"), b[1]);
	} else {
		fprintf(out, "  route_group  none (outbound packets: route_miss)\n");
	}
	count_text(b[2], sizeof(b[2]), count(s, "inbound_route.list", "eni", name));
	fprintf(out, "  inbound      %s inbound routes\n", b[2]);
	acl_text(json_object_get(eni, "acl"), b[3], sizeof(b[3]));
	fprintf(out, "  acl          %s\n", b[3]);
	if (st != NULL) {
		char c[5][48];

		ss_format_count(c[0], sizeof(c[0]), json_integer_value(json_object_get(st, "flows")));
		ss_format_count(c[1], sizeof(c[1]), json_integer_value(json_object_get(st, "rx_packets")));
		ss_format_count(c[2], sizeof(c[2]), json_integer_value(json_object_get(st, "tx_packets")));
		ss_format_count(c[3], sizeof(c[3]), json_integer_value(json_object_get(st, "acl_drops")));
		fprintf(out, "  flows        %s\n  packets      rx %s, tx %s, acl drops %s\n", c[0],
			c[1], c[2], c[3]);
	}
	if (rl != NULL)
		fprintf(out, "  rate_limit   %" JSON_INTEGER_FORMAT " pps, %" JSON_INTEGER_FORMAT
			" bps (dropped %" JSON_INTEGER_FORMAT ")\n",
			json_integer_value(json_object_get(rl, "rate_limit_pps")),
			json_integer_value(json_object_get(rl, "rate_limit_bps")),
			json_integer_value(json_object_get(rl, "dropped")));
	json_array_foreach(policies, i, p) {
		const json_t *act = json_object_get(p, "action");

		if (strcmp(str(act, "eni"), name) == 0)
			fprintf(out, "  rdma policy  %s (priority %" JSON_INTEGER_FORMAT ", port %s)\n",
				str(p, "name"), json_integer_value(json_object_get(p, "priority")),
				str(act, "port"));
	}
}

static void policies_table(const json_t *policies, FILE *out)
{
	static const char *const titles[] = {
		"POLICY", "PRIORITY", "MATCH", "PORT", "QUEUE", "ENI", "OFFLOADED", "PACKETS",
	};
	struct ss_table *t;
	const json_t *p;
	size_t i;

	if (json_array_size(policies) == 0)
		return;
	t = ss_table_new(8, titles);
	if (t == NULL)
		return;
	fputs("\nRDMA policies\n", out);
	json_array_foreach(policies, i, p) {
		const json_t *act = json_object_get(p, "action");
		char *match = ss_format_value(json_object_get(p, "match"));
		char b[2][48];
		const char *cells[8] = { str(p, "name"), b[0], match, str(act, "port"),
					 str(act, "queue"), str(act, "eni"),
					 json_is_true(json_object_get(p, "offloaded")) ? "yes" : "no",
					 b[1] };

		snprintf(b[0], sizeof(b[0]), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(p, "priority")));
		ss_format_count(b[1], sizeof(b[1]), json_integer_value(json_object_get(p, "packets")));
		ss_table_add(t, cells);
		free(match);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

/* How many objects of every listable type the daemon's schema names. */
static void objects_table(struct show *s, const json_t *schema, FILE *out)
{
	static const char *const titles[] = { "TYPE", "COUNT" };
	struct ss_table *t = ss_table_new(2, titles);
	const json_t *ty, *m;
	size_t i, j;

	if (t == NULL)
		return;
	fputs("\nObjects\n", out);
	json_array_foreach(json_object_get(schema, "types"), i, ty) {
		char method[160], n[32];
		bool list = false;

		json_array_foreach(json_object_get(ty, "methods"), j, m)
			list = list || strcmp(json_string_value(m) ?: "", "list") == 0;
		if (!list)
			continue;
		snprintf(method, sizeof(method), "%s.list", str(ty, "name"));
		count_text(n, sizeof(n), count(s, method, NULL, NULL));
		const char *cells[2] = { str(ty, "name"), n };
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

int ss_show(struct ss_rpc *c, const char *const *words, int nwords, FILE *out)
{
	struct show s = { .c = c, .status = SS_EXIT_OK };
	const char *only = NULL;
	json_t *info, *stats, *enis, *vnets, *pols, *schema;
	const json_t *e;
	size_t i;
	bool found = false;

	if (nwords == 2 && strcmp(words[0], "eni") == 0) {
		only = words[1];
	} else if (nwords > 0) {
		fprintf(stderr, "sswitchctl: show takes nothing or `eni NAME`, not '%s'\n", words[0]);
		ss_usage_hint(stderr);
		return SS_EXIT_USAGE;
	}
	info = get(&s, "system.info", NULL);
	if (info == NULL)
		return s.status != SS_EXIT_OK ? s.status : SS_EXIT_API;
	stats = get(&s, "stats.get", json_pack("{s:s}", "scope", "all"));
	enis = get(&s, "eni.list", NULL);
	vnets = get(&s, "vnet.list", NULL);
	pols = get(&s, "rdma.policy.list", NULL);
	schema = only == NULL ? get(&s, "schema.get", NULL) : NULL;
	if (only == NULL) {
		header(&s, info, out);
		ports(info, stats, out);
		fputs("\nENIs", out);
		if (json_array_size(rows_of(enis)) == 0)
			fputs("\n(none)\n", out);
	}
	json_t *sorted = ss_rows_sorted(rows_of(enis) ? rows_of(enis) : json_array(),
					(const char *const[]){ "name", NULL });
	json_array_foreach(sorted, i, e) {
		if (only != NULL && strcmp(str(e, "name"), only) != 0)
			continue;
		found = true;
		eni_block(&s, e, rows_of(vnets), stats, rows_of(pols), out);
	}
	json_decref(sorted);
	if (only != NULL && !found) {
		fprintf(stderr, "sswitchctl: show: eni %s not found\n", only);
		s.status = SS_EXIT_API;
	}
	if (only == NULL) {
		policies_table(rows_of(pols), out);
		if (schema != NULL)
			objects_table(&s, schema, out);
	}
	json_decref(info);
	json_decref(stats);
	json_decref(enis);
	json_decref(vnets);
	json_decref(pols);
	json_decref(schema);
	return s.status;
}
