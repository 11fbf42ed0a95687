/* SPDX-License-Identifier: BSD-3-Clause
 *
 * RDMA policy table: from the store's rdma.policy records (rdma_types.h) to
 * the state the workers read (rdma.h). Control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pipelines/common/meta.h"
#include "pipelines/rdma/rdma.h"
#include "pipelines/rdma/rdma_qp.h"

int ss_rdma_settings_parse(const struct ss_rdma_config_rec *rec, struct ss_rdma_settings *out,
			   char *err, size_t errlen)
{
	if (rec->data_dscp > 63 || rec->cnp_dscp > 63 || rec->qp_table_size == 0 ||
	    rec->qp_table_size > 1u << 26 || rec->qp_idle_timeout_ms == 0 ||
	    rec->qp_idle_timeout_ms > 86400000) {
		snprintf(err, errlen, "rdma.config: data_dscp, cnp_dscp (0..63), qp_table_size "
			 "(1..%u) and qp_idle_timeout_ms (1..86400000) are required", 1u << 26);
		return -EINVAL;
	}
	out->data_dscp = rec->data_dscp;
	out->cnp_dscp = rec->cnp_dscp;
	out->qp_table_size = rec->qp_table_size;
	out->qp_idle_timeout_ms = rec->qp_idle_timeout_ms;
	return 0;
}

/* A record prefix -> family (4 or 6), 16 address bytes and length; 0, or
 * -EINVAL when absent or longer than its family allows. */
static int prefix_of(const struct ss_rec_prefix *p, int *family, uint8_t addr[16],
		     unsigned int *len)
{
	if (p->family == AF_INET && p->len <= 32)
		*family = 4;
	else if (p->family == AF_INET6 && p->len <= 128)
		*family = 6;
	else
		return -EINVAL;
	memset(addr, 0, 16);
	memcpy(addr, p->bytes, *family == 4 ? 4 : 16);
	*len = p->len;
	return 0;
}

/* "addr/len" of a record prefix for messages ("" when absent). */
static const char *prefix_str(const struct ss_rec_prefix *p, char *buf, size_t len)
{
	size_t l;

	buf[0] = '\0';
	if ((p->family != AF_INET && p->family != AF_INET6) ||
	    inet_ntop(p->family, p->bytes, buf, (socklen_t)len) == NULL) {
		buf[0] = '\0';
		return buf;
	}
	l = strlen(buf);
	snprintf(buf + l, len - l, "/%u", p->len);
	return buf;
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
	const struct ss_rdma_policy_rec *rec;
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

#define HAS(rec, f) (((rec)->present >> (f)) & 1)

/* One policy into the action at st->act[i] and its match. */
static int compile_one(const struct ss_rdma_env *env, const struct ss_rdma_settings *cfg,
		       struct ss_rdma_state *st, uint32_t i, const struct ss_rdma_policy_rec *rec,
		       char *err, size_t errlen)
{
	const struct ss_rdma_match_rec *match = &rec->match;
	const struct ss_rdma_action_rec *action = &rec->action;
	const char *name = rec->name;
	bool has_src = HAS(match, SS_RDMA_MATCH_F_SRC_PREFIX);
	bool has_qp = HAS(match, SS_RDMA_MATCH_F_DST_QP);
	struct ss_rdma_action *a = &st->act[i];
	struct ss_rdma_port_info pi;
	uint8_t daddr[16], saddr[16] = { 0 }, dm[16], sm[16];
	char pbuf[INET6_ADDRSTRLEN + 8];
	unsigned int dlen, slen = 0;
	int dfam, sfam;

	if (prefix_of(&match->dst_prefix, &dfam, daddr, &dlen) != 0) {
		snprintf(err, errlen, "rdma.policy %s: match.dst_prefix \"%s\" is not a prefix", name,
			 prefix_str(&match->dst_prefix, pbuf, sizeof(pbuf)));
		return -EINVAL;
	}
	if (has_src && (prefix_of(&match->src_prefix, &sfam, saddr, &slen) != 0 || sfam != dfam)) {
		snprintf(err, errlen, "rdma.policy %s: match.src_prefix \"%s\" is not a prefix of "
			 "dst_prefix's family", name,
			 prefix_str(&match->src_prefix, pbuf, sizeof(pbuf)));
		return -EINVAL;
	}
	if (action->port[0] == '\0' || env->port(env->arg, action->port, &pi) != 0) {
		snprintf(err, errlen, "rdma.policy %s: action.port \"%s\" is not a port", name,
			 action->port);
		return -ENOENT;
	}
	if (!HAS(action, SS_RDMA_ACTION_F_NEXT_HOP_MAC)) {
		snprintf(err, errlen, "rdma.policy %s: action.next_hop_mac is not a MAC", name);
		return -EINVAL;
	}
	memcpy(a->dmac, action->next_hop_mac, 6);
	memcpy(a->smac, pi.mac, 6);
	a->out_port = pi.index;
	st->lossless[i] = HAS(action, SS_RDMA_ACTION_F_QUEUE) &&
			  action->queue == SS_RDMA_LOSSLESS && pi.lossless_lane;
	a->tx_class = st->lossless[i] ? SS_TX_LOSSLESS : SS_TX_DEFAULT;
	a->dscp = HAS(action, SS_RDMA_ACTION_F_DSCP) ? (uint8_t)(action->dscp & 63) : cfg->data_dscp;
	a->pcp = HAS(action, SS_RDMA_ACTION_F_PCP) ? (uint8_t)(action->pcp & 7) : SS_RDMA_NO_PCP;
	a->encap = HAS(action, SS_RDMA_ACTION_F_ENCAP) && action->encap == SS_RDMA_REC_ENCAP_VNET
			   ? SS_RDMA_ENCAP_VNET : SS_RDMA_ENCAP_NONE;
	a->eni = 0;
	if (a->encap == SS_RDMA_ENCAP_VNET) {
		int idx;

		if (env->eni == NULL) {
			snprintf(err, errlen, "rdma.policy %s: action.encap vnet needs the overlay",
				 name);
			return -ENOTSUP;
		}
		idx = action->eni[0] ? env->eni(env->arg, action->eni) : -1;
		if (idx <= 0) {
			snprintf(err, errlen, "rdma.policy %s: action.eni \"%s\" is not an ENI", name,
				 action->eni);
			return -ENOENT;
		}
		a->eni = (uint32_t)idx;
	}

	prefix_mask(dlen, dm);
	prefix_mask(has_src ? slen : 0, sm);
	uint32_t qp = has_qp ? match->dst_qp & 0xffffff : 0;
	uint32_t qpmask = has_qp ? 0xffffff : 0;
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
			const struct ss_rdma_policy_rec *pols, size_t n, struct ss_rdma_qpset *qps,
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
		s[i].rec = &pols[i];
		s[i].name = pols[i].name;
		s[i].priority = pols[i].priority;
		if (s[i].name[0] == '\0') {
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
		rc = compile_one(env, cfg, st, i, s[i].rec, err, errlen);
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
