/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet trace: frames as JSON (the headers of a recorded frame) and
 * frames from JSON (trace.packet `fields`). Control thread.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "control/err.h"
#include "dataplane/port-t.h"
#include "pipelines/parse/parse.h"
#include "pipelines/trace/trace_fmt.h"

json_t *ss_trace_ip(int fam, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(fam == 4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf)) == NULL)
		return json_null();
	return json_string(buf);
}

int ss_trace_parse_ip(const char *s, int *fam, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, addr) == 1) {
		*fam = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*fam = 6;
		return 0;
	}
	return -1;
}

int ss_trace_parse_prefix(const char *s, int *fam, uint8_t addr[16], int *plen)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char a[64], *end;
	long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(a))
		return -1;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	len = strtol(slash + 1, &end, 10);
	if (end == slash + 1 || *end != '\0' || ss_trace_parse_ip(a, fam, addr) != 0 ||
	    len < 0 || len > (*fam == 4 ? 32 : 128))
		return -1;
	for (int b = (int)len; b < (*fam == 4 ? 32 : 128); b++)
		if ((addr[b / 8] >> (7 - b % 8)) & 1)
			return -1;
	*plen = (int)len;
	return 0;
}

int ss_trace_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int v[6];
	char c[18], tail;

	/* "aa:bb:cc:dd:ee:ff", also '-' separated, any case (as the API) */
	if (s == NULL || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 17; i++) {
		c[i] = s[i] == '-' ? ':' : s[i];
		if (i % 3 == 2 ? c[i] != ':' : !isxdigit((unsigned char)c[i]))
			return -1;
	}
	c[17] = '\0';
	if (sscanf(c, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

json_t *ss_trace_mac(const uint8_t *mac)
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return json_string(buf);
}

json_t *ss_trace_port(uint16_t p)
{
	return p < ss_ports.nb_ports ? json_string(ss_ports.ports[p].name) : json_null();
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One Ethernet layer at `off`; returns the offset after its L4 header
 * (for a VXLAN payload) or 0 when there is no UDP payload to follow. */
static uint32_t layer_json(const uint8_t *d, uint32_t len, uint32_t off, json_t *o, int *vxlan)
{
	uint16_t et;
	json_t *eth;

	*vxlan = 0;
	if (off + 14 > len)
		return 0;
	eth = json_pack("{s:o,s:o}", "dst", ss_trace_mac(d + off), "src", ss_trace_mac(d + off + 6));
	et = rd16(d + off + 12);
	off += 14;
	while ((et == SS_ETHERTYPE_VLAN || et == SS_ETHERTYPE_QINQ) && off + 4 <= len) {
		json_object_set_new(eth, "vlan", json_integer(rd16(d + off) & 0x0fff));
		et = rd16(d + off + 2);
		off += 4;
	}
	json_object_set_new(eth, "type", json_sprintf("0x%04x", et));
	json_object_set_new(o, "eth", eth);

	int fam = 0;
	uint8_t proto = 0;
	uint32_t l4 = 0;
	if (et == SS_ETHERTYPE_IPV4 && off + 20 <= len) {
		const uint8_t *ip = d + off;
		fam = 4;
		proto = ip[9];
		l4 = off + (uint32_t)(ip[0] & 0xf) * 4;
		json_object_set_new(o, "ip", json_pack("{s:o,s:o,s:i,s:i,s:i,s:i,s:i}",
			"src", ss_trace_ip(4, ip + 12), "dst", ss_trace_ip(4, ip + 16),
			"proto", proto, "ttl", ip[8], "dscp", ip[1] >> 2, "ecn", ip[1] & 3,
			"len", rd16(ip + 2)));
		if ((rd16(ip + 6) & 0x3fff) != 0)
			json_object_set_new(json_object_get(o, "ip"), "fragment", json_true());
	} else if (et == SS_ETHERTYPE_IPV6 && off + 40 <= len) {
		const uint8_t *ip = d + off;
		uint32_t vtf = (uint32_t)rd16(ip) << 16 | rd16(ip + 2);
		fam = 6;
		proto = ip[6];
		l4 = off + 40;
		json_object_set_new(o, "ip", json_pack("{s:o,s:o,s:i,s:i,s:i,s:i,s:i}",
			"src", ss_trace_ip(6, ip + 8), "dst", ss_trace_ip(6, ip + 24),
			"proto", proto, "hop_limit", ip[7], "dscp", (vtf >> 22) & 0x3f,
			"ecn", (vtf >> 20) & 3, "flow_label", vtf & 0xfffff));
	} else if (et == SS_ETHERTYPE_ARP && off + 28 <= len) {
		const uint8_t *a = d + off;
		json_object_set_new(o, "arp", json_pack("{s:s,s:o,s:o,s:o}",
			"op", rd16(a + 6) == 1 ? "request" : rd16(a + 6) == 2 ? "reply" : "other",
			"sender_mac", ss_trace_mac(a + 8), "sender_ip", ss_trace_ip(4, a + 14),
			"target_ip", ss_trace_ip(4, a + 24)));
	}
	if (fam == 0 || l4 + 4 > len)
		return 0;
	if (proto == 6 || proto == 17) {
		json_object_set_new(o, proto == 6 ? "tcp" : "udp",
				    json_pack("{s:i,s:i}", "sport", rd16(d + l4), "dport",
					      rd16(d + l4 + 2)));
		if (proto == 6 && l4 + 14 <= len)
			json_object_set_new(json_object_get(o, "tcp"), "flags",
					    json_integer(d[l4 + 13]));
		if (proto == 17 && rd16(d + l4 + 2) == SS_UDP_PORT_VXLAN && l4 + 16 <= len) {
			const uint8_t *v = d + l4 + 8;
			json_object_set_new(o, "vxlan", json_pack("{s:i,s:i}", "flags", v[0], "vni",
								  (v[4] << 16) | (v[5] << 8) | v[6]));
			*vxlan = 1;
			return l4 + 16;
		}
	} else if (proto == 1 || proto == 58) {
		json_object_set_new(o, proto == 1 ? "icmp" : "icmp6",
				    json_pack("{s:i,s:i}", "type", d[l4], "code", d[l4 + 1]));
	}
	return 0;
}

json_t *ss_trace_headers(const uint8_t *data, uint32_t len)
{
	json_t *o = json_object();
	int vxlan;
	uint32_t in = layer_json(data, len, 0, o, &vxlan);

	if (vxlan && in < len) {
		json_t *inner = json_object();
		int v2;

		layer_json(data, len, in, inner, &v2);
		json_object_set_new(o, "inner", inner);
	}
	return o;
}

/* ---- trace.packet `fields` --------------------------------------------------- */

#define FAIL(code, field, ...)                                                                 \
	do {                                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                                            \
		*err_field = field;                                                            \
		return code;                                                                   \
	} while (0)

static int get_u(const json_t *f, const char *key, const char *path, unsigned long max,
		 unsigned long def, unsigned long *out, char *err, size_t errlen,
		 const char **err_field)
{
	const json_t *v = json_object_get(f, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long)json_integer_value(v) > max)
		FAIL(SS_RPC_INVALID_PARAMS, path, "%s: an integer in [0, %lu]", path, max);
	*out = (unsigned long)json_integer_value(v);
	return 0;
}

#define GET_U(key, max, def, out)                                                              \
	do {                                                                                   \
		int rc_ = get_u(f, key, "fields." key, max, def, out, err, errlen, err_field); \
		if (rc_ != 0)                                                                  \
			return rc_;                                                            \
	} while (0)

static int get_mac(const json_t *f, const char *key, const char *path, const uint8_t *def,
		   uint8_t *mac, char *err, size_t errlen, const char **err_field)
{
	const json_t *v = json_object_get(f, key);

	if (v == NULL) {
		if (def == NULL)
			FAIL(SS_RPC_INVALID_PARAMS, path, "%s: required (the frame's %s)", path,
			     strcmp(key, "src_mac") == 0 ? "source MAC" : "destination MAC");
		memcpy(mac, def, 6);
		return 0;
	}
	if (ss_trace_parse_mac(json_string_value(v), mac) != 0)
		FAIL(SS_RPC_INVALID_PARAMS, path, "%s: not a MAC address (aa:bb:cc:dd:ee:ff)", path);
	return 0;
}

struct trace_ip {
	int fam;
	uint8_t a[16];
};

static int get_ip(const json_t *f, const char *key, const char *path, struct trace_ip *ip,
		  char *err, size_t errlen, const char **err_field)
{
	const json_t *v = json_object_get(f, key);

	if (v == NULL)
		FAIL(SS_RPC_INVALID_PARAMS, path, "%s: required (an IPv4 or IPv6 address)", path);
	if (ss_trace_parse_ip(json_string_value(v), &ip->fam, ip->a) != 0)
		FAIL(SS_RPC_INVALID_PARAMS, path, "%s: not an IPv4 or IPv6 address", path);
	return 0;
}

int ss_trace_proto_parse(const json_t *v, uint8_t *proto)
{
	static const struct { const char *name; uint8_t num; } names[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmp6", 58 }, { "icmpv6", 58 },
	};

	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 255) {
		*proto = (uint8_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		for (size_t i = 0; i < RTE_DIM(names); i++)
			if (strcasecmp(json_string_value(v), names[i].name) == 0) {
				*proto = names[i].num;
				return 0;
			}
	return -1;
}

int ss_trace_build_frame(const json_t *f, uint16_t port, uint8_t *buf, size_t cap,
			 uint32_t *len, char *err, size_t errlen, const char **err_field)
{
	static const char *const known[] = { "src_mac", "dst_mac", "vlan", "src", "dst",
		"protocol", "src_port", "dst_port", "ttl", "dscp", "tcp_flags", "payload_len",
		NULL };
	uint8_t smac[6], dmac[6], proto = 17;
	unsigned long vlan, sport, dport, ttl, dscp, flags, plen;
	struct trace_ip src, dst;
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(f))
		FAIL(SS_RPC_INVALID_PARAMS, "fields", "fields: an object (src_mac, dst_mac, vlan, "
		     "src, dst, protocol, src_port, dst_port, ttl, dscp, tcp_flags, payload_len)");
	json_object_foreach((json_t *)(uintptr_t)f, key, v) {
		size_t i;
		for (i = 0; known[i] && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL) {
			snprintf(err, errlen, "fields.%s: unknown field", key);
			*err_field = "fields";
			return SS_RPC_INVALID_PARAMS;
		}
	}
	if ((rc = get_mac(f, "src_mac", "fields.src_mac", NULL, smac, err, errlen, err_field)) ||
	    (rc = get_mac(f, "dst_mac", "fields.dst_mac", ss_ports.ports[port].mac.addr_bytes,
			  dmac, err, errlen, err_field)) ||
	    (rc = get_ip(f, "src", "fields.src", &src, err, errlen, err_field)) ||
	    (rc = get_ip(f, "dst", "fields.dst", &dst, err, errlen, err_field)))
		return rc;
	if (src.fam != dst.fam)
		FAIL(SS_RPC_INVALID_PARAMS, "fields.dst", "fields.dst: not of the family of fields.src");
	v = json_object_get(f, "protocol");
	if (v != NULL && ss_trace_proto_parse(v, &proto) != 0)
		FAIL(SS_RPC_INVALID_PARAMS, "fields.protocol",
		     "fields.protocol: tcp, udp, icmp, icmp6 or a number 0-255");
	GET_U("vlan", 4094, 0, &vlan);
	GET_U("src_port", 65535, 1024, &sport);
	GET_U("dst_port", 65535, 80, &dport);
	GET_U("ttl", 255, 64, &ttl);
	GET_U("dscp", 63, 0, &dscp);
	GET_U("tcp_flags", 255, 0x02, &flags);
	GET_U("payload_len", 1400, 16, &plen);
	bool v6 = src.fam == 6;
	if (!v6 && proto == 58)
		proto = 1;
	if (v6 && proto == 1)
		proto = 58;
	uint32_t l4len = proto == 6 ? 20 : (proto == 17 || proto == 1 || proto == 58) ? 8 : 0;
	uint32_t l2 = 14 + (vlan ? 4 : 0), l3 = v6 ? 40 : 20;
	uint32_t total = l2 + l3 + l4len + (uint32_t)plen;
	if (total > cap)
		FAIL(SS_RPC_INVALID_PARAMS, "fields.payload_len", "fields.payload_len: the frame "
		     "would be %u bytes, more than %zu", total, cap);
	memset(buf, 0, total < 60 ? 60 : total);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	uint8_t *p = buf + 12;
	if (vlan) {
		*p++ = 0x81, *p++ = 0x00, *p++ = (uint8_t)(vlan >> 8), *p++ = (uint8_t)vlan;
	}
	*p++ = v6 ? 0x86 : 0x08, *p++ = v6 ? 0xdd : 0x00;
	uint8_t *ip = p, *l4 = p + l3;
	uint16_t ip_payload = (uint16_t)(l4len + plen);
	if (v6) {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)ip;
		h->vtc_flow = rte_cpu_to_be_32(6u << 28 | (uint32_t)dscp << 22);
		h->payload_len = rte_cpu_to_be_16(ip_payload);
		h->proto = proto;
		h->hop_limits = (uint8_t)ttl;
		memcpy(h->src_addr, src.a, 16);
		memcpy(h->dst_addr, dst.a, 16);
	} else {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;
		h->version_ihl = 0x45;
		h->type_of_service = (uint8_t)(dscp << 2);
		h->total_length = rte_cpu_to_be_16((uint16_t)(20 + ip_payload));
		h->time_to_live = (uint8_t)ttl;
		h->next_proto_id = proto;
		memcpy(&h->src_addr, src.a, 4);
		memcpy(&h->dst_addr, dst.a, 4);
		h->hdr_checksum = rte_ipv4_cksum(h);
	}
	if (proto == 6 || proto == 17) {
		l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
		if (proto == 6) {
			l4[12] = 5 << 4;
			l4[13] = (uint8_t)flags;
			l4[14] = 0xff, l4[15] = 0xff;
		} else {
			l4[4] = (uint8_t)(ip_payload >> 8), l4[5] = (uint8_t)ip_payload;
		}
		uint16_t ck = v6 ? rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)ip, l4)
				 : rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)ip, l4);
		memcpy(l4 + (proto == 6 ? 16 : 6), &ck, 2);
	} else if (proto == 1 || proto == 58) {
		/* echo request, identifier src_port */
		l4[0] = proto == 1 ? 8 : 128;
		l4[4] = (uint8_t)(sport >> 8), l4[5] = (uint8_t)sport;
		uint16_t ck = proto == 1 ? (uint16_t)~rte_raw_cksum(l4, ip_payload)
					 : rte_ipv6_udptcp_cksum((struct rte_ipv6_hdr *)ip, l4);
		memcpy(l4 + 2, &ck, 2);
	}
	*len = total < 60 ? 60 : total;
	return 0;
}
