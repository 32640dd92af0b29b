/* Group commit for a partition log.  One flusher thread per log runs
 * fdatasync on the active segment whenever the policy says so; every append
 * and every waiter that arrived before a sync started shares that one sync.
 * Waiters (acks=all produce requests) register a callback for "offsets below
 * N are on disk" and are answered from this thread, outside the log lock.
 * An fdatasync failure is sticky (the log turns read-only): after a failed
 * fsync the page cache state is unknown, so acknowledging anything later would
 * be a lie. */
#include "broker/plog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void) { return sl_mono_ns() / 1000000; }

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Take the waiters that can be answered now out of the list (mu held), each
 * with its status: on disk (0), or never will be (EIO, ECLOSED). */
static size_t take_ready(sl_plog_t *log, sl_waiter_t *ready, int *status, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < log->nwaiters && n < cap;) {
        int st = log->waiters[i].end_offset <= log->durable_offset ? 0
                 : log->sync_error                                 ? SL_B_EIO
                 : log->closing                                    ? SL_B_ECLOSED
                                                                   : 1;
        if (st <= 0) {
            status[n] = st;
            ready[n++] = log->waiters[i];
            log->waiters[i] = log->waiters[--log->nwaiters];
        } else {
            i++;
        }
    }
    return n;
}

/* What the flusher has dropped from the page cache: the segment (by base
 * offset) and the position below which its pages were released. */
typedef struct dropped {
    int64_t seg_base, pos;
} dropped_t;

/* After a sync, release the pages of the active segment that are more than
 * `tail` bytes behind its end (page.cache.tail.bytes).  They are clean then,
 * so the kernel frees them at once: a log written at full speed keeps a
 * bounded tail in memory for the readers that follow it instead of pushing
 * the state stores' pages (and everything else) out of the cache; a reader
 * that falls further behind reads from disk with read-ahead.  Done in steps
 * of at least 1 MiB, and never for tail -1 (all left to the OS). */
static void drop_cached(int fd, int64_t seg_base, int64_t end_pos, int64_t tail, dropped_t *d)
{
    if (tail < 0)
        return;
    if (d->seg_base != seg_base)
        *d = (dropped_t){seg_base, 0};
    int64_t upto = end_pos - tail;
    if (upto - d->pos < (1 << 20))
        return;
#ifdef POSIX_FADV_DONTNEED
    if (posix_fadvise(fd, d->pos, upto - d->pos, POSIX_FADV_DONTNEED) == 0)
        d->pos = upto;
#else
    (void)fd;
#endif
}

static bool sync_due(sl_plog_t *log, int64_t end, int64_t *wait_ms)
{
    *wait_ms = -1;
    if (end <= log->durable_offset || log->sync_error)
        return false;
    switch (log->cfg.flush_policy) {
    case SL_FLUSH_EVERY_BATCH:
        return true;
    case SL_FLUSH_INTERVAL: {
        int64_t due = log->last_flush_ms + log->cfg.flush_ms - mono_ms();
        if (due <= 0)
            return true;
        *wait_ms = due;
        return false;
    }
    default:
        return false;
    }
}

static void *flusher_main(void *arg)
{
    sl_plog_t *log = arg;
    sl_waiter_t ready[64];
    int status[64];
    dropped_t dropped = {-1, 0};
    pthread_mutex_lock(&log->mu);
    for (;;) {
        size_t n = take_ready(log, ready, status, 64);
        if (n) {
            pthread_mutex_unlock(&log->mu);
            for (size_t i = 0; i < n; i++)
                ready[i].cb(ready[i].arg, status[i]);
            pthread_mutex_lock(&log->mu);
            continue;
        }
        if (log->closing)
            break;
        sl_segment_t *seg = log->segs[log->nsegs - 1];
        int64_t end = seg->next_offset, wait_ms;
        if (!sync_due(log, end, &wait_ms)) {
            if (wait_ms >= 0) {
                struct timespec ts;
                deadline_after(&ts, wait_ms);
                pthread_cond_timedwait(&log->flush_cond, &log->mu, &ts);
            } else {
                pthread_cond_wait(&log->flush_cond, &log->mu);
            }
            continue;
        }
        int64_t end_pos = seg->size, seg_base = seg->base_offset, tail = log->cfg.cache_tail_bytes;
        int fd = dup(seg->log_fd); /* the segment may be rolled and deleted meanwhile */
        pthread_mutex_unlock(&log->mu);
        int rc = fd < 0 ? -1 : fdatasync(fd);
        int e = errno;
        if (fd >= 0 && rc == 0)
            drop_cached(fd, seg_base, end_pos, tail, &dropped);
        if (fd >= 0)
            close(fd);
        pthread_mutex_lock(&log->mu);
        log->syncs++;
        log->last_flush_ms = mono_ms();
        if (rc != 0) {
            sl_log(SL_ERROR, "log", "%s: fdatasync failed: %s; the log is now read-only", log->dir, strerror(e));
            log->sync_error = SL_B_EIO;
        } else if (end > log->durable_offset) {
            log->durable_offset = end;
            if (log->segs[log->nsegs - 1]->base_offset == seg_base) /* not rolled meanwhile */
                log->durable_pos = end_pos;
        }
        pthread_cond_broadcast(&log->durable_cond);
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}

int sl_flusher_start(sl_plog_t *log, sl_err_t *err)
{
    log->last_flush_ms = mono_ms();
    int rc = pthread_create(&log->flusher, NULL, flusher_main, log);
    if (rc)
        return sl_err_set(err, SL_B_EIO, "pthread_create: %s", strerror(rc));
    log->flusher_started = true;
    return 0;
}

void sl_flusher_stop(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    /* A final sync so that waiters for appended data get success, not ECLOSED. */
    sl_segment_t *seg = log->segs[log->nsegs - 1];
    if (!log->sync_error && seg->next_offset > log->durable_offset) {
        if (fdatasync(seg->log_fd) == 0) {
            log->durable_offset = seg->next_offset;
            log->durable_pos = seg->size;
        }
        else
            log->sync_error = SL_B_EIO;
    }
    log->closing = true;
    pthread_cond_broadcast(&log->flush_cond);
    pthread_cond_broadcast(&log->durable_cond);
    pthread_mutex_unlock(&log->mu);
    if (log->flusher_started)
        pthread_join(log->flusher, NULL);
    log->flusher_started = false;
}

void sl_flusher_notify_locked(sl_plog_t *log)
{
    if (log->cfg.flush_policy == SL_FLUSH_EVERY_BATCH || log->nwaiters)
        pthread_cond_signal(&log->flush_cond);
}

int sl_plog_on_durable(sl_plog_t *log, int64_t end_offset, sl_durable_cb cb, void *arg)
{
    pthread_mutex_lock(&log->mu);
    int status = 0;
    bool now = true;
    if (log->sync_error)
        status = SL_B_EIO;
    else if (end_offset <= log->durable_offset || log->cfg.flush_policy == SL_FLUSH_NEVER)
        status = 0;
    else if (log->closing)
        status = SL_B_ECLOSED;
    else
        now = false;
    if (!now) {
        if (log->nwaiters == log->waiters_cap) {
            size_t cap = log->waiters_cap ? log->waiters_cap * 2 : 16;
            sl_waiter_t *w = realloc(log->waiters, cap * sizeof *w);
            if (!w) {
                pthread_mutex_unlock(&log->mu);
                return SL_B_ENOMEM;
            }
            log->waiters = w;
            log->waiters_cap = cap;
        }
        log->waiters[log->nwaiters++] = (sl_waiter_t){end_offset, cb, arg};
        pthread_cond_signal(&log->flush_cond);
    }
    pthread_mutex_unlock(&log->mu);
    if (now)
        cb(arg, status);
    return 0;
}

int sl_plog_wait_durable(sl_plog_t *log, int64_t end_offset, int64_t timeout_ms)
{
    struct timespec deadline;
    deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&log->mu);
    int rc = 0;
    if (log->cfg.flush_policy != SL_FLUSH_NEVER) {
        pthread_cond_signal(&log->flush_cond);
        while (log->durable_offset < end_offset && !log->sync_error && !log->closing) {
            if (pthread_cond_timedwait(&log->durable_cond, &log->mu, &deadline) == ETIMEDOUT) {
                rc = SL_B_ETIMEDOUT;
                break;
            }
        }
        if (log->durable_offset < end_offset && rc == 0)
            rc = log->sync_error ? SL_B_EIO : SL_B_ECLOSED;
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int sl_plog_flush(sl_plog_t *log)
{
    pthread_mutex_lock(&log->mu);
    if (log->sync_error) {
        pthread_mutex_unlock(&log->mu);
        return SL_B_EIO;
    }
    sl_segment_t *seg = log->segs[log->nsegs - 1];
    int64_t end = seg->next_offset, end_pos = seg->size, seg_base = seg->base_offset;
    int fd = dup(seg->log_fd);
    pthread_mutex_unlock(&log->mu);
    int rc = fd < 0 ? -1 : fdatasync(fd);
    if (fd >= 0)
        close(fd);
    pthread_mutex_lock(&log->mu);
    log->syncs++;
    if (rc != 0) {
        log->sync_error = SL_B_EIO;
    } else if (end > log->durable_offset) {
        log->durable_offset = end;
        if (log->segs[log->nsegs - 1]->base_offset == seg_base)
            log->durable_pos = end_pos;
        pthread_cond_signal(&log->flush_cond);
    }
    pthread_cond_broadcast(&log->durable_cond);
    pthread_mutex_unlock(&log->mu);
    return rc ? SL_B_EIO : 0;
}
