/* Unit tests for retention: whole segments are deleted by age (newest record
 * older than retention.ms, the active segment rolled first when it expired)
 * and by size (retention.bytes); the log start offset advances, files go,
 * reads below the start fail, and nothing above it is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    size_t sl = strlen(suffix);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > sl && strcmp(e->d_name + len - sl, suffix) == 0;
    }
    closedir(d);
    return n;
}

static void check_value(void *arg, const sl_record_t *r)
{
    long *next = arg;
    char want[32];
    int n = snprintf(want, sizeof want, "v%ld", *next);
    assert_int_equal(r->offset, *next);
    assert_memory_equal(r->value, want, (size_t)n);
    (*next)++;
}

static sl_plog_t *open_log(const char *dir, sl_log_config_t *cfg)
{
    sl_plog_t *log = NULL;
    assert_int_equal(sl_plog_open(dir, cfg, &log, NULL), 0);
    return log;
}

static void test_retention_bytes_deletes_oldest_segments(void **state)
{
    char *dir = tu_mkdtemp("ret");
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    cfg.segment_bytes = 2000;
    cfg.retention_ms = -1;
    sl_plog_t *log = open_log(dir, &cfg);
    sl_buf_t b;
    sl_buf_init(&b);
    for (int i = 0; i < 50; i++) {
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, 10, i * 10, i * 10, 1000);
        tu_append(log, &b, 0);
    }
    int segs = sl_plog_segment_count(log);
    assert_int_equal(count_files(dir, ".log"), segs);
    /* Nothing to do while under the limit. */
    cfg.retention_bytes = 1 << 30;
    sl_plog_set_config(log, &cfg);
    assert_int_equal(sl_plog_maintain(log, 2000, NULL), 0);
    cfg.retention_bytes = 5000;
    sl_plog_set_config(log, &cfg);
    int deleted = sl_plog_maintain(log, 2000, NULL);
    assert_true(deleted > 0);
    assert_int_equal(sl_plog_segment_count(log), segs - deleted);
    assert_int_equal(count_files(dir, ".log"), segs - deleted);
    assert_int_equal(count_files(dir, ".index"), segs - deleted);
    assert_true(sl_plog_size_bytes(log) <= 5000 + 2000);
    assert_true(sl_plog_size_bytes(log) >= 5000);
    int64_t start = sl_plog_start_offset(log);
    assert_true(start > 0);
    assert_int_equal(start % 10, 0);
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_plog_read(log, start - 1, 1024, &out, NULL, NULL), SL_B_ERANGE);
    long next = start;
    assert_int_equal(tu_read_all(log, start, check_value, &next), 500 - start);
    /* The start survives a restart (it is the first segment's base). */
    sl_plog_close(log);
    log = open_log(dir, &cfg);
    assert_int_equal(sl_plog_start_offset(log), start);
    assert_int_equal(sl_plog_end_offset(log), 500);
    sl_plog_close(log);
    sl_buf_free(&b), sl_buf_free(&out);
    tu_rmrf(dir);
    free(dir);
}

static void test_retention_ms_deletes_segments_whose_newest_record_expired(void **state)
{
    char *dir = tu_mkdtemp("ret");
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    cfg.segment_ms = 1000; /* one segment per second of record time */
    cfg.retention_ms = 5000;
    sl_plog_t *log = open_log(dir, &cfg);
    sl_buf_t b;
    sl_buf_init(&b);
    for (int i = 0; i < 10; i++) { /* records at t = 0, 1000, ..., 9000 (+0..2) */
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, 3, i * 3, i * 3, i * 1000);
        tu_append(log, &b, 0);
    }
    assert_int_equal(sl_plog_segment_count(log), 10);
    /* now = 12000: cutoff 7000 deletes segments whose newest is < 7000 (t = 0..6000). */
    assert_int_equal(sl_plog_maintain(log, 12000, NULL), 7);
    assert_int_equal(sl_plog_start_offset(log), 21);
    long next = 21;
    assert_int_equal(tu_read_all(log, 21, check_value, &next), 9);
    /* Much later everything expires: the active segment is rolled and goes too. */
    assert_int_equal(sl_plog_maintain(log, 100000, NULL), 3);
    assert_int_equal(sl_plog_start_offset(log), 30);
    assert_int_equal(sl_plog_end_offset(log), 30);
    assert_int_equal(sl_plog_segment_count(log), 1);
    /* Appends continue at 30. */
    sl_buf_reset(&b);
    tu_build_batch(&b, SL_COMPRESSION_NONE, 3, 30, 30, 100000);
    assert_int_equal(tu_append(log, &b, 0), 30);
    sl_plog_close(log);
    log = open_log(dir, &cfg);
    assert_int_equal(sl_plog_start_offset(log), 30);
    assert_int_equal(sl_plog_end_offset(log), 33);
    sl_plog_close(log);
    sl_buf_free(&b);
    tu_rmrf(dir);
    free(dir);
}

static void test_compact_only_topics_are_not_deleted_by_retention(void **state)
{
    char *dir = tu_mkdtemp("ret");
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    cfg.segment_ms = 1000;
    cfg.retention_ms = 10;
    cfg.cleanup_policy = SL_CLEANUP_COMPACT;
    sl_plog_t *log = open_log(dir, &cfg);
    sl_buf_t b;
    sl_buf_init(&b);
    for (int i = 0; i < 5; i++) {
        sl_buf_reset(&b);
        tu_build_batch(&b, SL_COMPRESSION_NONE, 2, i * 2, i * 2, i * 1000);
        tu_append(log, &b, 0);
    }
    assert_int_equal(sl_plog_maintain(log, 1000000, NULL), 0); /* distinct keys: nothing to compact */
    assert_int_equal(sl_plog_start_offset(log), 0);
    assert_int_equal(tu_read_all(log, 0, NULL, NULL), 10);
    sl_plog_close(log);
    sl_buf_free(&b);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retention_bytes_deletes_oldest_segments),
        cmocka_unit_test(test_retention_ms_deletes_segments_whose_newest_record_expired),
        cmocka_unit_test(test_compact_only_topics_are_not_deleted_by_retention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
