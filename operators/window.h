/* Internal to operators/: the windowed aggregation instance shared by
 * window.c (tumbling and hopping windows, kept as panes), window_session.c
 * (session windows) and window_value.c (the numeric aggregates they fold and
 * combine, and how a window goes downstream with its bounds in headers). */
#ifndef SL_OPERATORS_WINDOW_H
#define SL_OPERATORS_WINDOW_H

#include "operators/op.h"

/* Headers every forwarded window carries: 8-byte big-endian two's-complement
 * milliseconds.  Time windows: [start, end) (end exclusive); sessions: the
 * first and last record times (both inclusive), as Kafka Streams has them. */
#define SL_WINDOW_HDR_START "sl.window.start"
#define SL_WINDOW_HDR_END "sl.window.end"

/* A count / sum / min / max / avg aggregate being folded. */
typedef struct wacc {
    bool any;
    sl_num_t num;  /* sum, min, max; avg: the sum */
    int64_t count; /* count; avg: the number of values */
} wacc_t;

/* Sliding windows, emit changes: the keys whose panes changed since their last
 * flush, with the range of those pane times (window_sliding.c).  Open
 * addressing; an entry whose key was flushed is emptied (lo > hi) and the
 * table is rebuilt without such entries when it fills up. */
typedef struct slide_pend {
    uint64_t hash;
    uint32_t koff, klen; /* the key in keys */
    int64_t lo, hi;
} slide_pend_t;

typedef struct slide_pending {
    slide_pend_t *tab;
    size_t cap, used, live; /* slots; slots ever filled since the last rebuild; non-empty ranges */
    sl_buf_t keys;
} slide_pending_t;

/* Tumbling windows, emit final, numeric kinds: the open windows in memory
 * (window_table.c).  A slot is one cache line; keys up to TT_KEY bytes. */
#define TT_KEY 30
#define TT_DIRTY 1u  /* changed since the store last had it */
#define TT_STORED 2u /* the store holds this window (maybe an older value) */
#define TT_ANY 4u    /* wacc_t.any */
#define TT_FLOAT 8u  /* num is a double */

typedef struct tt_slot {
    uint64_t hash; /* 0: free */
    int64_t start;
    int64_t count;
    union {
        int64_t i;
        double f;
    } num;
    uint8_t klen, flags;
    uint8_t key[TT_KEY];
} tt_slot_t;
_Static_assert(sizeof(tt_slot_t) == 64, "a window slot is one cache line");

typedef struct tt_order {
    uint64_t k;
    uint32_t i; /* index into closing */
} tt_order_t;

typedef struct wtable {
    tt_slot_t *slots, *spare; /* open addressing, linear probing, load <= 1/2 (3/4 at full size); spare: reused by rebuilds */
    uint32_t cap, spare_cap, used, ndirty;
    uint32_t *dirty;          /* indexes of the dirty slots */
    int64_t min_start;        /* no slot starts earlier (INT64_MAX: empty) */
    int64_t store_hi;         /* the store may hold windows starting at or before this one */
    int64_t written_hi;       /* ... and it holds none starting after this one (restored or written since) */
    tt_slot_t *closing;       /* tt_take_closing: the closing windows only the table has */
    tt_order_t *order;        /* closing's indexes in the store scan's order (2 x cap_closing: radix scratch) */
    size_t nclosing, next_closing, cap_closing;
} wtable_t;

typedef struct win_op {
    sl_op_t base;
    sl_window_spec_t w;
    int64_t size, advance, pane; /* time windows; pane = gcd(size, advance) */
    bool pane_mode;              /* numeric kinds: panes in the store, combined at emit */
    sl_codec_t *codec;
    sl_buf_t a, b, out;          /* scratch: new value, aggregate init, forwarded value */
    sl_buf_t key;                /* scratch: a key copied out of an iterator */
    uint8_t hdr_start[8], hdr_end[8];
    sl_rec_header_t hdrs[2];
    /* changes mode: windows already forwarded in this flush (see tw_on_flush) */
    sl_buf_t last_key;
    int64_t last_w;
    uint64_t last_puts;
    bool have_last;
    /* the merge callback failed inside sl_sess_merge: its SL_E_* code and message */
    int cb_rc;
    sl_err_t cb_err;
    const sl_rec_t *cur;         /* the record being merged */
    slide_pending_t pend;        /* sliding windows, emit changes */
    bool use_tt;                 /* tumbling, emit final, numeric: open windows in tt */
    wtable_t tt;
    /* time windows, emit final: the stream time at which the next window closes (tw_close_through
     * has nothing to do below it; INT64_MIN: not known yet) */
    int64_t close_at;
} win_op_t;

/* True for count, sum, min, max, avg. */
bool win_numeric(sl_op_kind_t k);

/* Fold a record's contribution, or a stored aggregate, into acc.
 * SL_E_RECORD (bad value, failing number callback), SL_E_STORE (a stored
 * value that is not this kind's). */
int wacc_add_record(win_op_t *g, wacc_t *acc, const sl_rec_t *rec, sl_err_t *err);
int wacc_add_value(win_op_t *g, wacc_t *acc, const uint8_t *v, size_t n, sl_err_t *err);
/* Append the stored form (the same as the non-windowed aggregations'), or the
 * forwarded form (avg: the average as a float).  0 or SL_E_NOMEM. */
int wacc_encode(const win_op_t *g, const wacc_t *acc, sl_buf_t *out);
int wacc_output(const win_op_t *g, const wacc_t *acc, sl_buf_t *out);
/* The forwarded form of a stored value (numeric kinds go through g->out). */
int win_value_out(win_op_t *g, const uint8_t *v, size_t n, const uint8_t **out, size_t *out_len, sl_err_t *err);

/* Forward (key, value) for window [start, end] with the window headers and
 * timestamp ts; val NULL forwards a tombstone.  Returns what sl_emit returned. */
int win_emit(win_op_t *g, const uint8_t *key, size_t klen, int64_t start, int64_t end, int64_t ts,
             const uint8_t *val, size_t vlen);

/* Fold rec into pane p of its key (one store read and write). */
int win_pane_update(win_op_t *g, const sl_rec_t *rec, int64_t p, sl_err_t *err);
/* Fold the key's panes with from <= start <= to into acc (one seek). */
int win_fold_panes(win_op_t *g, const uint8_t *key, size_t klen, int64_t from, int64_t to, wacc_t *acc,
                   sl_err_t *err);
/* Forward acc's output form as win_emit does; nothing when acc is empty.
 * 0, or an SL_E_* code with err set. */
int win_emit_acc(win_op_t *g, const uint8_t *key, size_t klen, int64_t start, int64_t end, int64_t ts,
                 const wacc_t *acc, sl_err_t *err);

/* Changes-mode flush listeners: copy e's key to g->last_key and tell whether
 * the previous call of this flush had the same key (then g->last_w is the
 * last window forwarded for it).  A flush is told apart from the next by the
 * cache's put counter: no put can happen during a flush. */
int win_flush_key(win_op_t *g, sl_store_t *store, const sl_entry_t *e, bool *same, sl_err_t *err);

/* Dead-letter rec as late (counts it). */
int win_late(win_op_t *g, const sl_rec_t *rec, int64_t stream_time, sl_err_t *err);

/* window_table.c */
/* Fold rec into its window p in the table (reading the store first when it
 * may hold p). */
int tt_update(win_op_t *g, const sl_rec_t *rec, int64_t p, sl_err_t *err);
/* Write the changed slots into the store: how many, or a negative SL_E_* code. */
int tt_sync(win_op_t *g, sl_err_t *err);
/* Windows starting at or before w_hi close: the ones the store holds get
 * their last value written (the store scan forwards them); the others leave
 * the table for g->tt.closing, ordered as the scan (g->tt.order). */
int tt_take_closing(win_op_t *g, int64_t w_hi, sl_err_t *err);
/* Forward the taken windows that sort before `before` (NULL: all that are left). */
int tt_emit_closing(win_op_t *g, const sl_entry_t *before, sl_err_t *err);
void tt_free(wtable_t *t);

/* window_sliding.c */
int slide_process(win_op_t *g, const sl_rec_t *rec, sl_err_t *err);
/* Emit final: forward the sliding windows closed by stream time st. */
int slide_close_through(win_op_t *g, int64_t st, sl_err_t *err);
/* Emit changes: forward the windows that stream time st closes and that hold
 * pane updates not forwarded yet (before the store's retention hides them). */
int slide_changes_before_close(win_op_t *g, int64_t st, sl_err_t *err);
void slide_pending_free(slide_pending_t *p);
void slide_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e);

/* window_session.c */
int sess_process(win_op_t *g, const sl_rec_t *rec, sl_err_t *err);
/* Emit final: forward the sessions closed by stream time st. */
int sess_close_through(win_op_t *g, int64_t st, sl_err_t *err);
void sess_on_flush(void *arg, sl_store_t *store, const sl_entry_t *e);

#endif
