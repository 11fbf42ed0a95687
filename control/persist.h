/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Durability of the committed state: snapshot + journal.
 *
 * Files (S = conf.state_file)
 * ---------------------------
 * S            snapshot, written whole and atomically: S.tmp, fsync, rename
 *              over S, fsync of the directory. Content (one JSON value):
 *                {"format":"sswitch-state","version":1,"generation":G,
 *                 "ops":[...]}
 *              where ops is exactly what state.get returns (replayable by
 *              `txn` into an empty store) and G the generation it holds.
 * S.journal    the commits since the snapshot, appended and fdatasync'ed
 *              before the reply of every committed transaction:
 *                8-byte magic "SSJRNL1\n", then records
 *                  u32 length (little endian) | u32 CRC-32 (zlib/IEEE) of the
 *                  payload | payload
 *                payload: {"gen":G,"changes":[["put",TYPE,VALUES] |
 *                                             ["del",TYPE,KEY], ...]}
 *              TYPE is a store type (ss_change.type), VALUES the object in
 *              its stored form (the array of its field values in the
 *              type's schema order, null when absent, trailing absent ones
 *              left out: ss_schema_dump_compact; a full object is accepted
 *              too), KEY its store key; G the generation after the commit.
 *
 * Restore: the snapshot (absent: empty store, generation 0), then every
 * journal record with G > the snapshot's, each of which must follow the
 * previous one (G = previous + 1). A final record cut short (length or
 * payload past the end of file) or whose CRC fails with nothing after it
 * is a write torn by a crash before the commit was acknowledged: it is
 * discarded, logged, and the journal truncated there. Anything else (bad
 * snapshot JSON, a bad magic, a CRC mismatch with records after it, a
 * generation gap, a record that does not apply) fails the restore with the
 * file name and byte offset: committed state is never silently dropped.
 *
 * Compaction: a new snapshot is written and the journal truncated to its
 * magic (1) after a commit, when the journal outgrows both the snapshot
 * and SS_JOURNAL_COMPACT_MIN bytes: doubling like this keeps the rewriting
 * amortised O(1) per committed byte during bulk loads; (2) from the
 * control loop (ss_persist_tick), once the oldest commit the snapshot lacks
 * is snapshot_interval_s old, unless the last snapshot took more than a
 * ninth of the time since it ended (a huge state is not rewritten every
 * few seconds). So S is a complete snapshot, at most about
 * snapshot_interval_s behind the acknowledged state while the daemon
 * runs, and current after a clean stop; tools read S, state.get is the
 * current state. A crash in between leaves records the snapshot already
 * contains; their generations are <= the snapshot's and they are skipped.
 * Kill -9 at each step of a compaction (SSWITCH_FAULT_COMPACT, persist.c)
 * is tested to restore every acknowledged commit.
 */
#ifndef SS_CTL_PERSIST_H
#define SS_CTL_PERSIST_H

#include "control/ctl-int.h"

#define SS_JOURNAL_MAGIC "SSJRNL1\n"
#define SS_JOURNAL_COMPACT_MIN (64u << 20)

/* Persist to state_file (its .journal and .tmp beside it). */
int ss_persist_init(struct ss_ctl *ctl, const char *state_file, uint32_t snapshot_interval_s);
void ss_persist_fini(struct ss_ctl *ctl);
bool ss_persist_loaded(const struct ss_ctl *ctl);
/* Load snapshot + journal into the (empty) store; opens the journal. */
int ss_persist_load(struct ss_ctl *ctl, char *err, size_t errlen);
/* Journal the open transaction's log as generation gen (before commit). */
int ss_persist_append(struct ss_ctl *ctl, uint64_t gen, struct ss_err *err);
/* Write a snapshot of the store as generation gen, then empty the journal. */
int ss_persist_snapshot(struct ss_ctl *ctl, uint64_t gen, char *err, size_t errlen);
void ss_persist_maybe_compact(struct ss_ctl *ctl);
/* Called by every ss_ctl_poll(): the snapshot by age (above). */
void ss_persist_tick(struct ss_ctl *ctl);
/* Add the journal's and snapshots' counters to `o` (scope "control"). */
void ss_persist_stats(struct ss_ctl *ctl, json_t *o);

#endif /* SS_CTL_PERSIST_H */
