/* Reads and writes common to every store kind, on encoded keys: the writer
 * view (cache first, then the writer's LMDB read transaction, caching what it
 * read), snapshot reads, cache writes; and the key-value store API on top
 * (get, put, delete, range and prefix scans, count). */
#include <stdlib.h>

#include "ss.h"

int ss_get(sl_store_t *s, sl_snap_t *snap, const uint8_t *ek, size_t eklen, const uint8_t **val, size_t *vlen)
{
    MDB_val k = {eklen, (void *)ek}, v;
    if (snap) {
        int rc = mdb_get(snap->txn, s->dbi, &k, &v);
        if (rc)
            return ss_mdb_err(NULL, rc, "get");
        *val = v.mv_data;
        *vlen = v.mv_size;
        return 0;
    }
    cache_t *c = &s->cache;
    centry_t *e = cache_find(c, ek, eklen);
    if (e) {
        c->hits++;
        if (e->flags & CE_ABSENT)
            return SL_S_ENOTFOUND;
        *val = e->val;
        *vlen = e->vlen;
        return 0;
    }
    c->misses++;
    int rc;
    if (s->kind == SL_STORE_WINDOW && ss_primary_time(s->kind, ek, eklen) > s->max_time_written) {
        rc = MDB_NOTFOUND; /* a window later than any LMDB holds: a new one (the common case) */
    } else {
        MDB_txn *txn = ss_rtxn(s->env);
        if (!txn)
            return SL_S_EIO;
        rc = mdb_get(txn, s->dbi, &k, &v);
    }
    if (rc && rc != MDB_NOTFOUND)
        return ss_mdb_err(NULL, rc, "get");
    /* Keep what was read (or that the key is absent) while there is room
     * beyond the dirty set, and never under an open iterator, which an
     * eviction could pull an entry from under. */
    if (c->bound > c->dirty_bytes + eklen + 64 && s->open_iters == 0) {
        if (cache_set(c, ek, eklen, rc ? NULL : v.mv_data, rc ? 0 : v.mv_size, rc ? CE_ABSENT : 0))
            cache_evict(c);
    }
    if (rc)
        return SL_S_ENOTFOUND;
    *val = v.mv_data;
    *vlen = v.mv_size;
    return 0;
}

int ss_put(sl_store_t *s, const uint8_t *ek, size_t eklen, const void *val, size_t vlen, bool del)
{
    if (s->flushing)
        return SL_S_EBUSY;
    if (vlen > UINT32_MAX || (vlen && !val))
        return SL_S_EINVAL;
    cache_t *c = &s->cache;
    if (!cache_set(c, ek, eklen, val, vlen, CE_DIRTY | (del ? CE_ABSENT : 0)))
        return SL_S_ENOMEM;
    c->puts++;
    if (c->bytes > c->bound)
        cache_evict(c);
    return 0;
}

/* ---- key-value stores --------------------------------------------------------------------- */

static int kv_check(const sl_store_t *s, const void *key, size_t klen)
{
    if (s->kind != SL_STORE_KV)
        return SL_S_EINVAL;
    if (klen == 0 || !key)
        return SL_S_EINVAL; /* LMDB keys are 1..511 bytes */
    return klen > SL_STORE_MAX_KEY ? SL_S_ETOOBIG : 0;
}

int sl_kv_get(sl_store_t *s, sl_snap_t *snap, const void *key, size_t klen, const uint8_t **val, size_t *vlen)
{
    int rc = kv_check(s, key, klen);
    return rc ? rc : ss_get(s, snap, key, klen, val, vlen);
}

int sl_kv_put(sl_store_t *s, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = kv_check(s, key, klen);
    return rc ? rc : ss_put(s, key, klen, val, vlen, false);
}

int sl_kv_delete(sl_store_t *s, const void *key, size_t klen)
{
    int rc = kv_check(s, key, klen);
    return rc ? rc : ss_put(s, key, klen, NULL, 0, true);
}

int sl_kv_range(sl_store_t *s, sl_snap_t *snap, const void *from, size_t from_len, const void *to, size_t to_len,
                int flags, sl_iter_t **it, sl_err_t *err)
{
    *it = NULL;
    if (s->kind != SL_STORE_KV)
        return sl_err_set(err, SL_S_EINVAL, "store %s is not a key-value store", s->name);
    ss_range_t r = {.lo = from, .lo_len = from_len, .hi = to, .hi_len = to_len, .has_lo = from != NULL,
                    .has_hi = to != NULL};
    return ss_iter_open(s, snap, false, &r, NULL, flags, it, err);
}

int sl_kv_prefix(sl_store_t *s, sl_snap_t *snap, const void *prefix, size_t plen, int flags, sl_iter_t **it,
                 sl_err_t *err)
{
    *it = NULL;
    if (s->kind != SL_STORE_KV)
        return sl_err_set(err, SL_S_EINVAL, "store %s is not a key-value store", s->name);
    if (plen > SL_STORE_MAX_KEY)
        return sl_err_set(err, SL_S_ETOOBIG, "store %s: prefix longer than %d bytes", s->name, SL_STORE_MAX_KEY);
    /* Keys with the prefix are exactly those in [prefix, successor): the
     * successor is the prefix with its last non-0xff byte incremented and the
     * 0xff bytes after it dropped; none (all 0xff) means no upper bound. */
    uint8_t succ[SL_STORE_MAX_KEY];
    size_t slen = plen;
    if (plen)
        memcpy(succ, prefix, plen);
    while (slen && succ[slen - 1] == 0xff)
        slen--;
    if (slen)
        succ[slen - 1]++;
    ss_range_t r = {.lo = prefix, .lo_len = plen, .has_lo = plen > 0, .hi = succ, .hi_len = slen,
                    .has_hi = slen > 0, .hi_excl = true};
    return ss_iter_open(s, snap, false, &r, NULL, flags, it, err);
}

int sl_kv_count(sl_store_t *s, sl_snap_t *snap, uint64_t *n)
{
    if (s->kind != SL_STORE_KV)
        return SL_S_EINVAL;
    MDB_txn *txn = snap ? snap->txn : ss_rtxn(s->env);
    if (!txn)
        return SL_S_EIO;
    MDB_stat st;
    int rc = mdb_stat(txn, s->dbi, &st);
    if (rc)
        return ss_mdb_err(NULL, rc, "stat");
    uint64_t count = st.ms_entries;
    if (!snap) {
        size_t seen = 0;
        for (centry_t *e = cache_first(&s->cache); e && seen < s->cache.dirty_count; e = e->next[0]) {
            if (!(e->flags & CE_DIRTY))
                continue;
            seen++;
            MDB_val k = {e->klen, (void *)ce_key(e)}, v;
            rc = mdb_get(txn, s->dbi, &k, &v);
            if (rc && rc != MDB_NOTFOUND)
                return ss_mdb_err(NULL, rc, "get");
            bool in_db = rc == 0;
            if ((e->flags & CE_ABSENT) && in_db)
                count--;
            else if (!(e->flags & CE_ABSENT) && !in_db)
                count++;
        }
    }
    *n = count;
    return 0;
}

int sl_store_entries(sl_store_t *s, sl_snap_t *snap, uint64_t *n)
{
    if (!snap)
        return SL_S_EINVAL;
    MDB_stat st;
    int rc = mdb_stat(snap->txn, s->dbi, &st);
    if (rc)
        return ss_mdb_err(NULL, rc, "stat");
    *n = st.ms_entries;
    return 0;
}
