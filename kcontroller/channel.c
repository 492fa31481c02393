/* SPDX-License-Identifier: Apache-2.0 */
/*
 * channel.c - a controller-to-broker request channel; see channel.h.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "kp_client.h"
#include "kp_log.h"
#include "kp_proto.h"

#define RETRY_MS 100

struct channel {
	struct kp_loop *loop;
	int32_t broker_id;
	char *host;
	int port;
	struct kp_client_opts opts;
	struct kp_conn *conn;
	bool ready;
	bool inflight;
	struct chan_req *head, *tail;
	struct kp_timer retry;
	int failures;
};

static void pump(struct channel *c);

struct chan_req *chan_req_new(int16_t api_key)
{
	struct chan_req *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->api_key = api_key;
	kp_arena_init(&q->arena, 0);
	return q;
}

void chan_req_free(struct chan_req *q)
{
	if (q == NULL)
		return;
	kp_arena_free(&q->arena);
	free(q);
}

int32_t chan_broker(const struct channel *c)
{
	return c->broker_id;
}

static void drop_conn(struct channel *c)
{
	struct kp_conn *conn = c->conn;

	c->conn = NULL;
	c->ready = false;
	c->inflight = false;
	if (conn != NULL)
		kp_conn_free(conn);	/* an outstanding callback sees conn != c->conn */
}

static void schedule_retry(struct channel *c)
{
	if (!kp_timer_armed(&c->retry))
		kp_timer_start(c->loop, &c->retry, RETRY_MS);
}

static void on_state(struct kp_conn *conn, enum kp_conn_state st, int err,
		     void *arg)
{
	struct channel *c = arg;

	if (conn != c->conn)
		return;
	if (st == KP_CONN_READY) {
		c->ready = true;
		if (c->failures > 0)
			KP_INFO("connected to broker %d at %s:%d", c->broker_id, c->host,
				c->port);
		c->failures = 0;
		pump(c);
	} else if (st == KP_CONN_CLOSED) {
		if (c->failures++ == 0)
			KP_WARN("connection to broker %d at %s:%d lost: %s", c->broker_id,
				c->host, c->port, strerror(-err));
		drop_conn(c);
		schedule_retry(c);
	}
}

static void on_resp(struct kp_conn *conn, int err, int16_t api_key,
		    int16_t version, void *resp, void *arg)
{
	struct channel *c = arg;
	struct chan_req *q;

	(void)version;
	if (conn != c->conn)
		return;		/* a connection we dropped */
	if (err < 0) {
		if (c->failures++ == 0)
			KP_WARN("%s to broker %d failed: %s; retrying",
				kp_api_get(api_key) ? kp_api_get(api_key)->name : "request",
				c->broker_id, strerror(-err));
		drop_conn(c);
		schedule_retry(c);
		return;
	}
	q = c->head;
	c->head = q->next;
	if (c->head == NULL)
		c->tail = NULL;
	c->inflight = false;
	if (q->done != NULL)
		q->done(c->broker_id, api_key, resp, q->arg);
	chan_req_free(q);
	pump(c);
}

static void connect_now(struct channel *c)
{
	c->conn = kp_conn_start(c->loop, c->host, c->port, &c->opts, on_state, c);
	if (c->conn == NULL)
		schedule_retry(c);
}

static void on_retry(struct kp_loop *loop, void *arg)
{
	struct channel *c = arg;

	(void)loop;
	if (c->conn == NULL)
		connect_now(c);
	else
		pump(c);
}

static void pump(struct channel *c)
{
	int rc;

	if (c->head == NULL || c->inflight)
		return;
	if (c->conn == NULL) {
		if (!kp_timer_armed(&c->retry))
			connect_now(c);
		return;
	}
	if (!c->ready)
		return;
	rc = kp_conn_request(c->conn, c->head->api_key, -1, c->head->req, on_resp, c);
	if (rc < 0) {
		KP_WARN("cannot send %s to broker %d: %s",
			kp_api_get(c->head->api_key) ? kp_api_get(c->head->api_key)->name
						     : "request",
			c->broker_id, strerror(-rc));
		drop_conn(c);
		schedule_retry(c);
		return;
	}
	c->inflight = true;
}

struct channel *chan_new(struct kp_loop *loop, int32_t broker_id,
			 const char *host, int port, int timeout_ms,
			 const struct kp_client_opts *sec)
{
	struct channel *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->broker_id = broker_id;
	c->host = strdup(host);
	c->port = port;
	if (sec != NULL) {
		c->opts.tls = sec->tls;
		c->opts.tls_verify_host = sec->tls_verify_host;
		c->opts.sasl_mechanism = sec->sasl_mechanism;
		c->opts.sasl_username = sec->sasl_username;
		c->opts.sasl_password = sec->sasl_password;
	}
	c->opts.client_id = "kcontroller";
	c->opts.connect_timeout_ms = timeout_ms;
	c->opts.request_timeout_ms = timeout_ms;
	kp_timer_init(&c->retry, on_retry, c);
	if (c->host == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

/* On the loop's thread: queue a request posted by chan_send. */
static void send_posted(void *arg)
{
	struct chan_req *q = arg;
	struct channel *c = q->to;

	q->next = NULL;
	if (c->tail != NULL)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	pump(c);
}

void chan_send(struct channel *c, struct chan_req *q)
{
	q->to = c;
	if (kp_loop_post(c->loop, send_posted, q) < 0) {
		if (q->done != NULL)
			q->done(c->broker_id, q->api_key, NULL, q->arg);
		chan_req_free(q);
	}
}

/* On the loop's thread: the channel goes. */
static void free_posted(void *arg)
{
	struct channel *c = arg;
	struct chan_req *q;

	kp_timer_stop(c->loop, &c->retry);
	drop_conn(c);
	while ((q = c->head) != NULL) {
		c->head = q->next;
		if (q->done != NULL)
			q->done(c->broker_id, q->api_key, NULL, q->arg);
		chan_req_free(q);
	}
	free(c->host);
	free(c);
}

void chan_free(struct channel *c)
{
	if (c == NULL)
		return;
	if (kp_loop_post(c->loop, free_posted, c) < 0)
		KP_ERROR("cannot close the channel to broker %d: out of memory",
			 c->broker_id);
}
