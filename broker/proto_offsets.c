/* OffsetCommit and OffsetFetch on the wire, over the durable offsets store
 * (offsets.c) and the group state machine's membership check (group.c).  A
 * commit request is decoded whole, checked, written in ONE LMDB transaction
 * and answered only after that transaction is synced, so an acknowledged
 * commit survives kill -9.  Also the periodic expiry of old offsets. */
#include "broker/group.h"

#include <inttypes.h>
#include <stdlib.h>

#define METADATA_MAX 4096 /* offset.metadata.max.bytes */
#define MEMBER_ID_MAX 255

typedef struct commit_part {
    int32_t index;
    int64_t offset;
    int32_t epoch;
    kstr_t meta;
    int16_t err;
} commit_part_t;

typedef struct commit_topic {
    kstr_t name;
    int32_t n;
    commit_part_t *parts;
} commit_topic_t;

static void topics_free(commit_topic_t *topics, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        free(topics[i].parts);
    free(topics);
}

static void set_all(commit_topic_t *topics, int32_t nt, int16_t from, int16_t to)
{
    for (int32_t i = 0; i < nt; i++)
        for (int32_t j = 0; j < topics[i].n; j++)
            if (topics[i].parts[j].err == from)
                topics[i].parts[j].err = to;
}

/* Store every valid partition of the request in one transaction; per
 * partition errors for the rest. */
static void commit_store(sl_broker_t *b, const char *gid, commit_topic_t *topics, int32_t nt)
{
    sl_err_t err = {0};
    ofs_txn_t *t;
    if (ofs_begin(b->groups->offsets, true, &t, &err)) {
        sl_log(SL_ERROR, "group", "OffsetCommit for %s: %s", gid, err.msg);
        set_all(topics, nt, SL_KERR_NONE, SL_KERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    int64_t now = sl_now_ms();
    int rc = 0;
    for (int32_t i = 0; i < nt && !rc; i++) {
        for (int32_t j = 0; j < topics[i].n && !rc; j++) {
            commit_part_t *cp = &topics[i].parts[j];
            bk_partition_t *p = bk_partition_find(b, topics[i].name, cp->index);
            if (!p) {
                cp->err = SL_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (cp->meta.len > METADATA_MAX) {
                cp->err = SL_KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            ofs_value_t v = {cp->offset, cp->epoch, now, cp->meta.p, cp->meta.len};
            rc = ofs_put(t, gid, p->topic->name, (int32_t)strlen(p->topic->name), cp->index, &v, &err);
        }
    }
    if (rc) {
        ofs_abort(t);
    } else {
        rc = ofs_commit(t, &err);
    }
    if (rc) {
        sl_log(SL_ERROR, "group", "OffsetCommit for %s: %s", gid, err.msg);
        set_all(topics, nt, SL_KERR_NONE, SL_KERR_UNKNOWN_SERVER_ERROR);
    }
}

int bk_handle_offset_commit(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_t *r = &req->r;
    kstr_t group = kr_string(r, f, false);
    int32_t generation = kr_i32(r);
    kstr_t member = kr_string(r, f, false);
    if (v >= 7)
        kr_string(r, f, true); /* group_instance_id */
    if (v >= 2 && v <= 4)
        kr_i64(r); /* retention_time_ms: the broker's offsets.retention.minutes applies */
    int32_t nt = kr_arr(r, f, f ? 2 : 6);
    commit_topic_t *topics = calloc(nt > 0 ? (size_t)nt : 1, sizeof *topics);
    if (!topics)
        return BK_BAD;
    size_t min_part = f ? 18 : (v >= 6 ? 18 : 14);
    for (int32_t i = 0; i < nt && !r->err; i++) {
        topics[i].name = kr_string(r, f, false);
        int32_t np = kr_arr(r, f, min_part);
        topics[i].parts = calloc(np > 0 ? (size_t)np : 1, sizeof *topics[i].parts);
        if (!topics[i].parts) {
            topics_free(topics, nt);
            return BK_BAD;
        }
        topics[i].n = np;
        for (int32_t j = 0; j < np && !r->err; j++) {
            commit_part_t *cp = &topics[i].parts[j];
            cp->index = kr_i32(r);
            cp->offset = kr_i64(r);
            cp->epoch = v >= 6 ? kr_i32(r) : -1;
            cp->meta = kr_string(r, f, true);
            if (f)
                kr_tags(r);
        }
        if (f)
            kr_tags(r);
    }
    if (f)
        kr_tags(r);
    if (r->err) {
        topics_free(topics, nt);
        return BK_BAD;
    }

    char gid[GRP_ID_MAX + 1], mid[MEMBER_ID_MAX + 1];
    int16_t gerr;
    if (!bk_kstr_cstr(group, gid, sizeof gid) || !*gid)
        gerr = SL_KERR_INVALID_GROUP_ID;
    else if (!bk_kstr_cstr(member, mid, sizeof mid))
        gerr = SL_KERR_UNKNOWN_MEMBER_ID;
    else
        gerr = grp_commit_check(&b->groups->coord, gid, generation, mid, bk_groups_now());
    if (gerr)
        set_all(topics, nt, SL_KERR_NONE, gerr);
    else
        commit_store(b, gid, topics, nt);
    bk_groups_schedule(b);

    kw_t w = bk_resp_writer(resp);
    if (v >= 3)
        kw_i32(&w, 0);
    kw_arr(&w, f, nt);
    for (int32_t i = 0; i < nt; i++) {
        kw_string(&w, f, topics[i].name.p, topics[i].name.len);
        kw_arr(&w, f, topics[i].n);
        for (int32_t j = 0; j < topics[i].n; j++) {
            kw_i32(&w, topics[i].parts[j].index);
            kw_i16(&w, topics[i].parts[j].err);
            kw_tags(&w, f);
        }
        kw_tags(&w, f);
    }
    kw_tags(&w, f);
    topics_free(topics, nt);
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- OffsetFetch --------------------------------------------------------------------- */

static void write_fetched(kw_t *w, int16_t v, bool f, int32_t partition, const ofs_value_t *val, int16_t err)
{
    kw_i32(w, partition);
    kw_i64(w, val ? val->offset : -1);
    if (v >= 5)
        kw_i32(w, val ? val->leader_epoch : -1);
    if (val)
        kw_string(w, f, val->metadata, val->metadata_len);
    else
        kw_cstring(w, f, "");
    kw_i16(w, err);
    kw_tags(w, f);
}

/* The "all topics" answer walks the group's range twice inside one read
 * transaction: first to count topics and partitions, then to write them. */
typedef struct fetch_all {
    kw_t *w; /* NULL on the counting pass */
    int16_t v;
    bool f;
    const char *topic;
    int32_t topic_len;
    int32_t ntopics;
    int32_t *counts; /* partitions per topic, from the counting pass */
    int32_t cap;
} fetch_all_t;

static int fetch_all_visit(void *arg, const char *topic, int32_t topic_len, int32_t partition, const ofs_value_t *v)
{
    fetch_all_t *fa = arg;
    bool same = fa->topic && fa->topic_len == topic_len && !memcmp(fa->topic, topic, (size_t)topic_len);
    if (!same) {
        if (fa->w && fa->ntopics > 0)
            kw_tags(fa->w, fa->f); /* end of the previous topic */
        if (!fa->w && fa->ntopics == fa->cap) {
            int32_t cap = fa->cap ? fa->cap * 2 : 16;
            int32_t *c = realloc(fa->counts, sizeof *c * (size_t)cap);
            if (!c)
                return 1;
            fa->counts = c;
            fa->cap = cap;
        }
        fa->topic = topic;
        fa->topic_len = topic_len;
        if (fa->w) {
            kw_string(fa->w, fa->f, topic, topic_len);
            kw_arr(fa->w, fa->f, fa->counts[fa->ntopics]);
        } else {
            fa->counts[fa->ntopics] = 0;
        }
        fa->ntopics++;
    }
    if (fa->w)
        write_fetched(fa->w, fa->v, fa->f, partition, v, SL_KERR_NONE);
    else
        fa->counts[fa->ntopics - 1]++;
    return 0;
}

int bk_handle_offset_fetch(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_t *r = &req->r;
    kstr_t group = kr_string(r, f, false);
    /* v2+: a null topic array asks for every committed offset of the group. */
    kr_t peek = *r;
    bool all = v >= 2 && (f ? kr_uvarint(&peek) == 0 : kr_i32(&peek) == -1) && !peek.err;
    int32_t nt = kr_arr(r, f, f ? 2 : 6);
    kr_t list = *r;
    for (int32_t i = 0; i < nt && !r->err; i++) {
        kr_string(r, f, false);
        int32_t np = kr_arr(r, f, 4);
        for (int32_t j = 0; j < np && !r->err; j++)
            kr_i32(r);
        if (f)
            kr_tags(r);
    }
    if (f)
        kr_tags(r);
    if (r->err)
        return BK_BAD;

    char gid[GRP_ID_MAX + 1];
    int16_t gerr = bk_kstr_cstr(group, gid, sizeof gid) && *gid ? SL_KERR_NONE : SL_KERR_INVALID_GROUP_ID;
    ofs_txn_t *t = NULL;
    sl_err_t err = {0};
    if (!gerr && ofs_begin(b->groups->offsets, false, &t, &err)) {
        sl_log(SL_ERROR, "group", "OffsetFetch for %s: %s", gid, err.msg);
        gerr = SL_KERR_COORDINATOR_NOT_AVAILABLE;
    }
    kw_t w = bk_resp_writer(resp);
    if (v >= 3)
        kw_i32(&w, 0);
    if (all) {
        fetch_all_t fa = {NULL, v, f, NULL, 0, 0, NULL, 0};
        if (t && ofs_scan_group(t, gid, fetch_all_visit, &fa))
            fa.ntopics = 0; /* out of memory or a read error: answer nothing rather than half */
        kw_arr(&w, f, fa.ntopics);
        if (fa.ntopics > 0) {
            int32_t counted = fa.ntopics;
            fa.w = &w;
            fa.topic = NULL;
            fa.ntopics = 0;
            ofs_scan_group(t, gid, fetch_all_visit, &fa);
            if (fa.ntopics != counted)
                w.err = true; /* cannot happen inside one read transaction */
            kw_tags(&w, f);
        }
        free(fa.counts);
    } else {
        kw_arr(&w, f, nt);
        for (int32_t i = 0; i < nt; i++) {
            kstr_t name = kr_string(&list, f, false);
            int32_t np = kr_arr(&list, f, 4);
            kw_string(&w, f, name.p, name.len);
            kw_arr(&w, f, np);
            for (int32_t j = 0; j < np; j++) {
                int32_t part = kr_i32(&list);
                ofs_value_t val;
                bool found = t && ofs_get(t, gid, name.p, name.len, part, &val) == 0;
                /* v1 has no group-level error: report it on every partition. */
                write_fetched(&w, v, f, part, found ? &val : NULL, v < 2 ? gerr : SL_KERR_NONE);
            }
            if (f)
                kr_tags(&list);
            kw_tags(&w, f);
        }
    }
    if (v >= 2)
        kw_i16(&w, gerr);
    kw_tags(&w, f);
    ofs_abort(t);
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- expiry ------------------------------------------------------------------------------ */

static bool group_has_members(void *arg, const char *group)
{
    grp_group_t *g = grp_find(arg, group);
    return g && g->state != GRP_EMPTY;
}

void bk_offsets_expire(sl_broker_t *b, int64_t now_ms)
{
    if (b->cfg.offsets_retention_ms <= 0)
        return;
    sl_err_t err = {0};
    ofs_txn_t *t;
    int deleted = 0;
    if (ofs_begin(b->groups->offsets, true, &t, &err)) {
        sl_log(SL_WARN, "group", "offsets expiry: %s", err.msg);
        return;
    }
    int rc = ofs_expire(t, now_ms - b->cfg.offsets_retention_ms, group_has_members, &b->groups->coord, &deleted,
                        &err);
    if (rc || deleted == 0) {
        ofs_abort(t);
        if (rc)
            sl_log(SL_WARN, "group", "offsets expiry: %s", err.msg);
        return;
    }
    if (ofs_commit(t, &err))
        sl_log(SL_WARN, "group", "offsets expiry: %s", err.msg);
    else
        sl_log(SL_INFO, "group", "expired %d committed offset(s) older than %" PRId64 " ms", deleted,
               b->cfg.offsets_retention_ms);
}
