/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "dataplane/feature.h"

/* registration order until ss_features_init, dependency order after */
static struct ss_feature *head;

void ss_feature_register(struct ss_feature *f)
{
	struct ss_feature **pp = &head;

	while (*pp)
		pp = &(*pp)->next;
	f->next = NULL;
	*pp = f;
}

static int index_of(struct ss_feature *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->name, name) == 0)
			return (int)i;
	return -1;
}

/* v[j] must run before v[i] */
static bool needs(struct ss_feature *const *v, size_t n, size_t i, size_t j)
{
	const char *const *d = v[i]->depends_on;

	for (; d && *d; d++)
		if (index_of(v, n, *d) == (int)j)
			return true;
	return false;
}

static void cycle_msg(struct ss_feature *const *v, size_t n, const bool *done, char *err,
		      size_t errlen)
{
	size_t len = 0;
	int first = -1;

	for (size_t i = 0; i < n; i++)
		if (!done[i] && first < 0)
			first = (int)i;
	len += (size_t)snprintf(err, errlen, "feature %s: depends_on forms a cycle among",
				v[first]->name);
	for (size_t i = 0; i < n && len < errlen; i++)
		if (!done[i])
			len += (size_t)snprintf(err + len, errlen - len, " %s", v[i]->name);
}

int ss_features_sort(struct ss_feature **v, size_t n, char *err, size_t errlen)
{
	struct ss_feature **out;
	bool *done;
	int rc = -1;

	for (size_t i = 0; i < n; i++) {
		if (index_of(v, i, v[i]->name) >= 0) {
			snprintf(err, errlen, "feature %s: registered twice", v[i]->name);
			return -1;
		}
		for (const char *const *d = v[i]->depends_on; d && *d; d++)
			if (index_of(v, n, *d) < 0) {
				snprintf(err, errlen, "feature %s: depends on %s, which is not built in",
					 v[i]->name, *d);
				return -1;
			}
	}
	out = calloc(n ? n : 1, sizeof(*out));
	done = calloc(n ? n : 1, sizeof(*done));
	if (out == NULL || done == NULL) {
		snprintf(err, errlen, "feature %s: out of memory", n ? v[0]->name : "(none)");
		goto end;
	}
	for (size_t k = 0; k < n; k++) {
		size_t pick = n;

		for (size_t i = 0; i < n && pick == n; i++) {
			bool ready = !done[i];
			for (size_t j = 0; j < n && ready; j++)
				if (!done[j] && j != i && needs(v, n, i, j))
					ready = false;
			if (ready && needs(v, n, i, i))
				ready = false;  /* depends on itself */
			if (ready)
				pick = i;
		}
		if (pick == n) {
			cycle_msg(v, n, done, err, errlen);
			goto end;
		}
		done[pick] = true;
		out[k] = v[pick];
	}
	if (n > 0)
		memcpy(v, out, n * sizeof(*v));
	rc = 0;
end:
	free(out);
	free(done);
	return rc;
}

/* Relink the registry in dependency order. */
static int order_registry(char *err, size_t errlen)
{
	struct ss_feature **v;
	size_t n = 0, i = 0;
	char line[512];
	size_t len = 0;

	for (struct ss_feature *f = head; f; f = f->next)
		n++;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL) {
		snprintf(err, errlen, "feature %s: out of memory", head->name);
		return -1;
	}
	for (struct ss_feature *f = head; f; f = f->next)
		v[i++] = f;
	if (ss_features_sort(v, n, err, errlen) != 0) {
		free(v);
		return -1;
	}
	line[0] = '\0';
	for (i = 0; i < n; i++) {
		v[i]->next = i + 1 < n ? v[i + 1] : NULL;
		if (len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? ", " : "",
						v[i]->name);
	}
	head = v[0];
	free(v);
	RTE_LOG(INFO, USER1, "features, in init order: %s\n", line);
	return 0;
}

int ss_features_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	char msg[768];

	if (order_registry(err, errlen) != 0)
		return -1;
	for (struct ss_feature *f = head; f; f = f->next) {
		if (f->init == NULL)
			continue;
		msg[0] = '\0';
		if (f->init(ctl, cfg, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "feature %s: %s", f->name, msg[0] ? msg : "init failed");
			return -1;
		}
	}
	return 0;
}

void ss_features_fini(void)
{
	for (struct ss_feature *f = head; f; f = f->next)
		if (f->fini)
			f->fini();
}

void ss_features_poll(void)
{
	for (struct ss_feature *f = head; f; f = f->next)
		if (f->poll)
			f->poll();
}

int ss_features_poll_timeout_ms(int max_ms)
{
	int ms = max_ms;

	for (struct ss_feature *f = head; f; f = f->next) {
		uint64_t us;

		if (!f->poll || !f->poll_in_us)
			continue;
		us = f->poll_in_us();
		/* rounded up: waking before the deadline would only spin */
		if (us < (uint64_t)ms * 1000)
			ms = (int)((us + 999) / 1000);
	}
	return ms;
}
