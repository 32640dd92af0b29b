/* Unit tests for the sparse offset and time indexes as seen through the log:
 * lookups from every offset, timestamp lookups with out-of-order record
 * times, and rebuilding of missing or garbage index files on open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

static sl_plog_t *open_log(const char *dir, int32_t interval)
{
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    cfg.index_interval_bytes = interval;
    cfg.segment_bytes = 4096;
    sl_plog_t *log = NULL;
    sl_err_t err = {0};
    if (sl_plog_open(dir, &cfg, &log, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        abort();
    }
    return log;
}

/* 200 batches of 5 records; batch i has timestamps base 1000*i + (0..4),
 * except every 7th batch, whose times lie in the past (out of order). */
static void fill(sl_plog_t *log)
{
    sl_buf_t b;
    sl_buf_init(&b);
    for (int i = 0; i < 200; i++) {
        sl_buf_reset(&b);
        int64_t ts = (i % 7 == 6) ? 1000 * (i - 5) : 1000 * i;
        tu_build_batch(&b, i % 3 == 0 ? SL_COMPRESSION_ZSTD : SL_COMPRESSION_NONE, 5, i * 5, i * 5, ts);
        tu_append(log, &b, 0);
    }
    sl_buf_free(&b);
}

static void check_every_offset(sl_plog_t *log)
{
    sl_buf_t out;
    sl_buf_init(&out);
    for (int64_t off = 0; off < 1000; off += 3) {
        sl_read_info_t info;
        sl_buf_reset(&out);
        assert_int_equal(sl_plog_read(log, off, 1, &out, &info, NULL), 0);
        assert_int_equal(info.batches, 1);
        assert_int_equal(info.first_offset, off - off % 5);
        assert_int_equal(info.next_offset, off - off % 5 + 5);
    }
    sl_buf_free(&out);
}

/* The answer by brute force: the first record with timestamp >= ts. */
static int64_t expected_offset_for_time(int64_t ts)
{
    for (int i = 0; i < 200; i++) {
        int64_t base = (i % 7 == 6) ? 1000 * (i - 5) : 1000 * i;
        for (int r = 0; r < 5; r++)
            if (base + r >= ts)
                return i * 5 + r;
    }
    return -1;
}

static void check_time_lookups(sl_plog_t *log)
{
    int64_t probes[] = {-5, 0, 1, 4, 5, 999, 1000, 1003, 5500, 6000, 6002, 55555, 150000, 198004, 199004, 199005,
                        10000000};
    for (size_t i = 0; i < sizeof probes / sizeof *probes; i++) {
        int64_t got;
        assert_int_equal(sl_plog_offset_for_time(log, probes[i], &got, NULL), 0);
        if (got != expected_offset_for_time(probes[i]))
            fprintf(stderr, "ts %lld: got %lld want %lld\n", (long long)probes[i], (long long)got,
                    (long long)expected_offset_for_time(probes[i]));
        assert_int_equal(got, expected_offset_for_time(probes[i]));
    }
}

static void test_reads_from_any_offset_find_the_containing_batch(void **state)
{
    char *dir = tu_mkdtemp("idx");
    sl_plog_t *log = open_log(dir, 256);
    fill(log);
    assert_true(sl_plog_segment_count(log) > 2);
    check_every_offset(log);
    sl_plog_close(log);
    tu_rmrf(dir);
    free(dir);
}

static void test_offset_for_time_finds_first_record_at_or_after(void **state)
{
    char *dir = tu_mkdtemp("idx");
    sl_plog_t *log = open_log(dir, 256);
    fill(log);
    check_time_lookups(log);
    /* Same answers from a log reopened cleanly (indexes loaded from files). */
    sl_plog_close(log);
    log = open_log(dir, 256);
    check_time_lookups(log);
    check_every_offset(log);
    sl_plog_close(log);
    tu_rmrf(dir);
    free(dir);
}

static void damage_indexes(const char *dir, int garbage)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int is_idx = len > 6 && strcmp(e->d_name + len - 6, ".index") == 0;
        int is_tidx = len > 10 && strcmp(e->d_name + len - 10, ".timeindex") == 0;
        if (!is_idx && !is_tidx)
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (garbage) {
            FILE *fp = fopen(path, "r+b");
            assert_non_null(fp);
            for (int i = 0; i < 40; i++)
                fputc((i * 37 + 11) & 0xff, fp);
            fclose(fp);
        } else {
            assert_int_equal(unlink(path), 0);
        }
        n++;
    }
    closedir(d);
    assert_true(n >= 4);
}

static void test_missing_index_files_are_rebuilt(void **state)
{
    char *dir = tu_mkdtemp("idx");
    sl_plog_t *log = open_log(dir, 256);
    fill(log);
    sl_plog_close(log);
    damage_indexes(dir, 0);
    log = open_log(dir, 256);
    check_every_offset(log);
    check_time_lookups(log);
    sl_plog_close(log);
    tu_rmrf(dir);
    free(dir);
}

static void test_garbage_index_files_are_rebuilt(void **state)
{
    char *dir = tu_mkdtemp("idx");
    sl_plog_t *log = open_log(dir, 256);
    fill(log);
    sl_plog_close(log);
    damage_indexes(dir, 1);
    log = open_log(dir, 256);
    check_every_offset(log);
    check_time_lookups(log);
    assert_int_equal(sl_plog_end_offset(log), 1000);
    sl_plog_close(log);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_from_any_offset_find_the_containing_batch),
        cmocka_unit_test(test_offset_for_time_finds_first_record_at_or_after),
        cmocka_unit_test(test_missing_index_files_are_rebuilt),
        cmocka_unit_test(test_garbage_index_files_are_rebuilt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
