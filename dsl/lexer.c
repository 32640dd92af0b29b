/* The lexer of the job language: identifiers (keywords are identifiers the
 * parser recognises in context, so a field may be called "count"), numbers,
 * double-quoted strings with JSON's escapes, operators and comments.  Errors
 * come back as SL_T_ERROR tokens carrying a message and the exact position. */
#include "dsl/lexer.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_lexer_init(sl_lexer_t *lx, const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->line = 1;
}

void sl_lexer_free(sl_lexer_t *lx)
{
    free(lx->strbuf);
    lx->strbuf = NULL;
}

const char *sl_tok_kind_name(sl_tok_kind_t k)
{
    static const char *names[] = {
        "end of file", "error", "identifier", "integer", "number", "string", "'|'", "';'", "','", "'.'", "':'",
        "'('", "')'", "'{'", "'}'", "'['", "']'", "'+'", "'-'", "'*'", "'/'", "'%'", "'='", "'=='", "'!='",
        "'<'", "'<='", "'>'", "'>='",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static int put_char(sl_lexer_t *lx, size_t *n, char c)
{
    if (*n + 2 > lx->strcap) {
        size_t cap = lx->strcap ? lx->strcap * 2 : 64;
        char *p = realloc(lx->strbuf, cap);
        if (!p)
            return -1;
        lx->strbuf = p;
        lx->strcap = cap;
    }
    lx->strbuf[(*n)++] = c;
    lx->strbuf[*n] = 0;
    return 0;
}

static sl_tok_t error_at(sl_lexer_t *lx, sl_tok_t t, size_t off, const char *fmt, const char *arg)
{
    char msg[160];
    snprintf(msg, sizeof msg, fmt, arg);
    size_t n = 0;
    for (const char *p = msg; *p; p++)
        put_char(lx, &n, *p);
    t.kind = SL_T_ERROR;
    t.text = lx->strbuf;
    t.len = n;
    t.col = (int)(off - lx->line_start) + 1;
    t.off = off;
    return t;
}

static void put_utf8(sl_lexer_t *lx, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        put_char(lx, n, (char)cp);
    } else if (cp < 0x800) {
        put_char(lx, n, (char)(0xC0 | (cp >> 6)));
        put_char(lx, n, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put_char(lx, n, (char)(0xE0 | (cp >> 12)));
        put_char(lx, n, (char)(0x80 | ((cp >> 6) & 0x3F)));
        put_char(lx, n, (char)(0x80 | (cp & 0x3F)));
    } else {
        put_char(lx, n, (char)(0xF0 | (cp >> 18)));
        put_char(lx, n, (char)(0x80 | ((cp >> 12) & 0x3F)));
        put_char(lx, n, (char)(0x80 | ((cp >> 6) & 0x3F)));
        put_char(lx, n, (char)(0x80 | (cp & 0x3F)));
    }
}

static int hex4(const char *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}

/* A string starting at the opening quote (lx->pos). */
static sl_tok_t lex_string(sl_lexer_t *lx, sl_tok_t t)
{
    size_t n = 0;
    lx->pos++;
    put_char(lx, &n, 0), n = 0;
    for (;;) {
        if (lx->pos >= lx->len || lx->src[lx->pos] == '\n')
            return error_at(lx, t, t.off, "unterminated string%s", "");
        char c = lx->src[lx->pos];
        if (c == '"') {
            lx->pos++;
            break;
        }
        if (c != '\\') {
            put_char(lx, &n, c);
            lx->pos++;
            continue;
        }
        size_t esc = lx->pos;
        if (esc + 1 >= lx->len)
            return error_at(lx, t, t.off, "unterminated string%s", "");
        char e = lx->src[esc + 1];
        lx->pos += 2;
        switch (e) {
        case '"': put_char(lx, &n, '"'); break;
        case '\\': put_char(lx, &n, '\\'); break;
        case '/': put_char(lx, &n, '/'); break;
        case 'n': put_char(lx, &n, '\n'); break;
        case 't': put_char(lx, &n, '\t'); break;
        case 'r': put_char(lx, &n, '\r'); break;
        case 'b': put_char(lx, &n, '\b'); break;
        case 'f': put_char(lx, &n, '\f'); break;
        case 'u': {
            uint32_t cp;
            if (lx->pos + 4 > lx->len || hex4(lx->src + lx->pos, &cp))
                return error_at(lx, t, esc, "invalid \\u escape: expected 4 hex digits%s", "");
            lx->pos += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && lx->pos + 6 <= lx->len && lx->src[lx->pos] == '\\' &&
                lx->src[lx->pos + 1] == 'u') {
                uint32_t lo;
                if (!hex4(lx->src + lx->pos + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    lx->pos += 6;
                }
            }
            put_utf8(lx, &n, cp);
            break;
        }
        default: {
            char s[2] = {e, 0};
            return error_at(lx, t, esc, "invalid escape '\\%s' in string", s);
        }
        }
    }
    t.kind = SL_T_STRING;
    t.text = lx->strbuf;
    t.len = n;
    return t;
}

static sl_tok_t lex_number(sl_lexer_t *lx, sl_tok_t t)
{
    size_t p = lx->pos;
    bool is_float = false;
    while (p < lx->len && isdigit((unsigned char)lx->src[p]))
        p++;
    if (p + 1 < lx->len && lx->src[p] == '.' && isdigit((unsigned char)lx->src[p + 1])) {
        is_float = true;
        p++;
        while (p < lx->len && isdigit((unsigned char)lx->src[p]))
            p++;
    }
    if (p < lx->len && (lx->src[p] == 'e' || lx->src[p] == 'E')) {
        size_t q = p + 1;
        if (q < lx->len && (lx->src[q] == '+' || lx->src[q] == '-'))
            q++;
        if (q < lx->len && isdigit((unsigned char)lx->src[q])) {
            is_float = true;
            p = q;
            while (p < lx->len && isdigit((unsigned char)lx->src[p]))
                p++;
        }
    }
    char tmp[64];
    size_t n = p - lx->pos;
    if (n >= sizeof tmp) {
        lx->pos = p; /* consume it: the parser asks again after an error */
        return error_at(lx, t, t.off, "number too long%s", "");
    }
    memcpy(tmp, lx->src + lx->pos, n);
    tmp[n] = 0;
    t.text = lx->src + lx->pos;
    t.len = n;
    lx->pos = p;
    errno = 0;
    if (is_float) {
        t.kind = SL_T_FLOAT;
        t.f = strtod(tmp, NULL);
    } else {
        t.kind = SL_T_INT;
        t.i = strtoll(tmp, NULL, 10);
        if (errno == ERANGE)
            return error_at(lx, t, t.off, "integer '%s' out of range", tmp);
    }
    return t;
}

sl_tok_t sl_lexer_next(sl_lexer_t *lx)
{
    const char *s = lx->src;
    for (;;) {
        while (lx->pos < lx->len && (s[lx->pos] == ' ' || s[lx->pos] == '\t' || s[lx->pos] == '\r' ||
                                     s[lx->pos] == '\n')) {
            if (s[lx->pos] == '\n') {
                lx->line++;
                lx->line_start = lx->pos + 1;
            }
            lx->pos++;
        }
        if (lx->pos < lx->len &&
            (s[lx->pos] == '#' || (s[lx->pos] == '-' && lx->pos + 1 < lx->len && s[lx->pos + 1] == '-'))) {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        break;
    }
    sl_tok_t t = {0};
    t.line = lx->line;
    t.col = (int)(lx->pos - lx->line_start) + 1;
    t.off = lx->pos;
    if (lx->pos >= lx->len) {
        t.kind = SL_T_EOF;
        return t;
    }
    char c = s[lx->pos];
    if (isalpha((unsigned char)c) || c == '_') {
        size_t p = lx->pos;
        while (p < lx->len && (isalnum((unsigned char)s[p]) || s[p] == '_'))
            p++;
        t.kind = SL_T_IDENT;
        t.text = s + lx->pos;
        t.len = p - lx->pos;
        lx->pos = p;
        return t;
    }
    if (isdigit((unsigned char)c))
        return lex_number(lx, t);
    if (c == '"')
        return lex_string(lx, t);
    char d = lx->pos + 1 < lx->len ? s[lx->pos + 1] : 0;
    int two = 0;
    switch (c) {
    case '|': t.kind = SL_T_PIPE; break;
    case ';': t.kind = SL_T_SEMI; break;
    case ',': t.kind = SL_T_COMMA; break;
    case '.': t.kind = SL_T_DOT; break;
    case ':': t.kind = SL_T_COLON; break;
    case '(': t.kind = SL_T_LPAREN; break;
    case ')': t.kind = SL_T_RPAREN; break;
    case '{': t.kind = SL_T_LBRACE; break;
    case '}': t.kind = SL_T_RBRACE; break;
    case '[': t.kind = SL_T_LBRACKET; break;
    case ']': t.kind = SL_T_RBRACKET; break;
    case '+': t.kind = SL_T_PLUS; break;
    case '-': t.kind = SL_T_MINUS; break;
    case '*': t.kind = SL_T_STAR; break;
    case '/': t.kind = SL_T_SLASH; break;
    case '%': t.kind = SL_T_PERCENT; break;
    case '=': t.kind = d == '=' ? (two = 1, SL_T_EQEQ) : SL_T_EQ; break;
    case '<': t.kind = d == '=' ? (two = 1, SL_T_LE) : d == '>' ? (two = 1, SL_T_NE) : SL_T_LT; break;
    case '>': t.kind = d == '=' ? (two = 1, SL_T_GE) : SL_T_GT; break;
    case '!':
        if (d == '=') {
            t.kind = SL_T_NE;
            two = 1;
            break;
        }
        /* fall through */
    default: {
        char ch[8];
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            snprintf(ch, sizeof ch, "%c", c);
        else
            snprintf(ch, sizeof ch, "\\x%02x", (unsigned char)c);
        sl_tok_t e = error_at(lx, t, lx->pos, "unknown operator '%s'", ch);
        lx->pos++;
        return e;
    }
    }
    t.text = s + lx->pos;
    t.len = (size_t)(1 + two);
    lx->pos += t.len;
    return t;
}
