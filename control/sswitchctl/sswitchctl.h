/* SPDX-License-Identifier: BSD-3-Clause
 *
 * sswitchctl: the command-line client of sswitchd (SPEC section 4).
 *
 * Layout
 * ------
 *   main.c    argument handling and command dispatch
 *   params.c  pure functions: key=value -> JSON params, words -> method name
 *             (no I/O, unit-tested in tests/unit/sswitchctl/test_params.c)
 *   rpc.c     the client side of the protocol: Unix socket, one JSON value
 *             per line, replies awaited with a deadline (never forever)
 *   render.c  human output: aligned tables and key/value listings
 *   stats.c   `stats`, `stats --watch` (live rates) and `stats clear`
 *   help.c    the manual (`--help`) and per-object field references
 *   schema_cmd.c  `schema`: object types and fields from the daemon (completion)
 *   txn_cmd.c `txn --dry-run`, `state diff`: txn.check for people
 *   show.c    `show`, `show eni NAME`: the one-screen summary
 *
 * Error convention: functions return 0 or a negative errno and write a
 * message for the user into (err, errlen); the exit status is chosen in
 * main.c only (SS_EXIT_*).
 */
#ifndef SSWITCHCTL_H
#define SSWITCHCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#define SSCTL_DEFAULT_SOCKET "/run/sswitch/sswitchd.sock"
#define SSCTL_DEFAULT_TIMEOUT_S 30.0

/* Exit status of the program (documented in `sswitchctl --help`). */
enum {
	SS_EXIT_OK = 0,
	SS_EXIT_API = 1,      /* the daemon answered with an error */
	SS_EXIT_USAGE = 2,    /* bad command line or unreadable params file */
	SS_EXIT_CONN = 3,     /* cannot connect, timeout, or protocol violation */
};

/* ------------------------------------------------------------------ params.c */

/* Every method of SPEC section 4, NULL-terminated. */
extern const char *const ss_known_methods[];

/* Known: in ss_known_methods, or announced by the daemon's schema.get
 * (types and verbs features registered; see ss_methods_from_schema). */
bool ss_method_known(const char *method);

/* Use the daemon's schema.get result for method resolution and help
 * (a new object type or verb needs no sswitchctl edit). Borrowed: a
 * reference is kept; NULL forgets it. */
void ss_methods_from_schema(const json_t *schema);
/* Its "types" array, or NULL. */
const json_t *ss_schema_types(void);

/* Resolve leading command words into a method name.
 *
 * Words are normalised (lower case, '-' -> '_') and adjacent words are joined
 * by '.' or '_' in every combination, longest match first, so that
 * `acl group add`, `acl_group add` and `acl-group add` all give
 * "acl_group.add" and `rdma policy add` gives "rdma.policy.add". When no
 * known method matches but the leading words name a known object followed by
 * one more word, "object.word" is returned (the daemon is the judge of verbs
 * it may have gained). On success writes the method to out and returns the
 * number of words consumed; returns 0 if the words name nothing, -1 if a
 * known object is given without a verb (out then holds the object). */
int ss_resolve_method(const char *const *words, int nwords, char *out, size_t outlen);

/* Parse a command-line value: JSON when the whole text is one JSON value
 * (numbers, true/false/null, strings in quotes, lists, objects), else the
 * text itself as a string. Never NULL except on allocation failure. */
json_t *ss_parse_value(const char *text);

/* Set `path` (dotted keys with optional [N] indexes: `acl.outbound_v4`,
 * `entries[0].ip`) to `value` in the object `root`, creating intermediate
 * objects and arrays. Steals `value`. An array index may be at most the
 * current size (append). Setting a path that is already set is an error
 * ("given twice"). 0 or -EINVAL with err. */
int ss_params_set(json_t *root, const char *path, json_t *value, char *err, size_t errlen);

/* Parse one `key=value` argument into root (see ss_params_set). */
int ss_params_add_kv(json_t *root, const char *arg, char *err, size_t errlen);

/* Whether an argument is a key=value pair (a key made of letters, digits,
 * '_', '-', '.', '[', ']' before the first '='). */
bool ss_is_kv(const char *arg);

/* Merge src into dst recursively (src wins on scalar conflicts). */
int ss_params_merge(json_t *dst, const json_t *src);

/* ------------------------------------------------------------------ rpc.c */

struct ss_rpc {
	int fd;
	double timeout_s;
	long next_id;
	char *buf;           /* bytes received past the last reply line */
	size_t len, cap;
	char path[108];
};

/* An error answered by the daemon. */
struct ss_rpc_error {
	long code;
	char message[512];
	json_t *data;        /* new reference or NULL */
};

/* Connect to the daemon. 0, or -errno with a message that names the path and
 * a hint (daemon not running, permissions). */
int ss_rpc_connect(struct ss_rpc *c, const char *path, double timeout_s,
		   char *err, size_t errlen);

/* Send one request and wait (at most timeout_s) for its reply.
 * Returns 0 with *result (new reference), 1 with *rerr filled (API error),
 * or -errno on a connection/protocol failure with err. `params` is borrowed
 * and may be NULL. */
int ss_rpc_call(struct ss_rpc *c, const char *method, const json_t *params,
		json_t **result, struct ss_rpc_error *rerr, char *err, size_t errlen);

void ss_rpc_close(struct ss_rpc *c);

/* ------------------------------------------------------------------ render.c */

struct ss_table;
struct ss_table *ss_table_new(int ncols, const char *const *titles);
/* Adds a row; cells are copied. right[] may be NULL. */
int ss_table_add(struct ss_table *t, const char *const *cells);
void ss_table_print(struct ss_table *t, FILE *out);
void ss_table_free(struct ss_table *t);

/* Human rendering of a scalar or compact rendering of a container. */
char *ss_format_value(const json_t *v);
/* A count with thousands grouping ("12,345,678"). */
void ss_format_count(char *buf, size_t len, json_int_t v);
/* A rate with an SI suffix ("1.25M"). */
void ss_format_rate(char *buf, size_t len, double v);

/* Print {NAME: {counters}} as a table, NAME in the first column. */
void ss_render_keyed(const json_t *obj, const char *first_title, FILE *out);

/* The rows (an array of objects) in the order people expect: by the given
 * columns in turn, numbers by value, IP addresses and prefixes by address
 * (10.0.0.2 before 10.0.0.10), other text as text. New reference. */
json_t *ss_rows_sorted(const json_t *rows, const char *const *cols);

/* Print the result of `method` for people. */
void ss_render_result(const char *method, const json_t *result, FILE *out);

/* Print an array of objects as a table, columns discovered from the rows
 * (preferred order first). */
void ss_render_rows(const json_t *rows, const char *const *preferred, FILE *out);

/* ------------------------------------------------------------------ stats.c */

struct ss_stats_opts {
	const char *scope;   /* NULL: all */
	bool all;            /* show zero drop reasons too */
	bool watch;
	double interval_s;
	long count;          /* watch refreshes before exiting, 0: until Ctrl-C */
};

void ss_render_stats(const json_t *stats, bool all, FILE *out);
/* Returns an SS_EXIT_* status. */
int ss_stats_watch(struct ss_rpc *c, const struct ss_stats_opts *o);

/* ------------------------------------------------------------------ help.c */

void ss_help_main(FILE *out);
/* Help of one object (by any of its spellings); false if unknown. */
bool ss_help_object(const char *object, FILE *out);
/* Help of an object built from the daemon's schema (ss_methods_from_schema)
 * when no manual page exists for it; false if the schema has no such type. */
bool ss_help_schema_object(const char *object, FILE *out);
void ss_usage_hint(FILE *out);
/* Whether the manual describes the object (any spelling). */
bool ss_help_knows(const char *object);

/* ------------------------------------------------------------------ txn_cmd.c */

/* txn.check's result for people: `txn --dry-run` (counts per type) and
 * `state diff` (every change, with the fields that differ). */
void ss_render_txn_check(const json_t *result, FILE *out);
void ss_render_state_diff(const json_t *result, FILE *out);

/* ------------------------------------------------------------------ show.c */

/* `show` / `show eni NAME` over an open connection; an SS_EXIT_* status. */
int ss_show(struct ss_rpc *c, const char *const *words, int nwords, FILE *out);

/* ------------------------------------------------------------------ schema_cmd.c */

/* `sswitchctl schema [OBJECT...]` from the daemon's schema (loaded by the
 * caller): the object types the manual does not describe, one
 * "OBJECT VERB..." line each; with OBJECT, its field names one a line
 * (nested ones dotted: match.dst_prefix). For bash completion. Returns an
 * SS_EXIT_* status. */
int ss_schema_print(const char *const *words, int nwords, FILE *out);

/* ------------------------------------------------------------------ trace.c */

/* `sswitchctl trace packet|start|get|stop` with key=value params (kv).
 * Returns an SS_EXIT_* status. */
int ss_cmd_trace(const char *const *words, int nwords, const json_t *kv, bool json,
		 const char *sock, double timeout_s);
/* `sswitchctl trace --help`. */
void ss_help_trace(FILE *out);

#endif /* SSWITCHCTL_H */
