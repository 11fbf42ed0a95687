/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Human output of sswitchctl: aligned tables for lists, "key  value" listings
 * for objects. Scripts use --json instead; nothing here is a stable format.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sswitchctl.h"

/* ------------------------------------------------------------------ tables */

struct ss_table {
	int ncols;
	char **titles;
	char ***rows;
	size_t nrows, cap;
};

struct ss_table *ss_table_new(int ncols, const char *const *titles)
{
	struct ss_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	t->titles = calloc((size_t)ncols, sizeof(char *));
	if (t->titles == NULL) {
		free(t);
		return NULL;
	}
	for (int i = 0; i < ncols; i++)
		t->titles[i] = strdup(titles[i]);
	return t;
}

int ss_table_add(struct ss_table *t, const char *const *cells)
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char ***rows = realloc(t->rows, cap * sizeof(*rows));

		if (rows == NULL)
			return -ENOMEM;
		t->rows = rows;
		t->cap = cap;
	}
	row = calloc((size_t)t->ncols, sizeof(char *));
	if (row == NULL)
		return -ENOMEM;
	for (int i = 0; i < t->ncols; i++)
		row[i] = strdup(cells[i] != NULL ? cells[i] : "-");
	t->rows[t->nrows++] = row;
	return 0;
}

/* A cell that reads as a number (counts, rates, "1.2M", "-") is right
 * aligned when its whole column is. */
static bool numeric_cell(const char *s)
{
	int dots = 0;

	if (strcmp(s, "-") == 0)
		return true;
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.' && ++dots > 1)
			return false;
		if (strchr("kMGTP%", *s) != NULL && s[1] == '\0')
			return true;
		if (!isdigit((unsigned char)*s) && *s != ',' && *s != '.')
			return false;
	}
	return true;
}

/* Display width of a UTF-8 string (code points; good enough for our
 * ASCII-plus-names content). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void ss_table_print(struct ss_table *t, FILE *out)
{
	size_t *w = calloc((size_t)t->ncols, sizeof(size_t));
	bool *right = calloc((size_t)t->ncols, sizeof(bool));

	if (w == NULL || right == NULL) {
		free(w);
		free(right);
		return;
	}
	for (int c = 0; c < t->ncols; c++) {
		bool any = false;

		w[c] = width(t->titles[c]);
		right[c] = true;
		for (size_t r = 0; r < t->nrows; r++) {
			size_t cw = width(t->rows[r][c]);

			if (cw > w[c])
				w[c] = cw;
			if (strcmp(t->rows[r][c], "-") != 0)
				any = true;
			if (!numeric_cell(t->rows[r][c]))
				right[c] = false;
		}
		if (!any)
			right[c] = false;
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		char **cells = r == 0 ? t->titles : t->rows[r - 1];

		for (int c = 0; c < t->ncols; c++) {
			size_t pad = w[c] - width(cells[c]);
			bool last = c == t->ncols - 1;

			if (right[c])
				fprintf(out, "%*s%s", (int)pad, "", cells[c]);
			else
				fprintf(out, "%s%*s", cells[c], last ? 0 : (int)pad, "");
			fputs(last ? "\n" : "  ", out);
		}
	}
	free(w);
	free(right);
}

void ss_table_free(struct ss_table *t)
{
	if (t == NULL)
		return;
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			free(t->rows[r][c]);
		free(t->rows[r]);
	}
	for (int c = 0; c < t->ncols; c++)
		free(t->titles[c]);
	free(t->rows);
	free(t->titles);
	free(t);
}

/* ------------------------------------------------------------------ values */

void ss_format_count(char *buf, size_t len, json_int_t v)
{
	char digits[32];
	size_t n, pos = 0;
	int neg = v < 0;

	snprintf(digits, sizeof(digits), "%" JSON_INTEGER_FORMAT, v);
	n = strlen(digits + neg);
	if (len == 0)
		return;
	if (neg && pos + 1 < len)
		buf[pos++] = '-';
	for (size_t i = 0; i < n && pos + 1 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0 && pos + 2 < len)
			buf[pos++] = ',';
		buf[pos++] = digits[neg + i];
	}
	buf[pos] = '\0';
}

void ss_format_rate(char *buf, size_t len, double v)
{
	static const char suffix[] = " kMGTP";
	int i = 0;

	while (v >= 1000.0 && i < 5) {
		v /= 1000.0;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f%c", v, suffix[i]);
}

/* Append s to a growing string. */
static int sb_add(char **sb, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *p = realloc(*sb, *len + n + 1);

	if (p == NULL)
		return -ENOMEM;
	memcpy(p + *len, s, n + 1);
	*sb = p;
	*len += n;
	return 0;
}

/* Compact rendering: scalars as text, lists "a,b", objects "k=v k=v". */
static void format_into(const json_t *v, char **sb, size_t *len, int depth)
{
	char num[64];
	size_t i;
	const char *key;
	json_t *e;

	switch (json_typeof(v)) {
	case JSON_STRING:
		sb_add(sb, len, json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		sb_add(sb, len, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		sb_add(sb, len, num);
		break;
	case JSON_TRUE:
		sb_add(sb, len, "true");
		break;
	case JSON_FALSE:
		sb_add(sb, len, "false");
		break;
	case JSON_NULL:
		sb_add(sb, len, "-");
		break;
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			sb_add(sb, len, "-");
			break;
		}
		if (depth > 0)
			sb_add(sb, len, "[");
		json_array_foreach(v, i, e) {
			if (i > 0)
				sb_add(sb, len, ",");
			format_into(e, sb, len, depth + 1);
		}
		if (depth > 0)
			sb_add(sb, len, "]");
		break;
	case JSON_OBJECT: {
		bool first = true;

		if (json_object_size(v) == 0) {
			sb_add(sb, len, "-");
			break;
		}
		if (depth > 0)
			sb_add(sb, len, "{");
		json_object_foreach((json_t *)v, key, e) {
			if (!first)
				sb_add(sb, len, " ");
			first = false;
			sb_add(sb, len, key);
			sb_add(sb, len, "=");
			format_into(e, sb, len, depth + 1);
		}
		if (depth > 0)
			sb_add(sb, len, "}");
		break;
	}
	}
}

char *ss_format_value(const json_t *v)
{
	char *sb = NULL;
	size_t len = 0;

	if (v == NULL)
		return strdup("-");
	sb_add(&sb, &len, "");
	format_into(v, &sb, &len, 0);
	return sb != NULL ? sb : strdup("");
}

/* ------------------------------------------------------------------ rows */

/* Preferred column order per kind of row: identity first, then what an
 * operator looks at, as in SPEC section 4. Unknown keys follow in the order
 * they first appear. */
static const char *const cols_generic[] = {
	"name", "group", "vnet", "eni", "ip", "prefix", "priority", NULL,
};

static void add_column(const char ***cols, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*cols)[i], key) == 0)
			return;
	const char **c = realloc(*cols, (*n + 1) * sizeof(*c));
	if (c == NULL)
		return;
	c[(*n)++] = key;
	*cols = c;
}

void ss_render_rows(const json_t *rows, const char *const *preferred, FILE *out)
{
	const char **cols = NULL;
	size_t ncols = 0, i;
	const json_t *row;

	if (json_array_size(rows) == 0) {
		fputs("(none)\n", out);
		return;
	}
	if (preferred == NULL)
		preferred = cols_generic;
	for (const char *const *p = preferred; *p != NULL; p++) {
		json_array_foreach(rows, i, row) {
			if (json_object_get(row, *p) != NULL) {
				add_column(&cols, &ncols, *p);
				break;
			}
		}
	}
	json_array_foreach(rows, i, row) {
		const char *key;
		json_t *v;

		if (!json_is_object(row))
			continue;
		json_object_foreach((json_t *)row, key, v)
			add_column(&cols, &ncols, key);
	}
	if (ncols == 0) {
		/* A list of scalars. */
		json_array_foreach(rows, i, row) {
			char *s = ss_format_value(row);
			fprintf(out, "%s\n", s != NULL ? s : "");
			free(s);
		}
		return;
	}

	char **titles = calloc(ncols, sizeof(char *));
	char **cells = calloc(ncols, sizeof(char *));
	struct ss_table *t = NULL;

	if (titles == NULL || cells == NULL)
		goto out;
	for (size_t c = 0; c < ncols; c++) {
		titles[c] = strdup(cols[c]);
		for (char *s = titles[c]; s != NULL && *s != '\0'; s++)
			*s = (char)toupper((unsigned char)*s);
	}
	t = ss_table_new((int)ncols, (const char *const *)titles);
	if (t == NULL)
		goto out;
	json_array_foreach(rows, i, row) {
		for (size_t c = 0; c < ncols; c++)
			cells[c] = ss_format_value(json_object_get(row, cols[c]));
		ss_table_add(t, (const char *const *)cells);
		for (size_t c = 0; c < ncols; c++) {
			free(cells[c]);
			cells[c] = NULL;
		}
	}
	ss_table_print(t, out);
out:
	ss_table_free(t);
	if (titles != NULL)
		for (size_t c = 0; c < ncols; c++)
			free(titles[c]);
	free(titles);
	free(cells);
	free(cols);
}

/* ------------------------------------------------------------------ sorting */

/* A cell's sort class and value: integers by value, IP addresses and
 * prefixes by family, address bytes and length (10.0.0.2 before 10.0.0.10),
 * anything else as text. */
struct sort_key {
	int cls; /* 0 number, 1 IPv4, 2 IPv6, 3 text, 4 absent */
	long long num;
	unsigned char addr[16];
	int plen;
	const char *text;
};

static void sort_key_of(const json_t *v, char *buf, size_t len, struct sort_key *k)
{
	memset(k, 0, sizeof(*k));
	k->text = "";
	if (v == NULL || json_is_null(v)) {
		k->cls = 4;
		return;
	}
	if (json_is_integer(v)) {
		k->cls = 0;
		k->num = (long long)json_integer_value(v);
		return;
	}
	if (!json_is_string(v)) {
		char *s = ss_format_value(v);
		snprintf(buf, len, "%s", s != NULL ? s : "");
		free(s);
	} else {
		snprintf(buf, len, "%s", json_string_value(v));
	}
	k->cls = 3;
	k->text = buf;
	char ip[64];
	const char *slash = strchr(buf, '/');
	size_t n = slash != NULL ? (size_t)(slash - buf) : strlen(buf);
	if (n >= sizeof(ip))
		return;
	memcpy(ip, buf, n);
	ip[n] = '\0';
	char *end = NULL;
	long plen = slash != NULL ? strtol(slash + 1, &end, 10) : -1;
	if (slash != NULL && (end == slash + 1 || *end != '\0'))
		return;
	if (inet_pton(AF_INET, ip, k->addr) == 1)
		k->cls = 1;
	else if (inet_pton(AF_INET6, ip, k->addr) == 1)
		k->cls = 2;
	k->plen = (int)plen;
}

static int sort_key_cmp(const struct sort_key *a, const struct sort_key *b)
{
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	switch (a->cls) {
	case 0:
		return a->num < b->num ? -1 : a->num > b->num;
	case 1:
	case 2: {
		int c = memcmp(a->addr, b->addr, a->cls == 1 ? 4 : 16);
		if (c != 0)
			return c;
		return a->plen < b->plen ? -1 : a->plen > b->plen;
	}
	case 3:
		return strcmp(a->text, b->text);
	default:
		return 0;
	}
}

static const char *const *sort_cols;

static int row_cmp(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;

	for (const char *const *c = sort_cols; c != NULL && *c != NULL; c++) {
		char ba[256], bb[256];
		struct sort_key ka, kb;

		sort_key_of(json_object_get(a, *c), ba, sizeof(ba), &ka);
		sort_key_of(json_object_get(b, *c), bb, sizeof(bb), &kb);
		int r = sort_key_cmp(&ka, &kb);
		if (r != 0)
			return r;
	}
	return 0;
}

json_t *ss_rows_sorted(const json_t *rows, const char *const *cols)
{
	size_t n = json_array_size(rows), i;
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *out = json_array();
	const json_t *row;

	if (v == NULL || out == NULL) {
		free(v);
		json_decref(out);
		return json_incref((json_t *)rows);
	}
	json_array_foreach(rows, i, row)
		v[i] = (json_t *)row;
	sort_cols = cols != NULL ? cols : cols_generic;
	qsort(v, n, sizeof(*v), row_cmp);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

/* {NAME: {k: v, ...}, ...} as a table: one row per NAME, columns the union
 * of the inner keys. */
void ss_render_keyed(const json_t *obj, const char *first_title, FILE *out)
{
	json_t *rows = json_array();
	const char *key;
	json_t *v;
	char *title = strdup(first_title);
	const char *pref[] = { title, NULL };

	if (rows == NULL || title == NULL) {
		json_decref(rows);
		free(title);
		return;
	}
	for (char *p = title; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	json_object_foreach((json_t *)obj, key, v) {
		json_t *row = json_deep_copy(v);

		if (row == NULL || !json_is_object(row)) {
			json_decref(row);
			continue;
		}
		/* The name column first: rebuild the row with it in front. */
		json_t *ordered = json_pack("{s:s}", title, key);
		if (ordered == NULL) {
			json_decref(row);
			continue;
		}
		json_object_update(ordered, row);
		json_decref(row);
		json_array_append_new(rows, ordered);
	}
	ss_render_rows(rows, pref, out);
	json_decref(rows);
	free(title);
}

/* Whether v is {NAME: {scalars}, ...} (non-empty). */
static bool is_keyed(const json_t *v)
{
	const char *key, *k2;
	json_t *e, *f;

	if (!json_is_object(v) || json_object_size(v) == 0)
		return false;
	json_object_foreach((json_t *)v, key, e) {
		if (!json_is_object(e) || json_object_size(e) == 0)
			return false;
		json_object_foreach(e, k2, f)
			if (json_is_object(f) || json_is_array(f))
				return false;
	}
	return true;
}

/* ------------------------------------------------------------------ results */

static const char *const cols_vnet[] = {
	"name", "vni", "gateway_ip", "gateway_ip6", NULL,
};
static const char *const cols_eni[] = {
	"name", "mac", "vnet", "admin_state", "port", "vlan", "route_group",
	"vm_underlay_ip", "vm_vni", "dscp", "acl", NULL,
};
static const char *const cols_mapping[] = {
	"vnet", "ip", "underlay_ip", "mac", "use_dst_vni", NULL,
};
static const char *const cols_route[] = {
	"group", "prefix", "action", "vnet", "overlay_ip", NULL,
};
static const char *const cols_rdma_policy[] = {
	"name", "priority", "match", "action", "lossless", "offloaded",
	"offload_reason", "packets", "bytes", NULL,
};
static const char *const cols_qp[] = {
	"src_ip", "dst_ip", "dst_qp", "packets", "bytes", "send", "write", "read_req",
	"read_resp", "ack", "nak", "psn_gaps", "cnp", "ecn_ce", NULL,
};
static const char *const cols_flow[] = {
	"eni", "protocol", "proto", "src_ip", "src_port", "dst_ip", "dst_port",
	"direction", "state", NULL,
};
static const char *const cols_capture[] = {
	"name", "port", "direction", "drop_reason", "file", "snaplen", "count", NULL,
};
static const char *const cols_port[] = {
	"name", "role", "mac", "mtu", "rx_queues", "tx_queues", "link_up", NULL,
};

static const char *const *preferred_cols(const char *method)
{
	static const struct {
		const char *prefix;
		const char *const *cols;
	} map[] = {
		{ "vnet.", cols_vnet },
		{ "eni.", cols_eni },
		{ "mapping.", cols_mapping },
		{ "route.", cols_route },
		{ "rdma.policy.", cols_rdma_policy },
		{ "rdma.qp.", cols_qp },
		{ "flow.", cols_flow },
		{ "capture.", cols_capture },
		{ "system.", cols_port },
		{ "health.", cols_port },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(method, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].cols;
	return NULL;
}

static bool is_rows(const json_t *v)
{
	size_t i;
	const json_t *e;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, e)
		if (!json_is_object(e))
			return false;
	return true;
}

static void print_uptime(FILE *out, json_int_t s)
{
	json_int_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;

	if (d > 0)
		fprintf(out, "%" JSON_INTEGER_FORMAT "d %02" JSON_INTEGER_FORMAT "h %02"
			JSON_INTEGER_FORMAT "m %02" JSON_INTEGER_FORMAT "s\n", d, h, m, sec);
	else if (h > 0)
		fprintf(out, "%" JSON_INTEGER_FORMAT "h %02" JSON_INTEGER_FORMAT "m %02"
			JSON_INTEGER_FORMAT "s\n", h, m, sec);
	else if (m > 0)
		fprintf(out, "%" JSON_INTEGER_FORMAT "m %02" JSON_INTEGER_FORMAT "s\n", m, sec);
	else
		fprintf(out, "%" JSON_INTEGER_FORMAT "s\n", sec);
}

/* "key  value" lines for the scalar members (aligned), then each container
 * member under its own heading: lists of objects as tables, objects
 * recursively. */
static void render_object(const char *method, const json_t *obj, int indent, FILE *out)
{
	size_t kw = 0;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
		if (!json_is_object(v) && !is_rows(v) && strlen(key) > kw)
			kw = strlen(key);
	json_object_foreach((json_t *)obj, key, v) {
		if (json_is_object(v) || is_rows(v))
			continue;
		/* uptime_s shown as a duration is labelled "uptime" */
		bool up = strcmp(key, "uptime_s") == 0 && json_is_integer(v);
		fprintf(out, "%*s%-*s  ", indent, "", (int)kw, up ? "uptime" : key);
		if (up) {
			print_uptime(out, json_integer_value(v));
		} else {
			char *s = ss_format_value(v);
			fprintf(out, "%s\n", s != NULL ? s : "");
			free(s);
		}
	}
	json_object_foreach((json_t *)obj, key, v) {
		if (is_keyed(v)) {
			fprintf(out, "%*s%s:\n", indent, "", key);
			ss_render_keyed(v, "name", out);
		} else if (json_is_object(v)) {
			fprintf(out, "%*s%s:\n", indent, "", key);
			if (json_object_size(v) == 0)
				fprintf(out, "%*s(none)\n", indent + 2, "");
			else
				render_object(method, v, indent + 2, out);
		} else if (is_rows(v) && json_array_size(v) > 0) {
			fprintf(out, "%*s%s:\n", indent, "", key);
			ss_render_rows(v, preferred_cols(method), out);
		}
	}
}

/* The one list member of a list result ({"vnets": [...]}), or NULL. */
static const json_t *list_member(const json_t *result)
{
	const json_t *found = NULL;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)result, key, v) {
		if (json_is_array(v)) {
			if (found != NULL)
				return NULL;
			found = v;
		} else if (json_is_object(v)) {
			return NULL;
		}
	}
	return found != NULL && is_rows(found) ? found : NULL;
}

void ss_render_result(const char *method, const json_t *result, FILE *out)
{
	const json_t *rows;

	if (strcmp(method, "pipeline.graph") == 0 &&
	    json_is_string(json_object_get(result, "dot"))) {
		const char *dot = json_string_value(json_object_get(result, "dot"));
		size_t n = strlen(dot);

		fputs(dot, out);
		if (n == 0 || dot[n - 1] != '\n')
			fputc('\n', out);
		return;
	}
	if (strcmp(method, "state.get") == 0) {
		/* The state is for machines even when a person asks: a backup
		 * that `sswitchctl txn -f` takes back. */
		json_dumpf(result, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		return;
	}
	if (strcmp(method, "stats.get") == 0 && json_is_object(result)) {
		ss_render_stats(result, false, out);
		return;
	}
	/* Quiet success: nothing, or only the new state generation of a
	 * mutating call (--json shows it). */
	if (result == NULL || json_is_null(result) || json_is_true(result) ||
	    (json_is_object(result) && json_object_size(result) == 1 &&
	     json_is_integer(json_object_get(result, "generation"))))
		return;
	/* An empty object read back (switch get before any switch set). */
	if (json_is_object(result) && json_object_size(result) == 0) {
		fputs("(none)\n", out);
		return;
	}
	if (json_is_array(result)) {
		if (is_rows(result)) {
			json_t *sorted = ss_rows_sorted(result, preferred_cols(method));
			ss_render_rows(sorted, preferred_cols(method), out);
			json_decref(sorted);
		} else {
			char *s = ss_format_value(result);
			fprintf(out, "%s\n", s != NULL ? s : "");
			free(s);
		}
		return;
	}
	if (!json_is_object(result)) {
		char *s = ss_format_value(result);
		fprintf(out, "%s\n", s != NULL ? s : "");
		free(s);
		return;
	}
	rows = list_member(result);
	if (rows != NULL) {
		const char *key;
		json_t *v, *sorted = ss_rows_sorted(rows, preferred_cols(method));

		ss_render_rows(sorted, preferred_cols(method), out);
		json_decref(sorted);
		/* Scalars beside the list (a total, a truncation flag). */
		json_object_foreach((json_t *)result, key, v) {
			if (v == rows)
				continue;
			char *s = ss_format_value(v);
			fprintf(out, "%s: %s\n", key, s != NULL ? s : "");
			free(s);
		}
		return;
	}
	render_object(method, result, 0, out);
}
