/* The in-memory hash tables' helpers (common.h): sl_bytes_eq sees a
 * difference in any byte at any length; sl_hash_bytes spreads keys that
 * differ only in their last bytes over a table's low bits (linear probing
 * of 10000 keys into 16384 slots needs about as many probes as with random
 * hashes: the earlier hash took 3.08 per key for "word0".."word9999", against
 * 1.96), and depends on the length even where bytes are zero. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/common.h"

static void test_bytes_eq_sees_every_byte_at_every_length(void **state)
{
    uint8_t a[40], b[40];
    for (size_t n = 0; n <= sizeof a; n++) {
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = (uint8_t)(i * 37 + n);
        assert_true(sl_bytes_eq(a, b, n));
        for (size_t i = 0; i < n; i++) {
            b[i] ^= 0x10;
            assert_false(sl_bytes_eq(a, b, n));
            assert_false(sl_bytes_eq(b, a, n));
            b[i] ^= 0x10;
        }
    }
}

static uint64_t splitmix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Mean probes per key of linear probing of `keys` keys into `cap` slots:
 * keys made with fmt, or random hashes when fmt is NULL. */
static double probes(const char *fmt, int keys, uint32_t cap)
{
    uint64_t *slots = calloc(cap, sizeof *slots);
    long total = 0;
    for (int k = 0; k < keys; k++) {
        char s[32];
        int n = fmt ? snprintf(s, sizeof s, fmt, k) : 0;
        uint64_t h = (fmt ? sl_hash_bytes((const uint8_t *)s, (size_t)n) : splitmix((uint64_t)k)) | 1;
        uint32_t i = (uint32_t)h & (cap - 1);
        for (total++; slots[i]; i = (i + 1) & (cap - 1), total++)
            assert_int_not_equal(slots[i], h); /* no full 64-bit collision among these */
        slots[i] = h;
    }
    free(slots);
    return (double)total / keys;
}

static void test_hash_spreads_keys_that_differ_in_their_last_bytes(void **state)
{
    const char *fmts[] = {"word%d", "%d", "user-%08d", "key:%d:suffix", "w%d"};
    double random = probes(NULL, 10000, 16384);
    for (size_t f = 0; f < sizeof fmts / sizeof *fmts; f++) {
        double p = probes(fmts[f], 10000, 16384);
        print_message("    %-14s %.2f probes per key (random hashes: %.2f)\n", fmts[f], p, random);
        assert_true(p < random * 1.15);
    }
}

static void test_hash_depends_on_the_length(void **state)
{
    const uint8_t z[16] = {0};
    for (size_t n = 0; n < sizeof z; n++)
        for (size_t m = n + 1; m <= sizeof z; m++)
            assert_int_not_equal(sl_hash_bytes(z, n), sl_hash_bytes(z, m));
}

/* Table memory: zeroed, on a cache line (64 bytes), on 2 MiB from 2 MiB on;
 * a size that overflows is refused. */
static void test_table_memory_is_zeroed_and_aligned(void **state)
{
    (void)state;
    size_t counts[] = {1, 3, 1000, 32768, 40000};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        size_t n = counts[i] * 64;
        uint8_t *p = sl_zalloc_lines(counts[i], 64);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % (n >= (2u << 20) ? (2u << 20) : 64), 0);
        for (size_t j = 0; j < n; j++)
            if (p[j])
                fail_msg("byte %zu of %zu is %d", j, n, p[j]);
        memset(p, 0xab, n); /* all of it is ours (ASan would see an overrun) */
        free(p);
    }
    uint8_t *odd = sl_zalloc_lines(7, 9); /* 63 bytes: rounded up to a line */
    assert_non_null(odd);
    assert_int_equal((uintptr_t)odd % 64, 0);
    free(odd);
    assert_null(sl_zalloc_lines(SIZE_MAX / 8, 64));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_eq_sees_every_byte_at_every_length),
        cmocka_unit_test(test_hash_spreads_keys_that_differ_in_their_last_bytes),
        cmocka_unit_test(test_hash_depends_on_the_length),
        cmocka_unit_test(test_table_memory_is_zeroed_and_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
