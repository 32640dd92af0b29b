/* Committed consumer offsets, stored durably in an LMDB environment under
 * <data>/groups (named database "offsets").  Key: group '\0' topic '\0'
 * partition (int32 big-endian), so one group's offsets are a contiguous,
 * sorted range.  Value: version 1, offset int64, leader epoch int32, commit
 * time int64, metadata (int32 length, -1 = null, then bytes), big-endian.
 * Each OffsetCommit is one write transaction, synced before it is answered. */
#include "broker/group.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define VALUE_VERSION 1
#define VALUE_FIXED 25 /* version + offset + epoch + timestamp + metadata length */
/* Virtual address space reserved for the map; the file grows only as used. */
#define MAP_SIZE ((size_t)1 << 30)
#define KEY_MAX 511 /* LMDB's default maximum key size */

struct ofs_store {
    MDB_env *env;
    MDB_dbi dbi;
};

struct ofs_txn {
    ofs_store_t *s;
    MDB_txn *txn;
};

static int mdb_fail(sl_err_t *err, const char *what, int rc)
{
    return sl_err_set(err, rc == MDB_MAP_FULL ? SL_B_ETOOLARGE : SL_B_EIO, "offsets store: %s: %s", what,
                      mdb_strerror(rc));
}

int ofs_open(const char *data_dir, ofs_store_t **out, sl_err_t *err)
{
    *out = NULL;
    char dir[4200];
    if (snprintf(dir, sizeof dir, "%s/groups", data_dir) >= (int)sizeof dir)
        return sl_err_set(err, SL_B_EINVAL, "data directory path too long");
    if (sl_fs_mkdir_p(dir) != 0)
        return sl_err_set(err, SL_B_EIO, "cannot create %s: %s", dir, strerror(errno));
    ofs_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_B_ENOMEM, "out of memory");
    int rc = mdb_env_create(&s->env);
    if (rc) {
        free(s);
        return mdb_fail(err, "env create", rc);
    }
    MDB_txn *txn = NULL;
    if ((rc = mdb_env_set_maxdbs(s->env, 2)) || (rc = mdb_env_set_mapsize(s->env, MAP_SIZE))) {
        mdb_fail(err, "env setup", rc);
        goto fail;
    }
    if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0644))) {
        sl_err_set(err, SL_B_EIO, "offsets store: cannot open %s: %s", dir, mdb_strerror(rc));
        goto fail;
    }
    int dead = 0;
    mdb_reader_check(s->env, &dead);
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) || (rc = mdb_dbi_open(txn, "offsets", MDB_CREATE, &s->dbi)) ||
        (rc = mdb_txn_commit(txn))) {
        if (txn && rc)
            mdb_txn_abort(txn);
        mdb_fail(err, "open database", rc);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    mdb_env_close(s->env);
    free(s);
    return SL_B_EIO;
}

void ofs_close(ofs_store_t *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    free(s);
}

int ofs_begin(ofs_store_t *s, bool write, ofs_txn_t **out, sl_err_t *err)
{
    *out = NULL;
    ofs_txn_t *t = malloc(sizeof *t);
    if (!t)
        return sl_err_set(err, SL_B_ENOMEM, "out of memory");
    int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc) {
        free(t);
        return mdb_fail(err, "begin", rc);
    }
    t->s = s;
    *out = t;
    return 0;
}

int ofs_commit(ofs_txn_t *t, sl_err_t *err)
{
    int rc = mdb_txn_commit(t->txn);
    free(t);
    return rc ? mdb_fail(err, "commit", rc) : 0;
}

void ofs_abort(ofs_txn_t *t)
{
    if (!t)
        return;
    mdb_txn_abort(t->txn);
    free(t);
}

/* ---- keys and values ------------------------------------------------------------- */

/* group '\0' topic '\0' partition; 0 when it does not fit or a name holds a NUL. */
static size_t key_make(uint8_t *k, const char *group, const char *topic, int32_t topic_len, int32_t partition)
{
    size_t gl = strlen(group);
    if (topic_len < 0 || gl + (size_t)topic_len + 6 > KEY_MAX || memchr(topic, '\0', (size_t)topic_len))
        return 0;
    memcpy(k, group, gl + 1);
    memcpy(k + gl + 1, topic, (size_t)topic_len);
    k[gl + 1 + (size_t)topic_len] = '\0';
    sl_put_be32(k + gl + 2 + (size_t)topic_len, (uint32_t)partition);
    return gl + 6 + (size_t)topic_len;
}

/* Split a key of `group` (whose prefix, group '\0', has been matched). */
static bool key_split(const MDB_val *k, size_t prefix, const char **topic, int32_t *topic_len, int32_t *partition)
{
    const uint8_t *p = k->mv_data;
    if (k->mv_size < prefix + 5)
        return false;
    size_t tl = k->mv_size - prefix - 5;
    if (p[prefix + tl] != '\0' || memchr(p + prefix, '\0', tl))
        return false;
    *topic = (const char *)p + prefix;
    *topic_len = (int32_t)tl;
    *partition = (int32_t)sl_be32(p + prefix + tl + 1);
    return true;
}

static bool value_decode(const MDB_val *v, ofs_value_t *out)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size < VALUE_FIXED || p[0] != VALUE_VERSION)
        return false;
    out->offset = (int64_t)sl_be64(p + 1);
    out->leader_epoch = (int32_t)sl_be32(p + 9);
    out->commit_ts = (int64_t)sl_be64(p + 13);
    out->metadata_len = (int32_t)sl_be32(p + 21);
    out->metadata = (const char *)p + VALUE_FIXED;
    if (out->metadata_len < -1 || (out->metadata_len > 0 && (size_t)out->metadata_len != v->mv_size - VALUE_FIXED))
        return false;
    if (out->metadata_len < 0)
        out->metadata = NULL;
    return true;
}

int ofs_put(ofs_txn_t *t, const char *group, const char *topic, int32_t topic_len, int32_t partition,
            const ofs_value_t *v, sl_err_t *err)
{
    uint8_t kb[KEY_MAX];
    size_t kl = key_make(kb, group, topic, topic_len, partition);
    if (!kl)
        return sl_err_set(err, SL_B_EINVAL, "offsets store: key too long");
    int32_t ml = v->metadata_len > 0 ? v->metadata_len : 0;
    MDB_val key = {kl, kb}, val = {VALUE_FIXED + (size_t)ml, NULL};
    int rc = mdb_put(t->txn, t->s->dbi, &key, &val, MDB_RESERVE);
    if (rc)
        return mdb_fail(err, "put", rc);
    uint8_t *p = val.mv_data;
    p[0] = VALUE_VERSION;
    sl_put_be64(p + 1, (uint64_t)v->offset);
    sl_put_be32(p + 9, (uint32_t)v->leader_epoch);
    sl_put_be64(p + 13, (uint64_t)v->commit_ts);
    sl_put_be32(p + 21, (uint32_t)(v->metadata_len < 0 ? -1 : v->metadata_len));
    if (ml)
        memcpy(p + VALUE_FIXED, v->metadata, (size_t)ml);
    return 0;
}

int ofs_get(ofs_txn_t *t, const char *group, const char *topic, int32_t topic_len, int32_t partition,
            ofs_value_t *v)
{
    uint8_t kb[KEY_MAX];
    size_t kl = key_make(kb, group, topic, topic_len, partition);
    if (!kl)
        return SL_B_ENOTFOUND;
    MDB_val key = {kl, kb}, val;
    int rc = mdb_get(t->txn, t->s->dbi, &key, &val);
    if (rc == MDB_NOTFOUND)
        return SL_B_ENOTFOUND;
    if (rc)
        return SL_B_EIO;
    return value_decode(&val, v) ? 0 : SL_B_ECORRUPT;
}

/* ---- ranges ----------------------------------------------------------------------------- */

static bool has_prefix(const MDB_val *k, const void *prefix, size_t n)
{
    return k->mv_size >= n && memcmp(k->mv_data, prefix, n) == 0;
}

int ofs_scan_group(ofs_txn_t *t, const char *group,
                   int (*fn)(void *arg, const char *topic, int32_t topic_len, int32_t partition,
                             const ofs_value_t *v),
                   void *arg)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(t->txn, t->s->dbi, &cur))
        return SL_B_EIO;
    size_t pl = strlen(group) + 1; /* the prefix includes the NUL */
    MDB_val key = {pl, (void *)group}, val;
    int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    int out = 0;
    while (rc == 0 && has_prefix(&key, group, pl)) {
        const char *topic;
        int32_t tl, part;
        ofs_value_t v;
        if (key_split(&key, pl, &topic, &tl, &part) && value_decode(&val, &v) && fn(arg, topic, tl, part, &v))
            break;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND)
        out = SL_B_EIO;
    mdb_cursor_close(cur);
    return out;
}

bool ofs_group_exists(ofs_txn_t *t, const char *group)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(t->txn, t->s->dbi, &cur))
        return false;
    size_t pl = strlen(group) + 1;
    MDB_val key = {pl, (void *)group}, val;
    bool found = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE) == 0 && has_prefix(&key, group, pl);
    mdb_cursor_close(cur);
    return found;
}

/* Skips from one group to the next with a seek (group bytes + 0x01 sorts
 * after every key of that group), so the cost is one seek per group, not one
 * step per committed partition. */
int ofs_list_groups(ofs_txn_t *t, int (*fn)(void *arg, const char *group, int32_t len), void *arg)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(t->txn, t->s->dbi, &cur))
        return SL_B_EIO;
    MDB_val key, val;
    uint8_t seek[KEY_MAX + 1];
    int rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (rc == 0) {
        const uint8_t *nul = memchr(key.mv_data, '\0', key.mv_size);
        size_t gl = nul ? (size_t)(nul - (const uint8_t *)key.mv_data) : key.mv_size;
        if (nul && gl > 0 && fn(arg, key.mv_data, (int32_t)gl))
            break;
        if (gl >= KEY_MAX) { /* not one of our keys: step over it */
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
            continue;
        }
        memcpy(seek, key.mv_data, gl);
        seek[gl] = 1;
        key.mv_data = seek;
        key.mv_size = gl + 1;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc && rc != MDB_NOTFOUND ? SL_B_EIO : 0;
}

int ofs_delete_group(ofs_txn_t *t, const char *group, sl_err_t *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi, &cur);
    if (rc)
        return mdb_fail(err, "cursor", rc);
    size_t pl = strlen(group) + 1;
    MDB_val key = {pl, (void *)group}, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && has_prefix(&key, group, pl)) {
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc && rc != MDB_NOTFOUND ? mdb_fail(err, "delete", rc) : 0;
}

int ofs_expire(ofs_txn_t *t, int64_t before_ts, bool (*keep)(void *arg, const char *group), void *arg, int *deleted,
               sl_err_t *err)
{
    *deleted = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi, &cur);
    if (rc)
        return mdb_fail(err, "cursor", rc);
    char last[GRP_ID_MAX + 1] = "";
    bool last_keep = true, have_last = false;
    MDB_val key, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (rc == 0) {
        const char *nul = memchr(key.mv_data, '\0', key.mv_size);
        size_t gl = nul ? (size_t)(nul - (const char *)key.mv_data) : 0;
        ofs_value_t v;
        if (nul && gl <= GRP_ID_MAX && value_decode(&val, &v) && v.commit_ts < before_ts) {
            if (!have_last || strlen(last) != gl || memcmp(last, key.mv_data, gl)) {
                memcpy(last, key.mv_data, gl + 1); /* includes the key's NUL */
                last_keep = keep(arg, last);
                have_last = true;
            }
            if (!last_keep) {
                if ((rc = mdb_cursor_del(cur, 0)) != 0)
                    break;
                (*deleted)++;
            }
        }
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc && rc != MDB_NOTFOUND ? mdb_fail(err, "expire", rc) : 0;
}
