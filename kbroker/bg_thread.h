/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bg_thread.h - a background thread that works in rounds, sleeps between
 * them on the monotonic clock, and stops promptly when asked (the log
 * manager and the log cleaner).
 */
#ifndef BG_THREAD_H
#define BG_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct bg_thread {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* CLOCK_MONOTONIC */
	atomic_bool stop;
	char name[16];			/* the thread's name (15 characters) */
	void *(*run)(void *);
	void *arg;
};

/* Start run(arg) on a thread called name.  0 or an errno value. */
int bg_thread_start(struct bg_thread *t, const char *name,
		    void *(*run)(void *), void *arg);
/* Sleep up to ms, or less when stopped: false once stopping. */
bool bg_thread_sleep(struct bg_thread *t, int64_t ms);
static inline bool bg_thread_stopping(struct bg_thread *t)
{
	return atomic_load(&t->stop);
}
/* Ask it to stop, wake it, and wait for it to end. */
void bg_thread_stop(struct bg_thread *t);

#endif /* BG_THREAD_H */
