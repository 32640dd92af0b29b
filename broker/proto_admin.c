/* Cluster and admin APIs: ApiVersions, Metadata (with auto-creation),
 * CreateTopics, DeleteTopics and DescribeConfigs.  This broker is a cluster
 * of one: it is every partition's leader and the controller. */
#include "broker/bk.h"

#include <inttypes.h>
#include <stdio.h>

#define CLUSTER_ID "sluice-cluster"

/* ---- ApiVersions ------------------------------------------------------------------- */

int bk_handle_api_versions(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    (void)b;
    const bk_api_t *api = bk_api_find(SL_KAPI_API_VERSIONS);
    bool known = req->api_version <= api->max_version;
    if (known && req->api_version >= 3) {
        kr_cstr(&req->r, false); /* client_software_name */
        kr_cstr(&req->r, false); /* client_software_version */
        kr_tags(&req->r);
        if (req->r.err)
            return BK_BAD;
    }
    /* Unknown version: a v0 body with UNSUPPORTED_VERSION and our ranges, so
     * the client can retry with one we know. */
    int16_t v = known ? req->api_version : 0;
    bool flex = known && req->flex;
    kw_t w = bk_resp_writer(resp);
    kw_i16(&w, known ? SL_KERR_NONE : SL_KERR_UNSUPPORTED_VERSION);
    kw_arr(&w, flex, bk_napis);
    for (int i = 0; i < bk_napis; i++) {
        kw_i16(&w, bk_apis[i].key);
        kw_i16(&w, bk_apis[i].min_version);
        kw_i16(&w, bk_apis[i].max_version);
        kw_tags(&w, flex);
    }
    if (v >= 1)
        kw_i32(&w, 0); /* throttle_time_ms */
    kw_tags(&w, flex);
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- Metadata ------------------------------------------------------------------------ */

static void write_topic_metadata(sl_broker_t *b, kw_t *w, int16_t v, const char *name, int32_t name_len,
                                 const bk_topic_t *t, int16_t err)
{
    kw_i16(w, err);
    kw_string(w, false, name, name_len);
    if (v >= 1)
        kw_i8(w, 0); /* is_internal */
    int32_t n = t ? t->npartitions : 0;
    kw_arr(w, false, n);
    for (int32_t p = 0; p < n; p++) {
        kw_i16(w, SL_KERR_NONE);
        kw_i32(w, p);
        kw_i32(w, b->cfg.node_id); /* leader */
        if (v >= 7)
            kw_i32(w, 0); /* leader_epoch */
        kw_arr(w, false, 1);
        kw_i32(w, b->cfg.node_id); /* replicas */
        kw_arr(w, false, 1);
        kw_i32(w, b->cfg.node_id); /* isr */
        if (v >= 5)
            kw_arr(w, false, 0); /* offline replicas */
    }
    if (v >= 8)
        kw_i32(w, INT32_MIN); /* topic_authorized_operations: not requested */
}

int bk_handle_metadata(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    kr_t *r = &req->r;
    int32_t n = kr_i32(r);
    bool all = n < 0 || (v == 0 && n == 0);
    if (n < -1 || (n > 0 && (size_t)n > kr_left(r) / 2)) {
        return BK_BAD;
    }
    /* Topic names are read twice: once to size the answer (auto-creation
     * first), once to write it. */
    kr_t names = *r;
    for (int32_t i = 0; i < n; i++)
        kr_str(r, false);
    bool allow_create = true;
    if (v >= 4)
        allow_create = kr_i8(r) != 0;
    if (v >= 8) {
        kr_i8(r);
        kr_i8(r);
    }
    if (r->err)
        return BK_BAD;

    kw_t w = bk_resp_writer(resp);
    if (v >= 3)
        kw_i32(&w, 0);
    kw_arr(&w, false, 1);
    kw_i32(&w, b->cfg.node_id);
    kw_cstring(&w, false, b->cfg.host);
    kw_i32(&w, b->port);
    if (v >= 1)
        kw_string(&w, false, NULL, -1); /* rack */
    if (v >= 2)
        kw_cstring(&w, false, CLUSTER_ID);
    if (v >= 1)
        kw_i32(&w, b->cfg.node_id); /* controller */
    if (all) {
        kw_arr(&w, false, b->ntopics);
        for (int i = 0; i < b->ntopics; i++)
            write_topic_metadata(b, &w, v, b->topics[i]->name, (int32_t)strlen(b->topics[i]->name), b->topics[i],
                                 SL_KERR_NONE);
    } else {
        kw_arr(&w, false, n);
        for (int32_t i = 0; i < n; i++) {
            kstr_t name = kr_str(&names, false);
            int16_t err;
            /* Kafka before v4 always auto-creates (when the broker allows). */
            bk_topic_t *t = bk_topic_get_or_create(b, name, allow_create, &err);
            write_topic_metadata(b, &w, v, name.p, name.len, t, err);
        }
    }
    if (v >= 8)
        kw_i32(&w, INT32_MIN); /* cluster_authorized_operations */
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- CreateTopics / DeleteTopics ------------------------------------------------------ */

int bk_handle_create_topics(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    kr_t *r = &req->r;
    int32_t n = kr_array(r, 12);
    /* Validate the whole request before acting on any of it. */
    kr_t body = *r;
    for (int32_t i = 0; i < n && !r->err; i++) {
        kr_str(r, false);
        kr_i32(r);
        kr_i16(r);
        int32_t na = kr_array(r, 8);
        for (int32_t a = 0; a < na && !r->err; a++) {
            kr_i32(r);
            int32_t nb = kr_array(r, 4);
            for (int32_t x = 0; x < nb; x++)
                kr_i32(r);
        }
        int32_t nc = kr_array(r, 4);
        for (int32_t c = 0; c < nc && !r->err; c++) {
            kr_str(r, false);
            kr_str(r, true);
        }
    }
    kr_i32(r); /* timeout_ms */
    bool validate_only = v >= 1 ? kr_i8(r) != 0 : false;
    if (r->err)
        return BK_BAD;

    kw_t w = bk_resp_writer(resp);
    if (v >= 2)
        kw_i32(&w, 0);
    kw_arr(&w, false, n);
    for (int32_t i = 0; i < n; i++) {
        kstr_t name = kr_str(&body, false);
        int32_t partitions = kr_i32(&body);
        int16_t replication = kr_i16(&body);
        int32_t na = kr_array(&body, 8);
        for (int32_t a = 0; a < na; a++) {
            kr_i32(&body);
            int32_t nb = kr_array(&body, 4);
            for (int32_t x = 0; x < nb; x++)
                kr_i32(&body);
        }
        sl_topic_config_entry_t configs[32];
        int nconf = 0;
        int16_t err = SL_KERR_NONE;
        sl_err_t msg = {0};
        int32_t nc = kr_array(&body, 4);
        for (int32_t c = 0; c < nc; c++) {
            kstr_t k = kr_str(&body, false), val = kr_str(&body, true);
            if (err)
                continue;
            if (nconf == 32) {
                err = SL_KERR_INVALID_CONFIG;
                sl_err_set(&msg, 0, "too many configs");
            } else if (val.len >= 0) { /* null value: use the default */
                if (!kstr_copy(k, configs[nconf].key, sizeof configs[nconf].key) ||
                    !kstr_copy(val, configs[nconf].value, sizeof configs[nconf].value)) {
                    err = SL_KERR_INVALID_CONFIG;
                    sl_err_set(&msg, 0, "config name or value too long");
                } else {
                    nconf++;
                }
            }
        }
        char tname[SL_TOPIC_NAME_MAX + 1] = "";
        if (!err && !kstr_copy(name, tname, sizeof tname)) {
            err = SL_KERR_INVALID_TOPIC_EXCEPTION;
            sl_err_set(&msg, 0, "invalid topic name");
        }
        if (!err && na > 0) {
            err = SL_KERR_INVALID_REQUEST;
            sl_err_set(&msg, 0, "manual replica assignment is not supported by a single broker");
        }
        if (!err && replication != -1 && replication != 1) {
            err = SL_KERR_INVALID_REPLICATION_FACTOR;
            sl_err_set(&msg, 0, "replication factor %d: this broker is a cluster of one (use 1 or -1)", replication);
        }
        if (!err)
            err = bk_topic_create(b, tname, partitions, configs, nconf, validate_only, &msg);
        kw_string(&w, false, name.p, name.len);
        kw_i16(&w, err);
        if (v >= 1)
            kw_cstring(&w, false, err ? msg.msg : NULL);
    }
    return w.err ? BK_BAD : BK_DONE;
}

int bk_handle_delete_topics(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    kr_t *r = &req->r;
    int32_t n = kr_array(r, 2);
    kr_t names = *r;
    for (int32_t i = 0; i < n; i++)
        kr_str(r, false);
    kr_i32(r);
    if (r->err)
        return BK_BAD;
    kw_t w = bk_resp_writer(resp);
    if (v >= 1)
        kw_i32(&w, 0);
    kw_arr(&w, false, n);
    for (int32_t i = 0; i < n; i++) {
        kstr_t name = kr_str(&names, false);
        char tname[SL_TOPIC_NAME_MAX + 1];
        int16_t err = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        if (kstr_copy(name, tname, sizeof tname))
            err = bk_topic_delete(b, tname, NULL);
        kw_string(&w, false, name.p, name.len);
        kw_i16(&w, err);
    }
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- DescribeConfigs ------------------------------------------------------------------- */

enum { RESOURCE_TOPIC = 2, RESOURCE_BROKER = 4 };
enum { SOURCE_TOPIC = 1, SOURCE_STATIC_BROKER = 4, SOURCE_DEFAULT = 5 };

static void config_value(const sl_log_config_t *c, const char *key, char *buf, size_t cap)
{
    static const char *flush_never = "9223372036854775807";
    if (!strcmp(key, "cleanup.policy"))
        snprintf(buf, cap, "%s", c->cleanup_policy == (SL_CLEANUP_COMPACT | SL_CLEANUP_DELETE) ? "compact,delete"
                                 : c->cleanup_policy == SL_CLEANUP_COMPACT                   ? "compact"
                                                                                             : "delete");
    else if (!strcmp(key, "retention.ms"))
        snprintf(buf, cap, "%" PRId64, c->retention_ms);
    else if (!strcmp(key, "retention.bytes"))
        snprintf(buf, cap, "%" PRId64, c->retention_bytes);
    else if (!strcmp(key, "segment.bytes"))
        snprintf(buf, cap, "%" PRId64, c->segment_bytes);
    else if (!strcmp(key, "segment.ms"))
        snprintf(buf, cap, "%" PRId64, c->segment_ms);
    else if (!strcmp(key, "delete.retention.ms"))
        snprintf(buf, cap, "%" PRId64, c->delete_retention_ms);
    else if (!strcmp(key, "max.message.bytes"))
        snprintf(buf, cap, "%d", c->max_message_bytes);
    else if (!strcmp(key, "index.interval.bytes"))
        snprintf(buf, cap, "%d", c->index_interval_bytes);
    else if (!strcmp(key, "page.cache.tail.bytes"))
        snprintf(buf, cap, "%" PRId64, c->cache_tail_bytes);
    else if (!strcmp(key, "flush.messages"))
        snprintf(buf, cap, "%s", c->flush_policy == SL_FLUSH_EVERY_BATCH ? "1" : flush_never);
    else if (!strcmp(key, "flush.ms"))
        snprintf(buf, cap, "%s", c->flush_policy == SL_FLUSH_INTERVAL ? "" : flush_never);
    if (!strcmp(key, "flush.ms") && c->flush_policy == SL_FLUSH_INTERVAL)
        snprintf(buf, cap, "%" PRId64, c->flush_ms);
}

static const char *const topic_keys[] = {"cleanup.policy", "delete.retention.ms", "flush.messages", "flush.ms",
                                         "index.interval.bytes", "max.message.bytes", "page.cache.tail.bytes",
                                         "retention.bytes", "retention.ms", "segment.bytes", "segment.ms"};

static bool key_wanted(kr_t keys, int32_t nkeys, const char *key)
{
    if (nkeys < 0)
        return true;
    for (int32_t i = 0; i < nkeys; i++)
        if (kstr_eq(kr_str(&keys, false), key))
            return true;
    return false;
}

static void write_config(kw_t *w, int16_t v, const char *name, const char *value, bool is_default, int8_t source)
{
    kw_cstring(w, false, name);
    kw_cstring(w, false, value);
    kw_i8(w, 0); /* read_only */
    if (v == 0)
        kw_i8(w, is_default);
    else
        kw_i8(w, source);
    kw_i8(w, 0); /* is_sensitive */
    if (v >= 1)
        kw_arr(w, false, 0); /* synonyms */
    if (v >= 3) {
        kw_i8(w, 0);                       /* config_type: unknown */
        kw_string(w, false, NULL, -1);     /* documentation */
    }
}

int bk_handle_describe_configs(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    kr_t *r = &req->r;
    int32_t n = kr_array(r, 7);
    kr_t body = *r;
    for (int32_t i = 0; i < n && !r->err; i++) {
        kr_i8(r);
        kr_str(r, false);
        int32_t nk = kr_i32(r);
        if (nk < -1 || (nk > 0 && (size_t)nk > kr_left(r) / 2))
            return BK_BAD;
        for (int32_t k = 0; k < nk; k++)
            kr_str(r, false);
    }
    if (v >= 1)
        kr_i8(r);
    if (v >= 3)
        kr_i8(r);
    if (r->err)
        return BK_BAD;
    kw_t w = bk_resp_writer(resp);
    kw_i32(&w, 0);
    kw_arr(&w, false, n);
    for (int32_t i = 0; i < n; i++) {
        int8_t type = kr_i8(&body);
        kstr_t name = kr_str(&body, false);
        int32_t nk = kr_i32(&body);
        kr_t keys = body;
        for (int32_t k = 0; k < nk; k++)
            kr_str(&body, false);
        bk_topic_t *t = type == RESOURCE_TOPIC ? bk_topic_find(b, name.p, name.len) : NULL;
        int16_t err = SL_KERR_NONE;
        const char *msg = NULL;
        if (type == RESOURCE_TOPIC && !t) {
            err = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            msg = "unknown topic";
        } else if (type != RESOURCE_TOPIC && type != RESOURCE_BROKER) {
            err = SL_KERR_INVALID_REQUEST;
            msg = "unsupported resource type";
        }
        kw_i16(&w, err);
        kw_cstring(&w, false, msg);
        kw_i8(&w, type);
        kw_string(&w, false, name.p, name.len);
        if (err) {
            kw_arr(&w, false, 0);
            continue;
        }
        size_t count_at = kw_reserve32(&w);
        int32_t count = 0;
        char value[64];
        if (t) {
            for (size_t k = 0; k < sizeof topic_keys / sizeof *topic_keys; k++) {
                if (!key_wanted(keys, nk, topic_keys[k]))
                    continue;
                bool overridden = false;
                for (int c = 0; c < t->info.nconfigs; c++)
                    overridden |= !strcmp(t->info.configs[c].key, topic_keys[k]);
                config_value(&t->cfg, topic_keys[k], value, sizeof value);
                write_config(&w, v, topic_keys[k], value, !overridden, overridden ? SOURCE_TOPIC : SOURCE_DEFAULT);
                count++;
            }
        } else {
            const struct {
                const char *k;
                char v[64];
            } bc[] = {
                {"num.partitions", ""}, {"auto.create.topics.enable", ""}, {"socket.request.max.bytes", ""}};
            for (size_t k = 0; k < 3; k++) {
                if (!key_wanted(keys, nk, bc[k].k))
                    continue;
                if (k == 0)
                    snprintf(value, sizeof value, "%d", b->cfg.num_partitions);
                else if (k == 1)
                    snprintf(value, sizeof value, "%s", b->cfg.auto_create_topics ? "true" : "false");
                else
                    snprintf(value, sizeof value, "%d", b->cfg.max_request_bytes);
                write_config(&w, v, bc[k].k, value, false, SOURCE_STATIC_BROKER);
                count++;
            }
        }
        kw_patch32(&w, count_at, count);
    }
    return w.err ? BK_BAD : BK_DONE;
}
