/* Joins, one instance per input side: opening, the joiner call shared by every
 * kind, and the two kinds that keep no state of their own.  A stream-table
 * join's stream side looks each record up in the table's KV store (the table
 * operator's, in the same task); its table side forwards nothing.  A
 * table-table join's sides each look up the other table's store when their
 * table forwards an update.  Stream-stream buffering is join_stream_stream.c. */
#include <stdio.h>

#include "operators/join.h"

int join_find_other(join_op_t *j, sl_err_t *err)
{
    if (j->other)
        return 0;
    j->other = sl_env_store(j->base.ctx.env, j->other_name);
    if (!j->other)
        return sl_err_set(err, SL_E_STORE, "node '%s' (join): store '%s' is not open in this task",
                          j->base.ctx.node_name, j->other_name);
    return 0;
}

int join_emit(join_op_t *j, const uint8_t *key, int32_t key_len, const sl_rec_t *left, const sl_rec_t *right,
              int64_t ts, const sl_rec_t *hdr, sl_err_t *err)
{
    sl_op_t *op = &j->base;
    sl_buf_reset(&j->out);
    if (j->js->joiner(j->js->arg, left, right, &j->out, err) < 0)
        return op_callback_error(op, "joiner", err);
    sl_rec_t rec = {
        .key = key,
        .key_len = key_len,
        .value = j->out.data ? j->out.data : (const uint8_t *)"",
        .value_len = (int32_t)j->out.len,
        .timestamp = ts,
        .headers = hdr ? hdr->headers : NULL,
        .header_count = hdr ? hdr->header_count : 0,
    };
    return sl_emit(op->ctx.out, &rec);
}

static int key_too_long(const sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    return sl_err_set(err, SL_E_RECORD, "node '%s' (join): key of %d bytes is longer than the store's %d",
                      op->ctx.node_name, rec->key_len, SL_STORE_MAX_KEY);
}

/* ---- stream-table ------------------------------------------------------------------------------ */

/* A stream record with a null key has nothing to look up: a left join
 * forwards it with no table value (Kafka Streams 3.7, KIP-962), an inner join
 * drops it.  Null values are dropped.  Both drops are counted. */
static int stream_table_process(join_op_t *j, const sl_rec_t *rec, sl_err_t *err)
{
    sl_op_t *op = &j->base;
    if (j->side == 1)
        return 0; /* table updates only change what later stream records find */
    if (rec->value_len < 0) {
        op->ctx.stats->dropped_null_value++;
        return 0;
    }
    if (rec->key_len < 0) {
        if (j->js->type == SL_JOIN_LEFT)
            return join_emit(j, rec->key, rec->key_len, rec, NULL, rec->timestamp, rec, err);
        op->ctx.stats->dropped_null_key++;
        return 0;
    }
    if ((size_t)rec->key_len > SL_STORE_MAX_KEY)
        return key_too_long(op, rec, err);
    int rc = join_find_other(j, err);
    if (rc)
        return rc;
    const uint8_t *val;
    size_t len;
    rc = sl_kv_get(j->other, NULL, rec->key, (size_t)rec->key_len, &val, &len);
    if (rc == SL_S_ENOTFOUND)
        return j->js->type == SL_JOIN_LEFT ? join_emit(j, rec->key, rec->key_len, rec, NULL, rec->timestamp, rec, err)
                                           : 0;
    if (rc)
        return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s' (join): reading store '%s': %s",
                          op->ctx.node_name, j->other_name, sl_store_strerror(rc));
    sl_rec_t right = {
        .key = rec->key,
        .key_len = rec->key_len,
        .value = val,
        .value_len = (int32_t)len,
        .timestamp = *op->ctx.stream_time,
    };
    return join_emit(j, rec->key, rec->key_len, rec, &right, rec->timestamp, rec, err);
}

/* ---- table-table ----------------------------------------------------------------------------------- */

/* Whether the join holds a result for a key given which sides hold it. */
static bool tt_has_result(sl_join_type_t type, bool left, bool right)
{
    switch (type) {
    case SL_JOIN_INNER: return left && right;
    case SL_JOIN_LEFT: return left;
    default: return left || right;
    }
}

/* An update (rec: the new value, null when deleted) of this side's table.  The
 * result is recomputed from it and the other table's current value: forwarded
 * when the join holds a result, a tombstone when this update removed one.
 * Without the old value a delete of a key this table never held may forward a
 * tombstone the join never had a result for (harmless for a table reader), as
 * in Kafka Streams without sendOldValues. */
static int table_table_process(join_op_t *j, const sl_rec_t *rec, sl_err_t *err)
{
    sl_op_t *op = &j->base;
    if (rec->key_len < 0) {
        op->ctx.stats->dropped_null_key++;
        return 0;
    }
    if ((size_t)rec->key_len > SL_STORE_MAX_KEY)
        return key_too_long(op, rec, err);
    int rc = join_find_other(j, err);
    if (rc)
        return rc;
    const uint8_t *val;
    size_t len;
    rc = sl_kv_get(j->other, NULL, rec->key, (size_t)rec->key_len, &val, &len);
    if (rc && rc != SL_S_ENOTFOUND)
        return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s' (join): reading store '%s': %s",
                          op->ctx.node_name, j->other_name, sl_store_strerror(rc));
    sl_rec_t other = {
        .key = rec->key,
        .key_len = rec->key_len,
        .value = val,
        .value_len = (int32_t)len,
        .timestamp = rec->timestamp,
    };
    const sl_rec_t *mine = rec->value_len >= 0 ? rec : NULL, *theirs = rc ? NULL : &other;
    const sl_rec_t *left = j->side ? theirs : mine, *right = j->side ? mine : theirs;
    if (tt_has_result(j->js->type, left != NULL, right != NULL))
        return join_emit(j, rec->key, rec->key_len, left, right, rec->timestamp, NULL, err);
    if (mine || !tt_has_result(j->js->type, j->side ? theirs != NULL : true, j->side ? true : theirs != NULL))
        return 0;
    sl_rec_t tomb = {.key = rec->key, .key_len = rec->key_len, .value_len = -1, .timestamp = rec->timestamp};
    return sl_emit(op->ctx.out, &tomb);
}

/* ---- the vtable -------------------------------------------------------------------------------------- */

static int join_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    join_op_t *j = (join_op_t *)op;
    switch (j->js->kind) {
    case SL_JOIN_STREAM_TABLE: return stream_table_process(j, rec, err);
    case SL_JOIN_TABLE_TABLE: return table_table_process(j, rec, err);
    default: return join_ss_process(j, rec, err);
    }
}

/* The store name the engine gives (ctx.store_name) is the store this side
 * reads for stream-table and table-table, and this side's own buffer for
 * stream-stream. */
static int join_open(sl_op_t *op, sl_err_t *err)
{
    join_op_t *j = (join_op_t *)op;
    j->js = op->spec.join;
    j->side = op->spec.join_side;
    if (!j->js || !j->js->joiner || (j->side != 0 && j->side != 1))
        return sl_err_set(err, SL_E_INVAL, "node '%s' (join): missing join spec, joiner or side", op->ctx.node_name);
    bool reads = j->js->kind != SL_JOIN_STREAM_TABLE || j->side == 0;
    if (reads && (!op->ctx.env || !op->ctx.store_name || !op->ctx.stream_time))
        return sl_err_set(err, SL_E_INVAL, "node '%s' (join): needs an environment, a store name and a stream time",
                          op->ctx.node_name);
    if (j->js->kind == SL_JOIN_STREAM_STREAM)
        return join_ss_open(j, err);
    if (reads)
        snprintf(j->other_name, sizeof j->other_name, "%s", op->ctx.store_name);
    return 0;
}

static void join_close(sl_op_t *op)
{
    join_op_t *j = (join_op_t *)op;
    sl_buf_free(&j->out);
    sl_buf_free(&j->entry);
    sl_buf_free(&j->starts);
}

static int join_advance(sl_op_t *op, sl_err_t *err)
{
    join_op_t *j = (join_op_t *)op;
    return j->js->kind == SL_JOIN_STREAM_STREAM ? join_ss_advance(j, err) : 0;
}

const op_vtab_t sl_op_join_vt = {
    .size = sizeof(join_op_t),
    .open = join_open,
    .process = join_process,
    .close = join_close,
    .advance = join_advance};
