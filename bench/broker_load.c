/* The broker benchmark (`make bench`): one librdkafka producer sends N records
 * of 100 bytes (acks=all, linger.ms=5) to a 4-partition topic, then one
 * consumer reads them all from offset 0.  Run against a sluice broker started
 * here (fresh folder, free port) and against librdkafka's in-process mock
 * broker (the client's own ceiling), beside Redis Streams (redis_baseline.c);
 * prints records/s, MB/s, the broker's peak RSS (also with 100 partitions)
 * and the ratios to the targets. */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_proc.h"
#include "redis_baseline.h"

#define VALUE_BYTES 100
#define TOPIC "bench"
#define RSS_LIMIT (200LL * 1000 * 1000)
#define TARGET_VS_XADD 2.0
#define TARGET_VS_MOCK 0.5
#define TARGET_VS_XREAD 1.0

typedef struct opts {
    const char *sluice;
    int64_t records;
    int partitions;
    int rss_partitions; /* 0: skip that run */
    const char *dir;
    bool mock, redis;
} opts_t;

typedef struct rate {
    double produce; /* records/s; < 0 when the run failed */
    double consume;
} rate_t;

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_broker_load --sluice PATH [--records N] [--partitions N] [--rss-partitions N]\n"
            "                         [--dir PARENT] [--no-mock] [--no-redis]\n"
            "  --sluice          the sluice binary (started as `sluice broker` on a free port)\n"
            "  --records         records produced, then consumed (default 2000000)\n"
            "  --partitions      partitions of the measured topic (default 4)\n"
            "  --rss-partitions  partitions of the peak-RSS run (default 100; 0 skips it)\n"
            "  --dir             parent of the temporary folders (default $SL_BENCH_DIR or /tmp)\n");
    exit(2);
}

static void parse_opts(int argc, char **argv, opts_t *o)
{
    const char *dir = getenv("SL_BENCH_DIR");
    *o = (opts_t){NULL, 2000000, 4, 100, dir && *dir ? dir : "/tmp", true, true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-mock")) {
            o->mock = false;
        } else if (!strcmp(a, "--no-redis")) {
            o->redis = false;
        } else if (v && !strcmp(a, "--sluice")) {
            o->sluice = v, i++;
        } else if (v && !strcmp(a, "--records")) {
            o->records = strtoll(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--partitions")) {
            o->partitions = atoi(v), i++;
        } else if (v && !strcmp(a, "--rss-partitions")) {
            o->rss_partitions = atoi(v), i++;
        } else if (v && !strcmp(a, "--dir")) {
            o->dir = v, i++;
        } else {
            usage();
        }
    }
    if (!o->sluice || o->records <= 0 || o->partitions <= 0 || o->rss_partitions < 0)
        usage();
}

static rd_kafka_conf_t *conf_new(const char *bootstrap, const char *const *kv)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK)
        goto bad;
    for (; kv && kv[0]; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], err, sizeof err) != RD_KAFKA_CONF_OK)
            goto bad;
    return conf;
bad:
    fprintf(stderr, "bench: librdkafka config: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* CreateTopics through the Admin API, waiting for the result. */
static int create_topic(rd_kafka_t *rk, const char *name, int partitions)
{
    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, 1, err, sizeof err);
    if (!nt) {
        fprintf(stderr, "bench: NewTopic: %s\n", err);
        return -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = -1;
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (!res) {
        fprintf(stderr, "bench: CreateTopics: %s\n", ev ? rd_kafka_event_error_string(ev) : "timed out");
    } else {
        size_t n;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
        if (n == 1 && rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = 0;
        else
            fprintf(stderr, "bench: CreateTopics %s: %s\n", name,
                    n ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

typedef struct delivery {
    int64_t ok, failed;
    rd_kafka_resp_err_t first_err;
} delivery_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    delivery_t *d = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        d->ok++;
    } else {
        if (d->failed++ == 0)
            d->first_err = m->err;
    }
}

/* Produce n records (create the topic first when create_partitions > 0);
 * records/s from the first send to the last acknowledgement. */
static double produce(const char *bootstrap, int create_partitions, int64_t n)
{
    static const char *const kv[] = {"acks", "all", "linger.ms", "5", NULL};
    static char value[VALUE_BYTES];
    memset(value, 'v', sizeof value);
    delivery_t d = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    rd_kafka_conf_t *conf = conf_new(bootstrap, kv);
    if (!conf)
        return -1;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &d);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench: producer: %s\n", err);
        return -1;
    }
    if (create_partitions > 0 && create_topic(rk, TOPIC, create_partitions) != 0) {
        rd_kafka_destroy(rk);
        return -1;
    }
    double t0 = bench_now();
    for (int64_t i = 0; i < n;) {
        /* No copy: every record points at the same static value. */
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE(value, VALUE_BYTES),
                                                  RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 1);
            continue;
        }
        if (e) {
            fprintf(stderr, "bench: produce: %s\n", rd_kafka_err2str(e));
            break;
        }
        if (++i % 1024 == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double secs = bench_now() - t0;
    rd_kafka_destroy(rk);
    if (d.ok != n) {
        fprintf(stderr, "bench: %" PRId64 " of %" PRId64 " records acknowledged (%" PRId64 " failed: %s)\n", d.ok, n,
                d.failed, rd_kafka_err2str(d.first_err));
        return -1;
    }
    return (double)n / secs;
}

/* Read n records from offset 0 of every partition (assign, no group);
 * records/s from the assignment to the last record. */
static double consume(const char *bootstrap, int partitions, int64_t n)
{
    static const char *const kv[] = {"group.id", "sl-bench", "enable.auto.commit", "false",
                                     "auto.offset.reset", "earliest", NULL};
    rd_kafka_conf_t *conf = conf_new(bootstrap, kv);
    if (!conf)
        return -1;
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench: consumer: %s\n", err);
        return -1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, TOPIC, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    double t0 = bench_now(), last_progress = t0;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t got = 0, bytes = 0;
    while (got < n && bench_now() - last_progress < 30) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            got++;
            bytes += (int64_t)m->len;
            last_progress = bench_now();
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            fprintf(stderr, "bench: consume: %s\n", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
    double secs = bench_now() - t0;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got != n || bytes != n * VALUE_BYTES) {
        fprintf(stderr, "bench: consumed %" PRId64 " of %" PRId64 " records (%" PRId64 " bytes)\n", got, n, bytes);
        return -1;
    }
    return (double)n / secs;
}

/* Start `sluice broker`, produce and consume; peak RSS into *rss. */
static rate_t run_sluice(const opts_t *o, int partitions, int64_t *rss)
{
    rate_t r = {-1, -1};
    char dir[4096], data[4200], log[4200], bootstrap[64];
    *rss = -1;
    if (bench_tmpdir(o->dir, dir, sizeof dir) != 0)
        return r;
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/broker.log", dir);
    char *argv[] = {(char *)o->sluice, "broker", "--data", data, "--listen", "127.0.0.1:0", NULL};
    bench_proc_t p;
    int port = 0;
    if (bench_proc_start(&p, argv, log, "listening on", 10000, &port) == 0) {
        snprintf(bootstrap, sizeof bootstrap, "127.0.0.1:%d", port);
        r.produce = produce(bootstrap, partitions, o->records);
        if (r.produce > 0)
            r.consume = consume(bootstrap, partitions, o->records);
        *rss = bench_proc_peak_rss(&p);
        if (bench_proc_stop(&p) != 0)
            fprintf(stderr, "bench: sluice did not stop cleanly (log: %s)\n", log);
    }
    bench_rmrf(dir);
    return r;
}

/* librdkafka's mock cluster, in this process: the client-side ceiling. */
static rate_t run_mock(const opts_t *o)
{
    rate_t r = {-1, -1};
    char err[256];
    rd_kafka_t *holder = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    rd_kafka_mock_cluster_t *mc = holder ? rd_kafka_mock_cluster_new(holder, 1) : NULL;
    if (!mc) {
        fprintf(stderr, "bench: mock cluster: %s\n", holder ? "cannot create" : err);
    } else if (rd_kafka_mock_topic_create(mc, TOPIC, o->partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "bench: mock topic: cannot create\n");
    } else {
        const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
        r.produce = produce(bootstrap, 0, o->records);
        if (r.produce > 0)
            r.consume = consume(bootstrap, o->partitions, o->records);
    }
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    if (holder)
        rd_kafka_destroy(holder);
    return r;
}

static void print_rate(const char *who, const char *what, double per_s)
{
    if (per_s > 0)
        printf("  %-28s %-8s %11.0f records/s %8.1f MB/s\n", who, what, per_s, per_s * VALUE_BYTES / 1e6);
    else
        printf("  %-28s %-8s failed\n", who, what);
}

/* One ratio line; false when it misses its target. */
static bool print_ratio(const char *what, double num, double den, double target)
{
    if (num <= 0 || den <= 0) {
        printf("  %-30s n/a\n", what);
        return true;
    }
    double ratio = num / den;
    printf("  %-30s %6.2f   (target >= %.1f: %s)\n", what, ratio, target, ratio >= target ? "met" : "MISSED");
    return ratio >= target;
}

int main(int argc, char **argv)
{
    opts_t o;
    parse_opts(argc, argv, &o);
    printf("broker load: %" PRId64 " records of %d bytes, one producer (acks=all, linger.ms=5), then one consumer "
           "from offset 0; %d partitions\n",
           o.records, VALUE_BYTES, o.partitions);
    fflush(stdout);

    int64_t rss = -1, rss_many = -1;
    rate_t sl = run_sluice(&o, o.partitions, &rss);
    print_rate("sluice", "produce", sl.produce);
    print_rate("sluice", "consume", sl.consume);
    if (rss > 0)
        printf("  %-28s %.1f MB\n", "sluice peak RSS (VmHWM)", (double)rss / 1e6);
    fflush(stdout);

    rate_t mock = {-1, -1};
    if (o.mock) {
        mock = run_mock(&o);
        print_rate("librdkafka mock broker", "produce", mock.produce);
        print_rate("librdkafka mock broker", "consume", mock.consume);
        fflush(stdout);
    }

    bool rss_ok = true;
    if (o.rss_partitions > 0) {
        char who[64];
        snprintf(who, sizeof who, "sluice, %d partitions", o.rss_partitions);
        rate_t many = run_sluice(&o, o.rss_partitions, &rss_many);
        print_rate(who, "produce", many.produce);
        print_rate(who, "consume", many.consume);
        rss_ok = rss_many > 0 && rss_many < RSS_LIMIT;
        printf("  %-28s %.1f MB   (target < %.0f MB: %s)\n", "  peak RSS (VmHWM)", (double)rss_many / 1e6,
               RSS_LIMIT / 1e6, rss_ok ? "met" : "MISSED");
        fflush(stdout);
    }

    redis_result_t redis = {-1, -1, 0, -1};
    if (o.redis) {
        if (redis_baseline_run(o.dir, o.records, VALUE_BYTES, &redis) == 0) {
            printf("  %-28s %-8s %11.0f records/s   (redis-benchmark -P 32 -c 50, appendfsync everysec)\n",
                   "redis streams", "XADD", redis.xadd_per_s);
            printf("  %-28s %-8s %11.0f entries/s   (XREAD COUNT 1000 loop over %" PRId64 " entries, hiredis)\n",
                   "redis streams", "XREAD", redis.xread_per_s, redis.xread_entries);
            printf("  %-28s %.1f MB\n", "redis-server peak RSS", (double)redis.peak_rss / 1e6);
        } else {
            printf("  redis streams: failed (see above)\n");
        }
    }

    printf("ratios:\n");
    bool met = true;
    met &= print_ratio("sluice produce / redis XADD", sl.produce, redis.xadd_per_s, TARGET_VS_XADD);
    met &= print_ratio("sluice produce / mock produce", sl.produce, mock.produce, TARGET_VS_MOCK);
    met &= print_ratio("sluice consume / redis XREAD", sl.consume, redis.xread_per_s, TARGET_VS_XREAD);
    printf("targets: %s\n", met && rss_ok ? "all met" : "some MISSED");
    return sl.produce > 0 && sl.consume > 0 ? 0 : 1;
}
