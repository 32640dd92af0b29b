/* Sequential read throughput of the partition log (sl_plog_read from offset 0
 * in 1 MiB chunks) next to plain read(2) of the same segment files, both from
 * a warm page cache, so the ratio shows what the index lookups, header scans
 * and copies cost.  Writes the log first (--bytes, 1 GB by default) or reuses
 * one (--log DIR).  Results on stdout; progress on stderr only on a TTY. */
#include <dirent.h>
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

#define CHUNK (1 << 20)
#define PASSES 3


static void usage(void)
{
    fprintf(stderr, "usage: bench_log_read [--bytes N[k|m|g]] [--dir PARENT] [--log DIR]\n"
                    "  --bytes  size of the log written first (default 1g = 10^9)\n"
                    "  --dir    where the temporary log is made (default $SL_BENCH_DIR or /tmp); deleted after\n"
                    "  --log    read this existing partition log instead (kept)\n");
    exit(2);
}



static void write_log(const char *dir, int64_t total, bool tty)
{
    sl_buf_t batch;
    sl_buf_init(&batch);
    bench_build_batch(&batch);
    int64_t now = sl_now_ms();
    sl_err_t err = {0};
    int rc;

    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    cfg.flush_policy = SL_FLUSH_NEVER;
    sl_plog_t *log;
    if ((rc = sl_plog_open(dir, &cfg, &log, &err)))
        bench_die("sl_plog_open", rc, &err);
    int64_t n = 0;
    for (int64_t done = 0; done < total; done += (int64_t)batch.len) {
        sl_append_info_t info;
        if ((rc = sl_plog_append(log, batch.data, batch.len, now, &info, &err)))
            bench_die("sl_plog_append", rc, &err);
        if (tty && ++n % 64 == 0)
            fprintf(stderr, "\r  writing the log %3d%%", (int)(done * 100 / total));
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    sl_plog_close(log);
    sl_buf_free(&batch);
}



static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The segment files of the log, in offset order (names are 20-digit bases). */
static char **list_segment_files(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d)
        bench_die("opendir", 0, NULL);
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != 24 || strcmp(e->d_name + 20, ".log") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, (size_t)cap * sizeof *names);
            if (!names)
                bench_die("realloc", 0, NULL);
        }
        size_t plen = strlen(dir) + len + 2;
        names[n] = malloc(plen);
        if (!names[n])
            bench_die("malloc", 0, NULL);
        snprintf(names[n++], plen, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

static run_t run_read_files(char **files, int nfiles, uint8_t *buf)
{
    run_t r = {0, 0};
    int64_t t0 = sl_mono_ns();
    for (int i = 0; i < nfiles; i++) {
        int fd = open(files[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            bench_die("open segment", 0, NULL);
        for (;;) {
            ssize_t n = read(fd, buf, CHUNK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                bench_die("read", 0, NULL);
            if (n == 0)
                break;
            r.bytes += n;
        }
        close(fd);
    }
    r.seconds = (double)(sl_mono_ns() - t0) / 1e9;
    return r;
}

static run_t run_read_log(sl_plog_t *log, sl_buf_t *out)
{
    run_t r = {0, 0};
    int64_t end = sl_plog_end_offset(log);
    int64_t offset = sl_plog_start_offset(log);
    int64_t t0 = sl_mono_ns();
    while (offset < end) {
        sl_read_info_t info;
        sl_err_t err = {0};
        sl_buf_reset(out);
        int rc = sl_plog_read(log, offset, CHUNK, out, &info, &err);
        if (rc)
            bench_die("sl_plog_read", rc, &err);
        r.bytes += (int64_t)out->len;
        offset = info.next_offset;
    }
    r.seconds = (double)(sl_mono_ns() - t0) / 1e9;
    return r;
}

int main(int argc, char **argv)
{
    bench_prog = "bench_log_read";
    int64_t total = 1000000000;
    const char *parent = getenv("SL_BENCH_DIR");
    const char *reuse = NULL;
    if (!parent || !*parent)
        parent = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc) {
            if ((total = bench_parse_bytes(argv[++i])) < 0)
                usage();
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            parent = argv[++i];
        else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
            reuse = argv[++i];
        else
            usage();
    }
    bool tty = isatty(2);
    sl_log_set_level(SL_WARN);
    char root[PATH_MAX], dir[PATH_MAX + 16];
    if (reuse) {
        snprintf(dir, sizeof dir, "%s", reuse);
    } else {
        snprintf(root, sizeof root, "%s/sl-bench-read-XXXXXX", parent);
        if (!mkdtemp(root))
            bench_die("mkdtemp", 0, NULL);
        snprintf(dir, sizeof dir, "%s/t-0", root);
        write_log(dir, total, tty);
    }

    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    sl_plog_t *log;
    sl_err_t err = {0};
    int rc = sl_plog_open(dir, &cfg, &log, &err);
    if (rc)
        bench_die("sl_plog_open", rc, &err);
    int nfiles;
    char **files = list_segment_files(dir, &nfiles);
    uint8_t *buf = malloc(CHUNK);
    sl_buf_t out;
    sl_buf_init(&out);
    if (!buf || sl_buf_reserve(&out, 2 * CHUNK))
        bench_die("malloc", 0, NULL);

    printf("bench_log_read: %s log of %.1f MB in %d segment file(s), %s\n", reuse ? "existing" : "fresh",
           (double)sl_plog_size_bytes(log) / 1e6, nfiles, dir);
    printf("  warm page cache for both (nothing dropped; an untimed read(2) pass first); %d passes each, best "
           "shown; chunks of 1 MiB; MB = 10^6 bytes\n",
           PASSES);
    run_read_files(files, nfiles, buf); /* warm-up */
    run_t best_files = {0, 1e30}, best_log = {0, 1e30};
    for (int p = 0; p < PASSES; p++) {
        if (tty)
            fprintf(stderr, "\r  pass %d/%d", p + 1, PASSES);
        run_t f = run_read_files(files, nfiles, buf);
        run_t l = run_read_log(log, &out);
        if (f.seconds < best_files.seconds)
            best_files = f;
        if (l.seconds < best_log.seconds)
            best_log = l;
    }
    if (tty)
        fprintf(stderr, "\r\033[K");
    if (best_files.bytes != best_log.bytes)
        printf("  note: read(2) saw %" PRId64 " bytes, sl_plog_read %" PRId64 "\n", best_files.bytes, best_log.bytes);
    double ratio = bench_mbps(&best_log) / bench_mbps(&best_files);
    printf("  %-42s %9.1f MB/s  (%.3f s)\n", "baseline: read(2) of the segment files", bench_mbps(&best_files),
           best_files.seconds);
    printf("  %-42s %9.1f MB/s  (%.3f s)  ratio sluice/baseline %.2f\n", "sluice: sl_plog_read, max_bytes 1 MiB",
           bench_mbps(&best_log), best_log.seconds, ratio);

    sl_plog_close(log);
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(buf);
    sl_buf_free(&out);
    if (!reuse)
        sl_fs_rmrf(root);
    return 0;
}
