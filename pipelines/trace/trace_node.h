/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What a feature provides to the packet trace for its nodes (the model:
 * VPP's per-node format_trace functions), in a file of its own folder
 * (pipelines/overlay/ovl_trace.c, pipelines/conntrack/ct_trace.c):
 *
 *     static struct ss_trace_describer route_out_trace = {
 *             .node = "route_out",
 *             .describe = describe_route_out,   // control thread
 *             .probe = NULL,                    // optional, worker
 *     };
 *     SS_TRACE_DESCRIBER_REGISTER(route_out_trace);
 *
 * describe() turns what the node left in the packet (the recorded step:
 * struct ss_meta and the frame's first bytes as they were when the node
 * handed the packet on) into JSON keys of the step, reading the published
 * tables read-only to name what was used (ENI, route, mapping, ...). It
 * runs on the control thread after the packet's walk: a table changed in
 * between is described as it is now (the step's `generation` says which
 * state the walk saw).
 *
 * `prev` is the step that handed the packet to this node (NULL when that
 * one moved its burst without dispatching): its data[] is the frame as this
 * node received it, for a node that rewrites the frame (an ARP answer, an
 * encapsulation).
 *
 * probe(), when set, runs on the worker right before the node processes a
 * traced packet (when the previous node hands it on) and may store up to
 * SS_TRACE_PROBE bytes of what the node is about to find (conntrack: flow
 * hit or miss); describe() finds them in `prev->probe` when
 * `prev->probed`. A probe reads published tables only (RCU: valid for the
 * walk) and writes nothing else.
 *
 * Nodes without a describer are shown with their edge and the generic
 * fields (drop reason, egress port).
 */
#ifndef SS_TRACE_NODE_H
#define SS_TRACE_NODE_H

#include <stdint.h>

#include <jansson.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "pipelines/common/meta.h"

#define SS_TRACE_SNAP 256    /* frame bytes kept per step */
#define SS_TRACE_PROBE 64    /* probe bytes per step */
#define SS_TRACE_STEPS 24    /* steps kept per packet (the graph is shallower) */

/* One node a traced packet went through, as it left it. */
struct ss_trace_step {
	uint16_t node;       /* rte_node id */
	uint16_t next_node;  /* rte_node id of where it was handed */
	uint8_t edge;
	uint8_t probed;      /* probe[] holds next_node's probe result */
	uint16_t data_len;   /* bytes of data[] */
	uint32_t pkt_len;    /* the frame's length then */
	uint64_t tsc;
	struct ss_meta meta;
	uint8_t probe[SS_TRACE_PROBE] __rte_aligned(8);
	uint8_t data[SS_TRACE_SNAP];
};

struct ss_trace_describer {
	const char *node;
	void (*describe)(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			 json_t *out);
	void (*probe)(struct rte_mbuf *m, uint8_t *probe);
	struct ss_trace_describer *link;
};

void ss_trace_describer_register(struct ss_trace_describer *d);
#define SS_TRACE_DESCRIBER_REGISTER(d)                                                         \
	RTE_INIT(ss_trace_describer_register_##d)                                              \
	{                                                                                      \
		ss_trace_describer_register(&d);                                               \
	}

/* ---- formatting helpers for describers (control thread) ------------------ */

struct ss_ctl;
/* The control plane (store lookups: ss_ctl_store_get / _foreach). */
struct ss_ctl *ss_trace_ctl(void);

/* An address as text: fam 4 or 6, network order. */
json_t *ss_trace_ip(int fam, const uint8_t *addr);
json_t *ss_trace_mac(const uint8_t *mac);
/* The name of sswitch port index p (or null). */
json_t *ss_trace_port(uint16_t p);
/* Text to values: an address (fam := 4 or 6, addr network order), "ADDR/LEN"
 * (host bits must be clear), a MAC "aa:bb:cc:dd:ee:ff". 0 or -1. */
int ss_trace_parse_ip(const char *s, int *fam, uint8_t addr[16]);
int ss_trace_parse_prefix(const char *s, int *fam, uint8_t addr[16], int *plen);
int ss_trace_parse_mac(const char *s, uint8_t mac[6]);
/* The headers of the frame in data[0..len) from offset `off` (Ethernet):
 * {eth: {src, dst, vlan}, ip: {src, dst, proto, ttl, dscp, ecn}, l4: {sport,
 * dport} or {type, code}, vxlan: {vni}, inner: {...}}, as far as they fit. */
json_t *ss_trace_headers(const uint8_t *data, uint32_t len);

#endif
