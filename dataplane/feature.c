/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include "dataplane/feature.h"

static struct ss_feature *head, **tail = &head;

void ss_feature_register(struct ss_feature *f)
{
	f->next = NULL;
	*tail = f;
	tail = &f->next;
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
