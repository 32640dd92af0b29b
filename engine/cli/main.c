/* The sluice command line: global options (--log-level), the table of
 * commands, and the exit-code convention (0 ok, 1 runtime error, 2 usage
 * error).  Each command parses its own flags in its cli_*.c file; data goes to
 * stdout, diagnostics and logs to stderr. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "engine/cli/cli.h"

static void usage(FILE *f)
{
    fputs("Usage: sluice [--log-level LEVEL] COMMAND [ARGS...]\n"
          "\n"
          "Sluice: a stream processor with a built-in Kafka-compatible broker.\n"
          "\n"
          "Commands:\n"
          "  broker    run the Kafka-protocol broker (sluice broker --data DIR)\n"
          "  consume   print a topic's records (sluice consume TOPIC --from-beginning)\n"
          "  check     check a job file (sluice check job.sl)\n"
          "  explain   print the planned topology of a job file (sluice explain job.sl)\n"
          "  log       work on one partition log folder: append, dump, find-time, info\n"
          "  produce   send stdin lines as records (sluice produce TOPIC < lines)\n"
          "  run       run a job on the embedded broker (sluice run job.sl)\n"
          "  query     query a running job's table over HTTP (sluice query TABLE --key K)\n"
          "  server    broker, HTTP and every job of a folder (sluice server --data DIR)\n"
          "  topics    list, create, delete, describe topics (sluice topics list)\n"
          "  version   print the version\n"
          "  help      print this help, or a command's help (sluice help log)\n"
          "\n"
          "Global options:\n"
          "  --log-level LEVEL   debug, info, warn, error or off (default: info)\n"
          "  -h, --help          print this help\n"
          "  -V, --version       print the version\n"
          "\n"
          "Run 'sluice COMMAND --help' for the options of a command.\n"
          "Exit codes: 0 success, 1 runtime error, 2 usage error.\n",
          f);
}

static int version(void)
{
    printf("sluice %s\n", SL_VERSION);
    return SL_EXIT_OK;
}

/* Commands whose `sluice help NAME` is their --help. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} extra_commands[] = {
    {"topics", sl_cli_topics},
    {"produce", sl_cli_produce},
    {"consume", sl_cli_consume},
    {"server", sl_cli_server},
    {"query", sl_cli_query},
};

static int run_command(int argc, char **argv)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "log") == 0)
        return sl_cli_log(argc, argv);
    if (strcmp(cmd, "broker") == 0)
        return sl_cli_broker(argc, argv);
    if (strcmp(cmd, "explain") == 0 || strcmp(cmd, "check") == 0)
        return sl_cli_explain(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return sl_cli_run(argc, argv);
    for (size_t i = 0; i < sizeof extra_commands / sizeof extra_commands[0]; i++)
        if (strcmp(cmd, extra_commands[i].name) == 0)
            return extra_commands[i].fn(argc, argv);
    if (strcmp(cmd, "version") == 0) {
        if (argc > 1) {
            fprintf(stderr, "sluice: version takes no arguments\n");
            return SL_EXIT_USAGE;
        }
        return version();
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc == 1) {
            usage(stdout);
            return SL_EXIT_OK;
        }
        if (argc == 2 && (strcmp(argv[1], "log") == 0 || strcmp(argv[1], "broker") == 0 ||
                          strcmp(argv[1], "explain") == 0 || strcmp(argv[1], "check") == 0 ||
                          strcmp(argv[1], "run") == 0 || strcmp(argv[1], "query") == 0)) {
            static char help_flag[] = "--help";
            char *help_argv[] = {argv[1], help_flag, NULL};
            if (strcmp(argv[1], "log") == 0)
                return sl_cli_log(2, help_argv);
            if (strcmp(argv[1], "broker") == 0)
                return sl_cli_broker(2, help_argv);
            if (strcmp(argv[1], "run") == 0)
                return sl_cli_run(2, help_argv);
            return sl_cli_explain(2, help_argv);
        }
        for (size_t i = 0; argc == 2 && i < sizeof extra_commands / sizeof extra_commands[0]; i++)
            if (strcmp(argv[1], extra_commands[i].name) == 0) {
                static char help_flag[] = "--help";
                char *help_argv[] = {argv[1], help_flag, NULL};
                return extra_commands[i].fn(2, help_argv);
            }
        if (argc == 2 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "help") == 0)) {
            usage(stdout);
            return SL_EXIT_OK;
        }
        fprintf(stderr, "sluice: help: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    fprintf(stderr, "sluice: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return SL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* '+': stop at the command name, its flags belong to the command; ':'
     * (and opterr off): report bad options ourselves. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'l': {
            int level = sl_log_parse_level(optarg);
            if (level < 0) {
                fprintf(stderr, "sluice: invalid --log-level '%s' (debug, info, warn, error, off)\n", optarg);
                return SL_EXIT_USAGE;
            }
            sl_log_set_level(level);
            break;
        }
        case 'h':
            usage(stdout);
            return SL_EXIT_OK;
        case 'V':
            return version();
        default:
            fprintf(stderr, "sluice: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "sluice: missing command\n\n");
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    return run_command(argc - optind, argv + optind);
}
