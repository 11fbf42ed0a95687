/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Decoding objects into the records their types declare (types.h "Typed
 * hand-over"), into an arena freed as a whole when the changes (or the
 * store read) that use them are over. Control thread only.
 */
#ifndef SS_CTL_RECORDS_H
#define SS_CTL_RECORDS_H

#include <stddef.h>
#include <jansson.h>

#include "control/types.h"

struct ss_arena_chunk;
struct ss_arena {
	struct ss_arena_chunk *head;
};

void ss_arena_init(struct ss_arena *a);
/* Zeroed memory, 16-byte aligned; NULL on ENOMEM. */
void *ss_arena_alloc(struct ss_arena *a, size_t size);
/* Forget every allocation, keep one chunk for the next ones. */
void ss_arena_reset(struct ss_arena *a);
void ss_arena_free(struct ss_arena *a);

/* The record of obj (a normalised object of type t, or NULL: returns NULL
 * with *rc 0), in a. NULL with *rc -ENOMEM or -EINVAL (a record smaller
 * than the schema allows: a declaration bug). */
const void *ss_rec_decode(const struct ss_type *t, const json_t *obj, struct ss_arena *a,
			  int *rc);

/* The record of a stored object from its stored text (ss_node_text(): the
 * array of its field values in schema order) without building a jansson
 * value. Handles objects whose present values are strings without escapes,
 * unsigned integers and booleans of the scalar kinds; otherwise returns
 * NULL with *rc 0 and the caller decodes ss_node_value() with
 * ss_rec_decode(). NULL with *rc -ENOMEM, or -EINVAL for a value that does
 * not parse (the store holds only validated values). */
const void *ss_rec_decode_text(const struct ss_type *t, const char *text, size_t len,
			       struct ss_arena *a, int *rc);

/* The record of an object given as JSON, validated and normalised as an
 * add would (defaults filled in, canonical values; references and semantic
 * checks are not run: no store). For tests of tables that consume records
 * without a control plane. Seals the type registry if needed. NULL with
 * err (the add's data.field error, or -32603 on ENOMEM). obj is modified
 * (normalised in place). */
struct ss_err;
const void *ss_rec_from_json(const struct ss_type *t, json_t *obj, struct ss_arena *a,
			     struct ss_err *err);

#endif /* SS_CTL_RECORDS_H */
