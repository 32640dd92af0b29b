/* Redis Streams as the broker benchmark's baseline: a log-structured,
 * append-only store that clients already use as a lightweight broker.  Writes
 * are measured with redis-benchmark itself (-P 32, its default 50 clients),
 * reads with a hiredis loop of XREAD COUNT 1000 from the start of the stream,
 * each call resuming after the last id it got (one round trip per 1,000
 * entries, replies fully parsed by hiredis, as a client would). */
#include "redis_baseline.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_proc.h"

#define XREAD_MAX 1000000
#define XREAD_COUNT 1000

/* Run redis-benchmark; its --csv output's last line is "name","rps",... */
static double run_xadd(int port, int64_t n, int value_len)
{
    char value[1024];
    if (value_len <= 0 || value_len >= (int)sizeof value)
        return -1;
    memset(value, 'v', (size_t)value_len);
    value[value_len] = '\0';
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "redis-benchmark -h 127.0.0.1 -p %d -P 32 -n %lld --csv XADD bench '*' v %s 2>&1", port,
             (long long)n, value);
    FILE *f = popen(cmd, "r");
    if (!f) {
        perror("bench: redis-benchmark");
        return -1;
    }
    char line[4096];
    double rps = -1;
    while (fgets(line, sizeof line, f)) {
        const char *q = strstr(line, "\",\"");
        if (strncmp(line, "\"XADD", 5) == 0 && q)
            rps = atof(q + 3);
    }
    if (pclose(f) != 0 || rps <= 0) {
        fprintf(stderr, "bench: redis-benchmark failed (%s)\n", cmd);
        return -1;
    }
    return rps;
}

/* XREAD the stream from the start until `want` entries; entries/s. */
static double run_xread(int port, int64_t *entries)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
        fprintf(stderr, "bench: hiredis connect: %s\n", c ? c->errstr : "out of memory");
        redisFree(c);
        return -1;
    }
    redisReply *r = redisCommand(c, "XLEN bench");
    int64_t want = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    if (want > XREAD_MAX)
        want = XREAD_MAX;
    char last[64] = "0-0";
    int64_t got = 0;
    double t0 = bench_now();
    while (got < want) {
        r = redisCommand(c, "XREAD COUNT %d STREAMS bench %s", XREAD_COUNT, last);
        /* [[key, [[id, [field, value]], ...]]] */
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 1 || r->element[0]->elements != 2) {
            fprintf(stderr, "bench: unexpected XREAD reply after %lld entries\n", (long long)got);
            freeReplyObject(r);
            redisFree(c);
            return -1;
        }
        redisReply *list = r->element[0]->element[1];
        for (size_t i = 0; i < list->elements; i++)
            if (list->element[i]->elements == 2 && list->element[i]->element[1]->elements == 2)
                got++;
        if (list->elements > 0)
            snprintf(last, sizeof last, "%s", list->element[list->elements - 1]->element[0]->str);
        size_t batch = list->elements;
        freeReplyObject(r);
        if (batch == 0)
            break;
    }
    double secs = bench_now() - t0;
    redisFree(c);
    *entries = got;
    if (got < want) {
        fprintf(stderr, "bench: XREAD read %lld of %lld entries\n", (long long)got, (long long)want);
        return -1;
    }
    return secs > 0 ? (double)got / secs : -1;
}

int redis_baseline_run(const char *tmp_parent, int64_t n, int value_len, redis_result_t *out)
{
    char dir[4096], log[4200], portstr[16];
    if (bench_tmpdir(tmp_parent, dir, sizeof dir) != 0)
        return -1;
    int port = bench_free_port();
    snprintf(portstr, sizeof portstr, "%d", port);
    snprintf(log, sizeof log, "%s/redis.log", dir);
    char *argv[] = {"redis-server", "--port", portstr, "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes",
                    "--appendfsync", "everysec", "--save", "", "--logfile", "", NULL};
    bench_proc_t p;
    int rc = -1;
    if (bench_proc_start(&p, argv, log, "Ready to accept connections", 10000, NULL) != 0)
        goto done;
    out->xadd_per_s = run_xadd(port, n, value_len);
    out->xread_per_s = out->xadd_per_s > 0 ? run_xread(port, &out->xread_entries) : -1;
    out->peak_rss = bench_proc_peak_rss(&p);
    bench_proc_stop(&p);
    rc = out->xadd_per_s > 0 && out->xread_per_s > 0 ? 0 : -1;
done:
    bench_rmrf(dir);
    return rc;
}
