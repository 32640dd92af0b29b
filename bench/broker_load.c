/* The broker benchmark (`make bench`): one librdkafka producer sends N records
 * of 100 bytes (acks=all, linger.ms=5) over 4 partitions, then one consumer
 * reads them all from offset 0, against `sluice broker` (started here) and
 * librdkafka's in-process mock broker (the client's ceiling), beside Redis
 * Streams (redis_baseline.c).  Prints records/s, MB/s, peak RSS (also with 100
 * partitions) and the ratios to the targets. */
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
    int passes;
    bool mock, redis;
} opts_t;

typedef struct rate {
    double produce; /* records/s; < 0 when the run failed */
    double consume;
    int64_t consumed; /* records read */
    double startup;   /* seconds from assign to the first record */
} rate_t;

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_broker_load --sluice PATH [--records N] [--partitions N] [--rss-partitions N]\n"
            "                         [--passes N] [--dir PARENT] [--no-mock] [--no-redis]\n"
            "  --sluice          the sluice binary (started as `sluice broker` on a free port)\n"
            "  --records         records produced, then consumed (default 2000000)\n"
            "  --partitions      partitions of the measured topic (default 4)\n"
            "  --rss-partitions  partitions of the peak-RSS run (default 100; 0 skips it)\n"
            "  --passes          runs of everything; the best figure of each is shown (default 2)\n"
            "  --dir             parent of the temporary folders (default $SL_BENCH_DIR or /tmp)\n"
            "SL_BENCH_RDKAFKA_DEBUG=CONTEXTS turns on librdkafka's debug log (e.g. protocol,msg).\n");
    exit(2);
}

static void parse_opts(int argc, char **argv, opts_t *o)
{
    const char *dir = getenv("SL_BENCH_DIR");
    *o = (opts_t){NULL, 2000000, 4, 100, dir && *dir ? dir : "/tmp", 2, true, true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-mock")) {
            o->mock = false;
        } else if (!strcmp(a, "--no-redis")) {
            o->redis = false;
        } else if (v && !strcmp(a, "--sluice")) {
            o->sluice = v;
            i++;
        } else if (v && !strcmp(a, "--records")) {
            o->records = strtoll(v, NULL, 10);
            i++;
        } else if (v && !strcmp(a, "--partitions")) {
            o->partitions = atoi(v);
            i++;
        } else if (v && !strcmp(a, "--rss-partitions")) {
            o->rss_partitions = atoi(v);
            i++;
        } else if (v && !strcmp(a, "--passes")) {
            o->passes = atoi(v);
            i++;
        } else if (v && !strcmp(a, "--dir")) {
            o->dir = v;
            i++;
        } else {
            usage();
        }
    }
    if (!o->sluice || o->records <= 0 || o->partitions <= 0 || o->rss_partitions < 0 || o->passes <= 0)
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
    const char *debug = getenv("SL_BENCH_RDKAFKA_DEBUG"); /* e.g. "protocol,msg": librdkafka's debug contexts */
    if (debug && rd_kafka_conf_set(conf, "debug", debug, err, sizeof err) != RD_KAFKA_CONF_OK)
        goto bad;
    return conf;
bad:
    fprintf(stderr, "bench: librdkafka config: %s\n", err);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* CreateTopics through the Admin API of a short-lived client, waiting for
 * the result.  Not on the producer's own handle: a producer that connected
 * before the topic existed first learns of it from librdkafka's once-a-second
 * metadata scan, which would put a one-second stall into a short run. */
static int create_topic(const char *bootstrap, const char *name, int partitions)
{
    char err[256];
    rd_kafka_conf_t *conf = conf_new(bootstrap, NULL);
    rd_kafka_t *rk = conf ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err) : NULL;
    if (!rk) {
        fprintf(stderr, "bench: admin client: %s\n", conf ? err : "bad config");
        return -1;
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, 1, err, sizeof err);
    if (!nt) {
        fprintf(stderr, "bench: NewTopic: %s\n", err);
        rd_kafka_destroy(rk);
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
    rd_kafka_destroy(rk);
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

/* Produce n records round-robin over the topic's partitions (create it
 * first when create_partitions > 0); records/s from the first send to the
 * last acknowledgement.  Explicit partitions: librdkafka's default for
 * keyless records is sticky, which can leave whole partitions empty in a
 * short run and make the partition count meaningless. */
static double produce(const char *bootstrap, int create_partitions, int partitions, int64_t n)
{
    static const char *const kv[] = {"acks", "all", "linger.ms", "5", NULL};
    static char value[VALUE_BYTES];
    memset(value, 'v', sizeof value);
    delivery_t d = {0, 0, RD_KAFKA_RESP_ERR_NO_ERROR};
    if (create_partitions > 0 && create_topic(bootstrap, TOPIC, create_partitions) != 0)
        return -1;
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
    double t0 = bench_now();
    for (int64_t i = 0; i < n;) {
        /* No copy: every record points at the same static value. */
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_VALUE(value, VALUE_BYTES),
                                                  RD_KAFKA_V_PARTITION((int32_t)(i % partitions)),
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

/* Read every partition from its start (assign, no group) until n records or,
 * when !exact, until every partition is at its end (the mock broker keeps only
 * the last 5 MiB of each partition).  Messages are taken 1,000 at a time
 * (rd_kafka_consume_batch_queue), as a throughput-minded application would.
 * The rate runs from the first record to the last: before the first, about
 * 0.5 s go by inside librdkafka (coordinator lookup, then ListOffsets) with
 * any broker; that time goes to *startup. */
static double consume(const char *bootstrap, int partitions, int64_t n, bool exact, int64_t *got_out, double *startup)
{
    static const char *const kv[] = {"group.id", "sl-bench", "enable.auto.commit", "false",
                                     "auto.offset.reset", "earliest", "enable.partition.eof", "true", NULL};
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
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, TOPIC, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    double t0 = bench_now(), first = -1, last = t0;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t got = 0, bytes = 0;
    int at_end = 0;
    rd_kafka_message_t *batch[1000];
    while (got < n && (exact || at_end < partitions) && bench_now() - last < 30) {
        ssize_t k = rd_kafka_consume_batch_queue(q, 100, batch, sizeof batch / sizeof batch[0]);
        int64_t before = got;
        for (ssize_t i = 0; i < k; i++) {
            rd_kafka_message_t *m = batch[i];
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                got++;
                bytes += (int64_t)m->len;
            } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                at_end++; /* each partition reports its end once until it gets more */
            } else {
                fprintf(stderr, "bench: consume: %s\n", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        if (got > before) {
            last = bench_now();
            if (first < 0)
                first = last;
        }
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    *got_out = got;
    *startup = first - t0;
    if (exact ? got != n : got == 0 || bytes != got * VALUE_BYTES) {
        fprintf(stderr, "bench: consumed %" PRId64 " of %" PRId64 " records (%" PRId64 " bytes)\n", got, n, bytes);
        return -1;
    }
    return last > first ? (double)got / (last - first) : -1;
}

/* Start `sluice broker`, produce and consume; peak RSS into *rss. */
static rate_t run_sluice(const opts_t *o, int partitions, int64_t *rss)
{
    rate_t r = {-1, -1, 0, -1};
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
        r.produce = produce(bootstrap, partitions, partitions, o->records);
        if (r.produce > 0)
            r.consume = consume(bootstrap, partitions, o->records, true, &r.consumed, &r.startup);
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
    rate_t r = {-1, -1, 0, -1};
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err); /* no warning for the missing bootstrap.servers */
    rd_kafka_t *holder = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    rd_kafka_mock_cluster_t *mc = holder ? rd_kafka_mock_cluster_new(holder, 1) : NULL;
    if (!mc) {
        fprintf(stderr, "bench: mock cluster: %s\n", holder ? "cannot create" : err);
    } else if (rd_kafka_mock_topic_create(mc, TOPIC, o->partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "bench: mock topic: cannot create\n");
    } else {
        const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
        r.produce = produce(bootstrap, 0, o->partitions, o->records);
        if (r.produce > 0)
            r.consume = consume(bootstrap, o->partitions, o->records, false, &r.consumed, &r.startup);
    }
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    if (holder)
        rd_kafka_destroy(holder);
    return r;
}

static void print_rates(const char *who, const rate_t *r)
{
    if (r->produce > 0)
        printf("  %-24s produce %11.0f records/s %7.1f MB/s\n", who, r->produce, r->produce * VALUE_BYTES / 1e6);
    else
        printf("  %-24s produce failed\n", who);
    if (r->consume > 0)
        printf("  %-24s consume %11.0f records/s %7.1f MB/s   (%" PRId64 " records; first after %.2f s)\n", who,
               r->consume, r->consume * VALUE_BYTES / 1e6, r->consumed, r->startup);
    else
        printf("  %-24s consume failed\n", who);
}

/* The better of two passes, figure by figure (a failed pass is -1). */
static rate_t best_rate(rate_t a, rate_t b)
{
    if (b.produce > a.produce)
        a.produce = b.produce;
    if (b.consume > a.consume) {
        a.consume = b.consume;
        a.consumed = b.consumed;
        a.startup = b.startup;
    }
    return a;
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
    printf("broker load: %" PRId64 " records of %d bytes, one producer (acks=all, linger.ms=5, records round-robin "
           "over %d partitions), then one consumer from offset 0; best of %d pass(es)\n",
           o.records, VALUE_BYTES, o.partitions, o.passes);
    fflush(stdout);
    rate_t none = {-1, -1, 0, -1};
    rate_t sl = none, mock = none, many = none;
    int64_t rss = -1, rss_many = -1;
    redis_result_t redis = {-1, -1, 0, -1};
    for (int pass = 0; pass < o.passes; pass++) {
        int64_t peak;
        sl = best_rate(sl, run_sluice(&o, o.partitions, &peak));
        rss = peak > rss ? peak : rss;
        if (o.mock)
            mock = best_rate(mock, run_mock(&o));
        if (o.rss_partitions > 0) {
            many = best_rate(many, run_sluice(&o, o.rss_partitions, &peak));
            rss_many = peak > rss_many ? peak : rss_many;
        }
        redis_result_t rr = {-1, -1, 0, -1};
        if (o.redis && redis_baseline_run(o.dir, o.records, VALUE_BYTES, &rr) == 0) {
            if (rr.xadd_per_s > redis.xadd_per_s)
                redis.xadd_per_s = rr.xadd_per_s;
            if (rr.xread_per_s > redis.xread_per_s) {
                redis.xread_per_s = rr.xread_per_s;
                redis.xread_entries = rr.xread_entries;
            }
            redis.peak_rss = rr.peak_rss > redis.peak_rss ? rr.peak_rss : redis.peak_rss;
        }
    }

    print_rates("sluice", &sl);
    printf("  %-24s %.1f MB (VmHWM)\n", "sluice peak RSS", (double)rss / 1e6);
    if (o.mock) {
        print_rates("librdkafka mock broker", &mock);
        if (mock.consumed < o.records)
            printf("  %-24s (the mock keeps only the last 5 MiB of a partition: it read what was kept)\n", "");
    }
    bool rss_ok = true;
    if (o.rss_partitions > 0) {
        char who[64];
        snprintf(who, sizeof who, "sluice, %d partitions", o.rss_partitions);
        print_rates(who, &many);
        rss_ok = rss_many > 0 && rss_many < RSS_LIMIT;
        printf("  %-24s %.1f MB (VmHWM)   (target < %.0f MB: %s)\n", "  peak RSS", (double)rss_many / 1e6,
               RSS_LIMIT / 1e6, rss_ok ? "met" : "MISSED");
    }
    if (o.redis && redis.xadd_per_s > 0) {
        printf("  %-24s XADD    %11.0f records/s   (redis-benchmark -P 32 -c 50; appendfsync everysec)\n",
               "redis streams", redis.xadd_per_s);
        printf("  %-24s XREAD   %11.0f entries/s   (hiredis loop of XREAD COUNT 1000 over %" PRId64 " entries)\n",
               "redis streams", redis.xread_per_s, redis.xread_entries);
        printf("  %-24s %.1f MB (VmHWM)\n", "redis-server peak RSS", (double)redis.peak_rss / 1e6);
    } else if (o.redis) {
        printf("  redis streams: failed (see above)\n");
    }

    printf("ratios:\n");
    bool met = true;
    met &= print_ratio("sluice produce / redis XADD", sl.produce, redis.xadd_per_s, TARGET_VS_XADD);
    met &= print_ratio("sluice produce / mock produce", sl.produce, mock.produce, TARGET_VS_MOCK);
    met &= print_ratio("sluice consume / redis XREAD", sl.consume, redis.xread_per_s, TARGET_VS_XREAD);
    printf("targets: %s\n", met && rss_ok ? "all met" : "some MISSED");
    return sl.produce > 0 && sl.consume > 0 ? 0 : 1;
}
