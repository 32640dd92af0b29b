/* Idempotent producers: producer-id allocation (InitProducerId) and, per
 * partition, the state Kafka keeps for each producer (its epoch and its last
 * five batches) so that Produce can recognise a retried batch and answer with
 * the original offset instead of appending it twice.  Ids are reserved on disk
 * in blocks, so none is ever handed out twice, even across restarts; partition
 * state survives restarts through a snapshot written at clean shutdown plus a
 * replay of batch headers from the snapshot's offset to the log end. */
#include "broker/bk.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small files replaced atomically (sl_fs_write_atomic) ------------------------ */

static int write_file_atomic(const char *dir, const char *name, const void *data, size_t len, sl_err_t *err)
{
    if (sl_fs_write_atomic(dir, name, data, len) != 0)
        return sl_err_set(err, SL_B_EIO, "%s/%s: %s", dir, name, strerror(errno));
    return 0;
}



/* Read the whole file at path into out (at most max bytes).  Returns 0, 1 when
 * the file does not exist, or a negative SL_B_* code. */
static int read_file(const char *path, size_t max, sl_buf_t *out, sl_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : sl_err_set(err, SL_B_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = sl_err_set(err, SL_B_EIO, "%s: %s", path, strerror(errno));
    else if (st.st_size < 0 || (uint64_t)st.st_size > max)
        rc = sl_err_set(err, SL_B_ECORRUPT, "%s: %lld bytes is more than a valid file holds", path,
                        (long long)st.st_size);
    else if (sl_buf_reserve(out, (size_t)st.st_size))
        rc = sl_err_set(err, SL_B_ENOMEM, "%s: out of memory", path);
    while (rc == 0 && out->len < (size_t)st.st_size) {
        ssize_t n = read(fd, out->data + out->len, (size_t)st.st_size - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = sl_err_set(err, SL_B_EIO, "%s: %s", path, strerror(errno));
        else if (n == 0)
            break; /* shrank under us: the checks on the content catch it */
        else
            out->len += (size_t)n;
    }
    close(fd);
    return rc;
}

/* ---- producer ids ------------------------------------------------------------------ */

/* <data>/producer-ids holds the end of the reserved block: magic, int64 end,
 * CRC-32C of both.  At open the whole previous block is skipped (its unused
 * ids are lost, which costs nothing in a 63-bit space) and a new block is
 * reserved, so a crash can never lead to an id being handed out twice.  One
 * fdatasync per PID_BLOCK InitProducerId requests. */
#define PID_FILE "producer-ids"
#define PID_MAGIC "SLPIDS01"
#define PID_FILE_SIZE 20
#define PID_BLOCK 1000

struct bk_producers {
    int64_t next_id;      /* next id to hand out */
    int64_t reserved_end; /* ids below this are reserved on disk */
};

static int pid_reserve(sl_broker_t *b, int64_t end, sl_err_t *err)
{
    uint8_t rec[PID_FILE_SIZE];
    memcpy(rec, PID_MAGIC, 8);
    sl_put_be64(rec + 8, (uint64_t)end);
    sl_put_be32(rec + 16, sl_crc32c(0, rec, 16));
    int rc = write_file_atomic(b->cfg.data_dir, PID_FILE, rec, sizeof rec, err);
    if (rc == 0)
        b->producers->reserved_end = end;
    return rc;
}

int bk_producers_open(sl_broker_t *b, sl_err_t *err)
{
    bk_producers_t *ps = calloc(1, sizeof *ps);
    if (!ps)
        return sl_err_set(err, SL_B_ENOMEM, "out of memory");
    b->producers = ps;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", b->cfg.data_dir, PID_FILE);
    sl_buf_t buf;
    sl_buf_init(&buf);
    /* The data folder may not exist yet: producer ids are opened first. */
    int rc = sl_fs_mkdir_p(b->cfg.data_dir) == 0
                 ? 0
                 : sl_err_set(err, SL_B_EIO, "cannot create %s: %s", b->cfg.data_dir, strerror(errno));
    if (rc == 0)
        rc = read_file(path, 4096, &buf, err);
    if (rc == 0) {
        /* Written by rename, so a torn file means the disk lost data: starting
         * over could hand out ids that partitions still hold state for, and a
         * new producer's first batch could then be taken for a duplicate. */
        if (buf.len != PID_FILE_SIZE || memcmp(buf.data, PID_MAGIC, 8) != 0 ||
            sl_be32(buf.data + 16) != sl_crc32c(0, buf.data, 16) || (int64_t)sl_be64(buf.data + 8) < 0)
            rc = sl_err_set(err, SL_B_ECORRUPT,
                            "%s is corrupt; not starting, as producer ids could be handed out twice "
                            "(remove it only if no partition's idempotent-producer state needs to be kept)",
                            path);
        else
            ps->next_id = (int64_t)sl_be64(buf.data + 8);
    } else if (rc == 1) {
        rc = 0; /* a new data folder */
    }
    sl_buf_free(&buf);
    if (rc == 0 && ps->next_id > INT64_MAX - PID_BLOCK)
        rc = sl_err_set(err, SL_B_EINVAL, "%s: producer ids exhausted", path);
    if (rc == 0)
        rc = pid_reserve(b, ps->next_id + PID_BLOCK, err);
    if (rc) {
        free(ps);
        b->producers = NULL;
    }
    return rc;
}

void bk_producers_close(sl_broker_t *b)
{
    free(b->producers);
    b->producers = NULL;
}

/* A new producer id, reserving the next block on disk when this one is used
 * up.  If that write fails the client is told to retry: Kafka answers
 * COORDINATOR_LOAD_IN_PROGRESS while its next id block is not available. */
static int16_t producer_id_next(sl_broker_t *b, int64_t *id)
{
    bk_producers_t *ps = b->producers;
    if (!ps)
        return SL_KERR_COORDINATOR_NOT_AVAILABLE;
    if (ps->next_id >= ps->reserved_end) {
        sl_err_t err = {0};
        if (ps->reserved_end > INT64_MAX - PID_BLOCK) {
            sl_log(SL_ERROR, "broker", "producer ids exhausted");
            return SL_KERR_UNKNOWN_SERVER_ERROR;
        }
        if (pid_reserve(b, ps->reserved_end + PID_BLOCK, &err) != 0) {
            sl_log(SL_ERROR, "broker", "cannot reserve producer ids: %s", err.msg);
            return SL_KERR_COORDINATOR_LOAD_IN_PROGRESS;
        }
    }
    *id = ps->next_id++;
    return SL_KERR_NONE;
}

/* InitProducerId.  Versions 0-1 are what we advertise; the decoder also reads
 * the flexible v2+ layout (and v3's producer id and epoch, which only matter
 * to transactional producers), so advertising up to v4 needs no change here.
 *
 * transactional_id null: a new producer id with epoch 0 (as Kafka: an
 * idempotent producer always gets a fresh id).
 * transactional_id non-null: transactions are not supported, and we answer
 * UNSUPPORTED_VERSION (35), as Redpanda does for the transaction coordinator
 * lookup when its transactions are disabled.  The Java producer treats it as
 * fatal at once ("Unexpected error in InitProducerIdResponse; The version of
 * API is not supported"); librdkafka (2.0.2, checked) retries every 500 ms
 * and init_transactions() fails with it at its timeout.  The
 * alternatives mislead: TRANSACTIONAL_ID_AUTHORIZATION_FAILED reads as an ACL
 * problem and the COORDINATOR_* codes make clients retry for ever.  An empty
 * transactional_id is INVALID_REQUEST, as in Kafka. */
int bk_handle_init_producer_id(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    kr_t *r = &req->r;
    kstr_t txn_id = kr_string(r, req->flex, true);
    (void)kr_i32(r); /* transaction_timeout_ms */
    if (req->api_version >= 3) {
        (void)kr_i64(r); /* producer_id */
        (void)kr_i16(r); /* producer_epoch */
    }
    if (req->flex)
        kr_tags(r);
    if (r->err)
        return BK_BAD;

    int64_t id = -1;
    int16_t epoch = -1;
    int16_t kerr;
    if (txn_id.len == 0) {
        kerr = SL_KERR_INVALID_REQUEST;
    } else if (txn_id.len > 0) {
        kerr = SL_KERR_UNSUPPORTED_VERSION;
        sl_log(SL_DEBUG, "broker", "InitProducerId for transactional id '%.*s': transactions are not supported",
               (int)(txn_id.len > 200 ? 200 : txn_id.len), txn_id.p);
    } else if ((kerr = producer_id_next(b, &id)) == SL_KERR_NONE) {
        epoch = 0;
    }

    kw_t w = bk_resp_writer(resp);
    kw_i32(&w, 0); /* throttle_time_ms */
    kw_i16(&w, kerr);
    kw_i64(&w, id);
    kw_i16(&w, epoch);
    kw_tags(&w, req->flex);
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- per-partition producer state ---------------------------------------------------- */

/* Batches remembered per producer: Kafka's ProducerStateEntry keeps 5, since
 * a producer has at most 5 requests in flight per connection
 * (max.in.flight.requests.per.connection <= 5 with idempotence). */
#define PSTATE_BATCHES 5
/* Producers idle longer than this are forgotten (Kafka's
 * producer.id.expiration.ms default, one day). */
#define PSTATE_EXPIRATION_MS (24LL * 3600 * 1000)
#define PSTATE_FILE "producer-state.snapshot"
#define PSTATE_MAGIC "SLPSTAT1"
#define PSTATE_FILE_MAX (1u << 30)
/* Encoded sizes in the snapshot: an entry with its batch count, one batch. */
#define PSTATE_ENTRY_SIZE (8 + 2 + 8 + 1)
#define PSTATE_BATCH_SIZE (4 + 4 + 8 + 8)

typedef struct pbatch {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
} pbatch_t;

typedef struct pentry {
    int64_t producer_id; /* -1: free slot */
    int64_t last_ms;     /* wall clock of its last append (for expiration) */
    int16_t epoch;
    uint8_t nbatches;    /* 1..PSTATE_BATCHES once used */
    uint8_t oldest;      /* ring index of the oldest cached batch */
    pbatch_t batches[PSTATE_BATCHES];
} pentry_t;

/* An open-addressing table (linear probing) keyed by producer id.  Entries
 * are never removed one at a time: expiration rebuilds the table, which
 * happens when it fills up (so growth pays for it) and at open and close. */
struct bk_pstate {
    pentry_t *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
    char *dir;  /* partition folder for the snapshot, or NULL */
};

static const pbatch_t *entry_batch(const pentry_t *e, int i) /* 0 = oldest */
{
    return &e->batches[(e->oldest + i) % PSTATE_BATCHES];
}

static const pbatch_t *entry_newest(const pentry_t *e) { return entry_batch(e, e->nbatches - 1); }

static void entry_push(pentry_t *e, const pbatch_t *b)
{
    if (e->nbatches == PSTATE_BATCHES) {
        e->batches[e->oldest] = *b;
        e->oldest = (uint8_t)((e->oldest + 1) % PSTATE_BATCHES);
    } else {
        e->batches[(e->oldest + e->nbatches++) % PSTATE_BATCHES] = *b;
    }
}

/* seq + n, wrapping from INT32_MAX to 0 as Kafka's sequence numbers do. */
static int32_t seq_add(int32_t seq, int32_t n) { return (int32_t)(((int64_t)seq + n) % ((int64_t)INT32_MAX + 1)); }

static size_t slot_of(size_t cap, int64_t pid)
{
    return (size_t)(((uint64_t)pid * 0x9E3779B97F4A7C15ull) >> 29) & (cap - 1);
}

static pentry_t *pstate_find(const bk_pstate_t *ps, int64_t pid)
{
    if (!ps || ps->cap == 0)
        return NULL;
    for (size_t i = slot_of(ps->cap, pid);; i = (i + 1) & (ps->cap - 1)) {
        pentry_t *e = &ps->slots[i];
        if (e->producer_id == pid)
            return e;
        if (e->producer_id < 0)
            return NULL;
    }
}

/* The free slot for pid (the table always has one: load stays <= 3/4). */
static pentry_t *slot_claim(pentry_t *slots, size_t cap, int64_t pid)
{
    size_t i = slot_of(cap, pid);
    while (slots[i].producer_id >= 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static pentry_t *slots_alloc(size_t cap)
{
    pentry_t *s = malloc(cap * sizeof *s);
    for (size_t i = 0; s && i < cap; i++)
        s[i].producer_id = -1;
    return s;
}

static bool entry_live(const pentry_t *e, int64_t now_ms, int64_t log_start)
{
    return e->last_ms >= now_ms - PSTATE_EXPIRATION_MS && entry_newest(e)->last_offset >= log_start;
}

/* Rehash into a table with room for `extra` more entries, keeping only
 * producers active within the expiration window whose newest batch is still
 * in the log (Kafka drops the others too; a producer we no longer know is
 * accepted at any sequence).  Sized for a load of at most 3/8 afterwards.
 * Returns 0, or -1 when out of memory (the table is left as it was). */
static int pstate_rebuild(bk_pstate_t *ps, int64_t now_ms, int64_t log_start, size_t extra)
{
    size_t keep = 0;
    for (size_t i = 0; i < ps->cap; i++)
        if (ps->slots[i].producer_id >= 0 && entry_live(&ps->slots[i], now_ms, log_start))
            keep++;
    size_t cap = 16;
    while ((keep + extra) * 8 > cap * 3)
        cap *= 2;
    pentry_t *slots = slots_alloc(cap);
    if (!slots)
        return -1;
    for (size_t i = 0; i < ps->cap; i++) {
        const pentry_t *e = &ps->slots[i];
        if (e->producer_id >= 0 && entry_live(e, now_ms, log_start))
            *slot_claim(slots, cap, e->producer_id) = *e;
    }
    free(ps->slots);
    ps->slots = slots;
    ps->cap = cap;
    ps->count = keep;
    return 0;
}

static void pstate_clear(bk_pstate_t *ps)
{
    for (size_t i = 0; i < ps->cap; i++)
        ps->slots[i].producer_id = -1;
    ps->count = 0;
}

static int64_t log_start(const bk_partition_t *p) { return p->log ? sl_plog_start_offset(p->log) : 0; }

/* The entry for a producer not in the table yet; NULL when out of memory. */
static pentry_t *pstate_add(bk_partition_t *p, int64_t pid, int64_t now_ms)
{
    bk_pstate_t *ps = p->producers;
    if ((ps->count + 1) * 4 > ps->cap * 3 && pstate_rebuild(ps, now_ms, log_start(p), 1) != 0)
        return NULL;
    pentry_t *e = slot_claim(ps->slots, ps->cap, pid);
    memset(e, 0, sizeof *e);
    e->producer_id = pid;
    e->epoch = -1;
    ps->count++;
    return e;
}

/* Record a batch appended at base_offset (from Produce or the log replay). */
static void pstate_record(bk_partition_t *p, const sl_batch_header_t *h, int64_t base_offset, int64_t now_ms)
{
    pentry_t *e = pstate_find(p->producers, h->producer_id);
    if (!e && !(e = pstate_add(p, h->producer_id, now_ms))) {
        sl_log(SL_ERROR, "broker", "%s-%d: out of memory for producer %" PRId64 "'s state",
               p->topic ? p->topic->name : "?", p->id, h->producer_id);
        return;
    }
    if (h->producer_epoch != e->epoch) { /* a new epoch starts with an empty batch cache (as Kafka) */
        e->epoch = h->producer_epoch;
        e->nbatches = 0;
        e->oldest = 0;
    }
    pbatch_t b = {h->base_sequence, seq_add(h->base_sequence, h->last_offset_delta), base_offset,
                  base_offset + h->last_offset_delta};
    entry_push(e, &b);
    e->last_ms = now_ms;
}

/* Kafka's rules (UnifiedLog.analyzeAndValidateProducerState and
 * ProducerAppendInfo.checkSequence, Kafka 2.5 and later):
 * - a producer we have no state for is accepted at any sequence: Kafka stopped
 *   answering UNKNOWN_PRODUCER_ID here (KIP-360) because the state is normally
 *   gone only after retention or DeleteRecords removed the producer's batches
 *   (or it expired), and erroring makes the client reset and resend, which
 *   brings back the duplicates idempotence exists to prevent.  Our state
 *   survives restarts, so this case means exactly that;
 * - a lower epoch than the one we know: INVALID_PRODUCER_EPOCH (fenced);
 * - a higher epoch must start again at sequence 0;
 * - the same epoch: a batch with the first and last sequence of one of the
 *   last five is a duplicate; otherwise it must follow the last sequence.
 * A batch with a producer id but no sequence is INVALID_RECORD, as Kafka's
 * LogValidator rejects it. */
int16_t bk_pstate_check(bk_partition_t *p, const sl_batch_header_t *h, int64_t *dup_base_offset)
{
    if (h->producer_id < 0)
        return SL_KERR_NONE;
    if (h->base_sequence < 0 || h->last_offset_delta < 0)
        return SL_KERR_INVALID_RECORD;
    const pentry_t *e = pstate_find(p->producers, h->producer_id);
    if (!e)
        return SL_KERR_NONE;
    if (h->producer_epoch < e->epoch)
        return SL_KERR_INVALID_PRODUCER_EPOCH;
    if (h->producer_epoch > e->epoch)
        return h->base_sequence == 0 ? SL_KERR_NONE : SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    int32_t last_seq = seq_add(h->base_sequence, h->last_offset_delta);
    for (int i = 0; i < e->nbatches; i++) {
        const pbatch_t *b = entry_batch(e, i);
        if (b->first_seq == h->base_sequence && b->last_seq == last_seq) {
            *dup_base_offset = b->first_offset;
            return SL_KERR_DUPLICATE_SEQUENCE_NUMBER;
        }
    }
    return h->base_sequence == seq_add(entry_newest(e)->last_seq, 1) ? SL_KERR_NONE
                                                                      : SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
}

void bk_pstate_update(bk_partition_t *p, const sl_batch_header_t *h, int64_t base_offset)
{
    if (!p->producers || h->producer_id < 0 || h->base_sequence < 0 || h->last_offset_delta < 0)
        return;
    pstate_record(p, h, base_offset, sl_now_ms());
}

/* ---- snapshot and replay ------------------------------------------------------------- */

/* Snapshot layout (big-endian): magic "SLPSTAT1", int64 log end offset it was
 * taken at, int32 entry count, then per entry: int64 producer id, int16 epoch,
 * int64 last-append wall clock, int8 batch count (1..5), and per batch (oldest
 * first) int32 first seq, int32 last seq, int64 first offset, int64 last
 * offset; finally the CRC-32C of everything before it. */
static int pstate_snapshot_write(bk_partition_t *p, sl_err_t *err)
{
    bk_pstate_t *ps = p->producers;
    int64_t end = sl_plog_end_offset(p->log);
    /* The snapshot must never claim offsets that a crash could still take
     * away from the log: sync the log first (cheap at shutdown). */
    int rc = sl_plog_flush(p->log);
    if (rc)
        return sl_err_set(err, rc, "cannot sync the log before the snapshot");
    sl_buf_t buf;
    sl_buf_init(&buf);
    kw_t w = {&buf, false};
    kw_raw(&w, PSTATE_MAGIC, 8);
    kw_i64(&w, end);
    kw_i32(&w, (int32_t)ps->count);
    for (size_t i = 0; i < ps->cap; i++) {
        const pentry_t *e = &ps->slots[i];
        if (e->producer_id < 0)
            continue;
        kw_i64(&w, e->producer_id);
        kw_i16(&w, e->epoch);
        kw_i64(&w, e->last_ms);
        kw_i8(&w, (int8_t)e->nbatches);
        for (int j = 0; j < e->nbatches; j++) {
            const pbatch_t *b = entry_batch(e, j);
            kw_i32(&w, b->first_seq);
            kw_i32(&w, b->last_seq);
            kw_i64(&w, b->first_offset);
            kw_i64(&w, b->last_offset);
        }
    }
    uint8_t crc[4];
    sl_put_be32(crc, w.err ? 0 : sl_crc32c(0, buf.data, buf.len));
    kw_raw(&w, crc, 4);
    if (w.err)
        rc = sl_err_set(err, SL_B_ENOMEM, "out of memory");
    else if (buf.len > PSTATE_FILE_MAX)
        rc = sl_err_set(err, SL_B_ETOOLARGE, "%zu producers are too many to snapshot", ps->count);
    else
        rc = write_file_atomic(ps->dir, PSTATE_FILE, buf.data, buf.len, err);
    sl_buf_free(&buf);
    return rc;
}

/* Load the snapshot into the (empty) table.  Returns the log offset it was
 * taken at, or -1 when there is none to use: absent, torn, corrupt, or ahead
 * of the log (then the table is left empty and the caller replays the whole
 * log). */
static int64_t pstate_snapshot_load(bk_partition_t *p)
{
    bk_pstate_t *ps = p->producers;
    const char *tp = p->topic ? p->topic->name : "?";
    char path[4400];
    if (snprintf(path, sizeof path, "%s/%s", ps->dir, PSTATE_FILE) >= (int)sizeof path)
        return -1;
    sl_buf_t buf;
    sl_buf_init(&buf);
    sl_err_t err = {0};
    int rc = read_file(path, PSTATE_FILE_MAX, &buf, &err);
    int64_t end = -1;
    const char *why = NULL;
    if (rc == 1) {
        sl_buf_free(&buf);
        return -1;
    }
    if (rc < 0)
        why = err.msg;
    else if (buf.len < 8 + 8 + 4 + 4 || memcmp(buf.data, PSTATE_MAGIC, 8) != 0)
        why = "too short or not a snapshot";
    else if (sl_be32(buf.data + buf.len - 4) != sl_crc32c(0, buf.data, buf.len - 4))
        why = "checksum mismatch (torn or corrupt)";
    if (!why) {
        kr_t r;
        kr_init(&r, buf.data + 8, buf.len - 12);
        end = kr_i64(&r);
        int32_t n = kr_array(&r, PSTATE_ENTRY_SIZE + PSTATE_BATCH_SIZE);
        size_t cap = 16;
        while ((size_t)n * 8 > cap * 3)
            cap *= 2;
        if (!r.err && !(ps->slots = slots_alloc(cap)))
            why = "out of memory";
        else if (!r.err)
            ps->cap = cap;
        for (int32_t i = 0; !why && !r.err && i < n; i++) {
            pentry_t e = {0};
            e.producer_id = kr_i64(&r);
            e.epoch = kr_i16(&r);
            e.last_ms = kr_i64(&r);
            int8_t nb = kr_i8(&r);
            if (e.producer_id < 0 || nb < 1 || nb > PSTATE_BATCHES || pstate_find(ps, e.producer_id)) {
                r.err = true;
                break;
            }
            for (int j = 0; j < nb; j++) {
                pbatch_t b;
                b.first_seq = kr_i32(&r);
                b.last_seq = kr_i32(&r);
                b.first_offset = kr_i64(&r);
                b.last_offset = kr_i64(&r);
                entry_push(&e, &b);
            }
            if (!r.err) {
                *slot_claim(ps->slots, ps->cap, e.producer_id) = e;
                ps->count++;
            }
        }
        if (!why && (r.err || kr_left(&r) != 0))
            why = "malformed content";
        else if (!why && (end < 0 || end > sl_plog_end_offset(p->log)))
            why = "taken beyond the log end";
    }
    sl_buf_free(&buf);
    if (why) {
        sl_log(SL_WARN, "broker", "%s-%d: ignoring producer state snapshot (%s); rebuilding it from the log", tp,
               p->id, why);
        pstate_clear(ps);
        return -1;
    }
    return end;
}

typedef struct replay {
    bk_partition_t *p;
    int64_t now_ms;
    int64_t batches;
} replay_t;

/* Replayed producers count as active now: a batch's own timestamp is the
 * client's and may be anything, so it is not trusted for expiration. */
static int replay_batch(void *arg, const sl_batch_header_t *h)
{
    replay_t *rp = arg;
    if (h->producer_id >= 0 && h->base_sequence >= 0 && h->last_offset_delta >= 0 &&
        !(h->attributes & SL_BATCH_ATTR_CONTROL))
        pstate_record(rp->p, h, h->base_offset, rp->now_ms);
    rp->batches++;
    return 0;
}

int bk_pstate_open(bk_partition_t *p, sl_err_t *err)
{
    bk_pstate_t *ps = calloc(1, sizeof *ps);
    if (!ps || (p->dir && !(ps->dir = strdup(p->dir)))) {
        free(ps);
        return sl_err_set(err, SL_B_ENOMEM, "out of memory");
    }
    p->producers = ps;
    const char *tp = p->topic ? p->topic->name : "?";
    int64_t now = sl_now_ms();
    int64_t from = ps->dir ? pstate_snapshot_load(p) : -1;
    if (!ps->dir)
        sl_log(SL_WARN, "broker", "%s-%d: partition folder unknown: producer state is rebuilt from the whole log and "
               "not snapshotted", tp, p->id);
    if (from < 0)
        from = sl_plog_start_offset(p->log);
    replay_t rp = {p, now, 0};
    int rc = sl_plog_scan_batches(p->log, from, replay_batch, &rp, err);
    if (rc) {
        free(ps->slots);
        free(ps->dir);
        free(ps);
        p->producers = NULL;
        return rc;
    }
    pstate_rebuild(ps, now, log_start(p), 0); /* drop expired producers; on failure keep them all */
    sl_log(SL_DEBUG, "broker", "%s-%d: %zu producer(s); replayed %" PRId64 " batch(es) from offset %" PRId64, tp,
           p->id, ps->count, rp.batches, from);
    return 0;
}

void bk_pstate_close(bk_partition_t *p)
{
    bk_pstate_t *ps = p->producers;
    if (!ps)
        return;
    if (ps->dir && p->log) {
        sl_err_t err = {0};
        pstate_rebuild(ps, sl_now_ms(), log_start(p), 0);
        if (pstate_snapshot_write(p, &err) != 0)
            sl_log(SL_WARN, "broker", "%s-%d: producer state snapshot not written (it will be rebuilt from the log): %s",
                   p->topic ? p->topic->name : "?", p->id, err.msg);
    }
    free(ps->slots);
    free(ps->dir);
    free(ps);
    p->producers = NULL;
}
