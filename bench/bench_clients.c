/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_clients.c - produce then consume throughput with librdkafka.
 *
 *   bench_clients BOOTSTRAP TOPIC SIZE COUNT [ACKS [idempotent|txn:N]]
 *   bench_clients --latency BOOTSTRAP TOPIC SIZE RATE SECONDS [ACKS]
 *   bench_clients --mock BOOTSTRAP TOPIC SIZE COUNT [ROUNDS]
 *
 * Throughput: produces COUNT messages of SIZE bytes (null keys, so
 * librdkafka spreads them over the partitions) with ACKS (default 1),
 * enable.idempotence=true when "idempotent" follows (ACKS must be all),
 * a transactional producer committing a transaction every N messages when
 * "txn:N" follows (ACKS must be all; the consumer reads read_committed), and
 * no compression, waits for every delivery report, then consumes them all
 * from the beginning of every partition.  Prints messages/s and MB/s for
 * both phases.
 *
 * Latency: a consumer reads the topic's end while a producer sends RATE
 * messages/s for SECONDS, each carrying its send time; prints end-to-end
 * (send to receive) percentiles.
 *
 * Mock: the same producer workload against librdkafka's in-process mock
 * cluster (a client made with test.mock.num.brokers=1) and against the
 * broker at BOOTSTRAP, alternating, ROUNDS times (default 3) in one run:
 * COUNT messages of SIZE bytes to a topic of 4 partitions (created on both
 * with replication factor 1), acks=1 and otherwise librdkafka's default
 * producer settings (linger, batch and queue sizes untouched), each run
 * timed from the first message to the last delivery report.  Prints both
 * rates and the broker's ratio to the mock (the median of the rounds'
 * ratios last).  Figures go in issue notes, never into tests.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t delivered, failed;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err)
		failed++;
	else
		delivered++;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char err[256];

	if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "bench_clients: %s=%s: %s\n", k, v, err);
		exit(1);
	}
}

/* BENCH_CLIENT_CONF="key=value,key=value": the security settings (and
 * any other) of every client, e.g. security.protocol=sasl_ssl. */
static rd_kafka_conf_t *conf_new(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *env = getenv("BENCH_CLIENT_CONF");
	char buf[2048], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", env != NULL ? env : "");
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (eq == NULL) {
			fprintf(stderr, "bench_clients: BENCH_CLIENT_CONF: %s is not key=value\n",
				tok);
			exit(1);
		}
		*eq = '\0';
		set(conf, tok, eq + 1);
	}
	return conf;
}

static void report(const char *what, int64_t n, size_t size, double secs)
{
	printf("%-8s %8zu B x %9" PRId64 ": %10.0f msgs/s %9.1f MB/s (%.2f s)\n",
	       what, size, n, (double)n / secs, (double)n * (double)size / secs / 1e6,
	       secs);
}

static const char *acks = "1";
static const char *idempotence = "false";
static int64_t txn_size;		/* > 0: transactions of this many */

static void txn_check(rd_kafka_error_t *e, const char *what)
{
	if (e == NULL)
		return;
	fprintf(stderr, "bench_clients: %s: %s\n", what, rd_kafka_error_string(e));
	exit(1);
}

static void produce(const char *boot, const char *topic, size_t size, int64_t count)
{
	rd_kafka_conf_t *conf = conf_new();
	char err[256], *payload = malloc(size);
	rd_kafka_t *rk;
	double t0;

	memset(payload, 'x', size);
	set(conf, "bootstrap.servers", boot);
	set(conf, "acks", acks);
	set(conf, "linger.ms", "5");
	set(conf, "batch.num.messages", "10000");
	set(conf, "batch.size", "1000000");
	set(conf, "queue.buffering.max.messages", "2000000");
	set(conf, "queue.buffering.max.kbytes", "2097151");
	set(conf, "compression.codec", "none");
	set(conf, "enable.idempotence", idempotence);
	if (txn_size > 0) {
		char tid[256];

		snprintf(tid, sizeof(tid), "bench-%s", topic);
		set(conf, "transactional.id", tid);
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "bench_clients: %s\n", err);
		exit(1);
	}
	if (txn_size > 0) {
		txn_check(rd_kafka_init_transactions(rk, 60000), "init_transactions");
		txn_check(rd_kafka_begin_transaction(rk), "begin_transaction");
	}
	/* one message first: the topic is created and has leaders */
	rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
			  RD_KAFKA_V_END);
	if (txn_size > 0)
		txn_check(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
	rd_kafka_flush(rk, 60000);
	delivered = failed = 0;
	t0 = now_s();
	for (int64_t i = 0; i < count; i++) {
		if (txn_size > 0 && i % txn_size == 0)
			txn_check(rd_kafka_begin_transaction(rk), "begin_transaction");
		while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
					 RD_KAFKA_V_VALUE(payload, size),
					 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 10);
		if ((i & 1023) == 0)
			rd_kafka_poll(rk, 0);
		/* commit flushes: each transaction waits for its records */
		if (txn_size > 0 && (i % txn_size == txn_size - 1 || i == count - 1))
			txn_check(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
	}
	rd_kafka_flush(rk, 300000);
	report(txn_size > 0 ? "txn" : strcmp(acks, "1") == 0 ? "produce" : "produce*",
	       delivered, size, now_s() - t0);
	if (failed > 0 || delivered != count) {
		fprintf(stderr, "bench_clients: %" PRId64 " delivered, %" PRId64 " failed\n",
			delivered, failed);
		exit(1);
	}
	rd_kafka_destroy(rk);
	free(payload);
}

static void consume(const char *boot, const char *topic, size_t size, int64_t count)
{
	rd_kafka_conf_t *conf = conf_new();
	const struct rd_kafka_metadata *md;
	rd_kafka_message_t *batch[1024];
	rd_kafka_queue_t *q;
	rd_kafka_topic_t *rkt;
	rd_kafka_t *rk;
	char err[256];
	int64_t got = 0;
	int nparts;
	double t0;

	set(conf, "bootstrap.servers", boot);
	set(conf, "fetch.max.bytes", "52428800");
	set(conf, "max.partition.fetch.bytes", "10485760");
	set(conf, "queued.min.messages", "1000000");
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "bench_clients: %s\n", err);
		exit(1);
	}
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rd_kafka_metadata(rk, 0, rkt, &md, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    md->topic_cnt != 1) {
		fprintf(stderr, "bench_clients: no metadata for %s\n", topic);
		exit(1);
	}
	nparts = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	q = rd_kafka_queue_new(rk);
	t0 = now_s();
	for (int p = 0; p < nparts; p++)
		rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, q);
	count++;		/* the warm-up message */
	while (got < count && now_s() - t0 < 300) {
		ssize_t n = rd_kafka_consume_batch_queue(q, 1000, batch, 1024);

		for (ssize_t i = 0; i < n; i++) {
			if (!batch[i]->err)
				got++;
			rd_kafka_message_destroy(batch[i]);
		}
	}
	report("consume", got, size, now_s() - t0);
	for (int p = 0; p < nparts; p++)
		rd_kafka_consume_stop(rkt, p);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	if (got < count) {
		fprintf(stderr, "bench_clients: consumed %" PRId64 " of %" PRId64 "\n",
			got, count);
		exit(1);
	}
}

/* --------------------------------------------------------------- mock */

#define MOCK_PARTITIONS 4

static void create_topic(const char *boot, const char *topic)
{
	rd_kafka_conf_t *conf = conf_new();
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	rd_kafka_t *rk;
	char err[256];

	set(conf, "bootstrap.servers", boot);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	nt = rk == NULL ? NULL : rd_kafka_NewTopic_new(topic, MOCK_PARTITIONS, 1,
							err, sizeof(err));
	if (nt == NULL) {
		fprintf(stderr, "bench_clients: %s\n", err);
		exit(1);
	}
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	ev = rd_kafka_queue_poll(q, 60000);
	if (ev != NULL) {
		const rd_kafka_CreateTopics_result_t *res =
			rd_kafka_event_CreateTopics_result(ev);
		size_t n = 0;
		const rd_kafka_topic_result_t **tr =
			res != NULL ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;

		if (rd_kafka_event_error(ev) ||
		    (n == 1 && rd_kafka_topic_result_error(tr[0]) &&
		     rd_kafka_topic_result_error(tr[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)) {
			fprintf(stderr, "bench_clients: creating %s: %s\n", topic,
				n == 1 ? rd_kafka_topic_result_error_string(tr[0])
				       : rd_kafka_event_error_string(ev));
			exit(1);
		}
		rd_kafka_event_destroy(ev);
	} else {
		fprintf(stderr, "bench_clients: creating %s: no answer\n", topic);
		exit(1);
	}
	rd_kafka_NewTopic_destroy(nt);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
}

/* COUNT messages with librdkafka's default producer settings and acks=1;
 * returns the seconds from the first message to the last report. */
static double produce_default(const char *boot, const char *topic,
			      const char *payload, size_t size, int64_t count)
{
	rd_kafka_conf_t *conf = conf_new();
	rd_kafka_t *rk;
	char err[256];
	double t0, secs;

	set(conf, "bootstrap.servers", boot);
	set(conf, "acks", "1");
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "bench_clients: %s\n", err);
		exit(1);
	}
	/* warm up: metadata known and a connection to every leader */
	for (int p = 0; p < MOCK_PARTITIONS; p++)
		rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(p),
				  RD_KAFKA_V_VALUE((void *)payload, size), RD_KAFKA_V_END);
	rd_kafka_flush(rk, 60000);
	delivered = failed = 0;
	t0 = now_s();
	for (int64_t i = 0; i < count; i++) {
		while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
					 RD_KAFKA_V_VALUE((void *)payload, size),
					 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 10);
		if ((i & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 300000);
	secs = now_s() - t0;
	if (failed > 0 || delivered != count) {
		fprintf(stderr, "bench_clients: %s: %" PRId64 " delivered, %" PRId64
			" failed\n", boot, delivered, failed);
		exit(1);
	}
	rd_kafka_destroy(rk);
	return secs;
}

static int cmp_double(const void *a, const void *b);

static void mock_compare(const char *boot, const char *topic, size_t size,
			 int64_t count, int rounds)
{
	rd_kafka_conf_t *conf = conf_new();
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_t *holder;
	char err[256], *payload = malloc(size), mock_boot[1024];
	double ratio[64];

	if (payload == NULL || rounds < 1 || rounds > 64) {
		fprintf(stderr, "bench_clients: ROUNDS is 1 to 64\n");
		exit(2);
	}
	memset(payload, 'x', size);
	/* the mock cluster lives in this client's threads, in-process */
	set(conf, "test.mock.num.brokers", "1");
	holder = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (holder == NULL || (mc = rd_kafka_handle_mock_cluster(holder)) == NULL) {
		fprintf(stderr, "bench_clients: no mock cluster: %s\n",
			holder == NULL ? err : "test.mock.num.brokers ignored");
		exit(1);
	}
	snprintf(mock_boot, sizeof(mock_boot), "%s", rd_kafka_mock_cluster_bootstraps(mc));
	if (rd_kafka_mock_topic_create(mc, topic, MOCK_PARTITIONS, 1) != 0) {
		fprintf(stderr, "bench_clients: mock topic %s not created\n", topic);
		exit(1);
	}
	create_topic(boot, topic);
	printf("%zu B, %d partitions, acks=1, librdkafka %s default producer "
	       "settings\n", size, MOCK_PARTITIONS, rd_kafka_version_str());
	for (int r = 0; r < rounds; r++) {
		double m = produce_default(mock_boot, topic, payload, size, count);
		double s = produce_default(boot, topic, payload, size, count);

		report("mock", count, size, m);
		report("broker", count, size, s);
		ratio[r] = m / s;
		printf("round %d: broker/mock %.2f\n", r + 1, ratio[r]);
		fflush(stdout);
	}
	qsort(ratio, (size_t)rounds, sizeof(*ratio), cmp_double);
	printf("broker/mock (median of %d rounds): %.2f\n", rounds, ratio[rounds / 2]);
	rd_kafka_destroy(holder);
	free(payload);
}

/* ------------------------------------------------------------ latency */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static rd_kafka_t *latency_consumer(const char *boot, const char *topic,
				    rd_kafka_queue_t **q, rd_kafka_topic_t **rkt,
				    int *nparts)
{
	rd_kafka_conf_t *conf = conf_new();
	const struct rd_kafka_metadata *md;
	rd_kafka_t *rk;
	char err[256];

	set(conf, "bootstrap.servers", boot);
	set(conf, "fetch.wait.max.ms", "100");
	set(conf, "fetch.error.backoff.ms", "10");
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "bench_clients: %s\n", err);
		exit(1);
	}
	*rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rd_kafka_metadata(rk, 0, *rkt, &md, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    md->topic_cnt != 1 || md->topics[0].partition_cnt < 1) {
		fprintf(stderr, "bench_clients: no metadata for %s\n", topic);
		exit(1);
	}
	*nparts = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	*q = rd_kafka_queue_new(rk);
	for (int p = 0; p < *nparts; p++)
		rd_kafka_consume_start_queue(*rkt, p, RD_KAFKA_OFFSET_END, *q);
	return rk;
}

static void latency(const char *boot, const char *topic, size_t size, int rate,
		    int seconds)
{
	rd_kafka_conf_t *conf = conf_new();
	rd_kafka_queue_t *q;
	rd_kafka_topic_t *rkt;
	rd_kafka_t *prod, *cons;
	int64_t total = (int64_t)rate * seconds, sent = 0, got = 0;
	double *lat = calloc((size_t)total + 1, sizeof(*lat)), t0, end;
	char err[256], *payload = calloc(1, size < 32 ? 32 : size);
	int nparts;

	set(conf, "bootstrap.servers", boot);
	set(conf, "acks", acks);
	set(conf, "linger.ms", "0");
	set(conf, "compression.codec", "none");
	prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (prod == NULL || lat == NULL || payload == NULL) {
		fprintf(stderr, "bench_clients: %s\n", prod == NULL ? err : "out of memory");
		exit(1);
	}
	/* warm up: topic created, leaders known, connections open */
	rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
			  RD_KAFKA_V_END);
	rd_kafka_flush(prod, 60000);
	cons = latency_consumer(boot, topic, &q, &rkt, &nparts);
	/* the consumer is at the end once a marker sent now comes back */
	for (double w = now_s(); now_s() - w < 5; ) {
		rd_kafka_message_t *m = rd_kafka_consume_queue(q, 100);

		if (m != NULL)
			rd_kafka_message_destroy(m);
	}
	t0 = now_s();
	end = t0 + seconds + 10;
	while (got < total && now_s() < end) {
		double due = t0 + (double)sent / rate;
		rd_kafka_message_t *m;

		while (sent < total && now_s() >= due) {
			double ts = now_s();

			memcpy(payload, &ts, sizeof(ts));
			rd_kafka_producev(prod, RD_KAFKA_V_TOPIC(topic),
					  RD_KAFKA_V_VALUE(payload, size),
					  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					  RD_KAFKA_V_END);
			sent++;
			due = t0 + (double)sent / rate;
		}
		rd_kafka_poll(prod, 0);
		m = rd_kafka_consume_queue(q, 0);
		if (m == NULL) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
			continue;
		}
		if (!m->err && m->len >= sizeof(double)) {
			double ts;

			memcpy(&ts, m->payload, sizeof(ts));
			if (ts >= t0 && got < total)
				lat[got++] = (now_s() - ts) * 1000.0;
		}
		rd_kafka_message_destroy(m);
	}
	qsort(lat, (size_t)got, sizeof(*lat), cmp_double);
	if (got == 0) {
		fprintf(stderr, "bench_clients: no message came back\n");
		exit(1);
	}
	printf("latency  %8zu B at %6d msgs/s, acks=%s: p50 %.2f ms, p99 %.2f ms, "
	       "p99.9 %.2f ms, max %.2f ms (%" PRId64 " of %" PRId64 " received)\n",
	       size, rate, acks, lat[got / 2], lat[(int64_t)((double)got * 0.99)],
	       lat[(int64_t)((double)got * 0.999)], lat[got - 1], got, total);
	for (int p = 0; p < nparts; p++)
		rd_kafka_consume_stop(rkt, p);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(cons);
	rd_kafka_flush(prod, 30000);
	rd_kafka_destroy(prod);
	free(lat);
	free(payload);
}

int main(int argc, char **argv)
{
	size_t size;
	int64_t count;

	if (argc >= 7 && strcmp(argv[1], "--latency") == 0) {
		if (argc > 7)
			acks = argv[7];
		latency(argv[2], argv[3], (size_t)strtoul(argv[4], NULL, 10),
			atoi(argv[5]), atoi(argv[6]));
		return 0;
	}
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "--mock") == 0) {
		mock_compare(argv[2], argv[3], (size_t)strtoul(argv[4], NULL, 10),
			     strtoll(argv[5], NULL, 10), argc == 7 ? atoi(argv[6]) : 3);
		return 0;
	}
	if (argc == 7 && strcmp(argv[6], "idempotent") == 0) {
		idempotence = "true";
		argc--;
	} else if (argc == 7 && strncmp(argv[6], "txn:", 4) == 0 &&
		   (txn_size = strtoll(argv[6] + 4, NULL, 10)) > 0) {
		idempotence = "true";
		argc--;
	}
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: bench_clients BOOTSTRAP TOPIC SIZE COUNT [ACKS [idempotent|txn:N]]\n"
			"       bench_clients --latency BOOTSTRAP TOPIC SIZE RATE SECONDS [ACKS]\n"
			"       bench_clients --mock BOOTSTRAP TOPIC SIZE COUNT [ROUNDS]\n");
		return 2;
	}
	if (argc == 6)
		acks = argv[5];
	size = (size_t)strtoul(argv[3], NULL, 10);
	count = strtoll(argv[4], NULL, 10);
	produce(argv[1], argv[2], size, count);
	consume(argv[1], argv[2], size, count);
	return 0;
}
