/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Snapshot + journal persistence (format and rules in persist.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "control/limits.h"
#include "control/methods.h"
#include "control/objects.h"
#include "control/ops.h"
#include "control/persist.h"
#include "control/store.h"
#include "control/txn.h"

struct ss_persist {
	char *snap;
	char *tmp;
	char *jpath;
	char *dir;
	int jfd;                 /* journal, -1 until loaded */
	uint64_t jbytes;
	uint64_t snap_bytes;
	uint32_t jrecords;
	bool need_snapshot;      /* the journal is unusable: snapshot next commit */
	struct ss_buf rec;       /* record being built (kept to avoid reallocs) */
	uint64_t interval_ms;    /* snapshot_interval_s */
	uint64_t dirty_ms;       /* the journal holds commits since then (0: none) */
	uint64_t snap_end_ms;    /* the last snapshot: when it ended, its duration */
	uint64_t snap_dur_ms;
	uint64_t snapshots, snapshot_failures;
	int fault;               /* SSWITCH_FAULT_COMPACT: the step to die at */
};

/* Fault injection for the kill -9 tests (tests/api/test_abuse_state.py):
 * with SSWITCH_FAULT_COMPACT=STEP in its environment the daemon kills
 * itself with SIGKILL at that step of its first snapshot. */
enum { F_NONE, F_WRITE, F_FSYNC, F_RENAME, F_DIRSYNC, F_TRUNCATE };
static const char *const fault_steps[] = { "", "write", "fsync", "rename", "dirsync",
					   "truncate", NULL };

static void
fault_point(struct ss_ctl *ctl, struct ss_persist *p, int step)
{
	if (p->fault != step)
		return;
	ss_ctl_log(ctl, LOG_WARNING, "SSWITCH_FAULT_COMPACT=%s: killing the daemon (SIGKILL)",
		   fault_steps[step]);
	raise(SIGKILL);
}

int
ss_persist_init(struct ss_ctl *ctl, const char *state_file, uint32_t interval_s)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_persist *p = calloc(1, sizeof(*p));
	const char *s = state_file, *f = getenv("SSWITCH_FAULT_COMPACT");
	char *d;
	int i;

	if (p == NULL)
		return -ENOMEM;
	p->jfd = -1;
	p->interval_ms = 1000ull * (interval_s ? interval_s : SS_CTL_DEF_SNAPSHOT_INTERVAL_S);
	for (i = F_WRITE; f != NULL && fault_steps[i] != NULL; i++)
		if (strcmp(f, fault_steps[i]) == 0)
			p->fault = i;
	p->snap = strdup(s);
	d = strdup(s);
	if (p->snap == NULL || d == NULL ||
	    asprintf(&p->tmp, "%s.tmp", s) < 0 || asprintf(&p->jpath, "%s.journal", s) < 0) {
		free(d);
		core->persist = p;
		ss_persist_fini(ctl);
		return -ENOMEM;
	}
	p->dir = strdup(dirname(d));
	free(d);
	core->persist = p;
	if (p->dir == NULL) {
		ss_persist_fini(ctl);
		return -ENOMEM;
	}
	core->txn->journal.append = ss_persist_append;
	core->txn->journal.committed = ss_persist_maybe_compact;
	return 0;
}

bool
ss_persist_loaded(const struct ss_ctl *ctl)
{
	return ss_core_const(ctl)->persist != NULL && ss_core_const(ctl)->persist->jfd >= 0;
}

void
ss_persist_fini(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_persist *p = core->persist;

	core->txn->journal.append = NULL;
	core->txn->journal.committed = NULL;
	if (p == NULL)
		return;
	if (p->jfd >= 0)
		close(p->jfd);
	free(p->snap);
	free(p->tmp);
	free(p->jpath);
	free(p->dir);
	ss_buf_free(&p->rec);
	free(p);
	core->persist = NULL;
}

/* ---- helpers ------------------------------------------------------------ */

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
mkdir_p(const char *dir)
{
	char buf[4096];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return n == 0 ? 0 : -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0750) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* Read a whole file. -ENOENT when absent. */
static int
read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : -EIO;

			free(buf);
			close(fd);
			return e;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* ---- snapshot ------------------------------------------------------------- */

struct snap_out {
	struct ss_ctl *ctl;
	int fd;
	bool wrote;
};

static int
flush_fd(void *arg, struct ss_buf *b)
{
	struct snap_out *o = arg;
	int rc;

	if (!o->wrote) {
		/* the fault: half of the first piece is in S.tmp */
		o->wrote = true;
		if (ss_core(o->ctl)->persist->fault == F_WRITE && write_all(o->fd, b->p, b->len / 2) == 0)
			fault_point(o->ctl, ss_core(o->ctl)->persist, F_WRITE);
	}
	rc = write_all(o->fd, b->p, b->len);
	b->len = 0;
	return rc;
}

int
ss_persist_snapshot(struct ss_ctl *ctl, uint64_t gen, char *err, size_t errlen)
{
	struct ss_persist *p = ss_core(ctl)->persist;
	struct snap_out o = { .ctl = ctl };
	uint64_t t0 = ss_now_ms();
	struct ss_buf b;
	struct stat st;
	int rc;

	/* Every step leaves a restorable pair (kill -9 at each is tested):
	 * until the rename S is the old snapshot and the journal has every
	 * commit since; after it S holds generation gen and the journal's
	 * records (<= gen) are skipped at restore. */
	o.fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (o.fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", p->tmp, strerror(-rc));
		p->snapshot_failures++;
		return rc;
	}
	ss_buf_init(&b);
	ss_buf_addf(&b, "{\"format\":\"sswitch-state\",\"version\":1,\"generation\":%llu,\"ops\":",
		    (unsigned long long)gen);
	rc = ss_state_dump_ops(ctl, &b, false, flush_fd, &o);
	ss_buf_adds(&b, "}\n");
	if (rc == 0)
		rc = b.oom ? -ENOMEM : flush_fd(&o, &b);
	ss_buf_free(&b);
	if (rc == 0 && fsync(o.fd) < 0)
		rc = -errno;
	if (rc == 0 && fstat(o.fd, &st) < 0)
		rc = -errno;
	if (close(o.fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0)
		fault_point(ctl, p, F_FSYNC);
	if (rc == 0 && rename(p->tmp, p->snap) < 0)
		rc = -errno;
	if (rc == 0)
		fault_point(ctl, p, F_RENAME);
	if (rc == 0)
		rc = fsync_dir(p->dir);
	if (rc < 0) {
		unlink(p->tmp);
		snprintf(err, errlen, "writing snapshot %s: %s", p->snap, strerror(-rc));
		p->snapshot_failures++;
		return rc;
	}
	fault_point(ctl, p, F_DIRSYNC);
	p->snap_bytes = (uint64_t)st.st_size;
	/* the snapshot holds everything: the journal restarts empty. If this
	 * fails the old records stay, with generations <= gen: skipped. */
	if (p->jfd >= 0 && ftruncate(p->jfd, (off_t)strlen(SS_JOURNAL_MAGIC)) == 0 &&
	    fdatasync(p->jfd) == 0) {
		p->jbytes = strlen(SS_JOURNAL_MAGIC);
		p->jrecords = 0;
	}
	fault_point(ctl, p, F_TRUNCATE);
	p->need_snapshot = false;
	p->dirty_ms = 0;
	p->snapshots++;
	p->snap_end_ms = ss_now_ms();
	p->snap_dur_ms = p->snap_end_ms - t0;
	return 0;
}

/* Bring state_file up to date once the commits in the journal are
 * snapshot_interval_s old, but spend at most a tenth of the control
 * thread's time on it: a state of millions of objects takes seconds to
 * write. */
void
ss_persist_tick(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_persist *p = core->persist;
	uint64_t now;
	char err[256];

	if (p == NULL || p->jfd < 0 || p->dirty_ms == 0 || core->txn->in_txn)
		return;
	now = ss_now_ms();
	if (now - p->dirty_ms < p->interval_ms || now - p->snap_end_ms < 9 * p->snap_dur_ms)
		return;
	if (ss_persist_snapshot(ctl, core->txn->generation, err, sizeof(err)) < 0) {
		ss_ctl_log(ctl, LOG_WARNING, "state_file not updated (the journal stays): %s", err);
		p->dirty_ms = now;   /* try again an interval later */
	}
}

void
ss_persist_stats(struct ss_ctl *ctl, json_t *o)
{
	struct ss_persist *p = ss_core(ctl)->persist;

	if (p == NULL)
		return;
	json_object_set_new(o, "journal_bytes", json_integer((json_int_t)p->jbytes));
	json_object_set_new(o, "journal_records", json_integer((json_int_t)p->jrecords));
	json_object_set_new(o, "snapshot_bytes", json_integer((json_int_t)p->snap_bytes));
	json_object_set_new(o, "snapshots", json_integer((json_int_t)p->snapshots));
	json_object_set_new(o, "snapshot_failures", json_integer((json_int_t)p->snapshot_failures));
	json_object_set_new(o, "snapshot_ms", json_integer((json_int_t)p->snap_dur_ms));
}

void
ss_persist_maybe_compact(struct ss_ctl *ctl)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_persist *p = core->persist;
	char err[256];

	if (p == NULL || p->jfd < 0)
		return;
	if (p->jbytes < SS_JOURNAL_COMPACT_MIN || p->jbytes <= p->snap_bytes)
		return;
	if (ss_persist_snapshot(ctl, core->txn->generation, err, sizeof(err)) < 0)
		ss_ctl_log(ctl, LOG_WARNING, "journal compaction failed (the journal stays): %s",
			   err);
}

/* ---- journal ------------------------------------------------------------- */

int
ss_persist_append(struct ss_ctl *ctl, uint64_t gen, struct ss_err *err)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_persist *p = core->persist;
	struct ss_log *log = &core->store.log;
	struct ss_buf *b = &p->rec;
	char msg[256];
	size_t i;
	int rc;

	if (p->jfd < 0)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL,
				  "state not restored: call ss_ctl_restore() first");
	if (p->need_snapshot) {
		if (ss_persist_snapshot(ctl, gen, msg, sizeof(msg)) < 0)
			return ss_err_set(err, SS_RPC_INTERNAL, NULL, "state not saved: %s", msg);
		return 0;
	}
	b->len = 0;
	b->oom = 0;
	ss_buf_add(b, "\0\0\0\0\0\0\0\0", 8);
	ss_buf_addf(b, "{\"gen\":%llu,\"changes\":[", (unsigned long long)gen);
	for (i = 0; i < log->n; i++) {
		const struct ss_log_ent *e = &log->v[i];
		const struct ss_node *n = e->node;

		ss_buf_adds(b, i ? ",[\"" : "[\"");
		ss_buf_adds(b, e->kind == SS_LOG_UNLINK ? "del\",\"" : "put\",\"");
		ss_buf_adds(b, ss_types[n->type]->name);
		ss_buf_add(b, "\",", 2);
		if (e->kind == SS_LOG_UNLINK)
			ss_json_dump_str(b, n->key, n->h.klen);
		else
			ss_buf_add(b, ss_node_text(n), n->tlen);
		ss_buf_addc(b, ']');
	}
	ss_buf_add(b, "]}", 2);
	if (b->oom)
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "out of memory");
	if (b->len - 8 > UINT32_MAX)
		return ss_err_set(err, SS_ERR_CAPACITY, NULL, "transaction too large to journal");
	put_le32((unsigned char *)b->p, (uint32_t)(b->len - 8));
	put_le32((unsigned char *)b->p + 4,
		 (uint32_t)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)b->p + 8, (uInt)(b->len - 8)));
	rc = write_all(p->jfd, b->p, b->len);
	if (rc == 0 && fdatasync(p->jfd) < 0)
		rc = -errno;
	if (rc < 0) {
		/* take back a partial record so later ones do not follow garbage */
		if (ftruncate(p->jfd, (off_t)p->jbytes) < 0)
			p->need_snapshot = true;
		return ss_err_set(err, SS_RPC_INTERNAL, NULL, "state not saved: %s: %s", p->jpath,
				  strerror(-rc));
	}
	p->jbytes += b->len;
	p->jrecords++;
	if (p->dirty_ms == 0)
		p->dirty_ms = ss_now_ms();
	if (b->cap > (64u << 20)) {
		ss_buf_free(b);
	}
	return 0;
}

/* Apply one journal record's changes as a transaction. */
static int
replay_record(struct ss_ctl *ctl, json_t *rec, char *err, size_t errlen)
{
	json_t *changes = json_object_get(rec, "changes");
	struct ss_err e;
	size_t i;

	ss_err_init(&e);
	if (!json_is_array(changes)) {
		snprintf(err, errlen, "record without changes");
		return -EINVAL;
	}
	ss_txn_begin(ctl);
	for (i = 0; i < json_array_size(changes); i++) {
		json_t *c = json_array_get(changes, i);
		const char *op = json_string_value(json_array_get(c, 0));
		const char *tn = json_string_value(json_array_get(c, 1));
		json_t *arg = json_array_get(c, 2);
		int t = tn ? ss_type_by_name(tn, strlen(tn)) : -1;
		int rc;

		if (op == NULL || t < 0 || arg == NULL) {
			snprintf(err, errlen, "change %zu: malformed", i);
			ss_txn_abort(ctl);
			return -EINVAL;
		}
		if (strcmp(op, "put") == 0 && json_is_array(arg)) {
			json_t *obj = ss_schema_expand_json(&ss_types[t]->schema, arg);

			rc = obj ? ss_op_put(ctl, t, obj, &e)
				 : ss_err_set(&e, SS_RPC_INTERNAL, NULL, "out of memory");
			json_decref(obj);
		} else if (strcmp(op, "put") == 0)
			rc = ss_op_put(ctl, t, arg, &e);
		else if (strcmp(op, "del") == 0 && json_is_string(arg))
			rc = ss_op_del_key(ctl, t, json_string_value(arg), &e);
		else
			rc = ss_err_set(&e, SS_RPC_INVALID_PARAMS, NULL, "unknown change %s", op);
		if (rc < 0) {
			snprintf(err, errlen, "change %zu (%s %s): %s", i, op, tn, e.msg);
			ss_txn_abort(ctl);
			return -EINVAL;
		}
	}
	if (ss_txn_commit(ctl, 0, &e) < 0) {
		snprintf(err, errlen, "%s", e.msg);
		return -EINVAL;
	}
	return 0;
}

static int
load_snapshot(struct ss_ctl *ctl, uint64_t *gen, char *err, size_t errlen)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_persist *p = core->persist;
	char *text, perr[160];
	size_t len;
	json_t *root, *ops, *g;
	struct ss_err e;
	int rc = read_file(p->snap, &text, &len);

	*gen = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "state_file %s: %s", p->snap, strerror(-rc));
		return rc;
	}
	p->snap_bytes = len;
	root = ss_json_parse(text, len, perr, sizeof(perr));
	free(text);
	if (root == NULL) {
		snprintf(err, errlen, "state_file %s is corrupt: %s", p->snap, perr);
		return -EINVAL;
	}
	ops = json_object_get(root, "ops");
	g = json_object_get(root, "generation");
	if (!json_is_string(json_object_get(root, "format")) ||
	    strcmp(json_string_value(json_object_get(root, "format")), "sswitch-state") != 0 ||
	    json_integer_value(json_object_get(root, "version")) != 1 ||
	    !json_is_integer(g) || json_integer_value(g) < 0 || !json_is_array(ops)) {
		json_decref(root);
		snprintf(err, errlen, "state_file %s is not an sswitch state (version 1)", p->snap);
		return -EINVAL;
	}
	ss_err_init(&e);
	ss_txn_begin(ctl);
	if (ss_op_apply_ops(ctl, ops, &e) < 0 || ss_txn_commit(ctl, 0, &e) < 0) {
		if (core->txn->in_txn)
			ss_txn_abort(ctl);
		snprintf(err, errlen, "state_file %s: op %d: %s%s%s", p->snap, e.index,
			 e.field[0] ? e.field : "", e.field[0] ? ": " : "", e.msg);
		json_decref(root);
		return -EINVAL;
	}
	*gen = (uint64_t)json_integer_value(g);
	json_decref(root);
	return 0;
}

static int
load_journal(struct ss_ctl *ctl, uint64_t *gen, char *err, size_t errlen)
{
	struct ss_persist *p = ss_core(ctl)->persist;
	const size_t mlen = strlen(SS_JOURNAL_MAGIC);
	unsigned char *t;
	char *text;
	size_t len, off;
	int rc = read_file(p->jpath, &text, &len);
	uint32_t nrec = 0;

	if (rc == -ENOENT) {
		text = NULL;
		len = 0;
	} else if (rc < 0) {
		snprintf(err, errlen, "journal %s: %s", p->jpath, strerror(-rc));
		return rc;
	}
	t = (unsigned char *)text;
	if (len > 0 && memcmp(t, SS_JOURNAL_MAGIC, len < mlen ? len : mlen) != 0) {
		free(text);
		snprintf(err, errlen, "journal %s: offset 0: bad magic (not an sswitch journal)",
			 p->jpath);
		return -EINVAL;
	}
	off = mlen;
	while (len >= mlen && off < len) {
		uint32_t rlen, crc;
		json_t *rec;
		json_int_t g;
		char perr[160], rerr[1024];
		bool last;

		if (len - off < 8 || (rlen = le32(t + off)) > len - off - 8) {
			ss_ctl_log(ctl, LOG_WARNING,
				   "journal %s: discarding a torn final record at offset %zu (%zu bytes): "
				   "the commit was never acknowledged", p->jpath, off, len - off);
			break;
		}
		crc = le32(t + off + 4);
		last = off + 8 + rlen == len;
		if (rlen == 0 ||
		    (uint32_t)crc32(crc32(0L, Z_NULL, 0), t + off + 8, rlen) != crc) {
			if (last) {
				ss_ctl_log(ctl, LOG_WARNING,
					   "journal %s: discarding a torn final record at offset %zu "
					   "(CRC mismatch): the commit was never acknowledged",
					   p->jpath, off);
				break;
			}
			snprintf(err, errlen,
				 "journal %s: offset %zu: CRC mismatch in a record followed by others: "
				 "the journal is corrupt", p->jpath, off);
			free(text);
			return -EINVAL;
		}
		rec = ss_json_parse((const char *)t + off + 8, rlen, perr, sizeof(perr));
		g = rec ? json_integer_value(json_object_get(rec, "gen")) : 0;
		if (rec == NULL || g <= 0) {
			snprintf(err, errlen, "journal %s: offset %zu: bad record: %s", p->jpath, off,
				 rec ? "no generation" : perr);
			json_decref(rec);
			free(text);
			return -EINVAL;
		}
		if ((uint64_t)g > *gen) {
			if ((uint64_t)g != *gen + 1) {
				snprintf(err, errlen,
					 "journal %s: offset %zu: generation %lld follows %llu (records missing)",
					 p->jpath, off, (long long)g, (unsigned long long)*gen);
				json_decref(rec);
				free(text);
				return -EINVAL;
			}
			if (replay_record(ctl, rec, rerr, sizeof(rerr)) < 0) {
				snprintf(err, errlen, "journal %s: offset %zu: %s", p->jpath, off, rerr);
				json_decref(rec);
				free(text);
				return -EINVAL;
			}
			*gen = (uint64_t)g;
		}
		json_decref(rec);
		nrec++;
		off += 8 + rlen;
	}
	free(text);
	/* open for appending; cut a torn tail (or create the file) */
	p->jfd = open(p->jpath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (p->jfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "journal %s: %s", p->jpath, strerror(-rc));
		return rc;
	}
	if (len < mlen) {
		if (ftruncate(p->jfd, 0) < 0 || write_all(p->jfd, SS_JOURNAL_MAGIC, mlen) < 0 ||
		    fdatasync(p->jfd) < 0 || fsync_dir(p->dir) < 0) {
			rc = -errno;
			snprintf(err, errlen, "journal %s: %s", p->jpath, strerror(errno));
			return rc ? rc : -EIO;
		}
		off = mlen;
	} else if (off < len) {
		if (ftruncate(p->jfd, (off_t)off) < 0 || fdatasync(p->jfd) < 0) {
			rc = -errno;
			snprintf(err, errlen, "journal %s: truncating the torn record: %s", p->jpath,
				 strerror(errno));
			return rc;
		}
	}
	p->jbytes = off;
	p->jrecords = nrec;
	/* state_file is behind the journal: brought up to date by the tick */
	p->dirty_ms = nrec > 0 ? ss_now_ms() : 0;
	return 0;
}

int
ss_persist_load(struct ss_ctl *ctl, char *err, size_t errlen)
{
	struct ss_core *core = ss_core(ctl);
	struct ss_persist *p = core->persist;
	uint64_t gen;
	int rc;

	rc = mkdir_p(p->dir);
	if (rc < 0) {
		snprintf(err, errlen, "state directory %s: %s", p->dir, strerror(-rc));
		return rc;
	}
	rc = load_snapshot(ctl, &gen, err, errlen);
	if (rc < 0)
		return rc;
	rc = load_journal(ctl, &gen, err, errlen);
	if (rc < 0)
		return rc;
	core->txn->generation = gen;
	return 0;
}
