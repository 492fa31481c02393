/*
 * req_dispatch.h - the table of APIs kbroker serves: which versions, and
 * which handler.  The same table builds the ApiVersions answer, so what we
 * advertise is exactly what we dispatch (and it is the same on every
 * broker, as KafkaJS assumes).
 */
#ifndef REQ_DISPATCH_H
#define REQ_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_buf.h"

struct net_req;

typedef void (*req_handler_fn)(struct net_req *r);

struct req_api {
	int16_t key;
	int16_t min, max;	/* served; within the schema's range */
	bool advertised;	/* listed in ApiVersions */
	req_handler_fn fn;
};

extern const struct req_api req_apis[];
extern const int req_napis;

/*
 * Route a request whose header is decoded; body is the rest of the frame.
 * Unknown API keys, unsupported versions and undecodable bodies close the
 * connection, as Kafka does, except ApiVersions, which answers
 * UNSUPPORTED_VERSION in a v0 body (KIP-511).
 */
void req_dispatch(struct net_req *r, struct kp_reader *body);

/* Handlers (api_*.c). */
void api_versions(struct net_req *r);
void api_metadata(struct net_req *r);
void api_update_metadata(struct net_req *r);
void api_leader_and_isr(struct net_req *r);
void api_produce(struct net_req *r);
void api_list_offsets(struct net_req *r);
void api_fetch(struct net_req *r);
void api_offset_for_leader_epoch(struct net_req *r);
void api_stop_replica(struct net_req *r);
void api_create_topics(struct net_req *r);
void api_delete_topics(struct net_req *r);
void api_create_partitions(struct net_req *r);
void api_describe_configs(struct net_req *r);
void api_alter_configs(struct net_req *r);
void api_incremental_alter_configs(struct net_req *r);
void api_find_coordinator(struct net_req *r);
void api_join_group(struct net_req *r);
void api_sync_group(struct net_req *r);
void api_heartbeat(struct net_req *r);
void api_leave_group(struct net_req *r);
void api_offset_commit(struct net_req *r);
void api_offset_fetch(struct net_req *r);
void api_offset_delete(struct net_req *r);
void api_describe_groups(struct net_req *r);
void api_list_groups(struct net_req *r);
void api_delete_groups(struct net_req *r);
void api_describe_cluster(struct net_req *r);
/* Authorized-operation bit fields as Kafka gives them without an
 * authorizer: every operation the resource type supports. */
extern const int32_t metadata_topic_ops, metadata_cluster_ops, metadata_group_ops;
/*
 * Answered with an error (api_refused.c): what Kafka answers without an
 * authorizer, without SASL on a plaintext listener, or when the broker is
 * not the controller; and, for the features not built yet and the KRaft
 * keys, UNSUPPORTED_VERSION in a well-formed response of the version asked.
 */
void api_controlled_shutdown(struct net_req *r);
void api_sasl_handshake(struct net_req *r);
void api_sasl_authenticate(struct net_req *r);
void api_describe_acls(struct net_req *r);
void api_create_acls(struct net_req *r);
void api_delete_acls(struct net_req *r);
void api_delegation_token(struct net_req *r);
void api_alter_isr(struct net_req *r);
void api_update_features(struct net_req *r);
void api_delete_records(struct net_req *r);
void api_init_producer_id(struct net_req *r);
void api_add_partitions_to_txn(struct net_req *r);
void api_add_offsets_to_txn(struct net_req *r);
void api_end_txn(struct net_req *r);
void api_write_txn_markers(struct net_req *r);
void api_txn_offset_commit(struct net_req *r);
void api_alter_replica_log_dirs(struct net_req *r);
void api_describe_log_dirs(struct net_req *r);
void api_describe_client_quotas(struct net_req *r);
void api_alter_client_quotas(struct net_req *r);
void api_describe_user_scram_credentials(struct net_req *r);
void api_alter_user_scram_credentials(struct net_req *r);
void api_describe_producers(struct net_req *r);
void api_kraft_only(struct net_req *r);
/* Relayed to the active kcontroller (api_forward.c). */
void api_forward(struct net_req *r);

struct net_worker;
struct partition;
struct broker;
/* New data or a new high watermark on p: wake fetches parked on it. */
void fetch_notify(struct broker *b, struct partition *p);
/* Re-check the acks=all produces waiting on w. */
void produce_poke(struct net_worker *w);
/* Answer every produce waiting on w (shutdown). */
void produce_drain(struct net_worker *w);
/* Answer every fetch parked on w (shutdown). */
void fetch_drain(struct net_worker *w);
/* Answer every admin request waiting on w (shutdown). */
void admin_drain(struct net_worker *w);
/* Answer every request w is forwarding to the controller (shutdown). */
void forward_drain(struct net_worker *w);
/*
 * Metadata asked for an unknown topic: create it when
 * auto.create.topics.enable allows.  Returns the topic's error for the
 * answer (LEADER_NOT_AVAILABLE once created, INVALID_TOPIC_EXCEPTION,
 * UNKNOWN_TOPIC_OR_PARTITION when disabled, ...).
 */
int16_t admin_auto_create(struct broker *b, kp_str topic);
/*
 * Create __consumer_offsets as Kafka does (compacted, segment.bytes =
 * offsets.topic.segment.bytes, compression.type=producer) over the live
 * brokers.  0 or an error code with a message (INVALID_REPLICATION_FACTOR
 * while fewer brokers than rf are alive, TOPIC_ALREADY_EXISTS, ...).
 */
int16_t admin_create_offsets_topic(struct broker *b, int32_t nparts, int32_t rf,
				   int32_t segment_bytes, char *msg, size_t n);

#endif /* REQ_DISPATCH_H */
