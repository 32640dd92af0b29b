/* nexmark_lat: end-to-end latency of a query's output topic.  Reads the topic
 * from the beginning with librdkafka (long-poll fetches, so a record arrives
 * as soon as the broker has it) and, for each record, takes the wall clock at
 * receipt minus the record's timestamp.  With `nexmark_gen --rate`, event time
 * is the time each input event was due to be sent, and the engine keeps it as
 * the output's timestamp (a window result: its end - 1 ms), so this is the
 * delay from "event due" to "result readable by a client".  Prints p50 / p99. */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fputs("Usage: nexmark_lat --brokers HOST:PORT --topic TOPIC [OPTIONS]\n"
          "\n"
          "Consume TOPIC from the beginning; latency of a record = receive wall time -\n"
          "record timestamp.  Prints one line:\n"
          "  latency topic=T records=N p50_ms=X p99_ms=Y max_ms=Z\n"
          "Options:\n"
          "  -r, --records N     stop after N records\n"
          "  -i, --idle S        stop when nothing arrived for S seconds after the first\n"
          "                      record (default 3)\n"
          "  -w, --warmup-ms MS  ignore records whose timestamp is within MS of the first\n"
          "                      record's (default 0)\n"
          "  -t, --timeout S     give up after S seconds in all (default 600)\n"
          "SIGINT or SIGTERM stops it too, printing what was measured.\n"
          "  -h, --help          this help\n",
          f);
}

static volatile sig_atomic_t g_stop; /* SIGINT / SIGTERM: report what was measured so far */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile: the smallest sample with at least q of them <= it. */
static size_t rank(size_t n, double q)
{
    size_t r = (size_t)ceil(q * (double)n);
    return r == 0 ? 0 : r - 1;
}

static int parse_pos(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"brokers", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 'T'},
        {"records", required_argument, NULL, 'r'}, {"idle", required_argument, NULL, 'i'},
        {"warmup-ms", required_argument, NULL, 'w'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *brokers = NULL, *topic = NULL;
    double records = 0, idle = 3, warmup = 0, timeout = 600;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:T:r:i:w:t:h", lo, NULL)) != -1) {
        double *dst = NULL;
        switch (c) {
        case 'b': brokers = optarg; continue;
        case 'T': topic = optarg; continue;
        case 'r': dst = &records; break;
        case 'i': dst = &idle; break;
        case 'w': dst = &warmup; break;
        case 't': dst = &timeout; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "nexmark_lat: %s '%s'\n\n", c == ':' ? "missing value for" : "unknown option",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (parse_pos(optarg, dst)) {
            fprintf(stderr, "nexmark_lat: bad value '%s'\n\n", optarg);
            usage(stderr);
            return 2;
        }
    }
    if (!brokers || !topic || optind != argc) {
        usage(stderr);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {{"bootstrap.servers", brokers}, {"group.id", "nexmark-lat"},
                                 {"enable.auto.commit", "false"}, {"fetch.wait.max.ms", "100"},
                                 {"fetch.min.bytes", "1"},        {"auto.offset.reset", "earliest"}};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "nexmark_lat: %s\n", errstr);
            return 1;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "nexmark_lat: %s\n", errstr);
        return 1;
    }
    double start = now_ms();
    /* the output topic appears when the job starts: wait for its metadata */
    int nparts = 0;
    while (!g_stop && nparts == 0 && now_ms() - start < timeout * 1e3) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
        if (rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
            md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
            nparts = md->topics[0].partition_cnt;
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(t);
        if (nparts == 0) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    if (nparts == 0) {
        fprintf(stderr, "nexmark_lat: topic %s did not appear\n", topic);
        rd_kafka_destroy(rk);
        return 1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);

    size_t n = 0, cap = 1 << 16;
    double *lat = malloc(cap * sizeof *lat);
    double last_rx = 0, first_ts = -1;
    long total = 0;
    while (lat && !g_stop && now_ms() - start < timeout * 1e3) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        double now = now_ms();
        if (!m) {
            if (total > 0 && now - last_rx > idle * 1e3)
                break;
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "nexmark_lat: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        int64_t ts = rd_kafka_message_timestamp(m, NULL);
        rd_kafka_message_destroy(m);
        last_rx = now;
        total++;
        if (first_ts < 0)
            first_ts = (double)ts;
        if ((double)ts >= first_ts + warmup) {
            if (n == cap) {
                double *nl = realloc(lat, 2 * cap * sizeof *lat);
                if (!nl)
                    break;
                lat = nl;
                cap *= 2;
            }
            lat[n++] = now - (double)ts;
        }
        if (records > 0 && (double)total >= records)
            break;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (!lat || n == 0) {
        fprintf(stderr, "nexmark_lat: no records measured on %s\n", topic);
        free(lat);
        return 1;
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("latency topic=%s records=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", topic, n, lat[rank(n, 0.50)],
           lat[rank(n, 0.99)], lat[n - 1]);
    free(lat);
    return 0;
}
