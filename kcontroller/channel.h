/* SPDX-License-Identifier: Apache-2.0 */
/*
 * channel.h - the controller's request channel to one broker.
 *
 * As Kafka's ControllerChannelManager: one connection per live broker,
 * requests sent one at a time in the order queued, each resent after a
 * 100 ms back-off until it is answered or the broker is dropped.  Runs on
 * the controller's event loop (no send threads: the connection is
 * non-blocking).  Requests are encoded at the highest version both sides
 * speak; callers fill the request struct for every version (grouped and
 * ungrouped partition lists), and the encoder writes what the version has.
 *
 * Threads: the controller's event thread makes, fills and queues requests;
 * the loop's thread does the rest.  chan_new, chan_send and chan_free may
 * be called from any thread: sending and freeing are posted to the loop,
 * in the order called, so a channel is only ever touched there.  A
 * request's done function runs on the loop's thread.
 */
#ifndef CHANNEL_H
#define CHANNEL_H

#include <stdint.h>

#include "kp_arena.h"
#include "kp_loop.h"

struct channel;

/* resp: the API's response struct, or NULL when the request was dropped
 * (broker removed, controller resigning). */
typedef void (*chan_done_fn)(int32_t broker_id, int16_t api_key, void *resp,
			     void *arg);

struct chan_req {
	struct chan_req *next;
	struct channel *to;	/* set by chan_send */
	int16_t api_key;
	void *req;		/* the request struct, in arena */
	struct kp_arena arena;
	chan_done_fn done;	/* may be NULL */
	void *arg;
};

/* sec: the TLS and SASL settings of the connection (kp_client_opts'),
 * which must outlive the channel; NULL: plaintext. */
struct kp_client_opts;
struct channel *chan_new(struct kp_loop *loop, int32_t broker_id,
			 const char *host, int port, int timeout_ms,
			 const struct kp_client_opts *sec);
/* Drop queued requests (done gets NULL) and close (posted). */
void chan_free(struct channel *c);
/* A request to fill: allocate its struct and members in q->arena. */
struct chan_req *chan_req_new(int16_t api_key);
void chan_req_free(struct chan_req *q);
/* Queue q (the channel owns it from now on; posted). */
void chan_send(struct channel *c, struct chan_req *q);
int32_t chan_broker(const struct channel *c);

#endif /* CHANNEL_H */
