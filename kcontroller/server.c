/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - the controller's listener; see server.h.
 *
 * Small by design: a handful of brokers connect, each sends a request or
 * two in its life.  Frames are bounded (1 MiB), requests answered in
 * order, and output buffered and written as the socket accepts it.
 *
 * Threads: connections live on the main thread's loop.  ApiVersions is
 * answered there; the other requests become events of the controller
 * (ctl_event.h): the event thread fills and encodes the answer and posts
 * it back to the loop, where it waits for the answers before it (by a
 * per-connection sequence number) and goes out.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controller.h"
#include "ctl_event.h"
#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_client.h"
#include "kp_codec.h"
#include "kp_errors.h"
#include "kp_listener.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "server.h"

#define MAX_FRAME (1 << 20)
/* A connection is not read (its frames already read not handled) while
 * this many of its requests are unanswered or this much of its answers
 * waits unsent: a client that never reads pins a bounded amount. */
#define MAX_INFLIGHT 64
#define MAX_UNSENT (1u << 20)

/* One request on its way through the event thread and back. */
struct sreq {
	struct ctl_request r;		/* first: done() gets this back */
	struct sreq *next;		/* answered, waiting for those before */
	struct server *s;
	uint64_t conn_id;
	uint64_t seq;			/* in its connection's order */
	int32_t correlation_id;
	struct kp_arena arena;		/* the frame, request, response */
	char principal[256];		/* its connection's, as it was */
	char host[INET6_ADDRSTRLEN];
	struct kp_wbuf frame;		/* the encoded answer */
	/* any request struct fits: they are decoded into this */
	union {
		struct kp_controlled_shutdown_req cs;
		struct kp_elect_leaders_req el;
		struct kp_alter_partition_reassignments_req apr;
		struct kp_list_partition_reassignments_req lpr;
	} req;
	union {
		struct kp_controlled_shutdown_resp cs;
		struct kp_elect_leaders_resp el;
		struct kp_alter_partition_reassignments_resp apr;
		struct kp_list_partition_reassignments_resp lpr;
	} resp;
};

struct sconn {
	struct sconn *next;
	struct server *s;
	uint64_t id;
	int fd;
	uint8_t *in;
	size_t inlen, incap;
	struct kp_wbuf out;
	size_t outoff;
	uint64_t next_seq;		/* given to the next request */
	uint64_t out_seq;		/* the next answer to go out */
	struct sreq *waiting;		/* answered early, by seq */
	bool parsing;			/* inside parse_in */
	/* who it is (ctl_authz.h): the authenticated name, "" when none,
	 * and the peer's address */
	char principal[256];
	char ip[INET6_ADDRSTRLEN];
};

struct server {
	struct controller *c;
	int fd;
	struct sconn *conns;
	uint64_t next_conn_id;
};

/* Besides ApiVersions: ControlledShutdown from brokers, and the admin
 * requests brokers forward from clients (kbroker/api_forward.c). */
static const int16_t served[] = { KP_API_API_VERSIONS, KP_API_CONTROLLED_SHUTDOWN,
				  KP_API_ELECT_LEADERS,
				  KP_API_ALTER_PARTITION_REASSIGNMENTS,
				  KP_API_LIST_PARTITION_REASSIGNMENTS };

static void sreq_free(struct sreq *q)
{
	kp_arena_free(&q->arena);
	kp_wbuf_free(&q->frame);
	free(q);
}

static void conn_close(struct sconn *k)
{
	struct sconn **pp = &k->s->conns;

	while (*pp != k)
		pp = &(*pp)->next;
	*pp = k->next;
	kp_loop_unwatch(k->s->c->loop, k->fd);
	close(k->fd);
	free(k->in);
	kp_wbuf_free(&k->out);
	while (k->waiting != NULL) {
		struct sreq *q = k->waiting;

		k->waiting = q->next;
		sreq_free(q);
	}
	free(k);
}

static void on_io(struct kp_loop *loop, int fd, int events, void *arg);
static int parse_in(struct sconn *k);

static bool backlogged(const struct sconn *k)
{
	return k->next_seq - k->out_seq >= MAX_INFLIGHT ||
	       k->out.len - k->outoff > MAX_UNSENT;
}

static void flush_out(struct sconn *k)
{
	for (;;) {
		size_t before;

		while (k->outoff < k->out.len) {
			ssize_t n = send(k->fd, k->out.data + k->outoff,
					 k->out.len - k->outoff, MSG_NOSIGNAL);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0) {
				conn_close(k);
				return;
			}
			k->outoff += (size_t)n;
		}
		if (k->outoff == k->out.len) {
			kp_wbuf_reset(&k->out);
			k->outoff = 0;
		}
		/* room again: the frames read while backlogged go first */
		if (k->parsing || backlogged(k) || k->inlen == 0)
			break;
		before = k->inlen;
		if (parse_in(k) < 0)
			return;
		if (k->out.err != 0) {
			conn_close(k);
			return;
		}
		if (k->inlen == before)
			break;		/* a partial frame */
	}
	kp_loop_set_events(k->s->c->loop, k->fd,
			   (backlogged(k) ? 0 : KP_EV_READ) |
			   (k->outoff < k->out.len ? KP_EV_WRITE : 0));
}

static void answer_versions(struct kp_wbuf *out, const struct kp_req_header *h,
			    struct kp_arena *a)
{
	struct kp_api_versions_resp resp;
	struct kp_api_versions_resp_api_version *keys;
	const struct kp_api_desc *api = kp_api_get(KP_API_API_VERSIONS);
	int16_t v = h->api_version;

	kp_struct_init(api->resp, &resp);
	keys = kp_arena_calloc(a, sizeof(served) / sizeof(served[0]), sizeof(*keys));
	if (keys == NULL)
		return;
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
		const struct kp_api_desc *d = kp_api_get(served[i]);

		keys[i].api_key = served[i];
		keys[i].min_version = d->min;
		keys[i].max_version = d->max;
	}
	resp.api_keys = keys;
	resp.api_keys_count = (int32_t)(sizeof(served) / sizeof(served[0]));
	if (v < api->min || v > api->max) {
		/* KIP-511: say which versions we have, in a v0 body */
		resp.error_code = KP_ERR_UNSUPPORTED_VERSION;
		v = 0;
	}
	kp_response_frame(out, KP_API_API_VERSIONS, v, h->correlation_id, &resp);
}

/* An answer's bytes, in the connection's order: out now if it is the
 * next one, else kept until those before it are out. */
static void conn_answer(struct sconn *k, struct sreq *q)
{
	struct sreq **pp = &k->waiting;

	while (*pp != NULL && (*pp)->seq < q->seq)
		pp = &(*pp)->next;
	q->next = *pp;
	*pp = q;
	while (k->waiting != NULL && k->waiting->seq == k->out_seq) {
		q = k->waiting;
		k->waiting = q->next;
		if (q->frame.err != 0)
			k->out.err = q->frame.err;	/* closes the connection */
		else
			kp_write_raw(&k->out, q->frame.data, q->frame.len);
		k->out_seq++;
		sreq_free(q);
	}
}

/* On the loop's thread: an answer the event thread encoded. */
static void answer_posted(void *arg)
{
	struct sreq *q = arg;
	struct sconn *k;

	for (k = q->s->conns; k != NULL && k->id != q->conn_id; k = k->next)
		;
	if (k == NULL) {
		sreq_free(q);	/* the connection went meanwhile */
		return;
	}
	conn_answer(k, q);
	if (k->out.err != 0) {
		conn_close(k);
		return;
	}
	flush_out(k);
}

/* The controller filled the response (event thread, or whichever thread
 * dropped the request): encode it here, send it from the loop. */
static void request_done(struct ctl_request *r)
{
	struct sreq *q = (struct sreq *)r;

	kp_response_frame(&q->frame, r->api_key, r->api_version, q->correlation_id,
			  r->resp);
	if (kp_loop_post(q->s->c->loop, answer_posted, q) < 0)
		sreq_free(q);	/* the connection waits in vain; out of memory */
}

/* One complete frame (size prefix excluded).  -1 closes the connection. */
static int handle(struct sconn *k, const uint8_t *frame, size_t len)
{
	struct kp_reader rd;
	struct kp_req_header h;
	const struct kp_api_desc *api;
	struct sreq *q = calloc(1, sizeof(*q));
	uint8_t *copy;

	if (q == NULL)
		return -1;
	/* decoding slices the frame: it lives as long as the request */
	kp_arena_init(&q->arena, 4 * MAX_FRAME);
	kp_wbuf_init(&q->frame);
	q->s = k->s;
	q->conn_id = k->id;
	copy = kp_arena_alloc(&q->arena, len > 0 ? len : 1);
	if (copy == NULL)
		goto fail;
	memcpy(copy, frame, len);
	kp_reader_init(&rd, copy, len);
	if (kp_req_header_decode(&rd, &q->arena, &h) < 0)
		goto fail;
	q->seq = k->next_seq++;
	q->correlation_id = h.correlation_id;
	if (h.api_key == KP_API_API_VERSIONS) {
		answer_versions(&q->frame, &h, &q->arena);
		conn_answer(k, q);
		return 0;
	}
	api = kp_api_get(h.api_key);
	{
		bool known = false;

		for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++)
			known |= served[i] == h.api_key;
		if (!known || api == NULL || h.api_version < api->min ||
		    h.api_version > api->max) {
			KP_WARN("controller listener: API %d v%d is not served here",
				h.api_key, h.api_version);
			goto fail;
		}
	}
	if (kp_request_decode(api, h.api_version, &rd, &q->arena, &q->req) < 0) {
		KP_WARN("controller listener: malformed %s request", api->name);
		goto fail;
	}
	kp_struct_init(api->resp, &q->resp);
	q->r = (struct ctl_request){ .api_key = h.api_key, .api_version = h.api_version,
				     .req = &q->req, .resp = &q->resp,
				     .arena = &q->arena, .done = request_done,
				     .principal = q->principal, .host = q->host };
	snprintf(q->principal, sizeof(q->principal), "%s", k->principal);
	snprintf(q->host, sizeof(q->host), "%s", k->ip);
	controller_request(k->s->c, &q->r);
	return 0;
fail:
	sreq_free(q);
	return -1;
}

/* Handle the whole frames read, until the connection is backlogged.
 * -1 once it is closed. */
static int parse_in(struct sconn *k)
{
	size_t flen, used = 0;
	int rc = 0;

	k->parsing = true;
	while (!backlogged(k)) {
		int st = kp_frame_check(k->in + used, k->inlen - used, MAX_FRAME, &flen);

		if (st == KP_FRAME_PARTIAL)
			break;
		if (st != KP_FRAME_COMPLETE || handle(k, k->in + used + 4, flen - 4) < 0) {
			conn_close(k);
			return -1;
		}
		used += flen;
	}
	k->parsing = false;
	memmove(k->in, k->in + used, k->inlen - used);
	k->inlen -= used;
	return rc;
}

static void on_io(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct sconn *k = arg;

	(void)loop;
	(void)fd;
	if (events & KP_EV_WRITE) {
		flush_out(k);
		return;		/* k may be gone; reading resumes next round */
	}
	if (k->incap - k->inlen < 65536) {
		size_t nc = k->incap ? 2 * k->incap : 65536;
		uint8_t *ni = nc <= 2 * MAX_FRAME ? realloc(k->in, nc) : NULL;

		if (ni == NULL) {
			conn_close(k);
			return;
		}
		k->in = ni;
		k->incap = nc;
	}
	{
		ssize_t n = recv(k->fd, k->in + k->inlen, k->incap - k->inlen, 0);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(k);
			return;
		}
		k->inlen += (size_t)n;
	}
	if (parse_in(k) < 0)
		return;
	if (k->out.err != 0) {
		conn_close(k);
		return;
	}
	flush_out(k);
}

static void on_accept(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct server *s = arg;

	(void)events;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sconn *k;

		if (cfd < 0)
			return;
		k = calloc(1, sizeof(*k));
		if (k == NULL) {
			close(cfd);
			continue;
		}
		k->s = s;
		k->id = ++s->next_conn_id;
		k->fd = cfd;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, k->ip,
				  sizeof(k->ip));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, k->ip,
				  sizeof(k->ip));
		kp_wbuf_init(&k->out);
		if (kp_loop_watch(loop, cfd, KP_EV_READ, on_io, k) < 0) {
			close(cfd);
			kp_wbuf_free(&k->out);
			free(k);
			continue;
		}
		k->next = s->conns;
		s->conns = k;
	}
}

struct server *server_start(struct controller *c, struct kp_endpoint *ep,
			    char *err, size_t errlen)
{
	const char *l = kp_config_str(&c->cfg, "listeners");
	struct server *s;
	int port;

	if (kp_endpoint_parse(l, ep, err, errlen) < 0)
		return NULL;
	/* the listener speaks plaintext: never under a TLS or SASL name */
	if (kp_secproto_parse(ep->listener) > KP_SEC_PLAINTEXT) {
		snprintf(err, errlen, "listeners: security protocol %s is not "
			 "supported on the controller's listener", ep->listener);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->c = c;
	s->fd = kp_tcp_listen(ep->host, ep->port, 50, &port, err, errlen);
	if (s->fd < 0 || kp_loop_watch(c->loop, s->fd, KP_EV_READ, on_accept, s) < 0) {
		if (s->fd >= 0) {
			close(s->fd);
			snprintf(err, errlen, "cannot watch the listener");
		}
		free(s);
		return NULL;
	}
	ep->port = port;
	if (ep->host[0] == 0)
		gethostname(ep->host, sizeof(ep->host));
	return s;
}

void server_stop(struct server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_close(s->conns);
	kp_loop_unwatch(s->c->loop, s->fd);
	close(s->fd);
	free(s);
}
