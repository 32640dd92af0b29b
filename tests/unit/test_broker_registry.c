/* Unit tests for the topic registry (broker/registry.c) and the topic config
 * parser (broker/config.c): CRUD, persistence across reopen, validation of
 * names and configs, corrupt records, and the flush.messages / flush.ms
 * interaction.  Each test works in its own mkdtemp folder under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/broker.h"

typedef struct fixture {
    char dir[64];
    sl_registry_t *reg;
} fixture_t;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void reopen(fixture_t *f)
{
    sl_err_t err = {0};
    if (f->reg)
        sl_registry_close(f->reg);
    f->reg = NULL;
    int rc = sl_registry_open(f->dir, &f->reg, &err);
    if (rc)
        fail_msg("sl_registry_open: %s", err.msg);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sl-registry-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    /* A data dir one level down checks that open creates missing parents. */
    strcat(f->dir, "/data");
    reopen(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    sl_registry_close(f->reg);
    char *slash = strrchr(f->dir, '/');
    *slash = '\0';
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static sl_topic_info_t topic(const char *name, int32_t partitions)
{
    sl_topic_info_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.partitions = partitions;
    return t;
}

static void add_config(sl_topic_info_t *t, const char *k, const char *v)
{
    snprintf(t->configs[t->nconfigs].key, sizeof t->configs[0].key, "%s", k);
    snprintf(t->configs[t->nconfigs].value, sizeof t->configs[0].value, "%s", v);
    t->nconfigs++;
}

static void create_ok(fixture_t *f, const sl_topic_info_t *t)
{
    sl_err_t err = {0};
    int rc = sl_registry_create_topic(f->reg, t, &err);
    if (rc)
        fail_msg("create %s: %d %s", t->name, rc, err.msg);
}

static const char *config_of(const sl_topic_info_t *t, const char *key)
{
    for (int32_t i = 0; i < t->nconfigs; i++)
        if (strcmp(t->configs[i].key, key) == 0)
            return t->configs[i].value;
    return NULL;
}

typedef struct names {
    int n;
    char name[8][SL_TOPIC_NAME_MAX + 1];
    int32_t partitions[8];
    int stop_after;
} names_t;

static int collect(void *arg, const sl_topic_info_t *t)
{
    names_t *ns = arg;
    if (ns->n < 8) {
        snprintf(ns->name[ns->n], sizeof ns->name[0], "%s", t->name);
        ns->partitions[ns->n] = t->partitions;
    }
    ns->n++;
    return ns->stop_after && ns->n >= ns->stop_after;
}

/* ---- registry ------------------------------------------------------------------ */

static void test_create_get_list_delete(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    sl_topic_info_t t = topic("orders", 3);
    add_config(&t, "retention.ms", "60000");
    add_config(&t, "cleanup.policy", "compact");
    create_ok(f, &t);
    create_ok(f, &(sl_topic_info_t){.name = "alpha", .partitions = 1});
    create_ok(f, &(sl_topic_info_t){.name = "zeta", .partitions = 7});

    sl_topic_info_t got;
    assert_int_equal(sl_registry_get_topic(f->reg, "orders", &got, &err), 0);
    assert_string_equal(got.name, "orders");
    assert_int_equal(got.partitions, 3);
    assert_int_equal(got.nconfigs, 2);
    assert_string_equal(config_of(&got, "retention.ms"), "60000");
    assert_string_equal(config_of(&got, "cleanup.policy"), "compact");

    names_t ns = {0};
    assert_int_equal(sl_registry_list_topics(f->reg, collect, &ns, &err), 0);
    assert_int_equal(ns.n, 3);
    assert_string_equal(ns.name[0], "alpha");
    assert_string_equal(ns.name[1], "orders");
    assert_string_equal(ns.name[2], "zeta");
    assert_int_equal(ns.partitions[2], 7);

    names_t first = {.stop_after = 1};
    assert_int_equal(sl_registry_list_topics(f->reg, collect, &first, &err), 0);
    assert_int_equal(first.n, 1);

    assert_int_equal(sl_registry_delete_topic(f->reg, "orders", &err), 0);
    assert_int_equal(sl_registry_get_topic(f->reg, "orders", &got, &err), SL_B_ENOTFOUND);
    assert_int_equal(sl_registry_delete_topic(f->reg, "orders", &err), SL_B_ENOTFOUND);
    assert_non_null(strstr(err.msg, "orders"));
    memset(&ns, 0, sizeof ns);
    assert_int_equal(sl_registry_list_topics(f->reg, collect, &ns, &err), 0);
    assert_int_equal(ns.n, 2);
}

static void test_topics_survive_close_and_reopen(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    sl_topic_info_t t = topic("events", 4);
    add_config(&t, "segment.bytes", "1048576");
    create_ok(f, &t);
    assert_int_equal(sl_registry_set_config(f->reg, "events", "retention.bytes", "1000000", &err), 0);
    assert_int_equal(sl_registry_set_partitions(f->reg, "events", 6, &err), 0);
    reopen(f);

    sl_topic_info_t got;
    assert_int_equal(sl_registry_get_topic(f->reg, "events", &got, &err), 0);
    assert_int_equal(got.partitions, 6);
    assert_int_equal(got.nconfigs, 2);
    assert_string_equal(config_of(&got, "segment.bytes"), "1048576");
    assert_string_equal(config_of(&got, "retention.bytes"), "1000000");

    struct stat st;
    char meta[128];
    snprintf(meta, sizeof meta, "%s/meta", f->dir);
    assert_int_equal(stat(meta, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_duplicate_create_returns_eexists(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    create_ok(f, &(sl_topic_info_t){.name = "dup", .partitions = 1});
    sl_topic_info_t again = topic("dup", 5);
    assert_int_equal(sl_registry_create_topic(f->reg, &again, &err), SL_B_EEXISTS);
    sl_topic_info_t got;
    assert_int_equal(sl_registry_get_topic(f->reg, "dup", &got, &err), 0);
    assert_int_equal(got.partitions, 1);
}

static void test_names_colliding_on_dot_and_underscore_are_rejected(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    create_ok(f, &(sl_topic_info_t){.name = "a.b", .partitions = 1});
    sl_topic_info_t t = topic("a_b", 1);
    assert_int_equal(sl_registry_create_topic(f->reg, &t, &err), SL_B_EINVAL);
    assert_non_null(strstr(err.msg, "collides"));
}

static void test_invalid_names_are_rejected(void **state)
{
    fixture_t *f = *state;
    char long_name[251];
    memset(long_name, 'x', 250);
    long_name[250] = '\0';
    const char *bad[] = {"", ".", "..", "a/b", "a b", "caf\xc3\xa9", "tab\t", long_name};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(sl_topic_name_valid(bad[i]));
        sl_topic_info_t t = topic("", 1);
        memcpy(t.name, bad[i], strnlen(bad[i], SL_TOPIC_NAME_MAX)); /* the 250-char name is cut... */
        if (strlen(bad[i]) > SL_TOPIC_NAME_MAX) /* ...so fill the whole array: no NUL at all */
            memset(t.name, 'x', sizeof t.name);
        sl_err_t err = {0};
        assert_int_equal(sl_registry_create_topic(f->reg, &t, &err), SL_B_EINVAL);
        assert_true(strlen(err.msg) > 0);
    }
    assert_false(sl_topic_name_valid(NULL));
    long_name[249] = '\0';
    assert_true(sl_topic_name_valid(long_name));
    assert_true(sl_topic_name_valid("Aa0._-"));
    assert_true(sl_topic_name_valid("..."));

    names_t ns = {0};
    sl_err_t err = {0};
    assert_int_equal(sl_registry_list_topics(f->reg, collect, &ns, &err), 0);
    assert_int_equal(ns.n, 0);
}

static void test_invalid_partitions_and_configs_are_rejected(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    sl_topic_info_t t = topic("p", 0);
    assert_int_equal(sl_registry_create_topic(f->reg, &t, &err), SL_B_EINVAL);
    t.partitions = 100001;
    assert_int_equal(sl_registry_create_topic(f->reg, &t, &err), SL_B_EINVAL);

    struct {
        const char *k, *v;
    } bad[] = {{"cleanup.policy", "bogus"}, {"retention.ms", "abc"}, {"segment.bytes", "1"},
               {"no.such.config", "1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_topic_info_t c = topic("c", 1);
        add_config(&c, "retention.ms", "1000");
        add_config(&c, bad[i].k, bad[i].v);
        memset(&err, 0, sizeof err);
        assert_int_equal(sl_registry_create_topic(f->reg, &c, &err), SL_B_EINVAL);
        assert_non_null(strstr(err.msg, bad[i].k));
        assert_non_null(strstr(err.msg, bad[i].v));
    }

    sl_topic_info_t twice = topic("twice", 1);
    add_config(&twice, "retention.ms", "1000");
    add_config(&twice, "retention.ms", "2000");
    assert_int_equal(sl_registry_create_topic(f->reg, &twice, &err), SL_B_EINVAL);

    sl_topic_info_t many = topic("many", 1);
    many.nconfigs = 33;
    assert_int_equal(sl_registry_create_topic(f->reg, &many, &err), SL_B_EINVAL);

    sl_topic_info_t unterminated = topic("unterminated", 1);
    add_config(&unterminated, "retention.ms", "1000");
    memset(unterminated.configs[0].value, '1', sizeof unterminated.configs[0].value);
    assert_int_equal(sl_registry_create_topic(f->reg, &unterminated, &err), SL_B_EINVAL);

    sl_topic_info_t got;
    assert_int_equal(sl_registry_get_topic(f->reg, "c", &got, &err), SL_B_ENOTFOUND);
}

static void test_set_config_adds_replaces_and_removes(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    create_ok(f, &(sl_topic_info_t){.name = "cfg", .partitions = 2});
    assert_int_equal(sl_registry_set_config(f->reg, "cfg", "retention.ms", "5000", &err), 0);
    assert_int_equal(sl_registry_set_config(f->reg, "cfg", "cleanup.policy", "compact,delete", &err), 0);
    assert_int_equal(sl_registry_set_config(f->reg, "cfg", "retention.ms", "6000", &err), 0);

    sl_topic_info_t got;
    assert_int_equal(sl_registry_get_topic(f->reg, "cfg", &got, &err), 0);
    assert_int_equal(got.nconfigs, 2);
    assert_string_equal(config_of(&got, "retention.ms"), "6000");
    assert_string_equal(config_of(&got, "cleanup.policy"), "compact,delete");

    assert_int_equal(sl_registry_set_config(f->reg, "cfg", "retention.ms", NULL, &err), 0);
    assert_int_equal(sl_registry_set_config(f->reg, "cfg", "retention.ms", NULL, &err), 0); /* absent: no-op */
    assert_int_equal(sl_registry_get_topic(f->reg, "cfg", &got, &err), 0);
    assert_int_equal(got.nconfigs, 1);
    assert_null(config_of(&got, "retention.ms"));

    assert_int_equal(sl_registry_set_config(f->reg, "cfg", "retention.ms", "soon", &err), SL_B_EINVAL);
    assert_int_equal(sl_registry_set_config(f->reg, "cfg", "bogus.key", "1", &err), SL_B_EINVAL);
    assert_int_equal(sl_registry_set_config(f->reg, "nope", "retention.ms", "1", &err), SL_B_ENOTFOUND);
    assert_int_equal(sl_registry_get_topic(f->reg, "cfg", &got, &err), 0);
    assert_int_equal(got.nconfigs, 1);
}

static void test_set_config_replaces_in_place_and_keeps_keys_sorted(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    static const char *keys[] = {"segment.bytes",  "segment.ms",     "retention.ms",         "retention.bytes",
                                 "cleanup.policy", "flush.messages", "delete.retention.ms", "flush.ms",
                                 "index.interval.bytes", "max.message.bytes"};
    static const char *vals[] = {"1048576", "1000", "1000", "1000", "delete", "10", "1000", "500", "100", "2000"};
    sl_topic_info_t t = topic("full", 1);
    for (size_t i = 0; i < 10; i++)
        add_config(&t, keys[i], vals[i]);
    create_ok(f, &t);
    assert_int_equal(sl_registry_set_config(f->reg, "full", "flush.ms", "700", &err), 0);
    sl_topic_info_t got;
    assert_int_equal(sl_registry_get_topic(f->reg, "full", &got, &err), 0);
    assert_int_equal(got.nconfigs, 10);
    for (int32_t i = 1; i < got.nconfigs; i++) /* stored sorted by key */
        assert_true(strcmp(got.configs[i - 1].key, got.configs[i].key) < 0);
    sl_log_config_t cfg;
    assert_int_equal(sl_topic_log_config(&got, &cfg, &err), 0);
    assert_int_equal(cfg.flush_policy, SL_FLUSH_INTERVAL);
    assert_int_equal(cfg.flush_ms, 700);
}

static void test_set_partitions_only_increases(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    create_ok(f, &(sl_topic_info_t){.name = "grow", .partitions = 3});
    assert_int_equal(sl_registry_set_partitions(f->reg, "grow", 2, &err), SL_B_EINVAL);
    assert_int_equal(sl_registry_set_partitions(f->reg, "grow", 3, &err), SL_B_EINVAL);
    assert_int_equal(sl_registry_set_partitions(f->reg, "grow", 0, &err), SL_B_EINVAL);
    assert_int_equal(sl_registry_set_partitions(f->reg, "grow", 5, &err), 0);
    assert_int_equal(sl_registry_set_partitions(f->reg, "missing", 5, &err), SL_B_ENOTFOUND);
    sl_topic_info_t got;
    assert_int_equal(sl_registry_get_topic(f->reg, "grow", &got, &err), 0);
    assert_int_equal(got.partitions, 5);
}

static void test_topic_log_config_merges_overrides(void **state)
{
    (void)state;
    sl_err_t err = {0};
    sl_log_config_t def, cfg;
    sl_log_config_default(&def);
    sl_topic_info_t t = topic("merge", 1);
    add_config(&t, "retention.ms", "-1");
    add_config(&t, "cleanup.policy", "delete,compact");
    add_config(&t, "max.message.bytes", "2000000");
    assert_int_equal(sl_topic_log_config(&t, &cfg, &err), 0);
    assert_int_equal(cfg.retention_ms, -1);
    assert_int_equal(cfg.cleanup_policy, SL_CLEANUP_DELETE | SL_CLEANUP_COMPACT);
    assert_int_equal(cfg.max_message_bytes, 2000000);
    assert_int_equal(cfg.segment_bytes, def.segment_bytes);
    assert_int_equal(cfg.segment_ms, def.segment_ms);
    assert_int_equal(cfg.retention_bytes, def.retention_bytes);
    assert_int_equal(cfg.flush_policy, def.flush_policy);
    assert_int_equal(cfg.index_interval_bytes, def.index_interval_bytes);

    add_config(&t, "segment.ms", "0");
    assert_int_equal(sl_topic_log_config(&t, &cfg, &err), SL_B_EINVAL);
}

static void test_partition_dir_formats_path(void **state)
{
    (void)state;
    char buf[128];
    assert_int_equal(sl_partition_dir("/var/sluice", "orders", 12, buf, sizeof buf), 0);
    assert_string_equal(buf, "/var/sluice/topics/orders-12");
    assert_int_equal(sl_partition_dir("/var/sluice", "orders", 12, buf, 10), SL_B_EINVAL);
    assert_int_equal(sl_partition_dir("/var/sluice", "../etc", 0, buf, sizeof buf), SL_B_EINVAL);
    assert_int_equal(sl_partition_dir("/var/sluice", "orders", -1, buf, sizeof buf), SL_B_EINVAL);
}

/* Write a raw value under `name` straight into the registry's LMDB database. */
static void put_raw(fixture_t *f, const char *name, const void *val, size_t len)
{
    sl_registry_close(f->reg);
    f->reg = NULL;
    char meta[128];
    snprintf(meta, sizeof meta, "%s/meta", f->dir);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, meta, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "topics", 0, &dbi), 0);
    MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)val};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    reopen(f);
}

static void test_corrupt_records_are_errors(void **state)
{
    fixture_t *f = *state;
    sl_err_t err = {0};
    sl_topic_info_t got;
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } cases[] = {
        {"garbage", "\xc1\xc1\xc1", 3},                                   /* never-used msgpack byte */
        {"notmap", "\x93\x01\x02\x03", 4},                                /* an array */
        {"truncated", "\x82\xaapartitions", 12},                          /* map cut short */
        {"huge_map", "\xdf\xff\xff\xff\xff", 5},                          /* declares 4G entries */
        {"huge_cfgs", "\x82\xaapartitions\x01\xa7" "configs\xdd\xff\xff\xff\xff", 26},
        {"huge_str", "\x81\xdb\xff\xff\xff\xff", 6},
        {"deep", "\x91\x91\x91\x91\x91\x91\x91\x91\x91\x91\x01", 11},
        {"zero_parts", "\x82\xaapartitions\x00\xa7" "configs\x80", 22},   /* partitions 0 */
        {"neg_parts", "\x82\xaapartitions\xff\xa7" "configs\x80", 22},    /* partitions -1 */
        {"no_parts", "\x81\xa7" "configs\x80", 10},                       /* missing partitions */
        {"trailing", "\x82\xaapartitions\x01\xa7" "configs\x80\x00", 23}, /* bytes after the map */
        {"cfg_not_str", "\x82\xaapartitions\x01\xa7" "configs\x81\x01\x02", 24},
        {"cfg_nul", "\x82\xaapartitions\x01\xa7" "configs\x81\xa2x\x00\xa1y", 27},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_raw(f, cases[i].name, cases[i].bytes, cases[i].len);
        memset(&err, 0, sizeof err);
        int rc = sl_registry_get_topic(f->reg, cases[i].name, &got, &err);
        if (rc != SL_B_ECORRUPT)
            fail_msg("case %s: rc %d (%s)", cases[i].name, rc, err.msg);
        assert_non_null(strstr(err.msg, "corrupt"));
        names_t ns = {0};
        assert_int_equal(sl_registry_list_topics(f->reg, collect, &ns, &err), SL_B_ECORRUPT);
        assert_int_equal(sl_registry_delete_topic(f->reg, cases[i].name, &err), 0);
    }
    /* A well-formed record written by hand decodes (and unknown keys are skipped). */
    static const char ok[] = "\x83\xaapartitions\x02\xa7" "configs\x81\xacretention.ms\xa3" "100\xa5" "extra\xc0";
    put_raw(f, "handmade", ok, sizeof ok - 1);
    assert_int_equal(sl_registry_get_topic(f->reg, "handmade", &got, &err), 0);
    assert_int_equal(got.partitions, 2);
    assert_string_equal(config_of(&got, "retention.ms"), "100");
}

/* ---- sl_log_config_set ----------------------------------------------------------- */

static void test_config_defaults(void **state)
{
    (void)state;
    sl_log_config_t c;
    sl_log_config_default(&c);
    assert_int_equal(c.segment_bytes, 1073741824LL);
    assert_int_equal(c.segment_ms, 604800000LL);
    assert_int_equal(c.retention_ms, 604800000LL);
    assert_int_equal(c.retention_bytes, -1);
    assert_int_equal(c.cleanup_policy, SL_CLEANUP_DELETE);
    assert_int_equal(c.delete_retention_ms, 86400000LL);
    assert_int_equal(c.flush_policy, SL_FLUSH_EVERY_BATCH);
    assert_int_equal(c.flush_ms, 1000);
    assert_int_equal(c.index_interval_bytes, 4096);
    assert_int_equal(c.max_message_bytes, 1048588);
}

static int set(sl_log_config_t *c, const char *k, const char *v)
{
    sl_err_t err = {0};
    return sl_log_config_set(c, k, v, &err);
}

static void test_config_integers_are_parsed_strictly(void **state)
{
    (void)state;
    sl_log_config_t c;
    sl_log_config_default(&c);
    const char *bad[] = {"", " 5", "5 ", "5ms", "0x10", "1e3", "+", "-", "9223372036854775808",
                         "-9223372036854775809", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_err_t err = {0};
        assert_int_equal(sl_log_config_set(&c, "retention.ms", bad[i], &err), SL_B_EINVAL);
        assert_non_null(strstr(err.msg, "retention.ms"));
    }
    assert_int_equal(c.retention_ms, 604800000LL); /* untouched by failures */

    assert_int_equal(set(&c, "retention.ms", "9223372036854775807"), 0);
    assert_int_equal(c.retention_ms, INT64_MAX);
    assert_int_equal(set(&c, "retention.ms", "-1"), 0);
    assert_int_equal(c.retention_ms, -1);
    assert_int_equal(set(&c, "retention.ms", "-2"), SL_B_EINVAL);
    assert_int_equal(set(&c, "retention.bytes", "0"), 0);
    assert_int_equal(c.retention_bytes, 0);
    assert_int_equal(set(&c, "retention.bytes", "-2"), SL_B_EINVAL);
    assert_int_equal(set(&c, "segment.bytes", "13"), SL_B_EINVAL);
    assert_int_equal(set(&c, "segment.bytes", "14"), 0);
    assert_int_equal(c.segment_bytes, 14);
    assert_int_equal(set(&c, "segment.bytes", "2147483648"), SL_B_EINVAL);
    assert_int_equal(set(&c, "segment.ms", "0"), SL_B_EINVAL);
    assert_int_equal(set(&c, "segment.ms", "+60000"), 0);
    assert_int_equal(c.segment_ms, 60000);
    assert_int_equal(set(&c, "delete.retention.ms", "-1"), SL_B_EINVAL);
    assert_int_equal(set(&c, "index.interval.bytes", "0"), 0);
    assert_int_equal(c.index_interval_bytes, 0);
    assert_int_equal(c.cache_tail_bytes, 64LL << 20);
    assert_int_equal(set(&c, "page.cache.tail.bytes", "-1"), 0);
    assert_int_equal(c.cache_tail_bytes, -1);
    assert_int_equal(set(&c, "page.cache.tail.bytes", "-2"), SL_B_EINVAL);
    assert_int_equal(set(&c, "page.cache.tail.bytes", "1048576"), 0);
    assert_int_equal(c.cache_tail_bytes, 1048576);
    assert_int_equal(set(&c, "max.message.bytes", "2147483647"), 0);
    assert_int_equal(c.max_message_bytes, INT32_MAX);
    assert_int_equal(set(&c, "max.message.bytes", "2147483648"), SL_B_EINVAL);
    assert_int_equal(set(&c, "flush.messages", "0"), SL_B_EINVAL);
    assert_int_equal(set(&c, "flush.ms", "-1"), SL_B_EINVAL);

    sl_err_t err = {0};
    assert_int_equal(sl_log_config_set(&c, "retention.minutes", "5", &err), SL_B_EINVAL);
    assert_non_null(strstr(err.msg, "retention.minutes"));
    assert_int_equal(sl_log_config_set(&c, NULL, "5", &err), SL_B_EINVAL);
}

static void test_config_cleanup_policy_values(void **state)
{
    (void)state;
    sl_log_config_t c;
    sl_log_config_default(&c);
    assert_int_equal(set(&c, "cleanup.policy", "compact"), 0);
    assert_int_equal(c.cleanup_policy, SL_CLEANUP_COMPACT);
    assert_int_equal(set(&c, "cleanup.policy", "delete"), 0);
    assert_int_equal(c.cleanup_policy, SL_CLEANUP_DELETE);
    assert_int_equal(set(&c, "cleanup.policy", "compact,delete"), 0);
    assert_int_equal(c.cleanup_policy, SL_CLEANUP_COMPACT | SL_CLEANUP_DELETE);
    assert_int_equal(set(&c, "cleanup.policy", "delete"), 0);
    assert_int_equal(set(&c, "cleanup.policy", "delete, compact"), 0);
    assert_int_equal(c.cleanup_policy, SL_CLEANUP_COMPACT | SL_CLEANUP_DELETE);
    const char *bad[] = {"bogus", "", ",", "delete,", ",compact", "compact,compact", "Compact", "delete;compact",
                         "delete compact"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(set(&c, "cleanup.policy", bad[i]), SL_B_EINVAL);
}

/* The flush settings give the same result whichever is set first. */
typedef struct flush_case {
    const char *messages, *ms;
    int policy;
    int64_t flush_ms; /* checked only for SL_FLUSH_INTERVAL */
} flush_case_t;

static void test_config_flush_messages_and_ms_in_both_orders(void **state)
{
    (void)state;
    static const flush_case_t cases[] = {
        {"1", "5000", SL_FLUSH_EVERY_BATCH, 0},
        {"1", "9223372036854775807", SL_FLUSH_EVERY_BATCH, 0},
        {"10000", "5000", SL_FLUSH_INTERVAL, 5000},
        {"9223372036854775807", "250", SL_FLUSH_INTERVAL, 250},
        {"10000", "9223372036854775807", SL_FLUSH_NEVER, 0},
        {"10000", "0", SL_FLUSH_EVERY_BATCH, 0},
        {"1", "0", SL_FLUSH_EVERY_BATCH, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int order = 0; order < 2; order++) {
            sl_log_config_t c;
            sl_log_config_default(&c);
            if (order == 0) {
                assert_int_equal(set(&c, "flush.messages", cases[i].messages), 0);
                assert_int_equal(set(&c, "flush.ms", cases[i].ms), 0);
            } else {
                assert_int_equal(set(&c, "flush.ms", cases[i].ms), 0);
                assert_int_equal(set(&c, "flush.messages", cases[i].messages), 0);
            }
            if (c.flush_policy != cases[i].policy)
                fail_msg("flush.messages=%s flush.ms=%s (order %d): policy %d, expected %d", cases[i].messages,
                         cases[i].ms, order, c.flush_policy, cases[i].policy);
            if (cases[i].policy == SL_FLUSH_INTERVAL)
                assert_int_equal(c.flush_ms, cases[i].flush_ms);
        }
    }
}

static void test_config_flush_settings_alone(void **state)
{
    (void)state;
    sl_log_config_t c;
    /* The default is flush.messages=1: flush.ms alone keeps syncing every batch. */
    sl_log_config_default(&c);
    assert_int_equal(set(&c, "flush.ms", "5000"), 0);
    assert_int_equal(c.flush_policy, SL_FLUSH_EVERY_BATCH);
    /* Raising flush.messages alone hands the decision to flush.ms (default 1 s). */
    sl_log_config_default(&c);
    assert_int_equal(set(&c, "flush.messages", "100"), 0);
    assert_int_equal(c.flush_policy, SL_FLUSH_INTERVAL);
    assert_int_equal(c.flush_ms, 1000);
    /* ...and back to every batch. */
    assert_int_equal(set(&c, "flush.messages", "1"), 0);
    assert_int_equal(c.flush_policy, SL_FLUSH_EVERY_BATCH);
    /* flush.ms=0 alone means every batch too. */
    sl_log_config_default(&c);
    assert_int_equal(set(&c, "flush.ms", "0"), 0);
    assert_int_equal(c.flush_policy, SL_FLUSH_EVERY_BATCH);
    /* A remembered flush.ms is used when flush.messages is raised later. */
    sl_log_config_default(&c);
    assert_int_equal(set(&c, "flush.ms", "9223372036854775807"), 0);
    assert_int_equal(c.flush_policy, SL_FLUSH_EVERY_BATCH);
    assert_int_equal(set(&c, "flush.messages", "2"), 0);
    assert_int_equal(c.flush_policy, SL_FLUSH_NEVER);
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    for (int code = SL_B_ECLOSED; code <= SL_B_OK; code++) {
        const char *s = sl_broker_strerror(code);
        assert_non_null(s);
        assert_string_not_equal(s, sl_broker_strerror(-1000));
    }
    assert_string_equal(sl_broker_strerror(SL_B_EEXISTS), "topic already exists");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topics_survive_close_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_create_returns_eexists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_colliding_on_dot_and_underscore_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_names_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_partitions_and_configs_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_config_adds_replaces_and_removes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_config_replaces_in_place_and_keeps_keys_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_partitions_only_increases, setup, teardown),
        cmocka_unit_test(test_topic_log_config_merges_overrides),
        cmocka_unit_test(test_partition_dir_formats_path),
        cmocka_unit_test_setup_teardown(test_corrupt_records_are_errors, setup, teardown),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_integers_are_parsed_strictly),
        cmocka_unit_test(test_config_cleanup_policy_values),
        cmocka_unit_test(test_config_flush_messages_and_ms_in_both_orders),
        cmocka_unit_test(test_config_flush_settings_alone),
        cmocka_unit_test(test_strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
