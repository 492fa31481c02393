/*
 * req_dispatch.c - the API table, dispatch, and ApiVersions.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"
#include "req_dispatch.h"

/* Advertised ranges follow ../shared/reference/client-matrix.md: min 0
 * everywhere; flexible versions only where the codec and handler do them. */
const struct req_api req_apis[] = {
	{ KP_API_PRODUCE, 0, 8, api_produce },
	/* v0-3: down-converted to magic 0/1 (api_fetch.c) */
	{ KP_API_FETCH, 0, 11, api_fetch },
	{ KP_API_LIST_OFFSETS, 0, 5, api_list_offsets },
	{ KP_API_METADATA, 0, 8, api_metadata },
	{ KP_API_LEADER_AND_ISR, 0, 4, api_leader_and_isr },
	{ KP_API_STOP_REPLICA, 0, 3, api_stop_replica },
	{ KP_API_UPDATE_METADATA, 0, 7, api_update_metadata },
	{ KP_API_API_VERSIONS, 0, 3, api_versions },
	{ KP_API_CREATE_TOPICS, 0, 5, api_create_topics },
	{ KP_API_DELETE_TOPICS, 0, 5, api_delete_topics },
	{ KP_API_DESCRIBE_CONFIGS, 0, 4, api_describe_configs },
	{ KP_API_ALTER_CONFIGS, 0, 1, api_alter_configs },
	{ KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1, api_incremental_alter_configs },
	{ KP_API_CREATE_PARTITIONS, 0, 2, api_create_partitions },
	{ KP_API_OFFSET_FOR_LEADER_EPOCH, 0, 4, api_offset_for_leader_epoch },
	/* groups: the ranges the client matrix recommends (no flexible
	 * versions a client would pick without needing them) */
	{ KP_API_FIND_COORDINATOR, 0, 2, api_find_coordinator },
	{ KP_API_JOIN_GROUP, 0, 5, api_join_group },
	{ KP_API_SYNC_GROUP, 0, 3, api_sync_group },
	{ KP_API_HEARTBEAT, 0, 3, api_heartbeat },
	{ KP_API_LEAVE_GROUP, 0, 3, api_leave_group },
	{ KP_API_OFFSET_COMMIT, 0, 7, api_offset_commit },
	{ KP_API_OFFSET_FETCH, 0, 5, api_offset_fetch },
	{ KP_API_OFFSET_DELETE, 0, 0, api_offset_delete },
	{ KP_API_DESCRIBE_GROUPS, 0, 4, api_describe_groups },
	{ KP_API_LIST_GROUPS, 0, 2, api_list_groups },
	{ KP_API_DELETE_GROUPS, 0, 1, api_delete_groups },
	/* answered by the kcontroller daemon (api_forward.c) */
	{ KP_API_ELECT_LEADERS, 0, 2, api_forward },
	{ KP_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0, api_forward },
	{ KP_API_LIST_PARTITION_REASSIGNMENTS, 0, 0, api_forward },
};
const int req_napis = (int)(sizeof(req_apis) / sizeof(req_apis[0]));

static const struct req_api *find_api(int16_t key)
{
	for (int i = 0; i < req_napis; i++)
		if (req_apis[i].key == key)
			return &req_apis[i];
	return NULL;
}

static void reply_api_versions(struct net_req *r, int16_t error)
{
	struct kp_api_versions_resp resp;
	struct kp_api_versions_resp_api_version *keys;

	kp_struct_init(r->api->resp, &resp);
	keys = kp_arena_calloc(&r->arena, (size_t)req_napis, sizeof(*keys));
	if (keys == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int i = 0; i < req_napis; i++) {
		keys[i].api_key = req_apis[i].key;
		keys[i].min_version = req_apis[i].min;
		keys[i].max_version = req_apis[i].max;
	}
	resp.error_code = error;
	resp.api_keys = keys;
	resp.api_keys_count = req_napis;
	net_reply(r, &resp);
}

void api_versions(struct net_req *r)
{
	reply_api_versions(r, 0);
}

void req_dispatch(struct net_req *r, struct kp_reader *body)
{
	const struct req_api *a = find_api(r->h.api_key);
	int16_t v = r->h.api_version;

	r->api = kp_api_get(r->h.api_key);
	if (a == NULL || r->api == NULL) {
		KP_WARN("%s: unknown API key %d", r->peer, r->h.api_key);
		net_req_fail(r, "unknown API");
		return;
	}
	if (v < a->min || v > a->max) {
		if (a->key == KP_API_API_VERSIONS) {
			/* answer in v0 so any client can read which versions
			 * we do speak */
			r->h.api_version = 0;
			reply_api_versions(r, KP_ERR_UNSUPPORTED_VERSION);
			return;
		}
		KP_WARN("%s: %s v%d is not supported (we do %d..%d)", r->peer,
			r->api->name, v, a->min, a->max);
		net_req_fail(r, "unsupported version");
		return;
	}
	r->body = kp_arena_alloc(&r->arena, r->api->req->size);
	if (r->body == NULL ||
	    kp_request_decode(r->api, v, body, &r->arena, r->body) < 0) {
		KP_WARN("%s: malformed %s v%d request", r->peer, r->api->name, v);
		net_req_fail(r, "malformed request");
		return;
	}
	a->fn(r);
}
