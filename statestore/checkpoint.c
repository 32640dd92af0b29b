/* Checkpoints: the one place an LMDB write transaction is opened.  Flush
 * listeners see the coalesced updates first; then every dirty entry of every
 * store, the retention deletes, the stream times and the caller's metadata are
 * written and committed together.  If the map is full the transaction is
 * aborted, the map doubled and everything rewritten from the still-intact
 * caches; if the disk is full the caches are kept for a later retry. */
#include <errno.h>
#include <inttypes.h>
#include <sys/statvfs.h>

#include "ss.h"

#define FLUSH_ROUNDS 16
#define GROW_ATTEMPTS 64

/* ---- flush listeners ------------------------------------------------------------------------ */

static void flush_store(sl_store_t *s)
{
    cache_t *c = &s->cache;
    s->flushing = true;
    for (centry_t *e = cache_first(c); e && c->pending; e = e->next[0]) {
        if ((e->flags & (CE_DIRTY | CE_FORWARDED)) != CE_DIRTY)
            continue;
        cache_set_flags(c, e, e->flags | CE_FORWARDED);
        sl_entry_t ent;
        if (ss_decode_primary(s->kind, ce_key(e), e->klen, &ent) != 0)
            continue; /* cannot happen: the key was encoded by this module */
        bool del = (e->flags & CE_ABSENT) != 0;
        ent.val = del ? NULL : e->val;
        ent.val_len = del ? 0 : e->vlen;
        s->on_flush(s->flush_arg, s, &ent);
    }
    s->flushing = false;
}

void sl_store_flush(sl_store_t *s)
{
    if (s && s->on_flush && s->cache.pending && !s->flushing)
        flush_store(s);
}

int sl_env_flush(sl_env_t *env, sl_err_t *err)
{
    for (int round = 0; round < FLUSH_ROUNDS; round++) {
        bool any = false;
        for (sl_store_t *s = env->stores; s; s = s->next) {
            if (s->on_flush && s->cache.pending) {
                any = true;
                flush_store(s);
            }
        }
        if (!any)
            return 0;
    }
    return sl_err_set(err, SL_S_EBUSY, "statestore %s: flush listeners still dirtying stores after %d rounds",
                      env->dir, FLUSH_ROUNDS);
}

/* ---- writing one store ------------------------------------------------------------------------- */

static int put_descriptor(sl_store_t *s, MDB_txn *txn)
{
    if (ss_desc_encode(s, &s->env->scratch))
        return ENOMEM;
    MDB_val k = {strlen(s->name), s->name}, v = {s->env->scratch.len, s->env->scratch.data};
    return mdb_put(txn, s->env->stores_dbi, &k, &v, 0);
}

/* Dirty entries are written from the dirty vector, in the order they became
 * dirty, so a checkpoint visits only them rather than walking the whole cache
 * in key order, unless most of the cache is dirty (a counter per word): then
 * the walk visits little else, and puts in key order through one cursor cost
 * about half as much (bench_engine_wordcount, 10k dirty counters: 2.2 ms a
 * checkpoint against 3.8). */
int ss_store_write(sl_store_t *s, MDB_txn *txn)
{
    int rc = ss_retention_apply(s, txn);
    if (rc)
        return rc;
    cache_t *c = &s->cache;
    bool timed = s->kind != SL_STORE_KV;
    /* Mostly dirty: in key order through one cursor, which LMDB positions
     * within the leaf page it is on when the next key falls there, instead of
     * descending from the root for every put. */
    bool ordered = c->dirty_count >= 64 && c->dirty_count * 2 >= c->count;
    MDB_cursor *cur = NULL;
    if (ordered && (rc = mdb_cursor_open(txn, s->dbi, &cur)) != 0)
        return rc;
    centry_t *next = ordered ? cache_first(c) : NULL;
    for (size_t i = 0; ordered ? next != NULL : i < c->dirty_count; i++) {
        centry_t *e = ordered ? next : c->dirty[i];
        if (ordered) {
            next = e->next[0];
            if (!(e->flags & CE_DIRTY))
                continue;
        }
        if (timed && ss_primary_time(s->kind, ce_key(e), e->klen) < s->cutoff)
            continue; /* expired before it was committed */
        MDB_val k = {e->klen, (void *)ce_key(e)};
        if (e->flags & CE_ABSENT) {
            rc = mdb_del(txn, s->dbi, &k, NULL);
        } else {
            if (s->kind == SL_STORE_WINDOW) { /* an upper bound: an aborted transaction only weakens it */
                int64_t t = ss_primary_time(s->kind, ce_key(e), e->klen);
                if (t > s->max_time_written)
                    s->max_time_written = t;
            }
            MDB_val v = {e->vlen, e->val};
            rc = cur ? mdb_cursor_put(cur, &k, &v, 0) : mdb_put(txn, s->dbi, &k, &v, 0);
        }
        if (rc && rc != MDB_NOTFOUND)
            break;
        if (!timed)
            continue;
        if (ss_index_key(s->kind, ce_key(e), e->klen, &s->kbuf)) {
            rc = ENOMEM;
            break;
        }
        MDB_val ik = {s->kbuf.len, s->kbuf.data}, empty = {0, NULL};
        if (e->flags & CE_ABSENT)
            rc = mdb_del(txn, s->tdbi, &ik, NULL);
        else
            rc = mdb_put(txn, s->tdbi, &ik, &empty, MDB_NOOVERWRITE);
        if (rc && rc != MDB_NOTFOUND && rc != MDB_KEYEXIST)
            break;
        rc = 0;
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    return s->stream_time_dirty ? put_descriptor(s, txn) : 0;
}

/* ---- the checkpoint ------------------------------------------------------------------------------ */

static bool meta_name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    return len > 0 && len <= 200 && strncmp(n, "__", 2) != 0;
}

/* Grow ahead of need when three quarters of the map are in use, so that most
 * checkpoints never meet MDB_MAP_FULL (which costs an aborted transaction). */
static void grow_early(sl_env_t *env)
{
    MDB_envinfo info;
    mdb_env_info(env->mdb, &info);
    size_t used = (info.me_last_pgno + 1) * env->page_size;
    if (used > env->map_size / 4 * 3 && env->map_size < env->cfg.map_size_max)
        ss_grow(env, NULL);
}

static int write_all(sl_env_t *env, MDB_txn *txn, const sl_meta_t *meta, size_t n)
{
    int rc;
    for (sl_store_t *s = env->stores; s; s = s->next)
        if ((rc = ss_store_write(s, txn)))
            return rc;
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {strlen(meta[i].name), (void *)meta[i].name}, v = {meta[i].len, (void *)meta[i].data};
        if ((rc = mdb_put(txn, env->meta_dbi, &k, &v, 0)))
            return rc;
    }
    uint8_t seq[8];
    sl_put_be64(seq, env->seq + 1);
    MDB_val k = {strlen(SS_SEQ_KEY), SS_SEQ_KEY}, v = {8, seq};
    return mdb_put(txn, env->meta_dbi, &k, &v, 0);
}

static void mark_committed(sl_store_t *s)
{
    cache_t *c = &s->cache;
    cache_mark_clean(c);
    s->committed_cutoff = s->cutoff;
    s->committed_stream_time = s->stream_time;
    s->stream_time_dirty = false;
    ss_retention_prune_cache(s);
    cache_evict(c);
}

/* A full disk usually shows as a write that fits only in part, and LMDB
 * reports a short write as EIO (mdb_page_flush), not ENOSPC.  Tell the two
 * apart by the file system's free space. */
static bool disk_full(const sl_env_t *env, int rc)
{
    if (rc == ENOSPC || rc == EDQUOT)
        return true;
    struct statvfs v;
    return rc == EIO && statvfs(env->dir, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < (1u << 20);
}

int sl_env_checkpoint(sl_env_t *env, const sl_meta_t *meta, size_t n, sl_err_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (!meta_name_ok(meta[i].name) || (meta[i].len && !meta[i].data))
            return sl_err_set(err, SL_S_EINVAL, "checkpoint: invalid metadata item %zu", i);
    for (sl_store_t *s = env->stores; s; s = s->next)
        if (s->open_iters)
            return sl_err_set(err, SL_S_EBUSY, "checkpoint: store %s has %d open writer-view iterators", s->name,
                              s->open_iters);
    int rc = sl_env_flush(env, err);
    if (rc)
        return rc;
    for (int attempt = 0;; attempt++) {
        grow_early(env);
        ss_rtxn_reset(env);
        MDB_txn *txn;
        if ((rc = mdb_txn_begin(env->mdb, NULL, 0, &txn)))
            return ss_mdb_err(err, rc, "checkpoint %" PRIu64 ": begin", env->seq + 1);
        rc = write_all(env, txn, meta, n);
        if (rc)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn); /* frees txn, also on failure */
        if (rc == 0)
            break;
        if (rc == MDB_MAP_FULL && attempt < GROW_ATTEMPTS) {
            int grc = ss_grow(env, err);
            if (grc)
                return grc;
            continue;
        }
        if (disk_full(env, rc))
            return sl_err_set(err, SL_S_ENOSPC,
                              "checkpoint %" PRIu64 " in %s: no space left on the device; nothing was committed, "
                              "the cached updates are kept: free space and checkpoint again", env->seq + 1, env->dir);
        return ss_mdb_err(err, rc, "checkpoint %" PRIu64 " in %s (nothing committed, cached updates kept)",
                          env->seq + 1, env->dir);
    }
    env->seq++;
    for (sl_store_t *s = env->stores; s; s = s->next)
        mark_committed(s);
    return 0;
}

void sl_env_rollback(sl_env_t *env)
{
    for (sl_store_t *s = env->stores; s; s = s->next) {
        cache_drop_dirty(&s->cache);
        s->cache.mod++;
        s->cutoff = s->committed_cutoff;
        s->stream_time = s->committed_stream_time;
        s->stream_time_dirty = false;
    }
}

int sl_env_meta_get(sl_env_t *env, sl_snap_t *snap, const char *name, sl_buf_t *out, sl_err_t *err)
{
    if (!meta_name_ok(name))
        return sl_err_set(err, SL_S_EINVAL, "metadata name \"%s\" is invalid", name ? name : "(null)");
    sl_snap_t *own = NULL;
    if (!snap) {
        int rc = sl_snap_begin(env, &own, err);
        if (rc)
            return rc;
        snap = own;
    }
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(snap->txn, env->meta_dbi, &k, &v);
    if (rc == 0) {
        sl_buf_reset(out);
        if (sl_buf_append(out, v.mv_data, v.mv_size))
            rc = sl_err_set(err, SL_S_ENOMEM, "metadata %s: out of memory", name);
    } else if (rc == MDB_NOTFOUND) {
        rc = sl_err_set(err, SL_S_ENOTFOUND, "no checkpoint metadata named %s", name);
    } else {
        rc = ss_mdb_err(err, rc, "metadata %s", name);
    }
    sl_snap_end(own);
    return rc;
}
