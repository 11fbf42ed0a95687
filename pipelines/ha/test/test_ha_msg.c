/* SPDX-License-Identifier: BSD-3-Clause
 *
 * HA channel messages (ha_msg.c): every type encoded and decoded back, the
 * wire layout checked byte by byte against ha_msg.h independently of the
 * encoder, every prefix of a message reported incomplete (never an error,
 * never a read past it), and every malformed message refused with the
 * error its reason calls for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipelines/ha/ha_msg.h"

static struct ss_ha_flow sample_flow(int v6)
{
	struct ss_ha_flow f = { .proto = 6, .v6 = (uint8_t)v6, .init_dir = 1, .init_side = 1,
				.tcp = 0x05, .pa = 40000, .pb = 443, .idle_ms = 1234,
				.fin_age_ms = SS_HA_NO_FIN };

	if (v6) {
		for (int i = 0; i < 16; i++) {
			f.a[i] = (uint8_t)(0x20 + i);
			f.b[i] = (uint8_t)(0x30 + i);
		}
	} else {
		memcpy(f.a, (uint8_t[]){ 10, 0, 0, 1 }, 4);
		memcpy(f.b, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	}
	strcpy(f.eni, "eni-vm1");
	return f;
}

/* Each decode of a whole message must consume exactly it; each shorter
 * prefix must ask for more (copied into a buffer of its own size, so ASan
 * sees a read past it). */
static void decode_whole(const uint8_t *buf, size_t len, struct ss_ha_msg *m)
{
	const char *why;

	for (size_t k = 0; k < len; k++) {
		uint8_t *p = malloc(k ? k : 1);

		memcpy(p, buf, k);
		assert_int_equal(ss_ha_msg_decode(p, k, m, &why), 0);
		free(p);
	}
	assert_int_equal(ss_ha_msg_decode(buf, len, m, &why), (int)len);
	assert_null(why);
}

static void test_layout(void **state)
{
	uint8_t buf[SS_HA_MSG_MAX];
	struct ss_ha_flow f = sample_flow(0);
	size_t n = ss_ha_encode_flow(buf, SS_HA_FLOW, 0x01020304, 0x0a0b0c0d, &f);

	(void)state;
	assert_int_equal(n, SS_HA_HDR_LEN + SS_HA_FLOW_FIXED + 7);
	assert_memory_equal(buf, ((uint8_t[]){ 0, 0, 0, (uint8_t)n, SS_HA_VERSION, SS_HA_FLOW, 0,
					       0, 1, 2, 3, 4, 10, 11, 12, 13 }), 16);
	/* proto, family, dir, side, tcp, name length, pa, pb, pad, idle, fin age */
	assert_memory_equal(buf + 16, ((uint8_t[]){ 6, 4, 1, 1, 5, 7, 0x9c, 0x40, 0x01, 0xbb, 0,
						    0, 0, 0, 0x04, 0xd2, 0xff, 0xff, 0xff,
						    0xff }), 20);
	assert_memory_equal(buf + 36, ((uint8_t[]){ 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						    0, 10, 0, 0, 2 }), 20);
	assert_memory_equal(buf + 68, "eni-vm1", 7);
}

static void test_round_trips(void **state)
{
	uint8_t buf[SS_HA_MSG_MAX];
	struct ss_ha_msg m;
	size_t n;

	(void)state;
	n = ss_ha_encode_hello(buf, 77, SS_HA_ROLE_STANDBY);
	decode_whole(buf, n, &m);
	assert_int_equal(m.h.type, SS_HA_HELLO);
	assert_int_equal(m.h.ack, 77);
	assert_int_equal(m.h.seq, 0);
	assert_int_equal(m.u.role, SS_HA_ROLE_STANDBY);

	n = ss_ha_encode_heartbeat(buf, 0xfffffffe);
	decode_whole(buf, n, &m);
	assert_int_equal(m.h.type, SS_HA_HEARTBEAT);
	assert_int_equal(m.h.ack, 0xfffffffe);

	for (uint8_t t = SS_HA_BULK_BEGIN; t <= SS_HA_BULK_END; t += 3) {
		n = ss_ha_encode_bulk(buf, t, 5, 4, 100000);
		decode_whole(buf, n, &m);
		assert_int_equal(m.h.type, t);
		assert_int_equal(m.h.seq, 5);
		assert_int_equal(m.u.flows, 100000);
	}
	for (int v6 = 0; v6 <= 1; v6++)
		for (uint8_t t = SS_HA_FLOW; t <= SS_HA_FLOW_DEL; t++) {
			struct ss_ha_flow f = sample_flow(v6);

			n = ss_ha_encode_flow(buf, t, 9, 3, &f);
			decode_whole(buf, n, &m);
			assert_int_equal(m.h.type, t);
			assert_int_equal(m.h.seq, 9);
			assert_memory_equal(&m.u.flow, &f, sizeof(f));
		}
	/* the longest name */
	struct ss_ha_flow f = sample_flow(1);

	memset(f.eni, 'e', SS_HA_NAME_MAX);
	f.eni[SS_HA_NAME_MAX] = '\0';
	n = ss_ha_encode_flow(buf, SS_HA_FLOW, 1, 0, &f);
	assert_int_equal(n, SS_HA_HDR_LEN + SS_HA_FLOW_FIXED + SS_HA_NAME_MAX);
	decode_whole(buf, n, &m);
	assert_string_equal(m.u.flow.eni, f.eni);
	assert_string_equal(ss_ha_type_name(SS_HA_FLOW_DEL), "flow_del");
	assert_string_equal(ss_ha_type_name(200), "unknown");
}

/* Two messages back to back: the first is decoded alone. */
static void test_stream(void **state)
{
	uint8_t buf[2 * SS_HA_MSG_MAX];
	struct ss_ha_flow f = sample_flow(0);
	struct ss_ha_msg m;
	const char *why;
	size_t n1 = ss_ha_encode_heartbeat(buf, 1);
	size_t n2 = ss_ha_encode_flow(buf + n1, SS_HA_FLOW, 2, 1, &f);

	(void)state;
	assert_int_equal(ss_ha_msg_decode(buf, n1 + n2, &m, &why), (int)n1);
	assert_int_equal(ss_ha_msg_decode(buf + n1, n2, &m, &why), (int)n2);
}

struct bad_case {
	const char *what;
	void (*mutate)(uint8_t *buf, size_t *len);
	int expect;
};

static void m_len_short(uint8_t *b, size_t *n) { (void)n; b[3] = 15; }
static void m_len_long(uint8_t *b, size_t *n) { (void)n; b[2] = 0x10; }
static void m_len_huge(uint8_t *b, size_t *n) { (void)n; b[0] = 0xff; }
static void m_version(uint8_t *b, size_t *n) { (void)n; b[4] = 1; }
static void m_version0(uint8_t *b, size_t *n) { (void)n; b[4] = 0; }
static void m_type0(uint8_t *b, size_t *n) { (void)n; b[5] = 0; }
static void m_type_ext(uint8_t *b, size_t *n) { (void)n; b[5] = 18; }
static void m_type_ff(uint8_t *b, size_t *n) { (void)n; b[5] = 0xff; }
static void m_flags(uint8_t *b, size_t *n) { (void)n; b[7] = 1; }
static void m_seq0(uint8_t *b, size_t *n) { (void)n; memset(b + 8, 0, 4); }
static void m_family(uint8_t *b, size_t *n) { (void)n; b[17] = 5; }
static void m_dir(uint8_t *b, size_t *n) { (void)n; b[18] = 2; }
static void m_side(uint8_t *b, size_t *n) { (void)n; b[19] = 7; }
static void m_tcp(uint8_t *b, size_t *n) { (void)n; b[20] = 0x40; }
static void m_namelen0(uint8_t *b, size_t *n) { (void)n; b[21] = 0; }
static void m_namelen64(uint8_t *b, size_t *n) { (void)n; b[21] = 64; }
static void m_namelen_mismatch(uint8_t *b, size_t *n) { (void)n; b[21] = 6; }
static void m_pad(uint8_t *b, size_t *n) { (void)n; b[27] = 1; }
static void m_v4_tail(uint8_t *b, size_t *n) { (void)n; b[36 + 10] = 1; }
static void m_v4_tail_b(uint8_t *b, size_t *n) { (void)n; b[52 + 15] = 1; }
static void m_name_nul(uint8_t *b, size_t *n) { (void)n; b[70] = 0; }

/* shorten the body: the header's length follows, the body no longer fits */
static void m_truncated_body(uint8_t *b, size_t *n)
{
	*n = SS_HA_HDR_LEN + 40;
	b[3] = (uint8_t)*n;
}

static void test_malformed_flow(void **state)
{
	static const struct bad_case cases[] = {
		{ "length below the header", m_len_short, SS_HA_E_MALFORMED },
		{ "length above the maximum", m_len_long, SS_HA_E_MALFORMED },
		{ "length 4 GB", m_len_huge, SS_HA_E_MALFORMED },
		{ "version 1 (before LB sessions)", m_version, SS_HA_E_VERSION },
		{ "version 0", m_version0, SS_HA_E_VERSION },
		{ "type 0", m_type0, SS_HA_E_MALFORMED },
		{ "a reserved feature type not assigned", m_type_ext, SS_HA_E_MALFORMED },
		{ "type 255", m_type_ff, SS_HA_E_MALFORMED },
		{ "flags", m_flags, SS_HA_E_MALFORMED },
		{ "no sequence number", m_seq0, SS_HA_E_MALFORMED },
		{ "family 5", m_family, SS_HA_E_MALFORMED },
		{ "direction 2", m_dir, SS_HA_E_MALFORMED },
		{ "side 7", m_side, SS_HA_E_MALFORMED },
		{ "TCP bits", m_tcp, SS_HA_E_MALFORMED },
		{ "empty ENI name", m_namelen0, SS_HA_E_MALFORMED },
		{ "ENI name of 64", m_namelen64, SS_HA_E_MALFORMED },
		{ "name length and message length disagree", m_namelen_mismatch,
		  SS_HA_E_MALFORMED },
		{ "pad", m_pad, SS_HA_E_MALFORMED },
		{ "IPv4 a with more than 4 bytes", m_v4_tail, SS_HA_E_MALFORMED },
		{ "IPv4 b with more than 4 bytes", m_v4_tail_b, SS_HA_E_MALFORMED },
		{ "NUL in the name", m_name_nul, SS_HA_E_MALFORMED },
		{ "body shorter than a flow", m_truncated_body, SS_HA_E_MALFORMED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[SS_HA_MSG_MAX + 16];
		struct ss_ha_flow f = sample_flow(0);
		struct ss_ha_msg m;
		const char *why = NULL;
		size_t n = ss_ha_encode_flow(buf, SS_HA_FLOW, 1, 0, &f);
		int rc;

		cases[i].mutate(buf, &n);
		rc = ss_ha_msg_decode(buf, n, &m, &why);
		if (rc != cases[i].expect)
			fail_msg("%s: got %d, expected %d", cases[i].what, rc, cases[i].expect);
		assert_non_null(why);
	}
}

static struct ss_ha_lb sample_lb(int v6)
{
	struct ss_ha_lb l = { .proto = 6, .v6 = (uint8_t)v6, .sport = 40000, .dport = 80 };

	if (v6) {
		for (int i = 0; i < 16; i++) {
			l.src[i] = (uint8_t)(0x20 + i);
			l.vip[i] = (uint8_t)(0x30 + i);
			l.backend[i] = (uint8_t)(0x40 + i);
		}
	} else {
		memcpy(l.src, (uint8_t[]){ 10, 0, 0, 1 }, 4);
		memcpy(l.vip, (uint8_t[]){ 10, 0, 0, 100 }, 4);
		memcpy(l.backend, (uint8_t[]){ 10, 1, 0, 5 }, 4);
	}
	strcpy(l.lb, "web");
	strcpy(l.eni, "eni-vm1");
	return l;
}

static void test_lb_layout(void **state)
{
	uint8_t buf[SS_HA_MSG_MAX];
	struct ss_ha_lb l = sample_lb(0);
	size_t n = ss_ha_encode_lb(buf, SS_HA_LB_SESS, 7, 6, &l);

	(void)state;
	assert_int_equal(n, SS_HA_HDR_LEN + SS_HA_LB_FIXED + 3 + 7);
	assert_memory_equal(buf, ((uint8_t[]){ 0, 0, 0, (uint8_t)n, SS_HA_VERSION, SS_HA_LB_SESS,
					       0, 0, 0, 0, 0, 7, 0, 0, 0, 6 }), 16);
	/* proto, family, LB name length, ENI name length, sport, dport */
	assert_memory_equal(buf + 16, ((uint8_t[]){ 6, 4, 3, 7, 0x9c, 0x40, 0, 80 }), 8);
	assert_memory_equal(buf + 24, ((uint8_t[]){ 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						    0 }), 16);
	assert_memory_equal(buf + 40, ((uint8_t[]){ 10, 0, 0, 100 }), 4);
	assert_memory_equal(buf + 56, ((uint8_t[]){ 10, 1, 0, 5 }), 4);
	assert_memory_equal(buf + 72, "webeni-vm1", 10);
	assert_string_equal(ss_ha_type_name(SS_HA_LB_SESS), "lb_sess");
	assert_string_equal(ss_ha_type_name(SS_HA_LB_SESS_DEL), "lb_sess_del");
}

static void test_lb_round_trips(void **state)
{
	uint8_t buf[SS_HA_MSG_MAX];
	struct ss_ha_msg m;
	size_t n;

	(void)state;
	for (int v6 = 0; v6 <= 1; v6++)
		for (uint8_t t = SS_HA_LB_SESS; t <= SS_HA_LB_SESS_DEL; t++) {
			struct ss_ha_lb l = sample_lb(v6);

			l.proto = v6 ? 17 : 6;
			n = ss_ha_encode_lb(buf, t, 11, 2, &l);
			decode_whole(buf, n, &m);
			assert_int_equal(m.h.type, t);
			assert_int_equal(m.h.seq, 11);
			assert_memory_equal(&m.u.lb, &l, sizeof(l));
		}
	/* the longest names: the longest message */
	struct ss_ha_lb l = sample_lb(1);

	memset(l.lb, 'l', SS_HA_NAME_MAX);
	l.lb[SS_HA_NAME_MAX] = '\0';
	memset(l.eni, 'e', SS_HA_NAME_MAX);
	l.eni[SS_HA_NAME_MAX] = '\0';
	n = ss_ha_encode_lb(buf, SS_HA_LB_SESS, 1, 0, &l);
	assert_int_equal(n, SS_HA_MSG_MAX);
	decode_whole(buf, n, &m);
	assert_string_equal(m.u.lb.lb, l.lb);
	assert_string_equal(m.u.lb.eni, l.eni);
}

/* sample_lb(0): LB name "web" at 72, ENI name "eni-vm1" at 75 */
static void l_len_long(uint8_t *b, size_t *n) { (void)n; b[2] = 0x10; }
static void l_seq0(uint8_t *b, size_t *n) { (void)n; memset(b + 8, 0, 4); }
static void l_proto(uint8_t *b, size_t *n) { (void)n; b[16] = 1; }
static void l_family(uint8_t *b, size_t *n) { (void)n; b[17] = 0; }
static void l_lblen0(uint8_t *b, size_t *n) { (void)n; b[18] = 0; }
static void l_lblen64(uint8_t *b, size_t *n) { (void)n; b[18] = 64; }
static void l_enilen0(uint8_t *b, size_t *n) { (void)n; b[19] = 0; }
static void l_enilen64(uint8_t *b, size_t *n) { (void)n; b[19] = 64; }
static void l_lens_mismatch(uint8_t *b, size_t *n) { (void)n; b[18] = 4; }
static void l_v4_src(uint8_t *b, size_t *n) { (void)n; b[24 + 4] = 1; }
static void l_v4_vip(uint8_t *b, size_t *n) { (void)n; b[40 + 15] = 1; }
static void l_v4_be(uint8_t *b, size_t *n) { (void)n; b[56 + 8] = 1; }
static void l_lb_nul(uint8_t *b, size_t *n) { (void)n; b[73] = 0; }
static void l_eni_nul(uint8_t *b, size_t *n) { (void)n; b[81] = 0; }

static void l_truncated(uint8_t *b, size_t *n)
{
	*n = SS_HA_HDR_LEN + SS_HA_LB_FIXED - 1;
	b[3] = (uint8_t)*n;
}

static void l_empty(uint8_t *b, size_t *n)
{
	*n = SS_HA_HDR_LEN;
	b[3] = (uint8_t)*n;
}

static void test_malformed_lb(void **state)
{
	static const struct bad_case cases[] = {
		{ "length above the maximum", l_len_long, SS_HA_E_MALFORMED },
		{ "no sequence number", l_seq0, SS_HA_E_MALFORMED },
		{ "protocol ICMP", l_proto, SS_HA_E_MALFORMED },
		{ "family 0", l_family, SS_HA_E_MALFORMED },
		{ "empty LB name", l_lblen0, SS_HA_E_MALFORMED },
		{ "LB name of 64", l_lblen64, SS_HA_E_MALFORMED },
		{ "empty ENI name", l_enilen0, SS_HA_E_MALFORMED },
		{ "ENI name of 64", l_enilen64, SS_HA_E_MALFORMED },
		{ "name lengths and message length disagree", l_lens_mismatch, SS_HA_E_MALFORMED },
		{ "IPv4 source with more than 4 bytes", l_v4_src, SS_HA_E_MALFORMED },
		{ "IPv4 VIP with more than 4 bytes", l_v4_vip, SS_HA_E_MALFORMED },
		{ "IPv4 backend with more than 4 bytes", l_v4_be, SS_HA_E_MALFORMED },
		{ "NUL in the LB name", l_lb_nul, SS_HA_E_MALFORMED },
		{ "NUL in the ENI name", l_eni_nul, SS_HA_E_MALFORMED },
		{ "body shorter than the fixed part", l_truncated, SS_HA_E_MALFORMED },
		{ "no body", l_empty, SS_HA_E_MALFORMED },
		{ "version 1 (before LB sessions)", m_version, SS_HA_E_VERSION },
		{ "flags", m_flags, SS_HA_E_MALFORMED },
	};

	(void)state;
	for (uint8_t t = SS_HA_LB_SESS; t <= SS_HA_LB_SESS_DEL; t++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint8_t buf[SS_HA_MSG_MAX + 16];
			struct ss_ha_lb l = sample_lb(0);
			struct ss_ha_msg m;
			const char *why = NULL;
			size_t n = ss_ha_encode_lb(buf, t, 1, 0, &l);
			int rc;

			cases[i].mutate(buf, &n);
			rc = ss_ha_msg_decode(buf, n, &m, &why);
			if (rc != cases[i].expect)
				fail_msg("%s: %s: got %d, expected %d", ss_ha_type_name(t),
					 cases[i].what, rc, cases[i].expect);
			assert_non_null(why);
		}
}

static void test_malformed_control(void **state)
{
	uint8_t buf[SS_HA_MSG_MAX];
	struct ss_ha_msg m;
	const char *why;
	size_t n;

	(void)state;
	/* HELLO: unknown role, pad, a sequence number, a body of 5 */
	n = ss_ha_encode_hello(buf, 0, 3);
	assert_int_equal(ss_ha_msg_decode(buf, n, &m, &why), SS_HA_E_MALFORMED);
	n = ss_ha_encode_hello(buf, 0, SS_HA_ROLE_ACTIVE);
	buf[19] = 1;
	assert_int_equal(ss_ha_msg_decode(buf, n, &m, &why), SS_HA_E_MALFORMED);
	n = ss_ha_encode_hello(buf, 0, SS_HA_ROLE_ACTIVE);
	buf[11] = 1;
	assert_int_equal(ss_ha_msg_decode(buf, n, &m, &why), SS_HA_E_MALFORMED);
	n = ss_ha_encode_hello(buf, 0, SS_HA_ROLE_ACTIVE);
	buf[3] = (uint8_t)++n;
	buf[20] = 0;
	assert_int_equal(ss_ha_msg_decode(buf, n, &m, &why), SS_HA_E_MALFORMED);
	/* HEARTBEAT with a body, with a sequence number */
	n = ss_ha_encode_heartbeat(buf, 0);
	buf[3] = 20;
	memset(buf + 16, 0, 4);
	assert_int_equal(ss_ha_msg_decode(buf, 20, &m, &why), SS_HA_E_MALFORMED);
	n = ss_ha_encode_heartbeat(buf, 0);
	buf[8] = 1;
	assert_int_equal(ss_ha_msg_decode(buf, n, &m, &why), SS_HA_E_MALFORMED);
	/* BULK without a sequence number, with a body of 0 */
	n = ss_ha_encode_bulk(buf, SS_HA_BULK_BEGIN, 0, 0, 1);
	assert_int_equal(ss_ha_msg_decode(buf, n, &m, &why), SS_HA_E_MALFORMED);
	n = ss_ha_encode_bulk(buf, SS_HA_BULK_END, 1, 0, 1);
	buf[3] = 16;
	assert_int_equal(ss_ha_msg_decode(buf, 16, &m, &why), SS_HA_E_MALFORMED);
	/* a wrong version is refused from its fifth byte on, a bad length from
	 * its fourth, before the rest arrives */
	n = ss_ha_encode_heartbeat(buf, 0);
	buf[4] = 9;
	assert_int_equal(ss_ha_msg_decode(buf, 5, &m, &why), SS_HA_E_VERSION);
	memcpy(buf, "GET ", 4);
	assert_int_equal(ss_ha_msg_decode(buf, 4, &m, &why), SS_HA_E_MALFORMED);
	assert_int_equal(ss_ha_msg_decode(buf, 3, &m, &why), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_malformed_flow),
		cmocka_unit_test(test_malformed_control),
		cmocka_unit_test(test_lb_layout),
		cmocka_unit_test(test_lb_round_trips),
		cmocka_unit_test(test_malformed_lb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
