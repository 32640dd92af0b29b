/* Observability of a running Sluice process (engine/obs.h): a registry of the
 * broker and jobs this process runs, and the renderers behind /metrics
 * (Prometheus text format 0.0.4), /v1/status (JSON) and the status line.
 *
 * Every render takes one snapshot (the registry's mutex held while it reads
 * the runtimes' atomics, so a job cannot be removed halfway) and then writes
 * text from the copy.  The broker's topic counters are copied on its loop
 * thread (sl_broker_topic_stats).  Rates (records/s) come from successive
 * samples at least OBS_RATE_MIN_NS apart, so frequent callers share one. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/obs.h"
#include "engine/topo.h"

#define OBS_RATE_MIN_NS 1000000000LL /* a new rate sample at most every second */

typedef struct obs_job {
    char *name, *file, *error; /* error: a job registered as failed (no runtime) */
    sl_runtime_t *rt;
    const sl_topo_t *topo;
    int64_t sample_ns; /* the last rate sample */
    uint64_t sample_in, sample_out;
    double rate_in, rate_out;
} obs_job_t;

struct sl_obs {
    pthread_mutex_t mu;
    sl_broker_t *broker;
    int64_t start_ns;
    obs_job_t *jobs;
    size_t n_jobs, cap_jobs;
};

/* A job as one render sees it. */
typedef struct job_snap {
    const obs_job_t *job;
    const char *state;
    sl_err_t err;
    sl_runtime_stats_t st;
    uint64_t late;
    double rate_in, rate_out;
    int64_t lag;
    sl_runtime_input_t *inputs;
    size_t n_inputs;
    sl_runtime_store_size_t *stores;
    size_t n_stores;
    sl_runtime_latency_t lat;
} job_snap_t;

typedef struct snap {
    int64_t uptime_ms;
    int64_t rss_bytes;
    sl_broker_topic_stats_t *topics;
    size_t n_topics;
    job_snap_t *jobs;
    size_t n_jobs;
} snap_t;

/* ---- registry ------------------------------------------------------------------------------------------ */

int sl_obs_new(sl_broker_t *broker, sl_obs_t **out)
{
    sl_obs_t *o = calloc(1, sizeof *o);
    *out = o;
    if (!o)
        return SL_E_NOMEM;
    pthread_mutex_init(&o->mu, NULL);
    o->broker = broker;
    o->start_ns = sl_mono_ns();
    return 0;
}

static void job_free(obs_job_t *j)
{
    free(j->name);
    free(j->file);
    free(j->error);
}

void sl_obs_free(sl_obs_t *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_jobs; i++)
        job_free(&o->jobs[i]);
    free(o->jobs);
    pthread_mutex_destroy(&o->mu);
    free(o);
}

static int add(sl_obs_t *o, const char *name, const char *file, sl_runtime_t *rt, const sl_topo_t *topo,
               const char *error)
{
    if (!o || !name || !file)
        return SL_E_INVAL;
    pthread_mutex_lock(&o->mu);
    int rc = 0;
    for (size_t i = 0; i < o->n_jobs && !rc; i++)
        if (!strcmp(o->jobs[i].name, name))
            rc = SL_E_INVAL;
    if (!rc && o->n_jobs == o->cap_jobs) {
        size_t cap = o->cap_jobs ? 2 * o->cap_jobs : 4;
        obs_job_t *v = realloc(o->jobs, cap * sizeof *v);
        if (v) {
            o->jobs = v;
            o->cap_jobs = cap;
        } else {
            rc = SL_E_NOMEM;
        }
    }
    if (!rc) {
        obs_job_t *j = &o->jobs[o->n_jobs];
        memset(j, 0, sizeof *j);
        j->name = strdup(name);
        j->file = strdup(file);
        j->error = error ? strdup(error) : NULL;
        j->rt = rt;
        j->topo = topo;
        j->sample_ns = sl_mono_ns();
        if (rt) {
            sl_runtime_stats_t st;
            sl_runtime_stats(rt, &st);
            j->sample_in = st.records_in;
            j->sample_out = st.records_out;
        }
        if (!j->name || !j->file || (error && !j->error)) {
            job_free(j);
            rc = SL_E_NOMEM;
        } else {
            o->n_jobs++;
        }
    }
    pthread_mutex_unlock(&o->mu);
    return rc;
}

int sl_obs_add_job(sl_obs_t *o, const char *name, const char *file, sl_runtime_t *rt, const sl_topo_t *topo)
{
    if (!rt || !topo)
        return SL_E_INVAL;
    return add(o, name, file, rt, topo, NULL);
}

int sl_obs_add_failed_job(sl_obs_t *o, const char *name, const char *file, const char *error)
{
    return add(o, name, file, NULL, NULL, error ? error : "failed");
}

void sl_obs_remove_job(sl_obs_t *o, const char *name)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < o->n_jobs; i++)
        if (!strcmp(o->jobs[i].name, name)) {
            job_free(&o->jobs[i]);
            memmove(&o->jobs[i], &o->jobs[i + 1], (o->n_jobs - i - 1) * sizeof *o->jobs);
            o->n_jobs--;
            break;
        }
    pthread_mutex_unlock(&o->mu);
}

/* ---- snapshots ----------------------------------------------------------------------------------------- */

static int64_t process_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = 0;
    int n = f ? fscanf(f, "%lld %lld", &size, &resident) : 0;
    if (f)
        fclose(f);
    return n == 2 ? resident * (int64_t)sysconf(_SC_PAGESIZE) : -1;
}

/* Update the job's rate when its last sample is old enough (registry locked). */
static void job_rate(obs_job_t *j, const sl_runtime_stats_t *st, int64_t now_ns)
{
    int64_t dt = now_ns - j->sample_ns;
    if (dt < OBS_RATE_MIN_NS)
        return;
    double s = (double)dt / 1e9;
    j->rate_in = (double)(st->records_in - j->sample_in) / s;
    j->rate_out = (double)(st->records_out - j->sample_out) / s;
    j->sample_ns = now_ns;
    j->sample_in = st->records_in;
    j->sample_out = st->records_out;
}

static void snap_free(snap_t *s)
{
    free(s->topics);
    for (size_t i = 0; i < s->n_jobs; i++) {
        free(s->jobs[i].inputs);
        free(s->jobs[i].stores);
    }
    free(s->jobs);
}

static int job_take(obs_job_t *j, job_snap_t *js, int64_t now_ns)
{
    memset(js, 0, sizeof *js);
    js->job = j;
    if (!j->rt) {
        js->state = "failed";
        snprintf(js->err.msg, sizeof js->err.msg, "%s", j->error);
        return 0;
    }
    js->state = sl_runtime_state(j->rt, &js->err);
    sl_runtime_stats(j->rt, &js->st);
    js->late = sl_runtime_late_records(j->rt);
    job_rate(j, &js->st, now_ns);
    js->rate_in = j->rate_in;
    js->rate_out = j->rate_out;
    size_t n = sl_runtime_inputs(j->rt, NULL, 0);
    js->inputs = calloc(n ? n : 1, sizeof *js->inputs);
    size_t ns = sl_runtime_store_sizes(j->rt, NULL, 0);
    js->stores = calloc(ns ? ns : 1, sizeof *js->stores);
    if (!js->inputs || !js->stores)
        return SL_E_NOMEM;
    js->n_inputs = sl_runtime_inputs(j->rt, js->inputs, n);
    js->n_inputs = js->n_inputs < n ? js->n_inputs : n;
    js->n_stores = sl_runtime_store_sizes(j->rt, js->stores, ns);
    js->n_stores = js->n_stores < ns ? js->n_stores : ns;
    for (size_t i = 0; i < js->n_inputs; i++)
        if (js->inputs[i].end > js->inputs[i].committed)
            js->lag += js->inputs[i].end - js->inputs[i].committed;
    sl_runtime_commit_latency(j->rt, &js->lat);
    return 0;
}

static int snap_take(sl_obs_t *o, snap_t *s)
{
    memset(s, 0, sizeof *s);
    int64_t now = sl_mono_ns();
    s->uptime_ms = (now - o->start_ns) / 1000000;
    s->rss_bytes = process_rss();
    if (o->broker && sl_broker_topic_stats(o->broker, &s->topics, &s->n_topics) != 0)
        return SL_E_NOMEM;
    int rc = 0;
    pthread_mutex_lock(&o->mu);
    s->jobs = calloc(o->n_jobs ? o->n_jobs : 1, sizeof *s->jobs);
    if (!s->jobs)
        rc = SL_E_NOMEM;
    for (size_t i = 0; !rc && i < o->n_jobs; i++, s->n_jobs++)
        rc = job_take(&o->jobs[i], &s->jobs[i], now);
    pthread_mutex_unlock(&o->mu);
    return rc;
}

/* ---- text helpers -------------------------------------------------------------------------------------- */

static int appendf(sl_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int appendf(sl_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sl_buf_reserve(b, (size_t)n + 1) != 0)
        return SL_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* A JSON string literal (quotes included); NULL gives null. */
static int json_str(sl_buf_t *b, const char *s)
{
    if (!s)
        return sl_buf_append(b, "null", 4) ? SL_E_NOMEM : 0;
    int rc = sl_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if (*p == '"' || *p == '\\')
            rc = appendf(b, "\\%c", *p);
        else if (*p < 0x20)
            rc = appendf(b, "\\u%04x", *p);
        else
            rc = sl_buf_append(b, p, 1);
    }
    return rc || sl_buf_append(b, "\"", 1) ? SL_E_NOMEM : 0;
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static int prom_label(sl_buf_t *b, const char *s)
{
    int rc = 0;
    for (const char *p = s; *p && !rc; p++) {
        if (*p == '\\' || *p == '"')
            rc = appendf(b, "\\%c", *p);
        else if (*p == '\n')
            rc = appendf(b, "\\n");
        else
            rc = sl_buf_append(b, p, 1);
    }
    return rc ? SL_E_NOMEM : 0;
}

/* A number as JSON / Prometheus accept it (no inf or nan). */
static int num(sl_buf_t *b, double v)
{
    if (!isfinite(v))
        v = 0;
    if (v == floor(v) && fabs(v) < 9e15)
        return appendf(b, "%.0f", v);
    return appendf(b, "%.6g", v);
}

/* ---- Prometheus ---------------------------------------------------------------------------------------- */

static int family(sl_buf_t *b, const char *name, const char *type, const char *help)
{
    return appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",k2="v2"} value: labels as a NULL-terminated key, value list. */
static int sample(sl_buf_t *b, const char *name, double v, const char *const *labels)
{
    int rc = appendf(b, "%s", name);
    for (size_t i = 0; !rc && labels && labels[i]; i += 2) {
        rc = appendf(b, "%s%s=\"", i ? "," : "{", labels[i]);
        if (!rc)
            rc = prom_label(b, labels[i + 1]);
        if (!rc)
            rc = appendf(b, "\"");
    }
    if (!rc && labels && labels[0])
        rc = appendf(b, "}");
    if (!rc)
        rc = appendf(b, " ");
    if (!rc)
        rc = num(b, v);
    return rc ? rc : appendf(b, "\n");
}

typedef double (*topic_val)(const sl_broker_topic_stats_t *t);
static double t_rin(const sl_broker_topic_stats_t *t) { return (double)t->records_in; }
static double t_bin(const sl_broker_topic_stats_t *t) { return (double)t->bytes_in; }
static double t_rout(const sl_broker_topic_stats_t *t) { return (double)t->records_out; }
static double t_bout(const sl_broker_topic_stats_t *t) { return (double)t->bytes_out; }
static double t_parts(const sl_broker_topic_stats_t *t) { return t->partitions; }
static double t_end(const sl_broker_topic_stats_t *t) { return (double)t->end_offset; }
static double t_size(const sl_broker_topic_stats_t *t) { return (double)t->size_bytes; }

typedef double (*job_val)(const job_snap_t *j);
static double j_up(const job_snap_t *j) { return !strcmp(j->state, "running"); }
static double j_rin(const job_snap_t *j) { return (double)j->st.records_in; }
static double j_rout(const job_snap_t *j) { return (double)j->st.records_out; }
static double j_rate_in(const job_snap_t *j) { return j->rate_in; }
static double j_rate_out(const job_snap_t *j) { return j->rate_out; }
static double j_dlq(const job_snap_t *j) { return (double)j->st.dead_lettered; }
static double j_late(const job_snap_t *j) { return (double)j->late; }
static double j_commits(const job_snap_t *j) { return (double)j->st.commits; }
static double j_lag(const job_snap_t *j) { return (double)j->lag; }
static double j_lat_max(const job_snap_t *j) { return (double)j->lat.max_us / 1e6; }

int sl_obs_prometheus(sl_obs_t *o, sl_buf_t *out)
{
    snap_t s;
    int rc = snap_take(o, &s);
    if (!rc)
        rc = family(out, "sluice_uptime_seconds", "gauge", "Seconds since this process started observing.");
    if (!rc)
        rc = sample(out, "sluice_uptime_seconds", (double)s.uptime_ms / 1000, NULL);
    if (!rc)
        rc = family(out, "sluice_process_resident_memory_bytes", "gauge", "Resident set size of the process.");
    if (!rc)
        rc = sample(out, "sluice_process_resident_memory_bytes", (double)s.rss_bytes, NULL);

    static const struct {
        const char *name, *type, *help;
        topic_val fn;
    } tf[] = {
        {"sluice_topic_partitions", "gauge", "Partitions of the topic.", t_parts},
        {"sluice_topic_records_in_total", "counter", "Records appended by Kafka Produce requests.", t_rin},
        {"sluice_topic_bytes_in_total", "counter", "Batch bytes appended by Kafka Produce requests.", t_bin},
        {"sluice_topic_records_out_total", "counter", "Records in batches sent by Kafka Fetch responses.", t_rout},
        {"sluice_topic_bytes_out_total", "counter", "Batch bytes sent by Kafka Fetch responses.", t_bout},
        {"sluice_topic_end_offset", "gauge", "Log end offset, summed over the partitions.", t_end},
        {"sluice_topic_size_bytes", "gauge", "Bytes of the partition logs.", t_size},
    };
    for (size_t f = 0; !rc && s.n_topics && f < sizeof tf / sizeof tf[0]; f++) {
        rc = family(out, tf[f].name, tf[f].type, tf[f].help);
        for (size_t i = 0; !rc && i < s.n_topics; i++) {
            const char *l[] = {"topic", s.topics[i].name, NULL};
            rc = sample(out, tf[f].name, tf[f].fn(&s.topics[i]), l);
        }
    }

    static const struct {
        const char *name, *type, *help;
        job_val fn;
    } jf[] = {
        {"sluice_job_up", "gauge", "1 while the job runs, 0 when it stopped or failed.", j_up},
        {"sluice_job_records_in_total", "counter", "Records the job processed.", j_rin},
        {"sluice_job_records_out_total", "counter", "Records the job published (dead letters included).", j_rout},
        {"sluice_job_records_in_per_second", "gauge", "Records processed per second (last sample).", j_rate_in},
        {"sluice_job_records_out_per_second", "gauge", "Records published per second (last sample).", j_rate_out},
        {"sluice_job_dead_lettered_total", "counter", "Records sent to the dead-letter topic.", j_dlq},
        {"sluice_job_late_records_total", "counter", "Records past their window's grace (as of the last commit).",
         j_late},
        {"sluice_job_commits_total", "counter", "Task checkpoints.", j_commits},
        {"sluice_job_lag_records", "gauge", "Records in the inputs not covered by a commit yet.", j_lag},
        {"sluice_job_commit_latency_max_seconds", "gauge", "Slowest commit since the job started.", j_lat_max},
    };
    size_t live = 0;
    for (size_t i = 0; i < s.n_jobs; i++)
        live += s.jobs[i].job->rt != NULL;
    for (size_t f = 0; !rc && s.n_jobs && f < sizeof jf / sizeof jf[0]; f++) {
        rc = family(out, jf[f].name, jf[f].type, jf[f].help);
        for (size_t i = 0; !rc && i < s.n_jobs; i++) {
            const char *l[] = {"job", s.jobs[i].job->name, NULL};
            rc = sample(out, jf[f].name, jf[f].fn(&s.jobs[i]), l);
        }
    }
    if (!rc && live)
        rc = family(out, "sluice_job_commit_latency_seconds", "summary", "Commit (checkpoint) latency.");
    for (size_t i = 0; !rc && i < s.n_jobs; i++) {
        const job_snap_t *j = &s.jobs[i];
        if (!j->job->rt)
            continue;
        const char *l50[] = {"job", j->job->name, "quantile", "0.5", NULL};
        const char *l99[] = {"job", j->job->name, "quantile", "0.99", NULL};
        const char *l[] = {"job", j->job->name, NULL};
        rc = sample(out, "sluice_job_commit_latency_seconds", sl_runtime_latency_quantile(&j->lat, 0.5) / 1e6, l50);
        if (!rc)
            rc = sample(out, "sluice_job_commit_latency_seconds", sl_runtime_latency_quantile(&j->lat, 0.99) / 1e6,
                        l99);
        if (!rc)
            rc = sample(out, "sluice_job_commit_latency_seconds_sum", (double)j->lat.sum_us / 1e6, l);
        if (!rc)
            rc = sample(out, "sluice_job_commit_latency_seconds_count", (double)j->lat.count, l);
    }
    if (!rc && live)
        rc = family(out, "sluice_job_input_lag_records", "gauge",
                    "Records in one input partition not covered by the task's last commit.");
    for (size_t i = 0; !rc && i < s.n_jobs; i++)
        for (size_t k = 0; !rc && k < s.jobs[i].n_inputs; k++) {
            const sl_runtime_input_t *in = &s.jobs[i].inputs[k];
            char task[32], part[16];
            snprintf(task, sizeof task, "%d_%d", in->sub, in->partition);
            snprintf(part, sizeof part, "%d", in->partition);
            const char *l[] = {"job", s.jobs[i].job->name, "task", task, "topic", in->topic, "partition", part, NULL};
            rc = sample(out, "sluice_job_input_lag_records",
                        in->end > in->committed ? (double)(in->end - in->committed) : 0, l);
        }
    if (!rc && live)
        rc = family(out, "sluice_job_input_committed_offset", "gauge",
                    "Next offset of the input partition after the task's last commit.");
    for (size_t i = 0; !rc && i < s.n_jobs; i++)
        for (size_t k = 0; !rc && k < s.jobs[i].n_inputs; k++) {
            const sl_runtime_input_t *in = &s.jobs[i].inputs[k];
            char task[32], part[16];
            snprintf(task, sizeof task, "%d_%d", in->sub, in->partition);
            snprintf(part, sizeof part, "%d", in->partition);
            const char *l[] = {"job", s.jobs[i].job->name, "task", task, "topic", in->topic, "partition", part, NULL};
            rc = sample(out, "sluice_job_input_committed_offset", (double)in->committed, l);
        }
    for (int which = 0; which < 2 && !rc && live; which++) {
        const char *name = which ? "sluice_job_store_map_bytes" : "sluice_job_store_bytes";
        rc = family(out, name, "gauge",
                    which ? "LMDB map size of the task's state environment."
                          : "Disk space of the task's state environment (LMDB data file).");
        for (size_t i = 0; !rc && i < s.n_jobs; i++)
            for (size_t k = 0; !rc && k < s.jobs[i].n_stores; k++) {
                const sl_runtime_store_size_t *st = &s.jobs[i].stores[k];
                char task[32];
                snprintf(task, sizeof task, "%d_%d", st->sub, st->partition);
                const char *l[] = {"job", s.jobs[i].job->name, "task", task, NULL};
                rc = sample(out, name, (double)(which ? st->map_bytes : st->file_bytes), l);
            }
    }
    snap_free(&s);
    return rc;
}

/* ---- /v1/status ---------------------------------------------------------------------------------------- */

static int json_topology(sl_buf_t *b, const sl_topo_t *t)
{
    int rc = appendf(b, "{\"nodes\":[");
    for (size_t i = 0; !rc && t && i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        rc = appendf(b, "%s{\"name\":", i ? "," : "");
        if (!rc)
            rc = json_str(b, n->name);
        if (!rc)
            rc = appendf(b, ",\"kind\":");
        if (!rc)
            rc = json_str(b, topo_node_kind(n));
        if (!rc)
            rc = appendf(b, ",\"sub\":%d,\"store\":", n->sub);
        if (!rc)
            rc = json_str(b, n->store);
        if (!rc)
            rc = appendf(b, ",\"topics\":[");
        for (size_t k = 0; !rc && k < n->n_topics; k++) {
            rc = appendf(b, "%s", k ? "," : "");
            if (!rc)
                rc = json_str(b, n->topics[k]);
        }
        if (!rc)
            rc = appendf(b, "]}");
    }
    if (!rc)
        rc = appendf(b, "],\"edges\":[");
    bool first = true;
    for (size_t i = 0; !rc && t && i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        for (size_t k = 0; !rc && k < n->n_parents; k++) {
            rc = appendf(b, "%s{\"from\":", first ? "" : ",");
            first = false;
            if (!rc)
                rc = json_str(b, t->nodes[n->parents[k].node].name);
            if (!rc)
                rc = appendf(b, ",\"to\":");
            if (!rc)
                rc = json_str(b, n->name);
            if (!rc)
                rc = appendf(b, "}");
        }
        /* A sink writing a topic that a source of this job reads (repartition). */
        for (size_t m = 0; !rc && n->role == NODE_SINK && m < t->n_nodes; m++) {
            const topo_node_t *s = &t->nodes[m];
            bool reads = false;
            for (size_t k = 0; s->role == NODE_SOURCE && k < s->n_topics; k++)
                reads = reads || (n->n_topics && !strcmp(s->topics[k], n->topics[0]));
            if (!reads)
                continue;
            rc = appendf(b, "%s{\"from\":", first ? "" : ",");
            first = false;
            if (!rc)
                rc = json_str(b, n->name);
            if (!rc)
                rc = appendf(b, ",\"to\":");
            if (!rc)
                rc = json_str(b, s->name);
            if (!rc)
                rc = appendf(b, "}");
        }
    }
    return rc ? rc : appendf(b, "]}");
}

/* The stores a user can ask for: tables and aggregations (not the buffers of
 * stream-stream joins, nor a table's store seen again through a join side). */
static int json_tables(sl_buf_t *b, const sl_topo_t *t)
{
    int rc = appendf(b, "[");
    bool first = true;
    for (size_t i = 0; !rc && t && i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        if (!n->store || n->spec.kind == SL_OP_JOIN || n->join)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = t->nodes[k].store && !strcmp(t->nodes[k].store, n->store);
        if (seen)
            continue;
        rc = appendf(b, "%s", first ? "" : ",");
        first = false;
        if (!rc)
            rc = json_str(b, n->store);
    }
    return rc ? rc : appendf(b, "]");
}

static int json_tasks(sl_buf_t *b, const job_snap_t *j)
{
    int rc = appendf(b, "[");
    size_t k = 0;
    for (size_t t = 0; !rc && t < j->n_stores; t++) {
        const sl_runtime_store_size_t *st = &j->stores[t];
        rc = appendf(b, "%s{\"id\":\"%d_%d\",\"sub\":%d,\"partition\":%d,\"store_bytes\":%lld,\"inputs\":[",
                     t ? "," : "", st->sub, st->partition, st->sub, st->partition, (long long)st->file_bytes);
        bool first = true;
        for (; !rc && k < j->n_inputs && j->inputs[k].sub == st->sub && j->inputs[k].partition == st->partition;
             k++) {
            const sl_runtime_input_t *in = &j->inputs[k];
            rc = appendf(b, "%s{\"topic\":", first ? "" : ",");
            first = false;
            if (!rc)
                rc = json_str(b, in->topic);
            if (!rc)
                rc = appendf(b, ",\"partition\":%d,\"committed\":%lld,\"end\":%lld,\"lag\":%lld}", in->partition,
                             (long long)in->committed, (long long)in->end,
                             (long long)(in->end > in->committed ? in->end - in->committed : 0));
        }
        if (!rc)
            rc = appendf(b, "]}");
    }
    return rc ? rc : appendf(b, "]");
}

static int json_job(sl_buf_t *b, const job_snap_t *j)
{
    int rc = appendf(b, "{\"name\":");
    if (!rc)
        rc = json_str(b, j->job->name);
    if (!rc)
        rc = appendf(b, ",\"file\":");
    if (!rc)
        rc = json_str(b, j->job->file);
    if (!rc)
        rc = appendf(b, ",\"state\":\"%s\",\"error\":", j->state);
    if (!rc)
        rc = json_str(b, j->err.msg[0] ? j->err.msg : NULL);
    if (!rc)
        rc = appendf(b,
                     ",\"records_in\":%llu,\"records_out\":%llu,\"dead_lettered\":%llu,\"late\":%llu,"
                     "\"commits\":%llu,\"records_in_per_sec\":",
                     (unsigned long long)j->st.records_in, (unsigned long long)j->st.records_out,
                     (unsigned long long)j->st.dead_lettered, (unsigned long long)j->late,
                     (unsigned long long)j->st.commits);
    if (!rc)
        rc = num(b, round(j->rate_in * 10) / 10);
    if (!rc)
        rc = appendf(b, ",\"records_out_per_sec\":");
    if (!rc)
        rc = num(b, round(j->rate_out * 10) / 10);
    if (!rc)
        rc = appendf(b, ",\"lag\":%lld,\"commit_latency_ms\":{\"p50\":", (long long)j->lag);
    if (!rc)
        rc = num(b, round(sl_runtime_latency_quantile(&j->lat, 0.5)) / 1000);
    if (!rc)
        rc = appendf(b, ",\"p99\":");
    if (!rc)
        rc = num(b, round(sl_runtime_latency_quantile(&j->lat, 0.99)) / 1000);
    if (!rc)
        rc = appendf(b, ",\"max\":");
    if (!rc)
        rc = num(b, (double)j->lat.max_us / 1000);
    if (!rc)
        rc = appendf(b, "},\"tasks\":");
    if (!rc)
        rc = json_tasks(b, j);
    if (!rc)
        rc = appendf(b, ",\"tables\":");
    if (!rc)
        rc = json_tables(b, j->job->topo);
    if (!rc)
        rc = appendf(b, ",\"topology\":");
    if (!rc)
        rc = json_topology(b, j->job->topo);
    return rc ? rc : appendf(b, "}");
}

int sl_obs_status_json(sl_obs_t *o, sl_buf_t *out)
{
    snap_t s;
    int rc = snap_take(o, &s);
    if (!rc)
        rc = appendf(out, "{\"uptime_ms\":%lld,\"process\":{\"rss_bytes\":%lld},\"broker\":", (long long)s.uptime_ms,
                     (long long)s.rss_bytes);
    if (!rc && !o->broker)
        rc = appendf(out, "null");
    if (!rc && o->broker) {
        char listen[300];
        snprintf(listen, sizeof listen, "%s:%d", sl_broker_host(o->broker), sl_broker_port(o->broker));
        rc = appendf(out, "{\"listen\":");
        if (!rc)
            rc = json_str(out, listen);
        if (!rc)
            rc = appendf(out, ",\"topics\":[");
        for (size_t i = 0; !rc && i < s.n_topics; i++) {
            const sl_broker_topic_stats_t *t = &s.topics[i];
            rc = appendf(out, "%s{\"name\":", i ? "," : "");
            if (!rc)
                rc = json_str(out, t->name);
            if (!rc)
                rc = appendf(out,
                             ",\"partitions\":%d,\"records_in\":%llu,\"bytes_in\":%llu,\"records_out\":%llu,"
                             "\"bytes_out\":%llu,\"end_offset\":%lld}",
                             t->partitions, (unsigned long long)t->records_in, (unsigned long long)t->bytes_in,
                             (unsigned long long)t->records_out, (unsigned long long)t->bytes_out,
                             (long long)t->end_offset);
        }
        if (!rc)
            rc = appendf(out, "]}");
    }
    if (!rc)
        rc = appendf(out, ",\"jobs\":[");
    for (size_t i = 0; !rc && i < s.n_jobs; i++) {
        if (i)
            rc = appendf(out, ",");
        if (!rc)
            rc = json_job(out, &s.jobs[i]);
    }
    if (!rc)
        rc = appendf(out, "]}");
    snap_free(&s);
    return rc;
}

/* ---- the status line ----------------------------------------------------------------------------------- */

int sl_obs_job_summary(sl_obs_t *o, const char *name, sl_obs_summary_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&o->mu);
    int rc = SL_E_NOTFOUND;
    int64_t now = sl_mono_ns();
    for (size_t i = 0; i < o->n_jobs && rc == SL_E_NOTFOUND; i++) {
        obs_job_t *j = &o->jobs[i];
        if (name && strcmp(j->name, name))
            continue;
        job_snap_t js;
        rc = job_take(j, &js, now);
        if (!rc) {
            out->state = js.state;
            out->records_in = js.st.records_in;
            out->records_out = js.st.records_out;
            out->dead_lettered = js.st.dead_lettered;
            out->rate_in = js.rate_in;
            out->rate_out = js.rate_out;
            out->lag = js.lag;
            for (size_t k = 0; k < js.n_inputs; k++)
                out->committed += js.inputs[k].committed;
        }
        free(js.inputs);
        free(js.stores);
    }
    pthread_mutex_unlock(&o->mu);
    return rc;
}
