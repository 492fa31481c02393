/*
 * net.h - kbroker's network layer: listeners, worker loops, connections.
 *
 * Threads: num.network.threads workers, each running its own kp_loop.
 * The acceptor (on the main loop) hands every new connection to one worker
 * for its whole life, round robin.  A request is read, decoded, handled
 * and answered on that worker thread: no hand-off between the socket read
 * and the response write (handlers that must wait - long-poll fetch,
 * acks=all - park the request and answer later from the same thread).
 *
 * Per connection, requests are answered in the order they arrived even
 * when handled out of order: each gets a slot in a FIFO of responses, and
 * only complete slots at the head are written.  A response is a chain of
 * memory pieces and file ranges; file ranges (Fetch record data) go out
 * with sendfile(), memory with writev().
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

struct broker;
struct net_conn;
struct log_segment;

/* Record data in a response that lives in a segment file: the ref of a
 * kp_records/kp_wbuf external piece. */
struct net_file_range {
	struct log_segment *seg;	/* reference owned by the response */
	int fd;
	int64_t pos;
};

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
					 * handler returns (parking copies) */
	size_t frame_len;
	char peer[64];
};

struct net_worker {
	struct broker *broker;
	struct kp_loop *loop;
	pthread_t thread;
	int id;
	int nconns;
	struct net_conn *conns;
	struct kp_wbuf scratch;		/* decompression for validation */
	/* message format conversion (Produce v0-2, Fetch v0-3): the
	 * converted data and records waiting for compression */
	struct kp_wbuf conv, conv_raw, conv_in;
	struct fetch_waiter *waiters;	/* parked fetches (api_fetch.c) */
	struct produce_waiter *produce_waiters; /* acks=all (api_partition.c) */
	struct admin_waiter *admin_waiters; /* admin requests (api_admin.c) */
	struct forward *forwards;	/* to the controller (api_forward.c) */
	atomic_bool poked;		/* a recheck is already posted */
	/* queued.max.requests: a connection with this many unanswered
	 * requests is not read until half of them are answered */
	int max_pending;
};

struct net_server;

/*
 * Start listening on every listener endpoint and start the workers.
 * Returns NULL with a message in err.
 */
struct net_server *net_start(struct broker *b, struct kp_loop *main_loop,
			     int nworkers, char *err, size_t errlen);
/* Give back conversion buffers that grew large (after a request). */
void net_worker_trim(struct net_worker *w);
/* Worker i (0 <= i < net_nworkers). */
int net_nworkers(const struct net_server *s);
struct net_worker *net_worker_at(struct net_server *s, int i);
/* The port a listener got (after binding port 0), by index. */
int net_listener_port(const struct net_server *s, int idx);
/* Stop accepting; close every connection; join the workers. */
void net_stop(struct net_server *s);

/*
 * Answer r with the response struct resp (of r's API, at r's version).
 * File ranges made with net_req_file_range() stay with the response.
 * Frees the request (and its arena) once encoded.
 */
void net_reply(struct net_req *r, const void *resp);
/*
 * A file range for r's response (the ref of a kp_records external piece),
 * owned by the response slot until it is written; it takes over the
 * caller's segment reference.  NULL when out of memory (the reference is
 * then still the caller's).
 */
struct net_file_range *net_req_file_range(struct net_req *r,
					  struct log_segment *seg, int fd,
					  int64_t pos);
/* The connection is gone (or going): a parked request may just be freed. */
bool net_req_orphaned(const struct net_req *r);
/* Drop a request without answering (acks=0 produce); frees it. */
void net_req_done(struct net_req *r);
/* Close r's connection after an unrecoverable error; frees r. */
void net_req_fail(struct net_req *r, const char *why);

#endif /* NET_H */
