/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket: a Unix stream socket served with non-blocking epoll
 * on the control thread (SPEC section 4). docs/control.md ("The control
 * socket under load") gives the reasoning and the figures.
 *
 * Per connection
 * --------------
 * - Peers are checked once with SO_PEERCRED: root, the daemon's own user,
 *   or a member of conf.group; others get one 1006 error line, closed.
 * - Input is split on '\n'; a line is handled by ss_rpc_handle_into(), a
 *   batch by ss_rpc_batch_step() in slices. A line (complete or partial)
 *   longer than SS_CTL_MAX_LINE gets -32600 "request too large", closed.
 * - A reply that grows with the state (state.get, alone or in a batch) is
 *   streamed (ss_rpc_stream_step): written in slices like a batch, under
 *   the same output mark and deadlines, from the state as it was when the
 *   request was taken; out of memory midway cuts it and closes.
 * - Output is queued per connection; the thread never blocks on a client.
 *   While more than SS_CTL_OUT_HIGH bytes wait, the connection's requests
 *   (and the rest of its batch) are not processed and it is not read:
 *   a reply is never buffered past SS_CTL_OUT_HIGH + one response.
 * - Deadlines, each closing the connection: a request not complete within
 *   request timeout of its first byte (not refreshed per byte: slowloris);
 *   replies not read for 3x that; no request (a blank line counts) for
 *   idle timeout while nothing is in flight.
 *
 * Fairness
 * --------
 * Work is done in slices of SLICE_NS (ROUND_NS for all the events of a
 * round): a connection's lines and batch elements are handled until its
 * slice is over, then the others are served; work left is resumed in the
 * next round, which does not sleep in epoll_wait. ss_ctl_poll() returns
 * to the daemon's loop (stats line, health, Prometheus) once its timeout
 * has passed or no work is left.
 *
 * Limits across connections
 * -------------------------
 * - At most max_clients connections, at most max_clients_per_uid of one
 *   peer uid. A new connection over either cap takes the slot of an idle
 *   one of the same scope (the uid, or everyone): first the oldest that
 *   never completed a request and has no bytes waiting to be read
 *   (ss_server_pick_victim), else the one idle the longest; when every connection
 *   is busy the new one is refused with 1004.
 * - The bytes held for all connections (input and output buffers) stay
 *   under max_buffered: over it, the newest connection holding at least
 *   SS_CTL_ABUSE_MIN is closed, then the next newest: the oldest clients,
 *   and every client that reads its replies (it holds nothing), stay.
 * Every close is counted by reason (stats.get scope "control").
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/ctl-int.h"
#include "control/limits.h"
#include "control/persist.h"
#include "control/server-t.h"

#define READ_CHUNK 65536
#define READ_BUDGET (1u << 20)     /* per connection per wakeup: fairness */
#define SLICE_NS 1000000ull        /* work per connection per turn */
#define ROUND_NS 10000000ull       /* work of a round, all connections */
#define KEEP_BUF (2u * READ_CHUNK) /* buffer kept by an idle connection */

static void
listen_events(struct ss_server *s, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = &s->listen_tag };

	epoll_ctl(s->efd, EPOLL_CTL_MOD, s->lfd, &e);
}

/* Close now; the memory goes at the end of the round (reap): a connection
 * evicted while the events of this round are walked is skipped by fd < 0. */
static void
conn_close(struct ss_server *s, struct ss_conn *c, enum ss_close why)
{
	epoll_ctl(s->efd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->next)
		c->next->pprev = c->pprev;
	else
		s->tailp = c->pprev;
	*c->pprev = c->next;
	c->dead_next = s->dead;
	s->dead = c;
	s->nconns--;
	s->closes[why]++;
	if (s->accept_paused) {
		s->accept_paused = false;
		listen_events(s, EPOLLIN);
	}
}

static void
reap(struct ss_server *s)
{
	while (s->dead != NULL) {
		struct ss_conn *c = s->dead;

		s->dead = c->dead_next;
		free(c->in);
		ss_buf_free(&c->out);
		ss_rpc_batch_free(c->batch);
		ss_rpc_stream_free(c->stream);
		free(c);
	}
}

static void
conn_events(struct ss_server *s, struct ss_conn *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (ev == c->events)
		return;
	c->events = ev;
	epoll_ctl(s->efd, EPOLL_CTL_MOD, c->fd, &e);
}

/* Read while nothing waits: no batch or line left, replies under the mark. */
static void
conn_arm(struct ss_server *s, struct ss_conn *c)
{
	uint32_t ev = 0;

	if (!c->closing && !c->eof && !c->work && c->batch == NULL && c->stream == NULL &&
	    ss_conn_out_pending(c) <= SS_CTL_OUT_HIGH)
		ev |= EPOLLIN;
	if (ss_conn_out_pending(c) > 0)
		ev |= EPOLLOUT;
	conn_events(s, c, ev);
}

/* Send what is queued. -1 if the connection was closed. */
static int
conn_flush(struct ss_server *s, struct ss_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			c->last_tx = ss_now_ms();
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* keep only what waits: a streamed reply does not
			 * accumulate what was sent */
			if (c->out_off >= SS_CTL_OUT_HIGH / 4) {
				memmove(c->out.p, c->out.p + c->out_off, c->out.len - c->out_off);
				c->out.len -= c->out_off;
				c->out_off = 0;
			}
			conn_arm(s, c);
			return 0;
		}
		conn_close(s, c, c->closing ? c->close_reason : CL_PEER);
		return -1;
	}
	c->out.len = 0;
	c->out_off = 0;
	if (c->out.cap > KEEP_BUF)
		ss_buf_free(&c->out);
	if (c->closing) {
		conn_close(s, c, c->close_reason);
		return -1;
	}
	c->last_active = ss_now_ms();
	conn_arm(s, c);
	return 0;
}

static void
queue_line(struct ss_conn *c, char *line)
{
	if (line == NULL)
		return;
	ss_buf_adds(&c->out, line);
	ss_buf_addc(&c->out, '\n');
	free(line);
}

static void
conn_fail(struct ss_server *s, struct ss_conn *c, int code, const char *msg,
	  enum ss_close why)
{
	struct ss_err e;

	ss_err_init(&e);
	ss_err_set(&e, code, NULL, "%s", msg);
	queue_line(c, ss_rpc_error_line(NULL, &e));
	c->closing = true;
	c->close_reason = why;
	c->work = false;
	ss_rpc_batch_free(c->batch);
	c->batch = NULL;
	ss_rpc_stream_free(c->stream);
	c->stream = NULL;
	free(c->in);
	c->in = NULL;
	c->in_off = c->in_len = c->in_cap = c->scanned = 0;
	conn_events(s, c, EPOLLOUT);
}

/* The end of the next complete line, or NULL (scanning each byte once). */
static char *
next_nl(struct ss_conn *c)
{
	char *nl;

	if (c->scanned < c->in_off)
		c->scanned = c->in_off;
	nl = memchr(c->in + c->scanned, '\n', c->in_len - c->scanned);
	if (nl == NULL)
		c->scanned = c->in_len;
	return nl;
}

/* A streamed reply cut (out of memory): what was queued goes, then the
 * connection closes. */
static void
conn_cut(struct ss_ctl *ctl, struct ss_conn *c)
{
	ss_ctl_log(ctl, LOG_WARNING, "control socket: out of memory writing a reply (uid %d): "
		   "closing the client", (int)c->uid);
	c->closing = true;
	c->close_reason = CL_ERROR;
}

/* Handle buffered lines, batch elements and streamed replies until
 * `end_ns`, the output mark or the end of the complete lines; then send.
 * -1 if the connection was closed. Sets c->work when stopped by the clock
 * with work left. */
static int
conn_work(struct ss_ctl *ctl, struct ss_conn *c, uint64_t end_ns)
{
	struct ss_server *s = ss_core(ctl)->server;

	c->work = false;
	while (!c->closing && ss_conn_out_pending(c) <= SS_CTL_OUT_HIGH) {
		char *start, *nl;
		size_t len;

		if (c->stream != NULL) {
			int rc = ss_rpc_stream_step(ctl, c->stream, &c->out,
						    c->out_off + SS_CTL_OUT_HIGH, end_ns);

			s->slices++;
			if (rc == 0)
				break;
			ss_rpc_stream_free(c->stream);
			c->stream = NULL;
			if (rc < 0) {
				conn_cut(ctl, c);
				break;
			}
			c->last_active = ss_now_ms();
			continue;
		}
		if (c->batch != NULL) {
			int rc = ss_rpc_batch_step(ctl, c->batch, c->in + c->in_off, c->batch_len,
						   &c->out, c->out_off + SS_CTL_OUT_HIGH, end_ns);

			s->slices++;
			if (rc == 0)
				break;
			ss_rpc_batch_free(c->batch);
			c->batch = NULL;
			c->in_off += c->batch_len + 1;
			c->last_active = ss_now_ms();
			if (rc < 0) {
				conn_cut(ctl, c);
				break;
			}
			continue;
		}
		start = c->in + c->in_off;
		nl = c->in_len > c->in_off ? next_nl(c) : NULL;
		if (nl == NULL) {
			if (c->in_len - c->in_off > SS_CTL_MAX_LINE) {
				conn_fail(s, c, SS_RPC_INVALID_REQUEST, "request too large", CL_OVERSIZE);
				return conn_flush(s, c);
			}
			break;
		}
		len = (size_t)(nl - start);
		if (len > SS_CTL_MAX_LINE) {
			conn_fail(s, c, SS_RPC_INVALID_REQUEST, "request too large", CL_OVERSIZE);
			return conn_flush(s, c);
		}
		if (ss_now_ns() >= end_ns)
			break;   /* a complete line is left: c->work */
		c->nreq++;
		s->requests++;
		c->last_active = ss_now_ms();
		c->req_start = c->last_rx;   /* of what follows, if it is partial */
		/* blank lines (keep-alives) are taken and ignored */
		if (strspn(start, " \t\r") >= len) {
			c->in_off += len + 1;
			continue;
		}
		c->batch = ss_rpc_batch_new(start, len);
		if (c->batch != NULL) {
			/* the line stays at in_off until the batch is done */
			c->batch_len = len;
			s->batches++;
			continue;
		}
		c->in_off += len + 1;
		ss_rpc_handle_into(ctl, start, len, &c->out, &c->stream);
	}
	/* compact the buffer (a batch's line moves with it) */
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->scanned -= c->scanned > c->in_off ? c->in_off : c->scanned;
		c->in_off = 0;
	}
	if (c->in_len == 0 && c->in_cap > KEEP_BUF) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
		c->scanned = 0;
	}
	if (c->eof && c->batch == NULL && c->stream == NULL && !c->closing &&
	    (c->in_len == 0 || next_nl(c) == NULL)) {
		/* the peer is done sending and everything complete is
		 * answered: drop a partial line, close after the replies */
		c->closing = true;
		c->close_reason = CL_PEER;
	}
	if (conn_flush(s, c) < 0)
		return -1;
	/* work left that only the output mark or the clock stopped */
	if (!c->closing && ss_conn_out_pending(c) <= SS_CTL_OUT_HIGH)
		c->work = c->batch != NULL || c->stream != NULL ||
			  (c->in_len > 0 && next_nl(c) != NULL);
	conn_arm(s, c);
	return 0;
}

/* The end of a turn of work for an event of this round. */
static uint64_t
slice_end(const struct ss_server *s)
{
	uint64_t end = ss_now_ns() + SLICE_NS;

	return end < s->round_end_ns ? end : s->round_end_ns;
}

static int
conn_read(struct ss_ctl *ctl, struct ss_conn *c)
{
	struct ss_core *core = ss_core(ctl);
	size_t budget = READ_BUDGET;

	while (budget > 0 && !c->closing && !c->work && c->batch == NULL && c->stream == NULL) {
		ssize_t n;

		if (ss_conn_out_pending(c) > SS_CTL_OUT_HIGH)
			break;   /* backpressure: conn_flush re-arms EPOLLIN */
		if (c->in_len > SS_CTL_MAX_LINE) {
			/* handle the complete lines, or fail the oversize one */
			if (conn_work(ctl, c, slice_end(core->server)) < 0)
				return -1;
			continue;
		}
		if (c->in_cap - c->in_len < READ_CHUNK) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 2 * READ_CHUNK;
			char *p;

			if (cap > SS_CTL_MAX_LINE + 2 * READ_CHUNK)
				cap = SS_CTL_MAX_LINE + 2 * READ_CHUNK;
			p = realloc(c->in, cap);
			if (p == NULL) {
				conn_fail(core->server, c, SS_RPC_INTERNAL, "out of memory", CL_ERROR);
				return conn_flush(core->server, c);
			}
			c->in = p;
			c->in_cap = cap;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->last_rx = ss_now_ms();
			if (c->in_len == 0)
				c->req_start = c->last_rx;
			c->in_len += (size_t)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* EOF or error: answer what is complete, drop a partial line */
		c->eof = true;
		break;
	}
	return conn_work(ctl, c, slice_end(core->server));
}

static bool
peer_allowed(struct ss_server *s, int fd, uid_t *uid_out)
{
	struct ucred uc;
	socklen_t l = sizeof(uc);
	struct passwd pw, *res = NULL;
	char buf[4096];
	gid_t groups[256];
	int ng = 256, i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &l) < 0)
		return false;
	*uid_out = uc.uid;
	if (uc.uid == 0 || uc.uid == geteuid())
		return true;
	if (!s->has_group)
		return false;
	if (uc.gid == s->gid)
		return true;
	if (getpwuid_r(uc.uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0)
		ng = 256;   /* truncated list: check what we got */
	for (i = 0; i < ng; i++)
		if (groups[i] == s->gid)
			return true;
	return false;
}

/* Send one error line to a connection that is not ours (yet) and close it. */
static void
refuse(struct ss_ctl *ctl, int fd, int code, const char *msg)
{
	struct ss_err err;
	char *line;

	ss_err_init(&err);
	ss_err_set(&err, code, NULL, "%s", msg);
	line = ss_rpc_error_line(NULL, &err);
	if (line != NULL) {
		size_t n = strlen(line);

		line[n] = '\n';   /* replaces the NUL: send n + 1 bytes */
		if (send(fd, line, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			ss_ctl_log(ctl, LOG_DEBUG, "refused peer: %s", strerror(errno));
		free(line);
	}
	close(fd);
}


/* Make room for a newcomer of `uid`: true when it may be accepted. */
static bool
make_room(struct ss_ctl *ctl, uid_t uid)
{
	struct ss_server *s = ss_core(ctl)->server;
	struct ss_conn *c, *v;
	uint32_t n = 0;
	char msg[128];

	for (c = s->conns; c != NULL; c = c->next)
		n += c->uid == uid;
	if (n >= s->max_per_uid) {
		v = ss_server_pick_victim(s, false, uid);
		if (v == NULL) {
			s->closes[CL_REFUSED_UID]++;
			snprintf(msg, sizeof(msg), "too many control clients of uid %d (%u, all busy)",
				 (int)uid, s->max_per_uid);
			ss_ctl_log(ctl, LOG_WARNING, "control socket: %s", msg);
			return false;
		}
		conn_close(s, v, CL_EVICTED_UID);
	}
	if (s->nconns >= s->max_conns) {
		v = ss_server_pick_victim(s, true, 0);
		if (v == NULL) {
			s->closes[CL_REFUSED_FULL]++;
			ss_ctl_log(ctl, LOG_WARNING, "control socket: too many control clients (%u, all busy)",
				   s->max_conns);
			return false;
		}
		conn_close(s, v, CL_EVICTED);
	}
	return true;
}

static void
accept_all(struct ss_ctl *ctl)
{
	struct ss_server *s = ss_core(ctl)->server;

	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event e;
		struct ss_conn *c;
		uid_t uid = (uid_t)-1;
		char msg[128];

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && s->nconns > 0) {
				/* the pending connection would wake us up in a loop:
				 * stop listening until a client leaves */
				ss_ctl_log(ctl, LOG_WARNING,
					   "control socket: out of file descriptors (%zu clients)",
					   s->nconns);
				s->accept_paused = true;
				listen_events(s, 0);
			}
			return;   /* EAGAIN: done */
		}
		if (!peer_allowed(s, fd, &uid)) {
			snprintf(msg, sizeof(msg),
				 "permission denied: uid %d is not root or in the control group", (int)uid);
			refuse(ctl, fd, SS_ERR_PERMISSION, msg);
			s->closes[CL_REFUSED_PERMISSION]++;
			ss_ctl_log(ctl, LOG_WARNING, "control socket: refused uid %d", (int)uid);
			continue;
		}
		if (!make_room(ctl, uid)) {
			snprintf(msg, sizeof(msg), "too many control clients (uid %d): try again", (int)uid);
			refuse(ctl, fd, SS_ERR_CAPACITY, msg);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			s->closes[CL_ERROR]++;
			continue;
		}
		c->fd = fd;
		c->uid = uid;
		c->seq = ++s->seq;
		c->last_rx = c->last_tx = c->last_active = ss_now_ms();
		c->events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(s->efd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
			s->closes[CL_ERROR]++;
			continue;
		}
		c->next = NULL;
		c->pprev = s->tailp;
		*s->tailp = c;
		s->tailp = &c->next;
		s->nconns++;
		s->accepted++;
	}
}

static int
mkdir_parents(const char *path)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t i, n = strlen(path);

	memcpy(buf, path, n + 1);
	for (i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = '/';
	}
	return 0;
}

int
ss_server_listen(struct ss_ctl *ctl, const struct ss_ctl_conf *conf, char *err, size_t errlen)
{
	struct ss_core *core = ss_core(ctl);
	const char *path = conf->socket_path;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ss_server *s;
	struct epoll_event e;
	struct stat st;
	int rc;

	if (core->server != NULL)
		return -EALREADY;
	if (path == NULL || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path %s", path ? "too long" : "missing");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->lfd = s->efd = -1;
	s->tailp = &s->conns;
	s->timeout_ms = conf->request_timeout_ms ? conf->request_timeout_ms : 10000;
	s->idle_ms = 1000ull * (conf->client_idle_timeout_s ? conf->client_idle_timeout_s
							    : SS_CTL_DEF_IDLE_TIMEOUT_S);
	s->max_conns = conf->max_clients ? conf->max_clients : SS_CTL_DEF_MAX_CLIENTS;
	s->max_per_uid = conf->max_clients_per_uid ? conf->max_clients_per_uid
						   : SS_CTL_DEF_MAX_CLIENTS_PER_UID;
	if (s->max_per_uid > s->max_conns)
		s->max_per_uid = s->max_conns;
	s->budget = (uint64_t)(conf->max_buffered_mb ? conf->max_buffered_mb
						     : SS_CTL_DEF_MAX_BUFFERED_MB) << 20;
	core->server = s;
	strcpy(sa.sun_path, path);
	if (conf->group != NULL) {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(conf->group, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
			snprintf(err, errlen, "control group %s: no such group", conf->group);
			rc = -ENOENT;
			goto fail;
		}
		s->has_group = true;
		s->gid = gr.gr_gid;
	}
	rc = mkdir_parents(path);
	if (rc < 0) {
		snprintf(err, errlen, "control socket directory for %s: %s", path, strerror(-rc));
		goto fail;
	}
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		goto fail_errno;
	if (lstat(path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			rc = -EEXIST;
			goto fail;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s: another daemon is listening there", path);
			rc = -EADDRINUSE;
			goto fail;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);   /* stale socket of a previous run */
	}
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail_errno;
	s->bound = true;
	if (chmod(path, 0660) < 0 || (s->has_group && chown(path, (uid_t)-1, s->gid) < 0))
		goto fail_errno;
	/* bursts of connects wait in the backlog, not in EAGAIN at the client
	 * (the kernel caps it at net.core.somaxconn) */
	if (listen(s->lfd, SOMAXCONN) < 0)
		goto fail_errno;
	s->efd = epoll_create1(EPOLL_CLOEXEC);
	if (s->efd < 0)
		goto fail_errno;
	e.events = EPOLLIN;
	e.data.ptr = &s->listen_tag;
	if (epoll_ctl(s->efd, EPOLL_CTL_ADD, s->lfd, &e) < 0)
		goto fail_errno;
	return 0;
fail_errno:
	rc = -errno;
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
fail:
	ss_server_destroy(ctl);
	return rc;
}

/* The deadline of a connection and what passing it means: replies
 * unread, a request not complete in time, or idle; UINT64_MAX: none (its
 * work is waiting for this thread). */
static uint64_t
conn_deadline(const struct ss_server *s, struct ss_conn *c, enum ss_close *why)
{
	if (ss_conn_out_pending(c) > 0) {
		/* a connection being closed keeps the reason it is closed for */
		*why = c->closing ? c->close_reason : CL_NOT_READING;
		return c->last_tx + 3ull * s->timeout_ms;
	}
	if (c->work || c->batch != NULL || c->stream != NULL || c->closing)
		return UINT64_MAX;
	if (c->in_len > c->in_off) {
		*why = CL_REQUEST_TIMEOUT;   /* only a partial line is left */
		return c->req_start + s->timeout_ms;
	}
	*why = CL_IDLE;
	return c->last_active + s->idle_ms;
}

/* Returns ms to the next deadline (0: one has passed, -1: none); with
 * `close_due`, first closes the connections past their deadlines. Only
 * called with close_due after what the sockets hold has been read, so a
 * client whose bytes were waiting while the control thread was busy (a
 * long transaction, a loaded machine) is not taken for an idle one. */
static int
check_timeouts(struct ss_ctl *ctl, uint64_t now, bool close_due)
{
	static const char *const what[CL_N] = {
		[CL_NOT_READING] = "that does not read its replies",
		[CL_REQUEST_TIMEOUT] = "whose request is not complete in time",
		[CL_IDLE] = "idle",
	};
	struct ss_server *s = ss_core(ctl)->server;
	struct ss_conn *c = s->conns, *next;
	uint64_t next_ms = UINT64_MAX;

	for (; c != NULL; c = next) {
		enum ss_close why = CL_IDLE;
		uint64_t dl = conn_deadline(s, c, &why);

		next = c->next;
		if (dl == UINT64_MAX)
			continue;
		if (now >= dl && !close_due) {
			next_ms = 0;
			continue;
		}
		if (now >= dl) {
			ss_ctl_log(ctl, why == CL_IDLE ? LOG_DEBUG : LOG_INFO,
				   "control socket: closing a client (uid %d) %s", (int)c->uid,
				   what[why] ? what[why] : "that does not read its last reply");
			conn_close(s, c, why);
			continue;
		}
		if (dl - now < next_ms)
			next_ms = dl - now;
	}
	return next_ms > INT32_MAX ? -1 : (int)next_ms;
}


/* Over the budget of buffered bytes: close the newest connection holding
 * at least SS_CTL_ABUSE_MIN, until under it. */
static void
enforce_budget(struct ss_ctl *ctl)
{
	struct ss_server *s = ss_core(ctl)->server;

	struct ss_conn *victim;
	uint64_t held;

	while ((victim = ss_server_budget_victim(s, &held)) != NULL) {
		ss_ctl_log(ctl, LOG_WARNING,
			   "control socket: %llu bytes buffered for clients, over max_buffered_mb: "
			   "closing the newest (uid %d, %llu bytes)", (unsigned long long)held,
			   (int)victim->uid, (unsigned long long)ss_conn_held(victim));
		conn_close(s, victim, CL_BUDGET);
	}
}

/* One turn for every connection with work left, ROUND_NS shared. */
static void
work_round(struct ss_ctl *ctl)
{
	struct ss_server *s = ss_core(ctl)->server;
	struct ss_conn *c, *next;
	uint64_t n = 0, slice;

	for (c = s->conns; c != NULL; c = c->next)
		n += c->work;
	if (n == 0)
		return;
	slice = ROUND_NS / n > SLICE_NS ? SLICE_NS : ROUND_NS / n;
	if (slice < SLICE_NS / 4)
		slice = SLICE_NS / 4;
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;   /* conn_work closes only c */
		if (c->work)
			conn_work(ctl, c, ss_now_ns() + slice);
	}
}

static bool
any_work(const struct ss_server *s)
{
	const struct ss_conn *c;

	for (c = s->conns; c != NULL; c = c->next)
		if (c->work)
			return true;
	return false;
}

/* Wait for events (at most timeout_ms, not at all with work left), serve
 * them and give every connection with work left one turn. */
static int
poll_round(struct ss_ctl *ctl, int timeout_ms)
{
	struct ss_server *s = ss_core(ctl)->server;
	struct epoll_event ev[64];
	int n, i, wait, next;

	ss_persist_tick(ctl);
	next = check_timeouts(ctl, ss_now_ms(), false);
	wait = any_work(s) ? 0 : timeout_ms;
	if (next >= 0 && (wait < 0 || next < wait))
		wait = next + 1;
	n = epoll_wait(s->efd, ev, 64, wait);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/* what the events do not finish in ROUND_NS waits for the next
	 * rounds (c->work) */
	s->round_end_ns = ss_now_ns() + ROUND_NS;
	for (i = 0; i < n; i++) {
		struct ss_conn *c = ev[i].data.ptr;

		if (ev[i].data.ptr == &s->listen_tag) {
			accept_all(ctl);
			continue;
		}
		/* closed earlier in this round (evicted for a newcomer, or over
		 * the budget): still allocated until reap() */
		if (c->fd < 0)
			continue;
		if (ev[i].events & (EPOLLERR | EPOLLHUP) && !(ev[i].events & EPOLLIN)) {
			conn_close(s, c, CL_PEER);
			continue;
		}
		if (ev[i].events & EPOLLOUT) {
			if (conn_flush(s, c) < 0)
				continue;
			/* resume what the output mark stopped */
			if (!c->work && ss_conn_out_pending(c) <= SS_CTL_OUT_HIGH &&
			    (c->batch != NULL || c->stream != NULL || c->eof || c->in_len > 0) &&
			    conn_work(ctl, c, slice_end(s)) < 0)
				continue;
		}
		if (ev[i].events & EPOLLIN && c->fd >= 0)
			conn_read(ctl, c);
	}
	work_round(ctl);
	enforce_budget(ctl);
	check_timeouts(ctl, ss_now_ms(), true);
	reap(s);
	return 0;
}

/* Rounds until timeout_ms has passed or no work is left: the daemon's loop
 * (stats line, health) runs at least every timeout_ms, other clients
 * between any two slices. */
int
ss_ctl_poll(struct ss_ctl *ctl, int timeout_ms)
{
	struct ss_server *s = ss_core(ctl)->server;
	uint64_t end = ss_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int rc;

	if (s == NULL)
		return -ENOTCONN;
	do
		rc = poll_round(ctl, timeout_ms);
	while (rc == 0 && any_work(s) && (timeout_ms < 0 || ss_now_ms() < end));
	return rc;
}

void
ss_server_destroy(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_server *s = core->server;

	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_close(s, s->conns, CL_PEER);
	reap(s);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->bound)
		unlink(s->path);
	if (s->efd >= 0)
		close(s->efd);
	free(s->path);
	free(s);
	core->server = NULL;
}

