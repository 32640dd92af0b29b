/* Log maintenance: retention (delete whole segments by age and by total size;
 * the log start offset advances) and compaction for cleanup.policy=compact
 * (rewrite closed segments keeping only the latest record per key, dropping
 * tombstones older than delete.retention.ms; surviving records keep their
 * offsets, batches keep their offset ranges).
 *
 * Cost: compaction rereads every closed segment twice per run and holds one
 * copy of each distinct key in memory (Kafka bounds this with a fixed-size
 * hash-only map and incremental "dirty" ranges; we do not yet).  Rewritten
 * files are built beside the segment and swapped in with a rename; the log
 * lock is held only for the pointer swap. */
#include "broker/plog.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- retention ---------------------------------------------------------------- */

static int64_t segment_age_ts(const sl_segment_t *seg)
{
    return seg->max_timestamp >= 0 ? seg->max_timestamp : seg->created_ms;
}

static int retention_locked(sl_plog_t *log, int64_t now_ms, sl_err_t *err)
{
    int deleted = 0;
    const sl_log_config_t *cfg = &log->cfg;
    if (cfg->retention_ms >= 0) {
        int64_t cutoff = now_ms - cfg->retention_ms;
        sl_segment_t *a = log->segs[log->nsegs - 1];
        if (a->size > 0 && segment_age_ts(a) < cutoff) {
            int rc = sl_plog_roll_locked(log, now_ms, err); /* so that its data can go too */
            if (rc)
                return rc;
        }
        while (log->nsegs > 1 && segment_age_ts(log->segs[0]) < cutoff) {
            sl_log(SL_INFO, "log", "%s: deleting segment %" PRId64 " (retention.ms: newest record %" PRId64
                   " < %" PRId64 ")", log->dir, log->segs[0]->base_offset, segment_age_ts(log->segs[0]), cutoff);
            sl_plog_remove_segment_locked(log, 0, true);
            deleted++;
        }
    }
    if (cfg->retention_bytes >= 0) {
        int64_t total = 0;
        for (int i = 0; i < log->nsegs; i++)
            total += log->segs[i]->size;
        while (log->nsegs > 1 && total - log->segs[0]->size >= cfg->retention_bytes) {
            total -= log->segs[0]->size;
            sl_log(SL_INFO, "log", "%s: deleting segment %" PRId64 " (retention.bytes %" PRId64 ")", log->dir,
                   log->segs[0]->base_offset, cfg->retention_bytes);
            sl_plog_remove_segment_locked(log, 0, true);
            deleted++;
        }
    }
    return deleted;
}

/* ---- the key -> latest offset map ------------------------------------------------ */

typedef struct keymap_slot {
    uint64_t hash;   /* 0 = empty */
    size_t key_at;   /* into arena */
    int32_t key_len;
    int64_t offset;
} keymap_slot_t;

typedef struct keymap {
    keymap_slot_t *slots;
    size_t cap, used;
    sl_buf_t arena;
} keymap_t;

static uint64_t hash_key(const uint8_t *p, int32_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix */
    for (int32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h ? h : 1;
}

static keymap_slot_t *keymap_find(keymap_t *m, const uint8_t *key, int32_t len, uint64_t h)
{
    size_t i = h & (m->cap - 1);
    for (;;) {
        keymap_slot_t *s = &m->slots[i];
        if (s->hash == 0 || (s->hash == h && s->key_len == len && memcmp(m->arena.data + s->key_at, key, (size_t)len) == 0))
            return s;
        i = (i + 1) & (m->cap - 1);
    }
}

static int keymap_grow(keymap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    keymap_slot_t *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return SL_B_ENOMEM;
    }
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].hash)
            continue;
        size_t j = old[i].hash & (cap - 1);
        while (m->slots[j].hash)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
    return 0;
}

static int keymap_put(keymap_t *m, const uint8_t *key, int32_t len, int64_t offset)
{
    if ((m->used + 1) * 2 > m->cap && keymap_grow(m))
        return SL_B_ENOMEM;
    uint64_t h = hash_key(key, len);
    keymap_slot_t *s = keymap_find(m, key, len, h);
    if (s->hash == 0) {
        size_t at = m->arena.len;
        if (sl_buf_append(&m->arena, key, (size_t)len))
            return SL_B_ENOMEM;
        *s = (keymap_slot_t){h, at, len, offset};
        m->used++;
    } else if (offset > s->offset) {
        s->offset = offset;
    }
    return 0;
}

static int64_t keymap_get(keymap_t *m, const uint8_t *key, int32_t len)
{
    keymap_slot_t *s = keymap_find(m, key, len, hash_key(key, len));
    return s->hash ? s->offset : -1;
}

static void keymap_free(keymap_t *m)
{
    free(m->slots);
    sl_buf_free(&m->arena);
}

/* ---- compaction -------------------------------------------------------------------- */

/* Read the batch at *pos into buf (whole); advances *pos.  1: a batch; 0: end. */
static int next_batch(sl_segment_t *seg, int64_t *pos, int64_t limit, sl_buf_t *buf, sl_batch_header_t *h,
                      sl_err_t *err)
{
    if (*pos >= limit)
        return 0;
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    if (limit - *pos < SL_BATCH_HEADER_SIZE || sl_pread_full(seg->log_fd, hdr, sizeof hdr, *pos))
        return sl_err_set(err, SL_B_ECORRUPT, "%s: short batch at %" PRId64, seg->path, *pos);
    int rc = sl_batch_parse_header(hdr, sizeof hdr, h, err);
    if (rc)
        return rc;
    size_t size = sl_batch_size(h);
    if ((int64_t)size > limit - *pos)
        return sl_err_set(err, SL_B_ECORRUPT, "%s: batch at %" PRId64 " runs past the end", seg->path, *pos);
    sl_buf_reset(buf);
    if (sl_buf_reserve(buf, size))
        return SL_B_ENOMEM;
    if (sl_pread_full(seg->log_fd, buf->data, size, *pos))
        return sl_err_set(err, SL_B_EIO, "read %s: %s", seg->path, strerror(errno));
    buf->len = size;
    *pos += (int64_t)size;
    return 1;
}

typedef struct compactor {
    keymap_t map;
    sl_buf_t batch, out;
    sl_batch_iter_t it;
    sl_batch_builder_t bld;
    int64_t tombstone_cutoff;
} compactor_t;

static bool keep_record(compactor_t *c, const sl_record_t *r)
{
    if (r->key_len < 0)
        return true; /* cannot be compacted; append refuses these for compact topics */
    if (keymap_get(&c->map, r->key, r->key_len) != r->offset)
        return false;
    return !(r->value_len < 0 && r->timestamp < c->tombstone_cutoff);
}

static int map_segment(compactor_t *c, sl_segment_t *seg, int64_t limit, sl_err_t *err)
{
    int64_t pos = 0;
    sl_batch_header_t h;
    int rc;
    while ((rc = next_batch(seg, &pos, limit, &c->batch, &h, err)) == 1) {
        if (h.attributes & SL_BATCH_ATTR_CONTROL)
            continue;
        if ((rc = sl_batch_iter_start(&c->it, c->batch.data, c->batch.len, err)) != 0)
            return rc;
        sl_record_t r;
        while ((rc = sl_batch_iter_next(&c->it, &r, err)) == 1)
            if (r.key_len >= 0 && (rc = keymap_put(&c->map, r.key, r.key_len, r.offset)) != 0)
                return rc;
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Build the compacted image of seg into c->out.  Returns the number of
 * records dropped (0: nothing to do), or <0. */
static int64_t rewrite_segment(compactor_t *c, sl_segment_t *seg, int64_t limit, sl_err_t *err)
{
    int64_t pos = 0, dropped = 0;
    sl_batch_header_t h;
    int rc;
    sl_buf_reset(&c->out);
    while ((rc = next_batch(seg, &pos, limit, &c->batch, &h, err)) == 1) {
        if (h.attributes & SL_BATCH_ATTR_CONTROL) {
            if (sl_buf_append(&c->out, c->batch.data, c->batch.len))
                return SL_B_ENOMEM;
            continue;
        }
        /* First pass over the batch: does it lose anything? */
        if ((rc = sl_batch_iter_start(&c->it, c->batch.data, c->batch.len, err)) != 0)
            return rc;
        sl_record_t r;
        int32_t kept = 0, total = 0;
        while ((rc = sl_batch_iter_next(&c->it, &r, err)) == 1) {
            total++;
            kept += keep_record(c, &r);
        }
        if (rc < 0)
            return rc;
        dropped += total - kept;
        if (kept == total) {
            if (sl_buf_append(&c->out, c->batch.data, c->batch.len))
                return SL_B_ENOMEM;
            continue;
        }
        if (kept == 0)
            continue;
        /* Rebuild with the survivors at their original offsets. */
        sl_batch_builder_begin(&c->bld, h.attributes & SL_BATCH_ATTR_COMPRESSION_MASK, h.base_offset);
        c->bld.hdr.producer_id = h.producer_id;
        c->bld.hdr.producer_epoch = h.producer_epoch;
        c->bld.hdr.base_sequence = h.base_sequence;
        c->bld.hdr.partition_leader_epoch = h.partition_leader_epoch;
        c->bld.hdr.attributes = (int16_t)(h.attributes & (SL_BATCH_ATTR_TRANSACTIONAL | SL_BATCH_ATTR_LOG_APPEND_TIME));
        if ((rc = sl_batch_iter_start(&c->it, c->batch.data, c->batch.len, err)) != 0)
            return rc;
        while ((rc = sl_batch_iter_next(&c->it, &r, err)) == 1) {
            if (!keep_record(c, &r))
                continue;
            rc = sl_batch_builder_add_raw(&c->bld, (int32_t)(r.offset - h.base_offset), r.timestamp, r.attributes,
                                          r.key, r.key_len, r.value, r.value_len, r.header_count, r.headers,
                                          r.headers_len);
            if (rc)
                return rc;
        }
        if (rc < 0)
            return rc;
        c->bld.last_offset_delta = h.last_offset_delta;
        if ((rc = sl_batch_builder_finish(&c->bld, &c->out, err)) != 0)
            return rc;
    }
    return rc < 0 ? rc : dropped;
}


/* Swap the rewritten image in: index files go first (so a crash leaves them
 * missing, and they are rebuilt, rather than pointing into the new file),
 * then the rename, then a fresh segment object replaces the old one. */
static int install_segment(sl_plog_t *log, sl_segment_t *old, const sl_buf_t *image, sl_err_t *err)
{
    char tmp[4200], path[4200];
    snprintf(tmp, sizeof tmp, "%s.cleaned", old->path);
    if (sl_fs_write_file(tmp, image->data, image->len) != 0)
        return sl_err_set(err, SL_B_EIO, "write %s: %s", tmp, strerror(errno));
    int rc;
    size_t n = strlen(old->path) - 4;
    snprintf(path, sizeof path, "%.*s.index", (int)n, old->path);
    unlink(path);
    snprintf(path, sizeof path, "%.*s.timeindex", (int)n, old->path);
    unlink(path);
    if (rename(tmp, old->path) != 0)
        return sl_err_set(err, SL_B_EIO, "rename %s: %s", tmp, strerror(errno));
    if (sl_fs_fsync_dir(log->dir) != 0)
        sl_log(SL_WARN, "log", "%s: fsync after compaction: %s", log->dir, strerror(errno));
    sl_segment_t *seg;
    if ((rc = sl_segment_open(log->dir, old->base_offset, true, &log->cfg, &seg, err)) != 0)
        return rc;
    if (sl_index_sync(&seg->idx) != 0)
        sl_log(SL_WARN, "log", "%s: index sync failed after compaction", seg->path);
    seg->created_ms = old->created_ms;
    pthread_mutex_lock(&log->mu);
    for (int i = 0; i < log->nsegs; i++) {
        if (log->segs[i] == old) {
            log->segs[i] = seg;
            old->dead = true; /* its paths now belong to seg: do not unlink */
            seg = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&log->mu);
    if (seg) /* cannot happen while maint_mu is held by the caller */
        sl_segment_free(seg);
    return 0;
}

static int compact_maint_locked(sl_plog_t *log, int64_t now_ms, sl_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    int n = log->nsegs - 1; /* closed segments only */
    sl_segment_t **segs = n > 0 ? malloc((size_t)n * sizeof *segs) : NULL;
    int64_t *limits = n > 0 ? malloc((size_t)n * sizeof *limits) : NULL;
    if (n > 0 && (!segs || !limits)) {
        pthread_mutex_unlock(&log->mu);
        free(segs);
        free(limits);
        return SL_B_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        segs[i] = log->segs[i];
        limits[i] = segs[i]->size;
        segs[i]->refs++;
    }
    compactor_t c;
    memset(&c, 0, sizeof c);
    c.tombstone_cutoff = now_ms - log->cfg.delete_retention_ms;
    pthread_mutex_unlock(&log->mu);

    sl_batch_iter_init(&c.it);
    sl_batch_builder_init(&c.bld);
    int rc = 0, rewritten = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = map_segment(&c, segs[i], limits[i], err);
    for (int i = 0; i < n && rc == 0; i++) {
        int64_t dropped = rewrite_segment(&c, segs[i], limits[i], err);
        if (dropped < 0) {
            rc = (int)dropped;
        } else if (dropped > 0) {
            rc = install_segment(log, segs[i], &c.out, err);
            if (rc == 0) {
                rewritten++;
                sl_log(SL_INFO, "log", "%s: compacted segment %" PRId64 ": %" PRId64 " records removed, %zu bytes now",
                       log->dir, segs[i]->base_offset, dropped, c.out.len);
            }
        }
    }
    pthread_mutex_lock(&log->mu);
    for (int i = 0; i < n; i++)
        sl_plog_seg_release_locked(log, segs[i]);
    pthread_mutex_unlock(&log->mu);
    free(segs);
    free(limits);
    keymap_free(&c.map);
    sl_buf_free(&c.batch);
    sl_buf_free(&c.out);
    sl_batch_iter_free(&c.it);
    sl_batch_builder_free(&c.bld);
    return rc ? rc : rewritten;
}

int sl_plog_compact(sl_plog_t *log, int64_t now_ms, sl_err_t *err)
{
    if (!(log->cfg.cleanup_policy & SL_CLEANUP_COMPACT))
        return sl_err_set(err, SL_B_EINVAL, "cleanup.policy does not include compact");
    pthread_mutex_lock(&log->maint_mu);
    int rc = compact_maint_locked(log, now_ms, err);
    pthread_mutex_unlock(&log->maint_mu);
    return rc;
}

int sl_plog_maintain(sl_plog_t *log, int64_t now_ms, sl_err_t *err)
{
    pthread_mutex_lock(&log->maint_mu);
    int total = 0, rc = 0;
    if (log->cfg.cleanup_policy & SL_CLEANUP_DELETE) {
        pthread_mutex_lock(&log->mu);
        rc = retention_locked(log, now_ms, err);
        pthread_mutex_unlock(&log->mu);
        if (rc > 0)
            total += rc;
    }
    if (rc >= 0 && (log->cfg.cleanup_policy & SL_CLEANUP_COMPACT)) {
        rc = compact_maint_locked(log, now_ms, err);
        if (rc > 0)
            total += rc;
    }
    pthread_mutex_unlock(&log->maint_mu);
    return rc < 0 ? rc : total;
}
