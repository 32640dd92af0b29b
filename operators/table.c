/* Tables from a topic: the latest value per key in a KV store, a null value
 * (tombstone) deleting the key.  Like the aggregations, the table forwards its
 * changes from the store's flush listener, once per key per flush, deletions
 * as records with a null value.  Records without a key are dropped and counted. */
#include "operators/op.h"

static int table_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    if (rec->key_len < 0) {
        op->ctx.stats->dropped_null_key++;
        return 0;
    }
    if ((size_t)rec->key_len > SL_STORE_MAX_KEY)
        return sl_err_set(err, SL_E_RECORD, "node '%s': key of %d bytes is longer than the store's %d",
                          op->ctx.node_name, rec->key_len, SL_STORE_MAX_KEY);
    int rc;
    if (rec->value_len < 0)
        rc = sl_kv_delete(op->store, rec->key, (size_t)rec->key_len);
    else
        rc = sl_kv_put(op->store, rec->key, (size_t)rec->key_len, rec->value_len ? rec->value : (const uint8_t *)"",
                       (size_t)rec->value_len);
    if (rc)
        return op_store_error(op, rc, "writing", err);
    if (op->ttl_store) {
        rc = rec->value_len < 0 ? op_ttl_forget(op, rec->key, (size_t)rec->key_len, err)
                                : op_ttl_touch(op, rec->key, (size_t)rec->key_len, err);
    }
    return rc;
}

/* A key past its TTL is deleted: the flush forwards a tombstone for it. */
int op_ttl_delete(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err)
{
    int rc = sl_kv_delete(op->store, key, key_len);
    return rc ? op_store_error(op, rc, "expiring a key of", err) : 0;
}

static void table_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e)
{
    sl_op_t *op = arg;
    sl_rec_t rec = {
        .key = e->key,
        .key_len = (int32_t)e->key_len,
        .value = e->val,
        .value_len = e->val ? (int32_t)e->val_len : -1,
        .timestamp = *op->ctx.stream_time,
    };
    op->ctx.stats->updates_forwarded++;
    int rc = sl_emit(op->ctx.out, &rec);
    if (rc) {
        sl_err_t err;
        sl_err_clear(&err);
        sl_err_set(&err, rc, "node '%s': forwarding an update failed (%d)", op->ctx.node_name, rc);
        op_set_pending(op, rc, &err);
    }
}

static int table_open(sl_op_t *op, sl_err_t *err)
{
    int rc = op_open_store(op, table_on_flush, "bytes", err);
    return rc ? rc : op_ttl_open(op, err);
}

const op_vtab_t sl_op_table_vt = {.size = sizeof(sl_op_t), .open = table_open, .process = table_process};
