/* The stateless operators through the test driver: map, filter, flat_map,
 * branch, merge, select_key and peek, each checked on what reaches the sink;
 * depth-first order; failing callbacks and bad timestamps going to the
 * dead-letter topic with the reason; empty input; stream time. */
#include <ctype.h>

#include "test_engine_util.h"

static const char *in_topic[] = {"in"};

/* value -> upper case, key unchanged */
static int upper(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *s, sl_err_t *err)
{
    if (in->value_len < 0)
        return 0;
    for (int32_t i = 0; i < in->value_len; i++) {
        uint8_t c = (uint8_t)toupper(in->value[i]);
        sl_buf_append(&s->value, &c, 1);
    }
    out->value = s->value.data;
    return 0;
}

/* keep values not starting with '#'; fail on "boom" */
static int not_comment(void *arg, const sl_rec_t *rec, sl_err_t *err)
{
    if (et_bytes_eq(rec->value, rec->value_len, "boom"))
        return sl_err_set(err, -1, "boom is not allowed");
    return rec->value_len > 0 && rec->value[0] != '#';
}

/* branch 0: digits first; branch 1: everything; nothing for empty values */
static int route(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err)
{
    if (in->value_len <= 0)
        return 0;
    int rc = 0;
    if (isdigit(in->value[0]))
        rc = sl_emit_to(out, 0, in);
    return rc ? rc : sl_emit_to(out, 1, in);
}

static int value_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    if (rec->value_len < 0)
        return 0;
    sl_buf_append(key, rec->value, (size_t)rec->value_len);
    return 1;
}

typedef struct peeked {
    int n;
    char last[32];
} peeked_t;

static void remember(void *arg, const sl_rec_t *rec)
{
    peeked_t *p = arg;
    p->n++;
    snprintf(p->last, sizeof p->last, "%.*s", rec->value_len, (const char *)rec->value);
}

static void test_map_filter_chain_reaches_sink_in_order(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("app", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_filter(f->topo, "no-comments", "src", not_comment, NULL), 0);
    assert_int_equal(sl_topo_add_map(f->topo, "up", "no-comments", upper, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "up", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "in", "k1", "hello", 1);
    et_pipe(f, "in", "k2", "#skip", 2);
    et_pipe(f, "in", "k3", "world", 3);
    assert_int_equal(sl_driver_queued(f->drv, "out"), 2);
    et_expect(f, "out", "k1", "HELLO");
    et_expect(f, "out", "k3", "WORLD");
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "out", &r), 0);
    sl_op_stats_t st;
    assert_int_equal(sl_driver_node_stats(f->drv, "no-comments", &st), 0);
    assert_int_equal(st.records_in, 3);
    assert_int_equal(sl_driver_node_stats(f->drv, "up", &st), 0);
    assert_int_equal(st.records_in, 2);
    assert_int_equal(sl_driver_node_stats(f->drv, "ghost", &st), SL_E_NOTFOUND);
}

static void test_flat_map_emits_each_word_depth_first(void **state)
{
    et_fixture_t *f = *state;
    peeked_t pk = {0};
    assert_int_equal(sl_topo_new("app", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_flat_map(f->topo, "words", "src", et_split, NULL), 0);
    assert_int_equal(sl_topo_add_peek(f->topo, "look", "words", remember, &pk), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "look", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "in", "line1", "a  bb ccc", 10);
    et_pipe(f, "in", "line2", "", 11);
    et_expect(f, "out", "line1", "a");
    et_expect(f, "out", "line1", "bb");
    et_expect(f, "out", "line1", "ccc");
    assert_int_equal(sl_driver_queued(f->drv, "out"), 0);
    assert_int_equal(pk.n, 3);
    assert_string_equal(pk.last, "ccc");
}

static void test_branch_routes_to_named_outputs_and_merge_joins_them(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("app", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    const char *outs[] = {"digits", "all"};
    assert_int_equal(sl_topo_add_branch(f->topo, "route", "src", route, NULL, outs, 2), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "digits-out", "digits", "digits"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "all-out", "all", "all"), 0);
    const char *both[] = {"digits", "all"};
    assert_int_equal(sl_topo_add_merge(f->topo, "both", both, 2), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "both-out", "both", "both"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "in", "a", "1x", 1);
    et_pipe(f, "in", "b", "yy", 2);
    et_pipe(f, "in", "c", "", 3);
    et_expect(f, "digits", "a", "1x");
    assert_int_equal(sl_driver_queued(f->drv, "digits"), 0);
    et_expect(f, "all", "a", "1x");
    et_expect(f, "all", "b", "yy");
    /* merge sees "1x" twice (once per branch), in depth-first order */
    et_expect(f, "both", "a", "1x");
    et_expect(f, "both", "a", "1x");
    et_expect(f, "both", "b", "yy");
    assert_int_equal(sl_driver_queued(f->drv, "both"), 0);
}

static void test_select_key_rekeys_and_keeps_value(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("app", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_select_key(f->topo, "by-value", "src", value_key, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "by-value", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "in", "old", "new", 5);
    et_pipe(f, "in", "old", NULL, 6); /* null key out: select_key keeps it */
    et_expect(f, "out", "new", "new");
    et_expect(f, "out", NULL, NULL);
}

static void test_failures_go_to_dead_letter_topic_with_reason(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("app", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_filter(f->topo, "check", "src", not_comment, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "check", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "in", "k", "boom", 1);
    et_pipe(f, "in", "k", "late", -5);
    et_pipe(f, "in", "k", "fine", 2);
    et_expect(f, "out", "k", "fine");
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "app-dlq", &r), 1);
    assert_true(et_bytes_eq(r.value, r.value_len, "boom"));
    assert_int_equal(r.header_count, 2);
    assert_true(et_bytes_eq(r.headers[0].value, r.headers[0].value_len, "boom is not allowed"));
    assert_true(et_bytes_eq(r.headers[1].value, r.headers[1].value_len, "check"));
    assert_int_equal(sl_driver_read(f->drv, "app-dlq", &r), 1);
    assert_true(et_bytes_eq(r.value, r.value_len, "late"));
    assert_non_null(memmem(r.headers[0].value, (size_t)r.headers[0].value_len, "invalid timestamp -5", 20));
    assert_true(et_bytes_eq(r.headers[1].value, r.headers[1].value_len, "src"));
    sl_op_stats_t st;
    sl_driver_stats(f->drv, &st);
    assert_int_equal(st.dead_lettered, 2);
    /* a topic nobody reads is an error, not a silent drop */
    sl_err_t err = {0};
    assert_int_equal(sl_driver_pipe(f->drv, "nope", "k", 1, "v", 1, 1, &err), SL_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
}

static void test_empty_input_produces_nothing_and_stream_time_tracks_max(void **state)
{
    et_fixture_t *f = *state;
    assert_int_equal(sl_topo_new("app", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "src", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_commit(f);
    assert_int_equal(sl_driver_queued(f->drv, "out"), 0);
    assert_int_equal(sl_driver_stream_time(f->drv, "out"), -1);
    et_pipe(f, "in", "a", "1", 100);
    et_pipe(f, "in", "b", "2", 50); /* out of order: stream time stays */
    assert_int_equal(sl_driver_stream_time(f->drv, "src"), 100);
    assert_int_equal(sl_driver_input_offset(f->drv, "in"), 2);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "out", &r), 1);
    assert_int_equal(r.timestamp, 100);
    assert_int_equal(sl_driver_read(f->drv, "out", &r), 1);
    assert_int_equal(r.timestamp, 50);
}

static int ts_from_value(void *arg, const sl_rec_t *rec, int64_t *ts, sl_err_t *err)
{
    char buf[32];
    if (rec->value_len <= 0 || rec->value_len >= (int32_t)sizeof buf)
        return sl_err_set(err, -1, "no timestamp in the value");
    memcpy(buf, rec->value, (size_t)rec->value_len);
    buf[rec->value_len] = '\0';
    *ts = strtoll(buf, NULL, 10);
    return 0;
}

static void test_timestamp_taken_from_value(void **state)
{
    et_fixture_t *f = *state;
    sl_source_opts_t o = {ts_from_value, NULL};
    assert_int_equal(sl_topo_new("app", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, &o), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "src", "out"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "in", "a", "1234", 1);
    et_pipe(f, "in", "b", "", 1);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "out", &r), 1);
    assert_int_equal(r.timestamp, 1234);
    assert_int_equal(sl_driver_stream_time(f->drv, "src"), 1234);
    assert_int_equal(sl_driver_queued(f->drv, "app-dlq"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_filter_chain_reaches_sink_in_order, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_flat_map_emits_each_word_depth_first, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_branch_routes_to_named_outputs_and_merge_joins_them, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_select_key_rekeys_and_keeps_value, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_failures_go_to_dead_letter_topic_with_reason, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_empty_input_produces_nothing_and_stream_time_tracks_max, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_taken_from_value, et_setup, et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
