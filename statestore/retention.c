/* Retention of window and session stores, driven by stream time: advancing it
 * moves a cutoff that hides older windows from the writer view at once (O(1));
 * the next checkpoint deletes them from LMDB, walking the time index from its
 * oldest entry, inside the same transaction as the rest of the state. */
#include <errno.h>

#include "ss.h"

int sl_store_advance(sl_store_t *s, int64_t stream_time)
{
    if (s->kind == SL_STORE_KV)
        return SL_S_EINVAL;
    if (s->stream_time != INT64_MIN && stream_time <= s->stream_time)
        return 0;
    s->stream_time = stream_time;
    s->stream_time_dirty = true;
    if (s->retention_ms > 0) {
        int64_t c = stream_time < INT64_MIN + s->retention_ms ? INT64_MIN : stream_time - s->retention_ms;
        if (c > s->cutoff) {
            s->cutoff = c;
            s->cache.mod++; /* entries just vanished from the writer view */
        }
    }
    return 0;
}

int64_t sl_store_stream_time(const sl_store_t *s) { return s->stream_time; }

/* Cost: O(log n) per expired window; re-seeks the first index entry after each
 * delete rather than relying on cursor positioning after mdb_cursor_del. */
int ss_retention_apply(sl_store_t *s, MDB_txn *txn)
{
    if (s->kind == SL_STORE_KV || s->cutoff == INT64_MIN || s->cutoff <= s->committed_cutoff)
        return 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->tdbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size < 8 || sl_codec_get_i64(k.mv_data) >= s->cutoff)
            break;
        if ((rc = ss_primary_key(s->kind, k.mv_data, k.mv_size, &s->kbuf))) {
            rc = rc == SL_S_ENOMEM ? ENOMEM : MDB_CORRUPTED;
            break;
        }
        MDB_val pk = {s->kbuf.len, s->kbuf.data};
        rc = mdb_del(txn, s->dbi, &pk, NULL);
        if ((rc && rc != MDB_NOTFOUND) || (rc = mdb_cursor_del(cur, 0)))
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

void ss_retention_prune_cache(sl_store_t *s)
{
    if (s->kind == SL_STORE_KV || s->cutoff == INT64_MIN)
        return;
    centry_t *e = cache_first(&s->cache);
    while (e) {
        centry_t *n = e->next[0];
        if (ss_primary_time(s->kind, ce_key(e), e->klen) < s->cutoff)
            cache_remove(&s->cache, e);
        e = n;
    }
}
