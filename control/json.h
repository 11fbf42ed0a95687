/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Fast JSON text <-> jansson values for the control plane.
 *
 * Why not json_loadb()/json_dumpb(): measured on the target machine, jansson
 * parses ~450k small objects/s and dumps ~1.5M/s, which alone rules out the
 * SPEC section 6 target of >= 1M mappings/s through the bulk API. The values
 * are still jansson values (the ctl.h contract hands json_t to the daemon);
 * only the text layer is ours. The parser is strict RFC 8259: UTF-8 checked,
 * no NUL in strings, duplicate keys refused, nesting depth bounded. It is
 * fuzzed (tests/fuzz/fuzz_ctl.c) against jansson's own parser.
 */
#ifndef SS_CTL_JSON_H
#define SS_CTL_JSON_H

#include <stddef.h>
#include <jansson.h>

/* A growable output buffer. On allocation failure `oom` is set and further
 * appends are ignored; check it once at the end. */
struct ss_buf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
};

void ss_buf_init(struct ss_buf *b);
void ss_buf_free(struct ss_buf *b);
/* Ensure room for `n` more bytes; 0 or -1 (oom set). */
int ss_buf_reserve(struct ss_buf *b, size_t n);
void ss_buf_add(struct ss_buf *b, const void *p, size_t n);
void ss_buf_addc(struct ss_buf *b, char c);
void ss_buf_adds(struct ss_buf *b, const char *s);
void ss_buf_addf(struct ss_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Detach the contents as a NUL-terminated malloc'd string (NULL on oom). */
char *ss_buf_steal(struct ss_buf *b);

#define SS_JSON_MAX_DEPTH 64

/* Parse exactly one JSON value (any type) from text[0..len), surrounded by
 * optional whitespace. Returns a new reference, or NULL with `err` filled
 * ("byte 12: invalid escape"). */
json_t *ss_json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Like ss_json_parse(), for a request line: when the value is an object
 * whose "params" object has an "entries" array, that array is validated
 * exactly as ss_json_parse() would but not built: its text span is
 * returned in *raw / *rawlen and params.entries holds null meanwhile
 * (bulk adds read the entries straight from the text, bulk.c). *raw is
 * NULL when there is no such array. */
json_t *ss_json_parse_lazy(const char *text, size_t len, const char **raw, size_t *rawlen,
			   char *err, size_t errlen);
/* One value of a larger text, as an element of a top-level array (a
 * batch): validate (skip) or parse the value starting at text[*off]
 * (leading whitespace allowed) and move *off past it. Errors give the byte
 * offset in `text`. Validation is exactly what ss_json_parse() checks. */
int ss_json_skip_at(const char *text, size_t len, size_t *off, char *err, size_t errlen);
json_t *ss_json_parse_at(const char *text, size_t len, size_t *off, char *err, size_t errlen);
/* Decode the string literal at *p (validated JSON, *p at the opening
 * quote): *s / *len point into the input or into tmp; *p moves past it. */
void ss_json_decode_string(const char **p, const char *end, struct ss_buf *tmp, const char **s,
			   size_t *len);

/* Append the compact serialisation of v (object keys in insertion order). */
void ss_json_dump(struct ss_buf *b, const json_t *v);
/* Append a JSON string literal for s[0..len). */
void ss_json_dump_str(struct ss_buf *b, const char *s, size_t len);

#endif /* SS_CTL_JSON_H */
