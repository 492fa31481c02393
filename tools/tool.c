/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tool.c - shared by the operator tools: messages, the option loop,
 * number parsing, the cluster view through a bootstrap server, the
 * controller and group coordinators, output.
 */
#include "config.h"

#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "kp_codec.h"
#include "kp_compress.h"
#include "kp_errors.h"
#include "tool_security.h"

int tool_getopt(int argc, char **argv, const struct option *opts,
		struct tool_opts *to)
{
	int c;

	for (;;) {
		c = getopt_long(argc, argv, "", opts, NULL);
		switch (c) {
		case TOOL_OPT_BOOTSTRAP:
			to->bootstrap = optarg;
			break;
		case TOOL_OPT_TIMEOUT:
			to->timeout_ms = tool_opt_i32("--timeout-ms", optarg, 1,
						      INT32_MAX);
			break;
		case TOOL_OPT_HELP:
			to->usage(stdout);
			exit(TOOL_EXIT_OK);
		case TOOL_OPT_VERSION:
			printf("%s %s\n", tool_name, PACKAGE_VERSION);
			exit(TOOL_EXIT_OK);
		case '?':
		case ':':
			to->usage(stderr);
			exit(TOOL_EXIT_USAGE);
		case -1:
			if (!to->operands && optind < argc)
				tool_usage_error("unexpected argument '%s'",
						 argv[optind]);
			return -1;
		default:
			return c;
		}
	}
}

void tool_need_bootstrap(const struct tool_opts *to)
{
	if (to->bootstrap == NULL)
		tool_usage_error("--bootstrap-server is required");
}

void tool_need_bootstrap_topic(const struct tool_opts *to, const char *topic)
{
	if (to->bootstrap == NULL || topic == NULL)
		tool_usage_error("--bootstrap-server and --topic are required");
}

bool tool_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

int64_t tool_opt_i64(const char *opt, const char *s, int64_t min, int64_t max)
{
	int64_t v;

	if (!tool_parse_i64(s, min, max, &v))
		tool_usage_error("%s: '%s' is not a number from %" PRId64
				 " to %" PRId64, opt, s, min, max);
	return v;
}

int32_t tool_opt_i32(const char *opt, const char *s, int32_t min, int32_t max)
{
	return (int32_t)tool_opt_i64(opt, s, min, max);
}

int64_t tool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tool_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *tool_err(int16_t code)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s (%d): %s", kp_err_name(code), code,
		 kp_err_message(code));
	return buf;
}

/* ------------------------------------------------------------ cluster */

static bool split_hostport(const char *s, char *host, size_t hostlen,
			   int *port)
{
	const char *colon = strrchr(s, ':');
	int64_t p;
	size_t n;

	if (colon == NULL || !tool_parse_i64(colon + 1, 1, 65535, &p))
		return false;
	n = (size_t)(colon - s);
	/* [v6]:port */
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = (int)p;
	return true;
}

static void free_brokers(struct tool_cluster *cl)
{
	for (int i = 0; i < cl->nbrokers; i++) {
		if (cl->brokers[i].conn != NULL)
			kp_conn_free(cl->brokers[i].conn);
		free(cl->brokers[i].host);
		free(cl->brokers[i].rack);
	}
	free(cl->brokers);
	cl->brokers = NULL;
	cl->nbrokers = 0;
}

/* Keep the connections of brokers that are still there at the same place. */
static void learn_brokers(struct tool_cluster *cl)
{
	const struct kp_metadata_resp *md = &cl->md;
	struct tool_broker *nb;
	int n = md->brokers_count > 0 ? md->brokers_count : 0;

	nb = calloc((size_t)n + 1, sizeof(*nb));
	if (nb == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		const struct kp_metadata_resp_metadata_response_broker *b =
			&md->brokers[i];

		nb[i].id = b->node_id;
		nb[i].host = kp_str_dup(b->host);
		nb[i].port = b->port;
		nb[i].rack = kp_str_dup(b->rack);
		if (nb[i].host == NULL)
			tool_die("out of memory");
		for (int j = 0; j < cl->nbrokers; j++) {
			struct tool_broker *o = &cl->brokers[j];

			if (o->id == b->node_id && o->port == b->port &&
			    strcmp(o->host, nb[i].host) == 0) {
				nb[i].conn = o->conn;
				o->conn = NULL;
			}
		}
	}
	free_brokers(cl);
	cl->brokers = nb;
	cl->nbrokers = n;
	cl->controller_id = md->controller_id;
	free(cl->cluster_id);
	cl->cluster_id = kp_str_dup(md->cluster_id);
}

void tool_cluster_open(struct tool_cluster *cl, const char *bootstrap,
		       const char *client_id, int timeout_ms)
{
	struct tool_admin_config ac;

	memset(&ac, 0, sizeof(ac));
	if (client_id != NULL)
		snprintf(ac.client_id, sizeof(ac.client_id), "%s", client_id);
	tool_cluster_open_admin(cl, bootstrap, &ac, timeout_ms);
}

void tool_cluster_open_admin(struct tool_cluster *cl, const char *bootstrap,
			     const struct tool_admin_config *ac,
			     int timeout_ms)
{
	struct kp_arena a;
	char **servers;
	int n, err = 0;
	int64_t deadline;

	memset(cl, 0, sizeof(*cl));
	cl->bootstrap = strdup(bootstrap);
	cl->client_id = strdup(ac != NULL && ac->client_id[0] ?
			       ac->client_id : tool_name);
	if (cl->bootstrap == NULL || cl->client_id == NULL)
		tool_die("out of memory");
	cl->opts.client_id = cl->client_id;
	cl->opts.connect_timeout_ms = timeout_ms < 10000 ? timeout_ms : 10000;
	if (ac != NULL && ac->connect_timeout_ms > 0)
		cl->opts.connect_timeout_ms = ac->connect_timeout_ms;
	cl->opts.request_timeout_ms = 30000;
	if (ac != NULL && ac->request_timeout_ms > 0)
		cl->opts.request_timeout_ms = ac->request_timeout_ms;
	tool_security_apply(&cl->opts);
	cl->timeout_ms = timeout_ms;
	cl->controller_id = -1;
	kp_arena_init(&cl->md_arena, 0);
	kp_arena_init(&a, 0);
	servers = tool_split(&a, bootstrap, ',', &n);
	if (n == 0)
		tool_usage_error("--bootstrap-server: no server given");
	deadline = tool_mono_ms() + timeout_ms;
	/* Try each server in turn until one answers or time runs out. */
	for (;;) {
		for (int i = 0; i < n && cl->boot == NULL; i++) {
			char host[256];
			int port;

			if (!split_hostport(servers[i], host, sizeof(host), &port))
				tool_usage_error("--bootstrap-server: '%s' is not "
						 "host:port", servers[i]);
			cl->boot = kp_conn_open(host, port, &cl->opts, &err);
		}
		if (cl->boot != NULL || tool_mono_ms() >= deadline)
			break;
		usleep(200 * 1000);
	}
	if (cl->boot == NULL)
		tool_die("cannot reach any of %s: %s", bootstrap,
			 strerror(-err));
	kp_arena_free(&a);
	tool_metadata(cl, NULL, 0, false);
}

void tool_cluster_close(struct tool_cluster *cl)
{
	free_brokers(cl);
	if (cl->boot != NULL)
		kp_conn_free(cl->boot);
	kp_arena_free(&cl->md_arena);
	free(cl->bootstrap);
	free(cl->client_id);
	free(cl->cluster_id);
	memset(cl, 0, sizeof(*cl));
}

static struct tool_admin_config *admin_config;
static const char *admin_config_opt;

static int admin_ms(const char *key, const char *v)
{
	return tool_opt_i32(key, v, 1, INT32_MAX);
}

static void admin_property(const char *key, const char *value)
{
	struct tool_admin_config *ac = admin_config;

	if (strcmp(key, "client.id") == 0) {
		if (strlen(value) >= sizeof(ac->client_id))
			tool_usage_error("%s: client.id is longer than %zu "
					 "bytes", admin_config_opt,
					 sizeof(ac->client_id) - 1);
		snprintf(ac->client_id, sizeof(ac->client_id), "%s", value);
	} else if (strcmp(key, "request.timeout.ms") == 0) {
		ac->request_timeout_ms = admin_ms(key, value);
	} else if (strcmp(key, "socket.connection.setup.timeout.ms") == 0) {
		ac->connect_timeout_ms = admin_ms(key, value);
	} else if (strcmp(key, "default.api.timeout.ms") == 0) {
		ac->api_timeout_ms = admin_ms(key, value);
	} else if (tool_security_property(admin_config_opt, key, value)) {
		/* applied by tool_cluster_open_admin */
	} else if (strcmp(key, "bootstrap.servers") != 0) {
		tool_warn("%s: %s is not used by this tool", admin_config_opt,
			  key);
	}
}

void tool_read_admin_config(const char *opt, const char *path,
			    struct tool_admin_config *ac)
{
	admin_config = ac;
	admin_config_opt = opt;
	tool_read_properties(opt, path, admin_property);
	admin_config = NULL;
}

struct kp_conn *tool_controller(struct tool_cluster *cl, int32_t *id)
{
	int64_t deadline = tool_mono_ms() + cl->timeout_ms;

	for (;;) {
		struct kp_conn *c = NULL;

		tool_metadata(cl, NULL, 0, false);
		*id = cl->controller_id;
		if (*id >= 0)
			c = tool_broker_conn(cl, *id);
		if (c != NULL)
			return c;
		if (tool_mono_ms() >= deadline)
			break;
		usleep(200 * 1000);
	}
	tool_warn("no reachable controller within %d ms", cl->timeout_ms);
	return NULL;
}

void tool_ctl_begin(struct tool_ctl *r, struct tool_cluster *cl, int16_t api,
		    const char *what)
{
	r->cl = cl;
	r->api = api;
	r->what = what;
	r->deadline = tool_mono_ms() + cl->timeout_ms;
	r->id = -1;
}

struct kp_conn *tool_ctl_conn(struct tool_ctl *r)
{
	struct kp_conn *c = tool_controller(r->cl, &r->id);

	if (c == NULL)
		tool_die("%s: cannot reach the controller", r->what);
	tool_require_api(c, r->api, "the controller");
	return c;
}

bool tool_ctl_done(struct tool_ctl *r, int rc, bool moved)
{
	if (rc == 0 && !moved)
		return true;
	if (rc != 0) {
		tool_warn("%s to broker %" PRId32 ": %s", r->what, r->id,
			  strerror(-rc));
		tool_broker_drop(r->cl, r->id);
	}
	if (tool_mono_ms() >= r->deadline)
		tool_die("%s: %s", r->what, rc != 0 ? strerror(-rc) :
			 tool_err(KP_ERR_NOT_CONTROLLER));
	usleep(200 * 1000);
	return false;
}

void tool_require_api(struct kp_conn *c, int16_t api_key, const char *who)
{
	const struct kp_api_desc *api = kp_api_get(api_key);
	int16_t min, max;

	if (kp_conn_pick_version(c, api_key) >= 0)
		return;
	if (!kp_conn_broker_range(c, api_key, &min, &max))
		tool_die("%s (%s) does not support %s (API %d)", who,
			 kp_conn_peer(c), api ? api->name : "?", api_key);
	tool_die("%s (%s) supports %s versions %d to %d only; this tool "
		 "knows %d to %d", who, kp_conn_peer(c),
		 api ? api->name : "?", min, max, api ? api->min : -1,
		 api ? api->max : -1);
}

char *tool_read_file(const char *opt, const char *path, size_t max,
		     size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n = 0, cap = 4096;

	if (f == NULL)
		tool_usage_error("%s: %s: %s", opt, path, strerror(errno));
	buf = malloc(cap);
	if (buf == NULL)
		tool_die("out of memory");
	for (;;) {
		size_t got;

		if (n + 1 == cap) {
			char *nb;

			cap *= 2;
			nb = realloc(buf, cap);
			if (nb == NULL)
				tool_die("out of memory");
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > max)
			tool_usage_error("%s: %s is larger than %zu bytes",
					 opt, path, max);
		if (got == 0)
			break;
	}
	if (ferror(f))
		tool_usage_error("%s: %s: %s", opt, path, strerror(errno));
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

void tool_metadata(struct tool_cluster *cl, const char *const *topics, int n,
		   bool all)
{
	struct kp_metadata_req req;
	struct kp_metadata_req_metadata_request_topic *t = NULL;
	int rc;

	kp_arena_reset(&cl->md_arena);
	kp_struct_init(&kp_metadata_req_desc, &req);
	req.allow_auto_topic_creation = false;
	if (all) {
		req.topics = NULL;
		req.topics_count = -1;
	} else {
		if (n > 0) {
			t = kp_arena_calloc(&cl->md_arena, (size_t)n,
					    sizeof(*t));
			if (t == NULL)
				tool_die("out of memory");
		}
		for (int i = 0; i < n; i++) {
			kp_struct_init(&kp_metadata_req_metadata_request_topic_desc,
				       &t[i]);
			t[i].name = kp_str_c(topics[i]);
		}
		req.topics = t;
		req.topics_count = n;
	}
	rc = kp_conn_call(cl->boot, KP_API_METADATA, -1, &req, &cl->md,
			  &cl->md_arena);
	if (rc != 0)
		tool_die("metadata from %s: %s", kp_conn_peer(cl->boot),
			 strerror(-rc));
	learn_brokers(cl);
}

const struct kp_metadata_resp_metadata_response_topic *
tool_md_topic(const struct tool_cluster *cl, const char *name)
{
	for (int i = 0; i < cl->md.topics_count; i++)
		if (kp_str_eqc(cl->md.topics[i].name, name))
			return &cl->md.topics[i];
	return NULL;
}

const struct kp_metadata_resp_metadata_response_partition *
tool_md_partition(const struct kp_metadata_resp_metadata_response_topic *t,
		  int32_t partition)
{
	for (int i = 0; i < t->partitions_count; i++)
		if (t->partitions[i].partition_index == partition)
			return &t->partitions[i];
	return NULL;
}

int32_t tool_md_leader(const struct tool_cluster *cl, const char *topic,
		       int32_t partition)
{
	const struct kp_metadata_resp_metadata_response_topic *t =
		tool_md_topic(cl, topic);
	const struct kp_metadata_resp_metadata_response_partition *p;

	if (t == NULL)
		return -1;
	p = tool_md_partition(t, partition);
	/* A leader counts even beside REPLICA_NOT_AVAILABLE (a follower
	 * down), as clients take it. */
	return p != NULL && p->leader_id >= 0 ? p->leader_id : -1;
}

struct tool_broker *tool_broker(struct tool_cluster *cl, int32_t id)
{
	for (int i = 0; i < cl->nbrokers; i++)
		if (cl->brokers[i].id == id)
			return &cl->brokers[i];
	return NULL;
}

struct kp_conn *tool_broker_conn(struct tool_cluster *cl, int32_t id)
{
	struct tool_broker *b = tool_broker(cl, id);
	int err;

	if (b == NULL) {
		tool_warn("broker %" PRId32 " is not in the metadata", id);
		return NULL;
	}
	if (b->conn != NULL && kp_conn_state(b->conn) != KP_CONN_READY) {
		kp_conn_free(b->conn);
		b->conn = NULL;
	}
	if (b->conn == NULL) {
		b->conn = kp_conn_open(b->host, b->port, &cl->opts, &err);
		if (b->conn == NULL)
			tool_warn("broker %" PRId32 " at %s:%d: %s", id,
				  b->host, b->port, strerror(-err));
	}
	return b->conn;
}

void tool_broker_drop(struct tool_cluster *cl, int32_t id)
{
	struct tool_broker *b = tool_broker(cl, id);

	if (b != NULL && b->conn != NULL) {
		kp_conn_free(b->conn);
		b->conn = NULL;
	}
}

void tool_call(struct kp_conn *c, int16_t api_key, const void *req,
	       void *resp, struct kp_arena *a, const char *what)
{
	int rc = kp_conn_call(c, api_key, -1, req, resp, a);

	if (rc != 0)
		tool_die("%s (%s): %s", what, kp_conn_peer(c), strerror(-rc));
}

struct kp_conn *tool_coordinator(struct tool_cluster *cl, const char *group,
				 int16_t *err)
{
	int64_t deadline = tool_mono_ms() + cl->timeout_ms;
	struct kp_arena a;

	kp_arena_init(&a, 0);
	for (;;) {
		struct kp_find_coordinator_req req;
		struct kp_find_coordinator_resp resp;
		struct kp_conn *c;

		kp_struct_init(&kp_find_coordinator_req_desc, &req);
		req.key = kp_str_c(group);
		req.key_type = 0;
		tool_call(cl->boot, KP_API_FIND_COORDINATOR, &req, &resp, &a,
			  "FindCoordinator");
		*err = resp.error_code;
		if (resp.error_code == 0) {
			if (tool_broker(cl, resp.node_id) == NULL)
				tool_metadata(cl, NULL, 0, false);
			c = tool_broker_conn(cl, resp.node_id);
			if (c != NULL) {
				kp_arena_free(&a);
				return c;
			}
			*err = KP_ERR_COORDINATOR_NOT_AVAILABLE;
		} else if (!kp_err_retriable(resp.error_code)) {
			break;
		}
		if (tool_mono_ms() >= deadline)
			break;
		kp_arena_reset(&a);
		usleep(200 * 1000);
	}
	kp_arena_free(&a);
	return NULL;
}

/* ------------------------------------------------------------ offsets */

static int cmp_tp_topic(const void *a, const void *b)
{
	const struct tool_tp *const *x = a, *const *y = b;
	int c = strcmp((*x)->topic, (*y)->topic);

	return c != 0 ? c : ((*x)->partition > (*y)->partition) -
			    ((*x)->partition < (*y)->partition);
}

/* One ListOffsets to one leader for the given (sorted) partitions. */
static void list_offsets_one(struct tool_cluster *cl, int32_t leader,
			     struct tool_tp **v, int n, int8_t isolation)
{
	struct kp_list_offsets_req req;
	struct kp_list_offsets_resp resp;
	struct kp_list_offsets_req_list_offsets_topic *topics;
	struct kp_list_offsets_req_list_offsets_partition *parts;
	struct kp_conn *c = tool_broker_conn(cl, leader);
	struct kp_arena a;
	int nt = 0, rc;

	for (int i = 0; i < n; i++)
		v[i]->err = KP_ERR_LEADER_NOT_AVAILABLE;
	if (c == NULL)
		return;
	kp_arena_init(&a, 0);
	topics = kp_arena_calloc(&a, (size_t)n, sizeof(*topics));
	parts = kp_arena_calloc(&a, (size_t)n, sizeof(*parts));
	if (topics == NULL || parts == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		if (i == 0 || strcmp(v[i]->topic, v[i - 1]->topic) != 0) {
			kp_struct_init(&kp_list_offsets_req_list_offsets_topic_desc,
				       &topics[nt]);
			topics[nt].name = kp_str_c(v[i]->topic);
			topics[nt].partitions = &parts[i];
			topics[nt].partitions_count = 0;
			nt++;
		}
		kp_struct_init(&kp_list_offsets_req_list_offsets_partition_desc,
			       &parts[i]);
		parts[i].partition_index = v[i]->partition;
		parts[i].current_leader_epoch = -1;
		parts[i].timestamp = v[i]->ts;
		parts[i].max_num_offsets = 1;
		topics[nt - 1].partitions_count++;
	}
	kp_struct_init(&kp_list_offsets_req_desc, &req);
	req.replica_id = -1;
	req.isolation_level = isolation;
	req.topics = topics;
	req.topics_count = nt;
	rc = kp_conn_call(c, KP_API_LIST_OFFSETS, -1, &req, &resp, &a);
	if (rc != 0) {
		tool_warn("ListOffsets to broker %" PRId32 ": %s", leader,
			  strerror(-rc));
		tool_broker_drop(cl, leader);
		kp_arena_free(&a);
		return;
	}
	for (int t = 0; t < resp.topics_count; t++) {
		const struct kp_list_offsets_resp_list_offsets_topic_response *rt =
			&resp.topics[t];

		for (int p = 0; p < rt->partitions_count; p++) {
			const struct kp_list_offsets_resp_list_offsets_partition_response *rp =
				&rt->partitions[p];

			for (int i = 0; i < n; i++) {
				if (v[i]->partition != rp->partition_index ||
				    !kp_str_eqc(rt->name, v[i]->topic))
					continue;
				v[i]->err = rp->error_code;
				v[i]->offset = rp->offset;
				/* v0 answers in the old array. */
				if (rp->old_style_offsets_count > 0)
					v[i]->offset = rp->old_style_offsets[0];
			}
		}
	}
	kp_arena_free(&a);
}

void tool_list_offsets(struct tool_cluster *cl, struct tool_tp *tps, int n,
		       int8_t isolation)
{
	struct tool_tp **v;
	int32_t *leader;
	bool *done;

	if (n <= 0)
		return;
	tool_metadata(cl, NULL, 0, true);
	v = calloc((size_t)n, sizeof(*v));
	leader = calloc((size_t)n, sizeof(*leader));
	done = calloc((size_t)n, sizeof(*done));
	if (v == NULL || leader == NULL || done == NULL)
		tool_die("out of memory");
	for (int i = 0; i < n; i++) {
		tps[i].offset = -1;
		tps[i].err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		leader[i] = tool_md_leader(cl, tps[i].topic, tps[i].partition);
		if (leader[i] < 0) {
			if (tool_md_topic(cl, tps[i].topic) != NULL)
				tps[i].err = KP_ERR_LEADER_NOT_AVAILABLE;
			done[i] = true;
		}
	}
	for (int i = 0; i < n; i++) {
		int m = 0;

		if (done[i])
			continue;
		for (int j = i; j < n; j++) {
			if (!done[j] && leader[j] == leader[i]) {
				v[m++] = &tps[j];
				done[j] = true;
			}
		}
		qsort(v, (size_t)m, sizeof(*v), cmp_tp_topic);
		list_offsets_one(cl, leader[i], v, m, isolation);
	}
	free(v);
	free(leader);
	free(done);
}

/* ------------------------------------------------------------- output */

static int cell(json_t *v, char *buf, size_t len)
{
	if (v == NULL || json_is_null(v))
		return snprintf(buf, len, "-");
	if (json_is_string(v))
		return snprintf(buf, len, "%s", json_string_value(v));
	if (json_is_integer(v))
		return snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
				json_integer_value(v));
	if (json_is_boolean(v))
		return snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	if (json_is_array(v)) {
		/* A list of numbers or names: comma-separated. */
		size_t i, off = 0;
		json_t *e;

		buf[0] = '\0';
		json_array_foreach(v, i, e) {
			char one[256];

			cell(e, one, sizeof(one));
			if (off < len)
				off += (size_t)snprintf(buf + off, len - off,
							"%s%s", i ? "," : "", one);
		}
		return (int)off;
	}
	return snprintf(buf, len, "?");
}

void tool_print_rows(FILE *f, json_t *rows, const char *const *headers,
		     const char *const *keys, int ncols, bool json)
{
	size_t *w, i;
	json_t *row;
	char buf[4096];

	if (json) {
		tool_print_json(f, rows);
		return;
	}
	w = calloc((size_t)ncols, sizeof(*w));
	if (w == NULL)
		tool_die("out of memory");
	for (int c = 0; c < ncols; c++)
		w[c] = strlen(headers[c]);
	json_array_foreach(rows, i, row) {
		for (int c = 0; c < ncols; c++) {
			size_t n = (size_t)cell(json_object_get(row, keys[c]),
						buf, sizeof(buf));

			if (n > w[c])
				w[c] = n < sizeof(buf) ? n : sizeof(buf) - 1;
		}
	}
	for (int c = 0; c < ncols; c++)
		fprintf(f, "%-*s%s", c + 1 < ncols ? (int)w[c] : 0, headers[c],
			c + 1 < ncols ? " " : "\n");
	json_array_foreach(rows, i, row) {
		for (int c = 0; c < ncols; c++) {
			cell(json_object_get(row, keys[c]), buf, sizeof(buf));
			fprintf(f, "%-*s%s", c + 1 < ncols ? (int)w[c] : 0, buf,
				c + 1 < ncols ? " " : "\n");
		}
	}
	free(w);
}

void tool_print_json(FILE *f, json_t *v)
{
	if (json_dumpf(v, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		tool_die("cannot write JSON output");
	fputc('\n', f);
}

/* --------------------------------------------------------- partitions */

uint32_t tool_murmur2(const void *data, size_t len)
{
	/* Kafka's Utils.murmur2: MurmurHash2, 32-bit, seed 0x9747b28c. */
	const uint8_t *p = data;
	const uint32_t m = 0x5bd1e995;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	size_t n4 = len / 4;

	for (size_t i = 0; i < n4; i++) {
		uint32_t k = (uint32_t)p[4 * i] |
			     (uint32_t)p[4 * i + 1] << 8 |
			     (uint32_t)p[4 * i + 2] << 16 |
			     (uint32_t)p[4 * i + 3] << 24;

		k *= m;
		k ^= k >> 24;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len % 4) {
	case 3:
		h ^= (uint32_t)p[(len & ~(size_t)3) + 2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)p[(len & ~(size_t)3) + 1] << 8;
		/* fall through */
	case 1:
		h ^= (uint32_t)p[len & ~(size_t)3];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

int32_t tool_key_partition(const void *key, size_t len, int32_t nparts)
{
	/* Utils.toPositive: clear the sign bit (not abs). */
	return (int32_t)((tool_murmur2(key, len) & 0x7fffffffu) %
			 (uint32_t)nparts);
}

char *tool_str(struct kp_arena *a, kp_str s)
{
	char *r = kp_arena_strndup(a, s.ptr ? s.ptr : "",
				   s.len > 0 ? (size_t)s.len : 0);

	if (r == NULL)
		tool_die("out of memory");
	return r;
}

char **tool_split(struct kp_arena *a, const char *s, char sep, int *n)
{
	char **out;
	int cap = 1;

	for (const char *p = s; *p; p++)
		cap += *p == sep;
	out = kp_arena_calloc(a, (size_t)cap + 1, sizeof(*out));
	if (out == NULL)
		tool_die("out of memory");
	*n = 0;
	while (*s) {
		const char *e = strchr(s, sep);
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len > 0) {
			out[*n] = kp_arena_strndup(a, s, len);
			if (out[*n] == NULL)
				tool_die("out of memory");
			(*n)++;
		}
		s += len;
		if (*s == sep)
			s++;
	}
	out[*n] = NULL;
	return out;
}

kp_err_t tool_parse_acks(const char *key, const char *v)
{
	if (strcmp(v, "all") == 0 || strcmp(v, "-1") == 0)
		return -1;
	if (strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "1") == 0)
		return 1;
	tool_usage_error("%s: '%s' is not all, -1, 0 or 1", key, v);
}

int tool_parse_codec(const char *key, const char *v)
{
	int codec = kp_codec_parse(v);

	if (codec < 0)
		tool_usage_error("%s: unknown codec '%s'", key, v);
	return codec;
}

bool tool_parse_bool(const char *key, const char *v)
{
	if (strcmp(v, "true") == 0)
		return true;
	if (strcmp(v, "false") == 0)
		return false;
	tool_usage_error("%s: '%s' is not true or false", key, v);
}

char *tool_unescape(const char *v)
{
	char *out = malloc(strlen(v) + 1), *w = out;

	if (out == NULL)
		tool_die("out of memory");
	for (; *v; v++) {
		if (*v == '\\' && v[1]) {
			v++;
			*w++ = *v == 't' ? '\t' : *v == 'n' ? '\n' :
			       *v == 'r' ? '\r' : *v;
		} else {
			*w++ = *v;
		}
	}
	*w = '\0';
	return out;
}

void tool_read_properties(const char *opt, const char *path,
			  void (*fn)(const char *key, const char *value))
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		tool_usage_error("%s: %s: %s", opt, path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e;

		while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
				 s[n - 1] == ' '))
			s[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#' || *s == '!')
			continue;
		e = strchr(s, '=');
		if (e == NULL)
			tool_usage_error("%s: '%s' is not key=value", path, s);
		*e = '\0';
		fn(s, e + 1);
	}
	free(line);
	fclose(f);
}

void tool_property(const char *opt, const char *kv,
		   void (*fn)(const char *key, const char *value))
{
	const char *eq = strchr(kv, '=');
	char *key;

	if (eq == NULL || eq == kv)
		tool_usage_error("%s: '%s' is not KEY=VALUE", opt, kv);
	key = strndup(kv, (size_t)(eq - kv));
	if (key == NULL)
		tool_die("out of memory");
	fn(key, eq + 1);
	free(key);
}
