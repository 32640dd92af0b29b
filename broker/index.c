/* The sparse offset index (.index) and time index (.timeindex) of a segment.
 * Entries live in memory (8 and 12 bytes per index_interval_bytes of log, so
 * ~2 MiB for a full 1 GiB segment) and are appended to their files as they are
 * made.  Files are only trusted after a clean shutdown and a sanity check; any
 * doubt and the caller rebuilds them from the log, which is the truth. */
#include "broker/plog.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

void sl_index_init(sl_index_t *idx)
{
    memset(idx, 0, sizeof *idx);
    idx->oidx_fd = idx->tidx_fd = -1;
}

void sl_index_free(sl_index_t *idx)
{
    free(idx->oidx);
    free(idx->tidx);
    if (idx->oidx_fd >= 0)
        close(idx->oidx_fd);
    if (idx->tidx_fd >= 0)
        close(idx->tidx_fd);
    sl_index_init(idx);
}

static int read_whole(int fd, sl_buf_t *b, sl_err_t *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return sl_err_set(err, SL_B_EIO, "fstat index: %s", strerror(errno));
    sl_buf_reset(b);
    if (st.st_size == 0)
        return 0;
    if (sl_buf_reserve(b, (size_t)st.st_size))
        return SL_B_ENOMEM;
    int rc = sl_pread_full(fd, b->data, (size_t)st.st_size, 0);
    if (rc == SL_B_ETRUNCATED)
        return 1;
    if (rc)
        return sl_err_set(err, SL_B_EIO, "read index: %s", strerror(errno));
    b->len = (size_t)st.st_size;
    return 0;
}

static int push_offset(sl_index_t *idx, uint32_t rel_offset, uint32_t position);
static int push_time(sl_index_t *idx, int64_t ts, uint32_t rel_offset);

/* Load entries from the two files and check them: whole entries, strictly
 * increasing offsets and positions inside the log, non-decreasing times. */
static int load(sl_index_t *idx, int64_t log_size, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b);
    int rc = read_whole(idx->oidx_fd, &b, err);
    if (rc)
        goto out;
    if (b.len % SL_OIDX_ENTRY_SIZE) {
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < b.len; i += SL_OIDX_ENTRY_SIZE) {
        uint32_t ro = sl_be32(b.data + i), pos = sl_be32(b.data + i + 4);
        if ((int64_t)pos >= log_size ||
            (idx->noidx && (ro <= idx->oidx[idx->noidx - 1].rel_offset ||
                            pos <= idx->oidx[idx->noidx - 1].position))) {
            rc = 1;
            goto out;
        }
        if ((rc = push_offset(idx, ro, pos)) != 0)
            goto out;
    }
    rc = read_whole(idx->tidx_fd, &b, err);
    if (rc)
        goto out;
    if (b.len % SL_TIDX_ENTRY_SIZE) {
        rc = 1;
        goto out;
    }
    for (size_t i = 0; i < b.len; i += SL_TIDX_ENTRY_SIZE) {
        int64_t ts = (int64_t)sl_be64(b.data + i);
        uint32_t ro = sl_be32(b.data + i + 8);
        if (idx->ntidx && (ts < idx->tidx[idx->ntidx - 1].timestamp || ro < idx->tidx[idx->ntidx - 1].rel_offset)) {
            rc = 1;
            goto out;
        }
        if ((rc = push_time(idx, ts, ro)) != 0)
            goto out;
    }
out:
    sl_buf_free(&b);
    if (rc == 1)
        idx->noidx = idx->ntidx = 0;
    idx->oidx_written = idx->noidx;
    idx->tidx_written = idx->ntidx;
    return rc;
}

int sl_index_open(sl_index_t *idx, const char *log_path, int64_t log_size, sl_err_t *err)
{
    char path[4200];
    size_t n = strlen(log_path);
    if (n < 4 || n > 4000)
        return sl_err_set(err, SL_B_EINVAL, "bad segment path %s", log_path);
    int missing = 0;
    snprintf(path, sizeof path, "%.*s.index", (int)(n - 4), log_path);
    if (access(path, F_OK) != 0)
        missing = 1;
    idx->oidx_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (idx->oidx_fd < 0)
        return sl_err_set(err, SL_B_EIO, "open %s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%.*s.timeindex", (int)(n - 4), log_path);
    if (access(path, F_OK) != 0)
        missing = 1;
    idx->tidx_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (idx->tidx_fd < 0)
        return sl_err_set(err, SL_B_EIO, "open %s: %s", path, strerror(errno));
    if (missing)
        return 1;
    return load(idx, log_size, err);
}

int sl_index_reset(sl_index_t *idx, sl_err_t *err)
{
    idx->noidx = idx->ntidx = 0;
    idx->oidx_written = idx->tidx_written = 0;
    if (ftruncate(idx->oidx_fd, 0) != 0 || ftruncate(idx->tidx_fd, 0) != 0)
        return sl_err_set(err, SL_B_EIO, "truncate index: %s", strerror(errno));
    return 0;
}

int sl_index_truncate(sl_index_t *idx, int64_t pos, sl_err_t *err)
{
    size_t n = idx->noidx;
    while (n && (int64_t)idx->oidx[n - 1].position >= pos)
        n--;
    uint32_t max_ro = n ? idx->oidx[n - 1].rel_offset : 0;
    size_t t = idx->ntidx;
    while (t && (n == 0 || idx->tidx[t - 1].rel_offset > max_ro))
        t--;
    idx->noidx = n;
    idx->ntidx = t;
    if (idx->oidx_written > n)
        idx->oidx_written = n;
    if (idx->tidx_written > t)
        idx->tidx_written = t;
    if (ftruncate(idx->oidx_fd, (off_t)(n * SL_OIDX_ENTRY_SIZE)) != 0 ||
        ftruncate(idx->tidx_fd, (off_t)(t * SL_TIDX_ENTRY_SIZE)) != 0)
        return sl_err_set(err, SL_B_EIO, "truncate index: %s", strerror(errno));
    return 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return SL_B_ENOMEM;
    *arr = p;
    *cap = c;
    return 0;
}

static int push_offset(sl_index_t *idx, uint32_t rel_offset, uint32_t position)
{
    if (grow((void **)&idx->oidx, &idx->oidx_cap, idx->noidx + 1, sizeof *idx->oidx))
        return SL_B_ENOMEM;
    idx->oidx[idx->noidx++] = (sl_oidx_entry_t){rel_offset, position};
    return 0;
}

static int push_time(sl_index_t *idx, int64_t ts, uint32_t rel_offset)
{
    if (grow((void **)&idx->tidx, &idx->tidx_cap, idx->ntidx + 1, sizeof *idx->tidx))
        return SL_B_ENOMEM;
    idx->tidx[idx->ntidx++] = (sl_tidx_entry_t){ts, rel_offset};
    return 0;
}

#define FLUSH_EVERY 256 /* entries buffered before a write */

int sl_index_flush(sl_index_t *idx, sl_err_t *err)
{
    uint8_t buf[FLUSH_EVERY * SL_TIDX_ENTRY_SIZE];
    while (idx->oidx_written < idx->noidx) {
        size_t n = idx->noidx - idx->oidx_written, at = idx->oidx_written;
        if (n > FLUSH_EVERY)
            n = FLUSH_EVERY;
        for (size_t i = 0; i < n; i++) {
            sl_put_be32(buf + i * SL_OIDX_ENTRY_SIZE, idx->oidx[at + i].rel_offset);
            sl_put_be32(buf + i * SL_OIDX_ENTRY_SIZE + 4, idx->oidx[at + i].position);
        }
        size_t len = n * SL_OIDX_ENTRY_SIZE;
        if (pwrite(idx->oidx_fd, buf, len, (off_t)(at * SL_OIDX_ENTRY_SIZE)) != (ssize_t)len)
            return sl_err_set(err, SL_B_EIO, "write offset index: %s", strerror(errno));
        idx->oidx_written += n;
    }
    while (idx->tidx_written < idx->ntidx) {
        size_t n = idx->ntidx - idx->tidx_written, at = idx->tidx_written;
        if (n > FLUSH_EVERY)
            n = FLUSH_EVERY;
        for (size_t i = 0; i < n; i++) {
            sl_put_be64(buf + i * SL_TIDX_ENTRY_SIZE, (uint64_t)idx->tidx[at + i].timestamp);
            sl_put_be32(buf + i * SL_TIDX_ENTRY_SIZE + 8, idx->tidx[at + i].rel_offset);
        }
        size_t len = n * SL_TIDX_ENTRY_SIZE;
        if (pwrite(idx->tidx_fd, buf, len, (off_t)(at * SL_TIDX_ENTRY_SIZE)) != (ssize_t)len)
            return sl_err_set(err, SL_B_EIO, "write time index: %s", strerror(errno));
        idx->tidx_written += n;
    }
    return 0;
}

int sl_index_add_offset(sl_index_t *idx, uint32_t rel_offset, uint32_t position, sl_err_t *err)
{
    int rc = push_offset(idx, rel_offset, position);
    if (rc == 0 && idx->noidx - idx->oidx_written >= FLUSH_EVERY)
        rc = sl_index_flush(idx, err);
    return rc;
}

int sl_index_add_time(sl_index_t *idx, int64_t ts, uint32_t rel_offset, sl_err_t *err)
{
    int rc = push_time(idx, ts, rel_offset);
    if (rc == 0 && idx->ntidx - idx->tidx_written >= FLUSH_EVERY)
        rc = sl_index_flush(idx, err);
    return rc;
}

uint32_t sl_index_lookup_offset(const sl_index_t *idx, uint32_t rel_target)
{
    size_t lo = 0, hi = idx->noidx; /* first entry with rel_offset > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->oidx[mid].rel_offset <= rel_target)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? idx->oidx[lo - 1].position : 0;
}

int64_t sl_index_lookup_time(const sl_index_t *idx, int64_t ts)
{
    size_t lo = 0, hi = idx->ntidx; /* first entry with timestamp >= ts */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->tidx[mid].timestamp < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? (int64_t)idx->tidx[lo - 1].rel_offset : -1;
}

int sl_index_sync(sl_index_t *idx)
{
    if (sl_index_flush(idx, NULL) != 0)
        return SL_B_EIO;
    if (fdatasync(idx->oidx_fd) != 0 || fdatasync(idx->tidx_fd) != 0)
        return SL_B_EIO;
    return 0;
}
