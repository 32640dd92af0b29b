/* Internal to engine/http*.c: the server's state, shared by http.c (the
 * server and routing) and http_watch.c (push queries).  Kept apart from
 * engine/http.h so that only these two files see h2o and libuv types. */
#ifndef SL_ENGINE_HTTP_SERVER_H
#define SL_ENGINE_HTTP_SERVER_H

#include <pthread.h>
#include <stdatomic.h>

#include <uv.h>
#include <h2o.h>

#include "engine/http.h"

typedef struct http_job {
    char *name;
    sl_runtime_t *rt;
} http_job_t;

typedef struct http_watch http_watch_t;

struct sl_http {
    char host[256];
    int port;
    struct sl_obs *obs;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wake;       /* sl_http_stop -> the loop thread */
    uv_timer_t watch_timer;
    pthread_t thread;
    bool thread_started;
    atomic_int stopping;
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    /* Jobs: written under the write lock by add/remove (any thread), read
     * under the read lock by the loop thread for one request or one watch
     * poll, so a removed runtime is never read. */
    pthread_rwlock_t jobs_lock;
    http_job_t *jobs;
    size_t n_jobs;
    http_watch_t *watches; /* loop thread only */
};

/* Find table `name` in the jobs (caller holds jobs_lock for reading). */
int http_find_table(sl_http_t *h, const char *name, http_table_t *out);

/* GET /v1/tables/NAME/watch: start streaming (0), or an HTTP status with
 * body written.  Loop thread, jobs_lock held for reading. */
int http_watch_start(sl_http_t *h, h2o_req_t *req, const http_table_t *t, const http_query_t *q, sl_buf_t *body);
/* Poll every watch for new commits (the watch timer); loop thread. */
void http_watch_poll(sl_http_t *h);
/* End every watch stream (server stop); loop thread. */
void http_watch_end_all(sl_http_t *h);

#endif
