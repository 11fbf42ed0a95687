/* SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer harness of the control socket's framing (control/server.c):
 * real Unix sockets to a server in this process, the input a script of
 * operations on two clients, so requests are split at any byte across
 * reads, interleaved between clients, read or left unread (backpressure:
 * the server stops reading a client whose replies wait), and cut by a
 * client's shutdown. Each operation is one byte, op = b & 3:
 *   0, 1  write the next (b >> 2) + 1 input bytes to client op (what the
 *         socket does not take now is dropped: a client that cannot write)
 *   2     one server round (ss_ctl_poll, no wait); bit 2: the clients read
 *         what is there, else they leave it (bit 3: client 1 too)
 *   3     bit 2: client (b >> 3) & 1 shuts its sending side (EOF after
 *         what it wrote); else it closes and reconnects
 * Checks: the server never crashes or leaks (ASan), every byte it sends is
 * part of a line that is valid JSON with "jsonrpc":"2.0", and after the
 * script a fresh client is answered: its state.get, streamed by the
 * server, is the very bytes of the reply built whole (ss_ctl_handle_line). A server per input: the store's
 * mmap'ed pools hide pointers from LeakSanitizer, so a control plane
 * that outlived an input would look like leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "control/ctl.h"
#include "tests/fuzz/fuzz_ctl_env.h"


static struct ss_ctl *ctl;
static char sock_path[108];

struct cli {
	int fd;
	char buf[1 << 18];           /* the reply line being received */
	size_t len;
	bool overflow;               /* a line longer than buf: not checked */
	size_t last;                 /* length of the last complete line (in buf) */
};

static void
setup(void)
{
	static char dir[] = "/tmp/ss-fuzz-server-XXXXXX";
	struct ss_ctl_conf conf = {
		.limits = FZ_LIMITS,
		.max_clients = 8,
		.max_clients_per_uid = 4,
	};
	char err[256] = "";

	if (sock_path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	}
	conf.socket_path = sock_path;
	ctl = ss_ctl_create(&conf, &fz_rt);
	if (ctl == NULL || ss_ctl_restore(ctl, err, sizeof(err)) != 0 ||
	    ss_ctl_listen(ctl, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_server setup: %s\n", err);
		abort();
	}
}

static int
cli_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, sock_path);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EAGAIN))
		abort();
	return fd;
}

static void
check_line(const char *line, size_t len)
{
	json_error_t je;
	json_t *v = json_loadb(line, len, 0, &je);

	if (v == NULL) {
		fprintf(stderr, "server sent a line that is not JSON (%s): %.*s\n", je.text,
			(int)(len > 200 ? 200 : len), line);
		abort();
	}
	if (json_is_object(v) && !json_is_string(json_object_get(v, "jsonrpc"))) {
		fprintf(stderr, "server sent a reply without jsonrpc: %.*s\n", (int)len, line);
		abort();
	}
	json_decref(v);
}

/* Read what is there; returns the replies completed, -1 at EOF. */
static int
cli_read(struct cli *c)
{
	char tmp[8192];
	int lines = 0;

	for (;;) {
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		ssize_t i;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (n < 0)
			return lines;
		for (i = 0; i < n; i++) {
			if (tmp[i] == '\n') {
				if (!c->overflow)
					check_line(c->buf, c->len);
				c->last = c->overflow ? 0 : c->len;
				c->len = 0;
				c->overflow = false;
				lines++;
			} else if (c->len < sizeof(c->buf)) {
				c->buf[c->len++] = tmp[i];
			} else {
				c->overflow = true;
			}
		}
	}
}

static void
cli_reset(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = cli_connect();
	c->len = 0;
	c->overflow = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cli cl[2] = { { .fd = -1 }, { .fd = -1 } };
	size_t i = 0;
	int k, rounds;

	setup();
	cli_reset(&cl[0]);
	cli_reset(&cl[1]);
	ss_ctl_poll(ctl, 0);   /* accept */
	while (i < size) {
		uint8_t b = data[i++];
		size_t n;

		switch (b & 3) {
		case 0:
		case 1:
			n = (size_t)(b >> 2) + 1;
			if (n > size - i)
				n = size - i;
			if (send(cl[b & 1].fd, data + i, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN && errno != EPIPE && errno != ECONNRESET)
				abort();
			i += n;
			break;
		case 2:
			ss_ctl_poll(ctl, 0);
			if (b & 4)
				cli_read(&cl[0]);
			if (b & 8)
				cli_read(&cl[1]);
			break;
		default:
			if (b & 4)
				shutdown(cl[(b >> 3) & 1].fd, SHUT_WR);
			else
				cli_reset(&cl[(b >> 3) & 1]);
			ss_ctl_poll(ctl, 0);
			break;
		}
	}
	/* the end: both clients finish; the server answers and closes them */
	shutdown(cl[0].fd, SHUT_WR);
	shutdown(cl[1].fd, SHUT_WR);
	for (rounds = 0; rounds < 10000; rounds++) {
		int done = 0;

		ss_ctl_poll(ctl, 0);
		for (k = 0; k < 2; k++)
			done += cli_read(&cl[k]) < 0;
		if (done == 2)
			break;
	}
	if (rounds == 10000) {
		fprintf(stderr, "server did not finish with its clients\n");
		abort();
	}
	/* and it still serves a new one */
	{
		static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"state.get\"}\n";
		static struct cli fresh = { .fd = -1 };
		char *whole;
		int got = 0;

		cli_reset(&fresh);
		ss_ctl_poll(ctl, 0);
		if (send(fresh.fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1)
			abort();
		for (rounds = 0; rounds < 10000 && got == 0; rounds++) {
			ss_ctl_poll(ctl, 0);
			got = cli_read(&fresh);
		}
		if (got <= 0) {
			fprintf(stderr, "server does not answer a new client\n");
			abort();
		}
		whole = fz_state_get(ctl);
		if (got != 1 || fresh.last != strlen(whole) || memcmp(fresh.buf, whole, fresh.last)) {
			fprintf(stderr, "streamed state.get differs from the whole reply:\n%.*s\n%s\n",
				(int)fresh.last, fresh.buf, whole);
			abort();
		}
		free(whole);
		close(fresh.fd);
		fresh.fd = -1;
	}
	for (k = 0; k < 2; k++) {
		close(cl[k].fd);
		cl[k].fd = -1;
	}
	ss_ctl_destroy(ctl);
	ctl = NULL;
	return 0;
}
