/* Protobuf-style varints as Kafka's record format and flexible protocol
 * versions use them: unsigned base-128 and zigzag-signed.  Decoders are
 * bounds-checked and reject over-long encodings. */
#include "common.h"

size_t sl_uvarint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t sl_varint_put(uint8_t *out, int64_t v)
{
    return sl_uvarint_put(out, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

size_t sl_uvarint_get(const uint8_t *p, size_t len, size_t max_bytes, uint64_t *v)
{
    uint64_t r = 0;
    if (max_bytes > SL_VARINT_MAX)
        max_bytes = SL_VARINT_MAX;
    for (size_t i = 0; i < len && i < max_bytes; i++) {
        uint64_t b = p[i];
        if (i == 9 && b > 1)
            return 0; /* would overflow 64 bits */
        r |= (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

size_t sl_varint_get(const uint8_t *p, size_t len, size_t max_bytes, int64_t *v)
{
    uint64_t u;
    size_t n = sl_uvarint_get(p, len, max_bytes, &u);
    if (n)
        *v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return n;
}

size_t sl_uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t sl_varint_size(int64_t v) { return sl_uvarint_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }
