/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_producer.c - InitProducerId for idempotent producers (Kafka 2.8's
 * handleInitProducerId with no transactional id): a fresh producer id
 * from the broker's block (producer_id.h) and epoch 0; a v3+ request's
 * producer id and epoch (KIP-360) are not looked at, as 2.8 does for
 * idempotent producers.  When the block is used up the request parks and
 * the ZooKeeper thread claims the next block.
 *
 * A transactional id goes to the transaction coordinator (api_txn.c).
 */
#include <stdio.h>

#include "api.h"
#include "broker.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "net.h"
#include "producer_id.h"
#include "zk_thread.h"

/* a block claimed and used up by others before we got an id: again */
#define CLAIM_ROUNDS 3

struct pid_job {
	struct net_req *r;
	int rounds;
	bool ok;
};

static void reply(struct net_req *r, kp_err_t err, int64_t id, int16_t epoch)
{
	struct kp_init_producer_id_resp resp;

	kp_struct_init(r->api->resp, &resp);
	resp.error_code = err;
	resp.producer_id = id;
	resp.producer_epoch = epoch;
	net_reply(r, &resp);
}

static void claim_run(void *arg)
{
	struct pid_job *j = arg;
	struct broker *b = j->r->worker->broker;
	char err[256];

	j->ok = producer_ids_claim(&b->pids, b->zk, b->id, err, sizeof(err)) == 0;
	if (!j->ok)
		KP_WARN("InitProducerId: cannot claim a producer id block: %s", err);
}

static void claim_done(void *arg, bool ran)
{
	struct pid_job *j = arg;
	struct broker *b = j->r->worker->broker;
	int64_t id;

	if (!ran || !j->ok) {
		/* retriable: the client asks again */
		reply(j->r, KP_ERR_COORDINATOR_NOT_AVAILABLE, -1, -1);
		return;
	}
	if (producer_ids_next(&b->pids, &id) == 0) {
		reply(j->r, KP_ERR_NONE, id, 0);
		return;
	}
	if (++j->rounds >= CLAIM_ROUNDS) {
		reply(j->r, KP_ERR_COORDINATOR_NOT_AVAILABLE, -1, -1);
		return;
	}
	zk_thread_call(b, j->r->worker->home, claim_run, claim_done, j);
}

void api_init_producer_id(struct net_req *r)
{
	const struct kp_init_producer_id_req *req = r->body;
	struct broker *b = r->worker->broker;
	struct pid_job *j;
	int64_t id;

	if (req->transactional_id.len >= 0) {
		api_init_producer_id_txn(r);	/* the transaction coordinator */
		return;
	}
	if (producer_ids_next(&b->pids, &id) == 0) {
		reply(r, KP_ERR_NONE, id, 0);
		return;
	}
	if (b->zk == NULL) {
		reply(r, KP_ERR_COORDINATOR_NOT_AVAILABLE, -1, -1);
		return;
	}
	if (net_req_detach(r) < 0 ||
	    (j = kp_arena_calloc(&r->arena, 1, sizeof(*j))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	j->r = r;
	zk_thread_call(b, r->worker->home, claim_run, claim_done, j);
}
