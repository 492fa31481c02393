/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bg_thread.c - background threads that sleep between rounds (see
 * bg_thread.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bg_thread.h"

static void *trampoline(void *arg)
{
	struct bg_thread *t = arg;

	pthread_setname_np(pthread_self(), t->name);
	return t->run(t->arg);
}

int bg_thread_start(struct bg_thread *t, const char *name,
		    void *(*run)(void *), void *arg)
{
	pthread_condattr_t ca;
	int rc;

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->run = run;
	t->arg = arg;
	atomic_init(&t->stop, false);
	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&t->thread, NULL, trampoline, t);
	if (rc != 0) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
	}
	return rc;
}

bool bg_thread_sleep(struct bg_thread *t, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ms < 0)
		ms = 0;
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&t->mu);
	if (!atomic_load(&t->stop))
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	pthread_mutex_unlock(&t->mu);
	return !atomic_load(&t->stop);
}

void bg_thread_stop(struct bg_thread *t)
{
	pthread_mutex_lock(&t->mu);
	atomic_store(&t->stop, true);
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
}
