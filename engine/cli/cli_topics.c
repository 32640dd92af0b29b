/* `sluice topics`: list, create, delete and describe topics over the Kafka
 * protocol (librdkafka's Metadata, CreateTopics, DeleteTopics and
 * DescribeConfigs), so it works against Sluice's broker or any Kafka cluster. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cli/cli.h"

static void usage(FILE *f)
{
    fputs("Usage: sluice topics [list]                  [--bootstrap HOST:PORT]\n"
          "       sluice topics create NAME [--partitions N] [--config KEY=VALUE]...\n"
          "       sluice topics delete NAME\n"
          "       sluice topics describe NAME\n"
          "\n"
          "Manage topics over the Kafka protocol.  list prints one topic name per line;\n"
          "describe prints the partitions with their offsets and the topic's settings.\n"
          "\n"
          "Options:\n"
          "  -b, --bootstrap HOST:PORT  broker (default 127.0.0.1:9092)\n"
          "  -p, --partitions N         create: partitions (default 1)\n"
          "  -c, --config KEY=VALUE     create: a topic setting, e.g. cleanup.policy=compact,\n"
          "                             retention.ms=86400000 (repeatable)\n"
          "  -h, --help                 this help\n"
          "\n"
          "Exit codes: 0 ok, 1 the broker refused (unknown or existing topic, bad\n"
          "setting) or was unreachable, 2 usage error.\n",
          f);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int topics_list(rd_kafka_t *rk)
{
    const struct rd_kafka_metadata *md;
    if (sl_cli_kafka_metadata(rk, NULL, &md, "topics") != 0)
        return SL_EXIT_ERROR;
    char **names = calloc((size_t)md->topic_cnt + 1, sizeof *names);
    int n = 0;
    for (int i = 0; names && i < md->topic_cnt; i++)
        if (!md->topics[i].err)
            names[n++] = md->topics[i].topic;
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++)
        printf("%s\n", names[i]);
    free(names);
    rd_kafka_metadata_destroy(md);
    return names ? SL_EXIT_OK : SL_EXIT_ERROR;
}

/* Run one admin request and wait for its result event (30 s). */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t type)
{
    for (;;) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
        if (!ev || rd_kafka_event_type(ev) == type)
            return ev;
        rd_kafka_event_destroy(ev);
    }
}

static int report_topic_result(const rd_kafka_topic_result_t *r, const char *what)
{
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(r);
    if (e) {
        const char *msg = rd_kafka_topic_result_error_string(r);
        fprintf(stderr, "sluice topics: %s %s: %s\n", what, rd_kafka_topic_result_name(r),
                msg && *msg ? msg : rd_kafka_err2str(e));
        return SL_EXIT_ERROR;
    }
    fprintf(stderr, "sluice topics: %s %s\n", strcmp(what, "create") ? "deleted" : "created",
            rd_kafka_topic_result_name(r));
    return SL_EXIT_OK;
}

static int topics_create(rd_kafka_t *rk, const char *name, int partitions, char **configs, int nconfigs)
{
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, 1, errstr, sizeof errstr);
    if (!nt) {
        fprintf(stderr, "sluice topics: %s\n", errstr);
        return SL_EXIT_USAGE;
    }
    for (int i = 0; i < nconfigs; i++) {
        char *eq = strchr(configs[i], '=');
        *eq = '\0';
        rd_kafka_NewTopic_set_config(nt, configs[i], eq + 1);
        *eq = '=';
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    int ex = SL_EXIT_ERROR;
    if (!ev) {
        fprintf(stderr, "sluice topics: no answer from the broker within 30 s\n");
    } else if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "sluice topics: create %s: %s\n", name, rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        ex = n == 1 ? report_topic_result(res[0], "create") : SL_EXIT_ERROR;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    return ex;
}

static int topics_delete(rd_kafka_t *rk, const char *name)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    int ex = SL_EXIT_ERROR;
    if (!ev) {
        fprintf(stderr, "sluice topics: no answer from the broker within 30 s\n");
    } else if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "sluice topics: delete %s: %s\n", name, rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        ex = n == 1 ? report_topic_result(res[0], "delete") : SL_EXIT_ERROR;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    return ex;
}

static int topics_describe(rd_kafka_t *rk, const char *name)
{
    const struct rd_kafka_metadata *md;
    if (sl_cli_kafka_metadata(rk, name, &md, "topics") != 0)
        return SL_EXIT_ERROR;
    if (md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "sluice topics: describe %s: %s\n", name,
                rd_kafka_err2str(md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
        rd_kafka_metadata_destroy(md);
        return SL_EXIT_ERROR;
    }
    const struct rd_kafka_metadata_topic *t = &md->topics[0];
    printf("topic %s\npartitions %d\n", t->topic, t->partition_cnt);
    int ex = SL_EXIT_OK;
    for (int i = 0; i < t->partition_cnt; i++) {
        int64_t lo = -1, hi = -1;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, name, t->partitions[i].id, &lo, &hi, 10000);
        if (e) {
            fprintf(stderr, "sluice topics: offsets of %s-%d: %s\n", name, t->partitions[i].id, rd_kafka_err2str(e));
            ex = SL_EXIT_ERROR;
            continue;
        }
        printf("  partition %d  leader %d  start offset %" PRId64 "  end offset %" PRId64 "  records %" PRId64 "\n",
               t->partitions[i].id, t->partitions[i].leader, lo, hi, hi - lo);
    }
    rd_kafka_metadata_destroy(md);

    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    if (!ev || rd_kafka_event_error(ev)) {
        fprintf(stderr, "sluice topics: settings of %s: %s\n", name,
                ev ? rd_kafka_event_error_string(ev) : "no answer within 30 s");
        ex = SL_EXIT_ERROR;
    } else {
        size_t n;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            size_t nc;
            const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rs[i], &nc);
            if (nc)
                printf("settings\n");
            for (size_t k = 0; k < nc; k++) {
                const char *v = rd_kafka_ConfigEntry_value(ce[k]);
                printf("  %s=%s%s\n", rd_kafka_ConfigEntry_name(ce[k]), v ? v : "",
                       rd_kafka_ConfigEntry_is_default(ce[k]) ? "" : "  (set on the topic)");
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_queue_destroy(q);
    return ex;
}

int sl_cli_topics(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'}, {"partitions", required_argument, NULL, 'p'},
        {"config", required_argument, NULL, 'c'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL;
    long partitions = -1;
    char *configs[64];
    int nconfigs = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:p:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 'p': {
            char *end;
            partitions = strtol(optarg, &end, 10);
            if (*end || end == optarg || partitions < 1 || partitions > 100000) {
                fprintf(stderr, "sluice topics: --partitions expects 1..100000, got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            break;
        }
        case 'c':
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                fprintf(stderr, "sluice topics: --config expects KEY=VALUE, got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            if (nconfigs == 64) {
                fprintf(stderr, "sluice topics: too many --config options\n");
                return SL_EXIT_USAGE;
            }
            configs[nconfigs++] = optarg;
            break;
        case 'h': usage(stdout); return SL_EXIT_OK;
        default:
            fprintf(stderr, "sluice topics: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    const char *sub = optind < argc ? argv[optind] : "list";
    int nargs = argc - optind - (optind < argc);
    const char *name = nargs > 0 ? argv[optind + 1] : NULL;
    bool is_list = !strcmp(sub, "list"), is_create = !strcmp(sub, "create");
    if (!is_list && !is_create && strcmp(sub, "delete") && strcmp(sub, "describe")) {
        fprintf(stderr, "sluice topics: unknown subcommand '%s'\n\n", sub);
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (is_list ? nargs != 0 : nargs != 1) {
        fprintf(stderr, "sluice topics %s: %s\n\n", sub, is_list ? "takes no NAME" : "expects exactly one NAME");
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    if (!is_create && (partitions > 0 || nconfigs)) {
        fprintf(stderr, "sluice topics %s: --partitions and --config are for create\n", sub);
        return SL_EXIT_USAGE;
    }
    /* A producer handle for the admin calls: never create the topic asked about. */
    const char *kv[] = {"allow.auto.create.topics", "false", NULL};
    rd_kafka_t *rk = sl_cli_kafka_new(RD_KAFKA_PRODUCER, bootstrap, kv, NULL, NULL, "topics");
    if (!rk)
        return SL_EXIT_USAGE;
    int ex;
    if (is_list)
        ex = topics_list(rk);
    else if (is_create)
        ex = topics_create(rk, name, partitions > 0 ? (int)partitions : 1, configs, nconfigs);
    else if (!strcmp(sub, "delete"))
        ex = topics_delete(rk, name);
    else
        ex = topics_describe(rk, name);
    rd_kafka_destroy(rk);
    return ex;
}
