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

#include <jansson.h>

#include "control/ctl.h"
#include "pipelines/overlay/ovl_tables.h"

/* err: "what: reason"; returns rc (a negative errno). */
int ovl_err(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The object of a change: the new value for add/set, the old for delete. */
static inline const json_t *ovl_chg_obj(const struct ss_change *c)
{
	return c->op == SS_CHANGE_DELETE ? (c->old ? c->old : c->obj) : c->obj;
}

/* Field readers. *_opt: 0 absent, 1 present, <0 malformed. */
const char *ovl_json_str(const json_t *o, const char *field);
int ovl_json_ip(const json_t *o, const char *field, uint8_t *fam, uint8_t addr[16]);
int ovl_json_prefix(const json_t *o, const char *field, uint8_t *fam, uint8_t addr[16],
		    uint8_t *plen);
int ovl_json_mac(const json_t *o, const char *field, struct rte_ether_addr *mac);
int ovl_json_uint(const json_t *o, const char *field, uint32_t *v);
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
