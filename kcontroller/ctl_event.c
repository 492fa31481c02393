/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_event.c - the controller's event queue and its thread; see
 * ctl_event.h.
 *
 * One mutex guards the queue and the scheduled list; the event thread
 * waits on a condition variable (monotonic clock) until an event is
 * queued or the earliest scheduled one is due.  Events are processed and
 * preempted outside the lock, so processing may put events (they run
 * after the current one) and preempting may answer requests.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_event.h"
#include "kp_log.h"

struct ctl_event_waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

struct ctl_event_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ctl_event *head, *tail;	/* queued, in order */
	struct ctl_event *scheduled;	/* by due_ms, then by scheduling order */
	size_t nqueued;
	bool started, stopping;
	pthread_t thread;
	ctl_event_fn process, preempt;
	void *arg;
};

static const char *const names[CTL_EV_NTYPES] = {
	[CTL_EV_STARTUP] = "Startup",
	[CTL_EV_CONTROLLER_CHANGE] = "ControllerChange",
	[CTL_EV_EXPIRE] = "Expire",
	[CTL_EV_RESIGN] = "Resign",
	[CTL_EV_BROKER_CHANGE] = "BrokerChange",
	[CTL_EV_TOPIC_CHANGE] = "TopicChange",
	[CTL_EV_PARTITION_MODIFICATION] = "PartitionModifications",
	[CTL_EV_TOPIC_DELETION] = "TopicDeletion",
	[CTL_EV_TOPIC_DELETION_RETRY] = "TopicDeletionRetry",
	[CTL_EV_ISR_CHANGE] = "IsrChangeNotification",
	[CTL_EV_LOG_DIR_EVENT] = "LogDirEventNotification",
	[CTL_EV_REASSIGN_ISR_CHANGE] = "PartitionReassignmentIsrChange",
	[CTL_EV_REASSIGN_ZNODE] = "PartitionReassignment",
	[CTL_EV_PREFERRED_ZNODE] = "PreferredReplicaElection",
	[CTL_EV_AUTO_REBALANCE] = "AutoPreferredReplicaLeaderElection",
	[CTL_EV_LAI_RESPONSE] = "LeaderAndIsrResponseReceived",
	[CTL_EV_STOP_RESPONSE] = "StopReplicaResponseReceived",
	[CTL_EV_REQUEST] = "ApiRequest",
};

const char *ctl_event_name(enum ctl_event_type type)
{
	return type >= 0 && type < CTL_EV_NTYPES && names[type] != NULL
	       ? names[type] : "?";
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ctl_event *ctl_event_new(enum ctl_event_type type)
{
	struct ctl_event *ev = calloc(1, sizeof(*ev));

	if (ev != NULL)
		ev->type = type;
	return ev;
}

void ctl_event_free(struct ctl_event *ev)
{
	if (ev == NULL)
		return;
	switch (ev->type) {
	case CTL_EV_PARTITION_MODIFICATION:
	case CTL_EV_REASSIGN_ISR_CHANGE:
		free(ev->u.topic.name);
		break;
	case CTL_EV_LAI_RESPONSE:
		for (int32_t i = 0; i < ev->u.lai.nerrors; i++)
			free(ev->u.lai.errors[i].topic);
		free(ev->u.lai.errors);
		for (int32_t i = 0; i < ev->u.lai.nstorage; i++)
			free(ev->u.lai.storage[i].topic);
		free(ev->u.lai.storage);
		break;
	case CTL_EV_STOP_RESPONSE:
		free(ev->u.stop.topic);
		break;
	default:
		break;
	}
	free(ev);
}

/* The event is done with (processed or preempted): wake a waiter, free. */
static void finish(struct ctl_event *ev)
{
	struct ctl_event_waiter *w = ev->waiter;

	ctl_event_free(ev);
	if (w != NULL) {
		pthread_mutex_lock(&w->mu);
		w->done = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
}

static void preempt_list(struct ctl_event_queue *q, struct ctl_event *ev)
{
	while (ev != NULL) {
		struct ctl_event *next = ev->next;

		if (q->preempt != NULL)
			q->preempt(ev, q->arg);
		finish(ev);
		ev = next;
	}
}

struct ctl_event_queue *ctl_event_queue_new(ctl_event_fn process,
					    ctl_event_fn preempt, void *arg)
{
	struct ctl_event_queue *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;

	if (q == NULL)
		return NULL;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	q->process = process;
	q->preempt = preempt;
	q->arg = arg;
	return q;
}

void ctl_event_queue_free(struct ctl_event_queue *q)
{
	if (q == NULL)
		return;
	preempt_list(q, q->head);
	preempt_list(q, q->scheduled);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}

/* Under the lock: move the due scheduled events to the queue's tail.
 * Returns the next deadline, or -1 when nothing is scheduled. */
static int64_t take_due(struct ctl_event_queue *q, int64_t now)
{
	while (q->scheduled != NULL && q->scheduled->due_ms <= now) {
		struct ctl_event *ev = q->scheduled;

		q->scheduled = ev->next;
		ev->next = NULL;
		if (q->tail != NULL)
			q->tail->next = ev;
		else
			q->head = ev;
		q->tail = ev;
		q->nqueued++;
	}
	return q->scheduled != NULL ? q->scheduled->due_ms : -1;
}

static void *run(void *arg)
{
	struct ctl_event_queue *q = arg;

	pthread_setname_np(pthread_self(), "ctl-events");
	pthread_mutex_lock(&q->mu);
	for (;;) {
		struct ctl_event *ev;
		int64_t next = take_due(q, mono_ms());

		if (q->stopping)
			break;
		if (q->head == NULL) {
			if (next < 0) {
				pthread_cond_wait(&q->cv, &q->mu);
			} else {
				struct timespec ts = { .tv_sec = next / 1000,
						       .tv_nsec = (next % 1000) * 1000000 };

				pthread_cond_timedwait(&q->cv, &q->mu, &ts);
			}
			continue;
		}
		ev = q->head;
		q->head = ev->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->nqueued--;
		ev->next = NULL;
		pthread_mutex_unlock(&q->mu);
		KP_TRACE("event %s", ctl_event_name(ev->type));
		q->process(ev, q->arg);
		finish(ev);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int ctl_event_start(struct ctl_event_queue *q)
{
	int rc;

	if (q->started)
		return -EALREADY;
	rc = pthread_create(&q->thread, NULL, run, q);
	if (rc != 0)
		return -rc;
	q->started = true;
	return 0;
}

void ctl_event_stop(struct ctl_event_queue *q)
{
	struct ctl_event *queued, *scheduled;

	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	queued = q->head;
	scheduled = q->scheduled;
	q->head = q->tail = q->scheduled = NULL;
	q->nqueued = 0;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	preempt_list(q, queued);
	preempt_list(q, scheduled);
	if (q->started) {
		pthread_join(q->thread, NULL);
		q->started = false;
	}
}

/* Queue ev (clear: preempt what is queued first). */
static void put(struct ctl_event_queue *q, struct ctl_event *ev, bool clear)
{
	struct ctl_event *dropped = NULL;

	if (ev == NULL)
		return;
	ev->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		preempt_list(q, ev);
		return;
	}
	if (clear) {
		dropped = q->head;
		q->head = q->tail = NULL;
		q->nqueued = 0;
	}
	if (q->tail != NULL)
		q->tail->next = ev;
	else
		q->head = ev;
	q->tail = ev;
	q->nqueued++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	preempt_list(q, dropped);
}

void ctl_event_put(struct ctl_event_queue *q, struct ctl_event *ev)
{
	put(q, ev, false);
}

void ctl_event_clear_and_put(struct ctl_event_queue *q, struct ctl_event *ev)
{
	put(q, ev, true);
}

void ctl_event_put_wait(struct ctl_event_queue *q, struct ctl_event *ev)
{
	struct ctl_event_waiter w = { .done = false };

	if (ev == NULL)
		return;
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	ev->waiter = &w;
	put(q, ev, false);
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
}

void ctl_event_schedule(struct ctl_event_queue *q, struct ctl_event *ev,
			int64_t delay_ms)
{
	struct ctl_event **pp;

	if (ev == NULL)
		return;
	ev->due_ms = mono_ms() + (delay_ms > 0 ? delay_ms : 0);
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		ev->next = NULL;
		preempt_list(q, ev);
		return;
	}
	for (pp = &q->scheduled; *pp != NULL && (*pp)->due_ms <= ev->due_ms;
	     pp = &(*pp)->next)
		;
	ev->next = *pp;
	*pp = ev;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void ctl_event_unschedule(struct ctl_event_queue *q, enum ctl_event_type type)
{
	struct ctl_event **pp, *dropped = NULL;

	pthread_mutex_lock(&q->mu);
	for (pp = &q->scheduled; *pp != NULL; ) {
		struct ctl_event *ev = *pp;

		if (ev->type != type) {
			pp = &ev->next;
			continue;
		}
		*pp = ev->next;
		ev->next = dropped;
		dropped = ev;
	}
	pthread_mutex_unlock(&q->mu);
	preempt_list(q, dropped);
}

size_t ctl_event_queued(struct ctl_event_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->nqueued;
	pthread_mutex_unlock(&q->mu);
	return n;
}
