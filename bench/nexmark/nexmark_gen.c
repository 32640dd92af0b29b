/* nexmark_gen: writes a Nexmark event stream (nexmark_model.c) as JSON
 * records into the topics nexmark-person, nexmark-auction and nexmark-bid -
 * straight into the embedded broker's partition logs of a data folder (no
 * socket: the fast path the throughput benchmark uses), or to a running broker
 * through librdkafka at full speed or paced at --rate events/s (the latency
 * benchmark) - or prints them as JSON lines for reference.py. */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_topic.h"
#include "bench/nexmark/nexmark_model.h"
#include "broker/broker.h"
#include "engine/engine.h"

#define MAX_PARTITIONS 64
#define BATCH_RECORDS 2000
#define BATCH_BYTES (512 * 1024) /* well below max.message.bytes (1 MiB) */

typedef struct opts {
    int64_t events;
    nx_config_t cfg;
    bool event_rate_set, base_time_set;
    const char *data, *brokers;
    bool jsonl, quiet;
    int partitions;
    double rate; /* wall-clock events/s; 0: as fast as possible */
} opts_t;

static void usage(FILE *f)
{
    fputs("Usage: nexmark_gen (--data DIR | --brokers HOST:PORT | --jsonl) [OPTIONS]\n"
          "\n"
          "Generate the Nexmark event stream (persons, auctions, bids in proportions\n"
          "1:3:46, as the Nexmark specification / Beam's NexmarkGenerator define it) as\n"
          "JSON records in topics nexmark-person, nexmark-auction and nexmark-bid (keys:\n"
          "the person / auction id; a bid's auction id; timestamp: the event's dateTime).\n"
          "\n"
          "Where to:\n"
          "  -d, --data DIR          append to the partition logs of the data folder DIR\n"
          "                          directly (no broker may be serving it); creates the topics\n"
          "                          with retention.ms=-1 (event times are in the past) and\n"
          "                          page.cache.tail.bytes=-1 (the input stays in the page cache)\n"
          "  -b, --brokers HOST:PORT produce to a running broker with librdkafka (without\n"
          "                          --rate, create the topics with retention.ms=-1 first)\n"
          "  -j, --jsonl             print one line per event to stdout:\n"
          "                          {\"person\":{...}} | {\"auction\":{...}} | {\"bid\":{...}}\n"
          "Options:\n"
          "  -n, --events N          number of events (default 1000)\n"
          "  -s, --seed S            0 (default) reproduces Beam's per-event seeds\n"
          "  -r, --rate R            --brokers only: send R events/s of wall-clock time, with\n"
          "                          event time = now (base time = start, event rate = R)\n"
          "  -e, --event-rate R      events per second of event time (default 10000)\n"
          "  -T, --base-time MS      event time of the first event (default 1700000000000)\n"
          "  -p, --partitions P      partitions of topics it creates (default 1)\n"
          "  -q, --quiet             no summary line on stderr\n"
          "  -h, --help              this help\n",
          f);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option lo[] = {
        {"data", required_argument, NULL, 'd'},       {"brokers", required_argument, NULL, 'b'},
        {"jsonl", no_argument, NULL, 'j'},            {"events", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},       {"rate", required_argument, NULL, 'r'},
        {"event-rate", required_argument, NULL, 'e'}, {"base-time", required_argument, NULL, 'T'},
        {"partitions", required_argument, NULL, 'p'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    nx_config_default(&o->cfg);
    o->events = 1000;
    o->partitions = 1;
    opterr = 0;
    int c;
    double v;
    while ((c = getopt_long(argc, argv, ":d:b:jn:s:r:e:T:p:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'b': o->brokers = optarg; break;
        case 'j': o->jsonl = true; break;
        case 'q': o->quiet = true; break;
        case 'n':
            if (parse_num(optarg, 0, 1e12, &v))
                goto bad;
            o->events = (int64_t)v;
            break;
        case 's':
            if (parse_num(optarg, 0, 1e18, &v))
                goto bad;
            o->cfg.seed = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            if (parse_num(optarg, 1, 1e9, &o->rate))
                goto bad;
            break;
        case 'e':
            if (parse_num(optarg, 0.001, 1e9, &o->cfg.event_rate))
                goto bad;
            o->event_rate_set = true;
            break;
        case 'T':
            if (parse_num(optarg, 0, 1e15, &v))
                goto bad;
            o->cfg.base_time_ms = (int64_t)v;
            o->base_time_set = true;
            break;
        case 'p':
            if (parse_num(optarg, 1, MAX_PARTITIONS, &v) || v != (int)v)
                goto bad;
            o->partitions = (int)v;
            break;
        case 'h': usage(stdout); exit(0);
        case ':':
            fprintf(stderr, "nexmark_gen: missing value for '%s'\n\n", argv[optind - 1]);
            usage(stderr);
            return -1;
        default:
            fprintf(stderr, "nexmark_gen: unknown option '%s'\n\n", argv[optind - 1]);
            usage(stderr);
            return -1;
        bad:
            fprintf(stderr, "nexmark_gen: bad value '%s' for %s\n\n", optarg, argv[optind - 1]);
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc || (o->data != NULL) + (o->brokers != NULL) + o->jsonl != 1) {
        fprintf(stderr, "nexmark_gen: give exactly one of --data, --brokers, --jsonl\n\n");
        usage(stderr);
        return -1;
    }
    if (o->rate > 0 && !o->brokers) {
        fprintf(stderr, "nexmark_gen: --rate needs --brokers\n\n");
        usage(stderr);
        return -1;
    }
    return 0;
}

/* ---- JSON lines ------------------------------------------------------------------------------------ */

static int write_jsonl(const opts_t *o, int64_t counts[3])
{
    nx_gen_t *g = malloc(sizeof *g);
    if (!g)
        return -1;
    nx_gen_init(g, &o->cfg);
    sl_buf_t line;
    sl_buf_init(&line);
    static const char *const wrap[3] = {"{\"person\":", "{\"auction\":", "{\"bid\":"};
    for (int64_t i = 0; i < o->events; i++) {
        nx_event_t ev;
        nx_next(g, &ev);
        sl_buf_reset(&line);
        if (sl_buf_append(&line, wrap[ev.kind], strlen(wrap[ev.kind])) || nx_event_json(&ev, &line) ||
            sl_buf_append(&line, "}\n", 2))
            return -1;
        if (fwrite(line.data, 1, line.len, stdout) != line.len)
            return -1;
        counts[ev.kind]++;
    }
    sl_buf_free(&line);
    free(g);
    return fflush(stdout) ? -1 : 0;
}

/* ---- embedded partition logs ----------------------------------------------------------------------- */

typedef struct outpart {
    void *part;
    sl_batch_builder_t b;
    size_t bytes;
} outpart_t;

static int flush_part(sl_rt_logs_t *logs, outpart_t *p, sl_buf_t *tmp, sl_err_t *err)
{
    if (p->b.count == 0)
        return 0;
    sl_buf_reset(tmp);
    int rc = sl_batch_builder_finish(&p->b, tmp, err);
    if (rc == 0)
        rc = logs->append(p->part, tmp->data, tmp->len, err);
    sl_batch_builder_begin(&p->b, SL_COMPRESSION_NONE, 0);
    p->bytes = 0;
    return rc;
}

static int write_data(const opts_t *o, int64_t counts[3])
{
    sl_err_t err = {0};
    sl_rt_logs_t *logs = NULL;
    /* Topics it creates keep every record and their pages (bench_topic.h). */
    for (int k = 0; k < 3; k++)
        if (bench_create_input_topic(o->data, nx_topic(k), o->partitions, &err) != 0) {
            fprintf(stderr, "nexmark_gen: creating %s in %s: %s\n", nx_topic(k), o->data, err.msg);
            return -1;
        }
    if (sl_rt_logs_embedded(o->data, &logs, &err) != 0) {
        fprintf(stderr, "nexmark_gen: opening %s: %s\n", o->data, err.msg[0] ? err.msg : strerror(errno));
        return -1;
    }
    int nparts[3] = {0, 0, 0};
    static outpart_t parts[3][MAX_PARTITIONS];
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++) {
        int32_t n = 0;
        rc = logs->partitions(logs->ctx, nx_topic(k), &n, &err);
        if (rc == 0 && (n < 1 || n > MAX_PARTITIONS))
            rc = sl_err_set(&err, SL_E_INVAL, "topic %s has %d partitions (1..%d supported)", nx_topic(k), (int)n,
                            MAX_PARTITIONS);
        for (int p = 0; rc == 0 && p < n; p++) { /* nparts[k]: how many are set up, for the cleanup */
            rc = logs->open(logs->ctx, nx_topic(k), p, &parts[k][p].part, &err);
            if (rc == 0) {
                sl_batch_builder_init(&parts[k][p].b);
                sl_batch_builder_begin(&parts[k][p].b, SL_COMPRESSION_NONE, 0);
                nparts[k] = p + 1;
            }
        }
    }
    nx_gen_t *g = malloc(sizeof *g);
    sl_buf_t val, tmp;
    sl_buf_init(&val);
    sl_buf_init(&tmp);
    if (!g && rc == 0)
        rc = sl_err_set(&err, SL_E_NOMEM, "out of memory");
    if (rc == 0)
        nx_gen_init(g, &o->cfg);
    for (int64_t i = 0; rc == 0 && i < o->events; i++) {
        nx_event_t ev;
        char key[24];
        nx_next(g, &ev);
        int klen = nx_event_key(&ev, key);
        sl_buf_reset(&val);
        if (nx_event_json(&ev, &val)) {
            rc = sl_err_set(&err, SL_E_NOMEM, "encoding event %lld", (long long)i);
            break;
        }
        int p = nparts[ev.kind] == 1 ? 0 : sl_partition_for_key(key, (size_t)klen, nparts[ev.kind]);
        outpart_t *op = &parts[ev.kind][p];
        rc = sl_batch_builder_add(&op->b, ev.date_time, key, klen, val.data, (int32_t)val.len, NULL, 0);
        if (rc) {
            rc = sl_err_set(&err, SL_E_NOMEM, "building a batch");
            break;
        }
        op->bytes += val.len + (size_t)klen + 16;
        counts[ev.kind]++;
        if (op->b.count >= BATCH_RECORDS || op->bytes >= BATCH_BYTES)
            rc = flush_part(logs, op, &tmp, &err);
    }
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < nparts[k]; p++) {
            if (rc == 0)
                rc = flush_part(logs, &parts[k][p], &tmp, &err);
            if (rc == 0)
                rc = logs->sync(parts[k][p].part, &err);
            sl_batch_builder_free(&parts[k][p].b);
        }
    if (rc)
        fprintf(stderr, "nexmark_gen: %s\n", err.msg);
    sl_buf_free(&val);
    sl_buf_free(&tmp);
    free(g);
    sl_rt_logs_free(logs);
    return rc ? -1 : 0;
}

/* ---- Kafka producer -------------------------------------------------------------------------------- */

static long g_delivery_errors;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err && g_delivery_errors++ < 5)
        fprintf(stderr, "nexmark_gen: delivery failed: %s\n", rd_kafka_err2str(m->err));
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_kafka(opts_t *o, int64_t counts[3])
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"bootstrap.servers", o->brokers},
        {"linger.ms", o->rate > 0 ? "1" : "20"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "1000000"},
        {"partitioner", "murmur2_random"}, /* Kafka's Java partitioner, as the runtime's */
        {"enable.idempotence", "true"},
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "nexmark_gen: %s\n", errstr);
            rd_kafka_conf_destroy(conf);
            return -1;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "nexmark_gen: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    if (o->rate > 0) {
        if (!o->base_time_set)
            o->cfg.base_time_ms = sl_now_ms();
        if (!o->event_rate_set)
            o->cfg.event_rate = o->rate;
    }
    nx_gen_t *g = malloc(sizeof *g);
    if (!g) {
        rd_kafka_destroy(rk);
        return -1;
    }
    nx_gen_init(g, &o->cfg);
    sl_buf_t val;
    sl_buf_init(&val);
    int rc = 0;
    int64_t start = mono_ns();
    for (int64_t i = 0; i < o->events && rc == 0 && !g_delivery_errors; i++) {
        if (o->rate > 0) { /* event i is due at start + i / rate */
            int64_t due = start + (int64_t)((double)i * 1e9 / o->rate), now = mono_ns();
            if (due - now > 200000) {
                rd_kafka_poll(rk, 0);
                struct timespec ts = {(due - now) / 1000000000LL, (due - now) % 1000000000LL};
                nanosleep(&ts, NULL);
            }
        }
        nx_event_t ev;
        char key[24];
        nx_next(g, &ev);
        int klen = nx_event_key(&ev, key);
        sl_buf_reset(&val);
        if (nx_event_json(&ev, &val)) {
            rc = -1;
            break;
        }
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(nx_topic(ev.kind)), RD_KAFKA_V_KEY(key, (size_t)klen),
                RD_KAFKA_V_VALUE(val.data, val.len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_TIMESTAMP(ev.date_time), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "nexmark_gen: produce: %s\n", rd_kafka_err2str(e));
                rc = -1;
                break;
            }
            rd_kafka_poll(rk, 10);
        }
        counts[ev.kind]++;
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "nexmark_gen: %d message(s) not delivered within 60 s\n", rd_kafka_outq_len(rk));
        rc = -1;
    }
    if (g_delivery_errors)
        rc = -1;
    sl_buf_free(&val);
    free(g);
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse_opts(argc, argv, &o))
        return 2;
    int64_t counts[3] = {0, 0, 0};
    int64_t t0 = mono_ns();
    int rc = o.jsonl ? write_jsonl(&o, counts) : o.data ? write_data(&o, counts) : write_kafka(&o, counts);
    double secs = (double)(mono_ns() - t0) / 1e9;
    if (rc) {
        fprintf(stderr, "nexmark_gen: failed\n");
        return 1;
    }
    if (!o.quiet)
        fprintf(stderr,
                "nexmark_gen: %lld events (%lld persons, %lld auctions, %lld bids) in %.3f s: %.0f events/s\n",
                (long long)o.events, (long long)counts[0], (long long)counts[1], (long long)counts[2], secs,
                secs > 0 ? (double)o.events / secs : 0.0);
    return 0;
}
