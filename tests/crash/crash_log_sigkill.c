/* Durability under SIGKILL.  A forked child (the peer) appends batches to a real
 * partition log with fdatasync per batch and reports every durable range
 * through a pipe; the parent SIGKILLs it at a random moment, reopens the log and
 * checks that every reported record reads back exactly, that offsets are
 * contiguous from 0 and that no torn batch is visible.  Every round continues
 * the same log, so recovery of earlier torn tails is exercised too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/broker.h"

#define ROUNDS 60
#define SEGMENT_BYTES (256 * 1024)
/* Batches a child appends per round before it idles waiting for its kill:
 * bounds the log's growth (each round re-reads the whole log). */
#define CHILD_MAX_BATCHES 300
#define VALUE_MAGIC 0x534c434bu /* "SLCK" */
#define VALUE_FIXED 32          /* value bytes besides the payload */
#define MAX_PAYLOAD 3000

/* What the child reports after sl_plog_wait_durable: 24 bytes, so each write
 * to the pipe is atomic (< PIPE_BUF). */
typedef struct report {
    int64_t base, last;
    uint32_t crc; /* CRC-32C chained over the values of the batch's records */
    uint32_t round;
} report_t;

typedef struct batch_sum {
    int64_t base, last;
    uint32_t crc;
} batch_sum_t;

typedef struct sums {
    batch_sum_t *v;
    size_t n, cap;
} sums_t;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rng_range(uint64_t *s, uint32_t lo, uint32_t hi) /* inclusive */
{
    return lo + (uint32_t)(rng_next(s) % ((uint64_t)hi - lo + 1));
}

static uint64_t test_seed(void)
{
    const char *e = getenv("SL_SEED");
    return e && *e ? strtoull(e, NULL, 0) : 0x5EED51C4ull;
}

static void sums_push(sums_t *s, int64_t base, int64_t last, uint32_t crc)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    s->v[s->n++] = (batch_sum_t){base, last, crc};
}

static const batch_sum_t *sums_find(const sums_t *s, int64_t base)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].base < base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->v[lo].base == base ? &s->v[lo] : NULL;
}

static void log_config(sl_log_config_t *cfg)
{
    sl_log_config_default(cfg);
    cfg->flush_policy = SL_FLUSH_EVERY_BATCH;
    cfg->segment_bytes = SEGMENT_BYTES;
}

/* A value that proves its own integrity and position: magic, round, batch
 * sequence, record index, offset, payload length, payload, CRC-32C of all that. */
static size_t value_encode(uint8_t *v, uint32_t round, uint32_t seq, uint32_t idx, int64_t offset,
                           uint32_t payload_len)
{
    sl_put_be32(v, VALUE_MAGIC);
    sl_put_be32(v + 4, round);
    sl_put_be32(v + 8, seq);
    sl_put_be32(v + 12, idx);
    sl_put_be64(v + 16, (uint64_t)offset);
    sl_put_be32(v + 24, payload_len);
    uint64_t s = (uint64_t)offset * 0x2545f4914f6cdd1dull + round;
    for (uint32_t i = 0; i < payload_len; i++)
        v[28 + i] = (uint8_t)(i % 64 < 32 ? 'a' + i % 26 : rng_next(&s)); /* half compressible */
    sl_put_be32(v + 28 + payload_len, sl_crc32c(0, v, 28 + payload_len));
    return VALUE_FIXED + payload_len;
}

/* Records whose offset is a multiple of 3 carry the offset as an 8-byte key. */
static bool key_expected(int64_t offset) { return offset % 3 == 0; }

/* ---- the child: append until killed ------------------------------------------- */

static _Noreturn void child_fail(const char *what, int rc, const sl_err_t *err)
{
    fprintf(stderr, "crash child: %s failed: %d (%s) %s\n", what, rc, sl_broker_strerror(rc), err ? err->msg : "");
    _exit(3);
}

static _Noreturn void child_run(const char *dir, uint32_t round, uint64_t seed, int wfd)
{
    sl_log_config_t cfg;
    log_config(&cfg);
    sl_err_t err = {0};
    sl_plog_t *log = NULL;
    int rc = sl_plog_open(dir, &cfg, &log, &err);
    if (rc)
        child_fail("sl_plog_open", rc, &err);
    uint64_t rng = seed ^ ((uint64_t)round << 32);
    sl_batch_builder_t b;
    sl_batch_builder_init(&b);
    sl_buf_t out;
    sl_buf_init(&out);
    static uint8_t value[VALUE_FIXED + MAX_PAYLOAD];
    for (uint32_t seq = 0; seq < CHILD_MAX_BATCHES; seq++) {
        int64_t base = sl_plog_end_offset(log);
        bool big = rng_range(&rng, 0, 7) == 0; /* up to ~450 KiB: long writes, likelier to tear */
        uint32_t n = big ? rng_range(&rng, 30, 150) : rng_range(&rng, 1, 8);
        int codec = rng_range(&rng, 0, 3) == 0 ? SL_COMPRESSION_ZSTD : SL_COMPRESSION_NONE;
        sl_batch_builder_begin(&b, codec, 0);
        uint32_t crc = 0;
        for (uint32_t i = 0; i < n; i++) {
            int64_t off = base + i;
            size_t vlen = value_encode(value, round, seq, i, off, rng_range(&rng, 0, big ? MAX_PAYLOAD : 1200));
            uint8_t key[8];
            sl_put_be64(key, (uint64_t)off);
            bool k = key_expected(off);
            rc = sl_batch_builder_add(&b, sl_now_ms(), k ? key : NULL, k ? 8 : -1, value, (int32_t)vlen, NULL, 0);
            if (rc)
                child_fail("sl_batch_builder_add", rc, NULL);
            crc = sl_crc32c(crc, value, vlen);
        }
        sl_buf_reset(&out);
        if ((rc = sl_batch_builder_finish(&b, &out, &err)))
            child_fail("sl_batch_builder_finish", rc, &err);
        sl_append_info_t info;
        if ((rc = sl_plog_append(log, out.data, out.len, sl_now_ms(), &info, &err)))
            child_fail("sl_plog_append", rc, &err);
        if (info.base_offset != base || info.last_offset != base + n - 1) {
            fprintf(stderr, "crash child: append assigned %" PRId64 "..%" PRId64 ", expected %" PRId64 "..%" PRId64 "\n",
                    info.base_offset, info.last_offset, base, base + n - 1);
            _exit(3);
        }
        if ((rc = sl_plog_wait_durable(log, info.last_offset + 1, 30000)))
            child_fail("sl_plog_wait_durable", rc, NULL);
        report_t r = {info.base_offset, info.last_offset, crc, round};
        if (write(wfd, &r, sizeof r) != (ssize_t)sizeof r)
            child_fail("write(report)", -errno, NULL);
    }
    for (;;) /* budget spent: wait for the parent's SIGKILL */
        pause();
}

/* ---- the parent: kill, reopen, verify ----------------------------------------- */

typedef struct crash_state {
    char root[PATH_MAX];
    char dir[PATH_MAX + 16];
    uint64_t seed;
    uint64_t rng;
    sums_t reported; /* every durable batch the children reported, in offset order */
    sums_t known;    /* the whole log as last verified (after a clean close) */
    int64_t verified_end;
    int64_t unreported_survivors; /* batches on disk that no report covered */
    int tears;                    /* rounds whose unreported tail the parent tore */
} crash_state_t;

/* Check one record's key and self-describing value; returns the value CRC step. */
static uint32_t check_record(const sl_record_t *rec, int64_t expect_offset, uint32_t crc)
{
    assert_int_equal(rec->offset, expect_offset);
    if (key_expected(rec->offset)) {
        assert_int_equal(rec->key_len, 8);
        assert_int_equal((int64_t)sl_be64(rec->key), rec->offset);
    } else {
        assert_int_equal(rec->key_len, -1);
    }
    assert_true(rec->value_len >= VALUE_FIXED);
    const uint8_t *v = rec->value;
    assert_int_equal(sl_be32(v), VALUE_MAGIC);
    uint32_t plen = sl_be32(v + 24);
    assert_int_equal((uint32_t)rec->value_len, VALUE_FIXED + plen);
    assert_int_equal((int64_t)sl_be64(v + 16), rec->offset);
    assert_int_equal(sl_be32(v + 28 + plen), sl_crc32c(0, v, 28 + plen));
    return sl_crc32c(crc, v, (size_t)rec->value_len);
}

/* Read the whole log from 0 and summarise each batch into `cur`. */
static void scan_log(sl_plog_t *log, int64_t end, sums_t *cur)
{
    sl_buf_t out;
    sl_buf_init(&out);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    sl_err_t err = {0};
    int64_t next = 0;
    while (next < end) {
        sl_read_info_t info;
        sl_buf_reset(&out);
        int rc = sl_plog_read(log, next, 1 << 20, &out, &info, &err);
        if (rc)
            fail_msg("read at %" PRId64 ": %d %s", next, rc, err.msg);
        assert_true(info.batches > 0);
        assert_int_equal(info.first_offset, next);
        size_t pos = 0;
        while (pos < out.len) {
            sl_batch_header_t h;
            assert_true(out.len - pos >= SL_BATCH_HEADER_SIZE);
            assert_int_equal(sl_batch_parse_header(out.data + pos, out.len - pos, &h, &err), 0);
            size_t size = sl_batch_size(&h);
            assert_true(size <= out.len - pos);
            rc = sl_batch_validate(out.data + pos, size, &h, &err);
            if (rc)
                fail_msg("batch at offset %" PRId64 " does not validate: %s", h.base_offset, err.msg);
            assert_int_equal(h.base_offset, next);
            assert_int_equal(h.record_count, h.last_offset_delta + 1);
            assert_int_equal(sl_batch_iter_start(&it, out.data + pos, size, &err), 0);
            sl_record_t rec;
            uint32_t crc = 0;
            int64_t expect = h.base_offset;
            while ((rc = sl_batch_iter_next(&it, &rec, &err)) == 1)
                crc = check_record(&rec, expect++, crc);
            assert_int_equal(rc, 0);
            assert_int_equal(expect, h.base_offset + h.last_offset_delta + 1);
            sums_push(cur, h.base_offset, expect - 1, crc);
            next = expect;
            pos += size;
        }
        assert_int_equal(info.next_offset, next);
    }
    assert_int_equal(next, end);
    sl_batch_iter_free(&it);
    sl_buf_free(&out);
}

static void verify_log(crash_state_t *st, int64_t child_end, bool torn)
{
    sl_log_config_t cfg;
    log_config(&cfg);
    sl_err_t err = {0};
    sl_plog_t *log = NULL;
    int rc = sl_plog_open(st->dir, &cfg, &log, &err);
    if (rc)
        fail_msg("reopen after SIGKILL: %d %s", rc, err.msg);
    assert_int_equal(sl_plog_start_offset(log), 0);
    int64_t end = sl_plog_end_offset(log);
    assert_true(end >= st->verified_end);

    sums_t cur = {0};
    scan_log(log, end, &cur);

    /* Everything verified in earlier rounds survived a clean close: unchanged. */
    assert_true(cur.n >= st->known.n);
    for (size_t i = 0; i < st->known.n; i++) {
        assert_int_equal(cur.v[i].base, st->known.v[i].base);
        assert_int_equal(cur.v[i].last, st->known.v[i].last);
        assert_int_equal(cur.v[i].crc, st->known.v[i].crc);
    }
    /* Every reported (durable) batch is there, byte-identical in content. */
    for (size_t i = 0; i < st->reported.n; i++) {
        const batch_sum_t *r = &st->reported.v[i];
        const batch_sum_t *c = sums_find(&cur, r->base);
        if (!c)
            fail_msg("durable batch %" PRId64 "..%" PRId64 " lost (log end %" PRId64 ")", r->base, r->last, end);
        assert_int_equal(c->last, r->last);
        assert_int_equal(c->crc, r->crc);
    }
    if (st->reported.n)
        assert_true(end > st->reported.v[st->reported.n - 1].last);
    assert_true(end >= child_end);
    if (torn) /* the torn batch and everything after it are gone */
        assert_int_equal(end, child_end);

    /* Reads from inside a batch return that batch, whole (through the index). */
    sl_buf_t out;
    sl_buf_init(&out);
    for (int i = 0; i < 20 && cur.n; i++) {
        const batch_sum_t *c = &cur.v[rng_next(&st->rng) % cur.n];
        int64_t off = c->base + (int64_t)(rng_next(&st->rng) % (uint64_t)(c->last - c->base + 1));
        sl_read_info_t info;
        sl_buf_reset(&out);
        assert_int_equal(sl_plog_read(log, off, 1, &out, &info, &err), 0);
        assert_int_equal(info.batches, 1);
        assert_int_equal(info.first_offset, c->base);
        assert_int_equal(info.next_offset, c->last + 1);
    }
    sl_read_info_t info;
    sl_buf_reset(&out);
    assert_int_equal(sl_plog_read(log, end, 1 << 20, &out, &info, &err), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(sl_plog_read(log, end + 1, 1 << 20, &out, &info, &err), SL_B_ERANGE);
    sl_buf_free(&out);

    for (size_t i = st->known.n; i < cur.n; i++)
        if (!sums_find(&st->reported, cur.v[i].base))
            st->unreported_survivors++;
    sl_plog_close(log);
    free(st->known.v);
    st->known = cur;
    st->verified_end = end;
}

/* Pipe reader that keeps partial reports across reads. */
typedef struct report_reader {
    int fd;
    uint8_t buf[sizeof(report_t) * 64];
    size_t len;
    bool eof;
} report_reader_t;

/* Read what is available; append whole reports to st->reported (checking they
 * continue the log contiguously).  Returns how many were added. */
static int reader_pump(report_reader_t *rr, crash_state_t *st, uint32_t round, int64_t *child_end)
{
    ssize_t n = read(rr->fd, rr->buf + rr->len, sizeof rr->buf - rr->len);
    if (n < 0) {
        assert_int_equal(errno, EINTR);
        return 0;
    }
    if (n == 0) {
        rr->eof = true;
        assert_int_equal(rr->len, 0); /* no half report */
        return 0;
    }
    rr->len += (size_t)n;
    int added = 0;
    size_t pos = 0;
    for (; rr->len - pos >= sizeof(report_t); pos += sizeof(report_t)) {
        report_t r;
        memcpy(&r, rr->buf + pos, sizeof r);
        assert_int_equal(r.round, round);
        assert_int_equal(r.base, *child_end);
        assert_true(r.last >= r.base);
        sums_push(&st->reported, r.base, r.last, r.crc);
        *child_end = r.last + 1;
        added++;
    }
    memmove(rr->buf, rr->buf + pos, rr->len - pos);
    rr->len -= pos;
    return added;
}

/* A SIGKILL tears a write only when it lands inside write(2), which is rare
 * next to the fdatasync that follows; emulate that outcome: cut the newest
 * segment file inside the first batch the child wrote but never reported
 * durable (there is one when the kill came between append and report).
 * Returns whether it cut. */
static bool tear_unreported_tail(crash_state_t *st, int64_t reported_end)
{
    DIR *d = opendir(st->dir);
    assert_non_null(d);
    char newest[32] = "";
    struct dirent *e;
    while ((e = readdir(d)))
        if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".log") == 0 && strcmp(e->d_name, newest) > 0)
            snprintf(newest, sizeof newest, "%.24s", e->d_name);
    closedir(d);
    assert_true(newest[0]);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", st->dir, newest);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    bool cut = false;
    uint8_t hdr[SL_BATCH_HEADER_SIZE];
    for (int64_t pos = 0; pos + SL_BATCH_HEADER_SIZE <= sb.st_size;) {
        sl_batch_header_t h;
        if (pread(fd, hdr, sizeof hdr, (off_t)pos) != (ssize_t)sizeof hdr ||
            sl_batch_parse_header(hdr, sizeof hdr, &h, NULL) != 0)
            break;
        int64_t size = (int64_t)sl_batch_size(&h);
        if (size > sb.st_size - pos) /* already torn by the kill itself */
            break;
        if (h.base_offset >= reported_end) {
            int64_t at = pos + 1 + (int64_t)(rng_next(&st->rng) % (uint64_t)(size - 1));
            assert_int_equal(ftruncate(fd, (off_t)at), 0);
            cut = true;
            break;
        }
        pos += size;
    }
    close(fd);
    return cut;
}

static void run_round(crash_state_t *st, uint32_t round)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_run(st->dir, round, st->seed, fds[1]);
    }
    close(fds[1]);

    /* Kill after a random delay, or right after the k-th report. */
    bool after_report = rng_range(&st->rng, 0, 2) == 0;
    int kill_after = (int)rng_range(&st->rng, 1, 40);
    int64_t delay_ms = after_report ? 10000 : rng_range(&st->rng, 5, 150);
    int64_t deadline = sl_mono_ns() + delay_ms * 1000000;
    report_reader_t rr = {.fd = fds[0]};
    int64_t child_end = st->verified_end;
    int reports = 0;
    for (;;) {
        int64_t left_ms = (deadline - sl_mono_ns()) / 1000000;
        if (left_ms <= 0)
            break;
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        assert_true(pr >= 0);
        if (pr == 0)
            break;
        reports += reader_pump(&rr, st, round, &child_end);
        if (rr.eof || (after_report && reports >= kill_after))
            break;
    }
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("round %u: child ended on its own (status 0x%x) instead of being killed", round, status);
    while (!rr.eof) /* reports already in the pipe were durable before the kill */
        reader_pump(&rr, st, round, &child_end);
    close(fds[0]);
    bool torn = rng_range(&st->rng, 0, 1) && tear_unreported_tail(st, child_end);
    st->tears += torn;
    verify_log(st, child_end, torn);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void test_sigkill_during_appends_loses_no_durable_batch(void **state)
{
    crash_state_t *st = calloc(1, sizeof *st);
    assert_non_null(st);
    sl_log_set_level(SL_WARN); /* keep the truncation reports, drop one INFO line per open */
    st->seed = test_seed();
    st->rng = st->seed;
    printf("crash_log_sigkill: seed=0x%" PRIx64 " (set SL_SEED to replay the schedule; kill timing stays random)\n",
           st->seed);
    const char *tmp = getenv("TMPDIR");
    snprintf(st->root, sizeof st->root, "%s/sl-crash-sigkill-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(st->root));
    snprintf(st->dir, sizeof st->dir, "%s/t-0", st->root);

    int64_t t0 = sl_mono_ns();
    for (uint32_t round = 0; round < ROUNDS; round++)
        run_round(st, round);

    /* The log must have rolled: recovery crossed segment boundaries. */
    sl_log_config_t cfg;
    log_config(&cfg);
    sl_plog_t *log = NULL;
    sl_err_t err = {0};
    assert_int_equal(sl_plog_open(st->dir, &cfg, &log, &err), 0);
    int segments = sl_plog_segment_count(log);
    int64_t bytes = sl_plog_size_bytes(log);
    sl_plog_close(log);
    printf("crash_log_sigkill: %d rounds, %zu durable batches reported, %" PRId64 " offsets, %" PRId64
           " bytes in %d segments; %" PRId64 " unreported batches survived; %d unreported tails torn by the test; %.1f s\n",
           ROUNDS, st->reported.n, st->verified_end, bytes, segments, st->unreported_survivors, st->tears,
           (double)(sl_mono_ns() - t0) / 1e9);
    assert_true(segments > 1);
    assert_true(st->reported.n > 0);
    if (st->tears == 0)
        printf("crash_log_sigkill: note: no round left an unreported batch to tear\n");

    nftw(st->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(st->reported.v);
    free(st->known.v);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_during_appends_loses_no_durable_batch),
    };
    return cmocka_run_group_tests_name("crash_log_sigkill", tests, NULL, NULL);
}
