/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kconsole-producer - lines from stdin become records of a topic, as with
 * Kafka's kafka-console-producer.sh.
 *
 * Lines are batched: a flush happens after --batch-size records, when no
 * more input arrives within --timeout milliseconds (so typing one line at
 * a terminal sends it promptly), and at end of input.  --sync sends each
 * line on its own and waits for its acknowledgement.  The exit status is
 * 1 when any record could not be written, so a script knows.
 *
 * Acknowledgement defaults to acks=all (-1): what we aim for is that no
 * acknowledged write is lost.  Kafka 2.8's console producer used acks=1;
 * --request-required-acks 1 gives that.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_config.h"
#include "tool_security.h"
#include "tool_produce.h"

static struct {
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms */
	const char *topic;
	int32_t partition;
	bool parse_key;
	char *key_sep;
	bool ignore_error;
	const char *null_marker;
	int16_t acks;
	int codec;
	int batch_records;
	int linger_ms;
	bool sync;
	int retries;
	int retry_backoff_ms;
	int request_timeout_ms;
	const char *client_id;
} o = {
	.partition = -1, .acks = -1, .batch_records = 200, .linger_ms = 1000,
	.retries = 5, .retry_backoff_ms = 100, .request_timeout_ms = 30000,
	.t.timeout_ms = 30000,
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kconsole-producer --bootstrap-server HOST:PORT[,...] --topic TOPIC [OPTIONS]\n"
		"Write each line of standard input as a record of TOPIC.\n"
		"\n"
		"  --bootstrap-server LIST     brokers to connect to first (required)\n"
		"  --broker-list LIST          the old name of --bootstrap-server\n"
		"  --topic TOPIC               the topic (required)\n"
		"  --partition N               write every record to partition N\n"
		"  --property KEY=VALUE        reader settings: parse.key=true|false,\n"
		"                              key.separator=SEP (default a tab),\n"
		"                              null.marker=TEXT (a key or value equal to it\n"
		"                              is sent as null), ignore.error=true|false\n"
		"  --producer-property KEY=VALUE  producer settings: acks, compression.type,\n"
		"                              linger.ms, batch.size (records), retries,\n"
		"                              retry.backoff.ms, request.timeout.ms, client.id\n"
		"  --producer.config FILE      producer settings from a properties file\n"
		"  --request-required-acks A   all, -1, 0 or 1 (default all)\n"
		"  --compression-codec[=CODEC] none, gzip, snappy, lz4, zstd (alone: gzip)\n"
		"  --batch-size N              records per flush (200)\n"
		"  --timeout MS                flush when input pauses this long (1000)\n"
		"  --sync                      send each record alone and wait for it\n"
		"  --message-send-max-retries N  retries of a failed batch (5)\n"
		"  --retry-backoff-ms MS       pause before a retry (100)\n"
		"  --request-timeout-ms MS     how long the broker may take (30000)\n"
		"  --timeout-ms MS             patience for reaching the cluster (30000)\n"
		"  --help                      this text\n"
		"  --version                   the program's version\n"
		"\n"
		"Exit status: 0 every line written, 1 some record failed, 2 bad usage.\n");
}



static void reader_property(const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[64];

	if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof(key))
		tool_usage_error("--property: '%s' is not KEY=VALUE", kv);
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	if (strcmp(key, "parse.key") == 0) {
		o.parse_key = tool_parse_bool(key, eq + 1);
	} else if (strcmp(key, "key.separator") == 0) {
		free(o.key_sep);
		o.key_sep = tool_unescape(eq + 1);
		if (o.key_sep[0] == '\0')
			tool_usage_error("key.separator: empty");
	} else if (strcmp(key, "ignore.error") == 0) {
		o.ignore_error = tool_parse_bool(key, eq + 1);
	} else if (strcmp(key, "null.marker") == 0) {
		o.null_marker = eq + 1;
	} else {
		tool_usage_error("--property: unknown reader setting '%s'", key);
	}
}

static void producer_property(const char *key, const char *v)
{
	if (strcmp(key, "acks") == 0) {
		o.acks = tool_parse_acks(key, v);
	} else if (strcmp(key, "compression.type") == 0) {
		o.codec = tool_parse_codec(key, v);
	} else if (strcmp(key, "linger.ms") == 0) {
		o.linger_ms = tool_opt_i32(key, v, 0, INT32_MAX);
	} else if (strcmp(key, "batch.size") == 0) {
		o.batch_records = tool_opt_i32(key, v, 1, INT32_MAX);
	} else if (strcmp(key, "retries") == 0) {
		o.retries = tool_opt_i32(key, v, 0, INT32_MAX);
	} else if (strcmp(key, "retry.backoff.ms") == 0) {
		o.retry_backoff_ms = tool_opt_i32(key, v, 0, INT32_MAX);
	} else if (strcmp(key, "request.timeout.ms") == 0) {
		o.request_timeout_ms = tool_opt_i32(key, v, 1, INT32_MAX);
	} else if (strcmp(key, "client.id") == 0) {
		o.client_id = strdup(v);
	} else if (strcmp(key, "bootstrap.servers") == 0) {
		o.t.bootstrap = strdup(v);
	} else if (tool_security_property("producer settings", key, v)) {
		/* applied by tool_cluster_open */
	} else {
		tool_usage_error("producer setting '%s' is not one this tool "
				 "uses", key);
	}
}


/* -------------------------------------------------------------- input */

static struct {
	char *buf;
	size_t len, cap;
	bool eof;
} in;

/* Wait up to ms (-1: forever) for input; false on timeout. */
static bool fill(int ms)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	ssize_t n;

	if (in.eof)
		return true;
	if (poll(&pfd, 1, ms) == 0)
		return false;
	if (in.cap - in.len < 65536) {
		in.cap = in.cap ? in.cap * 2 : 131072;
		in.buf = realloc(in.buf, in.cap);
		if (in.buf == NULL)
			tool_die("out of memory");
	}
	n = read(STDIN_FILENO, in.buf + in.len, in.cap - in.len);
	if (n < 0 && errno != EINTR && errno != EAGAIN)
		tool_die("reading standard input: %s", strerror(errno));
	if (n == 0)
		in.eof = true;
	if (n > 0)
		in.len += (size_t)n;
	return true;
}

static int produce_line(struct tool_producer *p, char *line, size_t len)
{
	char *key = NULL, *val = line;
	int32_t klen = -1, vlen;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	vlen = (int32_t)len;
	if (o.parse_key) {
		char *sep = strstr(line, o.key_sep);

		if (sep == NULL) {
			if (!o.ignore_error) {
				tool_warn("no key separator in line: %s", line);
				return 1;
			}
		} else {
			key = line;
			klen = (int32_t)(sep - line);
			val = sep + strlen(o.key_sep);
			vlen = (int32_t)(len - (size_t)(val - line));
		}
	}
	if (o.null_marker != NULL) {
		if (key != NULL && (size_t)klen == strlen(o.null_marker) &&
		    memcmp(key, o.null_marker, (size_t)klen) == 0)
			klen = -1;
		if ((size_t)vlen == strlen(o.null_marker) &&
		    memcmp(val, o.null_marker, (size_t)vlen) == 0)
			vlen = -1;
	}
	tool_producer_add(p, o.partition, key, klen, val, vlen, -1);
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		O_TOPIC = 256, O_PART, O_PROP, O_PPROP, O_PCONF,
		O_ACKS, O_CODEC, O_BATCH, O_LINGER, O_SYNC, O_RETRIES,
		O_BACKOFF, O_REQTO,
	};
	static const struct option opts[] = {
		{ "broker-list", required_argument, NULL, TOOL_OPT_BOOTSTRAP },
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "partition", required_argument, NULL, O_PART },
		{ "property", required_argument, NULL, O_PROP },
		{ "producer-property", required_argument, NULL, O_PPROP },
		{ "producer.config", required_argument, NULL, O_PCONF },
		{ "request-required-acks", required_argument, NULL, O_ACKS },
		{ "compression-codec", optional_argument, NULL, O_CODEC },
		{ "batch-size", required_argument, NULL, O_BATCH },
		{ "timeout", required_argument, NULL, O_LINGER },
		{ "sync", no_argument, NULL, O_SYNC },
		{ "message-send-max-retries", required_argument, NULL, O_RETRIES },
		{ "retry-backoff-ms", required_argument, NULL, O_BACKOFF },
		{ "request-timeout-ms", required_argument, NULL, O_REQTO },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_cluster cl;
	struct tool_producer p;
	int c, bad_lines = 0;
	int64_t failed = 0, batch_start = -1;

	tool_name = "kconsole-producer";
	o.t.usage = usage;
	o.key_sep = strdup("\t");
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_TOPIC: o.topic = optarg; break;
		case O_PART:
			o.partition = tool_opt_i32("--partition", optarg, 0,
						   INT32_MAX);
			break;
		case O_PROP: reader_property(optarg); break;
		case O_PPROP:
			tool_property("--producer-property", optarg,
				      producer_property);
			break;
		case O_PCONF:
			tool_read_properties("--producer.config", optarg,
					     producer_property);
			break;
		case O_ACKS:
			o.acks = tool_parse_acks("--request-required-acks",
						 optarg);
			break;
		case O_CODEC:
			o.codec = tool_parse_codec("--compression-codec",
						   optarg ? optarg : "gzip");
			break;
		case O_BATCH:
			o.batch_records = tool_opt_i32("--batch-size", optarg,
						       1, INT32_MAX);
			break;
		case O_LINGER:
			o.linger_ms = tool_opt_i32("--timeout", optarg, 0,
						   INT32_MAX);
			break;
		case O_SYNC: o.sync = true; break;
		case O_RETRIES:
			o.retries = tool_opt_i32("--message-send-max-retries",
						 optarg, 0, INT32_MAX);
			break;
		case O_BACKOFF:
			o.retry_backoff_ms = tool_opt_i32("--retry-backoff-ms",
							  optarg, 0, INT32_MAX);
			break;
		case O_REQTO:
			o.request_timeout_ms = tool_opt_i32("--request-timeout-ms",
							    optarg, 1, INT32_MAX);
			break;
		}
	}
	tool_need_bootstrap_topic(&o.t, o.topic);
	if (o.sync)
		o.batch_records = 1;
	tool_cluster_open(&cl, o.t.bootstrap, o.client_id, o.t.timeout_ms);
	tool_producer_init(&p, &cl, o.topic);
	if (o.partition >= p.nparts)
		tool_usage_error("--partition %" PRId32 ": topic '%s' has %"
				 PRId32 " partitions", o.partition, o.topic,
				 p.nparts);
	p.acks = o.acks;
	p.codec = o.codec;
	p.retries = o.retries;
	p.retry_backoff_ms = o.retry_backoff_ms;
	p.request_timeout_ms = o.request_timeout_ms;
	for (;;) {
		char *nl;
		size_t used = 0;

		/* Every complete line in the buffer becomes a record. */
		while (used < in.len &&
		       (nl = memchr(in.buf + used, '\n', in.len - used)) != NULL) {
			bad_lines += produce_line(&p, in.buf + used,
						  (size_t)(nl - (in.buf + used)));
			used = (size_t)(nl - in.buf) + 1;
			if (tool_producer_pending(&p) >= o.batch_records)
				failed += tool_producer_flush(&p);
		}
		if (used > 0) {
			memmove(in.buf, in.buf + used, in.len - used);
			in.len -= used;
		}
		if (in.eof) {
			/* A last line without a newline still counts. */
			if (in.len > 0) {
				if (in.len == in.cap) {
					in.buf = realloc(in.buf, in.cap + 1);
					if (in.buf == NULL)
						tool_die("out of memory");
					in.cap++;
				}
				bad_lines += produce_line(&p, in.buf, in.len);
				in.len = 0;
			}
			break;
		}
		/* Records wait at most --timeout ms from the first of them. */
		if (tool_producer_pending(&p) > 0) {
			int64_t left;

			if (batch_start < 0)
				batch_start = tool_mono_ms();
			left = batch_start + o.linger_ms - tool_mono_ms();
			if (left <= 0 || !fill((int)left)) {
				failed += tool_producer_flush(&p);
				batch_start = -1;
			}
		} else {
			batch_start = -1;
			fill(-1);
		}
	}
	failed += tool_producer_flush(&p);
	tool_producer_free(&p);
	tool_cluster_close(&cl);
	free(in.buf);
	free(o.key_sep);
	if (failed > 0)
		tool_warn("%" PRId64 " records were not written", failed);
	return failed > 0 || bad_lines > 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}
