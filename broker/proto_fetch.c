/* Fetch (with long polling) and ListOffsets.  A fetch answers at once when
 * min_bytes are available or max_wait_ms is 0; otherwise it is parked with a
 * timer and re-tried whenever one of its partitions gets an append, answering
 * with whatever is there when the wait runs out.  Stored batches are copied
 * from the log into the response unchanged (no re-encoding). */
#include "broker/bk.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct fetch_part {
    int32_t partition;
    int64_t offset;
    int32_t max_bytes;
} fetch_part_t;

typedef struct fetch_topic {
    char name[SL_TOPIC_NAME_MAX + 1];
    int32_t nparts;
    fetch_part_t *parts;
    uint64_t records, bytes; /* in the body fetch_write wrote last (counted when it is sent) */
} fetch_topic_t;

struct bk_fetch {
    bk_fetch_t *next;
    sl_broker_t *b;
    bk_resp_t *resp;
    bk_conn_t *conn;
    int16_t version;
    int32_t min_bytes, max_bytes;
    int32_t ntopics;
    fetch_topic_t *topics;
    size_t header_len; /* resp->buf length before the body */
    uv_timer_t timer;
};

static void fetch_free_cb(uv_handle_t *h)
{
    bk_fetch_t *f = h->data;
    for (int32_t i = 0; i < f->ntopics; i++)
        free(f->topics[i].parts);
    free(f->topics);
    free(f);
}

static void fetch_free(bk_fetch_t *f, bool timer_inited)
{
    if (timer_inited) {
        uv_close((uv_handle_t *)&f->timer, fetch_free_cb);
    } else {
        f->timer.data = f;
        fetch_free_cb((uv_handle_t *)&f->timer);
    }
}

/* Records in the stored batches p[0..len) (their headers' record counts). */
static uint64_t count_records(const uint8_t *p, size_t len)
{
    uint64_t n = 0;
    sl_batch_header_t h;
    while (len >= SL_BATCH_HEADER_SIZE && sl_batch_parse_header(p, len, &h, NULL) == 0 && sl_batch_size(&h) <= len) {
        n += (uint64_t)h.record_count;
        p += sl_batch_size(&h);
        len -= sl_batch_size(&h);
    }
    return n;
}

/* Add what the body just written holds to its topics' Fetch counters. */
static void fetch_count(sl_broker_t *b, bk_fetch_t *f)
{
    for (int32_t i = 0; i < f->ntopics; i++) {
        fetch_topic_t *t = &f->topics[i];
        bk_topic_t *topic = t->bytes ? bk_topic_find(b, t->name, (int32_t)strlen(t->name)) : NULL;
        if (topic) {
            topic->records_out += t->records;
            topic->bytes_out += t->bytes;
        }
    }
}

/* Write the body; returns the record bytes included, or <0 on memory error. */
static int64_t fetch_write(sl_broker_t *b, bk_fetch_t *f)
{
    kw_t w = bk_resp_writer(f->resp);
    int16_t v = f->version;
    int64_t total = 0;
    kw_i32(&w, 0); /* throttle */
    if (v >= 7) {
        kw_i16(&w, SL_KERR_NONE);
        kw_i32(&w, 0); /* session id: sessionless full fetches */
    }
    kw_arr(&w, false, f->ntopics);
    for (int32_t i = 0; i < f->ntopics; i++) {
        fetch_topic_t *t = &f->topics[i];
        bk_topic_t *topic = bk_topic_find(b, t->name, (int32_t)strlen(t->name));
        t->records = t->bytes = 0;
        kw_cstring(&w, false, t->name);
        kw_arr(&w, false, t->nparts);
        for (int32_t p = 0; p < t->nparts; p++) {
            fetch_part_t *fp = &t->parts[p];
            bk_partition_t *part = topic && fp->partition >= 0 && fp->partition < topic->npartitions
                                       ? &topic->parts[fp->partition]
                                       : NULL;
            int16_t err = part ? SL_KERR_NONE : SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            /* Only durable data is served: the high watermark. */
            int64_t hw = part ? sl_plog_high_watermark(part->log) : -1;
            int64_t start = part ? sl_plog_start_offset(part->log) : -1;
            kw_i32(&w, fp->partition);
            size_t err_at = f->resp->buf.len;
            kw_i16(&w, err);
            kw_i64(&w, hw);
            kw_i64(&w, hw); /* last stable offset: no transactions */
            if (v >= 5)
                kw_i64(&w, start);
            kw_arr(&w, false, -1); /* aborted transactions: none */
            if (v >= 11)
                kw_i32(&w, -1); /* preferred read replica */
            size_t len_at = kw_reserve32(&w);
            int32_t len = 0;
            int64_t room = (int64_t)f->max_bytes - total;
            if (part && room > 0 && fp->max_bytes > 0 && !w.err) {
                size_t limit = (size_t)(fp->max_bytes < room ? fp->max_bytes : room);
                size_t before = f->resp->buf.len;
                sl_err_t e = {0};
                int rc = sl_plog_read_durable(part->log, fp->offset, limit, &f->resp->buf, NULL, &e);
                if (rc) {
                    f->resp->buf.len = before;
                    err = bk_kerr_from_status(rc);
                    sl_put_be16(f->resp->buf.data + err_at, (uint16_t)err);
                } else {
                    len = (int32_t)(f->resp->buf.len - before);
                    total += len;
                    t->bytes += (uint64_t)len;
                    t->records += count_records(f->resp->buf.data + before, (size_t)len);
                }
            }
            kw_patch32(&w, len_at, len);
        }
    }
    return w.err ? -1 : total;
}

/* Try to answer; true when answered (the fetch may then be freed). */
static bool fetch_try(sl_broker_t *b, bk_fetch_t *f, bool force)
{
    f->resp->buf.len = f->header_len;
    int64_t total = fetch_write(b, f);
    if (total < 0 || total >= f->min_bytes || force) {
        if (total < 0) /* out of memory: answer with an empty body rather than hang */
            f->resp->buf.len = f->header_len;
        else
            fetch_count(b, f);
        bk_resp_finish(f->resp);
        return true;
    }
    f->resp->buf.len = f->header_len;
    return false;
}

static void unpark(sl_broker_t *b, bk_fetch_t *f)
{
    for (bk_fetch_t **pp = &b->parked; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            return;
        }
    }
}

static void on_fetch_timeout(uv_timer_t *t)
{
    bk_fetch_t *f = t->data;
    unpark(f->b, f);
    fetch_try(f->b, f, true);
    fetch_free(f, true);
}

/* A parked fetch becomes answerable when data turns durable (the high
 * watermark moves), which the log reports on its flusher thread. */
typedef struct durable_notice {
    sl_broker_t *b;
    char topic[SL_TOPIC_NAME_MAX + 1];
    int32_t partition;
} durable_notice_t;

static void on_durable_loop(sl_broker_t *b, void *arg, int status)
{
    (void)status;
    durable_notice_t *n = arg;
    kstr_t name = {n->topic, (int32_t)strlen(n->topic)};
    bk_partition_t *p = bk_partition_find(b, name, n->partition); /* the topic may be gone */
    if (p)
        bk_fetch_notify(b, p);
    free(n);
}

static void on_durable_thread(void *arg, int status)
{
    durable_notice_t *n = arg;
    bk_post(n->b, on_durable_loop, n, status);
}

void bk_fetch_notify_when_durable(sl_broker_t *b, bk_partition_t *p, int64_t end_offset)
{
    durable_notice_t *n = malloc(sizeof *n);
    if (!n)
        return;
    n->b = b;
    snprintf(n->topic, sizeof n->topic, "%s", p->topic->name);
    n->partition = p->id;
    sl_plog_on_durable(p->log, end_offset, on_durable_thread, n);
}

void bk_fetch_notify(sl_broker_t *b, bk_partition_t *p)
{
    bk_fetch_t **pp = &b->parked;
    while (*pp) {
        bk_fetch_t *f = *pp;
        bool involved = false;
        for (int32_t i = 0; i < f->ntopics && !involved; i++) {
            if (strcmp(f->topics[i].name, p->topic->name) != 0)
                continue;
            for (int32_t j = 0; j < f->topics[i].nparts && !involved; j++)
                involved = f->topics[i].parts[j].partition == p->id;
        }
        if (involved && fetch_try(b, f, false)) {
            *pp = f->next;
            uv_timer_stop(&f->timer);
            fetch_free(f, true);
            continue;
        }
        pp = &f->next;
    }
}

void bk_fetch_drop_conn(sl_broker_t *b, bk_conn_t *conn)
{
    bk_fetch_t **pp = &b->parked;
    while (*pp) {
        bk_fetch_t *f = *pp;
        if (f->conn != conn) {
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        uv_timer_stop(&f->timer);
        /* Never sent: marking it ready lets the connection free it. */
        f->resp->ready = true;
        fetch_free(f, true);
    }
}

int bk_handle_fetch(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    kr_t *r = &req->r;
    kr_i32(r); /* replica id */
    int32_t max_wait = kr_i32(r);
    int32_t min_bytes = kr_i32(r);
    int32_t max_bytes = kr_i32(r);
    kr_i8(r); /* isolation level: no transactions, so both levels read the same */
    if (v >= 7) {
        kr_i32(r); /* session id */
        kr_i32(r); /* session epoch */
    }
    int32_t ntopics = kr_array(r, 6);
    if (r->err)
        return BK_BAD;
    bk_fetch_t *f = calloc(1, sizeof *f);
    if (!f)
        return BK_BAD;
    f->b = b;
    f->resp = resp;
    f->conn = req->conn;
    f->version = v;
    f->min_bytes = min_bytes;
    f->max_bytes = max_bytes;
    f->header_len = resp->buf.len;
    f->topics = calloc((size_t)(ntopics ? ntopics : 1), sizeof *f->topics);
    if (!f->topics) {
        free(f);
        return BK_BAD;
    }
    size_t part_size = 4 + (v >= 9 ? 4 : 0) + 8 + (v >= 5 ? 8 : 0) + 4;
    for (int32_t i = 0; i < ntopics && !r->err; i++) {
        fetch_topic_t *t = &f->topics[i];
        f->ntopics = i + 1;
        kstr_t name = kr_str(r, false);
        int32_t np = kr_array(r, part_size);
        if (r->err)
            break;
        kstr_copy(name, t->name, sizeof t->name);
        t->parts = calloc((size_t)(np ? np : 1), sizeof *t->parts);
        if (!t->parts) {
            r->err = true;
            break;
        }
        t->nparts = np;
        for (int32_t p = 0; p < np; p++) {
            fetch_part_t *fp = &t->parts[p];
            fp->partition = kr_i32(r);
            if (v >= 9)
                kr_i32(r); /* current leader epoch */
            fp->offset = kr_i64(r);
            if (v >= 5)
                kr_i64(r); /* follower log start */
            fp->max_bytes = kr_i32(r);
        }
    }
    if (v >= 7) {
        int32_t nf = kr_array(r, 6);
        for (int32_t i = 0; i < nf && !r->err; i++) {
            kr_str(r, false);
            int32_t np = kr_array(r, 4);
            for (int32_t p = 0; p < np; p++)
                kr_i32(r);
        }
    }
    if (v >= 11)
        kr_str(r, false); /* rack id */
    if (r->err) {
        fetch_free(f, false);
        return BK_BAD;
    }
    if (fetch_try(b, f, max_wait <= 0)) {
        fetch_free(f, false);
        return BK_ASYNC; /* already finished by fetch_try */
    }
    uv_timer_init(&b->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, on_fetch_timeout, (uint64_t)max_wait, 0);
    f->next = b->parked;
    b->parked = f;
    return BK_ASYNC;
}

/* ---- ListOffsets ---------------------------------------------------------------- */

#define LATEST_TIMESTAMP -1
#define EARLIEST_TIMESTAMP -2

int bk_handle_list_offsets(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    kr_t *r = &req->r;
    kr_i32(r); /* replica id */
    if (v >= 2)
        kr_i8(r); /* isolation level */
    int32_t ntopics = kr_array(r, 6);
    kw_t w = bk_resp_writer(resp);
    if (v >= 2)
        kw_i32(&w, 0);
    kw_arr(&w, false, ntopics);
    for (int32_t i = 0; i < ntopics && !r->err; i++) {
        kstr_t name = kr_str(r, false);
        int32_t np = kr_array(r, v >= 4 ? 16 : 12);
        bk_topic_t *topic = bk_topic_find(b, name.p, name.len);
        kw_string(&w, false, name.p, name.len);
        kw_arr(&w, false, np);
        for (int32_t p = 0; p < np && !r->err; p++) {
            int32_t index = kr_i32(r);
            if (v >= 4)
                kr_i32(r); /* current leader epoch */
            int64_t ts = kr_i64(r);
            int16_t err = SL_KERR_NONE;
            int64_t offset = -1, found_ts = -1;
            if (!topic || index < 0 || index >= topic->npartitions) {
                err = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                sl_plog_t *log = topic->parts[index].log;
                if (ts == LATEST_TIMESTAMP) {
                    offset = sl_plog_end_offset(log);
                } else if (ts == EARLIEST_TIMESTAMP) {
                    offset = sl_plog_start_offset(log);
                } else if (ts < 0) {
                    err = SL_KERR_INVALID_REQUEST;
                } else {
                    sl_err_t e = {0};
                    int rc = sl_plog_lookup_time(log, ts, &offset, &found_ts, &e);
                    if (rc)
                        err = bk_kerr_from_status(rc);
                }
            }
            kw_i32(&w, index);
            kw_i16(&w, err);
            kw_i64(&w, found_ts);
            kw_i64(&w, offset);
            if (v >= 4)
                kw_i32(&w, err ? -1 : 0); /* leader epoch */
        }
    }
    if (r->err)
        return BK_BAD;
    return w.err ? BK_BAD : BK_DONE;
}
