/* Shared helpers for Sluice's C tests: temporary folders, recursive removal,
 * and building RecordBatch v2 batches of numbered records.  Header-only so
 * every test executable stays a single .c file. */
#ifndef SL_TESTUTIL_H
#define SL_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"

/* mkdtemp under /tmp; returns a malloc'd path (free it). */
static inline char *tu_mkdtemp(const char *tag)
{
    char *p = malloc(256);
    snprintf(p, 256, "/tmp/sluice-%s-XXXXXX", tag);
    if (!mkdtemp(p)) {
        perror("mkdtemp");
        abort();
    }
    return p;
}

static inline void tu_rmrf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[4400];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                tu_rmrf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Append to out one batch of n records: key "k<key_base+i>" (or the keys
 * given), value "v<value_base+i>", timestamps ts0 + i. */
static inline void tu_build_batch(sl_buf_t *out, int compression, int n, long key_base, long value_base,
                                  int64_t ts0)
{
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_batch_builder_begin(&b, compression, 0);
    for (int i = 0; i < n; i++) {
        char k[32], v[64];
        int kl = snprintf(k, sizeof k, "k%ld", key_base + i);
        int vl = snprintf(v, sizeof v, "v%ld", value_base + i);
        if (sl_batch_builder_add(&b, ts0 + i, k, kl, v, vl, NULL, 0) != 0)
            abort();
    }
    if (sl_batch_builder_finish(&b, out, NULL) != 0)
        abort();
    sl_batch_builder_free(&b);
}

/* Append one batch and return its base offset (aborts on failure). */
static inline int64_t tu_append(sl_plog_t *log, const sl_buf_t *batch, int64_t now_ms)
{
    sl_append_info_t info;
    sl_err_t err = {0};
    int rc = sl_plog_append(log, batch->data, batch->len, now_ms, &info, &err);
    if (rc) {
        fprintf(stderr, "append failed: %d %s\n", rc, err.msg);
        abort();
    }
    return info.base_offset;
}

/* Read every record from `from` to the log end, calling fn for each record
 * at or after `from`.  Returns the number of records seen, or <0. */
static inline long tu_read_all(sl_plog_t *log, int64_t from, void (*fn)(void *, const sl_record_t *), void *arg)
{
    sl_buf_t buf;
    sl_buf_init(&buf);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    long n = 0;
    int64_t off = from;
    for (;;) {
        sl_read_info_t info;
        sl_err_t err = {0};
        sl_buf_reset(&buf);
        int rc = sl_plog_read(log, off, 64 * 1024, &buf, &info, &err);
        if (rc) {
            n = rc;
            break;
        }
        if (info.batches == 0)
            break;
        size_t pos = 0;
        while (pos < buf.len) {
            sl_batch_header_t h;
            if (sl_batch_parse_header(buf.data + pos, buf.len - pos, &h, NULL) != 0)
                abort();
            size_t sz = sl_batch_size(&h);
            if (sl_batch_validate(buf.data + pos, sz, &h, &err) != 0) {
                fprintf(stderr, "invalid batch read back: %s\n", err.msg);
                abort();
            }
            if (sl_batch_iter_start(&it, buf.data + pos, sz, &err) != 0)
                abort();
            sl_record_t r;
            while (sl_batch_iter_next(&it, &r, &err) == 1) {
                if (r.offset < from)
                    continue;
                if (fn)
                    fn(arg, &r);
                n++;
            }
            pos += sz;
        }
        off = info.next_offset;
    }
    sl_batch_iter_free(&it);
    sl_buf_free(&buf);
    return n;
}

#endif
