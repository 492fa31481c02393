/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dynconfig.c - the /config/changes watcher; see dynconfig.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config_layers.h"
#include "dynconfig.h"
#include "kp_log.h"
#include "kp_loop.h"
#include "kp_zk.h"
#include "log.h"
#include "partition.h"
#include "log_move.h"
#include "quota.h"
#include "scram_users.h"
#include "api_quota.h"
#include "tls_reload.h"
#include "topic_config.h"
#include "zk_admin.h"

#define CHANGES "/config/changes"
#define CHANGE_PREFIX "config_change_"
/* Kafka's ZkNodeChangeNotificationListener.changeExpirationMs */
#define CHANGE_EXPIRATION_MS (15 * 60 * 1000)

struct dynconfig {
	int64_t last_seq;		/* the last notification handled */
};

/* ------------------------------------------------------- throttling */

/* Install a topic's throttle lists (main thread). */
static void set_topic_throttles(struct broker *b, const char *topic,
				const struct kp_zk_entity_config *over)
{
	struct throttle_set ls, fs;
	char err[512];

	if (b->quotas == NULL)
		return;
	if (throttle_set_parse(QUOTA_LEADER_REPLICAS,
			       kp_zk_config_get(over, QUOTA_LEADER_REPLICAS), b->id,
			       &ls, err, sizeof(err)) < 0)
		KP_WARN("topic %s: %s (ignored)", topic, err);
	if (throttle_set_parse(QUOTA_FOLLOWER_REPLICAS,
			       kp_zk_config_get(over, QUOTA_FOLLOWER_REPLICAS), b->id,
			       &fs, err, sizeof(err)) < 0)
		KP_WARN("topic %s: %s (ignored)", topic, err);
	if (ls.all || ls.n > 0 || fs.all || fs.n > 0)
		KP_INFO("topic %s: replication throttled on %s%s%s", topic,
			ls.all || ls.n ? "the leader" : "",
			(ls.all || ls.n) && (fs.all || fs.n) ? " and " : "",
			fs.all || fs.n ? "the follower" : "");
	quota_repl_set_topic(b->quotas, topic, &ls, &fs);
}

/* /config/<type>/<name> (empty when unreadable: logged).  0 or -1. */
static int read_config(struct broker *b, const char *type, const char *name,
		       struct kp_zk_entity_config *out)
{
	char err[512];

	if (zk_admin_read_config(b->zk, type, name, out, err, sizeof(err)) == 0)
		return 0;
	KP_WARN("%s (ignored)", err);
	return -1;
}

/* ------------------------------------------------- applying to logs */

struct collect {
	const char *topic;	/* NULL: all */
	struct partition **v;
	size_t n, cap;
	bool oom;
};

static void collect_one(struct partition *p, void *arg)
{
	struct collect *c = arg;

	if (c->topic != NULL && strcmp(p->topic, c->topic) != 0)
		return;
	if (c->n == c->cap) {
		size_t nc = c->cap ? 2 * c->cap : 64;
		struct partition **nv = realloc(c->v, nc * sizeof(*nv));

		if (nv == NULL) {
			c->oom = true;
			return;
		}
		c->v = nv;
		c->cap = nc;
	}
	c->v[c->n++] = p;
}

static int cmp_topic(const void *x, const void *y)
{
	const struct partition *a = *(struct partition *const *)x;
	const struct partition *b = *(struct partition *const *)y;

	return strcmp(a->topic, b->topic);
}

/*
 * The topic's configuration, now, to each hosted partition of it: the
 * log's settings (used by its appender under the partition's lock) and
 * the partition's max.message.bytes and min.insync.replicas.
 */
static void apply_partitions(struct broker *b, struct partition **v, size_t n,
			     const struct kp_zk_entity_config *over)
{
	struct log_config cfg;
	int32_t max_msg = (int32_t)topic_config_num(b->layers, over, "max.message.bytes");
	int32_t min_isr = (int32_t)topic_config_num(b->layers, over, "min.insync.replicas");

	topic_config_log(b->layers, over, &cfg);
	for (size_t i = 0; i < n; i++) {
		struct partition *p = v[i];

		pthread_mutex_lock(&p->lock);
		if (p->log != NULL && !p->deleting) {
			p->log->cfg = cfg;
			p->max_message_bytes = max_msg;
			p->min_isr = min_isr;
		}
		pthread_mutex_unlock(&p->lock);
	}
}

/* Re-read topic (or every hosted topic: NULL) and apply it. */
static void reload_topics(struct broker *b, const char *topic)
{
	struct collect c = { .topic = topic };
	size_t i = 0;

	partition_foreach(&b->parts, collect_one, &c);
	if (c.oom)
		KP_ERROR("out of memory applying a configuration change");
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), cmp_topic);
	if (topic != NULL && c.n == 0) {
		/* not hosted here: only the throttle lists matter */
		struct kp_zk_entity_config over;

		if (read_config(b, "topics", topic, &over) == 0)
			set_topic_throttles(b, topic, &over);
		kp_zk_config_free(&over);
	}
	while (i < c.n) {
		struct kp_zk_entity_config over;
		size_t j = i;

		while (j < c.n && strcmp(c.v[j]->topic, c.v[i]->topic) == 0)
			j++;
		if (read_config(b, "topics", c.v[i]->topic, &over) == 0) {
			set_topic_throttles(b, c.v[i]->topic, &over);
			apply_partitions(b, c.v + i, j - i, &over);
		}
		kp_zk_config_free(&over);
		i = j;
	}
	free(c.v);
}

/*
 * Drop what Kafka's fromPersistentProps drops (invalid values, keys that
 * are not dynamic, security keys without a listener prefix, per-broker
 * keys in the cluster default), so it never shows as in force.
 */
static void keep_dynamic(struct kp_zk_entity_config *c, const char *path,
			 bool per_broker)
{
	for (size_t i = 0; i < c->n;) {
		char msg[512];
		int16_t err = config_layers_check_key(c->keys[i], c->values[i],
						      per_broker, msg, sizeof(msg));

		if (err != 0) {
			KP_WARN("%s: %s (ignored)", path, msg);
			kp_zk_config_set(c, c->keys[i], NULL);
			continue;
		}
		i++;
	}
}

/* Re-read both broker entities and apply them everywhere. */
static void reload_broker(struct broker *b, bool topics)
{
	struct kp_zk_entity_config mine, defs;
	char id[16];

	snprintf(id, sizeof(id), "%d", b->id);
	if (read_config(b, "brokers", id, &mine) < 0 ||
	    read_config(b, "brokers", "<default>", &defs) < 0) {
		kp_zk_config_free(&mine);
		return;
	}
	keep_dynamic(&mine, "/config/brokers/<id>", true);
	keep_dynamic(&defs, "/config/brokers/<default>", false);
	config_layers_set(b->layers, &mine, &defs);
	atomic_store(&b->message_max_bytes,
		     (int32_t)config_layers_long(b->layers, "message.max.bytes"));
	if (b->quotas != NULL) {
		quota_set_limit(&b->quotas->leader,
				config_layers_long(b->layers, QUOTA_LEADER_RATE));
		quota_set_limit(&b->quotas->follower,
				config_layers_long(b->layers, QUOTA_FOLLOWER_RATE));
	}
	log_move_set_rate(b, config_layers_long(b->layers,
						"replica.alter.log.dirs.io.max.bytes.per.second"));
	/* listeners' SSL stores (KIP-226) */
	tls_reload_apply(b);
	if (topics)
		reload_topics(b, NULL);
}

/* ------------------------------------------------------ notifications */

static void on_changes(enum kp_zk_event ev, const char *path, void *arg);

static void handle_entity(struct broker *b, const char *entity)
{
	char id[16];

	snprintf(id, sizeof(id), "%d", b->id);
	if (strncmp(entity, "topics/", 7) == 0 && entity[7] != 0) {
		KP_INFO("config change of topic %s", entity + 7);
		reload_topics(b, entity + 7);
	} else if (strncmp(entity, "brokers/", 8) == 0 &&
		   (strcmp(entity + 8, id) == 0 ||
		    strcmp(entity + 8, "<default>") == 0)) {
		KP_INFO("config change of broker %s", entity + 8);
		reload_broker(b, true);
	} else if (strncmp(entity, "users/", 6) == 0 && entity[6] != 0 &&
		   strchr(entity + 6, '/') == NULL) {
		/* a user's SCRAM credentials and quotas: one read */
		struct kp_zk_entity_config c;

		KP_INFO("config change of user %s", entity + 6);
		if (read_config(b, "users", entity + 6, &c) == 0) {
			scram_users_apply(b, entity + 6, &c);
			quota_apply_user(b, entity + 6, &c);
		}
		kp_zk_config_free(&c);
	} else if (strncmp(entity, "users/", 6) == 0 ||
		   strncmp(entity, "clients/", 8) == 0) {
		/* users/<u>/clients/<c>, clients/<c>: quotas */
		KP_INFO("config change of %s", entity);
		quota_reload(b, entity);
	}
	/* another broker's entity, ips: not ours to apply */
}

static int64_t change_seq(const char *name)
{
	size_t pl = strlen(CHANGE_PREFIX);
	char *end;
	long long v;

	if (strncmp(name, CHANGE_PREFIX, pl) != 0 || name[pl] == 0)
		return -1;
	v = strtoll(name + pl, &end, 10);
	return *end == 0 && v >= 0 ? v : -1;
}

/*
 * List /config/changes (leaving a watch), handle each notification newer
 * than the last handled one in order, delete expired ones.  With
 * skip_all (start-up) nothing is handled: the state was just loaded.
 */
static void process_changes(struct broker *b, bool skip_all)
{
	struct dynconfig *d = b->dyn;
	struct kp_zk_result res;
	int64_t now = kp_wall_ms();
	int rc;

	rc = kp_zk_read_watch_sync(b->zk, KP_ZK_READ_CHILDREN, CHANGES, on_changes,
				   b, &res);
	if (rc != KP_ZK_OK) {
		KP_WARN("listing %s: %s", CHANGES, kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return;
	}
	for (int32_t i = 0; i < res.nchildren; i++) {
		int64_t seq = change_seq(res.children[i]);
		struct kp_zk_result nr;
		char path[256], entity[512], err[256];

		if (seq < 0)
			continue;
		snprintf(path, sizeof(path), CHANGES "/%s", res.children[i]);
		rc = kp_zk_get_sync(b->zk, path, &nr);
		if (rc != KP_ZK_OK) {
			kp_zk_result_free(&nr);
			continue;	/* purged by another broker */
		}
		if (seq > d->last_seq) {
			d->last_seq = seq;
			if (skip_all)
				;
			else if (nr.data == NULL ||
				 kp_zk_config_change_decode(nr.data, (size_t)nr.len, entity,
							    sizeof(entity), err,
							    sizeof(err)) < 0)
				KP_WARN("%s: bad notification (ignored)", path);
			else
				handle_entity(b, entity);
		}
		if (nr.has_stat && nr.stat.ctime + CHANGE_EXPIRATION_MS < now)
			kp_zk_delete_sync(b->zk, path, -1);
		kp_zk_result_free(&nr);
	}
	kp_zk_result_free(&res);
}

static void on_changes(enum kp_zk_event ev, const char *path, void *arg)
{
	struct broker *b = arg;

	(void)path;
	/* NOT_WATCHING: the session went; dynconfig_start runs again */
	if (ev != KP_ZK_EV_CHILD || b->stopping || b->dyn == NULL)
		return;
	process_changes(b, false);
}

/* ------------------------------------------------------------ set-up */

int dynconfig_init(struct broker *b)
{
	struct dynconfig *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	d->last_seq = -1;
	b->dyn = d;
	return 0;
}

int dynconfig_start(struct broker *b, char *err, size_t errlen)
{
	struct kp_zk_result res;
	int rc = kp_zk_ensure_path(b->zk, CHANGES);

	if (rc != KP_ZK_OK) {
		snprintf(err, errlen, "creating %s: %s", CHANGES, kp_zk_strerror(rc));
		return -1;
	}
	/*
	 * Watch first, then load: a change made in between is handled
	 * again (re-reading an entity is idempotent) rather than missed.
	 */
	process_changes(b, true);
	reload_broker(b, false);
	if (scram_users_load_all(b) < 0) {
		snprintf(err, errlen, "loading the SCRAM users of /config/users failed");
		return -1;
	}
	if (quota_load_all(b) < 0) {
		snprintf(err, errlen, "loading the client quotas of /config failed");
		return -1;
	}
	rc = kp_zk_children_sync(b->zk, "/config/topics", &res);
	if (rc != KP_ZK_OK && rc != KP_ZK_NONODE) {
		snprintf(err, errlen, "listing /config/topics: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	for (int32_t i = 0; rc == KP_ZK_OK && i < res.nchildren; i++) {
		struct kp_zk_entity_config over;

		if (read_config(b, "topics", res.children[i], &over) == 0)
			set_topic_throttles(b, res.children[i], &over);
		kp_zk_config_free(&over);
	}
	kp_zk_result_free(&res);
	/* partitions hosted already (after a session expiry) */
	reload_topics(b, NULL);
	return 0;
}

void dynconfig_destroy(struct broker *b)
{
	free(b->dyn);
	b->dyn = NULL;
}
