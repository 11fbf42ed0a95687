/* SPDX-License-Identifier: BSD-3-Clause
 *
 * acl_rule records (acl_types.h) -> struct ss_acl_rule. The control plane
 * has validated and decoded the object: prefixes in the group's family
 * with host bits cleared, port ranges lo <= hi, protocols 0..255. The
 * checks here are a second line: a malformed record is refused, never
 * guessed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pipelines/acl/acl.h"

static int prefix_of(const struct ss_rec_prefix *in, int v6, struct ss_acl_prefix *p)
{
	unsigned int max = v6 ? 128u : 32u;

	if (in->family != (v6 ? AF_INET6 : AF_INET) || in->len > max)
		return -1;
	memset(p->addr, 0, sizeof(p->addr));
	memcpy(p->addr, in->bytes, v6 ? 16 : 4);
	p->len = in->len;
	/* clear host bits: the classifier and the reference agree on the
	 * network whatever the record said */
	for (unsigned int bit = in->len; bit < max; bit++)
		p->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return 0;
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

struct ss_acl_rule *ss_acl_rule_parse(const struct ss_acl_rule_rec *rec, int v6, char *err,
				      size_t errlen)
{
	static const char *const lists[] = { "src", "dst", "protocols", "src_ports", "dst_ports" };
	const struct ss_rec_vec *vec[5] = { &rec->src, &rec->dst, &rec->protocols,
					    &rec->src_ports, &rec->dst_ports };
	const struct ss_rec_prefix *pfx;
	const struct ss_rec_port_range *rng;
	struct ss_acl_rule *r;
	size_t len[5], i;
	uint8_t *mem;

	if (rec->action != SS_ACL_ALLOW && rec->action != SS_ACL_DENY) {
		snprintf(err, errlen, "rule %u: action must be allow or deny", rec->priority);
		return NULL;
	}
	for (i = 0; i < 5; i++) {
		len[i] = vec[i]->n;
		if (len[i] > UINT16_MAX || (len[i] != 0 && vec[i]->v == NULL)) {
			snprintf(err, errlen, "rule %u: %s must be a list of at most %u",
				 rec->priority, lists[i], UINT16_MAX);
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
	r->priority = rec->priority;
	r->allow = rec->action == SS_ACL_ALLOW;
	r->terminating = rec->terminating;
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

	for (i = 0; i < (size_t)r->nsrc + r->ndst; i++) {
		int is_src = i < r->nsrc;
		size_t k = is_src ? i : i - r->nsrc;

		pfx = (const struct ss_rec_prefix *)(is_src ? rec->src.v : rec->dst.v) + k;
		if (prefix_of(pfx, v6, is_src ? &r->src[k] : &r->dst[k]) < 0) {
			snprintf(err, errlen, "rule %u: %s[%zu]: not an %s prefix", r->priority,
				 is_src ? "src" : "dst", k, v6 ? "IPv6" : "IPv4");
			goto fail;
		}
	}
	if (r->nproto)
		memcpy(r->proto, rec->protocols.v, r->nproto);
	for (i = 0; i < (size_t)r->nsport + r->ndport; i++) {
		int is_src = i < r->nsport;
		size_t k = is_src ? i : i - r->nsport;
		struct ss_acl_range *out = is_src ? &r->sport[k] : &r->dport[k];

		rng = (const struct ss_rec_port_range *)(is_src ? rec->src_ports.v
								: rec->dst_ports.v) + k;
		if (rng->lo > rng->hi) {
			snprintf(err, errlen, "rule %u: %s[%zu]: a port or \"lo-hi\" is required",
				 r->priority, is_src ? "src_ports" : "dst_ports", k);
			goto fail;
		}
		out->lo = rng->lo;
		out->hi = rng->hi;
	}
	return r;
fail:
	free(r);
	return NULL;
}
