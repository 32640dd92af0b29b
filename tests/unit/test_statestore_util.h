/* Helpers shared by the statestore tests (unit and crash): a temporary
 * environment per test, and short forms for the calls every test repeats.
 * Header-only so each test stays one executable from one .c file. */
#ifndef SL_TEST_STATESTORE_UTIL_H
#define SL_TEST_STATESTORE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "statestore/statestore.h"
#include "testutil.h"

typedef struct st_fixture {
    char *dir;
    sl_env_config_t cfg;
    sl_env_t *env;
} st_fixture_t;

static inline void st_open_env(st_fixture_t *f)
{
    sl_err_t err = {0};
    int rc = sl_env_open(f->dir, &f->cfg, &f->env, &err);
    if (rc)
        fail_msg("sl_env_open %s: %d %s", f->dir, rc, err.msg);
}

static inline void st_reopen_env(st_fixture_t *f)
{
    sl_env_close(f->env);
    f->env = NULL;
    st_open_env(f);
}

static inline int st_setup(void **state)
{
    st_fixture_t *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("store");
    sl_env_config_default(&f->cfg);
    f->cfg.no_sync = true; /* unit tests: process-crash safety is enough */
    st_open_env(f);
    *state = f;
    return 0;
}

static inline int st_teardown(void **state)
{
    st_fixture_t *f = *state;
    sl_env_close(f->env);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static inline sl_store_t *st_store(st_fixture_t *f, const char *name, sl_store_kind_t kind, int64_t retention,
                                   size_t cache_bytes)
{
    sl_store_config_t cfg = {.kind = kind, .retention_ms = retention, .cache_bytes = cache_bytes,
                             .key_schema = "bytes", .value_schema = "bytes"};
    sl_store_t *s = NULL;
    sl_err_t err = {0};
    int rc = sl_store_open(f->env, name, &cfg, &s, &err);
    if (rc)
        fail_msg("sl_store_open %s: %d %s", name, rc, err.msg);
    return s;
}

static inline void st_checkpoint(st_fixture_t *f)
{
    sl_err_t err = {0};
    int rc = sl_env_checkpoint(f->env, NULL, 0, &err);
    if (rc)
        fail_msg("checkpoint: %d %s", rc, err.msg);
}

static inline void st_put_s(sl_store_t *s, const char *k, const char *v)
{
    assert_int_equal(sl_kv_put(s, k, strlen(k), v, strlen(v)), 0);
}

/* The value of string key k as a NUL-terminated string in a static buffer, or
 * NULL when absent. */
static inline const char *st_get_s(sl_store_t *s, sl_snap_t *snap, const char *k)
{
    static char out[1024];
    const uint8_t *v;
    size_t n;
    int rc = sl_kv_get(s, snap, k, strlen(k), &v, &n);
    if (rc == SL_S_ENOTFOUND)
        return NULL;
    assert_int_equal(rc, 0);
    snprintf(out, sizeof out, "%.*s", (int)n, (const char *)v);
    return out;
}

/* Drain an iterator into "k=v,k=v" (window entries as "k@start=v", sessions
 * as "k@start-end=v"), then close it. */
static inline const char *st_drain(sl_iter_t *it, sl_store_kind_t kind)
{
    static char out[8192];
    size_t n = 0;
    out[0] = 0;
    sl_entry_t e;
    int rc;
    while ((rc = sl_iter_next(it, &e)) == 1) {
        if (n)
            n += (size_t)snprintf(out + n, sizeof out - n, ",");
        if (kind == SL_STORE_KV)
            n += (size_t)snprintf(out + n, sizeof out - n, "%.*s=%.*s", (int)e.key_len, (const char *)e.key,
                                  (int)e.val_len, (const char *)e.val);
        else if (kind == SL_STORE_WINDOW)
            n += (size_t)snprintf(out + n, sizeof out - n, "%.*s@%lld=%.*s", (int)e.key_len, (const char *)e.key,
                                  (long long)e.start, (int)e.val_len, (const char *)e.val);
        else
            n += (size_t)snprintf(out + n, sizeof out - n, "%.*s@%lld-%lld=%.*s", (int)e.key_len,
                                  (const char *)e.key, (long long)e.start, (long long)e.end, (int)e.val_len,
                                  (const char *)e.val);
        assert_true(n < sizeof out);
    }
    assert_int_equal(rc, 0);
    sl_iter_close(it);
    return out;
}

#endif
