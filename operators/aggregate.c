/* Grouped aggregations: count, sum, min, max, avg, and the generic aggregate
 * and reduce with user callbacks.  State is one value per key in the
 * instance's KV store, read and written through the store's write-back cache;
 * updates go downstream from the store's flush listener, once per key per
 * flush (see sl_op_process in operators.h for exactly when).  Values are
 * msgpack: count an int, sum/min/max an int or a float, avg a map
 * {"sum": number, "count": int} forwarded as the average (a float). */
#include <math.h>

#include "operators/op.h"

/* count's counter table: a key's count as a native integer in one slot (key
 * inline: one cache line per record instead of the store cache's hash slot,
 * entry, msgpack decode, encode and copy).  The store stays the truth: a key
 * enters with the store's value, and its changed counts are written into the
 * store by sl_op_sync before every flush, checkpoint or read of the store
 * (sl_task_flush).  Keys longer than CT_KEY, a TTL, or a store another node
 * reads (a join on the table) keep the store path. */
#define CT_KEY 40
#define CT_MAX (1u << 16) /* slots at most; a full table is written out and emptied */

typedef struct ct_slot {
    uint64_t hash; /* 0: free */
    int64_t count;
    uint8_t klen, dirty;
    uint8_t key[CT_KEY];
} ct_slot_t;
_Static_assert(sizeof(ct_slot_t) == 64, "a counter slot is one cache line");

typedef struct counters {
    ct_slot_t *slots;
    uint32_t cap, used;
    uint32_t *dirty; /* indexes of dirty slots */
    uint32_t ndirty;
} counters_t;

typedef struct agg_op {
    sl_op_t base;
    sl_codec_t *codec;
    sl_buf_t a, b;  /* scratch: new aggregate, and aggregate's init output */
    sl_buf_t fwd;   /* scratch: the value forwarded by avg */
    bool use_ct;    /* count with a counter table */
    counters_t ct;
} agg_op_t;

/* ---- numbers ----------------------------------------------------------------------------------- */

/* The number a record contributes: the callback's, or the value as msgpack. */
static int record_num(agg_op_t *g, const sl_rec_t *rec, sl_num_t *n, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    if (op->spec.fn.num) {
        if (op->spec.fn.num(op->spec.arg, rec, n, err) < 0)
            return op_callback_error(op, "number", err);
        return 0;
    }
    msgpack_object o;
    if (sl_num_from_msgpack(rec->value, (size_t)rec->value_len, n) == 0)
        return 0;
    if (sl_codec_decode(g->codec, rec->value, (size_t)rec->value_len, &o) != 0 || sl_num_from_object(&o, n) != 0)
        return sl_err_set(err, SL_E_RECORD, "node '%s' (%s): the value is not a msgpack number", op->ctx.node_name,
                          sl_op_kind_name(op->spec.kind));
    return 0;
}

/* A stored aggregate that does not decode means the store holds another
 * operator's data (a renamed node reusing a store name). */
static int corrupt_state(const sl_op_t *op, sl_err_t *err)
{
    return sl_err_set(err, SL_E_STORE, "node '%s' (%s): store '%s' holds a value that is not this aggregation's",
                      op->ctx.node_name, sl_op_kind_name(op->spec.kind), sl_store_name(op->store));
}

static int stored_num(agg_op_t *g, const uint8_t *p, size_t n, sl_num_t *out, sl_err_t *err)
{
    if (sl_num_from_msgpack(p, n, out) == 0)
        return 0;
    msgpack_object o;
    if (sl_codec_decode(g->codec, p, n, &o) != 0 || sl_num_from_object(&o, out) != 0)
        return corrupt_state(&g->base, err);
    return 0;
}

/* avg state: {"sum": number, "count": int} */
static int avg_decode(agg_op_t *g, const uint8_t *p, size_t n, sl_num_t *sum, int64_t *count, sl_err_t *err)
{
    msgpack_object o;
    if (sl_codec_decode(g->codec, p, n, &o) != 0 || o.type != MSGPACK_OBJECT_MAP)
        return corrupt_state(&g->base, err);
    int seen = 0;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        const msgpack_object_kv *kv = &o.via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        sl_num_t v;
        if (sl_num_from_object(&kv->val, &v) != 0)
            return corrupt_state(&g->base, err);
        if (kv->key.via.str.size == 3 && !memcmp(kv->key.via.str.ptr, "sum", 3)) {
            *sum = v;
            seen |= 1;
        } else if (kv->key.via.str.size == 5 && !memcmp(kv->key.via.str.ptr, "count", 5) && !v.is_float) {
            *count = v.i;
            seen |= 2;
        }
    }
    return seen == 3 ? 0 : corrupt_state(&g->base, err);
}

static int avg_encode(sl_buf_t *out, const sl_num_t *sum, int64_t count)
{
    msgpack_packer pk;
    sl_codec_packer_init(&pk, out);
    if (msgpack_pack_map(&pk, 2) || msgpack_pack_str_with_body(&pk, "sum", 3) || sl_num_pack(out, sum) ||
        msgpack_pack_str_with_body(&pk, "count", 5) || msgpack_pack_int64(&pk, count))
        return SL_E_NOMEM;
    return 0;
}

/* ---- processing ---------------------------------------------------------------------------------- */

/* -n: an int64 stays one unless it is INT64_MIN (then a float). */
static sl_num_t num_neg(sl_num_t n)
{
    if (n.is_float)
        n.f = -n.f;
    else if (n.i == INT64_MIN)
        n = (sl_num_t){.is_float = true, .f = -(double)n.i};
    else
        n.i = -n.i;
    return n;
}

/* Compute the new aggregate into g->a from the current one (cur NULL: none). */
static int agg_update(agg_op_t *g, const sl_rec_t *rec, const uint8_t *cur, size_t cur_len, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    sl_buf_t *out = &g->a;
    sl_num_t n, c;
    int rc;
    bool retract = sl_rec_is_retraction(rec);
    switch (op->spec.kind) {
    case SL_OP_COUNT: {
        int64_t count = 0;
        if (cur && (stored_num(g, cur, cur_len, &c, err) != 0 || c.is_float))
            return corrupt_state(op, err);
        if (cur)
            count = c.i;
        return sl_codec_pack_i64(out, retract ? count - 1 : count + 1) ? SL_E_NOMEM : 0;
    }
    case SL_OP_SUM:
    case SL_OP_MIN:
    case SL_OP_MAX:
        if ((rc = record_num(g, rec, &n, err)) != 0)
            return rc;
        if (op->spec.kind != SL_OP_SUM && sl_num_f(&n) != sl_num_f(&n))
            return sl_err_set(err, SL_E_RECORD, "node '%s' (%s): NaN cannot be ordered", op->ctx.node_name,
                              sl_op_kind_name(op->spec.kind));
        if (retract && op->spec.kind != SL_OP_SUM)
            return sl_err_set(err, SL_E_RECORD, "node '%s' (%s): cannot subtract a retraction", op->ctx.node_name,
                              sl_op_kind_name(op->spec.kind));
        if (retract)
            n = num_neg(n);
        if (cur) {
            if ((rc = stored_num(g, cur, cur_len, &c, err)) != 0)
                return rc;
            if (op->spec.kind == SL_OP_SUM)
                n = sl_num_add(c, n);
            else if ((op->spec.kind == SL_OP_MIN) == (sl_num_cmp(&c, &n) <= 0))
                n = c; /* the stored value stays */
        }
        return sl_num_pack(out, &n) ? SL_E_NOMEM : 0;
    case SL_OP_AVG: {
        if ((rc = record_num(g, rec, &n, err)) != 0)
            return rc;
        int64_t count = 0;
        if (retract)
            n = num_neg(n);
        if (cur) {
            if ((rc = avg_decode(g, cur, cur_len, &c, &count, err)) != 0)
                return rc;
            n = sl_num_add(c, n);
        }
        return avg_encode(out, &n, retract ? count - 1 : count + 1);
    }
    case SL_OP_AGGREGATE:
        if (!cur) {
            sl_buf_reset(&g->b);
            if (op->spec.fn.agg.init(op->spec.arg, &g->b, err) < 0)
                return op_callback_error(op, "init", err);
            cur = g->b.data ? g->b.data : (const uint8_t *)"";
            cur_len = g->b.len;
        }
        if (op->spec.fn.agg.add(op->spec.arg, rec, cur, cur_len, out, err) < 0)
            return op_callback_error(op, "add", err);
        return 0;
    case SL_OP_REDUCE:
        if (retract)
            return sl_err_set(err, SL_E_RECORD, "node '%s' (reduce): cannot subtract a retraction", op->ctx.node_name);
        if (!cur)
            return sl_buf_append(out, rec->value, (size_t)rec->value_len) ? SL_E_NOMEM : 0;
        if (op->spec.fn.reduce(op->spec.arg, cur, cur_len, rec, out, err) < 0)
            return op_callback_error(op, "reduce", err);
        return 0;
    default:
        return sl_err_set(err, SL_E_INVAL, "node '%s': not an aggregation", op->ctx.node_name);
    }
}

/* ---- count's counter table ------------------------------------------------------------------------- */

static inline uint64_t ct_hash(const uint8_t *p, size_t n) { return sl_hash_bytes(p, n) | 1; }

/* Write every changed count into the store; the slots stay (clean). */
static int ct_write(agg_op_t *g, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    counters_t *c = &g->ct;
    int n = (int)c->ndirty;
    for (uint32_t i = 0; i < c->ndirty; i++) {
        ct_slot_t *s = &c->slots[c->dirty[i]];
        sl_buf_reset(&g->a);
        if (sl_codec_pack_i64(&g->a, s->count))
            return -sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
        int rc = sl_kv_put(op->store, s->key, s->klen, g->a.data, g->a.len);
        if (rc)
            return -op_store_error(op, rc, "writing", err);
        s->dirty = 0;
    }
    c->ndirty = 0;
    return n;
}

static int agg_sync(sl_op_t *op, sl_err_t *err)
{
    agg_op_t *g = (agg_op_t *)op;
    return g->use_ct && g->ct.ndirty ? ct_write(g, err) : 0;
}

/* The slot holding key (ct_hash h), or NULL when the table does not have it. */
static inline ct_slot_t *ct_find(const counters_t *c, const uint8_t *key, size_t klen, uint64_t h)
{
    if (!c->cap)
        return NULL;
    for (uint32_t i = (uint32_t)h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        ct_slot_t *s = &c->slots[i];
        if (s->hash == h && s->klen == klen && sl_bytes_eq(s->key, key, klen))
            return s;
        if (!s->hash)
            return NULL;
    }
}

/* The slot of key, whose ct_hash is h (the store's count when it enters),
 * or NULL with *rc set. */
static ct_slot_t *ct_get(agg_op_t *g, const uint8_t *key, size_t klen, uint64_t h, int *rc, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    counters_t *c = &g->ct;
    /* at most half full while it can grow: fewer probes go past the
     * prefetched home slot into a line not fetched yet (word count's 10k
     * words: a third full instead of 61%, 2-4% faster); three quarters at CT_MAX */
    if (c->used + 1 > (c->cap < CT_MAX ? c->cap / 2 : c->cap / 4 * 3)) { /* grow to CT_MAX, then write out */
        uint32_t cap = c->cap ? c->cap * 2 : 1024;
        if (cap > CT_MAX) {
            if ((*rc = ct_write(g, err)) < 0)
                return NULL;
            cap = c->cap;
        }
        ct_slot_t *slots = sl_zalloc_lines(cap, sizeof *slots);
        uint32_t *dirty = malloc(cap / 4 * 3 * sizeof *dirty);
        if (!slots || !dirty) {
            free(slots);
            free(dirty);
            *rc = -sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
            return NULL;
        }
        uint32_t used = 0, nd = 0;
        if (cap != c->cap) /* growing: keep the slots, clean or not */
            for (uint32_t i = 0; i < c->cap; i++) {
                if (!c->slots[i].hash)
                    continue;
                uint32_t j = (uint32_t)c->slots[i].hash & (cap - 1);
                while (slots[j].hash)
                    j = (j + 1) & (cap - 1);
                slots[j] = c->slots[i];
                if (slots[j].dirty)
                    dirty[nd++] = j;
                used++;
            }
        free(c->slots);
        free(c->dirty);
        *c = (counters_t){slots, cap, used, dirty, nd};
    }
    uint32_t i = (uint32_t)h & (c->cap - 1);
    for (;; i = (i + 1) & (c->cap - 1)) {
        ct_slot_t *s = &c->slots[i];
        if (s->hash == h && s->klen == klen && sl_bytes_eq(s->key, key, klen))
            return s;
        if (!s->hash)
            break;
    }
    const uint8_t *cur = NULL;
    size_t cur_len = 0;
    int64_t count = 0;
    int src = sl_kv_get(op->store, NULL, key, klen, &cur, &cur_len);
    if (src == 0) {
        sl_num_t n;
        if (stored_num(g, cur, cur_len, &n, err) != 0 || n.is_float) {
            *rc = -corrupt_state(op, err);
            return NULL;
        }
        count = n.i;
    } else if (src != SL_S_ENOTFOUND) {
        *rc = -op_store_error(op, src, "reading", err);
        return NULL;
    }
    ct_slot_t *s = &c->slots[i];
    s->hash = h;
    s->count = count;
    s->klen = (uint8_t)klen;
    s->dirty = 0;
    memcpy(s->key, key, klen);
    c->used++;
    return s;
}

static int ct_count(agg_op_t *g, const sl_rec_t *rec, uint64_t h, sl_err_t *err)
{
    int rc = 0;
    ct_slot_t *s = ct_get(g, rec->key, (size_t)rec->key_len, h, &rc, err);
    if (!s)
        return -rc;
    s->count += sl_rec_is_retraction(rec) ? -1 : 1;
    if (!s->dirty) {
        s->dirty = 1;
        g->ct.dirty[g->ct.ndirty++] = (uint32_t)(s - g->ct.slots);
    }
    return 0;
}

/* Null keys cannot be grouped and null values carry nothing to aggregate:
 * both are dropped and counted (Kafka Streams ignores them too). */
static int agg_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    agg_op_t *g = (agg_op_t *)op;
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
    if (g->use_ct && rec->key_len > 0 && rec->key_len <= CT_KEY)
        return ct_count(g, rec, ct_hash(rec->key, (size_t)rec->key_len), err);
    const uint8_t *cur = NULL;
    size_t cur_len = 0;
    int rc = sl_kv_get(op->store, NULL, rec->key, (size_t)rec->key_len, &cur, &cur_len);
    if (rc == SL_S_ENOTFOUND)
        cur = NULL;
    else if (rc)
        return op_store_error(op, rc, "reading", err);
    sl_buf_reset(&g->a);
    if ((rc = agg_update(g, rec, cur, cur_len, err)) != 0)
        return rc == SL_E_NOMEM ? sl_err_set(err, rc, "node '%s': out of memory", op->ctx.node_name) : rc;
    rc = sl_kv_put(op->store, rec->key, (size_t)rec->key_len, g->a.data ? g->a.data : (const uint8_t *)"", g->a.len);
    if (rc)
        return op_store_error(op, rc, "writing", err);
    return op->ttl_store ? op_ttl_touch(op, rec->key, (size_t)rec->key_len, err) : 0;
}

/* A run of records for the counter table: each chunk's keys are hashed and
 * their slots prefetched before any is probed, so the cache misses of cold
 * keys overlap instead of coming one after another. */
#define CT_CHUNK 32

static bool ct_takes(const sl_rec_t *r) { return r->key_len > 0 && r->key_len <= CT_KEY && r->value_len >= 0; }

static size_t agg_process_run(sl_op_t *op, const sl_rec_t *recs, size_t n, int *rc, sl_err_t *err)
{
    agg_op_t *g = (agg_op_t *)op;
    uint64_t h[CT_CHUNK];
    for (size_t base = 0; base < n; base += CT_CHUNK) {
        size_t m = n - base < CT_CHUNK ? n - base : CT_CHUNK;
        for (size_t i = 0; i < m; i++) {
            const sl_rec_t *r = &recs[base + i];
            if (!ct_takes(r))
                continue;
            h[i] = ct_hash(r->key, (size_t)r->key_len);
            if (g->ct.cap)
                __builtin_prefetch(&g->ct.slots[h[i] & (g->ct.cap - 1)]);
        }
        for (size_t i = 0; i < m; i++) {
            const sl_rec_t *r = &recs[base + i];
            ct_slot_t *s = ct_takes(r) ? ct_find(&g->ct, r->key, (size_t)r->key_len, h[i]) : NULL;
            if (s && !r->header_count) { /* a key the table holds, not a retraction: count it here */
                s->count++;
                if (!s->dirty) {
                    s->dirty = 1;
                    g->ct.dirty[g->ct.ndirty++] = (uint32_t)(s - g->ct.slots);
                }
                continue;
            }
            int c = ct_takes(r) ? ct_count(g, r, h[i], err) : agg_process(op, r, err);
            if (c) {
                *rc = c;
                return base + i;
            }
        }
    }
    return n;
}

/* ---- forwarding at flush --------------------------------------------------------------------------- */

static void agg_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e)
{
    agg_op_t *g = arg;
    sl_op_t *op = &g->base;
    sl_err_t err;
    sl_err_clear(&err);
    sl_rec_t rec = {
        .key = e->key,
        .key_len = (int32_t)e->key_len,
        .value = e->val,
        .value_len = e->val ? (int32_t)e->val_len : -1,
        .timestamp = *op->ctx.stream_time,
    };
    if (e->val && op->spec.kind == SL_OP_AVG) {
        sl_num_t sum;
        int64_t count;
        if (avg_decode(g, e->val, e->val_len, &sum, &count, &err) != 0) {
            op_set_pending(op, SL_E_STORE, &err);
            return;
        }
        sl_buf_reset(&g->fwd);
        /* count 0: every record was retracted (a grouped table): nil */
        if (count ? sl_codec_pack_f64(&g->fwd, sl_num_f(&sum) / (double)count) : sl_buf_append(&g->fwd, "\xc0", 1)) {
            sl_err_set(&err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
            op_set_pending(op, SL_E_NOMEM, &err);
            return;
        }
        rec.value = g->fwd.data;
        rec.value_len = (int32_t)g->fwd.len;
    }
    op->ctx.stats->updates_forwarded++;
    int rc = sl_emit(op->ctx.out, &rec);
    if (rc) {
        sl_err_set(&err, rc, "node '%s': forwarding an update failed (%d)", op->ctx.node_name, rc);
        op_set_pending(op, rc, &err);
    }
}

static const char *agg_schema(sl_op_kind_t k)
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

static int agg_open(sl_op_t *op, sl_err_t *err)
{
    agg_op_t *g = (agg_op_t *)op;
    bool ok = true;
    switch (op->spec.kind) {
    case SL_OP_AGGREGATE: ok = op->spec.fn.agg.init && op->spec.fn.agg.add; break;
    case SL_OP_REDUCE: ok = op->spec.fn.reduce != NULL; break;
    default: break;
    }
    if (!ok)
        return sl_err_set(err, SL_E_INVAL, "node '%s' (%s): missing callback", op->ctx.node_name,
                          sl_op_kind_name(op->spec.kind));
    if (sl_codec_new(&g->codec) != 0)
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    int rc = op_open_store(op, agg_on_flush, agg_schema(op->spec.kind), err);
    if (rc || (rc = op_ttl_open(op, err)) != 0)
        return rc;
    g->use_ct = op->spec.kind == SL_OP_COUNT && !op->ttl_store && !op->ctx.store_shared;
    if (g->use_ct)
        op->process_run = agg_process_run;
    return 0;
}

static void agg_close(sl_op_t *op)
{
    agg_op_t *g = (agg_op_t *)op;
    sl_codec_free(g->codec);
    sl_buf_free(&g->a);
    sl_buf_free(&g->b);
    sl_buf_free(&g->fwd);
    free(g->ct.slots);
    free(g->ct.dirty);
}

const op_vtab_t sl_op_agg_vt = {
    .size = sizeof(agg_op_t),
    .open = agg_open,
    .process = agg_process,
    .close = agg_close,
    .sync = agg_sync};
