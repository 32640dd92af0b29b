/* The stateless operators: pass (merge, branch outputs), map, filter, flat_map
 * and branch (one callback shape: the user emits 0..n records), select_key,
 * peek and group_by.  Each forwards depth-first through its sl_emit_t; map and
 * the key operators build their output in scratch buffers kept in the
 * instance, so no record costs a malloc once the buffers have grown. */
#include "operators/op.h"

/* ---- pass ---------------------------------------------------------------------------------- */

static int pass_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err) { return sl_emit(op->ctx.out, rec); }

const op_vtab_t sl_op_pass_vt = {.size = sizeof(sl_op_t), .process = pass_process};

/* ---- map ------------------------------------------------------------------------------------ */

typedef struct map_op {
    sl_op_t base;
    sl_scratch_t scratch;
} map_op_t;

static int map_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    map_op_t *m = (map_op_t *)op;
    sl_buf_reset(&m->scratch.key);
    sl_buf_reset(&m->scratch.value);
    sl_rec_t out = *rec;
    if (op->spec.fn.map(op->spec.arg, rec, &out, &m->scratch, err) < 0)
        return op_callback_error(op, "map", err);
    return sl_emit(op->ctx.out, &out);
}

static void map_close(sl_op_t *op)
{
    map_op_t *m = (map_op_t *)op;
    sl_buf_free(&m->scratch.key);
    sl_buf_free(&m->scratch.value);
}

const op_vtab_t sl_op_map_vt = {.size = sizeof(map_op_t), .process = map_process, .close = map_close};

/* ---- filter --------------------------------------------------------------------------------- */

static int filter_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    int keep = op->spec.fn.filter(op->spec.arg, rec, err);
    if (keep < 0)
        return op_callback_error(op, "filter", err);
    return keep ? sl_emit(op->ctx.out, rec) : 0;
}

const op_vtab_t sl_op_filter_vt = {.size = sizeof(sl_op_t), .process = filter_process};

/* ---- flat_map and branch ----------------------------------------------------------------------
 * The callback emits straight into the downstream chain.  A negative return
 * that is not the code a failing emit gave back is the callback's own failure. */

static int flat_map_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    int rc = op->spec.fn.flat_map(op->spec.arg, rec, op->ctx.out, err);
    if (rc >= 0)
        return 0;
    if (rc == SL_E_NOMEM || rc == SL_E_STORE || rc == SL_E_IO)
        return rc; /* a fatal error from downstream, passed back up by the callback */
    return op_callback_error(op, op->spec.kind == SL_OP_BRANCH ? "branch" : "flat_map", err);
}

const op_vtab_t sl_op_flat_map_vt = {.size = sizeof(sl_op_t), .process = flat_map_process};

/* ---- select_key and group_by -------------------------------------------------------------------- */

typedef struct key_op {
    sl_op_t base;
    sl_buf_t key;
} key_op_t;

/* Compute the new key of rec into *out: 1 with a key, 0 for a null key. */
static int key_compute(sl_op_t *op, const sl_rec_t *rec, sl_rec_t *out, sl_err_t *err)
{
    key_op_t *k = (key_op_t *)op;
    *out = *rec;
    if (!op->spec.fn.key) /* group by the existing key */
        return rec->key_len >= 0;
    sl_buf_reset(&k->key);
    int has = op->spec.fn.key(op->spec.arg, rec, &k->key, err);
    if (has < 0)
        return op_callback_error(op, "key", err);
    if (has == 0) {
        out->key = NULL;
        out->key_len = -1;
        return 0;
    }
    if (k->key.len > INT32_MAX)
        return sl_err_set(err, SL_E_RECORD, "node '%s': key of %zu bytes is too long", op->ctx.node_name,
                          k->key.len);
    out->key = k->key.data ? k->key.data : (const uint8_t *)"";
    out->key_len = (int32_t)k->key.len;
    return 1;
}

static int select_key_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    sl_rec_t out;
    int rc = key_compute(op, rec, &out, err);
    return rc < 0 ? rc : sl_emit(op->ctx.out, &out);
}

/* Records whose grouping key is null cannot be grouped: dropped and counted,
 * as Kafka Streams does. */
static int group_by_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    sl_rec_t out;
    int rc = key_compute(op, rec, &out, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        op->ctx.stats->dropped_null_key++;
        return 0;
    }
    return sl_emit(op->ctx.out, &out);
}

static void key_close(sl_op_t *op) { sl_buf_free(&((key_op_t *)op)->key); }

const op_vtab_t sl_op_select_key_vt = {.size = sizeof(key_op_t), .process = select_key_process, .close = key_close};
const op_vtab_t sl_op_group_by_vt = {.size = sizeof(key_op_t), .process = group_by_process, .close = key_close};

/* ---- peek --------------------------------------------------------------------------------------- */

static int peek_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err)
{
    op->spec.fn.peek(op->spec.arg, rec);
    return sl_emit(op->ctx.out, rec);
}

const op_vtab_t sl_op_peek_vt = {.size = sizeof(sl_op_t), .process = peek_process};
