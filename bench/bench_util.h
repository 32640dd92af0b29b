/* Helpers shared by the log benchmarks: the standard batch (1,000 records of
 * 100-byte values), fatal errors, byte-size arguments and timing results.
 * Header-only: each benchmark is one .c file. */
#ifndef SL_BENCH_UTIL_H
#define SL_BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"

#define BENCH_RECORDS_PER_BATCH 1000
#define BENCH_VALUE_BYTES 100

static const char *bench_prog = "bench";

typedef struct run {
    int64_t bytes;
    double seconds;
} run_t;

static inline double bench_mbps(const run_t *r) { return (double)r->bytes / 1e6 / r->seconds; }

static inline void bench_die(const char *what, int rc, const sl_err_t *err)
{
    fprintf(stderr, "%s: %s: %d (%s) %s\n", bench_prog, what, rc, rc < 0 ? sl_broker_strerror(rc) : strerror(errno),
            err ? err->msg : "");
    exit(1);
}

/* "N", "Nk", "Nm", "Ng" (powers of 10); -1 when malformed. */
static inline int64_t bench_parse_bytes(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    double mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1e3; end++; break;
    case 'm': case 'M': mult = 1e6; end++; break;
    case 'g': case 'G': mult = 1e9; end++; break;
    default: break;
    }
    if (*end || v <= 0)
        return -1;
    return (int64_t)(v * mult);
}

/* Append the standard uncompressed batch to out. */
static inline void bench_build_batch(sl_buf_t *out)
{
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
    uint8_t value[BENCH_VALUE_BYTES];
    int64_t now = sl_now_ms();
    for (int i = 0; i < BENCH_RECORDS_PER_BATCH; i++) {
        for (int j = 0; j < BENCH_VALUE_BYTES; j++)
            value[j] = (uint8_t)('a' + (i * 7 + j) % 26);
        int rc = sl_batch_builder_add(&b, now, NULL, -1, value, BENCH_VALUE_BYTES, NULL, 0);
        if (rc)
            bench_die("sl_batch_builder_add", rc, NULL);
    }
    sl_err_t err = {0};
    int rc = sl_batch_builder_finish(&b, out, &err);
    if (rc)
        bench_die("sl_batch_builder_finish", rc, &err);
    sl_batch_builder_free(&b);
}

#endif
