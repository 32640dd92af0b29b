/* `sluice server`: one process holding the Kafka-protocol broker, the HTTP
 * server (queries, /metrics, /v1/status, the web page) and every job file
 * (*.sl) of a folder, each its own runtime with its state in
 * <data>/jobs/<name>/.  Restarted on the same folders, every job resumes from
 * its last commit.  A job that does not compile or fails is reported (log,
 * /v1/status) and the others keep running.  SIGINT/SIGTERM stop the jobs
 * (each commits), then the broker. */
#include <dirent.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "dsl/dsl.h"
#include "engine/cli/cli.h"
#include "engine/engine.h"
#include "engine/http.h"
#include "engine/obs.h"

#define MAX_JOBS 64

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct srv_job {
    char name[128];
    char *path;
    sl_dsl_job_t *job;
    sl_rt_logs_t *logs;
    sl_runtime_t *rt;
    bool started, failed_logged;
} srv_job_t;

static void usage(FILE *f)
{
    fputs("Usage: sluice server [OPTIONS]\n"
          "\n"
          "Run the Kafka-protocol broker, the HTTP server (table queries, /metrics,\n"
          "/v1/status and a web page at /) and every job file (*.sl) of the --jobs folder,\n"
          "until SIGINT/SIGTERM.  Each job runs on the broker's topics with its own state\n"
          "in DATA/jobs/NAME/ (NAME: the file name without .sl); restarted on the same\n"
          "folders, each job resumes from its last commit.\n"
          "\n"
          "Options:\n"
          "  -d, --data DIR          data folder: topics, logs and job state (./data)\n"
          "  -j, --jobs DIR          folder of job files to run (none by default)\n"
          "  -l, --listen HOST:PORT  Kafka listener (127.0.0.1:9092; port 0: any free port)\n"
          "      --http HOST:PORT    HTTP listener (127.0.0.1:8080; port 0: any free port)\n"
          "  -t, --threads N         worker threads per job (default: cores)\n"
          "      --idle-timeout MS   as for sluice run (default 30000)\n"
          "      --status-interval S log each job's records/s, lag and committed offsets\n"
          "                          every S seconds (default 10; 0: never)\n"
          "  -s, --set KEY=VALUE     a broker setting, as for sluice broker (repeatable)\n"
          "  -h, --help              this help\n"
          "\n"
          "Exit codes: 0 clean stop, 1 the broker or HTTP server could not start,\n"
          "2 usage error.  A job that fails is reported and does not stop the server.\n",
          f);
}

static void *broker_thread(void *arg)
{
    sl_broker_run(arg);
    return NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The *.sl files of dir, sorted; returns how many (-1: unreadable folder). */
static int list_jobs(const char *dir, char **paths, int cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".sl") || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            sl_log(SL_WARN, "server", "more than %d job files in %s: the rest are ignored", cap, dir);
            break;
        }
        size_t pl = strlen(dir) + l + 2;
        if (!(paths[n] = malloc(pl)))
            break;
        snprintf(paths[n++], pl, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(paths, (size_t)n, sizeof *paths, cmp_str);
    return n;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 100)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* Compile and open one job (its runtime not started yet).  On failure the
 * message is in err and the job is left for job_close. */
static int job_open(srv_job_t *j, sl_broker_t *b, const char *data_dir, const sl_runtime_opts_t *base,
                    sl_err_t *err)
{
    if (!name_ok(j->name))
        return sl_err_set(err, SL_E_INVAL, "job name '%s' (from the file name) must be 1..100 of [A-Za-z0-9._-]",
                          j->name);
    char *src = sl_cli_read_job(j->path);
    if (!src)
        return sl_err_set(err, SL_E_IO, "%s: cannot read the job file", j->path);
    sl_buf_t diag;
    sl_buf_init(&diag);
    int rc = sl_dsl_compile(j->path, src, &diag, &j->job, err);
    free(src);
    if (rc) {
        if (diag.len) /* every error, with source lines and carets */
            fprintf(stderr, "%.*s", (int)diag.len, (const char *)diag.data);
        sl_buf_free(&diag);
        return rc;
    }
    sl_buf_free(&diag);
    const char *topics[64];
    size_t nt = sl_dsl_job_source_topics(j->job, topics, 64);
    for (size_t i = 0; i < nt && i < 64; i++) {
        int32_t n;
        if (sl_broker_topic_partitions(b, topics[i], &n) != 0 && (rc = sl_broker_create_topic(b, topics[i], -1, err)))
            return rc;
    }
    if ((rc = sl_rt_logs_broker(b, &j->logs, err)) != 0)
        return rc;
    char state_dir[4400], dlq[160];
    snprintf(state_dir, sizeof state_dir, "%s/jobs/%s", data_dir, j->name);
    snprintf(dlq, sizeof dlq, "%s-dlq", j->name);
    sl_runtime_opts_t o = *base;
    o.state_dir = state_dir;
    o.logs = j->logs;
    o.dlq_topic = dlq; /* one dead-letter topic per job (the DSL's app id is the same for every job) */
    return sl_runtime_new(sl_dsl_job_topo(j->job), &o, &j->rt, err);
}

static void job_close(srv_job_t *j)
{
    sl_runtime_close(j->rt);
    sl_rt_logs_free(j->logs);
    sl_dsl_job_free(j->job);
    free(j->path);
    memset(j, 0, sizeof *j);
}

int sl_cli_server(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},          {"jobs", required_argument, NULL, 'j'},
        {"listen", required_argument, NULL, 'l'},        {"http", required_argument, NULL, 'H'},
        {"threads", required_argument, NULL, 't'},       {"idle-timeout", required_argument, NULL, 'I'},
        {"status-interval", required_argument, NULL, 'S'}, {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0},
    };
    sl_broker_config_t cfg, http_cfg;
    sl_broker_config_default(&cfg);
    sl_broker_config_default(&http_cfg);
    snprintf(http_cfg.host, sizeof http_cfg.host, "127.0.0.1");
    http_cfg.port = 8080;
    const char *data = NULL, *listen = NULL, *jobs_dir = NULL;
    sl_runtime_opts_t ro;
    sl_runtime_opts_default(&ro);
    ro.idle_timeout_ms = 30000;
    int64_t status_ms = 10000;
    char *sets[64];
    int nsets = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:j:l:t:s:h", opts, NULL)) != -1) {
        char *end;
        long long v;
        switch (c) {
        case 'd': data = optarg; break;
        case 'j': jobs_dir = optarg; break;
        case 'l': listen = optarg; break;
        case 'H':
            if (sl_cli_parse_listen(optarg, &http_cfg) != 0) {
                fprintf(stderr, "sluice server: --http expects HOST:PORT, got '%s'\n", optarg);
                return SL_EXIT_USAGE;
            }
            break;
        case 't':
        case 'I':
        case 'S':
            v = strtoll(optarg, &end, 10);
            if (end == optarg || *end || v < (c == 't') || v > (c == 't' ? 256 : c == 'S' ? 86400 : 31536000000LL)) {
                fprintf(stderr, "sluice server: %s expects %s, got '%s'\n", argv[optind - 1],
                        c == 't' ? "1..256" : c == 'S' ? "seconds 0..86400" : "milliseconds >= 0", optarg);
                return SL_EXIT_USAGE;
            }
            if (c == 't')
                ro.threads = (int)v;
            else if (c == 'I')
                ro.idle_timeout_ms = v;
            else
                status_ms = v * 1000;
            break;
        case 's':
            if (nsets == 64) {
                fprintf(stderr, "sluice server: too many --set options\n");
                return SL_EXIT_USAGE;
            }
            sets[nsets++] = optarg;
            break;
        case 'h': usage(stdout); return SL_EXIT_OK;
        default:
            fprintf(stderr, "sluice server: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "sluice server: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    sl_err_t err = {0};
    for (int i = 0; i < nsets; i++) {
        char *eq = strchr(sets[i], '=');
        if (!eq) {
            fprintf(stderr, "sluice server: --set expects KEY=VALUE, got '%s'\n", sets[i]);
            return SL_EXIT_USAGE;
        }
        *eq = '\0';
        if (sl_broker_config_set(&cfg, sets[i], eq + 1, &err) != 0) {
            fprintf(stderr, "sluice server: %s\n", err.msg);
            return SL_EXIT_USAGE;
        }
    }
    if (data)
        snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    if (listen && sl_cli_parse_listen(listen, &cfg) != 0) {
        fprintf(stderr, "sluice server: --listen expects HOST:PORT, got '%s'\n", listen);
        return SL_EXIT_USAGE;
    }
    char *paths[MAX_JOBS];
    int n_paths = 0;
    if (jobs_dir && (n_paths = list_jobs(jobs_dir, paths, MAX_JOBS)) < 0) {
        fprintf(stderr, "sluice server: cannot read the jobs folder %s\n", jobs_dir);
        return SL_EXIT_ERROR;
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sl_broker_t *b = NULL;
    sl_obs_t *obs = NULL;
    srv_job_t *jobs = calloc(MAX_JOBS, sizeof *jobs);
    if (!jobs || sl_broker_open(&cfg, &b, &err) != 0) {
        fprintf(stderr, "sluice server: %s\n", jobs ? err.msg : "out of memory");
        for (int i = 0; i < n_paths; i++)
            free(paths[i]);
        free(jobs);
        return SL_EXIT_ERROR;
    }
    pthread_t bt;
    int ex = SL_EXIT_OK;
    if (pthread_create(&bt, NULL, broker_thread, b) != 0 || sl_obs_new(b, &obs) != 0) {
        fprintf(stderr, "sluice server: cannot start the broker thread\n");
        for (int i = 0; i < n_paths; i++)
            free(paths[i]);
        free(jobs);
        sl_broker_close(b);
        return SL_EXIT_ERROR;
    }

    /* HTTP (docs/http.md): queries of every job's tables, /metrics, /v1/status, the web page. */
    sl_http_t *http = NULL;
    sl_http_opts_t ho = {.host = http_cfg.host, .port = http_cfg.port, .obs = obs};
    if (sl_http_start(&ho, &http, &err) != 0) {
        fprintf(stderr, "sluice server: %s\n", err.msg);
        for (int i = 0; i < n_paths; i++)
            free(paths[i]);
        free(jobs);
        sl_obs_free(obs);
        sl_broker_stop(b);
        pthread_join(bt, NULL);
        sl_broker_close(b);
        return SL_EXIT_ERROR;
    }
    bool v6 = strchr(http_cfg.host, ':') != NULL;
    sl_log(SL_INFO, "http", "HTTP server at http://%s%s%s:%d", v6 ? "[" : "", http_cfg.host, v6 ? "]" : "",
           sl_http_port(http));

    for (int i = 0; i < n_paths; i++) {
        srv_job_t *j = &jobs[i];
        j->path = paths[i];
        sl_cli_job_name(j->path, j->name, sizeof j->name);
        for (int k = 0; k < i; k++)
            if (!strcmp(jobs[k].name, j->name))
                snprintf(j->name, sizeof j->name, "%s", "");
        sl_err_t e = {0};
        int rc = j->name[0] ? job_open(j, b, cfg.data_dir, &ro, &e) : sl_err_set(&e, SL_E_INVAL, "duplicate job name");
        if (rc == 0)
            rc = sl_runtime_start(j->rt, &e);
        if (rc == 0) {
            j->started = true;
            sl_obs_add_job(obs, j->name, j->path, j->rt, sl_dsl_job_topo(j->job));
            if (sl_http_add_job(http, j->name, j->rt) != 0)
                sl_log(SL_ERROR, "server", "job %s: its tables are not queryable (out of memory)", j->name);
            sl_log(SL_INFO, "server", "job %s (%s) running, state in %s/jobs/%s", j->name, j->path, cfg.data_dir,
                   j->name);
        } else {
            sl_log(SL_ERROR, "server", "job %s (%s) not started: %s", j->name, j->path, e.msg);
            sl_obs_add_failed_job(obs, j->name[0] ? j->name : j->path, j->path, e.msg);
            j->failed_logged = true;
        }
    }
    sl_log(SL_INFO, "server", "%d job(s) from %s; Kafka clients: %s:%d; SIGINT or SIGTERM stops", n_paths,
           jobs_dir ? jobs_dir : "(no --jobs folder)", cfg.host, sl_broker_port(b));

    sl_cli_status_t st;
    sl_cli_status_init(&st, status_ms, false);
    while (!g_stop) {
        usleep(100000);
        bool due = st.interval_ms > 0 && sl_now_ms() - st.last_ms >= st.interval_ms;
        for (int i = 0; i < n_paths; i++) {
            srv_job_t *j = &jobs[i];
            if (!j->started)
                continue;
            sl_err_t e = {0};
            if (!j->failed_logged && !strcmp(sl_runtime_state(j->rt, &e), "failed")) {
                sl_log(SL_ERROR, "server", "job %s failed: %s (the other jobs go on)", j->name, e.msg);
                j->failed_logged = true;
            }
            if (due)
                sl_cli_status_tick(&st, obs, j->name, true);
        }
        if (due)
            st.last_ms = sl_now_ms();
    }

    sl_log(SL_INFO, "server", "stopping: committing every job");
    for (int i = 0; i < n_paths; i++) {
        srv_job_t *j = &jobs[i];
        sl_http_remove_job(http, j->name); /* waits for requests reading the job */
        sl_obs_remove_job(obs, j->name[0] ? j->name : j->path);
        if (j->started) {
            sl_err_t e = {0};
            if (sl_runtime_stop(j->rt, &e) != 0)
                sl_log(SL_ERROR, "server", "job %s: %s", j->name, e.msg);
        }
        job_close(j);
    }
    free(jobs);
    sl_http_stop(http);
    sl_obs_free(obs);
    sl_broker_stop(b);
    pthread_join(bt, NULL);
    sl_broker_close(b);
    return ex;
}
