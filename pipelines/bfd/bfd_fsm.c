/* SPDX-License-Identifier: BSD-3-Clause
 *
 * BFD protocol core (bfd_fsm.h): RFC 5880 sections cited at each step.
 */
#include <string.h>

#include "pipelines/bfd/bfd_fsm.h"

static const char *const discard_names[SS_BFD_DISC_COUNT] = {
	[SS_BFD_OK] = "ok",
#define SS_BFD_X(id, name) [SS_BFD_DISC_##id] = name,
	SS_BFD_DISCARDS(SS_BFD_X)
#undef SS_BFD_X
};

const char *ss_bfd_discard_name(unsigned int reason)
{
	return reason < SS_BFD_DISC_COUNT ? discard_names[reason] : "unknown";
}

const char *ss_bfd_state_name(unsigned int state)
{
	static const char *const n[] = { "admin_down", "down", "init", "up" };

	return state < 4 ? n[state] : "unknown";
}

const char *ss_bfd_diag_name(unsigned int diag)
{
	static const char *const n[] = {
		"none", "control_expired", "echo_failed", "neighbor_down", "forwarding_reset",
		"path_down", "concatenated_path_down", "admin_down", "reverse_concatenated_path_down",
	};

	return diag < sizeof(n) / sizeof(n[0]) ? n[diag] : "unknown";
}

/* ---- codec (RFC 5880 4.1) ----------------------------------------------------- */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int ss_bfd_decode(const uint8_t *p, uint32_t len, struct ss_bfd_pkt *out)
{
	struct ss_bfd_pkt k;

	if (len < SS_BFD_PKT_LEN)
		return SS_BFD_DISC_SHORT;
	k.version = p[0] >> 5;
	k.diag = p[0] & 0x1f;
	k.state = p[1] >> 6;
	k.flags = p[1] & 0x3f;
	k.detect_mult = p[2];
	k.length = p[3];
	k.my_discr = rd32(p + 4);
	k.your_discr = rd32(p + 8);
	k.desired_min_tx = rd32(p + 12);
	k.required_min_rx = rd32(p + 16);
	k.required_min_echo_rx = rd32(p + 20);
	/* 6.8.6, in the RFC's order */
	if (k.version != 1)
		return SS_BFD_DISC_VERSION;
	if (k.length < ((k.flags & SS_BFD_F_AUTH) ? 26 : SS_BFD_PKT_LEN) || k.length > len)
		return SS_BFD_DISC_LENGTH;
	if (k.detect_mult == 0)
		return SS_BFD_DISC_DETECT_MULT;
	if (k.flags & SS_BFD_F_MULTI)
		return SS_BFD_DISC_MULTIPOINT;
	if (k.my_discr == 0)
		return SS_BFD_DISC_MY_DISCR;
	if (k.your_discr == 0 && k.state != SS_BFD_DOWN && k.state != SS_BFD_ADMIN_DOWN)
		return SS_BFD_DISC_YOUR_DISCR;
	/* no session of ours uses authentication (SPEC 3.10) */
	if (k.flags & SS_BFD_F_AUTH)
		return SS_BFD_DISC_AUTH;
	/* 6.5: "A BFD Control packet MUST NOT have both the Poll (P) and
	 * Final (F) bits set." */
	if ((k.flags & (SS_BFD_F_POLL | SS_BFD_F_FINAL)) == (SS_BFD_F_POLL | SS_BFD_F_FINAL))
		return SS_BFD_DISC_POLL_FINAL;
	*out = k;
	return SS_BFD_OK;
}

void ss_bfd_encode(const struct ss_bfd_pkt *k, uint8_t out[SS_BFD_PKT_LEN])
{
	out[0] = (uint8_t)(k->version << 5 | (k->diag & 0x1f));
	out[1] = (uint8_t)(k->state << 6 | (k->flags & 0x3f));
	out[2] = k->detect_mult;
	out[3] = k->length;
	wr32(out + 4, k->my_discr);
	wr32(out + 8, k->your_discr);
	wr32(out + 12, k->desired_min_tx);
	wr32(out + 16, k->required_min_rx);
	wr32(out + 20, k->required_min_echo_rx);
}

/* ---- timers --------------------------------------------------------------------- */

/* bfd.DesiredMinTxInterval as advertised: at least one second while the
 * session is not Up (6.8.3). */
static uint32_t adv_tx(const struct ss_bfd_fsm *s)
{
	return s->state == SS_BFD_UP || s->cfg_tx >= SS_BFD_SLOW_TX_US ? s->cfg_tx
								       : SS_BFD_SLOW_TX_US;
}

/* The transmit interval in force before jitter (6.8.7): the larger of our
 * DesiredMinTxInterval in force and the peer's RequiredMinRxInterval. */
static uint32_t tx_interval(const struct ss_bfd_fsm *s)
{
	uint32_t t = s->act_tx;

	if (s->state != SS_BFD_UP && t < SS_BFD_SLOW_TX_US)
		t = SS_BFD_SLOW_TX_US;
	return t > s->remote_min_rx ? t : s->remote_min_rx;
}

uint64_t ss_bfd_fsm_detect_time(const struct ss_bfd_fsm *s)
{
	/* 6.8.4, asynchronous mode: the remote Detect Mult times the larger
	 * of our RequiredMinRxInterval in force and the last received
	 * Desired Min TX Interval */
	uint32_t rx = s->act_rx > s->remote_min_tx ? s->act_rx : s->remote_min_tx;

	return (uint64_t)s->remote_detect_mult * rx;
}

static uint32_t rnd(struct ss_bfd_fsm *s)
{
	uint32_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	s->rng = x;
	return x;
}

/* 6.8.7: the interval reduced by 0-25% at random, so that it is 75-100%;
 * with a Detect Mult of 1, 75-90%. */
static uint64_t jittered(struct ss_bfd_fsm *s)
{
	uint64_t t = tx_interval(s);
	uint32_t span = s->detect_mult == 1 ? 16 : 26;   /* percent points */

	return t * (75 + rnd(s) % span) / 100;
}

static void set_state(struct ss_bfd_fsm *s, uint8_t st, uint64_t now)
{
	if (st == s->state)
		return;
	if (st == SS_BFD_UP)
		s->up_transitions++;
	if (s->state == SS_BFD_UP)
		s->down_transitions++;
	s->state = st;
	s->last_change = now;
	if (st == SS_BFD_UP) {
		/* the advertised DesiredMinTxInterval drops from the slow
		 * one to the configured one: announced with a Poll (6.8.3) */
		if (s->cfg_tx < SS_BFD_SLOW_TX_US)
			s->poll = true;
	} else if (s->poll) {
		/* a Poll Sequence only matters while Up */
		s->poll = false;
		s->act_tx = s->cfg_tx;
		s->act_rx = s->cfg_rx;
	}
}

void ss_bfd_fsm_init(struct ss_bfd_fsm *s, uint32_t discr, uint32_t seed, uint32_t tx_us,
		     uint32_t rx_us, uint8_t detect_mult, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	s->state = SS_BFD_DOWN;
	s->remote_state = SS_BFD_DOWN;
	s->local_discr = discr ? discr : 1;
	s->rng = seed ? seed : 0x9e3779b9u;
	s->cfg_tx = s->act_tx = tx_us;
	s->cfg_rx = s->act_rx = rx_us;
	s->detect_mult = detect_mult ? detect_mult : 1;
	s->remote_min_rx = 1;          /* 6.8.1: initialised to 1 */
	s->next_tx = now;
	s->last_change = now;
}

void ss_bfd_fsm_set(struct ss_bfd_fsm *s, uint32_t tx_us, uint32_t rx_us, uint8_t detect_mult,
		    uint64_t now)
{
	bool changed = tx_us != s->cfg_tx || rx_us != s->cfg_rx;

	s->detect_mult = detect_mult ? detect_mult : 1;
	s->cfg_tx = tx_us;
	s->cfg_rx = rx_us;
	if (s->state != SS_BFD_UP) {
		s->act_tx = tx_us;
		s->act_rx = rx_us;
		return;
	}
	if (!changed)
		return;
	/* 6.8.3: a faster transmission and a longer detection take effect at
	 * once; a slower transmission and a shorter detection only when the
	 * Poll Sequence has terminated */
	if (tx_us < s->act_tx)
		s->act_tx = tx_us;      /* next_tx: the Poll goes out now */
	if (rx_us > s->act_rx)
		s->act_rx = rx_us;
	s->poll = true;
	s->next_tx = now;            /* start the Poll Sequence now */
}

void ss_bfd_fsm_admin(struct ss_bfd_fsm *s, bool down, uint64_t now)
{
	if (down) {
		set_state(s, SS_BFD_ADMIN_DOWN, now);
		s->local_diag = SS_BFD_DIAG_ADMIN_DOWN;
		s->detect_at = 0;
	} else if (s->state == SS_BFD_ADMIN_DOWN) {
		set_state(s, SS_BFD_DOWN, now);
		s->local_diag = SS_BFD_DIAG_NONE;
	}
	s->next_tx = now;
}

int ss_bfd_fsm_rx(struct ss_bfd_fsm *s, const struct ss_bfd_pkt *p, uint64_t now)
{
	uint8_t before = s->state;
	int ev = 0;

	/* 6.8.6: the session's view of the peer */
	s->remote_discr = p->my_discr;
	s->remote_state = p->state;
	s->remote_diag = p->diag;
	s->remote_min_tx = p->desired_min_tx;
	s->remote_detect_mult = p->detect_mult;
	if (p->required_min_rx != s->remote_min_rx) {
		s->remote_min_rx = p->required_min_rx;
		/* 6.8.7: a changed RemoteMinRxInterval reschedules at once when
		 * it allows sending sooner */
		if (s->remote_min_rx != 0 && s->next_tx > now + tx_interval(s))
			s->next_tx = now + jittered(s);
	}
	/* the Final that terminates our Poll Sequence: what it announced is
	 * in force now */
	if ((p->flags & SS_BFD_F_FINAL) && s->poll) {
		s->poll = false;
		s->act_tx = s->cfg_tx;
		s->act_rx = s->cfg_rx;
	}
	if (s->state == SS_BFD_ADMIN_DOWN)
		return -SS_BFD_DISC_ADMIN_DOWN;
	s->detect_at = now + ss_bfd_fsm_detect_time(s);
	if (p->state == SS_BFD_ADMIN_DOWN) {
		if (s->state != SS_BFD_DOWN) {
			s->local_diag = SS_BFD_DIAG_NEIGHBOR_DOWN;
			set_state(s, SS_BFD_DOWN, now);
		}
	} else if (s->state == SS_BFD_DOWN) {
		if (p->state == SS_BFD_DOWN) {
			set_state(s, SS_BFD_INIT, now);
		} else if (p->state == SS_BFD_INIT) {
			s->local_diag = SS_BFD_DIAG_NONE;
			set_state(s, SS_BFD_UP, now);
		}
	} else if (s->state == SS_BFD_INIT) {
		if (p->state == SS_BFD_INIT || p->state == SS_BFD_UP) {
			s->local_diag = SS_BFD_DIAG_NONE;
			set_state(s, SS_BFD_UP, now);
		}
	} else if (p->state == SS_BFD_DOWN) {          /* Up */
		s->local_diag = SS_BFD_DIAG_NEIGHBOR_DOWN;
		set_state(s, SS_BFD_DOWN, now);
	}
	if (s->state != before) {
		ev |= SS_BFD_EV_STATE;
		/* Up: the slow one-second schedule ends now; the peer times
		 * us by the interval we advertise from this packet on */
		if (s->next_tx > now + tx_interval(s))
			s->next_tx = now + jittered(s);
	}
	/* a Poll is answered with a Final at once, whatever the timers */
	if (p->flags & SS_BFD_F_POLL) {
		s->final_due = true;
		ev |= SS_BFD_EV_TX;
	}
	return ev;
}

int ss_bfd_fsm_tick(struct ss_bfd_fsm *s, uint64_t now)
{
	int ev = 0;

	if (s->detect_at != 0 && now >= s->detect_at) {
		/* 6.8.4 / 6.8.1: the detection time passed without a valid
		 * packet */
		s->detect_at = 0;
		s->remote_discr = 0;
		if (s->state == SS_BFD_INIT || s->state == SS_BFD_UP) {
			s->local_diag = SS_BFD_DIAG_EXPIRED;
			s->remote_state = SS_BFD_DOWN;
			set_state(s, SS_BFD_DOWN, now);
			ev |= SS_BFD_EV_STATE;
		}
	}
	/* 6.8.7: no periodic packets while the peer asks for none */
	if (s->final_due || (s->remote_min_rx != 0 && now >= s->next_tx))
		ev |= SS_BFD_EV_TX;
	return ev;
}

uint64_t ss_bfd_fsm_deadline(const struct ss_bfd_fsm *s)
{
	uint64_t d = s->next_tx;

	if (s->detect_at != 0 && s->detect_at < d)
		d = s->detect_at;
	return d;
}

void ss_bfd_fsm_tx(struct ss_bfd_fsm *s, uint64_t now, struct ss_bfd_pkt *out)
{
	memset(out, 0, sizeof(*out));
	out->version = 1;
	out->diag = s->local_diag;
	out->state = s->state;
	if (s->final_due)
		out->flags = SS_BFD_F_FINAL;
	else if (s->poll)
		out->flags = SS_BFD_F_POLL;
	out->detect_mult = s->detect_mult;
	out->length = SS_BFD_PKT_LEN;
	out->my_discr = s->local_discr;
	out->your_discr = s->remote_discr;
	out->desired_min_tx = adv_tx(s);
	out->required_min_rx = s->cfg_rx;
	out->required_min_echo_rx = 0;   /* no Echo function */
	s->final_due = false;
	if (now >= s->next_tx)
		s->next_tx = now + jittered(s);
}
