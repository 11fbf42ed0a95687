/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Pure parts of sswitchctl: command words -> method name, key=value -> JSON.
 * No I/O here; everything is covered by tests/unit/sswitchctl/test_params.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sswitchctl.h"

/* SPEC section 4, in the order of its table, plus the read methods the
 * daemon serves for every object type (<type>.list, <named type>.get). */
const char *const ss_known_methods[] = {
	"system.info",
	"switch.set", "switch.get",
	"vip.add", "vip.delete", "vip.list",
	"underlay_route.add", "underlay_route.delete", "underlay_route.list",
	"vnet.add", "vnet.delete", "vnet.get", "vnet.list",
	"eni.add", "eni.set", "eni.delete", "eni.get", "eni.list",
	"direction.add", "direction.delete", "direction.list",
	"route.add", "route.delete", "route.list",
	"mapping.add", "mapping.delete", "mapping.list",
	"inbound_route.add", "inbound_route.delete", "inbound_route.list",
	"pa_validation.add", "pa_validation.delete", "pa_validation.list",
	"acl_group.add", "acl_group.delete", "acl_group.replace", "acl_group.get",
	"acl_group.list",
	"acl_rule.add", "acl_rule.delete", "acl_rule.list",
	"flow.config", "flow.list", "flow.flush",
	"rdma.policy.add", "rdma.policy.delete", "rdma.policy.get", "rdma.policy.list",
	"rdma.config",
	"rdma.qp.list",
	"ipfix.set", "ipfix.get",
	"ha.get", "ha.set",
	"stats.get", "stats.clear",
	"capture.start", "capture.stop", "capture.list",
	"pipeline.graph",
	"health.get",
	"txn",
	"state.get",
	NULL,
};

/* The daemon's schema.get result (ss_methods_from_schema), or NULL. */
static json_t *schema;

void ss_methods_from_schema(const json_t *s)
{
	json_decref(schema);
	schema = json_is_array(json_object_get(s, "types")) ? json_incref((json_t *)s) : NULL;
}

const json_t *ss_schema_types(void)
{
	return json_object_get(schema, "types");
}

/* Is method `<type>.<verb>` (or a settings type's own name) one the
 * daemon's schema announces? */
static bool schema_method(const char *method)
{
	const json_t *types = ss_schema_types();
	size_t i, j;

	for (i = 0; i < json_array_size(types); i++) {
		const json_t *t = json_array_get(types, i), *verbs = json_object_get(t, "methods");
		const char *name = json_string_value(json_object_get(t, "name"));
		size_t n = name ? strlen(name) : 0;

		if (name == NULL || strncmp(method, name, n) != 0)
			continue;
		for (j = 0; j < json_array_size(verbs); j++) {
			const char *v = json_string_value(json_array_get(verbs, j));

			if (v == NULL)
				continue;
			if (strcmp(v, "config") == 0 ? method[n] == '\0'
						      : method[n] == '.' && strcmp(method + n + 1, v) == 0)
				return true;
		}
	}
	return false;
}

bool ss_method_known(const char *method)
{
	for (const char *const *m = ss_known_methods; *m != NULL; m++)
		if (strcmp(*m, method) == 0)
			return true;
	return schema_method(method);
}

/* Whether `object` is the method name of a known method minus its last
 * component ("rdma.policy" for "rdma.policy.add"). */
static bool object_known(const char *object)
{
	const json_t *types = ss_schema_types();
	size_t n = strlen(object);

	for (size_t i = 0; i < json_array_size(types); i++) {
		const char *name = json_string_value(json_object_get(json_array_get(types, i),
								     "name"));

		if (name != NULL && strcmp(name, object) == 0)
			return true;
	}

	for (const char *const *m = ss_known_methods; *m != NULL; m++) {
		const char *dot = strrchr(*m, '.');

		if (dot != NULL && (size_t)(dot - *m) == n && strncmp(*m, object, n) == 0)
			return true;
	}
	return false;
}

#define SS_MAX_WORDS 4     /* leading command words looked at */
#define SS_MAX_PARTS 8     /* their parts, split at '-' and '_' */

/* The leading command words split into lower-case parts: "rdma-policy add"
 * is rdma, policy, add; end[i] is the number of parts of words 0..i. */
struct word_parts {
	char part[SS_MAX_PARTS][64];
	int end[SS_MAX_WORDS];
	char word[SS_MAX_WORDS][64];   /* each word normalised whole */
	int nwords;
};

static void split_words(const char *const *words, int nwords, struct word_parts *wp)
{
	int n = 0;

	wp->nwords = 0;
	for (int i = 0; i < nwords && i < SS_MAX_WORDS; i++) {
		const char *w = words[i];
		size_t len = strlen(w);
		int start = n;

		if (len == 0 || len >= sizeof(wp->word[0]))
			return;
		for (size_t c = 0; c <= len; c++)
			wp->word[i][c] = w[c] == '-' ? '_' : (char)tolower((unsigned char)w[c]);
		for (const char *p = wp->word[i]; *p != '\0';) {
			size_t m = strcspn(p, "_");

			if (m == 0 || n == SS_MAX_PARTS) {
				n = start;   /* "a__b", "_a" or too many parts: not a word */
				return;
			}
			memcpy(wp->part[n], p, m);
			wp->part[n][m] = '\0';
			n++;
			p += m;
			if (*p == '_')
				p++;
		}
		wp->end[i] = n;
		wp->nwords = i + 1;
	}
}

/* Join the parts of the first k words, the i-th separator being '.' when
 * bit i of mask is set, '_' otherwise. */
static int join_parts(const struct word_parts *wp, int k, unsigned mask, char *out,
		      size_t outlen)
{
	size_t pos = 0;

	for (int i = 0; i < wp->end[k - 1]; i++) {
		int n = snprintf(out + pos, outlen - pos, "%s%s", i > 0 ?
				 ((mask >> (i - 1)) & 1 ? "." : "_") : "", wp->part[i]);
		if (n < 0 || (size_t)n >= outlen - pos)
			return -ENAMETOOLONG;
		pos += (size_t)n;
	}
	return 0;
}

/* Try every joining of the first k words' parts, '.' joins first (so
 * "rdma qp list" is rdma.qp.list); the first one `ok` accepts is left in
 * cand. */
static bool find_join(const struct word_parts *wp, int k, bool (*ok)(const char *),
		      char *cand, size_t len)
{
	int nparts = wp->end[k - 1];

	for (int mask = (1 << (nparts - 1)) - 1; mask >= 0; mask--)
		if (join_parts(wp, k, (unsigned)mask, cand, len) == 0 && ok(cand))
			return true;
	return false;
}

int ss_resolve_method(const char *const *words, int nwords, char *out, size_t outlen)
{
	struct word_parts wp;
	char cand[256];

	split_words(words, nwords, &wp);
	/* A known method, longest first. */
	for (int k = wp.nwords; k >= 1; k--) {
		if (find_join(&wp, k, ss_method_known, cand, sizeof(cand))) {
			if (strlen(cand) >= outlen)
				return 0;
			strcpy(out, cand);
			return k;
		}
	}
	/* A known object followed by a verb the table does not know. */
	for (int k = wp.nwords; k >= 1; k--) {
		if (!find_join(&wp, k, object_known, cand, sizeof(cand)))
			continue;
		if (k == nwords) {
			if (strlen(cand) < outlen)
				strcpy(out, cand);
			return -1;
		}
		if (k >= wp.nwords)
			continue;
		if (snprintf(out, outlen, "%s.%s", cand, wp.word[k]) >= (int)outlen)
			return 0;
		return k + 1;
	}
	return 0;
}

json_t *ss_parse_value(const char *text)
{
	json_error_t jerr;
	json_t *v;

	/* Bare words that happen to be JSON literals are meant as such; any text
	 * that is not exactly one JSON value is a string. An empty value is the
	 * empty string. */
	if (*text != '\0') {
		v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
		if (v != NULL)
			return v;
	}
	return json_string(text);
}

bool ss_is_kv(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || arg[0] == '-' || arg[0] == '.' || arg[0] == '[')
		return false;
	for (const char *p = arg; p < eq; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.' &&
		    *p != '[' && *p != ']')
			return false;
	return true;
}

/* One component of a path: a key (into an object) or an index (into an
 * array). */
struct path_step {
	bool is_index;
	size_t index;
	char key[128];
};

/* Parse the next step of `path` at *pos. 1 when a step was read, 0 at the
 * end, -EINVAL on a syntax error. */
static int next_step(const char *path, size_t *pos, struct path_step *st)
{
	const char *p = path + *pos;

	if (*p == '\0')
		return 0;
	if (*p == '[') {
		char *end;
		unsigned long idx;

		if (!isdigit((unsigned char)p[1]))
			return -EINVAL;
		errno = 0;
		idx = strtoul(p + 1, &end, 10);
		if (errno != 0 || *end != ']' || idx > 1000000)
			return -EINVAL;
		st->is_index = true;
		st->index = idx;
		*pos = (size_t)(end + 1 - path);
		return 1;
	}
	if (*p == '.') {
		if (*pos == 0)
			return -EINVAL;
		p++;
	}
	size_t n = strcspn(p, ".[");
	if (n == 0 || n >= sizeof(st->key))
		return -EINVAL;
	st->is_index = false;
	memcpy(st->key, p, n);
	st->key[n] = '\0';
	/* Dashes in keys are accepted as underscores, like in command words. */
	for (size_t i = 0; i < n; i++)
		if (st->key[i] == '-')
			st->key[i] = '_';
	*pos = (size_t)(p + n - path);
	return 1;
}

int ss_params_set(json_t *root, const char *path, json_t *value, char *err, size_t errlen)
{
	struct path_step st, next;
	size_t pos = 0;
	json_t *cur = root;
	int rc;

	if (value == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = next_step(path, &pos, &st);
	if (rc <= 0 || st.is_index)
		goto bad_path;
	for (;;) {
		rc = next_step(path, &pos, &next);
		if (rc < 0)
			goto bad_path;
		json_t *child = st.is_index ? json_array_get(cur, st.index) :
					      json_object_get(cur, st.key);
		if (rc == 0) {
			/* Last step: set the value. */
			if (child != NULL) {
				snprintf(err, errlen, "'%s' given twice", path);
				goto fail;
			}
			if (st.is_index) {
				if (st.index != json_array_size(cur)) {
					snprintf(err, errlen, "'%s': index %zu skips elements "
						 "(next is %zu)", path, st.index,
						 json_array_size(cur));
					goto fail;
				}
				json_array_append_new(cur, value);
			} else {
				json_object_set_new(cur, st.key, value);
			}
			return 0;
		}
		if (child == NULL) {
			child = next.is_index ? json_array() : json_object();
			if (st.is_index) {
				if (st.index != json_array_size(cur)) {
					snprintf(err, errlen, "'%s': index %zu skips elements "
						 "(next is %zu)", path, st.index,
						 json_array_size(cur));
					json_decref(child);
					goto fail;
				}
				json_array_append_new(cur, child);
			} else {
				json_object_set_new(cur, st.key, child);
			}
		} else if (next.is_index ? !json_is_array(child) : !json_is_object(child)) {
			snprintf(err, errlen, "'%s' conflicts with a value given before", path);
			goto fail;
		}
		cur = child;
		st = next;
	}

bad_path:
	snprintf(err, errlen, "'%s' is not a valid parameter name "
		 "(expected key, key.sub or key[N])", path);
fail:
	json_decref(value);
	return -EINVAL;
}

int ss_params_add_kv(json_t *root, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char key[512];

	if (eq == NULL || !ss_is_kv(arg)) {
		snprintf(err, errlen, "'%s' is not a key=value argument", arg);
		return -EINVAL;
	}
	if ((size_t)(eq - arg) >= sizeof(key)) {
		snprintf(err, errlen, "parameter name too long in '%s'", arg);
		return -EINVAL;
	}
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	return ss_params_set(root, key, ss_parse_value(eq + 1), err, errlen);
}

int ss_params_merge(json_t *dst, const json_t *src)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)src, key, v) {
		json_t *d = json_object_get(dst, key);

		if (json_is_object(d) && json_is_object(v)) {
			if (ss_params_merge(d, v) < 0)
				return -ENOMEM;
		} else if (json_object_set(dst, key, v) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}
