/* Recursive-descent parser for job files, with a Pratt (precedence-climbing)
 * parser for expressions.  On an error it records a diagnostic, skips to the
 * next ';' and goes on, so one run reports the errors of every statement.
 * Keywords are contextual: `count` is a step after '|' and a field elsewhere.
 * The grammar is in docs/dsl.md. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "dsl/ast.h"
#include "dsl/lexer.h"

typedef struct parser {
    sl_dsl_job_t *job;
    sl_lexer_t lx;
    sl_tok_t tok;       /* current token; strings copied into the job arena */
    sl_pos_t prev_end;  /* just past the previous token, for "expected ';'" */
    bool panic;         /* an error in this statement: unwind to the next ';' */
    bool resume;        /* a missing ';' before a new statement: parse on from there */
} parser_t;

static sl_pos_t pos_of(const sl_tok_t *t) { return (sl_pos_t){t->line, t->col}; }

static void *alloc(parser_t *p, size_t n)
{
    void *m = sl_arena_alloc(&p->job->arena, n);
    if (m)
        memset(m, 0, n);
    return m;
}

static void error_at(parser_t *p, sl_pos_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error_at(parser_t *p, sl_pos_t pos, const char *fmt, ...)
{
    if (p->panic)
        return;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_dsl_error(p->job, pos, "%s", msg);
    p->panic = true;
}

static void advance(parser_t *p)
{
    if (p->tok.line) /* the lexer stands just past the current token */
        p->prev_end = (sl_pos_t){p->tok.line, p->tok.col + (int)(p->lx.pos - p->tok.off)};
    p->tok = sl_lexer_next(&p->lx);
    if (p->tok.kind == SL_T_STRING) {
        char *s = sl_arena_strdup(&p->job->arena, p->tok.text, p->tok.len);
        p->tok.text = s ? s : "";
    } else if (p->tok.kind == SL_T_ERROR) {
        sl_dsl_error(p->job, pos_of(&p->tok), "%.*s", (int)p->tok.len, p->tok.text);
        p->panic = true;
        p->tok.kind = SL_T_ERROR;
    }
}

static const char *tok_desc(parser_t *p, char *buf, size_t n)
{
    if (p->tok.kind == SL_T_IDENT || p->tok.kind == SL_T_INT || p->tok.kind == SL_T_FLOAT)
        snprintf(buf, n, "'%.*s'", (int)p->tok.len, p->tok.text);
    else if (p->tok.kind == SL_T_STRING)
        snprintf(buf, n, "string \"%.*s\"", (int)(p->tok.len > 40 ? 40 : p->tok.len), p->tok.text);
    else
        snprintf(buf, n, "%s", sl_tok_kind_name(p->tok.kind));
    return buf;
}

static bool is_kw(parser_t *p, const char *kw)
{
    return p->tok.kind == SL_T_IDENT && p->tok.len == strlen(kw) && memcmp(p->tok.text, kw, p->tok.len) == 0;
}

static bool accept_kw(parser_t *p, const char *kw)
{
    if (!is_kw(p, kw))
        return false;
    advance(p);
    return true;
}

static bool accept_tok(parser_t *p, sl_tok_kind_t k)
{
    if (p->tok.kind != k)
        return false;
    advance(p);
    return true;
}

static bool expect(parser_t *p, sl_tok_kind_t k, const char *what)
{
    if (p->panic)
        return false;
    if (accept_tok(p, k))
        return true;
    char b[80];
    error_at(p, pos_of(&p->tok), "expected %s%s%s, found %s", sl_tok_kind_name(k), what ? " " : "", what ? what : "",
             tok_desc(p, b, sizeof b));
    return false;
}

static bool expect_kw(parser_t *p, const char *kw)
{
    if (p->panic)
        return false;
    if (accept_kw(p, kw))
        return true;
    char b[80];
    error_at(p, pos_of(&p->tok), "expected '%s', found %s", kw, tok_desc(p, b, sizeof b));
    return false;
}

static const char *take_ident(parser_t *p, const char *what, sl_pos_t *pos)
{
    if (p->panic)
        return NULL;
    if (p->tok.kind != SL_T_IDENT) {
        char b[80];
        error_at(p, pos_of(&p->tok), "expected %s, found %s", what, tok_desc(p, b, sizeof b));
        return NULL;
    }
    if (pos)
        *pos = pos_of(&p->tok);
    const char *s = sl_arena_strdup(&p->job->arena, p->tok.text, p->tok.len);
    advance(p);
    return s;
}

static const char *take_string(parser_t *p, const char *what)
{
    if (p->panic)
        return NULL;
    if (p->tok.kind != SL_T_STRING) {
        char b[80];
        error_at(p, pos_of(&p->tok), "expected %s (a string), found %s", what, tok_desc(p, b, sizeof b));
        return NULL;
    }
    const char *s = p->tok.text;
    advance(p);
    return s;
}

/* A growable array of pointers in the job arena (lists are short). */
typedef struct vec { void **v; size_t n, cap; } vec_t;
static void vec_push(parser_t *p, vec_t *v, void *x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        void **nv = alloc(p, cap * sizeof *nv);
        if (!nv)
            return;
        if (v->n)
            memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
}

/* ---- expressions (Pratt) ------------------------------------------------------------------- */

enum { PREC_NONE = 0, PREC_OR, PREC_AND, PREC_NOT, PREC_CMP, PREC_ADD, PREC_MUL, PREC_UNARY, PREC_POSTFIX };

static sl_expr_t *parse_expr_prec(parser_t *p, int prec);

static sl_expr_t *new_expr(parser_t *p, sl_ex_kind_t k, sl_pos_t pos)
{
    sl_expr_t *e = alloc(p, sizeof *e);
    if (!e) {
        error_at(p, pos, "out of memory");
        return NULL;
    }
    e->kind = k;
    e->pos = pos;
    e->fn = -1;
    return e;
}

static sl_expr_t *parse_expr(parser_t *p) { return parse_expr_prec(p, PREC_OR); }

/* expr {',' expr} up to `close` (consumed); a trailing comma is not allowed */
static void parse_list(parser_t *p, sl_tok_kind_t close, sl_expr_t *e)
{
    vec_t v = {0};
    if (!accept_tok(p, close)) {
        do {
            sl_expr_t *x = parse_expr(p);
            if (!x)
                return;
            vec_push(p, &v, x);
        } while (accept_tok(p, SL_T_COMMA));
        expect(p, close, NULL);
    }
    e->args = (sl_expr_t **)v.v;
    e->n_args = v.n;
}

static sl_expr_t *parse_object(parser_t *p, sl_pos_t pos)
{
    sl_expr_t *e = new_expr(p, SL_EX_OBJECT, pos);
    vec_t vals = {0}, names = {0};
    if (e && !accept_tok(p, SL_T_RBRACE)) {
        do {
            const char *k;
            bool ident = p->tok.kind != SL_T_STRING;
            sl_pos_t kpos = pos_of(&p->tok);
            if (!ident)
                k = take_string(p, "a member name");
            else
                k = take_ident(p, "a member name", NULL);
            if (!k)
                return NULL;
            sl_expr_t *x;
            if (ident && (p->tok.kind == SL_T_COMMA || p->tok.kind == SL_T_RBRACE)) { /* {a, b}: {a: a, b: b} */
                if (!(x = new_expr(p, SL_EX_NAME, kpos)))
                    return NULL;
                x->name = k;
            } else {
                if (!expect(p, SL_T_COLON, "after member name"))
                    return NULL;
                x = parse_expr(p);
            }
            if (!x)
                return NULL;
            vec_push(p, &names, (void *)k);
            vec_push(p, &vals, x);
        } while (accept_tok(p, SL_T_COMMA));
        if (!expect(p, SL_T_RBRACE, NULL))
            return NULL;
    }
    if (e) {
        e->args = (sl_expr_t **)vals.v;
        e->names = (const char **)names.v;
        e->n_args = vals.n;
    }
    return e;
}

static sl_expr_t *parse_primary(parser_t *p)
{
    if (p->panic)
        return NULL;
    sl_pos_t pos = pos_of(&p->tok);
    sl_expr_t *e;
    switch (p->tok.kind) {
    case SL_T_INT:
        e = new_expr(p, SL_EX_LIT, pos);
        if (e)
            e->lit = sl_v_int(p->tok.i);
        advance(p);
        return e;
    case SL_T_FLOAT:
        e = new_expr(p, SL_EX_LIT, pos);
        if (e)
            e->lit = sl_v_float(p->tok.f);
        advance(p);
        return e;
    case SL_T_STRING:
        e = new_expr(p, SL_EX_LIT, pos);
        if (e)
            e->lit = sl_v_str(p->tok.text, p->tok.len);
        advance(p);
        return e;
    case SL_T_LPAREN:
        advance(p);
        e = parse_expr(p);
        expect(p, SL_T_RPAREN, NULL);
        return p->panic ? NULL : e;
    case SL_T_LBRACKET:
        advance(p);
        e = new_expr(p, SL_EX_ARRAY, pos);
        if (e)
            parse_list(p, SL_T_RBRACKET, e);
        return p->panic ? NULL : e;
    case SL_T_LBRACE:
        advance(p);
        return parse_object(p, pos);
    case SL_T_MINUS:
        advance(p);
        e = new_expr(p, SL_EX_UNARY, pos);
        if (e) {
            e->op = SL_X_NEG;
            e->a = parse_expr_prec(p, PREC_UNARY);
        }
        return p->panic ? NULL : e;
    case SL_T_IDENT:
        if (is_kw(p, "true") || is_kw(p, "false") || is_kw(p, "null")) {
            e = new_expr(p, SL_EX_LIT, pos);
            if (e)
                e->lit = is_kw(p, "null") ? sl_v_null() : sl_v_bool(is_kw(p, "true"));
            advance(p);
            return e;
        }
        if (is_kw(p, "not")) {
            advance(p);
            e = new_expr(p, SL_EX_UNARY, pos);
            if (e) {
                e->op = SL_X_NOT;
                e->a = parse_expr_prec(p, PREC_NOT);
            }
            return p->panic ? NULL : e;
        }
        {
            const char *name = take_ident(p, "an expression", NULL);
            if (!name)
                return NULL;
            if (accept_tok(p, SL_T_LPAREN)) {
                e = new_expr(p, SL_EX_CALL, pos);
                if (e) {
                    e->name = name;
                    parse_list(p, SL_T_RPAREN, e);
                }
                return p->panic ? NULL : e;
            }
            e = new_expr(p, SL_EX_NAME, pos);
            if (e)
                e->name = name;
            return e;
        }
    default: {
        char b[80];
        error_at(p, pos, "expected an expression, found %s", tok_desc(p, b, sizeof b));
        return NULL;
    }
    }
}

/* The binary operator at the current token, with its precedence; 0 when none. */
static int infix_op(parser_t *p, sl_xop_t *op)
{
    switch (p->tok.kind) {
    case SL_T_PLUS: *op = SL_X_ADD; return PREC_ADD;
    case SL_T_MINUS: *op = SL_X_SUB; return PREC_ADD;
    case SL_T_STAR: *op = SL_X_MUL; return PREC_MUL;
    case SL_T_SLASH: *op = SL_X_DIV; return PREC_MUL;
    case SL_T_PERCENT: *op = SL_X_MOD; return PREC_MUL;
    case SL_T_EQ: case SL_T_EQEQ: *op = SL_X_EQ; return PREC_CMP;
    case SL_T_NE: *op = SL_X_NE; return PREC_CMP;
    case SL_T_LT: *op = SL_X_LT; return PREC_CMP;
    case SL_T_LE: *op = SL_X_LE; return PREC_CMP;
    case SL_T_GT: *op = SL_X_GT; return PREC_CMP;
    case SL_T_GE: *op = SL_X_GE; return PREC_CMP;
    case SL_T_IDENT:
        if (is_kw(p, "and")) { *op = SL_X_AND; return PREC_AND; }
        if (is_kw(p, "or")) { *op = SL_X_OR; return PREC_OR; }
        if (is_kw(p, "in")) { *op = 0; return PREC_CMP; }
        return 0;
    default: return 0;
    }
}

static sl_expr_t *parse_expr_prec(parser_t *p, int prec)
{
    sl_expr_t *left = parse_primary(p);
    while (left && !p->panic) {
        sl_pos_t pos = pos_of(&p->tok);
        if (p->tok.kind == SL_T_DOT) { /* postfix: a.b */
            advance(p);
            sl_expr_t *e = new_expr(p, SL_EX_FIELD, left->pos); /* a path is reported at its start */
            if (!e || !(e->name = take_ident(p, "a field name after '.'", NULL)))
                return NULL;
            e->a = left;
            left = e;
            continue;
        }
        if (p->tok.kind == SL_T_LBRACKET) { /* postfix: a[i] */
            advance(p);
            sl_expr_t *e = new_expr(p, SL_EX_INDEX, pos);
            if (!e)
                return NULL;
            e->a = left;
            e->b = parse_expr(p);
            if (!expect(p, SL_T_RBRACKET, NULL))
                return NULL;
            left = e;
            continue;
        }
        sl_xop_t op;
        int q = infix_op(p, &op);
        if (q == 0 || q < prec)
            break;
        advance(p);
        if (q == PREC_CMP && op == 0) { /* a in (x, y) | a in [x, y] | a in expr */
            sl_expr_t *e = new_expr(p, SL_EX_IN, pos);
            if (!e)
                return NULL;
            e->a = left;
            if (accept_tok(p, SL_T_LPAREN))
                parse_list(p, SL_T_RPAREN, e);
            else
                e->b = parse_expr_prec(p, PREC_ADD);
            left = p->panic ? NULL : e;
            continue;
        }
        sl_expr_t *e = new_expr(p, SL_EX_BINARY, pos);
        if (!e)
            return NULL;
        e->op = op;
        e->a = left;
        /* comparisons do not chain: a < b < c is an error */
        e->b = parse_expr_prec(p, q + 1);
        if (q == PREC_CMP && infix_op(p, &op) == PREC_CMP && !p->panic) {
            error_at(p, pos_of(&p->tok), "comparisons do not chain; use 'and'");
            return NULL;
        }
        left = p->panic ? NULL : e;
    }
    return p->panic ? NULL : left;
}

/* ---- durations ----------------------------------------------------------------------------- */

static bool parse_duration(parser_t *p, int64_t *ms)
{
    if (p->panic)
        return false;
    if (p->tok.kind != SL_T_INT) {
        char b[80];
        error_at(p, pos_of(&p->tok), "expected a duration (e.g. 10 seconds), found %s", tok_desc(p, b, sizeof b));
        return false;
    }
    int64_t n = p->tok.i;
    advance(p);
    static const struct { const char *unit; int64_t ms; } units[] = {
        {"ms", 1}, {"millisecond", 1}, {"milliseconds", 1}, {"s", 1000}, {"sec", 1000}, {"second", 1000},
        {"seconds", 1000}, {"m", 60000}, {"min", 60000}, {"minute", 60000}, {"minutes", 60000},
        {"h", 3600000}, {"hour", 3600000}, {"hours", 3600000}, {"d", 86400000}, {"day", 86400000},
        {"days", 86400000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (is_kw(p, units[i].unit)) {
            if (n > INT64_MAX / units[i].ms) {
                error_at(p, pos_of(&p->tok), "duration too large");
                return false;
            }
            *ms = n * units[i].ms;
            advance(p);
            return true;
        }
    char b[80];
    error_at(p, pos_of(&p->tok), "expected a time unit (ms, seconds, minutes, hours, days), found %s",
             tok_desc(p, b, sizeof b));
    return false;
}

/* ---- steps --------------------------------------------------------------------------------- */

/* NAME ':' expr {',' NAME ':' expr} '}' (map also takes a bare path, named by its last field) */
static void parse_named_items(parser_t *p, sl_step_t *st, bool bare_ok)
{
    vec_t items = {0}, names = {0}, poss = {0};
    if (!expect(p, SL_T_LBRACE, NULL))
        return;
    do {
        sl_pos_t pos = pos_of(&p->tok);
        const char *name = NULL;
        sl_expr_t *x = NULL;
        if (p->tok.kind == SL_T_STRING) {
            name = take_string(p, "a name");
            if (!expect(p, SL_T_COLON, "after the name"))
                return;
            x = parse_expr(p);
        } else {
            x = parse_expr(p);
            if (x && x->kind == SL_EX_NAME && accept_tok(p, SL_T_COLON)) {
                name = x->name;
                x = parse_expr(p);
            } else if (x && bare_ok && (x->kind == SL_EX_NAME || x->kind == SL_EX_FIELD)) {
                name = x->name;
            } else if (x) {
                error_at(p, pos, bare_ok ? "a computed map item needs a name: name: expression"
                                          : "expected 'name: expression'");
                return;
            }
        }
        if (!x || p->panic)
            return;
        sl_pos_t *pp = alloc(p, sizeof *pp);
        if (pp)
            *pp = pos;
        vec_push(p, &items, x);
        vec_push(p, &names, (void *)name);
        vec_push(p, &poss, pp);
    } while (accept_tok(p, SL_T_COMMA));
    if (!expect(p, SL_T_RBRACE, NULL))
        return;
    st->items = (sl_expr_t **)items.v;
    st->names = (const char **)names.v;
    st->n_items = items.n;
    st->name_pos = alloc(p, (poss.n ? poss.n : 1) * sizeof *st->name_pos);
    for (size_t i = 0; st->name_pos && i < poss.n; i++)
        st->name_pos[i] = *(sl_pos_t *)poss.v[i];
}

static void parse_window(parser_t *p, sl_step_t *st)
{
    static const char *kinds[] = {"tumbling", "hopping", "sliding", "session"};
    for (int i = 0; i < 4; i++)
        if (accept_kw(p, kinds[i])) {
            st->window_kind = i + 1; /* SL_WINDOW_TUMBLING .. SESSION */
            break;
        }
    if (!st->window_kind) {
        char b[80];
        error_at(p, pos_of(&p->tok), "expected a window kind (tumbling, hopping, sliding, session), found %s",
                 tok_desc(p, b, sizeof b));
        return;
    }
    st->grace_ms = 0;
    if (p->tok.kind == SL_T_INT) {
        if (!parse_duration(p, st->window_kind == 4 ? &st->gap_ms : &st->size_ms))
            return;
    }
    for (;;) {
        if (accept_kw(p, "advance")) {
            if (!parse_duration(p, &st->advance_ms))
                return;
        } else if (accept_kw(p, "gap")) {
            if (!parse_duration(p, &st->gap_ms))
                return;
        } else if (accept_kw(p, "grace")) {
            if (!parse_duration(p, &st->grace_ms))
                return;
        } else if (accept_kw(p, "size")) {
            if (!parse_duration(p, &st->size_ms))
                return;
        } else {
            break;
        }
    }
}

static void parse_group_by(parser_t *p, sl_step_t *st)
{
    vec_t v = {0};
    if (!expect_kw(p, "by"))
        return;
    do {
        sl_expr_t *x = parse_expr(p);
        if (!x)
            return;
        vec_push(p, &v, x);
    } while (accept_tok(p, SL_T_COMMA));
    st->items = (sl_expr_t **)v.v;
    st->n_items = v.n;
}

static bool parse_step(parser_t *p, sl_step_t *st)
{
    st->pos = pos_of(&p->tok);
    st->within_ms = -1;
    if (accept_kw(p, "filter")) {
        st->kind = SL_ST_FILTER;
        st->expr = parse_expr(p);
    } else if (accept_kw(p, "map")) {
        st->kind = SL_ST_MAP;
        parse_named_items(p, st, true);
    } else if (accept_kw(p, "flat_map")) {
        st->kind = SL_ST_FLAT_MAP;
        st->expr = parse_expr(p);
        if (expect_kw(p, "as"))
            st->as = take_ident(p, "a name after 'as'", NULL);
    } else if (accept_kw(p, "select_key") || accept_kw(p, "rekey")) {
        st->kind = SL_ST_SELECT_KEY;
        st->expr = parse_expr(p);
    } else if (accept_kw(p, "branch")) {
        st->kind = SL_ST_BRANCH;
        parse_named_items(p, st, false);
    } else if (accept_kw(p, "merge")) {
        st->kind = SL_ST_MERGE;
        vec_t names = {0}, poss = {0};
        do {
            sl_pos_t *pp = alloc(p, sizeof *pp);
            const char *n = take_ident(p, "a stream name", pp);
            if (!n)
                return false;
            vec_push(p, &names, (void *)n);
            vec_push(p, &poss, pp);
        } while (accept_tok(p, SL_T_COMMA));
        st->names = (const char **)names.v;
        st->n_items = names.n;
        st->name_pos = alloc(p, names.n * sizeof *st->name_pos);
        for (size_t i = 0; st->name_pos && i < names.n; i++)
            st->name_pos[i] = *(sl_pos_t *)poss.v[i];
    } else if (accept_kw(p, "group")) {
        st->kind = SL_ST_GROUP_BY;
        parse_group_by(p, st);
    } else if (accept_kw(p, "window")) {
        st->kind = SL_ST_WINDOW;
        parse_window(p, st);
    } else if (accept_kw(p, "count")) {
        st->kind = SL_ST_COUNT;
        if (accept_tok(p, SL_T_LPAREN))
            expect(p, SL_T_RPAREN, "(count takes no argument)");
    } else if (is_kw(p, "sum") || is_kw(p, "min") || is_kw(p, "max") || is_kw(p, "avg")) {
        st->kind = is_kw(p, "sum") ? SL_ST_SUM : is_kw(p, "min") ? SL_ST_MIN : is_kw(p, "max") ? SL_ST_MAX : SL_ST_AVG;
        advance(p);
        st->expr = parse_expr(p);
    } else if (accept_kw(p, "aggregate")) {
        st->kind = SL_ST_AGGREGATE;
        parse_named_items(p, st, false);
    } else if (accept_kw(p, "emit")) {
        st->kind = SL_ST_EMIT;
        if (accept_kw(p, "final"))
            st->emit_final = true;
        else if (!accept_kw(p, "changes")) {
            char b[80];
            error_at(p, pos_of(&p->tok), "expected 'changes' or 'final' after 'emit', found %s",
                     tok_desc(p, b, sizeof b));
        }
    } else if (is_kw(p, "join") || is_kw(p, "inner") || is_kw(p, "left") || is_kw(p, "outer")) {
        st->kind = SL_ST_JOIN;
        st->join_type = accept_kw(p, "left") ? 2 : accept_kw(p, "outer") ? 3 : (accept_kw(p, "inner"), 1);
        if (!expect_kw(p, "join"))
            return false;
        st->join_with = take_ident(p, "a stream or table name after 'join'", &st->join_with_pos);
        if (!expect_kw(p, "on"))
            return false;
        sl_expr_t *cond = parse_expr(p);
        if (!cond)
            return false;
        if (cond->kind != SL_EX_BINARY || cond->op != SL_X_EQ) {
            error_at(p, cond->pos, "a join condition is 'left = right'");
            return false;
        }
        st->on_left = cond->a;
        st->on_right = cond->b;
        if (accept_kw(p, "within")) {
            if (parse_duration(p, &st->within_ms) && is_kw(p, "grace")) {
                advance(p);
                parse_duration(p, &st->grace_ms);
            }
        } else if (is_kw(p, "grace")) {
            error_at(p, pos_of(&p->tok), "'grace' belongs to a time bound: within D grace G");
            return false;
        }
    } else if (is_kw(p, "top") || is_kw(p, "bottom")) {
        /* top N by E [desc | asc]  ==  aggregate { top: top(N, E, value) } (bottom / asc: smallest first) */
        bool bottom = is_kw(p, "bottom");
        advance(p);
        st->kind = SL_ST_AGGREGATE;
        if (p->tok.kind != SL_T_INT || p->tok.i < 1 || p->tok.i > 10000) {
            char b[80];
            error_at(p, pos_of(&p->tok), "expected how many rows to keep (1 to 10000) after '%s', found %s",
                     bottom ? "bottom" : "top", tok_desc(p, b, sizeof b));
            return false;
        }
        sl_expr_t *n = new_expr(p, SL_EX_LIT, pos_of(&p->tok));
        if (!n)
            return false;
        n->lit = sl_v_int(p->tok.i);
        advance(p);
        if (!expect_kw(p, "by"))
            return false;
        sl_expr_t *by = parse_expr(p);
        if (!by)
            return false;
        if (accept_kw(p, "asc"))
            bottom = !bottom;
        else
            accept_kw(p, "desc");
        sl_expr_t *call = new_expr(p, SL_EX_CALL, st->pos), *val = new_expr(p, SL_EX_NAME, st->pos);
        sl_expr_t **args = alloc(p, 3 * sizeof *args);
        const char **names = alloc(p, sizeof *names);
        sl_pos_t *npos = alloc(p, sizeof *npos);
        if (!call || !val || !args || !names || !npos)
            return false;
        val->name = "value";
        args[0] = n;
        args[1] = by;
        args[2] = val;
        call->name = bottom ? "bottom" : "top";
        call->args = args;
        call->n_args = 3;
        names[0] = "top";
        npos[0] = st->pos;
        st->items = alloc(p, sizeof *st->items);
        if (!st->items)
            return false;
        st->items[0] = call;
        st->names = names;
        st->name_pos = npos;
        st->n_items = 1;
    } else if (accept_kw(p, "ttl")) {
        st->kind = SL_ST_TTL;
        parse_duration(p, &st->ttl_ms);
    } else {
        char b[80];
        error_at(p, pos_of(&p->tok), "unknown pipeline step %s (expected filter, map, flat_map, select_key, "
                 "branch, merge, group by, window, count, sum, min, max, avg, aggregate, top, emit, join, ttl)",
                 tok_desc(p, b, sizeof b));
    }
    return !p->panic;
}

static bool parse_format(parser_t *p, sl_stmt_t *s)
{
    static const char *fmts[] = {"json", "string", "bytes", "msgpack"};
    for (int i = 0; i < 4; i++)
        if (accept_kw(p, fmts[i])) {
            s->format = (sl_fmt_t)i;
            s->has_format = true;
            return true;
        }
    char b[80];
    error_at(p, pos_of(&p->tok), "unknown format %s (expected json, string, bytes or msgpack)",
             tok_desc(p, b, sizeof b));
    return false;
}

/* ---- statements ---------------------------------------------------------------------------- */

static void parse_source_tail(parser_t *p, sl_stmt_t *s)
{
    s->kind = SL_S_SOURCE;
    if (!expect_kw(p, "topic"))
        return;
    s->topic = take_string(p, "a topic name");
    for (;;) {
        if (accept_kw(p, "format")) {
            if (!parse_format(p, s))
                return;
        } else if (accept_kw(p, "key")) {
            s->key_field = take_ident(p, "the key field", NULL);
        } else if (accept_kw(p, "timestamp")) {
            s->ts_field = take_ident(p, "the timestamp field", NULL);
        } else if (is_kw(p, "ttl")) {
            s->ttl_pos = pos_of(&p->tok);
            advance(p);
            parse_duration(p, &s->ttl_ms);
        } else {
            return;
        }
        if (p->panic)
            return;
    }
}

static void parse_pipeline(parser_t *p, sl_stmt_t *s)
{
    s->kind = SL_S_DEFINE;
    s->from_pos = pos_of(&p->tok);
    const char *head = take_ident(p, "a stream or table name", NULL);
    if (!head)
        return;
    if (accept_tok(p, SL_T_DOT)) { /* a branch output: name.branch */
        const char *b = take_ident(p, "a branch name", NULL);
        if (!b)
            return;
        size_t n = strlen(head) + strlen(b) + 2;
        char *full = sl_arena_alloc(&p->job->arena, n);
        if (full)
            snprintf(full, n, "%s.%s", head, b);
        head = full;
    }
    s->from = head;
    vec_t steps = {0};
    while (accept_tok(p, SL_T_PIPE)) {
        sl_step_t *st = alloc(p, sizeof *st);
        if (!st || !parse_step(p, st))
            return;
        vec_push(p, &steps, st);
    }
    s->n_steps = steps.n;
    s->steps = alloc(p, (steps.n ? steps.n : 1) * sizeof *s->steps);
    for (size_t i = 0; s->steps && i < steps.n; i++)
        s->steps[i] = *(sl_step_t *)steps.v[i];
}

static sl_stmt_t *parse_stmt(parser_t *p)
{
    sl_stmt_t *s = alloc(p, sizeof *s);
    if (!s)
        return NULL;
    s->pos = pos_of(&p->tok);
    if (is_kw(p, "stream") || is_kw(p, "table")) {
        s->is_table = is_kw(p, "table");
        advance(p);
        s->name = take_ident(p, "a name", &s->name_pos);
        if (accept_kw(p, "from"))
            parse_source_tail(p, s);
        else if (accept_tok(p, SL_T_EQ))
            parse_pipeline(p, s);
        else if (!p->panic) {
            char b[80];
            error_at(p, pos_of(&p->tok), "expected 'from' or '=' after '%s', found %s", s->name,
                     tok_desc(p, b, sizeof b));
        }
    } else if (accept_kw(p, "output")) {
        s->kind = SL_S_OUTPUT;
        s->name = take_ident(p, "the name of a stream or table", &s->name_pos);
        if (expect_kw(p, "to") && expect_kw(p, "topic"))
            s->topic = take_string(p, "a topic name");
        if (accept_kw(p, "format"))
            parse_format(p, s);
    } else {
        char b[80];
        error_at(p, s->pos, "expected a statement (stream, table or output), found %s", tok_desc(p, b, sizeof b));
    }
    if (!p->panic && p->tok.kind != SL_T_SEMI) {
        char b[80];
        if (p->tok.kind == SL_T_EOF || p->tok.line != p->prev_end.line) {
            error_at(p, p->prev_end, "expected ';' at the end of the statement");
            p->resume = is_kw(p, "stream") || is_kw(p, "table") || is_kw(p, "output");
        }
        else
            error_at(p, pos_of(&p->tok), "expected ';' or '|', found %s", tok_desc(p, b, sizeof b));
    }
    return s;
}

static void parser_init(parser_t *p, sl_dsl_job_t *job)
{
    memset(p, 0, sizeof *p);
    p->job = job;
    sl_lexer_init(&p->lx, job->src, job->src_len);
    advance(p);
}

int sl_dsl_parse_job(sl_dsl_job_t *job)
{
    parser_t p;
    parser_init(&p, job);
    vec_t stmts = {0};
    while (p.tok.kind != SL_T_EOF) {
        p.panic = false;
        if (p.tok.kind == SL_T_ERROR) { /* already reported by advance() */
            p.panic = true;
        } else {
            sl_stmt_t *s = parse_stmt(&p);
            if (s && !p.panic)
                vec_push(&p, &stmts, s);
        }
        /* synchronise: skip to the next ';' (lexical errors on the way are reported too) */
        if (p.resume) {
            p.resume = false;
            continue;
        }
        while (p.tok.kind != SL_T_SEMI && p.tok.kind != SL_T_EOF)
            advance(&p);
        if (p.tok.kind == SL_T_SEMI)
            advance(&p);
    }
    job->n_stmts = stmts.n;
    job->stmts = alloc(&p, (stmts.n ? stmts.n : 1) * sizeof *job->stmts);
    for (size_t i = 0; job->stmts && i < stmts.n; i++)
        job->stmts[i] = *(sl_stmt_t *)stmts.v[i];
    sl_lexer_free(&p.lx);
    return job->n_errors;
}

int sl_dsl_parse_expr(sl_dsl_job_t *job, sl_expr_t **out)
{
    parser_t p;
    parser_init(&p, job);
    *out = p.panic ? NULL : parse_expr(&p);
    if (!p.panic && p.tok.kind != SL_T_EOF) {
        char b[80];
        error_at(&p, pos_of(&p.tok), "unexpected %s after the expression", tok_desc(&p, b, sizeof b));
    }
    sl_lexer_free(&p.lx);
    return job->n_errors;
}
