/* Window stores: (key, window start) -> value.  Point reads and writes, one
 * key's windows over a time range (a primary-key range: len|key|start), and
 * every key's windows over a time range (the time index: start|len|key).
 * Writes of windows older than the retention are refused as late. */
#include "ss.h"

static int win_key(sl_store_t *s, const void *key, size_t klen, int64_t start, uint8_t *ek, size_t *eklen)
{
    if (s->kind != SL_STORE_WINDOW)
        return SL_S_EINVAL;
    return ss_encode(ek, eklen, key, klen, 1, start, 0);
}

int sl_win_put(sl_store_t *s, const void *key, size_t klen, int64_t start, const void *val, size_t vlen)
{
    uint8_t ek[SS_EKEY_MAX];
    size_t eklen;
    int rc = win_key(s, key, klen, start, ek, &eklen);
    if (rc)
        return rc;
    if (start < s->cutoff)
        return SL_S_EEXPIRED;
    return ss_put(s, ek, eklen, val, vlen, false);
}

int sl_win_delete(sl_store_t *s, const void *key, size_t klen, int64_t start)
{
    uint8_t ek[SS_EKEY_MAX];
    size_t eklen;
    int rc = win_key(s, key, klen, start, ek, &eklen);
    if (rc)
        return rc;
    if (start < s->cutoff) /* already gone from the writer view; LMDB loses it at the checkpoint */
        return 0;
    return ss_put(s, ek, eklen, NULL, 0, true);
}

int sl_win_get(sl_store_t *s, sl_snap_t *snap, const void *key, size_t klen, int64_t start, const uint8_t **val,
               size_t *vlen)
{
    uint8_t ek[SS_EKEY_MAX];
    size_t eklen;
    int rc = win_key(s, key, klen, start, ek, &eklen);
    if (rc)
        return rc;
    if (!snap && start < s->cutoff)
        return SL_S_ENOTFOUND;
    return ss_get(s, snap, ek, eklen, val, vlen);
}

int sl_win_fetch(sl_store_t *s, sl_snap_t *snap, const void *key, size_t klen, int64_t t_from, int64_t t_to,
                 int flags, sl_iter_t **it, sl_err_t *err)
{
    *it = NULL;
    uint8_t lo[SS_EKEY_MAX], hi[SS_EKEY_MAX];
    size_t lo_len, hi_len;
    int rc = win_key(s, key, klen, t_from, lo, &lo_len);
    if (rc || (rc = win_key(s, key, klen, t_to, hi, &hi_len)))
        return sl_err_set(err, rc, "store %s: %s", s->name, rc == SL_S_EINVAL ? "not a window store" : "key too long");
    if (t_from > t_to)
        return sl_err_set(err, SL_S_EINVAL, "store %s: empty time range", s->name);
    ss_range_t r = {.lo = lo, .lo_len = lo_len, .hi = hi, .hi_len = hi_len, .has_lo = true, .has_hi = true};
    return ss_iter_open(s, snap, false, &r, NULL, flags, it, err);
}

int sl_win_fetch_all(sl_store_t *s, sl_snap_t *snap, int64_t t_from, int64_t t_to, int flags, sl_iter_t **it,
                     sl_err_t *err)
{
    *it = NULL;
    if (s->kind != SL_STORE_WINDOW)
        return sl_err_set(err, SL_S_EINVAL, "store %s is not a window store", s->name);
    if (t_from > t_to)
        return sl_err_set(err, SL_S_EINVAL, "store %s: empty time range", s->name);
    /* Index keys are start|len|key: [start(t_from), start(t_to + 1)). */
    uint8_t lo[8], hi[8];
    sl_codec_put_i64(lo, t_from);
    if (t_to != INT64_MAX)
        sl_codec_put_i64(hi, t_to + 1);
    ss_range_t r = {.lo = lo, .lo_len = 8, .has_lo = true, .hi = hi, .hi_len = 8, .has_hi = t_to != INT64_MAX,
                    .hi_excl = true};
    return ss_iter_open(s, snap, true, &r, NULL, flags, it, err);
}

int64_t sl_win_max_start(const sl_store_t *s) { return s->kind == SL_STORE_WINDOW ? s->max_time_written : INT64_MIN; }
