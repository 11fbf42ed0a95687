/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Underlay next hops coupled to BFD sessions (SPEC 3.10): the member sets
 * of resilient underlay routes (ovl_tables-t.h).
 *
 * A route whose next hops name BFD sessions (next_hops[].bfd) picks its
 * member through SS_OVL_ECMP_BUCKETS buckets. Bucket b's own member is
 * b * n / B; while it is withdrawn the bucket goes to the members still
 * up, the k-th of them for bucket b being (b mod up), so the dead member's
 * flows spread evenly and every other flow keeps its member. When the
 * session is Up again its buckets come back to it. With no member up every
 * bucket is SS_OVL_NH_NONE: drop `underlay_nh_down`.
 *
 * Control thread only. Publication: the buckets are rewritten in place with
 * single-byte stores (a worker sees the old member or the new one, both
 * valid next hops of the route), then ss_ovl_gen is bumped (release), so a
 * flow-cached transform resolved before the change is not used again.
 */
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_tables-int.h"

/* ovl_pkt.h (which brings the graph and drop headers this file does not
 * need): defined and bumped by ss_ovl_commit too */
extern uint32_t ss_ovl_gen;

static ss_overlay_nh_up_fn nh_up;

void ss_overlay_set_nh_liveness(ss_overlay_nh_up_fn fn)
{
	nh_up = fn;
}

int ovl_uroute_members(struct ss_ovl_uroute *u)
{
	uint8_t list[SS_OVL_MAX_NEXT_HOPS];
	uint8_t n_up = 0;
	int changed = 0;

	for (uint16_t i = 0; i < u->n && i < SS_OVL_MAX_NEXT_HOPS; i++) {
		const struct ss_ovl_nh_bfd *b = &u->bfd[i];
		uint8_t up = b->fam == 0 || (nh_up != NULL && nh_up(b->fam, b->ip));

		if (up != u->bfd[i].up)
			changed = 1;
		u->bfd[i].up = up;
		if (up)
			list[n_up++] = (uint8_t)i;
	}
	for (uint32_t b = 0; b < SS_OVL_ECMP_BUCKETS; b++) {
		uint32_t own = b * u->n / SS_OVL_ECMP_BUCKETS;
		uint8_t m = u->bfd[own].up ? (uint8_t)own
			    : n_up ? list[b % n_up] : SS_OVL_NH_NONE;

		if (u->bucket[b] != m) {
			__atomic_store_n(&u->bucket[b], m, __ATOMIC_RELAXED);
			changed = 1;
		}
	}
	u->n_up = n_up;
	return changed;
}

unsigned int ss_overlay_nh_liveness_changed(void)
{
	const struct ovl_pool *p = &ss_ovl.uroutes;
	unsigned int changed = 0;

	if (p->chunks == NULL)
		return 0;
	/* every entry ever allocated: a released one not yet reused is
	 * updated too, harmlessly (nothing new reaches it) */
	for (uint32_t idx = 1; idx < p->ids.next; idx++) {
		struct ss_ovl_uroute *u;

		if (p->chunks[idx >> OVL_POOL_CHUNK_SHIFT] == NULL)
			continue;
		u = ovl_pool_get(p, idx);
		if (u->resilient)
			changed += (unsigned int)ovl_uroute_members(u);
	}
	if (changed)
		__atomic_fetch_add(&ss_ovl_gen, 1, __ATOMIC_RELEASE);
	return changed;
}
