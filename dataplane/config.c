/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Config loading. Every error names the file and line and, where there is
 * one, the key: "sswitchd.conf:12: ports[1].role: unknown role "hots"
 * (expected host, fabric or storage)". Unknown keys are errors too, so a
 * typo never silently falls back to a default.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "control/limits.h"
#include "dataplane/config.h"

struct cctx {
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct cctx *c, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int line = s ? (int)config_setting_source_line(s) : 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key && *key)
		snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->file, line, key, msg);
	else
		snprintf(c->err, c->errlen, "%s:%d: %s", c->file, line, msg);
	return -1;
}

/* Where to point an error about member `name` of `grp`: the member's line
 * when it is there, else the group's. */
static const config_setting_t *at(const config_setting_t *grp, const char *name)
{
	const config_setting_t *m = grp ? config_setting_get_member(grp, name) : NULL;

	return m ? m : grp;
}

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "something else";
	}
}

/* Refuse members of `grp` not in `allowed` (NULL-terminated). */
static int check_keys(struct cctx *c, const config_setting_t *grp, const char *prefix,
		      const char *const *allowed)
{
	int n = config_setting_length(grp);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(grp, (unsigned int)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (name && strcmp(name, *a) == 0)
				ok = true;
		if (!ok) {
			char key[128];
			snprintf(key, sizeof(key), "%s%s", prefix, name ? name : "?");
			return fail(c, m, key, "unknown key");
		}
	}
	return 0;
}

/* Integer member `name` of `grp` into *out; absent leaves *out unchanged
 * unless required. */
static int get_uint(struct cctx *c, const config_setting_t *grp, const char *prefix,
		    const char *name, unsigned long long min, unsigned long long max, bool required,
		    uint32_t *out)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	char key[128];

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	if (s == NULL)
		return required ? fail(c, grp, key, "missing (required)") : 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return fail(c, s, key, "expected an integer, got %s", type_name(t));
	long long v = config_setting_get_int64(s);
	if (v < 0 || (unsigned long long)v < min || (unsigned long long)v > max)
		return fail(c, s, key, "%lld is out of range [%llu, %llu]", v, min, max);
	*out = (uint32_t)v;
	return 0;
}

static int get_str(struct cctx *c, const config_setting_t *grp, const char *prefix,
		   const char *name, bool required, const char **out)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	char key[128];

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	if (s == NULL)
		return required ? fail(c, grp, key, "missing (required)") : 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(c, s, key, "expected a string, got %s",
			    type_name(config_setting_type(s)));
	*out = config_setting_get_string(s);
	return 0;
}

static int get_group(struct cctx *c, const config_setting_t *root, const char *name,
		     bool required, const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(root, name);

	*out = NULL;
	if (s == NULL)
		return required ? fail(c, root, name, "missing section (required)") : 0;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(c, s, name, "expected a group { ... }, got %s",
			    type_name(config_setting_type(s)));
	*out = s;
	return 0;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A devargs string: a driver or bus address, then optional ",key=value". */
static bool devargs_valid(const char *d)
{
	size_t i = 0;

	if (d == NULL || *d == '\0')
		return false;
	for (; d[i] && d[i] != ','; i++)
		if (!(isalnum((unsigned char)d[i]) || d[i] == '_' || d[i] == ':' || d[i] == '.' ||
		      d[i] == '-'))
			return false;
	if (i == 0)
		return false;
	for (; d[i]; i++)
		if (isspace((unsigned char)d[i]))
			return false;
	return d[strlen(d) - 1] != ',';
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int load_eal(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "eal");

	if (s == NULL)
		return 0;
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail(c, s, "eal", "expected an array of strings, got %s", type_name(t));
	int n = config_setting_length(s);
	cfg->eal_argv = calloc((size_t)n + 1, sizeof(char *));
	if (cfg->eal_argv == NULL)
		return fail(c, s, "eal", "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			char key[32];
			snprintf(key, sizeof(key), "eal[%d]", i);
			return fail(c, e, key, "expected a string");
		}
		cfg->eal_argv[cfg->eal_argc++] = strdup(config_setting_get_string(e));
	}
	return 0;
}

static int load_lcores(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	static const char *const keys[] = { "main", "workers", NULL };
	const config_setting_t *g;

	if (get_group(c, root, "lcores", true, &g) || check_keys(c, g, "lcores.", keys))
		return -1;
	if (get_uint(c, g, "lcores.", "main", 0, RTE_MAX_LCORE - 1, true, &cfg->main_lcore))
		return -1;
	const config_setting_t *w = config_setting_get_member(g, "workers");
	if (w == NULL)
		return fail(c, g, "lcores.workers", "missing (required)");
	if (config_setting_type(w) != CONFIG_TYPE_ARRAY && config_setting_type(w) != CONFIG_TYPE_LIST)
		return fail(c, w, "lcores.workers", "expected an array of lcore ids");
	int n = config_setting_length(w);
	if (n == 0)
		return fail(c, w, "lcores.workers", "at least one worker lcore is needed");
	if (n > SS_MAX_WORKERS)
		return fail(c, w, "lcores.workers", "at most %d workers", SS_MAX_WORKERS);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(w, (unsigned int)i);
		char key[40];
		snprintf(key, sizeof(key), "lcores.workers[%d]", i);
		if (config_setting_type(e) != CONFIG_TYPE_INT)
			return fail(c, e, key, "expected an integer lcore id");
		int v = config_setting_get_int(e);
		if (v < 0 || v >= RTE_MAX_LCORE)
			return fail(c, e, key, "lcore %d out of range [0, %d]", v, RTE_MAX_LCORE - 1);
		if ((unsigned int)v == cfg->main_lcore)
			return fail(c, e, key, "lcore %d is the main lcore", v);
		for (unsigned int j = 0; j < cfg->nb_workers; j++)
			if (cfg->workers[j] == (unsigned int)v)
				return fail(c, e, key, "lcore %d listed twice", v);
		cfg->workers[cfg->nb_workers++] = (unsigned int)v;
	}
	return 0;
}

static int load_port(struct cctx *c, const config_setting_t *p, int i, struct ss_port_conf *pc)
{
	static const char *const keys[] = { "name", "devargs", "role", "peer", "mtu", "rx_queues",
					    "lossless_lane", "mac", NULL };
	char pre[32];
	const char *name = NULL, *devargs = NULL, *role = NULL, *peer = NULL, *mac = NULL;
	uint32_t v;

	snprintf(pre, sizeof(pre), "ports[%d].", i);
	if (config_setting_type(p) != CONFIG_TYPE_GROUP)
		return fail(c, p, pre, "expected a group { name = ...; devargs = ...; role = ...; }");
	if (check_keys(c, p, pre, keys) || get_str(c, p, pre, "name", true, &name) ||
	    get_str(c, p, pre, "devargs", true, &devargs) ||
	    get_str(c, p, pre, "role", true, &role) || get_str(c, p, pre, "peer", false, &peer) ||
	    get_str(c, p, pre, "mac", false, &mac))
		return -1;
	pc->line = (int)config_setting_source_line(p);
	char key[64];
	snprintf(key, sizeof(key), "%sname", pre);
	if (*name == '\0' || strlen(name) >= SS_PORT_NAME_MAX)
		return fail(c, at(p, "name"), key, "must be 1 to %d characters",
			    SS_PORT_NAME_MAX - 1);
	for (const char *q = name; *q; q++)
		if (!(isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.'))
			return fail(c, at(p, "name"), key, "\"%s\": use letters, digits, '_', '-', '.'", name);
	snprintf(pc->name, sizeof(pc->name), "%s", name);
	snprintf(key, sizeof(key), "%sdevargs", pre);
	if (!devargs_valid(devargs))
		return fail(c, at(p, "devargs"), key,
			    "\"%s\" is not a device: expected DRIVER[,key=value...] (e.g. "
			    "net_tap0,iface=ss0) or a PCI address",
			    devargs);
	pc->devargs = strdup(devargs);
	snprintf(key, sizeof(key), "%srole", pre);
	if (strcmp(role, "host") == 0)
		pc->role = SS_ROLE_HOST;
	else if (strcmp(role, "fabric") == 0)
		pc->role = SS_ROLE_FABRIC;
	else if (strcmp(role, "storage") == 0)
		pc->role = SS_ROLE_STORAGE;
	else
		return fail(c, at(p, "role"), key, "unknown role \"%s\" (expected host, fabric or storage)", role);
	if (peer)
		snprintf(pc->peer, sizeof(pc->peer), "%s", peer);
	v = 1500;
	if (get_uint(c, p, pre, "mtu", 68, 16000, false, &v))
		return -1;
	pc->mtu = (uint16_t)v;
	v = 0;
	if (get_uint(c, p, pre, "rx_queues", 1, SS_MAX_RXQ_PER_WORKER, false, &v))
		return -1;
	pc->rx_queues = (uint16_t)v;
	pc->lossless_lane = -1;
	const config_setting_t *ll = config_setting_get_member(p, "lossless_lane");
	if (ll) {
		if (config_setting_type(ll) != CONFIG_TYPE_BOOL) {
			snprintf(key, sizeof(key), "%slossless_lane", pre);
			return fail(c, ll, key, "expected true or false");
		}
		pc->lossless_lane = config_setting_get_bool(ll);
	}
	if (mac) {
		snprintf(key, sizeof(key), "%smac", pre);
		if (parse_mac(mac, pc->mac) != 0 || (pc->mac[0] & 1))
			return fail(c, at(p, "mac"), key, "\"%s\" is not a unicast MAC (aa:bb:cc:dd:ee:ff)", mac);
		pc->has_mac = true;
	}
	return 0;
}

static int load_ports(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	const config_setting_t *ps = config_setting_get_member(root, "ports");

	if (ps == NULL)
		return fail(c, root, "ports", "missing (required): at least one port");
	if (config_setting_type(ps) != CONFIG_TYPE_LIST)
		return fail(c, ps, "ports", "expected a list ( { ... }, { ... } )");
	int n = config_setting_length(ps);
	if (n == 0)
		return fail(c, ps, "ports", "at least one port is needed");
	if (n > SS_MAX_PORTS)
		return fail(c, ps, "ports", "at most %d ports", SS_MAX_PORTS);
	for (int i = 0; i < n; i++) {
		const config_setting_t *p = config_setting_get_elem(ps, (unsigned int)i);
		cfg->nb_ports++; /* first: ss_config_free() frees a half-loaded port */
		if (load_port(c, p, i, &cfg->ports[i]))
			return -1;
		for (int j = 0; j < i; j++)
			if (strcmp(cfg->ports[j].name, cfg->ports[i].name) == 0) {
				char key[32];
				snprintf(key, sizeof(key), "ports[%d].name", i);
				return fail(c, at(p, "name"), key, "\"%s\" is already the name of ports[%d]",
					    cfg->ports[i].name, j);
			}
	}
	for (int i = 0; i < n; i++) {
		struct ss_port_conf *pc = &cfg->ports[i];
		bool found = pc->peer[0] == '\0';
		for (int j = 0; j < n && !found; j++)
			found = strcmp(cfg->ports[j].name, pc->peer) == 0;
		if (!found) {
			char key[32];
			snprintf(key, sizeof(key), "ports[%d].peer", i);
			return fail(c, at(config_setting_get_elem(ps, (unsigned int)i), "peer"), key,
				    "no port is named \"%s\"", pc->peer);
		}
	}
	return 0;
}

/* control: the socket's limits and the snapshot interval (issue 17;
 * control/limits.h, docs/control.md). Absent: 0, the control plane's
 * default. */
#define SS_CONTROL_LIMIT_KEYS "idle_timeout_s", "request_timeout_ms", "max_clients", \
	"max_clients_per_uid", "max_buffered_mb", "snapshot_interval_s"

static int load_control_limits(struct cctx *c, const config_setting_t *g, struct ss_config *cfg)
{
	if (get_uint(c, g, "control.", "idle_timeout_s", 1, SS_CTL_MAX_IDLE_TIMEOUT_S, false,
		     &cfg->ctl_idle_timeout_s) ||
	    get_uint(c, g, "control.", "request_timeout_ms", SS_CTL_MIN_REQUEST_TIMEOUT_MS,
		     SS_CTL_MAX_REQUEST_TIMEOUT_MS, false, &cfg->ctl_request_timeout_ms) ||
	    get_uint(c, g, "control.", "max_clients", 1, SS_CTL_MAX_MAX_CLIENTS, false,
		     &cfg->ctl_max_clients) ||
	    get_uint(c, g, "control.", "max_clients_per_uid", 1, SS_CTL_MAX_MAX_CLIENTS, false,
		     &cfg->ctl_max_clients_per_uid) ||
	    get_uint(c, g, "control.", "max_buffered_mb", SS_CTL_MIN_MAX_BUFFERED_MB,
		     SS_CTL_MAX_MAX_BUFFERED_MB, false, &cfg->ctl_max_buffered_mb) ||
	    get_uint(c, g, "control.", "snapshot_interval_s", 1, SS_CTL_MAX_SNAPSHOT_INTERVAL_S,
		     false, &cfg->ctl_snapshot_interval_s))
		return -1;
	if (cfg->ctl_max_clients_per_uid >
	    (cfg->ctl_max_clients ? cfg->ctl_max_clients : SS_CTL_DEF_MAX_CLIENTS))
		return fail(c, at(g, "max_clients_per_uid"), "control.max_clients_per_uid",
			    "must not be above max_clients (%u)",
			    cfg->ctl_max_clients ? cfg->ctl_max_clients : SS_CTL_DEF_MAX_CLIENTS);
	return 0;
}

static int load_control(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	static const char *const keys[] = { "socket", "state_file", "group", SS_CONTROL_LIMIT_KEYS,
					    NULL };
	const config_setting_t *g;
	const char *sock = SS_DEFAULT_SOCKET, *state = SS_DEFAULT_STATE, *group = NULL;

	if (get_group(c, root, "control", false, &g))
		return -1;
	if (g && (check_keys(c, g, "control.", keys) ||
		  get_str(c, g, "control.", "socket", false, &sock) ||
		  get_str(c, g, "control.", "state_file", false, &state) ||
		  get_str(c, g, "control.", "group", false, &group)))
		return -1;
	if (*sock == '\0' || strlen(sock) >= 108)
		return fail(c, at(g, "socket"), "control.socket", "must be a path of 1 to 107 characters");
	cfg->socket_path = strdup(sock);
	cfg->state_file = *state ? strdup(state) : NULL;
	cfg->group = xstrdup(group);
	return g ? load_control_limits(c, g, cfg) : 0;
}

static int load_tables(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
#define KEY(key, field, type, dflt, max) #key,
	static const char *const keys[] = { SS_TABLE_LIMITS(KEY) NULL };
#undef KEY
	const config_setting_t *g;
	struct ss_ctl_limits *l = &cfg->limits;

	if (get_group(c, root, "tables", false, &g))
		return -1;
	if (g == NULL)
		return 0;
	if (check_keys(c, g, "tables.", keys))
		return -1;
	/* the maxima are what the data plane can hold (control/limits.h) */
#define GET(key, field, type, dflt, max) \
	if (get_uint(c, g, "tables.", #key, 1, max, false, &l->field)) \
		return -1;
	SS_TABLE_LIMITS(GET)
#undef GET
	return 0;
}

static int load_flows(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	static const char *const keys[] = { "max_flows", "idle_timeout_ms", "tcp_fin_timeout_ms",
					    NULL };
	const config_setting_t *g;

	cfg->max_flows = SS_LIM_DEF_MAX_FLOWS;
	cfg->idle_timeout_ms = SS_LIM_DEF_IDLE_TIMEOUT_MS;
	cfg->tcp_fin_timeout_ms = SS_LIM_DEF_FIN_TIMEOUT_MS;
	if (get_group(c, root, "flows", false, &g))
		return -1;
	if (g == NULL)
		return 0;
	return check_keys(c, g, "flows.", keys) ||
	       get_uint(c, g, "flows.", "max_flows", 1, SS_LIM_MAX_FLOWS, false, &cfg->max_flows) ||
	       get_uint(c, g, "flows.", "idle_timeout_ms", 1, SS_LIM_MAX_TIMEOUT_MS, false,
			&cfg->idle_timeout_ms) ||
	       get_uint(c, g, "flows.", "tcp_fin_timeout_ms", 1, SS_LIM_MAX_TIMEOUT_MS, false,
			&cfg->tcp_fin_timeout_ms) ? -1 : 0;
}

/* rdma = { data_dscp = 26; cnp_dscp = 48; qp_table_size = N; qp_idle_timeout_ms = N; };
 * the defaults of rdma.config (SPEC 3.7). */
static int load_rdma(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	static const char *const keys[] = { "data_dscp", "cnp_dscp", "qp_table_size",
					    "qp_idle_timeout_ms", NULL };
	const config_setting_t *g;
	uint32_t data = SS_LIM_DEF_RDMA_DATA_DSCP, cnp = SS_LIM_DEF_RDMA_CNP_DSCP;

	if (get_group(c, root, "rdma", false, &g))
		return -1;
	if (g == NULL)
		return 0;
	if (check_keys(c, g, "rdma.", keys) ||
	    get_uint(c, g, "rdma.", "data_dscp", 0, 63, false, &data) ||
	    get_uint(c, g, "rdma.", "cnp_dscp", 0, 63, false, &cnp) ||
	    get_uint(c, g, "rdma.", "qp_table_size", 1, SS_LIM_MAX_QP_TABLE_SIZE, false,
		     &cfg->rdma_qp_table_size) ||
	    get_uint(c, g, "rdma.", "qp_idle_timeout_ms", 1, SS_LIM_MAX_TIMEOUT_MS, false,
		     &cfg->rdma_qp_idle_timeout_ms))
		return -1;
	cfg->rdma_data_dscp = (uint8_t)data;
	cfg->rdma_cnp_dscp = (uint8_t)cnp;
	cfg->rdma_dscp_set = 1;
	return 0;
}

static int load_telemetry(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	static const char *const keys[] = { "prometheus", NULL };
	const config_setting_t *g;
	const char *prom = NULL;

	if (get_group(c, root, "telemetry", false, &g))
		return -1;
	if (g == NULL)
		return 0;
	if (check_keys(c, g, "telemetry.", keys) ||
	    get_str(c, g, "telemetry.", "prometheus", false, &prom))
		return -1;
	if (prom) {
		const char *colon = strrchr(prom, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;
		if (colon == NULL || colon == prom || *end != '\0' || port < 1 || port > 65535)
			return fail(c, at(g, "prometheus"), "telemetry.prometheus",
				    "\"%s\" is not ADDRESS:PORT (e.g. 127.0.0.1:9469)", prom);
		cfg->prometheus = strdup(prom);
	}
	return 0;
}

/* ipfix = { collector = "HOST:PORT"; observation_domain = 1;
 * active_timeout_s = 60; template_refresh_s = 600; }: the defaults of the
 * ipfix object (SPEC 5, docs/ipfix.md). */
static int load_ipfix(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	static const char *const keys[] = { "collector", "observation_domain", "active_timeout_s",
					    "template_refresh_s", NULL };
	const config_setting_t *g;
	const char *coll = NULL;

	cfg->ipfix_observation_domain = 1;
	cfg->ipfix_active_timeout_s = 60;
	cfg->ipfix_template_refresh_s = 600;
	if (get_group(c, root, "ipfix", false, &g))
		return -1;
	if (g == NULL)
		return 0;
	if (check_keys(c, g, "ipfix.", keys) ||
	    get_str(c, g, "ipfix.", "collector", false, &coll) ||
	    get_uint(c, g, "ipfix.", "observation_domain", 0, UINT32_MAX, false,
		     &cfg->ipfix_observation_domain) ||
	    get_uint(c, g, "ipfix.", "active_timeout_s", 1, 86400, false,
		     &cfg->ipfix_active_timeout_s) ||
	    get_uint(c, g, "ipfix.", "template_refresh_s", 1, 86400, false,
		     &cfg->ipfix_template_refresh_s))
		return -1;
	if (coll != NULL) {
		const char *colon = strrchr(coll, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;

		if (colon == NULL || colon == coll || *end != '\0' || port < 1 || port > 65535 ||
		    strlen(coll) > 63)
			return fail(c, at(g, "collector"), "ipfix.collector",
				    "\"%s\" is not ADDRESS:PORT (e.g. 127.0.0.1:4739)", coll);
		cfg->ipfix_collector = strdup(coll);
	}
	return 0;
}

/* ha = { role = "active" | "standby"; listen = "IP:PORT"; peer = "IP:PORT";
 * auto_failover = false; peer_timeout_ms = 1000; } (SPEC 3.11, docs/ha.md):
 * role, listen and peer are required; the addresses are checked for their
 * shape here and parsed by the HA feature. */
static int ha_addr(struct cctx *c, const config_setting_t *g, const char *key, char **out)
{
	const char *v = NULL, *colon;
	char *end;
	long port;

	if (get_str(c, g, "ha.", key, true, &v))
		return -1;
	colon = strrchr(v, ':');
	port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (colon == NULL || colon == v || *end != '\0' || port < 1 || port > 65535 ||
	    strlen(v) > 63)
		return fail(c, at(g, key), key[0] == 'l' ? "ha.listen" : "ha.peer",
			    "\"%s\" is not IP:PORT (e.g. 192.0.2.1:7700, [2001:db8::1]:7700)", v);
	*out = strdup(v);
	return 0;
}

static int load_ha(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	static const char *const keys[] = { "role", "listen", "peer", "auto_failover",
					    "peer_timeout_ms", NULL };
	const config_setting_t *g, *af;
	const char *role = NULL;

	cfg->ha_peer_timeout_ms = 1000;
	if (get_group(c, root, "ha", false, &g))
		return -1;
	if (g == NULL)
		return 0;
	if (check_keys(c, g, "ha.", keys) || get_str(c, g, "ha.", "role", true, &role))
		return -1;
	if (strcmp(role, "active") == 0)
		cfg->ha_role = 1;
	else if (strcmp(role, "standby") == 0)
		cfg->ha_role = 2;
	else
		return fail(c, at(g, "role"), "ha.role", "\"%s\" is not active or standby", role);
	af = config_setting_get_member(g, "auto_failover");
	if (af != NULL) {
		if (config_setting_type(af) != CONFIG_TYPE_BOOL)
			return fail(c, af, "ha.auto_failover", "must be true or false");
		cfg->ha_auto_failover = config_setting_get_bool(af) != 0;
	}
	if (get_uint(c, g, "ha.", "peer_timeout_ms", 10, 600000, false, &cfg->ha_peer_timeout_ms) ||
	    ha_addr(c, g, "listen", &cfg->ha_listen) || ha_addr(c, g, "peer", &cfg->ha_peer))
		return -1;
	return 0;
}

static int load_bootstrap(struct cctx *c, const config_setting_t *root, struct ss_config *cfg)
{
	const char *b = NULL;

	if (get_str(c, root, "", "bootstrap", false, &b))
		return -1;
	if (b == NULL)
		return 0;
	if (b[0] == '/') {
		cfg->bootstrap = strdup(b);
	} else {
		char *dup = strdup(cfg->path);
		char buf[PATH_MAX];
		snprintf(buf, sizeof(buf), "%s/%s", dirname(dup), b);
		free(dup);
		cfg->bootstrap = strdup(buf);
	}
	return 0;
}

int ss_config_load(const char *path, struct ss_config *cfg, char *err, size_t errlen)
{
	static const char *const keys[] = { "eal", "lcores", "ports", "control", "flows",
					    "tables", "telemetry", "bootstrap", "mbufs",
					    "stats_interval_s", "rdma",
					    "ipfix", "ha",
					    NULL };
	struct cctx c = { .file = path, .err = err, .errlen = errlen };
	config_t lc;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	err[0] = '\0';
	cfg->path = strdup(path);
	cfg->stats_interval_s = 1;
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: syntax error: %s",
				 config_error_file(&lc) ? config_error_file(&lc) : path,
				 config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	const config_setting_t *root = config_root_setting(&lc);
	uint32_t interval = 1;
	if (check_keys(&c, root, "", keys) || load_eal(&c, root, cfg) ||
	    load_lcores(&c, root, cfg) || load_ports(&c, root, cfg) ||
	    load_control(&c, root, cfg) || load_flows(&c, root, cfg) ||
	    load_tables(&c, root, cfg) || load_rdma(&c, root, cfg) ||
	    load_telemetry(&c, root, cfg) ||
	    load_ipfix(&c, root, cfg) || load_ha(&c, root, cfg) ||
	    load_bootstrap(&c, root, cfg) ||
	    get_uint(&c, root, "", "mbufs", 1024, 64u * 1024 * 1024, false, &cfg->mbufs) ||
	    get_uint(&c, root, "", "stats_interval_s", 0, 3600, false, &interval))
		goto out;
	cfg->stats_interval_s = interval;
	rc = 0;
out:
	config_destroy(&lc);
	if (rc != 0)
		ss_config_free(cfg);
	return rc;
}

void ss_config_free(struct ss_config *cfg)
{
	for (int i = 0; i < cfg->eal_argc; i++)
		free(cfg->eal_argv[i]);
	free(cfg->eal_argv);
	for (unsigned int i = 0; i < cfg->nb_ports; i++)
		free(cfg->ports[i].devargs);
	free(cfg->path);
	free(cfg->socket_path);
	free(cfg->state_file);
	free(cfg->group);
	free(cfg->bootstrap);
	free(cfg->prometheus);
	free(cfg->ipfix_collector);
	free(cfg->ha_listen);
	free(cfg->ha_peer);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- sswitchd --check: what the start needs besides a valid file ---------- */

/* A path the daemon creates (its parent directories too): it must exist
 * writable, or its nearest existing ancestor must be a writable directory. */
static int check_writable(const char *what, const char *path, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "%s %s: path too long", what, path);
		return -1;
	}
	if (stat(buf, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s %s: is a directory", what, path);
			return -1;
		}
		if (access(buf, R_OK | W_OK) != 0) {
			snprintf(err, errlen, "%s %s: not writable: %s", what, path, strerror(errno));
			return -1;
		}
	}
	for (;;) {
		char *slash = strrchr(buf, '/');

		if (slash == NULL) {
			snprintf(buf, sizeof(buf), ".");
		} else if (slash == buf) {
			buf[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (stat(buf, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				snprintf(err, errlen, "%s %s: %s is not a directory", what, path, buf);
				return -1;
			}
			if (access(buf, W_OK | X_OK) != 0) {
				snprintf(err, errlen, "%s %s: cannot create it in %s: %s", what, path,
					 buf, strerror(errno));
				return -1;
			}
			return 0;
		}
		if (errno != ENOENT || strcmp(buf, "/") == 0 || strcmp(buf, ".") == 0) {
			snprintf(err, errlen, "%s %s: %s: %s", what, path, buf, strerror(errno));
			return -1;
		}
	}
}

int ss_config_check_env(const struct ss_config *cfg, char *err, size_t errlen)
{
	if (cfg->group != NULL && getgrnam(cfg->group) == NULL) {
		snprintf(err, errlen, "%s: control.group: group \"%s\" does not exist", cfg->path,
			 cfg->group);
		return -1;
	}
	if (check_writable("control.socket", cfg->socket_path, err, errlen) != 0 ||
	    (cfg->state_file != NULL &&
	     check_writable("control.state_file", cfg->state_file, err, errlen) != 0))
		goto fail;
	if (cfg->bootstrap != NULL) {
		FILE *f = fopen(cfg->bootstrap, "r");

		if (f == NULL) {
			snprintf(err, errlen, "bootstrap %s: cannot read: %s", cfg->bootstrap,
				 strerror(errno));
			goto fail;
		}
		fclose(f);
	}
	if (cfg->prometheus != NULL) {
		char host[128];
		const char *colon = strrchr(cfg->prometheus, ':');
		size_t n = (size_t)(colon - cfg->prometheus);
		unsigned char a[16];

		snprintf(host, sizeof(host), "%.*s", (int)n, cfg->prometheus);
		if (host[0] == '[' && n > 1 && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = '\0';
		}
		if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1) {
			snprintf(err, errlen, "telemetry.prometheus: \"%s\" is not an IP address "
				 "(ADDRESS:PORT, [IPv6]:PORT)", host);
			goto fail;
		}
	}
	return 0;
fail:
	{
		/* name the config file like the parser does */
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s: %s", cfg->path, err);
		snprintf(err, errlen, "%s", msg);
	}
	return -1;
}
