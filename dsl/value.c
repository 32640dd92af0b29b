/* JSON-like values for the DSL evaluator: the per-record arena, ordering and
 * equality, and the two codecs records use.  JSON goes through jansson (it keeps
 * integers and reals apart, decodes any top-level value and keeps member order);
 * msgpack through msgpack-c, the engine's own value encoding.  Decoding copies
 * into the arena so one sl_arena_free releases a whole record's values. */
#include "dsl/value.h"

#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>

#include "statestore/statestore.h"

struct sl_arena_chunk {
    sl_arena_chunk_t *next;
    size_t cap;
    uint8_t data[];
};

void sl_arena_init(sl_arena_t *a, void *mem, size_t len)
{
    a->base = mem;
    a->used = 0;
    a->cap = mem ? len : 0;
    a->heap = NULL;
}

void *sl_arena_alloc(sl_arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (a->cap - a->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        sl_arena_chunk_t *c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->heap;
        c->cap = cap;
        a->heap = c;
        a->base = c->data;
        a->used = 0;
        a->cap = cap;
    }
    void *p = a->base + a->used;
    a->used += n;
    return p;
}

char *sl_arena_strdup(sl_arena_t *a, const char *s, size_t len)
{
    char *p = sl_arena_alloc(a, len + 1);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

void sl_arena_free(sl_arena_t *a)
{
    while (a->heap) {
        sl_arena_chunk_t *n = a->heap->next;
        free(a->heap);
        a->heap = n;
    }
    a->base = NULL;
    a->used = a->cap = 0;
}

const char *sl_vtype_name(sl_vtype_t t)
{
    static const char *names[] = {"null", "bool", "int", "float", "string", "array", "object"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const sl_value_t *sl_value_get(const sl_value_t *obj, const char *key, size_t key_len)
{
    if (obj->type != SL_V_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const sl_member_t *m = &obj->u.obj.m[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return &m->val;
    }
    return NULL;
}

static int kind_rank(sl_vtype_t t)
{
    return t == SL_V_FLOAT ? SL_V_INT : (int)t; /* numbers share a rank */
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

int sl_value_cmp(const sl_value_t *a, const sl_value_t *b)
{
    int ra = kind_rank(a->type), rb = kind_rank(b->type);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (a->type) {
    case SL_V_NULL: return 0;
    case SL_V_BOOL: return (int)a->u.b - (int)b->u.b;
    case SL_V_INT:
    case SL_V_FLOAT:
        if (a->type == SL_V_INT && b->type == SL_V_INT)
            return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        else {
            double x = a->type == SL_V_INT ? (double)a->u.i : a->u.f;
            double y = b->type == SL_V_INT ? (double)b->u.i : b->u.f;
            return x < y ? -1 : x > y;
        }
    case SL_V_STR: return bytes_cmp(a->u.s.p, a->u.s.len, b->u.s.p, b->u.s.len);
    case SL_V_ARR:
        for (size_t i = 0; i < a->u.arr.n && i < b->u.arr.n; i++) {
            int c = sl_value_cmp(&a->u.arr.items[i], &b->u.arr.items[i]);
            if (c)
                return c;
        }
        return a->u.arr.n < b->u.arr.n ? -1 : a->u.arr.n > b->u.arr.n;
    case SL_V_OBJ:
        for (size_t i = 0; i < a->u.obj.n && i < b->u.obj.n; i++) {
            const sl_member_t *x = &a->u.obj.m[i], *y = &b->u.obj.m[i];
            int c = bytes_cmp(x->key, x->key_len, y->key, y->key_len);
            if (!c)
                c = sl_value_cmp(&x->val, &y->val);
            if (c)
                return c;
        }
        return a->u.obj.n < b->u.obj.n ? -1 : a->u.obj.n > b->u.obj.n;
    }
    return 0;
}

bool sl_value_eq(const sl_value_t *a, const sl_value_t *b) { return sl_value_cmp(a, b) == 0; }

/* ---- JSON (value_json.c; jansson for what its fast path leaves) -------------------------------------------------------------------------- */

static int from_jansson(sl_arena_t *a, json_t *j, sl_value_t *out, int depth)
{
    if (depth > 256)
        return -1;
    switch (json_typeof(j)) {
    case JSON_NULL: *out = sl_v_null(); return 0;
    case JSON_TRUE: *out = sl_v_bool(true); return 0;
    case JSON_FALSE: *out = sl_v_bool(false); return 0;
    case JSON_INTEGER: *out = sl_v_int((int64_t)json_integer_value(j)); return 0;
    case JSON_REAL: *out = sl_v_float(json_real_value(j)); return 0;
    case JSON_STRING: {
        size_t n = json_string_length(j);
        char *p = sl_arena_strdup(a, json_string_value(j), n);
        if (!p)
            return -1;
        *out = sl_v_str(p, n);
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        sl_value_t *items = sl_arena_alloc(a, n * sizeof *items);
        if (!items)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (from_jansson(a, json_array_get(j, i), &items[i], depth + 1))
                return -1;
        out->type = SL_V_ARR;
        out->u.arr.items = items;
        out->u.arr.n = n;
        return 0;
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(j), i = 0;
        sl_member_t *m = sl_arena_alloc(a, n * sizeof *m);
        if (!m)
            return -1;
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            m[i].key_len = strlen(k);
            if (!(m[i].key = sl_arena_strdup(a, k, m[i].key_len)) || from_jansson(a, v, &m[i].val, depth + 1))
                return -1;
            i++;
        }
        out->type = SL_V_OBJ;
        out->u.obj.m = m;
        out->u.obj.n = i;
        return 0;
    }
    }
    return -1;
}

int sl_value_from_json(sl_arena_t *a, const void *p, size_t n, sl_value_t *out, sl_err_t *err)
{
    int fast = sl_json_decode_fast(a, p, n, out);
    if (fast == 0)
        return 0;
    if (fast < 0)
        return sl_err_set(err, -1, "JSON value too large or too deep");
    json_error_t je; /* outside the fast subset: jansson decides (and words the error) */
    json_t *j = json_loadb(p, n, JSON_DECODE_ANY, &je);
    if (!j)
        return sl_err_set(err, -1, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
    int rc = from_jansson(a, j, out, 0);
    json_decref(j);
    return rc ? sl_err_set(err, -1, "JSON value too large or too deep") : 0;
}

int sl_value_to_json(const sl_value_t *v, sl_buf_t *out, sl_err_t *err)
{
    return sl_json_encode(v, out) ? sl_err_set(err, -1, "cannot encode value as JSON") : 0;
}

/* ---- msgpack (msgpack-c) --------------------------------------------------------------------- */

static int from_mp(sl_arena_t *a, const msgpack_object *o, sl_value_t *out, int depth)
{
    if (depth > 256)
        return -1;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: *out = sl_v_null(); return 0;
    case MSGPACK_OBJECT_BOOLEAN: *out = sl_v_bool(o->via.boolean); return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX)
            *out = sl_v_float((double)o->via.u64);
        else
            *out = sl_v_int((int64_t)o->via.u64);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = sl_v_int(o->via.i64); return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = sl_v_float(o->via.f64); return 0;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN: {
        const char *src = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
        size_t n = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
        char *p = sl_arena_strdup(a, src, n);
        if (!p)
            return -1;
        *out = sl_v_str(p, n);
        return 0;
    }
    case MSGPACK_OBJECT_ARRAY: {
        size_t n = o->via.array.size;
        sl_value_t *items = sl_arena_alloc(a, n * sizeof *items);
        if (!items)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (from_mp(a, &o->via.array.ptr[i], &items[i], depth + 1))
                return -1;
        out->type = SL_V_ARR;
        out->u.arr.items = items;
        out->u.arr.n = n;
        return 0;
    }
    case MSGPACK_OBJECT_MAP: {
        size_t n = o->via.map.size;
        sl_member_t *m = sl_arena_alloc(a, n * sizeof *m);
        if (!m)
            return -1;
        for (size_t i = 0; i < n; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            sl_value_t kv;
            if (from_mp(a, k, &kv, depth + 1))
                return -1;
            if (kv.type != SL_V_STR) /* non-string keys become their JSON text */
                return -1;
            m[i].key = kv.u.s.p;
            m[i].key_len = kv.u.s.len;
            if (from_mp(a, &o->via.map.ptr[i].val, &m[i].val, depth + 1))
                return -1;
        }
        out->type = SL_V_OBJ;
        out->u.obj.m = m;
        out->u.obj.n = n;
        return 0;
    }
    default: return -1;
    }
}

int sl_value_from_msgpack(sl_arena_t *a, const void *p, size_t n, sl_value_t *out, sl_err_t *err)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = msgpack_unpack_next(&up, p, n, &off);
    if (rc != MSGPACK_UNPACK_SUCCESS || off != n)
        rc = sl_err_set(err, -1, "value is not one msgpack object");
    else if (from_mp(a, &up.data, out, 0))
        rc = sl_err_set(err, -1, "msgpack value unsupported (map with non-string keys, extension) or too deep");
    else
        rc = 0;
    msgpack_unpacked_destroy(&up);
    return rc;
}

static void to_mp(msgpack_packer *pk, const sl_value_t *v)
{
    switch (v->type) {
    case SL_V_NULL: msgpack_pack_nil(pk); break;
    case SL_V_BOOL: v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case SL_V_INT: msgpack_pack_int64(pk, v->u.i); break;
    case SL_V_FLOAT: msgpack_pack_double(pk, v->u.f); break;
    case SL_V_STR:
        msgpack_pack_str(pk, v->u.s.len);
        msgpack_pack_str_body(pk, v->u.s.p, v->u.s.len);
        break;
    case SL_V_ARR:
        msgpack_pack_array(pk, v->u.arr.n);
        for (size_t i = 0; i < v->u.arr.n; i++)
            to_mp(pk, &v->u.arr.items[i]);
        break;
    case SL_V_OBJ:
        msgpack_pack_map(pk, v->u.obj.n);
        for (size_t i = 0; i < v->u.obj.n; i++) {
            msgpack_pack_str(pk, v->u.obj.m[i].key_len);
            msgpack_pack_str_body(pk, v->u.obj.m[i].key, v->u.obj.m[i].key_len);
            to_mp(pk, &v->u.obj.m[i].val);
        }
        break;
    }
}

int sl_value_to_msgpack(const sl_value_t *v, sl_buf_t *out)
{
    msgpack_packer pk;
    sl_codec_packer_init(&pk, out);
    to_mp(&pk, v);
    return 0;
}
