/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Capture: the worker hooks (copy + enqueue) and the control side
 * (capture.start / capture.stop / capture.list, the pcap writer).
 * See capture.h for the threading contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "control/ctl.h"
#include "dataplane/feature.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "pipelines/capture/capture.h"
#include "pipelines/common/meta.h"
#include "pipelines/drop/drop.h"

#define RING_SIZE 4096
#define POOL_SIZE 8191
#define DRAIN_BURST 64
#define NAME_MAX_LEN 64

struct cap_priv {
	uint64_t tsc;
	uint32_t orig_len;
};

struct cap_slot {
	/* dataplane: ro while published */
	uint8_t dir;           /* SS_CAP_* mask */
	uint8_t reason;        /* drop reason, 0 = any */
	uint16_t port;         /* SS_PORT_NONE = any */
	uint32_t snaplen;
	struct rte_ring *ring;
	uint64_t lost;         /* dataplane: atomic add; ctlplane: ro */
	/* ctlplane only */
	char name[NAME_MAX_LEN];
	char *file;
	char direction[8];
	uint64_t count;        /* 0 = until stopped */
	uint64_t written;
	bool running;
	pcap_t *pd;
	pcap_dumper_t *dumper;
};

uint32_t ss_capture_active;
static struct cap_slot *slots[SS_CAPTURE_MAX]; /* ctlplane: rw, dataplane: ro (RCU) */
static struct rte_mempool *cap_pool;
static uint64_t tsc0;
static struct timeval tv0;

/* --- worker side ---------------------------------------------------- */

static void copy_enqueue(struct cap_slot *s, struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, cap_pool, 0, s->snaplen);

	if (unlikely(c == NULL)) {
		__atomic_fetch_add(&s->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	struct cap_priv *p = rte_mbuf_to_priv(c);
	p->tsc = rte_rdtsc();
	p->orig_len = m->pkt_len;
	if (unlikely(rte_ring_mp_enqueue(s->ring, c) != 0)) {
		rte_pktmbuf_free(c);
		__atomic_fetch_add(&s->lost, 1, __ATOMIC_RELAXED);
	}
}

void ss_capture_packets(unsigned int dir, uint16_t port, struct rte_mbuf **pkts, uint16_t n)
{
	uint32_t act = __atomic_load_n(&ss_capture_active, __ATOMIC_ACQUIRE);

	while (act) {
		unsigned int i = (unsigned int)__builtin_ctz(act);
		act &= act - 1;
		struct cap_slot *s = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
		if (s == NULL || !(s->dir & dir) || (s->port != SS_PORT_NONE && s->port != port))
			continue;
		for (uint16_t k = 0; k < n; k++)
			copy_enqueue(s, pkts[k]);
	}
}

void ss_capture_drops(struct rte_mbuf **pkts, uint16_t n)
{
	uint32_t act = __atomic_load_n(&ss_capture_active, __ATOMIC_ACQUIRE);

	while (act) {
		unsigned int i = (unsigned int)__builtin_ctz(act);
		act &= act - 1;
		struct cap_slot *s = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
		if (s == NULL || !(s->dir & SS_CAP_DROP))
			continue;
		for (uint16_t k = 0; k < n; k++) {
			const struct ss_meta *meta = ss_meta(pkts[k]);
			if (s->reason && meta->drop != s->reason)
				continue;
			if (s->port != SS_PORT_NONE && meta->in_port != s->port)
				continue;
			copy_enqueue(s, pkts[k]);
		}
	}
}

/* --- control side --------------------------------------------------- */

static void write_record(struct cap_slot *s, struct rte_mbuf *c)
{
	const struct cap_priv *p = rte_mbuf_to_priv(c);
	uint8_t buf[RTE_MBUF_DEFAULT_BUF_SIZE];
	uint32_t len = RTE_MIN(c->pkt_len, (uint32_t)sizeof(buf));
	const void *data = rte_pktmbuf_read(c, 0, len, buf);
	struct pcap_pkthdr h;
	uint64_t hz = rte_get_tsc_hz(), d = p->tsc - tsc0;
	/* whole seconds first: d * 10^6 would overflow after ~1.7 h at 3 GHz */
	uint64_t us = d / hz * 1000000ull + d % hz * 1000000ull / hz;

	h.ts.tv_sec = tv0.tv_sec + (time_t)(us / 1000000);
	h.ts.tv_usec = (suseconds_t)(tv0.tv_usec + (long)(us % 1000000));
	if (h.ts.tv_usec >= 1000000) {
		h.ts.tv_sec++;
		h.ts.tv_usec -= 1000000;
	}
	h.caplen = len;
	h.len = p->orig_len;
	if (data)
		pcap_dump((u_char *)s->dumper, &h, data);
}

static void slot_stop_dataplane(unsigned int i)
{
	__atomic_fetch_and(&ss_capture_active, ~(1u << i), __ATOMIC_RELEASE);
	slots[i]->running = false;
}

static void slot_drain(unsigned int i)
{
	struct cap_slot *s = slots[i];
	struct rte_mbuf *b[DRAIN_BURST];
	unsigned int n;

	while ((n = rte_ring_sc_dequeue_burst(s->ring, (void **)b, DRAIN_BURST, NULL)) > 0) {
		for (unsigned int k = 0; k < n; k++) {
			if (!s->count || s->written < s->count) {
				write_record(s, b[k]);
				s->written++;
			}
			rte_pktmbuf_free(b[k]);
		}
	}
	if (s->running && s->count && s->written >= s->count)
		slot_stop_dataplane(i);
	pcap_dump_flush(s->dumper);
}

/* Retire a slot: stop it, unpublish it, wait until no worker can hold it,
 * write what was enqueued before that. The slot leaves the table. */
static struct cap_slot *slot_retire(unsigned int i)
{
	struct cap_slot *s = slots[i];

	if (s->running)
		slot_stop_dataplane(i);
	__atomic_store_n(&slots[i], NULL, __ATOMIC_RELEASE);
	ss_workers_rcu_synchronize();
	slots[i] = s;
	slot_drain(i);
	slots[i] = NULL;
	return s;
}

static void slot_destroy(struct cap_slot *s)
{
	pcap_dump_close(s->dumper);
	pcap_close(s->pd);
	rte_ring_free(s->ring);
	free(s->file);
	free(s);
}

static int find_slot(const char *name)
{
	for (int i = 0; i < SS_CAPTURE_MAX; i++)
		if (slots[i] && strcmp(slots[i]->name, name) == 0)
			return i;
	return -1;
}

static json_t *slot_json(const struct cap_slot *s)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "name", s->name,
			      "direction", s->direction, "file", s->file, "snaplen",
			      (json_int_t)s->snaplen, "count", (json_int_t)s->count, "packets",
			      (json_int_t)s->written, "lost",
			      (json_int_t)__atomic_load_n(&s->lost, __ATOMIC_RELAXED), "running",
			      s->running);
	json_object_set_new(o, "port", s->port == SS_PORT_NONE ? json_null()
							      : json_string(ss_ports.ports[s->port].name));
	if (s->reason)
		json_object_set_new(o, "drop_reason", json_string(ss_drop_name(s->reason)));
	return o;
}

#define FAIL(code, field, ...)                                                                 \
	do {                                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                                            \
		*err_field = field;                                                            \
		return code;                                                                   \
	} while (0)

static int get_uint_param(const json_t *params, const char *key, uint64_t min, uint64_t max,
			  uint64_t *out, char *err, size_t errlen, const char **err_field)
{
	const json_t *v = json_object_get(params, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
	    (uint64_t)json_integer_value(v) > max)
		FAIL(SS_RPC_INVALID_PARAMS, key, "%s must be an integer in [%llu, %llu]", key,
		     (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int cap_start(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		     char *err, size_t errlen, const char **err_field)
{
	static const char *const known[] = { "name", "port", "direction", "drop_reason", "file",
					     "snaplen", "count", NULL };
	const char *k;
	json_t *v;
	uint64_t snaplen = 65535, count = 0;
	int rc;

	(void)ctx;
	(void)ctl;
	if (!json_is_object(params))
		FAIL(SS_RPC_INVALID_PARAMS, NULL, "params must be an object");
	json_object_foreach((json_t *)params, k, v) {
		bool ok = false;
		for (const char *const *q = known; *q; q++)
			ok |= strcmp(k, *q) == 0;
		if (!ok)
			FAIL(SS_RPC_INVALID_PARAMS, k, "unknown field %s", k);
	}
	const char *name = json_string_value(json_object_get(params, "name"));
	const char *file = json_string_value(json_object_get(params, "file"));
	const char *port = json_string_value(json_object_get(params, "port"));
	const char *dir = json_string_value(json_object_get(params, "direction"));
	const char *reason = json_string_value(json_object_get(params, "drop_reason"));
	if (name == NULL || *name == '\0' || strlen(name) >= NAME_MAX_LEN)
		FAIL(SS_RPC_INVALID_PARAMS, "name", "name: a string of 1 to %d characters",
		     NAME_MAX_LEN - 1);
	if (file == NULL || file[0] != '/')
		FAIL(SS_RPC_INVALID_PARAMS, "file", "file: an absolute path of a new pcap file");
	if (json_object_get(params, "port") && port == NULL)
		FAIL(SS_RPC_INVALID_PARAMS, "port", "port: a port name");
	if (json_object_get(params, "direction") && dir == NULL)
		FAIL(SS_RPC_INVALID_PARAMS, "direction", "direction: rx, tx, both or drop");
	if (json_object_get(params, "drop_reason") && reason == NULL)
		FAIL(SS_RPC_INVALID_PARAMS, "drop_reason", "drop_reason: a drop reason name");
	if ((rc = get_uint_param(params, "snaplen", 64, 65535, &snaplen, err, errlen, err_field)) ||
	    (rc = get_uint_param(params, "count", 0, UINT64_MAX >> 1, &count, err, errlen,
				 err_field)))
		return rc;
	uint8_t dmask;
	if (dir == NULL)
		dir = reason ? "drop" : "rx";
	if (strcmp(dir, "rx") == 0)
		dmask = SS_CAP_RX;
	else if (strcmp(dir, "tx") == 0)
		dmask = SS_CAP_TX;
	else if (strcmp(dir, "both") == 0)
		dmask = SS_CAP_RX | SS_CAP_TX;
	else if (strcmp(dir, "drop") == 0)
		dmask = SS_CAP_DROP;
	else
		FAIL(SS_RPC_INVALID_PARAMS, "direction", "direction: \"%s\" is not rx, tx, both or drop",
		     dir);
	uint8_t r = 0;
	if (reason) {
		r = (uint8_t)ss_drop_from_name(reason);
		if (r == 0)
			FAIL(SS_RPC_INVALID_PARAMS, "drop_reason", "drop_reason: unknown reason \"%s\"",
			     reason);
		if (dmask != SS_CAP_DROP)
			FAIL(SS_RPC_INVALID_PARAMS, "drop_reason",
			     "drop_reason goes with direction \"drop\"");
	}
	uint16_t pi = SS_PORT_NONE;
	if (port) {
		pi = ss_port_by_name(port);
		if (pi == SS_PORT_NONE)
			FAIL(SS_ERR_NOT_FOUND, "port", "port: no port is named \"%s\"", port);
	} else if (dmask != SS_CAP_DROP) {
		FAIL(SS_RPC_INVALID_PARAMS, "port", "port: required for rx/tx captures");
	}
	if (find_slot(name) >= 0)
		FAIL(SS_ERR_EXISTS, "name", "capture \"%s\" exists (capture.stop it first)", name);
	int i;
	for (i = 0; i < SS_CAPTURE_MAX && slots[i]; i++)
		;
	if (i == SS_CAPTURE_MAX)
		FAIL(SS_ERR_CAPACITY, NULL, "at most %d captures at once", SS_CAPTURE_MAX);
	if (cap_pool == NULL) {
		cap_pool = rte_pktmbuf_pool_create("ss_capture", POOL_SIZE, 64,
						   RTE_ALIGN_CEIL(sizeof(struct cap_priv), 8),
						   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		if (cap_pool == NULL)
			FAIL(SS_RPC_INTERNAL, NULL, "cannot create the capture mbuf pool: %s",
			     rte_strerror(rte_errno));
		tsc0 = rte_rdtsc();
		gettimeofday(&tv0, NULL);
	}
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		FAIL(errno == EEXIST ? SS_ERR_EXISTS : SS_RPC_INVALID_PARAMS, "file", "file %s: %s",
		     file, strerror(errno));
	struct cap_slot *s = calloc(1, sizeof(*s));
	char rname[RTE_RING_NAMESIZE];
	snprintf(rname, sizeof(rname), "ss_cap%d_%llx", i, (unsigned long long)rte_rdtsc());
	FILE *f = fdopen(fd, "wb");
	if (s == NULL || f == NULL) {
		if (f)
			fclose(f);
		else
			close(fd);
		unlink(file);
		free(s);
		FAIL(SS_RPC_INTERNAL, NULL, "out of memory");
	}
	s->pd = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	s->dumper = s->pd ? pcap_dump_fopen(s->pd, f) : NULL;
	s->ring = rte_ring_create(rname, RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (s->dumper == NULL || s->ring == NULL) {
		if (s->dumper)
			pcap_dump_close(s->dumper);
		else
			fclose(f);
		if (s->pd)
			pcap_close(s->pd);
		rte_ring_free(s->ring);
		unlink(file);
		free(s);
		FAIL(SS_RPC_INTERNAL, NULL, "cannot set up the capture: %s", rte_strerror(rte_errno));
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->direction, sizeof(s->direction), "%s", dir);
	s->file = strdup(file);
	s->dir = dmask;
	s->reason = r;
	s->port = pi;
	s->snaplen = (uint32_t)snaplen;
	s->count = count;
	s->running = true;
	__atomic_store_n(&slots[i], s, __ATOMIC_RELEASE);
	__atomic_fetch_or(&ss_capture_active, 1u << i, __ATOMIC_RELEASE);
	*result = slot_json(s);
	return 0;
}

static int cap_stop(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		    char *err, size_t errlen, const char **err_field)
{
	(void)ctx;
	(void)ctl;
	const char *name = json_string_value(json_object_get(params, "name"));
	if (name == NULL)
		FAIL(SS_RPC_INVALID_PARAMS, "name", "name: the capture's name");
	int i = find_slot(name);
	if (i < 0)
		FAIL(SS_ERR_NOT_FOUND, "name", "no capture is named \"%s\"", name);
	struct cap_slot *s = slot_retire((unsigned int)i);
	*result = slot_json(s);
	slot_destroy(s);
	return 0;
}

static int cap_list(void *ctx, struct ss_ctl *ctl, const json_t *params, json_t **result,
		    char *err, size_t errlen, const char **err_field)
{
	json_t *arr = json_array();

	(void)ctx;
	(void)ctl;
	(void)params;
	(void)err;
	(void)errlen;
	(void)err_field;
	for (int i = 0; i < SS_CAPTURE_MAX; i++)
		if (slots[i])
			json_array_append_new(arr, slot_json(slots[i]));
	*result = json_pack("{s:o}", "captures", arr);
	return 0;
}

static void cap_poll(void)
{
	for (unsigned int i = 0; i < SS_CAPTURE_MAX; i++)
		if (slots[i] && slots[i]->running)
			slot_drain(i);
}

static int cap_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	(void)cfg;
	if (ss_ctl_register_method(ctl, "capture.start", cap_start, NULL) ||
	    ss_ctl_register_method(ctl, "capture.stop", cap_stop, NULL) ||
	    ss_ctl_register_method(ctl, "capture.list", cap_list, NULL)) {
		snprintf(err, errlen, "cannot register the capture methods");
		return -1;
	}
	return 0;
}

/* After the workers stopped: close every file (a capture still running is
 * flushed, as if stopped). */
static void cap_fini(void)
{
	for (unsigned int i = 0; i < SS_CAPTURE_MAX; i++)
		if (slots[i])
			slot_destroy(slot_retire(i));
	rte_mempool_free(cap_pool);
	cap_pool = NULL;
}

static struct ss_feature capture = {
	.name = "capture",
	.init = cap_init,
	.fini = cap_fini,
	.poll = cap_poll,
};
SS_FEATURE_REGISTER(capture);
