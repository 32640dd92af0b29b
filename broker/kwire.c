/* Bounds-checked readers and writers for the Kafka protocol's primitive types
 * (see kwire.h).  Every length and count from the network is checked against
 * the bytes that remain in the frame before it is used. */
#include "broker/kwire.h"

static bool need(kr_t *r, size_t n)
{
    if (r->err || kr_left(r) < n) {
        r->err = true;
        return false;
    }
    return true;
}

int8_t kr_i8(kr_t *r) { return need(r, 1) ? (int8_t)*r->p++ : 0; }

int16_t kr_i16(kr_t *r)
{
    if (!need(r, 2))
        return 0;
    int16_t v = (int16_t)sl_be16(r->p);
    r->p += 2;
    return v;
}

int32_t kr_i32(kr_t *r)
{
    if (!need(r, 4))
        return 0;
    int32_t v = (int32_t)sl_be32(r->p);
    r->p += 4;
    return v;
}

int64_t kr_i64(kr_t *r)
{
    if (!need(r, 8))
        return 0;
    int64_t v = (int64_t)sl_be64(r->p);
    r->p += 8;
    return v;
}

uint64_t kr_uvarint(kr_t *r)
{
    uint64_t v = 0;
    if (r->err)
        return 0;
    size_t n = sl_uvarint_get(r->p, kr_left(r), SL_VARINT_MAX, &v);
    if (!n) {
        r->err = true;
        return 0;
    }
    r->p += n;
    return v;
}

static kstr_t take(kr_t *r, int64_t len, bool nullable)
{
    kstr_t s = {NULL, -1};
    if (r->err)
        return s;
    if (len < 0) {
        if (!nullable || len != -1)
            r->err = true;
        return s;
    }
    if (!need(r, (size_t)len))
        return s;
    s.p = (const char *)r->p;
    s.len = (int32_t)len;
    r->p += len;
    return s;
}

kstr_t kr_str(kr_t *r, bool nullable) { return take(r, kr_i16(r), nullable); }
kstr_t kr_bytes(kr_t *r, bool nullable) { return take(r, kr_i32(r), nullable); }

static int64_t compact_len(kr_t *r)
{
    uint64_t v = kr_uvarint(r);
    if (v > INT32_MAX) {
        r->err = true;
        return 0;
    }
    return (int64_t)v - 1;
}

kstr_t kr_cstr(kr_t *r, bool nullable) { return take(r, compact_len(r), nullable); }
kstr_t kr_cbytes(kr_t *r, bool nullable) { return take(r, compact_len(r), nullable); }

static int32_t check_count(kr_t *r, int64_t n, size_t min_elem)
{
    if (r->err)
        return 0;
    if (n < 0)
        return 0; /* null array: no elements */
    if (min_elem && (uint64_t)n > kr_left(r) / min_elem) {
        r->err = true;
        return 0;
    }
    return (int32_t)n;
}

int32_t kr_array(kr_t *r, size_t min_elem)
{
    int32_t n = kr_i32(r);
    if (n < -1)
        r->err = true;
    return check_count(r, n, min_elem);
}

int32_t kr_carray(kr_t *r, size_t min_elem) { return check_count(r, compact_len(r), min_elem); }

void kr_tags(kr_t *r)
{
    uint64_t n = kr_uvarint(r);
    if (n > kr_left(r)) {
        r->err = true;
        return;
    }
    for (uint64_t i = 0; i < n && !r->err; i++) {
        kr_uvarint(r); /* tag */
        uint64_t size = kr_uvarint(r);
        if (!r->err && need(r, size))
            r->p += size;
    }
}

bool kstr_copy(kstr_t s, char *buf, size_t cap)
{
    if (s.len < 0 || (size_t)s.len >= cap)
        return false;
    memcpy(buf, s.p, (size_t)s.len);
    buf[s.len] = '\0';
    return true;
}

/* ---- writers ---- */

void kw_raw(kw_t *w, const void *p, size_t n)
{
    if (!w->err && sl_buf_append(w->b, p, n))
        w->err = true;
}

void kw_i8(kw_t *w, int8_t v) { kw_raw(w, &v, 1); }

void kw_i16(kw_t *w, int16_t v)
{
    uint8_t b[2];
    sl_put_be16(b, (uint16_t)v);
    kw_raw(w, b, 2);
}

void kw_i32(kw_t *w, int32_t v)
{
    uint8_t b[4];
    sl_put_be32(b, (uint32_t)v);
    kw_raw(w, b, 4);
}

void kw_i64(kw_t *w, int64_t v)
{
    uint8_t b[8];
    sl_put_be64(b, (uint64_t)v);
    kw_raw(w, b, 8);
}

void kw_uvarint(kw_t *w, uint64_t v)
{
    uint8_t b[SL_VARINT_MAX];
    kw_raw(w, b, sl_uvarint_put(b, v));
}

void kw_string(kw_t *w, bool flex, const char *p, int32_t len)
{
    if (flex)
        kw_uvarint(w, len < 0 ? 0 : (uint64_t)len + 1);
    else
        kw_i16(w, (int16_t)(len < 0 ? -1 : len));
    if (len > 0)
        kw_raw(w, p, (size_t)len);
}

void kw_cstring(kw_t *w, bool flex, const char *s) { kw_string(w, flex, s, s ? (int32_t)strlen(s) : -1); }

void kw_bytes(kw_t *w, bool flex, const void *p, int32_t len)
{
    if (flex)
        kw_uvarint(w, len < 0 ? 0 : (uint64_t)len + 1);
    else
        kw_i32(w, len < 0 ? -1 : len);
    if (len > 0)
        kw_raw(w, p, (size_t)len);
}

void kw_arr(kw_t *w, bool flex, int32_t n)
{
    if (flex)
        kw_uvarint(w, n < 0 ? 0 : (uint64_t)n + 1);
    else
        kw_i32(w, n);
}

void kw_tags(kw_t *w, bool flex)
{
    if (flex)
        kw_uvarint(w, 0);
}

size_t kw_reserve32(kw_t *w)
{
    size_t at = w->b->len;
    kw_i32(w, 0);
    return at;
}

void kw_patch32(kw_t *w, size_t at, int32_t v)
{
    if (!w->err && at + 4 <= w->b->len)
        sl_put_be32(w->b->data + at, (uint32_t)v);
}
