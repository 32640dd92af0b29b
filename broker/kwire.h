/* Internal to broker/: the Kafka protocol's primitive types, read and written
 * with bounds checks.  A reader carries a sticky error flag, so a handler
 * decodes a whole request with plain calls and checks `r->err` once at the
 * end: after the first short or malformed field every read returns zero/empty
 * and nothing is ever read past the frame.  Writers append to an sl_buf_t. */
#ifndef SL_BROKER_KWIRE_H
#define SL_BROKER_KWIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"

typedef struct kr {
    const uint8_t *p, *end;
    bool err;
} kr_t;

/* A string or bytes view into the request frame; len -1 = null. */
typedef struct kstr {
    const char *p;
    int32_t len;
} kstr_t;

static inline void kr_init(kr_t *r, const void *p, size_t len)
{
    r->p = p;
    r->end = r->p + len;
    r->err = false;
}
static inline size_t kr_left(const kr_t *r) { return (size_t)(r->end - r->p); }

int8_t kr_i8(kr_t *r);
int16_t kr_i16(kr_t *r);
int32_t kr_i32(kr_t *r);
int64_t kr_i64(kr_t *r);
uint64_t kr_uvarint(kr_t *r);
/* STRING / NULLABLE_STRING (int16 length); null only accepted when nullable. */
kstr_t kr_str(kr_t *r, bool nullable);
/* COMPACT_STRING / COMPACT_NULLABLE_STRING (uvarint length + 1). */
kstr_t kr_cstr(kr_t *r, bool nullable);
/* BYTES / NULLABLE_BYTES (int32 length) and the compact form. */
kstr_t kr_bytes(kr_t *r, bool nullable);
kstr_t kr_cbytes(kr_t *r, bool nullable);
/* Array count (int32, -1 = null -> 0 when nullable) or compact count.  The
 * count is checked against the bytes left (every element takes at least
 * min_elem bytes), so a hostile count cannot drive a large allocation. */
int32_t kr_array(kr_t *r, size_t min_elem);
int32_t kr_carray(kr_t *r, size_t min_elem);
/* Skip a tagged-field section (flexible versions). */
void kr_tags(kr_t *r);
/* Flexible-aware helpers: pick the compact form when flex. */
static inline kstr_t kr_string(kr_t *r, bool flex, bool nullable)
{
    return flex ? kr_cstr(r, nullable) : kr_str(r, nullable);
}
static inline int32_t kr_arr(kr_t *r, bool flex, size_t min_elem)
{
    return flex ? kr_carray(r, min_elem) : kr_array(r, min_elem);
}
/* Copy a string into a NUL-terminated buffer; false if it does not fit or is null. */
bool kstr_copy(kstr_t s, char *buf, size_t cap);
static inline bool kstr_eq(kstr_t s, const char *c)
{
    return s.len >= 0 && strlen(c) == (size_t)s.len && memcmp(s.p, c, (size_t)s.len) == 0;
}

/* Writers (append; memory failure is checked once by the caller via kw_ok). */
typedef struct kw {
    sl_buf_t *b;
    bool err;
} kw_t;

void kw_i8(kw_t *w, int8_t v);
void kw_i16(kw_t *w, int16_t v);
void kw_i32(kw_t *w, int32_t v);
void kw_i64(kw_t *w, int64_t v);
void kw_uvarint(kw_t *w, uint64_t v);
void kw_raw(kw_t *w, const void *p, size_t n);
/* len < 0 writes null.  Flexible forms when flex. */
void kw_string(kw_t *w, bool flex, const char *p, int32_t len);
void kw_cstring(kw_t *w, bool flex, const char *s); /* NULL -> null */
void kw_bytes(kw_t *w, bool flex, const void *p, int32_t len);
void kw_arr(kw_t *w, bool flex, int32_t n); /* n < 0: null */
void kw_tags(kw_t *w, bool flex);           /* empty tagged-field section when flex */
/* Reserve an int32 at the current position; patch it later. */
size_t kw_reserve32(kw_t *w);
void kw_patch32(kw_t *w, size_t at, int32_t v);

#endif
