/* Unit tests for checkpoints: state and metadata committed together and read
 * back exactly after reopen; the LMDB map growing on demand; a full map (tiny
 * maximum) and a full disk (a 2 MiB tmpfs, when this process may mount one)
 * reported as errors with every cached update kept, and the checkpoint
 * succeeding once space exists; and snapshot readers on other threads seeing
 * only committed, consistent states while the writer works and the map grows. */
#include "test_statestore_util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>

static void meta_expect(sl_env_t *env, sl_snap_t *snap, const char *name, const char *want)
{
    sl_buf_t b;
    sl_buf_init(&b);
    sl_err_t err = {0};
    int rc = sl_env_meta_get(env, snap, name, &b, &err);
    if (!want) {
        assert_int_equal(rc, SL_S_ENOTFOUND);
    } else {
        if (rc)
            fail_msg("meta %s: %s", name, err.msg);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
    }
    sl_buf_free(&b);
}

static void test_checkpoint_commits_state_and_metadata_together(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *a = st_store(f, "a", SL_STORE_KV, 0, 0);
    sl_store_t *w = st_store(f, "w", SL_STORE_WINDOW, 0, 0);
    st_put_s(a, "x", "1");
    assert_int_equal(sl_win_put(w, "x", 1, 10, "w1", 2), 0);
    sl_meta_t m[] = {{"offsets", "p0=5", 4}, {"outputs", "o=3", 3}};
    assert_int_equal(sl_env_checkpoint(f->env, m, 2, NULL), 0);
    meta_expect(f->env, NULL, "offsets", "p0=5");

    st_put_s(a, "x", "2");
    sl_meta_t m2 = {"offsets", "p0=9", 4};
    assert_int_equal(sl_env_checkpoint(f->env, &m2, 1, NULL), 0);
    st_put_s(a, "x", "3"); /* never committed */
    st_reopen_env(f);
    a = st_store(f, "a", SL_STORE_KV, 0, 0);
    w = st_store(f, "w", SL_STORE_WINDOW, 0, 0);
    assert_int_equal(sl_env_checkpoint_seq(f->env), 2);
    meta_expect(f->env, NULL, "offsets", "p0=9");
    meta_expect(f->env, NULL, "outputs", "o=3"); /* not given in the second: kept */
    meta_expect(f->env, NULL, "nothing", NULL);
    assert_string_equal(st_get_s(a, NULL, "x"), "2");
    const uint8_t *v;
    size_t n;
    assert_int_equal(sl_win_get(w, NULL, "x", 1, 10, &v, &n), 0);
    sl_meta_t bad = {"__seq", "x", 1};
    assert_int_equal(sl_env_checkpoint(f->env, &bad, 1, NULL), SL_S_EINVAL);
}

static void put_many(sl_store_t *s, int from, int to, size_t vlen, char fill)
{
    char k[32], v[4096];
    memset(v, fill, vlen);
    for (int i = from; i < to; i++) {
        snprintf(k, sizeof k, "key-%07d", i);
        assert_int_equal(sl_kv_put(s, k, strlen(k), v, vlen), 0);
    }
}

static void check_many(sl_store_t *s, sl_snap_t *snap, int from, int to, size_t vlen, char fill)
{
    char k[32];
    for (int i = from; i < to; i++) {
        snprintf(k, sizeof k, "key-%07d", i);
        const uint8_t *v;
        size_t n;
        int rc = sl_kv_get(s, snap, k, strlen(k), &v, &n);
        if (rc)
            fail_msg("%s: %d", k, rc);
        assert_int_equal(n, vlen);
        assert_int_equal(v[0], fill);
        assert_int_equal(v[n - 1], fill);
    }
}

static void test_map_grows_on_demand(void **state)
{
    st_fixture_t *f = *state;
    f->cfg.map_size_initial = 64 * 1024;
    st_reopen_env(f);
    sl_store_t *s = st_store(f, "big", SL_STORE_KV, 0, 0);
    put_many(s, 0, 20000, 100, 'a');
    st_checkpoint(f);
    assert_true(sl_env_map_size(f->env) >= 2 * 1024 * 1024);
    st_reopen_env(f);
    s = st_store(f, "big", SL_STORE_KV, 0, 0);
    check_many(s, NULL, 0, 20000, 100, 'a');
}

static void test_map_full_is_an_error_and_the_store_stays_usable(void **state)
{
    st_fixture_t *f = *state;
    f->cfg.map_size_initial = 256 * 1024;
    f->cfg.map_size_max = 512 * 1024;
    st_reopen_env(f);
    sl_store_t *s = st_store(f, "s", SL_STORE_KV, 0, 0);
    put_many(s, 0, 100, 100, 'a');
    st_checkpoint(f);

    put_many(s, 100, 6000, 200, 'b'); /* ~1.2 MB: more than the map may hold */
    sl_err_t err = {0};
    assert_int_equal(sl_env_checkpoint(f->env, NULL, 0, &err), SL_S_EMAPFULL);
    assert_non_null(strstr(err.msg, "map_size_max"));
    assert_int_equal(sl_env_map_size(f->env), 512 * 1024);
    check_many(s, NULL, 100, 6000, 200, 'b'); /* the cache kept everything */
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_int_equal(sl_snap_seq(snap), 1);
    check_many(s, snap, 0, 100, 100, 'a');
    uint64_t n;
    assert_int_equal(sl_kv_count(s, snap, &n), 0);
    assert_int_equal(n, 100);
    sl_snap_end(snap);

    /* Free space by dropping most of the new keys: the rest now fits. */
    char k[32];
    for (int i = 1000; i < 6000; i++) {
        snprintf(k, sizeof k, "key-%07d", i);
        assert_int_equal(sl_kv_delete(s, k, strlen(k)), 0);
    }
    st_checkpoint(f);
    assert_int_equal(sl_kv_count(s, NULL, &n), 0);
    assert_int_equal(n, 1000);

    /* Or raise the limit and retry the same checkpoint. */
    put_many(s, 1000, 6000, 200, 'c');
    assert_int_equal(sl_env_checkpoint(f->env, NULL, 0, &err), SL_S_EMAPFULL);
    assert_int_equal(sl_env_set_map_size_max(f->env, 64u << 20), 0);
    st_checkpoint(f);
    st_reopen_env(f);
    s = st_store(f, "s", SL_STORE_KV, 0, 0);
    check_many(s, NULL, 0, 100, 100, 'a');
    check_many(s, NULL, 100, 1000, 200, 'b');
    check_many(s, NULL, 1000, 6000, 200, 'c');
}

/* ---- disk full on a small tmpfs ----------------------------------------------------------------- */

typedef struct tmpfs_fixture {
    st_fixture_t st;
    char *mnt;
    bool mounted;
} tmpfs_fixture_t;

static int tmpfs_setup(void **state)
{
    tmpfs_fixture_t *t = calloc(1, sizeof *t);
    t->mnt = tu_mkdtemp("store-tmpfs");
    t->mounted = mount("tmpfs", t->mnt, "tmpfs", 0, "size=2m") == 0;
    *state = t;
    return 0;
}

static int tmpfs_teardown(void **state)
{
    tmpfs_fixture_t *t = *state;
    sl_env_close(t->st.env);
    free(t->st.dir);
    if (t->mounted && umount(t->mnt) != 0)
        fprintf(stderr, "umount %s: %s\n", t->mnt, strerror(errno));
    tu_rmrf(t->mnt);
    free(t->mnt);
    free(t);
    return 0;
}

static void test_disk_full_is_an_error_and_a_later_checkpoint_succeeds(void **state)
{
    tmpfs_fixture_t *t = *state;
    if (!t->mounted) {
        printf("test_disk_full: cannot mount a tmpfs here (%s): skipped\n", strerror(errno));
        skip();
    }
    st_fixture_t *f = &t->st;
    f->dir = malloc(strlen(t->mnt) + 16);
    sprintf(f->dir, "%s/env", t->mnt);
    sl_env_config_default(&f->cfg); /* with fsync */
    f->cfg.map_size_initial = 1u << 20;
    st_open_env(f);
    sl_store_t *s = st_store(f, "s", SL_STORE_KV, 0, 0);
    put_many(s, 0, 100, 100, 'a');
    st_checkpoint(f);

    /* Ballast: leave well under 1 MB free. */
    char ballast[4200];
    snprintf(ballast, sizeof ballast, "%s/ballast", t->mnt);
    int fd = open(ballast, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    static char chunk[64 * 1024];
    memset(chunk, 'x', sizeof chunk);
    int chunks = 0;
    while (chunks < 64 && write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk)
        chunks++;
    close(fd);
    assert_true(chunks > 4);
    truncate(ballast, (off_t)(chunks - 6) * (off_t)sizeof chunk); /* ~384 KiB free */

    put_many(s, 100, 5000, 300, 'b'); /* ~1.5 MB of values */
    sl_err_t err = {0};
    int rc = sl_env_checkpoint(f->env, NULL, 0, &err);
    if (rc != SL_S_ENOSPC)
        fail_msg("expected SL_S_ENOSPC, got %d: %s", rc, err.msg);
    assert_non_null(strstr(err.msg, "no space"));
    check_many(s, NULL, 100, 5000, 300, 'b'); /* kept in the cache */
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_int_equal(sl_snap_seq(snap), 1);
    check_many(s, snap, 0, 100, 100, 'a');
    sl_snap_end(snap);
    /* The committed store is intact: it still reads after a reopen... */
    st_reopen_env(f);
    s = st_store(f, "s", SL_STORE_KV, 0, 0);
    check_many(s, NULL, 0, 100, 100, 'a');
    /* ...and once space is freed the same updates commit. */
    put_many(s, 100, 5000, 300, 'b');
    assert_int_equal(sl_env_checkpoint(f->env, NULL, 0, &err), SL_S_ENOSPC);
    assert_int_equal(unlink(ballast), 0);
    rc = sl_env_checkpoint(f->env, NULL, 0, &err);
    if (rc)
        fail_msg("checkpoint after freeing space: %s", err.msg);
    st_reopen_env(f);
    s = st_store(f, "s", SL_STORE_KV, 0, 0);
    check_many(s, NULL, 0, 100, 100, 'a');
    check_many(s, NULL, 100, 5000, 300, 'b');
}

/* ---- snapshot readers on other threads --------------------------------------------------------- */

#define ACCOUNTS 64
#define START_BALANCE 1000

typedef struct shared {
    sl_env_t *env;
    sl_store_t *s;
    volatile int stop;
    long snapshots[3];
    const char *failure;
} shared_t;

static int64_t get_i64(sl_store_t *s, sl_snap_t *snap, const char *k)
{
    const uint8_t *v;
    size_t n;
    if (sl_kv_get(s, snap, k, strlen(k), &v, &n) != 0 || n != 8)
        return -1;
    return (int64_t)sl_be64(v);
}

static void put_i64(sl_store_t *s, const char *k, int64_t x)
{
    uint8_t b[8];
    sl_put_be64(b, (uint64_t)x);
    assert_int_equal(sl_kv_put(s, k, strlen(k), b, 8), 0);
}

typedef struct reader_arg {
    shared_t *sh;
    int id;
} reader_arg_t;

static void *reader(void *p)
{
    reader_arg_t *ra = p;
    shared_t *sh = ra->sh;
    uint64_t last_seq = 0;
    sl_buf_t meta;
    sl_buf_init(&meta);
    while (!sh->stop && !sh->failure) {
        sl_snap_t *snap;
        if (sl_snap_begin(sh->env, &snap, NULL) != 0) {
            sh->failure = "snapshot failed";
            break;
        }
        uint64_t seq = sl_snap_seq(snap);
        if (seq < last_seq)
            sh->failure = "snapshot went back in time";
        last_seq = seq;
        sl_iter_t *it;
        int64_t sum = 0, accounts = 0;
        if (sl_kv_prefix(sh->s, snap, "acct-", 5, ra->id & 1 ? SL_ITER_REVERSE : 0, &it, NULL) == 0) {
            sl_entry_t e;
            while (sl_iter_next(it, &e) == 1) {
                sum += (int64_t)sl_be64(e.val);
                accounts++;
            }
            sl_iter_close(it);
        }
        int64_t transfers = get_i64(sh->s, snap, "transfers");
        bool have_meta = sl_env_meta_get(sh->env, snap, "transfers", &meta, NULL) == 0;
        if (seq > 0) {
            if (accounts != ACCOUNTS || sum != ACCOUNTS * START_BALANCE)
                sh->failure = "a snapshot saw an inconsistent sum";
            if (!have_meta || meta.len != 8 || (int64_t)sl_be64(meta.data) != transfers)
                sh->failure = "metadata and state disagree within a snapshot";
        }
        sl_snap_end(snap);
        sh->snapshots[ra->id]++;
    }
    sl_buf_free(&meta);
    return NULL;
}

static void test_reader_threads_see_only_committed_consistent_snapshots(void **state)
{
    st_fixture_t *f = *state;
    f->cfg.map_size_initial = 64 * 1024; /* the map grows while readers run */
    st_reopen_env(f);
    shared_t sh = {.env = f->env};
    sh.s = st_store(f, "bank", SL_STORE_KV, 0, 64 * 1024);
    char k[32];
    for (int i = 0; i < ACCOUNTS; i++) {
        snprintf(k, sizeof k, "acct-%02d", i);
        put_i64(sh.s, k, START_BALANCE);
    }
    put_i64(sh.s, "transfers", 0);
    uint8_t zero[8] = {0};
    sl_meta_t m = {"transfers", zero, 8};
    assert_int_equal(sl_env_checkpoint(f->env, &m, 1, NULL), 0);

    pthread_t th[3];
    reader_arg_t ra[3];
    for (int i = 0; i < 3; i++) {
        ra[i] = (reader_arg_t){&sh, i};
        assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
    }
    uint64_t rng = 99;
    int64_t transfers = 0;
    char pad[2048];
    memset(pad, 'p', sizeof pad);
    size_t map0 = sl_env_map_size(f->env);
    for (int cp = 0; cp < 300 && !sh.failure; cp++) {
        for (int t = 0; t < 200; t++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            char ka[32], kb[32];
            snprintf(ka, sizeof ka, "acct-%02d", (int)((rng >> 33) % ACCOUNTS));
            snprintf(kb, sizeof kb, "acct-%02d", (int)((rng >> 45) % ACCOUNTS));
            int64_t amount = (int64_t)((rng >> 20) % 50);
            put_i64(sh.s, ka, get_i64(sh.s, NULL, ka) - amount); /* a mid-transfer state the readers must not see */
            put_i64(sh.s, kb, get_i64(sh.s, NULL, kb) + amount);
            transfers++;
        }
        put_i64(sh.s, "transfers", transfers);
        snprintf(k, sizeof k, "pad-%04d", cp); /* grow the database */
        assert_int_equal(sl_kv_put(sh.s, k, strlen(k), pad, sizeof pad), 0);
        uint8_t tb[8];
        sl_put_be64(tb, (uint64_t)transfers);
        sl_meta_t tm = {"transfers", tb, 8};
        sl_err_t err = {0};
        if (sl_env_checkpoint(f->env, &tm, 1, &err))
            fail_msg("checkpoint: %s", err.msg);
    }
    /* Let every reader take a few snapshots of the final state. */
    long before[3];
    for (int i = 0; i < 3; i++)
        before[i] = sh.snapshots[i];
    for (int spins = 0; spins < 5000 && !sh.failure; spins++) {
        bool all = true;
        for (int i = 0; i < 3; i++)
            all &= sh.snapshots[i] > before[i] + 2;
        if (all)
            break;
        usleep(1000);
    }
    sh.stop = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    if (sh.failure)
        fail_msg("%s", sh.failure);
    printf("reader threads: %ld, %ld, %ld snapshots; map grew %zu -> %zu bytes\n", sh.snapshots[0], sh.snapshots[1],
           sh.snapshots[2], map0, sl_env_map_size(f->env));
    assert_true(sl_env_map_size(f->env) > map0);
    for (int i = 0; i < 3; i++)
        assert_true(sh.snapshots[i] > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkpoint_commits_state_and_metadata_together, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_map_grows_on_demand, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_map_full_is_an_error_and_the_store_stays_usable, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_is_an_error_and_a_later_checkpoint_succeeds, tmpfs_setup,
                                        tmpfs_teardown),
        cmocka_unit_test_setup_teardown(test_reader_threads_see_only_committed_consistent_snapshots, st_setup,
                                        st_teardown),
    };
    return cmocka_run_group_tests_name("statestore_checkpoint", tests, NULL, NULL);
}
