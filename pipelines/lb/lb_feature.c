/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer feature (SPEC 3.9, docs/lb.md): the `lb` table fed by
 * lb, lb.backend, lb.config, eni, vnet and flow.config changes (lb_table.c;
 * VNET and ENI indices from the overlay, whose tables are prepared first),
 * lb.report (ORCA load reports, soft state), the runtime fields of lb.list
 * / lb.get and lb.backend.list (a decorator), the `lb` stats scope ({lb:
 * {backend ip: {connections, packets, bytes}}}), and the main loop's turn
 * (session expiry, weight updates). Its nodes place themselves on arcs:
 * lb_out on `outbound` (node_lb_out.c), lb_in on `inbound` (node_lb_in.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/health.h"
#include "dataplane/prometheus.h"
#include "pipelines/lb/lb.h"
#include "pipelines/lb/lb_types.h"
#include "pipelines/overlay/overlay.h"

static int lb_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		      char *err, size_t errlen)
{
	(void)ctx;
	return ss_lb_prepare(ctl, changes, n, err, errlen);
}

static void lb_commit(void *ctx)
{
	(void)ctx;
	ss_lb_commit();
}

static void lb_abort(void *ctx)
{
	(void)ctx;
	ss_lb_abort();
}

static void lb_reclaim(void *ctx)
{
	(void)ctx;
	ss_lb_reclaim();
}

/* ---- lb.report ---------------------------------------------------------------------- */

/* A number param: 0 when absent; -1 when not a number (err, field set). */
static int number(const json_t *params, const char *name, double *out, char *err,
		  size_t errlen, const char **field)
{
	const json_t *v = json_object_get(params, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_number(v) || !isfinite(json_number_value(v))) {
		snprintf(err, errlen, "%s: expected a number", name);
		*field = name;
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

static int m_report(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		    char *err, size_t errlen, const char **field)
{
	static const char *const known[] = { "lb", "ip", "rps_fractional", "eps", "cpu_utilization",
					     "application_utilization", NULL };
	const char *lb = json_string_value(json_object_get(params, "lb"));
	const char *ip = json_string_value(json_object_get(params, "ip"));
	double rps, eps, cpu, app;
	char canon[INET6_ADDRSTRLEN];
	uint8_t a[16];
	const char *k;
	json_t *v;
	bool used;
	int af;

	(void)ctx;
	(void)ctl;
	json_object_foreach((json_t *)params, k, v) {
		size_t i;

		for (i = 0; known[i] != NULL && strcmp(known[i], k) != 0; i++)
			;
		if (known[i] == NULL) {
			snprintf(err, errlen, "unknown field \"%.64s\"", k);
			*field = k;   /* borrowed from params, alive until the reply */
			return SS_RPC_INVALID_PARAMS;
		}
	}
	if (lb == NULL || ip == NULL) {
		*field = lb == NULL ? "lb" : "ip";
		snprintf(err, errlen, "missing required field \"%s\"", *field);
		return SS_RPC_INVALID_PARAMS;
	}
	af = strchr(ip, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, ip, a) != 1 || inet_ntop(af, a, canon, sizeof(canon)) == NULL) {
		*field = "ip";
		snprintf(err, errlen, "ip: \"%.64s\" is not an address", ip);
		return SS_RPC_INVALID_PARAMS;
	}
	if (json_object_get(params, "rps_fractional") == NULL) {
		*field = "rps_fractional";
		snprintf(err, errlen, "missing required field \"rps_fractional\"");
		return SS_RPC_INVALID_PARAMS;
	}
	if (number(params, "rps_fractional", &rps, err, errlen, field) < 0 ||
	    number(params, "eps", &eps, err, errlen, field) < 0 ||
	    number(params, "cpu_utilization", &cpu, err, errlen, field) < 0 ||
	    number(params, "application_utilization", &app, err, errlen, field) < 0)
		return SS_RPC_INVALID_PARAMS;
	if (ss_lb_report(lb, canon, rps, eps, cpu, app, &used, err, errlen) != 0) {
		*field = strstr(err, "has no backend") != NULL ? "ip" : "lb";
		return SS_ERR_NOT_FOUND;
	}
	/* used false: rps or utilization <= 0, ignored (gRFC A58) */
	*result = json_pack("{sb}", "used", used);
	return *result != NULL ? 0 : SS_RPC_INTERNAL;
}

/* ---- lb.list / lb.get / lb.backend.list ---------------------------------------------------- */

struct backends {
	const char *lb;
	json_t *list;
};

static void backend_fields(const char *lb, const json_t *obj, json_t *out)
{
	const char *ip = json_string_value(json_object_get(obj, "ip"));

	if (!ss_lb_backend_runtime(lb, ip, out)) {
		/* not published (cannot be after a commit): zeros */
		json_object_set_new(out, "effective_weight", json_real(0));
		json_object_set_new(out, "entries", json_integer(0));
		json_object_set_new(out, "connections", json_integer(0));
		json_object_set_new(out, "packets", json_integer(0));
		json_object_set_new(out, "bytes", json_integer(0));
		json_object_set_new(out, "last_report_age_ms", json_null());
	}
}

static int one_backend(void *arg, const json_t *obj)
{
	struct backends *b = arg;
	json_t *o;

	if (strcmp(json_string_value(json_object_get(obj, "lb")), b->lb) != 0)
		return 0;
	o = json_pack("{sOsOsO}", "ip", json_object_get(obj, "ip"), "state",
		      json_object_get(obj, "state"), "weight", json_object_get(obj, "weight"));
	if (o == NULL)
		return -ENOMEM;
	backend_fields(b->lb, obj, o);
	return json_array_append_new(b->list, o) == 0 ? 0 : -ENOMEM;
}

/* Backends by address: families apart, then numerically. */
static int by_ip(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "ip"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "ip"));
	uint8_t ax[17] = { 0 }, ay[17] = { 0 };

	ax[0] = strchr(x, ':') != NULL;
	ay[0] = strchr(y, ':') != NULL;
	inet_pton(ax[0] ? AF_INET6 : AF_INET, x, ax + 1);
	inet_pton(ay[0] ? AF_INET6 : AF_INET, y, ay + 1);
	return memcmp(ax, ay, sizeof(ax));
}

static void lb_decorate(void *ctx, struct ss_ctl *ctl, const json_t *obj, json_t *out)
{
	struct backends b = { json_string_value(json_object_get(obj, "name")), json_array() };
	size_t n;
	json_t **v;

	(void)ctx;
	if (b.list == NULL)
		return;
	ss_ctl_store_foreach(ctl, "lb.backend", one_backend, &b);
	n = json_array_size(b.list);
	v = malloc((n + 1) * sizeof(*v));
	if (v != NULL) {
		for (size_t i = 0; i < n; i++)
			v[i] = json_incref(json_array_get(b.list, i));
		qsort(v, n, sizeof(*v), by_ip);
		json_array_clear(b.list);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(b.list, v[i]);
		free(v);
	}
	json_object_set_new(out, "backends", b.list);
}

static void backend_decorate(void *ctx, struct ss_ctl *ctl, const json_t *obj, json_t *out)
{
	(void)ctx;
	(void)ctl;
	backend_fields(json_string_value(json_object_get(obj, "lb")), obj, out);
}

/* ---- stats ------------------------------------------------------------------------- */

static json_t *lb_stats_get(void *ctx)
{
	(void)ctx;
	return ss_lb_stats();
}

static void lb_stats_clear(void *ctx)
{
	(void)ctx;
	ss_lb_stats_clear();
}

static void lb_health(void *ctx, json_t *findings)
{
	(void)ctx;
	ss_lb_findings(findings);
}

/* ---- the feature ---------------------------------------------------------------------- */

static void lb_fini(void)
{
	ss_lb_teardown();
}

static int lb_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "lb",
		.prepare = lb_prepare,
		.commit = lb_commit,
		.abort = lb_abort,
		.reclaim = lb_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "lb",
		.get = lb_stats_get,
		.clear = lb_stats_clear,
	};

	if (ss_lb_setup(ss_overlay_eni_max(), cfg->nb_workers, err, errlen) != 0)
		return -1;
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_ctl_register_method(ctl, "lb.report", m_report, NULL) != 0 ||
	    ss_ctl_register_decorator(ctl, "lb", lb_decorate, NULL) != 0 ||
	    ss_ctl_register_decorator(ctl, "lb.backend", backend_decorate, NULL) != 0 ||
	    ss_prom_scope_labels("lb", (const char *const[]){ "lb", "backend", NULL }) != 0 ||
	    ss_health_add_source(lb_health, NULL) != 0) {
		lb_fini();
		snprintf(err, errlen, "cannot register the lb table, stats and methods");
		return -1;
	}
	return 0;
}

static struct ss_feature lb = {
	.name = "lb",
	.depends_on = SS_FEATURE_DEPS("overlay", "conntrack"),
	.init = lb_init,
	.fini = lb_fini,
	.poll = ss_lb_poll,
	.poll_in_us = ss_lb_poll_in_us,
};
SS_FEATURE_REGISTER(lb);
