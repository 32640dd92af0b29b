/* Internal to engine/cli/: the pieces shared by the sluice command-line front end
 * (main.c) and its subcommands (cli_*.c).  Exit codes follow DESIGN.md:
 * 0 ok, 1 runtime error, 2 usage error. */
#ifndef SL_ENGINE_CLI_H
#define SL_ENGINE_CLI_H

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

#endif
