/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Client side of the sswitchd control protocol (SPEC section 4): JSON-RPC 2.0
 * over a Unix stream socket, one JSON value per line each way.
 *
 * Every wait has a deadline (c->timeout_s from the start of a call): the
 * client never hangs on a daemon that stopped answering.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sswitchctl.h"

/* A reply larger than this is a protocol violation (state.get of a large
 * store is the biggest legitimate reply). */
#define SS_RPC_MAX_REPLY (1024u * 1024u * 1024u)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until deadline for poll(), at least 0. */
static int ms_left(double deadline)
{
	double left = deadline - now_s();

	if (left <= 0)
		return 0;
	if (left > 1e6)
		return 1000000000;
	return (int)(left * 1000.0) + 1;
}

int ss_rpc_connect(struct ss_rpc *c, const char *path, double timeout_s,
		   char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_s = timeout_s;
	c->next_id = 1;
	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(c->path)) {
		snprintf(err, errlen, "cannot connect to sswitchd at %s: socket path too long "
			 "(at most %zu bytes)", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(c->path, path);
	/* A daemon that closes the socket under us must give an error, not
	 * kill the client. */
	signal(SIGPIPE, SIG_IGN);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return rc;
	}
	/* A Unix stream connect does not block for long (the backlog is local),
	 * so a plain connect is enough. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		switch (errno) {
		case ENOENT:
		case ECONNREFUSED:
			snprintf(err, errlen, "cannot connect to sswitchd at %s: %s "
				 "(is sswitchd running?)", path, strerror(errno));
			break;
		case EACCES:
		case EPERM:
			snprintf(err, errlen, "cannot connect to sswitchd at %s: %s "
				 "(run as root or as a member of the group that owns the "
				 "socket, the control.group of sswitchd's config)",
				 path, strerror(errno));
			break;
		case ENOTDIR:
		case ENOTSOCK:
			snprintf(err, errlen, "cannot connect to sswitchd at %s: %s "
				 "(not a socket; check -s / $SSWITCH_SOCKET)", path,
				 strerror(errno));
			break;
		default:
			snprintf(err, errlen, "cannot connect to sswitchd at %s: %s",
				 path, strerror(errno));
			break;
		}
		close(fd);
		return rc;
	}
	c->fd = fd;
	return 0;
}

void ss_rpc_close(struct ss_rpc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static int send_all(struct ss_rpc *c, const char *data, size_t len, double deadline,
		    char *err, size_t errlen)
{
	while (len > 0) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
		int n = poll(&pfd, 1, ms_left(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -errno;
		}
		if (n == 0) {
			snprintf(err, errlen, "timed out after %.0f s sending to sswitchd at %s",
				 c->timeout_s, c->path);
			return -ETIMEDOUT;
		}
		ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0) {
			int e = errno;
			snprintf(err, errlen, "lost the connection to sswitchd at %s: %s",
				 c->path, strerror(e));
			return -e;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read one line (without its newline) into a malloc'd string. */
static int recv_line(struct ss_rpc *c, double deadline, char **line,
		     char *err, size_t errlen)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = c->len > scanned ? memchr(c->buf + scanned, '\n', c->len - scanned)
					    : NULL;
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);

			*line = malloc(n + 1);
			if (*line == NULL) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			memcpy(*line, c->buf, n);
			(*line)[n] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return 0;
		}
		scanned = c->len;
		if (c->len >= SS_RPC_MAX_REPLY) {
			snprintf(err, errlen, "protocol error: reply from sswitchd larger "
				 "than %u bytes without a newline", SS_RPC_MAX_REPLY);
			return -EPROTO;
		}
		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 131072;
			char *b = realloc(c->buf, cap);

			if (b == NULL) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			c->buf = b;
			c->cap = cap;
		}
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int n = poll(&pfd, 1, ms_left(deadline));
		if (n < 0 && errno == EINTR)
			return -EINTR;
		if (n < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -errno;
		}
		if (n == 0) {
			snprintf(err, errlen, "timed out after %.0f s waiting for a reply from "
				 "sswitchd at %s (see --timeout)", c->timeout_s, c->path);
			return -ETIMEDOUT;
		}
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			int e = errno;
			snprintf(err, errlen, "lost the connection to sswitchd at %s: %s",
				 c->path, strerror(e));
			return -e;
		}
		if (r == 0) {
			snprintf(err, errlen, "sswitchd at %s closed the connection without "
				 "replying", c->path);
			return -ECONNRESET;
		}
		c->len += (size_t)r;
	}
}

/* Check a reply object and extract result or error. */
static int parse_reply(const json_t *reply, long id, json_t **result,
		       struct ss_rpc_error *rerr, char *err, size_t errlen)
{
	json_t *jid = json_object_get(reply, "id");
	json_t *res = json_object_get(reply, "result");
	json_t *e = json_object_get(reply, "error");

	if (!json_is_object(reply)) {
		snprintf(err, errlen, "protocol error: the reply is not a JSON object");
		return -EPROTO;
	}
	if (e != NULL) {
		json_t *code = json_object_get(e, "code");
		json_t *msg = json_object_get(e, "message");

		if (!json_is_object(e) || !json_is_integer(code)) {
			snprintf(err, errlen, "protocol error: malformed error object in reply");
			return -EPROTO;
		}
		/* A parse or invalid-request error may carry id null: it is
		 * still the answer to our only outstanding request. */
		if (json_is_integer(jid) && json_integer_value(jid) != id) {
			snprintf(err, errlen, "protocol error: reply id %lld, expected %ld",
				 (long long)json_integer_value(jid), id);
			return -EPROTO;
		}
		rerr->code = (long)json_integer_value(code);
		snprintf(rerr->message, sizeof(rerr->message), "%s",
			 json_is_string(msg) ? json_string_value(msg) : "(no message)");
		rerr->data = json_incref(json_object_get(e, "data"));
		return 1;
	}
	if (!json_is_integer(jid) || json_integer_value(jid) != id) {
		snprintf(err, errlen, "protocol error: reply without the request's id");
		return -EPROTO;
	}
	if (res == NULL) {
		snprintf(err, errlen, "protocol error: reply has neither result nor error");
		return -EPROTO;
	}
	*result = json_incref(res);
	return 0;
}

int ss_rpc_call(struct ss_rpc *c, const char *method, const json_t *params,
		json_t **result, struct ss_rpc_error *rerr, char *err, size_t errlen)
{
	double deadline = now_s() + c->timeout_s;
	long id = c->next_id++;
	json_t *req, *reply;
	json_error_t jerr;
	char *text, *line = NULL;
	int rc;

	*result = NULL;
	memset(rerr, 0, sizeof(*rerr));
	req = json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", (json_int_t)id,
			"method", method);
	if (req == NULL || (params != NULL &&
			    json_object_set(req, "params", (json_t *)params) < 0)) {
		json_decref(req);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL) {
		snprintf(err, errlen, "cannot encode the request");
		return -ENOMEM;
	}
	size_t n = strlen(text);
	char *msg = realloc(text, n + 2);
	if (msg == NULL) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	msg[n] = '\n';
	msg[n + 1] = '\0';
	rc = send_all(c, msg, n + 1, deadline, err, errlen);
	free(msg);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		/* The daemon may have refused us with an error line before
		 * closing (1006 for a peer it does not serve): report that. */
		char err2[256];
		double short_deadline = now_s() + 1.0;

		if (recv_line(c, short_deadline < deadline ? short_deadline : deadline, &line,
			      err2, sizeof(err2)) == 0) {
			reply = json_loads(line, 0, &jerr);
			free(line);
			if (json_is_object(reply) && json_object_get(reply, "error") != NULL) {
				rc = parse_reply(reply, id, result, rerr, err, errlen);
				json_decref(reply);
				return rc;
			}
			json_decref(reply);
		}
		return -EPIPE;
	}
	if (rc < 0)
		return rc;

	/* Skip anything that is not the reply to this request (a stray line
	 * from the daemon must not be mistaken for it). */
	for (;;) {
		rc = recv_line(c, deadline, &line, err, errlen);
		if (rc == -EINTR) {
			snprintf(err, errlen, "interrupted");
			return rc;
		}
		if (rc < 0)
			return rc;
		if (line[0] == '\0') {
			free(line);
			continue;
		}
		reply = json_loads(line, JSON_DECODE_ANY, &jerr);
		free(line);
		if (reply == NULL) {
			snprintf(err, errlen, "protocol error: sswitchd sent invalid JSON: %s "
				 "(column %d)", jerr.text, jerr.column);
			return -EPROTO;
		}
		if (json_is_object(reply) && json_is_integer(json_object_get(reply, "id")) &&
		    json_integer_value(json_object_get(reply, "id")) < id) {
			json_decref(reply);
			continue;
		}
		rc = parse_reply(reply, id, result, rerr, err, errlen);
		json_decref(reply);
		return rc;
	}
}
