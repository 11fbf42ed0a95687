/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sswitch control plane: the contract between the daemon (dataplane/) and the
 * control thread (control/).
 *
 * Threads
 * -------
 * Every function here is called on the control thread (the main lcore) only.
 * The control plane never runs on a worker; workers only read tables that the
 * control plane publishes, and report RCU quiescent states.
 *
 * Life cycle (SPEC section 2, start order)
 * ----------------------------------------
 *   ss_ctl_create()    config known, EAL up, ports configured but not started
 *   ss_ctl_register_*  features plug their tables, stats scopes and methods in
 *   ss_ctl_restore()   committed state then the bootstrap file are applied and
 *                      published to every registered table
 *   ss_ctl_listen()    the socket appears
 *   ...ports started, workers launched...
 *   loop: ss_ctl_poll()
 *   ss_ctl_save(), ss_ctl_destroy()
 *
 * Publication
 * -----------
 * A mutating request is validated completely against the object store. Then,
 * for every registered table, prepare() builds the new data-plane state aside
 * (it may fail: -errno plus a message; then abort() is called on the tables
 * already prepared and nothing is visible). When every prepare() succeeded,
 * the store is committed and persisted, then commit() is called on every
 * table: it must not fail (pointer stores only). Then the control plane waits
 * for an RCU grace period of all workers (runtime->rcu_synchronize) and calls
 * reclaim() so the table frees what the workers may still have been reading.
 */
#ifndef SS_CTL_H
#define SS_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "control/err.h"   /* SS_RPC_*, SS_ERR_* codes */

struct ss_ctl;

/* Capacities of the object store (config section `tables`); 0 = default. */
struct ss_ctl_limits {
	uint32_t max_vnets;
	uint32_t max_enis;
	uint32_t max_mappings;
	uint32_t max_routes;          /* outbound routes, all groups together */
	uint32_t max_inbound_routes;
	uint32_t max_underlay_routes;
	uint32_t max_acl_groups;
	uint32_t max_acl_rules;       /* all groups together */
	uint32_t max_rdma_policies;
	uint32_t max_vips;
	uint32_t max_pa_validations;
};

/* Filled by the daemon from its config. Strings are borrowed for the
 * lifetime of the ss_ctl. */
struct ss_ctl_conf {
	const char *socket_path;     /* control.socket */
	const char *state_file;      /* control.state_file, NULL: no persistence */
	const char *group;           /* control.group, NULL: root only */
	const char *bootstrap_file;  /* absolute path or NULL */
	struct ss_ctl_limits limits;
	/* flow defaults from the `flows` config section (flow.config object) */
	uint32_t max_flows;
	uint32_t idle_timeout_ms;
	uint32_t tcp_fin_timeout_ms;
	/* Added by control/: rdma.config defaults from the `rdma` config
	 * section (0 = default: qp_table_size 65536, qp_idle_timeout_ms 60000;
	 * the DSCPs are used only when rdma_dscp_set is non-zero, else 26/48). */
	uint32_t rdma_qp_table_size;
	uint32_t rdma_qp_idle_timeout_ms;
	uint8_t rdma_data_dscp;
	uint8_t rdma_cnp_dscp;
	uint8_t rdma_dscp_set;
	/* ipfix defaults from the `ipfix` config section (ipfix object,
	 * pipelines/ipfix; NULL / 0 = none / the default) */
	const char *ipfix_collector;
	uint32_t ipfix_observation_domain;
	uint32_t ipfix_active_timeout_s;
	uint32_t ipfix_template_refresh_s;
	/* A client idle this long with a partial request line is disconnected
	 * (0 = 10000 ms). A client not reading its replies for 3x this long is
	 * disconnected too. */
	uint32_t request_timeout_ms;
	/* Added by control/ (issue 17; 0 = the default in control/limits.h):
	 * a client with nothing in flight is closed after
	 * client_idle_timeout_s without a request (60); at most max_clients
	 * connections (256), max_clients_per_uid of one peer uid (64), and
	 * max_buffered_mb of input and output buffered for all of them (256);
	 * state_file is rewritten from the journal every snapshot_interval_s
	 * while commits arrive (10; persist.h). */
	uint32_t client_idle_timeout_s;
	uint32_t max_clients;
	uint32_t max_clients_per_uid;
	uint32_t max_buffered_mb;
	uint32_t snapshot_interval_s;
};

/* Services the daemon provides to the control plane. */
struct ss_ctl_runtime {
	void *ctx;
	/* Wait until every worker has passed a quiescent state. May be NULL
	 * (no workers: tests). */
	void (*rcu_synchronize)(void *ctx);
	/* Fill the runtime part of system.info: dpdk_version, ports, workers.
	 * The control plane adds version, uptime_s and generation. */
	void (*system_info)(void *ctx, json_t *result);
	/* Added by control/: log a line (level: syslog LOG_ERR..LOG_DEBUG). May
	 * be NULL: lines go to stderr. */
	void (*log)(void *ctx, int level, const char *msg);
};

/* One change applied by a committed transaction, in order. `ty` is the
 * object's type (compare it with the handle of a type the table consumes,
 * e.g. `ch->ty == &ss_type_vnet`); `rec` is the object after the change
 * (add/set) decoded into the record the type declares (types.h), `old_rec`
 * before it (set/delete); both valid until the end of the transaction's
 * reclaim(). Tables never see the JSON form of an object. */
enum ss_change_op { SS_CHANGE_ADD, SS_CHANGE_SET, SS_CHANGE_DELETE };
struct ss_type;
struct ss_change {
	enum ss_change_op op;
	const struct ss_type *ty;
	const void *rec;
	const void *old_rec;
};

/* A data-plane table fed by the store. `changes` lists only the changes of
 * this transaction (all types: a table ignores what it does not consume);
 * during ss_ctl_restore() it is the whole restored state as adds. The store
 * can be queried during prepare() with ss_ctl_store_get()/_foreach(). */
struct ss_ctl_table {
	const char *name;
	int (*prepare)(void *ctx, struct ss_ctl *ctl, const struct ss_change *changes,
		       size_t n, char *err, size_t errlen);
	void (*commit)(void *ctx);   /* infallible: publish what prepare built */
	void (*abort)(void *ctx);    /* drop what prepare built */
	void (*reclaim)(void *ctx);  /* after the grace period: free the old */
	void *ctx;
};
int ss_ctl_register_table(struct ss_ctl *ctl, const struct ss_ctl_table *t);

/* Read access to the committed store (control thread only). `key` is the
 * object's identity as the store spells it (see docs/api.md), e.g. the VNET
 * name, or "vnet/ip" for a mapping. Returns a borrowed reference or NULL. */
/*
 * Added by control/: types and keys. `type` is ss_change.type; a key is the
 * normalised key fields joined with '/' (names never contain '/'; integers
 * in decimal; addresses and prefixes in their canonical form):
 *   switch, flow.config, rdma.config   singletons: key ignored (NULL or "")
 *   vip             ip                       "192.0.2.10"
 *   underlay_route  prefix                   "0.0.0.0/0"
 *   vnet            name                     "v1"
 *   direction       vni                      "777"
 *   acl_group       name                     "g1"
 *   acl_rule        group/priority           "g1/10"
 *   eni             name                     "e1"
 *   route           group/prefix             "rg1/10.1.0.0/16"
 *   mapping         vnet/ip                  "v1/10.1.0.5", "v1/2001:db8::5"
 *   inbound_route   eni/vni/src_prefix/priority  "e1/100/10.0.0.0/8/1"
 *   pa_validation   vnet/underlay_ip         "v1/198.51.100.7"
 *   rdma.policy     name                     "p1"
 * Objects are returned normalised, with defaults filled in. The pointer
 * stays valid until that object is changed or deleted by a later
 * transaction (after that transaction's reclaim()). ss_ctl_store_foreach()
 * passes objects valid during the callback only (8M mappings are not kept
 * as jansson trees).
 */
const json_t *ss_ctl_store_get(struct ss_ctl *ctl, const char *type, const char *key);
/* Calls fn for every object of a type; stops early if fn returns non-zero
 * and returns that value. */
int ss_ctl_store_foreach(struct ss_ctl *ctl, const char *type,
			 int (*fn)(void *arg, const json_t *obj), void *arg);

/* The same as records (types.h). ss_ctl_store_rec() returns the record of
 * the object of type t under key (NULL: none, or ENOMEM), valid until the
 * end of the current request or transaction. ss_ctl_store_foreach_rec()
 * passes records valid during the callback only. */
const void *ss_ctl_store_rec(struct ss_ctl *ctl, const struct ss_type *t, const char *key);
int ss_ctl_store_foreach_rec(struct ss_ctl *ctl, const struct ss_type *t,
			     int (*fn)(void *arg, const void *rec), void *arg);

/* A stats scope (`ports`, `drops`, `nodes`, `eni`, `acl`, `rdma`, ...):
 * get() returns a new json object for stats.get, clear() resets. */
struct ss_ctl_stats {
	const char *scope;
	json_t *(*get)(void *ctx);
	void (*clear)(void *ctx);
	void *ctx;
};
int ss_ctl_register_stats(struct ss_ctl *ctl, const struct ss_ctl_stats *s);

/* A method served by a feature rather than the store (flow.list, rdma.qp.list,
 * capture.start, pipeline.graph, health.get, ...). The handler returns 0 and
 * sets *result (new reference), or returns a JSON-RPC error code and fills
 * err / *err_field (a static or borrowed string, may stay NULL). */
typedef int (*ss_ctl_method_fn)(void *ctx, struct ss_ctl *ctl, const json_t *params,
				json_t **result, char *err, size_t errlen,
				const char **err_field);
int ss_ctl_register_method(struct ss_ctl *ctl, const char *name, ss_ctl_method_fn fn,
			   void *ctx);

/* NULL and errno on failure. */
struct ss_ctl *ss_ctl_create(const struct ss_ctl_conf *conf, const struct ss_ctl_runtime *rt);
/* Load state_file (absent: empty store; unreadable or corrupt: error, never
 * discarded) then the bootstrap file, and publish. 0 or -errno with err. */
int ss_ctl_restore(struct ss_ctl *ctl, char *err, size_t errlen);
/* Create the listening socket (mode 0660, parent directory created). */
int ss_ctl_listen(struct ss_ctl *ctl, char *err, size_t errlen);
/* Serve clients for at most timeout_ms. Returns 0 or -errno (fatal only). */
int ss_ctl_poll(struct ss_ctl *ctl, int timeout_ms);
/* Committed-state generation (incremented by every committed change). */
uint64_t ss_ctl_generation(const struct ss_ctl *ctl);
/* Process a request line as the server would (no socket): used by tests and
 * the fuzzer. Returns the reply line (malloc'd, no newline) or NULL when the
 * request needs no reply (notification). */
char *ss_ctl_handle_line(struct ss_ctl *ctl, const char *line, size_t len);
void ss_ctl_destroy(struct ss_ctl *ctl);

/* ---- Added by control/ ------------------------------------------------- */

/* Declare a port of the config (call before ss_ctl_restore()). role is
 * "host", "fabric" or "storage". References are checked against these:
 * eni.port names a host port, underlay_route next_hops[].port a fabric or
 * storage port, rdma.policy action.port any port. 0, -EINVAL, -EEXIST or
 * -ENOMEM. */
int ss_ctl_add_port(struct ss_ctl *ctl, const char *name, const char *role);

/* Write a fresh snapshot of the committed state and empty the journal
 * (shutdown, SPEC section 2 "save state"). 0 or -errno with err. Without a
 * state_file: 0. */
int ss_ctl_save(struct ss_ctl *ctl, char *err, size_t errlen);

/* Runtime fields of listed objects (rdma.policy.list: offloaded,
 * offload_reason, lossless, packets, bytes). Called by <type>.list and
 * <type>.get for every object returned: `obj` is the stored object, `out`
 * a copy of it the decorator adds keys to. One decorator per type. */
typedef void (*ss_ctl_decorate_fn)(void *ctx, struct ss_ctl *ctl, const json_t *obj,
				   json_t *out);
int ss_ctl_register_decorator(struct ss_ctl *ctl, const char *type, ss_ctl_decorate_fn fn,
			      void *ctx);

#endif /* SS_CTL_H */
