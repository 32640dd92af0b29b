/* Internal to operators/: the instance of one join input side, shared by
 * join.c (opening, stream-table and table-table) and join_stream_stream.c
 * (the windowed buffers).  A join is two instances, one per input, whose
 * outputs the engine merges; each finds the stores it reads by name. */
#ifndef SL_OPERATORS_JOIN_H
#define SL_OPERATORS_JOIN_H

#include "operators/op.h"

typedef struct join_op {
    sl_op_t base;      /* base.store: stream-stream, this side's buffer (opened here) */
    const sl_join_spec_t *js;
    int side;          /* 0 left, 1 right */
    sl_store_t *other; /* the store this side reads, found on first use (not owned) */
    char other_name[SL_STORE_MAX_NAME + 1];
    sl_buf_t out;      /* joiner output */
    sl_buf_t entry;    /* stream-stream: a buffer entry being rewritten */
    sl_buf_t starts;   /* stream-stream: matched partner entries to flag (int64 starts) */
} join_op_t;

/* Find the store named other_name (opened by another operator of the task). */
int join_find_other(join_op_t *j, sl_err_t *err);

/* Run the joiner on (left, right) (either may be NULL) and forward the result
 * with `key`, timestamp ts and headers of `hdr` (may be NULL). */
int join_emit(join_op_t *j, const uint8_t *key, int32_t key_len, const sl_rec_t *left, const sl_rec_t *right,
              int64_t ts, const sl_rec_t *hdr, sl_err_t *err);

/* stream-stream (join_stream_stream.c) */
int join_ss_open(join_op_t *j, sl_err_t *err);
int join_ss_process(join_op_t *j, const sl_rec_t *rec, sl_err_t *err);
/* Stream time moved without a record: emit the unmatched outer/left results
 * whose windows it closed. */
int join_ss_advance(join_op_t *j, sl_err_t *err);

#endif
