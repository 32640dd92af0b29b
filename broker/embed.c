/* In-process access to the broker's topics for an embedded job: the engine's
 * runtime reads and appends the broker's own partition logs (thread-safe)
 * while Kafka clients use the same topics over the network.  Topic lookups
 * and creation touch the loop thread's structures, so they run there: the
 * caller posts a closure and waits for it (or calls directly when the loop is
 * not serving, or when it already is the loop thread). */
#include "broker/bk.h"

#include <stdlib.h>

typedef struct call {
    int (*fn)(sl_broker_t *b, void *arg);
    void *arg;
    int rc;
    bool done;
    pthread_mutex_t mu;
    pthread_cond_t cond;
} call_t;

static void call_on_loop(sl_broker_t *b, void *arg, int status)
{
    (void)status;
    call_t *c = arg;
    int rc = c->fn(b, c->arg);
    pthread_mutex_lock(&c->mu);
    c->rc = rc;
    c->done = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

static int run_on_loop(sl_broker_t *b, int (*fn)(sl_broker_t *b, void *arg), void *arg)
{
    call_t c = {.fn = fn, .arg = arg};
    bk_post_item_t item = {NULL, call_on_loop, &c, 0};
    /* Decide and enqueue under one lock: sl_broker_run clears `running`
     * under it too and then drains the queue, so a queued call always runs. */
    pthread_mutex_lock(&b->post_mu);
    bool direct = !b->running || pthread_equal(pthread_self(), b->loop_thread);
    if (direct) {
        pthread_mutex_unlock(&b->post_mu);
        return fn(b, arg);
    }
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cond, NULL);
    bk_post_item_t *it = malloc(sizeof *it);
    if (!it) {
        pthread_mutex_unlock(&b->post_mu);
        return SL_B_ENOMEM;
    }
    *it = item;
    if (b->post_tail)
        b->post_tail->next = it;
    else
        b->post_head = it;
    b->post_tail = it;
    pthread_mutex_unlock(&b->post_mu);
    uv_async_send(&b->wake);
    pthread_mutex_lock(&c.mu);
    while (!c.done)
        pthread_cond_wait(&c.cond, &c.mu);
    pthread_mutex_unlock(&c.mu);
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.mu);
    return c.rc;
}

typedef struct topic_q {
    const char *topic;
    int32_t partition;
    int32_t partitions;
    const sl_topic_config_entry_t *configs;
    int nconfigs;
    sl_plog_t *log;
    sl_err_t *err;
} topic_q_t;

static int do_partitions(sl_broker_t *b, void *arg)
{
    topic_q_t *q = arg;
    bk_topic_t *t = bk_topic_find(b, q->topic, (int32_t)strlen(q->topic));
    if (!t)
        return SL_B_ENOTFOUND;
    q->partitions = t->npartitions;
    return 0;
}

int sl_broker_topic_partitions(sl_broker_t *b, const char *topic, int32_t *n)
{
    topic_q_t q = {.topic = topic};
    int rc = run_on_loop(b, do_partitions, &q);
    if (rc == 0)
        *n = q.partitions;
    return rc;
}

static int do_create(sl_broker_t *b, void *arg)
{
    topic_q_t *q = arg;
    int16_t kerr = bk_topic_create(b, q->topic, q->partitions, q->configs, q->nconfigs, false, q->err);
    if (kerr == SL_KERR_NONE || kerr == SL_KERR_TOPIC_ALREADY_EXISTS)
        return 0;
    return kerr == SL_KERR_INVALID_TOPIC_EXCEPTION || kerr == SL_KERR_INVALID_PARTITIONS ||
                   kerr == SL_KERR_INVALID_CONFIG
               ? SL_B_EINVAL
               : SL_B_EIO;
}

int sl_broker_create_topic(sl_broker_t *b, const char *topic, int32_t partitions, sl_err_t *err)
{
    return sl_broker_create_topic_with(b, topic, partitions, NULL, 0, err);
}

int sl_broker_create_topic_with(sl_broker_t *b, const char *topic, int32_t partitions,
                                const sl_topic_config_entry_t *configs, int nconfigs, sl_err_t *err)
{
    topic_q_t q = {.topic = topic, .partitions = partitions, .configs = configs, .nconfigs = nconfigs, .err = err};
    return run_on_loop(b, do_create, &q);
}

static int do_log(sl_broker_t *b, void *arg)
{
    topic_q_t *q = arg;
    kstr_t name = {q->topic, (int32_t)strlen(q->topic)};
    bk_partition_t *p = bk_partition_find(b, name, q->partition);
    if (!p)
        return SL_B_ENOTFOUND;
    q->log = p->log;
    return 0;
}

int sl_broker_partition_log(sl_broker_t *b, const char *topic, int32_t partition, sl_plog_t **log)
{
    topic_q_t q = {.topic = topic, .partition = partition};
    int rc = run_on_loop(b, do_log, &q);
    if (rc == 0)
        *log = q.log;
    return rc;
}

typedef struct notice {
    char topic[SL_TOPIC_NAME_MAX + 1];
    int32_t partition;
} notice_t;

static void do_notify(sl_broker_t *b, void *arg, int status)
{
    (void)status;
    notice_t *n = arg;
    kstr_t name = {n->topic, (int32_t)strlen(n->topic)};
    bk_partition_t *p = bk_partition_find(b, name, n->partition);
    if (p)
        bk_fetch_notify_when_durable(b, p, sl_plog_end_offset(p->log));
    free(n);
}

void sl_broker_notify_append(sl_broker_t *b, const char *topic, int32_t partition)
{
    notice_t *n = malloc(sizeof *n);
    if (!n)
        return; /* consumers then wake at their max_wait */
    snprintf(n->topic, sizeof n->topic, "%s", topic);
    n->partition = partition;
    bk_post(b, do_notify, n, 0);
}

typedef struct stats_q {
    sl_broker_topic_stats_t *v;
    size_t n;
} stats_q_t;

static int do_stats(sl_broker_t *b, void *arg)
{
    stats_q_t *q = arg;
    q->n = 0;
    q->v = calloc(b->ntopics > 0 ? (size_t)b->ntopics : 1, sizeof *q->v);
    if (!q->v)
        return SL_B_ENOMEM;
    for (int i = 0; i < b->ntopics; i++) {
        const bk_topic_t *t = b->topics[i];
        if (!t)
            continue;
        sl_broker_topic_stats_t *s = &q->v[q->n++];
        snprintf(s->name, sizeof s->name, "%s", t->name);
        s->partitions = t->npartitions;
        s->records_in = t->records_in;
        s->bytes_in = t->bytes_in;
        s->records_out = t->records_out;
        s->bytes_out = t->bytes_out;
        for (int32_t p = 0; p < t->npartitions; p++) {
            s->end_offset += sl_plog_end_offset(t->parts[p].log);
            s->size_bytes += sl_plog_size_bytes(t->parts[p].log);
        }
    }
    return 0;
}

static int stats_cmp(const void *a, const void *b)
{
    return strcmp(((const sl_broker_topic_stats_t *)a)->name, ((const sl_broker_topic_stats_t *)b)->name);
}

int sl_broker_topic_stats(sl_broker_t *b, sl_broker_topic_stats_t **out, size_t *n)
{
    stats_q_t q = {0};
    *out = NULL;
    *n = 0;
    int rc = run_on_loop(b, do_stats, &q);
    if (rc) {
        free(q.v);
        return rc;
    }
    qsort(q.v, q.n, sizeof *q.v, stats_cmp);
    *out = q.v;
    *n = q.n;
    return 0;
}

const char *sl_broker_host(const sl_broker_t *b) { return b->cfg.host; }
