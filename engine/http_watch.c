/* Push queries: GET /v1/tables/NAME/watch[?key=K&format=sse|lines] streams
 * the table's changes as they are committed.  Only committed state is ever
 * sent: every WATCH_POLL_MS the loop thread takes a snapshot of each
 * partition and, when the partition's checkpoint sequence moved, compares
 * what the watch covers (one key's value or windows; or the whole partition)
 * with what it saw at the previous commit.  A watch remembers a 64-bit hash
 * of each value it covers, so a key watch costs one lookup per commit and a
 * whole-table watch one cursor pass over each partition that committed
 * (O(keys): meant for tables up to some 100,000 keys; a change feed from the
 * checkpoint itself would make it O(changes)).  Several commits between two
 * polls arrive as one change per key, their net effect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/http_server.h"

#define KEEPALIVE_MS 15000
/* A whole-table watch keeps ~80 bytes per entry and rescans a partition per
 * commit on the server's thread: past this size, watch keys instead. */
#define WATCH_MAX_ENTRIES 250000
/* Events waiting for a client that reads slower than the table changes: past
 * this, the stream ends (with an error event) rather than grow without bound. */
#define WATCH_MAX_PENDING (8u << 20)

/* One thing a watch covers: a key (and window start, session bounds). */
typedef struct witem {
    uint64_t idh;  /* hash of (key, start, end); 0 marks an empty slot */
    uint64_t valh; /* hash of the value bytes */
    uint32_t gen;  /* the scan that last saw it */
    int64_t start, end;
    uint8_t *key;
    size_t key_len;
} witem_t;

typedef struct wmap {
    witem_t *slots;
    size_t cap, n; /* cap: a power of two, n <= cap / 2 */
} wmap_t;

struct http_watch {
    h2o_generator_t gen; /* first: h2o hands it back to proceed / stop */
    http_watch_t *next;
    sl_http_t *srv;
    h2o_req_t *req;
    char job[256];
    char table[SL_STORE_MAX_NAME + 1];
    bool has_key, sse;
    sl_buf_t key;
    int32_t n_parts;
    uint64_t *seq;
    wmap_t *maps;
    uint32_t scan_gen;
    int64_t window_size;
    sl_rt_table_t info;   /* kind and value encoding; name not used (the table may go) */
    sl_codec_t *codec;
    sl_buf_t sending, pending, row;
    bool in_flight, closed, finished, ending;
    uint64_t last_send;
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t item_hash(const sl_entry_t *e)
{
    uint64_t h = fnv1a(0xcbf29ce484222325ull, e->key, e->key_len);
    h = fnv1a(h, &e->start, sizeof e->start);
    h = fnv1a(h, &e->end, sizeof e->end);
    return h ? h : 1;
}

static void wmap_free(wmap_t *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static witem_t *wmap_find(wmap_t *m, uint64_t idh, const sl_entry_t *e)
{
    for (size_t i = idh & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        witem_t *it = &m->slots[i];
        if (it->idh == 0 || (it->idh == idh && it->start == e->start && it->end == e->end &&
                             it->key_len == e->key_len && !memcmp(it->key, e->key, e->key_len)))
            return it;
    }
}

static int wmap_grow(wmap_t *m)
{
    if (m->cap && m->n + 1 <= m->cap / 2)
        return 0;
    wmap_t bigger = {.cap = m->cap ? m->cap * 2 : 16};
    if (!(bigger.slots = calloc(bigger.cap, sizeof *bigger.slots)))
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        witem_t *it = &m->slots[i];
        if (!it->idh)
            continue;
        size_t j = it->idh & (bigger.cap - 1);
        while (bigger.slots[j].idh)
            j = (j + 1) & (bigger.cap - 1);
        bigger.slots[j] = *it;
        bigger.n++;
    }
    free(m->slots);
    *m = bigger;
    return 0;
}

/* ---- output ----------------------------------------------------------------------------------- */

static void send_now(http_watch_t *w, bool final)
{
    sl_buf_t tmp = w->sending;
    w->sending = w->pending;
    w->pending = tmp;
    sl_buf_reset(&w->pending);
    /* The last chunk is copied to the request's pool: the watch is freed at
     * the next poll, before h2o may have written it. */
    h2o_iovec_t iov = final ? h2o_strdup(&w->req->pool, w->sending.data ? (char *)w->sending.data : "", w->sending.len)
                            : h2o_iovec_init(w->sending.data ? (char *)w->sending.data : "", w->sending.len);
    w->in_flight = !final; /* h2o calls proceed for every chunk but the last */
    w->last_send = uv_now(&w->srv->loop);
    if (final)
        w->finished = true;
    h2o_send(w->req, &iov, 1, final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    http_watch_t *w = (http_watch_t *)g;
    w->in_flight = false;
    if (!w->closed && !w->finished && (w->pending.len || w->ending))
        send_now(w, w->ending);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    http_watch_t *w = (http_watch_t *)g;
    w->closed = true; /* freed by the next poll: h2o never calls back again */
}

/* Queue one event: SSE "event: E\ndata: {...}\n\n" or a JSON line
 * {"event":"E",...}.  obj is a JSON object ("{...}"). */
static int queue_event(http_watch_t *w, const char *event, const uint8_t *obj, size_t len)
{
    sl_buf_t *o = &w->pending;
    if (w->sse && http_json_fmt(o, "event: %s\ndata: ", event))
        return -1;
    if (http_json_fmt(o, "{\"event\":\"%s\"%s", event, len > 2 ? "," : "") ||
        sl_buf_append(o, obj + 1, len - 1))
        return -1;
    return sl_buf_append(o, w->sse ? "\n\n" : "\n", w->sse ? 2 : 1);
}

/* ---- scanning ------------------------------------------------------------------------------------ */

/* Compare one committed entry with what the watch saw; queue a change when
 * it is new or its value changed.  emit false: record only (the baseline). */
static int see_entry(http_watch_t *w, wmap_t *m, sl_store_kind_t kind, const sl_entry_t *e, bool emit)
{
    if (wmap_grow(m))
        return -1;
    uint64_t idh = item_hash(e), valh = fnv1a(0xcbf29ce484222325ull, e->val, e->val_len);
    witem_t *it = wmap_find(m, idh, e);
    bool changed = true;
    if (it->idh == 0) {
        if (!(it->key = malloc(e->key_len ? e->key_len : 1)))
            return -1;
        memcpy(it->key, e->key, e->key_len);
        it->key_len = e->key_len;
        it->idh = idh;
        it->start = e->start;
        it->end = e->end;
        m->n++;
    } else {
        changed = it->valh != valh;
    }
    it->valh = valh;
    it->gen = w->scan_gen;
    if (!changed || !emit)
        return 0;
    sl_buf_reset(&w->row);
    if (http_row_json(&w->row, &w->info, e, w->window_size, w->codec, true))
        return -1;
    return queue_event(w, "change", w->row.data, w->row.len);
}

/* Entries of the map not seen by the last scan were deleted: queue their
 * deletions and drop them (rebuilding the map without them). */
static int sweep(http_watch_t *w, wmap_t *m, sl_store_kind_t kind, bool emit)
{
    wmap_t kept = {0};
    for (size_t i = 0; i < m->cap; i++) {
        witem_t *it = &m->slots[i];
        if (!it->idh)
            continue;
        if (it->gen == w->scan_gen) {
            if (wmap_grow(&kept))
                return -1;
            size_t j = it->idh & (kept.cap - 1);
            while (kept.slots[j].idh)
                j = (j + 1) & (kept.cap - 1);
            kept.slots[j] = *it;
            kept.n++;
            continue;
        }
        if (emit) {
            sl_buf_reset(&w->row);
            int rc = sl_buf_append(&w->row, "{\"key\":", 7) || http_json_str(&w->row, it->key, it->key_len);
            if (!rc && kind != SL_STORE_KV) {
                int64_t end = kind == SL_STORE_WINDOW ? it->start + w->window_size : it->end;
                rc = http_json_fmt(&w->row, ",\"start\":%lld,\"end\":%lld", (long long)it->start, (long long)end);
            }
            if (rc || sl_buf_append(&w->row, "}", 1) || queue_event(w, "delete", w->row.data, w->row.len))
                return -1;
        }
        free(it->key);
    }
    free(m->slots);
    *m = kept;
    return 0;
}

/* Rescan partition p as of snap and queue what changed. */
static int scan_partition(http_watch_t *w, sl_store_t *s, sl_snap_t *snap, sl_store_kind_t kind, int32_t p, bool emit)
{
    w->scan_gen++;
    wmap_t *m = &w->maps[p];
    const uint8_t *k = w->key.data;
    size_t kl = w->key.len;
    int rc = 0;
    if (kind == SL_STORE_KV && w->has_key) {
        sl_entry_t e = {.key = k, .key_len = kl};
        rc = sl_kv_get(s, snap, k, kl, &e.val, &e.val_len);
        if (rc == 0)
            rc = see_entry(w, m, kind, &e, emit);
        else if (rc == SL_S_ENOTFOUND)
            rc = 0;
    } else {
        sl_iter_t *it = NULL;
        if (kind == SL_STORE_KV)
            rc = sl_kv_prefix(s, snap, "", 0, 0, &it, NULL);
        else if (kind == SL_STORE_WINDOW)
            rc = w->has_key ? sl_win_fetch(s, snap, k, kl, INT64_MIN, INT64_MAX, 0, &it, NULL)
                            : sl_win_fetch_all(s, snap, INT64_MIN, INT64_MAX, 0, &it, NULL);
        else
            rc = sl_sess_find(s, snap, w->has_key ? k : NULL, kl, INT64_MIN, INT64_MAX, 0, &it, NULL);
        sl_entry_t e;
        int n;
        while (rc == 0 && (n = sl_iter_next(it, &e)) != 0) {
            if (n < 0) {
                rc = n;
                break;
            }
            if (kind == SL_STORE_KV)
                e.start = e.end = 0;
            rc = see_entry(w, m, kind, &e, emit);
        }
        sl_iter_close(it);
    }
    return rc ? rc : sweep(w, m, kind, emit);
}

/* ---- lifecycle ------------------------------------------------------------------------------------ */

static void watch_free(http_watch_t *w)
{
    for (int32_t p = 0; w->maps && p < w->n_parts; p++)
        wmap_free(&w->maps[p]);
    free(w->maps);
    free(w->seq);
    sl_codec_free(w->codec);
    sl_buf_free(&w->key);
    sl_buf_free(&w->sending);
    sl_buf_free(&w->pending);
    sl_buf_free(&w->row);
    free(w);
}

/* Compare every partition with its last commit; 1 when the table is gone. */
static int watch_poll_one(http_watch_t *w)
{
    sl_http_t *h = w->srv;
    http_table_t t;
    if (http_find_table(h, w->table, &t) != 0 || strcmp(t.job, w->job) != 0 || t.info.partitions != w->n_parts)
        return 1;
    for (int32_t p = 0; p < w->n_parts; p++) {
        sl_env_t *env;
        sl_store_t *s;
        sl_snap_t *snap;
        if (sl_runtime_table_part(t.rt, t.index, p, &env, &s) != 0 || sl_snap_begin(env, &snap, NULL) != 0)
            return 1;
        uint64_t seq = sl_snap_seq(snap);
        int rc = 0;
        if (seq != w->seq[p]) {
            rc = scan_partition(w, s, snap, t.info.kind, p, true);
            w->seq[p] = seq;
        }
        sl_snap_end(snap);
        if (rc)
            return 1;
    }
    return 0;
}

void http_watch_poll(sl_http_t *h)
{
    pthread_rwlock_rdlock(&h->jobs_lock);
    uint64_t now = uv_now(&h->loop);
    for (http_watch_t **pw = &h->watches; *pw;) {
        http_watch_t *w = *pw;
        if (w->closed || (w->finished && !w->in_flight)) {
            *pw = w->next;
            watch_free(w);
            continue;
        }
        pw = &w->next;
        if (w->finished || w->ending)
            continue;
        bool gone = watch_poll_one(w) != 0;
        if (!gone && w->pending.len > WATCH_MAX_PENDING) {
            static const char slow[] = "{\"error\":\"the client reads slower than the table changes\"}";
            sl_buf_reset(&w->pending);
            queue_event(w, "end", (const uint8_t *)slow, sizeof slow - 1);
            if (!w->in_flight)
                send_now(w, true);
            else
                w->ending = true;
            continue;
        }
        if (gone) {
            queue_event(w, "end", (const uint8_t *)"{}", 2);
            if (!w->in_flight)
                send_now(w, true);
            else
                w->ending = true; /* on_proceed sends the last chunk */
            continue;
        }
        if (w->sse && !w->pending.len && now - w->last_send >= KEEPALIVE_MS)
            sl_buf_append(&w->pending, ": keepalive\n\n", 13);
        if (w->pending.len && !w->in_flight)
            send_now(w, false);
    }
    pthread_rwlock_unlock(&h->jobs_lock);
}

void http_watch_end_all(sl_http_t *h)
{
    for (http_watch_t *w = h->watches; w; w = w->next) {
        if (w->closed || w->finished || w->ending)
            continue;
        queue_event(w, "end", (const uint8_t *)"{}", 2);
        if (w->in_flight)
            w->ending = true;
        else
            send_now(w, true);
    }
}

int http_watch_start(sl_http_t *h, h2o_req_t *req, const http_table_t *t, const http_query_t *q, sl_buf_t *body)
{
    static const char *const allowed[] = {"key", "format"};
    char bad[80];
    if (http_query_check(q, allowed, 2, bad, sizeof bad) != 0)
        return http_error(body, 400, "unknown or malformed parameter '%s'", bad);
    http_watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return http_error(body, 500, "out of memory");
    w->gen.proceed = on_proceed;
    w->gen.stop = on_stop;
    w->srv = h;
    w->req = req;
    w->sse = true;
    snprintf(w->job, sizeof w->job, "%s", t->job);
    snprintf(w->table, sizeof w->table, "%s", t->info.name);
    sl_buf_t fmt;
    sl_buf_init(&fmt);
    int status = 0, rc = http_query_get(q, "format", &fmt);
    if (rc > 0 && fmt.len == 5 && !memcmp(fmt.data, "lines", 5))
        w->sse = false;
    else if (rc > 0 && !(fmt.len == 3 && !memcmp(fmt.data, "sse", 3)))
        status = http_error(body, 400, "parameter 'format': expected sse or lines");
    sl_buf_free(&fmt);
    if (!status && (rc = http_query_get(q, "key", &w->key)) < 0)
        status = http_error(body, 400, "malformed query string");
    w->has_key = rc > 0;
    if (!status && w->key.len > SL_STORE_MAX_KEY)
        status = http_error(body, 400, "key longer than %d bytes", SL_STORE_MAX_KEY);
    w->n_parts = t->info.partitions;
    w->info = t->info;
    if (!status && (w->n_parts <= 0 || !(w->seq = calloc((size_t)w->n_parts, sizeof *w->seq)) ||
                    !(w->maps = calloc((size_t)w->n_parts, sizeof *w->maps)) || sl_codec_new(&w->codec)))
        status = http_error(body, 500, "out of memory");
    /* The baseline: what is committed now; changes after it are streamed. */
    uint64_t entries = 0;
    for (int32_t p = 0; !status && p < w->n_parts; p++) {
        sl_env_t *env;
        sl_store_t *s;
        sl_snap_t *snap;
        if (sl_runtime_table_part(t->rt, t->index, p, &env, &s) != 0 || sl_snap_begin(env, &snap, NULL) != 0) {
            status = http_error(body, 503, "table '%s': partition %d is not readable", t->info.name, (int)p);
            break;
        }
        if (p == 0 && t->info.kind == SL_STORE_WINDOW)
            w->window_size = http_window_size(env, snap, s);
        uint64_t n = 0;
        if (!w->has_key && sl_store_entries(s, snap, &n) == 0 && (entries += n) > WATCH_MAX_ENTRIES) {
            status = http_error(body, 400, "table '%s' has more than %d entries: watch single keys (?key=K)",
                                t->info.name, WATCH_MAX_ENTRIES);
            sl_snap_end(snap);
            break;
        }
        w->seq[p] = sl_snap_seq(snap);
        if (scan_partition(w, s, snap, t->info.kind, p, false) != 0)
            status = http_error(body, 500, "table '%s': reading partition %d failed", t->info.name, (int)p);
        sl_snap_end(snap);
    }
    if (status) {
        watch_free(w);
        return status;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    const char *ctype = w->sse ? "text/event-stream" : "application/x-ndjson";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    h2o_start_response(req, &w->gen);
    sl_buf_t hello;
    sl_buf_init(&hello);
    rc = sl_buf_append(&hello, "{\"table\":", 9) || http_json_str(&hello, w->table, strlen(w->table));
    if (!rc && w->has_key)
        rc = sl_buf_append(&hello, ",\"key\":", 7) || http_json_str(&hello, w->key.data, w->key.len);
    rc = rc || sl_buf_append(&hello, "}", 1) || queue_event(w, "start", hello.data, hello.len);
    sl_buf_free(&hello);
    w->next = h->watches;
    h->watches = w;
    send_now(w, false);
    return 0;
}
