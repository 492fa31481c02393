/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_loop.h - a small event loop over epoll, in the spirit of Redis's ae.c.
 *
 * What it does: file events (readable / writable, level-triggered), timers
 * (a binary heap of caller-owned struct kp_timer, so arming and cancelling
 * never allocate), a hook run before every sleep (for flushing batched
 * output), and a cross-thread queue: any thread may kp_loop_post() a call,
 * which runs on the loop's thread, woken through an eventfd.  ZooKeeper
 * completions and the acceptor reach a loop this way.
 *
 * Everything except kp_loop_post() and kp_loop_stop() must be called from
 * the loop's own thread.
 */
#ifndef KP_LOOP_H
#define KP_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define KP_EV_READ 1
#define KP_EV_WRITE 2
/* Passed to the callback (never requested): the peer hung up or errored. */
#define KP_EV_ERROR 4

struct kp_loop;

typedef void (*kp_file_fn)(struct kp_loop *loop, int fd, int events,
			   void *arg);
typedef void (*kp_timer_fn)(struct kp_loop *loop, void *arg);
typedef void (*kp_call_fn)(void *arg);

/* A one-shot timer, embedded in its owner.  kp_timer_init() before use. */
struct kp_timer {
	int64_t when_ms;	/* monotonic deadline */
	uint64_t seq;		/* orders equal deadlines by arming time */
	int32_t heap_idx;	/* -1 when not armed */
	kp_timer_fn fn;
	void *arg;
};

/* Monotonic milliseconds. */
int64_t kp_now_ms(void);
/* Monotonic clock in microseconds. */
int64_t kp_now_us(void);
/* Wall-clock milliseconds since the epoch (Kafka's timestamps). */
int64_t kp_wall_ms(void);

/*
 * A daemon's signals: block SIGTERM, SIGINT and SIGPIPE in this thread
 * and every thread it starts afterwards; SIGTERM or SIGINT then logs, sets
 * *stopping and stops loop; a SIGPIPE of this thread (a TLS write to a
 * closed connection) is read and dropped.  Returns the signalfd (close it once the loop
 * is done) or -1.
 */
int kp_loop_stop_on_signals(struct kp_loop *loop, bool *stopping);

struct kp_loop *kp_loop_new(void);
/* Frees the loop; queued posts that never ran are dropped. */
void kp_loop_free(struct kp_loop *loop);

/*
 * Watch fd for events (KP_EV_READ | KP_EV_WRITE); calling again changes the
 * mask and callback.  Mask 0 keeps the fd registered but quiet.
 * Returns 0 or -errno.
 */
int kp_loop_watch(struct kp_loop *loop, int fd, int events, kp_file_fn fn,
		  void *arg);
/* Change only the event mask of a watched fd. */
int kp_loop_set_events(struct kp_loop *loop, int fd, int events);
int kp_loop_get_events(const struct kp_loop *loop, int fd);
/* Stop watching fd (before closing it).  Safe inside any callback. */
void kp_loop_unwatch(struct kp_loop *loop, int fd);

void kp_timer_init(struct kp_timer *t, kp_timer_fn fn, void *arg);
/* Arm (or re-arm) t to fire once, delay_ms from now. */
void kp_timer_start(struct kp_loop *loop, struct kp_timer *t, int64_t delay_ms);
/* Disarm t; harmless when it is not armed. */
void kp_timer_stop(struct kp_loop *loop, struct kp_timer *t);
static inline bool kp_timer_armed(const struct kp_timer *t)
{
	return t->heap_idx >= 0;
}

/* Run fn(arg) before each wait for events (one hook per loop). */
void kp_loop_before_sleep(struct kp_loop *loop, kp_call_fn fn, void *arg);

/*
 * Queue fn(arg) to run on the loop's thread.  Thread-safe; calls run in the
 * order posted.  Returns 0, or -ENOMEM.
 */
int kp_loop_post(struct kp_loop *loop, kp_call_fn fn, void *arg);

/*
 * A call posted without allocating (a wake-up posted at every append, a
 * completion that must not fail): embedded in its owner, which must not
 * queue it again before it has started to run (a flag the owner clears
 * first thing in fn coalesces repeated posts).  Fields are the loop's.
 */
struct kp_loop_call {
	struct kp_loop_call *next;
	kp_call_fn fn;
	void *arg;
	bool embedded;
};

void kp_loop_call_init(struct kp_loop_call *c, kp_call_fn fn, void *arg);
/* Queue c to run on the loop's thread, in order with kp_loop_post's
 * calls.  Thread-safe; never fails. */
void kp_loop_post_call(struct kp_loop *loop, struct kp_loop_call *c);

/* Process events until kp_loop_stop().  Returns 0, or -errno. */
int kp_loop_run(struct kp_loop *loop);
/* Nanoseconds the loop has spent waiting for events (idle), from any
 * thread. */
uint64_t kp_loop_idle_ns(struct kp_loop *loop);
/* One iteration: wait at most timeout_ms (-1: until something happens). */
int kp_loop_run_once(struct kp_loop *loop, int timeout_ms);
/* Make kp_loop_run() return after the current iteration.  Thread-safe. */
void kp_loop_stop(struct kp_loop *loop);

#endif /* KP_LOOP_H */
