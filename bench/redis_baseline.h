/* The Redis Streams baseline of the broker benchmark (redis_baseline.c). */
#ifndef SL_BENCH_REDIS_BASELINE_H
#define SL_BENCH_REDIS_BASELINE_H

#include <stdint.h>

typedef struct redis_result {
    double xadd_per_s;     /* redis-benchmark's requests per second */
    double xread_per_s;    /* entries per second of the XREAD loop */
    int64_t xread_entries; /* entries the XREAD loop read */
    int64_t peak_rss;      /* redis-server's VmHWM, bytes */
} redis_result_t;

/* Start redis-server on a free port in a new folder under tmp_parent
 * (appendonly yes, appendfsync everysec), XADD n entries of value_len bytes
 * with redis-benchmark -P 32, then read up to 1,000,000 of them back with
 * XREAD COUNT 1000.  Returns 0, or -1 with a message on stderr. */
int redis_baseline_run(const char *tmp_parent, int64_t n, int value_len, redis_result_t *out);

#endif
