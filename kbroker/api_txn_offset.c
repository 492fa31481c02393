/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_txn_offset.c - TxnOffsetCommit (key 28, v0-3): a transactional
 * producer commits a consumer group's offsets inside its transaction, as
 * Kafka 2.8's KafkaApis.handleTxnOffsetCommitRequest.
 *
 * The client has added the group's __consumer_offsets partition to the
 * transaction first (AddOffsetsToTxn), so the transaction's markers reach
 * that partition.  Here, on the group's coordinator: TransactionalId
 * Write (the group's Read is checked before dispatch) and the topics'
 * Read, then the coordinator's operation (group_offsets.h): the group
 * and member checks (v3's generation and member id when given), the
 * offsets written as a transactional batch of the producer and answered
 * once the ISR has them.  They stay pending (group_txn.h) until the
 * transaction's marker lands in the partition (api_txn_markers.c tells
 * the coordinator): COMMIT makes them the group's committed offsets,
 * ABORT drops them.
 */
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "group_coord.h"
#include "group_offsets.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "net.h"

#define COUNT(n) ((n) > 0 ? (n) : 0)

/* A TxnOffsetCommit whose append waits for the ISR. */
struct txn_commit_ctx {
	struct net_req *r;
	struct kp_txn_offset_commit_resp *resp;
};

static void posted_reply(void *arg)
{
	struct txn_commit_ctx *cc = arg;

	net_reply(cc->r, cc->resp);
}

/* The append was acknowledged or failed (coordinator's lock held, any
 * thread): every error is set; the answer goes to the request's worker. */
static void commit_reply(void *req)
{
	struct txn_commit_ctx *cc = req;

	if (kp_loop_post(cc->r->worker->loop, posted_reply, cc) < 0)
		KP_ERROR("%s: cannot queue the TxnOffsetCommit answer", cc->r->peer);
}

void api_txn_offset_commit(struct net_req *r)
{
	struct group_coord *c = r->worker->broker->coord;
	const struct kp_txn_offset_commit_req *req = r->body;
	struct kp_txn_offset_commit_resp *resp = kp_arena_alloc(&r->arena, sizeof(*resp));
	struct kp_txn_offset_commit_resp_txn_offset_commit_response_topic *ts;
	struct txn_commit_ctx *cc = kp_arena_alloc(&r->arena, sizeof(*cc));
	struct group_commit_part *parts;
	struct group_txn_commit tc;
	int32_t nt = COUNT(req->topics_count), total = 0, k = 0;
	bool txn_ok, waits;

	if (resp == NULL || cc == NULL)
		goto oom;
	*cc = (struct txn_commit_ctx){ r, resp };
	kp_struct_init(r->api->resp, resp);
	ts = kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*ts));
	for (int32_t i = 0; i < nt; i++)
		total += COUNT(req->topics[i].partitions_count);
	parts = kp_arena_calloc(&r->arena, (size_t)total + 1, sizeof(*parts));
	if (ts == NULL || parts == NULL)
		goto oom;
	resp->topics = ts;
	resp->topics_count = nt;
	txn_ok = authz_ok_str(r, KP_ACL_OP_WRITE, KP_ACL_RT_TXN_ID, req->transactional_id);
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_txn_offset_commit_req_txn_offset_commit_request_topic *rt =
			&req->topics[i];
		int32_t np = COUNT(rt->partitions_count);
		bool may = txn_ok && authz_ok_str(r, KP_ACL_OP_READ, KP_ACL_RT_TOPIC, rt->name);

		kp_struct_init(&kp_txn_offset_commit_resp_txn_offset_commit_response_topic_desc,
			       &ts[i]);
		ts[i].name = rt->name;
		ts[i].partitions = kp_arena_calloc(&r->arena, (size_t)np + 1,
						   sizeof(*ts[i].partitions));
		if (ts[i].partitions == NULL)
			goto oom;
		ts[i].partitions_count = np;
		for (int32_t j = 0; j < np; j++) {
			const struct kp_txn_offset_commit_req_txn_offset_commit_request_partition *rp =
				&rt->partitions[j];
			struct kp_txn_offset_commit_resp_txn_offset_commit_response_partition *out =
				&ts[i].partitions[j];

			kp_struct_init(&kp_txn_offset_commit_resp_txn_offset_commit_response_partition_desc,
				       out);
			out->partition_index = rp->partition_index;
			if (!may) {
				out->error_code = !txn_ok
					? KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
					: KP_ERR_TOPIC_AUTHORIZATION_FAILED;
				continue;
			}
			parts[k++] = (struct group_commit_part){
				.topic = rt->name,
				.partition = rp->partition_index,
				.offset = rp->committed_offset,
				.leader_epoch = rp->committed_leader_epoch,
				.metadata = rp->committed_metadata,
				.commit_ts = -1,
				.err = &out->error_code,
			};
		}
	}
	if (k == 0 || c == NULL) {
		/* nothing it may commit (or no group coordinator running: it
		 * coordinates no group) */
		for (int32_t i = 0; c == NULL && i < k; i++)
			*parts[i].err = KP_ERR_NOT_COORDINATOR;
		net_reply(r, resp);
		return;
	}
	tc = (struct group_txn_commit){
		.group_id = req->group_id,
		.member_id = req->member_id,
		.instance_id = req->group_instance_id,
		.generation = r->h.api_version >= 3 ? req->generation_id : -1,
		.pid = req->producer_id,
		.epoch = req->producer_epoch,
		.parts = parts,
		.nparts = k,
		.done = commit_reply,
		.req = cc,
	};
	pthread_mutex_lock(&c->lock);
	waits = group_txn_commit_offsets(c, &tc);
	pthread_mutex_unlock(&c->lock);
	if (!waits)
		net_reply(r, resp);
	return;
oom:
	net_req_fail(r, "out of memory");
}
