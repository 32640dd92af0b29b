/* Unit tests for the consumer-group coordinator without sockets: the state
 * machine in broker/group.c driven with explicit clocks (joins, the
 * MEMBER_ID_REQUIRED handshake, syncs, heartbeats, session and rebalance
 * timeouts, the initial delay, protocol choice, commit checks) and the LMDB
 * offsets store in broker/offsets.c (round trips, scans, reopen, expiry). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/group.h"
#include "testutil.h"

#define SESSION 10000
#define REBALANCE 30000

/* ---- harness ------------------------------------------------------------------------ */

typedef struct jres {
    int calls;
    int16_t error;
    int32_t generation;
    char member[256];
    char leader[256];
    char protocol[64];
    int nmembers; /* -1 unless this member is the leader */
    char meta0[64]; /* the first member's metadata, as the leader sees it */
} jres_t;

static void on_join(void *ctx, const grp_join_result_t *r)
{
    jres_t *j = ctx;
    j->calls++;
    j->error = r->error;
    j->generation = r->generation;
    snprintf(j->member, sizeof j->member, "%s", r->member_id);
    snprintf(j->leader, sizeof j->leader, "%s", r->leader_id);
    snprintf(j->protocol, sizeof j->protocol, "%s", r->protocol_name ? r->protocol_name : "");
    j->nmembers = r->group ? r->group->nmembers : -1;
    j->meta0[0] = '\0';
    if (r->group && r->group->members) {
        int32_t len;
        const uint8_t *m = grp_member_metadata(r->group->members, r->protocol_name, &len);
        snprintf(j->meta0, sizeof j->meta0, "%.*s", (int)len, m ? (const char *)m : "");
    }
}

typedef struct sres {
    int calls;
    int16_t error;
    char data[64];
} sres_t;

static void on_sync(void *ctx, int16_t error, const uint8_t *a, int32_t len)
{
    sres_t *s = ctx;
    s->calls++;
    s->error = error;
    snprintf(s->data, sizeof s->data, "%.*s", (int)len, a ? (const char *)a : "");
}

static const grp_protocol_t RANGE[] = {{"range", (const uint8_t *)"meta", 4}};

static void coord_init(grp_coord_t *c, int32_t delay)
{
    grp_coord_config_t cfg = {6000, 300000, delay};
    grp_coord_init(c, &cfg);
}

static void join_with(grp_coord_t *c, const char *member, const grp_protocol_t *p, int n, bool v4, int64_t now,
                      jres_t *out)
{
    memset(out, 0, sizeof *out);
    grp_join_req_t req = {.group_id = "g", .member_id = member, .client_id = "cl", .client_host = "/127.0.0.1",
                          .session_timeout_ms = SESSION, .rebalance_timeout_ms = REBALANCE,
                          .protocol_type = "consumer", .protocols = p, .nprotocols = n,
                          .require_known_member_id = v4};
    grp_join(c, &req, now, on_join, out);
}

static void join(grp_coord_t *c, const char *member, int64_t now, jres_t *out)
{
    join_with(c, member, RANGE, 1, false, now, out);
}

static void sync_(grp_coord_t *c, const char *member, int32_t gen, const grp_assignment_t *a, int n, int64_t now,
                  sres_t *out)
{
    memset(out, 0, sizeof *out);
    grp_sync(c, "g", gen, member, a, n, now, on_sync, out);
}

/* A stable group of one member; returns its generation. */
static int32_t stable_one(grp_coord_t *c, jres_t *a, int64_t now)
{
    join(c, "", now, a);
    assert_int_equal(a->calls, 1);
    assert_int_equal(a->error, SL_KERR_NONE);
    sres_t s;
    grp_assignment_t as[] = {{a->member, (const uint8_t *)"A", 1}};
    sync_(c, a->member, a->generation, as, 1, now, &s);
    assert_int_equal(s.error, SL_KERR_NONE);
    assert_string_equal(s.data, "A");
    return a->generation;
}

/* A stable group of two members a (leader) and b. */
static int32_t stable_two(grp_coord_t *c, jres_t *a, jres_t *b, int64_t now)
{
    stable_one(c, a, now);
    join(c, "", now, b);
    assert_int_equal(b->calls, 0); /* waits for a to rejoin */
    char aid[256];
    snprintf(aid, sizeof aid, "%s", a->member);
    join(c, aid, now, a);
    assert_int_equal(a->calls, 1);
    assert_int_equal(b->calls, 1);
    assert_int_equal(a->generation, b->generation);
    sres_t sa, sb;
    grp_assignment_t as[] = {{a->member, (const uint8_t *)"A", 1}, {b->member, (const uint8_t *)"B", 1}};
    sync_(c, b->member, b->generation, NULL, 0, now, &sb);
    sync_(c, a->member, a->generation, as, 2, now, &sa);
    assert_string_equal(sb.data, "B");
    assert_string_equal(sa.data, "A");
    assert_int_equal(grp_find(c, "g")->state, GRP_STABLE);
    return a->generation;
}

/* ---- joins ---------------------------------------------------------------------------------- */

static void test_join_v4_requires_member_id_then_completes(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t j;
    join_with(&c, "", RANGE, 1, true, 0, &j);
    assert_int_equal(j.calls, 1);
    assert_int_equal(j.error, SL_KERR_MEMBER_ID_REQUIRED);
    assert_int_equal(j.generation, -1);
    assert_true(strncmp(j.member, "cl-", 3) == 0 && strlen(j.member) == 3 + 36);
    char id[256];
    snprintf(id, sizeof id, "%s", j.member);
    join_with(&c, id, RANGE, 1, true, 10, &j);
    assert_int_equal(j.error, SL_KERR_NONE);
    assert_int_equal(j.generation, 1);
    assert_string_equal(j.member, id);
    assert_string_equal(j.leader, id);
    assert_string_equal(j.protocol, "range");
    assert_int_equal(j.nmembers, 1);
    assert_string_equal(j.meta0, "meta");
    assert_int_equal(grp_find(&c, "g")->state, GRP_COMPLETING_REBALANCE);
    grp_coord_free(&c);
}

static void test_join_unknown_member_id_is_rejected(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t j;
    join(&c, "nobody", 0, &j);
    assert_int_equal(j.error, SL_KERR_UNKNOWN_MEMBER_ID);
    assert_null(grp_find(&c, "g"));
    grp_coord_free(&c);
}

static void test_join_validates_session_timeout_and_group_id(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t j = {0};
    grp_join_req_t req = {.group_id = "g", .member_id = "", .client_id = "cl", .session_timeout_ms = 1000,
                          .rebalance_timeout_ms = REBALANCE, .protocol_type = "consumer", .protocols = RANGE,
                          .nprotocols = 1};
    grp_join(&c, &req, 0, on_join, &j);
    assert_int_equal(j.error, SL_KERR_INVALID_SESSION_TIMEOUT);
    req.session_timeout_ms = 400000;
    grp_join(&c, &req, 0, on_join, &j);
    assert_int_equal(j.error, SL_KERR_INVALID_SESSION_TIMEOUT);
    req.session_timeout_ms = SESSION;
    req.group_id = "";
    grp_join(&c, &req, 0, on_join, &j);
    assert_int_equal(j.error, SL_KERR_INVALID_GROUP_ID);
    req.group_id = "g";
    req.nprotocols = 0;
    grp_join(&c, &req, 0, on_join, &j);
    assert_int_equal(j.error, SL_KERR_INCONSISTENT_GROUP_PROTOCOL);
    assert_int_equal(j.calls, 4);
    assert_null(c.groups); /* nothing was left behind */
    grp_coord_free(&c);
}

static void test_second_member_waits_for_all_members_to_rejoin(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    int32_t gen1 = stable_one(&c, &a, 0);
    join(&c, "", 100, &b);
    assert_int_equal(b.calls, 0);
    assert_int_equal(grp_find(&c, "g")->state, GRP_PREPARING_REBALANCE);
    assert_int_equal(grp_heartbeat(&c, "g", gen1, a.member, 200), SL_KERR_REBALANCE_IN_PROGRESS);
    char aid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    join(&c, aid, 300, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(a.generation, gen1 + 1);
    assert_int_equal(b.generation, gen1 + 1);
    assert_string_equal(a.leader, aid); /* the first member stays leader */
    assert_string_equal(b.leader, aid);
    assert_int_equal(a.nmembers, 2);  /* the leader sees every member */
    assert_int_equal(b.nmembers, -1); /* followers see none */
    assert_string_not_equal(a.member, b.member);
    grp_coord_free(&c);
}

static void test_followers_sync_waits_for_leader_assignment(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    stable_one(&c, &a, 0);
    join(&c, "", 0, &b);
    char aid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    join(&c, aid, 0, &a);
    sres_t sb, sa;
    sync_(&c, b.member, b.generation, NULL, 0, 10, &sb);
    assert_int_equal(sb.calls, 0); /* parked */
    assert_int_equal(grp_heartbeat(&c, "g", b.generation, b.member, 10), SL_KERR_NONE);
    grp_assignment_t as[] = {{b.member, (const uint8_t *)"part-1", 6}, {"ghost", (const uint8_t *)"x", 1}};
    sync_(&c, a.member, a.generation, as, 2, 20, &sa);
    assert_int_equal(sb.calls, 1);
    assert_int_equal(sb.error, SL_KERR_NONE);
    assert_string_equal(sb.data, "part-1");
    assert_int_equal(sa.calls, 1);
    assert_string_equal(sa.data, ""); /* the leader gave itself nothing */
    assert_int_equal(grp_find(&c, "g")->state, GRP_STABLE);
    /* A late SyncGroup in a stable group gets the assignment at once. */
    sync_(&c, b.member, b.generation, NULL, 0, 30, &sb);
    assert_string_equal(sb.data, "part-1");
    grp_coord_free(&c);
}

static void test_sync_and_heartbeat_reject_stale_members(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a;
    int32_t gen = stable_one(&c, &a, 0);
    sres_t s;
    sync_(&c, a.member, gen + 5, NULL, 0, 0, &s);
    assert_int_equal(s.error, SL_KERR_ILLEGAL_GENERATION);
    sync_(&c, "stranger", gen, NULL, 0, 0, &s);
    assert_int_equal(s.error, SL_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(grp_heartbeat(&c, "g", gen, a.member, 1), SL_KERR_NONE);
    assert_int_equal(grp_heartbeat(&c, "g", gen - 1, a.member, 1), SL_KERR_ILLEGAL_GENERATION);
    assert_int_equal(grp_heartbeat(&c, "g", gen, "stranger", 1), SL_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(grp_heartbeat(&c, "nogroup", gen, a.member, 1), SL_KERR_UNKNOWN_MEMBER_ID);
    grp_coord_free(&c);
}

static void test_rejoin_during_sync_fails_parked_syncs(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    stable_one(&c, &a, 0);
    join(&c, "", 0, &b);
    char aid[256], bid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    join(&c, aid, 0, &a);
    snprintf(bid, sizeof bid, "%s", b.member);
    sres_t sb;
    sync_(&c, bid, b.generation, NULL, 0, 0, &sb);
    assert_int_equal(sb.calls, 0);
    /* A follower rejoining with new metadata starts another round. */
    grp_protocol_t changed[] = {{"range", (const uint8_t *)"meta2", 5}};
    join_with(&c, bid, changed, 1, false, 5, &b);
    assert_int_equal(sb.calls, 1);
    assert_int_equal(sb.error, SL_KERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(grp_find(&c, "g")->state, GRP_PREPARING_REBALANCE);
    grp_coord_free(&c);
}

static void test_follower_rejoin_unchanged_gets_current_generation(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    int32_t gen = stable_two(&c, &a, &b, 0);
    char bid[256];
    snprintf(bid, sizeof bid, "%s", b.member);
    join(&c, bid, 10, &b);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.error, SL_KERR_NONE);
    assert_int_equal(b.generation, gen);
    assert_int_equal(grp_find(&c, "g")->state, GRP_STABLE);
    grp_coord_free(&c);
}

/* ---- timeouts ---------------------------------------------------------------------------- */

static void test_rebalance_timeout_removes_members_not_rejoined(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b, x;
    int32_t gen = stable_two(&c, &a, &b, 0);
    join(&c, "", 1000, &x); /* a third member: a and b must rejoin */
    char aid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    join(&c, aid, 1500, &a);
    assert_int_equal(a.calls, 0);
    /* b keeps heartbeating but never rejoins. */
    for (int64_t t = 2000; t < 1000 + REBALANCE; t += 3000) {
        assert_int_equal(grp_heartbeat(&c, "g", gen, b.member, t), SL_KERR_REBALANCE_IN_PROGRESS);
        grp_tick(&c, t);
        assert_int_equal(a.calls, 0);
    }
    assert_int_equal(grp_next_deadline(&c), 1000 + REBALANCE);
    grp_tick(&c, 1000 + REBALANCE);
    assert_int_equal(a.calls, 1);
    assert_int_equal(x.calls, 1);
    assert_int_equal(a.generation, gen + 1);
    assert_int_equal(a.nmembers, 2);
    assert_int_equal(grp_heartbeat(&c, "g", gen + 1, b.member, 1000 + REBALANCE), SL_KERR_UNKNOWN_MEMBER_ID);
    grp_coord_free(&c);
}

static void test_session_timeout_removes_member_and_rebalances(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    int32_t gen = stable_two(&c, &a, &b, 0);
    for (int64_t t = 3000; t <= 9000; t += 3000)
        assert_int_equal(grp_heartbeat(&c, "g", gen, a.member, t), SL_KERR_NONE);
    grp_tick(&c, SESSION - 1);
    assert_int_equal(grp_find(&c, "g")->state, GRP_STABLE);
    grp_tick(&c, SESSION);
    assert_int_equal(grp_find(&c, "g")->state, GRP_PREPARING_REBALANCE);
    assert_int_equal(grp_find(&c, "g")->nmembers, 1);
    assert_int_equal(grp_heartbeat(&c, "g", gen, a.member, SESSION + 1), SL_KERR_REBALANCE_IN_PROGRESS);
    char aid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    join(&c, aid, SESSION + 2, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.generation, gen + 1);
    assert_int_equal(a.nmembers, 1);
    grp_coord_free(&c);
}

static void test_unused_member_id_expires_after_session_timeout(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t j;
    join_with(&c, "", RANGE, 1, true, 0, &j);
    assert_int_equal(j.error, SL_KERR_MEMBER_ID_REQUIRED);
    assert_non_null(grp_find(&c, "g"));
    assert_int_equal(grp_next_deadline(&c), SESSION);
    grp_tick(&c, SESSION);
    assert_null(grp_find(&c, "g"));
    grp_coord_free(&c);
}

static void test_initial_delay_holds_first_rebalance(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 3000);
    jres_t a, b;
    join(&c, "", 0, &a);
    assert_int_equal(a.calls, 0);
    join(&c, "", 1000, &b); /* extends the delay to 4000 */
    grp_tick(&c, 3500);
    assert_int_equal(a.calls, 0);
    assert_int_equal(grp_next_deadline(&c), 4000);
    grp_tick(&c, 4000);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_int_equal(a.generation, 1);
    assert_int_equal(a.nmembers, 2);
    /* Later rebalances are not delayed. */
    jres_t x;
    join(&c, "", 5000, &x);
    char aid[256], bid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    snprintf(bid, sizeof bid, "%s", b.member);
    join(&c, aid, 5000, &a);
    join(&c, bid, 5000, &b);
    assert_int_equal(x.calls, 1);
    assert_int_equal(x.generation, 2);
    grp_coord_free(&c);
}

/* ---- leave, protocols, commits, delete ----------------------------------------------------- */

static void test_leave_triggers_rebalance_and_last_leave_empties_group(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    int32_t gen = stable_two(&c, &a, &b, 0);
    assert_int_equal(grp_leave(&c, "g", b.member, NULL, 10), SL_KERR_NONE);
    assert_int_equal(grp_find(&c, "g")->state, GRP_PREPARING_REBALANCE);
    assert_int_equal(grp_leave(&c, "g", b.member, NULL, 11), SL_KERR_UNKNOWN_MEMBER_ID);
    char aid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    join(&c, aid, 20, &a);
    assert_int_equal(a.generation, gen + 1);
    assert_int_equal(grp_leave(&c, "g", aid, NULL, 30), SL_KERR_NONE);
    assert_null(grp_find(&c, "g")); /* empty and nobody expected: forgotten */
    assert_int_equal(grp_leave(&c, "g", aid, NULL, 40), SL_KERR_UNKNOWN_MEMBER_ID);
    grp_coord_free(&c);
}

static void test_leave_of_parked_joiner_completes_its_join(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    stable_two(&c, &a, &b, 0);
    jres_t x;
    join(&c, "", 0, &x);
    char xid[256];
    snprintf(xid, sizeof xid, "%s", grp_find(&c, "g")->members->next->next->id);
    assert_int_equal(grp_leave(&c, "g", xid, NULL, 1), SL_KERR_NONE);
    assert_int_equal(x.calls, 1);
    assert_int_equal(x.error, SL_KERR_UNKNOWN_MEMBER_ID);
    grp_coord_free(&c);
}

static void test_protocol_chosen_is_supported_by_all(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    grp_protocol_t pa[] = {{"range", (const uint8_t *)"ra", 2}, {"roundrobin", (const uint8_t *)"rr", 2}};
    grp_protocol_t pb[] = {{"cooperative-sticky", NULL, 0}, {"roundrobin", (const uint8_t *)"rb", 2}};
    grp_protocol_t pc[] = {{"sticky", NULL, 0}};
    jres_t a, b, x;
    join_with(&c, "", pa, 2, false, 0, &a);
    join_with(&c, "", pb, 2, false, 0, &b);
    join_with(&c, "", pc, 1, false, 0, &x);
    assert_int_equal(x.error, SL_KERR_INCONSISTENT_GROUP_PROTOCOL);
    char aid[256];
    snprintf(aid, sizeof aid, "%s", a.member);
    join_with(&c, aid, pa, 2, false, 0, &a);
    assert_int_equal(a.error, SL_KERR_NONE);
    assert_string_equal(a.protocol, "roundrobin");
    assert_string_equal(b.protocol, "roundrobin");
    assert_string_equal(a.meta0, "rr"); /* metadata of the chosen protocol */
    grp_coord_free(&c);
}

static void test_commit_check_follows_membership(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    assert_int_equal(grp_commit_check(&c, "g", -1, "", 0), SL_KERR_NONE); /* simple commit */
    assert_int_equal(grp_commit_check(&c, "g", 3, "m", 0), SL_KERR_UNKNOWN_MEMBER_ID);
    jres_t a, b;
    join(&c, "", 0, &a);
    assert_int_equal(grp_commit_check(&c, "g", a.generation, a.member, 0), SL_KERR_REBALANCE_IN_PROGRESS);
    sres_t s;
    sync_(&c, a.member, a.generation, NULL, 0, 0, &s);
    assert_int_equal(grp_commit_check(&c, "g", a.generation, a.member, 0), SL_KERR_NONE);
    assert_int_equal(grp_commit_check(&c, "g", a.generation + 1, a.member, 0), SL_KERR_ILLEGAL_GENERATION);
    assert_int_equal(grp_commit_check(&c, "g", a.generation, "other", 0), SL_KERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(grp_commit_check(&c, "g", -1, "", 0), SL_KERR_UNKNOWN_MEMBER_ID);
    /* During PreparingRebalance the current generation may still commit. */
    join(&c, "", 1, &b);
    assert_int_equal(grp_commit_check(&c, "g", a.generation, a.member, 2), SL_KERR_NONE);
    grp_coord_free(&c);
}

static void test_delete_refuses_group_with_members(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a;
    stable_one(&c, &a, 0);
    assert_int_equal(grp_delete(&c, "g"), SL_KERR_NON_EMPTY_GROUP);
    assert_int_equal(grp_leave(&c, "g", a.member, NULL, 1), SL_KERR_NONE);
    assert_int_equal(grp_delete(&c, "g"), SL_KERR_NONE);
    assert_null(grp_find(&c, "g"));
    grp_coord_free(&c);
}

static void test_coord_free_completes_parked_requests(void **state)
{
    (void)state;
    grp_coord_t c;
    coord_init(&c, 0);
    jres_t a, b;
    stable_one(&c, &a, 0);
    join(&c, "", 0, &b);
    assert_int_equal(b.calls, 0);
    grp_coord_free(&c);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.error, SL_KERR_COORDINATOR_NOT_AVAILABLE);
}

/* ---- offsets store -------------------------------------------------------------------------- */

static ofs_store_t *store_open(const char *dir)
{
    ofs_store_t *s = NULL;
    sl_err_t err = {0};
    if (ofs_open(dir, &s, &err) != 0) {
        fprintf(stderr, "ofs_open: %s\n", err.msg);
        abort();
    }
    return s;
}

static void put(ofs_store_t *s, const char *group, const char *topic, int32_t part, int64_t off, int64_t ts,
                const char *meta)
{
    ofs_txn_t *t;
    assert_int_equal(ofs_begin(s, true, &t, NULL), 0);
    ofs_value_t v = {off, 7, ts, meta, meta ? (int32_t)strlen(meta) : -1};
    assert_int_equal(ofs_put(t, group, topic, (int32_t)strlen(topic), part, &v, NULL), 0);
    assert_int_equal(ofs_commit(t, NULL), 0);
}

static int64_t get(ofs_store_t *s, const char *group, const char *topic, int32_t part, char *meta, size_t cap)
{
    ofs_txn_t *t;
    assert_int_equal(ofs_begin(s, false, &t, NULL), 0);
    ofs_value_t v;
    int64_t out = -1;
    if (ofs_get(t, group, topic, (int32_t)strlen(topic), part, &v) == 0) {
        out = v.offset;
        if (meta)
            snprintf(meta, cap, "%.*s", v.metadata_len < 0 ? 4 : (int)v.metadata_len,
                     v.metadata_len < 0 ? "null" : v.metadata);
    }
    ofs_abort(t);
    return out;
}

typedef struct scan_log {
    char text[512];
} scan_log_t;

static int scan_cb(void *arg, const char *topic, int32_t tl, int32_t part, const ofs_value_t *v)
{
    scan_log_t *l = arg;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%.*s/%d=%lld ", (int)tl, topic, part, (long long)v->offset);
    return 0;
}

static int list_cb(void *arg, const char *group, int32_t len)
{
    scan_log_t *l = arg;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%.*s ", (int)len, group);
    return 0;
}

static bool keep_g1(void *arg, const char *group)
{
    (void)arg;
    return !strcmp(group, "g1");
}

static void test_offsets_store_round_trip_scan_and_reopen(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("offsets");
    ofs_store_t *s = store_open(dir);
    put(s, "g1", "t", 0, 5, 100, "m0");
    put(s, "g1", "t", 10, 50, 100, NULL);
    put(s, "g1", "t", 2, 20, 100, "");
    put(s, "g1", "a", 1, 1, 100, NULL);
    put(s, "g", "t", 0, 99, 100, NULL); /* a group id that prefixes another */
    put(s, "g10", "t", 0, 7, 100, NULL);
    put(s, "g1", "t", 0, 6, 200, "m1"); /* overwrite */
    char meta[64];
    assert_int_equal(get(s, "g1", "t", 0, meta, sizeof meta), 6);
    assert_string_equal(meta, "m1");
    assert_int_equal(get(s, "g1", "t", 10, meta, sizeof meta), 50);
    assert_string_equal(meta, "null");
    assert_int_equal(get(s, "g1", "t", 3, NULL, 0), -1);
    assert_int_equal(get(s, "g2", "t", 0, NULL, 0), -1);

    ofs_txn_t *t;
    assert_int_equal(ofs_begin(s, false, &t, NULL), 0);
    scan_log_t l = {""};
    assert_int_equal(ofs_scan_group(t, "g1", scan_cb, &l), 0);
    assert_string_equal(l.text, "a/1=1 t/0=6 t/2=20 t/10=50 ");
    l.text[0] = '\0';
    assert_int_equal(ofs_scan_group(t, "g", scan_cb, &l), 0);
    assert_string_equal(l.text, "t/0=99 ");
    l.text[0] = '\0';
    assert_int_equal(ofs_list_groups(t, list_cb, &l), 0);
    assert_string_equal(l.text, "g g1 g10 ");
    assert_true(ofs_group_exists(t, "g10"));
    assert_false(ofs_group_exists(t, "g2"));
    ofs_abort(t);
    ofs_close(s);

    /* Committed means durable: everything is there after reopening. */
    s = store_open(dir);
    assert_int_equal(get(s, "g1", "t", 2, meta, sizeof meta), 20);
    assert_string_equal(meta, "");
    assert_int_equal(ofs_begin(s, true, &t, NULL), 0);
    assert_int_equal(ofs_delete_group(t, "g1", NULL), 0);
    assert_int_equal(ofs_commit(t, NULL), 0);
    assert_int_equal(get(s, "g1", "t", 0, NULL, 0), -1);
    assert_int_equal(get(s, "g", "t", 0, NULL, 0), 99);
    assert_int_equal(get(s, "g10", "t", 0, NULL, 0), 7);
    ofs_close(s);
    tu_rmrf(dir);
    free(dir);
}

static void test_offsets_expire_only_old_offsets_of_inactive_groups(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp("offsets");
    ofs_store_t *s = store_open(dir);
    put(s, "g1", "t", 0, 1, 100, NULL); /* old, but g1 is kept (active) */
    put(s, "g2", "t", 0, 2, 100, NULL); /* old: expires */
    put(s, "g2", "t", 1, 3, 900, NULL); /* recent: stays */
    ofs_txn_t *t;
    assert_int_equal(ofs_begin(s, true, &t, NULL), 0);
    int deleted = -1;
    assert_int_equal(ofs_expire(t, 500, keep_g1, NULL, &deleted, NULL), 0);
    assert_int_equal(ofs_commit(t, NULL), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(get(s, "g1", "t", 0, NULL, 0), 1);
    assert_int_equal(get(s, "g2", "t", 0, NULL, 0), -1);
    assert_int_equal(get(s, "g2", "t", 1, NULL, 0), 3);
    ofs_close(s);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    sl_log_set_level(SL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_v4_requires_member_id_then_completes),
        cmocka_unit_test(test_join_unknown_member_id_is_rejected),
        cmocka_unit_test(test_join_validates_session_timeout_and_group_id),
        cmocka_unit_test(test_second_member_waits_for_all_members_to_rejoin),
        cmocka_unit_test(test_followers_sync_waits_for_leader_assignment),
        cmocka_unit_test(test_sync_and_heartbeat_reject_stale_members),
        cmocka_unit_test(test_rejoin_during_sync_fails_parked_syncs),
        cmocka_unit_test(test_follower_rejoin_unchanged_gets_current_generation),
        cmocka_unit_test(test_rebalance_timeout_removes_members_not_rejoined),
        cmocka_unit_test(test_session_timeout_removes_member_and_rebalances),
        cmocka_unit_test(test_unused_member_id_expires_after_session_timeout),
        cmocka_unit_test(test_initial_delay_holds_first_rebalance),
        cmocka_unit_test(test_leave_triggers_rebalance_and_last_leave_empties_group),
        cmocka_unit_test(test_leave_of_parked_joiner_completes_its_join),
        cmocka_unit_test(test_protocol_chosen_is_supported_by_all),
        cmocka_unit_test(test_commit_check_follows_membership),
        cmocka_unit_test(test_delete_refuses_group_with_members),
        cmocka_unit_test(test_coord_free_completes_parked_requests),
        cmocka_unit_test(test_offsets_store_round_trip_scan_and_reopen),
        cmocka_unit_test(test_offsets_expire_only_old_offsets_of_inactive_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
