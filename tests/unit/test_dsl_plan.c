/* The DSL planner through the engine's test driver: the DESIGN word-count job
 * compiles to a topology that builds and counts words (JSON output with the
 * group key merged in), and the windowed, joined page-view job plans, builds,
 * and emits one final row per region and minute. */
#include "test_engine_util.h"

#include "dsl/dsl.h"

static const char *wordcount =
    "# word count\n"
    "stream lines from topic \"text-lines\" format string;\n"
    "table word_counts = lines\n"
    "  | flat_map split(lower(value), \" \") as word\n"
    "  | filter word != \"\"\n"
    "  | group by word\n"
    "  | count;\n"
    "output word_counts to topic \"word-counts\" format json;\n";

static const char *views =
    "stream clicks from topic \"clicks\" format json key user timestamp ts;\n"
    "table users from topic \"users\" format json;\n"
    "table views = clicks\n"
    "  | join users on clicks.user = users.key\n"
    "  | group by users.region\n"
    "  | window tumbling 1 minute grace 10 seconds\n"
    "  | aggregate { views: count(), last_page: last(page), max_ts: max(ts) }\n"
    "  | emit final;\n"
    "output views to topic \"views-by-region\";\n";

static sl_dsl_job_t *compile(const char *src)
{
    sl_buf_t diag;
    sl_buf_init(&diag);
    sl_err_t err = {0};
    sl_dsl_job_t *job = NULL;
    int rc = sl_dsl_compile("job.sl", src, &diag, &job, &err);
    if (rc)
        fail_msg("compile: %d %s\n%.*s", rc, err.msg, (int)diag.len, (const char *)diag.data);
    sl_buf_free(&diag);
    return job;
}

static void test_word_count_counts_words_with_json_output(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile(wordcount);
    f->topo = NULL; /* owned by the job */
    f->opts.flush = SL_DRIVER_FLUSH_ON_COMMIT;
    sl_err_t err = {0};
    assert_int_equal(sl_driver_new(sl_dsl_job_topo(job), f->dir, &f->opts, &f->drv, &err), 0);
    et_pipe(f, "text-lines", NULL, "Hello world", 1000);
    et_pipe(f, "text-lines", NULL, "hello  HELLO there", 2000);
    et_commit(f);
    /* flushed in key order: hello, there, world */
    et_expect(f, "word-counts", "hello", "{\"word\":\"hello\",\"count\":3}");
    et_expect(f, "word-counts", "there", "{\"word\":\"there\",\"count\":1}");
    et_expect(f, "word-counts", "world", "{\"word\":\"world\",\"count\":1}");
    assert_int_equal(sl_driver_queued(f->drv, "word-counts"), 0);
    /* the table is queryable under its DSL name */
    sl_buf_t v;
    sl_buf_init(&v);
    assert_int_equal(sl_driver_store_get(f->drv, "word_counts", "hello", 5, &v), 0);
    bool fl;
    assert_true(et_num(v.data, v.len, &fl) == 3.0);
    sl_buf_free(&v);
    sl_driver_close(f->drv);
    f->drv = NULL;
    sl_dsl_job_free(job);
}

static void test_explain_names_nodes_stores_and_outputs(void **state)
{
    sl_dsl_job_t *job = compile(wordcount);
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_dsl_explain(job, &out), 0);
    sl_buf_append(&out, "", 1);
    const char *s = (const char *)out.data;
    assert_non_null(strstr(s, "stream lines: topic \"text-lines\", format string"));
    assert_non_null(strstr(s, "node word_counts.1.flat_map"));
    assert_non_null(strstr(s, "count      node word_counts (store word_counts)"));
    assert_non_null(strstr(s, "output word_counts: topic \"word-counts\", format json"));
    assert_non_null(strstr(s, "topology:"));
    sl_buf_free(&out);
    sl_dsl_job_free(job);
}

static void test_windowed_join_job_emits_final_rows(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile(views);
    sl_err_t err = {0};
    assert_int_equal(sl_driver_new(sl_dsl_job_topo(job), f->dir, &f->opts, &f->drv, &err), 0);
    et_pipe(f, "users", "ann", "{\"region\":\"eu\"}", 0);
    et_pipe(f, "users", "bob", "{\"region\":\"us\"}", 0);
    et_commit(f);
    et_pipe(f, "clicks", "ann", "{\"user\":\"ann\",\"page\":\"/a\",\"ts\":1000}", 0);
    et_pipe(f, "clicks", "ann", "{\"user\":\"ann\",\"page\":\"/b\",\"ts\":2000}", 0);
    et_pipe(f, "clicks", "bob", "{\"user\":\"bob\",\"page\":\"/c\",\"ts\":3000}", 0);
    assert_int_equal(sl_driver_queued(f->drv, "views-by-region"), 0);
    /* stream time past 60 s + 10 s grace closes the first minute */
    et_pipe(f, "clicks", "bob", "{\"user\":\"bob\",\"page\":\"/d\",\"ts\":71000}", 0);
    et_expect(f, "views-by-region", "eu",
              "{\"region\":\"eu\",\"window_start\":0,\"window_end\":60000,\"views\":2,\"last_page\":\"/b\","
              "\"max_ts\":2000}");
    et_expect(f, "views-by-region", "us",
              "{\"region\":\"us\",\"window_start\":0,\"window_end\":60000,\"views\":1,\"last_page\":\"/c\","
              "\"max_ts\":3000}");
    sl_driver_close(f->drv);
    f->drv = NULL;
    sl_dsl_job_free(job);
}

static void test_bad_record_goes_to_dead_letter_topic(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile("stream s from topic \"in\" format json;\n"
                                "stream t = s | filter 10 / n > 1;\n"
                                "output t to topic \"out\";\n");
    sl_err_t err = {0};
    assert_int_equal(sl_driver_new(sl_dsl_job_topo(job), f->dir, &f->opts, &f->drv, &err), 0);
    et_pipe(f, "in", "k", "{\"n\":0}", 1);
    et_pipe(f, "in", "k", "not json", 2);
    et_pipe(f, "in", "k", "{\"n\":2}", 3);
    et_expect(f, "out", "k", "{\"n\":2}");
    assert_int_equal(sl_driver_queued(f->drv, "sluice-dlq"), 2);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "sluice-dlq", &r), 1);
    bool found = false;
    for (size_t i = 0; i < r.header_count; i++)
        if (r.headers[i].key_len == 8 && !memcmp(r.headers[i].key, "sl.error", 8)) {
            found = memmem(r.headers[i].value, (size_t)r.headers[i].value_len, "job.sl:2:26: division by zero", 29) != NULL;
            if (!found)
                fail_msg("sl.error: %.*s", r.headers[i].value_len, (const char *)r.headers[i].value);
        }
    assert_true(found);
    sl_driver_close(f->drv);
    f->drv = NULL;
    sl_dsl_job_free(job);
}

static void test_map_branch_merge_and_numeric_aggregations(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile(
        "stream orders from topic \"orders\" format json;\n"
        "stream extra from topic \"extra\" format json;\n"
        "stream priced = orders | map { id, region: lower(region), total: price * qty };\n"
        "stream split = priced | branch { big: total >= 100, small: true };\n"
        "stream extra_priced = extra | map { id, region, total };\n"
        "stream all_big = split.big | merge extra_priced;\n"
        "table revenue = all_big | group by region | sum total;\n"
        "table avg_small = split.small | group by region | avg total;\n"
        "stream ids = split.small | select_key id | map { label: concat(\"#\", id) };\n"
        "output revenue to topic \"revenue\";\n"
        "output avg_small to topic \"avg-small\";\n"
        "output ids to topic \"ids\" format string;\n");
    sl_err_t err = {0};
    assert_int_equal(sl_driver_new(sl_dsl_job_topo(job), f->dir, &f->opts, &f->drv, &err), 0);
    et_pipe(f, "orders", NULL, "{\"id\":\"o1\",\"region\":\"EU\",\"price\":50,\"qty\":3}", 1);
    et_pipe(f, "orders", NULL, "{\"id\":\"o2\",\"region\":\"EU\",\"price\":10,\"qty\":1}", 2);
    et_pipe(f, "orders", NULL, "{\"id\":\"o3\",\"region\":\"eu\",\"price\":2.5,\"qty\":2}", 3);
    et_pipe(f, "extra", NULL, "{\"id\":\"x1\",\"region\":\"eu\",\"total\":1000}", 4);
    et_commit(f);
    et_expect(f, "revenue", "eu", "{\"region\":\"eu\",\"sum\":1150}");
    et_expect(f, "avg-small", "eu", "{\"region\":\"eu\",\"avg\":7.5}");
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "ids", &r), 1);
    assert_true(et_bytes_eq(r.key, r.key_len, "o2"));
    assert_true(et_bytes_eq(r.value, r.value_len, "{\"label\":\"#o2\"}"));
    assert_int_equal(sl_driver_read(f->drv, "ids", &r), 1);
    assert_true(et_bytes_eq(r.key, r.key_len, "o3"));
    sl_driver_close(f->drv);
    f->drv = NULL;
    sl_dsl_job_free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_word_count_counts_words_with_json_output, et_setup, et_teardown),
        cmocka_unit_test(test_explain_names_nodes_stores_and_outputs),
        cmocka_unit_test_setup_teardown(test_windowed_join_job_emits_final_rows, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_bad_record_goes_to_dead_letter_topic, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_map_branch_merge_and_numeric_aggregations, et_setup, et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
