/* libFuzzer target for the job language: each input is the text of one job
 * file, compiled by sl_dsl_compile (lexer, parser, checker, planner, topology
 * build) and, when it compiles, described by sl_dsl_explain.  Everything is
 * freed per input, so LeakSanitizer reports a leak on any path.  Built by
 * `make fuzz` with clang -fsanitize=fuzzer,address,undefined; replay_dsl.c
 * runs the same fz_dsl_run over the committed corpus in the normal builds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "dsl/dsl.h"

#define FZ_DSL_MAX_INPUT 65536

/* Compile one input.  Returns 0 when it compiled (and was explained), 1 when
 * it was rejected cleanly (a failure status, no job, a message), 2 when the
 * input itself is skipped (contains NUL or is over 64 KiB), -1 on out of
 * memory.  Aborts when a failed compile breaks the API contract. */
int fz_dsl_run(const uint8_t *data, size_t size);

int fz_dsl_run(const uint8_t *data, size_t size)
{
    if (size > FZ_DSL_MAX_INPUT || (size && memchr(data, 0, size)))
        return 2;
    char *src = malloc(size + 1);
    if (!src)
        return -1;
    if (size)
        memcpy(src, data, size);
    src[size] = '\0';

    sl_buf_t diag, out;
    sl_buf_init(&diag);
    sl_buf_init(&out);
    sl_err_t err;
    memset(&err, 0, sizeof err);
    sl_dsl_job_t *job = NULL;
    int status;
    int rc = sl_dsl_compile("fuzz.sl", src, &diag, &job, &err);
    if (rc == 0) {
        if (!job)
            abort(); /* success must hand back a job */
        status = sl_dsl_explain(job, &out) == 0 ? 0 : -1;
        sl_dsl_job_free(job);
    } else {
        if (job || rc > 0 || err.msg[0] == '\0')
            abort(); /* a failure must return < 0, no job and a message */
        status = rc == SL_E_NOMEM ? -1 : 1;
    }
    sl_buf_free(&out);
    sl_buf_free(&diag);
    free(src);
    return status;
}

#ifndef FZ_DSL_NO_FUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FZ_DSL_MAX_INPUT || (size && memchr(data, 0, size)))
        return -1; /* keep such inputs out of the corpus */
    fz_dsl_run(data, size);
    return 0;
}
#endif
