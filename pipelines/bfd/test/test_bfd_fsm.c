/* SPDX-License-Identifier: BSD-3-Clause
 *
 * BFD protocol core (bfd_fsm.h, bfd_frame.h) on a fake clock:
 *   - every transition of RFC 5880 6.8.6 (table below), the detection
 *     timer (6.8.4), AdminDown;
 *   - Poll/Final (6.5, 6.8.3): what is in force before and after the Final;
 *   - jitter (6.8.7) and the one-second slow transmission while not Up;
 *   - every reception check of 6.8.6 discarded with its own reason, and
 *     random mutations / truncations of packets and frames never crashing;
 *   - frames built by the sender read back by the receiver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipelines/bfd/bfd_frame.h"
#include "pipelines/bfd/bfd_fsm.h"

#define MS 1000ull

static struct ss_bfd_pkt peer_pkt(uint8_t state, uint8_t flags)
{
	return (struct ss_bfd_pkt){ .version = 1, .state = state, .flags = flags,
				    .detect_mult = 3, .length = 24, .my_discr = 0x5151,
				    .your_discr = 0x42, .desired_min_tx = 300000,
				    .required_min_rx = 300000 };
}

static void fsm_at(struct ss_bfd_fsm *s, uint8_t state)
{
	ss_bfd_fsm_init(s, 0x42, 7, 300000, 300000, 3, 0);
	s->state = state;
}

/* RFC 5880 6.8.6: (local state, received state) -> new state, diag */
static void test_transitions(void **st)
{
	static const struct {
		uint8_t from, rx, to, diag;
	} t[] = {
		{ SS_BFD_DOWN, SS_BFD_ADMIN_DOWN, SS_BFD_DOWN, SS_BFD_DIAG_NONE },
		{ SS_BFD_DOWN, SS_BFD_DOWN, SS_BFD_INIT, SS_BFD_DIAG_NONE },
		{ SS_BFD_DOWN, SS_BFD_INIT, SS_BFD_UP, SS_BFD_DIAG_NONE },
		{ SS_BFD_DOWN, SS_BFD_UP, SS_BFD_DOWN, SS_BFD_DIAG_NONE },
		{ SS_BFD_INIT, SS_BFD_ADMIN_DOWN, SS_BFD_DOWN, SS_BFD_DIAG_NEIGHBOR_DOWN },
		{ SS_BFD_INIT, SS_BFD_DOWN, SS_BFD_INIT, SS_BFD_DIAG_NONE },
		{ SS_BFD_INIT, SS_BFD_INIT, SS_BFD_UP, SS_BFD_DIAG_NONE },
		{ SS_BFD_INIT, SS_BFD_UP, SS_BFD_UP, SS_BFD_DIAG_NONE },
		{ SS_BFD_UP, SS_BFD_ADMIN_DOWN, SS_BFD_DOWN, SS_BFD_DIAG_NEIGHBOR_DOWN },
		{ SS_BFD_UP, SS_BFD_DOWN, SS_BFD_DOWN, SS_BFD_DIAG_NEIGHBOR_DOWN },
		{ SS_BFD_UP, SS_BFD_INIT, SS_BFD_UP, SS_BFD_DIAG_NONE },
		{ SS_BFD_UP, SS_BFD_UP, SS_BFD_UP, SS_BFD_DIAG_NONE },
	};

	(void)st;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ss_bfd_fsm s;
		struct ss_bfd_pkt p = peer_pkt(t[i].rx, 0);
		int ev;

		fsm_at(&s, t[i].from);
		ev = ss_bfd_fsm_rx(&s, &p, 10 * MS);
		assert_true(ev >= 0);
		assert_int_equal(s.state, t[i].to);
		assert_int_equal(s.local_diag, t[i].diag);
		assert_int_equal(!!(ev & SS_BFD_EV_STATE), t[i].from != t[i].to);
		assert_int_equal(s.remote_discr, 0x5151);
		assert_int_equal(s.remote_state, t[i].rx);
	}
}

static void test_admin_down_discards(void **st)
{
	struct ss_bfd_fsm s;
	struct ss_bfd_pkt p = peer_pkt(SS_BFD_UP, 0), out;

	(void)st;
	fsm_at(&s, SS_BFD_UP);
	ss_bfd_fsm_admin(&s, true, 5 * MS);
	assert_int_equal(s.state, SS_BFD_ADMIN_DOWN);
	assert_int_equal(s.local_diag, SS_BFD_DIAG_ADMIN_DOWN);
	assert_int_equal(ss_bfd_fsm_rx(&s, &p, 6 * MS), -SS_BFD_DISC_ADMIN_DOWN);
	ss_bfd_fsm_tx(&s, 6 * MS, &out);
	assert_int_equal(out.state, SS_BFD_ADMIN_DOWN);
	assert_int_equal(out.diag, SS_BFD_DIAG_ADMIN_DOWN);
	ss_bfd_fsm_admin(&s, false, 7 * MS);
	assert_int_equal(s.state, SS_BFD_DOWN);
}

/* Down -> Init -> Up, then silence: Down after exactly the detection time */
static void test_bring_up_and_detection(void **st)
{
	struct ss_bfd_fsm s;
	struct ss_bfd_pkt p = peer_pkt(SS_BFD_DOWN, 0), out;
	uint64_t t = 0;

	(void)st;
	ss_bfd_fsm_init(&s, 0x42, 1, 300000, 300000, 3, t);
	ss_bfd_fsm_tx(&s, t, &out);                     /* slow: next in 0.75-1 s */
	assert_true(s.next_tx >= 750 * MS);
	p.your_discr = 0;
	assert_true(ss_bfd_fsm_rx(&s, &p, t += 10 * MS) & SS_BFD_EV_STATE);
	assert_int_equal(s.state, SS_BFD_INIT);
	p = peer_pkt(SS_BFD_UP, 0);
	assert_true(ss_bfd_fsm_rx(&s, &p, t += 10 * MS) & SS_BFD_EV_STATE);
	assert_int_equal(s.state, SS_BFD_UP);
	assert_int_equal(s.up_transitions, 1);
	/* the packets after this one advertise 300 ms: the slow schedule
	 * (a second) must not keep the next one back (the peer would time
	 * us out after 3 x 300 ms) */
	assert_true(s.next_tx <= t + 300 * MS);
	/* 6.8.4: remote mult x max(our RequiredMinRx, its DesiredMinTx) */
	assert_int_equal(ss_bfd_fsm_detect_time(&s), 900000);
	assert_int_equal(ss_bfd_fsm_tick(&s, t + 899 * MS) & SS_BFD_EV_STATE, 0);
	assert_int_equal(s.state, SS_BFD_UP);
	assert_true(ss_bfd_fsm_tick(&s, t + 900 * MS) & SS_BFD_EV_STATE);
	assert_int_equal(s.state, SS_BFD_DOWN);
	assert_int_equal(s.local_diag, SS_BFD_DIAG_EXPIRED);
	assert_int_equal(s.remote_discr, 0);            /* 6.8.1 */
	assert_int_equal(s.down_transitions, 1);
	/* the peer's larger DesiredMinTx sets the detection time */
	p = peer_pkt(SS_BFD_DOWN, 0);
	p.desired_min_tx = 500000;
	p.detect_mult = 5;
	ss_bfd_fsm_rx(&s, &p, t + 1000 * MS);
	assert_int_equal(ss_bfd_fsm_detect_time(&s), 2500000);
}

/* 6.8.3: at least one second between packets while not Up, the
 * configured interval once Up; 6.8.7: 75-100% jitter, 75-90% with mult 1 */
static void test_tx_intervals_and_jitter(void **st)
{
	struct ss_bfd_fsm s;
	struct ss_bfd_pkt out, p = peer_pkt(SS_BFD_INIT, 0);
	uint64_t t = 0, prev;

	(void)st;
	ss_bfd_fsm_init(&s, 9, 3, 300000, 300000, 3, t);
	assert_true(ss_bfd_fsm_tick(&s, t) & SS_BFD_EV_TX);
	ss_bfd_fsm_tx(&s, t, &out);
	assert_int_equal(out.desired_min_tx, SS_BFD_SLOW_TX_US);
	assert_true(s.next_tx >= 750 * MS && s.next_tx <= 1000 * MS);
	ss_bfd_fsm_rx(&s, &p, t += 5 * MS);
	assert_int_equal(s.state, SS_BFD_UP);
	p = peer_pkt(SS_BFD_UP, 0);
	ss_bfd_fsm_rx(&s, &p, s.next_tx - 1);  /* the peer keeps it Up */
	t = s.next_tx;
	for (int i = 0; i < 2000; i++) {
		assert_true(ss_bfd_fsm_tick(&s, t) & SS_BFD_EV_TX);
		prev = t;
		ss_bfd_fsm_tx(&s, t, &out);
		assert_int_equal(out.desired_min_tx, 300000);
		assert_true(s.next_tx - prev >= 225 * MS && s.next_tx - prev <= 300 * MS);
		assert_int_equal(ss_bfd_fsm_tick(&s, s.next_tx - 1) & SS_BFD_EV_TX, 0);
		t = s.next_tx;
		p = peer_pkt(SS_BFD_UP, 0);
		ss_bfd_fsm_rx(&s, &p, t);
	}
	ss_bfd_fsm_set(&s, 300000, 300000, 1, t);
	for (int i = 0; i < 2000; i++) {
		prev = t;
		ss_bfd_fsm_tx(&s, t, &out);
		assert_true(s.next_tx - prev >= 225 * MS && s.next_tx - prev <= 270 * MS);
		t = s.next_tx;
	}
	/* the peer's RequiredMinRx is a floor; 0 stops periodic packets */
	fsm_at(&s, SS_BFD_UP);
	p = peer_pkt(SS_BFD_UP, 0);
	p.required_min_rx = 2000000;
	ss_bfd_fsm_rx(&s, &p, 0);
	ss_bfd_fsm_tx(&s, 0, &out);
	assert_true(s.next_tx >= 1500 * MS && s.next_tx <= 2000 * MS);
	p.required_min_rx = 0;
	ss_bfd_fsm_rx(&s, &p, 1);
	assert_int_equal(ss_bfd_fsm_tick(&s, 10000 * MS) & SS_BFD_EV_TX, 0);
}

/* 6.5 / 6.8.3: a change while Up is announced with P until an F arrives;
 * a slower transmission and a shorter detection wait for the F */
static void test_poll_final(void **st)
{
	struct ss_bfd_fsm s;
	struct ss_bfd_pkt out, p = peer_pkt(SS_BFD_UP, 0);
	uint64_t t = 100 * MS;

	(void)st;
	fsm_at(&s, SS_BFD_UP);
	ss_bfd_fsm_rx(&s, &p, t);
	ss_bfd_fsm_set(&s, 1000000, 100000, 3, t);
	assert_true(s.poll);
	assert_true(ss_bfd_fsm_tick(&s, t) & SS_BFD_EV_TX);   /* at once */
	ss_bfd_fsm_tx(&s, t, &out);
	assert_int_equal(out.flags & (SS_BFD_F_POLL | SS_BFD_F_FINAL), SS_BFD_F_POLL);
	assert_int_equal(out.desired_min_tx, 1000000);         /* advertised */
	assert_int_equal(out.required_min_rx, 100000);
	assert_int_equal(s.act_tx, 300000);                    /* not yet in force */
	assert_int_equal(s.act_rx, 300000);
	assert_true(s.next_tx - t <= 300 * MS);
	/* a packet without F does not end it */
	ss_bfd_fsm_rx(&s, &p, t + 10 * MS);
	assert_true(s.poll);
	p.flags = SS_BFD_F_FINAL;
	ss_bfd_fsm_rx(&s, &p, t + 20 * MS);
	assert_false(s.poll);
	assert_int_equal(s.act_tx, 1000000);
	assert_int_equal(s.act_rx, 100000);
	ss_bfd_fsm_tx(&s, s.next_tx, &out);
	assert_int_equal(out.flags & SS_BFD_F_POLL, 0);
	/* a faster transmission takes effect at once */
	ss_bfd_fsm_set(&s, 50000, 100000, 3, t + 30 * MS);
	assert_int_equal(s.act_tx, 50000);
	/* the peer polls: the next packet carries F, sent now */
	p.flags = SS_BFD_F_POLL;
	assert_true(ss_bfd_fsm_rx(&s, &p, t + 40 * MS) & SS_BFD_EV_TX);
	ss_bfd_fsm_tx(&s, t + 40 * MS, &out);
	assert_int_equal(out.flags & (SS_BFD_F_POLL | SS_BFD_F_FINAL), SS_BFD_F_FINAL);
	/* going Up from the slow rate is announced with a Poll */
	fsm_at(&s, SS_BFD_INIT);
	p = peer_pkt(SS_BFD_UP, 0);
	ss_bfd_fsm_rx(&s, &p, 0);
	assert_int_equal(s.state, SS_BFD_UP);
	assert_true(s.poll);
}

/* ---- reception checks -------------------------------------------------------------- */

static void good(uint8_t b[SS_BFD_PKT_LEN])
{
	struct ss_bfd_pkt p = peer_pkt(SS_BFD_UP, 0);

	ss_bfd_encode(&p, b);
}

static void test_codec_roundtrip(void **st)
{
	struct ss_bfd_pkt p = peer_pkt(SS_BFD_INIT, SS_BFD_F_POLL), q;
	uint8_t b[SS_BFD_PKT_LEN];

	(void)st;
	p.diag = SS_BFD_DIAG_PATH_DOWN;
	p.required_min_echo_rx = 77;
	ss_bfd_encode(&p, b);
	assert_int_equal(b[0], 0x25);               /* version 1, diag 5 */
	assert_int_equal(b[1], 0x80 | 0x20);        /* Init, P */
	assert_int_equal(ss_bfd_decode(b, sizeof(b), &q), SS_BFD_OK);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void test_every_check_discards(void **st)
{
	uint8_t b[SS_BFD_PKT_LEN + 8];
	struct ss_bfd_pkt q;

	(void)st;
	good(b);
	for (uint32_t len = 0; len < SS_BFD_PKT_LEN; len++)
		assert_int_equal(ss_bfd_decode(b, len, &q), SS_BFD_DISC_SHORT);
	good(b); b[0] = (uint8_t)(2 << 5);
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_VERSION);
	good(b); b[0] = 0;
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_VERSION);
	good(b); b[3] = 23;
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_LENGTH);
	good(b); b[3] = 25;                         /* more than the payload */
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_LENGTH);
	good(b); b[1] |= SS_BFD_F_AUTH; b[3] = 24;  /* A needs 26 */
	assert_int_equal(ss_bfd_decode(b, 32, &q), SS_BFD_DISC_LENGTH);
	good(b); b[1] |= SS_BFD_F_AUTH; b[3] = 28;  /* well formed, but no auth here */
	assert_int_equal(ss_bfd_decode(b, 32, &q), SS_BFD_DISC_AUTH);
	good(b); b[2] = 0;
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_DETECT_MULT);
	good(b); b[1] |= SS_BFD_F_MULTI;
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_MULTIPOINT);
	good(b); memset(b + 4, 0, 4);
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_MY_DISCR);
	good(b); memset(b + 8, 0, 4);               /* Up with Your Discr 0 */
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_YOUR_DISCR);
	good(b); memset(b + 8, 0, 4); b[1] = (uint8_t)(SS_BFD_INIT << 6);
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_YOUR_DISCR);
	good(b); memset(b + 8, 0, 4); b[1] = (uint8_t)(SS_BFD_DOWN << 6);
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_OK);
	good(b); b[1] |= SS_BFD_F_POLL | SS_BFD_F_FINAL;
	assert_int_equal(ss_bfd_decode(b, 24, &q), SS_BFD_DISC_POLL_FINAL);
	for (unsigned int r = 0; r < SS_BFD_DISC_COUNT; r++)
		assert_non_null(ss_bfd_discard_name(r));
	assert_string_equal(ss_bfd_discard_name(SS_BFD_DISC_TTL), "bad_ttl");
}

/* Random packets against a live session: whatever passes decode is a
 * well-formed packet; nothing crashes, the state stays valid. */
static void test_random_packets(void **st)
{
	struct ss_bfd_fsm s;
	uint8_t b[64];
	struct ss_bfd_pkt q;
	uint32_t seed = 12345;

	(void)st;
	fsm_at(&s, SS_BFD_UP);
	for (int i = 0; i < 200000; i++) {
		uint32_t len = seed % 65;

		for (unsigned int k = 0; k < sizeof(b); k++) {
			seed = seed * 1103515245u + 12345u;
			b[k] = (uint8_t)(seed >> 16);
		}
		if (i & 1)
			good(b), b[seed % 24] ^= (uint8_t)(1u << (seed >> 8) % 8);
		if (ss_bfd_decode(b, len, &q) == SS_BFD_OK) {
			assert_int_equal(q.version, 1);
			assert_true(q.length >= 24 && q.length <= len);
			assert_true(q.detect_mult != 0 && q.my_discr != 0);
			assert_int_equal(q.flags & (SS_BFD_F_AUTH | SS_BFD_F_MULTI), 0);
			ss_bfd_fsm_rx(&s, &q, (uint64_t)i * MS);
			ss_bfd_fsm_tick(&s, (uint64_t)i * MS + 1);
		}
		assert_true(s.state <= SS_BFD_UP);
	}
}

/* ---- frames ---------------------------------------------------------------------------- */

static void test_frame_roundtrip(void **st)
{
	static const uint8_t dmac[6] = { 2, 0, 0, 0, 0, 1 }, smac[6] = { 2, 0, 0, 0, 0, 2 };
	static const uint8_t sip[4] = { 10, 0, 0, 1 }, dip[4] = { 10, 0, 0, 2 };
	static const uint8_t sip6[16] = { 0xfd, 0, [15] = 1 }, dip6[16] = { 0xfd, 0, [15] = 2 };
	uint8_t f[128], bfd[SS_BFD_PKT_LEN];
	struct ss_bfd_rx_frame rx;
	struct ss_parsed ps;
	const uint8_t *src;
	uint32_t len;

	(void)st;
	good(bfd);
	len = ss_bfd_frame_udp(f, sizeof(f), dmac, smac, 4, sip, dip, 49200, SS_BFD_UDP_SINGLE,
			       255, bfd, sizeof(bfd));
	assert_int_equal(len, 14 + 20 + 8 + 24);
	assert_int_equal(ss_parse(f, len, &ps, NULL), 0);           /* checksums too */
	assert_int_equal(ss_bfd_frame_read(f, len, &ps.outer, &rx), SS_BFD_OK);
	assert_int_equal(rx.kind, SS_BFD_FRAME_BFD);
	assert_int_equal(rx.ttl, 255);
	assert_int_equal(rx.sport, 49200);
	assert_int_equal(rx.plen, 24);
	assert_memory_equal(rx.payload, bfd, 24);
	assert_memory_equal(rx.src, sip, 4);
	assert_memory_equal(rx.dst, dip, 4);
	assert_memory_equal(rx.smac, smac, 6);
	/* a UDP length beyond the IP packet */
	f[14 + 20 + 4] = 0x40;
	assert_int_equal(ss_bfd_frame_read(f, len, &ps.outer, &rx), SS_BFD_DISC_UDP);
	len = ss_bfd_frame_udp(f, sizeof(f), dmac, smac, 6, sip6, dip6, 49200, SS_BFD_UDP_MULTI,
			       255, bfd, sizeof(bfd));
	assert_int_equal(ss_parse(f, len, &ps, NULL), 0);
	assert_int_equal(ss_bfd_frame_read(f, len, &ps.outer, &rx), SS_BFD_OK);
	assert_int_equal(rx.fam, 6);
	assert_int_equal(rx.dport, SS_BFD_UDP_MULTI);
	assert_memory_equal(rx.src, sip6, 16);
	/* an ARP request is not taken; the reply to it is */
	len = ss_bfd_frame_arp(f, sizeof(f), smac, sip, dip);
	assert_int_equal(ss_parse(f, len, &ps, NULL), 0);
	assert_int_equal(ss_bfd_frame_classify(f, len, &ps.outer, &src), SS_BFD_FRAME_NONE);
	f[14 + 7] = 2;
	assert_int_equal(ss_bfd_frame_classify(f, len, &ps.outer, &src), SS_BFD_FRAME_ARP);
	assert_memory_equal(src, sip, 4);
	/* a neighbour solicitation is not taken */
	len = ss_bfd_frame_ns(f, sizeof(f), smac, sip6, dip6);
	assert_int_equal(ss_parse(f, len, &ps, NULL), 0);
	assert_int_equal(ss_bfd_frame_classify(f, len, &ps.outer, &src), SS_BFD_FRAME_NONE);
}

/* Every truncation of a valid frame: parse refuses it or the reader stays
 * within the bytes (run under ASan in the asan build). */
static void test_frame_truncations(void **st)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t a[4] = { 10, 0, 0, 1 }, b4[4] = { 10, 0, 0, 2 };
	uint8_t f[128], bfd[SS_BFD_PKT_LEN];
	struct ss_bfd_rx_frame rx;
	struct ss_parsed ps;
	uint32_t len;

	(void)st;
	good(bfd);
	len = ss_bfd_frame_udp(f, sizeof(f), mac, mac, 4, a, b4, 49200, SS_BFD_UDP_SINGLE, 255,
			       bfd, sizeof(bfd));
	for (uint32_t l = 0; l <= len; l++) {
		uint8_t *copy = malloc(l ? l : 1);

		memcpy(copy, f, l);
		if (ss_parse(copy, l, &ps, NULL) == 0 && ss_bfd_frame_read(copy, l, &ps.outer, &rx) ==
							 SS_BFD_OK && rx.kind == SS_BFD_FRAME_BFD) {
			struct ss_bfd_pkt q;

			assert_true(rx.payload + rx.plen <= copy + l);
			(void)ss_bfd_decode(rx.payload, rx.plen, &q);
		}
		free(copy);
	}
	assert_int_equal(ss_bfd_frame_udp(f, 40, mac, mac, 4, a, b4, 1, 2, 255, bfd, 24), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_admin_down_discards),
		cmocka_unit_test(test_bring_up_and_detection),
		cmocka_unit_test(test_tx_intervals_and_jitter),
		cmocka_unit_test(test_poll_final),
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_every_check_discards),
		cmocka_unit_test(test_random_packets),
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_frame_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
