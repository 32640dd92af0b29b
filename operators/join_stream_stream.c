/* Stream-stream joins within a time window.  Each side buffers its records in
 * a window store keyed by (key, timestamp); a record joins the other side's
 * buffered records of its key inside its window, then is buffered itself.
 * Left / outer joins emit a record without partner only when its window has
 * closed, so such a result is never contradicted later (Kafka Streams 3.x);
 * retention drops records once no admissible record can match them. */
#include <stdio.h>

#include "operators/join.h"

/* A buffer entry (key, timestamp) holds every record of that key and time, in
 * arrival order, each as: u8 flags | u32 big-endian length | value bytes. */
#define ITEM_MATCHED 0x01
#define ITEM_HEAD 5

/* Saturating arithmetic with b >= 0: timestamps near the int64 limits must not wrap. */
static int64_t sat_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }
static int64_t sat_sub(int64_t a, int64_t b) { return a < INT64_MIN + b ? INT64_MIN : a - b; }

/* How long after its own time a side's record can still gain partners: a left
 * record at t matches right records up to t + after, a right record left ones
 * up to t + before; records more than grace behind stream time are refused. */
static int64_t close_delay(const sl_join_spec_t *js, int side)
{
    return sat_add(side ? js->before_ms : js->after_ms, js->grace_ms);
}

/* The side whose records appear in the output without a partner. */
static bool side_is_outer(const sl_join_spec_t *js, int side)
{
    return js->type == SL_JOIN_OUTER || (js->type == SL_JOIN_LEFT && side == 0);
}

/* Next item of an entry: 1 with its fields, 0 at the end, -1 when malformed. */
static int item_next(const uint8_t **p, size_t *n, uint8_t **flags_at, const uint8_t **val, uint32_t *len)
{
    if (*n == 0)
        return 0;
    if (*n < ITEM_HEAD)
        return -1;
    const uint8_t *q = *p;
    uint32_t l = (uint32_t)q[1] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 8 | q[4];
    if (*n - ITEM_HEAD < l)
        return -1;
    *flags_at = (uint8_t *)q;
    *val = q + ITEM_HEAD;
    *len = l;
    *p += ITEM_HEAD + l;
    *n -= ITEM_HEAD + l;
    return 1;
}

static int corrupt(join_op_t *j, const sl_store_t *s, sl_err_t *err)
{
    return sl_err_set(err, SL_E_STORE, "node '%s' (join): store '%s' holds an entry that is not a join buffer's",
                      j->base.ctx.node_name, sl_store_name(s));
}

static int store_error(join_op_t *j, const sl_store_t *s, int rc, const char *what, sl_err_t *err)
{
    return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s' (join): %s store '%s': %s",
                      j->base.ctx.node_name, what, sl_store_name(s), sl_store_strerror(rc));
}

/* Emit one result: `mine` from side `side`, `theirs` from the other (NULL: none). */
static int emit_pair(join_op_t *j, int side, const sl_rec_t *mine, const sl_rec_t *theirs, const sl_rec_t *hdr,
                     sl_err_t *err)
{
    int64_t ts = theirs && theirs->timestamp > mine->timestamp ? theirs->timestamp : mine->timestamp;
    return join_emit(j, mine->key, mine->key_len, side ? theirs : mine, side ? mine : theirs, ts, hdr, err);
}

/* Stream time moved to st: emit the still unmatched records of buffer s (side
 * `side`) whose window closed since the last move, then let retention drop
 * them.  Cost: a time-index scan of the closed range, one per advance. */
static int close_windows(join_op_t *j, sl_store_t *s, int side, int64_t st, sl_err_t *err)
{
    int64_t old = sl_store_stream_time(s);
    if (old != INT64_MIN && st <= old)
        return 0;
    int rc = 0;
    int64_t d = close_delay(j->js, side);
    int64_t from = old == INT64_MIN ? INT64_MIN : sat_sub(old, d), to = sat_sub(st, d); /* [from, to) closed now */
    if (side_is_outer(j->js, side) && to > from) {
        sl_iter_t *it;
        sl_err_t serr;
        sl_err_clear(&serr);
        if ((rc = sl_win_fetch_all(s, NULL, from, to - 1, 0, &it, &serr)) != 0)
            return store_error(j, s, rc, "scanning", err);
        sl_entry_t e;
        int irc = 0;
        while (!rc && (irc = sl_iter_next(it, &e)) == 1) {
            const uint8_t *p = e.val, *val;
            size_t n = e.val_len;
            uint8_t *flags;
            uint32_t len;
            int k = 0;
            while (!rc && (k = item_next(&p, &n, &flags, &val, &len)) == 1) {
                if (*flags & ITEM_MATCHED)
                    continue;
                sl_rec_t r = {.key = e.key, .key_len = (int32_t)e.key_len, .value = val, .value_len = (int32_t)len,
                              .timestamp = e.start};
                rc = emit_pair(j, side, &r, NULL, NULL, err);
            }
            if (!rc && k < 0)
                rc = corrupt(j, s, err);
        }
        sl_iter_close(it);
        if (rc)
            return rc;
        if (irc < 0)
            return store_error(j, s, irc, "scanning", err);
    }
    rc = sl_store_advance(s, st);
    return rc ? store_error(j, s, rc, "advancing", err) : 0;
}

/* Set the matched flag of every record in entry (key, start) of store s. */
static int flag_entry(join_op_t *j, sl_store_t *s, const sl_rec_t *rec, int64_t start, sl_err_t *err)
{
    const uint8_t *v;
    size_t n;
    int rc = sl_win_get(s, NULL, rec->key, (size_t)rec->key_len, start, &v, &n);
    if (rc == SL_S_ENOTFOUND)
        return 0;
    if (rc)
        return store_error(j, s, rc, "reading", err);
    sl_buf_reset(&j->entry);
    if (sl_buf_append(&j->entry, v, n))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", j->base.ctx.node_name);
    const uint8_t *p = j->entry.data, *val;
    uint8_t *flags;
    uint32_t len;
    int k = 0;
    while ((k = item_next(&p, &n, &flags, &val, &len)) == 1)
        *flags |= ITEM_MATCHED;
    if (k < 0)
        return corrupt(j, s, err);
    rc = sl_win_put(s, rec->key, (size_t)rec->key_len, start, j->entry.data, j->entry.len);
    return rc && rc != SL_S_EEXPIRED ? store_error(j, s, rc, "writing", err) : 0;
}

/* Join rec with the other side's buffered records of its key inside its
 * window, in time order.  *matched: whether any was found. */
static int match(join_op_t *j, const sl_rec_t *rec, bool *matched, sl_err_t *err)
{
    const sl_join_spec_t *js = j->js;
    int64_t t = rec->timestamp;
    int64_t lo = sat_sub(t, j->side ? js->after_ms : js->before_ms);
    int64_t hi = sat_add(t, j->side ? js->before_ms : js->after_ms);
    bool flag = side_is_outer(js, !j->side); /* partners that wait for their window to close */
    sl_iter_t *it;
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_win_fetch(j->other, NULL, rec->key, (size_t)rec->key_len, lo, hi, 0, &it, &serr);
    if (rc)
        return store_error(j, j->other, rc, "reading", err);
    sl_buf_reset(&j->starts);
    sl_entry_t e;
    int irc = 0;
    while (!rc && (irc = sl_iter_next(it, &e)) == 1) {
        const uint8_t *p = e.val, *val;
        size_t n = e.val_len;
        uint8_t *flags;
        uint32_t len;
        bool unflagged = false;
        int k = 0;
        while (!rc && (k = item_next(&p, &n, &flags, &val, &len)) == 1) {
            sl_rec_t partner = {.key = e.key, .key_len = (int32_t)e.key_len, .value = val,
                                .value_len = (int32_t)len, .timestamp = e.start};
            unflagged |= !(*flags & ITEM_MATCHED);
            *matched = true;
            rc = emit_pair(j, j->side, rec, &partner, rec, err);
        }
        if (!rc && k < 0)
            rc = corrupt(j, j->other, err);
        if (!rc && flag && unflagged && sl_buf_append(&j->starts, &e.start, sizeof e.start))
            rc = sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", j->base.ctx.node_name);
    }
    sl_iter_close(it);
    if (!rc && irc < 0)
        return store_error(j, j->other, irc, "reading", err);
    for (size_t i = 0; !rc && i < j->starts.len / sizeof(int64_t); i++) {
        int64_t start;
        memcpy(&start, j->starts.data + i * sizeof start, sizeof start);
        rc = flag_entry(j, j->other, rec, start, err);
    }
    return rc;
}

/* Append rec to its entry in this side's buffer. */
static int buffer_put(join_op_t *j, const sl_rec_t *rec, bool matched, sl_err_t *err)
{
    sl_store_t *s = j->base.store;
    const uint8_t *v;
    size_t n;
    int rc = sl_win_get(s, NULL, rec->key, (size_t)rec->key_len, rec->timestamp, &v, &n);
    if (rc && rc != SL_S_ENOTFOUND)
        return store_error(j, s, rc, "reading", err);
    sl_buf_reset(&j->entry);
    uint32_t len = (uint32_t)rec->value_len;
    uint8_t head[ITEM_HEAD] = {matched ? ITEM_MATCHED : 0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                               (uint8_t)(len >> 8), (uint8_t)len};
    if ((!rc && sl_buf_append(&j->entry, v, n)) || sl_buf_append(&j->entry, head, sizeof head) ||
        sl_buf_append(&j->entry, rec->value, len))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", j->base.ctx.node_name);
    rc = sl_win_put(s, rec->key, (size_t)rec->key_len, rec->timestamp, j->entry.data, j->entry.len);
    return rc ? store_error(j, s, rc, "writing", err) : 0;
}

/* Null values carry nothing to join and are dropped.  A null key cannot
 * match: the outer side(s) of a left / outer join forward it at once with no
 * partner (KIP-962), other sides drop it.  Both drops are counted.  A record
 * more than grace behind stream time is late: dead-lettered and counted. */
int join_ss_process(join_op_t *j, const sl_rec_t *rec, sl_err_t *err)
{
    sl_op_t *op = &j->base;
    const sl_join_spec_t *js = j->js;
    if (rec->value_len < 0) {
        op->ctx.stats->dropped_null_value++;
        return 0;
    }
    if (rec->key_len < 0) {
        if (side_is_outer(js, j->side))
            return emit_pair(j, j->side, rec, NULL, rec, err);
        op->ctx.stats->dropped_null_key++;
        return 0;
    }
    if ((size_t)rec->key_len > SL_STORE_MAX_KEY)
        return sl_err_set(err, SL_E_RECORD, "node '%s' (join): key of %d bytes is longer than the store's %d",
                          op->ctx.node_name, rec->key_len, SL_STORE_MAX_KEY);
    int64_t st = *op->ctx.stream_time;
    if (rec->timestamp < sat_sub(st, js->grace_ms)) {
        op->ctx.stats->late_records++;
        return sl_err_set(err, SL_E_RECORD, "node '%s' (join): late record: timestamp %lld is more than the grace "
                          "of %lld ms behind stream time %lld", op->ctx.node_name, (long long)rec->timestamp,
                          (long long)js->grace_ms, (long long)st);
    }
    int rc = join_find_other(j, err);
    sl_store_t *left = j->side ? j->other : op->store, *right = j->side ? op->store : j->other;
    if (!rc)
        rc = close_windows(j, left, 0, st, err);
    if (!rc)
        rc = close_windows(j, right, 1, st, err);
    bool matched = false;
    if (!rc)
        rc = match(j, rec, &matched, err);
    return rc ? rc : buffer_put(j, rec, matched, err);
}

int join_ss_advance(join_op_t *j, sl_err_t *err)
{
    int64_t st = *j->base.ctx.stream_time;
    int rc = join_find_other(j, err);
    sl_store_t *left = j->side ? j->other : j->base.store, *right = j->side ? j->base.store : j->other;
    if (!rc)
        rc = close_windows(j, left, 0, st, err);
    if (!rc)
        rc = close_windows(j, right, 1, st, err);
    return rc == SL_E_RECORD ? SL_E_STORE : rc;
}

/* Open this side's buffer (ctx.store_name, "<store>:<partition>"); the other
 * side's is the other store name with the same partition suffix. */
int join_ss_open(join_op_t *j, sl_err_t *err)
{
    sl_op_t *op = &j->base;
    const char *other = j->side ? j->js->left_store : j->js->right_store;
    const char *suffix = strrchr(op->ctx.store_name, ':');
    int n = snprintf(j->other_name, sizeof j->other_name, "%s%s", other ? other : "", suffix ? suffix : "");
    if (!other || n < 0 || (size_t)n >= sizeof j->other_name)
        return sl_err_set(err, SL_E_INVAL, "node '%s' (join): missing or too long buffer store name",
                          op->ctx.node_name);
    sl_store_config_t cfg = {
        .kind = SL_STORE_WINDOW,
        .key_schema = "bytes",
        .value_schema = "join buffer: (u8 flags, u32 length, value bytes)*",
        .retention_ms = sat_add(close_delay(j->js, j->side), 1), /* > 0: 0 would keep everything */
    };
    sl_err_t serr;
    sl_err_clear(&serr);
    int rc = sl_store_open(op->ctx.env, op->ctx.store_name, &cfg, &op->store, &serr);
    if (rc)
        return sl_err_set(err, rc == SL_S_ENOMEM ? SL_E_NOMEM : SL_E_STORE, "node '%s': opening store '%s': %s",
                          op->ctx.node_name, op->ctx.store_name, serr.msg[0] ? serr.msg : sl_store_strerror(rc));
    return 0;
}
