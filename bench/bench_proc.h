/* Server processes for the broker benchmark: start one (sluice, redis-server)
 * with its output in a log file, wait until it says it is ready, read its
 * peak RSS, stop it.  Also temp folders and free TCP ports. */
#ifndef SL_BENCH_PROC_H
#define SL_BENCH_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bench_proc {
    pid_t pid;
    char log[512]; /* its stdout and stderr */
} bench_proc_t;

/* Run argv[0] (PATH lookup) with stdout+stderr appended to log_path; wait
 * up to timeout_ms for `ready` to appear in that file.  When `ready` is
 * followed by "HOST:PORT" (sluice's "listening on 127.0.0.1:PORT"), the port
 * goes to *port (port may be NULL).  Returns 0, or -1 with a message on
 * stderr (the process is stopped). */
int bench_proc_start(bench_proc_t *p, char *const argv[], const char *log_path, const char *ready, int timeout_ms,
                     int *port);
/* Peak resident set (VmHWM) in bytes, or -1. */
int64_t bench_proc_peak_rss(const bench_proc_t *p);
/* SIGTERM, wait up to 30 s (then SIGKILL); returns the exit status or -1. */
int bench_proc_stop(bench_proc_t *p);

/* A TCP port on 127.0.0.1 that was free a moment ago (for servers that
 * cannot pick one themselves). */
int bench_free_port(void);
/* mkdtemp of PARENT/sl-bench-XXXXXX into buf; rm -rf of it. */
int bench_tmpdir(const char *parent, char *buf, size_t cap);
void bench_rmrf(const char *path);
/* Seconds on the monotonic clock. */
double bench_now(void);

#endif
