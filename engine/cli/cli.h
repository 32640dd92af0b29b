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

/* Shared helpers. */
struct sl_broker_config;
/* "HOST:PORT" or "[v6]:PORT" into cfg->host / cfg->port; -1 when malformed. */
int sl_cli_parse_listen(const char *s, struct sl_broker_config *cfg);
/* A job file as a NUL-terminated string (caller frees); NULL with a message
 * on stderr when unreadable, too large or binary. */
char *sl_cli_read_job(const char *path);

#endif
