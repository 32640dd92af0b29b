/* Sluice operators: the public interface of the operators module.
 *
 * This header holds the record model every layer above shares (sl_rec_t, the
 * emit interface, the user-callback types, the SL_E_* status codes) and the
 * operator instances the engine runs inside a task (sl_op_*).  The engine
 * (engine/engine.h) includes it and builds topologies out of these operators;
 * the operators know nothing of topologies, topics or tasks: an operator gets
 * records, may read and write its state store, and forwards records through the
 * sl_emit_t it was opened with.  Dependencies: operators -> statestore only.
 *
 * Threading: an operator instance belongs to one task and is called by that
 * task's thread only (the writer thread of the task's sl_env_t).  User callbacks
 * are called on that thread, synchronously, depth-first: when sl_emit_to
 * returns, the record has gone through every downstream operator.
 *
 * Memory: nothing here allocates per record.  Records passed to callbacks borrow
 * their bytes; each operator reuses its own scratch buffers. */
#ifndef SL_OPERATORS_H
#define SL_OPERATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "statestore/statestore.h"

/* ---- status codes (shared with the engine; sl_engine_strerror names them) ---------------- */

enum sl_engine_status {
    SL_E_OK = 0,
    SL_E_INVAL = -1,    /* invalid argument (NULL, bad name, call out of order) */
    SL_E_TOPOLOGY = -2, /* the topology does not validate; the message names the nodes */
    SL_E_NOMEM = -3,
    SL_E_STORE = -4,    /* a state store failed; the message has the statestore's reason */
    SL_E_RECORD = -5,   /* this record cannot be processed (user callback failed, value does not
                         * decode, bad timestamp): it goes to the dead-letter topic, the job goes on */
    SL_E_NOTFOUND = -6, /* no such topic / store / key / node */
    SL_E_IO = -7,       /* a file or the broker failed */
};

/* ---- records ------------------------------------------------------------------------------- */

typedef struct sl_rec_header {
    const char *key;
    size_t key_len;
    const uint8_t *value;
    int32_t value_len; /* -1: null */
} sl_rec_header_t;

/* One record as operators and callbacks see it.  Every pointer is BORROWED:
 * valid only during the call that receives the record.  Copy what you keep.
 * A null key or value has length -1 (and a pointer that must not be read). */
typedef struct sl_rec {
    const uint8_t *key;
    int32_t key_len;   /* -1: null key */
    const uint8_t *value;
    int32_t value_len; /* -1: null value (a tombstone for tables) */
    int64_t timestamp; /* event time, ms since the epoch */
    const sl_rec_header_t *headers;
    size_t header_count;
} sl_rec_t;

/* The way an operator (or a user callback) hands records downstream.  Calling
 * it runs the whole downstream chain depth-first before it returns; the record
 * and its bytes may therefore live on the caller's stack.  `port` selects an
 * output: 0 for every operator except branch, whose outputs are 0..n-1.
 * Returns 0, or a negative SL_E_* code that the caller must return (a fatal
 * error downstream: the task stops).  Records that fail downstream for a
 * record-level reason have already been dead-lettered and give 0. */
typedef struct sl_emit sl_emit_t;
struct sl_emit {
    int (*forward)(sl_emit_t *self, int port, const sl_rec_t *rec);
};

static inline int sl_emit_to(sl_emit_t *e, int port, const sl_rec_t *rec) { return e->forward(e, port, rec); }
static inline int sl_emit(sl_emit_t *e, const sl_rec_t *rec) { return e->forward(e, 0, rec); }

/* Retractions: grouping a table (SL_OP_GROUP_TABLE) forwards, when a row
 * changes, its old value under its old group key with this header (value
 * "1") before the new value under the new group key.  Aggregations subtract a
 * record that carries it (count, sum, avg; an aggregate's add callback checks
 * it with sl_rec_is_retraction). */
#define SL_RETRACT_HEADER "sl.retract"

static inline bool sl_rec_is_retraction(const sl_rec_t *rec)
{
    for (size_t i = 0; i < rec->header_count; i++)
        if (rec->headers[i].key_len == sizeof SL_RETRACT_HEADER - 1 &&
            memcmp(rec->headers[i].key, SL_RETRACT_HEADER, sizeof SL_RETRACT_HEADER - 1) == 0)
            return true;
    return false;
}

/* Scratch memory a map callback may build its output in: both buffers are
 * emptied before each call and owned by the operator (never free them). */
typedef struct sl_scratch {
    sl_buf_t key;
    sl_buf_t value;
} sl_scratch_t;

/* A number for the numeric aggregates: an int64 or a double. */
typedef struct sl_num {
    bool is_float;
    int64_t i;
    double f;
} sl_num_t;

/* ---- user callbacks ---------------------------------------------------------------------------
 * All run on the task thread, synchronously.  `arg` is the pointer given when
 * the node was added.  A negative return means "this record failed": the record
 * the callback was given goes to the dead-letter topic with err->msg (when the
 * callback filled it, e.g. with sl_err_set) as the reason; processing goes on.
 * Callbacks must be deterministic for exactly-once replays to agree. */

/* map: *out starts as a copy of *in; change what you need.  out's pointers must
 * stay valid after the return: point into *in, into `scratch`, or into memory
 * you own that outlives the call. */
typedef int (*sl_map_fn)(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *scratch, sl_err_t *err);
/* filter: 1 keeps the record, 0 drops it. */
typedef int (*sl_filter_fn)(void *arg, const sl_rec_t *rec, sl_err_t *err);
/* flat_map and branch: produce 0..n records with sl_emit (flat_map) or
 * sl_emit_to(out, branch_index, rec) (branch; a record may go to several
 * branches or none).  Return what a failing sl_emit returned, or 0. */
typedef int (*sl_flat_map_fn)(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err);
/* select_key and group_by: write the new key into *key (emptied before the
 * call) and return 1, or return 0 for a null key. */
typedef int (*sl_key_fn)(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err);
/* peek: look at the record (it is forwarded unchanged). */
typedef void (*sl_peek_fn)(void *arg, const sl_rec_t *rec);
/* sum / min / max / avg: extract the number to aggregate.  When no function is
 * given, the value must be one msgpack integer or float. */
typedef int (*sl_num_fn)(void *arg, const sl_rec_t *rec, sl_num_t *out, sl_err_t *err);
/* aggregate: the first record of a key starts from init's output; add folds a
 * record into the current aggregate `agg` and writes the new one into *out
 * (emptied before each call).  Aggregates are bytes; use msgpack so queries
 * can show them. */
typedef int (*sl_agg_init_fn)(void *arg, sl_buf_t *out, sl_err_t *err);
typedef int (*sl_agg_add_fn)(void *arg, const sl_rec_t *rec, const uint8_t *agg, size_t agg_len, sl_buf_t *out,
                             sl_err_t *err);
/* Session windows: two sessions' aggregates a and b (a record bridged them, or
 * fell within gap of both) combined into one in *out (emptied before each
 * call), like Kafka Streams' Merger.  Called with a = the aggregate so far of
 * the new record's session, b = an absorbed session's; the order in which
 * sessions are absorbed is the store's, so a merger should not depend on it. */
typedef int (*sl_agg_merge_fn)(void *arg, const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
                               const uint8_t *b, size_t b_len, sl_buf_t *out, sl_err_t *err);
/* reduce: the first value of a key is stored as it is; later ones are folded
 * with reduce(acc, rec) into *out (emptied before each call). */
typedef int (*sl_reduce_fn)(void *arg, const uint8_t *acc, size_t acc_len, const sl_rec_t *rec, sl_buf_t *out,
                            sl_err_t *err);

/* ---- operator kinds ------------------------------------------------------------------------- */

typedef enum sl_op_kind {
    SL_OP_PASS = 1,   /* forwards unchanged: merge, branch outputs */
    SL_OP_MAP,
    SL_OP_FILTER,
    SL_OP_FLAT_MAP,
    SL_OP_BRANCH,
    SL_OP_SELECT_KEY,
    SL_OP_PEEK,
    SL_OP_GROUP_BY,   /* fn NULL: group by the existing key */
    SL_OP_COUNT,
    SL_OP_SUM,
    SL_OP_MIN,
    SL_OP_MAX,
    SL_OP_AVG,
    SL_OP_AGGREGATE,
    SL_OP_REDUCE,
    SL_OP_TABLE,      /* latest value per key from a topic; a null value deletes */
    SL_OP_WINDOW,     /* between a group_by and its aggregations: makes them windowed (spec.window) */
    SL_OP_JOIN,       /* one input side of a join (spec.join, spec.join_side; operators/join*.c) */
    SL_OP_GROUP_TABLE, /* group_by of a table's changelog (operators/table_group.c): retracts old rows */
    SL_OP_KIND_COUNT  /* not a kind: one past the last */
} sl_op_kind_t;

/* "map", "count", ... (static strings); "?" for an unknown kind. */
const char *sl_op_kind_name(sl_op_kind_t kind);
/* True for the kinds that keep state in a store (they need a store name). */
bool sl_op_kind_is_stateful(sl_op_kind_t kind);
/* True for the grouped aggregations (count ... reduce): they need a group_by parent. */
bool sl_op_kind_is_aggregation(sl_op_kind_t kind);

/* Windows on event time (operators/window*.c).  Window starts are aligned to
 * the epoch: tumbling and hopping windows are [k*advance, k*advance + size)
 * with start >= 0 (tumbling: advance = size); a sliding window is
 * [max(0, t - size), t] for each record time t of a key (Kafka Streams' left
 * windows, both ends inclusive); a session is [first, last] record time of a
 * key whose consecutive records are at most gap_ms apart.  A window closes
 * when stream time >= end + grace_ms (sliding: t + grace_ms; sessions: last +
 * gap_ms + grace_ms); a record whose windows have all closed (sliding: whose
 * own window has) is late: dead-lettered with a reason starting "late
 * record", counted in late_records.  Emit CHANGES forwards each window's
 * latest value at every cache flush; FINAL forwards each window once, when it
 * closes (the windows wait in the window store, not in memory). */
typedef enum sl_window_kind {
    SL_WINDOW_NONE = 0,
    SL_WINDOW_TUMBLING = 1,
    SL_WINDOW_HOPPING = 2,
    SL_WINDOW_SLIDING = 3, /* count / sum / min / max / avg only */
    SL_WINDOW_SESSION = 4,
} sl_window_kind_t;

typedef enum sl_window_emit {
    SL_WINDOW_EMIT_CHANGES = 0,
    SL_WINDOW_EMIT_FINAL = 1,
} sl_window_emit_t;

typedef struct sl_window_spec {
    sl_window_kind_t kind;
    int64_t size_ms;    /* tumbling, hopping, sliding (the time difference) */
    int64_t advance_ms; /* hopping: 0 < advance <= size (tumbling: ignored, = size) */
    int64_t gap_ms;     /* session: > 0 */
    int64_t grace_ms;   /* >= 0 */
    sl_window_emit_t emit;
} sl_window_spec_t;

/* Joins (operators/join*.c; the engine's sl_topo_add_join documents the
 * semantics).  The joiner combines the left and right records of one match
 * into the output value, written to *out (emptied before each call).  Either
 * record is NULL when a left / outer join has no partner for the other one; a
 * record given has a non-null key and value, borrowed for the call.  A
 * negative return fails the record being processed (dead-lettered). */
typedef int (*sl_join_fn)(void *arg, const sl_rec_t *left, const sl_rec_t *right, sl_buf_t *out, sl_err_t *err);

typedef enum sl_join_kind {
    SL_JOIN_STREAM_TABLE = 1,  /* each stream record looks up the table */
    SL_JOIN_STREAM_STREAM = 2, /* records of both streams within a time window */
    SL_JOIN_TABLE_TABLE = 3,   /* an update on either table looks up the other */
} sl_join_kind_t;

typedef enum sl_join_type {
    SL_JOIN_INNER = 1,
    SL_JOIN_LEFT = 2,
    SL_JOIN_OUTER = 3, /* stream-stream and table-table only */
} sl_join_type_t;

typedef struct sl_join_spec {
    sl_join_kind_t kind;
    sl_join_type_t type;
    sl_join_fn joiner; /* required */
    void *arg;
    /* stream-stream: a left record at time t matches right records with times
     * in [t - before_ms, t + after_ms]; records more than grace_ms behind
     * stream time are late.  All >= 0. */
    int64_t before_ms, after_ms, grace_ms;
    /* stream-stream: the window stores buffering each side (required, distinct).
     * Other kinds read their parents' stores and ignore these. */
    const char *left_store, *right_store;
} sl_join_spec_t;

/* What an operator does: its kind, its callbacks and their argument.  The
 * engine keeps one spec per topology node; callbacks are not called through it. */
typedef struct sl_op_spec {
    sl_op_kind_t kind;
    union {
        sl_map_fn map;
        sl_filter_fn filter;
        sl_flat_map_fn flat_map; /* flat_map and branch */
        sl_key_fn key;           /* select_key and group_by */
        sl_peek_fn peek;
        sl_num_fn num;           /* sum, min, max, avg (may be NULL) */
        sl_reduce_fn reduce;
        struct {
            sl_agg_init_fn init;
            sl_agg_add_fn add;
            sl_agg_merge_fn merge; /* session windows: sl_topo_set_session_merger */
        } agg;
    } fn;
    void *arg;
    int n_outputs; /* branch: number of outputs; others: 1 */
    sl_window_spec_t window; /* SL_OP_WINDOW, and aggregations below one (kind NONE: not windowed) */
    const sl_join_spec_t *join; /* SL_OP_JOIN: borrowed, outlives the instance */
    int64_t ttl_ms;             /* > 0: table, unwindowed aggregation, group_table: keys not updated for
                                 * this long (stream time) are deleted (operators/ttl.c) */
    int join_side;              /* SL_OP_JOIN: 0 the left input, 1 the right */
} sl_op_spec_t;

/* Per-node counters, owned by the caller of sl_op_open and updated by the
 * operator (the engine adds the dead-letter count). */
typedef struct sl_op_stats {
    uint64_t records_in;
    uint64_t dropped_null_key;   /* group_by / table: records without a key are dropped, as in Kafka Streams */
    uint64_t dropped_null_value; /* aggregations ignore records with a null value */
    uint64_t dead_lettered;      /* records that failed here and went to the dead-letter topic */
    uint64_t updates_forwarded;  /* stateful operators: updates sent downstream at cache flushes */
    uint64_t late_records;       /* windowed aggregations: records past their windows' grace (dead-lettered) */
} sl_op_stats_t;

/* ---- operator instances -------------------------------------------------------------------- */

typedef struct sl_op sl_op_t;

/* Everything an instance needs from its task.  Pointers are borrowed and must
 * outlive the instance. */
typedef struct sl_op_ctx {
    const char *node_name;      /* for error messages */
    sl_env_t *env;              /* stateful kinds: the task's environment */
    const char *store_name;     /* stateful kinds: the LMDB database name for this task */
    const int64_t *stream_time; /* the task's stream time: timestamp of updates forwarded at flush */
    sl_emit_t *out;             /* where the operator forwards */
    sl_op_stats_t *stats;
    bool store_shared;          /* another node of the task reads this store (a join on the table) */
} sl_op_ctx_t;

/* Create an instance of `spec` for one task; stateful kinds open (create) their
 * store, which sl_store_open allows only while no store of the environment has
 * uncommitted updates.  Caller frees *op with sl_op_close. */
int sl_op_open(const sl_op_spec_t *spec, const sl_op_ctx_t *ctx, sl_op_t **op, sl_err_t *err);

/* Process one record.  0; SL_E_RECORD when this record failed (err says why;
 * the caller dead-letters it and goes on); another code when the task must stop.
 *
 * When stateful operators forward: they update their store through its
 * write-back cache and forward nothing while processing.  Each key's latest
 * value goes downstream once per cache flush (sl_env_flush, done first thing by
 * every checkpoint): "emit changes" with the cache's coalescing, like Kafka
 * Streams with caching on.  The forwarded record has the key, the stored value
 * (avg: the average as a msgpack float; a deleted table key: a null value), no
 * headers, and the task's stream time at the flush as its timestamp. */
int sl_op_process(sl_op_t *op, const sl_rec_t *rec, sl_err_t *err);

/* The task's stream time moved without a record (an idle source advanced
 * it): forward what closes by time alone (emit-final windows and sessions,
 * unmatched stream-stream join results) and apply retention.  0, or a fatal
 * code. */
int sl_op_advance(sl_op_t *op, sl_err_t *err);
/* Write what the instance holds in memory outside its store (count's counter
 * table) into the store, so that a flush, checkpoint or read of the store sees
 * every update.  Returns how many entries it wrote, or a negative SL_E_*. */
int sl_op_sync(sl_op_t *op, sl_err_t *err);

/* A fatal error raised while forwarding from a flush listener (listeners
 * cannot return one): 0 when none, else the code, with its message in *err.
 * Clears it.  The engine checks this after every sl_env_flush. */
int sl_op_take_error(sl_op_t *op, sl_err_t *err);

/* Stream time moved (the engine calls this before each record of the task
 * when the instance has a spec.ttl_ms): expire the keys not updated for
 * ttl_ms (a table or aggregation deletes them - a tombstone goes downstream
 * at the next flush; a group_table takes the rows out of their groups at
 * once).  One comparison when nothing is due.  0 or a fatal SL_E_* code. */
int sl_op_tick(sl_op_t *op, sl_err_t *err);

/* The instance's store (NULL for stateless kinds). */
sl_store_t *sl_op_store(const sl_op_t *op);

/* Free the instance and close its store handle (uncommitted updates in the
 * store's cache are dropped: checkpoint first).  NULL is a no-op. */
void sl_op_close(sl_op_t *op);

#endif
