/* Unit tests for the broker's compression codecs: round trips of every codec
 * over empty, tiny, compressible and random blocks; the max_out limit; garbage
 * and truncated input refused without crashing; and the exact snappy framing
 * (xerial) that Java Kafka clients write and expect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zstd.h>

#include "broker/broker.h"

#define MiB (1024u * 1024)

static const int codecs[] = {SL_COMPRESSION_NONE, SL_COMPRESSION_GZIP, SL_COMPRESSION_SNAPPY, SL_COMPRESSION_LZ4,
                             SL_COMPRESSION_ZSTD};
static const int real_codecs[] = {SL_COMPRESSION_GZIP, SL_COMPRESSION_SNAPPY, SL_COMPRESSION_LZ4,
                                  SL_COMPRESSION_ZSTD};
#define NCODECS(a) (sizeof(a) / sizeof(a[0]))

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next(&s);
}

/* JSON-ish text with repetition, like real record batches. */
static void fill_compressible(uint8_t *p, size_t n)
{
    static const char pat[] = "{\"user\":\"alice\",\"event\":\"click\",\"page\":\"/home\",\"n\":";
    for (size_t i = 0; i < n; i++)
        p[i] = i % 97 == 0 ? (uint8_t)('0' + (i / 97) % 10) : (uint8_t)pat[i % (sizeof pat - 1)];
}

static void round_trip(int codec, const uint8_t *in, size_t len)
{
    sl_buf_t z, out;
    sl_buf_init(&z);
    sl_buf_init(&out);
    sl_err_t err = {0};
    int rc = sl_compress(codec, in, len, &z, &err);
    if (rc)
        fail_msg("%s compress of %zu bytes: %d %s", sl_compression_name(codec), len, rc, err.msg);
    rc = sl_decompress(codec, z.data, z.len, &out, len, &err);
    if (rc)
        fail_msg("%s decompress of %zu bytes: %d %s", sl_compression_name(codec), len, rc, err.msg);
    assert_int_equal(out.len, len);
    if (len)
        assert_memory_equal(out.data, in, len);
    sl_buf_free(&z);
    sl_buf_free(&out);
}

static void test_every_codec_round_trips_empty_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS(codecs); i++) {
        round_trip(codecs[i], NULL, 0);
        round_trip(codecs[i], (const uint8_t *)"", 0);
    }
}

static void test_every_codec_round_trips_one_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS(codecs); i++)
        round_trip(codecs[i], (const uint8_t *)"x", 1);
}

static void test_every_codec_round_trips_one_mib_compressible(void **state)
{
    (void)state;
    uint8_t *in = malloc(MiB);
    assert_non_null(in);
    fill_compressible(in, MiB);
    for (size_t i = 0; i < NCODECS(codecs); i++)
        round_trip(codecs[i], in, MiB);
    /* and really compresses it */
    for (size_t i = 0; i < NCODECS(real_codecs); i++) {
        sl_buf_t z;
        sl_buf_init(&z);
        assert_int_equal(sl_compress(real_codecs[i], in, MiB, &z, NULL), SL_B_OK);
        assert_true(z.len < MiB / 4);
        sl_buf_free(&z);
    }
    free(in);
}

static void test_every_codec_round_trips_one_mib_random(void **state)
{
    (void)state;
    uint8_t *in = malloc(MiB);
    assert_non_null(in);
    fill_random(in, MiB, 1234);
    for (size_t i = 0; i < NCODECS(codecs); i++)
        round_trip(codecs[i], in, MiB);
    free(in);
}

static void test_every_codec_round_trips_odd_sizes_around_block_edges(void **state)
{
    (void)state;
    static const size_t sizes[] = {2, 15, 16, 17, 4095, 32767, 32768, 32769, 65535, 65536, 65537, 300001};
    uint8_t *in = malloc(300001);
    assert_non_null(in);
    fill_compressible(in, 150000);
    fill_random(in + 150000, 150001, 5);
    for (size_t i = 0; i < NCODECS(codecs); i++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            round_trip(codecs[i], in + 300001 - sizes[k], sizes[k]);
    free(in);
}

static void test_decompress_appends_after_existing_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS(codecs); i++) {
        sl_buf_t z, out;
        sl_buf_init(&z);
        sl_buf_init(&out);
        assert_int_equal(sl_compress(codecs[i], (const uint8_t *)"hello", 5, &z, NULL), 0);
        assert_int_equal(sl_buf_append(&out, "pre:", 4), 0);
        /* max_out counts only this call's output, not what out held before */
        assert_int_equal(sl_decompress(codecs[i], z.data, z.len, &out, 5, NULL), 0);
        assert_int_equal(out.len, 9);
        assert_memory_equal(out.data, "pre:hello", 9);
        sl_buf_free(&z);
        sl_buf_free(&out);
    }
}

static void test_decompress_beyond_max_out_fails_with_too_large(void **state)
{
    (void)state;
    uint8_t *in = malloc(MiB);
    assert_non_null(in);
    fill_compressible(in, MiB);
    for (size_t i = 0; i < NCODECS(codecs); i++) {
        sl_buf_t z, out;
        sl_buf_init(&z);
        sl_buf_init(&out);
        sl_err_t err = {0};
        assert_int_equal(sl_compress(codecs[i], in, MiB, &z, NULL), 0);
        assert_int_equal(sl_decompress(codecs[i], z.data, z.len, &out, MiB - 1, &err), SL_B_ETOOLARGE);
        assert_true(strlen(err.msg) > 0);
        /* the limit is enforced while decoding: memory stays near the limit */
        assert_true(out.cap <= 2 * MiB + 512 * 1024);
        sl_buf_free(&out); /* a fresh buffer, to see how much this call allocates */
        assert_int_equal(sl_decompress(codecs[i], z.data, z.len, &out, 1000, NULL), SL_B_ETOOLARGE);
        assert_true(out.cap <= 4096);
        sl_buf_reset(&out);
        assert_int_equal(sl_decompress(codecs[i], z.data, z.len, &out, MiB, NULL), SL_B_OK);
        assert_int_equal(out.len, MiB);
        sl_buf_free(&z);
        sl_buf_free(&out);
    }
    free(in);
}

static void test_zero_max_out_allows_only_empty_output(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS(codecs); i++) {
        sl_buf_t z, out;
        sl_buf_init(&z);
        sl_buf_init(&out);
        assert_int_equal(sl_compress(codecs[i], NULL, 0, &z, NULL), 0);
        assert_int_equal(sl_decompress(codecs[i], z.data, z.len, &out, 0, NULL), SL_B_OK);
        sl_buf_reset(&z);
        assert_int_equal(sl_compress(codecs[i], (const uint8_t *)"a", 1, &z, NULL), 0);
        assert_int_equal(sl_decompress(codecs[i], z.data, z.len, &out, 0, NULL), SL_B_ETOOLARGE);
        sl_buf_free(&z);
        sl_buf_free(&out);
    }
}

static void test_garbage_input_is_an_error_not_a_crash(void **state)
{
    (void)state;
    uint8_t junk[4096];
    sl_buf_t out;
    sl_buf_init(&out);
    for (size_t i = 0; i < NCODECS(real_codecs); i++) {
        sl_err_t err = {0};
        assert_int_equal(sl_decompress(real_codecs[i], NULL, 0, &out, MiB, &err), SL_B_ECORRUPT);
        for (uint64_t seed = 1; seed <= 200; seed++) {
            size_t len = (size_t)(seed * 37 % sizeof junk);
            fill_random(junk, sizeof junk, seed);
            sl_buf_reset(&out);
            err.msg[0] = 0;
            int rc = sl_decompress(real_codecs[i], junk, len, &out, MiB, &err);
            /* Random bytes are practically never a valid stream; a raw snappy
             * block is the one format loose enough to ever accept some. */
            if (real_codecs[i] != SL_COMPRESSION_SNAPPY)
                assert_int_equal(rc, SL_B_ECORRUPT);
            if (rc)
                assert_true(strlen(err.msg) > 0);
        }
    }
    sl_buf_free(&out);
}

static void test_truncated_stream_is_an_error_at_every_length(void **state)
{
    (void)state;
    uint8_t in[5000];
    fill_compressible(in, 2500);
    fill_random(in + 2500, 2500, 77);
    for (size_t i = 0; i < NCODECS(real_codecs); i++) {
        sl_buf_t z, out;
        sl_buf_init(&z);
        sl_buf_init(&out);
        assert_int_equal(sl_compress(real_codecs[i], in, sizeof in, &z, NULL), 0);
        for (size_t cut = 0; cut < z.len; cut++) {
            sl_buf_reset(&out);
            int rc = sl_decompress(real_codecs[i], z.data, cut, &out, MiB, NULL);
            if (rc == SL_B_OK) {
                /* xerial has no end marker: cutting right after the header
                 * or a whole block is a shorter valid stream, never garbage. */
                assert_int_equal(real_codecs[i], SL_COMPRESSION_SNAPPY);
                assert_true(out.len < sizeof in);
                if (out.len)
                    assert_memory_equal(out.data, in, out.len);
            } else {
                assert_int_equal(rc, SL_B_ECORRUPT);
            }
        }
        sl_buf_free(&z);
        sl_buf_free(&out);
    }
}

static void test_trailing_garbage_after_a_stream_is_an_error(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS(real_codecs); i++) {
        if (real_codecs[i] == SL_COMPRESSION_SNAPPY)
            continue; /* covered by the xerial block-length tests */
        sl_buf_t z, out;
        sl_buf_init(&z);
        sl_buf_init(&out);
        assert_int_equal(sl_compress(real_codecs[i], (const uint8_t *)"payload", 7, &z, NULL), 0);
        assert_int_equal(sl_buf_append(&z, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9), 0);
        assert_int_equal(sl_decompress(real_codecs[i], z.data, z.len, &out, MiB, NULL), SL_B_ECORRUPT);
        sl_buf_free(&z);
        sl_buf_free(&out);
    }
}

static void test_concatenated_frames_decode_as_one_stream(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS(real_codecs); i++) {
        if (real_codecs[i] == SL_COMPRESSION_SNAPPY)
            continue;
        sl_buf_t z, out;
        sl_buf_init(&z);
        sl_buf_init(&out);
        assert_int_equal(sl_compress(real_codecs[i], (const uint8_t *)"abc", 3, &z, NULL), 0);
        assert_int_equal(sl_compress(real_codecs[i], (const uint8_t *)"defg", 4, &z, NULL), 0);
        assert_int_equal(sl_decompress(real_codecs[i], z.data, z.len, &out, MiB, NULL), 0);
        assert_int_equal(out.len, 7);
        assert_memory_equal(out.data, "abcdefg", 7);
        sl_buf_free(&z);
        sl_buf_free(&out);
    }
}

static void test_gzip_output_has_gzip_header_and_zlib_input_is_accepted(void **state)
{
    (void)state;
    sl_buf_t z, out;
    sl_buf_init(&z);
    sl_buf_init(&out);
    assert_int_equal(sl_compress(SL_COMPRESSION_GZIP, (const uint8_t *)"hello", 5, &z, NULL), 0);
    assert_int_equal(z.data[0], 0x1f);
    assert_int_equal(z.data[1], 0x8b);
    assert_int_equal(z.data[2], 8); /* deflate */
    /* zlib-wrapped "hello" (python: zlib.compress(b"hello")) */
    static const uint8_t zlib_hello[] = {0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07,
                                         0x00, 0x06, 0x2c, 0x02, 0x15};
    assert_int_equal(sl_decompress(SL_COMPRESSION_GZIP, zlib_hello, sizeof zlib_hello, &out, 100, NULL), 0);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "hello", 5);
    sl_buf_free(&z);
    sl_buf_free(&out);
}

static void test_lz4_output_is_a_frame_with_independent_64k_blocks(void **state)
{
    (void)state;
    enum { N = 200000 }; /* several blocks: a one-block frame is always "independent" */
    uint8_t *in = malloc(N);
    assert_non_null(in);
    fill_compressible(in, N);
    sl_buf_t z;
    sl_buf_init(&z);
    assert_int_equal(sl_compress(SL_COMPRESSION_LZ4, in, N, &z, NULL), 0);
    free(in);
    assert_true(z.len >= 7);
    assert_int_equal(sl_be32(z.data), 0x04224D18); /* magic 0x184D2204, little-endian */
    uint8_t flg = z.data[4], bd = z.data[5];
    assert_int_equal(flg >> 6, 1);       /* version 01 */
    assert_int_equal((flg >> 5) & 1, 1); /* block independence */
    assert_int_equal(flg & 0x1c, 0);     /* no block checksum, content size or content checksum */
    assert_int_equal((bd >> 4) & 7, 4);  /* 64 KiB blocks */
    sl_buf_free(&z);
}

static void test_snappy_output_uses_xerial_framing(void **state)
{
    (void)state;
    enum { N = 100000 }; /* four 32 KiB blocks */
    uint8_t *in = malloc(N);
    assert_non_null(in);
    fill_compressible(in, N);
    sl_buf_t z;
    sl_buf_init(&z);
    assert_int_equal(sl_compress(SL_COMPRESSION_SNAPPY, in, N, &z, NULL), 0);
    static const uint8_t magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00};
    assert_true(z.len > 16);
    assert_memory_equal(z.data, magic, 8);
    assert_int_equal(sl_be32(z.data + 8), 1);  /* version */
    assert_int_equal(sl_be32(z.data + 12), 1); /* compatible version */
    size_t pos = 16, total = 0, blocks = 0;
    while (pos < z.len) {
        assert_true(z.len - pos >= 4);
        size_t blen = sl_be32(z.data + pos);
        pos += 4;
        assert_true(blen <= z.len - pos);
        size_t n;
        assert_int_equal(snappy_uncompressed_length((const char *)z.data + pos, blen, &n), SNAPPY_OK);
        assert_true(n <= 32768);
        char *block = malloc(n ? n : 1);
        assert_non_null(block);
        assert_int_equal(snappy_uncompress((const char *)z.data + pos, blen, block, &n), SNAPPY_OK);
        assert_memory_equal(block, in + total, n);
        free(block);
        total += n;
        pos += blen;
        blocks++;
    }
    assert_int_equal(pos, z.len);
    assert_int_equal(total, N);
    assert_int_equal(blocks, 4);
    sl_buf_free(&z);
    free(in);
}

static void test_snappy_empty_input_is_just_the_xerial_header(void **state)
{
    (void)state;
    sl_buf_t z;
    sl_buf_init(&z);
    assert_int_equal(sl_compress(SL_COMPRESSION_SNAPPY, NULL, 0, &z, NULL), 0);
    assert_int_equal(z.len, 16);
    sl_buf_free(&z);
}

static void test_snappy_accepts_a_raw_block(void **state)
{
    (void)state;
    uint8_t in[3000];
    fill_compressible(in, sizeof in);
    size_t zlen = snappy_max_compressed_length(sizeof in);
    char *raw = malloc(zlen);
    assert_non_null(raw);
    assert_int_equal(snappy_compress((const char *)in, sizeof in, raw, &zlen), SNAPPY_OK);
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, (const uint8_t *)raw, zlen, &out, MiB, NULL), 0);
    assert_int_equal(out.len, sizeof in);
    assert_memory_equal(out.data, in, sizeof in);
    /* and still applies the limit to a raw block */
    sl_buf_reset(&out);
    assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, (const uint8_t *)raw, zlen, &out, 100, NULL),
                     SL_B_ETOOLARGE);
    free(raw);
    sl_buf_free(&out);
}

static void test_snappy_accepts_the_xerial_example_encoding(void **state)
{
    (void)state;
    /* "foobar\n" as snappy-java writes it */
    static const uint8_t z[] = {0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
                                0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x07, 0x18, 0x66, 0x6f, 0x6f, 0x62,
                                0x61, 0x72, 0x0a};
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, z, sizeof z, &out, 100, NULL), 0);
    assert_int_equal(out.len, 7);
    assert_memory_equal(out.data, "foobar\n", 7);
    sl_buf_free(&out);
}

static void test_snappy_xerial_block_length_past_the_end_is_corrupt(void **state)
{
    (void)state;
    sl_buf_t z, out;
    sl_buf_init(&z);
    sl_buf_init(&out);
    assert_int_equal(sl_compress(SL_COMPRESSION_SNAPPY, (const uint8_t *)"some data", 9, &z, NULL), 0);
    sl_put_be32(z.data + 16, 0x7fffffff);
    sl_err_t err = {0};
    assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, z.data, z.len, &out, MiB, &err), SL_B_ECORRUPT);
    assert_non_null(strstr(err.msg, "snappy"));
    sl_put_be32(z.data + 16, 0);
    assert_int_equal(sl_decompress(SL_COMPRESSION_SNAPPY, z.data, z.len, &out, MiB, NULL), SL_B_ECORRUPT);
    sl_buf_free(&z);
    sl_buf_free(&out);
}

static void test_zstd_frame_without_content_size_decodes(void **state)
{
    (void)state;
    enum { N = 700000 };
    uint8_t *in = malloc(N);
    assert_non_null(in);
    fill_compressible(in, N);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    assert_non_null(cctx);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0)));
    size_t cap = ZSTD_compressBound(N);
    uint8_t *z = malloc(cap);
    assert_non_null(z);
    size_t zlen = ZSTD_compress2(cctx, z, cap, in, N);
    assert_false(ZSTD_isError(zlen));
    assert_true(ZSTD_getFrameContentSize(z, zlen) == ZSTD_CONTENTSIZE_UNKNOWN);
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_decompress(SL_COMPRESSION_ZSTD, z, zlen, &out, N, NULL), 0);
    assert_int_equal(out.len, N);
    assert_memory_equal(out.data, in, N);
    sl_buf_reset(&out);
    assert_int_equal(sl_decompress(SL_COMPRESSION_ZSTD, z, zlen, &out, N - 1, NULL), SL_B_ETOOLARGE);
    sl_buf_free(&out);
    ZSTD_freeCCtx(cctx);
    free(z);
    free(in);
}

static void test_lz4_frame_with_checksums_and_linked_blocks_decodes(void **state)
{
    (void)state;
    enum { N = 300000 };
    uint8_t *in = malloc(N);
    assert_non_null(in);
    fill_compressible(in, N);
    LZ4F_preferences_t prefs = {.frameInfo = {.blockSizeID = LZ4F_max256KB,
                                              .blockMode = LZ4F_blockLinked,
                                              .contentChecksumFlag = LZ4F_contentChecksumEnabled,
                                              .blockChecksumFlag = LZ4F_blockChecksumEnabled,
                                              .contentSize = N}};
    size_t cap = LZ4F_compressFrameBound(N, &prefs);
    uint8_t *z = malloc(cap);
    assert_non_null(z);
    size_t zlen = LZ4F_compressFrame(z, cap, in, N, &prefs);
    assert_false(LZ4F_isError(zlen));
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_decompress(SL_COMPRESSION_LZ4, z, zlen, &out, N, NULL), 0);
    assert_int_equal(out.len, N);
    assert_memory_equal(out.data, in, N);
    /* a flipped byte inside the checksummed content is caught */
    z[zlen / 2] ^= 0x40;
    sl_buf_reset(&out);
    assert_int_equal(sl_decompress(SL_COMPRESSION_LZ4, z, zlen, &out, N, NULL), SL_B_ECORRUPT);
    sl_buf_free(&out);
    free(z);
    free(in);
}

static void test_unknown_codec_is_unsupported(void **state)
{
    (void)state;
    sl_buf_t out;
    sl_buf_init(&out);
    assert_int_equal(sl_compress(5, (const uint8_t *)"x", 1, &out, NULL), SL_B_EUNSUPPORTED);
    assert_int_equal(sl_decompress(7, (const uint8_t *)"x", 1, &out, 10, NULL), SL_B_EUNSUPPORTED);
    assert_int_equal(sl_compress(-1, (const uint8_t *)"x", 1, &out, NULL), SL_B_EUNSUPPORTED);
    sl_buf_free(&out);
}

static void test_codec_names_parse_back(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODECS(codecs); i++)
        assert_int_equal(sl_compression_parse(sl_compression_name(codecs[i])), codecs[i]);
    assert_string_equal(sl_compression_name(SL_COMPRESSION_ZSTD), "zstd");
    assert_string_equal(sl_compression_name(SL_COMPRESSION_SNAPPY), "snappy");
    assert_int_equal(sl_compression_parse("brotli"), -1);
    assert_int_equal(sl_compression_parse(""), -1);
    assert_string_equal(sl_compression_name(9), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_codec_round_trips_empty_input),
        cmocka_unit_test(test_every_codec_round_trips_one_byte),
        cmocka_unit_test(test_every_codec_round_trips_one_mib_compressible),
        cmocka_unit_test(test_every_codec_round_trips_one_mib_random),
        cmocka_unit_test(test_every_codec_round_trips_odd_sizes_around_block_edges),
        cmocka_unit_test(test_decompress_appends_after_existing_bytes),
        cmocka_unit_test(test_decompress_beyond_max_out_fails_with_too_large),
        cmocka_unit_test(test_zero_max_out_allows_only_empty_output),
        cmocka_unit_test(test_garbage_input_is_an_error_not_a_crash),
        cmocka_unit_test(test_truncated_stream_is_an_error_at_every_length),
        cmocka_unit_test(test_trailing_garbage_after_a_stream_is_an_error),
        cmocka_unit_test(test_concatenated_frames_decode_as_one_stream),
        cmocka_unit_test(test_gzip_output_has_gzip_header_and_zlib_input_is_accepted),
        cmocka_unit_test(test_lz4_output_is_a_frame_with_independent_64k_blocks),
        cmocka_unit_test(test_snappy_output_uses_xerial_framing),
        cmocka_unit_test(test_snappy_empty_input_is_just_the_xerial_header),
        cmocka_unit_test(test_snappy_accepts_a_raw_block),
        cmocka_unit_test(test_snappy_accepts_the_xerial_example_encoding),
        cmocka_unit_test(test_snappy_xerial_block_length_past_the_end_is_corrupt),
        cmocka_unit_test(test_zstd_frame_without_content_size_decodes),
        cmocka_unit_test(test_lz4_frame_with_checksums_and_linked_blocks_decodes),
        cmocka_unit_test(test_unknown_codec_is_unsupported),
        cmocka_unit_test(test_codec_names_parse_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
