/* Stream-table and table-table joins through the test driver, with
 * hand-computed outputs: lookups before and after table updates, tombstones,
 * null and missing keys, table state surviving a reopen only up to the last
 * commit, joiner failures dead-lettered, self-joins, and the validation errors
 * of sl_topo_build (sides keyed differently, non-table right sides, ...). */
#include "test_engine_join_util.h"

static const char *orders_topic[] = {"orders"};

static sl_join_spec_t st_spec(sl_join_type_t type)
{
    return (sl_join_spec_t){.kind = SL_JOIN_STREAM_TABLE, .type = type, .joiner = cat_joiner};
}

/* orders (stream) joined with users (table), inner and left, in one topology. */
static void build_stream_table(et_fixture_t *f)
{
    sl_join_spec_t inner = st_spec(SL_JOIN_INNER), left = st_spec(SL_JOIN_LEFT);
    assert_int_equal(sl_topo_new("st", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "orders", orders_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "users", "users", "users-store", NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "inner", "orders", "users", &inner), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "left", "orders", "users", &left), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "inner-out", "inner", "inner-topic"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "left-out", "left", "left-topic"), 0);
    et_build(f->topo);
    assert_int_equal(sl_topo_subtopology_count(f->topo), 1);
}

static void test_stream_table_inner_and_left_follow_table_updates(void **state)
{
    et_fixture_t *f = *state;
    build_stream_table(f);
    et_open(f);
    et_pipe(f, "orders", "u1", "o1", 1); /* before the table has u1 */
    jt_none(f, "inner-topic");
    jt_expect(f, "left-topic", "u1", "o1+null", 1);
    et_pipe(f, "users", "u1", "alice", 2);
    jt_none(f, "inner-topic"); /* a table update triggers nothing */
    jt_none(f, "left-topic");
    et_pipe(f, "orders", "u1", "o2", 3);
    jt_expect(f, "inner-topic", "u1", "o2+alice", 3);
    jt_expect(f, "left-topic", "u1", "o2+alice", 3);
    et_pipe(f, "users", "u1", "alice2", 4);
    et_pipe(f, "orders", "u1", "o3", 5);
    jt_expect(f, "inner-topic", "u1", "o3+alice2", 5);
    jt_expect(f, "left-topic", "u1", "o3+alice2", 5);
    et_pipe(f, "users", "u1", NULL, 6); /* tombstone */
    et_pipe(f, "orders", "u1", "o4", 7);
    jt_none(f, "inner-topic");
    jt_expect(f, "left-topic", "u1", "o4+null", 7);
    et_pipe(f, "orders", "u9", "o5", 8); /* a key the table never had */
    jt_none(f, "inner-topic");
    jt_expect(f, "left-topic", "u9", "o5+null", 8);
    et_commit(f); /* the table's changes reach the joins' table sides: still nothing */
    jt_none(f, "inner-topic");
    jt_none(f, "left-topic");
}

static void test_stream_table_null_keys_and_values(void **state)
{
    et_fixture_t *f = *state;
    build_stream_table(f);
    et_open(f);
    et_pipe(f, "users", "u1", "alice", 1);
    et_pipe(f, "orders", NULL, "o1", 2);
    jt_none(f, "inner-topic");
    jt_expect(f, "left-topic", NULL, "o1+null", 2);
    et_pipe(f, "orders", "u1", NULL, 3);
    jt_none(f, "inner-topic");
    jt_none(f, "left-topic");
    assert_int_equal(jt_stats(f, "inner#left").dropped_null_key, 1);
    assert_int_equal(jt_stats(f, "left#left").dropped_null_key, 0);
    assert_int_equal(jt_stats(f, "inner#left").dropped_null_value, 1);
    assert_int_equal(jt_stats(f, "left#left").dropped_null_value, 1);
    assert_int_equal(sl_driver_queued(f->drv, "st-dlq"), 0);
}

static void test_stream_table_state_survives_reopen_after_commit(void **state)
{
    et_fixture_t *f = *state;
    build_stream_table(f);
    et_open(f);
    et_pipe(f, "users", "u1", "alice", 1);
    et_commit(f);
    et_pipe(f, "users", "u2", "bob", 2); /* never committed */
    et_reopen(f);
    et_pipe(f, "orders", "u1", "o1", 3);
    et_pipe(f, "orders", "u2", "o2", 4);
    jt_expect(f, "inner-topic", "u1", "o1+alice", 3);
    jt_none(f, "inner-topic");
    jt_expect(f, "left-topic", "u1", "o1+alice", 3);
    jt_expect(f, "left-topic", "u2", "o2+null", 4);
}

static void test_joiner_failure_is_dead_lettered_at_the_side(void **state)
{
    et_fixture_t *f = *state;
    build_stream_table(f);
    et_open(f);
    et_pipe(f, "users", "u1", "alice", 1);
    et_pipe(f, "orders", "u1", "bad", 2);
    jt_none(f, "inner-topic");
    jt_none(f, "left-topic");
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "st-dlq", &r), 1);
    assert_true(et_bytes_eq(r.headers[1].value, r.headers[1].value_len, "inner#left"));
    assert_true(et_bytes_eq(r.headers[0].value, r.headers[0].value_len, "joiner refuses 'bad'"));
    assert_int_equal(jt_stats(f, "left#left").dead_lettered, 1);
}

static void test_stream_table_with_an_aggregation_and_a_chain_of_joins(void **state)
{
    et_fixture_t *f = *state;
    const char *views_topic[] = {"views"};
    sl_join_spec_t inner = st_spec(SL_JOIN_INNER);
    assert_int_equal(sl_topo_new("chain", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "views", views_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "by-key", "views", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "view-count", "by-key", "view-counts"), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "orders", orders_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "users", "users", "users-store", NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "with-user", "orders", "users", &inner), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "with-views", "with-user", "view-count", &inner), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "with-views", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "users", "u1", "alice", 1);
    et_pipe(f, "views", "u1", "v", 2);
    et_pipe(f, "orders", "u1", "o1", 3);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "out", &r), 1);
    /* "o1+alice" joined with the count, a msgpack 1 (0x01) */
    assert_int_equal(r.value_len, 10);
    assert_memory_equal(r.value, "o1+alice+\x01", 10);
}

/* ---- table-table ------------------------------------------------------------------------------------ */

static void build_table_table(et_fixture_t *f)
{
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_join_spec_t s = {.kind = SL_JOIN_TABLE_TABLE, .joiner = cat_joiner};
    assert_int_equal(sl_topo_new("tt", &f->topo), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "A", "a", "a-store", NULL), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "B", "b", "b-store", NULL), 0);
    const char *names[] = {"ij", "lj", "oj"}, *sinks[] = {"ij-out", "lj-out", "oj-out"};
    for (int i = 0; i < 3; i++) {
        s.type = (sl_join_type_t)(SL_JOIN_INNER + i);
        assert_int_equal(sl_topo_add_join(f->topo, names[i], "A", "B", &s), 0);
        assert_int_equal(sl_topo_add_sink(f->topo, sinks[i], names[i], names[i]), 0);
    }
    et_build(f->topo);
}

static void test_table_table_inner_left_outer_with_tombstones(void **state)
{
    et_fixture_t *f = *state;
    build_table_table(f);
    et_open(f);
    et_pipe(f, "a", "k", "a1", 1);
    jt_none(f, "ij");
    jt_expect(f, "lj", "k", "a1+null", 1);
    jt_expect(f, "oj", "k", "a1+null", 1);
    et_pipe(f, "b", "k", "b1", 2);
    jt_expect(f, "ij", "k", "a1+b1", 2);
    jt_expect(f, "lj", "k", "a1+b1", 2);
    jt_expect(f, "oj", "k", "a1+b1", 2);
    et_pipe(f, "a", "k", "a2", 3);
    jt_expect(f, "ij", "k", "a2+b1", 3);
    jt_expect(f, "lj", "k", "a2+b1", 3);
    jt_expect(f, "oj", "k", "a2+b1", 3);
    et_pipe(f, "a", "k", NULL, 4); /* left delete: the inner and left results go */
    jt_expect(f, "ij", "k", NULL, 4);
    jt_expect(f, "lj", "k", NULL, 4);
    jt_expect(f, "oj", "k", "null+b1", 4);
    et_pipe(f, "b", "k", NULL, 5); /* right delete: only the outer join still had a result */
    jt_none(f, "ij");
    jt_none(f, "lj");
    jt_expect(f, "oj", "k", NULL, 5);
    et_pipe(f, "b", "m", "b2", 6);
    jt_none(f, "ij");
    jt_none(f, "lj");
    jt_expect(f, "oj", "m", "null+b2", 6);
    et_pipe(f, "a", "m", "a3", 7);
    et_pipe(f, "b", "m", NULL, 8); /* inner had a3+b2: tombstone; left keeps a3 alone */
    jt_expect(f, "ij", "m", "a3+b2", 7);
    jt_expect(f, "ij", "m", NULL, 8);
    jt_expect(f, "lj", "m", "a3+b2", 7);
    jt_expect(f, "lj", "m", "a3+null", 8);
    jt_expect(f, "oj", "m", "a3+b2", 7);
    jt_expect(f, "oj", "m", "a3+null", 8);
    et_pipe(f, "a", NULL, "x", 9); /* tables drop null keys: nothing reaches the joins */
    jt_none(f, "ij");
    jt_none(f, "oj");
}

static void test_table_table_updates_coalesce_until_commit(void **state)
{
    et_fixture_t *f = *state;
    build_table_table(f);
    f->opts.flush = SL_DRIVER_FLUSH_ON_COMMIT;
    et_open(f);
    et_pipe(f, "a", "k", "a1", 1);
    et_pipe(f, "a", "k", "a2", 2);
    et_pipe(f, "b", "k", "b1", 3);
    jt_none(f, "ij");
    et_commit(f); /* A flushes first (a2 finds b1 already), then B (b1 finds a2) */
    jt_expect(f, "ij", "k", "a2+b1", 3);
    jt_expect(f, "ij", "k", "a2+b1", 3);
    jt_none(f, "ij");
    et_reopen(f);
    et_pipe(f, "b", "k", "b2", 4);
    et_commit(f);
    jt_expect(f, "ij", "k", "a2+b2", 4);
}

static void test_table_table_self_join_emits_once(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_join_spec_t s = {.kind = SL_JOIN_TABLE_TABLE, .type = SL_JOIN_INNER, .joiner = cat_joiner};
    assert_int_equal(sl_topo_new("self", &f->topo), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "A", "a", "a-store", NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j", "A", "A", &s), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "j", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "a", "k", "v", 1);
    jt_expect(f, "out", "k", "v+v", 1);
    jt_none(f, "out");
}

/* ---- validation -------------------------------------------------------------------------------------- */

static int rekey(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    sl_buf_append(key, "x", 1);
    return 1;
}

static int keep_all(void *arg, const sl_rec_t *rec, sl_err_t *err) { return 1; }

static void expect_build_error(sl_topo_t *t, int code, const char *const *parts)
{
    sl_err_t err = {0};
    int rc = sl_topo_build(t, &err);
    if (rc != code)
        fail_msg("build returned %d (%s), expected %d", rc, err.msg, code);
    for (; *parts; parts++)
        if (!strstr(err.msg, *parts))
            fail_msg("'%s' not in: %s", *parts, err.msg);
}

static void test_validation_rekeyed_side_names_both_nodes(void **state)
{
    et_fixture_t *f = *state;
    const char *clicks_topic[] = {"clicks"};
    sl_join_spec_t ss = {.kind = SL_JOIN_STREAM_STREAM, .type = SL_JOIN_INNER, .joiner = cat_joiner,
                         .before_ms = 10, .after_ms = 10, .left_store = "l-buf", .right_store = "r-buf"};
    sl_join_spec_t inner = st_spec(SL_JOIN_INNER);
    assert_int_equal(sl_topo_new("v", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "orders", orders_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "clicks", clicks_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "users", "users", "users-store", NULL), 0);
    assert_int_equal(sl_topo_add_select_key(f->topo, "rk", "orders", rekey, NULL), 0);
    assert_int_equal(sl_topo_add_filter(f->topo, "keep", "rk", keep_all, NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j1", "keep", "users", &inner), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j2", "clicks", "rk", &ss), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j3", "clicks", "orders", &inner), 0); /* right is a stream */
    assert_int_equal(sl_topo_add_join(f->topo, "j4", "users", "users", &inner), 0);   /* left is a table */
    const char *parts[] = {
        "node 'j1' (join): the left side 'keep' may be keyed differently from its partitions since 'rk' (select_key)",
        "node 'j2' (join): the right side 'rk' may be keyed differently from its partitions since 'rk'",
        "node 'j3' (join): the right side 'orders' (source) must be a table",
        "node 'j4' (join): the left side 'users' (table) must be a stream",
        NULL,
    };
    expect_build_error(f->topo, SL_E_TOPOLOGY, parts);
    sl_topo_free(f->topo);
    assert_int_equal(sl_topo_new("v", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "clicks", clicks_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j5", "clicks", "nope", &inner), 0);
    const char *parts2[] = {"node 'j5' (join): unknown parent 'nope'", NULL};
    expect_build_error(f->topo, SL_E_TOPOLOGY, parts2);
}

static void test_validation_of_specs_and_stores(void **state)
{
    et_fixture_t *f = *state;
    const char *clicks_topic[] = {"clicks"};
    sl_join_spec_t outer_st = st_spec(SL_JOIN_OUTER);
    sl_join_spec_t ss = {.kind = SL_JOIN_STREAM_STREAM, .type = SL_JOIN_LEFT, .joiner = cat_joiner,
                         .before_ms = 10, .after_ms = 10, .left_store = "users-store", .right_store = "users-store"};
    sl_join_spec_t no_stores = ss, no_joiner = ss, negative = ss;
    no_stores.right_store = NULL;
    no_joiner.joiner = NULL;
    negative.grace_ms = -1;
    assert_int_equal(sl_topo_new("v", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "orders", orders_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "clicks", clicks_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "users", "users", "users-store", NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j1", "orders", "users", &outer_st), SL_E_INVAL);
    assert_int_equal(sl_topo_add_join(f->topo, "j2", "orders", "clicks", &no_stores), SL_E_INVAL);
    assert_int_equal(sl_topo_add_join(f->topo, "j3", "orders", "clicks", &no_joiner), SL_E_INVAL);
    assert_int_equal(sl_topo_add_join(f->topo, "j4", "orders", "clicks", &negative), SL_E_INVAL);
    assert_int_equal(sl_topo_add_join(f->topo, "j5", "orders", "clicks", NULL), SL_E_INVAL);
    assert_int_equal(sl_topo_add_join(f->topo, "j6", "orders", "clicks", &ss), 0);
    const char *parts[] = {
        "node 'j1': a stream-table join is inner or left, not outer",
        "node 'j2': a stream-stream join needs left_store and right_store",
        "node 'j3': missing joiner function",
        "node 'j4': join window before/after and grace must be 0..2^50 ms",
        "node 'j5': missing join spec",
        "store 'users-store' is used by both 'users' and 'j6'",
        "node 'j6' (join): left_store and right_store are both 'users-store'",
        NULL,
    };
    expect_build_error(f->topo, SL_E_INVAL, parts);
}

static void test_join_after_repartitioned_aggregation_shares_its_subtopology(void **state)
{
    et_fixture_t *f = *state;
    const char *clicks_topic[] = {"clicks"};
    sl_join_spec_t inner = st_spec(SL_JOIN_INNER);
    assert_int_equal(sl_topo_new("v", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "orders", orders_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_select_key(f->topo, "rk", "orders", rekey, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "rk", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "c", "g", "c-store"), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "clicks", clicks_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j", "clicks", "c", &inner), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "j", "out"), 0);
    et_build(f->topo);
    assert_int_equal(sl_topo_subtopology_count(f->topo), 2);
    assert_int_equal(sl_topo_node_subtopology(f->topo, "j"), sl_topo_node_subtopology(f->topo, "c"));
    assert_int_equal(sl_topo_node_subtopology(f->topo, "j#left"), sl_topo_node_subtopology(f->topo, "c"));
    sl_buf_t d;
    sl_buf_init(&d);
    assert_int_equal(sl_topo_describe(f->topo, &d), 0);
    sl_buf_append(&d, "", 1);
    assert_non_null(strstr((const char *)d.data, "join j <- j#left, j#right"));
    assert_non_null(strstr((const char *)d.data, "join j#left <- clicks [store c-store]"));
    sl_buf_free(&d);
    et_open(f);
    et_pipe(f, "orders", "a", "o", 1); /* counted under key "x" */
    et_commit(f);
    et_pipe(f, "clicks", "x", "c1", 2);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "out", &r), 1);
    assert_memory_equal(r.value, "c1+\x01", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stream_table_inner_and_left_follow_table_updates, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_stream_table_null_keys_and_values, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_stream_table_state_survives_reopen_after_commit, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_joiner_failure_is_dead_lettered_at_the_side, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_stream_table_with_an_aggregation_and_a_chain_of_joins, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_table_table_inner_left_outer_with_tombstones, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_table_table_updates_coalesce_until_commit, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_table_table_self_join_emits_once, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_validation_rekeyed_side_names_both_nodes, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_validation_of_specs_and_stores, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_join_after_repartitioned_aggregation_shares_its_subtopology, et_setup,
                                        et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
