/* The broker behind the request-decoder fuzz target: opened once per process
 * on a temporary folder, with fixed topics for the seed corpus to name.  Logs
 * never sync (a fuzzer runs thousands of inputs a second; durability is not
 * what is under test) and roll small, so a long run stays small on disk. */
#include "request_target.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/bk.h"

struct fz_target {
    sl_broker_t *b;
    char dir[256];
};

/* The topics every input finds, whatever earlier inputs deleted or created. */
static const struct {
    const char *name;
    int32_t partitions;
    bool compact;
} fixed_topics[] = {{"fuzz", 2, false}, {"fuzz-compact", 1, true}};
#define NFIXED ((int)(sizeof fixed_topics / sizeof fixed_topics[0]))

static void rmrf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[4400];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                rmrf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A few batches in fuzz-0, so that Fetch and ListOffsets have data to find. */
static int seed_records(sl_broker_t *b)
{
    bk_topic_t *t = bk_topic_find(b, "fuzz", 4);
    if (!t)
        return -1;
    sl_batch_builder_t bb;
    sl_buf_t out;
    sl_batch_builder_init(&bb);
    sl_buf_init(&out);
    int rc = 0;
    for (int batch = 0; batch < 3 && rc == 0; batch++) {
        sl_batch_builder_begin(&bb, batch == 1 ? SL_COMPRESSION_GZIP : SL_COMPRESSION_NONE, 0);
        for (int i = 0; i < 4 && rc == 0; i++) {
            char key[16], value[32];
            int kl = snprintf(key, sizeof key, "k%d", i);
            int vl = snprintf(value, sizeof value, "value %d of batch %d", i, batch);
            rc = sl_batch_builder_add(&bb, 1700000000000LL + batch * 1000 + i, key, kl, value, vl, NULL, 0);
        }
        sl_buf_reset(&out);
        sl_err_t err = {0};
        sl_append_info_t info;
        if (rc == 0)
            rc = sl_batch_builder_finish(&bb, &out, &err);
        if (rc == 0)
            rc = sl_plog_append(t->parts[0].log, out.data, out.len, sl_now_ms(), &info, &err);
    }
    sl_batch_builder_free(&bb);
    sl_buf_free(&out);
    return rc;
}

/* Delete every topic but the fixed ones; (re)create any fixed topic that is
 * missing or was recreated by an input with another partition count. */
static int restore_topics(sl_broker_t *b, sl_err_t *err)
{
    for (int i = b->ntopics - 1; i >= 0; i--) {
        const bk_topic_t *tp = b->topics[i];
        bool keep = false;
        for (int f = 0; f < NFIXED; f++)
            keep |= !strcmp(tp->name, fixed_topics[f].name) && tp->npartitions == fixed_topics[f].partitions;
        if (keep)
            continue;
        char name[SL_TOPIC_NAME_MAX + 1];
        snprintf(name, sizeof name, "%s", tp->name);
        if (bk_topic_delete(b, name, err) != SL_KERR_NONE)
            return -1;
    }
    for (int f = 0; f < NFIXED; f++) {
        const char *name = fixed_topics[f].name;
        if (bk_topic_find(b, name, (int32_t)strlen(name)))
            continue;
        sl_topic_config_entry_t compact = {"cleanup.policy", "compact"};
        if (bk_topic_create(b, name, fixed_topics[f].partitions, &compact, fixed_topics[f].compact ? 1 : 0, false,
                            err) != SL_KERR_NONE)
            return -1;
        if (f == 0 && seed_records(b) != 0)
            return -1;
    }
    return 0;
}

fz_target_t *fz_open(void)
{
    const char *level = getenv("SL_FUZZ_LOG");
    sl_log_set_level(level && sl_log_parse_level(level) >= 0 ? sl_log_parse_level(level) : SL_ERROR);
    fz_target_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    /* Each partition is a flusher thread and three open files, and CreateTopics
     * takes up to 100000 partitions: with few descriptors such a request fails
     * after a few dozen partitions instead of stalling the fuzzer for seconds. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && (files.rlim_max == RLIM_INFINITY || files.rlim_max > 256)) {
        files.rlim_cur = 256;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    /* tmpfs when there is one: topic creation and deletion fsync folders. */
    const char *tmp = getenv("TMPDIR");
    struct stat st;
    if (!tmp || !*tmp)
        tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(t->dir, sizeof t->dir, "%s/sl-fuzz-XXXXXX", tmp);
    if (!mkdtemp(t->dir)) {
        perror("fuzz: mkdtemp");
        free(t);
        return NULL;
    }
    sl_broker_config_t cfg;
    sl_broker_config_default(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", t->dir);
    cfg.port = 0;
    /* The framing reserves a whole declared frame up front: 100 MiB per input
     * (zero-filled by ASan) would make the fuzzer crawl.  Inputs are far
     * smaller than 1 MiB anyway. */
    cfg.max_request_bytes = 1 << 20;
    cfg.log.flush_policy = SL_FLUSH_NEVER;
    cfg.log.segment_bytes = 1 << 20;
    cfg.log.retention_bytes = 4 << 20;
    sl_err_t err = {0};
    if (sl_broker_open(&cfg, &t->b, &err) != 0) {
        fprintf(stderr, "fuzz: cannot open the broker: %s\n", err.msg);
        rmrf(t->dir);
        free(t);
        return NULL;
    }
    if (restore_topics(t->b, &err) != 0) {
        fprintf(stderr, "fuzz: cannot create the fixed topics: %s\n", err.msg);
        fz_close(t);
        return NULL;
    }
    return t;
}

int fz_feed(fz_target_t *t, const uint8_t *data, size_t len)
{
    int rc = bk_debug_feed(t->b, data, len);
    sl_err_t err = {0};
    if (restore_topics(t->b, &err) != 0) {
        fprintf(stderr, "fuzz: cannot restore the fixed topics: %s\n", err.msg);
        abort(); /* every later input would run against the wrong state */
    }
    return rc;
}

void fz_close(fz_target_t *t)
{
    if (!t)
        return;
    sl_broker_close(t->b);
    rmrf(t->dir);
    free(t);
}
