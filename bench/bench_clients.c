/*
 * bench_clients.c - produce then consume throughput with librdkafka.
 *
 *   bench_clients BOOTSTRAP TOPIC SIZE COUNT
 *
 * Produces COUNT messages of SIZE bytes (null keys, so librdkafka spreads
 * them over the partitions) with acks=1 and no compression, waits for
 * every delivery report, then consumes them all from the beginning of
 * every partition.  Prints messages/s and MB/s for both phases.  Figures
 * go in issue notes, never into tests.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
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

static void report(const char *what, int64_t n, size_t size, double secs)
{
	printf("%-8s %8zu B x %9" PRId64 ": %10.0f msgs/s %9.1f MB/s (%.2f s)\n",
	       what, size, n, (double)n / secs, (double)n * (double)size / secs / 1e6,
	       secs);
}

static void produce(const char *boot, const char *topic, size_t size, int64_t count)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256], *payload = malloc(size);
	rd_kafka_t *rk;
	double t0;

	memset(payload, 'x', size);
	set(conf, "bootstrap.servers", boot);
	set(conf, "acks", "1");
	set(conf, "linger.ms", "5");
	set(conf, "batch.num.messages", "10000");
	set(conf, "batch.size", "1000000");
	set(conf, "queue.buffering.max.messages", "2000000");
	set(conf, "queue.buffering.max.kbytes", "2097151");
	set(conf, "compression.codec", "none");
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "bench_clients: %s\n", err);
		exit(1);
	}
	/* one message first: the topic is created and has leaders */
	rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
			  RD_KAFKA_V_END);
	rd_kafka_flush(rk, 60000);
	delivered = failed = 0;
	t0 = now_s();
	for (int64_t i = 0; i < count; i++) {
		while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
					 RD_KAFKA_V_VALUE(payload, size),
					 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 10);
		if ((i & 1023) == 0)
			rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 300000);
	report("produce", delivered, size, now_s() - t0);
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
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
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

int main(int argc, char **argv)
{
	size_t size;
	int64_t count;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_clients BOOTSTRAP TOPIC SIZE COUNT\n");
		return 2;
	}
	size = (size_t)strtoul(argv[3], NULL, 10);
	count = strtoll(argv[4], NULL, 10);
	produce(argv[1], argv[2], size, count);
	consume(argv[1], argv[2], size, count);
	return 0;
}
