/* SPDX-License-Identifier: BSD-3-Clause
 *
 * RDMA policy table: from the store's normalised objects to the state the
 * workers read (rdma.h). Control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/common/meta.h"
#include "pipelines/rdma/rdma.h"
#include "pipelines/rdma/rdma_qp.h"

static int get_uint(const json_t *obj, const char *key, uint32_t max, uint32_t *out)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -EINVAL;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

int ss_rdma_settings_parse(const json_t *obj, struct ss_rdma_settings *out, char *err,
			   size_t errlen)
{
	uint32_t data, cnp, size, idle;

	if (get_uint(obj, "data_dscp", 63, &data) || get_uint(obj, "cnp_dscp", 63, &cnp) ||
	    get_uint(obj, "qp_table_size", 1u << 26, &size) || size == 0 ||
	    get_uint(obj, "qp_idle_timeout_ms", 86400000, &idle) || idle == 0) {
		snprintf(err, errlen, "rdma.config: data_dscp, cnp_dscp (0..63), qp_table_size "
			 "(1..%u) and qp_idle_timeout_ms (1..86400000) are required", 1u << 26);
		return -EINVAL;
	}
	out->data_dscp = (uint8_t)data;
	out->cnp_dscp = (uint8_t)cnp;
	out->qp_table_size = size;
	out->qp_idle_timeout_ms = idle;
	return 0;
}

int ss_rdma_prefix_parse(const char *s, int *family, uint8_t addr[16], unsigned int *len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = s ? strchr(s, '/') : NULL;
	char *end;
	long l;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	memset(addr, 0, 16);
	l = strtol(slash + 1, &end, 10);
	if (*end != '\0' || end == slash + 1 || l < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, buf, addr) == 1 && l <= 32)
		*family = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1 && l <= 128)
		*family = 6;
	else
		return -EINVAL;
	*len = (unsigned int)l;
	return 0;
}

/* Network-order mask of `len` leading bits over 16 bytes. */
static void prefix_mask(unsigned int len, uint8_t m[16])
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = len > i * 8 ? len - i * 8 : 0;
		m[i] = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

static void *mem_zalloc(const struct ss_rdma_env *env, size_t sz)
{
	return env->mem->zalloc(sz ? sz : 1, env->sockets && env->nb_workers ? env->sockets[0] : -1);
}

struct ss_rdma_qpset *ss_rdma_qpset_new(const struct ss_rdma_env *env, uint32_t size)
{
	struct ss_rdma_qpset *q = env->mem->zalloc(sizeof(*q), -1);
	uint32_t per = env->nb_workers ? (size + env->nb_workers - 1) / env->nb_workers : size;

	if (q == NULL)
		return NULL;
	q->size = size;
	for (unsigned int w = 0; w < env->nb_workers; w++) {
		size_t sz = ss_rdma_qpt_memsize(per ? per : 1);
		void *mem = sz ? env->mem->zalloc(sz, env->sockets[w]) : NULL;

		if (mem == NULL) {
			ss_rdma_qpset_free(env->mem, q);
			errno = ENOMEM;
			return NULL;
		}
		q->t[w] = ss_rdma_qpt_init(mem, per ? per : 1);
		q->nb++;
	}
	return q;
}

void ss_rdma_qpset_free(const struct ss_rdma_mem *mem, struct ss_rdma_qpset *q)
{
	if (q == NULL)
		return;
	for (uint32_t w = 0; w < q->nb; w++)
		mem->free(q->t[w]);
	mem->free(q);
}

void ss_rdma_state_free(const struct ss_rdma_mem *mem, struct ss_rdma_state *st)
{
	if (st == NULL)
		return;
	for (uint32_t i = 0; st->names && i < st->nb_pol; i++)
		free(st->names[i]);
	for (unsigned int w = 0; w < SS_MAX_WORKERS; w++)
		mem->free(st->ctr[w]);
	free(st->names);
	free(st->priority);
	free(st->lossless);
	mem->free(st->m4);
	mem->free(st->m6);
	mem->free(st->act);
	mem->free(st);
}

struct sorted {
	const json_t *obj;
	const char *name;
	uint32_t priority;
};

static int cmp_sorted(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
				&b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* One policy into the action at st->act[i] and its match. */
static int compile_one(const struct ss_rdma_env *env, const struct ss_rdma_settings *cfg,
		       struct ss_rdma_state *st, uint32_t i, const json_t *obj, char *err,
		       size_t errlen)
{
	const char *name = json_string_value(json_object_get(obj, "name"));
	const json_t *match = json_object_get(obj, "match");
	const json_t *action = json_object_get(obj, "action");
	const char *dstp = json_string_value(json_object_get(match, "dst_prefix"));
	const char *srcp = json_string_value(json_object_get(match, "src_prefix"));
	const json_t *qpv = json_object_get(match, "dst_qp");
	const char *port = json_string_value(json_object_get(action, "port"));
	const char *queue = json_string_value(json_object_get(action, "queue"));
	const char *encap = json_string_value(json_object_get(action, "encap"));
	const json_t *dscpv = json_object_get(action, "dscp");
	const json_t *pcpv = json_object_get(action, "pcp");
	struct ss_rdma_action *a = &st->act[i];
	struct ss_rdma_port_info pi;
	uint8_t daddr[16], saddr[16] = { 0 }, dm[16], sm[16];
	unsigned int dlen, slen = 0;
	int dfam, sfam;

	if (ss_rdma_prefix_parse(dstp, &dfam, daddr, &dlen) != 0) {
		snprintf(err, errlen, "rdma.policy %s: match.dst_prefix \"%s\" is not a prefix", name,
			 dstp ? dstp : "");
		return -EINVAL;
	}
	if (srcp && (ss_rdma_prefix_parse(srcp, &sfam, saddr, &slen) != 0 || sfam != dfam)) {
		snprintf(err, errlen, "rdma.policy %s: match.src_prefix \"%s\" is not a prefix of "
			 "dst_prefix's family", name, srcp);
		return -EINVAL;
	}
	if (port == NULL || env->port(env->arg, port, &pi) != 0) {
		snprintf(err, errlen, "rdma.policy %s: action.port \"%s\" is not a port", name,
			 port ? port : "");
		return -ENOENT;
	}
	if (parse_mac(json_string_value(json_object_get(action, "next_hop_mac")), a->dmac) != 0) {
		snprintf(err, errlen, "rdma.policy %s: action.next_hop_mac is not a MAC", name);
		return -EINVAL;
	}
	memcpy(a->smac, pi.mac, 6);
	a->out_port = pi.index;
	st->lossless[i] = queue && strcmp(queue, "lossless") == 0 && pi.lossless_lane;
	a->tx_class = st->lossless[i] ? SS_TX_LOSSLESS : SS_TX_DEFAULT;
	a->dscp = json_is_integer(dscpv) ? (uint8_t)(json_integer_value(dscpv) & 63) : cfg->data_dscp;
	a->pcp = json_is_integer(pcpv) ? (uint8_t)(json_integer_value(pcpv) & 7) : SS_RDMA_NO_PCP;
	a->encap = encap && strcmp(encap, "vnet") == 0 ? SS_RDMA_ENCAP_VNET : SS_RDMA_ENCAP_NONE;
	a->eni = 0;
	if (a->encap == SS_RDMA_ENCAP_VNET) {
		const char *eni = json_string_value(json_object_get(action, "eni"));
		int idx;

		if (env->eni == NULL) {
			snprintf(err, errlen, "rdma.policy %s: action.encap vnet needs the overlay",
				 name);
			return -ENOTSUP;
		}
		idx = eni ? env->eni(env->arg, eni) : -1;
		if (idx <= 0) {
			snprintf(err, errlen, "rdma.policy %s: action.eni \"%s\" is not an ENI", name,
				 eni ? eni : "");
			return -ENOENT;
		}
		a->eni = (uint32_t)idx;
	}

	prefix_mask(dlen, dm);
	prefix_mask(srcp ? slen : 0, sm);
	uint32_t qp = json_is_integer(qpv) ? (uint32_t)json_integer_value(qpv) & 0xffffff : 0;
	uint32_t qpmask = json_is_integer(qpv) ? 0xffffff : 0;
	if (dfam == 4) {
		struct ss_rdma_match4 *m = &st->m4[st->nb4++];
		uint32_t v;

		memcpy(&v, dm, 4);
		m->dmask = rte_be_to_cpu_32(v);
		memcpy(&v, daddr, 4);
		m->dst = rte_be_to_cpu_32(v) & m->dmask;
		memcpy(&v, sm, 4);
		m->smask = rte_be_to_cpu_32(v);
		memcpy(&v, saddr, 4);
		m->src = rte_be_to_cpu_32(v) & m->smask;
		m->qp = qp;
		m->qpmask = qpmask;
		m->pol = (uint16_t)i;
	} else {
		struct ss_rdma_match6 *m = &st->m6[st->nb6++];

		memcpy(m->dmask, dm, 16);
		memcpy(m->smask, sm, 16);
		memcpy(m->dst, daddr, 16);
		memcpy(m->src, saddr, 16);
		for (int k = 0; k < 2; k++) {
			m->dst[k] &= m->dmask[k];
			m->src[k] &= m->smask[k];
		}
		m->qp = qp;
		m->qpmask = qpmask;
		m->pol = (uint16_t)i;
	}
	return 0;
}

int ss_rdma_state_build(const struct ss_rdma_env *env, const struct ss_rdma_settings *cfg,
			const json_t *const *pols, size_t n, struct ss_rdma_qpset *qps,
			uint32_t gen, struct ss_rdma_state **out, char *err, size_t errlen)
{
	struct ss_rdma_state *st = NULL;
	struct sorted *s = NULL;
	int rc = -ENOMEM;

	*out = NULL;
	if (n > SS_RDMA_MAX_POLICIES) {
		snprintf(err, errlen, "%zu rdma policies: the data plane holds at most %u", n,
			 SS_RDMA_MAX_POLICIES);
		return -ENOSPC;
	}
	s = calloc(n ? n : 1, sizeof(*s));
	st = env->mem->zalloc(sizeof(*st), -1);
	if (s == NULL || st == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		json_int_t prio = json_integer_value(json_object_get(pols[i], "priority"));

		s[i].obj = pols[i];
		s[i].name = json_string_value(json_object_get(pols[i], "name"));
		s[i].priority = prio < 0 ? 0 : prio > UINT32_MAX ? UINT32_MAX : (uint32_t)prio;
		if (s[i].name == NULL) {
			snprintf(err, errlen, "rdma.policy without a name");
			rc = -EINVAL;
			goto fail;
		}
	}
	qsort(s, n, sizeof(*s), cmp_sorted);
	st->gen = gen ? gen : 1;
	st->cnp_dscp = cfg->cnp_dscp;
	st->idle_tsc = (uint64_t)cfg->qp_idle_timeout_ms * (env->tsc_hz / 1000);
	st->qps = qps;
	st->nb_pol = (uint32_t)n;
	st->m4 = mem_zalloc(env, n * sizeof(*st->m4));
	st->m6 = mem_zalloc(env, n * sizeof(*st->m6));
	st->act = mem_zalloc(env, n * sizeof(*st->act));
	st->names = calloc(n ? n : 1, sizeof(char *));
	st->priority = calloc(n ? n : 1, sizeof(uint32_t));
	st->lossless = calloc(n ? n : 1, sizeof(bool));
	if (st->m4 == NULL || st->m6 == NULL || st->act == NULL || st->names == NULL ||
	    st->priority == NULL || st->lossless == NULL)
		goto fail;
	for (unsigned int w = 0; w < env->nb_workers; w++) {
		st->ctr[w] = env->mem->zalloc((n ? n : 1) * sizeof(struct ss_rdma_pctr),
					      env->sockets[w]);
		if (st->ctr[w] == NULL)
			goto fail;
	}
	for (uint32_t i = 0; i < n; i++) {
		st->names[i] = strdup(s[i].name);
		st->priority[i] = s[i].priority;
		if (st->names[i] == NULL)
			goto fail;
		rc = compile_one(env, cfg, st, i, s[i].obj, err, errlen);
		if (rc != 0)
			goto fail;
	}
	free(s);
	*out = st;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory building the rdma policy table");
	free(s);
	ss_rdma_state_free(env->mem, st);
	return rc;
}

int ss_rdma_state_find(const struct ss_rdma_state *st, const char *name)
{
	for (uint32_t i = 0; st && i < st->nb_pol; i++)
		if (strcmp(st->names[i], name) == 0)
			return (int)i;
	return -1;
}

void ss_rdma_state_counters(const struct ss_rdma_state *st, unsigned int nb_workers, uint32_t i,
			    uint64_t *packets, uint64_t *bytes)
{
	*packets = *bytes = 0;
	for (unsigned int w = 0; w < nb_workers && w < SS_MAX_WORKERS; w++) {
		if (st->ctr[w] == NULL)
			continue;
		*packets += __atomic_load_n(&st->ctr[w][i].packets, __ATOMIC_RELAXED);
		*bytes += __atomic_load_n(&st->ctr[w][i].bytes, __ATOMIC_RELAXED);
	}
}
