/* Numbers for count / sum / min / max / avg, in one place for the plain and
 * the windowed aggregations: decoding a msgpack integer or float, int64
 * arithmetic while it fits (then a float), exact int comparison. */
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
