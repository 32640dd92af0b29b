/* Word count through the runtime next to its COST baseline, in one run: N
 * lines of 5 words (zipf-skewed over a 10k vocabulary) in a partition log of
 * the embedded broker; the job splits, repartitions by word and counts with
 * exactly-once commits every 100 ms (LMDB and log fsync on).  The baseline is
 * a plain single-threaded C program that reads the same batches from the same
 * log and counts in an in-memory hash table.  Prints both rates and the ratio. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_topic.h"
#include "broker/broker.h"
#include "engine/engine.h"

#define WORDS_PER_LINE 5
#define VOCAB 10000

typedef struct opts {
    const char *parent;
    long lines;
    int threads, partitions, passes;
    bool no_sync;
    bool keyed; /* input already one word per record, keyed by it: no split, no repartition topic */
    bool tumbling; /* keyed records, one per ms of event time: a 1-minute tumbling count per key, emit final */
} opts_t;

static void die(const char *what, int rc, const sl_err_t *e)
{
    fprintf(stderr, "bench_engine_wordcount: %s: %d %s\n", what, rc, e ? e->msg : "");
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_engine_wordcount [--dir PARENT] [--lines N] [--threads N] [--partitions N]\n"
                    "                              [--passes N] [--no-sync] [--keyed | --tumbling]\n"
                    "  defaults: 1000000 lines (5M words), 1 thread, 1 partition, 3 passes (the one\n"
                    "  with the median ratio is reported; the baseline runs three times in each pass\n"
                    "  and its fastest run of all passes counts),\n"
                    "  fsync on; --dir defaults to $SL_BENCH_DIR or /tmp.  --keyed: the input holds the\n"
                    "  words as record keys (no split, no repartition topic), to isolate that cost;\n"
                    "  --tumbling: N keyed records (one per ms of event time) counted per key in\n"
                    "  1-minute tumbling windows, emit final, next to an in-memory baseline\n");
    exit(2);
}

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Zipf(0.99)-like ranks by inverse transform of a power law: cheap and skewed. */
static int word_rank(uint64_t h)
{
    double u = (double)(h >> 11) / 9007199254740992.0;
    int r = (int)(pow((double)VOCAB + 1, u)) - 1;
    return r < 0 ? 0 : r >= VOCAB ? VOCAB - 1 : r;
}

static void produce(sl_rt_logs_t *logs, const opts_t *o)
{
    sl_err_t e = {0};
    int rc = logs->create_topic(logs->ctx, "lines", o->partitions, &e);
    if (rc)
        die("create topic", rc, &e);
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    for (int32_t p = 0; p < o->partitions; p++) {
        void *part;
        if ((rc = logs->open(logs->ctx, "lines", p, &part, &e)) != 0)
            die("open", rc, &e);
        sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
        for (long i = p; i < o->lines; i += o->partitions) {
            char v[128];
            size_t n = 0;
            for (int j = 0; j < WORDS_PER_LINE; j++) {
                int w = word_rank(mix((uint64_t)i * 8 + (uint64_t)j));
                if (o->tumbling) {
                    if (j == 0) {
                        n = (size_t)snprintf(v, sizeof v, "word%d", w);
                        sl_batch_builder_add(&b, i, v, (int32_t)n, v, (int32_t)n, NULL, 0);
                    }
                } else if (o->keyed) {
                    n = (size_t)snprintf(v, sizeof v, "word%d", w);
                    sl_batch_builder_add(&b, 1000 + i, v, (int32_t)n, v, (int32_t)n, NULL, 0);
                } else {
                    n += (size_t)snprintf(v + n, sizeof v - n, "%sword%d", j ? " " : "", w);
                }
            }
            if (!o->keyed && !o->tumbling)
                sl_batch_builder_add(&b, 1000 + i, NULL, -1, v, (int32_t)n, NULL, 0);
            if (b.count >= 1000 || i + o->partitions >= o->lines) {
                sl_buf_reset(&out);
                if ((rc = sl_batch_builder_finish(&b, &out, &e)) != 0 ||
                    (rc = logs->append(part, out.data, out.len, &e)) != 0)
                    die("append", rc, &e);
                sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
            }
        }
        if ((rc = logs->sync(part, &e)) != 0)
            die("sync", rc, &e);
    }
    sl_batch_builder_free(&b);
    sl_buf_free(&out);
}

/* ---- the job ------------------------------------------------------------------------------------------ */

static int split(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err)
{
    const uint8_t *p = in->value, *end = in->value + (in->value_len > 0 ? in->value_len : 0);
    while (p < end) {
        const uint8_t *w = p;
        while (p < end && *p != ' ')
            p++;
        if (p > w) {
            sl_rec_t r = *in;
            r.key = r.value = w;
            r.key_len = r.value_len = (int32_t)(p - w);
            int rc = sl_emit(out, &r);
            if (rc)
                return rc;
        }
        p++;
    }
    return 0;
}

static double run_job(sl_rt_logs_t *logs, const char *state, const opts_t *o, sl_runtime_stats_t *st)
{
    sl_topo_t *t;
    sl_err_t e = {0};
    const char *topics[] = {"lines"};
    sl_window_spec_t w = {.kind = SL_WINDOW_TUMBLING, .size_ms = 60000, .emit = SL_WINDOW_EMIT_FINAL};
    if (sl_topo_new("wc", &t) || sl_topo_add_source(t, "lines", topics, 1, NULL) ||
        (!o->keyed && !o->tumbling && sl_topo_add_flat_map(t, "words", "lines", split, NULL)) ||
        sl_topo_add_group_by(t, "by-word", o->keyed || o->tumbling ? "lines" : "words", NULL, NULL) ||
        (o->tumbling && sl_topo_add_window(t, "minute", "by-word", &w)) ||
        sl_topo_add_count(t, "count", o->tumbling ? "minute" : "by-word", "counts") ||
        sl_topo_add_sink(t, "out", "count", "word-counts") || sl_topo_build(t, &e))
        die("topology", SL_E_TOPOLOGY, &e);
    sl_runtime_opts_t ro;
    sl_runtime_opts_default(&ro);
    ro.state_dir = state;
    ro.logs = logs;
    ro.threads = o->threads;
    ro.sync = !o->no_sync;
    sl_runtime_t *rt;
    int rc = sl_runtime_new(t, &ro, &rt, &e);
    if (rc)
        die("sl_runtime_new", rc, &e);
    int64_t t0 = sl_mono_ns();
    if ((rc = sl_runtime_start(rt, &e)) != 0)
        die("start", rc, &e);
    /* Until every record is processed, then stop, which commits what the
     * last commit interval processed: the time holds every commit, but not a
     * wait of up to commit.interval.ms for the next one after the input ran
     * out (which sl_runtime_caught_up would add). */
    while (!sl_runtime_drained(rt)) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if ((rc = sl_runtime_stop(rt, &e)) != 0)
        die("stop", rc, &e);
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    sl_runtime_stats(rt, st);
    sl_runtime_close(rt);
    sl_topo_free(t);
    return secs;
}

/* ---- the baseline: read the same batches, split, count in a hash table ------------------------------- */

typedef struct slot {
    char word[24];
    uint32_t len;
    int64_t count;
    int64_t window; /* --tumbling: the window start this count belongs to */
} slot_t;

static double run_baseline(sl_rt_logs_t *logs, const opts_t *o, long *words)
{
    size_t cap = 1 << 15; /* power of two above 2 x VOCAB */
    slot_t *tab = calloc(cap, sizeof *tab);
    sl_buf_t buf;
    sl_buf_init(&buf);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_err_t e = {0};
    *words = 0;
    long emitted = 0;
    int64_t t0 = sl_mono_ns();
    for (int32_t p = 0; p < o->partitions; p++) {
        void *part;
        logs->open(logs->ctx, "lines", p, &part, &e);
        for (int64_t off = 0;;) {
            sl_buf_reset(&buf);
            if (logs->read(part, off, 256 * 1024, &buf, &e) != 0 || !buf.len)
                break;
            for (size_t pos = 0; pos < buf.len;) {
                sl_batch_header_t h;
                sl_batch_parse_header(buf.data + pos, buf.len - pos, &h, &e);
                sl_batch_iter_start(&it, buf.data + pos, sl_batch_size(&h), &e);
                sl_record_t r;
                while (sl_batch_iter_next(&it, &r, &e) == 1) {
                    const uint8_t *s = o->keyed || o->tumbling ? r.key : r.value;
                    const uint8_t *end = s + (o->keyed || o->tumbling ? r.key_len : r.value_len);
                    while (s < end) {
                        const uint8_t *w = s;
                        while (s < end && *s != ' ')
                            s++;
                        uint32_t len = (uint32_t)(s - w);
                        size_t i = (size_t)sl_murmur2(w, len) & (cap - 1);
                        while (tab[i].len && (tab[i].len != len || memcmp(tab[i].word, w, len)))
                            i = (i + 1) & (cap - 1);
                        if (!tab[i].len) {
                            memcpy(tab[i].word, w, len < sizeof tab[i].word ? len : sizeof tab[i].word);
                            tab[i].len = len;
                        }
                        if (o->tumbling) { /* a key's window closes when its next one starts: emit, restart */
                            int64_t win = r.timestamp - r.timestamp % 60000;
                            if (tab[i].window != win) {
                                emitted += tab[i].count > 0;
                                tab[i].count = 0;
                                tab[i].window = win;
                            }
                        }
                        tab[i].count++;
                        (*words)++;
                        s++;
                    }
                }
                off = h.base_offset + h.last_offset_delta + 1;
                pos += sl_batch_size(&h);
            }
        }
    }
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    if (emitted < 0) /* keep the window bookkeeping from being optimised away */
        printf("?");
    sl_batch_iter_free(&it);
    sl_buf_free(&buf);
    free(tab);
    return secs;
}

int main(int argc, char **argv)
{
    opts_t o = {getenv("SL_BENCH_DIR") ? getenv("SL_BENCH_DIR") : "/tmp", 1000000, 1, 1, 3, false, false, false};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-sync"))
            o.no_sync = true;
        else if (!strcmp(a, "--keyed"))
            o.keyed = true;
        else if (!strcmp(a, "--tumbling"))
            o.tumbling = true;
        else if (!v)
            usage();
        else if (!strcmp(a, "--dir"))
            o.parent = v, i++;
        else if (!strcmp(a, "--lines"))
            o.lines = atol(v), i++;
        else if (!strcmp(a, "--threads"))
            o.threads = atoi(v), i++;
        else if (!strcmp(a, "--partitions"))
            o.partitions = atoi(v), i++;
        else if (!strcmp(a, "--passes"))
            o.passes = atoi(v), i++;
        else
            usage();
    }
    if (o.lines <= 0 || o.threads <= 0 || o.partitions <= 0 || o.passes <= 0)
        usage();
    sl_log_set_level(SL_WARN);
    char dir[512], data[600], state[600];
    snprintf(dir, sizeof dir, "%s/sl-bench-wc-XXXXXX", o.parent);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(data, sizeof data, "%s/data", dir);
    sl_rt_logs_t *logs;
    sl_err_t e = {0};
    if (bench_create_input_topic(data, "lines", o.partitions, &e) != 0)
        die("create topic", -1, &e);
    int rc = sl_rt_logs_embedded(data, &logs, &e);
    if (rc)
        die("logs", rc, &e);
    produce(logs, &o);
    /* Each pass runs the job, then the baseline three times.  The baseline is
     * short and plain, so what else the machine does only ever slows it (on
     * this VM by up to half): its fastest run over all passes is its
     * undisturbed speed, and every pass's ratio is taken against that, which
     * can only understate the runtime.  The pass with the median ratio is
     * reported. */
    enum { MAX_PASSES = 64 };
    double job_s[MAX_PASSES], base_min = 0;
    unsigned long long commits[MAX_PASSES], commit_ms[MAX_PASSES];
    int order[MAX_PASSES];
    sl_runtime_stats_t st;
    long words = 0;
    if (o.passes > MAX_PASSES)
        o.passes = MAX_PASSES;
    for (int pass = 0; pass < o.passes; pass++) {
        snprintf(state, sizeof state, "%s/state-%d", dir, pass); /* fresh state: count from offset 0 again */
        job_s[pass] = run_job(logs, state, &o, &st);
        commits[pass] = (unsigned long long)st.commits;
        commit_ms[pass] = (unsigned long long)st.commit_us / 1000;
        for (int r = 0; r < 3; r++) {
            double b = run_baseline(logs, &o, &words);
            base_min = base_min == 0 || b < base_min ? b : base_min;
        }
        order[pass] = pass;
    }
    for (int i = 1; i < o.passes; i++) /* by job time, fastest first */
        for (int j = i; j > 0 && job_s[order[j]] < job_s[order[j - 1]]; j--) {
            int x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    int med = order[o.passes / 2];
    double best_job = job_s[med], best_base = base_min;
    char ratios[MAX_PASSES * 8] = "";
    for (int i = 0; i < o.passes; i++)
        snprintf(ratios + strlen(ratios), sizeof ratios - strlen(ratios), "%s%.2f", i ? ", " : "",
                 base_min / job_s[i]);
    sl_rt_logs_free(logs);
    sl_fs_rmrf(dir);
    if (o.tumbling) {
        printf("1-minute tumbling count per key (emit final), %ld keyed records, %d partition(s), %d worker "
               "thread(s), fsync %s (median of %d passes)\n", words, o.partitions, st.threads, o.no_sync ? "off" : "on",
               o.passes);
        printf("  runtime  (exactly-once, LMDB window store):  %8.3f s  %10.0f records/s  (%llu commits: %llu ms)\n",
               best_job, (double)words / best_job, commits[med], commit_ms[med]);
        printf("  baseline (one thread, hash table in memory)  :  %8.3f s  %10.0f records/s\n", best_base,
               (double)words / best_base);
        printf("  ratio runtime / baseline: %.2f (target >= 0.5; each pass: %s)\n", best_base / best_job, ratios);
        return 0;
    }
    printf("word count, %ld %s = %ld words, %d partition(s), %d worker thread(s), fsync %s (median of %d passes)\n", o.lines,
           o.keyed ? "x 5 keyed records" : "lines", words, o.partitions, st.threads, o.no_sync ? "off" : "on",
           o.passes);
    printf("  runtime  (exactly-once, %s, LMDB): %8.3f s  %10.0f words/s  (%llu commits: %llu ms)\n",
           o.keyed ? "no repartition      " : "repartition, in memory", best_job, (double)words / best_job,
           commits[med], commit_ms[med]);
    printf("  baseline (one thread, hash table in memory)      : %8.3f s  %10.0f words/s\n", best_base,
           (double)words / best_base);
    printf("  ratio runtime / baseline: %.2f (target >= 0.5; each pass: %s)\n", best_base / best_job, ratios);
    return 0;
}
