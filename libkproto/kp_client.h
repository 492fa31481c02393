/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kp_client.h - a small Kafka protocol client: one connection to a broker.
 *
 * Two ways to drive it, sharing framing, correlation and negotiation:
 *
 *  - blocking (tools): kp_conn_open() connects and negotiates, then
 *    kp_conn_call() sends a request and waits for its response; or
 *    kp_conn_send() several and kp_conn_recv() them in order (pipelining).
 *
 *  - non-blocking (controller channel, replica fetchers): kp_conn_start()
 *    on a kp_loop; the state callback reports READY once negotiation is
 *    done, kp_conn_request() queues a request whose callback runs on the
 *    loop with the decoded response.  Every request gets exactly one
 *    callback (with an error when the connection fails or is freed).
 *
 * Negotiation: the first request is ApiVersions v3; a broker that does not
 * know v3 answers error 35 (UNSUPPORTED_VERSION) in a v0 body listing the
 * ApiVersions versions it does support, and the client retries with the
 * highest common one (KIP-511).  kp_conn_pick_version() then gives, per
 * API, the highest version both sides support.
 *
 * Responses must come back in request order (Kafka guarantees it per
 * connection); a correlation id that does not match the oldest outstanding
 * request is a protocol error and closes the connection.  A Produce with
 * acks=0 expects no response.  A response frame larger than
 * max_response_bytes closes the connection instead of being buffered.
 *
 * TLS (opts.tls): the handshake follows the TCP connect, before
 * negotiation; it counts against the connect timeout.  A failed handshake
 * (untrusted certificate, wrong host name) is -ECONNABORTED.
 *
 * SASL (opts.sasl_mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, with
 * sasl_username and sasl_password): after negotiation, SaslHandshake and
 * SaslAuthenticate (one token for PLAIN; client-first and client-final
 * for SCRAM, whose server signature is checked) before READY.  A refused
 * mechanism or authentication is -EACCES (the broker's message is logged).
 * When the broker gives the session a lifetime (KIP-368,
 * connections.max.reauth.ms) the connection re-authenticates once 85% of
 * it has passed, before the next request is sent: on a loop, the requests
 * queued meanwhile wait behind the exchange (kp_conn_inflight counts
 * them); blocking, it runs when no response is outstanding.
 *
 * Errors are negative errno values: -ETIMEDOUT, -ECONNREFUSED,
 * -ECONNRESET (peer closed), -EPROTO (malformed response, correlation
 * mismatch), -EMSGSIZE (response too large), -ENOTSUP (no common version),
 * -ECANCELED (connection freed with the request outstanding), -ENOTCONN.
 */
#ifndef KP_CLIENT_H
#define KP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_loop.h"

struct kp_client_opts {
	const char *client_id;		/* default "skald" */
	const char *software_name;	/* ApiVersions v3; default "skald" */
	const char *software_version;	/* default PACKAGE_VERSION */
	int32_t max_response_bytes;	/* default 256 MiB */
	int connect_timeout_ms;		/* default 10000 */
	int request_timeout_ms;		/* default 30000 */
	bool no_negotiation;		/* skip ApiVersions; pick = our max */
	/* TLS (OpenSSL's SSL_CTX, a client context the caller keeps alive
	 * while connections use it); NULL: plaintext.  tls_verify_host:
	 * the certificate must name the host connected to (Kafka's
	 * ssl.endpoint.identification.algorithm=https). */
	struct ssl_ctx_st *tls;
	bool tls_verify_host;
	/* SASL after negotiation (NULL: none); the strings must outlive the
	 * connection */
	const char *sasl_mechanism;
	const char *sasl_username, *sasl_password;
};

enum kp_conn_state {
	KP_CONN_CONNECTING,
	KP_CONN_NEGOTIATING,
	KP_CONN_READY,
	KP_CONN_CLOSED,
};

struct kp_conn;

/* Called on the loop when the connection becomes READY or CLOSED (err). */
typedef void (*kp_conn_state_fn)(struct kp_conn *c, enum kp_conn_state st,
				 int err, void *arg);
/*
 * A response (err 0, resp points to the API's response struct) or a
 * failure (err < 0, resp NULL).  resp and everything it points to live
 * until the callback returns.
 */
typedef void (*kp_conn_resp_fn)(struct kp_conn *c, int err, int16_t api_key,
				int16_t api_version, void *resp, void *arg);

/* ---- blocking ---- */

/* Connect to host:port and negotiate.  NULL on failure, *err = -errno. */
struct kp_conn *kp_conn_open(const char *host, int port,
			     const struct kp_client_opts *opts, int *err);
/*
 * Send one request and wait for its response, decoded into *resp (the
 * API's response struct) with memory from a (the frame is copied there, so
 * resp lives as long as the arena).  version -1 picks the highest common
 * version.  Returns 0 or -errno; after an I/O or protocol error the
 * connection is closed and further calls fail with -ENOTCONN.
 */
int kp_conn_call(struct kp_conn *c, int16_t api_key, int16_t version,
		 const void *req, void *resp, struct kp_arena *a);
/* Pipelining: queue and send a request; its response comes from recv. */
int kp_conn_send(struct kp_conn *c, int16_t api_key, int16_t version,
		 const void *req);
/* The response to the oldest request sent and not yet received. */
int kp_conn_recv(struct kp_conn *c, int16_t *api_key, int16_t *version,
		 void *resp, struct kp_arena *a);
/*
 * Raw mode: body is an already encoded request body; the response body
 * (after the response header) is copied into a.  For SASL and tests.
 */
int kp_conn_call_raw(struct kp_conn *c, int16_t api_key, int16_t version,
		     const void *body, size_t len, const uint8_t **resp_body,
		     size_t *resp_len, struct kp_arena *a);

/* ---- non-blocking, on a kp_loop ---- */

/* Start connecting; progress is reported to state_fn.  NULL on ENOMEM. */
struct kp_conn *kp_conn_start(struct kp_loop *loop, const char *host,
			      int port, const struct kp_client_opts *opts,
			      kp_conn_state_fn state_fn, void *arg);
/*
 * Queue a request (only in READY).  version -1 picks.  The request struct
 * may be freed as soon as this returns (it is encoded at once).  Returns
 * 0 (fn will be called) or -errno (fn will not be called).
 */
int kp_conn_request(struct kp_conn *c, int16_t api_key, int16_t version,
		    const void *req, kp_conn_resp_fn fn, void *arg);

/* ---- both ---- */

enum kp_conn_state kp_conn_state(const struct kp_conn *c);
/* Highest version of api_key both sides support, or -1. */
int16_t kp_conn_pick_version(const struct kp_conn *c, int16_t api_key);
/* The broker's advertised range; false when it did not list the API. */
bool kp_conn_broker_range(const struct kp_conn *c, int16_t api_key,
			  int16_t *min, int16_t *max);
/* Requests sent and not yet answered. */
int kp_conn_inflight(const struct kp_conn *c);
const char *kp_conn_peer(const struct kp_conn *c);
/*
 * Close and free.  Outstanding async requests get their callback with
 * -ECANCELED first.  Safe inside this connection's callbacks.
 */
void kp_conn_free(struct kp_conn *c);

/* ---- servers ---- */

/*
 * A non-blocking listening TCP socket on host:port (empty host: every
 * interface; port 0: any free one, reported in *port_out).  The fd, or -1
 * with a message in err.
 */
int kp_tcp_listen(const char *host, int port, int backlog, int *port_out,
		  char *err, size_t errlen);
/*
 * A TCP port on 127.0.0.1 in [lo, hi) that nothing is bound to now,
 * picked at random; -1 when 1,000 tries found none.  For daemons started
 * side by side (test clusters): a range below the kernel's ephemeral one
 * cannot be taken as the local port of some outgoing connection before
 * the daemon listens on it, as a port the kernel handed out can.
 */
int kp_tcp_free_port(int lo, int hi);

#endif /* KP_CLIENT_H */
