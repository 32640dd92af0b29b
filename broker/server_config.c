/* Broker-level settings (server.properties names) and their defaults.  Topic
 * defaults (log.*) map onto the per-topic log config keys. */
#include "broker/broker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

void sl_broker_config_default(sl_broker_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./data");
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 9092;
    cfg->node_id = 0;
    cfg->num_partitions = 1;
    cfg->max_partitions = 1000;
    cfg->auto_create_topics = true;
    cfg->max_request_bytes = 100 * 1024 * 1024;
    sl_log_config_default(&cfg->log);
    cfg->group_min_session_ms = 6000;
    cfg->group_max_session_ms = 1800000;
    cfg->group_initial_rebalance_delay_ms = 0;
    cfg->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
}

static int parse_i64(const char *key, const char *value, int64_t min, int64_t max, int64_t *out, sl_err_t *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max)
        return sl_err_set(err, SL_B_EINVAL, "invalid value '%s' for %s (expected an integer in [%lld, %lld])", value,
                          key, (long long)min, (long long)max);
    *out = v;
    return 0;
}

/* Broker keys that are topic configs with a "log." prefix. */
static const struct {
    const char *broker_key;
    const char *topic_key;
} log_keys[] = {
    {"log.segment.bytes", "segment.bytes"},
    {"log.roll.ms", "segment.ms"},
    {"log.retention.ms", "retention.ms"},
    {"log.retention.bytes", "retention.bytes"},
    {"log.cleanup.policy", "cleanup.policy"},
    {"log.flush.interval.messages", "flush.messages"},
    {"log.flush.interval.ms", "flush.ms"},
    {"log.index.interval.bytes", "index.interval.bytes"},
    {"log.cleaner.delete.retention.ms", "delete.retention.ms"},
    {"log.page.cache.tail.bytes", "page.cache.tail.bytes"},
    {"message.max.bytes", "max.message.bytes"},
};

int sl_broker_config_set(sl_broker_config_t *cfg, const char *key, const char *value, sl_err_t *err)
{
    int64_t v;
    int rc;
    for (size_t i = 0; i < sizeof log_keys / sizeof log_keys[0]; i++)
        if (strcmp(key, log_keys[i].broker_key) == 0)
            return sl_log_config_set(&cfg->log, log_keys[i].topic_key, value, err);
    if (strcmp(key, "log.retention.minutes") == 0 || strcmp(key, "log.retention.hours") == 0) {
        if ((rc = parse_i64(key, value, -1, INT32_MAX, &v, err)) != 0)
            return rc;
        int64_t ms = v < 0 ? -1 : v * (key[14] == 'm' ? 60000LL : 3600000LL);
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)ms);
        return sl_log_config_set(&cfg->log, "retention.ms", buf, err);
    }
    if (strcmp(key, "log.dirs") == 0 || strcmp(key, "log.dir") == 0) {
        if (strlen(value) >= sizeof cfg->data_dir)
            return sl_err_set(err, SL_B_EINVAL, "%s too long", key);
        snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", value);
        return 0;
    }
    if (strcmp(key, "auto.create.topics.enable") == 0) {
        if (strcasecmp(value, "true") && strcasecmp(value, "false"))
            return sl_err_set(err, SL_B_EINVAL, "invalid value '%s' for %s (true or false)", value, key);
        cfg->auto_create_topics = strcasecmp(value, "true") == 0;
        return 0;
    }
    static const struct {
        const char *key;
        int64_t min, max, scale;
        size_t off;
        int size;
    } ints[] = {
        {"broker.id", 0, INT32_MAX, 1, offsetof(sl_broker_config_t, node_id), 4},
        {"node.id", 0, INT32_MAX, 1, offsetof(sl_broker_config_t, node_id), 4},
        {"num.partitions", 1, 100000, 1, offsetof(sl_broker_config_t, num_partitions), 4},
        {"max.partitions", 1, 1000000, 1, offsetof(sl_broker_config_t, max_partitions), 4},
        {"socket.request.max.bytes", 1024, INT32_MAX, 1, offsetof(sl_broker_config_t, max_request_bytes), 4},
        {"group.min.session.timeout.ms", 1, INT32_MAX, 1, offsetof(sl_broker_config_t, group_min_session_ms), 4},
        {"group.max.session.timeout.ms", 1, INT32_MAX, 1, offsetof(sl_broker_config_t, group_max_session_ms), 4},
        {"group.initial.rebalance.delay.ms", 0, INT32_MAX, 1,
         offsetof(sl_broker_config_t, group_initial_rebalance_delay_ms), 4},
        {"offsets.retention.minutes", 1, INT32_MAX, 60000, offsetof(sl_broker_config_t, offsets_retention_ms), 8},
        {"port", 0, 65535, 1, offsetof(sl_broker_config_t, port), 4},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (strcmp(key, ints[i].key) != 0)
            continue;
        if ((rc = parse_i64(key, value, ints[i].min, ints[i].max, &v, err)) != 0)
            return rc;
        v *= ints[i].scale;
        if (ints[i].size == 4) {
            int32_t v32 = (int32_t)v;
            memcpy((char *)cfg + ints[i].off, &v32, 4);
        } else {
            memcpy((char *)cfg + ints[i].off, &v, 8);
        }
        return 0;
    }
    return sl_err_set(err, SL_B_EINVAL, "unknown broker setting '%s'", key);
}

int sl_broker_config_load(sl_broker_config_t *cfg, const char *path, sl_err_t *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return sl_err_set(err, SL_B_EIO, "%s: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            s[--n] = '\0';
        if (!*s || *s == '#' || *s == '!')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = sl_err_set(err, SL_B_EINVAL, "%s:%d: expected key=value", path, lineno);
            break;
        }
        char *k = s, *v = eq + 1;
        *eq = '\0';
        for (char *t = eq - 1; t >= k && (*t == ' ' || *t == '\t'); t--)
            *t = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        sl_err_t e2 = {0};
        if (sl_broker_config_set(cfg, k, v, &e2) != 0)
            rc = sl_err_set(err, SL_B_EINVAL, "%s:%d: %s", path, lineno, e2.msg);
    }
    fclose(f);
    return rc;
}
