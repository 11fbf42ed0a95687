/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The load balancer's sessions over the HA channel (docs/ha.md, "LB
 * sessions"): a connection keeps its backend across a failover even where
 * the standby's Maglev table would pick another.
 *
 *   active   LB_SESS for each session the LB opens and LB_SESS_DEL for
 *            each it removes (events on their own ring, as conntrack's);
 *            in the bulk sync and the refresh passes, each flow sent
 *            that has an LB session is followed by its LB_SESS.
 *   standby  installs the session (forward and reverse keys) toward the
 *            named backend, replacing its own pick; an LB, ENI or backend
 *            it lacks is counted (unknown_lb, unknown_eni) and skipped.
 * Control thread only: the message building and applying; ha_chan.c sends.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_common.h>

#include "pipelines/acl/acl.h"
#include "pipelines/ha/ha_int.h"
#include "pipelines/lb/lb.h"
#include "pipelines/overlay/overlay.h"

const char *ss_ha_eni_name(uint32_t eni)
{
	const struct ss_acl_state *acl = ss_acl_current();
	const char *name = acl != NULL && eni < acl->nb_bind ? acl->bind_name[eni] : NULL;

	if (name == NULL || name[0] == '\0' || strlen(name) > SS_HA_NAME_MAX)
		return NULL;
	return name;
}

static bool lb_msg(struct ss_ha_lb *l, const struct ss_lb_skey *k, const uint8_t *bip)
{
	const char *eni = ss_ha_eni_name(k->eni);
	const char *lb = ss_lb_sess_lb_name(k);
	unsigned int alen = k->fam == 6 ? 16 : 4;

	if (eni == NULL || lb == NULL || strlen(lb) > SS_HA_NAME_MAX)
		return false;
	memset(l, 0, sizeof(*l));
	l->proto = k->proto;
	l->v6 = k->fam == 6;
	l->sport = k->sport;
	l->dport = k->dport;
	memcpy(l->src, k->src, alen);
	memcpy(l->vip, k->dst, alen);
	memcpy(l->backend, bip, alen);
	strcpy(l->lb, lb);
	strcpy(l->eni, eni);
	return true;
}

bool ss_ha_lb_from_event(struct ss_ha_lb *l, const struct ss_lb_event *ev)
{
	return lb_msg(l, &ev->key, ev->bip);
}

bool ss_ha_lb_for_flow(struct ss_ha_lb *l, const struct ss_ct_key *k, uint32_t eni,
		       uint8_t init_side)
{
	const struct ss_lb_sess *s;
	struct ss_lb_skey sk;
	unsigned int alen = k->v6 ? 16 : 4;

	if ((k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP) ||
	    !ss_lb_eni_on(ss_lb_state_get(), eni))
		return false;
	/* the connection as its initiator (the VM) sent it */
	memset(&sk, 0, sizeof(sk));
	sk.eni = eni;
	sk.proto = k->proto;
	sk.fam = k->v6 ? 6 : 4;
	memcpy(sk.src, init_side ? k->b : k->a, alen);
	memcpy(sk.dst, init_side ? k->a : k->b, alen);
	sk.sport = init_side ? k->pb : k->pa;
	sk.dport = init_side ? k->pa : k->pb;
	s = ss_lb_sess_find(&sk);
	return s != NULL && lb_msg(l, &sk, s->bip);
}

void ss_ha_lb_apply(const struct ss_ha_msg *m)
{
	const struct ss_ha_lb *l = &m->u.lb;
	int eni = ss_overlay_eni_index(l->eni);
	unsigned int alen = l->v6 ? 16 : 4;
	struct ss_lb_skey k;
	uint8_t bip[16] = { 0 };
	int rc;

	if (eni < 0) {
		ss_ha.cnt.unknown_eni++;
		return;
	}
	memset(&k, 0, sizeof(k));
	k.eni = (uint32_t)eni;
	k.proto = l->proto;
	k.fam = l->v6 ? 6 : 4;
	k.sport = l->sport;
	k.dport = l->dport;
	memcpy(k.src, l->src, alen);
	memcpy(k.dst, l->vip, alen);
	if (m->h.type == SS_HA_LB_SESS_DEL) {
		if (ss_lb_sess_remove(&k) == 0 && ss_ha.lb_sessions > 0)
			ss_ha.lb_sessions--;
		return;
	}
	memcpy(bip, l->backend, alen);
	bool had = ss_lb_sess_find(&k) != NULL;

	rc = ss_lb_sess_import(l->lb, &k, bip);
	if (rc == -ENOENT || rc == -ESRCH)
		ss_ha.cnt.unknown_lb++;
	else if (rc != 0)
		ss_ha.cnt.install_failed++;
	else if (!had)
		ss_ha.lb_sessions++;
}
