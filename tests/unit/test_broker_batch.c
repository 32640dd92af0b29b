/* Unit tests for RecordBatch v2: a byte-exact batch checked field by field
 * against the documented layout, build -> validate -> iterate round trips with
 * every codec, and hostile input (bad CRC, magic, lengths, varints, truncation,
 * garbage compressed payloads) refused with SL_B_ECORRUPT-family codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "broker/broker.h"

static const int codecs[] = {SL_COMPRESSION_NONE, SL_COMPRESSION_GZIP, SL_COMPRESSION_SNAPPY, SL_COMPRESSION_LZ4,
                             SL_COMPRESSION_ZSTD};
#define NCODECS (sizeof codecs / sizeof codecs[0])

/* Two records, written out by hand from the format description:
 *   0: ts 1000, key "k", value "v", no headers
 *   1: ts 1005, null key, value "v2", header h=x
 * base offset 100, producer fields -1, CRC computed independently (bitwise). */
static const uint8_t hand_batch[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* baseOffset 100 */
    0x00, 0x00, 0x00, 0x47,                         /* batchLength 71 */
    0xff, 0xff, 0xff, 0xff,                         /* partitionLeaderEpoch -1 */
    0x02,                                           /* magic */
    0x94, 0xfb, 0x93, 0x2b,                         /* crc */
    0x00, 0x00,                                     /* attributes */
    0x00, 0x00, 0x00, 0x01,                         /* lastOffsetDelta 1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, /* baseTimestamp 1000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xed, /* maxTimestamp 1005 */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* producerId -1 */
    0xff, 0xff,                                     /* producerEpoch -1 */
    0xff, 0xff, 0xff, 0xff,                         /* baseSequence -1 */
    0x00, 0x00, 0x00, 0x02,                         /* recordCount 2 */
    /* record 0: length 8, attr, tsDelta 0, offDelta 0, key "k", value "v", 0 headers */
    0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00,
    /* record 1: length 12, attr, tsDelta 5, offDelta 1, null key, value "v2", 1 header h=x */
    0x18, 0x00, 0x0a, 0x02, 0x01, 0x04, 'v', '2', 0x02, 0x02, 'h', 0x02, 'x',
};

/* ---- helpers ---------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Wrap already-encoded records in a header with a correct length and CRC, so
 * a test can reach the record parser with exactly the bytes it wants. */
static void wrap_records(sl_buf_t *out, const uint8_t *records, size_t n, int32_t count, int16_t attributes)
{
    sl_buf_reset(out);
    assert_int_equal(sl_buf_reserve(out, SL_BATCH_HEADER_SIZE + n), 0);
    uint8_t *p = out->data;
    memset(p, 0, SL_BATCH_HEADER_SIZE);
    sl_put_be64(p + SL_BATCH_OFF_BASE_OFFSET, 0);
    sl_put_be32(p + SL_BATCH_OFF_LENGTH, (uint32_t)(SL_BATCH_HEADER_SIZE + n - SL_BATCH_LOG_OVERHEAD));
    p[SL_BATCH_OFF_MAGIC] = 2;
    sl_put_be16(p + SL_BATCH_OFF_ATTRIBUTES, (uint16_t)attributes);
    sl_put_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(count > 0 ? count - 1 : 0));
    sl_put_be32(p + SL_BATCH_OFF_RECORD_COUNT, (uint32_t)count);
    if (n)
        memcpy(p + SL_BATCH_HEADER_SIZE, records, n);
    out->len = SL_BATCH_HEADER_SIZE + n;
    sl_put_be32(p + SL_BATCH_OFF_CRC, sl_crc32c(0, p + SL_BATCH_OFF_ATTRIBUTES, out->len - SL_BATCH_OFF_ATTRIBUTES));
}

/* Iterate to the end: record count, or the first error code. */
static int iterate_status(const uint8_t *p, size_t len)
{
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_err_t err = {0};
    int rc = sl_batch_iter_start(&it, p, len, &err);
    int n = 0;
    sl_record_t rec;
    while (rc >= 0 && (rc = sl_batch_iter_next(&it, &rec, &err)) == 1)
        n++;
    sl_batch_iter_free(&it);
    if (rc < 0)
        assert_true(strlen(err.msg) > 0);
    return rc < 0 ? rc : n;
}

/* Record i of the standard test data set: a mix of null / empty / large. */
typedef struct test_rec {
    int64_t ts;
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len;
    sl_header_t headers[3];
    int32_t nheaders;
} test_rec_t;

static uint8_t *big_value; /* 300 KiB of varied bytes, set up by the group */
#define BIG_VALUE_LEN (300 * 1024)

static test_rec_t test_record(int i)
{
    static char keys[4][16] = {"key-a", "key-bb", "", "k"};
    test_rec_t r = {.ts = 1700000000000LL + i * 3 - (i % 5 == 4 ? 100 : 0)};
    switch (i % 7) {
    case 0: /* null key */
        r.key = NULL, r.key_len = -1;
        break;
    case 1: /* empty key */
        r.key = (const uint8_t *)keys[2], r.key_len = 0;
        break;
    default:
        r.key = (const uint8_t *)keys[i % 4], r.key_len = (int32_t)strlen(keys[i % 4]);
    }
    switch (i % 11) {
    case 3: /* tombstone */
        r.value = NULL, r.value_len = -1;
        break;
    case 5: /* empty value */
        r.value = big_value, r.value_len = 0;
        break;
    case 7: /* large value (the first few only, to keep big batches quick) */
        if (i < 40) {
            r.value = big_value, r.value_len = i % 2 ? BIG_VALUE_LEN : BIG_VALUE_LEN / 3;
            break;
        }
        /* fall through */
    default:
        r.value = big_value + i % 1000, r.value_len = 1 + i % 200;
    }
    r.nheaders = i % 4;
    for (int h = 0; h < r.nheaders; h++) {
        r.headers[h].key = (const uint8_t *)(h == 0 ? "trace" : h == 1 ? "" : "source");
        r.headers[h].key_len = h == 0 ? 5 : h == 1 ? 0 : 6;
        if (h == 1 || i % 3 == 0) /* null header value */
            r.headers[h].value = NULL, r.headers[h].value_len = -1;
        else
            r.headers[h].value = big_value + h, r.headers[h].value_len = 10 + h;
    }
    return r;
}

static void build_standard(sl_batch_builder_t *b, sl_buf_t *out, int codec, int64_t base_offset, int n)
{
    sl_batch_builder_begin(b, codec, base_offset);
    for (int i = 0; i < n; i++) {
        test_rec_t r = test_record(i);
        assert_int_equal(sl_batch_builder_add(b, r.ts, r.key, r.key_len, r.value, r.value_len, r.headers, r.nheaders),
                         0);
    }
    sl_err_t err = {0};
    int rc = sl_batch_builder_finish(b, out, &err);
    if (rc)
        fail_msg("finish: %d %s", rc, err.msg);
}

static void assert_bytes_field(const uint8_t *got, int32_t got_len, const uint8_t *want, int32_t want_len)
{
    assert_int_equal(got_len, want_len);
    if (want_len == -1)
        assert_null(got);
    else if (want_len > 0)
        assert_memory_equal(got, want, (size_t)want_len);
}

static void check_standard(const uint8_t *p, size_t len, int codec, int64_t base_offset, int n)
{
    sl_err_t err = {0};
    sl_batch_header_t h;
    int rc = sl_batch_validate(p, len, &h, &err);
    if (rc)
        fail_msg("validate (%s): %d %s", sl_compression_name(codec), rc, err.msg);
    assert_int_equal(h.attributes & SL_BATCH_ATTR_COMPRESSION_MASK, codec);
    assert_int_equal(h.record_count, n);
    assert_int_equal(h.last_offset_delta, n - 1);
    assert_true(h.base_offset == base_offset);
    assert_true(h.base_timestamp == test_record(0).ts);
    int64_t max_ts = INT64_MIN;
    for (int i = 0; i < n; i++)
        if (test_record(i).ts > max_ts)
            max_ts = test_record(i).ts;
    assert_true(h.max_timestamp == max_ts);

    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    rc = sl_batch_iter_start(&it, p, len, &err);
    if (rc)
        fail_msg("iter_start (%s): %d %s", sl_compression_name(codec), rc, err.msg);
    sl_record_t rec;
    for (int i = 0; i < n; i++) {
        rc = sl_batch_iter_next(&it, &rec, &err);
        if (rc != 1)
            fail_msg("record %d (%s): %d %s", i, sl_compression_name(codec), rc, err.msg);
        test_rec_t r = test_record(i);
        assert_true(rec.offset == base_offset + i);
        assert_true(rec.timestamp == r.ts);
        assert_int_equal(rec.attributes, 0);
        assert_bytes_field(rec.key, rec.key_len, r.key, r.key_len);
        assert_bytes_field(rec.value, rec.value_len, r.value, r.value_len);
        assert_int_equal(rec.header_count, r.nheaders);
        size_t pos = 0;
        int32_t idx = 0;
        sl_header_t hd;
        for (int k = 0; k < r.nheaders; k++) {
            assert_int_equal(sl_record_header_next(&rec, &pos, &idx, &hd), 1);
            assert_bytes_field(hd.key, hd.key_len, r.headers[k].key, r.headers[k].key_len);
            assert_bytes_field(hd.value, hd.value_len, r.headers[k].value, r.headers[k].value_len);
        }
        assert_int_equal(sl_record_header_next(&rec, &pos, &idx, &hd), 0);
        assert_int_equal(pos, rec.headers_len);
    }
    assert_int_equal(sl_batch_iter_next(&it, &rec, &err), 0);
    assert_int_equal(sl_batch_iter_next(&it, &rec, &err), 0);
    sl_batch_iter_free(&it);
}

static int setup_group(void **state)
{
    (void)state;
    big_value = malloc(BIG_VALUE_LEN);
    if (!big_value)
        return -1;
    uint64_t s = 99;
    for (size_t i = 0; i < BIG_VALUE_LEN; i++) /* half repetitive, half random */
        big_value[i] = i < BIG_VALUE_LEN / 2 ? (uint8_t)"abcdefgh"[i % 8] : (uint8_t)rng_next(&s);
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    free(big_value);
    return 0;
}

/* ---- the documented layout ------------------------------------------------------ */

static void test_builder_output_matches_hand_encoded_bytes(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 100);
    assert_int_equal(sl_batch_builder_add(&b, 1000, "k", 1, "v", 1, NULL, 0), 0);
    sl_header_t hx = {(const uint8_t *)"h", 1, (const uint8_t *)"x", 1};
    assert_int_equal(sl_batch_builder_add(&b, 1005, NULL, -1, "v2", 2, &hx, 1), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
    assert_int_equal(out.len, sizeof hand_batch);
    assert_memory_equal(out.data, hand_batch, sizeof hand_batch);
    assert_int_equal(b.hdr.crc, 0x94fb932bu);
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_parse_header_reads_fields_at_documented_offsets(void **state)
{
    (void)state;
    assert_int_equal(SL_BATCH_HEADER_SIZE, 61);
    assert_int_equal(hand_batch[SL_BATCH_OFF_MAGIC], 2);
    assert_int_equal(sl_be32(hand_batch + SL_BATCH_OFF_CRC), 0x94fb932bu);
    assert_int_equal(sl_be32(hand_batch + SL_BATCH_OFF_RECORD_COUNT), 2);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(hand_batch, sizeof hand_batch, &h, NULL), 0);
    assert_true(h.base_offset == 100);
    assert_int_equal(h.batch_length, 71);
    assert_int_equal(sl_batch_size(&h), sizeof hand_batch);
    assert_int_equal(h.partition_leader_epoch, -1);
    assert_int_equal(h.magic, 2);
    assert_int_equal(h.crc, 0x94fb932bu);
    assert_int_equal(h.attributes, 0);
    assert_int_equal(h.last_offset_delta, 1);
    assert_true(h.base_timestamp == 1000);
    assert_true(h.max_timestamp == 1005);
    assert_true(h.producer_id == -1);
    assert_int_equal(h.producer_epoch, -1);
    assert_int_equal(h.base_sequence, -1);
    assert_int_equal(h.record_count, 2);
}

static void test_iterator_decodes_hand_encoded_records(void **state)
{
    (void)state;
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    assert_int_equal(sl_batch_iter_start(&it, hand_batch, sizeof hand_batch, NULL), 0);
    sl_record_t r;
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
    assert_true(r.offset == 100 && r.timestamp == 1000);
    assert_bytes_field(r.key, r.key_len, (const uint8_t *)"k", 1);
    assert_bytes_field(r.value, r.value_len, (const uint8_t *)"v", 1);
    assert_int_equal(r.header_count, 0);
    assert_int_equal(r.headers_len, 0);
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
    assert_true(r.offset == 101 && r.timestamp == 1005);
    assert_int_equal(r.key_len, -1);
    assert_null(r.key);
    assert_bytes_field(r.value, r.value_len, (const uint8_t *)"v2", 2);
    assert_int_equal(r.header_count, 1);
    assert_int_equal(r.headers_len, 4);
    size_t pos = 0;
    int32_t idx = 0;
    sl_header_t h;
    assert_int_equal(sl_record_header_next(&r, &pos, &idx, &h), 1);
    assert_bytes_field(h.key, h.key_len, (const uint8_t *)"h", 1);
    assert_bytes_field(h.value, h.value_len, (const uint8_t *)"x", 1);
    assert_int_equal(idx, 1);
    assert_int_equal(sl_record_header_next(&r, &pos, &idx, &h), 0);
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 0);
    sl_batch_iter_free(&it);
}

static void test_rewriting_base_offset_and_leader_epoch_keeps_crc_valid(void **state)
{
    (void)state;
    uint8_t copy[sizeof hand_batch];
    memcpy(copy, hand_batch, sizeof copy);
    sl_put_be64(copy + SL_BATCH_OFF_BASE_OFFSET, 123456789);
    sl_put_be32(copy + SL_BATCH_OFF_LEADER_EPOCH, 7);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(copy, sizeof copy, &h, NULL), 0);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_record_t r;
    assert_int_equal(sl_batch_iter_start(&it, copy, sizeof copy, NULL), 0);
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
    assert_true(r.offset == 123456789);
    sl_batch_iter_free(&it);
}

/* ---- round trips ------------------------------------------------------------------ */

static void test_round_trip_with_every_codec(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    static const int counts[] = {1, 2, 7, 77, 1000};
    for (size_t c = 0; c < NCODECS; c++)
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            sl_buf_reset(&out);
            build_standard(&b, &out, codecs[c], 5000 + (int64_t)k, counts[k]);
            check_standard(out.data, out.len, codecs[c], 5000 + (int64_t)k, counts[k]);
        }
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_compressed_batches_are_smaller_than_uncompressed(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t plain, z;
    sl_buf_init(&plain);
    sl_buf_init(&z);
    build_standard(&b, &plain, SL_COMPRESSION_NONE, 0, 200);
    for (size_t c = 1; c < NCODECS; c++) {
        sl_buf_reset(&z);
        build_standard(&b, &z, codecs[c], 0, 200);
        assert_true(z.len < plain.len);
    }
    sl_buf_free(&plain);
    sl_buf_free(&z);
    sl_batch_builder_free(&b);
}

static void test_builder_reuses_buffers_across_batches(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    build_standard(&b, &out, SL_COMPRESSION_ZSTD, 0, 100);
    uint8_t *records = b.records.data, *zbuf = b.zbuf.data;
    size_t rcap = b.records.cap, zcap = b.zbuf.cap;
    sl_buf_reset(&out);
    build_standard(&b, &out, SL_COMPRESSION_ZSTD, 100, 50);
    assert_ptr_equal(b.records.data, records);
    assert_ptr_equal(b.zbuf.data, zbuf);
    assert_int_equal(b.records.cap, rcap);
    assert_int_equal(b.zbuf.cap, zcap);
    check_standard(out.data, out.len, SL_COMPRESSION_ZSTD, 100, 50);
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_finish_appends_and_iterator_reads_consecutive_batches(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    build_standard(&b, &out, SL_COMPRESSION_LZ4, 0, 10);
    size_t first = out.len;
    build_standard(&b, &out, SL_COMPRESSION_GZIP, 10, 20);
    check_standard(out.data + first, out.len - first, SL_COMPRESSION_GZIP, 10, 20);
    /* The iterator reads the first batch of a longer buffer and ignores the rest. */
    assert_int_equal(iterate_status(out.data, out.len), 10);
    /* One iterator over several compressed batches, restarted without init. */
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_record_t r;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(sl_batch_iter_start(&it, out.data, first, NULL), 0);
        assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
        assert_true(r.offset == 0);
        assert_int_equal(sl_batch_iter_start(&it, out.data + first, out.len - first, NULL), 0);
        assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
        assert_true(r.offset == 10);
    }
    sl_batch_iter_free(&it);
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_builder_defaults_producer_fields_and_keeps_caller_values(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    sl_batch_builder_begin(&b, SL_COMPRESSION_SNAPPY, 0);
    assert_true(b.hdr.producer_id == -1);
    assert_int_equal(b.hdr.producer_epoch, -1);
    assert_int_equal(b.hdr.base_sequence, -1);
    assert_int_equal(b.hdr.partition_leader_epoch, -1);
    b.hdr.producer_id = 4242;
    b.hdr.producer_epoch = 3;
    b.hdr.base_sequence = 17;
    b.hdr.attributes = SL_BATCH_ATTR_TRANSACTIONAL | SL_COMPRESSION_GZIP; /* codec bits come from begin */
    assert_int_equal(sl_batch_builder_add(&b, 1, "a", 1, "b", 1, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(out.data, out.len, &h, NULL), 0);
    assert_true(h.producer_id == 4242);
    assert_int_equal(h.producer_epoch, 3);
    assert_int_equal(h.base_sequence, 17);
    assert_int_equal(h.attributes, SL_BATCH_ATTR_TRANSACTIONAL | SL_COMPRESSION_SNAPPY);
    assert_int_equal(iterate_status(out.data, out.len), 1);
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_timestamps_are_relative_to_first_record_and_max_is_kept(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    static const int64_t ts[] = {5000, 4000, 9000, 7000, -1};
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        assert_int_equal(sl_batch_builder_add(&b, ts[i], NULL, -1, "v", 1, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(out.data, out.len, &h, NULL), 0);
    assert_true(h.base_timestamp == 5000);
    assert_true(h.max_timestamp == 9000);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_record_t r;
    assert_int_equal(sl_batch_iter_start(&it, out.data, out.len, NULL), 0);
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
        assert_true(r.timestamp == ts[i]);
    }
    sl_batch_iter_free(&it);
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_log_append_time_gives_every_record_max_timestamp(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCODECS; c++) {
        sl_batch_builder_t b;
        sl_batch_builder_init(&b);
        sl_buf_t out;
        sl_buf_init(&out);
        sl_batch_builder_begin(&b, codecs[c], 0);
        b.hdr.attributes |= SL_BATCH_ATTR_LOG_APPEND_TIME;
        assert_int_equal(sl_batch_builder_add(&b, 100, NULL, -1, "a", 1, NULL, 0), 0);
        assert_int_equal(sl_batch_builder_add(&b, 300, NULL, -1, "b", 1, NULL, 0), 0);
        assert_int_equal(sl_batch_builder_add(&b, 200, NULL, -1, "c", 1, NULL, 0), 0);
        assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
        /* the broker stamps maxTimestamp with its clock; the CRC range covers it */
        sl_put_be64(out.data + SL_BATCH_OFF_MAX_TIMESTAMP, 777);
        sl_put_be32(out.data + SL_BATCH_OFF_CRC,
                    sl_crc32c(0, out.data + SL_BATCH_OFF_ATTRIBUTES, out.len - SL_BATCH_OFF_ATTRIBUTES));
        sl_batch_iter_t it;
        sl_batch_iter_init(&it);
        sl_record_t r;
        assert_int_equal(sl_batch_iter_start(&it, out.data, out.len, NULL), 0);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
            assert_true(r.timestamp == 777);
        }
        assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 0);
        sl_batch_iter_free(&it);
        sl_buf_free(&out);
        sl_batch_builder_free(&b);
    }
}

static void test_add_raw_keeps_offset_gaps_and_raised_last_offset_delta(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out, copy;
    sl_buf_init(&out);
    sl_buf_init(&copy);
    /* Source batch: offsets 1000..1003 with headers; keep records 0 and 2. */
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 1000);
    sl_header_t hd[2] = {{(const uint8_t *)"a", 1, (const uint8_t *)"1", 1}, {(const uint8_t *)"b", 1, NULL, -1}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(sl_batch_builder_add(&b, 50 + i, "k", 1, "v", 1, hd, i % 2 ? 0 : 2), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);

    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_record_t r;
    sl_batch_builder_begin(&b, SL_COMPRESSION_ZSTD, 1000);
    assert_int_equal(sl_batch_iter_start(&it, out.data, out.len, NULL), 0);
    while (sl_batch_iter_next(&it, &r, NULL) == 1) {
        int32_t delta = (int32_t)(r.offset - 1000);
        if (delta % 2 == 0)
            assert_int_equal(sl_batch_builder_add_raw(&b, delta, r.timestamp, r.attributes, r.key, r.key_len, r.value,
                                                      r.value_len, r.header_count, r.headers, r.headers_len),
                             0);
    }
    b.last_offset_delta = 3;
    assert_int_equal(sl_batch_builder_finish(&b, &copy, NULL), 0);

    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(copy.data, copy.len, &h, NULL), 0);
    assert_int_equal(h.record_count, 2);
    assert_int_equal(h.last_offset_delta, 3);
    assert_true(h.base_timestamp == 50 && h.max_timestamp == 52);
    assert_int_equal(sl_batch_iter_start(&it, copy.data, copy.len, NULL), 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
        assert_true(r.offset == 1000 + 2 * k);
        assert_true(r.timestamp == 50 + 2 * k);
        assert_int_equal(r.header_count, 2);
        size_t pos = 0;
        int32_t idx = 0;
        sl_header_t h2;
        assert_int_equal(sl_record_header_next(&r, &pos, &idx, &h2), 1);
        assert_bytes_field(h2.value, h2.value_len, (const uint8_t *)"1", 1);
        assert_int_equal(sl_record_header_next(&r, &pos, &idx, &h2), 1);
        assert_int_equal(h2.value_len, -1);
        assert_int_equal(sl_record_header_next(&r, &pos, &idx, &h2), 0);
    }
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 0);

    /* A raised floor below the last delta does not lower it. */
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
    assert_int_equal(sl_batch_builder_add_raw(&b, 5, 1, 0, NULL, -1, "v", 1, 0, NULL, 0), 0);
    b.last_offset_delta = 2;
    sl_buf_reset(&copy);
    assert_int_equal(sl_batch_builder_finish(&b, &copy, NULL), 0);
    assert_int_equal(sl_batch_parse_header(copy.data, copy.len, &h, NULL), 0);
    assert_int_equal(h.last_offset_delta, 5);

    sl_batch_iter_free(&it);
    sl_buf_free(&out);
    sl_buf_free(&copy);
    sl_batch_builder_free(&b);
}

static void test_add_raw_rejects_offset_delta_that_does_not_increase(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
    assert_int_equal(sl_batch_builder_add_raw(&b, -1, 1, 0, NULL, -1, "v", 1, 0, NULL, 0), SL_B_EINVAL);
    assert_int_equal(sl_batch_builder_add_raw(&b, 4, 1, 0, NULL, -1, "v", 1, 0, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_add_raw(&b, 4, 1, 0, NULL, -1, "v", 1, 0, NULL, 0), SL_B_EINVAL);
    assert_int_equal(sl_batch_builder_add_raw(&b, 3, 1, 0, NULL, -1, "v", 1, 0, NULL, 0), SL_B_EINVAL);
    /* add continues after the last delta */
    assert_int_equal(sl_batch_builder_add(&b, 1, NULL, -1, "w", 1, NULL, 0), 0);
    assert_int_equal(b.count, 2);
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), 0);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_record_t r;
    assert_int_equal(sl_batch_iter_start(&it, out.data, out.len, NULL), 0);
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
    assert_true(r.offset == 4);
    assert_int_equal(sl_batch_iter_next(&it, &r, NULL), 1);
    assert_true(r.offset == 5);
    sl_batch_iter_free(&it);
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_builder_rejects_invalid_records_and_empty_finish(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    sl_err_t err = {0};
    sl_batch_builder_begin(&b, SL_COMPRESSION_NONE, 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, &err), SL_B_EINVAL);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(sl_batch_builder_add(&b, 1, NULL, -2, "v", 1, NULL, 0), SL_B_EINVAL);
    assert_int_equal(sl_batch_builder_add(&b, 1, NULL, 3, "v", 1, NULL, 0), SL_B_EINVAL);
    assert_int_equal(sl_batch_builder_add(&b, 1, "k", 1, "v", 1, NULL, 2), SL_B_EINVAL);
    sl_header_t null_key = {NULL, -1, (const uint8_t *)"x", 1};
    assert_int_equal(sl_batch_builder_add(&b, 1, "k", 1, "v", 1, &null_key, 1), SL_B_EINVAL);
    assert_int_equal(b.count, 0);
    assert_int_equal(b.records.len, 0);
    sl_batch_builder_begin(&b, 6, 0); /* no such codec */
    assert_int_equal(sl_batch_builder_add(&b, 1, "k", 1, "v", 1, NULL, 0), 0);
    assert_int_equal(sl_batch_builder_finish(&b, &out, NULL), SL_B_EUNSUPPORTED);
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

/* ---- hostile input ----------------------------------------------------------------- */

static void test_validate_rejects_crc_mismatch(void **state)
{
    (void)state;
    uint8_t copy[sizeof hand_batch];
    sl_err_t err = {0};
    sl_batch_header_t h;
    for (size_t i = SL_BATCH_OFF_CRC; i < sizeof copy; i++) {
        memcpy(copy, hand_batch, sizeof copy);
        copy[i] ^= 0x01;
        assert_int_equal(sl_batch_validate(copy, sizeof copy, &h, &err), SL_B_ECORRUPT);
    }
    assert_non_null(strstr(err.msg, "CRC"));
}

static void test_validate_rejects_length_other_than_batch_length_plus_12(void **state)
{
    (void)state;
    uint8_t longer[sizeof hand_batch + 1];
    memcpy(longer, hand_batch, sizeof hand_batch);
    longer[sizeof hand_batch] = 0;
    sl_batch_header_t h;
    sl_err_t err = {0};
    assert_int_equal(sl_batch_validate(longer, sizeof longer, &h, &err), SL_B_ECORRUPT);
    assert_null(strstr(err.msg, "CRC")); /* refused for its length, before the CRC is looked at */
    assert_int_equal(sl_batch_validate(hand_batch, sizeof hand_batch - 1, &h, NULL), SL_B_ETRUNCATED);
    assert_int_equal(sl_batch_validate(hand_batch, 60, &h, NULL), SL_B_ETRUNCATED);
    assert_int_equal(sl_batch_parse_header(hand_batch, 60, &h, NULL), SL_B_ETRUNCATED);
    assert_int_equal(sl_batch_parse_header(hand_batch, 61, &h, NULL), 0);
}

static void test_truncated_batch_is_rejected_at_every_length(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    for (size_t c = 0; c < NCODECS; c++) {
        sl_buf_reset(&out);
        build_standard(&b, &out, codecs[c], 0, 7); /* small: every prefix is copied */
        for (size_t cut = 0; cut < out.len; cut++) {
            /* an exact-size heap copy, so ASan sees any read past the end */
            uint8_t *p = malloc(cut ? cut : 1);
            assert_non_null(p);
            memcpy(p, out.data, cut);
            sl_batch_header_t h;
            assert_int_equal(sl_batch_validate(p, cut, &h, NULL), SL_B_ETRUNCATED);
            assert_int_equal(iterate_status(p, cut), SL_B_ETRUNCATED);
            free(p);
        }
    }
    sl_buf_free(&out);
    sl_batch_builder_free(&b);
}

static void test_records_cut_short_behind_a_valid_crc_are_corrupt(void **state)
{
    (void)state;
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out, cut_batch;
    sl_buf_init(&out);
    sl_buf_init(&cut_batch);
    for (size_t c = 0; c < NCODECS; c++) {
        sl_buf_reset(&out);
        build_standard(&b, &out, codecs[c], 0, 7);
        const uint8_t *body = out.data + SL_BATCH_HEADER_SIZE;
        size_t body_len = out.len - SL_BATCH_HEADER_SIZE;
        for (size_t cut = 0; cut < body_len; cut++) {
            wrap_records(&cut_batch, body, cut, 7, (int16_t)codecs[c]);
            sl_batch_header_t h;
            assert_int_equal(sl_batch_validate(cut_batch.data, cut_batch.len, &h, NULL), 0);
            int rc = iterate_status(cut_batch.data, cut_batch.len);
            if (rc != SL_B_ECORRUPT)
                fail_msg("%s cut at %zu of %zu: got %d", sl_compression_name(codecs[c]), cut, body_len, rc);
        }
    }
    sl_buf_free(&out);
    sl_buf_free(&cut_batch);
    sl_batch_builder_free(&b);
}

static void test_wrong_magic_is_rejected(void **state)
{
    (void)state;
    uint8_t copy[sizeof hand_batch];
    sl_batch_header_t h;
    static const struct {
        uint8_t magic;
        int rc;
    } cases[] = {{0, SL_B_EUNSUPPORTED}, {1, SL_B_EUNSUPPORTED}, {3, SL_B_ECORRUPT}, {0xff, SL_B_ECORRUPT}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, hand_batch, sizeof copy);
        copy[SL_BATCH_OFF_MAGIC] = cases[i].magic;
        assert_int_equal(sl_batch_parse_header(copy, sizeof copy, &h, NULL), cases[i].rc);
        assert_int_equal(sl_batch_validate(copy, sizeof copy, &h, NULL), cases[i].rc);
        assert_int_equal(iterate_status(copy, sizeof copy), cases[i].rc);
    }
}

static void test_header_with_impossible_length_or_count_is_corrupt(void **state)
{
    (void)state;
    uint8_t copy[sizeof hand_batch];
    sl_batch_header_t h;
    static const int32_t bad_lengths[] = {48, 0, -1, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        memcpy(copy, hand_batch, sizeof copy);
        sl_put_be32(copy + SL_BATCH_OFF_LENGTH, (uint32_t)bad_lengths[i]);
        assert_int_equal(sl_batch_parse_header(copy, sizeof copy, &h, NULL), SL_B_ECORRUPT);
        assert_int_equal(iterate_status(copy, sizeof copy), SL_B_ECORRUPT);
    }
    memcpy(copy, hand_batch, sizeof copy);
    sl_put_be32(copy + SL_BATCH_OFF_LENGTH, INT32_MAX);
    assert_int_equal(iterate_status(copy, sizeof copy), SL_B_ETRUNCATED);
    memcpy(copy, hand_batch, sizeof copy);
    sl_put_be32(copy + SL_BATCH_OFF_RECORD_COUNT, (uint32_t)-1);
    assert_int_equal(sl_batch_parse_header(copy, sizeof copy, &h, NULL), SL_B_ECORRUPT);
}

static void test_record_count_disagreeing_with_records_is_corrupt(void **state)
{
    (void)state;
    sl_buf_t batch;
    sl_buf_init(&batch);
    const uint8_t *recs = hand_batch + SL_BATCH_HEADER_SIZE;
    size_t n = sizeof hand_batch - SL_BATCH_HEADER_SIZE;
    wrap_records(&batch, recs, n, 2, 0);
    assert_int_equal(iterate_status(batch.data, batch.len), 2);
    wrap_records(&batch, recs, n, 3, 0); /* claims more records than present */
    assert_int_equal(iterate_status(batch.data, batch.len), SL_B_ECORRUPT);
    wrap_records(&batch, recs, n, 1, 0); /* bytes left after the last record */
    assert_int_equal(iterate_status(batch.data, batch.len), SL_B_ECORRUPT);
    wrap_records(&batch, recs, n, INT32_MAX, 0);
    assert_int_equal(iterate_status(batch.data, batch.len), SL_B_ECORRUPT);
    wrap_records(&batch, NULL, 0, 0, 0); /* an empty batch is well-formed */
    assert_int_equal(iterate_status(batch.data, batch.len), 0);
    sl_buf_free(&batch);
}

static void expect_record_corrupt(const uint8_t *rec, size_t n, const char *what)
{
    sl_buf_t batch;
    sl_buf_init(&batch);
    wrap_records(&batch, rec, n, 1, 0);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(batch.data, batch.len, &h, NULL), 0);
    int rc = iterate_status(batch.data, batch.len);
    if (rc != SL_B_ECORRUPT)
        fail_msg("%s: expected SL_B_ECORRUPT, got %d", what, rc);
    sl_buf_free(&batch);
}

static void test_record_length_mismatch_is_corrupt(void **state)
{
    (void)state;
    /* the good record: length 8, attr, ts 0, off 0, key "k", value "v", 0 headers */
    static const uint8_t good[] = {0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00};
    sl_buf_t batch;
    sl_buf_init(&batch);
    wrap_records(&batch, good, sizeof good, 1, 0);
    assert_int_equal(iterate_status(batch.data, batch.len), 1);
    sl_buf_free(&batch);

    static const uint8_t too_long[] = {0x12, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00, 0x00};
    expect_record_corrupt(too_long, sizeof too_long, "length 9 with 8 bytes of fields");
    static const uint8_t too_short[] = {0x0e, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00};
    expect_record_corrupt(too_short, sizeof too_short, "length 7 with 8 bytes of fields");
    static const uint8_t past_end[] = {0x7e, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00};
    expect_record_corrupt(past_end, sizeof past_end, "length 63 past the batch end");
    static const uint8_t negative[] = {0x01, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00};
    expect_record_corrupt(negative, sizeof negative, "length -1");
    static const uint8_t zero[] = {0x00};
    expect_record_corrupt(zero, sizeof zero, "length 0");
}

static void test_corrupt_varints_inside_a_record_are_corrupt(void **state)
{
    (void)state;
    static const uint8_t overlong_key_len[] = {0x1a, 0x00, 0x00, 0x00, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00,
                                               'k',  0x02, 'v',  0x00};
    expect_record_corrupt(overlong_key_len, sizeof overlong_key_len, "6-byte key length varint");
    static const uint8_t key_len_too_big[] = {0x10, 0x00, 0x00, 0x00, 0x0a, 'k', 0x02, 'v', 0x00};
    expect_record_corrupt(key_len_too_big, sizeof key_len_too_big, "key length 5 past the record");
    static const uint8_t key_len_minus_two[] = {0x10, 0x00, 0x00, 0x00, 0x03, 'k', 0x02, 'v', 0x00};
    expect_record_corrupt(key_len_minus_two, sizeof key_len_minus_two, "key length -2");
    /* 2^32 + 1: fits 5 bytes, and would read as a valid length 1 if truncated to 32 bits */
    static const uint8_t key_len_beyond_int32[] = {0x18, 0x00, 0x00, 0x00, 0x82, 0x80, 0x80, 0x80, 0x20,
                                                   'k',  0x02, 'v',  0x00};
    expect_record_corrupt(key_len_beyond_int32, sizeof key_len_beyond_int32, "key length above INT32_MAX");
    static const uint8_t value_len_too_big[] = {0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x06, 'v', 0x00};
    expect_record_corrupt(value_len_too_big, sizeof value_len_too_big, "value length 3 with 2 bytes left");
    static const uint8_t offset_delta_overlong[] = {0x1a, 0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
                                                    0x02, 'k',  0x02, 'v',  0x00};
    expect_record_corrupt(offset_delta_overlong, sizeof offset_delta_overlong, "6-byte offset delta");
    static const uint8_t ts_unterminated[] = {0x0a, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80};
    expect_record_corrupt(ts_unterminated, sizeof ts_unterminated, "timestamp varint runs off the record");
    static const uint8_t header_count_negative[] = {0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x01};
    expect_record_corrupt(header_count_negative, sizeof header_count_negative, "header count -1");
    static const uint8_t header_count_huge[] = {0x18, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v',
                                                0xfe, 0xff, 0xff, 0xff, 0x0f};
    expect_record_corrupt(header_count_huge, sizeof header_count_huge, "header count INT32_MAX");
    static const uint8_t header_null_key[] = {0x14, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x02, 0x01, 0x00};
    expect_record_corrupt(header_null_key, sizeof header_null_key, "header with a null key");
    static const uint8_t header_value_short[] = {0x16, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x02, 0x00, 0x06, 'x'};
    expect_record_corrupt(header_value_short, sizeof header_value_short, "header value past the record");
    static const uint8_t record_len_unterminated[] = {0xff, 0xff};
    expect_record_corrupt(record_len_unterminated, sizeof record_len_unterminated, "record length runs off");
}

static void test_random_record_bytes_never_crash_the_iterator(void **state)
{
    (void)state;
    uint64_t s = 2024;
    uint8_t junk[256];
    sl_buf_t batch;
    sl_buf_init(&batch);
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(rng_next(&s) % sizeof junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)rng_next(&s);
        wrap_records(&batch, junk, n, (int32_t)(rng_next(&s) % 5), 0);
        int rc = iterate_status(batch.data, batch.len);
        assert_true(rc >= 0 || rc == SL_B_ECORRUPT);
    }
    sl_buf_free(&batch);
}

static void test_record_header_next_rejects_malformed_headers(void **state)
{
    (void)state;
    static const uint8_t bad[] = {0x02, 'a', 0x09, 'x'}; /* value length 4, 1 byte left */
    sl_record_t rec = {.header_count = 1, .headers = bad, .headers_len = sizeof bad};
    size_t pos = 0;
    int32_t idx = 0;
    sl_header_t h;
    assert_true(sl_record_header_next(&rec, &pos, &idx, &h) < 0);
    rec.header_count = 2;
    rec.headers_len = 0;
    assert_true(sl_record_header_next(&rec, &pos, &idx, &h) < 0);
}

static void test_compressed_batch_with_garbage_payload_is_an_error(void **state)
{
    (void)state;
    uint8_t junk[200];
    uint64_t s = 31337;
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rng_next(&s);
    sl_buf_t batch;
    sl_buf_init(&batch);
    for (size_t c = 1; c < NCODECS; c++) {
        wrap_records(&batch, junk, sizeof junk, 1, (int16_t)codecs[c]);
        sl_batch_header_t h;
        assert_int_equal(sl_batch_validate(batch.data, batch.len, &h, NULL), 0);
        int rc = iterate_status(batch.data, batch.len);
        if (rc >= 0)
            fail_msg("%s: garbage payload accepted", sl_compression_name(codecs[c]));
        if (codecs[c] != SL_COMPRESSION_SNAPPY) /* a raw snappy preamble may also claim a huge size */
            assert_int_equal(rc, SL_B_ECORRUPT);
    }
    wrap_records(&batch, junk, 0, 1, SL_COMPRESSION_ZSTD);
    assert_int_equal(iterate_status(batch.data, batch.len), SL_B_ECORRUPT);
    sl_buf_free(&batch);
}

static void test_unknown_compression_codec_is_unsupported(void **state)
{
    (void)state;
    sl_buf_t batch;
    sl_buf_init(&batch);
    const uint8_t *recs = hand_batch + SL_BATCH_HEADER_SIZE;
    wrap_records(&batch, recs, sizeof hand_batch - SL_BATCH_HEADER_SIZE, 2, 5);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_validate(batch.data, batch.len, &h, NULL), SL_B_EUNSUPPORTED);
    assert_int_equal(iterate_status(batch.data, batch.len), SL_B_EUNSUPPORTED);
    sl_buf_free(&batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_output_matches_hand_encoded_bytes),
        cmocka_unit_test(test_parse_header_reads_fields_at_documented_offsets),
        cmocka_unit_test(test_iterator_decodes_hand_encoded_records),
        cmocka_unit_test(test_rewriting_base_offset_and_leader_epoch_keeps_crc_valid),
        cmocka_unit_test(test_round_trip_with_every_codec),
        cmocka_unit_test(test_compressed_batches_are_smaller_than_uncompressed),
        cmocka_unit_test(test_builder_reuses_buffers_across_batches),
        cmocka_unit_test(test_finish_appends_and_iterator_reads_consecutive_batches),
        cmocka_unit_test(test_builder_defaults_producer_fields_and_keeps_caller_values),
        cmocka_unit_test(test_timestamps_are_relative_to_first_record_and_max_is_kept),
        cmocka_unit_test(test_log_append_time_gives_every_record_max_timestamp),
        cmocka_unit_test(test_add_raw_keeps_offset_gaps_and_raised_last_offset_delta),
        cmocka_unit_test(test_add_raw_rejects_offset_delta_that_does_not_increase),
        cmocka_unit_test(test_builder_rejects_invalid_records_and_empty_finish),
        cmocka_unit_test(test_validate_rejects_crc_mismatch),
        cmocka_unit_test(test_validate_rejects_length_other_than_batch_length_plus_12),
        cmocka_unit_test(test_truncated_batch_is_rejected_at_every_length),
        cmocka_unit_test(test_records_cut_short_behind_a_valid_crc_are_corrupt),
        cmocka_unit_test(test_wrong_magic_is_rejected),
        cmocka_unit_test(test_header_with_impossible_length_or_count_is_corrupt),
        cmocka_unit_test(test_record_count_disagreeing_with_records_is_corrupt),
        cmocka_unit_test(test_record_length_mismatch_is_corrupt),
        cmocka_unit_test(test_corrupt_varints_inside_a_record_are_corrupt),
        cmocka_unit_test(test_random_record_bytes_never_crash_the_iterator),
        cmocka_unit_test(test_record_header_next_rejects_malformed_headers),
        cmocka_unit_test(test_compressed_batch_with_garbage_payload_is_an_error),
        cmocka_unit_test(test_unknown_compression_codec_is_unsupported),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
