/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Typed hand-over (types.h): decoding a normalised object into the C record
 * its type declares, and the arena the records and their long lists live
 * in. Objects reaching here were validated by the schema engine, so a value
 * that does not parse is an internal error (-EINVAL), not a user error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/objects.h"
#include "control/records.h"
#include "control/validate.h"

#define CHUNK (64u << 10)

struct ss_arena_chunk {
	struct ss_arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void
ss_arena_init(struct ss_arena *a)
{
	a->head = NULL;
}

void *
ss_arena_alloc(struct ss_arena *a, size_t size)
{
	struct ss_arena_chunk *c = a->head;
	size_t need = (size + 15) & ~(size_t)15;
	void *p;

	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > CHUNK ? need : CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

void
ss_arena_reset(struct ss_arena *a)
{
	struct ss_arena_chunk *c = a->head;

	if (c == NULL)
		return;
	a->head = c->next;
	ss_arena_free(a);
	c->used = 0;
	c->next = NULL;
	a->head = c;
}

void
ss_arena_free(struct ss_arena *a)
{
	struct ss_arena_chunk *c = a->head, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* ---- decoding ------------------------------------------------------------------------ */

static void
put_uint(void *dst, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)dst = (uint8_t)v; break;
	case 2: *(uint16_t *)dst = (uint16_t)v; break;
	case 4: *(uint32_t *)dst = (uint32_t)v; break;
	case 8: *(uint64_t *)dst = v; break;
	default: break;
	}
}

static int
dec_ip(const json_t *v, struct ss_rec_ip *out)
{
	char canon[SS_IP_STRLEN];
	const char *why;
	struct ss_ip ip;

	if (ss_parse_ip(json_string_value(v), json_string_length(v), 0, &ip, canon, &why) < 0)
		return -EINVAL;
	out->family = (uint8_t)ip.family;
	memcpy(out->bytes, ip.a, sizeof(out->bytes));
	return 0;
}

static int
dec_prefix(const json_t *v, struct ss_rec_prefix *out)
{
	char canon[SS_PREFIX_STRLEN];
	const char *why;
	struct ss_ip ip;
	int plen;

	if (!json_is_string(v) || ss_parse_prefix(json_string_value(v), json_string_length(v), 0,
						  &ip, &plen, canon, &why) < 0)
		return -EINVAL;
	out->family = (uint8_t)ip.family;
	out->len = (uint8_t)plen;
	memcpy(out->bytes, ip.a, sizeof(out->bytes));
	return 0;
}

static int dec_schema(const struct ss_schema *s, const json_t *obj, char *rec,
		      struct ss_arena *a);

static size_t
elem_size(const struct ss_field *f)
{
	switch (f->kind) {
	case SS_F_NAMES: return SS_REC_NAME;
	case SS_F_PREFIXES: return sizeof(struct ss_rec_prefix);
	case SS_F_PORTS: return sizeof(struct ss_rec_port_range);
	case SS_F_PROTOS: return 1;
	default: return f->sub ? f->sub->rec_size : 0;
	}
}

static int
dec_elem(const struct ss_field *f, const json_t *e, char *dst, struct ss_arena *a)
{
	switch (f->kind) {
	case SS_F_NAMES:
		if (json_string_length(e) >= SS_REC_NAME)
			return -EINVAL;
		memcpy(dst, json_string_value(e), json_string_length(e) + 1);
		return 0;
	case SS_F_PREFIXES:
		return dec_prefix(e, (struct ss_rec_prefix *)dst);
	case SS_F_PROTOS:
		*(uint8_t *)dst = (uint8_t)json_integer_value(e);
		return 0;
	case SS_F_PORTS: {
		struct ss_rec_port_range *r = (struct ss_rec_port_range *)dst;
		unsigned lo, hi;
		const char *why;

		if (json_is_integer(e)) {
			r->lo = r->hi = (uint16_t)json_integer_value(e);
			return 0;
		}
		if (ss_parse_port_range(json_string_value(e), json_string_length(e), &lo, &hi,
					&why) < 0)
			return -EINVAL;
		r->lo = (uint16_t)lo;
		r->hi = (uint16_t)hi;
		return 0;
	}
	default:
		return dec_schema(f->sub, e, dst, a);
	}
}

static int
dec_list(const struct ss_field *f, const json_t *v, char *rec, struct ss_arena *a)
{
	size_t es = elem_size(f), n = json_array_size(v), i;
	char *dst;
	int rc;

	if (es == 0)
		return 0;
	if (f->cnt_off == SS_REC_VEC_MARK) {
		struct ss_rec_vec *vec = (struct ss_rec_vec *)(rec + f->off);

		dst = n ? ss_arena_alloc(a, n * es) : NULL;
		if (n && dst == NULL)
			return -ENOMEM;
		vec->n = (uint32_t)n;
		vec->v = dst;
	} else {
		if (n * es > f->size)
			return -EINVAL;      /* the record holds fewer than `max` */
		dst = rec + f->off;
		*(uint32_t *)(rec + f->cnt_off) = (uint32_t)n;
	}
	for (i = 0; i < n; i++) {
		rc = dec_elem(f, json_array_get(v, i), dst + i * es, a);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
dec_field(const struct ss_field *f, const json_t *v, char *rec, struct ss_arena *a)
{
	char *dst = rec + f->off;
	uint8_t mac[6];
	char canon[18];
	const char *why;
	int i;

	switch (f->kind) {
	case SS_F_NAME:
		if (json_string_length(v) >= f->size)
			return -EINVAL;
		memcpy(dst, json_string_value(v), json_string_length(v) + 1);
		return 0;
	case SS_F_IP:
	case SS_F_IP4:
	case SS_F_IP6:
		return f->size == sizeof(struct ss_rec_ip) ? dec_ip(v, (struct ss_rec_ip *)dst)
							   : -EINVAL;
	case SS_F_PREFIX:
		return f->size == sizeof(struct ss_rec_prefix)
			       ? dec_prefix(v, (struct ss_rec_prefix *)dst) : -EINVAL;
	case SS_F_MAC:
		if (f->size != 6 || ss_parse_mac(json_string_value(v), json_string_length(v), 0, mac,
						 canon, &why) < 0)
			return -EINVAL;
		memcpy(dst, mac, 6);
		return 0;
	case SS_F_UINT:
	case SS_F_VLAN:
		put_uint(dst, f->size, (uint64_t)json_integer_value(v));
		return 0;
	case SS_F_BOOL:
		*(bool *)dst = json_is_true(v);
		return 0;
	case SS_F_REAL:
		if (f->size != sizeof(double))
			return -EINVAL;
		*(double *)dst = json_number_value(v);
		return 0;
	case SS_F_ENUM:
		if (f->size >= SS_REC_NAME) {          /* as text */
			if (json_string_length(v) >= f->size)
				return -EINVAL;
			memcpy(dst, json_string_value(v), json_string_length(v) + 1);
			return 0;
		}
		for (i = 0; f->enums[i] != NULL; i++)
			if (strcmp(f->enums[i], json_string_value(v)) == 0) {
				put_uint(dst, f->size, (uint64_t)i);
				return 0;
			}
		return -EINVAL;
	case SS_F_OBJ:
		return dec_schema(f->sub, v, dst, a);
	default:
		return dec_list(f, v, rec, a);
	}
}

static int
dec_schema(const struct ss_schema *s, const json_t *obj, char *rec, struct ss_arena *a)
{
	uint64_t pres = 0;
	unsigned i;
	int rc;

	for (i = 0; i < s->n; i++) {
		const struct ss_field *f = &s->f[i];
		const json_t *v = json_object_get(obj, f->name);

		if (v == NULL || json_is_null(v))
			continue;
		pres |= 1ull << i;
		if (f->size == 0)
			continue;
		rc = dec_field(f, v, rec, a);
		if (rc < 0)
			return rc;
	}
	if (s->pres_off >= 0)
		memcpy(rec + s->pres_off, &pres, sizeof(pres));
	return 0;
}

const void *
ss_rec_decode(const struct ss_type *t, const json_t *obj, struct ss_arena *a, int *rc)
{
	const struct ss_type_ext *x;
	char *rec;

	*rc = 0;
	if (obj == NULL)
		return NULL;
	rec = ss_arena_alloc(a, t->rec_size ? t->rec_size : 1);
	if (rec == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	if (t->decl.rec_size && (*rc = dec_schema(&t->decl, obj, rec, a)) < 0)
		return NULL;
	for (x = t->ext; x != NULL; x = x->next)
		if (x->schema.rec_size &&
		    (*rc = dec_schema(&x->schema, obj, rec + x->rec_off, a)) < 0)
			return NULL;
	return rec;
}

/* ---- decoding the stored text ------------------------------------------------------ */

/* A dotted quad as the store spells it (canonical: no leading zeros
 * needed here, anything else is left to ss_parse_ip). 0 or -1. */
static int
txt_ip4(const char *s, size_t len, uint8_t out[4])
{
	const char *end = s + len;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = 0, nd = 0;

		while (s < end && *s >= '0' && *s <= '9' && nd < 3) {
			v = v * 10 + (unsigned)(*s++ - '0');
			nd++;
		}
		if (nd == 0 || v > 255 || (i < 3 && (s >= end || *s++ != '.')))
			return -1;
		out[i] = (uint8_t)v;
	}
	return s == end ? 0 : -1;
}

static int
txt_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* aa:bb:cc:dd:ee:ff in lower case (the stored form). 0 or -1. */
static int
txt_mac(const char *s, size_t len, uint8_t mac[6])
{
	int i;

	if (len != 17)
		return -1;
	for (i = 0; i < 6; i++) {
		int h = txt_hex(s[i * 3]), l = txt_hex(s[i * 3 + 1]);

		if (h < 0 || l < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

/* One scalar of the stored text (ss_schema_dump_compact: our own output,
 * no spaces): a string without escapes, an integer, true or false. 1 when
 * decoded, 0 when the field's kind or the value's form is not one this
 * reader handles (the caller decodes the node's jansson value instead),
 * -EINVAL when the value does not parse. */
static int
txt_field(const struct ss_field *f, const char *p, const char *e, char *rec)
{
	char *dst = rec + f->off;
	const char *s = p + 1, *why;
	size_t len = (size_t)(e - p) - 2;
	char canon[SS_PREFIX_STRLEN];
	struct ss_ip ip;
	int plen, i;

	if (*p == '"' && (e - p < 2 || e[-1] != '"' || memchr(s, '\\', len) != NULL))
		return 0;
	switch (f->kind) {
	case SS_F_NAME:
		if (*p != '"' || len >= f->size)
			return *p != '"' ? 0 : -EINVAL;
		memcpy(dst, s, len);
		dst[len] = '\0';
		return 1;
	case SS_F_IP:
	case SS_F_IP4:
	case SS_F_IP6: {
		struct ss_rec_ip *out = (struct ss_rec_ip *)dst;

		if (*p != '"' || f->size != sizeof(*out))
			return 0;
		memset(ip.a, 0, sizeof(ip.a));
		if (txt_ip4(s, len, ip.a) == 0)
			ip.family = AF_INET;
		else if (ss_parse_ip(s, len, 0, &ip, canon, &why) < 0)
			return -EINVAL;
		out->family = (uint8_t)ip.family;
		memcpy(out->bytes, ip.a, sizeof(out->bytes));
		return 1;
	}
	case SS_F_PREFIX: {
		struct ss_rec_prefix *out = (struct ss_rec_prefix *)dst;

		if (*p != '"' || f->size != sizeof(*out) ||
		    ss_parse_prefix(s, len, 0, &ip, &plen, canon, &why) < 0)
			return *p != '"' ? 0 : -EINVAL;
		out->family = (uint8_t)ip.family;
		out->len = (uint8_t)plen;
		memcpy(out->bytes, ip.a, sizeof(out->bytes));
		return 1;
	}
	case SS_F_MAC:
		if (*p != '"' || f->size != 6)
			return 0;
		if (txt_mac(s, len, (uint8_t *)dst) < 0 &&
		    ss_parse_mac(s, len, 0, (uint8_t *)dst, canon, &why) < 0)
			return -EINVAL;
		return 1;
	case SS_F_UINT:
	case SS_F_VLAN: {
		uint64_t v = 0;

		if (*p < '0' || *p > '9')
			return 0;     /* negative, or not an integer */
		for (; p < e; p++) {
			if (*p < '0' || *p > '9' || v > UINT64_MAX / 10)
				return 0;
			v = v * 10 + (uint64_t)(*p - '0');
		}
		put_uint(dst, f->size, v);
		return 1;
	}
	case SS_F_BOOL:
		if (e - p == 4 && memcmp(p, "true", 4) == 0)
			*(bool *)dst = true;
		else if (e - p == 5 && memcmp(p, "false", 5) == 0)
			*(bool *)dst = false;
		else
			return 0;
		return 1;
	case SS_F_ENUM:
		if (*p != '"')
			return 0;
		if (f->size >= SS_REC_NAME) {          /* as text */
			if (len >= f->size)
				return -EINVAL;
			memcpy(dst, s, len);
			dst[len] = '\0';
			return 1;
		}
		for (i = 0; f->enums[i] != NULL; i++)
			if (strncmp(f->enums[i], s, len) == 0 && f->enums[i][len] == '\0') {
				put_uint(dst, f->size, (uint64_t)i);
				return 1;
			}
		return -EINVAL;
	default:
		return 0;     /* reals, lists, nested objects */
	}
}

/* The end of the scalar starting at p (a string, a number, a literal). */
static const char *
txt_end(const char *p, const char *end)
{
	if (*p == '"') {
		/* an escaped quote ends it early: txt_field() then finds the
		 * backslash and leaves the object to the jansson decoder */
		const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));

		return q != NULL ? q + 1 : end;
	}
	while (p < end && *p != ',' && *p != ']')
		p++;
	return p;
}

const void *
ss_rec_decode_text(const struct ss_type *t, const char *text, size_t len, struct ss_arena *a,
		   int *rc)
{
	const char *p = text + 1, *end = text + len;
	const struct ss_type_ext *x = t->ext;
	const struct ss_schema *s = &t->decl;
	uint64_t pres = 0;
	size_t base = 0;
	unsigned i = 0;
	char *rec;

	*rc = 0;
	if (len < 2 || text[0] != '[' || text[len - 1] != ']')
		return NULL;
	rec = ss_arena_alloc(a, t->rec_size ? t->rec_size : 1);
	if (rec == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	end--;   /* the closing ']' */
	for (;;) {
		const char *e;

		/* the fields of the declaration, then those of every extension,
		 * in the order of the stored values (t->schema) */
		while (i == s->n) {
			if (s->rec_size && s->pres_off >= 0)
				memcpy(rec + base + s->pres_off, &pres, sizeof(pres));
			if (x == NULL)
				return p >= end ? rec : NULL;
			s = &x->schema;
			base = x->rec_off;
			x = x->next;
			pres = 0;
			i = 0;
		}
		if (p >= end) {
			/* trailing absent fields are left out */
			i = s->n;
			continue;
		}
		if (*p == '[' || *p == '{')
			return NULL;   /* a list or a nested object */
		e = txt_end(p, end);
		if (!(e - p == 4 && memcmp(p, "null", 4) == 0)) {
			const struct ss_field *f = &s->f[i];

			pres |= 1ull << i;
			if (f->size != 0 && s->rec_size != 0) {
				int r = txt_field(f, p, e, rec + base);

				if (r <= 0) {
					*rc = r;
					return NULL;
				}
			}
		}
		i++;
		p = e < end ? e + 1 : e;   /* past the ',' */
	}
}

const void *
ss_rec_from_json(const struct ss_type *t, json_t *obj, struct ss_arena *a, struct ss_err *err)
{
	char msg[160];
	const void *rec;
	int rc;

	if (ss_types_seal(msg, sizeof(msg)) < 0) {
		ss_err_set(err, SS_RPC_INTERNAL, NULL, "object types: %s", msg);
		return NULL;
	}
	if (ss_schema_check(&t->schema, obj, SS_CHECK_FULL, err) < 0)
		return NULL;
	rec = ss_rec_decode(t, obj, a, &rc);
	if (rec == NULL)
		ss_err_set(err, SS_RPC_INTERNAL, NULL, "%s: %s", t->name,
			   rc == -ENOMEM ? "out of memory" : "record smaller than its schema allows");
	return rec;
}
