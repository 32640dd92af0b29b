/* Unit tests for idempotent producers (broker/producer.c): Kafka's sequence
 * rules per partition (duplicates of the last five batches answered with their
 * original offset, gaps, epochs, int32 wraparound), the producer state's
 * survival across restarts (snapshot, replay of the log without it, corrupt or
 * stale snapshots ignored), and InitProducerId's id allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>

#include "broker/bk.h"
#include "testutil.h"

#define SNAPSHOT "producer-state.snapshot"

typedef struct fixture {
    char *dir;
    sl_log_config_t cfg;
    bk_topic_t topic;
    bk_partition_t part;
    sl_buf_t buf;
    sl_batch_builder_t bld;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp("producer");
    sl_log_config_default(&f->cfg);
    snprintf(f->topic.name, sizeof f->topic.name, "orders");
    f->part.topic = &f->topic;
    f->part.id = 3;
    sl_buf_init(&f->buf);
    sl_batch_builder_init(&f->bld);
    *state = f;
    return 0;
}

static void part_close(fixture_t *f)
{
    if (f->part.log) {
        bk_pstate_close(&f->part);
        sl_plog_close(f->part.log);
        f->part.log = NULL;
    }
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    part_close(f);
    sl_buf_free(&f->buf);
    sl_batch_builder_free(&f->bld);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Open the partition's log and its producer state, as topics.c does. */
static void part_open(fixture_t *f)
{
    sl_err_t err = {0};
    int rc = sl_plog_open(f->dir, &f->cfg, &f->part.log, &err);
    if (rc)
        fprintf(stderr, "open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    f->part.dir = f->dir;
    rc = bk_pstate_open(&f->part, &err);
    if (rc)
        fprintf(stderr, "pstate open: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_non_null(f->part.producers);
}

/* What a kill -9 leaves: the log as appended, and no snapshot of this run
 * (an older one may remain). */
static void part_crash(fixture_t *f, const char *stale_snapshot, size_t stale_len)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", f->dir, SNAPSHOT);
    part_close(f);
    unlink(path);
    if (stale_snapshot) {
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(stale_snapshot, 1, stale_len, fp), stale_len);
        fclose(fp);
    }
}

/* Produce as the Produce handler does: check, then append and update, or
 * answer a duplicate with its original offset.  Returns the Kafka error. */
static int16_t produce(fixture_t *f, int64_t pid, int16_t epoch, int32_t seq, int n, int64_t *offset)
{
    sl_buf_reset(&f->buf);
    sl_batch_builder_begin(&f->bld, SL_COMPRESSION_NONE, 0);
    for (int i = 0; i < n; i++) {
        char v[32];
        int vl = snprintf(v, sizeof v, "p%lld-s%lld", (long long)pid, (long long)seq + i);
        assert_int_equal(sl_batch_builder_add(&f->bld, 1000 + i, NULL, -1, v, vl, NULL, 0), 0);
    }
    f->bld.hdr.producer_id = pid;
    f->bld.hdr.producer_epoch = epoch;
    f->bld.hdr.base_sequence = seq;
    assert_int_equal(sl_batch_builder_finish(&f->bld, &f->buf, NULL), 0);
    sl_batch_header_t h;
    assert_int_equal(sl_batch_parse_header(f->buf.data, f->buf.len, &h, NULL), 0);

    int64_t dup = -1;
    int16_t kerr = bk_pstate_check(&f->part, &h, &dup);
    if (kerr == SL_KERR_DUPLICATE_SEQUENCE_NUMBER) {
        *offset = dup;
    } else if (kerr == SL_KERR_NONE) {
        *offset = tu_append(f->part.log, &f->buf, 1000);
        bk_pstate_update(&f->part, &h, *offset);
    }
    return kerr;
}

/* Produce and expect success; returns the base offset. */
static int64_t produce_ok(fixture_t *f, int64_t pid, int16_t epoch, int32_t seq, int n)
{
    int64_t off = -1;
    assert_int_equal(produce(f, pid, epoch, seq, n, &off), SL_KERR_NONE);
    return off;
}

static void expect_duplicate(fixture_t *f, int64_t pid, int16_t epoch, int32_t seq, int n, int64_t offset)
{
    int64_t end = sl_plog_end_offset(f->part.log);
    int64_t off = -1;
    assert_int_equal(produce(f, pid, epoch, seq, n, &off), SL_KERR_DUPLICATE_SEQUENCE_NUMBER);
    assert_int_equal(off, offset);
    assert_int_equal(sl_plog_end_offset(f->part.log), end); /* nothing appended */
}

static int16_t produce_err(fixture_t *f, int64_t pid, int16_t epoch, int32_t seq, int n)
{
    int64_t off;
    return produce(f, pid, epoch, seq, n, &off);
}

/* Five batches of 3 records from producer 7: seqs 0-2, 3-5, ... 12-14 at
 * offsets 0, 3, ... 12. */
static void produce_five(fixture_t *f)
{
    for (int i = 0; i < 5; i++)
        assert_int_equal(produce_ok(f, 7, 0, i * 3, 3), i * 3);
}

/* ---- sequence rules ---------------------------------------------------------------- */

static void test_batch_without_producer_id_is_always_accepted(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    sl_batch_header_t h = {.producer_id = -1, .producer_epoch = -1, .base_sequence = -1, .last_offset_delta = 0};
    int64_t dup = -1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(bk_pstate_check(&f->part, &h, &dup), SL_KERR_NONE);
    assert_int_equal(dup, -1);
}

static void test_new_producer_first_batch_and_in_order_batches_are_accepted(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    assert_int_equal(produce_ok(f, 1, 0, 0, 4), 0);
    assert_int_equal(produce_ok(f, 1, 0, 4, 1), 4);
    assert_int_equal(produce_ok(f, 1, 0, 5, 10), 5);
    /* a second producer has its own sequence */
    assert_int_equal(produce_ok(f, 2, 0, 0, 2), 15);
    assert_int_equal(produce_ok(f, 1, 0, 15, 1), 17);
}

static void test_unknown_producer_is_accepted_at_any_sequence(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    /* Kafka >= 2.5: no state (e.g. removed by retention) -> accept as sent */
    assert_int_equal(produce_ok(f, 9, 2, 41, 2), 0);
    assert_int_equal(produce_ok(f, 9, 2, 43, 1), 2);
    assert_int_equal(produce_err(f, 9, 2, 41, 2), SL_KERR_DUPLICATE_SEQUENCE_NUMBER);
}

static void test_gap_or_rewind_is_out_of_order(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    assert_int_equal(produce_err(f, 7, 0, 16, 1), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* skips 15 */
    assert_int_equal(produce_err(f, 7, 0, 14, 1), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER); /* overlaps */
    assert_int_equal(produce_err(f, 7, 0, 0, 1), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(sl_plog_end_offset(f->part.log), 15);
    assert_int_equal(produce_ok(f, 7, 0, 15, 1), 15);
}

static void test_each_of_the_last_five_batches_is_a_duplicate_with_its_offset(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    for (int i = 0; i < 5; i++)
        expect_duplicate(f, 7, 0, i * 3, 3, i * 3);
    /* same first sequence but another last sequence: not that batch */
    assert_int_equal(produce_err(f, 7, 0, 3, 2), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* a sixth batch pushes the oldest out of the cache */
    assert_int_equal(produce_ok(f, 7, 0, 15, 3), 15);
    assert_int_equal(produce_err(f, 7, 0, 0, 3), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    for (int i = 1; i < 6; i++)
        expect_duplicate(f, 7, 0, i * 3, 3, i * 3);
}

static void test_lower_epoch_is_invalid_producer_epoch(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    assert_int_equal(produce_ok(f, 5, 3, 0, 1), 0);
    assert_int_equal(produce_err(f, 5, 2, 1, 1), SL_KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce_err(f, 5, 2, 0, 1), SL_KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(sl_plog_end_offset(f->part.log), 1);
}

static void test_higher_epoch_must_restart_at_sequence_zero(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    assert_int_equal(produce_err(f, 7, 1, 15, 1), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce_ok(f, 7, 1, 0, 2), 15);
    /* the new epoch has its own cache: seq 0-1 of epoch 1 is a duplicate,
     * the old epoch is fenced */
    expect_duplicate(f, 7, 1, 0, 2, 15);
    assert_int_equal(produce_err(f, 7, 0, 3, 3), SL_KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce_err(f, 7, 1, 3, 3), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce_ok(f, 7, 1, 2, 1), 17);
}

static void test_sequence_wraps_after_int32_max(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    /* INT32_MAX-1, INT32_MAX, 0: the batch's last sequence is 0 */
    assert_int_equal(produce_ok(f, 11, 0, INT32_MAX - 1, 3), 0);
    assert_int_equal(produce_err(f, 11, 0, 0, 1), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect_duplicate(f, 11, 0, INT32_MAX - 1, 3, 0);
    assert_int_equal(produce_ok(f, 11, 0, 1, 1), 3);
    /* a batch ending exactly at INT32_MAX is followed by 0 */
    assert_int_equal(produce_ok(f, 12, 0, INT32_MAX, 1), 4);
    assert_int_equal(produce_err(f, 12, 0, 1, 1), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce_ok(f, 12, 0, 0, 1), 5);
}

static void test_producer_id_without_sequence_is_invalid_record(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    sl_batch_header_t h = {.producer_id = 4, .producer_epoch = 0, .base_sequence = -1, .last_offset_delta = 0};
    int64_t dup;
    assert_int_equal(bk_pstate_check(&f->part, &h, &dup), SL_KERR_INVALID_RECORD);
}

/* ---- persistence ------------------------------------------------------------------- */

static void test_duplicates_are_detected_after_a_clean_restart(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    assert_int_equal(produce_ok(f, 8, 4, 0, 2), 15);
    part_close(f);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", f->dir, SNAPSHOT);
    assert_int_equal(access(path, F_OK), 0);

    part_open(f);
    for (int i = 0; i < 5; i++)
        expect_duplicate(f, 7, 0, i * 3, 3, i * 3);
    expect_duplicate(f, 8, 4, 0, 2, 15);
    assert_int_equal(produce_err(f, 8, 3, 2, 1), SL_KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce_err(f, 7, 0, 16, 1), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce_ok(f, 7, 0, 15, 1), 17);
}

/* The snapshot is really read: it remembers batches below a log start that
 * DeleteRecords raised, which a replay of the log can no longer see. */
static void test_snapshot_keeps_batches_the_log_no_longer_has(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    sl_err_t err = {0};
    assert_int_equal(sl_plog_delete_records_before(f->part.log, 6, &err), 0);
    part_close(f);

    part_open(f);
    expect_duplicate(f, 7, 0, 0, 3, 0);

    part_crash(f, NULL, 0); /* without the snapshot, the replay starts at offset 6 */
    part_open(f);
    assert_int_equal(produce_err(f, 7, 0, 0, 3), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect_duplicate(f, 7, 0, 6, 3, 6);
    expect_duplicate(f, 7, 0, 12, 3, 12);
}

static void test_state_is_rebuilt_from_the_log_after_a_crash(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    assert_int_equal(produce_ok(f, 8, 0, 0, 1), 15);
    part_crash(f, NULL, 0);

    part_open(f);
    for (int i = 0; i < 5; i++)
        expect_duplicate(f, 7, 0, i * 3, 3, i * 3);
    expect_duplicate(f, 8, 0, 0, 1, 15);
    assert_int_equal(produce_ok(f, 7, 0, 15, 1), 16);
}

/* Clean shutdown, a second run that appends more, then kill -9: the old
 * snapshot plus a replay of the batches after it. */
static void test_stale_snapshot_plus_replay_of_the_tail_after_a_crash(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    part_close(f);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", f->dir, SNAPSHOT);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char old[4096];
    size_t n = fread(old, 1, sizeof old, fp);
    fclose(fp);
    assert_true(n > 0 && n < sizeof old);

    part_open(f);
    assert_int_equal(produce_ok(f, 7, 0, 15, 3), 15);
    assert_int_equal(produce_ok(f, 7, 1, 0, 2), 18); /* epoch bump after the snapshot */
    assert_int_equal(produce_ok(f, 9, 0, 0, 1), 20);
    part_crash(f, old, n);

    part_open(f);
    expect_duplicate(f, 7, 1, 0, 2, 18);
    expect_duplicate(f, 9, 0, 0, 1, 20);
    assert_int_equal(produce_err(f, 7, 0, 15, 3), SL_KERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce_ok(f, 7, 1, 2, 1), 21);
}

static void corrupt_snapshot_then_check(fixture_t *f, bool torn)
{
    part_open(f);
    produce_five(f);
    sl_err_t err = {0};
    assert_int_equal(sl_plog_delete_records_before(f->part.log, 6, &err), 0);
    part_close(f);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", f->dir, SNAPSHOT);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    if (torn) {
        assert_int_equal(truncate(path, st.st_size - 7), 0);
    } else {
        int fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        uint8_t c;
        assert_int_equal(pread(fd, &c, 1, 30), 1);
        c ^= 0x40;
        assert_int_equal(pwrite(fd, &c, 1, 30), 1);
        close(fd);
    }
    /* Ignored: the state comes from the log (from offset 6), so the batch at
     * offset 0 that only the snapshot knew is not recognised, the rest is. */
    part_open(f);
    assert_int_equal(produce_err(f, 7, 0, 0, 3), SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect_duplicate(f, 7, 0, 9, 3, 9);
    assert_int_equal(produce_ok(f, 7, 0, 15, 1), 15);
}

static void test_corrupt_snapshot_is_ignored(void **state) { corrupt_snapshot_then_check(*state, false); }

static void test_torn_snapshot_is_ignored(void **state) { corrupt_snapshot_then_check(*state, true); }

/* A snapshot that claims more of the log than there is (the log lost its
 * tail, or was replaced) describes batches that are gone: ignored. */
static void test_snapshot_ahead_of_the_log_is_ignored(void **state)
{
    fixture_t *f = *state;
    part_open(f);
    produce_five(f);
    part_close(f);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, SNAPSHOT))
            continue;
        char sub[4400];
        snprintf(sub, sizeof sub, "%s/%s", f->dir, e->d_name);
        tu_rmrf(sub);
    }
    closedir(d);

    part_open(f);
    assert_int_equal(sl_plog_end_offset(f->part.log), 0);
    /* producer 7 is unknown again: accepted as sent */
    assert_int_equal(produce_ok(f, 7, 0, 3, 3), 0);
}

/* ---- InitProducerId ---------------------------------------------------------------- */

typedef struct pid_reply {
    int16_t error;
    int64_t producer_id;
    int16_t epoch;
} pid_reply_t;

static pid_reply_t init_producer_id(sl_broker_t *b, int16_t version, const char *txn_id)
{
    uint8_t body[64];
    size_t len = 0;
    int16_t tl = txn_id ? (int16_t)strlen(txn_id) : -1;
    sl_put_be16(body, (uint16_t)tl);
    len = 2;
    if (tl > 0) {
        memcpy(body + len, txn_id, (size_t)tl);
        len += (size_t)tl;
    }
    sl_put_be32(body + len, 60000);
    len += 4;
    bk_req_t req = {.api_key = SL_KAPI_INIT_PRODUCER_ID, .api_version = version, .flex = false};
    kr_init(&req.r, body, len);
    bk_resp_t resp;
    memset(&resp, 0, sizeof resp);
    sl_buf_init(&resp.buf);
    assert_int_equal(bk_handle_init_producer_id(b, &req, &resp), BK_DONE);
    assert_int_equal(resp.buf.len, 4 + 2 + 8 + 2);
    assert_int_equal((int32_t)sl_be32(resp.buf.data), 0); /* throttle */
    pid_reply_t r = {(int16_t)sl_be16(resp.buf.data + 4), (int64_t)sl_be64(resp.buf.data + 6),
                     (int16_t)sl_be16(resp.buf.data + 14)};
    sl_buf_free(&resp.buf);
    return r;
}

static sl_broker_t *broker_new(const char *dir)
{
    sl_broker_t *b = calloc(1, sizeof *b);
    snprintf(b->cfg.data_dir, sizeof b->cfg.data_dir, "%s", dir);
    return b;
}

static void test_init_producer_id_never_reuses_an_id_across_restarts(void **state)
{
    fixture_t *f = *state;
    sl_broker_t *b = broker_new(f->dir);
    sl_err_t err = {0};
    int64_t seen[2100];
    int nseen = 0;
    for (int run = 0; run < 3; run++) {
        assert_int_equal(bk_producers_open(b, &err), 0);
        int n = run == 1 ? 1500 : 5; /* the second run crosses a reserved block */
        for (int i = 0; i < n; i++) {
            pid_reply_t r = init_producer_id(b, (int16_t)(i % 2), NULL);
            assert_int_equal(r.error, SL_KERR_NONE);
            assert_int_equal(r.epoch, 0);
            assert_true(r.producer_id >= 0);
            for (int j = 0; j < nseen; j++)
                assert_true(seen[j] < r.producer_id); /* increasing, hence never reused */
            seen[nseen++] = r.producer_id;
        }
        bk_producers_close(b);
    }
    free(b);
}

static void test_init_producer_id_with_transactional_id_is_unsupported(void **state)
{
    fixture_t *f = *state;
    sl_broker_t *b = broker_new(f->dir);
    sl_err_t err = {0};
    assert_int_equal(bk_producers_open(b, &err), 0);
    pid_reply_t r = init_producer_id(b, 1, "txn-1");
    assert_int_equal(r.error, SL_KERR_UNSUPPORTED_VERSION);
    assert_int_equal(r.producer_id, -1);
    assert_int_equal(r.epoch, -1);
    r = init_producer_id(b, 0, "");
    assert_int_equal(r.error, SL_KERR_INVALID_REQUEST);
    bk_producers_close(b);
    free(b);
}

static void test_corrupt_producer_ids_file_stops_the_broker_from_opening(void **state)
{
    fixture_t *f = *state;
    sl_broker_t *b = broker_new(f->dir);
    sl_err_t err = {0};
    assert_int_equal(bk_producers_open(b, &err), 0);
    bk_producers_close(b);
    char path[4400];
    snprintf(path, sizeof path, "%s/producer-ids", f->dir);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t c = 0xff;
    assert_int_equal(pwrite(fd, &c, 1, 12), 1);
    close(fd);
    assert_int_equal(bk_producers_open(b, &err), SL_B_ECORRUPT);
    assert_null(b->producers);
    assert_non_null(strstr(err.msg, "producer-ids"));
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_without_producer_id_is_always_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_producer_first_batch_and_in_order_batches_are_accepted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_producer_is_accepted_at_any_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_or_rewind_is_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_of_the_last_five_batches_is_a_duplicate_with_its_offset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lower_epoch_is_invalid_producer_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_higher_epoch_must_restart_at_sequence_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_wraps_after_int32_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_producer_id_without_sequence_is_invalid_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_are_detected_after_a_clean_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_keeps_batches_the_log_no_longer_has, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_is_rebuilt_from_the_log_after_a_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_snapshot_plus_replay_of_the_tail_after_a_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_snapshot_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_snapshot_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_ahead_of_the_log_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_producer_id_never_reuses_an_id_across_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_producer_id_with_transactional_id_is_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_producer_ids_file_stops_the_broker_from_opening, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
