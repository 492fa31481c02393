/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller.h - the controller's face to main.c and server.c.
 *
 * Threads: the controller's work runs on its event thread (ctl_event.h),
 * one event at a time, as Kafka's controller runs on its single event
 * thread: ZooKeeper watches, broker responses, admin requests and timers
 * are put on its queue by the threads that see them (the main thread's
 * event loop: ZooKeeper watch delivery, broker channels, the listener).
 * Only the event thread blocks on ZooKeeper; only it touches the context
 * (ctl_ctx.h: struct controller).
 */
#ifndef CONTROLLER_H
#define CONTROLLER_H

#include "ctl_ctx.h"

struct ctl_request;

/* The event queue and the request batch (before the listener starts).
 * 0 or -1. */
int controller_init(struct controller *c);
/* Start the event thread; return once it has stood for election (won
 * it, or watches the winner).  0 or -1. */
int controller_start(struct controller *c);
/* Stop the event thread (what is queued is dropped, requests answered
 * NOT_CONTROLLER) and resign: from then on the calling thread owns
 * everything.  Channels close on the loop (run it once more). */
void controller_stop(struct controller *c);
/* After controller_stop and the loop's last run: free what is left. */
void controller_free(struct controller *c);
/* An admin request of the listener (any thread), answered through
 * r->done. */
void controller_request(struct controller *c, struct ctl_request *r);
/* The ZooKeeper session expired (any thread): what is queued is dropped;
 * the event thread resigns, reconnects and stands for election again. */
void controller_session_expired(struct controller *c);

#endif /* CONTROLLER_H */
