/* The embedded source/sink implementations of sl_rt_logs_t: topics come from
 * the broker's crash-safe registry in a data folder and partitions are the
 * broker's own partition logs, opened on first use and shared by every task
 * (sl_plog_t is thread-safe) - or, with sl_rt_logs_broker, from a running
 * sl_broker_t of the same process, whose logs Kafka clients use meanwhile.  Reads stop at the high watermark, so a task
 * never consumes a record that a power failure could take back. */
#include <pthread.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "engine/engine.h"

#define SYNC_TIMEOUT_MS 60000

typedef struct emb_part {
    struct emb_part *next;
    char *topic;
    int32_t partition;
    sl_plog_t *log;
    sl_broker_t *broker; /* set when the log is the broker's */
} emb_part_t;

typedef struct emb {
    sl_rt_logs_t vt; /* first: sl_rt_logs_free gets this pointer */
    char *dir;
    sl_registry_t *reg;     /* embedded: our own registry and logs */
    sl_broker_t *broker;    /* or: a running broker's topics and logs (not ours to close) */
    pthread_mutex_t mu; /* registry calls and the list of open partitions */
    emb_part_t *parts;
} emb_t;

static int io_err(sl_err_t *err, int brc, const sl_err_t *e)
{
    return sl_err_set(err, brc == SL_B_ENOTFOUND ? SL_E_NOTFOUND : SL_E_IO, "%s", e->msg);
}

static int emb_partitions(void *ctx, const char *topic, int32_t *n, sl_err_t *err)
{
    emb_t *m = ctx;
    if (m->broker) {
        int brc = sl_broker_topic_partitions(m->broker, topic, n);
        return brc == SL_B_ENOTFOUND ? SL_E_NOTFOUND : brc ? sl_err_set(err, SL_E_IO, "topic '%s'", topic) : 0;
    }
    sl_topic_info_t info;
    sl_err_t e = {0};
    pthread_mutex_lock(&m->mu);
    int rc = sl_registry_get_topic(m->reg, topic, &info, &e);
    pthread_mutex_unlock(&m->mu);
    if (rc)
        return rc == SL_B_ENOTFOUND ? SL_E_NOTFOUND : io_err(err, rc, &e);
    *n = info.partitions;
    return 0;
}

static int emb_create_with(emb_t *m, const char *topic, int32_t partitions, const sl_topic_config_entry_t *configs,
                           int nconfigs, sl_err_t *err)
{
    if (m->broker) {
        sl_err_t e = {0};
        int brc = sl_broker_create_topic_with(m->broker, topic, partitions, configs, nconfigs, &e);
        return brc ? sl_err_set(err, SL_E_IO, "creating topic '%s': %s", topic, e.msg) : 0;
    }
    sl_topic_info_t info;
    memset(&info, 0, sizeof info);
    if (strlen(topic) > SL_TOPIC_NAME_MAX)
        return sl_err_set(err, SL_E_INVAL, "topic name '%s' is too long", topic);
    strcpy(info.name, topic);
    info.partitions = partitions;
    for (int i = 0; i < nconfigs && i < (int)(sizeof info.configs / sizeof info.configs[0]); i++)
        info.configs[info.nconfigs++] = configs[i];
    sl_err_t e = {0};
    pthread_mutex_lock(&m->mu);
    int rc = sl_registry_create_topic(m->reg, &info, &e);
    pthread_mutex_unlock(&m->mu);
    return rc && rc != SL_B_EEXISTS ? io_err(err, rc, &e) : 0;
}

static int emb_create(void *ctx, const char *topic, int32_t partitions, sl_err_t *err)
{
    return emb_create_with(ctx, topic, partitions, NULL, 0, err);
}

/* Internal topics keep everything (Kafka Streams gives its repartition topics
 * retention.ms=-1 too): a reader may be behind by more than 7 days of record
 * time, e.g. when a job is fed historical events. */
static int emb_create_internal(void *ctx, const char *topic, int32_t partitions, sl_err_t *err)
{
    static const sl_topic_config_entry_t keep[] = {{"retention.ms", "-1"}, {"retention.bytes", "-1"}};
    return emb_create_with(ctx, topic, partitions, keep, 2, err);
}

static int emb_open(void *ctx, const char *topic, int32_t partition, void **part, sl_err_t *err)
{
    emb_t *m = ctx;
    int rc = 0;
    pthread_mutex_lock(&m->mu);
    emb_part_t *p = m->parts;
    while (p && (p->partition != partition || strcmp(p->topic, topic)))
        p = p->next;
    if (!p && m->broker) {
        sl_plog_t *log = NULL;
        int brc = sl_broker_partition_log(m->broker, topic, partition, &log);
        if (brc) {
            rc = sl_err_set(err, brc == SL_B_ENOTFOUND ? SL_E_NOTFOUND : SL_E_IO, "topic '%s' has no partition %d",
                            topic, (int)partition);
        } else if (!(p = calloc(1, sizeof *p)) || !(p->topic = strdup(topic))) {
            free(p);
            p = NULL;
            rc = sl_err_set(err, SL_E_NOMEM, "out of memory");
        } else {
            p->log = log;
            p->broker = m->broker;
            p->partition = partition;
            p->next = m->parts;
            m->parts = p;
        }
    } else if (!p) {
        sl_topic_info_t info;
        sl_log_config_t cfg;
        char dir[4600];
        sl_err_t e = {0};
        if ((rc = sl_registry_get_topic(m->reg, topic, &info, &e)) != 0 ||
            (rc = sl_topic_log_config(&info, &cfg, &e)) != 0) {
            rc = io_err(err, rc, &e);
        } else if (partition < 0 || partition >= info.partitions ||
                   sl_partition_dir(m->dir, topic, partition, dir, sizeof dir) != 0) {
            rc = sl_err_set(err, SL_E_INVAL, "topic '%s' has no partition %d", topic, (int)partition);
        } else if (!(p = calloc(1, sizeof *p)) || !(p->topic = strdup(topic))) {
            free(p);
            p = NULL;
            rc = sl_err_set(err, SL_E_NOMEM, "out of memory");
        } else if ((rc = sl_plog_open(dir, &cfg, &p->log, &e)) != 0) {
            free(p->topic);
            free(p);
            p = NULL;
            rc = io_err(err, rc, &e);
        } else {
            p->partition = partition;
            p->next = m->parts;
            m->parts = p;
        }
    }
    pthread_mutex_unlock(&m->mu);
    *part = p;
    return rc;
}

static int emb_read(void *part, int64_t offset, size_t max_bytes, sl_buf_t *out, sl_err_t *err)
{
    emb_part_t *p = part;
    sl_read_info_t info;
    sl_err_t e = {0};
    int rc = sl_plog_read_durable(p->log, offset, max_bytes, out, &info, &e);
    if (rc == SL_B_ERANGE && offset < sl_plog_start_offset(p->log)) {
        /* the records were deleted by retention: go on from the oldest left (auto.offset.reset=earliest) */
        sl_log(SL_WARN, "engine", "%s-%d: offset %lld is below the log start, reading from %lld", p->topic,
               (int)p->partition, (long long)offset, (long long)sl_plog_start_offset(p->log));
        rc = sl_plog_read_durable(p->log, sl_plog_start_offset(p->log), max_bytes, out, &info, &e);
    }
    return rc ? io_err(err, rc, &e) : 0;
}

static int emb_append(void *part, const uint8_t *batch, size_t len, sl_err_t *err)
{
    emb_part_t *p = part;
    sl_append_info_t info;
    sl_err_t e = {0};
    int rc = sl_plog_append(p->log, batch, len, sl_now_ms(), &info, &e);
    if (rc == 0 && p->broker)
        sl_broker_notify_append(p->broker, p->topic, p->partition); /* wake Kafka consumers */
    return rc ? io_err(err, rc, &e) : 0;
}

static int emb_sync(void *part, sl_err_t *err)
{
    emb_part_t *p = part;
    int rc = sl_plog_wait_durable(p->log, sl_plog_end_offset(p->log), SYNC_TIMEOUT_MS);
    return rc ? sl_err_set(err, SL_E_IO, "%s-%d: waiting for the log to sync: %s", p->topic, (int)p->partition,
                           sl_broker_strerror(rc))
              : 0;
}

typedef struct find_ctx {
    int64_t pid;
    int32_t seq;
    bool found;
} find_ctx_t;

static int find_fn(void *arg, const sl_batch_header_t *h)
{
    find_ctx_t *f = arg;
    f->found = h->producer_id == f->pid && h->base_sequence == f->seq;
    return f->found;
}

static int emb_find(void *part, int64_t from_offset, int64_t producer_id, int32_t base_sequence, sl_err_t *err)
{
    emb_part_t *p = part;
    find_ctx_t f = {producer_id, base_sequence, false};
    sl_err_t e = {0};
    int rc = sl_plog_scan_batches(p->log, from_offset, find_fn, &f, &e);
    return rc ? io_err(err, rc, &e) : f.found;
}

static int64_t emb_end(void *part) { return sl_plog_end_offset(((emb_part_t *)part)->log); }
static int64_t emb_hw(void *part) { return sl_plog_high_watermark(((emb_part_t *)part)->log); }

static int emb_trim(void *part, int64_t before, sl_err_t *err)
{
    sl_err_t e = {0};
    int rc = sl_plog_delete_records_before(((emb_part_t *)part)->log, before, &e);
    return rc ? io_err(err, rc, &e) : 0;
}

static void emb_destroy(void *ctx)
{
    emb_t *m = ctx;
    while (m->parts) {
        emb_part_t *p = m->parts;
        m->parts = p->next;
        if (!p->broker)
            sl_plog_close(p->log);
        free(p->topic);
        free(p);
    }
    if (m->reg)
        sl_registry_close(m->reg);
    pthread_mutex_destroy(&m->mu);
    free(m->dir);
    free(m);
}

int sl_rt_logs_embedded(const char *data_dir, sl_rt_logs_t **out, sl_err_t *err)
{
    *out = NULL;
    emb_t *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(data_dir))) {
        free(m);
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&m->mu, NULL);
    sl_err_t e = {0};
    int rc = sl_registry_open(data_dir, &m->reg, &e);
    if (rc) {
        pthread_mutex_destroy(&m->mu);
        free(m->dir);
        free(m);
        return sl_err_set(err, SL_E_IO, "opening the topic registry in %s: %s", data_dir, e.msg);
    }
    m->vt = (sl_rt_logs_t){
        .ctx = m,
        .partitions = emb_partitions,
        .create_topic = emb_create,
        .create_internal_topic = emb_create_internal,
        .trim = emb_trim,
        .open = emb_open,
        .read = emb_read,
        .append = emb_append,
        .sync = emb_sync,
        .find_batch = emb_find,
        .end_offset = emb_end,
        .readable_end = emb_hw,
        .destroy = emb_destroy,
    };
    *out = &m->vt;
    return 0;
}

int sl_rt_logs_broker(sl_broker_t *broker, sl_rt_logs_t **out, sl_err_t *err)
{
    *out = NULL;
    emb_t *m = calloc(1, sizeof *m);
    if (!m || !(m->dir = strdup(""))) {
        free(m);
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&m->mu, NULL);
    m->broker = broker;
    m->vt = (sl_rt_logs_t){
        .ctx = m,
        .partitions = emb_partitions,
        .create_topic = emb_create,
        .create_internal_topic = emb_create_internal,
        .trim = emb_trim,
        .open = emb_open,
        .read = emb_read,
        .append = emb_append,
        .sync = emb_sync,
        .find_batch = emb_find,
        .end_offset = emb_end,
        .readable_end = emb_hw,
        .destroy = emb_destroy,
    };
    *out = &m->vt;
    return 0;
}

void sl_rt_logs_free(sl_rt_logs_t *logs)
{
    if (logs)
        logs->destroy(logs->ctx);
}
