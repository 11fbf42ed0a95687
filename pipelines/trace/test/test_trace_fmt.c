/* SPDX-License-Identifier: BSD-3-Clause
 *
 * trace.packet's frame builder and the trace's header decoder
 * (pipelines/trace/trace_fmt.c), table-driven: each case is the `fields`
 * of a request; the frame built must pass the real parser (ss_parse:
 * checksums, lengths) with the addresses, ports and tags asked, and decode
 * back to them. Then the requests that must fail, each naming its field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "control/err.h"
#include "dataplane/port-t.h"
#include "pipelines/parse/parse.h"
#include "pipelines/trace/trace_fmt.h"

/* trace_fmt.c reads the port table (the default destination MAC) */
struct ss_port_table ss_ports;

struct build_case {
	const char *desc;
	const char *fields;   /* JSON */
	uint8_t l3;           /* enum ss_l3 */
	uint8_t proto;
	uint16_t sport, dport;
	uint16_t vlan;
	const char *src, *dst;  /* as the decoder prints them */
};

static const struct build_case builds[] = {
	{ "IPv4 UDP with defaults",
	  "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.2\",\"dst\":\"10.0.0.5\"}",
	  SS_L3_IPV4, 17, 1024, 80, 0, "10.0.0.2", "10.0.0.5" },
	{ "IPv4 TCP, VLAN 100",
	  "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.2\",\"dst\":\"10.9.1.1\","
	  "\"protocol\":\"tcp\",\"src_port\":40000,\"dst_port\":443,\"vlan\":100}",
	  SS_L3_IPV4, 6, 40000, 443, 100, "10.0.0.2", "10.9.1.1" },
	{ "IPv6 UDP",
	  "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"fd10::2\",\"dst\":\"fd10::5\","
	  "\"protocol\":17,\"dst_port\":4791,\"payload_len\":40}",
	  SS_L3_IPV6, 17, 1024, 4791, 0, "fd10::2", "fd10::5" },
	{ "a MAC with '-', upper case",
	  "{\"src_mac\":\"02-00-00-00-10-01\",\"src\":\"10.0.0.2\",\"dst\":\"10.0.0.5\"}",
	  SS_L3_IPV4, 17, 1024, 80, 0, "10.0.0.2", "10.0.0.5" },
	{ "ICMP echo (identifier = src_port)",
	  "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.2\",\"dst\":\"10.0.0.1\","
	  "\"protocol\":\"icmp\",\"src_port\":7}",
	  SS_L3_IPV4, 1, 7, 8 << 8, 0, "10.0.0.2", "10.0.0.1" },
	{ "ICMPv6 echo (icmp given for IPv6)",
	  "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"fd10::2\",\"dst\":\"fd10::1\","
	  "\"protocol\":\"icmp\",\"src_port\":9}",
	  SS_L3_IPV6, 58, 9, 128 << 8, 0, "fd10::2", "fd10::1" },
};

static void test_build_and_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(builds) / sizeof(builds[0]); i++) {
		const struct build_case *c = &builds[i];
		json_t *f = json_loads(c->fields, 0, NULL);
		uint8_t buf[2048];
		uint32_t len = 0;
		char err[256] = "";
		const char *field = NULL;
		struct ss_parsed p;
		struct ss_bth bth;

		assert_non_null(f);
		int rc = ss_trace_build_frame(f, 0, buf, sizeof(buf), &len, err, sizeof(err), &field);
		if (rc != 0)
			fail_msg("%s: %s", c->desc, err);
		assert_true(len >= 60);
		/* the dst_mac default: port 0's MAC */
		assert_memory_equal(buf, ss_ports.ports[0].mac.addr_bytes, 6);
		rc = ss_parse(buf, len, &p, &bth);
		if (rc != 0)
			fail_msg("%s: the parser refuses the built frame (%d)", c->desc, rc);
		assert_int_equal(p.outer.l3, c->l3);
		assert_int_equal(p.outer.proto, c->proto);
		assert_int_equal(p.outer.sport, c->sport);
		assert_int_equal(p.outer.dport, c->dport);
		assert_int_equal(p.outer.nb_vlans ? p.outer.vlan_tci & 0xfff : 0, c->vlan);

		json_t *h = ss_trace_headers(buf, len);
		json_t *ip = json_object_get(h, "ip");
		assert_string_equal(json_string_value(json_object_get(ip, "src")), c->src);
		assert_string_equal(json_string_value(json_object_get(ip, "dst")), c->dst);
		assert_string_equal(json_string_value(json_object_get(json_object_get(h, "eth"),
								      "src")), "02:00:00:00:10:01");
		json_decref(h);
		json_decref(f);
	}
}

struct bad_case {
	const char *fields;
	const char *field;
};

static const struct bad_case bads[] = {
	{ "[]", "fields" },
	{ "{\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\"}", "fields.src_mac" },
	{ "{\"src_mac\":\"zz\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\"}", "fields.src_mac" },
	{ "{\"src_mac\":\"02:00:00:00:10:0g\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\"}",
	  "fields.src_mac" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"dst\":\"10.0.0.2\"}", "fields.src" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.1\"}", "fields.dst" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.1\",\"dst\":\"fd00::1\"}",
	  "fields.dst" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\","
	  "\"protocol\":\"xtp\"}", "fields.protocol" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\","
	  "\"vlan\":4095}", "fields.vlan" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\","
	  "\"ttl\":-1}", "fields.ttl" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\","
	  "\"payload_len\":1400}", "fields.payload_len" },
	{ "{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.1\",\"dst\":\"10.0.0.2\","
	  "\"colour\":1}", "fields" },
};

static void test_bad_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		json_t *f = json_loads(bads[i].fields, JSON_DECODE_ANY, NULL);
		uint8_t buf[1024];   /* payload_len 1400 does not fit */
		uint32_t len;
		char err[256] = "";
		const char *field = NULL;

		assert_non_null(f);
		int rc = ss_trace_build_frame(f, 0, buf, sizeof(buf), &len, err, sizeof(err), &field);
		if (rc != SS_RPC_INVALID_PARAMS || field == NULL || strcmp(field, bads[i].field) != 0)
			fail_msg("%s: rc %d field %s (%s), expected %s", bads[i].fields, rc,
				 field ? field : "-", err, bads[i].field);
		assert_true(err[0] != '\0');
		json_decref(f);
	}
}

/* A truncated frame decodes as far as it goes, never further. */
static void test_headers_truncated(void **state)
{
	json_t *f = json_loads("{\"src_mac\":\"02:00:00:00:10:01\",\"src\":\"10.0.0.2\","
			       "\"dst\":\"10.0.0.5\",\"protocol\":\"tcp\"}", 0, NULL);
	uint8_t buf[256];
	uint32_t len;
	char err[128];
	const char *field;

	(void)state;
	assert_int_equal(ss_trace_build_frame(f, 0, buf, sizeof(buf), &len, err, sizeof(err),
					      &field), 0);
	for (uint32_t n = 0; n <= len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, buf, n);
		json_t *h = ss_trace_headers(cut, n);
		assert_non_null(h);
		if (n < 14)
			assert_null(json_object_get(h, "eth"));
		if (n < 34)
			assert_null(json_object_get(h, "ip"));
		if (n >= 38)
			assert_non_null(json_object_get(h, "tcp"));
		json_decref(h);
		free(cut);
	}
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_parse),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_headers_truncated),
	};

	ss_ports.nb_ports = 1;
	memcpy(ss_ports.ports[0].mac.addr_bytes, "\x02\x00\x00\x00\x00\x01", 6);
	snprintf(ss_ports.ports[0].name, sizeof(ss_ports.ports[0].name), "host0");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
