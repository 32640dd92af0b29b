/* What a running runtime exposes for observability (engine/obs.c): input
 * offsets against the logs' ends (lag), a commit-latency histogram, late
 * records and state-store sizes.  The task threads publish into atomics at
 * each commit (rt_stats_commit_done); any thread reads them, so metrics never
 * take a lock the workers need. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "engine/runtime.h"

/* Four buckets per power of two: [4,8) has 4, 5, 6, 7; [8,16) has 8, 10, 12,
 * 14; ...  Values below 4 us get a bucket each. */
int sl_runtime_latency_bucket(uint64_t us)
{
    if (us < 4)
        return (int)us;
    int e = 63 - __builtin_clzll(us);
    int b = 4 * (e - 1) + (int)((us >> (e - 2)) & 3);
    return b < SL_RT_LAT_BUCKETS ? b : SL_RT_LAT_BUCKETS - 1;
}

static void bucket_range(int b, double *lo, double *width)
{
    if (b < 4) {
        *lo = b;
        *width = 1;
        return;
    }
    int e = b / 4 + 1;
    *lo = ldexp(4 + b % 4, e - 2);
    *width = ldexp(1, e - 2);
}

double sl_runtime_latency_quantile(const sl_runtime_latency_t *l, double q)
{
    if (l->count == 0 || q <= 0)
        return 0;
    double rank = q >= 1 ? (double)l->count : q * (double)l->count, seen = 0;
    for (int b = 0; b < SL_RT_LAT_BUCKETS; b++) {
        double n = (double)l->buckets[b];
        if (n > 0 && seen + n >= rank) {
            double lo, width;
            bucket_range(b, &lo, &width);
            double v = lo + width * (rank - seen) / n;
            return v > (double)l->max_us ? (double)l->max_us : v;
        }
        seen += n;
    }
    return (double)l->max_us;
}

void rt_stats_commit_done(rt_task_t *t, int64_t start_ns)
{
    int64_t ns = sl_mono_ns() - start_ns;
    uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
    atomic_fetch_add_explicit(&t->lat[sl_runtime_latency_bucket(us)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->lat_sum_us, us, memory_order_relaxed);
    int64_t own = ns - t->nested_ns;
    atomic_fetch_add_explicit(&t->own_us, own > 0 ? (uint64_t)own / 1000 : 0, memory_order_relaxed);
    uint64_t max = atomic_load_explicit(&t->lat_max_us, memory_order_relaxed);
    if (us > max) /* only this task's thread writes its max */
        atomic_store_explicit(&t->lat_max_us, us, memory_order_relaxed);
    uint64_t late = 0;
    const sl_topo_t *topo = t->rt->topo;
    for (size_t i = 0; i < topo->n_nodes; i++) {
        const sl_op_stats_t *s = sl_task_stats(t->task, (int)i);
        if (s)
            late += s->late_records;
    }
    atomic_store_explicit(&t->late, late, memory_order_relaxed);
    atomic_store_explicit(&t->map_bytes, (int64_t)sl_env_map_size(t->env), memory_order_relaxed);
}

size_t sl_runtime_inputs(sl_runtime_t *rt, sl_runtime_input_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < rt->n_tasks; i++) {
        rt_task_t *t = &rt->tasks[i];
        for (size_t s = 0; s < t->n_srcs; s++, n++) {
            if (n >= cap)
                continue;
            rt_src_t *src = &t->srcs[s];
            out[n] = (sl_runtime_input_t){
                .sub = t->sub,
                .partition = t->partition,
                .topic = src->topic,
                .committed = atomic_load(&src->committed),
                .end = rt->logs->readable_end(src->part),
            };
        }
    }
    return n;
}

void sl_runtime_commit_latency(sl_runtime_t *rt, sl_runtime_latency_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < rt->n_tasks; i++) {
        rt_task_t *t = &rt->tasks[i];
        for (int b = 0; b < SL_RT_LAT_BUCKETS; b++) {
            uint64_t n = atomic_load_explicit(&t->lat[b], memory_order_relaxed);
            out->buckets[b] += n;
            out->count += n;
        }
        out->sum_us += atomic_load_explicit(&t->lat_sum_us, memory_order_relaxed);
        uint64_t max = atomic_load_explicit(&t->lat_max_us, memory_order_relaxed);
        out->max_us = max > out->max_us ? max : out->max_us;
    }
}

uint64_t sl_runtime_late_records(sl_runtime_t *rt)
{
    uint64_t n = 0;
    for (size_t i = 0; i < rt->n_tasks; i++)
        n += atomic_load_explicit(&rt->tasks[i].late, memory_order_relaxed);
    return n;
}

size_t sl_runtime_store_sizes(sl_runtime_t *rt, sl_runtime_store_size_t *out, size_t cap)
{
    for (size_t i = 0; i < rt->n_tasks && i < cap; i++) {
        rt_task_t *t = &rt->tasks[i];
        char path[4300];
        struct stat st;
        snprintf(path, sizeof path, "%s/task-%d_%d/data.mdb", rt->state_dir, t->sub, t->partition);
        out[i] = (sl_runtime_store_size_t){
            .sub = t->sub,
            .partition = t->partition,
            .file_bytes = stat(path, &st) == 0 ? (int64_t)st.st_blocks * 512 : -1,
            .map_bytes = atomic_load_explicit(&t->map_bytes, memory_order_relaxed),
        };
    }
    return rt->n_tasks;
}

const char *sl_runtime_state(sl_runtime_t *rt, sl_err_t *err)
{
    pthread_mutex_lock(&rt->mu);
    int fatal = rt->fatal;
    if (fatal && err)
        *err = rt->fatal_err;
    pthread_mutex_unlock(&rt->mu);
    if (fatal)
        return "failed";
    return __atomic_load_n(&rt->running, __ATOMIC_RELAXED) && !atomic_load(&rt->stop) ? "running" : "stopped";
}
