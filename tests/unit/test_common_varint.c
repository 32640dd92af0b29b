/* Unit tests for common's protobuf-style varints: known encodings, round trips
 * and sizes at every width boundary, and the decoder's refusals (truncated,
 * over-long, overflowing the 10th byte) that keep hostile input out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/common.h"

static const int64_t signed_edges[] = {
    0, 1, -1, 2, -2, 63, -64, 64, -65, 127, 128, -128, -129, 8191, -8192, 8192, 16383, 16384, -16384,
    INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1, (int64_t)INT32_MIN - 1, INT64_MAX, INT64_MIN,
    INT64_MAX - 1, INT64_MIN + 1, 1LL << 56, -(1LL << 56),
};

static const uint64_t unsigned_edges[] = {
    0, 1, 127, 128, 255, 300, 16383, 16384, 2097151, 2097152, 268435455, 268435456, UINT32_MAX,
    (uint64_t)UINT32_MAX + 1, (1ULL << 56) - 1, 1ULL << 56, (1ULL << 63) - 1, 1ULL << 63, UINT64_MAX,
};

static void assert_bytes(const uint8_t *got, size_t got_n, const uint8_t *want, size_t want_n)
{
    assert_int_equal(got_n, want_n);
    assert_memory_equal(got, want, want_n);
}

static void test_zigzag_encodes_small_values_as_protobuf_does(void **state)
{
    (void)state;
    uint8_t b[SL_VARINT_MAX];
    assert_bytes(b, sl_varint_put(b, 0), (const uint8_t[]){0x00}, 1);
    assert_bytes(b, sl_varint_put(b, -1), (const uint8_t[]){0x01}, 1);
    assert_bytes(b, sl_varint_put(b, 1), (const uint8_t[]){0x02}, 1);
    assert_bytes(b, sl_varint_put(b, -2), (const uint8_t[]){0x03}, 1);
    assert_bytes(b, sl_varint_put(b, 63), (const uint8_t[]){0x7e}, 1);
    assert_bytes(b, sl_varint_put(b, -64), (const uint8_t[]){0x7f}, 1);
    assert_bytes(b, sl_varint_put(b, 64), (const uint8_t[]){0x80, 0x01}, 2);
    assert_bytes(b, sl_varint_put(b, INT32_MAX), (const uint8_t[]){0xfe, 0xff, 0xff, 0xff, 0x0f}, 5);
    assert_bytes(b, sl_varint_put(b, INT32_MIN), (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0x0f}, 5);
    assert_bytes(b, sl_varint_put(b, INT64_MIN),
                 (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10);
    assert_bytes(b, sl_varint_put(b, INT64_MAX),
                 (const uint8_t[]){0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10);
}

static void test_uvarint_encodes_boundaries_as_protobuf_does(void **state)
{
    (void)state;
    uint8_t b[SL_VARINT_MAX];
    assert_bytes(b, sl_uvarint_put(b, 0), (const uint8_t[]){0x00}, 1);
    assert_bytes(b, sl_uvarint_put(b, 127), (const uint8_t[]){0x7f}, 1);
    assert_bytes(b, sl_uvarint_put(b, 128), (const uint8_t[]){0x80, 0x01}, 2);
    assert_bytes(b, sl_uvarint_put(b, 300), (const uint8_t[]){0xac, 0x02}, 2);
    assert_bytes(b, sl_uvarint_put(b, 16383), (const uint8_t[]){0xff, 0x7f}, 2);
    assert_bytes(b, sl_uvarint_put(b, 16384), (const uint8_t[]){0x80, 0x80, 0x01}, 3);
    assert_bytes(b, sl_uvarint_put(b, UINT64_MAX),
                 (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10);
}

static void test_signed_edges_round_trip_with_matching_size(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof signed_edges / sizeof signed_edges[0]; i++) {
        uint8_t b[SL_VARINT_MAX + 2];
        int64_t v = signed_edges[i], back = 12345;
        size_t n = sl_varint_put(b, v);
        assert_int_equal(n, sl_varint_size(v));
        assert_in_range(n, 1, SL_VARINT_MAX);
        assert_int_equal(sl_varint_get(b, n, SL_VARINT_MAX, &back), n);
        assert_true(back == v);
    }
}

static void test_unsigned_edges_round_trip_with_matching_size(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof unsigned_edges / sizeof unsigned_edges[0]; i++) {
        uint8_t b[SL_VARINT_MAX];
        uint64_t v = unsigned_edges[i], back = 12345;
        size_t n = sl_uvarint_put(b, v);
        assert_int_equal(n, sl_uvarint_size(v));
        assert_int_equal(sl_uvarint_get(b, n, SL_VARINT_MAX, &back), n);
        assert_true(back == v);
    }
}

static void test_sizes_step_at_each_seven_bit_boundary(void **state)
{
    (void)state;
    for (unsigned k = 1; k < 10; k++) {
        uint64_t top = (1ULL << (7 * k)) - 1;
        assert_int_equal(sl_uvarint_size(top), k);
        assert_int_equal(sl_uvarint_size(top + 1), k + 1);
    }
    assert_int_equal(sl_varint_size(-64), 1);
    assert_int_equal(sl_varint_size(-65), 2);
    assert_int_equal(sl_varint_size(INT32_MIN), 5);
    assert_int_equal(sl_varint_size(INT64_MIN), 10);
}

static void test_decoder_consumes_only_one_varint(void **state)
{
    (void)state;
    const uint8_t b[] = {0xac, 0x02, 0x7f};
    uint64_t v;
    assert_int_equal(sl_uvarint_get(b, sizeof b, SL_VARINT_MAX, &v), 2);
    assert_int_equal(v, 300);
}

static void test_truncated_input_returns_zero(void **state)
{
    (void)state;
    uint8_t b[SL_VARINT_MAX] = {0};
    uint64_t u;
    int64_t s;
    assert_int_equal(sl_uvarint_get(b, 0, SL_VARINT_MAX, &u), 0);
    for (size_t i = 0; i < sizeof unsigned_edges / sizeof unsigned_edges[0]; i++) {
        size_t n = sl_uvarint_put(b, unsigned_edges[i]);
        for (size_t cut = 0; cut < n; cut++)
            assert_int_equal(sl_uvarint_get(b, cut, SL_VARINT_MAX, &u), 0);
    }
    size_t n = sl_varint_put(b, INT64_MIN);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(sl_varint_get(b, cut, SL_VARINT_MAX, &s), 0);
}

static void test_eleven_byte_encoding_is_rejected(void **state)
{
    (void)state;
    uint8_t b[11];
    memset(b, 0x80, 10);
    b[10] = 0x00;
    uint64_t u;
    int64_t s;
    assert_int_equal(sl_uvarint_get(b, sizeof b, SL_VARINT_MAX, &u), 0);
    assert_int_equal(sl_varint_get(b, sizeof b, SL_VARINT_MAX, &s), 0);
    assert_int_equal(sl_uvarint_get(b, sizeof b, 64, &u), 0); /* max_bytes above 10 is capped */
}

static void test_encoding_longer_than_max_bytes_is_rejected(void **state)
{
    (void)state;
    uint8_t b[SL_VARINT_MAX];
    int64_t s;
    /* INT32_MIN - 1 needs 5 bytes; so does INT32_MIN: 5 is allowed, 6 is not. */
    size_t n = sl_varint_put(b, INT32_MIN);
    assert_int_equal(sl_varint_get(b, n, 5, &s), 5);
    assert_true(s == INT32_MIN);
    n = sl_varint_put(b, (int64_t)1 << 35);
    assert_int_equal(n, 6);
    assert_int_equal(sl_varint_get(b, n, 5, &s), 0);
    /* A padded zero (0x80 0x80 0x00) is longer than a 2-byte limit. */
    const uint8_t padded[] = {0x80, 0x80, 0x00};
    uint64_t u;
    assert_int_equal(sl_uvarint_get(padded, sizeof padded, 2, &u), 0);
    assert_int_equal(sl_uvarint_get(padded, sizeof padded, 3, &u), 3);
    assert_int_equal(u, 0);
}

static void test_tenth_byte_overflowing_64_bits_is_rejected(void **state)
{
    (void)state;
    uint8_t b[SL_VARINT_MAX];
    memset(b, 0xff, 9);
    uint64_t u;
    b[9] = 0x01; /* exactly 64 bits: UINT64_MAX */
    assert_int_equal(sl_uvarint_get(b, 10, SL_VARINT_MAX, &u), 10);
    assert_true(u == UINT64_MAX);
    b[9] = 0x02; /* bit 64 */
    assert_int_equal(sl_uvarint_get(b, 10, SL_VARINT_MAX, &u), 0);
    b[9] = 0x7f;
    assert_int_equal(sl_uvarint_get(b, 10, SL_VARINT_MAX, &u), 0);
    b[9] = 0x81; /* continuation past the 10th byte */
    assert_int_equal(sl_uvarint_get(b, 10, SL_VARINT_MAX, &u), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigzag_encodes_small_values_as_protobuf_does),
        cmocka_unit_test(test_uvarint_encodes_boundaries_as_protobuf_does),
        cmocka_unit_test(test_signed_edges_round_trip_with_matching_size),
        cmocka_unit_test(test_unsigned_edges_round_trip_with_matching_size),
        cmocka_unit_test(test_sizes_step_at_each_seven_bit_boundary),
        cmocka_unit_test(test_decoder_consumes_only_one_varint),
        cmocka_unit_test(test_truncated_input_returns_zero),
        cmocka_unit_test(test_eleven_byte_encoding_is_rejected),
        cmocka_unit_test(test_encoding_longer_than_max_bytes_is_rejected),
        cmocka_unit_test(test_tenth_byte_overflowing_64_bits_is_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
