/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_thread.h - the group coordinator's thread: its event loop, and the
 * deadlines that fire on it.
 *
 * A deadline (struct group_deadline) is embedded in what it belongs to: a
 * group (its earliest session, join-phase, sync or member-id deadline),
 * the store's queue of appends waiting for the ISR (the first one's
 * timeout), the store's offset expiry (the next round).  All sit in one
 * binary heap, earliest first, under the coordinator's lock, and the
 * thread's one kp_timer is armed at the top.
 *
 * Deadlines are set from any thread with the lock held (a network worker
 * handling a JoinGroup, say), but a kp_timer may only be armed on its own
 * loop's thread: setting a deadline earlier than the armed time posts the
 * thread a call to re-arm; one that moves later needs nothing - the timer
 * fires early, finds nothing due, and is armed at the new top.  When a
 * deadline passes, its function runs on the thread (or on a worker that
 * asks for what is due at once, group_thread_run_due), lock held; it sets
 * the deadline again when its owner has a later one.
 *
 * Setting a deadline never allocates: room in the heap is reserved when
 * its owner comes to exist (group_thread_reserve).
 */
#ifndef GROUP_THREAD_H
#define GROUP_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kp_loop.h"

struct group_deadline;
/* d has passed (lock held); d is out of the heap.  It must not free d. */
typedef void (*group_deadline_fn)(struct group_deadline *d, int64_t now);

struct group_deadline {
	int64_t at;			/* monotonic ms (kp_now_ms); 0: none */
	uint32_t pos;			/* 1 + index in the heap; 0: not in it */
	group_deadline_fn fn;
	void *arg;			/* for fn */
};

struct group_thread {
	pthread_mutex_t *lock;		/* the coordinator's: guards the heap */
	struct kp_loop *loop;
	pthread_t tid;
	bool running;			/* between start and stop */
	struct kp_timer timer;		/* this thread's only */
	int64_t armed_at;		/* when timer fires; 0: not armed */
	atomic_bool rearm_posted;	/* a re-arm call is queued */
	struct group_deadline **heap;	/* earliest first */
	uint32_t n, cap;
};

/* The loop, no thread yet; lock is the coordinator's.  0 or -1. */
int group_thread_init(struct group_thread *t, pthread_mutex_t *lock);
/* Arm the timer at the first deadline and start the thread.  0 or -1. */
int group_thread_start(struct group_thread *t);
/* Stop and join the thread (lock not held); deadlines no longer fire by
 * themselves, posted calls no longer run. */
void group_thread_stop(struct group_thread *t);
/* After stop: the loop and the heap (the deadlines are their owners'). */
void group_thread_free(struct group_thread *t);
/* Run fn(arg) on the thread (any thread, any lock).  0 or -1. */
int group_thread_post(struct group_thread *t, void (*fn)(void *), void *arg);

/* Room for n deadlines in the heap.  0 or -1 (out of memory). */
int group_thread_reserve(struct group_thread *t, uint32_t n);
void group_deadline_init(struct group_deadline *d, group_deadline_fn fn, void *arg);
/* d fires at `at` exactly, earlier or later than before; 0 cancels.  The
 * heap must have room (reserved). */
void group_deadline_set(struct group_thread *t, struct group_deadline *d, int64_t at);
/* d fires at `at` or earlier: moved only when that is earlier. */
void group_deadline_by(struct group_thread *t, struct group_deadline *d, int64_t at);
void group_deadline_cancel(struct group_thread *t, struct group_deadline *d);
/* Run every deadline that is due at now (lock held, any thread). */
void group_thread_run_due(struct group_thread *t, int64_t now);

#endif /* GROUP_THREAD_H */
