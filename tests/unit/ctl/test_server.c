/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket with real Unix sockets: framing across reads,
 * notifications, garbage, the 16 MiB request limit (the offender is closed,
 * others keep being served), idle clients mid-request, socket mode, and
 * SO_PEERCRED (root accepted; another uid refused with 1006 unless in the
 * control group), the per-uid cap taking an unused connection's slot, and
 * a batch streamed in slices answering what it answers whole.
 *
 * The server runs ss_ctl_poll() in a thread of its own; the test thread
 * only does socket I/O (the ctl is never touched by two threads at once).
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_test_util.h"

struct srv {
	char *dir;
	char path[256];
	struct ss_ctl *ctl;
	pthread_t th;
	atomic_int stop;
};

static void *
serve(void *arg)
{
	struct srv *s = arg;

	while (!atomic_load(&s->stop))
		if (ss_ctl_poll(s->ctl, 20) < 0)
			break;
	return NULL;
}

static struct srv *
srv_start_conf(const struct ss_ctl_conf *base)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct ss_ctl_conf conf = *base;
	char err[256];

	s->dir = t_tmpdir();
	chmod(s->dir, 0755);
	snprintf(s->path, sizeof(s->path), "%s/run/sub/ctl.sock", s->dir);
	conf.socket_path = s->path;
	if (conf.request_timeout_ms == 0)
		conf.request_timeout_ms = 300;
	s->ctl = ss_ctl_create(&conf, NULL);
	assert_non_null(s->ctl);
	assert_int_equal(ss_ctl_restore(s->ctl, err, sizeof(err)), 0);
	if (ss_ctl_listen(s->ctl, err, sizeof(err)) != 0)
		fail_msg("listen: %s", err);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
	return s;
}

static struct srv *
srv_start(const char *group)
{
	struct ss_ctl_conf conf = { .group = group };

	return srv_start_conf(&conf);
}

static void
srv_stop(struct srv *s)
{
	struct stat st;

	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	ss_ctl_destroy(s->ctl);
	assert_int_equal(stat(s->path, &st), -1);   /* the socket is removed */
	t_rmdir(s->dir);
	free(s->dir);
	free(s);
}

static int
cli(const struct srv *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, s->path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
put(int fd, const char *s)
{
	size_t n = strlen(s);

	assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* One reply line (without '\n', malloc'd), or NULL at EOF; fails after
 * timeout_ms without a complete line. */
static char *
get_line(int fd, int timeout_ms)
{
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) != 1) {
			free(b);
			fail_msg("no reply within %d ms", timeout_ms);
		}
		n = recv(fd, b + len, 1, 0);
		if (n <= 0) {
			free(b);
			return NULL;
		}
		if (b[len] == '\n') {
			b[len] = '\0';
			return b;
		}
		if (++len == cap)
			b = realloc(b, cap *= 2);
	}
}

static json_t *
get_json(int fd)
{
	char *l = get_line(fd, 5000);
	json_error_t e;
	json_t *j;

	assert_non_null(l);
	j = json_loads(l, 0, &e);
	if (j == NULL)
		fail_msg("not JSON: %s", l);
	free(l);
	return j;
}

static int
id_of(const json_t *r)
{
	return (int)json_integer_value(json_object_get(r, "id"));
}

static int
code_of(const json_t *r)
{
	return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

static void
expect_id(int fd, int id)
{
	json_t *r = get_json(fd);

	assert_int_equal(id_of(r), id);
	assert_non_null(json_object_get(r, "result"));
	json_decref(r);
}

#define REQ(id, m) "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" m "\"}\n"

static void
test_socket_file(void **state)
{
	struct srv *s = srv_start(NULL);
	struct ss_ctl *other;
	struct ss_ctl_conf conf = { .socket_path = s->path };
	struct stat st;
	char err[256];

	(void)state;
	assert_int_equal(stat(s->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	/* a second daemon on the same socket is refused, the first keeps it */
	other = ss_ctl_create(&conf, NULL);
	assert_true(ss_ctl_listen(other, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "another daemon"));
	ss_ctl_destroy(other);
	assert_int_equal(stat(s->path, &st), 0);
	srv_stop(s);
}

static void
test_framing(void **state)
{
	struct srv *s = srv_start(NULL);
	int fd = cli(s);
	const char *half = "{\"jsonrpc\":\"2.0\",\"id\":3,\"met";
	json_t *r;

	(void)state;
	/* several lines in one write, replies in order */
	put(fd, REQ(1, "vnet.list") REQ(2, "system.info"));
	expect_id(fd, 1);
	expect_id(fd, 2);
	/* one line over several writes */
	put(fd, half);
	usleep(50000);
	put(fd, "hod\":\"vnet.list\"}");
	usleep(50000);
	put(fd, "\n");
	expect_id(fd, 3);
	/* notification: executed, no reply; blank lines ignored */
	put(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"vnet.add\",\"params\":{\"name\":\"n\",\"vni\":5}}\n\n  \r\n"
		REQ(4, "vnet.list"));
	r = get_json(fd);
	assert_int_equal(id_of(r), 4);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "result"), "vnets")), 1);
	json_decref(r);
	/* garbage: -32700 and the connection goes on */
	put(fd, "\x01\x02garbage}}\n" REQ(5, "vnet.list"));
	r = get_json(fd);
	assert_int_equal(code_of(r), -32700);
	json_decref(r);
	expect_id(fd, 5);
	/* a batch on the socket */
	put(fd, "[" "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"vnet.list\"},"
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"vnet.list\"}]\n");
	r = get_json(fd);
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	/* the reply to a request sent just before shutting down the write side */
	put(fd, REQ(8, "vnet.list"));
	shutdown(fd, SHUT_WR);
	expect_id(fd, 8);
	assert_null(get_line(fd, 2000));
	close(fd);
	srv_stop(s);
}

static void
test_oversize_request(void **state)
{
	struct srv *s = srv_start(NULL);
	int good = cli(s), bad = cli(s);
	size_t chunk = 1 << 20, sent = 0;
	char *junk = malloc(chunk);
	json_t *r;
	char *l;

	(void)state;
	memset(junk, ' ', chunk);
	{
		const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vnet.list\",\"params\":{\"x\":\"";
		size_t hl = strlen(head);

		memcpy(junk, head, hl);
		memset(junk + hl, 'a', chunk - hl);
	}
	/* 20 MiB without a newline; the server stops reading at 16 MiB */
	while (sent < (20u << 20)) {
		struct pollfd p = { .fd = bad, .events = POLLOUT };
		ssize_t n;

		if (poll(&p, 1, 2000) != 1)
			break;   /* not read any more */
		n = send(bad, junk, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN))
			continue;
		if (n <= 0)
			break;   /* EPIPE / ECONNRESET: closed by the server */
		sent += (size_t)n;
		if (sent == 8u << 20) {
			/* meanwhile, others are served */
			put(good, REQ(10, "vnet.list"));
			expect_id(good, 10);
		}
	}
	assert_true(sent > (16u << 20));
	assert_true(sent < (20u << 20) + chunk);
	r = get_json(bad);
	assert_int_equal(code_of(r), -32600);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
			    "request too large");
	json_decref(r);
	l = get_line(bad, 2000);
	assert_null(l);   /* closed */
	close(bad);
	put(good, REQ(11, "system.info"));
	expect_id(good, 11);
	close(good);
	free(junk);
	srv_stop(s);
}

static void
test_idle_mid_request(void **state)
{
	struct srv *s = srv_start(NULL);
	int idle = cli(s), stuck = cli(s);
	struct timespec t0, t1;
	double dt;

	(void)state;
	/* an idle client without a partial request stays */
	usleep(700000);
	put(idle, REQ(1, "vnet.list"));
	expect_id(idle, 1);
	/* a client that stops in the middle of a request is closed */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	put(stuck, "{\"jsonrpc\":\"2.0\",\"id\":2,");
	assert_null(get_line(stuck, 3000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	assert_true(dt >= 0.25 && dt < 2.0);
	close(stuck);
	put(idle, REQ(3, "vnet.list"));
	expect_id(idle, 3);
	close(idle);
	srv_stop(s);
}

/* Connect as uid/gid 65534 from a child; returns the error code of the
 * first reply to a request (0 if it was a result). */
static int
code_as_nobody(struct srv *s)
{
	pid_t pid;
	int st;

	chmod(s->path, 0666);   /* let the child reach the credentials check */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char buf[512];
		ssize_t n;
		int fd;

		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(100);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		strcpy(sa.sun_path, s->path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(101);
		/* a refused peer may find the socket closed already: the
		 * error line is still there to read */
		(void)!send(fd, REQ(1, "vnet.list"), strlen(REQ(1, "vnet.list")), MSG_NOSIGNAL);
		for (n = 0; n < (ssize_t)sizeof(buf) - 1; n++)
			if (recv(fd, buf + n, 1, 0) != 1 || buf[n] == '\n')
				break;
		if (n == 0)
			_exit(103);
		buf[n] = '\0';
		if (strstr(buf, "\"code\":1006") != NULL)
			_exit(6);
		if (strstr(buf, "\"result\"") != NULL)
			_exit(0);
		_exit(104);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_peer_credentials(void **state)
{
	struct srv *s;
	int fd;

	(void)state;
	/* root is always accepted */
	s = srv_start(NULL);
	fd = cli(s);
	put(fd, REQ(1, "vnet.list"));
	expect_id(fd, 1);
	close(fd);
	if (geteuid() != 0) {
		srv_stop(s);
		skip();
	}
	/* another user, no control group: 1006 and closed */
	assert_int_equal(code_as_nobody(s), 6);
	/* the server is still fine */
	fd = cli(s);
	put(fd, REQ(2, "vnet.list"));
	expect_id(fd, 2);
	close(fd);
	srv_stop(s);
	/* a member of the control group is accepted */
	s = srv_start("nogroup");
	assert_int_equal(code_as_nobody(s), 0);
	srv_stop(s);
}

/* ss_ctl_poll() returns within its timeout, also with a client in the
 * middle of a request. */
static void
test_poll_timeout(void **state)
{
	struct srv *s = srv_start(NULL);
	struct timespec t0, t1;
	double dt;
	int fd;

	(void)state;
	atomic_store(&s->stop, 1);   /* drive the poll from this thread */
	pthread_join(s->th, NULL);
	fd = cli(s);
	put(fd, "{\"jsonrpc\":");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ss_ctl_poll(s->ctl, 150), 0);   /* accept */
	assert_int_equal(ss_ctl_poll(s->ctl, 150), 0);   /* partial line */
	assert_int_equal(ss_ctl_poll(s->ctl, 150), 0);   /* nothing */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	assert_true(dt < 0.45 + 0.3);
	close(fd);
	/* srv_stop joins again: restart a thread that exits at once */
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
	srv_stop(s);
}

/* A client that does not read its replies never blocks the server: its
 * requests wait (backpressure) while others are served, and it gets every
 * reply once it reads. */
static void
test_slow_reader(void **state)
{
	struct srv *s = srv_start(NULL);
	int slow = cli(s), other = cli(s), i, got = 0;
	char req[256];
	size_t big = 0;

	(void)state;
	put(other, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"vnet.add\",\"params\":{\"name\":\"v\",\"vni\":1}}\n");
	expect_id(other, 1);
	for (i = 0; i < 20; i++) {
		size_t cap = 600000, n = 0;
		char *p = malloc(cap);
		int k;

		assert_non_null(p);
		if (p == NULL)
			return;
		n += (size_t)snprintf(p + n, cap - n, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
				      "\"mapping.add\",\"params\":{\"entries\":[");
		for (k = 0; k < 500; k++)
			n += (size_t)snprintf(p + n, cap - n, "%s{\"vnet\":\"v\",\"ip\":\"10.%d.%d.%d\","
					      "\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:01\"}",
					      k ? "," : "", i, k / 256, k % 256);
		snprintf(p + n, cap - n, "]}}\n");
		put(other, p);
		expect_id(other, 2);
		free(p);
	}
	/* 60 lists of 10000 mappings (~1 MB each) without reading */
	for (i = 0; i < 60; i++) {
		snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"mapping.list\"}\n",
			 100 + i);
		put(slow, req);
	}
	usleep(300000);
	/* the other client is served meanwhile */
	put(other, REQ(3, "system.info"));
	expect_id(other, 3);
	/* and the slow one gets all its replies */
	{
		char *buf = malloc(1 << 20);

		assert_non_null(buf);
		if (buf == NULL)
			return;
		while (got < 60) {
			struct pollfd p = { .fd = slow, .events = POLLIN };
			ssize_t n, k;

			if (poll(&p, 1, 10000) != 1)
				fail_msg("slow reader: no data after %d replies", got);
			n = recv(slow, buf, 1 << 20, 0);
			if (n <= 0)
				fail_msg("slow reader: closed after %d replies", got);
			big += (size_t)n;
			for (k = 0; k < n; k++)
				got += buf[k] == '\n';
		}
		free(buf);
	}
	assert_int_equal(got, 60);
	assert_true(big > (40u << 20));
	close(slow);
	close(other);
	srv_stop(s);
}

/* True when the server closed fd within timeout_ms (EOF, nothing else). */
static bool
closed_within(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, timeout_ms) == 1 && recv(fd, &c, 1, 0) <= 0;
}

/* Over the per-uid cap a newcomer takes the slot of the connection that
 * never completed a request, not of an older one that did (the healthy
 * client); with every connection busy it gets 1004. */
static void
test_uid_cap_evicts_the_unused(void **state)
{
	struct ss_ctl_conf conf = { .max_clients = 8, .max_clients_per_uid = 2 };
	struct srv *s = srv_start_conf(&conf);
	int healthy, unused, late;

	(void)state;
	healthy = cli(s);
	put(healthy, REQ(1, "vnet.list"));
	expect_id(healthy, 1);
	unused = cli(s);
	usleep(100000);
	late = cli(s);
	assert_true(closed_within(unused, 2000));
	put(healthy, REQ(2, "vnet.list"));
	expect_id(healthy, 2);
	put(late, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"stats.get\","
		  "\"params\":{\"scope\":\"control\"}}\n");
	{
		json_t *r = get_json(late), *c;

		assert_int_equal(id_of(r), 3);
		c = json_object_get(json_object_get(r, "result"), "control");
		assert_int_equal(json_integer_value(json_object_get(c, "evicted_max_clients_per_uid")), 1);
		assert_int_equal(json_integer_value(json_object_get(c, "clients")), 2);
		json_decref(r);
	}
	close(unused);
	close(healthy);
	close(late);
	srv_stop(s);
}

/* A batch handled in slices over the socket answers exactly what
 * ss_ctl_handle_line() answers for it whole (here on a second, identical
 * control plane): the same bytes, in order, notifications left out. */
static void
test_batch_streamed_equals_whole(void **state)
{
	struct ss_ctl_conf sconf = { .request_timeout_ms = 10000 };   /* get_line reads bytewise */
	struct srv *s = srv_start_conf(&sconf);
	struct ss_ctl_conf conf = { .socket_path = "/nonexistent" };
	struct ss_ctl *ref = ss_ctl_create(&conf, NULL);
	size_t cap = 8u << 20, n = 0;
	char *batch = malloc(cap), *want, *got, err[256];
	int fd = cli(s), i;

	(void)state;
	assert_non_null(ref);
	assert_int_equal(ss_ctl_restore(ref, err, sizeof(err)), 0);
	n += (size_t)snprintf(batch + n, cap - n, "[");
	for (i = 0; i < 5000; i++) {
		if (i % 1000 == 7)
			n += (size_t)snprintf(batch + n, cap - n,
					      "{\"jsonrpc\":\"2.0\",\"method\":\"vnet.add\",\"params\":"
					      "{\"name\":\"n%d\",\"vni\":%d}},", i, 5000 + i);
		else if (i % 3 == 0)
			n += (size_t)snprintf(batch + n, cap - n,
					      "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"vnet.add\","
					      "\"params\":{\"name\":\"v%d\",\"vni\":%d}},", i, i % 500, i % 700);
		else
			n += (size_t)snprintf(batch + n, cap - n,
					      "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"vnet.list\","
					      "\"params\":{\"limit\":3}} ,", i);
	}
	batch[n - 1] = ']';
	want = ss_ctl_handle_line(ref, batch, n);
	batch[n++] = '\n';
	put(fd, "");
	assert_int_equal(send(fd, batch, n, MSG_NOSIGNAL), (ssize_t)n);
	got = get_line(fd, 20000);
	assert_non_null(got);
	assert_non_null(want);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(batch);
	ss_ctl_destroy(ref);
	close(fd);
	srv_stop(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_file),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_oversize_request),
		cmocka_unit_test(test_idle_mid_request),
		cmocka_unit_test(test_peer_credentials),
		cmocka_unit_test(test_poll_timeout),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_uid_cap_evicts_the_unused),
		cmocka_unit_test(test_batch_streamed_equals_whole),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
