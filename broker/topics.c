/* The broker's topics: the registry (crash-safe catalogue) plus the open
 * partition logs and producer state of every topic.  Creation writes the
 * registry entry first, then opens the logs (a crash in between leaves a
 * topic whose empty logs are created on the next start); deletion closes the
 * logs, removes the entry, then the folders. */
#include "broker/bk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int16_t bk_kerr_from_status(int status)
{
    switch (status) {
    case SL_B_OK:
        return SL_KERR_NONE;
    case SL_B_ECORRUPT:
    case SL_B_ETRUNCATED:
        return SL_KERR_CORRUPT_MESSAGE;
    case SL_B_ERANGE:
        return SL_KERR_OFFSET_OUT_OF_RANGE;
    case SL_B_ENOTFOUND:
        return SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case SL_B_EEXISTS:
        return SL_KERR_TOPIC_ALREADY_EXISTS;
    case SL_B_ETOOLARGE:
        return SL_KERR_MESSAGE_TOO_LARGE;
    case SL_B_EUNSUPPORTED:
        return SL_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
    case SL_B_EINVAL:
        return SL_KERR_INVALID_RECORD;
    case SL_B_ETIMEDOUT:
        return SL_KERR_REQUEST_TIMED_OUT;
    default:
        return SL_KERR_UNKNOWN_SERVER_ERROR;
    }
}


static void remove_partition_dirs(sl_broker_t *b, const char *name, int32_t n)
{
    for (int32_t p = 0; p < n; p++) {
        char dir[4096];
        sl_partition_dir(b->cfg.data_dir, name, p, dir, sizeof dir);
        sl_fs_rmrf(dir);
    }
}

/* Effective config: broker defaults, then the topic's overrides. */
static int topic_config(sl_broker_t *b, const sl_topic_info_t *info, sl_log_config_t *cfg, sl_err_t *err)
{
    *cfg = b->cfg.log;
    for (int i = 0; i < info->nconfigs; i++) {
        int rc = sl_log_config_set(cfg, info->configs[i].key, info->configs[i].value, err);
        if (rc)
            return rc;
    }
    return 0;
}

static void topic_free(bk_topic_t *t)
{
    for (int32_t p = 0; p < t->npartitions; p++) {
        if (t->parts[p].log) {
            bk_pstate_close(&t->parts[p]);
            sl_plog_close(t->parts[p].log);
        }
    }
    free(t->parts);
    free(t);
}

/* Open every partition of a registered topic. */
static int topic_open(sl_broker_t *b, const sl_topic_info_t *info, bk_topic_t **out, sl_err_t *err)
{
    bk_topic_t *t = calloc(1, sizeof *t);
    if (!t)
        return SL_B_ENOMEM;
    snprintf(t->name, sizeof t->name, "%s", info->name);
    t->info = *info;
    int rc = topic_config(b, info, &t->cfg, err);
    t->parts = calloc((size_t)info->partitions, sizeof *t->parts);
    if (!t->parts)
        rc = SL_B_ENOMEM;
    for (int32_t p = 0; rc == 0 && p < info->partitions; p++) {
        char dir[4096];
        bk_partition_t *part = &t->parts[p];
        part->topic = t;
        part->id = p;
        t->npartitions = p + 1;
        sl_partition_dir(b->cfg.data_dir, info->name, p, dir, sizeof dir);
        part->dir = dir; /* copied by bk_pstate_open */
        if ((rc = sl_plog_open(dir, &t->cfg, &part->log, err)) == 0)
            rc = bk_pstate_open(part, err);
        part->dir = NULL;
    }
    if (rc) {
        topic_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

static int topics_add(sl_broker_t *b, bk_topic_t *t)
{
    if (b->ntopics == b->topics_cap) {
        int cap = b->topics_cap ? b->topics_cap * 2 : 16;
        bk_topic_t **n = realloc(b->topics, (size_t)cap * sizeof *n);
        if (!n)
            return SL_B_ENOMEM;
        b->topics = n;
        b->topics_cap = cap;
    }
    b->topics[b->ntopics++] = t;
    return 0;
}

static int load_one(void *arg, const sl_topic_info_t *info)
{
    sl_broker_t *b = arg;
    bk_topic_t *t;
    sl_err_t err = {0};
    if (topic_open(b, info, &t, &err) != 0) {
        sl_log(SL_ERROR, "broker", "topic %s: cannot open: %s", info->name, err.msg);
        return 1;
    }
    if (topics_add(b, t) != 0) {
        topic_free(t);
        return 1;
    }
    return 0;
}

int bk_topics_load(sl_broker_t *b, sl_err_t *err)
{
    int rc = sl_registry_open(b->cfg.data_dir, &b->reg, err);
    if (rc)
        return rc;
    rc = sl_registry_list_topics(b->reg, load_one, b, err);
    if (rc == 0 && b->ntopics >= 0) {
        int n = 0;
        for (int i = 0; i < b->ntopics; i++)
            n += b->topics[i]->npartitions;
        sl_log(SL_INFO, "broker", "opened %d topic(s), %d partition(s)", b->ntopics, n);
    }
    return rc ? rc : 0;
}

void bk_topics_close(sl_broker_t *b)
{
    for (int i = 0; i < b->ntopics; i++)
        topic_free(b->topics[i]);
    free(b->topics);
    b->topics = NULL;
    b->ntopics = b->topics_cap = 0;
    sl_registry_close(b->reg);
    b->reg = NULL;
}

bk_topic_t *bk_topic_find(sl_broker_t *b, const char *name, int32_t len)
{
    if (len < 0)
        return NULL;
    for (int i = 0; i < b->ntopics; i++)
        if (strlen(b->topics[i]->name) == (size_t)len && memcmp(b->topics[i]->name, name, (size_t)len) == 0)
            return b->topics[i];
    return NULL;
}

bk_partition_t *bk_partition_find(sl_broker_t *b, kstr_t topic, int32_t partition)
{
    bk_topic_t *t = bk_topic_find(b, topic.p, topic.len);
    if (!t || partition < 0 || partition >= t->npartitions)
        return NULL;
    return &t->parts[partition];
}

int16_t bk_topic_create(sl_broker_t *b, const char *name, int32_t partitions, const sl_topic_config_entry_t *configs,
                        int nconfigs, bool validate_only, sl_err_t *err)
{
    if (!sl_topic_name_valid(name)) {
        sl_err_set(err, 0, "invalid topic name '%s'", name);
        return SL_KERR_INVALID_TOPIC_EXCEPTION;
    }
    if (bk_topic_find(b, name, (int32_t)strlen(name))) {
        sl_err_set(err, 0, "topic '%s' already exists", name);
        return SL_KERR_TOPIC_ALREADY_EXISTS;
    }
    if (partitions == -1)
        partitions = b->cfg.num_partitions;
    if (partitions <= 0) {
        sl_err_set(err, 0, "invalid partition count %d", partitions);
        return SL_KERR_INVALID_PARTITIONS;
    }
    int64_t total = 0;
    for (int i = 0; i < b->ntopics; i++)
        total += b->topics[i]->npartitions;
    if (total + partitions > b->cfg.max_partitions) {
        sl_err_set(err, 0, "%d partition(s) would exceed max.partitions (%d, %lld in use)", partitions,
                   b->cfg.max_partitions, (long long)total);
        return SL_KERR_INVALID_PARTITIONS;
    }
    sl_topic_info_t info;
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "%s", name);
    info.partitions = partitions;
    if (nconfigs > (int)(sizeof info.configs / sizeof info.configs[0])) {
        sl_err_set(err, 0, "too many configs (%d)", nconfigs);
        return SL_KERR_INVALID_CONFIG;
    }
    info.nconfigs = nconfigs;
    for (int i = 0; i < nconfigs; i++)
        info.configs[i] = configs[i];
    sl_log_config_t cfg;
    if (topic_config(b, &info, &cfg, err) != 0)
        return SL_KERR_INVALID_CONFIG;
    if (validate_only)
        return SL_KERR_NONE;
    int rc = sl_registry_create_topic(b->reg, &info, err);
    if (rc == SL_B_EEXISTS)
        return SL_KERR_TOPIC_ALREADY_EXISTS;
    if (rc == SL_B_EINVAL)
        return SL_KERR_INVALID_CONFIG;
    if (rc)
        return SL_KERR_UNKNOWN_SERVER_ERROR;
    bk_topic_t *t = NULL;
    rc = topic_open(b, &info, &t, err);
    if (rc == 0 && (rc = topics_add(b, t)) != 0)
        topic_free(t);
    if (rc != 0) {
        /* Undo, so that a failed create leaves no half topic behind. */
        sl_log(SL_ERROR, "broker", "topic %s: cannot open its partitions (%s); creation undone", name,
               err ? err->msg : "");
        sl_registry_delete_topic(b->reg, name, NULL);
        remove_partition_dirs(b, name, partitions);
        return SL_KERR_UNKNOWN_SERVER_ERROR;
    }
    sl_log(SL_INFO, "broker", "created topic %s with %d partition(s)", name, partitions);
    return SL_KERR_NONE;
}

int16_t bk_topic_delete(sl_broker_t *b, const char *name, sl_err_t *err)
{
    int i = 0;
    while (i < b->ntopics && strcmp(b->topics[i]->name, name) != 0)
        i++;
    if (i == b->ntopics) {
        sl_err_set(err, 0, "unknown topic '%s'", name);
        return SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (sl_registry_delete_topic(b->reg, name, err) != 0)
        return SL_KERR_UNKNOWN_SERVER_ERROR;
    bk_topic_t *t = b->topics[i];
    b->topics[i] = b->topics[--b->ntopics];
    int32_t n = t->npartitions;
    topic_free(t);
    remove_partition_dirs(b, name, n);
    sl_log(SL_INFO, "broker", "deleted topic %s", name);
    return SL_KERR_NONE;
}

bk_topic_t *bk_topic_get_or_create(sl_broker_t *b, kstr_t name, bool allow_create, int16_t *kerr)
{
    bk_topic_t *t = bk_topic_find(b, name.p, name.len);
    *kerr = SL_KERR_NONE;
    if (t)
        return t;
    char buf[SL_TOPIC_NAME_MAX + 1];
    if (!kstr_copy(name, buf, sizeof buf) || !sl_topic_name_valid(buf)) {
        *kerr = SL_KERR_INVALID_TOPIC_EXCEPTION;
        return NULL;
    }
    if (!allow_create || !b->cfg.auto_create_topics) {
        *kerr = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return NULL;
    }
    sl_err_t err = {0};
    *kerr = bk_topic_create(b, buf, -1, NULL, 0, false, &err);
    if (*kerr != SL_KERR_NONE) {
        sl_log(SL_WARN, "broker", "auto-create of %s failed: %s", buf, err.msg);
        return NULL;
    }
    return bk_topic_find(b, name.p, name.len);
}
