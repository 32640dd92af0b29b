/* Helpers shared by the runtime tests, crash test and benchmark: topics over
 * the embedded logs (create, produce batches, read every record back), and
 * the word-count topology (flat_map split -> group_by -> count).  Header-only
 * so each test stays one executable from one .c file. */
#ifndef SL_TEST_ENGINE_RUNTIME_UTIL_H
#define SL_TEST_ENGINE_RUNTIME_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/broker.h"
#include "engine/engine.h"

#define RTU_CHECK(expr)                                                                                              \
    do {                                                                                                             \
        int rtu_rc_ = (expr);                                                                                        \
        if (rtu_rc_) {                                                                                               \
            fprintf(stderr, "%s:%d: %s failed: %d %s\n", __FILE__, __LINE__, #expr, rtu_rc_, rtu_err.msg);           \
            abort();                                                                                                 \
        }                                                                                                            \
    } while (0)

static sl_err_t rtu_err;

/* Record i of a generated stream: key and value into the given buffers. */
typedef void (*rtu_gen_fn)(void *arg, long i, char *key, size_t key_cap, char *value, size_t value_cap);

static inline void rtu_flush_builder(sl_rt_logs_t *logs, void *part, sl_batch_builder_t *b, sl_buf_t *out)
{
    sl_buf_reset(out);
    RTU_CHECK(sl_batch_builder_finish(b, out, &rtu_err));
    RTU_CHECK(logs->append(part, out->data, out->len, &rtu_err));
    sl_batch_builder_begin(b, SL_COMPRESSION_NONE, 0);
}

/* Append records first..first+n-1 to topic (created with `partitions` if
 * missing), each to the partition Kafka's partitioner picks for its key. */
static inline void rtu_produce(sl_rt_logs_t *logs, const char *topic, int32_t partitions, long first, long n,
                               rtu_gen_fn gen, void *arg)
{
    RTU_CHECK(logs->create_topic(logs->ctx, topic, partitions, &rtu_err));
    sl_batch_builder_t *b = calloc((size_t)partitions, sizeof *b);
    void **parts = calloc((size_t)partitions, sizeof *parts);
    sl_buf_t out;
    sl_buf_init(&out);
    for (int32_t p = 0; p < partitions; p++) {
        sl_batch_builder_init(&b[p]);
        sl_batch_builder_begin(&b[p], SL_COMPRESSION_NONE, 0);
        RTU_CHECK(logs->open(logs->ctx, topic, p, &parts[p], &rtu_err));
    }
    for (long i = first; i < first + n; i++) {
        char k[64], v[256];
        gen(arg, i, k, sizeof k, v, sizeof v);
        int32_t p = sl_partition_for_key(k, strlen(k), partitions);
        RTU_CHECK(sl_batch_builder_add(&b[p], 1000 + i, k, (int32_t)strlen(k), v, (int32_t)strlen(v), NULL, 0));
        if (b[p].count == 1000)
            rtu_flush_builder(logs, parts[p], &b[p], &out);
    }
    for (int32_t p = 0; p < partitions; p++)
        if (b[p].count)
            rtu_flush_builder(logs, parts[p], &b[p], &out);
    for (int32_t p = 0; p < partitions; p++) {
        RTU_CHECK(logs->sync(parts[p], &rtu_err));
        sl_batch_builder_free(&b[p]);
    }
    sl_buf_free(&out);
    free(b);
    free(parts);
}

/* Call fn for every record of topic-partition, in offset order; returns how
 * many batches there were. */
static inline long rtu_read_all(sl_rt_logs_t *logs, const char *topic, int32_t partition,
                                void (*fn)(void *arg, const sl_record_t *r, const sl_batch_header_t *h), void *arg)
{
    void *part;
    RTU_CHECK(logs->open(logs->ctx, topic, partition, &part, &rtu_err));
    sl_buf_t buf;
    sl_buf_init(&buf);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    int64_t off = 0;
    long batches = 0;
    for (;;) {
        sl_buf_reset(&buf);
        RTU_CHECK(logs->read(part, off, 1 << 20, &buf, &rtu_err));
        if (!buf.len)
            break;
        size_t pos = 0;
        while (pos < buf.len) {
            sl_batch_header_t h;
            RTU_CHECK(sl_batch_parse_header(buf.data + pos, buf.len - pos, &h, &rtu_err));
            RTU_CHECK(sl_batch_iter_start(&it, buf.data + pos, sl_batch_size(&h), &rtu_err));
            sl_record_t r;
            while (sl_batch_iter_next(&it, &r, &rtu_err) == 1)
                if (r.offset >= off)
                    fn(arg, &r, &h);
            off = h.base_offset + h.last_offset_delta + 1;
            pos += sl_batch_size(&h);
            batches++;
        }
    }
    sl_batch_iter_free(&it);
    sl_buf_free(&buf);
    return batches;
}

/* flat_map: one record per space-separated word of the value, keyed by it. */
static inline int rtu_split(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err)
{
    const uint8_t *p = in->value, *end = in->value + (in->value_len > 0 ? in->value_len : 0);
    while (p < end) {
        const uint8_t *w = p;
        while (p < end && *p != ' ')
            p++;
        if (p > w) {
            sl_rec_t r = *in;
            r.key = w;
            r.key_len = (int32_t)(p - w);
            r.value = w;
            r.value_len = r.key_len;
            int rc = sl_emit(out, &r);
            if (rc)
                return rc;
        }
        p++;
    }
    return 0;
}

/* lines (topic `in`) -> words -> group by word -> count (store "counts") ->
 * topic `out`; with `copy`, the lines also go unchanged to that topic. */
static inline sl_topo_t *rtu_wordcount(const char *app, const char *in, const char *out, const char *copy)
{
    sl_topo_t *t;
    RTU_CHECK(sl_topo_new(app, &t));
    const char *topics[] = {in};
    RTU_CHECK(sl_topo_add_source(t, "lines", topics, 1, NULL));
    RTU_CHECK(sl_topo_add_flat_map(t, "words", "lines", rtu_split, NULL));
    RTU_CHECK(sl_topo_add_group_by(t, "by-word", "words", NULL, NULL));
    RTU_CHECK(sl_topo_add_count(t, "count", "by-word", "counts"));
    RTU_CHECK(sl_topo_add_sink(t, "out", "count", out));
    if (copy)
        RTU_CHECK(sl_topo_add_sink(t, "copy", "lines", copy));
    RTU_CHECK(sl_topo_build(t, &rtu_err));
    return t;
}

/* Start rt, wait until it has caught up with its inputs (at most timeout_s), stop. */
static inline void rtu_run_to_end(sl_runtime_t *rt, int timeout_s)
{
    RTU_CHECK(sl_runtime_start(rt, &rtu_err));
    int64_t deadline = sl_now_ms() + timeout_s * 1000LL;
    while (!sl_runtime_caught_up(rt) && sl_now_ms() < deadline) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    RTU_CHECK(sl_runtime_stop(rt, &rtu_err));
    if (!sl_runtime_caught_up(rt)) {
        fprintf(stderr, "runtime did not catch up in %d s\n", timeout_s);
        abort();
    }
}

/* Decode a msgpack integer value. */
static inline int64_t rtu_int(sl_codec_t *c, const uint8_t *p, int32_t n)
{
    int64_t v = -1;
    if (n < 0 || sl_codec_unpack_i64(c, p, (size_t)n, &v) != 0) {
        fprintf(stderr, "value is not a msgpack integer\n");
        abort();
    }
    return v;
}

#endif
