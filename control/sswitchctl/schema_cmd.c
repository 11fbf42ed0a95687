/* SPDX-License-Identifier: BSD-3-Clause
 *
 * `sswitchctl schema [OBJECT...]`: what the running daemon's schema.get
 * announces, in the shape bash completion reads (dist/bash-completion):
 * object types a feature added that the manual does not describe, with
 * their verbs, and the field names of one object type (dotted for nested
 * objects), so completion follows the daemon rather than this binary.
 */
#include <string.h>

#include "sswitchctl.h"

/* "rdma.policy" -> "rdma-policy": one word the method resolver accepts. */
static void object_word(const char *type, char *out, size_t len)
{
	size_t i;

	for (i = 0; type[i] != '\0' && i + 1 < len; i++)
		out[i] = type[i] == '.' ? '-' : type[i];
	out[i] = '\0';
}

static void print_fields(const json_t *fields, const char *prefix, FILE *out)
{
	size_t i;
	const json_t *f;

	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *kind = json_string_value(json_object_get(f, "kind"));
		char path[256];

		if (name == NULL)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		if (kind != NULL && strcmp(kind, "object") == 0 &&
		    json_array_size(json_object_get(f, "fields")) > 0)
			print_fields(json_object_get(f, "fields"), path, out);
		else
			fprintf(out, "%s\n", path);
	}
}

/* The type an object spelling names: words joined by '.', '_' or '-'. */
static const json_t *find_type(const char *const *words, int nwords)
{
	const json_t *types = ss_schema_types();
	char want[256] = "";
	size_t i;

	for (int w = 0; w < nwords; w++) {
		size_t n = strlen(want);
		snprintf(want + n, sizeof(want) - n, "%s%s", w ? "_" : "", words[w]);
	}
	for (char *p = want; *p; p++)
		if (*p == '-' || *p == '.')
			*p = '_';
	for (i = 0; i < json_array_size(types); i++) {
		const json_t *t = json_array_get(types, i);
		const char *name = json_string_value(json_object_get(t, "name"));
		char norm[256];

		if (name == NULL)
			continue;
		snprintf(norm, sizeof(norm), "%s", name);
		for (char *p = norm; *p; p++)
			if (*p == '-' || *p == '.')
				*p = '_';
		if (strcmp(norm, want) == 0)
			return t;
	}
	return NULL;
}

int ss_schema_print(const char *const *words, int nwords, FILE *out)
{
	const json_t *types = ss_schema_types(), *t;
	size_t i, j;

	if (types == NULL) {
		fprintf(stderr, "sswitchctl: schema: the daemon's schema.get is not available\n");
		return SS_EXIT_CONN;
	}
	if (nwords > 0) {
		/* the fields of one type; a verb after the object is ignored */
		t = find_type(words, nwords);
		if (t == NULL && nwords > 1)
			t = find_type(words, nwords - 1);
		if (t == NULL) {
			fprintf(stderr, "sswitchctl: schema: the daemon has no object type '%s'\n",
				words[0]);
			return SS_EXIT_USAGE;
		}
		print_fields(json_object_get(t, "fields"), "", out);
		return SS_EXIT_OK;
	}
	json_array_foreach(types, i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		const json_t *verbs = json_object_get(t, "methods");
		char word[128];

		/* described by the manual, or a settings type the manual names
		 * by its method (flow.config) */
		if (name == NULL || ss_help_knows(name) || ss_method_known(name))
			continue;
		object_word(name, word, sizeof(word));
		fputs(word, out);
		for (j = 0; j < json_array_size(verbs); j++) {
			const char *v = json_string_value(json_array_get(verbs, j));
			if (v != NULL && strcmp(v, "config") != 0)
				fprintf(out, " %s", v);
		}
		fputc('\n', out);
	}
	return SS_EXIT_OK;
}
