/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_layers.c - a broker key's layers, synonyms and checks; see
 * config_layers.h.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker_config.h"
#include "config_layers.h"
#include "kp_errors.h"
#include "kp_log.h"

struct config_layers {
	pthread_mutex_t lock;		/* broker and defaults */
	struct kp_zk_entity_config broker;	/* /config/brokers/<id> */
	struct kp_zk_entity_config defaults;	/* /config/brokers/<default> */
	const struct kp_config *file;	/* the properties file */
};

struct config_layers *config_layers_new(const struct kp_config *file)
{
	struct config_layers *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	l->file = file;
	return l;
}

void config_layers_free(struct config_layers *l)
{
	if (l == NULL)
		return;
	kp_zk_config_free(&l->broker);
	kp_zk_config_free(&l->defaults);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void config_layers_set(struct config_layers *l, struct kp_zk_entity_config *broker,
		       struct kp_zk_entity_config *defaults)
{
	struct kp_zk_entity_config old1, old2;

	pthread_mutex_lock(&l->lock);
	old1 = l->broker;
	old2 = l->defaults;
	l->broker = *broker;
	l->defaults = *defaults;
	pthread_mutex_unlock(&l->lock);
	memset(broker, 0, sizeof(*broker));
	memset(defaults, 0, sizeof(*defaults));
	kp_zk_config_free(&old1);
	kp_zk_config_free(&old2);
}

/* ------------------------------------------------------------- keys */

const struct kp_config_def *config_layers_def(const char *key)
{
	const struct kp_config_def *d = kp_config_find(broker_config_defs,
						       broker_config_ndefs, key);

	return d != NULL ? d : kp_config_find(broker_dynamic_defs,
					       broker_dynamic_ndefs, key);
}

const struct kp_config_def *config_layers_type_def(const char *key)
{
	const struct kp_config_def *d = config_layers_def(key);

	if (d != NULL)
		return d;
	d = kp_config_listener_base(broker_config_defs, broker_config_ndefs, key);
	if (d != NULL)
		return d;
	return kp_config_listener_base(broker_dynamic_defs, broker_dynamic_ndefs, key);
}

bool config_layers_is_dynamic(const char *key)
{
	const struct kp_config_def *d = config_layers_def(key);

	return d != NULL && d->dyn != KP_DYN_READ_ONLY;
}

bool config_layers_is_password(const char *key)
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

/* ------------------------------------------------------------ values */

static const char *copy_out(const char *v, char *buf, size_t n)
{
	if (v == NULL)
		return NULL;
	snprintf(buf, n, "%s", v);
	return buf;
}

const char *config_layers_get(struct config_layers *l, enum config_source layer,
			      const char *key, char *buf, size_t n)
{
	const char *v = NULL;

	if (l == NULL)
		return NULL;
	switch (layer) {
	case CONFIG_SOURCE_DYNAMIC_BROKER:
	case CONFIG_SOURCE_DYNAMIC_DEFAULT:
		pthread_mutex_lock(&l->lock);
		v = copy_out(kp_zk_config_get(layer == CONFIG_SOURCE_DYNAMIC_BROKER
					      ? &l->broker : &l->defaults, key),
			     buf, n);
		pthread_mutex_unlock(&l->lock);
		return v;
	case CONFIG_SOURCE_STATIC_BROKER:
		/* as Kafka's staticBrokerConfigs: everything the file sets,
		 * listener overrides and custom keys too */
		return l->file != NULL ? copy_out(kp_config_raw(l->file, key), buf, n)
				       : NULL;
	default:
		return NULL;
	}
}

void config_layers_foreach(struct config_layers *l, enum config_source layer,
			   void (*fn)(const char *key, void *arg), void *arg)
{
	const struct kp_zk_entity_config *c;

	if (l == NULL || (layer != CONFIG_SOURCE_DYNAMIC_BROKER &&
			  layer != CONFIG_SOURCE_DYNAMIC_DEFAULT))
		return;
	pthread_mutex_lock(&l->lock);
	c = layer == CONFIG_SOURCE_DYNAMIC_BROKER ? &l->broker : &l->defaults;
	for (size_t i = 0; i < c->n; i++)
		fn(c->keys[i], arg);
	pthread_mutex_unlock(&l->lock);
}

static const enum config_source broker_layers[] = {
	CONFIG_SOURCE_DYNAMIC_BROKER, CONFIG_SOURCE_DYNAMIC_DEFAULT,
	CONFIG_SOURCE_STATIC_BROKER,
};
#define NLAYERS (sizeof(broker_layers) / sizeof(broker_layers[0]))

const char *config_layers_value(struct config_layers *l, const char *key,
				char *buf, size_t n, enum config_source *layer)
{
	const struct kp_config_def *d;

	for (size_t i = 0; i < NLAYERS; i++) {
		const char *v = config_layers_get(l, broker_layers[i], key, buf, n);

		if (v != NULL) {
			*layer = broker_layers[i];
			return v;
		}
	}
	*layer = CONFIG_SOURCE_DEFAULT;
	d = config_layers_def(key);
	return d != NULL ? copy_out(d->def, buf, n) : NULL;
}

int64_t config_layers_long(struct config_layers *l, const char *key)
{
	enum config_source src;
	char buf[64];
	const char *v = config_layers_value(l, key, buf, sizeof(buf), &src);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

/* ---------------------------------------------------------- synonyms */

int config_layers_synonyms(const char *k, const char *out[3])
{
	static const char *const groups[][4] = {
		{ "log.retention.ms", "log.retention.minutes", "log.retention.hours", NULL },
		{ "log.roll.ms", "log.roll.hours", NULL, NULL },
		{ "log.roll.jitter.ms", "log.roll.jitter.hours", NULL, NULL },
		{ "log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL, NULL },
	};

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		int n = 0;

		if (strcmp(groups[g][0], k) != 0)
			continue;
		while (n < 3 && groups[g][n] != NULL) {
			out[n] = groups[g][n];
			n++;
		}
		return n;
	}
	out[0] = k;
	return 1;
}

/* A value of synonym key in the unit of the first (ms). */
static const char *in_ms(const char *key, const char *v, char *buf, size_t n)
{
	int64_t mul = 0, x;
	size_t kl = strlen(key);

	if (kl > 8 && strcmp(key + kl - 8, ".minutes") == 0)
		mul = 60000;
	else if (kl > 6 && strcmp(key + kl - 6, ".hours") == 0)
		mul = 3600000;
	if (mul == 0)
		return v;
	x = strtoll(v, NULL, 10);
	snprintf(buf, n, "%" PRId64, x < 0 ? -1 : x * mul);
	return buf;
}

const char *config_layers_topic_default(struct config_layers *l,
					const struct kp_topic_config *tc,
					char *buf, size_t n, enum config_source *src)
{
	const char *keys[3], *v;
	enum config_source layer;
	char tmp[128];
	int nk;

	*src = CONFIG_SOURCE_DEFAULT;
	if (tc->broker_key == NULL)
		return tc->def.def;
	/* Kafka merges the layers, then a key's own unit wins over the
	 * coarser synonyms (log.retention.ms over .minutes over .hours) */
	nk = config_layers_synonyms(tc->broker_key, keys);
	for (int i = 0; i < nk; i++)
		for (size_t j = 0; j < NLAYERS; j++) {
			v = config_layers_get(l, broker_layers[j], keys[i], tmp, sizeof(tmp));
			if (v == NULL)
				continue;
			*src = broker_layers[j];
			v = in_ms(keys[i], v, buf, n);
			if (v == tmp)
				snprintf(buf, n, "%s", tmp);
			return buf;
		}
	/* none set: the coarsest synonym's default is the one that has one */
	for (int i = nk - 1; i >= 0; i--) {
		v = config_layers_value(l, keys[i], tmp, sizeof(tmp), &layer);
		if (v != NULL) {
			v = in_ms(keys[i], v, buf, n);
			if (v == tmp)
				snprintf(buf, n, "%s", tmp);
			return buf;
		}
	}
	return tc->def.def;
}

/* ------------------------------------------------------------ checks */

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
	const struct kp_config_def *d = config_layers_def(key);

	return d != NULL && d->dyn == KP_DYN_LISTENER;
}

static bool per_broker_only(const char *key)
{
	const struct kp_config_def *d = config_layers_def(key);
	const char *base;

	if (kp_config_is_listener_key(key, &base))
		/* Kafka's ClusterLevelListenerConfigs may be set per listener
		 * cluster-wide; every other listener key is per broker */
		return strcmp(base, "max.connections") != 0 &&
		       strcmp(base, "max.connection.creation.rate") != 0;
	return d != NULL && (d->dyn == KP_DYN_PER_BROKER || d->dyn == KP_DYN_LISTENER);
}

kp_err_t config_layers_check_entity(const struct kp_zk_entity_config *c,
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
		const struct kp_config_def *d = config_layers_type_def(c->keys[i]);
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

kp_err_t config_layers_check_key(const char *key, const char *value,
				 bool per_broker, char *msg, size_t n)
{
	char *k = (char *)key, *v = (char *)value;
	struct kp_zk_entity_config one = { &k, &v, 1 };

	return config_layers_check_entity(&one, per_broker, msg, n);
}

/*
 * A broker key's value once c is in force as the per-broker entity
 * (per_broker) or the cluster default: into buf, or NULL when unset.
 */
static const char *new_value(struct config_layers *l,
			     const struct kp_zk_entity_config *c, bool per_broker,
			     const char *key, char *buf, size_t n)
{
	enum config_source mine = per_broker ? CONFIG_SOURCE_DYNAMIC_BROKER
					     : CONFIG_SOURCE_DYNAMIC_DEFAULT;
	const struct kp_config_def *d;
	const char *v = NULL;

	for (size_t i = 0; i < NLAYERS; i++) {
		v = broker_layers[i] == mine ? copy_out(kp_zk_config_get(c, key), buf, n)
				: config_layers_get(l, broker_layers[i], key, buf, n);
		if (v != NULL)
			return v;
	}
	d = config_layers_def(key);
	return d != NULL ? copy_out(d->def, buf, n) : NULL;
}

static int64_t new_long(struct config_layers *l, const struct kp_zk_entity_config *c,
			bool per_broker, const char *key)
{
	char buf[64];
	const char *v = new_value(l, c, per_broker, key, buf, sizeof(buf));

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

kp_err_t config_layers_check_update(struct config_layers *l,
				    const struct kp_zk_entity_config *c,
				    bool per_broker, char *msg, size_t n)
{
	int16_t err = config_layers_check_entity(c, per_broker, msg, n);
	const char *v = kp_zk_config_get(c, "log.retention.ms");
	enum config_source src;
	char buf[64];
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
	dedupe = new_long(l, c, per_broker, "log.cleaner.dedupe.buffer.size");
	threads = new_long(l, c, per_broker, "log.cleaner.threads");
	if (threads > 0 && dedupe / threads <= 1024 * 1024) {
		snprintf(msg, n, "requirement failed: log.cleaner.dedupe.buffer.size "
			 "must be at least 1MB per cleaner thread.");
		return KP_ERR_INVALID_REQUEST;
	}
	/* the reconfigurables' validation: "Invalid dynamic configuration" */
	for (size_t i = 0; i < sizeof(thread_keys) / sizeof(thread_keys[0]); i++) {
		int64_t nv = new_long(l, c, per_broker, thread_keys[i]);
		int64_t ov = config_layers_long(l, thread_keys[i]);

		if (nv != ov && (nv <= 0 || nv < ov / 2 || nv > ov * 2)) {
			KP_INFO("dynamic thread count update validation failed for %s=%"
				PRId64 " (current %" PRId64 ")", thread_keys[i], nv, ov);
			snprintf(msg, n, "Invalid dynamic configuration");
			return KP_ERR_INVALID_REQUEST;
		}
	}
	for (size_t i = 0; i < sizeof(cleaner_keys) / sizeof(cleaner_keys[0]); i++) {
		char b1[64], b2[64];
		const char *now = config_layers_value(l, cleaner_keys[i], b1, sizeof(b1),
						      &src);
		const char *nv = new_value(l, c, per_broker, cleaner_keys[i], b2,
					   sizeof(b2));

		if ((now == NULL) != (nv == NULL) ||
		    (now != NULL && strcmp(now, nv) != 0))
			cleaner_changed = true;
	}
	v = config_layers_value(l, "log.cleaner.enable", buf, sizeof(buf), &src);
	if (cleaner_changed && v != NULL && strcasecmp(v, "true") == 0) {
		int64_t cur = config_layers_long(l, "log.cleaner.threads");

		if (threads < 1 || threads < cur / 2 || threads > cur * 2) {
			KP_INFO("log cleaner threads %" PRId64 " refused (current %"
				PRId64 ")", threads, cur);
			snprintf(msg, n, "Invalid dynamic configuration");
			return KP_ERR_INVALID_REQUEST;
		}
	}
	return 0;
}
