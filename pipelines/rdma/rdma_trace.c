/* SPDX-License-Identifier: BSD-3-Clause
 *
 * rdma_steer's part of the packet trace (pipelines/trace/trace_node.h):
 * the RoCEv2 header it read, the policy that steered the packet (looked up
 * again in the published policy table, read-only, control thread) or that
 * none matched, and the egress it set.
 */
#include <rte_byteorder.h>

#include "pipelines/rdma/rdma.h"
#include "pipelines/rdma/rdma_steer.h"
#include "pipelines/trace/trace_node.h"

static void steer_describe(const struct ss_trace_step *st, const struct ss_trace_step *prev,
			   json_t *o)
{
	const struct ss_meta *m = &st->meta;
	const struct ss_layer *l = &m->hdr.outer;
	const struct ss_rdma_state *rs = __atomic_load_n(&ss_rdma_cur, __ATOMIC_ACQUIRE);
	/* the frame as the node got it (encap `vnet` prepends headers) */
	const struct ss_trace_step *in = prev != NULL ? prev : st;
	const uint8_t *ip = in->data + l->l3_off;
	bool v4 = l->l3 == SS_L3_IPV4;
	uint16_t pidx = SS_RDMA_NO_POLICY;

	json_object_set_new(o, "bth", json_pack("{s:i,s:i,s:i}", "opcode", m->bth.opcode, "dst_qp",
						m->bth.dqp, "psn", m->bth.psn));
	if (rs == NULL || l->l3_off + (v4 ? 20u : 40u) > in->data_len)
		return;
	if (v4) {
		uint32_t s, d;

		memcpy(&s, ip + 12, 4);
		memcpy(&d, ip + 16, 4);
		pidx = ss_rdma_lookup4(rs, rte_be_to_cpu_32(s), rte_be_to_cpu_32(d), m->bth.dqp);
	} else {
		pidx = ss_rdma_lookup6(rs, ip + 8, ip + 24, m->bth.dqp);
	}
	if (pidx == SS_RDMA_NO_POLICY || pidx >= rs->nb_pol) {
		json_object_set_new(o, "policy", json_null());
		return;
	}
	json_object_set_new(o, "policy", json_pack("{s:s,s:i}", "name", rs->names[pidx],
						   "priority", rs->priority[pidx]));
	if (st->edge != 0) {
		json_object_set_new(o, "out_port", ss_trace_port(m->out_port));
		json_object_set_new(o, "lossless", json_boolean(m->tx_class == SS_TX_LOSSLESS));
	}
}

static struct ss_trace_describer steer_trace = { .node = SS_RDMA_NODE,
						 .describe = steer_describe };
SS_TRACE_DESCRIBER_REGISTER(steer_trace);
