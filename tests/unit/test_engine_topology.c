/* Topology building: validation errors name the nodes (duplicates, unknown
 * parents, cycles, aggregations without group_by, group_by without
 * aggregation, sinks with children, topics read twice, shared stores), and the
 * split into sub-topologies at re-keying points with "<app>-<node>-repartition". */
#include "test_engine_util.h"

static int split_words(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err) { return 0; }
static int keep_all(void *arg, const sl_rec_t *rec, sl_err_t *err) { return 1; }
static int value_as_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err) { return 1; }

static const char *topics_lines[] = {"lines"};

/* Build must fail with SL_E_TOPOLOGY and a message holding every needle. */
static void expect_invalid(sl_topo_t *t, const char *const *needles, size_t n)
{
    sl_err_t err = {0};
    int rc = sl_topo_build(t, &err);
    assert_int_equal(rc, SL_E_TOPOLOGY);
    for (size_t i = 0; i < n; i++)
        if (!strstr(err.msg, needles[i]))
            fail_msg("error message lacks \"%s\": %s", needles[i], err.msg);
}

static void test_build_rejects_duplicate_names_and_unknown_parents(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_filter(t, "f", "in", keep_all, NULL), 0);
    assert_int_equal(sl_topo_add_filter(t, "f", "in", keep_all, NULL), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "nowhere", "out-topic"), 0);
    const char *needles[] = {"node 'f': duplicate name", "node 'out' (sink): unknown parent 'nowhere'"};
    expect_invalid(t, needles, 2);
    sl_topo_free(t);
}

static void test_build_reports_cycle_with_node_names(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    const char *mp[] = {"in", "c"};
    assert_int_equal(sl_topo_add_merge(t, "m", mp, 2), 0);
    assert_int_equal(sl_topo_add_filter(t, "b", "m", keep_all, NULL), 0);
    assert_int_equal(sl_topo_add_filter(t, "c", "b", keep_all, NULL), 0);
    const char *needles[] = {"cycle: 'm' -> 'b' -> 'c' -> 'm'"};
    expect_invalid(t, needles, 1);
    sl_topo_free(t);
}

static void test_build_reports_cycle_through_a_topic(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_sink(t, "loop", "in", "lines"), 0);
    const char *needles[] = {"cycle: 'in' -> 'loop' -> 'in'"};
    expect_invalid(t, needles, 1);
    sl_topo_free(t);
}

static void test_build_rejects_aggregation_without_group_by(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_flat_map(t, "words", "in", split_words, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "counts", "words", "counts-store"), 0);
    const char *needles[] = {"node 'counts' (count): an aggregation needs a group_by parent, not 'words' (flat_map)"};
    expect_invalid(t, needles, 1);
    sl_topo_free(t);
}

static void test_build_rejects_group_by_without_aggregation_and_sink_children(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "g", "in", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_filter(t, "after-g", "g", keep_all, NULL), 0);
    assert_int_equal(sl_topo_add_sink(t, "s", "in", "x"), 0);
    assert_int_equal(sl_topo_add_filter(t, "after-sink", "s", keep_all, NULL), 0);
    const char *needles[] = {"node 'after-g' (filter): follows group_by 'g', which only aggregations may follow",
                             "node 'after-sink' (filter): parent 's' is a sink"};
    expect_invalid(t, needles, 2);
    sl_topo_free(t);
}

static void test_build_rejects_shared_store_topic_read_twice_and_bad_names(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_source(t, "in2", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "g", "in", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "c1", "g", "st"), 0);
    assert_int_equal(sl_topo_add_count(t, "c2", "g", "st"), 0);
    assert_int_equal(sl_topo_add_filter(t, "bad name", "in", keep_all, NULL), 0);
    const char *needles[] = {"topic 'lines' is read by both 'in' and 'in2'", "store 'st' is used by both 'c1' and 'c2'",
                             "node 'bad name' (filter): invalid name"};
    expect_invalid(t, needles, 3);
    sl_topo_free(t);
}

static void test_add_without_function_fails_and_build_reports_it(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_map(t, "m", "in", NULL, NULL), SL_E_INVAL);
    sl_err_t err = {0};
    assert_int_equal(sl_topo_build(t, &err), SL_E_INVAL);
    assert_non_null(strstr(err.msg, "node 'm': missing function"));
    sl_topo_free(t);
    assert_int_equal(sl_topo_new("bad app", &t), SL_E_INVAL);
    assert_null(t);
}

static void test_group_by_with_new_key_splits_at_repartition_topic(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("wc", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "lines", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_flat_map(t, "words", "lines", split_words, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "by-word", "words", value_as_key, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "counts", "by-word", "word-counts"), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "counts", "counts-topic"), 0);
    et_build(t);
    assert_int_equal(sl_topo_subtopology_count(t), 2);
    assert_int_equal(sl_topo_node_subtopology(t, "lines"), 0);
    assert_int_equal(sl_topo_node_subtopology(t, "by-word"), 0);
    assert_int_equal(sl_topo_node_subtopology(t, "counts"), 1);
    assert_int_equal(sl_topo_node_subtopology(t, "out"), 1);
    assert_int_equal(sl_topo_node_subtopology(t, "nope"), SL_E_NOTFOUND);
    assert_int_equal(sl_topo_repartition_count(t), 1);
    assert_string_equal(sl_topo_repartition_topic(t, 0), "wc-by-word-repartition");
    assert_null(sl_topo_repartition_topic(t, 1));
    sl_buf_t d;
    sl_buf_init(&d);
    assert_int_equal(sl_topo_describe(t, &d), 0);
    sl_buf_append(&d, "", 1);
    assert_non_null(strstr((char *)d.data, "sink by-word#repartition <- by-word -> topic wc-by-word-repartition"));
    assert_non_null(strstr((char *)d.data, "Sub-topology 1\n    count counts <- by-word#repartition-source"));
    sl_buf_free(&d);
    /* frozen after build; a second build is a no-op */
    assert_int_equal(sl_topo_add_filter(t, "late", "lines", keep_all, NULL), SL_E_INVAL);
    assert_int_equal(sl_topo_build(t, NULL), 0);
    sl_topo_free(t);
}

static void test_group_by_existing_key_from_source_needs_no_repartition(void **state)
{
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_filter(t, "f", "in", keep_all, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "g", "f", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "c", "g", "c-store"), 0);
    et_build(t);
    assert_int_equal(sl_topo_subtopology_count(t), 1);
    assert_int_equal(sl_topo_repartition_count(t), 0);
    sl_topo_free(t);

    /* ...but a select_key upstream makes even group-by-key repartition */
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "in", topics_lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_select_key(t, "rekey", "in", value_as_key, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "g", "rekey", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "c", "g", "c-store"), 0);
    et_build(t);
    assert_int_equal(sl_topo_subtopology_count(t), 2);
    assert_string_equal(sl_topo_repartition_topic(t, 0), "app-g-repartition");
    sl_topo_free(t);
}

static void test_independent_sources_are_separate_subtopologies(void **state)
{
    sl_topo_t *t;
    const char *a[] = {"a"}, *b[] = {"b"};
    assert_int_equal(sl_topo_new("app", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "sa", a, 1, NULL), 0);
    assert_int_equal(sl_topo_add_source(t, "sb", b, 1, NULL), 0);
    assert_int_equal(sl_topo_add_sink(t, "ka", "sa", "out-a"), 0);
    assert_int_equal(sl_topo_add_sink(t, "kb", "sb", "out-b"), 0);
    et_build(t);
    assert_int_equal(sl_topo_subtopology_count(t), 2);
    assert_int_equal(sl_topo_node_subtopology(t, "kb"), 1);
    sl_topo_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_rejects_duplicate_names_and_unknown_parents),
        cmocka_unit_test(test_build_reports_cycle_with_node_names),
        cmocka_unit_test(test_build_reports_cycle_through_a_topic),
        cmocka_unit_test(test_build_rejects_aggregation_without_group_by),
        cmocka_unit_test(test_build_rejects_group_by_without_aggregation_and_sink_children),
        cmocka_unit_test(test_build_rejects_shared_store_topic_read_twice_and_bad_names),
        cmocka_unit_test(test_add_without_function_fails_and_build_reports_it),
        cmocka_unit_test(test_group_by_with_new_key_splits_at_repartition_topic),
        cmocka_unit_test(test_group_by_existing_key_from_source_needs_no_repartition),
        cmocka_unit_test(test_independent_sources_are_separate_subtopologies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
