/* One runtime task over partition logs: reads its inputs, runs the sub-topology,
 * routes sink records into batches stamped with the task's producer id and
 * sequence numbers, and commits exactly once: ONE LMDB transaction holds the
 * state, input offsets, next sequences and the finished batches themselves,
 * which are appended only after it.  On open, checkpointed batches missing from
 * their log (found by producer id + sequence) are appended again. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/runtime.h"

#define META_NAME "sl.runtime"
#define META_OUTBOX "sl.runtime.outbox" /* the batches' bytes, as they will be appended */
#define BATCH_BYTES (256u * 1024) /* cut output batches well below max.message.bytes (1 MiB) */
#define OUTBOX_MAX (32u << 20)    /* commit early rather than hold more unpublished output */

static bool sub_replays_identically(const sl_runtime_t *rt, int sub);

static int task_fail(rt_task_t *t, int rc, const char *fmt, const char *msg)
{
    if (!t->fatal) {
        t->fatal = rc;
        sl_err_set(&t->fatal_err, rc, "task %d_%d: %s%s", t->sub, t->partition, fmt, msg);
    }
    return rc;
}

/* ---- outputs ---------------------------------------------------------------------------------------- */

static int out_finish(rt_task_t *t, size_t oi)
{
    rt_out_t *o = &t->outs[oi];
    if (!o->open)
        return 0;
    o->b.hdr.producer_id = t->pid;
    o->b.hdr.producer_epoch = 0;
    o->b.hdr.base_sequence = (int32_t)(o->seq & 0x7fffffff); /* wraps like Kafka's sequences */
    size_t off = t->outbox.len;
    int32_t count = o->b.count;
    sl_err_t e;
    sl_err_clear(&e);
    if (t->n_pend == t->cap_pend) {
        size_t cap = t->cap_pend ? t->cap_pend * 2 : 16;
        rt_pending_t *p = realloc(t->pend, cap * sizeof *p);
        if (!p)
            return task_fail(t, SL_E_NOMEM, "out of memory", "");
        t->pend = p;
        t->cap_pend = cap;
    }
    if (sl_batch_builder_finish(&o->b, &t->outbox, &e) != 0)
        return task_fail(t, SL_E_IO, "building an output batch: ", e.msg);
    o->open = false;
    if (t->replayable) {
        /* A replayable task may publish before it checkpoints (commit_replayable):
         * the batch goes to the log now, so that copying it into the page cache
         * and writing it back overlap the processing instead of the commit. */
        int rc = t->rt->logs->append(o->part, t->outbox.data + off, t->outbox.len - off, &e);
        t->outbox.len = off;
        if (rc != 0)
            return task_fail(t, SL_E_IO, "publishing output: ", e.msg);
        o->touched = true;
        o->seq += count;
        return 0;
    }
    t->pend[t->n_pend++] = (rt_pending_t){oi, o->seq, count, -1, off, t->outbox.len - off};
    o->seq += count;
    return 0;
}

/* The hand-off watermark of producer pid in task d (created at 0). */
static rt_applied_t *applied_get(rt_task_t *d, int64_t pid)
{
    for (size_t i = 0; i < d->n_applied; i++)
        if (d->applied[i].pid == pid)
            return &d->applied[i];
    rt_applied_t *a = realloc(d->applied, (d->n_applied + 1) * sizeof *a);
    if (!a)
        return NULL;
    d->applied = a;
    a[d->n_applied] = (rt_applied_t){pid, 0};
    return &a[d->n_applied++];
}

/* Drain every reader t hands records to (drain). */
static int drain_downs(rt_task_t *t);

/* After reader d processed what t handed it (rc, e: its result): d's failure
 * is t's too; then what d handed over in turn goes through. */
static int handed_over(rt_task_t *t, rt_task_t *d, int rc, const sl_err_t *e)
{
    if (rc) {
        task_fail(d, rc, "", e->msg);
        return task_fail(t, rc, "handing over to the next sub-topology: ", d->fatal_err.msg);
    }
    if (d->fatal || drain_downs(d) != 0)
        return task_fail(t, d->fatal, "handing over to the next sub-topology: ", d->fatal_err.msg);
    return 0;
}

/* Run the records queued for reader d (handed over by t) through it, then
 * what d handed over in turn. */
static int drain(rt_task_t *t, rt_task_t *d)
{
    rt_inq_t *q = d->inq;
    if (!q || !q->n)
        return 0;
    sl_err_t e;
    sl_err_clear(&e);
    int rc = sl_task_process_run(d->task, q->src, q->recs, q->n, &e);
    q->n = q->used = 0;
    return handed_over(t, d, rc, &e);
}

static int drain_downs(rt_task_t *t)
{
    for (size_t i = 0; i < t->n_down; i++)
        if (drain(t, t->down[i]) != 0)
            return t->fatal;
    return 0;
}

/* Bytes a queued record needs in the arena: 0 when they are borrowed. */
static size_t inq_need(const rt_task_t *t, const uint8_t *p, int32_t len)
{
    if (len <= 0 || (p >= t->in_lo && p + len <= t->in_hi))
        return 0;
    return (size_t)len;
}

static const uint8_t *inq_copy(rt_inq_t *q, const uint8_t *p, size_t need)
{
    if (!need)
        return p;
    uint8_t *at = q->arena + q->used;
    memcpy(at, p, need);
    q->used += need;
    return at;
}

/* Queue rec, its key and value bytes at key and value (borrowed or copied),
 * without headers.  Field by field: a wide copy of a record its writer has
 * just stored field by field stalls (store forwarding). */
static inline void inq_push(rt_inq_t *q, const sl_rec_t *rec, const uint8_t *key, const uint8_t *value)
{
    sl_rec_t *r = &q->recs[q->n++];
    r->key = key;
    r->key_len = rec->key_len;
    r->value = value;
    r->value_len = rec->value_len;
    r->timestamp = rec->timestamp;
    r->headers = NULL;
    r->header_count = 0;
}

/* A record handed over that does not wait in the queue (it has headers, or
 * does not fit in it): what waits goes first, then the record at once. */
static __attribute__((noinline)) int hand_off_now(rt_task_t *t, rt_out_t *o, const sl_rec_t *rec)
{
    rt_task_t *d = o->direct;
    if (drain(t, d) != 0)
        return t->fatal;
    sl_err_t e;
    sl_err_clear(&e);
    int rc = sl_task_process(d->task, o->direct_src, rec, &e);
    return handed_over(t, d, rc, &e);
}

/* Hand rec to the task reading output o (same worker thread), numbered with
 * the sequence it would have had in the log; one the reader has applied
 * already (replayed after a crash) is skipped: handed over before (below its
 * watermark), or in the log from a run that wrote it there (below skip_below:
 * the reader has read the log to its end, or o would not be linked).  The
 * record waits in the reader's queue (rt_inq_t) unless it has headers or does
 * not fit.  t->adds is counted by the caller. */
static __attribute__((noinline)) int hand_off_slow(rt_task_t *t, rt_out_t *o, const sl_rec_t *rec)
{
    rt_task_t *d = o->direct;
    int64_t seq = o->seq++;
    rt_applied_t *a = o->applied;
    if (seq < a->next || seq < o->skip_below)
        return 0;
    o->caught_up = true; /* from here every sequence is new to the reader: only o advances a->next */
    a->next = seq + 1;
    d->dirty = true;
    d->handed_in++;
    rt_inq_t *q = d->inq;
    if (!q || rec->header_count)
        return hand_off_now(t, o, rec);
    size_t need = inq_need(t, rec->key, rec->key_len), vneed = inq_need(t, rec->value, rec->value_len);
    if (q->n == RT_INQ_RECS || q->used + need + vneed > RT_INQ_ARENA) {
        if (need + vneed > RT_INQ_ARENA)
            return hand_off_now(t, o, rec);
        if (drain(t, d) != 0)
            return t->fatal;
    }
    const uint8_t *key = inq_copy(q, rec->key, need);
    inq_push(q, rec, key, inq_copy(q, rec->value, vneed));
    return 0;
}

/* hand_off_slow, with the usual case inline: the reader has none of o's
 * sequences from here on, the record has no headers, its bytes are borrowed
 * from the input being polled, and the queue has room. */
static inline __attribute__((always_inline)) int hand_off(rt_task_t *t, rt_out_t *o, const sl_rec_t *rec)
{
    rt_task_t *d = o->direct;
    rt_inq_t *q = d->inq;
    t->adds++;
    if (__builtin_expect(!o->caught_up || !q || rec->header_count || q->n == RT_INQ_RECS ||
                             inq_need(t, rec->key, rec->key_len) || inq_need(t, rec->value, rec->value_len),
                         0))
        return hand_off_slow(t, o, rec);
    o->applied->next = ++o->seq;
    d->dirty = true;
    d->handed_in++;
    inq_push(q, rec, rec->key, rec->value);
    return 0;
}

/* Add rec (plus `extra` headers) to output oi's batch in progress. */
static int out_add(rt_task_t *t, size_t oi, const sl_rec_t *rec, const sl_rec_header_t *extra, size_t n_extra)
{
    rt_out_t *o = &t->outs[oi];
    if (o->direct)
        return hand_off(t, o, rec);
    if (!o->open && o->seq < o->skip_below) { /* a replayed record the log has already */
        o->seq++;
        t->adds++;
        return 0;
    }
    size_t nh = rec->header_count + n_extra;
    t->adds++;
    if (nh > t->cap_hdrs) {
        sl_header_t *h = realloc(t->hdrs, nh * sizeof *h);
        if (!h)
            return task_fail(t, SL_E_NOMEM, "out of memory", "");
        t->hdrs = h;
        t->cap_hdrs = nh;
    }
    for (size_t i = 0; i < nh; i++) {
        const sl_rec_header_t *h = i < rec->header_count ? &rec->headers[i] : &extra[i - rec->header_count];
        t->hdrs[i] = (sl_header_t){(const uint8_t *)h->key, (int32_t)h->key_len, h->value, h->value_len};
    }
    if (!o->open) {
        sl_batch_builder_begin(&o->b, SL_COMPRESSION_NONE, 0);
        o->open = true;
    }
    if (sl_batch_builder_add(&o->b, rec->timestamp, rec->key, rec->key_len, rec->value, rec->value_len, t->hdrs,
                             (int32_t)nh) != 0)
        return task_fail(t, SL_E_NOMEM, "out of memory adding an output record", "");
    atomic_fetch_add_explicit(&t->records_out, 1, memory_order_relaxed);
    return o->b.records.len >= BATCH_BYTES ? out_finish(t, oi) : 0;
}

static size_t route(rt_task_t *t, const rt_sink_t *s, const sl_rec_t *rec)
{
    if (s->partitions == 1)
        return s->base;
    int32_t p = rec->key_len >= 0 ? sl_partition_for_key(rec->key, (size_t)rec->key_len, s->partitions)
                                  : t->partition % s->partitions; /* null key: stays with the task */
    return s->base + (size_t)p;
}

static int on_sink(void *arg, const char *topic, const sl_rec_t *rec, sl_err_t *err)
{
    rt_task_t *t = arg;
    if (t->last_sink < t->n_sinks && t->sinks[t->last_sink].name == topic) { /* the same sink node again */
        size_t oi = route(t, &t->sinks[t->last_sink], rec);
        int rc = t->outs[oi].direct ? hand_off(t, &t->outs[oi], rec) : out_add(t, oi, rec, NULL, 0);
        return rc ? sl_err_set(err, rc, "%s", t->fatal_err.msg) : 0;
    }
    for (size_t i = 0; i < t->n_sinks; i++) {
        const rt_sink_t *s = &t->sinks[i];
        if (s->name == topic || !strcmp(s->name, topic)) {
            t->last_sink = i;
            int rc = out_add(t, route(t, s, rec), rec, NULL, 0);
            return rc ? sl_err_set(err, rc, "%s", t->fatal_err.msg) : 0;
        }
    }
    return sl_err_set(err, SL_E_NOTFOUND, "task %d_%d: no output topic '%s'", t->sub, t->partition, topic);
}

/* The writer of a sink with one partition that is handed over in memory
 * (sl_task_set_sink, once linked): arg is that output. */
static int on_sink_direct(void *arg, const char *topic, const sl_rec_t *rec, sl_err_t *err)
{
    (void)topic;
    rt_out_t *o = arg;
    int rc = hand_off(o->owner, o, rec);
    return rc ? sl_err_set(err, rc, "%s", o->owner->fatal_err.msg) : 0;
}

static void on_dead_letter(void *arg, const char *node, const sl_rec_t *rec, const sl_err_t *err)
{
    rt_task_t *t = arg;
    sl_rec_header_t h[2] = {
        {"sl.error", 8, (const uint8_t *)err->msg, (int32_t)strlen(err->msg)},
        {"sl.node", 7, (const uint8_t *)node, (int32_t)strlen(node)},
    };
    const rt_sink_t *s = &t->sinks[t->dlq_sink];
    atomic_fetch_add_explicit(&t->dead_lettered, 1, memory_order_relaxed);
    out_add(t, route(t, s, rec), rec, h, 2); /* a failure is recorded in t->fatal */
}

/* ---- input -------------------------------------------------------------------------------------------- */

static int task_error(rt_task_t *t, sl_err_t *err)
{
    if (err)
        *err = t->fatal_err;
    return t->fatal;
}

/* Records of one stored batch at or after s->offset, through the task. */
/* Records a producer handed over directly before a crash, replayed into the
 * log after a restart that could not hand over, are applied already: the
 * sequence below which this batch's records are skipped, or -1. */
static int64_t handed_skip_below(const rt_task_t *t, const sl_batch_header_t *h)
{
    int64_t skip_below = -1;
    for (size_t i = 0; i < t->n_applied; i++)
        if (t->applied[i].pid == h->producer_id && h->base_sequence >= 0 && t->applied[i].next <= INT32_MAX)
            skip_below = t->applied[i].next;
    return skip_below;
}

/* Run record r of input s through the task. */
/* r as the operators see it, its headers decoded into *hv (grown as needed). */
static int to_rec(rt_task_t *t, const sl_record_t *r, sl_rec_header_t **hv, size_t *cap_hv, sl_rec_t *rec)
{
    if ((size_t)r->header_count > *cap_hv) {
        sl_rec_header_t *p = realloc(*hv, (size_t)r->header_count * sizeof *p);
        if (!p)
            return task_fail(t, SL_E_NOMEM, "out of memory", "");
        *hv = p;
        *cap_hv = (size_t)r->header_count;
    }
    size_t pos = 0, nh = 0;
    int32_t idx = 0;
    sl_header_t h;
    while (nh < *cap_hv && sl_record_header_next(r, &pos, &idx, &h) == 1)
        (*hv)[nh++] = (sl_rec_header_t){(const char *)h.key, h.key_len > 0 ? (size_t)h.key_len : 0, h.value,
                                        h.value_len};
    *rec = (sl_rec_t){r->key, r->key_len, r->value, r->value_len, r->timestamp, nh ? *hv : NULL, nh};
    return 0;
}

/* Through the task; `ets`: the event time already taken (merged inputs). */
static int process_record_at(rt_worker_t *w, rt_task_t *t, rt_src_t *s, const sl_record_t *r, const int64_t *ets)
{
    sl_err_t e;
    sl_err_clear(&e);
    sl_rec_t rec;
    if (to_rec(t, r, &w->hv, &w->cap_hv, &rec) != 0)
        return t->fatal;
    int rc = ets ? sl_task_process_at(t->task, s->source, &rec, *ets, &e) : sl_task_process(t->task, s->source, &rec, &e);
    if (rc)
        return task_fail(t, rc, "", e.msg);
    if (t->fatal)
        return t->fatal;
    s->offset = r->offset + 1;
    return 0;
}

static int process_record(rt_worker_t *w, rt_task_t *t, rt_src_t *s, const sl_record_t *r)
{
    return process_record_at(w, t, s, r, NULL);
}

/* Records of one stored batch at or after s->offset, through the task. */
static int poll_batch(rt_worker_t *w, rt_task_t *t, rt_src_t *s, const uint8_t *p, size_t len, int *n)
{
    sl_err_t e;
    sl_err_clear(&e);
    if (sl_batch_iter_start(&w->it, p, len, &e) != 0)
        return task_fail(t, SL_E_IO, "reading an input batch: ", e.msg);
    int64_t skip_below = handed_skip_below(t, &w->it.hdr);
    sl_record_t r;
    int rc;
    while ((rc = sl_batch_iter_next(&w->it, &r, &e)) == 1) {
        if (r.offset < s->offset)
            continue;
        if (skip_below >= 0 && w->it.hdr.base_sequence + (r.offset - w->it.hdr.base_offset) < skip_below) {
            s->offset = r.offset + 1;
            continue;
        }
        if ((rc = process_record(w, t, s, &r)) != 0)
            return rc;
        (*n)++;
    }
    if (rc < 0)
        return task_fail(t, SL_E_IO, "reading an input batch: ", e.msg);
    return drain_downs(t);
}

/* The next record of input i at or after its offset into c->r (c->have), or
 * c->have false when the chunk is used up. */
static int cursor_next(rt_task_t *t, size_t i)
{
    rt_cursor_t *c = &t->cursors[i];
    rt_src_t *s = &t->srcs[i];
    sl_err_t e;
    sl_err_clear(&e);
    c->have = false;
    for (;;) {
        if (c->in_batch) {
            int rc = sl_batch_iter_next(&c->it, &c->r, &e);
            if (rc < 0)
                return task_fail(t, SL_E_IO, "reading an input batch: ", e.msg);
            if (rc == 1) {
                if (c->r.offset < s->offset)
                    continue;
                if (c->skip_below >= 0 &&
                    c->it.hdr.base_sequence + (c->r.offset - c->it.hdr.base_offset) < c->skip_below) {
                    s->offset = c->r.offset + 1;
                    continue;
                }
                c->have = true;
                /* merged in event time: the source's timestamp function, when it has one */
                c->ets = c->r.timestamp;
                c->ets_known = false;
                sl_rec_t rec;
                bool ok;
                int64_t ets;
                if (to_rec(t, &c->r, &c->hv, &c->cap_hv, &rec) != 0)
                    return t->fatal;
                if (sl_task_event_time(t->task, s->source, &rec, &ets, &ok) && ok) {
                    c->ets = ets;
                    c->ets_known = true;
                }
                return 0;
            }
            c->in_batch = false;
            if (c->batch_end > s->offset) /* compacted gaps */
                s->offset = c->batch_end;
        }
        if (c->buf.len - c->pos < SL_BATCH_HEADER_SIZE)
            return 0;
        sl_batch_header_t h;
        const uint8_t *p = c->buf.data + c->pos;
        if (sl_batch_parse_header(p, c->buf.len - c->pos, &h, &e) != 0 || sl_batch_size(&h) > c->buf.len - c->pos)
            return task_fail(t, SL_E_IO, "reading input: ", e.msg[0] ? e.msg : "truncated batch");
        c->pos += sl_batch_size(&h);
        c->batch_end = h.base_offset + h.last_offset_delta + 1;
        if (h.attributes & SL_BATCH_ATTR_CONTROL) {
            if (c->batch_end > s->offset)
                s->offset = c->batch_end;
            continue;
        }
        if (sl_batch_iter_start(&c->it, p, sl_batch_size(&h), &e) != 0)
            return task_fail(t, SL_E_IO, "reading an input batch: ", e.msg);
        c->skip_below = handed_skip_below(t, &c->it.hdr);
        c->in_batch = true;
    }
}

/* Could input i still get records with older timestamps than what the
 * others hold?  Yes while its log has more, or while a task of this runtime
 * writing it (an internal topic) has not committed all of its own input: its
 * output is still to come.  Reads the writers' committed offsets (atomics). */
static bool may_have_more(rt_task_t *t, size_t i)
{
    sl_rt_logs_t *logs = t->rt->logs;
    if (t->srcs[i].offset < logs->readable_end(t->srcs[i].part))
        return true;
    for (rt_task_t **u = t->writers ? t->writers[i] : NULL; u && *u; u++)
        for (size_t k = 0; k < (*u)->n_srcs; k++)
            if (atomic_load(&(*u)->srcs[k].committed) < logs->readable_end((*u)->srcs[k].part))
                return true;
    return false;
}

/* A task with several inputs (a join, a merge): read a chunk of each, then
 * process their records in timestamp order (record timestamps, ties by input
 * order), like Kafka Streams' task, until an input's chunk runs out while its
 * log holds more (the next poll refills it; what the others had left is read
 * again then).  An input with nothing more in its log does not hold the
 * others back (Kafka's max.task.idle.ms = 0), unless it is an internal topic
 * whose writers in this runtime are still behind (may_have_more): then the
 * task waits for them, so a join after a re-key does not run its other side
 * ahead in event time. */
static int poll_merged(rt_worker_t *w, rt_task_t *t, int *n, sl_err_t *err)
{
    sl_runtime_t *rt = t->rt;
    if (!t->cursors) {
        if (!(t->cursors = calloc(t->n_srcs, sizeof *t->cursors))) {
            task_fail(t, SL_E_NOMEM, "out of memory", "");
            return task_error(t, err);
        }
        for (size_t i = 0; i < t->n_srcs; i++) {
            sl_buf_init(&t->cursors[i].buf);
            sl_batch_iter_init(&t->cursors[i].it);
        }
    }
    size_t chunk = rt->opts.max_poll_bytes / t->n_srcs > 65536 ? rt->opts.max_poll_bytes / t->n_srcs : 65536;
    for (size_t i = 0; i < t->n_srcs; i++) {
        rt_cursor_t *c = &t->cursors[i];
        sl_err_t e;
        sl_err_clear(&e);
        sl_buf_reset(&c->buf);
        c->pos = 0;
        c->in_batch = false;
        if (rt->logs->read(t->srcs[i].part, t->srcs[i].offset, chunk, &c->buf, &e) != 0) {
            task_fail(t, SL_E_IO, "reading input: ", e.msg);
            return task_error(t, err);
        }
        if (cursor_next(t, i) != 0)
            return task_error(t, err);
    }
    for (size_t i = 0; i < t->n_srcs; i++)
        if (!t->cursors[i].have && t->writers && t->writers[i] && may_have_more(t, i))
            return 0; /* an internal input is still being written: wait for it */
    for (;;) {
        size_t best = t->n_srcs;
        for (size_t i = 0; i < t->n_srcs; i++)
            if (t->cursors[i].have && (best == t->n_srcs || t->cursors[i].ets < t->cursors[best].ets))
                best = i;
        if (best == t->n_srcs)
            break;
        rt_cursor_t *c = &t->cursors[best];
        if (process_record_at(w, t, &t->srcs[best], &c->r, c->ets_known ? &c->ets : NULL) != 0 ||
            cursor_next(t, best) != 0)
            return task_error(t, err);
        (*n)++;
        if (!t->cursors[best].have && may_have_more(t, best))
            break;
        if ((*n & 1023) == 0 && (sl_env_checkpoint_wanted(t->env) || t->outbox.len > OUTBOX_MAX) &&
            rt_task_commit(t, err) != 0)
            return task_error(t, err);
    }
    return drain_downs(t) != 0 ? task_error(t, err) : 0;
}

int rt_task_poll(rt_worker_t *w, rt_task_t *t, sl_err_t *err)
{
    sl_runtime_t *rt = t->rt;
    int n = 0;
    if (t->fatal)
        return task_error(t, err);
    int64_t offsets_before = 0; /* inputs can move with nothing processed: control batches, compacted
                                 * gaps, records skipped as applied already; the move must be committed */
    for (size_t i = 0; i < t->n_srcs; i++)
        offsets_before += t->srcs[i].offset;
    if (t->n_srcs > 1 && poll_merged(w, t, &n, err) != 0)
        return t->fatal;
    for (size_t i = 0; t->n_srcs == 1 && i < t->n_srcs; i++) {
        rt_src_t *s = &t->srcs[i];
        sl_err_t e;
        sl_err_clear(&e);
        sl_buf_reset(&w->rbuf);
        if (rt->logs->read(s->part, s->offset, rt->opts.max_poll_bytes, &w->rbuf, &e) != 0) {
            task_fail(t, SL_E_IO, "reading input: ", e.msg);
            return task_error(t, err);
        }
        t->in_lo = w->rbuf.data; /* hand-offs borrow from it until poll_batch drains them */
        t->in_hi = w->rbuf.data + w->rbuf.len;
        size_t pos = 0;
        while (w->rbuf.len - pos >= SL_BATCH_HEADER_SIZE) {
            sl_batch_header_t h;
            const uint8_t *p = w->rbuf.data + pos;
            if (sl_batch_parse_header(p, w->rbuf.len - pos, &h, &e) != 0 || sl_batch_size(&h) > w->rbuf.len - pos) {
                task_fail(t, SL_E_IO, "reading input: ", e.msg[0] ? e.msg : "truncated batch");
                return task_error(t, err);
            }
            pos += sl_batch_size(&h);
            if (!(h.attributes & SL_BATCH_ATTR_CONTROL) && poll_batch(w, t, s, p, sl_batch_size(&h), &n) != 0)
                return task_error(t, err);
            if (h.base_offset + h.last_offset_delta + 1 > s->offset) /* control batches, compacted gaps */
                s->offset = h.base_offset + h.last_offset_delta + 1;
            bool want = sl_env_checkpoint_wanted(t->env) || t->outbox.len > OUTBOX_MAX;
            for (size_t d = 0; !want && d < t->n_down; d++) /* readers fed by hand-off fill up too */
                want = sl_env_checkpoint_wanted(t->down[d]->env) || t->down[d]->outbox.len > OUTBOX_MAX;
            if (want && rt_task_commit(t, err) != 0)
                return task_error(t, err);
        }
    }
    t->in_lo = t->in_hi = NULL;
    int64_t offsets_after = 0;
    for (size_t i = 0; i < t->n_srcs; i++) {
        offsets_after += t->srcs[i].offset;
        atomic_store_explicit(&t->srcs[i].polled, t->srcs[i].offset, memory_order_relaxed);
    }
    if (offsets_after != offsets_before)
        t->dirty = true;
    if (n > 0) {
        t->dirty = true;
        t->last_input_wall = sl_now_ms();
        t->stream_time_at_input = sl_task_stream_time(t->task);
        atomic_fetch_add_explicit(&t->records_in, (uint64_t)n, memory_order_relaxed);
    }
    for (size_t i = 0; i < t->n_down; i++) {
        rt_task_t *d = t->down[i];
        if (!d->handed_in)
            continue;
        d->last_input_wall = t->last_input_wall;
        d->stream_time_at_input = sl_task_stream_time(d->task);
        atomic_fetch_add_explicit(&d->records_in, d->handed_in, memory_order_relaxed);
        d->handed_in = 0;
    }
    return n;
}

/* ---- checkpoint metadata ----------------------------------------------------------------------------- */

static int pack_str(msgpack_packer *pk, const char *s) { return msgpack_pack_str_with_body(pk, s, strlen(s)); }

/* {"pid", "stream_time", "offsets": {topic: next offset}, "seqs": [[topic, partition, next seq]],
 *  "applied": [[producer id, next seq]] (hand-off watermarks),
 *  "outbox": [[topic, partition, seq, count, from_offset, offset, length]]}; offset and length
 * locate a batch in the META_OUTBOX item, which is the outbox buffer itself (no extra copy). */
static int meta_encode(rt_task_t *t)
{
    sl_runtime_t *rt = t->rt;
    msgpack_packer pk;
    sl_buf_reset(&t->meta);
    sl_codec_packer_init(&pk, &t->meta);
    size_t n_seq = 0;
    for (size_t i = 0; i < t->n_outs; i++)
        n_seq += t->outs[i].seq > 0 || t->outs[i].ckpt_end > 0;
    int rc = msgpack_pack_map(&pk, 6) || pack_str(&pk, "pid") || msgpack_pack_int64(&pk, t->pid) ||
             pack_str(&pk, "stream_time") || msgpack_pack_int64(&pk, sl_task_stream_time(t->task)) ||
             pack_str(&pk, "offsets") || msgpack_pack_map(&pk, (uint32_t)t->n_srcs);
    for (size_t i = 0; !rc && i < t->n_srcs; i++)
        rc = pack_str(&pk, t->srcs[i].topic) || msgpack_pack_int64(&pk, t->srcs[i].offset);
    rc = rc || pack_str(&pk, "seqs") || msgpack_pack_array(&pk, (uint32_t)n_seq);
    for (size_t i = 0; !rc && i < t->n_outs; i++)
        if (t->outs[i].seq > 0 || t->outs[i].ckpt_end > 0)
            rc = msgpack_pack_array(&pk, 4) || pack_str(&pk, rt->topics[t->outs[i].topic].name) ||
                 msgpack_pack_int32(&pk, t->outs[i].partition) || msgpack_pack_int64(&pk, t->outs[i].seq) ||
                 msgpack_pack_int64(&pk, t->outs[i].ckpt_end);
    rc = rc || pack_str(&pk, "applied") || msgpack_pack_array(&pk, (uint32_t)t->n_applied);
    for (size_t i = 0; !rc && i < t->n_applied; i++)
        rc = msgpack_pack_array(&pk, 2) || msgpack_pack_int64(&pk, t->applied[i].pid) ||
             msgpack_pack_int64(&pk, t->applied[i].next);
    rc = rc || pack_str(&pk, "outbox") || msgpack_pack_array(&pk, (uint32_t)t->n_pend);
    for (size_t i = 0; !rc && i < t->n_pend; i++) {
        const rt_pending_t *p = &t->pend[i];
        const rt_out_t *o = &t->outs[p->out];
        rc = msgpack_pack_array(&pk, 7) || pack_str(&pk, rt->topics[o->topic].name) ||
             msgpack_pack_int32(&pk, o->partition) || msgpack_pack_int64(&pk, p->seq) ||
             msgpack_pack_int32(&pk, p->count) || msgpack_pack_int64(&pk, p->from_offset) ||
             msgpack_pack_uint64(&pk, p->off) || msgpack_pack_uint64(&pk, p->len);
    }
    return rc ? SL_E_NOMEM : 0;
}

static bool str_is(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) && !memcmp(o->via.str.ptr, s, o->via.str.size);
}

static bool is_int(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

/* The output index of (topic, partition) named in a checkpoint, or -1. */
static long out_find(rt_task_t *t, const msgpack_object *topic, const msgpack_object *partition)
{
    if (topic->type != MSGPACK_OBJECT_STR || !is_int(partition))
        return -1;
    for (size_t i = 0; i < t->n_outs; i++) {
        const char *name = t->rt->topics[t->outs[i].topic].name;
        if (t->outs[i].partition == partition->via.i64 && strlen(name) == topic->via.str.size &&
            !memcmp(name, topic->via.str.ptr, topic->via.str.size))
            return (long)i;
    }
    return -1;
}

/* Append batch entry e of a checkpoint's outbox (bytes in `bytes`) unless
 * its log has it already. */
static int republish(rt_task_t *t, const msgpack_object *e, const sl_buf_t *bytes, sl_err_t *err)
{
    const msgpack_object *a = e->via.array.ptr;
    long oi = e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 7 ? out_find(t, &a[0], &a[1]) : -1;
    if (oi < 0 || !is_int(&a[2]) || !is_int(&a[4]) || a[5].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        a[6].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[5].via.u64 > bytes->len ||
        a[6].via.u64 > bytes->len - a[5].via.u64)
        return sl_err_set(err, SL_E_STORE, "task %d_%d: checkpoint outbox entry unreadable (or its topic is gone)",
                          t->sub, t->partition);
    rt_out_t *o = &t->outs[oi];
    sl_rt_logs_t *logs = t->rt->logs;
    int found = logs->find_batch(o->part, a[4].via.i64, t->pid, (int32_t)(a[2].via.i64 & 0x7fffffff), err);
    if (found < 0)
        return found;
    if (found)
        return 0;
    int rc = logs->append(o->part, bytes->data + a[5].via.u64, (size_t)a[6].via.u64, err);
    if (rc)
        return rc;
    o->touched = true;
    atomic_fetch_add_explicit(&t->rt->republished, 1, memory_order_relaxed);
    return 0;
}

static int sync_touched(rt_task_t *t, sl_err_t *err)
{
    for (size_t i = 0; i < t->n_outs; i++) {
        if (!t->outs[i].touched)
            continue;
        int rc = t->rt->logs->sync(t->outs[i].part, err);
        if (rc)
            return rc;
        t->outs[i].touched = false;
    }
    return 0;
}

static int meta_restore(rt_task_t *t, sl_err_t *err)
{
    sl_err_t e;
    sl_err_clear(&e);
    int rc = sl_env_meta_get(t->env, NULL, META_NAME, &t->meta, &e);
    if (rc == SL_S_ENOTFOUND)
        return 0;
    msgpack_object o;
    if (rc || sl_codec_decode(t->codec, t->meta.data, t->meta.len, &o) != 0 || o.type != MSGPACK_OBJECT_MAP)
        return sl_err_set(err, SL_E_STORE, "task %d_%d: checkpoint metadata unreadable: %s", t->sub, t->partition,
                          rc ? e.msg : "not a msgpack map");
    const msgpack_object *outbox = NULL;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        const msgpack_object *k = &o.via.map.ptr[i].key, *v = &o.via.map.ptr[i].val;
        if (str_is(k, "pid") && is_int(v)) {
            t->pid = v->via.i64;
        } else if (str_is(k, "stream_time") && is_int(v)) {
            sl_task_set_stream_time(t->task, v->via.i64);
        } else if (str_is(k, "offsets") && v->type == MSGPACK_OBJECT_MAP) {
            for (uint32_t j = 0; j < v->via.map.size; j++)
                for (size_t s = 0; s < t->n_srcs; s++)
                    if (is_int(&v->via.map.ptr[j].val) &&
                        v->via.map.ptr[j].key.type == MSGPACK_OBJECT_STR &&
                        v->via.map.ptr[j].key.via.str.size == strlen(t->srcs[s].topic) &&
                        !memcmp(v->via.map.ptr[j].key.via.str.ptr, t->srcs[s].topic, strlen(t->srcs[s].topic)))
                        t->srcs[s].offset = v->via.map.ptr[j].val.via.i64;
        } else if (str_is(k, "seqs") && v->type == MSGPACK_OBJECT_ARRAY) {
            for (uint32_t j = 0; j < v->via.array.size; j++) {
                const msgpack_object *x = &v->via.array.ptr[j];
                long oi = x->type == MSGPACK_OBJECT_ARRAY && x->via.array.size >= 3
                              ? out_find(t, &x->via.array.ptr[0], &x->via.array.ptr[1])
                              : -1;
                if (oi >= 0 && is_int(&x->via.array.ptr[2]))
                    t->outs[oi].seq = x->via.array.ptr[2].via.i64;
                if (oi >= 0 && x->via.array.size >= 4 && is_int(&x->via.array.ptr[3]))
                    atomic_store(&t->outs[oi].ckpt_end, x->via.array.ptr[3].via.i64);
            }
        } else if (str_is(k, "applied") && v->type == MSGPACK_OBJECT_ARRAY) {
            for (uint32_t j = 0; j < v->via.array.size; j++) {
                const msgpack_object *x = &v->via.array.ptr[j];
                if (x->type != MSGPACK_OBJECT_ARRAY || x->via.array.size != 2 || !is_int(&x->via.array.ptr[0]) ||
                    !is_int(&x->via.array.ptr[1]))
                    continue;
                rt_applied_t *a = applied_get(t, x->via.array.ptr[0].via.i64);
                if (!a)
                    return sl_err_set(err, SL_E_NOMEM, "out of memory");
                a->next = x->via.array.ptr[1].via.i64;
            }
        } else if (str_is(k, "outbox") && v->type == MSGPACK_OBJECT_ARRAY) {
            outbox = v;
        }
    }
    for (size_t s = 0; s < t->n_srcs; s++)
        atomic_store(&t->srcs[s].committed, t->srcs[s].offset);
    if (!outbox || !outbox->via.array.size)
        return 0;
    sl_buf_reset(&t->outbox); /* empty at open: borrow it for the saved bytes */
    if ((rc = sl_env_meta_get(t->env, NULL, META_OUTBOX, &t->outbox, &e)) != 0)
        return sl_err_set(err, SL_E_STORE, "task %d_%d: checkpoint outbox unreadable: %s", t->sub, t->partition,
                          e.msg);
    for (uint32_t j = 0; j < outbox->via.array.size; j++)
        if ((rc = republish(t, &outbox->via.array.ptr[j], &t->outbox, err)) != 0)
            return rc;
    sl_buf_reset(&t->outbox);
    return sync_touched(t, err);
}

/* ---- commit ------------------------------------------------------------------------------------------- */

/* Append every finished batch to its log, sync them, empty the outbox. */
static int publish_pending(rt_task_t *t)
{
    for (size_t i = 0; i < t->n_pend; i++) {
        rt_out_t *o = &t->outs[t->pend[i].out];
        sl_err_t e;
        sl_err_clear(&e);
        if (t->rt->logs->append(o->part, t->outbox.data + t->pend[i].off, t->pend[i].len, &e) != 0)
            return task_fail(t, SL_E_IO, "publishing output: ", e.msg);
        o->touched = true;
    }
    sl_err_t e;
    sl_err_clear(&e);
    if (sync_touched(t, &e) != 0)
        return task_fail(t, SL_E_IO, "", e.msg);
    t->n_pend = 0;
    sl_buf_reset(&t->outbox);
    return 0;
}

/* A commit is through: its input offsets are the committed ones. */
static void commit_done(rt_task_t *t, int64_t start_ns)
{
    for (size_t s = 0; s < t->n_srcs; s++)
        atomic_store(&t->srcs[s].committed, t->srcs[s].offset);
    t->dirty = false;
    atomic_fetch_add_explicit(&t->commits, 1, memory_order_relaxed);
    rt_stats_commit_done(t, start_ns);
}

/* A replayable task publishes first and checkpoints after: its outputs are
 * appended and synced, then ONE LMDB transaction records the input offsets,
 * the next sequence of each output and where its log ended.  A crash between
 * the two replays the inputs from the older checkpoint, which yields the same
 * records with the same sequences; those the log already holds are skipped
 * (rt_task_open scans each output log from the checkpoint's end for this
 * task's producer id).  No output byte is written twice. */
static int commit_replayable(rt_task_t *t, int64_t start_ns, sl_err_t *err)
{
    sl_err_t e;
    sl_err_clear(&e);
    int rc;
    if (publish_pending(t) != 0)
        return task_error(t, err);
    /* Where the next restart scans from.  While a replay is still skipping
     * what the log has (seq < skip_below), records beyond this checkpoint's
     * sequence already sit in the log: the scan must keep starting from the
     * older end, or the next restart would not find them and publish them twice. */
    for (size_t i = 0; i < t->n_outs; i++)
        if (t->outs[i].seq >= t->outs[i].skip_below)
            atomic_store(&t->outs[i].ckpt_end, t->rt->logs->end_offset(t->outs[i].part));
    if (meta_encode(t) != 0) {
        task_fail(t, SL_E_NOMEM, "out of memory", "");
        return task_error(t, err);
    }
    sl_meta_t meta[2] = {{META_NAME, t->meta.data, t->meta.len}, {META_OUTBOX, "", 0}};
    if ((rc = sl_env_checkpoint(t->env, meta, 2, &e)) != 0) {
        task_fail(t, SL_E_STORE, "checkpoint failed: ", e.msg);
        return task_error(t, err);
    }
    commit_done(t, start_ns);
    return 0;
}

/* Replayable task at open: for each output, the end of the sequences this
 * task's producer id already has in the log after the checkpoint's end. */
static int scan_published(rt_task_t *t, sl_err_t *err)
{
    sl_buf_t buf;
    sl_buf_init(&buf);
    int rc = 0;
    for (size_t i = 0; i < t->n_outs && !rc; i++) {
        rt_out_t *o = &t->outs[i];
        o->skip_below = o->seq;
        int64_t off = o->ckpt_end > 0 ? o->ckpt_end : 0, end = t->rt->logs->end_offset(o->part);
        while (off < end && !rc) {
            sl_buf_reset(&buf);
            if ((rc = t->rt->logs->read(o->part, off, 1u << 20, &buf, err)) != 0 || !buf.len)
                break;
            for (size_t pos = 0; pos + SL_BATCH_HEADER_SIZE <= buf.len;) {
                sl_batch_header_t h;
                sl_err_t e;
                sl_err_clear(&e);
                if (sl_batch_parse_header(buf.data + pos, buf.len - pos, &h, &e) != 0 ||
                    sl_batch_size(&h) > buf.len - pos) {
                    rc = sl_err_set(err, SL_E_IO, "task %d_%d: scanning an output log: %s", t->sub, t->partition,
                                    e.msg);
                    break;
                }
                if (h.producer_id == t->pid && h.base_sequence >= 0) { /* sequences wrap at 2^31 like Kafka's */
                    /* the distance from o->seq on the 2^31 ring, signed: a batch the
                     * checkpoint accounts for already (the scan may start before it) is behind */
                    int64_t d = ((int64_t)h.base_sequence - (o->seq & 0x7fffffff) + 0x80000000LL) % 0x80000000LL;
                    int64_t base = o->seq + (d >= 0x40000000LL ? d - 0x80000000LL : d);
                    if (base + h.last_offset_delta + 1 > o->skip_below)
                        o->skip_below = base + h.last_offset_delta + 1;
                }
                off = h.base_offset + h.last_offset_delta + 1;
                pos += sl_batch_size(&h);
            }
        }
    }
    sl_buf_free(&buf);
    return rc;
}

int rt_task_commit(rt_task_t *t, sl_err_t *err)
{
    if (t->fatal)
        return task_error(t, err);
    int64_t start_ns = sl_mono_ns();
    sl_err_t e;
    sl_err_clear(&e);
    int rc;
    /* What this task handed over must be in its readers' checkpoints before
     * this one says its inputs are consumed. */
    t->nested_ns = 0;
    if (drain_downs(t) != 0)
        return task_error(t, err);
    for (size_t i = 0; i < t->n_down; i++)
        if (t->down[i]->dirty) {
            int64_t d0 = sl_mono_ns();
            if ((rc = rt_task_commit(t->down[i], &e)) != 0) {
                task_fail(t, rc, "", e.msg);
                return task_error(t, err);
            }
            t->nested_ns += sl_mono_ns() - d0;
        }
    rc = sl_task_flush(t->task, &e);
    if (rc) {
        task_fail(t, SL_E_STORE, "flushing the stores: ", e.msg);
        return task_error(t, err);
    }
    if ((rc = sl_task_check(t->task, &e)) != 0) {
        task_fail(t, rc, "", e.msg);
        return task_error(t, err);
    }
    for (size_t i = 0; i < t->n_outs && !t->fatal; i++)
        out_finish(t, i);
    if (t->fatal)
        return task_error(t, err);
    if (t->replayable)
        return commit_replayable(t, start_ns, err);
    /* Every batch below lands at or after its log's end now: recovery looks for it from there. */
    for (size_t i = 0; i < t->n_pend; i++)
        t->pend[i].from_offset = t->rt->logs->end_offset(t->outs[t->pend[i].out].part);
    for (size_t i = 0; i < t->n_outs; i++) /* recovery searches from here (republish) */
        atomic_store(&t->outs[i].ckpt_end, t->rt->logs->end_offset(t->outs[i].part));
    if (meta_encode(t) != 0) {
        task_fail(t, SL_E_NOMEM, "out of memory", "");
        return task_error(t, err);
    }
    sl_meta_t meta[2] = {{META_NAME, t->meta.data, t->meta.len}, {META_OUTBOX, t->outbox.data, t->outbox.len}};
    if ((rc = sl_env_checkpoint(t->env, meta, 2, &e)) != 0) {
        task_fail(t, SL_E_STORE, "checkpoint failed: ", e.msg);
        return task_error(t, err);
    }
    /* The checkpoint holds the batches: from here a crash re-publishes them at open. */
    if (publish_pending(t) != 0)
        return task_error(t, err);
    commit_done(t, start_ns);
    return 0;
}

/* ---- open / close -------------------------------------------------------------------------------------- */

void rt_task_close(rt_task_t *t)
{
    sl_task_free(t->task);
    sl_env_close(t->env);
    sl_codec_free(t->codec);
    for (size_t i = 0; i < t->n_outs; i++)
        sl_batch_builder_free(&t->outs[i].b);
    free(t->outs);
    free(t->srcs);
    free(t->sinks);
    free(t->pend);
    free(t->hdrs);
    free(t->down);
    free(t->inq);
    free(t->applied);
    for (size_t i = 0; t->cursors && i < t->n_srcs; i++) {
        sl_buf_free(&t->cursors[i].buf);
        sl_batch_iter_free(&t->cursors[i].it);
        free(t->cursors[i].hv);
    }
    free(t->cursors);
    for (size_t i = 0; t->writers && i < t->n_srcs; i++)
        free(t->writers[i]);
    free(t->writers);
    sl_buf_free(&t->outbox);
    sl_buf_free(&t->meta);
    memset(t, 0, sizeof *t);
}

static int add_sink(rt_task_t *t, const char *name, size_t *index, sl_err_t *err)
{
    for (size_t i = 0; i < t->n_sinks; i++)
        if (!strcmp(t->sinks[i].name, name)) {
            *index = i;
            return 0;
        }
    int k = rt_topic_find(t->rt, name);
    rt_sink_t *s = realloc(t->sinks, (t->n_sinks + 1) * sizeof *s);
    if (!s)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    t->sinks = s;
    if (k < 0)
        return sl_err_set(err, SL_E_NOTFOUND, "task %d_%d: no topic '%s'", t->sub, t->partition, name);
    size_t base = t->n_outs;
    int32_t n = t->rt->topics[k].partitions;
    rt_out_t *o = realloc(t->outs, (base + (size_t)n) * sizeof *o);
    if (!o)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    t->outs = o;
    for (int32_t p = 0; p < n; p++) {
        memset(&o[base + (size_t)p], 0, sizeof *o);
        o[base + (size_t)p].owner = t;
        o[base + (size_t)p].topic = k;
        o[base + (size_t)p].partition = p;
        o[base + (size_t)p].part = t->rt->topics[k].parts[p];
        sl_batch_builder_init(&o[base + (size_t)p].b);
    }
    t->n_outs += (size_t)n;
    *index = t->n_sinks;
    t->sinks[t->n_sinks++] = (rt_sink_t){name, k, n, base};
    return 0;
}

/* A producer id of its own per task, stable across restarts: FNV-1a of the
 * app id and the task, in [2^62, 2^63) away from the small ids brokers hand out. */
static int64_t task_pid(const char *app, int sub, int partition)
{
    char s[300];
    snprintf(s, sizeof s, "%s/%d/%d", app, sub, partition);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = s; *c; c++)
        h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
    return (int64_t)((h & 0x3fffffffffffffffull) | 0x4000000000000000ull);
}

int rt_task_open(sl_runtime_t *rt, rt_task_t *t, int sub, int partition, sl_err_t *err)
{
    const sl_topo_t *topo = rt->topo;
    memset(t, 0, sizeof *t);
    t->rt = rt;
    t->sub = sub;
    t->partition = partition;
    t->pid = task_pid(topo->app_id, sub, partition);
    t->last_input_wall = sl_now_ms();
    t->stream_time_at_input = -1;
    sl_buf_init(&t->outbox);
    sl_buf_init(&t->meta);
    if (sl_codec_new(&t->codec) != 0)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/task-%d_%d", rt->state_dir, sub, partition);
    sl_env_config_t cfg;
    sl_env_config_default(&cfg);
    cfg.no_sync = !rt->opts.sync;
    sl_err_t e;
    sl_err_clear(&e);
    if (sl_env_open(dir, &cfg, &t->env, &e) != 0)
        return sl_err_set(err, SL_E_STORE, "opening state in %s: %s", dir, e.msg);
    sl_task_io_t io = {on_sink, on_dead_letter, t};
    int rc = sl_task_new(topo, sub, partition, t->env, &io, &t->task, err);
    if (rc)
        return rc;
    size_t n_src = 0;
    for (size_t i = 0; i < topo->n_nodes; i++)
        if (topo->nodes[i].sub == sub && topo->nodes[i].role == NODE_SOURCE)
            n_src += topo->nodes[i].n_topics;
    if (!(t->srcs = calloc(n_src ? n_src : 1, sizeof *t->srcs)))
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    for (size_t i = 0; i < topo->n_nodes; i++) {
        const topo_node_t *n = &topo->nodes[i];
        if (n->sub != sub)
            continue;
        for (size_t m = 0; n->role == NODE_SOURCE && m < n->n_topics; m++) {
            int k = rt_topic_find(rt, n->topics[m]);
            if (k < 0 || partition >= rt->topics[k].partitions)
                return sl_err_set(err, SL_E_NOTFOUND, "task %d_%d: topic '%s' has no partition %d", sub, partition,
                                  n->topics[m], partition);
            rt_src_t *s = &t->srcs[t->n_srcs++];
            s->topic = n->topics[m];
            s->source = sl_task_source(t->task, n->topics[m]);
            s->part = rt->topics[k].parts[partition];
            s->internal = sl_topo_topic_is_internal(topo, n->topics[m]);
        }
        size_t ignored;
        if (n->role == NODE_SINK && (rc = add_sink(t, n->topics[0], &ignored, err)) != 0)
            return rc;
    }
    if ((rc = add_sink(t, rt->dlq, &t->dlq_sink, err)) != 0)
        return rc;
    t->replayable = sub_replays_identically(rt, sub);
    if ((rc = meta_restore(t, err)) != 0)
        return rc;
    return t->replayable ? scan_published(t, err) : 0;
}

/* ---- hand-offs ------------------------------------------------------------------------------------------ */

/* A windowed aggregation that emits final results: it forwards a window
 * when a record moves stream time past its end plus grace, in the order of
 * the window store's scan, and never from a cache flush.  So what it forwards
 * follows from its checkpointed state and the records after it alone, as long
 * as stream time moves with records only (no idle timeout: a wall-clock
 * advance closes windows at a moment a replay would not repeat). */
static bool emits_by_records_only(const sl_runtime_t *rt, const topo_node_t *n)
{
    return n->role == NODE_OP && !n->join && n->spec.window.kind != SL_WINDOW_NONE &&
           n->spec.window.emit == SL_WINDOW_EMIT_FINAL && n->spec.ttl_ms <= 0 && rt->opts.idle_timeout_ms <= 0;
}

/* How many tasks of this runtime write topic: the partitions of each
 * sub-topology with a sink to it (a sub-topology has a task per partition of
 * its input).  The same in every run, whatever the thread count. */
static int32_t writer_tasks(const sl_runtime_t *rt, const char *topic)
{
    const sl_topo_t *topo = rt->topo;
    int32_t n = 0;
    for (size_t i = 0; i < topo->n_nodes; i++) {
        const topo_node_t *w = &topo->nodes[i];
        int32_t parts;
        sl_err_t e; /* checked when the runtime was made */
        if (w->role == NODE_SINK && !strcmp(w->topics[0], topic))
            n += rt_sub_partitions(rt, w->sub, &parts, &e) == 0 ? parts : 1;
    }
    return n;
}

/* A sub-topology may publish before it checkpoints, and hand records over,
 * only if replaying its input after a crash produces the same records in the
 * same order, so that sequence numbers identify them: per-record operators,
 * and of stateful ones only windows that emit final results (other stores'
 * cache flushes forward at commit times that differ between runs).  Its tasks
 * read one input, with one writer if it is internal: several inputs are
 * merged in an order that depends on what each log held at the time, and the
 * records several writers hand over in memory arrive in an order the
 * scheduling decides.  A replay repeats neither, and which records a window
 * finds late depends on it.  (Reading such an input from the log would fix
 * the order, at the price of the hand-off: Nexmark q5 1 thread ran at 396k
 * events/s that way, against 608k with the outbox.) */
static bool sub_replays_identically(const sl_runtime_t *rt, int sub)
{
    const sl_topo_t *topo = rt->topo;
    size_t inputs = 0;
    for (size_t i = 0; i < topo->n_nodes; i++) {
        const topo_node_t *n = &topo->nodes[i];
        if (n->sub != sub)
            continue;
        if (n->join || (n->store && !emits_by_records_only(rt, n)))
            return false;
        for (size_t m = 0; n->role == NODE_SOURCE && m < n->n_topics; m++)
            if (++inputs > 1 || (sl_topo_topic_is_internal(topo, n->topics[m]) && writer_tasks(rt, n->topics[m]) > 1))
                return false;
    }
    return inputs == 1;
}

/* The tasks writing topic (its dead letters aside) into out[]. */
static void writers_of(sl_runtime_t *rt, const char *topic, rt_task_t **out)
{
    size_t n = 0;
    for (size_t k = 0; k < rt->n_tasks; k++)
        for (size_t m = 0; m < rt->tasks[k].n_sinks; m++)
            if (m != rt->tasks[k].dlq_sink && !strcmp(rt->tasks[k].sinks[m].name, topic)) {
                out[n++] = &rt->tasks[k];
                break;
            }
}

static bool is_repartition(const sl_topo_t *topo, const char *topic)
{
    return sl_topo_topic_is_internal(topo, topic);
}

/* Link output o of task u to the task reading it when that task runs on the
 * same worker, reads nothing else, and has consumed everything the log holds
 * for it (so no record of u still waits there).  Exactly-once: the reader records per producer the
 * next sequence it applied (checkpointed with its state), skips sequences
 * below it (replays), and commits before its producer does (rt_task_commit),
 * so a producer's committed offsets never cover a record its reader lost. */
static int link_one(sl_runtime_t *rt, rt_task_t *u, rt_out_t *o, sl_err_t *err)
{
    const char *topic = rt->topics[o->topic].name;
    for (size_t i = 0; i < rt->n_tasks; i++) {
        rt_task_t *d = &rt->tasks[i];
        if (d->partition != o->partition || d->worker != u->worker || d == u)
            continue;
        /* A reader with other inputs (a join) interleaves them by reading each
         * in turn; records handed over would all arrive before what it reads
         * from the others, and a join would see its table behind its stream. */
        if (d->n_srcs != 1)
            return 0;
        for (size_t s = 0; s < d->n_srcs; s++) {
            if (strcmp(d->srcs[s].topic, topic) != 0)
                continue;
            if (d->srcs[s].offset < rt->logs->readable_end(d->srcs[s].part) ||
                d->srcs[s].offset < rt->logs->end_offset(d->srcs[s].part))
                return 0; /* records wait in the log: this run keeps using it */
            if (!d->inq && !(d->inq = calloc(1, sizeof *d->inq)))
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            d->inq->src = d->srcs[s].source;
            o->direct = d;
            o->direct_src = d->srcs[s].source;
            for (size_t k = 0; k < u->n_down; k++)
                if (u->down[k] == d)
                    return 0;
            rt_task_t **down = realloc(u->down, (u->n_down + 1) * sizeof *down);
            if (!down)
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            u->down = down;
            u->down[u->n_down++] = d;
            return 0;
        }
    }
    return 0;
}

/* For each input of a task with several: the tasks writing it when it is
 * internal (see may_have_more). */
static int link_writers(sl_runtime_t *rt, sl_err_t *err)
{
    for (size_t i = 0; i < rt->n_tasks; i++) {
        rt_task_t *d = &rt->tasks[i];
        if (d->n_srcs < 2)
            continue;
        if (!(d->writers = calloc(d->n_srcs, sizeof *d->writers)))
            return sl_err_set(err, SL_E_NOMEM, "out of memory");
        for (size_t s = 0; s < d->n_srcs; s++) {
            if (!sl_topo_topic_is_internal(rt->topo, d->srcs[s].topic))
                continue;
            if (!(d->writers[s] = calloc(rt->n_tasks + 1, sizeof *d->writers[s])))
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            writers_of(rt, d->srcs[s].topic, d->writers[s]);
        }
    }
    return 0;
}

/* Each linked output's entry in its reader's watermarks: made for every
 * producer first, then pointed at, since adding one may move the array. */
static int link_applied(sl_runtime_t *rt, sl_err_t *err)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < rt->n_tasks; i++)
            for (size_t k = 0; k < rt->tasks[i].n_outs; k++) {
                rt_out_t *o = &rt->tasks[i].outs[k];
                if (!o->direct)
                    continue;
                rt_applied_t *a = applied_get(o->direct, rt->tasks[i].pid);
                if (!a)
                    return sl_err_set(err, SL_E_NOMEM, "out of memory");
                o->applied = pass ? a : NULL;
            }
    return 0;
}

int rt_link_hand_offs(sl_runtime_t *rt, sl_err_t *err)
{
    size_t linked = 0;
    int wrc = link_writers(rt, err);
    if (wrc)
        return wrc;
    for (size_t i = 0; i < rt->n_tasks; i++) {
        rt_task_t *u = &rt->tasks[i];
        if (!sub_replays_identically(rt, u->sub))
            continue;
        for (size_t k = 0; k < u->n_sinks; k++) {
            if (k == u->dlq_sink || !is_repartition(rt->topo, u->sinks[k].name))
                continue;
            for (int32_t p = 0; p < u->sinks[k].partitions; p++) {
                rt_out_t *o = &u->outs[u->sinks[k].base + (size_t)p];
                int rc = link_one(rt, u, o, err);
                if (rc)
                    return rc;
                linked += o->direct != NULL;
            }
            if (u->sinks[k].partitions == 1 && u->outs[u->sinks[k].base].direct)
                sl_task_set_sink(u->task, u->sinks[k].name, on_sink_direct, &u->outs[u->sinks[k].base]);
        }
    }
    if (linked)
        sl_log(SL_DEBUG, "engine", "%zu repartition partition(s) handed over in memory (same worker)", linked);
    return link_applied(rt, err);
}

/* ---- purging internal topics ------------------------------------------------------------------------ */

int rt_task_purge(rt_task_t *t, int64_t now, sl_err_t *err)
{
    sl_runtime_t *rt = t->rt;
    if (!rt->logs->trim || now - t->last_purge_wall < rt->opts.purge_interval_ms)
        return 0;
    t->last_purge_wall = now;
    for (size_t i = 0; i < t->n_srcs; i++) {
        rt_src_t *s = &t->srcs[i];
        if (!s->internal)
            continue;
        int64_t before = atomic_load(&s->committed);
        for (size_t k = 0; k < rt->n_tasks; k++) { /* every task writing this partition */
            rt_task_t *u = &rt->tasks[k];
            for (size_t m = 0; m < u->n_sinks; m++) {
                if (m == u->dlq_sink || strcmp(u->sinks[m].name, s->topic) != 0 || t->partition >= u->sinks[m].partitions)
                    continue;
                int64_t end = atomic_load(&u->outs[u->sinks[m].base + (size_t)t->partition].ckpt_end);
                if (end < before)
                    before = end;
            }
        }
        if (before <= s->purged)
            continue;
        sl_err_t e;
        sl_err_clear(&e);
        if (rt->logs->trim(s->part, before, &e) != 0)
            return sl_err_set(err, SL_E_IO, "task %d_%d: purging %s: %s", t->sub, t->partition, s->topic, e.msg);
        s->purged = before;
    }
    return 0;
}
