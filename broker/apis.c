/* The table of Kafka APIs this broker implements: key, version range (what
 * ApiVersions advertises, so only what is implemented), the first flexible
 * version from the message definitions, and the handler.  Ranges keep to
 * non-flexible versions where the clients we test with allow it. */
#include "broker/bk.h"

const bk_api_t bk_apis[] = {
    {SL_KAPI_PRODUCE, 0, 8, 9, bk_handle_produce},
    {SL_KAPI_FETCH, 4, 11, 12, bk_handle_fetch},
    {SL_KAPI_LIST_OFFSETS, 1, 5, 6, bk_handle_list_offsets},
    {SL_KAPI_METADATA, 0, 8, 9, bk_handle_metadata},
    {SL_KAPI_OFFSET_COMMIT, 2, 7, 8, bk_handle_offset_commit},
    {SL_KAPI_OFFSET_FETCH, 1, 5, 6, bk_handle_offset_fetch},
    {SL_KAPI_FIND_COORDINATOR, 0, 2, 3, bk_handle_find_coordinator},
    {SL_KAPI_JOIN_GROUP, 0, 5, 6, bk_handle_join_group},
    {SL_KAPI_HEARTBEAT, 0, 3, 4, bk_handle_heartbeat},
    {SL_KAPI_LEAVE_GROUP, 0, 3, 4, bk_handle_leave_group},
    {SL_KAPI_SYNC_GROUP, 0, 3, 4, bk_handle_sync_group},
    {SL_KAPI_DESCRIBE_GROUPS, 0, 4, 5, bk_handle_describe_groups},
    {SL_KAPI_LIST_GROUPS, 0, 2, 3, bk_handle_list_groups},
    {SL_KAPI_API_VERSIONS, 0, 3, 3, bk_handle_api_versions},
    {SL_KAPI_CREATE_TOPICS, 0, 4, 5, bk_handle_create_topics},
    {SL_KAPI_DELETE_TOPICS, 0, 3, 4, bk_handle_delete_topics},
    {SL_KAPI_INIT_PRODUCER_ID, 0, 1, 2, bk_handle_init_producer_id},
    {SL_KAPI_DESCRIBE_CONFIGS, 0, 3, 4, bk_handle_describe_configs},
    {SL_KAPI_DELETE_GROUPS, 0, 1, 2, bk_handle_delete_groups},
};

const int bk_napis = (int)(sizeof bk_apis / sizeof bk_apis[0]);

const bk_api_t *bk_api_find(int16_t key)
{
    for (int i = 0; i < bk_napis; i++)
        if (bk_apis[i].key == key)
            return &bk_apis[i];
    return NULL;
}
