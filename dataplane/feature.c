/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "dataplane/feature.h"

static struct ss_feature *head;

/* Constructors run in link order; keep the list sorted by `order`. */
void ss_feature_register(struct ss_feature *f)
{
	struct ss_feature **pp = &head;

	while (*pp && (*pp)->order <= f->order)
		pp = &(*pp)->next;
	f->next = *pp;
	*pp = f;
}

int ss_features_init(struct ss_ctl *ctl, const struct ss_config *cfg, char *err, size_t errlen)
{
	char msg[768];

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
