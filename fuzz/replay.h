/* The corpus replay driver shared by the fuzz targets' ctest replays: feeds
 * every regular file of the given folders, in name order, to a target's entry
 * point.  A negative result is a failure; for files named seed-* any non-zero
 * result is, described by the target's `explain`. */
#ifndef SL_FUZZ_REPLAY_H
#define SL_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct replay_target {
    const char *prog;                                        /* for messages */
    int (*run)(void *arg, const uint8_t *data, size_t size); /* the fuzzer's entry point */
    void *arg;
    const char *(*explain)(int rc);                          /* why a seed's rc is a failure */
} replay_target_t;

/* argv[1..]: corpus folders.  Prints a summary; returns the exit status. */
int replay_main(int argc, char **argv, const replay_target_t *t);

#endif
