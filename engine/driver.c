/* The test driver: runs every sub-topology of a topology for partition 0 in
 * the calling thread, the way Kafka Streams' TopologyTestDriver does.  Topics
 * are in-memory queues; records sunk to a topic some source reads (repartition
 * topics included) wait in one FIFO and are processed right after the record
 * that produced them, so a pipe call returns only when everything it caused is
 * done.  State is a real LMDB environment, checkpointed by sl_driver_commit
 * together with the input offsets and stream times. */
#include <stdlib.h>

#include "engine/topo.h"

#define META_NAME "sl.driver"

typedef struct qrec {
    struct qrec *next;
    int topic; /* index in sl_driver.topics */
    sl_rec_t rec;
    /* headers, then key, value and header bytes follow */
} qrec_t;

typedef struct consumer {
    sl_task_t *task;
    int source;
} consumer_t;

typedef struct dtopic {
    char *name;
    bool internal; /* a repartition topic: routed, never kept as output */
    qrec_t *head, *tail;
    size_t n;      /* unread output records */
    consumer_t *consumers;
    size_t n_consumers;
    int64_t offset; /* records piped in */
} dtopic_t;

struct sl_driver {
    const sl_topo_t *topo;
    sl_env_t *env;
    sl_driver_opts_t opts;
    char *dlq;
    sl_task_t **tasks; /* one per sub-topology, index = sub-topology */
    int n_tasks;
    dtopic_t *topics;
    size_t n_topics;
    qrec_t *pend_head, *pend_tail; /* records waiting for the tasks that read their topic */
    qrec_t *last_read;
    int64_t wall, last_commit;
    int fatal;
    sl_err_t fatal_err;
    sl_codec_t *codec;
    sl_buf_t scratch;
};

void sl_driver_opts_default(sl_driver_opts_t *o) { memset(o, 0, sizeof *o); }

/* ---- topics and queued records ---------------------------------------------------------------- */

static int topic_find(const sl_driver_t *d, const char *name)
{
    for (size_t i = 0; i < d->n_topics; i++)
        if (!strcmp(d->topics[i].name, name))
            return (int)i;
    return -1;
}

/* Index of topic `name`, created if new; -1 when out of memory. */
static int topic_get(sl_driver_t *d, const char *name)
{
    int i = topic_find(d, name);
    if (i >= 0)
        return i;
    dtopic_t *v = realloc(d->topics, (d->n_topics + 1) * sizeof *v);
    if (!v)
        return -1;
    d->topics = v;
    memset(&v[d->n_topics], 0, sizeof *v);
    if (!(v[d->n_topics].name = strdup(name)))
        return -1;
    return (int)d->n_topics++;
}

static size_t field_len(int32_t len) { return len > 0 ? (size_t)len : 0; }

/* memcpy that accepts a NULL source with length 0 (null and empty fields). */
static uint8_t *copy_bytes(uint8_t *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
    return dst + n;
}

/* One allocation holding a copy of rec plus `extra` headers appended. */
static qrec_t *qrec_new(int topic, const sl_rec_t *rec, const sl_rec_header_t *extra, size_t n_extra)
{
    size_t nh = rec->header_count + n_extra;
    size_t bytes = field_len(rec->key_len) + field_len(rec->value_len);
    for (size_t i = 0; i < nh; i++) {
        const sl_rec_header_t *h = i < rec->header_count ? &rec->headers[i] : &extra[i - rec->header_count];
        bytes += h->key_len + field_len(h->value_len);
    }
    qrec_t *q = malloc(sizeof *q + nh * sizeof(sl_rec_header_t) + bytes + 1);
    if (!q)
        return NULL;
    sl_rec_header_t *hv = (sl_rec_header_t *)(q + 1);
    uint8_t *p = (uint8_t *)(hv + nh);
    q->next = NULL;
    q->topic = topic;
    q->rec = *rec;
    q->rec.headers = nh ? hv : NULL;
    q->rec.header_count = nh;
    q->rec.key = p;
    p = copy_bytes(p, rec->key, field_len(rec->key_len));
    q->rec.value = p;
    p = copy_bytes(p, rec->value, field_len(rec->value_len));
    for (size_t i = 0; i < nh; i++) {
        const sl_rec_header_t *h = i < rec->header_count ? &rec->headers[i] : &extra[i - rec->header_count];
        hv[i] = *h;
        hv[i].key = (const char *)p;
        p = copy_bytes(p, h->key, h->key_len);
        hv[i].value = p;
        p = copy_bytes(p, h->value, field_len(h->value_len));
    }
    return q;
}

static void queue_push(qrec_t **head, qrec_t **tail, qrec_t *q)
{
    if (*tail)
        (*tail)->next = q;
    else
        *head = q;
    *tail = q;
}

static qrec_t *queue_pop(qrec_t **head, qrec_t **tail)
{
    qrec_t *q = *head;
    if (q && !(*head = q->next))
        *tail = NULL;
    return q;
}

static void queue_free(qrec_t *q)
{
    while (q) {
        qrec_t *next = q->next;
        free(q);
        q = next;
    }
}

/* Keep rec as output of topic t (unless internal) and queue it for its readers. */
static int topic_write(sl_driver_t *d, int t, const sl_rec_t *rec, const sl_rec_header_t *extra, size_t n_extra)
{
    dtopic_t *tp = &d->topics[t];
    if (!tp->internal) {
        qrec_t *q = qrec_new(t, rec, extra, n_extra);
        if (!q)
            return SL_E_NOMEM;
        queue_push(&tp->head, &tp->tail, q);
        tp->n++;
    }
    if (tp->n_consumers) {
        qrec_t *q = qrec_new(t, rec, extra, n_extra);
        if (!q)
            return SL_E_NOMEM;
        queue_push(&d->pend_head, &d->pend_tail, q);
    }
    return 0;
}

/* ---- the task callbacks ---------------------------------------------------------------------------- */

static int on_sink(void *arg, const char *topic, const sl_rec_t *rec, sl_err_t *err)
{
    sl_driver_t *d = arg;
    int t = topic_get(d, topic);
    if (t < 0 || topic_write(d, t, rec, NULL, 0))
        return sl_err_set(err, SL_E_NOMEM, "driver: out of memory writing to topic '%s'", topic);
    return 0;
}

static void on_dead_letter(void *arg, const char *node, const sl_rec_t *rec, const sl_err_t *err)
{
    sl_driver_t *d = arg;
    sl_rec_header_t h[2] = {
        {"sl.error", 8, (const uint8_t *)err->msg, (int32_t)strlen(err->msg)},
        {"sl.node", 7, (const uint8_t *)node, (int32_t)strlen(node)},
    };
    int t = topic_get(d, d->dlq);
    if ((t < 0 || topic_write(d, t, rec, h, 2)) && !d->fatal) {
        d->fatal = SL_E_NOMEM;
        sl_err_set(&d->fatal_err, SL_E_NOMEM, "driver: out of memory writing to the dead-letter topic");
    }
}

/* ---- processing ---------------------------------------------------------------------------------------- */

static int fail(sl_driver_t *d, int rc, const sl_err_t *e, sl_err_t *err)
{
    if (!d->fatal) {
        d->fatal = rc;
        d->fatal_err = *e;
    }
    if (err)
        *err = d->fatal_err;
    return d->fatal;
}

/* Every task writes what its operators hold outside their stores; returns how
 * many entries, or -1 when one failed (then d->fatal). */
static int sync_tasks(sl_driver_t *d, sl_err_t *err)
{
    int total = 0;
    for (int i = 0; i < d->n_tasks; i++) {
        sl_err_t e;
        sl_err_clear(&e);
        int n = sl_task_sync(d->tasks[i], &e);
        if (n < 0) {
            fail(d, -n, &e, err);
            return -1;
        }
        total += n;
    }
    return total;
}

/* One flush: operators write what they hold, stateful operators forward, sinks queue. */
static int flush_once(sl_driver_t *d, sl_err_t *err)
{
    sl_err_t e;
    sl_err_clear(&e);
    int rc = 0;
    for (int round = 0; round < 16; round++) { /* the flush may feed operators that hold updates again */
        int n = sync_tasks(d, err);
        if (n < 0)
            return d->fatal;
        if (round > 0 && n == 0)
            break;
        if ((rc = sl_env_flush(d->env, &e)) != 0)
            break;
    }
    if (rc) {
        sl_err_t m;
        sl_err_clear(&m);
        sl_err_set(&m, SL_E_STORE, "driver: flushing the stores: %s", e.msg);
        return fail(d, SL_E_STORE, &m, err);
    }
    for (int i = 0; i < d->n_tasks; i++)
        if ((rc = sl_task_check(d->tasks[i], &e)) != 0)
            return fail(d, rc, &e, err);
    return d->fatal ? fail(d, d->fatal, &d->fatal_err, err) : 0;
}

/* Give rec, read from topic t, to every task reading t. */
static int deliver(sl_driver_t *d, int t, const sl_rec_t *rec, sl_err_t *err)
{
    dtopic_t *tp = &d->topics[t];
    for (size_t i = 0; i < tp->n_consumers; i++) {
        sl_err_t e;
        sl_err_clear(&e);
        int rc = sl_task_process(tp->consumers[i].task, tp->consumers[i].source, rec, &e);
        if (rc)
            return fail(d, rc, &e, err);
        if (d->opts.flush == SL_DRIVER_FLUSH_EVERY_RECORD && (rc = flush_once(d, err)) != 0)
            return rc;
    }
    return d->fatal ? fail(d, d->fatal, &d->fatal_err, err) : 0;
}

static int drain(sl_driver_t *d, sl_err_t *err)
{
    qrec_t *q;
    while ((q = queue_pop(&d->pend_head, &d->pend_tail)) != NULL) {
        int rc = deliver(d, q->topic, &q->rec, err);
        free(q);
        if (rc)
            return rc;
    }
    return 0;
}

int sl_driver_flush(sl_driver_t *d, sl_err_t *err)
{
    if (d->fatal)
        return fail(d, d->fatal, &d->fatal_err, err);
    for (;;) { /* forwarded updates may reach other stores through repartition topics */
        int rc = flush_once(d, err);
        if (rc || !d->pend_head)
            return rc;
        if ((rc = drain(d, err)) != 0)
            return rc;
    }
}

/* Checkpoint metadata: {"offsets": {topic: n}, "stream_time": [t per sub-topology]}. */
static int meta_encode(sl_driver_t *d, sl_buf_t *out)
{
    msgpack_packer pk;
    sl_codec_packer_init(&pk, out);
    size_t n_in = 0;
    for (size_t i = 0; i < d->n_topics; i++)
        n_in += d->topics[i].offset > 0;
    int rc = msgpack_pack_map(&pk, 2) || msgpack_pack_str_with_body(&pk, "offsets", 7) ||
             msgpack_pack_map(&pk, (uint32_t)n_in);
    for (size_t i = 0; !rc && i < d->n_topics; i++)
        if (d->topics[i].offset > 0)
            rc = msgpack_pack_str_with_body(&pk, d->topics[i].name, strlen(d->topics[i].name)) ||
                 msgpack_pack_int64(&pk, d->topics[i].offset);
    rc = rc || msgpack_pack_str_with_body(&pk, "stream_time", 11) || msgpack_pack_array(&pk, (uint32_t)d->n_tasks);
    for (int i = 0; !rc && i < d->n_tasks; i++)
        rc = msgpack_pack_int64(&pk, sl_task_stream_time(d->tasks[i]));
    return rc ? SL_E_NOMEM : 0;
}

static bool str_is(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) && !memcmp(o->via.str.ptr, s, o->via.str.size);
}

static int meta_restore(sl_driver_t *d, sl_err_t *err)
{
    sl_err_t e;
    sl_err_clear(&e);
    sl_buf_reset(&d->scratch);
    int rc = sl_env_meta_get(d->env, NULL, META_NAME, &d->scratch, &e);
    if (rc == SL_S_ENOTFOUND)
        return 0;
    msgpack_object o;
    if (rc || sl_codec_decode(d->codec, d->scratch.data, d->scratch.len, &o) != 0 || o.type != MSGPACK_OBJECT_MAP)
        return sl_err_set(err, SL_E_STORE, "driver: checkpoint metadata '%s' unreadable: %s", META_NAME,
                          rc ? e.msg : "not a msgpack map");
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        const msgpack_object *k = &o.via.map.ptr[i].key, *v = &o.via.map.ptr[i].val;
        if (str_is(k, "offsets") && v->type == MSGPACK_OBJECT_MAP) {
            for (uint32_t j = 0; j < v->via.map.size; j++) {
                const msgpack_object_kv *kv = &v->via.map.ptr[j];
                char name[256];
                if (kv->key.type != MSGPACK_OBJECT_STR || kv->key.via.str.size >= sizeof name ||
                    kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                    continue;
                memcpy(name, kv->key.via.str.ptr, kv->key.via.str.size);
                name[kv->key.via.str.size] = '\0';
                int t = topic_get(d, name);
                if (t < 0)
                    return sl_err_set(err, SL_E_NOMEM, "out of memory");
                d->topics[t].offset = (int64_t)kv->val.via.u64;
            }
        } else if (str_is(k, "stream_time") && v->type == MSGPACK_OBJECT_ARRAY) {
            for (uint32_t j = 0; j < v->via.array.size && (int)j < d->n_tasks; j++) {
                const msgpack_object *x = &v->via.array.ptr[j];
                if (x->type == MSGPACK_OBJECT_POSITIVE_INTEGER || x->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                    sl_task_set_stream_time(d->tasks[j], x->via.i64);
            }
        }
    }
    return 0;
}

int sl_driver_commit(sl_driver_t *d, sl_err_t *err)
{
    int rc = sl_driver_flush(d, err);
    if (rc)
        return rc;
    sl_buf_reset(&d->scratch);
    if (meta_encode(d, &d->scratch))
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    sl_meta_t meta = {META_NAME, d->scratch.data, d->scratch.len};
    sl_err_t e;
    sl_err_clear(&e);
    if ((rc = sl_env_checkpoint(d->env, &meta, 1, &e)) != 0)
        return sl_err_set(err, SL_E_STORE, "driver: checkpoint failed: %s", e.msg);
    d->last_commit = d->wall;
    return 0;
}

int sl_driver_pipe_rec(sl_driver_t *d, const char *topic, const sl_rec_t *rec, sl_err_t *err)
{
    if (d->fatal)
        return fail(d, d->fatal, &d->fatal_err, err);
    int t = topic ? topic_find(d, topic) : -1;
    if (t < 0 || d->topics[t].n_consumers == 0 || d->topics[t].internal)
        return sl_err_set(err, SL_E_NOTFOUND, "driver: no source reads topic '%s'", topic ? topic : "(null)");
    d->topics[t].offset++;
    int rc = deliver(d, t, rec, err);
    if (!rc)
        rc = drain(d, err);
    if (!rc && sl_env_checkpoint_wanted(d->env))
        rc = sl_driver_commit(d, err); /* a cache holds more dirty bytes than its bound */
    return rc;
}

int sl_driver_pipe(sl_driver_t *d, const char *topic, const void *key, int32_t key_len, const void *value,
                   int32_t value_len, int64_t timestamp, sl_err_t *err)
{
    sl_rec_t rec = {
        .key = key,
        .key_len = key ? key_len : -1,
        .value = value,
        .value_len = value ? value_len : -1,
        .timestamp = timestamp,
    };
    return sl_driver_pipe_rec(d, topic, &rec, err);
}

int sl_driver_advance_time(sl_driver_t *d, int64_t ms, sl_err_t *err)
{
    if (ms < 0)
        return sl_err_set(err, SL_E_INVAL, "driver: time only moves forward");
    d->wall += ms;
    if (d->opts.commit_interval_ms > 0 && d->wall - d->last_commit >= d->opts.commit_interval_ms)
        return sl_driver_commit(d, err);
    return 0;
}

int sl_driver_advance_stream_time(sl_driver_t *d, int64_t t, sl_err_t *err)
{
    if (d->fatal)
        return fail(d, d->fatal, &d->fatal_err, err);
    for (int i = 0; i < d->n_tasks; i++) {
        sl_err_t e;
        sl_err_clear(&e);
        int rc = sl_task_advance(d->tasks[i], t, &e);
        if (rc < 0)
            return fail(d, rc, &e, err);
        if ((rc = drain(d, err)) != 0) /* what closed may feed later sub-topologies */
            return rc;
    }
    return d->fatal ? fail(d, d->fatal, &d->fatal_err, err) : 0;
}

int64_t sl_driver_wall_time(const sl_driver_t *d) { return d->wall; }

int64_t sl_driver_stream_time(const sl_driver_t *d, const char *node)
{
    int sub = sl_topo_node_subtopology(d->topo, node);
    return sub < 0 ? SL_E_NOTFOUND : sl_task_stream_time(d->tasks[sub]);
}

/* ---- outputs, stores, counters ------------------------------------------------------------------------ */

int sl_driver_read(sl_driver_t *d, const char *topic, sl_rec_t *out)
{
    free(d->last_read);
    d->last_read = NULL;
    int t = topic ? topic_find(d, topic) : -1;
    if (t < 0)
        return 0;
    dtopic_t *tp = &d->topics[t];
    qrec_t *q = queue_pop(&tp->head, &tp->tail);
    if (!q)
        return 0;
    tp->n--;
    d->last_read = q;
    *out = q->rec;
    return 1;
}

size_t sl_driver_queued(const sl_driver_t *d, const char *topic)
{
    int t = topic ? topic_find(d, topic) : -1;
    return t < 0 ? 0 : d->topics[t].n;
}

int64_t sl_driver_input_offset(const sl_driver_t *d, const char *topic)
{
    int t = topic ? topic_find(d, topic) : -1;
    return t < 0 ? 0 : d->topics[t].offset;
}

static sl_store_t *driver_store(sl_driver_t *d, const char *store)
{
    char name[SL_STORE_MAX_NAME + 1];
    int n = snprintf(name, sizeof name, "%s:0", store ? store : "");
    return n > 0 && (size_t)n < sizeof name ? sl_env_store(d->env, name) : NULL;
}

int sl_driver_store_get(sl_driver_t *d, const char *store, const void *key, size_t key_len, sl_buf_t *val)
{
    sl_store_t *s = driver_store(d, store);
    if (!s)
        return SL_E_NOTFOUND;
    if (sync_tasks(d, NULL) < 0)
        return d->fatal;
    const uint8_t *v;
    size_t n;
    int rc = sl_kv_get(s, NULL, key, key_len, &v, &n);
    if (rc)
        return rc == SL_S_ENOTFOUND ? SL_E_NOTFOUND : SL_E_STORE;
    sl_buf_reset(val);
    return sl_buf_append(val, v, n) ? SL_E_NOMEM : 0;
}

int sl_driver_store_count(sl_driver_t *d, const char *store, uint64_t *n)
{
    sl_store_t *s = driver_store(d, store);
    if (!s)
        return SL_E_NOTFOUND;
    if (sync_tasks(d, NULL) < 0)
        return d->fatal;
    return sl_kv_count(s, NULL, n) ? SL_E_STORE : 0;
}

static void stats_add(sl_op_stats_t *to, const sl_op_stats_t *s)
{
    to->records_in += s->records_in;
    to->dropped_null_key += s->dropped_null_key;
    to->dropped_null_value += s->dropped_null_value;
    to->dead_lettered += s->dead_lettered;
    to->updates_forwarded += s->updates_forwarded;
    to->late_records += s->late_records;
}

int sl_driver_node_stats(const sl_driver_t *d, const char *node, sl_op_stats_t *out)
{
    memset(out, 0, sizeof *out);
    int i = node ? topo_find(d->topo, node) : -1;
    if (i < 0)
        return SL_E_NOTFOUND;
    for (int k = 0; k < d->n_tasks; k++) {
        const sl_op_stats_t *s = sl_task_stats(d->tasks[k], i);
        if (s)
            stats_add(out, s);
    }
    return 0;
}

void sl_driver_stats(const sl_driver_t *d, sl_op_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < d->topo->n_nodes; i++)
        for (int k = 0; k < d->n_tasks; k++) {
            const sl_op_stats_t *s = sl_task_stats(d->tasks[k], (int)i);
            if (s)
                stats_add(out, s);
        }
}

/* ---- lifetime ------------------------------------------------------------------------------------------- */

void sl_driver_close(sl_driver_t *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_tasks; i++)
        sl_task_free(d->tasks[i]);
    free(d->tasks);
    sl_env_close(d->env);
    for (size_t i = 0; i < d->n_topics; i++) {
        queue_free(d->topics[i].head);
        free(d->topics[i].consumers);
        free(d->topics[i].name);
    }
    free(d->topics);
    queue_free(d->pend_head);
    free(d->last_read);
    free(d->dlq);
    sl_codec_free(d->codec);
    sl_buf_free(&d->scratch);
    free(d);
}

/* Topics and who reads them: every source topic, every sink topic, the
 * dead-letter topic; repartition topics are internal. */
static int wire_topics(sl_driver_t *d, sl_err_t *err)
{
    const sl_topo_t *t = d->topo;
    if (topic_get(d, d->dlq) < 0)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    for (size_t i = 0; i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        for (size_t m = 0; m < n->n_topics; m++) {
            int k = topic_get(d, n->topics[m]);
            if (k < 0)
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            d->topics[k].internal = n->internal;
            if (n->role != NODE_SOURCE)
                continue;
            dtopic_t *tp = &d->topics[k];
            consumer_t *c = realloc(tp->consumers, (tp->n_consumers + 1) * sizeof *c);
            if (!c)
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            tp->consumers = c;
            sl_task_t *task = d->tasks[n->sub];
            c[tp->n_consumers++] = (consumer_t){task, sl_task_source(task, n->topics[m])};
        }
    }
    return 0;
}

int sl_driver_new(const sl_topo_t *t, const char *dir, const sl_driver_opts_t *opts, sl_driver_t **out,
                  sl_err_t *err)
{
    *out = NULL;
    if (!t || !t->built || !dir)
        return sl_err_set(err, SL_E_INVAL, "sl_driver_new: needs a built topology and a folder");
    sl_driver_t *d = calloc(1, sizeof *d);
    if (!d)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    d->topo = t;
    if (opts)
        d->opts = *opts;
    d->wall = d->last_commit = d->opts.wall_clock_ms;
    sl_buf_init(&d->scratch);
    size_t dlq_len = strlen(t->app_id) + 8;
    if (d->opts.dlq_topic)
        d->dlq = strdup(d->opts.dlq_topic);
    else if ((d->dlq = malloc(dlq_len)) != NULL)
        snprintf(d->dlq, dlq_len, "%s-dlq", t->app_id);
    d->tasks = calloc((size_t)t->n_sub, sizeof *d->tasks);
    int rc = SL_E_NOMEM;
    if (!d->dlq || !d->tasks || sl_codec_new(&d->codec) != 0) {
        sl_err_set(err, rc, "out of memory");
        goto fail;
    }
    sl_env_config_t cfg;
    sl_env_config_default(&cfg);
    cfg.no_sync = !d->opts.sync;
    sl_err_t e;
    sl_err_clear(&e);
    if ((rc = sl_env_open(dir, &cfg, &d->env, &e)) != 0) {
        rc = sl_err_set(err, SL_E_STORE, "driver: opening state in %s: %s", dir, e.msg);
        goto fail;
    }
    sl_task_io_t io = {on_sink, on_dead_letter, d};
    for (int s = 0; s < t->n_sub; s++) {
        if ((rc = sl_task_new(t, s, 0, d->env, &io, &d->tasks[s], err)) != 0)
            goto fail;
        d->n_tasks++;
    }
    if ((rc = wire_topics(d, err)) != 0 || (rc = meta_restore(d, err)) != 0)
        goto fail;
    *out = d;
    return 0;
fail:
    sl_driver_close(d);
    return rc;
}
