/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The IPFIX exporter's settings (SPEC 5): the `ipfix` singleton, set with
 * ipfix.set, read with ipfix.get (decorated with the exporter's counters),
 * initialised from the config file's `ipfix` section. Declared in
 * ipfix_types.c.
 */
#ifndef SS_IPFIX_TYPES_H
#define SS_IPFIX_TYPES_H

#include <stdint.h>

#include "control/types.h"

extern struct ss_type ss_type_ipfix;

struct ss_ipfix_rec {
	char collector[SS_REC_NAME];   /* "HOST:PORT", "": no export */
	uint32_t observation_domain;
	uint32_t active_timeout_s;
	uint32_t template_refresh_s;
};

/* "ADDR:PORT" (numeric IPv4 or IPv6 address; the port after the last
 * colon) into a socket address. 0 or -EINVAL. */
struct sockaddr_storage;
int ss_ipfix_parse_collector(const char *s, struct sockaddr_storage *sa, unsigned int *salen);

#endif /* SS_IPFIX_TYPES_H */
