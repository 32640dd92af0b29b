/* The HTTP server of a Sluice process: state queries (/v1/tables...),
 * Prometheus metrics (/metrics), status (/v1/status) and the web page (/).
 * HTTP/1.1 parsing, keep-alive and chunked output are h2o's (libh2o, the
 * libuv flavour); this file binds the listener, routes requests and writes
 * JSON.  The server runs its own libuv loop on its own thread rather than the
 * broker's: a range scan of 10,000 rows or a slow client then never delays a
 * Kafka fetch, and the broker stays unaware of HTTP.  Handlers read LMDB
 * snapshots, so they never wait for the job's worker threads either. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/http_server.h"
#include "engine/obs.h"

#define WATCH_POLL_MS 20

typedef struct handler {
    h2o_handler_t super;
    sl_http_t *srv;
} handler_t;

int http_error(sl_buf_t *body, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_buf_reset(body);
    if (sl_buf_append(body, "{\"error\":", 9) || http_json_str(body, msg, strlen(msg)) || sl_buf_append(body, "}", 1))
        sl_buf_reset(body);
    return status;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

static void respond(h2o_req_t *req, int status, const char *ctype, const void *data, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    req->res.status = status;
    req->res.reason = reason(status);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    if (status == 405)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET"));
    h2o_iovec_t buf = h2o_strdup(&req->pool, data, len);
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

int http_find_table(sl_http_t *h, const char *name, http_table_t *out)
{
    for (size_t j = 0; j < h->n_jobs; j++) {
        int i = sl_runtime_table_find(h->jobs[j].rt, name);
        if (i < 0)
            continue;
        out->job = h->jobs[j].name;
        out->rt = h->jobs[j].rt;
        out->index = (size_t)i;
        return sl_runtime_table(out->rt, out->index, &out->info);
    }
    return SL_E_NOTFOUND;
}

/* Split "/v1/tables/NAME[/REST]" after the prefix: the decoded table name
 * into name, REST (raw) into *rest.  -1 when NAME is malformed. */
static int split_table(const char *p, size_t n, sl_buf_t *name, const char **rest, size_t *rest_len)
{
    const char *slash = memchr(p, '/', n);
    size_t nl = slash ? (size_t)(slash - p) : n;
    if (nl == 0 || http_pct_decode(p, nl, false, name) != 0 || memchr(name->data, '\0', name->len))
        return -1;
    *rest = slash ? slash : p + n;
    *rest_len = slash ? n - nl : 0;
    return 0;
}

/* The /v1/tables routes; returns a status, or 0 when a stream has started. */
static int route_tables(sl_http_t *h, h2o_req_t *req, const char *p, size_t n, const http_query_t *q, sl_buf_t *body)
{
    if (n == 0 || (n == 1 && p[0] == '/')) { /* /v1/tables */
        const char *names[64];
        sl_runtime_t *rts[64];
        size_t k = 0;
        for (size_t j = 0; j < h->n_jobs && k < 64; j++, k++) {
            names[k] = h->jobs[j].name;
            rts[k] = h->jobs[j].rt;
        }
        if (q->len)
            return http_error(body, 400, "/v1/tables takes no parameters");
        return http_tables_list(names, rts, k, body);
    }
    if (p[0] != '/')
        return http_error(body, 404, "no such resource");
    sl_buf_t name, key;
    sl_buf_init(&name);
    sl_buf_init(&key);
    const char *rest;
    size_t rest_len;
    int status;
    http_table_t t;
    if (split_table(p + 1, n - 1, &name, &rest, &rest_len) != 0) {
        status = http_error(body, 400, "malformed table name");
    } else if (http_find_table(h, (const char *)name.data, &t) != 0) {
        status = http_error(body, 404, "unknown table '%.200s'", (const char *)name.data);
    } else if (rest_len == 0 || (rest_len == 1 && rest[0] == '/')) {
        status = http_tables_scan(&t, q, body);
    } else if (rest_len > 6 && memcmp(rest, "/keys/", 6) == 0) {
        if (http_pct_decode(rest + 6, rest_len - 6, false, &key) != 0)
            status = http_error(body, 400, "malformed key (bad %%-escape)");
        else
            status = http_tables_get(&t, key.data, key.len, q, body);
    } else if ((rest_len == 6 && memcmp(rest, "/watch", 6) == 0) || (rest_len == 7 && memcmp(rest, "/watch/", 7) == 0)) {
        status = http_watch_start(h, req, &t, q, body);
    } else {
        status = http_error(body, 404, "no such resource");
    }
    sl_buf_free(&name);
    sl_buf_free(&key);
    return status;
}

static bool path_is(const char *p, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(p, want, n) == 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    sl_http_t *h = ((handler_t *)self)->srv;
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    const char *p = req->path.base;
    http_query_t q = {.p = req->query_at != SIZE_MAX ? p + req->query_at + 1 : "",
                      .len = req->query_at != SIZE_MAX ? req->path.len - req->query_at - 1 : 0};
    sl_buf_t body;
    sl_buf_init(&body);
    const char *ctype = "application/json";
    int status;
    bool is_get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    bool known = path_is(p, plen, "/") || path_is(p, plen, "/metrics") || path_is(p, plen, "/v1/status") ||
                 (plen >= 10 && memcmp(p, "/v1/tables", 10) == 0);
    if (!known) {
        status = http_error(&body, 404, "no such resource");
    } else if (!is_get) {
        status = http_error(&body, 405, "only GET is supported");
    } else if (path_is(p, plen, "/metrics") || path_is(p, plen, "/v1/status") || path_is(p, plen, "/")) {
        if (!h->obs) {
            status = http_error(&body, 404, "no metrics in this process");
        } else if (p[1] == 'm') {
            status = sl_obs_prometheus(h->obs, &body) ? http_error(&body, 500, "rendering metrics failed") : 200;
            ctype = status == 200 ? "text/plain; version=0.0.4" : ctype;
        } else if (p[1] == 'v') {
            status = sl_obs_status_json(h->obs, &body) ? http_error(&body, 500, "rendering status failed") : 200;
        } else {
            size_t len;
            const char *page = sl_obs_page_html(&len);
            respond(req, 200, "text/html; charset=utf-8", page, len);
            sl_buf_free(&body);
            return 0;
        }
    } else {
        pthread_rwlock_rdlock(&h->jobs_lock);
        status = route_tables(h, req, p + 10, plen - 10, &q, &body);
        pthread_rwlock_unlock(&h->jobs_lock);
    }
    if (status)
        respond(req, status, ctype, body.data ? (const char *)body.data : "", body.len);
    sl_buf_free(&body);
    return 0;
}

/* ---- the loop ---------------------------------------------------------------------------------- */

static void on_accept(uv_stream_t *listener, int status)
{
    sl_http_t *h = listener->data;
    if (status != 0 || atomic_load(&h->stopping))
        return;
    uv_tcp_t *conn = h2o_mem_alloc(sizeof *conn);
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, (uv_close_cb)free);
    h2o_accept(&h->accept, sock);
}

static void on_watch_timer(uv_timer_t *t)
{
    http_watch_poll(t->data);
}

static void on_wake(uv_async_t *a)
{
    sl_http_t *h = a->data;
    if (!atomic_load(&h->stopping))
        return;
    http_watch_end_all(h);
    uv_close((uv_handle_t *)&h->listener, NULL);
    uv_timer_stop(&h->watch_timer);
    uv_stop(&h->loop);
}

static void *loop_thread(void *arg)
{
    sl_http_t *h = arg;
    uv_run(&h->loop, UV_RUN_DEFAULT);
    return NULL;
}

int sl_http_start(const sl_http_opts_t *o, sl_http_t **out, sl_err_t *err)
{
    *out = NULL;
    const char *host = o && o->host && o->host[0] ? o->host : "127.0.0.1";
    int port = o ? o->port : 0;
    if (port < 0 || port > 65535 || strlen(host) >= 256)
        return sl_err_set(err, SL_E_INVAL, "http: bad address %s:%d", host, port);
    sl_http_t *h = calloc(1, sizeof *h);
    if (!h)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    snprintf(h->host, sizeof h->host, "%s", host);
    h->obs = o ? o->obs : NULL;
    pthread_rwlock_init(&h->jobs_lock, NULL);
    uv_loop_init(&h->loop);

    h2o_config_init(&h->conf);
    h2o_hostconf_t *hc = h2o_config_register_host(&h->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(hc, "/", 0);
    handler_t *hd = (handler_t *)h2o_create_handler(pc, sizeof *hd);
    hd->super.on_req = on_req;
    hd->srv = h;
    h2o_context_init(&h->ctx, &h->loop, &h->conf);
    h->accept.ctx = &h->ctx;
    h->accept.hosts = h->conf.hosts;

    struct sockaddr_storage addr;
    int rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc == 0) {
        uv_tcp_init(&h->loop, &h->listener);
        h->listener.data = h;
        rc = uv_tcp_bind(&h->listener, (struct sockaddr *)&addr, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&h->listener, 128, on_accept);
    }
    if (rc != 0) {
        /* Nothing was served: close what the loop holds and leave.  h2o's
         * context keeps timers on the loop; the process exits with this error. */
        sl_err_set(err, SL_E_INVAL, "http: cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
        return SL_E_INVAL;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&h->listener, (struct sockaddr *)&bound, &blen);
    h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    uv_async_init(&h->loop, &h->wake, on_wake);
    h->wake.data = h;
    uv_timer_init(&h->loop, &h->watch_timer);
    h->watch_timer.data = h;
    uv_timer_start(&h->watch_timer, on_watch_timer, WATCH_POLL_MS, WATCH_POLL_MS);
    if (pthread_create(&h->thread, NULL, loop_thread, h) != 0)
        return sl_err_set(err, SL_E_NOMEM, "http: cannot start the server thread");
    h->thread_started = true;
    *out = h;
    return 0;
}

int sl_http_port(const sl_http_t *h)
{
    return h->port;
}

int sl_http_add_job(sl_http_t *h, const char *name, sl_runtime_t *rt)
{
    char *copy = strdup(name);
    if (!copy)
        return SL_E_NOMEM;
    pthread_rwlock_wrlock(&h->jobs_lock);
    http_job_t *v = realloc(h->jobs, (h->n_jobs + 1) * sizeof *v);
    if (!v) {
        pthread_rwlock_unlock(&h->jobs_lock);
        free(copy);
        return SL_E_NOMEM;
    }
    h->jobs = v;
    h->jobs[h->n_jobs++] = (http_job_t){copy, rt};
    pthread_rwlock_unlock(&h->jobs_lock);
    return 0;
}

void sl_http_remove_job(sl_http_t *h, const char *name)
{
    pthread_rwlock_wrlock(&h->jobs_lock);
    for (size_t j = 0; j < h->n_jobs; j++) {
        if (strcmp(h->jobs[j].name, name) != 0)
            continue;
        free(h->jobs[j].name);
        memmove(&h->jobs[j], &h->jobs[j + 1], (h->n_jobs - j - 1) * sizeof *h->jobs);
        h->n_jobs--;
        break;
    }
    pthread_rwlock_unlock(&h->jobs_lock);
}

/* Stops the loop and joins its thread.  Connections still open (idle
 * keep-alive clients) are not waited for: h2o offers no way to close them
 * from outside, and this runs when the process is about to exit, so the
 * loop, h2o's context and those connections are left to the exit rather
 * than torn down under h2o's feet. */
void sl_http_stop(sl_http_t *h)
{
    if (!h)
        return;
    atomic_store(&h->stopping, 1);
    if (h->thread_started) {
        uv_async_send(&h->wake);
        pthread_join(h->thread, NULL);
    }
    pthread_rwlock_wrlock(&h->jobs_lock);
    for (size_t j = 0; j < h->n_jobs; j++)
        free(h->jobs[j].name);
    free(h->jobs);
    h->jobs = NULL;
    h->n_jobs = 0;
    pthread_rwlock_unlock(&h->jobs_lock);
}
