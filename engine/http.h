/* Internal to engine/: the HTTP query server (engine/http*.c) and the small
 * parsers it is built on.
 *
 *   http.c         the server: h2o on its own libuv loop and thread, routing,
 *                  responses, /metrics, /v1/status and / (from engine/obs.h)
 *   http_tables.c  /v1/tables...: listings, point reads, range and prefix
 *                  scans merged across partitions, over LMDB snapshots
 *   http_watch.c   /v1/tables/NAME/watch: push queries of committed changes
 *   http_json.c    msgpack values and byte strings as JSON text
 *   http_parse.c   percent-decoding, query parameters, times, continuation
 *                  tokens (pure functions, unit-tested) */
#ifndef SL_ENGINE_HTTP_H
#define SL_ENGINE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "common/common.h"
#include "engine/engine.h"

/* ---- the server ------------------------------------------------------------------------------- */

typedef struct sl_http sl_http_t;
struct sl_obs;

typedef struct sl_http_opts {
    const char *host;    /* default "127.0.0.1" */
    int port;            /* 0: any free port (sl_http_port tells which) */
    struct sl_obs *obs;  /* /metrics, /v1/status and / (NULL: those answer 404) */
} sl_http_opts_t;

/* Bind host:port and start serving on a thread of its own.  Caller stops and
 * frees the server with sl_http_stop. */
int sl_http_start(const sl_http_opts_t *o, sl_http_t **out, sl_err_t *err);
/* The port bound. */
int sl_http_port(const sl_http_t *h);
/* Make a job's tables queryable under its name.  The runtime must stay open
 * until sl_http_remove_job (or sl_http_stop) returns. */
int sl_http_add_job(sl_http_t *h, const char *name, sl_runtime_t *rt);
/* Forget a job: waits for requests reading it; its watch streams end. */
void sl_http_remove_job(sl_http_t *h, const char *name);
/* Stop serving (open watch streams end) and join the thread.  NULL is a
 * no-op.  For the end of the process: the server's memory is not freed
 * (see http.c). */
void sl_http_stop(sl_http_t *h);

/* ---- what the handlers share (http.c, http_tables.c, http_watch.c) ---------------------------- */

/* A resolved table: its runtime and index there.  Valid while the caller
 * holds the server's job lock for reading. */
typedef struct http_table {
    const char *job;
    sl_runtime_t *rt;
    size_t index;
    sl_rt_table_t info;
} http_table_t;

/* The parsed query string of a request. */
typedef struct http_query {
    const char *p;
    size_t len;
} http_query_t;

/* Handlers return the HTTP status and fill body (JSON).  Errors: http_error
 * writes {"error":"..."} and returns the status. */
int http_error(sl_buf_t *body, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* GET /v1/tables.  jobs[i] = (name, runtime). */
int http_tables_list(const char *const *names, sl_runtime_t *const *rts, size_t n, sl_buf_t *body);
/* GET /v1/tables/NAME/keys/KEY (key decoded). */
int http_tables_get(const http_table_t *t, const uint8_t *key, size_t key_len, const http_query_t *q,
                    sl_buf_t *body);
/* GET /v1/tables/NAME: range / prefix scan. */
int http_tables_scan(const http_table_t *t, const http_query_t *q, sl_buf_t *body);

/* Append one row of a table as JSON: {"key":..,"value":..}, with "start"
 * and "end" for windows (end = start + window_size) and sessions; with_key
 * false leaves "key" out. */
int http_row_json(sl_buf_t *out, const sl_rt_table_t *t, const sl_entry_t *e, int64_t window_size, sl_codec_t *codec,
                  bool with_key);

/* The window size recorded for a window store (0 when none). */
int64_t http_window_size(sl_env_t *env, sl_snap_t *snap, sl_store_t *store);

/* ---- JSON (http_json.c) ------------------------------------------------------------------------ */

/* Append p[0..n) as a JSON string: valid UTF-8 as it is (escaping " \ and
 * controls), any other byte as \u00XX (its Latin-1 reading), so the output is
 * always valid JSON.  0 or -1 (out of memory). */
int http_json_str(sl_buf_t *out, const void *p, size_t n);
/* Append a msgpack value as JSON: maps with non-string keys get their keys
 * rendered as JSON text in a string; binary as a string (as above); NaN and
 * infinities as null.  hide_internal: members of the top-level map whose name
 * starts with '$' (the DSL's hidden aggregation state) are left out. */
int http_json_msgpack(sl_buf_t *out, const msgpack_object *o, bool hide_internal);
/* Append a stored value as JSON.  raw false: msgpack (bytes that are not one
 * msgpack object are rendered as a string); raw true: a record's bytes
 * (a table source), embedded as they are when they are JSON text, else as a
 * string.  codec: one per thread. */
int http_json_value(sl_buf_t *out, sl_codec_t *codec, bool raw, const uint8_t *p, size_t n);
/* Append printf-formatted text. */
int http_json_fmt(sl_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- parsing (http_parse.c) -------------------------------------------------------------------- */

/* Percent-decode s[0..n) appending to out (reset first); plus_space: '+'
 * means ' ' (query strings).  -1 on a malformed escape ("%4", "%zz") or out
 * of memory. */
int http_pct_decode(const char *s, size_t n, bool plus_space, sl_buf_t *out);

/* The value of parameter `name` in query string q (without '?'), decoded
 * into out: 1 when present (the first occurrence), 0 when absent, -1 when
 * the query string is malformed. */
int http_query_get(const http_query_t *q, const char *name, sl_buf_t *out);
/* 0 when every parameter name in q is one of allowed[0..n); otherwise -1
 * with the first unknown name (truncated) in bad[0..bad_size). */
int http_query_check(const http_query_t *q, const char *const *allowed, size_t n, char *bad, size_t bad_size);

/* A time: epoch milliseconds ("1732550400000", "-5") or ISO-8601 UTC or with
 * an offset: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM] ('T' or
 * ' ').  0 or -1. */
int http_parse_time(const char *s, size_t n, int64_t *ms);
/* A decimal integer in [min, max].  0 or -1. */
int http_parse_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *v);
/* "true"/"1" or "false"/"0".  0 or -1. */
int http_parse_bool(const char *s, size_t n, bool *v);

/* Continuation tokens: where a scan stopped, opaque to clients (base64url
 * text).  A token holds the last row returned: its key and two times
 * (window start, or session end and start; 0 for key-value tables) and the
 * direction, so a token cannot be replayed against the other direction. */
typedef struct http_token {
    bool reverse;
    int64_t t1, t2;
    const uint8_t *key; /* into the decoded buffer */
    size_t key_len;
} http_token_t;
int http_token_encode(const http_token_t *t, sl_buf_t *out); /* appends */
/* Decode s[0..n) into *t, the key bytes held in buf.  -1 when malformed. */
int http_token_decode(const char *s, size_t n, sl_buf_t *buf, http_token_t *t);

#endif
