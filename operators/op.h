/* Internal to operators/: the operator vtable and the instance header every
 * operator kind embeds first.  op.c dispatches sl_op_* through the vtable; a
 * new kind (window, join) adds a vtable in its own file and a line in op.c. */
#ifndef SL_OPERATORS_OP_H
#define SL_OPERATORS_OP_H

#include "operators/operators.h"

typedef struct op_vtab {
    size_t size; /* bytes of the kind's instance struct (starts with sl_op_t) */
    int (*open)(sl_op_t *op, sl_err_t *err);
    int (*process)(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err);
    void (*close)(sl_op_t *op); /* free what open allocated (may be NULL) */
    /* Stream time moved without a record (an idle source): close what closes
     * by time alone (emit-final windows, unmatched join sides).  May be NULL. */
    int (*advance)(sl_op_t *op, sl_err_t *err);
    /* Write what the instance holds outside its store into the store (before
     * a flush, a checkpoint or a read of the store); returns how many entries
     * it wrote (0: nothing held), or a negative SL_E_* code.  May be NULL. */
    int (*sync)(sl_op_t *op, sl_err_t *err);
} op_vtab_t;

struct sl_op {
    const op_vtab_t *vt;
    sl_op_spec_t spec;
    sl_op_ctx_t ctx;
    sl_store_t *store;  /* stateful kinds */
    int pending_rc;     /* a fatal error from a flush listener, see sl_op_take_error */
    sl_store_t *ttl_store; /* spec.ttl_ms > 0: the expiry index (ttl.c) */
    int64_t ttl_next;      /* stream time at which the earliest key expires (INT64_MIN: unknown) */
    int (*ttl_expire)(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err); /* NULL: op_ttl_delete */
    sl_err_t pending_err;
    /* Set at open by a kind that takes records in runs (count with its
     * counter table, which hashes a run's keys and prefetches their slots
     * before it probes).  Processes recs[0..n) in order as n process calls
     * would, with the task's stream time already at the run's largest
     * timestamp, and counts none of them in stats.records_in (the caller
     * does).  Returns n, or the index of the record that failed with *rc
     * (those before it went through; the caller deals with it as with a
     * process failure and goes on after it).  NULL: one record at a time. */
    size_t (*process_run)(sl_op_t *op, const sl_rec_t *recs, size_t n, int *rc, sl_err_t *err);
};

extern const op_vtab_t sl_op_pass_vt, sl_op_map_vt, sl_op_filter_vt, sl_op_flat_map_vt, sl_op_select_key_vt,
    sl_op_peek_vt, sl_op_group_by_vt, sl_op_agg_vt, sl_op_table_vt;
/* Aggregations whose spec.window is set (operators/window.c). */
extern const op_vtab_t sl_op_window_vt;
/* Grouping a table's changelog (operators/table_group.c). */
extern const op_vtab_t sl_op_group_table_vt;
/* One input side of a join (operators/join.c). */
extern const op_vtab_t sl_op_join_vt;

/* Open the instance's KV store with `on_flush` as its listener (arg: the op). */
int op_open_store(sl_op_t *op, sl_store_flush_fn on_flush, const char *value_schema, sl_err_t *err);

/* TTL (ttl.c): open the expiry index when spec.ttl_ms > 0; record an update
 * of key at the current stream time; forget a deleted key; expire the keys
 * not updated for ttl_ms (expire deletes one; its errors are returned). */
typedef int (*op_ttl_expire_fn)(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err);
int op_ttl_open(sl_op_t *op, sl_err_t *err);
int op_ttl_touch(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err);
int op_ttl_forget(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err);
int op_ttl_expire(sl_op_t *op, op_ttl_expire_fn expire, sl_err_t *err);
/* The expire function of tables and aggregations: delete the key from op->store (table.c). */
int op_ttl_delete(sl_op_t *op, const uint8_t *key, size_t key_len, sl_err_t *err);

/* Record a fatal error from a flush listener (the first one wins). */
void op_set_pending(sl_op_t *op, int rc, const sl_err_t *err);

/* Map a statestore code to SL_E_*, formatting the message with the node name. */
int op_store_error(const sl_op_t *op, int src, const char *what, sl_err_t *err);

/* Report a callback failure as SL_E_RECORD, keeping the callback's message
 * when it gave one and naming the node otherwise. */
int op_callback_error(const sl_op_t *op, const char *fn, sl_err_t *err);

/* Numbers of count/sum/min/max/avg (num.c), shared by the plain and windowed
 * aggregations: a msgpack integer or float in, int64 while sums fit. */
int sl_num_from_object(const msgpack_object *o, sl_num_t *n); /* -1: not a number */
/* The same straight from msgpack bytes holding one number (no unpacker): -1
 * when they hold anything else (the caller then decodes in full). */
int sl_num_from_msgpack(const uint8_t *p, size_t n, sl_num_t *out);
double sl_num_f(const sl_num_t *n);
int sl_num_pack(sl_buf_t *out, const sl_num_t *n);
sl_num_t sl_num_add(sl_num_t a, sl_num_t b); /* int64 while it fits, else a float */
int sl_num_cmp(const sl_num_t *a, const sl_num_t *b); /* -1, 0, 1; mixed pairs as doubles */

#endif
