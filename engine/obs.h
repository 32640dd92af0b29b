/* Observability of a running Sluice process: the numbers behind /metrics,
 * /v1/status, the web page and `sluice run`'s status line.
 *
 * CONTRACT between two pieces built in parallel: engine/obs.c (collection and
 * rendering) and engine/http*.c (the HTTP server, which only calls these).
 * Every render function is safe to call from any thread while the jobs'
 * worker threads and the broker run: it reads counters, never blocks
 * processing for longer than a mutex around a copy. */
#ifndef SL_ENGINE_OBS_H
#define SL_ENGINE_OBS_H

#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "common/common.h"
#include "engine/engine.h"

typedef struct sl_obs sl_obs_t;

/* A registry of what this process runs.  broker may be NULL (no broker). */
int sl_obs_new(sl_broker_t *broker, sl_obs_t **out);
void sl_obs_free(sl_obs_t *o); /* NULL is a no-op */

/* Register a running job: its name (the job file's base name without .sl),
 * the job file path, its runtime and its built topology (both must outlive
 * the registration; sl_obs_remove_job before closing them). */
int sl_obs_add_job(sl_obs_t *o, const char *name, const char *file, sl_runtime_t *rt, const sl_topo_t *topo);
void sl_obs_remove_job(sl_obs_t *o, const char *name);

/* Prometheus text exposition format 0.0.4 (Content-Type
 * "text/plain; version=0.0.4"): per topic bytes and records in and out, per
 * job records/s, lag per input partition, commit latency, dead-letter and
 * late counts, store sizes, process memory.  Appends to out. */
int sl_obs_prometheus(sl_obs_t *o, sl_buf_t *out);

/* /v1/status as one JSON object (appended to out):
 * {"uptime_ms":N, "process":{"rss_bytes":N},
 *  "broker":{"listen":"127.0.0.1:9092","topics":[{"name","partitions","records_in","bytes_in","records_out","bytes_out"}]},
 *  "jobs":[{"name","file","state":"running"|"stopped"|"failed","error":null|"...",
 *           "records_in","records_out","dead_lettered","late","commits",
 *           "records_in_per_sec","records_out_per_sec","lag",
 *           "commit_latency_ms":{"p50","p99","max"},
 *           "tasks":[{"id":"SUB_PARTITION","sub","partition",
 *                     "inputs":[{"topic","partition","committed","end","lag"}]}],
 *           "tables":["name",...],
 *           "topology":{"nodes":[{"name","kind","sub","store"|null,"topics":[...]}],
 *                       "edges":[{"from","to"}]}}]} */
int sl_obs_status_json(sl_obs_t *o, sl_buf_t *out);

/* The web page served at "/" (HTML with inline CSS and JavaScript, no
 * external resources): jobs, each job's topology drawn as a graph, live
 * throughput and lag (polls /v1/status), and a box that queries a table
 * through /v1/tables.  Static bytes, never freed. */
const char *sl_obs_page_html(size_t *len);

/* ---- additions beyond the HTTP contract (sluice server, sluice run) ---- */

/* Register a job that could not start (bad job file, failed open): shown with
 * state "failed" and this error; remove it with sl_obs_remove_job. */
int sl_obs_add_failed_job(sl_obs_t *o, const char *name, const char *file, const char *error);

/* One job's headline numbers, for `sluice run`'s status line. */
typedef struct sl_obs_summary {
    const char *state;            /* "running" | "stopped" | "failed" */
    uint64_t records_in, records_out, dead_lettered;
    double rate_in, rate_out;     /* records/s over the last sample (>= 1 s apart) */
    int64_t lag;                  /* records in the inputs not covered by a commit */
    int64_t committed;            /* committed input offsets, summed over input partitions */
} sl_obs_summary_t;
/* The job named `name` (NULL: the first one); SL_E_NOTFOUND when none. */
int sl_obs_job_summary(sl_obs_t *o, const char *name, sl_obs_summary_t *out);

#endif
