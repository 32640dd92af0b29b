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

/* Emit final: every window whose end t has t + 1 + grace in (store stream
 * time, st], in (t, key) order from the time index. */
int slide_close_through(win_op_t *g, int64_t st, sl_err_t *err)
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
    sl_err_t serr = {0};
    int rc = sl_win_fetch_all(op->store, NULL, lo, hi, 0, &it, &serr);
    if (rc)
        return op_store_error(op, rc, "reading", err);
    sl_entry_t e;
    int n = 0;
    while (rc == 0 && (n = sl_iter_next(it, &e)) == 1) {
        sl_buf_reset(&g->key);
        if (sl_buf_append(&g->key, e.key, e.key_len))
            rc = sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
        else
            rc = slide_emit(g, g->key.data, e.key_len, e.start, err);
    }
    sl_iter_close(it);
    if (rc)
        return rc == SL_E_RECORD ? SL_E_STORE : rc; /* never the current record's fault */
    return n < 0 ? op_store_error(op, n, "reading", err) : 0;
}

/* A record whose own window has closed is late, even when later windows that
 * would hold it are open: it would change nothing that is still to be
 * forwarded in emit-final mode, and must not vanish silently. */
int slide_process(win_op_t *g, const sl_rec_t *rec, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    int64_t st = *op->ctx.stream_time, t = rec->timestamp;
    int rc;
    if (g->w.emit == SL_WINDOW_EMIT_FINAL && (rc = slide_close_through(g, st, err)) != 0)
        return rc;
    if ((rc = sl_store_advance(op->store, st)) != 0)
        return op_store_error(op, rc, "advancing", err);
    if (slide_closed(g, t, st))
        return win_late(g, rec, st, err);
    return win_pane_update(g, rec, t, err);
}

/* Emit changes: a changed pane at t changes the windows ending at the key's
 * record times in [t, t + size]; those still open at the flush are forwarded
 * (once per flush, as for hopping windows).  Cost per changed pane: one seek
 * for the window ends, one fold per window. */
void slide_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e)
{
    win_op_t *g = arg;
    sl_op_t *op = &g->base;
    sl_err_t err = {0};
    bool same;
    if (!e->val)
        return;
    int rc = win_flush_key(g, store, e, &same, &err);
    int64_t lo = e->start, st = *op->ctx.stream_time;
    if (same && lo <= g->last_w)
        lo = g->last_w + 1;
    if (st != INT64_MIN && lo < st - g->w.grace_ms) /* still open: t + 1 + grace > st */
        lo = st - g->w.grace_ms;
    sl_iter_t *it = NULL;
    sl_err_t serr = {0};
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
