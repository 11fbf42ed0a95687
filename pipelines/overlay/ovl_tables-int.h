/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internals shared by the table files (ovl_tables.c, ovl_tbl_*.c): how a
 * change of the object store is read and staged. Control thread only.
 *
 * Every handler stages one change: it may fail (-errno, with a message that
 * names the object in err), and then the whole prepare is aborted.
 */
#ifndef SS_OVL_TABLES_INT_H
#define SS_OVL_TABLES_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/ctl.h"
#include "pipelines/overlay/ovl_types.h"
#include "pipelines/overlay/ovl_tables.h"

/* err: "what: reason"; returns rc (a negative errno). */
int ovl_err(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The record of a change: the new value for add/set, the old for delete
 * (control/types.h "Typed hand-over"). */
static inline const void *ovl_chg_rec(const struct ss_change *c)
{
	return c->op == SS_CHANGE_DELETE ? (c->old_rec ? c->old_rec : c->rec) : c->rec;
}

/* Is field f (its index in the type's schema) present in a record with a
 * `present` bit set? */
#define OVL_HAS(rec, f) (((rec)->present >> (f)) & 1)

/* Record fields in the tables' encoding: family 4 or 6, 16 address bytes.
 * 1 when set, 0 when absent (family 0). */
int ovl_rec_ip(const struct ss_rec_ip *ip, uint8_t *fam, uint8_t addr[16]);
int ovl_rec_prefix(const struct ss_rec_prefix *p, uint8_t *fam, uint8_t addr[16],
		   uint8_t *plen);
/* Canonical text of an address / prefix for messages ("?" if absent). */
const char *ovl_fmt_ip(const struct ss_rec_ip *ip, char *buf, size_t len);
const char *ovl_fmt_prefix(const struct ss_rec_prefix *p, char *buf, size_t len);
#define OVL_ADDR_STRLEN 64
/* A configured port by name, SS_PORT_NONE if none. */
uint16_t ovl_port_by_name(const char *name);

/* Name -> index maps with a staging area. 0 = none. */
uint32_t ovl_name_get(const struct ovl_kmap *committed, const struct ovl_kmap *stage,
		      const char *name);
int ovl_name_set(struct ovl_kmap *stage, const char *name, uint32_t index);
int ovl_name_del(struct ovl_kmap *stage, const char *name);

/* Route group by name, referenced (+1) or released (-1) by a route or an
 * ENI; a group exists while it has references. *index: the group's. */
int ovl_group_ref(const char *name, uint16_t *index, char *err, size_t errlen);
int ovl_group_unref(uint16_t index, char *err, size_t errlen);
uint32_t ovl_group_refs(uint16_t index);

/* Handlers, one per type (ovl_tbl_*.c). */
int ovl_stage_switch(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_vip(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_direction(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_vnet(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_underlay_route(const struct ss_change *c, char *err, size_t errlen);
/* A resilient underlay route's member set from its sessions' states
 * (ovl_ecmp.c): sets bfd[].up, n_up and the buckets; 1 if it changed. */
int ovl_uroute_members(struct ss_ovl_uroute *u);
int ovl_stage_eni(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_route(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_mapping(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_pa_validation(const struct ss_change *c, char *err, size_t errlen);
int ovl_stage_inbound_route(const struct ss_change *c, char *err, size_t errlen);

/* Commit / abort of what the ENI handler staged (ovl_tbl_eni.c). */
int ovl_eni_finalize(void);
void ovl_eni_commit_publish(void);
void ovl_eni_commit_retire(void);
void ovl_eni_abort(void);
void ovl_inb_commit(void);

#endif
