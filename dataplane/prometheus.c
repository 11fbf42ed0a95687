/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "dataplane/prometheus.h"
#include "dataplane/stats.h"

#define MAX_CLIENTS 16
#define REQ_MAX 4096

struct prom_client {
	int fd;
	size_t len;
	char buf[REQ_MAX];
};

struct ss_prom {
	int fd;
	struct prom_client c[MAX_CLIENTS];
};

static void emit_scope(FILE *f, const char *metric, const char *label, json_t *obj,
		       const char *help)
{
	const char *k, *k2;
	json_t *v, *v2;

	/* obj: { LABEL_VALUE: { counter: n } } or { LABEL_VALUE: n } */
	json_object_foreach(obj, k, v) {
		if (json_is_integer(v)) {
			fprintf(f, "# HELP sswitch_%s %s\n# TYPE sswitch_%s counter\n", metric, help,
				metric);
			break;
		}
	}
	json_object_foreach(obj, k, v) {
		if (json_is_integer(v)) {
			fprintf(f, "sswitch_%s{%s=\"%s\"} %lld\n", metric, label, k,
				(long long)json_integer_value(v));
			continue;
		}
		json_object_foreach(v, k2, v2) {
			if (json_is_integer(v2))
				fprintf(f, "sswitch_%s_%s{%s=\"%s\"} %lld\n", metric, k2, label, k,
					(long long)json_integer_value(v2));
		}
	}
}

char *ss_prom_render(size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	json_t *o;

	if (f == NULL)
		return NULL;
	o = ss_stats_ports();
	emit_scope(f, "port", "port", o, "per-port counter");
	json_decref(o);
	o = ss_stats_drops();
	emit_scope(f, "drops_total", "reason", o, "packets dropped, by reason");
	json_decref(o);
	o = ss_stats_nodes();
	emit_scope(f, "node", "node", o, "per graph node counter");
	json_decref(o);
	o = ss_stats_workers();
	emit_scope(f, "worker", "worker", o, "per worker counter");
	json_decref(o);
	fclose(f);
	return text;
}

struct ss_prom *ss_prom_open(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[128];
	const char *colon = strrchr(addr, ':');
	int one = 1;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host)) {
		snprintf(err, errlen, "telemetry.prometheus: \"%s\" is not ADDRESS:PORT", addr);
		errno = EINVAL;
		return NULL;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	int port = atoi(colon + 1);
	memset(&ss, 0, sizeof(ss));
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		h++;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, h, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, h, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*s6);
	} else {
		snprintf(err, errlen, "telemetry.prometheus: \"%s\" is not an IP address", h);
		errno = EINVAL;
		return NULL;
	}
	struct ss_prom *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	for (int i = 0; i < MAX_CLIENTS; i++)
		p->c[i].fd = -1;
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		goto fail;
	setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->fd, (struct sockaddr *)&ss, sl) != 0 || listen(p->fd, 16) != 0)
		goto fail;
	return p;
fail:
	snprintf(err, errlen, "telemetry.prometheus: cannot listen on %s: %s", addr,
		 strerror(errno));
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	return NULL;
}

static void client_close(struct prom_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void write_all(int fd, const char *buf, size_t len)
{
	/* the socket is made blocking with a short timeout for the reply: a
	 * scrape is a few KB and a scraper that does not read is cut off */
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void client_serve(struct prom_client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (strstr(c->buf, "\r\n\r\n") == NULL && strstr(c->buf, "\n\n") == NULL) {
		if (c->len >= sizeof(c->buf) - 1)
			client_close(c);
		return;
	}
	char hdr[256];
	if (strncmp(c->buf, "GET /metrics ", 13) == 0 || strncmp(c->buf, "GET / ", 6) == 0) {
		size_t len = 0;
		char *body = ss_prom_render(&len);
		int hl = snprintf(hdr, sizeof(hdr),
				  "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
				  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				  len);
		write_all(c->fd, hdr, (size_t)hl);
		if (body)
			write_all(c->fd, body, len);
		free(body);
	} else {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 22\r\n"
					 "Connection: close\r\n\r\ntry GET /metrics\r\n\r\n";
		write_all(c->fd, nf, sizeof(nf) - 1);
	}
	client_close(c);
}

void ss_prom_poll(struct ss_prom *p)
{
	if (p == NULL)
		return;
	for (;;) {
		int fd = accept4(p->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		int slot = -1;
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (p->c[i].fd < 0) {
				slot = i;
				break;
			}
		if (slot < 0) {
			close(fd);
			continue;
		}
		p->c[slot].fd = fd;
		p->c[slot].len = 0;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (p->c[i].fd >= 0)
			client_serve(&p->c[i]);
}

void ss_prom_close(struct ss_prom *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (p->c[i].fd >= 0)
			close(p->c[i].fd);
	close(p->fd);
	free(p);
}
