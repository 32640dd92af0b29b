/* Randomised model test of the partition log: thousands of appends (random
 * record counts, sizes and none/zstd compression), reads at random offsets and
 * max_bytes, rolls, size retention and close/reopen, each checked against a
 * plain in-memory model (records by offset plus batch boundaries).  Seeded:
 * the seed is printed and SL_SEED replays a run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"

#define OPS 5000
#define SEGMENT_BYTES (32 * 1024)
#define RETENTION_BYTES (160 * 1024)
#define MAX_BATCH_BYTES (256 * 1024) /* what the generator can produce, at most */
#define T0 1700000000000LL

/* Record contents are a function of (seed, offset); the model keeps only the
 * shape.  Timestamps are T0 + offset, so offset_for_time is exact. */
typedef struct mrec {
    int32_t value_len; /* -1: null value */
    int8_t nheaders;
} mrec_t;

typedef struct mbatch {
    int64_t base, last;
    size_t size;
} mbatch_t;

typedef struct model {
    uint64_t seed;
    mrec_t *recs; /* by offset, from 0 */
    size_t recs_cap;
    mbatch_t *batches;
    size_t nbatches, batches_cap;
    size_t first; /* first batch at or above the log start */
    int64_t start, end;
} model_t;

typedef struct harness {
    char root[PATH_MAX];
    char dir[PATH_MAX + 16];
    sl_log_config_t cfg;
    sl_plog_t *log;
    model_t m;
    uint64_t rng;
    int active_nonempty; /* -1 unknown, 0, 1: whether a roll must add a segment */
    sl_buf_t out;
    sl_batch_iter_t it;
    sl_batch_builder_t bld;
    /* counters for the summary line */
    long appends, reads, ranges, rolls, maintains, deleted_segments, reopens, times, scans;
} harness_t;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_next(uint64_t *s) { return mix64(*s += 0x9e3779b97f4a7c15ull); }

static uint32_t rng_range(uint64_t *s, uint32_t lo, uint32_t hi) /* inclusive */
{
    return lo + (uint32_t)(rng_next(s) % ((uint64_t)hi - lo + 1));
}

/* ---- record contents ------------------------------------------------------------- */

static bool key_null(int64_t o) { return o % 4 == 0; }

static int key_of(int64_t o, char *buf, size_t cap) { return snprintf(buf, cap, "key-%" PRId64, o); }

static void value_of(const model_t *m, int64_t o, uint8_t *v, int32_t len)
{
    uint64_t s = m->seed ^ ((uint64_t)o * 0x2545f4914f6cdd1dull);
    for (int32_t i = 0; i < len; i += 8) {
        uint64_t x = rng_next(&s);
        for (int32_t j = i; j < len && j < i + 8; j++, x >>= 8)
            v[j] = j % 128 < 64 ? (uint8_t)('a' + (o + j) % 16) : (uint8_t)x; /* partly compressible */
    }
}

static void check_record(harness_t *h, const sl_record_t *rec)
{
    const model_t *m = &h->m;
    assert_true(rec->offset >= 0 && rec->offset < m->end);
    const mrec_t *mr = &m->recs[rec->offset];
    assert_int_equal(rec->timestamp, T0 + rec->offset);
    if (key_null(rec->offset)) {
        assert_int_equal(rec->key_len, -1);
    } else {
        char key[32];
        int klen = key_of(rec->offset, key, sizeof key);
        assert_int_equal(rec->key_len, klen);
        assert_memory_equal(rec->key, key, (size_t)klen);
    }
    assert_int_equal(rec->value_len, mr->value_len);
    if (mr->value_len > 0) {
        static uint8_t v[16384];
        value_of(m, rec->offset, v, mr->value_len);
        assert_memory_equal(rec->value, v, (size_t)mr->value_len);
    }
    assert_int_equal(rec->header_count, mr->nheaders);
    size_t pos = 0;
    int32_t index = 0;
    sl_header_t hd;
    for (int i = 0; i < mr->nheaders; i++) {
        assert_int_equal(sl_record_header_next(rec, &pos, &index, &hd), 1);
        char hk[8];
        int hklen = snprintf(hk, sizeof hk, "h%d", i);
        assert_int_equal(hd.key_len, hklen);
        assert_memory_equal(hd.key, hk, (size_t)hklen);
        assert_int_equal(hd.value_len, 8);
        assert_int_equal((int64_t)sl_be64(hd.value), rec->offset);
    }
    assert_int_equal(sl_record_header_next(rec, &pos, &index, &hd), 0);
}

/* ---- model ---------------------------------------------------------------------------- */

/* Index of the batch containing offset (start <= offset < end). */
static size_t model_batch_of(const model_t *m, int64_t offset)
{
    size_t lo = m->first, hi = m->nbatches;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->batches[mid].base <= offset)
            lo = mid;
        else
            hi = mid;
    }
    assert_true(m->batches[lo].base <= offset && offset <= m->batches[lo].last);
    return lo;
}

static int64_t model_bytes(const model_t *m)
{
    int64_t n = 0;
    for (size_t i = m->first; i < m->nbatches; i++)
        n += (int64_t)m->batches[i].size;
    return n;
}

/* ---- operations -------------------------------------------------------------------------- */

static void op_append(harness_t *h)
{
    model_t *m = &h->m;
    uint32_t r = rng_range(&h->rng, 0, 99);
    uint32_t n, vmax;
    if (r < 70) {
        n = rng_range(&h->rng, 1, 10), vmax = 100;
    } else if (r < 95) {
        n = rng_range(&h->rng, 10, 100), vmax = 1000;
    } else if (r < 98) {
        n = rng_range(&h->rng, 100, 500), vmax = 50;
    } else {
        n = rng_range(&h->rng, 1, 20), vmax = 10000; /* up to ~200 KiB: larger than a segment */
    }
    int codec = rng_range(&h->rng, 0, 1) ? SL_COMPRESSION_ZSTD : SL_COMPRESSION_NONE;
    int64_t base = m->end;
    if ((size_t)(base + n) > m->recs_cap) {
        m->recs_cap = (m->recs_cap + n) * 2;
        m->recs = realloc(m->recs, m->recs_cap * sizeof *m->recs);
        assert_non_null(m->recs);
    }
    sl_batch_builder_begin(&h->bld, codec, 0);
    static uint8_t v[16384];
    for (uint32_t i = 0; i < n; i++) {
        int64_t o = base + i;
        mrec_t *mr = &m->recs[o];
        mr->value_len = rng_range(&h->rng, 0, 19) == 0 ? -1 : (int32_t)rng_range(&h->rng, 0, vmax);
        mr->nheaders = (int8_t)(rng_range(&h->rng, 0, 3) == 0 ? rng_range(&h->rng, 1, 2) : 0);
        if (mr->value_len > 0)
            value_of(m, o, v, mr->value_len);
        char key[32];
        int klen = key_of(o, key, sizeof key);
        uint8_t hv[8];
        sl_put_be64(hv, (uint64_t)o);
        sl_header_t hdrs[2] = {{(const uint8_t *)"h0", 2, hv, 8}, {(const uint8_t *)"h1", 2, hv, 8}};
        assert_int_equal(sl_batch_builder_add(&h->bld, T0 + o, key_null(o) ? NULL : key, key_null(o) ? -1 : klen,
                                              mr->value_len < 0 ? NULL : v, mr->value_len, hdrs, mr->nheaders),
                         0);
    }
    sl_buf_t batch;
    sl_buf_init(&batch);
    sl_err_t err = {0};
    assert_int_equal(sl_batch_builder_finish(&h->bld, &batch, &err), 0);
    assert_true(batch.len <= MAX_BATCH_BYTES);
    sl_append_info_t info;
    int rc = sl_plog_append(h->log, batch.data, batch.len, T0 + base, &info, &err);
    if (rc)
        fail_msg("append of %u records (%zu bytes): %d %s", n, batch.len, rc, err.msg);
    assert_int_equal(info.base_offset, base);
    assert_int_equal(info.last_offset, base + n - 1);
    assert_int_equal(info.record_count, (int32_t)n);
    assert_int_equal(info.max_timestamp, T0 + base + n - 1);
    if (m->nbatches == m->batches_cap) {
        m->batches_cap = m->batches_cap ? m->batches_cap * 2 : 256;
        m->batches = realloc(m->batches, m->batches_cap * sizeof *m->batches);
        assert_non_null(m->batches);
    }
    m->batches[m->nbatches++] = (mbatch_t){base, base + n - 1, batch.len};
    m->end = base + n;
    sl_buf_free(&batch);
    assert_int_equal(sl_plog_end_offset(h->log), m->end);
    h->active_nonempty = 1;
    h->appends++;
}

/* Whether a segment file <base>.log exists in the partition folder. */
static bool segment_starts_at(const harness_t *h, int64_t base)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%020" PRId64 ".log", h->dir, base);
    return access(path, F_OK) == 0;
}

/* Check a read's output against the model: whole consecutive batches from the
 * one containing `offset`, each valid, records exact, max_bytes respected. */
static void check_read_output(harness_t *h, int64_t offset, size_t max_bytes, const sl_read_info_t *info)
{
    const model_t *m = &h->m;
    size_t bi = model_batch_of(m, offset);
    assert_int_equal(info->first_offset, m->batches[bi].base);
    assert_true(info->batches >= 1);
    size_t pos = 0;
    sl_err_t err = {0};
    for (int k = 0; k < info->batches; k++, bi++) {
        assert_true(bi < m->nbatches);
        const mbatch_t *mb = &m->batches[bi];
        sl_batch_header_t hdr;
        assert_true(h->out.len - pos >= mb->size);
        assert_int_equal(sl_batch_validate(h->out.data + pos, mb->size, &hdr, &err), 0);
        assert_int_equal(hdr.base_offset, mb->base);
        assert_int_equal(hdr.base_offset + hdr.last_offset_delta, mb->last);
        assert_int_equal(sl_batch_iter_start(&h->it, h->out.data + pos, mb->size, &err), 0);
        sl_record_t rec;
        int64_t expect = mb->base;
        int rc;
        while ((rc = sl_batch_iter_next(&h->it, &rec, &err)) == 1) {
            assert_int_equal(rec.offset, expect++);
            check_record(h, &rec);
        }
        assert_int_equal(rc, 0);
        assert_int_equal(expect, mb->last + 1);
        pos += mb->size;
    }
    assert_int_equal(pos, h->out.len);
    assert_int_equal(info->next_offset, bi < m->nbatches ? m->batches[bi].base : m->end);
    assert_true(info->batches == 1 || h->out.len <= max_bytes);
    /* Stopped because the next batch would not fit, or (as Kafka) at the end
     * of a segment: the next batch then starts a segment file. */
    if (bi < m->nbatches && h->out.len + m->batches[bi].size <= max_bytes && !segment_starts_at(h, m->batches[bi].base))
        fail_msg("read(%" PRId64 ", %zu) stopped before batch %" PRId64 " (%zu bytes) with %zu bytes returned",
                 offset, max_bytes, m->batches[bi].base, m->batches[bi].size, h->out.len);
}

static void op_read(harness_t *h)
{
    model_t *m = &h->m;
    size_t max_bytes = rng_range(&h->rng, 0, 9) == 0 ? rng_range(&h->rng, 1, 1 << 20)
                                                     : rng_range(&h->rng, 1, 64 * 1024);
    uint32_t r = rng_range(&h->rng, 0, 99);
    int64_t offset;
    int expect_rc = 0;
    if (r < 8 && m->start > 0) {
        offset = (int64_t)(rng_next(&h->rng) % (uint64_t)m->start);
        expect_rc = SL_B_ERANGE;
    } else if (r < 12) {
        offset = m->end + 1 + rng_range(&h->rng, 0, 100);
        expect_rc = SL_B_ERANGE;
    } else if (r < 16 || m->start == m->end) {
        offset = m->end;
    } else {
        offset = m->start + (int64_t)(rng_next(&h->rng) % (uint64_t)(m->end - m->start));
    }
    sl_read_info_t info;
    sl_err_t err = {0};
    sl_buf_reset(&h->out);
    int rc = sl_plog_read(h->log, offset, max_bytes, &h->out, &info, &err);
    if (rc != expect_rc)
        fail_msg("read(%" PRId64 ", %zu) in [%" PRId64 ", %" PRId64 "]: %d, expected %d (%s)", offset, max_bytes,
                 m->start, m->end, rc, expect_rc, err.msg);
    if (rc) {
        h->ranges++;
        return;
    }
    if (offset == m->end) {
        assert_int_equal(h->out.len, 0);
        assert_int_equal(info.batches, 0);
    } else {
        check_read_output(h, offset, max_bytes, &info);
    }
    h->reads++;
}

/* Read the whole log from its start and compare with the model. */
static void full_scan(harness_t *h)
{
    model_t *m = &h->m;
    assert_int_equal(sl_plog_start_offset(h->log), m->start);
    assert_int_equal(sl_plog_end_offset(h->log), m->end);
    assert_int_equal(sl_plog_size_bytes(h->log), model_bytes(m));
    int64_t next = m->start;
    while (next < m->end) {
        sl_read_info_t info;
        sl_err_t err = {0};
        sl_buf_reset(&h->out);
        assert_int_equal(sl_plog_read(h->log, next, 256 * 1024, &h->out, &info, &err), 0);
        check_read_output(h, next, 256 * 1024, &info);
        next = info.next_offset;
    }
    h->scans++;
}

static void op_roll(harness_t *h)
{
    int before = sl_plog_segment_count(h->log);
    assert_int_equal(sl_plog_roll(h->log, T0 + h->m.end), 0);
    int after = sl_plog_segment_count(h->log);
    if (h->active_nonempty == 1)
        assert_int_equal(after, before + 1);
    else
        assert_true(after >= before);
    h->active_nonempty = 0;
    h->rolls++;
}

static void op_maintain(harness_t *h)
{
    model_t *m = &h->m;
    int segs_before = sl_plog_segment_count(h->log);
    sl_err_t err = {0};
    int n = sl_plog_maintain(h->log, T0 + m->end, &err);
    if (n < 0)
        fail_msg("maintain: %d %s", n, err.msg);
    int64_t start = sl_plog_start_offset(h->log);
    assert_true(start >= m->start && start <= m->end);
    assert_int_equal(sl_plog_segment_count(h->log), segs_before - n);
    if (n == 0) {
        assert_int_equal(start, m->start);
    } else {
        assert_true(start > m->start);
        /* Whole segments went: the new start is a batch boundary. */
        while (m->first < m->nbatches && m->batches[m->first].base < start)
            m->first++;
        assert_true(m->first == m->nbatches ? start == m->end : m->batches[m->first].base == start);
        m->start = start;
        h->deleted_segments += n;
    }
    /* Size retention: what is left exceeds the limit by less than one segment. */
    int64_t bytes = sl_plog_size_bytes(h->log);
    assert_int_equal(bytes, model_bytes(m));
    assert_true(bytes <= RETENTION_BYTES + SEGMENT_BYTES + MAX_BATCH_BYTES);
    /* Everything below the start is gone; the start itself reads. */
    sl_read_info_t info;
    sl_buf_reset(&h->out);
    if (m->start > 0) {
        assert_int_equal(sl_plog_read(h->log, m->start - 1, 1, &h->out, &info, &err), SL_B_ERANGE);
        assert_int_equal(sl_plog_read(h->log, 0, 1, &h->out, &info, &err), SL_B_ERANGE);
    }
    if (m->start < m->end) {
        assert_int_equal(sl_plog_read(h->log, m->start, 1, &h->out, &info, &err), 0);
        check_read_output(h, m->start, 1, &info);
    }
    h->maintains++;
}

static void op_offset_for_time(harness_t *h)
{
    const model_t *m = &h->m;
    int64_t ts = T0 - 5 + (int64_t)(rng_next(&h->rng) % (uint64_t)(m->end + 10));
    int64_t expect = ts - T0 >= m->end ? -1 : ts - T0 < m->start ? m->start : ts - T0;
    int64_t got = -2;
    sl_err_t err = {0};
    assert_int_equal(sl_plog_offset_for_time(h->log, ts, &got, &err), 0);
    if (got != expect)
        fail_msg("offset_for_time(T0%+" PRId64 ") = %" PRId64 ", expected %" PRId64 " (log [%" PRId64 ", %" PRId64
                 "])",
                 ts - T0, got, expect, m->start, m->end);
    h->times++;
}

static void log_open(harness_t *h)
{
    sl_err_t err = {0};
    int rc = sl_plog_open(h->dir, &h->cfg, &h->log, &err);
    if (rc)
        fail_msg("open: %d %s", rc, err.msg);
}

static void op_reopen(harness_t *h)
{
    int segs = sl_plog_segment_count(h->log);
    sl_plog_close(h->log);
    log_open(h);
    assert_int_equal(sl_plog_segment_count(h->log), segs);
    full_scan(h);
    h->reopens++;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) { return remove(path); }

static void test_log_matches_model_under_random_operations(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    assert_non_null(h);
    const char *e = getenv("SL_SEED");
    h->m.seed = e && *e ? strtoull(e, NULL, 0) : 0x10C0DE15ull;
    h->rng = h->m.seed;
    printf("test_broker_log_model: seed=0x%" PRIx64 " (SL_SEED replays)\n", h->m.seed);
    const char *tmp = getenv("TMPDIR");
    snprintf(h->root, sizeof h->root, "%s/sl-log-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(h->root));
    snprintf(h->dir, sizeof h->dir, "%s/t-0", h->root);
    sl_log_config_default(&h->cfg);
    h->cfg.flush_policy = SL_FLUSH_NEVER;
    h->cfg.segment_bytes = SEGMENT_BYTES;
    h->cfg.retention_bytes = RETENTION_BYTES;
    h->cfg.retention_ms = -1;
    h->cfg.index_interval_bytes = 1024;
    sl_buf_init(&h->out);
    sl_batch_iter_init(&h->it);
    sl_batch_builder_init(&h->bld);
    h->active_nonempty = -1;
    sl_log_set_level(SL_WARN); /* retention logs every deleted segment at INFO */
    log_open(h);

    int64_t t0 = sl_mono_ns();
    for (int op = 0; op < OPS; op++) {
        uint32_t r = rng_range(&h->rng, 0, 99);
        if (r < 45)
            op_append(h);
        else if (r < 80)
            op_read(h);
        else if (r < 85)
            op_roll(h);
        else if (r < 92)
            op_maintain(h);
        else if (r < 96 && h->m.end > 0)
            op_offset_for_time(h);
        else if (r < 98)
            op_reopen(h);
        else
            full_scan(h);
    }
    full_scan(h);
    printf("test_broker_log_model: %d ops in %.2f s: %ld appends (%" PRId64 " records), %ld reads, %ld out-of-range "
           "reads, %ld rolls, %ld maintains (%ld segments deleted, start %" PRId64 "), %ld reopens, %ld time "
           "lookups, %ld full scans\n",
           OPS, (double)(sl_mono_ns() - t0) / 1e9, h->appends, h->m.end, h->reads, h->ranges, h->rolls,
           h->maintains, h->deleted_segments, h->m.start, h->reopens, h->times, h->scans);
    assert_true(h->deleted_segments > 0); /* retention did run */

    sl_plog_close(h->log);
    nftw(h->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    sl_buf_free(&h->out);
    sl_batch_iter_free(&h->it);
    sl_batch_builder_free(&h->bld);
    free(h->m.recs);
    free(h->m.batches);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_matches_model_under_random_operations),
    };
    return cmocka_run_group_tests_name("test_broker_log_model", tests, NULL, NULL);
}
