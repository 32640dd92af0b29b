/* Internal to dsl/: tokens of the job language and the lexer that produces
 * them.  Positions are 1-based line and column (columns count bytes). */
#ifndef SL_DSL_LEXER_H
#define SL_DSL_LEXER_H

#include <stddef.h>
#include <stdint.h>

typedef enum sl_tok_kind {
    SL_T_EOF = 0,
    SL_T_ERROR,  /* lexical error; the token's text is the message */
    SL_T_IDENT,  /* names and keywords alike: the parser decides by context */
    SL_T_INT,
    SL_T_FLOAT,
    SL_T_STRING, /* text = the decoded string (escapes resolved) */
    SL_T_PIPE,   /* | */
    SL_T_SEMI, SL_T_COMMA, SL_T_DOT, SL_T_COLON,
    SL_T_LPAREN, SL_T_RPAREN, SL_T_LBRACE, SL_T_RBRACE, SL_T_LBRACKET, SL_T_RBRACKET,
    SL_T_PLUS, SL_T_MINUS, SL_T_STAR, SL_T_SLASH, SL_T_PERCENT,
    SL_T_EQ,     /* =  (equality in expressions, assignment in statements) */
    SL_T_EQEQ,   /* == */
    SL_T_NE,     /* != */
    SL_T_LT, SL_T_LE, SL_T_GT, SL_T_GE,
} sl_tok_kind_t;

typedef struct sl_tok {
    sl_tok_kind_t kind;
    const char *text; /* identifiers, numbers: points into the source; strings, errors: owned by the lexer */
    size_t len;
    int64_t i;        /* SL_T_INT */
    double f;         /* SL_T_FLOAT */
    int line, col;
    size_t off;       /* byte offset of the token's start */
} sl_tok_t;

typedef struct sl_lexer {
    const char *src;
    size_t len, pos;
    int line;
    size_t line_start;
    char *strbuf; /* decoded text of the last string / error message (owned) */
    size_t strcap;
} sl_lexer_t;

void sl_lexer_init(sl_lexer_t *lx, const char *src, size_t len);
void sl_lexer_free(sl_lexer_t *lx);
/* The next token.  Its text stays valid until the next call (strings and
 * errors) or as long as the source (others).  Comments (# to end of line, and
 * -- to end of line) and white space are skipped. */
sl_tok_t sl_lexer_next(sl_lexer_t *lx);
const char *sl_tok_kind_name(sl_tok_kind_t k); /* "';'", "identifier", ... */

#endif
