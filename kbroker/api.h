/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h - the request handlers, one family per api_*.c file; the
 * dispatcher (req_dispatch.c) routes each decoded request to one.  A
 * handler runs on the network worker that read the request and answers
 * it there: at once with net_reply(), or later, from a delayed operation
 * (purgatory.h) it parks on the same worker.  Handlers share modules
 * below them, never each other.
 */
#ifndef API_H
#define API_H

#include <stddef.h>
#include <stdint.h>

struct broker;
struct broker_sasl;
struct kp_scram_server;

struct net_req;
struct broker_sasl;

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
/* api_txn.c: the transaction coordinator's requests */
void api_init_producer_id_txn(struct net_req *r);
void api_find_txn_coordinator(struct net_req *r);
void api_add_partitions_to_txn(struct net_req *r);
void api_add_offsets_to_txn(struct net_req *r);
void api_end_txn(struct net_req *r);
void api_write_txn_markers(struct net_req *r);
void api_txn_offset_commit(struct net_req *r);
void api_alter_replica_log_dirs(struct net_req *r);
void api_describe_log_dirs(struct net_req *r);
/* api_quota.c */
void api_describe_client_quotas(struct net_req *r);
void api_alter_client_quotas(struct net_req *r);
void api_describe_user_scram_credentials(struct net_req *r);
void api_alter_user_scram_credentials(struct net_req *r);
void api_describe_producers(struct net_req *r);
void api_kraft_only(struct net_req *r);
/* Relayed to the active kcontroller (api_forward.c). */
void api_forward(struct net_req *r);

#endif /* API_H */
