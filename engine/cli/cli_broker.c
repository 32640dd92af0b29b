/* `sluice broker`: run the Kafka-protocol broker in the foreground until
 * SIGINT or SIGTERM, then stop cleanly (pending appends synced, logs closed).
 * Settings come from defaults, then --config FILE (server.properties names),
 * then --set KEY=VALUE and the dedicated flags. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "engine/cli/cli.h"

static sl_broker_t *g_running; /* for the signal handler only */

static void on_signal(int sig)
{
    (void)sig;
    if (g_running)
        sl_broker_stop(g_running); /* async-signal-safe: a uv_async_send */
}

static void usage(FILE *f)
{
    fputs("Usage: sluice broker [OPTIONS]\n"
          "\n"
          "Run the Kafka-protocol broker in the foreground.  Any Kafka client (kcat,\n"
          "librdkafka, confluent-kafka, kafkajs, the Java client) can produce, consume\n"
          "and form consumer groups against it.  SIGINT/SIGTERM stop it cleanly.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR          data folder (default ./data)\n"
          "  -l, --listen HOST:PORT  listen address (default 127.0.0.1:9092; port 0 picks\n"
          "                          a free port, printed as 'listening on')\n"
          "  -c, --config FILE       server.properties-style settings (key=value)\n"
          "  -s, --set KEY=VALUE     one setting, after --config (repeatable), e.g.\n"
          "                          num.partitions=6, auto.create.topics.enable=false,\n"
          "                          log.segment.bytes, log.retention.ms, message.max.bytes,\n"
          "                          log.flush.interval.messages, log.flush.interval.ms\n"
          "  -h, --help              this help\n"
          "\n"
          "See docs/broker.md for every setting.\n",
          f);
}

int sl_cli_parse_listen(const char *s, sl_broker_config_t *cfg)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof cfg->host)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    size_t n = (size_t)(colon - s);
    if (s[0] == '[' && n >= 2 && s[n - 1] == ']') { /* [::1]:9092 */
        s++;
        n -= 2;
    }
    memcpy(cfg->host, s, n);
    cfg->host[n] = '\0';
    cfg->port = (int)port;
    return 0;
}

int sl_cli_broker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},   {"listen", required_argument, NULL, 'l'},
        {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    sl_broker_config_t cfg;
    sl_broker_config_default(&cfg);
    const char *data = NULL, *listen = NULL, *config = NULL;
    char *sets[64];
    int nsets = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:l:c:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 's':
            if (nsets == 64) {
                fprintf(stderr, "sluice broker: too many --set options\n");
                return SL_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return SL_EXIT_OK;
        default:
            fprintf(stderr, "sluice broker: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice broker: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    sl_err_t err = {0};
    if (config && sl_broker_config_load(&cfg, config, &err) != 0) {
        fprintf(stderr, "sluice broker: %s\n", err.msg);
        return SL_EXIT_USAGE;
    }
    for (int i = 0; i < nsets; i++) {
        char *eq = strchr(sets[i], '=');
        if (!eq) {
            fprintf(stderr, "sluice broker: --set expects KEY=VALUE, got '%s'\n", sets[i]);
            return SL_EXIT_USAGE;
        }
        *eq = '\0';
        if (sl_broker_config_set(&cfg, sets[i], eq + 1, &err) != 0) {
            fprintf(stderr, "sluice broker: %s\n", err.msg);
            return SL_EXIT_USAGE;
        }
    }
    if (data) {
        if (strlen(data) >= sizeof cfg.data_dir) {
            fprintf(stderr, "sluice broker: --data path too long\n");
            return SL_EXIT_USAGE;
        }
        snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    }
    if (listen && sl_cli_parse_listen(listen, &cfg) != 0) {
        fprintf(stderr, "sluice broker: --listen expects HOST:PORT, got '%s'\n", listen);
        return SL_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    sl_broker_t *b;
    if (sl_broker_open(&cfg, &b, &err) != 0) {
        fprintf(stderr, "sluice broker: %s\n", err.msg);
        return SL_EXIT_ERROR;
    }
    g_running = b;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sl_broker_run(b);
    g_running = NULL;
    sl_broker_close(b);
    return SL_EXIT_OK;
}
