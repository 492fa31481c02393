/* SPDX-License-Identifier: Apache-2.0 */
/*
 * req_dispatch.c - the API table, dispatch, and ApiVersions.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"
#include "req_dispatch.h"

/*
 * Every API key Kafka 2.8 has, at Kafka 2.8's version ranges.  Those a
 * ZooKeeper-mode Kafka 2.8 broker lists in ApiVersions are advertised with
 * its ranges, min 0 everywhere (librdkafka checks Produce v0 before it
 * compresses); the features still to be built (DescribeProducers) and the
 * KRaft-only keys are answered with
 * a well-formed error (api_refused.c) but not advertised, so clients do
 * not think they exist.  Nothing with a known key closes the connection.
 */
const struct req_api req_apis[] = {
	{ KP_API_PRODUCE, 0, 9, true, api_produce },
	/* v0-3: down-converted to magic 0/1 (api_fetch.c) */
	{ KP_API_FETCH, 0, 12, true, api_fetch },
	{ KP_API_LIST_OFFSETS, 0, 6, true, api_list_offsets },
	{ KP_API_METADATA, 0, 11, true, api_metadata },
	{ KP_API_LEADER_AND_ISR, 0, 5, true, api_leader_and_isr },
	{ KP_API_STOP_REPLICA, 0, 3, true, api_stop_replica },
	{ KP_API_UPDATE_METADATA, 0, 7, true, api_update_metadata },
	{ KP_API_CONTROLLED_SHUTDOWN, 0, 3, true, api_controlled_shutdown },
	{ KP_API_OFFSET_COMMIT, 0, 8, true, api_offset_commit },
	{ KP_API_OFFSET_FETCH, 0, 7, true, api_offset_fetch },
	{ KP_API_FIND_COORDINATOR, 0, 3, true, api_find_coordinator },
	{ KP_API_JOIN_GROUP, 0, 7, true, api_join_group },
	{ KP_API_HEARTBEAT, 0, 4, true, api_heartbeat },
	{ KP_API_LEAVE_GROUP, 0, 4, true, api_leave_group },
	{ KP_API_SYNC_GROUP, 0, 5, true, api_sync_group },
	{ KP_API_DESCRIBE_GROUPS, 0, 5, true, api_describe_groups },
	{ KP_API_LIST_GROUPS, 0, 4, true, api_list_groups },
	{ KP_API_SASL_HANDSHAKE, 0, 1, true, api_sasl_handshake },
	{ KP_API_API_VERSIONS, 0, 3, true, api_versions },
	{ KP_API_CREATE_TOPICS, 0, 7, true, api_create_topics },
	{ KP_API_DELETE_TOPICS, 0, 6, true, api_delete_topics },
	{ KP_API_DELETE_RECORDS, 0, 2, true, api_delete_records },
	{ KP_API_INIT_PRODUCER_ID, 0, 4, true, api_init_producer_id },
	{ KP_API_OFFSET_FOR_LEADER_EPOCH, 0, 4, true, api_offset_for_leader_epoch },
	{ KP_API_ADD_PARTITIONS_TO_TXN, 0, 3, true, api_add_partitions_to_txn },
	{ KP_API_ADD_OFFSETS_TO_TXN, 0, 3, true, api_add_offsets_to_txn },
	{ KP_API_END_TXN, 0, 3, true, api_end_txn },
	{ KP_API_WRITE_TXN_MARKERS, 0, 1, true, api_write_txn_markers },
	{ KP_API_TXN_OFFSET_COMMIT, 0, 3, true, api_txn_offset_commit },
	{ KP_API_DESCRIBE_ACLS, 0, 2, true, api_describe_acls },
	{ KP_API_CREATE_ACLS, 0, 2, true, api_create_acls },
	{ KP_API_DELETE_ACLS, 0, 2, true, api_delete_acls },
	{ KP_API_DESCRIBE_CONFIGS, 0, 4, true, api_describe_configs },
	{ KP_API_ALTER_CONFIGS, 0, 2, true, api_alter_configs },
	{ KP_API_ALTER_REPLICA_LOG_DIRS, 0, 2, true, api_alter_replica_log_dirs },
	{ KP_API_DESCRIBE_LOG_DIRS, 0, 2, true, api_describe_log_dirs },
	{ KP_API_SASL_AUTHENTICATE, 0, 2, true, api_sasl_authenticate },
	{ KP_API_CREATE_PARTITIONS, 0, 3, true, api_create_partitions },
	{ KP_API_CREATE_DELEGATION_TOKEN, 0, 2, true, api_delegation_token },
	{ KP_API_RENEW_DELEGATION_TOKEN, 0, 2, true, api_delegation_token },
	{ KP_API_EXPIRE_DELEGATION_TOKEN, 0, 2, true, api_delegation_token },
	{ KP_API_DESCRIBE_DELEGATION_TOKEN, 0, 2, true, api_delegation_token },
	{ KP_API_DELETE_GROUPS, 0, 2, true, api_delete_groups },
	/* answered by the kcontroller daemon (api_forward.c) */
	{ KP_API_ELECT_LEADERS, 0, 2, true, api_forward },
	{ KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 1, true, api_incremental_alter_configs },
	{ KP_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0, true, api_forward },
	{ KP_API_LIST_PARTITION_REASSIGNMENTS, 0, 0, true, api_forward },
	{ KP_API_OFFSET_DELETE, 0, 0, true, api_offset_delete },
	{ KP_API_DESCRIBE_CLIENT_QUOTAS, 0, 1, true, api_describe_client_quotas },
	{ KP_API_ALTER_CLIENT_QUOTAS, 0, 1, true, api_alter_client_quotas },
	{ KP_API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, true,
	  api_describe_user_scram_credentials },
	{ KP_API_ALTER_USER_SCRAM_CREDENTIALS, 0, 0, true,
	  api_alter_user_scram_credentials },
	{ KP_API_VOTE, 0, 0, false, api_kraft_only },
	{ KP_API_BEGIN_QUORUM_EPOCH, 0, 0, false, api_kraft_only },
	{ KP_API_END_QUORUM_EPOCH, 0, 0, false, api_kraft_only },
	{ KP_API_DESCRIBE_QUORUM, 0, 0, false, api_kraft_only },
	{ KP_API_ALTER_ISR, 0, 0, true, api_alter_isr },
	{ KP_API_UPDATE_FEATURES, 0, 0, true, api_update_features },
	{ KP_API_ENVELOPE, 0, 0, false, api_kraft_only },
	{ KP_API_FETCH_SNAPSHOT, 0, 0, false, api_kraft_only },
	{ KP_API_DESCRIBE_CLUSTER, 0, 0, true, api_describe_cluster },
	{ KP_API_DESCRIBE_PRODUCERS, 0, 0, false, api_describe_producers },
	{ KP_API_BROKER_REGISTRATION, 0, 0, false, api_kraft_only },
	{ KP_API_BROKER_HEARTBEAT, 0, 0, false, api_kraft_only },
	{ KP_API_UNREGISTER_BROKER, 0, 0, false, api_kraft_only },
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
	int32_t n = 0;

	kp_struct_init(r->api->resp, &resp);
	keys = kp_arena_calloc(&r->arena, (size_t)req_napis, sizeof(*keys));
	if (keys == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int i = 0; i < req_napis; i++) {
		if (!req_apis[i].advertised)
			continue;
		kp_struct_init(&kp_api_versions_resp_api_version_desc, &keys[n]);
		keys[n].api_key = req_apis[i].key;
		keys[n].min_version = req_apis[i].min;
		keys[n].max_version = req_apis[i].max;
		n++;
	}
	resp.error_code = error;
	resp.api_keys = keys;
	resp.api_keys_count = n;
	net_reply(r, &resp);
}

void api_versions(struct net_req *r)
{
	reply_api_versions(r, 0);
}

/*
 * On a SASL listener, before authentication: ApiVersions and SaslHandshake
 * while the handshake is due, SaslAuthenticate after it, nothing else; any
 * other request closes the connection, as Kafka's SaslServerAuthenticator
 * (IllegalSaslStateException).  False when r was failed.
 */
static bool sasl_allows(struct net_req *r)
{
	enum net_sasl st = net_req_sasl_state(r);
	int16_t k = r->h.api_key;

	if (st == NET_SASL_NONE || st == NET_SASL_DONE)
		return true;
	if (st == NET_SASL_HANDSHAKE &&
	    (k == KP_API_API_VERSIONS || k == KP_API_SASL_HANDSHAKE))
		return true;
	if (st == NET_SASL_AUTHENTICATE && k == KP_API_SASL_AUTHENTICATE)
		return true;
	/* (NET_SASL_RAW never gets here: net.c takes its frames) */
	KP_INFO("%s: unexpected Kafka request of type %s during SASL %s", r->peer,
		r->api->name, st == NET_SASL_HANDSHAKE ? "handshake" : "authentication");
	net_req_fail(r, "request before SASL authentication");
	return false;
}

void req_dispatch(struct net_req *r, struct kp_reader *body)
{
	const struct req_api *a = find_api(r->h.api_key);
	int16_t v = r->h.api_version;

	r->api = kp_api_get(r->h.api_key);
	if (a == NULL || r->api == NULL) {
		/* as Kafka: a key it does not know closes the connection */
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
		/* as Kafka, whose request parser fails on a version it
		 * does not know: the connection closes */
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
	if (!sasl_allows(r))
		return;
	if (!authz_precheck(r))
		return;
	a->fn(r);
}
