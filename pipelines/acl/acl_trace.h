/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The ACL evaluation of one packet, explained (packet trace: docs/trace.md).
 */
#ifndef SS_ACL_TRACE_H
#define SS_ACL_TRACE_H

#include <jansson.h>

#include "pipelines/acl/acl-t.h"

/* SPEC 3.5 stage semantics for one classifier key of ENI `eni` in
 * direction `dir` (enum ss_acl_dir), as ss_acl_classify_burst decides it,
 * without counting hits: {stages: [{stage, group, rule (priority, or null
 * when no rule matched), action, terminating}], verdict: "allow"|"deny",
 * reason}. Reads the published state; control thread. */
json_t *ss_acl_explain(const struct ss_acl_state *st, uint32_t eni, unsigned int dir,
		       const struct ss_acl_key *key);

#endif
