/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket's limits across connections: which connection makes
 * room for a newcomer over max_clients / max_clients_per_uid, which one
 * goes over max_buffered_mb, and the counters of stats.get scope
 * "control" (server.c's header comment has the rules). Reads the
 * connections, closes none: server.c does.
 */
#include <errno.h>
#include <sys/socket.h>

#include "control/server-t.h"

static const char *const close_names[CL_N] = {
#define X(c, n) n,
	SS_CTL_CLOSES(X)
#undef X
};

/* What waits in the socket of a connection this thread has not read yet
 * (one accepted in the same burst as the newcomer): 0 the peer has left,
 * 1 nothing, 2 bytes (a request on its way). */
static int
pending(const struct ss_conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ? 0 : n < 0 ? 1 : 2;
}

/* The connection to close for a newcomer (of `uid`, or any when all),
 * among those that never completed a request (a partial one is no
 * request), oldest first: one whose peer has left, else one with nothing
 * waiting to be read (the first PEEK_MAX are looked at: a flood of
 * connects costs a bounded number of system calls each); else the one
 * idle the longest; NULL when every one is busy. */
#define PEEK_MAX 64
struct ss_conn *
ss_server_pick_victim(struct ss_server *s, bool all, uid_t uid)
{
	struct ss_conn *c, *idle = NULL, *unused = NULL;
	int peeks = 0;

	for (c = s->conns; c != NULL; c = c->next) {   /* oldest first */
		int p;

		if ((!all && c->uid != uid) || !ss_conn_idle(c))
			continue;
		if (c->nreq > 0) {
			if (c->in_len == 0 && (idle == NULL || c->last_active < idle->last_active))
				idle = c;
			continue;
		}
		if (peeks++ == PEEK_MAX)
			break;
		p = pending(c);
		if (p == 0)
			return c;
		if (p == 1 && unused == NULL)
			unused = c;
	}
	return unused ? unused : idle;
}

/* Over the budget: the newest connection holding at least
 * SS_CTL_ABUSE_MIN (the oldest clients, and every client that reads its
 * replies, stay). */
struct ss_conn *
ss_server_budget_victim(struct ss_server *s, uint64_t *held_out)
{
	struct ss_conn *c, *victim = NULL;
	uint64_t held = 0;

	for (c = s->conns; c != NULL; c = c->next) {
		held += ss_conn_held(c);
		if (ss_conn_held(c) >= SS_CTL_ABUSE_MIN && (victim == NULL || c->seq > victim->seq))
			victim = c;
	}
	if (held > s->held_peak)
		s->held_peak = held;   /* before closing: what was held */
	*held_out = held;
	return held > s->budget ? victim : NULL;
}

json_t *
ss_server_stats(struct ss_ctl *ctl)
{
	struct ss_server *s = ss_core(ctl)->server;
	struct ss_conn *c;
	uint64_t held = 0;
	json_t *o = json_object();
	int i;

	if (o == NULL || s == NULL)
		return o;
	for (c = s->conns; c != NULL; c = c->next)
		held += ss_conn_held(c);
	json_object_set_new(o, "clients", json_integer((json_int_t)s->nconns));
	json_object_set_new(o, "buffered_bytes", json_integer((json_int_t)held));
	json_object_set_new(o, "buffered_bytes_peak", json_integer((json_int_t)s->held_peak));
	json_object_set_new(o, "accepted", json_integer((json_int_t)s->accepted));
	json_object_set_new(o, "requests", json_integer((json_int_t)s->requests));
	json_object_set_new(o, "batches", json_integer((json_int_t)s->batches));
	json_object_set_new(o, "batch_slices", json_integer((json_int_t)s->slices));
	for (i = 0; i < CL_N; i++)
		json_object_set_new(o, close_names[i], json_integer((json_int_t)s->closes[i]));
	return o;
}

void
ss_server_stats_clear(struct ss_ctl *ctl)
{
	struct ss_server *s = ss_core(ctl)->server;

	if (s == NULL)
		return;
	memset(s->closes, 0, sizeof(s->closes));
	s->accepted = s->requests = s->batches = s->slices = s->held_peak = 0;
}
