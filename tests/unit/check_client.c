/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_client.c - the protocol client, blocking and on an event loop,
 * against a scripted broker stand-in on loopback that speaks the real
 * framing (so this tests the client's side of the wire, not a broker).
 * SASL PLAIN with a session lifetime (KIP-368): the client re-authenticates
 * before the request that comes after 85% of it, blocking and on a loop
 * (where the requests queued meanwhile wait behind the exchange).
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_run.h"
#include "kp_client.h"
#include "kp_errors.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_proto.h"

enum misbehave {
	SRV_NORMAL,
	SRV_BAD_CORRELATION,	/* wrong correlation id on request #at */
	SRV_HUGE_FRAME,		/* announce a 1 GiB frame for request #at */
	SRV_CLOSE,		/* hang up when request #at arrives */
	SRV_SILENT,		/* answer nothing from request #at on */
	SRV_GARBLED_BODY,	/* a response body that does not decode */
};

struct srv {
	int lfd;
	int port;
	pthread_t th;
	int av_max;		/* highest ApiVersions version known */
	enum misbehave how;
	int at;			/* index among non-ApiVersions requests */
	int av_seen[8];
	int nav;
	char sw_name[64];
	int nreq;
	int produce_seen;
	int corr_not_increasing;
	int64_t lifetime_ms;	/* SaslAuthenticate's session_lifetime_ms */
	int16_t keys[64];	/* the keys asked, ApiVersions aside */
	int nkeys;
};

static int read_full(int fd, void *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = read(fd, (char *)p + off, n - off);

		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = write(fd, (const char *)p + off, n - off);

		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static void answer_api_versions(struct srv *s, int fd, const struct kp_req_header *h,
				struct kp_reader *r, struct kp_arena *a)
{
	static struct kp_api_versions_resp_api_version keys[] = {
		{ .api_key = KP_API_PRODUCE, .min_version = 0, .max_version = 7 },
		{ .api_key = KP_API_LIST_OFFSETS, .min_version = 1, .max_version = 3 },
		{ .api_key = KP_API_METADATA, .min_version = 0, .max_version = 5 },
		{ .api_key = KP_API_API_VERSIONS, .min_version = 0, .max_version = 0 },
		{ .api_key = KP_API_SASL_HANDSHAKE, .min_version = 0, .max_version = 1 },
		{ .api_key = KP_API_SASL_AUTHENTICATE, .min_version = 0, .max_version = 2 },
	};
	const struct kp_api_desc *api = kp_api_get(KP_API_API_VERSIONS);
	struct kp_api_versions_resp resp;
	struct kp_wbuf w;
	int16_t ver = h->api_version;

	keys[3].max_version = (int16_t)s->av_max;
	if (s->nav < 8)
		s->av_seen[s->nav++] = h->api_version;
	kp_struct_init(api->resp, &resp);
	resp.api_keys = keys;
	resp.api_keys_count = 6;
	if (h->api_version > s->av_max) {
		/* as Kafka: unknown version, answered in a v0 body */
		resp.error_code = KP_ERR_UNSUPPORTED_VERSION;
		resp.api_keys_count = s->av_max >= 0 ? 6 : 0;
		ver = 0;
	} else if (h->api_version >= 3) {
		struct kp_api_versions_req req;

		ck_assert_int_eq(kp_request_decode(api, h->api_version, r, a, &req), 0);
		snprintf(s->sw_name, sizeof(s->sw_name), "%.*s",
			 (int)req.client_software_name.len,
			 req.client_software_name.ptr);
	}
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_response_frame(&w, KP_API_API_VERSIONS, ver,
					   h->correlation_id, &resp), 0);
	write_full(fd, w.data, w.len);
	kp_wbuf_free(&w);
}

static void answer_metadata(struct srv *s, int fd, const struct kp_req_header *h)
{
	const struct kp_api_desc *api = kp_api_get(KP_API_METADATA);
	struct kp_metadata_resp resp;
	struct kp_metadata_resp_metadata_response_broker b;
	struct kp_wbuf w;
	char cluster[32];
	int32_t corr = h->correlation_id;

	kp_struct_init(api->resp, &resp);
	kp_struct_init(api->resp->fields[1].sub, &b);
	b.node_id = 1;
	b.host = kp_str_c("localhost");
	b.port = 9092;
	resp.brokers = &b;
	resp.brokers_count = 1;
	resp.controller_id = corr;	/* lets the test match answers */
	snprintf(cluster, sizeof(cluster), "c-%d", corr);
	resp.cluster_id = kp_str_c(cluster);
	resp.topics_count = 0;
	if (s->how == SRV_BAD_CORRELATION && s->nreq == s->at)
		corr += 1000;
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_response_frame(&w, KP_API_METADATA, h->api_version,
					   corr, &resp), 0);
	if (s->how == SRV_GARBLED_BODY && s->nreq == s->at) {
		/* keep the frame and header (8 bytes) and throttle time
		 * (4), claim 1000000 brokers */
		kp_put_be32(w.data + 12, 1000000);
	}
	write_full(fd, w.data, w.len);
	kp_wbuf_free(&w);
}

/* SaslHandshake (PLAIN) and SaslAuthenticate (any token, a session of
 * s->lifetime_ms) */
static void answer_sasl(struct srv *s, int fd, const struct kp_req_header *h)
{
	struct kp_wbuf w;

	kp_wbuf_init(&w);
	if (h->api_key == KP_API_SASL_HANDSHAKE) {
		struct kp_sasl_handshake_resp resp;
		kp_str mech = kp_str_c("PLAIN");

		kp_struct_init(kp_api_get(KP_API_SASL_HANDSHAKE)->resp, &resp);
		resp.mechanisms = &mech;
		resp.mechanisms_count = 1;
		ck_assert_int_eq(kp_response_frame(&w, h->api_key, h->api_version,
						   h->correlation_id, &resp), 0);
	} else {
		struct kp_sasl_authenticate_resp resp;

		kp_struct_init(kp_api_get(KP_API_SASL_AUTHENTICATE)->resp, &resp);
		resp.auth_bytes = (kp_bytes){ NULL, 0 };
		resp.session_lifetime_ms = s->lifetime_ms;
		ck_assert_int_eq(kp_response_frame(&w, h->api_key, h->api_version,
						   h->correlation_id, &resp), 0);
	}
	write_full(fd, w.data, w.len);
	kp_wbuf_free(&w);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	int32_t last_corr = 0;

	if (fd < 0)
		return NULL;
	for (;;) {
		uint8_t pre[4];
		uint8_t *body;
		int32_t len;
		struct kp_reader r;
		struct kp_arena a;
		struct kp_req_header h;

		if (read_full(fd, pre, 4) < 0)
			break;
		len = (int32_t)kp_be32(pre);
		body = malloc((size_t)len);
		if (read_full(fd, body, (size_t)len) < 0) {
			free(body);
			break;
		}
		kp_arena_init(&a, 0);
		kp_reader_init(&r, body, (size_t)len);
		ck_assert_int_eq(kp_req_header_decode(&r, &a, &h), 0);
		if (h.correlation_id <= last_corr)
			s->corr_not_increasing++;
		last_corr = h.correlation_id;
		if (h.api_key != KP_API_API_VERSIONS && s->nkeys < 64)
			s->keys[s->nkeys++] = h.api_key;
		if (h.api_key == KP_API_API_VERSIONS) {
			answer_api_versions(s, fd, &h, &r, &a);
		} else if (h.api_key == KP_API_SASL_HANDSHAKE ||
			   h.api_key == KP_API_SASL_AUTHENTICATE) {
			answer_sasl(s, fd, &h);
		} else {
			bool stop = false;

			if (s->nreq == s->at) {
				if (s->how == SRV_CLOSE)
					stop = true;
				if (s->how == SRV_HUGE_FRAME) {
					uint8_t huge[8];

					kp_put_be32(huge, 1u << 30);
					kp_put_be32(huge + 4, (uint32_t)h.correlation_id);
					write_full(fd, huge, 8);
				}
			}
			if (h.api_key == KP_API_PRODUCE) {
				s->produce_seen++;
			} else if (!stop &&
				   !(s->how == SRV_SILENT && s->nreq >= s->at) &&
				   !(s->how == SRV_HUGE_FRAME && s->nreq == s->at)) {
				answer_metadata(s, fd, &h);
			}
			s->nreq++;
			if (stop) {
				/* a clean hang-up: FIN, then drain what the
				 * client still sends (closing with unread
				 * data would send RST and destroy responses
				 * already on their way) */
				char sink[4096];

				shutdown(fd, SHUT_WR);
				while (read(fd, sink, sizeof(sink)) > 0)
					;
				kp_arena_free(&a);
				free(body);
				break;
			}
		}
		kp_arena_free(&a);
		free(body);
	}
	close(fd);
	return NULL;
}

static void srv_start2(struct srv *s, int av_max, enum misbehave how, int at,
		       int64_t lifetime_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->lifetime_ms = lifetime_ms;
	s->av_max = av_max;
	s->how = how;
	s->at = how == SRV_NORMAL ? -1 : at;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s->lfd, 0);
	ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(s->lfd, 4), 0);
	getsockname(s->lfd, (struct sockaddr *)&sa, &sl);
	s->port = ntohs(sa.sin_port);
	pthread_create(&s->th, NULL, srv_main, s);
}

static void srv_start(struct srv *s, int av_max, enum misbehave how, int at)
{
	srv_start2(s, av_max, how, at, 0);
}

static void srv_stop(struct srv *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->lfd);
}

static const struct kp_client_opts quick = {
	.client_id = "check",
	.software_name = "check-client",
	.request_timeout_ms = 2000,
	.connect_timeout_ms = 2000,
};

static struct kp_metadata_req empty_metadata(void)
{
	struct kp_metadata_req req;

	kp_struct_init(kp_api_get(KP_API_METADATA)->req, &req);
	req.topics_count = 0;
	return req;
}

/* ------------------------------------------------------------ blocking */

START_TEST(negotiation_picks_the_highest_common_version)
{
	struct srv s;
	struct kp_conn *c;
	int err = 0;
	int16_t lo, hi;

	srv_start(&s, 3, SRV_NORMAL, 0);
	c = kp_conn_open("127.0.0.1", s.port, &quick, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(kp_conn_state(c), KP_CONN_READY);
	ck_assert_int_eq(kp_conn_pick_version(c, KP_API_METADATA), 5);
	ck_assert_int_eq(kp_conn_pick_version(c, KP_API_PRODUCE), 7);
	ck_assert_int_eq(kp_conn_pick_version(c, KP_API_LIST_OFFSETS), 3);
	ck_assert_int_eq(kp_conn_pick_version(c, KP_API_FETCH), -1);	/* not offered */
	ck_assert(kp_conn_broker_range(c, KP_API_LIST_OFFSETS, &lo, &hi));
	ck_assert_int_eq(lo, 1);
	ck_assert_int_eq(hi, 3);
	kp_conn_free(c);
	srv_stop(&s);
	ck_assert_int_eq(s.nav, 1);
	ck_assert_int_eq(s.av_seen[0], 3);
	ck_assert_str_eq(s.sw_name, "check-client");
}
END_TEST

START_TEST(api_versions_falls_back_when_the_broker_is_older)
{
	struct srv s;
	struct kp_conn *c;
	int err = 0;

	srv_start(&s, 2, SRV_NORMAL, 0);
	c = kp_conn_open("127.0.0.1", s.port, &quick, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(kp_conn_pick_version(c, KP_API_METADATA), 5);
	kp_conn_free(c);
	srv_stop(&s);
	ck_assert_int_eq(s.nav, 2);
	ck_assert_int_eq(s.av_seen[0], 3);
	ck_assert_int_eq(s.av_seen[1], 2);

	/* a broker that lists nothing: retry at v0 */
	srv_start(&s, -1, SRV_NORMAL, 0);
	c = kp_conn_open("127.0.0.1", s.port, &quick, &err);
	ck_assert_ptr_null(c);	/* and v0 is unsupported too: give up */
	ck_assert_int_eq(err, -ENOTSUP);
	srv_stop(&s);
	ck_assert_int_eq(s.nav, 2);
	ck_assert_int_eq(s.av_seen[1], 0);
}
END_TEST

START_TEST(call_decodes_the_matching_response)
{
	struct srv s;
	struct kp_conn *c;
	struct kp_metadata_req req = empty_metadata();
	struct kp_metadata_resp resp;
	struct kp_arena a;
	int err = 0;

	srv_start(&s, 3, SRV_NORMAL, 0);
	c = kp_conn_open("localhost", s.port, &quick, &err);
	ck_assert_ptr_nonnull(c);
	kp_arena_init(&a, 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a), 0);
		ck_assert_int_eq(resp.brokers_count, 1);
		ck_assert(kp_str_eqc(resp.brokers[0].host, "localhost"));
		ck_assert_int_gt(resp.controller_id, 1);
	}
	/* explicit old version */
	ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, 1, &req, &resp, &a), 0);
	ck_assert_int_eq(resp.brokers[0].port, 9092);
	/* a version the broker does not offer is refused before sending */
	ck_assert_int_eq(kp_conn_call(c, KP_API_FETCH, -1, &req, &resp, &a), -ENOTSUP);
	kp_arena_free(&a);
	kp_conn_free(c);
	srv_stop(&s);
	ck_assert_int_eq(s.nreq, 4);
}
END_TEST

START_TEST(pipelined_requests_come_back_in_order)
{
	struct srv s;
	struct kp_conn *c;
	struct kp_metadata_req req = empty_metadata();
	struct kp_arena a;
	int err = 0;
	int32_t first = -1;

	srv_start(&s, 3, SRV_NORMAL, 0);
	c = kp_conn_open("127.0.0.1", s.port, &quick, &err);
	ck_assert_ptr_nonnull(c);
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(kp_conn_send(c, KP_API_METADATA, -1, &req), 0);
	ck_assert_int_eq(kp_conn_inflight(c), 200);
	/* a plain call must wait for the outstanding answers */
	ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, -1, &req, NULL, NULL), -EBUSY);
	kp_arena_init(&a, 0);
	for (int i = 0; i < 200; i++) {
		struct kp_metadata_resp resp;
		int16_t key, ver;

		ck_assert_int_eq(kp_conn_recv(c, &key, &ver, &resp, &a), 0);
		ck_assert_int_eq(key, KP_API_METADATA);
		ck_assert_int_eq(ver, 5);
		if (first < 0)
			first = resp.controller_id;
		ck_assert_int_eq(resp.controller_id, first + i);
	}
	ck_assert_int_eq(kp_conn_inflight(c), 0);
	kp_arena_free(&a);
	kp_conn_free(c);
	srv_stop(&s);
	ck_assert_int_eq(s.corr_not_increasing, 0);
}
END_TEST

START_TEST(produce_with_acks_zero_expects_no_answer)
{
	struct srv s;
	struct kp_conn *c;
	struct kp_produce_req p;
	struct kp_metadata_req req = empty_metadata();
	struct kp_metadata_resp resp;
	struct kp_arena a;
	int err = 0;

	srv_start(&s, 3, SRV_NORMAL, 0);
	c = kp_conn_open("127.0.0.1", s.port, &quick, &err);
	ck_assert_ptr_nonnull(c);
	kp_struct_init(kp_api_get(KP_API_PRODUCE)->req, &p);
	p.acks = 0;
	p.topic_data_count = 0;
	kp_arena_init(&a, 0);
	ck_assert_int_eq(kp_conn_call(c, KP_API_PRODUCE, -1, &p, NULL, &a), 0);
	ck_assert_int_eq(kp_conn_inflight(c), 0);
	ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a), 0);
	kp_arena_free(&a);
	kp_conn_free(c);
	srv_stop(&s);
	ck_assert_int_eq(s.produce_seen, 1);
}
END_TEST

static int call_with(enum misbehave how, struct kp_client_opts *o,
		     int *second)
{
	struct srv s;
	struct kp_conn *c;
	struct kp_metadata_req req = empty_metadata();
	struct kp_metadata_resp resp;
	struct kp_arena a;
	int err = 0, rc;

	srv_start(&s, 3, how, 1);
	c = kp_conn_open("127.0.0.1", s.port, o, &err);
	ck_assert_ptr_nonnull(c);
	kp_arena_init(&a, 0);
	ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a), 0);
	rc = kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a);
	*second = kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a);
	kp_arena_free(&a);
	kp_conn_free(c);
	srv_stop(&s);
	return rc;
}

START_TEST(broken_responses_fail_the_call_with_a_clear_error)
{
	struct kp_client_opts o = quick;
	int second;

	ck_assert_int_eq(call_with(SRV_BAD_CORRELATION, &o, &second), -EPROTO);
	ck_assert_int_eq(second, -ENOTCONN);
	o.max_response_bytes = 1 << 20;
	ck_assert_int_eq(call_with(SRV_HUGE_FRAME, &o, &second), -EMSGSIZE);
	ck_assert_int_eq(second, -ENOTCONN);
	ck_assert_int_eq(call_with(SRV_CLOSE, &o, &second), -ECONNRESET);
	ck_assert_int_eq(second, -ENOTCONN);
	o.request_timeout_ms = 300;
	ck_assert_int_eq(call_with(SRV_SILENT, &o, &second), -ETIMEDOUT);
	ck_assert_int_eq(second, -ENOTCONN);
	/* an undecodable body fails that call only */
	ck_assert_int_eq(call_with(SRV_GARBLED_BODY, &o, &second), -EPROTO);
	ck_assert_int_eq(second, 0);
}
END_TEST

START_TEST(connecting_to_a_closed_port_is_refused)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int err = 0, port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	port = ntohs(sa.sin_port);
	close(fd);		/* bound once, now nobody listens there */
	ck_assert_ptr_null(kp_conn_open("127.0.0.1", port, &quick, &err));
	ck_assert_int_eq(err, -ECONNREFUSED);
	ck_assert_ptr_null(kp_conn_open("no-such-host.invalid", port, &quick, &err));
	ck_assert_int_eq(err, -EHOSTUNREACH);
}
END_TEST

START_TEST(raw_mode_sends_bytes_and_returns_the_body)
{
	struct srv s;
	struct kp_conn *c;
	struct kp_arena a;
	const uint8_t *body;
	size_t len;
	uint8_t req[4];
	struct kp_metadata_resp resp;
	struct kp_reader r;
	int err = 0;

	srv_start(&s, 3, SRV_NORMAL, 0);
	c = kp_conn_open("127.0.0.1", s.port, &quick, &err);
	ck_assert_ptr_nonnull(c);
	kp_arena_init(&a, 0);
	kp_put_be32(req, 0);		/* Metadata v1: topics = [] */
	ck_assert_int_eq(kp_conn_call_raw(c, KP_API_METADATA, 1, req, 4, &body, &len, &a), 0);
	kp_reader_init(&r, body, len);
	ck_assert_int_eq(kp_response_decode(kp_api_get(KP_API_METADATA), 1, &r, &a, &resp), 0);
	ck_assert_int_eq(resp.brokers_count, 1);
	ck_assert_int_gt(resp.controller_id, 0);
	kp_arena_free(&a);
	kp_conn_free(c);
	srv_stop(&s);
}
END_TEST

/* ---------------------------------------------------------- loop mode */

struct actx {
	struct kp_loop *loop;
	struct kp_conn *c;
	int ready, closed, close_err;
	int answered, failed, last_err;
	int32_t ids[64];
	int to_send;
	bool free_on_last;
};

static void on_resp(struct kp_conn *c, int err, int16_t key, int16_t ver,
		    void *resp, void *arg)
{
	struct actx *x = arg;

	(void)key;
	(void)ver;
	if (err == 0) {
		ck_assert_ptr_nonnull(resp);
		x->ids[x->answered++ % 64] =
			((struct kp_metadata_resp *)resp)->controller_id;
		if (x->free_on_last && x->answered == x->to_send) {
			kp_conn_free(c);
			x->c = NULL;
		}
	} else {
		ck_assert_ptr_null(resp);
		x->failed++;
		x->last_err = err;
	}
}

static void on_state(struct kp_conn *c, enum kp_conn_state st, int err,
		     void *arg)
{
	struct actx *x = arg;
	struct kp_metadata_req req = empty_metadata();

	if (st == KP_CONN_READY) {
		x->ready++;
		/* issue requests from inside the callback */
		for (int i = 0; i < x->to_send; i++)
			ck_assert_int_eq(kp_conn_request(c, KP_API_METADATA, -1,
							 &req, on_resp, x), 0);
	} else if (st == KP_CONN_CLOSED) {
		x->closed++;
		x->close_err = err;
		/* closed: no new requests accepted */
		ck_assert_int_eq(kp_conn_request(c, KP_API_METADATA, -1, &req,
						 on_resp, x), -ENOTCONN);
	}
}

static void spin(struct actx *x, int *counter, int want)
{
	int64_t end = kp_now_ms() + 10000;

	while (*counter < want && kp_now_ms() < end)
		kp_loop_run_once(x->loop, 10);
}

START_TEST(loop_mode_negotiates_then_answers_in_order)
{
	struct srv s;
	struct actx x = { .to_send = 30, .free_on_last = true };

	srv_start(&s, 2, SRV_NORMAL, 0);	/* with the ApiVersions fallback */
	x.loop = kp_loop_new();
	x.c = kp_conn_start(x.loop, "127.0.0.1", s.port, &quick, on_state, &x);
	ck_assert_ptr_nonnull(x.c);
	spin(&x, &x.answered, 30);
	ck_assert_int_eq(x.ready, 1);
	ck_assert_int_eq(x.answered, 30);
	ck_assert_int_eq(x.failed, 0);
	for (int i = 1; i < 30; i++)
		ck_assert_int_eq(x.ids[i], x.ids[i - 1] + 1);
	ck_assert_ptr_null(x.c);	/* freed from inside its callback */
	ck_assert_int_eq(x.closed, 0);	/* the owner freed it: no more calls */
	srv_stop(&s);
	kp_loop_free(x.loop);
	ck_assert_int_eq(s.av_seen[0], 3);
	ck_assert_int_eq(s.av_seen[1], 2);
}
END_TEST

static const int16_t reauth_keys[] = {
	KP_API_SASL_HANDSHAKE, KP_API_SASL_AUTHENTICATE, KP_API_METADATA,
	KP_API_SASL_HANDSHAKE, KP_API_SASL_AUTHENTICATE, KP_API_METADATA, KP_API_METADATA,
};

static void wait_ms(struct kp_loop *loop, int64_t ms)
{
	int64_t until = kp_now_ms() + ms;

	while (kp_now_ms() < until) {
		if (loop != NULL)
			kp_loop_run_once(loop, 10);
		else
			usleep(10000);
	}
}

START_TEST(loop_mode_reauthenticates_before_the_session_ends)
{
	struct srv s;
	struct actx x = { .to_send = 1 };
	struct kp_client_opts o = quick;
	struct kp_metadata_req req = empty_metadata();

	o.sasl_mechanism = "PLAIN";
	o.sasl_username = "u";
	o.sasl_password = "p";
	srv_start2(&s, 3, SRV_NORMAL, 0, 300);
	x.loop = kp_loop_new();
	x.c = kp_conn_start(x.loop, "127.0.0.1", s.port, &o, on_state, &x);
	ck_assert_ptr_nonnull(x.c);
	spin(&x, &x.answered, 1);
	ck_assert_int_eq(x.answered, 1);
	/* past 85% of the session: the next requests wait behind a new
	 * exchange */
	wait_ms(x.loop, 300);
	ck_assert_int_eq(kp_conn_request(x.c, KP_API_METADATA, -1, &req, on_resp, &x), 0);
	ck_assert_int_eq(kp_conn_request(x.c, KP_API_METADATA, -1, &req, on_resp, &x), 0);
	ck_assert_int_eq(kp_conn_inflight(x.c), 3);	/* the handshake, two held */
	spin(&x, &x.answered, 3);
	ck_assert_int_eq(x.answered, 3);
	ck_assert_int_eq(x.failed, 0);
	ck_assert_int_eq(x.ready, 1);		/* READY once, not again */
	ck_assert_int_eq(x.ids[2], x.ids[1] + 1);
	kp_conn_free(x.c);
	srv_stop(&s);
	kp_loop_free(x.loop);
	ck_assert_int_eq(s.nkeys, 7);
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(s.keys[i], reauth_keys[i]);
}
END_TEST

START_TEST(blocking_mode_reauthenticates_between_requests)
{
	struct srv s;
	struct kp_client_opts o = quick;
	struct kp_metadata_req req = empty_metadata();
	struct kp_metadata_resp resp;
	struct kp_arena a;
	struct kp_conn *c;
	int err = 0;

	o.sasl_mechanism = "PLAIN";
	o.sasl_username = "u";
	o.sasl_password = "p";
	srv_start2(&s, 3, SRV_NORMAL, 0, 300);
	kp_arena_init(&a, 0);
	c = kp_conn_open("127.0.0.1", s.port, &o, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a), 0);
	wait_ms(NULL, 300);
	ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a), 0);
	ck_assert_int_eq(kp_conn_call(c, KP_API_METADATA, -1, &req, &resp, &a), 0);
	kp_conn_free(c);
	kp_arena_free(&a);
	srv_stop(&s);
	ck_assert_int_eq(s.nkeys, 7);
	for (int i = 0; i < 7; i++)
		ck_assert_int_eq(s.keys[i], reauth_keys[i]);
}
END_TEST

START_TEST(loop_mode_fails_every_outstanding_request_once)
{
	struct srv s;
	struct actx x = { .to_send = 10 };

	srv_start(&s, 3, SRV_CLOSE, 4);	/* hang up at the fifth request */
	x.loop = kp_loop_new();
	x.c = kp_conn_start(x.loop, "127.0.0.1", s.port, &quick, on_state, &x);
	spin(&x, &x.closed, 1);
	ck_assert_int_eq(x.closed, 1);
	ck_assert_int_eq(x.close_err, -ECONNRESET);
	ck_assert_int_eq(x.answered, 4);
	ck_assert_int_eq(x.failed, 6);
	ck_assert_int_eq(kp_conn_state(x.c), KP_CONN_CLOSED);
	kp_conn_free(x.c);
	srv_stop(&s);
	kp_loop_free(x.loop);
}
END_TEST

START_TEST(loop_mode_times_out_and_cancels)
{
	struct srv s;
	struct actx x = { .to_send = 3 };
	struct kp_client_opts o = quick;

	o.request_timeout_ms = 200;
	srv_start(&s, 3, SRV_SILENT, 1);
	x.loop = kp_loop_new();
	x.c = kp_conn_start(x.loop, "127.0.0.1", s.port, &o, on_state, &x);
	spin(&x, &x.closed, 1);
	ck_assert_int_eq(x.close_err, -ETIMEDOUT);
	ck_assert_int_eq(x.answered, 1);
	ck_assert_int_eq(x.failed, 2);
	kp_conn_free(x.c);
	srv_stop(&s);
	kp_loop_free(x.loop);

	/* freeing with requests outstanding cancels them */
	memset(&x, 0, sizeof(x));
	x.loop = kp_loop_new();
	x.to_send = 5;
	srv_start(&s, 3, SRV_SILENT, 0);
	x.c = kp_conn_start(x.loop, "127.0.0.1", s.port, &quick, on_state, &x);
	spin(&x, &x.ready, 1);
	ck_assert_int_eq(kp_conn_inflight(x.c), 5);
	kp_conn_free(x.c);
	ck_assert_int_eq(x.failed, 5);
	ck_assert_int_eq(x.last_err, -ECANCELED);
	ck_assert_int_eq(x.closed, 0);
	srv_stop(&s);
	kp_loop_free(x.loop);
}
END_TEST

START_TEST(loop_mode_reports_a_refused_connection)
{
	struct actx x = { .to_send = 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	x.loop = kp_loop_new();
	x.c = kp_conn_start(x.loop, "127.0.0.1", ntohs(sa.sin_port), &quick,
			    on_state, &x);
	ck_assert_ptr_nonnull(x.c);
	spin(&x, &x.closed, 1);
	ck_assert_int_eq(x.closed, 1);
	ck_assert_int_eq(x.close_err, -ECONNREFUSED);
	kp_conn_free(x.c);
	kp_loop_free(x.loop);
}
END_TEST

static Suite *client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("blocking");
	TCase *tl = tcase_create("loop");

	tcase_set_timeout(tc, 60);
	tcase_set_timeout(tl, 60);
	tcase_add_test(tc, negotiation_picks_the_highest_common_version);
	tcase_add_test(tc, api_versions_falls_back_when_the_broker_is_older);
	tcase_add_test(tc, call_decodes_the_matching_response);
	tcase_add_test(tc, pipelined_requests_come_back_in_order);
	tcase_add_test(tc, produce_with_acks_zero_expects_no_answer);
	tcase_add_test(tc, broken_responses_fail_the_call_with_a_clear_error);
	tcase_add_test(tc, connecting_to_a_closed_port_is_refused);
	tcase_add_test(tc, raw_mode_sends_bytes_and_returns_the_body);
	tcase_add_test(tl, loop_mode_negotiates_then_answers_in_order);
	tcase_add_test(tl, loop_mode_fails_every_outstanding_request_once);
	tcase_add_test(tl, loop_mode_times_out_and_cancels);
	tcase_add_test(tl, loop_mode_reports_a_refused_connection);
	tcase_add_test(tl, loop_mode_reauthenticates_before_the_session_ends);
	tcase_add_test(tc, blocking_mode_reauthenticates_between_requests);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tl);
	return s;
}

int main(void)
{
	return check_run(client_suite());
}
