/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server.c - the controller's listener; see server.h.
 *
 * Small by design: a handful of brokers connect, each sends a request or
 * two in its life.  Frames are bounded (1 MiB), requests answered in
 * order, and output buffered and written as the socket accepts it.
 *
 * Security: the listener's protocol (listener.security.protocol.map)
 * picks its transport, the broker's own (kbroker/transport_plain.c,
 * kbroker/transport_tls.c: the same TLS keys and checks; a client
 * certificate's name through ssl.principal.mapping.rules is the
 * connection's principal on an SSL listener); on a SASL listener nothing
 * but ApiVersions, SaslHandshake and SaslAuthenticate is served before
 * authentication, with the broker's state machine and mechanisms
 * (libkproto/kp_sasl_conn.c, kp_sasl_cfg.c): PLAIN against the listener's
 * PlainLoginModule users, SCRAM against /config/users in ZooKeeper, read
 * when the exchange starts; after SaslHandshake v0 the tokens come as bare
 * frames, answered by bare frames.  A failed authentication is answered
 * SASL_AUTHENTICATION_FAILED (v0: no answer) and the connection closed
 * once it is out.  KIP-368 as on the broker: connections.max.reauth.ms
 * gives sessions a lifetime, a SaslHandshake re-authenticates, any other
 * request after the lifetime closes the connection.
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
#include "kp_sasl_cfg.h"
#include "kp_sasl_conn.h"
#include "kp_zk.h"
#include "server.h"
#include "transport.h"
#include "transport_tls.h"

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
		struct kp_alter_isr_req ai;
		struct kp_elect_leaders_req el;
		struct kp_alter_partition_reassignments_req apr;
		struct kp_list_partition_reassignments_req lpr;
		struct kp_sasl_handshake_req sh;
		struct kp_sasl_authenticate_req sa;
	} req;
	union {
		struct kp_controlled_shutdown_resp cs;
		struct kp_alter_isr_resp ai;
		struct kp_elect_leaders_resp el;
		struct kp_alter_partition_reassignments_resp apr;
		struct kp_list_partition_reassignments_resp lpr;
		struct kp_sasl_handshake_resp sh;
		struct kp_sasl_authenticate_resp sa;
	} resp;
};

struct sconn {
	struct sconn *next;
	struct server *s;
	uint64_t id;
	int fd;
	struct transport *t;
	bool handshaken;		/* the transport's (TLS) handshake */
	struct kp_sasl_conn sc;		/* on a SASL listener (kp_sasl_conn.h) */
	bool close_after;		/* once the output is out */
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
	int proto;			/* enum kp_secproto */
	const struct transport_type *tt;
	bool sasl_on;
	struct kp_sasl_listener sasl;
};

/* Besides ApiVersions: ControlledShutdown and AlterIsr from brokers, and
 * the admin requests brokers forward from clients (kbroker/api_forward.c). */
static const int16_t served[] = { KP_API_API_VERSIONS, KP_API_CONTROLLED_SHUTDOWN,
				  KP_API_ALTER_ISR,
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
	k->t->type->close(k->t);
	if (k->s->sasl_on)
		kp_sasl_conn_free(&k->sc);
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
static int read_in(struct sconn *k);

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
			ssize_t n = k->t->type->write(k->t, k->out.data + k->outoff,
						      k->out.len - k->outoff, false);

			if (n == TRANSPORT_WANT_READ || n == TRANSPORT_WANT_WRITE)
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
			if (k->close_after) {
				conn_close(k);
				return;
			}
		}
		/* room again: the frames read while backlogged go first */
		if (k->parsing || backlogged(k))
			break;
		before = k->inlen;
		if (k->inlen > 0 && parse_in(k) < 0)
			return;
		if (k->out.err != 0) {
			conn_close(k);
			return;
		}
		/* then the bytes the transport decrypted while reading stopped:
		 * the socket will not signal them again */
		if (!k->parsing && !backlogged(k) && k->t->type->pending != NULL &&
		    k->t->type->pending(k->t)) {
			if (read_in(k) < 0)
				return;
			continue;
		}
		if (k->inlen == before)
			break;		/* a partial frame, or nothing */
	}
	kp_loop_set_events(k->s->c->loop, k->fd,
			   (backlogged(k) ? 0 : KP_EV_READ) |
			   (k->outoff < k->out.len ? KP_EV_WRITE : 0));
}

static void answer_versions(const struct server *s, struct kp_wbuf *out,
			    const struct kp_req_header *h, struct kp_arena *a)
{
	struct kp_api_versions_resp resp;
	struct kp_api_versions_resp_api_version *keys;
	const struct kp_api_desc *api = kp_api_get(KP_API_API_VERSIONS);
	int16_t v = h->api_version;

	kp_struct_init(api->resp, &resp);
	size_t n = sizeof(served) / sizeof(served[0]);

	keys = kp_arena_calloc(a, n + 2, sizeof(*keys));
	if (keys == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct kp_api_desc *d = kp_api_get(served[i]);

		keys[i].api_key = served[i];
		keys[i].min_version = d->min;
		keys[i].max_version = d->max;
	}
	if (s->sasl_on) {
		keys[n].api_key = KP_API_SASL_HANDSHAKE;
		keys[n].min_version = kp_api_get(KP_API_SASL_HANDSHAKE)->min;
		keys[n++].max_version = kp_api_get(KP_API_SASL_HANDSHAKE)->max;
		keys[n].api_key = KP_API_SASL_AUTHENTICATE;
		keys[n].min_version = kp_api_get(KP_API_SASL_AUTHENTICATE)->min;
		keys[n++].max_version = kp_api_get(KP_API_SASL_AUTHENTICATE)->max;
	}
	resp.api_keys = keys;
	resp.api_keys_count = (int32_t)n;
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

/* /config/users/<user>'s credential for mech (a kp_scram_lookup_fn; arg
 * the controller), read from ZooKeeper now: a user made or deleted a
 * moment ago is seen.  0, or -1 when there is none. */
static int scram_lookup(void *arg, int mech, const char *user, struct kp_scram_cred *out)
{
	struct controller *c = arg;
	struct kp_zk_entity_config cfg;
	struct kp_zk_result res;
	char path[320], err[256];
	const char *v;
	int rc;

	/* a name that is no single znode name is no user's */
	if (c->zk == NULL ||	/* the listener is up before the session */
	    user[0] == '\0' || strchr(user, '/') != NULL || strcmp(user, ".") == 0 ||
	    strcmp(user, "..") == 0 ||
	    snprintf(path, sizeof(path), "/config/users/%s", user) >= (int)sizeof(path))
		return -1;
	rc = kp_zk_get_sync(c->zk, path, &res);
	if (rc != KP_ZK_OK || res.data == NULL) {
		kp_zk_result_free(&res);
		return -1;
	}
	rc = kp_zk_config_decode(res.data, (size_t)res.len, &cfg, err, sizeof(err));
	kp_zk_result_free(&res);
	if (rc < 0) {
		KP_WARN("%s: %s", path, err);
		return -1;
	}
	v = kp_zk_config_get(&cfg, kp_scram_mech_name(mech));
	rc = v != NULL ? kp_scram_cred_parse(mech, v, out, err, sizeof(err)) : -1;
	if (v != NULL && rc < 0)
		KP_WARN("%s: %s: %s", path, kp_scram_mech_name(mech), err);
	kp_zk_config_free(&cfg);
	return rc < 0 ? -1 : 0;
}

static void conn_peer(const struct sconn *k, char *peer, size_t n)
{
	snprintf(peer, n, "controller listener connection %llu", (unsigned long long)k->id);
}

/* SaslHandshake, then SaslAuthenticate until done, answered here (by the
 * shared state machine, kp_sasl_conn.h).  -1 closes the connection (any
 * other request before authentication, as Kafka's
 * SaslServerAuthenticator). */
static int handle_sasl(struct sconn *k, struct sreq *q, const struct kp_req_header *h,
		       const struct kp_api_desc *api, struct kp_reader *rd)
{
	char peer[64];

	conn_peer(k, peer, sizeof(peer));
	if (!((h->api_key == KP_API_SASL_HANDSHAKE && k->sc.state == KP_SASL_HANDSHAKE) ||
	      (h->api_key == KP_API_SASL_AUTHENTICATE &&
	       k->sc.state == KP_SASL_AUTHENTICATE)) ||
	    api == NULL || h->api_version < api->min || h->api_version > api->max) {
		KP_WARN("%s: unexpected API %d v%d during SASL %s", peer, h->api_key,
			h->api_version, k->sc.reauth ? "re-authentication" : "authentication");
		return -1;
	}
	if (kp_request_decode(api, h->api_version, rd, &q->arena, &q->req) < 0) {
		KP_WARN("%s: malformed SASL request", peer);
		return -1;
	}
	kp_struct_init(api->resp, &q->resp);
	if (h->api_key == KP_API_SASL_HANDSHAKE) {
		const kp_str *m = &q->req.sh.mechanism;
		kp_str *v = kp_arena_calloc(&q->arena, 4, sizeof(*v));

		if (v == NULL)
			return -1;
		q->resp.sh.mechanisms = v;
		q->resp.sh.mechanisms_count = kp_sasl_mech_names(&k->s->sasl, v);
		q->resp.sh.error_code = kp_sasl_conn_handshake(&k->sc, m->ptr != NULL
							       ? m->ptr : "",
							       m->len > 0 ? (size_t)m->len
							       : 0, h->api_version);
		if (q->resp.sh.error_code == KP_ERR_UNKNOWN_SERVER_ERROR)
			return -1;
	} else {
		char msg[256];
		size_t outlen = 0;
		char *out = kp_arena_alloc(&q->arena, 1024);
		int rc;

		if (out == NULL)
			return -1;
		rc = kp_sasl_conn_token(&k->sc, peer, q->req.sa.auth_bytes.ptr,
					q->req.sa.auth_bytes.len > 0
					? (size_t)q->req.sa.auth_bytes.len : 0,
					out, 1024, &outlen, msg, sizeof(msg), kp_now_ms());
		if (rc < 0) {
			char *keep = kp_arena_alloc(&q->arena, strlen(msg) + 1);

			if (keep != NULL)
				memcpy(keep, msg, strlen(msg) + 1);
			q->resp.sa.error_code = KP_ERR_SASL_AUTHENTICATION_FAILED;
			q->resp.sa.error_message = kp_str_c(keep != NULL ? keep
							    : "Authentication failed");
			q->resp.sa.auth_bytes = (kp_bytes){ NULL, 0 };
			k->close_after = true;
		} else {
			q->resp.sa.auth_bytes = (kp_bytes){ (const uint8_t *)out,
							    (int32_t)outlen };
			if (rc == 1) {
				/* the authorizer's principal (ctl_authz.h) */
				snprintf(k->principal, sizeof(k->principal), "%s", k->sc.user);
				q->resp.sa.session_lifetime_ms = k->sc.lifetime_ms;
				KP_INFO("%s: authenticated as User:%s", peer, k->sc.user);
			}
		}
	}
	kp_response_frame(&q->frame, h->api_key, h->api_version, h->correlation_id, &q->resp);
	conn_answer(k, q);
	return 0;
}

/*
 * A bare token after SaslHandshake v0: answered by a bare frame holding the
 * server's token, in order with the answers before it.  -1 closes the
 * connection (the v0 framing has no error answer).
 */
static int handle_raw_token(struct sconn *k, const uint8_t *tok, size_t len)
{
	struct sreq *q;
	char peer[64], msg[256], out[1024];
	size_t outlen = 0;
	int rc;

	conn_peer(k, peer, sizeof(peer));
	rc = kp_sasl_conn_token(&k->sc, peer, tok, len, out, sizeof(out), &outlen, msg,
				sizeof(msg), kp_now_ms());
	if (rc < 0)
		return -1;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -1;
	kp_arena_init(&q->arena, 0);
	kp_wbuf_init(&q->frame);
	q->s = k->s;
	q->conn_id = k->id;
	q->seq = k->next_seq++;
	kp_write_i32(&q->frame, (int32_t)outlen);
	kp_write_raw(&q->frame, out, outlen);
	if (rc == 1) {
		snprintf(k->principal, sizeof(k->principal), "%s", k->sc.user);
		KP_INFO("%s: authenticated as User:%s", peer, k->sc.user);
	}
	conn_answer(k, q);
	return 0;
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
		answer_versions(k->s, &q->frame, &h, &q->arena);
		conn_answer(k, q);
		return 0;
	}
	api = kp_api_get(h.api_key);
	/* KIP-368, as the broker (kbroker/net.c) */
	if (k->s->sasl_on && k->sc.state == KP_SASL_DONE &&
	    !(h.api_key == KP_API_SASL_HANDSHAKE &&
	      kp_sasl_conn_reauth_begin(&k->sc, kp_now_ms())) &&
	    kp_sasl_conn_expired(&k->sc, kp_now_ms())) {
		KP_INFO("controller listener connection %llu: SASL session expired "
			"without re-authentication: closing", (unsigned long long)k->id);
		goto fail;
	}
	if (k->s->sasl_on && k->sc.state != KP_SASL_DONE) {
		if (handle_sasl(k, q, &h, api, &rd) < 0)
			goto fail;
		return 0;
	}
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
		if (st != KP_FRAME_COMPLETE ||
		    (k->s->sasl_on && k->sc.state == KP_SASL_RAW
		     ? handle_raw_token(k, k->in + used + 4, flen - 4)
		     : handle(k, k->in + used + 4, flen - 4)) < 0) {
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

	(void)fd;
	if (!k->handshaken) {
		int rc = k->t->type->handshake != NULL ? k->t->type->handshake(k->t) : 0;

		if (rc == TRANSPORT_WANT_READ || rc == TRANSPORT_WANT_WRITE) {
			kp_loop_set_events(loop, k->fd, rc == TRANSPORT_WANT_READ
					   ? KP_EV_READ : KP_EV_WRITE);
			return;
		}
		if (rc != 0) {
			conn_close(k);
			return;
		}
		k->handshaken = true;
		/* a client certificate's mapped name; on a SASL listener the
		 * SASL user is the principal (Kafka's SASL_SSL) */
		if (!k->s->sasl_on && k->t->type->principal != NULL) {
			const char *who = k->t->type->principal(k->t);

			if (who != NULL)
				snprintf(k->principal, sizeof(k->principal), "%s", who);
		}
		kp_loop_set_events(loop, k->fd, KP_EV_READ);
	} else if (events & KP_EV_WRITE) {
		flush_out(k);
		return;		/* k may be gone; reading resumes next round */
	}
	if (read_in(k) < 0)
		return;
	flush_out(k);
}

/*
 * Read what the socket (and the transport inside: TLS records already
 * decrypted) holds and handle its whole frames, until nothing more is
 * there or the connection is backlogged.  -1 once it is closed.
 */
static int read_in(struct sconn *k)
{
	while (!backlogged(k)) {
		ssize_t n;

		if (k->incap - k->inlen < 65536) {
			size_t nc = k->incap ? 2 * k->incap : 65536;
			uint8_t *ni = nc <= 2 * MAX_FRAME + 65536 ? realloc(k->in, nc) : NULL;

			if (ni == NULL) {
				conn_close(k);
				return -1;
			}
			k->in = ni;
			k->incap = nc;
		}
		n = k->t->type->read(k->t, k->in + k->inlen, k->incap - k->inlen);
		if (n == TRANSPORT_WANT_READ || n == TRANSPORT_WANT_WRITE)
			break;
		if (n <= 0) {
			conn_close(k);
			return -1;
		}
		k->inlen += (size_t)n;
		if (parse_in(k) < 0)
			return -1;
		if (k->out.err != 0) {
			conn_close(k);
			return -1;
		}
	}
	return 0;
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
		if (s->sasl_on)
			kp_sasl_conn_init(&k->sc, &s->sasl, scram_lookup, s->c);
		kp_wbuf_init(&k->out);
		k->t = s->tt->accept(s->tt, cfd);	/* closes cfd on failure */
		if (k->t == NULL) {
			free(k);
			continue;
		}
		if (kp_loop_watch(loop, cfd, KP_EV_READ, on_io, k) < 0) {
			k->t->type->close(k->t);
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

	struct kp_protocol_map map;

	if (kp_endpoint_parse(l, ep, err, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->c = c;
	s->fd = -1;
	/* the listener's protocol, as the broker resolves its listeners */
	if (kp_protocol_map_parse(kp_config_str(&c->cfg, "listener.security.protocol.map"),
				  &map, err, errlen) < 0)
		goto fail;
	s->proto = kp_protocol_map_get(&map, ep->listener);
	kp_protocol_map_free(&map);
	if (s->proto < 0) {
		snprintf(err, errlen, "listeners: no security protocol defined for "
			 "listener %s (listener.security.protocol.map)", ep->listener);
		goto fail;
	}
	s->tt = kp_secproto_tls(s->proto)
		? transport_tls_new(&c->cfg, ep->listener, err, errlen) : &transport_plain;
	if (s->tt == NULL)
		goto fail;
	if (kp_secproto_sasl(s->proto)) {
		if (kp_sasl_listener_setup(&c->cfg, ep->listener, &s->sasl, err, errlen) < 0)
			goto fail;
		s->sasl_on = true;
	}
	s->fd = kp_tcp_listen(ep->host, ep->port, 50, &port, err, errlen);
	if (s->fd < 0)
		goto fail;
	if (kp_loop_watch(c->loop, s->fd, KP_EV_READ, on_accept, s) < 0) {
		snprintf(err, errlen, "cannot watch the listener");
		goto fail;
	}
	ep->port = port;
	if (ep->host[0] == 0)
		gethostname(ep->host, sizeof(ep->host));
	/* /controller names the endpoint by its protocol (skald's field):
	 * brokers need not know this controller's listener names */
	snprintf(ep->listener, sizeof(ep->listener), "%s", kp_secproto_name(s->proto));
	return s;
fail:
	if (s->fd >= 0)
		close(s->fd);
	if (s->tt != NULL && s->tt != &transport_plain)
		transport_tls_free(s->tt);
	kp_sasl_listener_free(&s->sasl);
	free(s);
	return NULL;
}

void server_stop(struct server *s)
{
	if (s == NULL)
		return;
	while (s->conns != NULL)
		conn_close(s->conns);
	kp_loop_unwatch(s->c->loop, s->fd);
	close(s->fd);
	if (s->tt != &transport_plain)
		transport_tls_free(s->tt);
	kp_sasl_listener_free(&s->sasl);
	free(s);
}
