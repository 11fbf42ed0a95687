/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Private Link's data-plane state (SPEC 3.8, docs/privatelink.md).
 *
 * One immutable struct ss_pl_state, rebuilt whole by the control thread
 * whenever a transaction touches a private-link mapping, a tunnel or an ENI
 * with `pl_underlay_ip` (they are few: the 1M ordinary mappings never
 * enter it), published with one release store and freed after the RCU
 * grace period. Workers load it once per burst (acquire) and hold no
 * reference across graph walks.
 *
 * Contents:
 *   eni[i]   by ENI index (n_eni entries, 0 when no ENI has a
 *            pl_underlay_ip): the ENI's pl_underlay_ip, MAC, VNET index,
 *            VLAN tag and admin state;
 *   by_mac   the ENIs with a pl_underlay_ip by MAC (open addressing,
 *            mac_mask + 1 slots holding the ENI index): replies are found
 *            by (pl_underlay_ip, inner destination MAC);
 *   ep[]     the private endpoints (mappings with routing privatelink),
 *            found by (VNET index, family, overlay address) through `fwd`
 *            and, for replies, by (VNET index, the service's IPv6 address)
 *            through `rev` (open addressing, mask + 1 slots each, holding
 *            index + 1);
 *   tun[]    tunnels (PL NSG), by index from ep[].tunnel;
 *   vip[]    the distinct pl_underlay_ips (few: a linear scan).
 *
 * Counters: per worker, per ENI index (ss_pl_ctr[w][eni]), written by that
 * worker only; summed by the control thread.
 */
#ifndef SS_PL_H
#define SS_PL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "dataplane/worker-t.h"
#include "pipelines/privatelink/pl_types.h"

#define SS_PL_NODE_OUT "pl_out"
#define SS_PL_NODE_IN "pl_in"

struct ss_pl_eni {
	uint8_t has;                 /* a pl_underlay_ip is set */
	uint8_t fam;                 /* 4 or 6 */
	uint16_t vnet;
	uint8_t ip[16];              /* pl_underlay_ip */
	uint8_t mac[6];              /* the ENI's MAC (replies: inner destination) */
	uint8_t admin_up;
	uint16_t vlan;               /* its host port tag, 0: none (pl_bytes of replies) */
};

struct ss_pl_ep {
	uint16_t vnet;               /* key: VNET index, family, address */
	uint8_t fam;
	uint8_t pa_fam;
	uint8_t ip[16];
	uint8_t pa[16];              /* the mapping's underlay_ip */
	uint8_t mac[6];              /* the mapping's mac */
	uint8_t sip_len, dip_len;    /* <= 96 or 128 */
	uint8_t sip[16], dip[16];    /* overlay_sip, overlay_dip (prefix bits) */
	uint8_t svc[16];             /* the service's address: overlay_dip + ip */
	uint32_t vni;                /* the mapping's vni, else its VNET's */
	int32_t tunnel;              /* index in tun[], -1: none */
};

struct ss_pl_tun {
	uint32_t vni;
	uint32_t n;
	struct {
		uint8_t fam;
		uint8_t ip[16];
	} m[SS_PL_TUNNEL_MAX_IPS];
};

struct ss_pl_vip {
	uint8_t fam;
	uint8_t ip[16];
};

struct ss_pl_state {
	uint32_t n_eni;
	struct ss_pl_eni *eni;
	uint32_t mac_mask;
	uint32_t *by_mac;
	uint32_t n_ep, mask;
	struct ss_pl_ep *ep;
	uint32_t *fwd, *rev;
	uint32_t n_tun;
	struct ss_pl_tun *tun;
	uint32_t n_vip;
	struct ss_pl_vip *vip;
};

/* dataplane: ro (acquire); ctlplane: rw in commit */
extern struct ss_pl_state *ss_pl_published;

static inline const struct ss_pl_state *ss_pl_state_get(void)
{
	return __atomic_load_n(&ss_pl_published, __ATOMIC_ACQUIRE);
}

static inline uint32_t ss_pl_hash(uint16_t vnet, uint8_t fam, const uint8_t *ip)
{
	uint32_t h = rte_hash_crc_4byte((uint32_t)vnet << 8 | fam, 0x5eed);
	uint32_t w;

	for (unsigned int i = 0; i < (fam == 4 ? 4u : 16u); i += 4) {
		memcpy(&w, ip + i, 4);
		h = rte_hash_crc_4byte(w, h);
	}
	return h;
}

/* The private endpoint (vnet, fam, ip), NULL if none. */
static inline const struct ss_pl_ep *ss_pl_ep_find(const struct ss_pl_state *st, uint16_t vnet,
						    uint8_t fam, const uint8_t *ip)
{
	unsigned int alen = fam == 4 ? 4 : 16;

	if (st->n_ep == 0)
		return NULL;
	for (uint32_t s = ss_pl_hash(vnet, fam, ip) & st->mask;; s = (s + 1) & st->mask) {
		uint32_t v = st->fwd[s];
		const struct ss_pl_ep *e;

		if (v == 0)
			return NULL;
		e = &st->ep[v - 1];
		if (e->vnet == vnet && e->fam == fam && memcmp(e->ip, ip, alen) == 0)
			return e;
	}
}

/* The IPv4 private endpoint whose service address is `svc` in `vnet`. */
static inline const struct ss_pl_ep *ss_pl_ep_by_svc(const struct ss_pl_state *st,
						      uint16_t vnet, const uint8_t svc[16])
{
	if (st->n_ep == 0)
		return NULL;
	for (uint32_t s = ss_pl_hash(vnet, 6, svc) & st->mask;; s = (s + 1) & st->mask) {
		uint32_t v = st->rev[s];
		const struct ss_pl_ep *e;

		if (v == 0)
			return NULL;
		e = &st->ep[v - 1];
		if (e->vnet == vnet && memcmp(e->svc, svc, 16) == 0)
			return e;
	}
}

static inline bool ss_pl_is_vip(const struct ss_pl_state *st, uint8_t fam, const uint8_t *ip)
{
	for (uint32_t i = 0; i < st->n_vip; i++)
		if (st->vip[i].fam == fam && memcmp(st->vip[i].ip, ip, fam == 4 ? 4 : 16) == 0)
			return true;
	return false;
}

static inline uint32_t ss_pl_mac_hash(const uint8_t mac[6])
{
	uint32_t a, b = (uint32_t)(mac[4] << 8 | mac[5]);

	memcpy(&a, mac, 4);
	return rte_hash_crc_4byte(b, rte_hash_crc_4byte(a, 0x5eed));
}

/* A reply from a private endpoint's service (SPEC 3.8): the ENI whose
 * pl_underlay_ip is the outer destination (fam, vip) and whose MAC is the
 * inner destination, and the endpoint of its VNET whose service address is
 * the inner source and whose VNI is the packet's. *eni := the ENI index.
 * NULL when the packet is no such reply. */
static inline const struct ss_pl_ep *ss_pl_reply_find(const struct ss_pl_state *st, uint8_t fam,
						       const uint8_t *vip, const uint8_t mac[6],
						       uint32_t vni, const uint8_t svc[16],
						       uint32_t *eni)
{
	if (st->by_mac == NULL)
		return NULL;
	for (uint32_t s = ss_pl_mac_hash(mac) & st->mac_mask;; s = (s + 1) & st->mac_mask) {
		uint32_t i = st->by_mac[s];
		const struct ss_pl_eni *e;
		const struct ss_pl_ep *ep;

		if (i == 0)
			return NULL;
		e = &st->eni[i];
		if (memcmp(e->mac, mac, 6) != 0 || e->fam != fam ||
		    memcmp(e->ip, vip, fam == 4 ? 4 : 16) != 0)
			continue;
		ep = ss_pl_ep_by_svc(st, e->vnet, svc);
		if (ep != NULL && ep->vni == vni) {
			*eni = i;
			return ep;
		}
	}
}

/* ---- counters ------------------------------------------------------------------ */

struct ss_pl_ctr {
	uint64_t packets;            /* forwarded private-link packets, both directions */
	uint64_t bytes;              /* the tenant frame, IPv4 side */
};

extern struct ss_pl_ctr *ss_pl_ctr[SS_MAX_WORKERS];

static inline void ss_pl_count(unsigned int worker, uint32_t eni, uint32_t bytes)
{
	ss_pl_ctr[worker][eni].packets++;
	ss_pl_ctr[worker][eni].bytes += bytes;
}

/* ---- control thread (pl_table.c) --------------------------------------------- */

struct ss_ctl;
struct ss_change;

int ss_pl_setup(uint32_t max_enis, unsigned int nb_workers, char *err, size_t errlen);
void ss_pl_teardown(void);
int ss_pl_prepare(struct ss_ctl *ctl, const struct ss_change *changes, size_t n, char *err,
		  size_t errlen);
void ss_pl_commit(void);
void ss_pl_abort(void);
void ss_pl_reclaim(void);
/* The ENI's counters since it started using private link or the last
 * stats.clear; ss_pl_counters_clear moves every baseline. */
void ss_pl_counters(uint32_t idx, struct ss_pl_ctr *out);
void ss_pl_counters_clear(void);
/* Calls fn for each ENI with a pl_underlay_ip (committed): name, index. */
void ss_pl_foreach_eni(void (*fn)(void *arg, const char *name, uint32_t index), void *arg);

#endif
