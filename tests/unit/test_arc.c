/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Unit tests of the feature arcs (pipelines/common/arc.c): the order of a
 * chain from runs_before / runs_after (stable otherwise), the edges stored
 * for start nodes and features, packet filters, an arc ending at `drop`,
 * and the refusals (cycle, a constraint naming a node not on the arc, an
 * unregistered node, an unknown arc). Each test finalises its own arc; the
 * nodes are dummies registered here (no EAL, no graph).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <rte_graph.h>

#include "pipelines/common/arc.h"
#include "pipelines/drop/drop.h"

static uint16_t nop(struct rte_graph *g, struct rte_node *n, void **o, uint16_t nb)
{
	(void)g;
	(void)n;
	(void)o;
	return nb;
}

#define NODE(var, nm)                                                                          \
	static struct rte_node_register var = { .name = nm, .process = nop };                  \
	RTE_NODE_REGISTER(var)

NODE(n_drop, SS_NODE_DROP);
NODE(n_start, "t_start");
NODE(n_start2, "t_start2");
NODE(n_end, "t_end");
NODE(n_a, "t_a");
NODE(n_b, "t_b");
NODE(n_c, "t_c");
NODE(n_roce, "t_roce");

/* The name of the node edge `e` of `from` leads to. */
static const char *edge_name(const char *from, uint8_t e)
{
	rte_node_t id = rte_node_from_name(from);
	rte_edge_t n = rte_node_edge_count(id);
	char **names = calloc(n, sizeof(*names));
	const char *r = NULL;

	assert_non_null(names);
	assert_int_equal(rte_node_edge_get(id, names), n);
	if (e < n)
		r = names[e];
	free(names);
	return r;
}

/* An mbuf with its private area, as ss_arc_edge sees one. */
static struct rte_mbuf *fake_mbuf(void)
{
	struct rte_mbuf *m = aligned_alloc(RTE_CACHE_LINE_SIZE,
					   sizeof(struct rte_mbuf) + SS_META_PRIV_SIZE);

	assert_non_null(m);
	memset(m, 0, sizeof(struct rte_mbuf) + SS_META_PRIV_SIZE);
	m->priv_size = SS_META_PRIV_SIZE;
	return m;
}

static void test_order_and_edges(void **state)
{
	static struct ss_arc arc = { .name = "t_order", .start = { "t_start", "t_start2" },
				     .end = "t_end" };
	/* registered a, b, c; a runs after b, c runs before b: c, b, a */
	static struct ss_arc_feature a = { .arc = "t_order", .node = "t_a",
					   .runs_after = { "t_b" } };
	static struct ss_arc_feature b = { .arc = "t_order", .node = "t_b" };
	static struct ss_arc_feature c = { .arc = "t_order", .node = "t_c",
					   .runs_before = { "t_b" } };
	char err[256] = "";

	(void)state;
	ss_arc_register(&arc);
	ss_arc_feature_register(&a);
	ss_arc_feature_register(&b);
	ss_arc_feature_register(&c);
	if (ss_arc_finalize(&arc, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(edge_name("t_start", arc.from[0].hop[0].edge), "t_c");
	assert_string_equal(edge_name("t_start2", arc.from[1].hop[0].edge), "t_c");
	assert_string_equal(edge_name("t_c", c.next.hop[0].edge), "t_b");
	assert_string_equal(edge_name("t_b", b.next.hop[0].edge), "t_a");
	assert_string_equal(edge_name("t_a", a.next.hop[0].edge), "t_end");
	assert_int_equal(a.next.hop[0].drop, 0);
	assert_ptr_equal(ss_arc_lookup("t_order"), &arc);
}

static void test_stable_without_constraints(void **state)
{
	static struct ss_arc arc = { .name = "t_stable", .start = { "t_start" }, .end = "t_end" };
	static struct ss_arc_feature b = { .arc = "t_stable", .node = "t_b" };
	static struct ss_arc_feature a = { .arc = "t_stable", .node = "t_a" };
	char err[256] = "";

	(void)state;
	ss_arc_register(&arc);
	ss_arc_feature_register(&b);
	ss_arc_feature_register(&a);
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), 0);
	assert_string_equal(edge_name("t_start", arc.from[0].hop[0].edge), "t_b");
	assert_string_equal(edge_name("t_b", b.next.hop[0].edge), "t_a");
	assert_string_equal(edge_name("t_a", a.next.hop[0].edge), "t_end");
}

static void test_empty_arc_and_existing_edges(void **state)
{
	static struct ss_arc arc = { .name = "t_empty", .start = { "t_start" }, .end = "t_end" };
	rte_edge_t before;
	char err[256] = "";

	(void)state;
	ss_arc_register(&arc);
	before = rte_node_edge_count(rte_node_from_name("t_start"));
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), 0);
	/* at most one new edge t_start -> t_end, reused when finalised again */
	assert_string_equal(edge_name("t_start", arc.from[0].hop[0].edge), "t_end");
	rte_edge_t after = rte_node_edge_count(rte_node_from_name("t_start"));
	assert_true(after <= before + 1);
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), 0);
	assert_int_equal(rte_node_edge_count(rte_node_from_name("t_start")), after);
}

static void test_filter_and_drop_end(void **state)
{
	/* like parse's ingress arcs: RoCE only to t_roce, the rest to t_c,
	 * nothing after: drop with the arc's reason */
	static struct ss_arc arc = { .name = "t_ingress", .start = { "t_start" },
				     .end = SS_NODE_DROP, .end_drop = SS_DROP_NO_FORWARDING };
	static struct ss_arc_feature roce = { .arc = "t_ingress", .node = "t_roce",
					      .runs_before = { "t_c" }, .pf = SS_PF_ROCE };
	static struct ss_arc_feature c = { .arc = "t_ingress", .node = "t_c" };
	static struct ss_arc_feature roce_only = { .arc = "t_ingress2", .node = "t_roce",
						   .pf = SS_PF_ROCE };
	static struct ss_arc arc2 = { .name = "t_ingress2", .start = { "t_start" },
				      .end = SS_NODE_DROP, .end_drop = SS_DROP_NO_FORWARDING };
	struct rte_mbuf *m = fake_mbuf();
	char err[256] = "";
	uint8_t e;

	(void)state;
	ss_arc_register(&arc);
	ss_arc_feature_register(&c);      /* registered first, ordered after */
	ss_arc_feature_register(&roce);
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), 0);
	e = ss_arc_edge(&arc.from[0], m, SS_PF_L4 | SS_PF_ROCE);
	assert_string_equal(edge_name("t_start", e), "t_roce");
	e = ss_arc_edge(&arc.from[0], m, SS_PF_L4);
	assert_string_equal(edge_name("t_start", e), "t_c");
	assert_int_equal(ss_meta(m)->drop, SS_DROP_NONE);
	/* rdma_steer's successor is the overlay; the overlay's is the end */
	e = ss_arc_edge(&roce.next, m, SS_PF_ROCE);
	assert_string_equal(edge_name("t_roce", e), "t_c");
	e = ss_arc_edge(&c.next, m, 0);
	assert_string_equal(edge_name("t_c", e), SS_NODE_DROP);
	assert_int_equal(ss_meta(m)->drop, SS_DROP_NO_FORWARDING);

	/* only a filtered feature: what it does not take goes to the end */
	ss_arc_register(&arc2);
	ss_arc_feature_register(&roce_only);
	assert_int_equal(ss_arc_finalize(&arc2, err, sizeof(err)), 0);
	ss_meta(m)->drop = SS_DROP_NONE;
	e = ss_arc_edge(&arc2.from[0], m, SS_PF_ROCE);
	assert_string_equal(edge_name("t_start", e), "t_roce");
	assert_int_equal(ss_meta(m)->drop, SS_DROP_NONE);
	e = ss_arc_edge(&arc2.from[0], m, SS_PF_VXLAN);
	assert_string_equal(edge_name("t_start", e), SS_NODE_DROP);
	assert_int_equal(ss_meta(m)->drop, SS_DROP_NO_FORWARDING);
	free(m);
}

static void test_cycle_refused(void **state)
{
	static struct ss_arc arc = { .name = "t_cycle", .start = { "t_start" }, .end = "t_end" };
	static struct ss_arc_feature a = { .arc = "t_cycle", .node = "t_a",
					   .runs_before = { "t_b" } };
	static struct ss_arc_feature b = { .arc = "t_cycle", .node = "t_b",
					   .runs_before = { "t_a" } };
	static struct ss_arc_feature c = { .arc = "t_cycle", .node = "t_c" };
	char err[256] = "";

	(void)state;
	ss_arc_register(&arc);
	ss_arc_feature_register(&a);
	ss_arc_feature_register(&b);
	ss_arc_feature_register(&c);
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "arc t_cycle"));
	assert_non_null(strstr(err, "cycle"));
	assert_non_null(strstr(err, "t_a"));
	assert_non_null(strstr(err, "t_b"));
	assert_null(strstr(err + strlen("arc t_cycle"), "t_c"));  /* not part of it */
}

static void test_constraint_not_on_arc(void **state)
{
	static struct ss_arc arc = { .name = "t_unknown", .start = { "t_start" }, .end = "t_end" };
	static struct ss_arc_feature a = { .arc = "t_unknown", .node = "t_a",
					   .runs_after = { "t_c" } };   /* registered, not here */
	char err[256] = "";

	(void)state;
	ss_arc_register(&arc);
	ss_arc_feature_register(&a);
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), -1);
	assert_string_equal(err, "arc t_unknown: t_a runs after t_c, which is not a feature on the arc");
}

static void test_unregistered_node(void **state)
{
	static struct ss_arc arc = { .name = "t_nonode", .start = { "t_start" }, .end = "t_end" };
	static struct ss_arc_feature x = { .arc = "t_nonode", .node = "t_nowhere" };
	static struct ss_arc arc2 = { .name = "t_noend", .start = { "t_start" }, .end = "t_nowhere" };
	char err[256] = "";

	(void)state;
	ss_arc_register(&arc);
	ss_arc_feature_register(&x);
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), -1);
	assert_string_equal(err, "arc t_nonode: feature node t_nowhere is not registered");
	ss_arc_register(&arc2);
	assert_int_equal(ss_arc_finalize(&arc2, err, sizeof(err)), -1);
	assert_string_equal(err, "arc t_noend: end node t_nowhere is not registered");
}

static void test_start_or_end_as_feature(void **state)
{
	static struct ss_arc arc = { .name = "t_self", .start = { "t_start" }, .end = "t_end" };
	static struct ss_arc_feature x = { .arc = "t_self", .node = "t_end" };
	char err[256] = "";

	(void)state;
	ss_arc_register(&arc);
	ss_arc_feature_register(&x);
	assert_int_equal(ss_arc_finalize(&arc, err, sizeof(err)), -1);
	assert_string_equal(err, "arc t_self: t_end is the arc's end, not a feature on it");
}

static void test_unknown_arc(void **state)
{
	static struct ss_arc_feature x = { .arc = "t_no_such_arc", .node = "t_a" };
	char err[256] = "";

	(void)state;
	ss_arc_feature_register(&x);
	assert_int_equal(ss_arcs_finalize(err, sizeof(err)), -1);
	assert_string_equal(err, "arc t_no_such_arc: unknown arc (node t_a attaches to it)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_edges),
		cmocka_unit_test(test_stable_without_constraints),
		cmocka_unit_test(test_empty_arc_and_existing_edges),
		cmocka_unit_test(test_filter_and_drop_end),
		cmocka_unit_test(test_cycle_refused),
		cmocka_unit_test(test_constraint_not_on_arc),
		cmocka_unit_test(test_unregistered_node),
		cmocka_unit_test(test_start_or_end_as_feature),
		cmocka_unit_test(test_unknown_arc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
