/* `sluice explain JOB.sl` and `sluice check JOB.sl`: compile a job file and
 * print its planned topology (sub-topologies, stores, internal topics), or
 * just check it.  Errors are `file:line:col: error: message` with the source
 * line and a caret, on stderr, and exit 2; nothing runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/dsl.h"
#include "engine/cli/cli.h"

#define MAX_JOB_BYTES (16 * 1024 * 1024)

static void usage(FILE *f, const char *cmd)
{
    fprintf(f,
            "Usage: sluice %s JOB.sl\n"
            "\n"
            "%s\n"
            "Errors are printed as file:line:col: error: message, with the source line\n"
            "and a caret.  Exit codes: 0 ok, 1 runtime error (an unreadable file), 2 a bad\n"
            "job file or usage error.\n"
            "The language is described in docs/dsl.md.\n",
            cmd,
            strcmp(cmd, "explain") == 0
                ? "Compile a job and print what it plans: each statement's nodes, the stores,\n"
                  "the sub-topologies and their internal (repartition) topics."
                : "Parse and check a job (names, types, plan rules) without planning it.");
}

char *sl_cli_read_job(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "sluice: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    sl_buf_t b;
    sl_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > MAX_JOB_BYTES || sl_buf_append(&b, chunk, n) != 0) {
            fprintf(stderr, "sluice: %s: larger than %d bytes\n", path, MAX_JOB_BYTES);
            fclose(f);
            sl_buf_free(&b);
            return NULL;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || sl_buf_append(&b, "", 1) != 0) {
        fprintf(stderr, "sluice: %s: read error\n", path);
        sl_buf_free(&b);
        return NULL;
    }
    if (memchr(b.data, '\0', b.len - 1)) {
        fprintf(stderr, "sluice: %s: not a text file (NUL byte)\n", path);
        sl_buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

int sl_cli_explain(int argc, char **argv)
{
    const char *cmd = argv[0];
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout, cmd);
        return SL_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "sluice %s: %s\n\n", cmd, argc < 2 ? "missing JOB.sl" : "expected exactly one JOB.sl");
        usage(stderr, cmd);
        return SL_EXIT_USAGE;
    }
    const char *path = argv[1];
    char *src = sl_cli_read_job(path);
    if (!src)
        return SL_EXIT_ERROR;
    sl_buf_t diag, out;
    sl_buf_init(&diag);
    sl_buf_init(&out);
    sl_err_t err = {0};
    sl_dsl_job_t *job = NULL;
    int rc = strcmp(cmd, "explain") == 0 ? sl_dsl_compile(path, src, &diag, &job, &err)
                                         : sl_dsl_check(path, src, &diag, &err);
    int ex = SL_EXIT_OK;
    if (rc != 0) {
        if (diag.len)
            fwrite(diag.data, 1, diag.len, stderr);
        else
            fprintf(stderr, "%s\n", err.msg);
        /* A bad job file is a usage error (issue 6: exit 2); running out of
         * memory while planning is a runtime error. */
        ex = rc == SL_E_NOMEM ? SL_EXIT_ERROR : SL_EXIT_USAGE;
    } else if (job) {
        if (sl_dsl_explain(job, &out) != 0) {
            fprintf(stderr, "sluice explain: out of memory\n");
            ex = SL_EXIT_ERROR;
        } else {
            fwrite(out.data, 1, out.len, stdout);
        }
    } else {
        printf("%s: ok\n", path);
    }
    sl_dsl_job_free(job);
    sl_buf_free(&diag);
    sl_buf_free(&out);
    free(src);
    return ex;
}
