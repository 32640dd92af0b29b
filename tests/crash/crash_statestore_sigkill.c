/* Exactly-once state under SIGKILL.  A forked child (the peer) plays a stream
 * processor: it resumes from the input offset recorded in the last checkpoint,
 * applies a deterministic stream of records to a key-value store of counters
 * (with deletes) and a window store of per-window counts (with retention), and
 * checkpoints the offset with the state at random intervals.  The parent kills
 * it at a random moment, reopens the environment and checks that the state is
 * exactly what a model computes from the recorded offset: nothing lost, nothing
 * from after the checkpoint, and no replay needed. */
#include "../unit/test_statestore_util.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define ROUNDS 20
#define KEYS 1000
#define WKEYS 50
#define WSIZE 100
#define RETENTION 5000
#define RING 64 /* window slots per key in the model: RING * WSIZE > RETENTION + WSIZE */

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Record i of the input stream: a skewed key (low keys much hotter) and
 * whether it deletes the key's counter instead of incrementing it. */
typedef struct rec {
    int key;
    bool del;
    int64_t ts; /* event time = i: stream time advances by one per record */
} rec_t;

static rec_t record_at(uint64_t seed, int64_t i)
{
    uint64_t h = mix(seed ^ (uint64_t)i * 0x100000001b3ull);
    double u = (double)(h >> 11) / 9007199254740992.0;
    rec_t r = {(int)(KEYS * u * u * u) % KEYS, (h & 0x1f) == 7, i};
    return r;
}

/* The number after the letter of a key ("c0042", "w07"); keys are not NUL-terminated. */
static int key_number(const sl_entry_t *e)
{
    char b[16];
    snprintf(b, sizeof b, "%.*s", (int)e->key_len, (const char *)e->key);
    return atoi(b + 1);
}

static void kv_key(char *k, int key) { snprintf(k, 16, "c%04d", key); }
static void win_key(char *k, int key) { snprintf(k, 16, "w%02d", key % WKEYS); }

/* ---- the child ------------------------------------------------------------------------------- */

static _Noreturn void child_fail(const char *what, int rc, const sl_err_t *err)
{
    fprintf(stderr, "crash child: %s: %d (%s) %s\n", what, rc, sl_store_strerror(rc), err ? err->msg : "");
    _exit(3);
}

static int64_t add_counter(sl_store_t *s, sl_codec_t *c, sl_buf_t *b, const char *k, int64_t start, bool window)
{
    const uint8_t *v;
    size_t n;
    int rc = window ? sl_win_get(s, NULL, k, strlen(k), start, &v, &n) : sl_kv_get(s, NULL, k, strlen(k), &v, &n);
    int64_t x = 0;
    if (rc == 0 && (rc = sl_codec_unpack_i64(c, v, n, &x)))
        child_fail("decode", rc, NULL);
    if (rc && rc != SL_S_ENOTFOUND)
        child_fail("get", rc, NULL);
    sl_buf_reset(b);
    sl_codec_pack_i64(b, x + 1);
    rc = window ? sl_win_put(s, k, strlen(k), start, b->data, b->len) : sl_kv_put(s, k, strlen(k), b->data, b->len);
    if (rc)
        child_fail("put", rc, NULL);
    return x + 1;
}

static _Noreturn void child_run(const char *dir, uint64_t seed, uint32_t round)
{
    sl_env_config_t cfg;
    sl_env_config_default(&cfg); /* fsync on: the real configuration */
    cfg.map_size_initial = 256 * 1024; /* growth happens inside the rounds too */
    sl_err_t err = {0};
    sl_env_t *env;
    int rc = sl_env_open(dir, &cfg, &env, &err);
    if (rc)
        child_fail("open", rc, &err);
    uint64_t rng = mix(seed + round);
    sl_store_config_t kc = {.kind = SL_STORE_KV, .cache_bytes = rng & 1 ? 8192 : 0};
    sl_store_config_t wc = {.kind = SL_STORE_WINDOW, .retention_ms = RETENTION, .window_size_ms = WSIZE};
    sl_store_t *kv, *win;
    if ((rc = sl_store_open(env, "counts", &kc, &kv, &err)) || (rc = sl_store_open(env, "windows", &wc, &win, &err)))
        child_fail("store open", rc, &err);
    sl_buf_t meta, val;
    sl_buf_init(&meta), sl_buf_init(&val);
    int64_t next = 0;
    if ((rc = sl_env_meta_get(env, NULL, "offsets", &meta, &err)) == 0 && meta.len == 8)
        next = (int64_t)sl_be64(meta.data);
    else if (rc != SL_S_ENOTFOUND)
        child_fail("meta", rc, &err);
    sl_codec_t *codec;
    sl_codec_new(&codec);
    for (;;) {
        rng = mix(rng);
        int64_t batch = 1 + (int64_t)(rng % 3000);
        for (int64_t j = 0; j < batch; j++, next++) {
            rec_t r = record_at(seed, next);
            char k[16];
            kv_key(k, r.key);
            if (r.del) {
                if ((rc = sl_kv_delete(kv, k, strlen(k))))
                    child_fail("delete", rc, NULL);
            } else {
                add_counter(kv, codec, &val, k, 0, false);
            }
            win_key(k, r.key);
            add_counter(win, codec, &val, k, r.ts / WSIZE * WSIZE, true);
            sl_store_advance(win, r.ts);
        }
        uint8_t off[8];
        sl_put_be64(off, (uint64_t)next);
        sl_meta_t m = {"offsets", off, 8};
        if ((rc = sl_env_checkpoint(env, &m, 1, &err)))
            child_fail("checkpoint", rc, &err);
    }
}

/* ---- the parent and its model ------------------------------------------------------------------- */

typedef struct model {
    int64_t applied; /* records applied */
    int64_t counts[KEYS];            /* -1: absent */
    int64_t wstart[WKEYS][RING], wcount[WKEYS][RING];
} model_t;

static void model_apply(model_t *m, uint64_t seed, int64_t upto)
{
    for (; m->applied < upto; m->applied++) {
        rec_t r = record_at(seed, m->applied);
        m->counts[r.key] = r.del ? -1 : (m->counts[r.key] < 0 ? 1 : m->counts[r.key] + 1);
        int64_t start = r.ts / WSIZE * WSIZE;
        int slot = (int)((start / WSIZE) % RING);
        int wk = r.key % WKEYS;
        if (m->wstart[wk][slot] != start)
            m->wstart[wk][slot] = start, m->wcount[wk][slot] = 0;
        m->wcount[wk][slot]++;
    }
}

static void verify(const char *dir, model_t *m, uint64_t seed, int64_t *offset_out)
{
    sl_env_config_t cfg;
    sl_env_config_default(&cfg);
    sl_env_t *env;
    sl_err_t err = {0};
    if (sl_env_open(dir, &cfg, &env, &err))
        fail_msg("reopen: %s", err.msg);
    sl_store_config_t kc = {.kind = SL_STORE_KV};
    sl_store_config_t wc = {.kind = SL_STORE_WINDOW, .retention_ms = RETENTION, .window_size_ms = WSIZE};
    sl_store_t *kv, *win;
    assert_int_equal(sl_store_open(env, "counts", &kc, &kv, &err), 0);
    assert_int_equal(sl_store_open(env, "windows", &wc, &win, &err), 0);
    sl_buf_t meta;
    sl_buf_init(&meta);
    int64_t offset = 0;
    int rc = sl_env_meta_get(env, NULL, "offsets", &meta, &err);
    if (rc == 0) {
        assert_int_equal(meta.len, 8);
        offset = (int64_t)sl_be64(meta.data);
    } else {
        assert_int_equal(rc, SL_S_ENOTFOUND);
    }
    sl_buf_free(&meta);
    if (offset < m->applied)
        fail_msg("the checkpointed offset went back from %" PRId64 " to %" PRId64, m->applied, offset);
    model_apply(m, seed, offset);
    *offset_out = offset;

    sl_codec_t *c;
    sl_codec_new(&c);
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(env, &snap, NULL), 0);
    /* Counters: exactly the model's keys and values. */
    int64_t expect_keys = 0;
    for (int k = 0; k < KEYS; k++)
        expect_keys += m->counts[k] >= 0;
    uint64_t n;
    assert_int_equal(sl_kv_count(kv, snap, &n), 0);
    assert_int_equal(n, expect_keys);
    sl_iter_t *it;
    assert_int_equal(sl_kv_range(kv, snap, NULL, 0, NULL, 0, 0, &it, NULL), 0);
    sl_entry_t e;
    int64_t seen = 0;
    while ((rc = sl_iter_next(it, &e)) == 1) {
        assert_int_equal(e.key_len, 5);
        int key = key_number(&e);
        int64_t x;
        assert_int_equal(sl_codec_unpack_i64(c, e.val, e.val_len, &x), 0);
        if (x != m->counts[key])
            fail_msg("counter %d: store %" PRId64 ", model %" PRId64 " at offset %" PRId64, key, x, m->counts[key],
                     offset);
        seen++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(seen, expect_keys);
    sl_iter_close(it);
    /* Windows: exactly the model's live windows (start >= stream time - retention). */
    int64_t cutoff = offset > 0 ? offset - 1 - RETENTION : INT64_MIN;
    int64_t expect_windows = 0;
    for (int k = 0; k < WKEYS; k++)
        for (int s = 0; s < RING; s++)
            expect_windows += m->wcount[k][s] > 0 && m->wstart[k][s] >= cutoff;
    assert_int_equal(sl_win_fetch_all(win, snap, INT64_MIN, INT64_MAX, 0, &it, NULL), 0);
    seen = 0;
    while ((rc = sl_iter_next(it, &e)) == 1) {
        int wk = key_number(&e);
        int slot = (int)((e.start / WSIZE) % RING);
        int64_t x;
        assert_int_equal(sl_codec_unpack_i64(c, e.val, e.val_len, &x), 0);
        if (m->wstart[wk][slot] != e.start || m->wcount[wk][slot] != x || e.start < cutoff)
            fail_msg("window w%02d@%" PRId64 " = %" PRId64 " does not match the model at offset %" PRId64, wk,
                     e.start, x, offset);
        seen++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(seen, expect_windows);
    sl_iter_close(it);
    sl_snap_end(snap);
    sl_codec_free(c);
    sl_env_close(env);
}

static uint64_t test_seed(void)
{
    const char *e = getenv("SL_SEED");
    return e && *e ? strtoull(e, NULL, 0) : 0x51A7E5EEDull;
}

static void test_sigkill_leaves_exactly_the_last_checkpoint(void **state)
{
    sl_log_set_level(SL_WARN);
    uint64_t seed = test_seed();
    uint64_t rng = seed;
    char *root = tu_mkdtemp("crash-store");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/env", root);
    model_t *m = calloc(1, sizeof *m);
    for (int k = 0; k < KEYS; k++)
        m->counts[k] = -1;
    for (int k = 0; k < WKEYS; k++)
        for (int s = 0; s < RING; s++)
            m->wstart[k][s] = -1;
    printf("crash_statestore_sigkill: seed=0x%" PRIx64 " (SL_SEED replays the stream; kill timing stays random)\n",
           seed);
    int64_t t0 = sl_mono_ns(), prev = 0;
    int advanced = 0;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child_run(dir, seed, round);
        rng = mix(rng);
        struct timespec ts = {0, (long)(20 + rng % 400) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0)
            assert_int_equal(errno, EINTR);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("round %u: child ended on its own (status 0x%x)", round, status);
        int64_t offset;
        verify(dir, m, seed, &offset);
        advanced += offset > prev;
        prev = offset;
    }
    printf("crash_statestore_sigkill: %d rounds, %" PRId64 " records checkpointed, offset advanced in %d rounds, "
           "%.1f s\n", ROUNDS, prev, advanced, (double)(sl_mono_ns() - t0) / 1e9);
    assert_true(advanced >= ROUNDS / 2);
    free(m);
    tu_rmrf(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_leaves_exactly_the_last_checkpoint),
    };
    return cmocka_run_group_tests_name("crash_statestore_sigkill", tests, NULL, NULL);
}
