/* SPDX-License-Identifier: BSD-3-Clause
 *
 * `sswitchctl trace ...`: the packet trace (docs/trace.md) for people.
 *
 *   trace packet port=P (frame=HEX | src_mac=M src=IP dst=IP [protocol=..]
 *                [src_port=N] [dst_port=N] [vlan=N] [ttl=N] [dscp=N] ...)
 *   trace start [port=P] [count=N] [src=..] [dst=..] [protocol=..]
 *               [src_port=N] [dst_port=N] [eni=NAME] [mac=M] [vni=N]
 *   trace get | trace stop
 *
 * Each path prints as one line per node: the node, where it handed the
 * packet, and what it used (the step's keys, flattened); then the verdict.
 */
#include <string.h>

#include "sswitchctl.h"

/* The keys of `kv` that are not the method's own go into `sub`. */
static json_t *split_params(const json_t *kv, const char *const *own, const char *sub)
{
	json_t *params = json_object(), *inner = json_object();
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)kv, key, v) {
		bool mine = false;

		for (size_t i = 0; own[i] != NULL; i++)
			mine |= strcmp(own[i], key) == 0;
		json_object_set(mine ? params : inner, key, v);
	}
	if (json_object_size(inner) > 0 && json_object_get(params, sub) == NULL)
		json_object_set(params, sub, inner);
	json_decref(inner);
	return params;
}

/* "k=v k=v" of an object (nested keys joined by '.'), into f. */
static void flat(FILE *f, const char *prefix, const json_t *v, bool *first)
{
	const char *key;
	json_t *c;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, c) {
			char p[128];

			snprintf(p, sizeof(p), "%s%s%s", prefix, *prefix ? "." : "", key);
			flat(f, p, c, first);
		}
		return;
	}
	if (json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0))) {
		json_array_foreach(v, i, c) {
			char p[128];

			snprintf(p, sizeof(p), "%s[%zu]", prefix, i);
			flat(f, p, c, first);
		}
		return;
	}
	char *s = ss_format_value(v);
	fprintf(f, "%s%s=%s", *first ? "" : " ", prefix, s ? s : "?");
	*first = false;
	free(s);
}

/* One line for a frame's headers: MACs, addresses, ports, VXLAN, inner. */
static void headers_line(FILE *f, const json_t *h)
{
	const json_t *eth = json_object_get(h, "eth"), *ip = json_object_get(h, "ip");
	const char *l4n[] = { "tcp", "udp", "icmp", "icmp6" };

	if (eth != NULL) {
		fprintf(f, "%s > %s", json_string_value(json_object_get(eth, "src")),
			json_string_value(json_object_get(eth, "dst")));
		if (json_object_get(eth, "vlan"))
			fprintf(f, " vlan %lld",
				(long long)json_integer_value(json_object_get(eth, "vlan")));
	}
	if (ip != NULL)
		fprintf(f, "  %s > %s ttl %lld dscp %lld",
			json_string_value(json_object_get(ip, "src")),
			json_string_value(json_object_get(ip, "dst")),
			(long long)json_integer_value(json_object_get(ip, json_object_get(ip, "ttl")
								       ? "ttl" : "hop_limit")),
			(long long)json_integer_value(json_object_get(ip, "dscp")));
	else if (json_object_get(h, "arp"))
		fprintf(f, "  arp %s", json_string_value(json_object_get(
			json_object_get(h, "arp"), "op")));
	for (size_t i = 0; i < 4; i++) {
		const json_t *l4 = json_object_get(h, l4n[i]);

		if (l4 == NULL)
			continue;
		if (i < 2)
			fprintf(f, "  %s %lld > %lld", l4n[i],
				(long long)json_integer_value(json_object_get(l4, "sport")),
				(long long)json_integer_value(json_object_get(l4, "dport")));
		else
			fprintf(f, "  %s type %lld", l4n[i],
				(long long)json_integer_value(json_object_get(l4, "type")));
	}
	if (json_object_get(h, "vxlan"))
		fprintf(f, "  vxlan vni %lld", (long long)json_integer_value(
			json_object_get(json_object_get(h, "vxlan"), "vni")));
	if (json_object_get(h, "inner")) {
		fprintf(f, "\n  %-35s  inner ", "");
		headers_line(f, json_object_get(h, "inner"));
	}
}

static void render_path(FILE *f, const json_t *p)
{
	const json_t *steps = json_object_get(p, "steps"), *st;
	const char *verdict = json_string_value(json_object_get(p, "verdict"));
	size_t i;

	fprintf(f, "packet in on %s (worker %lld%s)\n",
		json_string_value(json_object_get(p, "port")),
		(long long)json_integer_value(json_object_get(p, "worker")),
		json_is_true(json_object_get(p, "injected")) ? ", traced frame" : ", live");
	json_array_foreach(steps, i, st) {
		const char *node = json_string_value(json_object_get(st, "node"));
		const char *next = json_string_value(json_object_get(st, "next"));
		const char *key;
		json_t *v;
		bool first;

		fprintf(f, "  %2zu %-14s", i + 1, node ? node : "?");
		if (next != NULL)
			fprintf(f, " -> %-14s", next);
		else
			fprintf(f, "    %-14s", "");
		int nkeys = 0;
		bool scalar_line = false;
		json_object_foreach((json_t *)st, key, v) {
			bool group = json_is_object(v) || !strcmp(key, "headers");

			if (!strcmp(key, "node") || !strcmp(key, "next"))
				continue;
			/* what the node used: scalars together, one line per object */
			if (nkeys++ > 0 && (group || !scalar_line))
				fprintf(f, "\n  %-35s", "");
			scalar_line = !group;
			fputc(' ', f);
			first = true;
			if (!strcmp(key, "headers")) {
				headers_line(f, v);
			} else if (json_is_object(v)) {
				fprintf(f, "%s: ", key);
				flat(f, "", v, &first);
			} else {
				flat(f, key, v, &first);
			}
		}
		fputc('\n', f);
	}
	if (verdict != NULL && strcmp(verdict, "dropped") == 0) {
		const json_t *d = json_object_get(p, "drop");
		fprintf(f, "  => DROPPED: %s (by %s)\n",
			json_string_value(json_object_get(d, "reason")),
			json_string_value(json_object_get(d, "node")));
	} else if (verdict != NULL && strcmp(verdict, "forwarded") == 0) {
		fprintf(f, "  => FORWARDED out of %s%s\n",
			json_string_value(json_object_get(p, "out_port")),
			json_is_true(json_object_get(p, "injected")) ? " (a traced frame: not "
								      "transmitted)" : "");
		if (json_object_get(p, "output")) {
			fprintf(f, "  %-35s  ", "out frame");
			headers_line(f, json_object_get(p, "output"));
			fputc('\n', f);
		}
	} else {
		fprintf(f, "  => %s\n", verdict ? verdict : "?");
	}
}

static void render_live(FILE *f, const json_t *r)
{
	const json_t *pkts = json_object_get(r, "packets"), *p;
	size_t i;

	fprintf(f, "live trace %s: %lld of %lld packets taken, %lld pending; filter ",
		json_is_true(json_object_get(r, "active")) ? "running" : "stopped",
		(long long)json_integer_value(json_object_get(r, "taken")),
		(long long)json_integer_value(json_object_get(r, "count")),
		(long long)json_integer_value(json_object_get(r, "pending")));
	char *fs = ss_format_value(json_object_get(r, "filter"));
	fprintf(f, "%s\n", fs ? fs : "{}");
	free(fs);
	json_array_foreach(pkts, i, p) {
		fputc('\n', f);
		render_path(f, p);
	}
}

void ss_help_trace(FILE *out)
{
	fputs("sswitchctl trace: follow a packet through the switch (docs/trace.md)\n"
	      "\n"
	      "  trace packet port=PORT frame=HEX\n"
	      "  trace packet port=PORT src_mac=MAC src=IP dst=IP [protocol=tcp|udp|icmp|N]\n"
	      "               [src_port=N] [dst_port=N] [dst_mac=MAC] [vlan=N] [ttl=N]\n"
	      "               [dscp=N] [tcp_flags=N] [payload_len=N]\n"
	      "      run one frame through the packet graph as if PORT received it; print\n"
	      "      every node, what it used (ENI, flow, ACL rule, route, mapping, encap,\n"
	      "      next hop) and where the packet ended. Nothing is transmitted.\n"
	      "  trace start [port=PORT] [count=N] [src=PREFIX] [dst=PREFIX] [protocol=P]\n"
	      "              [src_port=N] [dst_port=N] [eni=NAME] [mac=MAC] [vni=N]\n"
	      "      record the path of the next N (default 10, at most 64) live packets\n"
	      "      that match (on the tenant packet, the inner one of VXLAN)\n"
	      "  trace get     the live packets recorded so far\n"
	      "  trace stop    stop recording; print what was recorded\n"
	      "\n"
	      "--json prints the methods' results (trace.packet, trace.start, trace.get,\n"
	      "trace.stop; docs/api.md).\n", out);
}

int ss_cmd_trace(const char *const *words, int nwords, const json_t *kv, bool json,
		 const char *sock, double timeout_s)
{
	static const char *const own_packet[] = { "port", "frame", "fields", NULL };
	static const char *const own_start[] = { "port", "count", "filter", NULL };
	const char *verb = nwords > 0 ? words[0] : NULL;
	const char *method;
	json_t *params, *result = NULL;
	struct ss_rpc c;
	struct ss_rpc_error rerr;
	char err[1024];
	int rc;

	if (verb == NULL || nwords > 1) {
		fprintf(stderr, "sswitchctl: trace needs one verb: packet, start, get or stop\n");
		return SS_EXIT_USAGE;
	}
	if (strcmp(verb, "packet") == 0) {
		const json_t *fr = json_object_get(kv, "frame");

		if (fr != NULL && !json_is_string(fr)) {
			fprintf(stderr, "sswitchctl: frame= reads as a number: quote the hex "
				"digits (frame='\"0011...\"')\n");
			return SS_EXIT_USAGE;
		}
		method = "trace.packet";
		params = split_params(kv, own_packet, "fields");
	} else if (strcmp(verb, "start") == 0) {
		method = "trace.start";
		params = split_params(kv, own_start, "filter");
	} else if (strcmp(verb, "get") == 0 || strcmp(verb, "stop") == 0) {
		method = verb[0] == 'g' ? "trace.get" : "trace.stop";
		params = json_object();
	} else {
		fprintf(stderr, "sswitchctl: trace %s: unknown verb (packet, start, get, stop)\n",
			verb);
		return SS_EXIT_USAGE;
	}
	if (ss_rpc_connect(&c, sock, timeout_s, err, sizeof(err)) < 0) {
		fprintf(stderr, "sswitchctl: %s\n", err);
		json_decref(params);
		return SS_EXIT_CONN;
	}
	rc = ss_rpc_call(&c, method, params, &result, &rerr, err, sizeof(err));
	ss_rpc_close(&c);
	json_decref(params);
	if (rc < 0) {
		fprintf(stderr, "sswitchctl: %s\n", err);
		return SS_EXIT_CONN;
	}
	if (rc > 0) {
		const json_t *field = json_object_get(rerr.data, "field");

		fprintf(stderr, "sswitchctl: error %ld: %s\n", rerr.code, rerr.message);
		if (json_is_string(field))
			fprintf(stderr, "  field: %s\n", json_string_value(field));
		json_decref(rerr.data);
		return SS_EXIT_API;
	}
	if (json)
		json_dumpf(result, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER), fputc('\n', stdout);
	else if (strcmp(method, "trace.packet") == 0)
		render_path(stdout, result);
	else
		render_live(stdout, result);
	json_decref(result);
	return fflush(stdout) == 0 ? SS_EXIT_OK : SS_EXIT_CONN;
}
