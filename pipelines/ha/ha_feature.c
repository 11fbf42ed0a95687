/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The HA feature (SPEC 3.11, docs/ha.md): the `ha` config section, the
 * conntrack event ring, ha.get / ha.set, the `ha` stats scope (and so its
 * Prometheus families), health.get findings for a lost peer or a lagging
 * sync, and the channel's turn on the control thread's poll (ha_chan.c).
 * Without an `ha` section the feature only answers ha.get (role "none")
 * and leaves conntrack's hooks unset.
 *
 * The ring and the hook live as long as the process: a worker that read
 * the hook before it was removed may still enqueue to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "control/err.h"
#include "dataplane/config.h"
#include "dataplane/feature.h"
#include "dataplane/health.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/ha/ha.h"
#include "pipelines/ha/ha_int.h"

#define RING_SIZE 262144            /* events (16 MB): ~2.6 s at 100k flows/s */
#define LAG_FINDING_MS 1000         /* health: a sync lagging more than this */

static const char *role_name(uint8_t r)
{
	return r == SS_HA_ROLE_ACTIVE ? "active" : r == SS_HA_ROLE_STANDBY ? "standby" : "none";
}

static const char *peer_name(uint8_t s)
{
	return s == HA_PEER_CONNECTED ? "connected" : s == HA_PEER_CONNECTING ? "connecting"
									       : "down";
}

static const char *bulk_name(uint8_t b)
{
	return b == HA_BULK_RUNNING ? "running" : b == HA_BULK_DONE ? "done" : "idle";
}

static void counters_now(struct ha_counters *c)
{
	*c = ss_ha.cnt;
	c->events_dropped = ss_ha_events_dropped();
	c->standby_rx = 0;
	for (unsigned int w = 0; w < SS_MAX_WORKERS; w++)
		c->standby_rx += __atomic_load_n(&ss_ha_wcnt[w].standby_rx, __ATOMIC_RELAXED);
}

#define D(f) (json_int_t)(c.f - ss_ha.base.f)

/* ha.get: SPEC 3.11's keys, then this implementation's counters. */
static json_t *status_json(void)
{
	struct ha_counters c;

	counters_now(&c);
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I, s:I, s:I, s:I}",
			 "role", ss_ha.conf.on ? role_name(ss_ha.conf.role) : "none",
			 "peer_state", peer_name(ss_ha.peer_state),
			 "bulk_sync", bulk_name(ss_ha.bulk),
			 "synced_flows", (json_int_t)(ss_ha.synced_flows > 0 ? ss_ha.synced_flows : 0),
			 "synced_lb_sessions",
			 (json_int_t)(ss_ha.lb_sessions > 0 ? ss_ha.lb_sessions : 0),
			 "sync_lag_ms", (json_int_t)ss_ha_lag_ms(),
			 "sent", D(sent), "received", D(received), "rejected", D(rejected),
			 "ha_standby_rx", D(standby_rx), "unknown_eni", D(unknown_eni),
			 "unknown_lb", D(unknown_lb),
			 "install_failed", D(install_failed), "events_dropped", D(events_dropped),
			 "resyncs", D(resyncs), "bulk_syncs", D(bulk_syncs),
			 "failovers", D(failovers));
}

static int m_ha_get(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		    char *err, size_t errlen, const char **field)
{
	(void)ctx;
	(void)ctl;
	if (params != NULL && json_is_object(params) && json_object_size(params) > 0) {
		snprintf(err, errlen, "ha.get takes no parameters");
		*field = json_object_iter_key(json_object_iter((json_t *)params));
		return SS_RPC_INVALID_PARAMS;
	}
	*result = status_json();
	if (ss_ha.conf.on && *result != NULL) {
		json_object_set_new(*result, "listen", json_string(ss_ha.conf.listen));
		json_object_set_new(*result, "peer", json_string(ss_ha.conf.peer));
		json_object_set_new(*result, "auto_failover", json_boolean(ss_ha.conf.auto_failover));
		json_object_set_new(*result, "peer_timeout_ms",
				    json_integer(ss_ha.conf.peer_timeout_ms));
	}
	return *result ? 0 : SS_RPC_INTERNAL;
}

static int m_ha_set(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		    char *err, size_t errlen, const char **field)
{
	const char *k, *role;
	const json_t *v;

	(void)ctx;
	(void)ctl;
	if (!json_is_object(params)) {
		snprintf(err, errlen, "ha.set takes {\"role\": \"active\" | \"standby\"}");
		return SS_RPC_INVALID_PARAMS;
	}
	json_object_foreach((json_t *)params, k, v) {
		if (strcmp(k, "role") != 0) {
			snprintf(err, errlen, "ha.set: unknown field %.64s", k);
			*field = k;
			return SS_RPC_INVALID_PARAMS;
		}
	}
	role = json_string_value(json_object_get(params, "role"));
	if (role == NULL || (strcmp(role, "active") != 0 && strcmp(role, "standby") != 0)) {
		snprintf(err, errlen, "role must be \"active\" or \"standby\"");
		*field = "role";
		return SS_RPC_INVALID_PARAMS;
	}
	if (!ss_ha.conf.on) {
		snprintf(err, errlen, "ha: no `ha` section in the config: this switch has no peer");
		*field = "role";
		return SS_ERR_NOT_SUPPORTED;
	}
	if (strcmp(role, "active") == 0 && ss_ha.conf.role == SS_HA_ROLE_STANDBY)
		ss_ha.cnt.failovers++;
	ss_ha_chan_set_role(strcmp(role, "active") == 0 ? SS_HA_ROLE_ACTIVE : SS_HA_ROLE_STANDBY);
	*result = status_json();
	return *result ? 0 : SS_RPC_INTERNAL;
}

/* ---- stats scope `ha` (Prometheus: sswitch_ha_*) ---------------------------------- */

static json_t *ha_stats_get(void *ctx)
{
	json_t *o = status_json();

	(void)ctx;
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "connected", json_integer(ss_ha.peer_state == HA_PEER_CONNECTED));
	json_object_set_new(o, "standby", json_integer(ss_ha.conf.on &&
						       ss_ha.conf.role == SS_HA_ROLE_STANDBY));
	json_object_del(o, "role");
	json_object_del(o, "peer_state");
	json_object_del(o, "bulk_sync");
	/* the scope keeps its documented shape (and Prometheus families,
	 * docs/operations.md): the LB session counters are ha.get's */
	json_object_del(o, "synced_lb_sessions");
	json_object_del(o, "unknown_lb");
	return o;
}

static void ha_stats_clear(void *ctx)
{
	(void)ctx;
	counters_now(&ss_ha.base);
}

/* ---- health.get ----------------------------------------------------------------- */

static void health_findings(void *ctx, json_t *findings)
{
	char obj[96], msg[256];
	uint64_t lag;

	(void)ctx;
	if (!ss_ha.conf.on)
		return;
	snprintf(obj, sizeof(obj), "ha peer %s", ss_ha.conf.peer);
	if (ss_ha.peer_state != HA_PEER_CONNECTED) {
		snprintf(msg, sizeof(msg), "%s is %s: %s", obj, peer_name(ss_ha.peer_state),
			 ss_ha.conf.role == SS_HA_ROLE_ACTIVE
				 ? "flows are not synchronised, a failover would reset connections"
				 : "no flow updates arrive");
		json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "finding", "ha_peer_lost",
							  "object", obj, "message", msg));
		return;
	}
	lag = ss_ha_lag_ms();
	if (ss_ha.conf.role == SS_HA_ROLE_ACTIVE && lag > LAG_FINDING_MS) {
		snprintf(msg, sizeof(msg),
			 "%s: sync lags %llu ms: connections newer than that would not survive a "
			 "failover", obj, (unsigned long long)lag);
		json_array_append_new(findings, json_pack("{s:s, s:s, s:s}", "finding",
							  "ha_sync_lagging", "object", obj,
							  "message", msg));
	}
}

/* ---- the feature -------------------------------------------------------------------- */

static void ha_poll(void)
{
	ss_ha_chan_poll();
}

static uint64_t ha_poll_in_us(void)
{
	return ss_ha_chan_poll_in_us();
}

static void ha_fini(void)
{
	ss_ct_sync_set(NULL);
	ss_lb_sync_set(NULL);
	ss_ha_hold_creates(false);
	ss_ha_chan_close();
	rte_ring_free(ss_ha.ring);
	ss_ha.ring = NULL;
	ss_ha.hook.ring = NULL;
	rte_ring_free(ss_ha.lb_ring);
	ss_ha.lb_ring = NULL;
	ss_ha.lb_hook.ring = NULL;
	ss_ha.conf.on = false;
}

static int ha_conf(const struct ss_config *cfg, char *err, size_t errlen)
{
	struct ha_conf *c = &ss_ha.conf;

	c->on = true;
	c->role = cfg->ha_role;
	c->auto_failover = cfg->ha_auto_failover;
	c->peer_timeout_ms = cfg->ha_peer_timeout_ms;
	snprintf(c->listen, sizeof(c->listen), "%s", cfg->ha_listen);
	snprintf(c->peer, sizeof(c->peer), "%s", cfg->ha_peer);
	if (ss_ha_parse_addr(c->listen, &c->listen_sa, &c->listen_len) != 0) {
		snprintf(err, errlen, "ha.listen \"%s\": not IP:PORT", c->listen);
		return -EINVAL;
	}
	if (ss_ha_parse_addr(c->peer, &c->peer_sa, &c->peer_len) != 0) {
		snprintf(err, errlen, "ha.peer \"%s\": not IP:PORT", c->peer);
		return -EINVAL;
	}
	return 0;
}

static int ha_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_stats stats = {
		.scope = "ha",
		.get = ha_stats_get,
		.clear = ha_stats_clear,
	};

	if (ss_ctl_register_method(ctl, "ha.get", m_ha_get, NULL) != 0 ||
	    ss_ctl_register_method(ctl, "ha.set", m_ha_set, NULL) != 0 ||
	    ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_health_add_source(health_findings, NULL) != 0) {
		snprintf(err, errlen, "ha: cannot register ha.get, ha.set, its stats and findings");
		return -1;
	}
	ss_ha.hz = rte_get_tsc_hz();
	if (cfg->ha_role == 0)
		return 0;
	if (ha_conf(cfg, err, errlen) != 0)
		return -1;
	/* multi-producer (workers, control thread), single consumer (poll) */
	ss_ha.ring = rte_ring_create_elem("ss_ha", sizeof(struct ss_ct_event), RING_SIZE,
					  SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (ss_ha.ring == NULL) {
		snprintf(err, errlen, "ha: cannot create the flow event ring of %u events: %s",
			 RING_SIZE, rte_strerror(rte_errno));
		ss_ha.conf.on = false;
		return -1;
	}
	ss_ha.hook.ring = ss_ha.ring;
	ss_ha.lb_ring = rte_ring_create_elem("ss_ha_lb", sizeof(struct ss_lb_event), RING_SIZE,
					     SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (ss_ha.lb_ring == NULL) {
		snprintf(err, errlen, "ha: cannot create the LB session event ring of %u events: %s",
			 RING_SIZE, rte_strerror(rte_errno));
		ha_fini();
		return -1;
	}
	ss_ha.lb_hook.ring = ss_ha.lb_ring;
	if (ss_ha_chan_open(err, errlen) != 0) {
		ha_fini();
		return -1;
	}
	ss_ha_hold_creates(ss_ha.conf.role == SS_HA_ROLE_STANDBY);
	ss_ct_sync_set(ss_ha.conf.role == SS_HA_ROLE_ACTIVE ? &ss_ha.hook : NULL);
	ss_lb_sync_set(ss_ha.conf.role == SS_HA_ROLE_ACTIVE ? &ss_ha.lb_hook : NULL);
	return 0;
}

static struct ss_feature ha = {
	.name = "ha",
	.depends_on = SS_FEATURE_DEPS("overlay", "acl", "conntrack", "lb"),
	.init = ha_init,
	.fini = ha_fini,
	.poll = ha_poll,
	.poll_in_us = ha_poll_in_us,
};
SS_FEATURE_REGISTER(ha);
