/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kconsumer-groups - list, describe, reset, delete consumer groups and
 * watch their lag, with the options of Kafka's kafka-consumer-groups.sh.
 *
 * Lag is what Kafka's tool prints: the partition's log end offset
 * (ListOffsets latest at its leader) minus the group's committed offset
 * (OffsetFetch at the group's coordinator).  Partitions assigned to a
 * member but never committed show "-" for both offset and lag.
 *
 * Messages that are not data ("has no active members") go to stderr, so
 * stdout is only the table (or the JSON with --json).
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "tool.h"

enum action { NONE, LIST, DESCRIBE, RESET, DELETE, DELETE_OFFSETS, WATCH };
enum view { V_OFFSETS, V_MEMBERS, V_STATE };
enum scenario {
	S_NONE, S_EARLIEST, S_LATEST, S_CURRENT, S_OFFSET, S_SHIFT,
	S_DATETIME, S_DURATION,
};

static struct {
	enum action action;
	enum view view;
	enum scenario scenario;
	struct tool_opts t;	/* --bootstrap-server, --timeout-ms */
	const char **groups;
	int ngroups;
	bool all_groups;
	const char **topics;	/* TOPIC or TOPIC:P,P */
	int ntopics;
	bool all_topics;
	int64_t value;		/* --to-offset, --shift-by, timestamp */
	bool execute;
	bool verbose;
	bool state_filter;
	bool json;
	int interval_ms;
	int iterations;
} o = { .t.timeout_ms = 30000, .interval_ms = 1000 };

static struct tool_cluster cl;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kconsumer-groups --bootstrap-server HOST:PORT[,...] ACTION [OPTIONS]\n"
		"List, describe, reset, delete consumer groups; watch their lag.\n"
		"\n"
		"Actions (exactly one):\n"
		"  --list                 every group of the cluster (--state adds its state)\n"
		"  --describe             the offsets and lag of --group (or --all-groups);\n"
		"                         --members or --state for the other views\n"
		"  --reset-offsets        move an inactive group's committed offsets\n"
		"  --delete               delete inactive groups\n"
		"  --delete-offsets       delete an inactive group's offsets of --topic\n"
		"  --watch                redraw the lag of --group per partition, with bars\n"
		"\n"
		"Options:\n"
		"  --bootstrap-server LIST  brokers to connect to first (required)\n"
		"  --command-config FILE    client properties: client.id, timeouts,\n"
		"                           security.protocol, ssl.*, sasl.*\n"
		"  --group GROUP          the group (repeatable)\n"
		"  --all-groups           every group\n"
		"  --members              describe: one row per member\n"
		"  --verbose              describe --members: with each member's partitions\n"
		"  --state                describe: the group's state and coordinator;\n"
		"                         list: each group's state\n"
		"  --offsets              describe: offsets and lag (the default view)\n"
		"  --topic TOPIC[:P,P]    reset/delete-offsets: the topic (repeatable)\n"
		"  --all-topics           reset: every topic the group has offsets for\n"
		"  --to-earliest          reset to the log start offset\n"
		"  --to-latest            reset to the log end offset\n"
		"  --to-current           reset to the committed offset (no change)\n"
		"  --to-offset N          reset to offset N (clamped to the log)\n"
		"  --shift-by N           move the committed offset by N (may be negative)\n"
		"  --to-datetime TIME     reset to the first offset at or after TIME\n"
		"                         (YYYY-MM-DDTHH:mm:SS[.sss], UTC unless it ends\n"
		"                         in Z or +hh:mm / -hh:mm)\n"
		"  --by-duration DURATION reset to the first offset at or after now minus\n"
		"                         DURATION (ISO 8601, e.g. PT15M, P1DT2H)\n"
		"  --dry-run              reset: print the new offsets only (the default)\n"
		"  --execute              reset: commit the new offsets\n"
		"  --interval-ms MS       watch: time between redraws (1000)\n"
		"  --iterations N         watch: stop after N redraws (default: until ^C)\n"
		"  --json                 machine-readable output\n"
		"  --timeout-ms MS        patience for the cluster (30000)\n"
		"  --help                 this text\n"
		"  --version              the program's version\n"
		"\n"
		"Exit status: 0 success, 1 a group is missing, active when it must not\n"
		"be, or the cluster refused; 2 bad usage.\n");
}

static void set_action(enum action a)
{
	if (o.action != NONE && o.action != a)
		tool_usage_error("give only one of --list, --describe, "
				 "--reset-offsets, --delete, --delete-offsets, "
				 "--watch");
	o.action = a;
}

static void set_scenario(enum scenario s)
{
	if (o.scenario != S_NONE)
		tool_usage_error("give only one reset scenario");
	o.scenario = s;
}

/* -------------------------------------------------------------- listing */

struct listed {
	char *group;
	char *state;
	char *protocol_type;
	int32_t coordinator;
};

static int cmp_listed(const void *a, const void *b)
{
	return strcmp(((const struct listed *)a)->group,
		      ((const struct listed *)b)->group);
}

/* ListGroups at every broker: each lists the groups it coordinates. */
static struct listed *list_all(int *count, int *failed)
{
	struct listed *v = NULL;
	int n = 0, cap = 0;

	*failed = 0;
	for (int i = 0; i < cl.nbrokers; i++) {
		struct kp_list_groups_req req;
		struct kp_list_groups_resp resp;
		struct kp_arena a;
		struct kp_conn *c = tool_broker_conn(&cl, cl.brokers[i].id);
		int rc;

		if (c == NULL) {
			*failed = 1;
			continue;
		}
		kp_arena_init(&a, 0);
		kp_struct_init(&kp_list_groups_req_desc, &req);
		rc = kp_conn_call(c, KP_API_LIST_GROUPS, -1, &req, &resp, &a);
		if (rc != 0 || resp.error_code != 0) {
			tool_warn("ListGroups at broker %" PRId32 ": %s",
				  cl.brokers[i].id, rc != 0 ? strerror(-rc) :
				  tool_err(resp.error_code));
			*failed = 1;
			kp_arena_free(&a);
			continue;
		}
		for (int g = 0; g < resp.groups_count; g++) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				v = realloc(v, (size_t)cap * sizeof(*v));
				if (v == NULL)
					tool_die("out of memory");
			}
			v[n].group = kp_str_dup(resp.groups[g].group_id);
			v[n].state = resp.groups[g].group_state.len > 0 ?
				kp_str_dup(resp.groups[g].group_state) : NULL;
			v[n].protocol_type = kp_str_dup(resp.groups[g].protocol_type);
			v[n].coordinator = cl.brokers[i].id;
			n++;
		}
		kp_arena_free(&a);
	}
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), cmp_listed);
	*count = n;
	return v;
}

/*
 * ListGroups before v4 carries no state: ask each group's coordinator with
 * one DescribeGroups per broker.
 */
static void fill_states(struct listed *v, int n)
{
	for (int i = 0; i < cl.nbrokers; i++) {
		struct kp_describe_groups_req req;
		struct kp_describe_groups_resp resp;
		struct kp_arena a;
		struct kp_conn *c;
		kp_str *names;
		int m = 0;

		kp_arena_init(&a, 0);
		names = kp_arena_calloc(&a, (size_t)n + 1, sizeof(*names));
		if (names == NULL)
			tool_die("out of memory");
		for (int g = 0; g < n; g++)
			if (v[g].coordinator == cl.brokers[i].id &&
			    v[g].state == NULL)
				names[m++] = kp_str_c(v[g].group);
		c = m > 0 ? tool_broker_conn(&cl, cl.brokers[i].id) : NULL;
		if (c != NULL) {
			kp_struct_init(&kp_describe_groups_req_desc, &req);
			req.groups = names;
			req.groups_count = m;
			tool_call(c, KP_API_DESCRIBE_GROUPS, &req, &resp, &a,
				  "DescribeGroups");
			for (int r = 0; r < resp.groups_count; r++)
				for (int g = 0; g < n; g++)
					if (v[g].state == NULL &&
					    kp_str_eqc(resp.groups[r].group_id,
						       v[g].group))
						v[g].state = kp_str_dup(
							resp.groups[r].group_state);
		}
		kp_arena_free(&a);
	}
}

static void free_listed(struct listed *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].group);
		free(v[i].state);
		free(v[i].protocol_type);
	}
	free(v);
}

static int do_list(void)
{
	int n, failed;
	struct listed *v = list_all(&n, &failed);
	json_t *rows = json_array();
	static const char *const hdr[] = { "GROUP", "STATE" };

	if (o.state_filter || o.json)
		fill_states(v, n);
	static const char *const keys[] = { "group", "state" };

	for (int i = 0; i < n; i++)
		json_array_append_new(rows, json_pack("{s:s, s:s?, s:s?, s:i}",
			"group", v[i].group, "state", v[i].state,
			"protocol_type", v[i].protocol_type, "coordinator",
			v[i].coordinator));
	if (o.json || o.state_filter) {
		tool_print_rows(stdout, rows, hdr, keys, 2, o.json);
	} else {
		for (int i = 0; i < n; i++)
			printf("%s\n", v[i].group);
	}
	json_decref(rows);
	free_listed(v, n);
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* ------------------------------------------------------- one group view */

struct row {
	char *topic;
	int32_t partition;
	int64_t committed;	/* -1: none */
	int64_t log_end;	/* -1: unknown */
	const char *member;	/* NULL: no active member owns it */
	const char *host;
	const char *client;
};

struct group_view {
	const char *group;
	int32_t coordinator;
	struct kp_arena a;
	struct kp_describe_groups_resp_described_group *desc;	/* or NULL */
	struct row *rows;
	int nrows, cap;
	int16_t err;
};

static struct row *view_row(struct group_view *gv, kp_str topic, int32_t p)
{
	for (int i = 0; i < gv->nrows; i++)
		if (gv->rows[i].partition == p &&
		    kp_str_eqc(topic, gv->rows[i].topic))
			return &gv->rows[i];
	if (gv->nrows == gv->cap) {
		gv->cap = gv->cap ? 2 * gv->cap : 32;
		gv->rows = realloc(gv->rows, (size_t)gv->cap * sizeof(*gv->rows));
		if (gv->rows == NULL)
			tool_die("out of memory");
	}
	gv->rows[gv->nrows] = (struct row){
		.topic = kp_arena_strndup(&gv->a, topic.ptr, (size_t)topic.len),
		.partition = p, .committed = -1, .log_end = -1,
	};
	if (gv->rows[gv->nrows].topic == NULL)
		tool_die("out of memory");
	return &gv->rows[gv->nrows++];
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c != 0 ? c : (x->partition > y->partition) -
			    (x->partition < y->partition);
}

static char *cstr(struct kp_arena *a, kp_str s)
{
	if (s.len < 0)
		return NULL;
	return kp_arena_strndup(a, s.ptr, (size_t)s.len);
}

/*
 * Describe the group and fetch its committed offsets (and, with
 * log_ends, every partition's log end).  0, or 1 after a warning.
 */
static int load_group(struct group_view *gv, const char *group, bool offsets)
{
	struct kp_describe_groups_req dreq;
	struct kp_describe_groups_resp dresp;
	struct kp_offset_fetch_req freq;
	struct kp_offset_fetch_resp fresp;
	struct kp_conn *c;
	kp_str name = kp_str_c(group);
	struct tool_tp *tps;

	memset(gv, 0, sizeof(*gv));
	gv->group = group;
	kp_arena_init(&gv->a, 0);
	c = tool_coordinator(&cl, group, &gv->err);
	if (c == NULL) {
		tool_warn("group '%s': no coordinator: %s", group,
			  tool_err(gv->err));
		return 1;
	}
	kp_struct_init(&kp_describe_groups_req_desc, &dreq);
	dreq.groups = &name;
	dreq.groups_count = 1;
	tool_call(c, KP_API_DESCRIBE_GROUPS, &dreq, &dresp, &gv->a,
		  "DescribeGroups");
	if (dresp.groups_count != 1)
		tool_die("DescribeGroups: %d answers for one group",
			 dresp.groups_count);
	gv->desc = &dresp.groups[0];
	for (int i = 0; i < cl.nbrokers; i++)
		if (cl.brokers[i].conn == c)
			gv->coordinator = cl.brokers[i].id;
	if (gv->desc->error_code != 0) {
		gv->err = gv->desc->error_code;
		tool_warn("group '%s': %s", group, tool_err(gv->err));
		return 1;
	}
	/* Kafka answers Dead for a group it does not know. */
	if (kp_str_eqc(gv->desc->group_state, "Dead")) {
		gv->err = KP_ERR_GROUP_ID_NOT_FOUND;
		tool_warn("consumer group '%s' does not exist", group);
		return 1;
	}
	if (!offsets)
		return 0;
	kp_struct_init(&kp_offset_fetch_req_desc, &freq);
	freq.group_id = name;
	freq.topics = NULL;
	freq.topics_count = -1;	/* all */
	tool_call(c, KP_API_OFFSET_FETCH, &freq, &fresp, &gv->a, "OffsetFetch");
	if (fresp.error_code != 0) {
		gv->err = fresp.error_code;
		tool_warn("group '%s': OffsetFetch: %s", group,
			  tool_err(fresp.error_code));
		return 1;
	}
	for (int t = 0; t < fresp.topics_count; t++)
		for (int p = 0; p < fresp.topics[t].partitions_count; p++) {
			const struct kp_offset_fetch_resp_offset_fetch_response_partition *fp =
				&fresp.topics[t].partitions[p];

			if (fp->error_code != 0 || fp->committed_offset < 0)
				continue;
			view_row(gv, fresp.topics[t].name,
				 fp->partition_index)->committed =
				fp->committed_offset;
		}
	/* Assigned partitions, committed or not, with their owner. */
	for (int m = 0; m < gv->desc->members_count; m++) {
		const struct kp_describe_groups_resp_described_group_member *mb =
			&gv->desc->members[m];
		struct kp_consumer_assignment as;

		if (!kp_str_eqc(gv->desc->protocol_type, "consumer") ||
		    kp_consumer_assignment_decode(mb->member_assignment,
						  &gv->a, &as) != 0)
			continue;
		for (int t = 0; t < as.count; t++)
			for (int p = 0; p < as.topics[t].count; p++) {
				struct row *r = view_row(gv, as.topics[t].topic,
							 as.topics[t].partitions[p]);

				r->member = cstr(&gv->a, mb->member_id);
				r->host = cstr(&gv->a, mb->client_host);
				r->client = cstr(&gv->a, mb->client_id);
			}
	}
	if (gv->nrows > 0)
		qsort(gv->rows, (size_t)gv->nrows, sizeof(*gv->rows), cmp_row);
	tps = calloc((size_t)gv->nrows + 1, sizeof(*tps));
	if (tps == NULL)
		tool_die("out of memory");
	for (int i = 0; i < gv->nrows; i++)
		tps[i] = (struct tool_tp){ gv->rows[i].topic,
					   gv->rows[i].partition, -1, -1, 0 };
	tool_list_offsets(&cl, tps, gv->nrows, 0);
	for (int i = 0; i < gv->nrows; i++) {
		if (tps[i].err == 0)
			gv->rows[i].log_end = tps[i].offset;
		else
			tool_warn("%s-%" PRId32 ": log end offset: %s",
				  tps[i].topic, tps[i].partition,
				  tool_err(tps[i].err));
	}
	free(tps);
	return 0;
}

static void free_group(struct group_view *gv)
{
	free(gv->rows);
	kp_arena_free(&gv->a);
}

/* A protocol string as JSON: null stays null. */
static json_t *jstr(kp_str s)
{
	return s.len >= 0 && s.ptr != NULL ? json_stringn(s.ptr, (size_t)s.len) :
	       s.len == 0 ? json_string("") : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *offset_rows(struct group_view *gv)
{
	json_t *rows = json_array();

	for (int i = 0; i < gv->nrows; i++) {
		const struct row *r = &gv->rows[i];
		json_t *j = json_pack("{s:s, s:s, s:i}", "group", gv->group,
				      "topic", r->topic, "partition",
				      r->partition);

		json_object_set_new(j, "current_offset", r->committed >= 0 ?
				    json_integer(r->committed) : json_null());
		json_object_set_new(j, "log_end_offset", r->log_end >= 0 ?
				    json_integer(r->log_end) : json_null());
		json_object_set_new(j, "lag", r->committed >= 0 && r->log_end >= 0 ?
				    json_integer(r->log_end - r->committed) :
				    json_null());
		json_object_set_new(j, "consumer_id", str_or_null(r->member));
		json_object_set_new(j, "host", str_or_null(r->host));
		json_object_set_new(j, "client_id", str_or_null(r->client));
		json_array_append_new(rows, j);
	}
	return rows;
}

static void print_offsets(struct group_view *gv, json_t *all)
{
	static const char *const hdr[] = {
		"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
		"LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID",
	};
	static const char *const keys[] = {
		"group", "topic", "partition", "current_offset",
		"log_end_offset", "lag", "consumer_id", "host", "client_id",
	};
	json_t *rows = offset_rows(gv);

	if (all != NULL) {
		json_array_extend(all, rows);
	} else {
		if (gv->desc->members_count == 0)
			fprintf(stderr, "Consumer group '%s' has no active "
				"members.\n", gv->group);
		tool_print_rows(stdout, rows, hdr, keys, 9, false);
	}
	json_decref(rows);
}

static void print_members(struct group_view *gv, json_t *all)
{
	static const char *const hdr[] = {
		"GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST",
		"CLIENT-ID", "#PARTITIONS", "ASSIGNMENT",
	};
	static const char *const keys[] = {
		"group", "consumer_id", "group_instance_id", "host",
		"client_id", "partitions", "assignment",
	};
	json_t *rows = json_array();
	const struct kp_describe_groups_resp_described_group *d = gv->desc;

	for (int m = 0; m < d->members_count; m++) {
		const struct kp_describe_groups_resp_described_group_member *mb =
			&d->members[m];
		struct kp_consumer_assignment as;
		json_t *j, *assign = json_array();
		int np = 0;

		if (kp_str_eqc(d->protocol_type, "consumer") &&
		    kp_consumer_assignment_decode(mb->member_assignment,
						  &gv->a, &as) == 0) {
			for (int t = 0; t < as.count; t++) {
				char buf[512];
				int off;

				off = snprintf(buf, sizeof(buf), "%.*s(",
					       as.topics[t].topic.len,
					       as.topics[t].topic.ptr);
				for (int p = 0; p < as.topics[t].count &&
						off < (int)sizeof(buf); p++)
					off += snprintf(buf + off, sizeof(buf) - (size_t)off,
							"%s%" PRId32, p ? "," : "",
							as.topics[t].partitions[p]);
				if (off < (int)sizeof(buf))
					snprintf(buf + off, sizeof(buf) - (size_t)off, ")");
				json_array_append_new(assign, json_string(buf));
				np += as.topics[t].count;
			}
		}
		j = json_pack("{s:s, s:o, s:o, s:o, s:o, s:i}", "group",
			      gv->group, "consumer_id", jstr(mb->member_id),
			      "group_instance_id", jstr(mb->group_instance_id),
			      "host", jstr(mb->client_host),
			      "client_id", jstr(mb->client_id),
			      "partitions", np);
		if (o.verbose || o.json)
			json_object_set_new(j, "assignment", assign);
		else
			json_decref(assign);
		json_array_append_new(rows, j);
	}
	if (all != NULL) {
		json_array_extend(all, rows);
	} else {
		if (d->members_count == 0)
			fprintf(stderr, "Consumer group '%s' has no active "
				"members.\n", gv->group);
		tool_print_rows(stdout, rows, hdr, keys, o.verbose ? 7 : 6,
				false);
	}
	json_decref(rows);
}

static void print_state(struct group_view *gv, json_t *all)
{
	static const char *const hdr[] = {
		"GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE",
		"#MEMBERS",
	};
	static const char *const keys[] = {
		"group", "coordinator_text", "assignment_strategy", "state",
		"members",
	};
	const struct kp_describe_groups_resp_described_group *d = gv->desc;
	struct tool_broker *b = tool_broker(&cl, gv->coordinator);
	char coord[300];
	json_t *rows = json_array();

	snprintf(coord, sizeof(coord), "%s:%d (%" PRId32 ")",
		 b ? b->host : "?", b ? b->port : 0, gv->coordinator);
	json_array_append_new(rows, json_pack(
		"{s:s, s:i, s:s, s:o, s:o, s:o, s:i}", "group", gv->group,
		"coordinator", gv->coordinator, "coordinator_text", coord,
		"assignment_strategy", jstr(d->protocol_data),
		"state", jstr(d->group_state),
		"protocol_type", jstr(d->protocol_type),
		"members", d->members_count));
	if (all != NULL)
		json_array_extend(all, rows);
	else
		tool_print_rows(stdout, rows, hdr, keys, 5, false);
	json_decref(rows);
}

/* The groups named, or all of them. */
static const char **target_groups(int *n)
{
	const char **v;

	if (!o.all_groups) {
		*n = o.ngroups;
		return o.groups;
	}
	{
		int cnt, failed;
		struct listed *l = list_all(&cnt, &failed);

		v = calloc((size_t)cnt + 1, sizeof(*v));
		if (v == NULL)
			tool_die("out of memory");
		for (int i = 0; i < cnt; i++) {
			v[i] = l[i].group;
			l[i].group = NULL;
		}
		free_listed(l, cnt);
		*n = cnt;
	}
	return v;
}

static int do_describe(void)
{
	int n, failed = 0;
	const char **groups = target_groups(&n);
	json_t *all = o.json ? json_array() : NULL;

	for (int i = 0; i < n; i++) {
		struct group_view gv;

		if (load_group(&gv, groups[i], o.view == V_OFFSETS) != 0) {
			failed = 1;
			free_group(&gv);
			continue;
		}
		if (i > 0 && !o.json)
			printf("\n");
		switch (o.view) {
		case V_OFFSETS: print_offsets(&gv, all); break;
		case V_MEMBERS: print_members(&gv, all); break;
		case V_STATE: print_state(&gv, all); break;
		}
		free_group(&gv);
	}
	if (all != NULL) {
		tool_print_json(stdout, all);
		json_decref(all);
	}
	if (o.all_groups) {
		for (int i = 0; i < n; i++)
			free((char *)groups[i]);
		free(groups);
	}
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

/* -------------------------------------------------------------- watching */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void bar(int64_t lag, int64_t max, int width, bool utf8)
{
	/* Eighths of a cell, so small lags still show. */
	static const char *const part[] = {
		"", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a",
		"\u2589",
	};
	int64_t eighths;

	if (lag <= 0 || max <= 0)
		return;
	eighths = (lag * width * 8 + max - 1) / max;
	if (!utf8) {
		for (int64_t i = 0; i < (eighths + 7) / 8; i++)
			putchar('#');
		return;
	}
	for (int64_t i = 0; i < eighths / 8; i++)
		fputs("\u2588", stdout);
	fputs(part[eighths % 8], stdout);
}

static int do_watch(void)
{
	bool tty = isatty(STDOUT_FILENO);
	bool utf8;
	int rounds = 0, rc = TOOL_EXIT_OK;

	if (o.ngroups != 1 || o.all_groups)
		tool_usage_error("--watch needs exactly one --group");
	setlocale(LC_CTYPE, "");
	utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		struct group_view gv;
		int64_t max = 0, total = 0;
		size_t tw = 5;
		time_t now = time(NULL);
		char when[64];

		if (load_group(&gv, o.groups[0], true) != 0) {
			free_group(&gv);
			rc = TOOL_EXIT_FAIL;
			break;
		}
		for (int i = 0; i < gv.nrows; i++) {
			const struct row *r = &gv.rows[i];
			int64_t lag = r->committed >= 0 && r->log_end >= 0 ?
				      r->log_end - r->committed : 0;
			size_t w = strlen(r->topic) + 12;

			if (lag > max)
				max = lag;
			total += lag;
			if (w > tw)
				tw = w;
		}
		if (tty)
			fputs("\033[H\033[2J", stdout);	/* home, clear */
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
		printf("%s  group %s  %.*s  members %d  total lag %" PRId64 "\n\n",
		       when, gv.group, gv.desc->group_state.len,
		       gv.desc->group_state.ptr, gv.desc->members_count, total);
		for (int i = 0; i < gv.nrows; i++) {
			const struct row *r = &gv.rows[i];
			char tp[600];

			snprintf(tp, sizeof(tp), "%s-%" PRId32, r->topic,
				 r->partition);
			printf("%-*s ", (int)tw, tp);
			if (r->committed < 0 || r->log_end < 0) {
				printf("%10s  %s\n", "-", r->member ? r->member : "");
				continue;
			}
			printf("%10" PRId64 "  ", r->log_end - r->committed);
			bar(r->log_end - r->committed, max, 40, utf8);
			printf("\n");
		}
		fflush(stdout);
		free_group(&gv);
		if (o.iterations > 0 && ++rounds >= o.iterations)
			break;
		for (int waited = 0; waited < o.interval_ms && !stop; waited += 50)
			usleep(50 * 1000);
	}
	return rc;
}

/* --------------------------------------------------------------- resets */

/* "TOPIC" or "TOPIC:0,2" against the metadata: partitions to reset. */
static void add_topic_spec(struct group_view *gv, const char *spec)
{
	const char *colon = strchr(spec, ':');
	char *name = strndup(spec, colon ? (size_t)(colon - spec) : strlen(spec));
	const struct kp_metadata_resp_metadata_response_topic *t;

	if (name == NULL)
		tool_die("out of memory");
	t = tool_md_topic(&cl, name);
	if (t == NULL || t->error_code != 0)
		tool_die("topic '%s' does not exist", name);
	if (colon != NULL) {
		struct kp_arena a;
		int n;
		char **ps;

		kp_arena_init(&a, 0);
		ps = tool_split(&a, colon + 1, ',', &n);
		if (n == 0)
			tool_usage_error("--topic %s: no partitions after ':'",
					 spec);
		for (int i = 0; i < n; i++) {
			int32_t p = tool_opt_i32("--topic", ps[i], 0, INT32_MAX);

			if (tool_md_partition(t, p) == NULL)
				tool_die("topic '%s' has no partition %" PRId32,
					 name, p);
			view_row(gv, t->name, p)->log_end = -2;
		}
		kp_arena_free(&a);
	} else {
		for (int i = 0; i < t->partitions_count; i++)
			view_row(gv, t->name, t->partitions[i].partition_index)
				->log_end = -2;
	}
	free(name);
}

/* Kafka's --to-datetime formats; UTC when no zone is given. */
static bool parse_datetime(const char *s, int64_t *ms)
{
	struct tm tm;
	const char *rest;
	int64_t frac = 0, off = 0;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return false;
	if (*rest == '.') {
		int digits = 0;

		rest++;
		while (*rest >= '0' && *rest <= '9') {
			if (digits < 3) {
				frac = frac * 10 + (*rest - '0');
				digits++;
			}
			rest++;
		}
		if (digits == 0)
			return false;
		while (digits++ < 3)
			frac *= 10;
	}
	if (*rest == 'Z') {
		rest++;
	} else if (*rest == '+' || *rest == '-') {
		int hh, mm;

		if (sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2 &&
		    sscanf(rest + 1, "%2d%2d", &hh, &mm) != 2)
			return false;
		off = ((int64_t)hh * 60 + mm) * 60 * 1000;
		if (*rest == '-')
			off = -off;
		rest += strlen(rest);
	}
	if (*rest != '\0')
		return false;
	*ms = (int64_t)timegm(&tm) * 1000 + frac - off;
	return true;
}

/* ISO 8601 durations as Java's Duration.parse takes them: PnDTnHnMn.nS. */
static bool parse_duration(const char *s, int64_t *ms)
{
	bool neg = false, in_time = false, any = false;
	int64_t total = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s != 'P' && *s != 'p')
		return false;
	s++;
	while (*s) {
		char *end;
		double v;

		if (*s == 'T' || *s == 't') {
			if (in_time)
				return false;
			in_time = true;
			s++;
			continue;
		}
		v = strtod(s, &end);
		if (end == s)
			return false;
		switch (*end) {
		case 'D': case 'd':
			if (in_time)
				return false;
			total += (int64_t)(v * 86400000.0);
			break;
		case 'H': case 'h':
			if (!in_time)
				return false;
			total += (int64_t)(v * 3600000.0);
			break;
		case 'M': case 'm':
			if (!in_time)
				return false;
			total += (int64_t)(v * 60000.0);
			break;
		case 'S': case 's':
			if (!in_time)
				return false;
			total += (int64_t)(v * 1000.0);
			break;
		default:
			return false;
		}
		any = true;
		s = end + 1;
	}
	if (!any)
		return false;
	*ms = neg ? -total : total;
	return true;
}

static int do_reset(void)
{
	struct group_view gv;
	struct tool_tp *lo, *hi, *at = NULL;
	json_t *rows;
	int rc = TOOL_EXIT_OK;
	static const char *const hdr[] = { "GROUP", "TOPIC", "PARTITION",
					   "NEW-OFFSET" };
	static const char *const keys[] = { "group", "topic", "partition",
					    "new_offset" };

	if (o.ngroups != 1 || o.all_groups)
		tool_usage_error("--reset-offsets needs exactly one --group");
	if (o.scenario == S_NONE)
		tool_usage_error("--reset-offsets needs a scenario: --to-earliest, "
				 "--to-latest, --to-current, --to-offset, "
				 "--shift-by, --to-datetime or --by-duration");
	if ((o.ntopics > 0) == o.all_topics)
		tool_usage_error("--reset-offsets needs --topic or --all-topics");
	if (load_group(&gv, o.groups[0], true) != 0) {
		free_group(&gv);
		return TOOL_EXIT_FAIL;
	}
	/* Kafka refuses while consumers own the partitions: their next
	 * commit would undo the reset. */
	if (!kp_str_eqc(gv.desc->group_state, "Empty") &&
	    !kp_str_eqc(gv.desc->group_state, "Dead")) {
		tool_warn("assignments can only be reset if the group '%s' is "
			  "inactive, but the current state is %.*s", gv.group,
			  gv.desc->group_state.len, gv.desc->group_state.ptr);
		free_group(&gv);
		return TOOL_EXIT_FAIL;
	}
	/* Mark the partitions to reset with log_end -2. */
	if (o.all_topics) {
		for (int i = 0; i < gv.nrows; i++)
			if (gv.rows[i].committed >= 0)
				gv.rows[i].log_end = -2;
	} else {
		tool_metadata(&cl, NULL, 0, true);
		for (int i = 0; i < o.ntopics; i++)
			add_topic_spec(&gv, o.topics[i]);
	}
	{
		int m = 0;

		for (int i = 0; i < gv.nrows; i++)
			if (gv.rows[i].log_end == -2)
				gv.rows[m++] = gv.rows[i];
		gv.nrows = m;
	}
	qsort(gv.rows, (size_t)gv.nrows, sizeof(*gv.rows), cmp_row);
	lo = calloc((size_t)gv.nrows + 1, sizeof(*lo));
	hi = calloc((size_t)gv.nrows + 1, sizeof(*hi));
	if (lo == NULL || hi == NULL)
		tool_die("out of memory");
	for (int i = 0; i < gv.nrows; i++) {
		lo[i] = (struct tool_tp){ gv.rows[i].topic,
					  gv.rows[i].partition, -2, -1, 0 };
		hi[i] = lo[i];
		hi[i].ts = -1;
	}
	tool_list_offsets(&cl, lo, gv.nrows, 0);
	tool_list_offsets(&cl, hi, gv.nrows, 0);
	if (o.scenario == S_DATETIME || o.scenario == S_DURATION) {
		int64_t ts = o.scenario == S_DATETIME ? o.value :
			     tool_now_ms() - o.value;

		at = calloc((size_t)gv.nrows + 1, sizeof(*at));
		if (at == NULL)
			tool_die("out of memory");
		for (int i = 0; i < gv.nrows; i++) {
			at[i] = lo[i];
			at[i].ts = ts;
		}
		tool_list_offsets(&cl, at, gv.nrows, 0);
	}
	rows = json_array();
	for (int i = 0; i < gv.nrows; i++) {
		struct row *r = &gv.rows[i];
		int64_t target = 0;

		if (lo[i].err != 0 || hi[i].err != 0 ||
		    (at != NULL && at[i].err != 0))
			tool_die("%s-%" PRId32 ": %s", r->topic, r->partition,
				 tool_err(lo[i].err ? lo[i].err :
					  hi[i].err ? hi[i].err : at[i].err));
		switch (o.scenario) {
		case S_EARLIEST: target = lo[i].offset; break;
		case S_LATEST: target = hi[i].offset; break;
		case S_CURRENT:
			target = r->committed >= 0 ? r->committed : hi[i].offset;
			break;
		case S_OFFSET: target = o.value; break;
		case S_SHIFT:
			target = (r->committed >= 0 ? r->committed :
				  hi[i].offset) + o.value;
			break;
		case S_DATETIME:
		case S_DURATION:
			/* No record at or after the time: the log end. */
			target = at[i].offset >= 0 ? at[i].offset : hi[i].offset;
			break;
		case S_NONE: break;
		}
		/* Out of range: clamp to the log, as Kafka does. */
		if (target < lo[i].offset)
			target = lo[i].offset;
		if (target > hi[i].offset)
			target = hi[i].offset;
		r->committed = target;
		json_array_append_new(rows, json_pack("{s:s, s:s, s:i, s:I}",
			"group", gv.group, "topic", r->topic, "partition",
			r->partition, "new_offset", (json_int_t)target));
	}
	if (o.execute && gv.nrows > 0) {
		struct kp_offset_commit_req req;
		struct kp_offset_commit_resp resp;
		struct kp_offset_commit_req_offset_commit_request_topic *ts;
		struct kp_offset_commit_req_offset_commit_request_partition *ps;
		struct kp_conn *c;
		int16_t err;
		int nt = 0;

		ts = kp_arena_calloc(&gv.a, (size_t)gv.nrows, sizeof(*ts));
		ps = kp_arena_calloc(&gv.a, (size_t)gv.nrows, sizeof(*ps));
		if (ts == NULL || ps == NULL)
			tool_die("out of memory");
		for (int i = 0; i < gv.nrows; i++) {
			if (i == 0 || strcmp(gv.rows[i].topic,
					     gv.rows[i - 1].topic) != 0) {
				kp_struct_init(&kp_offset_commit_req_offset_commit_request_topic_desc,
					       &ts[nt]);
				ts[nt].name = kp_str_c(gv.rows[i].topic);
				ts[nt].partitions = &ps[i];
				nt++;
			}
			kp_struct_init(&kp_offset_commit_req_offset_commit_request_partition_desc,
				       &ps[i]);
			ps[i].partition_index = gv.rows[i].partition;
			ps[i].committed_offset = gv.rows[i].committed;
			ps[i].committed_leader_epoch = -1;
			ps[i].commit_timestamp = -1;
			ps[i].committed_metadata = kp_str_c("");
			ts[nt - 1].partitions_count++;
		}
		kp_struct_init(&kp_offset_commit_req_desc, &req);
		req.group_id = kp_str_c(gv.group);
		req.generation_id = -1;	/* a simple commit, not a member's */
		req.member_id = kp_str_c("");
		req.group_instance_id = KP_STR_NULL;
		req.retention_time_ms = -1;
		req.topics = ts;
		req.topics_count = nt;
		c = tool_coordinator(&cl, gv.group, &err);
		if (c == NULL)
			tool_die("group '%s': no coordinator: %s", gv.group,
				 tool_err(err));
		tool_call(c, KP_API_OFFSET_COMMIT, &req, &resp, &gv.a,
			  "OffsetCommit");
		for (int t = 0; t < resp.topics_count; t++)
			for (int p = 0; p < resp.topics[t].partitions_count; p++) {
				int16_t e = resp.topics[t].partitions[p].error_code;

				if (e == 0)
					continue;
				tool_warn("%.*s-%" PRId32 ": commit: %s",
					  resp.topics[t].name.len,
					  resp.topics[t].name.ptr,
					  resp.topics[t].partitions[p].partition_index,
					  tool_err(e));
				rc = TOOL_EXIT_FAIL;
			}
	}
	tool_print_rows(stdout, rows, hdr, keys, 4, o.json);
	if (!o.execute && !o.json)
		fprintf(stderr, "(dry run: nothing committed; --execute commits)\n");
	json_decref(rows);
	free(lo);
	free(hi);
	free(at);
	free_group(&gv);
	return rc;
}

/* ------------------------------------------------------------- deletions */

static int do_delete(void)
{
	int n, failed = 0;
	const char **groups = target_groups(&n);

	for (int i = 0; i < n; i++) {
		struct kp_delete_groups_req req;
		struct kp_delete_groups_resp resp;
		struct kp_arena a;
		struct kp_conn *c;
		kp_str name = kp_str_c(groups[i]);
		int16_t err;

		c = tool_coordinator(&cl, groups[i], &err);
		if (c == NULL) {
			tool_warn("group '%s': no coordinator: %s", groups[i],
				  tool_err(err));
			failed = 1;
			continue;
		}
		kp_arena_init(&a, 0);
		kp_struct_init(&kp_delete_groups_req_desc, &req);
		req.groups_names = &name;
		req.groups_names_count = 1;
		tool_call(c, KP_API_DELETE_GROUPS, &req, &resp, &a,
			  "DeleteGroups");
		err = resp.results_count == 1 ? resp.results[0].error_code :
		      KP_ERR_UNKNOWN_SERVER_ERROR;
		if (err == 0) {
			if (!o.json)
				printf("Deletion of requested consumer groups "
				       "('%s') was successful.\n", groups[i]);
		} else {
			tool_warn("group '%s' not deleted: %s", groups[i],
				  tool_err(err));
			failed = 1;
		}
		kp_arena_free(&a);
	}
	if (o.all_groups) {
		for (int i = 0; i < n; i++)
			free((char *)groups[i]);
		free(groups);
	}
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

static int do_delete_offsets(void)
{
	struct kp_offset_delete_req req;
	struct kp_offset_delete_resp resp;
	struct kp_offset_delete_req_offset_delete_request_topic *ts;
	struct group_view gv;
	struct kp_conn *c;
	int16_t err;
	int failed = 0;

	if (o.ngroups != 1 || o.all_groups || o.ntopics == 0)
		tool_usage_error("--delete-offsets needs one --group and --topic");
	memset(&gv, 0, sizeof(gv));
	gv.group = o.groups[0];
	kp_arena_init(&gv.a, 0);
	tool_metadata(&cl, NULL, 0, true);
	for (int i = 0; i < o.ntopics; i++)
		add_topic_spec(&gv, o.topics[i]);
	qsort(gv.rows, (size_t)gv.nrows, sizeof(*gv.rows), cmp_row);
	ts = kp_arena_calloc(&gv.a, (size_t)gv.nrows + 1, sizeof(*ts));
	if (ts == NULL)
		tool_die("out of memory");
	kp_struct_init(&kp_offset_delete_req_desc, &req);
	req.group_id = kp_str_c(gv.group);
	req.topics = ts;
	req.topics_count = 0;
	for (int i = 0; i < gv.nrows; i++) {
		struct kp_offset_delete_req_offset_delete_request_topic *t;

		if (i == 0 || strcmp(gv.rows[i].topic, gv.rows[i - 1].topic)) {
			t = &ts[req.topics_count++];
			t->name = kp_str_c(gv.rows[i].topic);
			t->partitions = kp_arena_calloc(&gv.a, (size_t)gv.nrows,
							sizeof(*t->partitions));
			if (t->partitions == NULL)
				tool_die("out of memory");
		}
		t = &ts[req.topics_count - 1];
		t->partitions[t->partitions_count++].partition_index =
			gv.rows[i].partition;
	}
	c = tool_coordinator(&cl, gv.group, &err);
	if (c == NULL)
		tool_die("group '%s': no coordinator: %s", gv.group,
			 tool_err(err));
	tool_call(c, KP_API_OFFSET_DELETE, &req, &resp, &gv.a, "OffsetDelete");
	if (resp.error_code != 0) {
		tool_warn("group '%s': %s", gv.group, tool_err(resp.error_code));
		free_group(&gv);
		return TOOL_EXIT_FAIL;
	}
	{
		static const char *const hdr[] = { "TOPIC", "PARTITION", "STATUS" };
		static const char *const keys[] = { "topic", "partition", "status" };
		json_t *rows = json_array();

		for (int t = 0; t < resp.topics_count; t++)
			for (int p = 0; p < resp.topics[t].partitions_count; p++) {
				int16_t e = resp.topics[t].partitions[p].error_code;

				json_array_append_new(rows, json_pack(
					"{s:o, s:i, s:s}", "topic",
					jstr(resp.topics[t].name),
					"partition",
					resp.topics[t].partitions[p].partition_index,
					"status", e == 0 ? "Successful" :
					kp_err_name(e)));
				failed |= e != 0;
			}
		tool_print_rows(stdout, rows, hdr, keys, 3, o.json);
		json_decref(rows);
	}
	free_group(&gv);
	return failed ? TOOL_EXIT_FAIL : TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
	enum {
		O_LIST = 256, O_DESCRIBE, O_RESET, O_DELETE, O_DELOFF, O_WATCH,
		O_GROUP, O_ALLG, O_MEMBERS, O_VERBOSE, O_STATE,
		O_OFFSETS, O_TOPIC, O_ALLT, O_EARLIEST, O_LATEST, O_CURRENT,
		O_TOOFF, O_SHIFT, O_DATETIME, O_DURATION, O_DRY, O_EXEC,
		O_INTERVAL, O_ITER, O_JSON, O_CCONF,
	};
	static const struct option opts[] = {
		{ "list", no_argument, NULL, O_LIST },
		{ "describe", no_argument, NULL, O_DESCRIBE },
		{ "reset-offsets", no_argument, NULL, O_RESET },
		{ "delete", no_argument, NULL, O_DELETE },
		{ "delete-offsets", no_argument, NULL, O_DELOFF },
		{ "watch", no_argument, NULL, O_WATCH },
		{ "group", required_argument, NULL, O_GROUP },
		{ "all-groups", no_argument, NULL, O_ALLG },
		{ "members", no_argument, NULL, O_MEMBERS },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "state", no_argument, NULL, O_STATE },
		{ "offsets", no_argument, NULL, O_OFFSETS },
		{ "topic", required_argument, NULL, O_TOPIC },
		{ "all-topics", no_argument, NULL, O_ALLT },
		{ "to-earliest", no_argument, NULL, O_EARLIEST },
		{ "to-latest", no_argument, NULL, O_LATEST },
		{ "to-current", no_argument, NULL, O_CURRENT },
		{ "to-offset", required_argument, NULL, O_TOOFF },
		{ "shift-by", required_argument, NULL, O_SHIFT },
		{ "to-datetime", required_argument, NULL, O_DATETIME },
		{ "by-duration", required_argument, NULL, O_DURATION },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "execute", no_argument, NULL, O_EXEC },
		{ "interval-ms", required_argument, NULL, O_INTERVAL },
		{ "iterations", required_argument, NULL, O_ITER },
		{ "json", no_argument, NULL, O_JSON },
		{ "command-config", required_argument, NULL, O_CCONF },
		TOOL_OPTIONS_TAIL,
	};
	struct tool_admin_config ac;
	int c, rc = TOOL_EXIT_OK;
	bool dry = false;

	memset(&ac, 0, sizeof(ac));
	tool_name = "kconsumer-groups";
	o.t.usage = usage;
	o.groups = calloc((size_t)argc + 1, sizeof(*o.groups));
	o.topics = calloc((size_t)argc + 1, sizeof(*o.topics));
	if (o.groups == NULL || o.topics == NULL)
		tool_die("out of memory");
	while ((c = tool_getopt(argc, argv, opts, &o.t)) != -1) {
		switch (c) {
		case O_LIST: set_action(LIST); break;
		case O_CCONF:
			tool_read_admin_config("--command-config", optarg, &ac);
			break;
		case O_DESCRIBE: set_action(DESCRIBE); break;
		case O_RESET: set_action(RESET); break;
		case O_DELETE: set_action(DELETE); break;
		case O_DELOFF: set_action(DELETE_OFFSETS); break;
		case O_WATCH: set_action(WATCH); break;
		case O_GROUP: o.groups[o.ngroups++] = optarg; break;
		case O_ALLG: o.all_groups = true; break;
		case O_MEMBERS: o.view = V_MEMBERS; break;
		case O_VERBOSE: o.verbose = true; break;
		case O_STATE:
			o.view = V_STATE;
			o.state_filter = true;
			break;
		case O_OFFSETS: o.view = V_OFFSETS; break;
		case O_TOPIC: o.topics[o.ntopics++] = optarg; break;
		case O_ALLT: o.all_topics = true; break;
		case O_EARLIEST: set_scenario(S_EARLIEST); break;
		case O_LATEST: set_scenario(S_LATEST); break;
		case O_CURRENT: set_scenario(S_CURRENT); break;
		case O_TOOFF:
			set_scenario(S_OFFSET);
			o.value = tool_opt_i64("--to-offset", optarg, 0, INT64_MAX);
			break;
		case O_SHIFT:
			set_scenario(S_SHIFT);
			o.value = tool_opt_i64("--shift-by", optarg,
					       -INT64_MAX / 2, INT64_MAX / 2);
			break;
		case O_DATETIME:
			set_scenario(S_DATETIME);
			if (!parse_datetime(optarg, &o.value))
				tool_usage_error("--to-datetime: '%s' is not "
						 "YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm]",
						 optarg);
			break;
		case O_DURATION:
			set_scenario(S_DURATION);
			if (!parse_duration(optarg, &o.value) || o.value < 0)
				tool_usage_error("--by-duration: '%s' is not an "
						 "ISO 8601 duration like PT15M",
						 optarg);
			break;
		case O_DRY: dry = true; break;
		case O_EXEC: o.execute = true; break;
		case O_INTERVAL:
			o.interval_ms = tool_opt_i32("--interval-ms", optarg, 50,
						     INT32_MAX);
			break;
		case O_ITER:
			o.iterations = tool_opt_i32("--iterations", optarg, 1,
						    INT32_MAX);
			break;
		case O_JSON: o.json = true; break;
		}
	}
	if (o.action == NONE)
		tool_usage_error("give one of --list, --describe, --reset-offsets, "
				 "--delete, --delete-offsets, --watch");
	tool_need_bootstrap(&o.t);
	if (dry && o.execute)
		tool_usage_error("--dry-run and --execute exclude each other");
	if (o.action != RESET && (o.scenario != S_NONE || o.execute || dry))
		tool_usage_error("reset scenarios, --dry-run and --execute go "
				 "with --reset-offsets");
	if ((o.action == DESCRIBE || o.action == DELETE) && o.ngroups == 0 &&
	    !o.all_groups)
		tool_usage_error("--group or --all-groups is required");
	if (o.ngroups > 0 && o.all_groups)
		tool_usage_error("--group and --all-groups exclude each other");
	tool_cluster_open_admin(&cl, o.t.bootstrap, &ac, o.t.timeout_ms);
	switch (o.action) {
	case LIST: rc = do_list(); break;
	case DESCRIBE: rc = do_describe(); break;
	case RESET: rc = do_reset(); break;
	case DELETE: rc = do_delete(); break;
	case DELETE_OFFSETS: rc = do_delete_offsets(); break;
	case WATCH: rc = do_watch(); break;
	case NONE: break;
	}
	tool_cluster_close(&cl);
	free(o.groups);
	free(o.topics);
	return rc;
}
