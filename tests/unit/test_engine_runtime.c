/* The runtime over the embedded broker's logs: murmur2 against Kafka's test
 * vectors; a word count over real logs (1M words through a repartition topic)
 * against a count made here; a clean restart with no loss or repeat;
 * re-publication of checkpointed output after a failed append; the dead-letter
 * topic; stream time on an idle source; co-partitioning and missing topics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_engine_runtime_util.h"
#include "testutil.h"

#define WORDS 5000
#define WORDS_PER_LINE 5

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int word_of(long line, int j)
{
    double u = (double)(mix((uint64_t)line * 8 + (uint64_t)j) >> 11) / 9007199254740992.0;
    return (int)(WORDS * u * u) % WORDS; /* skewed: low words are hot */
}

static void gen_line(void *arg, long i, char *k, size_t kc, char *v, size_t vc)
{
    snprintf(k, kc, "line%ld", i);
    size_t n = 0;
    for (int j = 0; j < WORDS_PER_LINE; j++)
        n += (size_t)snprintf(v + n, vc - n, "%sw%d", j ? " " : "", word_of(i, j));
}

/* ---- fixture: a data folder (topics) and a state folder -------------------------------------------- */

typedef struct fx {
    char *dir, data[300], state[300];
    sl_rt_logs_t *logs;
} fx_t;

static int fx_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("runtime");
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

/* A runtime over the fixture's logs (commit_ms 0: the default interval). */
static sl_runtime_t *fx_runtime_every(fx_t *f, const sl_topo_t *t, int threads, int64_t commit_ms)
{
    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = f->state;
    o.logs = f->logs;
    o.threads = threads;
    o.sync = false;
    if (commit_ms > 0)
        o.commit_interval_ms = commit_ms;
    o.purge_interval_ms = 1; /* purge internal topics at every commit: exactly-once must hold all the same */
    sl_runtime_t *rt;
    sl_err_t err = {0};
    int rc = sl_runtime_new(t, &o, &rt, &err);
    if (rc)
        fail_msg("sl_runtime_new: %d %s", rc, err.msg);
    return rt;
}

static sl_runtime_t *fx_runtime(fx_t *f, const sl_topo_t *t, int threads) { return fx_runtime_every(f, t, threads, 0); }

/* ---- checking the word counts ---------------------------------------------------------------------- */

typedef struct counts {
    int64_t last[WORDS]; /* last count published per word */
    long records, not_increasing;
    sl_codec_t *codec;
} counts_t;

static void on_count(void *arg, const sl_record_t *r, const sl_batch_header_t *h)
{
    counts_t *c = arg;
    int w = atoi((const char *)r->key + 1); /* "w123" */
    int64_t v = rtu_int(c->codec, r->value, r->value_len);
    if (v <= c->last[w])
        c->not_increasing++; /* a repeated or replayed update */
    c->last[w] = v;
    c->records++;
}

static void check_counts(fx_t *f, const char *topic, long lines)
{
    static int64_t want[WORDS];
    memset(want, 0, sizeof want);
    for (long i = 0; i < lines; i++)
        for (int j = 0; j < WORDS_PER_LINE; j++)
            want[word_of(i, j)]++;
    counts_t *c = calloc(1, sizeof *c);
    assert_int_equal(sl_codec_new(&c->codec), 0);
    int32_t parts = 0;
    assert_int_equal(f->logs->partitions(f->logs->ctx, topic, &parts, &rtu_err), 0);
    for (int32_t p = 0; p < parts; p++)
        rtu_read_all(f->logs, topic, p, on_count, c);
    long wrong = 0;
    for (int w = 0; w < WORDS; w++)
        wrong += c->last[w] != want[w];
    if (wrong || c->not_increasing)
        fail_msg("%ld words with a wrong final count, %ld updates not increasing", wrong, c->not_increasing);
    print_message("    %ld count updates published for %ld words\n", c->records, (long)lines * WORDS_PER_LINE);
    sl_codec_free(c->codec);
    free(c);
}

/* Wait (at most 60 s) until rt has processed every record of its inputs; fail if it has not. */
static void wait_drained(sl_runtime_t *rt)
{
    int64_t deadline = sl_now_ms() + 60000;
    while (!sl_runtime_drained(rt) && sl_now_ms() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(sl_runtime_drained(rt));
}

/* ---- tests ------------------------------------------------------------------------------------------- */

static void test_murmur2_matches_kafka_test_vectors(void **state)
{
    (void)state;
    /* Kafka's UtilsTest.testMurmur2 and librdkafka's rdmurmur2 unit test */
    static const struct {
        const char *key;
        int32_t hash;
    } v[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
        {"kafka", (int32_t)0xd067cf64},
        {"1", -1993445489},
        {"12", 126087238},
        {"123", -267702483},
        {"1234", -1614185708},
        {"12345", -1188365604},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(sl_murmur2(v[i].key, strlen(v[i].key)), v[i].hash);
}

static void test_partition_for_key_is_positive_hash_modulo_partitions(void **state)
{
    (void)state;
    /* "kafka": 0xd067cf64 & 0x7fffffff = 0x5067cf64 = 1348980580 */
    assert_int_equal(sl_partition_for_key("kafka", 5, 1000), 1348980580 % 1000);
    assert_int_equal(sl_partition_for_key("21", 2, 7), (int32_t)((uint32_t)-973932308 & 0x7fffffff) % 7);
    for (int i = 0; i < 1000; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        int32_t p = sl_partition_for_key(k, strlen(k), 6);
        assert_true(p >= 0 && p < 6);
    }
}

static void test_wordcount_over_embedded_logs_matches_reference(void **state)
{
    fx_t *f = *state;
    const long lines = 200000; /* 1M words through the repartition topic */
    rtu_produce(f->logs, "text", 4, 0, lines, gen_line, NULL);
    sl_topo_t *t = rtu_wordcount("wc", "text", "word-counts", NULL);
    sl_runtime_t *rt = fx_runtime(f, t, 2);
    int64_t t0 = sl_mono_ns();
    rtu_run_to_end(rt, 120);
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    print_message("    %d tasks on %d threads: %llu records in %.2f s (%.0f/s), %llu out, %llu commits\n", st.tasks,
                  st.threads, (unsigned long long)st.records_in, secs, (double)st.records_in / secs,
                  (unsigned long long)st.records_out, (unsigned long long)st.commits);
    assert_int_equal(st.tasks, 8); /* 2 sub-topologies x 4 partitions */
    assert_int_equal(st.records_in, lines + lines * WORDS_PER_LINE);
    assert_int_equal(st.dead_lettered, 0);
    sl_runtime_close(rt);
    check_counts(f, "word-counts", lines);
    /* the words that crossed workers through the repartition topic were purged once consumed: reading from
     * offset 0 starts past it */
    int64_t first_total = 0;
    for (int32_t p = 0; p < 4; p++) {
        void *part;
        sl_err_t e = {0};
        assert_int_equal(f->logs->open(f->logs->ctx, sl_topo_repartition_topic(t, 0), p, &part, &e), 0);
        sl_buf_t b;
        sl_buf_init(&b);
        assert_int_equal(f->logs->read(part, 0, 4096, &b, &e), 0);
        sl_batch_header_t h;
        if (b.len >= SL_BATCH_HEADER_SIZE && sl_batch_parse_header(b.data, b.len, &h, &e) == 0)
            first_total += h.base_offset;
        sl_buf_free(&b);
    }
    assert_true(first_total > 0);
    sl_topo_free(t);
}

/* Drained: every record processed, before any commit covers it (a commit
 * interval longer than the test); stop then commits it all. */
static void test_drained_before_the_commit_and_stop_commits(void **state)
{
    fx_t *f = *state;
    const long lines = 20000;
    rtu_produce(f->logs, "text", 1, 0, lines, gen_line, NULL);
    sl_topo_t *t = rtu_wordcount("wc", "text", "word-counts", NULL);
    sl_runtime_t *rt = fx_runtime_every(f, t, 1, 3600 * 1000);
    sl_err_t err = {0};
    assert_false(sl_runtime_drained(rt));
    assert_int_equal(sl_runtime_start(rt, &err), 0);
    wait_drained(rt);
    assert_false(sl_runtime_caught_up(rt)); /* processed, not committed */
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    assert_int_equal(st.records_in, lines + lines * WORDS_PER_LINE);
    assert_int_equal(st.commits, 0);
    assert_int_equal(sl_runtime_stop(rt, &err), 0);
    assert_true(sl_runtime_caught_up(rt));
    sl_runtime_close(rt);
    check_counts(f, "word-counts", lines);
    sl_topo_free(t);
}

/* commit_us is time spent committing: a reader's commit runs inside its
 * writer's (hand-offs), and counting it for both would report more time in
 * commits than the run took when commits are most of it. */
static void test_time_in_commits_counts_nested_commits_once(void **state)
{
    fx_t *f = *state;
    const long lines = 60000;
    rtu_produce(f->logs, "text", 1, 0, lines, gen_line, NULL);
    sl_topo_t *t = rtu_wordcount("wc", "text", "word-counts", NULL);
    sl_runtime_t *rt = fx_runtime_every(f, t, 1, 1); /* commits back to back */
    int64_t t0 = sl_mono_ns();
    rtu_run_to_end(rt, 60);
    uint64_t wall_us = (uint64_t)(sl_mono_ns() - t0) / 1000;
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    print_message("    %llu commits: %llu us of %llu us\n", (unsigned long long)st.commits,
                  (unsigned long long)st.commit_us, (unsigned long long)wall_us);
    assert_true(st.commits > 2);
    assert_true(st.commit_us > 0);
    assert_true(st.commit_us <= wall_us);
    sl_runtime_close(rt);
    check_counts(f, "word-counts", lines);
    sl_topo_free(t);
}

typedef struct copy_check {
    sl_rt_logs_t *logs;
    long n;
} copy_check_t;

static void on_line(void *arg, const sl_record_t *r, const sl_batch_header_t *h)
{
    (void)h;
    sl_buf_t *b = arg;
    sl_buf_append(b, r->key, (size_t)r->key_len);
    sl_buf_append(b, "=", 1);
    sl_buf_append(b, r->value, (size_t)r->value_len);
    sl_buf_append(b, "\n", 1);
}

/* Partition by partition, the copy topic holds exactly the input, in order. */
static void check_copy(fx_t *f, const char *in, const char *copy, int32_t parts)
{
    for (int32_t p = 0; p < parts; p++) {
        sl_buf_t a, b;
        sl_buf_init(&a);
        sl_buf_init(&b);
        rtu_read_all(f->logs, in, p, on_line, &a);
        rtu_read_all(f->logs, copy, p, on_line, &b);
        assert_true(a.len > 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        sl_buf_free(&a);
        sl_buf_free(&b);
    }
}

static void test_clean_restart_resumes_without_loss_or_repeat(void **state)
{
    fx_t *f = *state;
    sl_topo_t *t = rtu_wordcount("wc2", "text", "word-counts", "text-copy");
    rtu_produce(f->logs, "text", 3, 0, 30000, gen_line, NULL);
    sl_runtime_t *rt = fx_runtime(f, t, 3);
    rtu_run_to_end(rt, 60);
    sl_runtime_close(rt);
    rtu_produce(f->logs, "text", 3, 30000, 30000, gen_line, NULL);
    rt = fx_runtime(f, t, 1); /* another thread count: state is per task, not per thread */
    sl_runtime_stats_t st;
    rtu_run_to_end(rt, 60);
    sl_runtime_stats(rt, &st);
    assert_int_equal(st.records_in, 30000 + 30000 * WORDS_PER_LINE); /* only the new records */
    assert_int_equal(st.republished, 0);
    sl_runtime_close(rt);
    check_copy(f, "text", "text-copy", 3);
    check_counts(f, "word-counts", 60000);
    sl_topo_free(t);
}

/* Logs whose appends fail after the first `g_appends_left`: the commit that
 * meets the failure has its checkpoint (with its batches) but not its output. */
static sl_rt_logs_t *g_inner;
static int g_appends_left;
static void *g_counts_parts[2]; /* word-counts: the stateful task's output, appended after its checkpoint */

static int failing_append(void *part, const uint8_t *batch, size_t len, sl_err_t *err)
{
    if ((part == g_counts_parts[0] || part == g_counts_parts[1]) &&
        __atomic_fetch_sub(&g_appends_left, 1, __ATOMIC_SEQ_CST) <= 0)
        return sl_err_set(err, SL_E_IO, "append refused by the test");
    return g_inner->append(part, batch, len, err);
}

static void test_checkpointed_batches_missing_from_the_log_are_published_at_open(void **state)
{
    fx_t *f = *state;
    sl_topo_t *t = rtu_wordcount("rp", "text", "word-counts", "text-copy");
    rtu_produce(f->logs, "text", 2, 0, 20000, gen_line, NULL);
    sl_rt_logs_t failing = *f->logs, *plain = f->logs;
    g_inner = plain;
    /* the second append of counts fails: each partition's count task appends at its first commit, so the
     * failure comes whether the input takes one commit interval or many (a later one never might) */
    g_appends_left = 1;
    sl_err_t cerr = {0};
    assert_int_equal(plain->create_topic(plain->ctx, "word-counts", 2, &cerr), 0);
    for (int p = 0; p < 2; p++)
        assert_int_equal(plain->open(plain->ctx, "word-counts", p, &g_counts_parts[p], &cerr), 0);
    failing.append = failing_append;
    f->logs = &failing;
    sl_runtime_t *rt = fx_runtime(f, t, 2);
    f->logs = plain;
    sl_err_t err = {0};
    assert_int_equal(sl_runtime_run(rt, &err), SL_E_IO); /* stops itself on the failed append */
    assert_non_null(strstr(err.msg, "refused"));
    sl_runtime_close(rt);
    rt = fx_runtime(f, t, 2);
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    assert_true(st.republished > 0);
    rtu_run_to_end(rt, 60);
    sl_runtime_close(rt);
    check_copy(f, "text", "text-copy", 2);
    check_counts(f, "word-counts", 20000);
    sl_topo_free(t);
}

static int fail_on_bad(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *s, sl_err_t *err)
{
    if (in->value_len == 3 && !memcmp(in->value, "bad", 3))
        return sl_err_set(err, SL_E_RECORD, "bad value");
    return 0;
}

static void gen_bad(void *arg, long i, char *k, size_t kc, char *v, size_t vc)
{
    snprintf(k, kc, "k%ld", i);
    snprintf(v, vc, "%s", i % 10 == 3 ? "bad" : "good");
}

typedef struct dlq_check {
    long n, with_reason;
} dlq_check_t;

static void on_dead(void *arg, const sl_record_t *r, const sl_batch_header_t *h)
{
    dlq_check_t *d = arg;
    size_t pos = 0;
    int32_t idx = 0;
    sl_header_t hd;
    assert_true(r->value_len == 3 && !memcmp(r->value, "bad", 3));
    while (sl_record_header_next(r, &pos, &idx, &hd) == 1)
        if (hd.key_len == 8 && !memcmp(hd.key, "sl.error", 8) && hd.value_len == 9 && !memcmp(hd.value, "bad value", 9))
            d->with_reason++;
    d->n++;
}

static void test_failed_records_go_to_the_dead_letter_topic(void **state)
{
    fx_t *f = *state;
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("dl", &t), 0);
    const char *in[] = {"in"};
    assert_int_equal(sl_topo_add_source(t, "src", in, 1, NULL), 0);
    assert_int_equal(sl_topo_add_map(t, "check", "src", fail_on_bad, NULL), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "check", "good"), 0);
    assert_int_equal(sl_topo_build(t, &rtu_err), 0);
    rtu_produce(f->logs, "in", 2, 0, 1000, gen_bad, NULL);
    sl_runtime_t *rt = fx_runtime(f, t, 2);
    rtu_run_to_end(rt, 60);
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    assert_int_equal(st.dead_lettered, 100);
    sl_runtime_close(rt);
    dlq_check_t d = {0, 0};
    int32_t parts = 0;
    assert_int_equal(f->logs->partitions(f->logs->ctx, "dl-dlq", &parts, &rtu_err), 0);
    for (int32_t p = 0; p < parts; p++)
        rtu_read_all(f->logs, "dl-dlq", p, on_dead, &d);
    assert_int_equal(d.n, 100);
    assert_int_equal(d.with_reason, 100);
    sl_topo_free(t);
}

/* ---- hand-offs in memory: what waits in the reader's queue ------------------------------------------ */

#define HO_RECS 3000
#define HO_KEYS 50
#define HO_BIG (100 * 1024) /* more than the reader's queue arena: goes through at once */

static uint8_t ho_byte(long i) { return (uint8_t)('a' + i % 26); }

/* What record i adds to its key's sum: its value's length and bytes, and 10^6 when it has a header. */
static int64_t ho_weight(const uint8_t *v, int32_t n, size_t headers)
{
    int64_t w = n + (headers ? 1000000 : 0);
    for (int32_t j = 0; j < n; j++)
        w += v[j];
    return w;
}

/* A new key and a copy of the value, both in the scratch buffers (so the hand-off must copy them). */
static int ho_rekey(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *s, sl_err_t *err)
{
    long i = atol((const char *)in->key);
    char k[16];
    int kn = snprintf(k, sizeof k, "K%ld", i % HO_KEYS);
    if (sl_buf_append(&s->key, k, (size_t)kn) || sl_buf_append(&s->value, in->value, (size_t)in->value_len))
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    out->key = s->key.data;
    out->key_len = kn;
    out->value = s->value.data;
    return 0;
}

static int ho_init(void *arg, sl_buf_t *out, sl_err_t *err)
{
    int64_t z = 0;
    return sl_buf_append(out, &z, sizeof z) ? -1 : 0;
}

static int ho_add(void *arg, const sl_rec_t *rec, const uint8_t *agg, size_t agg_len, sl_buf_t *out, sl_err_t *err)
{
    int64_t sum;
    memcpy(&sum, agg, sizeof sum);
    sum += ho_weight(rec->value, rec->value_len, rec->header_count);
    return sl_buf_append(out, &sum, sizeof sum) ? -1 : 0;
}

static void on_sum(void *arg, const sl_record_t *r, const sl_batch_header_t *h)
{
    int64_t *sums = arg;
    assert_int_equal(r->value_len, 8);
    memcpy(&sums[atoi((const char *)r->key + 1)], r->value, 8);
}

/* Records re-keyed by a map (bytes in its scratch, copied into the queue), some
 * with headers and some larger than the queue (both go through at once, after
 * what waits), all handed over in memory: every key's aggregate equals the sum
 * computed here, and the repartition topic never got a record. */
static void test_records_handed_over_in_memory_arrive_intact(void **state)
{
    fx_t *f = *state;
    RTU_CHECK(f->logs->create_topic(f->logs->ctx, "in", 1, &rtu_err));
    void *part;
    RTU_CHECK(f->logs->open(f->logs->ctx, "in", 0, &part, &rtu_err));
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
    sl_buf_t out;
    sl_buf_init(&out);
    uint8_t *big = malloc(HO_BIG);
    static int64_t want[HO_KEYS], got[HO_KEYS];
    sl_header_t hdr = {(const uint8_t *)"h", 1, (const uint8_t *)"x", 1};
    for (long i = 0; i < HO_RECS; i++) {
        char k[16], v[32];
        int kn = snprintf(k, sizeof k, "%ld", i), vn = snprintf(v, sizeof v, "value-%ld", i * 7919);
        const uint8_t *val = (const uint8_t *)v;
        if (i % 500 == 7) {
            memset(big, ho_byte(i), HO_BIG);
            val = big;
            vn = HO_BIG;
        }
        bool with_header = i % 7 == 0;
        want[i % HO_KEYS] += ho_weight(val, vn, with_header);
        RTU_CHECK(sl_batch_builder_add(&b, 1000 + i, k, kn, val, vn, with_header ? &hdr : NULL, with_header));
        if (b.count == 100)
            rtu_flush_builder(f->logs, part, &b, &out);
    }
    if (b.count)
        rtu_flush_builder(f->logs, part, &b, &out);
    sl_batch_builder_free(&b);
    sl_buf_free(&out);
    free(big);

    sl_topo_t *t;
    const char *in[] = {"in"};
    RTU_CHECK(sl_topo_new("ho", &t));
    RTU_CHECK(sl_topo_add_source(t, "src", in, 1, NULL));
    RTU_CHECK(sl_topo_add_map(t, "rekey", "src", ho_rekey, NULL));
    RTU_CHECK(sl_topo_add_group_by(t, "by-key", "rekey", NULL, NULL));
    RTU_CHECK(sl_topo_add_aggregate(t, "sum", "by-key", "sums", ho_init, ho_add, NULL));
    RTU_CHECK(sl_topo_add_sink(t, "out", "sum", "sums-out"));
    RTU_CHECK(sl_topo_build(t, &rtu_err));
    sl_runtime_t *rt = fx_runtime(f, t, 1);
    rtu_run_to_end(rt, 60);
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    assert_int_equal(st.dead_lettered, 0);
    assert_int_equal(st.records_in, 2 * HO_RECS);
    sl_runtime_close(rt);
    rtu_read_all(f->logs, "sums-out", 0, on_sum, got);
    for (int k = 0; k < HO_KEYS; k++)
        assert_int_equal(got[k], want[k]);
    void *rp;
    RTU_CHECK(f->logs->open(f->logs->ctx, sl_topo_repartition_topic(t, 0), 0, &rp, &rtu_err));
    assert_int_equal(f->logs->end_offset(rp), 0);
    sl_topo_free(t);
}

/* ---- windows that emit final results publish as they go ----------------------------------------------- */

#define WF_RECS 200000

static void gen_keyed(void *arg, long i, char *k, size_t kc, char *v, size_t vc)
{
    snprintf(k, kc, "k%ld", i % 5000);
    snprintf(v, vc, "%ld", i);
}

static void count_rec(void *arg, const sl_record_t *r, const sl_batch_header_t *h) { (*(long *)arg)++; }

/* Every record of topic (parts partitions). */
static long records_in_all(fx_t *f, const char *topic, int32_t parts)
{
    long n = 0;
    for (int32_t p = 0; p < parts; p++)
        rtu_read_all(f->logs, topic, p, count_rec, &n);
    return n;
}

/* t (its output: out, parts partitions) on one worker with commits an hour
 * apart (and idle_ms): what the output held once every input record was
 * processed, before the stop's commit; *total: after it. */
static long output_before_commit(fx_t *f, const sl_topo_t *t, const char *app, const char *out, int32_t parts,
                                 int64_t idle_ms, long *total)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", f->state, app);
    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = dir;
    o.logs = f->logs;
    o.threads = 1;
    o.sync = false;
    o.commit_interval_ms = 3600 * 1000;
    o.idle_timeout_ms = idle_ms;
    sl_runtime_t *rt;
    RTU_CHECK(sl_runtime_new(t, &o, &rt, &rtu_err));
    RTU_CHECK(sl_runtime_start(rt, &rtu_err));
    wait_drained(rt);
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    assert_int_equal(st.commits, 0);
    long before = records_in_all(f, out, parts);
    RTU_CHECK(sl_runtime_stop(rt, &rtu_err));
    sl_runtime_close(rt);
    *total = records_in_all(f, out, parts);
    return before;
}

/* A 1 s tumbling count (emit final) over the input, with commits an hour
 * apart: how many windows its output log held once every record was
 * processed and before the stop's commit; *total: after it. */
static long final_windows_before_commit(fx_t *f, const char *app, int64_t idle_ms, long *total)
{
    char out[64], dir[400];
    snprintf(out, sizeof out, "%s-out", app);
    snprintf(dir, sizeof dir, "%s/%s", f->state, app);
    sl_topo_t *t;
    const char *in[] = {"keyed"};
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 1000, .emit = SL_WINDOW_EMIT_FINAL};
    RTU_CHECK(sl_topo_new(app, &t));
    RTU_CHECK(sl_topo_add_source(t, "src", in, 1, NULL));
    RTU_CHECK(sl_topo_add_group_by(t, "by-key", "src", NULL, NULL));
    RTU_CHECK(sl_topo_add_window(t, "second", "by-key", &w));
    RTU_CHECK(sl_topo_add_count(t, "count", "second", "counts"));
    RTU_CHECK(sl_topo_add_sink(t, "out", "count", out));
    RTU_CHECK(sl_topo_build(t, &rtu_err));
    long before = output_before_commit(f, t, app, out, 1, idle_ms, total);
    sl_topo_free(t);
    return before;
}

/* Windows that emit final results forward only when records move stream time,
 * so a replay forwards them again in the same order: their task publishes as
 * it goes, before its checkpoint, as a stateless one does.  With an idle
 * timeout, a wall-clock advance could close windows a replay would not: the
 * output then waits for the checkpoint.  Same output either way. */
static void test_final_windows_publish_before_the_checkpoint_unless_idle_time_closes_them(void **state)
{
    fx_t *f = *state;
    rtu_produce(f->logs, "keyed", 1, 0, WF_RECS, gen_keyed, NULL);
    long total_a = 0, total_b = 0;
    long early = final_windows_before_commit(f, "wf-a", 0, &total_a);
    long held = final_windows_before_commit(f, "wf-b", 3600 * 1000, &total_b);
    print_message("    %ld of %ld windows published before the commit; with an idle timeout %ld of %ld\n", early,
                  total_a, held, total_b);
    assert_int_equal(total_a, (WF_RECS / 1000 - 1) * 1000); /* every second but the last closed, 1000 keys each */
    assert_int_equal(total_b, total_a);
    assert_true(early > total_a / 2);
    assert_int_equal(held, 0);
}

static int rekey_mod_997(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    char k[16];
    sl_buf_append(key, k, (size_t)snprintf(k, sizeof k, "m%ld", strtol((const char *)rec->value, NULL, 10) % 997));
    return 1;
}

/* A 1 s tumbling count (emit final) after a re-key, over `in` (parts
 * partitions): how many of its repartition topic's records went through the
 * log; *early: windows published before the commit, of *total. */
static long window_after_rekey(fx_t *f, const char *app, const char *in, int32_t parts, long *early, long *total)
{
    char out[64];
    snprintf(out, sizeof out, "%s-out", app);
    sl_topo_t *t;
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 1000, .emit = SL_WINDOW_EMIT_FINAL};
    RTU_CHECK(sl_topo_new(app, &t));
    RTU_CHECK(sl_topo_add_source(t, "src", &in, 1, NULL));
    RTU_CHECK(sl_topo_add_group_by(t, "by-mod", "src", rekey_mod_997, NULL));
    RTU_CHECK(sl_topo_add_window(t, "second", "by-mod", &w));
    RTU_CHECK(sl_topo_add_count(t, "count", "second", "counts"));
    RTU_CHECK(sl_topo_add_sink(t, "out", "count", out));
    RTU_CHECK(sl_topo_build(t, &rtu_err));
    *early = output_before_commit(f, t, app, out, parts, 0, total);
    long logged = records_in_all(f, sl_topo_repartition_topic(t, 0), parts);
    sl_topo_free(t);
    return logged;
}

/* A task that publishes before it checkpoints must see the same input in the
 * same order when it replays.  Records several tasks hand it in memory arrive
 * in an order the scheduling decides, so a window after a re-key from several
 * partitions keeps its output until the checkpoint (the outbox); from one
 * partition it publishes as it goes.  Both take their records in memory.  A
 * task merging several inputs (in the order the logs happened to hold them)
 * keeps its output until the checkpoint too. */
static void test_tasks_publishing_before_the_checkpoint_get_their_input_in_a_replayable_order(void **state)
{
    fx_t *f = *state;
    rtu_produce(f->logs, "one-part", 1, 0, WF_RECS, gen_keyed, NULL);
    rtu_produce(f->logs, "three-parts", 3, 0, WF_RECS, gen_keyed, NULL);
    long early1, total1, early3, total3;
    long logged1 = window_after_rekey(f, "rk-1", "one-part", 1, &early1, &total1);
    long logged3 = window_after_rekey(f, "rk-3", "three-parts", 3, &early3, &total3);
    print_message("    re-keyed windows: 1 writer: %ld of %ld records through the log, %ld of %ld windows early; "
                  "3 writers: %ld through the log, %ld of %ld windows early\n",
                  logged1, (long)WF_RECS, early1, total1, logged3, early3, total3);
    assert_int_equal(logged1, 0);
    assert_int_equal(logged3, 0);
    assert_int_equal(total1, (WF_RECS / 1000 - 1) * 997); /* every second but the last, 997 keys each */
    assert_true(total3 > 0); /* fewer: the writers run apart in event time, and records past grace 0 are late */
    assert_true(early1 > total1 / 2);
    assert_int_equal(early3, 0);
    /* a copy of one input publishes as it goes, a merge of two waits for the checkpoint */
    rtu_produce(f->logs, "other", 1, 0, WF_RECS, gen_keyed, NULL);
    const char *one[] = {"one-part"}, *two[] = {"one-part", "other"};
    long early_copy, total_copy, early_merge, total_merge;
    for (int merge = 0; merge < 2; merge++) {
        sl_topo_t *t;
        const char *app = merge ? "merge" : "copy";
        RTU_CHECK(sl_topo_new(app, &t));
        RTU_CHECK(sl_topo_add_source(t, "src", merge ? two : one, merge ? 2 : 1, NULL));
        RTU_CHECK(sl_topo_add_sink(t, "out", "src", merge ? "merge-out" : "copy-out"));
        RTU_CHECK(sl_topo_build(t, &rtu_err));
        long *early = merge ? &early_merge : &early_copy, *total = merge ? &total_merge : &total_copy;
        *early = output_before_commit(f, t, app, merge ? "merge-out" : "copy-out", 1, 0, total);
        sl_topo_free(t);
    }
    print_message("    copy: %ld of %ld records early; merge: %ld of %ld\n", early_copy, total_copy, early_merge,
                  total_merge);
    assert_int_equal(total_copy, WF_RECS);
    assert_int_equal(total_merge, 2 * WF_RECS);
    assert_true(early_copy > total_copy / 2);
    assert_int_equal(early_merge, 0);
}

static void on_ts(void *arg, const sl_record_t *r, const sl_batch_header_t *h)
{
    *(int64_t *)arg = r->timestamp;
}

static void test_idle_source_lets_stream_time_follow_the_wall_clock(void **state)
{
    fx_t *f = *state;
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("idle", &t), 0);
    const char *in[] = {"ev"};
    assert_int_equal(sl_topo_add_source(t, "src", in, 1, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "g", "src", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "c", "g", "c"), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "c", "ev-counts"), 0);
    assert_int_equal(sl_topo_build(t, &rtu_err), 0);
    rtu_produce(f->logs, "ev", 1, 0, 10, gen_bad, NULL); /* event times 1000..1009 */
    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = f->state;
    o.logs = f->logs;
    o.sync = false;
    o.commit_interval_ms = 10;
    o.idle_timeout_ms = 20;
    sl_runtime_t *rt;
    assert_int_equal(sl_runtime_new(t, &o, &rt, &rtu_err), 0);
    assert_int_equal(sl_runtime_start(rt, &rtu_err), 0);
    while (!sl_runtime_caught_up(rt))
        usleep(1000);
    usleep(300 * 1000);                                  /* idle: stream time moves on by ~300 ms */
    rtu_produce(f->logs, "ev", 1, 10, 1, gen_bad, NULL); /* event time 1010 */
    while (!sl_runtime_caught_up(rt))
        usleep(1000);
    assert_int_equal(sl_runtime_stop(rt, &rtu_err), 0);
    sl_runtime_close(rt);
    int64_t last_ts = -1; /* count updates carry the task's stream time */
    rtu_read_all(f->logs, "ev-counts", 0, on_ts, &last_ts);
    if (last_ts < 1009 + 200)
        fail_msg("stream time did not follow the wall clock: last update at %lld", (long long)last_ts);
    sl_topo_free(t);
}

/* ---- inputs merged in event time ----------------------------------------------------------------------- */

#define ET_N 3000

/* "et=<event time>": topic a holds the even event times, b the odd ones. */
static void gen_even(void *arg, long i, char *k, size_t kc, char *v, size_t vc)
{
    (void)arg;
    snprintf(k, kc, "k");
    snprintf(v, vc, "et=%ld", 2 * i);
}

static void gen_odd(void *arg, long i, char *k, size_t kc, char *v, size_t vc)
{
    (void)arg;
    snprintf(k, kc, "k");
    snprintf(v, vc, "et=%ld", 2 * (i - ET_N) + 1);
}

static int et_from_value(void *arg, const sl_rec_t *rec, int64_t *ts, sl_err_t *err)
{
    (void)arg;
    if (rec->value_len < 4 || memcmp(rec->value, "et=", 3))
        return sl_err_set(err, SL_E_RECORD, "no et= in the value");
    *ts = strtoll((const char *)rec->value + 3, NULL, 10);
    return 0;
}

static void on_et(void *arg, const sl_record_t *r, const sl_batch_header_t *h)
{
    (void)h;
    long *next = arg;
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)r->value_len, (const char *)r->value);
    if (strtol(buf + 3, NULL, 10) != *next)
        fail_msg("merged output: got %s where et=%ld was due", buf, *next);
    (*next)++;
}

/* A task reading two inputs processes their records in event time - the
 * sources' timestamp function's - not in record-timestamp order: here every
 * record of b has a later record timestamp than every record of a, while
 * their event times interleave. */
static void test_merged_inputs_are_processed_in_event_time(void **state)
{
    fx_t *f = *state;
    rtu_produce(f->logs, "et-a", 1, 0, ET_N, gen_even, NULL);      /* record timestamps 1000 .. */
    rtu_produce(f->logs, "et-b", 1, ET_N, ET_N, gen_odd, NULL);    /* 1000 + ET_N .. */
    sl_topo_t *t;
    sl_err_t e = {0};
    const char *ta[] = {"et-a"}, *tb[] = {"et-b"}, *both[] = {"a", "b"};
    sl_source_opts_t so = {.timestamp = et_from_value};
    assert_int_equal(sl_topo_new("et", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "a", ta, 1, &so), 0);
    assert_int_equal(sl_topo_add_source(t, "b", tb, 1, &so), 0);
    assert_int_equal(sl_topo_add_merge(t, "ab", both, 2), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "ab", "et-out"), 0);
    assert_int_equal(sl_topo_build(t, &e), 0);
    sl_runtime_t *rt = fx_runtime(f, t, 1);
    rtu_run_to_end(rt, 60);
    sl_runtime_close(rt);
    long next = 0;
    rtu_read_all(f->logs, "et-out", 0, on_et, &next);
    assert_int_equal(next, 2 * ET_N);
    sl_topo_free(t);
}

static void test_sources_read_together_must_be_co_partitioned(void **state)
{
    fx_t *f = *state;
    rtu_produce(f->logs, "a", 2, 0, 10, gen_bad, NULL);
    rtu_produce(f->logs, "b", 3, 0, 10, gen_bad, NULL);
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("cp", &t), 0);
    const char *in[] = {"a", "b"};
    assert_int_equal(sl_topo_add_source(t, "src", in, 2, NULL), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "src", "o"), 0);
    assert_int_equal(sl_topo_build(t, &rtu_err), 0);
    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = f->state;
    o.logs = f->logs;
    sl_runtime_t *rt = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_runtime_new(t, &o, &rt, &err), SL_E_TOPOLOGY);
    assert_non_null(strstr(err.msg, "partitions"));
    assert_null(rt);
    sl_topo_free(t);
}

static void test_missing_source_topic_is_reported(void **state)
{
    fx_t *f = *state;
    sl_topo_t *t = rtu_wordcount("ms", "nope", "out", NULL);
    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = f->state;
    o.logs = f->logs;
    sl_runtime_t *rt = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_runtime_new(t, &o, &rt, &err), SL_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    sl_topo_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_murmur2_matches_kafka_test_vectors),
        cmocka_unit_test(test_partition_for_key_is_positive_hash_modulo_partitions),
        cmocka_unit_test_setup_teardown(test_wordcount_over_embedded_logs_matches_reference, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_drained_before_the_commit_and_stop_commits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_time_in_commits_counts_nested_commits_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_clean_restart_resumes_without_loss_or_repeat, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_checkpointed_batches_missing_from_the_log_are_published_at_open, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_failed_records_go_to_the_dead_letter_topic, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_records_handed_over_in_memory_arrive_intact, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_tasks_publishing_before_the_checkpoint_get_their_input_in_a_replayable_order, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_final_windows_publish_before_the_checkpoint_unless_idle_time_closes_them,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_idle_source_lets_stream_time_follow_the_wall_clock, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_merged_inputs_are_processed_in_event_time, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sources_read_together_must_be_co_partitioned, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_missing_source_topic_is_reported, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
