/* SPDX-License-Identifier: BSD-3-Clause
 *
 * IPFIX encoding (ipfix_msg.c): conntrack records into per-direction data
 * records, and messages decoded back here field by field as RFC 7011 lays
 * them out (header, template set, data sets), independently of the
 * encoder's tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pipelines/ipfix/ipfix_msg.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

/* A decoded template: IE numbers and lengths. */
struct tmpl {
	uint16_t id, n;
	uint16_t ie[32], len[32];
};

static struct tmpl tmpls[4];
static unsigned int nb_tmpls;

static const struct tmpl *tmpl_find(uint16_t id)
{
	for (unsigned int i = 0; i < nb_tmpls; i++)
		if (tmpls[i].id == id)
			return &tmpls[i];
	return NULL;
}

/* A decoded data record: the value of each IE (addresses as bytes). */
struct rec {
	uint16_t tmpl;
	uint64_t v[400];
	uint8_t src[16], dst[16];
};

/* Decode a message; returns the number of data records put in out. */
static unsigned int decode(const uint8_t *b, size_t len, uint32_t *seq, uint32_t *dom,
			   struct rec *out, unsigned int max)
{
	size_t off = 16;
	unsigned int n = 0;

	assert_true(len >= 16);
	assert_int_equal(rd16(b), 10);
	assert_int_equal(rd16(b + 2), len);
	*seq = rd32(b + 8);
	*dom = rd32(b + 12);
	while (off < len) {
		uint16_t sid = rd16(b + off), slen = rd16(b + off + 2);
		size_t end = off + slen, p = off + 4;

		assert_true(slen >= 4 && end <= len);
		if (sid == 2) {
			while (p < end) {
				struct tmpl *t = &tmpls[nb_tmpls++];

				t->id = rd16(b + p);
				t->n = rd16(b + p + 2);
				p += 4;
				for (uint16_t i = 0; i < t->n; i++, p += 4) {
					t->ie[i] = rd16(b + p);
					t->len[i] = rd16(b + p + 2);
				}
			}
		} else {
			const struct tmpl *t = tmpl_find(sid);
			size_t rl = 0;

			assert_non_null(t);
			for (uint16_t i = 0; i < t->n; i++)
				rl += t->len[i];
			while (p + rl <= end) {
				struct rec *r = &out[n++];

				assert_true(n <= max);
				memset(r, 0, sizeof(*r));
				r->tmpl = sid;
				for (uint16_t i = 0; i < t->n; i++) {
					const uint8_t *f = b + p;

					if (t->ie[i] == 8 || t->ie[i] == 27)
						memcpy(r->src, f, t->len[i]);
					else if (t->ie[i] == 12 || t->ie[i] == 28)
						memcpy(r->dst, f, t->len[i]);
					else if (t->len[i] == 1)
						r->v[t->ie[i]] = f[0];
					else if (t->len[i] == 2)
						r->v[t->ie[i]] = rd16(f);
					else if (t->len[i] == 4)
						r->v[t->ie[i]] = rd32(f);
					else
						r->v[t->ie[i]] = rd64(f);
					p += t->len[i];
				}
			}
			assert_int_equal(p, end);   /* no padding */
		}
		off = end;
	}
	return n;
}

static const struct ss_ipfix_clock clk = { .t0 = 1000, .hz = 1000000, .ms0 = 1700000000000ull };

/* A TCP connection opened by 10.0.0.2:40000 (endpoint b) outbound to
 * 10.0.0.1:80 (endpoint a: the smaller address). */
static struct ss_ct_record tcp_rec(void)
{
	struct ss_ct_record r;

	memset(&r, 0, sizeof(r));
	r.key.eni = 3;
	r.key.proto = 6;
	memcpy(r.key.a, (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(r.key.b, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	r.key.pa = 80;
	r.key.pb = 40000;
	r.init_side = 1;
	r.init_dir = 0;
	r.reason = SS_CT_END_EOF;
	r.start = 1000 + 2 * 1000000;        /* 2 s after t0 */
	r.end = 1000 + 5 * 1000000 + 1500;   /* 5.0015 s */
	r.pkts[1] = 6;
	r.bytes[1] = 6 * 60 + 100;
	r.pkts[0] = 4;
	r.bytes[0] = 4 * 52;
	return r;
}

static void test_clock(void **state)
{
	(void)state;
	assert_int_equal(ss_ipfix_ms(&clk, 1000), 1700000000000ull);
	assert_int_equal(ss_ipfix_ms(&clk, 1000 + 2500000), 1700000002500ull);
	assert_int_equal(ss_ipfix_ms(&clk, 0), 1700000000000ull - 1);   /* before t0 */
	/* a long uptime does not overflow: 100 days of a 3 GHz clock */
	struct ss_ipfix_clock c = { .t0 = 0, .hz = 3000000000ull, .ms0 = 0 };
	assert_int_equal(ss_ipfix_ms(&c, 3000000000ull * 86400 * 100), 86400000ull * 100);
}

static void test_from_record(void **state)
{
	struct ss_ct_record r = tcp_rec();
	struct ss_ipfix_flow f[2];

	(void)state;
	assert_int_equal(ss_ipfix_from_record(&r, 5000, &clk, f), 2);
	/* side a first: the responder, inbound (toward the VM) */
	assert_int_equal(f[0].direction, 1);
	assert_memory_equal(f[0].src, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_memory_equal(f[0].dst, ((uint8_t[]){ 10, 0, 0, 2 }), 4);
	assert_int_equal(f[0].sport, 80);
	assert_int_equal(f[0].dport, 40000);
	assert_int_equal(f[0].packets, 4);
	assert_int_equal(f[0].octets, 208);
	/* side b: the initiator, outbound */
	assert_int_equal(f[1].direction, 0);
	assert_int_equal(f[1].sport, 40000);
	assert_int_equal(f[1].packets, 6);
	assert_int_equal(f[1].octets, 460);
	assert_int_equal(f[1].vni, 5000);
	assert_int_equal(f[1].end_reason, SS_CT_END_EOF);
	assert_int_equal(f[1].start_ms, 1700000002000ull);
	assert_int_equal(f[1].end_ms, 1700000005001ull);

	/* a direction without packets has no record; ICMP has no ports */
	r.pkts[0] = 0;
	r.key.proto = 1;
	assert_int_equal(ss_ipfix_from_record(&r, 7, &clk, f), 1);
	assert_int_equal(f[0].direction, 0);
	assert_int_equal(f[0].sport, 0);
	assert_int_equal(f[0].dport, 0);
	/* initiated inbound by endpoint a */
	r = tcp_rec();
	r.init_side = 0;
	r.init_dir = 1;
	assert_int_equal(ss_ipfix_from_record(&r, 7, &clk, f), 2);
	assert_int_equal(f[0].direction, 1);
	assert_int_equal(f[1].direction, 0);
}

static void test_message(void **state)
{
	struct ss_ct_record r4 = tcp_rec(), r6 = tcp_rec();
	struct ss_ipfix_flow f[4];
	struct ss_ipfix_msg m;
	struct rec out[8];
	uint32_t seq, dom;
	size_t len;

	(void)state;
	nb_tmpls = 0;
	r6.key.v6 = 1;
	r6.key.proto = 17;
	memcpy(r6.key.a, (uint8_t[]){ 0xfd, 0, [15] = 1 }, 16);
	memcpy(r6.key.b, (uint8_t[]){ 0xfd, 0, [15] = 2 }, 16);
	r6.reason = SS_CT_END_IDLE;
	assert_int_equal(ss_ipfix_from_record(&r4, 100, &clk, f), 2);
	assert_int_equal(ss_ipfix_from_record(&r6, 200, &clk, f + 2), 2);

	ss_ipfix_msg_init(&m);
	assert_int_equal(ss_ipfix_msg_add_templates(&m), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ss_ipfix_msg_add(&m, &f[i]), 0);
	assert_int_equal(m.nb_data, 4);
	len = ss_ipfix_msg_finish(&m, 1700000010, 42, 7);
	assert_int_equal(len, 16 + (4 + 2 * 52) + (4 + 2 * SS_IPFIX_REC_V4) +
			      (4 + 2 * SS_IPFIX_REC_V6));
	assert_int_equal(decode(m.buf, len, &seq, &dom, out, 8), 4);
	assert_int_equal(rd32(m.buf + 4), 1700000010);
	assert_int_equal(seq, 42);
	assert_int_equal(dom, 7);

	/* the templates name every IE of SPEC 5 */
	const struct tmpl *t4 = tmpl_find(256), *t6 = tmpl_find(257);
	static const uint16_t want4[] = { 1, 2, 4, 7, 8, 11, 12, 61, 136, 152, 153, 351 };
	static const uint16_t want6[] = { 1, 2, 4, 7, 27, 11, 28, 61, 136, 152, 153, 351 };

	assert_non_null(t4);
	assert_non_null(t6);
	for (size_t i = 0; i < 12; i++) {
		int f4 = 0, f6 = 0;

		for (uint16_t j = 0; j < t4->n; j++)
			f4 |= t4->ie[j] == want4[i];
		for (uint16_t j = 0; j < t6->n; j++)
			f6 |= t6->ie[j] == want6[i];
		assert_true(f4 && f6);
	}
	assert_int_equal(out[0].tmpl, 256);
	assert_int_equal(out[0].v[1], 208);          /* octetDeltaCount */
	assert_int_equal(out[0].v[2], 4);            /* packetDeltaCount */
	assert_int_equal(out[0].v[4], 6);
	assert_int_equal(out[0].v[7], 80);
	assert_int_equal(out[0].v[11], 40000);
	assert_int_equal(out[0].v[61], 1);
	assert_int_equal(out[0].v[136], 3);
	assert_int_equal(out[0].v[351], 100);
	assert_int_equal(out[0].v[152], 1700000002000ull);
	assert_int_equal(out[0].v[153], 1700000005001ull);
	assert_memory_equal(out[0].src, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_int_equal(out[1].v[61], 0);
	assert_int_equal(out[1].v[2], 6);
	assert_int_equal(out[2].tmpl, 257);
	assert_int_equal(out[2].v[4], 17);
	assert_int_equal(out[2].v[136], 1);
	assert_int_equal(out[2].v[351], 200);
	assert_memory_equal(out[2].src, ((uint8_t[]){ 0xfd, 0, [15] = 1 }), 16);
	assert_memory_equal(out[3].dst, ((uint8_t[]){ 0xfd, 0, [15] = 1 }), 16);
}

static void test_full(void **state)
{
	struct ss_ct_record r = tcp_rec();
	struct ss_ipfix_flow f[2];
	struct ss_ipfix_msg m;
	struct rec out[32];
	uint32_t seq, dom, n = 0;
	size_t len;

	(void)state;
	nb_tmpls = 0;
	/* templates come from an earlier message */
	ss_ipfix_msg_init(&m);
	ss_ipfix_msg_add_templates(&m);
	len = ss_ipfix_msg_finish(&m, 0, 0, 1);
	assert_int_equal(decode(m.buf, len, &seq, &dom, out, 32), 0);

	ss_ipfix_msg_init(&m);
	ss_ipfix_from_record(&r, 1, &clk, f);
	while (ss_ipfix_msg_add(&m, &f[n & 1]) == 0)
		n++;
	/* as many as fit in 1400 bytes after the header and a set header */
	assert_int_equal(n, (SS_IPFIX_MSG_MAX - 16 - 4) / SS_IPFIX_REC_V4);
	assert_int_equal(m.nb_data, n);
	len = ss_ipfix_msg_finish(&m, 0, 5, 1);
	assert_true(len <= SS_IPFIX_MSG_MAX);
	assert_int_equal(decode(m.buf, len, &seq, &dom, out, 32), n);
	/* a full message refuses an IPv6 record too, and stays intact */
	r.key.v6 = 1;
	ss_ipfix_from_record(&r, 1, &clk, f);
	ss_ipfix_msg_init(&m);
	for (uint32_t i = 0; i < n; i++)
		ss_ipfix_msg_add(&m, &f[0]);
	assert_int_equal(ss_ipfix_msg_add(&m, &f[0]), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_from_record),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
