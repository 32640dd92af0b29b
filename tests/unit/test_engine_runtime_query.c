/* The runtime's query API (engine/runtime_query.c), which the HTTP server
 * reads tables through: which stores are tables (aggregations and table
 * sources, not the buffers of a stream-stream join), their kinds and
 * partitions, and each partition's store read through a snapshot: every word
 * counted over 3 partitions is found in the partition Kafka's partitioner
 * names for it, and the per-partition counts add up to the reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_engine_runtime_util.h"
#include "testutil.h"

#define PARTS 3
#define LINES 2000
#define WORDS 300

static void gen_line(void *arg, long i, char *k, size_t kc, char *v, size_t vc)
{
    snprintf(k, kc, "line%ld", i);
    snprintf(v, vc, "w%ld w%ld", (i * 7) % WORDS, (i * 13 + 5) % WORDS);
}

static void gen_user(void *arg, long i, char *k, size_t kc, char *v, size_t vc)
{
    snprintf(k, kc, "user%ld", i);
    snprintf(v, vc, "{\"n\":%ld}", i);
}

static int pair_joiner(void *arg, const sl_rec_t *l, const sl_rec_t *r, sl_buf_t *out, sl_err_t *err)
{
    return sl_buf_append(out, "x", 1);
}

static void test_tables_are_listed_and_read_per_partition(void **state)
{
    char *dir = tu_mkdtemp("rtquery");
    char data[300], st[300];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(st, sizeof st, "%s/state", dir);
    sl_rt_logs_t *logs;
    assert_int_equal(sl_rt_logs_embedded(data, &logs, &rtu_err), 0);
    rtu_produce(logs, "lines", PARTS, 0, LINES, gen_line, NULL);
    rtu_produce(logs, "users", PARTS, 0, 10, gen_user, NULL);
    rtu_produce(logs, "L", PARTS, 0, 5, gen_user, NULL);
    rtu_produce(logs, "R", PARTS, 0, 5, gen_user, NULL);

    /* word count + a table source + a stream-stream join (two buffers) */
    sl_topo_t *t;
    assert_int_equal(sl_topo_new("q", &t), 0);
    const char *lines[] = {"lines"}, *l[] = {"L"}, *r[] = {"R"};
    assert_int_equal(sl_topo_add_source(t, "src", lines, 1, NULL), 0);
    assert_int_equal(sl_topo_add_flat_map(t, "words", "src", rtu_split, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "by-word", "words", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "count", "by-word", "counts"), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "count", "counts-out"), 0);
    assert_int_equal(sl_topo_add_table(t, "users", "users", "users-table", NULL), 0);
    assert_int_equal(sl_topo_add_source(t, "left", l, 1, NULL), 0);
    assert_int_equal(sl_topo_add_source(t, "right", r, 1, NULL), 0);
    sl_join_spec_t js = {.kind = SL_JOIN_STREAM_STREAM, .type = SL_JOIN_INNER, .joiner = pair_joiner,
                         .before_ms = 10, .after_ms = 10, .left_store = "j-left", .right_store = "j-right"};
    assert_int_equal(sl_topo_add_join(t, "j", "left", "right", &js), 0);
    assert_int_equal(sl_topo_add_sink(t, "jout", "j", "joined"), 0);
    assert_int_equal(sl_topo_build(t, &rtu_err), 0);

    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = st;
    o.logs = logs;
    o.threads = 2;
    o.sync = false;
    sl_runtime_t *rt;
    assert_int_equal(sl_runtime_new(t, &o, &rt, &rtu_err), 0);
    rtu_run_to_end(rt, 30);

    assert_int_equal(sl_runtime_table_count(rt), 2); /* j-left / j-right are not tables */
    int ci = sl_runtime_table_find(rt, "counts"), ui = sl_runtime_table_find(rt, "users-table");
    assert_true(ci >= 0 && ui >= 0 && ci != ui);
    assert_int_equal(sl_runtime_table_find(rt, "j-left"), SL_E_NOTFOUND);
    assert_int_equal(sl_runtime_table_find(rt, "nope"), SL_E_NOTFOUND);
    sl_rt_table_t info;
    assert_int_equal(sl_runtime_table(rt, 2, &info), SL_E_NOTFOUND);
    assert_int_equal(sl_runtime_table(rt, (size_t)ci, &info), 0);
    assert_string_equal(info.name, "counts");
    assert_string_equal(info.node, "count");
    assert_int_equal(info.kind, SL_STORE_KV);
    assert_int_equal(info.partitions, PARTS);
    assert_false(info.raw_values);
    assert_int_equal(sl_runtime_table(rt, (size_t)ui, &info), 0);
    assert_true(info.raw_values);
    assert_int_equal(info.partitions, PARTS);

    /* The reference counts, then each partition read through a snapshot. */
    int64_t want[WORDS] = {0};
    for (long i = 0; i < LINES; i++) {
        want[(i * 7) % WORDS]++;
        want[(i * 13 + 5) % WORDS]++;
    }
    sl_codec_t *codec;
    assert_int_equal(sl_codec_new(&codec), 0);
    uint64_t total = 0;
    sl_env_t *envs[PARTS];
    sl_store_t *stores[PARTS];
    sl_snap_t *snaps[PARTS];
    for (int32_t p = 0; p < PARTS; p++) {
        assert_int_equal(sl_runtime_table_part(rt, (size_t)ci, p, &envs[p], &stores[p]), 0);
        assert_int_equal(sl_snap_begin(envs[p], &snaps[p], NULL), 0);
        uint64_t n;
        assert_int_equal(sl_kv_count(stores[p], snaps[p], &n), 0);
        assert_true(n > 0);
        total += n;
    }
    sl_env_t *e;
    sl_store_t *s;
    assert_int_equal(sl_runtime_table_part(rt, (size_t)ci, PARTS, &e, &s), SL_E_NOTFOUND);
    assert_int_equal(sl_runtime_table_part(rt, 9, 0, &e, &s), SL_E_NOTFOUND);
    long distinct = 0;
    for (int w = 0; w < WORDS; w++) {
        if (!want[w])
            continue;
        distinct++;
        char k[16];
        int kl = snprintf(k, sizeof k, "w%d", w);
        int32_t p = sl_partition_for_key(k, (size_t)kl, PARTS);
        const uint8_t *v;
        size_t vl;
        assert_int_equal(sl_kv_get(stores[p], snaps[p], k, (size_t)kl, &v, &vl), 0);
        int64_t got;
        assert_int_equal(sl_codec_unpack_i64(codec, v, vl, &got), 0);
        assert_int_equal(got, want[w]);
    }
    assert_int_equal(total, (uint64_t)distinct);
    for (int32_t p = 0; p < PARTS; p++)
        sl_snap_end(snaps[p]);
    sl_codec_free(codec);
    sl_runtime_close(rt);
    sl_topo_free(t);
    sl_rt_logs_free(logs);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_are_listed_and_read_per_partition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
