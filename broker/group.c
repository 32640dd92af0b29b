/* The consumer-group state machine (Kafka's classic group protocol):
 * Empty -> PreparingRebalance -> CompletingRebalance -> Stable, members with
 * session and rebalance timeouts, generations, leader election and protocol
 * choice.  Pure: no sockets and no clock of its own (callers pass `now`), and
 * parked JoinGroup / SyncGroup requests are completion callbacks, so unit
 * tests drive it directly and proto_group.c wraps it for the wire. */
#include "broker/group.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#define CLIENT_ID_IN_MEMBER_ID 100 /* longest client id prefix kept in a member id */

const char *grp_state_name(grp_state_t s)
{
    switch (s) {
    case GRP_EMPTY:
        return "Empty";
    case GRP_PREPARING_REBALANCE:
        return "PreparingRebalance";
    case GRP_COMPLETING_REBALANCE:
        return "CompletingRebalance";
    case GRP_STABLE:
        return "Stable";
    case GRP_DEAD:
        return "Dead";
    }
    return "Unknown";
}

/* ---- memory ----------------------------------------------------------------------- */

/* Out of memory in the coordinator is not survivable in a useful way: the
 * alternative is half-updated group state that no client could recover. */
static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        sl_log(SL_ERROR, "group", "out of memory");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static uint8_t *xmemdup(const uint8_t *p, int32_t len)
{
    if (len <= 0)
        return NULL;
    return memcpy(xmalloc((size_t)len), p, (size_t)len);
}

static grp_protocol_t *protocols_copy(const grp_protocol_t *src, int n)
{
    grp_protocol_t *p = xmalloc(sizeof *p * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        p[i].name = xstrdup(src[i].name);
        p[i].meta_len = src[i].meta_len > 0 ? src[i].meta_len : 0;
        p[i].meta = xmemdup(src[i].meta, src[i].meta_len);
    }
    return p;
}

static void protocols_free(grp_protocol_t *p, int n)
{
    for (int i = 0; i < n; i++) {
        free((char *)p[i].name);
        free((uint8_t *)p[i].meta);
    }
    free(p);
}

static bool protocols_equal(const grp_protocol_t *a, int na, const grp_protocol_t *b, int nb)
{
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++) {
        int32_t la = a[i].meta_len > 0 ? a[i].meta_len : 0, lb = b[i].meta_len > 0 ? b[i].meta_len : 0;
        if (strcmp(a[i].name, b[i].name) || la != lb || (la && memcmp(a[i].meta, b[i].meta, (size_t)la)))
            return false;
    }
    return true;
}

static void member_free(grp_member_t *m)
{
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    protocols_free(m->protocols, m->nprotocols);
    free(m->assignment);
    free(m);
}

static void pending_free_all(grp_group_t *g)
{
    while (g->pending) {
        grp_pending_t *p = g->pending;
        g->pending = p->next;
        free(p->id);
        free(p);
    }
}

/* ---- lookups -------------------------------------------------------------------------- */

grp_group_t *grp_find(grp_coord_t *c, const char *group_id)
{
    for (grp_group_t *g = c->groups; g; g = g->next)
        if (!strcmp(g->id, group_id))
            return g;
    return NULL;
}

grp_member_t *grp_member_find(const grp_group_t *g, const char *member_id)
{
    for (grp_member_t *m = g->members; m; m = m->next)
        if (!strcmp(m->id, member_id))
            return m;
    return NULL;
}

static grp_member_t *member_by_instance(const grp_group_t *g, const char *instance_id)
{
    for (grp_member_t *m = g->members; m; m = m->next)
        if (m->instance_id && !strcmp(m->instance_id, instance_id))
            return m;
    return NULL;
}

static grp_pending_t **pending_find(grp_group_t *g, const char *member_id)
{
    for (grp_pending_t **pp = &g->pending; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->id, member_id))
            return pp;
    return NULL;
}

static void pending_remove(grp_pending_t **pp)
{
    grp_pending_t *p = *pp;
    *pp = p->next;
    free(p->id);
    free(p);
}

const uint8_t *grp_member_metadata(const grp_member_t *m, const char *name, int32_t *len)
{
    for (int i = 0; name && i < m->nprotocols; i++) {
        if (!strcmp(m->protocols[i].name, name)) {
            *len = m->protocols[i].meta_len;
            return m->protocols[i].meta;
        }
    }
    *len = 0;
    return NULL;
}

static bool member_supports(const grp_member_t *m, const char *name)
{
    for (int i = 0; i < m->nprotocols; i++)
        if (!strcmp(m->protocols[i].name, name))
            return true;
    return false;
}

/* ---- groups ----------------------------------------------------------------------------- */

void grp_coord_init(grp_coord_t *c, const grp_coord_config_t *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
}

static grp_group_t *group_new(grp_coord_t *c, const char *id)
{
    grp_group_t *g = xmalloc(sizeof *g);
    memset(g, 0, sizeof *g);
    g->id = xstrdup(id);
    g->state = GRP_EMPTY;
    g->next = c->groups;
    c->groups = g;
    return g;
}

static void join_fail(grp_join_cb cb, void *ctx, int16_t error, const char *member_id)
{
    grp_join_result_t res = {error, -1, NULL, "", member_id ? member_id : "", NULL};
    cb(ctx, &res);
}

/* Complete a member's parked requests with `error` (it is leaving or the
 * coordinator is going away). */
static void member_fail_parked(grp_member_t *m, int16_t error)
{
    if (m->join_cb) {
        grp_join_cb cb = m->join_cb;
        m->join_cb = NULL;
        join_fail(cb, m->join_ctx, error, m->id);
    }
    if (m->sync_cb) {
        grp_sync_cb cb = m->sync_cb;
        m->sync_cb = NULL;
        cb(m->sync_ctx, error, NULL, 0);
    }
}

static void group_free(grp_group_t *g, int16_t error)
{
    while (g->members) {
        grp_member_t *m = g->members;
        g->members = m->next;
        member_fail_parked(m, error);
        member_free(m);
    }
    pending_free_all(g);
    free(g->id);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->leader_id);
    free(g);
}

static void group_unlink(grp_coord_t *c, grp_group_t *g)
{
    for (grp_group_t **pp = &c->groups; *pp; pp = &(*pp)->next) {
        if (*pp == g) {
            *pp = g->next;
            return;
        }
    }
}

/* An empty group with nobody about to join holds nothing worth keeping:
 * committed offsets live in the store, not here. */
static void maybe_drop(grp_coord_t *c, grp_group_t *g)
{
    if (g->state == GRP_EMPTY && !g->members && !g->pending) {
        group_unlink(c, g);
        group_free(g, SL_KERR_COORDINATOR_NOT_AVAILABLE);
    }
}

void grp_coord_free(grp_coord_t *c)
{
    while (c->groups) {
        grp_group_t *g = c->groups;
        c->groups = g->next;
        group_free(g, SL_KERR_COORDINATOR_NOT_AVAILABLE);
    }
}

/* ---- the rebalance ------------------------------------------------------------------------ */

/* The protocol every member supports, chosen by vote: each member votes for
 * the first one in its own preference order; ties go to the leader's order. */
static const char *select_protocol(const grp_group_t *g)
{
    const grp_member_t *first = g->members;
    if (!first)
        return NULL;
    const char *best = NULL;
    int best_votes = -1;
    for (int i = 0; i < first->nprotocols; i++) {
        const char *cand = first->protocols[i].name;
        bool common = true;
        for (const grp_member_t *m = g->members; m && common; m = m->next)
            common = member_supports(m, cand);
        if (!common)
            continue;
        int votes = 0;
        for (const grp_member_t *m = g->members; m; m = m->next) {
            for (int j = 0; j < m->nprotocols; j++) {
                const char *pn = m->protocols[j].name;
                bool all = true;
                for (const grp_member_t *o = g->members; o && all; o = o->next)
                    all = member_supports(o, pn);
                if (all) {
                    votes += !strcmp(pn, cand);
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best ? best : (first->nprotocols ? first->protocols[0].name : NULL);
}

/* Would a member with these protocols fit the group (ignoring `self`)? */
static bool protocols_compatible(const grp_group_t *g, const grp_member_t *self, const char *protocol_type,
                                 const grp_protocol_t *protocols, int n)
{
    bool others = false;
    for (const grp_member_t *m = g->members; m; m = m->next)
        others |= m != self;
    if (!others)
        return true;
    if (!g->protocol_type || strcmp(g->protocol_type, protocol_type))
        return false;
    for (int i = 0; i < n; i++) {
        bool all = true;
        for (const grp_member_t *m = g->members; m && all; m = m->next)
            all = m == self || member_supports(m, protocols[i].name);
        if (all)
            return true;
    }
    return false;
}

static void complete_join(grp_group_t *g, int64_t now)
{
    g->delay_until = 0;
    pending_free_all(g); /* ids handed out but not used in time: they rejoin next generation */
    g->generation++;
    free(g->protocol_name);
    g->protocol_name = NULL;
    if (!g->members) {
        g->state = GRP_EMPTY;
        free(g->protocol_type);
        free(g->leader_id);
        g->protocol_type = g->leader_id = NULL;
        sl_log(SL_INFO, "group", "group %s: generation %" PRId32 " is empty", g->id, g->generation);
        return;
    }
    g->state = GRP_COMPLETING_REBALANCE;
    g->protocol_name = xstrdup(select_protocol(g));
    if (!g->leader_id || !grp_member_find(g, g->leader_id)) {
        free(g->leader_id);
        g->leader_id = xstrdup(g->members->id);
    }
    for (grp_member_t *m = g->members; m; m = m->next) {
        m->session_deadline = now + m->session_timeout_ms;
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
    }
    sl_log(SL_INFO, "group", "group %s: generation %" PRId32 " with %d member(s), protocol %s, leader %s", g->id,
           g->generation, g->nmembers, g->protocol_name ? g->protocol_name : "-", g->leader_id);
    for (grp_member_t *m = g->members; m; m = m->next) {
        grp_join_cb cb = m->join_cb;
        if (!cb)
            continue;
        m->join_cb = NULL;
        bool leader = !strcmp(m->id, g->leader_id);
        grp_join_result_t res = {SL_KERR_NONE, g->generation, g->protocol_name, g->leader_id, m->id,
                                 leader ? g : NULL};
        cb(m->join_ctx, &res);
    }
}

/* The join phase ends when every member has rejoined and no handed-out id is
 * still expected, unless the initial delay of a new group holds it open. */
static void try_complete_join(grp_group_t *g, int64_t now)
{
    if (g->state != GRP_PREPARING_REBALANCE || g->delay_until > now || g->pending)
        return;
    for (grp_member_t *m = g->members; m; m = m->next)
        if (!m->join_cb)
            return;
    complete_join(g, now);
}

static void prepare_rebalance(grp_coord_t *c, grp_group_t *g, int64_t now)
{
    if (g->state == GRP_COMPLETING_REBALANCE) {
        /* The assignment being synced is obsolete: waiting followers retry. */
        for (grp_member_t *m = g->members; m; m = m->next) {
            if (m->sync_cb) {
                grp_sync_cb cb = m->sync_cb;
                m->sync_cb = NULL;
                cb(m->sync_ctx, SL_KERR_REBALANCE_IN_PROGRESS, NULL, 0);
            }
        }
    }
    bool was_empty = g->state == GRP_EMPTY;
    int32_t rt = 0;
    for (grp_member_t *m = g->members; m; m = m->next)
        if (m->rebalance_timeout_ms > rt)
            rt = m->rebalance_timeout_ms;
    g->state = GRP_PREPARING_REBALANCE;
    g->join_deadline = now + rt;
    g->delay_until = 0;
    int32_t delay = c->cfg.initial_rebalance_delay_ms;
    if (was_empty && delay > 0) {
        g->delay_cap = now + (rt > delay ? rt : delay);
        g->delay_until = now + delay;
        if (g->join_deadline < g->delay_cap)
            g->join_deadline = g->delay_cap;
    }
    sl_log(SL_INFO, "group", "group %s: preparing rebalance (generation %" PRId32 ", %d member(s))", g->id,
           g->generation, g->nmembers);
    try_complete_join(g, now);
}

/* After a member left or was removed: start (or move on with) a rebalance. */
static void after_member_removed(grp_coord_t *c, grp_group_t *g, int64_t now)
{
    switch (g->state) {
    case GRP_STABLE:
    case GRP_COMPLETING_REBALANCE:
        prepare_rebalance(c, g, now);
        break;
    case GRP_PREPARING_REBALANCE:
        try_complete_join(g, now);
        break;
    default:
        break;
    }
}

static void member_remove(grp_group_t *g, grp_member_t *m, const char *why)
{
    for (grp_member_t **pp = &g->members; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    g->nmembers--;
    sl_log(SL_INFO, "group", "group %s: member %s %s", g->id, m->id, why);
    member_fail_parked(m, SL_KERR_UNKNOWN_MEMBER_ID);
    if (g->leader_id && !strcmp(g->leader_id, m->id)) {
        free(g->leader_id);
        g->leader_id = NULL;
    }
    member_free(m);
}

/* ---- JoinGroup ---------------------------------------------------------------------------- */

/* "<client id>-<random UUID>", as Kafka forms member ids. */
static char *member_id_new(grp_coord_t *c, const char *client_id)
{
    uint8_t u[16];
    if (getrandom(u, sizeof u, GRND_NONBLOCK) != (ssize_t)sizeof u) {
        uint64_t x = (uint64_t)sl_mono_ns() ^ (++c->id_seq * 0x9E3779B97F4A7C15ull);
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            u[i] = (uint8_t)(x >> 56);
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    char buf[CLIENT_ID_IN_MEMBER_ID + 48];
    int n = snprintf(buf, sizeof buf, "%.*s-", CLIENT_ID_IN_MEMBER_ID, client_id ? client_id : "");
    for (int i = 0; i < 16; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%02x", (i == 4 || i == 6 || i == 8 || i == 10) ? "-" : "",
                      u[i]);
    return xstrdup(buf);
}

static void member_set_protocols(grp_member_t *m, const grp_join_req_t *req)
{
    protocols_free(m->protocols, m->nprotocols);
    m->protocols = protocols_copy(req->protocols, req->nprotocols);
    m->nprotocols = req->nprotocols;
    m->session_timeout_ms = req->session_timeout_ms;
    m->rebalance_timeout_ms = req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
}

static void park_join(grp_member_t *m, grp_join_cb cb, void *ctx)
{
    if (m->join_cb) /* a retried JoinGroup replaces the one still parked */
        join_fail(m->join_cb, m->join_ctx, SL_KERR_REBALANCE_IN_PROGRESS, m->id);
    m->join_cb = cb;
    m->join_ctx = ctx;
}

static void add_member(grp_coord_t *c, grp_group_t *g, const grp_join_req_t *req, char *id, int64_t now,
                       grp_join_cb cb, void *ctx)
{
    grp_member_t *m = xmalloc(sizeof *m);
    memset(m, 0, sizeof *m);
    m->id = id;
    m->instance_id = xstrdup(req->instance_id);
    m->client_id = xstrdup(req->client_id ? req->client_id : "");
    m->client_host = xstrdup(req->client_host ? req->client_host : "");
    member_set_protocols(m, req);
    m->session_deadline = now + m->session_timeout_ms;
    m->join_cb = cb;
    m->join_ctx = ctx;
    grp_member_t **tail = &g->members;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    g->nmembers++;
    if (!g->protocol_type)
        g->protocol_type = xstrdup(req->protocol_type);
    sl_log(SL_INFO, "group", "group %s: member %s joined", g->id, m->id);
    if (g->state == GRP_PREPARING_REBALANCE) {
        /* A new member during the initial delay holds the door open a little longer. */
        if (g->delay_until > now) {
            int64_t until = now + c->cfg.initial_rebalance_delay_ms;
            g->delay_until = until < g->delay_cap ? until : g->delay_cap;
        }
        try_complete_join(g, now);
    } else {
        prepare_rebalance(c, g, now);
    }
}

/* Answer a JoinGroup at once with the current generation (a member that
 * rejoins unchanged while its group is syncing or stable). */
static void join_answer_current(grp_group_t *g, grp_member_t *m, grp_join_cb cb, void *ctx)
{
    bool leader = g->leader_id && !strcmp(m->id, g->leader_id);
    grp_join_result_t res = {SL_KERR_NONE, g->generation, g->protocol_name, g->leader_id ? g->leader_id : "",
                             m->id, leader ? g : NULL};
    cb(ctx, &res);
}

static void join_known(grp_coord_t *c, grp_group_t *g, const grp_join_req_t *req, int64_t now, grp_join_cb cb,
                       void *ctx)
{
    grp_pending_t **pp = pending_find(g, req->member_id);
    if (pp) {
        if (!protocols_compatible(g, NULL, req->protocol_type, req->protocols, req->nprotocols)) {
            join_fail(cb, ctx, SL_KERR_INCONSISTENT_GROUP_PROTOCOL, req->member_id);
            return;
        }
        pending_remove(pp);
        add_member(c, g, req, xstrdup(req->member_id), now, cb, ctx);
        return;
    }
    grp_member_t *m = grp_member_find(g, req->member_id);
    if (!m) {
        join_fail(cb, ctx, SL_KERR_UNKNOWN_MEMBER_ID, req->member_id);
        return;
    }
    if (!protocols_compatible(g, m, req->protocol_type, req->protocols, req->nprotocols)) {
        join_fail(cb, ctx, SL_KERR_INCONSISTENT_GROUP_PROTOCOL, req->member_id);
        return;
    }
    bool same = protocols_equal(m->protocols, m->nprotocols, req->protocols, req->nprotocols);
    bool leader = g->leader_id && !strcmp(g->leader_id, m->id);
    m->session_deadline = now + req->session_timeout_ms;
    switch (g->state) {
    case GRP_PREPARING_REBALANCE:
        member_set_protocols(m, req);
        park_join(m, cb, ctx);
        try_complete_join(g, now);
        break;
    case GRP_COMPLETING_REBALANCE:
    case GRP_STABLE:
        /* A follower rejoining unchanged gets the current generation back; a
         * leader rejoining, or changed metadata, means a new assignment. */
        if (same && (g->state == GRP_COMPLETING_REBALANCE || !leader)) {
            join_answer_current(g, m, cb, ctx);
        } else {
            member_set_protocols(m, req);
            park_join(m, cb, ctx);
            prepare_rebalance(c, g, now);
        }
        break;
    default:
        join_fail(cb, ctx, SL_KERR_UNKNOWN_MEMBER_ID, req->member_id);
        break;
    }
}

void grp_join(grp_coord_t *c, const grp_join_req_t *req, int64_t now, grp_join_cb cb, void *ctx)
{
    const char *mid = req->member_id ? req->member_id : "";
    if (!req->group_id || !*req->group_id || strlen(req->group_id) > GRP_ID_MAX) {
        join_fail(cb, ctx, SL_KERR_INVALID_GROUP_ID, mid);
        return;
    }
    if (req->session_timeout_ms < c->cfg.min_session_ms || req->session_timeout_ms > c->cfg.max_session_ms) {
        join_fail(cb, ctx, SL_KERR_INVALID_SESSION_TIMEOUT, mid);
        return;
    }
    if (!req->protocol_type || !*req->protocol_type || req->nprotocols <= 0) {
        join_fail(cb, ctx, SL_KERR_INCONSISTENT_GROUP_PROTOCOL, mid);
        return;
    }
    grp_group_t *g = grp_find(c, req->group_id);
    if (*mid) {
        if (!g)
            join_fail(cb, ctx, SL_KERR_UNKNOWN_MEMBER_ID, mid);
        else
            join_known(c, g, req, now, cb, ctx);
    } else {
        if (!g)
            g = group_new(c, req->group_id);
        if (!protocols_compatible(g, NULL, req->protocol_type, req->protocols, req->nprotocols)) {
            join_fail(cb, ctx, SL_KERR_INCONSISTENT_GROUP_PROTOCOL, "");
        } else if (req->require_known_member_id) {
            grp_pending_t *p = xmalloc(sizeof *p);
            p->id = member_id_new(c, req->client_id);
            p->deadline = now + req->session_timeout_ms;
            p->next = g->pending;
            g->pending = p;
            join_fail(cb, ctx, SL_KERR_MEMBER_ID_REQUIRED, p->id);
        } else {
            add_member(c, g, req, member_id_new(c, req->client_id), now, cb, ctx);
        }
    }
    if (g)
        maybe_drop(c, g);
}

/* ---- SyncGroup, Heartbeat, LeaveGroup ------------------------------------------------------ */

void grp_sync(grp_coord_t *c, const char *group_id, int32_t generation, const char *member_id,
              const grp_assignment_t *assignments, int nassignments, int64_t now, grp_sync_cb cb, void *ctx)
{
    grp_group_t *g = grp_find(c, group_id);
    grp_member_t *m = g ? grp_member_find(g, member_id) : NULL;
    if (!m) {
        cb(ctx, SL_KERR_UNKNOWN_MEMBER_ID, NULL, 0);
        return;
    }
    if (generation != g->generation) {
        cb(ctx, SL_KERR_ILLEGAL_GENERATION, NULL, 0);
        return;
    }
    m->session_deadline = now + m->session_timeout_ms;
    switch (g->state) {
    case GRP_PREPARING_REBALANCE:
        cb(ctx, SL_KERR_REBALANCE_IN_PROGRESS, NULL, 0);
        return;
    case GRP_STABLE:
        cb(ctx, SL_KERR_NONE, m->assignment, m->assignment_len);
        return;
    case GRP_COMPLETING_REBALANCE:
        break;
    default:
        cb(ctx, SL_KERR_UNKNOWN_MEMBER_ID, NULL, 0);
        return;
    }
    if (m->sync_cb)
        m->sync_cb(m->sync_ctx, SL_KERR_REBALANCE_IN_PROGRESS, NULL, 0);
    m->sync_cb = cb;
    m->sync_ctx = ctx;
    if (!g->leader_id || strcmp(g->leader_id, m->id))
        return; /* a follower waits for the leader's assignment */
    for (int i = 0; i < nassignments; i++) {
        grp_member_t *t = grp_member_find(g, assignments[i].member_id);
        if (!t)
            continue;
        free(t->assignment);
        t->assignment = xmemdup(assignments[i].data, assignments[i].len);
        t->assignment_len = assignments[i].len > 0 ? assignments[i].len : 0;
    }
    g->state = GRP_STABLE;
    sl_log(SL_INFO, "group", "group %s: generation %" PRId32 " is stable", g->id, g->generation);
    for (grp_member_t *o = g->members; o; o = o->next) {
        if (o->sync_cb) {
            grp_sync_cb ocb = o->sync_cb;
            o->sync_cb = NULL;
            o->session_deadline = now + o->session_timeout_ms;
            ocb(o->sync_ctx, SL_KERR_NONE, o->assignment, o->assignment_len);
        }
    }
}

int16_t grp_heartbeat(grp_coord_t *c, const char *group_id, int32_t generation, const char *member_id, int64_t now)
{
    grp_group_t *g = grp_find(c, group_id);
    grp_member_t *m = g ? grp_member_find(g, member_id) : NULL;
    if (!m)
        return SL_KERR_UNKNOWN_MEMBER_ID;
    if (generation != g->generation)
        return SL_KERR_ILLEGAL_GENERATION;
    m->session_deadline = now + m->session_timeout_ms;
    return g->state == GRP_PREPARING_REBALANCE ? SL_KERR_REBALANCE_IN_PROGRESS : SL_KERR_NONE;
}

int16_t grp_leave(grp_coord_t *c, const char *group_id, const char *member_id, const char *instance_id,
                  int64_t now)
{
    grp_group_t *g = grp_find(c, group_id);
    if (!g)
        return SL_KERR_UNKNOWN_MEMBER_ID;
    grp_member_t *m = NULL;
    if (member_id && *member_id) {
        grp_pending_t **pp = pending_find(g, member_id);
        if (pp) {
            pending_remove(pp);
            try_complete_join(g, now);
            maybe_drop(c, g);
            return SL_KERR_NONE;
        }
        m = grp_member_find(g, member_id);
        if (m && instance_id && (!m->instance_id || strcmp(m->instance_id, instance_id)))
            m = NULL;
    } else if (instance_id) {
        m = member_by_instance(g, instance_id);
    }
    if (!m)
        return SL_KERR_UNKNOWN_MEMBER_ID;
    member_remove(g, m, "left the group");
    after_member_removed(c, g, now);
    maybe_drop(c, g);
    return SL_KERR_NONE;
}

int16_t grp_commit_check(grp_coord_t *c, const char *group_id, int32_t generation, const char *member_id,
                         int64_t now)
{
    grp_group_t *g = grp_find(c, group_id);
    if (!g || g->state == GRP_EMPTY)
        return generation < 0 ? SL_KERR_NONE : SL_KERR_UNKNOWN_MEMBER_ID;
    if (g->state == GRP_COMPLETING_REBALANCE)
        return SL_KERR_REBALANCE_IN_PROGRESS;
    grp_member_t *m = grp_member_find(g, member_id);
    if (!m)
        return SL_KERR_UNKNOWN_MEMBER_ID;
    if (generation != g->generation)
        return SL_KERR_ILLEGAL_GENERATION;
    m->session_deadline = now + m->session_timeout_ms; /* a commit is a sign of life */
    return SL_KERR_NONE;
}

int16_t grp_delete(grp_coord_t *c, const char *group_id)
{
    grp_group_t *g = grp_find(c, group_id);
    if (!g)
        return SL_KERR_NONE;
    if (g->state != GRP_EMPTY || g->members)
        return SL_KERR_NON_EMPTY_GROUP;
    group_unlink(c, g);
    group_free(g, SL_KERR_COORDINATOR_NOT_AVAILABLE);
    return SL_KERR_NONE;
}

/* ---- time ------------------------------------------------------------------------------------ */

/* A member is kept alive while it has a request parked here: a rejoin is
 * bounded by the join deadline, a sync by the leader's own session. */
static bool session_expired(const grp_member_t *m, int64_t now)
{
    return !m->join_cb && !m->sync_cb && m->session_deadline <= now;
}

static void group_tick(grp_coord_t *c, grp_group_t *g, int64_t now)
{
    bool pending_expired = false;
    for (grp_pending_t **pp = &g->pending; *pp;) {
        if ((*pp)->deadline <= now) {
            pending_remove(pp);
            pending_expired = true;
        } else {
            pp = &(*pp)->next;
        }
    }
    /* Removing a member may complete a join phase, which resets every
     * deadline, so rescan from the head after each removal. */
    for (bool again = true; again;) {
        again = false;
        for (grp_member_t *m = g->members; m; m = m->next) {
            if (session_expired(m, now)) {
                member_remove(g, m, "session timed out");
                after_member_removed(c, g, now);
                again = true;
                break;
            }
        }
    }
    if (g->state == GRP_PREPARING_REBALANCE && now >= g->join_deadline) {
        pending_free_all(g);
        for (bool again = true; again;) {
            again = false;
            for (grp_member_t *m = g->members; m; m = m->next) {
                if (!m->join_cb) {
                    member_remove(g, m, "did not rejoin within the rebalance timeout");
                    again = true;
                    break;
                }
            }
        }
        complete_join(g, now);
    } else if (pending_expired || g->delay_until) {
        try_complete_join(g, now);
    }
}

void grp_tick(grp_coord_t *c, int64_t now)
{
    for (grp_group_t *g = c->groups, *next; g; g = next) {
        next = g->next;
        group_tick(c, g, now);
        maybe_drop(c, g);
    }
}

static void earliest(int64_t *at, int64_t t)
{
    if (t < *at)
        *at = t;
}

int64_t grp_next_deadline(const grp_coord_t *c)
{
    int64_t at = INT64_MAX;
    for (const grp_group_t *g = c->groups; g; g = g->next) {
        for (const grp_pending_t *p = g->pending; p; p = p->next)
            earliest(&at, p->deadline);
        for (const grp_member_t *m = g->members; m; m = m->next)
            if (!m->join_cb && !m->sync_cb)
                earliest(&at, m->session_deadline);
        if (g->state == GRP_PREPARING_REBALANCE) {
            earliest(&at, g->join_deadline);
            if (g->delay_until)
                earliest(&at, g->delay_until);
        }
    }
    return at;
}
