/* A benchmark's input topic, created in a data folder before the embedded
 * logs open it: every record kept (retention.ms -1: generated events may
 * carry old timestamps) and every page left in the page cache
 * (page.cache.tail.bytes -1), so a job and its baseline read the input from
 * memory - a job that keeps up with a live topic reads its tail - instead of
 * a cold read of what the broker released behind its 64 MiB tail.
 * Header-only. */
#ifndef SL_BENCH_TOPIC_H
#define SL_BENCH_TOPIC_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"

/* 0 (also when the topic exists), or -1 with err set. */
static inline int bench_create_input_topic(const char *data_dir, const char *name, int32_t partitions,
                                           sl_err_t *err)
{
    sl_registry_t *reg = NULL;
    if (sl_fs_mkdir_p(data_dir) != 0 || sl_registry_open(data_dir, &reg, err) != 0) {
        if (!err->msg[0])
            sl_err_set(err, -1, "%s: %s", data_dir, strerror(errno));
        return -1;
    }
    sl_topic_info_t info;
    int rc = 0;
    if (sl_registry_get_topic(reg, name, &info, err) != 0) {
        memset(&info, 0, sizeof info);
        snprintf(info.name, sizeof info.name, "%s", name);
        info.partitions = partitions;
        info.nconfigs = 2;
        snprintf(info.configs[0].key, sizeof info.configs[0].key, "retention.ms");
        snprintf(info.configs[0].value, sizeof info.configs[0].value, "-1");
        snprintf(info.configs[1].key, sizeof info.configs[1].key, "page.cache.tail.bytes");
        snprintf(info.configs[1].value, sizeof info.configs[1].value, "-1");
        rc = sl_registry_create_topic(reg, &info, err) != 0 ? -1 : 0;
    }
    sl_registry_close(reg);
    return rc;
}

#endif
