/* Tumbling and hopping windows, and the vtable of every windowed aggregation
 * (sliding: window_sliding.c, sessions: window_session.c).  count / sum / min
 * / max / avg keep one partial aggregate per key and pane (gcd(size, advance))
 * so a record costs one read and one write; a window is folded from its panes
 * when forwarded.  aggregate / reduce cannot combine partials: they keep each
 * window and update the size / advance windows a record falls in. */
#include "operators/window.h"

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Windows holding time t: starts in [first, last], step advance, start >= 0. */
static int64_t win_last(const win_op_t *g, int64_t t) { return floor_div(t, g->advance) * g->advance; }
static int64_t win_first(const win_op_t *g, int64_t t)
{
    int64_t w = (floor_div(t - g->size, g->advance) + 1) * g->advance;
    return w < 0 ? 0 : w;
}
static bool win_closed(const win_op_t *g, int64_t w, int64_t st) { return w + g->size + g->w.grace_ms <= st; }

/* ---- updating -------------------------------------------------------------------------------------- */

int win_pane_update(win_op_t *g, const sl_rec_t *rec, int64_t p, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    const uint8_t *cur;
    size_t cur_len;
    wacc_t acc = {0};
    int rc = sl_win_get(op->store, NULL, rec->key, (size_t)rec->key_len, p, &cur, &cur_len);
    if (rc && rc != SL_S_ENOTFOUND)
        return op_store_error(op, rc, "reading", err);
    if (!rc && (rc = wacc_add_value(g, &acc, cur, cur_len, err)) != 0)
        return rc;
    if ((rc = wacc_add_record(g, &acc, rec, err)) != 0)
        return rc;
    sl_buf_reset(&g->a);
    if (wacc_encode(g, &acc, &g->a))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    rc = sl_win_put(op->store, rec->key, (size_t)rec->key_len, p, g->a.data, g->a.len);
    return rc ? op_store_error(op, rc, "writing", err) : 0;
}

/* Window mode (aggregate, reduce): fold rec into window w with the callbacks. */
static int window_update(win_op_t *g, const sl_rec_t *rec, int64_t w, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    const uint8_t *cur = NULL;
    size_t cur_len = 0;
    int rc = sl_win_get(op->store, NULL, rec->key, (size_t)rec->key_len, w, &cur, &cur_len);
    if (rc == SL_S_ENOTFOUND)
        cur = NULL;
    else if (rc)
        return op_store_error(op, rc, "reading", err);
    sl_buf_reset(&g->a);
    if (op->spec.kind == SL_OP_AGGREGATE) {
        if (!cur) {
            sl_buf_reset(&g->b);
            if (op->spec.fn.agg.init(op->spec.arg, &g->b, err) < 0)
                return op_callback_error(op, "init", err);
            cur = g->b.data ? g->b.data : (const uint8_t *)"";
            cur_len = g->b.len;
        }
        if (op->spec.fn.agg.add(op->spec.arg, rec, cur, cur_len, &g->a, err) < 0)
            return op_callback_error(op, "add", err);
    } else if (!cur) {
        if (sl_buf_append(&g->a, rec->value, (size_t)rec->value_len))
            return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    } else if (op->spec.fn.reduce(op->spec.arg, cur, cur_len, rec, &g->a, err) < 0) {
        return op_callback_error(op, "reduce", err);
    }
    rc = sl_win_put(op->store, rec->key, (size_t)rec->key_len, w, g->a.data ? g->a.data : (const uint8_t *)"",
                    g->a.len);
    return rc ? op_store_error(op, rc, "writing", err) : 0;
}

/* ---- forwarding -------------------------------------------------------------------------------------- */

int win_fold_panes(win_op_t *g, const uint8_t *key, size_t klen, int64_t from, int64_t to, wacc_t *acc,
                   sl_err_t *err)
{
    sl_op_t *op = &g->base;
    sl_iter_t *it;
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_win_fetch(op->store, NULL, key, klen, from, to, 0, &it, &serr);
    if (rc)
        return op_store_error(op, rc, "reading", err);
    sl_entry_t e;
    int n = 0;
    while (rc == 0 && (n = sl_iter_next(it, &e)) == 1)
        rc = wacc_add_value(g, acc, e.val, e.val_len, err);
    sl_iter_close(it);
    if (rc)
        return rc;
    return n < 0 ? op_store_error(op, n, "reading", err) : 0;
}

int win_emit_acc(win_op_t *g, const uint8_t *key, size_t klen, int64_t start, int64_t end, int64_t ts,
                 const wacc_t *acc, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    if (!acc->any)
        return 0;
    sl_buf_reset(&g->out);
    if (wacc_output(g, acc, &g->out))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    int rc = win_emit(g, key, klen, start, end, ts, g->out.data, g->out.len);
    return rc ? sl_err_set(err, rc, "node '%s': forwarding a window failed (%d)", op->ctx.node_name, rc) : 0;
}

/* Pane mode: fold the panes of key's window w and forward it.  Cost: one
 * seek and size / pane panes. */
static int pane_window_emit(win_op_t *g, const uint8_t *key, size_t klen, int64_t w, sl_err_t *err)
{
    wacc_t acc = {0};
    int rc = win_fold_panes(g, key, klen, w, w + g->size - 1, &acc, err);
    return rc ? rc : win_emit_acc(g, key, klen, w, w + g->size, w + g->size - 1, &acc, err);
}

/* Is p the first pane key has in window w?  (Then the pane forwards w.) */
static int first_pane_in(win_op_t *g, const uint8_t *key, size_t klen, int64_t w, int64_t p, sl_err_t *err)
{
    if (p == w)
        return 1;
    sl_iter_t *it;
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_win_fetch(g->base.store, NULL, key, klen, w, p - 1, 0, &it, &serr);
    if (rc)
        return op_store_error(&g->base, rc, "reading", err);
    sl_entry_t e;
    rc = sl_iter_next(it, &e);
    sl_iter_close(it);
    if (rc < 0)
        return op_store_error(&g->base, rc, "reading", err);
    return rc == 0;
}

/* Emit final: forward every window that closes as stream time moves from the
 * store's (the last one processed) to st, once, before retention drops it.
 * The windows come from the store's time index: nothing is held in memory.
 * Pane mode visits each pane of the closing windows and forwards a window from
 * the key's first pane in it: O(size / advance) seeks per pane. */
static int tw_close_through(win_op_t *g, int64_t st, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    int64_t prev = sl_store_stream_time(op->store), span = g->size + g->w.grace_ms;
    if (prev != INT64_MIN && st <= prev)
        return 0;
    int64_t hi = st - span, lo = prev == INT64_MIN ? 0 : prev - span + 1;
    /* windows start at multiples of advance; those up to hi close now, the next one at its start + span */
    g->close_at = floor_div(hi, g->advance) * g->advance + g->advance + span;
    if (lo < 0)
        lo = 0;
    if (hi < lo)
        return 0;
    int64_t w_lo = floor_div(lo + g->advance - 1, g->advance) * g->advance, w_hi = win_last(g, hi);
    if (w_lo > w_hi)
        return 0;
    int rc = g->use_tt ? tt_take_closing(g, w_hi, err) : 0;
    if (rc)
        return rc;
    if (g->use_tt && w_lo > g->tt.written_hi) { /* the store has none of these windows: the table has them all */
        rc = tt_emit_closing(g, NULL, err);
        return rc == SL_E_RECORD ? SL_E_STORE : rc;
    }
    sl_iter_t *it;
    sl_err_t serr;
    sl_err_clear(&serr);
    rc = sl_win_fetch_all(op->store, NULL, w_lo, g->pane_mode ? w_hi + g->size - 1 : w_hi, 0, &it, &serr);
    if (rc)
        return op_store_error(op, rc, "reading", err);
    sl_entry_t e;
    int n = 0;
    while (rc == 0 && (n = sl_iter_next(it, &e)) == 1) {
        sl_buf_reset(&g->key);
        if (sl_buf_append(&g->key, e.key, e.key_len)) {
            rc = sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
            break;
        }
        const uint8_t *k = g->key.data;
        if (!g->pane_mode || g->pane == g->size) { /* a tumbling window is its one pane: no fold, no seek */
            if (e.start > w_hi)
                continue;
            if (g->use_tt && (rc = tt_emit_closing(g, &e, err)) != 0) /* the table's windows sorting first */
                break;
            const uint8_t *v;
            size_t vlen;
            if ((rc = win_value_out(g, e.val, e.val_len, &v, &vlen, err)) == 0 &&
                (rc = win_emit(g, k, e.key_len, e.start, e.start + g->size, e.start + g->size - 1, v, vlen)) != 0)
                sl_err_set(err, rc, "node '%s': forwarding a window failed (%d)", op->ctx.node_name, rc);
            continue;
        }
        int64_t w0 = win_first(g, e.start), w1 = win_last(g, e.start);
        for (int64_t w = w0 < w_lo ? w_lo : w0; rc == 0 && w <= (w1 < w_hi ? w1 : w_hi); w += g->advance) {
            if ((rc = first_pane_in(g, k, e.key_len, w, e.start, err)) == 1)
                rc = pane_window_emit(g, k, e.key_len, w, err);
        }
    }
    sl_iter_close(it);
    if (!rc && n >= 0 && g->use_tt)
        rc = tt_emit_closing(g, NULL, err);
    if (rc)
        return rc == SL_E_RECORD ? SL_E_STORE : rc; /* never the current record's fault */
    return n < 0 ? op_store_error(op, n, "reading", err) : 0;
}

int win_flush_key(win_op_t *g, sl_store_t *store, const sl_entry_t *e, bool *same, sl_err_t *err)
{
    sl_cache_stats_t cs;
    sl_store_cache_stats(store, &cs);
    *same = g->have_last && cs.puts == g->last_puts && g->last_key.len == e->key_len &&
            !memcmp(g->last_key.data, e->key, e->key_len);
    if (!*same) /* a new key: nothing of it forwarded yet in this flush (last_w belonged to another) */
        g->last_w = INT64_MIN;
    sl_buf_reset(&g->last_key);
    g->have_last = false;
    if (sl_buf_append(&g->last_key, e->key, e->key_len))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", g->base.ctx.node_name);
    g->have_last = true;
    g->last_puts = cs.puts;
    return 0;
}

/* Emit changes: the store's flush listener.  Window mode forwards each changed
 * window.  Pane mode forwards every window holding a changed pane that is
 * still within the retention (all its panes are still there); a key's changed
 * panes arrive in time order within one flush, so a window shared by two of
 * them is forwarded once (win_flush_key). */
static void tw_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e)
{
    win_op_t *g = arg;
    sl_op_t *op = &g->base;
    sl_err_t err;
    sl_err_clear(&err);
    int rc = 0;
    if (!e->val) /* this operator never deletes; retention drops silently */
        return;
    if (!g->pane_mode || g->pane == g->size) { /* tumbling: the pane is the window */
        const uint8_t *v;
        size_t n;
        if ((rc = win_value_out(g, e->val, e->val_len, &v, &n, &err)) == 0 &&
            (rc = win_emit(g, e->key, e->key_len, e->start, e->start + g->size, e->start + g->size - 1, v, n)) != 0)
            sl_err_set(&err, rc, "node '%s': forwarding a window failed (%d)", op->ctx.node_name, rc);
    } else {
        bool same;
        if ((rc = win_flush_key(g, store, e, &same, &err)) == 0) {
            /* windows still open as of the store's last advance (its retention has not moved past them) */
            int64_t sst = sl_store_stream_time(store);
            int64_t keep = (sst != INT64_MIN ? sst : *op->ctx.stream_time) - g->size - g->w.grace_ms;
            int64_t w = win_first(g, e->start), w1 = win_last(g, e->start);
            if (same && w <= g->last_w)
                w = g->last_w + g->advance;
            if (w < keep)
                w = floor_div(keep + g->advance - 1, g->advance) * g->advance;
            for (; rc == 0 && w <= w1; w += g->advance) {
                rc = pane_window_emit(g, g->last_key.data, g->last_key.len, w, &err);
                g->last_w = w;
            }
        }
    }
    if (rc)
        op_set_pending(op, rc, &err);
}

/* Emit changes, hopping windows: a window whose panes retention is about to
 * hide (stream time moving past its end + grace) would lose the updates still
 * waiting in the cache for the next flush - the listener can no longer fold
 * it.  When stream time crosses such a boundary, forward this store's pending
 * updates first.  (Tumbling windows are one pane: the listener forwards them
 * whatever the time.) */
static int changes_before_close(win_op_t *g, int64_t st, sl_err_t *err)
{
    (void)err;
    if (g->w.emit != SL_WINDOW_EMIT_CHANGES || !g->pane_mode || g->pane == g->size)
        return 0;
    int64_t prev = sl_store_stream_time(g->base.store), span = g->size + g->w.grace_ms;
    /* windows start at 0: k * advance closes once stream time reaches it + size + grace */
    if (prev == INT64_MIN || st <= prev || floor_div(st - span, g->advance) < 0 ||
        floor_div(st - span, g->advance) == floor_div(prev - span, g->advance))
        return 0;
    sl_store_flush(g->base.store);
    return g->base.pending_rc ? sl_op_take_error(&g->base, err) : 0;
}

/* ---- the operator ---------------------------------------------------------------------------------- */

static int win_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    win_op_t *g = (win_op_t *)op;
    if (rec->key_len < 0) {
        op->ctx.stats->dropped_null_key++;
        return 0;
    }
    if (rec->value_len < 0) {
        op->ctx.stats->dropped_null_value++;
        return 0;
    }
    if ((size_t)rec->key_len > SL_STORE_MAX_KEY)
        return sl_err_set(err, SL_E_RECORD, "node '%s': key of %d bytes is longer than the store's %d",
                          op->ctx.node_name, rec->key_len, SL_STORE_MAX_KEY);
    if (g->w.kind == SL_WINDOW_SESSION)
        return sess_process(g, rec, err);
    if (g->w.kind == SL_WINDOW_SLIDING)
        return slide_process(g, rec, err);
    int64_t st = *op->ctx.stream_time, t = rec->timestamp;
    int rc;
    if (g->w.emit == SL_WINDOW_EMIT_FINAL && st >= g->close_at && (rc = tw_close_through(g, st, err)) != 0)
        return rc;
    if ((rc = changes_before_close(g, st, err)) != 0)
        return rc;
    if ((rc = sl_store_advance(op->store, st)) != 0)
        return op_store_error(op, rc, "advancing", err);
    int64_t w1 = win_last(g, t);
    if (win_closed(g, w1, st))
        return win_late(g, rec, st, err);
    if (g->pane_mode && g->use_tt && rec->key_len <= TT_KEY)
        return tt_update(g, rec, w1, err);
    if (g->pane_mode)
        return win_pane_update(g, rec, floor_div(t, g->pane) * g->pane, err);
    for (int64_t w = w1; w >= win_first(g, t) && !win_closed(g, w, st); w -= g->advance)
        if ((rc = window_update(g, rec, w, err)) != 0)
            return rc;
    return 0;
}

/* Stream time moved without a record: forward the windows it closes (emit
 * final) and let retention drop what has expired, as a record would. */
static int win_advance(sl_op_t *op, sl_err_t *err)
{
    win_op_t *g = (win_op_t *)op;
    int64_t st = *op->ctx.stream_time;
    int rc = 0;
    if (g->w.emit == SL_WINDOW_EMIT_FINAL)
        rc = g->w.kind == SL_WINDOW_SESSION ? sess_close_through(g, st, err)
             : g->w.kind == SL_WINDOW_SLIDING ? slide_close_through(g, st, err)
                                              : tw_close_through(g, st, err);
    else if (g->w.kind == SL_WINDOW_HOPPING)
        rc = changes_before_close(g, st, err);
    else if (g->w.kind == SL_WINDOW_SLIDING)
        rc = slide_changes_before_close(g, st, err);
    if (!rc && (rc = sl_store_advance(op->store, st)) != 0)
        return op_store_error(op, rc, "advancing", err);
    return rc;
}

static const char *win_schema(sl_op_kind_t k)
{
    switch (k) {
    case SL_OP_COUNT: return "msgpack int";
    case SL_OP_SUM:
    case SL_OP_MIN:
    case SL_OP_MAX: return "msgpack number";
    case SL_OP_AVG: return "msgpack {sum:number,count:int}";
    default: return "bytes";
    }
}

/* A session [s, e] closes when stream time reaches e + gap + grace; keeping
 * sessions with e >= stream time - (gap + grace - 1) hides exactly the closed
 * ones from the writer view, so a record can never merge into a session that
 * emit final has already forwarded.  (gap 1, grace 0 would need retention 0,
 * which means "keep everything": there a closed session stays visible 1 ms.) */
static int64_t sess_retention(const sl_window_spec_t *w)
{
    return w->gap_ms + w->grace_ms > 1 ? w->gap_ms + w->grace_ms - 1 : 1;
}

static int win_open(sl_op_t *op, sl_err_t *err)
{
    win_op_t *g = (win_op_t *)op;
    g->w = op->spec.window;
    g->close_at = INT64_MIN;
    sl_op_kind_t k = op->spec.kind;
    bool session = g->w.kind == SL_WINDOW_SESSION, sliding = g->w.kind == SL_WINDOW_SLIDING;
    bool ok = k == SL_OP_AGGREGATE ? op->spec.fn.agg.init && op->spec.fn.agg.add &&
                                         (!session || op->spec.fn.agg.merge) && !sliding
              : k == SL_OP_REDUCE  ? op->spec.fn.reduce != NULL && !sliding
                                   : win_numeric(k);
    if (g->w.kind == SL_WINDOW_TUMBLING || sliding)
        g->w.advance_ms = g->w.size_ms;
    if (session ? g->w.gap_ms <= 0
                : (g->w.kind != SL_WINDOW_TUMBLING && g->w.kind != SL_WINDOW_HOPPING && !sliding) ||
                      g->w.size_ms <= 0 || g->w.advance_ms <= 0 || g->w.advance_ms > g->w.size_ms)
        ok = false;
    if (!ok || g->w.grace_ms < 0)
        return sl_err_set(err, SL_E_INVAL, "node '%s' (%s): invalid window or missing callback", op->ctx.node_name,
                          sl_op_kind_name(k));
    g->size = g->w.size_ms;
    g->advance = g->w.advance_ms;
    g->pane = session ? 0 : sliding ? 1 : gcd64(g->size, g->advance);
    g->pane_mode = win_numeric(k);
    if (sl_codec_new(&g->codec) != 0)
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    bool changes = g->w.emit == SL_WINDOW_EMIT_CHANGES;
    sl_store_config_t cfg = {
        .kind = session ? SL_STORE_SESSION : SL_STORE_WINDOW,
        .key_schema = "bytes",
        .value_schema = win_schema(k),
        .retention_ms = session ? sess_retention(&g->w) : g->size + g->w.grace_ms,
        .window_size_ms = session ? 0 : g->size,
        .on_flush = !changes ? NULL : session ? sess_on_flush : sliding ? slide_on_flush : tw_on_flush,
        .flush_arg = op,
    };
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_store_open(op->ctx.env, op->ctx.store_name, &cfg, &op->store, &serr);
    if (rc)
        return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s': opening store '%s': %s",
                          op->ctx.node_name, op->ctx.store_name, serr.msg[0] ? serr.msg : sl_store_strerror(rc));
    g->use_tt = g->w.kind == SL_WINDOW_TUMBLING && !changes && g->pane_mode && !op->ctx.store_shared;
    g->tt.min_start = INT64_MAX;
    g->tt.store_hi = g->tt.written_hi = sl_win_max_start(op->store);
    return 0;
}

static int win_sync(sl_op_t *op, sl_err_t *err)
{
    win_op_t *g = (win_op_t *)op;
    return g->use_tt && g->tt.ndirty ? tt_sync(g, err) : 0;
}

static void win_close(sl_op_t *op)
{
    win_op_t *g = (win_op_t *)op;
    sl_codec_free(g->codec);
    sl_buf_free(&g->a);
    sl_buf_free(&g->b);
    sl_buf_free(&g->out);
    sl_buf_free(&g->key);
    sl_buf_free(&g->last_key);
    slide_pending_free(&g->pend);
    tt_free(&g->tt);
}

const op_vtab_t sl_op_window_vt = {
    .size = sizeof(win_op_t),
    .open = win_open,
    .process = win_process,
    .close = win_close,
    .advance = win_advance,
    .sync = win_sync};
