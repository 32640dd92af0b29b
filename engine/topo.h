/* Internal to engine/: the topology graph as sl_topo_build leaves it, and the
 * task (one sub-topology for one partition) that runs it.  topology.c builds
 * and validates, task.c executes, driver.c (and later the broker runtime)
 * feeds tasks and receives what their sinks write. */
#ifndef SL_ENGINE_TOPO_H
#define SL_ENGINE_TOPO_H

#include "engine/engine.h"

typedef enum node_role {
    NODE_SOURCE = 1, /* reads topics; its op is pass (stream) or table */
    NODE_OP,
    NODE_SINK,       /* writes topics[0] */
} node_role_t;

typedef struct topo_edge {
    int node; /* index in sl_topo.nodes */
    int port; /* output port of the parent (branch outputs), else 0 */
} topo_edge_t;

typedef struct topo_node {
    char *name;
    node_role_t role;
    sl_op_spec_t spec;       /* sources and operators; sinks: kind 0 */
    char **topics;           /* sources: topics read; sinks: topics[0] written */
    size_t n_topics;
    char *store;             /* stateful kinds */
    sl_source_opts_t src;    /* sources */
    char **parent_names;     /* as given to the add call */
    int *parent_ports;
    size_t n_parents;
    topo_edge_t *parents;    /* resolved by build */
    topo_edge_t *children;   /* built by build */
    size_t n_children;
    bool internal;           /* repartition sink / source made by build */
    bool branch_output;      /* a pass node made by sl_topo_add_branch */
    int sub;                 /* sub-topology */
    sl_join_spec_t *join;    /* a join node: its spec, owned (store names too); build splits it
                              * into one SL_OP_JOIN node per side, "<join>#left" / "#right" */
} topo_node_t;

struct sl_topo {
    char *app_id;
    topo_node_t *nodes;
    size_t n_nodes, cap_nodes;
    char **repartition;      /* internal topic names */
    size_t n_repartition;
    char **internal;         /* topics the caller declared internal (sl_topo_set_internal) */
    size_t n_internal;
    int n_sub;
    bool built;
    int add_rc;              /* first failure of an add call */
    sl_buf_t add_errors;     /* their messages, for build */
};

/* Index of the node named `name`, or -1. */
int topo_find(const sl_topo_t *t, const char *name);
/* What a node is, as sl_topo_describe prints it: "source", "table", "sink",
 * "join", "merge", "branch output" or the operator's kind ("count", ...). */
const char *topo_node_kind(const topo_node_t *n);

/* ---- tasks ------------------------------------------------------------------------------------ */

typedef struct sl_task sl_task_t;

/* What a task needs from whoever runs it.  Both callbacks run on the task's
 * thread during sl_task_process or a flush; records are borrowed. */
/* A sink writes rec to topic; non-zero is fatal (the task stops). */
typedef int (*sl_task_sink_fn)(void *arg, const char *topic, const sl_rec_t *rec, sl_err_t *err);

typedef struct sl_task_io {
    sl_task_sink_fn sink;
    /* rec failed at node for the reason in err; the task goes on. */
    void (*dead_letter)(void *arg, const char *node, const sl_rec_t *rec, const sl_err_t *err);
    void *arg;
} sl_task_io_t;

/* Create the task running sub-topology `sub` for `partition`, opening its
 * stores ("<store>:<partition>") in env.  Caller frees it with sl_task_free
 * (before closing env). */
int sl_task_new(const sl_topo_t *t, int sub, int partition, sl_env_t *env, const sl_task_io_t *io,
                sl_task_t **out, sl_err_t *err);
void sl_task_free(sl_task_t *task);

/* From now on the task's sinks writing `topic` call fn(arg, ...) instead of
 * io.sink: for a runner that knows where their records go (one partition,
 * handed over in memory), so that a record costs one call and no lookup.
 * Returns how many sink nodes write the topic. */
int sl_task_set_sink(sl_task_t *task, const char *topic, sl_task_sink_fn fn, void *arg);

/* Index of the task's source reading `topic` (give it to sl_task_process), or -1. */
int sl_task_source(const sl_task_t *task, const char *topic);

/* Process one record read from source `source` depth-first: timestamp, stream
 * time, then every operator down to the sinks.  A failing record is
 * dead-lettered and gives 0; a non-zero return is fatal. */
int sl_task_process(sl_task_t *task, int source, const sl_rec_t *rec, sl_err_t *err);

/* sl_task_process of recs[0..n) in order, from one source.  When the source
 * node feeds a single operator that takes runs (count's counter table), the
 * records go to it in one call: stream time moves to the run's largest
 * timestamp first (that operator reads it only when it forwards at a flush).
 * Otherwise, one at a time. */
int sl_task_process_run(sl_task_t *task, int source, const sl_rec_t *recs, size_t n, sl_err_t *err);

/* The event time sl_task_process would give rec: its source's timestamp
 * function's (true), or the record's own timestamp when the source has none
 * (false).  When the function fails, *ts is the record's timestamp and
 * *ok false (sl_task_process will dead-letter the record). */
bool sl_task_event_time(const sl_task_t *task, int source, const sl_rec_t *rec, int64_t *ts, bool *ok);
/* sl_task_process with the event time already taken (sl_task_event_time, ok). */
int sl_task_process_at(sl_task_t *task, int source, const sl_rec_t *rec, int64_t ts, sl_err_t *err);

/* Before an sl_env_flush or a read of a store: operators write what they hold
 * outside their stores into them (count's counter table).  Returns how many
 * entries were written, or a negative SL_E_* (fatal for the task). */
int sl_task_sync(sl_task_t *task, sl_err_t *err);

/* sl_task_sync, then sl_env_flush of the task's environment, again while the
 * updates forwarded by a flush reach operators holding them (at most 16 rounds).
 * 0 or the failing statestore / SL_E_* code. */
int sl_task_flush(sl_task_t *task, sl_err_t *err);

/* After an sl_env_flush: a fatal error raised while stateful operators
 * forwarded their updates (0 when none). */
int sl_task_check(sl_task_t *task, sl_err_t *err);

int sl_task_subtopology(const sl_task_t *task);
int64_t sl_task_stream_time(const sl_task_t *task);
void sl_task_set_stream_time(sl_task_t *task, int64_t t);
/* Move stream time forward to t without a record (an idle source): every
 * operator forwards what closes by time alone (emit-final windows, unmatched
 * join results), depth-first like records.  No-op unless t > stream time.
 * Returns 1 when it moved, 0 when not, or a fatal code. */
int sl_task_advance(sl_task_t *task, int64_t t, sl_err_t *err);
/* Counters of topology node `node_index` when this task runs it, else NULL. */
const sl_op_stats_t *sl_task_stats(const sl_task_t *task, int node_index);

#endif
