/* The store environment: one LMDB environment per job in its data folder,
 * the writer's long-lived read transaction, map growth (doubling up to a
 * maximum, coordinated with snapshot readers), snapshots for reader threads,
 * and the registry of stores with their descriptors (name, kind, schemas,
 * retention, committed stream time) in the "__stores" database. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "ss.h"

/* ---- status codes and LMDB errors ---------------------------------------------------- */

const char *sl_store_strerror(int code)
{
    switch (code) {
    case SL_S_OK: return "ok";
    case SL_S_ENOTFOUND: return "not found";
    case SL_S_EINVAL: return "invalid argument";
    case SL_S_ENOMEM: return "out of memory";
    case SL_S_EIO: return "I/O or LMDB error";
    case SL_S_EMAPFULL: return "LMDB map reached its configured maximum";
    case SL_S_ENOSPC: return "no space left on the device";
    case SL_S_EEXPIRED: return "older than the store's retention";
    case SL_S_EEXISTS: return "store exists with another kind";
    case SL_S_EBUSY: return "busy";
    case SL_S_ETOOBIG: return "key too long";
    case SL_S_ECORRUPT: return "stored data does not decode";
    case SL_S_EREADERS: return "all LMDB reader slots in use";
    default: return "unknown statestore error";
    }
}

int ss_mdb_err(sl_err_t *err, int rc, const char *fmt, ...)
{
    int code;
    switch (rc) {
    case MDB_NOTFOUND: code = SL_S_ENOTFOUND; break;
    case MDB_MAP_FULL: code = SL_S_EMAPFULL; break;
    case ENOSPC:
    case EDQUOT: code = SL_S_ENOSPC; break;
    case ENOMEM: code = SL_S_ENOMEM; break;
    case MDB_READERS_FULL: code = SL_S_EREADERS; break;
    case MDB_BAD_VALSIZE: code = SL_S_ETOOBIG; break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: code = SL_S_ECORRUPT; break;
    default: code = SL_S_EIO; break;
    }
    if (err) {
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        sl_err_set(err, code, "%s: %s", what, mdb_strerror(rc));
    }
    return code;
}

/* ---- configuration and open/close ------------------------------------------------------- */

void sl_env_config_default(sl_env_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->map_size_initial = 64u << 20;
    cfg->map_size_max = (size_t)1 << 40;
    cfg->max_stores = 256;
    cfg->max_readers = 126;
    cfg->cache_bytes = 10u << 20;
}

static int env_setup_dbs(sl_env_t *env, sl_err_t *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(env->mdb, NULL, 0, &txn);
    if (rc)
        return ss_mdb_err(err, rc, "statestore %s: begin", env->dir);
    if ((rc = mdb_dbi_open(txn, "__meta", MDB_CREATE, &env->meta_dbi)) ||
        (rc = mdb_dbi_open(txn, "__stores", MDB_CREATE, &env->stores_dbi))) {
        mdb_txn_abort(txn);
        return ss_mdb_err(err, rc, "statestore %s: open internal databases", env->dir);
    }
    MDB_val k = {strlen(SS_SEQ_KEY), SS_SEQ_KEY}, v;
    if (mdb_get(txn, env->meta_dbi, &k, &v) == 0 && v.mv_size == 8)
        env->seq = sl_be64(v.mv_data);
    if ((rc = mdb_txn_commit(txn)))
        return ss_mdb_err(err, rc, "statestore %s: commit", env->dir);
    return 0;
}

int sl_env_open(const char *dir, const sl_env_config_t *cfg_in, sl_env_t **out, sl_err_t *err)
{
    sl_env_config_t cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        sl_env_config_default(&cfg);
    *out = NULL;
    if (!dir || !*dir || cfg.map_size_initial < 65536 || cfg.map_size_max < cfg.map_size_initial ||
        cfg.max_stores == 0 || cfg.max_readers < 2)
        return sl_err_set(err, SL_S_EINVAL, "statestore: invalid configuration (map %zu..%zu, stores %u, readers %u)",
                          cfg.map_size_initial, cfg.map_size_max, cfg.max_stores, cfg.max_readers);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return sl_err_set(err, errno == ENOSPC ? SL_S_ENOSPC : SL_S_EIO, "statestore: mkdir %s: %s", dir,
                          strerror(errno));
    sl_env_t *env = calloc(1, sizeof *env);
    if (!env || !(env->dir = strdup(dir))) {
        free(env);
        return sl_err_set(err, SL_S_ENOMEM, "statestore: out of memory");
    }
    env->cfg = cfg;
    pthread_mutex_init(&env->gate_mu, NULL);
    pthread_cond_init(&env->gate_cv, NULL);
    sl_buf_init(&env->scratch);

    int rc = mdb_env_create(&env->mdb);
    if (rc) {
        rc = ss_mdb_err(err, rc, "statestore %s: create", dir);
        goto fail;
    }
    if ((rc = mdb_env_set_maxdbs(env->mdb, cfg.max_stores + 2)) ||
        (rc = mdb_env_set_maxreaders(env->mdb, cfg.max_readers)) ||
        (rc = mdb_env_set_mapsize(env->mdb, cfg.map_size_initial))) {
        rc = ss_mdb_err(err, rc, "statestore %s: configure", dir);
        goto fail;
    }
    /* MDB_NOTLS: read transactions belong to their MDB_txn, not the thread, so
     * snapshots can move between threads and the writer's read transaction can
     * coexist with snapshots on the same thread.  No MDB_WRITEMAP: with it a
     * full disk would surface as SIGBUS on a page write instead of ENOSPC. */
    unsigned flags = MDB_NOTLS | (cfg.no_sync ? MDB_NOSYNC : 0);
    if ((rc = mdb_env_open(env->mdb, dir, flags, 0644))) {
        rc = ss_mdb_err(err, rc, "statestore: cannot open %s", dir);
        goto fail;
    }
    int dead = 0;
    mdb_reader_check(env->mdb, &dead); /* slots left by a killed process */
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(env->mdb, &info);
    mdb_env_stat(env->mdb, &st);
    env->map_size = info.me_mapsize;
    env->page_size = st.ms_psize;
    if ((rc = env_setup_dbs(env, err)))
        goto fail;
    if ((rc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &env->rtxn))) {
        rc = ss_mdb_err(err, rc, "statestore %s: begin read", dir);
        goto fail;
    }
    env->rtxn_live = true;
    *out = env;
    return 0;
fail:
    if (env->mdb)
        mdb_env_close(env->mdb);
    pthread_mutex_destroy(&env->gate_mu);
    pthread_cond_destroy(&env->gate_cv);
    free(env->dir);
    free(env);
    return rc;
}

void sl_env_close(sl_env_t *env)
{
    if (!env)
        return;
    while (env->stores)
        sl_store_close(env->stores);
    if (env->rtxn)
        mdb_txn_abort(env->rtxn);
    mdb_env_close(env->mdb);
    pthread_mutex_destroy(&env->gate_mu);
    pthread_cond_destroy(&env->gate_cv);
    sl_buf_free(&env->scratch);
    free(env->dir);
    free(env);
}

size_t sl_env_map_size(const sl_env_t *env) { return env->map_size; }
uint64_t sl_env_checkpoint_seq(const sl_env_t *env) { return env->seq; }

int sl_env_set_map_size_max(sl_env_t *env, size_t max)
{
    if (max < env->map_size)
        return SL_S_EINVAL;
    env->cfg.map_size_max = max;
    return 0;
}

/* ---- the writer's read transaction and map growth ------------------------------------------ */

MDB_txn *ss_rtxn(sl_env_t *env)
{
    if (!env->rtxn_live) {
        if (mdb_txn_renew(env->rtxn) != 0)
            return NULL;
        env->rtxn_live = true;
    }
    return env->rtxn;
}

void ss_rtxn_reset(sl_env_t *env)
{
    if (env->rtxn_live) {
        mdb_txn_reset(env->rtxn);
        env->rtxn_live = false;
    }
}

int ss_grow(sl_env_t *env, sl_err_t *err)
{
    if (env->map_size >= env->cfg.map_size_max)
        return sl_err_set(err, SL_S_EMAPFULL,
                          "statestore %s: the LMDB map is full at its maximum of %zu bytes (map_size_max); "
                          "nothing was committed and the cached updates are kept", env->dir, env->map_size);
    size_t want = env->map_size > env->cfg.map_size_max / 2 ? env->cfg.map_size_max : env->map_size * 2;
    want -= want % env->page_size;
    ss_rtxn_reset(env);
    pthread_mutex_lock(&env->gate_mu);
    env->gate_growing = true;
    while (env->gate_readers > 0)
        pthread_cond_wait(&env->gate_cv, &env->gate_mu);
    int rc = mdb_env_set_mapsize(env->mdb, want);
    env->gate_growing = false;
    pthread_cond_broadcast(&env->gate_cv);
    pthread_mutex_unlock(&env->gate_mu);
    if (rc)
        return ss_mdb_err(err, rc, "statestore %s: grow map to %zu bytes", env->dir, want);
    MDB_envinfo info;
    mdb_env_info(env->mdb, &info);
    sl_log(SL_DEBUG, SS_MODULE, "%s: map grown from %zu to %zu bytes", env->dir, env->map_size, info.me_mapsize);
    env->map_size = info.me_mapsize;
    return 0;
}

/* ---- snapshots ---------------------------------------------------------------------------- */

int sl_snap_begin(sl_env_t *env, sl_snap_t **out, sl_err_t *err)
{
    *out = NULL;
    sl_snap_t *s = malloc(sizeof *s);
    if (!s)
        return sl_err_set(err, SL_S_ENOMEM, "statestore: out of memory");
    pthread_mutex_lock(&env->gate_mu);
    while (env->gate_growing)
        pthread_cond_wait(&env->gate_cv, &env->gate_mu);
    env->gate_readers++;
    pthread_mutex_unlock(&env->gate_mu);
    s->env = env;
    s->seq = 0;
    int rc = mdb_txn_begin(env->mdb, NULL, MDB_RDONLY, &s->txn);
    if (rc) {
        s->txn = NULL;
        sl_snap_end(s);
        return ss_mdb_err(err, rc, "statestore %s: begin snapshot", env->dir);
    }
    MDB_val k = {strlen(SS_SEQ_KEY), SS_SEQ_KEY}, v;
    if (mdb_get(s->txn, env->meta_dbi, &k, &v) == 0 && v.mv_size == 8)
        s->seq = sl_be64(v.mv_data);
    *out = s;
    return 0;
}

void sl_snap_end(sl_snap_t *s)
{
    if (!s)
        return;
    if (s->txn)
        mdb_txn_abort(s->txn);
    sl_env_t *env = s->env;
    pthread_mutex_lock(&env->gate_mu);
    if (--env->gate_readers == 0)
        pthread_cond_broadcast(&env->gate_cv);
    pthread_mutex_unlock(&env->gate_mu);
    free(s);
}

uint64_t sl_snap_seq(const sl_snap_t *snap) { return snap->seq; }

/* ---- store descriptors ------------------------------------------------------------------------ */

static void pack_str(msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str(pk, strlen(k));
    msgpack_pack_str_body(pk, k, strlen(k));
    if (!v) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_str(pk, strlen(v));
    msgpack_pack_str_body(pk, v, strlen(v));
}

static void pack_int(msgpack_packer *pk, const char *k, int64_t v)
{
    msgpack_pack_str(pk, strlen(k));
    msgpack_pack_str_body(pk, k, strlen(k));
    msgpack_pack_int64(pk, v);
}

/* A msgpack map: {kind, key_schema, value_schema, retention_ms, window_size_ms,
 * stream_time}; readers skip keys they do not know, so fields can be added. */
int ss_desc_encode(const sl_store_t *s, sl_buf_t *out)
{
    sl_buf_reset(out);
    msgpack_packer pk;
    sl_codec_packer_init(&pk, out);
    msgpack_pack_map(&pk, 6);
    pack_int(&pk, "kind", s->kind);
    pack_str(&pk, "key_schema", s->key_schema);
    pack_str(&pk, "value_schema", s->value_schema);
    pack_int(&pk, "retention_ms", s->retention_ms);
    pack_int(&pk, "window_size_ms", s->window_size_ms);
    pack_int(&pk, "stream_time", s->stream_time);
    return out->len ? 0 : SL_S_ENOMEM;
}

/* Decode into info; strings are copied into `strs` (two NUL-terminated slots). */
static int desc_decode(const MDB_val *v, sl_store_info_t *info, char strs[2][512])
{
    msgpack_zone z;
    if (!msgpack_zone_init(&z, 1024))
        return SL_S_ENOMEM;
    msgpack_object o;
    size_t off = 0;
    int rc = SL_S_ECORRUPT;
    if (msgpack_unpack(v->mv_data, v->mv_size, &off, &z, &o) != MSGPACK_UNPACK_SUCCESS ||
        o.type != MSGPACK_OBJECT_MAP)
        goto out;
    info->kind = 0;
    info->key_schema = info->value_schema = NULL;
    info->retention_ms = info->window_size_ms = 0;
    info->stream_time = INT64_MIN;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        msgpack_object *k = &o.via.map.ptr[i].key, *val = &o.via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR)
            goto out;
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)k->via.str.size, k->via.str.ptr);
        bool is_int = val->type == MSGPACK_OBJECT_POSITIVE_INTEGER || val->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        int64_t iv = is_int ? val->via.i64 : 0;
        int slot = !strcmp(name, "key_schema") ? 0 : !strcmp(name, "value_schema") ? 1 : -1;
        if (slot >= 0 && val->type == MSGPACK_OBJECT_STR) {
            snprintf(strs[slot], 512, "%.*s", (int)val->via.str.size, val->via.str.ptr);
            *(slot ? &info->value_schema : &info->key_schema) = strs[slot];
        } else if (!strcmp(name, "kind") && is_int) {
            info->kind = (sl_store_kind_t)iv;
        } else if (!strcmp(name, "retention_ms") && is_int) {
            info->retention_ms = iv;
        } else if (!strcmp(name, "window_size_ms") && is_int) {
            info->window_size_ms = iv;
        } else if (!strcmp(name, "stream_time") && is_int) {
            info->stream_time = iv;
        }
    }
    rc = info->kind >= SL_STORE_KV && info->kind <= SL_STORE_SESSION ? 0 : SL_S_ECORRUPT;
out:
    msgpack_zone_destroy(&z);
    return rc;
}

int sl_env_list_stores(sl_env_t *env, sl_snap_t *snap, int (*fn)(void *arg, const sl_store_info_t *info),
                       void *arg, sl_err_t *err)
{
    sl_snap_t *own = NULL;
    if (!snap) {
        int rc = sl_snap_begin(env, &own, err);
        if (rc)
            return rc;
        snap = own;
    }
    MDB_cursor *cur;
    int rc = mdb_cursor_open(snap->txn, env->stores_dbi, &cur);
    if (rc) {
        sl_snap_end(own);
        return ss_mdb_err(err, rc, "statestore %s: list stores", env->dir);
    }
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    rc = 0;
    for (; mrc == 0 && rc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char name[SL_STORE_MAX_NAME + 1], strs[2][512];
        sl_store_info_t info;
        snprintf(name, sizeof name, "%.*s", (int)k.mv_size, (const char *)k.mv_data);
        if ((rc = desc_decode(&v, &info, strs))) {
            sl_err_set(err, rc, "statestore %s: descriptor of store %s does not decode", env->dir, name);
            break;
        }
        info.name = name;
        rc = fn(arg, &info);
    }
    mdb_cursor_close(cur);
    sl_snap_end(own);
    return rc;
}

/* ---- opening and closing stores ---------------------------------------------------------------- */

static bool name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len == 0 || len > SL_STORE_MAX_NAME || !strncmp(n, "__", 2))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-'))
            return false;
    }
    return true;
}

static int store_create_txn(sl_store_t *s, int64_t *stream_time, sl_err_t *err)
{
    sl_env_t *env = s->env;
    MDB_txn *txn;
    ss_rtxn_reset(env);
    int rc = mdb_txn_begin(env->mdb, NULL, 0, &txn);
    if (rc)
        return ss_mdb_err(err, rc, "store %s: begin", s->name);
    MDB_val k = {strlen(s->name), s->name}, v;
    rc = mdb_get(txn, env->stores_dbi, &k, &v);
    if (rc == 0) {
        char strs[2][512];
        sl_store_info_t old;
        if (desc_decode(&v, &old, strs) != 0) {
            mdb_txn_abort(txn);
            return sl_err_set(err, SL_S_ECORRUPT, "store %s: descriptor does not decode", s->name);
        }
        if (old.kind != s->kind) {
            mdb_txn_abort(txn);
            return sl_err_set(err, SL_S_EEXISTS, "store %s exists with kind %d, not %d", s->name, old.kind, s->kind);
        }
        *stream_time = old.stream_time;
    } else if (rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return ss_mdb_err(err, rc, "store %s: read descriptor", s->name);
    }
    s->stream_time = *stream_time;
    char tname[SL_STORE_MAX_NAME + 8];
    snprintf(tname, sizeof tname, "%s/time", s->name);
    if ((rc = mdb_dbi_open(txn, s->name, MDB_CREATE, &s->dbi)) ||
        (s->kind != SL_STORE_KV && (rc = mdb_dbi_open(txn, tname, MDB_CREATE, &s->tdbi)))) {
        mdb_txn_abort(txn);
        return ss_mdb_err(err, rc, "store %s: open database", s->name);
    }
    s->max_time_written = INT64_MIN;
    if (s->kind == SL_STORE_WINDOW) { /* the time index's last key starts with the latest window start */
        MDB_cursor *cur;
        MDB_val tk, tv;
        if ((rc = mdb_cursor_open(txn, s->tdbi, &cur))) {
            mdb_txn_abort(txn);
            return ss_mdb_err(err, rc, "store %s: open time index", s->name);
        }
        rc = mdb_cursor_get(cur, &tk, &tv, MDB_LAST);
        s->max_time_written = rc == 0 && tk.mv_size >= 8 ? sl_codec_get_i64(tk.mv_data) : rc == MDB_NOTFOUND ? INT64_MIN
                                                                                                            : INT64_MAX;
        mdb_cursor_close(cur);
    }
    if ((rc = ss_desc_encode(s, &env->scratch))) {
        mdb_txn_abort(txn);
        return sl_err_set(err, rc, "store %s: out of memory", s->name);
    }
    v.mv_size = env->scratch.len;
    v.mv_data = env->scratch.data;
    if ((rc = mdb_put(txn, env->stores_dbi, &k, &v, 0))) {
        mdb_txn_abort(txn);
        return ss_mdb_err(err, rc, "store %s: write descriptor", s->name);
    }
    if ((rc = mdb_txn_commit(txn)))
        return ss_mdb_err(err, rc, "store %s: commit", s->name);
    return 0;
}

int sl_store_open(sl_env_t *env, const char *name, const sl_store_config_t *cfg, sl_store_t **out, sl_err_t *err)
{
    *out = NULL;
    if (!name_ok(name))
        return sl_err_set(err, SL_S_EINVAL, "store name \"%s\" is invalid (1-%d of [A-Za-z0-9._:-], not starting __)",
                          name ? name : "(null)", SL_STORE_MAX_NAME);
    if (!cfg || cfg->kind < SL_STORE_KV || cfg->kind > SL_STORE_SESSION || cfg->retention_ms < 0)
        return sl_err_set(err, SL_S_EINVAL, "store %s: invalid configuration", name);
    for (sl_store_t *o = env->stores; o; o = o->next) {
        if (!strcmp(o->name, name))
            return sl_err_set(err, SL_S_EEXISTS, "store %s is already open", name);
        if (o->cache.dirty_count || o->stream_time_dirty)
            return sl_err_set(err, SL_S_EBUSY, "store %s: open stores before updating or right after a checkpoint "
                                               "(store %s has uncommitted updates)", name, o->name);
    }
    sl_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return sl_err_set(err, SL_S_ENOMEM, "store %s: out of memory", name);
    s->env = env;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->kind = cfg->kind;
    s->on_flush = cfg->on_flush;
    s->flush_arg = cfg->flush_arg;
    s->retention_ms = cfg->retention_ms;
    s->window_size_ms = cfg->window_size_ms;
    s->key_schema = cfg->key_schema ? strdup(cfg->key_schema) : NULL;
    s->value_schema = cfg->value_schema ? strdup(cfg->value_schema) : NULL;
    sl_buf_init(&s->kbuf);
    int rc = cache_init(&s->cache, cfg->cache_bytes ? cfg->cache_bytes : env->cfg.cache_bytes);
    if (rc || (cfg->key_schema && !s->key_schema) || (cfg->value_schema && !s->value_schema)) {
        sl_err_set(err, SL_S_ENOMEM, "store %s: out of memory", name);
        rc = SL_S_ENOMEM;
        goto fail;
    }
    int64_t stream_time = INT64_MIN;
    for (int attempt = 0;; attempt++) {
        rc = store_create_txn(s, &stream_time, err);
        if (rc != SL_S_EMAPFULL || attempt >= 64 || (rc = ss_grow(env, err)))
            break;
    }
    if (rc)
        goto fail;
    s->stream_time = s->committed_stream_time = stream_time;
    s->cutoff = s->committed_cutoff =
        stream_time != INT64_MIN && s->retention_ms > 0 && s->kind != SL_STORE_KV ? stream_time - s->retention_ms
                                                                                 : INT64_MIN;
    s->next = env->stores;
    env->stores = s;
    *out = s;
    return 0;
fail:
    cache_free(&s->cache);
    free(s->key_schema);
    free(s->value_schema);
    free(s);
    return rc;
}

void sl_store_close(sl_store_t *s)
{
    if (!s)
        return;
    sl_store_t **pp = &s->env->stores;
    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    cache_free(&s->cache);
    sl_buf_free(&s->kbuf);
    free(s->key_schema);
    free(s->value_schema);
    free(s);
}

sl_store_t *sl_env_store(sl_env_t *env, const char *name)
{
    for (sl_store_t *s = env->stores; s; s = s->next)
        if (!strcmp(s->name, name))
            return s;
    return NULL;
}

const char *sl_store_name(const sl_store_t *s) { return s->name; }
sl_store_kind_t sl_store_kind(const sl_store_t *s) { return s->kind; }

void sl_store_cache_stats(const sl_store_t *s, sl_cache_stats_t *o)
{
    const cache_t *c = &s->cache;
    *o = (sl_cache_stats_t){.bytes = c->bytes, .bound = c->bound, .entries = c->count, .dirty = c->dirty_count,
                            .hits = c->hits, .misses = c->misses, .puts = c->puts, .coalesced = c->coalesced,
                            .evictions = c->evictions};
}

bool sl_env_checkpoint_wanted(const sl_env_t *env)
{
    for (const sl_store_t *s = env->stores; s; s = s->next)
        if (s->cache.dirty_bytes > s->cache.bound)
            return true;
    return false;
}
