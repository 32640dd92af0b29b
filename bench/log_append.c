/* Append throughput of the partition log next to plain write(2) of the same
 * bytes, so the cost of the log (copy, offset patching, indexes, locking) shows
 * as a ratio.  One batch of 1,000 records of 100 bytes is built once and
 * appended until --bytes (1 GB by default); two modes: no fsync, and an fsync
 * every 1 MiB.  Results on stdout; progress on stderr only when it is a TTY. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "bench_util.h"

#define SYNC_EVERY (1 << 20)
#define TARGET_RATIO 0.8


static void usage(void)
{
    fprintf(stderr, "usage: bench_log_append [--bytes N[k|m|g]] [--dir PARENT] [--passes N]\n"
                    "  --bytes  bytes appended per run (default 1g = 10^9)\n"
                    "  --passes runs of each mode, the best is shown (default 2)\n"
                    "  --dir    where the temporary data folder is made (default $SL_BENCH_DIR or /tmp)\n");
    exit(2);
}


/* Every 64th batch, and once more at the end (which clears the line). */
static void progress(const char *label, int64_t batches, int64_t done, int64_t total)
{
    if (done >= total)
        fprintf(stderr, "\r\033[K");
    else if (batches % 64 == 0)
        fprintf(stderr, "\r  %-38s %3d%%", label, (int)(done * 100 / total));
}




/* Plain write(2) of `batch` until total; fdatasync every SYNC_EVERY if sync. */
static run_t run_write(const char *dir, const sl_buf_t *batch, int64_t total, bool sync, bool tty)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/baseline.bin", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        bench_die("open baseline file", 0, NULL);
    const char *label = sync ? "write(2) + fdatasync every 1 MiB" : "write(2), no fsync";
    run_t r = {0, 0};
    int64_t since_sync = 0, batches = 0;
    int64_t t0 = sl_mono_ns();
    while (r.bytes < total) {
        size_t off = 0;
        while (off < batch->len) {
            ssize_t n = write(fd, batch->data + off, batch->len - off);
            if (n < 0 && errno != EINTR)
                bench_die("write", 0, NULL);
            if (n > 0)
                off += (size_t)n;
        }
        r.bytes += (int64_t)batch->len;
        since_sync += (int64_t)batch->len;
        if (sync && since_sync >= SYNC_EVERY) {
            if (fdatasync(fd))
                bench_die("fdatasync", 0, NULL);
            since_sync = 0;
        }
        if (tty)
            progress(label, ++batches, r.bytes, total);
    }
    r.seconds = (double)(sl_mono_ns() - t0) / 1e9;
    close(fd);
    unlink(path);
    return r;
}

/* sl_plog_append of `batch` until total; sl_plog_flush every SYNC_EVERY if sync. */
static run_t run_sluice(const char *dir, const sl_buf_t *batch, int64_t total, bool sync, bool tty)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/t-%d", dir, sync);
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    cfg.flush_policy = SL_FLUSH_NEVER; /* the bench decides when to sync */
    sl_plog_t *log;
    sl_err_t err = {0};
    int rc = sl_plog_open(path, &cfg, &log, &err);
    if (rc)
        bench_die("sl_plog_open", rc, &err);
    const char *label = sync ? "sluice append + flush every 1 MiB" : "sluice append, flush never";
    run_t r = {0, 0};
    int64_t since_sync = 0, batches = 0;
    int64_t t0 = sl_mono_ns();
    while (r.bytes < total) {
        sl_append_info_t info;
        if ((rc = sl_plog_append(log, batch->data, batch->len, sl_now_ms(), &info, &err)))
            bench_die("sl_plog_append", rc, &err);
        r.bytes += (int64_t)batch->len;
        since_sync += (int64_t)batch->len;
        if (sync && since_sync >= SYNC_EVERY) {
            if ((rc = sl_plog_flush(log)))
                bench_die("sl_plog_flush", rc, NULL);
            since_sync = 0;
        }
        if (tty)
            progress(label, ++batches, r.bytes, total);
    }
    r.seconds = (double)(sl_mono_ns() - t0) / 1e9;
    sl_plog_close(log); /* not timed: the baseline's close is not either */
    sl_fs_rmrf(path);
    return r;
}


static void print_pair(const char *base_label, const run_t *base, const char *sl_label, const run_t *sl)
{
    double ratio = bench_mbps(sl) / bench_mbps(base);
    printf("  %-38s %9.1f MB/s  (%.2f s)\n", base_label, bench_mbps(base), base->seconds);
    printf("  %-38s %9.1f MB/s  (%.2f s)  ratio sluice/baseline %.2f (target >= %.1f: %s)\n", sl_label, bench_mbps(sl),
           sl->seconds, ratio, TARGET_RATIO, ratio >= TARGET_RATIO ? "met" : "NOT met");
}

int main(int argc, char **argv)
{
    bench_prog = "bench_log_append";
    int64_t total = 1000000000;
    int passes = 2;
    const char *parent = getenv("SL_BENCH_DIR");
    if (!parent || !*parent)
        parent = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc) {
            if ((total = bench_parse_bytes(argv[++i])) < 0)
                usage();
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            parent = argv[++i];
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            passes = atoi(argv[++i]);
        else
            usage();
    }
    bool tty = isatty(2);
    sl_log_set_level(SL_WARN);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/sl-bench-append-XXXXXX", parent);
    if (!mkdtemp(dir))
        bench_die("mkdtemp", 0, NULL);

    sl_buf_t batch;
    sl_buf_init(&batch);
    bench_build_batch(&batch);
    printf("bench_log_append: batches of %d records x %d-byte values (%zu bytes each), %.1f MB per run, in %s\n",
           BENCH_RECORDS_PER_BATCH, BENCH_VALUE_BYTES, batch.len, (double)total / 1e6, dir);
    printf("  MB = 10^6 bytes; timings exclude the final close (the log's close syncs, the file's does not)\n");

    /* An untimed write(2) pass first (the first use of page-cache memory is
     * slower on some VMs), then PASSES rounds in alternating order, best kept.
     * Each run's data is deleted before the next, so dirty pages do not carry
     * over from one run to the next. */
    run_write(dir, &batch, total, false, tty);
    run_t best[4] = {{0, 1e30}, {0, 1e30}, {0, 1e30}, {0, 1e30}}; /* write, sluice, write+sync, sluice+flush */
    for (int p = 0; p < passes; p++) {
        for (int k = 0; k < 4; k++) {
            int m = p % 2 ? k ^ 1 : k; /* odd passes: sluice before baseline */
            bool sync = m >= 2;
            run_t r = m % 2 ? run_sluice(dir, &batch, total, sync, tty) : run_write(dir, &batch, total, sync, tty);
            if (r.seconds < best[m].seconds)
                best[m] = r;
        }
    }
    printf("no fsync (sluice: SL_FLUSH_NEVER), best of %d:\n", passes);
    print_pair("baseline: write(2)", &best[0], "sluice: sl_plog_append", &best[1]);
    printf("fsync every 1 MiB, best of %d:\n", passes);
    print_pair("baseline: write(2) + fdatasync", &best[2], "sluice: sl_plog_append + sl_plog_flush", &best[3]);

    sl_buf_free(&batch);
    sl_fs_rmrf(dir);
    return 0;
}
