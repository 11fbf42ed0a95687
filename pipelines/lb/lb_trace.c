/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's nodes in the packet trace (pipelines/trace/trace_node.h):
 * lb_out shows the VIP and the backend it rewrote the destination to, or
 * why the packet was not balanced; lb_in the backend and the VIP it
 * restored as the source. Read from the frame as the node received it
 * (prev) and left it (st); the LB's name from the published state.
 * Control thread.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "pipelines/lb/lb.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/trace/trace_node.h"

/* "ADDR:PORT" of the source or destination of the tenant packet in data,
 * false when the snapshot does not hold it. */
static bool endpoint(const uint8_t *d, uint16_t len, const struct ss_layer *l, bool dst,
		     char *out, size_t n, uint8_t ip[16], uint16_t *port)
{
	int v6 = l->l3 == SS_L3_IPV6;
	unsigned int off = l->l3_off + (v6 ? (dst ? 24 : 8) : (dst ? 16 : 12));
	char a[INET6_ADDRSTRLEN];

	if ((l->l3 != SS_L3_IPV4 && !v6) || !(l->flags & SS_PF_L4) ||
	    off + (v6 ? 16u : 4u) > len || l->l4_off + 4u > len)
		return false;
	memset(ip, 0, 16);
	memcpy(ip, d + off, v6 ? 16 : 4);
	*port = (uint16_t)(d[l->l4_off + (dst ? 2 : 0)] << 8 | d[l->l4_off + (dst ? 3 : 1)]);
	inet_ntop(v6 ? AF_INET6 : AF_INET, ip, a, sizeof(a));
	snprintf(out, n, v6 ? "[%s]:%u" : "%s:%u", a, *port);
	return true;
}

/* lb_out without the frame it received (the node before it moved its burst
 * whole, e.g. a rate limiter with nothing to limit, and is not recorded):
 * the VIP of the LB of the VNET that has the destination as a backend. */
static bool vip_of(const struct ss_lb_state *s, const struct ss_meta *meta, const uint8_t ip[16],
		   uint16_t port, char *out, size_t n)
{
	for (uint32_t i = 0; i < s->n_lb; i++) {
		const struct ss_lb_vip *v = &s->lb[i];
		char a[INET6_ADDRSTRLEN];

		if (v->vnet != meta->vnet || v->backend_port != port)
			continue;
		for (uint32_t b = 0; b < v->nb; b++)
			if (memcmp(v->be[b].ip, ip, v->fam == 4 ? 4 : 16) == 0) {
				inet_ntop(v->fam == 4 ? AF_INET : AF_INET6, v->vip, a, sizeof(a));
				snprintf(out, n, v->fam == 4 ? "%s:%u" : "[%s]:%u", a, v->port);
				return true;
			}
	}
	return false;
}

static void describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
		     json_t *o, bool out)
{
	const struct ss_layer *l = ss_overlay_tenant(&st->meta);
	const struct ss_lb_state *s = ss_lb_state_get();
	char before[64], after[64];
	uint8_t ip0[16], ip1[16];
	uint16_t p0, p1;
	json_t *lb;

	if (!ss_lb_eni_on(s, st->meta.eni)) {
		json_object_set_new(o, "lb", json_string("no LB in the ENI's VNET"));
		return;
	}
	if (!endpoint(st->data, st->data_len, l, out, after, sizeof(after), ip1, &p1)) {
		json_object_set_new(o, "lb", json_string("not TCP / UDP (not balanced)"));
		return;
	}
	if (prev == NULL ||
	    !endpoint(prev->data, prev->data_len, l, out, before, sizeof(before), ip0, &p0)) {
		if (out && st->edge != 0 && vip_of(s, &st->meta, ip1, p1, before, sizeof(before)))
			json_object_set_new(o, "lb", json_pack("{s:s,s:s}", "vip", before, "backend",
								after));
		else
			json_object_set_new(o, "lb", json_pack("{s:s}", out ? "destination" : "source",
								after));
		return;
	}
	if (st->edge == 0) {
		json_object_set_new(o, "lb", json_pack("{s:s,s:s}", "vip", before, "backend",
							"none active (lb_no_backend)"));
		return;
	}
	if (memcmp(ip0, ip1, 16) == 0 && p0 == p1) {
		json_object_set_new(o, "lb", json_string(out ? "not to a VIP of the VNET"
							     : "not a reply of a balanced connection"));
		return;
	}
	lb = out ? json_pack("{s:s,s:s}", "vip", before, "backend", after)
		 : json_pack("{s:s,s:s}", "backend", before, "vip", after);
	json_object_set_new(o, "lb", lb);
}

static void describe_out(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			 json_t *o)
{
	describe(st, prev, o, true);
}

static void describe_in(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			json_t *o)
{
	describe(st, prev, o, false);
}

static struct ss_trace_describer lb_out_trace = { .node = SS_LB_NODE_OUT,
						  .describe = describe_out };
SS_TRACE_DESCRIBER_REGISTER(lb_out_trace);

static struct ss_trace_describer lb_in_trace = { .node = SS_LB_NODE_IN, .describe = describe_in };
SS_TRACE_DESCRIBER_REGISTER(lb_in_trace);
