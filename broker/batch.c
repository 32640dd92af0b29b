/* Kafka RecordBatch v2, the unit the broker stores and serves: header parsing
 * and CRC validation, a record iterator that trusts nothing it reads (every
 * varint and length is checked against the bytes that remain), and a builder
 * that reuses its buffers across batches so producing allocates nothing per
 * record once warm.  Layout: /work/shared/kafka-protocol/README.md. */
#include "broker/broker.h"

/* batchLength counts the bytes after its own field: the rest of the header. */
#define MIN_BATCH_LENGTH (SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD)
#define VARINT32_MAX_BYTES 5

/* Two's-complement addition: hostile deltas wrap instead of invoking UB. */
static int64_t add_wrap(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

/* ---- header and validation ------------------------------------------------------ */

int sl_batch_parse_header(const uint8_t *p, size_t len, sl_batch_header_t *h, sl_err_t *err)
{
    if (len < SL_BATCH_HEADER_SIZE)
        return sl_err_set(err, SL_B_ETRUNCATED, "batch header needs %d bytes, have %zu", SL_BATCH_HEADER_SIZE,
                          len);
    h->base_offset = (int64_t)sl_be64(p + SL_BATCH_OFF_BASE_OFFSET);
    h->batch_length = (int32_t)sl_be32(p + SL_BATCH_OFF_LENGTH);
    h->partition_leader_epoch = (int32_t)sl_be32(p + SL_BATCH_OFF_LEADER_EPOCH);
    h->magic = (int8_t)p[SL_BATCH_OFF_MAGIC];
    h->crc = sl_be32(p + SL_BATCH_OFF_CRC);
    h->attributes = (int16_t)sl_be16(p + SL_BATCH_OFF_ATTRIBUTES);
    h->last_offset_delta = (int32_t)sl_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA);
    h->base_timestamp = (int64_t)sl_be64(p + SL_BATCH_OFF_BASE_TIMESTAMP);
    h->max_timestamp = (int64_t)sl_be64(p + SL_BATCH_OFF_MAX_TIMESTAMP);
    h->producer_id = (int64_t)sl_be64(p + SL_BATCH_OFF_PRODUCER_ID);
    h->producer_epoch = (int16_t)sl_be16(p + SL_BATCH_OFF_PRODUCER_ID + 8);
    h->base_sequence = (int32_t)sl_be32(p + SL_BATCH_OFF_PRODUCER_ID + 10);
    h->record_count = (int32_t)sl_be32(p + SL_BATCH_OFF_RECORD_COUNT);

    /* Magic 0 and 1 are Kafka's older message sets: real, but not supported. */
    if (h->magic == 0 || h->magic == 1)
        return sl_err_set(err, SL_B_EUNSUPPORTED, "message format v%d is not supported (only v2)", h->magic);
    if (h->magic != 2)
        return sl_err_set(err, SL_B_ECORRUPT, "bad batch magic %d", h->magic);
    if (h->batch_length < MIN_BATCH_LENGTH)
        return sl_err_set(err, SL_B_ECORRUPT, "batch length %d below the header's %d", h->batch_length,
                          MIN_BATCH_LENGTH);
    if (h->record_count < 0)
        return sl_err_set(err, SL_B_ECORRUPT, "negative record count %d", h->record_count);
    return SL_B_OK;
}

int sl_batch_validate(const uint8_t *p, size_t len, sl_batch_header_t *h, sl_err_t *err)
{
    int rc = sl_batch_parse_header(p, len, h, err);
    if (rc)
        return rc;
    size_t size = sl_batch_size(h);
    if (len < size)
        return sl_err_set(err, SL_B_ETRUNCATED, "batch needs %zu bytes, have %zu", size, len);
    if (len > size)
        return sl_err_set(err, SL_B_ECORRUPT, "batch length says %zu bytes, got %zu", size, len);
    uint32_t crc = sl_crc32c(0, p + SL_BATCH_OFF_ATTRIBUTES, len - SL_BATCH_OFF_ATTRIBUTES);
    if (crc != h->crc)
        return sl_err_set(err, SL_B_ECORRUPT, "batch CRC mismatch: stored 0x%08x, computed 0x%08x", h->crc, crc);
    int codec = h->attributes & SL_BATCH_ATTR_COMPRESSION_MASK;
    if (codec > SL_COMPRESSION_ZSTD)
        return sl_err_set(err, SL_B_EUNSUPPORTED, "unknown compression codec %d", codec);
    return SL_B_OK;
}

/* ---- bounded readers ------------------------------------------------------------ */

/* A cursor over untrusted bytes: every read checks what remains. */
typedef struct cursor {
    const uint8_t *p, *end;
} cursor_t;

/* Most varints in a record are one byte (small deltas and lengths): decode
 * those inline, the rest through sl_varint_get. */
static inline bool read_small(cursor_t *c, int64_t *v)
{
    if (c->p < c->end && *c->p < 0x80) {
        uint8_t u = *c->p++;
        *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
        return true;
    }
    return false;
}

static int read_varlong(cursor_t *c, int64_t *v)
{
    if (read_small(c, v))
        return 0;
    size_t n = sl_varint_get(c->p, (size_t)(c->end - c->p), SL_VARINT_MAX, v);
    c->p += n;
    return n ? 0 : -1;
}

static int read_varint32(cursor_t *c, int32_t *v)
{
    int64_t w;
    if (read_small(c, &w)) {
        *v = (int32_t)w;
        return 0;
    }
    size_t n = sl_varint_get(c->p, (size_t)(c->end - c->p), VARINT32_MAX_BYTES, &w);
    if (!n || w < INT32_MIN || w > INT32_MAX)
        return -1;
    c->p += n;
    *v = (int32_t)w;
    return 0;
}

/* A length-prefixed byte string (-1 = null when nullable). */
static int read_bytes(cursor_t *c, bool nullable, const uint8_t **data, int32_t *len)
{
    if (read_varint32(c, len))
        return -1;
    if (*len == -1 && nullable) {
        *data = NULL;
        return 0;
    }
    if (*len < 0 || (size_t)*len > (size_t)(c->end - c->p))
        return -1;
    *data = c->p;
    c->p += *len;
    return 0;
}

static int read_header(cursor_t *c, sl_header_t *h)
{
    /* Kafka forbids null header keys; header values may be null. */
    if (read_bytes(c, false, &h->key, &h->key_len))
        return -1;
    return read_bytes(c, true, &h->value, &h->value_len);
}

/* ---- iterator ---------------------------------------------------------------------- */

void sl_batch_iter_init(sl_batch_iter_t *it)
{
    memset(it, 0, sizeof *it);
    sl_buf_init(&it->scratch);
}

/* Bytes past batch_length + 12 are ignored, so a reader may pass a buffer that
 * continues with further batches. */
int sl_batch_iter_start(sl_batch_iter_t *it, const uint8_t *p, size_t len, sl_err_t *err)
{
    static const uint8_t no_records[1];
    it->pos = it->end = no_records;
    it->remaining = 0;
    int rc = sl_batch_parse_header(p, len, &it->hdr, err);
    if (rc)
        return rc;
    size_t size = sl_batch_size(&it->hdr);
    if (len < size)
        return sl_err_set(err, SL_B_ETRUNCATED, "batch needs %zu bytes, have %zu", size, len);
    const uint8_t *body = p + SL_BATCH_HEADER_SIZE;
    size_t body_len = size - SL_BATCH_HEADER_SIZE;
    int codec = it->hdr.attributes & SL_BATCH_ATTR_COMPRESSION_MASK;
    if (codec != SL_COMPRESSION_NONE) {
        sl_buf_reset(&it->scratch);
        rc = sl_decompress(codec, body, body_len, &it->scratch, SL_BATCH_MAX_DECOMPRESSED, err);
        if (rc)
            return rc;
        body = it->scratch.len ? it->scratch.data : no_records;
        body_len = it->scratch.len;
    }
    it->pos = body;
    it->end = body + body_len;
    it->remaining = it->hdr.record_count;
    return SL_B_OK;
}

int sl_batch_iter_next(sl_batch_iter_t *it, sl_record_t *rec, sl_err_t *err)
{
    int32_t index = it->hdr.record_count - it->remaining;
    if (it->remaining == 0) {
        if (it->pos != it->end)
            return sl_err_set(err, SL_B_ECORRUPT, "%zu bytes after the batch's %d records",
                              (size_t)(it->end - it->pos), it->hdr.record_count);
        return 0;
    }
    cursor_t c = {it->pos, it->end};
    int32_t length;
    if (read_varint32(&c, &length))
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: bad length varint", index);
    if (length < 0 || (size_t)length > (size_t)(c.end - c.p))
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: length %d, %zu bytes left", index, length,
                          (size_t)(c.end - c.p));
    const uint8_t *rec_end = c.p + length;
    c.end = rec_end;

    int64_t ts_delta;
    int32_t off_delta;
    if (c.p == c.end)
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: empty", index);
    rec->attributes = (int8_t)*c.p++;
    if (read_varlong(&c, &ts_delta) || read_varint32(&c, &off_delta))
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: bad timestamp or offset delta", index);
    if (read_bytes(&c, true, &rec->key, &rec->key_len))
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: bad key length", index);
    if (read_bytes(&c, true, &rec->value, &rec->value_len))
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: bad value length", index);
    if (read_varint32(&c, &rec->header_count) || rec->header_count < 0)
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: bad header count", index);
    rec->headers = c.p;
    for (int32_t i = 0; i < rec->header_count; i++) {
        sl_header_t h;
        if (read_header(&c, &h))
            return sl_err_set(err, SL_B_ECORRUPT, "record %d: header %d malformed", index, i);
    }
    rec->headers_len = (size_t)(c.p - rec->headers);
    if (c.p != rec_end)
        return sl_err_set(err, SL_B_ECORRUPT, "record %d: length says %d bytes, fields use %zu", index, length,
                          (size_t)(length - (rec_end - c.p)));

    rec->offset = add_wrap(it->hdr.base_offset, off_delta);
    if (it->hdr.attributes & SL_BATCH_ATTR_LOG_APPEND_TIME)
        rec->timestamp = it->hdr.max_timestamp;
    else
        rec->timestamp = add_wrap(it->hdr.base_timestamp, ts_delta);
    it->pos = rec_end;
    it->remaining--;
    return 1;
}

void sl_batch_iter_free(sl_batch_iter_t *it) { sl_buf_free(&it->scratch); }

int sl_record_header_next(const sl_record_t *rec, size_t *pos, int32_t *index, sl_header_t *h)
{
    if (*index >= rec->header_count)
        return 0;
    if (*pos > rec->headers_len)
        return SL_B_ECORRUPT;
    cursor_t c = {rec->headers + *pos, rec->headers + rec->headers_len};
    if (read_header(&c, h))
        return SL_B_ECORRUPT;
    *pos = (size_t)(c.p - rec->headers);
    (*index)++;
    return 1;
}

/* ---- builder ----------------------------------------------------------------------- */

void sl_batch_builder_init(sl_batch_builder_t *b)
{
    memset(b, 0, sizeof *b);
    sl_buf_init(&b->records);
    sl_buf_init(&b->zbuf);
}

/* b->hdr.last_offset_delta tracks the last delta added; b->last_offset_delta is
 * the caller's floor (a compacted batch keeps its original range). */
void sl_batch_builder_begin(sl_batch_builder_t *b, int compression, int64_t base_offset)
{
    sl_buf_reset(&b->records);
    memset(&b->hdr, 0, sizeof b->hdr);
    b->hdr.base_offset = base_offset;
    b->hdr.partition_leader_epoch = -1;
    b->hdr.magic = 2;
    b->hdr.last_offset_delta = -1;
    b->hdr.base_timestamp = -1;
    b->hdr.max_timestamp = -1;
    b->hdr.producer_id = -1;
    b->hdr.producer_epoch = -1;
    b->hdr.base_sequence = -1;
    b->compression = compression;
    b->count = 0;
    b->last_offset_delta = -1;
    b->have_ts = false;
}

/* Grow `size` by n, failing once a record can no longer state its length. */
static int size_add(size_t *size, size_t n)
{
    if (n > (size_t)INT32_MAX - *size)
        return -1;
    *size += n;
    return 0;
}

static size_t bytes_size(int32_t len) { return sl_varint_size(len) + (len > 0 ? (size_t)len : 0); }

static uint8_t *put_bytes(uint8_t *w, const void *data, int32_t len)
{
    w += sl_varint_put(w, len);
    if (len > 0) {
        memcpy(w, data, (size_t)len);
        w += len;
    }
    return w;
}

/* Checks the delta and the timestamp, reserves room for one record of
 * body_size bytes, writes its prefix (length .. offsetDelta) and returns where
 * the key goes, or NULL (with *rc set). */
static uint8_t *record_open(sl_batch_builder_t *b, int32_t offset_delta, int64_t timestamp, int8_t attributes,
                            size_t body_size, int *rc)
{
    if (b->count == INT32_MAX || offset_delta < 0 || (b->count > 0 && offset_delta <= b->hdr.last_offset_delta)) {
        *rc = SL_B_EINVAL;
        return NULL;
    }
    int64_t base = b->have_ts ? b->hdr.base_timestamp : timestamp;
    int64_t ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)base);
    size_t fixed = 1 + sl_varint_size(ts_delta) + sl_varint_size(offset_delta);
    if (size_add(&body_size, fixed)) {
        *rc = SL_B_ETOOLARGE;
        return NULL;
    }
    if (sl_buf_reserve(&b->records, SL_VARINT_MAX + body_size)) {
        *rc = SL_B_ENOMEM;
        return NULL;
    }
    if (!b->have_ts) {
        b->hdr.base_timestamp = b->hdr.max_timestamp = timestamp;
        b->have_ts = true;
    } else if (timestamp > b->hdr.max_timestamp) {
        b->hdr.max_timestamp = timestamp;
    }
    b->hdr.last_offset_delta = offset_delta;
    b->count++;
    uint8_t *w = b->records.data + b->records.len;
    w += sl_varint_put(w, (int64_t)body_size);
    *w++ = (uint8_t)attributes;
    w += sl_varint_put(w, ts_delta);
    w += sl_varint_put(w, offset_delta);
    return w;
}

static bool bytes_ok(const void *data, int32_t len, bool nullable)
{
    return len >= (nullable ? -1 : 0) && (len <= 0 || data);
}

int sl_batch_builder_add(sl_batch_builder_t *b, int64_t timestamp, const void *key, int32_t key_len,
                         const void *value, int32_t value_len, const sl_header_t *headers, int32_t nheaders)
{
    if (!bytes_ok(key, key_len, true) || !bytes_ok(value, value_len, true) || nheaders < 0 ||
        (nheaders > 0 && !headers))
        return SL_B_EINVAL;
    size_t size = 0;
    if (size_add(&size, bytes_size(key_len)) || size_add(&size, bytes_size(value_len)) ||
        size_add(&size, sl_varint_size(nheaders)))
        return SL_B_ETOOLARGE;
    for (int32_t i = 0; i < nheaders; i++) {
        const sl_header_t *h = &headers[i];
        if (!bytes_ok(h->key, h->key_len, false) || !bytes_ok(h->value, h->value_len, true))
            return SL_B_EINVAL;
        if (size_add(&size, bytes_size(h->key_len)) || size_add(&size, bytes_size(h->value_len)))
            return SL_B_ETOOLARGE;
    }
    if (b->count > 0 && b->hdr.last_offset_delta == INT32_MAX)
        return SL_B_EINVAL;
    int32_t delta = b->count == 0 ? 0 : b->hdr.last_offset_delta + 1;
    int rc = SL_B_OK;
    uint8_t *w = record_open(b, delta, timestamp, 0, size, &rc);
    if (!w)
        return rc;
    w = put_bytes(w, key, key_len);
    w = put_bytes(w, value, value_len);
    w += sl_varint_put(w, nheaders);
    for (int32_t i = 0; i < nheaders; i++) {
        w = put_bytes(w, headers[i].key, headers[i].key_len);
        w = put_bytes(w, headers[i].value, headers[i].value_len);
    }
    b->records.len = (size_t)(w - b->records.data);
    return SL_B_OK;
}

int sl_batch_builder_add_raw(sl_batch_builder_t *b, int32_t offset_delta, int64_t timestamp, int8_t attributes,
                             const void *key, int32_t key_len, const void *value, int32_t value_len,
                             int32_t header_count, const uint8_t *headers, size_t headers_len)
{
    if (!bytes_ok(key, key_len, true) || !bytes_ok(value, value_len, true) || header_count < 0 ||
        (headers_len > 0 && !headers) || (header_count > 0 && headers_len == 0))
        return SL_B_EINVAL;
    size_t size = 0;
    if (size_add(&size, bytes_size(key_len)) || size_add(&size, bytes_size(value_len)) ||
        size_add(&size, sl_varint_size(header_count)) || size_add(&size, headers_len))
        return SL_B_ETOOLARGE;
    int rc = SL_B_OK;
    uint8_t *w = record_open(b, offset_delta, timestamp, attributes, size, &rc);
    if (!w)
        return rc;
    w = put_bytes(w, key, key_len);
    w = put_bytes(w, value, value_len);
    w += sl_varint_put(w, header_count);
    if (headers_len) {
        memcpy(w, headers, headers_len);
        w += headers_len;
    }
    b->records.len = (size_t)(w - b->records.data);
    return SL_B_OK;
}

int sl_batch_builder_finish(sl_batch_builder_t *b, sl_buf_t *out, sl_err_t *err)
{
    if (b->count == 0)
        return sl_err_set(err, SL_B_EINVAL, "cannot finish an empty batch");
    const sl_buf_t *payload = &b->records;
    if (b->compression != SL_COMPRESSION_NONE) {
        sl_buf_reset(&b->zbuf);
        int rc = sl_compress(b->compression, b->records.data, b->records.len, &b->zbuf, err);
        if (rc)
            return rc;
        payload = &b->zbuf;
    }
    if (payload->len > (size_t)INT32_MAX - MIN_BATCH_LENGTH)
        return sl_err_set(err, SL_B_ETOOLARGE, "batch of %zu record bytes is too large", payload->len);
    size_t total = SL_BATCH_HEADER_SIZE + payload->len;
    if (sl_buf_reserve(out, total))
        return sl_err_set(err, SL_B_ENOMEM, "out of memory for a %zu-byte batch", total);

    sl_batch_header_t *h = &b->hdr;
    if (b->last_offset_delta > h->last_offset_delta)
        h->last_offset_delta = b->last_offset_delta;
    h->batch_length = (int32_t)(total - SL_BATCH_LOG_OVERHEAD);
    h->magic = 2;
    h->attributes = (int16_t)((h->attributes & ~SL_BATCH_ATTR_COMPRESSION_MASK) |
                              (b->compression & SL_BATCH_ATTR_COMPRESSION_MASK));
    h->record_count = b->count;

    uint8_t *p = out->data + out->len;
    sl_put_be64(p + SL_BATCH_OFF_BASE_OFFSET, (uint64_t)h->base_offset);
    sl_put_be32(p + SL_BATCH_OFF_LENGTH, (uint32_t)h->batch_length);
    sl_put_be32(p + SL_BATCH_OFF_LEADER_EPOCH, (uint32_t)h->partition_leader_epoch);
    p[SL_BATCH_OFF_MAGIC] = 2;
    sl_put_be16(p + SL_BATCH_OFF_ATTRIBUTES, (uint16_t)h->attributes);
    sl_put_be32(p + SL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)h->last_offset_delta);
    sl_put_be64(p + SL_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)h->base_timestamp);
    sl_put_be64(p + SL_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)h->max_timestamp);
    sl_put_be64(p + SL_BATCH_OFF_PRODUCER_ID, (uint64_t)h->producer_id);
    sl_put_be16(p + SL_BATCH_OFF_PRODUCER_ID + 8, (uint16_t)h->producer_epoch);
    sl_put_be32(p + SL_BATCH_OFF_PRODUCER_ID + 10, (uint32_t)h->base_sequence);
    sl_put_be32(p + SL_BATCH_OFF_RECORD_COUNT, (uint32_t)h->record_count);
    if (payload->len)
        memcpy(p + SL_BATCH_HEADER_SIZE, payload->data, payload->len);
    h->crc = sl_crc32c(0, p + SL_BATCH_OFF_ATTRIBUTES, total - SL_BATCH_OFF_ATTRIBUTES);
    sl_put_be32(p + SL_BATCH_OFF_CRC, h->crc);
    out->len += total;
    return SL_B_OK;
}

void sl_batch_builder_free(sl_batch_builder_t *b)
{
    sl_buf_free(&b->records);
    sl_buf_free(&b->zbuf);
}
