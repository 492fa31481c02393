/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zk_admin.c - administration's ZooKeeper writes and reads; see
 * zk_admin.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "kp_assign.h"
#include "kp_errors.h"
#include "kp_groupmeta.h"
#include "kp_log.h"
#include "kp_zk.h"
#include "kp_zkdata.h"
#include "metadata_cache.h"
#include "zk_admin.h"
#include "zk_thread.h"

/* ------------------------------------------------------------ checks */

kp_err_t zk_admin_topic_name_check(const char *name, char *msg, size_t n)
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
	if (len > ZK_ADMIN_MAX_TOPIC_LEN) {
		snprintf(msg, n, "Topic name is illegal, it can't be longer than %d "
			 "characters, topic name: %.64s...", ZK_ADMIN_MAX_TOPIC_LEN, name);
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

kp_err_t zk_admin_check_assignment(const struct md_view *v,
				   const struct kp_replicas *parts, int32_t n,
				   char *msg, size_t len)
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

/* Brokers to place replicas on. */
struct live {
	struct kp_assign_broker *l;
	int n;
	bool own_racks;		/* read from ZooKeeper: ours to free */
};

static void live_free(struct live *lv)
{
	for (int i = 0; lv->own_racks && i < lv->n; i++)
		free((char *)lv->l[i].rack);
	free(lv->l);
	memset(lv, 0, sizeof(*lv));
}

/*
 * The brokers registered in ZooKeeper, with their racks.  A registration
 * that vanishes or does not parse meanwhile is left out.
 */
static int registered_brokers(struct broker *b, struct live *lv)
{
	struct kp_zk_result ids;
	int rc = kp_zk_children_sync(b->zk, "/brokers/ids", &ids);

	if (rc != KP_ZK_OK) {
		kp_zk_result_free(&ids);
		return -1;
	}
	lv->l = calloc((size_t)ids.nchildren + 1, sizeof(*lv->l));
	lv->own_racks = true;
	if (lv->l == NULL) {
		kp_zk_result_free(&ids);
		return -1;
	}
	for (int32_t i = 0; i < ids.nchildren; i++) {
		struct kp_zk_broker reg;
		struct kp_zk_result res;
		char path[64], *end, err[128];
		long id = strtol(ids.children[i], &end, 10);

		if (*end != '\0' || id < 0 || id > INT32_MAX)
			continue;
		snprintf(path, sizeof(path), "/brokers/ids/%ld", id);
		memset(&reg, 0, sizeof(reg));
		if (kp_zk_get_sync(b->zk, path, &res) == KP_ZK_OK && res.data != NULL &&
		    kp_zk_broker_decode(res.data, (size_t)res.len, &reg, err,
					sizeof(err)) == 0) {
			lv->l[lv->n].id = (int32_t)id;
			lv->l[lv->n++].rack = reg.rack;
			reg.rack = NULL;
		}
		kp_zk_broker_free(&reg);
		kp_zk_result_free(&res);
	}
	kp_zk_result_free(&ids);
	return 0;
}

/*
 * The live brokers, as the controller last told us; while that is fewer
 * than WANT, as they are registered in ZooKeeper.  A broker that has just
 * started has not heard from the controller yet and knows no broker at all;
 * Kafka answers INVALID_REPLICATION_FACTOR then, we ask ZooKeeper, which
 * the controller itself follows.
 */
static int live_brokers(struct broker *b, const struct md_view *v, int32_t want,
			struct live *lv)
{
	memset(lv, 0, sizeof(*lv));
	if (v->nbrokers < want) {
		if (registered_brokers(b, lv) == 0 && lv->n > v->nbrokers)
			return 0;
		live_free(lv);
	}
	lv->l = calloc((size_t)v->nbrokers + 1, sizeof(*lv->l));
	if (lv->l == NULL)
		return -1;
	for (int32_t i = 0; i < v->nbrokers; i++) {
		lv->l[i].id = v->brokers[i].id;
		lv->l[i].rack = v->brokers[i].rack;
	}
	lv->n = v->nbrokers;
	return 0;
}

static int topic_path(char *buf, size_t n, const char *prefix, const char *topic)
{
	return snprintf(buf, n, "%s/%s", prefix, topic);
}

static kp_err_t zk_error(int rc, char *msg, size_t n)
{
	snprintf(msg, n, "ZooKeeper: %s", kp_zk_strerror(rc));
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

int zk_admin_topic_exists(struct broker *b, const char *name)
{
	char path[512];

	topic_path(path, sizeof(path), "/brokers/topics", name);
	return kp_zk_exists_sync(b->zk, path, NULL);
}

/* ------------------------------------------------------------- topics */

/* Checks shared by every new topic: name, existence, collisions. */
static kp_err_t check_new_topic(struct broker *b, const char *name, char *msg,
			        size_t n)
{
	struct kp_zk_result res;
	int16_t err = zk_admin_topic_name_check(name, msg, n);
	int rc;

	if (err != 0)
		return err;
	rc = zk_admin_topic_exists(b, name);
	if (rc == KP_ZK_OK) {
		snprintf(msg, n, "Topic '%s' already exists.", name);
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	if (rc != KP_ZK_NONODE)
		return zk_error(rc, msg, n);
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
static kp_err_t write_topic(struct broker *b, const char *name,
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
		return zk_error(rc, msg, n);
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
		return zk_error(rc, msg, n);
	KP_INFO("created topic %s with %d partitions", name, t->npartitions);
	return 0;
oom:
	snprintf(msg, n, "out of memory");
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

kp_err_t zk_admin_create_topic(struct broker *b, const char *name, int32_t nparts,
			       int32_t rf, const struct kp_replicas *parts,
			       const struct kp_zk_entity_config *cfg,
			       bool validate_only, kp_uuid *topic_id, char *msg, size_t n)
{
	struct md_view *v = metadata_cache_get(&b->meta);
	struct live live = { 0 };
	struct kp_zk_topic t;
	int32_t *flat = NULL;
	int16_t err;

	memset(&t, 0, sizeof(t));
	err = check_new_topic(b, name, msg, n);
	if (err != 0)
		goto out;
	if (parts == NULL && live_brokers(b, v, rf, &live) < 0) {
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
		rc = kp_assign_replicas(live.l, live.n, nparts, rf, -1, 0, flat, msg, n);
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
	live_free(&live);
	md_view_unref(v);
	return err;
}

kp_err_t zk_admin_delete_topic(struct broker *b, const char *name, char *msg, size_t n)
{
	char path[512];
	int rc;

	if (zk_admin_topic_name_check(name, msg, n) != 0) {
		snprintf(msg, n, "This server does not host this topic-partition.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	rc = zk_admin_topic_exists(b, name);
	if (rc == KP_ZK_NONODE) {
		snprintf(msg, n, "This server does not host this topic-partition.");
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (rc != KP_ZK_OK)
		return zk_error(rc, msg, n);
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
		return zk_error(rc, msg, n);
	KP_INFO("topic %s marked for deletion", name);
	return 0;
}

/* t's assignment grown by the lists in grown[t->npartitions..count): JSON. */
static char *grown_json(struct kp_zk_topic *t, struct kp_replicas *grown,
			int32_t count)
{
	/* the new lists are borrowed: swapped in for encoding only */
	struct kp_replicas *old = t->parts, *oa = t->adding, *orr = t->removing;
	struct kp_replicas *adding = calloc((size_t)count, sizeof(*adding));
	struct kp_replicas *removing = calloc((size_t)count, sizeof(*removing));
	int32_t oldn = t->npartitions;
	char *json = NULL;

	if (adding != NULL && removing != NULL) {
		for (int32_t i = 0; i < oldn; i++) {
			grown[i] = old[i];
			if (oa != NULL)
				adding[i] = oa[i];
			if (orr != NULL)
				removing[i] = orr[i];
		}
		t->parts = grown;
		t->adding = adding;
		t->removing = removing;
		t->npartitions = count;
		json = kp_zk_topic_encode(t);
		t->parts = old;
		t->adding = oa;
		t->removing = orr;
		t->npartitions = oldn;
	}
	free(adding);
	free(removing);
	return json;
}

kp_err_t zk_admin_add_partitions(struct broker *b, const char *name, int32_t count,
				 const struct kp_replicas *assign, int32_t nassign,
				 bool validate_only, char *msg, size_t n)
{
	struct md_view *v = NULL;
	struct live live = { 0 };
	struct kp_zk_result res;
	struct kp_zk_topic t;
	struct kp_replicas *grown = NULL;
	int32_t *flat = NULL, add, rf;
	char path[512], *json = NULL;
	int16_t err = 0;
	int rc;

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
			zk_error(rc, msg, n);
		kp_zk_result_free(&res);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (count < t.npartitions) {
		snprintf(msg, n, "Topic currently has %d partitions, %d would not be "
			 "an increase.", t.npartitions, count);
		err = KP_ERR_INVALID_PARTITIONS;
		goto out;
	}
	if (count > ZK_ADMIN_MAX_PARTITIONS) {
		snprintf(msg, n, "Number of partitions %d is above %d, more than one "
			 "topic znode can hold.", count, ZK_ADMIN_MAX_PARTITIONS);
		err = KP_ERR_INVALID_PARTITIONS;
		goto out;
	}
	if (count == t.npartitions) {
		snprintf(msg, n, "Topic already has %d partitions.", t.npartitions);
		err = KP_ERR_INVALID_PARTITIONS;
		goto out;
	}
	add = count - t.npartitions;
	rf = t.parts[0].n;
	v = metadata_cache_get(&b->meta);
	grown = calloc((size_t)count, sizeof(*grown));
	if (grown == NULL) {
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
		goto out;
	}
	if (assign != NULL) {
		if (nassign != add) {
			snprintf(msg, n, "Increasing the number of partitions by %d but "
				 "%d assignments provided.", add, nassign);
			err = KP_ERR_INVALID_REPLICA_ASSIGNMENT;
			goto out;
		}
		for (int32_t i = 0; i < add; i++)
			grown[t.npartitions + i] = assign[i];
		err = zk_admin_check_assignment(v, grown + t.npartitions, add, msg, n);
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
		flat = calloc((size_t)add * (size_t)rf, sizeof(*flat));
		if (live_brokers(b, v, rf, &live) < 0 || flat == NULL) {
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
			goto out;
		}
		rc = kp_assign_more(live.l, live.n, t.parts[0].ids[0], t.npartitions, add,
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
	json = grown_json(&t, grown, count);
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
	KP_INFO("topic %s: %d -> %d partitions", name, t.npartitions, count);
out:
	free(json);
	free(grown);
	free(flat);
	live_free(&live);
	if (v != NULL)
		md_view_unref(v);
	kp_zk_topic_free(&t);
	kp_zk_result_free(&res);
	return err;
}

/* ------------------------------------------------- __consumer_offsets */

struct offsets_topic {
	struct broker *b;
	int32_t nparts, rf, segment_bytes;
};

/* On the ZooKeeper thread. */
static void create_offsets_run(void *arg)
{
	struct offsets_topic *o = arg;
	struct kp_zk_entity_config cfg;
	char seg[32], msg[512] = "";
	int16_t err;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(seg, sizeof(seg), "%d", o->segment_bytes);
	/* as Kafka creates it */
	if (kp_zk_config_set(&cfg, "cleanup.policy", "compact") < 0 ||
	    kp_zk_config_set(&cfg, "segment.bytes", seg) < 0 ||
	    kp_zk_config_set(&cfg, "compression.type", "producer") < 0) {
		snprintf(msg, sizeof(msg), "out of memory");
		err = KP_ERR_UNKNOWN_SERVER_ERROR;
	} else {
		err = zk_admin_create_topic(o->b, KP_OFFSETS_TOPIC, o->nparts, o->rf,
					    NULL, &cfg, false, NULL, msg, sizeof(msg));
	}
	if (err != 0 && err != KP_ERR_TOPIC_ALREADY_EXISTS)
		KP_WARN("cannot create %s (offsets.topic.replication.factor=%d): %s",
			KP_OFFSETS_TOPIC, o->rf, msg);
	kp_zk_config_free(&cfg);
	free(o);
}

kp_err_t zk_admin_create_offsets_topic(struct broker *b, int32_t nparts, int32_t rf,
				       int32_t segment_bytes, char *msg, size_t n)
{
	struct offsets_topic *o;

	if (b->zk == NULL) {
		snprintf(msg, n, "no ZooKeeper session");
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	o = malloc(sizeof(*o));
	if (o == NULL) {
		snprintf(msg, n, "out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	*o = (struct offsets_topic){ b, nparts, rf, segment_bytes };
	if (zk_thread_post(b, create_offsets_run, o) < 0) {
		free(o);
		snprintf(msg, n, "the broker is stopping");
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	}
	return 0;
}

/* ------------------------------------------------------ configuration */

int zk_admin_read_config(struct kp_zk *zk, const char *type, const char *name,
			 struct kp_zk_entity_config *out, char *err, size_t n)
{
	struct kp_zk_result res;
	char path[512];
	int rc;

	memset(out, 0, sizeof(*out));
	if (zk == NULL)
		return 0;
	snprintf(path, sizeof(path), "/config/%s/%s", type, name);
	rc = kp_zk_get_sync(zk, path, &res);
	if (rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		return 0;
	}
	if (rc != KP_ZK_OK) {
		snprintf(err, n, "reading %s: %s", path, kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	rc = 0;
	if (res.data != NULL) {
		char why[256];

		rc = kp_zk_config_decode(res.data, (size_t)res.len, out, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, n, "%s: %s", path, why);
			kp_zk_config_free(out);
			memset(out, 0, sizeof(*out));
		}
	}
	kp_zk_result_free(&res);
	return rc < 0 ? -1 : 0;
}

kp_err_t zk_admin_write_config(struct broker *b, const char *type, const char *name,
			       const struct kp_zk_entity_config *cfg, char *msg,
			       size_t n)
{
	struct kp_zk_result res;
	char path[512], entity[512], parent[512];
	char *json = kp_zk_config_encode(cfg);
	int rc;

	if (json == NULL) {
		snprintf(msg, n, "out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	snprintf(path, sizeof(path), "/config/%s/%s", type, name);
	/* the node's parent: /config/<type>, or deeper for
	 * users/<user>/clients/<client> */
	snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(path, '/') - path), path);
	snprintf(entity, sizeof(entity), "%s/%s", type, name);
	rc = kp_zk_set_sync(b->zk, path, json, (int32_t)strlen(json), -1, NULL);
	if (rc == KP_ZK_NONODE) {
		kp_zk_ensure_path(b->zk, parent);
		rc = kp_zk_create_sync(b->zk, path, json, (int32_t)strlen(json),
				       KP_ZK_PERSISTENT, NULL);
		if (rc == KP_ZK_NODEEXISTS)
			rc = kp_zk_set_sync(b->zk, path, json, (int32_t)strlen(json),
					    -1, NULL);
	}
	free(json);
	if (rc != KP_ZK_OK)
		return zk_error(rc, msg, n);
	json = kp_zk_config_change_encode(entity);
	if (json == NULL) {
		snprintf(msg, n, "out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	kp_zk_ensure_path(b->zk, "/config/changes");
	rc = kp_zk_create_sync(b->zk, "/config/changes/config_change_", json,
			       (int32_t)strlen(json), KP_ZK_PERSISTENT_SEQUENTIAL, &res);
	kp_zk_result_free(&res);
	free(json);
	if (rc != KP_ZK_OK)
		return zk_error(rc, msg, n);
	return 0;
}
