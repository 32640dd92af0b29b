/* Tumbling windows with emit final, numeric kinds (count / sum / min / max /
 * avg): the open windows' aggregates in a hash table in memory, keyed by (key,
 * window start), one cache line each, instead of a store read and write per
 * record.  The store stays the truth for everything that outlives the
 * in-memory state:
 *
 * - sync (before every flush, checkpoint or read of the store: sl_task_flush)
 *   writes the changed slots into the store, so a checkpoint holds every open
 *   window as it does without the table; the slots stay, marked stored;
 * - a window the table does not hold is read from the store first when the
 *   store may have it (a window start at or below store_hi: restored state, or
 *   a slot written out when the table filled up);
 * - at close (tw_close_through), a window that never reached the store is
 *   forwarded from the table and never written at all: retention would drop
 *   it at that very moment (retention = size + grace = the close).  A window
 *   the store holds is written with its last value and forwarded by the store
 *   scan as before; the two are merged in the scan's order (start, key length,
 *   key), so what goes downstream does not depend on which of them held it. */
#include <stdlib.h>

#include "operators/window.h"

#define TT_MIN_CAP 1024u
#define TT_MAX_CAP (1u << 15) /* 2 MiB of slots; a full table is written out and emptied */

static inline uint64_t tt_hash(const uint8_t *key, size_t klen, int64_t start)
{
    uint64_t h = sl_hash_bytes(key, klen) ^ ((uint64_t)start * 0x9E3779B97F4A7C15ull);
    return (h ^ (h >> 31)) | 1;
}

static void slot_to_acc(const tt_slot_t *s, wacc_t *a)
{
    *a = (wacc_t){.any = s->flags & TT_ANY, .count = s->count};
    a->num.is_float = s->flags & TT_FLOAT;
    if (a->num.is_float)
        a->num.f = s->num.f;
    else
        a->num.i = s->num.i;
}

static void acc_to_slot(const wacc_t *a, tt_slot_t *s)
{
    s->count = a->count;
    s->flags = (uint8_t)((s->flags & (TT_DIRTY | TT_STORED)) | (a->any ? TT_ANY : 0) |
                         (a->num.is_float ? TT_FLOAT : 0));
    if (a->num.is_float)
        s->num.f = a->num.f;
    else
        s->num.i = a->num.i;
}

static tt_slot_t *slot_place(tt_slot_t *slots, uint32_t cap, uint64_t hash)
{
    uint32_t i = (uint32_t)hash & (cap - 1);
    while (slots[i].hash)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* Move the slots of windows after drop_through into a clean array of cap
 * slots (the spare one when it has that size), rebuilding the dirty list. */
static int rebuild(wtable_t *t, uint32_t cap, int64_t drop_through)
{
    tt_slot_t *to = t->spare_cap == cap ? t->spare : sl_zalloc_lines(cap, sizeof *to);
    uint32_t *dirty = cap == t->cap ? t->dirty : malloc(cap * sizeof *dirty);
    if (!to || !dirty) {
        if (to != t->spare)
            free(to);
        if (dirty != t->dirty)
            free(dirty);
        return SL_E_NOMEM;
    }
    if (to == t->spare)
        memset(to, 0, cap * sizeof *to);
    uint32_t used = 0, nd = 0;
    int64_t min_start = INT64_MAX;
    for (uint32_t i = 0; i < t->cap; i++) {
        const tt_slot_t *s = &t->slots[i];
        if (!s->hash || s->start <= drop_through)
            continue;
        tt_slot_t *d = slot_place(to, cap, s->hash);
        *d = *s;
        if (d->flags & TT_DIRTY)
            dirty[nd++] = (uint32_t)(d - to);
        if (d->start < min_start)
            min_start = d->start;
        used++;
    }
    tt_slot_t *old = t->slots;
    uint32_t old_cap = t->cap;
    if (dirty != t->dirty)
        free(t->dirty);
    t->slots = to;
    t->cap = cap;
    t->dirty = dirty;
    t->used = used;
    t->ndirty = nd;
    t->min_start = min_start;
    if (to == t->spare) { /* swapped: the old array is the next spare */
        t->spare = old;
        t->spare_cap = old_cap;
    } else if (old && old_cap >= t->spare_cap) { /* keep the larger array as the next spare */
        free(t->spare);
        t->spare = old;
        t->spare_cap = old_cap;
    } else {
        free(old);
    }
    return 0;
}

static int write_slot(win_op_t *g, tt_slot_t *s, sl_err_t *err)
{
    sl_op_t *op = &g->base;
    wacc_t acc;
    slot_to_acc(s, &acc);
    sl_buf_reset(&g->a);
    if (wacc_encode(g, &acc, &g->a))
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", op->ctx.node_name);
    int rc = sl_win_put(op->store, s->key, s->klen, s->start, g->a.data, g->a.len);
    if (rc)
        return op_store_error(op, rc, "writing", err);
    if (s->start > g->tt.written_hi)
        g->tt.written_hi = s->start;
    s->flags = (uint8_t)((s->flags & ~TT_DIRTY) | TT_STORED);
    return 0;
}

int tt_sync(win_op_t *g, sl_err_t *err)
{
    wtable_t *t = &g->tt;
    int n = (int)t->ndirty;
    for (uint32_t i = 0; i < t->ndirty; i++) {
        int rc = write_slot(g, &t->slots[t->dirty[i]], err);
        if (rc)
            return -rc;
    }
    t->ndirty = 0;
    return n;
}

/* Room for one more slot: grow, or (at TT_MAX_CAP) write everything out and
 * start empty; the store then answers for what was dropped (store_hi). */
static int make_room(win_op_t *g, sl_err_t *err)
{
    wtable_t *t = &g->tt;
    /* at most half full while it can grow (fewer probes run past the home
     * slot), three quarters at TT_MAX_CAP */
    if (t->used + 1 <= (t->cap < TT_MAX_CAP ? t->cap / 2 : t->cap / 4 * 3))
        return 0;
    if (t->cap < TT_MAX_CAP)
        return rebuild(t, t->cap ? t->cap * 2 : TT_MIN_CAP, INT64_MIN) == 0
                   ? 0
                   : sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", g->base.ctx.node_name);
    int rc = tt_sync(g, err);
    if (rc < 0)
        return -rc;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i].hash && t->slots[i].start > t->store_hi)
            t->store_hi = t->slots[i].start;
    memset(t->slots, 0, t->cap * sizeof *t->slots);
    t->used = 0;
    t->min_start = INT64_MAX;
    return 0;
}

int tt_update(win_op_t *g, const sl_rec_t *rec, int64_t p, sl_err_t *err)
{
    wtable_t *t = &g->tt;
    const uint8_t *key = rec->key;
    size_t klen = (size_t)rec->key_len;
    uint64_t h = tt_hash(key, klen, p);
    tt_slot_t *s = NULL;
    if (t->cap) {
        for (uint32_t i = (uint32_t)h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
            tt_slot_t *c = &t->slots[i];
            if (!c->hash)
                break;
            if (c->hash == h && c->start == p && c->klen == klen && sl_bytes_eq(c->key, key, klen)) {
                s = c;
                break;
            }
        }
    }
    wacc_t acc = {0};
    int rc;
    if (s) {
        slot_to_acc(s, &acc);
    } else {
        bool stored = false;
        if (p <= t->store_hi) { /* the store may hold this window */
            const uint8_t *cur;
            size_t cur_len;
            rc = sl_win_get(g->base.store, NULL, key, klen, p, &cur, &cur_len);
            if (rc && rc != SL_S_ENOTFOUND)
                return op_store_error(&g->base, rc, "reading", err);
            if (!rc && (rc = wacc_add_value(g, &acc, cur, cur_len, err)) != 0)
                return rc;
            stored = !rc;
        }
        if ((rc = make_room(g, err)) != 0)
            return rc;
        s = slot_place(t->slots, t->cap, h);
        *s = (tt_slot_t){.hash = h, .start = p, .klen = (uint8_t)klen, .flags = stored ? TT_STORED : 0};
        memcpy(s->key, key, klen);
        t->used++;
        if (p < t->min_start)
            t->min_start = p;
    }
    if ((rc = wacc_add_record(g, &acc, rec, err)) != 0)
        return rc; /* a bad record: the slot keeps what it had (a new one stays empty) */
    acc_to_slot(&acc, s);
    if (!(s->flags & TT_DIRTY)) {
        s->flags |= TT_DIRTY;
        t->dirty[t->ndirty++] = (uint32_t)(s - t->slots);
    }
    return 0;
}

/* Order in the store's time index scan: start, key length, key. */
static int order_to(const tt_slot_t *s, int64_t start, const uint8_t *key, size_t klen)
{
    if (s->start != start)
        return s->start < start ? -1 : 1;
    if (s->klen != klen)
        return s->klen < klen ? -1 : 1;
    return memcmp(s->key, key, klen);
}

static int closing_cmp(const void *a, const void *b)
{
    const tt_slot_t *y = b;
    return order_to(a, y->start, y->key, y->klen);
}

/* The order key of a closing slot within one window: length, then the first 7
 * bytes, big-endian (whole keys up to 7 bytes; longer ones tie on a shared
 * 7-byte prefix and are ordered again by order_to). */
static uint64_t prefix_key(const tt_slot_t *s)
{
    uint64_t k = (uint64_t)s->klen << 56;
    for (unsigned i = 0; i < 7 && i < s->klen; i++)
        k |= (uint64_t)s->key[i] << (48 - 8 * i);
    return k;
}

/* Sort the closing slots into the store scan's order.  When they are all of
 * one window (the usual case: windows close one at a time) an LSD radix sort
 * on prefix_key, then insertion sort within runs of equal prefixes; across
 * windows, qsort. */
static int sort_closing(wtable_t *t)
{
    size_t n = t->nclosing;
    if (n < 2) {
        if (n)
            t->order[0].i = 0;
        return 0;
    }
    bool one_window = true;
    for (size_t i = 1; i < n && one_window; i++)
        one_window = t->closing[i].start == t->closing[0].start;
    if (!one_window) {
        qsort(t->closing, n, sizeof *t->closing, closing_cmp);
        for (size_t i = 0; i < n; i++)
            t->order[i].i = (uint32_t)i;
        return 0;
    }
    tt_order_t *a = t->order, *b = t->order + n;
    for (size_t i = 0; i < n; i++)
        a[i] = (tt_order_t){prefix_key(&t->closing[i]), (uint32_t)i};
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t i = 0; i < n; i++)
            cnt[((a[i].k >> shift) & 255) + 1]++;
        if (cnt[((a[0].k >> shift) & 255) + 1] == n)
            continue; /* every key has this byte: nothing to move */
        for (int d = 0; d < 256; d++)
            cnt[d + 1] += cnt[d];
        for (size_t i = 0; i < n; i++)
            b[cnt[(a[i].k >> shift) & 255]++] = a[i];
        tt_order_t *x = a;
        a = b;
        b = x;
    }
    if (a != t->order)
        memcpy(t->order, a, n * sizeof *a);
    a = t->order;
    for (size_t i = 1; i < n; i++) { /* equal prefixes: keys longer than 7 bytes */
        if (a[i].k != a[i - 1].k)
            continue;
        tt_order_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1].k == v.k && closing_cmp(&t->closing[a[j - 1].i], &t->closing[v.i]) > 0; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
    return 0;
}

int tt_take_closing(win_op_t *g, int64_t w_hi, sl_err_t *err)
{
    wtable_t *t = &g->tt;
    t->nclosing = t->next_closing = 0;
    if (!t->used || t->min_start > w_hi)
        return 0;
    for (uint32_t i = 0; i < t->cap; i++) {
        tt_slot_t *s = &t->slots[i];
        if (!s->hash || s->start > w_hi)
            continue;
        if (s->flags & TT_STORED) { /* the store scan forwards it: give it the last value */
            int rc = (s->flags & TT_DIRTY) ? write_slot(g, s, err) : 0;
            if (rc)
                return rc;
            continue;
        }
        if (t->nclosing == t->cap_closing) {
            size_t cap = t->cap_closing ? t->cap_closing * 2 : 256;
            tt_slot_t *c = realloc(t->closing, cap * sizeof *c);
            tt_order_t *o = c ? realloc(t->order, 2 * cap * sizeof *o) : NULL;
            if (c)
                t->closing = c;
            if (!o)
                return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", g->base.ctx.node_name);
            t->order = o;
            t->cap_closing = cap;
        }
        t->closing[t->nclosing++] = *s;
    }
    if (rebuild(t, t->cap, w_hi) != 0)
        return sl_err_set(err, SL_E_NOMEM, "node '%s': out of memory", g->base.ctx.node_name);
    return sort_closing(t);
}

int tt_emit_closing(win_op_t *g, const sl_entry_t *before, sl_err_t *err)
{
    wtable_t *t = &g->tt;
    for (; t->next_closing < t->nclosing; t->next_closing++) {
        const tt_slot_t *s = &t->closing[t->order[t->next_closing].i];
        if (before && order_to(s, before->start, before->key, before->key_len) > 0)
            return 0;
        wacc_t acc;
        slot_to_acc(s, &acc);
        int rc = win_emit_acc(g, s->key, s->klen, s->start, s->start + g->size, s->start + g->size - 1, &acc, err);
        if (rc)
            return rc;
    }
    return 0;
}

void tt_free(wtable_t *t)
{
    free(t->slots);
    free(t->spare);
    free(t->dirty);
    free(t->closing);
    free(t->order);
    memset(t, 0, sizeof *t);
}
