/* JSON text <-> sl_value_t without an intermediate tree.
 *
 * Records are decoded and encoded once per record, so this is on the hot
 * path of every job with JSON topics.  Going through jansson cost ~5 us to
 * parse a 200-byte Nexmark bid (a hash table per object, a malloc per node,
 * then a copy into the arena) and ~5 us to encode it (a jansson tree built
 * from the value, dumped twice: once to size the buffer).
 *
 * The contract is jansson's, exactly (tests/unit/test_dsl_json.c compares
 * both on every case and on random documents):
 *   - decode: the fast path accepts the common subset (valid UTF-8, no NUL in
 *     strings, integers that fit int64, no duplicate keys, objects of up to
 *     SL_JSON_FAST_MEMBERS members, depth <= 256) and returns 1 ("not mine")
 *     for anything else, which the caller then decodes with jansson, so
 *     that errors and edge cases (duplicate keys: first position, last value)
 *     keep jansson's behaviour and messages;
 *   - encode: compact separators, insertion order, strings escaped as jansson
 *     does without JSON_ENSURE_ASCII, doubles as jansson's "%.17g" with ".0"
 *     added to integral values and exponent zeros and '+' removed,
 *     non-finite doubles as null, invalid UTF-8 refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsl/value.h"

#define SL_JSON_FAST_MEMBERS 64
#define SL_JSON_MAX_DEPTH 256

/* ---- UTF-8 ----------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (0: invalid), as jansson checks it:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end, int32_t *cp)
{
    unsigned char c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    int32_t v;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return n;
}

/* ---- decode ---------------------------------------------------------------------------------- */

typedef struct jp {
    const unsigned char *p, *end;
    sl_arena_t *a;
} jp_t;

enum { J_OK = 0, J_NOT_MINE = 1, J_NOMEM = -1 };

static void skip_ws(jp_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* After an array element or object member: 1 at ',' (another follows), 0 at
 * `close` (the end), -1 otherwise; consumes what it read. */
static int next_item(jp_t *j, char close)
{
    skip_ws(j);
    if (j->p < j->end && (*j->p == ',' || *j->p == close))
        return *j->p++ == ',';
    return -1;
}

static int hex4(const unsigned char *p, int32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

static size_t utf8_put(char *out, int32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at j->p (the opening quote), into the arena. */
static int parse_string(jp_t *j, const char **s, size_t *len)
{
    const unsigned char *start = ++j->p, *q = start;
    bool escapes = false;
    while (q < j->end && *q != '"') {
        if (*q >= 0x20 && *q < 0x80 && *q != '\\') { /* plain ASCII */
            q++;
            continue;
        }
        if (*q == '\\') {
            escapes = true;
            q += 2;
            continue;
        }
        if (*q < 0x20)
            return J_NOT_MINE; /* control character: jansson's error */
        int32_t cp;
        size_t n = utf8_len(q, j->end, &cp);
        if (!n)
            return J_NOT_MINE;
        q += n;
    }
    if (q >= j->end)
        return J_NOT_MINE;
    size_t raw = (size_t)(q - start);
    char *out = sl_arena_alloc(j->a, raw + 1);
    if (!out)
        return J_NOMEM;
    if (!escapes) {
        memcpy(out, start, raw);
        out[raw] = '\0';
        *s = out;
        *len = raw;
        j->p = q + 1;
        return J_OK;
    }
    size_t o = 0; /* decoded text is never longer than the escaped one */
    for (const unsigned char *r = start; r < q;) {
        if (*r != '\\') {
            out[o++] = (char)*r++;
            continue;
        }
        if (r + 1 >= q)
            return J_NOT_MINE;
        unsigned char e = r[1];
        r += 2;
        switch (e) {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            int32_t cp, lo;
            if (q - r < 4 || hex4(r, &cp))
                return J_NOT_MINE;
            r += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (q - r < 6 || r[0] != '\\' || r[1] != 'u' || hex4(r + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return J_NOT_MINE;
                r += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                return J_NOT_MINE; /* lone low surrogate; NUL needs JSON_ALLOW_NUL */
            }
            o += utf8_put(out + o, cp);
            break;
        }
        default: return J_NOT_MINE;
        }
    }
    out[o] = '\0';
    *s = out;
    *len = o;
    j->p = q + 1;
    return J_OK;
}

static int parse_number(jp_t *j, sl_value_t *out)
{
    const unsigned char *s = j->p, *q = s;
    if (q < j->end && *q == '-')
        q++;
    if (q >= j->end || *q < '0' || *q > '9')
        return J_NOT_MINE;
    if (*q == '0' && q + 1 < j->end && q[1] >= '0' && q[1] <= '9')
        return J_NOT_MINE; /* leading zero */
    while (q < j->end && *q >= '0' && *q <= '9')
        q++;
    bool real = false;
    if (q < j->end && *q == '.') {
        real = true;
        q++;
        if (q >= j->end || *q < '0' || *q > '9')
            return J_NOT_MINE;
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < j->end && (*q == 'e' || *q == 'E')) {
        real = true;
        q++;
        if (q < j->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= j->end || *q < '0' || *q > '9')
            return J_NOT_MINE;
        while (q < j->end && *q >= '0' && *q <= '9')
            q++;
    }
    size_t n = (size_t)(q - s);
    if (!real) {
        bool neg = *s == '-';
        uint64_t v = 0;
        for (const unsigned char *d = s + neg; d < q; d++) {
            if (v > (UINT64_MAX - 9) / 10)
                return J_NOT_MINE;
            v = v * 10 + (uint64_t)(*d - '0');
        }
        if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
            return J_NOT_MINE; /* too big: jansson's error */
        *out = sl_v_int(neg ? (int64_t)(0 - v) : (int64_t)v);
        j->p = q;
        return J_OK;
    }
    char buf[64];
    if (n >= sizeof buf)
        return J_NOT_MINE;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    double d = strtod(buf, &e);
    if (e != buf + n || isinf(d))
        return J_NOT_MINE; /* overflow: jansson's error */
    *out = sl_v_float(d);
    j->p = q;
    return J_OK;
}

static int parse_value(jp_t *j, sl_value_t *out, int depth);

static int parse_array(jp_t *j, sl_value_t *out, int depth)
{
    j->p++;
    sl_value_t small[16], *items = small;
    size_t n = 0, cap = 16;
    int rc = J_OK;
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
    } else {
        for (;;) {
            if (n == cap) {
                sl_value_t *bigger = sl_arena_alloc(j->a, cap * 2 * sizeof *bigger);
                if (!bigger)
                    return J_NOMEM;
                memcpy(bigger, items, n * sizeof *items);
                items = bigger;
                cap *= 2;
            }
            if ((rc = parse_value(j, &items[n], depth + 1)) != J_OK)
                return rc;
            n++;
            int more = next_item(j, ']');
            if (more < 0)
                return J_NOT_MINE;
            if (!more)
                break;
        }
    }
    sl_value_t *final = items;
    if (items == small) {
        final = sl_arena_alloc(j->a, (n ? n : 1) * sizeof *final);
        if (!final)
            return J_NOMEM;
        memcpy(final, small, n * sizeof *final);
    }
    out->type = SL_V_ARR;
    out->u.arr.items = final;
    out->u.arr.n = n;
    return J_OK;
}

static int parse_object(jp_t *j, sl_value_t *out, int depth)
{
    j->p++;
    sl_member_t m[SL_JSON_FAST_MEMBERS];
    size_t n = 0;
    int rc;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
    } else {
        for (;;) {
            if (n == SL_JSON_FAST_MEMBERS)
                return J_NOT_MINE;
            skip_ws(j);
            if (j->p >= j->end || *j->p != '"')
                return J_NOT_MINE;
            if ((rc = parse_string(j, &m[n].key, &m[n].key_len)) != J_OK)
                return rc;
            for (size_t k = 0; k < n; k++) /* a duplicate: jansson keeps the first position, the last value */
                if (m[k].key_len == m[n].key_len && !memcmp(m[k].key, m[n].key, m[n].key_len))
                    return J_NOT_MINE;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return J_NOT_MINE;
            j->p++;
            if ((rc = parse_value(j, &m[n].val, depth + 1)) != J_OK)
                return rc;
            n++;
            int more = next_item(j, '}');
            if (more < 0)
                return J_NOT_MINE;
            if (!more)
                break;
        }
    }
    sl_member_t *final = sl_arena_alloc(j->a, (n ? n : 1) * sizeof *final);
    if (!final)
        return J_NOMEM;
    memcpy(final, m, n * sizeof *final);
    out->type = SL_V_OBJ;
    out->u.obj.m = final;
    out->u.obj.n = n;
    return J_OK;
}

static bool lit(jp_t *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
        return false;
    j->p += n;
    return true;
}

static int parse_value(jp_t *j, sl_value_t *out, int depth)
{
    if (depth > SL_JSON_MAX_DEPTH)
        return J_NOT_MINE;
    skip_ws(j);
    if (j->p >= j->end)
        return J_NOT_MINE;
    switch (*j->p) {
    case '{': return parse_object(j, out, depth);
    case '[': return parse_array(j, out, depth);
    case '"': {
        const char *s;
        size_t len;
        int rc = parse_string(j, &s, &len);
        if (rc == J_OK)
            *out = sl_v_str(s, len);
        return rc;
    }
    case 't':
        if (!lit(j, "true", 4))
            return J_NOT_MINE;
        *out = sl_v_bool(true);
        return J_OK;
    case 'f':
        if (!lit(j, "false", 5))
            return J_NOT_MINE;
        *out = sl_v_bool(false);
        return J_OK;
    case 'n':
        if (!lit(j, "null", 4))
            return J_NOT_MINE;
        *out = sl_v_null();
        return J_OK;
    default: return parse_number(j, out);
    }
}

int sl_json_decode_fast(sl_arena_t *a, const void *p, size_t n, sl_value_t *out)
{
    jp_t j = {p, (const unsigned char *)p + n, a};
    int rc = parse_value(&j, out, 0);
    if (rc != J_OK)
        return rc;
    skip_ws(&j);
    return j.p == j.end ? J_OK : J_NOT_MINE;
}

/* ---- encode ---------------------------------------------------------------------------------- */

static int put(sl_buf_t *b, const void *p, size_t n) { return sl_buf_append(b, p, n) ? -1 : 0; }

static int put_string(sl_buf_t *b, const char *s, size_t len)
{
    if (sl_buf_reserve(b, len + 2))
        return -1;
    b->data[b->len++] = '"';
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        const unsigned char *run = p; /* copy plain bytes in runs */
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
            p++;
        if (p > run && put(b, run, (size_t)(p - run)))
            return -1;
        if (p >= end)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            int32_t cp;
            size_t n = utf8_len(p, end, &cp);
            if (!n)
                return -1; /* invalid UTF-8: jansson refuses to encode it */
            if (put(b, p, n))
                return -1;
            p += n;
            continue;
        }
        char esc[8];
        const char *e = esc;
        size_t en = 2;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default: en = (size_t)snprintf(esc, sizeof esc, "\\u%04X", c); break;
        }
        if (put(b, e, en))
            return -1;
        p++;
    }
    return put(b, "\"", 1);
}

/* jansson's jsonp_dtostr with precision 17. */
static int put_double(sl_buf_t *b, double d)
{
    if (!isfinite(d))
        return put(b, "null", 4);
    char buf[40];
    int n = snprintf(buf, sizeof buf - 3, "%.17g", d);
    if (n < 0 || (size_t)n >= sizeof buf - 3)
        return -1;
    size_t len = (size_t)n;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = '\0';
    }
    char *start = strchr(buf, 'e');
    if (start) {
        start++;
        char *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - buf) + 1);
            len -= (size_t)(end - start);
        }
    }
    return put(b, buf, len);
}

static int encode(const sl_value_t *v, sl_buf_t *b, int depth)
{
    if (depth > SL_JSON_MAX_DEPTH * 4)
        return -1;
    switch (v->type) {
    case SL_V_NULL: return put(b, "null", 4);
    case SL_V_BOOL: return v->u.b ? put(b, "true", 4) : put(b, "false", 5);
    case SL_V_INT: { /* "%lld" without printf */
        char buf[24], *e = buf + sizeof buf, *p = e;
        uint64_t u = v->u.i < 0 ? 0 - (uint64_t)v->u.i : (uint64_t)v->u.i;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v->u.i < 0)
            *--p = '-';
        return put(b, p, (size_t)(e - p));
    }
    case SL_V_FLOAT: return put_double(b, v->u.f);
    case SL_V_STR: return put_string(b, v->u.s.p, v->u.s.len);
    case SL_V_ARR:
        if (put(b, "[", 1))
            return -1;
        for (size_t i = 0; i < v->u.arr.n; i++)
            if ((i && put(b, ",", 1)) || encode(&v->u.arr.items[i], b, depth + 1))
                return -1;
        return put(b, "]", 1);
    case SL_V_OBJ: {
        if (put(b, "{", 1))
            return -1;
        bool first = true;
        const sl_member_t *m = v->u.obj.m;
        bool dedupe = v->u.obj.n <= 256; /* larger objects come from jansson or msgpack maps, without repeats */
        for (size_t i = 0; i < v->u.obj.n; i++) {
            /* a repeated key: at its first position, with its last value (jansson's object_set) */
            bool seen = false;
            for (size_t k = 0; dedupe && k < i && !seen; k++)
                seen = m[k].key_len == m[i].key_len && !memcmp(m[k].key, m[i].key, m[i].key_len);
            if (seen)
                continue;
            size_t last = i;
            for (size_t k = i + 1; dedupe && k < v->u.obj.n; k++)
                if (m[k].key_len == m[i].key_len && !memcmp(m[k].key, m[i].key, m[i].key_len))
                    last = k;
            if ((!first && put(b, ",", 1)) || put_string(b, m[i].key, m[i].key_len) || put(b, ":", 1) ||
                encode(&m[last].val, b, depth + 1))
                return -1;
            first = false;
        }
        return put(b, "}", 1);
    }
    }
    return -1;
}

int sl_json_encode(const sl_value_t *v, sl_buf_t *out)
{
    size_t len = out->len;
    if (encode(v, out, 0)) {
        out->len = len;
        return -1;
    }
    return 0;
}

/* ---- canonical text ---------------------------------------------------------------------------------- */

typedef struct canon {
    const unsigned char *p, *end;
} canon_t;

static bool canon_value(canon_t *c, int depth);

/* Non-zero when one of the eight bytes of x is a control character, '"',
 * '\\' or not ASCII (each term is exact as a yes/no for bytes below 0x80,
 * and x's own high bits cover the others). */
static inline uint64_t swar_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (x | (x - ones * 0x20) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
}

/* A string exactly as put_string writes it: raw valid UTF-8, and only the
 * escapes the encoder produces for '"', '\\' and \b \f \n \r \t (any other
 * control character would need \u00XX: not taken, to stay simple). */
static inline bool canon_string(canon_t *c, const unsigned char **s, size_t *len)
{
    const unsigned char *q = ++c->p;
    *s = q;
    for (;;) {
        /* eight plain ASCII bytes at a time (no control, '"', '\\' or non-ASCII byte) */
        while (c->end - q >= 8) {
            uint64_t x;
            memcpy(&x, q, 8);
            uint64_t m = swar_special(x);
            if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
                /* a false flag can only sit above a true one: the lowest is exact */
                q += (unsigned)__builtin_ctzll(m) >> 3;
#endif
                break;
            }
            q += 8;
        }
        if (q >= c->end)
            return false;
        unsigned char ch = *q;
        if (ch == '"')
            break;
        if (ch >= 0x20 && ch < 0x80 && ch != '\\') {
            q++;
            continue;
        }
        if (ch == '\\') {
            if (q + 1 >= c->end || !q[1] || !strchr("\"\\bfnrt", q[1]))
                return false;
            q += 2;
            continue;
        }
        if (ch < 0x20)
            return false;
        int32_t cp;
        size_t n = utf8_len(q, c->end, &cp);
        if (!n)
            return false;
        q += n;
    }
    *len = (size_t)(q - *s);
    c->p = q + 1;
    return true;
}

static bool canon_value(canon_t *c, int depth)
{
    if (depth > SL_JSON_MAX_DEPTH || c->p >= c->end)
        return false;
    unsigned char ch = *c->p;
    if (ch == '"') {
        const unsigned char *s;
        size_t len;
        return canon_string(c, &s, &len);
    }
    if (ch == '{') {
        c->p++;
        if (c->p < c->end && *c->p == '}')
            return c->p++, true;
        const unsigned char *keys[16];
        size_t lens[16], n = 0;
        for (;;) {
            if (n == 16 || c->p >= c->end || *c->p != '"' || !canon_string(c, &keys[n], &lens[n]))
                return false;
            for (size_t k = 0; k < n; k++) /* a repeated key would be merged by the encoder */
                if (lens[k] == lens[n] && !memcmp(keys[k], keys[n], lens[n]))
                    return false;
            n++;
            if (c->p >= c->end || *c->p++ != ':' || !canon_value(c, depth + 1) || c->p >= c->end)
                return false;
            if (*c->p == '}')
                return c->p++, true;
            if (*c->p++ != ',')
                return false;
        }
    }
    if (ch == '[') {
        c->p++;
        if (c->p < c->end && *c->p == ']')
            return c->p++, true;
        for (;;) {
            if (!canon_value(c, depth + 1) || c->p >= c->end)
                return false;
            if (*c->p == ']')
                return c->p++, true;
            if (*c->p++ != ',')
                return false;
        }
    }
    if (ch == 't' || ch == 'f' || ch == 'n') {
        const char *w = ch == 't' ? "true" : ch == 'f' ? "false" : "null";
        size_t n = strlen(w);
        if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
            return false;
        c->p += n;
        return true;
    }
    /* an integer as "%lld" prints it: no "-0", no leading zero, no fraction or exponent, fits int64 */
    const unsigned char *s = c->p;
    bool neg = *s == '-';
    const unsigned char *d = s + neg;
    if (d >= c->end || *d < '0' || *d > '9' || (*d == '0' && (neg || (d + 1 < c->end && d[1] >= '0' && d[1] <= '9'))))
        return false;
    uint64_t v = 0;
    while (d < c->end && *d >= '0' && *d <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*d++ - '0');
    }
    if (d < c->end && (*d == '.' || *d == 'e' || *d == 'E'))
        return false;
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    c->p = d;
    return true;
}

bool sl_json_is_canonical(const void *p, size_t n)
{
    canon_t c = {p, (const unsigned char *)p + n};
    return n > 0 && canon_value(&c, 0) && c.p == c.end;
}
