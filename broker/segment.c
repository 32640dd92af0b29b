/* A log segment: one .log file of RecordBatch v2 batches exactly as stored on
 * the wire (base offsets assigned), plus its sparse indexes.  Holds creation,
 * opening with recovery (verify CRCs, truncate a torn tail, rebuild indexes),
 * appending, and locating a batch by offset.  The log file is the truth; the
 * indexes are caches that can always be rebuilt from it. */
#include "broker/plog.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

void sl_segment_file_name(const char *dir, int64_t base, const char *suffix, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%020" PRId64 "%s", dir, base, suffix);
}

int sl_pread_full(int fd, void *buf, size_t len, int64_t pos)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)pos);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return SL_B_EIO;
        }
        if (n == 0)
            return SL_B_ETRUNCATED;
        p += n;
        pos += n;
        len -= (size_t)n;
    }
    return 0;
}

static sl_segment_t *segment_new(int64_t base)
{
    sl_segment_t *seg = calloc(1, sizeof *seg);
    if (!seg)
        return NULL;
    seg->base_offset = seg->next_offset = base;
    seg->max_timestamp = seg->first_timestamp = -1;
    seg->max_ts_offset = base;
    seg->log_fd = -1;
    sl_index_init(&seg->idx);
    return seg;
}

void sl_segment_free(sl_segment_t *seg)
{
    if (!seg)
        return;
    if (seg->log_fd >= 0)
        close(seg->log_fd);
    sl_index_free(&seg->idx);
    free(seg);
}

void sl_segment_unlink(sl_segment_t *seg)
{
    char path[4200];
    size_t n = strlen(seg->path) - 4; /* strip ".log" */
    unlink(seg->path);
    snprintf(path, sizeof path, "%.*s.index", (int)n, seg->path);
    unlink(path);
    snprintf(path, sizeof path, "%.*s.timeindex", (int)n, seg->path);
    unlink(path);
}

/* Account one stored batch at `pos`: offsets, timestamps, and a sparse index
 * entry when index_interval bytes have passed since the last one. */
static int segment_track_batch(sl_segment_t *seg, int64_t pos, const sl_batch_header_t *h, int32_t interval,
                               sl_err_t *err)
{
    if (seg->first_timestamp < 0)
        seg->first_timestamp = h->max_timestamp;
    if (h->max_timestamp > seg->max_timestamp) {
        seg->max_timestamp = h->max_timestamp;
        seg->max_ts_offset = h->base_offset;
    }
    const sl_index_t *ix = &seg->idx;
    if (ix->noidx && ix->oidx[ix->noidx - 1].position == (uint32_t)pos) {
        seg->bytes_since_index = 0; /* already indexed (resuming after a trusted index) */
    } else if (seg->bytes_since_index >= interval) {
        uint32_t rel = (uint32_t)(h->base_offset - seg->base_offset);
        int rc = sl_index_add_offset(&seg->idx, rel, (uint32_t)pos, err);
        if (rc)
            return rc;
        if (seg->idx.ntidx == 0 || seg->max_timestamp > seg->idx.tidx[seg->idx.ntidx - 1].timestamp) {
            rc = sl_index_add_time(&seg->idx, seg->max_timestamp,
                                   (uint32_t)(seg->max_ts_offset - seg->base_offset), err);
            if (rc)
                return rc;
        }
        seg->bytes_since_index = 0;
    }
    seg->bytes_since_index += (int64_t)sl_batch_size(h);
    seg->next_offset = h->base_offset + h->last_offset_delta + 1;
    seg->size = pos + (int64_t)sl_batch_size(h);
    return 0;
}

int sl_segment_create(const char *dir, int64_t base_offset, sl_segment_t **out, sl_err_t *err)
{
    sl_segment_t *seg = segment_new(base_offset);
    if (!seg)
        return SL_B_ENOMEM;
    sl_segment_file_name(dir, base_offset, ".log", seg->path, sizeof seg->path);
    seg->log_fd = open(seg->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (seg->log_fd < 0) {
        int rc = sl_err_set(err, SL_B_EIO, "create %s: %s", seg->path, strerror(errno));
        sl_segment_free(seg);
        return rc;
    }
    int rc = sl_index_open(&seg->idx, seg->path, 0, err);
    if (rc >= 0)
        rc = sl_index_reset(&seg->idx, err);
    if (rc < 0) {
        sl_segment_free(seg);
        return rc;
    }
    *out = seg;
    return 0;
}

/* Why a batch at `pos` cannot be used, or 0 if it can.  With `verify` the
 * whole batch is read into `buf` and its CRC checked. */
static int check_batch(sl_segment_t *seg, int64_t pos, int64_t file_size, bool verify, sl_buf_t *buf,
                       sl_batch_header_t *h, sl_err_t *err)
{
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    if (file_size - pos < SL_BATCH_HEADER_SIZE)
        return sl_err_set(err, SL_B_ETRUNCATED, "partial batch header (%" PRId64 " bytes)", file_size - pos);
    if (sl_pread_full(seg->log_fd, hdr, sizeof hdr, pos))
        return sl_err_set(err, SL_B_EIO, "read: %s", strerror(errno));
    int rc = sl_batch_parse_header(hdr, sizeof hdr, h, err);
    if (rc)
        return rc;
    if ((int64_t)sl_batch_size(h) > file_size - pos)
        return sl_err_set(err, SL_B_ETRUNCATED, "batch of %zu bytes but only %" PRId64 " remain",
                          sl_batch_size(h), file_size - pos);
    if (h->base_offset < seg->next_offset || h->last_offset_delta < 0 ||
        h->base_offset - seg->base_offset + h->last_offset_delta > UINT32_MAX)
        return sl_err_set(err, SL_B_ECORRUPT, "batch offset %" PRId64 " out of sequence (expected >= %" PRId64 ")",
                          h->base_offset, seg->next_offset);
    if (!verify)
        return 0;
    sl_buf_reset(buf);
    if (sl_buf_reserve(buf, sl_batch_size(h)))
        return SL_B_ENOMEM;
    if (sl_pread_full(seg->log_fd, buf->data, sl_batch_size(h), pos))
        return sl_err_set(err, SL_B_EIO, "read: %s", strerror(errno));
    return sl_batch_validate(buf->data, sl_batch_size(h), h, err);
}

int sl_segment_scan(sl_segment_t *seg, int64_t pos, bool verify, int32_t index_interval, sl_err_t *err)
{
    struct stat st;
    if (fstat(seg->log_fd, &st) != 0)
        return sl_err_set(err, SL_B_EIO, "fstat %s: %s", seg->path, strerror(errno));
    int64_t file_size = st.st_size;
    sl_buf_t buf;
    sl_buf_init(&buf);
    int rc = 0;
    sl_err_t why = {0};
    while (pos < file_size) {
        sl_batch_header_t h;
        rc = check_batch(seg, pos, file_size, verify, &buf, &h, &why);
        if (rc == SL_B_EIO || rc == SL_B_ENOMEM) {
            sl_err_set(err, rc, "%s: %s", seg->path, why.msg);
            break;
        }
        if (rc) {
            if (verify) {
                sl_log(SL_WARN, "log", "%s: truncating %" PRId64 " bytes at position %" PRId64 " (offset %" PRId64
                       "): %s", seg->path, file_size - pos, pos, seg->next_offset, why.msg);
                if (ftruncate(seg->log_fd, (off_t)pos) != 0) {
                    rc = sl_err_set(err, SL_B_EIO, "truncate %s: %s", seg->path, strerror(errno));
                    break;
                }
                rc = sl_index_truncate(&seg->idx, pos, err);
            } else {
                sl_log(SL_ERROR, "log", "%s: corrupt batch at position %" PRId64 " (after offset %" PRId64
                       "): %s; the %" PRId64 " bytes from there are not served",
                       seg->path, pos, seg->next_offset - 1, why.msg, file_size - pos);
                rc = 0;
            }
            break;
        }
        rc = segment_track_batch(seg, pos, &h, index_interval, err);
        if (rc)
            break;
        pos += (int64_t)sl_batch_size(&h);
    }
    sl_buf_free(&buf);
    return rc;
}

int sl_segment_open(const char *dir, int64_t base_offset, bool recover, const sl_log_config_t *cfg,
                    sl_segment_t **out, sl_err_t *err)
{
    sl_segment_t *seg = segment_new(base_offset);
    if (!seg)
        return SL_B_ENOMEM;
    sl_segment_file_name(dir, base_offset, ".log", seg->path, sizeof seg->path);
    int rc;
    seg->log_fd = open(seg->path, O_RDWR | O_CLOEXEC);
    if (seg->log_fd < 0) {
        rc = sl_err_set(err, SL_B_EIO, "open %s: %s", seg->path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(seg->log_fd, &st) != 0) {
        rc = sl_err_set(err, SL_B_EIO, "fstat %s: %s", seg->path, strerror(errno));
        goto fail;
    }
    rc = sl_index_open(&seg->idx, seg->path, st.st_size, err);
    if (rc < 0)
        goto fail;
    if (rc == 0 && seg->idx.noidx) {
        /* The entries look sane; check the last one really points at the
         * batch it names (a cheap guard against plausible garbage). */
        const sl_oidx_entry_t *last = &seg->idx.oidx[seg->idx.noidx - 1];
        uint8_t b[8];
        if (sl_pread_full(seg->log_fd, b, sizeof b, last->position) != 0 ||
            (int64_t)sl_be64(b) != base_offset + last->rel_offset)
            rc = 1;
    }
    int64_t from = 0;
    if (rc == 1 || recover) {
        if (rc == 1 && !recover)
            sl_log(SL_WARN, "log", "%s: index missing or corrupt, rebuilding", seg->path);
        if ((rc = sl_index_reset(&seg->idx, err)) != 0)
            goto fail;
    } else if (seg->idx.noidx) {
        /* Trusted index: resume from its last entry; that batch is already
         * indexed, so the byte count restarts after it. */
        const sl_oidx_entry_t *last = &seg->idx.oidx[seg->idx.noidx - 1];
        from = last->position;
        seg->next_offset = base_offset + last->rel_offset;
        if (seg->idx.ntidx) {
            seg->max_timestamp = seg->idx.tidx[seg->idx.ntidx - 1].timestamp;
            seg->max_ts_offset = base_offset + seg->idx.tidx[seg->idx.ntidx - 1].rel_offset;
        }
        uint8_t hdr[SL_BATCH_HEADER_SIZE];
        sl_batch_header_t h;
        sl_err_t e2 = {0};
        if (sl_pread_full(seg->log_fd, hdr, sizeof hdr, 0) == 0 && sl_batch_parse_header(hdr, sizeof hdr, &h, &e2) == 0)
            seg->first_timestamp = h.max_timestamp;
    }
    rc = sl_segment_scan(seg, from, recover, cfg->index_interval_bytes, err);
    if (rc)
        goto fail;
    *out = seg;
    return 0;
fail:
    sl_segment_free(seg);
    return rc;
}

int sl_segment_append(sl_segment_t *seg, const uint8_t *p, size_t len, const sl_batch_header_t *h,
                      int32_t index_interval, sl_err_t *err)
{
    uint8_t base[8];
    sl_put_be64(base, (uint64_t)h->base_offset);
    struct iovec iov[2] = {{base, 8}, {(void *)(p + 8), len - 8}};
    int64_t pos = seg->size;
    size_t done = 0;
    while (done < len) {
        ssize_t n;
        if (done < 8) {
            iov[0].iov_base = base + done;
            iov[0].iov_len = 8 - done;
            n = pwritev(seg->log_fd, iov, 2, (off_t)(pos + (int64_t)done));
        } else {
            n = pwrite(seg->log_fd, p + done, len - done, (off_t)(pos + (int64_t)done));
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            if (ftruncate(seg->log_fd, (off_t)pos) != 0)
                sl_log(SL_ERROR, "log", "%s: cannot undo partial write: %s", seg->path, strerror(errno));
            return sl_err_set(err, SL_B_EIO, "write %s: %s", seg->path, strerror(e));
        }
        done += (size_t)n;
    }
    return segment_track_batch(seg, pos, h, index_interval, err);
}

int sl_segment_find_position(sl_segment_t *seg, int64_t offset, int64_t from, int64_t limit, int64_t *pos,
                             sl_err_t *err)
{
    uint8_t hdr[SL_BATCH_OFF_LAST_OFFSET_DELTA + 4];
    while (from < limit) {
        if (limit - from < SL_BATCH_HEADER_SIZE)
            return sl_err_set(err, SL_B_ECORRUPT, "%s: partial batch at position %" PRId64, seg->path, from);
        if (sl_pread_full(seg->log_fd, hdr, sizeof hdr, from))
            return sl_err_set(err, SL_B_EIO, "read %s: %s", seg->path, strerror(errno));
        int64_t b = (int64_t)sl_be64(hdr);
        int32_t blen = (int32_t)sl_be32(hdr + SL_BATCH_OFF_LENGTH);
        int32_t lod = (int32_t)sl_be32(hdr + SL_BATCH_OFF_LAST_OFFSET_DELTA);
        if (blen < SL_BATCH_HEADER_SIZE - SL_BATCH_LOG_OVERHEAD || blen > limit - from - SL_BATCH_LOG_OVERHEAD)
            return sl_err_set(err, SL_B_ECORRUPT, "%s: bad batch length %d at position %" PRId64, seg->path, blen,
                              from);
        if (b + lod >= offset)
            break;
        from += blen + SL_BATCH_LOG_OVERHEAD;
    }
    *pos = from;
    return 0;
}

int sl_segment_seal(sl_segment_t *seg, bool sync, sl_err_t *err)
{
    if (seg->max_timestamp >= 0 &&
        (seg->idx.ntidx == 0 || seg->max_timestamp > seg->idx.tidx[seg->idx.ntidx - 1].timestamp)) {
        int rc = sl_index_add_time(&seg->idx, seg->max_timestamp, (uint32_t)(seg->max_ts_offset - seg->base_offset),
                                   err);
        if (rc)
            return rc;
    }
    int rc = sl_index_flush(&seg->idx, err);
    if (rc)
        return rc;
    if (sync && (fdatasync(seg->log_fd) != 0 || sl_index_sync(&seg->idx) != 0))
        return sl_err_set(err, SL_B_EIO, "fdatasync %s: %s", seg->path, strerror(errno));
    return 0;
}
