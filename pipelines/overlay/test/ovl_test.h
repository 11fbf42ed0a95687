/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Shared helpers of the overlay table unit tests: an EAL without hugepages,
 * a fake port table, and transactions built from JSON text, decoded into
 * the types' records by the control core's decoder (control/records.h) and
 * driven through the same prepare/commit/reclaim calls the control plane
 * makes.
 */
#ifndef SS_OVL_TEST_H
#define SS_OVL_TEST_H

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ether.h>

#include "control/records.h"
#include "dataplane/port-t.h"
#include "pipelines/overlay/ovl_tables-int.h"

struct ss_port_table ss_ports;

static inline int ovl_test_eal(void)
{
	char prefix[64], err[256];
	char *argv[] = { "test", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
			 "--log-level", "*:error", "--file-prefix", prefix, NULL };

	snprintf(prefix, sizeof(prefix), "ovlut%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	if (ss_types_seal(err, sizeof(err)) != 0) {
		fprintf(stderr, "object types: %s\n", err);
		return -1;
	}
	/* ports the objects refer to: host0 host1 fabric0 fabric1 */
	static const char *names[] = { "host0", "host1", "fabric0", "fabric1" };
	for (uint16_t i = 0; i < RTE_DIM(names); i++) {
		snprintf(ss_ports.ports[i].name, sizeof(ss_ports.ports[i].name), "%s", names[i]);
		ss_ports.ports[i].index = i;
		ss_ports.ports[i].role = i < 2 ? SS_ROLE_HOST : SS_ROLE_FABRIC;
	}
	ss_ports.nb_ports = RTE_DIM(names);
	return 0;
}

#define TXN_MAX 4096

struct txn {
	struct ss_change ch[TXN_MAX];
	size_t n;
	char err[256];
	struct ss_arena recs;    /* the changes' records */
};

static inline void txn_op(struct txn *t, const char *type, enum ss_change_op op,
			  const char *fmt, ...)
{
	char buf[1024];
	const struct ss_type *ty = ss_type_find(type);
	const void *rec;
	va_list ap;
	json_error_t je;
	json_t *o;
	int rc;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o = json_loads(buf, 0, &je);
	if (o == NULL)
		fail_msg("bad test JSON %s: %s", buf, je.text);
	if (ty == NULL)
		fail_msg("unknown test type %s", type);
	rec = ss_rec_decode(ty, o, &t->recs, &rc);
	json_decref(o);
	if (rec == NULL)
		fail_msg("test %s %s does not decode: %d", type, buf, rc);
	assert_true(t->n < TXN_MAX);
	/* the tables read only ty, op, rec and old_rec */
	t->ch[t->n] = (struct ss_change){ .op = op, .ty = ty,
					  .rec = op == SS_CHANGE_DELETE ? NULL : rec,
					  .old_rec = op == SS_CHANGE_DELETE ? rec : NULL };
	t->n++;
}

#define ADD(t, type, ...) txn_op(t, type, SS_CHANGE_ADD, __VA_ARGS__)
#define SET(t, type, ...) txn_op(t, type, SS_CHANGE_SET, __VA_ARGS__)
#define DEL(t, type, ...) txn_op(t, type, SS_CHANGE_DELETE, __VA_ARGS__)

static inline void txn_reset(struct txn *t)
{
	t->n = 0;
	t->err[0] = '\0';
	ss_arena_free(&t->recs);
}

/* prepare; on success commit + reclaim (no workers: the grace period is
 * immediate). Returns prepare's result; the txn is emptied. */
static inline int txn_run(struct txn *t)
{
	int rc = ss_ovl_prepare(NULL, NULL, t->ch, t->n, t->err, sizeof(t->err));

	if (rc == 0) {
		ss_ovl_commit(NULL);
		ss_ovl_reclaim(NULL);
	}
	t->n = 0;
	ss_arena_reset(&t->recs);
	return rc;
}

#define TXN_OK(t)                                                                          \
	do {                                                                               \
		int rc_ = txn_run(t);                                                      \
		if (rc_ != 0)                                                              \
			fail_msg("txn failed %d: %s", rc_, (t)->err);                      \
	} while (0)

static inline void ip(const char *s, uint8_t *fam, uint8_t a[16])
{
	memset(a, 0, 16);
	*fam = 0;
	if (inet_pton(AF_INET, s, a) == 1)
		*fam = 4;
	else if (inet_pton(AF_INET6, s, a) == 1)
		*fam = 6;
	else
		fail_msg("bad test address %s", s);
}

static inline const struct ss_ovl_mapping *map_find(const char *vnet, const char *addr)
{
	int v = ss_ovl_vnet_index(vnet);
	uint8_t fam, a[16];

	ip(addr, &fam, a);
	return v > 0 ? ss_ovl_mapping_find((uint16_t)v, fam, a) : NULL;
}

#endif
