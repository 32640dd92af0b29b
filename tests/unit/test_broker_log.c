/* Unit tests for the partition log's core contract: offset assignment, byte-
 * exact reads of whole batches, byte limits, range errors, validation of what
 * clients send, rolling by size and by time, reopen, DeleteRecords, and the
 * group-commit path (durable callbacks, shared fdatasync). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "testutil.h"

typedef struct fixture {
    char *dir;
    sl_log_config_t cfg;
    sl_plog_t *log;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("log");
    sl_log_config_default(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    sl_plog_close(f->log);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void open_log(fixture_t *f)
{
    sl_err_t err = {0};
    if (f->log)
        sl_plog_close(f->log);
    f->log = NULL;
    int rc = sl_plog_open(f->dir, &f->cfg, &f->log, &err);
    if (rc)
        fprintf(stderr, "open: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static void test_append_assigns_consecutive_offsets(void **state)
{
    fixture_t *f = *state;
    open_log(f);
    sl_buf_t b;
    sl_buf_init(&b);
    int counts[] = {5, 1, 10};
    int64_t expect = 0;
    for (int i = 0; i < 3; i++) {
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, counts[i], 0, 0, 1000);
        assert_int_equal(tu_append(f->log, &b, 1000), expect);
        expect += counts[i];
    }
    assert_int_equal(sl_plog_end_offset(f->log), 16);
    assert_int_equal(sl_plog_start_offset(f->log), 0);
    sl_buf_free(&b);
}

static void test_read_returns_stored_bytes_verbatim_with_assigned_base_offset(void **state)
{
    fixture_t *f = *state;
    open_log(f);
    sl_buf_t b1, b2, out;
    sl_buf_init(&b1), sl_buf_init(&b2), sl_buf_init(&out);
    tu_build_batch(&b1, SL_COMPRESSION_NONE, 3, 0, 0, 5000);
    tu_build_batch(&b2, SL_COMPRESSION_ZSTD, 4, 10, 10, 6000);
    tu_append(f->log, &b1, 0);
    tu_append(f->log, &b2, 0);
    sl_read_info_t info;
    assert_int_equal(sl_plog_read(f->log, 0, 1 << 20, &out, &info, NULL), 0);
    assert_int_equal(out.len, b1.len + b2.len);
    assert_int_equal(info.batches, 2);
    assert_int_equal(info.first_offset, 0);
    assert_int_equal(info.next_offset, 7);
    /* Everything but the 8-byte base offset is the client's bytes. */
    assert_memory_equal(out.data + 8, b1.data + 8, b1.len - 8);
    assert_memory_equal(out.data + b1.len + 8, b2.data + 8, b2.len - 8);
    assert_int_equal((int64_t)sl_be64(out.data + b1.len), 3);
    /* The stored copy still validates (the CRC does not cover the base offset). */
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(out.data + b1.len, b2.len, &h, NULL), 0);
    assert_int_equal(h.base_offset, 3);
    assert_int_equal(h.record_count, 4);
    sl_buf_free(&b1), sl_buf_free(&b2), sl_buf_free(&out);
}

static void test_read_from_inside_a_batch_returns_the_whole_batch(void **state)
{
    fixture_t *f = *state;
    open_log(f);
    sl_buf_t b, out;
    sl_buf_init(&b), sl_buf_init(&out);
    for (int i = 0; i < 4; i++) {
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, 10, i * 10, i * 10, 0);
        tu_append(f->log, &b, 0);
    }
    sl_read_info_t info;
    assert_int_equal(sl_plog_read(f->log, 25, 1 << 20, &out, &info, NULL), 0);
    assert_int_equal(info.first_offset, 20);
    assert_int_equal(info.batches, 2);
    assert_int_equal(info.next_offset, 40);
    sl_buf_free(&b), sl_buf_free(&out);
}

static void test_read_stops_at_max_bytes_but_returns_first_batch_whole(void **state)
{
    fixture_t *f = *state;
    open_log(f);
    sl_buf_t b, out;
    sl_buf_init(&b), sl_buf_init(&out);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 50, 0, 0, 0);
    size_t one = b.len;
    for (int i = 0; i < 5; i++)
        tu_append(f->log, &b, 0);
    sl_read_info_t info;
    /* Room for two and a half batches: two come back. */
    assert_int_equal(sl_plog_read(f->log, 0, one * 2 + one / 2, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 2);
    assert_int_equal(out.len, one * 2);
    /* max_bytes smaller than one batch: that batch anyway, so readers progress. */
    sl_buf_reset(&out);
    assert_int_equal(sl_plog_read(f->log, 100, 10, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 1);
    assert_int_equal(out.len, one);
    assert_int_equal(info.first_offset, 100);
    assert_int_equal(info.next_offset, 150);
    sl_buf_free(&b), sl_buf_free(&out);
}

static void test_read_outside_log_is_offset_out_of_range(void **state)
{
    fixture_t *f = *state;
    open_log(f);
    sl_buf_t b, out;
    sl_buf_init(&b), sl_buf_init(&out);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 3, 0, 0, 0);
    tu_append(f->log, &b, 0);
    sl_read_info_t info;
    sl_err_t err = {0};
    assert_int_equal(sl_plog_read(f->log, 4, 1024, &out, &info, &err), SL_B_ERANGE);
    assert_non_null(strstr(err.msg, "outside"));
    assert_int_equal(sl_plog_read(f->log, -1, 1024, &out, &info, NULL), SL_B_ERANGE);
    /* At the log end: nothing yet, not an error (a consumer waiting for data). */
    assert_int_equal(sl_plog_read(f->log, 3, 1024, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 0);
    assert_int_equal(out.len, 0);
    sl_buf_free(&b), sl_buf_free(&out);
}

static void test_append_rejects_corrupt_input_and_stores_nothing(void **state)
{
    fixture_t *f = *state;
    f->cfg.max_message_bytes = 4096;
    open_log(f);
    sl_buf_t b;
    sl_buf_init(&b);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 3, 0, 0, 0);
    sl_err_t err = {0};
    /* CRC mismatch: flip a byte in a record. */
    b.data[b.len - 2] ^= 0x40;
    assert_int_equal(sl_plog_append(f->log, b.data, b.len, 0, NULL, &err), SL_B_ECORRUPT);
    b.data[b.len - 2] ^= 0x40;
    /* Truncated: shorter than its batchLength. */
    assert_int_not_equal(sl_plog_append(f->log, b.data, b.len - 1, 0, NULL, &err), 0);
    assert_int_not_equal(sl_plog_append(f->log, b.data, 10, 0, NULL, &err), 0);
    /* Wrong magic. */
    b.data[SL_BATCH_OFF_MAGIC] = 1;
    assert_int_not_equal(sl_plog_append(f->log, b.data, b.len, 0, NULL, &err), 0);
    b.data[SL_BATCH_OFF_MAGIC] = 2;
    /* Above max.message.bytes. */
    sl_buf_t big;
    sl_buf_init(&big);
    tu_build_batch(&big, SL_COMPRESSION_NONE, 400, 0, 0, 0);
    assert_true(big.len > 4096);
    assert_int_equal(sl_plog_append(f->log, big.data, big.len, 0, NULL, &err), SL_B_ETOOLARGE);
    assert_int_equal(sl_plog_end_offset(f->log), 0);
    assert_int_equal(sl_plog_size_bytes(f->log), 0);
    /* The intact batch still goes in. */
    assert_int_equal(tu_append(f->log, &b, 0), 0);
    assert_int_equal(sl_plog_end_offset(f->log), 3);
    sl_buf_free(&b), sl_buf_free(&big);
}

static void check_value(void *arg, const sl_record_t *r)
{
    long *next = arg;
    char want[32];
    int n = snprintf(want, sizeof want, "v%ld", *next);
    assert_int_equal(r->offset, *next);
    assert_int_equal(r->value_len, n);
    assert_memory_equal(r->value, want, (size_t)n);
    (*next)++;
}

static void test_segments_roll_by_size_and_reads_cross_them(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_bytes = 1024;
    open_log(f);
    sl_buf_t b;
    sl_buf_init(&b);
    for (int i = 0; i < 40; i++) {
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, 10, i * 10, i * 10, 0);
        tu_append(f->log, &b, 0);
    }
    assert_true(sl_plog_segment_count(f->log) >= 5);
    long next = 0;
    assert_int_equal(tu_read_all(f->log, 0, check_value, &next), 400);
    assert_int_equal(next, 400);
    /* Survives a clean reopen, and appends continue at the end. */
    open_log(f);
    assert_int_equal(sl_plog_end_offset(f->log), 400);
    sl_buf_reset(&b);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 10, 400, 400, 0);
    assert_int_equal(tu_append(f->log, &b, 0), 400);
    next = 123;
    assert_int_equal(tu_read_all(f->log, 123, check_value, &next), 410 - 123);
    sl_buf_free(&b);
}

static void test_segments_roll_by_record_time(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_ms = 1000;
    open_log(f);
    sl_buf_t b;
    sl_buf_init(&b);
    for (int i = 0; i < 6; i++) {
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, 1, i, i, 10000 + i * 600);
        tu_append(f->log, &b, 0);
    }
    /* 0/600 | 1200/1800 | 2400/3000: a new segment each time 1000 ms pass. */
    assert_int_equal(sl_plog_segment_count(f->log), 3);
    assert_int_equal(sl_plog_roll(f->log, 0), 0);
    assert_int_equal(sl_plog_segment_count(f->log), 4);
    /* Rolling an empty active segment is a no-op. */
    assert_int_equal(sl_plog_roll(f->log, 0), 0);
    assert_int_equal(sl_plog_segment_count(f->log), 4);
    sl_buf_free(&b);
}

static void test_delete_records_advances_start_offset_durably(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_bytes = 2048;
    open_log(f);
    sl_buf_t b, out;
    sl_buf_init(&b), sl_buf_init(&out);
    for (int i = 0; i < 20; i++) {
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, 10, i * 10, i * 10, 0);
        tu_append(f->log, &b, 0);
    }
    int segs = sl_plog_segment_count(f->log);
    assert_int_equal(sl_plog_delete_records_before(f->log, 105, NULL), 0);
    assert_int_equal(sl_plog_start_offset(f->log), 105);
    assert_true(sl_plog_segment_count(f->log) < segs);
    assert_int_equal(sl_plog_read(f->log, 104, 1024, &out, NULL, NULL), SL_B_ERANGE);
    assert_int_equal(sl_plog_delete_records_before(f->log, 9999, NULL), SL_B_ERANGE);
    open_log(f);
    assert_int_equal(sl_plog_start_offset(f->log), 105);
    long next = 105;
    assert_int_equal(tu_read_all(f->log, 105, check_value, &next), 95);
    sl_buf_free(&b), sl_buf_free(&out);
}

typedef struct cb_state {
    pthread_mutex_t mu;
    int calls, failures;
} cb_state_t;

static void on_durable(void *arg, int status)
{
    cb_state_t *s = arg;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    if (status)
        s->failures++;
    pthread_mutex_unlock(&s->mu);
}

static void test_interval_policy_shares_one_sync_among_many_waiters(void **state)
{
    fixture_t *f = *state;
    f->cfg.flush_policy = SL_FLUSH_INTERVAL;
    f->cfg.flush_ms = 300;
    open_log(f);
    int64_t syncs0 = sl_plog_sync_count(f->log);
    cb_state_t s = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    sl_buf_t b;
    sl_buf_init(&b);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 2, 0, 0, 0);
    for (int i = 0; i < 50; i++) {
        sl_append_info_t info;
        assert_int_equal(sl_plog_append(f->log, b.data, b.len, 0, &info, NULL), 0);
        assert_int_equal(sl_plog_on_durable(f->log, info.last_offset + 1, on_durable, &s), 0);
    }
    assert_int_equal(sl_plog_wait_durable(f->log, 100, 10000), 0);
    assert_int_equal(sl_plog_durable_offset(f->log), 100);
    /* Callbacks run right after the sync that covered them: poll briefly. */
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&s.mu);
        int calls = s.calls;
        pthread_mutex_unlock(&s.mu);
        if (calls == 50)
            break;
        usleep(1000);
    }
    assert_int_equal(s.calls, 50);
    assert_int_equal(s.failures, 0);
    assert_true(sl_plog_sync_count(f->log) - syncs0 <= 2);
    sl_buf_free(&b);
}

static void test_every_batch_policy_makes_appends_durable(void **state)
{
    fixture_t *f = *state;
    open_log(f);
    assert_int_equal(f->cfg.flush_policy, SL_FLUSH_EVERY_BATCH);
    sl_buf_t b;
    sl_buf_init(&b);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 3, 0, 0, 0);
    for (int i = 0; i < 20; i++) {
        tu_append(f->log, &b, 0);
        assert_int_equal(sl_plog_wait_durable(f->log, (i + 1) * 3, 10000), 0);
        assert_true(sl_plog_durable_offset(f->log) >= (i + 1) * 3);
    }
    /* Already durable: the callback runs synchronously. */
    cb_state_t s = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    assert_int_equal(sl_plog_on_durable(f->log, 60, on_durable, &s), 0);
    assert_int_equal(s.calls, 1);
    sl_buf_free(&b);
}

typedef struct writer_arg {
    sl_plog_t *log;
    int n;
    int failures;
} writer_arg_t;

static void *writer(void *p)
{
    writer_arg_t *w = p;
    sl_buf_t b;
    sl_buf_init(&b);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 1, 0, 0, 0);
    for (int i = 0; i < w->n; i++) {
        sl_append_info_t info;
        if (sl_plog_append(w->log, b.data, b.len, 0, &info, NULL) != 0 ||
            sl_plog_wait_durable(w->log, info.last_offset + 1, 10000) != 0)
            w->failures++;
    }
    sl_buf_free(&b);
    return NULL;
}

static void test_concurrent_writers_get_unique_offsets_and_durability(void **state)
{
    fixture_t *f = *state;
    f->cfg.segment_bytes = 8192;
    open_log(f);
    pthread_t t[4];
    writer_arg_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (writer_arg_t){f->log, 100, 0};
        pthread_create(&t[i], NULL, writer, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(sl_plog_end_offset(f->log), 400);
    assert_int_equal(sl_plog_durable_offset(f->log), 400);
    assert_int_equal(tu_read_all(f->log, 0, NULL, NULL), 400);
}

static void test_never_policy_answers_durable_waiters_at_once(void **state)
{
    fixture_t *f = *state;
    f->cfg.flush_policy = SL_FLUSH_NEVER;
    open_log(f);
    sl_buf_t b;
    sl_buf_init(&b);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 3, 0, 0, 0);
    tu_append(f->log, &b, 0);
    cb_state_t s = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    assert_int_equal(sl_plog_on_durable(f->log, 3, on_durable, &s), 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(sl_plog_wait_durable(f->log, 3, 0), 0);
    /* An explicit flush syncs anyway. */
    assert_int_equal(sl_plog_flush(f->log), 0);
    assert_int_equal(sl_plog_durable_offset(f->log), 3);
    sl_buf_free(&b);
}

static void test_high_watermark_hides_data_until_it_is_durable(void **state)
{
    fixture_t *f = *state;
    f->cfg.flush_policy = SL_FLUSH_INTERVAL;
    f->cfg.flush_ms = 60000; /* nothing syncs on its own during the test */
    open_log(f);
    sl_buf_t b, out;
    sl_buf_init(&b), sl_buf_init(&out);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 4, 0, 0, 0);
    tu_append(f->log, &b, 0);
    assert_int_equal(sl_plog_end_offset(f->log), 4);
    assert_int_equal(sl_plog_high_watermark(f->log), 0);
    sl_read_info_t info;
    /* Not durable yet: nothing to serve, and no error either. */
    assert_int_equal(sl_plog_read_durable(f->log, 0, 1 << 20, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 0);
    assert_int_equal(sl_plog_read_durable(f->log, 2, 1 << 20, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 0);
    /* A plain read sees it. */
    assert_int_equal(sl_plog_read(f->log, 0, 1 << 20, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 1);
    assert_int_equal(sl_plog_flush(f->log), 0);
    assert_int_equal(sl_plog_high_watermark(f->log), 4);
    tu_append(f->log, &b, 0); /* 4..7: appended, not durable */
    sl_buf_reset(&out);
    assert_int_equal(sl_plog_read_durable(f->log, 0, 1 << 20, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 1); /* only the durable batch */
    assert_int_equal(info.next_offset, 4);
    assert_int_equal(out.len, b.len);
    /* Rolling syncs the old segment: all of it becomes durable. */
    assert_int_equal(sl_plog_roll(f->log, 0), 0);
    assert_int_equal(sl_plog_high_watermark(f->log), 8);
    sl_buf_reset(&out);
    assert_int_equal(sl_plog_read_durable(f->log, 4, 1 << 20, &out, &info, NULL), 0);
    assert_int_equal(info.batches, 1);
    /* Without fsync, appended is as durable as it gets. */
    f->cfg.flush_policy = SL_FLUSH_NEVER;
    sl_plog_set_config(f->log, &f->cfg);
    tu_append(f->log, &b, 0);
    assert_int_equal(sl_plog_high_watermark(f->log), 12);
    sl_buf_free(&b), sl_buf_free(&out);
}

/* Pages of [from, to) of the file at path that are in the page cache, and the pages in that range. */
static void resident_pages(const char *path, int64_t from, int64_t to, size_t *in, size_t *total)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    long pg = sysconf(_SC_PAGESIZE);
    from -= from % pg;
    size_t len = (size_t)(to - from);
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, from);
    assert_true(m != MAP_FAILED);
    size_t n = (len + (size_t)pg - 1) / (size_t)pg;
    unsigned char *vec = calloc(n, 1);
    assert_int_equal(mincore(m, len, vec), 0);
    *in = 0;
    for (size_t i = 0; i < n; i++)
        *in += vec[i] & 1;
    *total = n;
    free(vec);
    munmap(m, len);
    close(fd);
}

static void segment_path(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    out[0] = 0;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) > 4 && !strcmp(e->d_name + strlen(e->d_name) - 4, ".log"))
            snprintf(out, cap, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_true(out[0] != 0);
}

/* page.cache.tail.bytes: after a sync the flusher releases what lies more than
 * the tail behind the end; the tail itself stays cached; -1 keeps everything. */
static void run_page_cache_tail(fixture_t *f, int64_t tail, bool expect_dropped)
{
    f->cfg.cache_tail_bytes = tail;
    open_log(f);
    sl_buf_t b;
    sl_buf_init(&b);
    static char value[60000];
    memset(value, 'v', sizeof value);
    sl_batch_builder_t bb;
    sl_batch_builder_init(&bb);
    sl_batch_builder_begin(&bb, SL_COMPRESSION_NONE, 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(sl_batch_builder_add(&bb, 0, "k", 1, value, sizeof value, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_finish(&bb, &b, NULL), 0);
    sl_batch_builder_free(&bb);
    int64_t end = 0;
    for (int i = 0; i < 24; i++) { /* 24 x 480 kB, synced one by one */
        end = tu_append(f->log, &b, 0) + 8;
        assert_int_equal(sl_plog_wait_durable(f->log, end, 10000), 0);
    }
    char path[600];
    segment_path(f->dir, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 11 * 1000 * 1000);
    size_t in_old, n_old, in_tail, n_tail;
    resident_pages(path, 0, st.st_size - 4 * 1000 * 1000, &in_old, &n_old);
    resident_pages(path, st.st_size - 1000 * 1000, st.st_size, &in_tail, &n_tail);
    print_message("    tail %lld: %zu of %zu old pages cached, %zu of %zu tail pages\n", (long long)tail, in_old, n_old,
                  in_tail, n_tail);
    assert_true(in_tail * 10 >= n_tail * 9); /* the tail stays for the readers that follow it */
    if (expect_dropped)
        assert_true(in_old * 10 <= n_old); /* at most 10%: released */
    else
        assert_true(in_old * 10 >= n_old * 9);
    /* and the released part still reads back from disk */
    sl_buf_t out;
    sl_buf_init(&out);
    sl_read_info_t info;
    assert_int_equal(sl_plog_read(f->log, 0, 1 << 20, &out, &info, NULL), 0);
    assert_true(out.len >= b.len);
    assert_memory_equal(out.data + SL_BATCH_HEADER_SIZE, b.data + SL_BATCH_HEADER_SIZE, b.len - SL_BATCH_HEADER_SIZE);
    sl_buf_free(&out);
    sl_buf_free(&b);
}

static bool page_cache_applies(const char *dir)
{
    struct statfs fs;
    return statfs(dir, &fs) == 0 && fs.f_type != 0x01021994 /* tmpfs: no page cache to leave */;
}

static void test_synced_pages_behind_the_cache_tail_are_released(void **state)
{
    fixture_t *f = *state;
    if (!page_cache_applies(f->dir))
        skip();
    run_page_cache_tail(f, 1 << 20, true);
}

static void test_cache_tail_minus_one_keeps_every_page(void **state)
{
    fixture_t *f = *state;
    if (!page_cache_applies(f->dir))
        skip();
    run_page_cache_tail(f, -1, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_assigns_consecutive_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_returns_stored_bytes_verbatim_with_assigned_base_offset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_from_inside_a_batch_returns_the_whole_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_stops_at_max_bytes_but_returns_first_batch_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_outside_log_is_offset_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_rejects_corrupt_input_and_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_roll_by_size_and_reads_cross_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_roll_by_record_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_records_advances_start_offset_durably, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_policy_shares_one_sync_among_many_waiters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_batch_policy_makes_appends_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers_get_unique_offsets_and_durability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_policy_answers_durable_waiters_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_high_watermark_hides_data_until_it_is_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_synced_pages_behind_the_cache_tail_are_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_tail_minus_one_keeps_every_page, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
