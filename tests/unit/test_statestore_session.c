/* Unit tests for session stores: sessions overlapping a time range for one key
 * and for all keys, the gap-based merge a session-window operator performs
 * (absorbed sessions deleted, values folded in order, union stored), and
 * retention by session end. */
#include "test_statestore_util.h"

static void sput(sl_store_t *s, const char *k, int64_t a, int64_t b, const char *v)
{
    assert_int_equal(sl_sess_put(s, k, strlen(k), a, b, v, strlen(v)), 0);
}

static const char *find(sl_store_t *s, sl_snap_t *snap, const char *k, int64_t from, int64_t to, int flags)
{
    sl_iter_t *it;
    sl_err_t err = {0};
    int rc = sl_sess_find(s, snap, k, k ? strlen(k) : 0, from, to, flags, &it, &err);
    if (rc)
        fail_msg("find: %s", err.msg);
    return st_drain(it, SL_STORE_SESSION);
}

static void test_find_returns_sessions_overlapping_the_range(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "sess", SL_STORE_SESSION, 0, 0);
    sput(s, "u", 0, 10, "A");
    sput(s, "u", 30, 40, "B");
    st_checkpoint(f);
    sput(s, "u", 60, 90, "C");
    sput(s, "v", 5, 35, "D");
    sput(s, "uu", 0, 100, "E");
    assert_string_equal(find(s, NULL, "u", 0, 100, 0), "u@0-10=A,u@30-40=B,u@60-90=C");
    assert_string_equal(find(s, NULL, "u", 10, 30, 0), "u@0-10=A,u@30-40=B"); /* touching ends overlap */
    assert_string_equal(find(s, NULL, "u", 11, 29, 0), "");
    assert_string_equal(find(s, NULL, "u", 35, 70, SL_ITER_REVERSE), "u@60-90=C,u@30-40=B");
    assert_string_equal(find(s, NULL, NULL, 20, 50, 0), "v@5-35=D,u@30-40=B,uu@0-100=E");
    assert_string_equal(find(s, NULL, NULL, 20, 50, SL_ITER_REVERSE), "uu@0-100=E,u@30-40=B,v@5-35=D");
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(find(s, snap, "u", INT64_MIN, INT64_MAX, 0), "u@0-10=A,u@30-40=B");
    assert_string_equal(find(s, snap, NULL, INT64_MIN, INT64_MAX, 0), "u@0-10=A,u@30-40=B");
    sl_snap_end(snap);
    assert_int_equal(sl_sess_put(s, "u", 1, 5, 4, "x", 1), SL_S_EINVAL); /* start > end */
    assert_int_equal(sl_sess_delete(s, "u", 1, 0, 10), 0);
    assert_string_equal(find(s, NULL, "u", INT64_MIN, INT64_MAX, 0), "u@30-40=B,u@60-90=C");
}

static int concat(void *arg, const uint8_t *a, size_t al, const uint8_t *b, size_t bl, sl_buf_t *out)
{
    int *calls = arg;
    (*calls)++;
    sl_buf_append(out, a, al);
    sl_buf_append(out, "+", 1);
    sl_buf_append(out, b, bl);
    return 0;
}

static void test_merge_absorbs_sessions_within_the_gap(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "sess", SL_STORE_SESSION, 0, 0);
    sput(s, "u", 0, 10, "A");
    sput(s, "u", 30, 40, "B");
    sput(s, "u", 100, 110, "far");
    sput(s, "w", 15, 20, "other key");
    st_checkpoint(f);
    int calls = 0;
    int64_t ms, me;
    sl_err_t err = {0};
    assert_int_equal(sl_sess_merge(s, "u", 1, 18, 22, 8, "N", 1, concat, &calls, &ms, &me, &err), 0);
    assert_int_equal(calls, 2);
    assert_int_equal(ms, 0);
    assert_int_equal(me, 40);
    assert_string_equal(find(s, NULL, "u", INT64_MIN, INT64_MAX, 0), "u@0-40=N+A+B,u@100-110=far");
    assert_string_equal(find(s, NULL, "w", INT64_MIN, INT64_MAX, 0), "w@15-20=other key");
    /* A session with nothing in reach is stored as it is. */
    calls = 0;
    assert_int_equal(sl_sess_merge(s, "u", 1, 60, 60, 5, "alone", 5, concat, &calls, &ms, &me, &err), 0);
    assert_int_equal(calls, 0);
    assert_int_equal(ms, 60);
    assert_int_equal(me, 60);
    /* Extending a session inside its own bounds keeps one session. */
    assert_int_equal(sl_sess_merge(s, "u", 1, 105, 105, 0, "in", 2, concat, &calls, &ms, &me, &err), 0);
    assert_int_equal(ms, 100);
    assert_int_equal(me, 110);
    st_checkpoint(f);
    st_reopen_env(f);
    s = st_store(f, "sess", SL_STORE_SESSION, 0, 0);
    assert_string_equal(find(s, NULL, "u", INT64_MIN, INT64_MAX, 0), "u@0-40=N+A+B,u@60-60=alone,u@100-110=in+far");
}

static void test_retention_by_session_end(void **state)
{
    st_fixture_t *f = *state;
    sl_store_t *s = st_store(f, "sess", SL_STORE_SESSION, 100, 0);
    sput(s, "u", 0, 50, "old");
    sput(s, "u", 0, 200, "long");
    sput(s, "v", 150, 160, "new");
    st_checkpoint(f);
    assert_int_equal(sl_store_advance(s, 200), 0); /* cutoff 100 */
    assert_string_equal(find(s, NULL, NULL, INT64_MIN, INT64_MAX, 0), "v@150-160=new,u@0-200=long");
    assert_int_equal(sl_sess_put(s, "u", 1, 0, 99, "late", 4), SL_S_EEXPIRED);
    st_checkpoint(f);
    sl_snap_t *snap;
    assert_int_equal(sl_snap_begin(f->env, &snap, NULL), 0);
    assert_string_equal(find(s, snap, "u", INT64_MIN, INT64_MAX, 0), "u@0-200=long");
    sl_snap_end(snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_find_returns_sessions_overlapping_the_range, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_merge_absorbs_sessions_within_the_gap, st_setup, st_teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_session_end, st_setup, st_teardown),
    };
    return cmocka_run_group_tests_name("statestore_session", tests, NULL, NULL);
}
