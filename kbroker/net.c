/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.c - listeners, worker loops and connections; see net.h.
 *
 * A connection moves its bytes only through its transport (transport.h):
 * it starts in the transport's handshake, if it has one, then reads
 * frames and writes the slots at the head of its FIFO; a transport that
 * must wait for the other direction (TLS) makes the connection watch for
 * it.  Record data goes out with the transport's sendfile, or, where it
 * has none, is read into the worker's bounce buffer and written.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker.h"
#include "kp_client.h"
#include "kp_codec.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_sasl_conn.h"
#include "net.h"
#include "purgatory.h"
#include "transport.h"
#include "transport_tls.h"

#define READ_CHUNK 65536
/* Stop reading a connection while this much output waits (backpressure). */
#define OUT_HIGH_WATER (64u << 20)
/* Resume reading a connection held back by its output below this. */
#define OUT_LOW_WATER (OUT_HIGH_WATER / 2)
/* accept() out of descriptors (EMFILE, ENFILE) or memory: listeners rest
 * this long instead of the level-triggered loop spinning on them */
#define ACCEPT_BACKOFF_MS 1000
/* at max.connections: how often the listeners look for a free slot */
#define ACCEPT_FULL_RECHECK_MS 50
/* the warnings about refused or failed accepts, at most once per */
#define ACCEPT_LOG_EVERY_MS 60000
/* per-address connection counts (max.connections.per.ip) */
#define IP_BUCKETS 1024

/* A file range copied through memory at most this much at a time. */
#define BOUNCE_SIZE (256u << 10)

struct net_resp {
	struct net_resp *next;
	bool ready;
	bool empty;			/* nothing to send (acks=0) */
	struct kp_wbuf w;
	struct net_file_range **ranges;	/* each holds a segment reference */
	int nranges, capranges;
	size_t ext_i;			/* next external piece */
	size_t mem_off;			/* bytes of w.data sent */
	int64_t file_off;		/* bytes of the current piece sent */
	int16_t api_key;		/* metrics: -1 not counted */
	int16_t api_key2;		/* FetchConsumer/FetchFollower, or -1 */
	int64_t t_recv_us, t_ready_us;
};

struct net_conn {
	struct net_conn *prev, *next;	/* the worker's connections */
	int fd;				/* the transport's socket */
	struct transport *t;
	struct net_worker *w;
	uint8_t *rbuf;
	size_t rlen, rcap;
	struct net_resp *head, *tail;
	int refs;			/* 1 for the socket + parked requests */
	size_t out_bytes;
	int nslots;			/* requests not yet answered and sent */
	int events;			/* what the loop watches for */
	bool closed;
	bool want_write;
	bool paused;			/* nslots reached max_pending */
	bool out_paused;		/* unsent answers passed OUT_HIGH_WATER */
	bool counted;			/* in the server's connection counts */
	int64_t last_active_ms;		/* connections.max.idle.ms */
	char ip[INET6_ADDRSTRLEN];	/* max.connections.per.ip */
	bool handshaking;		/* the transport's, not done yet */
	int handshake_wants;		/* KP_EV_READ or KP_EV_WRITE */
	bool read_wants_write;		/* the transport's read waits for it */
	bool write_wants_read;		/* the transport's write waits for it */
	const char *listener;		/* its listener's name (upper case) */
	const struct broker_sasl *sasl;	/* its listener's SASL setup, or NULL */
	struct kp_sasl_conn sc;		/* with sasl: its exchange and session
					 * (KIP-368), kp_sasl_conn.h */
	bool close_after;		/* close once the answers are out */
	/* connection.failed.authentication.delay.ms: after a failed
	 * authentication the answer goes out, then nothing is read and the
	 * close waits this timer (stopped by any other close) */
	struct kp_timer close_timer;
	char principal[256];		/* the SASL user, once authenticated, or
					 * a TLS client certificate's mapped
					 * name (empty: User:ANONYMOUS) */
	/* KIP-219: a client over its quota is not read from until this
	 * timer fires (its answers still go out) */
	bool throttled;
	int64_t throttled_until_ms;
	struct kp_timer throttle_timer;
	char peer[64];
};

struct net_listener {
	int fd;
	int port;
	const char *name;			/* b->listeners[i].listener */
	const struct broker_sasl *sasl;		/* NULL: not a SASL listener */
	const struct transport_type *tt;	/* of its connections */
	const struct transport_type *tls;	/* a TLS one it owns, or NULL */
	struct net_server *s;
};

/* How many connections one address has (max.connections.per.ip). */
struct ip_count {
	struct ip_count *next;
	int n;
	char ip[INET6_ADDRSTRLEN];
};

struct net_server {
	struct broker *b;
	/* Kafka's ConnectionQuotas: max.connections (at the limit the
	 * listeners stop accepting until one closes) and
	 * max.connections.per.ip (a connection past it is closed at once);
	 * counted on accept (main loop), released on close (workers) */
	int32_t max_conns, max_per_ip;
	int32_t auth_fail_delay_ms;	/* connection.failed.authentication.delay.ms */
	atomic_int nconns;
	pthread_mutex_t ip_lock;	/* leaf: ips */
	struct ip_count *ips[IP_BUCKETS];
	/* the listeners rest (descriptors short, or max.connections) */
	bool accept_paused;
	struct kp_timer accept_timer;
	int64_t accept_logged_ms;	/* accept() failed (descriptors) */
	int64_t full_logged_ms;		/* max.connections reached */
	int64_t idle_ms;		/* connections.max.idle.ms */
	struct kp_loop *main_loop;
	struct net_listener *ls;
	int nls;
	struct net_worker *workers;
	int nworkers;
	int next_worker;
};

static void net_server_release(struct net_server *s, const char *ip);

/* ------------------------------------------------------------ slots */

static void resp_free(struct net_resp *s)
{
	for (int i = 0; i < s->nranges; i++) {
		s->ranges[i]->release(s->ranges[i]->ref);
		free(s->ranges[i]);
	}
	free(s->ranges);
	kp_wbuf_free(&s->w);
	free(s);
}

/* A response written: its request counted with its total and send times. */
static void resp_times(struct net_conn *c, const struct net_resp *s)
{
	struct net_wmetrics *m = c->w->m;
	int64_t now;

	if (s->api_key < 0)
		return;
	now = kp_now_us();
	for (int16_t x = s->api_key; x >= 0; x = x == s->api_key ? s->api_key2 : -1) {
		kp_mctr_add(&m->requests[x], 1);
		kp_mhist_observe_us(&m->time[x][MT_TOTAL], (uint64_t)(now - s->t_recv_us));
		kp_mhist_observe_us(&m->time[x][MT_SEND], (uint64_t)(now - s->t_ready_us));
	}
}

/* Not inlined: GCC's use-after-free analysis cannot see that callers
 * hold a reference across the calls that may drop others. */
static __attribute__((noinline)) void conn_unref(struct net_conn *c)
{
	struct net_resp *s, *next;

	if (--c->refs > 0)
		return;
	for (s = c->head; s != NULL; s = next) {
		next = s->next;
		resp_free(s);
	}
	free(c->rbuf);
	if (c->sasl != NULL)
		kp_sasl_conn_free(&c->sc);
	free(c);
}

static void conn_close(struct net_conn *c, const char *why)
{
	if (c->closed)
		return;
	if (why != NULL)
		KP_INFO("closing connection from %s: %s", c->peer, why);
	c->closed = true;
	kp_timer_stop(c->w->loop, &c->close_timer);
	kp_timer_stop(c->w->loop, &c->throttle_timer);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	kp_loop_unwatch(c->w->loop, c->fd);
	c->t->type->close(c->t);
	c->t = NULL;
	c->fd = -1;
	c->w->nconns--;
	if (c->counted)
		net_server_release(c->w->server, c->ip);
	conn_unref(c);
}

/* After a failed authentication, once its delay is over. */
static void delayed_close(struct kp_loop *loop, void *arg)
{
	(void)loop;
	conn_close(arg, "SASL authentication failed");
}

/* --------------------------------------------------------- throttling */

static int conn_parse(struct net_conn *c);
static void conn_read(struct net_conn *c);
static void conn_update_events(struct net_conn *c);

/* A throttle is over: read again (what is buffered first). */
static void throttle_end(struct kp_loop *loop, void *arg)
{
	struct net_conn *c = arg;

	(void)loop;
	c->throttled = false;
	if (c->closed)
		return;
	c->refs++;
	if (!c->paused && !c->out_paused && conn_parse(c) == 0 && !c->closed &&
	    !c->handshaking)
		conn_read(c);
	else if (!c->closed)
		conn_update_events(c);
	conn_unref(c);
}

/* KIP-219: mute c for ms (the longest throttle wins). */
static void conn_throttle(struct net_conn *c, int32_t ms)
{
	int64_t until;

	if (ms <= 0 || c->closed)
		return;
	until = kp_now_ms() + ms;
	if (c->throttled && until <= c->throttled_until_ms)
		return;
	c->throttled = true;
	c->throttled_until_ms = until;
	kp_timer_start(c->w->loop, &c->throttle_timer, ms);
	conn_update_events(c);
}

/* ----------------------------------------------------------- writing */

/* Read unless too much output waits or too many requests do; write while
 * output is blocked; whatever the transport waits for. */
static void conn_update_events(struct net_conn *c)
{
	int ev = (c->want_write ? KP_EV_WRITE : 0) |
		 (!c->paused && !c->out_paused && !c->close_after && !c->throttled &&
		  c->out_bytes <= OUT_HIGH_WATER ? KP_EV_READ : 0);

	if (c->handshaking)
		ev = c->handshake_wants;
	if (c->read_wants_write)
		ev |= KP_EV_WRITE;
	if (c->write_wants_read)
		ev |= KP_EV_READ;

	if (ev != c->events && !c->closed) {
		c->events = ev;
		kp_loop_set_events(c->w->loop, c->fd, ev);
	}
}

static void conn_resume(void *arg);

/*
 * Part of a file range through memory, for a transport without sendfile:
 * read at most BOUNCE_SIZE into the worker's buffer and write what the
 * transport takes.  As the transport's sendfile: bytes, 0 at the file's
 * end, or TRANSPORT_*.
 */
static ssize_t copy_range(struct net_conn *c, const struct net_file_range *fr,
			  int64_t off, size_t n)
{
	struct net_worker *w = c->w;
	size_t want = n < BOUNCE_SIZE ? n : BOUNCE_SIZE;
	ssize_t got;

	if (w->bounce == NULL && (w->bounce = malloc(BOUNCE_SIZE)) == NULL) {
		errno = ENOMEM;
		return TRANSPORT_ERROR;
	}
	do
		got = pread(fr->fd, w->bounce, want, (off_t)(fr->pos + off));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return got < 0 ? TRANSPORT_ERROR : 0;
	return c->t->type->write(c->t, w->bounce, (size_t)got, (size_t)got < n);
}

/* Send from the head of the FIFO.  0, or -1 after closing. */
static int conn_flush(struct net_conn *c)
{
	const struct transport_type *tt = c->t->type;
	ssize_t n = 0;

	c->write_wants_read = false;
	while (c->head != NULL && c->head->ready) {
		struct net_resp *s = c->head;

		while (!s->empty) {
			size_t mem_end = s->ext_i < s->w.next ? s->w.ext[s->ext_i].at
							      : s->w.len;

			if (s->mem_off < mem_end) {
				n = tt->write(c->t, s->w.data + s->mem_off, mem_end - s->mem_off,
					      s->ext_i < s->w.next);
				if (n < 0)
					goto blocked;
				s->mem_off += (size_t)n;
				c->out_bytes -= (size_t)n;
				continue;
			}
			if (s->ext_i < s->w.next) {
				const struct kp_wext *e = &s->w.ext[s->ext_i];
				const struct net_file_range *fr = e->ref;
				size_t left = (size_t)((int64_t)e->len - s->file_off);

				if (tt->sendfile != NULL) {
					int64_t pos = fr->pos + s->file_off;

					n = tt->sendfile(c->t, fr->fd, &pos, left);
				} else {
					n = copy_range(c, fr, s->file_off, left);
				}
				if (n < 0)
					goto blocked;
				if (n == 0) {
					/* the file is shorter than promised (it
					 * was truncated): the frame is broken */
					conn_close(c, "segment shrank under a fetch");
					return -1;
				}
				s->file_off += n;
				c->out_bytes -= (size_t)n;
				if (s->file_off == (int64_t)e->len) {
					s->ext_i++;
					s->file_off = 0;
				}
				continue;
			}
			break;	/* all sent */
		}
		c->head = s->next;
		if (c->head == NULL)
			c->tail = NULL;
		resp_times(c, s);
		resp_free(s);
		c->nslots--;
	}
	c->want_write = false;
	if (c->close_after && c->head == NULL) {
		if (c->w->server->auth_fail_delay_ms > 0) {
			/* the answer is out: close later, read nothing */
			if (!kp_timer_armed(&c->close_timer))
				kp_timer_start(c->w->loop, &c->close_timer,
					       c->w->server->auth_fail_delay_ms);
			conn_update_events(c);
			return 0;
		}
		conn_close(c, "SASL authentication failed");
		return -1;
	}
	if (c->out_paused && c->out_bytes <= OUT_LOW_WATER) {
		c->out_paused = false;
		if (!c->paused) {
			c->refs++;
			if (kp_loop_post(c->w->loop, conn_resume, c) < 0) {
				conn_unref(c);
				conn_close(c, "cannot resume reading");
				return -1;
			}
		}
	}
	if (c->paused && c->nslots <= c->w->max_pending / 2) {
		/* the frames already read go first, from the loop (not from
		 * inside whatever answered the request that freed a slot) */
		c->paused = false;
		c->refs++;
		if (kp_loop_post(c->w->loop, conn_resume, c) < 0) {
			conn_unref(c);
			conn_close(c, "cannot resume reading");
			return -1;
		}
	}
	conn_update_events(c);
	return 0;
blocked:
	if (n == TRANSPORT_WANT_WRITE || n == TRANSPORT_WANT_READ) {
		c->want_write = n == TRANSPORT_WANT_WRITE;
		c->write_wants_read = n == TRANSPORT_WANT_READ;
		conn_update_events(c);
		return 0;
	}
	conn_close(c, strerror(errno));
	return -1;
}

/* ---------------------------------------------------------- requests */

static void req_free(struct net_req *r)
{
	struct net_conn *c = r->conn;

	if (r->worker->dispatching == r)
		r->worker->dispatching = NULL;

	kp_arena_free(&r->arena);
	free(r);
	conn_unref(c);
}

enum net_sasl net_req_sasl_state(const struct net_req *r)
{
	const struct net_conn *c = r->conn;

	if (c->sasl == NULL)
		return NET_SASL_NONE;
	switch (c->sc.state) {
	case KP_SASL_HANDSHAKE:
		return NET_SASL_HANDSHAKE;
	case KP_SASL_AUTHENTICATE:
		return NET_SASL_AUTHENTICATE;
	case KP_SASL_RAW:
		return NET_SASL_RAW;
	case KP_SASL_DONE:
		break;
	}
	return NET_SASL_DONE;
}

const struct broker_sasl *net_req_sasl(const struct net_req *r)
{
	return r->conn->sasl;
}

const char *net_req_principal(const struct net_req *r)
{
	return r->conn != NULL ? r->conn->principal : "";
}

const char *net_req_host(const struct net_req *r)
{
	return r->conn != NULL ? r->conn->ip : "";
}

struct kp_sasl_conn *net_req_sasl_conn(const struct net_req *r)
{
	return r->conn->sasl != NULL ? &r->conn->sc : NULL;
}

void net_req_sasl_done(struct net_req *r)
{
	struct net_conn *c = r->conn;

	snprintf(c->principal, sizeof(c->principal), "%s", c->sc.user);
}

void net_req_close_after(struct net_req *r)
{
	r->conn->close_after = true;
}

bool net_req_orphaned(const struct net_req *r)
{
	return r->conn->closed;
}

int net_req_detach(struct net_req *r)
{
	uint8_t *copy;
	struct kp_reader rd;

	if (r->detached)
		return 0;
	copy = kp_arena_alloc(&r->arena, r->frame_len);
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, r->frame, r->frame_len);
	kp_reader_init(&rd, copy, r->frame_len);
	if (kp_req_header_decode(&rd, &r->arena, &r->h) < 0 ||
	    kp_request_decode(r->api, r->h.api_version, &rd, &r->arena, r->body) < 0)
		return -EPROTO;
	r->frame = copy;
	r->detached = true;
	return 0;
}

struct net_file_range *net_req_file_range(struct net_req *r, int fd, int64_t pos,
					  void (*release)(void *ref), void *ref)
{
	struct net_resp *s = r->slot;
	struct net_file_range *fr;

	if (s->nranges == s->capranges) {
		int ncap = s->capranges ? s->capranges * 2 : 8;
		struct net_file_range **nr = realloc(s->ranges, (size_t)ncap * sizeof(*nr));

		if (nr == NULL)
			return NULL;
		s->ranges = nr;
		s->capranges = ncap;
	}
	fr = malloc(sizeof(*fr));
	if (fr == NULL)
		return NULL;
	fr->fd = fd;
	fr->pos = pos;
	fr->release = release;
	fr->ref = ref;
	s->ranges[s->nranges++] = fr;
	return fr;
}

/* A request's queue, local and remote times (metrics.h); its total and
 * send times are taken once the response is written (conn_flush). */
static void req_times(struct net_req *r)
{
	struct net_wmetrics *m = r->worker->m;
	struct net_resp *s = r->slot;
	int16_t k = r->h.api_key, k2 = -1;
	int64_t now = kp_now_us(), local_end;

	if (k < 0 || k >= METRICS_FETCH_CONSUMER)
		return;
	if (k == KP_API_FETCH && r->body != NULL)
		k2 = ((const struct kp_fetch_req *)r->body)->replica_id >= 0
		     ? METRICS_FETCH_FOLLOWER : METRICS_FETCH_CONSUMER;
	if (r->worker->dispatching == r) {	/* answered within its handler */
		r->worker->dispatching = NULL;
		local_end = now;
	} else {
		local_end = r->t_local_end_us;
	}
	for (int16_t x = k; x >= 0; x = x == k ? k2 : -1) {
		kp_mhist_observe_us(&m->time[x][MT_QUEUE],
				    (uint64_t)(r->t_disp_us - r->t_recv_us));
		kp_mhist_observe_us(&m->time[x][MT_LOCAL], (uint64_t)(local_end - r->t_disp_us));
		kp_mhist_observe_us(&m->time[x][MT_REMOTE], (uint64_t)(now - local_end));
	}
	s->api_key = k;
	s->api_key2 = k2;
	s->t_recv_us = r->t_recv_us;
	s->t_ready_us = now;
}

static void slot_done(struct net_req *r)
{
	struct net_conn *c = r->conn;

	req_times(r);
	r->slot->ready = true;
	req_free(r);
	if (!c->closed)
		conn_flush(c);
}

/* What a worker keeps of its conversion buffers between requests. */
#define CONV_KEEP (4u << 20)

void net_worker_trim(struct net_worker *w)
{
	/* one large compressed batch must not pin its inflated size (up to
	 * the decompression bound) on this worker for good */
	if (w->scratch.cap > CONV_KEEP)
		kp_wbuf_free(&w->scratch);
	if (w->conv.cap > CONV_KEEP)
		kp_wbuf_free(&w->conv);
	if (w->conv_raw.cap > CONV_KEEP)
		kp_wbuf_free(&w->conv_raw);
	if (w->conv_in.cap > CONV_KEEP)
		kp_wbuf_free(&w->conv_in);
}

void net_reply(struct net_req *r, const void *resp)
{
	struct net_resp *s = r->slot;

	if (r->conn->closed) {
		req_free(r);
		return;
	}
	if (r->worker->broker->reply_hook != NULL) {
		r->worker->broker->reply_hook(r, true);
		r->worker->broker->throttle_hook(r, (void *)resp);
	}
	if (kp_response_frame(&s->w, r->h.api_key, r->h.api_version,
			      r->h.correlation_id, resp) < 0 || s->w.err) {
		KP_ERROR("%s: cannot encode %s v%d response", r->peer, r->api->name,
			 r->h.api_version);
		net_req_fail(r, "response encoding failed");
		return;
	}
	r->conn->out_bytes += kp_wbuf_total(&s->w);
	conn_throttle(r->conn, r->throttle_ms);
	slot_done(r);
}

void net_req_done(struct net_req *r)
{
	r->slot->empty = true;
	if (!r->conn->closed) {
		if (r->worker->broker->reply_hook != NULL)
			r->worker->broker->reply_hook(r, false);
		conn_throttle(r->conn, r->throttle_ms);
	}
	slot_done(r);
}

void net_req_fail(struct net_req *r, const char *why)
{
	struct net_conn *c = r->conn;

	r->slot->empty = true;
	r->slot->ready = true;
	c->refs++;
	req_free(r);
	conn_close(c, why);
	conn_unref(c);
}

/*
 * A raw SASL token (after SaslHandshake v0): checked, and answered by a
 * frame holding the server's token (PLAIN's is empty), in the FIFO after
 * what came before; a failure closes the connection.
 */
static void handle_raw_token(struct net_conn *c, const uint8_t *tok, size_t len)
{
	struct net_resp *s;
	char msg[256], out[1024];
	size_t outlen = 0;
	int rc = kp_sasl_conn_token(&c->sc, c->peer, tok, len, out, sizeof(out), &outlen,
				    msg, sizeof(msg), kp_now_ms());

	if (rc < 0) {
		/* v0 has no error answer: close, after the delay */
		c->close_after = true;
		conn_flush(c);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		conn_close(c, "out of memory");
		return;
	}
	kp_wbuf_init(&s->w);
	s->api_key = -1;
	kp_write_i32(&s->w, (int32_t)outlen);	/* the frame: the server's token */
	kp_write_raw(&s->w, out, outlen);
	if (s->w.err) {
		resp_free(s);
		conn_close(c, "out of memory");
		return;
	}
	s->ready = true;
	if (c->tail != NULL)
		c->tail->next = s;
	else
		c->head = s;
	c->tail = s;
	c->nslots++;
	c->out_bytes += kp_wbuf_total(&s->w);
	if (rc == 1)
		snprintf(c->principal, sizeof(c->principal), "%s", c->sc.user);
	conn_flush(c);
}

/* Decode the header and hand the request to the dispatcher. */
static void handle_frame(struct net_conn *c, uint8_t *frame, size_t len)
{
	struct net_req *r = calloc(1, sizeof(*r));
	struct net_resp *s = calloc(1, sizeof(*s));
	struct kp_reader rd;

	if (r == NULL || s == NULL) {
		free(r);
		free(s);
		conn_close(c, "out of memory");
		return;
	}
	kp_wbuf_init(&s->w);
	s->api_key = -1;
	if (c->tail != NULL)
		c->tail->next = s;
	else
		c->head = s;
	c->tail = s;
	c->nslots++;
	r->t_recv_us = kp_now_us();
	r->conn = c;
	r->worker = c->w;
	r->slot = s;
	r->listener = c->listener;
	snprintf(r->peer, sizeof(r->peer), "%s", c->peer);
	c->refs++;
	kp_arena_init(&r->arena, (size_t)c->w->broker->request_arena_cap);
	r->frame = frame;
	r->frame_len = len;
	kp_reader_init(&rd, frame, len);
	if (kp_req_header_decode(&rd, &r->arena, &r->h) < 0) {
		net_req_fail(r, "malformed request header");
		return;
	}
	/* KIP-368, as Kafka's SocketServer: a SaslHandshake may begin a
	 * re-authentication; any other request after the session's end
	 * closes the connection */
	if (c->sasl != NULL && c->sc.state == KP_SASL_DONE &&
	    !(r->h.api_key == KP_API_SASL_HANDSHAKE &&
	      kp_sasl_conn_reauth_begin(&c->sc, kp_now_ms())) &&
	    kp_sasl_conn_expired(&c->sc, kp_now_ms())) {
		net_req_fail(r, "SASL session expired without re-authentication");
		return;
	}
	r->t_disp_us = kp_now_us();
	c->w->dispatching = r;
	c->w->dispatch(r, &rd);
	/* still there: parked (or freed, which cleared it) */
	if (c->w->dispatching == r) {
		r->t_local_end_us = kp_now_us();
		c->w->dispatching = NULL;
	}
}

/* ----------------------------------------------------------- reading */

/*
 * Hand the whole frames read so far to the dispatcher, until the
 * connection has max_pending unanswered requests (then it pauses: Kafka
 * reads one request of a connection at a time; we let a client pipeline
 * that many).  -1 once the connection is closed.
 */
static int conn_parse(struct net_conn *c)
{
	struct broker *b = c->w->broker;
	size_t off = 0;

	for (;;) {
		size_t flen;
		int st;

		if (c->close_after || c->throttled)
			break;	/* nothing more is read from it (for now) */
		if (c->nslots >= c->w->max_pending) {
			c->paused = true;
			break;
		}
		/* a client that does not read its answers: the frames it
		 * already sent wait too, so its unsent answers stay bounded
		 * (an all-topics Metadata pipelined 500 times would not) */
		if (c->out_bytes > OUT_HIGH_WATER) {
			c->out_paused = true;
			break;
		}
		st = kp_frame_check(c->rbuf + off, c->rlen - off,
				    b->socket_request_max_bytes, &flen);
		if (st == KP_FRAME_PARTIAL)
			break;
		if (st == KP_FRAME_INVALID) {
			/* a TLS record: handshake (0x16), version 3.x */
			if (off == 0 && c->rlen >= 2 && c->rbuf[0] == 0x16 &&
			    c->rbuf[1] == 0x03)
				KP_WARN("%s: a TLS ClientHello on plaintext listener "
					"%s: closing", c->peer, c->listener);
			else
				KP_WARN("%s: frame size %d is negative or above "
					"socket.request.max.bytes (%d)", c->peer,
					(int32_t)kp_be32(c->rbuf + off),
					b->socket_request_max_bytes);
			conn_close(c, "invalid frame size");
			return -1;
		}
		c->refs++;	/* handlers may close c */
		if (c->sasl != NULL && c->sc.state == KP_SASL_RAW)
			handle_raw_token(c, c->rbuf + off + 4, flen - 4);
		else
			handle_frame(c, c->rbuf + off + 4, flen - 4);
		off += flen;
		if (c->closed) {
			conn_unref(c);
			return -1;
		}
		conn_unref(c);
	}
	/* a partial frame stays in place until it is whole: only what
	 * follows handled frames moves (not a 1 MB frame on every read) */
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	return 0;
}

static void conn_reread(void *arg);

static void conn_read(struct net_conn *c)
{
	const struct transport_type *tt = c->t->type;
	bool starved = false;	/* the transport waits for the socket */

	c->read_wants_write = false;
	for (int round = 0; round < 8 && !c->closed && !c->paused && !c->out_paused &&
	     !c->throttled;
	     round++) {
		ssize_t n;

		if (kp_buf_make_room(&c->rbuf, &c->rcap, c->rlen, READ_CHUNK) < 0) {
			conn_close(c, "out of memory");
			return;
		}
		n = tt->read(c->t, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n == TRANSPORT_WANT_READ) {
			starved = true;
			break;
		}
		if (n == TRANSPORT_WANT_WRITE) {
			c->read_wants_write = true;
			starved = true;
			break;
		}
		if (n <= 0) {
			conn_close(c, n == 0 ? NULL : strerror(errno));
			return;
		}
		c->rlen += (size_t)n;
		if (conn_parse(c) < 0)
			return;
		/* a short read drains a socket, not a transport that holds
		 * more (TLS: records read ahead) */
		if (((size_t)n < c->rcap - c->rlen &&
		     (tt->pending == NULL || !tt->pending(c->t))) ||
		    c->out_bytes > OUT_HIGH_WATER)
			break;
	}
	if (c->closed)
		return;
	conn_update_events(c);
	/* bytes inside the transport wake no epoll: read them from the loop
	 * (unless it just said it needs the socket: a partial TLS record
	 * read ahead is pending too, and the socket's event brings the rest) */
	if (tt->pending != NULL && !starved && !c->paused && !c->out_paused &&
	    !c->throttled &&
	    c->out_bytes <= OUT_HIGH_WATER &&
	    tt->pending(c->t)) {
		c->refs++;
		if (kp_loop_post(c->w->loop, conn_reread, c) < 0)
			conn_unref(c);
	}
	/* keep big idle buffers from piling up across many connections */
	if (c->rlen == 0 && c->rcap > 4 * READ_CHUNK) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

static void conn_reread(void *arg)
{
	struct net_conn *c = arg;

	if (!c->closed && !c->handshaking)
		conn_read(c);
	conn_unref(c);
}

/* Posted once a paused connection has room again. */
static void conn_resume(void *arg)
{
	struct net_conn *c = arg;

	if (!c->closed && !c->paused && !c->out_paused && conn_parse(c) == 0) {
		/* what the transport read ahead meanwhile wakes no epoll */
		if (!c->handshaking && !c->throttled && c->t->type->pending != NULL &&
		    c->t->type->pending(c->t))
			conn_read(c);
		else
			conn_update_events(c);
	}
	conn_unref(c);
}

/* The transport's handshake, a step at a time: true once it is done. */
static bool conn_handshake(struct net_conn *c)
{
	int rc = c->t->type->handshake(c->t);

	if (rc == 0) {
		const char *who = c->t->type->principal != NULL ?
				  c->t->type->principal(c->t) : NULL;

		c->handshaking = false;
		/* a client certificate's name; on a SASL listener the SASL
		 * user is the principal (Kafka's SASL_SSL) */
		if (who != NULL && c->sasl == NULL)
			snprintf(c->principal, sizeof(c->principal), "%s", who);
		conn_update_events(c);
		return true;
	}
	if (rc == TRANSPORT_WANT_READ || rc == TRANSPORT_WANT_WRITE) {
		c->handshake_wants = rc == TRANSPORT_WANT_READ ? KP_EV_READ : KP_EV_WRITE;
		conn_update_events(c);
		return false;
	}
	conn_close(c, "handshake failed");
	return false;
}

static void conn_io(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct net_conn *c = arg;

	(void)loop;
	(void)fd;
	c->last_active_ms = kp_now_ms();
	c->refs++;
	if (c->handshaking && !conn_handshake(c)) {
		conn_unref(c);
		return;
	}
	/* an error or hang-up on a connection we neither read nor write
	 * (paused): nothing else would notice, and the loop would report it
	 * again and again */
	if ((events & KP_EV_ERROR) && !c->closed &&
	    !(c->events & (KP_EV_READ | KP_EV_WRITE)))
		conn_close(c, "connection error while paused");
	if ((events & KP_EV_WRITE) && !c->closed && c->read_wants_write)
		conn_read(c);
	if ((events & (KP_EV_WRITE | (c->write_wants_read ? KP_EV_READ : 0))) &&
	    !c->closed)
		conn_flush(c);
	if ((events & (KP_EV_READ | KP_EV_ERROR)) && !c->closed &&
	    c->out_bytes <= OUT_HIGH_WATER)
		conn_read(c);
	conn_unref(c);
}

/* -------------------------------------------------- accept and adopt */

struct adopt {
	struct net_worker *w;
	const struct transport_type *tt;
	const char *listener;
	const struct broker_sasl *sasl;
	int fd;
	char peer[64];
	char ip[INET6_ADDRSTRLEN];
};

static void conn_adopt(void *arg)
{
	struct adopt *a = arg;
	struct net_conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		close(a->fd);
		net_server_release(a->w->server, a->ip);
		free(a);
		return;
	}
	kp_timer_init(&c->close_timer, delayed_close, c);
	kp_timer_init(&c->throttle_timer, throttle_end, c);
	/* the transport takes the socket over (and closes it on failure) */
	c->t = a->tt->accept(a->tt, a->fd);
	if (c->t == NULL) {
		net_server_release(a->w->server, a->ip);
		free(a);
		free(c);
		return;
	}
	c->counted = true;
	snprintf(c->ip, sizeof(c->ip), "%s", a->ip);
	c->last_active_ms = kp_now_ms();
	c->fd = c->t->fd;
	c->w = a->w;
	c->listener = a->listener;
	c->sasl = a->sasl;
	if (a->sasl != NULL)
		kp_sasl_conn_init(&c->sc, &a->sasl->l, a->sasl->lookup, a->sasl->lookup_arg);
	c->refs = 1;
	snprintf(c->peer, sizeof(c->peer), "%s", a->peer);
	free(a);
	/* a handshake starts with the client's first bytes */
	c->handshaking = c->t->type->handshake != NULL;
	c->handshake_wants = KP_EV_READ;
	c->events = KP_EV_READ;
	if (kp_loop_watch(c->w->loop, c->fd, KP_EV_READ, conn_io, c) < 0) {
		c->t->type->close(c->t);
		net_server_release(c->w->server, c->ip);
		free(c);
		return;
	}
	c->w->nconns++;
	c->next = c->w->conns;
	if (c->next != NULL)
		c->next->prev = c;
	c->w->conns = c;
	KP_DEBUG("connection from %s on worker %d", c->peer, c->w->id);
}

/* ------------------------------------------------- connection quotas */

static unsigned ip_hash(const char *ip)
{
	unsigned h = 5381;

	while (*ip)
		h = h * 33 + (unsigned char)*ip++;
	return h % IP_BUCKETS;
}

/* Count a new connection from ip; false (nothing counted) when ip has
 * max.connections.per.ip already. */
static bool ip_take(struct net_server *s, const char *ip)
{
	struct ip_count **pp, *e;
	bool ok = true;

	if (s->max_per_ip == INT32_MAX)
		return true;		/* Kafka's default: no limit, no table */
	pthread_mutex_lock(&s->ip_lock);
	for (pp = &s->ips[ip_hash(ip)]; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->ip, ip) == 0)
			break;
	if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
		snprintf(e->ip, sizeof(e->ip), "%s", ip);
		*pp = e;
	}
	if (e == NULL || e->n >= s->max_per_ip)
		ok = false;
	else
		e->n++;
	pthread_mutex_unlock(&s->ip_lock);
	return ok;
}

static void ip_give(struct net_server *s, const char *ip)
{
	struct ip_count **pp, *e;

	if (s->max_per_ip == INT32_MAX)
		return;
	pthread_mutex_lock(&s->ip_lock);
	for (pp = &s->ips[ip_hash(ip)]; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->ip, ip) == 0) {
			if (--e->n <= 0) {
				*pp = e->next;
				free(e);
			}
			break;
		}
	pthread_mutex_unlock(&s->ip_lock);
}

/* Any thread: a counted connection is gone. */
static void net_server_release(struct net_server *s, const char *ip)
{
	ip_give(s, ip);
	atomic_fetch_sub(&s->nconns, 1);
}

/* A warning about accepting, at most once a minute for each kind (*last
 * its time), so that one kind never hides another. */
static void accept_warn(int64_t *last, const char *what, const char *detail)
{
	int64_t now = kp_now_ms();

	if (*last != 0 && now - *last < ACCEPT_LOG_EVERY_MS)
		return;
	*last = now;
	KP_WARN("%s: %s (said at most once a minute)", what, detail);
}

static void on_accept(struct kp_loop *loop, int fd, int events, void *arg);

/* The listeners rest for ms: the loop stops watching them, a timer
 * brings them back. */
static void accept_pause(struct net_server *s, int64_t ms)
{
	if (!s->accept_paused) {
		for (int i = 0; i < s->nls; i++)
			kp_loop_unwatch(s->main_loop, s->ls[i].fd);
		s->accept_paused = true;
	}
	kp_timer_start(s->main_loop, &s->accept_timer, ms);
}

static void accept_resume(struct kp_loop *loop, void *arg)
{
	struct net_server *s = arg;

	(void)loop;
	if (atomic_load(&s->nconns) >= s->max_conns) {
		kp_timer_start(s->main_loop, &s->accept_timer, ACCEPT_FULL_RECHECK_MS);
		return;
	}
	s->accept_paused = false;
	for (int i = 0; i < s->nls; i++)
		if (kp_loop_watch(s->main_loop, s->ls[i].fd, KP_EV_READ, on_accept,
				  &s->ls[i]) < 0)
			KP_ERROR("cannot watch listener %d again", s->ls[i].port);
}

static void on_accept(struct kp_loop *loop, int fd, int events, void *arg)
{
	struct net_listener *l = arg;
	struct net_server *s = l->s;

	(void)loop;
	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd;
		struct adopt *a;
		char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
		int one = 1;

		/* Kafka: at max.connections the acceptor waits for a slot */
		if (atomic_load(&s->nconns) >= s->max_conns) {
			accept_warn(&s->full_logged_ms, "max.connections",
				    "not accepting until a connection closes");
			accept_pause(s, ACCEPT_FULL_RECHECK_MS);
			return;
		}
		cfd = accept4(fd, (struct sockaddr *)&ss, &sl,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the pending connection stays pending: a
				 * level-triggered loop would spin on it */
				accept_warn(&s->accept_logged_ms, "accept", strerror(errno));
				accept_pause(s, ACCEPT_BACKOFF_MS);
				return;
			}
			accept_warn(&s->accept_logged_ms, "accept", strerror(errno));
			return;
		}
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
			    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
		if (!ip_take(s, host)) {
			/* Kafka's TooManyConnectionsException: closed at once */
			KP_INFO("refusing a connection from %s: it has "
				"max.connections.per.ip (%d) already", host, s->max_per_ip);
			close(cfd);
			continue;
		}
		atomic_fetch_add(&s->nconns, 1);
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		a = malloc(sizeof(*a));
		if (a == NULL) {
			close(cfd);
			net_server_release(s, host);
			continue;
		}
		a->w = &s->workers[s->next_worker++ % s->nworkers];
		a->tt = l->tt;
		a->listener = l->name;
		a->sasl = l->sasl;
		a->fd = cfd;
		snprintf(a->peer, sizeof(a->peer), "%s:%s", host, port);
		snprintf(a->ip, sizeof(a->ip), "%s", host);
		if (kp_loop_post(a->w->loop, conn_adopt, a) < 0) {
			close(cfd);
			net_server_release(s, host);
			free(a);
		}
	}
}

/* ------------------------------------------------- idle connections */

/* Kafka's connections.max.idle.ms: a connection with nothing read or
 * written for that long is closed, unless it waits for an answer (a
 * parked request). */
static void idle_sweep(struct kp_loop *loop, void *arg)
{
	struct net_worker *w = arg;
	int64_t now = kp_now_ms(), idle = w->server->idle_ms;
	struct net_conn *c, *next;

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (c->nslots == 0 && now - c->last_active_ms >= idle)
			conn_close(c, "idle for connections.max.idle.ms");
	}
	kp_timer_start(loop, &w->idle_timer, w->idle_period_ms);
}

static void idle_start(void *arg)
{
	struct net_worker *w = arg;

	kp_timer_start(w->loop, &w->idle_timer, w->idle_period_ms);
}

/* The transport of listener i's connections; NULL (err set) when its
 * protocol cannot be served. */
static const struct transport_type *net_transport_for(struct broker *b, size_t i,
						      char *err, size_t errlen)
{
	int proto = b->lsn.bind_proto[i];

	if (proto == KP_SEC_PLAINTEXT)
		return &transport_plain;
	if (proto == KP_SEC_SASL_PLAINTEXT)
		return &transport_plain;	/* SASL is in the requests */
	if (proto == KP_SEC_SSL || proto == KP_SEC_SASL_SSL)
		return transport_tls_new(&b->cfg, b->listeners[i].listener, err, errlen);
	snprintf(err, errlen, "listener %s: security protocol %s is not supported",
		 b->listeners[i].listener, kp_secproto_name(proto));
	return NULL;
}

static void *worker_main(void *arg)
{
	struct net_worker *w = arg;
	char ident[64];

	snprintf(ident, sizeof(ident), "kbroker-net-%d", w->id);
	pthread_setname_np(pthread_self(), ident);
	kp_loop_run(w->loop);
	return NULL;
}

struct net_server *net_start(struct broker *b, struct kp_loop *main_loop,
			     int nworkers, net_dispatch_fn dispatch,
			     char *err, size_t errlen)
{
	struct net_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->b = b;
	s->main_loop = main_loop;
	s->max_conns = kp_config_int(&b->cfg, "max.connections");
	s->max_per_ip = kp_config_int(&b->cfg, "max.connections.per.ip");
	s->auth_fail_delay_ms = kp_config_int(&b->cfg,
					      "connection.failed.authentication.delay.ms");
	s->idle_ms = kp_config_long(&b->cfg, "connections.max.idle.ms");
	atomic_init(&s->nconns, 0);
	pthread_mutex_init(&s->ip_lock, NULL);
	kp_timer_init(&s->accept_timer, accept_resume, s);
	s->ls = calloc(b->nlisteners, sizeof(*s->ls));
	s->workers = calloc((size_t)nworkers, sizeof(*s->workers));
	if (s->ls == NULL || s->workers == NULL)
		goto fail;
	for (size_t i = 0; i < b->nlisteners; i++) {
		struct net_listener *l = &s->ls[s->nls];

		l->s = s;
		l->fd = -1;
		l->name = b->listeners[i].listener;
		l->sasl = b->sasl != NULL && b->sasl[i].on ? &b->sasl[i] : NULL;
		l->tt = net_transport_for(b, i, err, errlen);
		if (l->tt == NULL)
			goto fail;
		if (l->tt != &transport_plain)
			l->tls = l->tt;
		s->nls++;
		l->fd = kp_tcp_listen(b->listeners[i].host, b->listeners[i].port,
				  b->listen_backlog, &l->port, err, errlen);
		if (l->fd < 0)
			goto fail;
		if (kp_loop_watch(main_loop, l->fd, KP_EV_READ, on_accept, l) < 0)
			goto fail;
	}
	for (int i = 0; i < nworkers; i++) {
		struct net_worker *w = &s->workers[i];

		w->broker = b;
		w->server = s;
		kp_timer_init(&w->idle_timer, idle_sweep, w);
		/* a tenth of the idle time, 10 ms to 1 s between sweeps */
		w->idle_period_ms = s->idle_ms / 10;
		if (w->idle_period_ms > 1000)
			w->idle_period_ms = 1000;
		if (w->idle_period_ms < 10)
			w->idle_period_ms = 10;
		w->max_pending = kp_config_int(&b->cfg, "queued.max.requests");
		if (w->max_pending < 1)
			w->max_pending = 1;
		w->id = i;
		w->m = calloc(1, sizeof(*w->m));
		if (w->m == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		kp_wbuf_init(&w->scratch);
		kp_wbuf_init(&w->conv);
		kp_wbuf_init(&w->conv_raw);
		kp_wbuf_init(&w->conv_in);
		w->dispatch = dispatch;
		w->loop = kp_loop_new();
		if (w->loop != NULL)
			w->home = purgatory_home_new(b->purg, w->loop);
		if (w->loop == NULL || w->home == NULL ||
		    pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			snprintf(err, errlen, "cannot start network thread %d", i);
			kp_loop_free(w->loop);
			w->loop = NULL;
			goto fail;
		}
		s->nworkers++;
		if (s->idle_ms > 0 && kp_loop_post(w->loop, idle_start, w) < 0) {
			snprintf(err, errlen, "cannot start network thread %d", i);
			goto fail;
		}
	}
	return s;
fail:
	net_stop(s);
	return NULL;
}

int net_nworkers(const struct net_server *s)
{
	return s->nworkers;
}

struct net_worker *net_worker_at(struct net_server *s, int i)
{
	return &s->workers[i];
}

int net_listener_port(const struct net_server *s, int idx)
{
	return idx < s->nls ? s->ls[idx].port : -1;
}

void net_listener_transport(struct net_server *s, int idx,
			    const struct transport_type *tt)
{
	if (idx < s->nls)
		s->ls[idx].tt = tt;
}

const struct transport_type *net_listener_transport_of(const struct net_server *s,
						       int idx)
{
	return idx < s->nls ? s->ls[idx].tt : NULL;
}

static void close_all(void *arg)
{
	struct net_worker *w = arg;

	kp_timer_stop(w->loop, &w->idle_timer);
	purgatory_drain(w->home);	/* parked requests answer now */
	while (w->conns != NULL)
		conn_close(w->conns, NULL);
	kp_loop_stop(w->loop);
}

void net_stop(struct net_server *s)
{
	if (s == NULL)
		return;
	kp_timer_stop(s->main_loop, &s->accept_timer);
	for (int i = 0; i < s->nls; i++) {
		if (s->ls[i].fd < 0)
			continue;
		if (!s->accept_paused)
			kp_loop_unwatch(s->main_loop, s->ls[i].fd);
		close(s->ls[i].fd);
	}
	/* every worker stops before any loop goes: a worker may still post
	 * a wake-up to another's loop while stopping */
	for (int i = 0; i < s->nworkers; i++)
		kp_loop_post(s->workers[i].loop, close_all, &s->workers[i]);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i].thread, NULL);
	for (int i = 0; i < s->nworkers; i++) {
		kp_loop_free(s->workers[i].loop);
		kp_wbuf_free(&s->workers[i].scratch);
		kp_wbuf_free(&s->workers[i].conv);
		kp_wbuf_free(&s->workers[i].conv_raw);
		kp_wbuf_free(&s->workers[i].conv_in);
		free(s->workers[i].bounce);
		free(s->workers[i].m);
	}
	for (int i = 0; i < IP_BUCKETS; i++)
		while (s->ips[i] != NULL) {
			struct ip_count *e = s->ips[i];

			s->ips[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&s->ip_lock);
	/* every connection is gone: the TLS contexts may go */
	for (int i = 0; i < s->nls; i++)
		transport_tls_free(s->ls[i].tls);
	free(s->ls);
	free(s->workers);
	free(s);
}

/* ------------------------------------------- in-process (no threads) */

struct net_server *net_start_local(struct broker *b, struct kp_loop *loop,
				   net_dispatch_fn dispatch)
{
	struct net_server *s = calloc(1, sizeof(*s));
	struct net_worker *w;

	if (s == NULL)
		return NULL;
	s->b = b;
	s->main_loop = loop;
	s->max_conns = s->max_per_ip = INT32_MAX;
	atomic_init(&s->nconns, 0);
	pthread_mutex_init(&s->ip_lock, NULL);
	kp_timer_init(&s->accept_timer, accept_resume, s);
	s->workers = w = calloc(1, sizeof(*s->workers));
	if (w == NULL)
		goto fail;
	w->broker = b;
	w->server = s;
	kp_timer_init(&w->idle_timer, idle_sweep, w);
	w->max_pending = kp_config_int(&b->cfg, "queued.max.requests");
	if (w->max_pending < 1)
		w->max_pending = 1;
	w->m = calloc(1, sizeof(*w->m));
	kp_wbuf_init(&w->scratch);
	kp_wbuf_init(&w->conv);
	kp_wbuf_init(&w->conv_raw);
	kp_wbuf_init(&w->conv_in);
	w->dispatch = dispatch;
	w->loop = loop;
	w->home = w->m != NULL ? purgatory_home_new(b->purg, loop) : NULL;
	if (w->home == NULL) {
		free(w->m);
		goto fail;
	}
	s->nworkers = 1;
	return s;
fail:
	pthread_mutex_destroy(&s->ip_lock);
	free(s->workers);
	free(s);
	return NULL;
}

int net_conn_local(struct net_server *s, int fd, const char *listener,
		   const char *principal)
{
	struct adopt *a = calloc(1, sizeof(*a));
	struct net_conn *c;

	if (a == NULL) {
		close(fd);
		return -1;
	}
	a->w = &s->workers[0];
	a->tt = &transport_plain;
	a->listener = listener;
	a->fd = fd;
	snprintf(a->peer, sizeof(a->peer), "127.0.0.1:1");
	snprintf(a->ip, sizeof(a->ip), "127.0.0.1");
	atomic_fetch_add(&s->nconns, 1);
	conn_adopt(a);
	c = s->workers[0].conns;
	if (c == NULL)
		return -1;
	snprintf(c->principal, sizeof(c->principal), "%s", principal);
	return 0;
}

int net_conn_local_pending(struct net_server *s)
{
	const struct net_conn *c = s->workers[0].conns;

	return c != NULL ? c->nslots : -1;
}

void net_conn_local_as(struct net_server *s, const char *principal)
{
	struct net_conn *c = s->workers[0].conns;

	if (c != NULL)
		snprintf(c->principal, sizeof(c->principal), "%s", principal);
}

void net_stop_local(struct net_server *s)
{
	struct net_worker *w = &s->workers[0];

	purgatory_drain(w->home);
	while (w->conns != NULL)
		conn_close(w->conns, NULL);
	kp_wbuf_free(&w->scratch);
	kp_wbuf_free(&w->conv);
	kp_wbuf_free(&w->conv_raw);
	kp_wbuf_free(&w->conv_in);
	free(w->bounce);
	free(w->m);
	for (int i = 0; i < IP_BUCKETS; i++)
		while (s->ips[i] != NULL) {
			struct ip_count *e = s->ips[i];

			s->ips[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&s->ip_lock);
	free(s->workers);
	free(s);
}
