/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet trace, the control side: trace.packet, trace.start, trace.get,
 * trace.stop, the `trace` stats scope, and the path of a recorded packet as
 * JSON (docs/trace.md, docs/api.md "Packet trace").
 *
 * trace.packet hands one frame to worker 0 (the worker of rx queue 0 of
 * every port), which runs it through its own graph at the start of its
 * next walk as if port_rx had received it; the control thread waits for
 * the end of that walk (at most SS_TRACE_WAIT_MS) and formats the path.
 * One trace.packet is in flight at a time (the control thread is single).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "control/err.h"
#include "dataplane/feature.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "pipelines/drop/drop.h"
#include "pipelines/trace/trace_fmt.h"
#include "pipelines/trace/trace_int.h"

#define SS_TRACE_WAIT_MS 2000
#define SS_TRACE_FRAME_MAX 9216

static struct ss_ctl *trace_ctl;
static struct {
	uint64_t traces_run;
	uint64_t packets_traced;   /* trace.packet frames + live packets of earlier sessions
				    * (the current session's: live_taken()) */
	uint64_t base_run, base_traced;   /* stats.clear */
} cnt;
static json_t *live_filter_json;   /* trace.start's filter as given */
static uint64_t live_generation;

struct ss_ctl *ss_trace_ctl(void)
{
	return trace_ctl;
}

#define FAIL(code, field, ...)                                                                 \
	do {                                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                                            \
		*err_field = field;                                                            \
		return code;                                                                   \
	} while (0)

/* ---- a recorded path as JSON ------------------------------------------------- */

static json_t *node_name(uint16_t id)
{
	const char *n = rte_node_id_to_name(id);

	return n ? json_string(n) : json_sprintf("node%u", id);
}

static void describe_parse(const struct ss_trace_step *st, json_t *o)
{
	const struct ss_port *p = &ss_ports.ports[st->meta.in_port % SS_MAX_PORTS];

	json_object_set_new(o, "headers", ss_trace_headers(st->data, st->data_len));
	json_object_set_new(o, "role", json_string(ss_role_name(p->role)));
	if (p->peer != SS_PORT_NONE)
		json_object_set_new(o, "patch_to", ss_trace_port(p->peer));
}

/* The node the path ends at (port_tx, l2_patch, drop), from the last step. */
static json_t *terminal_json(const struct ss_trace_pkt *pk, const struct ss_trace_step *st,
			     json_t *res)
{
	const struct ss_meta *m = &st->meta;
	json_t *o = json_pack("{s:o}", "node", node_name(st->next_node));

	if (st->next_node == ss_trace_node_drop) {
		json_object_set_new(o, "reason", json_string(ss_drop_name(m->drop)));
		json_object_set_new(o, "by", node_name(st->node));
		json_object_set_new(res, "verdict", json_string("dropped"));
		json_object_set_new(res, "drop", json_pack("{s:s,s:o}", "reason",
			ss_drop_name(m->drop), "node", node_name(st->node)));
	} else if (st->next_node == ss_trace_node_tx) {
		const struct ss_port *p = &ss_ports.ports[m->out_port % SS_MAX_PORTS];
		uint32_t l2 = 14, l3;

		if (st->data_len >= 14 && (st->data[12] == 0x81 || st->data[12] == 0x88) &&
		    st->data[13] == 0x00)
			l2 += 4;
		l3 = st->pkt_len > l2 ? st->pkt_len - l2 : 0;
		json_object_set_new(o, "port", ss_trace_port(m->out_port));
		json_object_set_new(o, "queue", json_string(m->tx_class == SS_TX_LOSSLESS &&
			p->lossless_lane ? "lossless" : "default"));
		json_object_set_new(o, "mtu", json_integer(p->mtu));
		json_object_set_new(o, "l3_len", json_integer(l3));
		if (l3 > p->mtu) {
			json_object_set_new(o, "reason", json_string("mtu_exceeded"));
			json_object_set_new(res, "verdict", json_string("dropped"));
			json_object_set_new(res, "drop", json_pack("{s:s,s:s}", "reason",
				"mtu_exceeded", "node", "port_tx"));
		} else {
			json_object_set_new(res, "verdict", json_string("forwarded"));
			json_object_set_new(res, "out_port", ss_trace_port(m->out_port));
		}
		json_object_set_new(o, "transmitted", json_boolean(!pk->injected && l3 <= p->mtu));
		json_object_set_new(res, "output", ss_trace_headers(st->data, st->data_len));
		json_object_set_new(res, "output_len", json_integer(st->pkt_len));
	} else {
		uint16_t in = m->in_port % SS_MAX_PORTS;

		json_object_set_new(o, "port", ss_trace_port(ss_ports.ports[in].peer));
		json_object_set_new(o, "transmitted", json_boolean(!pk->injected));
		json_object_set_new(res, "verdict", json_string("forwarded"));
		json_object_set_new(res, "out_port", ss_trace_port(ss_ports.ports[in].peer));
	}
	return o;
}

static json_t *path_json(const struct ss_trace_pkt *pk)
{
	json_t *res = json_object(), *steps = json_array();
	const struct ss_trace_step *prev = NULL;

	json_object_set_new(res, "port", ss_trace_port(pk->in_port));
	json_object_set_new(res, "worker", json_integer(pk->worker));
	json_object_set_new(res, "injected", json_boolean(pk->injected));
	json_array_append_new(steps, json_pack("{s:s,s:o}", "node", "port_rx", "port",
					       ss_trace_port(pk->in_port)));
	for (uint16_t i = 0; i < pk->nb_steps; i++) {
		const struct ss_trace_step *st = &pk->step[i];
		json_t *o = json_pack("{s:o,s:o}", "node", node_name(st->node), "next",
				      node_name(st->next_node));
		struct ss_trace_describer *d =
			st->node < SS_TRACE_MAX_NODES ? ss_trace_by_node[st->node] : NULL;

		/* a node that moved the whole burst on without dispatching (a
		 * rate limiter with nothing to limit) shows as passed */
		if (prev != NULL && prev->next_node != st->node)
			json_array_append_new(steps, json_pack("{s:o,s:o,s:b}", "node",
				node_name(prev->next_node), "next", node_name(st->node), "passed",
				1));
		if (st->edge == 0)
			json_object_set_new(o, "drop", json_string(ss_drop_name(st->meta.drop)));
		if (st->node == ss_trace_node_parse)
			describe_parse(st, o);
		if (d != NULL && d->describe != NULL)
			d->describe(st, prev && prev->next_node == st->node ? prev : NULL, o);
		json_array_append_new(steps, o);
		prev = st;
	}
	if (prev != NULL && (prev->next_node == ss_trace_node_drop ||
			     prev->next_node == ss_trace_node_tx ||
			     prev->next_node == ss_trace_node_patch))
		json_array_append_new(steps, terminal_json(pk, prev, res));
	else
		json_object_set_new(res, "verdict", json_string(prev ? "consumed" : "unknown"));
	json_object_set_new(res, "steps", steps);
	if (pk->lost_steps)
		json_object_set_new(res, "lost_steps", json_integer(pk->lost_steps));
	json_object_set_new(res, "generation", json_integer((json_int_t)pk->generation));
	return res;
}

/* ---- setup --------------------------------------------------------------------- */

static int setup(char *err, size_t errlen)
{
	if (ss_workers.nb == 0) {
		snprintf(err, errlen, "trace: no worker runs the packet graph");
		return -1;
	}
	if (ss_trace_dp_setup(err, errlen) != 0)
		return -1;
	for (unsigned int i = 0; i < ss_workers.nb; i++) {
		struct ss_worker *w = ss_workers.w[i];

		if (ss_trace_wk[i].rx_node == NULL)
			ss_trace_wk[i].rx_node = rte_graph_node_get_by_name(w->graph_name, "port_rx");
		if (ss_trace_wk[i].rx_node == NULL) {
			snprintf(err, errlen, "trace: graph %s has no port_rx node", w->graph_name);
			return -1;
		}
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits, optionally separated by spaces, ':' or '-'. */
static int parse_hex(const char *s, uint8_t *buf, size_t cap, uint32_t *len)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v = hexval((unsigned char)*s);

		if (v < 0) {
			if ((*s == ' ' || *s == ':' || *s == '-' || *s == '\n') && hi < 0)
				continue;
			return -1;
		}
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap)
			return -1;
		buf[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return -1;
	*len = (uint32_t)n;
	return 0;
}

/* ---- trace.packet -------------------------------------------------------------- */

static int inject_and_wait(struct rte_mbuf *m, char *err, size_t errlen)
{
	struct ss_trace_wk *tw = &ss_trace_wk[0];
	struct ss_trace_pkt *pk = &ss_trace_slots[0];
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * SS_TRACE_WAIT_MS / 1000;
	int rc = 0;

	__atomic_store_n(&pk->state, SS_TRACE_FREE, __ATOMIC_RELAXED);
	__atomic_fetch_or(&ss_trace_armed, SS_TRACE_ARMED_PACKET, __ATOMIC_RELEASE);
	__atomic_store_n(&tw->inject, m, __ATOMIC_RELEASE);
	while (__atomic_load_n(&pk->state, __ATOMIC_ACQUIRE) != SS_TRACE_DONE) {
		if (rte_get_timer_cycles() > deadline) {
			struct rte_mbuf *back = __atomic_exchange_n(&tw->inject, NULL,
								    __ATOMIC_ACQUIRE);
			if (back != NULL)
				rte_pktmbuf_free(back);
			snprintf(err, errlen, "trace: worker 0 did not %s the frame within %d ms",
				 back ? "take" : "finish", SS_TRACE_WAIT_MS);
			rc = -1;
			break;
		}
		rte_delay_us_sleep(50);
	}
	if (rc == 0 || __atomic_load_n(&pk->state, __ATOMIC_ACQUIRE) != SS_TRACE_OPEN)
		__atomic_fetch_and(&ss_trace_armed, ~(uint32_t)SS_TRACE_ARMED_PACKET,
				   __ATOMIC_RELEASE);
	return rc;
}

static int m_packet(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		    char *err, size_t errlen, const char **err_field)
{
	static uint8_t frame[SS_TRACE_FRAME_MAX];
	const json_t *jport = json_object_get(params, "port");
	const json_t *jframe = json_object_get(params, "frame");
	const json_t *jfields = json_object_get(params, "fields");
	const char *key;
	json_t *v;
	uint32_t len = 0;
	uint16_t pi;
	int rc;

	(void)ctx;
	(void)ctl;
	if (!json_is_object(params))
		FAIL(SS_RPC_INVALID_PARAMS, NULL, "params: an object {port, frame | fields}");
	json_object_foreach((json_t *)(uintptr_t)params, key, v)
		if (strcmp(key, "port") && strcmp(key, "frame") && strcmp(key, "fields")) {
			snprintf(err, errlen, "%s: unknown field (trace.packet takes port, frame "
				 "or fields)", key);
			*err_field = "params";
			return SS_RPC_INVALID_PARAMS;
		}
	if (!json_is_string(jport))
		FAIL(SS_RPC_INVALID_PARAMS, "port", "port: required, the name of the ingress port");
	pi = ss_port_by_name(json_string_value(jport));
	if (pi == SS_PORT_NONE)
		FAIL(SS_ERR_NOT_FOUND, "port", "port: no port is named \"%s\"",
		     json_string_value(jport));
	if ((jframe == NULL) == (jfields == NULL))
		FAIL(SS_RPC_INVALID_PARAMS, "frame", "frame: give either frame (hex) or fields");
	if (jframe != NULL) {
		if (!json_is_string(jframe) ||
		    parse_hex(json_string_value(jframe), frame, sizeof(frame), &len) != 0)
			FAIL(SS_RPC_INVALID_PARAMS, "frame", "frame: hex digits (pairs, optionally "
			     "separated by spaces or ':'), at most %d bytes", SS_TRACE_FRAME_MAX);
		if (len < 14)
			FAIL(SS_RPC_INVALID_PARAMS, "frame", "frame: %u bytes, shorter than an "
			     "Ethernet header", len);
	} else {
		rc = ss_trace_build_frame(jfields, pi, frame, sizeof(frame), &len, err, errlen,
					  err_field);
		if (rc != 0)
			return rc;
	}
	if (setup(err, errlen) != 0) {
		*err_field = NULL;
		return SS_RPC_INTERNAL;
	}
	if (__atomic_load_n(&ss_trace_slots[0].state, __ATOMIC_ACQUIRE) == SS_TRACE_OPEN)
		FAIL(SS_ERR_IN_USE, NULL, "trace: the previous trace.packet frame is still in "
		     "the graph");

	struct rte_mbuf *m = rte_pktmbuf_alloc(ss_ports.ports[pi].pool);
	if (m == NULL)
		FAIL(SS_ERR_CAPACITY, NULL, "trace: port %s: no mbuf left in its pool",
		     ss_ports.ports[pi].name);
	if (rte_pktmbuf_tailroom(m) < len) {
		rte_pktmbuf_free(m);
		FAIL(SS_RPC_INVALID_PARAMS, "frame", "frame: %u bytes, more than port %s's mbufs "
		     "hold", len, ss_ports.ports[pi].name);
	}
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	memset(ss_meta(m), 0, sizeof(struct ss_meta));
	m->port = ss_ports.ports[pi].eth_id;
	m->ol_flags |= ss_trace_flag;
	*ss_trace_mbuf_field(m) = 0 | SS_TRACE_F_INJECTED;
	ss_trace_slots[0].generation = ss_ctl_generation(trace_ctl);
	if (inject_and_wait(m, err, errlen) != 0) {
		*err_field = NULL;
		return SS_RPC_INTERNAL;
	}
	*result = path_json(&ss_trace_slots[0]);
	json_object_set_new(*result, "input_len", json_integer(len));
	__atomic_store_n(&ss_trace_slots[0].state, SS_TRACE_FREE, __ATOMIC_RELEASE);
	cnt.traces_run++;
	cnt.packets_traced++;
	return 0;
}

/* ---- trace.start / get / stop ------------------------------------------------ */

static int filter_prefix(const json_t *v, const char *path, struct ss_trace_prefix *p,
			 char *err, size_t errlen, const char **err_field)
{
	const char *s = json_string_value(v);
	int fam, plen;

	if (s == NULL)
		FAIL(SS_RPC_INVALID_PARAMS, path, "%s: an address or prefix", path);
	if (strchr(s, '/') != NULL) {
		if (ss_trace_parse_prefix(s, &fam, p->addr, &plen) != 0)
			FAIL(SS_RPC_INVALID_PARAMS, path, "%s: \"%s\" is not a prefix (ADDR/LEN, "
			     "host bits clear)", path, s);
	} else {
		if (ss_trace_parse_ip(s, &fam, p->addr) != 0)
			FAIL(SS_RPC_INVALID_PARAMS, path, "%s: \"%s\" is not an address", path, s);
		plen = fam == 4 ? 32 : 128;
	}
	p->fam = (uint8_t)fam;
	p->len = (uint8_t)plen;
	return 0;
}

static int filter_parse(struct ss_ctl *ctl, const json_t *f, struct ss_trace_filter *out,
			char *err, size_t errlen, const char **err_field)
{
	const char *key;
	json_t *v;
	int rc;

	if (f == NULL)
		return 0;
	if (!json_is_object(f))
		FAIL(SS_RPC_INVALID_PARAMS, "filter", "filter: an object (src, dst, protocol, "
		     "src_port, dst_port, eni, mac, vni)");
	json_object_foreach((json_t *)(uintptr_t)f, key, v) {
		if (strcmp(key, "src") == 0 || strcmp(key, "dst") == 0) {
			bool src = key[0] == 's';
			rc = filter_prefix(v, src ? "filter.src" : "filter.dst",
					   src ? &out->src : &out->dst, err, errlen, err_field);
			if (rc != 0)
				return rc;
			out->has |= src ? SS_TF_SRC : SS_TF_DST;
		} else if (strcmp(key, "protocol") == 0) {
			if (ss_trace_proto_parse(v, &out->proto) != 0)
				FAIL(SS_RPC_INVALID_PARAMS, "filter.protocol", "filter.protocol: tcp, "
				     "udp, icmp, icmp6 or a number 0-255");
			out->has |= SS_TF_PROTO;
		} else if (strcmp(key, "src_port") == 0 || strcmp(key, "dst_port") == 0) {
			bool src = key[0] == 's';
			const char *path = src ? "filter.src_port" : "filter.dst_port";
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 65535)
				FAIL(SS_RPC_INVALID_PARAMS, path, "%s: an integer in [0, 65535]", path);
			if (src)
				out->sport = (uint16_t)json_integer_value(v);
			else
				out->dport = (uint16_t)json_integer_value(v);
			out->has |= src ? SS_TF_SPORT : SS_TF_DPORT;
		} else if (strcmp(key, "vni") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 0xffffff)
				FAIL(SS_RPC_INVALID_PARAMS, "filter.vni", "filter.vni: an integer in "
				     "[0, 16777215]");
			out->vni = (uint32_t)json_integer_value(v);
			out->has |= SS_TF_VNI;
		} else if (strcmp(key, "mac") == 0 || strcmp(key, "eni") == 0) {
			const char *s = json_string_value(v);
			const char *path = key[0] == 'm' ? "filter.mac" : "filter.eni";

			if (s == NULL)
				FAIL(SS_RPC_INVALID_PARAMS, path, "%s: a string", path);
			if (key[0] == 'e') {
				const json_t *eni = ss_ctl_store_get(ctl, "eni", s);
				if (eni == NULL)
					FAIL(SS_ERR_NOT_FOUND, "filter.eni", "filter.eni: no ENI "
					     "is named \"%s\"", s);
				s = json_string_value(json_object_get(eni, "mac"));
			}
			if (ss_trace_parse_mac(s, out->mac) != 0)
				FAIL(SS_RPC_INVALID_PARAMS, path, "%s: not a MAC address", path);
			out->has |= SS_TF_MAC;
		} else {
			snprintf(err, errlen, "filter.%s: unknown field (src, dst, protocol, "
				 "src_port, dst_port, eni, mac, vni)", key);
			*err_field = "filter";
			return SS_RPC_INVALID_PARAMS;
		}
	}
	return 0;
}

static uint32_t live_taken(void)
{
	uint32_t c = __atomic_load_n(&ss_trace_live.claimed, __ATOMIC_RELAXED);

	return c < ss_trace_live.count ? c : ss_trace_live.count;
}

static json_t *live_json(bool final)
{
	uint32_t taken = live_taken();
	json_t *pkts = json_array();
	uint32_t pending = 0;

	for (uint32_t i = 0; i < taken; i++) {
		struct ss_trace_pkt *pk = &ss_trace_slots[1 + i];
		uint32_t st = __atomic_load_n(&pk->state, __ATOMIC_ACQUIRE);

		/* after trace.stop's grace period nothing is written any more */
		if (st == SS_TRACE_DONE || (final && st == SS_TRACE_OPEN)) {
			pk->generation = live_generation;
			json_array_append_new(pkts, path_json(pk));
		} else {
			pending++;
		}
	}
	return json_pack("{s:b,s:i,s:i,s:i,s:O,s:o}", "active",
			 (__atomic_load_n(&ss_trace_armed, __ATOMIC_RELAXED) &
			  SS_TRACE_ARMED_LIVE) != 0,
			 "count", ss_trace_live.count, "taken", taken, "pending", pending, "filter",
			 live_filter_json ? live_filter_json : json_object(), "packets", pkts);
}

static void live_disarm(void)
{
	__atomic_fetch_and(&ss_trace_armed, ~(uint32_t)SS_TRACE_ARMED_LIVE, __ATOMIC_RELEASE);
	/* every worker finished the walk it was in: no slot is written, and
	 * the filter not read, after this */
	ss_workers_rcu_synchronize();
}

static int m_start(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		   char *err, size_t errlen, const char **err_field)
{
	struct ss_trace_filter f = { 0 };
	const json_t *v;
	const char *key;
	json_t *jv;
	long count = 10;
	int rc;

	(void)ctx;
	if (params != NULL && !json_is_object(params))
		FAIL(SS_RPC_INVALID_PARAMS, NULL, "params: an object {port, count, filter}");
	json_object_foreach((json_t *)(uintptr_t)params, key, jv)
		if (strcmp(key, "port") && strcmp(key, "count") && strcmp(key, "filter")) {
			snprintf(err, errlen, "%s: unknown field (trace.start takes port, count, "
				 "filter)", key);
			*err_field = "params";
			return SS_RPC_INVALID_PARAMS;
		}
	v = json_object_get(params, "port");
	if (v != NULL) {
		if (!json_is_string(v))
			FAIL(SS_RPC_INVALID_PARAMS, "port", "port: the name of an ingress port");
		f.port = ss_port_by_name(json_string_value(v));
		if (f.port == SS_PORT_NONE)
			FAIL(SS_ERR_NOT_FOUND, "port", "port: no port is named \"%s\"",
			     json_string_value(v));
		f.has |= SS_TF_PORT;
	}
	v = json_object_get(params, "count");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > SS_TRACE_LIVE_MAX)
			FAIL(SS_RPC_INVALID_PARAMS, "count", "count: an integer in [1, %d]",
			     SS_TRACE_LIVE_MAX);
		count = (long)json_integer_value(v);
	}
	rc = filter_parse(ctl, json_object_get(params, "filter"), &f, err, errlen, err_field);
	if (rc != 0)
		return rc;
	if (setup(err, errlen) != 0) {
		*err_field = NULL;
		return SS_RPC_INTERNAL;
	}
	live_disarm();
	cnt.packets_traced += live_taken();
	for (unsigned int i = 1; i < SS_TRACE_SLOTS; i++)
		__atomic_store_n(&ss_trace_slots[i].state, SS_TRACE_FREE, __ATOMIC_RELAXED);
	ss_trace_live.f = f;
	ss_trace_live.count = (uint32_t)count;
	__atomic_store_n(&ss_trace_live.claimed, 0, __ATOMIC_RELAXED);
	json_decref(live_filter_json);
	/* as given: the filter's fields, and the port */
	v = json_object_get(params, "filter");
	live_filter_json = v ? json_deep_copy(v) : json_object();
	if (json_object_get(params, "port"))
		json_object_set(live_filter_json, "port", json_object_get(params, "port"));
	live_generation = ss_ctl_generation(ctl);
	__atomic_fetch_or(&ss_trace_armed, SS_TRACE_ARMED_LIVE, __ATOMIC_RELEASE);
	cnt.traces_run++;
	*result = live_json(false);
	return 0;
}

static int m_get(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		 char *err, size_t errlen, const char **err_field)
{
	(void)ctx;
	(void)ctl;
	(void)params;
	(void)err;
	(void)errlen;
	(void)err_field;
	*result = live_json(!(__atomic_load_n(&ss_trace_armed, __ATOMIC_RELAXED) &
			      SS_TRACE_ARMED_LIVE));
	return 0;
}

static int m_stop(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		  char *err, size_t errlen, const char **err_field)
{
	(void)ctx;
	(void)ctl;
	(void)params;
	(void)err;
	(void)errlen;
	(void)err_field;
	live_disarm();
	*result = live_json(true);
	return 0;
}

/* ---- the feature ------------------------------------------------------------- */

static json_t *stats_get(void *ctx)
{
	(void)ctx;
	uint64_t traced = cnt.packets_traced + live_taken();

	return json_pack("{s:I,s:I}", "traces_run", (json_int_t)(cnt.traces_run - cnt.base_run),
			 "packets_traced", (json_int_t)(traced - cnt.base_traced));
}

static void stats_clear(void *ctx)
{
	(void)ctx;
	cnt.base_run = cnt.traces_run;
	cnt.base_traced = cnt.packets_traced + live_taken();
}

static int trace_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_stats stats = {
		.scope = "trace",
		.get = stats_get,
		.clear = stats_clear,
	};

	(void)cfg;
	trace_ctl = ctl;
	ss_trace_slots = rte_zmalloc("ss_trace", sizeof(*ss_trace_slots) * SS_TRACE_SLOTS,
				     RTE_CACHE_LINE_SIZE);
	if (ss_trace_slots == NULL) {
		snprintf(err, errlen, "cannot allocate the packet trace slots");
		return -1;
	}
	if (ss_ctl_register_method(ctl, "trace.packet", m_packet, NULL) != 0 ||
	    ss_ctl_register_method(ctl, "trace.start", m_start, NULL) != 0 ||
	    ss_ctl_register_method(ctl, "trace.get", m_get, NULL) != 0 ||
	    ss_ctl_register_method(ctl, "trace.stop", m_stop, NULL) != 0 ||
	    ss_ctl_register_stats(ctl, &stats) != 0) {
		snprintf(err, errlen, "cannot register the trace methods and stats");
		return -1;
	}
	return 0;
}

/* A live trace that has all its packets stops picking (the hook's cost
 * goes away without waiting for trace.stop); its results stay readable. */
static void trace_poll(void)
{
	if (!(__atomic_load_n(&ss_trace_armed, __ATOMIC_RELAXED) & SS_TRACE_ARMED_LIVE) ||
	    __atomic_load_n(&ss_trace_live.claimed, __ATOMIC_RELAXED) < ss_trace_live.count)
		return;
	for (uint32_t i = 0; i < ss_trace_live.count; i++)
		if (__atomic_load_n(&ss_trace_slots[1 + i].state, __ATOMIC_ACQUIRE) != SS_TRACE_DONE)
			return;
	__atomic_fetch_and(&ss_trace_armed, ~(uint32_t)SS_TRACE_ARMED_LIVE, __ATOMIC_RELEASE);
}

/* After the workers stopped. */
static void trace_fini(void)
{
	__atomic_store_n(&ss_trace_armed, 0, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < SS_MAX_WORKERS; i++) {
		struct rte_mbuf *m = __atomic_exchange_n(&ss_trace_wk[i].inject, NULL,
							 __ATOMIC_ACQUIRE);
		if (m != NULL)
			rte_pktmbuf_free(m);
	}
	rte_free(ss_trace_slots);
	ss_trace_slots = NULL;
	json_decref(live_filter_json);
	live_filter_json = NULL;
}

static struct ss_feature trace = {
	.name = "trace",
	.init = trace_init,
	.fini = trace_fini,
	.poll = trace_poll,
};
SS_FEATURE_REGISTER(trace);
