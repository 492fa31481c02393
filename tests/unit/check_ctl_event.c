/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ctl_event.c - the controller's event queue (kcontroller/ctl_event.c):
 * one thread processes events in the order put, an event put while
 * another is processed runs after it, clear_and_put preempts what is
 * queued (requests still get their answer), scheduled events wait for
 * their delay, and after stop every event is preempted at once.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "ctl_event.h"

#define WAIT_MS 10000		/* generous: the machine may be busy */
#define MAXREC 256

/* What the test's process and preempt functions saw. */
struct rec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char seen[MAXREC][64];		/* "process Name[:topic]" or "preempt ..." */
	int n;
	pthread_t threads[MAXREC];	/* the thread each ran on */
	int64_t at_ms[MAXREC];
	/* a gate the first processed event may wait at */
	bool hold, holding;
	struct ctl_event_queue *q;	/* for events put from process */
	int requests_done;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
}

static void rec_add(struct rec *r, const char *what, const struct ctl_event *ev)
{
	pthread_mutex_lock(&r->mu);
	if (r->n < MAXREC) {
		snprintf(r->seen[r->n], sizeof(r->seen[0]), "%s %s%s%s", what,
			 ctl_event_name(ev->type),
			 ev->type == CTL_EV_PARTITION_MODIFICATION ? ":" : "",
			 ev->type == CTL_EV_PARTITION_MODIFICATION
			 ? ev->u.topic.name : "");
		r->threads[r->n] = pthread_self();
		r->at_ms[r->n] = mono_ms();
		r->n++;
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Wait until n records exist; false after WAIT_MS. */
static bool rec_wait(struct rec *r, int n)
{
	int64_t end = mono_ms() + WAIT_MS;
	bool ok;

	pthread_mutex_lock(&r->mu);
	while (r->n < n && mono_ms() < end) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	ok = r->n >= n;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static struct ctl_event *topic_event(const char *topic)
{
	struct ctl_event *ev = ctl_event_new(CTL_EV_PARTITION_MODIFICATION);

	ck_assert_ptr_nonnull(ev);
	ev->u.topic.name = strdup(topic);
	return ev;
}

static void process(struct ctl_event *ev, void *arg)
{
	struct rec *r = arg;

	rec_add(r, "process", ev);
	pthread_mutex_lock(&r->mu);
	if (r->hold) {
		r->holding = true;
		pthread_cond_broadcast(&r->cv);
		while (r->hold)
			pthread_cond_wait(&r->cv, &r->mu);
		r->holding = false;
	}
	pthread_mutex_unlock(&r->mu);
	/* a Startup that finds we were fenced: the resignation is an event
	 * of its own, after this one */
	if (ev->type == CTL_EV_STARTUP && r->q != NULL) {
		ctl_event_put(r->q, ctl_event_new(CTL_EV_RESIGN));
		rec_add(r, "end", ev);
	}
	if (ev->type == CTL_EV_REQUEST)
		ev->u.request->done(ev->u.request);
}

static void preempt(struct ctl_event *ev, void *arg)
{
	rec_add(arg, "preempt", ev);
	if (ev->type == CTL_EV_REQUEST)
		ev->u.request->done(ev->u.request);
}

static struct rec *done_rec;

static void request_done(struct ctl_request *req)
{
	pthread_mutex_lock(&done_rec->mu);
	done_rec->requests_done++;
	pthread_mutex_unlock(&done_rec->mu);
	(void)req;
}

/* Hold the event thread in the next event it processes. */
static void hold(struct rec *r)
{
	pthread_mutex_lock(&r->mu);
	r->hold = true;
	pthread_mutex_unlock(&r->mu);
}

static bool wait_holding(struct rec *r)
{
	int64_t end = mono_ms() + WAIT_MS;
	bool ok;

	pthread_mutex_lock(&r->mu);
	while (!r->holding && mono_ms() < end) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	ok = r->holding;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static void release(struct rec *r)
{
	pthread_mutex_lock(&r->mu);
	r->hold = false;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

struct producer {
	struct ctl_event_queue *q;
	char name;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (int i = 0; i < 50; i++) {
		char t[16];

		snprintf(t, sizeof(t), "%c%02d", p->name, i);
		ctl_event_put(p->q, topic_event(t));
	}
	return NULL;
}

START_TEST(events_are_processed_in_the_order_put_on_one_thread)
{
	struct rec r;
	struct ctl_event_queue *q;
	struct producer pa, pb;
	pthread_t ta, tb;
	int next_a = 0, next_b = 0;

	rec_init(&r);
	q = ctl_event_queue_new(process, preempt, &r);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(ctl_event_start(q), 0);
	pa = (struct producer){ q, 'a' };
	pb = (struct producer){ q, 'b' };
	pthread_create(&ta, NULL, produce, &pa);
	pthread_create(&tb, NULL, produce, &pb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert(rec_wait(&r, 100));
	for (int i = 0; i < 100; i++) {
		char want[64];
		const char *t = strchr(r.seen[i], ':');

		ck_assert_ptr_nonnull(t);
		/* each producer's events in its order, interleaved anyhow */
		snprintf(want, sizeof(want), ":%c%02d", t[1], t[1] == 'a' ? next_a : next_b);
		ck_assert_str_eq(t, want);
		if (t[1] == 'a')
			next_a++;
		else
			next_b++;
		ck_assert(pthread_equal(r.threads[i], r.threads[0]));
		ck_assert(!pthread_equal(r.threads[i], pthread_self()));
	}
	ck_assert_int_eq(next_a, 50);
	ck_assert_int_eq(next_b, 50);
	ctl_event_stop(q);
	ctl_event_queue_free(q);
	ck_assert_int_eq(r.n, 100);	/* nothing preempted: all were done */
}
END_TEST

START_TEST(an_event_put_while_processing_runs_after_the_queued_ones)
{
	struct rec r;
	struct ctl_event_queue *q;

	rec_init(&r);
	q = ctl_event_queue_new(process, preempt, &r);
	r.q = q;
	hold(&r);
	ck_assert_int_eq(ctl_event_start(q), 0);
	ctl_event_put(q, ctl_event_new(CTL_EV_STARTUP));
	ck_assert(wait_holding(&r));
	/* queued while Startup is processed */
	ctl_event_put(q, ctl_event_new(CTL_EV_BROKER_CHANGE));
	ck_assert_uint_eq(ctl_event_queued(q), 1);
	release(&r);
	ck_assert(rec_wait(&r, 4));
	ck_assert_str_eq(r.seen[0], "process Startup");
	ck_assert_str_eq(r.seen[1], "end Startup");	/* not cut short */
	ck_assert_str_eq(r.seen[2], "process BrokerChange");
	ck_assert_str_eq(r.seen[3], "process Resign");
	ctl_event_stop(q);
	ctl_event_queue_free(q);
	ck_assert_int_eq(r.n, 4);
}
END_TEST

START_TEST(clear_and_put_preempts_the_queue_and_answers_requests)
{
	struct rec r;
	struct ctl_event_queue *q;
	struct ctl_request req = { .done = request_done };
	struct ctl_event *ev;

	rec_init(&r);
	done_rec = &r;
	q = ctl_event_queue_new(process, preempt, &r);
	hold(&r);
	ck_assert_int_eq(ctl_event_start(q), 0);
	ctl_event_put(q, ctl_event_new(CTL_EV_BROKER_CHANGE));
	ck_assert(wait_holding(&r));
	ctl_event_put(q, topic_event("t"));
	ev = ctl_event_new(CTL_EV_REQUEST);
	ev->u.request = &req;
	ctl_event_put(q, ev);
	ctl_event_clear_and_put(q, ctl_event_new(CTL_EV_EXPIRE));
	/* preempted at once, on this thread, before the held event ends */
	ck_assert_int_eq(r.n, 3);
	ck_assert_str_eq(r.seen[1], "preempt PartitionModifications:t");
	ck_assert_str_eq(r.seen[2], "preempt ApiRequest");
	ck_assert(pthread_equal(r.threads[1], pthread_self()));
	ck_assert_int_eq(r.requests_done, 1);
	ck_assert_uint_eq(ctl_event_queued(q), 1);
	release(&r);
	ck_assert(rec_wait(&r, 4));
	ck_assert_str_eq(r.seen[3], "process Expire");
	ctl_event_stop(q);
	ctl_event_queue_free(q);
	ck_assert_int_eq(r.n, 4);
}
END_TEST

START_TEST(scheduled_events_wait_for_their_delay_and_can_be_dropped)
{
	struct rec r;
	struct ctl_event_queue *q;
	int64_t t0;

	rec_init(&r);
	q = ctl_event_queue_new(process, preempt, &r);
	ck_assert_int_eq(ctl_event_start(q), 0);
	t0 = mono_ms();
	ctl_event_schedule(q, ctl_event_new(CTL_EV_AUTO_REBALANCE), 300);
	ctl_event_schedule(q, ctl_event_new(CTL_EV_ISR_CHANGE), 150);
	ctl_event_schedule(q, ctl_event_new(CTL_EV_PREFERRED_ZNODE), 100);
	ctl_event_unschedule(q, CTL_EV_PREFERRED_ZNODE);
	ck_assert_int_eq(r.n, 1);	/* preempted, not processed */
	ck_assert_str_eq(r.seen[0], "preempt PreferredReplicaElection");
	ctl_event_put(q, ctl_event_new(CTL_EV_TOPIC_CHANGE));
	ck_assert(rec_wait(&r, 4));
	ck_assert_str_eq(r.seen[1], "process TopicChange");
	ck_assert_str_eq(r.seen[2], "process IsrChangeNotification");
	ck_assert_str_eq(r.seen[3], "process AutoPreferredReplicaLeaderElection");
	ck_assert_int_ge(r.at_ms[2] - t0, 150);
	ck_assert_int_ge(r.at_ms[3] - t0, 300);
	ctl_event_stop(q);
	ctl_event_queue_free(q);
	ck_assert_int_eq(r.n, 4);
}
END_TEST

START_TEST(stop_preempts_what_waits_and_every_later_event)
{
	struct rec r;
	struct ctl_event_queue *q;
	struct ctl_request req = { .done = request_done };
	struct ctl_event *ev;

	rec_init(&r);
	done_rec = &r;
	q = ctl_event_queue_new(process, preempt, &r);
	ck_assert_int_eq(ctl_event_start(q), 0);
	ctl_event_put_wait(q, ctl_event_new(CTL_EV_STARTUP));
	ck_assert_int_eq(r.n, 1);	/* processed when put_wait returns */
	ctl_event_schedule(q, ctl_event_new(CTL_EV_AUTO_REBALANCE), 60000);
	ctl_event_stop(q);
	ck_assert_int_eq(r.n, 2);
	ck_assert_str_eq(r.seen[1], "preempt AutoPreferredReplicaLeaderElection");
	/* after stop: preempted at once, a request answered, a waiter woken */
	ev = ctl_event_new(CTL_EV_REQUEST);
	ev->u.request = &req;
	ctl_event_put(q, ev);
	ctl_event_put_wait(q, ctl_event_new(CTL_EV_BROKER_CHANGE));
	ck_assert_int_eq(r.n, 4);
	ck_assert_str_eq(r.seen[2], "preempt ApiRequest");
	ck_assert_str_eq(r.seen[3], "preempt BrokerChange");
	ck_assert_int_eq(r.requests_done, 1);
	ctl_event_queue_free(q);
}
END_TEST

START_TEST(every_event_type_has_a_name)
{
	for (int t = 0; t < CTL_EV_NTYPES; t++)
		ck_assert_str_ne(ctl_event_name(t), "?");
	ck_assert_str_eq(ctl_event_name(CTL_EV_NTYPES), "?");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ctl_event");
	TCase *tc = tcase_create("queue");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, events_are_processed_in_the_order_put_on_one_thread);
	tcase_add_test(tc, an_event_put_while_processing_runs_after_the_queued_ones);
	tcase_add_test(tc, clear_and_put_preempts_the_queue_and_answers_requests);
	tcase_add_test(tc, scheduled_events_wait_for_their_delay_and_can_be_dropped);
	tcase_add_test(tc, stop_preempts_what_waits_and_every_later_event);
	tcase_add_test(tc, every_event_type_has_a_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
