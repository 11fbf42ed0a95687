/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sswitchctl: command line -> one JSON-RPC call (or a stats watch) -> output
 * for people (default) or scripts (--json). The exit status is decided here
 * only: 0 ok, 1 API error, 2 usage error, 3 connection/protocol error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sswitchctl.h"

#ifndef SS_VERSION
#define SS_VERSION "dev"
#endif

struct opts {
	const char *socket;
	const char *file;
	double timeout_s;
	bool json;
	bool dry_run;           /* txn: txn.check instead of txn */
	bool help;
	bool version;
	struct ss_stats_opts stats;
	const char **words;     /* positional arguments, in order */
	int nwords;
	json_t *kv;             /* key=value and --key value arguments */
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("sswitchctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	ss_usage_hint(stderr);
	return SS_EXIT_USAGE;
}

static int parse_seconds(const char *opt, const char *text, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !(v >= min) || v > 86400.0 * 365) {
		fprintf(stderr, "sswitchctl: %s expects a number of seconds >= %g, got '%s'\n",
			opt, min, text);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* The value of an option given as `--opt=value` or `--opt value`. */
static const char *opt_value(int argc, char **argv, int *i, const char *eq)
{
	if (eq != NULL)
		return eq + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Whether arg is the option given by its short and long names; sets *eq to
 * the '=' of "--long=value". */
static bool is_opt(const char *arg, const char *sname, const char *lname, const char **eq)
{
	size_t n = strlen(lname);

	*eq = NULL;
	if (sname != NULL && strcmp(arg, sname) == 0)
		return true;
	if (strncmp(arg, lname, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
		if (arg[n] == '=')
			*eq = arg + n;
		return true;
	}
	return false;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	char err[512];
	bool rest = false;

	o->words = calloc((size_t)argc, sizeof(char *));
	o->kv = json_object();
	if (o->words == NULL || o->kv == NULL) {
		fprintf(stderr, "sswitchctl: out of memory\n");
		return SS_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v;

		if (rest || a[0] != '-' || a[1] == '\0') {
			if (ss_is_kv(a)) {
				if (ss_params_add_kv(o->kv, a, err, sizeof(err)) < 0)
					return usage_error("%s", err);
			} else {
				o->words[o->nwords++] = a;
			}
			continue;
		}
		if (strcmp(a, "--") == 0) {
			rest = true;
		} else if (is_opt(a, "-h", "--help", &eq) && eq == NULL) {
			o->help = true;
		} else if (is_opt(a, "-V", "--version", &eq) && eq == NULL) {
			o->version = true;
		} else if (is_opt(a, "-j", "--json", &eq) && eq == NULL) {
			o->json = true;
		} else if (is_opt(a, NULL, "--dry-run", &eq) && eq == NULL) {
			o->dry_run = true;
		} else if (is_opt(a, "-a", "--all", &eq) && eq == NULL) {
			o->stats.all = true;
		} else if (is_opt(a, "-w", "--watch", &eq) && eq == NULL) {
			o->stats.watch = true;
		} else if (is_opt(a, "-s", "--socket", &eq)) {
			if ((o->socket = opt_value(argc, argv, &i, eq)) == NULL || !*o->socket)
				return usage_error("%s needs a socket path", a);
		} else if (is_opt(a, "-f", "--file", &eq)) {
			if ((o->file = opt_value(argc, argv, &i, eq)) == NULL || !*o->file)
				return usage_error("%s needs a file name ('-' for stdin)", a);
		} else if (is_opt(a, "-t", "--timeout", &eq)) {
			if ((v = opt_value(argc, argv, &i, eq)) == NULL)
				return usage_error("%s needs a number of seconds", a);
			if (parse_seconds("--timeout", v, 0.001, &o->timeout_s) < 0)
				return SS_EXIT_USAGE;
		} else if (is_opt(a, "-i", "--interval", &eq)) {
			if ((v = opt_value(argc, argv, &i, eq)) == NULL)
				return usage_error("%s needs a number of seconds", a);
			if (parse_seconds("--interval", v, 0.1, &o->stats.interval_s) < 0)
				return SS_EXIT_USAGE;
		} else if (is_opt(a, "-n", "--count", &eq)) {
			char *end;

			if ((v = opt_value(argc, argv, &i, eq)) == NULL)
				return usage_error("%s needs a number", a);
			o->stats.count = strtol(v, &end, 10);
			if (*end != '\0' || end == v || o->stats.count < 1)
				return usage_error("--count expects a positive integer, got '%s'", v);
		} else if (a[1] == '-' && a[2] != '\0') {
			/* --key value / --key=value: a param (list filters). */
			char key[256];
			const char *e = strchr(a, '=');
			size_t n = e != NULL ? (size_t)(e - a - 2) : strlen(a + 2);

			if (n == 0 || n >= sizeof(key))
				return usage_error("bad option '%s'", a);
			memcpy(key, a + 2, n);
			key[n] = '\0';
			if ((v = opt_value(argc, argv, &i, e)) == NULL)
				return usage_error("option '%s' needs a value (unknown options "
						   "are params: --key value)", a);
			if (ss_params_set(o->kv, key, ss_parse_value(v), err, sizeof(err)) < 0)
				return usage_error("%s", err);
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	return SS_EXIT_OK;
}

/* Read a JSON params file ('-': stdin). */
static json_t *load_file(const char *path)
{
	json_error_t jerr;
	json_t *v;

	if (strcmp(path, "-") == 0)
		v = json_loadf(stdin, JSON_DECODE_ANY, &jerr);
	else
		v = json_load_file(path, JSON_DECODE_ANY, &jerr);
	if (v == NULL) {
		if (jerr.line < 1)
			fprintf(stderr, "sswitchctl: %s: %s\n", path, jerr.text);
		else
			fprintf(stderr, "sswitchctl: %s:%d:%d: %s\n", strcmp(path, "-") == 0 ?
				"<stdin>" : path, jerr.line, jerr.column, jerr.text);
	}
	return v;
}

static const char *code_name(long code)
{
	switch (code) {
	case -32700: return "parse error";
	case -32600: return "invalid request";
	case -32601: return "unknown method";
	case -32602: return "invalid params";
	case -32603: return "internal error";
	case 1001: return "not found";
	case 1002: return "exists with different content";
	case 1003: return "in use";
	case 1004: return "capacity exceeded";
	case 1005: return "not supported";
	case 1006: return "permission denied";
	default: return "error";
	}
}

static void print_api_error(const struct opts *o, const struct ss_rpc_error *e)
{
	const json_t *field = json_object_get(e->data, "field");
	const json_t *index = json_object_get(e->data, "index");

	if (o->json) {
		json_t *obj = json_pack("{s:{s:I, s:s}}", "error", "code", (json_int_t)e->code,
					"message", e->message);
		if (obj != NULL && e->data != NULL)
			json_object_set(json_object_get(obj, "error"), "data", e->data);
		if (obj != NULL)
			json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(obj);
	}
	fprintf(stderr, "sswitchctl: error %ld (%s): %s\n", e->code, code_name(e->code),
		e->message);
	if (json_is_integer(index))
		fprintf(stderr, "  op index: %" JSON_INTEGER_FORMAT "\n",
			json_integer_value(index));
	if (json_is_string(field))
		fprintf(stderr, "  field: %s\n", json_string_value(field));
	if (e->code == 1006)
		fprintf(stderr, "  (run as root or as a member of the daemon's control group, "
			"control.group in its config)\n");
}

/* What the client does with a reply besides printing it: a list filtered
 * on fields the daemon does not filter by (`eni list --vnet v1`), then cut
 * to `limit`; an unknown method reported as a usage error (an unknown verb
 * of a known object, `eni frob`). */
struct post {
	json_t *filter;   /* {FIELD: value}: rows kept when every field matches */
	json_int_t limit; /* < 0: none */
	bool verb_cmd;    /* the method came from OBJECT VERB words */
	const char *verb;
	void (*render)(const json_t *result, FILE *out); /* instead of the default */
};

static bool field_matches(const json_t *have, const json_t *want)
{
	if (json_equal((json_t *)have, (json_t *)want))
		return true;
	/* vlan=10 given as a string, or a name that looks like a number */
	char *a = ss_format_value(have), *b = ss_format_value(want);
	bool eq = a != NULL && b != NULL && strcmp(a, b) == 0;
	free(a);
	free(b);
	return eq;
}

static void apply_post(const struct post *pp, json_t *result)
{
	const char *key;
	json_t *rows;

	if (pp == NULL || (pp->filter == NULL && pp->limit < 0) || !json_is_object(result))
		return;
	json_object_foreach(result, key, rows) {
		json_t *kept;
		size_t i;
		json_t *row;

		if (!json_is_array(rows) || (kept = json_array()) == NULL)
			continue;
		json_array_foreach(rows, i, row) {
			const char *f;
			json_t *want;
			bool ok = true;

			json_object_foreach(pp->filter, f, want)
				ok = ok && field_matches(json_object_get(row, f), want);
			if (ok && (pp->limit < 0 || (json_int_t)json_array_size(kept) < pp->limit))
				json_array_append(kept, row);
		}
		json_object_set_new(result, key, kept);
	}
}

/* Connect, call, print. Returns the exit status. */
static int call_and_print_post(const struct opts *o, const char *sock, const char *method,
			       const json_t *params, bool raw, const struct post *pp)
{
	struct ss_rpc c;
	struct ss_rpc_error rerr;
	json_t *result = NULL;
	char err[1024];
	int rc;

	if (ss_rpc_connect(&c, sock, o->timeout_s, err, sizeof(err)) < 0) {
		fprintf(stderr, "sswitchctl: %s\n", err);
		return SS_EXIT_CONN;
	}
	rc = ss_rpc_call(&c, method, params, &result, &rerr, err, sizeof(err));
	ss_rpc_close(&c);
	if (rc < 0) {
		fprintf(stderr, "sswitchctl: %s\n", err);
		return SS_EXIT_CONN;
	}
	if (rc > 0) {
		if (pp != NULL && pp->verb_cmd && rerr.code == -32601) {
			const char *dot = strrchr(method, '.');
			char obj[256];

			snprintf(obj, sizeof(obj), "%.*s", dot ? (int)(dot - method) : 0, method);
			fprintf(stderr, "sswitchctl: unknown verb '%s' for '%s' (the daemon has no "
				"method %s; see `sswitchctl %s --help`)\n", pp->verb, obj, method,
				obj);
			json_decref(rerr.data);
			return SS_EXIT_USAGE;
		}
		print_api_error(o, &rerr);
		json_decref(rerr.data);
		return SS_EXIT_API;
	}
	apply_post(pp, result);
	if (o->json || raw) {
		json_dumpf(result, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			   JSON_ENCODE_ANY);
		fputc('\n', stdout);
	} else if (pp != NULL && pp->render != NULL) {
		pp->render(result, stdout);
	} else if (strcmp(method, "stats.get") == 0 && json_is_object(result)) {
		ss_render_stats(result, o->stats.all, stdout);
	} else {
		ss_render_result(method, result, stdout);
	}
	json_decref(result);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sswitchctl: write error on stdout: %s\n", strerror(errno));
		return SS_EXIT_CONN;
	}
	return SS_EXIT_OK;
}

static int call_and_print(const struct opts *o, const char *sock, const char *method,
			  const json_t *params, bool raw)
{
	return call_and_print_post(o, sock, method, params, raw, NULL);
}

/* The params of a method call: the -f file (if any) with key=value merged
 * on top. NULL on a usage error (already reported). */
static json_t *build_params(const struct opts *o, bool allow_array)
{
	json_t *params;

	if (o->file == NULL)
		return json_incref(o->kv);
	params = load_file(o->file);
	if (params == NULL)
		return NULL;
	if (json_is_array(params) && allow_array && json_object_size(o->kv) == 0)
		return params;
	if (!json_is_object(params)) {
		fprintf(stderr, "sswitchctl: %s: the params must be a JSON object\n", o->file);
		json_decref(params);
		return NULL;
	}
	if (ss_params_merge(params, o->kv) < 0) {
		json_decref(params);
		return NULL;
	}
	return params;
}

static int cmd_call(const struct opts *o, const char *sock)
{
	json_t *params;
	int rc;

	if (o->nwords < 2)
		return usage_error("%s", "call needs a METHOD (and optional params JSON)");
	if (o->nwords > 3)
		return usage_error("unexpected argument '%s' (params go in one JSON value)",
				   o->words[3]);
	if (o->nwords == 3) {
		json_error_t jerr;

		if (o->file != NULL)
			return usage_error("%s", "give params either as JSON or with -f, "
					   "not both");
		params = json_loads(o->words[2], JSON_DECODE_ANY, &jerr);
		if (params == NULL) {
			fprintf(stderr, "sswitchctl: params are not valid JSON: %s (column %d)\n",
				jerr.text, jerr.column);
			return SS_EXIT_USAGE;
		}
		if (json_object_size(o->kv) > 0) {
			if (!json_is_object(params)) {
				json_decref(params);
				return usage_error("%s", "key=value needs object params");
			}
			ss_params_merge(params, o->kv);
		}
	} else {
		params = build_params(o, true);
		if (params == NULL)
			return SS_EXIT_USAGE;
	}
	rc = call_and_print(o, sock, o->words[1], params, true);
	json_decref(params);
	return rc;
}

/* The params of a txn: -f FILE (an {"ops": [...]} object or a bare list)
 * or ops='[...]'; NULL on a usage error (reported). */
static json_t *txn_params(const struct opts *o, const char *what)
{
	json_t *params;

	if (o->file == NULL && json_object_get(o->kv, "ops") == NULL) {
		usage_error("%s needs -f FILE (or ops='[...]')", what);
		return NULL;
	}
	params = build_params(o, true);
	if (params != NULL && json_is_array(params))
		params = json_pack("{s:o}", "ops", params);   /* a bare list of ops */
	return params;
}

static int cmd_txn(const struct opts *o, const char *sock)
{
	json_t *params;
	int rc;

	if (o->nwords > 1)
		return usage_error("unexpected argument '%s'", o->words[1]);
	params = txn_params(o, "txn");
	if (params == NULL)
		return SS_EXIT_USAGE;
	if (o->dry_run) {
		struct post pp = { .limit = -1, .render = ss_render_txn_check };

		rc = call_and_print_post(o, sock, "txn.check", params, false, &pp);
	} else {
		rc = call_and_print(o, sock, "txn", params, false);
	}
	json_decref(params);
	return rc;
}

/* `state diff FILE`: what the txn file would change against the running
 * state (txn.check with changes). */
static int cmd_state_diff(struct opts *o, const char *sock)
{
	struct post pp = { .limit = -1, .render = ss_render_state_diff };
	json_t *params;
	int rc;

	if (o->nwords > 3)
		return usage_error("unexpected argument '%s'", o->words[3]);
	if (o->nwords == 3) {
		if (o->file != NULL)
			return usage_error("%s", "state diff: give the file once (FILE or -f FILE)");
		o->file = o->words[2];
	}
	params = txn_params(o, "state diff");
	if (params == NULL)
		return SS_EXIT_USAGE;
	json_object_set_new(params, "changes", json_true());
	rc = call_and_print_post(o, sock, "txn.check", params, false, &pp);
	json_decref(params);
	return rc;
}

static int cmd_stats(struct opts *o, const char *sock)
{
	const char *method = "stats.get";
	int w = 1, rc;
	json_t *params;

	if (o->nwords > w && (strcmp(o->words[w], "clear") == 0 ||
			      strcmp(o->words[w], "get") == 0)) {
		if (strcmp(o->words[w], "clear") == 0)
			method = "stats.clear";
		w++;
	}
	if (o->nwords > w)
		o->stats.scope = o->words[w++];
	if (o->nwords > w)
		return usage_error("unexpected argument '%s'", o->words[w]);
	if (o->stats.scope == NULL)
		o->stats.scope = json_string_value(json_object_get(o->kv, "scope"));
	if (o->stats.watch) {
		struct ss_rpc c;
		char err[1024];

		if (strcmp(method, "stats.get") != 0)
			return usage_error("%s", "--watch applies to stats, not stats clear");
		if (o->stats.interval_s <= 0)
			o->stats.interval_s = 1.0;
		if (ss_rpc_connect(&c, sock, o->timeout_s, err, sizeof(err)) < 0) {
			fprintf(stderr, "sswitchctl: %s\n", err);
			return SS_EXIT_CONN;
		}
		rc = ss_stats_watch(&c, &o->stats);
		ss_rpc_close(&c);
		return rc;
	}
	params = json_pack("{s:s}", "scope", o->stats.scope != NULL ? o->stats.scope : "all");
	if (params == NULL)
		return SS_EXIT_USAGE;
	rc = call_and_print(o, sock, method, params, false);
	json_decref(params);
	return rc;
}

/* The daemon's schema.get, for object types and fields features added
 * since this manual was written: used by method resolution and help. Best
 * effort (no daemon: the built-in knowledge only), at most 2 s. */
static void load_schema(const struct opts *o, const char *sock)
{
	struct ss_rpc c;
	struct ss_rpc_error rerr;
	json_t *result = NULL;
	char err[512];

	if (ss_schema_types() != NULL ||
	    ss_rpc_connect(&c, sock, o->timeout_s < 2.0 ? o->timeout_s : 2.0, err,
			   sizeof(err)) < 0)
		return;
	if (ss_rpc_call(&c, "schema.get", NULL, &result, &rerr, err, sizeof(err)) == 0)
		ss_methods_from_schema(result);
	else
		json_decref(rerr.data);
	json_decref(result);
	ss_rpc_close(&c);
}

/* `TYPE.list` params naming fields of TYPE that the daemon does not filter
 * on (its schema names one filter per type, the first key field): moved out
 * of params into the returned client-side filter, with `limit` (applied
 * after filtering). NULL when the daemon can filter everything itself. */
static json_t *list_client_filter(const char *method, json_t *params, json_int_t *limit)
{
	const json_t *types = ss_schema_types(), *type = NULL;
	size_t tl = strlen(method) - 5, i;
	json_t *filter = NULL;
	const char *key;
	json_t *v, *tmp;

	for (i = 0; i < json_array_size(types); i++) {
		const char *n = json_string_value(json_object_get(json_array_get(types, i), "name"));
		if (n != NULL && strlen(n) == tl && strncmp(n, method, tl) == 0)
			type = json_array_get(types, i);
	}
	if (type == NULL || !json_is_object(params))
		return NULL;
	const char *dfilter = json_string_value(json_object_get(type, "filter"));
	const json_t *fields = json_object_get(type, "fields");
	json_object_foreach_safe(params, tmp, key, v) {
		const json_t *f;
		bool field = false;

		if (strcmp(key, "limit") == 0 || (dfilter != NULL && strcmp(key, dfilter) == 0))
			continue;
		json_array_foreach(fields, i, f)
			field = field || strcmp(json_string_value(json_object_get(f, "name")) ?: "",
						key) == 0;
		if (!field)
			continue;   /* the daemon names the unknown field */
		if (filter == NULL && (filter = json_object()) == NULL)
			return NULL;
		json_object_set(filter, key, v);
		json_object_del(params, key);
	}
	if (filter != NULL && json_is_integer(json_object_get(params, "limit"))) {
		*limit = json_integer_value(json_object_get(params, "limit"));
		json_object_del(params, "limit");
	}
	return filter;
}

/* `sswitchctl OBJECT [VERB] --help`. */
static int cmd_help(const struct opts *o, const char *sock)
{
	char two[128];

	if (o->nwords == 0) {
		ss_help_main(stdout);
		return SS_EXIT_OK;
	}
	if (strcmp(o->words[0], "trace") == 0) {   /* packet trace: trace.c */
		ss_help_trace(stdout);
		return SS_EXIT_OK;
	}
	load_schema(o, sock);
	if (o->nwords >= 2) {
		snprintf(two, sizeof(two), "%s %s", o->words[0], o->words[1]);
		if (ss_help_object(two, stdout) || ss_help_schema_object(two, stdout))
			return SS_EXIT_OK;
	}
	if (ss_help_object(o->words[0], stdout) || ss_help_schema_object(o->words[0], stdout))
		return SS_EXIT_OK;
	return usage_error("no help for unknown object '%s'", o->words[0]);
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout_s = SSCTL_DEFAULT_TIMEOUT_S };
	char method[256];
	const char *sock;
	json_t *params;
	int rc, k;

	rc = parse_args(argc, argv, &o);
	if (rc != SS_EXIT_OK)
		goto out;
	sock = o.socket;
	if (sock == NULL)
		sock = getenv("SSWITCH_SOCKET");
	if (sock == NULL || *sock == '\0')
		sock = SSCTL_DEFAULT_SOCKET;
	if (o.help) {
		rc = cmd_help(&o, sock);
		goto out;
	}
	if (o.version) {
		printf("sswitchctl %s\n", SS_VERSION);
		goto out;
	}
	if (o.nwords == 0) {
		rc = usage_error("%s", "missing OBJECT VERB");
		goto out;
	}

	if (strcmp(o.words[0], "call") == 0) {
		rc = cmd_call(&o, sock);
		goto out;
	}
	if (strcmp(o.words[0], "txn") == 0) {
		rc = cmd_txn(&o, sock);
		goto out;
	}
	if (strcmp(o.words[0], "stats") == 0) {
		rc = cmd_stats(&o, sock);
		goto out;
	}
	if (o.dry_run) {
		rc = usage_error("%s", "--dry-run applies to `txn` only");
		goto out;
	}
	if (strcmp(o.words[0], "show") == 0) {
		struct ss_rpc c;
		char err[1024];

		if (ss_rpc_connect(&c, sock, o.timeout_s, err, sizeof(err)) < 0) {
			fprintf(stderr, "sswitchctl: %s\n", err);
			rc = SS_EXIT_CONN;
			goto out;
		}
		rc = ss_show(&c, o.words + 1, o.nwords - 1, stdout);
		ss_rpc_close(&c);
		goto out;
	}
	if (o.nwords >= 2 && strcmp(o.words[0], "state") == 0 && strcmp(o.words[1], "diff") == 0) {
		rc = cmd_state_diff(&o, sock);
		goto out;
	}
	if (strcmp(o.words[0], "schema") == 0) {
		load_schema(&o, sock);
		rc = ss_schema_print(o.words + 1, o.nwords - 1, stdout);
		goto out;
	}
	if (strcmp(o.words[0], "trace") == 0) {   /* packet trace: trace.c */
		rc = ss_cmd_trace(o.words + 1, o.nwords - 1, o.kv, o.json, sock, o.timeout_s);
		goto out;
	}
	if (o.stats.watch) {
		rc = usage_error("%s", "--watch applies to `stats` only");
		goto out;
	}
	/* Short forms of the read-only system methods. */
	if (o.nwords == 1 && strcmp(o.words[0], "info") == 0)
		k = 1, strcpy(method, "system.info");
	else if (o.nwords == 1 && strcmp(o.words[0], "health") == 0)
		k = 1, strcpy(method, "health.get");
	else if (o.nwords == 1 && strcmp(o.words[0], "graph") == 0)
		k = 1, strcpy(method, "pipeline.graph");
	else
		k = ss_resolve_method(o.words, o.nwords, method, sizeof(method));
	if (k == 0) {
		/* an object type a feature of the daemon added? */
		load_schema(&o, sock);
		k = ss_resolve_method(o.words, o.nwords, method, sizeof(method));
	}
	if (k < 0) {
		fprintf(stderr, "sswitchctl: '%s' needs a verb\n\n", method);
		load_schema(&o, sock);
		if (!ss_help_object(method, stderr) && !ss_help_schema_object(method, stderr))
			ss_usage_hint(stderr);
		rc = SS_EXIT_USAGE;
		goto out;
	}
	if (k == 0) {
		rc = usage_error("unknown object '%s' (see `sswitchctl --help`; "
				 "`sswitchctl call METHOD JSON` sends any method)", o.words[0]);
		goto out;
	}
	if (k < o.nwords) {
		rc = usage_error("unexpected argument '%s' (params are key=value)",
				 o.words[k]);
		goto out;
	}
	params = build_params(&o, false);
	if (params == NULL) {
		rc = SS_EXIT_USAGE;
		goto out;
	}
	struct post pp = { .limit = -1, .verb_cmd = true, .verb = o.words[k - 1] };
	size_t ml = strlen(method);
	if (ml > 5 && strcmp(method + ml - 5, ".list") == 0) {
		load_schema(&o, sock);
		pp.filter = list_client_filter(method, params, &pp.limit);
	}
	rc = call_and_print_post(&o, sock, method, params, false, &pp);
	json_decref(pp.filter);
	json_decref(params);
out:
	ss_methods_from_schema(NULL);
	json_decref(o.kv);
	free(o.words);
	return rc;
}
