/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kconsole-consumer - records of a topic to stdout, one per line, as with
 * Kafka's kafka-console-consumer.sh.
 *
 * Without --group the tool reads the partitions itself (all, or
 * --partition) from --offset / --from-beginning / the log end, and
 * commits nothing.  With --group it is a member of a consumer group:
 * JoinGroup (with the member-id handshake), the range assignor when it
 * leads, SyncGroup, heartbeats, committed offsets as start positions
 * (auto.offset.reset otherwise), periodic and final commits of what it
 * printed, LeaveGroup on exit.  Rebalances are followed: a heartbeat
 * answering REBALANCE_IN_PROGRESS makes it commit and rejoin.
 *
 * Fetches go to every leader at once (sent, then collected), so one slow
 * broker does not hold the others' records back more than one wait.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_records.h"
#include "tool_fetch.h"
#include "tool_security.h"

static struct {
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms: exit
				 * after this long without a record */
	const char *topic;
	int32_t partition;
	const char *offset;	/* earliest, latest or a number */
	bool from_beginning;
	const char *group;
	const char *instance_id;
	int64_t max_messages;
	int8_t isolation;
	bool print_key, print_value, print_ts, print_partition, print_offset;
	bool print_headers;
	char *key_sep;
	char *line_sep;
	const char *null_literal;
	int session_timeout_ms;
	int heartbeat_ms;
	bool auto_commit;
	int commit_interval_ms;
	int fetch_wait_ms;
	int32_t partition_max_bytes;
	const char *client_id;
	int connect_timeout_ms;
} o = {
	.partition = -1, .max_messages = -1, .t.timeout_ms = -1,
	.print_value = true, .session_timeout_ms = 10000,
	.heartbeat_ms = 3000, .auto_commit = true, .commit_interval_ms = 5000,
	.fetch_wait_ms = 500, .partition_max_bytes = 1048576,
	.null_literal = "null", .connect_timeout_ms = 30000,
};

static struct tool_cluster cl;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kconsole-consumer --bootstrap-server HOST:PORT[,...] --topic TOPIC [OPTIONS]\n"
		"Print the records of TOPIC on standard output, one per line.\n"
		"\n"
		"  --bootstrap-server LIST   brokers to connect to first (required)\n"
		"  --topic TOPIC             the topic (required)\n"
		"  --group GROUP             consume as a member of this consumer group\n"
		"  --partition N             read only partition N (not with --group)\n"
		"  --offset OFFSET           where to start: earliest, latest or a number\n"
		"                            (a number needs --partition); default latest\n"
		"  --from-beginning          start at the log start when there is no\n"
		"                            committed offset\n"
		"  --max-messages N          exit after N records\n"
		"  --timeout-ms MS           exit when no record came for MS\n"
		"  --isolation-level LEVEL   read_uncommitted (default) or read_committed\n"
		"  --property KEY=VALUE      output: print.key, print.value, print.timestamp,\n"
		"                            print.partition, print.offset, print.headers\n"
		"                            (true|false), key.separator, line.separator,\n"
		"                            null.literal\n"
		"  --consumer-property KEY=VALUE  group.id, group.instance.id, client.id,\n"
		"                            auto.offset.reset, enable.auto.commit,\n"
		"                            auto.commit.interval.ms, session.timeout.ms,\n"
		"                            heartbeat.interval.ms, fetch.max.wait.ms,\n"
		"                            max.partition.fetch.bytes, isolation.level\n"
		"  --consumer.config FILE    consumer settings from a properties file\n"
		"  --help                    this text\n"
		"  --version                 the program's version\n"
		"\n"
		"Exit status: 0 normal end (end of --max-messages, --timeout-ms, a signal),\n"
		"1 an error from the cluster, 2 bad usage.\n");
}



static int8_t parse_isolation(const char *v)
{
	if (strcmp(v, "read_uncommitted") == 0)
		return 0;
	if (strcmp(v, "read_committed") == 0)
		return 1;
	tool_usage_error("isolation level '%s' is not read_uncommitted or "
			 "read_committed", v);
}

static void output_property(const char *kv)
{
	const char *eq = strchr(kv, '=');
	const char *v;
	char key[64];

	if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof(key))
		tool_usage_error("--property: '%s' is not KEY=VALUE", kv);
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	v = eq + 1;
	if (strcmp(key, "print.key") == 0)
		o.print_key = tool_parse_bool(key, v);
	else if (strcmp(key, "print.value") == 0)
		o.print_value = tool_parse_bool(key, v);
	else if (strcmp(key, "print.timestamp") == 0)
		o.print_ts = tool_parse_bool(key, v);
	else if (strcmp(key, "print.partition") == 0)
		o.print_partition = tool_parse_bool(key, v);
	else if (strcmp(key, "print.offset") == 0)
		o.print_offset = tool_parse_bool(key, v);
	else if (strcmp(key, "print.headers") == 0)
		o.print_headers = tool_parse_bool(key, v);
	else if (strcmp(key, "key.separator") == 0) {
		free(o.key_sep);
		o.key_sep = tool_unescape(v);
	} else if (strcmp(key, "line.separator") == 0) {
		free(o.line_sep);
		o.line_sep = tool_unescape(v);
	} else if (strcmp(key, "null.literal") == 0)
		o.null_literal = v;
	else
		tool_usage_error("--property: unknown output setting '%s'", key);
}

static void consumer_property(const char *key, const char *v)
{
	if (strcmp(key, "group.id") == 0)
		o.group = strdup(v);
	else if (strcmp(key, "group.instance.id") == 0)
		o.instance_id = strdup(v);
	else if (strcmp(key, "client.id") == 0)
		o.client_id = strdup(v);
	else if (strcmp(key, "auto.offset.reset") == 0) {
		if (strcmp(v, "earliest") == 0)
			o.from_beginning = true;
		else if (strcmp(v, "latest") == 0)
			o.from_beginning = false;
		else
			tool_usage_error("auto.offset.reset: '%s' is not "
					 "earliest or latest", v);
	} else if (strcmp(key, "enable.auto.commit") == 0)
		o.auto_commit = tool_parse_bool(key, v);
	else if (strcmp(key, "auto.commit.interval.ms") == 0)
		o.commit_interval_ms = tool_opt_i32(key, v, 1, INT32_MAX);
	else if (strcmp(key, "session.timeout.ms") == 0)
		o.session_timeout_ms = tool_opt_i32(key, v, 1, INT32_MAX);
	else if (strcmp(key, "heartbeat.interval.ms") == 0)
		o.heartbeat_ms = tool_opt_i32(key, v, 1, INT32_MAX);
	else if (strcmp(key, "fetch.max.wait.ms") == 0)
		o.fetch_wait_ms = tool_opt_i32(key, v, 0, INT32_MAX);
	else if (strcmp(key, "max.partition.fetch.bytes") == 0)
		o.partition_max_bytes = tool_opt_i32(key, v, 1, INT32_MAX);
	else if (strcmp(key, "isolation.level") == 0)
		o.isolation = parse_isolation(v);
	else if (strcmp(key, "bootstrap.servers") == 0)
		o.t.bootstrap = strdup(v);
	else if (tool_security_property("consumer settings", key, v))
		;	/* applied by tool_cluster_open */
	else
		tool_usage_error("consumer setting '%s' is not one this tool "
				 "uses", key);
}


static struct tool_fetcher fe;
static int64_t printed;

/* ---------------------------------------------------------------- group */

static struct {
	struct kp_conn *coord;
	char *member_id;
	int32_t generation;
	char *protocol;
	int64_t next_heartbeat;
	int64_t next_commit;
	bool rejoin;
} g;

static struct kp_conn *coordinator(void)
{
	int16_t err;

	if (g.coord != NULL && kp_conn_state(g.coord) == KP_CONN_READY)
		return g.coord;
	g.coord = tool_coordinator(&cl, o.group, &err);
	if (g.coord == NULL)
		tool_die("group '%s': no coordinator: %s", o.group,
			 tool_err(err));
	return g.coord;
}

/* Kafka's range assignor for one topic: members sorted by id. */
static int cmp_member(const void *a, const void *b)
{
	const struct kp_join_group_resp_join_group_response_member *x = a, *y = b;
	int32_t n = x->member_id.len < y->member_id.len ? x->member_id.len :
		    y->member_id.len;
	int c = memcmp(x->member_id.ptr, y->member_id.ptr, (size_t)n);

	return c != 0 ? c : (x->member_id.len > y->member_id.len) -
			    (x->member_id.len < y->member_id.len);
}

static void range_assign(struct kp_join_group_resp *jr, struct kp_arena *a,
			 struct kp_sync_group_req *sreq)
{
	const struct kp_metadata_resp_metadata_response_topic *t;
	const char *one[1] = { o.topic };
	struct kp_sync_group_req_sync_group_request_assignment *as;
	int32_t np, m = 0, idx = 0;
	int32_t *subscribed;

	tool_metadata(&cl, one, 1, false);
	t = tool_md_topic(&cl, o.topic);
	np = t != NULL && t->error_code == 0 ? t->partitions_count : 0;
	qsort(jr->members, (size_t)jr->members_count, sizeof(*jr->members),
	      cmp_member);
	as = kp_arena_calloc(a, (size_t)jr->members_count + 1, sizeof(*as));
	subscribed = kp_arena_calloc(a, (size_t)jr->members_count + 1,
				     sizeof(*subscribed));
	if (as == NULL || subscribed == NULL)
		tool_die("out of memory");
	for (int i = 0; i < jr->members_count; i++)
		if (kp_consumer_subscribes(jr->members[i].metadata,
					   kp_str_c(o.topic)))
			subscribed[m++] = i;
	for (int i = 0; i < jr->members_count; i++) {
		struct kp_consumer_assignment ca = { 0, NULL, 0, KP_BYTES_NULL };
		struct kp_consumer_tps tps;
		struct kp_wbuf w;
		int k = -1;

		for (int s = 0; s < m; s++)
			if (subscribed[s] == i)
				k = s;
		if (k >= 0 && np > 0) {
			int32_t per = np / m, extra = np % m;
			int32_t start = k * per + (k < extra ? k : extra);
			int32_t len = per + (k < extra ? 1 : 0);

			tps.topic = kp_str_c(o.topic);
			tps.partitions = kp_arena_calloc(a, (size_t)len + 1,
							 sizeof(int32_t));
			if (tps.partitions == NULL)
				tool_die("out of memory");
			for (int32_t p = 0; p < len; p++)
				tps.partitions[p] = t->partitions[start + p].partition_index;
			tps.count = len;
			ca.topics = &tps;
			ca.count = 1;
		}
		kp_wbuf_init(&w);
		kp_consumer_assignment_encode(&w, &ca);
		as[idx].member_id = jr->members[i].member_id;
		as[idx].assignment.ptr = kp_arena_alloc(a, w.len);
		if (as[idx].assignment.ptr == NULL || w.err)
			tool_die("out of memory");
		memcpy((uint8_t *)as[idx].assignment.ptr, w.data, w.len);
		as[idx].assignment.len = (int32_t)w.len;
		idx++;
		kp_wbuf_free(&w);
	}
	sreq->assignments = as;
	sreq->assignments_count = idx;
}

static void fetch_committed(void)
{
	struct kp_offset_fetch_req req;
	struct kp_offset_fetch_resp resp;
	struct kp_offset_fetch_req_offset_fetch_request_topic t;
	struct kp_arena a;
	int32_t *ids = calloc((size_t)fe.nparts + 1, sizeof(*ids));

	if (ids == NULL)
		tool_die("out of memory");
	if (fe.nparts == 0) {
		free(ids);
		return;
	}
	for (int i = 0; i < fe.nparts; i++)
		ids[i] = fe.parts[i].id;
	kp_arena_init(&a, 0);
	kp_struct_init(&kp_offset_fetch_req_desc, &req);
	memset(&t, 0, sizeof(t));
	t.name = kp_str_c(o.topic);
	t.partition_indexes = ids;
	t.partition_indexes_count = fe.nparts;
	req.group_id = kp_str_c(o.group);
	req.topics = &t;
	req.topics_count = 1;
	tool_call(coordinator(), KP_API_OFFSET_FETCH, &req, &resp, &a,
		  "OffsetFetch");
	if (resp.error_code != 0)
		tool_die("group '%s': OffsetFetch: %s", o.group,
			 tool_err(resp.error_code));
	for (int k = 0; k < resp.topics_count; k++)
		for (int p = 0; p < resp.topics[k].partitions_count; p++) {
			const struct kp_offset_fetch_resp_offset_fetch_response_partition *fp =
				&resp.topics[k].partitions[p];

			for (int i = 0; i < fe.nparts; i++)
				if (fe.parts[i].id == fp->partition_index &&
				    fp->error_code == 0)
					fe.parts[i].committed = fp->committed_offset;
		}
	kp_arena_free(&a);
	free(ids);
}

static void join_group(void)
{
	int64_t deadline = tool_mono_ms() + 300000;

	for (;;) {
		struct kp_join_group_req jreq;
		struct kp_join_group_resp jresp;
		struct kp_join_group_req_join_group_request_protocol proto;
		struct kp_sync_group_req sreq;
		struct kp_sync_group_resp sresp;
		struct kp_consumer_assignment ca;
		struct kp_arena a;
		struct kp_wbuf sub;
		const char *topics[1] = { o.topic };
		bool leader;

		if (stop)
			return;
		if (tool_mono_ms() > deadline)
			tool_die("group '%s': could not join", o.group);
		kp_arena_init(&a, 0);
		kp_wbuf_init(&sub);
		kp_consumer_subscription_encode(&sub, topics, 1);
		kp_struct_init(&kp_join_group_req_desc, &jreq);
		kp_struct_init(&kp_join_group_req_join_group_request_protocol_desc,
			       &proto);
		proto.name = kp_str_c("range");
		proto.metadata = (kp_bytes){ sub.data, (int32_t)sub.len };
		jreq.group_id = kp_str_c(o.group);
		jreq.session_timeout_ms = o.session_timeout_ms;
		jreq.rebalance_timeout_ms = 60000;
		jreq.member_id = kp_str_c(g.member_id ? g.member_id : "");
		jreq.group_instance_id = o.instance_id ?
					 kp_str_c(o.instance_id) : KP_STR_NULL;
		jreq.protocol_type = kp_str_c("consumer");
		jreq.protocols = &proto;
		jreq.protocols_count = 1;
		tool_call(coordinator(), KP_API_JOIN_GROUP, &jreq, &jresp, &a,
			  "JoinGroup");
		kp_wbuf_free(&sub);
		if (jresp.error_code == KP_ERR_MEMBER_ID_REQUIRED ||
		    jresp.error_code == KP_ERR_UNKNOWN_MEMBER_ID) {
			free(g.member_id);
			g.member_id = jresp.error_code == KP_ERR_MEMBER_ID_REQUIRED ?
				      kp_str_dup(jresp.member_id) : NULL;
			kp_arena_free(&a);
			continue;
		}
		if (jresp.error_code == KP_ERR_NOT_COORDINATOR ||
		    jresp.error_code == KP_ERR_COORDINATOR_NOT_AVAILABLE ||
		    jresp.error_code == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
		    jresp.error_code == KP_ERR_REBALANCE_IN_PROGRESS) {
			g.coord = NULL;
			kp_arena_free(&a);
			usleep(200 * 1000);
			continue;
		}
		if (jresp.error_code != 0)
			tool_die("group '%s': JoinGroup: %s", o.group,
				 tool_err(jresp.error_code));
		free(g.member_id);
		g.member_id = kp_str_dup(jresp.member_id);
		g.generation = jresp.generation_id;
		leader = kp_str_eq(jresp.leader, jresp.member_id);
		kp_struct_init(&kp_sync_group_req_desc, &sreq);
		sreq.group_id = kp_str_c(o.group);
		sreq.generation_id = g.generation;
		sreq.member_id = kp_str_c(g.member_id);
		sreq.group_instance_id = jreq.group_instance_id;
		sreq.protocol_type = kp_str_c("consumer");
		sreq.protocol_name = jresp.protocol_name;
		sreq.assignments = NULL;
		sreq.assignments_count = 0;
		if (leader)
			range_assign(&jresp, &a, &sreq);
		tool_call(coordinator(), KP_API_SYNC_GROUP, &sreq, &sresp, &a,
			  "SyncGroup");
		if (sresp.error_code == KP_ERR_REBALANCE_IN_PROGRESS ||
		    sresp.error_code == KP_ERR_ILLEGAL_GENERATION) {
			kp_arena_free(&a);
			continue;
		}
		if (sresp.error_code != 0)
			tool_die("group '%s': SyncGroup: %s", o.group,
				 tool_err(sresp.error_code));
		if (kp_consumer_assignment_decode(sresp.assignment, &a, &ca) != 0)
			tool_die("group '%s': malformed assignment", o.group);
		{
			int32_t ids[4096];
			int n = 0;

			for (int t = 0; t < ca.count; t++) {
				if (!kp_str_eqc(ca.topics[t].topic, o.topic))
					continue;
				for (int p = 0; p < ca.topics[t].count &&
						n < (int)(sizeof(ids) / sizeof(ids[0])); p++)
					ids[n++] = ca.topics[t].partitions[p];
			}
			tool_fetcher_assign(&fe, ids, n);
		}
		kp_arena_free(&a);
		fetch_committed();
		tool_fetcher_resolve(&fe);
		g.rejoin = false;
		g.next_heartbeat = tool_mono_ms() + o.heartbeat_ms;
		return;
	}
}

/* Commit what was printed (positions that moved past the committed). */
static void commit(bool final)
{
	struct kp_offset_commit_req req;
	struct kp_offset_commit_resp resp;
	struct kp_offset_commit_req_offset_commit_request_topic t;
	struct kp_offset_commit_req_offset_commit_request_partition *ps;
	struct kp_arena a;
	int n = 0;

	/* As Kafka's consumer: nothing is committed without auto commit. */
	(void)final;
	if (o.group == NULL || fe.nparts == 0 || !o.auto_commit)
		return;
	kp_arena_init(&a, 0);
	ps = kp_arena_calloc(&a, (size_t)fe.nparts, sizeof(*ps));
	if (ps == NULL)
		tool_die("out of memory");
	for (int i = 0; i < fe.nparts; i++) {
		if (fe.parts[i].pos < 0 || fe.parts[i].pos == fe.parts[i].committed)
			continue;
		kp_struct_init(&kp_offset_commit_req_offset_commit_request_partition_desc,
			       &ps[n]);
		ps[n].partition_index = fe.parts[i].id;
		ps[n].committed_offset = fe.parts[i].pos;
		ps[n].committed_leader_epoch = -1;
		ps[n].commit_timestamp = -1;
		ps[n].committed_metadata = kp_str_c("");
		n++;
	}
	if (n > 0) {
		kp_struct_init(&kp_offset_commit_req_desc, &req);
		memset(&t, 0, sizeof(t));
		t.name = kp_str_c(o.topic);
		t.partitions = ps;
		t.partitions_count = n;
		req.group_id = kp_str_c(o.group);
		req.generation_id = g.generation;
		req.member_id = kp_str_c(g.member_id ? g.member_id : "");
		req.group_instance_id = o.instance_id ? kp_str_c(o.instance_id) :
					KP_STR_NULL;
		req.retention_time_ms = -1;
		req.topics = &t;
		req.topics_count = 1;
		tool_call(coordinator(), KP_API_OFFSET_COMMIT, &req, &resp, &a,
			  "OffsetCommit");
		for (int k = 0; k < resp.topics_count; k++)
			for (int p = 0; p < resp.topics[k].partitions_count; p++) {
				int16_t e = resp.topics[k].partitions[p].error_code;
				int32_t id = resp.topics[k].partitions[p].partition_index;

				if (e != 0) {
					tool_warn("%s-%" PRId32 ": commit: %s",
						  o.topic, id, tool_err(e));
					if (e == KP_ERR_REBALANCE_IN_PROGRESS ||
					    e == KP_ERR_ILLEGAL_GENERATION ||
					    e == KP_ERR_UNKNOWN_MEMBER_ID)
						g.rejoin = true;
					continue;
				}
				for (int i = 0; i < fe.nparts; i++)
					if (fe.parts[i].id == id)
						fe.parts[i].committed = fe.parts[i].pos;
			}
	}
	kp_arena_free(&a);
	g.next_commit = tool_mono_ms() + o.commit_interval_ms;
}

static void heartbeat(void)
{
	struct kp_heartbeat_req req;
	struct kp_heartbeat_resp resp;
	struct kp_arena a;

	if (o.group == NULL || tool_mono_ms() < g.next_heartbeat)
		return;
	kp_arena_init(&a, 0);
	kp_struct_init(&kp_heartbeat_req_desc, &req);
	req.group_id = kp_str_c(o.group);
	req.generation_id = g.generation;
	req.member_id = kp_str_c(g.member_id);
	req.group_instance_id = o.instance_id ? kp_str_c(o.instance_id) :
				KP_STR_NULL;
	tool_call(coordinator(), KP_API_HEARTBEAT, &req, &resp, &a,
		  "Heartbeat");
	if (resp.error_code == KP_ERR_REBALANCE_IN_PROGRESS) {
		commit(false);
		g.rejoin = true;
	} else if (resp.error_code == KP_ERR_UNKNOWN_MEMBER_ID ||
		   resp.error_code == KP_ERR_ILLEGAL_GENERATION) {
		g.rejoin = true;
	} else if (resp.error_code == KP_ERR_NOT_COORDINATOR ||
		   resp.error_code == KP_ERR_COORDINATOR_NOT_AVAILABLE) {
		g.coord = NULL;
	} else if (resp.error_code == KP_ERR_FENCED_INSTANCE_ID) {
		tool_die("group '%s': another member took group.instance.id "
			 "'%s'", o.group, o.instance_id);
	}
	kp_arena_free(&a);
	g.next_heartbeat = tool_mono_ms() + o.heartbeat_ms;
}

static void leave_group(void)
{
	struct kp_leave_group_req req;
	struct kp_leave_group_resp resp;
	struct kp_leave_group_req_member_identity me;
	struct kp_arena a;

	/* A static member does not leave: it is expected back (KIP-345). */
	if (o.group == NULL || g.member_id == NULL || o.instance_id != NULL)
		return;
	kp_arena_init(&a, 0);
	kp_struct_init(&kp_leave_group_req_desc, &req);
	memset(&me, 0, sizeof(me));
	me.member_id = kp_str_c(g.member_id);
	me.group_instance_id = KP_STR_NULL;
	req.group_id = kp_str_c(o.group);
	req.member_id = me.member_id;
	req.members = &me;
	req.members_count = 1;
	if (kp_conn_call(coordinator(), KP_API_LEAVE_GROUP, -1, &req, &resp,
			 &a) != 0)
		tool_warn("group '%s': LeaveGroup failed", o.group);
	kp_arena_free(&a);
}

/* ---------------------------------------------------------------- output */

static void put_bytes(kp_bytes b)
{
	if (b.len < 0)
		fputs(o.null_literal, stdout);
	else
		fwrite(b.ptr, 1, (size_t)b.len, stdout);
}

static void print_record(int32_t partition, const struct kp_record *r,
			 bool log_append)
{
	bool any = false;

	if (o.print_ts) {
		printf("%s:%" PRId64, log_append ? "LogAppendTime" :
		       "CreateTime", r->timestamp);
		any = true;
	}
	if (o.print_partition) {
		printf("%sPartition:%" PRId32, any ? o.key_sep : "", partition);
		any = true;
	}
	if (o.print_offset) {
		printf("%sOffset:%" PRId64, any ? o.key_sep : "", r->offset);
		any = true;
	}
	if (o.print_headers) {
		struct kp_reader hr;

		fputs(any ? o.key_sep : "", stdout);
		if (r->header_count == 0)
			fputs("NO_HEADERS", stdout);
		kp_reader_init(&hr, r->headers, r->headers_len);
		for (int32_t i = 0; i < r->header_count; i++) {
			struct kp_record_header h;

			if (kp_record_header_next(&hr, &h) != 0)
				break;
			printf("%s%.*s:", i ? "," : "", h.key.len, h.key.ptr);
			put_bytes(h.value);
		}
		any = true;
	}
	if (o.print_key) {
		fputs(any ? o.key_sep : "", stdout);
		put_bytes(r->key);
		any = true;
	}
	if (o.print_value) {
		fputs(any ? o.key_sep : "", stdout);
		put_bytes(r->value);
	}
	fputs(o.line_sep, stdout);
}

static bool on_record(void *arg, int32_t partition, const struct kp_record *r,
		      bool log_append)
{
	(void)arg;
	if (stop || (o.max_messages >= 0 && printed >= o.max_messages))
		return false;
	print_record(partition, r, log_append);
	printed++;
	return true;
}

int main(int argc, char **argv)
{
	enum {
		O_TOPIC = 256, O_GROUP, O_PART, O_OFFSET, O_BEGIN,
		O_MAX, O_ISO, O_PROP, O_CPROP, O_CCONF,
	};
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "group", required_argument, NULL, O_GROUP },
		{ "partition", required_argument, NULL, O_PART },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "from-beginning", no_argument, NULL, O_BEGIN },
		{ "max-messages", required_argument, NULL, O_MAX },
		{ "isolation-level", required_argument, NULL, O_ISO },
		{ "property", required_argument, NULL, O_PROP },
		{ "consumer-property", required_argument, NULL, O_CPROP },
		{ "consumer.config", required_argument, NULL, O_CCONF },
		TOOL_OPTIONS_TAIL,
	};
	int c;
	int64_t last_record;

	tool_name = "kconsole-consumer";
	o.t.usage = usage;
	o.key_sep = strdup("\t");
	o.line_sep = strdup("\n");
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_TOPIC: o.topic = optarg; break;
		case O_GROUP: o.group = optarg; break;
		case O_PART:
			o.partition = tool_opt_i32("--partition", optarg, 0,
						   INT32_MAX);
			break;
		case O_OFFSET: o.offset = optarg; break;
		case O_BEGIN: o.from_beginning = true; break;
		case O_MAX:
			o.max_messages = tool_opt_i64("--max-messages", optarg,
						      1, INT64_MAX);
			break;
		case O_ISO: o.isolation = parse_isolation(optarg); break;
		case O_PROP: output_property(optarg); break;
		case O_CPROP:
			tool_property("--consumer-property", optarg,
				      consumer_property);
			break;
		case O_CCONF:
			tool_read_properties("--consumer.config", optarg,
					     consumer_property);
			break;
		}
	}
	tool_need_bootstrap_topic(&o.t, o.topic);
	if (o.group != NULL && (o.partition >= 0 || o.offset != NULL))
		tool_usage_error("--partition and --offset do not go with "
				 "--group (the group assigns partitions)");
	if (o.offset != NULL && strcmp(o.offset, "earliest") != 0 &&
	    strcmp(o.offset, "latest") != 0 && o.partition < 0)
		tool_usage_error("--offset N needs --partition");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	tool_cluster_open(&cl, o.t.bootstrap, o.client_id, o.connect_timeout_ms);
	/* JoinGroup may wait for a whole rebalance. */
	cl.opts.request_timeout_ms = 90000;
	tool_fetcher_init(&fe, &cl, o.topic);
	fe.on_record = on_record;
	tool_metadata(&cl, NULL, 0, true);
	{
		const struct kp_metadata_resp_metadata_response_topic *t =
			tool_md_topic(&cl, o.topic);

		if (t == NULL || t->error_code != 0)
			tool_die("topic '%s' does not exist", o.topic);
		if (o.group == NULL) {
			int32_t *ids = calloc((size_t)t->partitions_count + 1,
					      sizeof(*ids));
			int n = 0;

			if (ids == NULL)
				tool_die("out of memory");
			for (int i = 0; i < t->partitions_count; i++)
				if (o.partition < 0 ||
				    t->partitions[i].partition_index == o.partition)
					ids[n++] = t->partitions[i].partition_index;
			if (n == 0)
				tool_die("topic '%s' has no partition %" PRId32,
					 o.topic, o.partition);
			tool_fetcher_assign(&fe, ids, n);
			free(ids);
		}
	}
	if (o.offset != NULL) {
		if (strcmp(o.offset, "earliest") == 0)
			o.from_beginning = true;
		else if (strcmp(o.offset, "latest") == 0)
			o.from_beginning = false;
		else
			fe.parts[0].pos = tool_opt_i64("--offset", o.offset, 0,
						    INT64_MAX);
	}
	fe.isolation = o.isolation;
	fe.wait_ms = o.fetch_wait_ms;
	fe.partition_max_bytes = o.partition_max_bytes;
	fe.from_beginning = o.from_beginning;
	if (o.group != NULL)
		join_group();
	else
		tool_fetcher_resolve(&fe);
	g.next_commit = tool_mono_ms() + o.commit_interval_ms;
	last_record = tool_mono_ms();
	while (!stop && (o.max_messages < 0 || printed < o.max_messages)) {
		if (o.group != NULL) {
			heartbeat();
			if (g.rejoin) {
				join_group();
				continue;
			}
			if (tool_mono_ms() >= g.next_commit)
				commit(false);
		}
		if (fe.nparts == 0) {
			usleep(100 * 1000);
		} else if (tool_fetcher_round(&fe)) {
			last_record = tool_mono_ms();
		}
		fflush(stdout);
		if (o.t.timeout_ms > 0 &&
		    tool_mono_ms() - last_record >= o.t.timeout_ms)
			break;
		if (ferror(stdout))
			break;	/* the reader went away */
	}
	if (o.group != NULL) {
		commit(true);
		leave_group();
	}
	fprintf(stderr, "Processed a total of %" PRId64 " messages\n", printed);
	tool_fetcher_free(&fe);
	tool_cluster_close(&cl);
		free(g.member_id);
	free(o.key_sep);
	free(o.line_sep);
	return TOOL_EXIT_OK;
}
