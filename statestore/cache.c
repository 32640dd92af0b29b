/* The write-back cache in front of each store: coalesces repeated updates to a
 * key between checkpoints and keeps hot keys' committed values in memory.  A
 * hash table answers point lookups in O(1); a skip list keeps the keys in LMDB
 * order so the writer view can merge the cache into cursor scans and a
 * checkpoint can write its dirty keys in order (sequential B-tree pages); an
 * LRU list picks clean entries to drop when the byte bound is exceeded. */
#include <stdlib.h>

#include "ss.h"

static inline uint32_t hash_key(const uint8_t *p, size_t n) { return (uint32_t)sl_hash_bytes(p, n); }

int cache_init(cache_t *c, size_t bound)
{
    memset(c, 0, sizeof *c);
    c->nslots = 2048;
    c->slots = calloc(c->nslots, sizeof *c->slots);
    c->head = calloc(1, sizeof(centry_t) + CACHE_MAX_LEVEL * sizeof(centry_t *));
    if (!c->slots || !c->head) {
        free(c->slots);
        free(c->head);
        return SL_S_ENOMEM;
    }
    c->head->level = CACHE_MAX_LEVEL;
    c->level = 1;
    c->rng = 0x2545F4914F6CDD1Dull;
    c->bound = bound;
    return 0;
}

void cache_free(cache_t *c)
{
    centry_t *e = c->head ? c->head->next[0] : NULL;
    while (e) {
        centry_t *n = e->next[0];
        if (e->val != ce_inline(e))
            free(e->val);
        free(e);
        e = n;
    }
    for (size_t i = 0; i < c->nunordered; i++) {
        e = c->unordered[i];
        if (e->val != ce_inline(e))
            free(e->val);
        free(e);
    }
    free(c->unordered);
    free(c->dirty);
    free(c->slots);
    free(c->head);
    memset(c, 0, sizeof *c);
}

static void lru_unlink(cache_t *c, centry_t *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->lru_first = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_last = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(cache_t *c, centry_t *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->lru_first;
    if (c->lru_first)
        c->lru_first->lru_prev = e;
    else
        c->lru_last = e;
    c->lru_first = e;
}

centry_t *cache_find(cache_t *c, const uint8_t *key, size_t klen)
{
    uint32_t h = hash_key(key, klen);
    centry_t *l = c->last;
    if (l && l->hash == h && l->klen == klen && sl_bytes_eq(ce_key(l), key, klen))
        return l; /* referenced already: a read-modify-write's second lookup */
    size_t mask = c->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const cslot_t *s = &c->slots[i];
        if (!s->e)
            return NULL;
        if (s->hash == h && s->e->klen == klen && sl_bytes_eq(ce_key(s->e), key, klen)) {
            s->e->flags |= CE_REF;
            c->last = s->e;
            return s->e;
        }
    }
}

static void slot_insert(cslot_t *slots, size_t nslots, centry_t *e)
{
    size_t mask = nslots - 1, i = e->hash & mask;
    while (slots[i].e)
        i = (i + 1) & mask;
    slots[i] = (cslot_t){e->hash, e};
}

/* Double the slot array when the load would pass 7/8; on allocation failure the
 * table stays as it is and keeps working until it is full (cache_set then
 * refuses new keys, which callers handle as out of memory). */
static void hash_grow(cache_t *c)
{
    size_t n = c->nslots * 2;
    cslot_t *b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].e)
            slot_insert(b, n, c->slots[i].e);
    free(c->slots);
    c->slots = b;
    c->nslots = n;
}

/* Fill update[i] with the last node at level i whose key is < key. */
static void skip_find_preds(cache_t *c, const uint8_t *key, size_t klen, centry_t **update)
{
    centry_t *x = c->head;
    for (int i = c->level - 1; i >= 0; i--) {
        while (x->next[i] && ss_keycmp(ce_key(x->next[i]), x->next[i]->klen, key, klen) < 0)
            x = x->next[i];
        update[i] = x;
    }
}

static int random_level(cache_t *c)
{
    c->rng ^= c->rng << 13, c->rng ^= c->rng >> 7, c->rng ^= c->rng << 17;
    uint64_t r = c->rng;
    int lvl = 1;
    while ((r & 3) == 0 && lvl < CACHE_MAX_LEVEL) /* p = 1/4 */
        lvl++, r >>= 2;
    return lvl;
}

static void account_flags(cache_t *c, const centry_t *e, int sign)
{
    size_t sz = ce_size(e);
    if (e->flags & CE_DIRTY) {
        c->dirty_count += (size_t)sign;
        c->dirty_bytes += sign > 0 ? sz : -sz;
        if (!(e->flags & CE_FORWARDED))
            c->pending += (size_t)sign;
    }
}

/* Only for changes that keep CE_DIRTY as it is (the dirty vector and the
 * eviction list depend on it): cache_set and cache_mark_clean change it. */
void cache_set_flags(cache_t *c, centry_t *e, unsigned flags)
{
    account_flags(c, e, -1);
    e->flags = (uint8_t)((flags & ~CE_UNORDERED) | (e->flags & CE_UNORDERED));
    account_flags(c, e, +1);
}

/* Inline while it fits; a heap buffer above CE_INLINE, shrunk when a value
 * becomes much smaller than its buffer. */
static int set_value(centry_t *e, const uint8_t *val, size_t vlen)
{
    bool heap = e->val != ce_inline(e);
    if (vlen <= CE_INLINE && (heap ? e->vcap > 256 : true)) {
        if (heap)
            free(e->val);
        e->val = ce_inline(e);
        e->vcap = CE_INLINE;
    } else if (vlen > e->vcap || (e->vcap > 256 && vlen < e->vcap / 4)) {
        uint8_t *v = malloc(vlen);
        if (!v)
            return -1;
        if (heap)
            free(e->val);
        e->val = v;
        e->vcap = (uint32_t)vlen;
    }
    if (vlen)
        memcpy(e->val, val, vlen);
    e->vlen = (uint32_t)vlen;
    return 0;
}

/* Room for one more entry in the dirty vector (made before any change, so a
 * failed allocation leaves the cache as it was). */
static int dirty_reserve(cache_t *c)
{
    if (c->dirty_count < c->dirty_cap)
        return 0;
    size_t cap = c->dirty_cap ? c->dirty_cap * 2 : 256;
    centry_t **d = realloc(c->dirty, cap * sizeof *d);
    if (!d)
        return -1;
    c->dirty = d;
    c->dirty_cap = cap;
    return 0;
}

centry_t *cache_set(cache_t *c, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, unsigned flags)
{
    if (vlen > UINT32_MAX || ((flags & CE_DIRTY) && dirty_reserve(c)))
        return NULL;
    if (flags & CE_ABSENT)
        vlen = 0;
    c->mod++;
    centry_t *e = cache_find(c, key, klen);
    if (e) {
        size_t before = ce_size(e);
        bool to_dirty = (flags & CE_DIRTY) && !(e->flags & CE_DIRTY);
        if (to_dirty)
            c->dirty[c->dirty_count] = e; /* counted by account_flags below */
        account_flags(c, e, -1);
        if ((flags & CE_DIRTY) && (e->flags & CE_DIRTY) && !(e->flags & CE_FORWARDED))
            c->coalesced++;
        int rc = set_value(e, val, vlen);
        if (rc == 0) {
            if (to_dirty)
                lru_unlink(c, e); /* dirty entries are not eviction candidates */
            e->flags = (uint8_t)(flags | (e->flags & (CE_UNORDERED | CE_REF)));
        }
        account_flags(c, e, +1);
        c->bytes += ce_size(e) - before;
        return rc ? NULL : e;
    }
    if ((c->count + 1) * 8 > c->nslots * 7)
        hash_grow(c);
    if (c->count + 1 >= c->nslots) /* could not grow: keep one slot empty so probes end */
        return NULL;
    int lvl = random_level(c);
    e = malloc(sizeof(centry_t) + (size_t)lvl * sizeof(centry_t *) + klen + CE_INLINE);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->level = (uint8_t)lvl;
    e->klen = (uint16_t)klen;
    memcpy((uint8_t *)ce_key(e), key, klen);
    e->val = ce_inline(e);
    e->vcap = CE_INLINE;
    if (set_value(e, val, vlen)) {
        free(e);
        return NULL;
    }
    e->flags = (uint8_t)flags;
    e->hash = hash_key(key, klen);

    if (c->nunordered == c->unordered_cap) {
        size_t cap = c->unordered_cap ? c->unordered_cap * 2 : 256;
        centry_t **u = realloc(c->unordered, cap * sizeof *u);
        if (!u) {
            free(e);
            return NULL;
        }
        c->unordered = u;
        c->unordered_cap = cap;
    }
    c->unordered[c->nunordered++] = e;
    e->flags |= CE_UNORDERED;

    slot_insert(c->slots, c->nslots, e);
    c->last = e;
    c->count++;
    if (flags & CE_DIRTY)
        c->dirty[c->dirty_count] = e; /* counted by account_flags below */
    else
        lru_push_front(c, e);
    c->bytes += ce_size(e);
    account_flags(c, e, +1);
    return e;
}

static int entry_cmp(const void *a, const void *b)
{
    const centry_t *x = *(centry_t *const *)a, *y = *(centry_t *const *)b;
    return ss_keycmp(ce_key(x), x->klen, ce_key(y), y->klen);
}

void cache_order(cache_t *c)
{
    if (!c->nunordered)
        return;
    qsort(c->unordered, c->nunordered, sizeof *c->unordered, entry_cmp);
    centry_t *update[CACHE_MAX_LEVEL];
    for (int i = 0; i < CACHE_MAX_LEVEL; i++)
        update[i] = c->head;
    for (size_t n = 0; n < c->nunordered; n++) {
        centry_t *e = c->unordered[n];
        if (e->level > c->level)
            c->level = e->level; /* update[] above the old level is head already */
        /* Keys ascend, so the predecessors of the previous key are a valid
         * starting point at every level: search forward from them. */
        centry_t *x = update[c->level - 1];
        for (int i = c->level - 1; i >= 0; i--) {
            /* Start from the later of the previous key's predecessor at this
             * level and this key's predecessor at the level above. */
            if (update[i] != c->head &&
                (x == c->head || ss_keycmp(ce_key(update[i]), update[i]->klen, ce_key(x), x->klen) > 0))
                x = update[i];
            while (x->next[i] && ss_keycmp(ce_key(x->next[i]), x->next[i]->klen, ce_key(e), e->klen) < 0)
                x = x->next[i];
            update[i] = x;
        }
        e->prev0 = update[0] == c->head ? NULL : update[0];
        for (int i = 0; i < e->level; i++) {
            e->next[i] = update[i]->next[i];
            update[i]->next[i] = e;
            update[i] = e;
        }
        if (e->next[0])
            e->next[0]->prev0 = e;
        e->flags &= (uint8_t)~CE_UNORDERED;
    }
    c->nunordered = 0;
}

void cache_remove(cache_t *c, centry_t *e)
{
    if (e->flags & CE_UNORDERED)
        cache_order(c);
    c->mod++;
    centry_t *update[CACHE_MAX_LEVEL];
    skip_find_preds(c, ce_key(e), e->klen, update);
    for (int i = 0; i < e->level; i++)
        if (update[i]->next[i] == e)
            update[i]->next[i] = e->next[i];
    if (e->next[0])
        e->next[0]->prev0 = e->prev0;
    while (c->level > 1 && !c->head->next[c->level - 1])
        c->level--;
    /* Linear probing delete by backward shift: later entries of the probe run
     * move into the hole when their home slot does not lie after it. */
    size_t mask = c->nslots - 1, i = e->hash & mask;
    while (c->slots[i].e != e)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; c->slots[j].e; j = (j + 1) & mask) {
        size_t home = c->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) { /* home is at or before the hole */
            c->slots[i] = c->slots[j];
            i = j;
        }
    }
    c->slots[i] = (cslot_t){0, NULL};
    if (!(e->flags & CE_DIRTY))
        lru_unlink(c, e);
    account_flags(c, e, -1);
    c->bytes -= ce_size(e);
    c->count--;
    if (c->last == e)
        c->last = NULL;
    if (e->val != ce_inline(e))
        free(e->val);
    free(e);
}

/* The hand walks from the oldest clean entry: a referenced one gets a second
 * chance (moved to the front, CE_REF cleared), an unreferenced one is dropped.
 * Dirty entries are not on this list (they must reach LMDB through a
 * checkpoint first; with a cache full of them sl_env_checkpoint_wanted turns
 * true), so the walk costs O(1) per dropped entry.  Each entry is visited at
 * most twice per call. */
void cache_evict(cache_t *c)
{
    centry_t *e = c->lru_last;
    size_t budget = 2 * c->count;
    while (c->bytes > c->bound && e && budget--) {
        centry_t *prev = e->lru_prev;
        if (e->flags & CE_REF) {
            e->flags &= (uint8_t)~CE_REF;
            if (e != c->lru_first) {
                lru_unlink(c, e);
                lru_push_front(c, e);
            }
        } else {
            cache_remove(c, e);
            c->evictions++;
        }
        e = prev ? prev : c->lru_last;
    }
}

void cache_drop_dirty(cache_t *c)
{
    while (c->dirty_count)
        cache_remove(c, c->dirty[c->dirty_count - 1]);
}

void cache_mark_clean(cache_t *c)
{
    size_t n = c->dirty_count;
    for (size_t i = 0; i < n; i++) {
        centry_t *e = c->dirty[i];
        size_t sz = ce_size(e);
        if (!(e->flags & CE_FORWARDED))
            c->pending--;
        c->dirty_bytes -= sz;
        e->flags &= (uint8_t)~(CE_DIRTY | CE_FORWARDED);
        lru_push_front(c, e);
    }
    c->dirty_count = 0;
    c->mod++;
}

centry_t *cache_seek(cache_t *c, const uint8_t *key, size_t klen, int mode)
{
    cache_order(c);
    centry_t *x = c->head;
    bool strict = mode == CACHE_GT || mode == CACHE_LE; /* advance past equal keys */
    for (int i = c->level - 1; i >= 0; i--) {
        for (;;) {
            centry_t *n = x->next[i];
            if (!n)
                break;
            int cmp = ss_keycmp(ce_key(n), n->klen, key, klen);
            if (cmp < 0 || (strict && cmp == 0))
                x = n;
            else
                break;
        }
    }
    /* x is the last entry < key (GE, LT) or <= key (GT, LE); head if none. */
    if (mode == CACHE_GE || mode == CACHE_GT)
        return x->next[0];
    return x == c->head ? NULL : x;
}

centry_t *cache_last(cache_t *c)
{
    cache_order(c);
    centry_t *x = c->head;
    for (int i = c->level - 1; i >= 0; i--)
        while (x->next[i])
            x = x->next[i];
    return x == c->head ? NULL : x;
}
