/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ktopics - create, list, describe, alter and delete topics, with the
 * options of Kafka's kafka-topics.sh (--bootstrap-server form).
 *
 * Everything goes through the brokers' APIs: Metadata for names, leaders,
 * replicas and ISR (the brokers' view, which the controller keeps equal
 * to ZooKeeper's), DescribeConfigs for overrides and min.insync.replicas,
 * CreateTopics, CreatePartitions, DeleteTopics.  --topic takes a regular
 * expression (POSIX extended, matched against the whole name) except with
 * --create.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "kp_errors.h"
#include "tool.h"

enum action { NONE, CREATE, LIST, DESCRIBE, ALTER, DELETE };

enum filter {
	F_ALL,
	F_UNDER_REPLICATED,
	F_UNAVAILABLE,
	F_UNDER_MIN_ISR,
	F_AT_MIN_ISR,
};

static struct {
	enum action action;
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms */
	const char *topic;
	int32_t partitions;
	int16_t rf;
	const char *assignment;
	const char **configs;
	int nconfigs;
	enum filter filter;
	bool exclude_internal;
	bool if_exists;
	bool if_not_exists;
	bool overrides_only;
	bool json;
} o = { .partitions = -1, .rf = -1, .t.timeout_ms = 30000 };

static struct tool_cluster cl;
static struct kp_arena arena;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ktopics --bootstrap-server HOST:PORT[,...] ACTION [OPTIONS]\n"
		"Create, list, describe, alter and delete topics.\n"
		"\n"
		"Actions (exactly one):\n"
		"  --create                  create --topic (--partitions, --replication-factor,\n"
		"                            --config, --replica-assignment)\n"
		"  --list                    list topic names (all, or those --topic matches)\n"
		"  --describe                leader, replicas, ISR and overrides per partition\n"
		"  --alter                   add partitions: --topic T --partitions N\n"
		"  --delete                  delete the topics --topic matches\n"
		"\n"
		"Options:\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --command-config FILE     client properties: client.id, timeouts,\n"
		"                            security.protocol, ssl.*, sasl.*\n"
		"  --topic NAME|REGEX        the topic (a regular expression except with --create)\n"
		"  --partitions N            partition count (create: default broker's num.partitions)\n"
		"  --replication-factor N    replicas per partition (create)\n"
		"  --replica-assignment A    p0r1:p0r2,p1r1:p1r2,... explicit placement\n"
		"  --config KEY=VALUE        a topic config override (create; repeatable)\n"
		"  --under-replicated-partitions  describe: only partitions with ISR < replicas\n"
		"  --unavailable-partitions  describe: only partitions without a live leader\n"
		"  --under-min-isr-partitions     describe: only partitions with ISR < min.insync.replicas\n"
		"  --at-min-isr-partitions   describe: only partitions with ISR = min.insync.replicas\n"
		"  --topics-with-overrides   describe: only topics that have config overrides\n"
		"  --exclude-internal        leave out internal topics (__consumer_offsets)\n"
		"  --if-exists               alter/delete: no error when nothing matches\n"
		"  --if-not-exists           create: no error when the topic exists\n"
		"  --json                    machine-readable output\n"
		"  --timeout-ms MS           patience for the cluster (30000)\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 success, 1 the cluster refused or a topic is missing,\n"
		"2 bad usage.\n");
}

static void set_action(enum action a)
{
	if (o.action != NONE && o.action != a)
		tool_usage_error("give only one of --create, --list, "
				 "--describe, --alter, --delete");
	o.action = a;
}

/* ------------------------------------------------------ topic matching */

static regex_t topic_re;
static bool have_re;

static void compile_topic_re(void)
{
	char *pat;
	int rc;

	if (o.topic == NULL)
		return;
	if (asprintf(&pat, "^(%s)$", o.topic) < 0)
		tool_die("out of memory");
	rc = regcomp(&topic_re, pat, REG_EXTENDED | REG_NOSUB);
	free(pat);
	if (rc != 0) {
		char msg[256];

		regerror(rc, &topic_re, msg, sizeof(msg));
		tool_usage_error("--topic: bad regular expression: %s", msg);
	}
	have_re = true;
}

static bool topic_wanted(const struct kp_metadata_resp_metadata_response_topic *t)
{
	char name[512];

	if (t->name.len < 0 || (size_t)t->name.len >= sizeof(name))
		return false;
	if (o.exclude_internal && t->is_internal)
		return false;
	memcpy(name, t->name.ptr, (size_t)t->name.len);
	name[t->name.len] = '\0';
	return !have_re || regexec(&topic_re, name, 0, NULL, 0) == 0;
}

static int cmp_topic(const void *a, const void *b)
{
	const struct kp_metadata_resp_metadata_response_topic *x = a, *y = b;
	int32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
	int c = memcmp(x->name.ptr, y->name.ptr, (size_t)(n > 0 ? n : 0));

	return c != 0 ? c : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static int cmp_partition(const void *a, const void *b)
{
	const struct kp_metadata_resp_metadata_response_partition *x = a, *y = b;

	return (x->partition_index > y->partition_index) -
	       (x->partition_index < y->partition_index);
}

/* The matching topics of a full Metadata answer, sorted by name. */
static int matching_topics(const struct kp_metadata_resp_metadata_response_topic ***out)
{
	const struct kp_metadata_resp_metadata_response_topic **v;
	int n = 0;

	tool_metadata(&cl, NULL, 0, true);
	qsort(cl.md.topics, (size_t)(cl.md.topics_count > 0 ? cl.md.topics_count : 0),
	      sizeof(*cl.md.topics), cmp_topic);
	v = kp_arena_calloc(&arena, (size_t)cl.md.topics_count + 1, sizeof(*v));
	if (v == NULL)
		tool_die("out of memory");
	for (int i = 0; i < cl.md.topics_count; i++) {
		struct kp_metadata_resp_metadata_response_topic *t =
			&cl.md.topics[i];

		if (t->error_code != 0 || !topic_wanted(t))
			continue;
		qsort(t->partitions, (size_t)(t->partitions_count > 0 ?
					      t->partitions_count : 0),
		      sizeof(*t->partitions), cmp_partition);
		v[n++] = t;
	}
	*out = v;
	return n;
}

/* ----------------------------------------------------------- assignment */

/*
 * "1:2:3,2:3:1" -> per partition a replica list.  Returns the partition
 * count; every partition must have the same number of replicas.
 */
static int parse_assignment(const char *s, int32_t ***parts, int32_t *rf)
{
	int n, nr = -1;
	char **ps = tool_split(&arena, s, ',', &n);
	int32_t **out = kp_arena_calloc(&arena, (size_t)n + 1, sizeof(*out));

	if (out == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		int m;
		char **rs = tool_split(&arena, ps[i], ':', &m);

		if (nr >= 0 && m != nr)
			tool_usage_error("--replica-assignment: partition %d has "
					 "%d replicas, partition 0 has %d", i,
					 m, nr);
		nr = m;
		out[i] = kp_arena_calloc(&arena, (size_t)m, sizeof(int32_t));
		if (out[i] == NULL)
			tool_die("out of memory");
		for (int j = 0; j < m; j++) {
			out[i][j] = tool_opt_i32("--replica-assignment", rs[j],
						 0, INT32_MAX);
			for (int k = 0; k < j; k++)
				if (out[i][k] == out[i][j])
					tool_usage_error("--replica-assignment: "
							 "broker %" PRId32 " twice in "
							 "partition %d", out[i][j], i);
		}
	}
	if (n == 0 || nr <= 0)
		tool_usage_error("--replica-assignment: nothing assigned");
	*parts = out;
	*rf = nr;
	return n;
}

/* ---------------------------------------------------------------- create */

static int do_create(void)
{
	struct kp_create_topics_req req;
	struct kp_create_topics_req_creatable_topic t;
	struct kp_create_topics_resp resp;
	const struct kp_create_topics_resp_creatable_topic_result *r;

	if (o.topic == NULL)
		tool_usage_error("--create needs --topic");
	kp_struct_init(&kp_create_topics_req_desc, &req);
	kp_struct_init(&kp_create_topics_req_creatable_topic_desc, &t);
	t.name = kp_str_c(o.topic);
	t.num_partitions = o.partitions;
	t.replication_factor = o.rf;
	if (o.assignment != NULL) {
		int32_t **parts, rf;
		int n;

		if (o.partitions >= 0 || o.rf >= 0)
			tool_usage_error("--replica-assignment replaces "
					 "--partitions and --replication-factor");
		n = parse_assignment(o.assignment, &parts, &rf);
		t.num_partitions = -1;
		t.replication_factor = -1;
		t.assignments = kp_arena_calloc(&arena, (size_t)n,
						sizeof(*t.assignments));
		if (t.assignments == NULL)
			tool_die("out of memory");
		t.assignments_count = n;
		for (int i = 0; i < n; i++) {
			kp_struct_init(&kp_create_topics_req_creatable_replica_assignment_desc,
				       &t.assignments[i]);
			t.assignments[i].partition_index = i;
			t.assignments[i].broker_ids = parts[i];
			t.assignments[i].broker_ids_count = rf;
		}
	}
	if (o.nconfigs > 0) {
		t.configs = kp_arena_calloc(&arena, (size_t)o.nconfigs,
					    sizeof(*t.configs));
		if (t.configs == NULL)
			tool_die("out of memory");
		t.configs_count = o.nconfigs;
		for (int i = 0; i < o.nconfigs; i++) {
			const char *eq = strchr(o.configs[i], '=');

			if (eq == NULL || eq == o.configs[i])
				tool_usage_error("--config: '%s' is not "
						 "KEY=VALUE", o.configs[i]);
			kp_struct_init(&kp_create_topics_req_createable_topic_config_desc,
				       &t.configs[i]);
			t.configs[i].name = (kp_str){ o.configs[i],
						      (int32_t)(eq - o.configs[i]) };
			t.configs[i].value = kp_str_c(eq + 1);
		}
	}
	req.topics = &t;
	req.topics_count = 1;
	req.timeout_ms = o.t.timeout_ms;
	/* CreateTopics must reach the controller's view; any broker will do
	 * here since brokers write the topic to ZooKeeper themselves. */
	tool_call(cl.boot, KP_API_CREATE_TOPICS, &req, &resp, &arena,
		  "CreateTopics");
	if (resp.topics_count != 1)
		tool_die("CreateTopics: %d results for one topic",
			 resp.topics_count);
	r = &resp.topics[0];
	if (r->error_code == KP_ERR_TOPIC_ALREADY_EXISTS && o.if_not_exists)
		return TOOL_EXIT_OK;
	if (r->error_code != 0) {
		tool_warn("cannot create topic '%s': %s%s%.*s", o.topic,
			  tool_err(r->error_code),
			  r->error_message.len > 0 ? " - " : "",
			  r->error_message.len > 0 ? r->error_message.len : 0,
			  r->error_message.ptr ? r->error_message.ptr : "");
		return TOOL_EXIT_FAIL;
	}
	if (o.json) {
		json_t *j = json_pack("{s:s, s:i, s:i}", "created", o.topic,
				      "partitions", r->num_partitions,
				      "replication_factor",
				      r->replication_factor);

		tool_print_json(stdout, j);
		json_decref(j);
	} else
		printf("Created topic %s.\n", o.topic);
	return TOOL_EXIT_OK;
}

/* ------------------------------------------------------------------ list */

/* --topic matched nothing: a failure, unless --if-exists. */
static int nothing_matched(void)
{
	if (o.if_exists)
		return TOOL_EXIT_OK;
	tool_warn("no topic matches '%s'", o.topic);
	return TOOL_EXIT_FAIL;
}

/* The end of --list and --describe: the JSON array when --json. */
static int listed(json_t *arr, int n)
{
	if (o.json)
		tool_print_json(stdout, arr);
	json_decref(arr);
	return n == 0 && o.topic != NULL ? nothing_matched() : TOOL_EXIT_OK;
}

static int do_list(void)
{
	const struct kp_metadata_resp_metadata_response_topic **v;
	int n = matching_topics(&v);
	json_t *arr = json_array();

	for (int i = 0; i < n; i++) {
		if (o.json)
			json_array_append_new(arr, json_stringn(v[i]->name.ptr,
								(size_t)v[i]->name.len));
		else
			printf("%.*s\n", v[i]->name.len, v[i]->name.ptr);
	}
	return listed(arr, n);
}

/* -------------------------------------------------------------- describe */

struct topic_cfg {
	json_t *overrides;	/* {key: value} of topic-level settings */
	int32_t min_isr;
};

static void describe_configs(const struct kp_metadata_resp_metadata_response_topic **v,
			     int n, struct topic_cfg *cfg)
{
	struct kp_describe_configs_req req;
	struct kp_describe_configs_resp resp;
	struct kp_describe_configs_req_describe_configs_resource *res;

	for (int i = 0; i < n; i++) {
		cfg[i].overrides = json_object();
		cfg[i].min_isr = 1;
	}
	if (n == 0)
		return;
	res = kp_arena_calloc(&arena, (size_t)n, sizeof(*res));
	if (res == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		kp_struct_init(&kp_describe_configs_req_describe_configs_resource_desc,
			       &res[i]);
		res[i].resource_type = 2;	/* TOPIC */
		res[i].resource_name = v[i]->name;
		res[i].configuration_keys = NULL;
		res[i].configuration_keys_count = -1;
	}
	kp_struct_init(&kp_describe_configs_req_desc, &req);
	req.resources = res;
	req.resources_count = n;
	tool_call(cl.boot, KP_API_DESCRIBE_CONFIGS, &req, &resp, &arena,
		  "DescribeConfigs");
	for (int r = 0; r < resp.results_count; r++) {
		const struct kp_describe_configs_resp_describe_configs_result *res1 =
			&resp.results[r];
		int i;

		for (i = 0; i < n; i++)
			if (kp_str_eq(res1->resource_name, v[i]->name))
				break;
		if (i == n || res1->error_code != 0)
			continue;
		for (int k = 0; k < res1->configs_count; k++) {
			const struct kp_describe_configs_resp_describe_configs_resource_result *c =
				&res1->configs[k];
			int64_t mi;
			char val[64];

			if (kp_str_eqc(c->name, "min.insync.replicas") &&
			    c->value.len > 0 &&
			    (size_t)c->value.len < sizeof(val)) {
				memcpy(val, c->value.ptr, (size_t)c->value.len);
				val[c->value.len] = '\0';
				if (tool_parse_i64(val, 1, INT32_MAX, &mi))
					cfg[i].min_isr = (int32_t)mi;
			}
			/* 1 = DYNAMIC_TOPIC_CONFIG: set on the topic. */
			if (c->config_source == 1 && c->name.len > 0) {
				char *key = kp_str_dup(c->name);

				json_object_set_new(cfg[i].overrides, key,
						    c->value.len >= 0 ?
						    json_stringn(c->value.ptr,
								 (size_t)c->value.len) :
						    json_null());
				free(key);
			}
		}
	}
}

static json_t *id_list(const int32_t *ids, int32_t n)
{
	json_t *a = json_array();

	for (int32_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(ids[i]));
	return a;
}

static void print_ids(const char *label, const int32_t *ids, int32_t n)
{
	printf("\t%s: ", label);
	for (int32_t i = 0; i < n; i++)
		printf("%s%" PRId32, i ? "," : "", ids[i]);
}

static bool partition_wanted(const struct kp_metadata_resp_metadata_response_partition *p,
			     int32_t min_isr)
{
	int32_t isr = p->isr_nodes_count > 0 ? p->isr_nodes_count : 0;
	int32_t rep = p->replica_nodes_count > 0 ? p->replica_nodes_count : 0;

	switch (o.filter) {
	case F_ALL:
		return true;
	case F_UNDER_REPLICATED:
		return isr < rep;
	case F_UNAVAILABLE:
		return p->leader_id < 0 || tool_broker(&cl, p->leader_id) == NULL;
	case F_UNDER_MIN_ISR:
		return isr < min_isr;
	case F_AT_MIN_ISR:
		return isr == min_isr;
	}
	return true;
}

static void uuid_text(const kp_uuid *u, char *out)
{
	/* Kafka prints topic ids in URL-safe base64 without padding. */
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int o2 = 0, bits = 0;
	uint32_t acc = 0;

	for (int i = 0; i < 16; i++) {
		acc = acc << 8 | u->b[i];
		bits += 8;
		while (bits >= 6) {
			out[o2++] = b64[(acc >> (bits - 6)) & 63];
			bits -= 6;
		}
	}
	if (bits > 0)
		out[o2++] = b64[(acc << (6 - bits)) & 63];
	out[o2] = '\0';
}

static int do_describe(void)
{
	const struct kp_metadata_resp_metadata_response_topic **v;
	int n = matching_topics(&v);
	struct topic_cfg *cfg = kp_arena_calloc(&arena, (size_t)n + 1,
						sizeof(*cfg));
	json_t *arr = json_array();

	if (cfg == NULL)
		tool_die("out of memory");
	describe_configs(v, n, cfg);
	for (int i = 0; i < n; i++) {
		const struct kp_metadata_resp_metadata_response_topic *t = v[i];
		int32_t rf = t->partitions_count > 0 ?
			     t->partitions[0].replica_nodes_count : 0;
		json_t *jt, *jparts = json_array();
		char id[32];

		if (o.overrides_only && json_object_size(cfg[i].overrides) == 0)
			continue;
		/* Brokers that predate topic ids send zeros: no id. */
		uuid_text(&t->topic_id, id);
		if (strspn(id, "A") == strlen(id))
			id[0] = '\0';
		if (o.filter == F_ALL && !o.json) {
			const char *k;
			json_t *val;
			int first = 1;

			printf("Topic: %.*s\t", t->name.len, t->name.ptr);
			if (id[0])
				printf("TopicId: %s\t", id);
			printf("PartitionCount: %" PRId32 "\tReplicationFactor: %"
			       PRId32 "\tConfigs: ", t->partitions_count, rf);
			json_object_foreach(cfg[i].overrides, k, val) {
				printf("%s%s=%s", first ? "" : ",", k,
				       json_is_string(val) ?
				       json_string_value(val) : "");
				first = 0;
			}
			printf("\n");
		}
		for (int p = 0; p < t->partitions_count; p++) {
			const struct kp_metadata_resp_metadata_response_partition *pp =
				&t->partitions[p];

			if (!partition_wanted(pp, cfg[i].min_isr))
				continue;
			json_array_append_new(jparts, json_pack(
				"{s:i, s:i, s:i, s:o, s:o, s:o}",
				"partition", pp->partition_index,
				"leader", pp->leader_id,
				"leader_epoch", pp->leader_epoch,
				"replicas", id_list(pp->replica_nodes, pp->replica_nodes_count),
				"isr", id_list(pp->isr_nodes, pp->isr_nodes_count),
				"offline", id_list(pp->offline_replicas,
						   pp->offline_replicas_count)));
			if (o.json)
				continue;
			printf("\tTopic: %.*s\tPartition: %" PRId32
			       "\tLeader: %s", t->name.len, t->name.ptr,
			       pp->partition_index,
			       pp->leader_id < 0 ? "none" : "");
			if (pp->leader_id >= 0)
				printf("%" PRId32, pp->leader_id);
			print_ids("Replicas", pp->replica_nodes,
				  pp->replica_nodes_count);
			print_ids("Isr", pp->isr_nodes, pp->isr_nodes_count);
			if (pp->offline_replicas_count > 0)
				print_ids("Offline", pp->offline_replicas,
					  pp->offline_replicas_count);
			printf("\n");
		}
		if (o.filter != F_ALL && json_array_size(jparts) == 0) {
			json_decref(jparts);
			json_decref(cfg[i].overrides);
			continue;
		}
		jt = json_pack("{s:s%, s:s?, s:b, s:i, s:i, s:i, s:o, s:o}",
			       "topic", t->name.ptr ? t->name.ptr : "",
			       (size_t)(t->name.len > 0 ? t->name.len : 0),
			       "topic_id", id[0] ? id : NULL,
			       "internal", t->is_internal,
			       "partition_count", t->partitions_count,
			       "replication_factor", rf,
			       "min_insync_replicas", cfg[i].min_isr,
			       "configs", cfg[i].overrides,
			       "partitions", jparts);
		json_array_append_new(arr, jt);
	}
	return listed(arr, n);
}

/* ----------------------------------------------------------------- alter */

static int do_alter(void)
{
	struct kp_create_partitions_req req;
	struct kp_create_partitions_req_create_partitions_topic t;
	struct kp_create_partitions_resp resp;
	const struct kp_metadata_resp_metadata_response_topic **v;
	int n, failed = 0;

	if (o.topic == NULL || o.partitions < 0)
		tool_usage_error("--alter needs --topic and --partitions");
	if (o.nconfigs > 0)
		tool_usage_error("--alter changes partitions only; configs are "
				 "changed with kconfigs");
	n = matching_topics(&v);
	if (n == 0)
		return nothing_matched();
	for (int i = 0; i < n; i++) {
		kp_struct_init(&kp_create_partitions_req_desc, &req);
		kp_struct_init(&kp_create_partitions_req_create_partitions_topic_desc, &t);
		t.name = v[i]->name;
		t.count = o.partitions;
		t.assignments = NULL;
		t.assignments_count = -1;
		if (o.assignment != NULL) {
			int32_t **parts, rf;
			int np = parse_assignment(o.assignment, &parts, &rf);
			int32_t have = v[i]->partitions_count;
			int first;

			/* Either the new partitions only, or every partition
			 * (Kafka's form) of which the new ones are taken. */
			if (np == o.partitions - have)
				first = 0;
			else if (np == o.partitions)
				first = have;
			else
				tool_usage_error("--replica-assignment: %d "
						 "partitions given, %" PRId32 " new",
						 np, o.partitions - have);
			t.assignments_count = np - first;
			t.assignments = kp_arena_calloc(&arena, (size_t)np + 1,
							sizeof(*t.assignments));
			if (t.assignments == NULL)
				tool_die("out of memory");
			for (int k = first; k < np; k++) {
				t.assignments[k - first].broker_ids = parts[k];
				t.assignments[k - first].broker_ids_count = rf;
			}
		}
		req.topics = &t;
		req.topics_count = 1;
		req.timeout_ms = o.t.timeout_ms;
		tool_call(cl.boot, KP_API_CREATE_PARTITIONS, &req, &resp,
			  &arena, "CreatePartitions");
		for (int r = 0; r < resp.results_count; r++) {
			const struct kp_create_partitions_resp_create_partitions_topic_result *res =
				&resp.results[r];

			if (res->error_code == 0)
				continue;
			tool_warn("cannot alter topic '%.*s': %s%s%.*s",
				  res->name.len, res->name.ptr,
				  tool_err(res->error_code),
				  res->error_message.len > 0 ? " - " : "",
				  res->error_message.len > 0 ? res->error_message.len : 0,
				  res->error_message.ptr ? res->error_message.ptr : "");
			failed = 1;
		}
	}
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- delete */

static int do_delete(void)
{
	struct kp_delete_topics_req req;
	struct kp_delete_topics_resp resp;
	const struct kp_metadata_resp_metadata_response_topic **v;
	struct kp_delete_topics_req_delete_topic_state *states;
	kp_str *names;
	int n, failed = 0;

	if (o.topic == NULL)
		tool_usage_error("--delete needs --topic");
	n = matching_topics(&v);
	if (n == 0)
		return nothing_matched();
	names = kp_arena_calloc(&arena, (size_t)n, sizeof(*names));
	states = kp_arena_calloc(&arena, (size_t)n, sizeof(*states));
	if (names == NULL || states == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		names[i] = v[i]->name;
		kp_struct_init(&kp_delete_topics_req_delete_topic_state_desc, &states[i]);
		states[i].name = v[i]->name;
	}
	kp_struct_init(&kp_delete_topics_req_desc, &req);
	/* by name, at any version: v0-5's list and v6's */
	req.topic_names = names;
	req.topic_names_count = n;
	req.topics = states;
	req.topics_count = n;
	req.timeout_ms = o.t.timeout_ms;
	tool_call(cl.boot, KP_API_DELETE_TOPICS, &req, &resp, &arena,
		  "DeleteTopics");
	for (int r = 0; r < resp.responses_count; r++) {
		const struct kp_delete_topics_resp_deletable_topic_result *res =
			&resp.responses[r];

		if (res->error_code == 0) {
			if (!o.json)
				printf("Deleted topic %.*s.\n", res->name.len,
				       res->name.ptr);
			continue;
		}
		tool_warn("cannot delete topic '%.*s': %s", res->name.len,
			  res->name.ptr, tool_err(res->error_code));
		failed = 1;
	}
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum {
		O_CREATE = 256, O_LIST, O_DESCRIBE, O_ALTER, O_DELETE,
		O_TOPIC, O_PARTS, O_RF, O_ASSIGN, O_CONFIG, O_UR, O_UNAVAIL,
		O_UMI, O_AMI, O_OVERRIDES, O_EXCL, O_IFX, O_IFNX, O_JSON,
		O_CCONF,
	};
	static const struct option opts[] = {
		{ "create", no_argument, NULL, O_CREATE },
		{ "list", no_argument, NULL, O_LIST },
		{ "describe", no_argument, NULL, O_DESCRIBE },
		{ "alter", no_argument, NULL, O_ALTER },
		{ "delete", no_argument, NULL, O_DELETE },
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "partitions", required_argument, NULL, O_PARTS },
		{ "replication-factor", required_argument, NULL, O_RF },
		{ "replica-assignment", required_argument, NULL, O_ASSIGN },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "under-replicated-partitions", no_argument, NULL, O_UR },
		{ "unavailable-partitions", no_argument, NULL, O_UNAVAIL },
		{ "under-min-isr-partitions", no_argument, NULL, O_UMI },
		{ "at-min-isr-partitions", no_argument, NULL, O_AMI },
		{ "topics-with-overrides", no_argument, NULL, O_OVERRIDES },
		{ "exclude-internal", no_argument, NULL, O_EXCL },
		{ "if-exists", no_argument, NULL, O_IFX },
		{ "if-not-exists", no_argument, NULL, O_IFNX },
		{ "json", no_argument, NULL, O_JSON },
		{ "command-config", required_argument, NULL, O_CCONF },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_admin_config ac;
	int c, rc = TOOL_EXIT_OK;

	memset(&ac, 0, sizeof(ac));
	tool_name = "ktopics";
	o.t.usage = usage;
	kp_arena_init(&arena, 0);
	o.configs = calloc((size_t)argc + 1, sizeof(*o.configs));
	if (o.configs == NULL)
		tool_die("out of memory");
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_CREATE: set_action(CREATE); break;
		case O_LIST: set_action(LIST); break;
		case O_DESCRIBE: set_action(DESCRIBE); break;
		case O_ALTER: set_action(ALTER); break;
		case O_DELETE: set_action(DELETE); break;
		case O_TOPIC: o.topic = optarg; break;
		case O_PARTS:
			o.partitions = tool_opt_i32("--partitions", optarg, 1,
						    INT32_MAX);
			break;
		case O_RF:
			o.rf = (int16_t)tool_opt_i32("--replication-factor",
						     optarg, 1, INT16_MAX);
			break;
		case O_ASSIGN: o.assignment = optarg; break;
		case O_CONFIG: o.configs[o.nconfigs++] = optarg; break;
		case O_UR: o.filter = F_UNDER_REPLICATED; break;
		case O_UNAVAIL: o.filter = F_UNAVAILABLE; break;
		case O_UMI: o.filter = F_UNDER_MIN_ISR; break;
		case O_AMI: o.filter = F_AT_MIN_ISR; break;
		case O_OVERRIDES: o.overrides_only = true; break;
		case O_EXCL: o.exclude_internal = true; break;
		case O_IFX: o.if_exists = true; break;
		case O_IFNX: o.if_not_exists = true; break;
		case O_JSON: o.json = true; break;
		case O_CCONF:
			tool_read_admin_config("--command-config", optarg, &ac);
			break;
		}
	}
	if (o.action == NONE)
		tool_usage_error("give one of --create, --list, --describe, "
				 "--alter, --delete");
	tool_need_bootstrap(&o.t);
	if (o.action != DESCRIBE && (o.filter != F_ALL || o.overrides_only))
		tool_usage_error("partition filters go with --describe");
	if (o.action != CREATE)
		compile_topic_re();
	tool_cluster_open_admin(&cl, o.t.bootstrap, &ac, o.t.timeout_ms);
	switch (o.action) {
	case CREATE: rc = do_create(); break;
	case LIST: rc = do_list(); break;
	case DESCRIBE: rc = do_describe(); break;
	case ALTER: rc = do_alter(); break;
	case DELETE: rc = do_delete(); break;
	case NONE: break;
	}
	if (have_re)
		regfree(&topic_re);
	tool_cluster_close(&cl);
	kp_arena_free(&arena);
	free(o.configs);
	return rc;
}
