/* Unit tests for window stores: (key, window start) -> value, fetches of one
 * key over a time range and of all keys over a time range (both directions,
 * negative times, cached and committed entries merged), keys of different
 * lengths never interleaving, and retention driven by stream time: expired
 * windows vanish from the writer view at once and from LMDB at the checkpoint. */
#include "test_statestore_util.h"

static void wput(sl_store_t *s, const char *k, int64_t t, const char *v)
{
    assert_int_equal(sl_win_put(s, k, strlen(k), t, v, strlen(v)), 0);
}

static const char *fetch(sl_store_t *s, sl_snap_t *snap, const char *k, int64_t from, int64_t to, int flags)
{
    sl_iter_t *it;
    sl_err_t err = {0};
    int rc = sl_win_fetch(s, snap, k, strlen(k), from, to, flags, &it, &err);
    if (rc)
        fail_msg("fetch: %s", err.msg);
    return st_drain(it, SL_STORE_WINDOW);
}

static const char *fetch_all(sl_store_t *s, sl_snap_t *snap, int64_t from, int64_t to, int flags)
{
    sl_iter_t *it;
    sl_err_t err = {0};
    int rc = sl_win_fetch_all(s, snap, from, to, flags, &it, &err);
    if (rc)
        fail_msg("fetch_all: %s", err.msg);
    return st_drain(it, SL_STORE_WINDOW);
}

static void fill(st_fixture_t *f, sl_store_t *s)
{
    wput(s, "a", 0, "a0");
    wput(s, "a", 100, "a100");
    wput(s, "a", -100, "a-100");
    st_checkpoint(f);
    wput(s, "a", 200, "a200");
    wput(s, "ab", 50, "ab50"); /* "a" + 1 byte must not fall inside "a"'s windows */
    wput(s, "b", 100, "b100");
    wput(s, "a", 0, "a0'");     /* cached update of a committed window */
    assert_int_equal(sl_win_delete(s, "a", 1, -100), 0);
}

static void test_fetch_one_key_over_time_range_both_ways(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "w", SL_STORE_WINDOW, 0, 0);
    fill(f, s);
    assert_string_equal(fetch(s, NULL, "a", INT64_MIN, INT64_MAX, 0), "a@0=a0',a@100=a100,a@200=a200");
    assert_string_equal(fetch(s, NULL, "a", 0, 100, SL_ITER_REVERSE), "a@100=a100,a@0=a0'");
    assert_string_equal(fetch(s, NULL, "a", 1, 99, 0), "");
    assert_string_equal(fetch(s, NULL, "ab", 0, 1000, 0), "ab@50=ab50");
    const uint8_t *v;
    size_t n;
    assert_int_equal(sl_win_get(s, NULL, "a", 1, 200, &v, &n), 0);
    assert_memory_equal(v, "a200", 4);
    assert_int_equal(sl_win_get(s, NULL, "a", 1, -100, &v, &n), SL_S_ENOTFOUND);

    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(fetch(s, snap, "a", INT64_MIN, INT64_MAX, 0), "a@-100=a-100,a@0=a0,a@100=a100");
    sl_snap_end(snap);
    st_checkpoint(f);
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(fetch(s, snap, "a", INT64_MIN, INT64_MAX, SL_ITER_REVERSE), "a@200=a200,a@100=a100,a@0=a0'");
    sl_snap_end(snap);
}

static void test_fetch_all_orders_by_time_then_key_merging_cache(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "w", SL_STORE_WINDOW, 0, 0);
    fill(f, s);
    assert_string_equal(fetch_all(s, NULL, INT64_MIN, INT64_MAX, 0),
                        "a@0=a0',ab@50=ab50,a@100=a100,b@100=b100,a@200=a200");
    assert_string_equal(fetch_all(s, NULL, 50, 100, SL_ITER_REVERSE), "b@100=b100,a@100=a100,ab@50=ab50");
    assert_string_equal(fetch_all(s, NULL, 100, 100, 0), "a@100=a100,b@100=b100");
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(fetch_all(s, snap, INT64_MIN, INT64_MAX, 0), "a@-100=a-100,a@0=a0,a@100=a100");
    sl_snap_end(snap);
    st_checkpoint(f);
    st_reopen_env(f);
    s = st_store(f, "w", SL_STORE_WINDOW, 0, 0);
    assert_string_equal(fetch_all(s, NULL, -1000, 1000, SL_ITER_REVERSE),
                        "a@200=a200,b@100=b100,a@100=a100,ab@50=ab50,a@0=a0'");
}

static void test_retention_expires_windows_as_stream_time_advances(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "w", SL_STORE_WINDOW, 1000, 0);
    for (int64_t t = 0; t < 3000; t += 500)
        wput(s, "k", t, "v");
    wput(s, "j", 400, "v");
    st_checkpoint(f);
    assert_int_equal(sl_store_stream_time(s), INT64_MIN);
    assert_int_equal(sl_store_advance(s, 2600), 0); /* cutoff 1600: windows 0..1500 expire */
    assert_int_equal(sl_store_advance(s, 100), 0);  /* never moves back */
    assert_int_equal(sl_store_stream_time(s), 2600);
    assert_string_equal(fetch(s, NULL, "k", INT64_MIN, INT64_MAX, 0), "k@2000=v,k@2500=v");
    assert_string_equal(fetch_all(s, NULL, INT64_MIN, INT64_MAX, 0), "k@2000=v,k@2500=v");
    const uint8_t *v;
    size_t n;
    assert_int_equal(sl_win_get(s, NULL, "k", 1, 1000, &v, &n), SL_S_ENOTFOUND);
    assert_int_equal(sl_win_put(s, "k", 1, 1599, "late", 4), SL_S_EEXPIRED);
    wput(s, "k", 1600, "edge");

    sl_snap_t *snap; /* LMDB still holds them until the checkpoint */
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(fetch_all(s, snap, INT64_MIN, INT64_MAX, 0),
                        "k@0=v,j@400=v,k@500=v,k@1000=v,k@1500=v,k@2000=v,k@2500=v");
    sl_snap_end(snap);
    st_checkpoint(f);
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(fetch_all(s, snap, INT64_MIN, INT64_MAX, 0), "k@1600=edge,k@2000=v,k@2500=v");
    assert_string_equal(fetch(s, snap, "j", INT64_MIN, INT64_MAX, 0), "");
    sl_snap_end(snap);

    /* The committed stream time comes back with the store. */
    st_reopen_env(f);
    s = st_store(f, "w", SL_STORE_WINDOW, 1000, 0);
    assert_int_equal(sl_store_stream_time(s), 2600);
    assert_int_equal(sl_win_put(s, "k", 1, 1000, "late", 4), SL_S_EEXPIRED);
}

static void test_expired_cached_updates_are_not_written(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "w", SL_STORE_WINDOW, 100, 0);
    wput(s, "k", 0, "old");
    wput(s, "k", 500, "new");
    assert_int_equal(sl_store_advance(s, 550), 0); /* cutoff 450, before any checkpoint */
    st_checkpoint(f);
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(fetch_all(s, snap, INT64_MIN, INT64_MAX, 0), "k@500=new");
    sl_snap_end(snap);
    sl_cache_stats_t cs;
    sl_store_cache_stats(s, &cs);
    assert_int_equal(cs.entries, 1); /* the expired entry left the cache */
}

static int list_one(void *arg, const sl_store_info_t *i)
{
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s:%d:%s:%s:%lld:%lld:%lld;", i->name, i->kind, i->key_schema ? i->key_schema : "-",
             i->value_schema ? i->value_schema : "-", (long long)i->retention_ms, (long long)i->window_size_ms,
             (long long)(i->stream_time == INT64_MIN ? -1 : i->stream_time));
    return 0;
}

static const char *wget(sl_store_t *s, const char *k, int64_t t)
{
    static char buf[64];
    const uint8_t *v;
    size_t n;
    int rc = sl_win_get(s, NULL, k, strlen(k), t, &v, &n);
    if (rc == SL_S_ENOTFOUND)
        return "(none)";
    assert_int_equal(rc, 0);
    snprintf(buf, sizeof buf, "%.*s", (int)n, (const char *)v);
    return buf;
}

/* A get of a window later than any LMDB holds skips LMDB: committed windows
 * must still be found (no read cache: every get that misses goes to LMDB),
 * also after a reopen and after later windows were committed. */
static void test_gets_find_committed_windows_with_or_without_a_cache(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "w", SL_STORE_WINDOW, 0, 1); /* 1-byte cache: reads go to LMDB */
    wput(s, "a", 100, "a100");
    wput(s, "a", 200, "a200");
    st_checkpoint(f);
    assert_string_equal(wget(s, "a", 200), "a200");
    assert_string_equal(wget(s, "a", 300), "(none)");
    wput(s, "a", 300, "a300");
    wput(s, "b", -5, "b-5");
    st_checkpoint(f);
    assert_string_equal(wget(s, "a", 300), "a300");
    assert_string_equal(wget(s, "b", -5), "b-5");
    st_reopen_env(f);
    s = st_store(f, "w", SL_STORE_WINDOW, 0, 1);
    assert_string_equal(wget(s, "a", 100), "a100");
    assert_string_equal(wget(s, "a", 300), "a300");
    assert_string_equal(wget(s, "a", 301), "(none)");
    assert_string_equal(wget(s, "b", -5), "b-5");
    wput(s, "c", 1000, "c1000");
    st_checkpoint(f);
    assert_string_equal(wget(s, "c", 1000), "c1000");
}

static void test_store_metadata_is_listed(void **state)
{
    st_fixture_t *f = *state;
    sl_store_config_t cfg = {.kind = SL_STORE_WINDOW, .key_schema = "string", .value_schema = "msgpack int",
                             .retention_ms = 86400000, .window_size_ms = 60000};
    sl_store_t *s;
    assert_int_equal(sl_store_open(f->env, "views-0", &cfg, &s, NULL), 0);
    st_store(f, "counts-0", SL_STORE_KV, 0, 0);
    assert_int_equal(sl_store_advance(s, 12345), 0);
    st_checkpoint(f);
    char seen[512] = "";
    int rc = sl_env_list_stores(f->env, NULL, list_one, seen, NULL);
    assert_int_equal(rc, 0);
    assert_string_equal(seen, "counts-0:1:bytes:bytes:0:0:-1;views-0:2:string:msgpack int:86400000:60000:12345;");
}

static void test_entries_counts_committed_windows_as_of_a_snapshot(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "w", SL_STORE_WINDOW, 0, 0);
    fill(f, s); /* commits 3 windows, then caches 5 more updates (one a delete) */
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    uint64_t n = 0;
    assert_int_equal(sl_store_entries(s, snap, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(sl_store_entries(s, NULL, &n), SL_S_EINVAL); /* committed state only */
    sl_snap_end(snap);
    st_checkpoint(f);
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_int_equal(sl_store_entries(s, snap, &n), 0);
    assert_int_equal(n, 5); /* a0', a100, a200, ab50, b100 */
    sl_snap_end(snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fetch_one_key_over_time_range_both_ways, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_fetch_all_orders_by_time_then_key_merging_cache, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_retention_expires_windows_as_stream_time_advances, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_expired_cached_updates_are_not_written, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_gets_find_committed_windows_with_or_without_a_cache, st_setup,
                                        st_teardown),
        cmocka_unit_test_setup_teardown(test_store_metadata_is_listed, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_entries_counts_committed_windows_as_of_a_snapshot, st_setup, st_teardown),
    };
    return cmocka_run_group_tests_name("statestore_window", tests, NULL, NULL);
}
