/* Runs of records through a task (sl_task_process_run, what the runtime does
 * with records handed over in memory): the same records, fed as one run to a
 * task and one at a time to another, give the same counts downstream, the same
 * dead letters, the same per-node counters and the same stream time.  The run
 * holds what takes count's slow paths: null keys and values, a key too long for
 * the counter table, one too long for the store, a negative timestamp and a
 * retraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/topo.h"
#include "testutil.h"

#define MAX_OUT 256

typedef struct seen {
    char out[MAX_OUT][600]; /* "key=value bytes (hex)" per forwarded update, sorted at the end */
    int n_out;
    char dead[16][700];     /* "node: reason" per dead letter, in order */
    int n_dead;
} seen_t;

static int on_sink(void *arg, const char *topic, const sl_rec_t *rec, sl_err_t *err)
{
    seen_t *s = arg;
    assert_true(s->n_out < MAX_OUT);
    int n = snprintf(s->out[s->n_out], sizeof s->out[0], "%.*s=", rec->key_len > 0 ? rec->key_len : 0,
                     rec->key_len > 0 ? (const char *)rec->key : "");
    for (int32_t i = 0; i < rec->value_len && n < (int)sizeof s->out[0] - 3; i++)
        n += snprintf(s->out[s->n_out] + n, sizeof s->out[0] - (size_t)n, "%02x", rec->value[i]);
    s->n_out++;
    return 0;
}

static void on_dead(void *arg, const char *node, const sl_rec_t *rec, const sl_err_t *err)
{
    seen_t *s = arg;
    assert_true(s->n_dead < 16);
    snprintf(s->dead[s->n_dead++], sizeof s->dead[0], "%s: %s", node, err->msg);
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

/* The word count's second sub-topology (repartition source -> count -> sink)
 * as one task over its own environment. */
typedef struct run_task {
    sl_env_t *env;
    sl_task_t *task;
    int source;
    seen_t seen;
} run_task_t;

static void rt_open(run_task_t *r, const sl_topo_t *t, const char *dir)
{
    sl_env_config_t cfg;
    sl_env_config_default(&cfg);
    cfg.no_sync = true;
    sl_err_t err = {0};
    assert_int_equal(sl_env_open(dir, &cfg, &r->env, &err), 0);
    sl_task_io_t io = {on_sink, on_dead, &r->seen};
    int rc = sl_task_new(t, 1, 0, r->env, &io, &r->task, &err);
    if (rc)
        fail_msg("sl_task_new: %d %s", rc, err.msg);
    r->source = sl_task_source(r->task, sl_topo_repartition_topic(t, 0));
    assert_true(r->source >= 0);
}

static void rt_close(run_task_t *r)
{
    sl_task_free(r->task);
    sl_env_close(r->env);
}

static int split(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err) { return sl_emit(out, in); }

#define N_RECS 400

static void test_a_run_is_processed_as_its_records_one_at_a_time(void **state)
{
    sl_topo_t *t;
    const char *in[] = {"lines"};
    assert_int_equal(sl_topo_new("run", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "lines", in, 1, NULL), 0);
    assert_int_equal(sl_topo_add_flat_map(t, "words", "lines", split, NULL), 0);
    assert_int_equal(sl_topo_add_group_by(t, "by-word", "words", NULL, NULL), 0);
    assert_int_equal(sl_topo_add_count(t, "count", "by-word", "counts"), 0);
    assert_int_equal(sl_topo_add_sink(t, "out", "count", "word-counts"), 0);
    sl_err_t err = {0};
    assert_int_equal(sl_topo_build(t, &err), 0);

    static char keys[N_RECS][SL_STORE_MAX_KEY + 2];
    static sl_rec_t recs[N_RECS];
    sl_rec_header_t retract = {SL_RETRACT_HEADER, sizeof SL_RETRACT_HEADER - 1, (const uint8_t *)"1", 1};
    for (int i = 0; i < N_RECS; i++) {
        int len = snprintf(keys[i], sizeof keys[i], "k%d", (i * 7) % 53);
        recs[i] = (sl_rec_t){(const uint8_t *)keys[i], len, (const uint8_t *)"v", 1, 1000 + i, NULL, 0};
    }
    recs[10].key_len = -1; /* null key: dropped by count */
    recs[11].value_len = -1; /* null value: dropped by count */
    memset(keys[12], 'L', 100); /* longer than the counter table's keys: the store path */
    recs[12].key_len = 100;
    memset(keys[13], 'X', SL_STORE_MAX_KEY + 1); /* longer than the store's: dead-lettered by count */
    recs[13].key_len = SL_STORE_MAX_KEY + 1;
    recs[14].timestamp = -5; /* dead-lettered by the source */
    recs[15].headers = &retract; /* subtracts one from k(15*7%53) */
    recs[15].header_count = 1;
    recs[300].timestamp = 1; /* out of order: stream time stays */
    memset(keys[301], 'L', 100);
    recs[301].key_len = 100;

    char *dir = tu_mkdtemp("taskrun");
    char d1[600], d2[600];
    snprintf(d1, sizeof d1, "%s/run", dir);
    snprintf(d2, sizeof d2, "%s/one", dir);
    run_task_t *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    rt_open(a, t, d1);
    rt_open(b, t, d2);
    assert_int_equal(sl_task_process_run(a->task, a->source, recs, N_RECS, &err), 0);
    for (int i = 0; i < N_RECS; i++)
        assert_int_equal(sl_task_process(b->task, b->source, &recs[i], &err), 0);
    assert_int_equal(sl_task_flush(a->task, &err), 0);
    assert_int_equal(sl_task_flush(b->task, &err), 0);

    assert_int_equal(sl_task_stream_time(a->task), 1000 + N_RECS - 1);
    assert_int_equal(sl_task_stream_time(b->task), 1000 + N_RECS - 1);
    assert_int_equal(a->seen.n_dead, 2);
    assert_int_equal(b->seen.n_dead, 2);
    for (int i = 0; i < 2; i++)
        assert_string_equal(a->seen.dead[i], b->seen.dead[i]);
    assert_non_null(strstr(a->seen.dead[0], "longer than the store"));
    assert_non_null(strstr(a->seen.dead[1], "invalid timestamp"));
    assert_int_equal(a->seen.n_out, 53 + 1); /* every k, and the long key */
    assert_int_equal(b->seen.n_out, a->seen.n_out);
    qsort(a->seen.out, (size_t)a->seen.n_out, sizeof a->seen.out[0], cmp_str);
    qsort(b->seen.out, (size_t)b->seen.n_out, sizeof b->seen.out[0], cmp_str);
    for (int i = 0; i < a->seen.n_out; i++)
        assert_string_equal(a->seen.out[i], b->seen.out[i]);
    /* k0 is records 0, 53, 106, ... (i*7 % 53 == 0): 8 of them; msgpack 8 is 0x08 */
    char want_long[120];
    memset(want_long, 'L', 100);
    strcpy(want_long + 100, "=02"); /* the 100-byte key, in records 12 and 301 */
    assert_string_equal(a->seen.out[0], want_long);
    assert_string_equal(a->seen.out[1], "k0=08");
    for (size_t idx = 0; idx < t->n_nodes; idx++) { /* the task's nodes: its source and count (and sink) */
        const sl_op_stats_t *x = sl_task_stats(a->task, (int)idx), *y = sl_task_stats(b->task, (int)idx);
        if (!x)
            continue;
        assert_int_equal(x->records_in, y->records_in);
        assert_int_equal(x->dropped_null_key, y->dropped_null_key);
        assert_int_equal(x->dropped_null_value, y->dropped_null_value);
        assert_int_equal(x->dead_lettered, y->dead_lettered);
    }
    const sl_op_stats_t *c = sl_task_stats(a->task, topo_find(t, "count"));
    assert_int_equal(c->records_in, N_RECS - 1); /* all but the negative timestamp */
    assert_int_equal(c->dropped_null_key, 1);
    assert_int_equal(c->dropped_null_value, 1);
    assert_int_equal(c->dead_lettered, 1);
    rt_close(a);
    rt_close(b);
    free(a);
    free(b);
    tu_rmrf(dir);
    free(dir);
    sl_topo_free(t);
}

/* sl_task_set_sink: a writer of its own for one topic. */
typedef struct routed {
    int n;
    char last[32];
    int fail; /* non-zero: return this */
} routed_t;

static int on_routed(void *arg, const char *topic, const sl_rec_t *rec, sl_err_t *err)
{
    routed_t *r = arg;
    if (r->fail)
        return sl_err_set(err, r->fail, "routed writer of %s refused", topic);
    r->n++;
    snprintf(r->last, sizeof r->last, "%s:%.*s", topic, rec->key_len > 0 ? rec->key_len : 0,
             rec->key_len > 0 ? (const char *)rec->key : "");
    return 0;
}

static int keep_odd(void *arg, const sl_rec_t *rec, sl_err_t *err)
{
    (void)arg, (void)err;
    return (rec->key[rec->key_len - 1] - '0') % 2;
}

/* A sink reached through its parent's one edge (forward_to_sink) and one
 * reached from a parent with two edges (node_process) both take the writer
 * sl_task_set_sink gives their topic; the others keep io.sink; a failing
 * writer fails the record's processing with its message. */
static void test_a_sink_routed_to_its_own_writer(void **state)
{
    (void)state;
    sl_topo_t *t;
    const char *in[] = {"lines"};
    assert_int_equal(sl_topo_new("routed", &t), 0);
    assert_int_equal(sl_topo_add_source(t, "lines", in, 1, NULL), 0);
    assert_int_equal(sl_topo_add_sink(t, "all", "lines", "all-out"), 0);      /* source has two edges */
    assert_int_equal(sl_topo_add_filter(t, "odd", "lines", keep_odd, NULL), 0); /* one edge: to its sink */
    assert_int_equal(sl_topo_add_sink(t, "odd-sink", "odd", "odd-out"), 0);
    sl_err_t err = {0};
    assert_int_equal(sl_topo_build(t, &err), 0);
    char *dir = tu_mkdtemp("taskroute");
    run_task_t *r = calloc(1, sizeof *r);
    sl_env_config_t cfg;
    sl_env_config_default(&cfg);
    cfg.no_sync = true;
    assert_int_equal(sl_env_open(dir, &cfg, &r->env, &err), 0);
    sl_task_io_t io = {on_sink, on_dead, &r->seen};
    assert_int_equal(sl_task_new(t, 0, 0, r->env, &io, &r->task, &err), 0);
    int src = sl_task_source(r->task, "lines");
    routed_t all = {0}, odd = {0};
    assert_int_equal(sl_task_set_sink(r->task, "odd-out", on_routed, &odd), 1);
    assert_int_equal(sl_task_set_sink(r->task, "no-such-topic", on_routed, &all), 0);
    char key[8];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        sl_rec_t rec = {(const uint8_t *)key, 2, (const uint8_t *)"v", 1, 100 + i, NULL, 0};
        assert_int_equal(sl_task_process(r->task, src, &rec, &err), 0);
    }
    assert_int_equal(odd.n, 5);
    assert_string_equal(odd.last, "odd-out:k9");
    assert_int_equal(r->seen.n_out, 10); /* all-out still through io.sink */
    assert_int_equal(sl_task_set_sink(r->task, "all-out", on_routed, &all), 1);
    sl_rec_t k3 = {(const uint8_t *)"k3", 2, (const uint8_t *)"v", 1, 200, NULL, 0};
    assert_int_equal(sl_task_process(r->task, src, &k3, &err), 0);
    assert_int_equal(all.n, 1);
    assert_string_equal(all.last, "all-out:k3");
    assert_int_equal(odd.n, 6);
    assert_int_equal(r->seen.n_out, 10);
    const sl_op_stats_t *os = sl_task_stats(r->task, topo_find(t, "odd-sink"));
    assert_int_equal(os->records_in, 6);
    odd.fail = SL_E_IO; /* fatal: the task stops with the writer's message */
    sl_rec_t k5 = {(const uint8_t *)"k5", 2, (const uint8_t *)"v", 1, 201, NULL, 0};
    assert_int_equal(sl_task_process(r->task, src, &k5, &err), SL_E_IO);
    assert_non_null(strstr(err.msg, "routed writer of odd-out refused"));
    rt_close(r);
    free(r);
    tu_rmrf(dir);
    free(dir);
    sl_topo_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_run_is_processed_as_its_records_one_at_a_time),
        cmocka_unit_test(test_a_sink_routed_to_its_own_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
