/* Grouping a table through the C API (sl_topo_add_group_table): a changed row
 * is taken out of its old group (a retraction, header sl.retract) and added
 * to its new one, so count and sum stay exact; a deleted row is taken out;
 * the build refuses min / max under a group_table, a ttl on a windowed
 * aggregation, and sl_topo_set_ttl names unknown or unsuitable nodes. */
#include "test_engine_util.h"

/* group key: the value itself (a region name) */
static int value_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    (void)arg, (void)err;
    sl_buf_append(key, rec->value, (size_t)rec->value_len);
    return 1;
}

/* group key of a msgpack int: "even" or "odd" */
static int parity_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    (void)arg;
    bool fl;
    double v = et_num(rec->value, (size_t)rec->value_len, &fl);
    if (fl)
        return sl_err_set(err, SL_E_RECORD, "not an int");
    const char *k = ((int64_t)v) % 2 ? "odd" : "even";
    sl_buf_append(key, k, strlen(k));
    return 1;
}

static int retractions;
static void count_retractions(void *arg, const sl_rec_t *rec)
{
    (void)arg;
    retractions += sl_rec_is_retraction(rec);
}

static void test_count_and_sum_follow_changed_rows(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    assert_int_equal(sl_topo_new("gt", &f->topo), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "users", "users", "users", NULL), 0);
    assert_int_equal(sl_topo_add_group_table(f->topo, "by-region", "users", "by-region-rows", value_key, NULL), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "per-region", "by-region", "per-region"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "per-region", "counts"), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "nums", "nums", "nums", NULL), 0);
    assert_int_equal(sl_topo_add_peek(f->topo, "seen", "nums", count_retractions, NULL), 0);
    assert_int_equal(sl_topo_add_group_table(f->topo, "by-parity", "seen", "by-parity-rows", parity_key, NULL), 0);
    assert_int_equal(sl_topo_add_sum(f->topo, "sums", "by-parity", "sums", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out2", "sums", "sums"), 0);
    et_build(f->topo);
    assert_int_equal(sl_topo_repartition_count(f->topo), 2);
    et_open(f);
    et_pipe(f, "users", "u1", "eu", 1);
    et_pipe(f, "users", "u2", "eu", 2);
    et_pipe(f, "users", "u3", "us", 3);
    et_expect_int(f, "counts", "eu", 1);
    et_expect_int(f, "counts", "eu", 2);
    et_expect_int(f, "counts", "us", 1);
    et_pipe(f, "users", "u1", "us", 4); /* moves: eu loses it, us gains it */
    et_expect_int(f, "counts", "eu", 1);
    et_expect_int(f, "counts", "us", 2);
    et_pipe(f, "users", "u2", NULL, 5); /* deleted: taken out */
    et_expect_int(f, "counts", "eu", 0);
    et_pipe(f, "users", "u3", "us", 6); /* unchanged: nothing */
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);

    et_pipe_num(f, "nums", "a", 3, false, 7);
    et_pipe_num(f, "nums", "b", 5, false, 8);
    et_expect_int(f, "sums", "odd", 3);
    et_expect_int(f, "sums", "odd", 8);
    et_pipe_num(f, "nums", "a", 4, false, 9); /* odd loses 3 (the retraction comes first), even gains 4 */
    et_expect_int(f, "sums", "odd", 5);
    et_expect_int(f, "sums", "even", 4);
    assert_int_equal(sl_driver_queued(f->drv, "sums"), 0);
    assert_int_equal(retractions, 0); /* the peek upstream of the group_table sees no retraction */
}

static void test_build_refuses_what_cannot_subtract(void **state)
{
    (void)state;
    sl_topo_t *t;
    sl_err_t err = {0};
    assert_int_equal(sl_topo_new("gt", &t), 0);
    assert_int_equal(sl_topo_add_table(t, "users", "users", "users", NULL), 0);
    assert_int_equal(sl_topo_add_group_table(t, "g", "users", "g-rows", value_key, NULL), 0);
    assert_int_equal(sl_topo_add_max(t, "m", "g", "m", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_peek(t, "p", "g", count_retractions, NULL), 0);
    assert_int_equal(sl_topo_build(t, &err), SL_E_TOPOLOGY);
    assert_non_null(strstr(err.msg, "node 'm' (max): follows group_table 'g', whose retractions max cannot subtract"));
    assert_non_null(strstr(err.msg, "node 'p' (peek): follows group_table 'g', which only aggregations may follow"));
    sl_topo_free(t);

    assert_int_equal(sl_topo_new("gt", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "s", (const char *const[]){"s"}, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "g", "s", NULL, NULL), 0);
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 1000};
    assert_int_equal(sl_topo_add_window(t, "w", "g", &w), 0);
    assert_int_equal(sl_topo_add_count(t, "c", "w", "c"), 0);
    assert_int_equal(sl_topo_add_map(t, "m", "s", NULL, NULL), SL_E_INVAL);
    assert_int_equal(sl_topo_set_ttl(t, "nope", 1000), SL_E_NOTFOUND);
    assert_int_equal(sl_topo_set_ttl(t, "g", 1000), SL_E_INVAL);
    assert_int_equal(sl_topo_set_ttl(t, "c", 0), SL_E_INVAL);
    assert_int_equal(sl_topo_set_ttl(t, "c", 1000), 0);
    assert_int_equal(sl_topo_build(t, &err), SL_E_INVAL); /* the failed adds fail the build */
    assert_non_null(strstr(err.msg, "node 'c' (count): a windowed aggregation takes no ttl"));
    assert_non_null(strstr(err.msg, "node 'nope': ttl of an unknown node"));
    sl_topo_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_count_and_sum_follow_changed_rows, et_setup, et_teardown),
        cmocka_unit_test(test_build_refuses_what_cannot_subtract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
