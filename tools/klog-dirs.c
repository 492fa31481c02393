/* SPDX-License-Identifier: Apache-2.0 */
/*
 * klog-dirs - describe the brokers' log directories and the replicas in
 * them, as Kafka's kafka-log-dirs.sh --describe.
 *
 * DescribeLogDirs (API 35, every topic) goes to each broker of
 * --broker-list (default: every live broker); the answer is printed as
 * Kafka's tool prints it: two lines of progress, then one JSON line
 *   {"version":1,"brokers":[{"broker":0,"logDirs":[{"logDir":"/d",
 *    "error":null,"partitions":[{"partition":"t-0","size":123,
 *    "offsetLag":0,"isFuture":false}]}]}]}
 * with "error" the Java exception class Kafka names for the dir's error
 * (an offline dir: org.apache.kafka.common.errors.KafkaStorageException),
 * and the partitions limited to --topic-list when it is given.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kp_errors.h"
#include "tool.h"

static struct {
	struct tool_opts t;
	bool describe;
	const char *broker_list;
	const char *topic_list;
	const char *command_config;
} o;

static struct kp_arena arena;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: klog-dirs --describe --bootstrap-server HOST:PORT[,...] [OPTIONS]\n"
		"Describe the brokers' log directories: the replicas in each, their size,\n"
		"how far they lag and whether they are future replicas being moved there.\n"
		"\n"
		"  --describe                describe the log directories (required)\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --broker-list IDS         comma-separated broker ids to query\n"
		"                            (default: every broker)\n"
		"  --topic-list TOPICS       comma-separated topics to show (default: all)\n"
		"  --command-config FILE     admin client properties (client.id, timeouts)\n"
		"  --timeout-ms MS           how long to wait for the brokers (30000)\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 every broker answered, 1 a broker could not be queried,\n"
		"2 bad usage.\n");
}

/* The Java exception class Kafka's tool prints for a log dir's error. */
static const char *error_class(int16_t err)
{
	switch (err) {
	case KP_ERR_KAFKA_STORAGE_ERROR:
		return "org.apache.kafka.common.errors.KafkaStorageException";
	case KP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return "org.apache.kafka.common.errors.ClusterAuthorizationException";
	default:
		return "org.apache.kafka.common.errors.UnknownServerException";
	}
}

static bool topic_wanted(char **topics, int nt, kp_str name)
{
	if (topics == NULL)
		return true;
	for (int i = 0; i < nt; i++)
		if (strlen(topics[i]) == (size_t)name.len &&
		    memcmp(topics[i], name.ptr, (size_t)name.len) == 0)
			return true;
	return false;
}

/* One broker's log dirs as Kafka's JSON, or NULL when it cannot answer. */
static json_t *describe_broker(struct tool_cluster *cl, int32_t id, char **topics,
			       int nt)
{
	struct kp_describe_log_dirs_req req;
	struct kp_describe_log_dirs_resp resp;
	struct kp_conn *c = tool_broker_conn(cl, id);
	json_t *dirs;
	int rc;

	if (c == NULL)
		return NULL;
	tool_require_api(c, KP_API_DESCRIBE_LOG_DIRS, "klog-dirs");
	kp_struct_init(&kp_describe_log_dirs_req_desc, &req);
	req.topics = NULL;
	req.topics_count = -1;		/* every replica */
	rc = kp_conn_call(c, KP_API_DESCRIBE_LOG_DIRS,
			  kp_conn_pick_version(c, KP_API_DESCRIBE_LOG_DIRS), &req, &resp,
			  &arena);
	if (rc != 0) {
		tool_warn("DescribeLogDirs to broker %" PRId32 ": %s", id, strerror(-rc));
		return NULL;
	}
	dirs = json_array();
	for (int i = 0; i < resp.results_count; i++) {
		const struct kp_describe_log_dirs_resp_describe_log_dirs_result *r =
			&resp.results[i];
		json_t *parts = json_array(), *dir;

		for (int j = 0; j < r->topics_count; j++) {
			const struct kp_describe_log_dirs_resp_describe_log_dirs_topic *t =
				&r->topics[j];

			if (!topic_wanted(topics, nt, t->name))
				continue;
			for (int k = 0; k < t->partitions_count; k++) {
				const struct kp_describe_log_dirs_resp_describe_log_dirs_partition *p =
					&t->partitions[k];
				char name[512];

				snprintf(name, sizeof(name), "%.*s-%" PRId32,
					 (int)t->name.len, t->name.ptr, p->partition_index);
				json_array_append_new(parts, json_pack(
					"{s:s, s:I, s:I, s:b}", "partition", name,
					"size", (json_int_t)p->partition_size,
					"offsetLag", (json_int_t)p->offset_lag,
					"isFuture", p->is_future_key));
			}
		}
		dir = json_pack("{s:s%, s:o, s:o}", "logDir", r->log_dir.ptr,
				(size_t)(r->log_dir.len > 0 ? r->log_dir.len : 0), "error",
				r->error_code == 0 ? json_null()
						   : json_string(error_class(r->error_code)),
				"partitions", parts);
		json_array_append_new(dirs, dir);
	}
	return json_pack("{s:i, s:o}", "broker", id, "logDirs", dirs);
}

static int cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	enum { O_DESCRIBE = 256, O_BROKERS, O_TOPICS, O_CONFIG };
	static const struct option opts[] = {
		{ "describe", no_argument, NULL, O_DESCRIBE },
		{ "broker-list", required_argument, NULL, O_BROKERS },
		{ "topic-list", required_argument, NULL, O_TOPICS },
		{ "command-config", required_argument, NULL, O_CONFIG },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_admin_config ac;
	struct tool_cluster cl;
	char **topics = NULL;
	int32_t *ids;
	int nt = 0, nids = 0, failed = 0, c;
	json_t *brokers, *doc;
	char *line;

	tool_name = "klog-dirs";
	o.t.usage = usage;
	kp_arena_init(&arena, 0);
	memset(&ac, 0, sizeof(ac));
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_DESCRIBE: o.describe = true; break;
		case O_BROKERS: o.broker_list = optarg; break;
		case O_TOPICS: o.topic_list = optarg; break;
		case O_CONFIG: o.command_config = optarg; break;
		}
	}
	if (!o.describe)
		tool_usage_error("Command must include exactly one action: --describe");
	tool_need_bootstrap(&o.t);
	if (o.command_config != NULL)
		tool_read_admin_config("--command-config", o.command_config, &ac);
	if (o.t.timeout_ms == 0)
		o.t.timeout_ms = ac.api_timeout_ms > 0 ? ac.api_timeout_ms : 30000;
	if (o.topic_list != NULL && *o.topic_list != 0)
		topics = tool_split(&arena, o.topic_list, ',', &nt);
	tool_cluster_open_admin(&cl, o.t.bootstrap, &ac, o.t.timeout_ms);
	if (o.broker_list != NULL && *o.broker_list != 0) {
		char **v = tool_split(&arena, o.broker_list, ',', &nids);

		ids = kp_arena_calloc(&arena, (size_t)nids + 1, sizeof(*ids));
		if (ids == NULL)
			tool_die("out of memory");
		for (int i = 0; i < nids; i++)
			ids[i] = tool_opt_i32("--broker-list", v[i], 0, INT32_MAX);
	} else {
		nids = cl.nbrokers;
		ids = kp_arena_calloc(&arena, (size_t)nids + 1, sizeof(*ids));
		if (ids == NULL)
			tool_die("out of memory");
		for (int i = 0; i < nids; i++)
			ids[i] = cl.brokers[i].id;
		qsort(ids, (size_t)nids, sizeof(*ids), cmp_id);
	}
	printf("Querying brokers for log directories information\n");
	brokers = json_array();
	for (int i = 0; i < nids; i++) {
		json_t *b = tool_broker(&cl, ids[i]) != NULL
			    ? describe_broker(&cl, ids[i], topics, nt) : NULL;

		if (b == NULL) {
			tool_warn("broker %" PRId32 " could not be queried", ids[i]);
			failed++;
			continue;
		}
		json_array_append_new(brokers, b);
	}
	printf("Received log directory information from brokers ");
	for (int i = 0; i < nids; i++)
		printf("%s%" PRId32, i ? "," : "", ids[i]);
	printf("\n");
	doc = json_pack("{s:i, s:o}", "version", 1, "brokers", brokers);
	line = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line == NULL)
		tool_die("out of memory");
	printf("%s\n", line);
	free(line);
	json_decref(doc);
	fflush(stdout);
	tool_cluster_close(&cl);
	kp_arena_free(&arena);
	return failed > 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}
