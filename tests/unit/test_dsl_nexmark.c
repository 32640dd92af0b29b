/* The Nexmark queries of bench/nexmark (q3, q4, q5, q7, q8) as written there,
 * compiled and run by the engine's test driver on a tiny hand-made event
 * stream (fields as in /work/notes/nexmark-schema.md), each output checked
 * against results worked out by hand in the comments. */
#include "test_engine_util.h"

#include "dsl/dsl.h"

#ifndef SL_SOURCE_DIR
#define SL_SOURCE_DIR "."
#endif

static sl_dsl_job_t *load(const char *q)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench/nexmark/%s.sl", SL_SOURCE_DIR, q);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    static char src[16384];
    size_t n = fread(src, 1, sizeof src - 1, fp);
    fclose(fp);
    src[n] = '\0';
    sl_buf_t diag;
    sl_buf_init(&diag);
    sl_err_t err = {0};
    sl_dsl_job_t *job = NULL;
    if (sl_dsl_compile(path, src, &diag, &job, &err) != 0)
        fail_msg("compile %s: %s\n%.*s", path, err.msg, (int)diag.len, (const char *)diag.data);
    sl_buf_free(&diag);
    return job;
}

static void start(et_fixture_t *f, sl_dsl_job_t *job)
{
    sl_err_t err = {0};
    if (sl_driver_new(sl_dsl_job_topo(job), f->dir, &f->opts, &f->drv, &err) != 0)
        fail_msg("sl_driver_new: %s", err.msg);
}

static void stop(et_fixture_t *f, sl_dsl_job_t *job)
{
    assert_int_equal(sl_driver_queued(f->drv, "sluice-dlq"), 0);
    sl_driver_close(f->drv);
    f->drv = NULL;
    sl_dsl_job_free(job);
}

static void person(et_fixture_t *f, int id, const char *name, const char *city, const char *state, int64_t t)
{
    char k[32], v[512];
    snprintf(k, sizeof k, "%d", id);
    snprintf(v, sizeof v, "{\"id\":%d,\"name\":\"%s\",\"emailAddress\":\"%s@x\",\"creditCard\":\"1\",\"city\":\"%s\","
             "\"state\":\"%s\",\"dateTime\":%lld,\"extra\":\"\"}", id, name, name, city, state, (long long)t);
    et_pipe(f, "nexmark-person", k, v, t);
}

static void auction(et_fixture_t *f, int id, int seller, int category, int reserve, int64_t t, int64_t expires)
{
    char k[32], v[512];
    snprintf(k, sizeof k, "%d", id);
    snprintf(v, sizeof v, "{\"id\":%d,\"itemName\":\"i\",\"description\":\"d\",\"initialBid\":1,\"reserve\":%d,"
             "\"dateTime\":%lld,\"expires\":%lld,\"seller\":%d,\"category\":%d,\"extra\":\"\"}", id, reserve,
             (long long)t, (long long)expires, seller, category);
    et_pipe(f, "nexmark-auction", k, v, t);
}

static void bid(et_fixture_t *f, int auction_id, int bidder, int price, int64_t t)
{
    char k[32], v[512];
    snprintf(k, sizeof k, "%d", auction_id);
    snprintf(v, sizeof v, "{\"auction\":%d,\"bidder\":%d,\"price\":%d,\"channel\":\"web\",\"url\":\"u\","
             "\"dateTime\":%lld,\"extra\":\"x\"}", auction_id, bidder, price, (long long)t);
    et_pipe(f, "nexmark-bid", k, v, t);
}

/* Persons 1 alice (OR, t 1 s), 2 bob (WA, 2 s), 3 carol (ID, 12 s); auctions
 * 100 (seller 1, category 10, 3 s), 101 (2, 10, 4 s), 104 (1, 11, 11 s), 102
 * (3, 11, 13 s), 103 (3, 10, 15 s), in event-time order. */
static void people_and_auctions_of(et_fixture_t *f, bool people)
{
    if (people) {
        person(f, 1, "alice", "Portland", "OR", 1000);
        person(f, 2, "bob", "Seattle", "WA", 2000);
    }
    auction(f, 100, 1, 10, 500, 3000, 20000);
    auction(f, 101, 2, 10, 600, 4000, 25000);
    auction(f, 104, 1, 11, 900, 11000, 40000);
    if (people)
        person(f, 3, "carol", "Boise", "ID", 12000);
    auction(f, 102, 3, 11, 700, 13000, 30000);
    auction(f, 103, 3, 10, 800, 15000, 16000);
}

static void people_and_auctions(et_fixture_t *f) { people_and_auctions_of(f, true); }

/* q3: category 10 and a seller in OR / ID / CA: 100 (alice) and 103 (carol);
 * 101's seller bob is in WA, 102 and 104 are category 11. */
static void test_q3_local_item_suggestion(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = load("q3");
    start(f, job);
    people_and_auctions(f);
    et_expect(f, "nexmark-q3", "1", "{\"name\":\"alice\",\"city\":\"Portland\",\"state\":\"OR\",\"id\":100}");
    et_expect(f, "nexmark-q3", "3", "{\"name\":\"carol\",\"city\":\"Boise\",\"state\":\"ID\",\"id\":103}");
    assert_int_equal(sl_driver_queued(f->drv, "nexmark-q3"), 0);
    stop(f, job);
}

/* q8: same 10-second window: alice (0-10 s) with 100 (3 s) but not 104 (11 s,
 * next window); bob with 101; carol (10-20 s) with 102 and 103. */
static void test_q8_monitor_new_users(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = load("q8");
    start(f, job);
    people_and_auctions(f);
    et_expect(f, "nexmark-q8", "1", "{\"id\":1,\"name\":\"alice\",\"reserve\":500}");
    et_expect(f, "nexmark-q8", "2", "{\"id\":2,\"name\":\"bob\",\"reserve\":600}");
    et_expect(f, "nexmark-q8", "3", "{\"id\":3,\"name\":\"carol\",\"reserve\":700}");
    et_expect(f, "nexmark-q8", "3", "{\"id\":3,\"name\":\"carol\",\"reserve\":800}");
    assert_int_equal(sl_driver_queued(f->drv, "nexmark-q8"), 0);
    stop(f, job);
}

/* The latest value per key of a changelog topic, for one key. */
static void expect_latest(et_fixture_t *f, const char *topic, const char *const *keys, const char *const *vals,
                          size_t n)
{
    char last[16][512] = {{0}};
    sl_rec_t r;
    while (sl_driver_read(f->drv, topic, &r) == 1)
        for (size_t i = 0; i < n; i++)
            if (et_bytes_eq(r.key, r.key_len, keys[i]))
                snprintf(last[i], sizeof last[i], "%.*s", r.value_len < 0 ? 4 : r.value_len,
                         r.value_len < 0 ? "null" : (const char *)r.value);
    for (size_t i = 0; i < n; i++)
        if (strcmp(last[i], vals[i]) != 0)
            fail_msg("%s key %s: got %s, expected %s", topic, keys[i], last[i], vals[i]);
}

/* q4: winning bids (dateTime in [auction.dateTime, expires)): 100 -> 300 (its
 * 10000 at 2.5 s is before the auction opened; 150 then 300, 250 lower), 101
 * -> 400 (200 then 400), 103 -> 800 (5000 at 17 s is after it expired), 102
 * -> 50.  Category 10: (300 + 400 + 800) / 3 = 500; category 11: 50.  Every
 * record is flushed, so each auction's earlier best bid is taken back. */
static void test_q4_average_price_per_category(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_dsl_job_t *job = load("q4");
    start(f, job);
    people_and_auctions_of(f, false);
    bid(f, 100, 7, 10000, 2500);
    bid(f, 100, 7, 150, 5000);
    bid(f, 100, 8, 300, 6000);
    bid(f, 101, 7, 200, 7000);
    bid(f, 100, 9, 250, 8000);
    bid(f, 102, 7, 50, 14000);
    bid(f, 101, 8, 400, 14500);
    bid(f, 103, 7, 800, 15500);
    bid(f, 103, 8, 5000, 17000);
    et_commit(f);
    expect_latest(f, "nexmark-q4", (const char *const[]){"10", "11"},
                  (const char *const[]){"{\"category\":10,\"avg\":500.0}", "{\"category\":11,\"avg\":50.0}"}, 2);
    stop(f, job);
}

/* q5: hopping windows [2k s, 2k + 10 s).  Bids: auction 1 at 1 s and 3 s,
 * auction 2 at 3.5, 9 and 11 s, auction 3 at 30 s (closes every window
 * ending by 30 s).  [0,10): 1 and 2 have 2 each; [2,12): 2 has 3 (1 has 1);
 * [4,14), [6,16), [8,18): 2 has 2; [10,20): 2 has 1. */
static void test_q5_hot_items(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = load("q5");
    start(f, job);
    bid(f, 1, 7, 10, 1000);
    bid(f, 1, 7, 10, 3000);
    bid(f, 2, 7, 10, 3500);
    bid(f, 2, 7, 10, 9000);
    bid(f, 2, 7, 10, 11000);
    bid(f, 3, 7, 10, 30000);
    et_commit(f);
    expect_latest(f, "nexmark-q5",
                  (const char *const[]){"[0,10000]", "[2000,12000]", "[4000,14000]", "[6000,16000]", "[8000,18000]",
                                        "[10000,20000]", "[12000,22000]"},
                  (const char *const[]){
                      "{\"window_start\":0,\"window_end\":10000,\"auctions\":[1,2],\"num\":2}",
                      "{\"window_start\":2000,\"window_end\":12000,\"auctions\":[2],\"num\":3}",
                      "{\"window_start\":4000,\"window_end\":14000,\"auctions\":[2],\"num\":2}",
                      "{\"window_start\":6000,\"window_end\":16000,\"auctions\":[2],\"num\":2}",
                      "{\"window_start\":8000,\"window_end\":18000,\"auctions\":[2],\"num\":2}",
                      "{\"window_start\":10000,\"window_end\":20000,\"auctions\":[2],\"num\":1}",
                      "",
                  },
                  7);
    stop(f, job);
}

/* q7: tumbling 10 s.  [0,10): 300 is the highest, bid twice (2 s, 5 s); [10,
 * 20): 50; the bid at 25 s closes [10, 20) but its own window stays open. */
static void test_q7_highest_bid(void **state)
{
    et_fixture_t *f = *state;
    sl_dsl_job_t *job = load("q7");
    start(f, job);
    bid(f, 1, 7, 100, 1000);
    bid(f, 2, 8, 300, 2000);
    bid(f, 1, 9, 300, 5000);
    bid(f, 3, 7, 50, 12000);
    bid(f, 3, 7, 60, 25000);
    et_expect(f, "nexmark-q7", "all",
              "{\"auction\":2,\"price\":300,\"bidder\":8,\"dateTime\":2000,\"extra\":\"x\",\"window_start\":0,"
              "\"window_end\":10000}");
    et_expect(f, "nexmark-q7", "all",
              "{\"auction\":1,\"price\":300,\"bidder\":9,\"dateTime\":5000,\"extra\":\"x\",\"window_start\":0,"
              "\"window_end\":10000}");
    et_expect(f, "nexmark-q7", "all",
              "{\"auction\":3,\"price\":50,\"bidder\":7,\"dateTime\":12000,\"extra\":\"x\",\"window_start\":10000,"
              "\"window_end\":20000}");
    et_commit(f);
    assert_int_equal(sl_driver_queued(f->drv, "nexmark-q7"), 0);
    stop(f, job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_q3_local_item_suggestion, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_q4_average_price_per_category, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_q5_hot_items, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_q7_highest_bid, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_q8_monitor_new_users, et_setup, et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
