/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Store operations (the core of every mutating method) and transactions.
 *
 * An operation validates its params completely, then changes the store
 * through store.h (recorded in the undo log). A transaction is the sequence
 * of operations of one request (or of one `txn`); ss_txn_commit() publishes
 * it, ss_txn_abort() rolls it back. Between the two, every change is
 * visible to later operations of the same transaction and to the tables'
 * prepare() hooks, and to nothing else.
 */
#ifndef SS_CTL_OPS_H
#define SS_CTL_OPS_H

#include "control/ctl-int.h"

/* <type>.add, single object or {"entries": [...]} */
int ss_op_add(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err);
/* <type>.delete, key fields or {"entries": [...]} */
int ss_op_delete(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err);
/* eni.set, switch.set, flow.config, rdma.config: change the given fields
 * (null clears an optional field). */
int ss_op_set(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err);
/* <type>.replace {key, other fields?, <replace_list>: [children]} for types
 * with SS_TM_REPLACE (acl_group.replace {name, family?, rules: [...]}): the
 * parent is created when other fields are given (or checked unchanged),
 * its children of type replace_child become exactly the list. */
int ss_op_replace(struct ss_ctl *ctl, int type, json_t *params, struct ss_err *err);

/* bulk.c: <type>.add {"entries": RAW} for types with bulk_raw, reading the
 * entries straight from the request text (validated by ss_json_parse_lazy).
 * 0, -1 with err, or 1 when an entry names a field of t->raw_stop: the
 * caller rolls the transaction back and takes the general path (whose
 * answer for the entries before is the same). */
int ss_op_add_raw(struct ss_ctl *ctl, int type, const char *raw, size_t len,
		  struct ss_err *err);
/* shared with bulk.c */
struct ss_node;
int ss_op_put_node(struct ss_ctl *ctl, int type, const char *key, json_t *obj,
		   const struct ss_buf *text, struct ss_node *old, struct ss_err *err);
bool ss_op_same_text(const struct ss_node *n, const struct ss_buf *b);

/* Journal replay: put a whole object (add or replace), delete by key. */
int ss_op_put(struct ss_ctl *ctl, int type, json_t *obj, struct ss_err *err);
int ss_op_del_key(struct ss_ctl *ctl, int type, const char *key, struct ss_err *err);


/* The committed state as a txn "ops" array (state.get, snapshots). When
 * flush is set it is called whenever the buffer holds more than 1 MiB
 * (streaming to a file); it returns 0 or -errno. */
int ss_state_dump_ops(struct ss_ctl *ctl, struct ss_buf *b, bool sorted,
		      int (*flush)(void *arg, struct ss_buf *b), void *arg);
/* The same in steps (state.get streamed while the client reads): new
 * takes the state as it is now (NULL, errno ENOMEM); each step appends to
 * b until b->len reaches limit or CLOCK_MONOTONIC passes deadline_ns (0:
 * call again) or the array is complete (1); -ENOMEM. Commits may happen
 * between steps: they do not show in what the cursor writes (the store is
 * pinned until the cursor is freed, store.h). */
struct ss_state_cursor;
struct ss_state_cursor *ss_state_cursor_new(struct ss_ctl *ctl, bool sorted);
int ss_state_cursor_step(struct ss_ctl *ctl, struct ss_state_cursor *c, struct ss_buf *b,
			 size_t limit, uint64_t deadline_ns);
void ss_state_cursor_free(struct ss_state_cursor *c);
/* The bytes the cursor holds (its node pointers). */
size_t ss_state_cursor_held(const struct ss_state_cursor *c);

/* Transactions (txn.c) */
#define SS_TXN_TABLES  0x1     /* run the tables' prepare/commit/reclaim */
#define SS_TXN_PERSIST 0x2     /* append to the journal before committing */
void ss_txn_begin(struct ss_ctl *ctl);
/* 0 (committed, or nothing to commit) or -1 with err (rolled back). */
int ss_txn_commit(struct ss_ctl *ctl, unsigned flags, struct ss_err *err);
void ss_txn_abort(struct ss_ctl *ctl);
/* Dry run (txn.check): the open transaction's changes through every
 * table's prepare() (data-plane capacity, compilation), then abort() and
 * rollback: nothing is applied, journaled or published, the generation
 * stays. 0 (it would commit) or -1 with err; the transaction is closed
 * either way. */
int ss_txn_check(struct ss_ctl *ctl, struct ss_err *err);
/* Publish the whole store to the tables as adds (end of ss_ctl_restore). */
int ss_txn_publish_all(struct ss_ctl *ctl, char *err, size_t errlen);

#endif /* SS_CTL_OPS_H */
