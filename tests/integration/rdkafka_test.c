/* Integration peer on librdkafka (the C client, as librdkafka's own numbered
 * tests use a real broker): driven by test_rdkafka.py, which starts, kills and
 * restarts `sluice broker` around it.  Three scenarios, one per command:
 *   idempotent    an idempotent producer (enable.idempotence) whose every
 *                 message must be delivered once, at the offset it is then
 *                 read back from, even across broker SIGKILLs mid-stream;
 *   group         two members split a 6-partition topic, a third joins and
 *                 the group rebalances: every record read exactly once;
 *   group-resume  after a broker restart, a new member of the same group
 *                 resumes at the committed offsets and reads only what came
 *                 after them.
 * Prints "FAIL: why" and exits 1 when a check fails; "OK ..." on success. */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NPARTS 6

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    exit(1);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        fail("config %s=%s: %s", k, v, errstr);
}

static rd_kafka_conf_t *base_conf(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", bootstrap);
    /* Reconnect quickly to a restarted broker (the default backs off to 10 s). */
    conf_set(conf, "reconnect.backoff.ms", "50");
    conf_set(conf, "reconnect.backoff.max.ms", "500");
    return conf;
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk)
        fail("rd_kafka_new: %s", errstr);
    return rk;
}

/* CreateTopics through the Admin API; an existing topic is fine. */
static void create_topic(const char *bootstrap, const char *topic, int partitions)
{
    rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, base_conf(bootstrap));
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof errstr);
    if (!nt)
        fail("NewTopic: %s", errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (!ev)
        fail("CreateTopics %s: no answer within 30 s", topic);
    if (rd_kafka_event_error(ev))
        fail("CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1)
        fail("CreateTopics %s: %zu results", topic, n);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[0]);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        fail("CreateTopics %s: %s", topic, rd_kafka_err2str(err));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
}

/* ---- idempotent producer ------------------------------------------------------- */

typedef struct delivery {
    int count;           /* delivery reports for this message */
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
    int seen;            /* times read back */
} delivery_t;

static delivery_t *g_dr;
static int g_dr_total, g_dr_failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    int id = (int)(intptr_t)m->_private;
    delivery_t *d = &g_dr[id];
    d->count++;
    d->err = m->err;
    d->partition = m->partition;
    d->offset = m->offset;
    g_dr_total++;
    if (m->err)
        g_dr_failed++;
}

/* Read every partition of `topic` from the beginning to its end (EOF on all),
 * calling fn for each record. */
static void read_all(const char *bootstrap, const char *topic, int partitions,
                     void (*fn)(const rd_kafka_message_t *m, void *arg), void *arg)
{
    rd_kafka_conf_t *conf = base_conf(bootstrap);
    conf_set(conf, "group.id", "rdkafka-test-reader");
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.partition.eof", "true");
    rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, conf);
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(tps, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, tps);
    rd_kafka_topic_partition_list_destroy(tps);
    bool eof[NPARTS] = {false};
    if (partitions > NPARTS)
        fail("read_all: at most %d partitions", NPARTS);
    int neof = 0;
    int64_t deadline = now_ms() + 60000;
    while (neof < partitions) {
        if (now_ms() > deadline)
            fail("reading %s back: EOF on %d of %d partitions after 60 s", topic, neof, partitions);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fail("reading %s back: %s", topic, rd_kafka_message_errstr(m));
        if (m->partition < 0 || m->partition >= partitions)
            fail("reading %s back: message for partition %" PRId32, topic, m->partition);
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (!eof[m->partition]) {
                eof[m->partition] = true;
                neof++;
            }
        } else {
            if (eof[m->partition]) { /* a record after EOF: not at the end after all */
                eof[m->partition] = false;
                neof--;
            }
            fn(m, arg);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void idem_seen(const rd_kafka_message_t *m, void *arg)
{
    int count = *(int *)arg, id;
    char key[32];
    if (!m->key || m->key_len >= sizeof key)
        fail("unexpected key at %" PRId32 "/%" PRId64, m->partition, m->offset);
    memcpy(key, m->key, m->key_len);
    key[m->key_len] = '\0';
    if (sscanf(key, "id-%d", &id) != 1 || id < 0 || id >= count)
        fail("unexpected key '%s' at %" PRId32 "/%" PRId64, key, m->partition, m->offset);
    delivery_t *d = &g_dr[id];
    d->seen++;
    if (d->partition != m->partition || d->offset != m->offset)
        fail("id-%d was acknowledged at %" PRId32 "/%" PRId64 " but read at %" PRId32 "/%" PRId64, id,
             d->partition, d->offset, m->partition, m->offset);
    char want[64];
    int n = snprintf(want, sizeof want, "value-%d", id);
    if ((int)m->len != n || memcmp(m->payload, want, (size_t)n) != 0)
        fail("id-%d read back with a different value", id);
}

/* Produce `count` messages over about `seconds` (the driver kills the broker
 * meanwhile), then check: one successful delivery report per message, and each
 * read back exactly once at its acknowledged offset. */
static int cmd_idempotent(const char *bootstrap, const char *topic, int count, int seconds)
{
    create_topic(bootstrap, topic, 3);
    g_dr = calloc((size_t)count, sizeof *g_dr);
    rd_kafka_conf_t *conf = base_conf(bootstrap);
    conf_set(conf, "enable.idempotence", "true");
    conf_set(conf, "acks", "all");
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "message.timeout.ms", "90000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, conf);
    printf("producing %d messages over %d s\n", count, seconds);
    fflush(stdout);
    int64_t start = now_ms();
    for (int i = 0; i < count; i++) {
        /* Pace: message i is due at start + i * seconds / count. */
        int64_t due = start + (int64_t)i * seconds * 1000 / count;
        while (now_ms() < due)
            rd_kafka_poll(rk, 1);
        char key[32], val[32];
        int kl = snprintf(key, sizeof key, "id-%d", i), vl = snprintf(val, sizeof val, "value-%d", i);
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(i % 3), RD_KAFKA_V_KEY(key, (size_t)kl),
                RD_KAFKA_V_VALUE(val, (size_t)vl), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                fail("produce id-%d: %s", i, rd_kafka_err2str(err));
            rd_kafka_poll(rk, 10);
        }
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fail("flush: %d message(s) still undelivered after 120 s", rd_kafka_outq_len(rk));
    char errstr[512];
    rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, errstr, sizeof errstr);
    if (ferr)
        fail("idempotent producer fatal error: %s: %s", rd_kafka_err2name(ferr), errstr);
    rd_kafka_destroy(rk);
    for (int i = 0; i < count; i++) {
        if (g_dr[i].count != 1)
            fail("id-%d got %d delivery reports", i, g_dr[i].count);
        if (g_dr[i].err)
            fail("id-%d delivery failed: %s", i, rd_kafka_err2str(g_dr[i].err));
    }
    printf("delivered %d (reports %d, failed %d); reading back\n", count, g_dr_total, g_dr_failed);
    fflush(stdout);
    read_all(bootstrap, topic, 3, idem_seen, &count);
    for (int i = 0; i < count; i++)
        if (g_dr[i].seen != 1)
            fail("id-%d read back %d times", i, g_dr[i].seen);
    printf("OK idempotent: %d messages delivered and read back exactly once\n", count);
    free(g_dr);
    return 0;
}

/* ---- consumer group ----------------------------------------------------------------- */

typedef struct member {
    const char *name;
    rd_kafka_t *rk;
    bool owns[NPARTS];
    int nowned;
    int consumed;
    int generation_changes;
} member_t;

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
    member_t *mb = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;
            if (p >= 0 && p < NPARTS && !mb->owns[p]) {
                mb->owns[p] = true;
                mb->nowned++;
            }
        }
        rd_kafka_assign(rk, parts);
    } else {
        /* Eager protocol: commit what was read before giving partitions up,
         * so that the next owner starts exactly there. */
        rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, NULL, 0);
        if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
            fail("%s: commit on revoke: %s", mb->name, rd_kafka_err2str(cerr));
        memset(mb->owns, 0, sizeof mb->owns);
        mb->nowned = 0;
        rd_kafka_assign(rk, NULL);
    }
    mb->generation_changes++;
}

static void member_start(member_t *mb, const char *name, const char *bootstrap, const char *group, const char *topic)
{
    memset(mb, 0, sizeof *mb);
    mb->name = name;
    rd_kafka_conf_t *conf = base_conf(bootstrap);
    conf_set(conf, "group.id", group);
    conf_set(conf, "client.id", name);
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "session.timeout.ms", "10000");
    conf_set(conf, "heartbeat.interval.ms", "300");
    conf_set(conf, "partition.assignment.strategy", "range");
    rd_kafka_conf_set_opaque(conf, mb);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    mb->rk = new_handle(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(mb->rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(mb->rk, sub);
    if (err)
        fail("%s: subscribe: %s", name, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(sub);
}

typedef struct tally {
    int nkeys;
    int *seen;       /* per key index */
    int total;
} tally_t;

/* One poll of each member; records go to the tally (key "g<phase>-<i>"). */
static void poll_members(member_t *mbs, int n, tally_t *t, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        member_t *mb = &mbs[i];
        rd_kafka_message_t *m = rd_kafka_consumer_poll(mb->rk, 20);
        int got = 0;
        while (m) {
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    fail("%s: consumer error: %s", mb->name, rd_kafka_message_errstr(m));
            } else {
                if (m->partition < 0 || m->partition >= NPARTS || !mb->owns[m->partition])
                    fail("%s read partition %" PRId32 ", which it does not own", mb->name, m->partition);
                char key[48];
                int idx;
                size_t kl = m->key_len < sizeof key - 1 ? m->key_len : sizeof key - 1;
                memcpy(key, m->key ? m->key : "", m->key ? kl : 0);
                key[m->key ? kl : 0] = '\0';
                size_t pl = strlen(prefix);
                if (strncmp(key, prefix, pl) != 0 || sscanf(key + pl, "%d", &idx) != 1 || idx < 0 ||
                    idx >= t->nkeys)
                    fail("%s read unexpected key '%s' at %" PRId32 "/%" PRId64 " (expected %s<n>)", mb->name, key,
                         m->partition, m->offset, prefix);
                t->seen[idx]++;
                if (t->seen[idx] > 1)
                    fail("%s read %s a second time (at %" PRId32 "/%" PRId64 ")", mb->name, key, m->partition,
                         m->offset);
                t->total++;
                mb->consumed++;
                got++;
            }
            rd_kafka_message_destroy(m);
            m = got < 500 ? rd_kafka_consumer_poll(mb->rk, 0) : NULL;
        }
        if (got) {
            rd_kafka_resp_err_t err = rd_kafka_commit(mb->rk, NULL, 0); /* synchronous */
            if (err)
                fail("%s: commit: %s", mb->name, rd_kafka_err2str(err));
        }
    }
}

/* True when the members' assignments are disjoint, cover all partitions and
 * each member has `each`. */
static bool split_evenly(member_t *mbs, int n, int each)
{
    int owners[NPARTS] = {0};
    for (int i = 0; i < n; i++) {
        if (mbs[i].nowned != each)
            return false;
        for (int p = 0; p < NPARTS; p++)
            owners[p] += mbs[i].owns[p];
    }
    for (int p = 0; p < NPARTS; p++)
        if (owners[p] != 1)
            return false;
    return true;
}

static void describe(member_t *mbs, int n, char *out, size_t cap)
{
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        at += (size_t)snprintf(out + at, cap - at, "%s%s=[", i ? " " : "", mbs[i].name);
        for (int p = 0; p < NPARTS; p++)
            if (mbs[i].owns[p])
                at += (size_t)snprintf(out + at, cap - at, "%d", p);
        at += (size_t)snprintf(out + at, cap - at, "]");
    }
}

static void produce_keys(const char *bootstrap, const char *topic, const char *prefix, int from, int to)
{
    rd_kafka_conf_t *conf = base_conf(bootstrap);
    conf_set(conf, "acks", "all");
    conf_set(conf, "linger.ms", "5");
    rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, conf);
    for (int i = from; i < to; i++) {
        char key[48];
        int kl = snprintf(key, sizeof key, "%s%d", prefix, i);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(i % NPARTS),
                                        RD_KAFKA_V_KEY(key, (size_t)kl), RD_KAFKA_V_VALUE(key, (size_t)kl),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (err)
            fail("produce %s: %s", key, rd_kafka_err2str(err));
    }
    if (rd_kafka_flush(rk, 60000))
        fail("produce: %d message(s) undelivered after 60 s", rd_kafka_outq_len(rk));
    rd_kafka_destroy(rk);
}

static void wait_split(member_t *mbs, int n, int each, tally_t *t, const char *prefix, const char *what)
{
    int64_t deadline = now_ms() + 30000;
    while (!split_evenly(mbs, n, each)) {
        if (now_ms() > deadline) {
            char d[256];
            describe(mbs, n, d, sizeof d);
            fail("%s: no even split of %d partitions after 30 s: %s", what, NPARTS, d);
        }
        poll_members(mbs, n, t, prefix);
    }
}

static void consume_until(member_t *mbs, int n, tally_t *t, const char *prefix, int want, const char *what)
{
    int64_t deadline = now_ms() + 30000;
    while (t->total < want) {
        if (now_ms() > deadline)
            fail("%s: read %d of %d records in 30 s", what, t->total, want);
        poll_members(mbs, n, t, prefix);
    }
}

#define PHASE_A 3000 /* read by two members */
#define PHASE_B 3000 /* read by three, after the rebalance */
#define PHASE_C 600  /* produced after the group closed: all a resumed member may read */

static int cmd_group(const char *bootstrap, const char *topic, const char *group)
{
    create_topic(bootstrap, topic, NPARTS);
    tally_t t = {PHASE_A + PHASE_B, calloc(PHASE_A + PHASE_B, sizeof(int)), 0};
    member_t mbs[3];
    member_start(&mbs[0], "member-a", bootstrap, group, topic);
    member_start(&mbs[1], "member-b", bootstrap, group, topic);
    wait_split(mbs, 2, 3, &t, "g1-", "two members");
    produce_keys(bootstrap, topic, "g1-", 0, PHASE_A);
    consume_until(mbs, 2, &t, "g1-", PHASE_A, "two members");
    char d[256];
    describe(mbs, 2, d, sizeof d);
    printf("two members split the topic: %s; read a=%d b=%d\n", d, mbs[0].consumed, mbs[1].consumed);
    fflush(stdout);
    if (!mbs[0].consumed || !mbs[1].consumed)
        fail("a member read nothing (a=%d b=%d)", mbs[0].consumed, mbs[1].consumed);

    member_start(&mbs[2], "member-c", bootstrap, group, topic);
    wait_split(mbs, 3, 2, &t, "g1-", "three members");
    describe(mbs, 3, d, sizeof d);
    printf("after the third member joined: %s\n", d);
    fflush(stdout);
    int before[3] = {mbs[0].consumed, mbs[1].consumed, mbs[2].consumed};
    produce_keys(bootstrap, topic, "g1-", PHASE_A, PHASE_A + PHASE_B);
    consume_until(mbs, 3, &t, "g1-", PHASE_A + PHASE_B, "three members");
    for (int i = 0; i < 3; i++)
        if (mbs[i].consumed == before[i])
            fail("%s read nothing after the rebalance", mbs[i].name);
    for (int i = 0; i < PHASE_A + PHASE_B; i++)
        if (t.seen[i] != 1)
            fail("g1-%d read %d times", i, t.seen[i]);
    for (int i = 0; i < 3; i++) {
        rd_kafka_resp_err_t err = rd_kafka_consumer_close(mbs[i].rk);
        if (err)
            fail("%s: close: %s", mbs[i].name, rd_kafka_err2str(err));
        rd_kafka_destroy(mbs[i].rk);
    }
    /* Records the group has not read: the resumed member must read exactly these. */
    produce_keys(bootstrap, topic, "g2-", 0, PHASE_C);
    printf("OK group: %d records read exactly once by 2 then 3 members (a=%d b=%d c=%d)\n", t.total,
           mbs[0].consumed, mbs[1].consumed, mbs[2].consumed);
    free(t.seen);
    return 0;
}

static int cmd_group_resume(const char *bootstrap, const char *topic, const char *group)
{
    member_t mb;
    member_start(&mb, "member-d", bootstrap, group, topic);
    /* The committed offsets: everything of phases A and B, per partition. */
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(NPARTS);
    for (int p = 0; p < NPARTS; p++)
        rd_kafka_topic_partition_list_add(tps, topic, p);
    rd_kafka_resp_err_t err = rd_kafka_committed(mb.rk, tps, 20000);
    if (err)
        fail("committed: %s", rd_kafka_err2str(err));
    for (int p = 0; p < NPARTS; p++) {
        int64_t want = (PHASE_A + PHASE_B) / NPARTS;
        if (tps->elems[p].err)
            fail("committed offset of partition %d: %s", p, rd_kafka_err2str(tps->elems[p].err));
        if (tps->elems[p].offset != want)
            fail("committed offset of partition %d after the restart: %" PRId64 ", expected %" PRId64, p,
                 tps->elems[p].offset, want);
    }
    rd_kafka_topic_partition_list_destroy(tps);
    tally_t t = {PHASE_C, calloc(PHASE_C, sizeof(int)), 0};
    wait_split(&mb, 1, NPARTS, &t, "g2-", "resumed member");
    consume_until(&mb, 1, &t, "g2-", PHASE_C, "resumed member");
    /* Nothing more may come (e.g. phase-A records re-read from the start):
     * poll a little longer; poll_members fails on any unexpected key. */
    int64_t until = now_ms() + 1500;
    while (now_ms() < until)
        poll_members(&mb, 1, &t, "g2-");
    if (t.total != PHASE_C)
        fail("resumed member read %d records, expected %d", t.total, PHASE_C);
    rd_kafka_consumer_close(mb.rk);
    rd_kafka_destroy(mb.rk);
    printf("OK group-resume: resumed at the committed offsets, read the %d new records only\n", PHASE_C);
    free(t.seen);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 6 && strcmp(argv[1], "idempotent") == 0)
        return cmd_idempotent(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    if (argc == 5 && strcmp(argv[1], "group") == 0)
        return cmd_group(argv[2], argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "group-resume") == 0)
        return cmd_group_resume(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: rdkafka_test idempotent BOOTSTRAP TOPIC COUNT SECONDS\n"
                    "       rdkafka_test group BOOTSTRAP TOPIC GROUP\n"
                    "       rdkafka_test group-resume BOOTSTRAP TOPIC GROUP\n");
    return 2;
}
