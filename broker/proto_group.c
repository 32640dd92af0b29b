/* The group coordinator on the wire: FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, ListGroups, DescribeGroups and DeleteGroups decoded
 * here and handed to the state machine in group.c; parked JoinGroup and
 * SyncGroup responses are finished from its completion callbacks.  Also the
 * coordinator's lifecycle and its timer, armed at the next group deadline. */
#include "broker/group.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define MEMBER_ID_MAX 255 /* ours are shorter; a longer one is unknown */
#define EXPIRE_EVERY_MS (10 * 60 * 1000)

int64_t bk_groups_now(void) { return sl_mono_ns() / 1000000; }

bool bk_kstr_cstr(kstr_t s, char *buf, size_t cap)
{
    if (s.len < 0 || (size_t)s.len >= cap || (s.len && memchr(s.p, '\0', (size_t)s.len)))
        return false;
    return kstr_copy(s, buf, cap);
}

/* A wire string as a malloc'd C string (NULL for null).  *bad is set when it
 * holds a NUL byte or memory runs out. */
static char *kstr_dup(kstr_t s, bool *bad)
{
    if (s.len < 0)
        return NULL;
    char *p = malloc((size_t)s.len + 1);
    if (!p || (s.len && memchr(s.p, '\0', (size_t)s.len))) {
        *bad = true;
        free(p);
        return NULL;
    }
    memcpy(p, s.p, (size_t)s.len);
    p[s.len] = '\0';
    return p;
}

static kstr_t kr_bytes_flex(kr_t *r, bool flex) { return flex ? kr_cbytes(r, false) : kr_bytes(r, false); }

/* ---- lifecycle and time ------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    sl_broker_t *b = t->data;
    if (!b->groups)
        return;
    b->groups->timer_at = INT64_MAX;
    grp_tick(&b->groups->coord, bk_groups_now());
    bk_groups_schedule(b);
}

void bk_groups_schedule(sl_broker_t *b)
{
    bk_groups_t *gs = b->groups;
    int64_t at = grp_next_deadline(&gs->coord);
    if (at == gs->timer_at)
        return;
    gs->timer_at = at;
    if (at == INT64_MAX) {
        uv_timer_stop(gs->timer);
        return;
    }
    int64_t now = bk_groups_now();
    /* +1: the loop's clock may lag ours by a fraction of a millisecond. */
    uv_timer_start(gs->timer, on_timer, at > now ? (uint64_t)(at - now) + 1 : 0, 0);
}

int bk_groups_open(sl_broker_t *b, sl_err_t *err)
{
    bk_groups_t *gs = calloc(1, sizeof *gs);
    uv_timer_t *timer = malloc(sizeof *timer);
    if (!gs || !timer) {
        free(gs);
        free(timer);
        return sl_err_set(err, SL_B_ENOMEM, "out of memory");
    }
    int rc = ofs_open(b->cfg.data_dir, &gs->offsets, err);
    if (rc) {
        free(gs);
        free(timer);
        return rc;
    }
    grp_coord_config_t cfg = {b->cfg.group_min_session_ms, b->cfg.group_max_session_ms,
                              b->cfg.group_initial_rebalance_delay_ms};
    grp_coord_init(&gs->coord, &cfg);
    uv_timer_init(&b->loop, timer);
    timer->data = b;
    gs->timer = timer;
    gs->timer_at = INT64_MAX;
    gs->last_expire_ms = sl_now_ms();
    b->groups = gs;
    return 0;
}

static void on_timer_closed(uv_handle_t *h) { free(h); }

void bk_groups_close(sl_broker_t *b)
{
    bk_groups_t *gs = b->groups;
    if (!gs)
        return;
    /* Parked joins and syncs complete now: their connections are closed, so
     * finishing only frees the slots. */
    grp_coord_free(&gs->coord);
    uv_timer_stop(gs->timer);
    uv_close((uv_handle_t *)gs->timer, on_timer_closed);
    ofs_close(gs->offsets);
    free(gs);
    b->groups = NULL;
}

void bk_groups_tick(sl_broker_t *b, int64_t now_ms)
{
    bk_groups_t *gs = b->groups;
    if (!gs)
        return;
    grp_tick(&gs->coord, bk_groups_now());
    if (now_ms - gs->last_expire_ms >= EXPIRE_EVERY_MS) {
        gs->last_expire_ms = now_ms;
        bk_offsets_expire(b, now_ms);
    }
    bk_groups_schedule(b);
}

/* Parked responses stay with their members: a closed connection has set
 * resp->conn to NULL, and finishing such a slot frees it.  The member itself
 * stays until its session times out (or it rejoins on a new connection). */
void bk_groups_conn_closed(sl_broker_t *b, bk_conn_t *conn)
{
    (void)b;
    (void)conn;
}

/* ---- parked responses ----------------------------------------------------------------- */

/* A JoinGroup / SyncGroup response handed to the state machine.  If it
 * completes inside the handler, the handler answers BK_DONE; later, the
 * callback finishes the slot itself. */
typedef struct parked {
    bk_resp_t *resp;
    bool in_handler;
    bool done;
} parked_t;

static parked_t *parked_new(bk_resp_t *resp)
{
    parked_t *p = malloc(sizeof *p);
    if (p)
        *p = (parked_t){resp, true, false};
    return p;
}

static void parked_complete(parked_t *p)
{
    if (p->in_handler) {
        p->done = true;
        return;
    }
    bk_resp_finish(p->resp);
    free(p);
}

/* After the state machine ran: BK_DONE or BK_ASYNC, and re-arm the timer. */
static int parked_return(sl_broker_t *b, parked_t *p)
{
    bk_groups_schedule(b);
    p->in_handler = false;
    if (!p->done)
        return BK_ASYNC;
    free(p);
    return BK_DONE;
}

static void write_join(bk_resp_t *resp, const grp_join_result_t *res)
{
    int16_t v = resp->api_version;
    bool f = resp->flex;
    kw_t w = bk_resp_writer(resp);
    if (v >= 2)
        kw_i32(&w, 0); /* throttle_time_ms */
    kw_i16(&w, res->error);
    kw_i32(&w, res->generation);
    kw_cstring(&w, f, res->protocol_name ? res->protocol_name : "");
    kw_cstring(&w, f, res->leader_id ? res->leader_id : "");
    kw_cstring(&w, f, res->member_id ? res->member_id : "");
    const grp_group_t *g = res->group;
    kw_arr(&w, f, g ? g->nmembers : 0);
    for (const grp_member_t *m = g ? g->members : NULL; m; m = m->next) {
        int32_t len;
        const uint8_t *meta = grp_member_metadata(m, res->protocol_name, &len);
        kw_cstring(&w, f, m->id);
        if (v >= 5)
            kw_cstring(&w, f, m->instance_id);
        kw_bytes(&w, f, meta, len);
        kw_tags(&w, f);
    }
    kw_tags(&w, f);
    if (w.err)
        sl_log(SL_ERROR, "group", "out of memory writing a JoinGroup response");
}

static void on_join_done(void *ctx, const grp_join_result_t *res)
{
    parked_t *p = ctx;
    write_join(p->resp, res);
    parked_complete(p);
}

static void write_sync(bk_resp_t *resp, int16_t error, const uint8_t *assignment, int32_t len)
{
    bool f = resp->flex;
    kw_t w = bk_resp_writer(resp);
    if (resp->api_version >= 1)
        kw_i32(&w, 0);
    kw_i16(&w, error);
    kw_bytes(&w, f, assignment, len > 0 ? len : 0);
    kw_tags(&w, f);
}

static void on_sync_done(void *ctx, int16_t error, const uint8_t *assignment, int32_t len)
{
    parked_t *p = ctx;
    write_sync(p->resp, error, assignment, len);
    parked_complete(p);
}

/* ---- FindCoordinator -------------------------------------------------------------------- */

int bk_handle_find_coordinator(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_string(&req->r, f, false); /* key: every group and transaction is ours */
    int8_t key_type = v >= 1 ? kr_i8(&req->r) : 0;
    if (f)
        kr_tags(&req->r);
    if (req->r.err)
        return BK_BAD;
    bool ok = key_type == 0 || key_type == 1;
    kw_t w = bk_resp_writer(resp);
    if (v >= 1)
        kw_i32(&w, 0);
    kw_i16(&w, ok ? SL_KERR_NONE : SL_KERR_INVALID_REQUEST);
    if (v >= 1)
        kw_cstring(&w, f, ok ? NULL : "unknown coordinator key type");
    kw_i32(&w, ok ? b->cfg.node_id : -1);
    kw_cstring(&w, f, ok ? b->cfg.host : "");
    kw_i32(&w, ok ? b->port : -1);
    kw_tags(&w, f);
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- JoinGroup -------------------------------------------------------------------------- */

/* "/127.0.0.1" from the connection's "127.0.0.1:port", as Kafka shows a client host. */
static void client_host(const bk_conn_t *conn, char *buf, size_t cap)
{
    const char *peer = conn ? conn->peer : "";
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
        peer++;
        n -= 2;
    }
    snprintf(buf, cap, "/%.*s", (int)n, peer);
}

int bk_handle_join_group(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_t *r = &req->r;
    kstr_t group = kr_string(r, f, false);
    int32_t session_ms = kr_i32(r);
    int32_t rebalance_ms = v >= 1 ? kr_i32(r) : session_ms;
    kstr_t member = kr_string(r, f, false);
    kstr_t instance = v >= 5 ? kr_string(r, f, true) : (kstr_t){NULL, -1};
    kstr_t ptype = kr_string(r, f, false);
    int32_t n = kr_arr(r, f, f ? 3 : 6);
    grp_protocol_t *protos = calloc(n > 0 ? (size_t)n : 1, sizeof *protos);
    if (!protos)
        return BK_BAD;
    bool bad = false;
    for (int32_t i = 0; i < n && !r->err; i++) {
        protos[i].name = kstr_dup(kr_string(r, f, false), &bad);
        kstr_t meta = kr_bytes_flex(r, f);
        protos[i].meta = (const uint8_t *)meta.p;
        protos[i].meta_len = meta.len;
        if (f)
            kr_tags(r);
    }
    if (f)
        kr_tags(r);
    bool cid_bad = false;
    char *type = kstr_dup(ptype, &bad), *cid = kstr_dup(req->client_id, &cid_bad);
    parked_t *p = r->err ? NULL : parked_new(resp);
    int rc = BK_BAD;
    if (!p)
        goto out;
    char gid[GRP_ID_MAX + 1], mid[MEMBER_ID_MAX + 1], iid[MEMBER_ID_MAX + 1], host[64];
    int16_t early = SL_KERR_NONE;
    if (!bk_kstr_cstr(group, gid, sizeof gid) || !*gid)
        early = SL_KERR_INVALID_GROUP_ID;
    else if (!bk_kstr_cstr(member, mid, sizeof mid) ||
             (instance.len >= 0 && !bk_kstr_cstr(instance, iid, sizeof iid)))
        early = SL_KERR_UNKNOWN_MEMBER_ID;
    else if (bad || !type)
        early = SL_KERR_INCONSISTENT_GROUP_PROTOCOL;
    for (int32_t i = 0; i < n && !early; i++)
        if (!protos[i].name)
            early = SL_KERR_INCONSISTENT_GROUP_PROTOCOL;
    if (early) {
        grp_join_result_t res = {early, -1, NULL, "", "", NULL};
        on_join_done(p, &res);
    } else {
        client_host(req->conn, host, sizeof host);
        grp_join_req_t jr = {
            .group_id = gid,
            .member_id = mid,
            .instance_id = instance.len >= 0 ? iid : NULL,
            .client_id = cid ? cid : "",
            .client_host = host,
            .session_timeout_ms = session_ms,
            .rebalance_timeout_ms = rebalance_ms,
            .protocol_type = type,
            .protocols = protos,
            .nprotocols = n,
            .require_known_member_id = v >= 4,
        };
        grp_join(&b->groups->coord, &jr, bk_groups_now(), on_join_done, p);
    }
    rc = parked_return(b, p);
out:
    for (int32_t i = 0; i < n; i++)
        free((char *)protos[i].name);
    free(protos);
    free(type);
    free(cid);
    return rc;
}

/* ---- SyncGroup ------------------------------------------------------------------------------ */

int bk_handle_sync_group(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_t *r = &req->r;
    kstr_t group = kr_string(r, f, false);
    int32_t generation = kr_i32(r);
    kstr_t member = kr_string(r, f, false);
    if (v >= 3)
        kr_string(r, f, true); /* group_instance_id: members are dynamic here */
    int32_t n = kr_arr(r, f, f ? 3 : 6);
    grp_assignment_t *as = calloc(n > 0 ? (size_t)n : 1, sizeof *as);
    if (!as)
        return BK_BAD;
    int32_t nas = 0;
    bool bad = false;
    for (int32_t i = 0; i < n && !r->err; i++) {
        char *id = kstr_dup(kr_string(r, f, false), &bad);
        kstr_t data = kr_bytes_flex(r, f);
        if (f)
            kr_tags(r);
        if (id)
            as[nas++] = (grp_assignment_t){id, (const uint8_t *)data.p, data.len};
    }
    if (f)
        kr_tags(r);
    int rc = BK_BAD;
    parked_t *p = r->err ? NULL : parked_new(resp);
    if (p) {
        char gid[GRP_ID_MAX + 1], mid[MEMBER_ID_MAX + 1];
        if (!bk_kstr_cstr(group, gid, sizeof gid) || !*gid)
            on_sync_done(p, SL_KERR_INVALID_GROUP_ID, NULL, 0);
        else if (!bk_kstr_cstr(member, mid, sizeof mid))
            on_sync_done(p, SL_KERR_UNKNOWN_MEMBER_ID, NULL, 0);
        else
            grp_sync(&b->groups->coord, gid, generation, mid, as, nas, bk_groups_now(), on_sync_done, p);
        rc = parked_return(b, p);
    }
    for (int32_t i = 0; i < nas; i++)
        free((char *)as[i].member_id);
    free(as);
    return rc;
}

/* ---- Heartbeat, LeaveGroup -------------------------------------------------------------------- */

int bk_handle_heartbeat(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_t *r = &req->r;
    kstr_t group = kr_string(r, f, false);
    int32_t generation = kr_i32(r);
    kstr_t member = kr_string(r, f, false);
    if (v >= 3)
        kr_string(r, f, true); /* group_instance_id */
    if (f)
        kr_tags(r);
    if (r->err)
        return BK_BAD;
    char gid[GRP_ID_MAX + 1], mid[MEMBER_ID_MAX + 1];
    int16_t err;
    if (!bk_kstr_cstr(group, gid, sizeof gid) || !*gid)
        err = SL_KERR_INVALID_GROUP_ID;
    else if (!bk_kstr_cstr(member, mid, sizeof mid))
        err = SL_KERR_UNKNOWN_MEMBER_ID;
    else
        err = grp_heartbeat(&b->groups->coord, gid, generation, mid, bk_groups_now());
    bk_groups_schedule(b);
    kw_t w = bk_resp_writer(resp);
    if (v >= 1)
        kw_i32(&w, 0);
    kw_i16(&w, err);
    kw_tags(&w, f);
    return w.err ? BK_BAD : BK_DONE;
}

int bk_handle_leave_group(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_t *r = &req->r;
    kstr_t group = kr_string(r, f, false);
    char gid[GRP_ID_MAX + 1];
    bool gid_ok = bk_kstr_cstr(group, gid, sizeof gid) && *gid;
    int64_t now = bk_groups_now();
    kw_t w = bk_resp_writer(resp);
    if (v < 3) {
        kstr_t member = kr_string(r, f, false);
        if (f)
            kr_tags(r);
        if (r->err)
            return BK_BAD;
        char mid[MEMBER_ID_MAX + 1];
        int16_t err = !gid_ok ? SL_KERR_INVALID_GROUP_ID
                      : !bk_kstr_cstr(member, mid, sizeof mid) || !*mid
                          ? SL_KERR_UNKNOWN_MEMBER_ID
                          : grp_leave(&b->groups->coord, gid, mid, NULL, now);
        if (v >= 1)
            kw_i32(&w, 0);
        kw_i16(&w, err);
    } else {
        /* Validate the whole member list before anyone leaves. */
        int32_t n = kr_arr(r, f, f ? 3 : 4);
        kr_t list = *r;
        for (int32_t i = 0; i < n && !r->err; i++) {
            kr_string(r, f, false);
            kr_string(r, f, true);
            if (v >= 5)
                kr_string(r, f, true); /* reason */
            if (f)
                kr_tags(r);
        }
        if (f)
            kr_tags(r);
        if (r->err)
            return BK_BAD;
        kw_i32(&w, 0);
        kw_i16(&w, gid_ok ? SL_KERR_NONE : SL_KERR_INVALID_GROUP_ID);
        kw_arr(&w, f, gid_ok ? n : 0);
        for (int32_t i = 0; i < n && gid_ok; i++) {
            kstr_t member = kr_string(&list, f, false), instance = kr_string(&list, f, true);
            if (v >= 5)
                kr_string(&list, f, true);
            if (f)
                kr_tags(&list);
            char mid[MEMBER_ID_MAX + 1], iid[MEMBER_ID_MAX + 1];
            bool has_iid = instance.len >= 0 && bk_kstr_cstr(instance, iid, sizeof iid);
            int16_t err = SL_KERR_UNKNOWN_MEMBER_ID;
            if (bk_kstr_cstr(member, mid, sizeof mid) && (*mid || has_iid))
                err = grp_leave(&b->groups->coord, gid, mid, has_iid ? iid : NULL, now);
            kw_string(&w, f, member.p, member.len);
            kw_string(&w, f, instance.p, instance.len);
            kw_i16(&w, err);
            kw_tags(&w, f);
        }
    }
    kw_tags(&w, f);
    bk_groups_schedule(b);
    return w.err ? BK_BAD : BK_DONE;
}

/* ---- ListGroups, DescribeGroups, DeleteGroups ------------------------------------------------ */

/* Groups known only by their committed offsets are listed as Empty, as
 * Kafka lists them after loading its offsets topic. */
typedef struct list_ctx {
    grp_coord_t *coord;
    kw_t *w;        /* NULL: count only */
    bool flex;
    int32_t count;
} list_ctx_t;

static int list_stored_group(void *arg, const char *group, int32_t len)
{
    list_ctx_t *lc = arg;
    char gid[GRP_ID_MAX + 1];
    if (!bk_kstr_cstr((kstr_t){group, len}, gid, sizeof gid) || grp_find(lc->coord, gid))
        return 0;
    lc->count++;
    if (lc->w) {
        kw_string(lc->w, lc->flex, group, len);
        kw_cstring(lc->w, lc->flex, "");
        kw_tags(lc->w, lc->flex);
    }
    return 0;
}

int bk_handle_list_groups(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    bool f = req->flex;
    if (f)
        kr_tags(&req->r);
    if (req->r.err)
        return BK_BAD;
    grp_coord_t *c = &b->groups->coord;
    ofs_txn_t *t = NULL;
    sl_err_t err = {0};
    int16_t error = ofs_begin(b->groups->offsets, false, &t, &err) ? SL_KERR_COORDINATOR_NOT_AVAILABLE : 0;
    list_ctx_t lc = {c, NULL, f, 0};
    for (grp_group_t *g = c->groups; g; g = g->next)
        lc.count++;
    if (t)
        ofs_list_groups(t, list_stored_group, &lc);
    kw_t w = bk_resp_writer(resp);
    if (req->api_version >= 1)
        kw_i32(&w, 0);
    kw_i16(&w, error);
    kw_arr(&w, f, lc.count);
    for (grp_group_t *g = c->groups; g; g = g->next) {
        kw_cstring(&w, f, g->id);
        kw_cstring(&w, f, g->protocol_type ? g->protocol_type : "");
        kw_tags(&w, f);
    }
    lc.w = &w;
    lc.count = 0;
    if (t)
        ofs_list_groups(t, list_stored_group, &lc);
    kw_tags(&w, f);
    ofs_abort(t);
    return w.err ? BK_BAD : BK_DONE;
}

static void describe_group(sl_broker_t *b, ofs_txn_t *t, kw_t *w, int16_t v, bool f, kstr_t name)
{
    char gid[GRP_ID_MAX + 1];
    bool valid = bk_kstr_cstr(name, gid, sizeof gid) && *gid;
    grp_group_t *g = valid ? grp_find(&b->groups->coord, gid) : NULL;
    const char *state = !valid ? "" : g ? grp_state_name(g->state) : t && ofs_group_exists(t, gid) ? "Empty" : "Dead";
    bool stable = g && g->state == GRP_STABLE;
    kw_i16(w, valid ? SL_KERR_NONE : SL_KERR_INVALID_GROUP_ID);
    kw_string(w, f, name.p, name.len);
    kw_cstring(w, f, state);
    kw_cstring(w, f, g && g->protocol_type ? g->protocol_type : "");
    kw_cstring(w, f, stable && g->protocol_name ? g->protocol_name : "");
    kw_arr(w, f, g ? g->nmembers : 0);
    for (grp_member_t *m = g ? g->members : NULL; m; m = m->next) {
        int32_t mlen = 0;
        const uint8_t *meta = stable ? grp_member_metadata(m, g->protocol_name, &mlen) : NULL;
        kw_cstring(w, f, m->id);
        if (v >= 4)
            kw_cstring(w, f, m->instance_id);
        kw_cstring(w, f, m->client_id);
        kw_cstring(w, f, m->client_host);
        kw_bytes(w, f, meta, mlen);
        kw_bytes(w, f, stable ? m->assignment : NULL, stable ? m->assignment_len : 0);
        kw_tags(w, f);
    }
    if (v >= 3)
        kw_i32(w, INT32_MIN); /* authorized operations: not computed */
    kw_tags(w, f);
}

int bk_handle_describe_groups(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    int16_t v = req->api_version;
    bool f = req->flex;
    kr_t *r = &req->r;
    int32_t n = kr_arr(r, f, f ? 1 : 2);
    kr_t names = *r;
    for (int32_t i = 0; i < n && !r->err; i++)
        kr_string(r, f, false);
    if (v >= 3)
        kr_i8(r); /* include_authorized_operations */
    if (f)
        kr_tags(r);
    if (r->err)
        return BK_BAD;
    ofs_txn_t *t = NULL;
    sl_err_t err = {0};
    ofs_begin(b->groups->offsets, false, &t, &err);
    kw_t w = bk_resp_writer(resp);
    if (v >= 1)
        kw_i32(&w, 0);
    kw_arr(&w, f, n);
    for (int32_t i = 0; i < n; i++)
        describe_group(b, t, &w, v, f, kr_string(&names, f, false));
    kw_tags(&w, f);
    ofs_abort(t);
    return w.err ? BK_BAD : BK_DONE;
}

int bk_handle_delete_groups(sl_broker_t *b, bk_req_t *req, bk_resp_t *resp)
{
    bool f = req->flex;
    kr_t *r = &req->r;
    int32_t n = kr_arr(r, f, f ? 1 : 2);
    kr_t list = *r;
    for (int32_t i = 0; i < n && !r->err; i++)
        kr_string(r, f, false);
    if (f)
        kr_tags(r);
    if (r->err)
        return BK_BAD;
    int16_t *errs = calloc(n > 0 ? (size_t)n : 1, sizeof *errs);
    if (!errs)
        return BK_BAD;
    /* One write transaction for the whole request. */
    sl_err_t err = {0};
    ofs_txn_t *t = NULL;
    int rc = ofs_begin(b->groups->offsets, true, &t, &err);
    kr_t names = list;
    for (int32_t i = 0; i < n; i++) {
        char gid[GRP_ID_MAX + 1];
        kstr_t name = kr_string(&names, f, false);
        if (!bk_kstr_cstr(name, gid, sizeof gid) || !*gid) {
            errs[i] = SL_KERR_INVALID_GROUP_ID;
            continue;
        }
        if (rc) {
            errs[i] = SL_KERR_COORDINATOR_NOT_AVAILABLE;
            continue;
        }
        bool known = grp_find(&b->groups->coord, gid) || ofs_group_exists(t, gid);
        errs[i] = grp_delete(&b->groups->coord, gid);
        if (errs[i] == SL_KERR_NONE && !known)
            errs[i] = SL_KERR_GROUP_ID_NOT_FOUND;
        else if (errs[i] == SL_KERR_NONE && ofs_delete_group(t, gid, &err))
            errs[i] = SL_KERR_UNKNOWN_SERVER_ERROR;
    }
    if (!rc && ofs_commit(t, &err)) {
        sl_log(SL_ERROR, "group", "DeleteGroups: %s", err.msg);
        for (int32_t i = 0; i < n; i++)
            if (errs[i] == SL_KERR_NONE)
                errs[i] = SL_KERR_UNKNOWN_SERVER_ERROR;
    }
    bk_groups_schedule(b);
    kw_t w = bk_resp_writer(resp);
    kw_i32(&w, 0);
    kw_arr(&w, f, n);
    names = list;
    for (int32_t i = 0; i < n; i++) {
        kstr_t name = kr_string(&names, f, false);
        kw_string(&w, f, name.p, name.len);
        kw_i16(&w, errs[i]);
        kw_tags(&w, f);
    }
    kw_tags(&w, f);
    free(errs);
    return w.err ? BK_BAD : BK_DONE;
}
