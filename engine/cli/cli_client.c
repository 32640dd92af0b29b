/* `sluice produce` and `sluice consume`: convenience Kafka clients for users
 * without kcat, on librdkafka, so they speak the same protocol as any other
 * client (to Sluice's broker or to any Kafka cluster).  produce sends one
 * record per stdin line (idempotent, acks=all), optionally keyed by a JSON
 * field; consume prints record values, one per line, from the end, the
 * beginning, or a consumer group's committed offsets.  Also the librdkafka
 * handle setup that `sluice topics` shares. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"

#define DEFAULT_BOOTSTRAP "127.0.0.1:9092"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* librdkafka logs to stderr in its own format; keep only errors, with our prefix. */
static void rk_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        fprintf(stderr, "sluice: kafka: %s: %s\n", fac, buf);
}

rd_kafka_t *sl_cli_kafka_new(rd_kafka_type_t type, const char *bootstrap, const char *const *kv,
                             void (*dr)(rd_kafka_t *, const rd_kafka_message_t *, void *), void *opaque,
                             const char *cmd)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *base[] = {"bootstrap.servers", bootstrap ? bootstrap : DEFAULT_BOOTSTRAP, "client.id", "sluice-cli",
                          "log.connection.close", "false", NULL};
    for (int pass = 0; pass < 2; pass++)
        for (const char *const *p = pass ? kv : base; p && p[0]; p += 2)
            if (rd_kafka_conf_set(conf, p[0], p[1], errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "sluice %s: %s\n", cmd, errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
            }
    rd_kafka_conf_set_log_cb(conf, rk_log);
    if (dr)
        rd_kafka_conf_set_dr_msg_cb(conf, dr);
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "sluice %s: %s\n", cmd, errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

int sl_cli_kafka_metadata(rd_kafka_t *rk, const char *topic, const struct rd_kafka_metadata **md, const char *cmd)
{
    rd_kafka_topic_t *t = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, t ? 0 : 1, t, md, 5000);
    if (t)
        rd_kafka_topic_destroy(t);
    if (e) {
        fprintf(stderr, "sluice %s: cannot reach the broker: %s\n", cmd, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

/* ---- produce -------------------------------------------------------------------------------------------- */

static void produce_usage(FILE *f)
{
    fputs("Usage: sluice produce TOPIC [OPTIONS] < LINES\n"
          "\n"
          "Send one record per line of standard input to TOPIC (the line without its\n"
          "newline is the value), idempotently and with acks=all.  Records without a key\n"
          "are spread over the partitions; with --key-field each line must be a JSON\n"
          "object and the key is that field (a string as is, anything else as JSON),\n"
          "partitioned as Kafka's Java client does (murmur2), as Sluice jobs expect.\n"
          "\n"
          "Options:\n"
          "  -b, --bootstrap HOST:PORT  broker (default " DEFAULT_BOOTSTRAP ")\n"
          "  -k, --key-field FIELD      key each record by this JSON field\n"
          "  -h, --help                 this help\n"
          "\n"
          "Exit codes: 0 every line delivered, 1 a line failed (bad JSON, missing field)\n"
          "or the broker refused or was unreachable, 2 usage error.\n",
          f);
}

typedef struct dr_state {
    long delivered, failed;
    char first_error[256];
} dr_state_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    dr_state_t *s = opaque; /* the handle's opaque */
    if (m->err) {
        if (!s->failed++)
            snprintf(s->first_error, sizeof s->first_error, "%s", rd_kafka_err2str(m->err));
    } else {
        s->delivered++;
    }
}

/* The key of a JSON line: field `field` as text (a string's own bytes,
 * anything else as compact JSON).  Returns a malloc'ed string or NULL with a
 * reason in why. */
static char *json_key(const char *line, size_t len, const char *field, char *why, size_t cap)
{
    json_error_t je;
    json_t *v = json_loadb(line, len, JSON_DECODE_ANY, &je);
    if (!v) {
        snprintf(why, cap, "not JSON: %s", je.text);
        return NULL;
    }
    json_t *k = json_is_object(v) ? json_object_get(v, field) : NULL;
    char *out = NULL;
    if (!json_is_object(v))
        snprintf(why, cap, "not a JSON object");
    else if (!k || json_is_null(k))
        snprintf(why, cap, "no field '%s'", field);
    else if (json_is_string(k))
        out = strndup(json_string_value(k), json_string_length(k));
    else
        out = json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return out;
}

int sl_cli_produce(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"key-field", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL, *key_field = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 'k': key_field = optarg; break;
        case 'h': produce_usage(stdout); return SL_EXIT_OK;
        default:
            fprintf(stderr, "sluice produce: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            produce_usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "sluice produce: %s\n\n", optind >= argc ? "missing TOPIC" : "expected exactly one TOPIC");
        produce_usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *topic = argv[optind];
    if (key_field && !*key_field) {
        fprintf(stderr, "sluice produce: --key-field needs a field name\n");
        return SL_EXIT_USAGE;
    }
    dr_state_t dr = {0};
    /* murmur2: keys land where Kafka's Java client and Sluice's runtime put them
     * (co-partitioned joins rely on it); librdkafka's default is crc32. */
    const char *kv[] = {"enable.idempotence", "true", "acks", "all", "linger.ms", "5",
                        "partitioner", "murmur2_random", NULL};
    rd_kafka_t *rk = sl_cli_kafka_new(RD_KAFKA_PRODUCER, bootstrap, kv, on_delivery, &dr, "produce");
    if (!rk)
        return SL_EXIT_USAGE;
    const struct rd_kafka_metadata *md;
    if (sl_cli_kafka_metadata(rk, NULL, &md, "produce") != 0) {
        rd_kafka_destroy(rk);
        return SL_EXIT_ERROR;
    }
    rd_kafka_metadata_destroy(md);
    catch_signals();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, bad = 0;
    int ex = SL_EXIT_OK;
    while (!g_stop && (n = getline(&line, &cap, stdin)) != -1) {
        lineno++;
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        char *key = NULL, why[200];
        if (key_field && !(key = json_key(line, (size_t)n, key_field, why, sizeof why))) {
            fprintf(stderr, "sluice produce: line %ld: %s (skipped)\n", lineno, why);
            bad++;
            continue;
        }
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(line, (size_t)n),
                                      RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
        free(key);
        if (e) {
            fprintf(stderr, "sluice produce: line %ld: %s\n", lineno, rd_kafka_err2str(e));
            ex = SL_EXIT_ERROR;
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    free(line);
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "sluice produce: %d record(s) not delivered within 30 s\n", rd_kafka_outq_len(rk));
        ex = SL_EXIT_ERROR;
    }
    rd_kafka_destroy(rk);
    if (dr.failed) {
        fprintf(stderr, "sluice produce: %ld record(s) failed: %s\n", dr.failed, dr.first_error);
        ex = SL_EXIT_ERROR;
    }
    if (bad)
        ex = SL_EXIT_ERROR;
    fprintf(stderr, "sluice produce: %ld record(s) delivered to %s%s\n", dr.delivered, topic,
            bad ? " (lines skipped, see above)" : "");
    return ex;
}

/* ---- consume -------------------------------------------------------------------------------------------- */

static void consume_usage(FILE *f)
{
    fputs("Usage: sluice consume TOPIC [OPTIONS]\n"
          "\n"
          "Print the values of TOPIC's records on standard output, one per line, until\n"
          "SIGINT/SIGTERM (or --max / --exit).  Without --group every partition is read,\n"
          "from its end (new records only) or with --from-beginning from its start.  With\n"
          "--group the consumer joins that consumer group, resumes at its committed\n"
          "offsets (or the start / end when it has none) and commits what it printed.\n"
          "\n"
          "Options:\n"
          "  -b, --bootstrap HOST:PORT  broker (default " DEFAULT_BOOTSTRAP ")\n"
          "  -f, --from-beginning       start at the oldest record\n"
          "  -g, --group GROUP          consume as a member of this consumer group\n"
          "  -n, --max N                exit after N records\n"
          "  -e, --exit                 exit once every partition is read to its end\n"
          "  -k, --print-key            print KEY<TAB>VALUE\n"
          "  -h, --help                 this help\n"
          "\n"
          "Exit codes: 0 ok, 1 broker unreachable or unknown topic, 2 usage error.\n",
          f);
}

int sl_cli_consume(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'}, {"from-beginning", no_argument, NULL, 'f'},
        {"group", required_argument, NULL, 'g'},     {"max", required_argument, NULL, 'n'},
        {"exit", no_argument, NULL, 'e'},            {"print-key", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL, *group = NULL;
    bool from_beginning = false, exit_at_end = false, print_key = false;
    long max = -1;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:fg:n:ekh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 'f': from_beginning = true; break;
        case 'g': group = optarg; break;
        case 'e': exit_at_end = true; break;
        case 'k': print_key = true; break;
        case 'n': {
            char *end;
            max = strtol(optarg, &end, 10);
            if (*end || end == optarg || max < 1) {
                fprintf(stderr, "sluice consume: --max expects a positive number, got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            break;
        }
        case 'h': consume_usage(stdout); return SL_EXIT_OK;
        default:
            fprintf(stderr, "sluice consume: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            consume_usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "sluice consume: %s\n\n", optind >= argc ? "missing TOPIC" : "expected exactly one TOPIC");
        consume_usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (group && !*group) {
        fprintf(stderr, "sluice consume: --group needs a name\n");
        return SL_EXIT_USAGE;
    }
    const char *topic = argv[optind];
    const char *kv[] = {"group.id", group ? group : "sluice-consume", "auto.offset.reset",
                        from_beginning ? "earliest" : "latest", "enable.partition.eof", "true",
                        "enable.auto.commit", group ? "true" : "false", NULL};
    rd_kafka_t *rk = sl_cli_kafka_new(RD_KAFKA_CONSUMER, bootstrap, kv, NULL, NULL, "consume");
    if (!rk)
        return SL_EXIT_USAGE;
    const struct rd_kafka_metadata *md;
    if (sl_cli_kafka_metadata(rk, topic, &md, "consume") != 0) {
        rd_kafka_destroy(rk);
        return SL_EXIT_ERROR;
    }
    int nparts = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : -1;
    rd_kafka_resp_err_t terr = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(nparts > 0 ? nparts : 1);
    for (int i = 0; i < nparts; i++)
        rd_kafka_topic_partition_list_add(tl, topic, md->topics[0].partitions[i].id)->offset =
            from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    rd_kafka_metadata_destroy(md);
    if (nparts <= 0) {
        fprintf(stderr, "sluice consume: topic '%s': %s\n", topic, rd_kafka_err2str(terr));
        rd_kafka_topic_partition_list_destroy(tl);
        rd_kafka_destroy(rk);
        return SL_EXIT_ERROR;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_resp_err_t e;
    if (group) {
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
    } else {
        e = rd_kafka_assign(rk, tl);
    }
    if (e) {
        fprintf(stderr, "sluice consume: %s\n", rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(tl);
        rd_kafka_destroy(rk);
        return SL_EXIT_ERROR;
    }
    catch_signals();
    bool *at_end = calloc((size_t)nparts, sizeof *at_end);
    int n_at_end = 0, ex = SL_EXIT_OK;
    long printed = 0;
    while (!g_stop && at_end && (max < 0 || printed < max)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int32_t p = m->partition;
        bool known = p >= 0 && p < nparts;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (known && !at_end[p]) {
                at_end[p] = true;
                n_at_end++;
            }
        } else if (m->err) {
            fprintf(stderr, "sluice consume: %s\n", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                ex = SL_EXIT_ERROR;
                rd_kafka_message_destroy(m);
                break;
            }
        } else {
            if (known && at_end[p]) {
                at_end[p] = false;
                n_at_end--;
            }
            if (print_key) {
                if (m->key)
                    fwrite(m->key, 1, m->key_len, stdout);
                fputc('\t', stdout);
            }
            if (m->payload)
                fwrite(m->payload, 1, m->len, stdout);
            fputc('\n', stdout);
            printed++;
        }
        rd_kafka_message_destroy(m);
        if (exit_at_end && n_at_end == nparts)
            break;
    }
    fflush(stdout);
    free(at_end);
    rd_kafka_topic_partition_list_destroy(tl);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return ex;
}
