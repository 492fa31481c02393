/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_topic.c - CreateTopics, DeleteTopics, CreatePartitions.
 *
 * Any broker performs them itself (Metadata names the lowest live broker
 * as "controller", and clients send admin requests there), in two steps,
 * each a delayed operation on the request's worker:
 *
 *   1. On the ZooKeeper thread (zk_thread.h): validate and write ZooKeeper
 *      as Kafka's AdminZkClient does (zk_admin.h) - /config/topics/<t> and
 *      /brokers/topics/<t> for a new topic, a rewritten /brokers/topics/<t>
 *      for more partitions, /admin/delete_topics/<t> for a deletion.  The
 *      controller picks those up.
 *   2. Watching the metadata cache's key until the controller's
 *      UpdateMetadata shows the result (every new partition has a leader,
 *      or the topic is gone), up to the request's timeout, as Kafka's
 *      DelayedCreatePartitions / DelayedDeleteTopics, so a client can use
 *      a topic as soon as its creation is acknowledged.
 *
 * The worker serves its other connections meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "authz.h"
#include "broker.h"
#include "config_describe.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_msgs.h"
#include "kp_topic_config.h"
#include "metadata_cache.h"
#include "net.h"
#include "purgatory.h"
#include "zk_admin.h"
#include "zk_thread.h"

/* ------------------------------------------------------------ helpers */

/* A NUL-terminated copy in the request's arena ("" for a null string). */
static char *arena_cstr(struct kp_arena *a, kp_str s)
{
	return kp_arena_strndup(a, s.ptr, (size_t)(s.len > 0 ? s.len : 0));
}

static kp_str arena_msg(struct kp_arena *a, const char *msg)
{
	return kp_str_c(kp_arena_sprintf(a, "%s", msg));
}

/* Same name earlier in the request: Kafka refuses every copy. */
static bool duplicate_name(kp_str name, const kp_str *names, int32_t n)
{
	int32_t count = 0;

	for (int32_t i = 0; i < n; i++)
		count += kp_str_eq(name, names[i]);
	return count > 1;
}

static bool uuid_set(const kp_uuid *u)
{
	static const kp_uuid zero;

	return memcmp(u, &zero, sizeof(zero)) != 0;
}

/* ------------------------------------------------- waiting for metadata */

enum wait_for { WAIT_LEADERS, WAIT_GONE };

struct topic_item {
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

/* One request's topics (the op first: the purgatory hands it back). */
struct topic_wait {
	struct delayed_op op;
	struct purgatory_watch watch;	/* the metadata cache */
	struct net_req *r;
	enum wait_for what;
	struct topic_item *items;
	int32_t n;
	int32_t timeout_ms;
	bool oom;			/* on the ZooKeeper thread */
	void (*run)(struct topic_wait *);	/* ZooKeeper thread */
	void (*respond)(struct topic_wait *);
};

/* Whether the metadata cache shows item's outcome yet. */
static bool item_done(struct md_view *v, enum wait_for what,
		      const struct topic_item *it)
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
static bool check_items(struct topic_wait *tw, bool final)
{
	struct md_view *v = metadata_cache_get(&tw->r->worker->broker->meta);
	bool all = true;

	for (int32_t i = 0; i < tw->n; i++) {
		struct topic_item *it = &tw->items[i];

		if (!it->wait)
			continue;
		if (item_done(v, tw->what, it)) {
			it->wait = false;
		} else if (final) {
			it->wait = false;
			it->error = KP_ERR_REQUEST_TIMED_OUT;
			it->message = kp_str_c(tw->what == WAIT_GONE
				? "Timed out waiting for the topic to be deleted"
				: "Timed out waiting for the topic's partitions to get leaders");
		} else {
			all = false;
		}
	}
	md_view_unref(v);
	return all;
}

static bool topic_try(struct delayed_op *op)
{
	struct topic_wait *tw = (struct topic_wait *)op;

	return net_req_orphaned(tw->r) || check_items(tw, false);
}

/* Shown, timed out, or the broker stops: what still waits timed out. */
static void topic_complete(struct delayed_op *op, enum purgatory_end end)
{
	struct topic_wait *tw = (struct topic_wait *)op;

	(void)end;
	check_items(tw, true);
	tw->respond(tw);	/* tw lives in the request's arena */
}

static const struct delayed_op_type topic_wait_type = {
	"topics", topic_try, topic_complete, NULL
};

static void zk_run(void *arg)
{
	struct topic_wait *tw = arg;

	tw->run(tw);
}

/* Back on the worker: answer now, or once the outcome shows (timeout_ms
 * <= 0: now). */
static void zk_done(void *arg, bool ran)
{
	struct topic_wait *tw = arg;
	struct net_req *r = tw->r;

	if (!ran)
		for (int32_t i = 0; i < tw->n; i++) {
			if (tw->items[i].name == NULL)
				tw->items[i].name = "";
			if (tw->items[i].error == 0) {
				tw->items[i].error = KP_ERR_UNKNOWN_SERVER_ERROR;
				tw->items[i].message = kp_str_c("the broker is stopping");
			}
			tw->items[i].wait = false;
		}
	if (tw->oom) {
		net_req_fail(r, "out of memory");
		return;
	}
	if (tw->timeout_ms <= 0 || check_items(tw, false)) {
		tw->respond(tw);
		return;
	}
	tw->watch.key = &r->worker->broker->meta.changed;
	purgatory_watch(r->worker->home, &tw->op, &topic_wait_type, &tw->watch, 1,
			tw->timeout_ms);
}

/* Park r: run on the ZooKeeper thread, then wait for the metadata. */
static void start(struct net_req *r, int32_t n, enum wait_for what,
		  int32_t timeout_ms, void (*run)(struct topic_wait *),
		  void (*respond)(struct topic_wait *))
{
	struct topic_wait *tw;

	if (net_req_detach(r) < 0 ||
	    (tw = kp_arena_calloc(&r->arena, 1, sizeof(*tw))) == NULL ||
	    (tw->items = kp_arena_calloc(&r->arena, (size_t)n + 1,
					 sizeof(*tw->items))) == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	tw->r = r;
	tw->n = n;
	tw->what = what;
	tw->timeout_ms = timeout_ms;
	tw->run = run;
	tw->respond = respond;
	zk_thread_call(r->worker->broker, r->worker->home, zk_run, zk_done, tw);
}

/* ------------------------------------------------------- CreateTopics */

static void create_topics_respond(struct topic_wait *tw)
{
	struct net_req *r = tw->r;
	struct kp_create_topics_resp resp;
	struct kp_create_topics_resp_creatable_topic_result *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)tw->n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < tw->n; i++) {
		const struct topic_item *it = &tw->items[i];

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
	resp.topics_count = tw->n;
	net_reply(r, &resp);
}

/* Config overrides of one creatable topic, validated. */
static kp_err_t topic_overrides(const struct kp_create_topics_req_creatable_topic *t,
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

/* CreateTopics v5+: the new topic's whole configuration, as DescribeConfigs
 * would give it (Kafka's createTopicConfigEntry without synonyms). */
static int created_configs(struct net_req *r, const struct kp_zk_entity_config *over,
			   struct topic_item *it)
{
	config_entry *e;
	int32_t n;

	if (config_describe_topic(r->worker->broker, &r->arena, over, NULL, -1, false,
				  false, &e, &n) < 0)
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

static kp_err_t create_one(struct net_req *r,
			   const struct kp_create_topics_req_creatable_topic *t,
			   bool validate_only, struct topic_item *it, char *msg,
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
	if (t->assignments_count > ZK_ADMIN_MAX_PARTITIONS) {
		snprintf(msg, n, "Number of partitions %d is above %d, more than one "
			 "topic znode can hold.", t->assignments_count,
			 ZK_ADMIN_MAX_PARTITIONS);
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
			err = zk_admin_check_assignment(v, parts, nparts, msg, n);
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
		} else if (nparts > ZK_ADMIN_MAX_PARTITIONS) {
			snprintf(msg, n, "Number of partitions %d is above %d, more than "
				 "one topic znode can hold.", nparts, ZK_ADMIN_MAX_PARTITIONS);
			err = KP_ERR_INVALID_PARTITIONS;
		} else if (rf <= 0) {
			snprintf(msg, n, "Replication factor must be larger than 0.");
			err = KP_ERR_INVALID_REPLICATION_FACTOR;
		}
	}
	if (err == 0)
		err = zk_admin_create_topic(b, it->name, nparts, rf, parts, &cfg,
					    validate_only, &it->topic_id, msg, n);
	if (err == 0 && r->h.api_version >= 5 && created_configs(r, &cfg, it) < 0)
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	free(parts);
	kp_zk_config_free(&cfg);
	it->nparts = nparts;
	it->rf = rf;
	return err;
}

/* On the ZooKeeper thread. */
static void create_topics_run(struct topic_wait *tw)
{
	struct net_req *r = tw->r;
	const struct kp_create_topics_req *req = r->body;
	kp_str *names = kp_arena_calloc(&r->arena, (size_t)tw->n + 1, sizeof(*names));

	if (names == NULL) {
		tw->oom = true;
		return;
	}
	for (int32_t i = 0; i < tw->n; i++)
		names[i] = req->topics[i].name;
	for (int32_t i = 0; i < tw->n; i++) {
		struct topic_item *it = &tw->items[i];
		char msg[512] = "";

		if (duplicate_name(names[i], names, tw->n)) {
			it->name = arena_cstr(&r->arena, names[i]);
			it->error = KP_ERR_INVALID_REQUEST;
			it->message = arena_msg(&r->arena, "Create topics request from "
						"client contains a duplicate topic name.");
			if (it->name == NULL)
				it->name = "";
			continue;
		}
		/* as Kafka: Create on the cluster, else on the topic */
		if (!authz_ok_quiet(r, KP_ACL_OP_CREATE, KP_ACL_RT_CLUSTER,
				    kp_str_c(KP_ACL_CLUSTER_NAME)) &&
		    !authz_ok_str(r, KP_ACL_OP_CREATE, KP_ACL_RT_TOPIC, names[i])) {
			it->name = arena_cstr(&r->arena, names[i]);
			if (it->name == NULL)
				it->name = "";
			it->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
			it->message = KP_STR_NULL;
			continue;
		}
		it->error = create_one(r, &req->topics[i], req->validate_only, it, msg,
				       sizeof(msg));
		if (it->name == NULL)
			it->name = "";
		if (it->error != 0) {
			it->message = arena_msg(&r->arena, msg);
			KP_INFO("%s: CreateTopics %s: %s", r->peer, it->name, msg);
		}
		it->wait = it->error == 0 && !req->validate_only;
	}
}

void api_create_topics(struct net_req *r)
{
	const struct kp_create_topics_req *req = r->body;

	start(r, req->topics_count > 0 ? req->topics_count : 0, WAIT_LEADERS,
	      req->timeout_ms, create_topics_run, create_topics_respond);
}

/* ------------------------------------------------------- DeleteTopics */

static void delete_topics_respond(struct topic_wait *tw)
{
	struct net_req *r = tw->r;
	struct kp_delete_topics_resp resp;
	struct kp_delete_topics_resp_deletable_topic_result *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)tw->n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < tw->n; i++) {
		kp_struct_init(&kp_delete_topics_resp_deletable_topic_result_desc, &res[i]);
		/* null (v6+) for an id we do not know */
		res[i].name = kp_str_c(tw->items[i].name);
		if (r->h.api_version < 6 && res[i].name.len < 0)
			res[i].name = (kp_str){ "", 0 };
		res[i].topic_id = tw->items[i].topic_id;
		res[i].error_code = tw->items[i].error;
		res[i].error_message = tw->items[i].error != 0 ? tw->items[i].message
							       : KP_STR_NULL;
	}
	resp.responses = res;
	resp.responses_count = tw->n;
	net_reply(r, &resp);
}

/* v6: a topic named by id; its name from the metadata cache, or NULL. */
static kp_str topic_by_id(struct net_req *r, const kp_uuid *id)
{
	struct md_view *v = metadata_cache_get(&r->worker->broker->meta);
	const struct md_topic *t = md_view_topic_by_id(v, id);
	kp_str name = t != NULL ? kp_str_c(kp_arena_strndup(&r->arena, t->name,
							     strlen(t->name)))
				: KP_STR_NULL;

	md_view_unref(v);
	return name;
}

/* On the ZooKeeper thread. */
static void delete_topics_run(struct topic_wait *tw)
{
	struct net_req *r = tw->r;
	struct broker *b = r->worker->broker;
	const struct kp_delete_topics_req *req = r->body;
	bool by_state = r->h.api_version >= 6;
	kp_str *names = kp_arena_calloc(&r->arena, (size_t)tw->n + 1, sizeof(*names));
	bool both = false;

	if (names == NULL) {
		tw->oom = true;
		return;
	}
	for (int32_t i = 0; i < tw->n; i++) {
		if (!by_state) {
			names[i] = req->topic_names[i];
			continue;
		}
		/* v6: by name or by id (never both), the answer names the id
		 * the request gave */
		tw->items[i].topic_id = req->topics[i].topic_id;
		if (!uuid_set(&req->topics[i].topic_id)) {
			names[i] = req->topics[i].name;
			continue;
		}
		both |= req->topics[i].name.len >= 0;
		names[i] = topic_by_id(r, &req->topics[i].topic_id);
	}
	for (int32_t i = 0; i < tw->n; i++) {
		struct topic_item *it = &tw->items[i];
		char msg[512] = "";

		if (names[i].len >= 0 &&
		    (it->name = arena_cstr(&r->arena, names[i])) == NULL) {
			tw->oom = true;
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
		if (duplicate_name(names[i], names, tw->n)) {
			it->error = KP_ERR_INVALID_REQUEST;
			it->message = kp_str_c("Duplicate topic name in the request.");
			continue;
		}
		/* as Kafka: Delete on the topic (and Describe, named by id) */
		if ((by_state && uuid_set(&it->topic_id) &&
		     !authz_ok_str(r, KP_ACL_OP_DESCRIBE, KP_ACL_RT_TOPIC, names[i])) ||
		    !authz_ok_str(r, KP_ACL_OP_DELETE, KP_ACL_RT_TOPIC, names[i])) {
			it->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
			it->message = KP_STR_NULL;
			continue;
		}
		it->error = zk_admin_delete_topic(b, it->name, msg, sizeof(msg));
		if (it->error != 0)
			it->message = arena_msg(&r->arena, msg);
		it->wait = it->error == 0;
	}
}

void api_delete_topics(struct net_req *r)
{
	const struct kp_delete_topics_req *req = r->body;
	int32_t n = r->h.api_version >= 6 ? req->topics_count : req->topic_names_count;

	start(r, n > 0 ? n : 0, WAIT_GONE, req->timeout_ms, delete_topics_run,
	      delete_topics_respond);
}

/* --------------------------------------------------- CreatePartitions */

static void create_partitions_respond(struct topic_wait *tw)
{
	struct net_req *r = tw->r;
	struct kp_create_partitions_resp resp;
	struct kp_create_partitions_resp_create_partitions_topic_result *res;

	kp_struct_init(r->api->resp, &resp);
	res = kp_arena_calloc(&r->arena, (size_t)tw->n + 1, sizeof(*res));
	if (res == NULL) {
		net_req_fail(r, "out of memory");
		return;
	}
	for (int32_t i = 0; i < tw->n; i++) {
		kp_struct_init(&kp_create_partitions_resp_create_partitions_topic_result_desc,
			       &res[i]);
		res[i].name = kp_str_c(tw->items[i].name);
		res[i].error_code = tw->items[i].error;
		res[i].error_message = tw->items[i].error != 0 ? tw->items[i].message
							       : KP_STR_NULL;
	}
	resp.results = res;
	resp.results_count = tw->n;
	net_reply(r, &resp);
}

static kp_err_t add_partitions(struct net_req *r,
			       const struct kp_create_partitions_req_create_partitions_topic *in,
			       const char *name, bool validate_only, char *msg, size_t n)
{
	struct kp_replicas *assign = NULL;
	int32_t na = in->assignments_count;

	/* null: placed by Kafka's algorithm; else exactly the new ones */
	if (na >= 0) {
		assign = kp_arena_calloc(&r->arena, (size_t)na + 1, sizeof(*assign));
		if (assign == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		for (int32_t i = 0; i < na; i++) {
			assign[i].ids = in->assignments[i].broker_ids;
			assign[i].n = in->assignments[i].broker_ids_count;
		}
	}
	return zk_admin_add_partitions(r->worker->broker, name, in->count, assign, na,
				       validate_only, msg, n);
}

/* On the ZooKeeper thread. */
static void create_partitions_run(struct topic_wait *tw)
{
	struct net_req *r = tw->r;
	const struct kp_create_partitions_req *req = r->body;
	kp_str *names = kp_arena_calloc(&r->arena, (size_t)tw->n + 1, sizeof(*names));

	if (names == NULL) {
		tw->oom = true;
		return;
	}
	for (int32_t i = 0; i < tw->n; i++)
		names[i] = req->topics[i].name;
	for (int32_t i = 0; i < tw->n; i++) {
		struct topic_item *it = &tw->items[i];
		char msg[512] = "";

		it->name = arena_cstr(&r->arena, names[i]);
		if (it->name == NULL) {
			tw->oom = true;
			return;
		}
		if (duplicate_name(names[i], names, tw->n)) {
			it->error = KP_ERR_INVALID_REQUEST;
			it->message = kp_str_c("Duplicate topic in request.");
			continue;
		}
		it->error = zk_admin_topic_name_check(it->name, msg, sizeof(msg));
		/* as Kafka: Alter on the topic */
		if (it->error == 0 &&
		    !authz_ok_str(r, KP_ACL_OP_ALTER, KP_ACL_RT_TOPIC, names[i])) {
			it->error = KP_ERR_TOPIC_AUTHORIZATION_FAILED;
			snprintf(msg, sizeof(msg), "The topic authorization is failed.");
		}
		if (it->error == 0)
			it->error = add_partitions(r, &req->topics[i], it->name,
						   req->validate_only, msg, sizeof(msg));
		if (it->error != 0)
			it->message = arena_msg(&r->arena, msg);
		it->nparts = req->topics[i].count;
		it->wait = it->error == 0 && !req->validate_only;
	}
}

void api_create_partitions(struct net_req *r)
{
	const struct kp_create_partitions_req *req = r->body;

	start(r, req->topics_count > 0 ? req->topics_count : 0, WAIT_LEADERS,
	      req->timeout_ms, create_partitions_run, create_partitions_respond);
}
