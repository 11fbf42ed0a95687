/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The HA sync channel's messages (SPEC 3.11, docs/ha.md "Protocol"): pure
 * encoding and decoding, no DPDK, no sockets, so the unit tests and the
 * libFuzzer harness (tests/fuzz/fuzz_ha.c) call it directly.
 *
 * Every message is a 16-byte header and a body; all integers are in
 * network byte order:
 *
 *    0  u32 len       the whole message, header included (16..SS_HA_MSG_MAX)
 *    4  u8  version   SS_HA_VERSION
 *    5  u8  type      enum ss_ha_type
 *    6  u16 flags     0
 *    8  u32 seq       the sender's sequence number of this message (0: a
 *                     message that is not acknowledged: HELLO, HEARTBEAT)
 *   12  u32 ack       the highest sequence number the sender received in
 *                     order from the other side (cumulative acknowledgement)
 *
 * Bodies: HELLO {u8 role, u8 pad[3]}, HEARTBEAT {}, BULK_BEGIN and
 * BULK_END {u32 flows}, FLOW and FLOW_DEL {struct ss_ha_flow, below},
 * LB_SESS and LB_SESS_DEL {struct ss_ha_lb, below}.
 * ss_ha_msg_decode() accepts exactly these and nothing else: a reader that
 * gets an error closes the connection (the stream has no resynchronisation
 * point).
 */
#ifndef SS_HA_MSG_H
#define SS_HA_MSG_H

#include <stddef.h>
#include <stdint.h>

#define SS_HA_VERSION 2           /* 2: LB_SESS, LB_SESS_DEL */
#define SS_HA_HDR_LEN 16
#define SS_HA_NAME_MAX 63          /* an ENI name's bytes (control: SS_REC_NAME - 1) */
#define SS_HA_FLOW_FIXED 52        /* FLOW body without the ENI name */
#define SS_HA_LB_FIXED 56          /* LB_SESS body without the two names */
#define SS_HA_MSG_MAX (SS_HA_HDR_LEN + SS_HA_LB_FIXED + 2 * SS_HA_NAME_MAX)

enum ss_ha_type {
	SS_HA_HELLO = 1,       /* first message each way: the sender's role */
	SS_HA_HEARTBEAT = 2,   /* every peer_timeout_ms / 4; carries the ack */
	SS_HA_BULK_BEGIN = 3,  /* active: a bulk sync starts (standby: drop all flows) */
	SS_HA_FLOW = 4,        /* active: install or update one flow pair */
	SS_HA_FLOW_DEL = 5,    /* active: remove one flow pair */
	SS_HA_BULK_END = 6,    /* active: every flow of the table was sent */
	/* 16..31 are reserved for per-feature state attached to a flow: each
	 * feature gets its own type, decoded by its own function; an older
	 * peer refuses them as unknown types, so adding one bumps
	 * SS_HA_VERSION. Private Link needs none (docs/ha.md). */
	SS_HA_LB_SESS = 16,    /* active: install one LB session (connection -> backend) */
	SS_HA_LB_SESS_DEL = 17,  /* active: remove one LB session */
};

enum ss_ha_role { SS_HA_ROLE_ACTIVE = 1, SS_HA_ROLE_STANDBY = 2 };

/* TCP state bits a flow carries (conntrack's SS_CT_FIN_A, _FIN_B, _SYN_SEEN) */
#define SS_HA_TCP_MASK 0x07
#define SS_HA_NO_FIN UINT32_MAX

/* A flow pair as the channel carries it. Body layout (52 bytes + name):
 *    0 u8 proto    1 u8 family (4, 6)   2 u8 init_dir (0 outbound, 1 inbound)
 *    3 u8 init_side (0: endpoint a opened it)   4 u8 tcp   5 u8 eni_len
 *    6 u16 pa   8 u16 pb   10 u16 pad (0)   12 u32 idle_ms
 *   16 u32 fin_age_ms (SS_HA_NO_FIN: no FIN from both sides yet)
 *   20 a[16]   36 b[16] (IPv4: the first 4 bytes, the rest 0)
 *   52 the ENI's name (eni_len bytes, 1..63, no NUL)
 * The ENI is named, not numbered: the two switches index their ENIs
 * independently. */
struct ss_ha_flow {
	uint8_t proto;
	uint8_t v6;
	uint8_t init_dir;
	uint8_t init_side;
	uint8_t tcp;
	uint16_t pa, pb;           /* host order */
	uint32_t idle_ms;
	uint32_t fin_age_ms;
	uint8_t a[16], b[16];
	char eni[SS_HA_NAME_MAX + 1];   /* NUL-terminated */
};

/* An LB session as the channel carries it (SPEC 3.9, 3.11: a connection
 * keeps its backend across a failover). Body layout (56 bytes + names):
 *    0 u8 proto   1 u8 family (4, 6)   2 u8 lb_len   3 u8 eni_len
 *    4 u16 sport (the VM's)   6 u16 dport (the VIP's port)
 *    8 src[16] (the VM)   24 vip[16]   40 backend[16] (the backend's ip;
 *    IPv4: the first 4 bytes of each, the rest 0)
 *   56 the LB's name (lb_len bytes, 1..63, no NUL), then the ENI's name
 *      (eni_len bytes, 1..63, no NUL)
 * The connection as the VM sent it (its source, the VIP as destination):
 * the session's forward key; the standby derives the reverse one. */
struct ss_ha_lb {
	uint8_t proto;
	uint8_t v6;
	uint16_t sport, dport;     /* host order */
	uint8_t src[16], vip[16], backend[16];
	char lb[SS_HA_NAME_MAX + 1];    /* NUL-terminated */
	char eni[SS_HA_NAME_MAX + 1];   /* NUL-terminated */
};

struct ss_ha_hdr {
	uint32_t len;
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t ack;
};

struct ss_ha_msg {
	struct ss_ha_hdr h;
	union {
		uint8_t role;          /* HELLO: enum ss_ha_role */
		uint32_t flows;        /* BULK_BEGIN, BULK_END */
		struct ss_ha_flow flow;  /* FLOW, FLOW_DEL */
		struct ss_ha_lb lb;      /* LB_SESS, LB_SESS_DEL */
	} u;
};

/* Decode errors (negative returns of ss_ha_msg_decode). */
#define SS_HA_E_MALFORMED (-1)
#define SS_HA_E_VERSION (-2)

/* Encoders: write one message into buf (at least SS_HA_MSG_MAX bytes) and
 * return its length. The flow's ENI name must be 1..63 bytes. */
size_t ss_ha_encode_hello(uint8_t *buf, uint32_t ack, uint8_t role);
size_t ss_ha_encode_heartbeat(uint8_t *buf, uint32_t ack);
size_t ss_ha_encode_bulk(uint8_t *buf, uint8_t type, uint32_t seq, uint32_t ack,
			 uint32_t flows);
size_t ss_ha_encode_flow(uint8_t *buf, uint8_t type, uint32_t seq, uint32_t ack,
			 const struct ss_ha_flow *f);
/* LB_SESS or LB_SESS_DEL; both names must be 1..63 bytes. */
size_t ss_ha_encode_lb(uint8_t *buf, uint8_t type, uint32_t seq, uint32_t ack,
		       const struct ss_ha_lb *l);

/* The first message of buf[0..n): its length (> 0) with *m filled when it is
 * whole and valid; 0 when more bytes are needed to tell; SS_HA_E_VERSION
 * for another protocol version; SS_HA_E_MALFORMED for anything else wrong
 * (length out of range, unknown type, a body of the wrong size, a field
 * out of its range, a non-zero pad or flag). *why names the reason of an
 * error (a static string). Reads nothing outside buf[0..n). */
int ss_ha_msg_decode(const uint8_t *buf, size_t n, struct ss_ha_msg *m, const char **why);

const char *ss_ha_type_name(uint8_t type);

#endif
