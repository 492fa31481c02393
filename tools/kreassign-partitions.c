/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kreassign-partitions - move partition replicas between brokers, as
 * Kafka 2.8's kafka-reassign-partitions.sh (--bootstrap-server form) on
 * its JSON plan format.
 *
 *  --generate  proposes a placement of whole topics on a broker list with
 *              Kafka's (rack-aware) algorithm, kp_assign_replicas();
 *  --execute   checks a plan against the cluster, prints the current
 *              assignment for a rollback, optionally sets the replication
 *              throttles (IncrementalAlterConfigs), and starts the
 *              reassignment (AlterPartitionReassignments to the
 *              controller);
 *  --verify    compares the plan with what is going on
 *              (ListPartitionReassignments) and the replicas Metadata
 *              reports, and once no reassignment is left removes the
 *              throttles;
 *  --cancel    reverts the plan's partitions that are still moving;
 *  --list      prints every reassignment in progress.
 *
 * Plans, move map and throttle values are plan.c's.  A plan's log_dirs
 * other than "any" move replicas between a broker's log directories, as
 * Kafka's tool does: after the reassignment, --execute sends each such
 * replica's broker AlterReplicaLogDirs, again while the broker answers
 * REPLICA_NOT_AVAILABLE (the replica is not there yet) up to --timeout;
 * --verify reads the brokers' DescribeLogDirs to tell which moves are
 * done; --replica-alter-log-dirs-throttle sets those brokers'
 * replica.alter.log.dirs.io.max.bytes.per.second first.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp_assign.h"
#include "kp_errors.h"
#include "plan.h"
#include "tool.h"

/* --verify: some partition of the plan is still being reassigned. */
#define EXIT_IN_PROGRESS 3
#define MAX_JSON_FILE (64 << 20)

#define RES_TOPIC 2
#define RES_BROKER 4
#define OP_SET 0
#define OP_DELETE 1

static const char *const broker_throttles[] = {
	"leader.replication.throttled.rate",
	"follower.replication.throttled.rate",
	/* the log dir moves' (only cleared with the others) */
	"replica.alter.log.dirs.io.max.bytes.per.second",
};
static const char *const topic_throttles[] = {
	"leader.replication.throttled.replicas",
	"follower.replication.throttled.replicas",
};

enum action { NONE, GENERATE, EXECUTE, VERIFY, CANCEL, LIST };
static const char *const action_names[] = {
	"", "--generate", "--execute", "--verify", "--cancel", "--list",
};

/* Options, as bits, for Kafka's table of what goes with which action. */
enum {
	F_RJSON = 1 << 0, F_TJSON = 1 << 1, F_BLIST = 1 << 2,
	F_NORACK = 1 << 3, F_THROTTLE = 1 << 4, F_TIMEOUT = 1 << 5,
	F_ADDITIONAL = 1 << 6, F_PRESERVE = 1 << 7, F_LDTHROTTLE = 1 << 8,
};

static struct {
	enum action action;
	unsigned given;
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms (0: not
				 * given) */
	const char *command_config;
	const char *reassignment_file;
	const char *topics_file;
	const char *broker_list;
	bool disable_rack_aware;
	bool additional;
	bool preserve_throttles;
	bool json;
	int64_t throttle;	/* -1: none */
	int64_t ld_throttle;	/* --replica-alter-log-dirs-throttle; -1: none */
	int32_t timeout;	/* --timeout: the controller's time to act */
} o = { .throttle = -1, .ld_throttle = -1, .timeout = 10000 };

static struct tool_cluster cl;
static struct kp_arena arena;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kreassign-partitions --bootstrap-server HOST:PORT[,...] ACTION [OPTIONS]\n"
		"Move partition replicas between brokers.\n"
		"\n"
		"Actions (exactly one):\n"
		"  --generate                propose a placement of the topics of\n"
		"                            --topics-to-move-json-file on --broker-list\n"
		"  --execute                 start the reassignment of --reassignment-json-file\n"
		"  --verify                  report its progress; once done, remove throttles\n"
		"  --cancel                  revert the plan's partitions that are still moving\n"
		"  --list                    every reassignment in progress\n"
		"\n"
		"Options:\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --command-config FILE     admin client properties (client.id, timeouts)\n"
		"  --reassignment-json-file FILE  the plan: {\"version\":1,\"partitions\":\n"
		"                            [{\"topic\":\"t\",\"partition\":0,\"replicas\":[1,2]}]}\n"
		"                            with \"log_dirs\":[\"/data/a\",\"any\"]: per replica, the\n"
		"                            broker's log dir to move it to, or any\n"
		"  --topics-to-move-json-file FILE  {\"version\":1,\"topics\":[{\"topic\":\"t\"}]}\n"
		"  --broker-list IDS         generate: the brokers to place replicas on, 1,2,3\n"
		"  --disable-rack-aware      generate: ignore the brokers' racks\n"
		"  --throttle BYTES          execute: limit replication of the moving replicas\n"
		"                            to BYTES per second per broker\n"
		"  --replica-alter-log-dirs-throttle BYTES  execute: limit the log dir moves\n"
		"                            to BYTES per second per broker\n"
		"  --additional              execute: although other reassignments are going on\n"
		"  --timeout MS              execute, cancel: the controller's time to start or\n"
		"                            cancel the reassignment, and the brokers' to start\n"
		"                            the log dir moves (10000)\n"
		"  --preserve-throttles      verify, cancel: leave the throttles in place\n"
		"  --json                    machine-readable output\n"
		"  --timeout-ms MS           patience for the cluster (30000)\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 success (verify: every partition reassigned), 1 failure\n"
		"(verify: a replica list differs from the plan), 2 bad usage,\n"
		"3 verify: some partition is still being reassigned.\n");
}

/* ------------------------------------------------------------- helpers */

static void set_action(enum action a)
{
	if (o.action != NONE && o.action != a)
		tool_usage_error("Command must include exactly one action: "
				 "--generate, --execute, --verify, --cancel, "
				 "--list");
	o.action = a;
}

static void check_usage(void)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {
		{ F_RJSON, "--reassignment-json-file" },
		{ F_TJSON, "--topics-to-move-json-file" },
		{ F_BLIST, "--broker-list" },
		{ F_NORACK, "--disable-rack-aware" },
		{ F_THROTTLE, "--throttle" },
		{ F_TIMEOUT, "--timeout" },
		{ F_ADDITIONAL, "--additional" },
		{ F_PRESERVE, "--preserve-throttles" },
		{ F_LDTHROTTLE, "--replica-alter-log-dirs-throttle" },
	};
	/* Kafka's required and permitted options per action. */
	static const unsigned required[] = {
		[GENERATE] = F_TJSON | F_BLIST,
		[EXECUTE] = F_RJSON,
		[VERIFY] = F_RJSON,
		[CANCEL] = F_RJSON,
		[LIST] = 0,
	};
	static const unsigned permitted[] = {
		[GENERATE] = F_NORACK,
		[EXECUTE] = F_THROTTLE | F_TIMEOUT | F_ADDITIONAL | F_LDTHROTTLE,
		[VERIFY] = F_PRESERVE,
		[CANCEL] = F_PRESERVE | F_TIMEOUT,
		[LIST] = 0,
	};

	if (o.action == NONE)
		tool_usage_error("Command must include exactly one action: "
				 "--generate, --execute, --verify, --cancel, "
				 "--list");
	if (o.t.bootstrap == NULL)
		tool_usage_error("Please specify --bootstrap-server");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		unsigned fl = names[i].flag;

		if ((required[o.action] & fl) && !(o.given & fl))
			tool_usage_error("Missing required argument \"%s\"",
					 names[i].name);
		if ((o.given & fl) &&
		    !((required[o.action] | permitted[o.action]) & fl))
			tool_usage_error("Option \"%s\" can't be used with "
					 "action \"%s\"", names[i].name,
					 action_names[o.action]);
	}
}

/* Append to the NUL-terminated text in buf, truncating. */
static void appendf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t off = strnlen(buf, size);
	va_list ap;

	if (off + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, size - off, fmt, ap);
	va_end(ap);
}

static int32_t *arena_ids(const int32_t *v, int32_t n)
{
	int32_t *r = kp_arena_calloc(&arena, (size_t)(n > 0 ? n : 0) + 1,
				     sizeof(*r));

	if (r == NULL)
		tool_die("out of memory");
	if (n > 0)
		memcpy(r, v, (size_t)n * sizeof(*r));
	return r;
}

static void print_ids(FILE *f, const int32_t *v, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%" PRId32, i ? "," : "", v[i]);
}

static json_t *json_ids(const int32_t *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return a;
}

static const char *err_text(int16_t code, kp_str message)
{
	static char buf[1024];

	if (message.len > 0)
		snprintf(buf, sizeof(buf), "%s (%d): %.*s", kp_err_name(code),
			 code, message.len, message.ptr);
	else
		snprintf(buf, sizeof(buf), "%s", tool_err(code));
	return buf;
}

static struct plan load_plan(bool for_execute)
{
	struct plan plan;
	char err[2048];
	size_t len;
	char *text = tool_read_file("--reassignment-json-file",
				    o.reassignment_file, MAX_JSON_FILE, &len);

	if (plan_parse_reassignment(&arena, text, len, &plan, err,
				    sizeof(err)) != 0 ||
	    (for_execute && plan_check(&plan, err, sizeof(err)) != 0))
		tool_die("%s: %s", o.reassignment_file, err);
	free(text);
	plan_sort(&plan);
	return plan;
}

/* ---------------------------------------------------- cluster requests */

/*
 * A request to the active controller; NOT_CONTROLLER (*top_err, the
 * answer's top-level error) or a lost connection means asking Metadata
 * again, until the timeout.
 */
static void call_controller(int16_t api, const char *what, const void *req,
			    void *resp, const int16_t *top_err)
{
	struct tool_ctl r;
	int rc;

	tool_ctl_begin(&r, &cl, api, what);
	do {
		rc = kp_conn_call(tool_ctl_conn(&r), api, -1, req, resp, &arena);
	} while (!tool_ctl_done(&r, rc, rc == 0 &&
				  *top_err == KP_ERR_NOT_CONTROLLER));
}

/* An ongoing reassignment, copied out of the answer. */
struct ongoing {
	const char *topic;
	int32_t partition;
	int32_t *replicas, *adding, *removing;
	int nreplicas, nadding, nremoving;
};

static int cmp_ongoing(const void *a, const void *b)
{
	const struct ongoing *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c != 0 ? c : (x->partition > y->partition) -
			    (x->partition < y->partition);
}

/*
 * ListPartitionReassignments: every reassignment in progress (plan NULL)
 * or those of the plan's partitions; sorted.
 */
static int list_reassignments(const struct plan *plan, struct ongoing **out)
{
	struct kp_list_partition_reassignments_req req;
	struct kp_list_partition_reassignments_resp resp;
	struct ongoing *v;
	int n = 0, cap = 0;

	kp_struct_init(&kp_list_partition_reassignments_req_desc, &req);
	req.timeout_ms = o.timeout;
	req.topics = NULL;
	req.topics_count = -1;
	if (plan != NULL) {
		struct kp_list_partition_reassignments_req_list_partition_reassignments_topics *t;
		int nt;
		struct plan_topic *pt = plan_by_topic(&arena, plan, &nt);

		t = kp_arena_calloc(&arena, (size_t)nt + 1, sizeof(*t));
		if (pt == NULL || t == NULL)
			tool_die("out of memory");
		for (int i = 0; i < nt; i++) {
			kp_struct_init(&kp_list_partition_reassignments_req_list_partition_reassignments_topics_desc,
				       &t[i]);
			t[i].name = kp_str_c(pt[i].topic);
			t[i].partition_indexes = pt[i].partitions;
			t[i].partition_indexes_count = pt[i].nparts;
		}
		req.topics = t;
		req.topics_count = nt;
	}
	call_controller(KP_API_LIST_PARTITION_REASSIGNMENTS,
			"ListPartitionReassignments", &req, &resp,
			&resp.error_code);
	if (resp.error_code != 0)
		tool_die("ListPartitionReassignments: %s",
			 err_text(resp.error_code, resp.error_message));
	for (int i = 0; i < resp.topics_count; i++)
		cap += resp.topics[i].partitions_count > 0 ?
		       resp.topics[i].partitions_count : 0;
	v = kp_arena_calloc(&arena, (size_t)cap + 1, sizeof(*v));
	if (v == NULL)
		tool_die("out of memory");
	for (int i = 0; i < resp.topics_count; i++) {
		const struct kp_list_partition_reassignments_resp_ongoing_topic_reassignment *t =
			&resp.topics[i];
		const char *topic = tool_str(&arena, t->name);

		for (int j = 0; j < t->partitions_count; j++) {
			const struct kp_list_partition_reassignments_resp_ongoing_partition_reassignment *p =
				&t->partitions[j];
			struct ongoing *g = &v[n++];

			g->topic = topic;
			g->partition = p->partition_index;
			g->replicas = arena_ids(p->replicas, p->replicas_count);
			g->nreplicas = p->replicas_count > 0 ? p->replicas_count : 0;
			g->adding = arena_ids(p->adding_replicas,
					      p->adding_replicas_count);
			g->nadding = p->adding_replicas_count > 0 ?
				     p->adding_replicas_count : 0;
			g->removing = arena_ids(p->removing_replicas,
						p->removing_replicas_count);
			g->nremoving = p->removing_replicas_count > 0 ?
				       p->removing_replicas_count : 0;
		}
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), cmp_ongoing);
	*out = v;
	return n;
}

static const struct ongoing *find_ongoing(const struct ongoing *v, int n,
					  const char *topic, int32_t partition)
{
	for (int i = 0; i < n; i++)
		if (v[i].partition == partition && strcmp(v[i].topic, topic) == 0)
			return &v[i];
	return NULL;
}

/* The distinct topics of a sorted plan. */
static const char **plan_topics(const struct plan *plan, int *n)
{
	const char **t = kp_arena_calloc(&arena, (size_t)plan->nparts + 1,
					 sizeof(*t));

	if (t == NULL)
		tool_die("out of memory");
	*n = 0;
	for (int i = 0; i < plan->nparts; i++)
		if (*n == 0 || strcmp(t[*n - 1], plan->parts[i].topic) != 0)
			t[(*n)++] = plan->parts[i].topic;
	return t;
}

static int cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* The live brokers of the last Metadata (copied). */
static int32_t *copy_brokers(int *n)
{
	int32_t *v = kp_arena_calloc(&arena, (size_t)cl.nbrokers + 1,
				     sizeof(*v));

	if (v == NULL)
		tool_die("out of memory");
	for (int i = 0; i < cl.nbrokers; i++)
		v[i] = cl.brokers[i].id;
	*n = cl.nbrokers;
	return v;
}

/*
 * The replicas Metadata reports now for each partition of the plan
 * (copied: the next Metadata frees the answer); NULL where the topic or
 * the partition does not exist.  Also the live brokers.
 */
struct current {
	int32_t *replicas;	/* NULL: no such partition */
	int n;
};

static struct current *current_replicas(const struct plan *plan,
					int32_t **live, int *nlive)
{
	struct current *cur = kp_arena_calloc(&arena, (size_t)plan->nparts + 1,
					      sizeof(*cur));
	int nt;
	const char **topics = plan_topics(plan, &nt);

	if (cur == NULL)
		tool_die("out of memory");
	tool_metadata(&cl, topics, nt, false);
	for (int i = 0; i < plan->nparts; i++) {
		const struct kp_metadata_resp_metadata_response_topic *t =
			tool_md_topic(&cl, plan->parts[i].topic);
		const struct kp_metadata_resp_metadata_response_partition *p;

		if (t == NULL || t->error_code != 0)
			continue;
		p = tool_md_partition(t, plan->parts[i].partition);
		if (p == NULL)
			continue;
		cur[i].replicas = arena_ids(p->replica_nodes,
					    p->replica_nodes_count);
		cur[i].n = p->replica_nodes_count > 0 ? p->replica_nodes_count : 0;
	}
	/* This Metadata named the live brokers too. */
	*live = copy_brokers(nlive);
	return cur;
}

static bool has_id(const int32_t *v, int n, int32_t x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/*
 * IncrementalAlterConfigs of one resource: SET names[i] to values[i], or
 * DELETE them when values is NULL.  A topic's settings go to the
 * bootstrap broker; a broker's to that broker, which alone takes them
 * (Kafka's rule).  A broker that is down cannot: false, with a warning,
 * and its settings stay as they are.
 */
static bool alter_configs(int8_t type, const char *name,
			  const char *const *names, const char *const *values,
			  int n)
{
	struct kp_incremental_alter_configs_req req;
	struct kp_incremental_alter_configs_req_alter_configs_resource res;
	struct kp_incremental_alter_configs_req_alterable_config *cfg;
	struct kp_incremental_alter_configs_resp resp;
	struct kp_conn *c = cl.boot;
	char what[300];

	if (type == RES_BROKER) {
		int64_t id;

		if (!tool_parse_i64(name, 0, INT32_MAX, &id))
			tool_die("'%s' is not a broker id", name);
		c = tool_broker(&cl, (int32_t)id) != NULL ?
		    tool_broker_conn(&cl, (int32_t)id) : NULL;
		if (c == NULL) {
			tool_warn("broker %s is not alive: its throttle settings "
				  "are left as they are", name);
			return false;
		}
	}
	snprintf(what, sizeof(what), "IncrementalAlterConfigs of %s %s",
		 type == RES_BROKER ? "broker" : "topic", name);
	tool_require_api(c, KP_API_INCREMENTAL_ALTER_CONFIGS, "broker");
	cfg = kp_arena_calloc(&arena, (size_t)n, sizeof(*cfg));
	if (cfg == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		kp_struct_init(&kp_incremental_alter_configs_req_alterable_config_desc,
			       &cfg[i]);
		cfg[i].name = kp_str_c(names[i]);
		cfg[i].config_operation = values ? OP_SET : OP_DELETE;
		cfg[i].value = values ? kp_str_c(values[i]) : KP_STR_NULL;
	}
	kp_struct_init(&kp_incremental_alter_configs_req_alter_configs_resource_desc,
		       &res);
	res.resource_type = type;
	res.resource_name = kp_str_c(name);
	res.configs = cfg;
	res.configs_count = n;
	kp_struct_init(&kp_incremental_alter_configs_req_desc, &req);
	req.resources = &res;
	req.resources_count = 1;
	req.validate_only = false;
	tool_call(c, KP_API_INCREMENTAL_ALTER_CONFIGS, &req, &resp, &arena,
		  what);
	if (resp.responses_count != 1)
		tool_die("%s: %d results for one resource", what,
			 resp.responses_count);
	if (resp.responses[0].error_code != 0)
		tool_die("%s: %s", what, err_text(resp.responses[0].error_code,
						  resp.responses[0].error_message));
	return true;
}

/*
 * Kafka's clearAllThrottles: the broker throttles of every live broker
 * and every broker of the plan, the topic throttles of the plan's
 * topics; replica.alter.log.dirs.io.max.bytes.per.second too
 * (--replica-alter-log-dirs-throttle).
 */
static json_t *clear_throttles(const struct plan *plan)
{
	int32_t *brokers, *live;
	int nb = 0, nlive, nt, cap = 0;
	const char **topics = plan_topics(plan, &nt);
	json_t *jb = json_array(), *jt = json_array();

	tool_metadata(&cl, NULL, 0, false);
	live = copy_brokers(&nlive);
	for (int i = 0; i < plan->nparts; i++)
		cap += plan->parts[i].nreplicas;
	brokers = kp_arena_calloc(&arena, (size_t)nlive + (size_t)cap + 1,
				  sizeof(*brokers));
	if (brokers == NULL)
		tool_die("out of memory");
	for (int i = 0; i < nlive; i++)
		if (!has_id(brokers, nb, live[i]))
			brokers[nb++] = live[i];
	for (int i = 0; i < plan->nparts; i++)
		for (int j = 0; j < plan->parts[i].nreplicas; j++)
			if (!has_id(brokers, nb, plan->parts[i].replicas[j]))
				brokers[nb++] = plan->parts[i].replicas[j];
	qsort(brokers, (size_t)nb, sizeof(*brokers), cmp_id);
	if (!o.json) {
		printf("Clearing broker-level throttles on broker%s ",
		       nb == 1 ? "" : "s");
		print_ids(stdout, brokers, nb);
		printf("\n");
	}
	for (int i = 0; i < nb; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%" PRId32, brokers[i]);
		if (alter_configs(RES_BROKER, name, broker_throttles, NULL, 3))
			json_array_append_new(jb, json_integer(brokers[i]));
	}
	if (!o.json) {
		printf("Clearing topic-level throttles on topic%s ",
		       nt == 1 ? "" : "s");
		for (int i = 0; i < nt; i++)
			printf("%s%s", i ? "," : "", topics[i]);
		printf("\n");
	}
	for (int i = 0; i < nt; i++) {
		alter_configs(RES_TOPIC, topics[i], topic_throttles, NULL, 2);
		json_array_append_new(jt, json_string(topics[i]));
	}
	return json_pack("{s:o, s:o}", "brokers", jb, "topics", jt);
}

/* ------------------------------------------------------------ generate */

static int32_t *parse_broker_list(int *n)
{
	char **s = tool_split(&arena, o.broker_list, ',', n);
	int32_t *v = kp_arena_calloc(&arena, (size_t)*n + 1, sizeof(*v));
	char dups[512] = "";

	if (v == NULL)
		tool_die("out of memory");
	if (*n == 0)
		tool_usage_error("--broker-list: no broker given");
	for (int i = 0; i < *n; i++)
		v[i] = tool_opt_i32("--broker-list", s[i], 0, INT32_MAX);
	/* Each broker listed more than once, once, in order. */
	for (int i = 0; i < *n; i++) {
		bool first = true, twice = false;

		for (int j = 0; j < *n; j++) {
			if (v[j] != v[i])
				continue;
			first = first && j >= i;
			twice = twice || j != i;
		}
		if (twice && first)
			appendf(dups, sizeof(dups), "%s%" PRId32,
				dups[0] ? "," : "", v[i]);
	}
	if (dups[0] != '\0')
		tool_usage_error("Broker list contains duplicate entries: %s",
				 dups);
	return v;
}

/* The topics of --topics-to-move-json-file. */
static const char **load_topics(int *n)
{
	const char **topics;
	char err[1024];
	size_t len;
	char *text = tool_read_file("--topics-to-move-json-file",
				    o.topics_file, MAX_JSON_FILE, &len);

	if (plan_parse_topics(&arena, text, len, &topics, n, err,
			      sizeof(err)) != 0)
		tool_die("%s: %s", o.topics_file, err);
	free(text);
	return topics;
}

static int do_generate(const char **topics, int ntopics, const int32_t *list,
		       int nlist)
{
	int nb = 0, nrack = 0, cap = 0;
	char err[1024];
	struct kp_assign_broker *brokers;
	struct plan cur = { 0 }, prop = { 0 };

	tool_metadata(&cl, topics, ntopics, false);
	/* Kafka leaves out the listed brokers the cluster does not know. */
	brokers = kp_arena_calloc(&arena, (size_t)nlist + 1, sizeof(*brokers));
	if (brokers == NULL)
		tool_die("out of memory");
	for (int i = 0; i < nlist; i++) {
		struct tool_broker *b = tool_broker(&cl, list[i]);

		if (b == NULL) {
			tool_warn("broker %" PRId32 " is not in the cluster; "
				  "left out", list[i]);
			continue;
		}
		brokers[nb].id = b->id;
		brokers[nb].rack = o.disable_rack_aware || b->rack == NULL ?
				   NULL : tool_str(&arena, kp_str_c(b->rack));
		nrack += brokers[nb].rack != NULL;
		nb++;
	}
	if (nrack != 0 && nrack != nb)
		tool_die("Not all brokers have rack information. Add "
			 "--disable-rack-aware in command line to make replica "
			 "assignment without rack information.");
	for (int i = 0; i < ntopics; i++) {
		const struct kp_metadata_resp_metadata_response_topic *t =
			tool_md_topic(&cl, topics[i]);

		if (t == NULL || t->error_code != 0)
			tool_die("topic '%s': %s", topics[i],
				 tool_err(t ? t->error_code :
					  KP_ERR_UNKNOWN_TOPIC_OR_PARTITION));
		cap += t->partitions_count > 0 ? t->partitions_count : 0;
	}
	cur.parts = kp_arena_calloc(&arena, (size_t)cap + 1, sizeof(*cur.parts));
	prop.parts = kp_arena_calloc(&arena, (size_t)cap + 1, sizeof(*prop.parts));
	if (cur.parts == NULL || prop.parts == NULL)
		tool_die("out of memory");
	for (int i = 0; i < ntopics; i++) {
		const struct kp_metadata_resp_metadata_response_topic *t =
			tool_md_topic(&cl, topics[i]);
		int32_t np = t->partitions_count, rf = 0, first = INT32_MAX;
		int32_t *out;

		if (np <= 0)
			continue;
		for (int p = 0; p < np; p++) {
			struct plan_part *c = &cur.parts[cur.nparts++];

			c->topic = topics[i];
			c->partition = t->partitions[p].partition_index;
			c->replicas = arena_ids(t->partitions[p].replica_nodes,
						t->partitions[p].replica_nodes_count);
			c->nreplicas = t->partitions[p].replica_nodes_count > 0 ?
				       t->partitions[p].replica_nodes_count : 0;
			/* The replication factor: Kafka takes one partition's
			 * replica count (the head of a hash map); partition
			 * 0's here. */
			if (c->partition < first) {
				first = c->partition;
				rf = c->nreplicas;
			}
		}
		out = kp_arena_calloc(&arena, (size_t)np * (size_t)(rf > 0 ? rf : 1),
				      sizeof(*out));
		if (out == NULL)
			tool_die("out of memory");
		if (kp_assign_replicas(brokers, nb, np, rf, -1, 0, out, err,
				       sizeof(err)) != 0)
			tool_die("cannot place topic '%s': %s", topics[i], err);
		for (int p = 0; p < np; p++) {
			struct plan_part *q = &prop.parts[prop.nparts++];

			q->topic = topics[i];
			q->partition = p;
			q->replicas = &out[(size_t)p * (size_t)rf];
			q->nreplicas = rf;
		}
	}
	if (o.json) {
		json_t *doc = json_pack("{s:o, s:o}", "current",
					plan_to_json(&cur), "proposed",
					plan_to_json(&prop));

		tool_print_json(stdout, doc);
		json_decref(doc);
	} else {
		char *c = plan_to_text(&cur), *p = plan_to_text(&prop);

		if (c == NULL || p == NULL)
			tool_die("out of memory");
		printf("Current partition replica assignment\n%s\n\n"
		       "Proposed partition reassignment configuration\n%s\n",
		       c, p);
		free(c);
		free(p);
	}
	return TOOL_EXIT_OK;
}

/* ------------------------------------------------------------- execute */

static void print_parts(FILE *f, const struct plan *plan, const char *sep)
{
	for (int i = 0; i < plan->nparts; i++)
		fprintf(f, "%s%s-%" PRId32, i ? sep : "", plan->parts[i].topic,
			plan->parts[i].partition);
}

/* The topic and broker throttles of Kafka's move map. */
static void set_throttles(const struct plan *plan, const struct current *cur,
			  const struct ongoing *og, int nog)
{
	struct plan_moves m;
	const char **topics;
	int32_t *brokers;
	int nt, nb;
	char rate[32];
	const char *rates[2] = { rate, rate };

	plan_moves_init(&m);
	for (int i = 0; i < nog; i++)
		if (plan_moves_ongoing(&m, og[i].topic, og[i].partition,
				       og[i].replicas, og[i].nreplicas,
				       og[i].adding, og[i].nadding) != 0)
			tool_die("out of memory");
	for (int i = 0; i < plan->nparts; i++)
		if (plan_moves_propose(&m, plan->parts[i].topic,
				       plan->parts[i].partition,
				       plan->parts[i].replicas,
				       plan->parts[i].nreplicas,
				       cur[i].replicas, cur[i].n) != 0)
			tool_die("out of memory");
	nt = plan_moves_topics(&m, &topics);
	nb = plan_moves_brokers(&m, &brokers);
	if (nt < 0 || nb < 0)
		tool_die("out of memory");
	for (int i = 0; i < nt; i++) {
		char *lead = plan_moves_throttle(&m, topics[i], true);
		char *follow = plan_moves_throttle(&m, topics[i], false);
		const char *values[2] = { lead, follow };

		if (lead == NULL || follow == NULL)
			tool_die("out of memory");
		alter_configs(RES_TOPIC, topics[i], topic_throttles, values, 2);
		free(lead);
		free(follow);
	}
	snprintf(rate, sizeof(rate), "%" PRId64, o.throttle);
	for (int i = 0; i < nb; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%" PRId32, brokers[i]);
		alter_configs(RES_BROKER, name, broker_throttles, rates, 2);
	}
	if (!o.json)
		printf("The inter-broker throttle limit was set to %" PRId64
		       " B/s\n", o.throttle);
	free(topics);
	free(brokers);
	plan_moves_free(&m);
}

/* AlterPartitionReassignments: targets, or cancel (replicas null). */
static int alter_reassignments(const struct plan *plan, bool cancel,
			       const char *fail_head)
{
	struct kp_alter_partition_reassignments_req req;
	struct kp_alter_partition_reassignments_resp resp;
	struct kp_alter_partition_reassignments_req_reassignable_topic *t;
	struct kp_alter_partition_reassignments_req_reassignable_partition *rp;
	int nt, nerr = 0;
	struct plan_topic *pt = plan_by_topic(&arena, plan, &nt);

	t = kp_arena_calloc(&arena, (size_t)nt + 1, sizeof(*t));
	rp = kp_arena_calloc(&arena, (size_t)plan->nparts + 1, sizeof(*rp));
	if (pt == NULL || t == NULL || rp == NULL)
		tool_die("out of memory");
	for (int i = 0; i < nt; i++) {
		kp_struct_init(&kp_alter_partition_reassignments_req_reassignable_topic_desc,
			       &t[i]);
		t[i].name = kp_str_c(pt[i].topic);
		t[i].partitions = rp;
		t[i].partitions_count = pt[i].nparts;
		for (int j = 0; j < pt[i].nparts; j++, rp++) {
			const struct plan_part *p = &pt[i].parts[j];

			kp_struct_init(&kp_alter_partition_reassignments_req_reassignable_partition_desc,
				       rp);
			rp->partition_index = p->partition;
			rp->replicas = cancel ? NULL : p->replicas;
			rp->replicas_count = cancel ? -1 : p->nreplicas;
		}
	}
	kp_struct_init(&kp_alter_partition_reassignments_req_desc, &req);
	req.timeout_ms = o.timeout;
	req.topics = t;
	req.topics_count = nt;
	call_controller(KP_API_ALTER_PARTITION_REASSIGNMENTS,
			"AlterPartitionReassignments", &req, &resp,
			&resp.error_code);
	if (resp.error_code != 0)
		tool_die("AlterPartitionReassignments: %s",
			 err_text(resp.error_code, resp.error_message));
	for (int i = 0; i < resp.responses_count; i++) {
		const struct kp_alter_partition_reassignments_resp_reassignable_topic_response *r =
			&resp.responses[i];

		for (int j = 0; j < r->partitions_count; j++) {
			const struct kp_alter_partition_reassignments_resp_reassignable_partition_response *p =
				&r->partitions[j];

			if (p->error_code == 0)
				continue;
			if (nerr++ == 0)
				fprintf(stderr, "%s\n", fail_head);
			fprintf(stderr, "%.*s-%" PRId32 ": %s\n", r->name.len,
				r->name.ptr, p->partition_index,
				err_text(p->error_code, p->error_message));
		}
	}
	return nerr;
}

/* ------------------------------------------------------ log dir moves */

/* One replica that must live in a given log dir of its broker. */
struct dir_move {
	const char *topic;
	int32_t partition;
	int32_t broker;
	const char *dir;
	bool started;
};

static int collect_dir_moves(const struct plan *plan, struct dir_move **out)
{
	int n = 0, k = 0;
	struct dir_move *v;

	for (int i = 0; i < plan->nparts; i++)
		for (int j = 0; plan->parts[i].log_dir_moves &&
				j < plan->parts[i].nreplicas; j++)
			n += plan->parts[i].log_dirs[j] != NULL;
	v = kp_arena_calloc(&arena, (size_t)n + 1, sizeof(*v));
	if (v == NULL)
		tool_die("out of memory");
	for (int i = 0; i < plan->nparts; i++)
		for (int j = 0; plan->parts[i].log_dir_moves &&
				j < plan->parts[i].nreplicas; j++) {
			if (plan->parts[i].log_dirs[j] == NULL)
				continue;
			v[k].topic = plan->parts[i].topic;
			v[k].partition = plan->parts[i].partition;
			v[k].broker = plan->parts[i].replicas[j];
			v[k].dir = plan->parts[i].log_dirs[j];
			k++;
		}
	*out = v;
	return n;
}

/* AlterReplicaLogDirs for one replica: the broker's error code. */
static int16_t alter_dir(const struct dir_move *m)
{
	struct kp_alter_replica_log_dirs_req req;
	struct kp_alter_replica_log_dirs_resp resp;
	struct kp_alter_replica_log_dirs_req_alter_replica_log_dir d;
	struct kp_alter_replica_log_dirs_req_alter_replica_log_dir_topic t;
	int32_t part = m->partition;
	struct kp_conn *c = tool_broker_conn(&cl, m->broker);

	if (c == NULL)
		return KP_ERR_BROKER_NOT_AVAILABLE;
	tool_require_api(c, KP_API_ALTER_REPLICA_LOG_DIRS, "kreassign-partitions");
	kp_struct_init(&kp_alter_replica_log_dirs_req_desc, &req);
	kp_struct_init(&kp_alter_replica_log_dirs_req_alter_replica_log_dir_desc, &d);
	kp_struct_init(&kp_alter_replica_log_dirs_req_alter_replica_log_dir_topic_desc, &t);
	t.name = kp_str_c(m->topic);
	t.partitions = &part;
	t.partitions_count = 1;
	d.path = kp_str_c(m->dir);
	d.topics = &t;
	d.topics_count = 1;
	req.dirs = &d;
	req.dirs_count = 1;
	tool_call(c, KP_API_ALTER_REPLICA_LOG_DIRS, &req, &resp, &arena,
		  "AlterReplicaLogDirs");
	for (int32_t i = 0; i < resp.results_count; i++)
		for (int32_t j = 0; j < resp.results[i].partitions_count; j++)
			if (resp.results[i].partitions[j].partition_index == part)
				return resp.results[i].partitions[j].error_code;
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

static void print_replica(FILE *f, const struct dir_move *m)
{
	/* Kafka's TopicPartitionReplica: broker-topic-partition */
	fprintf(f, "%" PRId32 "-%s-%" PRId32, m->broker, m->topic, m->partition);
}

/* Kafka's executeMoves: every replica's broker accepts its move, or the
 * tool fails. */
static json_t *execute_dir_moves(const struct plan *plan)
{
	struct dir_move *v;
	int n = collect_dir_moves(plan, &v), left = n;
	int64_t deadline = tool_mono_ms() + o.timeout;
	json_t *started = json_array();

	/* Kafka's modifyLogDirThrottle: on every broker with a move */
	for (int i = 0; o.ld_throttle >= 0 && i < n; i++) {
		static const char *const key[] = {
			"replica.alter.log.dirs.io.max.bytes.per.second" };
		char name[16], val[32];
		const char *vals[1] = { val };
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen |= v[j].broker == v[i].broker;
		if (seen)
			continue;
		snprintf(name, sizeof(name), "%" PRId32, v[i].broker);
		snprintf(val, sizeof(val), "%" PRId64, o.ld_throttle);
		alter_configs(RES_BROKER, name, key, vals, 1);
		if (!o.json)
			printf("The replica-alter-dir throttle limit was set to %" PRId64
			       " B/s on broker %s\n", o.ld_throttle, name);
	}

	while (left > 0) {
		for (int i = 0; i < n; i++) {
			int16_t err;

			if (v[i].started)
				continue;
			err = alter_dir(&v[i]);
			if (err == 0) {
				v[i].started = true;
				left--;
				json_array_append_new(started, json_pack(
					"{s:s, s:i, s:i, s:s}", "topic", v[i].topic,
					"partition", v[i].partition, "broker",
					v[i].broker, "log_dir", v[i].dir));
			} else if (err != KP_ERR_REPLICA_NOT_AVAILABLE) {
				fprintf(stderr, "Failed to alter dir for ");
				print_replica(stderr, &v[i]);
				fprintf(stderr, " to %s: %s\n", v[i].dir, tool_err(err));
				exit(TOOL_EXIT_FAIL);
			}
		}
		if (left == 0)
			break;
		if (tool_mono_ms() > deadline) {
			fprintf(stderr, "Timed out before log directory replica "
				"movement could be started:");
			for (int i = 0; i < n; i++)
				if (!v[i].started) {
					fputc(' ', stderr);
					print_replica(stderr, &v[i]);
				}
			fputc('\n', stderr);
			exit(TOOL_EXIT_FAIL);
		}
		usleep(100 * 1000);
	}
	if (n > 0 && !o.json) {
		printf("Successfully started log directory move%s for: ",
		       n == 1 ? "" : "s");
		for (int i = 0; i < n; i++) {
			if (i > 0)
				printf(",");
			print_replica(stdout, &v[i]);
		}
		printf("\n");
	}
	return started;
}

/* Where a replica lives on its broker now and where it is being copied
 * to (NULL: none), from DescribeLogDirs. */
static void replica_dirs(const struct dir_move *m, const char **cur,
			 const char **fut)
{
	struct kp_describe_log_dirs_req req;
	struct kp_describe_log_dirs_resp resp;
	struct kp_conn *c = tool_broker_conn(&cl, m->broker);

	*cur = *fut = NULL;
	if (c == NULL)
		return;
	tool_require_api(c, KP_API_DESCRIBE_LOG_DIRS, "kreassign-partitions");
	kp_struct_init(&kp_describe_log_dirs_req_desc, &req);
	req.topics_count = -1;
	tool_call(c, KP_API_DESCRIBE_LOG_DIRS, &req, &resp, &arena, "DescribeLogDirs");
	for (int32_t i = 0; i < resp.results_count; i++) {
		const struct kp_describe_log_dirs_resp_describe_log_dirs_result *r =
			&resp.results[i];

		for (int32_t j = 0; r->error_code == 0 && j < r->topics_count; j++) {
			const struct kp_describe_log_dirs_resp_describe_log_dirs_topic *t =
				&r->topics[j];

			if ((size_t)t->name.len != strlen(m->topic) ||
			    memcmp(t->name.ptr, m->topic, (size_t)t->name.len) != 0)
				continue;
			for (int32_t k = 0; k < t->partitions_count; k++) {
				char *d;

				if (t->partitions[k].partition_index != m->partition)
					continue;
				d = kp_arena_strndup(&arena, r->log_dir.ptr,
						     (size_t)(r->log_dir.len > 0 ? r->log_dir.len : 0));
				if (t->partitions[k].is_future_key)
					*fut = d;
				else
					*cur = d;
			}
		}
	}
}

/* Kafka's verifyReplicaMoves: prints each replica's state; counts those
 * still moving and those not moving where the plan wants them. */
static json_t *verify_dir_moves(const struct plan *plan, int *in_progress,
				int *mismatch)
{
	struct dir_move *v;
	int n = collect_dir_moves(plan, &v);
	json_t *rows = json_array();

	if (n > 0 && !o.json)
		printf("\nStatus of replica log directory movement:\n");
	for (int i = 0; i < n; i++) {
		const char *cur, *fut, *state;

		replica_dirs(&v[i], &cur, &fut);
		if (cur != NULL && strcmp(cur, v[i].dir) == 0) {
			state = "complete";
		} else if (fut != NULL && strcmp(fut, v[i].dir) == 0) {
			state = "in_progress";
			(*in_progress)++;
		} else {
			state = "mismatch";
			(*mismatch)++;
		}
		json_array_append_new(rows, json_pack("{s:s, s:i, s:i, s:s, s:s?, s:s?, s:s}",
			"topic", v[i].topic, "partition", v[i].partition, "broker",
			v[i].broker, "target", v[i].dir, "current", cur, "future", fut,
			"state", state));
		if (o.json)
			continue;
		if (state[0] == 'c' || state[0] == 'i') {	/* complete, in_progress */
			printf("Reassignment of replica ");
			print_replica(stdout, &v[i]);
			printf(state[0] == 'c' ? " completed successfully.\n"
					       : " is still in progress.\n");
		} else if (cur == NULL) {
			printf("Partition %s-%" PRId32 " cannot be found in any live "
			       "log directory on broker %" PRId32 ".\n", v[i].topic,
			       v[i].partition, v[i].broker);
		} else {
			printf("Partition %s-%" PRId32 " on broker %" PRId32 " is not "
			       "being moved from log dir %s to %s.\n", v[i].topic,
			       v[i].partition, v[i].broker, cur, v[i].dir);
		}
	}
	return rows;
}

static int do_execute(struct plan plan)
{
	struct ongoing *og;
	int nog = list_reassignments(NULL, &og), nlive;
	int32_t *live;
	struct current *cur;
	struct plan curplan = { 0 };
	char *text, missing[1024] = "";
	json_t *dir_moves;

	if (nog > 0 && !o.additional)
		tool_die("Cannot execute because there is an existing partition "
			 "assignment.  Use --additional to override this and "
			 "create a new partition assignment in addition to the "
			 "existing one. The --additional flag can also be used "
			 "to change the throttle by resubmitting the current "
			 "reassignment.");
	cur = current_replicas(&plan, &live, &nlive);
	for (int i = 0; i < plan.nparts; i++)
		for (int j = 0; j < plan.parts[i].nreplicas; j++)
			if (!has_id(live, nlive, plan.parts[i].replicas[j]))
				tool_die("Unknown broker id %" PRId32,
					 plan.parts[i].replicas[j]);
	for (int i = 0; i < plan.nparts; i++)
		if (cur[i].replicas == NULL)
			appendf(missing, sizeof(missing), "%s%s-%" PRId32,
				missing[0] ? "," : "", plan.parts[i].topic,
				plan.parts[i].partition);
	if (missing[0] != '\0')
		tool_die("The proposed assignment contains non-existent "
			 "partitions: %s", missing);
	curplan.parts = kp_arena_calloc(&arena, (size_t)plan.nparts + 1,
					sizeof(*curplan.parts));
	if (curplan.parts == NULL)
		tool_die("out of memory");
	for (int i = 0; i < plan.nparts; i++) {
		curplan.parts[i] = plan.parts[i];
		curplan.parts[i].replicas = cur[i].replicas;
		curplan.parts[i].nreplicas = cur[i].n;
	}
	curplan.nparts = plan.nparts;
	if (!o.json) {
		text = plan_to_text(&curplan);
		if (text == NULL)
			tool_die("out of memory");
		printf("Current partition replica assignment\n\n%s\n\nSave this "
		       "to use as the --reassignment-json-file option during "
		       "rollback\n", text);
		free(text);
	}
	if (o.throttle >= 0) {
		if (!o.json)
			printf("Warning: You must run --verify periodically, "
			       "until the reassignment completes, to ensure the "
			       "throttle is removed.\n");
		fflush(stdout);
		set_throttles(&plan, cur, og, nog);
	}
	fflush(stdout);
	if (alter_reassignments(&plan, false,
				"Error reassigning partition(s):") > 0)
		return TOOL_EXIT_FAIL;
	if (!o.json) {
		printf("Successfully started partition reassignment%s for ",
		       plan.nparts == 1 ? "" : "s");
		print_parts(stdout, &plan, ",");
		printf("\n");
		fflush(stdout);
	}
	dir_moves = execute_dir_moves(&plan);
	if (o.json) {
		json_t *started = json_array(), *doc;

		for (int i = 0; i < plan.nparts; i++)
			json_array_append_new(started, json_pack("{s:s, s:i}",
				"topic", plan.parts[i].topic, "partition",
				plan.parts[i].partition));
		doc = json_pack("{s:o, s:o, s:o, s:o}", "current",
				plan_to_json(&curplan), "throttle",
				o.throttle >= 0 ? json_integer(o.throttle) :
				json_null(), "started", started,
				"log_dir_moves_started", dir_moves);
		tool_print_json(stdout, doc);
		json_decref(doc);
	} else {
		json_decref(dir_moves);
	}
	return TOOL_EXIT_OK;
}

/* -------------------------------------------------------------- verify */

static const char *const state_names[] = {
	[PLAN_COMPLETE] = "complete",
	[PLAN_IN_PROGRESS] = "in_progress",
	[PLAN_MISMATCH] = "mismatch",
};

/*
 * The plan's current replica sets for --verify.  A partition the
 * controller no longer lists as moving may still show its moving replica
 * set in a broker's Metadata for a moment (its UpdateMetadata is on the
 * way): ask again, every 200 ms for up to 3 s, before calling any such
 * partition a mismatch.
 */
static struct current *settled_replicas(const struct plan *plan,
					const struct ongoing *og, int nog,
					int32_t **live, int *nlive)
{
	for (int tries = 0;; tries++) {
		struct current *cur = current_replicas(plan, live, nlive);
		bool settled = true;

		for (int i = 0; i < plan->nparts && settled; i++)
			settled = find_ongoing(og, nog, plan->parts[i].topic,
					       plan->parts[i].partition) != NULL ||
				  plan_state(plan->parts[i].replicas,
					     plan->parts[i].nreplicas, false,
					     cur[i].replicas, cur[i].n) != PLAN_MISMATCH;
		if (settled || tries == 15)
			return cur;
		nanosleep(&(struct timespec){ 0, 200 * 1000000L }, NULL);
	}
}

static int do_verify(struct plan plan)
{
	struct ongoing *og;
	int nog = list_reassignments(NULL, &og), nlive;
	int32_t *live;
	struct current *cur = settled_replicas(&plan, og, nog, &live, &nlive);
	int in_progress = 0, mismatch = 0, dir_moving = 0;
	json_t *rows = json_array(), *cleared = json_null(), *doc, *dir_rows;

	if (!o.json)
		printf("Status of partition reassignment:\n");
	for (int i = 0; i < plan.nparts; i++) {
		const struct plan_part *p = &plan.parts[i];
		const struct ongoing *g = find_ongoing(og, nog, p->topic,
						       p->partition);
		const int32_t *now = g ? g->replicas : cur[i].replicas;
		int nnow = g ? g->nreplicas : cur[i].n;
		enum plan_state st = plan_state(p->replicas, p->nreplicas,
						g != NULL, now, nnow);

		in_progress += st == PLAN_IN_PROGRESS;
		mismatch += st == PLAN_MISMATCH;
		json_array_append_new(rows, json_pack(
			"{s:s, s:i, s:s, s:o, s:o}", "topic", p->topic,
			"partition", p->partition, "state", state_names[st],
			"replicas", json_ids(now, nnow), "target",
			json_ids(p->replicas, p->nreplicas)));
		if (o.json)
			continue;
		if (st == PLAN_COMPLETE)
			printf("Reassignment of partition %s-%" PRId32
			       " is complete.\n", p->topic, p->partition);
		else if (st == PLAN_IN_PROGRESS)
			printf("Reassignment of partition %s-%" PRId32
			       " is still in progress.\n", p->topic,
			       p->partition);
		else {
			printf("There is no active reassignment of partition "
			       "%s-%" PRId32 ", but replica set is ", p->topic,
			       p->partition);
			print_ids(stdout, now, nnow);
			printf(" rather than ");
			print_ids(stdout, p->replicas, p->nreplicas);
			printf(".\n");
		}
	}
	dir_rows = verify_dir_moves(&plan, &dir_moving, &mismatch);
	in_progress += dir_moving;
	fflush(stdout);
	/* As Kafka: throttles go only when no reassignment at all is left
	 * (and no log dir move of the plan), as they may serve other
	 * reassignments too. */
	if (nog == 0 && dir_moving == 0 && !o.preserve_throttles) {
		json_decref(cleared);
		cleared = clear_throttles(&plan);
	} else if (nog > 0 && in_progress == 0 && !o.preserve_throttles) {
		tool_warn("other partition reassignments are in progress; the "
			  "throttles stay until they are done");
	}
	if (o.json) {
		doc = json_pack("{s:o, s:o, s:o}", "partitions", rows,
				"log_dirs", dir_rows, "throttles_cleared", cleared);
		tool_print_json(stdout, doc);
		json_decref(doc);
	} else {
		json_decref(rows);
		json_decref(dir_rows);
		json_decref(cleared);
	}
	if (in_progress > 0)
		return EXIT_IN_PROGRESS;
	return mismatch > 0 ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* -------------------------------------------------------------- cancel */

static int do_cancel(struct plan plan)
{
	struct ongoing *og;
	int nog = plan.nparts > 0 ? list_reassignments(&plan, &og) : 0;
	struct plan active = { 0 };
	json_t *cancelled = json_array(), *cleared = json_null(), *doc;

	active.parts = kp_arena_calloc(&arena, (size_t)plan.nparts + 1,
				       sizeof(*active.parts));
	if (active.parts == NULL)
		tool_die("out of memory");
	/* Only the plan's partitions that are really moving, as Kafka. */
	for (int i = 0; i < plan.nparts; i++) {
		const struct ongoing *g = find_ongoing(og, nog,
						       plan.parts[i].topic,
						       plan.parts[i].partition);

		if (g != NULL && (g->nadding > 0 || g->nremoving > 0))
			active.parts[active.nparts++] = plan.parts[i];
	}
	if (active.nparts > 0) {
		if (alter_reassignments(&active, true, active.nparts == 1 ?
					"Error cancelling partition reassignment for:" :
					"Error cancelling partition reassignments for:") > 0)
			return TOOL_EXIT_FAIL;
		for (int i = 0; i < active.nparts; i++)
			json_array_append_new(cancelled, json_pack("{s:s, s:i}",
				"topic", active.parts[i].topic, "partition",
				active.parts[i].partition));
		if (!o.json) {
			printf("Successfully cancelled partition reassignment%s "
			       "for: ", active.nparts == 1 ? "" : "s");
			print_parts(stdout, &active, ",");
			printf("\n");
		}
	} else if (!o.json) {
		printf("None of the specified partition reassignments are "
		       "active.\n");
	}
	fflush(stdout);
	if (!o.preserve_throttles && plan.nparts > 0) {
		json_decref(cleared);
		cleared = clear_throttles(&plan);
	}
	if (o.json) {
		doc = json_pack("{s:o, s:o}", "cancelled", cancelled,
				"throttles_cleared", cleared);
		tool_print_json(stdout, doc);
		json_decref(doc);
	} else {
		json_decref(cancelled);
		json_decref(cleared);
	}
	return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- list */

static int do_list(void)
{
	struct ongoing *og;
	int n = list_reassignments(NULL, &og);
	json_t *rows = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(rows, json_pack(
			"{s:s, s:i, s:o, s:o, s:o}", "topic", og[i].topic,
			"partition", og[i].partition, "replicas",
			json_ids(og[i].replicas, og[i].nreplicas), "adding",
			json_ids(og[i].adding, og[i].nadding), "removing",
			json_ids(og[i].removing, og[i].nremoving)));
	if (o.json) {
		tool_print_json(stdout, rows);
	} else if (n == 0) {
		printf("No partition reassignments found.\n");
	} else {
		printf("Current partition reassignments:\n");
		for (int i = 0; i < n; i++) {
			printf("%s-%" PRId32 ": replicas: ", og[i].topic,
			       og[i].partition);
			print_ids(stdout, og[i].replicas, og[i].nreplicas);
			printf(".");
			if (og[i].nadding > 0) {
				printf(" adding: ");
				print_ids(stdout, og[i].adding, og[i].nadding);
				printf(".");
			}
			if (og[i].nremoving > 0) {
				printf(" removing: ");
				print_ids(stdout, og[i].removing,
					  og[i].nremoving);
				printf(".");
			}
			printf("\n");
		}
	}
	json_decref(rows);
	return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	enum {
		O_GENERATE = 256, O_EXECUTE, O_VERIFY, O_CANCEL, O_LIST,
		O_CCONFIG, O_RJSON, O_TJSON, O_BLIST, O_NORACK,
		O_THROTTLE, O_ADDITIONAL, O_TIMEOUT, O_PRESERVE, O_JSON,
		O_LDTHROTTLE,
	};
	static const struct option opts[] = {
		{ "generate", no_argument, NULL, O_GENERATE },
		{ "execute", no_argument, NULL, O_EXECUTE },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "cancel", no_argument, NULL, O_CANCEL },
		{ "list", no_argument, NULL, O_LIST },
		{ "command-config", required_argument, NULL, O_CCONFIG },
		{ "reassignment-json-file", required_argument, NULL, O_RJSON },
		{ "topics-to-move-json-file", required_argument, NULL, O_TJSON },
		{ "broker-list", required_argument, NULL, O_BLIST },
		{ "disable-rack-aware", no_argument, NULL, O_NORACK },
		{ "throttle", required_argument, NULL, O_THROTTLE },
		{ "replica-alter-log-dirs-throttle", required_argument, NULL, O_LDTHROTTLE },
		{ "additional", no_argument, NULL, O_ADDITIONAL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "preserve-throttles", no_argument, NULL, O_PRESERVE },
		{ "json", no_argument, NULL, O_JSON },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_admin_config ac;
	struct plan plan = { 0 };
	const char **topics = NULL;
	int32_t *list = NULL;
	int c, ntopics = 0, nlist = 0, rc = TOOL_EXIT_OK;

	tool_name = "kreassign-partitions";
	o.t.usage = usage;
	kp_arena_init(&arena, 0);
	memset(&ac, 0, sizeof(ac));
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_GENERATE: set_action(GENERATE); break;
		case O_EXECUTE: set_action(EXECUTE); break;
		case O_VERIFY: set_action(VERIFY); break;
		case O_CANCEL: set_action(CANCEL); break;
		case O_LIST: set_action(LIST); break;
		case O_CCONFIG: o.command_config = optarg; break;
		case O_RJSON:
			o.reassignment_file = optarg;
			o.given |= F_RJSON;
			break;
		case O_TJSON:
			o.topics_file = optarg;
			o.given |= F_TJSON;
			break;
		case O_BLIST:
			o.broker_list = optarg;
			o.given |= F_BLIST;
			break;
		case O_NORACK:
			o.disable_rack_aware = true;
			o.given |= F_NORACK;
			break;
		case O_LDTHROTTLE:
			o.ld_throttle = tool_opt_i64("--replica-alter-log-dirs-throttle",
						     optarg, -1, INT64_MAX);
			o.given |= F_LDTHROTTLE;
			break;
		case O_THROTTLE:
			/* Kafka: -1 (its default) means no throttle. */
			o.throttle = tool_opt_i64("--throttle", optarg, -1,
						  INT64_MAX);
			o.given |= F_THROTTLE;
			break;
		case O_ADDITIONAL:
			o.additional = true;
			o.given |= F_ADDITIONAL;
			break;
		case O_TIMEOUT:
			o.timeout = tool_opt_i32("--timeout", optarg, 1,
						 INT32_MAX);
			o.given |= F_TIMEOUT;
			break;
		case O_PRESERVE:
			o.preserve_throttles = true;
			o.given |= F_PRESERVE;
			break;
		case O_JSON: o.json = true; break;
		}
	}
	check_usage();
	if (o.command_config != NULL)
		tool_read_admin_config("--command-config", o.command_config,
				       &ac);
	if (o.t.timeout_ms == 0)
		o.t.timeout_ms = ac.api_timeout_ms > 0 ? ac.api_timeout_ms : 30000;
	if (ac.client_id[0] == '\0')
		snprintf(ac.client_id, sizeof(ac.client_id),
			 "reassign-partitions-tool");
	/* The controller may hold an answer up to --timeout. */
	if (ac.request_timeout_ms == 0)
		ac.request_timeout_ms = o.timeout > 25000 ?
					(o.timeout > INT32_MAX - 5000 ?
					 INT32_MAX : o.timeout + 5000) : 30000;
	/* The files and the broker list are read before the cluster is. */
	if (o.action == GENERATE) {
		list = parse_broker_list(&nlist);
		topics = load_topics(&ntopics);
	} else if (o.action != LIST) {
		plan = load_plan(o.action == EXECUTE);
	}
	tool_cluster_open_admin(&cl, o.t.bootstrap, &ac, o.t.timeout_ms);
	switch (o.action) {
	case GENERATE: rc = do_generate(topics, ntopics, list, nlist); break;
	case EXECUTE: rc = do_execute(plan); break;
	case VERIFY: rc = do_verify(plan); break;
	case CANCEL: rc = do_cancel(plan); break;
	case LIST: rc = do_list(); break;
	case NONE: break;
	}
	tool_cluster_close(&cl);
	kp_arena_free(&arena);
	return rc;
}
