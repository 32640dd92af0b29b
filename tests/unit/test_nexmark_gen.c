/* Unit tests for the Nexmark event model (bench/nexmark/nexmark_model.c):
 * java.util.Random compatibility, determinism (same seed, same bytes; seek
 * equals sequential), the 1:3:46 proportions and dense ids, the hot auction /
 * bidder / seller shares, references to existing entities, timestamps,
 * the price distribution, padding sizes and the JSON schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bench/nexmark/nexmark_model.h"

static void test_random_matches_java_util_random(void **state)
{
    (void)state;
    nx_rand_t r;
    nx_rand_seed(&r, 0); /* new Random(0).nextLong() */
    assert_int_equal(nx_rand_long(&r), -4962768465676381896LL);
    nx_rand_seed(&r, 42); /* new Random(42).nextInt(10) x 5 */
    int want[] = {0, 3, 8, 4, 0};
    for (int i = 0; i < 5; i++)
        assert_int_equal(nx_rand_int(&r, 10), want[i]);
    nx_rand_seed(&r, 7);
    for (int i = 0; i < 10000; i++) {
        double d = nx_rand_double(&r);
        assert_true(d >= 0 && d < 1);
        int32_t v = nx_rand_int(&r, 13);
        assert_true(v >= 0 && v < 13);
    }
}

/* JSON of events [from, from + n) of the stream cfg, concatenated. */
static void stream_json(const nx_config_t *cfg, int64_t from, int n, sl_buf_t *out)
{
    nx_gen_t *g = malloc(sizeof *g);
    assert_non_null(g);
    nx_gen_init(g, cfg);
    nx_gen_seek(g, from);
    for (int i = 0; i < n; i++) {
        nx_event_t ev;
        nx_next(g, &ev);
        assert_int_equal(nx_event_json(&ev, out), 0);
        assert_int_equal(sl_buf_append(out, "\n", 1), 0);
    }
    free(g);
}

static void test_same_seed_gives_the_same_bytes_and_seek_equals_sequential(void **state)
{
    (void)state;
    nx_config_t c;
    nx_config_default(&c);
    c.seed = 7;
    sl_buf_t a, b, tail;
    sl_buf_init(&a);
    sl_buf_init(&b);
    sl_buf_init(&tail);
    stream_json(&c, 0, 5000, &a);
    stream_json(&c, 0, 5000, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    /* events 4000.. generated after a seek are the tail of the full stream */
    stream_json(&c, 4000, 1000, &tail);
    assert_true(tail.len < a.len);
    assert_memory_equal(a.data + a.len - tail.len, tail.data, tail.len);
    /* another seed: another stream of the same shape */
    sl_buf_reset(&b);
    c.seed = 8;
    stream_json(&c, 0, 5000, &b);
    assert_true(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
    sl_buf_free(&a);
    sl_buf_free(&b);
    sl_buf_free(&tail);
}

static void test_proportions_are_1_3_46_with_dense_ids(void **state)
{
    (void)state;
    nx_config_t c;
    nx_config_default(&c);
    nx_gen_t *g = malloc(sizeof *g);
    assert_non_null(g);
    nx_gen_init(g, &c);
    int64_t counts[3] = {0, 0, 0}, next_person = NX_FIRST_PERSON_ID, next_auction = NX_FIRST_AUCTION_ID;
    for (int i = 0; i < 50000; i++) {
        nx_event_t ev;
        nx_next(g, &ev);
        counts[ev.kind]++;
        if (ev.kind == NX_PERSON)
            assert_int_equal(ev.id, next_person++);
        else if (ev.kind == NX_AUCTION)
            assert_int_equal(ev.id, next_auction++);
        int rem = i % NX_TOTAL_PROPORTION; /* event 50k+0 person, +1..3 auctions, +4..49 bids */
        assert_int_equal(ev.kind, rem < 1 ? NX_PERSON : rem < 4 ? NX_AUCTION : NX_BID);
    }
    assert_int_equal(counts[NX_PERSON], 1000);
    assert_int_equal(counts[NX_AUCTION], 3000);
    assert_int_equal(counts[NX_BID], 46000);
    free(g);
}

static void test_hot_shares_and_references_stay_near_existing_ids(void **state)
{
    (void)state;
    nx_config_t c;
    nx_config_default(&c);
    nx_gen_t *g = malloc(sizeof *g);
    assert_non_null(g);
    nx_gen_init(g, &c);
    int64_t last_person = -1, last_auction = -1, bids = 0, hot_auction = 0, hot_bidder = 0, auctions = 0,
            hot_seller = 0;
    for (int i = 0; i < 200000; i++) {
        nx_event_t ev;
        nx_next(g, &ev);
        if (ev.kind == NX_PERSON) {
            last_person = ev.id;
        } else if (ev.kind == NX_AUCTION) {
            last_auction = ev.id;
            auctions++;
            hot_seller += (ev.seller - NX_FIRST_PERSON_ID) % 100 == 0;
            assert_true(ev.seller >= NX_FIRST_PERSON_ID && ev.seller <= last_person + 10);
            assert_true(ev.seller > last_person - 1000 - 1 || (ev.seller - NX_FIRST_PERSON_ID) % 100 == 0);
            assert_true(ev.category >= NX_FIRST_CATEGORY_ID && ev.category < NX_FIRST_CATEGORY_ID + NX_NUM_CATEGORIES);
            assert_true(ev.expires > ev.date_time);
            assert_true(ev.reserve >= ev.initial_bid);
        } else {
            bids++;
            hot_auction += (ev.auction - NX_FIRST_AUCTION_ID) % 100 == 0;
            hot_bidder += (ev.bidder - NX_FIRST_PERSON_ID) % 100 == 1;
            /* in flight: one of the last 100 auctions, or up to 10 ahead */
            assert_true(ev.auction <= last_auction + 10);
            assert_true(ev.auction >= last_auction - 101 || (ev.auction - NX_FIRST_AUCTION_ID) % 100 == 0);
            assert_true(ev.bidder >= NX_FIRST_PERSON_ID && ev.bidder <= last_person + 10);
        }
    }
    /* half the bids on a hot auction, three quarters from hot bidders, three
     * quarters of auctions by hot sellers (plus the random draws that hit one) */
    double ha = (double)hot_auction / (double)bids, hb = (double)hot_bidder / (double)bids,
           hs = (double)hot_seller / (double)auctions;
    assert_true(ha > 0.49 && ha < 0.53);
    assert_true(hb > 0.74 && hb < 0.77);
    assert_true(hs > 0.74 && hs < 0.77);
    free(g);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_timestamps_prices_and_sizes_follow_the_specification(void **state)
{
    (void)state;
    nx_config_t c;
    nx_config_default(&c);
    c.event_rate = 10000; /* 100 us apart */
    nx_gen_t *g = malloc(sizeof *g);
    int64_t *prices = malloc(50000 * sizeof *prices);
    assert_non_null(g);
    assert_non_null(prices);
    nx_gen_init(g, &c);
    int nprice = 0;
    int64_t extra_bid = 0, nbid = 0;
    for (int i = 0; i < 50000; i++) {
        nx_event_t ev;
        nx_next(g, &ev);
        assert_int_equal(ev.date_time, c.base_time_ms + i / 10);
        if (ev.kind == NX_BID) {
            assert_true(ev.price >= 100 && ev.price <= 100000000);
            prices[nprice++] = ev.price;
            extra_bid += (int64_t)strlen(ev.extra);
            nbid++;
        }
    }
    /* price = 100 * 10^(6u) cents: log-uniform, median 10^3 dollars */
    qsort(prices, (size_t)nprice, sizeof *prices, cmp_i64);
    assert_true(prices[nprice / 2] > 70000 && prices[nprice / 2] < 140000);
    assert_true(prices[nprice / 10] > 300 && prices[nprice / 10] < 800); /* 10^0.6 dollars */
    /* a bid's padding makes its size average 100 bytes: 100 - 32 of fixed fields */
    double avg_extra = (double)extra_bid / (double)nbid;
    assert_true(avg_extra > 66 && avg_extra < 70);
    free(prices);
    free(g);
}

static void test_json_has_the_schema_fields(void **state)
{
    (void)state;
    nx_config_t c;
    nx_config_default(&c);
    nx_gen_t *g = malloc(sizeof *g);
    assert_non_null(g);
    nx_gen_init(g, &c);
    static const char *const fields[3][10] = {
        {"id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra", NULL},
        {"id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller", "category",
         "extra"},
        {"auction", "bidder", "price", "channel", "url", "dateTime", "extra", NULL},
    };
    sl_buf_t js;
    sl_buf_init(&js);
    for (int i = 0; i < 2000; i++) {
        nx_event_t ev;
        nx_next(g, &ev);
        sl_buf_reset(&js);
        assert_int_equal(nx_event_json(&ev, &js), 0);
        json_error_t jerr;
        json_t *o = json_loadb((const char *)js.data, js.len, 0, &jerr);
        assert_non_null(o);
        size_t n = 0;
        for (int f = 0; f < 10 && fields[ev.kind][f]; f++, n++)
            assert_non_null(json_object_get(o, fields[ev.kind][f]));
        assert_int_equal(json_object_size(o), n);
        assert_int_equal(json_integer_value(json_object_get(o, "dateTime")), ev.date_time);
        char key[24];
        nx_event_key(&ev, key);
        assert_int_equal(strtoll(key, NULL, 10),
                         json_integer_value(json_object_get(o, ev.kind == NX_BID ? "auction" : "id")));
        json_decref(o);
    }
    assert_string_equal(nx_topic(NX_BID), "nexmark-bid");
    sl_buf_free(&js);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_matches_java_util_random),
        cmocka_unit_test(test_same_seed_gives_the_same_bytes_and_seek_equals_sequential),
        cmocka_unit_test(test_proportions_are_1_3_46_with_dense_ids),
        cmocka_unit_test(test_hot_shares_and_references_stay_near_existing_ids),
        cmocka_unit_test(test_timestamps_prices_and_sizes_follow_the_specification),
        cmocka_unit_test(test_json_has_the_schema_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
