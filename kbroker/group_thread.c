/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_thread.c - the group coordinator's thread, its loop and its
 * deadline heap (see group_thread.h).
 */
#include "group_thread.h"

#include <stdlib.h>

#include "kp_log.h"

/* armed_at while the timer's call runs: it arms the timer when done */
#define ARMING INT64_MIN

/* ------------------------------------------------------------ the heap */

static void heap_put(struct group_thread *t, uint32_t i, struct group_deadline *d)
{
	t->heap[i] = d;
	d->pos = i + 1;
}

static void heap_up(struct group_thread *t, uint32_t i)
{
	struct group_deadline *d = t->heap[i];

	while (i > 0 && d->at < t->heap[(i - 1) / 2]->at) {
		heap_put(t, i, t->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_put(t, i, d);
}

static void heap_down(struct group_thread *t, uint32_t i)
{
	struct group_deadline *d = t->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m = l;

		if (l >= t->n)
			break;
		if (l + 1 < t->n && t->heap[l + 1]->at < t->heap[l]->at)
			m = l + 1;
		if (!(t->heap[m]->at < d->at))
			break;
		heap_put(t, i, t->heap[m]);
		i = m;
	}
	heap_put(t, i, d);
}

int group_thread_reserve(struct group_thread *t, uint32_t n)
{
	uint32_t cap = t->cap ? t->cap : 64;
	struct group_deadline **h;

	if (n <= t->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	h = realloc(t->heap, (size_t)cap * sizeof(*h));
	if (h == NULL)
		return -1;
	t->heap = h;
	t->cap = cap;
	return 0;
}

void group_deadline_init(struct group_deadline *d, group_deadline_fn fn, void *arg)
{
	d->at = 0;
	d->pos = 0;
	d->fn = fn;
	d->arg = arg;
}

void group_deadline_cancel(struct group_thread *t, struct group_deadline *d)
{
	uint32_t i;

	if (d->pos == 0)
		return;
	i = d->pos - 1;
	d->pos = 0;
	d->at = 0;
	if (--t->n == i)
		return;
	{
		struct group_deadline *last = t->heap[t->n];

		heap_put(t, i, last);
		if (i > 0 && last->at < t->heap[(i - 1) / 2]->at)
			heap_up(t, i);
		else
			heap_down(t, i);
	}
}

/* ------------------------------------------------------------ arming */

static void rearm_run(void *arg);

/* Arm the timer at the first deadline (the thread, lock held). */
static void arm(struct group_thread *t, int64_t now)
{
	if (t->n == 0) {
		kp_timer_stop(t->loop, &t->timer);
		t->armed_at = 0;
		return;
	}
	kp_timer_start(t->loop, &t->timer, t->heap[0]->at > now ? t->heap[0]->at - now : 0);
	t->armed_at = t->heap[0]->at;
}

/* Something is due at `at`: the thread re-arms unless the timer fires by
 * then (any thread, lock held). */
static void wake_by(struct group_thread *t, int64_t at)
{
	if (t->armed_at != 0 && t->armed_at <= at)	/* ARMING too */
		return;
	if (!t->running || atomic_exchange(&t->rearm_posted, true))
		return;
	if (kp_loop_post(t->loop, rearm_run, t) < 0) {
		atomic_store(&t->rearm_posted, false);
		KP_ERROR("group coordinator: cannot queue a timer update");
	}
}

/* Posted by wake_by: something is due before the armed time. */
static void rearm_run(void *arg)
{
	struct group_thread *t = arg;

	atomic_store(&t->rearm_posted, false);
	pthread_mutex_lock(t->lock);
	if (t->armed_at == 0 || (t->n > 0 && t->heap[0]->at < t->armed_at))
		arm(t, kp_now_ms());
	pthread_mutex_unlock(t->lock);
}

void group_deadline_set(struct group_thread *t, struct group_deadline *d, int64_t at)
{
	if (at == 0) {
		group_deadline_cancel(t, d);
		return;
	}
	if (d->pos == 0) {
		if (t->n >= t->cap && group_thread_reserve(t, t->n + 1) < 0) {
			/* cannot happen: reserved by the owner */
			KP_ERROR("group coordinator: no room for a deadline");
			return;
		}
		d->at = at;
		heap_put(t, t->n++, d);
		heap_up(t, d->pos - 1);
	} else if (at < d->at) {
		d->at = at;
		heap_up(t, d->pos - 1);
	} else if (at > d->at) {
		d->at = at;
		heap_down(t, d->pos - 1);
	}
	wake_by(t, at);
}

void group_deadline_by(struct group_thread *t, struct group_deadline *d, int64_t at)
{
	if (d->pos != 0 && d->at <= at)
		return;
	group_deadline_set(t, d, at);
}

void group_thread_run_due(struct group_thread *t, int64_t now)
{
	while (t->n > 0 && t->heap[0]->at <= now) {
		struct group_deadline *d = t->heap[0];

		group_deadline_cancel(t, d);
		d->fn(d, now);
		/* what its owner has left is later (a deadline at now has
		 * fired): never spin on a deadline that does not move */
		if (d->pos != 0 && d->at <= now)
			group_deadline_set(t, d, now + 1);
	}
}

/* ------------------------------------------------------------ the thread */

static void on_timer(struct kp_loop *loop, void *arg)
{
	struct group_thread *t = arg;
	int64_t now = kp_now_ms();

	(void)loop;
	pthread_mutex_lock(t->lock);
	t->armed_at = ARMING;
	group_thread_run_due(t, now);
	arm(t, now);
	pthread_mutex_unlock(t->lock);
}

static void *thread_main(void *arg)
{
	struct group_thread *t = arg;

	kp_loop_run(t->loop);
	return NULL;
}

int group_thread_init(struct group_thread *t, pthread_mutex_t *lock)
{
	t->lock = lock;
	t->running = false;
	t->armed_at = 0;
	atomic_init(&t->rearm_posted, false);
	t->heap = NULL;
	t->n = t->cap = 0;
	kp_timer_init(&t->timer, on_timer, t);
	t->loop = kp_loop_new();
	return t->loop != NULL ? 0 : -1;
}

int group_thread_start(struct group_thread *t)
{
	/* no thread yet: arming from here is safe */
	arm(t, kp_now_ms());
	if (pthread_create(&t->tid, NULL, thread_main, t) != 0)
		return -1;
	t->running = true;
	return 0;
}

void group_thread_stop(struct group_thread *t)
{
	if (!t->running)
		return;
	kp_loop_stop(t->loop);
	pthread_join(t->tid, NULL);
	pthread_mutex_lock(t->lock);
	t->running = false;
	pthread_mutex_unlock(t->lock);
}

void group_thread_free(struct group_thread *t)
{
	if (t->loop != NULL)
		kp_loop_free(t->loop);
	t->loop = NULL;
	free(t->heap);
	t->heap = NULL;
	t->n = t->cap = 0;
}

int group_thread_post(struct group_thread *t, void (*fn)(void *), void *arg)
{
	return kp_loop_post(t->loop, fn, arg);
}
