/* The DSL lexer: token kinds and positions, numbers, strings with every JSON
 * escape (\u with surrogate pairs), comments of both kinds, two-character
 * operators, and lexical errors with their exact column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "dsl/lexer.h"

static sl_tok_t next(sl_lexer_t *lx, sl_tok_kind_t kind, int line, int col)
{
    sl_tok_t t = sl_lexer_next(lx);
    if (t.kind != kind || t.line != line || t.col != col)
        fail_msg("got %s at %d:%d, expected %s at %d:%d", sl_tok_kind_name(t.kind), t.line, t.col,
                 sl_tok_kind_name(kind), line, col);
    return t;
}

static void test_statement_tokens_and_positions(void **state)
{
    const char *src = "# comment line\nstream lines from topic \"text-lines\" format string; -- trailing\n"
                      "  | filter word != \"\" and n >= 1.5e2 or x <= 3 % 2";
    sl_lexer_t lx;
    sl_lexer_init(&lx, src, strlen(src));
    sl_tok_t t = next(&lx, SL_T_IDENT, 2, 1);
    assert_int_equal(t.len, 6);
    assert_memory_equal(t.text, "stream", 6);
    next(&lx, SL_T_IDENT, 2, 8);
    next(&lx, SL_T_IDENT, 2, 14);
    next(&lx, SL_T_IDENT, 2, 19);
    t = next(&lx, SL_T_STRING, 2, 25);
    assert_int_equal(t.len, 10);
    assert_memory_equal(t.text, "text-lines", 10);
    next(&lx, SL_T_IDENT, 2, 38);
    next(&lx, SL_T_IDENT, 2, 45);
    next(&lx, SL_T_SEMI, 2, 51);
    next(&lx, SL_T_PIPE, 3, 3);
    next(&lx, SL_T_IDENT, 3, 5);
    next(&lx, SL_T_IDENT, 3, 12);
    next(&lx, SL_T_NE, 3, 17);
    t = next(&lx, SL_T_STRING, 3, 20);
    assert_int_equal(t.len, 0);
    next(&lx, SL_T_IDENT, 3, 23);
    next(&lx, SL_T_IDENT, 3, 27);
    next(&lx, SL_T_GE, 3, 29);
    t = next(&lx, SL_T_FLOAT, 3, 32);
    assert_true(t.f == 150.0);
    next(&lx, SL_T_IDENT, 3, 38);
    next(&lx, SL_T_IDENT, 3, 41);
    next(&lx, SL_T_LE, 3, 43);
    t = next(&lx, SL_T_INT, 3, 46);
    assert_int_equal(t.i, 3);
    next(&lx, SL_T_PERCENT, 3, 48);
    next(&lx, SL_T_INT, 3, 50);
    next(&lx, SL_T_EOF, 3, 51);
    sl_lexer_free(&lx);
}

static void test_string_escapes_decode(void **state)
{
    const char *src = "\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u00e9\\ud83d\\ude00\"";
    sl_lexer_t lx;
    sl_lexer_init(&lx, src, strlen(src));
    sl_tok_t t = next(&lx, SL_T_STRING, 1, 1);
    const char want[] = "a\"b\\c/d\n\t\r\b\f\xc3\xa9\xf0\x9f\x98\x80";
    assert_int_equal(t.len, sizeof want - 1);
    assert_memory_equal(t.text, want, sizeof want - 1);
    next(&lx, SL_T_EOF, 1, (int)strlen(src) + 1);
    sl_lexer_free(&lx);
}

static void test_punctuation_and_operators(void **state)
{
    const char *src = "{a: [1, 2]}.x(y) = == <> < > + - * /";
    sl_tok_kind_t want[] = {SL_T_LBRACE, SL_T_IDENT, SL_T_COLON, SL_T_LBRACKET, SL_T_INT, SL_T_COMMA, SL_T_INT,
                            SL_T_RBRACKET, SL_T_RBRACE, SL_T_DOT, SL_T_IDENT, SL_T_LPAREN, SL_T_IDENT, SL_T_RPAREN,
                            SL_T_EQ, SL_T_EQEQ, SL_T_NE, SL_T_LT, SL_T_GT, SL_T_PLUS, SL_T_MINUS, SL_T_STAR,
                            SL_T_SLASH, SL_T_EOF};
    sl_lexer_t lx;
    sl_lexer_init(&lx, src, strlen(src));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(sl_lexer_next(&lx).kind, want[i]);
    sl_lexer_free(&lx);
}

static void test_duration_without_space_lexes_as_number_then_unit(void **state)
{
    sl_lexer_t lx;
    sl_lexer_init(&lx, "500ms", 5);
    sl_tok_t t = next(&lx, SL_T_INT, 1, 1);
    assert_int_equal(t.i, 500);
    t = next(&lx, SL_T_IDENT, 1, 4);
    assert_memory_equal(t.text, "ms", 2);
    sl_lexer_free(&lx);
}

static void expect_error(const char *src, int col, const char *msg)
{
    sl_lexer_t lx;
    sl_lexer_init(&lx, src, strlen(src));
    sl_tok_t t;
    do
        t = sl_lexer_next(&lx);
    while (t.kind != SL_T_ERROR && t.kind != SL_T_EOF);
    assert_int_equal(t.kind, SL_T_ERROR);
    assert_int_equal(t.col, col);
    if (t.len != strlen(msg) || memcmp(t.text, msg, t.len))
        fail_msg("message '%.*s', expected '%s'", (int)t.len, t.text, msg);
    sl_lexer_free(&lx);
}

static void test_lexical_errors_have_exact_columns(void **state)
{
    expect_error("x = \"abc", 5, "unterminated string");
    expect_error("x = \"ab\ncd\"", 5, "unterminated string");
    expect_error("x = \"a\\qb\"", 7, "invalid escape '\\q' in string");
    expect_error("x = \"\\u12G4\"", 6, "invalid \\u escape: expected 4 hex digits");
    expect_error("a !! b", 3, "unknown operator '!'");
    expect_error("a & b", 3, "unknown operator '&'");
    expect_error("99999999999999999999", 1, "integer '99999999999999999999' out of range");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statement_tokens_and_positions),
        cmocka_unit_test(test_string_escapes_decode),
        cmocka_unit_test(test_punctuation_and_operators),
        cmocka_unit_test(test_duration_without_space_lexes_as_number_then_unit),
        cmocka_unit_test(test_lexical_errors_have_exact_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
