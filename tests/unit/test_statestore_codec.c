/* Unit tests for the statestore encodings: order-preserving integers and
 * doubles (memcmp order equals numeric order, round trips exact), and msgpack
 * values packed and unpacked through msgpack-c with the reusable codec. */
#include "test_statestore_util.h"

static int cmp8(const uint8_t *a, const uint8_t *b) { return memcmp(a, b, 8); }

static void test_i64_encoding_orders_like_numbers_and_round_trips(void **state)
{
    int64_t v[] = {INT64_MIN, INT64_MIN + 1, -65536, -256, -255, -1, 0, 1, 255, 256, 65536, INT64_MAX - 1, INT64_MAX};
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++) {
        uint8_t a[8];
        sl_codec_put_i64(a, v[i]);
        assert_int_equal(sl_codec_get_i64(a), v[i]);
        for (size_t j = 0; j < n; j++) {
            uint8_t b[8];
            sl_codec_put_i64(b, v[j]);
            int c = cmp8(a, b);
            assert_true(i < j ? c < 0 : i > j ? c > 0 : c == 0);
        }
    }
}

static void test_f64_encoding_orders_like_numbers_and_nan_last(void **state)
{
    double v[] = {-1.0 / 0.0, -1e308, -2.0, -1.5, -1e-310, 0.0, 5e-324, 1.0, 1.5, 1e308, 1.0 / 0.0};
    size_t n = sizeof v / sizeof v[0];
    uint8_t nan[8];
    sl_codec_put_f64(nan, 0.0 / 0.0);
    for (size_t i = 0; i < n; i++) {
        uint8_t a[8];
        sl_codec_put_f64(a, v[i]);
        assert_true(sl_codec_get_f64(a) == v[i]);
        assert_true(cmp8(a, nan) < 0);
        if (i + 1 < n) {
            uint8_t b[8];
            sl_codec_put_f64(b, v[i + 1]);
            assert_true(cmp8(a, b) < 0);
        }
    }
    uint8_t neg0[8], pos0[8];
    sl_codec_put_f64(neg0, -0.0);
    sl_codec_put_f64(pos0, 0.0);
    assert_true(cmp8(neg0, pos0) < 0);
}

static void test_msgpack_integers_and_doubles_round_trip(void **state)
{
    sl_codec_t *c;
    assert_int_equal(sl_codec_new(&c), 0);
    sl_buf_t b;
    sl_buf_init(&b);
    int64_t ints[] = {0, 1, -1, 127, 128, -32, -33, 65535, -65536, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        sl_buf_reset(&b);
        assert_int_equal(sl_codec_pack_i64(&b, ints[i]), 0);
        int64_t back;
        assert_int_equal(sl_codec_unpack_i64(c, b.data, b.len, &back), 0);
        assert_int_equal(back, ints[i]);
        double d;
        assert_int_equal(sl_codec_unpack_f64(c, b.data, b.len, &d), 0);
        assert_true(d == (double)ints[i]);
    }
    sl_buf_reset(&b);
    assert_int_equal(sl_codec_pack_f64(&b, 2.5), 0);
    double d;
    int64_t i64;
    assert_int_equal(sl_codec_unpack_f64(c, b.data, b.len, &d), 0);
    assert_true(d == 2.5);
    assert_int_equal(sl_codec_unpack_i64(c, b.data, b.len, &i64), SL_S_ECORRUPT); /* not integral */
    sl_buf_reset(&b);
    assert_int_equal(sl_codec_pack_f64(&b, 42.0), 0);
    assert_int_equal(sl_codec_unpack_i64(c, b.data, b.len, &i64), 0);
    assert_int_equal(i64, 42);

    /* A map built with the packer, decoded as an object. */
    sl_buf_reset(&b);
    msgpack_packer pk;
    sl_codec_packer_init(&pk, &b);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "count", 5);
    msgpack_pack_int64(&pk, 7);
    msgpack_object o;
    assert_int_equal(sl_codec_decode(c, b.data, b.len, &o), 0);
    assert_int_equal(o.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(o.via.map.size, 1);
    assert_int_equal(o.via.map.ptr[0].val.via.u64, 7);
    assert_int_equal(sl_codec_unpack_i64(c, b.data, b.len, &i64), SL_S_ECORRUPT); /* a map is no integer */

    /* Truncated input and trailing bytes are both corrupt. */
    assert_int_equal(sl_codec_decode(c, b.data, b.len - 1, &o), SL_S_ECORRUPT);
    sl_buf_append(&b, "x", 1);
    assert_int_equal(sl_codec_decode(c, b.data, b.len, &o), SL_S_ECORRUPT);
    sl_buf_free(&b);
    sl_codec_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i64_encoding_orders_like_numbers_and_round_trips),
        cmocka_unit_test(test_f64_encoding_orders_like_numbers_and_nan_last),
        cmocka_unit_test(test_msgpack_integers_and_doubles_round_trip),
    };
    return cmocka_run_group_tests_name("statestore_codec", tests, NULL, NULL);
}
