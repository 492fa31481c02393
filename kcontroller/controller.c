/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller.c - what each controller event does (Kafka's
 * KafkaController.process), and the controller's face to main.c and
 * server.c: start, stop, admin requests, session expiry.
 *
 * The event thread calls process() for one event at a time (ctl_event.c);
 * the modules below do the work:
 *
 *   ctl_failover   the controller election, becoming active, resigning
 *   ctl_broker     broker start and death, controlled shutdown
 *   ctl_alter_isr  ISR changes leaders ask for (AlterIsr)
 *   ctl_topic      new topics and partitions, topic deletion
 *   ctl_partition  the partition state machine, its elections, ISR changes
 *   election       preferred and unclean elections, auto rebalance
 *   reassign       partition reassignment
 *   ctl_batch      the requests to brokers, and their answers
 *   ctl_zk         ZooKeeper reads and fenced writes
 *   ctl_ctx        the context
 *
 * Nothing here blocks but what an event does on the event thread; the
 * calls of other threads (controller_request, controller_session_expired)
 * only put events.
 */
#include "config.h"

#include <stdlib.h>

#include "controller.h"
#include "ctl_alter_isr.h"
#include "ctl_batch.h"
#include "ctl_broker.h"
#include "ctl_ctx.h"
#include "ctl_event.h"
#include "ctl_logdir.h"
#include "ctl_failover.h"
#include "ctl_partition.h"
#include "ctl_topic.h"
#include "election.h"
#include "kp_answer.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "ctl_authz.h"
#include "kp_msgs.h"
#include "kp_zk.h"
#include "reassign.h"

/* An admin request, answered in full (refused when not active). */
static void request(struct controller *c, struct ctl_request *r)
{
	switch (r->api_key) {
	case KP_API_CONTROLLED_SHUTDOWN: {
		const struct kp_controlled_shutdown_req *req = r->req;

		ctl_broker_controlled_shutdown(c, req->broker_id, req->broker_epoch,
					       r->api_version >= 2, r->resp, r->arena);
		break;
	}
	case KP_API_ALTER_ISR:
		ctl_alter_isr(c, r);	/* answers, then checks reassignments */
		return;
	case KP_API_ELECT_LEADERS:
		election_elect_leaders(c, r->api_version, r->req, r->resp, r->arena);
		break;
	case KP_API_ALTER_PARTITION_REASSIGNMENTS:
		reassign_alter(c, r->req, r->resp, r->arena);
		break;
	case KP_API_LIST_PARTITION_REASSIGNMENTS:
		reassign_list(c, r->req, r->resp, r->arena);
		break;
	default:
		break;
	}
	r->done(r);
}

static void process_one(struct ctl_event *ev, void *arg);

/* The event thread's work: one event, to its end, then what scrapes see. */
static void process(struct ctl_event *ev, void *arg)
{
	process_one(ev, arg);
	ctl_metrics_publish(arg);
}

static void process_one(struct ctl_event *ev, void *arg)
{
	struct controller *c = arg;

	switch (ev->type) {
	case CTL_EV_STARTUP:
	case CTL_EV_CONTROLLER_CHANGE:
		ctl_failover_elect(c);
		return;
	case CTL_EV_EXPIRE:
		ctl_failover_expire(c);
		return;
	case CTL_EV_RESIGN:
		ctl_failover_resign(c);
		return;
	case CTL_EV_REQUEST:
		request(c, ev->u.request);
		return;
	case CTL_EV_LAI_RESPONSE:
		ctl_logdir_lai_response(c, ev);
		ctl_batch_lai_response(c, ev);
		return;
	case CTL_EV_STOP_RESPONSE:
		ctl_topic_stop_response(c, ev);
		return;
	default:
		break;
	}
	/* the rest is the active controller's: after a resignation (or while
	 * one is queued) they are dropped, and the next controller reads
	 * ZooKeeper afresh */
	if (!ctl_ctx_active(c)) {
		KP_DEBUG("%s: not the active controller; dropped",
			 ctl_event_name(ev->type));
		return;
	}
	switch (ev->type) {
	case CTL_EV_BROKER_CHANGE:
		ctl_broker_change(c);
		break;
	case CTL_EV_TOPIC_CHANGE:
		ctl_topic_change(c);
		break;
	case CTL_EV_PARTITION_MODIFICATION:
		ctl_topic_partition_modification(c, ev->u.topic.name);
		break;
	case CTL_EV_TOPIC_DELETION:
		ctl_topic_deletion(c);
		break;
	case CTL_EV_TOPIC_DELETION_RETRY:
		ctl_topic_deletion_resume(c);
		break;
	case CTL_EV_ISR_CHANGE:
		ctl_partition_isr_change(c);
		break;
	case CTL_EV_LOG_DIR_EVENT:
		ctl_logdir_event(c);
		break;
	case CTL_EV_REASSIGN_ISR_CHANGE:
		reassign_isr_change(c, ev->u.topic.name, ev->u.topic.partition);
		break;
	case CTL_EV_REASSIGN_ZNODE:
		reassign_znode(c);
		break;
	case CTL_EV_PREFERRED_ZNODE:
		election_preferred_znode(c);
		break;
	case CTL_EV_AUTO_REBALANCE:
		election_rebalance_run(c);
		break;
	default:
		break;
	}
}

/* Refuse an admin request from its own fields alone: preempting runs on
 * whichever thread cleared the queue, away from the context. */
static void refuse(struct ctl_request *r, int16_t err)
{
	switch (r->api_key) {
	case KP_API_CONTROLLED_SHUTDOWN:
		((struct kp_controlled_shutdown_resp *)r->resp)->error_code = err;
		break;
	case KP_API_ALTER_ISR:
		((struct kp_alter_isr_resp *)r->resp)->error_code = err;
		break;
	case KP_API_ELECT_LEADERS:
		(void)kp_answer_elect_leaders(r->req, err, r->resp, r->arena);
		break;
	case KP_API_ALTER_PARTITION_REASSIGNMENTS:
		((struct kp_alter_partition_reassignments_resp *)r->resp)->error_code = err;
		break;
	case KP_API_LIST_PARTITION_REASSIGNMENTS:
		((struct kp_list_partition_reassignments_resp *)r->resp)->error_code = err;
		break;
	default:
		break;
	}
	r->done(r);
}

/* An event dropped unprocessed: only a request needs an answer. */
static void preempt(struct ctl_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == CTL_EV_REQUEST)
		refuse(ev->u.request, KP_ERR_NOT_CONTROLLER);
}

int controller_init(struct controller *c)
{
	c->batch = ctl_batch_new();
	c->events = ctl_event_queue_new(process, preempt, c);
	return c->batch != NULL && c->events != NULL ? 0 : -1;
}

int controller_start(struct controller *c)
{
	if (ctl_event_start(c->events) < 0)
		return -1;
	ctl_event_put_wait(c->events, ctl_event_new(CTL_EV_STARTUP));
	return 0;
}

void controller_stop(struct controller *c)
{
	/* an event waiting for ZooKeeper to come back gives up */
	if (c->zk != NULL)
		kp_zk_interrupt(c->zk);
	if (c->events != NULL)
		ctl_event_stop(c->events);
	ctl_failover_resign(c);
}

void controller_free(struct controller *c)
{
	ctl_event_queue_free(c->events);
	c->events = NULL;
	ctl_batch_free(c->batch);
	c->batch = NULL;
	free(c->shutting_down);
	c->shutting_down = NULL;
}

void controller_request(struct controller *c, struct ctl_request *r)
{
	struct ctl_event *ev;

	/* every request here is about the cluster (ctl_authz.h) */
	if (!ctl_authz_allows(c, r)) {
		refuse(r, KP_ERR_CLUSTER_AUTHORIZATION_FAILED);
		return;
	}
	ev = ctl_event_new(CTL_EV_REQUEST);
	if (ev == NULL) {
		refuse(r, KP_ERR_UNKNOWN_SERVER_ERROR);
		return;
	}
	ev->u.request = r;
	ctl_event_put(c->events, ev);
}

void controller_session_expired(struct controller *c)
{
	ctl_event_clear_and_put(c->events, ctl_event_new(CTL_EV_EXPIRE));
}
