/* End to end over the embedded broker's logs: a stream-table join, a
 * repartition, a tumbling window with grace emitting final counts, on 1M
 * clicks, against a reference computed here by a plain loop.
 *
 *   users (table: "u<id>" -> "r<region>")
 *   clicks ("u<id>" -> "c<i>", event-time timestamps)
 *     -> inner join users (value: the region)
 *     -> group by region (repartition topic)
 *     -> tumbling 1-minute window, 10-minute grace, emit final -> count
 *     -> "views-by-region" (key region, msgpack count, sl.window.start/end)
 *
 * The table is loaded first (with region updates and deletes) and the runtime
 * runs until caught up before any click exists, so every click sees the
 * table's final contents: the reference joins with that.  Clicks come in
 * phases of 5 minutes of event time (with up to 3 s of disorder), the runtime
 * catching up after each: a repartition partition mixes records of several
 * upstream tasks in an order that depends on thread timing, and the phases
 * bound that disorder to less than the grace, so no record is ever late and
 * the result does not depend on scheduling.  After the phases, windows whose
 * end + grace the stream time has passed must have been emitted, and no other;
 * then a trailing click per region far in the future closes every remaining
 * window (its own stays open and must not appear).  A third run over the same
 * state with no new input must publish nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_engine_runtime_util.h"
#include "testutil.h"

#define N_CLICKS 1000000L
#define N_USERS 400    /* u0..u399 loaded into the table */
#define N_UNKNOWN 40   /* u400..u439 clicked but never in the table */
#define N_UPDATED 50   /* u0..u49 move to another region before the clicks */
#define N_DELETED 10   /* u390..u399 deleted (tombstones) before the clicks */
#define N_REGIONS 12
#define PARTITIONS 4
#define PHASE 50000L /* clicks per phase: 5 minutes of event time */

#define T0 1700000040000LL /* event time of click 0 */
#define STEP_MS 6          /* between consecutive clicks: 10k clicks per minute */
#define JITTER_MS 3000     /* a click's timestamp is up to this much earlier */
#define WIN_MS 60000LL
#define GRACE_MS 600000LL
#define T_FAR (T0 + 100LL * 24 * 3600 * 1000) /* the trailing clicks */

#define N_WIN ((N_CLICKS * STEP_MS) / WIN_MS + 2)
#define W_BASE (((T0 - JITTER_MS) / WIN_MS) * WIN_MS) /* first window start of any click */

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int click_user(long i) { return (int)(mix((uint64_t)i) % (N_USERS + N_UNKNOWN)); }
static int64_t click_ts(long i)
{
    return T0 + (int64_t)i * STEP_MS - (int64_t)(mix((uint64_t)i ^ 0x5bd1e995u) % JITTER_MS);
}
static int initial_region(int u) { return (int)(mix((uint64_t)u + 77777) % N_REGIONS); }

/* The table's contents once every user record is in: region, or -1. */
static int final_region(int u)
{
    if (u >= N_USERS || u >= N_USERS - N_DELETED)
        return -1;
    return u < N_UPDATED ? (initial_region(u) + 5) % N_REGIONS : initial_region(u);
}

/* ---- producing ------------------------------------------------------------------------------------- */

typedef struct rec_gen {
    char key[32], value[32];
    bool tombstone;
    int64_t ts;
} rec_gen_t;

typedef void (*gen_fn)(long i, rec_gen_t *r);

/* Append records first..first+n-1 of gen to topic, each to the partition of its key. */
static void produce(sl_rt_logs_t *logs, const char *topic, long first, long n, gen_fn gen)
{
    RTU_CHECK(logs->create_topic(logs->ctx, topic, PARTITIONS, &rtu_err));
    sl_batch_builder_t b[PARTITIONS];
    void *parts[PARTITIONS];
    sl_buf_t out;
    sl_buf_init(&out);
    for (int32_t p = 0; p < PARTITIONS; p++) {
        sl_batch_builder_init(&b[p]);
        sl_batch_builder_begin(&b[p], SL_COMPRESSION_NONE, 0);
        RTU_CHECK(logs->open(logs->ctx, topic, p, &parts[p], &rtu_err));
    }
    for (long i = first; i < first + n; i++) {
        rec_gen_t r = {0};
        gen(i, &r);
        int32_t p = sl_partition_for_key(r.key, strlen(r.key), PARTITIONS);
        RTU_CHECK(sl_batch_builder_add(&b[p], r.ts, r.key, (int32_t)strlen(r.key), r.tombstone ? NULL : r.value,
                                       r.tombstone ? -1 : (int32_t)strlen(r.value), NULL, 0));
        if (b[p].count == 1000)
            rtu_flush_builder(logs, parts[p], &b[p], &out);
    }
    for (int32_t p = 0; p < PARTITIONS; p++) {
        if (b[p].count)
            rtu_flush_builder(logs, parts[p], &b[p], &out);
        RTU_CHECK(logs->sync(parts[p], &rtu_err));
        sl_batch_builder_free(&b[p]);
    }
    sl_buf_free(&out);
}

#define N_USER_RECS (N_USERS + N_UPDATED + N_DELETED)

/* The users topic: every user, then the updates, then the deletes. */
static void gen_user(long i, rec_gen_t *r)
{
    int u;
    if (i < N_USERS) {
        u = (int)i;
        snprintf(r->value, sizeof r->value, "r%d", initial_region(u));
        r->ts = 1;
    } else if (i < N_USERS + N_UPDATED) {
        u = (int)(i - N_USERS);
        snprintf(r->value, sizeof r->value, "r%d", final_region(u));
        r->ts = 2;
    } else {
        u = N_USERS - N_DELETED + (int)(i - N_USERS - N_UPDATED);
        r->tombstone = true;
        r->ts = 3;
    }
    snprintf(r->key, sizeof r->key, "u%d", u);
}

static void gen_click(long i, rec_gen_t *r)
{
    snprintf(r->key, sizeof r->key, "u%d", click_user(i));
    snprintf(r->value, sizeof r->value, "c%ld", i);
    r->ts = click_ts(i);
}

/* Trailing click i: the first known user of region i, far in the future. */
static int g_trailing_user[N_REGIONS];
static void gen_trailing(long i, rec_gen_t *r)
{
    snprintf(r->key, sizeof r->key, "u%d", g_trailing_user[i]);
    snprintf(r->value, sizeof r->value, "t%ld", i);
    r->ts = T_FAR + i;
}

/* ---- the topology ---------------------------------------------------------------------------------- */

static int region_of_user(void *arg, const sl_rec_t *left, const sl_rec_t *right, sl_buf_t *out, sl_err_t *err)
{
    (void)arg;
    (void)left;
    (void)err;
    return sl_buf_append(out, right->value, (size_t)right->value_len);
}

static int key_by_value(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    (void)arg;
    (void)err;
    return sl_buf_append(key, rec->value, (size_t)rec->value_len) == 0 ? 1 : SL_E_NOMEM;
}

static sl_topo_t *build_topology(void)
{
    sl_topo_t *t;
    RTU_CHECK(sl_topo_new("e2e", &t));
    const char *clicks[] = {"clicks"};
    sl_join_spec_t js = {.kind = SL_JOIN_STREAM_TABLE, .type = SL_JOIN_INNER, .joiner = region_of_user};
    sl_window_spec_t ws = {
        .kind = SL_WINDOW_TUMBLING, .size_ms = WIN_MS, .grace_ms = GRACE_MS, .emit = SL_WINDOW_EMIT_FINAL};
    RTU_CHECK(sl_topo_add_source(t, "clicks", clicks, 1, NULL));
    RTU_CHECK(sl_topo_add_table(t, "users", "users", "users-store", NULL));
    RTU_CHECK(sl_topo_add_join(t, "with-region", "clicks", "users", &js));
    RTU_CHECK(sl_topo_add_group_by(t, "by-region", "with-region", key_by_value, NULL));
    RTU_CHECK(sl_topo_add_window(t, "minute", "by-region", &ws));
    RTU_CHECK(sl_topo_add_count(t, "views", "minute", "views-store"));
    RTU_CHECK(sl_topo_add_sink(t, "out", "views", "views-by-region"));
    RTU_CHECK(sl_topo_build(t, &rtu_err));
    return t;
}

/* ---- fixture --------------------------------------------------------------------------------------- */

typedef struct fx {
    char *dir, data[300], state[300];
    sl_rt_logs_t *logs;
} fx_t;

static int fx_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("e2e");
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->state, sizeof f->state, "%s/state", f->dir);
    assert_int_equal(sl_rt_logs_embedded(f->data, &f->logs, &rtu_err), 0);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *f = *state;
    sl_rt_logs_free(f->logs);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static sl_runtime_t *fx_runtime(fx_t *f, const sl_topo_t *t)
{
    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = f->state;
    o.logs = f->logs;
    o.threads = 2;
    o.sync = false;
    sl_runtime_t *rt;
    sl_err_t err = {0};
    int rc = sl_runtime_new(t, &o, &rt, &err);
    if (rc)
        fail_msg("sl_runtime_new: %d %s", rc, err.msg);
    return rt;
}

static void wait_caught_up(sl_runtime_t *rt, int timeout_s)
{
    int64_t deadline = sl_now_ms() + timeout_s * 1000LL;
    while (!sl_runtime_caught_up(rt)) {
        if (sl_now_ms() > deadline)
            fail_msg("runtime did not catch up in %d s", timeout_s);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

/* ---- reading the output ---------------------------------------------------------------------------- */

static int64_t be64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

typedef struct seen {
    int64_t count[N_REGIONS][N_WIN]; /* -1: not published */
    long records, duplicates, far, malformed;
    sl_codec_t *codec;
} seen_t;

static void on_window(void *arg, const sl_record_t *r, const sl_batch_header_t *h)
{
    (void)h;
    seen_t *s = arg;
    s->records++;
    int64_t start = -1, end = -1;
    size_t pos = 0;
    int32_t idx = 0;
    sl_header_t hd;
    while (sl_record_header_next(r, &pos, &idx, &hd) == 1) {
        if (hd.key_len == 15 && !memcmp(hd.key, "sl.window.start", 15) && hd.value_len == 8)
            start = be64(hd.value);
        else if (hd.key_len == 13 && !memcmp(hd.key, "sl.window.end", 13) && hd.value_len == 8)
            end = be64(hd.value);
    }
    int region = -1;
    if (r->key_len >= 2 && r->key_len < 8 && r->key[0] == 'r') {
        char k[8];
        memcpy(k, r->key + 1, (size_t)r->key_len - 1);
        k[r->key_len - 1] = 0;
        region = atoi(k);
    }
    if (start >= T_FAR - WIN_MS) {
        s->far++; /* a window of the trailing clicks: must never close */
        return;
    }
    int64_t w = (start - W_BASE) / WIN_MS;
    if (region < 0 || region >= N_REGIONS || end != start + WIN_MS || (start - W_BASE) % WIN_MS || w < 0 ||
        w >= N_WIN || r->timestamp != end - 1 || r->value_len <= 0) {
        s->malformed++;
        return;
    }
    if (s->count[region][w] >= 0)
        s->duplicates++;
    s->count[region][w] = rtu_int(s->codec, r->value, r->value_len);
}

static seen_t *read_output(fx_t *f)
{
    seen_t *s = calloc(1, sizeof *s);
    memset(s->count, 0xff, sizeof s->count); /* all -1 */
    assert_int_equal(sl_codec_new(&s->codec), 0);
    int32_t parts = 0;
    assert_int_equal(f->logs->partitions(f->logs->ctx, "views-by-region", &parts, &rtu_err), 0);
    assert_int_equal(parts, PARTITIONS);
    for (int32_t p = 0; p < parts; p++)
        rtu_read_all(f->logs, "views-by-region", p, on_window, s);
    assert_int_equal(s->malformed, 0);
    assert_int_equal(s->duplicates, 0);
    assert_int_equal(s->far, 0);
    return s;
}

static void free_seen(seen_t *s)
{
    sl_codec_free(s->codec);
    free(s);
}

static int64_t end_offsets(fx_t *f, const char *topic)
{
    int64_t sum = 0;
    for (int32_t p = 0; p < PARTITIONS; p++) {
        void *part;
        RTU_CHECK(f->logs->open(f->logs->ctx, topic, p, &part, &rtu_err));
        sum += f->logs->end_offset(part);
    }
    return sum;
}

/* ---- the reference --------------------------------------------------------------------------------- */

typedef struct ref {
    int64_t count[N_REGIONS][N_WIN];
    int64_t max_ts[N_REGIONS]; /* latest joined click of the region */
    int64_t max_ts_all;        /* latest click of all */
    long joined, windows;
} ref_t;

static ref_t *reference(void)
{
    ref_t *r = calloc(1, sizeof *r);
    for (int g = 0; g < N_REGIONS; g++)
        r->max_ts[g] = INT64_MIN;
    r->max_ts_all = INT64_MIN;
    for (long i = 0; i < N_CLICKS; i++) {
        int64_t ts = click_ts(i);
        if (ts > r->max_ts_all)
            r->max_ts_all = ts;
        int g = final_region(click_user(i));
        if (g < 0)
            continue; /* inner join: unknown or deleted user */
        int64_t w = (ts / WIN_MS * WIN_MS - W_BASE) / WIN_MS;
        assert_true(w >= 0 && w < N_WIN);
        if (!r->count[g][w]++)
            r->windows++;
        if (ts > r->max_ts[g])
            r->max_ts[g] = ts;
        r->joined++;
    }
    return r;
}

/* ---- the test -------------------------------------------------------------------------------------- */

static void test_windowed_count_of_stream_table_join_matches_reference(void **state)
{
    fx_t *f = *state;
    ref_t *ref = reference();
    for (int g = 0; g < N_REGIONS; g++) {
        g_trailing_user[g] = -1;
        for (int u = 0; u < N_USERS && g_trailing_user[g] < 0; u++)
            if (final_region(u) == g)
                g_trailing_user[g] = u;
        assert_true(g_trailing_user[g] >= 0); /* every region has users */
    }
    /* the data exercises what it should: unknown users, deleted and updated ones */
    assert_true(ref->joined < N_CLICKS * 92 / 100 && ref->joined > N_CLICKS * 85 / 100);

    sl_topo_t *t = build_topology();
    assert_int_equal(sl_topo_subtopology_count(t), 2);
    assert_int_equal(sl_topo_repartition_count(t), 1);
    const char *repartition = sl_topo_repartition_topic(t, 0);

    /* run 1: the table, then the clicks phase by phase */
    int64_t t0 = sl_mono_ns();
    produce(f->logs, "users", 0, N_USER_RECS, gen_user);
    produce(f->logs, "clicks", 0, 0, gen_click); /* the topic exists before the runtime opens */
    sl_runtime_t *rt = fx_runtime(f, t);
    RTU_CHECK(sl_runtime_start(rt, &rtu_err));
    wait_caught_up(rt, 30);
    for (long first = 0; first < N_CLICKS; first += PHASE) {
        produce(f->logs, "clicks", first, PHASE, gen_click);
        wait_caught_up(rt, 60);
    }
    RTU_CHECK(sl_runtime_stop(rt, &rtu_err));
    assert_true(sl_runtime_caught_up(rt));
    sl_runtime_stats_t st1;
    sl_runtime_stats(rt, &st1);
    sl_runtime_close(rt);
    double secs1 = (double)(sl_mono_ns() - t0) / 1e9;

    /* emit final so far: exactly the windows whose end + grace stream time passed */
    seen_t *s = read_output(f);
    long early = 0, missing = 0, wrong = 0, emitted = 0;
    for (int g = 0; g < N_REGIONS; g++)
        for (long w = 0; w < N_WIN; w++) {
            int64_t end = W_BASE + (w + 1) * WIN_MS;
            if (s->count[g][w] < 0) {
                /* the task's stream time is at least the region's latest click */
                missing += ref->count[g][w] > 0 && end + GRACE_MS <= ref->max_ts[g];
                continue;
            }
            emitted++;
            early += end + GRACE_MS > ref->max_ts_all; /* no task's stream time got there */
            wrong += s->count[g][w] != ref->count[g][w];
        }
    if (early || missing || wrong)
        fail_msg("before the trailing clicks: %ld windows emitted before closing, %ld closed ones missing, "
                 "%ld with a wrong count",
                 early, missing, wrong);
    assert_true(emitted > 0 && emitted < ref->windows);
    assert_int_equal(emitted, s->records);
    print_message("    run 1: %ld user records, %ld clicks (%ld joined) in %.2f s: %d tasks on %d threads, "
                  "%llu records in, %llu out, %llu commits; %ld windows closed\n",
                  (long)N_USER_RECS, N_CLICKS, ref->joined, secs1, st1.tasks, st1.threads,
                  (unsigned long long)st1.records_in, (unsigned long long)st1.records_out,
                  (unsigned long long)st1.commits, emitted);
    assert_int_equal(st1.tasks, 2 * PARTITIONS);
    /* the table's records, the clicks, and the joined clicks again from the repartition topic */
    assert_int_equal(st1.records_in, N_USER_RECS + N_CLICKS + ref->joined);
    /* the joined clicks to the repartition topic, the closed windows to the output */
    assert_int_equal(st1.records_out, ref->joined + emitted);
    assert_int_equal(st1.dead_lettered, 0);
    assert_int_equal(end_offsets(f, repartition), ref->joined);
    free_seen(s);

    /* run 2 (a restart: open windows come back from the state): the trailing clicks close them all */
    produce(f->logs, "clicks", 0, N_REGIONS, gen_trailing);
    rt = fx_runtime(f, t);
    rtu_run_to_end(rt, 60);
    sl_runtime_stats_t st2;
    sl_runtime_stats(rt, &st2);
    sl_runtime_close(rt);
    s = read_output(f);
    wrong = missing = 0;
    for (int g = 0; g < N_REGIONS; g++)
        for (long w = 0; w < N_WIN; w++) {
            if (ref->count[g][w] == 0 && s->count[g][w] < 0)
                continue; /* no click: no window */
            missing += s->count[g][w] < 0;
            wrong += s->count[g][w] >= 0 && s->count[g][w] != ref->count[g][w];
        }
    if (wrong || missing)
        fail_msg("%ld windows with a wrong count, %ld missing (of %ld)", wrong, missing, ref->windows);
    assert_int_equal(s->records, ref->windows); /* each window exactly once, nothing else */
    assert_int_equal(st2.records_in, 2 * N_REGIONS);
    assert_int_equal(st2.records_out, N_REGIONS + (ref->windows - emitted));
    assert_int_equal(st2.dead_lettered, 0);
    assert_int_equal(st2.republished, 0);
    free_seen(s);

    /* run 3: nothing new in, nothing new out */
    int64_t out_end = end_offsets(f, "views-by-region"), rp_end = end_offsets(f, repartition);
    rt = fx_runtime(f, t);
    rtu_run_to_end(rt, 30);
    sl_runtime_stats_t st3;
    sl_runtime_stats(rt, &st3);
    sl_runtime_close(rt);
    assert_int_equal(st3.records_in, 0);
    assert_int_equal(st3.records_out, 0);
    assert_int_equal(st3.republished, 0);
    assert_int_equal(end_offsets(f, "views-by-region"), out_end);
    assert_int_equal(end_offsets(f, repartition), rp_end);
    assert_int_equal(out_end, ref->windows);
    int32_t dlq_parts = -1;
    int rc = f->logs->partitions(f->logs->ctx, "e2e-dlq", &dlq_parts, &rtu_err);
    assert_true(rc == SL_E_NOTFOUND || (rc == 0 && end_offsets(f, "e2e-dlq") == 0));
    print_message("    %ld windows of %d regions, total %.2f s\n", ref->windows, N_REGIONS,
                  (double)(sl_mono_ns() - t0) / 1e9);

    free(ref);
    sl_topo_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_windowed_count_of_stream_table_join_matches_reference, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
