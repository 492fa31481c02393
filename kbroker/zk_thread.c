/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zk_thread.c - the thread for requests' ZooKeeper round trips; see
 * zk_thread.h.
 *
 * The thread runs a kp_loop of its own: a call is a posted function (so
 * calls run in order), and stopping is one more posted call, made under
 * the same lock that refuses calls from then on, so every accepted call
 * runs before it.  A call with a home is a delayed operation there, held
 * by this thread until run() returns: nothing else ends it (no timer; the
 * drain leaves held operations alone), so run() may use the request.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>

#include "broker.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "purgatory.h"
#include "zk_thread.h"

struct zk_thread {
	struct kp_loop *loop;
	pthread_t thread;
	pthread_mutex_t lock;		/* stopped, and posting */
	bool stopped;
};

/* One call (the op first: the purgatory hands it back). */
struct zk_call {
	struct delayed_op op;
	void (*run)(void *arg);
	void (*done)(void *arg, bool ran);
	void *arg;
	bool ran;
};

static void *zk_main(void *arg)
{
	struct zk_thread *t = arg;

	pthread_setname_np(pthread_self(), "kbroker-zk");
	kp_loop_run(t->loop);
	return NULL;
}

int zk_thread_start(struct broker *b, char *err, size_t errlen)
{
	struct zk_thread *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->loop = kp_loop_new()) == NULL) {
		free(t);
		snprintf(err, errlen, "cannot start the ZooKeeper thread: out of memory");
		return -1;
	}
	pthread_mutex_init(&t->lock, NULL);
	if (pthread_create(&t->thread, NULL, zk_main, t) != 0) {
		kp_loop_free(t->loop);
		pthread_mutex_destroy(&t->lock);
		free(t);
		snprintf(err, errlen, "cannot start the ZooKeeper thread");
		return -1;
	}
	b->zkt = t;
	return 0;
}

static void stop_loop(void *arg)
{
	kp_loop_stop(arg);
}

void zk_thread_stop(struct broker *b)
{
	struct zk_thread *t = b->zkt;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopped = true;
	/* after every accepted call; kp_loop_stop wakes it if this fails */
	if (kp_loop_post(t->loop, stop_loop, t->loop) < 0)
		kp_loop_stop(t->loop);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	b->zkt = NULL;
	kp_loop_free(t->loop);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Queue fn(arg) unless stopping.  0 or -1. */
static int post(struct zk_thread *t, void (*fn)(void *), void *arg)
{
	int rc = -1;

	if (t == NULL)
		return -1;
	pthread_mutex_lock(&t->lock);
	if (!t->stopped)
		rc = kp_loop_post(t->loop, fn, arg);
	pthread_mutex_unlock(&t->lock);
	return rc < 0 ? -1 : 0;
}

int zk_thread_post(struct broker *b, void (*run)(void *arg), void *arg)
{
	return post(b->zkt, run, arg);
}

/* ------------------------------------------------ calls with a home */

static void call_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct zk_call *c = (struct zk_call *)op;

	/* only this thread ends it (or zk_thread_call, refused): never
	 * expired, never drained */
	(void)end;
	c->done(c->arg, c->ran);
}

static void call_release(struct delayed_op *op)
{
	free(op);
}

static const struct delayed_op_type call_type = {
	"zookeeper", NULL, call_complete, call_release
};

/* On the ZooKeeper thread. */
static void call_run(void *arg)
{
	struct zk_call *c = arg;

	c->run(c->arg);
	c->ran = true;
	purgatory_complete_from(&c->op);
	purgatory_release(&c->op);
}

void zk_thread_call(struct broker *b, struct purgatory_home *home,
		    void (*run)(void *arg), void (*done)(void *arg, bool ran),
		    void *arg)
{
	struct zk_call *c = b->zkt != NULL ? calloc(1, sizeof(*c)) : NULL;

	if (c == NULL) {
		done(arg, false);
		return;
	}
	c->run = run;
	c->done = done;
	c->arg = arg;
	purgatory_watch(home, &c->op, &call_type, NULL, 0, -1);
	purgatory_hold(&c->op);
	if (post(b->zkt, call_run, c) == 0)
		return;
	/* refused (stopping): ended here, not run */
	purgatory_release(&c->op);
	purgatory_complete(&c->op);
}
