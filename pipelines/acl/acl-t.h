/* SPDX-License-Identifier: BSD-3-Clause
 *
 * ACL types (SPEC section 3.5). Functions are in acl.h.
 *
 * Who writes what
 * ---------------
 * A `struct ss_acl_state` is immutable once published: the control thread
 * builds a new one aside (prepare), publishes it with one pointer store
 * (commit) and frees the old one after an RCU grace period (reclaim). The
 * only words workers write are the per-worker rule hit counters of a group
 * (`hits`, one row per worker, each row on its own cache lines).
 *
 * Groups are shared between consecutive states: a transaction that does not
 * touch a group reuses the compiled group as is, so its rte_acl context and
 * its counters survive; a touched group is recompiled into a new object.
 */
#ifndef SS_ACL_T_H
#define SS_ACL_T_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#define SS_ACL_MAX_STAGES 5
#define SS_ACL_NAME_MAX 64
/* rte_acl entries one group may expand to (the cross product of each rule's
 * match lists); beyond it the group is refused with "capacity exceeded". */
#define SS_ACL_MAX_EXPANDED (1u << 18)

enum ss_acl_dir { SS_ACL_OUT = 0, SS_ACL_IN = 1 };

/* Binding slots of an ENI: the order of the `acl` object's lists. */
enum ss_acl_slot {
	SS_ACL_OUTBOUND_V4 = 0,
	SS_ACL_INBOUND_V4,
	SS_ACL_OUTBOUND_V6,
	SS_ACL_INBOUND_V6,
	SS_ACL_SLOTS
};

static inline unsigned int ss_acl_slot(unsigned int dir, unsigned int v6)
{
	return v6 * 2 + dir;
}

/* The classifier's input: one per packet, in network byte order. The
 * layout is what the rte_acl field definitions of acl_group.c describe
 * (the first field is one byte, then 4-byte groups). */
struct ss_acl_key {
	uint8_t proto;
	uint8_t v6;     /* not classified: selects the family */
	uint8_t pad[2];
	union {
		struct {
			rte_be32_t src;
			rte_be32_t dst;
			rte_be16_t sport;
			rte_be16_t dport;
		} a4;
		struct {
			uint8_t src[16];
			uint8_t dst[16];
			rte_be16_t sport;
			rte_be16_t dport;
		} a6;
	};
};

/* A rule as the API gives it (acl_rule objects), parsed. Lists are empty
 * when the object omits them (empty = any). */
struct ss_acl_prefix {
	uint8_t addr[16];   /* IPv4 in the first 4 bytes */
	uint8_t len;
};

struct ss_acl_range {
	uint16_t lo, hi;    /* inclusive */
};

struct ss_acl_rule {
	uint32_t priority;  /* lower wins */
	uint8_t allow;
	uint8_t terminating;
	uint16_t nsrc, ndst, nproto, nsport, ndport;
	struct ss_acl_prefix *src, *dst;
	uint8_t *proto;
	struct ss_acl_range *sport, *dport;
};

/* What the classifier's userdata leads to: rank = userdata - 1. */
struct ss_acl_action {
	uint32_t priority;
	uint8_t allow;
	uint8_t terminating;
};

struct ss_acl_group {
	struct rte_acl_ctx *ctx;       /* NULL when the group has no rule */
	const struct ss_acl_action *action; /* by rank: ascending priority */
	uint32_t nb_rules;
	uint8_t v6;
	uint32_t nb_workers;
	uint32_t stride;               /* hit counters per worker row */
	uint64_t *hits;                /* [worker * stride + rank]; worker: rw */
	/* control thread only */
	uint64_t *base;                /* [rank]: carried over from the group this
					* one replaced, minus stats.clear */
	uint64_t expanded;             /* classifier entries */
	char name[SS_ACL_NAME_MAX];
};

/* The stages of an ENI, by slot. `gen` changes whenever the effective
 * policy of the ENI changes (a bound group recompiled, a binding changed,
 * the ENI created): connection tracking re-checks flows whose generation
 * differs (SPEC 3.6 revocation). */
struct ss_acl_binding {
	uint32_t gen;
	uint8_t nstages[SS_ACL_SLOTS];
	const struct ss_acl_group *stage[SS_ACL_SLOTS][SS_ACL_MAX_STAGES];
};

struct ss_acl_state {
	/* dataplane: ro */
	uint32_t nb_bind;
	const struct ss_acl_binding *bind;   /* by ENI index */
	/* control thread only */
	struct ss_acl_binding *bind_w;       /* same memory, writable */
	char (*bind_name)[SS_ACL_NAME_MAX];  /* ENI name per index, "" = none */
	uint32_t nb_groups;
	struct ss_acl_group **groups;        /* sorted by name */
	uint32_t gen;                        /* counter value when built */
};

/* One classification request (a packet, or a flow being re-checked). */
struct ss_acl_req {
	const struct ss_acl_key *key;
	uint32_t eni;
	uint8_t dir;       /* enum ss_acl_dir */
};

/* The rules that decided a request, stage by stage: rank + 1 of the rule
 * whose hit was counted in stage s of the request's binding, 0 when the
 * stage counted none (not reached, or no rule matched). With the binding
 * (same ENI generation: same groups) it names the hit counters the
 * classification incremented (ss_acl_count_decided). */
struct ss_acl_decided {
	uint32_t rule[SS_ACL_MAX_STAGES];
};

#endif
