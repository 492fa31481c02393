/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kleader-election - move partition leadership back to the preferred
 * replica, or elect an out-of-sync replica of a partition that has no
 * leader, as Kafka's kafka-leader-election.sh.
 *
 * One ElectLeaders request (API 43) goes to the controller Metadata
 * names (our brokers hand it to the kcontroller daemon): the partitions of
 * --topic/--partition or of a JSON file, or null for every partition.
 * ElectLeaders v0 has no election type, so an unclean election needs v1.
 * The controller answers per partition: no error (elected),
 * ELECTION_NOT_NEEDED (the leader is already the one the election would
 * pick), or why it could not elect.  The output is Kafka's, with the
 * partitions sorted.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kp_errors.h"
#include "plan.h"
#include "tool.h"

#define MAX_JSON_FILE (64 << 20)

static struct {
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms (0: not
				 * given) */
	int election_type;	/* -1 not given, 0 preferred, 1 unclean */
	bool all;
	const char *topic;
	int32_t partition;	/* -1 not given */
	const char *json_file;
	const char *admin_config;
	bool json;
} o = { .election_type = -1, .partition = -1 };

static struct kp_arena arena;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kleader-election --bootstrap-server HOST:PORT[,...] --election-type TYPE\n"
		"                        (--all-topic-partitions | --topic T --partition P |\n"
		"                         --path-to-json-file F) [OPTIONS]\n"
		"Elect partition leaders: the preferred replica, or any live replica of a\n"
		"partition without a leader (unclean).\n"
		"\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --election-type TYPE      PREFERRED or UNCLEAN, any case (required)\n"
		"  --all-topic-partitions    every partition of the cluster\n"
		"  --topic NAME              the topic of the one partition (with --partition)\n"
		"  --partition N             the partition of --topic\n"
		"  --path-to-json-file FILE  the partitions, as {\"partitions\":\n"
		"                            [{\"topic\": \"t\", \"partition\": 0}, ...]}\n"
		"  --admin.config FILE       admin client properties (client.id, timeouts)\n"
		"  --json                    the results as one JSON document\n"
		"  --timeout-ms MS           how long the election may take (30000)\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 every partition was elected or needed no election,\n"
		"1 some partition could not be elected or the cluster failed, 2 bad usage.\n");
}

static const char *type_name(void)
{
	return o.election_type == 1 ? "UNCLEAN" : "PREFERRED";
}

/* ------------------------------------------------------------ request */

/* The request's partitions grouped by topic (plan sorted), or null. */
static void fill_request(struct kp_elect_leaders_req *req,
			 const struct plan *plan)
{
	struct kp_elect_leaders_req_topic_partitions *t;
	struct plan_topic *pt;
	int nt;

	kp_struct_init(&kp_elect_leaders_req_desc, req);
	req->election_type = (int8_t)o.election_type;
	req->timeout_ms = o.t.timeout_ms;
	if (plan == NULL) {
		req->topic_partitions = NULL;
		req->topic_partitions_count = -1;
		return;
	}
	pt = plan_by_topic(&arena, plan, &nt);
	t = kp_arena_calloc(&arena, (size_t)nt + 1, sizeof(*t));
	if (pt == NULL || t == NULL)
		tool_die("out of memory");
	for (int i = 0; i < nt; i++) {
		kp_struct_init(&kp_elect_leaders_req_topic_partitions_desc, &t[i]);
		t[i].topic = kp_str_c(pt[i].topic);
		t[i].partitions = pt[i].partitions;
		t[i].partitions_count = pt[i].nparts;
	}
	req->topic_partitions = t;
	req->topic_partitions_count = nt;
}

static bool all_not_controller(const struct kp_elect_leaders_resp *resp)
{
	int n = 0;

	if (resp->error_code == KP_ERR_NOT_CONTROLLER)
		return true;
	for (int i = 0; i < resp->replica_election_results_count; i++) {
		const struct kp_elect_leaders_resp_replica_election_result *r =
			&resp->replica_election_results[i];

		for (int j = 0; j < r->partition_result_count; j++) {
			if (r->partition_result[j].error_code != KP_ERR_NOT_CONTROLLER)
				return false;
			n++;
		}
	}
	return n > 0;
}

/*
 * Send the election to the controller; a controller that moved meanwhile
 * (NOT_CONTROLLER, or a lost connection) is looked up again until the
 * timeout.
 */
static void elect(struct tool_cluster *cl, const struct kp_elect_leaders_req *req,
		  struct kp_elect_leaders_resp *resp)
{
	struct tool_ctl r;
	int rc;

	tool_ctl_begin(&r, cl, KP_API_ELECT_LEADERS, "ElectLeaders");
	do {
		struct kp_conn *c = tool_ctl_conn(&r);
		int16_t v = kp_conn_pick_version(c, KP_API_ELECT_LEADERS);

		if (o.election_type == 1 && v < 1)
			tool_die("the controller (broker %" PRId32 ") speaks "
				 "ElectLeaders v0 only, which knows preferred "
				 "elections only", r.id);
		rc = kp_conn_call(c, KP_API_ELECT_LEADERS, v, req, resp, &arena);
		if (rc == -ETIMEDOUT) {
			/* Kafka's words on stdout, then the failure. */
			printf("Timeout waiting for election results\n");
			fflush(stdout);
			tool_die("ElectLeaders to broker %" PRId32 ": no answer "
				 "within the request timeout", r.id);
		}
	} while (!tool_ctl_done(&r, rc, rc == 0 && all_not_controller(resp)));
}

/* ------------------------------------------------------------- results */

struct result {
	const char *topic;
	int32_t partition;
	int16_t err;
	const char *message;	/* the controller's, or NULL */
};

static int cmp_result(const void *a, const void *b)
{
	const struct result *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c != 0 ? c : (x->partition > y->partition) -
			    (x->partition < y->partition);
}

/*
 * Flatten the answer; a requested partition the answer leaves out is a
 * failure of its own (Kafka's tool would silently skip it).
 */
static int collect(const struct kp_elect_leaders_resp *resp,
		   const struct plan *plan, struct result **out)
{
	struct result *v;
	int n = 0, cap = plan ? plan->nparts : 0;

	for (int i = 0; i < resp->replica_election_results_count; i++)
		cap += resp->replica_election_results[i].partition_result_count > 0 ?
		       resp->replica_election_results[i].partition_result_count : 0;
	v = kp_arena_calloc(&arena, (size_t)cap + 1, sizeof(*v));
	if (v == NULL)
		tool_die("out of memory");
	for (int i = 0; i < resp->replica_election_results_count; i++) {
		const struct kp_elect_leaders_resp_replica_election_result *r =
			&resp->replica_election_results[i];
		const char *topic = tool_str(&arena, r->topic);

		for (int j = 0; j < r->partition_result_count; j++) {
			const struct kp_elect_leaders_resp_partition_result *p =
				&r->partition_result[j];

			v[n].topic = topic;
			v[n].partition = p->partition_id;
			v[n].err = p->error_code;
			v[n].message = p->error_message.len <= 0 ? NULL :
				       tool_str(&arena, p->error_message);
			n++;
		}
	}
	for (int i = 0; plan != NULL && i < plan->nparts; i++) {
		bool found = false;

		for (int j = 0; j < n && !found; j++)
			found = v[j].partition == plan->parts[i].partition &&
				strcmp(v[j].topic, plan->parts[i].topic) == 0;
		if (found)
			continue;
		v[n].topic = plan->parts[i].topic;
		v[n].partition = plan->parts[i].partition;
		v[n].err = KP_ERR_UNKNOWN_SERVER_ERROR;
		v[n].message = "the controller's answer has no result for "
			       "this partition";
		n++;
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), cmp_result);
	*out = v;
	return n;
}

static void print_list(const char *head, const struct result *v, int n,
		       bool (*want)(const struct result *))
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!want(&v[i]))
			continue;
		printf("%s%s-%" PRId32, k++ ? ", " : head, v[i].topic,
		       v[i].partition);
	}
	if (k > 0)
		printf("\n");
}

static bool is_ok(const struct result *r)
{
	return r->err == 0;
}

static bool is_noop(const struct result *r)
{
	return r->err == KP_ERR_ELECTION_NOT_NEEDED;
}

static bool is_failed(const struct result *r)
{
	return !is_ok(r) && !is_noop(r);
}

static const char *failure_text(const struct result *r)
{
	static char buf[1024];

	if (r->message != NULL)
		snprintf(buf, sizeof(buf), "%s (%d): %s", kp_err_name(r->err),
			 r->err, r->message);
	else
		snprintf(buf, sizeof(buf), "%s", tool_err(r->err));
	return buf;
}

static int report(const struct result *v, int n)
{
	int failed = 0;

	for (int i = 0; i < n; i++)
		failed += is_failed(&v[i]);
	if (o.json) {
		json_t *ok = json_array(), *noop = json_array(),
		       *bad = json_array(), *doc;

		for (int i = 0; i < n; i++) {
			json_t *p = json_pack("{s:s, s:i}", "topic", v[i].topic,
					      "partition", v[i].partition);

			if (is_ok(&v[i])) {
				json_array_append_new(ok, p);
				continue;
			}
			if (is_noop(&v[i])) {
				json_array_append_new(noop, p);
				continue;
			}
			json_object_set_new(p, "error",
					    json_string(kp_err_name(v[i].err)));
			json_object_set_new(p, "error_code",
					    json_integer(v[i].err));
			json_object_set_new(p, "message", json_string(
				v[i].message ? v[i].message :
				kp_err_message(v[i].err)));
			json_array_append_new(bad, p);
		}
		doc = json_pack("{s:s, s:o, s:o, s:o}", "election_type",
				type_name(), "succeeded", ok, "not_needed",
				noop, "failed", bad);
		tool_print_json(stdout, doc);
		json_decref(doc);
	} else {
		char head[128];

		snprintf(head, sizeof(head), "Successfully completed leader "
			 "election (%s) for partitions ", type_name());
		print_list(head, v, n, is_ok);
		/* Kafka 2.8 prints the elected partitions here (a slip fixed
		 * later); these are the ones that needed no election. */
		print_list("Valid replica already elected for partitions ", v,
			   n, is_noop);
		for (int i = 0; i < n; i++)
			if (is_failed(&v[i]))
				printf("Error completing leader election (%s) "
				       "for partition: %s-%" PRId32 ": %s\n",
				       type_name(), v[i].topic, v[i].partition,
				       failure_text(&v[i]));
	}
	fflush(stdout);
	if (failed > 0) {
		tool_warn("%d replica(s) could not be elected", failed);
		return TOOL_EXIT_FAIL;
	}
	return TOOL_EXIT_OK;
}

/* --------------------------------------------------------------- main */

static int parse_type(const char *s)
{
	if (strcasecmp(s, "preferred") == 0)
		return 0;
	if (strcasecmp(s, "unclean") == 0)
		return 1;
	tool_usage_error("--election-type: '%s' is not PREFERRED or UNCLEAN",
			 s);
}

static void check_usage(void)
{
	int scope = (o.topic != NULL) + o.all + (o.json_file != NULL);

	if (o.t.bootstrap == NULL && o.election_type < 0)
		tool_usage_error("Missing required option(s): "
				 "--bootstrap-server, --election-type");
	if (o.t.bootstrap == NULL)
		tool_usage_error("Missing required option(s): "
				 "--bootstrap-server");
	if (o.election_type < 0)
		tool_usage_error("Missing required option(s): --election-type");
	if (scope != 1)
		tool_usage_error("One and only one of the following options is "
				 "required: --topic, --all-topic-partitions, "
				 "--path-to-json-file");
	if (o.topic != NULL && o.partition < 0)
		tool_usage_error("Missing required option(s): --partition");
	if (o.topic == NULL && o.partition >= 0)
		tool_usage_error("Option --partition is only allowed if --topic "
				 "is used");
}

int main(int argc, char **argv)
{
	enum {
		O_TYPE = 256, O_ALL, O_TOPIC, O_PART, O_FILE, O_ADMIN, O_JSON,
	};
	static const struct option opts[] = {
		{ "election-type", required_argument, NULL, O_TYPE },
		{ "all-topic-partitions", no_argument, NULL, O_ALL },
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "partition", required_argument, NULL, O_PART },
		{ "path-to-json-file", required_argument, NULL, O_FILE },
		{ "admin.config", required_argument, NULL, O_ADMIN },
		{ "json", no_argument, NULL, O_JSON },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_admin_config ac;
	struct tool_cluster cl;
	struct plan file_plan, one, *plan = NULL;
	struct plan_part one_part;
	struct kp_elect_leaders_req req;
	struct kp_elect_leaders_resp resp;
	struct result *results;
	int c, n, rc;

	tool_name = "kleader-election";
	o.t.usage = usage;
	kp_arena_init(&arena, 0);
	memset(&ac, 0, sizeof(ac));
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_TYPE: o.election_type = parse_type(optarg); break;
		case O_ALL: o.all = true; break;
		case O_TOPIC: o.topic = optarg; break;
		case O_PART:
			o.partition = tool_opt_i32("--partition", optarg, 0,
						   INT32_MAX);
			break;
		case O_FILE: o.json_file = optarg; break;
		case O_ADMIN: o.admin_config = optarg; break;
		case O_JSON: o.json = true; break;
		}
	}
	check_usage();
	if (o.admin_config != NULL)
		tool_read_admin_config("--admin.config", o.admin_config, &ac);
	if (o.t.timeout_ms == 0)
		o.t.timeout_ms = ac.api_timeout_ms > 0 ? ac.api_timeout_ms : 30000;
	/* The controller holds the answer until the election is done (or
	 * timeout_ms passed): wait a little longer than that for it. */
	if (ac.request_timeout_ms == 0)
		ac.request_timeout_ms = o.t.timeout_ms > INT32_MAX - 5000 ?
					INT32_MAX : o.t.timeout_ms + 5000;
	if (o.json_file != NULL) {
		char err[1024];
		size_t len;
		char *text = tool_read_file("--path-to-json-file", o.json_file,
					    MAX_JSON_FILE, &len);

		if (plan_parse_election(&arena, text, len, &file_plan, err,
					sizeof(err)) != 0)
			tool_die("%s: %s", o.json_file, err);
		free(text);
		plan = &file_plan;
	} else if (o.topic != NULL) {
		memset(&one_part, 0, sizeof(one_part));
		one_part.topic = o.topic;
		one_part.partition = o.partition;
		one.parts = &one_part;
		one.nparts = 1;
		plan = &one;
	}
	if (plan != NULL)
		plan_sort(plan);
	tool_cluster_open_admin(&cl, o.t.bootstrap, &ac, o.t.timeout_ms);
	fill_request(&req, plan);
	elect(&cl, &req, &resp);
	if (resp.error_code == KP_ERR_CLUSTER_AUTHORIZATION_FAILED)
		printf("Not authorized to perform leader election\n");
	if (resp.error_code != 0)
		tool_die("ElectLeaders: %s", tool_err(resp.error_code));
	n = collect(&resp, plan, &results);
	rc = report(results, n);
	tool_cluster_close(&cl);
	kp_arena_free(&arena);
	return rc;
}
