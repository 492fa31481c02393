/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_net.c - kbroker's network layer (net.c) over a real socket, with
 * a dispatcher of its own that answers every request with a Fetch
 * response whose records are a range of a file: the range arrives byte
 * for byte through the plaintext transport's sendfile and through a
 * transport without sendfile (read into the worker's bounce buffer, more
 * than one buffer's worth), and a transport's handshake runs before the
 * first request is read (a bad one closes the connection).  The TLS
 * transport (transport_tls.c, a key and certificate made here) hands over
 * in one read what many small TLS records carry, as librdkafka sends a
 * request (a record per piece of its buffer), and net.c answers requests
 * that arrive that way with nothing more on the socket.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "broker.h"
#include "broker_config.h"
#include "check_run.h"
#include "kp_codec.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_proto.h"
#include "net.h"
#include "purgatory.h"
#include "transport.h"
#include "transport_tls.h"

/* More than the bounce buffer (256 KiB) holds, not a multiple of it. */
#define DATA_LEN (700 * 1024 + 123)

static struct broker b;
static struct kp_endpoint listener;
static pthread_t main_thread;
static char path[64];
static int data_fd = -1;
static uint8_t *data;
static atomic_int dispatched;

/* ----------------------------------------------------------- server */

static void range_release(void *ref)
{
	int *fd = ref;

	close(*fd);
	free(fd);
}

/* Every request: a Fetch v4 answer, the file as the records. */
static void dispatch(struct net_req *r, struct kp_reader *body)
{
	struct kp_fetch_resp resp;
	struct kp_fetch_resp_fetchable_topic_response tr;
	struct kp_fetch_resp_partition_data pd;
	struct net_file_range *fr;
	int *fd = malloc(sizeof(*fd));

	atomic_fetch_add(&dispatched, 1);
	r->api = kp_api_get(r->h.api_key);
	r->body = r->api != NULL ? kp_arena_alloc(&r->arena, r->api->req->size) : NULL;
	if (fd == NULL || r->body == NULL ||
	    kp_request_decode(r->api, r->h.api_version, body, &r->arena, r->body) < 0) {
		free(fd);
		net_req_fail(r, "not a request of the test");
		return;
	}
	*fd = dup(data_fd);
	fr = net_req_file_range(r, *fd, 0, range_release, fd);
	if (fr == NULL) {
		range_release(fd);
		net_req_fail(r, "out of memory");
		return;
	}
	kp_struct_init(r->api->resp, &resp);
	kp_struct_init(&kp_fetch_resp_fetchable_topic_response_desc, &tr);
	kp_struct_init(&kp_fetch_resp_partition_data_desc, &pd);
	pd.partition_index = 0;
	pd.records = (kp_records){ .ptr = NULL, .len = DATA_LEN, .ext = fr };
	tr.topic = kp_str_c("t");
	tr.partitions = &pd;
	tr.partitions_count = 1;
	resp.responses = &tr;
	resp.responses_count = 1;
	net_reply(r, &resp);
}

/* The plaintext socket without sendfile, as a TLS transport would be. */
static struct transport_type no_sendfile;

/* A transport whose handshake wants "HELO" and answers "OKAY". */
struct greeting {
	struct transport base;
	char got[4];
	int ngot, nsent;
};

static struct transport *greeting_accept(const struct transport_type *type, int fd)
{
	struct greeting *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		close(fd);
		return NULL;
	}
	g->base.type = type;
	g->base.fd = fd;
	return &g->base;
}

static int greeting_handshake(struct transport *t)
{
	struct greeting *g = (struct greeting *)t;

	while (g->ngot < 4) {
		ssize_t n = transport_plain.read(t, g->got + g->ngot, (size_t)(4 - g->ngot));

		if (n < 0 && n != TRANSPORT_ERROR)
			return (int)n;
		if (n <= 0)
			return TRANSPORT_ERROR;
		g->ngot += (int)n;
	}
	if (memcmp(g->got, "HELO", 4) != 0)
		return TRANSPORT_ERROR;
	while (g->nsent < 4) {
		ssize_t n = transport_plain.write(t, "OKAY" + g->nsent,
						  (size_t)(4 - g->nsent), false);

		if (n < 0)
			return (int)n;
		g->nsent += (int)n;
	}
	return 0;
}

static void greeting_close(struct transport *t)
{
	close(t->fd);
	free(t);
}

static struct transport_type greeting;

/* A TLS listener's transport a test used, freed after the network. */
static const struct transport_type *tls_tt;

static void *main_loop(void *arg)
{
	kp_loop_run(arg);
	return NULL;
}

static int plaintext = KP_SEC_PLAINTEXT;

static void setup(void)
{
	char err[256];
	struct kp_props none;

	kp_log_set_level(KP_LOG_ERROR);
	memset(&b, 0, sizeof(b));
	snprintf(listener.listener, sizeof(listener.listener), "PLAINTEXT");
	snprintf(listener.host, sizeof(listener.host), "127.0.0.1");
	listener.port = 0;
	b.listeners = b.advertised = &listener;
	b.lsn.bind = b.lsn.adv = &listener;
	b.lsn.nbind = b.lsn.nadv = 1;
	b.lsn.bind_proto = b.lsn.adv_proto = &plaintext;
	b.nlisteners = b.nadvertised = 1;
	b.listen_backlog = 16;
	b.socket_request_max_bytes = 1 << 20;
	b.request_arena_cap = 16 << 20;
	kp_props_init(&none);
	ck_assert_int_eq(kp_config_build(&b.cfg, broker_config_defs, broker_config_ndefs,
					 &none, NULL, NULL, err, sizeof(err)), 0);
	atomic_store(&dispatched, 0);
	b.purg = purgatory_new();
	b.loop = kp_loop_new();
	b.net = net_start(&b, b.loop, 1, dispatch, err, sizeof(err));
	ck_assert_msg(b.net != NULL, "%s", err);
	listener.port = net_listener_port(b.net, 0);

	no_sendfile = transport_plain;
	no_sendfile.name = "PLAINTEXT-COPY";
	no_sendfile.sendfile = NULL;
	greeting = transport_plain;
	greeting.name = "GREETING";
	greeting.accept = greeting_accept;
	greeting.handshake = greeting_handshake;
	greeting.close = greeting_close;

	snprintf(path, sizeof(path), "/tmp/check_net.XXXXXX");
	data_fd = mkstemp(path);
	ck_assert_int_ge(data_fd, 0);
	unlink(path);
	data = malloc(DATA_LEN);
	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < DATA_LEN; i++)
		data[i] = (uint8_t)(i * 7 + i / 997);
	ck_assert_int_eq(pwrite(data_fd, data, DATA_LEN, 0), DATA_LEN);
}

static void teardown(void)
{
	kp_loop_stop(b.loop);
	pthread_join(main_thread, NULL);
	net_stop(b.net);
	transport_tls_free(tls_tt);
	tls_tt = NULL;
	purgatory_free(b.purg);
	kp_loop_free(b.loop);
	kp_config_free(&b.cfg);
	close(data_fd);
	free(data);
}

/* Accept connections from now on, over tt (NULL: plaintext). */
static void serve(const struct transport_type *tt)
{
	if (tt != NULL)
		net_listener_transport(b.net, 0, tt);
	ck_assert_int_eq(pthread_create(&main_thread, NULL, main_loop, b.loop), 0);
}

/* ----------------------------------------------------------- client */

static int connect_to_broker(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 20 };

	ck_assert_int_ge(fd, 0);
	sa.sin_port = htons((uint16_t)listener.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* a broken test fails instead of hanging */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;

	while (n > 0) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

		ck_assert_int_gt(k, 0);
		c += k;
		n -= (size_t)k;
	}
}

/* n bytes, or fewer when the broker closes the connection. */
static size_t recv_all(int fd, void *p, size_t n)
{
	uint8_t *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t k = recv(fd, c + got, n - got, 0);

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

/* A Fetch v4 with correlation id cid, and its answer checked against the
 * file. */
static void fetch_and_check(int fd, int32_t cid)
{
	struct kp_fetch_req req;
	struct kp_fetch_resp resp;
	int32_t got_cid;
	struct kp_wbuf w;
	struct kp_reader rd;
	struct kp_arena a;
	uint8_t size[4];
	uint8_t *frame;
	size_t len;

	kp_struct_init(&kp_fetch_req_desc, &req);
	req.replica_id = -1;
	kp_wbuf_init(&w);
	ck_assert_int_eq(kp_request_frame(&w, KP_API_FETCH, 4, cid, "check", &req), 0);
	send_all(fd, w.data, w.len);
	kp_wbuf_free(&w);
	ck_assert_uint_eq(recv_all(fd, size, 4), 4);
	len = (size_t)kp_be32(size);
	ck_assert_uint_gt(len, DATA_LEN);
	frame = malloc(len);
	ck_assert_ptr_nonnull(frame);
	ck_assert_uint_eq(recv_all(fd, frame, len), len);
	kp_arena_init(&a, 0);
	kp_reader_init(&rd, frame, len);
	ck_assert_int_eq(kp_resp_header_decode(&rd, kp_response_header_version(KP_API_FETCH, 4),
					       &a, &got_cid), 0);
	ck_assert_int_eq(got_cid, cid);
	ck_assert_int_eq(kp_response_decode(kp_api_get(KP_API_FETCH), 4, &rd, &a, &resp), 0);
	ck_assert_int_eq(resp.responses_count, 1);
	ck_assert_int_eq(resp.responses[0].partitions_count, 1);
	ck_assert_int_eq(resp.responses[0].partitions[0].records.len, DATA_LEN);
	ck_assert(memcmp(resp.responses[0].partitions[0].records.ptr, data, DATA_LEN) == 0);
	kp_arena_free(&a);
	free(frame);
}

START_TEST(file_range_goes_by_sendfile)
{
	int fd;

	serve(NULL);
	fd = connect_to_broker();

	fetch_and_check(fd, 1);
	fetch_and_check(fd, 2);
	close(fd);
}
END_TEST

START_TEST(file_range_goes_through_memory_without_sendfile)
{
	int fd;

	serve(&no_sendfile);
	fd = connect_to_broker();
	fetch_and_check(fd, 1);
	fetch_and_check(fd, 2);
	close(fd);
}
END_TEST

START_TEST(handshake_before_the_first_request)
{
	char reply[4];
	int fd;

	serve(&greeting);
	fd = connect_to_broker();
	/* in two pieces: the handshake waits for the rest */
	send_all(fd, "HE", 2);
	send_all(fd, "LO", 2);
	ck_assert_uint_eq(recv_all(fd, reply, 4), 4);
	ck_assert(memcmp(reply, "OKAY", 4) == 0);
	fetch_and_check(fd, 3);
	close(fd);

	/* a failed handshake closes the connection, no request is read */
	fd = connect_to_broker();
	send_all(fd, "EHLO", 4);
	ck_assert_uint_eq(recv_all(fd, reply, 4), 0);
	close(fd);
}
END_TEST

/* ------------------------------------------------------ hostile clients */

/* Start the network again with key=value (before serve()). */
static void restart_with(const char *key, const char *value)
{
	struct kp_props props;
	char err[256];

	net_stop(b.net);
	kp_config_free(&b.cfg);
	kp_props_init(&props);
	ck_assert_int_eq(kp_props_set(&props, key, value, 0), 0);
	ck_assert_int_eq(kp_config_build(&b.cfg, broker_config_defs, broker_config_ndefs,
					 &props, NULL, NULL, err, sizeof(err)), 0);
	kp_props_free(&props);
	b.net = net_start(&b, b.loop, 1, dispatch, err, sizeof(err));
	ck_assert_msg(b.net != NULL, "%s", err);
	listener.port = net_listener_port(b.net, 0);
}

/* Send n Fetch v4 requests at once, answers not read. */
static void send_fetches(int fd, int n)
{
	struct kp_fetch_req req;
	struct kp_wbuf w;

	kp_struct_init(&kp_fetch_req_desc, &req);
	req.replica_id = -1;
	kp_wbuf_init(&w);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(kp_request_frame(&w, KP_API_FETCH, 4, i, "check", &req), 0);
	send_all(fd, w.data, w.len);
	kp_wbuf_free(&w);
}

/* Read and drop one answer frame; false when the connection closed. */
static bool skip_answer(int fd)
{
	uint8_t size[4], buf[65536];
	size_t len;

	if (recv_all(fd, size, 4) != 4)
		return false;
	len = (size_t)kp_be32(size);
	while (len > 0) {
		size_t k = len < sizeof(buf) ? len : sizeof(buf);

		if (recv_all(fd, buf, k) != k)
			return false;
		len -= k;
	}
	return true;
}

/* Whether fd has bytes (or a close) within ms. */
static bool readable_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

static void pause_ms(int ms)
{
	poll(NULL, 0, ms);
}

/*
 * A client that sends requests and never reads: the broker stops taking
 * its requests once its unsent answers pass the bound (64 MiB here, about
 * ninety 700 KiB answers), not at queued.max.requests (500) answers, and
 * goes on once the client reads.
 */
START_TEST(a_client_that_never_reads_pins_bounded_answers)
{
	int fd, n = 300;
	int64_t end;

	serve(NULL);
	fd = connect_to_broker();
	send_fetches(fd, n);
	end = kp_now_ms() + 20000;
	while (atomic_load(&dispatched) < 80 && kp_now_ms() < end)
		pause_ms(10);
	ck_assert_int_ge(atomic_load(&dispatched), 80);
	/* nothing more comes while the answers wait (a negative: a short
	 * look) */
	pause_ms(300);
	{
		/* the bound, plus what the kernel's socket buffers took */
		int got = atomic_load(&dispatched);

		ck_assert_int_le(got, ((64 << 20) + (16 << 20)) / DATA_LEN);
	}
	for (int i = 0; i < n; i++)
		ck_assert(skip_answer(fd));
	ck_assert_int_eq(atomic_load(&dispatched), n);
	close(fd);
}
END_TEST

/* max.connections.per.ip: one connection more from the address is closed
 * at once (Kafka's TooManyConnectionsException); a slot freed is
 * usable again. */
START_TEST(max_connections_per_ip_closes_the_extra_one)
{
	int fd1, fd2, fd3;
	char c;
	int64_t end;
	bool served = false;

	restart_with("max.connections.per.ip", "2");
	serve(NULL);
	fd1 = connect_to_broker();
	fd2 = connect_to_broker();
	fetch_and_check(fd1, 1);
	fetch_and_check(fd2, 2);
	fd3 = connect_to_broker();
	ck_assert_int_eq(recv(fd3, &c, 1, 0), 0);
	close(fd3);
	close(fd1);
	end = kp_now_ms() + 20000;
	while (!served && kp_now_ms() < end) {
		fd3 = connect_to_broker();
		send_fetches(fd3, 1);
		served = skip_answer(fd3);
		close(fd3);
		if (!served)
			pause_ms(20);
	}
	ck_assert(served);
	close(fd2);
}
END_TEST

/* max.connections: at the limit the broker stops accepting (as Kafka's
 * acceptor waits for a slot); the waiting client is served once another
 * connection closes. */
START_TEST(max_connections_waits_for_a_slot)
{
	int fd1, fd2;

	restart_with("max.connections", "1");
	serve(NULL);
	fd1 = connect_to_broker();
	fetch_and_check(fd1, 1);
	fd2 = connect_to_broker();	/* the kernel's backlog takes it */
	send_fetches(fd2, 1);
	ck_assert(!readable_within(fd2, 300));
	ck_assert_int_eq(atomic_load(&dispatched), 1);
	close(fd1);
	ck_assert(skip_answer(fd2));
	close(fd2);
}
END_TEST

/* connections.max.idle.ms: a connection with nothing to do is closed. */
START_TEST(idle_connections_are_closed)
{
	int fd;
	char c;
	int64_t t0;

	restart_with("connections.max.idle.ms", "200");
	serve(NULL);
	fd = connect_to_broker();
	fetch_and_check(fd, 1);
	t0 = kp_now_ms();
	ck_assert_int_eq(recv(fd, &c, 1, 0), 0);
	ck_assert_int_ge(kp_now_ms() - t0, 50);	/* idle since its last write */
	ck_assert_int_lt(kp_now_ms() - t0, 10000);
	close(fd);
}
END_TEST

static int highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int hi = 0, own;

	ck_assert_ptr_nonnull(d);
	own = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		int n = atoi(e->d_name);

		if (n != own && n > hi)
			hi = n;
	}
	closedir(d);
	return hi;
}

static int64_t cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/*
 * Out of descriptors, accept() fails with EMFILE while the connection
 * stays pending: the level-triggered loop must not spin on it.  The
 * listeners rest and come back; the client is served once descriptors
 * are there again.
 */
START_TEST(accept_out_of_descriptors_does_not_spin)
{
	struct rlimit old, low;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, fill[4096], nfill = 0;
	int64_t c0, spent;

	serve(NULL);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)highest_fd() + 1;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	/* no free number below the limit either */
	while ((fill[nfill] = dup(0)) >= 0)
		ck_assert_int_lt(++nfill, 4096);
	ck_assert_int_eq(errno, EMFILE);
	sa.sin_port = htons((uint16_t)listener.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	send_fetches(fd, 1);
	c0 = cpu_ms();
	pause_ms(500);
	spent = cpu_ms() - c0;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	while (nfill > 0)
		close(fill[--nfill]);
	/* a spinning loop burns the whole half second */
	ck_assert_int_lt(spent, 150);
	ck_assert(skip_answer(fd));
	close(fd);
}
END_TEST


/* ---------------------------------------------------------------- TLS */

/* PEM text of a BIO (freed). */
static char *bio_text(BIO *mb)
{
	char *p, *s;
	long n = BIO_get_mem_data(mb, &p);

	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	BIO_free(mb);
	return s;
}

/* A TLS transport whose key and self-signed certificate are made here
 * (inline PEM keys, as ssl.keystore.key and ssl.keystore.certificate.chain). */
static const struct transport_type *tls_transport(void)
{
	const struct transport_type *tt;
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	struct kp_config cfg;
	struct kp_props props;
	char err[256], *key, *chain;

	ck_assert_ptr_nonnull(pk);
	ck_assert_ptr_nonnull(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	ck_assert_int_gt(X509_sign(x, pk, EVP_sha256()), 0);
	ck_assert_int_eq(PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL), 1);
	ck_assert_int_eq(PEM_write_bio_X509(cb, x), 1);
	key = bio_text(kb);
	chain = bio_text(cb);
	X509_free(x);
	EVP_PKEY_free(pk);
	kp_props_init(&props);
	ck_assert_int_eq(kp_props_set(&props, "ssl.keystore.key", key, 0), 0);
	ck_assert_int_eq(kp_props_set(&props, "ssl.keystore.certificate.chain", chain, 0), 0);
	ck_assert_int_eq(kp_config_build(&cfg, broker_config_defs, broker_config_ndefs,
					 &props, NULL, NULL, err, sizeof(err)), 0);
	kp_props_free(&props);
	tt = transport_tls_new(&cfg, "PLAINTEXT", err, sizeof(err));
	ck_assert_msg(tt != NULL, "%s", err);
	kp_config_free(&cfg);
	free(key);
	free(chain);
	return tt;
}

/* A TLS client on fd (blocking), handshake done. */
static SSL *tls_client(SSL_CTX **ctx, int fd)
{
	SSL *ssl;

	*ctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(*ctx);
	SSL_CTX_set_verify(*ctx, SSL_VERIFY_NONE, NULL);
	ssl = SSL_new(*ctx);
	ck_assert_ptr_nonnull(ssl);
	ck_assert_int_eq(SSL_set_fd(ssl, fd), 1);
	return ssl;
}

static void tls_client_free(SSL_CTX *ctx, SSL *ssl)
{
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
}

/* p as records of at most piece bytes each, one SSL_write a record. */
static void tls_send_pieces(SSL *ssl, const uint8_t *p, size_t n, size_t piece)
{
	while (n > 0) {
		size_t k = n < piece ? n : piece;

		ck_assert_int_eq(SSL_write(ssl, p, (int)k), (int)k);
		p += k;
		n -= k;
	}
}

/* A connected pair of TCP sockets on loopback (TCP, not a socketpair: a
 * Unix socket's buffer fills with a few hundred small writes). */
static void tcp_pair(int sv[2])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(lfd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	sv[1] = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(sv[1], 0);
	ck_assert_int_eq(connect(sv[1], (struct sockaddr *)&sa, sizeof(sa)), 0);
	sv[0] = accept(lfd, NULL, NULL);
	ck_assert_int_ge(sv[0], 0);
	close(lfd);
}

/* Wait (10 s at most) until the server's socket sv0 holds every byte the
 * client put on its own since *mark (then moved on). */
static void wait_arrived(int sv0, SSL *client, uint64_t *mark)
{
	uint64_t now = BIO_number_written(SSL_get_wbio(client));
	int have = 0;

	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(ioctl(sv0, FIONREAD, &have), 0);
		if ((uint64_t)have >= now - *mark)
			break;
		poll(NULL, 0, 10);
	}
	ck_assert_int_eq((uint64_t)have, now - *mark);
	*mark = now;
}

/*
 * The transport by itself: 300 records of 5 bytes, all on the socket,
 * come out of one read whole (one SSL_read gives one record's bytes: a
 * read that stopped there would leave 299 records inside OpenSSL).
 */
START_TEST(tls_read_takes_every_record_there)
{
	const struct transport_type *tt = tls_transport();
	uint8_t msg[300 * 5], got[sizeof(msg) + 100];
	struct transport *t;
	SSL_CTX *cctx;
	SSL *cssl;
	int sv[2], crc = 0, src = TRANSPORT_WANT_READ, one = 1;
	uint64_t mark;
	ssize_t n;

	serve(NULL);	/* (teardown stops the loop) */
	tcp_pair(sv);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	t = tt->accept(tt, sv[0]);
	ck_assert_ptr_nonnull(t);
	cssl = tls_client(&cctx, sv[1]);
	/* both ends step their handshake in turn (non-blocking) */
	for (int i = 0; i < 100 && (crc != 1 || src != 0); i++) {
		if (crc != 1)
			crc = SSL_connect(cssl);
		if (src != 0) {
			src = tt->handshake(t);
			ck_assert_int_ne(src, TRANSPORT_ERROR);
		}
	}
	ck_assert_int_eq(crc, 1);
	ck_assert_int_eq(src, 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, 0), 0);
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	mark = BIO_number_written(SSL_get_wbio(cssl));
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 1);
	tls_send_pieces(cssl, msg, sizeof(msg), 5);
	/* (the session tickets a TLS 1.3 server sends stay unread: the
	 * client reads nothing here) */
	wait_arrived(sv[0], cssl, &mark);
	n = tt->read(t, got, sizeof(got));
	ck_assert_int_eq(n, (ssize_t)sizeof(msg));
	ck_assert(memcmp(got, msg, sizeof(msg)) == 0);
	ck_assert(tt->pending(t) == false);
	/* nothing more: the socket's turn */
	ck_assert_int_eq(tt->read(t, got, sizeof(got)), TRANSPORT_WANT_READ);
	/* a bounded read takes what fits and leaves the rest pending */
	tls_send_pieces(cssl, msg, 100, 10);
	wait_arrived(sv[0], cssl, &mark);
	ck_assert_int_eq(tt->read(t, got, 35), 35);
	ck_assert(tt->pending(t));
	ck_assert_int_eq(tt->read(t, got + 35, sizeof(got) - 35), 65);
	ck_assert(memcmp(got, msg, 100) == 0);
	/* the end of the stream after some bytes: the bytes first, then 0 */
	tls_send_pieces(cssl, msg, 20, 4);
	SSL_shutdown(cssl);
	wait_arrived(sv[0], cssl, &mark);
	ck_assert_int_eq(tt->read(t, got, sizeof(got)), 20);
	ck_assert_int_eq(tt->read(t, got, sizeof(got)), 0);
	tls_client_free(cctx, cssl);
	close(sv[1]);
	tt->close(t);
	transport_tls_free(tt);
}
END_TEST

/* One answer frame over TLS: its correlation id. */
static int32_t tls_answer(SSL *ssl)
{
	uint8_t size[4], *frame;
	size_t len, got = 0;
	int32_t cid;

	for (size_t k = 0; k < 4; ) {
		int r = SSL_read(ssl, size + k, (int)(4 - k));

		ck_assert_int_gt(r, 0);
		k += (size_t)r;
	}
	len = (size_t)kp_be32(size);
	ck_assert_uint_gt(len, DATA_LEN);
	frame = malloc(len);
	ck_assert_ptr_nonnull(frame);
	while (got < len) {
		int r = SSL_read(ssl, frame + got, (int)(len - got));

		ck_assert_int_gt(r, 0);
		got += (size_t)r;
	}
	cid = (int32_t)kp_be32(frame);
	/* the file's bytes end the frame (after the Fetch answer's fields) */
	ck_assert(memcmp(frame + len - DATA_LEN, data, DATA_LEN) == 0);
	free(frame);
	return cid;
}

/*
 * Through net.c: Fetch requests sent as 3-byte TLS records, then nothing
 * more on the socket until each answer is read: every request is answered
 * (what the transport read ahead wakes no epoll), in order, each answer
 * (a file range, written through the worker's buffer and OpenSSL) whole.
 */
START_TEST(tls_requests_in_small_records_are_answered)
{
	const struct transport_type *tt = tls_transport();
	struct kp_fetch_req req;
	struct kp_wbuf w;
	SSL_CTX *cctx;
	SSL *cssl;
	int fd;

	serve(tt);
	fd = connect_to_broker();
	cssl = tls_client(&cctx, fd);
	ck_assert_int_eq(SSL_connect(cssl), 1);
	kp_struct_init(&kp_fetch_req_desc, &req);
	req.replica_id = -1;
	/* one at a time, then four in a row */
	for (int32_t cid = 1; cid <= 3; cid++) {
		kp_wbuf_init(&w);
		ck_assert_int_eq(kp_request_frame(&w, KP_API_FETCH, 4, cid, "check", &req), 0);
		tls_send_pieces(cssl, w.data, w.len, 3);
		kp_wbuf_free(&w);
		ck_assert_int_eq(tls_answer(cssl), cid);
	}
	kp_wbuf_init(&w);
	for (int32_t cid = 10; cid < 14; cid++)
		ck_assert_int_eq(kp_request_frame(&w, KP_API_FETCH, 4, cid, "check", &req), 0);
	tls_send_pieces(cssl, w.data, w.len, 3);
	kp_wbuf_free(&w);
	for (int32_t cid = 10; cid < 14; cid++)
		ck_assert_int_eq(tls_answer(cssl), cid);
	ck_assert_int_eq(atomic_load(&dispatched), 7);
	tls_client_free(cctx, cssl);
	close(fd);
	tls_tt = tt;	/* freed by teardown once the network is stopped */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("transports");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, file_range_goes_by_sendfile);
	tcase_add_test(tc, file_range_goes_through_memory_without_sendfile);
	tcase_add_test(tc, handshake_before_the_first_request);
	tcase_add_test(tc, a_client_that_never_reads_pins_bounded_answers);
	tcase_add_test(tc, max_connections_per_ip_closes_the_extra_one);
	tcase_add_test(tc, max_connections_waits_for_a_slot);
	tcase_add_test(tc, idle_connections_are_closed);
	tcase_add_test(tc, accept_out_of_descriptors_does_not_spin);
	tcase_add_test(tc, tls_read_takes_every_record_there);
	tcase_add_test(tc, tls_requests_in_small_records_are_answered);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
