/*
 * dynconfig.h - configuration changed while the broker runs, as Kafka's
 * DynamicConfigManager and DynamicBrokerConfig do it in ZooKeeper mode.
 *
 * Admin requests (AlterConfigs, IncrementalAlterConfigs; api_admin.c) on
 * any broker write /config/topics/<t>, /config/brokers/<id> or
 * /config/brokers/<default> and then a sequential
 * /config/changes/config_change_<n> naming the entity.  Every broker
 * watches /config/changes, handles each notification newer than the last
 * one it handled (on the main loop), re-reads the named entity and applies
 * it: a topic's overrides to the live logs and partitions of that topic, a
 * broker entity (our id or <default>) to the broker's dynamic values, and
 * from there to every hosted partition, since topics without an override
 * inherit the broker's log.* keys.  Notifications older than 15 minutes
 * are deleted, as Kafka's change listener does.
 *
 * Precedence of a broker key, highest first: /config/brokers/<id>
 * (DYNAMIC_BROKER_CONFIG), /config/brokers/<default>
 * (DYNAMIC_DEFAULT_BROKER_CONFIG), the properties file
 * (STATIC_BROKER_CONFIG), the table's default (DEFAULT_CONFIG).
 *
 * Threads: the dynamic values are read by network workers and the
 * fetcher under dyn->lock; they change on the main thread only.
 */
#ifndef DYNCONFIG_H
#define DYNCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_config.h"
#include "kp_zkdata.h"
#include "quota.h"

struct broker;
struct dyn_topic;

struct dynconfig {
	pthread_mutex_t lock;		/* everything below but the quotas */
	struct kp_zk_entity_config broker;	/* /config/brokers/<id> */
	struct kp_zk_entity_config defaults;	/* /config/brokers/<default> */
	struct dyn_topic *topics;	/* topics with a throttled-replicas list */
	_Atomic int nthrottled;		/* how many: 0 is the fast path */
	struct quota leader_quota;	/* bytes sent to throttled followers */
	struct quota follower_quota;	/* bytes fetched for throttled replicas */
	int64_t last_seq;		/* main thread: last notification handled */
};

/* Layers of a broker key (DescribeConfigs' ConfigSource numbering). */
enum dyn_layer {
	DYN_BROKER = 2,			/* DYNAMIC_BROKER_CONFIG */
	DYN_DEFAULT = 3,		/* DYNAMIC_DEFAULT_BROKER_CONFIG */
	DYN_STATIC = 4,			/* STATIC_BROKER_CONFIG */
	DYN_TABLE_DEFAULT = 5,		/* DEFAULT_CONFIG */
};

#define DYN_LEADER_RATE "leader.replication.throttled.rate"
#define DYN_FOLLOWER_RATE "follower.replication.throttled.rate"
#define DYN_LEADER_REPLICAS "leader.replication.throttled.replicas"
#define DYN_FOLLOWER_REPLICAS "follower.replication.throttled.replicas"

/* Set up b->dyn (before any thread starts).  0 or -1. */
int dynconfig_init(struct broker *b);
/*
 * Once the broker id is known: create /config/changes if missing, load
 * the broker entities and every topic's throttle lists, remember the
 * newest notification as handled (its state was just loaded) and watch
 * for more.  Also after a ZooKeeper session expiry.  0 or -1 with err.
 */
int dynconfig_start(struct broker *b, char *err, size_t errlen);
void dynconfig_destroy(struct broker *b);

/*
 * The value of a broker key on one layer (DYN_BROKER, DYN_DEFAULT,
 * DYN_STATIC), copied into buf; NULL when that layer does not set it.
 */
const char *dynconfig_layer_get(struct broker *b, enum dyn_layer layer,
				const char *key, char *buf, size_t n);
/*
 * fn(key, arg) for each key a dynamic layer (DYN_BROKER, DYN_DEFAULT) sets,
 * called with the lock held: fn copies what it keeps.
 */
void dynconfig_layer_foreach(struct broker *b, enum dyn_layer layer,
			     void (*fn)(const char *key, void *arg), void *arg);
/*
 * The effective value of a broker key (into buf) and its layer; the
 * table's default (or NULL when it has none) with DYN_TABLE_DEFAULT.
 */
const char *dynconfig_broker_get(struct broker *b, const char *key, char *buf,
				 size_t n, enum dyn_layer *layer);

/*
 * A broker key's definition: the configuration table or the dynamic-only
 * keys (the throttle rates); NULL when Kafka has no such broker key.
 */
const struct kp_config_def *dynconfig_def(const char *key);
/* The definition a key's type follows: its own, or a listener override's base. */
const struct kp_config_def *dynconfig_type_def(const char *key);
/* Whether Kafka 2.8 updates key dynamically (DynamicBrokerConfig). */
bool dynconfig_is_dynamic(const char *key);
/* Kafka's isPasswordConfig: a dynamic password key or an override of one. */
bool dynconfig_is_password(const char *key);

/*
 * Kafka's DynamicBrokerConfig.validateConfigs over the whole new content
 * of a broker entity (per_broker false: the cluster default), in Kafka's
 * order: keys that cannot change at run time, SSL store keys without a
 * listener prefix, the values of dynamic keys (an override by its base
 * key's rules; keys Kafka does not know are custom configs, kept as
 * given), per-broker keys in the cluster default.  0, or
 * KP_ERR_INVALID_REQUEST with Kafka's message.
 */
int16_t dynconfig_check_entity(const struct kp_zk_entity_config *c,
			       bool per_broker, char *msg, size_t n);
/* The same for one key = value. */
int16_t dynconfig_check_broker_key(const char *key, const char *value,
				   bool per_broker, char *msg, size_t n);
/*
 * dynconfig_check_entity, then what Kafka checks against the broker's
 * current configuration: KafkaConfig's requirements of the merged values
 * and the reconfigurables' rules (a thread pool or the log cleaner may at
 * most halve or double at once).  0 or KP_ERR_INVALID_REQUEST.
 */
int16_t dynconfig_check_update(struct broker *b, const struct kp_zk_entity_config *c,
			       bool per_broker, char *msg, size_t n);

/* Replication throttling (api_fetch.c: leader side; fetcher.c: follower). */
bool dynconfig_leader_throttled(struct broker *b, const char *topic,
				size_t len, int32_t partition);
bool dynconfig_follower_throttled(struct broker *b, const char *topic,
				  size_t len, int32_t partition);

#endif /* DYNCONFIG_H */
