/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The policy stage's part of the packet trace (pipelines/trace/
 * trace_node.h), for policy_out and policy_in:
 *   probe (worker, right before the node runs): the flow lookup the node is
 *       about to make, read-only: hit, miss and why (no flow, expired, the
 *       wrong direction), or a flow whose ENI's ACLs changed (re-checked);
 *   describe (control thread): that, whether the packet opened a flow, the
 *       flow cache mark it got (outbound), and the ACL stages evaluated for
 *       it (acl_trace.h) or why they were skipped.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>

#include "pipelines/acl/acl_trace.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_int.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/trace/trace_node.h"

struct ss_ct *ss_ct_current(void);

enum { PR_NONE = 0, PR_HIT, PR_RECHECK, PR_MISS_NEW, PR_MISS_EXPIRED, PR_MISS_DIR };

struct ct_probe {
	uint8_t kind;        /* enum ss_ct_kind */
	uint8_t result;      /* PR_* */
	uint8_t full;        /* the table was at max_flows */
	uint8_t pad;
	uint32_t flow_gen;   /* the flow's ACL generation */
	uint32_t eni_gen;    /* the ENI's now */
};
_Static_assert(sizeof(struct ct_probe) <= SS_TRACE_PROBE, "probe too large");

/* The tenant packet of a recorded step, for ss_ct_extract: the bytes are
 * copied into a zeroed buffer larger than any header read. */
struct ct_view {
	uint8_t buf[SS_TRACE_SNAP * 2];
	struct ss_ct_pkt p;
};

static void view_of(struct ct_view *v, const uint8_t *data, uint32_t len, const struct ss_meta *m)
{
	memset(v->buf, 0, sizeof(v->buf));
	memcpy(v->buf, data, RTE_MIN(len, (uint32_t)sizeof(v->buf)));
	v->p.data = v->buf;
	v->p.l = ss_overlay_tenant(m);
	v->p.eni = m->eni;
}

static void probe(struct rte_mbuf *m, uint8_t *out, unsigned int dir)
{
	const struct ss_meta *meta = ss_meta(m);
	struct ss_ct *ct = ss_ct_current();
	struct ct_probe *pr = (struct ct_probe *)out;
	struct ss_ct_pkt p = { rte_pktmbuf_mtod(m, const uint8_t *), ss_overlay_tenant(meta),
			       meta->eni };
	struct ss_ct_info in;
	int32_t pos;

	memset(pr, 0, sizeof(*pr));
	ss_ct_extract(&p, dir, &in);
	pr->kind = in.kind;
	if (ct == NULL || in.kind == SS_CT_K_OTHER || in.kind == SS_CT_K_NONFIRST)
		return;
	pr->full = __atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED) >=
		   (int64_t)__atomic_load_n(&ct->conf.max_flows, __ATOMIC_RELAXED);
	pos = rte_hash_lookup(ct->flows.h, in.kind == SS_CT_K_ICMP_ERR ? &in.emb : &in.key);
	pr->result = PR_MISS_NEW;
	if (pos < 0)
		return;
	const struct ss_ct_entry *e = ss_ct_entry_at(ct, (uint32_t)pos);
	if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != SS_CT_LIVE)
		return;
	unsigned int d = in.kind == SS_CT_K_ICMP_ERR ? !dir : dir;
	unsigned int side = in.kind == SS_CT_K_ICMP_ERR ? in.emb_side : in.side;
	if ((d == e->init_dir) != (side == e->init_side)) {
		pr->result = PR_MISS_DIR;
		return;
	}
	if (ss_ct_expired(ct, e, rte_rdtsc())) {
		pr->result = PR_MISS_EXPIRED;
		return;
	}
	pr->flow_gen = __atomic_load_n(&e->acl_gen, __ATOMIC_RELAXED);
	pr->eni_gen = ss_acl_eni_gen(ss_acl_current(), e->eni);
	pr->result = pr->flow_gen == pr->eni_gen ? PR_HIT : PR_RECHECK;
}

static void probe_out(struct rte_mbuf *m, uint8_t *out)
{
	probe(m, out, SS_ACL_OUT);
}

static void probe_in(struct rte_mbuf *m, uint8_t *out)
{
	probe(m, out, SS_ACL_IN);
}

/* Whether the packet's flow exists now (after the node ran). */
static bool flow_exists(const struct ss_ct_info *in)
{
	struct ss_ct *ct = ss_ct_current();
	int32_t pos;

	if (ct == NULL)
		return false;
	pos = rte_hash_lookup(ct->flows.h, &in->key);
	return pos >= 0 && __atomic_load_n(&ss_ct_entry_at(ct, (uint32_t)pos)->state,
					   __ATOMIC_ACQUIRE) == SS_CT_LIVE;
}

static void describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
		     json_t *o, unsigned int dir)
{
	static const char *const why[] = {
		[PR_HIT] = "a live flow of this connection",
		[PR_RECHECK] = "a live flow, but the ENI's ACLs changed since it was checked: "
			       "re-checked against the new rules",
		[PR_MISS_NEW] = "no flow: a new connection",
		[PR_MISS_EXPIRED] = "the flow had expired: the packet is a new connection",
		[PR_MISS_DIR] = "a flow opened from the other side does not cover this "
				"direction",
	};
	const struct ct_probe *pr = prev != NULL && prev->probed ? (const void *)prev->probe
								 : NULL;
	struct ct_view *v = malloc(sizeof(*v));
	struct ss_acl_key akey;
	struct ss_ct_info in;
	json_t *flow = json_object();

	if (v == NULL)
		return;
	view_of(v, st->data, st->data_len, &st->meta);
	ss_ct_extract(&v->p, dir, &in);
	json_object_set_new(o, "flow", flow);
	if (in.kind == SS_CT_K_OTHER) {
		json_object_set_new(flow, "lookup", json_string("none"));
		json_object_set_new(flow, "why", json_string("not IPv4 / IPv6: no policy applies"));
		goto out;
	}
	if (in.kind == SS_CT_K_NONFIRST) {
		json_object_set_new(flow, "lookup", json_string("fragment"));
		json_object_set_new(flow, "why", json_string(st->edge == 0
			? "a later fragment whose first fragment was not seen"
			: "a later fragment: follows its first fragment's verdict"));
		goto out;
	}
	if (pr != NULL && pr->result != PR_NONE) {
		json_object_set_new(flow, "lookup", json_string(pr->result == PR_HIT ||
			pr->result == PR_RECHECK ? "hit" : "miss"));
		json_object_set_new(flow, "why", json_string(why[pr->result]));
		if (pr->result == PR_RECHECK)
			json_object_set_new(flow, "acl_generation", json_pack("{s:i,s:i}", "flow",
				pr->flow_gen, "eni", pr->eni_gen));
	}
	if (in.kind == SS_CT_K_ICMP_ERR)
		json_object_set_new(flow, "icmp_error", json_true());
	if (pr != NULL && pr->result >= PR_MISS_NEW && st->edge != 0 &&
	    in.kind == SS_CT_K_NORMAL) {
		bool made = flow_exists(&in);
		json_object_set_new(flow, "created", json_boolean(made));
		if (!made && pr->full)
			json_object_set_new(flow, "not_tracked", json_string("flow_table_full"));
	}
	if (dir == SS_ACL_OUT && st->edge != 0) {
		const uint8_t f = st->meta.ovl_flags;
		json_object_set_new(flow, "cache", json_string(
			(f & SS_OVL_F_CACHED) ? "hit: a transform of the current generation; "
						"route_out applies it"
			: (f & SS_OVL_F_FILL) ? "fill: vxlan_encap stores the transform it builds"
					      : "none (a flow's first packet is not cached)"));
	}
	if (pr != NULL && pr->result == PR_HIT) {
		json_object_set_new(o, "acl", json_pack("{s:b,s:s}", "evaluated", 0, "reason",
			"the packet's flow was allowed: ACLs are not evaluated again"));
		goto out;
	}
	ss_ct_acl_key(in.kind == SS_CT_K_ICMP_ERR ? &in.emb : &in.key,
		      in.kind == SS_CT_K_ICMP_ERR ? in.emb_side : in.side, &akey);
	json_t *acl = ss_acl_explain(ss_acl_current(), st->meta.eni, dir, &akey);
	json_object_set_new(acl, "evaluated", json_true());
	json_object_set_new(o, "acl", acl);
out:
	free(v);
}

static void describe_out(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			 json_t *o)
{
	describe(st, prev, o, SS_ACL_OUT);
}

static void describe_in(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			json_t *o)
{
	describe(st, prev, o, SS_ACL_IN);
}

static struct ss_trace_describer policy_out_trace = {
	.node = "policy_out", .describe = describe_out, .probe = probe_out };
SS_TRACE_DESCRIBER_REGISTER(policy_out_trace);

static struct ss_trace_describer policy_in_trace = {
	.node = "policy_in", .describe = describe_in, .probe = probe_in };
SS_TRACE_DESCRIBER_REGISTER(policy_in_trace);
