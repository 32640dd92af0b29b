/* Session windows: records of a key at most gap_ms apart form a session
 * [first, last].  Each record is a one-record session merged in with
 * sl_sess_merge, which absorbs every session within gap (an out-of-order record
 * can bridge two) and deletes them: tombstones at the next flush in emit
 * changes.  Merging combines two aggregates: natively for count / sum / min /
 * max / avg, with reduce(acc, value) for reduce, with the merger for
 * aggregate. */
#include "operators/window.h"

static bool sess_closed(const win_op_t *g, int64_t end, int64_t st)
{
    return end + g->w.gap_ms + g->w.grace_ms <= st;
}

/* sl_sess_merge_fn: a (the merged value so far, starting with the new
 * record's) combined with b (an absorbed session's). */
static int sess_merge(void *arg, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, sl_buf_t *out)
{
    win_op_t *g = arg;
    sl_op_t *op = &g->base;
    if (g->cb_rc)
        return SL_S_EINVAL;
    int rc;
    if (op->spec.kind == SL_OP_REDUCE) {
        sl_rec_t r = *g->cur;
        r.value = b;
        r.value_len = (int32_t)b_len;
        g->cb_err.msg[0] = '\0';
        if (op->spec.fn.reduce(op->spec.arg, a, a_len, &r, out, &g->cb_err) >= 0)
            return 0;
        g->cb_rc = op_callback_error(op, "reduce", &g->cb_err);
        return SL_S_EINVAL;
    }
    if (op->spec.kind == SL_OP_AGGREGATE) {
        g->cb_err.msg[0] = '\0';
        if (op->spec.fn.agg.merge(op->spec.arg, g->cur->key, (size_t)g->cur->key_len, a, a_len, b, b_len, out,
                                  &g->cb_err) >= 0)
            return 0;
        g->cb_rc = op_callback_error(op, "merge", &g->cb_err);
        return SL_S_EINVAL;
    }
    wacc_t acc = {0};
    if ((rc = wacc_add_value(g, &acc, a, a_len, &g->cb_err)) != 0 ||
        (rc = wacc_add_value(g, &acc, b, b_len, &g->cb_err)) != 0 ||
        (rc = wacc_encode(g, &acc, out)) != 0) {
        if (rc == SL_E_NOMEM)
            sl_err_set(&g->cb_err, rc, "node '%s': out of memory", op->ctx.node_name);
        g->cb_rc = rc;
        return rc == SL_E_NOMEM ? SL_S_ENOMEM : SL_S_ECORRUPT;
    }
    return 0;
}

/* Emit final: forward each session that closes as stream time moves from the
 * store's to st, in (end, key) order, from the store's time index. */
int sess_close_through(win_op_t *g, int64_t st, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    int64_t prev = sl_store_stream_time(op->store), span = g->w.gap_ms + g->w.grace_ms;
    if (prev != INT64_MIN && st <= prev)
        return 0;
    int64_t hi = st - span, lo = prev == INT64_MIN ? INT64_MIN : prev - span + 1;
    if (hi < lo)
        return 0;
    sl_iter_t *it;
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_sess_find(op->store, NULL, NULL, 0, lo, hi, 0, &it, &serr);
    if (rc)
        return op_store_error(op, rc, "reading", err);
    sl_entry_t e;
    int n = 0;
    while (rc == 0 && (n = sl_iter_next(it, &e)) == 1) {
        if (e.end > hi)
            break;
        const uint8_t *v;
        size_t vlen;
        if ((rc = win_value_out(g, e.val, e.val_len, &v, &vlen, err)) == 0 &&
            (rc = win_emit(g, e.key, e.key_len, e.start, e.end, e.end, v, vlen)) != 0)
            sl_err_set(err, rc, "node '%s': forwarding a session failed (%d)", op->ctx.node_name, rc);
    }
    sl_iter_close(it);
    if (rc)
        return rc == SL_E_RECORD ? SL_E_STORE : rc;
    return n < 0 ? op_store_error(op, n, "reading", err) : 0;
}

int sess_process(win_op_t *g, const sl_rec_t *rec, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    int64_t st = *op->ctx.stream_time, t = rec->timestamp;
    int rc;
    if (g->w.emit == SL_WINDOW_EMIT_FINAL && (rc = sess_close_through(g, st, err)) != 0)
        return rc;
    if ((rc = sl_store_advance(op->store, st)) != 0)
        return op_store_error(op, rc, "advancing", err);
    if (sess_closed(g, t, st))
        return win_late(g, rec, st, err);
    sl_buf_reset(&g->a);
    if (op->spec.kind == SL_OP_REDUCE) {
        if (sl_buf_append(&g->a, rec->value, (size_t)rec->value_len))
            return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    } else if (op->spec.kind == SL_OP_AGGREGATE) { /* the record's own session: add(rec, init()) */
        sl_buf_reset(&g->b);
        if (op->spec.fn.agg.init(op->spec.arg, &g->b, err) < 0)
            return op_callback_error(op, "init", err);
        if (op->spec.fn.agg.add(op->spec.arg, rec, g->b.data ? g->b.data : (const uint8_t *)"", g->b.len, &g->a,
                                err) < 0)
            return op_callback_error(op, "add", err);
    } else {
        wacc_t acc = {0};
        if ((rc = wacc_add_record(g, &acc, rec, err)) != 0)
            return rc;
        if (wacc_encode(g, &acc, &g->a))
            return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    }
    g->cb_rc = 0;
    g->cur = rec;
    sl_err_t serr;
    sl_err_clear(&serr);
    rc = sl_sess_merge(op->store, rec->key, (size_t)rec->key_len, t, t, g->w.gap_ms,
                       g->a.data ? g->a.data : (const uint8_t *)"", g->a.len, sess_merge, g, NULL, NULL, &serr);
    g->cur = NULL;
    if (g->cb_rc) {
        *err = g->cb_err;
        return g->cb_rc;
    }
    return rc ? op_store_error(op, rc, "merging a session in", err) : 0;
}

/* Emit changes: every changed session goes downstream at the flush, and every
 * session a merge absorbed goes as a tombstone (null value) with its bounds. */
void sess_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e)
{
    win_op_t *g = arg;
    sl_op_t *op = &g->base;
    sl_err_t err;
    sl_err_clear(&err);
    const uint8_t *v = NULL;
    size_t n = 0;
    int rc = e->val ? win_value_out(g, e->val, e->val_len, &v, &n, &err) : 0;
    if (rc == 0 && (rc = win_emit(g, e->key, e->key_len, e->start, e->end, e->end, v, n)) != 0)
        sl_err_set(&err, rc, "node '%s': forwarding a session failed (%d)", op->ctx.node_name, rc);
    if (rc)
        op_set_pending(op, rc, &err);
}
