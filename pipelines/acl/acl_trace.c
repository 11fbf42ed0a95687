/* SPDX-License-Identifier: BSD-3-Clause
 *
 * One packet's ACL evaluation, stage by stage (acl_trace.h). The same
 * rules as classify_chunk() in acl_group.c, for one key, with the rule that
 * decided each stage kept; no hit is counted.
 */
#include <rte_acl.h>

#include "pipelines/acl/acl_trace.h"

json_t *ss_acl_explain(const struct ss_acl_state *st, uint32_t eni, unsigned int dir,
		       const struct ss_acl_key *key)
{
	unsigned int slot = ss_acl_slot(dir, key->v6);
	const struct ss_acl_binding *b = st != NULL && eni < st->nb_bind ? &st->bind[eni] : NULL;
	json_t *stages = json_array();
	const uint8_t *data = (const uint8_t *)key;
	int remembered = -1;   /* allow of the last non-terminating verdict */

	if (b == NULL || b->nstages[slot] == 0)
		return json_pack("{s:o,s:s,s:s}", "stages", stages, "verdict", "allow", "reason",
				 "no stage bound for this direction and family");
	for (unsigned int s = 0; s < b->nstages[slot]; s++) {
		const struct ss_acl_group *g = b->stage[slot][s];
		uint32_t res = 0;

		if (g->ctx != NULL)
			rte_acl_classify(g->ctx, &data, &res, 1, 1);
		if (res == 0) {
			json_array_append_new(stages, json_pack("{s:i,s:s,s:n,s:s,s:b}", "stage",
				s + 1, "group", g->name, "rule", "action", "deny", "terminating", 1));
			return json_pack("{s:o,s:s,s:s}", "stages", stages, "verdict", "deny",
					 "reason", "a bound stage where no rule matches denies");
		}
		const struct ss_acl_action *a = &g->action[res - 1];
		json_array_append_new(stages, json_pack("{s:i,s:s,s:i,s:s,s:b}", "stage", s + 1,
			"group", g->name, "rule", a->priority, "action",
			a->allow ? "allow" : "deny", "terminating", a->terminating));
		if (a->terminating)
			return json_pack("{s:o,s:s,s:s}", "stages", stages, "verdict",
					 a->allow ? "allow" : "deny", "reason", "terminating rule");
		remembered = a->allow;
	}
	return json_pack("{s:o,s:s,s:s}", "stages", stages, "verdict",
			 remembered == 1 ? "allow" : "deny", "reason",
			 "no terminating verdict: the last remembered one stands");
}
