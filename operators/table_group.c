/* Grouping a table (Kafka Streams' KGroupedTable): the input is a table's
 * changelog - one record per changed row, a null value for a deleted row.  The
 * operator keeps the last value of every row in its KV store (keyed by the
 * row's key), so that when a row changes it can take the old value out of the
 * old group before adding the new value to the new group: it forwards, at
 * once and in this order, a retraction (the old value under the old group key,
 * header "sl.retract") and an addition (the new value under the new group
 * key, with the input's headers).  A deleted row forwards only the retraction;
 * an update that changes neither the value nor the group forwards nothing.
 * The aggregations downstream (count, sum, avg, aggregate) subtract
 * retractions; min / max / reduce cannot and are refused by sl_topo_build. */
#include "operators/op.h"

typedef struct tgroup_op {
    sl_op_t base;
    sl_buf_t old_key, new_key, old_val;
} tgroup_op_t;

static const sl_rec_header_t retract_header = {SL_RETRACT_HEADER, sizeof SL_RETRACT_HEADER - 1,
                                               (const uint8_t *)"1", 1};

/* The group key of (key, value) into *out: 1, 0 for a null group key, < 0 on error. */
static int group_key(sl_op_t *op, const sl_rec_t *row, sl_buf_t *out, sl_err_t *err)
{
    sl_buf_reset(out);
    int has = op->spec.fn.key(op->spec.arg, row, out, err);
    if (has < 0)
        return op_callback_error(op, "key", err);
    if (has && out->len > INT32_MAX)
        return sl_err_set(err, SL_E_RECORD, "node '%s': key of %zu bytes is too long", op->ctx.node_name, out->len);
    return has ? 1 : 0;
}

static int tgroup_update(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err);

/* A row past its TTL is deleted: its value is taken back from its group. */
static int tgroup_expire(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err)
{
    sl_rec_t del = {.key = key, .key_len = (int32_t)key_len, .value_len = -1, .timestamp = *op->ctx.stream_time};
    return tgroup_update(op, &del, err);
}

static int tgroup_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    int rc = tgroup_update(op, rec, err);
    if (rc || !op->ttl_store || rec->key_len < 0)
        return rc;
    return rec->value_len < 0 ? op_ttl_forget(op, rec->key, (size_t)rec->key_len, err)
                              : op_ttl_touch(op, rec->key, (size_t)rec->key_len, err);
}

static int tgroup_update(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    tgroup_op_t *g = (tgroup_op_t *)op;
    if (rec->key_len < 0) {
        op->ctx.stats->dropped_null_key++;
        return 0;
    }
    if ((size_t)rec->key_len > SL_STORE_MAX_KEY)
        return sl_err_set(err, SL_E_RECORD, "node '%s': key of %d bytes is longer than the store's %d",
                          op->ctx.node_name, rec->key_len, SL_STORE_MAX_KEY);
    const uint8_t *cur = NULL;
    size_t cur_len = 0;
    int rc = sl_kv_get(op->store, NULL, rec->key, (size_t)rec->key_len, &cur, &cur_len);
    if (rc && rc != SL_S_ENOTFOUND)
        return op_store_error(op, rc, "reading", err);
    bool had = rc == 0;
    sl_buf_reset(&g->old_val);
    if (had && sl_buf_append(&g->old_val, cur, cur_len))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    /* the group keys first: a failing key function changes nothing */
    int has_old = 0, has_new = 0;
    sl_rec_t old_row = {.key = rec->key, .key_len = rec->key_len, .value = g->old_val.data ? g->old_val.data
                                                                                        : (const uint8_t *)"",
                        .value_len = (int32_t)g->old_val.len, .timestamp = rec->timestamp};
    if (had && (has_old = group_key(op, &old_row, &g->old_key, err)) < 0)
        return has_old;
    if (rec->value_len >= 0 && (has_new = group_key(op, rec, &g->new_key, err)) < 0)
        return has_new;
    if (had && rec->value_len >= 0 && (size_t)rec->value_len == g->old_val.len &&
        (g->old_val.len == 0 || !memcmp(rec->value, g->old_val.data, g->old_val.len)) && has_old == has_new &&
        g->old_key.len == g->new_key.len && (g->old_key.len == 0 || !memcmp(g->old_key.data, g->new_key.data,
                                                                             g->old_key.len)))
        return 0; /* no change */
    if (rec->value_len < 0)
        rc = had ? sl_kv_delete(op->store, rec->key, (size_t)rec->key_len) : 0;
    else
        rc = sl_kv_put(op->store, rec->key, (size_t)rec->key_len, rec->value_len ? rec->value : (const uint8_t *)"",
                       (size_t)rec->value_len);
    if (rc)
        return op_store_error(op, rc, "writing", err);
    if (has_old) {
        sl_rec_t r = old_row;
        r.key = g->old_key.data ? g->old_key.data : (const uint8_t *)"";
        r.key_len = (int32_t)g->old_key.len;
        r.headers = &retract_header;
        r.header_count = 1;
        if ((rc = sl_emit(op->ctx.out, &r)) != 0)
            return rc;
    } else if (had) {
        op->ctx.stats->dropped_null_key++;
    }
    if (has_new) {
        sl_rec_t r = *rec;
        r.key = g->new_key.data ? g->new_key.data : (const uint8_t *)"";
        r.key_len = (int32_t)g->new_key.len;
        return sl_emit(op->ctx.out, &r);
    }
    if (rec->value_len >= 0)
        op->ctx.stats->dropped_null_key++;
    return 0;
}

static int tgroup_open(sl_op_t *op, sl_err_t *err)
{
    if (!op->spec.fn.key)
        return sl_err_set(err, SL_E_INVAL, "node '%s' (group_table): missing key function", op->ctx.node_name);
    int rc = op_open_store(op, NULL, "bytes (the last value of each row)", err);
    op->ttl_expire = tgroup_expire;
    return rc ? rc : op_ttl_open(op, err);
}

static void tgroup_close(sl_op_t *op)
{
    tgroup_op_t *g = (tgroup_op_t *)op;
    sl_buf_free(&g->old_key);
    sl_buf_free(&g->new_key);
    sl_buf_free(&g->old_val);
}

const op_vtab_t sl_op_group_table_vt = {
    .size = sizeof(tgroup_op_t),
    .open = tgroup_open,
    .process = tgroup_process,
    .close = tgroup_close};
