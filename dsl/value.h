/* Internal to dsl/: the in-memory JSON-like value the evaluator works on, the
 * bump arena every value of one evaluation lives in, and the codecs between
 * values and record bytes (JSON through jansson, msgpack through msgpack-c). */
#ifndef SL_DSL_VALUE_H
#define SL_DSL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* A bump allocator: one evaluation (one record) allocates from it and frees
 * everything at once.  The first chunk may be caller memory (a stack buffer),
 * so the common small record costs no malloc; larger ones chain heap chunks. */
typedef struct sl_arena_chunk sl_arena_chunk_t;
typedef struct sl_arena {
    uint8_t *base;
    size_t used, cap;
    sl_arena_chunk_t *heap; /* heap chunks, freed by sl_arena_free */
} sl_arena_t;

void sl_arena_init(sl_arena_t *a, void *mem, size_t len);
void *sl_arena_alloc(sl_arena_t *a, size_t n); /* NULL when out of memory */
char *sl_arena_strdup(sl_arena_t *a, const char *s, size_t len);
void sl_arena_free(sl_arena_t *a);

typedef enum sl_vtype {
    SL_V_NULL = 0,
    SL_V_BOOL,
    SL_V_INT,
    SL_V_FLOAT,
    SL_V_STR,
    SL_V_ARR,
    SL_V_OBJ,
} sl_vtype_t;

typedef struct sl_value sl_value_t;
typedef struct sl_member sl_member_t;
struct sl_value {
    sl_vtype_t type;
    union {
        bool b;
        int64_t i;
        double f;
        struct { const char *p; size_t len; } s;  /* not NUL-terminated in general */
        struct { sl_value_t *items; size_t n; } arr;
        struct { sl_member_t *m; size_t n; } obj; /* insertion order kept */
    } u;
};
struct sl_member {
    const char *key;
    size_t key_len;
    sl_value_t val;
};

static inline sl_value_t sl_v_null(void) { sl_value_t v = {.type = SL_V_NULL}; return v; }
static inline sl_value_t sl_v_bool(bool b) { sl_value_t v = {.type = SL_V_BOOL, .u.b = b}; return v; }
static inline sl_value_t sl_v_int(int64_t i) { sl_value_t v = {.type = SL_V_INT, .u.i = i}; return v; }
static inline sl_value_t sl_v_float(double f) { sl_value_t v = {.type = SL_V_FLOAT, .u.f = f}; return v; }
static inline sl_value_t sl_v_str(const char *p, size_t len)
{
    sl_value_t v = {.type = SL_V_STR, .u.s = {p, len}};
    return v;
}

const char *sl_vtype_name(sl_vtype_t t); /* "null", "int", ... */

/* The member `key` of an object, NULL when absent. */
const sl_value_t *sl_value_get(const sl_value_t *obj, const char *key, size_t key_len);
/* Total order used by comparisons and by min/max: numbers compare by value
 * (int vs float promoted), strings bytewise, arrays and objects member-wise;
 * values of different kinds order by kind.  Returns <0, 0, >0. */
int sl_value_cmp(const sl_value_t *a, const sl_value_t *b);
bool sl_value_eq(const sl_value_t *a, const sl_value_t *b);

/* JSON: decode text (any JSON value at the top) into the arena; encode a value
 * appending to out.  Floats that hold integers print with ".0" (jansson). */
int sl_value_from_json(sl_arena_t *a, const void *p, size_t n, sl_value_t *out, sl_err_t *err);
int sl_value_to_json(const sl_value_t *v, sl_buf_t *out, sl_err_t *err);
/* The JSON codec under those two (value_json.c): decode returns 0, 1 when the
 * text is outside its fast subset (decode it with jansson then: errors and
 * edge cases are jansson's), -1 when out of memory; encode returns -1 on
 * invalid UTF-8 or out of memory (out unchanged). */
int sl_json_decode_fast(sl_arena_t *a, const void *p, size_t n, sl_value_t *out);
int sl_json_encode(const sl_value_t *v, sl_buf_t *out);
/* Is p[0..n) exactly what decoding it and encoding the value again would
 * write (compact, integers only, the encoder's escapes, no repeated keys)?
 * Then a record can pass through unchanged (conservative: false is always
 * safe). */
bool sl_json_is_canonical(const void *p, size_t n);
/* msgpack: one whole object in p[0..n); encode appending to out. */
int sl_value_from_msgpack(sl_arena_t *a, const void *p, size_t n, sl_value_t *out, sl_err_t *err);
int sl_value_to_msgpack(const sl_value_t *v, sl_buf_t *out);

#endif
