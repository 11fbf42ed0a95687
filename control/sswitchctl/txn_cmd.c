/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The human output of txn.check (docs/api.md): `sswitchctl txn --dry-run
 * -f FILE` (would it commit, and how many objects of each type it would
 * add, change and delete) and `sswitchctl state diff FILE` (each change
 * against the running state: + added, - deleted, ~ changed with the fields
 * that differ). Nothing is applied either way.
 */
#include <stdlib.h>
#include <string.h>

#include "sswitchctl.h"

void ss_render_txn_check(const json_t *r, FILE *out)
{
	static const char *const titles[] = { "TYPE", "ADD", "SET", "DELETE" };
	const json_t *counts = json_object_get(r, "counts");
	struct ss_table *t;
	const char *type;
	json_t *c;

	fprintf(out, "valid: the txn would commit (nothing applied; state generation %"
		JSON_INTEGER_FORMAT ")\n", json_integer_value(json_object_get(r, "generation")));
	if (json_object_size(counts) == 0) {
		fputs("no changes: every op matches the running state\n", out);
		return;
	}
	t = ss_table_new(4, titles);
	if (t == NULL)
		return;
	json_object_foreach((json_t *)counts, type, c) {
		char b[3][32];
		const char *cells[4] = { type, b[0], b[1], b[2] };

		ss_format_count(b[0], sizeof(b[0]), json_integer_value(json_object_get(c, "add")));
		ss_format_count(b[1], sizeof(b[1]), json_integer_value(json_object_get(c, "set")));
		ss_format_count(b[2], sizeof(b[2]),
				json_integer_value(json_object_get(c, "delete")));
		ss_table_add(t, cells);
	}
	ss_table_print(t, out);
	ss_table_free(t);
}

/* "name=x vni=7" of an object, compact values. */
static void print_fields(const json_t *obj, FILE *out)
{
	const char *k;
	json_t *v;
	bool first = true;

	json_object_foreach((json_t *)obj, k, v) {
		char *s = ss_format_value(v);

		fprintf(out, "%s%s=%s", first ? "" : " ", k, s != NULL ? s : "");
		free(s);
		first = false;
	}
}

/* The fields that differ between old and new, "field: old -> new". */
static void print_delta(const json_t *old, const json_t *obj, FILE *out)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		const json_t *o = json_object_get(old, k);

		if (o != NULL && json_equal((json_t *)o, v))
			continue;
		char *a = o != NULL ? ss_format_value(o) : NULL, *b = ss_format_value(v);
		fprintf(out, "    %s: %s -> %s\n", k, a != NULL ? a : "(unset)", b != NULL ? b : "");
		free(a);
		free(b);
	}
	json_object_foreach((json_t *)old, k, v) {
		if (json_object_get(obj, k) != NULL)
			continue;
		char *a = ss_format_value(v);
		fprintf(out, "    %s: %s -> (unset)\n", k, a != NULL ? a : "");
		free(a);
	}
}

void ss_render_state_diff(const json_t *r, FILE *out)
{
	const json_t *changes = json_object_get(r, "changes"), *c;
	size_t i, n[3] = { 0 };

	json_array_foreach(changes, i, c) {
		const char *op = json_string_value(json_object_get(c, "op"));
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *key = json_string_value(json_object_get(c, "key"));

		if (op == NULL || type == NULL || key == NULL)
			continue;
		if (strcmp(op, "add") == 0) {
			fprintf(out, "+ %s %s: ", type, key);
			print_fields(json_object_get(c, "object"), out);
			fputc('\n', out);
			n[0]++;
		} else if (strcmp(op, "delete") == 0) {
			fprintf(out, "- %s %s\n", type, key);
			n[2]++;
		} else {
			fprintf(out, "~ %s %s\n", type, key);
			print_delta(json_object_get(c, "old"), json_object_get(c, "object"), out);
			n[1]++;
		}
	}
	if (json_array_size(changes) == 0)
		fputs("no changes: the file matches the running state\n", out);
	else
		fprintf(out, "%zu to add, %zu to change, %zu to delete (nothing applied)\n", n[0],
			n[1], n[2]);
}
