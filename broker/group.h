/* Internal to broker/: the consumer-group coordinator, split in three parts.
 * group.c is the pure state machine (no sockets, no clock of its own: every
 * call takes `now`), so tests drive it directly; offsets.c is the durable
 * store of committed offsets (LMDB); proto_group.c / proto_offsets.c decode
 * the Kafka requests, call into both and encode the responses. */
#ifndef SL_BROKER_GROUP_H
#define SL_BROKER_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/bk.h"

/* Longest group id we accept (INVALID_GROUP_ID beyond): the offsets key is
 * group + topic (<= 249) + 6 bytes and must fit LMDB's 511-byte key limit. */
#define GRP_ID_MAX 255

/* ---- the state machine (group.c) -------------------------------------------------- */

typedef enum grp_state {
    GRP_EMPTY,
    GRP_PREPARING_REBALANCE,
    GRP_COMPLETING_REBALANCE,
    GRP_STABLE,
    GRP_DEAD,
} grp_state_t;

/* Kafka's spelling of a state, as DescribeGroups reports it. */
const char *grp_state_name(grp_state_t s);

typedef struct grp_protocol {
    const char *name;
    const uint8_t *meta;
    int32_t meta_len;
} grp_protocol_t;

typedef struct grp_join_result {
    int16_t error;
    int32_t generation;          /* -1 on error */
    const char *protocol_name;   /* NULL on error */
    const char *leader_id;       /* "" on error */
    const char *member_id;       /* the member's id ("" when none was assigned) */
    const struct grp_group *group; /* set for the leader only: list the members */
} grp_join_result_t;

/* Completion of a JoinGroup / SyncGroup; called exactly once per request,
 * possibly from inside the call that submitted it.  Strings and bytes are
 * valid only during the callback. */
typedef void (*grp_join_cb)(void *ctx, const grp_join_result_t *res);
typedef void (*grp_sync_cb)(void *ctx, int16_t error, const uint8_t *assignment, int32_t len);

typedef struct grp_member {
    struct grp_member *next;    /* in join order: the first is the default leader */
    char *id;
    char *instance_id;          /* group.instance.id or NULL (treated as dynamic) */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    int nprotocols;
    grp_protocol_t *protocols;  /* owned copies */
    uint8_t *assignment;        /* from the leader's SyncGroup */
    int32_t assignment_len;
    int64_t session_deadline;   /* removed when reached without a heartbeat */
    grp_join_cb join_cb;        /* parked JoinGroup: the member has rejoined */
    void *join_ctx;
    grp_sync_cb sync_cb;        /* parked SyncGroup: waiting for the leader */
    void *sync_ctx;
} grp_member_t;

/* A member id handed out with MEMBER_ID_REQUIRED, not yet used to rejoin. */
typedef struct grp_pending {
    struct grp_pending *next;
    char *id;
    int64_t deadline;
} grp_pending_t;

typedef struct grp_group {
    struct grp_group *next;
    char *id;
    grp_state_t state;
    int32_t generation;
    char *protocol_type;        /* set by the first member; NULL when empty */
    char *protocol_name;        /* chosen at the end of a join phase */
    char *leader_id;
    grp_member_t *members;
    int nmembers;
    grp_pending_t *pending;
    int64_t join_deadline;      /* PreparingRebalance: give up on members not rejoined */
    int64_t delay_until;        /* first rebalance of an empty group: wait at least until */
    int64_t delay_cap;          /* ... but never past this */
} grp_group_t;

typedef struct grp_coord_config {
    int32_t min_session_ms;
    int32_t max_session_ms;
    int32_t initial_rebalance_delay_ms;
} grp_coord_config_t;

/* All groups.  Lookup is a linear scan of a list: a single embedded broker
 * has few groups; a hash table is the next step if that changes. */
typedef struct grp_coord {
    grp_coord_config_t cfg;
    grp_group_t *groups;
    uint64_t id_seq;            /* mixed into generated member ids */
} grp_coord_t;

void grp_coord_init(grp_coord_t *c, const grp_coord_config_t *cfg);
/* Frees every group; parked requests complete with COORDINATOR_NOT_AVAILABLE. */
void grp_coord_free(grp_coord_t *c);

grp_group_t *grp_find(grp_coord_t *c, const char *group_id);
grp_member_t *grp_member_find(const grp_group_t *g, const char *member_id);
/* The member's metadata for protocol `name` (NULL and 0 when it has none). */
const uint8_t *grp_member_metadata(const grp_member_t *m, const char *name, int32_t *len);

typedef struct grp_join_req {
    const char *group_id;
    const char *member_id;      /* "" for a new member */
    const char *instance_id;    /* NULL unless static membership */
    const char *client_id;
    const char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    const char *protocol_type;
    const grp_protocol_t *protocols; /* copied */
    int nprotocols;
    bool require_known_member_id;    /* JoinGroup v4+: answer MEMBER_ID_REQUIRED first */
} grp_join_req_t;

/* JoinGroup: cb fires when the join phase completes (or at once on error). */
void grp_join(grp_coord_t *c, const grp_join_req_t *req, int64_t now, grp_join_cb cb, void *ctx);

typedef struct grp_assignment {
    const char *member_id;
    const uint8_t *data;
    int32_t len;
} grp_assignment_t;

/* SyncGroup: the leader passes every member's assignment; followers pass
 * none and wait for the leader's. */
void grp_sync(grp_coord_t *c, const char *group_id, int32_t generation, const char *member_id,
              const grp_assignment_t *assignments, int nassignments, int64_t now, grp_sync_cb cb, void *ctx);

int16_t grp_heartbeat(grp_coord_t *c, const char *group_id, int32_t generation, const char *member_id, int64_t now);

/* LeaveGroup for one member, found by member id or (when member_id is "")
 * by group instance id. */
int16_t grp_leave(grp_coord_t *c, const char *group_id, const char *member_id, const char *instance_id,
                  int64_t now);

/* May this OffsetCommit proceed?  Simple commits (generation < 0) are for
 * groups without members; members must match the current generation. */
int16_t grp_commit_check(grp_coord_t *c, const char *group_id, int32_t generation, const char *member_id,
                         int64_t now);

/* DeleteGroups: drop an empty group from memory.  NON_EMPTY_GROUP while it
 * has members; NONE otherwise (whether or not it was known). */
int16_t grp_delete(grp_coord_t *c, const char *group_id);

/* Session timeouts, join deadlines, initial delays and expired pending ids. */
void grp_tick(grp_coord_t *c, int64_t now);
/* The earliest time grp_tick has work to do (INT64_MAX when none).  Cost:
 * O(groups + members); called after each group request. */
int64_t grp_next_deadline(const grp_coord_t *c);

/* ---- committed offsets (offsets.c) -------------------------------------------------- */

typedef struct ofs_store ofs_store_t;

/* A committed offset.  In results, metadata points into the store's map and
 * is valid until the read transaction that produced it ends. */
typedef struct ofs_value {
    int64_t offset;
    int32_t leader_epoch;
    int64_t commit_ts;
    const char *metadata;
    int32_t metadata_len;       /* -1: null */
} ofs_value_t;

/* Open (creating) the LMDB environment <data_dir>/groups, named DB "offsets". */
int ofs_open(const char *data_dir, ofs_store_t **out, sl_err_t *err);
void ofs_close(ofs_store_t *s);

/* Writes: one LMDB write transaction, durable (fsync'd) when ofs_commit
 * returns 0.  A failed put leaves the batch usable only for ofs_abort. */
typedef struct ofs_txn ofs_txn_t;
int ofs_begin(ofs_store_t *s, bool write, ofs_txn_t **out, sl_err_t *err);
int ofs_put(ofs_txn_t *t, const char *group, const char *topic, int32_t topic_len, int32_t partition,
            const ofs_value_t *v, sl_err_t *err);
int ofs_commit(ofs_txn_t *t, sl_err_t *err);
void ofs_abort(ofs_txn_t *t); /* also ends a read transaction */

/* Reads (any transaction).  ofs_get: 0 with *v, SL_B_ENOTFOUND, or an error. */
int ofs_get(ofs_txn_t *t, const char *group, const char *topic, int32_t topic_len, int32_t partition,
            ofs_value_t *v);
/* Every committed offset of a group, by topic then partition; stops when fn
 * returns non-zero. */
int ofs_scan_group(ofs_txn_t *t, const char *group,
                   int (*fn)(void *arg, const char *topic, int32_t topic_len, int32_t partition,
                             const ofs_value_t *v),
                   void *arg);
/* Every group id with at least one committed offset, in byte order. */
int ofs_list_groups(ofs_txn_t *t, int (*fn)(void *arg, const char *group, int32_t len), void *arg);
bool ofs_group_exists(ofs_txn_t *t, const char *group);
/* Delete every committed offset of a group (in a write transaction). */
int ofs_delete_group(ofs_txn_t *t, const char *group, sl_err_t *err);
/* Delete offsets committed before `before_ts` whose group keep() rejects
 * (offsets.retention.minutes: only groups without members expire). */
int ofs_expire(ofs_txn_t *t, int64_t before_ts, bool (*keep)(void *arg, const char *group), void *arg,
               int *deleted, sl_err_t *err);

/* ---- the broker's coordinator object (proto_group.c) ------------------------------------ */

struct bk_groups {
    grp_coord_t coord;
    ofs_store_t *offsets;
    uv_timer_t *timer;          /* fires at grp_next_deadline(); heap: freed by its close callback */
    int64_t timer_at;
    int64_t last_expire_ms;     /* wall clock of the last offsets expiry pass */
};

/* Monotonic milliseconds: the coordinator's clock for every deadline. */
int64_t bk_groups_now(void);
/* Re-arm the coordinator's timer after a state change. */
void bk_groups_schedule(struct sl_broker *b);
/* offsets.retention.minutes: drop offsets of groups without members that
 * were committed longer ago than that (proto_offsets.c). */
void bk_offsets_expire(struct sl_broker *b, int64_t now_ms);
/* Copy a wire string into buf as a C string; false when null, too long or
 * holding a NUL byte (never a valid id). */
bool bk_kstr_cstr(kstr_t s, char *buf, size_t cap);

#endif
