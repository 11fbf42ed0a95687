/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Hardware offload of RDMA policies through rte_flow and libibverbs. See
 * rdma_offload.h for how it follows the table's transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "pipelines/rdma/rdma.h"
#include "pipelines/rdma/rdma_offload.h"

/* rte_flow QUEUE target of fate QUEUE: the matched RoCE is pinned to rx
 * queue 0 of its ingress port (docs/rdma.md, "Offload"). */
#define RDMA_FLOW_RX_QUEUE 0

static unsigned int popcount_bytes(const void *p, unsigned int n)
{
	const uint8_t *b = p;
	unsigned int c = 0;

	for (unsigned int i = 0; i < n; i++)
		c += (unsigned int)__builtin_popcount(b[i]);
	return c;
}

/* The match of every policy, back from the state's match arrays. */
static void specs_from_state(const struct ss_rdma_state *st, struct ss_rdma_pol_ext *x)
{
	for (uint32_t k = 0; k < st->nb4; k++) {
		const struct ss_rdma_match4 *m = &st->m4[k];
		struct ss_rdma_flow_spec *f = &x[m->pol].fspec;
		uint32_t v;

		f->family = 4;
		v = rte_cpu_to_be_32(m->dst);
		memcpy(f->dst, &v, 4);
		v = rte_cpu_to_be_32(m->dmask);
		f->dst_len = popcount_bytes(&v, 4);
		f->has_src = m->smask != 0;
		v = rte_cpu_to_be_32(m->src);
		memcpy(f->src, &v, 4);
		v = rte_cpu_to_be_32(m->smask);
		f->src_len = popcount_bytes(&v, 4);
		f->has_qp = m->qpmask != 0;
		f->qp = m->qp;
	}
	for (uint32_t k = 0; k < st->nb6; k++) {
		const struct ss_rdma_match6 *m = &st->m6[k];
		struct ss_rdma_flow_spec *f = &x[m->pol].fspec;

		f->family = 6;
		memcpy(f->dst, m->dst, 16);
		f->dst_len = popcount_bytes(m->dmask, 16);
		f->has_src = (m->smask[0] | m->smask[1]) != 0;
		memcpy(f->src, m->src, 16);
		f->src_len = popcount_bytes(m->smask, 16);
		f->has_qp = m->qpmask != 0;
		f->qp = m->qp;
	}
}

static void add_reason(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf), m = strlen(s);

	if (strstr(buf, s) != NULL) /* the same refusal from several ports: once */
		return;
	if (n > 0) {
		if (n + 3 > len)
			return;
		memcpy(buf + n, "; ", 2);
		n += 2;
	}
	if (n + m >= len)
		m = len - n - 1;   /* truncated, still terminated */
	memcpy(buf + n, s, m);
	buf[n + m] = '\0';
}

static bool is_representor(uint16_t eth_id)
{
	struct rte_eth_dev_info info;

	return rte_eth_dev_info_get(eth_id, &info) == 0 && info.dev_flags != NULL &&
	       (*info.dev_flags & RTE_ETH_DEV_REPRESENTOR);
}

/* The rest of the rule of policy i: actions and fate. */
static void fill_fspec(struct ss_rdma_pol_ext *p, const struct ss_rdma_state *st, uint32_t i)
{
	const struct ss_rdma_action *a = &st->act[i];
	const struct ss_port *egress = &ss_ports.ports[a->out_port];

	p->fspec.dscp = a->dscp;
	p->fspec.priority = 2 * i + 1; /* rank order; 2i: the CNP companion rule */
	p->fspec.queue = RDMA_FLOW_RX_QUEUE;
	if (is_representor(egress->eth_id)) {
		p->fspec.fate = SS_RDMA_FLOW_REPRESENTED_PORT;
		p->fspec.port_id = egress->eth_id;
		memcpy(p->fspec.smac, a->smac, 6);
		memcpy(p->fspec.dmac, a->dmac, 6);
		p->transfer = true;
	}
}

/* rte_flow rules of one policy on every ingress port. True when every
 * ingress port took them. */
static bool install_rte_flow(struct ss_rdma_pol_ext *p, const struct ss_rdma_state *st,
			     uint32_t i)
{
	struct ss_rdma_flow_rule rule;
	unsigned int ports = 0, ok = 0;
	char why[256];
	for (uint16_t pi = 0; pi < ss_ports.nb_ports; pi++) {
		const struct ss_port *in = &ss_ports.ports[pi];
		struct ss_rdma_flow_spec s = p->fspec;

		if (in->role == SS_ROLE_FABRIC || in->peer != SS_PORT_NONE)
			continue; /* RoCE is steered from host and storage ports only */
		ports++;
		s.in_port_id = in->eth_id;
		bool done = true;
		for (int cnp = 0; cnp <= (int)p->transfer && done; cnp++) {
			struct rte_flow *f;

			s.cnp = cnp != 0;
			if (cnp) {
				s.dscp = st->cnp_dscp;
				s.priority = 2 * i;
			}
			done = ss_rdma_flow_build(&s, &rule, why, sizeof(why)) == 0 &&
			       ss_rdma_flow_install(in->eth_id, &rule, &f, why, sizeof(why)) == 0;
			if (done) {
				p->flow_port[p->nflows] = in->eth_id;
				p->flow[p->nflows++] = f;
			}
		}
		if (done)
			ok++;
		else
			add_reason(p->reason, sizeof(p->reason), why);
	}
	if (ports == 0)
		add_reason(p->reason, sizeof(p->reason), "rte_flow: no host or storage port");
	else if (ok == ports)
		add_reason(p->reason, sizeof(p->reason), "rte_flow: installed on every ingress port");
	return ports > 0 && ok == ports;
}

static bool install_verbs(struct ss_rdma_pol_ext *p, struct ss_verbs *verbs, uint32_t i)
{
	char why[256];
	int rc;

	p->vspec.family = p->fspec.family;
	memcpy(p->vspec.dst, p->fspec.dst, 16);
	p->vspec.dst_len = p->fspec.dst_len;
	p->vspec.has_src = p->fspec.has_src;
	memcpy(p->vspec.src, p->fspec.src, 16);
	p->vspec.src_len = p->fspec.src_len;
	p->vspec.priority = (uint16_t)(i < UINT16_MAX ? i : UINT16_MAX);
	if (p->fspec.has_qp) {
		/* ibv_flow_spec has no BTH: the flow would match other QPs */
		add_reason(p->reason, sizeof(p->reason), "verbs: no destination QP match");
		return false;
	}
	if (verbs == NULL) {
		add_reason(p->reason, sizeof(p->reason), "no RDMA device");
		return false;
	}
	rc = ss_verbs_flow_add(verbs, &p->vspec, &p->vf, why, sizeof(why));
	if (rc == 0) {
		add_reason(p->reason, sizeof(p->reason), "verbs: flow installed");
		if (why[0])
			add_reason(p->reason, sizeof(p->reason), why);
		return true;
	}
	add_reason(p->reason, sizeof(p->reason), why);
	return false;
}

static void remove_rules(struct ss_rdma_pol_ext *p, struct ss_verbs *verbs)
{
	for (unsigned int k = 0; k < p->nflows; k++)
		ss_rdma_flow_remove(p->flow_port[k], p->transfer, p->flow[k]);
	p->nflows = 0;
	ss_verbs_flow_del(verbs, &p->vf);
}

int ss_rdma_offload_install(struct ss_rdma_state *st, const struct ss_rdma_state *old,
			    struct ss_verbs *verbs)
{
	struct ss_rdma_pol_ext *x = calloc(st->nb_pol ? st->nb_pol : 1, sizeof(*x));
	const struct ss_rdma_pol_ext *ox = old ? old->ext : NULL;

	if (x == NULL)
		return -ENOMEM;
	st->ext = x;
	specs_from_state(st, x);
	for (uint32_t i = 0; i < st->nb_pol; i++) {
		struct ss_rdma_pol_ext *p = &x[i];
		int j = ox ? ss_rdma_state_find(old, st->names[i]) : -1;

		if (st->act[i].encap == SS_RDMA_ENCAP_VNET) {
			snprintf(p->reason, sizeof(p->reason),
				 "encap vnet is done in software only");
			continue;
		}
		/* what the rules would be: the same as in the previous state? */
		fill_fspec(p, st, i);
		if (j >= 0 && memcmp(&ox[j].fspec, &p->fspec, sizeof(p->fspec)) == 0 &&
		    old->cnp_dscp == st->cnp_dscp) {
			struct ss_rdma_flow_spec keep = p->fspec;

			*p = ox[j];
			p->fspec = keep;
			p->borrowed = true;
			p->carry_packets = p->carry_bytes = p->base_packets = p->base_bytes = 0;
			continue;
		}
		bool hw = install_rte_flow(p, st, i);
		bool vb = install_verbs(p, verbs, i);
		p->offloaded = hw || vb;
		RTE_LOG(INFO, USER1, "rdma: policy %s %soffloaded: %s\n", st->names[i],
			p->offloaded ? "" : "not ", p->reason);
	}
	return 0;
}

void ss_rdma_offload_commit(struct ss_rdma_state *st, struct ss_rdma_state *old)
{
	struct ss_rdma_pol_ext *x = st->ext;
	struct ss_rdma_pol_ext *ox = old ? old->ext : NULL;

	for (uint32_t i = 0; x && i < st->nb_pol; i++) {
		int j;

		if (!x[i].borrowed)
			continue;
		x[i].borrowed = false;
		j = ss_rdma_state_find(old, st->names[i]);
		if (ox && j >= 0) {
			ox[j].nflows = 0;   /* now st's */
			ox[j].vf.n = 0;
		}
	}
}

void ss_rdma_offload_carry(struct ss_rdma_state *st, const struct ss_rdma_state *old,
			   unsigned int nb_workers)
{
	struct ss_rdma_pol_ext *x = st->ext;
	const struct ss_rdma_pol_ext *ox = old ? old->ext : NULL;

	for (uint32_t i = 0; x && ox && i < st->nb_pol; i++) {
		int j = ss_rdma_state_find(old, st->names[i]);
		uint64_t pk, by;

		if (j < 0)
			continue;
		ss_rdma_state_counters(old, nb_workers, (uint32_t)j, &pk, &by);
		x[i].carry_packets = ox[j].carry_packets + pk;
		x[i].carry_bytes = ox[j].carry_bytes + by;
		x[i].base_packets = ox[j].base_packets;
		x[i].base_bytes = ox[j].base_bytes;
	}
}

void ss_rdma_offload_release(struct ss_rdma_state *st, struct ss_verbs *verbs)
{
	struct ss_rdma_pol_ext *x = st ? st->ext : NULL;

	for (uint32_t i = 0; x && i < st->nb_pol; i++)
		if (!x[i].borrowed)
			remove_rules(&x[i], verbs);
	free(x);
	if (st)
		st->ext = NULL;
}
