/* Internal to statestore/: the structures behind the opaque handles of
 * statestore.h (environment, store, snapshot, iterator), the write-back cache
 * and the key encodings shared by kv.c, window.c, session.c and checkpoint.c.
 * Nothing outside statestore/ includes this file. */
#ifndef SL_SS_H
#define SL_SS_H

#include <lmdb.h>
#include <pthread.h>

#include "statestore.h"

#define SS_MODULE "statestore"

/* ---- write-back cache (cache.c) ---------------------------------------------------- */

/* One cached key.  Reachable three ways: a hash slot (point lookups, O(1)),
 * a skip list in key order (scans and ordered flushes, O(log n) insert), and an
 * insertion-ordered list that a CLOCK hand walks to evict clean entries (a hit
 * only sets CE_REF: moving entries to the front on every hit, as a strict LRU
 * does, costs two cache misses on the neighbours).  The key follows next[level]. */
typedef struct centry {
    struct centry *lru_prev, *lru_next;
    struct centry *prev0; /* level-0 predecessor, for reverse scans; NULL for the first */
    uint8_t *val;
    uint32_t vlen, vcap;
    uint32_t hash;
    uint16_t klen;
    uint8_t level;
    uint8_t flags;
    struct centry *next[];
} centry_t;

/* A hash slot: the key's hash beside its entry, so a probe touches the entry
 * only when the hashes match (no pointer chasing through chains). */
typedef struct cslot {
    uint32_t hash;
    centry_t *e; /* NULL: empty */
} cslot_t;

#define CE_DIRTY 1u     /* differs from LMDB: written by the next checkpoint */
#define CE_ABSENT 2u    /* a delete (dirty) or a known-missing key (clean) */
#define CE_FORWARDED 4u /* the flush listener has seen the current dirty value */
#define CE_UNORDERED 8u /* not yet linked into the skip list (see cache_order) */
#define CE_REF 16u      /* used since the eviction hand last passed (second chance) */

static inline const uint8_t *ce_key(const centry_t *e) { return (const uint8_t *)&e->next[e->level]; }
/* Values up to CE_INLINE bytes live in the entry's own allocation, after the
 * key (most aggregates: a msgpack counter is 1-9 bytes): one malloc per new
 * key and one cache miss fewer per read. */
#define CE_INLINE 16
static inline uint8_t *ce_inline(centry_t *e) { return (uint8_t *)ce_key(e) + e->klen; }

#define CACHE_MAX_LEVEL 24

typedef struct cache {
    cslot_t *slots;  /* open addressing, linear probing; load <= 7/8 */
    size_t nslots;   /* power of two */
    size_t count;
    centry_t *head; /* skip-list head: level CACHE_MAX_LEVEL, no key */
    int level;
    uint64_t rng;
    centry_t *lru_first, *lru_last; /* newest (or given a second chance) first */
    centry_t **dirty;               /* every dirty entry, in the order it became dirty */
    size_t dirty_cap;
    size_t bytes, bound;
    size_t dirty_count, dirty_bytes;
    size_t pending; /* dirty and not yet forwarded to the flush listener */
    centry_t *last; /* the entry found last: a read-modify-write finds it without hashing */
    centry_t **unordered; /* new entries waiting to join the skip list, in insertion order */
    size_t nunordered, unordered_cap;
    uint64_t mod;   /* bumped on every write: invalidates writer-view iterators */
    uint64_t hits, misses, puts, coalesced, evictions;
} cache_t;

int cache_init(cache_t *c, size_t bound);
void cache_free(cache_t *c);
/* Lookup; a hit marks the entry referenced (CE_REF). */
centry_t *cache_find(cache_t *c, const uint8_t *key, size_t klen);
/* Insert or replace key's value with `flags` (CE_DIRTY and/or CE_ABSENT; val
 * ignored when absent).  Returns the entry, or NULL when out of memory (the
 * cache is unchanged then). */
centry_t *cache_set(cache_t *c, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, unsigned flags);
void cache_remove(cache_t *c, centry_t *e);
/* Change an entry's flags other than CE_DIRTY, keeping the counters right. */
void cache_set_flags(cache_t *c, centry_t *e, unsigned flags);
/* Drop clean entries, least recently used first, until bytes <= bound. */
void cache_evict(cache_t *c);
/* Drop every dirty entry (rollback). */
void cache_drop_dirty(cache_t *c);
/* After a commit: every dirty entry becomes clean (deletes stay as known-absent). */
void cache_mark_clean(cache_t *c);

/* Link the entries inserted since the last call into the skip list: one sort
 * and one finger-search pass, instead of a full O(log n) descent (a pointer
 * chase through cold memory) per insert.  Every ordered access calls it. */
void cache_order(cache_t *c);

enum { CACHE_GE, CACHE_GT, CACHE_LE, CACHE_LT };
/* The first entry >= / > key, or the last <= / < key; NULL if none.  klen 0 with
 * GE gives the first entry. */
centry_t *cache_seek(cache_t *c, const uint8_t *key, size_t klen, int mode);
static inline centry_t *cache_first(cache_t *c)
{
    cache_order(c);
    return c->head->next[0];
}
centry_t *cache_last(cache_t *c);
static inline size_t ce_size(const centry_t *e)
{
    return sizeof(centry_t) + e->level * sizeof(centry_t *) + e->klen + CE_INLINE +
           (e->vcap > CE_INLINE ? e->vcap : 0);
}

/* memcmp order, shorter first on a tie: LMDB's default key order. */
static inline int ss_keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

/* ---- environment, stores, snapshots (env.c) ------------------------------------------ */

struct sl_store {
    sl_env_t *env;
    struct sl_store *next; /* env's list */
    char name[SL_STORE_MAX_NAME + 1];
    sl_store_kind_t kind;
    MDB_dbi dbi;  /* primary: encoded key -> value */
    MDB_dbi tdbi; /* window/session: time index (time | len | key [| start]) -> "" */
    cache_t cache;
    sl_store_flush_fn on_flush;
    void *flush_arg;
    char *key_schema, *value_schema;
    int64_t retention_ms, window_size_ms;
    int64_t stream_time;      /* INT64_MIN: none */
    int64_t committed_stream_time;
    int64_t cutoff;           /* times below are expired (INT64_MIN: none) */
    int64_t committed_cutoff; /* what LMDB holds (retention deletes done up to here) */
    int64_t max_time_written; /* window stores: no LMDB entry has a later start (INT64_MIN: empty) */
    bool stream_time_dirty;
    bool flushing;            /* inside its flush listener: writes to it are refused */
    int open_iters;           /* writer-view iterators open on it */
    sl_buf_t kbuf;            /* scratch for encoding keys */
};

struct sl_env {
    MDB_env *mdb;
    char *dir;
    sl_env_config_t cfg;
    MDB_dbi meta_dbi;   /* "__meta": checkpoint metadata and the sequence number */
    MDB_dbi stores_dbi; /* "__stores": store descriptors */
    MDB_txn *rtxn;      /* the writer's read transaction (renewed after each checkpoint) */
    bool rtxn_live;
    /* Snapshot gate: counts open snapshots so that map growth (which remaps the
     * file) waits for them and new snapshots wait for the growth.  A mutex and
     * a condition variable, not a rwlock: a snapshot may end on another thread
     * than the one that began it. */
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    int gate_readers;
    bool gate_growing;
    size_t map_size;
    size_t page_size;
    uint64_t seq;
    sl_store_t *stores;
    sl_buf_t scratch;
};

struct sl_snap {
    sl_env_t *env;
    MDB_txn *txn;
    uint64_t seq;
};

/* Map an LMDB / errno code to SL_S_* with a message. */
int ss_mdb_err(sl_err_t *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The writer's read transaction, begun or renewed as needed; NULL on failure. */
MDB_txn *ss_rtxn(sl_env_t *env);
void ss_rtxn_reset(sl_env_t *env);
/* Grow the map (doubling, up to map_size_max).  No transaction of this env may
 * be open in the writer; waits for snapshots to end. */
int ss_grow(sl_env_t *env, sl_err_t *err);
/* Encode / decode the msgpack store descriptor. */
int ss_desc_encode(const sl_store_t *s, sl_buf_t *out);
#define SS_SEQ_KEY "__seq"

/* ---- generic store operations on encoded keys (store.c) ----------------------------------- */

/* Writer-view or snapshot lookup of an encoded primary key. */
int ss_get(sl_store_t *s, sl_snap_t *snap, const uint8_t *ek, size_t eklen, const uint8_t **val, size_t *vlen);
/* Cache write of an encoded key (a delete when `del`). */
int ss_put(sl_store_t *s, const uint8_t *ek, size_t eklen, const void *val, size_t vlen, bool del);
/* Decode an encoded primary key of store kind `kind` into e's key/start/end. */
int ss_decode_primary(sl_store_kind_t kind, const uint8_t *k, size_t kl, sl_entry_t *e);
/* The time (window start / session end) of an encoded primary key. */
int64_t ss_primary_time(sl_store_kind_t kind, const uint8_t *k, size_t kl);
/* Build the time-index key of a primary key, and back. */
int ss_index_key(sl_store_kind_t kind, const uint8_t *pk, size_t pkl, sl_buf_t *out);
int ss_primary_key(sl_store_kind_t kind, const uint8_t *ik, size_t ikl, sl_buf_t *out);
/* Encoded primary key: len | key | t1 [| t2] (n_times 1 or 2) into out; its
 * length in *olen.  SL_S_ETOOBIG above SL_STORE_MAX_KEY. */
#define SS_EKEY_MAX (2 + SL_STORE_MAX_KEY + 16)
int ss_encode(uint8_t *out, size_t *olen, const void *key, size_t klen, int n_times, int64_t t1, int64_t t2);

/* ---- iterators (iter.c) ------------------------------------------------------------------ */

typedef struct ss_range {
    const uint8_t *lo;
    size_t lo_len;
    const uint8_t *hi;
    size_t hi_len;
    bool has_lo, has_hi, hi_excl;
} ss_range_t;

/* What the iterator filters out besides the range. */
typedef struct ss_filter {
    bool by_start_max; /* sessions: drop entries with start > start_max */
    int64_t start_max;
} ss_filter_t;

/* Iterate the primary database over `r` (merged with the cache in the writer
 * view), or with `by_time` the time index (primary values looked up). */
int ss_iter_open(sl_store_t *s, sl_snap_t *snap, bool by_time, const ss_range_t *r, const ss_filter_t *f,
                 int flags, sl_iter_t **out, sl_err_t *err);

/* ---- checkpoint helpers (checkpoint.c) ---------------------------------------------------- */

/* Write a store's retention deletes, dirty entries and (if changed) descriptor
 * into txn.  Returns 0 or an LMDB / errno code (MDB_MAP_FULL is retried). */
int ss_store_write(sl_store_t *s, MDB_txn *txn);

/* ---- retention (retention.c) ----------------------------------------------------------------- */

/* Delete from LMDB (primary and time index) every entry whose time is below
 * the store's cutoff.  Returns 0 or an LMDB / errno code. */
int ss_retention_apply(sl_store_t *s, MDB_txn *txn);
/* After a commit: drop expired entries from the cache. */
void ss_retention_prune_cache(sl_store_t *s);

#endif
