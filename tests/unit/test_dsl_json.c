/* The DSL's JSON codec (dsl/value_json.c) against jansson, which it replaces
 * on the hot path and must match exactly: every text is decoded and encoded
 * again by both (ours: sl_value_from_json + sl_value_to_json; jansson:
 * json_loadb + json_dumpb with the flags the DSL used), and the outputs, or
 * the failures, must be the same.  Hand-picked edge cases, then random
 * documents (numbers of every magnitude, escapes, UTF-8, duplicate keys,
 * nesting, whitespace), then random doubles through the encoder. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dsl/value.h"

#define FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)

static long g_canonical; /* inputs found canonical (the check must not be vacuous) */

/* jansson's round trip: 0 and the text in out, or -1. */
static int jansson_round_trip(const char *in, size_t n, sl_buf_t *out)
{
    json_error_t e;
    json_t *j = json_loadb(in, n, JSON_DECODE_ANY, &e);
    if (!j)
        return -1;
    size_t len = json_dumpb(j, NULL, 0, FLAGS);
    int rc = -1;
    if (len && !sl_buf_reserve(out, len)) {
        out->len += json_dumpb(j, (char *)out->data + out->len, len, FLAGS);
        rc = 0;
    }
    json_decref(j);
    return rc;
}

static int ours_round_trip(const char *in, size_t n, sl_buf_t *out)
{
    char mem[4096];
    sl_arena_t a;
    sl_arena_init(&a, mem, sizeof mem);
    sl_value_t v;
    sl_err_t err = {0};
    int rc = sl_value_from_json(&a, in, n, &v, &err);
    if (rc == 0)
        rc = sl_value_to_json(&v, out, &err);
    sl_arena_free(&a);
    return rc ? -1 : 0;
}

static void same(const char *in, size_t n)
{
    sl_buf_t a, b;
    sl_buf_init(&a);
    sl_buf_init(&b);
    int ra = ours_round_trip(in, n, &a), rb = jansson_round_trip(in, n, &b);
    if (ra != rb || a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
        fail_msg("input %.*s\n  ours    (%d): %.*s\n  jansson (%d): %.*s", (int)n, in, ra, (int)a.len,
                 (const char *)a.data, rb, (int)b.len, (const char *)b.data);
    /* canonical text passes through the DSL unchanged: it must be exactly what the round trip writes */
    if (sl_json_is_canonical(in, n)) {
        g_canonical++;
        if (rb != 0 || b.len != n || memcmp(b.data, in, n))
            fail_msg("canonical input %.*s, but jansson's round trip gives %.*s", (int)n, in, (int)b.len,
                     (const char *)b.data);
    }
    sl_buf_free(&a);
    sl_buf_free(&b);
}

static void test_edge_cases_match_jansson(void **state)
{
    (void)state;
    static const char *cases[] = {
        "null", "true", "false", "0", "-0", "1", "-1", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "123456789012345678901234567890", "0.5", "-0.0", "1e3",
        "1E+3", "1e-7", "2.5e-308", "1e308", "1e309", "-1e309", "0.1", "1.0", "100.0", "3.141592653589793",
        "1.7976931348623157e308", "5e-324", "012", "01.5", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN",
        "Infinity", "\"\"", "\"abc\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20ac\"",
        "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"\\u0000\"", "\"\\u001f\"",
        "\"\\x41\"", "\"\\u12\"", "\"\xc3\xa9\"", "\"\xe2\x82\xac\"", "\"\xf0\x9f\x98\x80\"", "\"\xc3\"",
        "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"", "\"tab\there\"", "\"\x01\"",
        "\"\x7f\"", "[]", "{}", "[1,2,3]", "[1,]", "[,1]", "[1 2]", "{\"a\":1}", "{\"a\":1,}", "{a:1}",
        "{\"a\" 1}", "{\"a\":1,\"b\":[true,null,{\"c\":\"d\"}]}", "{\"a\":1,\"a\":2}", "{\"a\":1,\"b\":2,\"a\":3}",
        "{\"\":0}", "{\"\\u0000\":1}", " \t\r\n[ 1 , { \"x\" : [ ] } ] \n", "[1] x", "", " ", "[", "{", "\"abc",
        "[[[[[[[[[[1]]]]]]]]]]", "{\"k\":\"\\\"quoted\\\"\",\"n\":-12.5e-3}", "tru", "nul", "falsey",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        same(cases[i], strlen(cases[i]));
    /* deep nesting up to the DSL's depth limit (256) matches; past it, a clean
     * error (the DSL had that limit before too); then a wide object past the
     * fast path's 64 members */
    char deep[2000];
    for (int d = 250; d <= 300; d += 2) {
        size_t n = 0;
        for (int k = 0; k < d; k++)
            deep[n++] = '[';
        deep[n++] = '1';
        for (int k = 0; k < d; k++)
            deep[n++] = ']';
        if (d <= 256) {
            same(deep, n);
        } else {
            sl_buf_t o;
            sl_buf_init(&o);
            assert_int_equal(ours_round_trip(deep, n, &o), -1);
            sl_buf_free(&o);
        }
    }
    sl_buf_t wide;
    sl_buf_init(&wide);
    sl_buf_append(&wide, "{", 1);
    for (int k = 0; k < 100; k++) {
        char m[32];
        int n = snprintf(m, sizeof m, "%s\"k%d\":%d", k ? "," : "", k % 90, k);
        sl_buf_append(&wide, m, (size_t)n);
    }
    sl_buf_append(&wide, "}", 1);
    same((const char *)wide.data, wide.len);
    sl_buf_free(&wide);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void gen(sl_buf_t *b, int depth)
{
    static const char *ws[] = {"", " ", "\n", "\t ", "\r\n"};
    const char *w = ws[next() % 5];
    sl_buf_append(b, w, strlen(w));
    int kind = (int)(next() % (depth > 4 ? 6 : 8));
    char t[64];
    int n;
    switch (kind) {
    case 0: sl_buf_append(b, "null", 4); break;
    case 1: sl_buf_append(b, next() % 2 ? "true" : "false", next() % 2 ? 4 : 5); break;
    case 2: /* integers of every magnitude */
        n = snprintf(t, sizeof t, "%lld", (long long)(next() >> (next() % 64)) * (next() % 2 ? 1 : -1));
        sl_buf_append(b, t, (size_t)n);
        break;
    case 3: { /* doubles from random bits and from short decimals */
        double d;
        uint64_t bits = next();
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d) || next() % 2)
            d = (double)(int64_t)(next() % 2000001 - 1000000) / (double)(1 + next() % 1000);
        n = snprintf(t, sizeof t, next() % 2 ? "%.17g" : "%g", d);
        sl_buf_append(b, t, (size_t)n);
        break;
    }
    case 4:
    case 5: { /* strings: plain, escapes, \u escapes, raw UTF-8 */
        static const char *parts[] = {"a", "xyz", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u00e9", "\\u20AC",
                                      "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "\\u001F"};
        sl_buf_append(b, "\"", 1);
        for (int k = (int)(next() % 6); k > 0; k--) {
            const char *p = parts[next() % 15];
            sl_buf_append(b, p, strlen(p));
        }
        sl_buf_append(b, "\"", 1);
        break;
    }
    case 6: {
        sl_buf_append(b, "[", 1);
        for (int k = (int)(next() % 5), f = 1; k > 0; k--, f = 0) {
            if (!f)
                sl_buf_append(b, ",", 1);
            gen(b, depth + 1);
        }
        sl_buf_append(b, "]", 1);
        break;
    }
    default: {
        sl_buf_append(b, "{", 1);
        for (int k = (int)(next() % 6), f = 1; k > 0; k--, f = 0) {
            n = snprintf(t, sizeof t, "%s\"k%d\":", f ? "" : ",", (int)(next() % 5)); /* repeats on purpose */
            sl_buf_append(b, t, (size_t)n);
            gen(b, depth + 1);
        }
        sl_buf_append(b, "}", 1);
        break;
    }
    }
}

static void test_random_documents_match_jansson(void **state)
{
    (void)state;
    sl_buf_t b;
    sl_buf_init(&b);
    for (int i = 0; i < 20000; i++) {
        sl_buf_reset(&b);
        gen(&b, 0);
        same((const char *)b.data, b.len);
    }
    /* compact documents too, so that many are canonical: jansson's own output of random ones */
    long before = g_canonical;
    for (int i = 0; i < 5000; i++) {
        sl_buf_reset(&b);
        gen(&b, 0);
        sl_buf_t c;
        sl_buf_init(&c);
        if (jansson_round_trip((const char *)b.data, b.len, &c) == 0)
            same((const char *)c.data, c.len);
        sl_buf_free(&c);
    }
    assert_true(g_canonical - before > 1000);
    sl_buf_free(&b);
}

static void test_doubles_encode_like_jansson(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        double d;
        uint64_t bits = next();
        memcpy(&d, &bits, sizeof d);
        if (i % 3 == 0)
            d = (double)(int64_t)(next() % 20000001 - 10000000) * pow(10.0, (double)(int)(next() % 40) - 20);
        sl_value_t v = sl_v_float(d);
        sl_buf_t a, b;
        sl_buf_init(&a);
        sl_buf_init(&b);
        sl_err_t err = {0};
        assert_int_equal(sl_value_to_json(&v, &a, &err), 0);
        json_t *j = isfinite(d) ? json_real(d) : json_null();
        size_t n = json_dumpb(j, NULL, 0, FLAGS);
        sl_buf_reserve(&b, n);
        b.len += json_dumpb(j, (char *)b.data, n, FLAGS);
        json_decref(j);
        if (a.len != b.len || memcmp(a.data, b.data, a.len))
            fail_msg("%.17g: ours %.*s, jansson %.*s", d, (int)a.len, (const char *)a.data, (int)b.len,
                     (const char *)b.data);
        sl_buf_free(&a);
        sl_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases_match_jansson),
        cmocka_unit_test(test_random_documents_match_jansson),
        cmocka_unit_test(test_doubles_encode_like_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
