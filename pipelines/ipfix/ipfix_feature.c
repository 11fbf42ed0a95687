/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The IPFIX exporter (SPEC 5, docs/ipfix.md). Conntrack makes the flow
 * records (pipelines/conntrack: at each flow's end on whichever thread ends
 * it, and on active timeout from the control thread's sweep) and puts them
 * on this feature's ring without waiting (struct ss_ct_export). Everything
 * here runs on the control thread:
 *
 *   table    the `ipfix` settings object: prepare opens the UDP socket of a
 *            new collector (the only step that can fail), commit swaps the
 *            settings and installs (or removes) the ring as conntrack's
 *            record sink, reclaim closes the old socket;
 *   poll     drains the ring into IPFIX messages (ipfix_msg.c), sends the
 *            templates first and every template_refresh_s, and the data
 *            records with the domain's sequence number;
 *   ipfix.get  the settings with the exporter's counters (a decorator);
 *   stats    scope `ipfix` (also Prometheus): the same counters.
 *
 * The ring and the hook live as long as the process: a worker that read
 * the hook before it was removed may still enqueue to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/feature.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/ipfix/ipfix_msg.h"
#include "pipelines/ipfix/ipfix_types.h"
#include "pipelines/overlay/overlay.h"
#include "pipelines/overlay/ovl_types.h"

#define RING_SIZE 65536          /* records (~6 MB) */
#define POLL_BUDGET 8192         /* records per poll turn */
#define BURST 64

struct exp_conf {
	bool on;
	char collector[SS_REC_NAME];
	uint32_t domain;
	uint32_t active_s;
	uint32_t refresh_s;
	int fd;                  /* connected UDP socket, -1 when off */
};

struct exp_counters {
	uint64_t records;        /* data records sent (one per flow direction) */
	uint64_t messages;       /* data messages sent */
	uint64_t templates;      /* template messages sent */
	uint64_t send_errors;    /* messages the socket refused */
	uint64_t flows;          /* conntrack records taken off the ring */
	uint64_t dropped;        /* baseline of the hook's counter */
};

static struct {
	struct rte_ring *ring;
	struct ss_ct_export hook;
	struct exp_conf cur, pend;
	bool staged;             /* pend is to be committed */
	int old_fd;              /* closed at reclaim */
	uint32_t seq;            /* data records sent in this domain's stream */
	uint64_t last_tmpl;      /* tsc of the last template message, 0: due */
	struct ss_ipfix_clock clock;
	struct exp_counters cnt, base;
	/* VNI of each ENI index as last published: a deleted ENI's flows are
	 * flushed (and reported) after it left the overlay's tables, and
	 * their records still carry its VNI. Control thread only. */
	uint32_t *eni_vni;           /* [nb_eni] */
	uint32_t nb_eni;
	uint32_t *touched, nb_touched, cap_touched;   /* ENI indexes of this txn */
} g = { .cur = { .fd = -1 }, .pend = { .fd = -1 }, .old_fd = -1 };

/* The VNI a record of ENI `eni` carries. */
static uint32_t eni_vni(uint32_t eni)
{
	uint32_t vni = eni < g.nb_eni ? g.eni_vni[eni] : 0;

	return vni ? vni : ss_overlay_eni_vni(eni);
}

/* ---- sending ------------------------------------------------------------------ */

static void msg_send(struct ss_ipfix_msg *m, bool data)
{
	size_t len = ss_ipfix_msg_finish(m, (uint32_t)time(NULL), g.seq, g.cur.domain);

	if (send(g.cur.fd, m->buf, len, MSG_DONTWAIT) != (ssize_t)len)
		g.cnt.send_errors++;
	else if (data)
		g.cnt.messages++;
	else
		g.cnt.templates++;
	if (data) {
		/* RFC 7011 3.1: the records sent before the next message, lost
		 * ones included (the collector sees the gap) */
		g.seq += m->nb_data;
		g.cnt.records += m->nb_data;
	}
	ss_ipfix_msg_init(m);
}

static void templates_send(uint64_t now)
{
	struct ss_ipfix_msg m;

	ss_ipfix_msg_init(&m);
	ss_ipfix_msg_add_templates(&m);   /* an empty message has room */
	msg_send(&m, false);
	g.last_tmpl = now;
}

static void ipfix_poll(void)
{
	uint64_t now = rte_rdtsc();
	struct ss_ct_record r[BURST];
	struct ss_ipfix_msg m;
	unsigned int n, total = 0;

	if (g.ring == NULL)
		return;
	if (!g.cur.on) {
		/* records made before the export was turned off */
		while (rte_ring_sc_dequeue_burst_elem(g.ring, r, sizeof(r[0]), BURST, NULL) > 0)
			;
		return;
	}
	if (g.last_tmpl == 0 ||
	    now - g.last_tmpl >= (uint64_t)g.cur.refresh_s * rte_get_tsc_hz())
		templates_send(now);
	ss_ipfix_msg_init(&m);
	while (total < POLL_BUDGET &&
	       (n = rte_ring_sc_dequeue_burst_elem(g.ring, r, sizeof(r[0]), BURST, NULL)) > 0) {
		total += n;
		g.cnt.flows += n;
		for (unsigned int i = 0; i < n; i++) {
			struct ss_ipfix_flow f[2];
			unsigned int k = ss_ipfix_from_record(&r[i], eni_vni(r[i].key.eni),
							      &g.clock, f);

			for (unsigned int j = 0; j < k; j++)
				if (ss_ipfix_msg_add(&m, &f[j]) != 0) {
					msg_send(&m, true);
					ss_ipfix_msg_add(&m, &f[j]);   /* fits an empty one */
				}
		}
	}
	if (m.nb_data > 0)
		msg_send(&m, true);
}

/* ---- the settings table ---------------------------------------------------------- */

static int open_collector(const char *coll, int *fd, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	unsigned int salen;
	int s;

	if (ss_ipfix_parse_collector(coll, &sa, &salen) != 0) {
		snprintf(err, errlen, "ipfix collector \"%s\": not ADDRESS:PORT", coll);
		return -EINVAL;
	}
	s = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, salen) != 0) {
		int e = errno;

		snprintf(err, errlen, "ipfix collector %s: cannot open a UDP socket to it: %s",
			 coll, strerror(e));
		if (s >= 0)
			close(s);
		return -e;
	}
	*fd = s;
	return 0;
}

static void ipfix_abort(void *ctx)
{
	(void)ctx;
	if (g.staged && g.pend.fd >= 0 && g.pend.fd != g.cur.fd)
		close(g.pend.fd);
	g.staged = false;
	g.pend.fd = -1;
	g.nb_touched = 0;
}

/* ENIs added or changed by the transaction: their VNI is read at commit,
 * once the overlay (committed before this table) published them. */
static int note_enis(const struct ss_change *ch, size_t n)
{
	g.nb_touched = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ss_eni_rec *e = ch[i].rec;
		int idx;

		if (ch[i].ty != &ss_type_eni || ch[i].op == SS_CHANGE_DELETE || e == NULL)
			continue;
		idx = ss_overlay_eni_index(e->name);
		if (idx < 0 || (uint32_t)idx >= g.nb_eni)
			continue;
		if (g.nb_touched == g.cap_touched) {
			uint32_t cap = g.cap_touched ? 2 * g.cap_touched : 64;
			uint32_t *v = realloc(g.touched, cap * sizeof(*v));

			if (v == NULL)
				return -ENOMEM;
			g.touched = v;
			g.cap_touched = cap;
		}
		g.touched[g.nb_touched++] = (uint32_t)idx;
	}
	return 0;
}

static int ipfix_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *ch, size_t n,
			 char *err, size_t errlen)
{
	const struct ss_ipfix_rec *r;
	bool mine = g.cur.refresh_s == 0;   /* the first publish: the defaults */

	ipfix_abort(ctx);
	if (note_enis(ch, n) != 0) {
		snprintf(err, errlen, "ipfix: out of memory noting the ENIs of the transaction");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (ch[i].ty == &ss_type_ipfix)
			mine = true;
	if (!mine)
		return 0;
	r = ss_ctl_store_rec(ctl, &ss_type_ipfix, "");
	if (r == NULL) {
		snprintf(err, errlen, "ipfix: out of memory reading its settings");
		return -ENOMEM;
	}
	g.pend = (struct exp_conf){
		.on = r->collector[0] != '\0',
		.domain = r->observation_domain,
		.active_s = r->active_timeout_s,
		.refresh_s = r->template_refresh_s,
		.fd = -1,
	};
	memcpy(g.pend.collector, r->collector, sizeof(g.pend.collector));
	if (g.pend.on) {
		if (g.cur.on && strcmp(g.cur.collector, g.pend.collector) == 0) {
			g.pend.fd = g.cur.fd;
		} else {
			int rc = open_collector(g.pend.collector, &g.pend.fd, err, errlen);

			if (rc != 0)
				return rc;
		}
	}
	g.staged = true;
	return 0;
}

static void ipfix_commit(void *ctx)
{
	bool new_stream;

	(void)ctx;
	for (uint32_t i = 0; i < g.nb_touched; i++) {
		uint32_t vni = ss_overlay_eni_vni(g.touched[i]);

		if (vni != 0)
			g.eni_vni[g.touched[i]] = vni;
	}
	g.nb_touched = 0;
	if (!g.staged)
		return;
	new_stream = g.pend.fd != g.cur.fd || g.pend.domain != g.cur.domain;
	if (g.cur.fd >= 0 && g.cur.fd != g.pend.fd)
		g.old_fd = g.cur.fd;
	g.cur = g.pend;
	g.staged = false;
	g.pend.fd = -1;
	if (new_stream) {
		/* templates first on a new collector or domain */
		g.last_tmpl = 0;
		g.seq = 0;
	}
	__atomic_store_n(&g.hook.active_s, g.cur.active_s, __ATOMIC_RELAXED);
	ss_ct_export_set(g.cur.on ? &g.hook : NULL);
}

static void ipfix_reclaim(void *ctx)
{
	(void)ctx;
	if (g.old_fd >= 0)
		close(g.old_fd);
	g.old_fd = -1;
}

/* ---- counters --------------------------------------------------------------------- */

static void counters_now(struct exp_counters *c)
{
	*c = g.cnt;
	c->dropped = __atomic_load_n(&g.hook.dropped, __ATOMIC_RELAXED);
}

/* dropped_key: "ipfix_records_dropped" in ipfix.get (SPEC 5), "records_dropped"
 * in the stats scope (Prometheus: sswitch_ipfix_records_dropped_total) */
static json_t *counters_json(const char *dropped_key)
{
	struct exp_counters c;

	counters_now(&c);
	return json_pack("{sIsIsIsIsIsIsI}",
			 "records_exported", (json_int_t)(c.records - g.base.records),
			 "messages_sent", (json_int_t)(c.messages - g.base.messages),
			 "template_messages_sent", (json_int_t)(c.templates - g.base.templates),
			 "send_errors", (json_int_t)(c.send_errors - g.base.send_errors),
			 "flow_records", (json_int_t)(c.flows - g.base.flows),
			 dropped_key, (json_int_t)(c.dropped - g.base.dropped),
			 "ring_pending",
			 (json_int_t)(g.ring != NULL ? rte_ring_count(g.ring) : 0));
}

static json_t *ipfix_stats_get(void *ctx)
{
	(void)ctx;
	return counters_json("records_dropped");
}

static void ipfix_stats_clear(void *ctx)
{
	(void)ctx;
	counters_now(&g.base);
}

static void ipfix_decorate(void *ctx, struct ss_ctl *ctl, const json_t *obj, json_t *out)
{
	json_t *c = counters_json("ipfix_records_dropped");

	(void)ctx;
	(void)ctl;
	(void)obj;
	if (c != NULL) {
		json_object_set_new(c, "sequence", json_integer((json_int_t)g.seq));
		json_object_set_new(out, "counters", c);
	}
}

/* ---- the feature ------------------------------------------------------------------- */

static void ipfix_fini(void)
{
	ss_ct_export_set(NULL);
	/* the workers are stopped: nothing enqueues any more */
	if (g.cur.on)
		ipfix_poll();
	if (g.cur.fd >= 0)
		close(g.cur.fd);
	ipfix_reclaim(NULL);
	g.cur = (struct exp_conf){ .fd = -1 };
	rte_ring_free(g.ring);
	g.ring = NULL;
	g.hook.ring = NULL;
	free(g.eni_vni);
	free(g.touched);
	g.eni_vni = g.touched = NULL;
	g.nb_eni = g.nb_touched = g.cap_touched = 0;
}

static int ipfix_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	static const struct ss_ctl_table table = {
		.name = "ipfix",
		.prepare = ipfix_prepare,
		.commit = ipfix_commit,
		.abort = ipfix_abort,
		.reclaim = ipfix_reclaim,
	};
	static const struct ss_ctl_stats stats = {
		.scope = "ipfix",
		.get = ipfix_stats_get,
		.clear = ipfix_stats_clear,
	};
	struct timespec ts;

	(void)cfg;
	/* multi-producer (workers, control thread), single consumer (poll) */
	g.ring = rte_ring_create_elem("ss_ipfix", sizeof(struct ss_ct_record), RING_SIZE,
				      SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (g.ring == NULL) {
		snprintf(err, errlen, "ipfix: cannot create the record ring of %u records: %s",
			 RING_SIZE, rte_strerror(rte_errno));
		return -1;
	}
	g.hook.ring = g.ring;
	g.nb_eni = ss_overlay_eni_max() + 1;
	g.eni_vni = calloc(g.nb_eni, sizeof(*g.eni_vni));
	if (g.eni_vni == NULL) {
		snprintf(err, errlen, "ipfix: cannot allocate the VNI table of %u ENIs", g.nb_eni);
		ipfix_fini();
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	g.clock.t0 = rte_rdtsc();
	g.clock.hz = rte_get_tsc_hz();
	g.clock.ms0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (ss_ctl_register_table(ctl, &table) != 0 || ss_ctl_register_stats(ctl, &stats) != 0 ||
	    ss_ctl_register_decorator(ctl, "ipfix", ipfix_decorate, NULL) != 0) {
		ipfix_fini();
		snprintf(err, errlen, "ipfix: cannot register its table, stats and ipfix.get");
		return -1;
	}
	return 0;
}

static struct ss_feature ipfix = {
	.name = "ipfix",
	.depends_on = SS_FEATURE_DEPS("overlay", "conntrack"),
	.init = ipfix_init,
	.fini = ipfix_fini,
	.poll = ipfix_poll,
};
SS_FEATURE_REGISTER(ipfix);
