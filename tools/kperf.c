/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kperf - producer and consumer performance tests, in the manner of
 * Kafka's kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh.
 *
 *   kperf produce --topic T --num-records N --record-size S [--throughput R]
 *   kperf consume --topic T --messages N
 *
 * Both end with one summary line a script can parse (or a JSON object
 * with --json).  Producer latency is per record, from the moment it was
 * handed to the producer until its batch was acknowledged.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool_fetch.h"
#include "tool_produce.h"

static struct {
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms */
	const char *topic;
	int64_t records;
	int32_t record_size;
	int64_t throughput;	/* records/s; -1 unlimited */
	int16_t acks;
	int codec;
	int batch_records;
	int64_t messages;
	int report_ms;
	bool json;
} o = {
	.records = -1, .record_size = 100, .throughput = -1, .acks = -1,
	.batch_records = 1000, .messages = -1, .t.timeout_ms = 30000,
	.report_ms = 5000,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kperf produce --bootstrap-server HOST:PORT[,...] --topic TOPIC\n"
		"                     --num-records N [--record-size BYTES] [--throughput R]\n"
		"                     [--acks A] [--compression-codec CODEC] [--batch-size N]\n"
		"       kperf consume --bootstrap-server HOST:PORT[,...] --topic TOPIC\n"
		"                     --messages N\n"
		"Measure how fast records are written or read.\n"
		"\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --topic TOPIC             the topic (required)\n"
		"  --num-records N           produce: records to write\n"
		"  --record-size BYTES       produce: value size (100)\n"
		"  --throughput R            produce: at most R records/s (-1: no limit)\n"
		"  --acks A                  produce: all, -1, 0 or 1 (all)\n"
		"  --compression-codec CODEC produce: none, gzip, snappy, lz4, zstd (none)\n"
		"  --batch-size N            produce: records per flush (1000)\n"
		"  --messages N              consume: records to read from the log start\n"
		"  --reporting-interval MS   progress lines on stderr this often (5000)\n"
		"  --json                    the summary as a JSON object\n"
		"  --timeout-ms MS           give up when nothing moves for MS (30000)\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 done, 1 records failed or the cluster refused, 2 bad usage.\n");
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------- produce */

static struct {
	int32_t *lat_us;	/* per acknowledged record */
	int64_t n;
	int64_t max_us;
	double sum_us;
} lat;

static void on_ack(void *arg, int32_t partition, const struct tool_prec *recs,
		   int32_t n, int16_t err, int64_t base_offset)
{
	int64_t now = mono_us();

	(void)arg;
	(void)partition;
	(void)base_offset;
	if (err != 0)
		return;
	for (int32_t i = 0; i < n; i++) {
		int64_t d = now - recs[i].t_enq_us;

		if (lat.n < o.records)
			lat.lat_us[lat.n++] = d > INT32_MAX ? INT32_MAX : (int32_t)d;
		if (d > lat.max_us)
			lat.max_us = d;
		lat.sum_us += (double)d;
	}
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

static double pct_ms(double q)
{
	int64_t i;

	if (lat.n == 0)
		return 0;
	i = (int64_t)(q * (double)lat.n);
	if (i >= lat.n)
		i = lat.n - 1;
	return lat.lat_us[i] / 1000.0;
}

static int do_produce(struct tool_cluster *cl)
{
	struct tool_producer p;
	uint8_t *value;
	int64_t start, elapsed_us, failed = 0, next_report;
	double secs, rps, mbps;

	if (o.records < 0)
		tool_usage_error("produce needs --num-records");
	lat.lat_us = calloc((size_t)o.records + 1, sizeof(*lat.lat_us));
	value = malloc((size_t)o.record_size + 1);
	if (lat.lat_us == NULL || value == NULL)
		tool_die("out of memory");
	/* Printable, varied bytes: compressible like real text, not zeros. */
	for (int32_t i = 0; i < o.record_size; i++)
		value[i] = (uint8_t)('A' + (i * 7 + i / 13) % 26);
	tool_producer_init(&p, cl, o.topic);
	p.acks = o.acks;
	p.codec = o.codec;
	p.on_ack = on_ack;
	start = mono_us();
	next_report = start + (int64_t)o.report_ms * 1000;
	for (int64_t i = 0; i < o.records; i++) {
		if (o.throughput > 0) {
			/* Pace: record i is due at start + i / rate. */
			int64_t due = start + i * 1000000 / o.throughput;
			int64_t now = mono_us();

			if (due > now) {
				failed += tool_producer_flush(&p);
				now = mono_us();
				if (due > now)
					usleep((useconds_t)(due - now));
			}
		}
		tool_producer_add(&p, -1, NULL, -1, value, o.record_size, -1);
		if (tool_producer_pending(&p) >= o.batch_records)
			failed += tool_producer_flush(&p);
		if (mono_us() >= next_report) {
			fprintf(stderr, "%" PRId64 " records sent, %.1f ms avg "
				"latency so far\n", p.acked,
				lat.n ? lat.sum_us / (double)lat.n / 1000.0 : 0.0);
			next_report += (int64_t)o.report_ms * 1000;
		}
	}
	failed += tool_producer_flush(&p);
	elapsed_us = mono_us() - start;
	secs = elapsed_us > 0 ? (double)elapsed_us / 1e6 : 1e-6;
	rps = (double)p.acked / secs;
	mbps = rps * o.record_size / (1024.0 * 1024.0);
	qsort(lat.lat_us, (size_t)lat.n, sizeof(*lat.lat_us), cmp_i32);
	if (o.json) {
		json_t *j = json_pack(
			"{s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
			"mode", "produce", "records", (json_int_t)p.acked,
			"failed", (json_int_t)failed, "seconds", secs,
			"records_per_sec", rps, "mb_per_sec", mbps,
			"avg_latency_ms", lat.n ? lat.sum_us / (double)lat.n / 1000.0 : 0.0,
			"max_latency_ms", (double)lat.max_us / 1000.0,
			"p50_ms", pct_ms(0.50), "p95_ms", pct_ms(0.95),
			"p99_ms", pct_ms(0.99), "p999_ms", pct_ms(0.999));

		tool_print_json(stdout, j);
		json_decref(j);
	} else {
		printf("%" PRId64 " records sent, %.1f records/sec (%.2f MB/sec), "
		       "%.2f ms avg latency, %.2f ms max latency, %.0f ms 50th, "
		       "%.0f ms 95th, %.0f ms 99th, %.0f ms 99.9th.\n",
		       p.acked, rps, mbps,
		       lat.n ? lat.sum_us / (double)lat.n / 1000.0 : 0.0,
		       (double)lat.max_us / 1000.0, pct_ms(0.50), pct_ms(0.95),
		       pct_ms(0.99), pct_ms(0.999));
	}
	tool_producer_free(&p);
	free(lat.lat_us);
	free(value);
	return failed > 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ------------------------------------------------------------- consume */

static int64_t consumed, consumed_bytes;

static bool count_record(void *arg, int32_t partition,
			 const struct kp_record *r, bool log_append)
{
	(void)arg;
	(void)partition;
	(void)log_append;
	if (consumed >= o.messages)
		return false;
	consumed++;
	consumed_bytes += (r->key.len > 0 ? r->key.len : 0) +
			  (r->value.len > 0 ? r->value.len : 0);
	return true;
}

static int do_consume(struct tool_cluster *cl)
{
	struct tool_fetcher f;
	const struct kp_metadata_resp_metadata_response_topic *t;
	int32_t *ids;
	int64_t start, last_progress, next_report;
	double secs;

	if (o.messages < 0)
		tool_usage_error("consume needs --messages");
	tool_metadata(cl, NULL, 0, true);
	t = tool_md_topic(cl, o.topic);
	if (t == NULL || t->error_code != 0)
		tool_die("topic '%s' does not exist", o.topic);
	ids = calloc((size_t)t->partitions_count + 1, sizeof(*ids));
	if (ids == NULL)
		tool_die("out of memory");
	for (int i = 0; i < t->partitions_count; i++)
		ids[i] = t->partitions[i].partition_index;
	tool_fetcher_init(&f, cl, o.topic);
	f.on_record = count_record;
	f.from_beginning = true;
	tool_fetcher_assign(&f, ids, t->partitions_count);
	free(ids);
	tool_fetcher_resolve(&f);
	start = mono_us();
	last_progress = start;
	next_report = start + (int64_t)o.report_ms * 1000;
	while (consumed < o.messages) {
		if (tool_fetcher_round(&f))
			last_progress = mono_us();
		else if (mono_us() - last_progress > (int64_t)o.t.timeout_ms * 1000)
			break;
		if (mono_us() >= next_report) {
			fprintf(stderr, "%" PRId64 " records read\n", consumed);
			next_report += (int64_t)o.report_ms * 1000;
		}
	}
	secs = (double)(mono_us() - start) / 1e6;
	if (secs <= 0)
		secs = 1e-6;
	if (o.json) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:f}",
				      "mode", "consume", "records",
				      (json_int_t)consumed, "bytes",
				      (json_int_t)consumed_bytes, "fetched_bytes",
				      (json_int_t)f.bytes, "seconds", secs,
				      "records_per_sec", consumed / secs,
				      "mb_per_sec",
				      consumed_bytes / secs / (1024.0 * 1024.0));

		tool_print_json(stdout, j);
		json_decref(j);
	} else {
		printf("%" PRId64 " records read, %.1f records/sec (%.2f MB/sec), "
		       "%.2f MB in %.3f s.\n", consumed, consumed / secs,
		       consumed_bytes / secs / (1024.0 * 1024.0),
		       consumed_bytes / (1024.0 * 1024.0), secs);
	}
	tool_fetcher_free(&f);
	if (consumed < o.messages) {
		tool_warn("only %" PRId64 " of %" PRId64 " records arrived within "
			  "%d ms of the last", consumed, o.messages, o.t.timeout_ms);
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum {
		O_TOPIC = 256, O_NREC, O_SIZE, O_TPUT, O_ACKS, O_CODEC,
		O_BATCH, O_MSGS, O_REPORT, O_JSON,
	};
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "num-records", required_argument, NULL, O_NREC },
		{ "record-size", required_argument, NULL, O_SIZE },
		{ "throughput", required_argument, NULL, O_TPUT },
		{ "acks", required_argument, NULL, O_ACKS },
		{ "compression-codec", required_argument, NULL, O_CODEC },
		{ "batch-size", required_argument, NULL, O_BATCH },
		{ "messages", required_argument, NULL, O_MSGS },
		{ "reporting-interval", required_argument, NULL, O_REPORT },
		{ "json", no_argument, NULL, O_JSON },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_cluster cl;
	const char *mode;
	int c, rc;

	tool_name = "kperf";
	o.t.usage = usage;
	o.t.operands = true;	/* the mode */
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_TOPIC: o.topic = optarg; break;
		case O_NREC:
			o.records = tool_opt_i64("--num-records", optarg, 1,
						 INT32_MAX);
			break;
		case O_SIZE:
			o.record_size = tool_opt_i32("--record-size", optarg, 0,
						     16 << 20);
			break;
		case O_TPUT:
			o.throughput = tool_opt_i64("--throughput", optarg, -1,
						    INT64_MAX);
			if (o.throughput == 0)
				tool_usage_error("--throughput: 0 would never end");
			break;
		case O_ACKS: o.acks = tool_parse_acks("--acks", optarg); break;
		case O_CODEC:
			o.codec = tool_parse_codec("--compression-codec", optarg);
			break;
		case O_BATCH:
			o.batch_records = tool_opt_i32("--batch-size", optarg, 1,
						       INT32_MAX);
			break;
		case O_MSGS:
			o.messages = tool_opt_i64("--messages", optarg, 1,
						  INT64_MAX);
			break;
		case O_REPORT:
			o.report_ms = tool_opt_i32("--reporting-interval",
						   optarg, 1, INT32_MAX);
			break;
		case O_JSON: o.json = true; break;
		}
	}
	if (optind + 1 != argc)
		tool_usage_error("give one mode: produce or consume");
	mode = argv[optind];
	if (strcmp(mode, "produce") != 0 && strcmp(mode, "consume") != 0)
		tool_usage_error("unknown mode '%s' (produce or consume)", mode);
	tool_need_bootstrap_topic(&o.t, o.topic);
	tool_cluster_open(&cl, o.t.bootstrap, NULL, o.t.timeout_ms);
	rc = strcmp(mode, "produce") == 0 ? do_produce(&cl) : do_consume(&cl);
	tool_cluster_close(&cl);
	return rc;
}
