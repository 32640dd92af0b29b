/* The expression evaluator: a tree walk over checked expressions producing
 * JSON-like values in the record's arena, and the table of built-in functions
 * (string, math, time; the aggregate ones are folded by plan_agg.c).  Every
 * failure - a type error, a missing field, division by zero - returns -1 with a
 * message, so the engine dead-letters the record; nothing here aborts.  There
 * is no clock: the same record always gives the same result. */
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dsl/ast.h"

enum fn_id {
    F_LOWER, F_UPPER, F_LENGTH, F_CONCAT, F_SUBSTR, F_SPLIT, F_CONTAINS, F_STARTS_WITH, F_ENDS_WITH, F_TRIM,
    F_ABS, F_ROUND, F_FLOOR, F_CEIL, F_IF, F_COALESCE, F_STRING, F_PARSE_TIME, F_FORMAT_TIME,
    F_COUNT, F_SUM, F_MIN, F_MAX, F_AVG, F_COUNT_DISTINCT, F_FIRST, F_LAST, F_TOP, F_BOTTOM, F_ARGMAX, F_ARGMIN, F_N
};

static const sl_fn_info_t fns[F_N] = {
    [F_LOWER] = {"lower", 1, 1, false},       [F_UPPER] = {"upper", 1, 1, false},
    [F_LENGTH] = {"length", 1, 1, false},     [F_CONCAT] = {"concat", 1, 64, false},
    [F_SUBSTR] = {"substr", 2, 3, false},     [F_SPLIT] = {"split", 2, 2, false},
    [F_CONTAINS] = {"contains", 2, 2, false}, [F_STARTS_WITH] = {"starts_with", 2, 2, false},
    [F_ENDS_WITH] = {"ends_with", 2, 2, false}, [F_TRIM] = {"trim", 1, 1, false},
    [F_ABS] = {"abs", 1, 1, false},           [F_ROUND] = {"round", 1, 1, false},
    [F_FLOOR] = {"floor", 1, 1, false},       [F_CEIL] = {"ceil", 1, 1, false},
    [F_IF] = {"if", 3, 3, false},             [F_COALESCE] = {"coalesce", 1, 64, false},
    [F_STRING] = {"string", 1, 1, false},     [F_PARSE_TIME] = {"parse_time", 1, 1, false},
    [F_FORMAT_TIME] = {"format_time", 1, 1, false},
    [F_COUNT] = {"count", 0, 0, true},        [F_SUM] = {"sum", 1, 1, true},
    [F_MIN] = {"min", 1, 1, true},            [F_MAX] = {"max", 1, 1, true},
    [F_AVG] = {"avg", 1, 1, true},            [F_COUNT_DISTINCT] = {"count_distinct", 1, 1, true},
    [F_FIRST] = {"first", 1, 1, true},        [F_LAST] = {"last", 1, 1, true},
    [F_TOP] = {"top", 2, 3, true},            [F_BOTTOM] = {"bottom", 2, 3, true},
    [F_ARGMAX] = {"argmax", 1, 2, true},      [F_ARGMIN] = {"argmin", 1, 2, true},
};

int sl_fn_lookup(const char *name)
{
    for (int i = 0; i < F_N; i++)
        if (strcmp(fns[i].name, name) == 0)
            return i;
    return -1;
}

const sl_fn_info_t *sl_fn_info(int index) { return index >= 0 && index < F_N ? &fns[index] : NULL; }

bool sl_value_truthy(const sl_value_t *v) { return v->type == SL_V_BOOL && v->u.b; }

static int fail(sl_err_t *err, const sl_expr_t *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(sl_err_t *err, const sl_expr_t *e, const char *fmt, ...)
{
    if (err) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(err->msg, sizeof err->msg, "%d:%d: %s", e->pos.line, e->pos.col, msg);
        err->line = e->pos.line;
        err->col = e->pos.col;
    }
    return -1;
}

static int oom(sl_err_t *err, const sl_expr_t *e) { return fail(err, e, "out of memory"); }

/* Could these bytes be a non-string JSON value?  (A cheap test before parsing.) */
static bool may_be_json(const uint8_t *p, size_t n)
{
    return n > 0 && strchr("-0123456789[{tfn", p[0]) != NULL;
}

/* Key bytes: a string as it is (so keys match those of other topics), any
 * other value as JSON text. */
int sl_value_key_bytes(const sl_value_t *v, sl_buf_t *out, sl_err_t *err)
{
    if (v->type == SL_V_STR)
        return sl_buf_append(out, v->u.s.p, v->u.s.len) ? sl_err_set(err, -1, "out of memory") : 0;
    return sl_value_to_json(v, out, err);
}

void sl_value_from_key_bytes(sl_arena_t *a, const uint8_t *p, size_t n, sl_value_t *out)
{
    if (may_be_json(p, n) && sl_value_from_json(a, p, n, out, NULL) == 0)
        return;
    *out = sl_v_str((const char *)p, n);
}

/* A value as text: strings as they are, the rest as JSON (concat, string()). */
static int to_text(sl_arena_t *a, const sl_value_t *v, sl_value_t *out, sl_err_t *err)
{
    if (v->type == SL_V_STR) {
        *out = *v;
        return 0;
    }
    sl_buf_t b;
    sl_buf_init(&b);
    int rc = sl_value_to_json(v, &b, err);
    char *p = rc ? NULL : sl_arena_strdup(a, (const char *)b.data, b.len);
    if (p)
        *out = sl_v_str(p, b.len);
    sl_buf_free(&b);
    return p ? 0 : -1;
}

/* ---- time: ISO-8601 UTC <-> epoch ms (proleptic Gregorian, civil-from-days) ---- */

static int format_iso(sl_arena_t *a, int64_t ms, sl_value_t *out)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - days * 86400000, y;
    int m, d;
    sl_civil_from_days(days, &y, &m, &d);
    char *p = sl_arena_alloc(a, 40);
    if (!p)
        return -1;
    int n = snprintf(p, 40, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600000),
                     (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
    *out = sl_v_str(p, (size_t)n);
    return 0;
}

/* ---- functions ---- */

static int want(const sl_expr_t *e, const sl_value_t *v, sl_vtype_t t, int argi, sl_err_t *err)
{
    if (v->type == t || (t == SL_V_FLOAT && v->type == SL_V_INT))
        return 0;
    return fail(err, e, "%s() argument %d: expected %s, got %s", e->name, argi + 1,
                t == SL_V_FLOAT ? "a number" : sl_vtype_name(t), sl_vtype_name(v->type));
}

static double num(const sl_value_t *v) { return v->type == SL_V_INT ? (double)v->u.i : v->u.f; }

static bool str_find(const sl_value_t *h, const sl_value_t *n, size_t *at)
{
    if (n->u.s.len == 0) {
        *at = 0;
        return true;
    }
    for (size_t i = 0; i + n->u.s.len <= h->u.s.len; i++)
        if (memcmp(h->u.s.p + i, n->u.s.p, n->u.s.len) == 0) {
            *at = i;
            return true;
        }
    return false;
}

static int call(const sl_eval_ctx_t *cx, const sl_expr_t *e, sl_value_t *out, sl_err_t *err)
{
    sl_arena_t *a = cx->arena;
    if (e->fn == F_IF) {
        sl_value_t c;
        if (sl_eval(cx, e->args[0], &c, err))
            return -1;
        if (c.type != SL_V_BOOL && c.type != SL_V_NULL)
            return fail(err, e, "if() condition must be a bool, got %s", sl_vtype_name(c.type));
        return sl_eval(cx, e->args[sl_value_truthy(&c) ? 1 : 2], out, err);
    }
    if (e->fn == F_COALESCE) {
        for (size_t i = 0; i < e->n_args; i++) {
            if (sl_eval(cx, e->args[i], out, err))
                return -1;
            if (out->type != SL_V_NULL)
                return 0;
        }
        return 0;
    }
    if (e->fn < 0 || fns[e->fn].aggregate)
        return fail(err, e, "aggregate function '%s' outside aggregate { }", e->name);
    sl_value_t av[64];
    for (size_t i = 0; i < e->n_args && i < 64; i++)
        if (sl_eval(cx, e->args[i], &av[i], err))
            return -1;
    /* null in, null out: the string, math and time functions propagate null */
    if (e->fn != F_CONCAT && e->fn != F_STRING && e->fn != F_LENGTH)
        for (size_t i = 0; i < e->n_args; i++)
            if (av[i].type == SL_V_NULL) {
                *out = sl_v_null();
                return 0;
            }
    switch (e->fn) {
    case F_LOWER:
    case F_UPPER: {
        if (want(e, &av[0], SL_V_STR, 0, err))
            return -1;
        char *p = sl_arena_strdup(a, av[0].u.s.p, av[0].u.s.len);
        if (!p)
            return oom(err, e);
        for (size_t i = 0; i < av[0].u.s.len; i++) /* ASCII only: locale-free and deterministic */
            if (e->fn == F_LOWER && p[i] >= 'A' && p[i] <= 'Z')
                p[i] = (char)(p[i] + 32);
            else if (e->fn == F_UPPER && p[i] >= 'a' && p[i] <= 'z')
                p[i] = (char)(p[i] - 32);
        *out = sl_v_str(p, av[0].u.s.len);
        return 0;
    }
    case F_LENGTH:
        if (av[0].type == SL_V_STR) {
            int64_t n = 0; /* characters (UTF-8 code points) */
            for (size_t i = 0; i < av[0].u.s.len; i++)
                n += ((unsigned char)av[0].u.s.p[i] & 0xC0) != 0x80;
            *out = sl_v_int(n);
        } else if (av[0].type == SL_V_ARR) {
            *out = sl_v_int((int64_t)av[0].u.arr.n);
        } else if (av[0].type == SL_V_OBJ) {
            *out = sl_v_int((int64_t)av[0].u.obj.n);
        } else if (av[0].type == SL_V_NULL) {
            *out = sl_v_null();
        } else {
            return fail(err, e, "length() of %s", sl_vtype_name(av[0].type));
        }
        return 0;
    case F_CONCAT:
    case F_STRING: {
        size_t total = 0;
        for (size_t i = 0; i < e->n_args; i++) {
            if (av[i].type == SL_V_NULL && e->fn == F_CONCAT)
                av[i] = sl_v_str("", 0);
            if (to_text(a, &av[i], &av[i], err))
                return -1;
            total += av[i].u.s.len;
        }
        char *p = sl_arena_alloc(a, total + 1);
        if (!p)
            return oom(err, e);
        size_t at = 0;
        for (size_t i = 0; i < e->n_args; i++) {
            if (av[i].u.s.len)
                memcpy(p + at, av[i].u.s.p, av[i].u.s.len);
            at += av[i].u.s.len;
        }
        *out = sl_v_str(p, total);
        return 0;
    }
    case F_SUBSTR: {
        if (want(e, &av[0], SL_V_STR, 0, err) || want(e, &av[1], SL_V_INT, 1, err) ||
            (e->n_args == 3 && want(e, &av[2], SL_V_INT, 2, err)))
            return -1;
        int64_t len = (int64_t)av[0].u.s.len, start = av[1].u.i;
        if (start < 0)
            start = len + start < 0 ? 0 : len + start;
        if (start > len)
            start = len;
        int64_t n = e->n_args == 3 ? av[2].u.i : len - start;
        if (n < 0)
            return fail(err, e, "substr() length must be >= 0, got %" PRId64, n);
        if (n > len - start)
            n = len - start;
        *out = sl_v_str(av[0].u.s.p + start, (size_t)n);
        return 0;
    }
    case F_SPLIT: {
        if (want(e, &av[0], SL_V_STR, 0, err) || want(e, &av[1], SL_V_STR, 1, err))
            return -1;
        if (av[1].u.s.len == 0)
            return fail(err, e, "split() separator must not be empty");
        const char *s = av[0].u.s.p, *sep = av[1].u.s.p;
        size_t n = av[0].u.s.len, k = av[1].u.s.len, parts = 1;
        for (size_t i = 0; i + k <= n; i++)
            if (memcmp(s + i, sep, k) == 0)
                parts++, i += k - 1;
        sl_value_t *items = sl_arena_alloc(a, parts * sizeof *items);
        if (!items)
            return oom(err, e);
        size_t start = 0, j = 0;
        for (size_t i = 0; i + k <= n; i++)
            if (memcmp(s + i, sep, k) == 0) {
                items[j++] = sl_v_str(s + start, i - start);
                i += k - 1;
                start = i + 1;
            }
        items[j++] = sl_v_str(s + start, n - start);
        out->type = SL_V_ARR;
        out->u.arr.items = items;
        out->u.arr.n = j;
        return 0;
    }
    case F_CONTAINS:
        if (av[0].type == SL_V_ARR) {
            bool found = false;
            for (size_t i = 0; i < av[0].u.arr.n && !found; i++)
                found = sl_value_eq(&av[0].u.arr.items[i], &av[1]);
            *out = sl_v_bool(found);
            return 0;
        }
        /* fall through */
    case F_STARTS_WITH:
    case F_ENDS_WITH: {
        if (want(e, &av[0], SL_V_STR, 0, err) || want(e, &av[1], SL_V_STR, 1, err))
            return -1;
        size_t at, hn = av[0].u.s.len, nn = av[1].u.s.len;
        if (e->fn == F_CONTAINS)
            *out = sl_v_bool(str_find(&av[0], &av[1], &at));
        else if (e->fn == F_STARTS_WITH)
            *out = sl_v_bool(nn <= hn && memcmp(av[0].u.s.p, av[1].u.s.p, nn) == 0);
        else
            *out = sl_v_bool(nn <= hn && memcmp(av[0].u.s.p + hn - nn, av[1].u.s.p, nn) == 0);
        return 0;
    }
    case F_TRIM: {
        if (want(e, &av[0], SL_V_STR, 0, err))
            return -1;
        const char *s = av[0].u.s.p;
        size_t b = 0, n = av[0].u.s.len;
        while (b < n && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r'))
            b++;
        while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
            n--;
        *out = sl_v_str(s + b, n - b);
        return 0;
    }
    case F_ABS:
    case F_ROUND:
    case F_FLOOR:
    case F_CEIL: {
        if (want(e, &av[0], SL_V_FLOAT, 0, err))
            return -1;
        if (av[0].type == SL_V_INT) {
            if (e->fn == F_ABS && av[0].u.i == INT64_MIN)
                return fail(err, e, "abs() overflows");
            *out = sl_v_int(e->fn == F_ABS && av[0].u.i < 0 ? -av[0].u.i : av[0].u.i);
            return 0;
        }
        double f = av[0].u.f;
        f = e->fn == F_ABS ? fabs(f) : e->fn == F_ROUND ? round(f) : e->fn == F_FLOOR ? floor(f) : ceil(f);
        if (e->fn != F_ABS && f >= -9.2e18 && f <= 9.2e18)
            *out = sl_v_int((int64_t)f);
        else
            *out = sl_v_float(f);
        return 0;
    }
    case F_PARSE_TIME: {
        if (want(e, &av[0], SL_V_STR, 0, err))
            return -1;
        int64_t ms;
        if (sl_time_parse_iso(av[0].u.s.p, av[0].u.s.len, &ms))
            return fail(err, e, "parse_time(): '%.*s' is not an ISO-8601 time (2026-11-25T12:00:00Z)",
                        (int)(av[0].u.s.len > 60 ? 60 : av[0].u.s.len), av[0].u.s.p);
        *out = sl_v_int(ms);
        return 0;
    }
    case F_FORMAT_TIME:
        if (want(e, &av[0], SL_V_INT, 0, err))
            return -1;
        if (av[0].u.i < -62135596800000LL || av[0].u.i > 253402300799999LL)
            return fail(err, e, "format_time(): %" PRId64 " is outside years 1..9999", av[0].u.i);
        return format_iso(a, av[0].u.i, out) ? oom(err, e) : 0;
    }
    return fail(err, e, "function '%s' cannot be called here", e->name);
}

/* ---- operators ---- */

static int arith(const sl_expr_t *e, const sl_value_t *x, const sl_value_t *y, sl_arena_t *a, sl_value_t *out,
                 sl_err_t *err)
{
    if (e->op == SL_X_ADD && x->type == SL_V_STR && y->type == SL_V_STR) {
        char *p = sl_arena_alloc(a, x->u.s.len + y->u.s.len + 1);
        if (!p)
            return oom(err, e);
        memcpy(p, x->u.s.p, x->u.s.len);
        memcpy(p + x->u.s.len, y->u.s.p, y->u.s.len);
        *out = sl_v_str(p, x->u.s.len + y->u.s.len);
        return 0;
    }
    bool xn = x->type == SL_V_INT || x->type == SL_V_FLOAT, yn = y->type == SL_V_INT || y->type == SL_V_FLOAT;
    if (x->type == SL_V_NULL || y->type == SL_V_NULL) {
        *out = sl_v_null(); /* null propagates, as in SQL */
        return 0;
    }
    if (!xn || !yn)
        return fail(err, e, "cannot apply '%s' to %s and %s",
                    (const char *[]){"", "+", "-", "*", "/", "%"}[e->op], sl_vtype_name(x->type), sl_vtype_name(y->type));
    if (x->type == SL_V_INT && y->type == SL_V_INT) {
        int64_t r, p = x->u.i, q = y->u.i;
        bool ovf = false;
        switch (e->op) {
        case SL_X_ADD: ovf = __builtin_add_overflow(p, q, &r); break;
        case SL_X_SUB: ovf = __builtin_sub_overflow(p, q, &r); break;
        case SL_X_MUL: ovf = __builtin_mul_overflow(p, q, &r); break;
        case SL_X_DIV:
        case SL_X_MOD:
            if (q == 0)
                return fail(err, e, "division by zero");
            if (p == INT64_MIN && q == -1) {
                ovf = true;
                break;
            }
            if (e->op == SL_X_MOD) {
                r = p % q;
            } else if (p % q == 0) {
                r = p / q;
            } else {
                *out = sl_v_float((double)p / (double)q); /* 7 / 2 = 3.5 */
                return 0;
            }
            break;
        default: return fail(err, e, "bad operator");
        }
        *out = ovf ? sl_v_float(e->op == SL_X_ADD ? (double)p + (double)q
                                : e->op == SL_X_SUB ? (double)p - (double)q
                                : e->op == SL_X_MUL ? (double)p * (double)q : -(double)p)
                   : sl_v_int(r);
        return 0;
    }
    double p = num(x), q = num(y);
    switch (e->op) {
    case SL_X_ADD: *out = sl_v_float(p + q); return 0;
    case SL_X_SUB: *out = sl_v_float(p - q); return 0;
    case SL_X_MUL: *out = sl_v_float(p * q); return 0;
    case SL_X_DIV:
    case SL_X_MOD:
        if (q == 0)
            return fail(err, e, "division by zero");
        *out = sl_v_float(e->op == SL_X_DIV ? p / q : fmod(p, q));
        return 0;
    default: return fail(err, e, "bad operator");
    }
}

static int compare(const sl_expr_t *e, const sl_value_t *x, const sl_value_t *y, sl_value_t *out, sl_err_t *err)
{
    if (e->op == SL_X_EQ || e->op == SL_X_NE) {
        bool eq = sl_value_eq(x, y);
        *out = sl_v_bool(e->op == SL_X_EQ ? eq : !eq);
        return 0;
    }
    bool xn = x->type == SL_V_INT || x->type == SL_V_FLOAT, yn = y->type == SL_V_INT || y->type == SL_V_FLOAT;
    if (!(xn && yn) && !(x->type == SL_V_STR && y->type == SL_V_STR))
        return fail(err, e, "cannot order %s and %s", sl_vtype_name(x->type), sl_vtype_name(y->type));
    int c = sl_value_cmp(x, y);
    bool r = e->op == SL_X_LT ? c < 0 : e->op == SL_X_LE ? c <= 0 : e->op == SL_X_GT ? c > 0 : c >= 0;
    *out = sl_v_bool(r);
    return 0;
}

static int field(const sl_expr_t *e, const sl_value_t *base, const char *name, sl_value_t *out, sl_err_t *err)
{
    if (base->type == SL_V_NULL) {
        *out = sl_v_null();
        return 0;
    }
    if (base->type != SL_V_OBJ)
        return fail(err, e, "cannot read field '%s' of %s", name, sl_vtype_name(base->type));
    const sl_value_t *v = sl_value_get(base, name, strlen(name));
    if (!v)
        return fail(err, e, "field '%s' not found", name);
    *out = *v;
    return 0;
}

int sl_eval(const sl_eval_ctx_t *cx, const sl_expr_t *e, sl_value_t *out, sl_err_t *err)
{
    sl_value_t x, y;
    switch (e->kind) {
    case SL_EX_LIT:
        *out = e->lit;
        return 0;
    case SL_EX_NAME:
        if (strcmp(e->name, "value") == 0 || (cx->self && strcmp(e->name, cx->self) == 0)) {
            *out = *cx->value;
            return 0;
        }
        if (strcmp(e->name, "key") == 0) {
            *out = cx->key ? *cx->key : sl_v_null();
            return 0;
        }
        if (cx->value->type != SL_V_OBJ)
            return fail(err, e, "field '%s' not found: the value is %s, not an object", e->name,
                        sl_vtype_name(cx->value->type));
        return field(e, cx->value, e->name, out, err);
    case SL_EX_FIELD:
        if (sl_eval(cx, e->a, &x, err))
            return -1;
        if (strcmp(e->name, "key") == 0 && e->a->kind == SL_EX_NAME && cx->self && !strcmp(e->a->name, cx->self)) {
            *out = cx->key ? *cx->key : sl_v_null(); /* clicks.key */
            return 0;
        }
        return field(e, &x, e->name, out, err);
    case SL_EX_INDEX:
        if (sl_eval(cx, e->a, &x, err) || sl_eval(cx, e->b, &y, err))
            return -1;
        if (x.type == SL_V_NULL) {
            *out = sl_v_null();
            return 0;
        }
        if (x.type == SL_V_ARR && y.type == SL_V_INT) {
            int64_t i = y.u.i < 0 ? (int64_t)x.u.arr.n + y.u.i : y.u.i;
            if (i < 0 || i >= (int64_t)x.u.arr.n)
                return fail(err, e, "index %" PRId64 " out of range (array of %zu)", y.u.i, x.u.arr.n);
            *out = x.u.arr.items[i];
            return 0;
        }
        if (x.type == SL_V_OBJ && y.type == SL_V_STR) {
            const sl_value_t *v = sl_value_get(&x, y.u.s.p, y.u.s.len);
            if (!v)
                return fail(err, e, "field '%.*s' not found", (int)y.u.s.len, y.u.s.p);
            *out = *v;
            return 0;
        }
        return fail(err, e, "cannot index %s with %s", sl_vtype_name(x.type), sl_vtype_name(y.type));
    case SL_EX_UNARY:
        if (sl_eval(cx, e->a, &x, err))
            return -1;
        if (e->op == SL_X_NOT) {
            if (x.type != SL_V_BOOL)
                return fail(err, e, "'not' needs a bool, got %s", sl_vtype_name(x.type));
            *out = sl_v_bool(!x.u.b);
        } else if (x.type == SL_V_INT && x.u.i != INT64_MIN) {
            *out = sl_v_int(-x.u.i);
        } else if (x.type == SL_V_INT || x.type == SL_V_FLOAT) {
            *out = sl_v_float(-num(&x));
        } else if (x.type == SL_V_NULL) {
            *out = x;
        } else {
            return fail(err, e, "cannot negate %s", sl_vtype_name(x.type));
        }
        return 0;
    case SL_EX_BINARY:
        if (e->op == SL_X_AND || e->op == SL_X_OR) {
            if (sl_eval(cx, e->a, &x, err))
                return -1;
            if (x.type != SL_V_BOOL)
                return fail(err, e, "'%s' needs bools, got %s", e->op == SL_X_AND ? "and" : "or",
                            sl_vtype_name(x.type));
            if (x.u.b == (e->op == SL_X_OR)) { /* short circuit */
                *out = x;
                return 0;
            }
            if (sl_eval(cx, e->b, &y, err))
                return -1;
            if (y.type != SL_V_BOOL)
                return fail(err, e, "'%s' needs bools, got %s", e->op == SL_X_AND ? "and" : "or",
                            sl_vtype_name(y.type));
            *out = y;
            return 0;
        }
        if (sl_eval(cx, e->a, &x, err) || sl_eval(cx, e->b, &y, err))
            return -1;
        if (e->op >= SL_X_EQ && e->op <= SL_X_GE)
            return compare(e, &x, &y, out, err);
        return arith(e, &x, &y, cx->arena, out, err);
    case SL_EX_IN:
        if (sl_eval(cx, e->a, &x, err))
            return -1;
        if (e->b) {
            if (sl_eval(cx, e->b, &y, err))
                return -1;
            if (y.type != SL_V_ARR)
                return fail(err, e, "'in' needs a list, got %s", sl_vtype_name(y.type));
            for (size_t i = 0; i < y.u.arr.n; i++)
                if (sl_value_eq(&x, &y.u.arr.items[i])) {
                    *out = sl_v_bool(true);
                    return 0;
                }
        } else {
            for (size_t i = 0; i < e->n_args; i++) {
                if (sl_eval(cx, e->args[i], &y, err))
                    return -1;
                if (sl_value_eq(&x, &y)) {
                    *out = sl_v_bool(true);
                    return 0;
                }
            }
        }
        *out = sl_v_bool(false);
        return 0;
    case SL_EX_CALL:
        return call(cx, e, out, err);
    case SL_EX_ARRAY:
    case SL_EX_OBJECT: {
        sl_value_t *items = NULL;
        sl_member_t *m = NULL;
        if (e->kind == SL_EX_ARRAY ? !(items = sl_arena_alloc(cx->arena, (e->n_args + 1) * sizeof *items))
                                   : !(m = sl_arena_alloc(cx->arena, (e->n_args + 1) * sizeof *m)))
            return oom(err, e);
        for (size_t i = 0; i < e->n_args; i++) {
            if (sl_eval(cx, e->args[i], items ? &items[i] : &m[i].val, err))
                return -1;
            if (m) {
                m[i].key = e->names[i];
                m[i].key_len = strlen(e->names[i]);
            }
        }
        if (items) {
            out->type = SL_V_ARR;
            out->u.arr.items = items;
            out->u.arr.n = e->n_args;
        } else {
            out->type = SL_V_OBJ;
            out->u.obj.m = m;
            out->u.obj.n = e->n_args;
        }
        return 0;
    }
    }
    return fail(err, e, "bad expression");
}
