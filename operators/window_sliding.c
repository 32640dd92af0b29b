/* Sliding windows (Kafka Streams' SlidingWindows, left windows): each distinct
 * record time t of a key ends a window [max(0, t - size), t], both ends
 * inclusive, holding the key's records with times in it.  count / sum / min /
 * max / avg only: the store keeps one partial aggregate per key and record
 * time (a one-millisecond pane), so a record costs one read and one write; a
 * window's value is folded from its panes when it is forwarded. */
#include "operators/window.h"

/* The window [t - size, t] (t a pane time) closes at t + 1 + grace: like a
 * tumbling window's exclusive end plus grace, so that with grace 0 a record
 * at stream time is on time. */
static bool slide_closed(const win_op_t *g, int64_t t, int64_t st) { return t + 1 + g->w.grace_ms <= st; }

/* Fold key's panes in [t - size, t] and forward the window ending at t. */
static int slide_emit(win_op_t *g, const uint8_t *key, size_t klen, int64_t t, sl_err_t *err)
{
    int64_t start = t - g->size < 0 ? 0 : t - g->size;
    wacc_t acc = {0};
    int rc = win_fold_panes(g, key, klen, start, t, &acc, err);
    return rc ? rc : win_emit_acc(g, key, klen, start, t, t, &acc, err);
}

/* ---- pending changes (emit changes) -------------------------------------------------------------- */

static uint64_t pend_hash(const uint8_t *k, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: keys are short, the table small */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h | 1; /* 0 marks a free slot */
}

static slide_pend_t *pend_find(slide_pending_t *p, const uint8_t *k, size_t n, uint64_t h)
{
    if (!p->cap)
        return NULL;
    for (size_t i = h & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
        slide_pend_t *e = &p->tab[i];
        if (!e->hash || (e->hash == h && e->klen == n && !memcmp(p->keys.data + e->koff, k, n)))
            return e;
    }
}

/* A fresh table of cap slots holding the non-empty entries of p. */
static int pend_rebuild(slide_pending_t *p, size_t cap)
{
    slide_pending_t q = {calloc(cap, sizeof *q.tab), cap, 0, 0, {0}};
    sl_buf_init(&q.keys);
    if (!q.tab)
        return -1;
    for (size_t i = 0; i < p->cap; i++) {
        slide_pend_t *e = &p->tab[i];
        if (!e->hash || e->lo > e->hi)
            continue;
        slide_pend_t *d = pend_find(&q, p->keys.data + e->koff, e->klen, e->hash);
        *d = *e;
        d->koff = (uint32_t)q.keys.len;
        if (sl_buf_append(&q.keys, p->keys.data + e->koff, e->klen)) {
            free(q.tab);
            sl_buf_free(&q.keys);
            return -1;
        }
        q.used++, q.live++;
    }
    slide_pending_free(p);
    *p = q;
    return 0;
}

void slide_pending_free(slide_pending_t *p)
{
    free(p->tab);
    sl_buf_free(&p->keys);
    memset(p, 0, sizeof *p);
}

/* Pane t of key changed. */
static int pend_mark(slide_pending_t *p, const uint8_t *k, size_t n, int64_t t)
{
    if ((p->used + 1) * 4 > p->cap * 3 &&
        pend_rebuild(p, p->live * 2 + 2 > p->cap / 2 ? (p->cap ? p->cap * 2 : 64) : p->cap) != 0)
        return SL_E_NOMEM;
    uint64_t h = pend_hash(k, n);
    slide_pend_t *e = pend_find(p, k, n, h);
    if (!e->hash) {
        if (p->keys.len + n > UINT32_MAX || sl_buf_append(&p->keys, k, n))
            return SL_E_NOMEM;
        *e = (slide_pend_t){h, (uint32_t)(p->keys.len - n), (uint32_t)n, t, t};
        p->used++, p->live++;
        return 0;
    }
    if (e->lo > e->hi) {
        e->lo = e->hi = t;
        p->live++;
    } else {
        e->lo = t < e->lo ? t : e->lo;
        e->hi = t > e->hi ? t : e->hi;
    }
    return 0;
}

/* Key k is being flushed: its changed panes are all forwarded in this flush. */
static void pend_clear(slide_pending_t *p, const uint8_t *k, size_t n)
{
    slide_pend_t *e = pend_find(p, k, n, pend_hash(k, n));
    if (e && e->hash && e->lo <= e->hi) {
        e->lo = INT64_MAX, e->hi = INT64_MIN;
        p->live--;
    }
}

/* Whether a changed pane of key k may lie in [a, b] (the range is kept, not
 * each pane: a window between two changed panes counts too, which at worst
 * forwards a window again with the value it had). */
static bool pend_overlaps(slide_pending_t *p, const uint8_t *k, size_t n, int64_t a, int64_t b)
{
    slide_pend_t *e = pend_find(p, k, n, pend_hash(k, n));
    return e && e->hash && e->lo <= b && e->hi >= a;
}

/* ---- closing -------------------------------------------------------------------------------------- */

/* Every window whose end t has t + 1 + grace in (store stream time, st], in
 * (t, key) order from the time index; `pending_only`: just those with a
 * changed pane not forwarded yet. */
static int close_through(win_op_t *g, int64_t st, bool pending_only, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    int64_t prev = sl_store_stream_time(op->store);
    if (prev != INT64_MIN && st <= prev)
        return 0;
    int64_t hi = st - g->w.grace_ms - 1, lo = prev == INT64_MIN ? 0 : prev - g->w.grace_ms;
    if (lo < 0)
        lo = 0;
    if (hi < lo)
        return 0;
    sl_iter_t *it;
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_win_fetch_all(op->store, NULL, lo, hi, 0, &it, &serr);
    if (rc)
        return op_store_error(op, rc, "reading", err);
    sl_entry_t e;
    int n = 0;
    while (rc == 0 && (n = sl_iter_next(it, &e)) == 1) {
        sl_buf_reset(&g->key);
        if (sl_buf_append(&g->key, e.key, e.key_len))
            rc = sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
        else if (!pending_only ||
                 pend_overlaps(&g->pend, g->key.data, e.key_len, e.start - g->size, e.start))
            rc = slide_emit(g, g->key.data, e.key_len, e.start, err);
    }
    sl_iter_close(it);
    if (rc)
        return rc == SL_E_RECORD ? SL_E_STORE : rc; /* never the current record's fault */
    return n < 0 ? op_store_error(op, n, "reading", err) : 0;
}

/* Emit final: every window closing. */
int slide_close_through(win_op_t *g, int64_t st, sl_err_t *err) { return close_through(g, st, false, err); }

/* Emit changes: the flush forwards only windows still open (their panes may
 * be gone from the store after that), so a window closing with an update
 * still waiting in the cache is forwarded now, as it closes. */
int slide_changes_before_close(win_op_t *g, int64_t st, sl_err_t *err)
{
    return g->pend.live ? close_through(g, st, true, err) : 0;
}

/* A record whose own window has closed is late, even when later windows that
 * would hold it are open: it would change nothing that is still to be
 * forwarded in emit-final mode, and must not vanish silently. */
int slide_process(win_op_t *g, const sl_rec_t *rec, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    int64_t st = *op->ctx.stream_time, t = rec->timestamp;
    int rc;
    bool changes = g->w.emit == SL_WINDOW_EMIT_CHANGES;
    if ((rc = changes ? slide_changes_before_close(g, st, err) : slide_close_through(g, st, err)) != 0)
        return rc;
    if ((rc = sl_store_advance(op->store, st)) != 0)
        return op_store_error(op, rc, "advancing", err);
    if (slide_closed(g, t, st))
        return win_late(g, rec, st, err);
    if ((rc = win_pane_update(g, rec, t, err)) != 0)
        return rc;
    if (changes && pend_mark(&g->pend, rec->key, (size_t)rec->key_len, t) != 0)
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    return 0;
}

/* Emit changes: a changed pane at t changes the windows ending at the key's
 * record times in [t, t + size]; those still open at the flush are forwarded
 * (once per flush, as for hopping windows).  Cost per changed pane: one seek
 * for the window ends, one fold per window. */
void slide_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e)
{
    win_op_t *g = arg;
    sl_op_t *op = &g->base;
    sl_err_t err;
    sl_err_clear(&err);
    bool same;
    if (!e->val)
        return;
    int rc = win_flush_key(g, store, e, &same, &err);
    if (rc == 0)
        pend_clear(&g->pend, g->last_key.data, g->last_key.len);
    int64_t lo = e->start, st = *op->ctx.stream_time;
    if (same && lo <= g->last_w)
        lo = g->last_w + 1;
    if (st != INT64_MIN && lo < st - g->w.grace_ms) /* still open: t + 1 + grace > st */
        lo = st - g->w.grace_ms;
    sl_iter_t *it = NULL;
    sl_err_t serr;
    sl_err_clear(&serr);
    if (rc == 0 && lo <= e->start + g->size &&
        (rc = sl_win_fetch(op->store, NULL, g->last_key.data, g->last_key.len, lo, e->start + g->size, 0, &it,
                           &serr)) != 0)
        rc = op_store_error(op, rc, "reading", &err);
    sl_entry_t end;
    int n = 0;
    while (it && rc == 0 && (n = sl_iter_next(it, &end)) == 1) {
        int64_t t = end.start; /* the fold below reuses nothing of `end` but this */
        rc = slide_emit(g, g->last_key.data, g->last_key.len, t, &err);
        g->last_w = t;
    }
    sl_iter_close(it);
    if (rc == 0 && n < 0)
        rc = op_store_error(op, n, "reading", &err);
    if (rc)
        op_set_pending(op, rc, &err);
}
