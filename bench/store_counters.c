/* Counter updates through the state store next to raw LMDB, in one run: 1M
 * read-modify-write increments of msgpack counters over 100k keys drawn with a
 * zipf skew, checkpointing every 100 ms of work (fsync on).  Three ways: the
 * store API with its write-back cache, the store API with a 1-byte cache bound
 * (no read cache; writes still buffered until the checkpoint, as the store's
 * exactly-once contract requires), and raw LMDB get/put in a write transaction
 * committed on the same schedule.  Then point lookups from one thread. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "statestore/statestore.h"

#define KEY_LEN 12
#define TARGET_UPDATE_RATIO 2.0
#define TARGET_LOOKUPS 1e6

typedef struct opts {
    const char *parent;
    long updates, keys, lookups;
    double skew;
    int checkpoint_ms;
    size_t cache_bytes;
    bool no_sync;
    const char *only; /* run one mode (for profiling): raw | cache | nocache */
    int passes;       /* runs of each mode; the best is shown */
} opts_t;

typedef struct result {
    double seconds;
    double cp_seconds; /* of which inside checkpoints / commits */
    long checkpoints;
    int64_t sum; /* of all counters afterwards: must equal updates */
} result_t;

static void die(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "bench_store_counters: %s: %d %s\n", what, rc, msg ? msg : "");
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_store_counters [--dir PARENT] [--updates N] [--keys N] [--skew S] [--lookups N]\n"
                    "                            [--checkpoint-ms MS] [--cache-mb MB] [--no-sync]\n"
                    "                            [--only raw|cache|nocache] [--passes N]\n"
                    "  defaults: 1000000 updates over 100000 keys, zipf skew 0.99, checkpoint every 100 ms,\n"
                    "  64 MB cache, fsync on, best of 3 passes; --dir defaults to $SL_BENCH_DIR or /tmp\n");
    exit(2);
}

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Zipf(s) ranks through the inverse CDF, then a random permutation of ranks to
 * key ids so hot keys are spread over the key space (not neighbours in LMDB). */
static uint32_t *make_stream(const opts_t *o)
{
    double *cdf = malloc((size_t)o->keys * sizeof *cdf);
    uint32_t *perm = malloc((size_t)o->keys * sizeof *perm);
    uint32_t *stream = malloc((size_t)o->updates * sizeof *stream);
    if (!cdf || !perm || !stream)
        die("malloc", -1, NULL);
    double total = 0;
    for (long i = 0; i < o->keys; i++)
        cdf[i] = total += 1.0 / pow((double)(i + 1), o->skew);
    uint64_t r = 42;
    for (long i = 0; i < o->keys; i++)
        perm[i] = (uint32_t)i;
    for (long i = o->keys - 1; i > 0; i--) {
        r = mix(r);
        long j = (long)(r % (uint64_t)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (long n = 0; n < o->updates; n++) {
        r = mix(r);
        double u = (double)(r >> 11) / 9007199254740992.0 * total;
        long lo = 0, hi = o->keys - 1;
        while (lo < hi) {
            long mid = (lo + hi) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        stream[n] = perm[lo];
    }
    free(cdf);
    free(perm);
    return stream;
}

static void key_of(char *k, uint32_t id) { snprintf(k, KEY_LEN + 1, "key-%08" PRIu32, id); }

/* Key bytes of every id, made before timing: formatting keys is the caller's
 * cost, the same for every mode. */
static char *make_keys(long n)
{
    char *keys = malloc((size_t)n * (KEY_LEN + 1));
    if (!keys)
        die("malloc", -1, NULL);
    for (long i = 0; i < n; i++)
        key_of(keys + i * (KEY_LEN + 1), (uint32_t)i);
    return keys;
}
static const char *g_keys;
#define KEY(id) (g_keys + (size_t)(id) * (KEY_LEN + 1))

static void make_dir(char *out, size_t n, const char *parent, const char *tag)
{
    snprintf(out, n, "%s/sl-bench-store-%s-XXXXXX", parent, tag);
    if (!mkdtemp(out))
        die("mkdtemp", -errno, strerror(errno));
}

static void rm_dir(const char *dir)
{
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/data.mdb", dir), unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir), unlink(p);
    rmdir(dir);
}

/* ---- through the store API ---------------------------------------------------------------------- */

static sl_env_t *open_env(const char *dir, const opts_t *o)
{
    sl_env_config_t cfg;
    sl_env_config_default(&cfg);
    cfg.no_sync = o->no_sync;
    sl_env_t *env;
    sl_err_t err = {0};
    int rc = sl_env_open(dir, &cfg, &env, &err);
    if (rc)
        die("sl_env_open", rc, err.msg);
    return env;
}

static result_t run_store(const opts_t *o, const uint32_t *stream, size_t cache_bytes, sl_env_t **env_out,
                          sl_store_t **store_out, const char *dir)
{
    sl_env_t *env = open_env(dir, o);
    sl_store_config_t sc = {.kind = SL_STORE_KV, .key_schema = "string", .value_schema = "msgpack int",
                            .cache_bytes = cache_bytes};
    sl_store_t *s;
    sl_err_t err = {0};
    int rc = sl_store_open(env, "counters", &sc, &s, &err);
    if (rc)
        die("sl_store_open", rc, err.msg);
    sl_codec_t *codec;
    sl_codec_new(&codec);
    sl_buf_t val;
    sl_buf_init(&val);
    result_t res = {0};
    uint8_t off[8];
    int64_t t0 = sl_mono_ns(), last_cp = t0;
    for (long n = 0; n < o->updates; n++) {
        const char *k = KEY(stream[n]);
        const uint8_t *v;
        size_t vlen;
        int64_t x = 0;
        rc = sl_kv_get(s, NULL, k, KEY_LEN, &v, &vlen);
        if (rc == 0)
            rc = sl_codec_unpack_i64(codec, v, vlen, &x);
        if (rc && rc != SL_S_ENOTFOUND)
            die("get", rc, NULL);
        sl_buf_reset(&val);
        sl_codec_pack_i64(&val, x + 1);
        if ((rc = sl_kv_put(s, k, KEY_LEN, val.data, val.len)))
            die("put", rc, NULL);
        /* The clock is read every 256 updates: cheap, and 100 ms is ~10^5 updates. */
        if ((n & 255) == 255 || n == o->updates - 1) {
            int64_t now = sl_mono_ns();
            if (now - last_cp >= (int64_t)o->checkpoint_ms * 1000000 || n == o->updates - 1 ||
                (cache_bytes > 1 && sl_env_checkpoint_wanted(env))) {
                sl_put_be64(off, (uint64_t)n + 1);
                sl_meta_t m = {"offsets", off, 8};
                if ((rc = sl_env_checkpoint(env, &m, 1, &err)))
                    die("checkpoint", rc, err.msg);
                res.checkpoints++;
                last_cp = sl_mono_ns();
                res.cp_seconds += (double)(last_cp - now) / 1e9;
            }
        }
    }
    res.seconds = (double)(sl_mono_ns() - t0) / 1e9;
    sl_iter_t *it;
    if (sl_kv_range(s, NULL, NULL, 0, NULL, 0, 0, &it, &err))
        die("scan", -1, err.msg);
    sl_entry_t e;
    while (sl_iter_next(it, &e) == 1) {
        int64_t x;
        if (sl_codec_unpack_i64(codec, e.val, e.val_len, &x) == 0)
            res.sum += x;
    }
    sl_iter_close(it);
    sl_buf_free(&val);
    sl_codec_free(codec);
    *env_out = env;
    *store_out = s;
    return res;
}

/* ---- raw LMDB ---------------------------------------------------------------------------------------- */

static result_t run_raw(const opts_t *o, const uint32_t *stream, const char *dir)
{
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    int rc;
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_mapsize(env, (size_t)1 << 32)) ||
        (rc = mdb_env_open(env, dir, MDB_NOTLS | (o->no_sync ? MDB_NOSYNC : 0), 0644)) ||
        (rc = mdb_txn_begin(env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, NULL, 0, &dbi)))
        die("lmdb setup", rc, mdb_strerror(rc));
    sl_codec_t *codec;
    sl_codec_new(&codec);
    sl_buf_t val;
    sl_buf_init(&val);
    result_t res = {0};
    int64_t t0 = sl_mono_ns(), last_cp = t0;
    for (long n = 0; n < o->updates; n++) {
        MDB_val mk = {KEY_LEN, (void *)KEY(stream[n])}, mv;
        int64_t x = 0;
        rc = mdb_get(txn, dbi, &mk, &mv);
        if (rc == 0 && sl_codec_unpack_i64(codec, mv.mv_data, mv.mv_size, &x))
            die("decode", -1, NULL);
        sl_buf_reset(&val);
        sl_codec_pack_i64(&val, x + 1);
        mv = (MDB_val){val.len, val.data};
        if ((rc = mdb_put(txn, dbi, &mk, &mv, 0)))
            die("mdb_put", rc, mdb_strerror(rc));
        if ((n & 255) == 255 || n == o->updates - 1) {
            int64_t now = sl_mono_ns();
            if (now - last_cp >= (int64_t)o->checkpoint_ms * 1000000 || n == o->updates - 1) {
                uint8_t off[8];
                sl_put_be64(off, (uint64_t)n + 1);
                MDB_val ok = {7, "offsets"}, ov = {8, off};
                if ((rc = mdb_put(txn, dbi, &ok, &ov, 0)) || (rc = mdb_txn_commit(txn)))
                    die("commit", rc, mdb_strerror(rc));
                res.checkpoints++;
                if (n != o->updates - 1 && (rc = mdb_txn_begin(env, NULL, 0, &txn)))
                    die("begin", rc, mdb_strerror(rc));
                last_cp = sl_mono_ns();
                res.cp_seconds += (double)(last_cp - now) / 1e9;
            }
        }
    }
    res.seconds = (double)(sl_mono_ns() - t0) / 1e9;
    MDB_cursor *cur;
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_cursor_open(txn, dbi, &cur))
        die("scan", -1, NULL);
    MDB_val mk, mv;
    for (rc = mdb_cursor_get(cur, &mk, &mv, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &mk, &mv, MDB_NEXT)) {
        int64_t x;
        if (mk.mv_size == KEY_LEN && sl_codec_unpack_i64(codec, mv.mv_data, mv.mv_size, &x) == 0)
            res.sum += x;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    sl_buf_free(&val);
    sl_codec_free(codec);
    return res;
}

/* ---- point lookups ------------------------------------------------------------------------------------- */

static double lookups(sl_store_t *s, sl_snap_t *snap, const opts_t *o)
{
    uint64_t r = 7;
    long found = 0;
    int64_t t0 = sl_mono_ns();
    for (long n = 0; n < o->lookups; n++) {
        r = mix(r);
        const char *k = KEY(r % (uint64_t)o->keys);
        const uint8_t *v;
        size_t vlen;
        found += sl_kv_get(s, snap, k, KEY_LEN, &v, &vlen) == 0;
    }
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    if (found == 0)
        die("lookups found nothing", -1, NULL);
    return (double)o->lookups / secs;
}

static void report(const char *label, const result_t *r, const opts_t *o)
{
    printf("  %-44s %10.0f updates/s  (%.2f s, of which %.2f s in %ld checkpoints)\n", label,
           (double)o->updates / r->seconds, r->seconds, r->cp_seconds, r->checkpoints);
    if (r->sum != o->updates)
        die("counter sum differs from the number of updates", (int)(r->sum - o->updates), label);
}

int main(int argc, char **argv)
{
    const char *envdir = getenv("SL_BENCH_DIR");
    opts_t o = {.parent = envdir && *envdir ? envdir : "/tmp", .updates = 1000000, .keys = 100000,
                .lookups = 1000000, .skew = 0.99, .checkpoint_ms = 100, .cache_bytes = 64u << 20, .passes = 3};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-sync")) {
            o.no_sync = true;
            continue;
        }
        if (!v)
            usage();
        if (!strcmp(a, "--dir"))
            o.parent = v;
        else if (!strcmp(a, "--updates"))
            o.updates = atol(v);
        else if (!strcmp(a, "--keys"))
            o.keys = atol(v);
        else if (!strcmp(a, "--lookups"))
            o.lookups = atol(v);
        else if (!strcmp(a, "--skew"))
            o.skew = atof(v);
        else if (!strcmp(a, "--checkpoint-ms"))
            o.checkpoint_ms = atoi(v);
        else if (!strcmp(a, "--passes"))
            o.passes = atoi(v);
        else if (!strcmp(a, "--only"))
            o.only = v;
        else if (!strcmp(a, "--cache-mb"))
            o.cache_bytes = (size_t)(atof(v) * 1048576);
        else
            usage();
        i++;
    }
    if (o.updates <= 0 || o.keys <= 0 || o.lookups <= 0 || o.checkpoint_ms <= 0 || o.cache_bytes == 0 || o.passes < 1)
        usage();
    uint32_t *stream = make_stream(&o);
    char *keys = make_keys(o.keys);
    g_keys = keys;
    printf("bench_store_counters: %ld increments of msgpack counters over %ld keys (zipf s=%.2f), checkpoint every "
           "%d ms of work, fsync %s, in %s\n", o.updates, o.keys, o.skew, o.checkpoint_ms, o.no_sync ? "off" : "on",
           o.parent);

    char d1[PATH_MAX], d2[PATH_MAX], d3[PATH_MAX];
    sl_env_t *env = NULL, *env2 = NULL;
    sl_store_t *s = NULL, *s2 = NULL;
    result_t raw = {.seconds = 1e30}, cached = raw, nocache = raw;
    for (int pass = 0; pass < o.passes; pass++) {
        /* Each pass starts from empty folders; the last pass's stores serve the lookups. */
        sl_env_close(env), sl_env_close(env2);
        env = env2 = NULL;
        make_dir(d1, sizeof d1, o.parent, "cache");
        make_dir(d2, sizeof d2, o.parent, "nocache");
        make_dir(d3, sizeof d3, o.parent, "raw");
        result_t r;
        if (!o.only || !strcmp(o.only, "raw")) {
            r = run_raw(&o, stream, d3);
            raw = r.seconds < raw.seconds ? r : raw;
        }
        if (!o.only || !strcmp(o.only, "cache")) {
            r = run_store(&o, stream, o.cache_bytes, &env, &s, d1);
            cached = r.seconds < cached.seconds ? r : cached;
        }
        if (!o.only || !strcmp(o.only, "nocache")) {
            r = run_store(&o, stream, 1, &env2, &s2, d2);
            nocache = r.seconds < nocache.seconds ? r : nocache;
        }
        if (pass + 1 < o.passes)
            sl_env_close(env), sl_env_close(env2), env = env2 = NULL;
        rm_dir(d3);
        if (pass + 1 < o.passes)
            rm_dir(d1), rm_dir(d2);
    }
    if (o.only) {
        const result_t *r = !strcmp(o.only, "raw") ? &raw : !strcmp(o.only, "cache") ? &cached : &nocache;
        report(o.only, r, &o);
        sl_env_close(env), sl_env_close(env2);
        rm_dir(d1), rm_dir(d2);
        free(stream);
        free(keys);
        return 0;
    }
    sl_cache_stats_t cs;
    sl_store_cache_stats(s, &cs);

    printf("read-modify-write updates (get, decode, +1, encode, put), checkpoint time included, best of %d:\n",
           o.passes);
    report("raw LMDB (get+put in a write txn, commit)", &raw, &o);
    char label[96];
    snprintf(label, sizeof label, "store API, %.0f MB cache", (double)o.cache_bytes / 1048576);
    report(label, &cached, &o);
    report("store API, 1-byte cache (no read cache)", &nocache, &o);
    double ratio = raw.seconds / cached.seconds;
    printf("  ratio cached store / raw LMDB %.2f (target >= %.1f: %s); cache: %" PRIu64 " of %" PRIu64
           " writes coalesced, %" PRIu64 " hits, %" PRIu64 " misses\n", ratio, TARGET_UPDATE_RATIO,
           ratio >= TARGET_UPDATE_RATIO ? "met" : "NOT met", cs.coalesced, cs.puts, cs.hits, cs.misses);
    printf("  ratio uncached store / raw LMDB %.2f\n", raw.seconds / nocache.seconds);

    sl_snap_t *snap;
    sl_err_t err = {0};
    if (sl_snap_begin(env, &snap, &err))
        die("snapshot", -1, err.msg);
    double warm = lookups(s, NULL, &o);
    double viasnap = lookups(s, snap, &o);
    sl_snap_end(snap);
    double cold = lookups(s2, NULL, &o);
    printf("point lookups, one thread, %ld uniform keys:\n", o.lookups);
    printf("  %-44s %10.0f lookups/s\n", "writer view, warm cache", warm);
    printf("  %-44s %10.0f lookups/s\n", "writer view, 1-byte cache bound (LMDB)", cold);
    printf("  %-44s %10.0f lookups/s  (target >= %.0f: %s)\n", "snapshot (LMDB read txn)", viasnap, TARGET_LOOKUPS,
           viasnap >= TARGET_LOOKUPS && warm >= TARGET_LOOKUPS ? "met" : "NOT met");

    sl_env_close(env);
    sl_env_close(env2);
    rm_dir(d1);
    rm_dir(d2);
    free(stream);
    free(keys);
    return 0;
}
