/* Internal to engine/: the runtime's data structures, shared by runtime.c
 * (topics, worker threads, lifecycle) and runtime_task.c (one task over its
 * input and output partitions: poll, sink, checkpoint, re-publish). */
#ifndef SL_ENGINE_RUNTIME_H
#define SL_ENGINE_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>

#include "broker/broker.h"
#include "engine/topo.h"

typedef struct rt_topic {
    char *name;
    int32_t partitions;
    void **parts; /* one handle per partition, from sl_rt_logs_t.open */
} rt_topic_t;

/* One input partition of a task. */
typedef struct rt_src {
    const char *topic;
    bool internal;             /* an internal topic of this runtime: purged (see rt_task_purge) */
    int64_t purged;            /* records below this were dropped from the log */
    int source;                /* for sl_task_process */
    void *part;
    int64_t offset;            /* next offset to process */
    _Atomic int64_t polled;    /* offset as of the end of the last poll (sl_runtime_drained) */
    _Atomic int64_t committed; /* offset covered by the last commit, whose outputs are published */
} rt_src_t;

/* One output partition a task may write: its batch in progress and the next
 * sequence number of the task's producer id on it. */
struct rt_task;

typedef struct rt_out {
    struct rt_task *owner; /* the task writing it */
    int topic; /* index in sl_runtime.topics */
    int32_t partition;
    void *part;
    struct rt_task *direct; /* a repartition partition whose reader runs on this worker: records are
                             * handed to it (sl_task_process) instead of going through the log */
    int direct_src;         /* that reader's source index for this topic */
    struct rt_applied *applied; /* this task's entry in direct->applied (made when linking, after which
                                 * that array no longer moves) */
    sl_batch_builder_t b;
    bool open;
    bool touched; /* appended to since the last sync */
    _Atomic int64_t ckpt_end; /* the log's end when the last checkpoint was taken: after a crash this task
                               * looks for its batches from there (readers purge only below it) */
    int64_t skip_below; /* replayable tasks: sequences below this are in the log already (a replay) */
    bool caught_up;     /* direct: seq is past the reader's watermark and skip_below, for good */
    int64_t seq;
} rt_out_t;

/* A topic the task's sinks (or dead letters) write: its outputs are
 * outs[base .. base + partitions). */
typedef struct rt_sink {
    const char *name; /* the topology's string: sinks pass this pointer */
    int topic;
    int32_t partitions;
    size_t base;
} rt_sink_t;

/* A finished batch waiting for the checkpoint that will hold it. */
typedef struct rt_pending {
    size_t out;
    int64_t seq;
    int32_t count;
    int64_t from_offset; /* the output log's end when the checkpoint was taken */
    size_t off, len;     /* bytes in rt_task.outbox */
} rt_pending_t;

/* Hand-off watermark: records of producer pid with sequence < next are in
 * this task's state (handed over directly, see rt_out.direct). */
typedef struct rt_applied {
    int64_t pid;
    int64_t next;
} rt_applied_t;

/* A task with several inputs reads a chunk of each and processes their
 * records in timestamp order (runtime_task.c, poll_merged). */
typedef struct rt_cursor {
    sl_buf_t buf;
    size_t pos;          /* next batch in buf */
    sl_batch_iter_t it;
    bool in_batch, have; /* have: r is the input's next record */
    int64_t batch_end;   /* the batch's last offset + 1 */
    int64_t skip_below;  /* see poll_batch */
    sl_record_t r;
    /* r's event time (the order of the merge) and, when the source has a
     * timestamp function that took it, r's headers for that call */
    int64_t ets;
    bool ets_known;
    sl_rec_header_t *hv;
    size_t cap_hv;
} rt_cursor_t;

/* Records handed to a task by producers on its worker (rt_out.direct),
 * waiting to go through it in one run: its producer drains the queue when it
 * fills, at the end of each input batch it polls and before it commits, so
 * the queue is empty whenever anything else runs on the worker.  A record's
 * bytes are borrowed when they lie in the producer's polled input (which stays
 * put until then), else copied into the arena. */
#define RT_INQ_RECS 256
#define RT_INQ_ARENA (64u * 1024)

typedef struct rt_inq {
    int src;           /* the reader's source index for the topic */
    size_t n, used;    /* records queued, arena bytes used */
    sl_rec_t recs[RT_INQ_RECS];
    uint8_t arena[RT_INQ_ARENA];
} rt_inq_t;

typedef struct rt_task {
    sl_runtime_t *rt;
    int sub, partition;
    int worker;
    int64_t pid; /* producer id stamped on every batch this task writes */
    sl_env_t *env;
    sl_task_t *task;
    sl_codec_t *codec;
    rt_src_t *srcs;
    size_t n_srcs;
    rt_out_t *outs;
    size_t n_outs;
    rt_sink_t *sinks; /* the topics the task's sinks write, and the dead-letter topic */
    size_t n_sinks;
    size_t dlq_sink;  /* index in sinks of the dead-letter topic */
    size_t last_sink; /* the sink on_sink matched last */
    sl_buf_t outbox;
    rt_pending_t *pend;
    size_t n_pend, cap_pend;
    sl_buf_t meta;
    sl_header_t *hdrs; /* output header conversion, reused */
    size_t cap_hdrs;
    bool dirty;        /* processed records since the last commit */
    bool replayable;   /* no stores but emit-final windows: a replay yields the same records, so outputs are appended
                        * before the checkpoint instead of being held in it (see runtime_task.c) */
    struct rt_task **down; /* tasks this one hands records to: committed before it */
    size_t n_down;
    rt_inq_t *inq;         /* records handed to this task, not yet processed (NULL: nothing hands over) */
    const uint8_t *in_lo, *in_hi; /* while polling one input: the bytes read, which hand-offs may borrow */
    rt_applied_t *applied; /* per upstream producer handing records to this task */
    rt_cursor_t *cursors;  /* one per input when there are several (allocated at first poll) */
    struct rt_task ***writers; /* per input: NULL-terminated tasks of this runtime writing its topic
                                * (internal topics; NULL otherwise), set by rt_link_hand_offs */
    size_t n_applied;
    uint64_t handed_in;    /* records handed to this task since its last poll bookkeeping */
    uint64_t adds;     /* records added to output batches (dead letters too) */
    int64_t last_input_wall, stream_time_at_input;
    int64_t last_purge_wall;
    int fatal;
    sl_err_t fatal_err;
    _Atomic uint64_t records_in, records_out, dead_lettered, commits;
    /* runtime_stats.c: published at each commit by rt_stats_commit_done */
    _Atomic uint64_t lat[SL_RT_LAT_BUCKETS], lat_sum_us, lat_max_us, late;
    _Atomic uint64_t own_us;  /* time in commits less the readers' commits nested in them */
    int64_t nested_ns;        /* this commit's part spent committing its readers (t->down) */
    _Atomic int64_t map_bytes;
} rt_task_t;

typedef struct rt_worker {
    sl_runtime_t *rt;
    pthread_t thread;
    bool started;
    rt_task_t **tasks;
    size_t n_tasks;
    sl_buf_t rbuf;
    sl_batch_iter_t it;
    sl_rec_header_t *hv; /* input header conversion, reused */
    size_t cap_hv;
} rt_worker_t;

struct sl_runtime {
    const sl_topo_t *topo;
    sl_runtime_opts_t opts;
    sl_rt_logs_t *logs;
    char *state_dir;
    char *dlq;
    rt_topic_t *topics;
    size_t n_topics;
    rt_task_t *tasks;
    size_t n_tasks;
    rt_worker_t *workers;
    int n_workers;
    bool running;
    atomic_int stop;
    pthread_mutex_t mu; /* the first fatal error */
    int fatal;
    sl_err_t fatal_err;
    _Atomic uint64_t republished;
};

/* Index of topic `name` in rt->topics, or -1. */
int rt_topic_find(const sl_runtime_t *rt, const char *name);
/* Partitions (= tasks) of sub-topology `sub`: its source topics must agree. */
int rt_sub_partitions(const sl_runtime_t *rt, int sub, int32_t *out, sl_err_t *err);

/* Open task (sub, partition): its LMDB environment, operators, inputs and
 * outputs; restore the last checkpoint and re-publish what it holds that is
 * not in the output logs.  rt_task_close frees what this made (also after a
 * failure). */
int rt_task_open(sl_runtime_t *rt, rt_task_t *t, int sub, int partition, sl_err_t *err);
void rt_task_close(rt_task_t *t);
/* Read and process what is available on each input; returns the number of
 * records processed or a negative code (fatal, message in err). */
int rt_task_poll(rt_worker_t *w, rt_task_t *t, sl_err_t *err);
/* Flush, checkpoint (state + input offsets + output batches), publish. */
int rt_task_commit(rt_task_t *t, sl_err_t *err);
/* After every task is open and on its worker: link each output partition of
 * an internal repartition topic whose reading task runs on the same worker,
 * so records are handed over in memory (no log round trip).  See
 * runtime_task.c for when this is exactly-once. */
int rt_link_hand_offs(sl_runtime_t *rt, sl_err_t *err);
/* Drop from each internal input what this task has committed and every task
 * writing it could still look for after a crash (its last checkpoint's log
 * end): at most every purge_interval_ms. */
int rt_task_purge(rt_task_t *t, int64_t now, sl_err_t *err);
/* runtime_stats.c: after a successful commit that began at sl_mono_ns() ==
 * start_ns, record its latency and publish the task's late count and map size
 * (task thread). */
void rt_stats_commit_done(rt_task_t *t, int64_t start_ns);

#endif
