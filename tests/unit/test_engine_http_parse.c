/* Unit tests for the HTTP query server's parsers (engine/http_parse.c) and
 * JSON output (engine/http_json.c): percent-decoding, query parameters,
 * times in epoch ms and ISO-8601, integers, booleans, continuation tokens
 * (round trips and refusals of tampered ones), and JSON text that stays valid
 * whatever bytes a key or value holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/http.h"

static void assert_buf_str(const sl_buf_t *b, const char *want)
{
    assert_int_equal(b->len, strlen(want));
    assert_memory_equal(b->data, want, b->len);
}

static void test_pct_decode_decodes_escapes_and_plus_only_in_queries(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b);
    assert_int_equal(http_pct_decode("a%2Fb%20c+d", 11, false, &b), 0);
    assert_buf_str(&b, "a/b c+d");
    assert_int_equal(http_pct_decode("a%2fb+c", 7, true, &b), 0);
    assert_buf_str(&b, "a/b c");
    assert_int_equal(http_pct_decode("%00x", 4, false, &b), 0);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.data[0], 0);
    assert_int_equal(http_pct_decode("", 0, false, &b), 0);
    assert_int_equal(b.len, 0);
    sl_buf_free(&b);
}

static void test_pct_decode_refuses_malformed_escapes(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b);
    assert_int_equal(http_pct_decode("%", 1, false, &b), -1);
    assert_int_equal(http_pct_decode("ab%4", 4, false, &b), -1);
    assert_int_equal(http_pct_decode("%zz", 3, false, &b), -1);
    assert_int_equal(http_pct_decode("%4g", 3, true, &b), -1);
    sl_buf_free(&b);
}

static void test_query_get_finds_decoded_names_and_values(void **state)
{
    (void)state;
    const char *s = "from=a%26b&&limit=10&flag&to=&pre%66ix=x+y&limit=20";
    http_query_t q = {s, strlen(s)};
    sl_buf_t v;
    sl_buf_init(&v);
    assert_int_equal(http_query_get(&q, "from", &v), 1);
    assert_buf_str(&v, "a&b");
    assert_int_equal(http_query_get(&q, "limit", &v), 1); /* the first occurrence */
    assert_buf_str(&v, "10");
    assert_int_equal(http_query_get(&q, "flag", &v), 1);
    assert_int_equal(v.len, 0);
    assert_int_equal(http_query_get(&q, "to", &v), 1);
    assert_int_equal(v.len, 0);
    assert_int_equal(http_query_get(&q, "prefix", &v), 1);
    assert_buf_str(&v, "x y");
    assert_int_equal(http_query_get(&q, "reverse", &v), 0);
    http_query_t bad = {"a=%zz", 5};
    assert_int_equal(http_query_get(&bad, "a", &v), -1);
    http_query_t empty = {"", 0};
    assert_int_equal(http_query_get(&empty, "a", &v), 0);
    sl_buf_free(&v);
}

static void test_query_check_names_the_first_unknown_parameter(void **state)
{
    (void)state;
    static const char *const allowed[] = {"from", "to", "limit"};
    char bad[80];
    http_query_t ok = {"from=a&to=b&limit=3", 19};
    assert_int_equal(http_query_check(&ok, allowed, 3, bad, sizeof bad), 0);
    http_query_t unknown = {"from=a&colour=red", 17};
    assert_int_equal(http_query_check(&unknown, allowed, 3, bad, sizeof bad), -1);
    assert_string_equal(bad, "colour");
    http_query_t malformed = {"from=%x", 7};
    assert_int_equal(http_query_check(&malformed, allowed, 3, bad, sizeof bad), -1);
    http_query_t none = {"limit=1", 7};
    assert_int_equal(http_query_check(&none, allowed, 0, bad, sizeof bad), -1);
}

static int64_t time_of(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(http_parse_time(s, strlen(s), &ms), 0);
    return ms;
}

static void test_parse_time_reads_epoch_ms_and_iso8601(void **state)
{
    (void)state;
    assert_int_equal(time_of("0"), 0);
    assert_int_equal(time_of("1795600800000"), 1795600800000LL);
    assert_int_equal(time_of("-5"), -5);
    assert_int_equal(time_of("1970-01-01"), 0);
    assert_int_equal(time_of("2026-11-25T15:00:00Z"), 1795618800000LL);
    assert_int_equal(time_of("2026-11-25 15:00:00Z"), 1795618800000LL);
    assert_int_equal(time_of("2026-11-25T15:00Z"), 1795618800000LL);
    assert_int_equal(time_of("2026-11-25T15:00:00"), 1795618800000LL); /* no zone: UTC */
    assert_int_equal(time_of("2026-11-25T15:00:00.5Z"), 1795618800500LL);
    assert_int_equal(time_of("2026-11-25T15:00:00.123456Z"), 1795618800123LL);
    assert_int_equal(time_of("2026-11-25T16:30:00+01:30"), 1795618800000LL);
    assert_int_equal(time_of("2026-11-25T10:00:00-0500"), 1795618800000LL);
    assert_int_equal(time_of("2024-02-29T00:00:00Z"), 1709164800000LL);
    assert_int_equal(time_of("1969-12-31T23:59:59Z"), -1000);
}

static void test_parse_time_refuses_invalid_dates_and_trailing_text(void **state)
{
    (void)state;
    const char *bad[] = {"", "yesterday", "2026-13-01", "2026-02-30", "2023-02-29", "2026-11-25T24:00Z",
                         "2026-11-25T15:60Z", "2026-11-25T15:00:00ZZ", "2026-11-25T15", "2026-11-25X",
                         "2026-11-25T15:00:00.Z", "2026-11-25T15:00+25:00", "12a", "99999999999999999999",
                         "2026-1-01", "+"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t ms;
        if (http_parse_time(bad[i], strlen(bad[i]), &ms) != -1)
            fail_msg("accepted '%s'", bad[i]);
    }
}

static void test_parse_int_and_bool_check_ranges(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(http_parse_int("100", 3, 1, 10000, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(http_parse_int("0", 1, 1, 10000, &v), -1);
    assert_int_equal(http_parse_int("10001", 5, 1, 10000, &v), -1);
    assert_int_equal(http_parse_int("", 0, 1, 10, &v), -1);
    assert_int_equal(http_parse_int("-", 1, -10, 10, &v), -1);
    assert_int_equal(http_parse_int("1e3", 3, 1, 10000, &v), -1);
    assert_int_equal(http_parse_int("9223372036854775807", 19, INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(http_parse_int("-9223372036854775808", 20, INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(http_parse_int("9223372036854775808", 19, INT64_MIN, INT64_MAX, &v), -1);
    bool b;
    assert_int_equal(http_parse_bool("true", 4, &b), 0);
    assert_true(b);
    assert_int_equal(http_parse_bool("0", 1, &b), 0);
    assert_false(b);
    assert_int_equal(http_parse_bool("yes", 3, &b), -1);
}

static void test_token_round_trips_key_times_and_direction(void **state)
{
    (void)state;
    uint8_t key[SL_STORE_MAX_KEY];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7);
    size_t lens[] = {0, 1, 2, 3, 4, 100, SL_STORE_MAX_KEY};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        http_token_t t = {.reverse = k % 2, .t1 = -1795600800000LL + (int64_t)k, .t2 = INT64_MAX, .key = key,
                          .key_len = lens[k]};
        sl_buf_t enc, dec;
        sl_buf_init(&enc);
        sl_buf_init(&dec);
        assert_int_equal(http_token_encode(&t, &enc), 0);
        for (size_t i = 0; i < enc.len; i++) /* URL-safe as it is */
            assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", enc.data[i]));
        http_token_t back;
        assert_int_equal(http_token_decode((const char *)enc.data, enc.len, &dec, &back), 0);
        assert_int_equal(back.reverse, t.reverse);
        assert_true(back.t1 == t.t1 && back.t2 == t.t2);
        assert_int_equal(back.key_len, t.key_len);
        if (t.key_len)
            assert_memory_equal(back.key, key, t.key_len);
        sl_buf_free(&enc);
        sl_buf_free(&dec);
    }
    http_token_t too_long = {.key = key, .key_len = SL_STORE_MAX_KEY + 1};
    sl_buf_t enc;
    sl_buf_init(&enc);
    assert_int_equal(http_token_encode(&too_long, &enc), -1);
    sl_buf_free(&enc);
}

static void test_token_decode_refuses_tampered_tokens(void **state)
{
    (void)state;
    sl_buf_t enc, dec;
    sl_buf_init(&enc);
    sl_buf_init(&dec);
    http_token_t t = {.key = (const uint8_t *)"alice", .key_len = 5}, back;
    assert_int_equal(http_token_encode(&t, &enc), 0);
    const char *s = (const char *)enc.data;
    const char *bad[] = {"", "A", "notatoken", "AQ", "AgAAAAAAAAAAAAAAAAAAAAAA", "AQIAAAAAAAAAAAAAAAAAAAAA",
                         "AQAAAAAAAAAAAAAAAAAAAA=="};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (http_token_decode(bad[i], strlen(bad[i]), &dec, &back) != -1)
            fail_msg("accepted token '%s'", bad[i]);
    /* A changed character either fails or decodes to another token, never crashes. */
    for (size_t i = 0; i < enc.len; i++) {
        char copy[128];
        memcpy(copy, s, enc.len);
        copy[i] = copy[i] == 'A' ? '_' : 'A';
        (void)http_token_decode(copy, enc.len, &dec, &back);
    }
    sl_buf_free(&enc);
    sl_buf_free(&dec);
}

static void test_json_str_escapes_and_keeps_output_valid_for_any_bytes(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b);
    assert_int_equal(http_json_str(&b, "a\"b\\c\n\x01", 7), 0);
    assert_buf_str(&b, "\"a\\\"b\\\\c\\n\\u0001\"");
    sl_buf_reset(&b);
    assert_int_equal(http_json_str(&b, "caf\xc3\xa9 \xe2\x82\xac", 9), 0); /* UTF-8 kept */
    assert_buf_str(&b, "\"caf\xc3\xa9 \xe2\x82\xac\"");
    sl_buf_reset(&b);
    assert_int_equal(http_json_str(&b, "\xff\xc3(\xed\xa0\x80", 6), 0); /* invalid UTF-8, a surrogate */
    assert_buf_str(&b, "\"\\u00ff\\u00c3(\\u00ed\\u00a0\\u0080\"");
    sl_buf_free(&b);
}

static void test_json_msgpack_renders_values_and_hides_internal_members(void **state)
{
    (void)state;
    sl_buf_t mp, out;
    sl_buf_init(&mp);
    sl_buf_init(&out);
    msgpack_packer pk;
    sl_codec_packer_init(&pk, &mp);
    msgpack_pack_map(&pk, 5);
    msgpack_pack_str_with_body(&pk, "views", 5);
    msgpack_pack_int64(&pk, -3);
    msgpack_pack_str_with_body(&pk, "$avg:x", 6);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_str_with_body(&pk, "avg", 3);
    msgpack_pack_double(&pk, 2.0);
    msgpack_pack_int64(&pk, 7); /* a non-string key */
    msgpack_pack_array(&pk, 3);
    msgpack_pack_nil(&pk);
    msgpack_pack_true(&pk);
    msgpack_pack_double(&pk, 0.1);
    msgpack_pack_str_with_body(&pk, "nan", 3);
    msgpack_pack_double(&pk, 0.0 / 0.0);
    sl_codec_t *c;
    assert_int_equal(sl_codec_new(&c), 0);
    assert_int_equal(http_json_value(&out, c, false, mp.data, mp.len), 0);
    assert_buf_str(&out, "{\"views\":-3,\"avg\":2.0,\"7\":[null,true,0.1],\"nan\":null}");
    /* Raw record bytes: JSON text embedded, anything else as a string. */
    sl_buf_reset(&out);
    assert_int_equal(http_json_value(&out, c, true, (const uint8_t *)"{\"a\": [1, 2]}", 13), 0);
    assert_buf_str(&out, "{\"a\":[1,2]}");
    sl_buf_reset(&out);
    assert_int_equal(http_json_value(&out, c, true, (const uint8_t *)"plain text", 10), 0);
    assert_buf_str(&out, "\"plain text\"");
    /* Not one msgpack object: a string, never a crash. */
    sl_buf_reset(&out);
    assert_int_equal(http_json_value(&out, c, false, mp.data, mp.len - 1), 0);
    assert_true(out.len > 0 && out.data[0] == '"');
    sl_codec_free(c);
    sl_buf_free(&mp);
    sl_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pct_decode_decodes_escapes_and_plus_only_in_queries),
        cmocka_unit_test(test_pct_decode_refuses_malformed_escapes),
        cmocka_unit_test(test_query_get_finds_decoded_names_and_values),
        cmocka_unit_test(test_query_check_names_the_first_unknown_parameter),
        cmocka_unit_test(test_parse_time_reads_epoch_ms_and_iso8601),
        cmocka_unit_test(test_parse_time_refuses_invalid_dates_and_trailing_text),
        cmocka_unit_test(test_parse_int_and_bool_check_ranges),
        cmocka_unit_test(test_token_round_trips_key_times_and_direction),
        cmocka_unit_test(test_token_decode_refuses_tampered_tokens),
        cmocka_unit_test(test_json_str_escapes_and_keeps_output_valid_for_any_bytes),
        cmocka_unit_test(test_json_msgpack_renders_values_and_hides_internal_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
