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
	struct ss_ctl *ctl;
	struct prom_client c[MAX_CLIENTS];
};

/* Label names of each nesting level of a scope's object; the last level
 * holds the counters. The runtime's scopes are named here, the features'
 * by ss_prom_scope_labels(); other scopes label their levels "key". */
#define MAX_SCOPES 32

struct scope_labels {
	const char *scope;
	const char *labels[SS_PROM_MAX_LEVELS];
};

static struct scope_labels known[MAX_SCOPES] = {
	{ "ports", { "port" } },
	{ "drops", { "reason" } },
	{ "nodes", { "node" } },
	{ "workers", { "worker" } },
};
static size_t nb_known = 4;

int ss_prom_scope_labels(const char *scope, const char *const labels[SS_PROM_MAX_LEVELS])
{
	for (size_t i = 0; i < nb_known; i++)
		if (strcmp(known[i].scope, scope) == 0)
			return -EEXIST;
	if (nb_known == MAX_SCOPES)
		return -ENOSPC;
	known[nb_known].scope = scope;
	for (int d = 0; d < SS_PROM_MAX_LEVELS; d++)
		known[nb_known].labels[d] = labels[d];
	nb_known++;
	return 0;
}

static const char *level_label(const char *scope, int depth)
{
	for (size_t i = 0; i < nb_known; i++)
		if (strcmp(known[i].scope, scope) == 0 && depth < SS_PROM_MAX_LEVELS &&
		    known[i].labels[depth])
			return known[i].labels[depth];
	return "key";
}

static void label_escape(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

/* nodes.<node>.drops.<reason>: sswitch_node_drops_total{node,reason} */
static void emit_node_drops(FILE *f, const char *node, json_t *drops)
{
	const char *reason;
	json_t *v;

	json_object_foreach(drops, reason, v) {
		if (!json_is_integer(v))
			continue;
		fputs("sswitch_node_drops_total{node=\"", f);
		label_escape(f, node);
		fputs("\",reason=\"", f);
		label_escape(f, reason);
		fprintf(f, "\"} %lld\n", (long long)json_integer_value(v));
	}
}

/* Walk a scope's object: integers become samples of
 * sswitch_<scope>[_<counter>]{labels...}. */
static void emit(FILE *f, const char *scope, json_t *v, const char *counter, const char **keys,
		 int depth)
{
	if (json_is_integer(v) || json_is_boolean(v)) {
		long long n = json_is_integer(v) ? (long long)json_integer_value(v) : json_is_true(v);
		fprintf(f, "sswitch_%s%s%s", scope, counter ? "_" : "", counter ? counter : "");
		if (depth > 0) {
			fputc('{', f);
			for (int i = 0; i < depth; i++) {
				fprintf(f, "%s%s=\"", i ? "," : "", level_label(scope, i));
				label_escape(f, keys[i]);
				fputc('"', f);
			}
			fputc('}', f);
		}
		fprintf(f, " %lld\n", n);
		return;
	}
	if (!json_is_object(v) || depth >= 4)
		return;
	const char *k;
	json_t *c;
	json_object_foreach(v, k, c) {
		/* a level of objects is a label; integers under a label are counters */
		if (depth == 1 && json_is_object(c) && !strcmp(scope, "nodes") && !strcmp(k, "drops")) {
			emit_node_drops(f, keys[0], c);
		} else if (json_is_object(c)) {
			keys[depth] = k;
			emit(f, scope, c, counter, keys, depth + 1);
		} else if (depth == 0 || json_is_integer(c) || json_is_boolean(c)) {
			if (depth == 0 && !strcmp(scope, "drops")) {
				keys[0] = k;
				emit(f, scope, c, "total", keys, 1);
			} else if (depth == 0) {
				emit(f, scope, c, k, keys, 0);
			} else {
				emit(f, scope, c, k, keys, depth);
			}
		}
	}
}

static void emit_scope(FILE *f, const char *scope, json_t *obj)
{
	const char *keys[4] = { NULL };

	fprintf(f, "# sswitch stats.get scope \"%s\"\n", scope);
	emit(f, scope, obj, NULL, keys, 0);
}

char *ss_prom_render(struct ss_ctl *ctl, size_t *len)
{
	static const char req[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"stats.get\",\"params\":{\"scope\":\"all\"}}";
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	json_t *rep = NULL, *res;
	const char *scope;
	json_t *obj;

	if (f == NULL)
		return NULL;
	char *line = ctl ? ss_ctl_handle_line(ctl, req, sizeof(req) - 1) : NULL;
	if (line)
		rep = json_loads(line, 0, NULL);
	free(line);
	res = json_object_get(rep, "result");
	if (json_is_object(res)) {
		json_object_foreach(res, scope, obj)
			emit_scope(f, scope, obj);
	} else {
		/* no control plane: the runtime's own scopes */
		static json_t *(*const fns[])(void) = { ss_stats_ports, ss_stats_drops,
							  ss_stats_nodes, ss_stats_workers };
		static const char *const names[] = { "ports", "drops", "nodes", "workers" };
		for (size_t i = 0; i < 4; i++) {
			obj = fns[i]();
			emit_scope(f, names[i], obj);
			json_decref(obj);
		}
	}
	json_decref(rep);
	fclose(f);
	return text;
}

struct ss_prom *ss_prom_open(const char *addr, struct ss_ctl *ctl, char *err, size_t errlen)
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
	p->ctl = ctl;
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

static void client_serve(struct ss_prom *p, struct prom_client *c)
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
		char *body = ss_prom_render(p->ctl, &len);
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
			client_serve(p, &p->c[i]);
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
