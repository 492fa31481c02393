/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_forward.c - admin requests only the controller can answer:
 * ElectLeaders, AlterPartitionReassignments, ListPartitionReassignments.
 *
 * In Kafka the broker that is controller answers them itself.  Here the
 * controller is the kcontroller daemon, so the broker a client picked
 * forwards the request, at the client's version, to the listener the
 * active controller advertises in /controller (read on the ZooKeeper
 * thread, zk_thread.h), and relays the answer.  The forward is a delayed
 * operation on the request's worker, over a non-blocking connection on the
 * worker's own loop, so the worker serves its other connections
 * meanwhile.  When no controller can be reached the client gets
 * NOT_CONTROLLER, which Kafka clients retry after refreshing their
 * metadata.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "kp_answer.h"
#include "kp_client.h"
#include "kp_codec.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "api.h"
#include "net.h"
#include "purgatory.h"
#include "shutdown.h"
#include "zk_thread.h"

/* Elections and reassignments of thousands of partitions take a while. */
#define FORWARD_TIMEOUT_MS 120000

/* A request being forwarded: a delayed operation on its worker that the
 * controller's answer (or its absence) completes; the op first. */
struct forward {
	struct delayed_op op;
	struct net_req *r;
	struct kp_conn *conn;
	void *req;			/* r's request, its memory in r's arena */
	const void *resp;		/* the answer, while on_resp runs */
	struct kp_endpoint ep;		/* the controller's listener */
	bool found;			/* ... read from /controller */
	bool sent;
	bool starting;			/* inside kp_conn_start */
	bool failed;			/* ... which failed at once */
};

/* An answer carrying err for everything the request names. */
static void reply_error(struct net_req *r, int16_t err)
{
	union {
		struct kp_elect_leaders_resp el;
		struct kp_alter_partition_reassignments_resp apr;
		struct kp_list_partition_reassignments_resp lpr;
	} resp;

	kp_struct_init(r->api->resp, &resp);
	switch (r->h.api_key) {
	case KP_API_ELECT_LEADERS:
		/* short of memory: what fits */
		(void)kp_answer_elect_leaders(r->body, err, &resp.el, &r->arena);
		break;
	case KP_API_ALTER_PARTITION_REASSIGNMENTS:
		resp.apr.error_code = err;
		resp.apr.error_message = kp_str_c("no active controller could be reached");
		break;
	default:
		resp.lpr.error_code = err;
		resp.lpr.error_message = kp_str_c("no active controller could be reached");
		break;
	}
	net_reply(r, &resp);
}

/* Relay the answer, or NOT_CONTROLLER (also at shutdown). */
static void forward_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct forward *f = (struct forward *)op;
	struct net_req *r = f->r;
	const void *resp = end == PURGATORY_COMPLETED ? f->resp : NULL;

	kp_conn_free(f->conn);	/* no callback after this */
	f->conn = NULL;
	if (resp != NULL)
		net_reply(r, resp);
	else
		reply_error(r, KP_ERR_NOT_CONTROLLER);
}

static const struct delayed_op_type forward_type = {
	"forward", NULL, forward_complete, NULL
};

static void finish(struct forward *f, const void *resp)
{
	f->resp = resp;
	purgatory_complete(&f->op);
}

static void on_resp(struct kp_conn *c, int err, int16_t api_key, int16_t version,
		    void *resp, void *arg)
{
	struct forward *f = arg;

	(void)c;
	(void)api_key;
	(void)version;
	if (err < 0)
		KP_WARN("%s: forwarding %s to the controller: %s", f->r->peer,
			f->r->api->name, strerror(-err));
	finish(f, err < 0 ? NULL : resp);
}

static void on_state(struct kp_conn *c, enum kp_conn_state st, int err, void *arg)
{
	struct forward *f = arg;

	if (f->starting) {
		f->failed |= st == KP_CONN_CLOSED;
		return;		/* api_forward finishes it */
	}
	if (st == KP_CONN_READY && !f->sent) {
		f->sent = true;
		if (kp_conn_request(c, f->r->h.api_key, f->r->h.api_version, f->req,
				    on_resp, f) == 0)
			return;
		finish(f, NULL);
	} else if (st == KP_CONN_CLOSED && !f->sent) {
		KP_WARN("%s: cannot reach the controller for %s: %s", f->r->peer,
			f->r->api->name, strerror(err < 0 ? -err : err));
		finish(f, NULL);
	}
	/* CLOSED after sending: on_resp is told */
}

/* On the ZooKeeper thread: where the active controller listens. */
static void find_controller(void *arg)
{
	struct forward *f = arg;
	struct kp_zk_result res;
	char err[256];
	int rc;

	rc = kp_zk_get_sync(f->r->worker->broker->zk, "/controller", &res);
	f->found = rc == KP_ZK_OK && res.data != NULL &&
		   kp_zk_controller_endpoint(res.data, (size_t)res.len, &f->ep, err,
					     sizeof(err)) == 0;
	kp_zk_result_free(&res);
}

/* Back on the worker: connect and send. */
static void found_controller(void *arg, bool ran)
{
	struct forward *f = arg;
	struct net_req *r = f->r;
	struct kp_client_opts opts = { .client_id = "kbroker-forward",
				       .connect_timeout_ms = 5000,
				       .request_timeout_ms = FORWARD_TIMEOUT_MS };
	char err[256];

	if (!ran || !f->found) {
		reply_error(r, KP_ERR_NOT_CONTROLLER);
		return;
	}
	if (broker_controller_opts(r->worker->broker, &f->ep, &opts, err, sizeof(err)) < 0) {
		KP_WARN("%s: cannot forward %s to the controller: %s", r->peer,
			r->api->name, err);
		reply_error(r, KP_ERR_NOT_CONTROLLER);
		return;
	}
	purgatory_watch(r->worker->home, &f->op, &forward_type, NULL, 0, -1);
	f->starting = true;
	f->conn = kp_conn_start(r->worker->loop, f->ep.host, f->ep.port, &opts,
				on_state, f);
	f->starting = false;
	if (f->conn == NULL || f->failed) {
		KP_WARN("%s: cannot reach the controller at %s:%d for %s", r->peer,
			f->ep.host, f->ep.port, r->api->name);
		finish(f, NULL);
	}
}

void api_forward(struct net_req *r)
{
	struct forward *f = kp_arena_calloc(&r->arena, 1, sizeof(*f));

	/* the request outlives this call: it owns its frame */
	if (f == NULL || net_req_detach(r) < 0) {
		net_req_fail(r, "out of memory");
		return;
	}
	f->r = r;
	f->req = r->body;
	if (r->worker->broker->zk == NULL) {
		reply_error(r, KP_ERR_NOT_CONTROLLER);
		return;
	}
	zk_thread_call(r->worker->broker, r->worker->home, find_controller,
		       found_controller, f);
}
