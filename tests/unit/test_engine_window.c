/* Windowed aggregations through the test driver: tumbling counts with
 * hand-computed outputs and window headers; hopping count and sum over panes
 * and sliding counts checked against a brute-force reference on a few
 * thousand random records (emit changes and emit final); session merges
 * bridged by an out-of-order record; late records to the dead-letter topic;
 * emit final once per window after grace; state surviving close/reopen after
 * a commit; validation. */
#include "test_engine_util.h"

static const char *in_topic[] = {"in"};

static int64_t be64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

/* The window bounds a forwarded record carries. */
static void rec_window(const sl_rec_t *r, int64_t *start, int64_t *end)
{
    assert_int_equal(r->header_count, 2);
    assert_true(r->headers[0].key_len == 15 && !memcmp(r->headers[0].key, "sl.window.start", 15));
    assert_true(r->headers[1].key_len == 13 && !memcmp(r->headers[1].key, "sl.window.end", 13));
    assert_int_equal(r->headers[0].value_len, 8);
    assert_int_equal(r->headers[1].value_len, 8);
    *start = be64(r->headers[0].value);
    *end = be64(r->headers[1].value);
}

/* Next record of topic: key, window [start, end), integer value (INT64_MIN: a tombstone). */
static void expect_win(et_fixture_t *f, const char *topic, const char *key, int64_t start, int64_t end,
                       int64_t value)
{
    sl_rec_t r;
    if (sl_driver_read(f->drv, topic, &r) != 1)
        fail_msg("topic %s: no record, expected %s [%lld,%lld)", topic, key, (long long)start, (long long)end);
    if (!et_bytes_eq(r.key, r.key_len, key))
        fail_msg("topic %s: got key %.*s, expected %s", topic, r.key_len, (const char *)r.key, key);
    int64_t s, e;
    rec_window(&r, &s, &e);
    if (s != start || e != end)
        fail_msg("topic %s key %s: window [%lld,%lld), expected [%lld,%lld)", topic, key, (long long)s, (long long)e,
                 (long long)start, (long long)end);
    if (value == INT64_MIN) {
        assert_int_equal(r.value_len, -1);
        return;
    }
    assert_true(r.value_len >= 0);
    bool fl;
    double v = et_num(r.value, (size_t)r.value_len, &fl);
    if (fl || v != (double)value)
        fail_msg("topic %s key %s [%lld,%lld): got %g, expected %lld", topic, key, (long long)s, (long long)e, v,
                 (long long)value);
}

static void build_windowed(et_fixture_t *f, const sl_window_spec_t *w, bool with_sum)
{
    assert_int_equal(sl_topo_new("win", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "w", "g", w), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "count", "w", "counts"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "count-out", "count", "counts"), 0);
    if (with_sum) {
        assert_int_equal(sl_topo_add_sum(f->topo, "sum", "w", "sums", NULL, NULL), 0);
        assert_int_equal(sl_topo_add_sink(f->topo, "sum-out", "sum", "sums"), 0);
    }
    et_build(f->topo);
}

/* ---- tumbling ----------------------------------------------------------------------------------- */

static void test_tumbling_count_every_update(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .grace_ms = 100};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "a", "x", 1);
    et_pipe(f, "in", "a", "x", 5);
    et_pipe(f, "in", "b", "x", 7);
    et_pipe(f, "in", "a", "x", 12);
    et_pipe(f, "in", "a", "x", 9); /* out of order, within grace */
    expect_win(f, "counts", "a", 0, 10, 1);
    expect_win(f, "counts", "a", 0, 10, 2);
    expect_win(f, "counts", "b", 0, 10, 1);
    expect_win(f, "counts", "a", 10, 20, 1);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "counts", &r), 1);
    assert_int_equal(r.timestamp, 9); /* window end - 1 */
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
}

static void test_tumbling_count_coalesced_at_commit(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .grace_ms = 100};
    build_windowed(f, &w, true);
    et_open(f);
    et_pipe_num(f, "in", "b", 4, false, 3);
    et_pipe_num(f, "in", "a", 1, false, 1);
    et_pipe_num(f, "in", "a", 2, false, 15);
    et_pipe_num(f, "in", "a", 3, false, 8);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_commit(f);
    /* one record per changed window, in (key, start) order */
    expect_win(f, "counts", "a", 0, 10, 2);
    expect_win(f, "counts", "a", 10, 20, 1);
    expect_win(f, "counts", "b", 0, 10, 1);
    expect_win(f, "sums", "a", 0, 10, 4);
    expect_win(f, "sums", "a", 10, 20, 2);
    expect_win(f, "sums", "b", 0, 10, 4);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
}

static int value_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    sl_buf_append(key, rec->value, (size_t)rec->value_len);
    return 1;
}

/* Emit changes, hopping windows, updates held in the cache until the commit:
 * a window that closes before that commit still comes out with its last
 * value (forwarded just before retention hides its panes), not lost. */
static void test_hopping_changes_forwarded_before_the_window_closes(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_HOPPING, .size_ms = 10, .advance_ms = 5, .grace_ms = 0};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "a", "x", 1);
    et_pipe(f, "in", "a", "x", 3);
    et_pipe(f, "in", "a", "x", 7);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0); /* held in the cache */
    et_pipe(f, "in", "b", "x", 100); /* closes [0,10) and [5,15) before any commit */
    expect_win(f, "counts", "a", 0, 10, 3);
    expect_win(f, "counts", "a", 5, 15, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_commit(f); /* b's windows, once */
    expect_win(f, "counts", "b", 95, 105, 1);
    expect_win(f, "counts", "b", 100, 110, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
}

static void test_window_after_repartition(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .grace_ms = 100};
    assert_int_equal(sl_topo_new("rp", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "by-value", "src", value_key, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "w", "by-value", &w), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "count", "w", "counts"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "count", "counts"), 0);
    et_build(f->topo);
    assert_int_equal(sl_topo_subtopology_count(f->topo), 2);
    assert_int_equal(sl_topo_node_subtopology(f->topo, "w"), sl_topo_node_subtopology(f->topo, "count"));
    assert_true(sl_topo_node_subtopology(f->topo, "w") != sl_topo_node_subtopology(f->topo, "by-value"));
    et_open(f);
    et_pipe(f, "in", "k1", "red", 1);
    et_pipe(f, "in", "k2", "red", 2);
    et_pipe(f, "in", "k3", "blue", 11);
    et_commit(f);
    expect_win(f, "counts", "red", 0, 10, 2);
    expect_win(f, "counts", "blue", 10, 20, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
}

/* ---- hopping against a brute-force reference ------------------------------------------------------ */

#define N_REC 3000
#define N_KEYS 5
#define H_SIZE 100
#define H_ADV 30

typedef struct hrec {
    int key;
    int64_t ts, val;
} hrec_t;

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void make_input(hrec_t *in)
{
    uint32_t seed = 12345;
    int64_t base = 0;
    for (int i = 0; i < N_REC; i++) {
        base += lcg(&seed) % 7;
        int64_t ts = base - (int64_t)(lcg(&seed) % 50);
        in[i] = (hrec_t){(int)(lcg(&seed) % N_KEYS), ts < 0 ? 0 : ts, (int64_t)(lcg(&seed) % 100) - 30};
    }
}

static int64_t g_size = H_SIZE, g_adv = H_ADV; /* the windows the brute-force checks expect */

static void brute(const hrec_t *in, int key, int64_t w, int64_t *count, int64_t *sum)
{
    *count = *sum = 0;
    for (int i = 0; i < N_REC; i++)
        if (in[i].key == key && in[i].ts >= w && in[i].ts < w + g_size)
            ++*count, *sum += in[i].val;
}

#define N_WIN 1000 /* window slots: start / H_ADV */

/* Read every record of topic; check each against the reference; count the
 * windows seen (seen[key][w / adv]); fail on a window seen twice when `once`. */
static void check_topic(et_fixture_t *f, const char *topic, const hrec_t *in, bool is_sum, int (*seen)[N_WIN],
                        bool once)
{
    sl_rec_t r;
    while (sl_driver_read(f->drv, topic, &r) == 1) {
        assert_true(r.key_len == 2 && r.key[0] == 'k');
        int key = r.key[1] - '0';
        if (key < 0 || key >= N_KEYS)
            continue; /* the closing record's key */
        int64_t s, e;
        rec_window(&r, &s, &e);
        assert_int_equal(e - s, g_size);
        assert_int_equal(s % g_adv, 0);
        assert_true(s / g_adv < N_WIN);
        int64_t c, sum;
        brute(in, key, s, &c, &sum);
        bool fl;
        double v = et_num(r.value, (size_t)r.value_len, &fl);
        if (v != (double)(is_sum ? sum : c))
            fail_msg("%s k%d [%lld,%lld): got %g, expected %lld", topic, key, (long long)s, (long long)e, v,
                     (long long)(is_sum ? sum : c));
        if (once && seen[key][s / g_adv])
            fail_msg("%s k%d [%lld,%lld): forwarded twice", topic, key, (long long)s, (long long)e);
        seen[key][s / g_adv]++;
    }
}

/* Every non-empty window was seen. */
static void check_all_seen(const hrec_t *in, int (*seen)[N_WIN])
{
    for (int k = 0; k < N_KEYS; k++)
        for (int64_t slot = 0; slot < N_WIN; slot++) {
            int64_t c, sum;
            brute(in, k, slot * g_adv, &c, &sum);
            if (c > 0 && !seen[k][slot])
                fail_msg("k%d [%lld,+%lld) has %lld records but was never forwarded", k, (long long)(slot * g_adv),
                         (long long)g_size, (long long)c);
        }
}

static void pipe_input(et_fixture_t *f, const hrec_t *in, int i)
{
    char key[3] = {'k', (char)('0' + in[i].key), 0};
    et_pipe_num(f, "in", key, (double)in[i].val, false, in[i].ts);
}

static void test_hopping_final_matches_brute_force(void **state)
{
    et_fixture_t *f = *state;
    hrec_t *in = calloc(N_REC, sizeof *in);
    int(*seen)[N_WIN] = calloc(N_KEYS, sizeof *seen);
    int(*seen_sum)[N_WIN] = calloc(N_KEYS, sizeof *seen_sum);
    make_input(in);
    sl_window_spec_t w = {.kind = SL_WINDOW_HOPPING, .size_ms = H_SIZE, .advance_ms = H_ADV, .grace_ms = 200,
                          .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, true);
    et_open(f);
    for (int i = 0; i < N_REC; i++) {
        pipe_input(f, in, i);
        if (i % 500 == 499)
            et_commit(f);
        check_topic(f, "counts", in, false, seen, true);
        check_topic(f, "sums", in, true, seen_sum, true);
    }
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
    et_pipe_num(f, "in", "zz", 0, false, 1000000); /* closes every window */
    check_topic(f, "counts", in, false, seen, true);
    check_topic(f, "sums", in, true, seen_sum, true);
    check_all_seen(in, seen);
    check_all_seen(in, seen_sum);
    free(in);
    free(seen);
    free(seen_sum);
}

/* Tumbling, emit final: the open windows live in the operator's table and
 * reach the store only at commits; closing merges the two.  Commits every 500
 * records (some windows close from the table alone, some from the store with
 * later updates in the table), and a reopen after a commit (the table starts
 * empty: windows still open are read back from the store). */
static void test_tumbling_final_table_and_store_match_brute_force(void **state)
{
    et_fixture_t *f = *state;
    hrec_t *in = calloc(N_REC, sizeof *in);
    int(*seen)[N_WIN] = calloc(N_KEYS, sizeof *seen);
    int(*seen_sum)[N_WIN] = calloc(N_KEYS, sizeof *seen_sum);
    make_input(in);
    g_size = g_adv = 90;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 90, .grace_ms = 60, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, true);
    et_open(f);
    for (int i = 0; i < N_REC; i++) {
        pipe_input(f, in, i);
        if (i % 500 == 499)
            et_commit(f);
        if (i == 1499)
            et_reopen(f);
        check_topic(f, "counts", in, false, seen, true);
        check_topic(f, "sums", in, true, seen_sum, true);
    }
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
    et_pipe_num(f, "in", "zz", 0, false, 1000000); /* closes every window */
    check_topic(f, "counts", in, false, seen, true);
    check_topic(f, "sums", in, true, seen_sum, true);
    check_all_seen(in, seen);
    check_all_seen(in, seen_sum);
    g_size = H_SIZE, g_adv = H_ADV;
    free(in);
    free(seen);
    free(seen_sum);
}

/* One window forwarded in the store scan's order (key length, then bytes)
 * whoever held each key: "b" and the 40-byte key reach the store (a commit,
 * and a key too long for the table), the others only the table, piped in
 * reverse order. */
static void test_tumbling_final_order_mixes_table_and_store(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    const char *lng = "llllllllllllllllllllllllllllllllllllllll";
    et_pipe(f, "in", "b", "x", 1);
    et_commit(f);
    et_pipe(f, "in", "zz", "x", 2);
    et_pipe(f, "in", lng, "x", 3);
    et_pipe(f, "in", "ab", "x", 3);
    char p[] = "prefix_?"; /* longer than 7 bytes, one prefix: ordered past the radix sort */
    for (p[7] = 'z'; p[7] >= 'a'; p[7]--)
        et_pipe(f, "in", p, "x", 3);
    et_pipe(f, "in", "prefix_ab", "x", 3);
    char k[2] = {0, 0};
    for (k[0] = 'y'; k[0] >= 'a'; k[0]--)
        et_pipe(f, "in", k, "x", k[0] == 'b' ? 5 : 4);
    et_pipe(f, "in", "ab", "x", 6);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe(f, "in", "~", "x", 10); /* closes [0,10) */
    for (k[0] = 'a'; k[0] <= 'y'; k[0]++)
        expect_win(f, "counts", k, 0, 10, k[0] == 'b' ? 2 : 1);
    expect_win(f, "counts", "ab", 0, 10, 2);
    expect_win(f, "counts", "zz", 0, 10, 1);
    for (p[7] = 'a'; p[7] <= 'z'; p[7]++)
        expect_win(f, "counts", p, 0, 10, 1);
    expect_win(f, "counts", "prefix_ab", 0, 10, 1);
    expect_win(f, "counts", lng, 0, 10, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
}

/* More open windows than the table holds (32768 slots): it is written out
 * and emptied, and the store answers for what it dropped. */
static void test_tumbling_final_more_keys_than_the_table_holds(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    enum { KEYS = 70000 };
    char key[16];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < KEYS; i++) {
            snprintf(key, sizeof key, "k%d", i);
            if (pass == 0 || i % 3 == 0)
                et_pipe(f, "in", key, "x", 5);
        }
    et_pipe(f, "in", "zz", "x", 10); /* closes [0,10) */
    unsigned char *seen = calloc(KEYS, 1);
    sl_rec_t r;
    int n = 0;
    while (sl_driver_read(f->drv, "counts", &r) == 1) {
        assert_true(r.key_len > 1 && r.key_len < 10 && r.key[0] == 'k');
        int i = atoi((const char *)r.key + 1);
        snprintf(key, sizeof key, "k%d", i);
        assert_true(et_bytes_eq(r.key, r.key_len, key));
        bool fl;
        assert_true(et_num(r.value, (size_t)r.value_len, &fl) == (i % 3 == 0 ? 2 : 1));
        assert_false(seen[i]);
        seen[i] = 1;
        n++;
    }
    assert_int_equal(n, KEYS);
    free(seen);
}

static void test_hopping_changes_matches_brute_force(void **state)
{
    et_fixture_t *f = *state;
    hrec_t *in = calloc(N_REC, sizeof *in);
    int(*seen)[N_WIN] = calloc(N_KEYS, sizeof *seen);
    int(*batch)[N_WIN] = calloc(N_KEYS, sizeof *batch);
    make_input(in);
    sl_window_spec_t w = {.kind = SL_WINDOW_HOPPING, .size_ms = H_SIZE, .advance_ms = H_ADV, .grace_ms = 1000000};
    build_windowed(f, &w, false);
    et_open(f);
    for (int i = 0; i < N_REC; i++) {
        pipe_input(f, in, i);
        if (i % 97 == 96 || i == N_REC - 1) {
            et_commit(f);
            /* within one flush each window goes once, with its value at the flush */
            memset(batch, 0, N_KEYS * sizeof *batch);
            hrec_t *prefix = calloc(N_REC, sizeof *prefix);
            memcpy(prefix, in, (size_t)(i + 1) * sizeof *in);
            for (int j = i + 1; j < N_REC; j++)
                prefix[j].key = -1;
            check_topic(f, "counts", prefix, false, batch, true);
            free(prefix);
            for (int k = 0; k < N_KEYS; k++)
                for (int s = 0; s < N_WIN; s++)
                    seen[k][s] += batch[k][s];
        }
    }
    check_all_seen(in, seen);
    free(in);
    free(seen);
    free(batch);
}

/* ---- sliding against a brute-force reference ------------------------------------------------------ */

#define S_SIZE 40
#define S_MAXT 20000

/* Read every record of topic: each must be the window [max(0, t - size), t]
 * of one of the key's record times t among the first n_in records, with the
 * reference count; seen[key][t] counts them; `once`: no window twice. */
static int64_t (*g_slide_last)[S_MAXT]; /* when set: the last value forwarded per key and window end */

static void check_sliding(et_fixture_t *f, const char *topic, const hrec_t *in, int n_in, unsigned char (*seen)[S_MAXT],
                          bool once)
{
    sl_rec_t r;
    while (sl_driver_read(f->drv, topic, &r) == 1) {
        int key = r.key[1] - '0';
        if (key < 0 || key >= N_KEYS)
            continue;
        int64_t s, e, c = 0;
        bool is_record_time = false;
        rec_window(&r, &s, &e);
        assert_true(e >= 0 && e < S_MAXT);
        assert_int_equal(s, e < S_SIZE ? 0 : e - S_SIZE);
        assert_int_equal(r.timestamp, e);
        for (int i = 0; i < n_in; i++) {
            if (in[i].key != key)
                continue;
            c += in[i].ts >= s && in[i].ts <= e;
            is_record_time |= in[i].ts == e;
        }
        if (!is_record_time)
            fail_msg("k%d: window [%lld,%lld] does not end at a record time", key, (long long)s, (long long)e);
        bool fl;
        double v = et_num(r.value, (size_t)r.value_len, &fl);
        if (v != (double)c)
            fail_msg("k%d [%lld,%lld]: got %g, expected %lld", key, (long long)s, (long long)e, v, (long long)c);
        if (once && seen[key][e])
            fail_msg("k%d [%lld,%lld]: forwarded twice", key, (long long)s, (long long)e);
        seen[key][e] = 1;
        if (g_slide_last)
            g_slide_last[key][e] = c;
    }
}

static void check_sliding_all_seen(const hrec_t *in, unsigned char (*seen)[S_MAXT])
{
    for (int i = 0; i < N_REC; i++)
        if (!seen[in[i].key][in[i].ts])
            fail_msg("k%d: the window ending at %lld was never forwarded", in[i].key, (long long)in[i].ts);
}

static void test_sliding_final_matches_brute_force(void **state)
{
    et_fixture_t *f = *state;
    hrec_t *in = calloc(N_REC, sizeof *in);
    unsigned char(*seen)[S_MAXT] = calloc(N_KEYS, sizeof *seen);
    make_input(in);
    sl_window_spec_t w = {.kind = SL_WINDOW_SLIDING, .size_ms = S_SIZE, .grace_ms = 200,
                          .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    for (int i = 0; i < N_REC; i++) {
        pipe_input(f, in, i);
        if (i % 500 == 499)
            et_commit(f);
        check_sliding(f, "counts", in, N_REC, seen, true);
    }
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
    et_pipe_num(f, "in", "zz", 0, false, 1000000);
    check_sliding(f, "counts", in, N_REC, seen, true);
    check_sliding_all_seen(in, seen);
    free(in);
    free(seen);
}

/* Emit changes, a commit every 97 records: every value forwarded is the
 * window's count over the records so far, each window goes at most once per
 * flush, every window is forwarded, and the last value forwarded for each is
 * its final count.  With a grace shorter than the time between two commits,
 * windows close between flushes: one closing with updates still waiting in
 * the cache is forwarded as it closes. */
static void run_sliding_changes(et_fixture_t *f, int64_t grace)
{
    hrec_t *in = calloc(N_REC, sizeof *in);
    unsigned char(*seen)[S_MAXT] = calloc(N_KEYS, sizeof *seen);
    unsigned char(*batch)[S_MAXT] = calloc(N_KEYS, sizeof *batch);
    make_input(in);
    int64_t(*last)[S_MAXT] = calloc(N_KEYS, sizeof *last);
    g_slide_last = last;
    sl_window_spec_t w = {.kind = SL_WINDOW_SLIDING, .size_ms = S_SIZE, .grace_ms = grace};
    build_windowed(f, &w, false);
    et_open(f);
    for (int i = 0; i < N_REC; i++) {
        pipe_input(f, in, i);
        if (i % 97 == 96)
            et_commit(f);
        memset(batch, 0, N_KEYS * sizeof *batch);
        /* every value is the count over the records so far (a closed window no longer changes) */
        check_sliding(f, "counts", in, i + 1, batch, true);
        for (int k = 0; k < N_KEYS; k++)
            for (int t = 0; t < S_MAXT; t++)
                seen[k][t] |= batch[k][t];
    }
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
    et_pipe_num(f, "in", "zz", 0, false, 1000000); /* closes every window */
    et_commit(f);
    memset(batch, 0, N_KEYS * sizeof *batch);
    check_sliding(f, "counts", in, N_REC, batch, true);
    for (int k = 0; k < N_KEYS; k++)
        for (int t = 0; t < S_MAXT; t++)
            seen[k][t] |= batch[k][t];
    check_sliding_all_seen(in, seen);
    /* the last value forwarded for each window is its count over the whole input */
    for (int i = 0; i < N_REC; i++) {
        int64_t e = in[i].ts, s = e < S_SIZE ? 0 : e - S_SIZE, c = 0;
        for (int j = 0; j < N_REC; j++)
            c += in[j].key == in[i].key && in[j].ts >= s && in[j].ts <= e;
        if (last[in[i].key][e] != c)
            fail_msg("k%d [%lld,%lld]: last forwarded %lld, final count %lld", in[i].key, (long long)s, (long long)e,
                     (long long)last[in[i].key][e], (long long)c);
    }
    g_slide_last = NULL;
    free(last);
    free(in);
    free(seen);
    free(batch);
}

static void test_sliding_changes_matches_brute_force(void **state) { run_sliding_changes(*state, 1000000); }

static void test_sliding_changes_closing_between_commits_keeps_last_update(void **state)
{
    run_sliding_changes(*state, 60);
}

static void test_sliding_late_and_hand_computed(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_window_spec_t w = {.kind = SL_WINDOW_SLIDING, .size_ms = 10, .grace_ms = 10};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "a", "x", 5);  /* [0,5]: 1 */
    et_pipe(f, "in", "a", "x", 12); /* [2,12]: 2 */
    et_pipe(f, "in", "a", "x", 8);  /* [0,8]: 2, and [2,12] becomes 3 */
    et_pipe(f, "in", "a", "x", 30); /* [20,30]: 1 */
    et_pipe(f, "in", "a", "x", 24); /* 24 + 10 > 30, on time: [14,24]: 1, [20,30]: 2 */
    et_pipe(f, "in", "a", "x", 19); /* 19 + 1 + 10 <= 30: its own window has closed, late */
    expect_win(f, "counts", "a", 0, 5, 1);
    expect_win(f, "counts", "a", 2, 12, 2);
    expect_win(f, "counts", "a", 0, 8, 2);
    expect_win(f, "counts", "a", 2, 12, 3);
    expect_win(f, "counts", "a", 20, 30, 1);
    expect_win(f, "counts", "a", 14, 24, 1);
    expect_win(f, "counts", "a", 20, 30, 2);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 1);
}

/* ---- min / max / avg over panes ---------------------------------------------------------------------- */

static void expect_float(et_fixture_t *f, const char *topic, int64_t start, double value)
{
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, topic, &r), 1);
    int64_t s, e;
    rec_window(&r, &s, &e);
    assert_int_equal(s, start);
    bool fl;
    double v = et_num(r.value, (size_t)r.value_len, &fl);
    if (!fl || v != value)
        fail_msg("%s [%lld,...): got %g, expected %g", topic, (long long)s, v, value);
}

static void test_hopping_min_max_avg_combine_panes(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_HOPPING, .size_ms = 10, .advance_ms = 5,
                          .emit = SL_WINDOW_EMIT_FINAL};
    assert_int_equal(sl_topo_new("mma", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "w", "g", &w), 0);
    assert_int_equal(sl_topo_add_min(f->topo, "min", "w", "min-store", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_max(f->topo, "max", "w", "max-store", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_avg(f->topo, "avg", "w", "avg-store", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "min-out", "min", "min"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "max-out", "max", "max"), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "avg-out", "avg", "avg"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe_num(f, "in", "a", 4, false, 1);  /* pane 0: windows [0,10) */
    et_pipe_num(f, "in", "a", -2, false, 6); /* pane 5: [0,10), [5,15) */
    et_pipe_num(f, "in", "a", 9.5, true, 7);
    et_pipe_num(f, "in", "a", 0, false, 100); /* closes both */
    expect_win(f, "min", "a", 0, 10, -2);
    expect_win(f, "min", "a", 5, 15, -2);
    expect_float(f, "max", 0, 9.5);
    expect_float(f, "max", 5, 9.5);
    expect_float(f, "avg", 0, 11.5 / 3);
    expect_float(f, "avg", 5, 3.75);
    assert_int_equal(sl_driver_queued(f->drv, "avg"), 0);
}

/* ---- sessions ------------------------------------------------------------------------------------- */

static void test_session_merge_bridges_two_sessions(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_SESSION, .gap_ms = 10, .grace_ms = 100};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "k", "x", 0);
    et_pipe(f, "in", "k", "x", 5);
    et_pipe(f, "in", "k", "x", 22);
    et_pipe(f, "in", "j", "x", 3);
    et_commit(f);
    expect_win(f, "counts", "j", 3, 3, 1);
    expect_win(f, "counts", "k", 0, 0, INT64_MIN); /* merged away before it was ever forwarded */
    expect_win(f, "counts", "k", 0, 5, 2);
    expect_win(f, "counts", "k", 22, 22, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe(f, "in", "k", "x", 14); /* within 10 of both 5 and 22: one session [0, 22] */
    et_commit(f);
    /* flush order for one key is (end, start): the old sessions as tombstones, the merged one */
    expect_win(f, "counts", "k", 0, 5, INT64_MIN);
    expect_win(f, "counts", "k", 0, 22, 4);
    expect_win(f, "counts", "k", 22, 22, INT64_MIN);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    sl_rec_t r;
    et_pipe(f, "in", "k", "x", 30);
    et_commit(f);
    expect_win(f, "counts", "k", 0, 22, INT64_MIN);
    assert_int_equal(sl_driver_read(f->drv, "counts", &r), 1);
    assert_int_equal(r.timestamp, 30); /* sessions: the last record's time */
}

static void test_session_emit_final(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_SESSION, .gap_ms = 10, .grace_ms = 5, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "k", "x", 0);
    et_pipe(f, "in", "k", "x", 8);
    et_pipe(f, "in", "j", "x", 10);
    et_pipe(f, "in", "k", "x", 22); /* 8 + 10 + 5 = 23 > 22: [0, 8] still open, and 22 is a new session */
    et_commit(f);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe(f, "in", "x", "x", 25); /* closes k [0, 8] (at 23) and j [10, 10] (at 25) */
    expect_win(f, "counts", "k", 0, 8, 2);
    expect_win(f, "counts", "j", 10, 10, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe(f, "in", "k", "x", 3); /* 3 + 15 <= 25: late */
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 1);
}

static void test_session_never_merges_into_a_closed_session(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_SESSION, .gap_ms = 10, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "k", "x", 0);
    et_pipe(f, "in", "j", "x", 10); /* k [0, 0] closes at 0 + 10 */
    expect_win(f, "counts", "k", 0, 0, 1);
    et_pipe(f, "in", "k", "x", 5); /* on time (5 + 10 > 10), within gap of the closed [0, 0]: a new session */
    et_pipe(f, "in", "x", "x", 100);
    expect_win(f, "counts", "k", 5, 5, 1);
    expect_win(f, "counts", "j", 10, 10, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
}

/* ---- grace, late records, emit final --------------------------------------------------------------- */

static void test_late_record_goes_to_dead_letter_topic(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .grace_ms = 5};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "a", "x", 1);
    et_pipe(f, "in", "a", "x", 20);
    et_pipe(f, "in", "a", "x", 4);  /* [0,10) closed at 15 <= 20: late */
    et_pipe(f, "in", "a", "x", 12); /* [10,20) closes at 25 > 20: on time */
    expect_win(f, "counts", "a", 0, 10, 1);
    expect_win(f, "counts", "a", 20, 30, 1);
    expect_win(f, "counts", "a", 10, 20, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, "win-dlq", &r), 1);
    assert_int_equal(r.timestamp, 4);
    assert_int_equal(r.header_count, 2);
    assert_true(r.headers[0].value_len > 11 && !memcmp(r.headers[0].value, "late record", 11));
    assert_true(et_bytes_eq(r.headers[1].value, r.headers[1].value_len, "count"));
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
    sl_op_stats_t st;
    assert_int_equal(sl_driver_node_stats(f->drv, "count", &st), 0);
    assert_int_equal(st.dead_lettered, 1);
    assert_int_equal(st.records_in, 4);
}

static void test_emit_final_once_per_window_after_grace(void **state)
{
    et_fixture_t *f = *state;
    f->opts.flush = SL_DRIVER_FLUSH_EVERY_RECORD;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .grace_ms = 5, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, true);
    et_open(f);
    et_pipe_num(f, "in", "a", 1, false, 1);
    et_pipe_num(f, "in", "a", 2, false, 3);
    et_pipe_num(f, "in", "b", 5, false, 8);
    et_pipe_num(f, "in", "a", 7, false, 12);
    et_pipe_num(f, "in", "a", 1, false, 14);
    et_pipe_num(f, "in", "a", 1, false, 9); /* within grace: counts in [0,10) */
    et_commit(f);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe_num(f, "in", "a", 1, false, 15); /* stream time 15 = 10 + 5: [0,10) closes */
    expect_win(f, "counts", "a", 0, 10, 3);
    expect_win(f, "counts", "b", 0, 10, 1);
    expect_win(f, "sums", "a", 0, 10, 4);
    expect_win(f, "sums", "b", 0, 10, 5);
    et_commit(f);
    et_pipe_num(f, "in", "a", 1, false, 16);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe_num(f, "in", "a", 1, false, 100); /* closes [10,20) */
    expect_win(f, "counts", "a", 10, 20, 4);
    expect_win(f, "sums", "a", 10, 20, 10);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
}

/* An idle source: no record comes, stream time is advanced (as the runtime's
 * idle timeout does); every kind of emit-final window closes by time alone,
 * once, and retention still drops what closed. */
static void test_windows_close_when_stream_time_advances_without_records(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10, .grace_ms = 5, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, true);
    et_open(f);
    et_pipe_num(f, "in", "a", 2, false, 1);
    et_pipe_num(f, "in", "a", 3, false, 12);
    et_commit(f);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    sl_err_t e = {0};
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 14, &e), 0); /* [0,10) closes at 15: not yet */
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 15, &e), 0);
    expect_win(f, "counts", "a", 0, 10, 1);
    expect_win(f, "sums", "a", 0, 10, 2);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 15, &e), 0); /* not moved: nothing again */
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 1000, &e), 0);
    expect_win(f, "counts", "a", 10, 20, 1);
    expect_win(f, "sums", "a", 10, 20, 3);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_stream_time(f->drv, "count"), 1000);
    et_pipe_num(f, "in", "a", 1, false, 500); /* behind the advanced stream time: late (count and sum) */
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 2);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
}

static void test_sessions_and_sliding_windows_close_on_advance(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_SESSION, .gap_ms = 10, .grace_ms = 5, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "k", "x", 0);
    et_pipe(f, "in", "k", "x", 8);
    sl_err_t e = {0};
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 22, &e), 0); /* closes at 8 + 15 = 23 */
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 23, &e), 0);
    expect_win(f, "counts", "k", 0, 8, 2);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
}

static void test_sliding_window_closes_on_advance(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_SLIDING, .size_ms = 10, .grace_ms = 0, .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "k", "x", 5);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    sl_err_t e = {0};
    assert_int_equal(sl_driver_advance_stream_time(f->drv, 1000, &e), 0);
    assert_true(sl_driver_queued(f->drv, "counts") >= 1); /* the windows holding the record at 5 */
    sl_rec_t r;
    int64_t s, en;
    while (sl_driver_read(f->drv, "counts", &r) == 1) {
        rec_window(&r, &s, &en);
        assert_true(s <= 5 && 5 < en + 1);
    }
    assert_int_equal(sl_driver_queued(f->drv, "win-dlq"), 0);
}

static void test_hopping_final_state_survives_reopen_after_commit(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_HOPPING, .size_ms = 20, .advance_ms = 10,
                          .emit = SL_WINDOW_EMIT_FINAL};
    build_windowed(f, &w, false);
    et_open(f);
    et_pipe(f, "in", "a", "x", 5);
    et_pipe(f, "in", "a", "x", 15);
    et_commit(f);
    et_pipe(f, "in", "a", "x", 16); /* lost: never committed */
    et_reopen(f);
    assert_int_equal(sl_driver_stream_time(f->drv, "count"), 15);
    et_pipe(f, "in", "a", "x", 25); /* closes [0,20) */
    expect_win(f, "counts", "a", 0, 20, 2);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
    et_pipe(f, "in", "a", "x", 40); /* closes [10,30) and [20,40) */
    expect_win(f, "counts", "a", 10, 30, 2);
    expect_win(f, "counts", "a", 20, 40, 1);
    assert_int_equal(sl_driver_queued(f->drv, "counts"), 0);
}

/* ---- generic reduce in windows --------------------------------------------------------------------- */

static int longest(void *arg, const uint8_t *acc, size_t acc_len, const sl_rec_t *rec, sl_buf_t *out, sl_err_t *err)
{
    if ((size_t)rec->value_len > acc_len)
        return sl_buf_append(out, rec->value, (size_t)rec->value_len);
    return sl_buf_append(out, acc, acc_len);
}

static void test_hopping_reduce_updates_each_window(void **state)
{
    et_fixture_t *f = *state;
    sl_window_spec_t w = {.kind = SL_WINDOW_HOPPING, .size_ms = 10, .advance_ms = 5, .grace_ms = 100};
    assert_int_equal(sl_topo_new("red", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "w", "g", &w), 0);
    assert_int_equal(sl_topo_add_reduce(f->topo, "longest", "w", "longest-store", longest, NULL), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "longest", "longest"), 0);
    et_build(f->topo);
    et_open(f);
    et_pipe(f, "in", "k", "ab", 3);    /* windows [0,10) */
    et_pipe(f, "in", "k", "abcd", 7);  /* [0,10), [5,15) */
    et_pipe(f, "in", "k", "xyz", 12);  /* [5,15), [10,20) */
    et_commit(f);
    const char *want[][2] = {{"0", "abcd"}, {"5", "abcd"}, {"10", "xyz"}};
    for (int i = 0; i < 3; i++) {
        sl_rec_t r;
        assert_int_equal(sl_driver_read(f->drv, "longest", &r), 1);
        int64_t s, e;
        rec_window(&r, &s, &e);
        assert_int_equal(s, atoi(want[i][0]));
        assert_int_equal(e, s + 10);
        assert_true(et_bytes_eq(r.value, r.value_len, want[i][1]));
    }
    assert_int_equal(sl_driver_queued(f->drv, "longest"), 0);
}

/* A session aggregate: the sum of the values (decimal text), starting at 0. */
static int merges;

static int dec_init(void *arg, sl_buf_t *out, sl_err_t *err) { return sl_buf_append(out, "0", 1); }

static long dec_value(const uint8_t *p, size_t n)
{
    char s[32];
    snprintf(s, sizeof s, "%.*s", (int)n, (const char *)p);
    return atol(s);
}

static int dec_put(sl_buf_t *out, long v)
{
    char s[32];
    int n = snprintf(s, sizeof s, "%ld", v);
    return sl_buf_append(out, s, (size_t)n);
}

static int dec_add(void *arg, const sl_rec_t *rec, const uint8_t *agg, size_t agg_len, sl_buf_t *out, sl_err_t *err)
{
    if (rec->value_len == 1 && rec->value[0] == '!')
        return sl_err_set(err, SL_E_RECORD, "the value is a bang");
    return dec_put(out, dec_value(agg, agg_len) + dec_value(rec->value, (size_t)rec->value_len));
}

static int dec_merge(void *arg, const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len, const uint8_t *b,
                     size_t b_len, sl_buf_t *out, sl_err_t *err)
{
    assert_true(et_bytes_eq(key, (int32_t)key_len, "k"));
    merges++;
    return dec_put(out, dec_value(a, a_len) + dec_value(b, b_len));
}

static void expect_session(et_fixture_t *f, const char *topic, const char *key, int64_t start, int64_t end,
                           const char *value)
{
    sl_rec_t r;
    assert_int_equal(sl_driver_read(f->drv, topic, &r), 1);
    int64_t s, e;
    rec_window(&r, &s, &e);
    if (!et_bytes_eq(r.key, r.key_len, key) || s != start || e != end || (value ? !et_bytes_eq(r.value, r.value_len, value) : r.value_len >= 0))
        fail_msg("%.*s: [%lld, %lld] = %.*s, expected %s [%lld, %lld] = %s", r.key_len, (const char *)r.key,
                 (long long)s, (long long)e,
                 r.value_len > 0 ? r.value_len : 0, r.value ? (const char *)r.value : "", key, (long long)start,
                 (long long)end, value ? value : "(null)");
}

static void build_session_sum(et_fixture_t *f, sl_window_emit_t emit, int64_t grace_ms)
{
    sl_window_spec_t w = {.kind = SL_WINDOW_SESSION, .gap_ms = 10, .grace_ms = grace_ms, .emit = emit};
    assert_int_equal(sl_topo_new("sess", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "w", "g", &w), 0);
    assert_int_equal(sl_topo_add_aggregate(f->topo, "total", "w", "totals", dec_init, dec_add, NULL), 0);
    assert_int_equal(sl_topo_set_session_merger(f->topo, "total", dec_merge), 0);
    assert_int_equal(sl_topo_add_sink(f->topo, "out", "total", "totals"), 0);
    et_build(f->topo);
    et_open(f);
    merges = 0;
}

static void test_session_aggregate_merges_with_the_merger(void **state)
{
    et_fixture_t *f = *state;
    build_session_sum(f, SL_WINDOW_EMIT_CHANGES, 100);
    et_pipe(f, "in", "k", "1", 0);
    et_pipe(f, "in", "k", "2", 5);  /* within 10 of 0: merged, [0, 5] = 3 */
    et_pipe(f, "in", "k", "4", 22); /* a session of its own */
    et_commit(f);
    assert_int_equal(merges, 1);
    expect_session(f, "totals", "k", 0, 0, NULL); /* merged away before it was ever forwarded */
    expect_session(f, "totals", "k", 0, 5, "3");
    expect_session(f, "totals", "k", 22, 22, "4");
    assert_int_equal(sl_driver_queued(f->drv, "totals"), 0);
    et_pipe(f, "in", "k", "8", 14); /* bridges [0, 5] and [22, 22]: two merges */
    et_pipe(f, "in", "k", "!", 15); /* add fails: dead-lettered, nothing merged */
    et_commit(f);
    expect_session(f, "totals", "k", 0, 5, NULL);
    assert_int_equal(merges, 3);
    expect_session(f, "totals", "k", 0, 22, "15");
    expect_session(f, "totals", "k", 22, 22, NULL);
    assert_int_equal(sl_driver_queued(f->drv, "totals"), 0);
    assert_int_equal(sl_driver_queued(f->drv, "sess-dlq"), 1);
    et_reopen(f); /* the merged session is in the store: a record after the restart joins it */
    et_pipe(f, "in", "k", "16", 30);
    et_commit(f);
    expect_session(f, "totals", "k", 0, 22, NULL);
    expect_session(f, "totals", "k", 0, 30, "31");
}

static void test_session_aggregate_emit_final(void **state)
{
    et_fixture_t *f = *state;
    build_session_sum(f, SL_WINDOW_EMIT_FINAL, 5);
    et_pipe(f, "in", "k", "1", 0);
    et_pipe(f, "in", "k", "2", 8);
    et_pipe(f, "in", "k", "4", 22); /* 8 + 10 + 5 = 23 > 22: [0, 8] is still open; 22 starts a session */
    et_pipe(f, "in", "k", "8", 13); /* joins [0, 8] and [22, 22] */
    et_commit(f);
    assert_int_equal(sl_driver_queued(f->drv, "totals"), 0);
    et_pipe(f, "in", "x", "0", 60); /* closes k [0, 22] (at 37) and nothing else */
    expect_session(f, "totals", "k", 0, 22, "15");
    assert_int_equal(sl_driver_queued(f->drv, "totals"), 0);
    assert_int_equal(merges, 3);
}

/* ---- validation ------------------------------------------------------------------------------------ */

/* Callbacks of topologies that only go through validation (never run). */
static int unrun_init(void *arg, sl_buf_t *out, sl_err_t *err) { return 0; }
static int unrun_add(void *arg, const sl_rec_t *rec, const uint8_t *agg, size_t agg_len, sl_buf_t *out, sl_err_t *err)
{
    return 0;
}

static void test_window_validation(void **state)
{
    et_fixture_t *f = *state;
    sl_err_t err = {0};
    sl_window_spec_t ok = {.kind = SL_WINDOW_TUMBLING, .size_ms = 10};
    sl_window_spec_t hop_bad = {.kind = SL_WINDOW_HOPPING, .size_ms = 10, .advance_ms = 20};
    sl_window_spec_t size_bad = {.kind = SL_WINDOW_TUMBLING, .size_ms = 0};
    sl_window_spec_t sess = {.kind = SL_WINDOW_SESSION, .gap_ms = 5};
    assert_int_equal(sl_topo_new("v", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "w-hop", "src", &hop_bad), SL_E_INVAL);
    assert_int_equal(sl_topo_add_window(f->topo, "w-size", "src", &size_bad), SL_E_INVAL);
    assert_int_equal(sl_topo_build(f->topo, &err), SL_E_INVAL);
    assert_non_null(strstr(err.msg, "node 'w-hop': window advance must be 1..size ms"));
    assert_non_null(strstr(err.msg, "node 'w-size': window size must be 1..2^50 ms"));
    sl_topo_free(f->topo);

    assert_int_equal(sl_topo_new("v", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "w", "src", &ok), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "c", "w", "cs"), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "s", "g", &sess), 0);
    assert_int_equal(sl_topo_add_aggregate(f->topo, "agg", "s", "aggs", unrun_init, unrun_add, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "empty", "g", &ok), 0);
    sl_window_spec_t slide = {.kind = SL_WINDOW_SLIDING, .size_ms = 5};
    assert_int_equal(sl_topo_add_window(f->topo, "sl", "g", &slide), 0);
    assert_int_equal(sl_topo_add_reduce(f->topo, "red", "sl", "reds", longest, NULL), 0);
    assert_int_equal(sl_topo_build(f->topo, &err), SL_E_TOPOLOGY);
    assert_non_null(strstr(err.msg, "node 'w' (window): a window needs a group_by parent, not 'src' (source)"));
    assert_non_null(strstr(err.msg, "node 'agg' (aggregate): session window 's'"));
    assert_non_null(strstr(err.msg, "node 'empty' (window): has no aggregation after it"));
    assert_non_null(strstr(err.msg, "node 'red' (reduce): sliding window 'sl' supports count/sum/min/max/avg only"));
    sl_topo_free(f->topo);

    assert_int_equal(sl_topo_new("m", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_window(f->topo, "t", "g", &ok), 0);
    assert_int_equal(sl_topo_add_aggregate(f->topo, "agg", "t", "aggs", unrun_init, unrun_add, NULL), 0);
    assert_int_equal(sl_topo_set_session_merger(f->topo, "agg", dec_merge), 0);
    assert_int_equal(sl_topo_build(f->topo, &err), SL_E_TOPOLOGY);
    assert_non_null(strstr(err.msg, "node 'agg' (aggregate): has a session merger but no session window parent"));
    sl_topo_free(f->topo);

    assert_int_equal(sl_topo_new("m2", &f->topo), 0);
    assert_int_equal(sl_topo_add_source(f->topo, "src", in_topic, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(f->topo, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(f->topo, "c", "g", "cs"), 0);
    assert_int_equal(sl_topo_set_session_merger(f->topo, "nope", dec_merge), SL_E_NOTFOUND);
    assert_int_equal(sl_topo_set_session_merger(f->topo, "c", dec_merge), SL_E_INVAL);
    assert_int_not_equal(sl_topo_build(f->topo, &err), 0);
    assert_non_null(strstr(err.msg, "node 'c': a session merger is a function, for an aggregate"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tumbling_count_every_update, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_tumbling_count_coalesced_at_commit, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_hopping_changes_forwarded_before_the_window_closes, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_window_after_repartition, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_hopping_final_matches_brute_force, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_hopping_changes_matches_brute_force, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_tumbling_final_table_and_store_match_brute_force, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_tumbling_final_order_mixes_table_and_store, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_tumbling_final_more_keys_than_the_table_holds, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_sliding_final_matches_brute_force, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_sliding_changes_matches_brute_force, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_sliding_changes_closing_between_commits_keeps_last_update, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_sliding_late_and_hand_computed, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_hopping_min_max_avg_combine_panes, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_session_merge_bridges_two_sessions, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_session_emit_final, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_session_never_merges_into_a_closed_session, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_session_aggregate_merges_with_the_merger, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_session_aggregate_emit_final, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_late_record_goes_to_dead_letter_topic, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_emit_final_once_per_window_after_grace, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_windows_close_when_stream_time_advances_without_records, et_setup,
                                        et_teardown),
        cmocka_unit_test_setup_teardown(test_sessions_and_sliding_windows_close_on_advance, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_sliding_window_closes_on_advance, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_hopping_final_state_survives_reopen_after_commit, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_hopping_reduce_updates_each_window, et_setup, et_teardown),
        cmocka_unit_test_setup_teardown(test_window_validation, et_setup, et_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
