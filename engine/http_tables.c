/* /v1/tables: the listing, point reads and ordered scans of the HTTP query
 * server.  Every read opens one LMDB snapshot per partition of the table
 * (committed state only, never blocking the job's writers) and ends them
 * before returning.  A table's partitions hold disjoint keys, so a point read
 * asks the partition Kafka's partitioner names first; a scan runs one cursor
 * per partition over the requested range and merges them in key order (a
 * heap would pay off past a few dozen partitions; a linear pick of the
 * smallest head is cheaper below that). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/http.h"

#define DEFAULT_LIMIT 100
#define MAX_LIMIT 10000

static const char *kind_name(sl_store_kind_t k)
{
    return k == SL_STORE_WINDOW ? "windowed" : k == SL_STORE_SESSION ? "session" : "kv";
}

/* ---- partitions and snapshots ---------------------------------------------------------------- */

typedef struct parts {
    int32_t n;
    sl_env_t **env;
    sl_store_t **store;
    sl_snap_t **snap;
} parts_t;

static void parts_close(parts_t *ps)
{
    for (int32_t i = 0; ps->snap && i < ps->n; i++)
        sl_snap_end(ps->snap[i]);
    free(ps->env);
    free(ps->store);
    free(ps->snap);
    memset(ps, 0, sizeof *ps);
}

/* Snapshots of every partition: 0, or an HTTP status with body written. */
static int parts_open(const http_table_t *t, parts_t *ps, sl_buf_t *body)
{
    memset(ps, 0, sizeof *ps);
    int32_t n = t->info.partitions;
    if (n <= 0)
        return http_error(body, 503, "table '%s' has no partitions", t->info.name);
    ps->env = calloc((size_t)n, sizeof *ps->env);
    ps->store = calloc((size_t)n, sizeof *ps->store);
    ps->snap = calloc((size_t)n, sizeof *ps->snap);
    if (!ps->env || !ps->store || !ps->snap) {
        parts_close(ps);
        return http_error(body, 500, "out of memory");
    }
    for (int32_t p = 0; p < n; p++) {
        sl_err_t err = {0};
        if (sl_runtime_table_part(t->rt, t->index, p, &ps->env[p], &ps->store[p]) != 0) {
            ps->n = p;
            parts_close(ps);
            return http_error(body, 503, "table '%s': partition %d is not open", t->info.name, (int)p);
        }
        if (sl_snap_begin(ps->env[p], &ps->snap[p], &err) != 0) {
            ps->n = p;
            parts_close(ps);
            return http_error(body, 503, "table '%s': %s", t->info.name, err.msg);
        }
        ps->n = p + 1;
    }
    return 0;
}

/* The committed descriptor of a store: schemas and window size. */
typedef struct desc {
    char key_schema[128], value_schema[128];
    int64_t window_size_ms, retention_ms;
    const char *want;
    bool found;
} desc_t;

static int desc_fn(void *arg, const sl_store_info_t *info)
{
    desc_t *d = arg;
    if (strcmp(info->name, d->want) != 0)
        return 0;
    snprintf(d->key_schema, sizeof d->key_schema, "%s", info->key_schema ? info->key_schema : "");
    snprintf(d->value_schema, sizeof d->value_schema, "%s", info->value_schema ? info->value_schema : "");
    d->window_size_ms = info->window_size_ms;
    d->retention_ms = info->retention_ms;
    d->found = true;
    return 1;
}

static void read_desc(const parts_t *ps, desc_t *d)
{
    memset(d, 0, sizeof *d);
    if (ps->n == 0)
        return;
    d->want = sl_store_name(ps->store[0]);
    sl_env_list_stores(ps->env[0], ps->snap[0], desc_fn, d, NULL);
}

/* ---- helpers ------------------------------------------------------------------------------------ */

static int bytes_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

static int i64_cmp(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* The order each kind's scans come in: key-value by key bytes; windows (the
 * time index) by (start, key length, key); sessions by (end, key length, key,
 * start). */
static int entry_cmp(sl_store_kind_t kind, const sl_entry_t *a, const sl_entry_t *b)
{
    int c;
    if (kind == SL_STORE_KV)
        return bytes_cmp(a->key, a->key_len, b->key, b->key_len);
    if (kind == SL_STORE_WINDOW) {
        if ((c = i64_cmp(a->start, b->start)) != 0)
            return c;
    } else if ((c = i64_cmp(a->end, b->end)) != 0) {
        return c;
    }
    if ((c = i64_cmp((int64_t)a->key_len, (int64_t)b->key_len)) != 0)
        return c;
    if ((c = bytes_cmp(a->key, a->key_len, b->key, b->key_len)) != 0)
        return c;
    return kind == SL_STORE_SESSION ? i64_cmp(a->start, b->start) : 0;
}

static int param(const http_query_t *q, const char *name, sl_buf_t *v, sl_buf_t *body, int *status)
{
    int rc = http_query_get(q, name, v);
    if (rc < 0)
        *status = http_error(body, 400, "malformed query string");
    return rc;
}

static int param_time(const http_query_t *q, const char *name, int64_t *t, sl_buf_t *tmp, sl_buf_t *body, int *status)
{
    int rc = param(q, name, tmp, body, status);
    if (rc <= 0)
        return rc;
    if (http_parse_time((const char *)tmp->data, tmp->len, t) != 0) {
        *status = http_error(body, 400, "parameter '%s': expected epoch milliseconds or an ISO-8601 time, got '%.64s'",
                             name, (const char *)tmp->data);
        return -1;
    }
    return 1;
}

static int check_params(const http_query_t *q, const char *const *allowed, size_t n, sl_buf_t *body)
{
    char bad[80];
    if (http_query_check(q, allowed, n, bad, sizeof bad) == 0)
        return 0;
    return http_error(body, 400, "unknown or malformed parameter '%s'", bad);
}

int http_row_json(sl_buf_t *out, const sl_rt_table_t *t, const sl_entry_t *e, int64_t window_size, sl_codec_t *codec,
                  bool with_key)
{
    sl_store_kind_t kind = t->kind;
    if (sl_buf_append(out, "{", 1))
        return -1;
    if (with_key && (sl_buf_append(out, "\"key\":", 6) || http_json_str(out, e->key, e->key_len) ||
                     sl_buf_append(out, ",", 1)))
        return -1;
    if (kind != SL_STORE_KV) {
        int64_t end = kind == SL_STORE_WINDOW ? e->start + window_size : e->end;
        if (http_json_fmt(out, "\"start\":%lld,\"end\":%lld,", (long long)e->start, (long long)end))
            return -1;
    }
    return sl_buf_append(out, "\"value\":", 8) || http_json_value(out, codec, t->raw_values, e->val, e->val_len) ||
           sl_buf_append(out, "}", 1);
}

/* ---- GET /v1/tables ------------------------------------------------------------------------------ */

/* Names of the top-level members of the first committed value, when it is a
 * map (what the DSL's aggregate { a: ..., b: ... } stores) or, for a table
 * source, a JSON object: [] for other values, null for an empty table.  One
 * sample, so "where known": records of one topic may differ in shape. */
static int value_fields(const http_table_t *t, const parts_t *ps, sl_codec_t *codec, sl_buf_t *out)
{
    int rc = sl_buf_append(out, "null", 4);
    for (int32_t p = 0; p < ps->n && rc == 0; p++) {
        sl_iter_t *it = NULL;
        sl_store_t *s = ps->store[p];
        int orc = t->info.kind == SL_STORE_WINDOW  ? sl_win_fetch_all(s, ps->snap[p], INT64_MIN, INT64_MAX, 0, &it, NULL)
                  : t->info.kind == SL_STORE_SESSION ? sl_sess_find(s, ps->snap[p], NULL, 0, INT64_MIN, INT64_MAX, 0, &it, NULL)
                                                     : sl_kv_prefix(s, ps->snap[p], "", 0, 0, &it, NULL);
        if (orc != 0)
            continue;
        sl_entry_t e;
        msgpack_object o;
        if (sl_iter_next(it, &e) == 1) {
            out->len -= 4; /* the "null" */
            json_t *j = t->info.raw_values ? json_loadb((const char *)e.val, e.val_len, 0, NULL) : NULL;
            if (json_is_object(j)) {
                rc = sl_buf_append(out, "[", 1);
                const char *name;
                json_t *v;
                bool first = true;
                json_object_foreach(j, name, v) {
                    rc = rc || (!first && sl_buf_append(out, ",", 1)) || http_json_str(out, name, strlen(name));
                    first = false;
                }
                rc = rc || sl_buf_append(out, "]", 1);
            } else if (!t->info.raw_values && sl_codec_decode(codec, e.val, e.val_len, &o) == 0 &&
                       o.type == MSGPACK_OBJECT_MAP) {
                rc = sl_buf_append(out, "[", 1);
                bool first = true;
                for (uint32_t i = 0; i < o.via.map.size && rc == 0; i++) {
                    const msgpack_object *k = &o.via.map.ptr[i].key;
                    if (k->type != MSGPACK_OBJECT_STR || (k->via.str.size && k->via.str.ptr[0] == '$'))
                        continue;
                    rc = (!first && sl_buf_append(out, ",", 1)) || http_json_str(out, k->via.str.ptr, k->via.str.size);
                    first = false;
                }
                rc = rc || sl_buf_append(out, "]", 1);
            } else {
                rc = sl_buf_append(out, "[]", 2);
            }
            json_decref(j);
            sl_iter_close(it);
            return rc;
        }
        sl_iter_close(it);
    }
    return rc;
}

static int table_json(const http_table_t *t, sl_codec_t *codec, sl_buf_t *out)
{
    parts_t ps;
    sl_buf_t ignored;
    sl_buf_init(&ignored);
    int st = parts_open(t, &ps, &ignored);
    sl_buf_free(&ignored);
    uint64_t count = 0;
    uint64_t seq = 0;
    desc_t d;
    memset(&d, 0, sizeof d);
    if (st == 0) {
        for (int32_t p = 0; p < ps.n; p++) {
            uint64_t n = 0;
            if (sl_store_entries(ps.store[p], ps.snap[p], &n) == 0)
                count += n;
            seq += sl_snap_seq(ps.snap[p]);
        }
        read_desc(&ps, &d);
    }
    int rc = sl_buf_append(out, "{\"name\":", 8) || http_json_str(out, t->info.name, strlen(t->info.name)) ||
             sl_buf_append(out, ",\"job\":", 7) || http_json_str(out, t->job, strlen(t->job)) ||
             sl_buf_append(out, ",\"node\":", 8) || http_json_str(out, t->info.node, strlen(t->info.node)) ||
             http_json_fmt(out, ",\"kind\":\"%s\",\"partitions\":%d,\"count\":%llu,\"commits\":%llu",
                           kind_name(t->info.kind), (int)t->info.partitions, (unsigned long long)count,
                           (unsigned long long)seq) ||
             sl_buf_append(out, ",\"key\":", 7) || http_json_str(out, d.key_schema, strlen(d.key_schema)) ||
             sl_buf_append(out, ",\"value\":", 9) || http_json_str(out, d.value_schema, strlen(d.value_schema)) ||
             sl_buf_append(out, ",\"value_fields\":", 16);
    if (!rc)
        rc = st == 0 ? value_fields(t, &ps, codec, out) : sl_buf_append(out, "null", 4);
    if (!rc && t->info.kind != SL_STORE_KV)
        rc = http_json_fmt(out, ",\"window_size_ms\":%lld,\"retention_ms\":%lld", (long long)d.window_size_ms,
                           (long long)d.retention_ms);
    rc = rc || sl_buf_append(out, "}", 1);
    if (st == 0)
        parts_close(&ps);
    return rc;
}

int http_tables_list(const char *const *names, sl_runtime_t *const *rts, size_t n, sl_buf_t *body)
{
    sl_codec_t *codec = NULL;
    if (sl_codec_new(&codec) != 0)
        return http_error(body, 500, "out of memory");
    int rc = sl_buf_append(body, "{\"tables\":[", 11);
    bool first = true;
    for (size_t j = 0; j < n && !rc; j++) {
        size_t count = sl_runtime_table_count(rts[j]);
        for (size_t i = 0; i < count && !rc; i++) {
            http_table_t t = {.job = names[j], .rt = rts[j], .index = i};
            if (sl_runtime_table(rts[j], i, &t.info) != 0)
                continue;
            rc = (!first && sl_buf_append(body, ",", 1)) || table_json(&t, codec, body);
            first = false;
        }
    }
    rc = rc || sl_buf_append(body, "]}", 2);
    sl_codec_free(codec);
    return rc ? http_error(body, 500, "out of memory") : 200;
}

/* ---- GET /v1/tables/NAME/keys/KEY ----------------------------------------------------------------- */

/* Look the key up in partition p: 1 found (rows appended), 0 not, <0 error. */
static int get_in_partition(const http_table_t *t, const parts_t *ps, int32_t p, const uint8_t *key, size_t key_len,
                            int64_t from, int64_t to, int64_t wsize, sl_codec_t *codec, sl_buf_t *rows)
{
    if (t->info.kind == SL_STORE_KV) {
        const uint8_t *v;
        size_t vl;
        int rc = sl_kv_get(ps->store[p], ps->snap[p], key, key_len, &v, &vl);
        if (rc == SL_S_ENOTFOUND)
            return 0;
        if (rc)
            return rc;
        return http_json_value(rows, codec, t->info.raw_values, v, vl) ? SL_S_ENOMEM : 1;
    }
    sl_iter_t *it = NULL;
    int rc = t->info.kind == SL_STORE_WINDOW
                 ? sl_win_fetch(ps->store[p], ps->snap[p], key, key_len, from, to, 0, &it, NULL)
                 : sl_sess_find(ps->store[p], ps->snap[p], key, key_len, from, to, 0, &it, NULL);
    if (rc)
        return rc;
    int found = 0;
    sl_entry_t e;
    while ((rc = sl_iter_next(it, &e)) == 1) {
        if ((found && sl_buf_append(rows, ",", 1)) || http_row_json(rows, &t->info, &e, wsize, codec, false)) {
            rc = SL_S_ENOMEM;
            break;
        }
        found = 1;
    }
    sl_iter_close(it);
    return rc < 0 ? rc : found;
}

int http_tables_get(const http_table_t *t, const uint8_t *key, size_t key_len, const http_query_t *q, sl_buf_t *body)
{
    static const char *const allowed[] = {"from", "to"};
    int status = check_params(q, allowed, t->info.kind == SL_STORE_KV ? 0 : 2, body);
    if (status)
        return status;
    if (key_len > SL_STORE_MAX_KEY)
        return http_error(body, 400, "key longer than %d bytes", SL_STORE_MAX_KEY);
    int64_t from = INT64_MIN, to = INT64_MAX;
    sl_buf_t tmp;
    sl_buf_init(&tmp);
    if (param_time(q, "from", &from, &tmp, body, &status) < 0 || param_time(q, "to", &to, &tmp, body, &status) < 0) {
        sl_buf_free(&tmp);
        return status;
    }
    sl_buf_free(&tmp);
    parts_t ps;
    if ((status = parts_open(t, &ps, body)) != 0)
        return status;
    desc_t d;
    read_desc(&ps, &d);
    sl_codec_t *codec = NULL;
    sl_buf_t rows;
    sl_buf_init(&rows);
    int found = sl_codec_new(&codec) ? SL_S_ENOMEM : 0;
    /* The partition the default partitioner names first; the others only
     * when it is not there (a table read from a topic whose producers chose
     * partitions otherwise). */
    int32_t first = sl_partition_for_key(key, key_len, ps.n);
    for (int32_t k = 0; k < ps.n && found == 0; k++) {
        int32_t p = k == 0 ? first : (k <= first ? k - 1 : k);
        found = get_in_partition(t, &ps, p, key, key_len, from, to, d.window_size_ms, codec, &rows);
    }
    parts_close(&ps);
    sl_codec_free(codec);
    if (found < 0) {
        sl_buf_free(&rows);
        return http_error(body, 500, "reading table '%s': %s", t->info.name, sl_store_strerror(found));
    }
    if (found == 0) {
        sl_buf_free(&rows);
        sl_buf_t kb;
        sl_buf_init(&kb);
        http_json_str(&kb, key, key_len < 200 ? key_len : 200);
        status = http_error(body, 404, "key %.*s not found in table '%s'", (int)kb.len, (const char *)kb.data,
                            t->info.name);
        sl_buf_free(&kb);
        return status;
    }
    int rc = sl_buf_append(body, "{\"table\":", 9) || http_json_str(body, t->info.name, strlen(t->info.name)) ||
             sl_buf_append(body, ",\"key\":", 7) || http_json_str(body, key, key_len) ||
             (t->info.kind == SL_STORE_KV ? sl_buf_append(body, ",\"value\":", 9)
                                          : sl_buf_append(body, t->info.kind == SL_STORE_WINDOW ? ",\"windows\":["
                                                                                                : ",\"sessions\":[",
                                                          t->info.kind == SL_STORE_WINDOW ? 12 : 13)) ||
             sl_buf_append(body, rows.data, rows.len) ||
             (t->info.kind != SL_STORE_KV && sl_buf_append(body, "]", 1)) || sl_buf_append(body, "}", 1);
    sl_buf_free(&rows);
    return rc ? http_error(body, 500, "out of memory") : 200;
}

/* ---- GET /v1/tables/NAME?from&to&prefix&limit&reverse&next ----------------------------------------- */

typedef struct cursor {
    sl_iter_t *it;
    sl_entry_t e;
    bool valid;
} cursor_t;

typedef struct scan {
    sl_store_kind_t kind;
    bool reverse;
    const uint8_t *prefix;
    size_t prefix_len;
    bool has_tok;
    sl_entry_t tok; /* the last row of the previous page */
} scan_t;

/* Move c to its next entry that belongs on this page. */
static int cursor_advance(const scan_t *sc, cursor_t *c)
{
    for (;;) {
        int rc = sl_iter_next(c->it, &c->e);
        if (rc <= 0) {
            c->valid = false;
            return rc;
        }
        if (sc->prefix_len && (c->e.key_len < sc->prefix_len || memcmp(c->e.key, sc->prefix, sc->prefix_len) != 0))
            continue;
        if (sc->has_tok) {
            int cmp = entry_cmp(sc->kind, &c->e, &sc->tok);
            if (sc->reverse ? cmp >= 0 : cmp <= 0)
                continue;
        }
        c->valid = true;
        return 1;
    }
}

/* The smallest key greater than every key starting with p: p without its
 * trailing 0xff bytes, last byte + 1.  0 when there is none (all 0xff). */
static size_t prefix_successor(const uint8_t *p, size_t n, uint8_t *out)
{
    while (n > 0 && p[n - 1] == 0xff)
        n--;
    if (n == 0)
        return 0;
    memcpy(out, p, n);
    out[n - 1]++;
    return n;
}

int http_tables_scan(const http_table_t *t, const http_query_t *q, sl_buf_t *body)
{
    static const char *const allowed[] = {"from", "to", "limit", "reverse", "next", "prefix"};
    bool kv = t->info.kind == SL_STORE_KV;
    int status = check_params(q, allowed, kv ? 6 : 5, body);
    if (status)
        return status;
    sl_buf_t from, to, prefix, tmp, tokbuf;
    sl_buf_init(&from);
    sl_buf_init(&to);
    sl_buf_init(&prefix);
    sl_buf_init(&tmp);
    sl_buf_init(&tokbuf);
    scan_t sc = {.kind = t->info.kind};
    int64_t limit = DEFAULT_LIMIT, t_from = INT64_MIN, t_to = INT64_MAX;
    int has_from = 0, has_to = 0, rc;
    parts_t ps = {0};
    cursor_t *cur = NULL;
    sl_codec_t *codec = NULL;
    if ((rc = param(q, "limit", &tmp, body, &status)) < 0)
        goto out;
    if (rc && http_parse_int((const char *)tmp.data, tmp.len, 1, MAX_LIMIT, &limit) != 0) {
        status = http_error(body, 400, "parameter 'limit': expected 1..%d, got '%.32s'", MAX_LIMIT,
                            (const char *)tmp.data);
        goto out;
    }
    if ((rc = param(q, "reverse", &tmp, body, &status)) < 0)
        goto out;
    if (rc && http_parse_bool((const char *)tmp.data, tmp.len, &sc.reverse) != 0) {
        status = http_error(body, 400, "parameter 'reverse': expected true or false");
        goto out;
    }
    if ((rc = param(q, "next", &tmp, body, &status)) < 0)
        goto out;
    if (rc) {
        http_token_t tk;
        if (http_token_decode((const char *)tmp.data, tmp.len, &tokbuf, &tk) != 0 || tk.reverse != sc.reverse) {
            status = http_error(body, 400, "parameter 'next': not a continuation token of this scan");
            goto out;
        }
        sc.has_tok = true;
        sc.tok = (sl_entry_t){.key = tk.key, .key_len = tk.key_len, .start = tk.t2, .end = tk.t1};
        if (t->info.kind == SL_STORE_WINDOW)
            sc.tok.start = tk.t1;
    }
    if (kv) {
        if ((has_from = param(q, "from", &from, body, &status)) < 0 || (has_to = param(q, "to", &to, body, &status)) < 0 ||
            param(q, "prefix", &prefix, body, &status) < 0)
            goto out;
        if (from.len > SL_STORE_MAX_KEY || to.len > SL_STORE_MAX_KEY || prefix.len > SL_STORE_MAX_KEY) {
            status = http_error(body, 400, "keys are at most %d bytes", SL_STORE_MAX_KEY);
            goto out;
        }
        sc.prefix = prefix.data;
        sc.prefix_len = prefix.len;
    } else if (param_time(q, "from", &t_from, &tmp, body, &status) < 0 ||
               param_time(q, "to", &t_to, &tmp, body, &status) < 0) {
        goto out;
    }
    if ((status = parts_open(t, &ps, body)) != 0)
        goto out;
    desc_t d;
    read_desc(&ps, &d);
    cur = calloc((size_t)ps.n, sizeof *cur);
    if (!cur || sl_codec_new(&codec)) {
        status = http_error(body, 500, "out of memory");
        goto out;
    }

    /* Bounds of the cursors: the range, narrowed by the prefix and by where
     * the previous page stopped. */
    const uint8_t *lo = has_from ? from.data : NULL, *hi = has_to ? to.data : NULL;
    size_t lo_len = from.len, hi_len = to.len;
    uint8_t succ[SL_STORE_MAX_KEY];
    if (kv && sc.prefix_len) {
        if (!lo || bytes_cmp(sc.prefix, sc.prefix_len, lo, lo_len) > 0) {
            lo = sc.prefix;
            lo_len = sc.prefix_len;
        }
        size_t sl = prefix_successor(sc.prefix, sc.prefix_len, succ);
        if (sl && (!hi || bytes_cmp(succ, sl, hi, hi_len) < 0)) {
            hi = succ; /* inclusive here; keys equal to it fail the prefix test */
            hi_len = sl;
        }
    }
    if (sc.has_tok && kv) {
        if (!sc.reverse && (!lo || bytes_cmp(sc.tok.key, sc.tok.key_len, lo, lo_len) > 0)) {
            lo = sc.tok.key;
            lo_len = sc.tok.key_len;
        } else if (sc.reverse && (!hi || bytes_cmp(sc.tok.key, sc.tok.key_len, hi, hi_len) < 0)) {
            hi = sc.tok.key;
            hi_len = sc.tok.key_len;
        }
    }
    if (sc.has_tok && !kv) {
        int64_t tt = t->info.kind == SL_STORE_WINDOW ? sc.tok.start : sc.tok.end;
        if (!sc.reverse && tt > t_from)
            t_from = tt;
        if (sc.reverse && tt < t_to)
            t_to = tt;
    }
    bool empty = kv ? (lo && hi && bytes_cmp(lo, lo_len, hi, hi_len) > 0) : t_from > t_to;
    int flags = sc.reverse ? SL_ITER_REVERSE : 0;
    for (int32_t p = 0; p < ps.n && !empty; p++) {
        sl_err_t err = {0};
        sl_store_t *s = ps.store[p];
        rc = kv ? sl_kv_range(s, ps.snap[p], lo, lo ? lo_len : 0, hi, hi ? hi_len : 0, flags, &cur[p].it, &err)
             : t->info.kind == SL_STORE_WINDOW ? sl_win_fetch_all(s, ps.snap[p], t_from, t_to, flags, &cur[p].it, &err)
                                               : sl_sess_find(s, ps.snap[p], NULL, 0, t_from, t_to, flags, &cur[p].it, &err);
        if (rc || (rc = cursor_advance(&sc, &cur[p])) < 0) {
            status = http_error(body, 500, "scanning table '%s': %s", t->info.name,
                                err.msg[0] ? err.msg : sl_store_strerror(rc));
            goto out;
        }
    }

    /* Merge: the smallest (largest when reversed) head, limit times. */
    rc = sl_buf_append(body, "{\"table\":", 9) || http_json_str(body, t->info.name, strlen(t->info.name)) ||
         sl_buf_append(body, ",\"rows\":[", 9);
    int64_t rows = 0;
    sl_buf_t last;
    sl_buf_init(&last);
    http_token_t next = {.reverse = sc.reverse};
    bool more = false;
    while (!rc) {
        int32_t best = -1;
        for (int32_t p = 0; p < ps.n; p++) {
            if (!cur[p].valid)
                continue;
            if (best < 0) {
                best = p;
                continue;
            }
            int c = entry_cmp(sc.kind, &cur[p].e, &cur[best].e);
            if (sc.reverse ? c > 0 : c < 0)
                best = p;
        }
        if (best < 0)
            break;
        if (rows == limit) {
            more = true;
            break;
        }
        const sl_entry_t *e = &cur[best].e;
        rc = (rows && sl_buf_append(body, ",", 1)) || http_row_json(body, &t->info, e, d.window_size_ms, codec, true);
        rows++;
        sl_buf_reset(&last);
        rc = rc || sl_buf_append(&last, e->key, e->key_len);
        next.t1 = sc.kind == SL_STORE_WINDOW ? e->start : sc.kind == SL_STORE_SESSION ? e->end : 0;
        next.t2 = sc.kind == SL_STORE_SESSION ? e->start : 0;
        if (!rc && cursor_advance(&sc, &cur[best]) < 0) {
            sl_buf_free(&last);
            status = http_error(body, 500, "scanning table '%s': read failed", t->info.name);
            goto out;
        }
    }
    rc = rc || sl_buf_append(body, "],\"next\":", 9);
    if (!rc && more) {
        next.key = last.data;
        next.key_len = last.len;
        rc = sl_buf_append(body, "\"", 1) || http_token_encode(&next, body) || sl_buf_append(body, "\"", 1);
    } else if (!rc) {
        rc = sl_buf_append(body, "null", 4);
    }
    rc = rc || sl_buf_append(body, "}", 1);
    sl_buf_free(&last);
    status = rc ? http_error(body, 500, "out of memory") : 200;
out:
    for (int32_t p = 0; cur && p < ps.n; p++)
        sl_iter_close(cur[p].it);
    free(cur);
    sl_codec_free(codec);
    parts_close(&ps);
    sl_buf_free(&from);
    sl_buf_free(&to);
    sl_buf_free(&prefix);
    sl_buf_free(&tmp);
    sl_buf_free(&tokbuf);
    return status;
}

int64_t http_window_size(sl_env_t *env, sl_snap_t *snap, sl_store_t *store)
{
    desc_t d;
    memset(&d, 0, sizeof d);
    d.want = sl_store_name(store);
    sl_env_list_stores(env, snap, desc_fn, &d, NULL);
    return d.window_size_ms;
}
