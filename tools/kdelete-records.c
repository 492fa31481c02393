/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kdelete-records - delete the records of partitions below an offset, as
 * Kafka's kafka-delete-records.sh.
 *
 * The offsets come from a JSON file, Kafka's format:
 *   {"partitions":[{"topic":"t","partition":0,"offset":10}],"version":1}
 * (offset -1: up to the high watermark).  One DeleteRecords request (API
 * 21) goes to each partition's leader, as Kafka's admin client sends it; a
 * partition whose leader moved meanwhile (NOT_LEADER_OR_FOLLOWER, or no
 * leader) is sent again to the new one until --timeout-ms passes.  The
 * output is Kafka's: a low_watermark or an error per partition.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_errors.h"
#include "tool.h"

#define MAX_JSON_FILE (64 << 20)

static struct {
	struct tool_opts t;
	const char *json_file;
	const char *command_config;
} o;

static struct kp_arena arena;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kdelete-records --bootstrap-server HOST:PORT[,...] --offset-json-file FILE\n"
		"                       [OPTIONS]\n"
		"Delete the records of partitions below the given offsets (the partitions'\n"
		"log start offsets move there on every replica).\n"
		"\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --offset-json-file FILE   the offsets, as {\"partitions\": [{\"topic\": \"t\",\n"
		"                            \"partition\": 0, \"offset\": 10}], \"version\": 1};\n"
		"                            offset -1 deletes up to the high watermark (required)\n"
		"  --command-config FILE     admin client properties (client.id, timeouts)\n"
		"  --timeout-ms MS           how long the deletion may take (30000)\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 every partition's records were deleted, 1 some partition\n"
		"failed or the cluster could not be reached, 2 bad usage.\n");
}

/* One partition of the file and what became of it. */
struct del {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int16_t err;		/* -1: not answered yet */
	int64_t low;
};

/* ---------------------------------------------------------- the file */

static int parse_file(const char *text, size_t len, struct del **out, int *n,
		      char *err, size_t errlen)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, 0, &je), *v, *parts;
	struct del *d;
	size_t i;

	if (doc == NULL || !json_is_object(doc)) {
		snprintf(err, errlen, "not a JSON object%s%s", doc ? "" : ": ",
			 doc ? "" : je.text);
		json_decref(doc);
		return -1;
	}
	v = json_object_get(doc, "version");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != 1)) {
		snprintf(err, errlen, "Not supported version field value %s",
			 json_is_integer(v) ? "other than 1" : "(not a number)");
		json_decref(doc);
		return -1;
	}
	parts = json_object_get(doc, "partitions");
	if (!json_is_array(parts)) {
		snprintf(err, errlen, "Missing partitions field");
		json_decref(doc);
		return -1;
	}
	d = kp_arena_calloc(&arena, json_array_size(parts) + 1, sizeof(*d));
	if (d == NULL)
		tool_die("out of memory");
	for (i = 0; i < json_array_size(parts); i++) {
		json_t *p = json_array_get(parts, i);
		json_t *t = json_object_get(p, "topic");
		json_t *pi = json_object_get(p, "partition");
		json_t *off = json_object_get(p, "offset");

		if (!json_is_object(p) || !json_is_string(t) || !json_is_integer(pi) ||
		    !json_is_integer(off) || json_integer_value(pi) < 0 ||
		    json_integer_value(pi) > INT32_MAX || json_integer_value(off) < -1 ||
		    json_string_length(t) == 0) {
			snprintf(err, errlen, "partitions[%zu]: needs \"topic\" (a "
				 "name), \"partition\" (0 or more) and \"offset\" "
				 "(-1 or more)", i);
			json_decref(doc);
			return -1;
		}
		d[i].topic = kp_arena_strndup(&arena, json_string_value(t),
					      json_string_length(t));
		if (d[i].topic == NULL)
			tool_die("out of memory");
		d[i].partition = (int32_t)json_integer_value(pi);
		d[i].offset = json_integer_value(off);
		d[i].err = -1;
		d[i].low = -1;
		for (size_t j = 0; j < i; j++)
			if (d[j].partition == d[i].partition &&
			    strcmp(d[j].topic, d[i].topic) == 0) {
				snprintf(err, errlen, "Offset json file contains "
					 "duplicate topic partitions: %s-%" PRId32,
					 d[i].topic, d[i].partition);
				json_decref(doc);
				return -1;
			}
	}
	*out = d;
	*n = (int)i;
	json_decref(doc);
	return 0;
}

/* ------------------------------------------------------------ requests */

static bool retriable(int16_t err)
{
	return err == KP_ERR_NOT_LEADER_OR_FOLLOWER || err == KP_ERR_LEADER_NOT_AVAILABLE ||
	       err == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION || err == -1;
}

/* One DeleteRecords to broker id with every unanswered partition it leads
 * (leader[] from the last metadata). */
static void send_to(struct tool_cluster *cl, int32_t id, struct del *d, int n,
		    const int32_t *leader)
{
	struct kp_delete_records_req req;
	struct kp_delete_records_resp resp;
	struct kp_delete_records_req_delete_records_topic *ts;
	struct kp_conn *c;
	int nt = 0;
	int rc;

	ts = kp_arena_calloc(&arena, (size_t)n + 1, sizeof(*ts));
	if (ts == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		struct kp_delete_records_req_delete_records_topic *t = NULL;
		struct kp_delete_records_req_delete_records_partition *p;

		if (leader[i] != id || !retriable(d[i].err))
			continue;
		for (int k = 0; k < nt && t == NULL; k++)
			if (strcmp(ts[k].name.ptr, d[i].topic) == 0)
				t = &ts[k];
		if (t == NULL) {
			t = &ts[nt++];
			kp_struct_init(&kp_delete_records_req_delete_records_topic_desc, t);
			t->name = kp_str_c(d[i].topic);
			t->partitions = kp_arena_calloc(&arena, (size_t)n,
							sizeof(*t->partitions));
			if (t->partitions == NULL)
				tool_die("out of memory");
		}
		p = &t->partitions[t->partitions_count++];
		kp_struct_init(&kp_delete_records_req_delete_records_partition_desc, p);
		p->partition_index = d[i].partition;
		p->offset = d[i].offset;
	}
	if (nt == 0)
		return;
	c = tool_broker_conn(cl, id);
	if (c == NULL)
		return;		/* warned; the next round asks again */
	tool_require_api(c, KP_API_DELETE_RECORDS, "kdelete-records");
	kp_struct_init(&kp_delete_records_req_desc, &req);
	req.topics = ts;
	req.topics_count = nt;
	req.timeout_ms = o.t.timeout_ms;
	rc = kp_conn_call(c, KP_API_DELETE_RECORDS,
			  kp_conn_pick_version(c, KP_API_DELETE_RECORDS), &req, &resp,
			  &arena);
	if (rc != 0) {
		tool_warn("DeleteRecords to broker %" PRId32 ": %s", id, strerror(-rc));
		tool_broker_drop(cl, id);
		return;
	}
	for (int i = 0; i < resp.topics_count; i++) {
		const struct kp_delete_records_resp_delete_records_topic_result *t =
			&resp.topics[i];

		for (int j = 0; j < t->partitions_count; j++) {
			const struct kp_delete_records_resp_delete_records_partition_result *p =
				&t->partitions[j];

			for (int k = 0; k < n; k++) {
				if (d[k].partition != p->partition_index ||
				    strlen(d[k].topic) != (size_t)t->name.len ||
				    memcmp(d[k].topic, t->name.ptr, (size_t)t->name.len) != 0)
					continue;
				d[k].err = p->error_code;
				d[k].low = p->low_watermark;
			}
		}
	}
}

static void delete_all(struct tool_cluster *cl, struct del *d, int n)
{
	int64_t deadline = tool_mono_ms() + o.t.timeout_ms;
	int32_t *leader = kp_arena_calloc(&arena, (size_t)n + 1, sizeof(*leader));
	const char **topics = kp_arena_calloc(&arena, (size_t)n + 1, sizeof(*topics));

	if (leader == NULL || topics == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++)
		topics[i] = d[i].topic;
	for (;;) {
		int left = 0;

		tool_metadata(cl, topics, n, false);
		for (int i = 0; i < n; i++) {
			leader[i] = tool_md_leader(cl, d[i].topic, d[i].partition);
			if (!retriable(d[i].err))
				continue;
			if (tool_md_topic(cl, d[i].topic) == NULL ||
			    tool_md_partition(tool_md_topic(cl, d[i].topic),
					      d[i].partition) == NULL)
				d[i].err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
			else if (leader[i] < 0)
				d[i].err = KP_ERR_LEADER_NOT_AVAILABLE;
		}
		for (int i = 0; i < n; i++) {
			bool first = true;

			for (int k = 0; k < i && first; k++)
				first = leader[k] != leader[i];
			if (leader[i] >= 0 && first)
				send_to(cl, leader[i], d, n, leader);
		}
		for (int i = 0; i < n; i++)
			left += retriable(d[i].err) && d[i].err != KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		if (left == 0 || tool_mono_ms() >= deadline)
			return;
		usleep(200 * 1000);
	}
}

/* Java's exception text for a partition's error, as the admin client's
 * future fails with it. */
static const char *error_text(int16_t err)
{
	static char buf[512];

	if (err == -1)
		err = KP_ERR_REQUEST_TIMED_OUT;
	snprintf(buf, sizeof(buf), "%s", tool_err(err));
	return buf;
}

int main(int argc, char **argv)
{
	enum { O_FILE = 256, O_CONFIG };
	static const struct option opts[] = {
		{ "offset-json-file", required_argument, NULL, O_FILE },
		{ "command-config", required_argument, NULL, O_CONFIG },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_admin_config ac;
	struct tool_cluster cl;
	struct del *d = NULL;
	char err[1024];
	size_t len;
	char *text;
	int c, n = 0, failed = 0;

	tool_name = "kdelete-records";
	o.t.usage = usage;
	kp_arena_init(&arena, 0);
	memset(&ac, 0, sizeof(ac));
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_FILE: o.json_file = optarg; break;
		case O_CONFIG: o.command_config = optarg; break;
		}
	}
	if (o.t.bootstrap == NULL && o.json_file == NULL)
		tool_usage_error("Missing required option(s): --bootstrap-server, "
				 "--offset-json-file");
	if (o.t.bootstrap == NULL)
		tool_usage_error("Missing required option(s): --bootstrap-server");
	if (o.json_file == NULL)
		tool_usage_error("Missing required option(s): --offset-json-file");
	if (o.command_config != NULL)
		tool_read_admin_config("--command-config", o.command_config, &ac);
	if (o.t.timeout_ms == 0)
		o.t.timeout_ms = ac.api_timeout_ms > 0 ? ac.api_timeout_ms : 30000;
	/* the leader holds the answer until the followers caught up (or the
	 * request's timeout): wait a little longer than that */
	if (ac.request_timeout_ms == 0)
		ac.request_timeout_ms = o.t.timeout_ms > INT32_MAX - 5000 ?
					INT32_MAX : o.t.timeout_ms + 5000;
	text = tool_read_file("--offset-json-file", o.json_file, MAX_JSON_FILE, &len);
	if (parse_file(text, len, &d, &n, err, sizeof(err)) != 0)
		tool_die("%s: %s", o.json_file, err);
	free(text);
	tool_cluster_open_admin(&cl, o.t.bootstrap, &ac, o.t.timeout_ms);
	printf("Executing records delete operation\n");
	fflush(stdout);
	delete_all(&cl, d, n);
	printf("Records delete operation completed:\n");
	for (int i = 0; i < n; i++) {
		if (d[i].err == 0) {
			printf("partition: %s-%" PRId32 "\tlow_watermark: %" PRId64 "\n",
			       d[i].topic, d[i].partition, d[i].low);
		} else {
			printf("partition: %s-%" PRId32 "\terror: %s\n", d[i].topic,
			       d[i].partition, error_text(d[i].err));
			failed++;
		}
	}
	fflush(stdout);
	tool_cluster_close(&cl);
	kp_arena_free(&arena);
	if (failed > 0) {
		tool_warn("%d partition(s) failed", failed);
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}
