/* Per-operator TTL (spec.ttl_ms > 0): a key of a table, an aggregation or a
 * grouped table that has not been updated for ttl_ms of stream time is
 * expired - deleted as if a tombstone had arrived.  Cheap: an expiry index in
 * a second KV store "<store>.ttl" holds, for each key, 'l' + key -> the stream
 * time of its last update (8 bytes big-endian) and 'i' + time + key -> "" in
 * time order.  An update costs one read, one delete and two writes there;
 * expiring seeks to the start of the 'i' range and reads only expired entries,
 * and runs only when stream time has passed the earliest expiry (kept in
 * memory; unknown after a restart, so the first record checks once). */
#include "operators/op.h"

#define TTL_BATCH 32

static void be_time(uint8_t *p, int64_t t) { sl_put_be64(p, (uint64_t)t ^ ((uint64_t)1 << 63)); }
static int64_t from_be_time(const uint8_t *p) { return (int64_t)(sl_be64(p) ^ ((uint64_t)1 << 63)); }

int op_ttl_open(sl_op_t *op, sl_err_t *err)
{
    op->ttl_next = INT64_MIN; /* unknown: check at the first record */
    if (op->spec.ttl_ms <= 0)
        return 0;
    char name[SL_STORE_MAX_NAME + 8];
    int n = snprintf(name, sizeof name, "%s.ttl", op->ctx.store_name);
    if (n < 0 || (size_t)n > SL_STORE_MAX_NAME)
        return sl_err_set(err, SL_E_INVAL, "node '%s': store name '%s' too long for a ttl index", op->ctx.node_name,
                          op->ctx.store_name);
    sl_store_config_t cfg = {.kind = SL_STORE_KV, .key_schema = "'l' key | 'i' time key",
                             .value_schema = "last update time (8 bytes) | empty"};
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_store_open(op->ctx.env, name, &cfg, &op->ttl_store, &serr);
    if (rc)
        return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s': opening store '%s': %s",
                          op->ctx.node_name, name, serr.msg[0] ? serr.msg : sl_store_strerror(rc));
    return 0;
}

static int ttl_error(sl_op_t *op, int rc, sl_err_t *err)
{
    return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s': ttl index '%s': %s",
                      op->ctx.node_name, sl_store_name(op->ttl_store), sl_store_strerror(rc));
}

int op_ttl_touch(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err)
{
    if (!op->ttl_store)
        return 0;
    if (key_len + 9 > SL_STORE_MAX_KEY)
        return sl_err_set(err, SL_E_RECORD, "node '%s': key of %zu bytes is too long for a ttl (at most %d)",
                          op->ctx.node_name, key_len, SL_STORE_MAX_KEY - 9);
    int64_t now = *op->ctx.stream_time;
    uint8_t k[SL_STORE_MAX_KEY];
    k[0] = 'l';
    memcpy(k + 1, key, key_len);
    const uint8_t *v;
    size_t vn;
    int rc = sl_kv_get(op->ttl_store, NULL, k, key_len + 1, &v, &vn);
    if (rc == 0 && vn == 8) {
        int64_t last = from_be_time(v);
        if (last == now)
            return 0;
        uint8_t ik[SL_STORE_MAX_KEY];
        ik[0] = 'i';
        be_time(ik + 1, last);
        memcpy(ik + 9, key, key_len);
        if ((rc = sl_kv_delete(op->ttl_store, ik, key_len + 9)) != 0)
            return ttl_error(op, rc, err);
    } else if (rc && rc != SL_S_ENOTFOUND) {
        return ttl_error(op, rc, err);
    }
    uint8_t t8[8];
    be_time(t8, now);
    if ((rc = sl_kv_put(op->ttl_store, k, key_len + 1, t8, 8)) != 0)
        return ttl_error(op, rc, err);
    k[0] = 'i';
    memcpy(k + 1, t8, 8);
    memcpy(k + 9, key, key_len);
    if ((rc = sl_kv_put(op->ttl_store, k, key_len + 9, "", 0)) != 0)
        return ttl_error(op, rc, err);
    if (op->ttl_next != INT64_MIN && now <= INT64_MAX - op->spec.ttl_ms && now + op->spec.ttl_ms < op->ttl_next)
        op->ttl_next = now + op->spec.ttl_ms;
    return 0;
}

int op_ttl_forget(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err)
{
    if (!op->ttl_store || key_len + 9 > SL_STORE_MAX_KEY)
        return 0;
    uint8_t k[SL_STORE_MAX_KEY];
    k[0] = 'l';
    memcpy(k + 1, key, key_len);
    const uint8_t *v;
    size_t vn;
    int rc = sl_kv_get(op->ttl_store, NULL, k, key_len + 1, &v, &vn);
    if (rc == SL_S_ENOTFOUND)
        return 0;
    if (rc || vn != 8)
        return rc ? ttl_error(op, rc, err) : 0;
    uint8_t ik[SL_STORE_MAX_KEY];
    ik[0] = 'i';
    memcpy(ik + 1, v, 8);
    memcpy(ik + 9, key, key_len);
    if ((rc = sl_kv_delete(op->ttl_store, ik, key_len + 9)) != 0 ||
        (rc = sl_kv_delete(op->ttl_store, k, key_len + 1)) != 0)
        return ttl_error(op, rc, err);
    return 0;
}

int op_ttl_expire(sl_op_t *op, op_ttl_expire_fn expire, sl_err_t *err)
{
    if (!op->ttl_store)
        return 0;
    int64_t now = *op->ctx.stream_time;
    if (op->ttl_next != INT64_MIN && now < op->ttl_next)
        return 0;
    for (;;) {
        /* gather a batch (a writer-view iterator must not see writes), then expire it */
        uint8_t keys[TTL_BATCH][SL_STORE_MAX_KEY];
        size_t lens[TTL_BATCH], n = 0;
        sl_iter_t *it = NULL;
        sl_err_t ierr;
        sl_err_clear(&ierr);
        int rc = sl_kv_prefix(op->ttl_store, NULL, "i", 1, 0, &it, &ierr);
        if (rc)
            return ttl_error(op, rc, err);
        sl_entry_t e;
        int64_t first_left = INT64_MAX;
        while ((rc = sl_iter_next(it, &e)) == 1) {
            if (e.key_len < 9)
                continue;
            int64_t t = from_be_time(e.key + 1);
            if (t > now - op->spec.ttl_ms) {
                first_left = t;
                break;
            }
            if (n == TTL_BATCH) {
                first_left = INT64_MIN; /* more to do */
                break;
            }
            memcpy(keys[n], e.key, e.key_len);
            lens[n++] = e.key_len;
        }
        sl_iter_close(it);
        if (rc < 0)
            return ttl_error(op, rc, err);
        for (size_t i = 0; i < n; i++) {
            uint8_t lk[SL_STORE_MAX_KEY];
            lk[0] = 'l';
            memcpy(lk + 1, keys[i] + 9, lens[i] - 9);
            if ((rc = sl_kv_delete(op->ttl_store, keys[i], lens[i])) != 0 ||
                (rc = sl_kv_delete(op->ttl_store, lk, lens[i] - 8)) != 0)
                return ttl_error(op, rc, err);
            if ((rc = expire(op, keys[i] + 9, lens[i] - 9, err)) != 0)
                return rc;
        }
        if (first_left != INT64_MIN) {
            op->ttl_next = first_left == INT64_MAX ? INT64_MAX
                           : first_left > INT64_MAX - op->spec.ttl_ms ? INT64_MAX : first_left + op->spec.ttl_ms;
            return 0;
        }
    }
}
