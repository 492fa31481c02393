/*
 * dynconfig.c - dynamic topic and broker configuration; see dynconfig.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "broker.h"
#include "broker_config.h"
#include "dynconfig.h"
#include "kp_errors.h"
#include "kp_log.h"
#include "kp_topic_config.h"
#include "kp_zk.h"
#include "kp_loop.h"
#include "log.h"
#include "partition.h"
#include "topic_config.h"

#define CHANGES "/config/changes"
#define CHANGE_PREFIX "config_change_"
/* Kafka's ZkNodeChangeNotificationListener.changeExpirationMs */
#define CHANGE_EXPIRATION_MS (15 * 60 * 1000)

struct dyn_topic {
	struct dyn_topic *next;
	char *name;
	struct throttle_set leader, follower;
};

/* ------------------------------------------------------------ keys */

const struct kp_config_def *dynconfig_def(const char *key)
{
	const struct kp_config_def *d = kp_config_find(broker_config_defs,
						       broker_config_ndefs, key);

	return d != NULL ? d : kp_config_find(broker_dynamic_defs,
					       broker_dynamic_ndefs, key);
}

const struct kp_config_def *dynconfig_type_def(const char *key)
{
	const struct kp_config_def *d = dynconfig_def(key);

	if (d != NULL)
		return d;
	d = kp_config_listener_base(broker_config_defs, broker_config_ndefs, key);
	if (d != NULL)
		return d;
	return kp_config_listener_base(broker_dynamic_defs, broker_dynamic_ndefs, key);
}

bool dynconfig_is_dynamic(const char *key)
{
	const struct kp_config_def *d = dynconfig_def(key);

	return d != NULL && d->dyn != KP_DYN_READ_ONLY;
}

bool dynconfig_is_password(const char *key)
{
	/* Kafka's isPasswordConfig: the name ends with a dynamic password key */
	size_t kl = strlen(key);

	for (size_t i = 0; i < broker_config_ndefs; i++) {
		const struct kp_config_def *d = &broker_config_defs[i];
		size_t dl = strlen(d->key);

		if (d->type == KP_CFG_PASSWORD && d->dyn != KP_DYN_READ_ONLY &&
		    kl >= dl && strcmp(key + kl - dl, d->key) == 0)
			return true;
	}
	return false;
}

/* Scala's Set(a, b) of the keys for which pick() holds. */
static bool set_of(const struct kp_zk_entity_config *c,
		   bool (*pick)(const char *key), char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n, "Set(");
	bool any = false;

	for (size_t i = 0; i < c->n; i++) {
		if (!pick(c->keys[i]))
			continue;
		if (o < n)
			o += (size_t)snprintf(buf + o, n - o, "%s%s", any ? ", " : "",
					      c->keys[i]);
		any = true;
	}
	if (o < n)
		snprintf(buf + o, n - o, ")");
	return any;
}

static bool non_dynamic(const char *key)
{
	const struct kp_config_def *d = kp_config_find(broker_config_defs,
						       broker_config_ndefs, key);

	return d != NULL && d->dyn == KP_DYN_READ_ONLY;
}

static bool listener_only(const char *key)
{
	const struct kp_config_def *d = dynconfig_def(key);

	return d != NULL && d->dyn == KP_DYN_LISTENER;
}

static bool per_broker_only(const char *key)
{
	const struct kp_config_def *d = dynconfig_def(key);
	const char *base;

	if (kp_config_is_listener_key(key, &base))
		/* Kafka's ClusterLevelListenerConfigs may be set per listener
		 * cluster-wide; every other listener key is per broker */
		return strcmp(base, "max.connections") != 0 &&
		       strcmp(base, "max.connection.creation.rate") != 0;
	return d != NULL && (d->dyn == KP_DYN_PER_BROKER || d->dyn == KP_DYN_LISTENER);
}

int16_t dynconfig_check_entity(const struct kp_zk_entity_config *c,
			       bool per_broker, char *msg, size_t n)
{
	char set[1024];

	if (set_of(c, non_dynamic, set, sizeof(set))) {
		snprintf(msg, n, "Cannot update these configs dynamically: %s", set);
		return KP_ERR_INVALID_REQUEST;
	}
	if (set_of(c, listener_only, set, sizeof(set))) {
		snprintf(msg, n, "These security configs can be dynamically updated "
			 "only per-listener using the listener prefix: %s", set);
		return KP_ERR_INVALID_REQUEST;
	}
	/* the values of dynamic keys, a listener override by its base key's
	 * rules and name (Kafka validates the base names); others are
	 * custom configs, kept as given */
	for (size_t i = 0; i < c->n; i++) {
		const struct kp_config_def *d = dynconfig_type_def(c->keys[i]);
		const char *base = c->keys[i];
		struct kp_config_def as;

		if (d == NULL || d->dyn == KP_DYN_READ_ONLY)
			continue;
		if (c->values[i] == NULL) {
			snprintf(msg, n, "Null value not supported for broker config %s",
				 c->keys[i]);
			return KP_ERR_INVALID_REQUEST;
		}
		(void)kp_config_is_listener_key(c->keys[i], &base);
		as = *d;
		as.key = base;
		if (kp_config_validate(&as, c->values[i], msg, n) < 0)
			return KP_ERR_INVALID_REQUEST;
	}
	if (!per_broker && set_of(c, per_broker_only, set, sizeof(set))) {
		snprintf(msg, n, "Cannot update these configs at default cluster level, "
			 "broker id must be specified: %s", set);
		return KP_ERR_INVALID_REQUEST;
	}
	return 0;
}

int16_t dynconfig_check_broker_key(const char *key, const char *value,
				   bool per_broker, char *msg, size_t n)
{
	char *k = (char *)key, *v = (char *)value;
	struct kp_zk_entity_config one = { &k, &v, 1 };

	return dynconfig_check_entity(&one, per_broker, msg, n);
}

/* ------------------------------------------------------------- values */

static const char *copy_out(const char *v, char *buf, size_t n)
{
	if (v == NULL)
		return NULL;
	snprintf(buf, n, "%s", v);
	return buf;
}

const char *dynconfig_layer_get(struct broker *b, enum dyn_layer layer,
				const char *key, char *buf, size_t n)
{
	struct dynconfig *d = b->dyn;
	const char *v = NULL;

	switch (layer) {
	case DYN_BROKER:
	case DYN_DEFAULT:
		if (d == NULL)
			return NULL;
		pthread_mutex_lock(&d->lock);
		v = copy_out(kp_zk_config_get(layer == DYN_BROKER ? &d->broker
								  : &d->defaults, key),
			     buf, n);
		pthread_mutex_unlock(&d->lock);
		return v;
	case DYN_STATIC:
		/* as Kafka's staticBrokerConfigs: everything the file sets,
		 * listener overrides and custom keys too */
		return copy_out(kp_config_raw(&b->cfg, key), buf, n);
	case DYN_TABLE_DEFAULT:
		break;
	}
	return NULL;
}

void dynconfig_layer_foreach(struct broker *b, enum dyn_layer layer,
			     void (*fn)(const char *key, void *arg), void *arg)
{
	struct dynconfig *d = b->dyn;
	const struct kp_zk_entity_config *c;

	if (d == NULL || (layer != DYN_BROKER && layer != DYN_DEFAULT))
		return;
	pthread_mutex_lock(&d->lock);
	c = layer == DYN_BROKER ? &d->broker : &d->defaults;
	for (size_t i = 0; i < c->n; i++)
		fn(c->keys[i], arg);
	pthread_mutex_unlock(&d->lock);
}

const char *dynconfig_broker_get(struct broker *b, const char *key, char *buf,
				 size_t n, enum dyn_layer *layer)
{
	static const enum dyn_layer order[] = { DYN_BROKER, DYN_DEFAULT, DYN_STATIC };
	const struct kp_config_def *d;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *v = dynconfig_layer_get(b, order[i], key, buf, n);

		if (v != NULL) {
			*layer = order[i];
			return v;
		}
	}
	*layer = DYN_TABLE_DEFAULT;
	d = dynconfig_def(key);
	return d != NULL ? copy_out(d->def, buf, n) : NULL;
}

static int64_t broker_long(struct broker *b, const char *key)
{
	enum dyn_layer l;
	char buf[64];
	const char *v = dynconfig_broker_get(b, key, buf, sizeof(buf), &l);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

/*
 * A broker key's value once c is in force as the per-broker entity
 * (per_broker) or the cluster default: into buf, or NULL when unset.
 */
static const char *new_value(struct broker *b, const struct kp_zk_entity_config *c,
			     bool per_broker, const char *key, char *buf, size_t n)
{
	static const enum dyn_layer order[] = { DYN_BROKER, DYN_DEFAULT, DYN_STATIC };
	enum dyn_layer mine = per_broker ? DYN_BROKER : DYN_DEFAULT;
	const struct kp_config_def *d;
	const char *v = NULL;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		v = order[i] == mine ? copy_out(kp_zk_config_get(c, key), buf, n)
				     : dynconfig_layer_get(b, order[i], key, buf, n);
		if (v != NULL)
			return v;
	}
	d = dynconfig_def(key);
	return d != NULL ? copy_out(d->def, buf, n) : NULL;
}

static int64_t new_long(struct broker *b, const struct kp_zk_entity_config *c,
			bool per_broker, const char *key)
{
	char buf[64];
	const char *v = new_value(b, c, per_broker, key, buf, sizeof(buf));

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

/* Kafka's DynamicThreadPool: a pool may at most halve or double at once. */
static const char *const thread_keys[] = {
	"num.io.threads", "num.network.threads", "num.replica.fetchers",
	"num.recovery.threads.per.data.dir", "background.threads",
};

/* Kafka's LogCleaner.ReconfigurableConfigs. */
static const char *const cleaner_keys[] = {
	"log.cleaner.threads", "log.cleaner.dedupe.buffer.size",
	"log.cleaner.io.buffer.load.factor", "log.cleaner.io.buffer.size",
	"message.max.bytes", "log.cleaner.io.max.bytes.per.second",
	"log.cleaner.backoff.ms",
};

int16_t dynconfig_check_update(struct broker *b, const struct kp_zk_entity_config *c,
			       bool per_broker, char *msg, size_t n)
{
	int16_t err = dynconfig_check_entity(c, per_broker, msg, n);
	const char *v = kp_zk_config_get(c, "log.retention.ms");
	int64_t dedupe, threads;
	bool cleaner_changed = false;

	if (err != 0)
		return err;
	/* KafkaConfig's own requirements of the merged configuration */
	if (v != NULL && strtoll(v, NULL, 10) == 0) {
		snprintf(msg, n, "requirement failed: log.retention.ms must be "
			 "unlimited (-1) or, greater than or equal to 1");
		return KP_ERR_INVALID_REQUEST;
	}
	dedupe = new_long(b, c, per_broker, "log.cleaner.dedupe.buffer.size");
	threads = new_long(b, c, per_broker, "log.cleaner.threads");
	if (threads > 0 && dedupe / threads <= 1024 * 1024) {
		snprintf(msg, n, "requirement failed: log.cleaner.dedupe.buffer.size "
			 "must be at least 1MB per cleaner thread.");
		return KP_ERR_INVALID_REQUEST;
	}
	/* the reconfigurables' validation: "Invalid dynamic configuration" */
	for (size_t i = 0; i < sizeof(thread_keys) / sizeof(thread_keys[0]); i++) {
		int64_t nv = new_long(b, c, per_broker, thread_keys[i]);
		int64_t ov = broker_long(b, thread_keys[i]);

		if (nv != ov && (nv <= 0 || nv < ov / 2 || nv > ov * 2)) {
			KP_INFO("dynamic thread count update validation failed for %s=%"
				PRId64 " (current %" PRId64 ")", thread_keys[i], nv, ov);
			snprintf(msg, n, "Invalid dynamic configuration");
			return KP_ERR_INVALID_REQUEST;
		}
	}
	for (size_t i = 0; i < sizeof(cleaner_keys) / sizeof(cleaner_keys[0]); i++) {
		char b1[64], b2[64];
		enum dyn_layer l;
		const char *now = dynconfig_broker_get(b, cleaner_keys[i], b1, sizeof(b1), &l);
		const char *nv = new_value(b, c, per_broker, cleaner_keys[i], b2, sizeof(b2));

		if ((now == NULL) != (nv == NULL) ||
		    (now != NULL && strcmp(now, nv) != 0))
			cleaner_changed = true;
	}
	if (cleaner_changed && kp_config_bool(&b->cfg, "log.cleaner.enable")) {
		int64_t cur = broker_long(b, "log.cleaner.threads");

		if (threads < 1 || threads < cur / 2 || threads > cur * 2) {
			KP_INFO("log cleaner threads %" PRId64 " refused (current %"
				PRId64 ")", threads, cur);
			snprintf(msg, n, "Invalid dynamic configuration");
			return KP_ERR_INVALID_REQUEST;
		}
	}
	return 0;
}

/* ------------------------------------------------------- throttling */

static struct dyn_topic *find_topic(struct dynconfig *d, const char *name,
				    size_t len)
{
	for (struct dyn_topic *t = d->topics; t != NULL; t = t->next)
		if (strlen(t->name) == len && memcmp(t->name, name, len) == 0)
			return t;
	return NULL;
}

static bool throttled(struct broker *b, const char *topic, size_t len,
		      int32_t partition, bool leader)
{
	struct dynconfig *d = b->dyn;
	struct dyn_topic *t;
	bool r = false;

	if (d == NULL || atomic_load(&d->nthrottled) == 0)
		return false;
	pthread_mutex_lock(&d->lock);
	t = find_topic(d, topic, len);
	if (t != NULL)
		r = throttle_set_has(leader ? &t->leader : &t->follower, partition);
	pthread_mutex_unlock(&d->lock);
	return r;
}

bool dynconfig_leader_throttled(struct broker *b, const char *topic,
				size_t len, int32_t partition)
{
	return throttled(b, topic, len, partition, true);
}

bool dynconfig_follower_throttled(struct broker *b, const char *topic,
				  size_t len, int32_t partition)
{
	return throttled(b, topic, len, partition, false);
}

static void topic_free(struct dyn_topic *t)
{
	throttle_set_free(&t->leader);
	throttle_set_free(&t->follower);
	free(t->name);
	free(t);
}

/* Install a topic's throttle lists (main thread). */
static void set_topic_throttles(struct broker *b, const char *topic,
				const struct kp_zk_entity_config *over)
{
	struct dynconfig *d = b->dyn;
	struct throttle_set ls, fs;
	struct dyn_topic **pp, *t;
	char err[512];

	if (throttle_set_parse(DYN_LEADER_REPLICAS,
			       kp_zk_config_get(over, DYN_LEADER_REPLICAS), b->id,
			       &ls, err, sizeof(err)) < 0)
		KP_WARN("topic %s: %s (ignored)", topic, err);
	if (throttle_set_parse(DYN_FOLLOWER_REPLICAS,
			       kp_zk_config_get(over, DYN_FOLLOWER_REPLICAS), b->id,
			       &fs, err, sizeof(err)) < 0)
		KP_WARN("topic %s: %s (ignored)", topic, err);
	pthread_mutex_lock(&d->lock);
	for (pp = &d->topics; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, topic) == 0)
			break;
	t = *pp;
	if (t != NULL) {
		*pp = t->next;
		topic_free(t);
		atomic_fetch_sub(&d->nthrottled, 1);
	}
	if (ls.all || ls.n > 0 || fs.all || fs.n > 0) {
		t = calloc(1, sizeof(*t));
		if (t != NULL && (t->name = strdup(topic)) != NULL) {
			t->leader = ls;
			t->follower = fs;
			t->next = d->topics;
			d->topics = t;
			atomic_fetch_add(&d->nthrottled, 1);
			pthread_mutex_unlock(&d->lock);
			KP_INFO("topic %s: replication throttled on %s%s%s", topic,
				ls.all || ls.n ? "the leader" : "",
				(ls.all || ls.n) && (fs.all || fs.n) ? " and " : "",
				fs.all || fs.n ? "the follower" : "");
			return;
		}
		free(t);
		KP_ERROR("topic %s: out of memory for its throttle lists", topic);
	}
	pthread_mutex_unlock(&d->lock);
	throttle_set_free(&ls);
	throttle_set_free(&fs);
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
	int32_t max_msg = (int32_t)topic_config_num(b, over, "max.message.bytes");
	int32_t min_isr = (int32_t)topic_config_num(b, over, "min.insync.replicas");

	topic_config_log(b, over, &cfg);
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

		if (topic_config_read(b, topic, &over) == 0)
			set_topic_throttles(b, topic, &over);
		kp_zk_config_free(&over);
	}
	while (i < c.n) {
		struct kp_zk_entity_config over;
		size_t j = i;

		while (j < c.n && strcmp(c.v[j]->topic, c.v[i]->topic) == 0)
			j++;
		if (topic_config_read(b, c.v[i]->topic, &over) == 0) {
			set_topic_throttles(b, c.v[i]->topic, &over);
			apply_partitions(b, c.v + i, j - i, &over);
		}
		kp_zk_config_free(&over);
		i = j;
	}
	free(c.v);
}

/* Read /config/brokers/<name> into out (absent: empty).  0 or -1. */
static int read_entity(struct broker *b, const char *name,
		       struct kp_zk_entity_config *out)
{
	struct kp_zk_result res;
	char path[128], err[256];
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/config/brokers/%s", name);
	rc = kp_zk_get_sync(b->zk, path, &res);
	if (rc == KP_ZK_NONODE) {
		kp_zk_result_free(&res);
		return 0;
	}
	if (rc != KP_ZK_OK) {
		KP_WARN("reading %s: %s", path, kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	rc = res.data != NULL ? kp_zk_config_decode(res.data, (size_t)res.len, out,
						     err, sizeof(err)) : 0;
	if (rc < 0)
		KP_WARN("%s: %s (ignored)", path, err);
	kp_zk_result_free(&res);
	return rc;
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
		int16_t err = dynconfig_check_broker_key(c->keys[i], c->values[i],
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
	struct dynconfig *d = b->dyn;
	struct kp_zk_entity_config mine, defs, old1, old2;
	char id[16];

	snprintf(id, sizeof(id), "%d", b->id);
	if (read_entity(b, id, &mine) < 0 || read_entity(b, "<default>", &defs) < 0) {
		kp_zk_config_free(&mine);
		return;
	}
	keep_dynamic(&mine, "/config/brokers/<id>", true);
	keep_dynamic(&defs, "/config/brokers/<default>", false);
	pthread_mutex_lock(&d->lock);
	old1 = d->broker;
	old2 = d->defaults;
	d->broker = mine;
	d->defaults = defs;
	pthread_mutex_unlock(&d->lock);
	kp_zk_config_free(&old1);
	kp_zk_config_free(&old2);
	atomic_store(&b->message_max_bytes,
		     (int32_t)broker_long(b, "message.max.bytes"));
	quota_set_limit(&d->leader_quota, broker_long(b, DYN_LEADER_RATE));
	quota_set_limit(&d->follower_quota, broker_long(b, DYN_FOLLOWER_RATE));
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
	}
	/* another broker's entity, clients, users, ips: not ours to apply */
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
	pthread_mutex_init(&d->lock, NULL);
	quota_init(&d->leader_quota);
	quota_init(&d->follower_quota);
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
	rc = kp_zk_children_sync(b->zk, "/config/topics", &res);
	if (rc != KP_ZK_OK && rc != KP_ZK_NONODE) {
		snprintf(err, errlen, "listing /config/topics: %s", kp_zk_strerror(rc));
		kp_zk_result_free(&res);
		return -1;
	}
	for (int32_t i = 0; rc == KP_ZK_OK && i < res.nchildren; i++) {
		struct kp_zk_entity_config over;

		if (topic_config_read(b, res.children[i], &over) == 0)
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
	struct dynconfig *d = b->dyn;

	if (d == NULL)
		return;
	b->dyn = NULL;
	while (d->topics != NULL) {
		struct dyn_topic *t = d->topics;

		d->topics = t->next;
		topic_free(t);
	}
	kp_zk_config_free(&d->broker);
	kp_zk_config_free(&d->defaults);
	quota_destroy(&d->leader_quota);
	quota_destroy(&d->follower_quota);
	pthread_mutex_destroy(&d->lock);
	free(d);
}
