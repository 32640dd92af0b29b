/* The small parsers of the HTTP query server: percent-decoding of path
 * segments and query strings, query parameters, times (epoch ms or ISO-8601),
 * integers, booleans and continuation tokens.  h2o parses HTTP itself; these
 * parse what the request means.  Pure functions over (pointer, length), every
 * length checked, so a hostile URL costs at most a 400. */
#include <stdio.h>
#include <string.h>

#include "engine/http.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http_pct_decode(const char *s, size_t n, bool plus_space, sl_buf_t *out)
{
    sl_buf_reset(out);
    if (sl_buf_reserve(out, n + 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            out->data[out->len++] = (uint8_t)(h << 4 | l);
            i += 2;
        } else {
            out->data[out->len++] = (uint8_t)(plus_space && c == '+' ? ' ' : c);
        }
    }
    out->data[out->len] = '\0'; /* not counted in len: handy for names */
    return 0;
}

/* Walk the parameters of q: name and value bounds of each.  Returns 1 with
 * the next one, 0 at the end. */
static int next_param(const http_query_t *q, size_t *pos, const char **name, size_t *name_len, const char **val,
                      size_t *val_len)
{
    while (*pos < q->len) {
        const char *start = q->p + *pos;
        const char *amp = memchr(start, '&', q->len - *pos);
        size_t len = amp ? (size_t)(amp - start) : q->len - *pos;
        *pos += len + (amp ? 1 : 0);
        if (len == 0)
            continue; /* "a=1&&b=2" */
        const char *eq = memchr(start, '=', len);
        *name = start;
        *name_len = eq ? (size_t)(eq - start) : len;
        *val = eq ? eq + 1 : start + len;
        *val_len = eq ? len - *name_len - 1 : 0;
        return 1;
    }
    return 0;
}

int http_query_get(const http_query_t *q, const char *name, sl_buf_t *out)
{
    size_t pos = 0, nl, vl, want = strlen(name);
    const char *n, *v;
    sl_buf_t dn;
    sl_buf_init(&dn);
    int rc = 0;
    while (next_param(q, &pos, &n, &nl, &v, &vl)) {
        if (http_pct_decode(n, nl, true, &dn)) {
            rc = -1;
            break;
        }
        if (dn.len == want && memcmp(dn.data, name, want) == 0) {
            rc = http_pct_decode(v, vl, true, out) ? -1 : 1;
            break;
        }
    }
    sl_buf_free(&dn);
    return rc;
}

int http_query_check(const http_query_t *q, const char *const *allowed, size_t n, char *bad, size_t bad_size)
{
    size_t pos = 0, nl, vl;
    const char *name, *v;
    sl_buf_t dn, dv;
    sl_buf_init(&dn);
    sl_buf_init(&dv);
    int rc = 0;
    while (rc == 0 && next_param(q, &pos, &name, &nl, &v, &vl)) {
        if (http_pct_decode(name, nl, true, &dn) || http_pct_decode(v, vl, true, &dv)) {
            snprintf(bad, bad_size, "%.*s", (int)(nl < 64 ? nl : 64), name);
            rc = -1;
            break;
        }
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strlen(allowed[i]) == dn.len && memcmp(allowed[i], dn.data, dn.len) == 0;
        if (!ok) {
            snprintf(bad, bad_size, "%.*s", (int)(dn.len < 64 ? dn.len : 64), (const char *)dn.data);
            rc = -1;
        }
    }
    sl_buf_free(&dn);
    sl_buf_free(&dv);
    return rc;
}

int http_parse_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *v)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 19)
        return -1;
    uint64_t acc = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        acc = acc * 10 + (uint64_t)(s[i] - '0'); /* <= 19 digits: no overflow of uint64 */
    }
    if (acc > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return -1;
    int64_t r = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    if (r < min || r > max)
        return -1;
    *v = r;
    return 0;
}

int http_parse_bool(const char *s, size_t n, bool *v)
{
    if ((n == 4 && !memcmp(s, "true", 4)) || (n == 1 && s[0] == '1')) {
        *v = true;
        return 0;
    }
    if ((n == 5 && !memcmp(s, "false", 5)) || (n == 1 && s[0] == '0')) {
        *v = false;
        return 0;
    }
    return -1;
}

/* ---- times ---------------------------------------------------------------------------------------- */

int http_parse_time(const char *s, size_t n, int64_t *ms)
{
    if (n == 0)
        return -1;
    /* Epoch milliseconds: all digits (with an optional sign).  A date has '-' after 4 digits. */
    if (n < 5 || s[4] != '-' || s[0] == '-' || s[0] == '+')
        return http_parse_int(s, n, INT64_MIN / 2, INT64_MAX / 2, ms);
    return sl_time_parse_iso(s, n, ms);
}

/* ---- continuation tokens ---------------------------------------------------------------------------------
 * Bytes: version 1 | flags (bit 0: reverse) | t1 (8, BE) | t2 (8, BE) | key,
 * as base64url without padding. */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

#define TOKEN_VERSION 1
#define TOKEN_HEAD 18

int http_token_encode(const http_token_t *t, sl_buf_t *out)
{
    if (t->key_len > SL_STORE_MAX_KEY)
        return -1;
    uint8_t raw[TOKEN_HEAD + SL_STORE_MAX_KEY];
    raw[0] = TOKEN_VERSION;
    raw[1] = t->reverse ? 1 : 0;
    sl_put_be64(raw + 2, (uint64_t)t->t1);
    sl_put_be64(raw + 10, (uint64_t)t->t2);
    if (t->key_len)
        memcpy(raw + TOKEN_HEAD, t->key, t->key_len);
    size_t n = TOKEN_HEAD + t->key_len;
    if (sl_buf_reserve(out, (n + 2) / 3 * 4))
        return -1;
    char *o = (char *)out->data + out->len;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (i + 1 < n ? (uint32_t)raw[i + 1] << 8 : 0) |
                     (i + 2 < n ? raw[i + 2] : 0);
        o[k++] = b64[v >> 18 & 63];
        o[k++] = b64[v >> 12 & 63];
        if (i + 1 < n)
            o[k++] = b64[v >> 6 & 63];
        if (i + 2 < n)
            o[k++] = b64[v & 63];
    }
    out->len += k;
    return 0;
}

int http_token_decode(const char *s, size_t n, sl_buf_t *buf, http_token_t *t)
{
    sl_buf_reset(buf);
    if (n % 4 == 1 || n > (TOKEN_HEAD + SL_STORE_MAX_KEY + 2) / 3 * 4 || sl_buf_reserve(buf, n))
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(s[i]);
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf->data[buf->len++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return -1;
    if (buf->len < TOKEN_HEAD || buf->data[0] != TOKEN_VERSION || buf->data[1] > 1 ||
        buf->len - TOKEN_HEAD > SL_STORE_MAX_KEY)
        return -1;
    t->reverse = buf->data[1] == 1;
    t->t1 = (int64_t)sl_be64(buf->data + 2);
    t->t2 = (int64_t)sl_be64(buf->data + 10);
    t->key = buf->data + TOKEN_HEAD;
    t->key_len = buf->len - TOKEN_HEAD;
    return 0;
}
