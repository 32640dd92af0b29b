/* Stream-stream windowed joins through the test driver, with hand-computed
 * outputs: inner, left and outer joins over in-order and out-of-order
 * records inside and outside the window, late records dead-lettered,
 * unmatched records emitted only when their window closes (never before a
 * partner could still come), duplicate timestamps, null keys, self-joins, and
 * buffers surviving a reopen only up to the last commit. */
#include "test_engine_join_util.h"

static const char *left_topic[] = {"L"};
static const char *right_topic[] = {"R"};

/* L join R within [t - before, t + after], sunk to "out". */
static void build_ss(et_fixture_t *f, sl_join_type_t type, int64_t before, int64_t after, int64_t grace)
{
    sl_join_spec_t s = {.kind = SL_JOIN_STREAM_STREAM, .type = type, .joiner = cat_joiner, .before_ms = before,
                        .after_ms = after, .grace_ms = grace, .left_store = "j-left", .right_store = "j-right"};
    assert_int_equal(sl_topo_new("ss", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "left", left_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "right", right_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j", "left", "right", &s), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "j", "out"), 0);
    et_build(f->topo);
    assert_int_equal(sl_topo_subtopology_count(f->topo), 1);
}

static void test_inner_join_matches_inside_the_window_in_and_out_of_order(void **state)
{
    et_fixture_t *f = *state;
    build_ss(f, SL_JOIN_INNER, 10, 10, 20);
    et_open(f);
    et_pipe(f, "L", "k", "a", 100);
    jt_none(f, "out");
    et_pipe(f, "R", "k", "x", 105); /* left partners in [95, 115] */
    jt_expect(f, "out", "k", "a+x", 105);
    et_pipe(f, "R", "k", "y", 120); /* [110, 130]: none */
    jt_none(f, "out");
    et_pipe(f, "L", "k", "b", 112); /* out of order by 8 (grace 20); right partners in [102, 122] */
    jt_expect(f, "out", "k", "b+x", 112);
    jt_expect(f, "out", "k", "b+y", 120);
    et_pipe(f, "L", "k", "d", 101); /* out of order by 19: [91, 111] */
    jt_expect(f, "out", "k", "d+x", 105);
    et_pipe(f, "R", "z", "w", 110); /* another key */
    jt_none(f, "out");
    et_pipe(f, "L", "k", "c", 99); /* 21 behind stream time 120: late */
    jt_none(f, "out");
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "ss-dlq", &r), 1);
    assert_true(et_bytes_eq(r.value, r.value_len, "c"));
    assert_true(et_bytes_eq(r.headers[1].value, r.headers[1].value_len, "j#left"));
    assert_non_null(memmem(r.headers[0].value, (size_t)r.headers[0].value_len, "late record", 11));
    assert_int_equal(jt_stats(f, "j#left").dead_lettered, 1);
    assert_int_equal(jt_stats(f, "j").records_in, 4); /* the join node counts outputs */
}

static void test_asymmetric_window(void **state)
{
    et_fixture_t *f = *state;
    build_ss(f, SL_JOIN_INNER, 0, 50, 100); /* right records at most 50 after the left one, never before */
    et_open(f);
    et_pipe(f, "R", "k", "early", 99);
    et_pipe(f, "L", "k", "a", 100); /* [100, 150]: "early" is before */
    jt_none(f, "out");
    et_pipe(f, "R", "k", "x", 150);
    jt_expect(f, "out", "k", "a+x", 150);
    et_pipe(f, "R", "k", "y", 151);
    jt_none(f, "out");
}

static void test_left_join_emits_unmatched_only_when_the_window_closes(void **state)
{
    et_fixture_t *f = *state;
    build_ss(f, SL_JOIN_LEFT, 10, 10, 20); /* a left record closes when stream time > t + 30 */
    et_open(f);
    et_pipe(f, "L", "k", "a", 100);
    et_pipe(f, "R", "k", "x", 105);
    jt_expect(f, "out", "k", "a+x", 105);
    et_pipe(f, "L", "k", "b", 200); /* a closes, but it matched */
    et_pipe(f, "L", "q", "c", 210);
    jt_none(f, "out");
    et_pipe(f, "R", "k", "y", 240); /* b closes unmatched; y has no left partner in [230, 250] */
    jt_expect(f, "out", "k", "b+null", 200);
    jt_none(f, "out");
    et_pipe(f, "L", "k", "e", 250); /* c closes; e matches y */
    jt_expect(f, "out", "q", "c+null", 210);
    jt_expect(f, "out", "k", "e+y", 250);
    et_pipe(f, "L", "k", "f", 300);
    et_pipe(f, "R", "k", "g", 295); /* out of order, within grace: f is matched before its window closes */
    jt_expect(f, "out", "k", "f+g", 300);
    et_pipe(f, "R", "k", "h", 290); /* out of order, still within grace: also matches f */
    jt_expect(f, "out", "k", "f+h", 300);
    et_pipe(f, "L", "k", "i", 400); /* e and f close matched: no "null" results for them */
    jt_none(f, "out");
    et_pipe(f, "R", "k", NULL, 401); /* null value: dropped */
    et_pipe(f, "R", NULL, "n", 402); /* null key on the inner side: dropped */
    et_pipe(f, "L", NULL, "m", 403); /* null key on the outer side: forwarded at once */
    jt_expect(f, "out", NULL, "m+null", 403);
    jt_none(f, "out");
    assert_int_equal(jt_stats(f, "j#right").dropped_null_value, 1);
    assert_int_equal(jt_stats(f, "j#right").dropped_null_key, 1);
    assert_int_equal(sl_driver_queued(f->drv, "ss-dlq"), 0);
}

/* No more records: advancing stream time (an idle source) closes the
 * windows, and the unmatched left record comes out then, once. */
static void test_left_join_unmatched_emitted_when_stream_time_advances(void **state)
{
    et_fixture_t *f = *state;
    build_ss(f, SL_JOIN_LEFT, 10, 10, 20); /* a left record closes when stream time > t + 30 */
    et_open(f);
    et_pipe(f, "L", "k", "a", 100);
    et_pipe(f, "L", "j", "b", 110);
    et_pipe(f, "R", "j", "y", 112);
    jt_expect(f, "out", "j", "b+y", 112);
    jt_none(f, "out");
    sl_err_t e = {0};
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 130, &e), 0);
    jt_none(f, "out");
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 131, &e), 0);
    jt_expect(f, "out", "k", "a+null", 100);
    jt_none(f, "out");
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 10000, &e), 0); /* b closes matched: nothing */
    jt_none(f, "out");
}

static void test_outer_join_emits_both_sides_unmatched(void **state)
{
    et_fixture_t *f = *state;
    build_ss(f, SL_JOIN_OUTER, 10, 10, 0);
    et_open(f);
    et_pipe(f, "L", "k", "a", 100);
    jt_none(f, "out");
    et_pipe(f, "R", "k", "x", 200); /* a closed at 111: unmatched */
    jt_expect(f, "out", "k", "a+null", 100);
    jt_none(f, "out");
    et_pipe(f, "L", "k", "b", 205);
    jt_expect(f, "out", "k", "b+x", 205);
    et_pipe(f, "R", "k", "y", 300); /* b and x close matched */
    jt_none(f, "out");
    et_pipe(f, "L", "j", "c", 400); /* y closes unmatched */
    jt_expect(f, "out", "k", "null+y", 300);
    jt_none(f, "out");
    et_pipe(f, "L", "k", "d", 400); /* two records with one key and time */
    et_pipe(f, "L", "k", "e", 400);
    et_pipe(f, "R", "k", "w", 405);
    jt_expect(f, "out", "k", "d+w", 405);
    jt_expect(f, "out", "k", "e+w", 405);
    et_pipe(f, "R", NULL, "z", 405); /* null key, outer: forwarded at once */
    jt_expect(f, "out", NULL, "null+z", 405);
    et_pipe(f, "R", "k", "late", 399); /* grace 0: anything behind stream time is late */
    jt_none(f, "out");
    assert_int_equal(jt_stats(f, "j#right").dead_lettered, 1);
    et_pipe(f, "R", "end", "v", 1000); /* c closes unmatched; d, e, w closed matched */
    jt_expect(f, "out", "j", "c+null", 400);
    jt_none(f, "out");
}

static void test_buffers_survive_reopen_after_commit_only(void **state)
{
    et_fixture_t *f = *state;
    build_ss(f, SL_JOIN_LEFT, 10, 10, 50);
    et_open(f);
    et_pipe(f, "L", "k", "a", 100);
    et_commit(f);
    et_pipe(f, "L", "k", "b", 101); /* never committed */
    et_reopen(f);
    et_pipe(f, "R", "k", "x", 105);
    jt_expect(f, "out", "k", "a+x", 105);
    jt_none(f, "out");
    et_pipe(f, "L", "k", "c", 120);
    et_commit(f);
    et_reopen(f);
    assert_int_equal(sl_driver_stream_time(f->drv, "j"), 120);
    et_pipe(f, "L", "q", "d", 300); /* c closes unmatched after the reopen; a closes matched */
    jt_expect(f, "out", "k", "c+null", 120);
    jt_none(f, "out");
}

static void test_self_join_pairs_every_record_with_every_other(void **state)
{
    et_fixture_t *f = *state;
    sl_join_spec_t s = {.kind = SL_JOIN_STREAM_STREAM, .type = SL_JOIN_INNER, .joiner = cat_joiner, .before_ms = 10,
                        .after_ms = 10, .left_store = "self-l", .right_store = "self-r"};
    assert_int_equal(sl_topo_new("self", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "left", left_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_join(f->topo, "j", "left", "left", &s), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "j", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "L", "k", "a", 100);
    jt_expect(f, "out", "k", "a+a", 100);
    jt_none(f, "out");
    et_pipe(f, "L", "k", "b", 105);
    jt_expect(f, "out", "k", "b+a", 105); /* b as the left record */
    jt_expect(f, "out", "k", "a+b", 105); /* b as the right record */
    jt_expect(f, "out", "k", "b+b", 105);
    jt_none(f, "out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_inner_join_matches_inside_the_window_in_and_out_of_order, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_asymmetric_window, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_left_join_emits_unmatched_only_when_the_window_closes, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_left_join_unmatched_emitted_when_stream_time_advances, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_outer_join_emits_both_sides_unmatched, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_buffers_survive_reopen_after_commit_only, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_self_join_pairs_every_record_with_every_other, et_setup, et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
