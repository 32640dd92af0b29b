/* Sluice engine: the public C API for building topologies and running them.
 *
 * A topology is a DAG of named nodes: sources reading topics, operators
 * (operators/operators.h: map, filter, ..., count, aggregate, table), and sinks
 * writing topics.  Build it with sl_topo_add_* (in any order: parents are
 * referred to by name and resolved by sl_topo_build), then sl_topo_build
 * validates it, reporting every problem with the node names, and splits it at
 * re-keying points into sub-topologies joined by internal repartition topics
 * named "<app>-<group_by node>-repartition".  A task runs one sub-topology for
 * one partition; inside it a record goes depth-first through the operators with
 * no queue between them.  The DSL planner builds topologies with exactly this
 * API.
 *
 * The test driver (sl_driver_*) runs a built topology in-process, without a
 * broker or threads: pipe records into source topics, read what the sinks
 * wrote, read stores, commit, close and reopen over the same folder.  Like
 * Kafka Streams' TopologyTestDriver, it is deterministic.
 *
 * Threading: a topology is built by one thread; once built it is immutable and
 * may be shared by any number of drivers and tasks on any threads.  A driver is
 * used by one thread at a time.  User callbacks run on the thread that pipes
 * the record (or commits, for updates forwarded at a flush).
 *
 * Errors: functions return 0 or a negative SL_E_* code (operators/operators.h)
 * and, when given an sl_err_t, a message naming the node, topic or store.
 * sl_engine_strerror names the codes. */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "operators/operators.h"
#include "broker/broker.h"

/* "invalid argument", ...: a static string for an SL_E_* code. */
const char *sl_engine_strerror(int code);

/* ---- topologies ------------------------------------------------------------------------------
 * Names (of the application, nodes, stores) are 1..100 characters from
 * [A-Za-z0-9._-]; topics are 1..249 of the same (Kafka's rule).  Every add
 * copies its strings.  An add returns SL_E_INVAL for a missing argument (and
 * remembers it, so sl_topo_build fails too), SL_E_NOMEM, or SL_E_INVAL after a
 * successful build (the topology is frozen).  Everything about the graph
 * (duplicate and unknown names, cycles, misplaced operators) is checked by
 * sl_topo_build, so adds may come in any order. */

typedef struct sl_topo sl_topo_t;

/* New empty topology for application `app_id` (prefix of internal topic names).
 * Caller frees it with sl_topo_free, after every driver using it is closed. */
int sl_topo_new(const char *app_id, sl_topo_t **out);
void sl_topo_free(sl_topo_t *t); /* NULL is a no-op */

/* Event time of a source's records: by default the record's timestamp; a
 * callback can take it from the value instead.  A negative timestamp sends the
 * record to the dead-letter topic. */
typedef int (*sl_ts_fn)(void *arg, const sl_rec_t *rec, int64_t *ts, sl_err_t *err);
typedef struct sl_source_opts {
    sl_ts_fn timestamp; /* NULL: the record's own timestamp */
    void *timestamp_arg;
} sl_source_opts_t;

/* A stream read from topics (opts may be NULL).  A topic may be read by one
 * source node only. */
int sl_topo_add_source(sl_topo_t *t, const char *name, const char *const *topics, size_t n_topics,
                       const sl_source_opts_t *opts);
/* A table read from `topic` into KV store `store`: the latest value per key; a
 * null value deletes the key; records without a key are dropped and counted.
 * Its children receive its changes at each cache flush (see sl_op_process). */
int sl_topo_add_table(sl_topo_t *t, const char *name, const char *topic, const char *store,
                      const sl_source_opts_t *opts);
/* Write every record reaching this node to `topic`.  A sink has no children. */
int sl_topo_add_sink(sl_topo_t *t, const char *name, const char *parent, const char *topic);

/* Stateless operators (the callbacks' contracts are in operators/operators.h).
 * map, flat_map and select_key may change the key: a group_by downstream of
 * them repartitions, as in Kafka Streams. */
int sl_topo_add_map(sl_topo_t *t, const char *name, const char *parent, sl_map_fn fn, void *arg);
int sl_topo_add_filter(sl_topo_t *t, const char *name, const char *parent, sl_filter_fn fn, void *arg);
int sl_topo_add_flat_map(sl_topo_t *t, const char *name, const char *parent, sl_flat_map_fn fn, void *arg);
int sl_topo_add_select_key(sl_topo_t *t, const char *name, const char *parent, sl_key_fn fn, void *arg);
int sl_topo_add_peek(sl_topo_t *t, const char *name, const char *parent, sl_peek_fn fn, void *arg);
/* Branch: fn sends each record to 0..n of the outputs with sl_emit_to(out, i,
 * rec).  Output i is a node named outputs[i]; attach children to those names. */
int sl_topo_add_branch(sl_topo_t *t, const char *name, const char *parent, sl_flat_map_fn fn, void *arg,
                       const char *const *outputs, size_t n_outputs);
/* Merge: every record of every parent, in the order they arrive. */
int sl_topo_add_merge(sl_topo_t *t, const char *name, const char *const *parents, size_t n_parents);

/* Grouping: fn computes the grouping key (NULL: the record's key).  Records
 * with a null grouping key are dropped and counted.  Its children must be
 * aggregations, and aggregations must have a group_by parent.  When the key
 * may have changed (fn given, or a map / flat_map / select_key upstream),
 * sl_topo_build puts a repartition topic between the group_by and its
 * aggregations. */
int sl_topo_add_group_by(sl_topo_t *t, const char *name, const char *parent, sl_key_fn fn, void *arg);

/* Grouping a table (Kafka Streams' groupBy on a KTable): `parent` carries a
 * table's changelog (a table source, an aggregation, or stateless steps over
 * them; a null value deletes a row).  The node keeps the last value of each row
 * in KV store `store` and, when a row changes, forwards the old value under
 * its old group key as a retraction (header SL_RETRACT_HEADER) and then the
 * new value under the new group key (fn computes group keys; it is called for
 * old values too).  Its children are aggregations, always behind a repartition
 * topic: count, sum and avg subtract retractions exactly; an aggregate's add
 * callback must check sl_rec_is_retraction and subtract; min, max and reduce
 * are refused by sl_topo_build (they cannot subtract). */
int sl_topo_add_group_table(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_key_fn fn,
                            void *arg);

/* TTL: keys of `node` (a table source, an aggregation without a window, or a
 * group_table) that have not been updated for ttl_ms of stream time are
 * deleted as stream time advances - as if a tombstone had arrived: a table or
 * aggregation forwards a tombstone for the key at the next flush, a
 * group_table takes the row out of its group.  An expiry index in a second
 * store "<store>.ttl" makes this one seek per expiry, not a scan.  Call after
 * adding the node; errors: SL_E_NOTFOUND (no such node yet), SL_E_INVAL (other
 * kinds, ttl outside 1 ms .. 2^50 ms); a windowed aggregation fails the build. */
int sl_topo_set_ttl(sl_topo_t *t, const char *node, int64_t ttl_ms);

/* Aggregations of a group_by, each keeping one value per key in KV store
 * `store` (one store per node).  Records with a null value are ignored and
 * counted.  sum/min/max/avg take the number from fn (NULL: the value must be a
 * msgpack number).  Stored values: count a msgpack int; sum/min/max a msgpack
 * int or float (sums of ints stay ints until they overflow int64); avg a map
 * {"sum", "count"} whose updates are forwarded as the average (float);
 * aggregate/reduce the callbacks' bytes. */
int sl_topo_add_count(sl_topo_t *t, const char *name, const char *parent, const char *store);
int sl_topo_add_sum(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg);
int sl_topo_add_min(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg);
int sl_topo_add_max(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg);
int sl_topo_add_avg(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg);
int sl_topo_add_aggregate(sl_topo_t *t, const char *name, const char *parent, const char *store,
                          sl_agg_init_fn init, sl_agg_add_fn add, void *arg);
int sl_topo_add_reduce(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_reduce_fn fn,
                       void *arg);
/* The merger of aggregate node `node` under a session window (Kafka Streams'
 * SessionWindowedKStream.aggregate(initializer, aggregator, merger)): when a
 * record joins sessions, their aggregates are combined with merge(arg, key,
 * a, b, out), arg being the aggregate's.  Without one, an aggregate under a
 * session window fails the build; with one, an aggregate that is not under a
 * session window does.  Errors: SL_E_NOTFOUND (add the node first),
 * SL_E_INVAL (not an aggregate, NULL merge). */
int sl_topo_set_session_merger(sl_topo_t *t, const char *node, sl_agg_merge_fn merge);

/* Windowed aggregation: group_by -> window -> aggregations.  A window node
 * (spec copied; the kinds, bounds and close rule are documented at
 * sl_window_spec_t in operators/operators.h) sits between a group_by and one
 * or more of count/sum/min/max/avg/aggregate/reduce, which become windowed:
 * their store is a window store (sessions: a session store) keeping windows
 * for size + grace (gap + grace), and stream time (the task's largest
 * timestamp) closes windows.  Errors at add: size/gap <= 0 or > 2^50, advance
 * outside 1..size, grace < 0.  At build: a window without a group_by parent,
 * or followed by anything but aggregations, an aggregate under a session
 * window without a merger (sl_topo_set_session_merger), an aggregate or
 * reduce under a sliding window.
 *
 * What goes downstream: key = the group key, value = the aggregate encoded as
 * the non-windowed aggregations forward it, headers "sl.window.start" and
 * "sl.window.end" (8-byte big-endian signed ms; tumbling and hopping windows
 * [start, end); sliding windows and sessions [start, end], both inclusive),
 * timestamp = end - 1 (sliding windows and sessions: end).
 * Emit CHANGES: at each cache flush, every window whose value changed (and,
 * for sessions, a tombstone for each session merged away).  Emit FINAL: each
 * window once, while processing the record that moves stream time past its
 * end + grace, read back from the store (never buffered in memory).  A record
 * whose windows have all closed goes to the dead-letter topic ("late
 * record: ...") and counts in late_records.
 *
 * Cost: count/sum/min/max/avg keep one partial aggregate per key per pane
 * (pane = gcd(size, advance); sliding: per record time), so a record costs
 * one store read and write for any hopping or sliding window; forwarding a
 * window folds its panes.
 * aggregate/reduce cannot combine partial results, so hopping ones update
 * each of the size/advance windows a record falls in (tumbling: one). */
int sl_topo_add_window(sl_topo_t *t, const char *name, const char *parent, const sl_window_spec_t *spec);

/* Joins (spec and joiner in operators/operators.h).  `left` and `right` name
 * the parents; both must be partitioned by the join key: a stream side with a
 * map / flat_map / select_key upstream (and no aggregation in between) is an
 * error naming the re-keying node, and their source topics must have equal
 * partition counts (co-partitioning).  The output is keyed by the join key;
 * several joins may follow each other, and both parents may be one node
 * (self-join).  Per kind:
 *   STREAM_TABLE (inner, left): `right` must be a table source or an
 *     aggregation.  Each stream record looks its key up in that table's store
 *     as it is now (uncommitted updates included); inner drops records without
 *     a match, left forwards them with right = NULL.  Table updates forward
 *     nothing.  Output timestamp and headers: the stream record's.  Stream
 *     records with a null value are dropped; a null key is dropped by inner
 *     and forwarded with right = NULL by left (KIP-962).
 *   STREAM_STREAM (inner, left, outer): a left record at t and a right record
 *     at u with the same key match when t - before_ms <= u <= t + after_ms.
 *     Each side is buffered in a window store (spec.left_store /
 *     spec.right_store) until no admissible record can match it any more.
 *     Output timestamp: the later of the two; headers: the arriving record's.
 *     A record more than grace_ms behind stream time is late: dead-lettered
 *     (counted in late_records of node "<join>#left" / "#right").  Left and
 *     outer joins forward a record that found no partner, with NULL for it,
 *     when its window closes (stream time > t + after_ms + grace_ms for a left
 *     record, u + before_ms + grace_ms for a right one), at the next record
 *     either side receives, never earlier: no "no partner" result is later
 *     contradicted.  Null values are dropped; null keys are dropped, or
 *     forwarded at once without partner on an outer side.
 *   TABLE_TABLE (inner, left, outer): both parents must be table sources or
 *     aggregations; each update of one (forwarded at its cache flush) looks up
 *     the other's store and forwards the joined value when the join has a
 *     result for the key, or a tombstone when the update (a delete) removed
 *     it.  Timestamp: the update's.
 * Counters (dropped_null_key / _value, late_records, dead_lettered) are on the
 * side nodes "<join>#left" and "<join>#right"; records_in of the join node
 * counts its outputs. */
int sl_topo_add_join(sl_topo_t *t, const char *name, const char *left, const char *right, const sl_join_spec_t *spec);

/* Validate and split.  On failure returns SL_E_TOPOLOGY (or SL_E_INVAL /
 * SL_E_NOMEM for a failed add) with every problem found in err->msg, separated
 * by "; ", each naming its nodes, e.g. "node 'counts' (count): an aggregation
 * needs a group_by parent, not 'words' (flat_map)".  Checks: names (syntax,
 * duplicates among nodes, stores, topics read twice), unknown parents, sinks
 * with children, cycles (also through a topic a sink writes and a source
 * reads), aggregations without group_by and group_by without aggregations.
 * A second call after success returns 0. */
int sl_topo_build(sl_topo_t *t, sl_err_t *err);

/* After a successful build: number of sub-topologies; the sub-topology of a
 * node (SL_E_NOTFOUND when no such node); the internal topics. */
int sl_topo_subtopology_count(const sl_topo_t *t);
int sl_topo_node_subtopology(const sl_topo_t *t, const char *node);
size_t sl_topo_repartition_count(const sl_topo_t *t);
const char *sl_topo_repartition_topic(const sl_topo_t *t, size_t i); /* NULL past the end */
/* Before build: declare `topic`, which a sink of this topology writes and a
 * source reads (a repartition the caller built itself, like the DSL's
 * re-key before a join), internal to it: like the repartition topics build
 * makes, the runtime may hand its records to their reader in memory, so they
 * need not all appear in the topic.  SL_E_INVAL after build. */
int sl_topo_set_internal(sl_topo_t *t, const char *topic);
/* A repartition topic or one declared with sl_topo_set_internal. */
bool sl_topo_topic_is_internal(const sl_topo_t *t, const char *topic);

/* Append a readable description to *out (one line per node, grouped by
 * sub-topology, like Kafka Streams' describe()).  0 or SL_E_NOMEM. */
int sl_topo_describe(const sl_topo_t *t, sl_buf_t *out);

/* ---- test driver ---------------------------------------------------------------------------------
 * Runs every sub-topology of a built topology for partition 0, in-process.
 * Records a sink writes to a repartition topic (or to a topic a source reads)
 * are processed by the reading sub-topology right after the record that
 * produced them, before sl_driver_pipe returns.  State lives in an LMDB
 * environment in `dir`; sl_driver_commit checkpoints it (with the input
 * offsets and stream times), and a driver opened over the same folder starts
 * from the last commit.  Output topics live in memory.  Each queued record is
 * one malloc: the driver is a test tool, the per-record path of the task it
 * drives does not allocate. */

typedef struct sl_driver sl_driver_t;

typedef enum sl_driver_flush {
    SL_DRIVER_FLUSH_ON_COMMIT = 0,   /* stateful operators forward at sl_driver_flush / commit only */
    SL_DRIVER_FLUSH_EVERY_RECORD = 1 /* flush after every record any task processes: every update shows */
} sl_driver_flush_t;

typedef struct sl_driver_opts {
    sl_driver_flush_t flush;
    int64_t wall_clock_ms;      /* starting wall clock (default 0) */
    int64_t commit_interval_ms; /* > 0: sl_driver_advance_time commits when this much wall time has
                                 * passed since the last commit; 0 (default): only when asked */
    const char *dlq_topic;      /* dead-letter topic; NULL: "<app>-dlq" */
    bool sync;                  /* fsync checkpoints (default false: process-crash safe only) */
} sl_driver_opts_t;

void sl_driver_opts_default(sl_driver_opts_t *o);

/* Open a driver over a BUILT topology with its state in folder `dir` (created
 * if missing).  opts may be NULL.  The topology must outlive the driver.
 * Caller closes *out. */
int sl_driver_new(const sl_topo_t *t, const char *dir, const sl_driver_opts_t *opts, sl_driver_t **out,
                  sl_err_t *err);
/* Close without committing: updates since the last commit are lost, as in a
 * crash.  NULL is a no-op. */
void sl_driver_close(sl_driver_t *d);

/* Feed one record (bytes copied as needed; key_len / value_len -1 for null)
 * into `topic`, then process everything it causes downstream.  A record that
 * fails goes to the dead-letter topic and this returns 0; an error return
 * (SL_E_NOTFOUND: no source reads the topic; SL_E_STORE, SL_E_NOMEM: fatal)
 * leaves the driver usable only for close. */
int sl_driver_pipe(sl_driver_t *d, const char *topic, const void *key, int32_t key_len, const void *value,
                   int32_t value_len, int64_t timestamp, sl_err_t *err);
/* The same with a whole record (headers included). */
int sl_driver_pipe_rec(sl_driver_t *d, const char *topic, const sl_rec_t *rec, sl_err_t *err);

/* Flush every store's cache: stateful operators forward their coalesced updates
 * (and whatever those cause) now. */
int sl_driver_flush(sl_driver_t *d, sl_err_t *err);
/* Flush, then checkpoint: state, input offsets and stream times in one LMDB
 * transaction. */
int sl_driver_commit(sl_driver_t *d, sl_err_t *err);

/* Move the wall clock forward (stream time moves only with records), then
 * commit if commit_interval_ms has passed.  Returns what the commit returned. */
int sl_driver_advance_time(sl_driver_t *d, int64_t ms, sl_err_t *err);
int64_t sl_driver_wall_time(const sl_driver_t *d);
/* Move every task's stream time forward to t without a record, as the
 * runtime does for an idle source (sl_runtime_opts.idle_timeout_ms): windows
 * and join results that close by t are forwarded (emit final), and what they
 * cause downstream is processed.  A task already past t is left alone. */
int sl_driver_advance_stream_time(sl_driver_t *d, int64_t t, sl_err_t *err);
/* Stream time (largest timestamp seen) of the task running `node`; -1 before
 * any record (or SL_E_NOTFOUND for an unknown node: check the node name). */
int64_t sl_driver_stream_time(const sl_driver_t *d, const char *node);

/* Take the oldest unread record a sink wrote to `topic` (or the dead-letter
 * topic, whose records carry headers "sl.error" and "sl.node").  Returns 1 with
 * *out filled (pointers valid until the next sl_driver_read or close), 0 when
 * there is none. */
int sl_driver_read(sl_driver_t *d, const char *topic, sl_rec_t *out);
/* Unread records in `topic`. */
size_t sl_driver_queued(const sl_driver_t *d, const char *topic);
/* Records piped into `topic` since the state was created: restored from the
 * last commit when a driver reopens a folder. */
int64_t sl_driver_input_offset(const sl_driver_t *d, const char *topic);

/* Read `key` from store `store` (the writer view: includes uncommitted
 * updates), copying the value into *val (reset first).  SL_E_NOTFOUND when the
 * store or key does not exist. */
int sl_driver_store_get(sl_driver_t *d, const char *store, const void *key, size_t key_len, sl_buf_t *val);
/* Number of keys in a store (writer view). */
int sl_driver_store_count(sl_driver_t *d, const char *store, uint64_t *n);

/* Counters of one node (SL_E_NOTFOUND for an unknown node), or summed over
 * every node. */
int sl_driver_node_stats(const sl_driver_t *d, const char *node, sl_op_stats_t *out);
void sl_driver_stats(const sl_driver_t *d, sl_op_stats_t *out);

/* ---- partitioner ----------------------------------------------------------------------------------
 * Kafka's default partitioner for keyed records, so that the runtime, Java and
 * librdkafka producers put a key in the same partition: murmur2 (seed
 * 0x9747b28c) of the key bytes, made positive with & 0x7fffffff, modulo the
 * partition count. */
int32_t sl_murmur2(const void *key, size_t len);
int32_t sl_partition_for_key(const void *key, size_t len, int32_t partitions);

/* ---- runtime over partition logs (engine/runtime*.c) ------------------------------------------
 * Runs a built topology over partition logs with worker threads and
 * exactly-once output.  Sources read and sinks append through sl_rt_logs_t, a
 * vtable: sl_rt_logs_embedded opens the embedded broker's logs from a data
 * folder (no socket); a Kafka-client implementation can be added beside it.
 * Records move as Kafka RecordBatch v2 bytes (broker/broker.h). */

typedef struct sl_rt_logs {
    void *ctx;
    /* Partition count of `topic`: 0, or SL_E_NOTFOUND when it does not exist. */
    int (*partitions)(void *ctx, const char *topic, int32_t *n, sl_err_t *err);
    int (*create_topic)(void *ctx, const char *topic, int32_t partitions, sl_err_t *err);
    /* A handle on one partition, owned by ctx (valid until destroy); thread-safe. */
    int (*open)(void *ctx, const char *topic, int32_t partition, void **part, sl_err_t *err);
    /* Append to out whole batches holding records >= offset that are durable
     * (below the high watermark), about max_bytes.  Nothing when caught up. */
    int (*read)(void *part, int64_t offset, size_t max_bytes, sl_buf_t *out, sl_err_t *err);
    /* Append one RecordBatch v2 (the producer id and sequence in it are kept). */
    int (*append)(void *part, const uint8_t *batch, size_t len, sl_err_t *err);
    /* Return once everything appended so far is durable. */
    int (*sync)(void *part, sl_err_t *err);
    /* 1 when a batch of producer_id with base_sequence is in the log at an
     * offset >= from_offset, 0 when not, < 0 on error. */
    int (*find_batch)(void *part, int64_t from_offset, int64_t producer_id, int32_t base_sequence, sl_err_t *err);
    int64_t (*end_offset)(void *part);   /* next offset to be assigned */
    int64_t (*readable_end)(void *part); /* the high watermark: read() returns records below it */
    void (*destroy)(void *ctx);
    /* Optional (NULL: create_topic): create a topic internal to a job
     * (repartition, re-key), whose records must stay until their reader has
     * them whatever their timestamps: no time or size retention. */
    int (*create_internal_topic)(void *ctx, const char *topic, int32_t partitions, sl_err_t *err);
    /* Optional: drop the records below `before` (Kafka's DeleteRecords), for
     * purging internal topics whose records every task is done with. */
    int (*trim)(void *part, int64_t before, sl_err_t *err);
} sl_rt_logs_t;

/* The embedded implementation: topics from the registry in `data_dir`, logs in
 * <data_dir>/topics/<topic>-<partition>, opened on first use.  Not for a data
 * folder that an sl_broker_t of this process serves (it has the logs open).
 * Caller frees *out with sl_rt_logs_free. */
int sl_rt_logs_embedded(const char *data_dir, sl_rt_logs_t **out, sl_err_t *err);
/* The same over a broker of this process (sluice run): topics and logs are the
 * broker's, so Kafka clients feed the job's inputs and read its outputs while
 * it runs; appends wake their long-poll fetches.  The broker must outlive it. */
int sl_rt_logs_broker(sl_broker_t *broker, sl_rt_logs_t **out, sl_err_t *err);
void sl_rt_logs_free(sl_rt_logs_t *logs); /* NULL is a no-op */

typedef struct sl_runtime sl_runtime_t;

typedef struct sl_runtime_opts {
    const char *state_dir;      /* LMDB state: one environment per task in <state_dir>/task-<sub>_<partition> */
    sl_rt_logs_t *logs;         /* sources and sinks (borrowed; must outlive the runtime) */
    int threads;                /* worker threads; 0: number of cores (never more than tasks) */
    int64_t commit_interval_ms; /* default 100 */
    int64_t idle_timeout_ms;    /* > 0: a task without input for this long advances its stream time by
                                 * the wall clock; default 0: stream time moves with records only */
    const char *dlq_topic;      /* NULL: "<app>-dlq" */
    int32_t partitions;         /* topics the runtime creates (repartition, outputs, dead letters);
                                 * 0: the most partitions of any source topic */
    size_t max_poll_bytes;      /* bytes read per source per poll (default 256 KiB) */
    bool sync;                  /* fsync state checkpoints (default true) */
    int64_t purge_interval_ms;  /* how often a task drops from internal topics what it and their writers are
                                 * done with (Kafka Streams' repartition.purge.interval.ms); default 30000 */
} sl_runtime_opts_t;

void sl_runtime_opts_default(sl_runtime_opts_t *o);

/* Open every task (sub-topology x partition; the source topics of a
 * sub-topology must have equal partition counts, the same rule as Kafka's
 * co-partitioning), restore each from its last checkpoint and re-publish the
 * outputs that checkpoint holds which are not in their logs yet.  Creates
 * missing repartition, output and dead-letter topics.  The topology and
 * opts->logs must outlive the runtime.  Caller closes *out. */
int sl_runtime_new(const sl_topo_t *t, const sl_runtime_opts_t *opts, sl_runtime_t **out, sl_err_t *err);
/* Start the worker threads. */
int sl_runtime_start(sl_runtime_t *rt, sl_err_t *err);
/* Ask the workers to stop (any thread; async-signal-safe). */
void sl_runtime_request_stop(sl_runtime_t *rt);
/* Stop the workers, commit every task, join.  Returns the first fatal error of
 * any task (its message in err), or 0. */
int sl_runtime_stop(sl_runtime_t *rt, sl_err_t *err);
/* start, wait for sl_runtime_request_stop (or a fatal error), then stop. */
int sl_runtime_run(sl_runtime_t *rt, sl_err_t *err);
/* True when every task has committed everything its inputs hold (checked
 * twice, so records in flight through repartition topics count). */
bool sl_runtime_caught_up(sl_runtime_t *rt);
/* True when every task has processed everything its inputs hold, committed
 * or not (the next commit, or sl_runtime_stop, commits it); checked twice. */
bool sl_runtime_drained(sl_runtime_t *rt);

typedef struct sl_runtime_stats {
    uint64_t records_in;     /* records processed */
    uint64_t records_out;    /* records published to sink topics (dead letters included) */
    uint64_t dead_lettered;
    uint64_t commits;        /* task checkpoints */
    uint64_t commit_us;      /* time spent in them (flush, LMDB commit, publishing), all tasks; a
                              * reader committed inside its writer's commit counts once */
    uint64_t republished;    /* batches re-published at open after a crash */
    int tasks, threads;
} sl_runtime_stats_t;
void sl_runtime_stats(sl_runtime_t *rt, sl_runtime_stats_t *out);
/* Stop if running, free everything.  NULL is a no-op. */
void sl_runtime_close(sl_runtime_t *rt);

/* ---- queries over a running runtime (engine/runtime_query.c) -------------------------------------
 * The runtime's queryable tables, for a query server on another thread: the
 * stores of the topology's table sources and aggregations (the buffers of
 * stream-stream joins are not tables).  A table is partitioned like its
 * sub-topology: partition p is store "<name>:<p>" in the LMDB environment of
 * task (sub, p).  Every function here is thread-safe from sl_runtime_new until
 * sl_runtime_close and never blocks the workers; read the stores only through
 * snapshots (sl_snap_begin on the environment returned), which show committed
 * state only. */
typedef struct sl_rt_table {
    const char *name;      /* the store name (a DSL job: the table's name); valid until sl_runtime_close */
    const char *node;      /* the topology node that owns the store */
    sl_store_kind_t kind;
    int32_t partitions;    /* tasks holding a partition of the table */
    bool raw_values;       /* a table source: values are the records' bytes as produced (JSON text,
                            * strings); otherwise msgpack (aggregations) */
} sl_rt_table_t;

/* Number of tables; table i (0 or SL_E_NOTFOUND past the end). */
size_t sl_runtime_table_count(const sl_runtime_t *rt);
int sl_runtime_table(const sl_runtime_t *rt, size_t i, sl_rt_table_t *out);
/* Index of the table called `name`, or SL_E_NOTFOUND. */
int sl_runtime_table_find(const sl_runtime_t *rt, const char *name);
/* Partition `partition` of table i: the task's environment (for snapshots)
 * and the store handle, both owned by the runtime.  SL_E_NOTFOUND when there
 * is no such table or partition. */
int sl_runtime_table_part(sl_runtime_t *rt, size_t i, int32_t partition, sl_env_t **env, sl_store_t **store);

/* ---- runtime observability (engine/runtime_stats.c) ------------------------------------------
 * Read from any thread while the workers run: every number is an atomic the
 * task's own thread publishes (input offsets, counters) or a file size. */

/* One input partition of one task. */
typedef struct sl_runtime_input {
    int sub, partition;   /* the task (sub-topology, partition) */
    const char *topic;    /* borrowed from the topology */
    int64_t committed;    /* next offset to process after the last commit */
    int64_t end;          /* the log's readable end (high watermark) */
} sl_runtime_input_t;
/* Fill out[0 .. min(cap, total)) with the inputs of every task, in task
 * order; returns the total (call with cap 0 to size the array). */
size_t sl_runtime_inputs(sl_runtime_t *rt, sl_runtime_input_t *out, size_t cap);

/* Commit (checkpoint) latency over every task since open: a log-scale
 * histogram with 4 buckets per power of two of microseconds. */
#define SL_RT_LAT_BUCKETS 160
typedef struct sl_runtime_latency {
    uint64_t count;
    uint64_t sum_us, max_us;
    uint64_t buckets[SL_RT_LAT_BUCKETS];
} sl_runtime_latency_t;
void sl_runtime_commit_latency(sl_runtime_t *rt, sl_runtime_latency_t *out);
/* The q-quantile (0 < q <= 1) in microseconds, interpolated inside its bucket
 * (about 19% resolution), clamped to max_us; 0 when count is 0. */
double sl_runtime_latency_quantile(const sl_runtime_latency_t *l, double q);
/* Histogram bucket of a latency (exposed for tests). */
int sl_runtime_latency_bucket(uint64_t us);

/* Late records (windows and stream-stream joins, summed over nodes) as of each
 * task's last commit. */
uint64_t sl_runtime_late_records(sl_runtime_t *rt);

/* State stores of one task: its LMDB environment's data file and map size. */
typedef struct sl_runtime_store_size {
    int sub, partition;
    int64_t file_bytes; /* <state_dir>/task-SUB_PARTITION/data.mdb on disk (-1: not found) */
    int64_t map_bytes;  /* the LMDB map size as of the last commit */
} sl_runtime_store_size_t;
/* Same convention as sl_runtime_inputs (one entry per task). */
size_t sl_runtime_store_sizes(sl_runtime_t *rt, sl_runtime_store_size_t *out, size_t cap);
/* "running" while the workers run, "failed" after a fatal error (its message
 * copied into err when given), else "stopped".  A static string. */
const char *sl_runtime_state(sl_runtime_t *rt, sl_err_t *err);

#endif
