/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internals of the control plane shared by the control/ sources (not for the daemon).
 * Everything runs on the control thread: no locking anywhere.
 */
#ifndef SS_CTL_INT_H
#define SS_CTL_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <time.h>

#include "control/ctl.h"
#include "control/err.h"
#include "control/json.h"
#include "control/records.h"
#include "control/store-t.h"

#ifndef SS_VERSION
#define SS_VERSION "unknown"
#endif

struct ss_method_reg {
	char *name;
	ss_ctl_method_fn fn;
	void *ctx;
};

struct ss_server;                /* server.c */
struct ss_persist;               /* persist.c */
struct ss_txn_state;             /* txn.h: from the txn layer up */
struct ss_rpc_state;             /* rpc.h: the rpc layer */
struct ss_port;                  /* rpc.h */

/*
 * The state the layers below the facade work on. struct ss_ctl itself is
 * defined in control/ctl.c only (opaque everywhere else, checked by
 * tests/tools/check_layers.py); it begins with its struct ss_core, which the
 * layers reach through ss_core(ctl) without seeing the rest of the facade.
 */
struct ss_core {
	struct ss_ctl_runtime rt;
	struct ss_store store;
	struct ss_arena reads;       /* records returned by ss_ctl_store_rec() */
	/* the ops layer's */
	uint32_t limit[SS_TYPES_MAX];   /* capacity by type id, 0: unbounded */
	json_t *dflt[SS_TYPES_MAX];  /* default value of singletons (flow, rdma) */
	struct ss_method_reg *methods;
	size_t nmethods;
	bool bootstrapping;          /* applying the bootstrap file: an add that
				      * differs from a committed object keeps
				      * the committed one (logged) */
	/* the upper layers' own state, each defined where only that layer
	 * and those above it look */
	struct ss_txn_state *txn;
	struct ss_rpc_state *rpc;
	struct ss_persist *persist;  /* NULL without state_file */
	struct ss_server *server;    /* NULL before ss_ctl_listen() */
};

/* The core of a control plane: the first member of struct ss_ctl (ctl.c
 * asserts it), so the conversion is a plain pointer cast (C11 6.7.2.1). */
static inline struct ss_core *
ss_core(struct ss_ctl *ctl)
{
	return (struct ss_core *)(void *)ctl;
}

static inline const struct ss_core *
ss_core_const(const struct ss_ctl *ctl)
{
	return (const struct ss_core *)(const void *)ctl;
}

/* Free the records ss_ctl_store_rec() returned (end of request / txn). */
static inline void
ss_ctl_reads_release(struct ss_ctl *ctl)
{
	ss_arena_free(&ss_core(ctl)->reads);
}
/* log.c (base layer) */
void ss_ctl_log(struct ss_ctl *ctl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const struct ss_port *ss_ctl_port(const struct ss_ctl *ctl, const char *name);
uint64_t ss_now_ms(void);
uint64_t ss_now_ns(void);

/* rpc.c: handle one parsed request line; returns the reply text or NULL. */
char *ss_rpc_handle(struct ss_ctl *ctl, const char *line, size_t len);
/* rpc.c: a batch line handled in slices (see rpc.c). new: NULL when the
 * line is not a batch (handle it with ss_rpc_handle()). step: handles
 * elements, appending the reply text to out, until out->len reaches
 * out_limit or CLOCK_MONOTONIC passes deadline_ns (0: call again), or the
 * batch is done (1: the reply, if any, ends with '\n'); -1: a streamed
 * element's reply is cut (out of memory). The line must be the same bytes
 * at every step (it may move). */
struct ss_rpc_batch;
struct ss_rpc_batch *ss_rpc_batch_new(const char *line, size_t len);
int ss_rpc_batch_step(struct ss_ctl *ctl, struct ss_rpc_batch *b, const char *line, size_t len,
		      struct ss_buf *out, size_t out_limit, uint64_t deadline_ns);
void ss_rpc_batch_free(struct ss_rpc_batch *b);
/* rpc.c: a reply streamed in steps (state.get: rpc.c, "streamed
 * replies"). step appends to out until out->len reaches out_limit or
 * CLOCK_MONOTONIC passes deadline_ns (0: call again), or the reply is
 * complete (1); -1: out of memory, the reply is cut (close the
 * connection). A batch's element streams inside the batch (its step
 * returns -1 the same way). */
struct ss_rpc_stream;
int ss_rpc_stream_step(struct ss_ctl *ctl, struct ss_rpc_stream *st, struct ss_buf *out,
		       size_t out_limit, uint64_t deadline_ns);
void ss_rpc_stream_free(struct ss_rpc_stream *st);
/* The bytes a stream, or a batch with the stream of its element, holds
 * (0 for NULL): counted in the server's budget of buffered bytes. */
size_t ss_rpc_stream_held(const struct ss_rpc_stream *st);
struct ss_rpc_batch;
size_t ss_rpc_batch_held(const struct ss_rpc_batch *b);
/* rpc.c: handle one request line that is not a batch, appending its reply
 * line ('\n' included) to out; when the reply is streamed, only its head,
 * and *stream is set: step it to the end of the line. 0 for a
 * notification (nothing written), else 1. */
int ss_rpc_handle_into(struct ss_ctl *ctl, const char *line, size_t len, struct ss_buf *out,
		       struct ss_rpc_stream **stream);
/* An error reply line for `id` (may be NULL: id null). */
char *ss_rpc_error_line(const json_t *id, const struct ss_err *e);
/* server.c: listen on conf's socket_path (group, request_timeout_ms), for
 * ss_ctl_listen(); close every client and the socket (no-op before listen) */
int ss_server_listen(struct ss_ctl *ctl, const struct ss_ctl_conf *conf, char *err, size_t errlen);
void ss_server_destroy(struct ss_ctl *ctl);
/* server.c: the counters of stats.get scope "control" (connections, closes
 * by reason, buffered bytes); clear zeroes the counters, not the gauges. */
json_t *ss_server_stats(struct ss_ctl *ctl);
void ss_server_stats_clear(struct ss_ctl *ctl);

#endif /* SS_CTL_INT_H */
