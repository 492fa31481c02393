/*
 * api_admin.c - CreateTopics, DeleteTopics, CreatePartitions,
 * DescribeConfigs, AlterConfigs, IncrementalAlterConfigs, and topic
 * auto-creation for Metadata.
 *
 * Any broker performs admin requests itself (Metadata names the lowest
 * live broker as "controller", and clients send admin requests there): it
 * validates, then writes ZooKeeper as Kafka's AdminZkClient does -
 * /config/topics/<t> and /brokers/topics/<t> for a new topic, a rewritten
 * /brokers/topics/<t> for more partitions, /admin/delete_topics/<t> for a
 * deletion.  The controller picks those up.  The answer waits (up to the
 * request's timeout, polling this broker's metadata cache) until the
 * controller's UpdateMetadata shows the result, as Kafka's delayed
 * create/delete operations do, so a client can use a topic as soon as its
 * creation is acknowledged.
 *
 * ZooKeeper calls here block the network worker for a few round trips;
 * admin requests are rare, and Kafka's request handlers do the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "broker.h"
#include "broker_config.h"
#include "dynconfig.h"
#include "kp_assign.h"
#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_msgs.h"
#include "kp_topic_config.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "net.h"
#include "purgatory.h"
#include "req_dispatch.h"
#include "topic_config.h"

#define MAX_TOPIC_LEN 249
/* A topic's assignment is one znode, which ZooKeeper caps at 1 MB. */
#define MAX_PARTITIONS 100000

/* ------------------------------------------------------------ helpers */

static kp_str arena_strf(struct kp_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static kp_str arena_strf(struct kp_arena *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char *c;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return KP_STR_NULL;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	c = kp_arena_alloc(a, (size_t)n + 1);
	if (c == NULL)
		return KP_STR_NULL;
	memcpy(c, buf, (size_t)n + 1);
	return (kp_str){ c, n };
}

/* A NUL-terminated copy in the request's arena ("" for a null string). */
static char *arena_cstr(struct kp_arena *a, kp_str s)
{
	return kp_arena_strndup(a, s.ptr, (size_t)(s.len > 0 ? s.len : 0));
}

/* Kafka's Topic.validate: 0 or INVALID_TOPIC_EXCEPTION with a message. */
static int16_t topic_name_check(const char *name, char *msg, size_t n)
{
	size_t len = strlen(name);

	if (len == 0) {
		snprintf(msg, n, "Topic name is illegal, it can't be empty");
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		snprintf(msg, n, "Topic name cannot be \".\" or \"..\"");
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	if (len > MAX_TOPIC_LEN) {
		snprintf(msg, n, "Topic name is illegal, it can't be longer than %d "
			 "characters, topic name: %.64s...", MAX_TOPIC_LEN, name);
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
			snprintf(msg, n, "Topic name \"%s\" is illegal, it contains a "
				 "character other than ASCII alphanumerics, '.', '_' "
				 "and '-'", name);
			return KP_ERR_INVALID_TOPIC_EXCEPTION;
		}
	}
	return 0;
}

/* Names equal once '.' and '_' are identified (their metric names). */
static bool collides(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '.' ? '_' : *a, y = *b == '.' ? '_' : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

/* The live brokers, as the controller last told us. */
static struct kp_assign_broker *live_brokers(struct md_view *v, int *n)
{
	struct kp_assign_broker *l = calloc((size_t)v->nbrokers + 1, sizeof(*l));

	if (l == NULL)
		return NULL;
	for (int32_t i = 0; i < v->nbrokers; i++) {
		l[i].id = v->brokers[i].id;
		l[i].rack = v->brokers[i].rack;
	}
	*n = v->nbrokers;
	return l;
}

static int topic_path(char *buf, size_t n, const char *prefix, const char *topic)
{
	return snprintf(buf, n, "%s/%s", prefix, topic);
}

/* Checks shared by every new topic: name, existence, collisions. */
static int16_t check_new_topic(struct broker *b, const char *name, char *msg,
			       size_t n)
{
	struct kp_zk_result res;
	char path[512];
	int16_t err = topic_name_check(name, msg, n);
	int rc;

	if (err != 0)
		return err;
	topic_path(path, sizeof(path), "/brokers/topics", name);
	rc = kp_zk_exists_sync(b->zk, path, NULL);
	if (rc == KP_ZK_OK) {
		snprintf(msg, n, "Topic '%s' already exists.", name);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (rc != KP_ZK_NONODE) {
		snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (strpbrk(name, "._") == NULL)
		return 0;
	rc = kp_zk_children_sync(b->zk, "/brokers/topics", &res);
	for (int32_t i = 0; rc == KP_ZK_OK && i < res.nchildren; i++)
		if (collides(name, res.children[i])) {
			snprintf(msg, n, "Topic '%s' collides with existing topics: %s",
				 name, res.children[i]);
			err = KP_ERR_INVALID_TOPIC_EXCEPTION;
			break;
		}
	kp_zk_result_free(&res);
	return err;
}

/*
 * Write a new topic: its config node first (always, as Kafka does), then
 * the assignment, which is what the controller watches.
 */
static int16_t write_topic(struct broker *b, const char *name,
			   const struct kp_zk_topic *t,
			   const struct kp_zk_entity_config *cfg, char *msg,
			   size_t n)
{
	char path[512], *json;
	int rc;

	json = kp_zk_config_encode(cfg);
	if (json == NULL)
		goto oom;
	topic_path(path, sizeof(path), "/config/topics", name);
	rc = kp_zk_create_sync(b->zk, path, json, (int32_t)strlen(json),
			       KP_ZK_PERSISTENT, NULL);
	if (rc == KP_ZK_NODEEXISTS)
		rc = kp_zk_set_sync(b->zk, path, json, (int32_t)strlen(json), -1, NULL);
	free(json);
	if (rc != KP_ZK_OK)
		goto zk;
	json = kp_zk_topic_encode(t);
	if (json == NULL)
		goto oom;
	topic_path(path, sizeof(path), "/brokers/topics", name);
	rc = kp_zk_create_sync(b->zk, path, json, (int32_t)strlen(json),
			       KP_ZK_PERSISTENT, NULL);
	free(json);
	if (rc == KP_ZK_NODEEXISTS) {
		snprintf(msg, n, "Topic '%s' already exists.", name);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (rc != KP_ZK_OK)
		goto zk;
	KP_INFO("created topic %s with %d partitions", name, t->npartitions);
	return 0;
zk:
	snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
	return KP_ERR_UNKNOWN_SERVER_ERROR;
oom:
	snprintf(msg, n, "out of memory");
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

/*
 * Create a topic: nparts x rf placed by Kafka's algorithm over the live
 * brokers, or the explicit assignment (parts[nparts]).  0 or an error code
 * with a message.
 */
static int16_t create_topic(struct broker *b, const char *name, int32_t nparts,
			    int32_t rf, struct kp_replicas *parts,
			    const struct kp_zk_entity_config *cfg,
			    bool validate_only, kp_uuid *topic_id, char *msg, size_t n)
{
	struct md_view *v = metadata_cache_get(&b->meta);
	struct kp_assign_broker *live = NULL;
	struct kp_zk_topic t;
	int32_t *flat = NULL;
	int nlive = 0;
	int16_t err;

	memset(&t, 0, sizeof(t));
	err = check_new_topic(b, name, msg, n);
	if (err != 0)
		goto out;
	live = live_brokers(v, &nlive);
	if (live == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	t.version = 3;
	kp_cluster_id_generate(t.topic_id);
	t.parts = calloc((size_t)nparts + 1, sizeof(*t.parts));
	t.adding = calloc((size_t)nparts + 1, sizeof(*t.adding));
	t.removing = calloc((size_t)nparts + 1, sizeof(*t.removing));
	if (t.parts == NULL || t.adding == NULL || t.removing == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	t.npartitions = nparts;
	if (parts == NULL) {
		int rc;

		flat = calloc((size_t)nparts * (size_t)(rf > 0 ? rf : 1), sizeof(*flat));
		if (flat == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		rc = kp_assign_replicas(live, nlive, nparts, rf, -1, 0, flat, msg, n);
		if (rc < 0) {
			err = (int16_t)-rc;
			goto out;
		}
		for (int32_t p = 0; p < nparts; p++) {
			t.parts[p].ids = flat + (size_t)p * (size_t)rf;
			t.parts[p].n = rf;
		}
	} else {
		for (int32_t p = 0; p < nparts; p++)
			t.parts[p] = parts[p];
	}
	err = 0;
	if (!validate_only)
		err = write_topic(b, name, &t, cfg, msg, n);
	if (err == 0 && !validate_only && topic_id != NULL)
		kp_uuid_parse(t.topic_id, topic_id);
	/* the replica lists belong to flat or the caller */
	memset(t.parts, 0, sizeof(*t.parts) * (size_t)nparts);
out:
	kp_zk_topic_free(&t);
	free(flat);
	free(live);
	md_view_unref(v);
	return err;
}

/* An explicit assignment: partitions 0..n-1, same size, no duplicates,
 * live brokers only. */
static int16_t check_assignment(struct md_view *v, struct kp_replicas *parts,
				int32_t n, char *msg, size_t len)
{
	for (int32_t p = 0; p < n; p++) {
		if (parts[p].n <= 0) {
			snprintf(msg, len, "Replica assignment of partition %d is empty.", p);
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
		if (parts[p].n != parts[0].n) {
			snprintf(msg, len, "All partitions should have the same number "
				 "of replicas");
			return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
		for (int32_t i = 0; i < parts[p].n; i++) {
			if (md_view_broker(v, parts[p].ids[i]) == NULL) {
				snprintf(msg, len, "Unknown broker %d in the replica "
					 "assignment of partition %d.", parts[p].ids[i], p);
				return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
			}
			for (int32_t j = 0; j < i; j++)
				if (parts[p].ids[i] == parts[p].ids[j]) {
					snprintf(msg, len, "Duplicate replica assignment "
						 "found: partition %d, replicas %d", p,
						 parts[p].ids[i]);
					return KP_ERR_INVALID_REPLICA_ASSIGNMENT;
				}
		}
	}
	return 0;
}

/* ------------------------------------------------- waiting for metadata */

enum wait_for { WAIT_LEADERS, WAIT_GONE };

struct admin_item {
	char *name;
	int16_t error;
	kp_str message;
	int32_t nparts;		/* WAIT_LEADERS: partitions that need a leader */
	int32_t rf;
	bool wait;
	kp_uuid topic_id;	/* CreateTopics: the new topic's; DeleteTopics:
				 * the one the request named */
	/* CreateTopics v5+: the new topic's configuration */
	struct kp_create_topics_resp_creatable_topic_configs *configs;
	int32_t nconfigs;
};

/* A request waiting for the metadata to show its outcome (the op first:
 * the purgatory hands it back); it watches the metadata cache. */
struct admin_waiter {
	struct delayed_op op;
	struct purgatory_watch watch;
	struct net_req *r;
	enum wait_for what;
	struct admin_item *items;
	int32_t n;
	void (*respond)(struct admin_waiter *);
};

/* Whether the metadata cache shows item's outcome yet. */
static bool item_done(struct md_view *v, enum wait_for what,
		      const struct admin_item *it)
{
	const struct md_topic *t = md_view_topic(v, it->name, strlen(it->name));

	if (what == WAIT_GONE)
		return t == NULL;
	if (t == NULL || t->nparts < it->nparts)
		return false;
	for (int32_t p = 0; p < t->nparts; p++)
		if (t->parts[p].leader < 0)
			return false;
	return true;
}

/* True when nothing is left to wait for; with final, what still waits
 * times out. */
static bool check_items(struct admin_waiter *aw, bool final)
{
	struct md_view *v = metadata_cache_get(&aw->r->worker->broker->meta);
	bool all = true;

	for (int32_t i = 0; i < aw->n; i++) {
		struct admin_item *it = &aw->items[i];

		if (!it->wait)
			continue;
		if (item_done(v, aw->what, it)) {
			it->wait = false;
		} else if (final) {
			it->wait = false;
			it->error = KP_ERR_REQUEST_TIMED_OUT;
			it->message = kp_str_c(aw->what == WAIT_GONE
				? "Timed out waiting for the topic to be deleted"
				: "Timed out waiting for the topic's partitions to get leaders");
		} else {
			all = false;
		}
	}
	md_view_unref(v);
	return all;
}

static bool admin_try(struct delayed_op *op)
{
	struct admin_waiter *aw = (struct admin_waiter *)op;

	return net_req_orphaned(aw->r) || check_items(aw, false);
}

/* Shown, timed out, or the broker stops: what still waits timed out. */
static void admin_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct admin_waiter *aw = (struct admin_waiter *)op;

	(void)end;
	check_items(aw, true);
	aw->respond(aw);	/* aw lives in the request's arena */
}

static const struct delayed_op_type admin_wait_type = {
	"admin", admin_try, admin_complete, NULL
};

/* Answer now, or once the outcome shows (timeout_ms <= 0: now). */
static void wait_or_respond(struct admin_waiter *aw, int32_t timeout_ms)
{
	struct net_req *r = aw->r;

	if (timeout_ms <= 0 || check_items(aw, false)) {
		aw->respond(aw);
		return;
	}
	aw->watch.key = &r->worker->broker->meta.changed;
	purgatory_watch(r->worker->home, &aw->op, &admin_wait_type, &aw->watch, 1,
			timeout_ms);
}

static struct admin_waiter *waiter_new(struct net_req *r, int32_t n,
				       enum wait_for what,
				       void (*respond)(struct admin_waiter *))
{
	struct admin_waiter *aw = kp_arena_calloc(&r->arena, 1, sizeof(*aw));

	if (aw == NULL)
		return NULL;
	aw->items = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*aw->items));
	if (aw->items == NULL)
		return NULL;
	aw->r = r;
	aw->n = n;
	aw->what = what;
	aw->respond = respond;
	return aw;
}

/* Same name earlier in the request: Kafka refuses every copy. */
static bool duplicate_name(kp_str name, const kp_str *names, int32_t n)
{
	int32_t count = 0;

	for (int32_t i = 0; i < n; i++)
		count += kp_str_eq(name, names[i]);
	return count > 1;
}

/* ------------------------------------------------------- CreateTopics */

static void create_topics_respond(struct admin_waiter *aw)
{
	struct net_req *r = aw->r;
	struct kp_create_topics_resp resp;
	struct kp_create_topics_resp_creatable_topic_result *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)aw->n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < aw->n; i++) {
		const struct admin_item *it = &aw->items[i];

		kp_struct_init(&kp_create_topics_resp_creatable_topic_result_desc, &res[i]);
		res[i].name = kp_str_c(it->name);
		res[i].error_code = it->error;
		res[i].error_message = it->error != 0 ? it->message : KP_STR_NULL;
		/* v5+: what was created (Kafka resets them on failure) */
		if (it->error == 0) {
			res[i].num_partitions = it->nparts;
			res[i].replication_factor = (int16_t)it->rf;
			res[i].configs = it->configs;
			res[i].configs_count = it->nconfigs;
			res[i].topic_id = it->topic_id;	/* v7+; zero when only
							 * validated */
		}
	}
	resp.topics = res;
	resp.topics_count = aw->n;
	net_reply(r, &resp);
}

/* Config overrides of one creatable topic, validated. */
static int16_t topic_overrides(const struct kp_create_topics_req_creatable_topic *t,
			       struct kp_zk_entity_config *cfg, char *msg, size_t n)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int32_t i = 0; i < t->configs_count; i++) {
		char *k = kp_str_dup(t->configs[i].name);
		char *v = kp_str_dup(t->configs[i].value);
		int rc = k != NULL ? kp_topic_config_validate(k, v, msg, n) : -1;

		if (rc == 0)
			rc = kp_zk_config_set(cfg, k, v);
		free(k);
		free(v);
		if (rc < 0) {
			kp_zk_config_free(cfg);
			return KP_ERR_INVALID_CONFIG;
		}
	}
	return 0;
}

static int describe_topic_entries(struct net_req *r,
				  const struct kp_zk_entity_config *over,
				  const kp_str *keys, int32_t nkeys, bool synonyms,
				  bool docs,
				  struct kp_describe_configs_resp_describe_configs_resource_result **out,
				  int32_t *nout);

/* CreateTopics v5+: the new topic's whole configuration, as DescribeConfigs
 * would give it (Kafka's createTopicConfigEntry without synonyms). */
static int created_configs(struct net_req *r, const struct kp_zk_entity_config *over,
			   struct admin_item *it)
{
	struct kp_describe_configs_resp_describe_configs_resource_result *e;
	int32_t n;

	if (describe_topic_entries(r, over, NULL, -1, false, false, &e, &n) < 0)
		return -1;
	it->configs = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*it->configs));
	if (it->configs == NULL)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		kp_struct_init(&kp_create_topics_resp_creatable_topic_configs_desc,
			       &it->configs[i]);
		it->configs[i].name = e[i].name;
		it->configs[i].value = e[i].value;
		it->configs[i].read_only = e[i].read_only;
		it->configs[i].config_source = e[i].config_source;
		it->configs[i].is_sensitive = e[i].is_sensitive;
	}
	it->nconfigs = n;
	return 0;
}

static int16_t create_one(struct net_req *r,
			  const struct kp_create_topics_req_creatable_topic *t,
			  bool validate_only, struct admin_item *it, char *msg,
			  size_t n)
{
	struct broker *b = r->worker->broker;
	struct kp_zk_entity_config cfg;
	struct kp_replicas *parts = NULL;
	int32_t nparts = t->num_partitions, rf = t->replication_factor;
	int16_t err;

	it->name = arena_cstr(&r->arena, t->name);
	if (it->name == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (t->assignments_count > 0 && (nparts != -1 || rf != -1)) {
		snprintf(msg, n, "Both numPartitions or replicationFactor and "
			 "replicasAssignments were set. Both cannot be used at the same time.");
		return KP_ERR_INVALID_REQUEST;
	}
	err = topic_overrides(t, &cfg, msg, n);
	if (err != 0)
		return err;
	if (t->assignments_count > MAX_PARTITIONS) {
		snprintf(msg, n, "Number of partitions %d is above %d, more than one "
			 "topic znode can hold.", t->assignments_count, MAX_PARTITIONS);
		kp_zk_config_free(&cfg);
		return KP_ERR_INVALID_PARTITIONS;
	}
	if (t->assignments_count > 0) {
		struct md_view *v = metadata_cache_get(&b->meta);

		nparts = t->assignments_count;
		parts = calloc((size_t)nparts, sizeof(*parts));
		err = parts == NULL ? KP_ERR_UNKNOWN_SERVER_ERROR : 0;
		for (int32_t i = 0; err == 0 && i < nparts; i++) {
			int32_t idx = t->assignments[i].partition_index;

			if (idx < 0 || idx >= nparts || parts[idx].n != 0) {
				snprintf(msg, n, "Unexpected existing or missing partition "
					 "ids in the replica assignment (partition %d)", idx);
				err = KP_ERR_INVALID_REPLICA_ASSIGNMENT;
				break;
			}
			parts[idx].ids = t->assignments[i].broker_ids;
			parts[idx].n = t->assignments[i].broker_ids_count;
		}
		if (err == 0)
			err = check_assignment(v, parts, nparts, msg, n);
		md_view_unref(v);
		rf = err == 0 ? parts[0].n : 0;
	} else {
		if (nparts == -1)
			nparts = kp_config_int(&b->cfg, "num.partitions");
		if (rf == -1)
			rf = kp_config_int(&b->cfg, "default.replication.factor");
		if (nparts <= 0) {
			snprintf(msg, n, "Number of partitions was set to an invalid "
				 "non-positive value.");
			err = KP_ERR_INVALID_PARTITIONS;
		} else if (nparts > MAX_PARTITIONS) {
			snprintf(msg, n, "Number of partitions %d is above %d, more than "
				 "one topic znode can hold.", nparts, MAX_PARTITIONS);
			err = KP_ERR_INVALID_PARTITIONS;
		} else if (rf <= 0) {
			snprintf(msg, n, "Replication factor must be larger than 0.");
			err = KP_ERR_INVALID_REPLICATION_FACTOR;
		}
	}
	if (err == 0)
		err = create_topic(b, it->name, nparts, rf, parts, &cfg, validate_only,
				   &it->topic_id, msg, n);
	if (err == 0 && r->h.api_version >= 5 && created_configs(r, &cfg, it) < 0)
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	free(parts);
	kp_zk_config_free(&cfg);
	it->nparts = nparts;
	it->rf = rf;
	return err;
}

void api_create_topics(struct net_req *r)
{
	const struct kp_create_topics_req *req = r->body;
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;
	struct admin_waiter *aw = waiter_new(r, n, WAIT_LEADERS, create_topics_respond);
	kp_str *names = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*names));

	if (aw == NULL || names == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++)
		names[i] = req->topics[i].name;
	for (int32_t i = 0; i < n; i++) {
		struct admin_item *it = &aw->items[i];
		char msg[512] = "";

		if (duplicate_name(names[i], names, n)) {
			it->name = arena_cstr(&r->arena, names[i]);
			it->error = KP_ERR_INVALID_REQUEST;
			it->message = arena_strf(&r->arena, "Create topics request from "
						 "client contains a duplicate topic name.");
			if (it->name == NULL)
				it->name = "";
			continue;
		}
		it->error = create_one(r, &req->topics[i], req->validate_only, it, msg,
				       sizeof(msg));
		if (it->name == NULL)
			it->name = "";
		if (it->error != 0) {
			it->message = arena_strf(&r->arena, "%s", msg);
			KP_INFO("%s: CreateTopics %s: %s", r->peer, it->name, msg);
		}
		it->wait = it->error == 0 && !req->validate_only;
	}
	wait_or_respond(aw, req->timeout_ms);
}

/* ------------------------------------------------------- DeleteTopics */

static void delete_topics_respond(struct admin_waiter *aw)
{
	struct net_req *r = aw->r;
	struct kp_delete_topics_resp resp;
	struct kp_delete_topics_resp_deletable_topic_result *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)aw->n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < aw->n; i++) {
		kp_struct_init(&kp_delete_topics_resp_deletable_topic_result_desc, &res[i]);
		/* null (v6+) for an id we do not know */
		res[i].name = kp_str_c(aw->items[i].name);
		if (r->h.api_version < 6 && res[i].name.len < 0)
			res[i].name = (kp_str){ "", 0 };
		res[i].topic_id = aw->items[i].topic_id;
		res[i].error_code = aw->items[i].error;
		res[i].error_message = aw->items[i].error != 0 ? aw->items[i].message
							       : KP_STR_NULL;
	}
	resp.responses = res;
	resp.responses_count = aw->n;
	net_reply(r, &resp);
}

static int16_t delete_one(struct broker *b, const char *name, char *msg, size_t n)
{
	char path[512];
	int rc;

	if (topic_name_check(name, msg, n) != 0) {
		snprintf(msg, n, "This server does not host this topic-partition.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	topic_path(path, sizeof(path), "/brokers/topics", name);
	rc = kp_zk_exists_sync(b->zk, path, NULL);
	if (rc == KP_ZK_NONODE) {
		snprintf(msg, n, "This server does not host this topic-partition.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rc != KP_ZK_OK)
		goto zk;
	if (strcmp(name, KP_OFFSETS_TOPIC) == 0) {
		/* the group coordinator's: deleting it loses every group */
		snprintf(msg, n, "Topic %s is an internal topic and cannot be deleted.",
			 name);
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	if (!kp_config_bool(&b->cfg, "delete.topic.enable")) {
		snprintf(msg, n, "Topic deletion is disabled.");
		return KP_ERR_TOPIC_DELETION_DISABLED;
	}
	topic_path(path, sizeof(path), "/admin/delete_topics", name);
	rc = kp_zk_create_sync(b->zk, path, NULL, 0, KP_ZK_PERSISTENT, NULL);
	if (rc == KP_ZK_NODEEXISTS)
		return 0;	/* already queued */
	if (rc != KP_ZK_OK)
		goto zk;
	KP_INFO("topic %s marked for deletion", name);
	return 0;
zk:
	snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

static kp_str arena_cstr_str(struct kp_arena *a, const char *s)
{
	return s == NULL ? KP_STR_NULL
			 : kp_str_c(kp_arena_strndup(a, s, strlen(s)));
}

/* v6: a topic named by id; its name from the metadata cache, or NULL. */
static kp_str topic_by_id(struct net_req *r, const kp_uuid *id)
{
	struct md_view *v = metadata_cache_get(&r->worker->broker->meta);
	const struct md_topic *t = md_view_topic_by_id(v, id);
	kp_str name = t != NULL ? arena_cstr_str(&r->arena, t->name) : KP_STR_NULL;

	md_view_unref(v);
	return name;
}

static bool uuid_set(const kp_uuid *u)
{
	static const kp_uuid zero;

	return memcmp(u, &zero, sizeof(zero)) != 0;
}

void api_delete_topics(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_delete_topics_req *req = r->body;
	bool by_state = r->h.api_version >= 6;
	int32_t n = by_state ? req->topics_count : req->topic_names_count;
	struct admin_waiter *aw;
	kp_str *names;
	bool both = false;

	if (n < 0)
		n = 0;
	aw = waiter_new(r, n, WAIT_GONE, delete_topics_respond);
	names = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*names));
	if (aw == NULL || names == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		if (!by_state) {
			names[i] = req->topic_names[i];
			continue;
		}
		/* v6: by name or by id (never both), the answer names the id
		 * the request gave */
		aw->items[i].topic_id = req->topics[i].topic_id;
		if (!uuid_set(&req->topics[i].topic_id)) {
			names[i] = req->topics[i].name;
			continue;
		}
		both |= req->topics[i].name.len >= 0;
		names[i] = topic_by_id(r, &req->topics[i].topic_id);
	}
	for (int32_t i = 0; i < n; i++) {
		struct admin_item *it = &aw->items[i];
		char msg[512] = "";

		if (names[i].len >= 0 &&
		    (it->name = arena_cstr(&r->arena, names[i])) == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		if (both) {
			/* Kafka refuses the whole request */
			it->name = req->topics[i].name.len >= 0
				? arena_cstr(&r->arena, req->topics[i].name) : NULL;
			it->error = KP_ERR_INVALID_REQUEST;
			it->message = KP_STR_NULL;
			continue;
		}
		if (names[i].len < 0) {
			it->error = by_state && uuid_set(&it->topic_id)
				? KP_ERR_UNKNOWN_TOPIC_ID : KP_ERR_INVALID_REQUEST;
			it->message = KP_STR_NULL;
			continue;
		}
		if (duplicate_name(names[i], names, n)) {
			it->error = KP_ERR_INVALID_REQUEST;
			it->message = kp_str_c("Duplicate topic name in the request.");
			continue;
		}
		it->error = delete_one(b, it->name, msg, sizeof(msg));
		if (it->error != 0)
			it->message = arena_strf(&r->arena, "%s", msg);
		it->wait = it->error == 0;
	}
	wait_or_respond(aw, req->timeout_ms);
}

/* --------------------------------------------------- CreatePartitions */

static void create_partitions_respond(struct admin_waiter *aw)
{
	struct net_req *r = aw->r;
	struct kp_create_partitions_resp resp;
	struct kp_create_partitions_resp_create_partitions_topic_result *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)aw->n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < aw->n; i++) {
		kp_struct_init(&kp_create_partitions_resp_create_partitions_topic_result_desc,
			       &res[i]);
		res[i].name = kp_str_c(aw->items[i].name);
		res[i].error_code = aw->items[i].error;
		res[i].error_message = aw->items[i].error != 0 ? aw->items[i].message
							       : KP_STR_NULL;
	}
	resp.results = res;
	resp.results_count = aw->n;
	net_reply(r, &resp);
}

static int16_t add_partitions(struct broker *b,
			      const struct kp_create_partitions_req_create_partitions_topic *in,
			      const char *name, bool validate_only, char *msg,
			      size_t n)
{
	struct md_view *v = NULL;
	struct kp_assign_broker *live = NULL;
	struct kp_zk_result res;
	struct kp_zk_topic t;
	struct kp_replicas *grown = NULL;
	int32_t *flat = NULL, add, rf;
	char path[512], *json = NULL;
	int16_t err = 0;
	int nlive = 0, rc;

	memset(&t, 0, sizeof(t));
	topic_path(path, sizeof(path), "/brokers/topics", name);
	rc = kp_zk_get_sync(b->zk, path, &res);
	if (rc == KP_ZK_NONODE || (rc == KP_ZK_OK && res.data == NULL)) {
		kp_zk_result_free(&res);
		snprintf(msg, n, "The topic '%s' does not exist.", name);
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rc != KP_ZK_OK ||
	    kp_zk_topic_decode(res.data, (size_t)res.len, &t, msg, n) < 0) {
		if (rc != KP_ZK_OK)
			snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (in->count < t.npartitions) {
		snprintf(msg, n, "Topic currently has %d partitions, %d would not be "
			 "an increase.", t.npartitions, in->count);
		err = KP_ERR_INVALID_PARTITIONS;
		goto out;
	}
	if (in->count > MAX_PARTITIONS) {
		snprintf(msg, n, "Number of partitions %d is above %d, more than one "
			 "topic znode can hold.", in->count, MAX_PARTITIONS);
		err = KP_ERR_INVALID_PARTITIONS;
		goto out;
	}
	if (in->count == t.npartitions) {
		snprintf(msg, n, "Topic already has %d partitions.", t.npartitions);
		err = KP_ERR_INVALID_PARTITIONS;
		goto out;
	}
	add = in->count - t.npartitions;
	rf = t.parts[0].n;
	v = metadata_cache_get(&b->meta);
	grown = calloc((size_t)in->count, sizeof(*grown));
	if (grown == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	if (in->assignments_count >= 0) {
		if (in->assignments_count != add) {
			snprintf(msg, n, "Increasing the number of partitions by %d but "
				 "%d assignments provided.", add, in->assignments_count);
			err = KP_ERR_INVALID_REPLICA_ASSIGNMENT;
			goto out;
		}
		for (int32_t i = 0; i < add; i++) {
			grown[t.npartitions + i].ids = in->assignments[i].broker_ids;
			grown[t.npartitions + i].n = in->assignments[i].broker_ids_count;
		}
		err = check_assignment(v, grown + t.npartitions, add, msg, n);
		if (err == 0 && grown[t.npartitions].n != rf) {
			snprintf(msg, n, "Inconsistent replication factor between "
				 "partitions, partition 0 has %d while partitions [%d] "
				 "has replication factor %d", rf, t.npartitions,
				 grown[t.npartitions].n);
			err = KP_ERR_INVALID_REPLICA_ASSIGNMENT;
		}
		if (err != 0)
			goto out;
	} else {
		live = live_brokers(v, &nlive);
		flat = calloc((size_t)add * (size_t)rf, sizeof(*flat));
		if (live == NULL || flat == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		rc = kp_assign_more(live, nlive, t.parts[0].ids[0], t.npartitions, add,
				    rf, flat, msg, n);
		if (rc < 0) {
			err = (int16_t)-rc;
			goto out;
		}
		for (int32_t i = 0; i < add; i++) {
			grown[t.npartitions + i].ids = flat + (size_t)i * (size_t)rf;
			grown[t.npartitions + i].n = rf;
		}
	}
	if (validate_only)
		goto out;
	{
		/* the new lists are borrowed: swap them in for encoding only */
		struct kp_replicas *old = t.parts, *oa = t.adding, *orr = t.removing;
		struct kp_replicas *adding = calloc((size_t)in->count, sizeof(*adding));
		struct kp_replicas *removing = calloc((size_t)in->count, sizeof(*removing));
		int32_t oldn = t.npartitions;

		if (adding == NULL || removing == NULL) {
			free(adding);
			free(removing);
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		for (int32_t i = 0; i < oldn; i++) {
			grown[i] = old[i];
			if (oa != NULL)
				adding[i] = oa[i];
			if (orr != NULL)
				removing[i] = orr[i];
		}
		t.parts = grown;
		t.adding = adding;
		t.removing = removing;
		t.npartitions = in->count;
		json = kp_zk_topic_encode(&t);
		t.parts = old;
		t.adding = oa;
		t.removing = orr;
		t.npartitions = oldn;
		free(adding);
		free(removing);
	}
	if (json == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	/* conditional: a concurrent change makes the client retry */
	rc = kp_zk_set_sync(b->zk, path, json, (int32_t)strlen(json), res.stat.version,
			    NULL);
	if (rc != KP_ZK_OK) {
		snprintf(msg, n, "The topic changed meanwhile (ZooKeeper: %s)",
			 kp_zk_strerror(rc));
		err = KP_ERR_REASSIGNMENT_IN_PROGRESS;
		goto out;
	}
	KP_INFO("topic %s: %d -> %d partitions", name, t.npartitions, in->count);
out:
	free(json);
	free(grown);
	free(flat);
	free(live);
	if (v != NULL)
		md_view_unref(v);
	kp_zk_topic_free(&t);
	kp_zk_result_free(&res);
	return err;
}

void api_create_partitions(struct net_req *r)
{
	struct broker *b = r->worker->broker;
	const struct kp_create_partitions_req *req = r->body;
	int32_t n = req->topics_count > 0 ? req->topics_count : 0;
	struct admin_waiter *aw = waiter_new(r, n, WAIT_LEADERS, create_partitions_respond);
	kp_str *names = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*names));

	if (aw == NULL || names == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++)
		names[i] = req->topics[i].name;
	for (int32_t i = 0; i < n; i++) {
		struct admin_item *it = &aw->items[i];
		char msg[512] = "";

		it->name = arena_cstr(&r->arena, names[i]);
		if (it->name == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		if (duplicate_name(names[i], names, n)) {
			it->error = KP_ERR_INVALID_REQUEST;
			it->message = kp_str_c("Duplicate topic in request.");
			continue;
		}
		it->error = topic_name_check(it->name, msg, sizeof(msg));
		if (it->error == 0)
			it->error = add_partitions(b, &req->topics[i], it->name,
						   req->validate_only, msg, sizeof(msg));
		if (it->error != 0)
			it->message = arena_strf(&r->arena, "%s", msg);
		it->nparts = req->topics[i].count;
		it->wait = it->error == 0 && !req->validate_only;
	}
	wait_or_respond(aw, req->timeout_ms);
}

/* ---------------------------------------------------- DescribeConfigs */

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4

/* DescribeConfigs' ConfigType (v3+); UNKNOWN (0) for a key without one. */
static int8_t config_type(const struct kp_config_def *d)
{
	if (d == NULL)
		return 0;
	switch (d->type) {
	case KP_CFG_BOOL:
		return 1;
	case KP_CFG_STRING:
		return 2;
	case KP_CFG_INT:
		return 3;
	case KP_CFG_SHORT:
		return 4;
	case KP_CFG_LONG:
		return 5;
	case KP_CFG_DOUBLE:
		return 6;
	case KP_CFG_LIST:
		return 7;
	case KP_CFG_CLASS:
		return 8;
	case KP_CFG_PASSWORD:
		return 9;
	}
	return 0;
}

static bool wanted(const char *key, const kp_str *keys, int32_t nkeys)
{
	if (nkeys < 0)
		return true;
	for (int32_t i = 0; i < nkeys; i++)
		if (kp_str_eqc(keys[i], key))
			return true;
	return false;
}

/* A key's documentation (v3+): its line and what the flags say. */
static kp_str documentation(struct net_req *r, const struct kp_config_def *d)
{
	const char *note;

	if (d == NULL)
		return KP_STR_NULL;
	note = kp_config_note(d);
	return note != NULL ? arena_strf(&r->arena, "%s. %s", d->doc, note)
			    : arena_strf(&r->arena, "%s.", d->doc);
}

typedef struct kp_describe_configs_resp_describe_configs_synonym dc_synonym;
typedef struct kp_describe_configs_resp_describe_configs_resource_result dc_entry;

#define MAX_SYNONYMS 16

/*
 * Kafka's configSynonyms: the broker keys behind bkey (log.retention.ms,
 * .minutes, .hours...; a listener override and its base key) on each
 * layer that sets them, layer by layer from the highest precedence; with_broker
 * false leaves out /config/brokers/<id> (describing the cluster default).
 * As Kafka, the entries before the first one of bkey itself are dropped
 * (a base key's value is no synonym of an override described).  syn holds
 * MAX_SYNONYMS entries.
 */
static void broker_synonyms(struct net_req *r, const char *bkey, bool with_broker,
			    bool secret, dc_synonym *syn, int32_t *ns)
{
	static const enum dyn_layer layers[] = { DYN_BROKER, DYN_DEFAULT, DYN_STATIC,
						 DYN_TABLE_DEFAULT };
	struct broker *b = r->worker->broker;
	const char *keys[3];
	int nk;
	int32_t first = *ns, skip;

	if (kp_config_is_listener_key(bkey, NULL)) {
		const struct kp_config_def *d = dynconfig_type_def(bkey);

		keys[0] = bkey;
		keys[1] = d != NULL ? d->key : NULL;
		nk = d != NULL ? 2 : 1;
	} else {
		nk = topic_config_synonym_keys(bkey, keys);
	}
	for (size_t j = 0; j < sizeof(layers) / sizeof(layers[0]); j++) {
		if (layers[j] == DYN_BROKER && !with_broker)
			continue;
		for (int i = 0; i < nk && *ns < MAX_SYNONYMS; i++) {
			const char *v;
			char buf[256];

			if (layers[j] == DYN_TABLE_DEFAULT) {
				const struct kp_config_def *d = dynconfig_def(keys[i]);

				if (d == NULL || d->def == NULL)
					continue;
				v = d->def;
			} else {
				v = dynconfig_layer_get(b, layers[j], keys[i], buf,
							sizeof(buf));
				if (v == NULL)
					continue;
			}
			syn[*ns] = (dc_synonym){
				.name = arena_cstr_str(&r->arena, keys[i]),
				.value = secret ? KP_STR_NULL : arena_cstr_str(&r->arena, v),
				.source = (int8_t)layers[j] };
			(*ns)++;
		}
	}
	for (skip = first; skip < *ns && !kp_str_eqc(syn[skip].name, bkey); skip++)
		;
	if (skip > first) {
		memmove(syn + first, syn + skip, (size_t)(*ns - skip) * sizeof(*syn));
		*ns -= skip - first;
	}
}

static int describe_topic_entries(struct net_req *r,
				  const struct kp_zk_entity_config *over,
				  const kp_str *keys, int32_t nkeys, bool synonyms,
				  bool docs, dc_entry **out, int32_t *nout)
{
	struct broker *b = r->worker->broker;
	dc_entry *e;
	int32_t n = 0;

	e = kp_arena_calloc(&r->arena, kp_topic_nconfigs + 1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < kp_topic_nconfigs; i++) {
		const struct kp_topic_config *tc = &kp_topic_configs[i];
		const char *ov = kp_zk_config_get(over, tc->def.key);
		char buf[256];
		enum config_source src;
		const char *bv = topic_config_broker_value(b, tc, buf, sizeof(buf), &src);
		dc_entry *x = &e[n];
		dc_synonym *syn;
		int32_t ns = 0;

		if (!wanted(tc->def.key, keys, nkeys))
			continue;
		kp_struct_init(&kp_describe_configs_resp_describe_configs_resource_result_desc, x);
		x->name = kp_str_c(tc->def.key);
		x->value = arena_cstr_str(&r->arena, ov != NULL ? ov : bv);
		x->config_source = ov != NULL ? CONFIG_SOURCE_TOPIC : (int8_t)src;
		/* v0's is_default: the value is Kafka's own default */
		x->is_default = ov == NULL && src == CONFIG_SOURCE_DEFAULT;
		x->read_only = false;
		x->config_type = config_type(&tc->def);
		x->documentation = docs ? documentation(r, &tc->def) : KP_STR_NULL;
		x->synonyms_count = 0;
		if (synonyms) {
			syn = kp_arena_calloc(&r->arena, MAX_SYNONYMS, sizeof(*syn));
			if (syn == NULL)
				return -ENOMEM;
			if (ov != NULL)
				syn[ns++] = (dc_synonym){ .name = x->name, .value = x->value,
							  .source = CONFIG_SOURCE_TOPIC };
			if (tc->broker_key != NULL)
				broker_synonyms(r, tc->broker_key, true, false, syn, &ns);
			x->synonyms = syn;
			x->synonyms_count = ns;
		}
		n++;
	}
	*out = e;
	*nout = n;
	return 0;
}

/*
 * One broker key's entry (per_broker false: the cluster default), as
 * Kafka's createBrokerConfigEntry: a key without a known type (a custom
 * one) is treated as sensitive; read_only unless Kafka updates the key
 * dynamically; the source is the first synonym's.
 */
static int broker_entry(struct net_req *r, const char *key, bool per_broker,
			bool synonyms, bool docs, dc_entry *x)
{
	struct broker *b = r->worker->broker;
	const struct kp_config_def *d = dynconfig_type_def(key);
	bool secret = d == NULL || d->type == KP_CFG_PASSWORD;
	enum dyn_layer layer = DYN_DEFAULT;
	char buf[256];
	const char *v = per_broker
		? dynconfig_broker_get(b, key, buf, sizeof(buf), &layer)
		: dynconfig_layer_get(b, DYN_DEFAULT, key, buf, sizeof(buf));
	dc_synonym *syn;
	int32_t ns = 0;

	kp_struct_init(&kp_describe_configs_resp_describe_configs_resource_result_desc, x);
	x->name = arena_cstr_str(&r->arena, key);
	x->value = secret ? KP_STR_NULL : arena_cstr_str(&r->arena, v);
	x->is_sensitive = secret;
	x->read_only = !dynconfig_is_dynamic(key);
	x->config_type = config_type(d);
	x->documentation = docs ? documentation(r, dynconfig_def(key)) : KP_STR_NULL;
	syn = kp_arena_calloc(&r->arena, MAX_SYNONYMS, sizeof(*syn));
	if (syn == NULL)
		return -ENOMEM;
	broker_synonyms(r, key, per_broker, secret, syn, &ns);
	x->config_source = ns > 0 ? syn[0].source : (int8_t)CONFIG_SOURCE_DEFAULT;
	x->is_default = x->config_source == CONFIG_SOURCE_DEFAULT;
	x->synonyms = synonyms ? syn : NULL;
	x->synonyms_count = synonyms ? ns : 0;
	return 0;
}

/* The names of a broker entity's entries, each once. */
struct key_list {
	struct kp_arena *arena;
	const char **v;
	size_t n, cap;
	bool oom;
};

static bool key_listed(const struct key_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], key) == 0)
			return true;
	return false;
}

static void key_add(const char *key, void *arg)
{
	struct key_list *l = arg;

	if (l->oom || key_listed(l, key))
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap * 2 + 16;
		const char **nv = kp_arena_calloc(l->arena, nc, sizeof(*nv));

		if (nv == NULL) {
			l->oom = true;
			return;
		}
		if (l->n > 0)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n] = kp_arena_strndup(l->arena, key, strlen(key));
	if (l->v[l->n] == NULL)
		l->oom = true;
	else
		l->n++;
}

/*
 * The keys of a broker entity as Kafka lists them: for a broker, every
 * key of its configuration (Kafka's originals and non-internal values:
 * the table, the dynamic-only keys that are set, and whatever the file
 * or the dynamic layers set besides, listener overrides and custom keys);
 * for the cluster default, what /config/brokers/<default> sets.
 */
static int broker_keys(struct net_req *r, bool per_broker, struct key_list *l)
{
	struct broker *b = r->worker->broker;

	l->arena = &r->arena;
	if (per_broker) {
		for (size_t i = 0; i < broker_config_ndefs; i++) {
			const struct kp_config_def *d = &broker_config_defs[i];

			if (!(d->flags & KP_CFG_INTERNAL) || kp_config_is_set(&b->cfg, d->key))
				key_add(d->key, l);
		}
		for (size_t i = 0; i < b->cfg.props.count; i++)
			key_add(b->cfg.props.items[i].key, l);
		dynconfig_layer_foreach(b, DYN_BROKER, key_add, l);
	}
	dynconfig_layer_foreach(b, DYN_DEFAULT, key_add, l);
	return l->oom ? -ENOMEM : 0;
}

static int describe_broker_entries(struct net_req *r, const kp_str *keys,
				   int32_t nkeys, bool per_broker, bool synonyms,
				   bool docs, dc_entry **out, int32_t *nout)
{
	struct key_list l = { 0 };
	dc_entry *e;
	int32_t n = 0;

	if (broker_keys(r, per_broker, &l) < 0)
		return -ENOMEM;
	e = kp_arena_calloc(&r->arena, l.n + 1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < l.n; i++) {
		if (!wanted(l.v[i], keys, nkeys))
			continue;
		if (broker_entry(r, l.v[i], per_broker, synonyms, docs, &e[n]) < 0)
			return -ENOMEM;
		n++;
	}
	*out = e;
	*nout = n;
	return 0;
}

/*
 * A BROKER resource's name: "" (the cluster default) or our id, as an
 * integer the way Java parses it.  0 or INVALID_REQUEST with Kafka's text.
 */
static int16_t broker_name_check(struct broker *b, const char *name,
				 bool describe, char *msg, size_t n)
{
	const char *d = name[0] == '-' || name[0] == '+' ? name + 1 : name;
	char *end;
	long long id;

	if (name[0] == 0)
		return 0;
	errno = 0;
	id = strtoll(name, &end, 10);
	if (*d < '0' || *d > '9' || *end != 0 || errno != 0 || id < INT32_MIN ||
	    id > INT32_MAX) {
		snprintf(msg, n, "Broker id must be an integer, but it is: %s", name);
		return KP_ERR_INVALID_REQUEST;
	}
	if (id != b->id) {
		snprintf(msg, n, "Unexpected broker id, expected %d%s, but received %s",
			 b->id, describe ? " or empty string" : "", name);
		return KP_ERR_INVALID_REQUEST;
	}
	return 0;
}

static int16_t describe_one(struct net_req *r,
			    const struct kp_describe_configs_req_describe_configs_resource *in,
			    struct kp_describe_configs_resp_describe_configs_result *out,
			    char *msg, size_t n)
{
	struct broker *b = r->worker->broker;
	const struct kp_describe_configs_req *req = r->body;
	bool synonyms = r->h.api_version >= 1 && req->include_synonyms;
	bool docs = r->h.api_version >= 3 && req->include_documentation;
	char *name = arena_cstr(&r->arena, in->resource_name);
	int rc;

	if (name == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	if (in->resource_type == RESOURCE_TOPIC) {
		struct kp_zk_entity_config over;
		char path[512];
		int16_t err = topic_name_check(name, msg, n);

		if (err != 0)
			return err;
		topic_path(path, sizeof(path), "/brokers/topics", name);
		rc = kp_zk_exists_sync(b->zk, path, NULL);
		if (rc == KP_ZK_NONODE) {
			snprintf(msg, n, "Topic %s does not exist", name);
			return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
		if (rc != KP_ZK_OK || topic_config_read(b, name, &over) < 0) {
			snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		rc = describe_topic_entries(r, &over, in->configuration_keys,
					    in->configuration_keys_count, synonyms, docs,
					    &out->configs, &out->configs_count);
		kp_zk_config_free(&over);
		return rc < 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : 0;
	}
	if (in->resource_type == RESOURCE_BROKER) {
		int16_t err = broker_name_check(b, name, true, msg, n);

		if (err != 0)
			return err;
		/* "": the cluster-wide dynamic defaults */
		rc = describe_broker_entries(r, in->configuration_keys,
					     in->configuration_keys_count, name[0] != 0,
					     synonyms, docs, &out->configs,
					     &out->configs_count);
		return rc < 0 ? KP_ERR_UNKNOWN_SERVER_ERROR : 0;
	}
	snprintf(msg, n, "Unsupported resource type %d", in->resource_type);
	return KP_ERR_INVALID_REQUEST;
}

void api_describe_configs(struct net_req *r)
{
	const struct kp_describe_configs_req *req = r->body;
	struct kp_describe_configs_resp resp;
	int32_t n = req->resources_count > 0 ? req->resources_count : 0;
	struct kp_describe_configs_resp_describe_configs_result *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kp_describe_configs_req_describe_configs_resource *in =
			&req->resources[i];
		char msg[512] = "";

		kp_struct_init(&kp_describe_configs_resp_describe_configs_result_desc, &res[i]);
		res[i].resource_type = in->resource_type;
		res[i].resource_name = in->resource_name;
		res[i].error_code = describe_one(r, in, &res[i], msg, sizeof(msg));
		if (res[i].error_code != 0) {
			res[i].error_message = arena_strf(&r->arena, "%s", msg);
			res[i].configs_count = 0;
		} else {
			res[i].error_message = KP_STR_NULL;
		}
	}
	resp.results = res;
	resp.results_count = n;
	net_reply(r, &resp);
}

/* ------------------------------- AlterConfigs, IncrementalAlterConfigs */

enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3, OP_REPLACE = -1 };

/* One requested change; AlterConfigs' entries are OP_REPLACE. */
struct alter_op {
	const char *name;
	const char *value;	/* NULL: null */
	int8_t op;
};

/* Read a /config/<type>/<name> znode (absent: empty).  0 or -1. */
static int read_entity_config(struct broker *b, const char *path,
			      struct kp_zk_entity_config *out, char *msg, size_t n)
{
	struct kp_zk_result res;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = kp_zk_get_sync(b->zk, path, &res);
	if (rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		return 0;
	}
	if (rc != KP_ZK_OK) {
		snprintf(msg, n, "ZooKeeper: reading %s: %s", path, kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	rc = res.data != NULL ? kp_zk_config_decode(res.data, (size_t)res.len, out,
						     msg, n) : 0;
	kp_zk_result_free(&res);
	return rc;
}

/* Kafka's list arithmetic: APPEND adds what is not there yet, SUBTRACT
 * removes every occurrence; entries are trimmed, empty ones dropped. */
static int list_apply(struct kp_zk_entity_config *c, const char *key,
		      const char *dflt, const char *value, bool append)
{
	const char *old = kp_zk_config_get(c, key);
	char *out, *copy, *tok, *save = NULL;
	size_t cap;
	int rc;

	if (old == NULL)
		old = dflt != NULL ? dflt : "";
	cap = strlen(old) + strlen(value) + 2;
	out = calloc(1, cap);
	copy = malloc(strlen(old) + strlen(value) + 2);
	if (out == NULL || copy == NULL) {
		free(out);
		free(copy);
		return -1;
	}
	/* old entries, minus the subtracted ones */
	strcpy(copy, old);
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *t = tok, *e;
		bool drop = false;

		while (*t == ' ')
			t++;
		for (e = t + strlen(t); e > t && e[-1] == ' '; e--)
			;
		*e = 0;
		if (*t == 0)
			continue;
		if (!append) {
			const char *v = value;

			while (*v && !drop) {
				size_t l;

				while (*v == ' ')
					v++;
				l = strcspn(v, ",");
				while (l > 0 && v[l - 1] == ' ')
					l--;
				drop = l == strlen(t) && strncmp(v, t, l) == 0;
				v += strcspn(v, ",");
				if (*v == ',')
					v++;
			}
		}
		if (drop)
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, t);
	}
	if (append) {
		free(copy);
		copy = strdup(value);
		save = NULL;
		for (tok = copy != NULL ? strtok_r(copy, ",", &save) : NULL; tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			char *t = tok, *e, *p;
			size_t l;
			bool have = false;

			while (*t == ' ')
				t++;
			for (e = t + strlen(t); e > t && e[-1] == ' '; e--)
				;
			*e = 0;
			l = strlen(t);
			if (l == 0)
				continue;
			for (p = out; *p && !have; p += strcspn(p, ","), p += *p == ',') {
				have = strcspn(p, ",") == l && strncmp(p, t, l) == 0;
			}
			if (have)
				continue;
			if (*out)
				strcat(out, ",");
			strcat(out, t);
		}
	}
	rc = kp_zk_config_set(c, key, out);
	free(out);
	free(copy);
	return rc;
}

/*
 * The requested changes on top of cfg (the stored configuration for
 * IncrementalAlterConfigs, nothing for AlterConfigs).  type is the list
 * type lookup for APPEND and SUBTRACT.
 */
static int16_t apply_ops(struct kp_zk_entity_config *cfg, const struct alter_op *ops,
			 int32_t nops, bool topic, char *msg, size_t n)
{
	for (int32_t i = 0; i < nops; i++) {
		const struct alter_op *o = &ops[i];
		const struct kp_config_def *d = NULL;
		int rc = 0;

		if (o->op != OP_DELETE && o->op != OP_REPLACE && o->value == NULL) {
			snprintf(msg, n, "Null value not supported for : %s:%s",
				 o->op == OP_SET ? "SET" : o->op == OP_APPEND ? "APPEND"
				 : "SUBTRACT", o->name);
			return KP_ERR_INVALID_REQUEST;
		}
		switch (o->op) {
		case OP_REPLACE:
			if (o->value != NULL)	/* AlterConfigs ignores nulls */
				rc = kp_zk_config_set(cfg, o->name, o->value);
			break;
		case OP_SET:
			rc = kp_zk_config_set(cfg, o->name, o->value);
			break;
		case OP_DELETE:
			rc = kp_zk_config_set(cfg, o->name, NULL);
			break;
		case OP_APPEND:
		case OP_SUBTRACT:
			if (topic) {
				const struct kp_topic_config *tc = kp_topic_config_find(o->name);

				d = tc != NULL ? &tc->def : NULL;
			} else {
				d = dynconfig_def(o->name);
			}
			if (d == NULL) {
				snprintf(msg, n, "Unknown %s config name: %s",
					 topic ? "topic" : "broker", o->name);
				return KP_ERR_INVALID_CONFIG;
			}
			if (d->type != KP_CFG_LIST) {
				snprintf(msg, n, "Config value %s is not allowed for config "
					 "key: %s", o->op == OP_APPEND ? "append" : "subtract",
					 o->name);
				return KP_ERR_INVALID_REQUEST;
			}
			rc = list_apply(cfg, o->name, d->def, o->value, o->op == OP_APPEND);
			break;
		default:
			snprintf(msg, n, "Unknown config operation %d for %s", o->op, o->name);
			return KP_ERR_INVALID_REQUEST;
		}
		if (rc < 0) {
			snprintf(msg, n, "out of memory");
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
	}
	return 0;
}

/* The whole new configuration of a topic, as LogConfig.validate. */
static int16_t validate_topic_cfg(const char *topic,
				  const struct kp_zk_entity_config *cfg,
				  char *msg, size_t n)
{
	char err[512];

	/* names first (InvalidConfigurationException), then values */
	for (size_t i = 0; i < cfg->n; i++)
		if (kp_topic_config_find(cfg->keys[i]) == NULL) {
			snprintf(msg, n, "Unknown topic config name: %s", cfg->keys[i]);
			return KP_ERR_INVALID_CONFIG;
		}
	for (size_t i = 0; i < cfg->n; i++) {
		const char *k = cfg->keys[i], *v = cfg->values[i];
		int rc;

		if (strcmp(k, DYN_LEADER_REPLICAS) == 0 ||
		    strcmp(k, DYN_FOLLOWER_REPLICAS) == 0)
			rc = throttle_list_validate(k, v, err, sizeof(err));
		else
			rc = kp_topic_config_validate(k, v, err, sizeof(err));
		if (rc < 0) {
			snprintf(msg, n, "Invalid config value for resource "
				 "ConfigResource(type=TOPIC, name='%s'): %s", topic, err);
			return KP_ERR_INVALID_REQUEST;
		}
	}
	return 0;
}

/*
 * The whole new configuration of a broker entity, as Kafka's
 * DynamicBrokerConfig.validate (dynconfig_check_update), then, when it
 * is to be written, toPersistentProps' rule for password keys: Kafka
 * stores them encrypted with password.encoder.secret.
 */
static int16_t validate_broker_cfg(struct broker *b, const char *name,
				   const struct kp_zk_entity_config *cfg,
				   bool validate_only, char *msg, size_t n)
{
	char err[768];
	int16_t e = dynconfig_check_update(b, cfg, name[0] != 0, err, sizeof(err));

	for (size_t i = 0; e == 0 && !validate_only && i < cfg->n; i++) {
		if (!dynconfig_is_password(cfg->keys[i]))
			continue;
		e = KP_ERR_INVALID_REQUEST;
		if (name[0] == 0)
			snprintf(err, sizeof(err), "Password config can be defined only "
				 "at broker level");
		else if (!kp_config_is_set(&b->cfg, "password.encoder.secret"))
			snprintf(err, sizeof(err), "Password encoder secret not configured");
		else	/* Kafka's PasswordEncoder (PBKDF2 and AES) is not implemented */
			snprintf(err, sizeof(err), "Dynamic password config %s cannot be "
				 "stored: this broker does not encode passwords",
				 cfg->keys[i]);
	}
	if (e != 0)
		snprintf(msg, n, "Invalid config value for resource "
			 "ConfigResource(type=BROKER, name='%.64s'): %s", name, err);
	return e;
}

/*
 * Write the entity's configuration, then the change notification every
 * broker watches (AdminZkClient.changeEntityConfig).
 */
static int16_t write_entity(struct broker *b, const char *path,
			    const char *entity_path,
			    const struct kp_zk_entity_config *cfg, char *msg, size_t n)
{
	struct kp_zk_result res;
	char *json = kp_zk_config_encode(cfg);
	int rc;

	if (json == NULL) {
		snprintf(msg, n, "out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	rc = kp_zk_set_sync(b->zk, path, json, (int32_t)strlen(json), -1, NULL);
	if (rc == KP_ZK_NONODE) {
		kp_zk_ensure_path(b->zk, strncmp(path, "/config/topics/", 15) == 0
				  ? "/config/topics" : "/config/brokers");
		rc = kp_zk_create_sync(b->zk, path, json, (int32_t)strlen(json),
				       KP_ZK_PERSISTENT, NULL);
		if (rc == KP_ZK_NODEEXISTS)
			rc = kp_zk_set_sync(b->zk, path, json, (int32_t)strlen(json),
					    -1, NULL);
	}
	free(json);
	if (rc != KP_ZK_OK)
		goto zk;
	json = kp_zk_config_change_encode(entity_path);
	if (json == NULL) {
		snprintf(msg, n, "out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	kp_zk_ensure_path(b->zk, "/config/changes");
	rc = kp_zk_create_sync(b->zk, "/config/changes/config_change_", json,
			       (int32_t)strlen(json), KP_ZK_PERSISTENT_SEQUENTIAL, &res);
	kp_zk_result_free(&res);
	free(json);
	if (rc == KP_ZK_OK)
		return 0;
zk:
	snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

static int16_t alter_resource(struct net_req *r, int8_t type, const char *name,
			      const struct alter_op *ops, int32_t nops,
			      bool incremental, bool validate_only,
			      char *msg, size_t n)
{
	struct broker *b = r->worker->broker;
	struct kp_zk_entity_config cfg;
	char path[512], entity[512], self[16];
	int16_t err;
	int rc;

	if (b->zk == NULL) {
		snprintf(msg, n, "no ZooKeeper session");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	/* IncrementalAlterConfigs names each key once */
	for (int32_t i = 0; incremental && i < nops; i++)
		for (int32_t j = 0; j < i; j++)
			if (strcmp(ops[i].name, ops[j].name) == 0) {
				snprintf(msg, n, "Error due to duplicate config keys");
				return KP_ERR_INVALID_REQUEST;
			}
	if (type == RESOURCE_TOPIC) {
		err = topic_name_check(name, msg, n);
		if (err != 0)
			return err;
		topic_path(path, sizeof(path), "/brokers/topics", name);
		rc = kp_zk_exists_sync(b->zk, path, NULL);
		if (rc == KP_ZK_NONODE) {
			snprintf(msg, n, "Topic '%s' does not exist.", name);
			return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
		if (rc != KP_ZK_OK) {
			snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
		topic_path(path, sizeof(path), "/config/topics", name);
		snprintf(entity, sizeof(entity), "topics/%s", name);
	} else if (type == RESOURCE_BROKER) {
		err = broker_name_check(b, name, false, msg, n);
		if (err != 0)
			return err;
		snprintf(self, sizeof(self), "%d", b->id);
		snprintf(path, sizeof(path), "/config/brokers/%s",
			 name[0] != 0 ? name : "<default>");
		snprintf(entity, sizeof(entity), "brokers/%s",
			 name[0] != 0 ? name : "<default>");
	} else {
		snprintf(msg, n, "AlterConfigs is only supported for topics and "
			 "brokers, but resource type is %d", type);
		return KP_ERR_INVALID_REQUEST;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (incremental && read_entity_config(b, path, &cfg, msg, n) < 0) {
		kp_zk_config_free(&cfg);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (incremental && type == RESOURCE_BROKER)
		/* as Kafka's fromPersistentProps: what the broker ignores of
		 * the stored entity is dropped before the operations apply */
		for (size_t i = 0; i < cfg.n;) {
			char why[512];

			if (dynconfig_check_broker_key(cfg.keys[i], cfg.values[i],
						       name[0] != 0, why, sizeof(why)) != 0)
				kp_zk_config_set(&cfg, cfg.keys[i], NULL);
			else
				i++;
		}
	err = apply_ops(&cfg, ops, nops, type == RESOURCE_TOPIC, msg, n);
	if (err == 0)
		err = type == RESOURCE_TOPIC ? validate_topic_cfg(name, &cfg, msg, n)
					     : validate_broker_cfg(b, name, &cfg, validate_only,
								   msg, n);
	if (err == 0 && !validate_only) {
		err = write_entity(b, path, entity, &cfg, msg, n);
		if (err == 0)
			KP_INFO("%s: config of %s changed (%zu keys set)", r->peer,
				entity, cfg.n);
	}
	kp_zk_config_free(&cfg);
	return err;
}

static struct alter_op *alter_ops_of(struct net_req *r, int32_t n)
{
	return kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(struct alter_op));
}

static char *arena_cstr_or_null(struct kp_arena *a, kp_str s)
{
	return s.ptr == NULL && s.len < 0 ? NULL : arena_cstr(a, s);
}

void api_alter_configs(struct net_req *r)
{
	const struct kp_alter_configs_req *req = r->body;
	struct kp_alter_configs_resp resp;
	int32_t n = req->resources_count > 0 ? req->resources_count : 0;
	struct kp_alter_configs_resp_alter_configs_resource_response *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kp_alter_configs_req_alter_configs_resource *in =
			&req->resources[i];
		int32_t nc = in->configs_count > 0 ? in->configs_count : 0;
		struct alter_op *ops = alter_ops_of(r, nc);
		char *name = arena_cstr(&r->arena, in->resource_name);
		char msg[1024] = "";

		kp_struct_init(&kp_alter_configs_resp_alter_configs_resource_response_desc,
			       &res[i]);
		res[i].resource_type = in->resource_type;
		res[i].resource_name = in->resource_name;
		if (ops == NULL || name == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		for (int32_t j = 0; j < nc; j++) {
			ops[j].name = arena_cstr(&r->arena, in->configs[j].name);
			ops[j].value = arena_cstr_or_null(&r->arena, in->configs[j].value);
			ops[j].op = OP_REPLACE;
			if (ops[j].name == NULL ||
			    (ops[j].value == NULL && in->configs[j].value.len >= 0)) {
				net_req_fail(r, "out of memory");
				return;
			}
		}
		res[i].error_code = alter_resource(r, in->resource_type, name, ops, nc,
						   false, req->validate_only, msg,
						   sizeof(msg));
		res[i].error_message = res[i].error_code != 0
			? arena_strf(&r->arena, "%s", msg) : KP_STR_NULL;
		if (res[i].error_code != 0)
			KP_INFO("%s: AlterConfigs %d/%s: %s", r->peer, in->resource_type,
				name, msg);
	}
	resp.responses = res;
	resp.responses_count = n;
	net_reply(r, &resp);
}

void api_incremental_alter_configs(struct net_req *r)
{
	const struct kp_incremental_alter_configs_req *req = r->body;
	struct kp_incremental_alter_configs_resp resp;
	int32_t n = req->resources_count > 0 ? req->resources_count : 0;
	struct kp_incremental_alter_configs_resp_alter_configs_resource_response *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < n; i++) {
		const struct kp_incremental_alter_configs_req_alter_configs_resource *in =
			&req->resources[i];
		int32_t nc = in->configs_count > 0 ? in->configs_count : 0;
		struct alter_op *ops = alter_ops_of(r, nc);
		char *name = arena_cstr(&r->arena, in->resource_name);
		char msg[1024] = "";

		kp_struct_init(&kp_incremental_alter_configs_resp_alter_configs_resource_response_desc,
			       &res[i]);
		res[i].resource_type = in->resource_type;
		res[i].resource_name = in->resource_name;
		if (ops == NULL || name == NULL) {
			net_req_fail(r, "out of memory");
			return;
		}
		for (int32_t j = 0; j < nc; j++) {
			ops[j].name = arena_cstr(&r->arena, in->configs[j].name);
			ops[j].value = arena_cstr_or_null(&r->arena, in->configs[j].value);
			ops[j].op = in->configs[j].config_operation;
			if (ops[j].name == NULL ||
			    (ops[j].value == NULL && in->configs[j].value.len >= 0)) {
				net_req_fail(r, "out of memory");
				return;
			}
		}
		res[i].error_code = alter_resource(r, in->resource_type, name, ops, nc,
						   true, req->validate_only, msg,
						   sizeof(msg));
		res[i].error_message = res[i].error_code != 0
			? arena_strf(&r->arena, "%s", msg) : KP_STR_NULL;
		if (res[i].error_code != 0)
			KP_INFO("%s: IncrementalAlterConfigs %d/%s: %s", r->peer,
				in->resource_type, name, msg);
	}
	resp.responses = res;
	resp.responses_count = n;
	net_reply(r, &resp);
}

/* ---------------------------------------------------- auto-creation */

int16_t admin_auto_create(struct broker *b, kp_str topic)
{
	struct kp_zk_entity_config cfg;
	char name[MAX_TOPIC_LEN + 2], msg[512];
	int16_t err;

	if (topic.len < 0 || topic.len > MAX_TOPIC_LEN) {
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	memcpy(name, topic.ptr, (size_t)topic.len);
	name[topic.len] = 0;
	err = topic_name_check(name, msg, sizeof(msg));
	if (err != 0)
		return err;
	if (!kp_config_bool(&b->cfg, "auto.create.topics.enable") || b->zk == NULL)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	memset(&cfg, 0, sizeof(cfg));
	err = create_topic(b, name, kp_config_int(&b->cfg, "num.partitions"),
			   kp_config_int(&b->cfg, "default.replication.factor"), NULL,
			   &cfg, false, NULL, msg, sizeof(msg));
	if (err != 0 && err != KP_ERR_TOPIC_ALREADY_EXISTS) {
		KP_WARN("auto-creating topic %s: %s", name, msg);
		return err;
	}
	/* as Kafka: the topic exists but has no leaders yet */
	return KP_ERR_LEADER_NOT_AVAILABLE;
}

int16_t admin_create_offsets_topic(struct broker *b, int32_t nparts, int32_t rf,
				   int32_t segment_bytes, char *msg, size_t n)
{
	struct kp_zk_entity_config cfg;
	char seg[32];
	int16_t err;

	if (b->zk == NULL) {
		snprintf(msg, n, "no ZooKeeper session");
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	memset(&cfg, 0, sizeof(cfg));
	snprintf(seg, sizeof(seg), "%d", segment_bytes);
	/* as Kafka creates it */
	if (kp_zk_config_set(&cfg, "cleanup.policy", "compact") < 0 ||
	    kp_zk_config_set(&cfg, "segment.bytes", seg) < 0 ||
	    kp_zk_config_set(&cfg, "compression.type", "producer") < 0) {
		kp_zk_config_free(&cfg);
		snprintf(msg, n, "out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	err = create_topic(b, KP_OFFSETS_TOPIC, nparts, rf, NULL, &cfg, false, NULL,
			   msg, n);
	kp_zk_config_free(&cfg);
	return err;
}
