/* Internal to broker/: the structures behind sl_plog_t (partition log) and its
 * segments, shared by log.c (append/read/open), segment.c (files, scan,
 * recovery), index.c (sparse offset and time indexes), flush.c (group commit)
 * and cleaner.c (retention and compaction). */
#ifndef SL_BROKER_PLOG_H
#define SL_BROKER_PLOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"

/* Offset index entry: (offset - segment base, file position), both uint32 BE
 * on disk.  Time index entry: (largest timestamp so far int64 BE, offset -
 * base uint32 BE).  Entries are sparse: one per index_interval_bytes. */
typedef struct sl_oidx_entry {
    uint32_t rel_offset;
    uint32_t position;
} sl_oidx_entry_t;

typedef struct sl_tidx_entry {
    int64_t timestamp;
    uint32_t rel_offset;
} sl_tidx_entry_t;

#define SL_OIDX_ENTRY_SIZE 8
#define SL_TIDX_ENTRY_SIZE 12

typedef struct sl_index {
    sl_oidx_entry_t *oidx;
    size_t noidx, oidx_cap;
    sl_tidx_entry_t *tidx;
    size_t ntidx, tidx_cap;
    size_t oidx_written, tidx_written; /* entries already in the files */
    int oidx_fd, tidx_fd;
} sl_index_t;

/* One segment: <base>.log plus its two index files.  Reference counted so a
 * reader can pread outside the log lock while retention or compaction
 * replaces or deletes the segment (the last reference closes the files). */
typedef struct sl_segment {
    int64_t base_offset;
    int64_t next_offset;       /* last offset + 1; base_offset when empty */
    int64_t size;              /* bytes of valid batches */
    int64_t max_timestamp;     /* largest batch max_timestamp; -1 when none */
    int64_t max_ts_offset;     /* base offset of the batch that set max_timestamp */
    int64_t bytes_since_index; /* bytes appended since the last offset-index entry */
    int64_t created_ms;        /* wall clock at creation/open: segment.ms for untimestamped data */
    int64_t first_timestamp;   /* first batch's max timestamp (segment.ms); -1 when empty */
    int log_fd;
    sl_index_t idx;
    int refs;                  /* guarded by the log mutex */
    bool dead;                 /* removed from the log; free at refs == 0 */
    char path[4096];           /* the .log file */
} sl_segment_t;

typedef struct sl_waiter {
    int64_t end_offset;
    sl_durable_cb cb;
    void *arg;
} sl_waiter_t;

struct sl_plog {
    char dir[4096];
    sl_log_config_t cfg;
    pthread_mutex_t mu;        /* segments, offsets, waiters */
    pthread_mutex_t maint_mu;  /* serialises retention / compaction */
    sl_segment_t **segs;
    int nsegs, segs_cap;
    int64_t start_offset;      /* log start: may be inside the first segment (DeleteRecords) */
    /* group commit */
    pthread_t flusher;
    bool flusher_started;
    pthread_cond_t flush_cond;   /* wakes the flusher */
    pthread_cond_t durable_cond; /* broadcast when durable_offset advances or on error */
    int64_t durable_offset;
    int64_t durable_pos;        /* bytes of the active segment known to be on disk */
    int64_t last_flush_ms;     /* monotonic */
    int64_t syncs;              /* fdatasync calls on segment data */
    int sync_error;             /* sticky: after an fdatasync failure the log refuses appends */
    sl_waiter_t *waiters;
    size_t nwaiters, waiters_cap;
    bool closing;
};

/* ---- segment.c ---- */
/* Create an empty segment file set at base_offset in dir. */
int sl_segment_create(const char *dir, int64_t base_offset, sl_segment_t **out, sl_err_t *err);
/* Open an existing segment.  recover = true: verify every batch (CRC), truncate
 * a torn or corrupt tail and rebuild the indexes; false: trust the indexes if
 * they pass their checks (rebuild otherwise) and scan only the tail. */
int sl_segment_open(const char *dir, int64_t base_offset, bool recover, const sl_log_config_t *cfg,
                    sl_segment_t **out, sl_err_t *err);
/* Write one batch (already validated) whose base offset is `base`.  Updates
 * size, offsets, timestamps and indexes. */
int sl_segment_append(sl_segment_t *seg, const uint8_t *p, size_t len, const sl_batch_header_t *h,
                      int32_t index_interval, sl_err_t *err);
/* File position of the batch containing `offset` (or the first batch after
 * it), scanning batch headers forward from `from` (an index lookup made under
 * the log lock) up to `limit` (the segment size seen under the lock); returns
 * limit when the offset is beyond.  Safe outside the lock (pread only). */
int sl_segment_find_position(sl_segment_t *seg, int64_t offset, int64_t from, int64_t limit, int64_t *pos,
                             sl_err_t *err);
/* Flush a final time-index entry and fdatasync log and index files. */
int sl_segment_seal(sl_segment_t *seg, bool sync, sl_err_t *err);
/* Close files and free (caller ensures no references). */
void sl_segment_free(sl_segment_t *seg);
/* Unlink the segment's files. */
void sl_segment_unlink(sl_segment_t *seg);
/* "<dir>/<20-digit base><suffix>" */
void sl_segment_file_name(const char *dir, int64_t base, const char *suffix, char *buf, size_t cap);
/* Read exactly len bytes at pos (retries short reads); SL_B_ETRUNCATED at EOF. */
int sl_pread_full(int fd, void *buf, size_t len, int64_t pos);
/* Scan batches from `pos` to the end of the segment file, re-indexing them.
 * verify: check CRCs and truncate at the first bad batch. */
int sl_segment_scan(sl_segment_t *seg, int64_t pos, bool verify, int32_t index_interval, sl_err_t *err);

/* ---- index.c ---- */
void sl_index_init(sl_index_t *idx);
void sl_index_free(sl_index_t *idx);
/* Open the two index files of a segment (creating them); load and check
 * entries against the segment's file size.  Returns 0 when loaded and sane, 1
 * when missing or corrupt (the caller rebuilds), <0 on I/O error. */
int sl_index_open(sl_index_t *idx, const char *log_path, int64_t log_size, sl_err_t *err);
/* Drop every entry and truncate both files (before a rebuild). */
int sl_index_reset(sl_index_t *idx, sl_err_t *err);
/* Drop entries at or beyond position `pos` (after a tail truncation). */
int sl_index_truncate(sl_index_t *idx, int64_t pos, sl_err_t *err);
int sl_index_add_offset(sl_index_t *idx, uint32_t rel_offset, uint32_t position, sl_err_t *err);
int sl_index_add_time(sl_index_t *idx, int64_t ts, uint32_t rel_offset, sl_err_t *err);
/* Largest entry with rel_offset <= target: its position (0 when none). */
uint32_t sl_index_lookup_offset(const sl_index_t *idx, uint32_t rel_target);
/* Largest time entry with timestamp < ts: its rel offset; -1 when none. */
int64_t sl_index_lookup_time(const sl_index_t *idx, int64_t ts);
/* Write entries not yet in the files (entries are buffered: the files are
 * only trusted after a clean shutdown, so they need not be current). */
int sl_index_flush(sl_index_t *idx, sl_err_t *err);
/* Flush, then fdatasync both files. */
int sl_index_sync(sl_index_t *idx);

/* ---- flush.c ---- */
int sl_flusher_start(sl_plog_t *log, sl_err_t *err);
/* Stop the thread; fail remaining waiters with `status`. */
void sl_flusher_stop(sl_plog_t *log);
/* Called with log->mu held after an append. */
void sl_flusher_notify_locked(sl_plog_t *log);

/* ---- log.c helpers for cleaner.c ---- */
void sl_plog_seg_release_locked(sl_plog_t *log, sl_segment_t *seg);
/* Remove segs[i] from the log (mu held); unlink its files when `unlink`. */
void sl_plog_remove_segment_locked(sl_plog_t *log, int i, bool unlink_files);
int sl_plog_roll_locked(sl_plog_t *log, int64_t now_ms, sl_err_t *err);
int sl_plog_write_start_offset(sl_plog_t *log, int64_t offset, sl_err_t *err);

#endif
