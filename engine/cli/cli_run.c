/* `sluice run JOB.sl`: compile a job, start the embedded broker (so any Kafka
 * client can feed its inputs and read its outputs), run the job on the
 * broker's own logs with the exactly-once runtime, until SIGINT/SIGTERM; then
 * commit, stop, and close.  Restarted on the same data folder it resumes from
 * its last checkpoint.  Input topics that do not exist yet are created. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker.h"
#include "dsl/dsl.h"
#include "engine/cli/cli.h"
#include "engine/engine.h"
#include "engine/http.h"
#include "engine/obs.h"

static sl_broker_t *g_broker;   /* for the signal handler only */
static sl_runtime_t *g_runtime;
static volatile sig_atomic_t g_stop; /* --exit-when-caught-up: a signal also ends the wait */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_runtime)
        sl_runtime_request_stop(g_runtime);
    else if (g_broker)
        sl_broker_stop(g_broker);
}

static void usage(FILE *f)
{
    fputs("Usage: sluice run JOB.sl [OPTIONS]\n"
          "\n"
          "Run a job on the embedded broker until SIGINT/SIGTERM.  The broker listens,\n"
          "so any Kafka client can feed the job's input topics and read its outputs.\n"
          "Restarted with the same data folder, the job resumes exactly where it\n"
          "committed (exactly-once outputs).  Input topics that do not exist yet are\n"
          "created with num.partitions partitions.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR          data folder: topics, logs and job state (./data)\n"
          "  -l, --listen HOST:PORT  Kafka listener (127.0.0.1:9092; port 0: any free port)\n"
          "  -t, --threads N         worker threads (default: cores)\n"
          "      --idle-timeout MS   a task whose inputs have had nothing new for MS ms lets its\n"
          "                          stream time follow the wall clock, so windows close and\n"
          "                          outer-join results come out when input stops (default\n"
          "                          30000; 0: stream time moves with records only, and\n"
          "                          emit-final windows on one input, not re-keyed from\n"
          "                          several partitions, publish before their checkpoint)\n"
          "      --status-interval S on a terminal a status line (records/s in and out, lag,\n"
          "                          committed offsets) is redrawn every second; otherwise it\n"
          "                          is logged every S seconds (default 10; 0: never)\n"
          "  -a, --app-id ID         application id: prefix of the job's internal topics (repartition,\n"
          "                          dead letters: ID-dlq) and its state folder DIR/jobs/ID (default:\n"
          "                          sluice, state in DIR/jobs); 1..100 of [A-Za-z0-9._-]\n"
          "  -s, --set KEY=VALUE     a broker setting, as for sluice broker (repeatable)\n"
          "      --http HOST:PORT    serve state queries, /metrics and /v1/status over HTTP (off by\n"
          "                          default; port 0: any free port; docs/http.md)\n"
          "      --exit-when-caught-up  stop once the job has committed everything its\n"
          "                          inputs hold, and print the time that took (from the\n"
          "                          workers' start) and the record counts on stderr\n"
          "  -h, --help              this help\n"
          "\n"
          "Errors in the job are printed as file:line:col: error: message (exit 2).\n",
          f);
}

static void *broker_thread(void *arg)
{
    sl_broker_run(arg);
    return NULL;
}

/* Benchmarks and scripts: run until every input is processed and committed
 * (polled every 10 ms, so the time is at most that late), then stop. */
static int run_until_caught_up(sl_runtime_t *rt, sl_err_t *err)
{
    int64_t t0 = sl_mono_ns();
    int rc = sl_runtime_start(rt, err);
    if (rc)
        return rc;
    bool done = false;
    while (!g_stop && !(done = sl_runtime_caught_up(rt))) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    sl_runtime_stats_t st;
    sl_runtime_stats(rt, &st);
    rc = sl_runtime_stop(rt, err);
    if (done)
        fprintf(stderr, "sluice run: caught up after %.3f s: %llu records in, %llu out, %d tasks, %d threads\n",
                secs, (unsigned long long)st.records_in, (unsigned long long)st.records_out, st.tasks, st.threads);
    return rc;
}

int sl_cli_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},  {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'}, {"set", required_argument, NULL, 's'},
        {"idle-timeout", required_argument, NULL, 'I'}, {"http", required_argument, NULL, 'H'},
        {"status-interval", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
        {"app-id", required_argument, NULL, 'a'},
        {"exit-when-caught-up", no_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    sl_broker_config_t cfg;
    sl_broker_config_default(&cfg);
    const char *data = NULL, *listen = NULL, *http = NULL, *app_id = NULL;
    int threads = 0, c;
    int64_t idle_ms = 30000;
    int64_t status_ms = 10000;
    bool until_caught_up = false;
    char *sets[64];
    int nsets = 0;
    optind = 0; /* 0: GNU getopt re-initialises fully (permutes JOB.sl past the options) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:l:t:s:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': {
            size_t n = strlen(optarg);
            if (n == 0 || n > 100 || strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n) {
                fprintf(stderr, "sluice run: --app-id expects 1..100 characters of [A-Za-z0-9._-], got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            app_id = optarg;
            break;
        }
        case 'd': data = optarg; break;
        case 'l': listen = optarg; break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 256) {
                fprintf(stderr, "sluice run: --threads expects 1..256, got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            threads = (int)v;
            break;
        }
        case 'I': {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (end == optarg || *end || v < 0 || v > 86400000LL * 365) {
                fprintf(stderr, "sluice run: --idle-timeout expects milliseconds >= 0, got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            idle_ms = v;
            break;
        }
        case 'S': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 0 || v > 86400) {
                fprintf(stderr, "sluice run: --status-interval expects seconds 0..86400, got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            status_ms = v * 1000;
            break;
        }
        case 's':
            if (nsets == 64) {
                fprintf(stderr, "sluice run: too many --set options\n");
                return SL_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case 'H': http = optarg; break;
        case 'h': usage(stdout); return SL_EXIT_OK;
        case 'C': until_caught_up = true; break;
        default:
            fprintf(stderr, "sluice run: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "sluice run: %s\n\n", optind >= argc ? "missing JOB.sl" : "expected exactly one JOB.sl");
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *path = argv[optind];
    sl_err_t err = {0};
    for (int i = 0; i < nsets; i++) {
        char *eq = strchr(sets[i], '=');
        if (!eq) {
            fprintf(stderr, "sluice run: --set expects KEY=VALUE, got '%s'\n", sets[i]);
            return SL_EXIT_USAGE;
        }
        *eq = '\0';
        if (sl_broker_config_set(&cfg, sets[i], eq + 1, &err) != 0) {
            fprintf(stderr, "sluice run: %s\n", err.msg);
            return SL_EXIT_USAGE;
        }
    }
    if (data)
        snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    if (listen && sl_cli_parse_listen(listen, &cfg) != 0) {
        fprintf(stderr, "sluice run: --listen expects HOST:PORT, got '%s'\n", listen);
        return SL_EXIT_USAGE;
    }
    sl_broker_config_t http_addr; /* only host and port are used */
    if (http && sl_cli_parse_listen(http, &http_addr) != 0) {
        fprintf(stderr, "sluice run: --http expects HOST:PORT, got '%s'\n", http);
        return SL_EXIT_USAGE;
    }

    /* Nothing starts until the whole file checks. */
    char *src = sl_cli_read_job(path);
    if (!src)
        return SL_EXIT_ERROR;
    sl_buf_t diag;
    sl_buf_init(&diag);
    sl_dsl_job_t *job = NULL;
    int rc = sl_dsl_compile_app(path, src, app_id, &diag, &job, &err);
    free(src);
    if (rc) {
        if (diag.len)
            fwrite(diag.data, 1, diag.len, stderr);
        else
            fprintf(stderr, "%s\n", err.msg);
        sl_buf_free(&diag);
        return rc == SL_E_NOMEM ? SL_EXIT_ERROR : SL_EXIT_USAGE;
    }
    sl_buf_free(&diag);

    signal(SIGPIPE, SIG_IGN);
    sl_broker_t *b = NULL;
    int ex = SL_EXIT_OK;
    if (sl_broker_open(&cfg, &b, &err) != 0) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        sl_dsl_job_free(job);
        return SL_EXIT_ERROR;
    }
    g_broker = b;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_t bt;
    if (pthread_create(&bt, NULL, broker_thread, b) != 0) {
        fprintf(stderr, "sluice run: cannot start the broker thread\n");
        g_broker = NULL;
        sl_broker_close(b);
        sl_dsl_job_free(job);
        return SL_EXIT_ERROR;
    }

    const char *topics[64];
    size_t ntopics = sl_dsl_job_source_topics(job, topics, 64);
    for (size_t i = 0; i < ntopics && i < 64; i++) {
        int32_t n;
        if (sl_broker_topic_partitions(b, topics[i], &n) == 0)
            continue;
        if (sl_broker_create_topic(b, topics[i], -1, &err) != 0) {
            fprintf(stderr, "sluice run: creating input topic %s: %s\n", topics[i], err.msg);
            ex = SL_EXIT_ERROR;
            break;
        }
        sl_log(SL_INFO, "run", "created input topic %s (%d partition(s))", topics[i], cfg.num_partitions);
    }

    sl_rt_logs_t *logs = NULL;
    sl_runtime_t *rt = NULL;
    char state_dir[4200];
    if (app_id && strcmp(app_id, "sluice") != 0)
        snprintf(state_dir, sizeof state_dir, "%s/jobs/%s", cfg.data_dir, app_id);
    else
        snprintf(state_dir, sizeof state_dir, "%s/jobs", cfg.data_dir);
    if (ex == SL_EXIT_OK && sl_rt_logs_broker(b, &logs, &err) == 0) {
        sl_runtime_opts_t o;
        sl_runtime_opts_default(&o);
        o.state_dir = state_dir;
        o.logs = logs;
        o.threads = threads;
        o.idle_timeout_ms = idle_ms;
        if (sl_runtime_new(sl_dsl_job_topo(job), &o, &rt, &err) == 0) {
            sl_log(SL_INFO, "run", "%s running (Kafka clients: %s:%d); SIGINT or SIGTERM stops it", path, cfg.host,
                   sl_broker_port(b));
            g_runtime = rt;
            sl_obs_t *obs = NULL;
            sl_http_t *hs = NULL;
            if (http && sl_cli_http_start(&http_addr, b, path, rt, sl_dsl_job_topo(job), &obs, &hs) != 0)
                ex = SL_EXIT_ERROR;
            if (ex == SL_EXIT_OK &&
                (until_caught_up ? run_until_caught_up(rt, &err)
                                 : sl_cli_run_with_status(rt, sl_dsl_job_topo(job), b, path, status_ms, obs, &err)) != 0) {
                fprintf(stderr, "sluice run: %s\n", err.msg);
                ex = SL_EXIT_ERROR;
            }
            sl_cli_http_stop(obs, hs);
            g_runtime = NULL;
            sl_runtime_close(rt);
        } else {
            fprintf(stderr, "sluice run: %s\n", err.msg);
            ex = SL_EXIT_ERROR;
        }
    } else if (ex == SL_EXIT_OK) {
        fprintf(stderr, "sluice run: %s\n", err.msg);
        ex = SL_EXIT_ERROR;
    }
    sl_rt_logs_free(logs);
    sl_broker_stop(b);
    pthread_join(bt, NULL);
    g_broker = NULL;
    sl_broker_close(b);
    sl_dsl_job_free(job);
    return ex;
}
