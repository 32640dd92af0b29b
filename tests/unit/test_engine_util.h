/* Helpers shared by the engine tests: a driver over a temporary folder, piping
 * string records, and assertions on what came out of a topic (string values,
 * or msgpack numbers as the aggregations write them).  Header-only so each
 * test stays one executable from one .c file. */
#ifndef SL_TEST_ENGINE_UTIL_H
#define SL_TEST_ENGINE_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "testutil.h"

typedef struct et_fixture {
    char *dir;
    sl_topo_t *topo;
    sl_driver_t *drv;
    sl_driver_opts_t opts;
} et_fixture_t;

static inline void et_build(sl_topo_t *t)
{
    sl_err_t err = {0};
    int rc = sl_topo_build(t, &err);
    if (rc)
        fail_msg("sl_topo_build: %d %s", rc, err.msg);
}

static inline void et_open(et_fixture_t *f)
{
    sl_err_t err = {0};
    int rc = sl_driver_new(f->topo, f->dir, &f->opts, &f->drv, &err);
    if (rc)
        fail_msg("sl_driver_new: %d %s", rc, err.msg);
}

static inline void et_reopen(et_fixture_t *f)
{
    sl_driver_close(f->drv);
    f->drv = NULL;
    et_open(f);
}

static inline int et_setup(void **state)
{
    et_fixture_t *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("engine");
    sl_driver_opts_default(&f->opts);
    *state = f;
    return 0;
}

static inline int et_teardown(void **state)
{
    et_fixture_t *f = *state;
    sl_driver_close(f->drv);
    sl_topo_free(f->topo);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Pipe a record with string key and value (NULL: null). */
static inline void et_pipe(et_fixture_t *f, const char *topic, const char *key, const char *value, int64_t ts)
{
    sl_err_t err = {0};
    int rc = sl_driver_pipe(f->drv, topic, key, key ? (int32_t)strlen(key) : -1, value,
                            value ? (int32_t)strlen(value) : -1, ts, &err);
    if (rc)
        fail_msg("sl_driver_pipe %s: %d %s", topic, rc, err.msg);
}

static inline void et_commit(et_fixture_t *f)
{
    sl_err_t err = {0};
    int rc = sl_driver_commit(f->drv, &err);
    if (rc)
        fail_msg("sl_driver_commit: %d %s", rc, err.msg);
}

static inline bool et_bytes_eq(const uint8_t *p, int32_t len, const char *s)
{
    if (!s)
        return len < 0;
    return len == (int32_t)strlen(s) && !memcmp(p, s, (size_t)len);
}

/* Read the next record of topic and check its key and string value (NULL: null). */
static inline void et_expect(et_fixture_t *f, const char *topic, const char *key, const char *value)
{
    sl_rec_t r;
    if (sl_driver_read(f->drv, topic, &r) != 1)
        fail_msg("topic %s: no record, expected %s=%s", topic, key ? key : "(null)", value ? value : "(null)");
    if (!et_bytes_eq(r.key, r.key_len, key) || !et_bytes_eq(r.value, r.value_len, value))
        fail_msg("topic %s: got %.*s=%.*s, expected %s=%s", topic, r.key_len < 0 ? 6 : r.key_len,
                 r.key_len < 0 ? "(null)" : (const char *)r.key, r.value_len < 0 ? 6 : r.value_len,
                 r.value_len < 0 ? "(null)" : (const char *)r.value, key ? key : "(null)", value ? value : "(null)");
}

/* Decode a msgpack number; doubles are returned as-is, ints converted. */
static inline double et_num(const uint8_t *p, size_t n, bool *is_float)
{
    sl_codec_t *c;
    assert_int_equal(sl_codec_new(&c), 0);
    msgpack_object o;
    assert_int_equal(sl_codec_decode(c, p, n, &o), 0);
    double v = 0;
    *is_float = false;
    if (o.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        v = (double)o.via.u64;
    else if (o.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        v = (double)o.via.i64;
    else if (o.type == MSGPACK_OBJECT_FLOAT64 || o.type == MSGPACK_OBJECT_FLOAT32)
        v = o.via.f64, *is_float = true;
    else
        fail_msg("not a msgpack number (type %d)", (int)o.type);
    sl_codec_free(c);
    return v;
}

/* Next record of topic: key and an integer msgpack value. */
static inline void et_expect_int(et_fixture_t *f, const char *topic, const char *key, int64_t value)
{
    sl_rec_t r;
    if (sl_driver_read(f->drv, topic, &r) != 1)
        fail_msg("topic %s: no record, expected %s=%lld", topic, key, (long long)value);
    if (!et_bytes_eq(r.key, r.key_len, key))
        fail_msg("topic %s: got key %.*s, expected %s", topic, r.key_len, (const char *)r.key, key);
    assert_true(r.value_len >= 0);
    bool fl;
    double v = et_num(r.value, (size_t)r.value_len, &fl);
    assert_false(fl);
    if (v != (double)value)
        fail_msg("topic %s key %s: got %g, expected %lld", topic, key, v, (long long)value);
}

/* A store's value for key as a number; fails when absent. */
static inline double et_store_num(et_fixture_t *f, const char *store, const char *key, bool *is_float)
{
    sl_buf_t b;
    sl_buf_init(&b);
    int rc = sl_driver_store_get(f->drv, store, key, strlen(key), &b);
    if (rc)
        fail_msg("store %s key %s: %d", store, key, rc);
    double v = et_num(b.data, b.len, is_float);
    sl_buf_free(&b);
    return v;
}

/* Pack an int64 / double as a msgpack value into a static-lifetime-free buffer. */
static inline void et_pipe_num(et_fixture_t *f, const char *topic, const char *key, double v, bool as_float,
                               int64_t ts)
{
    sl_buf_t b;
    sl_buf_init(&b);
    if (as_float)
        sl_codec_pack_f64(&b, v);
    else
        sl_codec_pack_i64(&b, (int64_t)v);
    sl_err_t err = {0};
    int rc = sl_driver_pipe(f->drv, topic, key, key ? (int32_t)strlen(key) : -1, b.data, (int32_t)b.len, ts, &err);
    sl_buf_free(&b);
    if (rc)
        fail_msg("sl_driver_pipe %s: %d %s", topic, rc, err.msg);
}

/* flat_map callback: one record per non-empty space-separated word of the
 * value, keyed like the input. */
static inline int et_split(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err)
{
    (void)arg, (void)err;
    int32_t start = 0;
    for (int32_t i = 0; i <= in->value_len; i++) {
        if (i < in->value_len && in->value[i] != ' ')
            continue;
        if (i > start) {
            sl_rec_t w = *in;
            w.value = in->value + start;
            w.value_len = i - start;
            int rc = sl_emit(out, &w);
            if (rc)
                return rc;
        }
        start = i + 1;
    }
    return 0;
}

#endif
