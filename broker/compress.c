/* The four compression codecs of Kafka's record batches, as thin wrappers over
 * the Debian libraries (zlib, libsnappy, liblz4, libzstd), producing the exact
 * framings Kafka clients expect: gzip members, xerial-framed snappy, LZ4 frames
 * and zstd frames.  Decompression streams into the caller's buffer in bounded
 * steps, so a small hostile block cannot make us allocate past max_out. */
#include "broker/broker.h"

#include <limits.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

/* Output is produced in steps of at most this many bytes, so the buffer grows
 * with what the stream really holds, not with what a header claims. */
#define OUT_STEP (256u * 1024)

/* xerial snappy-java stream: 8-byte magic, int32 BE version, int32 BE minimum
 * compatible version, then blocks of (int32 BE length, raw snappy block).
 * Java's SnappyOutputStream cuts the input into 32 KiB blocks; so do we. */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER_SIZE 16
#define XERIAL_BLOCK_SIZE (32u * 1024)

static const char *const codec_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *sl_compression_name(int codec)
{
    if (codec < SL_COMPRESSION_NONE || codec > SL_COMPRESSION_ZSTD)
        return "unknown";
    return codec_names[codec];
}

int sl_compression_parse(const char *name)
{
    for (int i = SL_COMPRESSION_NONE; i <= SL_COMPRESSION_ZSTD; i++)
        if (strcmp(name, codec_names[i]) == 0)
            return i;
    return -1;
}

/* Room for the next output step: at most OUT_STEP, and at most one byte past
 * the limit so that overrunning it is detected without decoding further. */
static size_t out_step(size_t produced, size_t max_out)
{
    size_t left = max_out - produced; /* produced <= max_out always holds here */
    return left >= OUT_STEP ? OUT_STEP : left + 1;
}

static int too_large(sl_err_t *err, const char *codec, size_t max_out)
{
    return sl_err_set(err, SL_B_ETOOLARGE, "%s: decompressed data exceeds %zu bytes", codec, max_out);
}

static int no_memory(sl_err_t *err, const char *codec)
{
    return sl_err_set(err, SL_B_ENOMEM, "%s: out of memory", codec);
}

/* ---- gzip -------------------------------------------------------------------- */

static int gzip_compress(const uint8_t *in, size_t len, sl_buf_t *out, sl_err_t *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return no_memory(err, "gzip");
    size_t in_pos = 0;
    int rc = SL_B_OK;
    for (;;) {
        size_t chunk = len - in_pos > UINT_MAX ? UINT_MAX : len - in_pos;
        zs.next_in = (Bytef *)(uintptr_t)(in + in_pos);
        zs.avail_in = (uInt)chunk;
        bool last = in_pos + chunk == len;
        size_t want = deflateBound(&zs, (uLong)chunk);
        if (want > UINT_MAX)
            want = UINT_MAX;
        if (sl_buf_reserve(out, want)) {
            rc = no_memory(err, "gzip");
            break;
        }
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)want;
        int zr = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
        out->len += want - zs.avail_out;
        in_pos += chunk - zs.avail_in;
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = sl_err_set(err, SL_B_EINVAL, "gzip: deflate failed (%d)", zr);
            break;
        }
    }
    deflateEnd(&zs);
    return rc;
}

static int gzip_decompress(const uint8_t *in, size_t len, sl_buf_t *out, size_t max_out, sl_err_t *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* windowBits 15 + 32: accept a gzip or a zlib header (detected). */
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return no_memory(err, "gzip");
    size_t in_pos = 0, produced = 0;
    int rc = SL_B_OK;
    for (;;) {
        size_t chunk = len - in_pos > UINT_MAX ? UINT_MAX : len - in_pos;
        size_t room = out_step(produced, max_out);
        if (sl_buf_reserve(out, room)) {
            rc = no_memory(err, "gzip");
            break;
        }
        zs.next_in = (Bytef *)(uintptr_t)(in + in_pos);
        zs.avail_in = (uInt)chunk;
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        size_t got = room - zs.avail_out;
        out->len += got;
        produced += got;
        in_pos += chunk - zs.avail_in;
        if (produced > max_out) {
            rc = too_large(err, "gzip", max_out);
            break;
        }
        if (zr == Z_STREAM_END) {
            if (in_pos == len)
                break;
            /* Concatenated gzip members decode as one stream, as gunzip does. */
            if (inflateReset(&zs) != Z_OK) {
                rc = sl_err_set(err, SL_B_ECORRUPT, "gzip: cannot reset the inflater");
                break;
            }
            continue;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR)
            rc = sl_err_set(err, SL_B_ECORRUPT, "gzip: truncated stream");
        else if (zr == Z_MEM_ERROR)
            rc = no_memory(err, "gzip");
        else
            rc = sl_err_set(err, SL_B_ECORRUPT, "gzip: %s", zs.msg ? zs.msg : "corrupt stream");
        break;
    }
    inflateEnd(&zs);
    return rc;
}

/* ---- snappy (xerial framing) ---------------------------------------------------- */

static int snappy_compress_xerial(const uint8_t *in, size_t len, sl_buf_t *out, sl_err_t *err)
{
    if (sl_buf_reserve(out, XERIAL_HEADER_SIZE))
        return no_memory(err, "snappy");
    uint8_t *h = out->data + out->len;
    memcpy(h, xerial_magic, sizeof xerial_magic);
    sl_put_be32(h + 8, 1);  /* version */
    sl_put_be32(h + 12, 1); /* minimum compatible version */
    out->len += XERIAL_HEADER_SIZE;
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos < XERIAL_BLOCK_SIZE ? len - pos : XERIAL_BLOCK_SIZE;
        size_t zlen = snappy_max_compressed_length(n);
        if (sl_buf_reserve(out, 4 + zlen))
            return no_memory(err, "snappy");
        uint8_t *blk = out->data + out->len;
        if (snappy_compress((const char *)in + pos, n, (char *)blk + 4, &zlen) != SNAPPY_OK)
            return sl_err_set(err, SL_B_EINVAL, "snappy: compression failed");
        sl_put_be32(blk, (uint32_t)zlen);
        out->len += 4 + zlen;
        pos += n;
    }
    return SL_B_OK;
}

/* One raw snappy block; the uncompressed length is read from its preamble and
 * checked against the limit before anything is allocated. */
static int snappy_block_decompress(const uint8_t *in, size_t len, sl_buf_t *out, size_t *produced,
                                   size_t max_out, sl_err_t *err)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK)
        return sl_err_set(err, SL_B_ECORRUPT, "snappy: bad block preamble");
    if (n > max_out - *produced)
        return too_large(err, "snappy", max_out);
    if (sl_buf_reserve(out, n ? n : 1)) /* never NULL, even for an empty block */
        return no_memory(err, "snappy");
    if (snappy_uncompress((const char *)in, len, (char *)out->data + out->len, &n) != SNAPPY_OK)
        return sl_err_set(err, SL_B_ECORRUPT, "snappy: corrupt block");
    out->len += n;
    *produced += n;
    return SL_B_OK;
}

static int snappy_decompress_any(const uint8_t *in, size_t len, sl_buf_t *out, size_t max_out, sl_err_t *err)
{
    size_t produced = 0;
    if (len < XERIAL_HEADER_SIZE || memcmp(in, xerial_magic, sizeof xerial_magic) != 0)
        return snappy_block_decompress(in, len, out, &produced, max_out, err);
    for (size_t pos = XERIAL_HEADER_SIZE; pos < len;) {
        if (len - pos < 4)
            return sl_err_set(err, SL_B_ECORRUPT, "snappy: truncated xerial block length at %zu", pos);
        size_t blen = sl_be32(in + pos);
        pos += 4;
        if (blen == 0 || blen > len - pos)
            return sl_err_set(err, SL_B_ECORRUPT, "snappy: xerial block of %zu bytes at %zu, %zu left", blen,
                              pos - 4, len - pos);
        int rc = snappy_block_decompress(in + pos, blen, out, &produced, max_out, err);
        if (rc)
            return rc;
        pos += blen;
    }
    return SL_B_OK;
}

/* ---- lz4 (frame format) ------------------------------------------------------------ */

/* Kafka's own LZ4 streams use independent 64 KiB blocks and no checksums or
 * content size; matching them keeps every Kafka client able to read ours. */
static const LZ4F_preferences_t lz4_prefs = {
    .frameInfo = {.blockSizeID = LZ4F_max64KB, .blockMode = LZ4F_blockIndependent},
};

static int lz4_compress(const uint8_t *in, size_t len, sl_buf_t *out, sl_err_t *err)
{
    size_t bound = LZ4F_compressFrameBound(len, &lz4_prefs);
    if (sl_buf_reserve(out, bound))
        return no_memory(err, "lz4");
    size_t n = LZ4F_compressFrame(out->data + out->len, bound, in, len, &lz4_prefs);
    if (LZ4F_isError(n))
        return sl_err_set(err, SL_B_EINVAL, "lz4: %s", LZ4F_getErrorName(n));
    out->len += n;
    return SL_B_OK;
}

static int lz4_decompress(const uint8_t *in, size_t len, sl_buf_t *out, size_t max_out, sl_err_t *err)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return no_memory(err, "lz4");
    size_t in_pos = 0, produced = 0, hint = 1;
    int rc = SL_B_OK;
    for (;;) {
        size_t room = out_step(produced, max_out);
        if (sl_buf_reserve(out, room)) {
            rc = no_memory(err, "lz4");
            break;
        }
        size_t src_n = len - in_pos, dst_n = room;
        hint = LZ4F_decompress(dctx, out->data + out->len, &dst_n, in + in_pos, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = sl_err_set(err, SL_B_ECORRUPT, "lz4: %s", LZ4F_getErrorName(hint));
            break;
        }
        out->len += dst_n;
        produced += dst_n;
        in_pos += src_n;
        if (produced > max_out) {
            rc = too_large(err, "lz4", max_out);
            break;
        }
        /* hint == 0: a frame ended; more input means another frame follows. */
        if (hint == 0 && in_pos == len)
            break;
        if (src_n == 0 && dst_n == 0) {
            rc = sl_err_set(err, SL_B_ECORRUPT, "lz4: truncated frame");
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

/* ---- zstd ------------------------------------------------------------------------------ */

static int zstd_compress(const uint8_t *in, size_t len, sl_buf_t *out, sl_err_t *err)
{
    size_t bound = ZSTD_compressBound(len);
    if (sl_buf_reserve(out, bound))
        return no_memory(err, "zstd");
    /* ZSTD_compress builds a context per call: a few hundred KiB of setup per
     * batch, acceptable because a batch (not a record) is the unit of work. */
    size_t n = ZSTD_compress(out->data + out->len, bound, in, len, ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(n))
        return sl_err_set(err, SL_B_EINVAL, "zstd: %s", ZSTD_getErrorName(n));
    out->len += n;
    return SL_B_OK;
}

/* The streaming decoder, because producers may omit the frame content size. */
static int zstd_decompress(const uint8_t *in, size_t len, sl_buf_t *out, size_t max_out, sl_err_t *err)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds)
        return no_memory(err, "zstd");
    ZSTD_inBuffer ib = {in, len, 0};
    size_t produced = 0;
    int rc = SL_B_OK;
    for (;;) {
        size_t room = out_step(produced, max_out);
        if (sl_buf_reserve(out, room)) {
            rc = no_memory(err, "zstd");
            break;
        }
        ZSTD_outBuffer ob = {out->data + out->len, room, 0};
        size_t before = ib.pos;
        size_t r = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(r)) {
            rc = sl_err_set(err, SL_B_ECORRUPT, "zstd: %s", ZSTD_getErrorName(r));
            break;
        }
        out->len += ob.pos;
        produced += ob.pos;
        if (produced > max_out) {
            rc = too_large(err, "zstd", max_out);
            break;
        }
        /* r == 0: a frame is complete and flushed; more input is another frame. */
        if (r == 0 && ib.pos == ib.size)
            break;
        if (ib.pos == before && ob.pos == 0) {
            rc = sl_err_set(err, SL_B_ECORRUPT, "zstd: truncated frame");
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

/* Empty input may come as NULL; the libraries get a valid pointer regardless. */
static const uint8_t empty_input[1];

int sl_compress(int codec, const uint8_t *in, size_t len, sl_buf_t *out, sl_err_t *err)
{
    if (len == 0)
        in = empty_input;
    switch (codec) {
    case SL_COMPRESSION_NONE:
        return sl_buf_append(out, in, len) ? no_memory(err, "none") : SL_B_OK;
    case SL_COMPRESSION_GZIP:
        return gzip_compress(in, len, out, err);
    case SL_COMPRESSION_SNAPPY:
        return snappy_compress_xerial(in, len, out, err);
    case SL_COMPRESSION_LZ4:
        return lz4_compress(in, len, out, err);
    case SL_COMPRESSION_ZSTD:
        return zstd_compress(in, len, out, err);
    default:
        return sl_err_set(err, SL_B_EUNSUPPORTED, "unknown compression codec %d", codec);
    }
}

int sl_decompress(int codec, const uint8_t *in, size_t len, sl_buf_t *out, size_t max_out, sl_err_t *err)
{
    if (len == 0)
        in = empty_input;
    switch (codec) {
    case SL_COMPRESSION_NONE:
        if (len > max_out)
            return too_large(err, "none", max_out);
        return sl_buf_append(out, in, len) ? no_memory(err, "none") : SL_B_OK;
    case SL_COMPRESSION_GZIP:
        return gzip_decompress(in, len, out, max_out, err);
    case SL_COMPRESSION_SNAPPY:
        return snappy_decompress_any(in, len, out, max_out, err);
    case SL_COMPRESSION_LZ4:
        return lz4_decompress(in, len, out, max_out, err);
    case SL_COMPRESSION_ZSTD:
        return zstd_decompress(in, len, out, max_out, err);
    default:
        return sl_err_set(err, SL_B_EUNSUPPORTED, "unknown compression codec %d", codec);
    }
}
