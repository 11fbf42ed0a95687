/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The `ipfix` settings object (ipfix_types.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "control/ctl.h"
#include "control/err.h"
#include "pipelines/ipfix/ipfix_types.h"

#define DEF_DOMAIN 1
#define DEF_ACTIVE_S 60
#define DEF_REFRESH_S 600

int ss_ipfix_parse_collector(const char *s, struct sockaddr_storage *sa, unsigned int *salen)
{
	const char *colon = strrchr(s, ':');
	char host[64], *end;
	long port;
	size_t hl;

	if (colon == NULL || colon == s)
		return -EINVAL;
	hl = (size_t)(colon - s);
	port = strtol(colon + 1, &end, 10);
	if (hl >= sizeof(host) || *end != '\0' || colon[1] == '\0' || port < 1 || port > 65535)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)sa)->sin_addr) == 1) {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*salen = sizeof(*a);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)sa)->sin6_addr) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*salen = sizeof(*a);
		return 0;
	}
	return -EINVAL;
}

static const struct ss_field ipfix_fields[] = {
	{ .name = "collector", .kind = SS_F_NAME, .flags = SS_FF_NULL,
	  SS_REC(struct ss_ipfix_rec, collector) },
	{ .name = "observation_domain", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 0,
	  .max = 4294967295LL, .dflt_i = DEF_DOMAIN,
	  SS_REC(struct ss_ipfix_rec, observation_domain) },
	{ .name = "active_timeout_s", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 1,
	  .max = 86400, .dflt_i = DEF_ACTIVE_S, SS_REC(struct ss_ipfix_rec, active_timeout_s) },
	{ .name = "template_refresh_s", .kind = SS_F_UINT, .flags = SS_FF_DFLT, .min = 1,
	  .max = 86400, .dflt_i = DEF_REFRESH_S,
	  SS_REC(struct ss_ipfix_rec, template_refresh_s) },
};

static int ipfix_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	const char *c = json_string_value(json_object_get(obj, "collector"));
	struct sockaddr_storage sa;
	unsigned int len;

	(void)ctl;
	if (c != NULL && ss_ipfix_parse_collector(c, &sa, &len) != 0)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "collector",
				  "ipfix collector \"%s\" is not ADDRESS:PORT (a numeric IPv4 or "
				  "IPv6 address, e.g. 127.0.0.1:4739)", c);
	return 0;
}

static uint32_t or_default(uint32_t v, uint32_t dflt)
{
	return v ? v : dflt;
}

/* the `ipfix` section of the config */
static json_t *ipfix_defaults(const struct ss_ctl_conf *conf)
{
	json_t *o = json_pack("{sIsIsI}", "observation_domain",
			      (json_int_t)conf->ipfix_observation_domain, "active_timeout_s",
			      (json_int_t)or_default(conf->ipfix_active_timeout_s, DEF_ACTIVE_S),
			      "template_refresh_s",
			      (json_int_t)or_default(conf->ipfix_template_refresh_s, DEF_REFRESH_S));

	if (o != NULL && conf->ipfix_collector != NULL &&
	    json_object_set_new(o, "collector", json_string(conf->ipfix_collector)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct ss_type ss_type_ipfix = {
	.name = "ipfix", .list_key = "ipfix",
	.schema = SS_SCHEMA_REC(ipfix_fields, struct ss_ipfix_rec),
	.singleton = true, .methods = SS_TM_SET, .defaults = ipfix_defaults,
	.check = ipfix_check,
};

SS_TYPES_INIT(ss_ipfix_types_init)
{
	ss_type_register(&ss_type_ipfix);
}
