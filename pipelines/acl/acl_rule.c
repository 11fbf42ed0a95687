/* SPDX-License-Identifier: BSD-3-Clause
 *
 * acl_rule objects -> struct ss_acl_rule. The control plane has validated
 * and normalised the object (control/objects_acl.c): prefixes are
 * "addr/len" in the group's family with host bits cleared, ports are an
 * integer or "lo-hi", protocols integers, empty lists are absent. The checks
 * here are a second line: a malformed object is refused, never guessed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/acl/acl.h"

static int parse_prefix(const char *s, int v6, struct ss_acl_prefix *p)
{
	const char *slash = strchr(s, '/');
	char addr[INET6_ADDRSTRLEN];
	char *end;
	long len;
	size_t alen;

	if (slash == NULL)
		return -1;
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(p->addr, 0, sizeof(p->addr));
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, p->addr) != 1)
		return -1;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end != '\0' || end == slash + 1 || len < 0 || len > (v6 ? 128 : 32))
		return -1;
	p->len = (uint8_t)len;
	/* clear host bits: the classifier and the reference agree on the
	 * network whatever the text said */
	for (unsigned int bit = (unsigned int)len; bit < (v6 ? 128u : 32u); bit++)
		p->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return 0;
}

static int parse_range(const json_t *v, struct ss_acl_range *r)
{
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);

		if (x < 0 || x > 65535)
			return -1;
		r->lo = r->hi = (uint16_t)x;
		return 0;
	}
	if (json_is_string(v)) {
		unsigned int lo, hi;
		char tail;

		if (sscanf(json_string_value(v), "%u-%u%c", &lo, &hi, &tail) != 2 || lo > hi ||
		    hi > 65535)
			return -1;
		r->lo = (uint16_t)lo;
		r->hi = (uint16_t)hi;
		return 0;
	}
	return -1;
}

static size_t list_len(const json_t *obj, const char *key, int *bad)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		*bad = 1;
		return 0;
	}
	return json_array_size(v);
}

uint64_t ss_acl_rule_expansion(const struct ss_acl_rule *r)
{
	uint64_t n = 1;

	n *= r->nsrc ? r->nsrc : 1;
	n *= r->ndst ? r->ndst : 1;
	n *= r->nproto ? r->nproto : 1;
	n *= r->nsport ? r->nsport : 1;
	n *= r->ndport ? r->ndport : 1;
	return n;
}

struct ss_acl_rule *ss_acl_rule_parse(const json_t *obj, int v6, char *err, size_t errlen)
{
	static const char *const lists[] = { "src", "dst", "protocols", "src_ports", "dst_ports" };
	const json_t *prio = json_object_get(obj, "priority");
	const json_t *action = json_object_get(obj, "action");
	const json_t *term = json_object_get(obj, "terminating");
	size_t len[5], i;
	struct ss_acl_rule *r;
	uint8_t *mem;
	int bad = 0;

	if (!json_is_integer(prio) || json_integer_value(prio) < 0 ||
	    json_integer_value(prio) > UINT32_MAX) {
		snprintf(err, errlen, "priority: an integer 0..%u is required", UINT32_MAX);
		return NULL;
	}
	if (!json_is_string(action) || (strcmp(json_string_value(action), "allow") != 0 &&
					 strcmp(json_string_value(action), "deny") != 0)) {
		snprintf(err, errlen, "rule %" JSON_INTEGER_FORMAT ": action must be allow or deny",
			 json_integer_value(prio));
		return NULL;
	}
	if (term != NULL && !json_is_boolean(term)) {
		snprintf(err, errlen, "rule %" JSON_INTEGER_FORMAT ": terminating must be a boolean",
			 json_integer_value(prio));
		return NULL;
	}
	for (i = 0; i < 5; i++) {
		len[i] = list_len(obj, lists[i], &bad);
		if (bad || len[i] > UINT16_MAX) {
			snprintf(err, errlen, "rule %" JSON_INTEGER_FORMAT ": %s must be a list",
				 json_integer_value(prio), lists[i]);
			return NULL;
		}
	}
	r = calloc(1, sizeof(*r) + (len[0] + len[1]) * sizeof(struct ss_acl_prefix) +
			      (len[3] + len[4]) * sizeof(struct ss_acl_range) + len[2]);
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mem = (uint8_t *)(r + 1);
	r->priority = (uint32_t)json_integer_value(prio);
	r->allow = strcmp(json_string_value(action), "allow") == 0;
	r->terminating = term == NULL || json_is_true(term);
	r->nsrc = (uint16_t)len[0];
	r->ndst = (uint16_t)len[1];
	r->nproto = (uint16_t)len[2];
	r->nsport = (uint16_t)len[3];
	r->ndport = (uint16_t)len[4];
	/* ranges first: they need 2-byte alignment, prefixes and protocols none */
	r->sport = (struct ss_acl_range *)mem;
	r->dport = r->sport + r->nsport;
	r->src = (struct ss_acl_prefix *)(r->dport + r->ndport);
	r->dst = r->src + r->nsrc;
	r->proto = (uint8_t *)(r->dst + r->ndst);

	for (i = 0; i < r->nsrc + r->ndst; i++) {
		int is_src = i < r->nsrc;
		size_t k = is_src ? i : i - r->nsrc;
		const json_t *e = json_array_get(json_object_get(obj, is_src ? "src" : "dst"), k);
		struct ss_acl_prefix *p = is_src ? &r->src[k] : &r->dst[k];

		if (!json_is_string(e) || parse_prefix(json_string_value(e), v6, p) < 0) {
			snprintf(err, errlen, "rule %u: %s[%zu]: not an %s prefix", r->priority,
				 is_src ? "src" : "dst", k, v6 ? "IPv6" : "IPv4");
			goto fail;
		}
	}
	for (i = 0; i < r->nproto; i++) {
		const json_t *e = json_array_get(json_object_get(obj, "protocols"), i);

		if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 255) {
			snprintf(err, errlen, "rule %u: protocols[%zu]: 0..255 is required",
				 r->priority, i);
			goto fail;
		}
		r->proto[i] = (uint8_t)json_integer_value(e);
	}
	for (i = 0; i < (size_t)r->nsport + r->ndport; i++) {
		int is_src = i < r->nsport;
		size_t k = is_src ? i : i - r->nsport;
		const json_t *e =
			json_array_get(json_object_get(obj, is_src ? "src_ports" : "dst_ports"), k);

		if (parse_range(e, is_src ? &r->sport[k] : &r->dport[k]) < 0) {
			snprintf(err, errlen, "rule %u: %s[%zu]: a port or \"lo-hi\" is required",
				 r->priority, is_src ? "src_ports" : "dst_ports", k);
			goto fail;
		}
	}
	return r;
fail:
	free(r);
	return NULL;
}
