/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The overlay tables: control-plane entry points (an ss_ctl_table, see
 * control/ctl.h) and the lookups the graph nodes use.
 *
 * Threads: ss_ovl_tables_*() and ss_ovl_prepare/commit/abort/reclaim run on
 * the control thread; the inline lookups run on the workers, lock-free, and
 * what they return stays valid until the worker's next quiescent state (the
 * end of its graph walk).
 */
#ifndef SS_OVL_TABLES_H
#define SS_OVL_TABLES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control/ctl.h"
#include "pipelines/overlay/ovl_tables-t.h"

/* Allocate the empty tables. 0 or -errno. Control thread, EAL up. */
int ss_ovl_tables_init(const struct ss_ctl_limits *lim);
void ss_ovl_tables_fini(void);

/* The ss_ctl_table callbacks (ctx unused, ctl may be NULL: the tables only
 * read the changes). */
int ss_ovl_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes, size_t n,
		   char *err, size_t errlen);
void ss_ovl_commit(void *ctx);
void ss_ovl_abort(void *ctx);
void ss_ovl_reclaim(void *ctx);

/* The index the ENI has, or will have once the transaction being prepared
 * commits; -1 if none. */
int ss_ovl_eni_index(const char *name);
/* The same for VNETs and route groups (tests, stats). */
int ss_ovl_vnet_index(const char *name);
int ss_ovl_group_index(const char *name);
/* Name of a committed ENI index, NULL if none. */
const char *ss_ovl_eni_name(uint32_t index);

/* ---- data plane lookups -------------------------------------------------- */

/* The first rule of an (ENI, VNI)'s inbound routes that matches the outer
 * source (the list is sorted: longest prefix, then lowest priority). */
static inline const struct ss_ovl_inb_rule *ss_ovl_inb_list_match(const struct ss_ovl_inb_list *l,
								   int fam, const uint8_t *src)
{
	uint64_t s[2] = { 0, 0 };

	memcpy(s, src, fam == 4 ? 4 : 16);
	for (uint32_t i = 0; i < l->n; i++) {
		const struct ss_ovl_inb_rule *r = &l->r[i];

		/* addr is stored masked: (src & mask) == addr */
		if (r->fam == fam && ((s[0] & r->mask[0]) ^ r->net[0]) == 0 &&
		    ((s[1] & r->mask[1]) ^ r->net[1]) == 0)
			return r;
	}
	return NULL;
}

/* The same, looked up by (ENI, VNI). NULL when none matches. */
const struct ss_ovl_inb_rule *ss_ovl_inb_match(uint32_t eni, uint32_t vni, int fam,
					       const uint8_t *src);

static inline const struct ss_ovl_switch *ss_ovl_switch_get(void)
{
	return __atomic_load_n(&ss_ovl.sw, __ATOMIC_ACQUIRE);
}

static inline const struct ss_ovl_eni *ss_ovl_eni_get(uint32_t index)
{
	return __atomic_load_n(&ss_ovl.enis[index], __ATOMIC_ACQUIRE);
}

static inline const struct ss_ovl_vnet *ss_ovl_vnet_get(uint16_t index)
{
	return &ss_ovl.vnets[index];
}

static inline void ss_ovl_ipkey(struct ss_ovl_ipkey *k, int fam, uint16_t vnet,
				const uint8_t *addr)
{
	k->fam = (uint8_t)fam;
	k->pad = 0;
	k->vnet = vnet;
	if (fam == 4) {
		memcpy(k->addr, addr, 4);
		memset(k->addr + 4, 0, 12);
	} else {
		memcpy(k->addr, addr, 16);
	}
}

static inline const struct ss_ovl_mapping *ss_ovl_mapping_find(uint16_t vnet, int fam,
							       const uint8_t *ip)
{
	struct ss_ovl_ipkey k;
	uint64_t v;

	ss_ovl_ipkey(&k, fam, vnet, ip);
	return ovl_hash_lookup(&ss_ovl.map, &k, &v) ? (const struct ss_ovl_mapping *)(uintptr_t)v
						   : NULL;
}

/* Address equality without a libc call (len 4 or 16). */
static inline int ss_ovl_ip_eq(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	uint64_t x[2], y[2];
	uint32_t u, v;

	if (len == 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		return u == v;
	}
	memcpy(x, a, 16);
	memcpy(y, b, 16);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

/* Is addr a VIP (the switch underlay IPs or a vip.add entry)? */
static inline int ss_ovl_is_vip(const struct ss_ovl_switch *sw, int fam, const uint8_t *addr)
{
	struct ss_ovl_ipkey k;
	uint64_t v;

	if (sw != NULL) {
		if (fam == 4 && sw->has_ip4 && ss_ovl_ip_eq(addr, sw->ip4, 4))
			return 1;
		if (fam == 6 && sw->has_ip6 && ss_ovl_ip_eq(addr, sw->ip6, 16))
			return 1;
	}
	ss_ovl_ipkey(&k, fam, 0, addr);
	return ovl_hash_lookup(&ss_ovl.vip, &k, &v);
}

/* The outbound route of `dst` in a route group: 1 and *action, *vnet (0:
 * the ENI's), *ent (vnet_direct only: its overlay_ip), 0 when none. */
static inline int ss_ovl_route_find(uint16_t group, int fam, const uint8_t *dst, uint8_t *action,
				    uint16_t *vnet, const struct ss_ovl_route **ent)
{
	uint32_t nh;

	if (group == 0 ||
	    !ovl_lpm_lookup(&ss_ovl.lpm, (uint16_t)(group * 2 + (fam == 6)), fam, dst, &nh))
		return 0;
	if (nh & SS_OVL_RT_INLINE) {
		*action = (uint8_t)(nh >> 16 & 0xf);
		*vnet = (uint16_t)nh;
		*ent = NULL;
	} else {
		*ent = (const struct ss_ovl_route *)ovl_pool_get(&ss_ovl.routes, nh);
		*action = (*ent)->action;
		*vnet = (*ent)->vnet;
	}
	return 1;
}

static inline const struct ss_ovl_uroute *ss_ovl_uroute_find(int fam, const uint8_t *dst)
{
	uint32_t nh;

	if (!ovl_lpm_lookup(&ss_ovl.lpm, (uint16_t)(fam == 6), fam, dst, &nh))
		return NULL;
	return (const struct ss_ovl_uroute *)ovl_pool_get(&ss_ovl.uroutes, nh);
}

/* The ECMP member of a flow: the same one for every packet of the flow;
 * on a resilient route (ovl_tables-t.h) the member its bucket names, NULL
 * when every member is withdrawn (drop underlay_nh_down). */
static inline const struct ss_ovl_nexthop *ss_ovl_uroute_pick(const struct ss_ovl_uroute *u,
							     uint32_t flow_hash)
{
	uint8_t m;

	/* a multiply, not a division */
	if (likely(!u->resilient))
		return &u->nh[(uint32_t)(((uint64_t)flow_hash * u->n) >> 32)];
	m = __atomic_load_n(&u->bucket[flow_hash >> (32 - SS_OVL_ECMP_SHIFT)], __ATOMIC_RELAXED);
	return m < u->n ? &u->nh[m] : NULL;
}

#endif
