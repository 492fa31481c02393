/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_client.c - one client connection to a Kafka broker; see kp_client.h.
 *
 * Shape of a connection: an output buffer of encoded request frames with a
 * send offset, an input buffer that collects response frames, and a FIFO
 * of outstanding requests (correlation id, API, version, callback).  The
 * blocking calls drive the socket with poll(); the loop mode with kp_loop
 * file events.  Both go through the same enqueue / flush / read / take
 * frame steps, so negotiation and correlation checks exist once.
 *
 * Re-entrancy (loop mode): callbacks may issue requests or free the
 * connection.  in_cb counts nested callbacks; a free requested inside one
 * only marks the connection, and the outermost caller frees it.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kp_client.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "kp_sasl.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define NKEYS 128		/* API keys we track the broker's range for */
#define READ_CHUNK 65536

struct pending {
	int32_t corr;
	int16_t key, ver;
	bool internal;		/* the connection's own ApiVersions */
	bool raw;
	int64_t deadline;
	kp_conn_resp_fn fn;
	void *arg;
};

struct kp_conn {
	int fd;
	SSL *ssl;			/* TLS, once connected; NULL: plaintext */
	bool tls_done;			/* handshake finished */
	bool ssl_wants_write;		/* a read waits for writability */
	char host[256];			/* for the certificate check */
	enum kp_conn_state state;
	int err;			/* why it closed */
	struct kp_client_opts o;
	char *client_id, *sw_name, *sw_ver;
	char peer[320];

	struct kp_loop *loop;		/* NULL: blocking mode */
	kp_conn_state_fn state_fn;
	void *state_arg;
	struct addrinfo *ai_list, *ai_cur;
	struct kp_timer timer;
	int in_cb;
	bool free_pending;

	int32_t next_corr;
	struct pending *pend;		/* FIFO: [phead, ptail) */
	int pcap, phead, ptail;

	uint8_t *rbuf;
	size_t rlen, rcap;
	struct kp_wbuf out;
	size_t out_sent;

	bool negotiated;
	int16_t av_version;		/* ApiVersions version in flight */
	int av_tries;
	int16_t range[NKEYS][2];	/* broker's min/max, -1 if absent */

	int sasl_stage;			/* SaslAuthenticate rounds done */
	struct kp_scram_client *scram;	/* a SCRAM exchange under way */
	/* KIP-368: when to re-authenticate (0 never: the broker gave no
	 * session lifetime), and, while that runs, the caller's requests
	 * held back (their frames, then their pending entries) */
	int64_t reauth_at_ms;
	bool reauthing;
	struct kp_wbuf held;
	struct pending *held_p;
	int nheld, capheld;

	struct kp_arena arena;		/* loop mode: one response at a time */
};

/* ------------------------------------------------------------ helpers */

static void opts_defaults(struct kp_conn *c, const struct kp_client_opts *o)
{
	if (o != NULL)
		c->o = *o;
	c->client_id = strdup(c->o.client_id ? c->o.client_id : "skald");
	c->sw_name = strdup(c->o.software_name ? c->o.software_name : "skald");
	c->sw_ver = strdup(c->o.software_version ? c->o.software_version
						 : PACKAGE_VERSION);
	if (c->o.max_response_bytes <= 0)
		c->o.max_response_bytes = 256 << 20;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = 10000;
	if (c->o.request_timeout_ms <= 0)
		c->o.request_timeout_ms = 30000;
}

static struct kp_conn *conn_new(const char *host, int port,
				const struct kp_client_opts *o)
{
	struct kp_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = -1;
	c->state = KP_CONN_CONNECTING;
	opts_defaults(c, o);
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
	snprintf(c->host, sizeof(c->host), "%s", host);
	kp_wbuf_init(&c->out);
	kp_wbuf_init(&c->held);
	kp_arena_init(&c->arena, 0);
	c->next_corr = 1;
	c->av_version = 3;
	for (int i = 0; i < NKEYS; i++)
		c->range[i][0] = c->range[i][1] = -1;
	if (c->client_id == NULL || c->sw_name == NULL || c->sw_ver == NULL) {
		free(c->client_id);
		free(c->sw_name);
		free(c->sw_ver);
		free(c);
		return NULL;
	}
	return c;
}

static int resolve(struct kp_conn *c, const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_family = AF_UNSPEC };
	char portstr[16];
	int rc;

	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &c->ai_list);
	if (rc != 0) {
		KP_DEBUG("resolve %s: %s", c->peer, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	c->ai_cur = c->ai_list;
	return 0;
}

/* Start a non-blocking connect to c->ai_cur.  0, or -errno. */
static int connect_cur(struct kp_conn *c)
{
	struct addrinfo *ai = c->ai_cur;
	int one = 1;

	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       ai->ai_protocol);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int e = -errno;

		close(c->fd);
		c->fd = -1;
		return e;
	}
	return 0;
}

static int connect_result(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return -soerr;
}

/* ---------------------------------------------------------- the FIFO */

static int pend_count(const struct kp_conn *c)
{
	return c->ptail - c->phead;
}

static struct pending *pend_push(struct kp_conn *c)
{
	if (c->ptail == c->pcap) {
		if (c->phead > 0) {
			memmove(c->pend, c->pend + c->phead,
				(size_t)pend_count(c) * sizeof(*c->pend));
			c->ptail -= c->phead;
			c->phead = 0;
		}
		if (c->ptail == c->pcap) {
			int ncap = c->pcap ? c->pcap * 2 : 16;
			struct pending *np = realloc(c->pend, (size_t)ncap * sizeof(*np));

			if (np == NULL)
				return NULL;
			c->pend = np;
			c->pcap = ncap;
		}
	}
	return &c->pend[c->ptail++];
}

static struct pending pend_pop(struct kp_conn *c)
{
	struct pending p = c->pend[c->phead++];

	if (c->phead == c->ptail)
		c->phead = c->ptail = 0;
	return p;
}

/* ------------------------------------------------------ versions */

int16_t kp_conn_pick_version(const struct kp_conn *c, int16_t api_key)
{
	const struct kp_api_desc *api = kp_api_get(api_key);
	int16_t hi;

	if (api == NULL)
		return -1;
	if (!c->negotiated)
		return api->max;
	if (api_key < 0 || api_key >= NKEYS || c->range[api_key][1] < 0)
		return -1;
	hi = api->max < c->range[api_key][1] ? api->max : c->range[api_key][1];
	if (hi < api->min || hi < c->range[api_key][0])
		return -1;
	return hi;
}

bool kp_conn_broker_range(const struct kp_conn *c, int16_t api_key,
			  int16_t *min, int16_t *max)
{
	if (api_key < 0 || api_key >= NKEYS || c->range[api_key][1] < 0)
		return false;
	*min = c->range[api_key][0];
	*max = c->range[api_key][1];
	return true;
}

/* --------------------------------------------------------- sending */

static bool expects_response(int16_t key, const void *req)
{
	/* as Kafka: a Produce with acks=0 is never answered */
	return !(key == KP_API_PRODUCE && req != NULL &&
		 ((const struct kp_produce_req *)req)->acks == 0);
}

/*
 * Encode a request frame into the output buffer and remember it.  req is a
 * request struct, or with raw set an encoded body of raw_len bytes.
 */
/* A pending entry for a held request (see reauthing). */
static struct pending *held_push(struct kp_conn *c)
{
	if (c->nheld == c->capheld) {
		int ncap = c->capheld ? c->capheld * 2 : 8;
		struct pending *np = realloc(c->held_p, (size_t)ncap * sizeof(*np));

		if (np == NULL)
			return NULL;
		c->held_p = np;
		c->capheld = ncap;
	}
	return &c->held_p[c->nheld++];
}

static int enqueue(struct kp_conn *c, int16_t key, int16_t ver,
		   const void *req, size_t raw_len, bool raw, bool internal,
		   kp_conn_resp_fn fn, void *arg)
{
	const struct kp_api_desc *api = kp_api_get(key);
	/* during a re-authentication only its own requests go out */
	bool hold = c->reauthing && !internal;
	struct kp_wbuf *out = hold ? &c->held : &c->out;
	size_t mark = out->len;
	int32_t corr = c->next_corr;
	struct pending *p;
	bool answer = raw ? true : expects_response(key, req);

	if (api == NULL || ver < api->min || ver > api->max)
		return -ENOTSUP;
	if (raw) {
		struct kp_req_header h = {
			.api_key = key, .api_version = ver,
			.correlation_id = corr,
			.client_id = kp_str_c(c->client_id),
		};
		size_t pos = kp_frame_begin(out);

		kp_req_header_encode(out, &h);
		kp_write_raw(out, req, raw_len);
		kp_frame_end(out, pos);
	} else if (kp_request_frame(out, key, ver, corr, c->client_id,
				    req) < 0) {
		out->len = mark;
		return -ENOTSUP;
	}
	if (out->err || out->next > 0) {
		/* out of memory, or records given as file ranges: the client
		 * sends only memory */
		int rc = out->err ? -ENOMEM : -EINVAL;

		out->err = 0;
		out->next = 0;
		out->ext_bytes = 0;
		out->len = mark;
		return rc;
	}
	if (answer) {
		p = hold ? held_push(c) : pend_push(c);
		if (p == NULL) {
			out->len = mark;
			return -ENOMEM;
		}
		*p = (struct pending){
			.corr = corr, .key = key, .ver = ver,
			.internal = internal, .raw = raw,
			.deadline = kp_now_ms() + c->o.request_timeout_ms,
			.fn = fn, .arg = arg,
		};
	}
	c->next_corr = corr == INT32_MAX ? 1 : corr + 1;
	return 0;
}

/* ---------------------------------------------------------------- TLS */

/* An SSL call's failure: 0 to try again later, or -errno. */
static int ssl_failed(struct kp_conn *c, int rc)
{
	int e = SSL_get_error(c->ssl, rc);

	c->ssl_wants_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
		return -ECONNRESET;
	if (e == SSL_ERROR_SYSCALL)
		return -errno;
	return -ECONNABORTED;
}

/* Begin TLS on the connected socket.  0 or -errno. */
static int tls_begin(struct kp_conn *c)
{
	unsigned char ip[16];
	bool literal = inet_pton(AF_INET, c->host, ip) == 1 ||
		       inet_pton(AF_INET6, c->host, ip) == 1;

	c->ssl = SSL_new(c->o.tls);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		ERR_clear_error();
		return -ENOMEM;
	}
	if (!literal)
		SSL_set_tlsext_host_name(c->ssl, c->host);
	if (c->o.tls_verify_host) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

		if ((literal ? X509_VERIFY_PARAM_set1_ip_asc(vp, c->host)
			     : X509_VERIFY_PARAM_set1_host(vp, c->host, 0)) != 1) {
			ERR_clear_error();
			return -EINVAL;
		}
	}
	return 0;
}

/* Step the handshake: 1 done, 0 not yet (c->ssl_wants_write says for
 * what), -errno. */
static int tls_step(struct kp_conn *c)
{
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_connect(c->ssl);
	if (rc == 1) {
		c->tls_done = true;
		c->ssl_wants_write = false;
		return 1;
	}
	rc = ssl_failed(c, rc);
	if (rc < 0) {
		long v = SSL_get_verify_result(c->ssl);

		KP_WARN("%s: TLS handshake failed%s%s", c->peer,
			v != X509_V_OK ? ": " : "",
			v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
		return -ECONNABORTED;
	}
	return 0;
}

static void tls_end(struct kp_conn *c)
{
	if (c->ssl == NULL)
		return;
	if (c->tls_done)
		SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	ERR_clear_error();
	c->ssl = NULL;
	c->tls_done = false;
}

/* send or SSL_write: bytes, 0 to wait, or -errno. */
static ssize_t io_send(struct kp_conn *c, const void *buf, size_t n)
{
	ssize_t put;

	if (c->ssl != NULL) {
		int rc;

		ERR_clear_error();
		errno = 0;
		rc = SSL_write(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		return rc > 0 ? rc : ssl_failed(c, rc);
	}
	do
		put = send(c->fd, buf, n, MSG_NOSIGNAL);
	while (put < 0 && errno == EINTR);
	if (put < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return put;
}

/* recv or SSL_read: bytes, 0 to wait, -ECONNRESET at the end, -errno. */
static ssize_t io_recv(struct kp_conn *c, void *buf, size_t n)
{
	ssize_t got;

	if (c->ssl != NULL) {
		int rc;

		ERR_clear_error();
		errno = 0;
		rc = SSL_read(c->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
		return rc > 0 ? rc : ssl_failed(c, rc);
	}
	do
		got = recv(c->fd, buf, n, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	return got == 0 ? -ECONNRESET : got;
}

/* Write what we can.  0 (maybe partial), or -errno. */
static int flush_some(struct kp_conn *c)
{
	while (c->out_sent < c->out.len) {
		ssize_t n = io_send(c, c->out.data + c->out_sent,
				    c->out.len - c->out_sent);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return 0;
		c->out_sent += (size_t)n;
	}
	c->out.len = 0;
	c->out_sent = 0;
	return 0;
}

static bool out_pending(const struct kp_conn *c)
{
	return c->out_sent < c->out.len;
}

/* --------------------------------------------------------- reading */

/* Read what is there.  Returns bytes read (0: would block) or -errno. */
static ssize_t read_some(struct kp_conn *c)
{
	ssize_t n;

	if (kp_buf_make_room(&c->rbuf, &c->rcap, c->rlen, READ_CHUNK) < 0)
		return -ENOMEM;
	n = io_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen);
	if (n > 0)
		c->rlen += (size_t)n;
	return n;
}

/*
 * Is a whole frame buffered?  1 with *len (prefix included), 0 if not yet,
 * -EMSGSIZE / -EPROTO for a frame we refuse.
 */
static int frame_ready(struct kp_conn *c, size_t *len)
{
	switch (kp_frame_check(c->rbuf, c->rlen, c->o.max_response_bytes, len)) {
	case KP_FRAME_COMPLETE:
		return 1;
	case KP_FRAME_PARTIAL:
		return 0;
	default:
		return c->rlen >= 4 && (int32_t)kp_be32(c->rbuf) > 0
			? -EMSGSIZE : -EPROTO;
	}
}

static void consume(struct kp_conn *c, size_t len)
{
	memmove(c->rbuf, c->rbuf + len, c->rlen - len);
	c->rlen -= len;
}

/*
 * Check the response header of frame (prefix excluded) against the oldest
 * request; on success the reader body holds what follows the header.
 */
static int match_header(struct kp_conn *c, const uint8_t *frame, size_t len,
			const struct pending *p, struct kp_reader *body)
{
	int32_t corr;

	kp_reader_init(body, frame, len);
	if (kp_resp_header_decode(body, kp_response_header_version(p->key, p->ver),
				  &c->arena, &corr) < 0)
		return -EPROTO;
	if (corr != p->corr) {
		KP_WARN("%s: response correlation id %d, expected %d",
			c->peer, corr, p->corr);
		return -EPROTO;
	}
	return 0;
}

static int decode_body(const struct pending *p, struct kp_reader *r,
		       struct kp_arena *a, void *resp)
{
	const struct kp_api_desc *api = kp_api_get(p->key);

	if (kp_response_decode(api, p->ver, r, a, resp) < 0)
		return -EPROTO;
	return 0;
}

/*
 * The connection's own ApiVersions response.  Returns 0 when negotiation
 * is complete, 1 when a retry at another version was queued, or -errno.
 */
static int handle_api_versions(struct kp_conn *c, const struct pending *p,
			       struct kp_reader *body)
{
	struct kp_api_versions_resp resp;
	const struct kp_api_desc *api = kp_api_get(KP_API_API_VERSIONS);
	struct kp_reader save = *body;
	int16_t retry = -1;

	if (kp_response_decode(api, p->ver, body, &c->arena, &resp) < 0) {
		/* a broker that does not know our version answers in v0 */
		*body = save;
		if (p->ver == 0 ||
		    kp_response_decode(api, 0, body, &c->arena, &resp) < 0)
			return -EPROTO;
	}
	if (resp.error_code == KP_ERR_UNSUPPORTED_VERSION) {
		retry = 0;
		for (int32_t i = 0; i < resp.api_keys_count; i++)
			if (resp.api_keys[i].api_key == KP_API_API_VERSIONS)
				retry = resp.api_keys[i].max_version;
		if (retry > api->max)
			retry = api->max;
		if (retry >= p->ver)
			retry = p->ver > 0 ? p->ver - 1 : -1;
		if (retry < 0 || ++c->av_tries > 3)
			return -ENOTSUP;
		c->av_version = retry;
		return 1;
	}
	if (resp.error_code != 0) {
		KP_WARN("%s: ApiVersions error %d (%s)", c->peer, resp.error_code,
			kp_err_name(resp.error_code));
		return -EPROTO;
	}
	for (int32_t i = 0; i < resp.api_keys_count; i++) {
		int16_t k = resp.api_keys[i].api_key;

		if (k >= 0 && k < NKEYS) {
			c->range[k][0] = resp.api_keys[i].min_version;
			c->range[k][1] = resp.api_keys[i].max_version;
		}
	}
	c->negotiated = true;
	return 0;
}

static int send_api_versions(struct kp_conn *c)
{
	struct kp_api_versions_req req;

	kp_struct_init(kp_api_get(KP_API_API_VERSIONS)->req, &req);
	req.client_software_name = kp_str_c(c->sw_name);
	req.client_software_version = kp_str_c(c->sw_ver);
	return enqueue(c, KP_API_API_VERSIONS, c->av_version, &req, 0, false,
		       true, NULL, NULL);
}

/* --------------------------------------------------------------- SASL */

static bool sasl_wanted(const struct kp_conn *c)
{
	return c->o.sasl_mechanism != NULL && c->o.sasl_mechanism[0] != '\0';
}

static int sasl_handshake(struct kp_conn *c)
{
	struct kp_sasl_handshake_req req;
	int16_t v = kp_conn_pick_version(c, KP_API_SASL_HANDSHAKE);

	if (v < 1 || kp_conn_pick_version(c, KP_API_SASL_AUTHENTICATE) < 0)
		return -ENOTSUP;	/* v0's bare-token framing: not ours */
	kp_struct_init(kp_api_get(KP_API_SASL_HANDSHAKE)->req, &req);
	req.mechanism = kp_str_c(c->o.sasl_mechanism);
	c->sasl_stage = 0;
	return enqueue(c, KP_API_SASL_HANDSHAKE, v, &req, 0, false, true, NULL, NULL);
}

static int sasl_token(struct kp_conn *c, const void *tok, size_t len)
{
	struct kp_sasl_authenticate_req req;
	int16_t v = kp_conn_pick_version(c, KP_API_SASL_AUTHENTICATE);

	kp_struct_init(kp_api_get(KP_API_SASL_AUTHENTICATE)->req, &req);
	req.auth_bytes = (kp_bytes){ tok, (int32_t)len };
	return enqueue(c, KP_API_SASL_AUTHENTICATE, v, &req, 0, false, true, NULL, NULL);
}

/*
 * Authenticated: with a session lifetime (SaslAuthenticate v1+, KIP-368)
 * re-authenticate once 85% of it has passed, as Kafka's clients do at
 * 85-95%; the session ends at the broker when it runs out.  0.
 */
static int session_start(struct kp_conn *c, const struct kp_sasl_authenticate_resp *a)
{
	int64_t life = a->session_lifetime_ms;

	c->reauth_at_ms = life > 0 ? kp_now_ms() + life * 85 / 100 : 0;
	if (c->reauthing)
		KP_DEBUG("%s: re-authenticated", c->peer);
	return 0;
}

/* A re-authentication is due (the caller is about to send). */
static bool reauth_due(const struct kp_conn *c)
{
	return c->reauth_at_ms != 0 && !c->reauthing && kp_now_ms() >= c->reauth_at_ms;
}

/*
 * A SASL response (p is SaslHandshake or SaslAuthenticate): the next
 * request queued (1), done (0), or -errno.
 */
static int sasl_answer(struct kp_conn *c, const struct pending *p, struct kp_reader *body)
{
	const struct kp_api_desc *api = kp_api_get(p->key);
	void *resp = kp_arena_alloc(&c->arena, api->resp->size);
	const char *mech = c->o.sasl_mechanism;
	int scram = kp_scram_mech_parse(mech, strlen(mech));
	char tok[1024], err[256];
	int rc, n;

	if (resp == NULL)
		return -ENOMEM;
	rc = decode_body(p, body, &c->arena, resp);
	if (rc < 0)
		return rc;
	if (p->key == KP_API_SASL_HANDSHAKE) {
		const struct kp_sasl_handshake_resp *h = resp;

		if (h->error_code != 0) {
			KP_WARN("%s: SASL mechanism %s refused (%s)", c->peer, mech,
				kp_err_name(h->error_code));
			return -EACCES;
		}
		if (scram == 0) {
			/* PLAIN: authzid (empty) NUL user NUL password */
			size_t ul = strlen(c->o.sasl_username ? c->o.sasl_username : "");
			size_t pl = strlen(c->o.sasl_password ? c->o.sasl_password : "");

			if (ul + pl + 2 > sizeof(tok))
				return -EINVAL;
			tok[0] = '\0';
			memcpy(tok + 1, c->o.sasl_username ? c->o.sasl_username : "", ul);
			tok[1 + ul] = '\0';
			memcpy(tok + 2 + ul, c->o.sasl_password ? c->o.sasl_password : "", pl);
			rc = sasl_token(c, tok, ul + pl + 2);
			OPENSSL_cleanse(tok, sizeof(tok));
			return rc < 0 ? rc : 1;
		}
		if (c->scram == NULL && (c->scram = malloc(sizeof(*c->scram))) == NULL)
			return -ENOMEM;
		n = kp_scram_client_first(c->scram, scram,
					  c->o.sasl_username ? c->o.sasl_username : "",
					  c->o.sasl_password ? c->o.sasl_password : "", NULL,
					  tok, sizeof(tok), err, sizeof(err));
		if (n < 0) {
			KP_WARN("%s: %s", c->peer, err);
			return -EINVAL;
		}
		rc = sasl_token(c, tok, (size_t)n);
		return rc < 0 ? rc : 1;
	}
	{
		const struct kp_sasl_authenticate_resp *a = resp;
		size_t blen = a->auth_bytes.len > 0 ? (size_t)a->auth_bytes.len : 0;

		if (a->error_code != 0) {
			KP_WARN("%s: SASL authentication failed: %s: %.*s", c->peer,
				kp_err_name(a->error_code),
				a->error_message.len > 0 ? (int)a->error_message.len : 0,
				a->error_message.ptr != NULL ? a->error_message.ptr : "");
			return -EACCES;
		}
		c->sasl_stage++;
		if (scram == 0)
			return session_start(c, a);
		if (c->sasl_stage == 1) {
			n = kp_scram_client_final(c->scram, a->auth_bytes.ptr, blen, tok,
						  sizeof(tok), err, sizeof(err));
			if (n < 0) {
				KP_WARN("%s: %s", c->peer, err);
				return -EACCES;
			}
			rc = sasl_token(c, tok, (size_t)n);
			return rc < 0 ? rc : 1;
		}
		if (kp_scram_client_verify(c->scram, a->auth_bytes.ptr, blen, err,
					   sizeof(err)) < 0) {
			KP_WARN("%s: %s", c->peer, err);
			return -EACCES;
		}
		return session_start(c, a);
	}
}

/* ------------------------------------------------------ blocking mode */

static int poll_fd(struct kp_conn *c, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int64_t left = deadline - kp_now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	do {
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return pfd.revents;
}

static void blocking_fail(struct kp_conn *c, int err)
{
	tls_end(c);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->state = KP_CONN_CLOSED;
	c->err = err;
	c->phead = c->ptail = 0;
}

/* Flush the output, reading meanwhile so a peer blocked on its own writes
 * cannot deadlock us. */
static int blocking_flush(struct kp_conn *c, int64_t deadline)
{
	while (out_pending(c)) {
		int rc = flush_some(c);
		ssize_t n;

		if (rc < 0)
			return rc;
		if (!out_pending(c))
			break;
		rc = poll_fd(c, POLLIN | POLLOUT, deadline);
		if (rc < 0)
			return rc;
		if (rc & POLLIN) {
			n = read_some(c);
			if (n < 0)
				return (int)n;
		}
	}
	return 0;
}

/* Wait for the next whole frame; *len includes the prefix. */
static int blocking_frame(struct kp_conn *c, int64_t deadline, size_t *len)
{
	for (;;) {
		int rc = frame_ready(c, len);
		ssize_t n;

		if (rc != 0)
			return rc < 0 ? rc : 0;
		n = read_some(c);
		if (n < 0)
			return (int)n;
		if (n > 0)
			continue;
		rc = poll_fd(c, c->ssl_wants_write ? POLLOUT : POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
}

/*
 * Receive the response to the oldest outstanding request.  Internal
 * ApiVersions responses are handled here; others are returned through
 * *p / *body (the frame stays at the start of rbuf; *flen to consume).
 */
static int blocking_next(struct kp_conn *c, struct pending *p,
			 struct kp_reader *body, size_t *flen)
{
	int64_t deadline;
	int rc;

	if (c->state == KP_CONN_CLOSED || c->fd < 0)
		return -ENOTCONN;
	if (pend_count(c) == 0)
		return -EINVAL;
	deadline = c->pend[c->phead].deadline;
	rc = blocking_flush(c, deadline);
	if (rc == 0)
		rc = blocking_frame(c, deadline, flen);
	if (rc == 0) {
		*p = pend_pop(c);
		rc = match_header(c, c->rbuf + 4, *flen - 4, p, body);
	}
	return rc;
}

/* The SASL exchange, blocking (at open, and to re-authenticate on an idle
 * connection).  0 or -errno. */
static int blocking_sasl(struct kp_conn *c)
{
	int rc = sasl_handshake(c);

	rc = rc < 0 ? rc : 1;
	while (rc == 1) {
		struct pending p;
		struct kp_reader body;
		size_t flen;

		rc = blocking_next(c, &p, &body, &flen);
		if (rc == 0) {
			rc = sasl_answer(c, &p, &body);
			consume(c, flen);
			kp_arena_reset(&c->arena);
		}
	}
	return rc;
}

struct kp_conn *kp_conn_open(const char *host, int port,
			     const struct kp_client_opts *opts, int *err)
{
	struct kp_conn *c = conn_new(host, port, opts);
	int64_t deadline;
	int rc = -ENOMEM;

	if (c == NULL)
		goto out;
	rc = resolve(c, host, port);
	deadline = kp_now_ms() + c->o.connect_timeout_ms;
	for (; rc == 0 && c->ai_cur != NULL; c->ai_cur = c->ai_cur->ai_next) {
		rc = connect_cur(c);
		if (rc < 0)
			continue;
		rc = poll_fd(c, POLLOUT, deadline);
		if (rc >= 0)
			rc = connect_result(c->fd);
		if (rc == 0)
			break;
		close(c->fd);
		c->fd = -1;
	}
	if (rc == 0 && c->fd < 0)
		rc = -ECONNREFUSED;
	if (rc == 0 && c->o.tls != NULL) {
		rc = tls_begin(c);
		while (rc == 0 && (rc = tls_step(c)) == 0) {
			rc = poll_fd(c, c->ssl_wants_write ? POLLOUT : POLLIN, deadline);
			rc = rc < 0 ? rc : 0;
		}
		rc = rc < 0 ? rc : 0;
	}
	if (rc < 0)
		goto out;
	c->state = KP_CONN_NEGOTIATING;
	while (!c->o.no_negotiation && !c->negotiated) {
		struct pending p;
		struct kp_reader body;
		size_t flen;

		rc = send_api_versions(c);
		if (rc == 0)
			rc = blocking_next(c, &p, &body, &flen);
		if (rc == 0) {
			rc = handle_api_versions(c, &p, &body);
			consume(c, flen);
			kp_arena_reset(&c->arena);
		}
		if (rc < 0)
			goto out;
	}
	if (sasl_wanted(c))
		rc = blocking_sasl(c);
	if (rc < 0)
		goto out;
	c->state = KP_CONN_READY;
	return c;
out:
	if (c != NULL) {
		KP_DEBUG("connect %s: %s", c->peer, strerror(-rc));
		kp_conn_free(c);
	}
	*err = rc;
	return NULL;
}

int kp_conn_send(struct kp_conn *c, int16_t api_key, int16_t version,
		 const void *req)
{
	int rc;

	if (c->state != KP_CONN_READY || c->loop != NULL)
		return -ENOTCONN;
	if (version < 0)
		version = kp_conn_pick_version(c, api_key);
	if (version < 0)
		return -ENOTSUP;
	/* KIP-368: between requests (nothing may come between the SASL
	 * requests), before the session runs out */
	if (reauth_due(c) && pend_count(c) == 0) {
		c->reauthing = true;
		rc = blocking_sasl(c);
		c->reauthing = false;
		if (rc < 0) {
			blocking_fail(c, rc);
			return rc;
		}
	}
	rc = enqueue(c, api_key, version, req, 0, false, false, NULL, NULL);
	if (rc < 0)
		return rc;
	rc = blocking_flush(c, kp_now_ms() + c->o.request_timeout_ms);
	if (rc < 0)
		blocking_fail(c, rc);
	return rc;
}

/* Copy a body into the arena so the decoded result can outlive rbuf. */
static int copy_body(struct kp_reader *body, struct kp_arena *a)
{
	size_t n = kp_reader_left(body);
	uint8_t *copy = kp_arena_alloc(a, n ? n : 1);

	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, body->p, n);
	kp_reader_init(body, copy, n);
	return 0;
}

int kp_conn_recv(struct kp_conn *c, int16_t *api_key, int16_t *version,
		 void *resp, struct kp_arena *a)
{
	struct pending p;
	struct kp_reader body;
	size_t flen;
	int rc = blocking_next(c, &p, &body, &flen);

	if (rc == -ENOTCONN || rc == -EINVAL)
		return rc;
	if (rc < 0) {		/* I/O, timeout, framing: the stream is lost */
		blocking_fail(c, rc);
		return rc;
	}
	if (api_key != NULL)
		*api_key = p.key;
	if (version != NULL)
		*version = p.ver;
	/* a body that does not decode leaves the stream in step */
	rc = copy_body(&body, a);
	if (rc == 0)
		rc = decode_body(&p, &body, a, resp);
	consume(c, flen);
	kp_arena_reset(&c->arena);
	return rc;
}

int kp_conn_call(struct kp_conn *c, int16_t api_key, int16_t version,
		 const void *req, void *resp, struct kp_arena *a)
{
	int rc;

	if (pend_count(c) > 0)
		return -EBUSY;	/* responses to earlier sends come first */
	rc = kp_conn_send(c, api_key, version, req);
	if (rc < 0)
		return rc;
	if (!expects_response(api_key, req))
		return 0;
	return kp_conn_recv(c, NULL, NULL, resp, a);
}

int kp_conn_call_raw(struct kp_conn *c, int16_t api_key, int16_t version,
		     const void *body, size_t len, const uint8_t **resp_body,
		     size_t *resp_len, struct kp_arena *a)
{
	struct pending p;
	struct kp_reader r;
	size_t flen;
	int rc;

	if (c->state != KP_CONN_READY || c->loop != NULL)
		return -ENOTCONN;
	if (pend_count(c) > 0)
		return -EBUSY;
	rc = enqueue(c, api_key, version, body, len, true, false, NULL, NULL);
	if (rc < 0)
		return rc;
	rc = blocking_next(c, &p, &r, &flen);
	if (rc < 0) {
		blocking_fail(c, rc);
		return rc;
	}
	rc = copy_body(&r, a);
	kp_arena_reset(&c->arena);
	consume(c, flen);
	if (rc == 0) {
		*resp_body = r.p;
		*resp_len = kp_reader_left(&r);
	}
	return rc;
}

/* ---------------------------------------------------------- loop mode */

static void loop_io(struct kp_loop *loop, int fd, int events, void *arg);
static void loop_timeout(struct kp_loop *loop, void *arg);

static void really_free(struct kp_conn *c);

static const char *const state_names[] = {
	"CONNECTING", "NEGOTIATING", "READY", "CLOSED",
};

/* Log the transition from old to c->state and tell the owner. */
static void notify(struct kp_conn *c, enum kp_conn_state old, int err)
{
	enum kp_conn_state st = c->state;

	KP_DEBUG("%s: %s -> %s%s%s", c->peer, state_names[old],
		 state_names[st], err ? ": " : "", err ? strerror(-err) : "");
	if (c->state_fn != NULL && (st == KP_CONN_READY || st == KP_CONN_CLOSED)) {
		c->in_cb++;
		c->state_fn(c, st, err, c->state_arg);
		c->in_cb--;
	}
}

/* Fail every outstanding request with err (callbacks run). */
static void fail_pending(struct kp_conn *c, int err)
{
	while (pend_count(c) > 0) {
		struct pending p = pend_pop(c);

		if (p.fn != NULL) {
			c->in_cb++;
			p.fn(c, err, p.key, p.ver, NULL, p.arg);
			c->in_cb--;
		}
	}
	/* then those held back behind a re-authentication, in order */
	for (int i = 0; i < c->nheld; i++) {
		struct pending p = c->held_p[i];

		if (p.fn != NULL) {
			c->in_cb++;
			p.fn(c, err, p.key, p.ver, NULL, p.arg);
			c->in_cb--;
		}
	}
	c->nheld = 0;
	kp_wbuf_reset(&c->held);
	c->reauthing = false;
}

/* Re-authenticated: the requests held meanwhile go out.  0 or -ENOMEM. */
static int reauth_done(struct kp_conn *c)
{
	int64_t now = kp_now_ms();
	int i;

	c->reauthing = false;
	kp_write_raw(&c->out, c->held.data, c->held.len);
	if (c->out.err)
		return -ENOMEM;
	kp_wbuf_reset(&c->held);
	for (i = 0; i < c->nheld; i++) {
		struct pending *p = pend_push(c);

		if (p == NULL) {
			/* the rest fail with the connection */
			memmove(c->held_p, c->held_p + i,
				(size_t)(c->nheld - i) * sizeof(*p));
			c->nheld -= i;
			return -ENOMEM;
		}
		*p = c->held_p[i];
		p->deadline = now + c->o.request_timeout_ms;
	}
	c->nheld = 0;
	return 0;
}

static void set_state(struct kp_conn *c, enum kp_conn_state st, int err)
{
	enum kp_conn_state old = c->state;

	c->state = st;
	notify(c, old, err);
}

static void loop_close(struct kp_conn *c, int err)
{
	enum kp_conn_state old = c->state;

	if (c->state == KP_CONN_CLOSED)
		return;
	tls_end(c);
	if (c->fd >= 0) {
		kp_loop_unwatch(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	kp_timer_stop(c->loop, &c->timer);
	c->err = err;
	c->out.len = c->out_sent = 0;
	c->rlen = 0;
	/* the state changes first, so callbacks see a closed connection and
	 * cannot queue more requests on it */
	c->state = KP_CONN_CLOSED;
	fail_pending(c, err);
	notify(c, old, err);
}

/* Arm the timer for the oldest request (or the connect deadline). */
static void arm_timer(struct kp_conn *c)
{
	if (pend_count(c) == 0) {
		kp_timer_stop(c->loop, &c->timer);
		return;
	}
	kp_timer_start(c->loop, &c->timer,
		       c->pend[c->phead].deadline - kp_now_ms());
}

static void update_events(struct kp_conn *c)
{
	if (c->fd >= 0)
		kp_loop_set_events(c->loop, c->fd,
				   KP_EV_READ | (out_pending(c) || c->ssl_wants_write
						 ? KP_EV_WRITE : 0));
}

static void loop_try_connect(struct kp_conn *c)
{
	int rc = -ECONNREFUSED;

	for (; c->ai_cur != NULL; c->ai_cur = c->ai_cur->ai_next) {
		rc = connect_cur(c);
		if (rc == 0)
			rc = kp_loop_watch(c->loop, c->fd, KP_EV_WRITE, loop_io, c);
		if (rc == 0) {
			kp_timer_start(c->loop, &c->timer, c->o.connect_timeout_ms);
			return;
		}
		if (c->fd >= 0) {
			close(c->fd);
			c->fd = -1;
		}
	}
	loop_close(c, rc);
}

static void loop_connected(struct kp_conn *c)
{
	int rc;

	kp_timer_stop(c->loop, &c->timer);
	kp_loop_set_events(c->loop, c->fd, KP_EV_READ);
	if (c->o.no_negotiation) {
		set_state(c, KP_CONN_READY, 0);
		return;
	}
	c->state = KP_CONN_NEGOTIATING;
	rc = send_api_versions(c);
	if (rc == 0)
		rc = flush_some(c);
	if (rc < 0) {
		loop_close(c, rc);
		return;
	}
	arm_timer(c);
	update_events(c);
}

/* Deliver every complete frame in rbuf. */
static int loop_deliver(struct kp_conn *c)
{
	size_t off = 0;
	int rc = 0;

	for (;;) {
		size_t flen;
		struct pending p;
		struct kp_reader body;
		void *resp = NULL;
		const struct kp_api_desc *api;

		rc = kp_frame_check(c->rbuf + off, c->rlen - off,
				    c->o.max_response_bytes, &flen);
		if (rc == KP_FRAME_PARTIAL) {
			rc = 0;
			break;
		}
		if (rc == KP_FRAME_INVALID) {
			rc = (int32_t)kp_be32(c->rbuf + off) > 0 ? -EMSGSIZE : -EPROTO;
			break;
		}
		if (pend_count(c) == 0) {
			rc = -EPROTO;	/* an answer to nothing */
			break;
		}
		p = pend_pop(c);
		rc = match_header(c, c->rbuf + off + 4, flen - 4, &p, &body);
		off += flen;
		if (rc < 0) {
			if (p.fn != NULL) {	/* this one is ours to fail */
				c->in_cb++;
				p.fn(c, rc, p.key, p.ver, NULL, p.arg);
				c->in_cb--;
			}
			break;
		}
		if (p.internal && p.key != KP_API_API_VERSIONS) {
			rc = sasl_answer(c, &p, &body);
			kp_arena_reset(&c->arena);
			if (rc == 0 && c->reauthing)
				rc = reauth_done(c);
			else if (rc == 0)
				set_state(c, KP_CONN_READY, 0);
			if (rc < 0)
				break;
			continue;
		}
		if (p.internal) {
			rc = handle_api_versions(c, &p, &body);
			kp_arena_reset(&c->arena);
			if (rc == 1)
				rc = send_api_versions(c);
			else if (rc == 0 && sasl_wanted(c))
				rc = sasl_handshake(c);
			else if (rc == 0)
				set_state(c, KP_CONN_READY, 0);
			if (rc < 0)
				break;
			continue;
		}
		api = kp_api_get(p.key);
		if (!p.raw) {
			resp = kp_arena_alloc(&c->arena, api->resp->size);
			rc = resp == NULL ? -ENOMEM
					  : decode_body(&p, &body, &c->arena, resp);
		}
		c->in_cb++;
		if (p.fn != NULL)
			p.fn(c, rc, p.key, p.ver, rc == 0 ? resp : NULL, p.arg);
		c->in_cb--;
		kp_arena_reset(&c->arena);
		/* a body we could not decode leaves the stream in step: the
		 * caller got the error, the connection goes on */
		rc = 0;
		if (c->free_pending || c->state == KP_CONN_CLOSED)
			break;
	}
	if (c->state != KP_CONN_CLOSED && off > 0)
		consume(c, off);
	return rc;
}

static void loop_io(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct kp_conn *c = arg;
	int rc = 0;

	(void)loop;
	(void)fd;
	c->in_cb++;
	if (c->state == KP_CONN_CONNECTING && c->ssl != NULL) {
		/* the TLS handshake, under the connect timer */
		rc = tls_step(c);
		if (rc < 0)
			loop_close(c, rc);
		else if (rc == 1)
			loop_connected(c);
		else
			kp_loop_set_events(c->loop, c->fd,
					   c->ssl_wants_write ? KP_EV_WRITE : KP_EV_READ);
		goto done;
	}
	if (c->state == KP_CONN_CONNECTING) {
		rc = connect_result(c->fd);
		if (rc == 0 && c->o.tls != NULL) {
			rc = tls_begin(c);
			if (rc == 0)
				rc = tls_step(c);
			if (rc == 0) {
				kp_loop_set_events(c->loop, c->fd, c->ssl_wants_write
						   ? KP_EV_WRITE : KP_EV_READ);
				goto done;
			}
			if (rc < 0) {
				loop_close(c, rc);
				goto done;
			}
			rc = 0;	/* done at once */
		}
		if (rc < 0) {
			kp_loop_unwatch(c->loop, c->fd);
			close(c->fd);
			c->fd = -1;
			c->ai_cur = c->ai_cur->ai_next;
			if (c->ai_cur != NULL)
				loop_try_connect(c);
			else
				loop_close(c, rc);
		} else {
			loop_connected(c);
		}
		goto done;
	}
	/* TLS: either direction may wait for the other */
	if ((events & KP_EV_WRITE) || (c->ssl != NULL && out_pending(c)))
		rc = flush_some(c);
	if (rc == 0 && (events & (KP_EV_READ | KP_EV_ERROR) || c->ssl != NULL)) {
		/* bounded, so one busy connection cannot starve the loop;
		 * decrypted bytes held by TLS wake no poll: read them all */
		for (int i = 0; rc == 0 && (i < 16 ||
		     (c->ssl != NULL && SSL_pending(c->ssl) > 0)); i++) {
			ssize_t n = read_some(c);

			if (n <= 0) {
				rc = (int)n;
				break;
			}
			rc = loop_deliver(c);
			if (c->free_pending || c->state == KP_CONN_CLOSED)
				goto done;
		}
	}
	if (rc < 0) {
		loop_close(c, rc);
		goto done;
	}
	arm_timer(c);
	update_events(c);
done:
	c->in_cb--;
	if (c->free_pending && c->in_cb == 0)
		really_free(c);
}

static void loop_timeout(struct kp_loop *loop, void *arg)
{
	struct kp_conn *c = arg;

	(void)loop;
	c->in_cb++;
	if (c->state == KP_CONN_CONNECTING) {
		KP_DEBUG("%s: connect timed out", c->peer);
		loop_close(c, -ETIMEDOUT);
	} else if (pend_count(c) > 0 &&
		   c->pend[c->phead].deadline <= kp_now_ms()) {
		/* responses come in order: a late one means closing, as the
		 * Java client does */
		KP_WARN("%s: request timed out after %d ms", c->peer,
			c->o.request_timeout_ms);
		loop_close(c, -ETIMEDOUT);
	} else {
		arm_timer(c);
	}
	c->in_cb--;
	if (c->free_pending && c->in_cb == 0)
		really_free(c);
}

struct kp_conn *kp_conn_start(struct kp_loop *loop, const char *host,
			      int port, const struct kp_client_opts *opts,
			      kp_conn_state_fn state_fn, void *arg)
{
	struct kp_conn *c = conn_new(host, port, opts);
	int rc;

	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->state_fn = state_fn;
	c->state_arg = arg;
	kp_timer_init(&c->timer, loop_timeout, c);
	c->in_cb++;	/* a failure is reported, but c stays valid here */
	rc = resolve(c, host, port);
	if (rc < 0)
		loop_close(c, rc);
	else
		loop_try_connect(c);
	c->in_cb--;
	if (c->free_pending) {
		really_free(c);
		return NULL;
	}
	return c;
}

int kp_conn_request(struct kp_conn *c, int16_t api_key, int16_t version,
		    const void *req, kp_conn_resp_fn fn, void *arg)
{
	bool was_idle;
	int rc;

	if (c->loop == NULL || c->state != KP_CONN_READY || c->free_pending)
		return -ENOTCONN;
	if (version < 0)
		version = kp_conn_pick_version(c, api_key);
	if (version < 0)
		return -ENOTSUP;
	was_idle = pend_count(c) == 0;
	/* KIP-368: re-authenticate before the session runs out; the caller's
	 * requests wait behind it (reauth_done) */
	if (reauth_due(c)) {
		c->reauthing = true;
		rc = sasl_handshake(c);
		if (rc < 0) {
			c->reauthing = false;
			return rc;
		}
	}
	rc = enqueue(c, api_key, version, req, 0, false, false, fn, arg);
	if (rc < 0)
		return rc;
	if (!expects_response(api_key, req) && fn != NULL) {
		/* acks=0: nothing will come back; report once it is queued */
		c->in_cb++;
		fn(c, 0, api_key, version, NULL, arg);
		c->in_cb--;
	}
	/* Writing now saves a loop iteration; a short write leaves the rest
	 * for the writable event. */
	rc = flush_some(c);
	if (rc < 0) {
		c->in_cb++;
		loop_close(c, rc);
		c->in_cb--;
		return 0;	/* its callback has run with the error */
	}
	if (was_idle)
		arm_timer(c);
	update_events(c);
	return 0;
}

/* --------------------------------------------------------------- both */

enum kp_conn_state kp_conn_state(const struct kp_conn *c)
{
	return c->state;
}

int kp_conn_inflight(const struct kp_conn *c)
{
	return pend_count(c) + c->nheld;
}

const char *kp_conn_peer(const struct kp_conn *c)
{
	return c->peer;
}

static void really_free(struct kp_conn *c)
{
	tls_end(c);
	if (c->fd >= 0) {
		if (c->loop != NULL)
			kp_loop_unwatch(c->loop, c->fd);
		close(c->fd);
	}
	if (c->loop != NULL)
		kp_timer_stop(c->loop, &c->timer);
	if (c->ai_list != NULL)
		freeaddrinfo(c->ai_list);
	kp_wbuf_free(&c->out);
	kp_wbuf_free(&c->held);
	free(c->held_p);
	kp_arena_free(&c->arena);
	free(c->rbuf);
	free(c->pend);
	if (c->scram != NULL) {
		OPENSSL_cleanse(c->scram, sizeof(*c->scram));
		free(c->scram);
	}
	free(c->client_id);
	free(c->sw_name);
	free(c->sw_ver);
	free(c);
}

void kp_conn_free(struct kp_conn *c)
{
	if (c == NULL || c->free_pending)
		return;
	if (c->loop != NULL) {
		c->free_pending = true;
		c->state_fn = NULL;	/* the owner is done with it */
		c->in_cb++;
		if (c->state != KP_CONN_CLOSED)
			loop_close(c, -ECANCELED);
		c->in_cb--;
		if (c->in_cb > 0)
			return;
	}
	really_free(c);
}

/* ------------------------------------------------------------ listening */

int kp_tcp_listen(const char *host, int port, int backlog, int *port_out,
		  char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ps[16];
	int fd, one = 1, rc;

	snprintf(ps, sizeof(ps), "%d", port);
	rc = getaddrinfo(host[0] ? host : NULL, ps, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "listener host %s: %s", host, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host[0] ? host : "*",
			 port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port_out = ntohs(ss.ss_family == AF_INET6
				  ? ((struct sockaddr_in6 *)&ss)->sin6_port
				  : ((struct sockaddr_in *)&ss)->sin_port);
	else
		*port_out = port;
	return fd;
}

int kp_tcp_free_port(int lo, int hi)
{
	static _Thread_local unsigned seed;

	if (hi <= lo)
		return -1;
	if (seed == 0)
		seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	for (int tries = 0; tries < 1000; tries++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		int port = lo + (int)(rand_r(&seed) % (unsigned)(hi - lo));
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool ok;

		if (fd < 0)
			return -1;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok)
			return port;
	}
	return -1;
}
