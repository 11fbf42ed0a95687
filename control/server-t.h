/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket's types, private to the server layer: server.c (the
 * sockets, reading, writing, deadlines) and server_limits.c (which
 * connection a limit closes, the counters). The rules are in server.c's
 * header comment.
 */
#ifndef SS_CTL_SERVER_T_H
#define SS_CTL_SERVER_T_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/ctl-int.h"

#define SS_CTL_MAX_LINE (16u << 20)
#define SS_CTL_OUT_HIGH (4u << 20)
#define SS_CTL_ABUSE_MIN (1u << 20)

/* X(counter, name in stats.get scope "control") of every way a connection
 * ends (or is refused) */
#define SS_CTL_CLOSES(X)                                   \
	X(PEER, "closed_by_peer")                          \
	X(IDLE, "closed_idle")                             \
	X(REQUEST_TIMEOUT, "closed_request_timeout")       \
	X(NOT_READING, "closed_not_reading")               \
	X(OVERSIZE, "closed_oversize")                     \
	X(BUDGET, "closed_over_budget")                    \
	X(ERROR, "closed_error")                           \
	X(EVICTED, "evicted_max_clients")                  \
	X(EVICTED_UID, "evicted_max_clients_per_uid")      \
	X(REFUSED_FULL, "refused_max_clients")             \
	X(REFUSED_UID, "refused_max_clients_per_uid")      \
	X(REFUSED_PERMISSION, "refused_permission")

enum ss_close {
#define X(c, n) CL_##c,
	SS_CTL_CLOSES(X)
#undef X
	CL_N
};


struct ss_conn {
	int fd;
	uid_t uid;
	uint64_t seq;                /* accept order */
	char *in;
	size_t in_off, in_len, in_cap;
	size_t scanned;              /* no '\n' in in[in_off, scanned) */
	struct ss_buf out;
	size_t out_off;
	uint64_t last_rx, last_tx;
	uint64_t last_active;        /* accepted, a request taken, replies sent */
	uint64_t req_start;          /* first byte of the partial request */
	uint64_t nreq;               /* requests taken */
	struct ss_rpc_batch *batch;  /* the line at in_off, in_len batch_len */
	size_t batch_len;
	struct ss_rpc_stream *stream;   /* a line's reply being written (state.get) */
	uint32_t events;
	bool work;                   /* stopped by its slice: lines or batch left */
	bool eof;                    /* the peer shut its side: finish, then close */
	bool closing;                /* flush what is queued, then close */
	enum ss_close close_reason;
	struct ss_conn *next, **pprev;
	struct ss_conn *dead_next;   /* closed this round: freed at its end */
};

struct ss_server {
	int lfd;
	int efd;
	char *path;
	bool has_group;
	bool bound;                  /* the socket file is ours to unlink */
	gid_t gid;
	uint32_t timeout_ms;         /* request deadline; 3x: replies unread */
	uint64_t idle_ms;
	uint32_t max_conns;
	uint32_t max_per_uid;
	uint64_t budget;             /* bytes held for all connections */
	struct ss_conn *conns;       /* oldest first */
	struct ss_conn **tailp;      /* where the next one is linked */
	struct ss_conn *dead;
	size_t nconns;
	uint64_t seq;
	bool accept_paused;          /* out of fds: wait for a client to leave */
	uint64_t round_end_ns;       /* the events of this round: work until then */
	int listen_tag;              /* &listen_tag marks the listener in epoll */
	/* counters (stats.get scope "control") */
	uint64_t closes[CL_N];
	uint64_t accepted, requests, batches, slices, held_peak;
};

static inline size_t
ss_conn_out_pending(const struct ss_conn *c)
{
	return c->out.len - c->out_off;
}

/* Nothing in flight: no line or batch left to handle, no reply queued. */
static inline bool
ss_conn_idle(const struct ss_conn *c)
{
	return !c->closing && !c->work && c->batch == NULL && c->stream == NULL &&
	       ss_conn_out_pending(c) == 0;
}

/* The bytes its buffers hold (max_buffered counts these), a streamed
 * reply's snapshot included. */
static inline uint64_t
ss_conn_held(const struct ss_conn *c)
{
	return c->in_cap + c->out.cap + ss_rpc_stream_held(c->stream) +
	       ss_rpc_batch_held(c->batch);
}

/* server_limits.c: the connection a newcomer of `uid` (any uid with
 * `all`) displaces, NULL when every one is busy; the connection to close
 * over the budget of buffered bytes, NULL when under it (*held: the bytes
 * held, counted in the peak). */
struct ss_conn *ss_server_pick_victim(struct ss_server *s, bool all, uid_t uid);
struct ss_conn *ss_server_budget_victim(struct ss_server *s, uint64_t *held);

#endif /* SS_CTL_SERVER_T_H */
