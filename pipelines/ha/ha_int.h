/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The HA channel's state, shared by ha_chan.c (the protocol engine) and
 * ha_feature.c (config, methods, stats). Control thread only.
 */
#ifndef SS_HA_INT_H
#define SS_HA_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pipelines/conntrack/ct-t.h"
#include "pipelines/ha/ha_msg.h"
#include "pipelines/lb/lb.h"

enum ha_peer_state { HA_PEER_DOWN = 0, HA_PEER_CONNECTING, HA_PEER_CONNECTED };
enum ha_bulk_state { HA_BULK_IDLE = 0, HA_BULK_RUNNING, HA_BULK_DONE };

struct ha_conf {
	bool on;                       /* an `ha` section in the config */
	uint8_t role;                  /* enum ss_ha_role */
	char listen[64], peer[64];     /* as configured */
	struct sockaddr_storage listen_sa, peer_sa;
	socklen_t listen_len, peer_len;
	bool auto_failover;
	uint32_t peer_timeout_ms;
};

struct ha_counters {
	uint64_t sent, received;       /* messages */
	uint64_t rejected;             /* connections closed: stranger, version, malformed */
	uint64_t unknown_eni;          /* flow / LB messages for an ENI this switch lacks */
	uint64_t unknown_lb;           /* LB sessions of an LB or backend this switch lacks */
	uint64_t install_failed;       /* flows the table refused (capacity) */
	uint64_t resyncs;              /* bulk syncs after the event ring overflowed */
	uint64_t bulk_syncs;           /* bulk syncs started (active) or received (standby) */
	uint64_t failovers;            /* standby -> active */
	uint64_t events_dropped;       /* baseline-free copy of the hook's counter */
	uint64_t standby_rx;
};

/* One TCP connection to the peer. */
struct ha_conn {
	int fd;                        /* -1: none */
	bool outbound;                 /* we connected (active) */
	bool connecting;               /* non-blocking connect in progress */
	bool hello_rcvd;
	uint8_t *in;                   /* received, not yet decoded */
	size_t in_len;
	uint8_t *out;                  /* to send: out[out_off..out_len) */
	size_t out_off, out_len;
	uint64_t last_rx, last_tx;     /* tsc */
	uint32_t tx_seq;               /* last sequence number sent */
	uint32_t rx_seq;               /* last received in order */
	uint32_t ack_sent;             /* last ack we sent */
	uint32_t acked;                /* last ack received */
};

/* A sent event awaiting its ack: sync_lag_ms is measured from them. */
struct ha_pending {
	uint32_t seq;
	uint64_t tsc;
};

struct ha_state {
	struct ha_conf conf;
	int lfd;                       /* listening socket, -1 */
	struct ha_conn c;
	uint8_t peer_state;            /* enum ha_peer_state */
	uint8_t bulk;                  /* enum ha_bulk_state */
	bool heard_peer;               /* a HELLO was received once (auto_failover arms) */
	uint64_t next_try;             /* tsc: next connect attempt (active) */
	uint32_t backoff_ms;
	uint64_t down_since;           /* tsc: the peer went silent (standby) */
	/* active: bulk sync and refresh passes over the flow table */
	const struct ss_ct *walk_ct;   /* the table the walk is over */
	uint32_t cursor;
	bool refresh;                  /* the walk is a refresh pass (after the bulk) */
	uint64_t pass_start;           /* tsc */
	uint32_t bulk_sent;
	uint64_t seen_dropped;         /* hook.dropped at the last look */
	int64_t synced_flows;          /* active: flows sent minus removals; standby: installed */
	int64_t lb_sessions;           /* active: LB sessions sent; standby: installed */
	/* lag */
	struct ha_pending *pend;       /* FIFO of HA_PEND_MAX */
	uint32_t pend_head, pend_tail;
	uint64_t lag_tsc;              /* last measured: event to its ack */
	uint64_t lag_at;               /* tsc of that measurement */
	/* events from conntrack */
	struct rte_ring *ring;
	struct ss_ct_sync hook;
	/* events from the load balancer (struct ss_lb_event) */
	struct rte_ring *lb_ring;
	struct ss_lb_sync lb_hook;
	struct ha_counters cnt, base;
	uint64_t hz;
};

#define HA_PEND_MAX (1u << 18)

extern struct ha_state ss_ha;

/* ha_chan.c */
/* The standby creates no flow of its own while hold (ss_ct_create_hold);
 * ha_out/ha_in's fast_skip answer changes with it. Control thread. */
void ss_ha_hold_creates(bool hold);

int ss_ha_chan_open(char *err, size_t errlen);
void ss_ha_chan_poll(void);
uint64_t ss_ha_chan_poll_in_us(void);
void ss_ha_chan_set_role(uint8_t role);
void ss_ha_chan_close(void);
uint64_t ss_ha_lag_ms(void);
/* events refused by the full rings (conntrack's and the LB's) */
uint64_t ss_ha_events_dropped(void);
int ss_ha_parse_addr(const char *s, struct sockaddr_storage *sa, socklen_t *len);

/* ha_lb.c */
const char *ss_ha_eni_name(uint32_t eni);
/* The LB_SESS of an LB event; false when its ENI or LB has no name. */
bool ss_ha_lb_from_event(struct ss_ha_lb *l, const struct ss_lb_event *ev);
/* The LB_SESS of the live LB session of flow k (ENI eni, opened by side
 * init_side); false when it has none. */
bool ss_ha_lb_for_flow(struct ss_ha_lb *l, const struct ss_ct_key *k, uint32_t eni,
		       uint8_t init_side);
/* A standby applies LB_SESS / LB_SESS_DEL. */
void ss_ha_lb_apply(const struct ss_ha_msg *m);

#endif
