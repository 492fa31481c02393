/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_txn.c - the transaction coordinator's requests, thin: FindCoordinator
 * with key type 1 (creates __transaction_state on first use, as Kafka),
 * InitProducerId with a transactional id, AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn.  Each turns the request into the
 * coordinator's terms (txn_coord.h) and answers on the request's worker
 * when the coordinator calls back (after its append reached the ISR, or
 * at once with an error).
 *
 * PRODUCER_FENCED (KIP-588) is answered only to the versions that know
 * it, as Kafka 2.8: InitProducerId v4+, AddPartitionsToTxn, AddOffsetsToTxn
 * and EndTxn v2+; older versions get INVALID_PRODUCER_EPOCH.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "metadata_cache.h"
#include "net.h"
#include "txn_coord.h"
#include "txn_log.h"

struct txn_call {
	struct net_req *r;
	kp_err_t err;
	int64_t pid;
	int16_t epoch;
	/* AddPartitionsToTxn: the partitions that were not attempted */
	kp_err_t *perr;
};

static kp_err_t fenced_for(const struct net_req *r, kp_err_t err, int16_t since)
{
	if (err == KP_ERR_PRODUCER_FENCED && r->h.api_version < since)
		return KP_ERR_INVALID_PRODUCER_EPOCH;
	return err;
}

static void answer(void *arg)
{
	struct txn_call *t = arg;
	struct net_req *r = t->r;

	switch (r->h.api_key) {
	case KP_API_INIT_PRODUCER_ID: {
		struct kp_init_producer_id_resp resp;

		kp_struct_init(r->api->resp, &resp);
		resp.error_code = fenced_for(r, t->err, 4);
		resp.producer_id = t->err == 0 ? t->pid : -1;
		resp.producer_epoch = t->err == 0 ? t->epoch : -1;
		net_reply(r, &resp);
		break;
	}
	case KP_API_ADD_PARTITIONS_TO_TXN: {
		const struct kp_add_partitions_to_txn_req *req = r->body;
		struct kp_add_partitions_to_txn_resp resp;
		struct kp_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result *ts;
		int32_t nt = req->topics_count > 0 ? req->topics_count : 0, k = 0;

		kp_struct_init(r->api->resp, &resp);
		ts = kp_arena_calloc(&r->arena, (size_t)nt + 1, sizeof(*ts));
		if (ts == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		for (int32_t i = 0; i < nt; i++) {
			const struct kp_add_partitions_to_txn_req_add_partitions_to_txn_topic *in =
				&req->topics[i];
			int32_t np = in->partitions_count > 0 ? in->partitions_count : 0;
			struct kp_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result *ps =
				kp_arena_calloc(&r->arena, (size_t)np + 1, sizeof(*ps));

			if (ps == NULL) {
				net_req_fail(r, "out of memory");
				return;
			}
			kp_struct_init(&kp_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_desc,
				       &ts[i]);
			ts[i].name = in->name;
			for (int32_t j = 0; j < np; j++, k++) {
				kp_struct_init(&kp_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result_desc,
					       &ps[j]);
				ps[j].partition_index = in->partitions[j];
				ps[j].error_code = t->perr != NULL && t->perr[k] != 0
					? t->perr[k] : fenced_for(r, t->err, 2);
			}
			ts[i].results = ps;
			ts[i].results_count = np;
		}
		resp.results = ts;
		resp.results_count = nt;
		net_reply(r, &resp);
		break;
	}
	case KP_API_ADD_OFFSETS_TO_TXN: {
		struct kp_add_offsets_to_txn_resp resp;

		kp_struct_init(r->api->resp, &resp);
		resp.error_code = fenced_for(r, t->err, 2);
		net_reply(r, &resp);
		break;
	}
	case KP_API_END_TXN: {
		struct kp_end_txn_resp resp;

		kp_struct_init(r->api->resp, &resp);
		resp.error_code = fenced_for(r, t->err, 2);
		net_reply(r, &resp);
		break;
	}
	default:
		net_req_fail(r, "not a transaction request");
	}
}

/* The coordinator's answer, from any thread: to the request's worker. */
static void on_reply(void *arg, kp_err_t err, int64_t pid, int16_t epoch)
{
	struct txn_call *t = arg;

	t->err = err;
	t->pid = pid;
	t->epoch = epoch;
	if (kp_loop_post(t->r->worker->loop, answer, t) < 0)
		KP_ERROR("%s: cannot queue the %s answer", t->r->peer, t->r->api->name);
}

/* The request detached (it outlives the handler) and its call record. */
static struct txn_call *call_new(struct net_req *r)
{
	struct txn_call *t;

	if (net_req_detach(r) < 0 ||
	    (t = kp_arena_calloc(&r->arena, 1, sizeof(*t))) == NULL) {
		net_req_fail(r, "out of memory");
		return NULL;
	}
	t->r = r;
	return t;
}

void api_find_txn_coordinator(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_find_coordinator_req *req = r->body;
	struct kp_find_coordinator_resp resp;
	int32_t tpart, leader;
	kp_err_t err;

	kp_struct_init(r->api->resp, &resp);
	resp.node_id = -1;
	resp.host = (kp_str){ "", 0 };
	resp.port = -1;
	err = txn_find(b, req->key, &tpart, &leader);
	if (err == 0) {
		struct md_view *v = metadata_cache_get(&b->meta);
		const struct md_endpoint *e = md_view_endpoint(v, leader, r->listener);

		if (e == NULL) {
			err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		} else {
			char *h = kp_arena_strndup(&r->arena, e->host, strlen(e->host));

			resp.node_id = leader;
			resp.host = h != NULL ? kp_str_c(h) : (kp_str){ "", 0 };
			resp.port = e->port;
		}
		md_view_unref(v);
	}
	resp.error_code = err;
	if (err != 0)
		resp.error_message = kp_str_c(kp_err_name(err));
	net_reply(r, &resp);
}

void api_init_producer_id_txn(struct net_req *r)
{
	const struct kp_init_producer_id_req *req = r->body;
	struct txn_call *t = call_new(r);
	/* KIP-360: v3+ may name the producer it was */
	bool has = r->h.api_version >= 3 && req->producer_id >= 0;

	if (t == NULL)
		return;
	txn_init_producer_id(r->worker->broker, req->transactional_id,
			     req->transaction_timeout_ms, has, req->producer_id,
			     req->producer_epoch, on_reply, t);
}

void api_add_partitions_to_txn(struct net_req *r)
{
	const struct kp_add_partitions_to_txn_req *req = r->body;
	struct broker *b = r->worker->broker;
	struct txn_call *t = call_new(r);
	struct txn_tp_in *tps;
	int32_t n = 0, k = 0, nt = req->topics_count > 0 ? req->topics_count : 0;
	bool unknown = false;
	struct md_view *v;

	if (t == NULL)
		return;
	for (int32_t i = 0; i < nt; i++)
		n += req->topics[i].partitions_count > 0 ? req->topics[i].partitions_count : 0;
	tps = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*tps));
	t->perr = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*t->perr));
	if (tps == NULL || t->perr == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	/* as Kafka's KafkaApis: partitions of topics it may not Write
	 * (internal topics never: they are left out of the check, even
	 * without an authorizer) and partitions that do not exist fail, and
	 * then the others are not attempted */
	v = metadata_cache_get(&b->meta);
	for (int32_t i = 0; i < nt; i++) {
		const struct kp_add_partitions_to_txn_req_add_partitions_to_txn_topic *in =
			&req->topics[i];
		const struct md_topic *mt = md_view_topic(v, in->name.ptr,
							  in->name.len > 0 ? (size_t)in->name.len : 0);
		bool may = !kp_str_eqc(in->name, KP_OFFSETS_TOPIC) &&
			   !kp_str_eqc(in->name, KP_TXN_STATE_TOPIC) &&
			   authz_ok_str(r, KP_ACL_OP_WRITE, KP_ACL_RT_TOPIC, in->name);

		for (int32_t j = 0; j < in->partitions_count; j++, k++) {
			tps[k].topic = in->name;
			tps[k].partition = in->partitions[j];
			if (!may) {
				t->perr[k] = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
				unknown = true;
			} else if (mt == NULL || md_topic_partition(mt, in->partitions[j]) == NULL) {
				t->perr[k] = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
				unknown = true;
			}
		}
	}
	md_view_unref(v);
	if (unknown) {
		for (int32_t i = 0; i < n; i++)
			if (t->perr[i] == 0)
				t->perr[i] = KP_ERR_OPERATION_NOT_ATTEMPTED;
		on_reply(t, KP_ERR_NONE, -1, -1);
		return;
	}
	txn_add_partitions(b, req->transactional_id, req->producer_id, req->producer_epoch,
			   tps, n, on_reply, t);
}

void api_add_offsets_to_txn(struct net_req *r)
{
	const struct kp_add_offsets_to_txn_req *req = r->body;
	struct broker *b = r->worker->broker;
	struct txn_call *t = call_new(r);
	struct txn_tp_in tp;
	struct md_view *v;
	const struct md_topic *mt;
	int32_t nparts;

	if (t == NULL)
		return;
	/* the group's __consumer_offsets partition joins the transaction */
	v = metadata_cache_get(&b->meta);
	mt = md_view_topic(v, KP_OFFSETS_TOPIC, strlen(KP_OFFSETS_TOPIC));
	/* Kafka's partitionFor: the configured count until the topic exists */
	nparts = mt != NULL && mt->nparts > 0 ? mt->nparts
		: kp_config_int(&b->cfg, "offsets.topic.num.partitions");
	md_view_unref(v);
	tp.topic = kp_str_c(KP_OFFSETS_TOPIC);
	tp.partition = kp_group_partition(req->group_id.ptr,
					  req->group_id.len > 0 ? (size_t)req->group_id.len : 0,
					  nparts);
	txn_add_partitions(b, req->transactional_id, req->producer_id, req->producer_epoch,
			   &tp, 1, on_reply, t);
}

void api_end_txn(struct net_req *r)
{
	const struct kp_end_txn_req *req = r->body;
	struct txn_call *t = call_new(r);

	if (t == NULL)
		return;
	txn_end(r->worker->broker, req->transactional_id, req->producer_id,
		req->producer_epoch, req->committed, on_reply, t);
}
