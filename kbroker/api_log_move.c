/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_log_move.c - AlterReplicaLogDirs (key 34, v0-2): move replicas
 * between this broker's log dirs (KIP-113), Kafka 2.8's
 * handleAlterReplicaLogDirsRequest.
 *
 * Alter on the cluster is required (else CLUSTER_AUTHORIZATION_FAILED for
 * every partition).  Each partition gets log_move_request's answer
 * (log_move.h): NONE once the move is under way or the replica is there
 * already, REPLICA_NOT_AVAILABLE for a partition this broker does not
 * host yet (the dir is remembered for when it comes), LOG_DIR_NOT_FOUND,
 * KAFKA_STORAGE_ERROR, UNKNOWN_TOPIC_OR_PARTITION.  The answer does not
 * wait for the copy: DescribeLogDirs shows the future replica and its lag
 * until it replaces the current one.
 */
#include <stddef.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "kp_acl.h"
#include "kp_errors.h"
#include "kp_msgs.h"
#include "log_move.h"
#include "net.h"

#define COUNT(n) ((n) > 0 ? (n) : 0)

void api_alter_replica_log_dirs(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_alter_replica_log_dirs_req *req = r->body;
	struct kp_alter_replica_log_dirs_resp resp;
	struct kp_alter_replica_log_dirs_resp_alter_replica_log_dir_topic_result *ts;
	bool allowed = authz_cluster(r, KP_ACL_OP_ALTER);
	int32_t nt = 0, k = 0;

	for (int32_t i = 0; i < COUNT(req->dirs_count); i++)
		nt += COUNT(req->dirs[i].topics_count);
	ts = kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*ts));
	if (ts == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	for (int32_t i = 0; i < COUNT(req->dirs_count); i++) {
		const struct kp_alter_replica_log_dirs_req_alter_replica_log_dir *d =
			&req->dirs[i];

		for (int32_t j = 0; j < COUNT(d->topics_count); j++, k++) {
			const struct kp_alter_replica_log_dirs_req_alter_replica_log_dir_topic *t =
				&d->topics[j];
			int32_t np = COUNT(t->partitions_count);
			struct kp_alter_replica_log_dirs_resp_alter_replica_log_dir_partition_result *ps =
				kp_arena_calloc(&r->arena, (size_t)np + 1, sizeof(*ps));

			if (ps == NULL) {
				net_req_fail(r, "out of memory");
				return;
			}
			kp_struct_init(&kp_alter_replica_log_dirs_resp_alter_replica_log_dir_topic_result_desc,
				       &ts[k]);
			ts[k].topic_name = t->name;
			for (int32_t x = 0; x < np; x++) {
				kp_struct_init(&kp_alter_replica_log_dirs_resp_alter_replica_log_dir_partition_result_desc,
					       &ps[x]);
				ps[x].partition_index = t->partitions[x];
				ps[x].error_code = !allowed
					? KP_ERR_CLUSTER_AUTHORIZATION_FAILED
					: log_move_request(b, d->path, t->name, t->partitions[x]);
			}
			ts[k].partitions = ps;
			ts[k].partitions_count = np;
		}
	}
	resp.results = ts;
	resp.results_count = nt;
	net_reply(r, &resp);
}
