/* A task: one sub-topology running for one partition.  It instantiates the
 * sub-topology's operators (opening their stores as "<store>:<partition>"),
 * and pushes each input record depth-first through them: an operator's emit
 * calls its children directly, so there is no queue and no allocation between
 * operators.  Record-level failures are dead-lettered at the node where they
 * happen; the task tracks stream time, the largest timestamp it has read. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/topo.h"
#include "operators/op.h"

typedef struct tnode tnode_t;

/* An edge goes straight to the first node past the forwarding nodes
 * (sources, window specs, group_by of the existing key) that follow its child
 * one after another: those are counted as if they ran, without a call each. */
#define EDGE_SKIP_MAX 4

typedef struct tedge {
    tnode_t *to;
    int port;
    uint8_t n_skip;
    tnode_t *skip[EDGE_SKIP_MAX]; /* the forwarding nodes on the way, in order */
} tedge_t;

struct tnode {
    sl_emit_t emit; /* first: the operators' sl_emit_t* is this node */
    /* A sink's writer (io.sink, or sl_task_set_sink's), and that of the sink
     * a forward_to_sink node feeds: next to emit, so a record on its way out
     * loads them from the node it is at, with no chain of pointers. */
    sl_task_sink_fn sink;
    void *sink_arg;
    const char *sink_topic;
    sl_task_t *task;
    const topo_node_t *def;
    sl_op_t *op;    /* NULL for sinks */
    uint8_t pass;   /* NODE_PASS or NODE_KEYED: node_process forwards without calling the op */
    sl_op_stats_t stats;
    tedge_t *out;
    size_t n_out;
    char store_name[SL_STORE_MAX_NAME + 1];
};

enum {
    NODE_RUN,   /* runs its operator */
    NODE_PASS,  /* forwards every record: sources, merges, window specs */
    NODE_KEYED, /* group_by of the existing key: forwards records that have one, drops the others */
};

typedef struct tsource {
    const char *topic;
    tnode_t *node;
} tsource_t;

struct sl_task {
    const sl_topo_t *topo;
    int sub, partition;
    sl_env_t *env;
    sl_task_io_t io;
    int64_t stream_time;
    tnode_t *nodes;   /* this sub-topology's nodes, in topology order */
    size_t n_nodes;
    tnode_t **by_index; /* topology node index -> node here, or NULL */
    tsource_t *sources;
    size_t n_sources;
    int fatal_rc;     /* first fatal error inside the chain, with its message */
    sl_err_t fatal_err;
    bool has_ttl;     /* some operator has a ttl: tick them before each record */
};

/* ---- the depth-first chain -------------------------------------------------------------------- */

static int node_process(tnode_t *n, const sl_rec_t *rec);
static int node_failed(tnode_t *n, const sl_rec_t *rec, int rc, sl_err_t *err);
static void dead_letter(tnode_t *n, const sl_rec_t *rec, sl_err_t *err);

/* The forwarding nodes edge e skips count rec; false when a group_by of the
 * existing key among them drops it for having no key (as node_process would). */
static inline bool edge_skip(const tedge_t *e, const sl_rec_t *rec)
{
    for (uint8_t k = 0; k < e->n_skip; k++) {
        tnode_t *s = e->skip[k];
        s->stats.records_in++;
        if (s->pass == NODE_KEYED && rec->key_len < 0) {
            s->stats.dropped_null_key++;
            return false;
        }
    }
    return true;
}

/* Down edge e: past the nodes it skips, its node runs. */
static inline int edge_process(const tedge_t *e, const sl_rec_t *rec)
{
    return edge_skip(e, rec) ? node_process(e->to, rec) : 0;
}

/* sl_emit_t of a node with one edge, which goes to a sink: node_forward,
 * edge_process and node_process of the sink in one call (the hop every
 * record takes on its way out of a task). */
static int forward_to_sink(sl_emit_t *em, int port, const sl_rec_t *rec)
{
    tnode_t *n = (tnode_t *)em;
    const tedge_t *e = &n->out[0];
    if (port != e->port)
        return port < 0 || port >= n->def->spec.n_outputs ? SL_E_RECORD : 0;
    if (!edge_skip(e, rec))
        return 0;
    sl_err_t err;
    err.msg[0] = '\0';
    e->to->stats.records_in++;
    int rc = n->sink(n->sink_arg, n->sink_topic, rec, &err);
    return rc ? node_failed(e->to, rec, rc, &err) : 0;
}

/* sl_emit_t of node n: run every child on `port`, in the order they were added. */
static int node_forward(sl_emit_t *e, int port, const sl_rec_t *rec)
{
    tnode_t *n = (tnode_t *)e;
    if (port < 0 || port >= n->def->spec.n_outputs)
        return SL_E_RECORD; /* a branch callback named an output that does not exist */
    for (size_t i = 0; i < n->n_out; i++) {
        if (n->out[i].port != port)
            continue;
        int rc = edge_process(&n->out[i], rec);
        if (rc)
            return rc;
    }
    return 0;
}

static void dead_letter(tnode_t *n, const sl_rec_t *rec, sl_err_t *err)
{
    if (!err->msg[0])
        sl_err_set(err, SL_E_RECORD, "node '%s': the record failed", n->def->name);
    n->stats.dead_lettered++;
    n->task->io.dead_letter(n->task->io.arg, n->def->name, rec, err);
}

/* Run one node on rec.  The error report lives on this frame (a few hundred
 * bytes of stack per level, no heap), so a message from deep downstream never
 * leaks into this node's. */
static int node_process(tnode_t *n, const sl_rec_t *rec)
{
    sl_err_t err;
    err.msg[0] = '\0';
    int rc;
    if (n->pass) {
        n->stats.records_in++;
        if (n->pass == NODE_KEYED && rec->key_len < 0) {
            n->stats.dropped_null_key++; /* as group_by_process: null keys cannot be grouped */
            return 0;
        }
        rc = node_forward(&n->emit, 0, rec);
    } else if (n->op) { /* sl_op_process, without the call: n->stats is the op's ctx.stats */
        n->stats.records_in++;
        rc = n->op->vt->process(n->op, rec, &err);
    } else {
        n->stats.records_in++;
        rc = n->sink(n->sink_arg, n->sink_topic, rec, &err);
    }
    return rc ? node_failed(n, rec, rc, &err) : 0;
}

/* Node n failed on rec with rc: dead-letter a record-level failure (0), or
 * record the first fatal one in the task (rc). */
static int node_failed(tnode_t *n, const sl_rec_t *rec, int rc, sl_err_t *err)
{
    if (rc == SL_E_RECORD) {
        dead_letter(n, rec, err);
        return 0;
    }
    if (!n->task->fatal_rc) {
        n->task->fatal_rc = rc;
        n->task->fatal_err = *err;
        if (!err->msg[0])
            sl_err_set(&n->task->fatal_err, rc, "node '%s': %s", n->def->name, sl_engine_strerror(rc));
    }
    return rc;
}

bool sl_task_event_time(const sl_task_t *task, int source, const sl_rec_t *rec, int64_t *ts, bool *ok)
{
    *ts = rec->timestamp;
    *ok = true;
    if (source < 0 || (size_t)source >= task->n_sources)
        return *ok = false;
    const tnode_t *n = task->sources[source].node;
    if (!n->def->src.timestamp)
        return false;
    sl_err_t e;
    e.msg[0] = '\0';
    int64_t t = rec->timestamp;
    if (n->def->src.timestamp(n->def->src.timestamp_arg, rec, &t, &e) < 0)
        *ok = false;
    else
        *ts = t;
    return true;
}

static int task_process(sl_task_t *task, int source, const sl_rec_t *rec, const int64_t *known_ts, sl_err_t *err)
{
    if (task->fatal_rc) {
        if (err)
            *err = task->fatal_err;
        return task->fatal_rc;
    }
    if (source < 0 || (size_t)source >= task->n_sources)
        return sl_err_set(err, SL_E_INVAL, "task %d_%d: no source %d", task->sub, task->partition, source);
    tnode_t *n = task->sources[source].node;
    /* rec itself unless the event time is not its timestamp (no copy: the
     * caller has just written it field by field, and a wide load of it stalls) */
    sl_rec_t r;
    const sl_rec_t *in = rec;
    sl_err_t rerr;
    rerr.msg[0] = '\0';
    if (known_ts || n->def->src.timestamp) {
        r = *rec;
        in = &r;
        if (known_ts) {
            r.timestamp = *known_ts;
        } else if (n->def->src.timestamp(n->def->src.timestamp_arg, rec, &r.timestamp, &rerr) < 0) {
            n->stats.records_in++;
            if (!rerr.msg[0])
                sl_err_set(&rerr, SL_E_RECORD, "node '%s': the timestamp function failed", n->def->name);
            dead_letter(n, rec, &rerr);
            return 0;
        }
    }
    if (in->timestamp < 0) {
        n->stats.records_in++;
        sl_err_set(&rerr, SL_E_RECORD, "node '%s': invalid timestamp %lld", n->def->name, (long long)in->timestamp);
        dead_letter(n, rec, &rerr);
        return 0;
    }
    if (in->timestamp > task->stream_time)
        task->stream_time = in->timestamp;
    for (size_t i = 0; task->has_ttl && i < task->n_nodes; i++) { /* expire before the record sees the state */
        tnode_t *tn = &task->nodes[i];
        sl_err_t e;
        sl_err_clear(&e);
        int trc = tn->op && tn->def->spec.ttl_ms > 0 ? sl_op_tick(tn->op, &e) : 0;
        if (trc) {
            task->fatal_rc = trc;
            task->fatal_err = e;
            if (err)
                *err = e;
            return trc;
        }
    }
    int rc;
    if (n->pass == NODE_PASS && n->n_out == 1) { /* a stream source: as node_process, one call fewer */
        n->stats.records_in++;
        rc = edge_process(&n->out[0], in);
    } else {
        rc = node_process(n, in);
    }
    if (rc && err)
        *err = task->fatal_err;
    return rc;
}

/* The op a run from source node n can go to in one call: n forwards every
 * record to exactly one child, which takes runs, and nothing in the task
 * ticks per record (TTL) or takes event time from the value. */
static tnode_t *run_target(const sl_task_t *task, const tnode_t *n)
{
    if (task->has_ttl || n->pass != NODE_PASS || n->n_out != 1 || n->out[0].n_skip || n->def->src.timestamp)
        return NULL;
    tnode_t *c = n->out[0].to;
    return c->pass == NODE_RUN && c->op && c->op->process_run ? c : NULL;
}

int sl_task_process_run(sl_task_t *task, int source, const sl_rec_t *recs, size_t n, sl_err_t *err)
{
    if (source < 0 || (size_t)source >= task->n_sources)
        return sl_err_set(err, SL_E_INVAL, "task %d_%d: no source %d", task->sub, task->partition, source);
    tnode_t *src = task->sources[source].node, *c = run_target(task, src);
    for (size_t i = 0; i < n;) {
        if (task->fatal_rc || !c || recs[i].timestamp < 0) { /* one at a time (task_process checks fatal) */
            int rc = task_process(task, source, &recs[i++], NULL, err);
            if (rc)
                return rc;
            continue;
        }
        size_t j = i;
        int64_t st = task->stream_time;
        for (; j < n && recs[j].timestamp >= 0; j++)
            st = recs[j].timestamp > st ? recs[j].timestamp : st;
        task->stream_time = st;
        src->stats.records_in += j - i;
        while (i < j) {
            sl_err_t e;
            e.msg[0] = '\0';
            int rc = 0;
            size_t k = c->op->process_run(c->op, recs + i, j - i, &rc, &e);
            c->stats.records_in += k;
            i += k;
            if (i == j)
                break;
            c->stats.records_in++; /* recs[i] failed: as node_process does with a failure */
            if (rc == SL_E_RECORD) {
                dead_letter(c, &recs[i++], &e);
                continue;
            }
            task->fatal_rc = rc;
            task->fatal_err = e;
            if (!e.msg[0])
                sl_err_set(&task->fatal_err, rc, "node '%s': %s", c->def->name, sl_engine_strerror(rc));
            if (err)
                *err = task->fatal_err;
            return rc;
        }
    }
    return 0;
}

int sl_task_sync(sl_task_t *task, sl_err_t *err)
{
    int total = 0;
    for (size_t i = 0; i < task->n_nodes; i++) {
        int rc = sl_op_sync(task->nodes[i].op, err);
        if (rc < 0) {
            task->fatal_rc = -rc;
            task->fatal_err = *err;
            return rc;
        }
        total += rc;
    }
    return total;
}

int sl_task_flush(sl_task_t *task, sl_err_t *err)
{
    for (int round = 0; round < 16; round++) {
        int n = sl_task_sync(task, err);
        if (n < 0)
            return -n;
        if (round > 0 && n == 0)
            return 0;
        int rc = sl_env_flush(task->env, err);
        if (rc)
            return rc;
    }
    return sl_err_set(err, SL_S_EBUSY, "task %d_%d: operators still updating their stores after 16 flushes",
                      task->sub, task->partition);
}

int sl_task_process(sl_task_t *task, int source, const sl_rec_t *rec, sl_err_t *err)
{
    return task_process(task, source, rec, NULL, err);
}

int sl_task_process_at(sl_task_t *task, int source, const sl_rec_t *rec, int64_t ts, sl_err_t *err)
{
    return task_process(task, source, rec, &ts, err);
}

int sl_task_advance(sl_task_t *task, int64_t t, sl_err_t *err)
{
    if (task->fatal_rc) {
        if (err)
            *err = task->fatal_err;
        return task->fatal_rc;
    }
    if (t <= task->stream_time)
        return 0;
    task->stream_time = t;
    for (size_t i = 0; i < task->n_nodes && !task->fatal_rc; i++) {
        tnode_t *n = &task->nodes[i];
        sl_err_t e;
        e.msg[0] = '\0';
        int rc = n->op ? sl_op_advance(n->op, &e) : 0;
        if (!rc && n->op && n->def->spec.ttl_ms > 0) /* entries past their ttl expire by time alone too */
            rc = sl_op_tick(n->op, &e);
        if (rc && !task->fatal_rc) {
            task->fatal_rc = rc;
            task->fatal_err = e;
            if (!e.msg[0])
                sl_err_set(&task->fatal_err, rc, "node '%s': %s", n->def->name, sl_engine_strerror(rc));
        }
    }
    if (task->fatal_rc) {
        if (err)
            *err = task->fatal_err;
        return task->fatal_rc;
    }
    return 1;
}

int sl_task_check(sl_task_t *task, sl_err_t *err)
{
    for (size_t i = 0; i < task->n_nodes && !task->fatal_rc; i++) {
        tnode_t *n = &task->nodes[i];
        sl_err_t e;
        int rc = n->op ? sl_op_take_error(n->op, &e) : 0;
        if (rc) {
            task->fatal_rc = rc;
            task->fatal_err = e;
        }
    }
    if (task->fatal_rc && err)
        *err = task->fatal_err;
    return task->fatal_rc;
}

/* ---- creation ------------------------------------------------------------------------------------ */

int sl_task_source(const sl_task_t *task, const char *topic)
{
    for (size_t i = 0; i < task->n_sources; i++)
        if (!strcmp(task->sources[i].topic, topic))
            return (int)i;
    return -1;
}

int sl_task_set_sink(sl_task_t *task, const char *topic, sl_task_sink_fn fn, void *arg)
{
    int found = 0;
    for (size_t i = 0; i < task->n_nodes; i++) {
        tnode_t *n = &task->nodes[i];
        const tnode_t *s = n->def->role == NODE_SINK ? n : n->emit.forward == forward_to_sink ? n->out[0].to : NULL;
        if (!s || strcmp(s->def->topics[0], topic) != 0)
            continue;
        n->sink = fn;
        n->sink_arg = arg;
        found += n == s;
    }
    return found;
}

int sl_task_subtopology(const sl_task_t *task) { return task->sub; }
int64_t sl_task_stream_time(const sl_task_t *task) { return task->stream_time; }
void sl_task_set_stream_time(sl_task_t *task, int64_t t) { task->stream_time = t; }

const sl_op_stats_t *sl_task_stats(const sl_task_t *task, int node_index)
{
    if (node_index < 0 || (size_t)node_index >= task->topo->n_nodes || !task->by_index[node_index])
        return NULL;
    return &task->by_index[node_index]->stats;
}

void sl_task_free(sl_task_t *task)
{
    if (!task)
        return;
    for (size_t i = 0; i < task->n_nodes; i++) {
        sl_op_close(task->nodes[i].op);
        free(task->nodes[i].out);
    }
    free(task->nodes);
    free(task->by_index);
    free(task->sources);
    free(task);
}

/* Open node i's operator (every node but sinks has one). */
static int node_open(sl_task_t *task, tnode_t *n, sl_err_t *err)
{
    if (n->def->role == NODE_SINK)
        return 0;
    sl_op_ctx_t ctx = {
        .node_name = n->def->name,
        .env = task->env,
        .stream_time = &task->stream_time,
        .out = &n->emit,
        .stats = &n->stats,
    };
    if (n->def->store) {
        int len = snprintf(n->store_name, sizeof n->store_name, "%s:%d", n->def->store, task->partition);
        if (len < 0 || (size_t)len >= sizeof n->store_name)
            return sl_err_set(err, SL_E_INVAL, "node '%s': store name '%s' is too long", n->def->name,
                              n->def->store);
        ctx.store_name = n->store_name;
        for (size_t i = 0; i < task->topo->n_nodes; i++) {
            const topo_node_t *o = &task->topo->nodes[i];
            if (o != n->def && o->sub == task->sub && o->store && !strcmp(o->store, n->def->store))
                ctx.store_shared = true;
        }
    }
    const sl_op_spec_t *sp = &n->def->spec;
    n->pass = sp->kind == SL_OP_PASS || sp->kind == SL_OP_WINDOW                 ? NODE_PASS
              : sp->kind == SL_OP_GROUP_BY && !sp->fn.key && !sp->ttl_ms ? NODE_KEYED
                                                                            : NODE_RUN;
    return sl_op_open(&n->def->spec, &ctx, &n->op, err);
}

int sl_task_new(const sl_topo_t *t, int sub, int partition, sl_env_t *env, const sl_task_io_t *io,
                sl_task_t **out, sl_err_t *err)
{
    *out = NULL;
    if (!t || !t->built || sub < 0 || sub >= t->n_sub || partition < 0 || !io || !io->sink || !io->dead_letter)
        return sl_err_set(err, SL_E_INVAL, "sl_task_new: needs a built topology, a sub-topology, a partition "
                          "and both callbacks");
    sl_task_t *task = calloc(1, sizeof *task);
    if (!task)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    task->topo = t;
    task->sub = sub;
    task->partition = partition;
    task->env = env;
    task->io = *io;
    task->stream_time = -1;
    size_t n_topics = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        task->n_nodes += t->nodes[i].sub == sub;
        n_topics += t->nodes[i].sub == sub && t->nodes[i].role == NODE_SOURCE ? t->nodes[i].n_topics : 0;
    }
    task->nodes = calloc(task->n_nodes ? task->n_nodes : 1, sizeof *task->nodes);
    task->by_index = calloc(t->n_nodes, sizeof *task->by_index);
    task->sources = calloc(n_topics ? n_topics : 1, sizeof *task->sources);
    int rc = 0;
    if (!task->nodes || !task->by_index || !task->sources) {
        rc = sl_err_set(err, SL_E_NOMEM, "out of memory");
        goto fail;
    }
    size_t k = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        if (t->nodes[i].sub != sub)
            continue;
        tnode_t *n = &task->nodes[k++];
        n->emit.forward = node_forward;
        n->task = task;
        n->def = &t->nodes[i];
        if (n->def->role == NODE_SINK) {
            n->sink = io->sink;
            n->sink_arg = io->arg;
            n->sink_topic = n->def->topics[0];
        }
        task->by_index[i] = n;
    }
    for (size_t i = 0; i < task->n_nodes; i++) {
        tnode_t *n = &task->nodes[i];
        const topo_node_t *d = n->def;
        n->out = calloc(d->n_children ? d->n_children : 1, sizeof *n->out);
        if (!n->out) {
            rc = sl_err_set(err, SL_E_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t c = 0; c < d->n_children; c++)
            n->out[n->n_out++] = (tedge_t){.to = task->by_index[d->children[c].node], .port = d->children[c].port};
        for (size_t m = 0; d->role == NODE_SOURCE && m < d->n_topics; m++)
            task->sources[task->n_sources++] = (tsource_t){d->topics[m], n};
        if ((rc = node_open(task, n, err)) != 0)
            goto fail;
        task->has_ttl = task->has_ttl || (n->op && d->spec.ttl_ms > 0);
    }
    for (size_t i = 0; i < task->n_nodes; i++) /* every node's pass is known now: skip forwarding nodes */
        for (size_t j = 0; j < task->nodes[i].n_out; j++) {
            tedge_t *e = &task->nodes[i].out[j];
            while (e->n_skip < EDGE_SKIP_MAX && e->to->pass && e->to->def->n_children == 1) {
                e->skip[e->n_skip++] = e->to; /* from the definition: e->to's own edge may be resolved already */
                e->to = task->by_index[e->to->def->children[0].node];
            }
        }
    for (size_t i = 0; i < task->n_nodes; i++) {
        tnode_t *n = &task->nodes[i];
        if (n->n_out == 1 && n->out[0].to->def->role == NODE_SINK) {
            n->emit.forward = forward_to_sink;
            n->sink = n->out[0].to->sink;
            n->sink_arg = n->out[0].to->sink_arg;
            n->sink_topic = n->out[0].to->sink_topic;
        }
    }
    *out = task;
    return 0;
fail:
    sl_task_free(task);
    return rc;
}
