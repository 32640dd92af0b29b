/* Topic configuration: the broker's error strings, the default partition-log
 * config and the parser that maps Kafka's topic config names (segment.bytes,
 * retention.ms, cleanup.policy, ...) onto sl_log_config_t.  Values are checked
 * as strictly as Kafka checks them, so a config accepted by CreateTopics or
 * AlterConfigs can never put a log into a state it cannot run in. */
#include "broker/broker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *sl_broker_strerror(int code)
{
    switch (code) {
    case SL_B_OK: return "success";
    case SL_B_EIO: return "I/O error";
    case SL_B_ECORRUPT: return "corrupt data (bad CRC, magic or structure)";
    case SL_B_ETRUNCATED: return "truncated data (shorter than its length fields say)";
    case SL_B_EINVAL: return "invalid argument or configuration";
    case SL_B_ERANGE: return "offset out of range";
    case SL_B_ENOMEM: return "out of memory";
    case SL_B_ENOTFOUND: return "unknown topic";
    case SL_B_EEXISTS: return "topic already exists";
    case SL_B_ETOOLARGE: return "message too large";
    case SL_B_EUNSUPPORTED: return "unsupported compression codec or format";
    case SL_B_ETIMEDOUT: return "timed out";
    case SL_B_ECLOSED: return "log is closing";
    default: return "unknown broker error";
    }
}

#define DAY_MS (24LL * 60 * 60 * 1000)

void sl_log_config_default(sl_log_config_t *cfg)
{
    cfg->segment_bytes = 1LL << 30;
    cfg->segment_ms = 7 * DAY_MS;
    cfg->retention_ms = 7 * DAY_MS;
    cfg->retention_bytes = -1;
    cfg->cleanup_policy = SL_CLEANUP_DELETE;
    cfg->delete_retention_ms = DAY_MS;
    cfg->flush_policy = SL_FLUSH_EVERY_BATCH;
    cfg->flush_ms = 1000;
    cfg->index_interval_bytes = 4096;
    cfg->max_message_bytes = 1048576 + SL_BATCH_LOG_OVERHEAD;
    cfg->cache_tail_bytes = 64LL << 20;
}

/* A whole-string base-10 integer in [min, max], as Java's Long.parseLong
 * accepts it: optional sign, digits, nothing else (no blanks, no "12ms"). */
static int parse_int(const char *key, const char *value, int64_t min, int64_t max, int64_t *out, sl_err_t *err)
{
    const char *p = value;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return sl_err_set(err, SL_B_EINVAL, "invalid value '%s' for config %s: not an integer", value, key);
    errno = 0;
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    if (*end != '\0')
        return sl_err_set(err, SL_B_EINVAL, "invalid value '%s' for config %s: not an integer", value, key);
    if (errno == ERANGE)
        return sl_err_set(err, SL_B_EINVAL, "invalid value '%s' for config %s: out of the 64-bit range", value,
                          key);
    if (v < min || v > max)
        return sl_err_set(err, SL_B_EINVAL, "invalid value '%s' for config %s: must be in [%lld, %lld]", value,
                          key, (long long)min, (long long)max);
    *out = v;
    return 0;
}

/* "delete", "compact", or both separated by a comma (either order, blanks
 * around items allowed as Kafka's list parser trims them). */
static int parse_cleanup_policy(const char *value, int *out, sl_err_t *err)
{
    int bits = 0;
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - start);
        while (*p == ' ' || *p == '\t')
            p++;
        int bit = 0;
        if (n == 6 && memcmp(start, "delete", 6) == 0)
            bit = SL_CLEANUP_DELETE;
        else if (n == 7 && memcmp(start, "compact", 7) == 0)
            bit = SL_CLEANUP_COMPACT;
        if (!bit || (bits & bit))
            break;
        bits |= bit;
        if (*p == '\0') {
            *out = bits;
            return 0;
        }
        if (*p != ',')
            break;
        p++;
    }
    return sl_err_set(err, SL_B_EINVAL,
                      "invalid value '%s' for config cleanup.policy: expected delete, compact or compact,delete",
                      value);
}

static int flush_policy_for_ms(int64_t ms)
{
    if (ms == 0)
        return SL_FLUSH_EVERY_BATCH;
    if (ms == INT64_MAX)
        return SL_FLUSH_NEVER;
    return SL_FLUSH_INTERVAL;
}

/* flush.messages and flush.ms.
 *
 * Kafka syncs a log when EITHER threshold is reached: flush.messages=1 means
 * every append, whatever flush.ms says.  Sluice keeps no message counter, so
 * flush.messages has two meanings: 1 (sync every batch) or larger (no count
 * trigger: flush.ms decides).  The two settings are kept in the config as:
 *
 *   flush.messages=1                -> flush_policy EVERY_BATCH, and flush_ms
 *                                      remembers the latest flush.ms (non-zero);
 *   flush.messages>1, flush.ms=0    -> EVERY_BATCH, flush_ms 0;
 *   flush.messages>1, flush.ms=MAX  -> NEVER (Long.MAX_VALUE, Kafka's "off");
 *   flush.messages>1, other flush.ms-> INTERVAL every flush_ms.
 *
 * so "flush.messages is 1" reads back as EVERY_BATCH with flush_ms != 0.  The
 * Sluice default (every batch, flush_ms 1000) therefore is flush.messages=1 and
 * flush.ms=1000: acks=all means on disk.  Setting flush.ms alone keeps syncing
 * every batch; to sync on a timer set flush.messages to any value above 1 (in
 * either order) and flush.ms.  Both orders give the same result, except that
 * flush.ms=0 and flush.messages=1 are the same state (every batch), after
 * which a later flush.ms applies as if flush.messages were > 1. */
static int set_flush_messages(sl_log_config_t *cfg, int64_t n)
{
    if (n == 1) {
        cfg->flush_policy = SL_FLUSH_EVERY_BATCH;
        return 0;
    }
    cfg->flush_policy = flush_policy_for_ms(cfg->flush_ms);
    return 0;
}

static int set_flush_ms(sl_log_config_t *cfg, int64_t ms)
{
    bool every_message = cfg->flush_policy == SL_FLUSH_EVERY_BATCH && cfg->flush_ms != 0;
    cfg->flush_ms = ms;
    cfg->flush_policy = every_message ? SL_FLUSH_EVERY_BATCH : flush_policy_for_ms(ms);
    return 0;
}

int sl_log_config_set(sl_log_config_t *cfg, const char *key, const char *value, sl_err_t *err)
{
    if (!key || !value)
        return sl_err_set(err, SL_B_EINVAL, "config key and value must not be NULL");
    int64_t v = 0;
    int rc;
    if (strcmp(key, "segment.bytes") == 0) {
        /* Kafka's minimum: the overhead of the smallest legacy record. */
        if ((rc = parse_int(key, value, 14, INT32_MAX, &v, err)))
            return rc;
        cfg->segment_bytes = v;
    } else if (strcmp(key, "segment.ms") == 0) {
        if ((rc = parse_int(key, value, 1, INT64_MAX, &v, err)))
            return rc;
        cfg->segment_ms = v;
    } else if (strcmp(key, "retention.ms") == 0) {
        if ((rc = parse_int(key, value, -1, INT64_MAX, &v, err)))
            return rc;
        cfg->retention_ms = v;
    } else if (strcmp(key, "retention.bytes") == 0) {
        if ((rc = parse_int(key, value, -1, INT64_MAX, &v, err)))
            return rc;
        cfg->retention_bytes = v;
    } else if (strcmp(key, "cleanup.policy") == 0) {
        int bits = 0;
        if ((rc = parse_cleanup_policy(value, &bits, err)))
            return rc;
        cfg->cleanup_policy = bits;
    } else if (strcmp(key, "delete.retention.ms") == 0) {
        if ((rc = parse_int(key, value, 0, INT64_MAX, &v, err)))
            return rc;
        cfg->delete_retention_ms = v;
    } else if (strcmp(key, "flush.messages") == 0) {
        if ((rc = parse_int(key, value, 1, INT64_MAX, &v, err)))
            return rc;
        return set_flush_messages(cfg, v);
    } else if (strcmp(key, "flush.ms") == 0) {
        if ((rc = parse_int(key, value, 0, INT64_MAX, &v, err)))
            return rc;
        return set_flush_ms(cfg, v);
    } else if (strcmp(key, "index.interval.bytes") == 0) {
        if ((rc = parse_int(key, value, 0, INT32_MAX, &v, err)))
            return rc;
        cfg->index_interval_bytes = (int32_t)v;
    } else if (strcmp(key, "max.message.bytes") == 0) {
        if ((rc = parse_int(key, value, 0, INT32_MAX, &v, err)))
            return rc;
        cfg->max_message_bytes = (int32_t)v;
    } else if (strcmp(key, "page.cache.tail.bytes") == 0) {
        if ((rc = parse_int(key, value, -1, INT64_MAX, &v, err)))
            return rc;
        cfg->cache_tail_bytes = v;
    } else {
        return sl_err_set(err, SL_B_EINVAL, "unknown topic config '%s' (value '%s')", key, value);
    }
    return 0;
}
