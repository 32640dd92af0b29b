/* Unit tests for log compaction (cleanup.policy=compact): the latest record
 * per key survives at its original offset, older ones go, tombstones go only
 * after delete.retention.ms, the active segment is untouched, compressed
 * batches are rewritten with their codec, and null keys are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

/* One batch of records "key=value" (value NULL: a tombstone), time ts. */
static void append_kv(sl_plog_t *log, int compression, const char *const *kv, int n, int64_t ts)
{
    sl_batch_builder_t b;
    sl_buf_t out;
    sl_buf_init(&out);
    sl_batch_builder_init(&b);
    sl_batch_builder_begin(&b, compression, 0);
    for (int i = 0; i < n; i++) {
        const char *k = kv[2 * i], *v = kv[2 * i + 1];
        assert_int_equal(sl_batch_builder_add(&b, ts, k, (int32_t)strlen(k), v, v ? (int32_t)strlen(v) : -1, NULL, 0),
                         0);
    }
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
    tu_append(log, &out, 0);
    sl_batch_builder_free(&b);
    sl_buf_free(&out);
}

typedef struct seen {
    int n;
    int64_t offsets[64];
    char kv[64][32];
} seen_t;

static void collect(void *arg, const sl_record_t *r)
{
    seen_t *s = arg;
    assert_true(s->n < 64);
    s->offsets[s->n] = r->offset;
    snprintf(s->kv[s->n], 32, "%.*s=%.*s", r->key_len, (const char *)r->key, r->value_len < 0 ? 4 : r->value_len,
             r->value_len < 0 ? "null" : (const char *)r->value);
    s->n++;
}

static sl_plog_t *open_compacted(const char *dir)
{
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    cfg.cleanup_policy = SL_CLEANUP_COMPACT;
    cfg.delete_retention_ms = 1000;
    sl_plog_t *log = NULL;
    assert_int_equal(sl_plog_open(dir, &cfg, &log, NULL), 0);
    return log;
}

static void test_compaction_keeps_latest_value_per_key_at_original_offsets(void **state)
{
    char *dir = tu_mkdtemp("cmp");
    sl_plog_t *log = open_compacted(dir);
    const char *b1[] = {"a", "1", "b", "1", "c", "1"};      /* offsets 0-2 */
    const char *b2[] = {"a", "2", "d", "1"};                /* 3-4 */
    const char *b3[] = {"b", "2", "a", "3", "e", "1"};      /* 5-7 */
    append_kv(log, SL_COMPRESSION_NONE, b1, 3, 100);
    sl_plog_roll(log, 0);
    append_kv(log, SL_COMPRESSION_ZSTD, b2, 2, 100);
    append_kv(log, SL_COMPRESSION_NONE, b3, 3, 100);
    sl_plog_roll(log, 0);
    const char *b4[] = {"c", "2"}; /* 8, in the active segment: not compacted */
    append_kv(log, SL_COMPRESSION_NONE, b4, 1, 100);

    assert_int_equal(sl_plog_compact(log, 200, NULL), 2);
    seen_t s = {0};
    assert_int_equal(tu_read_all(log, 0, collect, &s), 6);
    const char *want[] = {"c=1", "d=1", "b=2", "a=3", "e=1", "c=2"};
    const int64_t want_off[] = {2, 4, 5, 6, 7, 8};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(s.kv[i], want[i]);
        assert_int_equal(s.offsets[i], want_off[i]);
    }
    /* Offsets are unchanged, so reads inside removed ranges land on the next survivor. */
    sl_buf_t out;
    sl_buf_init(&out);
    sl_read_info_t info;
    assert_int_equal(sl_plog_read(log, 3, 1 << 20, &out, &info, NULL), 0);
    assert_true(info.first_offset <= 4);
    assert_int_equal(sl_plog_end_offset(log), 9);
    /* A second run finds nothing to do; the result survives a restart. */
    assert_int_equal(sl_plog_compact(log, 200, NULL), 0);
    sl_plog_close(log);
    log = open_compacted(dir);
    seen_t s2 = {0};
    assert_int_equal(tu_read_all(log, 0, collect, &s2), 6);
    assert_memory_equal(s2.offsets, want_off, sizeof want_off);
    sl_plog_close(log);
    sl_buf_free(&out);
    tu_rmrf(dir);
    free(dir);
}

static void test_tombstones_are_dropped_after_delete_retention(void **state)
{
    char *dir = tu_mkdtemp("cmp");
    sl_plog_t *log = open_compacted(dir);
    const char *b1[] = {"a", "1", "b", "1"};
    const char *b2[] = {"a", NULL}; /* tombstone for a at t=5000 */
    append_kv(log, SL_COMPRESSION_NONE, b1, 2, 1000);
    append_kv(log, SL_COMPRESSION_NONE, b2, 1, 5000);
    sl_plog_roll(log, 0);
    /* now = 5500: the tombstone is younger than delete.retention.ms (1000): kept. */
    assert_int_equal(sl_plog_compact(log, 5500, NULL), 1);
    seen_t s = {0};
    assert_int_equal(tu_read_all(log, 0, collect, &s), 2);
    assert_string_equal(s.kv[0], "b=1");
    assert_string_equal(s.kv[1], "a=null");
    /* now = 7000: it is older: dropped. */
    assert_int_equal(sl_plog_compact(log, 7000, NULL), 1);
    seen_t s2 = {0};
    assert_int_equal(tu_read_all(log, 0, collect, &s2), 1);
    assert_string_equal(s2.kv[0], "b=1");
    assert_int_equal(s2.offsets[0], 1);
    sl_plog_close(log);
    tu_rmrf(dir);
    free(dir);
}

static void test_compacted_topic_refuses_records_without_key(void **state)
{
    char *dir = tu_mkdtemp("cmp");
    sl_plog_t *log = open_compacted(dir);
    sl_batch_builder_t b;
    sl_buf_t out;
    sl_buf_init(&out);
    sl_batch_builder_init(&b);
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
    assert_int_equal(sl_batch_builder_add(&b, 0, "k", 1, "v", 1, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_add(&b, 0, NULL, -1, "v", 1, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
    sl_err_t err = {0};
    assert_int_equal(sl_plog_append(log, out.data, out.len, 0, NULL, &err), SL_B_EINVAL);
    assert_non_null(strstr(err.msg, "no key"));
    assert_int_equal(sl_plog_end_offset(log), 0);
    /* Compaction of a delete-only topic is refused. */
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    sl_plog_set_config(log, &cfg);
    assert_int_equal(sl_plog_compact(log, 0, NULL), SL_B_EINVAL);
    sl_plog_close(log);
    sl_batch_builder_free(&b);
    sl_buf_free(&out);
    tu_rmrf(dir);
    free(dir);
}

static void test_compaction_preserves_headers_and_codec(void **state)
{
    char *dir = tu_mkdtemp("cmp");
    sl_plog_t *log = open_compacted(dir);
    sl_batch_builder_t b;
    sl_buf_t out;
    sl_buf_init(&out);
    sl_batch_builder_init(&b);
    sl_batch_builder_begin(&b, SL_COMPRESSION_ZSTD, 0);
    sl_header_t hdr = {(const uint8_t *)"h", 1, (const uint8_t *)"hv", 2};
    assert_int_equal(sl_batch_builder_add(&b, 10, "x", 1, "old", 3, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_add(&b, 11, "y", 1, "keep", 4, &hdr, 1), 0);
    assert_int_equal(sl_batch_builder_add(&b, 12, "x", 1, "new", 3, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
    tu_append(log, &out, 0);
    sl_plog_roll(log, 0);
    assert_int_equal(sl_plog_compact(log, 100, NULL), 1);
    sl_buf_reset(&out);
    sl_read_info_t info;
    assert_int_equal(sl_plog_read(log, 0, 1 << 20, &out, &info, NULL), 0);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(out.data, out.len, &h, NULL), 0);
    assert_int_equal(h.attributes & SL_BATCH_ATTR_COMPRESSION_MASK, SL_COMPRESSION_ZSTD);
    assert_int_equal(h.base_offset, 0);
    assert_int_equal(h.last_offset_delta, 2); /* the batch keeps its offset range */
    assert_int_equal(h.record_count, 2);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    assert_int_equal(sl_batch_iter_start(&it, out.data, out.len, NULL), 0);
    sl_record_t r;
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
    assert_int_equal(r.offset, 1);
    assert_int_equal(r.timestamp, 11);
    assert_int_equal(r.header_count, 1);
    size_t pos = 0;
    int32_t idx = 0;
    sl_header_t got;
    assert_int_equal(sl_record_header_next(&r, &pos, &idx, &got), 1);
    assert_memory_equal(got.value, "hv", 2);
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
    assert_int_equal(r.offset, 2);
    assert_memory_equal(r.value, "new", 3);
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 0);
    sl_batch_iter_free(&it);
    sl_plog_close(log);
    sl_batch_builder_free(&b);
    sl_buf_free(&out);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compaction_keeps_latest_value_per_key_at_original_offsets),
        cmocka_unit_test(test_tombstones_are_dropped_after_delete_retention),
        cmocka_unit_test(test_compacted_topic_refuses_records_without_key),
        cmocka_unit_test(test_compaction_preserves_headers_and_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
