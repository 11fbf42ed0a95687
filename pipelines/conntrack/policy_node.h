/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The body of the policy nodes (policy_out.c, policy_in.c), written once
 * for both directions: each node is a feature on the overlay's arc of its
 * direction (overlay.h: "outbound", "inbound"), so it gets every tenant
 * packet of an ENI; it runs the policy stage over the burst
 * (ss_ct_policy_burst: connection tracking, then the ACL stages for what no
 * flow covers) and sends allowed packets on to its arc successor, the
 * others to `drop` with `acl_deny` (also counted in the ENI's acl_drops) or
 * `frag_no_first`.
 *
 * Outbound, it is also the flow cache's classifier (ct_xform.h,
 * docs/conntrack.md): the overlay generation is read once per burst before
 * the flow lookups; a host-port packet that passed by a live flow whose
 * slot holds a transform of that generation for its side is marked
 * SS_OVL_F_CACHED (route_out applies it), any other packet of a flow that
 * existed before it is marked SS_OVL_F_FILL (vxlan_encap fills the slot);
 * the packet that opens a flow is not marked. Appliance-mode
 * packets (SS_OVL_F_REENCAP) and packets a stage rewrote on the way in
 * (SS_OVL_F_NOFAST: Private Link replies) are not cached. A packet of no flow that the
 * ACL stages deny (a host-port packet outbound, a VXLAN packet inbound) is
 * remembered as a cached deny (deny_fill): flow_fast drops the key's next
 * packets.
 *
 * Edges: 0 = drop (static); the arc's, added by ss_arcs_finalize before the
 * graphs exist.
 */
#ifndef SS_POLICY_NODE_H
#define SS_POLICY_NODE_H

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include "dataplane/port-t.h"
#include "pipelines/acl/acl.h"
#include "pipelines/common/arc.h"
#include "pipelines/common/node.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/conntrack/ct_emc.h"
#include "pipelines/conntrack/ct_xform.h"
#include "pipelines/drop/drop.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_pkt.h"

enum { SS_POLICY_NEXT_DROP = 0 };

/* A packet of no flow the ACL stages denied: the flow fast path drops the
 * key's next packets itself (ct_emc.h), outbound from a host port, inbound
 * (VXLAN, still encapsulated here) from a fabric port. */
static inline void deny_fill(unsigned int wi, struct rte_mbuf *m, const struct ss_meta *meta,
			     unsigned int dir, uint32_t acl_gen, uint32_t gen,
			     const struct ss_acl_decided *dec)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct ss_port *port = &ss_ports.ports[meta->in_port];

	if (dir == SS_ACL_OUT && port->role == SS_ROLE_HOST)
		ss_emc_deny_fill(wi, d, rte_pktmbuf_data_len(m), meta->in_port, meta->eni, acl_gen,
				 gen, dec);
	else if (dir == SS_ACL_IN && port->role == SS_ROLE_FABRIC)
		ss_emc_in_deny_fill(wi, d, rte_pktmbuf_data_len(m), meta->in_port,
				    port->mac.addr_bytes, meta->eni, acl_gen, gen, dec);
}

static __rte_always_inline uint16_t ss_policy_process(struct rte_graph *graph,
						      struct rte_node *node, void **objs,
						      uint16_t nb, unsigned int dir,
						      const struct ss_arc_next *arc)
{
	struct ss_worker *w = ss_node_worker(node);
	const struct ss_acl_state *acl = ss_acl_current();
	struct ss_ct *ct = ss_ct_current();
	struct ss_ct_pkt p[RTE_GRAPH_BURST_SIZE];
	struct ss_ct_ref ref[RTE_GRAPH_BURST_SIZE];
	uint8_t v[RTE_GRAPH_BURST_SIZE], next[RTE_GRAPH_BURST_SIZE];
	const bool cache = ct != NULL;
	/* read before the walk's first lookup: a transform resolved while a
	 * change is published carries the older generation */
	uint32_t gen = cache ? ss_ovl_walk_gen(&ss_ovl_wstate[w->index], w) : 0;
	uint16_t i;

	for (i = 0; i < nb; i++) {
		struct rte_mbuf *m = objs[i];
		const struct ss_meta *meta = ss_meta(m);

		p[i].data = rte_pktmbuf_mtod(m, const uint8_t *);
		p[i].l = ss_overlay_tenant(meta);
		p[i].eni = meta->eni;
	}
	ss_ct_policy_burst_ref(ct, acl, w->index, dir, p, nb, rte_rdtsc(), v, cache ? ref : NULL);
	for (i = 0; i < nb; i++) {
		struct ss_meta *meta = ss_meta(objs[i]);

		if (likely(v[i] == SS_CT_PASS)) {
			if (cache && ref[i].pos >= 0 &&
			    !(meta->ovl_flags & (SS_OVL_F_REENCAP | SS_OVL_F_NOFAST))) {
				struct ss_ct_xform *x = &ct->xf[ref[i].pos];

				meta->ovl_slot = x;
				meta->ovl_gen = gen;
				meta->ovl_owner = ref[i].owner;
				if (dir != SS_ACL_OUT)
					meta->ovl_flags |= SS_OVL_F_FASTIN;
				else
					meta->ovl_flags |= ss_ct_xform_valid(x, gen, ref[i].owner)
								   ? SS_OVL_F_CACHED
								   : SS_OVL_F_FILL;
			}
			next[i] = ss_arc_edge(arc, objs[i], meta->hdr.outer.flags);
			continue;
		}
		next[i] = SS_POLICY_NEXT_DROP;
		if (v[i] == SS_CT_DROP_ACL) {
			meta->drop = SS_DROP_ACL_DENY;
			ss_overlay_eni_acl_drop(w->index, meta->eni);
			/* a packet of no flow from a host port: the flow fast path
			 * drops the key's next packets itself (ct_emc.h) */
			if (cache && ref[i].deny &&
			    !(meta->ovl_flags & (SS_OVL_F_REENCAP | SS_OVL_F_NOFAST)))
				deny_fill(w->index, objs[i], meta, dir, ref[i].acl_gen, gen,
					  &ref[i].dec);
		} else {
			meta->drop = SS_DROP_FRAG_NO_FIRST;
		}
	}
	ss_node_dispatch(graph, node, objs, nb, next);
	return nb;
}

#endif
