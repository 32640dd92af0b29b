/* Ordered iteration for every store kind.  A snapshot iterator is an LMDB
 * cursor over a range.  A writer-view iterator merges that cursor with the
 * cache (its skip list, or for time-ordered scans a sorted overlay of the
 * dirty entries) so the writer reads its own uncommitted updates: on equal keys
 * the cache wins, and a cached delete hides the committed entry. */
#include <stdlib.h>

#include "ss.h"

typedef struct overlay {
    centry_t *e;
    const uint8_t *ik; /* time-index key of e, in iter->ovkeys */
    size_t ikl;
} overlay_t;

struct sl_iter {
    sl_store_t *s;
    MDB_txn *txn;
    MDB_cursor *cur;
    bool writer, by_time, reverse;
    uint64_t mod;
    int64_t cutoff; /* writer view of a timed store: hide times below */
    sl_buf_t lo, hi;
    bool has_lo, has_hi, hi_excl;
    ss_filter_t f;
    bool a_ok; /* the cursor is on an entry */
    MDB_val ak, av;
    centry_t *b;    /* cache side, primary order */
    overlay_t *ov;  /* cache side, time order */
    size_t ov_n;
    ptrdiff_t ov_i;
    sl_buf_t ovkeys, pk;
};

static bool in_range(const sl_iter_t *it, const uint8_t *k, size_t kl)
{
    if (it->has_lo && ss_keycmp(k, kl, it->lo.data, it->lo.len) < 0)
        return false;
    if (it->has_hi) {
        int c = ss_keycmp(k, kl, it->hi.data, it->hi.len);
        if (c > 0 || (c == 0 && it->hi_excl))
            return false;
    }
    return true;
}

static int a_step(sl_iter_t *it, MDB_cursor_op op)
{
    int rc = mdb_cursor_get(it->cur, &it->ak, &it->av, op);
    it->a_ok = rc == 0;
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : ss_mdb_err(NULL, rc, "cursor");
}

static int a_position(sl_iter_t *it)
{
    if (!it->reverse) {
        if (!it->has_lo || it->lo.len == 0) /* LMDB keys are never empty */
            return a_step(it, MDB_FIRST);
        it->ak = (MDB_val){it->lo.len, it->lo.data};
        return a_step(it, MDB_SET_RANGE);
    }
    if (!it->has_hi)
        return a_step(it, MDB_LAST);
    if (it->hi.len == 0) { /* nothing is <= the empty key */
        it->a_ok = false;
        return 0;
    }
    it->ak = (MDB_val){it->hi.len, it->hi.data};
    int rc = a_step(it, MDB_SET_RANGE);
    if (rc)
        return rc;
    if (!it->a_ok)
        return a_step(it, MDB_LAST);
    if (!it->hi_excl && ss_keycmp(it->ak.mv_data, it->ak.mv_size, it->hi.data, it->hi.len) == 0)
        return 0;
    return a_step(it, MDB_PREV);
}

static int ov_cmp(const void *a, const void *b)
{
    const overlay_t *x = a, *y = b;
    return ss_keycmp(x->ik, x->ikl, y->ik, y->ikl);
}

/* Gather the dirty entries whose time-index keys fall in the range, sorted.
 * Clean entries equal what LMDB holds and need no overlay.  O(dirty entries). */
static int build_overlay(sl_iter_t *it)
{
    cache_t *c = &it->s->cache;
    if (!c->dirty_count)
        return 0;
    it->ov = malloc(c->dirty_count * sizeof *it->ov);
    size_t *offs = malloc(c->dirty_count * sizeof *offs);
    if (!it->ov || !offs) {
        free(offs);
        return SL_S_ENOMEM;
    }
    sl_buf_t one;
    sl_buf_init(&one);
    int rc = 0;
    for (size_t d = 0; d < c->dirty_count; d++) { /* the dirty vector: no walk of (or ordering of) the cache */
        centry_t *e = c->dirty[d];
        if ((rc = ss_index_key(it->s->kind, ce_key(e), e->klen, &one)))
            break;
        if (!in_range(it, one.data, one.len))
            continue;
        offs[it->ov_n] = it->ovkeys.len;
        if (sl_buf_append(&it->ovkeys, one.data, one.len)) {
            rc = SL_S_ENOMEM;
            break;
        }
        it->ov[it->ov_n++] = (overlay_t){e, NULL, one.len};
    }
    for (size_t i = 0; i < it->ov_n; i++)
        it->ov[i].ik = it->ovkeys.data + offs[i];
    free(offs);
    sl_buf_free(&one);
    if (rc == 0)
        qsort(it->ov, it->ov_n, sizeof *it->ov, ov_cmp);
    return rc;
}

int ss_iter_open(sl_store_t *s, sl_snap_t *snap, bool by_time, const ss_range_t *r, const ss_filter_t *f, int flags,
                 sl_iter_t **out, sl_err_t *err)
{
    *out = NULL;
    sl_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return sl_err_set(err, SL_S_ENOMEM, "store %s: out of memory", s->name);
    it->s = s;
    it->writer = snap == NULL;
    it->by_time = by_time;
    it->reverse = (flags & SL_ITER_REVERSE) != 0;
    it->mod = s->cache.mod;
    it->cutoff = it->writer && s->kind != SL_STORE_KV ? s->cutoff : INT64_MIN;
    it->has_lo = r->has_lo, it->has_hi = r->has_hi, it->hi_excl = r->hi_excl;
    if (f)
        it->f = *f;
    int rc = 0;
    if ((r->has_lo && sl_buf_append(&it->lo, r->lo, r->lo_len)) ||
        (r->has_hi && sl_buf_append(&it->hi, r->hi, r->hi_len))) {
        rc = sl_err_set(err, SL_S_ENOMEM, "store %s: out of memory", s->name);
        goto fail;
    }
    it->txn = snap ? snap->txn : ss_rtxn(s->env);
    if (!it->txn) {
        rc = sl_err_set(err, SL_S_EIO, "store %s: cannot begin the writer's read transaction", s->name);
        goto fail;
    }
    int mrc = mdb_cursor_open(it->txn, by_time ? s->tdbi : s->dbi, &it->cur);
    if (mrc) {
        rc = ss_mdb_err(err, mrc, "store %s: open cursor", s->name);
        goto fail;
    }
    if ((rc = a_position(it))) {
        sl_err_set(err, rc, "store %s: cursor positioning failed", s->name);
        goto fail;
    }
    if (it->writer) {
        cache_t *c = &s->cache;
        if (by_time) {
            if ((rc = build_overlay(it))) {
                sl_err_set(err, rc, "store %s: cannot gather cached updates", s->name);
                goto fail;
            }
            it->ov_i = it->reverse ? (ptrdiff_t)it->ov_n - 1 : 0;
        } else if (!it->reverse) {
            it->b = r->has_lo ? cache_seek(c, r->lo, r->lo_len, CACHE_GE) : cache_first(c);
        } else {
            it->b = r->has_hi ? cache_seek(c, r->hi, r->hi_len, r->hi_excl ? CACHE_LT : CACHE_LE) : cache_last(c);
        }
        s->open_iters++;
    }
    *out = it;
    return 0;
fail:
    it->writer = false;
    sl_iter_close(it);
    return rc;
}

void sl_iter_close(sl_iter_t *it)
{
    if (!it)
        return;
    if (it->cur)
        mdb_cursor_close(it->cur);
    if (it->writer)
        it->s->open_iters--;
    sl_buf_free(&it->lo);
    sl_buf_free(&it->hi);
    sl_buf_free(&it->ovkeys);
    sl_buf_free(&it->pk);
    free(it->ov);
    free(it);
}

/* The cache side's current entry and its key in this iterator's order. */
static centry_t *b_current(sl_iter_t *it, const uint8_t **k, size_t *kl)
{
    if (!it->writer)
        return NULL;
    if (it->by_time) {
        if (it->ov_i < 0 || (size_t)it->ov_i >= it->ov_n)
            return NULL;
        *k = it->ov[it->ov_i].ik, *kl = it->ov[it->ov_i].ikl;
        return it->ov[it->ov_i].e;
    }
    if (!it->b)
        return NULL;
    *k = ce_key(it->b), *kl = it->b->klen;
    return in_range(it, *k, *kl) ? it->b : NULL;
}

static void b_advance(sl_iter_t *it)
{
    if (it->by_time)
        it->ov_i += it->reverse ? -1 : 1;
    else
        it->b = it->reverse ? it->b->prev0 : it->b->next[0];
}

static bool filtered(const sl_iter_t *it, const sl_entry_t *e)
{
    if (it->cutoff != INT64_MIN && (it->s->kind == SL_STORE_WINDOW ? e->start : e->end) < it->cutoff)
        return true;
    return it->f.by_start_max && e->start > it->f.start_max;
}

int sl_iter_next(sl_iter_t *it, sl_entry_t *e)
{
    sl_store_t *s = it->s;
    if (it->writer && it->mod != s->cache.mod)
        return SL_S_EBUSY;
    for (;;) {
        const uint8_t *bk = NULL;
        size_t bkl = 0;
        centry_t *be = b_current(it, &bk, &bkl);
        if (it->a_ok && !in_range(it, it->ak.mv_data, it->ak.mv_size))
            it->a_ok = false;
        if (!it->a_ok && !be)
            return 0;
        int c = !it->a_ok ? 1 : !be ? -1 : ss_keycmp(it->ak.mv_data, it->ak.mv_size, bk, bkl);
        if (it->reverse && it->a_ok && be)
            c = -c;
        int rc;
        if (c >= 0) { /* the cache's entry comes first, or shadows the cursor's */
            b_advance(it);
            if (c == 0 && (rc = a_step(it, it->reverse ? MDB_PREV : MDB_NEXT)))
                return rc;
            if (be->flags & CE_ABSENT)
                continue;
            if ((rc = ss_decode_primary(s->kind, ce_key(be), be->klen, e)))
                return rc;
            e->val = be->val, e->val_len = be->vlen;
        } else if (!it->by_time) {
            if ((rc = ss_decode_primary(s->kind, it->ak.mv_data, it->ak.mv_size, e)))
                return rc;
            e->val = it->av.mv_data, e->val_len = it->av.mv_size;
            if ((rc = a_step(it, it->reverse ? MDB_PREV : MDB_NEXT)))
                return rc;
        } else { /* a time-index entry: fetch the value from the primary database */
            if ((rc = ss_primary_key(s->kind, it->ak.mv_data, it->ak.mv_size, &it->pk)))
                return rc;
            MDB_val k = {it->pk.len, it->pk.data}, v;
            if ((rc = mdb_get(it->txn, s->dbi, &k, &v)))
                return rc == MDB_NOTFOUND ? SL_S_ECORRUPT : ss_mdb_err(NULL, rc, "get");
            if ((rc = ss_decode_primary(s->kind, it->pk.data, it->pk.len, e)))
                return rc;
            e->val = v.mv_data, e->val_len = v.mv_size;
            if ((rc = a_step(it, it->reverse ? MDB_PREV : MDB_NEXT)))
                return rc;
        }
        if (!filtered(it, e))
            return 1;
    }
}
