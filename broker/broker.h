/* Sluice broker: the public interface of the broker module.
 *
 * This header holds what other modules (and the CLI, tests and benchmarks) may
 * use: Kafka RecordBatch v2 parsing, iteration and building; the durable
 * partition log (segments, indexes, group commit, recovery, retention,
 * compaction); and the crash-safe topic registry.  Everything under broker/
 * other than this header is internal to the module.
 *
 * Conventions (as LMDB): functions return 0 or a negative SL_B_* code; when an
 * sl_err_t* is passed it receives a human-readable message. */
#ifndef SL_BROKER_H
#define SL_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* ---- error codes ------------------------------------------------------------ */

enum sl_broker_status {
    SL_B_OK = 0,
    SL_B_EIO = -1,          /* a system call failed (errno in the message) */
    SL_B_ECORRUPT = -2,     /* bad CRC, magic or structure: CORRUPT_MESSAGE */
    SL_B_ETRUNCATED = -3,   /* input shorter than its own length fields say */
    SL_B_EINVAL = -4,       /* invalid argument or configuration */
    SL_B_ERANGE = -5,       /* offset outside [log start, log end]: OFFSET_OUT_OF_RANGE */
    SL_B_ENOMEM = -6,
    SL_B_ENOTFOUND = -7,    /* unknown topic */
    SL_B_EEXISTS = -8,      /* topic already exists */
    SL_B_ETOOLARGE = -9,    /* batch above max.message.bytes: MESSAGE_TOO_LARGE */
    SL_B_EUNSUPPORTED = -10,/* unknown compression codec or magic */
    SL_B_ETIMEDOUT = -11,
    SL_B_ECLOSED = -12,     /* the log is closing */
};

const char *sl_broker_strerror(int code);

/* ---- RecordBatch v2 (batch.c, compress.c) ------------------------------------ */

#define SL_BATCH_HEADER_SIZE 61
#define SL_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength: bytes not counted by batchLength */
/* Byte offsets of header fields, for code that patches or peeks a stored batch. */
#define SL_BATCH_OFF_BASE_OFFSET 0
#define SL_BATCH_OFF_LENGTH 8
#define SL_BATCH_OFF_LEADER_EPOCH 12
#define SL_BATCH_OFF_MAGIC 16
#define SL_BATCH_OFF_CRC 17
#define SL_BATCH_OFF_ATTRIBUTES 21
#define SL_BATCH_OFF_LAST_OFFSET_DELTA 23
#define SL_BATCH_OFF_BASE_TIMESTAMP 27
#define SL_BATCH_OFF_MAX_TIMESTAMP 35
#define SL_BATCH_OFF_PRODUCER_ID 43
#define SL_BATCH_OFF_RECORD_COUNT 57

enum sl_compression {
    SL_COMPRESSION_NONE = 0,
    SL_COMPRESSION_GZIP = 1,
    SL_COMPRESSION_SNAPPY = 2,
    SL_COMPRESSION_LZ4 = 3,
    SL_COMPRESSION_ZSTD = 4,
};

#define SL_BATCH_ATTR_COMPRESSION_MASK 0x07
#define SL_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define SL_BATCH_ATTR_TRANSACTIONAL 0x10
#define SL_BATCH_ATTR_CONTROL 0x20
#define SL_BATCH_ATTR_DELETE_HORIZON 0x40

/* Upper bound on the decompressed size of one batch's records, so a small
 * compressed batch cannot make us allocate without limit. */
#define SL_BATCH_MAX_DECOMPRESSED (256u * 1024 * 1024)

typedef struct sl_batch_header {
    int64_t base_offset;
    int32_t batch_length; /* bytes after this field */
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
} sl_batch_header_t;

/* Total stored size of a batch: batch_length + 12. */
static inline size_t sl_batch_size(const sl_batch_header_t *h)
{
    return (size_t)h->batch_length + SL_BATCH_LOG_OVERHEAD;
}

/* Parse the 61-byte header at p (len = bytes available, >= header size).
 * Checks magic == 2, batch_length >= 49 and record_count >= 0; does NOT check
 * that the whole batch is present or the CRC (see sl_batch_validate).
 * Magic 0/1 (old message sets) give SL_B_EUNSUPPORTED, other magics SL_B_ECORRUPT. */
int sl_batch_parse_header(const uint8_t *p, size_t len, sl_batch_header_t *h, sl_err_t *err);

/* Full check of one batch occupying exactly p[0..len): header, total length
 * equals len, CRC-32C over attributes..end, and a known compression codec
 * (SL_B_EUNSUPPORTED otherwise).  Cost: one pass of CRC. */
int sl_batch_validate(const uint8_t *p, size_t len, sl_batch_header_t *h, sl_err_t *err);

/* A record as the iterator yields it: pointers into the batch (or into the
 * iterator's decompression buffer), valid until the next iter call. */
typedef struct sl_record {
    int64_t offset;     /* base_offset + offsetDelta */
    int64_t timestamp;  /* base_timestamp + timestampDelta (or max_timestamp for log-append time) */
    int8_t attributes;
    const uint8_t *key;
    int32_t key_len;    /* -1: null key */
    const uint8_t *value;
    int32_t value_len;  /* -1: null value (a tombstone) */
    int32_t header_count;
    const uint8_t *headers; /* the encoded headers, header_count of them */
    size_t headers_len;
} sl_record_t;

typedef struct sl_header {
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len; /* -1: null */
} sl_header_t;

/* Iterates the records of one batch.  Owns a decompression buffer; reuse an
 * iterator (init once, then start again per batch) to avoid allocating per
 * batch; free when done. */
typedef struct sl_batch_iter {
    sl_batch_header_t hdr;
    const uint8_t *pos, *end;
    int32_t remaining;
    sl_buf_t scratch; /* decompressed records */
} sl_batch_iter_t;

void sl_batch_iter_init(sl_batch_iter_t *it);
/* Start iterating the batch p[0..len) (validated by the caller or not: every
 * length inside is bounds-checked).  Decompresses into the scratch buffer. */
int sl_batch_iter_start(sl_batch_iter_t *it, const uint8_t *p, size_t len, sl_err_t *err);
/* 1: a record in *rec; 0: end of batch; <0: malformed (SL_B_ECORRUPT). */
int sl_batch_iter_next(sl_batch_iter_t *it, sl_record_t *rec, sl_err_t *err);
void sl_batch_iter_free(sl_batch_iter_t *it);

/* Walk a record's headers: *pos (a byte offset into rec->headers) and *index
 * (headers read so far) both start at 0; returns 1 with *h filled, 0 at the
 * end, <0 if malformed. */
int sl_record_header_next(const sl_record_t *rec, size_t *pos, int32_t *index, sl_header_t *h);

/* Builds one batch.  Records accumulate uncompressed in `records`; finish
 * compresses, writes the header and the CRC into `out` (appended). */
typedef struct sl_batch_builder {
    sl_batch_header_t hdr;   /* caller may set producer_id/epoch/base_sequence/attributes bits */
    int compression;
    int32_t count;
    int32_t last_offset_delta;
    bool have_ts;
    sl_buf_t records;
    sl_buf_t zbuf;
} sl_batch_builder_t;

void sl_batch_builder_init(sl_batch_builder_t *b);
/* Begin a new batch (keeps buffers).  producer_id = -1, epoch = -1, seq = -1. */
void sl_batch_builder_begin(sl_batch_builder_t *b, int compression, int64_t base_offset);
/* Add a record with the next offset delta (= number of records so far). */
int sl_batch_builder_add(sl_batch_builder_t *b, int64_t timestamp, const void *key, int32_t key_len,
                         const void *value, int32_t value_len, const sl_header_t *headers, int32_t nheaders);
/* Add a record at an explicit offset delta (> previous; compaction keeps gaps)
 * and raw encoded headers (as sl_record_t carries them). */
int sl_batch_builder_add_raw(sl_batch_builder_t *b, int32_t offset_delta, int64_t timestamp, int8_t attributes,
                             const void *key, int32_t key_len, const void *value, int32_t value_len,
                             int32_t header_count, const uint8_t *headers, size_t headers_len);
/* Compress, fill header, CRC; append the batch to out.  An empty builder is
 * an error (SL_B_EINVAL).  last_offset_delta may be raised beforehand via
 * b->last_offset_delta to keep a compacted batch's offset range. */
int sl_batch_builder_finish(sl_batch_builder_t *b, sl_buf_t *out, sl_err_t *err);
void sl_batch_builder_free(sl_batch_builder_t *b);

/* Compression codecs over whole blocks (Kafka framing: gzip with gzip header,
 * snappy in xerial framing (raw snappy accepted on input), lz4 frame format,
 * zstd frames).  Output is appended to `out`.  Decompression stops with
 * SL_B_ETOOLARGE once this call would append more than max_out bytes. */
int sl_compress(int codec, const uint8_t *in, size_t len, sl_buf_t *out, sl_err_t *err);
int sl_decompress(int codec, const uint8_t *in, size_t len, sl_buf_t *out, size_t max_out, sl_err_t *err);
const char *sl_compression_name(int codec);
/* "none" | "gzip" | "snappy" | "lz4" | "zstd" -> codec; -1 if unknown. */
int sl_compression_parse(const char *name);

/* ---- partition log (log.c, segment.c, index.c, flush.c, cleaner.c) ----------- */

enum sl_flush_policy {
    SL_FLUSH_EVERY_BATCH = 0, /* fdatasync as soon as data is appended (shared by concurrent appends) */
    SL_FLUSH_INTERVAL = 1,    /* fdatasync every flush_ms */
    SL_FLUSH_NEVER = 2,       /* leave it to the OS; durable callbacks fire at once */
};

enum sl_cleanup_policy {
    SL_CLEANUP_DELETE = 1,
    SL_CLEANUP_COMPACT = 2, /* may be or'ed: "compact,delete" */
};

typedef struct sl_log_config {
    int64_t segment_bytes;        /* roll when the active segment would exceed this (default 1 GiB) */
    int64_t segment_ms;           /* roll when the active segment's first batch is older (default 7 d) */
    int64_t retention_ms;         /* delete segments whose newest record is older; -1 = forever (7 d) */
    int64_t retention_bytes;      /* delete oldest segments while the log exceeds this; -1 = no limit */
    int cleanup_policy;           /* SL_CLEANUP_* bits (default delete) */
    int64_t delete_retention_ms;  /* tombstones older than this are dropped by compaction (1 d) */
    int flush_policy;             /* SL_FLUSH_* (default every batch) */
    int64_t flush_ms;             /* for SL_FLUSH_INTERVAL */
    int32_t index_interval_bytes; /* bytes between sparse index entries (4096) */
    int32_t max_message_bytes;    /* largest batch accepted (1 MiB + 12) */
    int64_t cache_tail_bytes;     /* synced bytes kept in the page cache behind the end; -1 = all (64 MiB) */
} sl_log_config_t;

void sl_log_config_default(sl_log_config_t *cfg);
/* Set one Kafka-named topic config (segment.bytes, segment.ms, retention.ms,
 * retention.bytes, cleanup.policy, delete.retention.ms, flush.messages,
 * flush.ms, index.interval.bytes, max.message.bytes, and Sluice's
 * page.cache.tail.bytes).  Unknown key or bad
 * value: SL_B_EINVAL with a message (INVALID_CONFIG). */
int sl_log_config_set(sl_log_config_t *cfg, const char *key, const char *value, sl_err_t *err);

typedef struct sl_plog sl_plog_t;

/* Open (creating if needed) the partition log in folder `dir`.  Recovers the
 * active segment if the last shutdown was not clean: verifies every batch,
 * truncates a torn or corrupt tail, rebuilds missing or corrupt indexes, and
 * logs what it did.  The log copies cfg. */
int sl_plog_open(const char *dir, const sl_log_config_t *cfg, sl_plog_t **out, sl_err_t *err);
/* Flush, write the clean-shutdown marker, free.  Pending durable callbacks
 * fire with SL_B_ECLOSED if their data could not be synced. */
void sl_plog_close(sl_plog_t *log);

/* Replace the config (e.g. after an AlterConfigs); takes effect at the next
 * append / maintenance. */
void sl_plog_set_config(sl_plog_t *log, const sl_log_config_t *cfg);

typedef struct sl_append_info {
    int64_t base_offset;    /* offset assigned to the first record */
    int64_t last_offset;    /* offset of the last record */
    int64_t max_timestamp;
    int32_t record_count;
} sl_append_info_t;

/* Append one client batch p[0..len) (exactly one RecordBatch v2).  Validates
 * length, magic and CRC, assigns the base offset (written into the stored copy;
 * the caller's bytes are not modified), rolls the segment if due, and writes it.
 * Thread-safe.  `now_ms` is the wall clock (for segment.ms). */
int sl_plog_append(sl_plog_t *log, const uint8_t *p, size_t len, int64_t now_ms, sl_append_info_t *info,
                   sl_err_t *err);

/* Group commit.  cb(arg, status) is called once every offset < `end_offset`
 * is on disk (status 0), or with SL_B_EIO / SL_B_ECLOSED.  The call may be
 * synchronous (already durable, or SL_FLUSH_NEVER) or come later from the
 * log's flusher thread; many waiters share one fdatasync. */
typedef void (*sl_durable_cb)(void *arg, int status);
int sl_plog_on_durable(sl_plog_t *log, int64_t end_offset, sl_durable_cb cb, void *arg);
/* Blocking form: waits until offsets < end_offset are synced (or timeout). */
int sl_plog_wait_durable(sl_plog_t *log, int64_t end_offset, int64_t timeout_ms);
/* fdatasync now, from the calling thread. */
int sl_plog_flush(sl_plog_t *log);

/* Offsets: log start (first readable), log end (next to assign) and the
 * durable end (every offset below it has been fdatasync'd). */
int64_t sl_plog_start_offset(sl_plog_t *log);
int64_t sl_plog_end_offset(sl_plog_t *log);
int64_t sl_plog_durable_offset(sl_plog_t *log);
int64_t sl_plog_size_bytes(sl_plog_t *log);
/* fdatasync calls made on the log's data so far (group-commit efficiency). */
int64_t sl_plog_sync_count(sl_plog_t *log);
int sl_plog_segment_count(sl_plog_t *log);

typedef struct sl_read_info {
    int64_t first_offset;  /* base offset of the first batch returned (-1 if none) */
    int64_t next_offset;   /* offset after the last whole batch returned */
    int32_t batches;
} sl_read_info_t;

/* Append to `out` the stored batches (byte for byte) that contain offsets >=
 * `offset`, whole batches only, stopping before max_bytes would be exceeded;
 * the first batch is returned whole even if larger than max_bytes, so a
 * reader always progresses.  offset == log end returns nothing (0).
 * Outside [start, end]: SL_B_ERANGE. */
int sl_plog_read(sl_plog_t *log, int64_t offset, size_t max_bytes, sl_buf_t *out, sl_read_info_t *info,
                 sl_err_t *err);

/* The high watermark: offsets below it are durable (fdatasync'd; with
 * SL_FLUSH_NEVER, simply appended).  Consumers should read only below it, so
 * that nothing they see can be lost by a power failure - the single-node
 * analogue of Kafka's replicated high watermark. */
int64_t sl_plog_high_watermark(sl_plog_t *log);
/* sl_plog_read limited to the batches below the high watermark; offsets in
 * [high watermark, end] return nothing rather than SL_B_ERANGE. */
int sl_plog_read_durable(sl_plog_t *log, int64_t offset, size_t max_bytes, sl_buf_t *out, sl_read_info_t *info,
                         sl_err_t *err);

/* Earliest offset whose record timestamp is >= ts, or -1 when none is
 * (ListOffsets semantics).  Cost: index lookups plus one segment scan. */
int sl_plog_offset_for_time(sl_plog_t *log, int64_t ts, int64_t *offset, sl_err_t *err);
/* The same, also giving that record's timestamp (-1 when none). */
int sl_plog_lookup_time(sl_plog_t *log, int64_t ts, int64_t *offset, int64_t *timestamp, sl_err_t *err);

/* Roll the active segment now (new segment at the log end offset). */
int sl_plog_roll(sl_plog_t *log, int64_t now_ms);

/* Retention (time, size) and, for compact topics, compaction of closed
 * segments.  Call periodically; returns the number of segments deleted or
 * rewritten, or <0.  Thread-safe with append and read. */
int sl_plog_maintain(sl_plog_t *log, int64_t now_ms, sl_err_t *err);
/* Compaction alone (cleanup.policy must include compact). */
int sl_plog_compact(sl_plog_t *log, int64_t now_ms, sl_err_t *err);

/* Call fn with the header of every batch whose last offset is >= from_offset,
 * in offset order (reads only the 61-byte headers).  Stops early when fn
 * returns non-zero.  Used to rebuild producer state from the log tail. */
int sl_plog_scan_batches(sl_plog_t *log, int64_t from_offset, int (*fn)(void *arg, const sl_batch_header_t *h),
                         void *arg, sl_err_t *err);

/* Raise the log start offset (DeleteRecords); deletes segments wholly below. */
int sl_plog_delete_records_before(sl_plog_t *log, int64_t offset, sl_err_t *err);

/* ---- topic registry (registry.c) -------------------------------------------- */

/* Crash-safe catalogue of topics (name, partition count, config overrides)
 * in an LMDB environment under <data>/meta.  Partition logs live in
 * <data>/topics/<topic>-<partition>/. */
typedef struct sl_registry sl_registry_t;

#define SL_TOPIC_NAME_MAX 249

typedef struct sl_topic_config_entry {
    char key[64];
    char value[256];
} sl_topic_config_entry_t;

typedef struct sl_topic_info {
    char name[SL_TOPIC_NAME_MAX + 1];
    int32_t partitions;
    int32_t nconfigs;
    sl_topic_config_entry_t configs[32]; /* overrides only; defaults are implicit */
} sl_topic_info_t;

int sl_registry_open(const char *data_dir, sl_registry_t **out, sl_err_t *err);
void sl_registry_close(sl_registry_t *reg);
/* Kafka's rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
bool sl_topic_name_valid(const char *name);
/* Validates name, partitions >= 1 and every config (via sl_log_config_set). */
int sl_registry_create_topic(sl_registry_t *reg, const sl_topic_info_t *topic, sl_err_t *err);
int sl_registry_delete_topic(sl_registry_t *reg, const char *name, sl_err_t *err);
int sl_registry_get_topic(sl_registry_t *reg, const char *name, sl_topic_info_t *out, sl_err_t *err);
/* Calls fn for each topic in name order; stops early if fn returns non-zero. */
int sl_registry_list_topics(sl_registry_t *reg, int (*fn)(void *arg, const sl_topic_info_t *t), void *arg,
                            sl_err_t *err);
/* Set (value != NULL) or remove (value == NULL) one config override. */
int sl_registry_set_config(sl_registry_t *reg, const char *name, const char *key, const char *value,
                           sl_err_t *err);
int sl_registry_set_partitions(sl_registry_t *reg, const char *name, int32_t partitions, sl_err_t *err);
/* Defaults + the topic's overrides. */
int sl_topic_log_config(const sl_topic_info_t *t, sl_log_config_t *cfg, sl_err_t *err);
/* "<data>/topics/<topic>-<partition>" into buf. */
int sl_partition_dir(const char *data_dir, const char *topic, int32_t partition, char *buf, size_t cap);

/* ---- the Kafka-protocol broker (server.c, topics.c, proto_*.c, group.c) --------- */

typedef struct sl_broker_config {
    char data_dir[4096];
    char host[256];                       /* listen address (127.0.0.1) */
    int port;                             /* 9092; 0 = any free port (see sl_broker_port) */
    int32_t node_id;                      /* broker.id (0) */
    int32_t num_partitions;               /* num.partitions (1) */
    int32_t max_partitions;               /* max.partitions: all topics together (1000); each
                                             partition holds 3 files and a flusher thread */
    bool auto_create_topics;              /* auto.create.topics.enable (true) */
    int32_t max_request_bytes;            /* socket.request.max.bytes (100 MiB) */
    sl_log_config_t log;                  /* log.* defaults for every topic */
    int32_t group_min_session_ms;         /* group.min.session.timeout.ms (6000) */
    int32_t group_max_session_ms;         /* group.max.session.timeout.ms (1800000) */
    int32_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms (0 here; Kafka: 3000) */
    int64_t offsets_retention_ms;         /* offsets.retention.minutes (7 days) */
} sl_broker_config_t;

void sl_broker_config_default(sl_broker_config_t *cfg);
/* Set one broker setting by Kafka's server.properties name (broker.id,
 * num.partitions, auto.create.topics.enable, socket.request.max.bytes,
 * message.max.bytes, log.segment.bytes, log.roll.ms, log.retention.ms /
 * .minutes / .hours, log.retention.bytes, log.cleanup.policy,
 * log.flush.interval.messages, log.flush.interval.ms, log.index.interval.bytes,
 * log.cleaner.delete.retention.ms, group.*.session.timeout.ms,
 * group.initial.rebalance.delay.ms, offsets.retention.minutes). */
int sl_broker_config_set(sl_broker_config_t *cfg, const char *key, const char *value, sl_err_t *err);
/* Read a server.properties-style file (key=value, # comments). */
int sl_broker_config_load(sl_broker_config_t *cfg, const char *path, sl_err_t *err);

typedef struct sl_broker sl_broker_t;

/* Open the data folder (topics, logs, groups, producer state) and bind the
 * listener.  Nothing is served until sl_broker_run. */
int sl_broker_open(const sl_broker_config_t *cfg, sl_broker_t **out, sl_err_t *err);
/* The bound port (useful with port 0). */
int sl_broker_port(sl_broker_t *b);
/* Serve on the calling thread until sl_broker_stop. */
int sl_broker_run(sl_broker_t *b);
/* Ask a running broker to stop; safe from any thread and from a signal handler. */
void sl_broker_stop(sl_broker_t *b);
/* Close connections, sync and close every log, free.  After run returned. */
void sl_broker_close(sl_broker_t *b);

/* In-process access to the broker's topics for an embedded job (the engine's
 * runtime), from any thread: each call runs on the broker's loop thread (or
 * directly when the loop is not running) and waits for it.  Meant for setup,
 * not per record. */
/* Partition count of `topic`, or SL_B_ENOTFOUND. */
int sl_broker_topic_partitions(sl_broker_t *b, const char *topic, int32_t *n);
/* Create a topic with the broker's default config (an existing one is fine). */
int sl_broker_create_topic(sl_broker_t *b, const char *topic, int32_t partitions, sl_err_t *err);
/* The same with topic configs (overrides of the broker's defaults). */
int sl_broker_create_topic_with(sl_broker_t *b, const char *topic, int32_t partitions,
                                const sl_topic_config_entry_t *configs, int nconfigs, sl_err_t *err);
/* The broker's own log of one partition (thread-safe; valid until the topic is
 * deleted or the broker closes), or SL_B_ENOTFOUND. */
int sl_broker_partition_log(sl_broker_t *b, const char *topic, int32_t partition, sl_plog_t **log);
/* After appending to a partition log directly: wake Kafka consumers waiting
 * in a long-poll Fetch once the data is durable.  Asynchronous, any thread. */
void sl_broker_notify_append(sl_broker_t *b, const char *topic, int32_t partition);

/* Per-topic counters for metrics (observability, engine/obs.c).  records and
 * bytes in count batches appended by Kafka Produce requests, out the batches
 * sent in Fetch responses (whole stored batches, as served), both since the
 * broker opened; an embedded job's own reads and appends (sl_rt_logs_broker)
 * are not Kafka traffic and show in end_offset only. */
typedef struct sl_broker_topic_stats {
    char name[SL_TOPIC_NAME_MAX + 1];
    int32_t partitions;
    uint64_t records_in, bytes_in;
    uint64_t records_out, bytes_out;
    int64_t end_offset; /* sum over the partitions of the log end offset */
    int64_t size_bytes; /* sum of the partition logs' sizes */
} sl_broker_topic_stats_t;
/* A snapshot of every topic in name order (taken on the loop thread, like the
 * calls above).  *out is malloc'ed (caller frees; NULL when there are none). */
int sl_broker_topic_stats(sl_broker_t *b, sl_broker_topic_stats_t **out, size_t *n);
/* The listen host as configured ("127.0.0.1"); the port is sl_broker_port. */
const char *sl_broker_host(const sl_broker_t *b);

#endif
