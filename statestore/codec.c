/* The byte encodings of state: order-preserving numbers for keys, the window
 * and session key layouts (length-prefixed key + big-endian times, so LMDB's
 * memcmp order is key-then-time order) and their time-index twins, and msgpack
 * values through msgpack-c with a reusable zone so decoding does not allocate. */
#include <math.h>
#include <stdlib.h>

#include "ss.h"

/* ---- sortable numbers ---------------------------------------------------------------- */

void sl_codec_put_i64(uint8_t out[8], int64_t v) { sl_put_be64(out, (uint64_t)v ^ 0x8000000000000000ull); }

int64_t sl_codec_get_i64(const uint8_t in[8]) { return (int64_t)(sl_be64(in) ^ 0x8000000000000000ull); }

/* Positive doubles: set the sign bit, so they sort above every negative.
 * Negative doubles: flip every bit, so a larger magnitude sorts lower. */
void sl_codec_put_f64(uint8_t out[8], double v)
{
    uint64_t u;
    if (isnan(v))
        v = NAN; /* one canonical NaN, sorting above +inf */
    memcpy(&u, &v, 8);
    u = (u & 0x8000000000000000ull) ? ~u : u | 0x8000000000000000ull;
    sl_put_be64(out, u);
}

double sl_codec_get_f64(const uint8_t in[8])
{
    uint64_t u = sl_be64(in);
    u = (u & 0x8000000000000000ull) ? u & ~0x8000000000000000ull : ~u;
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* ---- window / session keys ---------------------------------------------------------- */

int ss_encode(uint8_t *out, size_t *olen, const void *key, size_t klen, int n_times, int64_t t1, int64_t t2)
{
    if (klen > SL_STORE_MAX_KEY)
        return SL_S_ETOOBIG;
    if (klen && !key)
        return SL_S_EINVAL;
    sl_put_be16(out, (uint16_t)klen);
    if (klen)
        memcpy(out + 2, key, klen);
    size_t n = 2 + klen;
    sl_codec_put_i64(out + n, t1), n += 8;
    if (n_times == 2)
        sl_codec_put_i64(out + n, t2), n += 8;
    *olen = n;
    return 0;
}

int ss_decode_primary(sl_store_kind_t kind, const uint8_t *k, size_t kl, sl_entry_t *e)
{
    if (kind == SL_STORE_KV) {
        e->key = k, e->key_len = kl, e->start = e->end = 0;
        return 0;
    }
    size_t times = kind == SL_STORE_WINDOW ? 8 : 16;
    if (kl < 2 + times || (size_t)sl_be16(k) != kl - 2 - times)
        return SL_S_ECORRUPT;
    e->key = k + 2;
    e->key_len = kl - 2 - times;
    const uint8_t *t = k + kl - times;
    if (kind == SL_STORE_WINDOW) {
        e->start = e->end = sl_codec_get_i64(t);
    } else {
        e->end = sl_codec_get_i64(t);
        e->start = sl_codec_get_i64(t + 8);
    }
    return 0;
}

int64_t ss_primary_time(sl_store_kind_t kind, const uint8_t *k, size_t kl)
{
    size_t times = kind == SL_STORE_WINDOW ? 8 : 16;
    return kl >= 2 + times ? sl_codec_get_i64(k + kl - times) : INT64_MIN;
}

/* Window:  len|key|start      <->  start|len|key
 * Session: len|key|end|start  <->  end|len|key|start */
int ss_index_key(sl_store_kind_t kind, const uint8_t *pk, size_t pkl, sl_buf_t *out)
{
    size_t times = kind == SL_STORE_WINDOW ? 8 : 16;
    if (pkl < 2 + times)
        return SL_S_ECORRUPT;
    size_t kpart = pkl - times; /* len|key */
    sl_buf_reset(out);
    if (sl_buf_reserve(out, pkl))
        return SL_S_ENOMEM;
    memcpy(out->data, pk + kpart, 8);
    memcpy(out->data + 8, pk, kpart);
    if (times == 16)
        memcpy(out->data + 8 + kpart, pk + kpart + 8, 8);
    out->len = pkl;
    return 0;
}

int ss_primary_key(sl_store_kind_t kind, const uint8_t *ik, size_t ikl, sl_buf_t *out)
{
    size_t times = kind == SL_STORE_WINDOW ? 8 : 16;
    if (ikl < 2 + times || (size_t)sl_be16(ik + 8) != ikl - 2 - times)
        return SL_S_ECORRUPT;
    size_t kpart = ikl - times;
    sl_buf_reset(out);
    if (sl_buf_reserve(out, ikl))
        return SL_S_ENOMEM;
    memcpy(out->data, ik + 8, kpart);
    memcpy(out->data + kpart, ik, 8);
    if (times == 16)
        memcpy(out->data + kpart + 8, ik + 8 + kpart, 8);
    out->len = ikl;
    return 0;
}

/* ---- msgpack values ------------------------------------------------------------------------ */

struct sl_codec {
    msgpack_zone zone;
};

int sl_codec_new(sl_codec_t **out)
{
    sl_codec_t *c = malloc(sizeof *c);
    if (!c || !msgpack_zone_init(&c->zone, 2048)) {
        free(c);
        return SL_S_ENOMEM;
    }
    *out = c;
    return 0;
}

void sl_codec_free(sl_codec_t *c)
{
    if (!c)
        return;
    msgpack_zone_destroy(&c->zone);
    free(c);
}

int sl_codec_decode(sl_codec_t *c, const void *p, size_t n, msgpack_object *obj)
{
    msgpack_zone_clear(&c->zone); /* keeps the first chunk: no allocation for small objects */
    size_t off = 0;
    msgpack_unpack_return r = msgpack_unpack(p, n, &off, &c->zone, obj);
    if (r == MSGPACK_UNPACK_SUCCESS && off == n)
        return 0;
    if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        return SL_S_ENOMEM;
    return SL_S_ECORRUPT;
}

static int buf_write(void *data, const char *p, size_t n)
{
    return sl_buf_append(data, p, n);
}

void sl_codec_packer_init(msgpack_packer *pk, sl_buf_t *out) { msgpack_packer_init(pk, out, buf_write); }

int sl_codec_pack_i64(sl_buf_t *out, int64_t v)
{
    msgpack_packer pk;
    sl_codec_packer_init(&pk, out);
    return msgpack_pack_int64(&pk, v) ? SL_S_ENOMEM : 0;
}

int sl_codec_pack_f64(sl_buf_t *out, double v)
{
    msgpack_packer pk;
    sl_codec_packer_init(&pk, out);
    return msgpack_pack_double(&pk, v) ? SL_S_ENOMEM : 0;
}

int sl_codec_unpack_i64(sl_codec_t *c, const void *p, size_t n, int64_t *v)
{
    msgpack_object o;
    int rc = sl_codec_decode(c, p, n, &o);
    if (rc)
        return rc;
    switch (o.type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o.via.u64 > INT64_MAX)
            return SL_S_ECORRUPT;
        *v = (int64_t)o.via.u64;
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *v = o.via.i64;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (o.via.f64 != floor(o.via.f64) || fabs(o.via.f64) > 9.2e18)
            return SL_S_ECORRUPT;
        *v = (int64_t)o.via.f64;
        return 0;
    default:
        return SL_S_ECORRUPT;
    }
}

int sl_codec_unpack_f64(sl_codec_t *c, const void *p, size_t n, double *v)
{
    msgpack_object o;
    int rc = sl_codec_decode(c, p, n, &o);
    if (rc)
        return rc;
    switch (o.type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        *v = (double)o.via.u64;
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *v = (double)o.via.i64;
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *v = o.via.f64;
        return 0;
    default:
        return SL_S_ECORRUPT;
    }
}
