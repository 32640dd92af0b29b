/* Values of windowed aggregations: folding records and stored partial
 * aggregates (panes, merged sessions) of count / sum / min / max / avg in a
 * native accumulator, encoding them exactly as the non-windowed aggregations
 * store and forward them, and forwarding a window with its bounds in headers.
 * Folding natively means combining k panes decodes k values and encodes one. */
#include <inttypes.h>
#include <math.h>

#include "operators/window.h"

bool win_numeric(sl_op_kind_t k) { return k >= SL_OP_COUNT && k <= SL_OP_AVG; }

/* Fold number n (with `count` values behind it) into acc. */
static void wacc_fold(sl_op_kind_t k, wacc_t *acc, sl_num_t n, int64_t count)
{
    if (k == SL_OP_COUNT) {
        acc->count += count;
    } else if (!acc->any) {
        acc->num = n;
        acc->count = count;
    } else if (k == SL_OP_SUM || k == SL_OP_AVG) {
        acc->num = sl_num_add(acc->num, n);
        acc->count += count;
    } else if ((k == SL_OP_MIN) == (sl_num_cmp(&n, &acc->num) < 0)) {
        acc->num = n;
    }
    acc->any = true;
}

static int corrupt_state(const win_op_t *g, sl_err_t *err)
{
    const sl_op_t *op = &g->base;
    return sl_err_set(err, SL_E_STORE, "node '%s' (%s): store '%s' holds a value that is not this aggregation's",
                      op->ctx.node_name, sl_op_kind_name(op->spec.kind), sl_store_name(op->store));
}

int wacc_add_record(win_op_t *g, wacc_t *acc, const sl_rec_t *rec, sl_err_t *err)
{
    const sl_op_t *op = &g->base;
    sl_op_kind_t k = op->spec.kind;
    sl_num_t n = {0};
    if (k != SL_OP_COUNT) {
        if (op->spec.fn.num) {
            if (op->spec.fn.num(op->spec.arg, rec, &n, err) < 0)
                return op_callback_error(op, "number", err);
        } else {
            msgpack_object o;
            if (sl_num_from_msgpack(rec->value, (size_t)rec->value_len, &n) != 0 &&
                (sl_codec_decode(g->codec, rec->value, (size_t)rec->value_len, &o) != 0 ||
                 sl_num_from_object(&o, &n) != 0))
                return sl_err_set(err, SL_E_RECORD, "node '%s' (%s): the value is not a msgpack number",
                                  op->ctx.node_name, sl_op_kind_name(k));
        }
        if ((k == SL_OP_MIN || k == SL_OP_MAX) && sl_num_f(&n) != sl_num_f(&n))
            return sl_err_set(err, SL_E_RECORD, "node '%s' (%s): NaN cannot be ordered", op->ctx.node_name,
                              sl_op_kind_name(k));
    }
    wacc_fold(k, acc, n, 1);
    return 0;
}

int wacc_add_value(win_op_t *g, wacc_t *acc, const uint8_t *v, size_t len, sl_err_t *err)
{
    sl_op_kind_t k = g->base.spec.kind;
    msgpack_object o;
    sl_num_t n = {0}, c = {0};
    if (k != SL_OP_AVG && sl_num_from_msgpack(v, len, &n) == 0) {
        if (k == SL_OP_COUNT && n.is_float)
            return corrupt_state(g, err);
        wacc_fold(k, acc, n, k == SL_OP_COUNT ? n.i : 1);
        return 0;
    }
    if (sl_codec_decode(g->codec, v, len, &o) != 0)
        return corrupt_state(g, err);
    if (k != SL_OP_AVG) {
        if (sl_num_from_object(&o, &n) != 0 || (k == SL_OP_COUNT && n.is_float))
            return corrupt_state(g, err);
        wacc_fold(k, acc, n, k == SL_OP_COUNT ? n.i : 1);
        return 0;
    }
    int seen = 0; /* avg: {"sum": number, "count": int} */
    for (uint32_t i = 0; o.type == MSGPACK_OBJECT_MAP && i < o.via.map.size; i++) {
        const msgpack_object_kv *kv = &o.via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        if (kv->key.via.str.size == 3 && !memcmp(kv->key.via.str.ptr, "sum", 3) && !sl_num_from_object(&kv->val, &n))
            seen |= 1;
        else if (kv->key.via.str.size == 5 && !memcmp(kv->key.via.str.ptr, "count", 5) &&
                 !sl_num_from_object(&kv->val, &c) && !c.is_float)
            seen |= 2;
    }
    if (seen != 3)
        return corrupt_state(g, err);
    wacc_fold(k, acc, n, c.i);
    return 0;
}

int wacc_encode(const win_op_t *g, const wacc_t *acc, sl_buf_t *out)
{
    switch (g->base.spec.kind) {
    case SL_OP_COUNT:
        return sl_codec_pack_i64(out, acc->count) ? SL_E_NOMEM : 0;
    case SL_OP_AVG: {
        msgpack_packer pk;
        sl_codec_packer_init(&pk, out);
        if (msgpack_pack_map(&pk, 2) || msgpack_pack_str_with_body(&pk, "sum", 3) || sl_num_pack(out, &acc->num) ||
            msgpack_pack_str_with_body(&pk, "count", 5) || msgpack_pack_int64(&pk, acc->count))
            return SL_E_NOMEM;
        return 0;
    }
    default:
        return sl_num_pack(out, &acc->num) ? SL_E_NOMEM : 0;
    }
}

int wacc_output(const win_op_t *g, const wacc_t *acc, sl_buf_t *out)
{
    if (g->base.spec.kind != SL_OP_AVG)
        return wacc_encode(g, acc, out);
    return sl_codec_pack_f64(out, acc->count ? sl_num_f(&acc->num) / (double)acc->count : NAN) ? SL_E_NOMEM : 0;
}

int win_value_out(win_op_t *g, const uint8_t *v, size_t n, const uint8_t **out, size_t *out_len, sl_err_t *err)
{
    if (!win_numeric(g->base.spec.kind)) {
        *out = v;
        *out_len = n;
        return 0;
    }
    wacc_t acc = {0};
    int rc = wacc_add_value(g, &acc, v, n, err);
    if (rc)
        return rc;
    sl_buf_reset(&g->out);
    if (wacc_output(g, &acc, &g->out))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", g->base.ctx.node_name);
    *out = g->out.data;
    *out_len = g->out.len;
    return 0;
}

int win_emit(win_op_t *g, const uint8_t *key, size_t klen, int64_t start, int64_t end, int64_t ts,
             const uint8_t *val, size_t vlen)
{
    sl_put_be64(g->hdr_start, (uint64_t)start);
    sl_put_be64(g->hdr_end, (uint64_t)end);
    g->hdrs[0] = (sl_rec_header_t){SL_WINDOW_HDR_START, sizeof SL_WINDOW_HDR_START - 1, g->hdr_start, 8};
    g->hdrs[1] = (sl_rec_header_t){SL_WINDOW_HDR_END, sizeof SL_WINDOW_HDR_END - 1, g->hdr_end, 8};
    sl_rec_t rec = {
        .key = key,
        .key_len = (int32_t)klen,
        .value = val,
        .value_len = val ? (int32_t)vlen : -1,
        .timestamp = ts,
        .headers = g->hdrs,
        .header_count = 2,
    };
    g->base.ctx.stats->updates_forwarded++;
    return sl_emit(g->base.ctx.out, &rec);
}

int win_late(win_op_t *g, const sl_rec_t *rec, int64_t stream_time, sl_err_t *err)
{
    g->base.ctx.stats->late_records++;
    return sl_err_set(err, SL_E_RECORD,
                      "late record: node '%s': timestamp %" PRId64 " is past its windows' grace of %" PRId64
                      " ms (stream time %" PRId64 ")",
                      g->base.ctx.node_name, rec->timestamp, g->w.grace_ms, stream_time);
}
