/*
 * server.c - the controller's listener; see server.h.
 *
 * Small by design: a handful of brokers connect, each sends a request or
 * two in its life.  Frames are bounded (1 MiB), requests answered in
 * order, and output buffered and written as the socket accepts it.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controller.h"
#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_client.h"
#include "kp_codec.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "server.h"

#define MAX_FRAME (1 << 20)

struct sconn {
	struct sconn *next;
	struct server *s;
	int fd;
	uint8_t *in;
	size_t inlen, incap;
	struct kp_wbuf out;
	size_t outoff;
};

struct server {
	struct controller *c;
	int fd;
	struct sconn *conns;
};

/* Besides ApiVersions: ControlledShutdown from brokers, and the admin
 * requests brokers forward from clients (kbroker/api_forward.c). */
static const int16_t served[] = { KP_API_API_VERSIONS, KP_API_CONTROLLED_SHUTDOWN,
				  KP_API_ELECT_LEADERS,
				  KP_API_ALTER_PARTITION_REASSIGNMENTS,
				  KP_API_LIST_PARTITION_REASSIGNMENTS };

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
	free(k);
}

static void on_io(struct kp_loop *loop, int fd, int events, void *arg);

static void flush_out(struct sconn *k)
{
	while (k->outoff < k->out.len) {
		ssize_t n = send(k->fd, k->out.data + k->outoff, k->out.len - k->outoff,
				 MSG_NOSIGNAL);

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
		kp_loop_set_events(k->s->c->loop, k->fd, KP_EV_READ);
	} else {
		kp_loop_set_events(k->s->c->loop, k->fd, KP_EV_READ | KP_EV_WRITE);
	}
}

static void answer_versions(struct sconn *k, const struct kp_req_header *h,
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
	kp_response_frame(&k->out, KP_API_API_VERSIONS, v, h->correlation_id, &resp);
}

/* One complete frame (size prefix excluded).  -1 closes the connection. */
static int handle(struct sconn *k, const uint8_t *frame, size_t len)
{
	struct kp_arena a;
	struct kp_reader rd;
	struct kp_req_header h;
	const struct kp_api_desc *api;
	int rc = -1;

	kp_arena_init(&a, 4 * MAX_FRAME);
	kp_reader_init(&rd, frame, len);
	if (kp_req_header_decode(&rd, &a, &h) < 0)
		goto out;
	if (h.api_key == KP_API_API_VERSIONS) {
		answer_versions(k, &h, &a);
		rc = 0;
		goto out;
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
			goto out;
		}
	}
	{
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
		struct controller *c = k->s->c;

		if (kp_request_decode(api, h.api_version, &rd, &a, &req) < 0) {
			KP_WARN("controller listener: malformed %s request", api->name);
			goto out;
		}
		kp_struct_init(api->resp, &resp);
		switch (h.api_key) {
		case KP_API_CONTROLLED_SHUTDOWN:
			controller_controlled_shutdown(c, req.cs.broker_id,
						       req.cs.broker_epoch, &resp.cs, &a);
			break;
		case KP_API_ELECT_LEADERS:
			controller_elect_leaders(c, h.api_version, &req.el, &resp.el, &a);
			break;
		case KP_API_ALTER_PARTITION_REASSIGNMENTS:
			controller_alter_reassignments(c, &req.apr, &resp.apr, &a);
			break;
		default:
			controller_list_reassignments(c, &req.lpr, &resp.lpr, &a);
			break;
		}
		kp_response_frame(&k->out, h.api_key, h.api_version, h.correlation_id,
				  &resp);
		rc = 0;
	}
out:
	kp_arena_free(&a);
	return rc;
}

static void on_io(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct sconn *k = arg;
	size_t flen, used = 0;

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
	for (;;) {
		int st = kp_frame_check(k->in + used, k->inlen - used, MAX_FRAME, &flen);

		if (st == KP_FRAME_PARTIAL)
			break;
		if (st != KP_FRAME_COMPLETE || handle(k, k->in + used + 4, flen - 4) < 0) {
			conn_close(k);
			return;
		}
		used += flen;
	}
	memmove(k->in, k->in + used, k->inlen - used);
	k->inlen -= used;
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
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sconn *k;

		if (cfd < 0)
			return;
		k = calloc(1, sizeof(*k));
		if (k == NULL) {
			close(cfd);
			continue;
		}
		k->s = s;
		k->fd = cfd;
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
