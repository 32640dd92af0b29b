/* Grouped aggregations and tables through the test driver: word count with
 * hand-computed outputs (coalesced at commit, and every update), sum / min /
 * max / avg, a generic aggregate and reduce, null keys and values dropped and
 * counted, tables with tombstones, and state that survives a close/reopen only
 * up to the last commit. */
#include <math.h>

#include "test_engine_util.h"

static const char *lines_topic[] = {"lines"};
static const char *nums_topic[] = {"nums"};

/* group by the word (the value); "-" means "no key" */
static int word_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    if (et_bytes_eq(rec->value, rec->value_len, "-"))
        return 0;
    sl_buf_append(key, rec->value, (size_t)rec->value_len);
    return 1;
}

static void build_wordcount(et_fixture_t *f)
{
    assert_int_equal(sl_topo_new("wc", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "lines", lines_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_flat_map(f->topo, "words", "lines", et_split, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "by-word", "words", word_key, NULL), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "count", "by-word", "word-counts"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "count", "counts"), 0);
    et_build(f->topo);
}

static int64_t store_int(et_fixture_t *f, const char *store, const char *key)
{
    bool fl;
    double v = et_store_num(f, store, key, &fl);
    assert_false(fl);
    return (int64_t)v;
}

static void test_word_count_coalesces_updates_until_commit(void **state)
{
    et_fixture_t *f = *state;
    build_wordcount(f);
    et_open(f);
    et_pipe(f, "lines", "l1", "hello world", 1);
    et_pipe(f, "lines", "l2", "hello sluice hello", 2);
    /* counted already (read-your-writes), forwarded only at the flush */
    assert_int_equal(store_int(f, "word-counts", "hello"), 3);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_commit(f);
    /* one update per key, in key order, stamped with the stream time */
    et_expect_int(f, "counts", "hello", 3);
    et_expect_int(f, "counts", "sluice", 1);
    et_expect_int(f, "counts", "world", 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe(f, "lines", "l3", "world", 7);
    et_commit(f);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "counts", &r), 1);
    assert_int_equal(r.timestamp, 7);
    assert_true(et_bytes_eq(r.key, r.key_len, "world"));
    uint64_t n;
    assert_int_equal(sl_driver_store_count(f->drv, "word-counts", &n), 0);
    assert_int_equal(n, 3);
}

/* Many keys (more than count's counter table holds: it is written out and
 * emptied when full), short and long (over its 40-byte key limit: the store
 * path), counted across commits and a reopen: the store, the forwarded
 * updates and the state after the reopen all hold the exact counts. */
#define MK_KEYS 50000
#define MK_REC 150000

static void mk_key(long i, char *k, size_t cap)
{
    long id = (i * 7919) % MK_KEYS;
    if (id % 10 == 0)
        snprintf(k, cap, "a-key-longer-than-forty-bytes-so-it-takes-the-store-path-%ld", id);
    else
        snprintf(k, cap, "k%ld", id);
}

static void test_count_over_more_keys_than_its_table_holds(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("mk", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "lines", lines_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "by-value", "lines", word_key, NULL), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "count", "by-value", "mk-counts"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "count", "counts"), 0);
    et_build(f->topo);
    et_open(f);
    int64_t *want = calloc(MK_KEYS, sizeof *want), *got = calloc(MK_KEYS, sizeof *got);
    char k[128];
    for (long i = 0; i < MK_REC; i++) {
        mk_key(i, k, sizeof k);
        et_pipe(f, "lines", "x", k, i);
        want[(i * 7919) % MK_KEYS]++;
        if (i == MK_REC / 3) {
            et_commit(f);
            et_reopen(f); /* uncommitted counts are gone; the committed ones come back from the store */
        }
    }
    et_commit(f);
    /* the latest forwarded value of each key is its count */
    sl_rec_t r;
    while (sl_driver_read(f->drv, "counts", &r) == 1) {
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)r.key_len, (const char *)r.key);
        const char *digits = strrchr(key, key[0] == 'k' ? 'k' : '-') + 1;
        bool fl;
        got[atol(digits)] = (int64_t)et_num(r.value, (size_t)r.value_len, &fl);
    }
    for (long id = 0; id < MK_KEYS; id++) {
        if (got[id] != want[id])
            fail_msg("key %ld: forwarded %lld, counted %lld", id, (long long)got[id], (long long)want[id]);
    }
    for (long i = 0; i < MK_KEYS; i += 997) { /* mk_key(i) is key (i * 7919) % MK_KEYS */
        mk_key(i, k, sizeof k);
        assert_int_equal(store_int(f, "mk-counts", k), want[(i * 7919) % MK_KEYS]);
    }
    free(want);
    free(got);
}

static void test_word_count_every_record_shows_each_update(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    build_wordcount(f);
    et_open(f);
    et_pipe(f, "lines", "l1", "hello world", 1);
    et_pipe(f, "lines", "l2", "hello sluice hello", 2);
    et_expect_int(f, "counts", "hello", 1);
    et_expect_int(f, "counts", "world", 1);
    et_expect_int(f, "counts", "hello", 2);
    et_expect_int(f, "counts", "sluice", 1);
    et_expect_int(f, "counts", "hello", 3);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    sl_op_stats_t st;
    assert_int_equal(sl_driver_node_stats(f->drv, "count", &st), 0);
    assert_int_equal(st.records_in, 5);
    assert_int_equal(st.updates_forwarded, 5);
}

static void test_null_grouping_keys_are_dropped_and_counted(void **state)
{
    et_fixture_t *f = *state;
    build_wordcount(f);
    et_open(f);
    et_pipe(f, "lines", "l1", "a - b - -", 1);
    et_pipe(f, "lines", "l2", NULL, 2); /* null value: no words at all */
    et_commit(f);
    et_expect_int(f, "counts", "a", 1);
    et_expect_int(f, "counts", "b", 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    sl_op_stats_t st;
    assert_int_equal(sl_driver_node_stats(f->drv, "by-word", &st), 0);
    assert_int_equal(st.dropped_null_key, 3);
    assert_int_equal(sl_driver_queued(f->drv, "wc-dlq"), 0);
}

/* Forwarding nodes in a row (the source, a group_by of the existing key, a
 * window spec) are passed over without running, yet each counts what went
 * through it, and the group_by drops what has no key. */
static void test_forwarding_nodes_count_what_goes_through(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 1000, .emit = SL_WINDOW_EMIT_CHANGES};
    assert_int_equal(sl_topo_new("fw", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "lines", lines_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "by-key", "lines", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "second", "by-key", &w), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "count", "second", "counts"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "count", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "lines", "a", "1", 10);
    et_pipe(f, "lines", NULL, "2", 20);
    et_pipe(f, "lines", "a", "3", 30);
    et_pipe(f, "lines", NULL, "4", 40);
    et_pipe(f, "lines", "b", "5", 50);
    const char *nodes[] = {"lines", "by-key", "second", "count"};
    const uint64_t in[] = {5, 5, 3, 3}, null_keys[] = {0, 2, 0, 0};
    for (int i = 0; i < 4; i++) {
        sl_op_stats_t st;
        assert_int_equal(sl_driver_node_stats(f->drv, nodes[i], &st), 0);
        assert_int_equal(st.records_in, in[i]);
        assert_int_equal(st.dropped_null_key, null_keys[i]);
    }
}

static void test_state_survives_reopen_after_commit_only(void **state)
{
    et_fixture_t *f = *state;
    build_wordcount(f);
    et_open(f);
    et_pipe(f, "lines", "l1", "x y x", 10);
    et_commit(f);
    et_pipe(f, "lines", "l2", "x z", 20); /* never committed */
    assert_int_equal(store_int(f, "word-counts", "x"), 3);
    et_reopen(f);
    assert_int_equal(store_int(f, "word-counts", "x"), 2);
    assert_int_equal(store_int(f, "word-counts", "y"), 1);
    sl_buf_t b;
    sl_buf_init(&b);
    assert_int_equal(sl_driver_store_get(f->drv, "word-counts", "z", 1, &b), SL_E_NOTFOUND);
    assert_int_equal(sl_driver_input_offset(f->drv, "lines"), 1);
    assert_int_equal(sl_driver_stream_time(f->drv, "lines"), 10);
    /* processing goes on from the committed state */
    et_pipe(f, "lines", "l2", "x z", 20);
    et_commit(f);
    et_expect_int(f, "counts", "x", 3);
    et_expect_int(f, "counts", "z", 1);
    et_reopen(f);
    assert_int_equal(store_int(f, "word-counts", "x"), 3);
    assert_int_equal(sl_driver_input_offset(f->drv, "lines"), 2);
    sl_buf_free(&b);
}

static void test_commit_interval_commits_on_wall_clock(void **state)
{
    et_fixture_t *f = *state;
    f->opts.commit_interval_ms = 1000;
    build_wordcount(f);
    et_open(f);
    et_pipe(f, "lines", "l1", "tick", 1);
    sl_err_t err = {0};
    assert_int_equal(sl_driver_advance_time(f->drv, 999, &err), 0);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_advance_time(f->drv, 1, &err), 0);
    assert_int_equal(sl_driver_wall_time(f->drv), 1000);
    et_expect_int(f, "counts", "tick", 1);
    et_reopen(f);
    assert_int_equal(store_int(f, "word-counts", "tick"), 1);
}

/* ---- numeric aggregations ----------------------------------------------------------------------- */

static void build_numeric(et_fixture_t *f)
{
    assert_int_equal(sl_topo_new("num", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "nums", nums_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "by-key", "nums", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_sum(f->topo, "sum", "by-key", "sums", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_min(f->topo, "min", "by-key", "mins", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_max(f->topo, "max", "by-key", "maxs", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_avg(f->topo, "avg", "by-key", "avgs", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "avg-out", "avg", "avgs"), 0);
    et_build(f->topo);
    assert_int_equal(sl_topo_subtopology_count(f->topo), 1); /* group by the source key: no repartition */
}

static void test_sum_min_max_avg(void **state)
{
    et_fixture_t *f = *state;
    build_numeric(f);
    et_open(f);
    et_pipe_num(f, "nums", "a", 5, false, 1);
    et_pipe_num(f, "nums", "a", -3, false, 2);
    et_pipe_num(f, "nums", "a", 10, false, 3);
    et_pipe_num(f, "nums", "b", 2.5, true, 4);
    et_pipe_num(f, "nums", "b", 1, false, 5);
    et_pipe(f, "nums", "b", NULL, 6);          /* null value: ignored, counted */
    et_pipe(f, "nums", NULL, "x", 6);          /* null key: dropped, counted */
    et_pipe(f, "nums", "c", "not msgpack", 7); /* dead-lettered by the first aggregation */
    bool fl;
    assert_true(et_store_num(f, "sums", "a", &fl) == 12 && !fl);
    assert_true(et_store_num(f, "mins", "a", &fl) == -3 && !fl);
    assert_true(et_store_num(f, "maxs", "a", &fl) == 10 && !fl);
    assert_true(et_store_num(f, "sums", "b", &fl) == 3.5 && fl);
    assert_true(et_store_num(f, "mins", "b", &fl) == 1 && !fl);
    assert_true(et_store_num(f, "maxs", "b", &fl) == 2.5 && fl);
    sl_buf_t b;
    sl_buf_init(&b);
    assert_int_equal(sl_driver_store_get(f->drv, "sums", "c", 1, &b), SL_E_NOTFOUND);
    sl_buf_free(&b);
    et_commit(f);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "avgs", &r), 1);
    assert_true(et_bytes_eq(r.key, r.key_len, "a"));
    double v = et_num(r.value, (size_t)r.value_len, &fl);
    assert_true(fl && fabs(v - 4.0) < 1e-12);
    assert_int_equal(sl_driver_read(f->drv, "avgs", &r), 1);
    v = et_num(r.value, (size_t)r.value_len, &fl);
    assert_true(fl && fabs(v - 1.75) < 1e-12);
    sl_op_stats_t st;
    assert_int_equal(sl_driver_node_stats(f->drv, "sum", &st), 0);
    assert_int_equal(st.dropped_null_value, 1);
    assert_int_equal(st.dead_lettered, 1);
    assert_int_equal(sl_driver_node_stats(f->drv, "by-key", &st), 0);
    assert_int_equal(st.dropped_null_key, 1);
    assert_int_equal(sl_driver_queued(f->drv, "num-dlq"), 4); /* sum, min, max, avg each reject "c" */
}

static void test_sum_of_ints_becomes_float_on_overflow(void **state)
{
    et_fixture_t *f = *state;
    build_numeric(f);
    et_open(f);
    et_pipe_num(f, "nums", "big", 9e18, false, 1);
    et_pipe_num(f, "nums", "big", 9e18, false, 2);
    bool fl;
    assert_true(et_store_num(f, "sums", "big", &fl) == 1.8e19 && fl);
}

/* ---- generic aggregate and reduce ------------------------------------------------------------------ */

/* aggregate: the concatenation of values, "[" first */
static int agg_init(void *arg, sl_buf_t *out, sl_err_t *err) { return sl_buf_append(out, "[", 1); }
static int agg_add(void *arg, const sl_rec_t *rec, const uint8_t *agg, size_t agg_len, sl_buf_t *out, sl_err_t *err)
{
    if (et_bytes_eq(rec->value, rec->value_len, "bad"))
        return -1;
    sl_buf_append(out, agg, agg_len);
    return sl_buf_append(out, rec->value, (size_t)rec->value_len);
}

/* reduce: keep the longer value */
static int longest(void *arg, const uint8_t *acc, size_t acc_len, const sl_rec_t *rec, sl_buf_t *out, sl_err_t *err)
{
    if ((size_t)rec->value_len > acc_len)
        return sl_buf_append(out, rec->value, (size_t)rec->value_len);
    return sl_buf_append(out, acc, acc_len);
}

static void test_generic_aggregate_and_reduce(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    assert_int_equal(sl_topo_new("gen", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "in", lines_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "in", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_aggregate(f->topo, "concat", "g", "concat-store", agg_init, agg_add, NULL), 0);
    assert_int_equal(sl_topo_add_reduce(f->topo, "longest", "g", "longest-store", longest, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "concat-out", "concat", "concat"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "longest-out", "longest", "longest"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "lines", "k", "ab", 1);
    et_pipe(f, "lines", "k", "c", 2);
    et_pipe(f, "lines", "k", "bad", 3);
    et_pipe(f, "lines", "j", "xyz", 4);
    et_expect(f, "concat", "k", "[ab");
    et_expect(f, "concat", "k", "[abc");
    et_expect(f, "concat", "j", "[xyz");
    assert_int_equal(sl_driver_queued(f->drv, "concat"), 0);
    et_expect(f, "longest", "k", "ab");
    et_expect(f, "longest", "k", "ab");
    et_expect(f, "longest", "k", "bad");
    et_expect(f, "longest", "j", "xyz");
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "gen-dlq", &r), 1);
    assert_true(et_bytes_eq(r.headers[1].value, r.headers[1].value_len, "concat"));
    assert_non_null(memmem(r.headers[0].value, (size_t)r.headers[0].value_len, "add function failed", 19));
}

/* ---- tables -------------------------------------------------------------------------------------------- */

static void test_table_keeps_latest_value_and_tombstones_delete(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("tbl", &f->topo), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "users", "users-topic", "users-store", NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "changes", "users", "user-changes"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "users-topic", "u1", "alice", 1);
    et_pipe(f, "users-topic", "u2", "bob", 2);
    et_pipe(f, "users-topic", "u1", "alice2", 3);
    et_pipe(f, "users-topic", NULL, "nobody", 4);
    et_commit(f);
    et_expect(f, "user-changes", "u1", "alice2");
    et_expect(f, "user-changes", "u2", "bob");
    assert_int_equal(sl_driver_queued(f->drv, "user-changes"), 0);
    et_pipe(f, "users-topic", "u2", NULL, 5); /* tombstone */
    sl_buf_t b;
    sl_buf_init(&b);
    assert_int_equal(sl_driver_store_get(f->drv, "users-store", "u2", 2, &b), SL_E_NOTFOUND);
    et_commit(f);
    et_expect(f, "user-changes", "u2", NULL);
    et_reopen(f);
    assert_int_equal(sl_driver_store_get(f->drv, "users-store", "u2", 2, &b), SL_E_NOTFOUND);
    assert_int_equal(sl_driver_store_get(f->drv, "users-store", "u1", 2, &b), 0);
    assert_true(et_bytes_eq(b.data, (int32_t)b.len, "alice2"));
    uint64_t n;
    assert_int_equal(sl_driver_store_count(f->drv, "users-store", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(sl_driver_store_count(f->drv, "no-such-store", &n), SL_E_NOTFOUND);
    sl_buf_free(&b);
}

static void test_table_null_key_counted(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("tbl", &f->topo), 0);
    assert_int_equal(sl_topo_add_table(f->topo, "users", "users-topic", "users-store", NULL), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "users-topic", NULL, "x", 1);
    sl_op_stats_t st;
    assert_int_equal(sl_driver_node_stats(f->drv, "users", &st), 0);
    assert_int_equal(st.dropped_null_key, 1);
    assert_int_equal(st.records_in, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_word_count_coalesces_updates_until_commit, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_word_count_every_record_shows_each_update, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_count_over_more_keys_than_its_table_holds, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_null_grouping_keys_are_dropped_and_counted, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_state_survives_reopen_after_commit_only, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_commit_interval_commits_on_wall_clock, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_sum_min_max_avg, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_sum_of_ints_becomes_float_on_overflow, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_generic_aggregate_and_reduce, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_table_keeps_latest_value_and_tombstones_delete, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_table_null_key_counted, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_forwarding_nodes_count_what_goes_through, et_setup, et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
