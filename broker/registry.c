/* The topic registry: which topics exist, their partition counts and config
 * overrides, kept in an LMDB environment under <data>/meta (one named database
 * "topics", key = topic name, value = a msgpack map).  Every change is one LMDB
 * write transaction, so after a crash the registry holds either the old or the
 * new state of a topic, never a mix.  Values are decoded defensively: a corrupt
 * record is reported as SL_B_ECORRUPT, never trusted. */
#include "broker/broker.h"

#include <errno.h>
#include <lmdb.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CONFIGS ((int32_t)(sizeof(((sl_topic_info_t *)0)->configs) / sizeof(sl_topic_config_entry_t)))
#define MAX_PARTITIONS 100000
#define CONFIG_KEY_CAP sizeof(((sl_topic_config_entry_t *)0)->key)
#define CONFIG_VALUE_CAP sizeof(((sl_topic_config_entry_t *)0)->value)
/* The largest value we ever write is ~11 KiB (32 configs of 64 + 256 bytes);
 * anything much larger is not ours. */
#define MAX_VALUE_BYTES (64u * 1024)
/* Virtual address space reserved for the map (the file grows only as used). */
#define MAP_SIZE ((size_t)256 << 20)

struct sl_registry {
    MDB_env *env;
    MDB_dbi dbi;
};

static int mdb_fail(sl_err_t *err, const char *what, int rc)
{
    return sl_err_set(err, SL_B_EIO, "topic registry: %s: %s", what, mdb_strerror(rc));
}


bool sl_topic_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strnlen(name, SL_TOPIC_NAME_MAX + 1);
    if (n == 0 || n > SL_TOPIC_NAME_MAX)
        return false;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int sl_registry_open(const char *data_dir, sl_registry_t **out, sl_err_t *err)
{
    *out = NULL;
    if (!data_dir || !*data_dir)
        return sl_err_set(err, SL_B_EINVAL, "data directory must not be empty");
    sl_registry_t *reg = calloc(1, sizeof *reg);
    size_t dlen = strlen(data_dir);
    char *meta = malloc(dlen + sizeof "/meta");
    if (!reg || !meta) {
        free(reg);
        free(meta);
        return sl_err_set(err, SL_B_ENOMEM, "out of memory");
    }
    memcpy(meta, data_dir, dlen);
    memcpy(meta + dlen, "/meta", sizeof "/meta");
    int rc = sl_fs_mkdir_p(meta) == 0
                 ? 0
                 : sl_err_set(err, SL_B_EIO, "cannot create directory %s: %s", meta, strerror(errno));
    if (rc)
        goto fail;

    int mrc = mdb_env_create(&reg->env);
    if (mrc) {
        reg->env = NULL;
        rc = mdb_fail(err, "env create", mrc);
        goto fail;
    }
    if ((mrc = mdb_env_set_maxdbs(reg->env, 4)) || (mrc = mdb_env_set_mapsize(reg->env, MAP_SIZE))) {
        rc = mdb_fail(err, "env setup", mrc);
        goto fail;
    }
    /* MDB_NOTLS: read transactions are not tied to threads, so a caller may
     * hold one while another thread (or itself) writes. */
    if ((mrc = mdb_env_open(reg->env, meta, MDB_NOTLS, 0644))) {
        rc = sl_err_set(err, SL_B_EIO, "topic registry: cannot open %s: %s", meta, mdb_strerror(mrc));
        goto fail;
    }
    int dead = 0;
    mdb_reader_check(reg->env, &dead);

    MDB_txn *txn;
    if ((mrc = mdb_txn_begin(reg->env, NULL, 0, &txn))) {
        rc = mdb_fail(err, "begin", mrc);
        goto fail;
    }
    if ((mrc = mdb_dbi_open(txn, "topics", MDB_CREATE, &reg->dbi))) {
        mdb_txn_abort(txn);
        rc = mdb_fail(err, "open database", mrc);
        goto fail;
    }
    if ((mrc = mdb_txn_commit(txn))) {
        rc = mdb_fail(err, "commit", mrc);
        goto fail;
    }
    free(meta);
    *out = reg;
    return 0;

fail:
    free(meta);
    sl_registry_close(reg);
    return rc;
}

void sl_registry_close(sl_registry_t *reg)
{
    if (!reg)
        return;
    if (reg->env)
        mdb_env_close(reg->env);
    free(reg);
}

/* ---- value encoding ------------------------------------------------------------ */

static int pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n);
}

/* {"partitions": n, "configs": {k: v, ...}} into sb. */
static int encode_topic(const sl_topic_info_t *t, msgpack_sbuffer *sb, sl_err_t *err)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int bad = msgpack_pack_map(&pk, 2) || pack_str(&pk, "partitions") || msgpack_pack_int32(&pk, t->partitions) ||
              pack_str(&pk, "configs") || msgpack_pack_map(&pk, (size_t)t->nconfigs);
    for (int32_t i = 0; !bad && i < t->nconfigs; i++)
        bad = pack_str(&pk, t->configs[i].key) || pack_str(&pk, t->configs[i].value);
    return bad ? sl_err_set(err, SL_B_ENOMEM, "out of memory encoding topic %s", t->name) : 0;
}

/* Read a big-endian length of `width` bytes at p[*pos]. */
static bool mp_len(const uint8_t *p, size_t len, size_t *pos, int width, uint64_t *n)
{
    if (len - *pos < (size_t)width)
        return false;
    *n = 0;
    for (int i = 0; i < width; i++)
        *n = (*n << 8) | p[(*pos)++];
    return true;
}

/* Structural pre-check of one msgpack object at p[*pos]: every declared
 * string length fits in the bytes left and every array / map count is at most
 * the bytes left (each element takes at least one).  msgpack-c allocates a
 * container's declared size before reading its elements, so without this a
 * five-byte corrupt value (map32 of 4G entries) asks malloc for 128 GiB.
 * Nesting is limited to 8 levels (ours is 2).  Cost: one pass over the value. */
static bool mp_check(const uint8_t *p, size_t len, size_t *pos, int depth)
{
    if (depth > 8 || *pos >= len)
        return false;
    uint8_t b = p[(*pos)++];
    uint64_t n = 0, skip = 0, items = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return true;                          /* fixints, nil, booleans */
    if ((b & 0xf0) == 0x80)
        items = 2 * (uint64_t)(b & 0x0f);     /* fixmap */
    else if ((b & 0xf0) == 0x90)
        items = b & 0x0f;                     /* fixarray */
    else if ((b & 0xe0) == 0xa0)
        skip = b & 0x1f;                      /* fixstr */
    else {
        switch (b) {
        case 0xc4: case 0xd9: if (!mp_len(p, len, pos, 1, &skip)) return false; break; /* bin8, str8 */
        case 0xc5: case 0xda: if (!mp_len(p, len, pos, 2, &skip)) return false; break; /* bin16, str16 */
        case 0xc6: case 0xdb: if (!mp_len(p, len, pos, 4, &skip)) return false; break; /* bin32, str32 */
        case 0xc7: if (!mp_len(p, len, pos, 1, &n)) return false; skip = n + 1; break; /* ext8 */
        case 0xc8: if (!mp_len(p, len, pos, 2, &n)) return false; skip = n + 1; break; /* ext16 */
        case 0xc9: if (!mp_len(p, len, pos, 4, &n)) return false; skip = n + 1; break; /* ext32 */
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xca: case 0xce: case 0xd2: skip = 4; break;
        case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break; /* fixext 1..16, plus the type byte */
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: if (!mp_len(p, len, pos, 2, &items)) return false; break; /* array16 */
        case 0xdd: if (!mp_len(p, len, pos, 4, &items)) return false; break; /* array32 */
        case 0xde: if (!mp_len(p, len, pos, 2, &n)) return false; items = 2 * n; break; /* map16 */
        case 0xdf: if (!mp_len(p, len, pos, 4, &n)) return false; items = 2 * n; break; /* map32 */
        default: return false; /* 0xc1: never used */
        }
    }
    if (skip > len - *pos || items > len - *pos)
        return false;
    *pos += (size_t)skip;
    for (uint64_t i = 0; i < items; i++)
        if (!mp_check(p, len, pos, depth + 1))
            return false;
    return true;
}

static bool str_is(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

/* Copy a msgpack string into a C buffer of `cap` bytes; false when it does
 * not fit (with its NUL) or holds a NUL byte. */
static bool copy_str(const msgpack_object *o, char *dst, size_t cap)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap || memchr(o->via.str.ptr, 0, o->via.str.size))
        return false;
    memcpy(dst, o->via.str.ptr, o->via.str.size);
    dst[o->via.str.size] = '\0';
    return true;
}

static int decode_configs(const msgpack_object *m, sl_topic_info_t *out)
{
    if (m->type != MSGPACK_OBJECT_MAP || m->via.map.size > (uint32_t)MAX_CONFIGS)
        return -1;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        sl_topic_config_entry_t *e = &out->configs[i];
        if (!copy_str(&m->via.map.ptr[i].key, e->key, sizeof e->key) || e->key[0] == '\0' ||
            !copy_str(&m->via.map.ptr[i].val, e->value, sizeof e->value))
            return -1;
    }
    out->nconfigs = (int32_t)m->via.map.size;
    return 0;
}

/* Decode the record (key = name, value = msgpack) into out.  Every length and
 * count is checked; unknown map keys are skipped (room for later fields).
 * The bytes pass mp_check before msgpack-c sees them. */
static int decode_topic(const MDB_val *k, const MDB_val *v, sl_topic_info_t *out, sl_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (k->mv_size == 0 || k->mv_size > SL_TOPIC_NAME_MAX)
        return sl_err_set(err, SL_B_ECORRUPT, "topic registry: corrupt key (%zu bytes)", k->mv_size);
    memcpy(out->name, k->mv_data, k->mv_size);
    out->name[k->mv_size] = '\0';
    if (!sl_topic_name_valid(out->name))
        return sl_err_set(err, SL_B_ECORRUPT, "topic registry: corrupt key (not a valid topic name)");
    if (v->mv_size == 0 || v->mv_size > MAX_VALUE_BYTES)
        return sl_err_set(err, SL_B_ECORRUPT, "topic registry: corrupt record for %s (%zu bytes)", out->name,
                          v->mv_size);

    size_t off = 0;
    if (!mp_check(v->mv_data, v->mv_size, &off, 0) || off != v->mv_size)
        return sl_err_set(err, SL_B_ECORRUPT, "topic registry: corrupt record for topic %s", out->name);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    off = 0;
    int bad = msgpack_unpack_next(&u, v->mv_data, v->mv_size, &off) != MSGPACK_UNPACK_SUCCESS ||
              off != v->mv_size || u.data.type != MSGPACK_OBJECT_MAP;
    bool have_partitions = false;
    for (uint32_t i = 0; !bad && i < u.data.via.map.size; i++) {
        const msgpack_object *key = &u.data.via.map.ptr[i].key, *val = &u.data.via.map.ptr[i].val;
        if (str_is(key, "partitions")) {
            bad = val->type != MSGPACK_OBJECT_POSITIVE_INTEGER || val->via.u64 < 1 ||
                  val->via.u64 > MAX_PARTITIONS;
            if (!bad)
                out->partitions = (int32_t)val->via.u64;
            have_partitions = true;
        } else if (str_is(key, "configs")) {
            bad = decode_configs(val, out);
        } else if (key->type != MSGPACK_OBJECT_STR) {
            bad = 1;
        }
    }
    msgpack_unpacked_destroy(&u);
    if (bad || !have_partitions)
        return sl_err_set(err, SL_B_ECORRUPT, "topic registry: corrupt record for topic %s", out->name);
    return 0;
}

/* ---- validation ---------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const sl_topic_config_entry_t *)a)->key, ((const sl_topic_config_entry_t *)b)->key);
}

/* Check one override: the strings fit their fields and the value is one
 * sl_log_config_set accepts. */
static int check_config(const char *key, const char *value, sl_err_t *err)
{
    size_t kl = strnlen(key, CONFIG_KEY_CAP), vl = strnlen(value, CONFIG_VALUE_CAP);
    if (kl == 0 || kl >= CONFIG_KEY_CAP)
        return sl_err_set(err, SL_B_EINVAL, "config key must be 1..%zu bytes", CONFIG_KEY_CAP - 1);
    if (vl >= CONFIG_VALUE_CAP)
        return sl_err_set(err, SL_B_EINVAL, "value of config %s is longer than %zu bytes", key,
                          CONFIG_VALUE_CAP - 1);
    sl_log_config_t scratch;
    sl_log_config_default(&scratch);
    return sl_log_config_set(&scratch, key, value, err);
}

/* Validate a topic given by a caller and produce its canonical form (configs
 * sorted by key, so stored records and listings are deterministic). */
static int check_topic(const sl_topic_info_t *t, sl_topic_info_t *canon, sl_err_t *err)
{
    if (!memchr(t->name, '\0', sizeof t->name) || !sl_topic_name_valid(t->name))
        return sl_err_set(err, SL_B_EINVAL,
                          "invalid topic name '%.*s': use 1..%d characters of [a-zA-Z0-9._-], not '.' or '..'",
                          (int)strnlen(t->name, sizeof t->name - 1), t->name, SL_TOPIC_NAME_MAX);
    if (t->partitions < 1 || t->partitions > MAX_PARTITIONS)
        return sl_err_set(err, SL_B_EINVAL, "invalid partition count %d for topic %s: must be 1..%d",
                          (int)t->partitions, t->name, MAX_PARTITIONS);
    if (t->nconfigs < 0 || t->nconfigs > MAX_CONFIGS)
        return sl_err_set(err, SL_B_EINVAL, "topic %s: %d configs, at most %d are allowed", t->name,
                          (int)t->nconfigs, (int)MAX_CONFIGS);
    memset(canon, 0, sizeof *canon);
    memcpy(canon->name, t->name, strlen(t->name) + 1);
    canon->partitions = t->partitions;
    canon->nconfigs = t->nconfigs;
    for (int32_t i = 0; i < t->nconfigs; i++) {
        const sl_topic_config_entry_t *e = &t->configs[i];
        if (!memchr(e->key, '\0', sizeof e->key) || !memchr(e->value, '\0', sizeof e->value))
            return sl_err_set(err, SL_B_EINVAL, "topic %s: config %d is not NUL-terminated", t->name, (int)i);
        int rc = check_config(e->key, e->value, err);
        if (rc)
            return rc;
        canon->configs[i] = *e;
    }
    qsort(canon->configs, (size_t)canon->nconfigs, sizeof canon->configs[0], cmp_entry);
    for (int32_t i = 1; i < canon->nconfigs; i++)
        if (strcmp(canon->configs[i - 1].key, canon->configs[i].key) == 0)
            return sl_err_set(err, SL_B_EINVAL, "topic %s: config %s given twice", t->name, canon->configs[i].key);
    return 0;
}

/* ---- transactions -------------------------------------------------------------- */

static int put_topic(sl_registry_t *reg, MDB_txn *txn, const sl_topic_info_t *t, unsigned flags, sl_err_t *err)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = encode_topic(t, &sb, err);
    if (rc == 0) {
        MDB_val k = {strlen(t->name), (void *)t->name}, v = {sb.size, sb.data};
        int mrc = mdb_put(txn, reg->dbi, &k, &v, flags);
        if (mrc == MDB_KEYEXIST)
            rc = sl_err_set(err, SL_B_EEXISTS, "topic %s already exists", t->name);
        else if (mrc)
            rc = mdb_fail(err, "put", mrc);
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int get_topic(sl_registry_t *reg, MDB_txn *txn, const char *name, sl_topic_info_t *out, sl_err_t *err)
{
    if (!sl_topic_name_valid(name))
        return sl_err_set(err, SL_B_ENOTFOUND, "unknown topic '%s' (not a valid topic name)", name ? name : "");
    MDB_val k = {strlen(name), (void *)name}, v;
    int mrc = mdb_get(txn, reg->dbi, &k, &v);
    if (mrc == MDB_NOTFOUND)
        return sl_err_set(err, SL_B_ENOTFOUND, "unknown topic %s", name);
    if (mrc)
        return mdb_fail(err, "get", mrc);
    return decode_topic(&k, &v, out, err);
}

static int commit(MDB_txn *txn, int rc, sl_err_t *err)
{
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    int mrc = mdb_txn_commit(txn);
    return mrc ? mdb_fail(err, "commit", mrc) : 0;
}

/* Kafka refuses a topic whose name equals an existing one once '.' and '_'
 * are treated as the same character (they collide in metric names).  A scan
 * of the names: O(topics), paid only by names holding '.' or '_'. */
static bool names_collide(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i] == '.' ? '_' : a[i], y = b[i] == '.' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return true;
}

static int check_collision(sl_registry_t *reg, MDB_txn *txn, const char *name, sl_err_t *err)
{
    if (!strpbrk(name, "._"))
        return 0;
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, reg->dbi, &cur);
    if (mrc)
        return mdb_fail(err, "cursor", mrc);
    MDB_val k, v;
    int rc = 0;
    size_t n = strlen(name);
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (names_collide(name, n, k.mv_data, k.mv_size) && !(k.mv_size == n && !memcmp(k.mv_data, name, n))) {
            rc = sl_err_set(err, SL_B_EINVAL, "topic %s collides with existing topic %.*s ('.' and '_' clash)",
                            name, (int)k.mv_size, (const char *)k.mv_data);
            break;
        }
    }
    if (!rc && mrc != MDB_NOTFOUND)
        rc = mdb_fail(err, "cursor", mrc);
    mdb_cursor_close(cur);
    return rc;
}

int sl_registry_create_topic(sl_registry_t *reg, const sl_topic_info_t *topic, sl_err_t *err)
{
    sl_topic_info_t canon;
    int rc = check_topic(topic, &canon, err);
    if (rc)
        return rc;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(reg->env, NULL, 0, &txn);
    if (mrc)
        return mdb_fail(err, "begin", mrc);
    rc = check_collision(reg, txn, canon.name, err);
    if (!rc)
        rc = put_topic(reg, txn, &canon, MDB_NOOVERWRITE, err);
    return commit(txn, rc, err);
}

/* Removes the registry entry only: the caller deletes the partition folders
 * (and should do so after this returns, so a crash in between leaves orphan
 * folders, never a registered topic without its logs). */
int sl_registry_delete_topic(sl_registry_t *reg, const char *name, sl_err_t *err)
{
    if (!sl_topic_name_valid(name))
        return sl_err_set(err, SL_B_ENOTFOUND, "unknown topic '%s' (not a valid topic name)", name ? name : "");
    MDB_txn *txn;
    int mrc = mdb_txn_begin(reg->env, NULL, 0, &txn);
    if (mrc)
        return mdb_fail(err, "begin", mrc);
    MDB_val k = {strlen(name), (void *)name};
    mrc = mdb_del(txn, reg->dbi, &k, NULL);
    int rc = 0;
    if (mrc == MDB_NOTFOUND)
        rc = sl_err_set(err, SL_B_ENOTFOUND, "unknown topic %s", name);
    else if (mrc)
        rc = mdb_fail(err, "delete", mrc);
    return commit(txn, rc, err);
}

int sl_registry_get_topic(sl_registry_t *reg, const char *name, sl_topic_info_t *out, sl_err_t *err)
{
    MDB_txn *txn;
    int mrc = mdb_txn_begin(reg->env, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return mdb_fail(err, "begin", mrc);
    int rc = get_topic(reg, txn, name, out, err);
    mdb_txn_abort(txn);
    return rc;
}

/* The records are copied out of a read transaction first and decoded and
 * handed to fn after it ends, so fn may call back into the registry (even
 * write to it) without holding a snapshot open. */
int sl_registry_list_topics(sl_registry_t *reg, int (*fn)(void *arg, const sl_topic_info_t *t), void *arg,
                            sl_err_t *err)
{
    MDB_txn *txn;
    int mrc = mdb_txn_begin(reg->env, NULL, MDB_RDONLY, &txn);
    if (mrc)
        return mdb_fail(err, "begin", mrc);
    MDB_cursor *cur;
    if ((mrc = mdb_cursor_open(txn, reg->dbi, &cur))) {
        mdb_txn_abort(txn);
        return mdb_fail(err, "cursor", mrc);
    }
    sl_buf_t recs; /* [key len][key][value len][value]... */
    sl_buf_init(&recs);
    int rc = 0;
    MDB_val k, v;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (sl_buf_append(&recs, &k.mv_size, sizeof k.mv_size) || sl_buf_append(&recs, k.mv_data, k.mv_size) ||
            sl_buf_append(&recs, &v.mv_size, sizeof v.mv_size) || sl_buf_append(&recs, v.mv_data, v.mv_size)) {
            rc = sl_err_set(err, SL_B_ENOMEM, "out of memory listing topics");
            break;
        }
    }
    if (!rc && mrc != MDB_NOTFOUND)
        rc = mdb_fail(err, "cursor", mrc);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);

    sl_topic_info_t *t = rc ? NULL : malloc(sizeof *t);
    if (!rc && !t)
        rc = sl_err_set(err, SL_B_ENOMEM, "out of memory listing topics");
    for (size_t pos = 0; !rc && pos < recs.len;) {
        MDB_val rk, rv;
        memcpy(&rk.mv_size, recs.data + pos, sizeof rk.mv_size);
        rk.mv_data = recs.data + pos + sizeof rk.mv_size;
        pos += sizeof rk.mv_size + rk.mv_size;
        memcpy(&rv.mv_size, recs.data + pos, sizeof rv.mv_size);
        rv.mv_data = recs.data + pos + sizeof rv.mv_size;
        pos += sizeof rv.mv_size + rv.mv_size;
        rc = decode_topic(&rk, &rv, t, err);
        if (!rc && fn(arg, t))
            break;
    }
    free(t);
    sl_buf_free(&recs);
    return rc;
}

int sl_registry_set_config(sl_registry_t *reg, const char *name, const char *key, const char *value,
                           sl_err_t *err)
{
    if (!key)
        return sl_err_set(err, SL_B_EINVAL, "config key must not be NULL");
    if (value) {
        int rc = check_config(key, value, err);
        if (rc)
            return rc;
    }
    MDB_txn *txn;
    int mrc = mdb_txn_begin(reg->env, NULL, 0, &txn);
    if (mrc)
        return mdb_fail(err, "begin", mrc);
    sl_topic_info_t t;
    int rc = get_topic(reg, txn, name, &t, err);
    if (rc)
        return commit(txn, rc, err);
    int32_t i = 0;
    while (i < t.nconfigs && strcmp(t.configs[i].key, key) < 0)
        i++;
    bool present = i < t.nconfigs && strcmp(t.configs[i].key, key) == 0;
    if (!value) {
        if (!present) { /* removing an absent override is a no-op, as in Kafka */
            mdb_txn_abort(txn);
            return 0;
        }
        memmove(&t.configs[i], &t.configs[i + 1], (size_t)(t.nconfigs - i - 1) * sizeof t.configs[0]);
        t.nconfigs--;
    } else if (present) {
        snprintf(t.configs[i].value, sizeof t.configs[i].value, "%s", value);
    } else if (t.nconfigs >= MAX_CONFIGS) {
        rc = sl_err_set(err, SL_B_EINVAL, "topic %s already has %d config overrides, the maximum", name,
                        (int)MAX_CONFIGS);
    } else {
        memmove(&t.configs[i + 1], &t.configs[i], (size_t)(t.nconfigs - i) * sizeof t.configs[0]);
        snprintf(t.configs[i].key, sizeof t.configs[i].key, "%s", key);
        snprintf(t.configs[i].value, sizeof t.configs[i].value, "%s", value);
        t.nconfigs++;
    }
    if (!rc)
        rc = put_topic(reg, txn, &t, 0, err);
    return commit(txn, rc, err);
}

int sl_registry_set_partitions(sl_registry_t *reg, const char *name, int32_t partitions, sl_err_t *err)
{
    if (partitions < 1 || partitions > MAX_PARTITIONS)
        return sl_err_set(err, SL_B_EINVAL, "invalid partition count %d: must be 1..%d", (int)partitions,
                          MAX_PARTITIONS);
    MDB_txn *txn;
    int mrc = mdb_txn_begin(reg->env, NULL, 0, &txn);
    if (mrc)
        return mdb_fail(err, "begin", mrc);
    sl_topic_info_t t;
    int rc = get_topic(reg, txn, name, &t, err);
    if (!rc && partitions <= t.partitions)
        rc = sl_err_set(err, SL_B_EINVAL,
                        "topic %s has %d partitions; the count can only be increased (requested %d)", name,
                        (int)t.partitions, (int)partitions);
    if (!rc) {
        t.partitions = partitions;
        rc = put_topic(reg, txn, &t, 0, err);
    }
    return commit(txn, rc, err);
}

int sl_topic_log_config(const sl_topic_info_t *t, sl_log_config_t *cfg, sl_err_t *err)
{
    sl_log_config_default(cfg);
    if (t->nconfigs < 0 || t->nconfigs > MAX_CONFIGS)
        return sl_err_set(err, SL_B_EINVAL, "topic %s: invalid config count %d", t->name, (int)t->nconfigs);
    for (int32_t i = 0; i < t->nconfigs; i++) {
        const sl_topic_config_entry_t *e = &t->configs[i];
        if (!memchr(e->key, '\0', sizeof e->key) || !memchr(e->value, '\0', sizeof e->value))
            return sl_err_set(err, SL_B_EINVAL, "topic %s: config %d is not NUL-terminated", t->name, (int)i);
        int rc = sl_log_config_set(cfg, e->key, e->value, err);
        if (rc)
            return rc;
    }
    return 0;
}

int sl_partition_dir(const char *data_dir, const char *topic, int32_t partition, char *buf, size_t cap)
{
    if (!data_dir || !sl_topic_name_valid(topic) || partition < 0)
        return SL_B_EINVAL;
    int n = snprintf(buf, cap, "%s/topics/%s-%d", data_dir, topic, (int)partition);
    if (n < 0 || (size_t)n >= cap)
        return SL_B_EINVAL;
    return 0;
}
