/* DSL jobs over tables and re-keyed joins, run by the engine's test driver:
 * grouping a table (a changed row is taken out of its old group: count, sum,
 * avg, min, max, count_distinct stay exact), group keys rendered with their
 * JSON type, aggregating a windowed table's rows (the max count per window,
 * top N per window, exact when a window's counts change), a join after a
 * re-keying step (repartitioned), a stream-stream join with a grace, and the
 * application id prefixing internal topics. */
#include "test_engine_util.h"

#include "dsl/dsl.h"

static sl_dsl_job_t *compile_app(const char *src, const char *app)
{
    sl_buf_t diag;
    sl_buf_init(&diag);
    sl_err_t err = {0};
    sl_dsl_job_t *job = NULL;
    int rc = sl_dsl_compile_app("job.sl", src, app, &diag, &job, &err);
    if (rc)
        fail_msg("compile: %d %s\n%.*s", rc, err.msg, (int)diag.len, (const char *)diag.data);
    sl_buf_free(&diag);
    return job;
}

static void open_job(et_fixture_t *f, sl_dsl_job_t *job)
{
    sl_err_t err = {0};
    if (sl_driver_new(sl_dsl_job_topo(job), f->dir, &f->opts, &f->drv, &err) != 0)
        fail_msg("sl_driver_new: %s", err.msg);
}

static void close_job(et_fixture_t *f, sl_dsl_job_t *job)
{
    sl_driver_close(f->drv);
    f->drv = NULL;
    sl_dsl_job_free(job);
}

/* Read every queued record of topic; keep the last value of each key (a
 * table's changelog read as a table).  Returns the number of records read. */
#define MAXK 32
typedef struct last {
    char key[MAXK][128];
    char val[MAXK][512];
    int n;
} last_t;

static int drain(et_fixture_t *f, const char *topic, last_t *l)
{
    sl_rec_t r;
    int n = 0;
    while (sl_driver_read(f->drv, topic, &r) == 1) {
        n++;
        char k[128], v[512];
        snprintf(k, sizeof k, "%.*s", r.key_len < 0 ? 0 : r.key_len, (const char *)r.key);
        snprintf(v, sizeof v, "%.*s", r.value_len < 0 ? 4 : r.value_len, r.value_len < 0 ? "null" : (const char *)r.value);
        int i = 0;
        while (i < l->n && strcmp(l->key[i], k) != 0)
            i++;
        if (i == l->n) {
            assert_true(l->n < MAXK);
            l->n++;
            snprintf(l->key[i], sizeof l->key[i], "%s", k);
        }
        snprintf(l->val[i], sizeof l->val[i], "%s", v);
    }
    return n;
}

static void expect_last(const last_t *l, const char *key, const char *val)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->key[i], key) == 0) {
            if (strcmp(l->val[i], val) != 0)
                fail_msg("key %s: got %s, expected %s", key, l->val[i], val);
            return;
        }
    for (int i = 0; i < l->n; i++)
        fprintf(stderr, "  have %s = %s\n", l->key[i], l->val[i]);
    fail_msg("key %s: no record, expected %s", key, val);
}

static const char *by_region =
    "table users from topic \"users\" format json;\n"
    "table by_region = users\n"
    "  | group by region\n"
    "  | aggregate { n: count(), total: sum(age), oldest: max(age), youngest: min(age), mean: avg(age),\n"
    "                names: count_distinct(name) };\n"
    "output by_region to topic \"out\";\n";

static void test_grouped_table_takes_changed_rows_back(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile_app(by_region, NULL);
    open_job(f, job);
    et_pipe(f, "users", "ann", "{\"region\":\"eu\",\"age\":30,\"name\":\"ann\"}", 1);
    et_pipe(f, "users", "bob", "{\"region\":\"eu\",\"age\":40,\"name\":\"bob\"}", 2);
    et_pipe(f, "users", "cy", "{\"region\":\"us\",\"age\":20,\"name\":\"cy\"}", 3);
    et_commit(f);
    last_t l = {0};
    drain(f, "out", &l);
    expect_last(&l, "eu", "{\"region\":\"eu\",\"n\":2,\"total\":70,\"oldest\":40,\"youngest\":30,\"mean\":35.0,\"names\":2}");
    expect_last(&l, "us", "{\"region\":\"us\",\"n\":1,\"total\":20,\"oldest\":20,\"youngest\":20,\"mean\":20.0,\"names\":1}");
    /* bob moves to us and gets older: out of eu (his 40 goes: oldest is 30 again), into us */
    et_pipe(f, "users", "bob", "{\"region\":\"us\",\"age\":41,\"name\":\"bob\"}", 4);
    et_commit(f);
    drain(f, "out", &l);
    expect_last(&l, "eu", "{\"region\":\"eu\",\"n\":1,\"total\":30,\"oldest\":30,\"youngest\":30,\"mean\":30.0,\"names\":1}");
    expect_last(&l, "us", "{\"region\":\"us\",\"n\":2,\"total\":61,\"oldest\":41,\"youngest\":20,\"mean\":30.5,\"names\":2}");
    /* ann is deleted: eu is empty (count 0, no min / max / avg) */
    et_pipe(f, "users", "ann", NULL, 5);
    /* an update that changes nothing forwards nothing */
    et_pipe(f, "users", "cy", "{\"region\":\"us\",\"age\":20,\"name\":\"cy\"}", 6);
    et_commit(f);
    drain(f, "out", &l);
    expect_last(&l, "eu", "{\"region\":\"eu\",\"n\":0,\"total\":0,\"oldest\":null,\"youngest\":null,\"mean\":null,\"names\":0}");
    expect_last(&l, "us", "{\"region\":\"us\",\"n\":2,\"total\":61,\"oldest\":41,\"youngest\":20,\"mean\":30.5,\"names\":2}");
    /* the state survives a restart from the last commit */
    sl_driver_close(f->drv);
    f->drv = NULL;
    open_job(f, job);
    et_pipe(f, "users", "cy", "{\"region\":\"eu\",\"age\":22,\"name\":\"cy\"}", 7);
    et_commit(f);
    drain(f, "out", &l);
    expect_last(&l, "eu", "{\"region\":\"eu\",\"n\":1,\"total\":22,\"oldest\":22,\"youngest\":22,\"mean\":22.0,\"names\":1}");
    expect_last(&l, "us", "{\"region\":\"us\",\"n\":1,\"total\":41,\"oldest\":41,\"youngest\":41,\"mean\":41.0,\"names\":1}");
    close_job(f, job);
}

/* count / sum / avg steps over a grouped table use the engine's aggregations,
 * which subtract retractions too; group keys keep their JSON type. */
static void test_table_count_and_typed_group_keys(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile_app("table items from topic \"items\" format json;\n"
                                    "table per_cat = items | filter price > 0 | group by category | count;\n"
                                    "table spend = items | group by category | avg price;\n"
                                    "output per_cat to topic \"cats\";\n"
                                    "output spend to topic \"spend\";\n",
                                    NULL);
    open_job(f, job);
    et_pipe(f, "items", "a", "{\"category\":10,\"price\":5}", 1);
    et_pipe(f, "items", "b", "{\"category\":10,\"price\":7}", 1);
    et_pipe(f, "items", "c", "{\"category\":\"ten\",\"price\":1}", 1);
    et_pipe(f, "items", "d", "{\"category\":true,\"price\":1}", 1);
    et_commit(f);
    last_t l = {0}, s = {0};
    drain(f, "cats", &l);
    expect_last(&l, "10", "{\"category\":10,\"count\":2}");
    expect_last(&l, "ten", "{\"category\":\"ten\",\"count\":1}");
    expect_last(&l, "true", "{\"category\":true,\"count\":1}");
    drain(f, "spend", &s);
    expect_last(&s, "10", "{\"category\":10,\"avg\":6.0}");
    /* b moves to 11; a no longer passes the filter (its row is taken back) */
    et_pipe(f, "items", "b", "{\"category\":11,\"price\":7}", 2);
    et_pipe(f, "items", "a", "{\"category\":10,\"price\":0}", 2);
    et_commit(f);
    drain(f, "cats", &l);
    expect_last(&l, "10", "{\"category\":10,\"count\":0}");
    expect_last(&l, "11", "{\"category\":11,\"count\":1}");
    drain(f, "spend", &s);
    expect_last(&s, "10", "{\"category\":10,\"avg\":0.0}");
    expect_last(&s, "11", "{\"category\":11,\"avg\":7.0}");
    close_job(f, job);
}

/* Nexmark q5's shape: counts per auction per window, then per window the
 * auctions with the most bids; the window's counts change as bids arrive. */
static const char *hot =
    "stream bids from topic \"bids\" format json timestamp t;\n"
    "table counts = bids | group by auction | window tumbling 10 seconds grace 10 seconds | count;\n"
    "table hot = counts | group by window_start | aggregate { auctions: argmax(count, auction), best: max(count) };\n"
    "table top2 = counts | group by window_start, window_end | top 2 by count desc;\n"
    "output hot to topic \"hot\";\n"
    "output top2 to topic \"top2\";\n";

static void test_max_and_top_n_per_window_over_a_windowed_table(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile_app(hot, "q5test");
    open_job(f, job);
    et_pipe(f, "bids", "1", "{\"auction\":1,\"t\":1000}", 0);
    et_pipe(f, "bids", "1", "{\"auction\":1,\"t\":2000}", 0);
    et_pipe(f, "bids", "2", "{\"auction\":2,\"t\":3000}", 0);
    et_pipe(f, "bids", "3", "{\"auction\":3,\"t\":12000}", 0);
    et_commit(f);
    last_t h = {0}, t = {0};
    drain(f, "hot", &h);
    expect_last(&h, "0", "{\"window_start\":0,\"auctions\":[1],\"best\":2}");
    expect_last(&h, "10000", "{\"window_start\":10000,\"auctions\":[3],\"best\":1}");
    drain(f, "top2", &t);
    expect_last(&t, "[0,10000]",
                "{\"window_start\":0,\"window_end\":10000,\"top\":[{\"auction\":1,\"window_start\":0,"
                "\"window_end\":10000,\"count\":2},{\"auction\":2,\"window_start\":0,\"window_end\":10000,\"count\":1}]}");
    /* auction 2 overtakes 1 in window 0 (its old count 1 is taken back), then ties */
    et_pipe(f, "bids", "2", "{\"auction\":2,\"t\":4000}", 0);
    et_pipe(f, "bids", "2", "{\"auction\":2,\"t\":5000}", 0);
    et_commit(f);
    drain(f, "hot", &h);
    expect_last(&h, "0", "{\"window_start\":0,\"auctions\":[2],\"best\":3}");
    et_pipe(f, "bids", "1", "{\"auction\":1,\"t\":6000}", 0);
    et_pipe(f, "bids", "4", "{\"auction\":4,\"t\":6000}", 0);
    et_commit(f);
    drain(f, "hot", &h);
    expect_last(&h, "0", "{\"window_start\":0,\"auctions\":[2,1],\"best\":3}");
    drain(f, "top2", &t);
    expect_last(&t, "[0,10000]",
                "{\"window_start\":0,\"window_end\":10000,\"top\":[{\"auction\":2,\"window_start\":0,"
                "\"window_end\":10000,\"count\":3},{\"auction\":1,\"window_start\":0,\"window_end\":10000,\"count\":3}]}");
    /* the application id prefixes the internal topics */
    const sl_topo_t *topo = sl_dsl_job_topo(job);
    assert_true(sl_topo_repartition_count(topo) >= 2);
    for (size_t i = 0; i < sl_topo_repartition_count(topo); i++)
        assert_memory_equal(sl_topo_repartition_topic(topo, i), "q5test-", 7);
    close_job(f, job);
}

/* A join after select_key: the planner repartitions by the new key.  Nexmark
 * q3's shape (stream-table) and q8's (stream-stream within a bound, with a
 * grace for records that arrive late). */
static void test_join_after_rekey_and_stream_join_grace(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = compile_app(
        "stream auctions from topic \"a\" format json timestamp dateTime;\n"
        "table people from topic \"p\" format json;\n"
        "stream persons from topic \"p2\" format json timestamp dateTime;\n"
        "stream local = auctions | filter category = 10 | select_key seller\n"
        "  | join people on key = people.key | filter people.state in (\"OR\", \"CA\")\n"
        "  | map { name: people.name, id };\n"
        "stream fresh = auctions | select_key seller | join persons on key = persons.key within 10 seconds grace 5 seconds\n"
        "  | map { pid: persons.id, id };\n"
        "output local to topic \"local\";\n"
        "output fresh to topic \"fresh\";\n",
        NULL);
    open_job(f, job);
    et_pipe(f, "p", "7", "{\"name\":\"ann\",\"state\":\"OR\"}", 0);
    et_pipe(f, "p", "8", "{\"name\":\"bob\",\"state\":\"WA\"}", 0);
    et_commit(f);
    et_pipe(f, "a", "100", "{\"id\":100,\"seller\":7,\"category\":10,\"dateTime\":1000}", 0);
    et_pipe(f, "a", "101", "{\"id\":101,\"seller\":8,\"category\":10,\"dateTime\":2000}", 0);
    et_pipe(f, "a", "102", "{\"id\":102,\"seller\":7,\"category\":11,\"dateTime\":3000}", 0);
    et_expect(f, "local", "7", "{\"name\":\"ann\",\"id\":100}");
    assert_int_equal(sl_driver_queued(f->drv, "local"), 0);
    /* stream-stream: the person at 20 s is late for the auction at 3 s by more
     * than the bound, one at 9 s matches; a person 4 s behind stream time is
     * within the grace */
    et_pipe(f, "p2", "7", "{\"id\":7,\"dateTime\":9000}", 0);
    et_expect(f, "fresh", "7", "{\"pid\":7,\"id\":100}");
    et_expect(f, "fresh", "7", "{\"pid\":7,\"id\":102}");
    et_pipe(f, "a", "103", "{\"id\":103,\"seller\":9,\"category\":1,\"dateTime\":14000}", 0);
    et_pipe(f, "p2", "9", "{\"id\":9,\"dateTime\":10000}", 0);
    et_expect(f, "fresh", "9", "{\"pid\":9,\"id\":103}");
    /* 7 s behind stream time: past the grace, dead-lettered */
    et_pipe(f, "p2", "8", "{\"id\":8,\"dateTime\":7000}", 0);
    assert_int_equal(sl_driver_queued(f->drv, "fresh"), 0);
    assert_true(sl_driver_queued(f->drv, "sluice-dlq") >= 1);
    close_job(f, job);
}

/* Table-table joins (inner, left, outer; an update of either side looks up the
 * other, a delete removes the result) and two stream-table joins in one
 * pipeline. */
static void test_table_table_joins_and_two_joins_in_a_pipeline(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_dsl_job_t *job = compile_app(
        "table users from topic \"users\" format json;\n"
        "table plans from topic \"plans\" format json;\n"
        "stream clicks from topic \"clicks\" format json;\n"
        "table both = users | join plans on users.key = plans.key;\n"
        "table any = users | outer join plans on key = plans.key;\n"
        "stream enriched = clicks | join users on key = users.key | left join plans on key = plans.key\n"
        "  | map { page, name: users.name, tier: plans.tier };\n"
        "output both to topic \"both\";\n"
        "output any to topic \"any\";\n"
        "output enriched to topic \"enriched\";\n",
        NULL);
    open_job(f, job);
    et_pipe(f, "users", "u1", "{\"name\":\"ann\"}", 1);
    et_expect(f, "any", "u1", "{\"name\":\"ann\",\"plans\":null}");
    assert_int_equal(sl_driver_queued(f->drv, "both"), 0);
    et_pipe(f, "plans", "u1", "{\"tier\":\"gold\"}", 2);
    et_expect(f, "both", "u1", "{\"name\":\"ann\",\"plans\":{\"tier\":\"gold\"}}");
    et_expect(f, "any", "u1", "{\"name\":\"ann\",\"plans\":{\"tier\":\"gold\"}}");
    et_pipe(f, "plans", "u2", "{\"tier\":\"free\"}", 3);
    et_expect(f, "any", "u2", "{\"value\":null,\"plans\":{\"tier\":\"free\"}}");
    assert_int_equal(sl_driver_queued(f->drv, "both"), 0);
    et_pipe(f, "users", "u1", NULL, 4);
    et_expect(f, "both", "u1", NULL);
    et_expect(f, "any", "u1", "{\"value\":null,\"plans\":{\"tier\":\"gold\"}}");
    et_pipe(f, "users", "u2", "{\"name\":\"bo\"}", 5);
    et_pipe(f, "users", "u3", "{\"name\":\"cy\"}", 5);
    last_t l = {0};
    drain(f, "both", &l);
    drain(f, "any", &l);
    et_pipe(f, "clicks", "u2", "{\"page\":\"/a\"}", 6);
    et_pipe(f, "clicks", "u3", "{\"page\":\"/b\"}", 7);
    et_pipe(f, "clicks", "u9", "{\"page\":\"/c\"}", 8);
    et_expect(f, "enriched", "u2", "{\"page\":\"/a\",\"name\":\"bo\",\"tier\":\"free\"}");
    et_expect(f, "enriched", "u3", "{\"page\":\"/b\",\"name\":\"cy\",\"tier\":null}");
    assert_int_equal(sl_driver_queued(f->drv, "enriched"), 0);
    close_job(f, job);
}

/* TTL: a table source's keys, an aggregation's groups and a grouped table's
 * rows that were not updated for the ttl are deleted as stream time advances
 * (before the record that moves it is processed). */
static void test_ttl_expires_keys_as_stream_time_advances(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_dsl_job_t *job = compile_app(
        "table users from topic \"users\" format json ttl 10 seconds;\n"
        "stream clicks from topic \"clicks\" format json;\n"
        "stream enriched = clicks | left join users on key = users.key | map { page, name: users.name };\n"
        "table pages = clicks | group by page | count | ttl 5 seconds;\n"
        "table regions = users | group by region | count | ttl 8 seconds;\n"
        "output enriched to topic \"enriched\";\n"
        "output pages to topic \"pages\";\n"
        "output regions to topic \"regions\";\n",
        NULL);
    open_job(f, job);
    et_pipe(f, "users", "u1", "{\"name\":\"ann\",\"region\":\"eu\"}", 1000);
    et_expect(f, "regions", "eu", "{\"region\":\"eu\",\"count\":1}");
    et_pipe(f, "clicks", "u1", "{\"page\":\"/a\"}", 2000);
    et_expect(f, "enriched", "u1", "{\"page\":\"/a\",\"name\":\"ann\"}");
    et_expect(f, "pages", "/a", "{\"page\":\"/a\",\"count\":1}");
    /* 9 s: /a (counted at 2 s) is past its 5 s; u1's row in regions (1 s) past its 8 s */
    et_pipe(f, "clicks", "u2", "{\"page\":\"/b\"}", 9000);
    et_expect(f, "enriched", "u2", "{\"page\":\"/b\",\"name\":null}");
    et_expect(f, "pages", "/a", NULL);
    et_expect(f, "pages", "/b", "{\"page\":\"/b\",\"count\":1}");
    et_expect(f, "regions", "eu", "{\"region\":\"eu\",\"count\":0}");
    /* 11.5 s: u1 (1 s) is past the users table's 10 s, before the join looks it up; /b stays */
    et_pipe(f, "clicks", "u1", "{\"page\":\"/c\"}", 11500);
    et_expect(f, "enriched", "u1", "{\"page\":\"/c\",\"name\":null}");
    et_expect(f, "pages", "/c", "{\"page\":\"/c\",\"count\":1}");
    assert_int_equal(sl_driver_queued(f->drv, "pages"), 0);
    sl_buf_t v;
    sl_buf_init(&v);
    assert_int_equal(sl_driver_store_get(f->drv, "users", "u1", 2, &v), SL_E_NOTFOUND);
    assert_int_equal(sl_driver_store_get(f->drv, "pages", "/b", 2, &v), 0);
    sl_buf_free(&v);
    /* the index survives a restart: after reopening, /b (9 s) expires at 14 s */
    et_commit(f);
    sl_driver_close(f->drv);
    f->drv = NULL;
    open_job(f, job);
    et_pipe(f, "clicks", "u3", "{\"page\":\"/c\"}", 14000);
    last_t l = {0};
    drain(f, "pages", &l);
    expect_last(&l, "/b", "null");
    expect_last(&l, "/c", "{\"page\":\"/c\",\"count\":2}");
    assert_int_equal(sl_driver_queued(f->drv, "sluice-dlq"), 0);
    close_job(f, job);
}

/* Rows of a session-windowed table with emit changes: a merge deletes the
 * old session (its tombstone takes the row out of its group) and adds the
 * merged one. */
static void test_grouping_session_rows_follows_merges(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_dsl_job_t *job = compile_app(
        "stream activity from topic \"activity\" format json timestamp ts;\n"
        "table sessions = activity | group by user | window session 5 seconds grace 30 seconds | count;\n"
        "table per_user = sessions | group by user | aggregate { n: count(), longest: max(count) };\n"
        "output per_user to topic \"per-user\";\n",
        NULL);
    open_job(f, job);
    et_pipe(f, "activity", "a", "{\"user\":\"a\",\"ts\":1000}", 0);
    et_pipe(f, "activity", "a", "{\"user\":\"a\",\"ts\":3000}", 0);
    last_t l = {0};
    drain(f, "per-user", &l);
    expect_last(&l, "a", "{\"user\":\"a\",\"n\":1,\"longest\":2}");
    et_pipe(f, "activity", "a", "{\"user\":\"a\",\"ts\":20000}", 0);
    drain(f, "per-user", &l);
    expect_last(&l, "a", "{\"user\":\"a\",\"n\":2,\"longest\":2}");
    /* a record between the two sessions merges them into one of 4 */
    et_pipe(f, "activity", "a", "{\"user\":\"a\",\"ts\":7000}", 0);
    et_pipe(f, "activity", "a", "{\"user\":\"a\",\"ts\":11000}", 0);
    et_pipe(f, "activity", "a", "{\"user\":\"a\",\"ts\":15500}", 0);
    drain(f, "per-user", &l);
    expect_last(&l, "a", "{\"user\":\"a\",\"n\":1,\"longest\":6}");
    close_job(f, job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grouped_table_takes_changed_rows_back, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_table_count_and_typed_group_keys, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_max_and_top_n_per_window_over_a_windowed_table, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_join_after_rekey_and_stream_join_grace, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_table_table_joins_and_two_joins_in_a_pipeline, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_ttl_expires_keys_as_stream_time_advances, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_grouping_session_rows_follows_merges, et_setup, et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
