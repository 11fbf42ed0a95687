/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The HA sync channel (SPEC 3.11, docs/ha.md), run from the control
 * thread's main loop (the feature's poll): non-blocking sockets, never a
 * wait.
 *
 *   active   connects to `peer` (backoff 100 ms doubling to 2 s); on
 *            connect sends HELLO, BULK_BEGIN, every live flow (the table
 *            walked in slices), BULK_END; from BULK_BEGIN on, the flow
 *            events conntrack puts on the ring, in ring order; after the
 *            bulk, refresh passes re-send the flows that carried traffic
 *            (the standby's idle timer would otherwise expire them).
 *   standby  accepts on `listen`, from the peer's address only; installs
 *            and removes flows as told; acknowledges what it applied.
 * Both send HEARTBEAT (carrying the ack) when they have been quiet for a
 * quarter of peer_timeout_ms, and close the connection when the other has
 * been silent for peer_timeout_ms; a standby with auto_failover then
 * becomes active (once it has heard from its peer at all).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "pipelines/acl/acl.h"
#include "pipelines/conntrack/ct.h"
#include "pipelines/ha/ha_int.h"
#include "pipelines/overlay/overlay.h"

#define IN_CAP (64 * 1024)
#define OUT_CAP (4u << 20)
#define OUT_HIGH (1u << 20)      /* produce no more while this much is unsent */
#define EV_BURST 64
#define EV_BUDGET 32768          /* events per poll turn */
#define WALK_BUDGET 8192         /* positions per poll turn (bulk) */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

#define HA_LOG(lvl, ...) RTE_LOG(lvl, USER1, "ha: " __VA_ARGS__)

struct ha_state ss_ha = { .lfd = -1, .c = { .fd = -1 } };
#define g ss_ha

static uint64_t ms_ticks(uint64_t ms)
{
	return g.hz * ms / 1000;
}

int ss_ha_parse_addr(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long port;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port < 1 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		((struct sockaddr_in *)sa)->sin_family = AF_INET;
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

/* Whether `sa` has the peer's address (any port: its side of a connection
 * has an ephemeral one). */
static bool is_peer(const struct sockaddr_storage *sa)
{
	const struct sockaddr_storage *p = &g.conf.peer_sa;

	if (sa->ss_family != p->ss_family)
		return false;
	if (sa->ss_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)p)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
		      &((const struct sockaddr_in6 *)p)->sin6_addr, 16) == 0;
}

/* ---- the connection ------------------------------------------------------------ */

static void conn_close(const char *why)
{
	struct ha_conn *c = &g.c;

	if (c->fd < 0)
		return;
	HA_LOG(WARNING, "connection to peer %s closed: %s\n", g.conf.peer, why);
	close(c->fd);
	c->fd = -1;
	c->connecting = false;
	c->hello_rcvd = false;
	c->in_len = c->out_off = c->out_len = 0;
	g.peer_state = HA_PEER_DOWN;
	g.down_since = rte_rdtsc();
	g.pend_head = g.pend_tail = 0;
	if (g.conf.role == SS_HA_ROLE_ACTIVE && g.bulk == HA_BULK_RUNNING)
		g.bulk = HA_BULK_IDLE;
}

static void reject(const char *why)
{
	g.cnt.rejected++;
	HA_LOG(WARNING, "connection with %s refused: %s\n", g.conf.peer, why);
	conn_close(why);
}

static void conn_setup(int fd, bool outbound, bool connecting)
{
	struct ha_conn *c = &g.c;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->outbound = outbound;
	c->connecting = connecting;
	c->hello_rcvd = false;
	c->in_len = c->out_off = c->out_len = 0;
	c->last_rx = c->last_tx = rte_rdtsc();
	c->tx_seq = c->rx_seq = c->ack_sent = c->acked = 0;
	g.peer_state = HA_PEER_CONNECTING;
	g.pend_head = g.pend_tail = 0;
}

/* Room for one more message at the end of the output. */
static uint8_t *out_slot(void)
{
	struct ha_conn *c = &g.c;

	if (c->out_len + SS_HA_MSG_MAX > OUT_CAP) {
		/* compact: what was sent goes */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	return c->out_len + SS_HA_MSG_MAX <= OUT_CAP ? c->out + c->out_len : NULL;
}

static void out_put(size_t n)
{
	g.c.out_len += n;
	g.c.last_tx = rte_rdtsc();
	g.cnt.sent++;
}

static size_t out_pending(void)
{
	return g.c.out_len - g.c.out_off;
}

static uint32_t next_seq(void)
{
	if (++g.c.tx_seq == 0)
		g.c.tx_seq = 1;
	return g.c.tx_seq;
}

static void send_hello(void)
{
	uint8_t *b = out_slot();

	if (b != NULL)
		out_put(ss_ha_encode_hello(b, g.c.rx_seq, g.conf.role));
}

static void send_heartbeat(void)
{
	uint8_t *b = out_slot();

	if (b != NULL) {
		out_put(ss_ha_encode_heartbeat(b, g.c.rx_seq));
		g.c.ack_sent = g.c.rx_seq;
	}
}

static void flush_out(void)
{
	struct ha_conn *c = &g.c;

	while (c->fd >= 0 && c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				conn_close(strerror(errno));
			return;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

/* ---- active: what is sent ------------------------------------------------------- */

static void pend_push(uint32_t seq, uint64_t tsc)
{
	if (g.pend_tail - g.pend_head >= HA_PEND_MAX)
		return;   /* a sample fewer: the lag is still measured by the others */
	g.pend[g.pend_tail++ % HA_PEND_MAX] = (struct ha_pending){ .seq = seq, .tsc = tsc };
}

static void pend_ack(uint32_t ack, uint64_t now)
{
	while (g.pend_head != g.pend_tail) {
		struct ha_pending *p = &g.pend[g.pend_head % HA_PEND_MAX];

		if ((int32_t)(ack - p->seq) < 0)
			break;
		g.lag_tsc = now - p->tsc;
		g.lag_at = now;
		g.pend_head++;
	}
}

/* The lag of the newest acknowledged event, for a second after its ack
 * (once everything is acknowledged and nothing new happens, there is no
 * lag), or the age of the oldest unacknowledged event if that is more. */
uint64_t ss_ha_lag_ms(void)
{
	uint64_t now = rte_rdtsc(), lag = now - g.lag_at < g.hz ? g.lag_tsc : 0;

	if (g.c.fd >= 0 && g.pend_head != g.pend_tail) {
		uint64_t oldest = now - g.pend[g.pend_head % HA_PEND_MAX].tsc;

		if (oldest > lag)
			lag = oldest;
	}
	return g.hz ? lag * 1000 / g.hz : 0;
}

/* A flow message from a key and a state; false when the ENI has no name
 * (deleted since). */
static bool flow_msg(struct ss_ha_flow *f, const struct ss_ct_key *k, uint32_t eni,
		     uint8_t init_dir, uint8_t init_side, uint8_t tcp, uint64_t idle_ticks,
		     uint64_t fin_age_ticks, bool fin)
{
	const char *name = ss_ha_eni_name(eni);

	if (name == NULL)
		return false;
	memset(f, 0, sizeof(*f));
	f->proto = k->proto;
	f->v6 = k->v6;
	f->init_dir = init_dir;
	f->init_side = init_side;
	f->tcp = tcp & SS_HA_TCP_MASK;
	f->pa = k->pa;
	f->pb = k->pb;
	memcpy(f->a, k->a, k->v6 ? 16 : 4);
	memcpy(f->b, k->b, k->v6 ? 16 : 4);
	f->idle_ms = (uint32_t)RTE_MIN(idle_ticks * 1000 / g.hz, (uint64_t)UINT32_MAX - 1);
	f->fin_age_ms = fin ? (uint32_t)RTE_MIN(fin_age_ticks * 1000 / g.hz,
						(uint64_t)UINT32_MAX - 1)
			    : SS_HA_NO_FIN;
	strcpy(f->eni, name);
	return true;
}

static void send_event(const struct ss_ct_event *ev)
{
	struct ss_ha_flow f;
	uint8_t both = SS_CT_FIN_A | SS_CT_FIN_B;
	uint8_t *b = out_slot();
	uint32_t seq;

	if (b == NULL ||
	    !flow_msg(&f, &ev->key, ev->key.eni, ev->init_dir, ev->init_side, ev->tcp, 0, 0,
		      (ev->tcp & both) == both))
		return;
	seq = next_seq();
	out_put(ss_ha_encode_flow(b, ev->type == SS_CT_EV_REMOVE ? SS_HA_FLOW_DEL : SS_HA_FLOW,
				  seq, g.c.rx_seq, &f));
	pend_push(seq, ev->tsc);
	if (ev->type == SS_CT_EV_CREATE)
		g.synced_flows++;
	else if (ev->type == SS_CT_EV_REMOVE && g.synced_flows > 0)
		g.synced_flows--;
}

static void send_lb(const struct ss_ha_lb *l, uint8_t type, uint64_t tsc)
{
	uint8_t *b = out_slot();
	uint32_t seq;

	if (b == NULL)
		return;
	seq = next_seq();
	out_put(ss_ha_encode_lb(b, type, seq, g.c.rx_seq, l));
	if (tsc != 0)
		pend_push(seq, tsc);
}

/* The flow just sent has an LB session: it follows (bulk, refresh). */
static void send_lb_for_flow(const struct ss_ct_key *k, uint32_t eni, uint8_t init_side,
			     bool count)
{
	struct ss_ha_lb l;

	if (!ss_ha_lb_for_flow(&l, k, eni, init_side))
		return;
	send_lb(&l, SS_HA_LB_SESS, 0);
	if (count)
		g.lb_sessions++;
}

static void send_lb_event(const struct ss_lb_event *ev)
{
	struct ss_ha_lb l;

	if (!ss_ha_lb_from_event(&l, ev))
		return;
	send_lb(&l, ev->type == SS_LB_EV_REMOVE ? SS_HA_LB_SESS_DEL : SS_HA_LB_SESS, ev->tsc);
	if (ev->type == SS_LB_EV_OPEN)
		g.lb_sessions++;
	else if (g.lb_sessions > 0)
		g.lb_sessions--;
}

uint64_t ss_ha_events_dropped(void)
{
	return __atomic_load_n(&g.hook.dropped, __ATOMIC_RELAXED) +
	       __atomic_load_n(&g.lb_hook.dropped, __ATOMIC_RELAXED);
}

static void bulk_begin(void)
{
	uint8_t *b = out_slot();
	const struct ss_ct *ct = ss_ct_current();

	if (b == NULL)
		return;
	out_put(ss_ha_encode_bulk(b, SS_HA_BULK_BEGIN, next_seq(), g.c.rx_seq,
				  ct ? (uint32_t)__atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED)
				     : 0));
	g.bulk = HA_BULK_RUNNING;
	g.walk_ct = ct;
	g.cursor = 0;
	g.refresh = false;
	g.bulk_sent = 0;
	g.synced_flows = 0;
	g.lb_sessions = 0;
	g.cnt.bulk_syncs++;
	g.pass_start = rte_rdtsc();
}

struct walk_arg {
	uint64_t now;
	uint64_t max_idle;   /* refresh: only flows seen within this; bulk: all */
};

static void walk_one(void *arg, const struct ss_ct_key *k, const struct ss_ct_flow_state *st)
{
	const struct walk_arg *wa = arg;
	uint64_t idle = wa->now - st->last_seen;
	struct ss_ha_flow f;
	uint8_t *b;

	if ((int64_t)idle < 0)
		idle = 0;
	if (idle > wa->max_idle)
		return;
	b = out_slot();
	if (b == NULL || !flow_msg(&f, k, st->eni, st->init_dir, st->init_side, st->tcp, idle,
				   st->fin_at ? wa->now - st->fin_at : 0, st->fin_at != 0))
		return;
	out_put(ss_ha_encode_flow(b, SS_HA_FLOW, next_seq(), g.c.rx_seq, &f));
	if (!g.refresh) {
		g.bulk_sent++;
		g.synced_flows++;
	}
	send_lb_for_flow(k, st->eni, st->init_side, !g.refresh);
}

/* The bulk sync, then refresh passes: a slice of the table per turn. */
static void walk_step(uint64_t now)
{
	const struct ss_ct *ct = ss_ct_current();
	uint64_t period;
	struct walk_arg wa = { .now = now, .max_idle = UINT64_MAX };
	uint32_t budget;

	if (ct == NULL)
		return;
	if (ct != g.walk_ct) {
		/* the table grew (a new one, other positions): walk it from
		 * the start; a flow sent twice is installed once */
		g.walk_ct = ct;
		g.cursor = 0;
	}
	/* a refresh pass takes a quarter of the idle timeout */
	period = __atomic_load_n(&ct->conf.idle_ticks, __ATOMIC_RELAXED) / 4;
	if (g.refresh) {
		uint64_t due = (uint64_t)ct->flows.nb_pos * (now - g.pass_start) / (period ? period : 1);

		if (g.cursor >= ct->flows.nb_pos) {
			if (now - g.pass_start < period)
				return;
			g.cursor = 0;
			g.pass_start = now;
			due = 0;
		}
		if (due <= g.cursor)
			return;
		budget = (uint32_t)RTE_MIN(due - g.cursor, (uint64_t)WALK_BUDGET);
		wa.max_idle = period + ms_ticks(1000);
	} else {
		budget = WALK_BUDGET;
	}
	/* a flow and its LB session: two messages each at most */
	budget = RTE_MIN(budget, (uint32_t)((OUT_CAP - out_pending()) / (2 * SS_HA_MSG_MAX)));
	if (budget == 0)
		return;
	if (!ss_ct_sync_walk(ct, &g.cursor, budget, walk_one, &wa) || g.refresh)
		return;
	uint8_t *b = out_slot();

	if (b == NULL)
		return;   /* again next turn: the cursor stays at the end */
	out_put(ss_ha_encode_bulk(b, SS_HA_BULK_END, next_seq(), g.c.rx_seq, g.bulk_sent));
	g.bulk = HA_BULK_DONE;
	g.refresh = true;
	g.cursor = 0;
	g.pass_start = now;
	HA_LOG(INFO, "bulk sync to %s: %u flows sent\n", g.conf.peer, g.bulk_sent);
}

/* Events off the ring: sent once the bulk began, else dropped (the next
 * bulk sync carries their result). A ring that overflowed lost events:
 * a new bulk sync repairs that. */
static void events_step(void)
{
	struct ss_ct_event ev[EV_BURST];
	struct ss_lb_event lev[EV_BURST];
	bool send = g.conf.role == SS_HA_ROLE_ACTIVE && g.c.fd >= 0 && g.c.hello_rcvd &&
		    g.bulk != HA_BULK_IDLE;
	uint64_t dropped = ss_ha_events_dropped();
	unsigned int n, total = 0;

	while (total < EV_BUDGET && (!send || out_pending() < OUT_HIGH) &&
	       (n = rte_ring_sc_dequeue_burst_elem(g.ring, ev, sizeof(ev[0]), EV_BURST, NULL)) >
		       0) {
		total += n;
		for (unsigned int i = 0; send && i < n; i++)
			send_event(&ev[i]);
	}
	/* LB sessions after the flows they belong to (a session opens after
	 * its flow, on the same worker) */
	while (g.lb_ring != NULL && total < 2 * EV_BUDGET && (!send || out_pending() < OUT_HIGH) &&
	       (n = rte_ring_sc_dequeue_burst_elem(g.lb_ring, lev, sizeof(lev[0]), EV_BURST,
						   NULL)) > 0) {
		total += n;
		for (unsigned int i = 0; send && i < n; i++)
			send_lb_event(&lev[i]);
	}
	if (dropped != g.seen_dropped) {
		g.seen_dropped = dropped;
		if (send) {
			HA_LOG(WARNING, "event ring overflowed: bulk resync to %s\n", g.conf.peer);
			g.cnt.resyncs++;
			bulk_begin();
		}
	}
}

/* ---- standby: what is received -------------------------------------------------- */

static void apply_flow(const struct ss_ha_msg *m)
{
	const struct ss_ha_flow *f = &m->u.flow;
	struct ss_ct *ct = ss_ct_current();
	int eni = ss_overlay_eni_index(f->eni);
	struct ss_ct_flow_state st;
	struct ss_ct_key k;
	uint64_t now = rte_rdtsc();
	uint8_t swapped;

	if (eni < 0) {
		g.cnt.unknown_eni++;
		return;
	}
	if (ct == NULL)
		return;
	/* the key as this switch builds it (a peer's non-canonical key would
	 * never match a packet) */
	swapped = ss_ct_key_make(&k, (uint32_t)eni, f->proto, f->v6, f->a, f->b, f->pa, f->pb);
	if (m->h.type == SS_HA_FLOW_DEL) {
		if (ss_ct_sync_remove(ct, &k) == 0 && g.synced_flows > 0)
			g.synced_flows--;
		return;
	}
	st.eni = (uint32_t)eni;
	st.init_dir = f->init_dir;
	st.init_side = f->init_side ^ swapped;
	st.tcp = f->tcp;
	if (swapped)
		st.tcp = (uint8_t)((st.tcp & SS_CT_SYN_SEEN) | (st.tcp & SS_CT_FIN_A ? SS_CT_FIN_B : 0) |
				   (st.tcp & SS_CT_FIN_B ? SS_CT_FIN_A : 0));
	st.last_seen = now - ms_ticks(f->idle_ms);
	st.fin_at = f->fin_age_ms == SS_HA_NO_FIN ? 0 : now - ms_ticks(f->fin_age_ms);
	if (f->fin_age_ms != SS_HA_NO_FIN && st.fin_at == 0)
		st.fin_at = 1;
	st.acl_gen = ss_acl_eni_gen(ss_acl_current(), (uint32_t)eni);
	int64_t before = __atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED);

	if (ss_ct_sync_install(ct, &k, &st) != 0)
		g.cnt.install_failed++;
	else if (__atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED) > before)
		g.synced_flows++;
}

static int handle(const struct ss_ha_msg *m, uint64_t now)
{
	struct ha_conn *c = &g.c;
	bool standby = g.conf.role == SS_HA_ROLE_STANDBY;

	g.cnt.received++;
	c->last_rx = now;
	if (!c->hello_rcvd) {
		if (m->h.type != SS_HA_HELLO) {
			reject("the first message is not HELLO");
			return -1;
		}
		if (m->u.role == g.conf.role) {
			reject(standby ? "both are standby" : "both are active");
			return -1;
		}
		c->hello_rcvd = true;
		g.heard_peer = true;
		g.peer_state = HA_PEER_CONNECTED;
		HA_LOG(NOTICE, "peer %s connected (%s)\n", g.conf.peer,
		       m->u.role == SS_HA_ROLE_ACTIVE ? "active" : "standby");
		if (standby) {
			send_hello();
		} else {
			bulk_begin();
		}
		return 0;
	}
	if (m->h.type == SS_HA_HELLO) {
		reject("a second HELLO");
		return -1;
	}
	if ((int32_t)(m->h.ack - c->acked) > 0 && (int32_t)(m->h.ack - c->tx_seq) <= 0) {
		c->acked = m->h.ack;
		pend_ack(c->acked, now);
	} else if ((int32_t)(m->h.ack - c->tx_seq) > 0) {
		reject("an ack of a message never sent");
		return -1;
	}
	if (m->h.type == SS_HA_HEARTBEAT)
		return 0;
	/* data: only the active sends it, in sequence */
	if (!standby) {
		reject("flow data from a standby");
		return -1;
	}
	if (m->h.seq != (c->rx_seq + 1 == 0 ? 1 : c->rx_seq + 1)) {
		reject("a sequence number out of order");
		return -1;
	}
	c->rx_seq = m->h.seq;
	switch (m->h.type) {
	case SS_HA_BULK_BEGIN: {
		struct ss_ct *ct = ss_ct_current();

		/* what the active sends next is its whole table: what this
		 * switch holds and the active no longer has must go */
		if (ct != NULL)
			ss_ct_flush(ct, UINT32_MAX, NULL, NULL, ct->nb_workers);
		ss_lb_sess_flush();
		g.synced_flows = 0;
		g.lb_sessions = 0;
		g.bulk = HA_BULK_RUNNING;
		g.cnt.bulk_syncs++;
		break;
	}
	case SS_HA_BULK_END:
		g.bulk = HA_BULK_DONE;
		HA_LOG(INFO, "bulk sync from %s: %u flows\n", g.conf.peer, m->u.flows);
		break;
	case SS_HA_LB_SESS:
	case SS_HA_LB_SESS_DEL:
		ss_ha_lb_apply(m);
		break;
	default:
		apply_flow(m);
		break;
	}
	return 0;
}

/* A standby installs no faster than its flow table grows: conntrack grows
 * the table (its own poll, before this one) once it is half full, so this
 * turn stops reading at three quarters while growth is possible; the rest
 * waits in the socket (TCP pushes back on the active). Bounded: a table
 * that does not grow (memory) is not waited for past HOLD_TURNS turns. */
#define HOLD_TURNS 200

static bool install_room(int round)
{
	static unsigned int held;
	const struct ss_ct *ct = ss_ct_current();

	if (g.conf.role != SS_HA_ROLE_STANDBY || ct == NULL ||
	    (uint64_t)ct->capacity >= (uint64_t)ct->conf.max_flows * 5 / 4 ||
	    __atomic_load_n(&ct->nb_flows, __ATOMIC_RELAXED) < (int64_t)ct->capacity / 4 * 3) {
		if (round == 0)
			held = 0;
		return true;
	}
	if (round == 0)
		held++;
	return held > HOLD_TURNS;
}

static void read_in(uint64_t now)
{
	struct ha_conn *c = &g.c;

	for (int rounds = 0; rounds < 64 && c->fd >= 0 && install_room(rounds); rounds++) {
		ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, MSG_DONTWAIT);
		size_t off = 0;

		if (n == 0) {
			conn_close("closed by the peer");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				conn_close(strerror(errno));
			return;
		}
		c->in_len += (size_t)n;
		while (c->fd >= 0) {
			struct ss_ha_msg m;
			const char *why;
			int rc = ss_ha_msg_decode(c->in + off, c->in_len - off, &m, &why);

			if (rc == 0)
				break;
			if (rc < 0) {
				char msg[160];

				snprintf(msg, sizeof(msg), "%s message: %s",
					 rc == SS_HA_E_VERSION ? "wrong version" : "malformed", why);
				reject(msg);
				return;
			}
			off += (size_t)rc;
			if (handle(&m, now) != 0)
				return;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

/* ---- connections ------------------------------------------------------------------ */

static void accept_step(uint64_t now)
{
	for (int i = 0; i < 8 && g.lfd >= 0; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(g.lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char host[INET6_ADDRSTRLEN] = "?";

		if (fd < 0)
			return;
		inet_ntop(sa.ss_family, sa.ss_family == AF_INET
						? (void *)&((struct sockaddr_in *)&sa)->sin_addr
						: (void *)&((struct sockaddr_in6 *)&sa)->sin6_addr,
			  host, sizeof(host));
		if (!is_peer(&sa)) {
			g.cnt.rejected++;
			HA_LOG(WARNING, "connection from %s refused: not the peer %s\n", host,
			       g.conf.peer);
			close(fd);
			continue;
		}
		if (g.conf.role != SS_HA_ROLE_STANDBY) {
			/* an active connects; it takes no connection */
			close(fd);
			continue;
		}
		if (g.c.fd >= 0) {
			/* one connection at a time: the peer's next one is taken
			 * once this one is closed (by the peer, or its silence) */
			g.cnt.rejected++;
			HA_LOG(WARNING, "connection from %s refused: the peer is connected\n", host);
			close(fd);
			continue;
		}
		conn_setup(fd, false, false);
		g.c.last_rx = now;
	}
}

static void connect_step(uint64_t now)
{
	struct ha_conn *c = &g.c;
	int fd;

	if (c->fd >= 0 && c->connecting) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		int e = 0;
		socklen_t el = sizeof(e);

		if (poll(&p, 1, 0) <= 0)
			goto timeout;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el);
		if (e != 0) {
			conn_close(strerror(e));
			return;
		}
		c->connecting = false;
		g.backoff_ms = BACKOFF_MIN_MS;
		send_hello();
		return;
timeout:
		if (now - c->last_rx > ms_ticks(g.conf.peer_timeout_ms))
			conn_close("connect timed out");
		return;
	}
	if (c->fd >= 0 || (int64_t)(now - g.next_try) < 0)
		return;
	g.next_try = now + ms_ticks(g.backoff_ms);
	g.backoff_ms = RTE_MIN(g.backoff_ms * 2, (uint32_t)BACKOFF_MAX_MS);
	fd = socket(g.conf.peer_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&g.conf.peer_sa, g.conf.peer_len) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return;
	}
	conn_setup(fd, true, true);
}

int ss_ha_chan_open(char *err, size_t errlen)
{
	int one = 1;

	g.hz = rte_get_tsc_hz();
	g.backoff_ms = BACKOFF_MIN_MS;
	g.c.in = malloc(IN_CAP);
	g.c.out = malloc(OUT_CAP);
	g.pend = calloc(HA_PEND_MAX, sizeof(*g.pend));
	if (g.c.in == NULL || g.c.out == NULL || g.pend == NULL) {
		snprintf(err, errlen, "ha: out of memory for the channel's buffers");
		return -ENOMEM;
	}
	g.lfd = socket(g.conf.listen_sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g.lfd < 0 || setsockopt(g.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(g.lfd, (struct sockaddr *)&g.conf.listen_sa, g.conf.listen_len) != 0 ||
	    listen(g.lfd, 8) != 0) {
		int e = errno;

		snprintf(err, errlen, "ha.listen %s: cannot listen: %s", g.conf.listen, strerror(e));
		return -e;
	}
	g.down_since = rte_rdtsc();
	return 0;
}

void ss_ha_chan_close(void)
{
	conn_close("shutting down");
	if (g.lfd >= 0)
		close(g.lfd);
	g.lfd = -1;
	free(g.c.in);
	free(g.c.out);
	free(g.pend);
	g.c.in = g.c.out = NULL;
	g.pend = NULL;
}

void ss_ha_chan_set_role(uint8_t role)
{
	if (role == g.conf.role)
		return;
	conn_close(role == SS_HA_ROLE_ACTIVE ? "now active" : "now standby");
	g.conf.role = role;
	g.bulk = HA_BULK_IDLE;
	g.synced_flows = 0;
	g.lb_sessions = 0;
	g.next_try = 0;
	g.backoff_ms = BACKOFF_MIN_MS;
	/* a standby opens no flow (the HA stage drops what no flow covers)
	 * and queues no event: only an active has something to send */
	ss_ha_hold_creates(role == SS_HA_ROLE_STANDBY);
	ss_ct_sync_set(role == SS_HA_ROLE_ACTIVE ? &g.hook : NULL);
	ss_lb_sync_set(role == SS_HA_ROLE_ACTIVE && g.lb_ring != NULL ? &g.lb_hook : NULL);
	HA_LOG(NOTICE, "role %s\n", role == SS_HA_ROLE_ACTIVE ? "active" : "standby");
}

void ss_ha_chan_poll(void)
{
	uint64_t now = rte_rdtsc(), timeout = ms_ticks(g.conf.peer_timeout_ms);
	struct ha_conn *c = &g.c;

	if (!g.conf.on)
		return;
	accept_step(now);
	if (g.conf.role == SS_HA_ROLE_ACTIVE)
		connect_step(now);
	if (c->fd >= 0 && !c->connecting)
		read_in(now);
	events_step();
	if (g.conf.role == SS_HA_ROLE_ACTIVE && c->fd >= 0 && c->hello_rcvd &&
	    g.bulk != HA_BULK_IDLE && out_pending() < OUT_HIGH)
		walk_step(now);
	if (c->fd >= 0 && !c->connecting) {
		/* a standby that stops answering only costs a resync when the
		 * active gives up on it: the active allows it four timeouts (a
		 * standby's control thread may stall while its flow table grows);
		 * a standby gives up on its active after one (auto_failover) */
		if (now - c->last_rx > (g.conf.role == SS_HA_ROLE_ACTIVE ? 4 * timeout : timeout)) {
			conn_close("peer silent past peer_timeout_ms");
		} else if ((c->outbound || c->hello_rcvd) &&
			   (c->rx_seq != c->ack_sent || now - c->last_tx > timeout / 4)) {
			/* (the acceptor speaks after the connector's HELLO) */
			send_heartbeat();
		}
		flush_out();
	}
	if (g.conf.role == SS_HA_ROLE_STANDBY && g.conf.auto_failover && g.heard_peer &&
	    c->fd < 0 && now - g.down_since > timeout) {
		HA_LOG(WARNING, "peer %s silent for %u ms: taking over (auto_failover)\n",
		       g.conf.peer, g.conf.peer_timeout_ms);
		g.cnt.failovers++;
		ss_ha_chan_set_role(SS_HA_ROLE_ACTIVE);
	}
}

uint64_t ss_ha_chan_poll_in_us(void)
{
	if (!g.conf.on)
		return UINT64_MAX;
	/* connected: every millisecond (acks, events, the bulk's slices) */
	if (g.c.fd >= 0)
		return 1000;
	return 10000;
}
