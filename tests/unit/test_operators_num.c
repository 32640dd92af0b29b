/* sl_num_from_msgpack, the aggregations' fast path for stored and incoming
 * numbers, against msgpack-c's own packer and unpacker: every integer width
 * and sign at its boundaries, floats, and anything else refused. */
#include <float.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "operators/op.h"

static int write_buf(void *data, const char *p, size_t n) { return sl_buf_append(data, p, n); }

/* Pack with msgpack-c (which picks the smallest encoding), parse both ways. */
static void check_same(sl_buf_t *b)
{
    msgpack_zone z;
    msgpack_zone_init(&z, 256);
    msgpack_object o;
    size_t off = 0;
    assert_int_equal(msgpack_unpack((const char *)b->data, b->len, &off, &z, &o), MSGPACK_UNPACK_SUCCESS);
    sl_num_t want, got;
    assert_int_equal(sl_num_from_object(&o, &want), 0);
    assert_int_equal(sl_num_from_msgpack(b->data, b->len, &got), 0);
    assert_int_equal(got.is_float, want.is_float);
    if (want.is_float)
        assert_memory_equal(&got.f, &want.f, sizeof got.f);
    else
        assert_int_equal(got.i, want.i);
    msgpack_zone_destroy(&z);
}

static void test_integers_at_every_width(void **state)
{
    (void)state;
    const int64_t signed_v[] = {0, 1, -1, 127, 128, -32, -33, 255, 256, -128, -129, 65535, 65536, -32768, -32769,
                                INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN, (int64_t)INT32_MIN - 1,
                                (int64_t)UINT32_MAX + 1, INT64_MAX, INT64_MIN, 1234567890123LL};
    for (size_t i = 0; i < sizeof signed_v / sizeof *signed_v; i++) {
        sl_buf_t b;
        sl_buf_init(&b);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &b, write_buf);
        assert_int_equal(msgpack_pack_int64(&pk, signed_v[i]), 0);
        check_same(&b);
        sl_buf_reset(&b); /* the fixed-width encodings too */
        assert_int_equal(msgpack_pack_fix_int64(&pk, signed_v[i]), 0);
        check_same(&b);
        sl_buf_free(&b);
    }
    const uint64_t unsigned_v[] = {0, 200, 60000, UINT32_MAX, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof unsigned_v / sizeof *unsigned_v; i++) {
        sl_buf_t b;
        sl_buf_init(&b);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &b, write_buf);
        assert_int_equal(msgpack_pack_uint64(&pk, unsigned_v[i]), 0);
        check_same(&b); /* above INT64_MAX: a float, as sl_num_from_object says */
        sl_buf_reset(&b);
        assert_int_equal(msgpack_pack_fix_uint64(&pk, unsigned_v[i]), 0);
        check_same(&b);
        sl_buf_free(&b);
    }
}

static void test_floats(void **state)
{
    (void)state;
    const double v[] = {0.0, -0.0, 1.5, -2.25, DBL_MAX, DBL_MIN, 1e300};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        sl_buf_t b;
        sl_buf_init(&b);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &b, write_buf);
        assert_int_equal(msgpack_pack_double(&pk, v[i]), 0);
        check_same(&b);
        sl_buf_reset(&b);
        assert_int_equal(msgpack_pack_float(&pk, (float)v[i]), 0);
        check_same(&b);
        sl_buf_free(&b);
    }
}

static void test_anything_else_is_refused(void **state)
{
    (void)state;
    sl_num_t n;
    const uint8_t str[] = {0xa1, 'x'}, nil[] = {0xc0}, map[] = {0x80}, truncated[] = {0xcd, 0x01},
                  trailing[] = {0x05, 0x00}, long_i32[] = {0xd2, 0, 0, 0, 1, 9};
    assert_int_equal(sl_num_from_msgpack(str, sizeof str, &n), -1);
    assert_int_equal(sl_num_from_msgpack(nil, sizeof nil, &n), -1);
    assert_int_equal(sl_num_from_msgpack(map, sizeof map, &n), -1);
    assert_int_equal(sl_num_from_msgpack(truncated, sizeof truncated, &n), -1);
    assert_int_equal(sl_num_from_msgpack(trailing, sizeof trailing, &n), -1);
    assert_int_equal(sl_num_from_msgpack(long_i32, sizeof long_i32, &n), -1);
    assert_int_equal(sl_num_from_msgpack(str, 0, &n), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_at_every_width),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_anything_else_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
