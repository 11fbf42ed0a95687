/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The BFD feature's control-thread state: sessions (bfd_sess.c), their
 * table (prepare / commit / abort / reclaim of the `bfd` objects and the
 * switch's underlay IPs), and what bfd_feature.c reads for bfd.list,
 * stats, Prometheus and health.get. Control thread only.
 */
#ifndef SS_BFD_INT_H
#define SS_BFD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "control/ctl.h"
#include "pipelines/bfd/bfd.h"
#include "pipelines/bfd/bfd_fsm.h"
#include "pipelines/bfd/bfd_types.h"

struct ss_bfd_sess {
	bool used;
	char key[48];                /* the peer as the store spells it */
	struct ss_bfd_rec cfg;       /* committed configuration */
	uint16_t port;               /* sswitch port index */
	uint8_t fam;                 /* 4 or 6 */
	uint8_t peer[16];
	uint8_t local[16];
	bool has_local;              /* local_ip, or the switch underlay IP */
	uint8_t mac[6];
	bool mac_known;              /* configured, or learnt */
	uint16_t sport;              /* RFC 5881 4: 49152-65535, one per session */
	uint64_t next_resolve;       /* next ARP / NS while the MAC is unknown */
	struct ss_bfd_fsm fsm;
	uint64_t tx_packets, rx_packets, rx_discarded, tx_failed;
	uint64_t base_tx, base_rx, base_disc;  /* stats.clear */
};

struct ss_bfd_op {
	enum ss_change_op op;
	struct ss_bfd_rec rec;
};

struct ss_bfd {
	struct ss_bfd_sess s[SS_BFD_MAX_SESSIONS];
	/* the open transaction */
	struct ss_bfd_op *ops;
	size_t nops, cap_ops;
	bool sw_staged;
	struct ss_rec_ip stage_sw4, stage_sw6;
	struct ss_bfd_peers *next_peers;     /* published by commit */
	struct ss_bfd_peers *old_peers;      /* freed by reclaim */
	/* committed switch underlay IPs (family 0: none) */
	struct ss_rec_ip sw4, sw6;
	/* discards by reason, of packets for a known address (all sessions) */
	uint64_t disc[SS_BFD_DISC_COUNT], disc_base[SS_BFD_DISC_COUNT];
	struct rte_mempool *pool;            /* frames the control thread sends */
};

extern struct ss_bfd ss_bfd;

/* Monotonic microseconds. */
uint64_t ss_bfd_now_us(void);

/* Rings and pool (feature init / fini). 0 or -ENOMEM with err. */
int ss_bfd_setup(char *err, size_t errlen);
void ss_bfd_teardown(void);

/* The `bfd` table. */
int ss_bfd_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		   char *err, size_t errlen);
void ss_bfd_commit(void *ctx);
void ss_bfd_abort(void *ctx);
void ss_bfd_reclaim(void *ctx);

/* The main loop's turn: punted frames, timers, transmissions; the
 * overlay's member sets when a session changed state. */
void ss_bfd_poll(void);
/* Microseconds until a session's timer is due (the main loop's wait). */
uint64_t ss_bfd_poll_in_us(void);

/* For the overlay (ss_overlay_set_nh_liveness): is the session of this
 * peer Up? */
bool ss_bfd_peer_up(int fam, const uint8_t *ip);

/* The session of a peer key ("192.0.2.1"), NULL if none. */
struct ss_bfd_sess *ss_bfd_find_key(const char *key);

#endif
