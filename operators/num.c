/* Numbers for count / sum / min / max / avg, in one place for the plain and
 * the windowed aggregations: decoding a msgpack integer or float, int64
 * arithmetic while it fits (then a float), exact int comparison. */
#include <string.h>

#include "operators/op.h"

int sl_num_from_object(const msgpack_object *o, sl_num_t *n)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX)
            *n = (sl_num_t){.is_float = true, .f = (double)o->via.u64};
        else
            *n = (sl_num_t){.i = (int64_t)o->via.u64};
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *n = (sl_num_t){.i = o->via.i64};
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *n = (sl_num_t){.is_float = true, .f = o->via.f64};
        return 0;
    default:
        return -1;
    }
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int sl_num_from_msgpack(const uint8_t *p, size_t n, sl_num_t *out)
{
    if (n == 0)
        return -1;
    uint8_t t = p[0];
    if (t <= 0x7f || t >= 0xe0) { /* positive / negative fixint */
        if (n != 1)
            return -1;
        *out = (sl_num_t){.i = (int8_t)t};
        if (t <= 0x7f)
            out->i = t;
        return 0;
    }
    static const uint8_t width[] = {[0xcc - 0xca] = 1, [0xcd - 0xca] = 2, [0xce - 0xca] = 4, [0xcf - 0xca] = 8,
                                    [0xd0 - 0xca] = 1, [0xd1 - 0xca] = 2, [0xd2 - 0xca] = 4, [0xd3 - 0xca] = 8,
                                    [0xca - 0xca] = 4, [0xcb - 0xca] = 8};
    if (t < 0xca || t > 0xd3)
        return -1;
    int w = width[t - 0xca];
    if (n != (size_t)w + 1)
        return -1;
    uint64_t u = be(p + 1, w);
    switch (t) {
    case 0xca: {
        uint32_t b = (uint32_t)u;
        float f;
        memcpy(&f, &b, 4);
        *out = (sl_num_t){.is_float = true, .f = f};
        return 0;
    }
    case 0xcb: {
        double d;
        memcpy(&d, &u, 8);
        *out = (sl_num_t){.is_float = true, .f = d};
        return 0;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        if (u > (uint64_t)INT64_MAX)
            *out = (sl_num_t){.is_float = true, .f = (double)u};
        else
            *out = (sl_num_t){.i = (int64_t)u};
        return 0;
    default: { /* signed: sign-extend from w bytes */
        int shift = 64 - 8 * w;
        *out = (sl_num_t){.i = (int64_t)(u << shift) >> shift};
        return 0;
    }
    }
}

double sl_num_f(const sl_num_t *n) { return n->is_float ? n->f : (double)n->i; }

int sl_num_pack(sl_buf_t *out, const sl_num_t *n)
{
    return n->is_float ? sl_codec_pack_f64(out, n->f) : sl_codec_pack_i64(out, n->i);
}

sl_num_t sl_num_add(sl_num_t a, sl_num_t b)
{
    sl_num_t r = {0};
    if (!a.is_float && !b.is_float && !__builtin_add_overflow(a.i, b.i, &r.i))
        return r;
    return (sl_num_t){.is_float = true, .f = sl_num_f(&a) + sl_num_f(&b)};
}

int sl_num_cmp(const sl_num_t *a, const sl_num_t *b)
{
    if (!a->is_float && !b->is_float)
        return (a->i > b->i) - (a->i < b->i);
    double x = sl_num_f(a), y = sl_num_f(b);
    return (x > y) - (x < y);
}
