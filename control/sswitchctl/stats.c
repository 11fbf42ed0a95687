/* SPDX-License-Identifier: BSD-3-Clause
 *
 * `sswitchctl stats`: the tables of stats.get, and `--watch`, which polls
 * stats.get and shows rates computed from successive samples (packets/s per
 * port, per drop reason, per node, per ENI and RDMA policy) until Ctrl-C.
 *
 * Result shape (SPEC section 4): {ports: {NAME: {rx_packets, ...}},
 * drops: {REASON: n}, nodes: {NODE: {packets, calls, cycles}},
 * eni: {NAME: {...}}, acl: {GROUP: {PRIORITY: hits}},
 * rdma: {policies: {NAME: {packets, bytes}}}, flows: {count, ...},
 * rate_limit: {ENI: {...}}}; only the scopes asked. Scopes not named here
 * are shown by their shape: {NAME: {...}} and flat objects as tables.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sswitchctl.h"

static json_int_t num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (json_int_t)json_real_value(v);
	return 0;
}

static void count_cell(char *buf, size_t len, const json_t *obj, const char *key)
{
	if (json_object_get(obj, key) == NULL)
		snprintf(buf, len, "-");
	else
		ss_format_count(buf, len, num(obj, key));
}

/* Rate of obj.key between the previous sample and this one. A counter that
 * went backwards was cleared: its rate is what it counted since. */
static void rate_cell(char *buf, size_t len, const json_t *cur, const json_t *prev,
		      const char *key, double dt, double scale)
{
	json_int_t c, p;

	if (prev == NULL || dt <= 0 || json_object_get(cur, key) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	c = num(cur, key);
	p = num(prev, key);
	ss_format_rate(buf, len, (double)(c >= p ? c - p : c) * scale / dt);
}

static void heading(FILE *out, const char *title, bool *first)
{
	if (!*first)
		fputc('\n', out);
	*first = false;
	fprintf(out, "%s\n", title);
}

/* A table of a {NAME: {counter...}} scope. */
static void counters_table(FILE *out, const json_t *scope, const char *first_title,
			   const char *const *keys, const char *const *titles, int nkeys)
{
	const char *cols[16];
	char buf[16][48];
	const char *cells[16];
	struct ss_table *t;
	const char *name;
	json_t *v;

	cols[0] = first_title;
	for (int i = 0; i < nkeys; i++)
		cols[i + 1] = titles[i];
	t = ss_table_new(nkeys + 1, cols);
	if (t == NULL)
		return;
	json_object_foreach((json_t *)scope, name, v) {
		cells[0] = name;
		for (int i = 0; i < nkeys; i++) {
			count_cell(buf[i], sizeof(buf[i]), v, keys[i]);
			cells[i + 1] = buf[i];
		}
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

struct drop {
	const char *reason;
	json_int_t n;
	double rate;    /* < 0: unknown */
};

static int drop_cmp(const void *a, const void *b)
{
	const struct drop *x = a, *y = b;

	if (x->rate != y->rate)
		return x->rate < y->rate ? 1 : -1;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->reason, y->reason);
}

/* Drops sorted by rate then count, non-zero only unless `all`. */
static void drops_table(FILE *out, const json_t *drops, const json_t *prev, double dt,
			bool all)
{
	size_t n = json_object_size(drops), k = 0;
	struct drop *d = calloc(n ? n : 1, sizeof(*d));
	const char *reason;
	json_t *v;
	bool rates = prev != NULL && dt > 0;

	if (d == NULL)
		return;
	json_object_foreach((json_t *)drops, reason, v) {
		json_int_t c = json_is_integer(v) ? json_integer_value(v) : 0;
		const json_t *pv = rates ? json_object_get(prev, reason) : NULL;
		json_int_t p = json_is_integer(pv) ? json_integer_value(pv) : 0;

		if (c == 0 && !all)
			continue;
		d[k].reason = reason;
		d[k].n = c;
		d[k].rate = rates ? (double)(c >= p ? c - p : c) / dt : -1;
		k++;
	}
	if (k == 0) {
		fputs("(no drops)\n", out);
		free(d);
		return;
	}
	qsort(d, k, sizeof(*d), drop_cmp);

	static const char *const t2[] = { "REASON", "PACKETS" };
	static const char *const t3[] = { "REASON", "PKTS/S", "PACKETS" };
	struct ss_table *t = ss_table_new(rates ? 3 : 2, rates ? t3 : t2);
	for (size_t i = 0; t != NULL && i < k; i++) {
		char cnt[48], rate[48];
		const char *cells[3];

		ss_format_count(cnt, sizeof(cnt), d[i].n);
		ss_format_rate(rate, sizeof(rate), d[i].rate);
		cells[0] = d[i].reason;
		cells[1] = rates ? rate : cnt;
		cells[2] = cnt;
		ss_table_add(t, cells);
	}
	if (t != NULL)
		ss_table_print(t, out);
	ss_table_free(t);
	free(d);
}

static void nodes_table(FILE *out, const json_t *nodes, const json_t *prev, double dt)
{
	static const char *const titles[] = {
		"NODE", "PACKETS", "CALLS", "CYCLES", "CYCLES/PKT", "PKTS/CALL", "PKTS/S",
	};
	bool rates = prev != NULL && dt > 0;
	struct ss_table *t = ss_table_new(rates ? 7 : 6, titles);
	const char *name;
	json_t *v;

	if (t == NULL)
		return;
	json_object_foreach((json_t *)nodes, name, v) {
		char b[6][48];
		const char *cells[7] = { name, b[0], b[1], b[2], b[3], b[4], b[5] };
		json_int_t pk = num(v, "packets"), ca = num(v, "calls"), cy = num(v, "cycles");
		const json_t *pv = rates ? json_object_get(prev, name) : NULL;

		/* While watching, cycles per packet is that of the last interval:
		 * the figure that moves when load changes. */
		if (pv != NULL && pk > num(pv, "packets") && cy >= num(pv, "cycles")) {
			pk -= num(pv, "packets");
			cy -= num(pv, "cycles");
			ca -= num(pv, "calls");
		}
		ss_format_count(b[0], sizeof(b[0]), num(v, "packets"));
		ss_format_count(b[1], sizeof(b[1]), num(v, "calls"));
		ss_format_count(b[2], sizeof(b[2]), num(v, "cycles"));
		if (pk > 0)
			snprintf(b[3], sizeof(b[3]), "%.1f", (double)cy / (double)pk);
		else
			snprintf(b[3], sizeof(b[3]), "-");
		if (ca > 0)
			snprintf(b[4], sizeof(b[4]), "%.1f", (double)pk / (double)ca);
		else
			snprintf(b[4], sizeof(b[4]), "-");
		rate_cell(b[5], sizeof(b[5]), v, pv, "packets", dt, 1.0);
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

static void ports_rates(FILE *out, const json_t *ports, const json_t *prev, double dt)
{
	static const char *const titles[] = {
		"PORT", "RX_PPS", "TX_PPS", "RX_BPS", "TX_BPS", "RX_DROP/S", "TX_DROP/S",
		"ERRORS/S", "RX_PACKETS", "TX_PACKETS",
	};
	struct ss_table *t = ss_table_new(10, titles);
	const char *name;
	json_t *v;

	if (t == NULL)
		return;
	json_object_foreach((json_t *)ports, name, v) {
		char b[9][48];
		const char *cells[10] = { name, b[0], b[1], b[2], b[3], b[4], b[5], b[6],
					  b[7], b[8] };
		const json_t *pv = prev != NULL ? json_object_get(prev, name) : NULL;

		rate_cell(b[0], sizeof(b[0]), v, pv, "rx_packets", dt, 1.0);
		rate_cell(b[1], sizeof(b[1]), v, pv, "tx_packets", dt, 1.0);
		rate_cell(b[2], sizeof(b[2]), v, pv, "rx_bytes", dt, 8.0);
		rate_cell(b[3], sizeof(b[3]), v, pv, "tx_bytes", dt, 8.0);
		rate_cell(b[4], sizeof(b[4]), v, pv, "rx_dropped", dt, 1.0);
		rate_cell(b[5], sizeof(b[5]), v, pv, "tx_dropped", dt, 1.0);
		rate_cell(b[6], sizeof(b[6]), v, pv, "errors", dt, 1.0);
		count_cell(b[7], sizeof(b[7]), v, "rx_packets");
		count_cell(b[8], sizeof(b[8]), v, "tx_packets");
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

/* Rates of a {NAME: {packets, bytes}}-like scope. */
static void pkt_byte_rates(FILE *out, const json_t *scope, const json_t *prev, double dt,
			   const char *first, const char *pk, const char *by)
{
	const char *titles[] = { first, "PKTS/S", "BPS", "PACKETS", "BYTES" };
	struct ss_table *t = ss_table_new(5, titles);
	const char *name;
	json_t *v;

	if (t == NULL)
		return;
	json_object_foreach((json_t *)scope, name, v) {
		char b[4][48];
		const char *cells[5] = { name, b[0], b[1], b[2], b[3] };
		const json_t *pv = prev != NULL ? json_object_get(prev, name) : NULL;

		rate_cell(b[0], sizeof(b[0]), v, pv, pk, dt, 1.0);
		rate_cell(b[1], sizeof(b[1]), v, pv, by, dt, 8.0);
		count_cell(b[2], sizeof(b[2]), v, pk);
		count_cell(b[3], sizeof(b[3]), v, by);
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

static void acl_table(FILE *out, const json_t *acl)
{
	static const char *const titles[] = { "GROUP", "PRIORITY", "HITS" };
	struct ss_table *t = ss_table_new(3, titles);
	const char *group, *prio;
	json_t *rules, *hits;

	if (t == NULL)
		return;
	json_object_foreach((json_t *)acl, group, rules) {
		json_object_foreach(rules, prio, hits) {
			char b[48];
			const char *cells[3] = { group, prio, b };

			ss_format_count(b, sizeof(b), json_is_integer(hits) ?
					json_integer_value(hits) : 0);
			ss_table_add(t, cells);
		}
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

/* A scope that is one flat object of counters ({count, created, ...}): a
 * COUNTER / VALUE table, with the rate per second while watching. */
static void flat_table(FILE *out, const json_t *scope, const json_t *prev, double dt)
{
	static const char *const titles[] = { "COUNTER", "VALUE", "PER_S" };
	bool rates = prev != NULL && dt > 0;
	struct ss_table *t = ss_table_new(rates ? 3 : 2, titles);
	const char *name;
	json_t *v;

	if (t == NULL)
		return;
	json_object_foreach((json_t *)scope, name, v) {
		char b[2][48];
		const char *cells[3] = { name, b[0], b[1] };

		if (json_is_integer(v) || json_is_real(v)) {
			ss_format_count(b[0], sizeof(b[0]), num(scope, name));
		} else {
			char *txt = ss_format_value(v);
			snprintf(b[0], sizeof(b[0]), "%s", txt != NULL ? txt : "");
			free(txt);
		}
		rate_cell(b[1], sizeof(b[1]), scope, prev, name, dt, 1.0);
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

/* Worker lcores: busy share of the cycles (over the last interval while
 * watching), packets received. */
static void workers_table(FILE *out, const json_t *workers, const json_t *prev, double dt)
{
	static const char *const titles[] = {
		"WORKER", "LCORE", "BUSY%", "RX_PACKETS", "RX_PPS",
	};
	bool rates = prev != NULL && dt > 0;
	struct ss_table *t = ss_table_new(rates ? 5 : 4, titles);
	const char *name;
	json_t *v;

	if (t == NULL)
		return;
	json_object_foreach((json_t *)workers, name, v) {
		char b[4][48];
		const char *cells[5] = { name, b[0], b[1], b[2], b[3] };
		const json_t *pv = rates ? json_object_get(prev, name) : NULL;
		json_int_t busy = num(v, "busy_cycles"), total = num(v, "total_cycles");

		if (pv != NULL && total > num(pv, "total_cycles") &&
		    busy >= num(pv, "busy_cycles")) {
			busy -= num(pv, "busy_cycles");
			total -= num(pv, "total_cycles");
		}
		count_cell(b[0], sizeof(b[0]), v, "lcore");
		if (total > 0)
			snprintf(b[1], sizeof(b[1]), "%.1f%%", 100.0 * (double)busy / (double)total);
		else
			snprintf(b[1], sizeof(b[1]), "-");
		count_cell(b[2], sizeof(b[2]), v, "rx_packets");
		rate_cell(b[3], sizeof(b[3]), v, pv, "rx_packets", dt, 1.0);
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

/* The whole stats.get result; prev/dt give rates (prev NULL: totals only). */
static void render(const json_t *s, const json_t *prev, double dt, bool all, FILE *out)
{
	static const char *const port_keys[] = {
		"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped",
		"tx_dropped", "errors",
	};
	static const char *const port_titles[] = {
		"RX_PACKETS", "TX_PACKETS", "RX_BYTES", "TX_BYTES", "RX_DROPPED",
		"TX_DROPPED", "ERRORS",
	};
	static const char *const eni_keys[] = {
		"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "acl_drops", "flows",
	};
	static const char *const eni_titles[] = {
		"RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES", "ACL_DROPS", "FLOWS",
	};
	bool first = true;
	bool watch = prev != NULL || dt < 0;
	const json_t *v;
	const char *key;
	json_t *other;

	if ((v = json_object_get(s, "ports")) != NULL && json_is_object(v)) {
		heading(out, "Ports", &first);
		if (watch)
			ports_rates(out, v, json_object_get(prev, "ports"), dt);
		else
			counters_table(out, v, "PORT", port_keys, port_titles, 7);
	}
	if ((v = json_object_get(s, "drops")) != NULL && json_is_object(v)) {
		heading(out, "Drops", &first);
		drops_table(out, v, json_object_get(prev, "drops"), dt, all);
	}
	if ((v = json_object_get(s, "nodes")) != NULL && json_is_object(v)) {
		heading(out, "Nodes", &first);
		nodes_table(out, v, json_object_get(prev, "nodes"), dt);
	}
	if ((v = json_object_get(s, "eni")) != NULL && json_is_object(v) &&
	    json_object_size(v) > 0) {
		heading(out, "ENIs", &first);
		if (watch)
			pkt_byte_rates(out, v, json_object_get(prev, "eni"), dt, "ENI",
				       "rx_packets", "rx_bytes");
		else
			counters_table(out, v, "ENI", eni_keys, eni_titles, 6);
	}
	if ((v = json_object_get(s, "acl")) != NULL && json_is_object(v) &&
	    json_object_size(v) > 0) {
		heading(out, "ACL rule hits", &first);
		acl_table(out, v);
	}
	if ((v = json_object_get(s, "rdma")) != NULL && json_is_object(v)) {
		const json_t *pol = json_object_get(v, "policies");

		if (json_is_object(pol) && json_object_size(pol) > 0) {
			const json_t *pp = json_object_get(json_object_get(prev, "rdma"),
							   "policies");
			heading(out, "RDMA policies", &first);
			pkt_byte_rates(out, pol, pp, dt, "POLICY", "packets", "bytes");
		}
	}
	if ((v = json_object_get(s, "workers")) != NULL && json_is_object(v) &&
	    json_object_size(v) > 0) {
		heading(out, "Workers", &first);
		workers_table(out, v, json_object_get(prev, "workers"), dt);
	}
	/* Scopes this client does not know yet, as the daemon gave them. */
	json_object_foreach((json_t *)s, key, other) {
		if (strcmp(key, "ports") == 0 || strcmp(key, "drops") == 0 ||
		    strcmp(key, "nodes") == 0 || strcmp(key, "eni") == 0 ||
		    strcmp(key, "acl") == 0 || strcmp(key, "rdma") == 0 ||
		    strcmp(key, "workers") == 0)
			continue;
		heading(out, strcmp(key, "flows") == 0 ? "Flows (connection tracking)" :
			strcmp(key, "rate_limit") == 0 ? "Rate limits" :
			strcmp(key, "privatelink") == 0 ? "Private Link" :
			strcmp(key, "trace") == 0 ? "Packet trace" : key, &first);
		if (json_is_object(other) && json_object_size(other) == 0) {
			fputs("(none)\n", out);
			continue;
		}
		if (json_is_object(other)) {
			const char *k2;
			json_t *e;
			bool keyed = true, flat = true;

			json_object_foreach(other, k2, e) {
				keyed = keyed && json_is_object(e);
				flat = flat && !json_is_object(e) && !json_is_array(e);
			}
			if (keyed) {
				bool by_eni = strcmp(key, "rate_limit") == 0 ||
					      strcmp(key, "privatelink") == 0;

				ss_render_keyed(other, by_eni ? "ENI" : "NAME", out);
				continue;
			}
			if (flat) {
				flat_table(out, other, json_object_get(prev, key), dt);
				continue;
			}
		}
		char *txt = json_dumps(other, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				       JSON_ENCODE_ANY);
		fprintf(out, "%s\n", txt != NULL ? txt : "");
		free(txt);
	}
}

void ss_render_stats(const json_t *stats, bool all, FILE *out)
{
	render(stats, NULL, 0, all, out);
}

static volatile sig_atomic_t stop_flag;

static void on_sigint(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ss_stats_watch(struct ss_rpc *c, const struct ss_stats_opts *o)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	json_t *params, *prev = NULL;
	double prev_t = 0;
	bool tty = isatty(STDOUT_FILENO);
	int status = SS_EXIT_OK;

	/* No SA_RESTART: Ctrl-C interrupts the sleep and a pending read. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	params = json_pack("{s:s}", "scope", o->scope != NULL ? o->scope : "all");

	for (long n = 0; !stop_flag && (o->count == 0 || n < o->count); n++) {
		struct ss_rpc_error rerr;
		char err[512];
		json_t *cur;
		int rc;

		if (n > 0) {
			struct timespec ts = {
				.tv_sec = (time_t)o->interval_s,
				.tv_nsec = (long)((o->interval_s - (double)(time_t)o->interval_s) *
						  1e9),
			};
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_flag)
				;
			if (stop_flag)
				break;
		}
		rc = ss_rpc_call(c, "stats.get", params, &cur, &rerr, err, sizeof(err));
		if (rc == -EINTR && stop_flag)
			break;
		if (rc < 0) {
			fprintf(stderr, "sswitchctl: %s\n", err);
			status = SS_EXIT_CONN;
			break;
		}
		if (rc > 0) {
			fprintf(stderr, "sswitchctl: error %ld: %s\n", rerr.code, rerr.message);
			json_decref(rerr.data);
			status = SS_EXIT_API;
			break;
		}
		double t = mono_s();
		time_t wall = time(NULL);
		char stamp[32];

		strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&wall));
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (n > 0)
			fputc('\n', stdout);
		printf("sswitchd stats, scope %s, every %.1f s (%s)%s\n\n",
		       o->scope != NULL ? o->scope : "all", o->interval_s, stamp,
		       tty ? ", Ctrl-C to quit" : "");
		/* dt -1 on the first sample: rate columns shown as "-". */
		render(cur, prev, prev != NULL ? t - prev_t : -1, o->all, stdout);
		fflush(stdout);
		json_decref(prev);
		prev = cur;
		prev_t = t;
	}
	json_decref(prev);
	json_decref(params);
	return status;
}
