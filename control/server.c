/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket: a Unix stream socket served with non-blocking epoll
 * on the control thread (SPEC section 4).
 *
 * Per connection
 * --------------
 * - Peers are checked once with SO_PEERCRED: root, the daemon's own user,
 *   or a member (primary or supplementary) of conf.group. Others get one
 *   1006 error line and are closed.
 * - Input is split on '\n'; each line is handled by ss_rpc_handle(). A line
 *   (complete or still partial) longer than SS_CTL_MAX_LINE gets -32600
 *   "request too large" and the connection is closed: at most
 *   SS_CTL_MAX_LINE + one read is ever buffered.
 * - Output is queued per connection; the thread never blocks on a client.
 *   While more than SS_CTL_OUT_HIGH bytes wait, the connection's requests
 *   are not processed (and not read): backpressure, not unbounded memory.
 * - A connection holding a partial line without receiving a byte for
 *   request_timeout_ms, or not reading its replies for 3x that, is closed.
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

#define SS_CTL_MAX_LINE (16u << 20)
#define SS_CTL_OUT_HIGH (4u << 20)
#define SS_CTL_MAX_CONNS 256
#define READ_CHUNK 65536
#define READ_BUDGET (1u << 20)     /* per connection per wakeup: fairness */

struct ss_conn {
	int fd;
	char *in;
	size_t in_off, in_len, in_cap, scanned;
	struct ss_buf out;
	size_t out_off;
	uint64_t last_rx;
	uint64_t last_tx;
	uint32_t events;
	bool closing;                /* flush what is queued, then close */
	struct ss_conn *next, **pprev;
};

struct ss_server {
	int lfd;
	int efd;
	char *path;
	bool has_group;
	bool bound;                  /* the socket file is ours to unlink */
	gid_t gid;
	uint32_t timeout_ms;
	struct ss_conn *conns;
	size_t nconns;
	bool accept_paused;          /* out of fds: wait for a client to leave */
	int listen_tag;              /* &listen_tag marks the listener in epoll */
};

static void
listen_events(struct ss_server *s, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = &s->listen_tag };

	epoll_ctl(s->efd, EPOLL_CTL_MOD, s->lfd, &e);
}

static void
conn_close(struct ss_server *s, struct ss_conn *c)
{
	epoll_ctl(s->efd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->next)
		c->next->pprev = c->pprev;
	*c->pprev = c->next;
	free(c->in);
	ss_buf_free(&c->out);
	free(c);
	s->nconns--;
	if (s->accept_paused) {
		s->accept_paused = false;
		listen_events(s, EPOLLIN);
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
			conn_events(s, c, (c->closing ? 0 : c->events & EPOLLIN) | EPOLLOUT);
			return 0;
		}
		conn_close(s, c);
		return -1;
	}
	c->out.len = 0;
	c->out_off = 0;
	if (c->out.cap > SS_CTL_OUT_HIGH)
		ss_buf_free(&c->out);
	if (c->closing) {
		conn_close(s, c);
		return -1;
	}
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
conn_fail(struct ss_server *s, struct ss_conn *c, int code, const char *msg)
{
	struct ss_err e;

	ss_err_init(&e);
	ss_err_set(&e, code, NULL, "%s", msg);
	queue_line(c, ss_rpc_error_line(NULL, &e));
	c->closing = true;
	free(c->in);
	c->in = NULL;
	c->in_off = c->in_len = c->in_cap = c->scanned = 0;
	conn_events(s, c, EPOLLOUT);
}

/* Handle the complete lines buffered until the output is over the high
 * mark. -1 if the connection was closed, 1 if lines are left while the
 * output is already empty (call again), else 0. */
static int
conn_process_once(struct ss_ctl *ctl, struct ss_conn *c)
{
	struct ss_server *s = ss_core(ctl)->server;

	while (!c->closing && c->out.len - c->out_off <= SS_CTL_OUT_HIGH) {
		char *start = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;
		char *nl;
		size_t len;

		if (avail == 0)
			break;
		nl = memchr(c->in + c->scanned, '\n', c->in_len - c->scanned);
		if (nl == NULL) {
			c->scanned = c->in_len;
			if (avail > SS_CTL_MAX_LINE) {
				conn_fail(s, c, SS_RPC_INVALID_REQUEST, "request too large");
				return conn_flush(s, c);
			}
			break;
		}
		len = (size_t)(nl - start);
		if (len > SS_CTL_MAX_LINE) {
			conn_fail(s, c, SS_RPC_INVALID_REQUEST, "request too large");
			return conn_flush(s, c);
		}
		c->in_off += len + 1;
		c->scanned = c->in_off;
		/* blank lines (keep-alives from people typing) are ignored */
		if (strspn(start, " \t\r") < len)
			queue_line(c, ss_rpc_handle(ctl, start, len));
	}
	/* compact the buffer */
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->scanned -= c->in_off;
		c->in_off = 0;
	}
	if (c->closing)
		return conn_flush(s, c);
	/* backpressure: stop reading while the client is not reading */
	conn_events(s, c, c->out.len - c->out_off > SS_CTL_OUT_HIGH ? EPOLLOUT
		    : EPOLLIN | (c->out.len > c->out_off ? EPOLLOUT : 0));
	if (conn_flush(s, c) < 0)
		return -1;
	/* everything went out at once: go on with the lines held back */
	if (c->out.len == c->out_off && c->in_len > c->in_off &&
	    memchr(c->in + c->in_off, '\n', c->in_len - c->in_off) != NULL)
		return 1;
	return 0;
}

/* Handle the buffered lines, again while the replies leave at once.
 * -1 if the connection was closed. */
static int
conn_process(struct ss_ctl *ctl, struct ss_conn *c)
{
	int rc;

	while ((rc = conn_process_once(ctl, c)) > 0)
		;
	return rc;
}

static int
conn_read(struct ss_ctl *ctl, struct ss_conn *c)
{
	struct ss_core *core = ss_core(ctl);
	size_t budget = READ_BUDGET;

	while (budget > 0 && !c->closing) {
		ssize_t n;

		if (c->out.len - c->out_off > SS_CTL_OUT_HIGH)
			break;   /* backpressure: conn_process re-arms EPOLLIN */

		if (c->in_cap - c->in_len < READ_CHUNK) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 2 * READ_CHUNK;
			char *p;

			if (cap > SS_CTL_MAX_LINE + 2 * READ_CHUNK)
				cap = SS_CTL_MAX_LINE + 2 * READ_CHUNK;
			if (cap - c->in_len < READ_CHUNK) {
				/* cannot happen: the oversize check fires first */
				conn_fail(core->server, c, SS_RPC_INVALID_REQUEST, "request too large");
				return conn_flush(core->server, c);
			}
			p = realloc(c->in, cap);
			if (p == NULL) {
				conn_fail(core->server, c, SS_RPC_INTERNAL, "out of memory");
				return conn_flush(core->server, c);
			}
			c->in = p;
			c->in_cap = cap;
		}
		n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			c->last_rx = ss_now_ms();
			budget -= (size_t)n < budget ? (size_t)n : budget;
			/* keep the buffer bounded: handle lines as they complete */
			if (c->in_len - c->in_off > SS_CTL_MAX_LINE || budget == 0) {
				if (conn_process(ctl, c) < 0)
					return -1;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* EOF or error: answer what is complete, drop a partial line */
		if (conn_process(ctl, c) < 0)
			return -1;
		c->closing = true;
		return conn_flush(core->server, c);
	}
	return conn_process(ctl, c);
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

static void
accept_all(struct ss_ctl *ctl)
{
	struct ss_server *s = ss_core(ctl)->server;

	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event e;
		struct ss_conn *c;
		uid_t uid = (uid_t)-1;

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
			struct ss_err err;
			char *line;

			ss_err_init(&err);
			ss_err_set(&err, SS_ERR_PERMISSION, NULL,
				   "permission denied: uid %d is not root or in the control group",
				   (int)uid);
			line = ss_rpc_error_line(NULL, &err);
			if (line != NULL) {
				size_t n = strlen(line);

				line[n] = '\n';   /* replaces the NUL: send n + 1 bytes */
				if (send(fd, line, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
					ss_ctl_log(ctl, LOG_DEBUG, "denied peer: %s", strerror(errno));
				free(line);
			}
			ss_ctl_log(ctl, LOG_WARNING, "control socket: refused uid %d", (int)uid);
			close(fd);
			continue;
		}
		if (s->nconns >= SS_CTL_MAX_CONNS) {
			ss_ctl_log(ctl, LOG_WARNING, "control socket: too many clients");
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->last_rx = c->last_tx = ss_now_ms();
		c->events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(s->efd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (c->next)
			c->next->pprev = &c->next;
		c->pprev = &s->conns;
		s->conns = c;
		s->nconns++;
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
	s->timeout_ms = conf->request_timeout_ms ? conf->request_timeout_ms : 10000;
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
	if (listen(s->lfd, 128) < 0)
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

/* Returns ms to the next deadline (0: one has passed, -1: none); with
 * `close_due`, first closes the connections past their deadlines. Only
 * called with close_due after what the sockets hold has been read, so a
 * client whose bytes were waiting while the control thread was busy (a
 * long transaction, a loaded machine) is not taken for an idle one. */
static int
check_timeouts(struct ss_ctl *ctl, uint64_t now, bool close_due)
{
	struct ss_server *s = ss_core(ctl)->server;
	struct ss_conn *c = s->conns, *next;
	uint64_t next_ms = UINT64_MAX;

	for (; c != NULL; c = next) {
		uint64_t dl = UINT64_MAX;

		next = c->next;
		if (c->out.len > c->out_off)
			dl = c->last_tx + 3ull * s->timeout_ms;
		else if (c->in_len > c->in_off && !c->closing &&
			 memchr(c->in + c->in_off, '\n', c->in_len - c->in_off) == NULL)
			dl = c->last_rx + s->timeout_ms;   /* only a partial line waits */
		if (dl == UINT64_MAX)
			continue;
		if (now >= dl && !close_due) {
			next_ms = 0;
			continue;
		}
		if (now >= dl) {
			ss_ctl_log(ctl, LOG_INFO, "control socket: closing a client %s",
				   c->out.len > c->out_off ? "that does not read its replies"
							   : "idle in the middle of a request");
			conn_close(s, c);
			continue;
		}
		if (dl - now < next_ms)
			next_ms = dl - now;
	}
	return next_ms > INT32_MAX ? -1 : (int)next_ms;
}

int
ss_ctl_poll(struct ss_ctl *ctl, int timeout_ms)
{
	struct ss_server *s = ss_core(ctl)->server;
	struct epoll_event ev[32];
	int n, i, wait, next;

	if (s == NULL)
		return -ENOTCONN;
	next = check_timeouts(ctl, ss_now_ms(), false);
	wait = timeout_ms;
	if (next >= 0 && (wait < 0 || next < wait))
		wait = next + 1;
	n = epoll_wait(s->efd, ev, 32, wait);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct ss_conn *c = ev[i].data.ptr;

		if (ev[i].data.ptr == &s->listen_tag) {
			accept_all(ctl);
			continue;
		}
		/* a connection closed earlier in this loop cannot appear: each
		 * fd is reported once per epoll_wait and only closed here */
		if (ev[i].events & (EPOLLERR | EPOLLHUP) && !(ev[i].events & EPOLLIN)) {
			conn_close(s, c);
			continue;
		}
		if (ev[i].events & EPOLLOUT) {
			if (conn_flush(s, c) < 0)
				continue;
			if (c->out.len == c->out_off && conn_process(ctl, c) < 0)
				continue;
		}
		if (ev[i].events & EPOLLIN)
			conn_read(ctl, c);
	}
	check_timeouts(ctl, ss_now_ms(), true);
	return 0;
}

void
ss_server_destroy(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_server *s = core->server;

	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_close(s, s->conns);
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
