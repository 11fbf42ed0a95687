/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Strict JSON parser and compact serialiser producing/consuming jansson
 * values (see json.h for why this exists).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/json.h"

/* ---- buffer ------------------------------------------------------------ */

void
ss_buf_init(struct ss_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
ss_buf_free(struct ss_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int
ss_buf_reserve(struct ss_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
ss_buf_add(struct ss_buf *b, const void *p, size_t n)
{
	if (ss_buf_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
ss_buf_addc(struct ss_buf *b, char c)
{
	if (b->len + 2 > b->cap && ss_buf_reserve(b, 1) < 0)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void
ss_buf_adds(struct ss_buf *b, const char *s)
{
	ss_buf_add(b, s, strlen(s));
}

void
ss_buf_addf(struct ss_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ss_buf_reserve(b, 64) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (ss_buf_reserve(b, (size_t)n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

char *
ss_buf_steal(struct ss_buf *b)
{
	char *p;

	if (b->oom || ss_buf_reserve(b, 0) < 0) {
		ss_buf_free(b);
		return NULL;
	}
	b->p[b->len] = '\0';
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

/* ---- parser ------------------------------------------------------------ */

struct jp {
	const unsigned char *base;
	const unsigned char *p;
	const unsigned char *end;
	char *err;
	size_t errlen;
	struct ss_buf tmp;   /* unescaped strings */
	/* ss_json_parse_lazy(): params.entries of a top-level object is only
	 * validated (jp_skip) and its span returned */
	const char *raw;
	size_t rawlen;
	struct ss_buf keys;  /* jp_skip: decoded keys of the objects being skipped */
};

static json_t *
jp_fail(struct jp *j, const char *what)
{
	if (j->err != NULL && j->err[0] == '\0')
		snprintf(j->err, j->errlen, "byte %zu: %s", (size_t)(j->p - j->base), what);
	return NULL;
}

static inline void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = (v << 4) | d;
	}
	*out = v;
	return 0;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static void
put_utf8(struct ss_buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	ss_buf_add(b, u, n);
}

#define ONES8 0x0101010101010101ull
#define HIGH8 0x8080808080808080ull

/* Whether one of the 8 bytes of v is '"', '\\', below 0x20 or from 0x80 on
 * (exact: the borrow of a byte that matches can only mark a byte above it,
 * and then the word has a match anyway). */
static inline int
str_special8(uint64_t v)
{
	uint64_t q = v ^ (ONES8 * '"'), b = v ^ (ONES8 * '\\');

	return ((v | ((v - ONES8 * 0x20) & ~v) | ((q - ONES8) & ~q) | ((b - ONES8) & ~b)) &
		HIGH8) != 0;
}

/* Parse a string literal (j->p at the opening quote). On success *s / *len
 * point either into the input (no escapes) or into j->tmp. */
static int
jp_string(struct jp *j, const char **s, size_t *len)
{
	const unsigned char *start = ++j->p, *p = start;

	/* eight plain bytes at a time, then byte by byte from the word that
	 * holds the end (or something the slow path handles) */
	while (j->end - p >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		if (str_special8(v))
			break;
		p += 8;
	}
	while (p < j->end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80)
		p++;
	if (p < j->end && *p == '"') {
		*s = (const char *)start;
		*len = (size_t)(p - start);
		j->p = p + 1;
		return 0;
	}
	/* slow path: escapes, UTF-8 or an error */
	j->tmp.len = 0;
	ss_buf_add(&j->tmp, start, (size_t)(p - start));
	for (;;) {
		if (p >= j->end) {
			j->p = p;
			jp_fail(j, "unterminated string");
			return -1;
		}
		if (*p == '"')
			break;
		if (*p < 0x20) {
			j->p = p;
			jp_fail(j, "control character in string");
			return -1;
		}
		if (*p == '\\') {
			unsigned cp, lo;

			if (p + 1 >= j->end) {
				j->p = p;
				jp_fail(j, "unterminated string");
				return -1;
			}
			switch (p[1]) {
			case '"': ss_buf_addc(&j->tmp, '"'); p += 2; continue;
			case '\\': ss_buf_addc(&j->tmp, '\\'); p += 2; continue;
			case '/': ss_buf_addc(&j->tmp, '/'); p += 2; continue;
			case 'b': ss_buf_addc(&j->tmp, '\b'); p += 2; continue;
			case 'f': ss_buf_addc(&j->tmp, '\f'); p += 2; continue;
			case 'n': ss_buf_addc(&j->tmp, '\n'); p += 2; continue;
			case 'r': ss_buf_addc(&j->tmp, '\r'); p += 2; continue;
			case 't': ss_buf_addc(&j->tmp, '\t'); p += 2; continue;
			case 'u':
				break;
			default:
				j->p = p;
				jp_fail(j, "invalid escape");
				return -1;
			}
			if (j->end - p < 6 || hex4(p + 2, &cp) < 0) {
				j->p = p;
				jp_fail(j, "invalid \\u escape");
				return -1;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				j->p = p;
				jp_fail(j, "lone low surrogate");
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
				    hex4(p + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
					j->p = p;
					jp_fail(j, "invalid surrogate pair");
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (cp == 0) {
				j->p = p;
				jp_fail(j, "\\u0000 is not allowed");
				return -1;
			}
			put_utf8(&j->tmp, cp);
			p += 6;
			continue;
		}
		if (*p < 0x80) {
			ss_buf_addc(&j->tmp, (char)*p);
			p++;
		} else {
			size_t n = utf8_len(p, j->end);

			if (n == 0) {
				j->p = p;
				jp_fail(j, "invalid UTF-8");
				return -1;
			}
			ss_buf_add(&j->tmp, p, n);
			p += n;
		}
	}
	if (j->tmp.oom) {
		jp_fail(j, "out of memory");
		return -1;
	}
	j->p = p + 1;
	*s = j->tmp.len ? j->tmp.p : "";
	*len = j->tmp.len;
	return 0;
}

static json_t *
jp_number(struct jp *j)
{
	const unsigned char *s = j->p, *p = s;
	int is_int = 1;
	char buf[512];
	size_t n;

	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end)
		return jp_fail(j, "invalid number");
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	else
		return jp_fail(j, "invalid number");
	if (p < j->end && *p == '.') {
		is_int = 0;
		p++;
		if (p >= j->end || *p < '0' || *p > '9') {
			j->p = p;
			return jp_fail(j, "invalid number");
		}
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		is_int = 0;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || *p < '0' || *p > '9') {
			j->p = p;
			return jp_fail(j, "invalid number");
		}
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	n = (size_t)(p - s);
	if (n >= sizeof(buf))
		return jp_fail(j, "number too long");
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	if (is_int) {
		long long v = strtoll(buf, NULL, 10);

		if (errno == ERANGE)
			return jp_fail(j, "integer out of range");
		j->p = p;
		return json_integer((json_int_t)v);
	} else {
		double d = strtod(buf, NULL);

		if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
			return jp_fail(j, "real number overflow");
		j->p = p;
		return json_real(d);
	}
}

static json_t *jp_value(struct jp *j, int depth, int ctx);
static int jp_skip(struct jp *j, int depth);

/* ctx: 1 = the top-level object, 2 = its "params" member (lazy mode) */
static json_t *
jp_object(struct jp *j, int depth, int ctx)
{
	json_t *o = json_object();

	if (o == NULL)
		return jp_fail(j, "out of memory");
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return o;
	}
	for (;;) {
		const char *k;
		size_t klen, before;
		char kbuf[128];
		char *key;
		json_t *v;
		const unsigned char *kpos;

		jp_ws(j);
		if (j->p >= j->end || *j->p != '"')
			goto fail_msg_key;
		kpos = j->p;
		if (jp_string(j, &k, &klen) < 0)
			goto fail;
		/* the key may live in j->tmp which the value parse reuses */
		key = klen < sizeof(kbuf) ? kbuf : malloc(klen + 1);
		if (key == NULL) {
			jp_fail(j, "out of memory");
			goto fail;
		}
		memcpy(key, k, klen);
		key[klen] = '\0';
		jp_ws(j);
		if (j->p >= j->end || *j->p != ':') {
			if (key != kbuf)
				free(key);
			jp_fail(j, "expected ':'");
			goto fail;
		}
		j->p++;
		jp_ws(j);
		if (ctx == 2 && klen == 7 && memcmp(key, "entries", 7) == 0 && j->p < j->end &&
		    *j->p == '[') {
			const unsigned char *start = j->p;

			if (jp_skip(j, depth + 1) < 0) {
				if (key != kbuf)
					free(key);
				goto fail;
			}
			j->raw = (const char *)start;
			j->rawlen = (size_t)(j->p - start);
			v = json_null();   /* stands for the raw text kept in j->raw: ss_json_parse_lazy() */
		} else {
			v = jp_value(j, depth + 1,
				     ctx == 1 && klen == 6 && memcmp(key, "params", 6) == 0 ? 2 : 0);
		}
		if (v == NULL) {
			if (key != kbuf)
				free(key);
			goto fail;
		}
		before = json_object_size(o);
		if (json_object_setn_new_nocheck(o, key, klen, v) < 0 ||
		    json_object_size(o) == before) {
			if (key != kbuf)
				free(key);
			j->p = kpos;
			jp_fail(j, json_object_size(o) == before ? "duplicate object key"
								 : "out of memory");
			goto fail;
		}
		if (key != kbuf)
			free(key);
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return o;
		}
		jp_fail(j, "expected ',' or '}'");
		goto fail;
	}
fail_msg_key:
	jp_fail(j, "expected string key");
fail:
	json_decref(o);
	return NULL;
}

static json_t *
jp_array(struct jp *j, int depth)
{
	json_t *a = json_array();

	if (a == NULL)
		return jp_fail(j, "out of memory");
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return a;
	}
	for (;;) {
		json_t *v = jp_value(j, depth + 1, 0);

		if (v == NULL)
			goto fail;
		if (json_array_append_new(a, v) < 0) {
			jp_fail(j, "out of memory");
			goto fail;
		}
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return a;
		}
		jp_fail(j, "expected ',' or ']'");
		goto fail;
	}
fail:
	json_decref(a);
	return NULL;
}

static json_t *
jp_literal(struct jp *j, const char *word, json_t *v)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return jp_fail(j, "invalid literal");
	j->p += n;
	return v;
}

static json_t *
jp_value(struct jp *j, int depth, int ctx)
{
	if (depth > SS_JSON_MAX_DEPTH)
		return jp_fail(j, "nesting too deep");
	jp_ws(j);
	if (j->p >= j->end)
		return jp_fail(j, "unexpected end of input");
	switch (*j->p) {
	case '{':
		return jp_object(j, depth, ctx);
	case '[':
		return jp_array(j, depth);
	case '"': {
		const char *s;
		size_t len;
		json_t *v;

		if (jp_string(j, &s, &len) < 0)
			return NULL;
		v = json_stringn_nocheck(s, len);
		if (v == NULL)
			return jp_fail(j, "out of memory");
		return v;
	}
	case 't':
		return jp_literal(j, "true", json_true());
	case 'f':
		return jp_literal(j, "false", json_false());
	case 'n':
		return jp_literal(j, "null", json_null());
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return jp_number(j);
		return jp_fail(j, "unexpected character");
	}
}

struct key_ref {
	size_t off;          /* of the decoded key in j->keys */
	size_t len;
	size_t pos;          /* of the key in the input */
	const char *base;
};

static int
cmp_key_ref(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->base + x->off, y->base + y->off, n);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Duplicate keys among the n keys of one skipped object: the position of
 * the first key (in input order) that repeats an earlier one, or -1. */
static long
dup_key(struct jp *j, struct key_ref *k, size_t n)
{
	long first = -1;
	size_t i, m;

	if (n <= 8) {
		/* the usual entry: a handful of keys, no sorting */
		for (i = 1; i < n; i++)
			for (m = 0; m < i; m++)
				if (k[i].len == k[m].len &&
				    memcmp(j->keys.p + k[i].off, j->keys.p + k[m].off, k[i].len) == 0)
					return (long)k[i].pos;
		return -1;
	}
	for (i = 0; i < n; i++)
		k[i].base = j->keys.p;
	qsort(k, n, sizeof(*k), cmp_key_ref);
	for (i = 1; i < n; i++)
		if (k[i].len == k[i - 1].len &&
		    memcmp(j->keys.p + k[i].off, j->keys.p + k[i - 1].off, k[i].len) == 0 &&
		    (first < 0 || (long)k[i].pos < first))
			first = (long)k[i].pos;
	return first;
}

/* Validate one value exactly as jp_value() would, without building it. */
static int
jp_skip(struct jp *j, int depth)
{
	json_t *v;

	if (depth > SS_JSON_MAX_DEPTH) {
		jp_fail(j, "nesting too deep");
		return -1;
	}
	jp_ws(j);
	if (j->p >= j->end) {
		jp_fail(j, "unexpected end of input");
		return -1;
	}
	if (*j->p == '{') {
		size_t mark = j->keys.len, n = 0, cap = 16;
		struct key_ref kst[16], *k = kst;   /* on the heap past 16 keys */
		int rc = -1;

		j->p++;
		jp_ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return 0;
		}
		for (;;) {
			const char *s;
			size_t len, pos;

			jp_ws(j);
			if (j->p >= j->end || *j->p != '"') {
				jp_fail(j, "expected string key");
				break;
			}
			pos = (size_t)(j->p - j->base);
			if (jp_string(j, &s, &len) < 0)
				break;
			if (n == cap) {
				struct key_ref *nk = k == kst ? malloc(2 * cap * sizeof(*k))
							     : realloc(k, 2 * cap * sizeof(*k));

				if (nk == NULL) {
					jp_fail(j, "out of memory");
					break;
				}
				if (k == kst)
					memcpy(nk, kst, sizeof(kst));
				k = nk;
				cap *= 2;
			}
			k[n].off = j->keys.len;
			k[n].len = len;
			k[n].pos = pos;
			n++;
			ss_buf_add(&j->keys, s, len);
			if (j->keys.oom) {
				jp_fail(j, "out of memory");
				break;
			}
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':') {
				jp_fail(j, "expected ':'");
				break;
			}
			j->p++;
			if (jp_skip(j, depth + 1) < 0)
				break;
			jp_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == '}') {
				long dup = dup_key(j, k, n);

				j->p++;
				if (dup >= 0) {
					const unsigned char *here = j->p;

					j->p = j->base + dup;
					jp_fail(j, "duplicate object key");
					j->p = here;
					break;
				}
				rc = 0;
				break;
			}
			jp_fail(j, "expected ',' or '}'");
			break;
		}
		if (k != kst)
			free(k);
		j->keys.len = mark;
		return rc;
	}
	if (*j->p == '[') {
		j->p++;
		jp_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		for (;;) {
			if (jp_skip(j, depth + 1) < 0)
				return -1;
			jp_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == ']') {
				j->p++;
				return 0;
			}
			jp_fail(j, "expected ',' or ']'");
			return -1;
		}
	}
	if (*j->p == '"') {
		const char *s;
		size_t len;

		return jp_string(j, &s, &len);
	}
	/* scalars: cheap enough to build and drop */
	v = jp_value(j, depth, 0);
	if (v == NULL)
		return -1;
	json_decref(v);
	return 0;
}

json_t *
ss_json_parse_lazy(const char *text, size_t len, const char **raw, size_t *rawlen,
		   char *err, size_t errlen)
{
	struct jp j = {
		.base = (const unsigned char *)text,
		.p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.err = err,
		.errlen = errlen,
	};
	json_t *v;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ss_buf_init(&j.tmp);
	ss_buf_init(&j.keys);
	v = jp_value(&j, 0, 1);
	if (v != NULL) {
		jp_ws(&j);
		if (j.p != j.end) {
			jp_fail(&j, "trailing characters after the value");
			json_decref(v);
			v = NULL;
		}
	}
	ss_buf_free(&j.tmp);
	ss_buf_free(&j.keys);
	*raw = v != NULL ? j.raw : NULL;
	*rawlen = v != NULL ? j.rawlen : 0;
	return v;
}

json_t *
ss_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct jp j = {
		.base = (const unsigned char *)text,
		.p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.err = err,
		.errlen = errlen,
	};
	json_t *v;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ss_buf_init(&j.tmp);
	v = jp_value(&j, 0, 0);
	if (v != NULL) {
		jp_ws(&j);
		if (j.p != j.end) {
			jp_fail(&j, "trailing characters after the value");
			json_decref(v);
			v = NULL;
		}
	}
	ss_buf_free(&j.tmp);
	return v;
}

/* ---- serialiser -------------------------------------------------------- */

void
ss_json_dump_str(struct ss_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *run;

	if (ss_buf_reserve(b, len + 2) < 0)
		return;
	b->p[b->len++] = '"';
	/* most strings need no escape: copied in place (room reserved) */
	while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	if (p == end) {
		memcpy(b->p + b->len, s, len);
		b->len += len;
		b->p[b->len++] = '"';
		b->p[b->len] = '\0';
		return;
	}
	p = (const unsigned char *)s;
	while (p < end) {
		run = p;
		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			ss_buf_add(b, run, (size_t)(p - run));
		if (p >= end)
			break;
		switch (*p) {
		case '"': ss_buf_add(b, "\\\"", 2); break;
		case '\\': ss_buf_add(b, "\\\\", 2); break;
		case '\n': ss_buf_add(b, "\\n", 2); break;
		case '\r': ss_buf_add(b, "\\r", 2); break;
		case '\t': ss_buf_add(b, "\\t", 2); break;
		case '\b': ss_buf_add(b, "\\b", 2); break;
		case '\f': ss_buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };

			ss_buf_add(b, u, 6);
		}
		}
		p++;
	}
	ss_buf_addc(b, '"');
}

void
ss_json_dump(struct ss_buf *b, const json_t *v)
{
	char num[64];
	int n;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		void *it = json_object_iter((json_t *)v);
		int first = 1;

		ss_buf_addc(b, '{');
		while (it != NULL) {
			if (!first)
				ss_buf_addc(b, ',');
			first = 0;
			ss_json_dump_str(b, json_object_iter_key(it), json_object_iter_key_len(it));
			ss_buf_addc(b, ':');
			ss_json_dump(b, json_object_iter_value(it));
			it = json_object_iter_next((json_t *)v, it);
		}
		ss_buf_addc(b, '}');
		break;
	}
	case JSON_ARRAY: {
		size_t i, sz = json_array_size(v);

		ss_buf_addc(b, '[');
		for (i = 0; i < sz; i++) {
			if (i)
				ss_buf_addc(b, ',');
			ss_json_dump(b, json_array_get(v, i));
		}
		ss_buf_addc(b, ']');
		break;
	}
	case JSON_STRING:
		ss_json_dump_str(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		ss_buf_add(b, num, (size_t)n);
		break;
	case JSON_REAL: {
		double d = json_real_value(v);

		if (!isfinite(d)) {
			ss_buf_adds(b, "null");
			break;
		}
		n = snprintf(num, sizeof(num), "%.17g", d);
		ss_buf_add(b, num, (size_t)n);
		if (strpbrk(num, ".eE") == NULL)
			ss_buf_add(b, ".0", 2);
		break;
	}
	case JSON_TRUE:
		ss_buf_add(b, "true", 4);
		break;
	case JSON_FALSE:
		ss_buf_add(b, "false", 5);
		break;
	case JSON_NULL:
		ss_buf_add(b, "null", 4);
		break;
	}
}

void
ss_json_decode_string(const char **p, const char *end, struct ss_buf *tmp, const char **s,
		      size_t *len)
{
	struct jp j = {
		.base = (const unsigned char *)*p,
		.p = (const unsigned char *)*p,
		.end = (const unsigned char *)end,
		.tmp = *tmp,
	};

	/* the text was validated by jp_skip(): jp_string() cannot fail */
	if (jp_string(&j, s, len) < 0) {
		*s = "";
		*len = 0;
	}
	*tmp = j.tmp;
	*p = (const char *)j.p;
}

/* ---- one value of a larger text (batches, control/rpc.c) ---------------- */

int
ss_json_skip_at(const char *text, size_t len, size_t *off, char *err, size_t errlen)
{
	struct jp j = {
		.base = (const unsigned char *)text,
		.p = (const unsigned char *)text + *off,
		.end = (const unsigned char *)text + len,
		.err = err,
		.errlen = errlen,
	};
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ss_buf_init(&j.tmp);
	ss_buf_init(&j.keys);
	/* an element of a top-level array sits at depth 1 */
	rc = jp_skip(&j, 1);
	ss_buf_free(&j.tmp);
	ss_buf_free(&j.keys);
	if (rc == 0)
		*off = (size_t)(j.p - j.base);
	return rc;
}

json_t *
ss_json_parse_at(const char *text, size_t len, size_t *off, char *err, size_t errlen)
{
	struct jp j = {
		.base = (const unsigned char *)text,
		.p = (const unsigned char *)text + *off,
		.end = (const unsigned char *)text + len,
		.err = err,
		.errlen = errlen,
	};
	json_t *v;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ss_buf_init(&j.tmp);
	jp_ws(&j);
	v = jp_value(&j, 1, 0);
	ss_buf_free(&j.tmp);
	if (v != NULL)
		*off = (size_t)(j.p - j.base);
	return v;
}
