/* Observability (engine/obs.c): a word-count job runs on a real broker (port
 * 0, temp folder) fed by a librdkafka producer and read by a librdkafka
 * consumer; then /metrics' text is checked by a strict parser of the
 * Prometheus text format 0.0.4 and against the numbers the test knows, and
 * /v1/status' JSON (parsed with jansson) likewise.  Also the commit-latency
 * histogram's buckets and quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ctype.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>

#include "dsl/dsl.h"
#include "engine/obs.h"
#include "testutil.h"

#define LINES 200

/* ---- a strict Prometheus text-format parser ----------------------------------------------------------- */

typedef struct prom {
    char **keys; /* "name{labels}" as written */
    double *vals;
    size_t n;
    char err[300];
} prom_t;

static bool name_ok(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return false;
    return true;
}

/* The family a sample belongs to: its name, or without _sum/_count for a
 * summary declared under the shorter name. */
static const char *family_of(const char *name, char types[][2][128], size_t n_types, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", name);
    for (size_t i = 0; i < n_types; i++)
        if (!strcmp(types[i][0], buf))
            return buf;
    static const char *suffix[] = {"_sum", "_count", "_bucket"};
    for (size_t k = 0; k < 3; k++) {
        size_t l = strlen(name), sl = strlen(suffix[k]);
        if (l > sl && !strcmp(name + l - sl, suffix[k])) {
            snprintf(buf, cap, "%.*s", (int)(l - sl), name);
            for (size_t i = 0; i < n_types; i++)
                if (!strcmp(types[i][0], buf) && strcmp(types[i][1], "gauge") && strcmp(types[i][1], "counter"))
                    return buf;
        }
    }
    return NULL;
}

/* 0 when `text` is valid exposition format: HELP and TYPE once per family
 * and before its samples, known types, a family's samples together, metric
 * and label names valid, label values quoted with escapes, values numbers. */
static int prom_parse(const char *text, size_t len, prom_t *p)
{
    memset(p, 0, sizeof *p);
    static char types[256][2][128];
    static char done[256][128];
    size_t n_types = 0, n_done = 0;
    char current[128] = "";
    if (!len || text[len - 1] != '\n')
        return snprintf(p->err, sizeof p->err, "does not end with a newline"), -1;
    const char *line = text, *end = text + len;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t ll = (size_t)(nl - line);
        char l[2048];
        if (ll >= sizeof l)
            return snprintf(p->err, sizeof p->err, "line too long"), -1;
        memcpy(l, line, ll);
        l[ll] = '\0';
        line = nl + 1;
        if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) {
            char name[128], rest[1024] = "";
            if (sscanf(l + 7, "%127s %1023[^\n]", name, rest) < 2 || !name_ok(name, strlen(name)))
                return snprintf(p->err, sizeof p->err, "bad comment line '%.200s'", l), -1;
            if (l[2] == 'T') {
                if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "summary") &&
                    strcmp(rest, "histogram") && strcmp(rest, "untyped"))
                    return snprintf(p->err, sizeof p->err, "unknown type in '%.200s'", l), -1;
                for (size_t i = 0; i < n_types; i++)
                    if (!strcmp(types[i][0], name))
                        return snprintf(p->err, sizeof p->err, "second TYPE for %s", name), -1;
                if (n_types == 256)
                    return snprintf(p->err, sizeof p->err, "too many families"), -1;
                snprintf(types[n_types][0], 128, "%s", name);
                snprintf(types[n_types++][1], 128, "%.100s", rest);
            }
            continue;
        }
        if (l[0] == '#' || !l[0])
            continue;
        /* name{labels} value */
        size_t i = 0;
        while (l[i] && l[i] != '{' && l[i] != ' ')
            i++;
        char name[128];
        if (!name_ok(l, i) || i >= sizeof name)
            return snprintf(p->err, sizeof p->err, "bad metric name in '%.200s'", l), -1;
        snprintf(name, sizeof name, "%.*s", (int)i, l);
        if (l[i] == '{') {
            i++;
            while (l[i] != '}') {
                size_t s = i;
                while (l[i] && l[i] != '=')
                    i++;
                if (!name_ok(l + s, i - s) || l[i + 1] != '"')
                    return snprintf(p->err, sizeof p->err, "bad label in '%.200s'", l), -1;
                i += 2;
                while (l[i] && l[i] != '"') {
                    if (l[i] == '\\' && !(l[i + 1] == '\\' || l[i + 1] == '"' || l[i + 1] == 'n'))
                        return snprintf(p->err, sizeof p->err, "bad escape in '%.200s'", l), -1;
                    i += l[i] == '\\' ? 2 : 1;
                }
                if (!l[i])
                    return snprintf(p->err, sizeof p->err, "unterminated label value in '%.200s'", l), -1;
                i++;
                if (l[i] == ',')
                    i++;
                else if (l[i] != '}')
                    return snprintf(p->err, sizeof p->err, "expected , or } in '%.200s'", l), -1;
            }
            i++;
        }
        if (l[i] != ' ')
            return snprintf(p->err, sizeof p->err, "no space before the value in '%.200s'", l), -1;
        char *vend;
        double v = strtod(l + i + 1, &vend);
        if (vend == l + i + 1 || *vend)
            return snprintf(p->err, sizeof p->err, "bad value in '%.200s'", l), -1;
        char fam[128];
        if (!family_of(name, types, n_types, fam, sizeof fam))
            return snprintf(p->err, sizeof p->err, "sample before its TYPE: '%.200s'", l), -1;
        if (strcmp(fam, current)) {
            for (size_t k = 0; k < n_done; k++)
                if (!strcmp(done[k], fam))
                    return snprintf(p->err, sizeof p->err, "family %s is split", fam), -1;
            snprintf(done[n_done++], 128, "%s", fam);
            snprintf(current, sizeof current, "%s", fam);
        }
        p->keys = realloc(p->keys, (p->n + 1) * sizeof *p->keys);
        p->vals = realloc(p->vals, (p->n + 1) * sizeof *p->vals);
        p->keys[p->n] = strndup(l, i);
        p->vals[p->n++] = v;
    }
    return 0;
}

static double prom_get(const prom_t *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->keys[i], key))
            return p->vals[i];
    fail_msg("metric %s not found", key);
    return NAN;
}

static void prom_free(prom_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->keys[i]);
    free(p->keys);
    free(p->vals);
}

static void test_prometheus_parser_rejects_malformed_text(void **state)
{
    (void)state;
    static const char *bad[] = {
        "# TYPE a counter\na 1",                              /* no final newline */
        "a 1\n",                                              /* no TYPE */
        "# TYPE a counter\na{x=\"1} 2\n",                    /* unterminated label */
        "# TYPE a counter\na{x=\"1\"} two\n",                /* value */
        "# TYPE a counter\n# TYPE b gauge\na 1\nb 2\na 3\n", /* split family */
        "# TYPE a countr\na 1\n",                             /* type */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prom_t p;
        assert_int_not_equal(prom_parse(bad[i], strlen(bad[i]), &p), 0);
        prom_free(&p);
    }
    const char *good = "# HELP a x\n# TYPE a summary\na{q=\"0.5\",j=\"a\\\"b\"} 1.5\na_sum 3\na_count 2\n";
    prom_t p;
    assert_int_equal(prom_parse(good, strlen(good), &p), 0);
    assert_true(prom_get(&p, "a_count") == 2);
    prom_free(&p);
}

/* ---- commit latency histogram ------------------------------------------------------------------------- */

static void test_latency_buckets_are_monotonic_and_quantiles_close(void **state)
{
    (void)state;
    int prev = -1;
    for (uint64_t us = 0; us < 5000000; us = us < 64 ? us + 1 : us + us / 7) {
        int b = sl_runtime_latency_bucket(us);
        assert_true(b >= prev && b < SL_RT_LAT_BUCKETS);
        prev = b;
    }
    assert_int_equal(sl_runtime_latency_bucket(UINT64_MAX), SL_RT_LAT_BUCKETS - 1);
    /* 1..10000 us, uniformly: p50 near 5000, p99 near 9900, within a bucket (~19%). */
    sl_runtime_latency_t l;
    memset(&l, 0, sizeof l);
    for (uint64_t us = 1; us <= 10000; us++) {
        l.buckets[sl_runtime_latency_bucket(us)]++;
        l.count++;
        l.sum_us += us;
        l.max_us = us;
    }
    double p50 = sl_runtime_latency_quantile(&l, 0.5), p99 = sl_runtime_latency_quantile(&l, 0.99);
    assert_true(fabs(p50 - 5000) < 5000 * 0.2);
    assert_true(fabs(p99 - 9900) < 9900 * 0.2);
    assert_true(sl_runtime_latency_quantile(&l, 1) <= 10000);
    memset(&l, 0, sizeof l);
    assert_true(sl_runtime_latency_quantile(&l, 0.5) == 0);
}

/* ---- a job on a broker -------------------------------------------------------------------------------- */

static const char *JOB = "stream lines from topic \"text-lines\" format string;\n"
                         "table word_counts = lines\n"
                         "  | flat_map split(lower(value), \" \") as word\n"
                         "  | filter word != \"\"\n"
                         "  | group by word\n"
                         "  | count;\n"
                         "output word_counts to topic \"word-counts\" format json;\n";

static void *broker_main(void *b)
{
    sl_broker_run(b);
    return NULL;
}

static rd_kafka_t *rk_new(rd_kafka_type_t type, const char *bootstrap, const char *group)
{
    char errstr[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, errstr, sizeof errstr), RD_KAFKA_CONF_OK);
    if (group) {
        assert_int_equal(rd_kafka_conf_set(c, "group.id", group, errstr, sizeof errstr), RD_KAFKA_CONF_OK);
        assert_int_equal(rd_kafka_conf_set(c, "auto.offset.reset", "earliest", errstr, sizeof errstr),
                         RD_KAFKA_CONF_OK);
    }
    rd_kafka_t *rk = rd_kafka_new(type, c, errstr, sizeof errstr);
    if (!rk)
        fail_msg("rd_kafka_new: %s", errstr);
    return rk;
}

static void test_metrics_and_status_of_a_running_job(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("obs");
    sl_err_t err = {0};
    sl_broker_config_t cfg;
    sl_broker_config_default(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", dir);
    cfg.port = 0;
    cfg.log.flush_policy = SL_FLUSH_NEVER;
    sl_broker_t *b;
    assert_int_equal(sl_broker_open(&cfg, &b, &err), 0);
    pthread_t bt;
    assert_int_equal(pthread_create(&bt, NULL, broker_main, b), 0);
    assert_int_equal(sl_broker_create_topic(b, "text-lines", 2, &err), 0);

    sl_dsl_job_t *job;
    sl_buf_t diag;
    sl_buf_init(&diag);
    assert_int_equal(sl_dsl_compile("wc.sl", JOB, &diag, &job, &err), 0);
    sl_buf_free(&diag);
    sl_rt_logs_t *logs;
    assert_int_equal(sl_rt_logs_broker(b, &logs, &err), 0);
    char state_dir[400];
    snprintf(state_dir, sizeof state_dir, "%s/jobs/wc", dir);
    sl_runtime_opts_t o;
    sl_runtime_opts_default(&o);
    o.state_dir = state_dir;
    o.logs = logs;
    o.threads = 1;
    o.sync = false;
    sl_runtime_t *rt;
    assert_int_equal(sl_runtime_new(sl_dsl_job_topo(job), &o, &rt, &err), 0);
    sl_obs_t *obs;
    assert_int_equal(sl_obs_new(b, &obs), 0);
    assert_int_equal(sl_obs_add_job(obs, "wc", "jobs/wc.sl", rt, sl_dsl_job_topo(job)), 0);
    assert_int_equal(sl_obs_add_job(obs, "wc", "again.sl", rt, sl_dsl_job_topo(job)), SL_E_INVAL);
    assert_int_equal(sl_obs_add_failed_job(obs, "broken", "jobs/broken.sl", "broken.sl:1:1: error: \"x\""), 0);
    assert_int_equal(sl_runtime_start(rt, &err), 0);

    /* Produce LINES lines of 3 words over Kafka. */
    char bootstrap[64];
    snprintf(bootstrap, sizeof bootstrap, "127.0.0.1:%d", sl_broker_port(b));
    rd_kafka_t *prod = rk_new(RD_KAFKA_PRODUCER, bootstrap, NULL);
    size_t bytes = 0;
    for (int i = 0; i < LINES; i++) {
        char v[64];
        int n = snprintf(v, sizeof v, "alpha beta w%d", i % 10);
        bytes += (size_t)n;
        assert_int_equal(rd_kafka_producev(prod, RD_KAFKA_V_TOPIC("text-lines"), RD_KAFKA_V_VALUE(v, (size_t)n),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal(rd_kafka_flush(prod, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(prod);

    /* Wait until the job committed everything, then read the lines back. */
    int64_t deadline = sl_now_ms() + 20000;
    sl_obs_summary_t sum;
    do {
        usleep(20000);
        assert_int_equal(sl_obs_job_summary(obs, "wc", &sum), 0);
    } while ((sum.records_in < LINES || !sl_runtime_caught_up(rt)) && sl_now_ms() < deadline);
    /* Each line, then its 3 words again after the repartition.  The words
     * handed over in memory (the repartition partition's reader runs on the
     * same worker) never reach the repartition topic, so committed input
     * offsets count the lines plus only the words that went through the log. */
    assert_int_equal(sum.records_in, 4 * LINES);
    assert_int_equal(sum.lag, 0);
    assert_true(sum.committed >= LINES && sum.committed <= 4 * LINES);
    assert_string_equal(sum.state, "running");
    assert_int_equal(sl_obs_job_summary(obs, "nope", &sum), SL_E_NOTFOUND);

    rd_kafka_t *cons = rk_new(RD_KAFKA_CONSUMER, bootstrap, "obs-test");
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, "text-lines", RD_KAFKA_PARTITION_UA);
    assert_int_equal(rd_kafka_subscribe(cons, tl), 0);
    rd_kafka_topic_partition_list_destroy(tl);
    int got = 0;
    deadline = sl_now_ms() + 20000;
    while (got < LINES && sl_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 200);
        if (m) {
            got += m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
            rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_consumer_close(cons);
    rd_kafka_destroy(cons);
    assert_int_equal(got, LINES);

    /* /metrics */
    sl_buf_t m;
    sl_buf_init(&m);
    assert_int_equal(sl_obs_prometheus(obs, &m), 0);
    prom_t p;
    if (prom_parse((const char *)m.data, m.len, &p) != 0)
        fail_msg("invalid exposition format: %s\n%.*s", p.err, (int)m.len, (const char *)m.data);
    assert_true(prom_get(&p, "sluice_topic_records_in_total{topic=\"text-lines\"}") == LINES);
    double bin = prom_get(&p, "sluice_topic_bytes_in_total{topic=\"text-lines\"}");
    assert_true(bin > (double)bytes); /* the record bytes plus batch and record headers */
    assert_true(prom_get(&p, "sluice_topic_records_out_total{topic=\"text-lines\"}") >= LINES);
    assert_true(prom_get(&p, "sluice_topic_bytes_out_total{topic=\"text-lines\"}") >= bin);
    assert_true(prom_get(&p, "sluice_topic_partitions{topic=\"text-lines\"}") == 2);
    assert_true(prom_get(&p, "sluice_topic_end_offset{topic=\"text-lines\"}") == LINES);
    /* 12 distinct words: the job's output topic holds at least one update of each. */
    assert_true(prom_get(&p, "sluice_topic_end_offset{topic=\"word-counts\"}") >= 12);
    assert_true(prom_get(&p, "sluice_job_records_in_total{job=\"wc\"}") == 4 * LINES);
    assert_true(prom_get(&p, "sluice_job_up{job=\"wc\"}") == 1);
    assert_true(prom_get(&p, "sluice_job_up{job=\"broken\"}") == 0);
    assert_true(prom_get(&p, "sluice_job_lag_records{job=\"wc\"}") == 0);
    assert_true(prom_get(&p, "sluice_job_commits_total{job=\"wc\"}") >= 1);
    assert_true(prom_get(&p, "sluice_job_dead_lettered_total{job=\"wc\"}") == 0);
    assert_true(prom_get(&p, "sluice_job_late_records_total{job=\"wc\"}") == 0);
    double n_commits = prom_get(&p, "sluice_job_commit_latency_seconds_count{job=\"wc\"}");
    assert_true(n_commits >= 1);
    double p50 = prom_get(&p, "sluice_job_commit_latency_seconds{job=\"wc\",quantile=\"0.5\"}");
    double p99 = prom_get(&p, "sluice_job_commit_latency_seconds{job=\"wc\",quantile=\"0.99\"}");
    double max = prom_get(&p, "sluice_job_commit_latency_max_seconds{job=\"wc\"}");
    assert_true(p50 > 0 && p50 <= p99 && p99 <= max && max < 10);
    assert_true(prom_get(&p, "sluice_job_input_lag_records{job=\"wc\",task=\"0_1\",topic=\"text-lines\","
                             "partition=\"1\"}") == 0);
    double c0 = prom_get(&p, "sluice_job_input_committed_offset{job=\"wc\",task=\"0_0\",topic=\"text-lines\","
                             "partition=\"0\"}");
    double c1 = prom_get(&p, "sluice_job_input_committed_offset{job=\"wc\",task=\"0_1\",topic=\"text-lines\","
                             "partition=\"1\"}");
    assert_true(c0 + c1 == LINES);
    assert_true(prom_get(&p, "sluice_job_store_bytes{job=\"wc\",task=\"1_0\"}") > 0);
    assert_true(prom_get(&p, "sluice_job_store_map_bytes{job=\"wc\",task=\"1_0\"}") > 0);
    assert_true(prom_get(&p, "sluice_process_resident_memory_bytes") > 1e6);
    assert_true(prom_get(&p, "sluice_uptime_seconds") > 0);
    prom_free(&p);
    sl_buf_free(&m);

    /* /v1/status */
    sl_buf_t s;
    sl_buf_init(&s);
    assert_int_equal(sl_obs_status_json(obs, &s), 0);
    json_error_t je;
    json_t *st = json_loadb((const char *)s.data, s.len, 0, &je);
    if (!st)
        fail_msg("status is not JSON: %s: %.*s", je.text, (int)s.len, (const char *)s.data);
    if (getenv("SL_OBS_STATUS_OUT")) /* a real status document, for the web page's test data */
        json_dump_file(st, getenv("SL_OBS_STATUS_OUT"), JSON_INDENT(1));
    assert_true(json_integer_value(json_object_get(json_object_get(st, "process"), "rss_bytes")) > 1000000);
    json_t *br = json_object_get(st, "broker");
    char listen[80];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", sl_broker_port(b));
    assert_string_equal(json_string_value(json_object_get(br, "listen")), listen);
    bool found = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(br, "topics"), i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "name")), "text-lines"))
            continue;
        found = true;
        assert_int_equal(json_integer_value(json_object_get(v, "records_in")), LINES);
        assert_int_equal(json_integer_value(json_object_get(v, "partitions")), 2);
    }
    assert_true(found);
    json_t *jobs = json_object_get(st, "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    json_t *wc = json_array_get(jobs, 0), *broken = json_array_get(jobs, 1);
    assert_string_equal(json_string_value(json_object_get(wc, "name")), "wc");
    assert_string_equal(json_string_value(json_object_get(wc, "state")), "running");
    assert_true(json_is_null(json_object_get(wc, "error")));
    assert_int_equal(json_integer_value(json_object_get(wc, "records_in")), 4 * LINES);
    assert_int_equal(json_integer_value(json_object_get(wc, "lag")), 0);
    assert_true(json_is_number(json_object_get(wc, "records_in_per_sec")));
    assert_true(json_number_value(json_object_get(json_object_get(wc, "commit_latency_ms"), "max")) > 0);
    json_t *tasks = json_object_get(wc, "tasks");
    assert_int_equal(json_array_size(tasks), 4); /* 2 sub-topologies x 2 partitions */
    assert_string_equal(json_string_value(json_object_get(json_array_get(tasks, 1), "id")), "0_1");
    json_t *in = json_array_get(json_object_get(json_array_get(tasks, 1), "inputs"), 0);
    assert_string_equal(json_string_value(json_object_get(in, "topic")), "text-lines");
    assert_int_equal(json_integer_value(json_object_get(in, "committed")), json_integer_value(json_object_get(in, "end")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(wc, "tables"), 0)), "word_counts");
    json_t *topo = json_object_get(wc, "topology");
    bool has_count = false, has_edge = false;
    json_array_foreach(json_object_get(topo, "nodes"), i, v)
    {
        if (!strcmp(json_string_value(json_object_get(v, "name")), "word_counts")) {
            has_count = true;
            assert_string_equal(json_string_value(json_object_get(v, "kind")), "count");
            assert_int_equal(json_integer_value(json_object_get(v, "sub")), 1);
            assert_string_equal(json_string_value(json_object_get(v, "store")), "word_counts");
        }
    }
    json_array_foreach(json_object_get(topo, "edges"), i, v)
        has_edge = has_edge || !strcmp(json_string_value(json_object_get(v, "to")), "word_counts");
    assert_true(has_count && has_edge);
    assert_string_equal(json_string_value(json_object_get(broken, "state")), "failed");
    assert_string_equal(json_string_value(json_object_get(broken, "error")), "broken.sl:1:1: error: \"x\"");
    json_decref(st);
    sl_buf_free(&s);

    /* A stopped job reads "stopped"; a removed one disappears. */
    assert_int_equal(sl_runtime_stop(rt, &err), 0);
    assert_int_equal(sl_obs_job_summary(obs, "wc", &sum), 0);
    assert_string_equal(sum.state, "stopped");
    sl_obs_remove_job(obs, "wc");
    sl_obs_remove_job(obs, "broken");
    sl_buf_init(&s);
    assert_int_equal(sl_obs_status_json(obs, &s), 0);
    assert_non_null(strstr((const char *)s.data, "\"jobs\":[]"));
    sl_buf_free(&s);

    sl_obs_free(obs);
    sl_runtime_close(rt);
    sl_rt_logs_free(logs);
    sl_dsl_job_free(job);
    sl_broker_stop(b);
    pthread_join(bt, NULL);
    sl_broker_close(b);
    tu_rmrf(dir);
    free(dir);
}

static void test_page_is_self_contained_html(void **state)
{
    (void)state;
    size_t len = 0;
    const char *html = sl_obs_page_html(&len);
    assert_true(len > 1000 && strlen(html) == len);
    assert_non_null(strstr(html, "<!doctype html>"));
    assert_non_null(strstr(html, "/v1/status"));
    /* No external resources: the only URL is the SVG namespace name. */
    for (const char *p = strstr(html, "http"); p; p = strstr(p + 1, "http"))
        if (strncmp(p, "http://www.w3.org/2000/svg\"", 27) != 0)
            fail_msg("external URL in the page: %.40s", p);
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "<link"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_parser_rejects_malformed_text),
        cmocka_unit_test(test_latency_buckets_are_monotonic_and_quantiles_close),
        cmocka_unit_test(test_metrics_and_status_of_a_running_job),
        cmocka_unit_test(test_page_is_self_contained_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
