/* Unit tests for the write-back cache: repeated updates of a key coalesce into
 * one LMDB write and one flush-listener call (in key order, deletes as NULL),
 * clean entries are evicted to honour the byte bound while dirty ones are kept
 * and ask for a checkpoint, listeners can forward into other stores within the
 * same checkpoint, reads are cached, and rollback drops uncommitted updates. */
#include "test_statestore_util.h"
#include "statestore/ss.h"

typedef struct seen {
    char log[4096];
    int calls;
    sl_store_t *target; /* forward each update here as key -> value */
    int self_rc;        /* what writing to the flushing store returned */
} seen_t;

static void on_flush(void *arg, sl_store_t *s, const sl_entry_t *e)
{
    seen_t *x = arg;
    size_t n = strlen(x->log);
    snprintf(x->log + n, sizeof x->log - n, "%s%.*s=%.*s", n ? "," : "", (int)e->key_len, (const char *)e->key,
             e->val ? (int)e->val_len : 4, e->val ? (const char *)e->val : "NULL");
    x->calls++;
    if (x->target) {
        assert_int_equal(sl_kv_put(x->target, e->key, e->key_len, e->val ? e->val : (const uint8_t *)"", e->val_len),
                         0);
        x->self_rc = sl_kv_put(s, "self", 4, "x", 1);
    }
}

static sl_store_t *open_with_listener(st_fixture_t *f, const char *name, seen_t *x, size_t cache_bytes)
{
    sl_store_config_t cfg = {.kind = SL_STORE_KV, .on_flush = on_flush, .flush_arg = x, .cache_bytes = cache_bytes};
    sl_store_t *s;
    sl_err_t err = {0};
    if (sl_store_open(f->env, name, &cfg, &s, &err))
        fail_msg("open: %s", err.msg);
    return s;
}

static void test_repeated_updates_coalesce_into_one_flush_per_key(void **state)
{
    st_fixture_t *f = *state;
    seen_t x = {0};
    sl_store_t *s = open_with_listener(f, "c", &x, 0);
    char v[16];
    for (int i = 0; i < 100; i++) {
        snprintf(v, sizeof v, "%d", i);
        st_put_s(s, "k", v);
        st_put_s(s, i % 2 ? "b" : "a", v);
    }
    assert_int_equal(sl_kv_delete(s, "gone", 4), 0);
    sl_cache_stats_t cs;
    sl_store_cache_stats(s, &cs);
    assert_int_equal(cs.puts, 201);
    assert_int_equal(cs.coalesced, 197);
    assert_int_equal(cs.dirty, 4);
    assert_int_equal(sl_env_flush(f->env, NULL), 0);
    assert_string_equal(x.log, "a=98,b=99,gone=NULL,k=99");
    assert_int_equal(sl_env_flush(f->env, NULL), 0); /* nothing new: no calls */
    assert_int_equal(x.calls, 4);
    st_put_s(s, "k", "last");
    st_checkpoint(f); /* forwards only what changed since the flush */
    assert_int_equal(x.calls, 5);
    sl_store_cache_stats(s, &cs);
    assert_int_equal(cs.dirty, 0);
    st_checkpoint(f);
    assert_int_equal(x.calls, 5);
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(st_get_s(s, snap, "k"), "last");
    assert_string_equal(st_get_s(s, snap, "a"), "98");
    sl_snap_end(snap);
}

static void test_clean_entries_are_evicted_to_honour_the_bound(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "c", SL_STORE_KV, 0, 16 * 1024);
    char k[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof k, "key-%05d", i);
        st_put_s(s, k, "value-value-value");
    }
    sl_cache_stats_t cs;
    sl_store_cache_stats(s, &cs);
    assert_true(cs.bytes > cs.bound); /* dirty entries are kept... */
    assert_int_equal(cs.entries, 2000);
    assert_int_equal(cs.evictions, 0);
    assert_true(sl_env_checkpoint_wanted(f->env)); /* ...and ask for a checkpoint */
    st_checkpoint(f);
    assert_false(sl_env_checkpoint_wanted(f->env));
    sl_store_cache_stats(s, &cs);
    assert_true(cs.bytes <= cs.bound);
    assert_true(cs.evictions > 0);
    assert_true(cs.entries < 2000);
    /* Evicted keys read back from LMDB and are cached again (misses, then hits). */
    uint64_t misses = cs.misses;
    assert_string_equal(st_get_s(s, NULL, "key-00000"), "value-value-value");
    assert_string_equal(st_get_s(s, NULL, "key-00000"), "value-value-value");
    sl_store_cache_stats(s, &cs);
    assert_int_equal(cs.misses, misses + 1);
    assert_true(cs.bytes <= cs.bound);
    /* A missing key is remembered as missing. */
    assert_null(st_get_s(s, NULL, "nope"));
    assert_null(st_get_s(s, NULL, "nope"));
    sl_store_cache_stats(s, &cs);
    assert_int_equal(cs.misses, misses + 2);
}

static void test_listener_forwards_into_another_store_in_the_same_checkpoint(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *down = st_store(f, "down", SL_STORE_KV, 0, 0);
    seen_t x = {0};
    sl_store_t *up = open_with_listener(f, "up", &x, 0);
    x.target = down;
    st_put_s(up, "k1", "v1");
    st_put_s(up, "k2", "v2");
    sl_meta_t m = {"offsets", "7", 1};
    sl_err_t err = {0};
    assert_int_equal(sl_env_checkpoint(f->env, &m, 1, &err), 0);
    assert_int_equal(x.self_rc, SL_S_EBUSY);
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(st_get_s(down, snap, "k1"), "v1");
    assert_string_equal(st_get_s(down, snap, "k2"), "v2");
    assert_null(st_get_s(up, snap, "self"));
    sl_snap_end(snap);
}

static void test_rollback_drops_uncommitted_updates(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "c", SL_STORE_KV, 0, 0);
    sl_store_t *w = st_store(f, "w", SL_STORE_WINDOW, 100, 0);
    st_put_s(s, "a", "committed");
    assert_int_equal(sl_win_put(w, "k", 1, 1000, "v", 1), 0);
    st_checkpoint(f);
    st_put_s(s, "a", "dirty");
    st_put_s(s, "b", "dirty");
    assert_int_equal(sl_store_advance(w, 5000), 0);
    sl_env_rollback(f->env);
    assert_string_equal(st_get_s(s, NULL, "a"), "committed");
    assert_null(st_get_s(s, NULL, "b"));
    assert_int_equal(sl_store_stream_time(w), INT64_MIN);
    const uint8_t *v;
    size_t n;
    assert_int_equal(sl_win_get(w, NULL, "k", 1, 1000, &v, &n), 0);
    sl_cache_stats_t cs;
    sl_store_cache_stats(s, &cs);
    assert_int_equal(cs.dirty, 0);
}

/* The cache's hash index (open addressing, linear probing, backward-shift
 * removal) against a plain array: 200,000 random sets, finds and removes over
 * 6,000 keys, growing past several doublings and removing in the middle of
 * probe runs; every key is found exactly when the model has it, with its value. */
static void test_hash_index_matches_a_model_under_random_sets_and_removes(void **state)
{
    (void)state;
    enum { KEYS = 6000 };
    static int model[KEYS]; /* 0: absent, else the value */
    memset(model, 0, sizeof model);
    cache_t c;
    assert_int_equal(cache_init(&c, (size_t)1 << 30), 0);
    uint64_t x = 88172645463325252ull;
    for (int op = 0; op < 200000; op++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % KEYS), what = (int)((x >> 32) % 10);
        char key[16];
        int klen = snprintf(key, sizeof key, "k%d", k);
        centry_t *e = cache_find(&c, (const uint8_t *)key, (size_t)klen);
        assert_int_equal(e != NULL, model[k] != 0);
        if (e) {
            int v;
            assert_int_equal(e->vlen, sizeof v);
            memcpy(&v, e->val, sizeof v);
            assert_int_equal(v, model[k]);
        }
        if (what < 6) {
            int v = op + 1;
            assert_non_null(cache_set(&c, (const uint8_t *)key, (size_t)klen, (const uint8_t *)&v, sizeof v, 0));
            model[k] = v;
        } else if (what < 9 && e) {
            cache_remove(&c, e);
            model[k] = 0;
        }
    }
    size_t n = 0;
    for (int k = 0; k < KEYS; k++) {
        char key[16];
        int klen = snprintf(key, sizeof key, "k%d", k);
        assert_int_equal(cache_find(&c, (const uint8_t *)key, (size_t)klen) != NULL, model[k] != 0);
        n += model[k] != 0;
    }
    assert_int_equal(c.count, n);
    cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_index_matches_a_model_under_random_sets_and_removes),
        cmocka_unit_test_setup_teardown(test_repeated_updates_coalesce_into_one_flush_per_key, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_clean_entries_are_evicted_to_honour_the_bound, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_listener_forwards_into_another_store_in_the_same_checkpoint, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_drops_uncommitted_updates, st_setup, st_teardown),
    };
    return cmocka_run_group_tests_name("statestore_cache", tests, NULL, NULL);
}
