/* Recovery from a damaged log on disk.  A forked child writes known batches and
 * exits without closing (an unclean shutdown); the test then damages the files
 * as a crash or a power loss would (torn, garbage, flipped, zero-filled tail;
 * missing or garbage indexes; a corrupt batch inside a closed segment) and
 * checks that reopening keeps exactly the intact batches, rebuilds the indexes
 * and appends at the right offset. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/broker.h"

#define NB_CLOSED 60 /* batches before the roll: several closed segments */
#define NB_ACTIVE 8  /* small batches in the active segment */
#define NB (NB_CLOSED + NB_ACTIVE)
#define NB_EXTRA 2 /* appended after recovery */
#define SEGMENT_BYTES (16 * 1024)
#define INDEX_INTERVAL 256
#define TS_STEP 10
#define MAX_SEGS 64

typedef struct kbatch {
    int64_t base, last;
    sl_buf_t bytes; /* as built, with the base offset the log must assign */
} kbatch_t;

typedef struct fixture {
    char root[PATH_MAX];
    char dir[PATH_MAX + 16];
    int64_t t0;
    uint64_t rng;
    kbatch_t b[NB + NB_EXTRA];
    int nb;
    int64_t seg_base[MAX_SEGS]; /* sorted, from the directory listing */
    int nsegs;
} fixture_t;

static uint64_t g_seed;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void log_config(sl_log_config_t *cfg)
{
    sl_log_config_default(cfg);
    cfg->flush_policy = SL_FLUSH_NEVER;
    cfg->segment_bytes = SEGMENT_BYTES;
    cfg->index_interval_bytes = INDEX_INTERVAL;
}

static int64_t ts_of(const fixture_t *f, int64_t offset) { return f->t0 + offset * TS_STEP; }

/* Batch i of the log: records at base.., timestamps ts_of(offset), values that
 * name their offset.  Active-segment batches are small so several fit. */
static void build_batch(fixture_t *f, int i, int64_t base, bool small)
{
    kbatch_t *kb = &f->b[i];
    int n = small ? 1 + i % 3 : 1 + (i * 7) % 10;
    sl_batch_builder_t bld;
    sl_batch_builder_init(&bld);
    sl_batch_builder_begin(&bld, i % 5 == 4 ? SL_COMPRESSION_ZSTD : SL_COMPRESSION_NONE, base);
    for (int r = 0; r < n; r++) {
        int64_t o = base + r;
        char key[32], value[1024];
        int klen = snprintf(key, sizeof key, "k%" PRId64, o);
        int vlen = small ? 20 + (int)(o % 50) : 20 + (int)((o * 37) % 700);
        int p = snprintf(value, sizeof value, "v%" PRId64 ":", o);
        for (int j = p; j < vlen; j++)
            value[j] = (char)('a' + (o + j) % 26);
        assert_int_equal(sl_batch_builder_add(&bld, ts_of(f, o), key, klen, value, vlen, NULL, 0), 0);
    }
    sl_buf_init(&kb->bytes);
    sl_err_t err = {0};
    assert_int_equal(sl_batch_builder_finish(&bld, &kb->bytes, &err), 0);
    sl_batch_builder_free(&bld);
    kb->base = base;
    kb->last = base + n - 1;
}

static size_t kb_size(const kbatch_t *kb) { return kb->bytes.len; }

static void append_batch(sl_plog_t *log, const kbatch_t *kb)
{
    sl_append_info_t info;
    sl_err_t err = {0};
    int rc = sl_plog_append(log, kb->bytes.data, kb->bytes.len, sl_now_ms(), &info, &err);
    if (rc)
        fail_msg("append: %d %s", rc, err.msg);
    assert_int_equal(info.base_offset, kb->base);
    assert_int_equal(info.last_offset, kb->last);
}

/* Append the known batches (a roll before the last NB_ACTIVE); returns the open log. */
static sl_plog_t *write_known_log(const fixture_t *f)
{
    sl_log_config_t cfg;
    log_config(&cfg);
    sl_err_t err = {0};
    sl_plog_t *log = NULL;
    assert_int_equal(sl_plog_open(f->dir, &cfg, &log, &err), 0);
    for (int i = 0; i < NB_CLOSED; i++)
        append_batch(log, &f->b[i]);
    assert_int_equal(sl_plog_roll(log, sl_now_ms()), 0);
    for (int i = NB_CLOSED; i < NB; i++)
        append_batch(log, &f->b[i]);
    assert_int_equal(sl_plog_flush(log), 0);
    assert_int_equal(sl_plog_end_offset(log), f->b[NB - 1].last + 1);
    return log;
}

static void list_segments(fixture_t *f)
{
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    f->nsegs = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != 24 || strcmp(e->d_name + 20, ".log") != 0)
            continue;
        assert_true(f->nsegs < MAX_SEGS);
        f->seg_base[f->nsegs++] = strtoll(e->d_name, NULL, 10);
    }
    closedir(d);
    for (int i = 1; i < f->nsegs; i++) /* insertion sort: a handful of names */
        for (int j = i; j > 0 && f->seg_base[j - 1] > f->seg_base[j]; j--) {
            int64_t t = f->seg_base[j];
            f->seg_base[j] = f->seg_base[j - 1];
            f->seg_base[j - 1] = t;
        }
}

static void seg_path(const fixture_t *f, int64_t base, const char *suffix, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%020" PRId64 "%s", f->dir, base, suffix);
}

static int64_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (int64_t)sb.st_size;
}

/* Position of batch i inside its segment file (batches are stored back to
 * back from position 0, so the position is the sum of the earlier sizes). */
static int64_t batch_pos(const fixture_t *f, int i)
{
    int64_t seg = 0;
    for (int s = 0; s < f->nsegs; s++)
        if (f->seg_base[s] <= f->b[i].base)
            seg = f->seg_base[s];
    int64_t pos = 0;
    for (int j = 0; j < i; j++)
        if (f->b[j].base >= seg)
            pos += (int64_t)kb_size(&f->b[j]);
    return pos;
}

/* Build the known batches and write them from a child that exits without
 * closing the log (clean = false), or write and close them here. */
static void fixture_setup(fixture_t *f, bool clean)
{
    memset(f, 0, sizeof *f);
    f->rng = g_seed;
    f->t0 = sl_now_ms() - 3600 * 1000;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->root, sizeof f->root, "%s/sl-crash-tail-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->dir, sizeof f->dir, "%s/t-0", f->root);
    int64_t base = 0;
    for (int i = 0; i < NB; i++) {
        build_batch(f, i, base, i >= NB_CLOSED);
        base = f->b[i].last + 1;
    }
    f->nb = NB;
    if (clean) {
        sl_plog_close(write_known_log(f));
    } else {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            write_known_log(f);
            _exit(0); /* no sl_plog_close: no clean-shutdown marker */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    list_segments(f);
    assert_true(f->nsegs >= 3);
    assert_int_equal(f->seg_base[f->nsegs - 1], f->b[NB_CLOSED].base); /* the roll made the active segment */
    char path[PATH_MAX + 64];
    seg_path(f, f->seg_base[f->nsegs - 1], ".log", path, sizeof path);
    int64_t active_bytes = 0;
    for (int i = NB_CLOSED; i < NB; i++)
        active_bytes += (int64_t)kb_size(&f->b[i]);
    assert_int_equal(file_size(path), active_bytes);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) { return remove(path); }

static void fixture_teardown(fixture_t *f)
{
    for (int i = 0; i < f->nb; i++)
        sl_buf_free(&f->b[i].bytes);
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The fixture is large; one per test, allocated by setup. */
static int setup_crashed(void **state)
{
    fixture_t *f = malloc(sizeof *f);
    fixture_setup(f, false);
    *state = f;
    return 0;
}

static int setup_clean(void **state)
{
    fixture_t *f = malloc(sizeof *f);
    fixture_setup(f, true);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_teardown(*state);
    free(*state);
    return 0;
}

/* ---- damage -------------------------------------------------------------------- */

static void active_file(const fixture_t *f, const char *suffix, char *buf, size_t cap)
{
    seg_path(f, f->seg_base[f->nsegs - 1], suffix, buf, cap);
}

static void file_write_at(const char *path, int64_t pos, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, (off_t)pos), (ssize_t)n);
    close(fd);
}

static void random_bytes(fixture_t *f, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next(&f->rng);
}

/* ---- checks after reopening -------------------------------------------------------- */

/* Capture what the log writes to stderr while it recovers, to show it. */
typedef struct capture {
    int saved_fd;
    FILE *tmp;
    char text[8192];
} capture_t;

static void capture_begin(capture_t *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved_fd = dup(2);
    assert_true(c->saved_fd >= 0);
    assert_true(dup2(fileno(c->tmp), 2) >= 0);
}

static void capture_end(capture_t *c, const char *label)
{
    fflush(stderr);
    assert_true(dup2(c->saved_fd, 2) >= 0);
    close(c->saved_fd);
    rewind(c->tmp);
    size_t n = fread(c->text, 1, sizeof c->text - 1, c->tmp);
    c->text[n] = '\0';
    fclose(c->tmp);
    printf("  [%s] log output:%s\n", label, n ? "" : " (none)");
    for (char *line = strtok(c->text, "\n"); line; line = strtok(NULL, "\n"))
        printf("    %s\n", line);
}

/* The stored batch equals the built one: base offset, length and every byte
 * from the magic on (the partition leader epoch is the log's to set). */
static void assert_batch_equals(const uint8_t *p, size_t len, const kbatch_t *kb)
{
    assert_int_equal(len, kb_size(kb));
    assert_int_equal((int64_t)sl_be64(p), kb->base);
    assert_memory_equal(p + SL_BATCH_OFF_LENGTH, kb->bytes.data + SL_BATCH_OFF_LENGTH, 4);
    assert_memory_equal(p + SL_BATCH_OFF_MAGIC, kb->bytes.data + SL_BATCH_OFF_MAGIC, len - SL_BATCH_OFF_MAGIC);
}

/* Read at `offset` with max_bytes 1: exactly the one batch containing it. */
static int read_one(sl_plog_t *log, int64_t offset, sl_buf_t *out, sl_read_info_t *info, sl_err_t *err)
{
    sl_buf_reset(out);
    return sl_plog_read(log, offset, 1, out, info, err);
}

static void check_batch_reads_back(sl_plog_t *log, const kbatch_t *kb)
{
    sl_buf_t out;
    sl_buf_init(&out);
    sl_read_info_t info;
    sl_err_t err = {0};
    int rc = read_one(log, kb->base, &out, &info, &err);
    if (rc)
        fail_msg("read %" PRId64 ": %d %s", kb->base, rc, err.msg);
    assert_int_equal(info.batches, 1);
    assert_int_equal(info.first_offset, kb->base);
    assert_int_equal(info.next_offset, kb->last + 1);
    assert_batch_equals(out.data, out.len, kb);
    if (kb->last > kb->base) { /* from the middle of the batch: the same batch */
        assert_int_equal(read_one(log, kb->last, &out, &info, &err), 0);
        assert_int_equal(info.first_offset, kb->base);
        assert_batch_equals(out.data, out.len, kb);
    }
    sl_buf_free(&out);
}

/* Read everything from 0 in one pass and compare with b[0..n). */
static void check_full_scan(sl_plog_t *log, const fixture_t *f, int n)
{
    sl_buf_t out;
    sl_buf_init(&out);
    sl_err_t err = {0};
    int64_t next = 0;
    int i = 0;
    while (i < n) {
        sl_read_info_t info;
        sl_buf_reset(&out);
        assert_int_equal(sl_plog_read(log, next, 64 * 1024, &out, &info, &err), 0);
        assert_true(info.batches > 0);
        size_t pos = 0;
        for (int k = 0; k < info.batches; k++, i++) {
            sl_batch_header_t h;
            assert_true(i < n);
            assert_int_equal(sl_batch_parse_header(out.data + pos, out.len - pos, &h, &err), 0);
            assert_int_equal(sl_batch_validate(out.data + pos, sl_batch_size(&h), &h, &err), 0);
            assert_batch_equals(out.data + pos, sl_batch_size(&h), &f->b[i]);
            pos += sl_batch_size(&h);
        }
        assert_int_equal(pos, out.len);
        next = info.next_offset;
    }
    assert_int_equal(next, f->b[n - 1].last + 1);
    sl_buf_free(&out);
}

static void check_time_index(sl_plog_t *log, const fixture_t *f, int64_t end)
{
    sl_err_t err = {0};
    int64_t got;
    for (int64_t o = 0; o < end; o += 1 + o / 3) {
        assert_int_equal(sl_plog_offset_for_time(log, ts_of(f, o), &got, &err), 0);
        assert_int_equal(got, o);
        assert_int_equal(sl_plog_offset_for_time(log, ts_of(f, o) - TS_STEP / 2, &got, &err), 0);
        assert_int_equal(got, o);
    }
    assert_int_equal(sl_plog_offset_for_time(log, ts_of(f, end - 1), &got, &err), 0);
    assert_int_equal(got, end - 1);
    assert_int_equal(sl_plog_offset_for_time(log, ts_of(f, end - 1) + 1, &got, &err), 0);
    assert_int_equal(got, -1);
}

static void check_log(sl_plog_t *log, const fixture_t *f, int n)
{
    int64_t end = f->b[n - 1].last + 1;
    assert_int_equal(sl_plog_start_offset(log), 0);
    assert_int_equal(sl_plog_end_offset(log), end);
    for (int i = 0; i < n; i++)
        check_batch_reads_back(log, &f->b[i]);
    check_full_scan(log, f, n);
    check_time_index(log, f, end);
}

static void check_index_files_exist(fixture_t *f)
{
    list_segments(f);
    for (int s = 0; s < f->nsegs; s++) {
        char path[PATH_MAX + 64];
        seg_path(f, f->seg_base[s], ".index", path, sizeof path);
        if (access(path, F_OK) != 0)
            fail_msg("%s missing after close", path);
        seg_path(f, f->seg_base[s], ".timeindex", path, sizeof path);
        if (access(path, F_OK) != 0)
            fail_msg("%s missing after close", path);
    }
}

/* Reopen the damaged log: exactly `nintact` batches survive, indexes work,
 * appends continue at the right offset and survive a clean close. */
static void check_reopen(fixture_t *f, int nintact, const char *label)
{
    sl_log_config_t cfg;
    log_config(&cfg);
    sl_err_t err = {0};
    sl_plog_t *log = NULL;
    capture_t cap;
    capture_begin(&cap);
    int rc = sl_plog_open(f->dir, &cfg, &log, &err);
    capture_end(&cap, label);
    if (rc)
        fail_msg("reopen: %d %s", rc, err.msg);
    check_log(log, f, nintact);

    for (int i = nintact; i < f->nb; i++)
        sl_buf_free(&f->b[i].bytes);
    f->nb = nintact;
    for (int k = 0; k < NB_EXTRA; k++, f->nb++) {
        build_batch(f, f->nb, f->b[f->nb - 1].last + 1, true);
        append_batch(log, &f->b[f->nb]);
    }
    check_log(log, f, f->nb);
    sl_plog_close(log);

    check_index_files_exist(f);
    assert_int_equal(sl_plog_open(f->dir, &cfg, &log, &err), 0);
    check_log(log, f, f->nb);
    sl_plog_close(log);
}

/* ---- (a)-(d): a damaged tail of the active segment -------------------------------- */

static void test_torn_last_batch_is_truncated(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".log", path, sizeof path);
    int64_t cut = batch_pos(f, NB - 1) + (int64_t)kb_size(&f->b[NB - 1]) / 2;
    assert_int_equal(truncate(path, (off_t)cut), 0);
    check_reopen(f, NB - 1, "torn last batch");
}

static void test_torn_header_of_last_batch_is_truncated(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".log", path, sizeof path);
    assert_int_equal(truncate(path, (off_t)(batch_pos(f, NB - 1) + 30)), 0); /* inside the 61-byte header */
    check_reopen(f, NB - 1, "torn header");
}

static void test_garbage_after_last_batch_is_dropped(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".log", path, sizeof path);
    uint8_t junk[1000];
    random_bytes(f, junk, sizeof junk);
    file_write_at(path, file_size(path), junk, sizeof junk);
    check_reopen(f, NB, "random garbage after the tail");
}

/* Garbage that starts like a batch (right base offset, length, magic) but
 * whose CRC cannot match: a half-written batch whose header made it to disk. */
static void test_plausible_header_with_bad_crc_is_dropped(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".log", path, sizeof path);
    const kbatch_t *last = &f->b[NB - 1];
    sl_buf_t fake;
    sl_buf_init(&fake);
    assert_int_equal(sl_buf_append(&fake, last->bytes.data, last->bytes.len), 0);
    sl_put_be64(fake.data, (uint64_t)(last->last + 1));
    random_bytes(f, fake.data + SL_BATCH_HEADER_SIZE, fake.len - SL_BATCH_HEADER_SIZE);
    file_write_at(path, file_size(path), fake.data, fake.len);
    sl_buf_free(&fake);
    check_reopen(f, NB, "header-shaped garbage after the tail");
}

static void test_flipped_byte_in_last_batch_truncates_it(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".log", path, sizeof path);
    int64_t pos = batch_pos(f, NB - 1) + SL_BATCH_HEADER_SIZE + 3; /* inside the first record */
    uint8_t byte;
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &byte, 1, (off_t)pos), 1);
    byte ^= 0x5a;
    assert_int_equal(pwrite(fd, &byte, 1, (off_t)pos), 1);
    close(fd);
    check_reopen(f, NB - 1, "flipped byte in last batch");
}

/* After a power loss the file size may have reached the disk before the data:
 * the last batches read as zeros, followed by zeroed preallocated pages. */
static void test_zero_filled_tail_is_truncated(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".log", path, sizeof path);
    int64_t from = batch_pos(f, NB - 2);
    size_t n = (size_t)(file_size(path) - from) + 8192;
    uint8_t *zeros = calloc(1, n);
    assert_non_null(zeros);
    file_write_at(path, from, zeros, n);
    free(zeros);
    check_reopen(f, NB - 2, "zero-filled tail");
}

/* ---- (e)-(f): missing or garbage indexes ------------------------------------------- */

static void unlink_all_indexes(fixture_t *f)
{
    for (int s = 0; s < f->nsegs; s++) {
        char path[PATH_MAX + 64];
        seg_path(f, f->seg_base[s], ".index", path, sizeof path);
        assert_int_equal(unlink(path), 0);
        seg_path(f, f->seg_base[s], ".timeindex", path, sizeof path);
        assert_int_equal(unlink(path), 0);
    }
}

static void test_missing_indexes_are_rebuilt_after_crash(void **state)
{
    unlink_all_indexes(*state);
    check_reopen(*state, NB, "indexes deleted after a crash");
}

static void test_missing_indexes_are_rebuilt_after_clean_close(void **state)
{
    unlink_all_indexes(*state);
    check_reopen(*state, NB, "indexes deleted after a clean close");
}

static void garbage_file(fixture_t *f, const char *path)
{
    int64_t size = file_size(path);
    size_t n = size > 0 ? (size_t)size : 4096;
    uint8_t *junk = malloc(n);
    assert_non_null(junk);
    random_bytes(f, junk, n);
    file_write_at(path, 0, junk, n);
    free(junk);
}

static void test_garbage_active_index_is_rebuilt_after_crash(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".index", path, sizeof path);
    garbage_file(f, path);
    check_reopen(f, NB, "garbage active .index after a crash");
}

static void test_garbage_active_index_is_rebuilt_after_clean_close(void **state)
{
    fixture_t *f = *state;
    char path[PATH_MAX + 64];
    active_file(f, ".index", path, sizeof path);
    garbage_file(f, path);
    check_reopen(f, NB, "garbage active .index after a clean close");
}

static void test_garbage_in_every_index_is_rebuilt_after_clean_close(void **state)
{
    fixture_t *f = *state;
    for (int s = 0; s < f->nsegs; s++) {
        char path[PATH_MAX + 64];
        seg_path(f, f->seg_base[s], ".index", path, sizeof path);
        garbage_file(f, path);
        seg_path(f, f->seg_base[s], ".timeindex", path, sizeof path);
        garbage_file(f, path);
    }
    check_reopen(f, NB, "garbage in every index after a clean close");
}

/* ---- a corrupt batch inside a closed segment ----------------------------------------- */

/* Closed segments are not re-verified at open: the expected behaviour is that
 * the log opens, nothing is truncated, every other segment reads back, and
 * the damage shows when the bad batch is read.  What the log reports is
 * printed (see the test output). */
static void check_corrupt_closed_segment(fixture_t *f, const char *label)
{
    /* The middle batch of the first segment. */
    int count = 0;
    while (count < f->nb && f->b[count].base < f->seg_base[1])
        count++;
    assert_true(count >= 3);
    int bad = count / 2;
    char path[PATH_MAX + 64];
    seg_path(f, f->seg_base[0], ".log", path, sizeof path);
    int64_t pos = batch_pos(f, bad) + SL_BATCH_HEADER_SIZE + 3;
    uint8_t byte = 0xee;
    file_write_at(path, pos, &byte, 1);
    printf("  [%s] flipped byte at position %" PRId64 " of %s (batch %" PRId64 "..%" PRId64 ")\n", label, pos,
           path, f->b[bad].base, f->b[bad].last);

    sl_log_config_t cfg;
    log_config(&cfg);
    sl_err_t err = {0};
    sl_plog_t *log = NULL;
    capture_t cap;
    capture_begin(&cap);
    int rc = sl_plog_open(f->dir, &cfg, &log, &err);
    capture_end(&cap, label);
    if (rc)
        fail_msg("reopen with a corrupt closed segment: %d %s", rc, err.msg);
    assert_int_equal(sl_plog_end_offset(log), f->b[f->nb - 1].last + 1);
    for (int i = 0; i < f->nb; i++)
        if (i != bad)
            check_batch_reads_back(log, &f->b[i]);

    /* Observe how the bad batch is served. */
    sl_buf_t out;
    sl_buf_init(&out);
    sl_read_info_t info;
    capture_begin(&cap);
    rc = read_one(log, f->b[bad].base, &out, &info, &err);
    capture_end(&cap, "read of the corrupt batch");
    if (rc) {
        printf("  [%s] read of the corrupt batch: %d (%s) %s\n", label, rc, sl_broker_strerror(rc), err.msg);
    } else {
        sl_batch_header_t h;
        int vrc = sl_batch_parse_header(out.data, out.len, &h, &err);
        if (vrc == 0)
            vrc = sl_batch_validate(out.data, out.len, &h, &err);
        printf("  [%s] read of the corrupt batch: returned %zu bytes, first offset %" PRId64
               ", validate -> %d %s\n",
               label, out.len, info.first_offset, vrc, vrc ? err.msg : "");
        assert_true(vrc != 0 || info.first_offset != f->b[bad].base); /* never passed off as intact */
    }
    sl_buf_free(&out);

    /* Appending is unaffected. */
    build_batch(f, f->nb, f->b[f->nb - 1].last + 1, true);
    append_batch(log, &f->b[f->nb]);
    f->nb++;
    check_batch_reads_back(log, &f->b[f->nb - 1]);
    sl_plog_close(log);
}

static void test_corrupt_batch_in_closed_segment_after_clean_close(void **state)
{
    check_corrupt_closed_segment(*state, "corrupt closed segment, clean close");
}

static void test_corrupt_batch_in_closed_segment_after_crash(void **state)
{
    check_corrupt_closed_segment(*state, "corrupt closed segment, crash");
}

int main(void)
{
    const char *e = getenv("SL_SEED");
    g_seed = e && *e ? strtoull(e, NULL, 0) : 0xC0FFEE17ull;
    printf("crash_log_corrupt_tail: seed=0x%" PRIx64 " (SL_SEED overrides)\n", g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torn_last_batch_is_truncated, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_torn_header_of_last_batch_is_truncated, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_after_last_batch_is_dropped, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_plausible_header_with_bad_crc_is_dropped, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte_in_last_batch_truncates_it, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_zero_filled_tail_is_truncated, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_missing_indexes_are_rebuilt_after_crash, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_missing_indexes_are_rebuilt_after_clean_close, setup_clean, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_active_index_is_rebuilt_after_crash, setup_crashed, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_active_index_is_rebuilt_after_clean_close, setup_clean,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage_in_every_index_is_rebuilt_after_clean_close, setup_clean,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_batch_in_closed_segment_after_clean_close, setup_clean,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_batch_in_closed_segment_after_crash, setup_crashed, teardown),
    };
    return cmocka_run_group_tests_name("crash_log_corrupt_tail", tests, NULL, NULL);
}
