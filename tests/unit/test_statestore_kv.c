/* Unit tests for key-value stores: point reads and writes in the writer view
 * (read-your-writes) and in snapshots (committed only), persistence across
 * reopen, ordered range and prefix scans both ways, the key encodings' order
 * (negative numbers, doubles, multi-byte UTF-8), count, and a randomized model
 * test of the cache/LMDB merge under checkpoints. */
#include "test_statestore_util.h"

static void test_writer_reads_its_writes_snapshot_sees_only_committed(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    st_put_s(s, "a", "1");
    assert_string_equal(st_get_s(s, NULL, "a"), "1");

    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_null(st_get_s(s, snap, "a")); /* not committed yet */
    assert_int_equal(sl_snap_seq(snap), 0);
    sl_snap_end(snap);

    st_checkpoint(f);
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(st_get_s(s, snap, "a"), "1");
    assert_int_equal(sl_snap_seq(snap), 1);

    st_put_s(s, "a", "2");
    assert_int_equal(sl_kv_delete(s, "zz", 2), 0); /* deleting a missing key is fine */
    assert_string_equal(st_get_s(s, NULL, "a"), "2");
    assert_string_equal(st_get_s(s, snap, "a"), "1"); /* the old snapshot is stable */
    assert_int_equal(sl_kv_delete(s, "a", 1), 0);
    assert_null(st_get_s(s, NULL, "a"));
    assert_string_equal(st_get_s(s, snap, "a"), "1");
    st_checkpoint(f);
    assert_string_equal(st_get_s(s, snap, "a"), "1"); /* still the snapshot's view */
    sl_snap_end(snap);
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_null(st_get_s(s, snap, "a"));
    sl_snap_end(snap);
}

static void test_reopen_restores_last_checkpoint_and_drops_uncommitted(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    st_put_s(s, "kept", "yes");
    assert_int_equal(sl_kv_put(s, "empty", 5, NULL, 0), 0); /* an empty value is a value */
    st_checkpoint(f);
    st_put_s(s, "lost", "no");
    st_put_s(s, "kept", "changed");
    st_reopen_env(f);
    s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    assert_string_equal(st_get_s(s, NULL, "kept"), "yes");
    assert_string_equal(st_get_s(s, NULL, "empty"), "");
    assert_null(st_get_s(s, NULL, "lost"));
    assert_int_equal(sl_env_checkpoint_seq(f->env), 1);
}

static void fill_abc(sl_store_t *s)
{
    const char *keys[] = {"a", "ab", "abc", "b", "ba", "c"};
    for (int i = 0; i < 6; i++)
        st_put_s(s, keys[i], keys[i]);
}

static const char *range(sl_store_t *s, sl_snap_t *snap, const char *from, const char *to, int flags)
{
    sl_iter_t *it;
    sl_err_t err = {0};
    int rc = sl_kv_range(s, snap, from, from ? strlen(from) : 0, to, to ? strlen(to) : 0, flags, &it, &err);
    if (rc)
        fail_msg("range: %s", err.msg);
    return st_drain(it, SL_STORE_KV);
}

static const char *prefix(sl_store_t *s, sl_snap_t *snap, const void *p, size_t n, int flags)
{
    sl_iter_t *it;
    assert_int_equal(sl_kv_prefix(s, snap, p, n, flags, &it, NULL), 0);
    return st_drain(it, SL_STORE_KV);
}

static void check_ranges(sl_store_t *s, sl_snap_t *snap)
{
    assert_string_equal(range(s, snap, NULL, NULL, 0), "a=a,ab=ab,abc=abc,b=b,ba=ba,c=c");
    assert_string_equal(range(s, snap, NULL, NULL, SL_ITER_REVERSE), "c=c,ba=ba,b=b,abc=abc,ab=ab,a=a");
    assert_string_equal(range(s, snap, "ab", "b", 0), "ab=ab,abc=abc,b=b");
    assert_string_equal(range(s, snap, "ab", "b", SL_ITER_REVERSE), "b=b,abc=abc,ab=ab");
    assert_string_equal(range(s, snap, "aa", "bb", 0), "ab=ab,abc=abc,b=b,ba=ba");
    assert_string_equal(range(s, snap, "aa", "bb", SL_ITER_REVERSE), "ba=ba,b=b,abc=abc,ab=ab");
    assert_string_equal(range(s, snap, "bb", NULL, 0), "c=c");
    assert_string_equal(range(s, snap, NULL, "a", SL_ITER_REVERSE), "a=a");
    assert_string_equal(range(s, snap, "d", "z", 0), "");
    assert_string_equal(range(s, snap, "c", "a", 0), "");
    assert_string_equal(prefix(s, snap, "ab", 2, 0), "ab=ab,abc=abc");
    assert_string_equal(prefix(s, snap, "ab", 2, SL_ITER_REVERSE), "abc=abc,ab=ab");
    assert_string_equal(prefix(s, snap, "b", 1, SL_ITER_REVERSE), "ba=ba,b=b");
    assert_string_equal(prefix(s, snap, "", 0, 0), "a=a,ab=ab,abc=abc,b=b,ba=ba,c=c");
    assert_string_equal(prefix(s, snap, "x", 1, 0), "");
}

static void test_range_and_prefix_scans_are_ordered_both_ways(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    fill_abc(s);
    check_ranges(s, NULL); /* all in the cache */
    st_checkpoint(f);
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    check_ranges(s, snap); /* all in LMDB */
    sl_snap_end(snap);
    st_reopen_env(f);
    s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    check_ranges(s, NULL); /* writer view over LMDB with a cold cache */
}

static void test_prefix_of_0xff_bytes_has_no_upper_bound(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    uint8_t k1[] = {0xfe, 0xff}, k2[] = {0xff}, k3[] = {0xff, 0xff, 0x01}, k4[] = {0xff, 0xff};
    assert_int_equal(sl_kv_put(s, k1, 2, "1", 1), 0);
    assert_int_equal(sl_kv_put(s, k2, 1, "2", 1), 0);
    assert_int_equal(sl_kv_put(s, k3, 3, "3", 1), 0);
    st_checkpoint(f);
    assert_int_equal(sl_kv_put(s, k4, 2, "4", 1), 0);
    sl_iter_t *it;
    assert_int_equal(sl_kv_prefix(s, NULL, k4, 2, 0, &it, NULL), 0);
    sl_entry_t e;
    assert_int_equal(sl_iter_next(it, &e), 1);
    assert_memory_equal(e.key, k4, 2);
    assert_int_equal(sl_iter_next(it, &e), 1);
    assert_memory_equal(e.key, k3, 3);
    assert_int_equal(sl_iter_next(it, &e), 0);
    sl_iter_close(it);
    assert_int_equal(sl_kv_prefix(s, NULL, k2, 1, SL_ITER_REVERSE, &it, NULL), 0);
    assert_int_equal(sl_iter_next(it, &e), 1);
    assert_int_equal(e.key_len, 3);
    assert_int_equal(sl_iter_next(it, &e), 1);
    assert_int_equal(e.key_len, 2);
    assert_int_equal(sl_iter_next(it, &e), 1);
    assert_int_equal(e.key_len, 1);
    assert_int_equal(sl_iter_next(it, &e), 0);
    sl_iter_close(it);
}

static void test_signed_integer_keys_scan_in_numeric_order(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "ints", SL_STORE_KV, 0, 0);
    int64_t vals[] = {5, -1, INT64_MIN, 0, INT64_MAX, -300, 300, 1, -2};
    for (int i = 0; i < 9; i++) {
        uint8_t k[8];
        sl_codec_put_i64(k, vals[i]);
        assert_int_equal(sl_codec_get_i64(k), vals[i]);
        assert_int_equal(sl_kv_put(s, k, 8, &i, sizeof i), 0);
        if (i == 4)
            st_checkpoint(f); /* half committed, half cached */
    }
    int64_t expect[] = {INT64_MIN, -300, -2, -1, 0, 1, 5, 300, INT64_MAX};
    for (int rev = 0; rev < 2; rev++) {
        sl_iter_t *it;
        assert_int_equal(sl_kv_range(s, NULL, NULL, 0, NULL, 0, rev ? SL_ITER_REVERSE : 0, &it, NULL), 0);
        sl_entry_t e;
        for (int i = 0; i < 9; i++) {
            assert_int_equal(sl_iter_next(it, &e), 1);
            assert_int_equal(e.key_len, 8);
            assert_int_equal(sl_codec_get_i64(e.key), expect[rev ? 8 - i : i]);
        }
        assert_int_equal(sl_iter_next(it, &e), 0);
        sl_iter_close(it);
    }
    /* A numeric range [-2, 5] through encoded bounds. */
    uint8_t lo[8], hi[8];
    sl_codec_put_i64(lo, -2);
    sl_codec_put_i64(hi, 5);
    sl_iter_t *it;
    assert_int_equal(sl_kv_range(s, NULL, lo, 8, hi, 8, 0, &it, NULL), 0);
    sl_entry_t e;
    int n = 0;
    while (sl_iter_next(it, &e) == 1)
        assert_int_equal(sl_codec_get_i64(e.key), expect[2 + n++]);
    assert_int_equal(n, 5);
    sl_iter_close(it);
}

static void test_double_keys_scan_in_numeric_order(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "dbl", SL_STORE_KV, 0, 0);
    double vals[] = {2.5, -0.5, -1e300, 0.0, 1e-300, -1e-300, 3.0, -3.0, 1.0 / 0.0, -1.0 / 0.0};
    double expect[] = {-1.0 / 0.0, -1e300, -3.0, -0.5, -1e-300, 0.0, 1e-300, 2.5, 3.0, 1.0 / 0.0};
    for (int i = 0; i < 10; i++) {
        uint8_t k[8];
        sl_codec_put_f64(k, vals[i]);
        assert_true(sl_codec_get_f64(k) == vals[i]);
        assert_int_equal(sl_kv_put(s, k, 8, "x", 1), 0);
    }
    sl_iter_t *it;
    assert_int_equal(sl_kv_range(s, NULL, NULL, 0, NULL, 0, 0, &it, NULL), 0);
    sl_entry_t e;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(sl_iter_next(it, &e), 1);
        assert_true(sl_codec_get_f64(e.key) == expect[i]);
    }
    assert_int_equal(sl_iter_next(it, &e), 0);
    sl_iter_close(it);
}

static void test_multibyte_utf8_keys_sort_by_code_point(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "utf8", SL_STORE_KV, 0, 0);
    /* z (U+007A) < é (U+00E9) < 中 (U+4E2D) < 😀 (U+1F600); "é" < "éa" */
    const char *in[] = {"\xf0\x9f\x98\x80", "z", "\xc3\xa9" "a", "\xe4\xb8\xad", "\xc3\xa9"};
    for (int i = 0; i < 5; i++) {
        st_put_s(s, in[i], in[i]);
        if (i == 2)
            st_checkpoint(f);
    }
    assert_string_equal(range(s, NULL, NULL, NULL, 0),
                        "z=z,\xc3\xa9=\xc3\xa9,\xc3\xa9" "a=\xc3\xa9" "a,\xe4\xb8\xad=\xe4\xb8\xad,"
                        "\xf0\x9f\x98\x80=\xf0\x9f\x98\x80");
    assert_string_equal(prefix(s, NULL, "\xc3\xa9", 2, SL_ITER_REVERSE), "\xc3\xa9" "a=\xc3\xa9" "a,\xc3\xa9=\xc3\xa9");
}

static void test_count_in_writer_view_and_snapshot(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    uint64_t n;
    assert_int_equal(sl_kv_count(s, NULL, &n), 0);
    assert_int_equal(n, 0);
    fill_abc(s);
    assert_int_equal(sl_kv_count(s, NULL, &n), 0);
    assert_int_equal(n, 6);
    st_checkpoint(f);
    st_put_s(s, "a", "changed");  /* existing: no change */
    st_put_s(s, "new", "1");      /* +1 */
    assert_int_equal(sl_kv_delete(s, "b", 1), 0);    /* -1 */
    assert_int_equal(sl_kv_delete(s, "nope", 4), 0); /* absent: no change */
    assert_int_equal(sl_kv_count(s, NULL, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(sl_kv_delete(s, "c", 1), 0);
    assert_int_equal(sl_kv_count(s, NULL, &n), 0);
    assert_int_equal(n, 5);
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_int_equal(sl_kv_count(s, snap, &n), 0);
    assert_int_equal(n, 6);
    sl_snap_end(snap);
}

static void test_bad_keys_and_kinds_are_rejected(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    uint8_t big[SL_STORE_MAX_KEY + 1] = {0};
    assert_int_equal(sl_kv_put(s, big, sizeof big, "v", 1), SL_S_ETOOBIG);
    assert_int_equal(sl_kv_put(s, big, SL_STORE_MAX_KEY, "v", 1), 0);
    assert_int_equal(sl_kv_put(s, "", 0, "v", 1), SL_S_EINVAL);
    assert_int_equal(sl_win_put(s, "k", 1, 0, "v", 1), SL_S_EINVAL);
    st_checkpoint(f);
    const uint8_t *v;
    size_t n;
    assert_int_equal(sl_kv_get(s, NULL, big, SL_STORE_MAX_KEY, &v, &n), 0);

    sl_store_config_t cfg = {.kind = SL_STORE_WINDOW};
    sl_store_t *w;
    sl_err_t err = {0};
    assert_int_equal(sl_store_open(f->env, "kv", &cfg, &w, &err), SL_S_EEXISTS);
    assert_int_equal(sl_store_open(f->env, "__x", &cfg, &w, &err), SL_S_EINVAL);
    assert_int_equal(sl_store_open(f->env, "a/b", &cfg, &w, &err), SL_S_EINVAL);
    sl_store_close(s);
    assert_int_equal(sl_store_open(f->env, "kv", &cfg, &w, &err), SL_S_EEXISTS);
    assert_non_null(strstr(err.msg, "kind"));
    assert_string_equal(sl_store_strerror(SL_S_EMAPFULL), "LMDB map reached its configured maximum");
}

static void test_open_iterator_is_invalidated_by_writes_and_blocks_checkpoint(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "kv", SL_STORE_KV, 0, 0);
    fill_abc(s);
    sl_iter_t *it;
    assert_int_equal(sl_kv_range(s, NULL, NULL, 0, NULL, 0, 0, &it, NULL), 0);
    sl_entry_t e;
    assert_int_equal(sl_iter_next(it, &e), 1);
    sl_err_t err = {0};
    assert_int_equal(sl_env_checkpoint(f->env, NULL, 0, &err), SL_S_EBUSY);
    st_put_s(s, "zz", "1");
    assert_int_equal(sl_iter_next(it, &e), SL_S_EBUSY);
    sl_iter_close(it);
    st_checkpoint(f);
}

/* ---- randomized model test -------------------------------------------------------------- */

#define MODEL_KEYS 160

typedef struct mkey {
    uint8_t k[4];
    size_t klen;
    int val; /* -1: absent */
} mkey_t;

static int mkey_cmp(const void *a, const void *b)
{
    const mkey_t *x = a, *y = b;
    size_t m = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->k, y->k, m);
    return c ? c : (int)x->klen - (int)y->klen;
}

static void model_check_scan(sl_store_t *s, sl_snap_t *snap, const mkey_t *m, size_t lo, size_t hi, int rev)
{
    sl_iter_t *it;
    assert_int_equal(sl_kv_range(s, snap, m[lo].k, m[lo].klen, m[hi].k, m[hi].klen, rev ? SL_ITER_REVERSE : 0, &it,
                                 NULL),
                     0);
    sl_entry_t e;
    for (size_t step = 0; step <= hi - lo; step++) {
        const mkey_t *x = &m[rev ? hi - step : lo + step];
        if (x->val < 0)
            continue;
        assert_int_equal(sl_iter_next(it, &e), 1);
        assert_int_equal(e.key_len, x->klen);
        assert_memory_equal(e.key, x->k, x->klen);
        assert_int_equal(e.val_len, sizeof(int));
        int v;
        memcpy(&v, e.val, sizeof v);
        assert_int_equal(v, x->val);
    }
    assert_int_equal(sl_iter_next(it, &e), 0);
    sl_iter_close(it);
}

static void test_writer_view_matches_model_across_checkpoints_and_evictions(void **state)
{
    st_fixture_t *f = *state;
    /* A small cache bound so clean entries are evicted and reloaded. */
    sl_store_t *s = st_store(f, "model", SL_STORE_KV, 0, 4096);
    mkey_t cur[MODEL_KEYS], committed[MODEL_KEYS];
    uint64_t rng = 12345;
    const uint8_t alphabet[] = {0x00, 0x01, 'a', 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < MODEL_KEYS; i++) {
        for (;;) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            cur[i].klen = 1 + (rng >> 60) % 4;
            for (size_t j = 0; j < cur[i].klen; j++)
                cur[i].k[j] = alphabet[(rng >> (8 * j + 3)) % 6];
            bool dup = false;
            for (size_t p = 0; p < i; p++)
                dup |= mkey_cmp(&cur[p], &cur[i]) == 0;
            if (!dup)
                break;
        }
        cur[i].val = -1;
    }
    qsort(cur, MODEL_KEYS, sizeof *cur, mkey_cmp);
    memcpy(committed, cur, sizeof cur);
    for (int op = 0; op < 6000; op++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t i = (rng >> 33) % MODEL_KEYS;
        int what = (int)((rng >> 20) % 100);
        if (what < 60) {
            int v = op;
            assert_int_equal(sl_kv_put(s, cur[i].k, cur[i].klen, &v, sizeof v), 0);
            cur[i].val = v;
        } else if (what < 80) {
            assert_int_equal(sl_kv_delete(s, cur[i].k, cur[i].klen), 0);
            cur[i].val = -1;
        } else if (what < 83) {
            st_checkpoint(f);
            memcpy(committed, cur, sizeof cur);
        } else if (what < 84) {
            sl_env_rollback(f->env);
            memcpy(cur, committed, sizeof cur);
        } else {
            size_t a = (rng >> 8) % MODEL_KEYS, b = (rng >> 45) % MODEL_KEYS;
            size_t lo = a < b ? a : b, hi = a < b ? b : a;
            model_check_scan(s, NULL, cur, lo, hi, (int)(rng & 1));
            if (what > 95) {
                sl_snap_t *snap;
                assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
                model_check_scan(s, snap, committed, lo, hi, (int)(rng >> 1 & 1));
                sl_snap_end(snap);
            }
            const uint8_t *v;
            size_t n;
            int rc = sl_kv_get(s, NULL, cur[i].k, cur[i].klen, &v, &n);
            assert_int_equal(rc, cur[i].val < 0 ? SL_S_ENOTFOUND : 0);
        }
    }
    model_check_scan(s, NULL, cur, 0, MODEL_KEYS - 1, 0);
    sl_cache_stats_t cs;
    sl_store_cache_stats(s, &cs);
    assert_true(cs.evictions > 0);
}

/* Checkpoints of a mostly dirty cache (written in key order through one
 * cursor) and of a few dirty keys (in the order they became dirty) hold the
 * same thing: every put and delete, as a snapshot and a reopen read them. */
static void test_mostly_dirty_and_slightly_dirty_checkpoints_write_every_change(void **state)
{
    st_fixture_t *f = *state;
    enum { KEYS = 1000 };
    int val[KEYS]; /* -1: absent */
    for (int i = 0; i < KEYS; i++)
        val[i] = -1;
    sl_store_t *s = st_store(f, "dirty", SL_STORE_KV, 0, 0);
    char k[16];
    uint64_t rng = 99;
    for (int round = 0; round < 6; round++) {
        int changes = round == 3 ? 10 : KEYS * 3 / 4; /* round 3: a few dirty keys only */
        for (int c = 0; c < changes; c++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            int i = round == 0 ? (int)((c * 7919) % KEYS) : (int)((rng >> 33) % KEYS);
            snprintf(k, sizeof k, "k%04d", i);
            if (round == 0 || (rng >> 20) % 5 != 0) {
                int v = round * 100000 + c;
                assert_int_equal(sl_kv_put(s, k, strlen(k), &v, sizeof v), 0);
                val[i] = v;
            } else {
                assert_int_equal(sl_kv_delete(s, k, strlen(k)), 0);
                val[i] = -1;
            }
        }
        st_checkpoint(f);
        if (round == 4)
            st_reopen_env(f), s = st_store(f, "dirty", SL_STORE_KV, 0, 0);
        sl_snap_t *snap;
        assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
        for (int i = 0; i < KEYS; i++) {
            snprintf(k, sizeof k, "k%04d", i);
            const uint8_t *v;
            size_t n;
            int rc = sl_kv_get(s, snap, k, strlen(k), &v, &n);
            if (val[i] < 0) {
                assert_int_equal(rc, SL_S_ENOTFOUND);
                continue;
            }
            assert_int_equal(rc, 0);
            int got;
            assert_int_equal(n, sizeof got);
            memcpy(&got, v, sizeof got);
            assert_int_equal(got, val[i]);
        }
        sl_snap_end(snap);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writer_reads_its_writes_snapshot_sees_only_committed, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_restores_last_checkpoint_and_drops_uncommitted, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_range_and_prefix_scans_are_ordered_both_ways, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_of_0xff_bytes_has_no_upper_bound, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_signed_integer_keys_scan_in_numeric_order, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_double_keys_scan_in_numeric_order, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_multibyte_utf8_keys_sort_by_code_point, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_count_in_writer_view_and_snapshot, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_bad_keys_and_kinds_are_rejected, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_open_iterator_is_invalidated_by_writes_and_blocks_checkpoint, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_writer_view_matches_model_across_checkpoints_and_evictions, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_mostly_dirty_and_slightly_dirty_checkpoints_write_every_change, st_setup,
                                        st_teardown),
    };
    return cmocka_run_group_tests_name("statestore_kv", tests, NULL, NULL);
}
