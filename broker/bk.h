/* Internal to broker/: the Kafka-protocol broker's shared structures.  The
 * broker runs on one libuv loop thread: connections, request decoding,
 * appends, fetches and the group coordinator all run there, so none of these
 * structures need locks.  The only other threads are each partition log's
 * flusher (fdatasync), which hand results back through bk_post(). */
#ifndef SL_BROKER_BK_H
#define SL_BROKER_BK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "broker/broker.h"
#include "broker/kwire.h"

/* ---- API keys and error codes (Kafka's names) --------------------------------- */

enum sl_kapi {
    SL_KAPI_PRODUCE = 0,
    SL_KAPI_FETCH = 1,
    SL_KAPI_LIST_OFFSETS = 2,
    SL_KAPI_METADATA = 3,
    SL_KAPI_OFFSET_COMMIT = 8,
    SL_KAPI_OFFSET_FETCH = 9,
    SL_KAPI_FIND_COORDINATOR = 10,
    SL_KAPI_JOIN_GROUP = 11,
    SL_KAPI_HEARTBEAT = 12,
    SL_KAPI_LEAVE_GROUP = 13,
    SL_KAPI_SYNC_GROUP = 14,
    SL_KAPI_DESCRIBE_GROUPS = 15,
    SL_KAPI_LIST_GROUPS = 16,
    SL_KAPI_API_VERSIONS = 18,
    SL_KAPI_CREATE_TOPICS = 19,
    SL_KAPI_DELETE_TOPICS = 20,
    SL_KAPI_DELETE_RECORDS = 21,
    SL_KAPI_INIT_PRODUCER_ID = 22,
    SL_KAPI_DESCRIBE_CONFIGS = 32,
    SL_KAPI_CREATE_PARTITIONS = 37,
    SL_KAPI_DELETE_GROUPS = 42,
};

enum sl_kerr {
    SL_KERR_UNKNOWN_SERVER_ERROR = -1,
    SL_KERR_NONE = 0,
    SL_KERR_OFFSET_OUT_OF_RANGE = 1,
    SL_KERR_CORRUPT_MESSAGE = 2,
    SL_KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    SL_KERR_INVALID_FETCH_SIZE = 4,
    SL_KERR_LEADER_NOT_AVAILABLE = 5,
    SL_KERR_NOT_LEADER_OR_FOLLOWER = 6,
    SL_KERR_REQUEST_TIMED_OUT = 7,
    SL_KERR_MESSAGE_TOO_LARGE = 10,
    SL_KERR_OFFSET_METADATA_TOO_LARGE = 12,
    SL_KERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    SL_KERR_COORDINATOR_NOT_AVAILABLE = 15,
    SL_KERR_NOT_COORDINATOR = 16,
    SL_KERR_INVALID_TOPIC_EXCEPTION = 17,
    SL_KERR_RECORD_LIST_TOO_LARGE = 18,
    SL_KERR_INVALID_REQUIRED_ACKS = 21,
    SL_KERR_ILLEGAL_GENERATION = 22,
    SL_KERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    SL_KERR_INVALID_GROUP_ID = 24,
    SL_KERR_UNKNOWN_MEMBER_ID = 25,
    SL_KERR_INVALID_SESSION_TIMEOUT = 26,
    SL_KERR_REBALANCE_IN_PROGRESS = 27,
    SL_KERR_INVALID_COMMIT_OFFSET_SIZE = 28,
    SL_KERR_UNSUPPORTED_VERSION = 35,
    SL_KERR_TOPIC_ALREADY_EXISTS = 36,
    SL_KERR_INVALID_PARTITIONS = 37,
    SL_KERR_INVALID_REPLICATION_FACTOR = 38,
    SL_KERR_INVALID_CONFIG = 40,
    SL_KERR_INVALID_REQUEST = 42,
    SL_KERR_INVALID_TXN_STATE = 48,
    SL_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    SL_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    SL_KERR_DUPLICATE_SEQUENCE_NUMBER = 46,
    SL_KERR_INVALID_PRODUCER_EPOCH = 47,
    SL_KERR_KAFKA_STORAGE_ERROR = 56,
    SL_KERR_UNKNOWN_PRODUCER_ID = 59,
    SL_KERR_NON_EMPTY_GROUP = 68,
    SL_KERR_GROUP_ID_NOT_FOUND = 69,
    SL_KERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    SL_KERR_MEMBER_ID_REQUIRED = 79,
    SL_KERR_INVALID_RECORD = 87,
    SL_KERR_UNKNOWN_TOPIC_ID = 100,
};

/* Map a log/registry status (SL_B_*) to the Kafka error code clients expect. */
int16_t bk_kerr_from_status(int status);

/* ---- topics and partitions (topics.c) --------------------------------------------- */

typedef struct bk_pstate bk_pstate_t; /* idempotent-producer state of a partition (producer.c) */

typedef struct bk_topic bk_topic_t;

typedef struct bk_partition {
    bk_topic_t *topic;
    int32_t id;
    sl_plog_t *log;
    bk_pstate_t *producers;
    const char *dir; /* partition folder, owned by topics.c; bk_pstate_open copies it (NULL: no snapshot) */
} bk_partition_t;

struct bk_topic {
    char name[SL_TOPIC_NAME_MAX + 1];
    sl_topic_info_t info;       /* as registered (partitions, config overrides) */
    sl_log_config_t cfg;        /* effective log config */
    int32_t npartitions;
    bk_partition_t *parts;
    /* Kafka-protocol traffic since the broker opened (loop thread only; read
     * through sl_broker_topic_stats, which runs there too). */
    uint64_t records_in, bytes_in;   /* Produce: batches appended */
    uint64_t records_out, bytes_out; /* Fetch: batches sent */
};

/* ---- connections, requests and responses (server.c) --------------------------------- */

typedef struct bk_conn bk_conn_t;

/* A request being handled.  Strings read from `r` point into the frame and
 * are valid only during the handler call: copy what an async handler keeps. */
typedef struct bk_req {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    bool flex;          /* flexible version: compact types and tagged fields */
    kstr_t client_id;
    kr_t r;             /* positioned at the request body */
    bk_conn_t *conn;
} bk_req_t;

/* A response slot, queued on its connection in request order.  Handlers
 * append the body through bk_resp_writer(); async handlers keep the pointer
 * and call bk_resp_finish() later on the loop thread.  If the connection
 * closes first, conn becomes NULL and finishing just frees the slot. */
typedef struct bk_resp {
    struct bk_resp *next;
    bk_conn_t *conn;
    sl_buf_t buf; /* int32 size, header, body */
    bool ready;
    bool flex;
    int16_t api_key;
    int16_t api_version;
    uv_write_t wreq;
} bk_resp_t;

static inline kw_t bk_resp_writer(bk_resp_t *resp) { return (kw_t){&resp->buf, false}; }
void bk_resp_finish(bk_resp_t *resp);

/* Handler results. */
#define BK_DONE 0   /* the body is written: send in order */
#define BK_ASYNC 1  /* the handler finishes the response later */
#define BK_NORESP 2 /* no response at all (Produce with acks=0) */
#define BK_BAD -1   /* malformed request: log and close the connection */

typedef int (*bk_handler_fn)(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);

typedef struct bk_api {
    int16_t key;
    int16_t min_version;
    int16_t max_version;
    int16_t first_flexible; /* first flexible version (from the JSON definition) */
    bk_handler_fn handler;
} bk_api_t;

/* The supported APIs, in apis.c (what ApiVersions advertises). */
extern const bk_api_t bk_apis[];
extern const int bk_napis;
const bk_api_t *bk_api_find(int16_t key);

/* ---- the broker object --------------------------------------------------------------- */

typedef struct bk_post_item {
    struct bk_post_item *next;
    void (*fn)(struct sl_broker *b, void *arg, int status);
    void *arg;
    int status;
} bk_post_item_t;

typedef struct bk_fetch bk_fetch_t; /* a parked long-poll Fetch (proto_fetch.c) */
typedef struct bk_groups bk_groups_t; /* the group coordinator (group.c) */
typedef struct bk_producers bk_producers_t; /* producer id allocation (producer.c) */

struct sl_broker {
    sl_broker_config_t cfg;
    uv_loop_t loop;
    uv_tcp_t listener;
    bool listening;
    int port;
    uv_async_t wake;            /* bk_post() items and stop requests */
    uv_timer_t tick;            /* 1 s: retention/compaction, housekeeping */
    sl_registry_t *reg;
    bk_topic_t **topics;
    int ntopics, topics_cap;
    pthread_mutex_t post_mu;
    bk_post_item_t *post_head, *post_tail;
    bool stop_requested;        /* guarded by post_mu */
    bk_fetch_t *parked;         /* long-poll fetches waiting for data */
    bk_groups_t *groups;
    bk_producers_t *producers;
    bk_conn_t *conns;           /* open connections */
    int64_t next_conn_id;
    int64_t last_maintain_ms;
    bool running;               /* sl_broker_run is serving (guarded by post_mu) */
    pthread_t loop_thread;
};

struct bk_conn {
    uv_tcp_t tcp;
    struct sl_broker *b;
    bk_conn_t *next, *prev;     /* b->conns */
    sl_buf_t in;                /* bytes read, not yet a whole frame */
    bk_resp_t *q_head, *q_tail; /* responses in request order */
    bool closing;
    bool detached;              /* no socket (bk_debug_feed): ready responses are dropped */
    int64_t id;
    char peer[64];
};

/* Close a connection (logged with reason); parked responses are detached. */
void bk_conn_close(bk_conn_t *conn, const char *reason);

/* Fuzzing and replay entry point: handle data[0..len) as the bytes a client
 * sent on a new connection, through the same framing, header decoding and
 * handlers as a socket, but with no socket: responses are built and then
 * dropped.  The connection is closed at the end and the loop run briefly, so
 * its parked requests (long-poll fetches, acks=all produces) are released
 * before the call returns.  Returns 0 when every whole frame was accepted, 1
 * when the broker closed the connection (a malformed, oversized or
 * unsupported request, as a client would see it), SL_B_ENOMEM. */
int bk_debug_feed(struct sl_broker *b, const uint8_t *data, size_t len);

/* Run fn(b, arg, status) on the loop thread.  Thread-safe; used by durable
 * callbacks from log flusher threads. */
void bk_post(struct sl_broker *b, void (*fn)(struct sl_broker *b, void *arg, int status), void *arg, int status);

/* topics.c */
int bk_topics_load(struct sl_broker *b, sl_err_t *err);
void bk_topics_close(struct sl_broker *b);
bk_topic_t *bk_topic_find(struct sl_broker *b, const char *name, int32_t len);
/* Create a topic (registry + partition folders + logs); returns a Kafka error
 * code and a message in err. */
int16_t bk_topic_create(struct sl_broker *b, const char *name, int32_t partitions,
                        const sl_topic_config_entry_t *configs, int nconfigs, bool validate_only, sl_err_t *err);
int16_t bk_topic_delete(struct sl_broker *b, const char *name, sl_err_t *err);
/* Find, or create with num.partitions when auto.create.topics.enable. */
bk_topic_t *bk_topic_get_or_create(struct sl_broker *b, kstr_t name, bool allow_create, int16_t *kerr);
bk_partition_t *bk_partition_find(struct sl_broker *b, kstr_t topic, int32_t partition);

/* Wake parked fetches that wait on partition p (its high watermark moved). */
void bk_fetch_notify(struct sl_broker *b, bk_partition_t *p);
/* Call bk_fetch_notify for p once offsets below end_offset are durable (after
 * an append): a fetch parked now or in the meantime sees the data then. */
void bk_fetch_notify_when_durable(struct sl_broker *b, bk_partition_t *p, int64_t end_offset);
void bk_fetch_drop_conn(struct sl_broker *b, bk_conn_t *conn);

/* ---- handlers ---- */
int bk_handle_api_versions(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_metadata(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_produce(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_fetch(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_list_offsets(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_create_topics(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_delete_topics(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_describe_configs(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
/* group.c / proto_group.c / proto_offsets.c */
int bk_groups_open(struct sl_broker *b, sl_err_t *err);
void bk_groups_close(struct sl_broker *b);
void bk_groups_tick(struct sl_broker *b, int64_t now_ms);  /* session timeouts, rebalance deadlines */
void bk_groups_conn_closed(struct sl_broker *b, bk_conn_t *conn); /* drop its parked join/sync responses */
int bk_handle_find_coordinator(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_join_group(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_sync_group(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_heartbeat(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_leave_group(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_offset_commit(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_offset_fetch(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_list_groups(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_describe_groups(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
int bk_handle_delete_groups(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
/* producer.c: idempotent producers */
int bk_producers_open(struct sl_broker *b, sl_err_t *err);
void bk_producers_close(struct sl_broker *b);
int bk_handle_init_producer_id(struct sl_broker *b, bk_req_t *req, bk_resp_t *resp);
/* Load a partition's producer state (snapshot + scan of the log tail). */
int bk_pstate_open(bk_partition_t *p, sl_err_t *err);
/* Write the snapshot and free. */
void bk_pstate_close(bk_partition_t *p);
/* Before appending a batch with producer_id >= 0: SL_KERR_NONE to append,
 * SL_KERR_DUPLICATE_SEQUENCE_NUMBER with *dup_base_offset set when this batch
 * was already appended (answer success with that offset, append nothing),
 * or OUT_OF_ORDER_SEQUENCE_NUMBER / INVALID_PRODUCER_EPOCH / INVALID_RECORD
 * (producer id without a sequence).  A producer with no state is accepted at
 * any sequence (Kafka >= 2.5), so UNKNOWN_PRODUCER_ID is never returned. */
int16_t bk_pstate_check(bk_partition_t *p, const sl_batch_header_t *h, int64_t *dup_base_offset);
/* After a successful append of that batch at base_offset (not after a
 * duplicate: nothing was appended). */
void bk_pstate_update(bk_partition_t *p, const sl_batch_header_t *h, int64_t base_offset);

#endif
