/* The DSL expression evaluator over JSON values (sl_dsl_eval_json): int/float
 * arithmetic and promotion, division by zero as an error, comparisons, and /
 * or / not, in, if(), string, math and time functions, field paths into nested
 * JSON, and runtime errors (type errors, missing fields) returned, not fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dsl/dsl.h"

static const char *doc = "{\"user\":{\"name\":\"Ann\",\"tags\":[\"a\",\"b\",\"c\"],\"age\":41},"
                         "\"n\":7,\"x\":2.5,\"s\":\"Hello World\",\"z\":0,\"nil\":null}";

static void expect(const char *expr, const char *want)
{
    sl_buf_t out;
    sl_buf_init(&out);
    sl_err_t err = {0};
    int rc = sl_dsl_eval_json(expr, doc, "k1", &out, &err);
    if (rc)
        fail_msg("%s: rc %d: %s", expr, rc, err.msg);
    if (out.len != strlen(want) || memcmp(out.data, want, out.len))
        fail_msg("%s: got %.*s, want %s", expr, (int)out.len, (const char *)out.data, want);
    sl_buf_free(&out);
}

static void expect_fail(const char *expr, int want_rc, const char *want_msg)
{
    sl_buf_t out;
    sl_buf_init(&out);
    sl_err_t err = {0};
    int rc = sl_dsl_eval_json(expr, doc, NULL, &out, &err);
    if (rc != want_rc || !strstr(err.msg, want_msg))
        fail_msg("%s: rc %d msg '%s', want rc %d with '%s'", expr, rc, err.msg, want_rc, want_msg);
    sl_buf_free(&out);
}

static void test_arithmetic_promotes_int_to_float(void **state)
{
    expect("1 + 2 * 3", "7");
    expect("(1 + 2) * 3", "9");
    expect("n - 10", "-3");
    expect("n + x", "9.5");
    expect("n * 2.0", "14.0");
    expect("8 / 2", "4");
    expect("7 / 2", "3.5");
    expect("7 % 3", "1");
    expect("-n", "-7");
    expect("9223372036854775807 + 1", "9.2233720368547758e18");
    expect("\"ab\" + \"cd\"", "\"abcd\"");
    expect("nil + 1", "null");
}

static void test_division_by_zero_is_an_error(void **state)
{
    expect_fail("n / z", -5, "1:3: division by zero");
    expect_fail("n % 0", -5, "division by zero");
    expect_fail("x / 0.0", -5, "division by zero");
}

static void test_comparisons_and_logic(void **state)
{
    expect("n > 5 and x < 3", "true");
    expect("n == 7.0", "true");
    expect("n = 7", "true");
    expect("s != \"Hello World\"", "false");
    expect("\"abc\" < \"abd\"", "true");
    expect("not (n >= 8) or false", "true");
    expect("nil == null", "true");
    expect("n in (1, 7, 9)", "true");
    expect("\"d\" in user.tags", "false");
    expect("user.name in [\"Ann\", \"Bob\"]", "true");
    expect("false and 1 / 0 > 1", "false"); /* short circuit */
    expect_fail("n < \"a\"", -5, "cannot order int and string");
    expect_fail("n and true", -5, "'and' needs bools, got int");
}

static void test_field_paths_on_nested_json(void **state)
{
    expect("user.name", "\"Ann\"");
    expect("user.tags[1]", "\"b\"");
    expect("user.tags[-1]", "\"c\"");
    expect("value.user[\"age\"]", "41");
    expect("nil.anything", "null");
    expect("key", "\"k1\"");
    expect("{a: n, b: [x, s]}", "{\"a\":7,\"b\":[2.5,\"Hello World\"]}");
    expect_fail("user.email", -5, "field 'email' not found");
    expect_fail("missing", -5, "field 'missing' not found");
    expect_fail("user.tags[3]", -5, "index 3 out of range (array of 3)");
    expect_fail("s.x", -5, "cannot read field 'x' of string");
}

static void test_if_and_string_functions(void **state)
{
    expect("if(n > 5, \"big\", \"small\")", "\"big\"");
    expect("if(nil, 1, 2)", "2");
    expect("lower(s)", "\"hello world\"");
    expect("upper(user.name)", "\"ANN\"");
    expect("length(s)", "11");
    expect("length(\"h\\u00e9\")", "2");
    expect("length(user.tags)", "3");
    expect("concat(user.name, \"-\", n, \"-\", nil)", "\"Ann-7-\"");
    expect("substr(s, 6)", "\"World\"");
    expect("substr(s, 0, 5)", "\"Hello\"");
    expect("substr(s, -5, 2)", "\"Wo\"");
    expect("split(\"a,b,,c\", \",\")", "[\"a\",\"b\",\"\",\"c\"]");
    expect("split(lower(s), \" \")", "[\"hello\",\"world\"]");
    expect("contains(s, \"lo W\")", "true");
    expect("contains(user.tags, \"b\")", "true");
    expect("starts_with(s, \"Hell\")", "true");
    expect("ends_with(s, \"x\")", "false");
    expect("trim(\"  a b \")", "\"a b\"");
    expect("coalesce(nil, n)", "7");
    expect("string(n)", "\"7\"");
    expect_fail("lower(n)", -5, "lower() argument 1: expected string, got int");
}

static void test_math_functions(void **state)
{
    expect("abs(-3)", "3");
    expect("abs(-2.5)", "2.5");
    expect("round(2.5)", "3");
    expect("round(-2.5)", "-3");
    expect("floor(x)", "2");
    expect("ceil(x)", "3");
    expect("floor(n)", "7");
}

static void test_time_functions(void **state)
{
    expect("parse_time(\"1970-01-01T00:00:00Z\")", "0");
    expect("parse_time(\"2026-11-25T14:05:00Z\")", "1795615500000");
    expect("parse_time(\"2026-11-25T15:05:00.250+01:00\")", "1795615500250");
    expect("parse_time(\"2000-02-29\")", "951782400000");
    expect("format_time(1795615500250)", "\"2026-11-25T14:05:00.250Z\"");
    expect("format_time(-1)", "\"1969-12-31T23:59:59.999Z\"");
    expect("format_time(parse_time(\"1999-12-31T23:59:59Z\") + 1000)", "\"2000-01-01T00:00:00.000Z\"");
    expect_fail("parse_time(\"yesterday\")", -5, "is not an ISO-8601 time");
}

static void test_syntax_errors_in_expressions(void **state)
{
    expect_fail("1 +", -1, "<expr>:1:4: error: expected an expression, found end of file");
    expect_fail("nope(1)", -1, "unknown function 'nope'");
    expect_fail("sum(n)", -1, "aggregate function 'sum' is only allowed inside aggregate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arithmetic_promotes_int_to_float),
        cmocka_unit_test(test_division_by_zero_is_an_error),
        cmocka_unit_test(test_comparisons_and_logic),
        cmocka_unit_test(test_field_paths_on_nested_json),
        cmocka_unit_test(test_if_and_string_functions),
        cmocka_unit_test(test_math_functions),
        cmocka_unit_test(test_time_functions),
        cmocka_unit_test(test_syntax_errors_in_expressions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
