/* SPDX-License-Identifier: BSD-3-Clause
 *
 * BFD sessions on the control thread (bfd_int.h): the `bfd` table, the
 * frames punted by bfd_punt, the timers, and the frames sent through
 * src_bfd_tx. Every function here runs on the control thread.
 *
 * Session changes follow the tables' contract (docs/architecture.md):
 * prepare() copies the transaction's changes and builds the new address
 * list for the punt node aside; commit() applies them (infallible) and
 * publishes the list; reclaim() frees the old list after the grace period.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dataplane/port-t.h"
#include "dataplane/port.h"
#include "pipelines/bfd/bfd_frame.h"
#include "pipelines/bfd/bfd_int.h"
#include "pipelines/common/meta.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_types.h"

struct ss_bfd ss_bfd;

#define RX_BURST 64
#define RESOLVE_US 1000000u          /* ARP / NS once a second until answered */
#define FRAME_MAX 128

uint64_t ss_bfd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int fam_of(const struct ss_rec_ip *ip)
{
	return ip->family == AF_INET ? 4 : ip->family == AF_INET6 ? 6 : 0;
}

static bool same_ip(int fam, const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, fam == 4 ? 4 : 16) == 0;
}

/* ---- setup ------------------------------------------------------------------------ */

int ss_bfd_setup(char *err, size_t errlen)
{
	ss_bfd_rx_ring = rte_ring_create("ss_bfd_rx", SS_BFD_RING_SIZE, SOCKET_ID_ANY,
					 RING_F_SC_DEQ);
	ss_bfd_tx_ring = rte_ring_create("ss_bfd_tx", SS_BFD_RING_SIZE, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
	ss_bfd.pool = rte_pktmbuf_pool_create("ss_bfd_pool", 2 * SS_BFD_RING_SIZE - 1, 0,
					      SS_META_PRIV_SIZE, RTE_PKTMBUF_HEADROOM + FRAME_MAX,
					      SOCKET_ID_ANY);
	ss_bfd_peers_cur = rte_zmalloc("ss_bfd_peers", sizeof(struct ss_bfd_peers), 0);
	if (!ss_bfd_rx_ring || !ss_bfd_tx_ring || !ss_bfd.pool || !ss_bfd_peers_cur) {
		ss_bfd_teardown();
		snprintf(err, errlen, "bfd: cannot allocate the punt and transmit rings");
		return -ENOMEM;
	}
	return 0;
}

static void ring_drain(struct rte_ring *r)
{
	void *m;

	while (r != NULL && rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

/* After the workers stopped. */
void ss_bfd_teardown(void)
{
	ring_drain(ss_bfd_rx_ring);
	ring_drain(ss_bfd_tx_ring);
	rte_ring_free(ss_bfd_rx_ring);
	rte_ring_free(ss_bfd_tx_ring);
	ss_bfd_rx_ring = ss_bfd_tx_ring = NULL;
	rte_mempool_free(ss_bfd.pool);
	rte_free(ss_bfd_peers_cur);
	rte_free(ss_bfd.next_peers);
	rte_free(ss_bfd.old_peers);
	free(ss_bfd.ops);
	memset(&ss_bfd, 0, sizeof(ss_bfd));
	ss_bfd_peers_cur = NULL;
}

/* ---- lookups ------------------------------------------------------------------------ */

struct ss_bfd_sess *ss_bfd_find_key(const char *key)
{
	for (unsigned int i = 0; key && i < SS_BFD_MAX_SESSIONS; i++)
		if (ss_bfd.s[i].used && strcmp(ss_bfd.s[i].key, key) == 0)
			return &ss_bfd.s[i];
	return NULL;
}

static struct ss_bfd_sess *find_peer(int fam, const uint8_t *ip)
{
	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		struct ss_bfd_sess *s = &ss_bfd.s[i];

		if (s->used && s->fam == fam && same_ip(fam, s->peer, ip))
			return s;
	}
	return NULL;
}

bool ss_bfd_peer_up(int fam, const uint8_t *ip)
{
	const struct ss_bfd_sess *s = find_peer(fam, ip);

	return s != NULL && s->fsm.state == SS_BFD_UP;
}

static void rec_key(const struct ss_rec_ip *ip, char *buf, size_t len)
{
	if (inet_ntop(ip->family, ip->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/* ---- transmission ------------------------------------------------------------------ */

/* Hand one frame to src_bfd_tx. */
static int send_frame(struct ss_bfd_sess *s, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ss_bfd.pool);
	struct ss_meta *meta;
	char *d;

	if (m == NULL)
		goto fail;
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		goto fail;
	}
	memcpy(d, frame, len);
	meta = ss_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->in_port = s->port;
	meta->out_port = s->port;
	meta->tx_class = SS_TX_DEFAULT;
	if (rte_ring_sp_enqueue(ss_bfd_tx_ring, m) != 0) {
		rte_pktmbuf_free(m);
		goto fail;
	}
	return 0;
fail:
	s->tx_failed++;
	return -ENOBUFS;
}

/* ARP request / neighbour solicitation for the peer (its MAC is unknown). */
static void resolve(struct ss_bfd_sess *s, uint64_t now)
{
	uint8_t f[FRAME_MAX];
	uint32_t len;

	if (now < s->next_resolve || !s->has_local)
		return;
	s->next_resolve = now + RESOLVE_US;
	len = s->fam == 4 ? ss_bfd_frame_arp(f, sizeof(f), ss_ports.ports[s->port].mac.addr_bytes,
					     s->local, s->peer)
			  : ss_bfd_frame_ns(f, sizeof(f), ss_ports.ports[s->port].mac.addr_bytes,
					    s->local, s->peer);
	if (len)
		send_frame(s, f, len);
}

/* The control packet the state machine has for now (RFC 5880 6.8.7). */
static void transmit(struct ss_bfd_sess *s, uint64_t now)
{
	uint8_t f[FRAME_MAX], bfd[SS_BFD_PKT_LEN];
	struct ss_bfd_pkt p;
	uint32_t len;

	ss_bfd_fsm_tx(&s->fsm, now, &p);
	if (!s->has_local)
		return;                          /* no source address: health says so */
	if (!s->mac_known) {
		resolve(s, now);
		return;
	}
	ss_bfd_encode(&p, bfd);
	/* RFC 5881 5 / RFC 5883 2: sent with TTL / hop limit 255 */
	len = ss_bfd_frame_udp(f, sizeof(f), s->mac, ss_ports.ports[s->port].mac.addr_bytes,
			       s->fam, s->local, s->peer, s->sport,
			       s->cfg.multihop ? SS_BFD_UDP_MULTI : SS_BFD_UDP_SINGLE, 255, bfd,
			       sizeof(bfd));
	if (len && send_frame(s, f, len) == 0)
		s->tx_packets++;
}

/* ---- reception ------------------------------------------------------------------------ */

static void discard(struct ss_bfd_sess *s, int reason)
{
	if (reason > 0 && reason < SS_BFD_DISC_COUNT)
		ss_bfd.disc[reason]++;
	if (s != NULL)
		s->rx_discarded++;
}

static void state_changed(struct ss_bfd_sess *s, uint8_t before, bool *changed)
{
	RTE_LOG(INFO, USER1, "bfd %s: %s -> %s (local diag %s, remote diag %s)\n", s->key,
		ss_bfd_state_name(before), ss_bfd_state_name(s->fsm.state),
		ss_bfd_diag_name(s->fsm.local_diag), ss_bfd_diag_name(s->fsm.remote_diag));
	*changed = true;
}

/* The session a BFD frame is for: by source address, port and hop mode
 * (RFC 5881 3: one session per address pair and interface); a non-zero
 * Your Discriminator must then be that session's (RFC 5880 6.8.6, checked
 * in rx_bfd). */
static struct ss_bfd_sess *session_of(const struct ss_bfd_rx_frame *f, uint16_t in_port)
{
	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		struct ss_bfd_sess *s = &ss_bfd.s[i];
		bool mh = f->dport == SS_BFD_UDP_MULTI;

		if (!s->used || s->fam != f->fam || !same_ip(f->fam, s->peer, f->src) ||
		    s->cfg.multihop != mh || (!mh && s->port != in_port))
			continue;
		return s;
	}
	return NULL;
}

static void rx_bfd(struct ss_bfd_sess *s, const struct ss_bfd_rx_frame *f, int rc, uint64_t now,
		   bool *changed)
{
	struct ss_bfd_pkt p;
	uint8_t before;
	int ev;

	s->rx_packets++;
	if (rc != SS_BFD_OK)
		return discard(s, rc);
	/* RFC 5881 5: single hop packets are sent and required with TTL 255
	 * (GTSM); RFC 5881 4: from source port 49152-65535 */
	if (!s->cfg.multihop && f->ttl != 255)
		return discard(s, SS_BFD_DISC_TTL);
	if (!s->cfg.multihop && f->sport < 49152)
		return discard(s, SS_BFD_DISC_UDP);
	if (s->has_local && !same_ip(s->fam, s->local, f->dst))
		return discard(s, SS_BFD_DISC_ADDRESS);
	rc = ss_bfd_decode(f->payload, f->plen, &p);
	if (rc != SS_BFD_OK)
		return discard(s, rc);
	if (p.your_discr != 0 && p.your_discr != s->fsm.local_discr)
		return discard(s, SS_BFD_DISC_YOUR_DISCR);
	before = s->fsm.state;
	ev = ss_bfd_fsm_rx(&s->fsm, &p, now);
	if (ev < 0)
		return discard(s, -ev);
	/* SPEC 3.10: the MAC is refreshed from the peer's own packets */
	if (!(s->cfg.present >> SS_BFD_F_MAC & 1)) {
		memcpy(s->mac, f->smac, 6);
		s->mac_known = true;
	}
	if (ev & SS_BFD_EV_STATE)
		state_changed(s, before, changed);
	if (ev & SS_BFD_EV_TX)
		transmit(s, now);
}

static void rx_one(struct rte_mbuf *m, uint64_t now, bool *changed)
{
	struct ss_meta *meta = ss_meta(m);
	struct ss_bfd_rx_frame f;
	struct ss_bfd_sess *s;
	int rc;

	if (!rte_pktmbuf_is_contiguous(m)) {
		ss_bfd.disc[SS_BFD_DISC_SHORT]++;
		return;
	}
	rc = ss_bfd_frame_read(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			       &meta->hdr.outer, &f);
	if (f.kind == SS_BFD_FRAME_BFD) {
		s = session_of(&f, meta->in_port);
		if (s != NULL)
			rx_bfd(s, &f, rc, now, changed);
		else
			discard(NULL, SS_BFD_DISC_YOUR_DISCR);
		return;
	}
	if (rc != SS_BFD_OK || f.kind == SS_BFD_FRAME_NONE)
		return;
	/* an ARP reply / neighbour advertisement of a peer: its MAC */
	s = find_peer(f.fam, f.src);
	if (s != NULL && s->port == meta->in_port && !(s->cfg.present >> SS_BFD_F_MAC & 1)) {
		memcpy(s->mac, f.smac, 6);
		s->mac_known = true;
	}
}

void ss_bfd_poll(void)
{
	struct rte_mbuf *pkts[RX_BURST];
	bool changed = false;
	uint64_t now;
	unsigned int n;

	if (ss_bfd_rx_ring == NULL)
		return;
	now = ss_bfd_now_us();
	do {
		n = rte_ring_sc_dequeue_burst(ss_bfd_rx_ring, (void **)pkts, RX_BURST, NULL);
		for (unsigned int i = 0; i < n; i++) {
			rx_one(pkts[i], now, &changed);
			rte_pktmbuf_free(pkts[i]);
		}
	} while (n == RX_BURST);
	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		struct ss_bfd_sess *s = &ss_bfd.s[i];
		uint8_t before;
		int ev;

		if (!s->used)
			continue;
		before = s->fsm.state;
		ev = ss_bfd_fsm_tick(&s->fsm, now);
		if (ev & SS_BFD_EV_STATE)
			state_changed(s, before, &changed);
		if (ev & SS_BFD_EV_TX)
			transmit(s, now);
	}
	/* SPEC 3.10: a session's next hops leave (or rejoin) every ECMP set */
	if (changed)
		ss_overlay_nh_liveness_changed();
}

/* Punted frames wait in a ring, which wakes nobody: with sessions, the
 * main loop turns at least every RX_POLL_US, so a Poll is answered (and a
 * peer's packet counted) within that. */
#define RX_POLL_US 10000u

uint64_t ss_bfd_poll_in_us(void)
{
	uint64_t now = ss_bfd_now_us(), next = UINT64_MAX;

	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		const struct ss_bfd_sess *s = &ss_bfd.s[i];
		uint64_t d;

		if (!s->used)
			continue;
		d = ss_bfd_fsm_deadline(&s->fsm);
		if (d < next)
			next = d;
		if (now + RX_POLL_US < next)
			next = now + RX_POLL_US;
	}
	return next <= now ? 0 : next - now;
}

/* ---- the table ------------------------------------------------------------------------- */

/* The local address of a session: local_ip, else the switch's underlay
 * IP of the peer's family. */
static void resolve_local(struct ss_bfd_sess *s)
{
	const struct ss_rec_ip *ip = s->cfg.local_ip.family ? &s->cfg.local_ip
				     : s->fam == 4 ? &ss_bfd.sw4 : &ss_bfd.sw6;

	s->has_local = fam_of(ip) == s->fam;
	memset(s->local, 0, sizeof(s->local));
	if (s->has_local)
		memcpy(s->local, ip->bytes, s->fam == 4 ? 4 : 16);
}

static int stage_op(enum ss_change_op op, const struct ss_bfd_rec *rec)
{
	if (ss_bfd.nops == ss_bfd.cap_ops) {
		size_t cap = ss_bfd.cap_ops ? 2 * ss_bfd.cap_ops : 16;
		struct ss_bfd_op *v = realloc(ss_bfd.ops, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		ss_bfd.ops = v;
		ss_bfd.cap_ops = cap;
	}
	ss_bfd.ops[ss_bfd.nops].op = op;
	ss_bfd.ops[ss_bfd.nops].rec = *rec;
	ss_bfd.nops++;
	return 0;
}

/* The address list as it will be after the staged ops. */
static int build_peers(char *err, size_t errlen)
{
	struct ss_bfd_peer v[SS_BFD_MAX_SESSIONS];
	struct ss_bfd_peers *ps;
	uint32_t n = 0;

	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		const struct ss_bfd_sess *s = &ss_bfd.s[i];

		if (!s->used)
			continue;
		v[n] = (struct ss_bfd_peer){ .fam = s->fam, .multihop = s->cfg.multihop,
					     .port = s->port };
		memcpy(v[n].ip, s->peer, 16);
		n++;
	}
	for (size_t k = 0; k < ss_bfd.nops; k++) {
		const struct ss_bfd_rec *r = &ss_bfd.ops[k].rec;
		struct ss_bfd_peer p = { .fam = (uint8_t)fam_of(&r->peer), .multihop = r->multihop,
					 .port = ss_port_by_name(r->port) };
		uint32_t j;

		memcpy(p.ip, r->peer.bytes, 16);
		if (p.fam == 4)
			memset(p.ip + 4, 0, 12);
		for (j = 0; j < n; j++)
			if (v[j].fam == p.fam && same_ip(p.fam, v[j].ip, p.ip))
				break;
		if (ss_bfd.ops[k].op == SS_CHANGE_DELETE) {
			if (j < n)
				v[j] = v[--n];
			continue;
		}
		if (p.port == SS_PORT_NONE) {
			snprintf(err, errlen, "bfd %s: port %s not found",
				 inet_ntop(r->peer.family, r->peer.bytes, (char[48]){ 0 }, 48), r->port);
			return -ENOENT;
		}
		if (j == n && n == SS_BFD_MAX_SESSIONS) {
			snprintf(err, errlen, "bfd: more than %d sessions", SS_BFD_MAX_SESSIONS);
			return -ENOSPC;
		}
		v[j] = p;
		if (j == n)
			n++;
	}
	ps = rte_zmalloc("ss_bfd_peers", sizeof(*ps) + n * sizeof(ps->p[0]), 0);
	if (ps == NULL) {
		snprintf(err, errlen, "bfd: out of memory");
		return -ENOMEM;
	}
	ps->n = n;
	memcpy(ps->p, v, n * sizeof(v[0]));
	ss_bfd.next_peers = ps;
	return 0;
}

int ss_bfd_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		   char *err, size_t errlen)
{
	bool touched = false;

	(void)ctx;
	(void)ctl;
	for (size_t i = 0; i < n; i++) {
		const struct ss_change *c = &changes[i];

		if (c->ty == &ss_type_switch) {
			const struct ss_switch_rec *sw = c->op == SS_CHANGE_DELETE ? NULL : c->rec;

			ss_bfd.sw_staged = true;
			ss_bfd.stage_sw4 = sw ? sw->underlay_ip : (struct ss_rec_ip){ 0 };
			ss_bfd.stage_sw6 = sw ? sw->underlay_ip6 : (struct ss_rec_ip){ 0 };
			continue;
		}
		if (c->ty != &ss_type_bfd)
			continue;
		touched = true;
		if (stage_op(c->op, c->op == SS_CHANGE_DELETE ? c->old_rec : c->rec) != 0) {
			snprintf(err, errlen, "bfd: out of memory");
			ss_bfd_abort(NULL);
			return -ENOMEM;
		}
	}
	if (touched) {
		int rc = build_peers(err, errlen);

		if (rc != 0) {
			ss_bfd_abort(NULL);
			return rc;
		}
	}
	return 0;
}

static void sess_config(struct ss_bfd_sess *s, const struct ss_bfd_rec *r, uint64_t now)
{
	bool fresh = !s->used;
	bool moved = !fresh && (strcmp(s->cfg.port, r->port) != 0 ||
				s->cfg.multihop != r->multihop);

	if (fresh || moved) {
		uint32_t slot = (uint32_t)(s - ss_bfd.s);
		/* unique by the slot in the low bits, unpredictable above */
		uint32_t discr = ((uint32_t)rte_rand() & 0xffff0000u) | (slot + 1);

		memset(s, 0, sizeof(*s));
		s->used = true;
		s->fam = (uint8_t)fam_of(&r->peer);
		memcpy(s->peer, r->peer.bytes, s->fam == 4 ? 4 : 16);
		rec_key(&r->peer, s->key, sizeof(s->key));
		s->sport = (uint16_t)(49152 + rte_rand() % 16384);
		ss_bfd_fsm_init(&s->fsm, discr, (uint32_t)rte_rand(), r->tx_interval_ms * 1000,
				r->rx_interval_ms * 1000, r->detect_mult, now);
		RTE_LOG(INFO, USER1, "bfd %s: session on port %s, %s hop, discriminator %u\n",
			s->key, r->port, r->multihop ? "multi" : "single", discr);
	} else {
		ss_bfd_fsm_set(&s->fsm, r->tx_interval_ms * 1000, r->rx_interval_ms * 1000,
			       r->detect_mult, now);
	}
	s->cfg = *r;
	s->port = ss_port_by_name(r->port);
	if (r->present >> SS_BFD_F_MAC & 1) {
		memcpy(s->mac, r->mac, 6);
		s->mac_known = true;
	} else if (fresh || moved) {
		s->mac_known = false;
	}
	resolve_local(s);
}

/* RFC 5880 6.8.16: tell the peer the session is going away (AdminDown). */
static void sess_delete(struct ss_bfd_sess *s, uint64_t now)
{
	ss_bfd_fsm_admin(&s->fsm, true, now);
	transmit(s, now);
	RTE_LOG(INFO, USER1, "bfd %s: session deleted\n", s->key);
	memset(s, 0, sizeof(*s));
}

void ss_bfd_commit(void *ctx)
{
	uint64_t now = ss_bfd_now_us();
	bool touched = ss_bfd.next_peers != NULL;

	(void)ctx;
	if (ss_bfd.sw_staged) {
		ss_bfd.sw4 = ss_bfd.stage_sw4;
		ss_bfd.sw6 = ss_bfd.stage_sw6;
		ss_bfd.sw_staged = false;
		for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++)
			if (ss_bfd.s[i].used)
				resolve_local(&ss_bfd.s[i]);
	}
	for (size_t k = 0; k < ss_bfd.nops; k++) {
		const struct ss_bfd_op *op = &ss_bfd.ops[k];
		char key[48];
		struct ss_bfd_sess *s;

		rec_key(&op->rec.peer, key, sizeof(key));
		s = ss_bfd_find_key(key);
		if (op->op == SS_CHANGE_DELETE) {
			if (s != NULL)
				sess_delete(s, now);
			continue;
		}
		for (unsigned int i = 0; s == NULL && i < SS_BFD_MAX_SESSIONS; i++)
			if (!ss_bfd.s[i].used)
				s = &ss_bfd.s[i];
		if (s != NULL)       /* capacity was checked in prepare */
			sess_config(s, &op->rec, now);
	}
	ss_bfd.nops = 0;
	if (touched) {
		ss_bfd.old_peers = ss_bfd_peers_cur;
		__atomic_store_n(&ss_bfd_peers_cur, ss_bfd.next_peers, __ATOMIC_RELEASE);
		ss_bfd.next_peers = NULL;
		/* sessions came or went: their next hops too */
		ss_overlay_nh_liveness_changed();
	}
}

void ss_bfd_abort(void *ctx)
{
	(void)ctx;
	ss_bfd.nops = 0;
	ss_bfd.sw_staged = false;
	rte_free(ss_bfd.next_peers);
	ss_bfd.next_peers = NULL;
}

void ss_bfd_reclaim(void *ctx)
{
	(void)ctx;
	rte_free(ss_bfd.old_peers);
	ss_bfd.old_peers = NULL;
}
