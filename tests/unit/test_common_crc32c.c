/* Unit tests for common's CRC-32C: published check values, the SSE4.2 and the
 * table implementations agreeing on every length and misalignment, and
 * incremental use giving the one-shot result (batches are CRC'd in pieces). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/common.h"

/* xorshift: deterministic test data without global state in the library. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next(&s);
}

static void test_crc32c_matches_check_value_for_123456789(void **state)
{
    (void)state;
    assert_int_equal(sl_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(sl_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    if (sl_crc32c_hw_available())
        assert_int_equal(sl_crc32c_hw(0, "123456789", 9), 0xE3069283u);
}

static void test_crc32c_of_32_zero_bytes_is_8a9136aa(void **state)
{
    (void)state;
    uint8_t zeros[32] = {0};
    assert_int_equal(sl_crc32c(0, zeros, sizeof zeros), 0x8A9136AAu);
    assert_int_equal(sl_crc32c_sw(0, zeros, sizeof zeros), 0x8A9136AAu);
}

static void test_crc32c_of_32_ff_bytes_is_62a8ab43(void **state)
{
    (void)state;
    uint8_t ones[32];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(sl_crc32c(0, ones, sizeof ones), 0x62A8AB43u);
}

static void test_crc32c_of_empty_input_keeps_the_running_value(void **state)
{
    (void)state;
    assert_int_equal(sl_crc32c(0, "", 0), 0);
    assert_int_equal(sl_crc32c(0x12345678u, "", 0), 0x12345678u);
}

static void test_crc32c_hw_and_sw_agree_on_all_lengths_and_alignments(void **state)
{
    (void)state;
    if (!sl_crc32c_hw_available())
        skip();
    enum { MAXLEN = 1100 };
    uint8_t *buf = malloc(MAXLEN + 8);
    assert_non_null(buf);
    fill_random(buf, MAXLEN + 8, 42);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= MAXLEN; len += (len < 80 ? 1 : 37)) {
            uint32_t sw = sl_crc32c_sw(0, buf + off, len), hw = sl_crc32c_hw(0, buf + off, len);
            if (sw != hw)
                fail_msg("sw 0x%08x != hw 0x%08x at offset %zu length %zu", sw, hw, off, len);
            assert_int_equal(sl_crc32c(0, buf + off, len), sw);
        }
    free(buf);
}

static void test_crc32c_incremental_equals_one_shot_at_every_split(void **state)
{
    (void)state;
    uint8_t buf[300];
    fill_random(buf, sizeof buf, 7);
    uint32_t whole = sl_crc32c(0, buf, sizeof buf);
    for (size_t split = 0; split <= sizeof buf; split++) {
        assert_int_equal(sl_crc32c(sl_crc32c(0, buf, split), buf + split, sizeof buf - split), whole);
        assert_int_equal(sl_crc32c_sw(sl_crc32c_sw(0, buf, split), buf + split, sizeof buf - split), whole);
        if (sl_crc32c_hw_available())
            assert_int_equal(sl_crc32c_hw(sl_crc32c_hw(0, buf, split), buf + split, sizeof buf - split), whole);
    }
    /* Three pieces, byte by byte in the middle. */
    uint32_t c = sl_crc32c(0, buf, 10);
    for (size_t i = 10; i < 20; i++)
        c = sl_crc32c(c, buf + i, 1);
    assert_int_equal(sl_crc32c(c, buf + 20, sizeof buf - 20), whole);
}

static void test_crc32c_detects_a_single_flipped_bit(void **state)
{
    (void)state;
    uint8_t buf[64];
    fill_random(buf, sizeof buf, 99);
    uint32_t good = sl_crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(sl_crc32c(0, buf, sizeof buf), good);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

/* Long buffers take the three-chain path of the hardware CRC (chunks of
 * 3 x 4096 bytes, combined with a precomputed shift); check it at and around
 * the chunk boundaries, misaligned, and continued from a non-zero CRC. */
static void test_crc32c_hw_three_chain_path_matches_sw(void **state)
{
    (void)state;
    if (!sl_crc32c_hw_available())
        skip();
    enum { MAX = 3 * 4096 * 9 + 100 };
    uint8_t *buf = malloc(MAX + 8);
    assert_non_null(buf);
    fill_random(buf, MAX + 8, 1234);
    const size_t lens[] = {12287, 12288, 12289, 24575, 24576, 24577, 40000, 110001, MAX};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++)
        for (size_t off = 0; off < 8; off += 3) {
            uint32_t sw = sl_crc32c_sw(0x1234567u, buf + off, lens[i]);
            uint32_t hw = sl_crc32c_hw(0x1234567u, buf + off, lens[i]);
            if (sw != hw)
                fail_msg("sw 0x%08x != hw 0x%08x at offset %zu length %zu", sw, hw, off, lens[i]);
        }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_matches_check_value_for_123456789),
        cmocka_unit_test(test_crc32c_of_32_zero_bytes_is_8a9136aa),
        cmocka_unit_test(test_crc32c_of_32_ff_bytes_is_62a8ab43),
        cmocka_unit_test(test_crc32c_of_empty_input_keeps_the_running_value),
        cmocka_unit_test(test_crc32c_hw_and_sw_agree_on_all_lengths_and_alignments),
        cmocka_unit_test(test_crc32c_hw_three_chain_path_matches_sw),
        cmocka_unit_test(test_crc32c_incremental_equals_one_shot_at_every_split),
        cmocka_unit_test(test_crc32c_detects_a_single_flipped_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
