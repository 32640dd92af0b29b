/* The partition log: an ordered list of segments in one folder, the last one
 * active.  Holds open (with recovery of the active segment after an unclean
 * shutdown), append with offset assignment and rolling, read of whole stored
 * batches, offset-by-timestamp lookup, and the log start offset.  One mutex
 * guards the segment list and offsets; file reads happen outside it on
 * reference-counted segments so readers never stall appenders on I/O. */
#include "broker/plog.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLEAN_MARKER ".clean-shutdown"
#define START_FILE "log-start-offset"



static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Parse "<20 digits><suffix>"; returns 1 and the base when the name matches. */
static int parse_segment_name(const char *name, const char *suffix, int64_t *base)
{
    size_t n = strlen(name), sl = strlen(suffix);
    if (n != 20 + sl || strcmp(name + 20, suffix) != 0)
        return 0;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return 1;
}

static int push_segment(sl_plog_t *log, sl_segment_t *seg)
{
    if (log->nsegs == log->segs_cap) {
        int cap = log->segs_cap ? log->segs_cap * 2 : 8;
        sl_segment_t **s = realloc(log->segs, (size_t)cap * sizeof *s);
        if (!s)
            return SL_B_ENOMEM;
        log->segs = s;
        log->segs_cap = cap;
    }
    log->segs[log->nsegs++] = seg;
    return 0;
}

static sl_segment_t *active(sl_plog_t *log) { return log->segs[log->nsegs - 1]; }

static int64_t read_start_file(const char *dir)
{
    char path[4200], buf[32] = {0};
    snprintf(path, sizeof path, "%s/" START_FILE, dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || end == buf || v < 0) {
        sl_log(SL_WARN, "log", "%s: ignoring unreadable %s", dir, START_FILE);
        return -1;
    }
    return v;
}

int sl_plog_write_start_offset(sl_plog_t *log, int64_t offset, sl_err_t *err)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%" PRId64 "\n", offset);
    if (sl_fs_write_atomic(log->dir, START_FILE, buf, (size_t)len) != 0)
        return sl_err_set(err, SL_B_EIO, "write %s/" START_FILE ": %s", log->dir, strerror(errno));
    return 0;
}

/* Collect segment bases, removing leftovers of interrupted work (*.cleaned,
 * *.tmp) as we go. */
static int list_segments(const char *dir, int64_t **bases, int *n, sl_err_t *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return sl_err_set(err, SL_B_EIO, "opendir %s: %s", dir, strerror(errno));
    int cap = 0;
    *bases = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int64_t base;
        size_t len = strlen(e->d_name);
        if ((len > 8 && strcmp(e->d_name + len - 8, ".cleaned") == 0) ||
            (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            sl_log(SL_INFO, "log", "removing leftover %s", path);
            unlink(path);
            continue;
        }
        if (!parse_segment_name(e->d_name, ".log", &base))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *b = realloc(*bases, (size_t)cap * sizeof *b);
            if (!b) {
                closedir(d);
                return SL_B_ENOMEM;
            }
            *bases = b;
        }
        (*bases)[(*n)++] = base;
    }
    closedir(d);
    if (*n > 1)
        qsort(*bases, (size_t)*n, sizeof **bases, cmp_i64);
    return 0;
}

static void plog_free(sl_plog_t *log)
{
    for (int i = 0; i < log->nsegs; i++)
        sl_segment_free(log->segs[i]);
    free(log->segs);
    free(log->waiters);
    pthread_mutex_destroy(&log->mu);
    pthread_mutex_destroy(&log->maint_mu);
    pthread_cond_destroy(&log->flush_cond);
    pthread_cond_destroy(&log->durable_cond);
    free(log);
}

int sl_plog_open(const char *dir, const sl_log_config_t *cfg, sl_plog_t **out, sl_err_t *err)
{
    if (strlen(dir) >= sizeof(((sl_plog_t *)0)->dir) - 64)
        return sl_err_set(err, SL_B_EINVAL, "path too long: %s", dir);
    if (cfg->index_interval_bytes < 0 || cfg->segment_bytes < 1)
        return sl_err_set(err, SL_B_EINVAL, "invalid log config (index.interval.bytes / segment.bytes)");
    if (sl_fs_mkdir_p(dir) != 0)
        return sl_err_set(err, SL_B_EIO, "mkdir %s: %s", dir, strerror(errno));
    sl_plog_t *log = calloc(1, sizeof *log);
    if (!log)
        return SL_B_ENOMEM;
    strcpy(log->dir, dir);
    log->cfg = *cfg;
    pthread_mutex_init(&log->mu, NULL);
    pthread_mutex_init(&log->maint_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&log->flush_cond, &ca);
    pthread_cond_init(&log->durable_cond, &ca);
    pthread_condattr_destroy(&ca);

    char marker[4200];
    snprintf(marker, sizeof marker, "%s/" CLEAN_MARKER, dir);
    bool clean = access(marker, F_OK) == 0;
    if (clean && (unlink(marker) != 0 || sl_fs_fsync_dir(dir) != 0)) {
        sl_err_set(err, SL_B_EIO, "remove %s: %s", marker, strerror(errno));
        plog_free(log);
        return SL_B_EIO;
    }

    int64_t *bases = NULL;
    int n = 0, rc = list_segments(dir, &bases, &n, err);
    int nfound = n;
    int64_t stored_start = read_start_file(dir);
    for (int i = 0; rc == 0 && i < n; i++) {
        sl_segment_t *seg;
        bool last = i == n - 1;
        rc = sl_segment_open(dir, bases[i], last && !clean, cfg, &seg, err);
        if (rc == 0 && (rc = push_segment(log, seg)) != 0)
            sl_segment_free(seg);
        if (rc == 0 && i > 0 && log->segs[i - 1]->next_offset > seg->base_offset)
            sl_log(SL_ERROR, "log", "%s: segment %" PRId64 " overlaps the previous one (ends at %" PRId64 ")", dir,
                   seg->base_offset, log->segs[i - 1]->next_offset);
    }
    free(bases);
    if (rc == 0 && log->nsegs == 0) {
        sl_segment_t *seg;
        rc = sl_segment_create(dir, stored_start > 0 ? stored_start : 0, &seg, err);
        if (rc == 0 && (rc = push_segment(log, seg)) != 0)
            sl_segment_free(seg);
        if (rc == 0 && sl_fs_fsync_dir(dir) != 0)
            rc = sl_err_set(err, SL_B_EIO, "fsync %s: %s", dir, strerror(errno));
    }
    if (rc) {
        plog_free(log);
        return rc;
    }
    int64_t now = sl_now_ms();
    for (int i = 0; i < log->nsegs; i++)
        log->segs[i]->created_ms = now;
    log->start_offset = log->segs[0]->base_offset;
    if (stored_start > log->start_offset && stored_start <= active(log)->next_offset)
        log->start_offset = stored_start;
    /* Whatever survived is on disk now (the OS may still hold it in cache). */
    if (fdatasync(active(log)->log_fd) != 0) {
        sl_err_set(err, SL_B_EIO, "fdatasync: %s", strerror(errno));
        plog_free(log);
        return SL_B_EIO;
    }
    log->durable_offset = active(log)->next_offset;
    log->durable_pos = active(log)->size;
    if (!clean && nfound > 0)
        sl_log(SL_INFO, "log", "%s: recovered, offsets %" PRId64 "..%" PRId64 " in %d segment(s)", dir,
               log->start_offset, log->durable_offset, log->nsegs);
    if ((rc = sl_flusher_start(log, err)) != 0) {
        plog_free(log);
        return rc;
    }
    *out = log;
    return 0;
}

void sl_plog_close(sl_plog_t *log)
{
    if (!log)
        return;
    sl_flusher_stop(log);
    sl_err_t err = {0};
    pthread_mutex_lock(&log->mu);
    int rc = sl_segment_seal(active(log), true, &err);
    pthread_mutex_unlock(&log->mu);
    if (rc == 0 && !log->sync_error) {
        char marker[4200];
        snprintf(marker, sizeof marker, "%s/" CLEAN_MARKER, log->dir);
        int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
        sl_fs_fsync_dir(log->dir);
    } else {
        sl_log(SL_ERROR, "log", "%s: unclean close: %s", log->dir, err.msg[0] ? err.msg : "earlier sync failure");
    }
    plog_free(log);
}

void sl_plog_set_config(sl_plog_t *log, const sl_log_config_t *cfg)
{
    pthread_mutex_lock(&log->mu);
    log->cfg = *cfg;
    pthread_cond_signal(&log->flush_cond);
    pthread_mutex_unlock(&log->mu);
}

int sl_plog_roll_locked(sl_plog_t *log, int64_t now_ms, sl_err_t *err)
{
    sl_segment_t *cur = active(log);
    if (cur->size == 0)
        return 0;
    bool sync = log->cfg.flush_policy != SL_FLUSH_NEVER;
    int rc = sl_segment_seal(cur, sync, err);
    if (rc)
        return rc;
    sl_segment_t *seg;
    if ((rc = sl_segment_create(log->dir, cur->next_offset, &seg, err)) != 0)
        return rc;
    seg->created_ms = now_ms;
    if ((rc = push_segment(log, seg)) != 0) {
        sl_segment_unlink(seg);
        sl_segment_free(seg);
        return rc;
    }
    if (sync) {
        log->syncs++;
        if (sl_fs_fsync_dir(log->dir) != 0)
            return sl_err_set(err, SL_B_EIO, "fsync %s: %s", log->dir, strerror(errno));
        log->durable_pos = 0; /* the new active segment is empty */
        if (cur->next_offset > log->durable_offset) {
            log->durable_offset = cur->next_offset;
            pthread_cond_broadcast(&log->durable_cond);
            pthread_cond_signal(&log->flush_cond); /* let the flusher answer waiters */
        }
    }
    sl_log(SL_DEBUG, "log", "%s: rolled to segment %" PRId64, log->dir, seg->base_offset);
    return 0;
}

int sl_plog_roll(sl_plog_t *log, int64_t now_ms)
{
    pthread_mutex_lock(&log->mu);
    int rc = sl_plog_roll_locked(log, now_ms, NULL);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* Compacted topics need a key on every record (Kafka refuses null keys there). */
static int check_keys(const uint8_t *p, size_t len, sl_err_t *err)
{
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    int rc = sl_batch_iter_start(&it, p, len, err);
    sl_record_t r;
    if (rc == 0) {
        while ((rc = sl_batch_iter_next(&it, &r, err)) == 1) {
            if (r.key_len < 0) {
                rc = sl_err_set(err, SL_B_EINVAL, "compacted topic: record at offset delta %" PRId64 " has no key",
                                r.offset - it.hdr.base_offset);
                break;
            }
        }
    }
    sl_batch_iter_free(&it);
    return rc < 0 ? rc : 0;
}

static bool should_roll(const sl_plog_t *log, const sl_segment_t *seg, const sl_batch_header_t *h, size_t len,
                        int64_t now_ms)
{
    if (seg->size == 0)
        return false;
    if (seg->size + (int64_t)len > log->cfg.segment_bytes || seg->size + (int64_t)len > UINT32_MAX)
        return true;
    /* Relative offsets in the index are 32-bit. */
    if (seg->next_offset - seg->base_offset + h->last_offset_delta >= UINT32_MAX)
        return true;
    /* segment.ms as Kafka: by record time when the segment has timestamps. */
    int64_t age = seg->first_timestamp >= 0 ? h->max_timestamp - seg->first_timestamp : now_ms - seg->created_ms;
    return age >= log->cfg.segment_ms;
}

int sl_plog_append(sl_plog_t *log, const uint8_t *p, size_t len, int64_t now_ms, sl_append_info_t *info,
                   sl_err_t *err)
{
    sl_batch_header_t h;
    if (len > (size_t)log->cfg.max_message_bytes)
        return sl_err_set(err, SL_B_ETOOLARGE, "batch of %zu bytes exceeds max.message.bytes %d", len,
                          log->cfg.max_message_bytes);
    int rc = sl_batch_validate(p, len, &h, err);
    if (rc)
        return rc;
    if (h.record_count <= 0 || h.last_offset_delta < h.record_count - 1)
        return sl_err_set(err, SL_B_ECORRUPT, "batch with %d records and last offset delta %d", h.record_count,
                          h.last_offset_delta);
    if ((log->cfg.cleanup_policy & SL_CLEANUP_COMPACT) && (rc = check_keys(p, len, err)) != 0)
        return rc;

    pthread_mutex_lock(&log->mu);
    if (log->closing) {
        rc = sl_err_set(err, SL_B_ECLOSED, "log is closing");
    } else if (log->sync_error) {
        rc = sl_err_set(err, SL_B_EIO, "log is read-only after an fdatasync failure");
    } else if (should_roll(log, active(log), &h, len, now_ms) &&
               (rc = sl_plog_roll_locked(log, now_ms, err)) != 0) {
        /* rc set */
    } else {
        sl_segment_t *seg = active(log);
        h.base_offset = seg->next_offset;
        rc = sl_segment_append(seg, p, len, &h, log->cfg.index_interval_bytes, err);
        if (rc == 0) {
            if (info) {
                info->base_offset = h.base_offset;
                info->last_offset = h.base_offset + h.last_offset_delta;
                info->max_timestamp = h.max_timestamp;
                info->record_count = h.record_count;
            }
            sl_flusher_notify_locked(log);
        }
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int64_t sl_plog_start_offset(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    int64_t v = log->start_offset;
    pthread_mutex_unlock(&log->mu);
    return v;
}

int64_t sl_plog_end_offset(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    int64_t v = active(log)->next_offset;
    pthread_mutex_unlock(&log->mu);
    return v;
}

int64_t sl_plog_durable_offset(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    int64_t v = log->durable_offset;
    pthread_mutex_unlock(&log->mu);
    return v;
}

int64_t sl_plog_size_bytes(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    int64_t v = 0;
    for (int i = 0; i < log->nsegs; i++)
        v += log->segs[i]->size;
    pthread_mutex_unlock(&log->mu);
    return v;
}

int64_t sl_plog_sync_count(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    int64_t v = log->syncs;
    pthread_mutex_unlock(&log->mu);
    return v;
}

int sl_plog_segment_count(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    int v = log->nsegs;
    pthread_mutex_unlock(&log->mu);
    return v;
}

void sl_plog_seg_release_locked(sl_plog_t *log, sl_segment_t *seg)
{
    (void)log;
    if (--seg->refs == 0 && seg->dead)
        sl_segment_free(seg);
}

void sl_plog_remove_segment_locked(sl_plog_t *log, int i, bool unlink_files)
{
    sl_segment_t *seg = log->segs[i];
    memmove(&log->segs[i], &log->segs[i + 1], (size_t)(log->nsegs - i - 1) * sizeof *log->segs);
    log->nsegs--;
    if (unlink_files)
        sl_segment_unlink(seg);
    seg->dead = true;
    if (seg->refs == 0)
        sl_segment_free(seg);
    if (log->segs[0]->base_offset > log->start_offset)
        log->start_offset = log->segs[0]->base_offset;
}

/* Index of the segment holding `offset`: the last with base <= offset, moved
 * past segments that end before it (gaps left by compaction). */
static int find_segment_locked(sl_plog_t *log, int64_t offset)
{
    int lo = 0, hi = log->nsegs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    int i = lo ? lo - 1 : 0;
    while (i < log->nsegs - 1 && log->segs[i]->next_offset <= offset)
        i++;
    return i;
}

/* Read from `seg` starting at batch position pos (< limit): whole batches,
 * at most max_bytes except that the first is always whole. */
static int read_batches(sl_segment_t *seg, int64_t pos, int64_t limit, size_t max_bytes, sl_buf_t *out,
                        sl_read_info_t *info, sl_err_t *err)
{
    size_t want = (size_t)(limit - pos);
    if (want > max_bytes)
        want = max_bytes;
    if (want < SL_BATCH_HEADER_SIZE)
        want = (size_t)(limit - pos) < SL_BATCH_HEADER_SIZE ? (size_t)(limit - pos) : SL_BATCH_HEADER_SIZE;
    size_t at = out->len;
    if (sl_buf_reserve(out, want))
        return SL_B_ENOMEM;
    if (sl_pread_full(seg->log_fd, out->data + at, want, pos))
        return sl_err_set(err, SL_B_EIO, "read %s: %s", seg->path, strerror(errno));
    size_t used = 0;
    while (want - used >= SL_BATCH_HEADER_SIZE) {
        const uint8_t *b = out->data + at + used;
        int64_t blen = (int32_t)sl_be32(b + SL_BATCH_OFF_LENGTH);
        if (blen < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || blen + SL_BATCH_LOG_OVERHEAD > limit - pos - (int64_t)used)
            return sl_err_set(err, SL_B_ECORRUPT, "%s: corrupt batch length at position %" PRId64, seg->path,
                              pos + (int64_t)used);
        size_t size = (size_t)blen + SL_BATCH_LOG_OVERHEAD;
        if (used + size > want) {
            if (info->batches > 0)
                break;
            /* First batch larger than max_bytes: return it whole anyway. */
            size_t extra = used + size - want;
            if (sl_buf_reserve(out, want + extra - (out->len - at)))
                return SL_B_ENOMEM;
            b = out->data + at + used;
            if (sl_pread_full(seg->log_fd, out->data + at + want, extra, pos + (int64_t)want))
                return sl_err_set(err, SL_B_EIO, "read %s: %s", seg->path, strerror(errno));
            want += extra;
        }
        /* Verify the CRC of what we serve: a batch damaged on disk after it
         * was written (bit rot, a bad sector in a closed segment) is reported
         * with its position instead of being handed to clients.  Costs one
         * hardware CRC pass over the bytes, small next to the copy. */
        uint32_t crc = sl_crc32c(0, b + SL_BATCH_OFF_ATTRIBUTES, size - SL_BATCH_OFF_ATTRIBUTES);
        if (crc != sl_be32(b + SL_BATCH_OFF_CRC)) {
            sl_log(SL_ERROR, "log", "%s: corrupt batch at position %" PRId64 " (offset %" PRId64 "): CRC mismatch",
                   seg->path, pos + (int64_t)used, (int64_t)sl_be64(b));
            if (info->batches > 0)
                break;
            out->len = at;
            return sl_err_set(err, SL_B_ECORRUPT, "%s: corrupt batch at position %" PRId64 " (offset %" PRId64 ")",
                              seg->path, pos + (int64_t)used, (int64_t)sl_be64(b));
        }
        if (info->batches == 0)
            info->first_offset = (int64_t)sl_be64(b);
        info->next_offset = (int64_t)sl_be64(b) + (int32_t)sl_be32(b + SL_BATCH_OFF_LAST_OFFSET_DELTA) + 1;
        info->batches++;
        used += size;
    }
    out->len = at + used;
    return 0;
}

int64_t sl_plog_high_watermark(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    int64_t v = log->cfg.flush_policy == SL_FLUSH_NEVER ? active(log)->next_offset : log->durable_offset;
    pthread_mutex_unlock(&log->mu);
    return v;
}

static int plog_read(sl_plog_t *log, int64_t offset, size_t max_bytes, bool durable_only, sl_buf_t *out,
                     sl_read_info_t *info, sl_err_t *err);

int sl_plog_read(sl_plog_t *log, int64_t offset, size_t max_bytes, sl_buf_t *out, sl_read_info_t *info,
                 sl_err_t *err)
{
    return plog_read(log, offset, max_bytes, false, out, info, err);
}

int sl_plog_read_durable(sl_plog_t *log, int64_t offset, size_t max_bytes, sl_buf_t *out, sl_read_info_t *info,
                         sl_err_t *err)
{
    return plog_read(log, offset, max_bytes, true, out, info, err);
}

static int plog_read(sl_plog_t *log, int64_t offset, size_t max_bytes, bool durable_only, sl_buf_t *out,
                     sl_read_info_t *info, sl_err_t *err)
{
    sl_read_info_t local;
    if (!info)
        info = &local;
    *info = (sl_read_info_t){.first_offset = -1, .next_offset = offset, .batches = 0};
    for (;;) {
        pthread_mutex_lock(&log->mu);
        int64_t end = active(log)->next_offset;
        if (offset < log->start_offset || offset > end) {
            int64_t start = log->start_offset;
            pthread_mutex_unlock(&log->mu);
            return sl_err_set(err, SL_B_ERANGE, "offset %" PRId64 " outside the log [%" PRId64 ", %" PRId64 "]",
                              offset, start, end);
        }
        bool bounded = durable_only && log->cfg.flush_policy != SL_FLUSH_NEVER;
        if (offset == end || (bounded && offset >= log->durable_offset)) {
            pthread_mutex_unlock(&log->mu);
            return 0;
        }
        int i = find_segment_locked(log, offset);
        sl_segment_t *seg = log->segs[i];
        int64_t from = 0, limit = seg->size;
        if (bounded && i == log->nsegs - 1 && log->durable_pos < limit)
            limit = log->durable_pos; /* a batch boundary: what the last sync covered */
        if (offset > seg->base_offset && offset - seg->base_offset <= UINT32_MAX)
            from = sl_index_lookup_offset(&seg->idx, (uint32_t)(offset - seg->base_offset));
        int64_t seg_end = seg->next_offset;
        seg->refs++;
        pthread_mutex_unlock(&log->mu);

        int64_t pos;
        int rc = sl_segment_find_position(seg, offset, from, limit, &pos, err);
        if (rc == 0 && pos < limit)
            rc = read_batches(seg, pos, limit, max_bytes, out, info, err);
        pthread_mutex_lock(&log->mu);
        sl_plog_seg_release_locked(log, seg);
        pthread_mutex_unlock(&log->mu);
        if (rc || info->batches > 0)
            return rc;
        /* Nothing at or after `offset` in this segment: continue in the next. */
        offset = seg_end > offset ? seg_end : offset + 1;
        info->next_offset = offset;
    }
}

/* First record with timestamp >= ts (and offset >= min_offset) in the batches
 * of `seg` from position pos; *found = -1 when none. */
static int scan_for_time(sl_segment_t *seg, int64_t pos, int64_t limit, int64_t ts, int64_t min_offset,
                         int64_t *found, int64_t *found_ts, sl_err_t *err)
{
    sl_buf_t buf;
    sl_buf_init(&buf);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    int rc = 0;
    *found = -1;
    while (pos < limit && *found < 0) {
        uint8_t hdr[SL_BATCH_HEADER_SIZE];
        sl_batch_header_t h;
        if (limit - pos < SL_BATCH_HEADER_SIZE || sl_pread_full(seg->log_fd, hdr, sizeof hdr, pos)) {
            rc = sl_err_set(err, SL_B_EIO, "%s: read at %" PRId64 " failed", seg->path, pos);
            break;
        }
        if ((rc = sl_batch_parse_header(hdr, sizeof hdr, &h, err)) != 0)
            break;
        size_t size = sl_batch_size(&h);
        if ((int64_t)size > limit - pos) {
            rc = sl_err_set(err, SL_B_ECORRUPT, "%s: batch at %" PRId64 " runs past the end", seg->path, pos);
            break;
        }
        if (h.max_timestamp >= ts && h.base_offset + h.last_offset_delta >= min_offset) {
            sl_buf_reset(&buf);
            if (sl_buf_reserve(&buf, size) || sl_pread_full(seg->log_fd, buf.data, size, pos)) {
                rc = sl_err_set(err, SL_B_EIO, "%s: read at %" PRId64 " failed", seg->path, pos);
                break;
            }
            if ((rc = sl_batch_iter_start(&it, buf.data, size, err)) != 0)
                break;
            sl_record_t r;
            while ((rc = sl_batch_iter_next(&it, &r, err)) == 1)
                if (r.timestamp >= ts && r.offset >= min_offset) {
                    *found = r.offset;
                    *found_ts = r.timestamp;
                    break;
                }
            if (rc < 0)
                break;
            rc = 0;
        }
        pos += (int64_t)size;
    }
    sl_batch_iter_free(&it);
    sl_buf_free(&buf);
    return rc;
}

int sl_plog_offset_for_time(sl_plog_t *log, int64_t ts, int64_t *offset, sl_err_t *err)
{
    int64_t found_ts;
    return sl_plog_lookup_time(log, ts, offset, &found_ts, err);
}

int sl_plog_lookup_time(sl_plog_t *log, int64_t ts, int64_t *offset, int64_t *timestamp, sl_err_t *err)
{
    *offset = -1;
    *timestamp = -1;
    pthread_mutex_lock(&log->mu);
    for (int i = 0; i < log->nsegs; i++) {
        sl_segment_t *seg = log->segs[i];
        if (seg->max_timestamp < ts || seg->next_offset <= log->start_offset)
            continue;
        int64_t from = 0, rel = sl_index_lookup_time(&seg->idx, ts);
        if (rel >= 0)
            from = sl_index_lookup_offset(&seg->idx, (uint32_t)rel);
        int64_t limit = seg->size, min_offset = log->start_offset;
        seg->refs++;
        pthread_mutex_unlock(&log->mu);
        int rc = scan_for_time(seg, from, limit, ts, min_offset, offset, timestamp, err);
        pthread_mutex_lock(&log->mu);
        sl_plog_seg_release_locked(log, seg);
        if (rc || *offset >= 0) {
            pthread_mutex_unlock(&log->mu);
            return rc;
        }
        /* The segment list may have changed while unlocked: find our place again. */
        int j = 0;
        while (j < log->nsegs && log->segs[j]->base_offset <= seg->base_offset)
            j++;
        i = j - 1;
    }
    pthread_mutex_unlock(&log->mu);
    return 0;
}

int sl_plog_delete_records_before(sl_plog_t *log, int64_t offset, sl_err_t *err)
{
    pthread_mutex_lock(&log->maint_mu); /* compaction may be swapping segments */
    pthread_mutex_lock(&log->mu);
    int rc = 0;
    if (offset > active(log)->next_offset || offset < 0) {
        rc = sl_err_set(err, SL_B_ERANGE, "offset %" PRId64 " beyond the log end %" PRId64, offset,
                        active(log)->next_offset);
    } else if (offset > log->start_offset) {
        rc = sl_plog_write_start_offset(log, offset, err);
        if (rc == 0) {
            log->start_offset = offset;
            while (log->nsegs > 1 && log->segs[0]->next_offset <= offset &&
                   log->segs[1]->base_offset <= offset)
                sl_plog_remove_segment_locked(log, 0, true);
            log->start_offset = offset;
        }
    }
    pthread_mutex_unlock(&log->mu);
    pthread_mutex_unlock(&log->maint_mu);
    return rc;
}

int sl_plog_scan_batches(sl_plog_t *log, int64_t from_offset, int (*fn)(void *arg, const sl_batch_header_t *h),
                         void *arg, sl_err_t *err)
{
    int64_t offset = from_offset;
    for (;;) {
        pthread_mutex_lock(&log->mu);
        if (offset < log->start_offset)
            offset = log->start_offset;
        if (offset >= active(log)->next_offset) {
            pthread_mutex_unlock(&log->mu);
            return 0;
        }
        int i = find_segment_locked(log, offset);
        sl_segment_t *seg = log->segs[i];
        int64_t from = 0, limit = seg->size, seg_end = seg->next_offset;
        if (offset > seg->base_offset && offset - seg->base_offset <= UINT32_MAX)
            from = sl_index_lookup_offset(&seg->idx, (uint32_t)(offset - seg->base_offset));
        seg->refs++;
        pthread_mutex_unlock(&log->mu);
        int rc = sl_segment_find_position(seg, offset, from, limit, &from, err);
        int stop = 0;
        while (rc == 0 && !stop && from < limit) {
            uint8_t hdr[SL_BATCH_HEADER_SIZE];
            sl_batch_header_t h;
            if (limit - from < SL_BATCH_HEADER_SIZE || sl_pread_full(seg->log_fd, hdr, sizeof hdr, from)) {
                rc = sl_err_set(err, SL_B_EIO, "%s: read at %" PRId64 " failed", seg->path, from);
                break;
            }
            if ((rc = sl_batch_parse_header(hdr, sizeof hdr, &h, err)) != 0)
                break;
            stop = fn(arg, &h);
            from += (int64_t)sl_batch_size(&h);
        }
        pthread_mutex_lock(&log->mu);
        sl_plog_seg_release_locked(log, seg);
        pthread_mutex_unlock(&log->mu);
        if (rc || stop)
            return rc;
        offset = seg_end > offset ? seg_end : offset + 1;
    }
}
