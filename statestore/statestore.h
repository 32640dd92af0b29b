/* Sluice state stores: the public interface of the statestore module.
 *
 * State lives in one LMDB environment per job (a data folder).  Inside it each
 * store is a named database: key-value stores (tables, aggregates), window
 * stores (key + window start -> value) and session stores (key + session start
 * and end -> value).  Writes go to a bounded write-back cache per store; a
 * checkpoint writes every dirty store of the environment together with the
 * caller's metadata (input offsets, output positions) in ONE LMDB write
 * transaction.  After a crash the environment opens at exactly the last
 * checkpoint: no changelog to replay, no state to rebuild.
 *
 * Threading contract (read this before using the module from two threads)
 *   - One WRITER thread per environment (the engine's task thread).  Every call
 *     that takes an sl_env_t* or sl_store_t* without an sl_snap_t*, or with a
 *     NULL snapshot, is a writer call: open/close, put/delete/merge, reads of the
 *     "writer view", flush, checkpoint, rollback, advance.  Writer calls are not
 *     thread-safe among themselves: exactly one thread makes them.
 *   - The writer view is read-your-writes: it shows the writer's uncommitted
 *     (cached) updates over the last checkpoint.
 *   - Any number of READER threads take snapshots (sl_snap_begin) and pass them
 *     to the read functions.  A snapshot shows the last committed checkpoint and
 *     nothing newer; it never blocks the writer and the writer never blocks it,
 *     with one exception: growing the LMDB map (rare, doubling) waits until open
 *     snapshots end, and new snapshots wait for the growth.  Keep snapshots
 *     short.  A snapshot is used by one thread at a time (it may move between
 *     threads).  Store handles may be passed to reader threads; they must stay
 *     open (not sl_store_close'd) while readers use them.
 *
 * Errors: every function that can fail returns 0 or a negative SL_S_* code and,
 * when an sl_err_t* is given, a message.  sl_store_strerror names the codes.
 *
 * Encodings (all in this header, section "codec")
 *   - Keys and values are bytes; LMDB orders keys by memcmp, shorter first on a
 *     tie (exactly as the cache orders them).
 *   - Numbers in keys use sl_codec_put_i64 / sl_codec_put_f64: 8 bytes big-endian
 *     with the sign flipped, so memcmp order is numeric order, negatives first.
 *   - Window store keys on disk: u16 BE key length | key | start (sortable i64).
 *     Session store keys: u16 BE key length | key | end | start.  The length
 *     prefix keeps one key's windows contiguous ("a" never interleaves with
 *     "ab"); the time suffix makes LMDB's order time order within a key.  Each
 *     timed store has a second database, the time index (time | len | key...),
 *     for scans of all keys over a time range and for retention.
 *   - Values produced by the engine are msgpack (msgpack-c); sl_codec_* packs and
 *     unpacks them without allocating per value.
 *   - Keys are at most SL_STORE_MAX_KEY bytes (LMDB's key limit minus the window
 *     and session suffixes). */
#ifndef SL_STATESTORE_H
#define SL_STATESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "common/common.h"

/* ---- status codes -------------------------------------------------------------- */

enum sl_store_status {
    SL_S_OK = 0,
    SL_S_ENOTFOUND = -1, /* no such key / window / session / metadata name */
    SL_S_EINVAL = -2,    /* invalid argument or configuration */
    SL_S_ENOMEM = -3,
    SL_S_EIO = -4,       /* LMDB or the file system failed (errno / LMDB text in the message) */
    SL_S_EMAPFULL = -5,  /* the map reached map_size_max; the cache is intact, retry after raising it */
    SL_S_ENOSPC = -6,    /* the disk is full; the cache is intact, retry the checkpoint after freeing space */
    SL_S_EEXPIRED = -7,  /* a window or session older than the retention: not stored (a late record) */
    SL_S_EEXISTS = -8,   /* a store of that name exists with another kind */
    SL_S_EBUSY = -9,     /* not now: e.g. a checkpoint while a writer-view iterator is open */
    SL_S_ETOOBIG = -10,  /* key longer than SL_STORE_MAX_KEY */
    SL_S_ECORRUPT = -11, /* stored bytes that do not decode (store descriptor, msgpack value) */
    SL_S_EREADERS = -12, /* all LMDB reader slots are in use (raise max_readers) */
};

const char *sl_store_strerror(int code);

/* ---- environment ------------------------------------------------------------------ */

typedef struct sl_env sl_env_t;
typedef struct sl_store sl_store_t;
typedef struct sl_snap sl_snap_t;
typedef struct sl_iter sl_iter_t;

typedef struct sl_env_config {
    size_t map_size_initial; /* first LMDB map size (default 64 MiB); grows by doubling */
    size_t map_size_max;     /* growth stops here with SL_S_EMAPFULL (default 1 TiB: address space, not disk) */
    unsigned max_stores;     /* named databases; each window/session store uses two (default 256) */
    unsigned max_readers;    /* concurrent snapshots + 1 for the writer (default 126) */
    size_t cache_bytes;      /* default cache bound per store (default 10 MiB, as Kafka Streams) */
    bool no_sync;            /* MDB_NOSYNC: a checkpoint survives a process crash but not a power
                              * loss.  For tests and benchmarks; the default (false) fsyncs. */
} sl_env_config_t;

void sl_env_config_default(sl_env_config_t *cfg);

/* Open (creating if needed) the environment in folder `dir` (created if
 * missing).  The caller owns *out and closes it with sl_env_close.  Opening the
 * same folder twice in one process at the same time is not allowed (LMDB). */
int sl_env_open(const char *dir, const sl_env_config_t *cfg, sl_env_t **out, sl_err_t *err);

/* Close every store, discard uncommitted cached updates, close LMDB.  All
 * snapshots must have ended.  NULL is a no-op. */
void sl_env_close(sl_env_t *env);

/* Current LMDB map size in bytes (grows at checkpoints). */
size_t sl_env_map_size(const sl_env_t *env);

/* Raise (or lower, not below the current map size) the growth limit, e.g. after
 * a checkpoint returned SL_S_EMAPFULL.  Writer thread. */
int sl_env_set_map_size_max(sl_env_t *env, size_t max);

/* Number of checkpoints ever committed in this environment (0 when new). */
uint64_t sl_env_checkpoint_seq(const sl_env_t *env);

/* ---- stores -------------------------------------------------------------------------- */

typedef enum sl_store_kind {
    SL_STORE_KV = 1,
    SL_STORE_WINDOW = 2,
    SL_STORE_SESSION = 3,
} sl_store_kind_t;

#define SL_STORE_MAX_NAME 200
#define SL_STORE_MAX_KEY 480

/* One entry as reads, iterators and flush listeners see it.  Pointers are
 * borrowed: see each function for how long they stay valid.  For KV stores
 * start = end = 0; for window stores start is the window start and end = start;
 * for session stores start and end bound the session. */
typedef struct sl_entry {
    const uint8_t *key;
    size_t key_len;
    int64_t start, end;
    const uint8_t *val; /* NULL in a flush listener call means "deleted" */
    size_t val_len;
} sl_entry_t;

/* Called by the writer thread for each coalesced update when the cache is
 * flushed (sl_env_flush, and first thing in sl_env_checkpoint): once per key
 * per flush however many times it was updated, in key order.  The entry's
 * pointers are valid during the call.  The listener may write to OTHER stores
 * (forwarding downstream); writing to the store being flushed returns
 * SL_S_EBUSY. */
typedef void (*sl_store_flush_fn)(void *arg, sl_store_t *store, const sl_entry_t *e);

typedef struct sl_store_config {
    sl_store_kind_t kind;
    const char *key_schema;   /* free text for queries and listings, e.g. "string" (may be NULL) */
    const char *value_schema; /* e.g. "msgpack {count:int}" (may be NULL) */
    size_t cache_bytes;       /* cache bound; 0: the environment default */
    int64_t retention_ms;     /* window/session: keep windows whose start (sessions: end) is
                               * >= stream time - retention; 0 keeps everything */
    int64_t window_size_ms;   /* window stores: recorded in the metadata for queries */
    sl_store_flush_fn on_flush; /* may be NULL */
    void *flush_arg;
} sl_store_config_t;

/* Open (creating if needed) store `name` ([A-Za-z0-9._:-]{1,200}; names starting
 * with "__" are reserved).  A store that exists with another kind gives
 * SL_S_EEXISTS; a changed schema text or retention is recorded.  Creating a
 * store commits a small LMDB transaction of its own (the descriptor), so open
 * stores before processing or right after a checkpoint: with uncommitted
 * updates in any store it returns SL_S_EBUSY.  The env owns the handle; it
 * stays valid until sl_store_close or sl_env_close. */
int sl_store_open(sl_env_t *env, const char *name, const sl_store_config_t *cfg, sl_store_t **out,
                  sl_err_t *err);

/* Forget the handle.  Uncommitted updates in its cache are dropped (checkpoint
 * first to keep them).  The data stays in LMDB. */
void sl_store_close(sl_store_t *store);

/* Find an open store by name (writer thread, or readers while no store is
 * being opened or closed).  NULL when not open. */
sl_store_t *sl_env_store(sl_env_t *env, const char *name);

/* Store metadata as recorded in the environment (the committed descriptor). */
typedef struct sl_store_info {
    const char *name;
    sl_store_kind_t kind;
    const char *key_schema;
    const char *value_schema;
    int64_t retention_ms;
    int64_t window_size_ms;
    int64_t stream_time; /* window/session: last stream time committed by a checkpoint (INT64_MIN: none) */
} sl_store_info_t;

/* Call fn for every store recorded in the environment, in name order, as of
 * `snap` (NULL: the last commit, from any thread).  Strings are valid during
 * the call.  A non-zero return from fn stops the walk and is returned. */
int sl_env_list_stores(sl_env_t *env, sl_snap_t *snap, int (*fn)(void *arg, const sl_store_info_t *info),
                       void *arg, sl_err_t *err);

const char *sl_store_name(const sl_store_t *store);
sl_store_kind_t sl_store_kind(const sl_store_t *store);

/* Cache figures, for tests, metrics and benchmarks. */
typedef struct sl_cache_stats {
    size_t bytes;       /* accounted bytes now (entries, keys, values, overhead) */
    size_t bound;       /* configured cache_bytes */
    size_t entries;
    size_t dirty;       /* entries with uncommitted updates */
    uint64_t hits, misses;
    uint64_t puts;      /* writes accepted */
    uint64_t coalesced; /* writes that replaced an update not yet flushed */
    uint64_t evictions; /* clean entries dropped to stay under the bound */
} sl_cache_stats_t;

void sl_store_cache_stats(const sl_store_t *store, sl_cache_stats_t *out);

/* True when some store holds more dirty bytes than its cache bound: dirty
 * entries cannot be evicted (they are not committed), so the engine should
 * checkpoint at the next record boundary.  This is how "flush when full" keeps
 * the exactly-once guarantee: LMDB only ever receives whole checkpoints. */
bool sl_env_checkpoint_wanted(const sl_env_t *env);

/* ---- snapshots (any thread) ---------------------------------------------------------- */

/* Begin a read-only snapshot of the last checkpoint (an LMDB read transaction;
 * MDB_NOTLS, so it is not tied to the calling thread).  Thread-safe.  Caller
 * ends it with sl_snap_end; values read through it stay valid until then. */
int sl_snap_begin(sl_env_t *env, sl_snap_t **out, sl_err_t *err);
void sl_snap_end(sl_snap_t *snap);
/* The checkpoint sequence number the snapshot sees. */
uint64_t sl_snap_seq(const sl_snap_t *snap);

/* ---- iterators (all kinds) -------------------------------------------------------------- */

/* Next entry: 1 with *e filled (pointers valid until the next call or close), 0 at
 * the end, <0 on error.  A writer-view iterator (snap NULL) is invalidated by any
 * write to its store (next then returns SL_S_EBUSY) and must be closed before a
 * checkpoint. */
int sl_iter_next(sl_iter_t *it, sl_entry_t *e);
void sl_iter_close(sl_iter_t *it); /* NULL is a no-op */

#define SL_ITER_REVERSE 1 /* flags: iterate in descending key (or time) order */

/* ---- key-value stores ------------------------------------------------------------------- */

/* Get the value of key.  snap NULL: writer view (read-your-writes); *val points
 * into the cache or LMDB and stays valid until the next call on this store or
 * the next checkpoint.  With a snapshot: valid until sl_snap_end.
 * SL_S_ENOTFOUND when absent. */
int sl_kv_get(sl_store_t *s, sl_snap_t *snap, const void *key, size_t key_len, const uint8_t **val,
              size_t *val_len);

/* Put / delete through the cache (writer thread).  Bytes are copied.  Visible to
 * the writer at once, to snapshots after the next checkpoint. */
int sl_kv_put(sl_store_t *s, const void *key, size_t key_len, const void *val, size_t val_len);
int sl_kv_delete(sl_store_t *s, const void *key, size_t key_len);

/* Ordered scans.  Range: from <= key <= to (from or to NULL: unbounded).
 * Prefix: every key starting with prefix (len 0: all).  Cost: a cursor seek,
 * then O(1) per entry; the writer view merges the cache's ordered index with
 * the LMDB cursor.  Caller closes *it. */
int sl_kv_range(sl_store_t *s, sl_snap_t *snap, const void *from, size_t from_len, const void *to,
                size_t to_len, int flags, sl_iter_t **it, sl_err_t *err);
int sl_kv_prefix(sl_store_t *s, sl_snap_t *snap, const void *prefix, size_t prefix_len, int flags,
                 sl_iter_t **it, sl_err_t *err);

/* Exact number of keys.  With a snapshot: O(1) (LMDB's count).  Writer view:
 * LMDB's count adjusted by a lookup per dirty cache entry, O(dirty log n). */
int sl_kv_count(sl_store_t *s, sl_snap_t *snap, uint64_t *n);

/* Entries committed in a store of any kind (keys; windows; sessions) as of
 * `snap` (required), O(1): LMDB's count.  For listings and metrics. */
int sl_store_entries(sl_store_t *s, sl_snap_t *snap, uint64_t *n);

/* ---- window stores ------------------------------------------------------------------------ */

/* (key, window start) -> value.  Puts of windows older than the retention give
 * SL_S_EEXPIRED and store nothing (the engine counts and dead-letters them). */
int sl_win_put(sl_store_t *s, const void *key, size_t key_len, int64_t start, const void *val, size_t val_len);
int sl_win_delete(sl_store_t *s, const void *key, size_t key_len, int64_t start);
int sl_win_get(sl_store_t *s, sl_snap_t *snap, const void *key, size_t key_len, int64_t start,
               const uint8_t **val, size_t *val_len);

/* Windows of one key with t_from <= start <= t_to, in start order (reverse with
 * SL_ITER_REVERSE).  Cost: one seek, O(1) per window. */
int sl_win_fetch(sl_store_t *s, sl_snap_t *snap, const void *key, size_t key_len, int64_t t_from, int64_t t_to,
                 int flags, sl_iter_t **it, sl_err_t *err);

/* No window in LMDB starts after this (INT64_MIN: none); an upper bound,
 * raised by checkpoints.  Cached updates not checkpointed yet are not counted. */
int64_t sl_win_max_start(const sl_store_t *s);

/* Windows of every key with t_from <= start <= t_to, ordered by (start, key), from
 * the time index.  Writer view cost: O(cache entries) to gather cached updates,
 * plus the cursor scan. */
int sl_win_fetch_all(sl_store_t *s, sl_snap_t *snap, int64_t t_from, int64_t t_to, int flags, sl_iter_t **it,
                     sl_err_t *err);

/* Advance stream time (never moves back).  Windows with start < stream_time -
 * retention disappear from the writer view at once (dropped from the cache) and
 * from LMDB in the next checkpoint's transaction, which also records the stream
 * time in the store's metadata.  Works for session stores too (by session end). */
int sl_store_advance(sl_store_t *s, int64_t stream_time);
/* The stream time last given to sl_store_advance (INT64_MIN: none yet). */
int64_t sl_store_stream_time(const sl_store_t *s);

/* ---- session stores ------------------------------------------------------------------------ */

/* (key, start, end) -> value, start <= end.  Sessions whose end is older than
 * the retention give SL_S_EEXPIRED. */
int sl_sess_put(sl_store_t *s, const void *key, size_t key_len, int64_t start, int64_t end, const void *val,
                size_t val_len);
int sl_sess_delete(sl_store_t *s, const void *key, size_t key_len, int64_t start, int64_t end);

/* Sessions of `key` overlapping [t_from, t_to]: end >= t_from and start <= t_to,
 * ordered by (end, start).  key NULL: every key, ordered by (end, key, start),
 * from the time index. */
int sl_sess_find(sl_store_t *s, sl_snap_t *snap, const void *key, size_t key_len, int64_t t_from, int64_t t_to,
                 int flags, sl_iter_t **it, sl_err_t *err);

/* Combine two session values into *out (reset by the caller before each call).
 * Returns 0, or a negative code that aborts the merge. */
typedef int (*sl_sess_merge_fn)(void *arg, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                                sl_buf_t *out);

/* Session-window merge (writer thread): a new session [start, end] with value
 * `val` absorbs every stored session of `key` that overlaps [start - gap,
 * end + gap]; values are folded in session order with fn(acc, next), starting
 * from val; the absorbed sessions are deleted and the union is stored.  The
 * merged bounds go to *out_start / *out_end (may be NULL). */
int sl_sess_merge(sl_store_t *s, const void *key, size_t key_len, int64_t start, int64_t end, int64_t gap,
                  const void *val, size_t val_len, sl_sess_merge_fn fn, void *arg, int64_t *out_start,
                  int64_t *out_end, sl_err_t *err);

/* ---- flush and checkpoint (writer thread) ----------------------------------------------------- */

/* Checkpoint metadata: opaque bytes under a name ("offsets", "outputs", ...). */
typedef struct sl_meta {
    const char *name; /* 1..200 bytes */
    const void *data;
    size_t len;
} sl_meta_t;

/* Call the flush listeners of every store for the updates they have not seen
 * yet, repeating while listeners dirty other stores (at most 16 rounds, then
 * SL_S_EBUSY).  Writes nothing to LMDB.  An engine whose listeners produce
 * output calls this first, then flushes its producers and gathers the output
 * positions for sl_env_checkpoint. */
int sl_env_flush(sl_env_t *env, sl_err_t *err);
/* Forward the pending updates of one store through its flush listener now
 * (an operator whose windows are about to close, so their last updates are
 * not lost to retention); the next sl_env_flush skips what went. */
void sl_store_flush(sl_store_t *s);

/* Commit, in ONE LMDB write transaction: every dirty entry of every open store,
 * pending retention deletes, stream times, the `n` metadata items, and the
 * checkpoint sequence number.  Calls sl_env_flush first.  Durable when it
 * returns 0 (fsync, unless no_sync).  On SL_S_EMAPFULL / SL_S_ENOSPC / SL_S_EIO
 * nothing was committed and the caches still hold every update: fix the cause
 * and call again.  When the map is full below map_size_max it is grown
 * (doubled) and the transaction retried, transparently.  Metadata names not
 * given keep their previous values. */
int sl_env_checkpoint(sl_env_t *env, const sl_meta_t *meta, size_t n, sl_err_t *err);

/* Read checkpoint metadata `name` as of `snap` (NULL: the last checkpoint; any
 * thread).  The bytes are copied into out (reset first). */
int sl_env_meta_get(sl_env_t *env, sl_snap_t *snap, const char *name, sl_buf_t *out, sl_err_t *err);

/* Discard every uncommitted update in every store (the engine rewinds to the
 * last checkpoint's offsets, e.g. after a failed transaction downstream). */
void sl_env_rollback(sl_env_t *env);

/* ---- codec --------------------------------------------------------------------------------- */

/* Order-preserving 8-byte encodings for keys: memcmp order == numeric order
 * (two's-complement sign bit flipped; doubles: sign-magnitude mapped so that
 * -inf < negatives < -0 < +0 < positives < +inf; NaN sorts last). */
void sl_codec_put_i64(uint8_t out[8], int64_t v);
int64_t sl_codec_get_i64(const uint8_t in[8]);
void sl_codec_put_f64(uint8_t out[8], double v);
double sl_codec_get_f64(const uint8_t in[8]);

/* msgpack values.  An sl_codec_t holds the msgpack zone that decoding needs, so
 * steady-state decoding does not allocate; one per thread. */
typedef struct sl_codec sl_codec_t;
int sl_codec_new(sl_codec_t **out);
void sl_codec_free(sl_codec_t *c);
/* Decode one msgpack object occupying exactly p[0..n).  *obj (strings, arrays,
 * maps) borrows from p and from the codec until the next decode.  SL_S_ECORRUPT
 * when p is not one whole msgpack object. */
int sl_codec_decode(sl_codec_t *c, const void *p, size_t n, msgpack_object *obj);
/* Append msgpack of an integer / double; decode one back (ints read as doubles
 * and doubles holding integers read as ints; others give SL_S_ECORRUPT). */
int sl_codec_pack_i64(sl_buf_t *out, int64_t v);
int sl_codec_pack_f64(sl_buf_t *out, double v);
int sl_codec_unpack_i64(sl_codec_t *c, const void *p, size_t n, int64_t *v);
int sl_codec_unpack_f64(sl_codec_t *c, const void *p, size_t n, double *v);
/* A packer that appends to an sl_buf_t, for building maps and arrays. */
void sl_codec_packer_init(msgpack_packer *pk, sl_buf_t *out);

#endif
