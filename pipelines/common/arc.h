/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Named feature arcs: how a feature puts its node between two stages of the
 * packet path without editing either (the model: VPP's feature arcs,
 * VNET_FEATURE_INIT with runs_before / runs_after).
 *
 * An arc is an ordered chain of feature nodes. Its owner declares it:
 *
 *     struct ss_arc ss_ovl_arc_outbound = {
 *             .name = "outbound",
 *             .start = { "overlay_host", "overlay_fabric" },  // send packets in
 *             .end = "route_out",          // where the last feature hands on
 *     };
 *     SS_ARC_REGISTER(ss_ovl_arc_outbound);
 *
 * and a feature attaches a node to it, next to the node's code:
 *
 *     static struct ss_arc_feature policy_out_arc = {
 *             .arc = "outbound",
 *             .node = "policy_out",
 *             .runs_before = { "rate_limit" },     // names of nodes on the arc
 *     };
 *     SS_ARC_FEATURE_REGISTER(policy_out_arc);
 *
 * Arc features may carry a packet filter: `pf`, SS_PF_* bits of
 * meta->hdr.outer.flags that a packet must all carry to enter the node (0:
 * every packet). A packet skips the features whose filter it fails.
 *
 * ss_arcs_finalize(), called by ss_workers_init() (dataplane/worker.c) after
 * the features' init and before the worker graphs are created, orders every arc (a stable
 * topological sort of the constraints: registration order among
 * unconstrained nodes), refuses unknown arcs or nodes, constraints naming a
 * node that is not on the arc, and cycles; adds the rte_graph edges (each
 * start node and each feature to every node that may come next, the last
 * feature to the end) and stores their ids in the arc (`from[i]`, for
 * start[i]) and in each attachment (`next`).
 *
 * Hot path: a start node or a feature reads where a packet goes next with
 * ss_arc_edge(): one 4-byte load and a compare when no filter is in the
 * way. Every node that takes part in an arc keeps edge 0 to `drop` (the
 * convention of all sswitch nodes, pipelines/common/node.h). An arc may end
 * at SS_NODE_DROP with `end_drop` as the reason (parse's ingress arcs: the
 * role has no pipeline); ss_arc_edge() then marks the packet itself.
 *
 * Threads: registration from constructors, ss_arcs_finalize() on the
 * control thread before the graphs exist; afterwards every field is
 * read-only (ctlplane: rw before launch, dataplane: ro).
 */
#ifndef SS_ARC_H
#define SS_ARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "pipelines/common/meta.h"

#define SS_ARC_MAX_STARTS 4
#define SS_ARC_MAX_FEATURES 8
#define SS_ARC_MAX_CONSTRAINTS 4

/* One place a packet may go next. */
struct ss_arc_hop {
	uint8_t pf;    /* SS_PF_* bits the packet must all carry (0: any packet) */
	uint8_t edge;  /* edge id, from the node that holds this list */
	uint8_t drop;  /* the arc's end on `drop`: the reason to mark; else 0 */
	uint8_t pad;
};

/* Where a node hands packets on along an arc: the candidates in arc order,
 * up to and including the first unfiltered one (the end is unfiltered). */
struct ss_arc_next {
	struct ss_arc_hop hop[SS_ARC_MAX_FEATURES + 1];
};

struct ss_arc {
	const char *name;
	/* nodes that send packets into the arc, up to the first NULL */
	const char *start[SS_ARC_MAX_STARTS];
	const char *end;
	uint8_t end_drop;  /* with end == SS_NODE_DROP: the reason (enum ss_drop_reason) */
	/* set by ss_arcs_finalize: where start[i] sends packets */
	struct ss_arc_next from[SS_ARC_MAX_STARTS];
	struct ss_arc *link;  /* registry */
};

struct ss_arc_feature {
	const char *arc;   /* the arc's name */
	const char *node;  /* a registered rte_graph node */
	/* names of other nodes on the same arc, up to the first NULL */
	const char *runs_before[SS_ARC_MAX_CONSTRAINTS];
	const char *runs_after[SS_ARC_MAX_CONSTRAINTS];
	uint8_t pf;        /* filter: SS_PF_* bits a packet needs to enter (0: all) */
	/* The flow fast path (pipelines/conntrack/ct_emc.h) forwards a packet
	 * of a cached flow without walking the arcs. A feature that a plain
	 * TCP/UDP packet would meet on an arc the fast path stands in for
	 * (ingress.host, outbound) says here whether it may be left out for
	 * a packet of ENI `eni` (true: it would hand the packet on unchanged,
	 * e.g. the rate limiter of an ENI without a limit). Called on a
	 * worker; each worker remembers the answer per ENI until the feature
	 * calls ss_arc_fast_skip_changed() (so a feature whose answer can
	 * change must call it after publishing the state the answer reads).
	 * ss_arc_skip_always: the feature never meets such a packet (never
	 * called). NULL: never, so the fast path stays off. */
	bool (*fast_skip)(uint32_t eni);
	/* set by ss_arcs_finalize: where this node sends packets it hands on */
	struct ss_arc_next next;
	struct ss_arc_feature *link;  /* registry */
};

/* fast_skip of a feature the fast path may always leave out. */
bool ss_arc_skip_always(uint32_t eni);

/* Bumped by ss_arc_fast_skip_changed(): a worker's remembered fast_skip
 * answers are valid while it holds (read once per burst). */
extern uint64_t ss_arc_skip_epoch;

/* A feature's fast_skip answers may have changed (control thread, after
 * the new state is published): workers ask again from their next burst. */
static inline void ss_arc_fast_skip_changed(void)
{
	__atomic_fetch_add(&ss_arc_skip_epoch, 1, __ATOMIC_RELEASE);
}

static inline uint64_t ss_arc_fast_skip_epoch(void)
{
	return __atomic_load_n(&ss_arc_skip_epoch, __ATOMIC_ACQUIRE);
}

void ss_arc_register(struct ss_arc *arc);
void ss_arc_feature_register(struct ss_arc_feature *f);

#define SS_ARC_REGISTER(a)                                                                     \
	RTE_INIT(ss_arc_register_##a)                                                          \
	{                                                                                      \
		ss_arc_register(&a);                                                           \
	}
#define SS_ARC_FEATURE_REGISTER(f)                                                             \
	RTE_INIT(ss_arc_feature_register_##f)                                                  \
	{                                                                                      \
		ss_arc_feature_register(&f);                                                   \
	}

/* Order every arc and add its edges (see above). Once, on the control
 * thread, before the graphs are created. 0, or -1 with "arc NAME: reason"
 * in err. A second call does nothing. */
int ss_arcs_finalize(char *err, size_t errlen);

/* ss_arcs_finalize's work for one registered arc (its features are those
 * registered with its name): sswitchd does not call it; unit tests do, one
 * arc at a time. 0, or -1 with "arc NAME: reason" in err. */
int ss_arc_finalize(struct ss_arc *arc, char *err, size_t errlen);

/* The arc registered under `name`, NULL if none. */
const struct ss_arc *ss_arc_lookup(const char *name);
/* The features attached to arc `arc` (registration order) into out[0..max),
 * returning how many there are (may exceed max). */
unsigned int ss_arc_features(const char *arc, const struct ss_arc_feature **out, unsigned int max);
/* The attachment of `node` to arc `arc`, NULL if none (tools and tests:
 * after ss_arcs_finalize, its `next` says where the node hands packets). */
const struct ss_arc_feature *ss_arc_feature_lookup(const char *arc, const char *node);

/* The edge a packet with parse flags `pf` takes from the node owning `n`;
 * when that is the arc's end on `drop`, the packet is marked with the
 * arc's reason. Workers. */
static __rte_always_inline uint8_t ss_arc_edge(const struct ss_arc_next *n, struct rte_mbuf *m,
					       uint8_t pf)
{
	const struct ss_arc_hop *h = n->hop;

	while ((pf & h->pf) != h->pf)
		h++;
	if (unlikely(h->drop != 0))
		ss_meta(m)->drop = h->drop;
	return h->edge;
}

#endif
