/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zk_thread.h - the thread that runs requests' ZooKeeper round trips, so
 * no network worker ever blocks on ZooKeeper (Kafka runs such work on its
 * request handler threads, never on its network threads).
 *
 * A handler that needs ZooKeeper (admin writes, a topic's configuration,
 * the controller's endpoint) parks its request and calls
 * zk_thread_call(): run(arg) executes here, where it may block on
 * ZooKeeper and read and fill the request's arena (the request is parked
 * and its worker does not touch it meanwhile; the handler made it own its
 * frame with net_req_detach first), then done(arg, true) runs on the
 * request's worker as the completion of a delayed operation (purgatory.h),
 * which the worker serves its other connections until.  Calls run one at
 * a time, in the order they were made.  zk_thread_post() runs work that
 * answers nobody.
 *
 * Shutdown: zk_thread_stop() runs every call already made, then stops;
 * calls made after it (or without a thread: no ZooKeeper) get
 * done(arg, false) at once, on the caller's thread.  It runs before the
 * network stops, so every done() is posted to a worker that still runs.
 */
#ifndef ZK_THREAD_H
#define ZK_THREAD_H

#include <stdbool.h>
#include <stddef.h>

struct broker;
struct purgatory_home;

/* Start b->zkt.  0, or -1 with a message. */
int zk_thread_start(struct broker *b, char *err, size_t errlen);
/* Run what was called so far, then stop and free b->zkt. */
void zk_thread_stop(struct broker *b);

/*
 * On home's thread: run(arg) on the ZooKeeper thread, then done(arg, true)
 * on home's thread; or done(arg, false) before returning when the thread
 * is stopping or missing, or memory is short.
 */
void zk_thread_call(struct broker *b, struct purgatory_home *home,
		    void (*run)(void *arg), void (*done)(void *arg, bool ran),
		    void *arg);
/* Any thread: run(arg) on the ZooKeeper thread, nothing after.  0, or -1
 * (not queued: arg is still the caller's). */
int zk_thread_post(struct broker *b, void (*run)(void *arg), void *arg);

#endif /* ZK_THREAD_H */
