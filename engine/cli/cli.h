/* Internal to engine/cli/: the pieces shared by the sluice command-line front end
 * (main.c) and its subcommands (cli_*.c).  Exit codes follow DESIGN.md:
 * 0 ok, 1 runtime error, 2 usage error. */
#ifndef SL_ENGINE_CLI_H
#define SL_ENGINE_CLI_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/obs.h"

#define SL_EXIT_OK 0
#define SL_EXIT_ERROR 1
#define SL_EXIT_USAGE 2

/* `sluice log ...`: argv[0] is "log".  Returns the process exit code. */
int sl_cli_log(int argc, char **argv);
/* `sluice broker ...`: runs the Kafka-protocol broker until SIGINT/SIGTERM. */
int sl_cli_broker(int argc, char **argv);
/* `sluice explain|check JOB.sl`: compile or check a DSL job (argv[0] is the command). */
int sl_cli_explain(int argc, char **argv);
/* `sluice run JOB.sl`: the job on the embedded broker until SIGINT/SIGTERM. */
int sl_cli_run(int argc, char **argv);

/* `sluice query TABLE ...`: an HTTP client of a running job's state. */
int sl_cli_query(int argc, char **argv);
/* `sluice topics list|create|delete|describe` over the Kafka protocol (cli_topics.c). */
int sl_cli_topics(int argc, char **argv);
/* `sluice produce TOPIC < lines` and `sluice consume TOPIC` (cli_client.c). */
int sl_cli_produce(int argc, char **argv);
int sl_cli_consume(int argc, char **argv);
/* `sluice server --data DIR`: broker + HTTP + every job of a folder (cli_server.c). */
int sl_cli_server(int argc, char **argv);

/* Shared helpers. */
struct sl_broker_config;
struct sl_broker;
struct sl_runtime;
struct sl_topo;
struct sl_obs;
struct sl_http;
/* Start the HTTP server on addr->host:addr->port serving one job (its name:
 * the job file's base name without .sl) with a metrics registry over
 * broker; logs the bound address.  0, or -1 with a message on stderr.  Stop
 * both with sl_cli_http_stop before closing the runtime. */
int sl_cli_http_start(const struct sl_broker_config *addr, struct sl_broker *broker, const char *job_path,
                      struct sl_runtime *rt, const struct sl_topo *topo, struct sl_obs **obs, struct sl_http **http);
void sl_cli_http_stop(struct sl_obs *obs, struct sl_http *http); /* NULLs are no-ops */
/* "HOST:PORT" or "[v6]:PORT" into cfg->host / cfg->port; -1 when malformed. */
int sl_cli_parse_listen(const char *s, struct sl_broker_config *cfg);
/* A job file as a NUL-terminated string (caller frees); NULL with a message
 * on stderr when unreadable, too large or binary. */
char *sl_cli_read_job(const char *path);

/* A librdkafka handle on `bootstrap` (NULL: 127.0.0.1:9092) with the extra
 * settings kv (NULL-terminated key, value list) and an optional delivery
 * callback (its opaque is the handle's); NULL with a message on stderr. */
rd_kafka_t *sl_cli_kafka_new(rd_kafka_type_t type, const char *bootstrap, const char *const *kv,
                             void (*dr)(rd_kafka_t *, const rd_kafka_message_t *, void *), void *opaque,
                             const char *cmd);
/* Metadata of one topic (or all, topic NULL); -1 with a message when the
 * broker cannot be reached in 5 s.  Caller frees *md with rd_kafka_metadata_destroy. */
int sl_cli_kafka_metadata(rd_kafka_t *rk, const char *topic, const struct rd_kafka_metadata **md, const char *cmd);

/* The live status line (cli_status.c).  On a terminal (stderr a TTY, TERM
 * not "dumb", allow_tty) a line redrawn every second; otherwise an INFO log
 * line every log_interval_ms (0: none). */
typedef struct sl_cli_status {
    bool tty, drawn;
    int64_t interval_ms, last_ms;
} sl_cli_status_t;
void sl_cli_status_init(sl_cli_status_t *s, int64_t log_interval_ms, bool allow_tty);
/* Print job's status when due (or now when force). */
void sl_cli_status_tick(sl_cli_status_t *s, sl_obs_t *obs, const char *job, bool force);
/* End the redrawn line (before other output). */
void sl_cli_status_end(sl_cli_status_t *s);
/* A job's name: the file's base name without ".sl". */
void sl_cli_job_name(const char *path, char *buf, size_t cap);
/* sl_runtime_run for the CLI: start, show the status line of job `path`
 * until stopped (sl_runtime_request_stop) or failed, stop; returns what
 * sl_runtime_stop returned.  `shared`: the registry the HTTP server reads
 * (the job in it already), or NULL for a registry of its own. */
int sl_cli_run_with_status(sl_runtime_t *rt, const sl_topo_t *topo, sl_broker_t *b, const char *path,
                           int64_t log_interval_ms, sl_obs_t *shared, sl_err_t *err);
/* The text of one status line; returns what snprintf returned. */
int sl_cli_status_format(const char *name, const sl_obs_summary_t *m, char *buf, size_t cap);

#endif
