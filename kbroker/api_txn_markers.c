/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_txn_markers.c - WriteTxnMarkers (key 27): a transaction
 * coordinator asks the partitions' leaders to end a producer's
 * transaction, as Kafka 2.8's KafkaApis.handleWriteTxnMarkersRequest.
 *
 * For each marker and each of its partitions: a control batch (kp_txn.h)
 * with the producer's id and epoch and the coordinator epoch is appended
 * as the leader's (log_append_marker: a producer epoch older than the
 * partition's is INVALID_PRODUCER_EPOCH, a coordinator epoch older than
 * the last marker's TRANSACTION_COORDINATOR_FENCED), with acks=all: the
 * answer waits, as a delayed operation on the worker (Kafka's
 * DelayedProduce), until the high watermark passes every marker, the
 * leadership is lost (NOT_LEADER_OR_FOLLOWER) or request.timeout.ms
 * passes (REQUEST_TIMED_OUT).  The marker ends the transaction in the
 * partition's producer state, which moves the last stable offset once
 * it is replicated and adds an aborted transaction to the index.
 *
 * Only brokers send it: the authorizer, where there is one, holds it to
 * ClusterAction.  Markers on __consumer_offsets are written the same way;
 * once the ISR has one, the group coordinator is told
 * (group_marker_acked), which commits or drops the transaction's offsets
 * there (TxnOffsetCommit).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "group.h"
#include "kp_config.h"
#include "kp_groupmeta.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "log.h"
#include "net.h"
#include "partition.h"
#include "purgatory.h"
#include "replica.h"

#define COUNT(n) ((n) > 0 ? (n) : 0)

/* One appended marker waiting for the high watermark. */
struct marker_pending {
	struct partition *p;
	uint32_t lead_gen;
	int64_t required;		/* marker offset + 1 */
	int16_t *err;			/* its slot in the response */
	int64_t pid;
	bool commit;
	bool offsets_topic;		/* __consumer_offsets: the group
					 * coordinator hears of it */
};

/* A parked request (the op first: the purgatory hands it back). */
struct markers_wait {
	struct delayed_op op;
	struct net_req *r;
	struct kp_write_txn_markers_resp *resp;
	struct marker_pending *pend;
	int32_t npend;
	struct purgatory_watch *watches;
};

static kp_str arena_str(struct kp_arena *a, kp_str s)
{
	char *c;

	if (s.len <= 0)
		return s;
	c = kp_arena_strndup(a, s.ptr, (size_t)s.len);
	return c != NULL ? (kp_str){ c, s.len } : KP_STR_NULL;
}

/* Append one marker to p as its leader. */
static kp_err_t write_one(struct broker *b, struct partition *p,
			  const struct kp_write_txn_markers_req_writable_txn_marker *mk,
			  struct marker_pending *pend)
{
	struct log_append_info ai;
	int rc;

	if (p == NULL || p->log == NULL)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	pthread_mutex_lock(&p->lock);
	if (!p->leader || p->log == NULL) {
		pthread_mutex_unlock(&p->lock);
		return KP_ERR_NOT_LEADER_OR_FOLLOWER;
	}
	/* acks=all: refused before appending when the ISR is short */
	if (p->nisr < p->min_isr) {
		pthread_mutex_unlock(&p->lock);
		return KP_ERR_NOT_ENOUGH_REPLICAS;
	}
	rc = log_append_marker(p->log, mk->producer_id, mk->producer_epoch,
			       mk->coordinator_epoch, mk->transaction_result,
			       p->leader_epoch, &ai);
	if (rc == 0) {
		replica_update_hw(b, p);
		pend->p = p;
		pend->lead_gen = p->lead_gen;
		pend->required = ai.last_offset + 1;
		pend->pid = mk->producer_id;
		pend->commit = mk->transaction_result;
		pend->offsets_topic = strcmp(p->topic, KP_OFFSETS_TOPIC) == 0;
	}
	pthread_mutex_unlock(&p->lock);
	if (rc < 0)
		return KP_ERR_KAFKA_STORAGE_ERROR;
	if (rc == 0) {
		KP_DEBUG("%s-%d: %s marker for producer %" PRId64 " epoch %d at %" PRId64,
			 p->topic, p->index, mk->transaction_result ? "commit" : "abort",
			 mk->producer_id, mk->producer_epoch, ai.last_offset);
		purgatory_notify(b->purg, &p->watchers);
	}
	return (kp_err_t)rc;
}

/* Is pend replicated (or failed)?  Sets its error; a replicated marker
 * on __consumer_offsets is told to the group coordinator (once: a pend
 * found done is not looked at again). */
static bool marker_done(struct broker *b, struct marker_pending *pend)
{
	struct partition *p = pend->p;
	bool done = true, acked = false;

	pthread_mutex_lock(&p->lock);
	if (!p->leader || p->log == NULL || p->lead_gen != pend->lead_gen)
		*pend->err = KP_ERR_NOT_LEADER_OR_FOLLOWER;
	else if (atomic_load(&p->hw) < pend->required)
		done = false;
	else if (p->nisr < p->min_isr)
		*pend->err = KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND;
	else
		acked = true;
	pthread_mutex_unlock(&p->lock);
	/* the coordinator's lock is taken before a partition's: not held */
	if (acked && pend->offsets_topic)
		group_marker_acked(b, p->index, pend->pid, pend->commit, pend->required - 1);
	return done;
}

static bool markers_try(struct delayed_op *op)
{
	struct markers_wait *mw = (struct markers_wait *)op;

	if (net_req_orphaned(mw->r))
		return true;
	for (int32_t i = 0; i < mw->npend; ) {
		if (marker_done(mw->r->worker->broker, &mw->pend[i]))
			mw->pend[i] = mw->pend[--mw->npend];
		else
			i++;
	}
	return mw->npend == 0;
}

static void markers_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct markers_wait *mw = (struct markers_wait *)op;

	(void)end;
	for (int32_t i = 0; i < mw->npend; i++)
		if (*mw->pend[i].err == 0 && !marker_done(mw->r->worker->broker, &mw->pend[i]))
			*mw->pend[i].err = KP_ERR_REQUEST_TIMED_OUT;
	net_reply(mw->r, mw->resp);	/* mw lives in r's arena */
}

static const struct delayed_op_type markers_wait_type = {
	"txn-markers", markers_try, markers_complete, NULL
};

static void oom(struct net_req *r)
{
	net_req_fail(r, "out of memory");
}

void api_write_txn_markers(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_write_txn_markers_req *req = r->body;
	struct kp_write_txn_markers_resp *resp;
	struct kp_write_txn_markers_resp_writable_txn_marker_result *ms;
	struct marker_pending *pend;
	struct markers_wait *mw;
	int32_t total = 0, npend = 0;

	for (int32_t i = 0; i < COUNT(req->markers_count); i++)
		for (int32_t j = 0; j < COUNT(req->markers[i].topics_count); j++)
			total += COUNT(req->markers[i].topics[j].partition_indexes_count);
	resp = kp_arena_calloc(&r->arena, 1, sizeof(*resp));
	ms = kp_arena_calloc(&r->arena, (size_t)COUNT(req->markers_count) + 1, sizeof(*ms));
	pend = kp_arena_calloc(&r->arena, (size_t)total + 1, sizeof(*pend));
	if (resp == NULL || ms == NULL || pend == NULL) {
		oom(r);
		return;
	}
	kp_struct_init(r->api->resp, resp);
	for (int32_t i = 0; i < COUNT(req->markers_count); i++) {
		const struct kp_write_txn_markers_req_writable_txn_marker *mk = &req->markers[i];
		int32_t nt = COUNT(mk->topics_count);
		struct kp_write_txn_markers_resp_writable_txn_marker_topic_result *ts =
			kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*ts));

		if (ts == NULL) {
			oom(r);
			return;
		}
		kp_struct_init(&kp_write_txn_markers_resp_writable_txn_marker_result_desc, &ms[i]);
		ms[i].producer_id = mk->producer_id;
		for (int32_t j = 0; j < nt; j++) {
			const struct kp_write_txn_markers_req_writable_txn_marker_topic *t =
				&mk->topics[j];
			int32_t np = COUNT(t->partition_indexes_count);
			struct kp_write_txn_markers_resp_writable_txn_marker_partition_result *ps =
				kp_arena_calloc(&r->arena, (size_t)np + 1, sizeof(*ps));

			if (ps == NULL) {
				oom(r);
				return;
			}
			kp_struct_init(&kp_write_txn_markers_resp_writable_txn_marker_topic_result_desc,
				       &ts[j]);
			/* the answer may outlive the connection's read buffer */
			ts[j].name = arena_str(&r->arena, t->name);
			for (int32_t k = 0; k < np; k++) {
				struct partition *p = partition_find(&b->parts, t->name.ptr,
					(size_t)COUNT(t->name.len), t->partition_indexes[k]);
				struct marker_pending one = { 0 };

				kp_struct_init(&kp_write_txn_markers_resp_writable_txn_marker_partition_result_desc,
					       &ps[k]);
				ps[k].partition_index = t->partition_indexes[k];
				ps[k].error_code = write_one(b, p, mk, &one);
				if (ps[k].error_code == 0 && one.p != NULL) {
					one.err = &ps[k].error_code;
					pend[npend++] = one;
				}
			}
			ts[j].partitions = ps;
			ts[j].partitions_count = np;
		}
		ms[i].topics = ts;
		ms[i].topics_count = nt;
	}
	resp->markers = ms;
	resp->markers_count = COUNT(req->markers_count);
	if (npend == 0) {
		net_reply(r, resp);
		return;
	}
	mw = kp_arena_calloc(&r->arena, 1, sizeof(*mw));
	if (mw == NULL ||
	    (mw->watches = kp_arena_calloc(&r->arena, (size_t)npend,
					   sizeof(*mw->watches))) == NULL) {
		oom(r);
		return;
	}
	mw->r = r;
	mw->resp = resp;
	mw->pend = pend;
	mw->npend = npend;
	for (int32_t i = 0; i < npend; i++)
		mw->watches[i].key = &pend[i].p->watchers;
	purgatory_watch(r->worker->home, &mw->op, &markers_wait_type, mw->watches,
			npend, kp_config_int(&b->cfg, "request.timeout.ms"));
}
