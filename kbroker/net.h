/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.h - kbroker's network layer: listeners, worker loops, connections.
 *
 * Threads: num.network.threads workers, each running its own kp_loop and
 * each a home of the purgatory (purgatory.h).  The acceptor (on the main
 * loop) hands every new connection to one worker for its whole life,
 * round robin.  A request is read, decoded, handed to the dispatcher
 * net_start was given, handled and answered on that worker thread: no
 * hand-off between the socket read and the response write (handlers that
 * must wait - long-poll fetch, acks=all - park the request as a delayed
 * operation on the same worker and answer it later from there).
 *
 * Per connection, requests are answered in the order they arrived even
 * when handled out of order: each gets a slot in a FIFO of responses, and
 * only complete slots at the head are written.  A response is a chain of
 * memory pieces and file ranges, written through the connection's
 * transport (transport.h): file ranges (Fetch record data) with its
 * sendfile (the plaintext socket's is sendfile(2)), memory with its write
 * (send(2)).  net.c knows nothing of what a file range is: it holds a
 * reference it releases once sent.
 */
#ifndef NET_H
#define NET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"
#include "kp_loop.h"
#include "kp_proto.h"
#include "metrics.h"

struct broker_sasl;

struct broker;
struct net_conn;
struct net_req;
struct purgatory_home;

/* Record data in a response that lives in a file (a log segment): the ref
 * of a kp_records/kp_wbuf external piece. */
struct net_file_range {
	int fd;
	int64_t pos;
	void (*release)(void *ref);	/* once sent (or dropped) */
	void *ref;			/* keeps fd open until then */
};

/* Route a request whose header is decoded (body: the rest of the frame). */
typedef void (*net_dispatch_fn)(struct net_req *r, struct kp_reader *body);

/* One request being handled. */
struct net_req {
	struct net_conn *conn;
	struct net_worker *worker;
	struct kp_req_header h;
	const struct kp_api_desc *api;
	void *body;			/* decoded request struct */
	struct kp_arena arena;		/* request + response memory */
	struct net_resp *slot;
	const uint8_t *frame;		/* header + body, valid until the
					 * handler returns (net_req_detach
					 * copies it) */
	size_t frame_len;
	bool detached;			/* frame is r's own */
	const char *listener;		/* the listener it came in on */
	char peer[64];
	/* metrics (metrics.h): monotonic µs */
	int64_t t_recv_us;		/* frame read */
	int64_t t_disp_us;		/* handler called */
	int64_t t_local_end_us;		/* handler returned, request parked */
	/* client quotas (api_quota.h): recorded once; the throttle time
	 * the response carries and the connection is muted for */
	bool quota_done;
	int32_t throttle_ms;
};

struct net_worker {
	struct broker *broker;
	net_dispatch_fn dispatch;
	struct kp_loop *loop;
	pthread_t thread;
	int id;
	int nconns;
	struct net_conn *conns;
	struct kp_wbuf scratch;		/* decompression for validation */
	/* message format conversion (Produce v0-2, Fetch v0-3): the
	 * converted data and records waiting for compression */
	struct kp_wbuf conv, conv_raw, conv_in;
	uint8_t *bounce;		/* file ranges, without sendfile */
	struct purgatory_home *home;	/* requests parked on this worker */
	/* queued.max.requests: a connection with this many unanswered
	 * requests is not read until half of them are answered */
	int max_pending;
	struct net_server *server;
	struct kp_timer idle_timer;	/* connections.max.idle.ms sweeps */
	int64_t idle_period_ms;
	struct net_wmetrics *m;		/* this worker's counters (metrics.h) */
	struct net_req *dispatching;	/* in its handler now, not yet answered */
};

struct net_server;

/*
 * Start listening on every listener endpoint and start the workers, each
 * a home of b->purg, which hand every request to dispatch.  Returns NULL
 * with a message in err.
 */
struct net_server *net_start(struct broker *b, struct kp_loop *main_loop,
			     int nworkers, net_dispatch_fn dispatch,
			     char *err, size_t errlen);
/* Give back the decompression scratch and conversion buffers that grew
 * large (after a request). */
void net_worker_trim(struct net_worker *w);
/* Worker i (0 <= i < net_nworkers). */
int net_nworkers(const struct net_server *s);
struct net_worker *net_worker_at(struct net_server *s, int i);
/* The port a listener got (after binding port 0), by index. */
int net_listener_port(const struct net_server *s, int idx);
struct transport_type;
/* The transport of a listener's new connections (transport.h; all are
 * plaintext unless set otherwise). */
void net_listener_transport(struct net_server *s, int idx,
			    const struct transport_type *tt);
/* The transport of listener idx's new connections. */
const struct transport_type *net_listener_transport_of(const struct net_server *s,
						       int idx);
/*
 * In-process use without listeners or threads (tests/fuzz/fuzz_handlers.c):
 * a server of one worker whose loop is the caller's, run by the caller
 * (kp_loop_run_once); net_conn_local makes a connection of that worker on
 * fd (one end of a socketpair), as if accepted on the named listener and
 * authenticated as principal ("" for none), and returns how many requests
 * it has unanswered or unsent through net_conn_local_pending until it is
 * closed (then -1), of the newest connection.  net_stop_local answers what is parked, closes every
 * connection and frees the server.
 */
struct net_server *net_start_local(struct broker *b, struct kp_loop *loop,
				   net_dispatch_fn dispatch);
int net_conn_local(struct net_server *s, int fd, const char *listener,
		   const char *principal);
int net_conn_local_pending(struct net_server *s);
/* The newest connection's principal from now on. */
void net_conn_local_as(struct net_server *s, const char *principal);
void net_stop_local(struct net_server *s);
/* Stop accepting; end every request parked on a worker (the purgatory's
 * drain); close every connection; join the workers. */
void net_stop(struct net_server *s);

/*
 * Answer r with the response struct resp (of r's API, at r's version).
 * File ranges made with net_req_file_range() stay with the response.
 * Frees the request (and its arena) once encoded.
 */
void net_reply(struct net_req *r, const void *resp);
/*
 * A file range for r's response (the ref of a kp_records external piece),
 * owned by the response slot until it is written, when release(ref) runs:
 * it takes over the caller's reference.  NULL when out of memory (the
 * reference is then still the caller's).
 */
struct net_file_range *net_req_file_range(struct net_req *r, int fd, int64_t pos,
					  void (*release)(void *ref), void *ref);
/*
 * Make r own its frame: copied into its arena and decoded again, so the
 * request (header and body) no longer points into the connection's read
 * buffer and may outlive the handler's return (a parked request).  0, or
 * -ENOMEM / -EPROTO.
 */
int net_req_detach(struct net_req *r);
/* The connection is gone (or going): a parked request may just be freed. */
bool net_req_orphaned(const struct net_req *r);

/*
 * SASL on a SASL listener's connection: NET_SASL_HANDSHAKE until a
 * SaslHandshake names an enabled mechanism, NET_SASL_AUTHENTICATE until
 * SaslAuthenticate succeeds, then NET_SASL_DONE.  Until then only
 * ApiVersions and the SASL requests are served (req_dispatch.c).  After
 * SaslHandshake v0 the state is NET_SASL_RAW: the next frame is the
 * client's token itself, without a request header (Kafka's framing for old
 * clients), checked by the same exchange (with the listener's credential
 * lookup, given by main.c) and answered by a frame holding the server's
 * token (SCRAM takes two such rounds).  Other listeners' connections are NET_SASL_NONE.  The
 * exchange's state and the session's (KIP-368 re-authentication and
 * expiry) are the connection's struct kp_sasl_conn (libkproto).  A
 * SaslHandshake on an authenticated connection whose session has a
 * lifetime begins a re-authentication (back to NET_SASL_HANDSHAKE, the
 * principal kept); any other request once the lifetime has passed closes
 * the connection.
 */
enum net_sasl {
	NET_SASL_NONE,
	NET_SASL_HANDSHAKE,
	NET_SASL_AUTHENTICATE,
	NET_SASL_RAW,			/* after SaslHandshake v0: raw tokens */
	NET_SASL_DONE,
};
enum net_sasl net_req_sasl_state(const struct net_req *r);
const struct broker_sasl *net_req_sasl(const struct net_req *r);
/* The connection's exchange and session (kp_sasl_conn.h), NULL off a
 * SASL listener. */
struct kp_sasl_conn *net_req_sasl_conn(const struct net_req *r);
/* The exchange is done: its user is the connection's principal. */
void net_req_sasl_done(struct net_req *r);
/* Read nothing more from r's connection and close it once every answer
 * already queued (r's too) is written and then
 * connection.failed.authentication.delay.ms has passed: a failed
 * authentication. */
void net_req_close_after(struct net_req *r);
/* The connection's authenticated name, bare ("" when none: not a SASL or
 * TLS-authenticated connection, or gone), and its peer's address. */
const char *net_req_principal(const struct net_req *r);
const char *net_req_host(const struct net_req *r);
/* Drop a request without answering (acks=0 produce); frees it. */
void net_req_done(struct net_req *r);
/* Close r's connection after an unrecoverable error; frees r. */
void net_req_fail(struct net_req *r, const char *why);

#endif /* NET_H */
