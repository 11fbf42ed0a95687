/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The schema engine: validates an object against its type's field list,
 * normalises values in place (canonical addresses, prefixes, MACs, ranges,
 * defaults, dropped empty lists), and serialises the canonical text.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "control/objects.h"
#include "control/validate.h"

static const char *
kind_what(const struct ss_field *f)
{
	switch (f->kind) {
	case SS_F_NAME: return "a name ([A-Za-z0-9_.:-], 1..63 characters)";
	case SS_F_IP: return "an IP address string";
	case SS_F_IP4: return "an IPv4 address string";
	case SS_F_IP6: return "an IPv6 address string";
	case SS_F_PREFIX: return "a prefix string";
	case SS_F_MAC: return "a MAC address string";
	case SS_F_UINT: return "an integer";
	case SS_F_VLAN: return "an integer";
	case SS_F_BOOL: return "a boolean";
	case SS_F_REAL: return "a number";
	case SS_F_ENUM: return "a string";
	case SS_F_OBJ: return "an object";
	default: return "an array";
	}
}

static int
enum_check(const struct ss_field *f, const char *s, size_t len, struct ss_err *err)
{
	char list[160] = "";
	int i;

	for (i = 0; f->enums[i] != NULL; i++)
		if (strlen(f->enums[i]) == len && memcmp(s, f->enums[i], len) == 0)
			return 0;
	for (i = 0; f->enums[i] != NULL; i++) {
		strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
		strncat(list, f->enums[i], sizeof(list) - strlen(list) - 1);
	}
	return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name, "%s must be one of: %s",
			  f->name, list);
}

/* Validate one string of a scalar kind; canon gets the canonical text when
 * it differs from s (else ""). `name` is the field path for errors. */
static int
check_string_kind(int kind, const char *s, size_t len, const char *name,
		  char canon[SS_PREFIX_STRLEN], struct ss_err *err)
{
	const char *why = NULL;
	char out[SS_PREFIX_STRLEN];
	struct ss_ip ip;
	uint8_t mac[6];
	int plen, rc;

	canon[0] = '\0';
	switch (kind) {
	case SS_F_NAME:
		if (ss_valid_name(s, len) < 0)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, name,
					  "%s: invalid name \"%.*s\" (1..63 of A-Z a-z 0-9 _ . : -)",
					  name, (int)(len < 64 ? len : 64), s);
		return 0;
	case SS_F_IP:
	case SS_F_IP4:
	case SS_F_IP6:
		rc = ss_parse_ip(s, len, kind == SS_F_IP4 ? AF_INET : kind == SS_F_IP6 ? AF_INET6 : 0,
				 &ip, out, &why);
		break;
	case SS_F_PREFIX:
		rc = ss_parse_prefix(s, len, 0, &ip, &plen, out, &why);
		break;
	case SS_F_MAC:
		rc = ss_parse_mac(s, len, 1, mac, out, &why);
		break;
	default:
		return 0;
	}
	if (rc < 0)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, name, "%s: \"%.*s\": %s", name,
				  (int)(len < 64 ? len : 64), s, why);
	if (strlen(out) != len || memcmp(out, s, len) != 0)
		memcpy(canon, out, strlen(out) + 1);
	return 0;
}

static json_t *
canon_json(const char *canon, struct ss_err *err)
{
	json_t *r = json_string(canon);

	if (r == NULL)
		ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	return r;
}

int
ss_check_scalar(const struct ss_field *f, const struct ss_scalar *v, char canon[SS_PREFIX_STRLEN],
		int *drop, struct ss_err *err)
{
	canon[0] = '\0';
	switch (f->kind) {
	case SS_F_NAME:
	case SS_F_IP:
	case SS_F_IP4:
	case SS_F_IP6:
	case SS_F_PREFIX:
	case SS_F_MAC:
	case SS_F_ENUM:
		if (v->t != SS_VT_STRING)
			break;
		if (f->kind == SS_F_ENUM)
			return enum_check(f, v->s, v->len, err);
		return check_string_kind(f->kind, v->s, v->len, f->name, canon, err);
	case SS_F_UINT:
	case SS_F_VLAN:
		if (v->t != SS_VT_INT)
			break;
		if (f->kind == SS_F_VLAN && v->i == 0) {
			*drop = 1;
			return 0;
		}
		if (v->i < f->min || v->i > f->max)
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name,
					  "%s: %lld is out of range %lld..%lld", f->name,
					  (long long)v->i, (long long)f->min, (long long)f->max);
		return 0;
	case SS_F_BOOL:
		if (v->t != SS_VT_BOOL)
			break;
		return 0;
	case SS_F_REAL: {
		double r = v->t == SS_VT_INT ? (double)v->i : v->r;

		if (v->t != SS_VT_INT && v->t != SS_VT_REAL)
			break;
		if (!(r >= (double)f->min && r <= (double)f->max))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name,
					  "%s: %g is out of range %lld..%lld", f->name, r,
					  (long long)f->min, (long long)f->max);
		return 0;
	}
	default:
		return ss_err_set(err, SS_RPC_INTERNAL, f->name, "%s is not a scalar field", f->name);
	}
	return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name, "%s: expected %s", f->name,
			  kind_what(f));
}

static int check_obj(const struct ss_schema *s, json_t *obj, enum ss_check_mode mode,
		     struct ss_err *err);

/* Lists: validates elements, normalises them in place. */
static int
check_list(const struct ss_field *f, json_t *v, struct ss_err *err)
{
	size_t i, j, n = json_array_size(v);
	char path[96], canon[SS_PREFIX_STRLEN];

	if (f->max && n > (size_t)f->max)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name,
				  "%s: at most %lld entries", f->name, (long long)f->max);
	if (f->kind == SS_F_OBJS && n < (size_t)f->min)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name,
				  "%s: at least %lld entries", f->name, (long long)f->min);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(v, i), *repl = NULL;

		snprintf(path, sizeof(path), "%s[%zu]", f->name, i);
		switch (f->kind) {
		case SS_F_NAMES:
		case SS_F_PREFIXES:
			if (!json_is_string(e))
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, path,
						  "%s: expected a string", path);
			if (check_string_kind(f->kind == SS_F_NAMES ? SS_F_NAME : SS_F_PREFIX,
					      json_string_value(e), json_string_length(e), path,
					      canon, err) < 0)
				return -1;
			if (canon[0] && (repl = canon_json(canon, err)) == NULL)
				return -1;
			break;
		case SS_F_PROTOS:
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) > 255)
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, path,
						  "%s: a protocol number 0..255 is required", path);
			break;
		case SS_F_PORTS: {
			unsigned lo, hi;
			const char *why;
			char txt[16];

			if (json_is_integer(e)) {
				if (json_integer_value(e) < 0 || json_integer_value(e) > 65535)
					return ss_err_set(err, SS_RPC_INVALID_PARAMS, path,
							  "%s: a port 0..65535 is required", path);
				break;
			}
			if (!json_is_string(e) ||
			    ss_parse_port_range(json_string_value(e), json_string_length(e), &lo,
						&hi, &why) < 0)
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, path,
						  "%s: a port 0..65535 or a range \"a-b\" is required",
						  path);
			if (lo == hi) {
				repl = json_integer(lo);
			} else {
				snprintf(txt, sizeof(txt), "%u-%u", lo, hi);
				if (strcmp(txt, json_string_value(e)) != 0)
					repl = json_string(txt);
			}
			break;
		}
		case SS_F_OBJS:
			if (!json_is_object(e))
				return ss_err_set(err, SS_RPC_INVALID_PARAMS, path,
						  "%s: expected an object", path);
			if (check_obj(f->sub, e, SS_CHECK_FULL, err) < 0) {
				ss_err_prefix(err, "%s", path);
				return -1;
			}
			break;
		}
		if (repl != NULL)
			json_array_set_new(v, i, repl);
	}
	/* duplicates make no sense in name and protocol lists */
	if (f->kind == SS_F_NAMES || f->kind == SS_F_PROTOS)
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (json_equal(json_array_get(v, i), json_array_get(v, j))) {
					snprintf(path, sizeof(path), "%s[%zu]", f->name, i);
					return ss_err_set(err, SS_RPC_INVALID_PARAMS, path,
							  "%s: duplicate entry", path);
				}
	return 0;
}

const struct ss_field *
ss_schema_field(const struct ss_schema *s, const char *key, size_t klen)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (strncmp(s->f[i].name, key, klen) == 0 && s->f[i].name[klen] == '\0')
			return &s->f[i];
	return NULL;
}

static const struct ss_field *
find_field(const struct ss_schema *s, const char *key)
{
	return ss_schema_field(s, key, strlen(key));
}

/* Validate one value of field f; may ask for it to be replaced (*repl) or
 * dropped (*drop). */
static int
check_value(const struct ss_field *f, json_t *v, json_t **repl, int *drop,
	    struct ss_err *err)
{
	switch (f->kind) {
	case SS_F_NAME:
	case SS_F_IP:
	case SS_F_IP4:
	case SS_F_IP6:
	case SS_F_PREFIX:
	case SS_F_MAC:
	case SS_F_ENUM:
	case SS_F_UINT:
	case SS_F_VLAN:
	case SS_F_REAL:
	case SS_F_BOOL: {
		struct ss_scalar sv = { .t = SS_VT_OBJECT };
		char canon[SS_PREFIX_STRLEN];

		if (json_is_string(v)) {
			sv.t = SS_VT_STRING;
			sv.s = json_string_value(v);
			sv.len = json_string_length(v);
		} else if (json_is_integer(v)) {
			sv.t = SS_VT_INT;
			sv.i = json_integer_value(v);
		} else if (json_is_real(v)) {
			sv.t = SS_VT_REAL;
			sv.r = json_real_value(v);
		} else if (json_is_boolean(v)) {
			sv.t = SS_VT_BOOL;
		}
		if (ss_check_scalar(f, &sv, canon, drop, err) < 0)
			return -1;
		if (canon[0] && (*repl = canon_json(canon, err)) == NULL)
			return -1;
		return 0;
	}
	case SS_F_OBJ:
		if (!json_is_object(v))
			goto type;
		if (check_obj(f->sub, v, SS_CHECK_FULL, err) < 0) {
			ss_err_prefix(err, "%s", f->name);
			return -1;
		}
		*drop = json_object_size(v) == 0;
		return 0;
	default:
		if (!json_is_array(v))
			goto type;
		if (check_list(f, v, err) < 0)
			return -1;
		*drop = json_array_size(v) == 0;
		return 0;
	}
type:
	return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name, "%s: expected %s", f->name,
			  kind_what(f));
}

static int
check_obj(const struct ss_schema *s, json_t *obj, enum ss_check_mode mode,
	  struct ss_err *err)
{
	const char *drops[32];
	uint64_t seen = 0;
	unsigned ndrops = 0, i;
	void *it;

	for (it = json_object_iter(obj); it != NULL; it = json_object_iter_next(obj, it)) {
		const char *key = json_object_iter_key(it);
		const struct ss_field *f = find_field(s, key);
		json_t *repl = NULL;
		int drop = 0;

		if (f == NULL || (mode == SS_CHECK_KEY && !(f->flags & SS_FF_KEY)))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, key, "unknown field \"%.64s\"%s",
					  key, f ? " (a delete takes the key fields only)" : "");
		seen |= 1ull << (f - s->f);
		if (check_value(f, json_object_iter_value(it), &repl, &drop, err) < 0)
			return -1;
		if (repl != NULL)
			json_object_iter_set_new(obj, it, repl);
		if (drop && ndrops < 32)
			drops[ndrops++] = f->name;
	}
	for (i = 0; i < ndrops; i++) {
		json_object_del(obj, drops[i]);
		seen &= ~(1ull << (find_field(s, drops[i]) - s->f));
	}
	for (i = 0; i < s->n; i++) {
		const struct ss_field *f = &s->f[i];

		if (seen & (1ull << i))
			continue;
		if (f->flags & SS_FF_KEY || (mode == SS_CHECK_FULL && (f->flags & SS_FF_REQ)))
			return ss_err_set(err, SS_RPC_INVALID_PARAMS, f->name,
					  "missing required field \"%s\"", f->name);
		if (mode == SS_CHECK_FULL && (f->flags & SS_FF_DFLT)) {
			json_t *d;

			if (f->kind == SS_F_BOOL)
				d = json_boolean(f->dflt_i);
			else if (f->kind == SS_F_REAL)
				d = json_real(f->dflt_r);
			else if (f->dflt_s != NULL)
				d = json_string(f->dflt_s);
			else
				d = json_integer(f->dflt_i);
			if (d == NULL || json_object_set_new_nocheck(obj, f->name, d) < 0)
				return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
		}
	}
	return 0;
}

int
ss_schema_check(const struct ss_schema *s, json_t *obj, enum ss_check_mode mode,
		struct ss_err *err)
{
	if (!json_is_object(obj))
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, NULL, "params must be an object");
	return check_obj(s, obj, mode, err);
}

void
ss_schema_dump(struct ss_buf *b, const struct ss_schema *s, const json_t *obj)
{
	unsigned i;
	int first = 1;

	ss_buf_addc(b, '{');
	for (i = 0; i < s->n; i++) {
		const struct ss_field *f = &s->f[i];
		const json_t *v = json_object_get(obj, f->name);

		if (v == NULL)
			continue;
		if (!first)
			ss_buf_addc(b, ',');
		first = 0;
		ss_json_dump_str(b, f->name, strlen(f->name));
		ss_buf_addc(b, ':');
		if (f->kind == SS_F_OBJ) {
			ss_schema_dump(b, f->sub, v);
		} else if (f->kind == SS_F_OBJS) {
			size_t k;

			ss_buf_addc(b, '[');
			for (k = 0; k < json_array_size(v); k++) {
				if (k)
					ss_buf_addc(b, ',');
				ss_schema_dump(b, f->sub, json_array_get(v, k));
			}
			ss_buf_addc(b, ']');
		} else {
			ss_json_dump(b, v);
		}
	}
	ss_buf_addc(b, '}');
}

void
ss_schema_dump_compact(struct ss_buf *b, const struct ss_schema *s, const json_t *obj)
{
	unsigned i, last = 0;

	/* fields after the last present one are left out */
	for (i = 0; i < s->n; i++)
		if (json_object_get(obj, s->f[i].name) != NULL)
			last = i + 1;
	ss_buf_addc(b, '[');
	for (i = 0; i < last; i++) {
		const struct ss_field *f = &s->f[i];
		const json_t *v = json_object_get(obj, f->name);

		if (i)
			ss_buf_addc(b, ',');
		if (v == NULL)
			ss_buf_add(b, "null", 4);
		else if (f->kind == SS_F_OBJ)
			ss_schema_dump(b, f->sub, v);
		else if (f->kind == SS_F_OBJS) {
			size_t k;

			ss_buf_addc(b, '[');
			for (k = 0; k < json_array_size(v); k++) {
				if (k)
					ss_buf_addc(b, ',');
				ss_schema_dump(b, f->sub, json_array_get(v, k));
			}
			ss_buf_addc(b, ']');
		} else {
			ss_json_dump(b, v);
		}
	}
	ss_buf_addc(b, ']');
}

/* End of the element starting at p in our own compact text (no spaces). */
static const char *
elem_end(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		switch (*p) {
		case '"':
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			break;
		case '[':
		case '{':
			depth++;
			break;
		case ']':
		case '}':
			if (depth-- == 0)
				return p;
			break;
		case ',':
			if (depth == 0)
				return p;
			break;
		}
	}
	return end;
}

void
ss_schema_expand_text(struct ss_buf *b, const struct ss_schema *s, const char *text, size_t len)
{
	const char *p = text + 1, *end = text + len - 1;   /* inside [ ] */
	unsigned i = 0;
	int first = 1;

	ss_buf_addc(b, '{');
	while (p < end && i < s->n) {
		const char *e = elem_end(p, end);

		if (!(e - p == 4 && memcmp(p, "null", 4) == 0)) {
			if (!first)
				ss_buf_addc(b, ',');
			first = 0;
			ss_json_dump_str(b, s->f[i].name, strlen(s->f[i].name));
			ss_buf_addc(b, ':');
			ss_buf_add(b, p, (size_t)(e - p));
		}
		i++;
		p = e + 1;
	}
	ss_buf_addc(b, '}');
}

json_t *
ss_schema_expand_json(const struct ss_schema *s, const json_t *values)
{
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < json_array_size(values) && i < s->n; i++) {
		json_t *v = json_array_get(values, i);

		if (!json_is_null(v) && json_object_set_nocheck(o, s->f[i].name, v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int
ss_schema_key(const struct ss_type *t, const json_t *obj, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < t->schema.n; i++) {
		const struct ss_field *f = &t->schema.f[i];
		const json_t *v;
		char num[24];
		const char *s;
		size_t n;

		if (!(f->flags & SS_FF_KEY))
			continue;
		v = json_object_get(obj, f->name);
		if (json_is_integer(v)) {
			n = (size_t)snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			s = num;
		} else {
			s = json_string_value(v) ? json_string_value(v) : "";
			n = json_string_length(v);
		}
		if (used + n + 2 > len)
			return -1;
		if (used)
			buf[used++] = '/';
		memcpy(buf + used, s, n);
		used += n;
		buf[used] = '\0';
	}
	return 0;
}

static void
ref_path(char *out, size_t len, const char *prefix, const char *name)
{
	size_t n = strlen(name);

	if (*prefix)
		snprintf(out, len, "%s.%s", prefix, name);
	else if (n < len)
		memcpy(out, name, n + 1);
	else
		out[0] = '\0';
}

static int
refs_of(const struct ss_schema *s, const json_t *obj, const char *prefix, struct ss_ref *refs,
	int n, int max)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		const struct ss_field *f = &s->f[i];
		const json_t *v;
		char path[96];

		if (!f->ref_id && f->kind != SS_F_OBJ)
			continue;
		v = json_object_get(obj, f->name);
		if (v == NULL)
			continue;
		if (f->kind == SS_F_OBJ) {
			ref_path(path, sizeof(path), prefix, f->name);
			n = refs_of(f->sub, v, path, refs, n, max);
			continue;
		}
		if (f->kind == SS_F_NAME && n < max) {
			size_t kl = json_string_length(v);

			if (kl >= sizeof(refs[n].key))
				kl = sizeof(refs[n].key) - 1;
			refs[n].type = (uint8_t)(f->ref_id - 1);
			refs[n].is_key = (f->flags & SS_FF_KEY) != 0;
			memcpy(refs[n].key, json_string_value(v), kl);
			refs[n].key[kl] = '\0';
			ref_path(refs[n].field, sizeof(refs[n].field), prefix, f->name);
			n++;
		} else if (f->kind == SS_F_NAMES) {
			size_t k;

			ref_path(path, sizeof(path), prefix, f->name);
			for (k = 0; k < json_array_size(v) && n < max; k++) {
				refs[n].type = (uint8_t)(f->ref_id - 1);
				refs[n].is_key = 0;
				snprintf(refs[n].key, sizeof(refs[n].key), "%s",
					 json_string_value(json_array_get(v, k)));
				snprintf(refs[n].field, sizeof(refs[n].field), "%s[%zu]", path, k);
				n++;
			}
		}
	}
	return n;
}

int
ss_schema_refs(const struct ss_type *t, const json_t *obj, struct ss_ref *refs, int max)
{
	return refs_of(&t->schema, obj, "", refs, 0, max);
}

int
ss_obj_family(const json_t *obj, const char *field)
{
	const char *s = json_string_value(json_object_get(obj, field));

	if (s == NULL)
		return 0;
	return strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
}
