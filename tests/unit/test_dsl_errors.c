/* DSL errors: a table of bad jobs, each with the exact line:col and message of
 * its first error (lexical, syntax, names, plan rules); the full report format
 * (path:line:col: error: message, source line, caret); several errors in one
 * run; and compile refusing to plan anything while errors remain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "dsl/dsl.h"

#define SRC "stream a from topic \"a\" format json;\n"
#define TSRC SRC "table u from topic \"u\" format json;\n"

typedef struct bad {
    const char *src;
    int line, col;
    const char *msg;
} bad_t;

static const bad_t cases[] = {
    {"stream lines from topic \"text-lines format string;\n", 1, 25, "unterminated string"},
    {SRC "stream b = a | filter x !! 1;\n", 2, 25, "unknown operator '!'"},
    {SRC "stream b = a | filter x & 1;\n", 2, 25, "unknown operator '&'"},
    {SRC "stream b = a | filter x > 1\nstream c = a;\n", 2, 28, "expected ';' at the end of the statement"},
    {SRC "stream b = a | filter x > 1 stream;\n", 2, 29, "expected ';' or '|', found 'stream'"},
    {SRC "table d = a | window tumbling 1 minute | count;\n", 2, 15, "window needs a group by before it"},
    {SRC "table e = nope | group by x | count;\n", 2, 11, "unknown stream or table 'nope'"},
    {SRC "stream f = a | filter count() > 1;\n", 2, 23,
     "aggregate function 'count' is only allowed inside aggregate { ... }"},
    {SRC "stream g = a | filter frob(x);\n", 2, 23, "unknown function 'frob'"},
    /* fuzz finding: the lexer used to return this error without consuming the number (endless loop) */
    {SRC "stream b = a | filter x > 1111111111111111111111111111111111111111111111111111111111111111111111;\n", 2, 27,
     "number too long"},
    {SRC "stream g = a | filter lowr(x) = \"a\";\n", 2, 23, "unknown function 'lowr' (did you mean 'lower'?)"},
    {SRC "stream h = a | filter lower(x, y);\n", 2, 23, "function 'lower' takes 1 argument, got 2"},
    {SRC "stream h = a | filter substr(x);\n", 2, 23, "function 'substr' takes 2 to 3 arguments, got 1"},
    {SRC "stream a = a;\n", 2, 8, "duplicate name 'a' (first declared at line 1)"},
    {SRC "table t = a | count;\n", 2, 15, "an aggregation needs a group by before it"},
    {SRC "table t = a | group by x | filter y;\n", 2, 28, "a group by must be followed by a window or an aggregation"},
    {SRC "table t = a | group by x | count | emit final;\n", 2, 36, "emit needs a window before it"},
    {SRC "table t = a | filter x;\n", 2, 7,
     "'t' is declared as a table but its pipeline yields a stream (end it with an aggregation, or declare it with "
     "'stream')"},
    {SRC "stream t = a | map { b: x } | filter c > 1;\n", 2, 38, "unknown field 'c' (the records here have: b)"},
    {SRC "table t = a | group by x | aggregate { n: count(), m: y };\n", 2, 55,
     "'m' must be an aggregate function (count, sum, min, max, avg, count_distinct, first, last, top, bottom, argmax, "
     "argmin)"},
    {SRC "table u from topic \"u\";\nstream t = a | join u on a.x = u.key;\n", 3, 26,
     "a join compares keys: the left side must be the key of 'a' (a.key)"},
    {SRC "stream t = a | join a on a.key = a.key;\n", 2, 16, "a join of two streams needs 'within D'"},
    {SRC "table t = a | group by x | window tumbling 1 fortnight | count;\n", 2, 46,
     "expected a time unit (ms, seconds, minutes, hours, days), found 'fortnight'"},
    {SRC "stream b = a | fliter x;\n", 2, 16,
     "unknown pipeline step 'fliter' (expected filter, map, flat_map, select_key, branch, merge, group by, window, "
     "count, sum, min, max, avg, aggregate, top, emit, join, ttl)"},
    {SRC "output nope to topic \"x\";\n", 2, 8, "unknown stream or table 'nope'"},
    {"stream a from topic \"a\" format yaml;\n", 1, 32, "unknown format 'yaml' (expected json, string, bytes or msgpack)"},
    {SRC "stream b = a | filter 1 < 2 < 3;\n", 2, 29, "comparisons do not chain; use 'and'"},
    {SRC "stream b = a | ttl 1 hour;\n", 2, 16,
     "ttl follows an aggregation (a table source takes it as an option: table t from topic \"t\" ttl 1 day)"},
    {SRC "table b = a | group by x | window tumbling 1 minute | count | ttl 1 hour;\n", 2, 63,
     "a windowed aggregation takes no ttl: its windows expire after size + grace"},
    {"stream a from topic \"a\" format json ttl 1 day;\n", 1, 37,
     "ttl applies to a table source, not a stream (a stream keeps no state)"},
    /* grouped tables, top N, join bounds */
    {TSRC "table t = u | group by x | window tumbling 1 minute | count;\n", 3, 28,
     "a grouped table cannot be windowed (its rows are not events); window the stream, or group by window_start of a "
     "windowed table"},
    {TSRC "table t = u | group by x | max y;\n", 3, 28,
     "'| max' cannot take back a changed row of a grouped table; use aggregate { max: max(x) }, which keeps the values"},
    {TSRC "table t = u | group by x | aggregate { n: count(), f: first(y) };\n", 3, 55,
     "first() has no meaning over a grouped table (a changed row is taken back and added again); use min, max, top "
     "or argmax"},
    {SRC "table t = a | group by x | aggregate { best: top(0, y) };\n", 2, 50,
     "top(n, by, value): n must be an integer from 1 to 10000"},
    {SRC "table t = a | group by x | top 3 y;\n", 2, 34, "expected 'by', found 'y'"},
    {SRC "table t = a | group by x | top many by y;\n", 2, 32,
     "expected how many rows to keep (1 to 10000) after 'top', found 'many'"},
    {SRC "table t = a | group by x | aggregate { b: argmax() };\n", 2, 43, "function 'argmax' takes 1 to 2 arguments, got 0"},
    {SRC "stream t = a | join a on a.key = a.key grace 1 minute;\n", 2, 40,
     "'grace' belongs to a time bound: within D grace G"},
    {SRC "table w = a | group by x | window tumbling 1 minute | count;\nstream s = a | join w on key = w.key;\n", 3, 21,
     "'w' cannot be joined: a join reads a table source or the table of an aggregation without a window"},
    {TSRC "table t = u | join a on key = a.key within 1 minute;\n", 3, 15,
     "a table joins tables only; join the stream 'a' from its own pipeline"},
    {TSRC "table c = a | group by x | count;\ntable t = u | filter y | join c on key = c.key;\n", 4, 26,
     "a table-table join is the first step of a pipeline from a table source or an aggregation without a window"},
    {"# nothing but a comment\n", 1, 1, "the job has no statements (expected stream, table or output)"},
};

static void test_bad_jobs_report_exact_position_and_message(void **state)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_err_t err = {0};
        int rc = sl_dsl_check("job.sl", cases[i].src, NULL, &err);
        char want[600];
        snprintf(want, sizeof want, "job.sl:%d:%d: error: %s", cases[i].line, cases[i].col, cases[i].msg);
        if (rc != SL_E_INVAL || strcmp(err.msg, want) != 0)
            fail_msg("case %zu: rc %d\n got: %s\nwant: %s", i, rc, err.msg, want);
        assert_string_equal(err.file, "job.sl");
        assert_int_equal(err.line, cases[i].line);
        assert_int_equal(err.col, cases[i].col);
    }
}

static void test_report_shows_source_line_and_caret(void **state)
{
    sl_buf_t diag;
    sl_buf_init(&diag);
    sl_err_t err = {0};
    assert_int_equal(sl_dsl_check("wc.sl", "stream lines from topic \"t\" format string;\n"
                                           "table c = lnes | group by value | count;\n",
                                  &diag, &err),
                     SL_E_INVAL);
    sl_buf_append(&diag, "", 1);
    assert_string_equal((const char *)diag.data, "wc.sl:2:11: error: unknown stream or table 'lnes' (did you mean 'lines'?)\n"
                                                 "  table c = lnes | group by value | count;\n"
                                                 "            ^\n");
    sl_buf_free(&diag);
}

static void test_several_errors_are_reported_in_one_run(void **state)
{
    sl_buf_t diag;
    sl_buf_init(&diag);
    sl_err_t err = {0};
    const char *src = SRC "table d = a | window tumbling 1 minute | count;\n"
                          "stream f = a | filter frob(x);\n"
                          "stream h = a | filter lower(x, y);\n";
    assert_int_equal(sl_dsl_check("job.sl", src, &diag, &err), SL_E_INVAL);
    sl_buf_append(&diag, "", 1);
    const char *s = (const char *)diag.data;
    assert_non_null(strstr(s, "job.sl:2:15: error: window needs a group by"));
    assert_non_null(strstr(s, "job.sl:3:23: error: unknown function 'frob'"));
    assert_non_null(strstr(s, "job.sl:4:23: error: function 'lower' takes 1 argument, got 2"));
    assert_int_equal(err.line, 2);
    sl_buf_free(&diag);

    /* syntax errors: each statement resynchronises at ';' */
    sl_buf_init(&diag);
    src = SRC "stream b = a | filter x !! 1;\nstream c = a | bogus;\nstream d = a | filter (x;\n";
    assert_int_equal(sl_dsl_check("job.sl", src, &diag, &err), SL_E_INVAL);
    sl_buf_append(&diag, "", 1);
    s = (const char *)diag.data;
    assert_non_null(strstr(s, "job.sl:2:25: error: unknown operator '!'"));
    assert_non_null(strstr(s, "job.sl:3:16: error: unknown pipeline step 'bogus'"));
    assert_non_null(strstr(s, "job.sl:4:25: error: expected ')', found ';'"));
    sl_buf_free(&diag);
}

static void test_compile_plans_nothing_while_errors_remain(void **state)
{
    sl_dsl_job_t *job = (sl_dsl_job_t *)0x1;
    sl_err_t err = {0};
    assert_int_equal(sl_dsl_compile("job.sl", SRC "stream b = nope;\n", NULL, &job, &err), SL_E_INVAL);
    assert_ptr_equal(job, (sl_dsl_job_t *)0x1); /* untouched */
    assert_string_equal(err.msg, "job.sl:2:12: error: unknown stream or table 'nope'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_jobs_report_exact_position_and_message),
        cmocka_unit_test(test_report_shows_source_line_and_caret),
        cmocka_unit_test(test_several_errors_are_reported_in_one_run),
        cmocka_unit_test(test_compile_plans_nothing_while_errors_remain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
