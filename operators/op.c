/* Operator instances: the kind table (names, which kinds are stateful) and the
 * sl_op_* entry points, which dispatch through each kind's vtable.  Also the
 * few helpers every kind shares: opening the store with a flush listener and
 * turning statestore and callback failures into SL_E_* codes with node names. */
#include <stdlib.h>

#include "operators/op.h"

static const struct {
    const char *name;
    const op_vtab_t *vt;
} kinds[SL_OP_KIND_COUNT] = {
    [SL_OP_PASS] = {"pass", &sl_op_pass_vt},
    [SL_OP_MAP] = {"map", &sl_op_map_vt},
    [SL_OP_FILTER] = {"filter", &sl_op_filter_vt},
    [SL_OP_FLAT_MAP] = {"flat_map", &sl_op_flat_map_vt},
    [SL_OP_BRANCH] = {"branch", &sl_op_flat_map_vt},
    [SL_OP_SELECT_KEY] = {"select_key", &sl_op_select_key_vt},
    [SL_OP_PEEK] = {"peek", &sl_op_peek_vt},
    [SL_OP_GROUP_BY] = {"group_by", &sl_op_group_by_vt},
    [SL_OP_COUNT] = {"count", &sl_op_agg_vt},
    [SL_OP_SUM] = {"sum", &sl_op_agg_vt},
    [SL_OP_MIN] = {"min", &sl_op_agg_vt},
    [SL_OP_MAX] = {"max", &sl_op_agg_vt},
    [SL_OP_AVG] = {"avg", &sl_op_agg_vt},
    [SL_OP_AGGREGATE] = {"aggregate", &sl_op_agg_vt},
    [SL_OP_REDUCE] = {"reduce", &sl_op_agg_vt},
    [SL_OP_TABLE] = {"table", &sl_op_table_vt},
    [SL_OP_JOIN] = {"join", &sl_op_join_vt},
    [SL_OP_WINDOW] = {"window", &sl_op_pass_vt},
    [SL_OP_GROUP_TABLE] = {"group_table", &sl_op_group_table_vt},
};

static bool kind_valid(sl_op_kind_t k) { return k > 0 && k < SL_OP_KIND_COUNT && kinds[k].vt; }

const char *sl_op_kind_name(sl_op_kind_t kind) { return kind_valid(kind) ? kinds[kind].name : "?"; }

bool sl_op_kind_is_aggregation(sl_op_kind_t kind) { return kind >= SL_OP_COUNT && kind <= SL_OP_REDUCE; }

bool sl_op_kind_is_stateful(sl_op_kind_t kind)
{
    return sl_op_kind_is_aggregation(kind) || kind == SL_OP_TABLE || kind == SL_OP_GROUP_TABLE;
}

int sl_op_open(const sl_op_spec_t *spec, const sl_op_ctx_t *ctx, sl_op_t **out, sl_err_t *err)
{
    *out = NULL;
    if (!spec || !ctx || !ctx->out || !ctx->stats || !ctx->node_name || !kind_valid(spec->kind))
        return sl_err_set(err, SL_E_INVAL, "sl_op_open: missing spec, context or kind");
    if (sl_op_kind_is_stateful(spec->kind) && (!ctx->env || !ctx->store_name || !ctx->stream_time))
        return sl_err_set(err, SL_E_INVAL, "node '%s' (%s): a stateful operator needs an environment, a store "
                          "name and a stream time", ctx->node_name, kinds[spec->kind].name);
    const op_vtab_t *vt = kinds[spec->kind].vt;
    if (sl_op_kind_is_aggregation(spec->kind) && spec->window.kind != SL_WINDOW_NONE)
        vt = &sl_op_window_vt;
    sl_op_t *op = calloc(1, vt->size);
    if (!op)
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", ctx->node_name);
    op->vt = vt;
    op->spec = *spec;
    op->ctx = *ctx;
    int rc = vt->open ? vt->open(op, err) : 0;
    if (rc) {
        sl_op_close(op);
        return rc;
    }
    *out = op;
    return 0;
}

int sl_op_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    op->ctx.stats->records_in++;
    return op->vt->process(op, rec, err);
}

int sl_op_take_error(sl_op_t *op, sl_err_t *err)
{
    int rc = op->pending_rc;
    if (rc && err)
        *err = op->pending_err;
    op->pending_rc = 0;
    return rc;
}

int sl_op_advance(sl_op_t *op, sl_err_t *err)
{
    if (!op || !op->vt->advance)
        return 0;
    return op->vt->advance(op, err);
}

int sl_op_sync(sl_op_t *op, sl_err_t *err)
{
    if (!op || !op->vt->sync)
        return 0;
    return op->vt->sync(op, err);
}

sl_store_t *sl_op_store(const sl_op_t *op) { return op->store; }

int sl_op_tick(sl_op_t *op, sl_err_t *err)
{
    return op->ttl_store ? op_ttl_expire(op, op->ttl_expire ? op->ttl_expire : op_ttl_delete, err) : 0;
}

void sl_op_close(sl_op_t *op)
{
    if (!op)
        return;
    if (op->vt->close)
        op->vt->close(op);
    sl_store_close(op->ttl_store);
    sl_store_close(op->store);
    free(op);
}

int op_open_store(sl_op_t *op, sl_store_flush_fn on_flush, const char *value_schema, sl_err_t *err)
{
    sl_store_config_t cfg = {
        .kind = SL_STORE_KV,
        .key_schema = "bytes",
        .value_schema = value_schema,
        .on_flush = on_flush,
        .flush_arg = op,
    };
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_store_open(op->ctx.env, op->ctx.store_name, &cfg, &op->store, &serr);
    if (rc)
        return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s': opening store '%s': %s",
                          op->ctx.node_name, op->ctx.store_name, serr.msg[0] ? serr.msg : sl_store_strerror(rc));
    return 0;
}

void op_set_pending(sl_op_t *op, int rc, const sl_err_t *err)
{
    if (op->pending_rc)
        return;
    op->pending_rc = rc;
    if (err)
        op->pending_err = *err;
}

int op_store_error(const sl_op_t *op, int src, const char *what, sl_err_t *err)
{
    int code = src == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE;
    return sl_err_set(err, code, "node '%s': %s store '%s': %s", op->ctx.node_name, what,
                      sl_store_name(op->store), sl_store_strerror(src));
}

int op_callback_error(const sl_op_t *op, const char *fn, sl_err_t *err)
{
    if (err && !err->msg[0])
        sl_err_set(err, SL_E_RECORD, "node '%s' (%s): the %s function failed", op->ctx.node_name,
                   kinds[op->spec.kind].name, fn);
    return SL_E_RECORD;
}
