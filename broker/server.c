/* The broker's network side: a libuv TCP listener, connections, Kafka
 * framing (int32 size + request), request header decoding, dispatch to the
 * API handlers and in-order delivery of responses (a client may pipeline
 * requests; Kafka answers each connection in request order even when a later
 * response is ready first).  Also the broker object's lifecycle and bk_post,
 * which lets log flusher threads hand completions to the loop thread. */
#include "broker/bk.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define READ_CHUNK 65536

/* ---- responses ---------------------------------------------------------------- */

static void resp_free(bk_resp_t *resp)
{
    sl_buf_free(&resp->buf);
    free(resp);
}

static void on_write(uv_write_t *w, int status)
{
    bk_resp_t *resp = w->data;
    bk_conn_t *conn = resp->conn;
    resp_free(resp);
    if (status < 0 && conn && !conn->closing)
        bk_conn_close(conn, uv_strerror(status));
}

/* Send every ready response at the head of the queue. */
static void conn_flush(bk_conn_t *conn)
{
    while (conn->q_head && conn->q_head->ready && !conn->closing) {
        bk_resp_t *resp = conn->q_head;
        conn->q_head = resp->next;
        if (!conn->q_head)
            conn->q_tail = NULL;
        resp->next = NULL;
        if (conn->detached) { /* no socket (bk_debug_feed): drop the response */
            resp_free(resp);
            continue;
        }
        uv_buf_t buf = uv_buf_init((char *)resp->buf.data, (unsigned)resp->buf.len);
        resp->wreq.data = resp;
        int rc = uv_write(&resp->wreq, (uv_stream_t *)&conn->tcp, &buf, 1, on_write);
        if (rc < 0) {
            resp_free(resp);
            bk_conn_close(conn, uv_strerror(rc));
            return;
        }
    }
}

void bk_resp_finish(bk_resp_t *resp)
{
    if (!resp->conn) { /* the connection went away while this was pending */
        resp_free(resp);
        return;
    }
    kw_t w = bk_resp_writer(resp);
    kw_patch32(&w, 0, (int32_t)(resp->buf.len - 4));
    resp->ready = true;
    conn_flush(resp->conn);
}

/* ---- connections ------------------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
    bk_conn_t *conn = h->data;
    sl_buf_free(&conn->in);
    free(conn);
}

void bk_conn_close(bk_conn_t *conn, const char *reason)
{
    if (conn->closing)
        return;
    sl_broker_t *b = conn->b;
    sl_log(SL_DEBUG, "broker", "connection %" PRId64 " from %s closed: %s", conn->id, conn->peer, reason);
    /* Parked requests first: they may finish their responses now. */
    bk_fetch_drop_conn(b, conn);
    bk_groups_conn_closed(b, conn);
    conn->closing = true;
    for (bk_resp_t *r = conn->q_head, *next; r; r = next) {
        next = r->next;
        r->next = NULL;
        if (r->ready)
            resp_free(r);
        else
            r->conn = NULL; /* its owner frees it through bk_resp_finish */
    }
    conn->q_head = conn->q_tail = NULL;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        b->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
}

static bk_resp_t *resp_open(bk_conn_t *conn, const bk_req_t *req)
{
    bk_resp_t *resp = calloc(1, sizeof *resp);
    if (!resp)
        return NULL;
    resp->conn = conn;
    resp->flex = req->flex;
    resp->api_key = req->api_key;
    resp->api_version = req->api_version;
    kw_t w = bk_resp_writer(resp);
    kw_reserve32(&w);
    kw_i32(&w, req->correlation_id);
    /* Response header v1 (tagged fields) for flexible versions, except
     * ApiVersions, which always answers with header v0. */
    if (req->flex && req->api_key != SL_KAPI_API_VERSIONS)
        kw_tags(&w, true);
    if (w.err) {
        resp_free(resp);
        return NULL;
    }
    if (conn->q_tail)
        conn->q_tail->next = resp;
    else
        conn->q_head = resp;
    conn->q_tail = resp;
    return resp;
}

/* Remove the tail slot (a request that gets no response: acks=0). */
static void resp_drop_tail(bk_conn_t *conn, bk_resp_t *resp)
{
    bk_resp_t **pp = &conn->q_head, *prev = NULL;
    while (*pp && *pp != resp) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = resp->next;
        if (conn->q_tail == resp)
            conn->q_tail = prev;
    }
    resp_free(resp);
}

/* Handle one frame; returns false when the connection must close. */
static bool handle_frame(bk_conn_t *conn, const uint8_t *frame, size_t len)
{
    sl_broker_t *b = conn->b;
    bk_req_t req = {0};
    kr_init(&req.r, frame, len);
    req.api_key = kr_i16(&req.r);
    req.api_version = kr_i16(&req.r);
    req.correlation_id = kr_i32(&req.r);
    req.client_id = kr_str(&req.r, true);
    req.conn = conn;
    if (req.r.err) {
        bk_conn_close(conn, "malformed request header");
        return false;
    }
    const bk_api_t *api = bk_api_find(req.api_key);
    bool supported = api && req.api_version >= api->min_version && req.api_version <= api->max_version;
    sl_log(SL_DEBUG, "broker", "conn %" PRId64 " %.*s: api %d v%d corr %d", conn->id,
           req.client_id.len > 0 ? req.client_id.len : 0, req.client_id.p ? req.client_id.p : "", req.api_key,
           req.api_version, req.correlation_id);
    if (!supported && req.api_key != SL_KAPI_API_VERSIONS) {
        char why[96];
        snprintf(why, sizeof why, "unsupported API %d version %d", req.api_key, req.api_version);
        sl_log(SL_WARN, "broker", "connection %" PRId64 " from %s: %s", conn->id, conn->peer, why);
        bk_conn_close(conn, why);
        return false;
    }
    req.flex = supported && api->first_flexible >= 0 && req.api_version >= api->first_flexible;
    if (req.flex)
        kr_tags(&req.r);
    if (req.r.err) {
        bk_conn_close(conn, "malformed request header tags");
        return false;
    }
    bk_resp_t *resp = resp_open(conn, &req);
    if (!resp) {
        bk_conn_close(conn, "out of memory");
        return false;
    }
    /* Here the API is supported, or it is ApiVersions with a version we do
     * not know, which its handler answers with UNSUPPORTED_VERSION. */
    int rc = api->handler(b, &req, resp);
    switch (rc) {
    case BK_DONE:
        bk_resp_finish(resp);
        return true;
    case BK_ASYNC:
        return true;
    case BK_NORESP:
        resp_drop_tail(conn, resp);
        return true;
    default: {
        char why[96];
        snprintf(why, sizeof why, "malformed API %d v%d request", req.api_key, req.api_version);
        sl_log(SL_WARN, "broker", "connection %" PRId64 " from %s: %s", conn->id, conn->peer, why);
        resp_drop_tail(conn, resp);
        bk_conn_close(conn, why);
        return false;
    }
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    bk_conn_t *conn = h->data;
    (void)suggested;
    if (sl_buf_reserve(&conn->in, READ_CHUNK)) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init((char *)conn->in.data + conn->in.len, READ_CHUNK);
}

/* Handle every whole frame in conn->in, then keep the partial rest.  Shared
 * by on_read and bk_debug_feed, so both go through the same framing checks. */
static void conn_consume(bk_conn_t *conn)
{
    size_t at = 0;
    while (!conn->closing && conn->in.len - at >= 4) {
        int32_t size = (int32_t)sl_be32(conn->in.data + at);
        if (size < 8 || size > conn->b->cfg.max_request_bytes) {
            char why[96];
            snprintf(why, sizeof why, "request size %d outside [8, %d]", size, conn->b->cfg.max_request_bytes);
            sl_log(SL_WARN, "broker", "connection %" PRId64 " from %s: %s", conn->id, conn->peer, why);
            bk_conn_close(conn, why);
            return;
        }
        if (conn->in.len - at - 4 < (size_t)size)
            break; /* wait for the rest; the buffer grows as bytes arrive, not
                      by the announced size, so a lying header costs nothing */
        if (!handle_frame(conn, conn->in.data + at + 4, (size_t)size))
            return;
        at += 4 + (size_t)size;
    }
    if (conn->closing)
        return;
    if (at) {
        memmove(conn->in.data, conn->in.data + at, conn->in.len - at);
        conn->in.len -= at;
    }
    /* Give back memory after a large request. */
    if (conn->in.len == 0 && conn->in.cap > 4 * 1024 * 1024)
        sl_buf_free(&conn->in);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    bk_conn_t *conn = s->data;
    (void)buf;
    if (n < 0) {
        bk_conn_close(conn, n == UV_EOF ? "closed by peer" : uv_strerror((int)n));
        return;
    }
    conn->in.len += (size_t)n;
    conn_consume(conn);
}

/* A connection object on b's loop, linked into b->conns; the caller accepts
 * a socket into conn->tcp (or leaves it without one: bk_debug_feed). */
static bk_conn_t *conn_new(sl_broker_t *b)
{
    bk_conn_t *conn = calloc(1, sizeof *conn);
    if (!conn)
        return NULL;
    conn->b = b;
    conn->id = ++b->next_conn_id;
    uv_tcp_init(&b->loop, &conn->tcp);
    conn->tcp.data = conn;
    snprintf(conn->peer, sizeof conn->peer, "?");
    conn->next = b->conns;
    if (b->conns)
        b->conns->prev = conn;
    b->conns = conn;
    return conn;
}

static void on_connection(uv_stream_t *server, int status)
{
    sl_broker_t *b = server->data;
    if (status < 0) {
        sl_log(SL_WARN, "broker", "accept: %s", uv_strerror(status));
        return;
    }
    bk_conn_t *conn = conn_new(b);
    if (!conn)
        return;
    if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
        bk_conn_close(conn, "accept failed");
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &len) == 0) {
        char ip[48] = "?";
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
            snprintf(conn->peer, sizeof conn->peer, "%s:%d", ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
            snprintf(conn->peer, sizeof conn->peer, "[%s]:%d", ip, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
        }
    }
    uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read);
}

int bk_debug_feed(sl_broker_t *b, const uint8_t *data, size_t len)
{
    bk_conn_t *conn = conn_new(b);
    if (!conn)
        return SL_B_ENOMEM;
    conn->detached = true;
    snprintf(conn->peer, sizeof conn->peer, "debug-feed");
    int rc = 0;
    if (sl_buf_append(&conn->in, data, len) == 0)
        conn_consume(conn);
    else
        rc = SL_B_ENOMEM;
    if (rc == 0 && conn->closing)
        rc = 1;
    bk_conn_close(conn, "end of debug feed");
    /* Completions posted during the feed (acks=all), then the close callbacks
     * of the connection and of its parked fetches' timers. */
    for (int i = 0; i < 4; i++)
        uv_run(&b->loop, UV_RUN_NOWAIT);
    return rc;
}

/* ---- cross-thread posts, the tick, lifecycle ----------------------------------------- */

void bk_post(sl_broker_t *b, void (*fn)(sl_broker_t *b, void *arg, int status), void *arg, int status)
{
    bk_post_item_t *it = malloc(sizeof *it);
    if (!it) {
        sl_log(SL_ERROR, "broker", "out of memory posting a completion");
        abort(); /* losing a completion would hang a client forever */
    }
    *it = (bk_post_item_t){NULL, fn, arg, status};
    pthread_mutex_lock(&b->post_mu);
    if (b->post_tail)
        b->post_tail->next = it;
    else
        b->post_head = it;
    b->post_tail = it;
    pthread_mutex_unlock(&b->post_mu);
    uv_async_send(&b->wake);
}

static bool run_posts(sl_broker_t *b)
{
    pthread_mutex_lock(&b->post_mu);
    bk_post_item_t *it = b->post_head;
    b->post_head = b->post_tail = NULL;
    bool stop = b->stop_requested;
    pthread_mutex_unlock(&b->post_mu);
    while (it) {
        bk_post_item_t *next = it->next;
        it->fn(b, it->arg, it->status);
        free(it);
        it = next;
    }
    return stop;
}

static void stop_serving(sl_broker_t *b)
{
    if (b->listening) {
        uv_close((uv_handle_t *)&b->listener, NULL);
        b->listening = false;
    }
    while (b->conns)
        bk_conn_close(b->conns, "broker stopping");
    uv_timer_stop(&b->tick);
}

static void on_wake(uv_async_t *a)
{
    sl_broker_t *b = a->data;
    if (run_posts(b)) {
        stop_serving(b);
        uv_stop(&b->loop);
    }
}

static void on_tick(uv_timer_t *t)
{
    sl_broker_t *b = t->data;
    int64_t now = sl_now_ms();
    bk_groups_tick(b, now);
    /* Retention and compaction every 10 s.  Runs on the loop: compaction of
     * a large segment stalls requests meanwhile (a worker thread is the next
     * step once topics get large). */
    if (now - b->last_maintain_ms >= 10000) {
        b->last_maintain_ms = now;
        for (int i = 0; i < b->ntopics; i++) {
            bk_topic_t *tp = b->topics[i];
            for (int p = 0; p < tp->npartitions; p++) {
                sl_err_t err = {0};
                if (sl_plog_maintain(tp->parts[p].log, now, &err) < 0)
                    sl_log(SL_WARN, "broker", "%s-%d: maintenance failed: %s", tp->name, p, err.msg);
            }
        }
    }
}

int sl_broker_open(const sl_broker_config_t *cfg, sl_broker_t **out, sl_err_t *err)
{
    sl_broker_t *b = calloc(1, sizeof *b);
    if (!b)
        return SL_B_ENOMEM;
    b->cfg = *cfg;
    b->last_maintain_ms = sl_now_ms();
    pthread_mutex_init(&b->post_mu, NULL);
    int rc = uv_loop_init(&b->loop);
    if (rc) {
        free(b);
        return sl_err_set(err, SL_B_EIO, "uv_loop_init: %s", uv_strerror(rc));
    }
    uv_async_init(&b->loop, &b->wake, on_wake);
    b->wake.data = b;
    uv_timer_init(&b->loop, &b->tick);
    b->tick.data = b;
    *out = b;
    if ((rc = bk_producers_open(b, err)) != 0 || (rc = bk_topics_load(b, err)) != 0 ||
        (rc = bk_groups_open(b, err)) != 0)
        goto fail;
    struct sockaddr_storage addr;
    if (uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&addr) != 0) {
        rc = sl_err_set(err, SL_B_EINVAL, "bad listen address '%s'", cfg->host);
        goto fail;
    }
    uv_tcp_init(&b->loop, &b->listener);
    b->listener.data = b;
    b->listening = true;
    if ((rc = uv_tcp_bind(&b->listener, (struct sockaddr *)&addr, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&b->listener, 511, on_connection)) != 0) {
        rc = sl_err_set(err, SL_B_EIO, "listen on %s:%d: %s", cfg->host, cfg->port, uv_strerror(rc));
        goto fail;
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&b->listener, (struct sockaddr *)&bound, &len);
    b->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    uv_timer_start(&b->tick, on_tick, 1000, 1000);
    return 0;
fail:
    sl_broker_close(b);
    *out = NULL;
    return rc;
}

int sl_broker_port(sl_broker_t *b) { return b->port; }

int sl_broker_run(sl_broker_t *b)
{
    sl_log(SL_INFO, "broker", "listening on %s:%d (data in %s)", b->cfg.host, b->port, b->cfg.data_dir);
    pthread_mutex_lock(&b->post_mu);
    b->running = true;
    b->loop_thread = pthread_self();
    bool stop = b->stop_requested;
    pthread_mutex_unlock(&b->post_mu);
    if (!stop)
        uv_run(&b->loop, UV_RUN_DEFAULT);
    pthread_mutex_lock(&b->post_mu);
    b->running = false;
    pthread_mutex_unlock(&b->post_mu);
    /* Posts that raced with the stop (embedded callers waiting on a call)
     * are run here, so nobody waits forever. */
    run_posts(b);
    return 0;
}

void sl_broker_stop(sl_broker_t *b)
{
    pthread_mutex_lock(&b->post_mu);
    b->stop_requested = true;
    pthread_mutex_unlock(&b->post_mu);
    uv_async_send(&b->wake);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void sl_broker_close(sl_broker_t *b)
{
    if (!b)
        return;
    stop_serving(b);
    bk_groups_close(b);
    bk_topics_close(b);      /* syncs logs: durable callbacks are posted */
    run_posts(b);            /* ... and answered (their connections are gone) */
    bk_producers_close(b);
    uv_walk(&b->loop, close_any, NULL);
    /* stop_serving() set the loop's stop flag, which would end a DEFAULT run
     * at once: spin NOWAIT until every close callback has run. */
    while (uv_run(&b->loop, UV_RUN_NOWAIT))
        ;
    if (uv_loop_close(&b->loop) != 0)
        sl_log(SL_WARN, "broker", "event loop closed with handles still open");
    pthread_mutex_destroy(&b->post_mu);
    free(b);
    sl_log(SL_INFO, "broker", "stopped");
}
