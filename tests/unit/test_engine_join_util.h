/* Helpers shared by the join tests: a joiner that writes "left+right" ("null"
 * for a missing side, refusing a left value "bad"), and reading an output
 * record with its timestamp.  Header-only, like test_engine_util.h. */
#ifndef SL_TEST_ENGINE_JOIN_UTIL_H
#define SL_TEST_ENGINE_JOIN_UTIL_H

#include "test_engine_util.h"

static int cat_joiner(void *arg, const sl_rec_t *l, const sl_rec_t *r, sl_buf_t *out, sl_err_t *err)
{
    if (l && et_bytes_eq(l->value, l->value_len, "bad")) {
        sl_err_set(err, SL_E_RECORD, "joiner refuses 'bad'");
        return -1;
    }
    if (l)
        sl_buf_append(out, l->value, (size_t)l->value_len);
    else
        sl_buf_append(out, "null", 4);
    sl_buf_append(out, "+", 1);
    if (r)
        return sl_buf_append(out, r->value, (size_t)r->value_len);
    return sl_buf_append(out, "null", 4);
}

/* Next record of topic: key, string value and timestamp. */
static inline void jt_expect(et_fixture_t *f, const char *topic, const char *key, const char *value, int64_t ts)
{
    sl_rec_t r;
    if (sl_driver_read(f->drv, topic, &r) != 1)
        fail_msg("topic %s: no record, expected %s=%s@%lld", topic, key ? key : "(null)",
                 value ? value : "(null)", (long long)ts);
    if (!et_bytes_eq(r.key, r.key_len, key) || !et_bytes_eq(r.value, r.value_len, value) || r.timestamp != ts)
        fail_msg("topic %s: got %.*s=%.*s@%lld, expected %s=%s@%lld", topic, r.key_len < 0 ? 6 : r.key_len,
                 r.key_len < 0 ? "(null)" : (const char *)r.key, r.value_len < 0 ? 6 : r.value_len,
                 r.value_len < 0 ? "(null)" : (const char *)r.value, (long long)r.timestamp, key ? key : "(null)",
                 value ? value : "(null)", (long long)ts);
}

static inline void jt_none(et_fixture_t *f, const char *topic)
{
    sl_rec_t r;
    if (sl_driver_read(f->drv, topic, &r) == 1)
        fail_msg("topic %s: unexpected record %.*s=%.*s@%lld", topic, r.key_len < 0 ? 6 : r.key_len,
                 r.key_len < 0 ? "(null)" : (const char *)r.key, r.value_len < 0 ? 6 : r.value_len,
                 r.value_len < 0 ? "(null)" : (const char *)r.value, (long long)r.timestamp);
}

static inline sl_op_stats_t jt_stats(et_fixture_t *f, const char *node)
{
    sl_op_stats_t st;
    assert_int_equal(sl_driver_node_stats(f->drv, node, &st), 0);
    return st;
}

#endif
