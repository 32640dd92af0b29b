/* Produce: validate and append each partition's batches, with idempotent-
 * producer de-duplication, then answer.  acks=0: no response; acks=1: answer
 * once appended (in the page cache); acks=all (-1): answer only when every
 * appended partition is fdatasync'd, through each log's group commit (the
 * flusher thread's callback is posted back to the loop thread). */
#include "broker/bk.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct produce_part {
    int32_t index;
    int16_t err;
    int64_t base_offset;
    int64_t log_start;
    int64_t durable_end; /* acks=all waits for offsets below this */
    const char *msg; /* static text or NULL */
} produce_part_t;

typedef struct produce_topic {
    char name[SL_TOPIC_NAME_MAX + 1];
    int32_t nparts;
    produce_part_t *parts;
} produce_topic_t;

typedef struct produce_ctx {
    sl_broker_t *b;
    bk_resp_t *resp;
    int16_t version;
    int32_t ntopics;
    produce_topic_t *topics;
    int pending; /* durable callbacks still to come */
} produce_ctx_t;

static void ctx_free(produce_ctx_t *c)
{
    for (int32_t i = 0; i < c->ntopics; i++)
        free(c->topics[i].parts);
    free(c->topics);
    free(c);
}

static int write_response(produce_ctx_t *c)
{
    kw_t w = bk_resp_writer(c->resp);
    int16_t v = c->version;
    kw_arr(&w, false, c->ntopics);
    for (int32_t i = 0; i < c->ntopics; i++) {
        produce_topic_t *t = &c->topics[i];
        kw_cstring(&w, false, t->name);
        kw_arr(&w, false, t->nparts);
        for (int32_t p = 0; p < t->nparts; p++) {
            produce_part_t *pp = &t->parts[p];
            kw_i32(&w, pp->index);
            kw_i16(&w, pp->err);
            kw_i64(&w, pp->err ? -1 : pp->base_offset);
            if (v >= 2)
                kw_i64(&w, -1); /* log_append_time_ms: create time is used */
            if (v >= 5)
                kw_i64(&w, pp->log_start);
            if (v >= 8) {
                kw_arr(&w, false, 0);
                kw_cstring(&w, false, pp->err ? pp->msg : NULL);
            }
        }
    }
    if (v >= 1)
        kw_i32(&w, 0); /* throttle_time_ms */
    return w.err ? BK_BAD : BK_DONE;
}

typedef struct durable_wait {
    produce_ctx_t *ctx;
    produce_part_t *part;
} durable_wait_t;

/* Drop one reference; the last answers the client. */
static void ctx_release(produce_ctx_t *c)
{
    if (--c->pending == 0) {
        write_response(c);
        bk_resp_finish(c->resp);
        ctx_free(c);
    }
}

static void on_durable_loop(sl_broker_t *b, void *arg, int status)
{
    (void)b;
    durable_wait_t *dw = arg;
    produce_ctx_t *c = dw->ctx;
    if (status != 0) {
        dw->part->err = status == SL_B_ECLOSED ? SL_KERR_NOT_LEADER_OR_FOLLOWER : SL_KERR_KAFKA_STORAGE_ERROR;
        dw->part->msg = status == SL_B_ECLOSED ? "broker shutting down" : "fdatasync failed";
    }
    free(dw);
    ctx_release(c);
}

/* Called on a log's flusher thread (or inline): hand over to the loop. */
static void on_durable_thread(void *arg, int status)
{
    durable_wait_t *dw = arg;
    bk_post(dw->ctx->b, on_durable_loop, dw, status);
}

/* Append every batch of one partition's records. */
static void append_records(sl_broker_t *b, int16_t version, bk_partition_t *part, kstr_t records, produce_part_t *pp)
{
    const uint8_t *p = (const uint8_t *)records.p;
    size_t left = records.len < 0 ? 0 : (size_t)records.len;
    bool first = true;
    int64_t now = sl_now_ms();
    if (left == 0) {
        pp->err = SL_KERR_CORRUPT_MESSAGE;
        pp->msg = "empty record set";
        return;
    }
    while (left > 0) {
        if (left > SL_BATCH_OFF_MAGIC && p[SL_BATCH_OFF_MAGIC] < 2) {
            pp->err = SL_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
            pp->msg = "message format v0/v1: only record batches (magic 2) are supported";
            return;
        }
        sl_batch_header_t h;
        sl_err_t err = {0};
        int rc = left >= SL_BATCH_HEADER_SIZE ? sl_batch_parse_header(p, left, &h, &err) : SL_B_ETRUNCATED;
        if (rc == 0 && sl_batch_size(&h) > left)
            rc = SL_B_ETRUNCATED;
        if (rc) {
            pp->err = rc == SL_B_EUNSUPPORTED ? SL_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT : SL_KERR_CORRUPT_MESSAGE;
            pp->msg = "malformed record batch";
            return;
        }
        size_t size = sl_batch_size(&h);
        int codec = h.attributes & SL_BATCH_ATTR_COMPRESSION_MASK;
        if (codec == SL_COMPRESSION_ZSTD && version < 7) {
            pp->err = SL_KERR_UNSUPPORTED_COMPRESSION_TYPE;
            pp->msg = "zstd needs Produce v7 or later";
            return;
        }
        if (h.attributes & (SL_BATCH_ATTR_TRANSACTIONAL | SL_BATCH_ATTR_CONTROL)) {
            pp->err = SL_KERR_INVALID_TXN_STATE;
            pp->msg = "transactions are not supported";
            return;
        }
        int64_t dup_offset = -1;
        int16_t kerr = h.producer_id >= 0 ? bk_pstate_check(part, &h, &dup_offset) : SL_KERR_NONE;
        if (kerr == SL_KERR_DUPLICATE_SEQUENCE_NUMBER) {
            /* Already stored: acknowledge with the original offset. */
            if (first)
                pp->base_offset = dup_offset;
        } else if (kerr != SL_KERR_NONE) {
            pp->err = kerr;
            pp->msg = "idempotent producer sequence check failed";
            return;
        } else {
            sl_append_info_t info;
            rc = sl_plog_append(part->log, p, size, now, &info, &err);
            if (rc) {
                pp->err = bk_kerr_from_status(rc);
                pp->msg = "append refused";
                sl_log(SL_DEBUG, "broker", "%s-%d: append refused: %s", part->topic->name, part->id, err.msg);
                return;
            }
            if (h.producer_id >= 0)
                bk_pstate_update(part, &h, info.base_offset);
            part->topic->records_in += (uint64_t)info.record_count;
            part->topic->bytes_in += size;
            if (first)
                pp->base_offset = info.base_offset;
        }
        first = false;
        p += size;
        left -= size;
    }
    pp->log_start = sl_plog_start_offset(part->log);
    pp->durable_end = sl_plog_end_offset(part->log);
    bk_fetch_notify_when_durable(b, part, pp->durable_end);
}

int bk_handle_produce(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    kr_t *r = &req->r;
    /* v0-v2 are accepted (and advertised) because librdkafka < 2.10 only
     * compresses with gzip, snappy or lz4 when the broker lists Produce v0;
     * their message sets (magic 0/1) are refused below, and librdkafka
     * sends v3+ with record batches anyway. */
    kstr_t txn = req->api_version >= 3 ? kr_str(r, true) : (kstr_t){NULL, -1};
    int16_t acks = kr_i16(r);
    kr_i32(r); /* timeout_ms: appends do not time out */
    int32_t ntopics = kr_array(r, 6);
    if (r->err)
        return BK_BAD;
    produce_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        return BK_BAD;
    c->b = b;
    c->resp = resp;
    c->version = req->api_version;
    c->topics = calloc((size_t)(ntopics ? ntopics : 1), sizeof *c->topics);
    if (!c->topics) {
        free(c);
        return BK_BAD;
    }
    bool bad_acks = acks != 0 && acks != 1 && acks != -1;
    for (int32_t i = 0; i < ntopics && !r->err; i++) {
        produce_topic_t *t = &c->topics[i];
        c->ntopics = i + 1;
        kstr_t name = kr_str(r, false);
        int32_t nparts = kr_array(r, 8);
        if (r->err)
            break;
        kstr_copy(name, t->name, sizeof t->name);
        t->parts = calloc((size_t)(nparts ? nparts : 1), sizeof *t->parts);
        if (!t->parts) {
            r->err = true;
            break;
        }
        t->nparts = nparts;
        bk_topic_t *topic = bk_topic_find(b, name.p, name.len);
        for (int32_t p = 0; p < nparts && !r->err; p++) {
            produce_part_t *pp = &t->parts[p];
            pp->index = kr_i32(r);
            kstr_t records = kr_bytes(r, true);
            pp->log_start = -1;
            if (r->err)
                break;
            if (bad_acks) {
                pp->err = SL_KERR_INVALID_REQUIRED_ACKS;
            } else if (txn.len >= 0) {
                pp->err = SL_KERR_INVALID_TXN_STATE;
                pp->msg = "transactions are not supported";
            } else if (!topic || pp->index < 0 || pp->index >= topic->npartitions) {
                pp->err = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                append_records(b, req->api_version, &topic->parts[pp->index], records, pp);
            }
        }
    }
    if (r->err) {
        ctx_free(c);
        return BK_BAD;
    }
    if (acks == 0) {
        ctx_free(c);
        return BK_NORESP;
    }
    if (acks == -1) {
        /* One durable wait per appended partition; pending starts at 1 so
         * that callbacks answered synchronously cannot finish early. */
        c->pending = 1;
        for (int32_t i = 0; i < c->ntopics; i++) {
            bk_topic_t *topic = bk_topic_find(b, c->topics[i].name, (int32_t)strlen(c->topics[i].name));
            for (int32_t p = 0; topic && p < c->topics[i].nparts; p++) {
                produce_part_t *pp = &c->topics[i].parts[p];
                if (pp->err)
                    continue;
                durable_wait_t *dw = malloc(sizeof *dw);
                if (!dw) {
                    pp->err = SL_KERR_UNKNOWN_SERVER_ERROR;
                    continue;
                }
                *dw = (durable_wait_t){c, pp};
                c->pending++;
                sl_plog_on_durable(topic->parts[pp->index].log, pp->durable_end, on_durable_thread, dw);
            }
        }
        ctx_release(c);
        return BK_ASYNC;
    }
    int rc = write_response(c);
    ctx_free(c);
    return rc;
}
