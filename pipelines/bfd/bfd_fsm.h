/* SPDX-License-Identifier: BSD-3-Clause
 *
 * BFD, the protocol itself (RFC 5880, asynchronous mode, no
 * authentication, no Demand mode, no Echo): the control packet codec, the
 * reception checks of RFC 5880 section 6.8.6, the session state machine
 * (section 6.2 / 6.8.6), timers (6.8.2-6.8.4), Poll/Final for interval
 * changes (6.5, 6.8.3) and jittered transmission (6.8.7).
 *
 * DPDK-free and clock-free: every function takes `now` in microseconds,
 * so the unit test (test/test_bfd_fsm.c) drives it with a fake clock.
 * Control thread only (pipelines/bfd/bfd_sess.c owns the sessions).
 */
#ifndef SS_BFD_FSM_H
#define SS_BFD_FSM_H

#include <stdbool.h>
#include <stdint.h>

#define SS_BFD_UDP_SINGLE 3784   /* RFC 5881 */
#define SS_BFD_UDP_MULTI 4784    /* RFC 5883 */
#define SS_BFD_PKT_LEN 24        /* mandatory section, no authentication */
#define SS_BFD_SLOW_TX_US 1000000u /* 6.8.3: DesiredMinTxInterval while not Up */

/* bfd.SessionState and the State field (RFC 5880 4.1) */
enum ss_bfd_state { SS_BFD_ADMIN_DOWN = 0, SS_BFD_DOWN = 1, SS_BFD_INIT = 2, SS_BFD_UP = 3 };

/* Diagnostic codes (RFC 5880 4.1) */
enum ss_bfd_diag {
	SS_BFD_DIAG_NONE = 0,
	SS_BFD_DIAG_EXPIRED = 1,        /* Control Detection Time Expired */
	SS_BFD_DIAG_ECHO_FAILED = 2,
	SS_BFD_DIAG_NEIGHBOR_DOWN = 3,  /* Neighbor Signaled Session Down */
	SS_BFD_DIAG_FWD_RESET = 4,
	SS_BFD_DIAG_PATH_DOWN = 5,
	SS_BFD_DIAG_CONCAT_DOWN = 6,
	SS_BFD_DIAG_ADMIN_DOWN = 7,
	SS_BFD_DIAG_REV_CONCAT_DOWN = 8,
};

/* flag bits of the second byte (RFC 5880 4.1) */
#define SS_BFD_F_POLL 0x20
#define SS_BFD_F_FINAL 0x10
#define SS_BFD_F_CPI 0x08
#define SS_BFD_F_AUTH 0x04
#define SS_BFD_F_DEMAND 0x02
#define SS_BFD_F_MULTI 0x01

/* A decoded control packet (intervals in microseconds, host order). */
struct ss_bfd_pkt {
	uint8_t version;
	uint8_t diag;
	uint8_t state;
	uint8_t flags;               /* SS_BFD_F_* */
	uint8_t detect_mult;
	uint8_t length;
	uint32_t my_discr;
	uint32_t your_discr;
	uint32_t desired_min_tx;
	uint32_t required_min_rx;
	uint32_t required_min_echo_rx;
};

/* Why a packet was discarded: every check of RFC 5880 6.8.6 (and RFC
 * 5881 5, RFC 5883 2 for the frame around it) has its own counter. */
#define SS_BFD_DISCARDS(X)                                                     \
	X(SHORT, "short")                /* fewer than 24 bytes of UDP payload */ \
	X(VERSION, "bad_version")        /* version != 1 */                       \
	X(LENGTH, "bad_length")          /* Length < 24, or > the payload */       \
	X(DETECT_MULT, "zero_detect_mult")                                        \
	X(MULTIPOINT, "multipoint")      /* M bit set */                          \
	X(MY_DISCR, "zero_my_discr")                                              \
	X(YOUR_DISCR, "bad_your_discr")  /* 0 while State is not Down/AdminDown, \
					  * or no session has it */               \
	X(AUTH, "auth")                  /* A bit: no authentication configured */ \
	X(POLL_FINAL, "poll_and_final")  /* P and F both set (6.5) */             \
	X(TTL, "bad_ttl")                /* single hop: TTL / hop limit != 255 */  \
	X(UDP, "bad_udp")                /* UDP length or source port */          \
	X(ADDRESS, "bad_address")        /* not to the session's local address */ \
	X(ADMIN_DOWN, "admin_down")      /* the session is AdminDown */

enum ss_bfd_discard {
	SS_BFD_OK = 0,
#define SS_BFD_X(id, name) SS_BFD_DISC_##id,
	SS_BFD_DISCARDS(SS_BFD_X)
#undef SS_BFD_X
	SS_BFD_DISC_COUNT
};

/* The counter name of a discard reason ("short", "bad_version", ...). */
const char *ss_bfd_discard_name(unsigned int reason);

/* Decode and check the fields RFC 5880 6.8.6 checks before the session is
 * known (everything but your_discr's session lookup). `len` is the UDP
 * payload length. SS_BFD_OK or the discard reason. */
int ss_bfd_decode(const uint8_t *p, uint32_t len, struct ss_bfd_pkt *out);
/* Encode a 24-byte control packet. */
void ss_bfd_encode(const struct ss_bfd_pkt *pkt, uint8_t out[SS_BFD_PKT_LEN]);

/* One session's protocol state (RFC 5880 6.8.1 variables and timers). */
struct ss_bfd_fsm {
	uint8_t state;               /* bfd.SessionState */
	uint8_t remote_state;        /* bfd.RemoteSessionState */
	uint8_t local_diag;          /* bfd.LocalDiag */
	uint8_t remote_diag;         /* the Diag of the last accepted packet */
	uint8_t detect_mult;         /* bfd.DetectMult */
	uint8_t remote_detect_mult;
	bool poll;                   /* a Poll Sequence is in progress */
	bool final_due;              /* a packet with F must go out now */
	uint32_t local_discr;        /* bfd.LocalDiscr, never 0 */
	uint32_t remote_discr;       /* bfd.RemoteDiscr */
	/* configured intervals (us); what the packets advertise */
	uint32_t cfg_tx, cfg_rx;
	/* intervals in force: the advertised ones once the Poll Sequence that
	 * announced them has terminated (6.8.3) */
	uint32_t act_tx, act_rx;
	uint32_t remote_min_rx;      /* bfd.RemoteMinRxInterval */
	uint32_t remote_min_tx;      /* the peer's Desired Min TX Interval */
	uint64_t next_tx;            /* when the next periodic packet is due */
	uint64_t detect_at;          /* 0: no detection timer running */
	uint64_t last_change;        /* time of the last state change */
	uint32_t rng;                /* jitter (xorshift32) */
	/* counters */
	uint64_t up_transitions, down_transitions;
};

/* Events returned by rx / tick (bit set). */
#define SS_BFD_EV_STATE 0x1          /* the state changed */
#define SS_BFD_EV_TX 0x2             /* send a packet now (ss_bfd_fsm_tx) */

/* A new session in state Down, sending at once. `discr` != 0, `seed` for
 * the jitter, intervals in microseconds. */
void ss_bfd_fsm_init(struct ss_bfd_fsm *s, uint32_t discr, uint32_t seed, uint32_t tx_us,
		     uint32_t rx_us, uint8_t detect_mult, uint64_t now);
/* New configured intervals / multiplier: takes effect through a Poll
 * Sequence when Up (RFC 5880 6.8.3), at once otherwise. */
void ss_bfd_fsm_set(struct ss_bfd_fsm *s, uint32_t tx_us, uint32_t rx_us, uint8_t detect_mult,
		    uint64_t now);
/* Reception of a packet that passed ss_bfd_decode and was matched to this
 * session (RFC 5880 6.8.6 from "If the A bit is set" on). Returns
 * SS_BFD_EV_* bits, or -SS_BFD_DISC_* when the packet is discarded. */
int ss_bfd_fsm_rx(struct ss_bfd_fsm *s, const struct ss_bfd_pkt *p, uint64_t now);
/* Timers: the detection time (6.8.4) and the periodic transmission
 * (6.8.7). SS_BFD_EV_* bits. */
int ss_bfd_fsm_tick(struct ss_bfd_fsm *s, uint64_t now);
/* The packet to send now (with F if one is due, P while polling), and the
 * next periodic transmission scheduled with jitter (6.8.7). */
void ss_bfd_fsm_tx(struct ss_bfd_fsm *s, uint64_t now, struct ss_bfd_pkt *out);
/* The detection time in force (6.8.4), microseconds. */
uint64_t ss_bfd_fsm_detect_time(const struct ss_bfd_fsm *s);
/* The earliest time tick() has something to do. */
uint64_t ss_bfd_fsm_deadline(const struct ss_bfd_fsm *s);
/* Take the session administratively down (diag 7) or back up (Down). */
void ss_bfd_fsm_admin(struct ss_bfd_fsm *s, bool down, uint64_t now);

const char *ss_bfd_state_name(unsigned int state);
const char *ss_bfd_diag_name(unsigned int diag);

#endif
