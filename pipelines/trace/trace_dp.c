/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Packet trace, the worker side (trace.h): recording at each dispatch,
 * picking live packets at `parse`, injecting trace.packet frames before a
 * walk, closing the walk's paths after it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf_dyn.h>

#include "pipelines/common/node.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/trace/trace_int.h"

/* read by every dispatch: a line of its own, written only by trace methods */
uint32_t ss_trace_armed __rte_cache_aligned;
struct ss_trace_pkt *ss_trace_slots;
struct ss_trace_live ss_trace_live;
struct ss_trace_wk ss_trace_wk[SS_MAX_WORKERS];
uint64_t ss_trace_flag;
int ss_trace_field = -1;
struct ss_trace_describer *ss_trace_by_node[SS_TRACE_MAX_NODES];
uint16_t ss_trace_node_parse = UINT16_MAX, ss_trace_node_tx = UINT16_MAX,
	 ss_trace_node_drop = UINT16_MAX, ss_trace_node_patch = UINT16_MAX;

static struct ss_trace_describer *describers;

void ss_trace_describer_register(struct ss_trace_describer *d)
{
	d->link = describers;
	describers = d;
}

static uint16_t node_id(const char *name)
{
	rte_node_t id = rte_node_from_name(name);

	return id == RTE_NODE_ID_INVALID ? UINT16_MAX : (uint16_t)id;
}

int ss_trace_dp_setup(char *err, size_t errlen)
{
	static const struct rte_mbuf_dynfield field = {
		.name = "sswitch_trace_slot",
		.size = sizeof(uint32_t),
		.align = __alignof__(uint32_t),
	};
	static const struct rte_mbuf_dynflag flag = { .name = "sswitch_trace" };
	int bit;

	if (ss_trace_flag != 0)
		return 0;
	ss_trace_field = rte_mbuf_dynfield_register(&field);
	bit = rte_mbuf_dynflag_register(&flag);
	if (ss_trace_field < 0 || bit < 0) {
		snprintf(err, errlen, "trace: cannot register the mbuf trace flag and field: %s",
			 rte_strerror(rte_errno));
		return -ENOSPC;
	}
	ss_trace_node_parse = node_id("parse");
	ss_trace_node_tx = node_id("port_tx");
	ss_trace_node_drop = node_id(SS_NODE_DROP);
	ss_trace_node_patch = node_id("l2_patch");
	for (struct ss_trace_describer *d = describers; d != NULL; d = d->link) {
		uint16_t id = node_id(d->node);

		if (id < SS_TRACE_MAX_NODES)
			ss_trace_by_node[id] = d;
	}
	ss_trace_flag = 1ULL << bit;
	return 0;
}

/* ---- live packets: the filter, at parse ---------------------------------- */

static bool prefix_match(const struct ss_trace_prefix *p, int fam, const uint8_t *a)
{
	unsigned int full = p->len / 8, rem = p->len % 8;

	if (p->fam != fam || memcmp(p->addr, a, full) != 0)
		return false;
	return rem == 0 || ((p->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

static bool live_match(const struct ss_trace_filter *f, struct rte_mbuf *m)
{
	const struct ss_meta *meta = ss_meta(m);
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct ss_layer *l = &meta->hdr.outer;
	int fam;

	if ((f->has & SS_TF_PORT) && meta->in_port != f->port)
		return false;
	if (meta->drop != SS_DROP_NONE)   /* malformed: only port filters apply */
		return (f->has & ~(uint32_t)SS_TF_PORT) == 0;
	if (l->flags & SS_PF_VXLAN) {
		if ((f->has & SS_TF_VNI) && meta->hdr.vni != f->vni)
			return false;
		l = &meta->hdr.inner;
	} else if (f->has & SS_TF_VNI) {
		return false;
	}
	if ((f->has & SS_TF_MAC) && memcmp(d + l->l2_off, f->mac, 6) != 0 &&
	    memcmp(d + l->l2_off + 6, f->mac, 6) != 0)
		return false;
	if (!(f->has & (SS_TF_SRC | SS_TF_DST | SS_TF_PROTO | SS_TF_SPORT | SS_TF_DPORT)))
		return true;
	if (l->l3 == SS_L3_IPV4)
		fam = 4;
	else if (l->l3 == SS_L3_IPV6)
		fam = 6;
	else
		return false;
	const uint8_t *ip = d + l->l3_off;
	const uint8_t *src = fam == 4 ? ip + 12 : ip + 8;
	const uint8_t *dst = fam == 4 ? ip + 16 : ip + 24;

	if ((f->has & SS_TF_SRC) && !prefix_match(&f->src, fam, src))
		return false;
	if ((f->has & SS_TF_DST) && !prefix_match(&f->dst, fam, dst))
		return false;
	if ((f->has & SS_TF_PROTO) && l->proto != f->proto)
		return false;
	if ((f->has & (SS_TF_SPORT | SS_TF_DPORT)) && !(l->flags & SS_PF_L4))
		return false;
	if ((f->has & SS_TF_SPORT) && l->sport != f->sport)
		return false;
	if ((f->has & SS_TF_DPORT) && l->dport != f->dport)
		return false;
	return true;
}

static void slot_open(struct ss_trace_wk *tw, uint32_t slot, struct ss_worker *w,
		      const struct rte_mbuf *m, bool injected)
{
	struct ss_trace_pkt *p = &ss_trace_slots[slot];

	p->worker = (uint16_t)w->index;
	p->nb_steps = 0;
	p->lost_steps = 0;
	p->in_port = ss_ports.by_eth_id[m->port];
	p->injected = injected;
	p->ended = 0;
	p->tsc = rte_rdtsc();
	__atomic_store_n(&p->state, SS_TRACE_OPEN, __ATOMIC_RELAXED);
	tw->open[tw->nb_open++] = (uint16_t)slot;
}

/* A live packet at parse: take it when it matches and a slot is left. */
static bool live_take(struct ss_trace_wk *tw, struct ss_worker *w, struct rte_mbuf *m)
{
	uint32_t idx;

	if (!live_match(&ss_trace_live.f, m))
		return false;
	if (__atomic_load_n(&ss_trace_live.claimed, __ATOMIC_RELAXED) >= ss_trace_live.count)
		return false;
	idx = __atomic_fetch_add(&ss_trace_live.claimed, 1, __ATOMIC_RELAXED);
	if (idx >= ss_trace_live.count || tw->nb_open >= SS_TRACE_SLOTS)
		return false;
	m->ol_flags |= ss_trace_flag;
	*ss_trace_mbuf_field(m) = 1 + idx;
	slot_open(tw, 1 + idx, w, m, false);
	return true;
}

/* ---- recording --------------------------------------------------------------- */

static void record(struct ss_trace_pkt *p, const struct rte_node *node, uint8_t edge,
		   struct rte_mbuf *m)
{
	const struct rte_node *to = node->nodes[edge];
	struct ss_trace_step *st;

	if (p->nb_steps == SS_TRACE_STEPS) {
		p->lost_steps++;
		return;
	}
	st = &p->step[p->nb_steps];
	st->node = (uint16_t)node->id;
	st->next_node = (uint16_t)to->id;
	st->edge = edge;
	st->tsc = rte_rdtsc();
	st->pkt_len = m->pkt_len;
	st->data_len = (uint16_t)RTE_MIN(rte_pktmbuf_data_len(m), (uint32_t)SS_TRACE_SNAP);
	memcpy(&st->meta, ss_meta(m), sizeof(st->meta));
	if (edge == SS_NEXT_DROP)
		st->meta.drop_node = (uint16_t)node->id;
	memcpy(st->data, rte_pktmbuf_mtod(m, const uint8_t *), st->data_len);
	st->probed = 0;
	if (to->id < SS_TRACE_MAX_NODES && ss_trace_by_node[to->id] != NULL &&
	    ss_trace_by_node[to->id]->probe != NULL) {
		ss_trace_by_node[to->id]->probe(m, st->probe);
		st->probed = 1;
	}
	p->nb_steps++;
	if (to->id == ss_trace_node_tx || to->id == ss_trace_node_drop ||
	    to->id == ss_trace_node_patch)
		p->ended = 1;
}

/* The worker walking `graph` (not every node keeps it in its context). */
static struct ss_worker *worker_of(const struct rte_graph *graph)
{
	for (unsigned int i = 0; i < ss_workers.nb; i++)
		if (ss_workers.w[i]->graph == graph)
			return ss_workers.w[i];
	return NULL;
}

bool ss_trace_dispatch(struct rte_graph *graph, struct rte_node *node, void **objs,
		       uint16_t nb, const uint8_t *next)
{
	struct ss_worker *w = worker_of(graph);
	struct ss_trace_wk *tw;
	bool live = (__atomic_load_n(&ss_trace_armed, __ATOMIC_RELAXED) & SS_TRACE_ARMED_LIVE) &&
		    node->id == ss_trace_node_parse;
	bool take_out = false;

	if (w == NULL)
		return false;
	tw = &ss_trace_wk[w->index];
	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		uint32_t f;

		if (!(m->ol_flags & ss_trace_flag) && !(live && live_take(tw, w, m)))
			continue;
		f = *ss_trace_mbuf_field(m);
		if ((f & SS_TRACE_SLOT_MASK) >= SS_TRACE_SLOTS)
			continue;
		record(&ss_trace_slots[f & SS_TRACE_SLOT_MASK], node, next[i], m);

		rte_node_t to = node->nodes[next[i]]->id;
		bool end = to == ss_trace_node_tx || to == ss_trace_node_drop ||
			   to == ss_trace_node_patch;

		/* a live packet's path ends here: an mbuf a driver recycles
		 * without resetting ol_flags must not look traced */
		if (end && !(f & SS_TRACE_F_INJECTED))
			m->ol_flags &= ~ss_trace_flag;
		if (f & SS_TRACE_F_INJECTED) {
			/* not port traffic: parse counted its bytes */
			if (node->id == ss_trace_node_parse)
				w->port[ss_meta(m)->in_port].rx_bytes -= m->pkt_len;
			if (end)
				take_out = true;
		}
	}
	if (!take_out)
		return false;
	/* ss_node_dispatch's work, minus the injected frames that end here */
	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];

		if ((m->ol_flags & ss_trace_flag) && (*ss_trace_mbuf_field(m) & SS_TRACE_F_INJECTED)) {
			rte_node_t to = node->nodes[next[i]]->id;

			if (to == ss_trace_node_tx || to == ss_trace_node_drop ||
			    to == ss_trace_node_patch) {
				rte_pktmbuf_free(m);
				continue;
			}
		}
		if (next[i] == SS_NEXT_DROP)
			ss_meta(m)->drop_node = (uint16_t)node->id;
		rte_node_enqueue_x1(graph, node, next[i], m);
	}
	return true;
}

/* ---- the walk ---------------------------------------------------------------- */

void ss_trace_walk_begin(struct ss_worker *w)
{
	struct ss_trace_wk *tw = &ss_trace_wk[w->index];
	struct rte_mbuf *m;

	if (tw->inject == NULL)
		return;
	m = __atomic_exchange_n(&tw->inject, NULL, __ATOMIC_ACQUIRE);
	if (m == NULL)
		return;
	slot_open(tw, 0, w, m, true);
	/* as if port_rx had received it, on its edge 0 to parse (not edge 1
	 * to flow_fast: a traced frame takes the full path): parse runs it
	 * with this walk's burst (rte_graph queues parse as pending now;
	 * port_rx's own stream joins it when the walk runs the source) */
	rte_node_enqueue_x1(w->graph, tw->rx_node, 0, m);
}

void ss_trace_walk_end(struct ss_worker *w)
{
	struct ss_trace_wk *tw = &ss_trace_wk[w->index];

	for (uint16_t i = 0; i < tw->nb_open; i++)
		__atomic_store_n(&ss_trace_slots[tw->open[i]].state, SS_TRACE_DONE,
				 __ATOMIC_RELEASE);
	tw->nb_open = 0;
}
