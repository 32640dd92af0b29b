/* Shared low-level helpers for every Sluice module: error reports, the logger,
 * CRC-32C, protobuf-style varints, a growable byte buffer, big-endian access and
 * clocks.  Kept deliberately small: anything protocol- or module-specific lives
 * in its module, so there is exactly one varint and one crc32c in the tree. */
#ifndef SL_COMMON_H
#define SL_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- error reports ------------------------------------------------------ */

/* Filled by functions that can fail, next to their int status code.  `file`,
 * `line` and `col` are used by the DSL; elsewhere they stay empty / 0. */
typedef struct sl_err {
    char msg[512];
    char file[256];
    int line;
    int col;
} sl_err_t;

/* An empty report without zeroing all of it (`= {0}` writes ~800 bytes: too
 * much for a path taken once per record). */
static inline void sl_err_clear(sl_err_t *e)
{
    e->msg[0] = e->file[0] = '\0';
    e->line = e->col = 0;
}

/* Format a message into `err` (no-op when err is NULL).  Returns `code` so a
 * caller can write `return sl_err_set(err, SL_B_EIO, "...")`. */
int sl_err_set(sl_err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- logging ------------------------------------------------------------ */

enum sl_log_level { SL_DEBUG = 0, SL_INFO = 1, SL_WARN = 2, SL_ERROR = 3, SL_OFF = 4 };

/* One line to stderr: "2026-11-25T12:00:00.123Z INFO  broker: message".
 * The level is the only global mutable state in Sluice (STYLE.md). */
void sl_log(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sl_log_set_level(int level);
int sl_log_get_level(void);
/* "debug" | "info" | "warn" | "error" | "off" -> level; -1 when unknown. */
int sl_log_parse_level(const char *name);

/* ---- CRC-32C (Castagnoli, reflected 0x82F63B78) --------------------------- */

/* Continue a CRC-32C over buf (start with crc = 0).  Uses the SSE4.2 crc32
 * instruction when the CPU has it, the portable slicing-by-8 table otherwise. */
uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t len);
/* The two implementations, exposed so tests can check them against each other. */
uint32_t sl_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t sl_crc32c_hw(uint32_t crc, const void *buf, size_t len); /* only if available */
int sl_crc32c_hw_available(void);

/* ---- varints (protobuf style, as Kafka uses them) ------------------------- */

#define SL_VARINT_MAX 10 /* bytes of the longest encoded 64-bit varint */

/* Encode into out (room for SL_VARINT_MAX bytes); returns bytes written. */
size_t sl_uvarint_put(uint8_t *out, uint64_t v);
size_t sl_varint_put(uint8_t *out, int64_t v); /* zigzag */
/* Decode from p[0..len); returns bytes consumed, or 0 when the input is
 * truncated or longer than SL_VARINT_MAX (malformed).  `max_bytes` lets
 * 32-bit fields reject encodings longer than 5 bytes. */
size_t sl_uvarint_get(const uint8_t *p, size_t len, size_t max_bytes, uint64_t *v);
size_t sl_varint_get(const uint8_t *p, size_t len, size_t max_bytes, int64_t *v);
size_t sl_varint_size(int64_t v);
size_t sl_uvarint_size(uint64_t v);

/* ---- growable byte buffer --------------------------------------------------- */

/* Owns `data`; reuse one across calls so steady-state paths do not allocate. */
typedef struct sl_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} sl_buf_t;

void sl_buf_init(sl_buf_t *b);
void sl_buf_free(sl_buf_t *b);
/* Ensure room for `extra` more bytes past len; 0 or -1 (out of memory). */
int sl_buf_reserve(sl_buf_t *b, size_t extra);
int sl_buf_append(sl_buf_t *b, const void *p, size_t n);
static inline void sl_buf_reset(sl_buf_t *b) { b->len = 0; }

/* ---- big-endian access ------------------------------------------------------ */

static inline uint16_t sl_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t sl_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t sl_be64(const uint8_t *p) { return ((uint64_t)sl_be32(p) << 32) | sl_be32(p + 4); }
static inline void sl_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void sl_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void sl_put_be64(uint8_t *p, uint64_t v)
{
    sl_put_be32(p, (uint32_t)(v >> 32));
    sl_put_be32(p + 4, (uint32_t)v);
}

/* The last n < 8 bytes at p as one word, without a library call: two
 * overlapping 4-byte loads, or three single bytes.  Which bytes it takes
 * depends on n, so a hash must mix n in too (sl_hash_bytes does). */
static inline uint64_t sl_load_tail(const uint8_t *p, size_t n)
{
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return a | (uint64_t)b << 32;
    }
    return n ? p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16 : 0;
}

/* 64-bit multiply-xorshift over 8-byte words: for in-memory hash tables of
 * application keys (not a partitioner: that is murmur2); several bytes per
 * cycle.  The final multiply and shifts spread every input bit into the low
 * bits that index a table: keys that differ only in their last bytes ("word17",
 * "word42") must not crowd into neighbouring slots. */
static inline uint64_t sl_hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
    }
    h = (h ^ sl_load_tail(p, n)) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

/* n bytes equal, without a library call: for the short keys (words, ids) that
 * hash tables compare on every probe. */
static inline bool sl_bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (; n >= 8; a += 8, b += 8, n -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
    }
    return sl_load_tail(a, n) == sl_load_tail(b, n);
}

/* count * size zeroed bytes on a 64-byte boundary (free with free), for
 * hash tables whose slots are one cache line each: a probe touches one line
 * and its prefetch covers the whole slot (calloc's 16-byte alignment splits
 * a slot over two).  From 2 MiB on, on a 2 MiB boundary and advised to be
 * backed by huge pages, so that random probes do not miss the TLB as well.
 * NULL when out of memory or the size overflows. (mem.c) */
void *sl_zalloc_lines(size_t count, size_t size);

/* ---- files (fs.c) -------------------------------------------------------------
 * Return 0, or -1 with errno set; callers word the error for their context. */

/* mkdir -p (mode 0755); an existing directory is success. */
int sl_fs_mkdir_p(const char *dir);
/* fsync a directory, making renames and creations in it durable. */
int sl_fs_fsync_dir(const char *dir);
/* Create/truncate path, write all of data, fdatasync, close. */
int sl_fs_write_file(const char *path, const void *data, size_t len);
/* Replace dir/name atomically and durably: write dir/name.tmp, fdatasync,
 * rename over dir/name, fsync dir.  A crash leaves the old or the new file. */
int sl_fs_write_atomic(const char *dir, const char *name, const void *data, size_t len);
/* rm -rf; errors are ignored (best effort). */
void sl_fs_rmrf(const char *path);

/* ---- clocks ------------------------------------------------------------------ */

int64_t sl_now_ms(void);      /* wall clock, ms since the epoch */
int64_t sl_mono_ns(void);     /* monotonic, for durations */

/* ---- calendar (time.c) ------------------------------------------------------- */

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian), and back. */
int64_t sl_days_from_civil(int64_t y, int m, int d);
void sl_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* ISO-8601 -> epoch ms: a date ("2026-11-25", real days only), or a date and
 * time with 'T' (or 't' or ' '), optional seconds and fraction ('.' or ','; up
 * to 9 digits, ms kept), and 'Z' or an offset ("+01:00", "-0130"); no zone is
 * UTC.  0, or -1 if malformed. */
int sl_time_parse_iso(const char *s, size_t n, int64_t *ms);

#endif
