/* Replays the DSL fuzz corpus without libFuzzer (a ctest test, built with gcc
 * in the normal and ASan builds): every file goes through fz_dsl_run
 * (fuzz_dsl.c), the fuzzer's own entry point, so a lexer / parser / checker /
 * planner regression on a known input fails `make test`.  Files named seed-*
 * are valid jobs and must compile; other files (malformed seeds, fuzzer
 * finds, former crashes) must only be rejected cleanly or compile. */
#include "replay.h"

int fz_dsl_run(const uint8_t *data, size_t size); /* fuzz_dsl.c */

static int run(void *arg, const uint8_t *data, size_t size)
{
    (void)arg;
    return fz_dsl_run(data, size);
}

static const char *explain(int rc)
{
    return rc == 2 ? "a seed contains NUL or is over 64 KiB" : "a valid seed job did not compile";
}

int main(int argc, char **argv)
{
    replay_target_t rt = {"replay_dsl", run, NULL, explain};
    return replay_main(argc, argv, &rt);
}
