/* The runtime: runs a built topology over partition logs (sl_rt_logs_t) with
 * worker threads.  It resolves and creates topics, makes one task per
 * (sub-topology, partition), spreads the tasks over the workers, and has each
 * worker poll its tasks and commit them every commit.interval.ms and at a
 * clean stop.  The exactly-once commit of one task lives in runtime_task.c. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/runtime.h"

void sl_runtime_opts_default(sl_runtime_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->commit_interval_ms = 100;
    o->max_poll_bytes = 256 * 1024;
    o->sync = true;
}

int rt_topic_find(const sl_runtime_t *rt, const char *name)
{
    for (size_t i = 0; i < rt->n_topics; i++)
        if (!strcmp(rt->topics[i].name, name))
            return (int)i;
    return -1;
}

/* ---- topics -------------------------------------------------------------------------------------------- */

/* Add `name` to rt->topics (if new) with its partition count, creating the
 * topic with `create_parts` partitions when it is missing and create_parts > 0. */
static int topic_add(sl_runtime_t *rt, const char *name, int32_t create_parts, sl_err_t *err)
{
    if (rt_topic_find(rt, name) >= 0)
        return 0;
    int32_t n = 0;
    int rc = rt->logs->partitions(rt->logs->ctx, name, &n, err);
    if (rc == SL_E_NOTFOUND && create_parts > 0) {
        bool internal = sl_topo_topic_is_internal(rt->topo, name) && rt->logs->create_internal_topic;
        if ((rc = (internal ? rt->logs->create_internal_topic : rt->logs->create_topic)(rt->logs->ctx, name,
                                                                                         create_parts, err)) != 0)
            return rc;
        rc = rt->logs->partitions(rt->logs->ctx, name, &n, err);
    }
    if (rc == SL_E_NOTFOUND)
        return sl_err_set(err, rc, "source topic '%s' does not exist", name);
    if (rc)
        return rc;
    if (n <= 0)
        return sl_err_set(err, SL_E_INVAL, "topic '%s' has no partitions", name);
    rt_topic_t *v = realloc(rt->topics, (rt->n_topics + 1) * sizeof *v);
    if (!v)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    rt->topics = v;
    rt_topic_t *tp = &v[rt->n_topics];
    memset(tp, 0, sizeof *tp);
    if (!(tp->name = strdup(name)) || !(tp->parts = calloc((size_t)n, sizeof *tp->parts))) {
        free(tp->name);
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    }
    tp->partitions = n;
    rt->n_topics++;
    for (int32_t p = 0; p < n; p++)
        if ((rc = rt->logs->open(rt->logs->ctx, name, p, &tp->parts[p], err)) != 0)
            return rc;
    return 0;
}

/* Every topic the topology touches: user sources must exist; repartition,
 * sink and dead-letter topics are created when missing. */
/* Does a sink of the topology write `topic`?  (Then the runtime creates it
 * like its outputs, also when a source of the same topology reads it: an
 * explicit repartition through a named topic.) */
static bool sunk_by_topology(const sl_topo_t *t, const char *topic)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        if (t->nodes[i].role == NODE_SINK && t->nodes[i].n_topics && !strcmp(t->nodes[i].topics[0], topic))
            return true;
    return false;
}

static int resolve_topics(sl_runtime_t *rt, sl_err_t *err)
{
    const sl_topo_t *t = rt->topo;
    int32_t max_src = 1;
    int rc;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        for (size_t m = 0; n->role == NODE_SOURCE && !n->internal && m < n->n_topics; m++) {
            if (sunk_by_topology(t, n->topics[m]) && rt->logs->partitions(rt->logs->ctx, n->topics[m], &(int32_t){0},
                                                                          &(sl_err_t){0}) != 0)
                continue; /* created below with the outputs */
            if ((rc = topic_add(rt, n->topics[m], 0, err)) != 0)
                return rc;
            int32_t parts = rt->topics[rt_topic_find(rt, n->topics[m])].partitions;
            max_src = parts > max_src ? parts : max_src;
        }
    }
    int32_t create = rt->opts.partitions > 0 ? rt->opts.partitions : max_src;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        for (size_t m = 0; m < n->n_topics; m++)
            if ((rc = topic_add(rt, n->topics[m], create, err)) != 0)
                return rc;
    }
    return topic_add(rt, rt->dlq, create, err);
}

/* Partitions (= tasks) of sub-topology `sub`: its source topics must agree. */
int rt_sub_partitions(const sl_runtime_t *rt, int sub, int32_t *out, sl_err_t *err)
{
    const sl_topo_t *t = rt->topo;
    const char *first = NULL;
    *out = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        for (size_t m = 0; n->sub == sub && n->role == NODE_SOURCE && m < n->n_topics; m++) {
            int32_t p = rt->topics[rt_topic_find(rt, n->topics[m])].partitions;
            if (first && p != *out)
                return sl_err_set(err, SL_E_TOPOLOGY,
                                  "sub-topology %d reads '%s' (%d partitions) and '%s' (%d): "
                                  "topics read together must have as many partitions",
                                  sub, first, (int)*out, n->topics[m], (int)p);
            first = n->topics[m];
            *out = p;
        }
    }
    return first ? 0 : sl_err_set(err, SL_E_TOPOLOGY, "sub-topology %d has no source", sub);
}

/* ---- workers --------------------------------------------------------------------------------------------- */

static void rt_fail(sl_runtime_t *rt, int rc, const sl_err_t *e)
{
    pthread_mutex_lock(&rt->mu);
    if (!rt->fatal) {
        rt->fatal = rc;
        rt->fatal_err = *e;
        sl_log(SL_ERROR, "engine", "%s", e->msg);
    }
    pthread_mutex_unlock(&rt->mu);
    atomic_store(&rt->stop, 1);
}

/* A task without input for idle_timeout_ms lets its stream time follow the
 * wall clock from its last record (windows can close on an idle source). */
static int advance_idle(sl_runtime_t *rt, rt_task_t *t, int64_t now, sl_err_t *err)
{
    int64_t idle = now - t->last_input_wall;
    if (rt->opts.idle_timeout_ms <= 0 || idle < rt->opts.idle_timeout_ms || t->stream_time_at_input < 0 || t->fatal)
        return 0;
    uint64_t adds = t->adds;
    int rc = sl_task_advance(t->task, t->stream_time_at_input + idle, err);
    if (rc < 0) {
        t->fatal = rc;
        t->fatal_err = *err;
        return rc;
    }
    if (rc > 0 && t->adds != adds)
        t->dirty = true; /* what closed is published by the commit that follows */
    return 0;
}

static void *worker_main(void *arg)
{
    rt_worker_t *w = arg;
    sl_runtime_t *rt = w->rt;
    int64_t last_commit = sl_now_ms();
    sl_err_t e = {0};
    while (!atomic_load(&rt->stop)) {
        int progressed = 0;
        for (size_t i = 0; i < w->n_tasks && !atomic_load(&rt->stop); i++) {
            int n = rt_task_poll(w, w->tasks[i], &e);
            if (n < 0) {
                rt_fail(rt, n, &e);
                break;
            }
            progressed += n;
        }
        int64_t now = sl_now_ms();
        if (now - last_commit >= rt->opts.commit_interval_ms) {
            for (size_t i = 0; i < w->n_tasks; i++) {
                if (advance_idle(rt, w->tasks[i], now, &e) != 0)
                    rt_fail(rt, w->tasks[i]->fatal, &e);
                if (w->tasks[i]->dirty && !w->tasks[i]->fatal && rt_task_commit(w->tasks[i], &e) != 0)
                    rt_fail(rt, w->tasks[i]->fatal, &e);
                if (!w->tasks[i]->fatal && rt_task_purge(w->tasks[i], now, &e) != 0)
                    rt_fail(rt, SL_E_IO, &e);
            }
            last_commit = now;
        }
        if (!progressed) {
            struct timespec ts = {0, 1000000}; /* 1 ms: nothing to read anywhere */
            nanosleep(&ts, NULL);
        }
    }
    for (size_t i = 0; i < w->n_tasks; i++) /* clean stop: commit what was processed */
        if (w->tasks[i]->dirty && !w->tasks[i]->fatal && rt_task_commit(w->tasks[i], &e) != 0)
            rt_fail(rt, w->tasks[i]->fatal, &e);
    return NULL;
}

int sl_runtime_start(sl_runtime_t *rt, sl_err_t *err)
{
    if (rt->running)
        return sl_err_set(err, SL_E_INVAL, "runtime: already running");
    atomic_store(&rt->stop, 0);
    rt->running = true;
    for (int i = 0; i < rt->n_workers; i++) {
        rt_worker_t *w = &rt->workers[i];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            sl_runtime_stop(rt, NULL);
            return sl_err_set(err, SL_E_NOMEM, "runtime: cannot start worker threads");
        }
        w->started = true;
    }
    return 0;
}

void sl_runtime_request_stop(sl_runtime_t *rt) { atomic_store(&rt->stop, 1); }

int sl_runtime_stop(sl_runtime_t *rt, sl_err_t *err)
{
    atomic_store(&rt->stop, 1);
    for (int i = 0; i < rt->n_workers; i++) {
        if (rt->workers[i].started)
            pthread_join(rt->workers[i].thread, NULL);
        rt->workers[i].started = false;
    }
    rt->running = false;
    pthread_mutex_lock(&rt->mu);
    int rc = rt->fatal;
    if (rc && err)
        *err = rt->fatal_err;
    pthread_mutex_unlock(&rt->mu);
    return rc;
}

int sl_runtime_run(sl_runtime_t *rt, sl_err_t *err)
{
    int rc = sl_runtime_start(rt, err);
    if (rc)
        return rc;
    while (!atomic_load(&rt->stop)) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return sl_runtime_stop(rt, err);
}

/* One pass: whether every input's committed (or processed) offset is at its
 * readable end, and the sum of those ends. */
static bool at_end_once(sl_runtime_t *rt, bool committed, int64_t *sum)
{
    bool all = true;
    *sum = 0;
    for (size_t i = 0; i < rt->n_tasks; i++)
        for (size_t s = 0; s < rt->tasks[i].n_srcs; s++) {
            rt_src_t *src = &rt->tasks[i].srcs[s];
            int64_t end = rt->logs->readable_end(src->part);
            *sum += end;
            all = all && atomic_load(committed ? &src->committed : &src->polled) >= end;
        }
    return all;
}

static bool at_end(sl_runtime_t *rt, bool committed)
{
    int64_t a, b;
    if (!at_end_once(rt, committed, &a))
        return false;
    return at_end_once(rt, committed, &b) && a == b; /* no record appeared between the passes */
}

bool sl_runtime_caught_up(sl_runtime_t *rt) { return at_end(rt, true); }

bool sl_runtime_drained(sl_runtime_t *rt) { return at_end(rt, false); }

void sl_runtime_stats(sl_runtime_t *rt, sl_runtime_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < rt->n_tasks; i++) {
        rt_task_t *t = &rt->tasks[i];
        out->records_in += atomic_load_explicit(&t->records_in, memory_order_relaxed);
        out->records_out += atomic_load_explicit(&t->records_out, memory_order_relaxed);
        out->dead_lettered += atomic_load_explicit(&t->dead_lettered, memory_order_relaxed);
        out->commits += atomic_load_explicit(&t->commits, memory_order_relaxed);
        out->commit_us += atomic_load_explicit(&t->own_us, memory_order_relaxed); /* nested once */
    }
    out->republished = atomic_load(&rt->republished);
    out->tasks = (int)rt->n_tasks;
    out->threads = rt->n_workers;
}

/* ---- lifetime ------------------------------------------------------------------------------------------- */

void sl_runtime_close(sl_runtime_t *rt)
{
    if (!rt)
        return;
    if (rt->running)
        sl_runtime_stop(rt, NULL);
    for (size_t i = 0; i < rt->n_tasks; i++)
        rt_task_close(&rt->tasks[i]);
    free(rt->tasks);
    for (int i = 0; rt->workers && i < rt->n_workers; i++) {
        free(rt->workers[i].tasks);
        sl_buf_free(&rt->workers[i].rbuf);
        sl_batch_iter_free(&rt->workers[i].it);
        free(rt->workers[i].hv);
    }
    free(rt->workers);
    for (size_t i = 0; i < rt->n_topics; i++) {
        free(rt->topics[i].name);
        free(rt->topics[i].parts);
    }
    free(rt->topics);
    free(rt->state_dir);
    free(rt->dlq);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
}

static int make_workers(sl_runtime_t *rt, sl_err_t *err)
{
    int n = rt->opts.threads > 0 ? rt->opts.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    if ((size_t)n > rt->n_tasks)
        n = (int)rt->n_tasks;
    if (!(rt->workers = calloc((size_t)n, sizeof *rt->workers)))
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    rt->n_workers = n;
    for (int i = 0; i < n; i++) {
        rt_worker_t *w = &rt->workers[i];
        w->rt = rt;
        sl_buf_init(&w->rbuf);
        sl_batch_iter_init(&w->it);
        if (!(w->tasks = calloc(rt->n_tasks / (size_t)n + 1, sizeof *w->tasks)))
            return sl_err_set(err, SL_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < rt->n_tasks; i++) {
        rt_worker_t *w = &rt->workers[i % (size_t)n];
        rt->tasks[i].worker = (int)(i % (size_t)n);
        w->tasks[w->n_tasks++] = &rt->tasks[i];
    }
    return 0;
}

int sl_runtime_new(const sl_topo_t *t, const sl_runtime_opts_t *opts, sl_runtime_t **out, sl_err_t *err)
{
    *out = NULL;
    if (!t || !t->built || !opts || !opts->state_dir || !opts->logs)
        return sl_err_set(err, SL_E_INVAL, "sl_runtime_new: needs a built topology, a state folder and logs");
    sl_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    pthread_mutex_init(&rt->mu, NULL);
    rt->topo = t;
    rt->opts = *opts;
    if (rt->opts.commit_interval_ms <= 0)
        rt->opts.commit_interval_ms = 100;
    if (rt->opts.max_poll_bytes == 0)
        rt->opts.max_poll_bytes = 256 * 1024;
    if (rt->opts.purge_interval_ms <= 0)
        rt->opts.purge_interval_ms = 30000;
    rt->logs = opts->logs;
    rt->opts.state_dir = NULL;
    rt->opts.dlq_topic = NULL;
    size_t dlq_len = strlen(t->app_id) + 8;
    rt->state_dir = strdup(opts->state_dir);
    if (opts->dlq_topic)
        rt->dlq = strdup(opts->dlq_topic);
    else if ((rt->dlq = malloc(dlq_len)) != NULL)
        snprintf(rt->dlq, dlq_len, "%s-dlq", t->app_id);
    int rc = SL_E_NOMEM;
    if (!rt->state_dir || !rt->dlq) {
        sl_err_set(err, rc, "out of memory");
        goto fail;
    }
    if (sl_fs_mkdir_p(rt->state_dir) != 0) {
        rc = sl_err_set(err, SL_E_IO, "runtime: cannot create state folder %s: %s", rt->state_dir, strerror(errno));
        goto fail;
    }
    if ((rc = resolve_topics(rt, err)) != 0)
        goto fail;
    int32_t *parts = calloc((size_t)t->n_sub, sizeof *parts);
    size_t n_tasks = 0;
    for (int s = 0; parts && s < t->n_sub; s++) {
        if ((rc = rt_sub_partitions(rt, s, &parts[s], err)) != 0) {
            free(parts);
            goto fail;
        }
        n_tasks += (size_t)parts[s];
    }
    if (!parts || !(rt->tasks = calloc(n_tasks, sizeof *rt->tasks))) {
        free(parts);
        rc = sl_err_set(err, SL_E_NOMEM, "out of memory");
        goto fail;
    }
    for (int s = 0; s < t->n_sub && !rc; s++)
        for (int32_t p = 0; p < parts[s] && !rc; p++)
            rc = rt_task_open(rt, &rt->tasks[rt->n_tasks++], s, p, err);
    free(parts);
    if (rc || (rc = make_workers(rt, err)) != 0 || (rc = rt_link_hand_offs(rt, err)) != 0)
        goto fail;
    *out = rt;
    return 0;
fail:
    sl_runtime_close(rt);
    return rc;
}
