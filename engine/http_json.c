/* JSON output of the HTTP query server: stored msgpack values and raw key
 * bytes rendered as JSON text.  Written directly into an sl_buf_t (no JSON
 * library tree per row: a scan of 10,000 rows builds no objects); the only
 * escaping rules are JSON's, and any byte sequence comes out as valid JSON. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/http.h"

static int dump_to_buf(const char *p, size_t n, void *arg)
{
    return sl_buf_append(arg, p, n);
}

int http_json_fmt(sl_buf_t *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return sl_buf_append(out, small, (size_t)n);
    if (sl_buf_reserve(out, (size_t)n + 1))
        return -1;
    va_start(ap, fmt);
    vsnprintf((char *)out->data + out->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out->len += (size_t)n;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

int http_json_str(sl_buf_t *out, const void *s, size_t n)
{
    const uint8_t *p = s;
    if (sl_buf_reserve(out, n + 2))
        return -1;
    out->data[out->len++] = '"';
    size_t run = 0; /* bytes copied as they are, appended in one go */
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t l = c >= 0x20 && c != '"' && c != '\\' ? utf8_len(p + i, n - i) : 0;
        if (l > 0) {
            i += l;
            run += l;
            continue;
        }
        if (run && sl_buf_append(out, p + i - run, run))
            return -1;
        run = 0;
        char esc[8];
        const char *e = esc;
        size_t el = 2;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            el = 6;
        }
        if (sl_buf_append(out, e, el))
            return -1;
        i++;
    }
    if (run && sl_buf_append(out, p + n - run, run))
        return -1;
    return sl_buf_append(out, "\"", 1);
}

static int json_f64(sl_buf_t *out, double d)
{
    if (isnan(d) || isinf(d))
        return sl_buf_append(out, "null", 4);
    char b[40];
    int n = snprintf(b, sizeof b, "%.17g", d);
    /* Shortest text that reads back the same double. */
    for (int prec = 1; prec < 17; prec++) {
        char t[40];
        int m = snprintf(t, sizeof t, "%.*g", prec, d);
        if (strtod(t, NULL) == d) {
            memcpy(b, t, (size_t)m + 1);
            n = m;
            break;
        }
    }
    if (!strpbrk(b, ".eE") && n + 2 < (int)sizeof b) { /* keep floats floats: 2.0, not 2 */
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    return sl_buf_append(out, b, (size_t)n);
}

#define MAX_DEPTH 64

static int json_obj(sl_buf_t *out, const msgpack_object *o, bool hide_internal, int depth)
{
    if (depth > MAX_DEPTH)
        return sl_buf_append(out, "null", 4);
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return sl_buf_append(out, "null", 4);
    case MSGPACK_OBJECT_BOOLEAN: return o->via.boolean ? sl_buf_append(out, "true", 4) : sl_buf_append(out, "false", 5);
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return http_json_fmt(out, "%llu", (unsigned long long)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return http_json_fmt(out, "%lld", (long long)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return json_f64(out, o->via.f64);
    case MSGPACK_OBJECT_STR: return http_json_str(out, o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN: return http_json_str(out, o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_EXT: return http_json_str(out, o->via.ext.ptr, o->via.ext.size);
    case MSGPACK_OBJECT_ARRAY:
        if (sl_buf_append(out, "[", 1))
            return -1;
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if ((i && sl_buf_append(out, ",", 1)) || json_obj(out, &o->via.array.ptr[i], false, depth + 1))
                return -1;
        return sl_buf_append(out, "]", 1);
    case MSGPACK_OBJECT_MAP: {
        if (sl_buf_append(out, "{", 1))
            return -1;
        bool first = true;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (hide_internal && k->type == MSGPACK_OBJECT_STR && k->via.str.size > 0 && k->via.str.ptr[0] == '$')
                continue;
            if (!first && sl_buf_append(out, ",", 1))
                return -1;
            first = false;
            if (k->type == MSGPACK_OBJECT_STR) {
                if (http_json_str(out, k->via.str.ptr, k->via.str.size))
                    return -1;
            } else {
                sl_buf_t kt;
                sl_buf_init(&kt);
                int rc = json_obj(&kt, k, false, depth + 1) || http_json_str(out, kt.data, kt.len);
                sl_buf_free(&kt);
                if (rc)
                    return -1;
            }
            if (sl_buf_append(out, ":", 1) || json_obj(out, &o->via.map.ptr[i].val, false, depth + 1))
                return -1;
        }
        return sl_buf_append(out, "}", 1);
    }
    }
    return sl_buf_append(out, "null", 4);
}

int http_json_msgpack(sl_buf_t *out, const msgpack_object *o, bool hide_internal)
{
    return json_obj(out, o, hide_internal, 0);
}

int http_json_value(sl_buf_t *out, sl_codec_t *codec, bool raw, const uint8_t *p, size_t n)
{
    if (raw) {
        json_t *j = n ? json_loadb((const char *)p, n, JSON_DECODE_ANY, NULL) : NULL;
        if (!j)
            return http_json_str(out, p, n);
        int rc = json_dump_callback(j, dump_to_buf, out, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        return rc;
    }
    msgpack_object o;
    if (sl_codec_decode(codec, p, n, &o) != 0)
        return http_json_str(out, p, n);
    return http_json_msgpack(out, &o, true);
}
