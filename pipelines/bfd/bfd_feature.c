/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The BFD feature (docs/bfd.md, SPEC 3.10): the `bfd` table (bfd_sess.c),
 * the runtime fields of bfd.list / bfd.get, the `bfd` stats scope (and so
 * its Prometheus gauges), health.get findings (sessions not Up, next hops
 * withdrawn), and the overlay's next-hop liveness. Its nodes place
 * themselves (bfd_node.c); the sessions run from the main loop (.poll).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/health.h"
#include "dataplane/port-t.h"
#include "dataplane/prometheus.h"
#include "pipelines/bfd/bfd_int.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_types.h"

static struct ss_ctl *bfd_ctl;

/* ---- bfd.list / bfd.get: the session's runtime ------------------------------------- */

static void sess_decorate(void *ctx, struct ss_ctl *ctl, const json_t *obj, json_t *out)
{
	const struct ss_bfd_sess *s =
		ss_bfd_find_key(json_string_value(json_object_get(obj, "peer")));
	const struct ss_bfd_fsm *f = s ? &s->fsm : NULL;
	uint64_t now = ss_bfd_now_us();
	char mac[24] = "";

	(void)ctx;
	(void)ctl;
	if (s == NULL) {
		json_object_set_new(out, "state", json_string("down"));
		return;
	}
	if (s->mac_known)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1],
			 s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
	json_object_set_new(out, "state", json_string(ss_bfd_state_name(f->state)));
	json_object_set_new(out, "remote_state", json_string(ss_bfd_state_name(f->remote_state)));
	json_object_set_new(out, "local_diag", json_string(ss_bfd_diag_name(f->local_diag)));
	json_object_set_new(out, "remote_diag", json_string(ss_bfd_diag_name(f->remote_diag)));
	json_object_set_new(out, "local_discr", json_integer(f->local_discr));
	json_object_set_new(out, "remote_discr", json_integer(f->remote_discr));
	json_object_set_new(out, "up_transitions", json_integer((json_int_t)f->up_transitions));
	json_object_set_new(out, "down_transitions",
			    json_integer((json_int_t)f->down_transitions));
	json_object_set_new(out, "last_change_ms_ago",
			    json_integer((json_int_t)((now - f->last_change) / 1000)));
	json_object_set_new(out, "tx_packets", json_integer((json_int_t)s->tx_packets));
	json_object_set_new(out, "rx_packets", json_integer((json_int_t)s->rx_packets));
	json_object_set_new(out, "rx_discarded", json_integer((json_int_t)s->rx_discarded));
	json_object_set_new(out, "detect_time_ms",
			    json_integer((json_int_t)(ss_bfd_fsm_detect_time(f) / 1000)));
	json_object_set_new(out, "poll", json_boolean(f->poll));
	json_object_set_new(out, "peer_mac", s->mac_known ? json_string(mac) : json_null());
}

/* ---- stats scope `bfd` ------------------------------------------------------------- */

static json_t *stats_get(void *ctx)
{
	json_t *sess = json_object(), *disc = json_object();

	(void)ctx;
	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		const struct ss_bfd_sess *s = &ss_bfd.s[i];

		if (!s->used)
			continue;
		json_object_set_new(sess, s->key, json_pack(
			"{s:i, s:i, s:I, s:I, s:I, s:I, s:I}",
			"up", s->fsm.state == SS_BFD_UP, "state", (int)s->fsm.state,
			"up_transitions", (json_int_t)s->fsm.up_transitions,
			"down_transitions", (json_int_t)s->fsm.down_transitions,
			"tx_packets", (json_int_t)(s->tx_packets - s->base_tx),
			"rx_packets", (json_int_t)(s->rx_packets - s->base_rx),
			"rx_discarded", (json_int_t)(s->rx_discarded - s->base_disc)));
	}
	for (unsigned int r = 1; r < SS_BFD_DISC_COUNT; r++)
		json_object_set_new(disc, ss_bfd_discard_name(r),
				    json_integer((json_int_t)(ss_bfd.disc[r] - ss_bfd.disc_base[r])));
	return json_pack("{s:o, s:o}", "sessions", sess, "discards", disc);
}

static void stats_clear(void *ctx)
{
	(void)ctx;
	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		struct ss_bfd_sess *s = &ss_bfd.s[i];

		s->base_tx = s->tx_packets;
		s->base_rx = s->rx_packets;
		s->base_disc = s->rx_discarded;
	}
	memcpy(ss_bfd.disc_base, ss_bfd.disc, sizeof(ss_bfd.disc));
}

/* ---- health.get ------------------------------------------------------------------------ */

static void add_finding(json_t *findings, const char *kind, const char *object, const char *msg)
{
	json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "finding", kind, "object",
						  object, "message", msg));
}

struct nh_scan {
	json_t *findings;
};

static int route_findings(void *arg, const void *rec)
{
	const struct ss_underlay_route_rec *r = rec;
	struct nh_scan *sc = arg;
	char pfx[64], peer[48], obj[96], msg[256];

	if (inet_ntop(r->prefix.family, r->prefix.bytes, pfx, sizeof(pfx)) == NULL)
		return 0;
	snprintf(obj, sizeof(obj), "underlay_route %s/%u", pfx, r->prefix.len);
	for (uint32_t i = 0; i < r->n_next_hops; i++) {
		const struct ss_next_hop_rec *h = &r->next_hops[i];
		const struct ss_bfd_sess *s;

		if (h->bfd.family == 0 || ss_bfd_peer_up(h->bfd.family == AF_INET ? 4 : 6,
							 h->bfd.bytes))
			continue;
		inet_ntop(h->bfd.family, h->bfd.bytes, peer, sizeof(peer));
		s = ss_bfd_find_key(peer);
		snprintf(msg, sizeof(msg),
			 "%s: next_hops[%u] (port %s) withdrawn from the ECMP set: bfd %s %s", obj,
			 i, h->port, peer, s ? ss_bfd_state_name(s->fsm.state) : "has no session");
		add_finding(sc->findings, "next_hop_withdrawn", obj, msg);
	}
	return 0;
}

static void health_findings(void *ctx, json_t *findings)
{
	struct nh_scan sc = { .findings = findings };
	char msg[256];

	(void)ctx;
	for (unsigned int i = 0; i < SS_BFD_MAX_SESSIONS; i++) {
		const struct ss_bfd_sess *s = &ss_bfd.s[i];

		if (!s->used || s->fsm.state == SS_BFD_UP)
			continue;
		snprintf(msg, sizeof(msg), "bfd %s on port %s is %s (diag %s)%s%s", s->key,
			 s->cfg.port, ss_bfd_state_name(s->fsm.state),
			 ss_bfd_diag_name(s->fsm.local_diag),
			 s->has_local ? "" : ": no local address (local_ip or switch underlay IP)",
			 s->has_local && !s->mac_known ? ": peer MAC not resolved" : "");
		add_finding(findings, "bfd_down", s->key, msg);
	}
	if (bfd_ctl != NULL)
		ss_ctl_store_foreach_rec(bfd_ctl, &ss_type_underlay_route, route_findings, &sc);
}

/* ---- the feature ---------------------------------------------------------------------- */

static void bfd_fini(void)
{
	ss_overlay_set_nh_liveness(NULL);
	ss_bfd_teardown();
	bfd_ctl = NULL;
}

static int bfd_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "bfd",
		.prepare = ss_bfd_prepare,
		.commit = ss_bfd_commit,
		.abort = ss_bfd_abort,
		.reclaim = ss_bfd_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "bfd",
		.get = stats_get,
		.clear = stats_clear,
	};

	(void)cfg;
	if (ss_bfd_setup(err, errlen) != 0)
		return -1;
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_ctl_register_decorator(ctl, "bfd", sess_decorate, NULL) != 0 ||
	    ss_prom_scope_labels("bfd", (const char *const[]){ "table", "peer", NULL }) != 0 ||
	    ss_health_add_source(health_findings, NULL) != 0) {
		bfd_fini();
		snprintf(err, errlen, "cannot register the bfd table, stats and health findings");
		return -1;
	}
	bfd_ctl = ctl;
	ss_overlay_set_nh_liveness(ss_bfd_peer_up);
	return 0;
}

static struct ss_feature bfd = {
	.name = "bfd",
	.depends_on = SS_FEATURE_DEPS("overlay"),
	.init = bfd_init,
	.fini = bfd_fini,
	.poll = ss_bfd_poll,
	.poll_in_us = ss_bfd_poll_in_us,
};
SS_FEATURE_REGISTER(bfd);
