/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Feature-owned object types (control/types.h): the typed hand-over of
 * changes to the tables (records decoded once, old and new, through the
 * jansson and the raw bulk paths), records read from the store, a type
 * extension added by another "feature" (this file, the way a rate limiter
 * adds rate_limit_pps/bps to eni), and schema.get.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_test_util.h"
#include "control/objects.h"
#include "control/records.h"
#include "control/types.h"
#include "pipelines/acl/acl_types.h"
#include "pipelines/overlay/ovl_types.h"

#define OK(ctl, m, p) json_decref(t_ok(ctl, m, p))

/* ---- an extension, declared as a feature would ---------------------------- */

struct rl_rec {
	uint64_t pps;
	uint64_t bps;
	uint64_t present;
};

static const struct ss_field rl_fields[] = {
	{ .name = "quota_pps", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 0,
	  .max = 100000000000LL, SS_REC(struct rl_rec, pps) },
	{ .name = "quota_bps", .kind = SS_F_UINT, .flags = SS_FF_NULL, .min = 0,
	  .max = 1000000000000LL, SS_REC(struct rl_rec, bps) },
};

/* an extension's own semantic check runs after the type's */
static int
rl_check(struct ss_ctl *ctl, json_t *obj, struct ss_err *err)
{
	const json_t *pps = json_object_get(obj, "quota_pps"), *bps = json_object_get(obj, "quota_bps");

	(void)ctl;
	if (pps != NULL && bps != NULL && json_integer_value(pps) == 0 &&
	    json_integer_value(bps) == 0)
		return ss_err_set(err, SS_RPC_INVALID_PARAMS, "quota_pps",
				  "quota_pps and quota_bps cannot both be 0");
	return 0;
}

static struct ss_type_ext rl_ext = {
	.type = "eni", .owner = "quota", .check = rl_check,
	.schema = SS_SCHEMA_REC_PRES(rl_fields, struct rl_rec, present),
};

SS_TYPES_INIT(test_rl_init)
{
	ss_type_extend(&rl_ext);
}

/* ---- a table that keeps copies of the records it is handed ---------------- */

#define MAXCH 16
struct seen {
	size_t n;
	const struct ss_type *ty[MAXCH];
	enum ss_change_op op[MAXCH];
	unsigned char rec[MAXCH][4096];
	unsigned char old[MAXCH][4096];
	bool has_rec[MAXCH], has_old[MAXCH];
	/* acl_rule lists are ss_rec_vec: copied out while valid */
	struct ss_rec_prefix src[4];
	struct ss_rec_port_range ports[4];
	uint8_t protos[4];
	uint32_t nsrc, nports, nprotos;
};

static int
seen_prepare(void *ctx, struct ss_ctl *ctl, const struct ss_change *ch, size_t n, char *err,
	     size_t errlen)
{
	struct seen *s = ctx;
	size_t i;

	(void)ctl;
	(void)err;
	(void)errlen;
	s->n = 0;
	for (i = 0; i < n && s->n < MAXCH; i++, s->n++) {
		assert_non_null(ch[i].ty);
		assert_true(ch[i].ty->rec_size <= sizeof(s->rec[0]));
		s->ty[s->n] = ch[i].ty;
		s->op[s->n] = ch[i].op;
		s->has_rec[s->n] = ch[i].rec != NULL;
		s->has_old[s->n] = ch[i].old_rec != NULL;
		/* a record after an add or set, a record before a set or delete */
		assert_true((ch[i].rec != NULL) == (ch[i].op != SS_CHANGE_DELETE));
		assert_true((ch[i].old_rec != NULL) == (ch[i].op != SS_CHANGE_ADD));
		if (ch[i].rec)
			memcpy(s->rec[s->n], ch[i].rec, ch[i].ty->rec_size);
		if (ch[i].old_rec)
			memcpy(s->old[s->n], ch[i].old_rec, ch[i].ty->rec_size);
		if (ch[i].ty == &ss_type_acl_rule && ch[i].rec) {
			const struct ss_acl_rule_rec *r = ch[i].rec;

			s->nsrc = r->src.n;
			s->nports = r->dst_ports.n;
			s->nprotos = r->protocols.n;
			memcpy(s->src, r->src.v, (r->src.n < 4 ? r->src.n : 4) * sizeof(s->src[0]));
			memcpy(s->ports, r->dst_ports.v,
			       (r->dst_ports.n < 4 ? r->dst_ports.n : 4) * sizeof(s->ports[0]));
			memcpy(s->protos, r->protocols.v, r->protocols.n < 4 ? r->protocols.n : 4);
		}
	}
	return 0;
}

static void
seen_commit(void *ctx)
{
	(void)ctx;
}

static struct ss_ctl *
ctl_seen(struct seen *s)
{
	struct ss_ctl_conf conf = { .socket_path = "/tmp/unused.sock" };
	struct ss_ctl_table t = { .name = "seen", .prepare = seen_prepare, .commit = seen_commit,
				  .ctx = s };
	struct ss_ctl *ctl = ss_ctl_create(&conf, NULL);
	char err[256];

	assert_non_null(ctl);
	assert_int_equal(ss_ctl_add_port(ctl, "host0", "host"), 0);
	assert_int_equal(ss_ctl_register_table(ctl, &t), 0);
	assert_int_equal(ss_ctl_restore(ctl, err, sizeof(err)), 0);
	return ctl;
}

static void
test_records_vnet_mapping(void **state)
{
	static struct seen s;
	struct ss_ctl *ctl = ctl_seen(&s);
	const struct ss_vnet_rec *v;
	const struct ss_mapping_rec *m;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 0x11 };

	(void)state;
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100,\"gateway_ip\":\"10.0.0.1\"}");
	assert_int_equal(s.n, 1);
	assert_ptr_equal(s.ty[0], &ss_type_vnet);
	v = (const void *)s.rec[0];
	assert_string_equal(v->name, "v1");
	assert_int_equal(v->vni, 100);
	assert_int_equal(v->gateway_ip.family, AF_INET);
	assert_memory_equal(v->gateway_ip.bytes, "\x0a\x00\x00\x01", 4);
	assert_int_equal(v->gateway_ip6.family, 0);
	/* the raw bulk path stores no value: the records come from the node */
	OK(ctl, "mapping.add", "{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"2001:db8::5\","
	   "\"underlay_ip\":\"198.51.100.7\",\"mac\":\"02:00:00:00:00:11\"}]}");
	assert_int_equal(s.n, 1);
	assert_ptr_equal(s.ty[0], &ss_type_mapping);
	m = (const void *)s.rec[0];
	assert_string_equal(m->vnet, "v1");
	assert_int_equal(m->ip.family, AF_INET6);
	assert_int_equal(m->ip.bytes[0], 0x20);
	assert_int_equal(m->ip.bytes[15], 5);
	assert_int_equal(m->underlay_ip.family, AF_INET);
	assert_memory_equal(m->mac, mac, 6);
	assert_false(m->use_dst_vni);                      /* default filled in */
	ss_ctl_destroy(ctl);
}

static void
test_records_eni_set(void **state)
{
	static struct seen s;
	struct ss_ctl *ctl = ctl_seen(&s);
	const struct ss_eni_rec *e, *o;

	(void)state;
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100}");
	OK(ctl, "acl_group.add", "{\"name\":\"g4\",\"family\":\"ipv4\"}");
	OK(ctl, "eni.add", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
	   "\"port\":\"host0\",\"vlan\":10,\"acl\":{\"outbound_v4\":[\"g4\"]}}");
	e = (const void *)s.rec[0];
	assert_int_equal(s.op[0], SS_CHANGE_ADD);
	assert_string_equal(e->port, "host0");
	assert_int_equal(e->vlan, 10);
	assert_int_equal(e->admin_state, SS_ENI_UP);
	assert_int_equal(e->acl.n_outbound_v4, 1);
	assert_string_equal(e->acl.outbound_v4[0], "g4");
	assert_int_equal(e->acl.n_inbound_v4, 0);
	assert_false(ss_rec_has(e, &ss_type_eni.decl, SS_ENI_F_DSCP));
	assert_true(ss_rec_has(e, &ss_type_eni.decl, SS_ENI_F_ACL));
	OK(ctl, "eni.set", "{\"name\":\"e1\",\"dscp\":0,\"admin_state\":\"down\"}");
	assert_int_equal(s.n, 1);
	assert_int_equal(s.op[0], SS_CHANGE_SET);
	assert_true(s.has_rec[0] && s.has_old[0]);
	e = (const void *)s.rec[0];
	o = (const void *)s.old[0];
	assert_true(ss_rec_has(e, &ss_type_eni.decl, SS_ENI_F_DSCP));
	assert_int_equal(e->dscp, 0);
	assert_int_equal(e->admin_state, SS_ENI_DOWN);
	assert_false(ss_rec_has(o, &ss_type_eni.decl, SS_ENI_F_DSCP));
	assert_int_equal(o->admin_state, SS_ENI_UP);
	OK(ctl, "eni.delete", "{\"name\":\"e1\"}");
	assert_int_equal(s.op[0], SS_CHANGE_DELETE);
	assert_false(s.has_rec[0]);
	assert_true(s.has_old[0]);
	ss_ctl_destroy(ctl);
}

static void
test_records_acl_rule_lists(void **state)
{
	static struct seen s;
	struct ss_ctl *ctl = ctl_seen(&s);
	const struct ss_acl_rule_rec *r;

	(void)state;
	OK(ctl, "acl_group.add", "{\"name\":\"g4\",\"family\":\"ipv4\"}");
	OK(ctl, "acl_rule.add", "{\"group\":\"g4\",\"priority\":10,\"action\":\"deny\","
	   "\"src\":[\"10.1.2.3/8\",\"192.0.2.0/24\"],\"protocols\":[6,17],"
	   "\"dst_ports\":[80,\"1000-2000\"]}");
	r = (const void *)s.rec[0];
	assert_ptr_equal(s.ty[0], &ss_type_acl_rule);
	assert_int_equal(r->priority, 10);
	assert_int_equal(r->action, SS_ACL_DENY);
	assert_true(r->terminating);
	assert_int_equal(s.nsrc, 2);
	assert_int_equal(s.src[0].family, AF_INET);
	assert_int_equal(s.src[0].len, 8);
	assert_memory_equal(s.src[0].bytes, "\x0a\x00\x00\x00", 4);   /* host bits cleared */
	assert_int_equal(s.nprotos, 2);
	assert_int_equal(s.protos[1], 17);
	assert_int_equal(s.nports, 2);
	assert_int_equal(s.ports[0].lo, 80);
	assert_int_equal(s.ports[0].hi, 80);
	assert_int_equal(s.ports[1].lo, 1000);
	assert_int_equal(s.ports[1].hi, 2000);
	ss_ctl_destroy(ctl);
}

static int
count_mapping(void *arg, const void *rec)
{
	const struct ss_mapping_rec *m = rec;

	assert_string_equal(m->vnet, "v1");
	(*(int *)arg)++;
	return 0;
}

static void
test_store_records(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	const struct ss_vnet_rec *v;
	int n = 0;

	(void)state;
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":7}");
	OK(ctl, "mapping.add", "{\"entries\":[{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\","
	   "\"underlay_ip\":\"1.1.1.1\",\"mac\":\"02:00:00:00:00:01\"},{\"vnet\":\"v1\","
	   "\"ip\":\"10.0.0.2\",\"underlay_ip\":\"1.1.1.2\",\"mac\":\"02:00:00:00:00:02\"}]}");
	v = ss_ctl_store_rec(ctl, &ss_type_vnet, "v1");
	assert_non_null(v);
	assert_int_equal(v->vni, 7);
	assert_null(ss_ctl_store_rec(ctl, &ss_type_vnet, "v2"));
	assert_int_equal(ss_ctl_store_foreach_rec(ctl, &ss_type_mapping, count_mapping, &n), 0);
	assert_int_equal(n, 2);
	ss_ctl_destroy(ctl);
}

static void
test_extension(void **state)
{
	static struct seen s;
	struct ss_ctl *ctl = ctl_seen(&s);
	const struct rl_rec *rl, *old;
	char *st;
	json_t *r;

	(void)state;
	OK(ctl, "vnet.add", "{\"name\":\"v1\",\"vni\":100}");
	/* validated like a native field, with data.field */
	t_err(ctl, "eni.add", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
	      "\"quota_pps\":-1}", SS_RPC_INVALID_PARAMS, "quota_pps", -1);
	t_err(ctl, "eni.add", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
	      "\"quota_bps\":\"fast\"}", SS_RPC_INVALID_PARAMS, "quota_bps", -1);
	t_err(ctl, "eni.add", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
	      "\"quota_bps\":0,\"quota_pps\":0}", SS_RPC_INVALID_PARAMS, "quota_pps", -1);
	OK(ctl, "eni.add", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
	   "\"quota_pps\":1000}");
	assert_ptr_equal(s.ty[0], &ss_type_eni);
	rl = ss_rec_ext(&rl_ext, s.rec[0]);
	assert_int_equal(rl->pps, 1000);
	assert_true(rl->present & 1);
	assert_false(rl->present & 2);
	/* shown by eni.get and state.get */
	r = t_ok(ctl, "eni.get", "{\"name\":\"e1\"}");
	assert_int_equal(json_integer_value(json_object_get(r, "quota_pps")), 1000);
	assert_null(json_object_get(r, "quota_bps"));
	json_decref(r);
	st = t_state(ctl);
	assert_non_null(strstr(st, "\"quota_pps\":1000"));
	free(st);
	/* settable and clearable by eni.set */
	OK(ctl, "eni.set", "{\"name\":\"e1\",\"quota_bps\":8000000,\"quota_pps\":null}");
	rl = ss_rec_ext(&rl_ext, s.rec[0]);
	old = ss_rec_ext(&rl_ext, s.old[0]);
	assert_int_equal(rl->bps, 8000000);
	assert_false(rl->present & 1);
	assert_int_equal(old->pps, 1000);
	/* the native fields are unchanged by the extension */
	assert_string_equal(((const struct ss_eni_rec *)s.rec[0])->vnet, "v1");
	r = t_ok(ctl, "eni.list", NULL);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r, "enis"), 0), "quota_bps")),
			 8000000);
	json_decref(r);
	ss_ctl_destroy(ctl);
}

static const json_t *
find_named(const json_t *arr, const char *name)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(arr, i), "name")),
			   name) == 0)
			return json_array_get(arr, i);
	return NULL;
}

static void
test_schema_get(void **state)
{
	struct ss_ctl *ctl = t_ctl(NULL, NULL);
	json_t *r = t_ok(ctl, "schema.get", NULL);
	const json_t *types = json_object_get(r, "types"), *t, *f;
	size_t i, j;

	(void)state;
	assert_true(json_array_size(types) >= 15);
	t = find_named(types, "vnet");
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "list_key")), "vnets");
	f = find_named(json_object_get(t, "fields"), "vni");
	assert_string_equal(json_string_value(json_object_get(f, "kind")), "uint");
	assert_int_equal(json_integer_value(json_object_get(f, "max")), 16777215);
	assert_true(json_is_true(json_object_get(f, "required")));
	f = find_named(json_object_get(t, "fields"), "name");
	assert_true(json_is_true(json_object_get(f, "key")));
	t = find_named(types, "eni");
	f = find_named(json_object_get(t, "fields"), "quota_pps");
	assert_non_null(f);
	assert_string_equal(json_string_value(json_object_get(f, "extension")), "quota");
	f = find_named(json_object_get(t, "fields"), "admin_state");
	assert_string_equal(json_string_value(json_object_get(f, "default")), "up");
	assert_int_equal(json_array_size(json_object_get(f, "values")), 2);
	f = find_named(json_object_get(t, "fields"), "acl");
	f = find_named(json_object_get(f, "fields"), "inbound_v6");
	assert_string_equal(json_string_value(json_object_get(f, "ref")), "acl_group");
	assert_int_equal(json_integer_value(json_object_get(f, "max_entries")), 5);
	/* every referenced type comes before its referrers (state.get order) */
	for (i = 0; i < json_array_size(types); i++) {
		const json_t *fs = json_object_get(json_array_get(types, i), "fields");

		for (j = 0; j < json_array_size(fs); j++) {
			const char *ref = json_string_value(json_object_get(json_array_get(fs, j),
									    "ref"));
			size_t k;

			if (ref == NULL)
				continue;
			for (k = 0; k < i; k++)
				if (strcmp(json_string_value(json_object_get(json_array_get(types, k),
									     "name")), ref) == 0)
					break;
			assert_true(k < i);
		}
	}
	t_err(ctl, "schema.get", "{\"x\":1}", SS_RPC_INVALID_PARAMS, "x", -1);
	json_decref(r);
	ss_ctl_destroy(ctl);
}

/* Records without a control plane (tests of the tables). */
static void
test_rec_from_json(void **state)
{
	struct ss_arena a;
	struct ss_err e;
	json_t *o = json_loads("{\"name\":\"e1\",\"mac\":\"02-00-00-00-00-0A\",\"vnet\":\"v1\"}",
			       0, NULL);
	const struct ss_eni_rec *r;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 10 };

	(void)state;
	ss_arena_init(&a);
	ss_err_init(&e);
	r = ss_rec_from_json(&ss_type_eni, o, &a, &e);
	assert_non_null(r);
	assert_memory_equal(r->mac, mac, 6);
	assert_int_equal(r->admin_state, SS_ENI_UP);               /* default */
	assert_true(ss_rec_has(r, &ss_type_eni.decl, SS_ENI_F_ADMIN_STATE));
	assert_string_equal(json_string_value(json_object_get(o, "mac")), "02:00:00:00:00:0a");
	json_decref(o);
	o = json_loads("{\"name\":\"e1\",\"vnet\":\"v1\"}", 0, NULL);
	assert_null(ss_rec_from_json(&ss_type_eni, o, &a, &e));
	assert_int_equal(e.code, SS_RPC_INVALID_PARAMS);
	assert_string_equal(e.field, "mac");
	json_decref(o);
	ss_arena_free(&a);
}

/* Records read from the stored text (the bulk path's nodes, restores) are
 * byte for byte those decoded from the jansson value; types with lists or
 * nested objects are left to the jansson decoder (NULL, rc 0). */
static void
test_rec_decode_text(void **state)
{
	static const struct {
		const char *type, *obj;
		bool text;               /* readable from the text */
	} cases[] = {
		{ "mapping", "{\"vnet\":\"v1\",\"ip\":\"10.0.0.1\",\"underlay_ip\":\"100.64.0.1\","
			     "\"mac\":\"02:00:00:00:00:01\"}", true },
		{ "mapping", "{\"vnet\":\"v1\",\"ip\":\"2001:DB8::0:5\",\"underlay_ip\":\"fd00::1\","
			     "\"mac\":\"02-AA-00-00-00-01\",\"use_dst_vni\":true}", true },
		{ "vnet", "{\"name\":\"v1\",\"vni\":16777215,\"gateway_ip\":\"10.0.0.1\"}", true },
		{ "vnet", "{\"name\":\"v.2\",\"vni\":1}", true },
		{ "route", "{\"group\":\"g\",\"prefix\":\"10.1.2.3/8\",\"action\":\"vnet\","
			   "\"vnet\":\"v1\"}", true },
		{ "pa_validation", "{\"vnet\":\"v1\",\"underlay_ip\":\"100.64.0.9\"}", true },
		{ "acl_group", "{\"name\":\"g4\",\"family\":\"ipv6\"}", true },
		{ "eni", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
			 "\"vlan\":7,\"quota_bps\":5}", true },
		{ "eni", "{\"name\":\"e1\",\"mac\":\"02:00:00:00:00:01\",\"vnet\":\"v1\","
			 "\"acl\":{\"outbound_v4\":[\"g4\"]}}", false },
		{ "acl_rule", "{\"group\":\"g4\",\"priority\":10,\"action\":\"deny\","
			      "\"src\":[\"10.0.0.0/8\"]}", false },
	};
	char msg[128];
	size_t i;

	(void)state;
	assert_int_equal(ss_types_seal(msg, sizeof(msg)), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ss_type *t = ss_type_find(cases[i].type);
		json_t *o = json_loads(cases[i].obj, 0, NULL);
		const void *a_rec, *b_rec;
		struct ss_arena a;
		struct ss_err e;
		struct ss_buf b;
		int rc = 1;

		assert_non_null(t);
		assert_non_null(o);
		ss_arena_init(&a);
		ss_err_init(&e);
		ss_buf_init(&b);
		a_rec = ss_rec_from_json(t, o, &a, &e);
		assert_non_null(a_rec);
		ss_schema_dump_compact(&b, &t->schema, o);
		b_rec = ss_rec_decode_text(t, b.p, b.len, &a, &rc);
		assert_int_equal(rc, 0);
		if (cases[i].text) {
			assert_non_null(b_rec);
			assert_memory_equal(a_rec, b_rec, t->rec_size);
		} else {
			assert_null(b_rec);
		}
		/* a value that the store could not hold is an internal error */
		if (cases[i].text && strcmp(cases[i].type, "mapping") == 0) {
			static const char bad[] = "[\"v1\",\"10.0.0.300\",\"1.1.1.1\",\"02:00:00:00:00:01\"]";

			assert_null(ss_rec_decode_text(t, bad, sizeof(bad) - 1, &a, &rc));
			assert_int_equal(rc, -EINVAL);
		}
		ss_buf_free(&b);
		ss_arena_free(&a);
		json_decref(o);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_vnet_mapping),
		cmocka_unit_test(test_records_eni_set),
		cmocka_unit_test(test_records_acl_rule_lists),
		cmocka_unit_test(test_store_records),
		cmocka_unit_test(test_extension),
		cmocka_unit_test(test_schema_get),
		cmocka_unit_test(test_rec_from_json),
		cmocka_unit_test(test_rec_decode_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
