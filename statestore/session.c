/* Session stores: (key, session start, session end) -> value, stored as
 * len|key|end|start so that one key's sessions are contiguous and ordered by
 * end; the queries a session-window operator needs (sessions overlapping a
 * time range, per key or over all keys) and the merge of a new session with
 * every stored session within the inactivity gap. */
#include <inttypes.h>
#include <stdlib.h>

#include "ss.h"

static int sess_key(sl_store_t *s, const void *key, size_t klen, int64_t start, int64_t end, uint8_t *ek,
                    size_t *eklen)
{
    if (s->kind != SL_STORE_SESSION || start > end)
        return SL_S_EINVAL;
    return ss_encode(ek, eklen, key, klen, 2, end, start);
}

int sl_sess_put(sl_store_t *s, const void *key, size_t klen, int64_t start, int64_t end, const void *val,
                size_t vlen)
{
    uint8_t ek[SS_EKEY_MAX];
    size_t eklen;
    int rc = sess_key(s, key, klen, start, end, ek, &eklen);
    if (rc)
        return rc;
    if (end < s->cutoff)
        return SL_S_EEXPIRED;
    return ss_put(s, ek, eklen, val, vlen, false);
}

int sl_sess_delete(sl_store_t *s, const void *key, size_t klen, int64_t start, int64_t end)
{
    uint8_t ek[SS_EKEY_MAX];
    size_t eklen;
    int rc = sess_key(s, key, klen, start, end, ek, &eklen);
    if (rc)
        return rc;
    if (end < s->cutoff)
        return 0;
    return ss_put(s, ek, eklen, NULL, 0, true);
}

int sl_sess_find(sl_store_t *s, sl_snap_t *snap, const void *key, size_t klen, int64_t t_from, int64_t t_to,
                 int flags, sl_iter_t **it, sl_err_t *err)
{
    *it = NULL;
    if (s->kind != SL_STORE_SESSION)
        return sl_err_set(err, SL_S_EINVAL, "store %s is not a session store", s->name);
    if (t_from > t_to)
        return sl_err_set(err, SL_S_EINVAL, "store %s: empty time range", s->name);
    ss_filter_t f = {.by_start_max = true, .start_max = t_to};
    if (!key) {
        /* Index keys are end|len|key|start: every session ending at or after
         * t_from, filtered on start.  Cost: proportional to those sessions. */
        uint8_t lo[8];
        sl_codec_put_i64(lo, t_from);
        ss_range_t r = {.lo = lo, .lo_len = 8, .has_lo = true};
        return ss_iter_open(s, snap, true, &r, &f, flags, it, err);
    }
    uint8_t lo[SS_EKEY_MAX], hi[SS_EKEY_MAX];
    size_t lo_len, hi_len;
    int rc = ss_encode(lo, &lo_len, key, klen, 2, t_from, INT64_MIN);
    if (rc || (rc = ss_encode(hi, &hi_len, key, klen, 2, INT64_MAX, INT64_MAX)))
        return sl_err_set(err, rc, "store %s: key too long", s->name);
    ss_range_t r = {.lo = lo, .lo_len = lo_len, .hi = hi, .hi_len = hi_len, .has_lo = true, .has_hi = true};
    return ss_iter_open(s, snap, false, &r, &f, flags, it, err);
}

typedef struct found {
    int64_t start, end;
    size_t off, len; /* value bytes in the gathered buffer */
} found_t;

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

int sl_sess_merge(sl_store_t *s, const void *key, size_t klen, int64_t start, int64_t end, int64_t gap,
                  const void *val, size_t vlen, sl_sess_merge_fn fn, void *arg, int64_t *out_start,
                  int64_t *out_end, sl_err_t *err)
{
    if (s->kind != SL_STORE_SESSION || start > end || gap < 0 || !fn || !key)
        return sl_err_set(err, SL_S_EINVAL, "store %s: invalid session merge", s->name);
    if (end < s->cutoff)
        return sl_err_set(err, SL_S_EEXPIRED, "store %s: session ending at %" PRId64 " is past the retention",
                          s->name, end);
    /* Gather first (values copied): the deletes and the put below would
     * invalidate an open writer-view iterator. */
    sl_iter_t *it;
    int rc = sl_sess_find(s, NULL, key, klen, sat_add(start, -gap), sat_add(end, gap), 0, &it, err);
    if (rc)
        return rc;
    sl_buf_t vals, acc, next;
    sl_buf_init(&vals), sl_buf_init(&acc), sl_buf_init(&next);
    found_t *found = NULL;
    size_t n = 0, cap = 0;
    sl_entry_t e;
    while ((rc = sl_iter_next(it, &e)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            found_t *f = realloc(found, cap * sizeof *found);
            if (!f) {
                rc = SL_S_ENOMEM;
                break;
            }
            found = f;
        }
        found[n++] = (found_t){e.start, e.end, vals.len, e.val_len};
        if (sl_buf_append(&vals, e.val, e.val_len)) {
            rc = SL_S_ENOMEM;
            break;
        }
    }
    sl_iter_close(it);
    int64_t ms = start, me = end;
    if (rc == 0 && sl_buf_append(&acc, val, vlen))
        rc = SL_S_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        ms = found[i].start < ms ? found[i].start : ms;
        me = found[i].end > me ? found[i].end : me;
        sl_buf_reset(&next);
        if ((rc = fn(arg, acc.data, acc.len, vals.data + found[i].off, found[i].len, &next)) == 0) {
            sl_buf_t t = acc;
            acc = next, next = t;
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (found[i].start != ms || found[i].end != me)
            rc = sl_sess_delete(s, key, klen, found[i].start, found[i].end);
    if (rc == 0)
        rc = sl_sess_put(s, key, klen, ms, me, acc.data, acc.len);
    if (rc)
        sl_err_set(err, rc, "store %s: session merge failed: %s", s->name, sl_store_strerror(rc));
    else {
        if (out_start)
            *out_start = ms;
        if (out_end)
            *out_end = me;
    }
    free(found);
    sl_buf_free(&vals), sl_buf_free(&acc), sl_buf_free(&next);
    return rc;
}
